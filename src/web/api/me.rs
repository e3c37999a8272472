//! `GET /me`: who the caller is and what the API will let them do, so a script can check its
//! token before it starts work. The answers come from the same access checks the routes use.

use rocket::serde::json::Json;
use rocket::{State, get, routes};
use serde::Serialize;

use super::ApiResult;
use crate::model::{Account, Unit};
use crate::web::session::{AuthVia, CurrentUser};
use crate::web::state::AppState;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![me]
}

/// What the caller's role allows, in the API's terms.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct Permissions {
    /// Rankings, every unit, every finding (office, leader).
    read_city: bool,
    /// Accounts, audit log, current cycle, jobs (office).
    manage: bool,
    /// Record visits on the group's units (inspector).
    record_visits: bool,
    /// Confirm or reject a unit's answer to a finding (office; inspector for the group's units).
    review_findings: bool,
    /// Answer the unit's own findings and submit its self-assessment (unit).
    answer_findings: bool,
    submit_self_assessment: bool,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct Me {
    /// The account, never with its password hash.
    account: Account,
    role_label: &'static str,
    /// `token` or `session`.
    #[schemars(extend("enum" = ["token", "session"]))]
    via: &'static str,
    /// A session must send its CSRF token in `X-CSRF-Token` to write; a token need not.
    writes_need_csrf_header: bool,
    may: Permissions,
    /// A unit account's unit.
    unit: Option<Unit>,
}

impl Permissions {
    fn of(user: &CurrentUser) -> Self {
        let inspector = user.own_group().is_ok();
        let unit = user.own_unit().is_ok();
        let office = user.require_office().is_ok();
        Permissions {
            read_city: user.require_reader().is_ok(),
            manage: office,
            record_visits: inspector,
            review_findings: office || inspector,
            answer_findings: unit,
            submit_self_assessment: unit,
        }
    }
}

#[get("/me")]
async fn me(state: &State<AppState>, user: CurrentUser) -> ApiResult<Me> {
    let unit = match user.own_unit() {
        Ok(code) => state.store.unit(code).await?,
        Err(_) => None,
    };
    Ok(Json(Me {
        role_label: user.role().label_zh(),
        via: match user.via {
            AuthVia::Token => "token",
            AuthVia::Session => "session",
        },
        writes_need_csrf_header: user.via == AuthVia::Session,
        may: Permissions::of(&user),
        unit,
        account: user.account,
    }))
}
