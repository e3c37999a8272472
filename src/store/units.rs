//! The unit aggregate: registry reads and the all-or-nothing import write.

use surrealdb::types::{RecordId, SurrealValue};

use super::{Store, StoreError, StoreResult, audit::AuditEntry};
use crate::model::{OrgCode, Unit};
use crate::registry::ImportPlan;

/// Rows per statement when writing an import; the whole import is still one transaction.
const WRITE_CHUNK: usize = 2_000;

/// A unit as stored. Kept apart from [`Unit`] so the domain type knows nothing of SurrealDB.
#[derive(Debug, Clone, SurrealValue)]
struct UnitRow {
    id: RecordId,
    code: String,
    name: String,
    kind: String,
    parent_code: Option<String>,
    website: Option<String>,
    catalogue_url: Option<String>,
    email: Option<String>,
}

impl From<&Unit> for UnitRow {
    fn from(unit: &Unit) -> Self {
        Self {
            id: RecordId::new("unit", unit.code.as_str()),
            code: unit.code.to_string(),
            name: unit.name.clone(),
            kind: unit.kind.as_str().to_string(),
            parent_code: unit.parent_code.as_ref().map(ToString::to_string),
            website: unit.website.clone(),
            catalogue_url: unit.catalogue_url.clone(),
            email: unit.email.clone(),
        }
    }
}

impl TryFrom<UnitRow> for Unit {
    type Error = StoreError;

    fn try_from(row: UnitRow) -> Result<Self, Self::Error> {
        let corrupt = |message: String| StoreError::Corrupt { context: "unit", message };
        let code = OrgCode::parse(&row.code).map_err(|e| corrupt(format!("{}: {e}", row.code)))?;
        Ok(Unit {
            kind: row.kind.parse().map_err(|e| corrupt(format!("{}: {e}", row.code)))?,
            parent_code: row
                .parent_code
                .map(|p| OrgCode::parse(&p).map_err(|e| corrupt(format!("{}: {e}", row.code))))
                .transpose()?,
            code,
            name: row.name,
            website: row.website,
            catalogue_url: row.catalogue_url,
            email: row.email,
        })
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ImportOutcome {
    /// Units newly registered.
    pub added: usize,
    /// Registered units whose record changed.
    pub updated: usize,
    /// Units in the file that were already registered as they are.
    pub unchanged: usize,
    /// Registered units the file does not mention; they are kept, never deleted.
    pub not_in_file: usize,
}

const UNIT_FIELDS: &str = "id, code, name, kind, parent_code, website, catalogue_url, email";

impl Store {
    /// Every registered unit, ordered by code.
    pub async fn units(&self) -> StoreResult<Vec<Unit>> {
        let mut response = self
            .db()
            .query(format!("SELECT {UNIT_FIELDS} FROM unit ORDER BY code"))
            .await
            .map_err(StoreError::query("读取单位"))?;
        let rows: Vec<UnitRow> = response.take(0).map_err(StoreError::query("读取单位"))?;
        rows.into_iter().map(Unit::try_from).collect()
    }

    /// One unit by code.
    pub async fn unit(&self, code: &OrgCode) -> StoreResult<Option<Unit>> {
        let mut response = self
            .db()
            .query(format!("SELECT {UNIT_FIELDS} FROM $id"))
            .bind(("id", RecordId::new("unit", code.as_str())))
            .await
            .map_err(StoreError::query("读取单位"))?;
        let row: Option<UnitRow> = response.take(0).map_err(StoreError::query("读取单位"))?;
        row.map(Unit::try_from).transpose()
    }

    /// Writes an import plan in one transaction, together with its audit record: either every
    /// new and changed unit is stored, or none is. `progress` is told how many units have
    /// been written so far.
    pub async fn apply_unit_import(
        &self,
        plan: &ImportPlan,
        audit: AuditEntry,
        progress: impl Fn(usize),
    ) -> StoreResult<ImportOutcome> {
        let rows: Vec<UnitRow> = plan.writes().map(UnitRow::from).collect();
        self.transaction("导入单位", async |txn| {
            let mut written = 0;
            for chunk in rows.chunks(WRITE_CHUNK) {
                txn.query(
                    "INSERT INTO unit $rows ON DUPLICATE KEY UPDATE \
                     name = $input.name, kind = $input.kind, parent_code = $input.parent_code, \
                     website = $input.website, catalogue_url = $input.catalogue_url, email = $input.email",
                )
                .bind(("rows", chunk.to_vec()))
                .await?
                .check()?;
                written += chunk.len();
                progress(written);
            }
            audit.write_in(txn).await
        })
        .await?;
        Ok(ImportOutcome {
            added: plan.added.len(),
            updated: plan.updated.len(),
            unchanged: plan.unchanged,
            not_in_file: plan.not_in_file,
        })
    }
}
