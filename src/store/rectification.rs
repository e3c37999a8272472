//! The rectification loop in the store: one finding read by id, each move written with its
//! event and audit record in one transaction, and the lists the loop's pages show.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, RecordIdKey, SurrealValue};

use super::conflict::{CONFLICT_ATTEMPTS, is_conflict};
use super::findings::record_key;
use super::findings::{FINDING_FIELDS, FindingRow};
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::model::{
    Finding, FindingEvent, FindingStatus, OrgCode, RectificationAction, RectificationError, Role,
};

/// A move on a finding that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RectificationWriteError {
    /// No finding has this id; holds the id as given.
    #[error("问题“{0}”不存在")]
    NotFound(String),
    /// The loop does not allow the move, or its note is missing or too long.
    #[error(transparent)]
    Refused(#[from] RectificationError),
    /// Someone else kept moving the finding between this request's read and its write.
    #[error("该问题的状态刚被他人更改，请刷新页面后重试")]
    Changed,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A finding as read here. The same fields as the findings listing reads; kept apart so this
/// module does not reach into `findings.rs`'s private row type.
#[derive(Debug, Clone, SurrealValue)]
struct NewEventRow {
    finding: RecordId,
    unit: String,
    actor: String,
    role: String,
    action: String,
    from: String,
    to: String,
    note: Option<String>,
}

#[derive(Debug, Clone, SurrealValue)]
struct EventRow {
    finding: RecordId,
    unit: String,
    at: DateTime<Utc>,
    actor: String,
    role: String,
    action: String,
    from: String,
    to: String,
    note: Option<String>,
}

impl TryFrom<EventRow> for FindingEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, Self::Error> {
        let corrupt = |message: String| StoreError::Corrupt { context: "finding_event", message };
        Ok(FindingEvent {
            finding: record_key(&row.finding),
            unit: OrgCode::parse(&row.unit).map_err(|e| corrupt(format!("{}: {e}", row.unit)))?,
            at: row.at,
            actor: row.actor,
            role: row.role.parse().map_err(corrupt)?,
            action: row.action.parse().map_err(|e: RectificationError| corrupt(e.to_string()))?,
            from: row.from.parse().map_err(corrupt)?,
            to: row.to.parse().map_err(corrupt)?,
            note: row.note,
        })
    }
}

/// A finding id as the web UI passes it (`finding:…`); anything else is no finding at all.
fn finding_id(text: &str) -> Option<RecordId> {
    let id = RecordId::parse_simple(text.trim()).ok()?;
    let named = matches!(&id.key, RecordIdKey::String(key) if !key.is_empty());
    (id.table.as_str() == "finding" && named).then_some(id)
}

impl Store {
    /// One finding by its id as text (`finding:…`). Text that is not a finding id is `None`.
    pub async fn finding(&self, id: &str) -> StoreResult<Option<Finding>> {
        let Some(id) = finding_id(id) else { return Ok(None) };
        let context = "读取问题";
        let mut response = self
            .db()
            .query(format!("SELECT {FINDING_FIELDS} FROM $id"))
            .bind(("id", id))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<FindingRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().next().map(Finding::try_from).transpose()
    }

    /// Makes one move of the rectification loop. The status is read again inside the
    /// transaction and the update only applies while it is unchanged, so two people answering
    /// at once cannot both move the finding: the later one is tried again against the new
    /// status (and usually refused by the table). The finding, its event and the audit record
    /// (targeted at the unit, for the unit's page) are written together. Whether `role` may
    /// make this move is the caller's decision; whether the move exists is the model's.
    pub async fn act_on_finding(
        &self,
        id: &str,
        action: RectificationAction,
        note: Option<&str>,
        actor: &str,
        role: Role,
    ) -> Result<Finding, RectificationWriteError> {
        let Some(record) = finding_id(id) else {
            return Err(RectificationWriteError::NotFound(id.to_string()));
        };
        for _ in 0..CONFLICT_ATTEMPTS {
            match self.move_finding(&record, action, note, actor, role).await {
                Err(RectificationWriteError::Store(error)) if is_conflict(&error) => continue,
                outcome => return outcome,
            }
        }
        Err(RectificationWriteError::Changed)
    }

    /// One attempt at [`Store::act_on_finding`].
    async fn move_finding(
        &self,
        record: &RecordId,
        action: RectificationAction,
        note: Option<&str>,
        actor: &str,
        role: Role,
    ) -> Result<Finding, RectificationWriteError> {
        let shown = record_key(record);
        let outcome = self
            .transaction("处理整改", async |txn| {
                let mut response = txn
                    .query(format!("SELECT {FINDING_FIELDS} FROM $id"))
                    .bind(("id", record.clone()))
                    .await?
                    .check()?;
                let rows: Vec<FindingRow> = response.take(0)?;
                let Some(row) = rows.into_iter().next() else {
                    return Ok(Err(RectificationWriteError::NotFound(shown.clone())));
                };
                let from: FindingStatus = match row.status.parse() {
                    Ok(status) => status,
                    Err(message) => {
                        return Ok(Err(StoreError::Corrupt { context: "finding", message }.into()));
                    }
                };
                let (to, note) = match action.apply(from, note) {
                    Ok(move_to) => move_to,
                    Err(refused) => return Ok(Err(refused.into())),
                };
                let mut updated = txn
                    .query(format!(
                        "UPDATE $id SET status = $to WHERE status = $from RETURN {FINDING_FIELDS}"
                    ))
                    .bind(("id", record.clone()))
                    .bind(("from", from.as_str()))
                    .bind(("to", to.as_str()))
                    .await?
                    .check()?;
                let rows: Vec<FindingRow> = updated.take(0)?;
                let Some(row) = rows.into_iter().next() else {
                    return Ok(Err(RectificationWriteError::Changed));
                };
                let event = NewEventRow {
                    finding: record.clone(),
                    unit: row.unit.clone(),
                    actor: actor.to_string(),
                    role: role.as_str().to_string(),
                    action: action.as_str().to_string(),
                    from: from.as_str().to_string(),
                    to: to.as_str().to_string(),
                    note: note.clone(),
                };
                txn.query("CREATE finding_event CONTENT $event").bind(("event", event)).await?.check()?;
                AuditEntry::new(actor, format!("finding.{}", action.as_str()))
                    .target(row.unit.clone())
                    .detail(serde_json::json!({
                        "finding": shown,
                        "check": row.check,
                        "role": role.as_str(),
                        "from": from.as_str(),
                        "to": to.as_str(),
                        "note": note,
                    }))
                    .write_in(txn)
                    .await?;
                Ok(Ok(row))
            })
            .await?;
        Ok(Finding::try_from(outcome?)?)
    }

    /// A finding's moves, oldest first. Text that is not a finding id has none.
    pub async fn finding_events(&self, id: &str) -> StoreResult<Vec<FindingEvent>> {
        let Some(id) = finding_id(id) else { return Ok(Vec::new()) };
        let context = "读取整改记录";
        let mut response = self
            .db()
            .query(
                "SELECT finding, unit, at, actor, role, action, `from`, `to`, note FROM finding_event \
                 WHERE finding = $id ORDER BY at, id",
            )
            .bind(("id", id))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<EventRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().map(FindingEvent::try_from).collect()
    }

    /// Findings of these units that still need attention (not closed, not replaced by a newer
    /// crawl), by unit and newest first: an inspector's follow-up list.
    pub async fn open_findings_for_units(&self, units: &[OrgCode]) -> StoreResult<Vec<Finding>> {
        if units.is_empty() {
            return Ok(Vec::new());
        }
        let context = "读取待跟进问题";
        let mut response = self
            .db()
            .query(format!(
                "SELECT {FINDING_FIELDS} FROM finding \
                 WHERE unit IN $units AND status != 'closed' AND superseded = false \
                 ORDER BY unit, observed_at DESC, check"
            ))
            .bind(("units", units.iter().map(ToString::to_string).collect::<Vec<_>>()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<FindingRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().map(Finding::try_from).collect()
    }
}
