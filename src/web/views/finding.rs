//! One finding as its page and `GET /findings/<id>` show it: the finding (to those who may see
//! its unit), its moves so far, and the moves the person looking may make now.

use serde::Serialize;

use crate::model::{Finding, FindingEvent, RectificationAction, status_label_zh};
use crate::rules::shipped::check_title;
use crate::store::Store;
use crate::web::actions::finding::allowed_actions;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;

/// A finding as its page shows it: the evidence, its moves so far, and the moves the caller
/// may make now.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FindingDetail {
    /// The finding as stored, its fields flattened into the object.
    #[serde(flatten)]
    pub finding: Finding,
    /// The check's Chinese title, for the vocabulary's checks.
    pub check_label: Option<&'static str>,
    /// The status in Chinese.
    pub status_label: &'static str,
    /// Its moves so far (rectified, disputed, confirmed…), oldest first.
    pub events: Vec<FindingEvent>,
    /// What the caller may do next (`rectify`, `dispute`, `confirm_fix`, …).
    pub allowed_actions: Vec<RectificationAction>,
}

/// A finding this person may see. One that exists but belongs to a unit they may not see is
/// "not found" exactly like one that does not exist, so ids cannot be probed for existence.
pub async fn visible_finding(store: &Store, user: &CurrentUser, id: &str) -> Result<Finding, WebError> {
    let finding = store.finding(id).await?.ok_or(WebError::NotFound)?;
    if user.may_view_unit(store, &finding.unit).await? { Ok(finding) } else { Err(WebError::NotFound) }
}

/// `finding` with its history and what `user` may do with it now. Two reads, side by side.
pub async fn finding_detail(
    store: &Store,
    user: &CurrentUser,
    finding: Finding,
) -> Result<FindingDetail, WebError> {
    let id = finding.id.clone().unwrap_or_default();
    let (events, allowed) = tokio::try_join!(
        async { Ok::<_, WebError>(store.finding_events(&id).await?) },
        allowed_actions(store, user, &finding),
    )?;
    Ok(FindingDetail {
        check_label: check_title(&finding.check),
        status_label: status_label_zh(finding.status),
        finding,
        events,
        allowed_actions: allowed,
    })
}
