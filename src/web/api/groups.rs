//! An inspector's group: its units and the findings there that still need following up.

use rocket::serde::json::Json;
use rocket::{State, get, routes};
use serde::Serialize;

use super::ApiResult;
use super::units::{UnitList, listing};
use crate::model::{Finding, status_label_zh};
use crate::rules::shipped::check_title;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![my_group]
}

/// A finding on the follow-up list.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct FollowUp {
    #[serde(flatten)]
    finding: Finding,
    check_label: Option<&'static str>,
    status_label: &'static str,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct MyGroup {
    group: String,
    /// The group's inspectors (user names), the caller among them.
    inspectors: Vec<String>,
    /// The group's units with their scores in the current cycle (as `GET /units` lists them).
    #[serde(flatten)]
    units: UnitList,
    /// Findings on the group's units that are not closed, by unit and newest first.
    follow_up: Vec<FollowUp>,
}

#[get("/groups/mine")]
async fn my_group(state: &State<AppState>, user: CurrentUser) -> ApiResult<MyGroup> {
    let store = &state.store;
    let group = user.own_group()?;
    let (codes, inspectors, all) =
        tokio::try_join!(store.group_units(group), store.inspectors_in(group), store.units())?;
    let follow_up = store.open_findings_for_units(&codes).await?;
    Ok(Json(MyGroup {
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
    }))
}
