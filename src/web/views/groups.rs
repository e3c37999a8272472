//! Inspector groups: the office's overview of every group (its units and inspectors, and the
//! units no group looks after), an inspector's own group with what needs following up, and
//! which group each unit belongs to.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::units::{UnitList, listing};
use crate::model::{Finding, OrgCode, status_label_zh};
use crate::rules::shipped::check_title;
use crate::store::Store;
use crate::web::error::WebError;

/// A unit named in a group.
#[derive(Debug, Serialize)]
pub struct UnitRef {
    /// The unit's credit code.
    pub code: String,
    /// The unit's name; empty when the code is no longer registered.
    pub name: String,
}

/// An inspector in a group.
#[derive(Debug, Serialize)]
pub struct InspectorRef {
    /// The inspector's sign-in name.
    pub username: String,
    /// The name shown instead, when one was given.
    pub display_name: Option<String>,
    /// The account is disabled (still listed so the office sees it).
    pub disabled: bool,
}

/// One group on the office's page.
#[derive(Debug, Serialize)]
pub struct GroupView {
    /// The group's name, its key.
    pub name: String,
    /// The units assigned to the group.
    pub units: Vec<UnitRef>,
    /// The inspector accounts in the group, disabled ones included.
    pub inspectors: Vec<InspectorRef>,
}

/// Every group, and the units in none.
#[derive(Debug)]
pub struct GroupsOverview {
    /// Every group, in the store's order.
    pub groups: Vec<GroupView>,
    /// The registered units no group looks after.
    pub unassigned: Vec<UnitRef>,
}

/// The office's overview: every group with its units (by name) and inspectors, then the units
/// no group looks after. Two queries per group.
pub async fn groups_overview(store: &Store) -> Result<GroupsOverview, WebError> {
    let units = store.units().await?;
    let names: HashMap<String, String> = units.iter().map(|u| (u.code.to_string(), u.name.clone())).collect();
    let mut assigned = HashSet::new();
    let mut groups = Vec::new();
    for (name, codes) in assignments(store).await? {
        let inspectors = store.inspectors_in(&name).await?;
        assigned.extend(codes.iter().map(ToString::to_string));
        groups.push(GroupView {
            units: codes
                .iter()
                .map(|code| UnitRef {
                    code: code.to_string(),
                    name: names.get(code.as_str()).cloned().unwrap_or_default(),
                })
                .collect(),
            inspectors: inspectors
                .into_iter()
                .map(|a| InspectorRef {
                    username: a.username,
                    display_name: a.display_name,
                    disabled: a.disabled,
                })
                .collect(),
            name,
        });
    }
    let unassigned = units
        .iter()
        .filter(|u| !assigned.contains(u.code.as_str()))
        .map(|u| UnitRef { code: u.code.to_string(), name: u.name.clone() })
        .collect();
    Ok(GroupsOverview { groups, unassigned })
}

/// Every group's name with its units' codes, in the store's order. One query and one per group.
async fn assignments(store: &Store) -> Result<Vec<(String, Vec<OrgCode>)>, WebError> {
    let mut groups = Vec::new();
    for group in store.groups().await? {
        let codes = store.group_units(&group.name).await?;
        groups.push((group.name, codes));
    }
    Ok(groups)
}

/// Which group each unit (by code) is assigned to.
pub async fn group_of_units(store: &Store) -> Result<HashMap<String, String>, WebError> {
    let mut groups = HashMap::new();
    for (name, codes) in assignments(store).await? {
        groups.extend(codes.iter().map(|code| (code.to_string(), name.clone())));
    }
    Ok(groups)
}

/// A finding on the follow-up list.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FollowUp {
    #[serde(flatten)]
    finding: Finding,
    check_label: Option<&'static str>,
    status_label: &'static str,
}

/// An inspector's own group, as `GET /api/v1/groups/mine` answers it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct MyGroup {
    group: String,
    /// The group's inspectors (user names), the caller among them.
    inspectors: Vec<String>,
    /// The group's units with their scores in the current cycle (as `GET /units` lists them).
    #[serde(flatten)]
    units: UnitList,
    /// Findings on the group's units that are not closed, by unit and newest first.
    follow_up: Vec<FollowUp>,
}

/// `group`'s enabled inspectors, its units with their standing, and its open findings.
pub async fn my_group(store: &Store, group: &str) -> Result<MyGroup, WebError> {
    let (codes, inspectors, all) =
        tokio::try_join!(store.group_units(group), store.inspectors_in(group), store.units())?;
    let follow_up = store.open_findings_for_units(&codes).await?;
    Ok(MyGroup {
        group: group.to_string(),
        inspectors: inspectors.into_iter().filter(|a| !a.disabled).map(|a| a.username).collect(),
        units: listing(store, all.into_iter().filter(|unit| codes.contains(&unit.code)).collect()).await?,
        follow_up: follow_up
            .into_iter()
            .map(|finding| FollowUp {
                check_label: check_title(&finding.check),
                status_label: status_label_zh(finding.status),
                finding,
            })
            .collect(),
    })
}
