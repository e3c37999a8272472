//! What a special inspector's overview shows (DESIGN.md §2): each of the group's units with its
//! standing in the current cycle, its open findings and its last visit, and the group's open
//! findings for the follow-up lists; and the open findings the visit form lists for one unit.
//!
//! Cost: six or seven queries whatever the size of the group (the group's units, the units'
//! names, the current cycle, its ranking — shared from memory while the cycle is unchanged —, the
//! group's open findings and the visits' dates) — never a query per unit.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use crate::assess::RankedScore;
use crate::model::{Finding, OrgCode};
use crate::store::Store;
use crate::web::error::WebError;

/// One of the group's units on the inspector's overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectorUnitRow {
    /// The unit's credit code.
    pub code: String,
    /// The unit's name.
    pub name: String,
    /// The unit's total in the current cycle, as the ranking stores it.
    pub score: Option<String>,
    /// The unit's overall rank in the current cycle; none when unscored.
    pub rank: Option<u32>,
    /// Flagged as a laggard (后进单位) in the current cycle.
    pub laggard: bool,
    /// Findings on the unit that are not closed.
    pub open_findings: usize,
    /// The day of the unit's latest visit.
    pub last_visit: Option<String>,
}

/// One of the group's open findings, with its unit's name.
#[derive(Debug, Clone)]
pub struct GroupFinding {
    /// The name of the unit the finding is about.
    pub unit_name: String,
    /// The open finding.
    pub finding: Finding,
}

/// The inspector's overview of a group.
#[derive(Debug, Clone)]
pub struct InspectorHome {
    /// The current cycle; none when nothing was assessed.
    pub cycle: Option<String>,
    /// The group's units, in the order the group lists them.
    pub units: Vec<InspectorUnitRow>,
    /// The group's open findings, for the follow-up lists.
    pub open: Vec<GroupFinding>,
}

/// Assembles the overview of `group`, reading the current cycle's ranking once rather than
/// each unit's score, and every visit's date once rather than each unit's visits.
pub async fn inspector_home(store: &Store, group: &str) -> Result<InspectorHome, WebError> {
    let (codes, units, cycle, visits) =
        tokio::try_join!(store.group_units(group), store.units(), store.current_cycle(), store.visit_keys())?;
    let names: HashMap<OrgCode, String> =
        units.into_iter().filter(|u| codes.contains(&u.code)).map(|u| (u.code, u.name)).collect();
    let ranking = match &cycle {
        Some(cycle) => store.ranking_shared(&cycle.cycle).await?,
        None => Arc::new(Vec::new()),
    };
    let scores: HashMap<&str, &RankedScore> = ranking.iter().map(|s| (s.unit.as_str(), s)).collect();
    let open = store.open_findings_for_units(&codes).await?;

    // The latest day wins, as the unit's own list of visits (newest first) would show it.
    let mut last_visits: HashMap<&OrgCode, NaiveDate> = HashMap::new();
    for visit in &visits {
        last_visits.entry(&visit.unit).and_modify(|d| *d = (*d).max(visit.date)).or_insert(visit.date);
    }

    let rows = codes
        .iter()
        .map(|code| {
            let score = scores.get(code.as_str());
            InspectorUnitRow {
                code: code.to_string(),
                name: names.get(code).cloned().unwrap_or_default(),
                score: score.map(|s| s.score.to_string()),
                rank: score.map(|s| s.rank),
                laggard: score.is_some_and(|s| s.laggard),
                open_findings: open.iter().filter(|f| &f.unit == code).count(),
                last_visit: last_visits.get(code).map(NaiveDate::to_string),
            }
        })
        .collect();
    let open = open
        .into_iter()
        .map(|finding| GroupFinding {
            unit_name: names.get(&finding.unit).cloned().unwrap_or_default(),
            finding,
        })
        .collect();
    Ok(InspectorHome { cycle: cycle.map(|c| c.cycle), units: rows, open })
}

/// One unit's open findings, as the visit form lists them. One query.
pub async fn unit_open_findings(store: &Store, unit: &OrgCode) -> Result<Vec<Finding>, WebError> {
    Ok(store.open_findings_for_units(std::slice::from_ref(unit)).await?)
}
