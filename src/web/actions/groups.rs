//! The office assigns units to an inspector group (moving them from any other) and takes them
//! out again; each change carries an audit record listing the units.

use super::Refused;
use crate::model::OrgCode;
use crate::store::{AssignmentError, AuditEntry, Store};
use crate::web::error::WebError;
use crate::web::session::CurrentUser;

fn listed(codes: &[OrgCode]) -> serde_json::Value {
    serde_json::json!({ "units": codes.iter().map(ToString::to_string).collect::<Vec<_>>() })
}

/// Assigns `codes` to `group`; answers how many were newly assigned or moved in. A refusal of
/// the store's rules (an unknown unit, a bad group name) is the person's to fix.
pub async fn assign_units(
    store: &Store,
    user: &CurrentUser,
    group: &str,
    codes: &[OrgCode],
) -> Result<Result<usize, Refused>, WebError> {
    let audit = AuditEntry::new(&user.account.username, "groups.assign")
        .target(group.to_string())
        .detail(listed(codes));
    match store.assign_units(group, codes, audit).await {
        Ok(moved) => Ok(Ok(moved)),
        Err(AssignmentError::Store(error)) => Err(error.into()),
        Err(refusal) => Ok(Err(Refused(refusal.to_string()))),
    }
}

/// Takes `codes` out of whatever group they are in; answers how many were in one.
pub async fn unassign_units(store: &Store, user: &CurrentUser, codes: &[OrgCode]) -> Result<usize, WebError> {
    let audit = AuditEntry::new(&user.account.username, "groups.unassign").detail(listed(codes));
    Ok(store.unassign_units(codes, audit).await?)
}
