//! One finding with its rectification history, and the moves of the rectification loop: the
//! unit answers (rectify, dispute), the office or the group's inspector decides.

use rocket::serde::json::Json;
use rocket::{State, get, post, routes};

use super::ApiResult;
use super::body::JsonObject;
use crate::model::RectificationAction;
use crate::web::actions::finding::act_on_finding;
use crate::web::csrf::ApiWriter;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::finding::{FindingDetail, finding_detail, visible_finding};

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![finding, act]
}

/// The store's id for a finding: `finding:…` as pages link it, or the bare key.
fn finding_id(raw: &str) -> String {
    let raw = raw.trim();
    if raw.starts_with("finding:") { raw.to_string() } else { format!("finding:{raw}") }
}

#[get("/findings/<id>")]
async fn finding(state: &State<AppState>, user: CurrentUser, id: &str) -> ApiResult<FindingDetail> {
    let finding = visible_finding(&state.store, &user, &finding_id(id)).await?;
    Ok(Json(finding_detail(&state.store, &user, finding).await?))
}

/// `{"action": "rectify" | "dispute" | "confirm_fix" | "reject_fix" | "withdraw" | "uphold" |
/// "seen_fixed", "note": "…"}`; answers the finding as it now stands.
#[post("/findings/<id>/actions", data = "<body>")]
async fn act(
    state: &State<AppState>,
    writer: ApiWriter,
    id: &str,
    body: JsonObject,
) -> ApiResult<FindingDetail> {
    let user = writer.0;
    let fields = body.fields();
    fields.only(super::requests::FINDING_ACTION)?;
    let action: RectificationAction =
        fields.parsed("action", |text| text.parse().map_err(|e| format!("{e}")))?;
    let note = fields.opt_text("note")?;
    // Another unit's finding is "not found", as for reading it.
    visible_finding(&state.store, &user, &finding_id(id)).await?;
    let finding = act_on_finding(&state.store, &user, &finding_id(id), action, note.as_deref()).await?;
    Ok(Json(finding_detail(&state.store, &user, finding).await?))
}
