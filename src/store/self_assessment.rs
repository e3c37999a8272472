//! Units' self-assessment claims. A unit's new submission replaces its earlier claims for the
//! same items (the latest word of the unit counts), in one transaction with the audit record.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use surrealdb::types::SurrealValue;

use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::inspection::ClaimRow;
use crate::model::{OrgCode, SelfClaim};

/// Rows per statement; the import is still one transaction.
const WRITE_CHUNK: usize = 1_000;

#[derive(Debug, Clone, SurrealValue)]
struct NewClaimRow {
    unit: String,
    item: String,
    claimed: Decimal,
    note: Option<String>,
    submitted_at: DateTime<Utc>,
}

/// What a self-assessment import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct SelfAssessmentOutcome {
    /// Units whose claims were written.
    pub units: usize,
    /// Claims written.
    pub claims: usize,
    /// Earlier claims for the same unit and item that the new ones replaced.
    pub replaced: usize,
}

impl Store {
    /// Replaces each unit's earlier claims for the items in `claims` and writes the new ones,
    /// with the audit record, in one transaction.
    pub async fn record_self_assessment(
        &self,
        claims: &[ClaimRow],
        audit: AuditEntry,
    ) -> StoreResult<SelfAssessmentOutcome> {
        let context = "保存自评结果";
        let mut items_by_unit: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in claims {
            items_by_unit.entry(row.claim.unit.to_string()).or_default().push(row.claim.item.clone());
        }
        let rows: Vec<NewClaimRow> = claims
            .iter()
            .map(|row| NewClaimRow {
                unit: row.claim.unit.to_string(),
                item: row.claim.item.clone(),
                claimed: row.claim.claimed,
                note: row.claim.note.clone(),
                submitted_at: row.submitted_at,
            })
            .collect();
        let replaced = self
            .transaction(context, async |txn| {
                let mut replaced = 0;
                for (unit, items) in &items_by_unit {
                    let mut gone = txn
                        .query(
                            "RETURN array::len((DELETE self_assessment WHERE unit = $unit AND item IN $items RETURN BEFORE))",
                        )
                        .bind(("unit", unit.clone()))
                        .bind(("items", items.clone()))
                        .await?
                        .check()?;
                    let count: Option<i64> = gone.take(0)?;
                    replaced += count.unwrap_or(0).max(0) as usize;
                }
                for chunk in rows.chunks(WRITE_CHUNK) {
                    txn.query("INSERT INTO self_assessment $rows").bind(("rows", chunk.to_vec())).await?.check()?;
                }
    audit.write_in(txn).await?;
                Ok(replaced)
            })
            .await?;
        Ok(SelfAssessmentOutcome { units: items_by_unit.len(), claims: rows.len(), replaced })
    }
}

/// A unit's claim as stored, with when it was submitted.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SubmittedClaim {
    /// The claim.
    #[serde(flatten)]
    pub claim: SelfClaim,
    /// When the unit submitted it, UTC.
    pub submitted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, SurrealValue)]
struct StoredClaimRow {
    item: String,
    claimed: Decimal,
    note: Option<String>,
    submitted_at: DateTime<Utc>,
}

impl Store {
    /// A unit's current self-assessment claims, by item.
    pub async fn self_claims_for(&self, unit: &OrgCode) -> StoreResult<Vec<SubmittedClaim>> {
        let context = "读取自评结果";
        let mut response = self
            .db()
            .query(
                "SELECT item, claimed, note, submitted_at FROM self_assessment WHERE unit = $unit \
                 ORDER BY item, submitted_at DESC",
            )
            .bind(("unit", unit.to_string()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<StoredClaimRow> = response.take(0).map_err(StoreError::query(context))?;
        Ok(rows
            .into_iter()
            .map(|row| SubmittedClaim {
                claim: SelfClaim { unit: unit.clone(), item: row.item, claimed: row.claimed, note: row.note },
                submitted_at: row.submitted_at,
            })
            .collect())
    }
}
