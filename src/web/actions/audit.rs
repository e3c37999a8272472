//! An audit record written on its own, for actions whose effect is not a store write of their
//! own (starting a background job).

use crate::store::{AuditEntry, Store};
use crate::web::error::WebError;

/// Writes `entry` in a transaction of its own.
pub async fn record(store: &Store, entry: AuditEntry) -> Result<(), WebError> {
    store.transaction("记录操作日志", async |txn| entry.write_in(txn).await).await?;
    Ok(())
}
