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
    pub visits: usize,
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
