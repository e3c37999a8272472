//! The audit log: who changed what, written in the same transaction as the change.

use surrealdb::engine::any::Any;
use surrealdb::method::Transaction;
use surrealdb::types::SurrealValue;

/// One audit record. `actor` is an account name, or `cli:USER` for the command line.
#[derive(Debug, Clone, SurrealValue)]
pub struct AuditEntry {
    /// Who acted: an account's username, or `cli:USER` for the command line.
    pub actor: String,
    /// What was done, as a dotted verb (`units.import`, `visit.record`, `jobs.crawl`…).
    pub action: String,
    /// What it was done to, when one thing: a record id, a cycle, a username.
    pub target: Option<String>,
    /// Particulars worth keeping (counts, scope, options), as a JSON object.
    pub detail: serde_json::Value,
}

impl AuditEntry {
    /// An entry with no target and an empty detail object.
    pub fn new(actor: impl Into<String>, action: impl Into<String>) -> Self {
        Self { actor: actor.into(), action: action.into(), target: None, detail: serde_json::json!({}) }
    }

    /// Sets what the action was done to.
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// Sets the particulars, replacing the empty object.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    pub(crate) async fn write_in(self, txn: &Transaction<Any>) -> surrealdb::Result<()> {
        txn.query("CREATE audit CONTENT $entry").bind(("entry", self)).await?.check()?;
        Ok(())
    }
}

/// An audit record as read back, with the time the store stamped on it.
#[derive(Debug, Clone, SurrealValue)]
pub struct AuditRecord {
    /// When the store wrote the record (its clock, UTC).
    pub at: chrono::DateTime<chrono::Utc>,
    /// Who acted: an account's username, or `cli:USER`.
    pub actor: String,
    /// What was done, as a dotted verb.
    pub action: String,
    /// What it was done to, if one thing.
    pub target: Option<String>,
    /// Particulars, as written.
    pub detail: serde_json::Value,
}

impl super::Store {
    /// The newest audit records first.
    pub async fn audit_entries(&self, limit: usize) -> super::StoreResult<Vec<AuditRecord>> {
        let context = "读取审计日志";
        let mut response = self
            .db()
            .query("SELECT at, actor, action, target, detail FROM audit ORDER BY at DESC LIMIT $limit")
            .bind(("limit", limit as i64))
            .await
            .map_err(super::StoreError::query(context))?;
        response.take(0).map_err(super::StoreError::query(context))
    }
}
