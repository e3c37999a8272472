//! Assessment cycles: the list and the current one for every signed-in role (a unit's history
//! names cycles too; the list carries no unit's data), and the office's choice of which cycle
//! the dashboard shows by default.

use rocket::serde::json::Json;
use rocket::{State, get, post, routes};

use super::ApiResult;
use super::body::JsonObject;
use crate::store::{AuditEntry, CycleInfo};
use crate::web::csrf::ApiWriter;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![cycles, current, set_current]
}

/// Every saved cycle, oldest first.
#[get("/cycles")]
async fn cycles(state: &State<AppState>, _user: CurrentUser) -> ApiResult<Vec<CycleInfo>> {
    Ok(Json(state.store.cycles().await?))
}

/// The cycle shown by default (marked current, else the newest); `null` before the first
/// assessment.
#[get("/cycles/current")]
async fn current(state: &State<AppState>, _user: CurrentUser) -> ApiResult<Option<CycleInfo>> {
    Ok(Json(state.store.current_cycle().await?))
}

/// Office: `{"cycle": "…"}` marks that cycle current; answers the cycle.
#[post("/cycles/current", data = "<body>")]
async fn set_current(state: &State<AppState>, writer: ApiWriter, body: JsonObject) -> ApiResult<CycleInfo> {
    let user = writer.0;
    user.require_office()?;
    let fields = body.fields();
    fields.only(super::requests::SET_CURRENT_CYCLE)?;
    let cycle = fields.text("cycle")?;
    let audit = AuditEntry::new(&user.account.username, "cycles.set_current").target(cycle.clone());
    state.store.set_current_cycle(&cycle, audit).await?;
    let current = state.store.current_cycle().await?.ok_or(WebError::NotFound)?;
    Ok(Json(current))
}
