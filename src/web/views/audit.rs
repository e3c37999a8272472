//! The audit log, newest first, for the office's page and `GET /audit` alike: optionally
//! filtered by actor and action.

use serde::Serialize;

use crate::store::{AuditRecord, Store};
use crate::web::error::WebError;

/// How far back a filtered view looks: the store reads the newest entries only, so a filter
/// is applied to this many of them.
pub const FILTER_WINDOW: usize = 5_000;

/// Which records to keep; empty fields keep everything.
#[derive(Debug, Default, Serialize)]
pub struct AuditFilter {
    /// Keep only this actor's records (exact user name).
    pub actor: String,
    /// Keep only actions starting with this (e.g. `accounts` for every account action).
    pub action: String,
}

impl AuditFilter {
    /// Neither filter is set: every record is kept.
    pub fn is_empty(&self) -> bool {
        self.actor.is_empty() && self.action.is_empty()
    }

    /// How many of the newest records are read to show `shown` of them.
    pub fn window(&self, shown: usize) -> usize {
        if self.is_empty() { shown } else { FILTER_WINDOW }
    }

    /// The actor must match exactly; the action by prefix, so `accounts` finds every account
    /// change and `accounts.create` only creations.
    fn keeps(&self, record: &AuditRecord) -> bool {
        (self.actor.is_empty() || record.actor == self.actor)
            && (self.action.is_empty() || record.action.starts_with(&self.action))
    }
}

/// The newest `shown` records that `filter` keeps, looking at most [`AuditFilter::window`]
/// records back. One query.
pub async fn audit_log(
    store: &Store,
    filter: &AuditFilter,
    shown: usize,
) -> Result<Vec<AuditRecord>, WebError> {
    Ok(store
        .audit_entries(filter.window(shown))
        .await?
        .into_iter()
        .filter(|record| filter.keeps(record))
        .take(shown)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(actor: &str, action: &str) -> AuditRecord {
        AuditRecord {
            at: chrono::Utc::now(),
            actor: actor.into(),
            action: action.into(),
            target: None,
            detail: serde_json::json!({}),
        }
    }

    #[test]
    fn filters_match_actor_exactly_and_action_by_prefix() {
        let filter = AuditFilter { actor: "office1".into(), action: "accounts".into() };
        assert!(filter.keeps(&record("office1", "accounts.create")));
        assert!(!filter.keeps(&record("office10", "accounts.create")));
        assert!(!filter.keeps(&record("office1", "units.import")));
        assert!(AuditFilter::default().keeps(&record("anyone", "anything")));
    }

    #[test]
    fn a_filter_looks_further_back_than_it_shows() {
        assert_eq!(AuditFilter::default().window(200), 200);
        assert_eq!(AuditFilter { actor: "office1".into(), action: String::new() }.window(200), FILTER_WINDOW);
    }
}
