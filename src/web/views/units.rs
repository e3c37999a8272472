//! Units as the API lists them: the registry's facts with each unit's standing in the current
//! cycle, for the units the caller may see (`GET /units`) or for a group (`GET /groups/mine`).
//!
//! Cost: the units, the current cycle and its ranking (shared from memory while the cycle is
//! unchanged), plus the group's assignments for an inspector — never a query per unit.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use crate::assess::RankedScore;
use crate::model::{OrgCode, Unit};
use crate::store::Store;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;

/// A unit in a listing: the registry's facts and its score in the current cycle.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct UnitListing {
    #[serde(flatten)]
    unit: Unit,
    kind_label: &'static str,
    score: Option<CurrentScore>,
}

/// A unit's standing in the current cycle.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CurrentScore {
    cycle: String,
    score: rust_decimal::Decimal,
    grade: Option<String>,
    rank: u32,
    passed: bool,
    laggard: bool,
}

/// The units `GET /api/v1/units` (or a group) lists, with the cycle their scores are from.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct UnitList {
    /// The cycle the scores are from; `null` before the first assessment.
    cycle: Option<String>,
    units: Vec<UnitListing>,
}

/// The units `user` may see: all for office and leaders, the group's for an inspector, its own
/// for a unit account; any other account is refused.
pub async fn visible_units(store: &Store, user: &CurrentUser) -> Result<UnitList, WebError> {
    let all = store.units().await?;
    let visible: Vec<Unit> = if user.require_reader().is_ok() {
        all
    } else if let Ok(group) = user.own_group() {
        let assigned: HashSet<OrgCode> = store.group_units(group).await?.into_iter().collect();
        all.into_iter().filter(|unit| assigned.contains(&unit.code)).collect()
    } else if let Ok(own) = user.own_unit() {
        all.into_iter().filter(|unit| &unit.code == own).collect()
    } else {
        return Err(WebError::Forbidden);
    };
    listing(store, visible).await
}

/// `units` with their scores in the current cycle (one read of the cycle's ranking).
pub async fn listing(store: &Store, units: Vec<Unit>) -> Result<UnitList, WebError> {
    let cycle = store.current_cycle().await?.map(|c| c.cycle);
    let ranking = match &cycle {
        Some(cycle) => store.ranking_shared(cycle).await?,
        None => Arc::default(),
    };
    let scores: HashMap<&str, &RankedScore> = ranking.iter().map(|s| (s.unit.as_str(), s)).collect();
    let units = units
        .into_iter()
        .map(|unit| {
            let score = scores.get(unit.code.as_str()).map(|s| CurrentScore {
                cycle: cycle.clone().unwrap_or_default(),
                score: s.score,
                grade: s.grade.clone(),
                rank: s.rank,
                passed: s.passed,
                laggard: s.laggard,
            });
            UnitListing { kind_label: unit.kind.label_zh(), unit, score }
        })
        .collect();
    Ok(UnitList { cycle, units })
}
