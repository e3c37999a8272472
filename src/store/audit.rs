//! The audit log: who changed what, written in the same transaction as the change.

use surrealdb::engine::any::Any;
use surrealdb::method::Transaction;
use surrealdb::types::SurrealValue;

/// One audit record. `actor` is an account name, or `cli:USER` for the command line.
#[derive(Debug, Clone, SurrealValue)]
pub struct AuditEntry {
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: serde_json::Value,
}

impl AuditEntry {
    pub fn new(actor: impl Into<String>, action: impl Into<String>) -> Self {
        Self { actor: actor.into(), action: action.into(), target: None, detail: serde_json::json!({}) }
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

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
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
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
