//! Moves in the rectification loop, by whoever may make them: the unit answers its own
//! finding; the office or an inspector of the unit's group decides on the answer.

use serde::{Deserialize, Serialize};

use crate::model::{Finding, RectificationAction, RectificationSide};
use crate::store::Store;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;

/// One move as a form or an API body gives it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FindingActionInput {
    /// `rectify`, `dispute`, `confirm_fix`, `reject_fix`, `withdraw`, `uphold` or `seen_fixed`.
    pub action: RectificationAction,
    /// Required for a dispute (the reason); optional otherwise.
    #[serde(default)]
    pub note: Option<String>,
}

/// Whether `user` plays `side` for a finding on this unit. Refusals of the access policy
/// become `false`; store failures stay errors.
async fn plays(
    store: &Store,
    user: &CurrentUser,
    finding: &Finding,
    side: RectificationSide,
) -> Result<bool, WebError> {
    let outcome = match side {
        RectificationSide::Unit => user.ensure_own_unit(&finding.unit),
        RectificationSide::Reviewer => user.ensure_review_finding(store, &finding.unit).await,
    };
    match outcome {
        Ok(()) => Ok(true),
        Err(WebError::Forbidden) => Ok(false),
        Err(other) => Err(other),
    }
}

/// The moves `user` may make on `finding` in its current status, in the loop's order (for
/// offering buttons).
pub async fn allowed_actions(
    store: &Store,
    user: &CurrentUser,
    finding: &Finding,
) -> Result<Vec<RectificationAction>, WebError> {
    let unit_side = plays(store, user, finding, RectificationSide::Unit).await?;
    let reviewer_side = plays(store, user, finding, RectificationSide::Reviewer).await?;
    Ok(RectificationAction::available(finding.status)
        .into_iter()
        .filter(|action| match action.side() {
            RectificationSide::Unit => unit_side,
            RectificationSide::Reviewer => reviewer_side,
        })
        .collect())
}

/// Makes one move on a finding: the unit for its own findings (rectified, disputed), the
/// office or an inspector of the unit's group for the decisions. Anyone else is refused with
/// 403 before anything is read back to them or written; a move the loop does not allow from
/// the current status, or a dispute without a reason, is a 422 naming what is missing.
pub async fn act_on_finding(
    store: &Store,
    user: &CurrentUser,
    finding_id: &str,
    action: RectificationAction,
    note: Option<&str>,
) -> Result<Finding, WebError> {
    let finding = store.finding(finding_id).await?.ok_or(WebError::NotFound)?;
    if !plays(store, user, &finding, action.side()).await? {
        return Err(WebError::Forbidden);
    }
    let id = finding.id.as_deref().unwrap_or(finding_id);
    Ok(store.act_on_finding(id, action, note, &user.account.username, user.role()).await?)
}
