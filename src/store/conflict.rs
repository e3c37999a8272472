//! Write conflicts between concurrent transactions. SurrealDB's engines detect them and fail
//! the later transaction, saying it may be retried; the store retries where the work re-reads
//! what it depends on, and otherwise tells the user that someone else was quicker.

use surrealdb::types::QueryError;

use super::StoreError;

/// How often a conflicting transaction is tried in all before giving up.
pub(super) const CONFLICT_ATTEMPTS: usize = 4;

/// Whether a store error is a write conflict with a concurrent transaction.
pub(super) fn is_conflict(error: &StoreError) -> bool {
    match error {
        StoreError::Query { source, .. } => is_conflict_source(source),
        _ => false,
    }
}

pub(super) fn is_conflict_source(error: &surrealdb::Error) -> bool {
    error.query_details() == Some(&QueryError::TransactionConflict)
}

/// Whether an error is a lost write conflict, also when a server reports it as a storage error
/// whose text rather than kind says so (seen for schema definitions applied by several processes
/// at once against one server: "Transaction write conflict. This transaction can be retried").
pub(super) fn is_retryable(error: &surrealdb::Error) -> bool {
    is_conflict_source(error) || error.to_string().contains("This transaction can be retried")
}
