//! Assessment cycles: the list and the current one for every signed-in role (a unit's history
//! names cycles too; the list carries no unit's data), and the office's choice of which cycle
//! the dashboard shows by default.

use rocket::serde::json::Json;
use rocket::{State, get, post, routes};

use super::ApiResult;
use super::body::JsonObject;
use crate::store::CycleInfo;
use crate::web::actions::cycles::set_current_cycle;
use crate::web::csrf::ApiWriter;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::cycles::cycle_list;
use crate::web::views::ranking::chosen_cycle;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![cycles, current, set_current]
}

/// Every saved cycle, oldest first.
#[get("/cycles")]
async fn cycles(state: &State<AppState>, _user: CurrentUser) -> ApiResult<Vec<CycleInfo>> {
    Ok(Json(cycle_list(&state.store).await?))
}

/// The cycle shown by default (marked current, else the newest); `null` before the first
/// assessment.
#[get("/cycles/current")]
async fn current(state: &State<AppState>, _user: CurrentUser) -> ApiResult<Option<CycleInfo>> {
    Ok(Json(chosen_cycle(&state.store, None).await?))
}

/// Office: `{"cycle": "…"}` marks that cycle current; answers the cycle.
#[post("/cycles/current", data = "<body>")]
async fn set_current(state: &State<AppState>, writer: ApiWriter, body: JsonObject) -> ApiResult<CycleInfo> {
    let user = writer.0;
    user.require_office()?;
    let fields = body.fields();
    fields.only(super::requests::SET_CURRENT_CYCLE)?;
    let cycle = fields.text("cycle")?;
    set_current_cycle(&state.store, &user, &cycle).await?;
    let current = chosen_cycle(&state.store, None).await?.ok_or(WebError::NotFound)?;
    Ok(Json(current))
}
