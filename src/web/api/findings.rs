//! One finding with its rectification history, and the moves of the rectification loop: the
//! unit answers (rectify, dispute), the office or the group's inspector decides.

use rocket::serde::json::Json;
use rocket::{State, get, post, routes};
use serde::Serialize;

use super::ApiResult;
use super::body::JsonObject;
use crate::model::{Finding, FindingEvent, RectificationAction, status_label_zh};
use crate::rules::shipped::check_title;
use crate::web::actions::finding::{act_on_finding, allowed_actions};
use crate::web::csrf::ApiWriter;
use crate::web::error::WebError;
use crate::web::pages::findings::visible_finding;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![finding, act]
}

/// A finding as its page shows it: the evidence, its moves so far, and the moves the caller
/// may make now.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct FindingDetail {
    #[serde(flatten)]
    finding: Finding,
    check_label: Option<&'static str>,
    status_label: &'static str,
    events: Vec<FindingEvent>,
    /// What the caller may do next (`rectify`, `dispute`, `confirm_fix`, …).
    allowed_actions: Vec<RectificationAction>,
}

/// The store's id for a finding: `finding:…` as pages link it, or the bare key.
fn finding_id(raw: &str) -> String {
    let raw = raw.trim();
    if raw.starts_with("finding:") { raw.to_string() } else { format!("finding:{raw}") }
}

async fn finding_detail(
    state: &AppState,
    user: &CurrentUser,
    finding: Finding,
) -> Result<FindingDetail, WebError> {
    let id = finding.id.clone().unwrap_or_default();
    let (events, allowed) = tokio::try_join!(
        async { Ok::<_, WebError>(state.store.finding_events(&id).await?) },
        allowed_actions(&state.store, user, &finding),
    )?;
    Ok(FindingDetail {
        check_label: check_title(&finding.check),
        status_label: status_label_zh(finding.status),
        finding,
        events,
        allowed_actions: allowed,
    })
}

#[get("/findings/<id>")]
async fn finding(state: &State<AppState>, user: CurrentUser, id: &str) -> ApiResult<FindingDetail> {
    let finding = visible_finding(state, &user, &finding_id(id)).await?;
    Ok(Json(finding_detail(state, &user, finding).await?))
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
    visible_finding(state, &user, &finding_id(id)).await?;
    let finding = act_on_finding(&state.store, &user, &finding_id(id), action, note.as_deref()).await?;
    Ok(Json(finding_detail(state, &user, finding).await?))
}
