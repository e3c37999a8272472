//! Inspectors' visits: each visit and the findings observed on it are written together, with
//! the audit record, so a sheet is either wholly recorded or not at all.

use std::collections::HashSet;

use chrono::NaiveDate;
use surrealdb::types::{RecordId, SurrealValue};

use super::findings::insert_findings_in;
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::inspection::{PlannedVisit, VisitKey, VisitMethod};
use crate::model::OrgCode;

#[derive(Debug, Clone, SurrealValue)]
struct NewVisitRow {
    unit: String,
    inspector: String,
    inspector_group: Option<String>,
    date: NaiveDate,
    method: String,
    note: Option<String>,
}

#[derive(Debug, Clone, SurrealValue)]
struct VisitKeyRow {
    unit: String,
    inspector: String,
    date: NaiveDate,
    method: String,
}

/// What a visits import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct VisitsOutcome {
    /// Visits stored.
    pub visits: usize,
    /// Findings stored with them.
    pub findings: usize,
}

impl Store {
    /// The visits already recorded, by what identifies them (unit, inspector, date, method).
    pub async fn visit_keys(&self) -> StoreResult<HashSet<VisitKey>> {
        let context = "读取检查记录";
        let mut response = self
            .db()
            .query("SELECT unit, inspector, date, method FROM visit")
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<VisitKeyRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter()
            .map(|row| {
                let corrupt = |message: String| StoreError::Corrupt { context: "visit", message };
                Ok(VisitKey {
                    unit: OrgCode::parse(&row.unit).map_err(|e| corrupt(format!("{}: {e}", row.unit)))?,
                    method: VisitMethod::parse(&row.method)
                        .ok_or_else(|| corrupt(format!("未知的检查方式“{}”", row.method)))?,
                    inspector: row.inspector,
                    date: row.date,
                })
            })
            .collect()
    }

    /// Writes visits with their findings (linked to their visit) and the audit record, in one
    /// transaction.
    pub async fn record_visits(
        &self,
        visits: &[PlannedVisit],
        audit: AuditEntry,
    ) -> StoreResult<VisitsOutcome> {
        let context = "保存检查记录";
        let findings = self
            .transaction(context, async |txn| {
                let mut findings = 0;
                for visit in visits {
                    let row = NewVisitRow {
                        unit: visit.key.unit.to_string(),
                        inspector: visit.key.inspector.clone(),
                        inspector_group: visit.group.clone(),
                        date: visit.key.date,
                        method: visit.key.method.as_str().to_string(),
                        note: visit.note.clone(),
                    };
                    let mut created =
                        txn.query("(CREATE visit CONTENT $visit).id").bind(("visit", row)).await?.check()?;
                    let ids: Vec<RecordId> = created.take(0)?;
                    let id = ids.into_iter().next().ok_or_else(|| {
                        surrealdb::Error::internal("CREATE visit returned no id".to_string())
                    })?;
                    insert_findings_in(txn, &visit.findings, None, Some(&id)).await?;
                    findings += visit.findings.len();
                }
                audit.write_in(txn).await?;
                Ok(findings)
            })
            .await?;
        Ok(VisitsOutcome { visits: visits.len(), findings })
    }
}

/// A visit as a unit's page lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct VisitRecord {
    /// The visit's id as text (`visit:…`).
    pub id: String,
    /// The inspector's name, as recorded.
    pub inspector: String,
    /// The inspector group (督查组), if recorded.
    pub group: Option<String>,
    /// The day of the visit.
    pub date: NaiveDate,
    /// How the unit was surveyed; serialised as its Chinese name (现场检查…).
    #[serde(serialize_with = "method_name")]
    #[schemars(with = "String")]
    pub method: VisitMethod,
    /// The visit's note: what the rows that found nothing said.
    pub note: Option<String>,
    /// Findings recorded on the visit.
    pub findings: usize,
}

fn method_name<S: serde::Serializer>(method: &VisitMethod, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(method.as_str())
}

#[derive(Debug, Clone, SurrealValue)]
struct VisitRow {
    id: RecordId,
    inspector: String,
    inspector_group: Option<String>,
    date: NaiveDate,
    method: String,
    note: Option<String>,
}

#[derive(Debug, Clone, SurrealValue)]
struct VisitFindingsRow {
    visit: RecordId,
    count: i64,
}

impl Store {
    /// A unit's visits, newest first, each with how many findings it recorded.
    pub async fn visits_for(&self, unit: &OrgCode) -> StoreResult<Vec<VisitRecord>> {
        let context = "读取检查记录";
        let mut response = self
            .db()
            .query(
                "SELECT id, inspector, inspector_group, date, method, note, created_at FROM visit \
                    WHERE unit = $unit ORDER BY date DESC, created_at DESC;
                 SELECT visit, count() AS count FROM finding WHERE unit = $unit AND visit != NONE GROUP BY visit;",
            )
            .bind(("unit", unit.to_string()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<VisitRow> = response.take(0).map_err(StoreError::query(context))?;
        let counts: std::collections::HashMap<String, usize> = response
            .take::<Vec<VisitFindingsRow>>(1)
            .map_err(StoreError::query(context))?
            .into_iter()
            .map(|row| (super::findings::record_key(&row.visit), row.count.max(0) as usize))
            .collect();
        rows.into_iter()
            .map(|row| {
                let id = super::findings::record_key(&row.id);
                Ok(VisitRecord {
                    method: VisitMethod::parse(&row.method).ok_or_else(|| StoreError::Corrupt {
                        context: "visit",
                        message: format!("未知的检查方式“{}”", row.method),
                    })?,
                    findings: counts.get(&id).copied().unwrap_or(0),
                    id,
                    inspector: row.inspector,
                    group: row.inspector_group,
                    date: row.date,
                    note: row.note,
                })
            })
            .collect()
    }
}
