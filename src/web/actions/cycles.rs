//! The office's choice of the cycle the dashboard shows by default, from the cycles page and
//! `POST /cycles/current` alike.

use crate::store::{AuditEntry, Store};
use crate::web::error::WebError;
use crate::web::session::CurrentUser;

/// Marks `cycle` current, with an audit record naming `user`.
pub async fn set_current_cycle(store: &Store, user: &CurrentUser, cycle: &str) -> Result<(), WebError> {
    let audit = AuditEntry::new(&user.account.username, "cycles.set_current").target(cycle.to_string());
    store.set_current_cycle(cycle, audit).await?;
    Ok(())
}
