//! Findings and metrics: written with the crawl run (or visit) that produced them, read back
//! as listings and as the evidence an assessment scores.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use surrealdb::engine::any::Any;
use surrealdb::method::Transaction;
use surrealdb::types::{RecordId, SurrealValue, ToSql};

use super::{Store, StoreError, StoreResult};
use crate::model::{CrawlKind, Finding, Metric, OrgCode, SelfClaim, UnitEvidence};

/// A finding as written. `run` or `visit` links it to what produced it.
#[derive(Debug, Clone, SurrealValue)]
struct NewFindingRow {
    unit: String,
    check: String,
    source: String,
    observed_at: DateTime<Utc>,
    url: Option<String>,
    detail: serde_json::Value,
    run: Option<RecordId>,
    visit: Option<RecordId>,
    status: String,
    rectify_by: Option<NaiveDate>,
}

/// A finding as read, with its id.
#[derive(Debug, Clone, SurrealValue)]
pub(super) struct FindingRow {
    id: RecordId,
    pub(super) unit: String,
    pub(super) check: String,
    source: String,
    observed_at: DateTime<Utc>,
    url: Option<String>,
    detail: serde_json::Value,
    run: Option<RecordId>,
    pub(super) status: String,
    rectify_by: Option<NaiveDate>,
}

/// The fields a [`FindingRow`] is read from.
pub(super) const FINDING_FIELDS: &str =
    "id, unit, check, source, observed_at, url, detail, run, status, rectify_by";

#[derive(Debug, Clone, SurrealValue)]
struct NewMetricRow {
    unit: String,
    name: String,
    value: Decimal,
    observed_at: DateTime<Utc>,
    run: Option<RecordId>,
}

#[derive(Debug, Clone, SurrealValue)]
struct MetricRow {
    unit: String,
    name: String,
    value: Decimal,
    observed_at: DateTime<Utc>,
    run: Option<RecordId>,
}

/// A crawl run as written, whole ([`Store::record_crawl_run`]) or opened to be written unit by
/// unit (`runs.rs`).
#[derive(Debug, Clone, SurrealValue)]
pub(super) struct NewRunRow {
    pub(super) kind: String,
    pub(super) as_of: DateTime<Utc>,
    pub(super) started_at: DateTime<Utc>,
    pub(super) finished_at: Option<DateTime<Utc>>,
    pub(super) status: String,
    pub(super) units: Vec<String>,
    pub(super) stats: serde_json::Value,
}

#[derive(Debug, Clone, SurrealValue)]
struct RunRow {
    id: RecordId,
    kind: String,
    as_of: DateTime<Utc>,
    units: Vec<String>,
}

#[derive(Debug, Clone, SurrealValue)]
struct ClaimRow {
    unit: String,
    item: String,
    claimed: Decimal,
    note: Option<String>,
}

/// A finished crawl run to record with its findings and metrics.
#[derive(Debug, Clone)]
pub struct CrawlRunRecord {
    /// Which crawl it was: site, catalogue or probe.
    pub kind: CrawlKind,
    /// The instant its findings are stamped as observed, UTC; evidence picks runs by it.
    pub as_of: DateTime<Utc>,
    /// When the run started, UTC.
    pub started_at: DateTime<Utc>,
    /// When it finished, UTC.
    pub finished_at: DateTime<Utc>,
    /// The units the run covered: each unit's newest covering run replaces its earlier findings of the same kind.
    pub units: Vec<OrgCode>,
    /// Counts for the summary: sites, pages, findings, errors.
    pub stats: serde_json::Value,
}

/// Which findings a listing shows.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    /// Only this unit's findings.
    pub unit: Option<OrgCode>,
    /// Only findings of this check id.
    pub check: Option<String>,
    /// Also show findings of crawl runs that a newer run of the same kind replaced.
    pub include_superseded: bool,
}

/// A record id as text (`finding:abc123`), the form explanations and the web UI cite.
pub(crate) fn record_key(id: &RecordId) -> String {
    id.to_sql()
}

impl TryFrom<FindingRow> for Finding {
    type Error = StoreError;

    fn try_from(row: FindingRow) -> Result<Self, Self::Error> {
        let corrupt = |message: String| StoreError::Corrupt { context: "finding", message };
        Ok(Finding {
            id: Some(record_key(&row.id)),
            unit: OrgCode::parse(&row.unit).map_err(|e| corrupt(format!("{}: {e}", row.unit)))?,
            check: row.check,
            source: row.source.parse().map_err(corrupt)?,
            observed_at: row.observed_at,
            url: row.url,
            detail: row.detail,
            status: row.status.parse().map_err(corrupt)?,
            rectify_by: row.rectify_by,
        })
    }
}

fn new_finding_row(finding: &Finding, run: Option<&RecordId>, visit: Option<&RecordId>) -> NewFindingRow {
    NewFindingRow {
        unit: finding.unit.to_string(),
        check: finding.check.clone(),
        source: finding.source.as_str().to_string(),
        observed_at: finding.observed_at,
        url: finding.url.clone(),
        detail: if finding.detail.is_object() { finding.detail.clone() } else { serde_json::json!({}) },
        run: run.cloned(),
        visit: visit.cloned(),
        status: finding.status.as_str().to_string(),
        rectify_by: finding.rectify_by,
    }
}

/// Writes findings inside an open transaction, linked to a run or a visit.
pub(crate) async fn insert_findings_in(
    txn: &Transaction<Any>,
    findings: &[Finding],
    run: Option<&RecordId>,
    visit: Option<&RecordId>,
) -> surrealdb::Result<()> {
    for chunk in findings.chunks(1_000) {
        let rows: Vec<NewFindingRow> = chunk.iter().map(|f| new_finding_row(f, run, visit)).collect();
        txn.query("INSERT INTO finding $rows").bind(("rows", rows)).await?.check()?;
    }
    Ok(())
}

/// Creates a finished crawl run inside an open transaction, first marking the findings and
/// metrics of earlier runs of the same kind for the same units superseded (kept as history).
pub(crate) async fn start_run_in(
    txn: &Transaction<Any>,
    run: &CrawlRunRecord,
) -> surrealdb::Result<RecordId> {
    let units: Vec<String> = run.units.iter().map(ToString::to_string).collect();
    let mut created = txn
        .query(
            "UPDATE finding SET superseded = true WHERE run.kind = $kind AND unit IN $units AND superseded = false;
             UPDATE metric SET superseded = true WHERE run.kind = $kind AND unit IN $units AND superseded = false;
             (CREATE crawl_run CONTENT $run).id;",
        )
        .bind(("kind", run.kind.as_str().to_string()))
        .bind(("units", units.clone()))
        .bind((
            "run",
            NewRunRow {
                kind: run.kind.as_str().to_string(),
                as_of: run.as_of,
                started_at: run.started_at,
                finished_at: Some(run.finished_at),
                status: "finished".to_string(),
                units,
                stats: run.stats.clone(),
            },
        ))
        .await?
        .check()?;
    let ids: Vec<RecordId> = created.take(2)?;
    ids.into_iter()
        .next()
        .ok_or_else(|| surrealdb::Error::internal("CREATE crawl_run returned no id".to_string()))
}

/// Writes a run's metrics inside an open transaction.
pub(crate) async fn insert_metrics_in(
    txn: &Transaction<Any>,
    metrics: &[Metric],
    run: &RecordId,
) -> surrealdb::Result<()> {
    for chunk in metrics.chunks(1_000) {
        let rows: Vec<NewMetricRow> = chunk
            .iter()
            .map(|m| NewMetricRow {
                unit: m.unit.to_string(),
                name: m.name.clone(),
                value: m.value,
                observed_at: m.observed_at,
                run: Some(run.clone()),
            })
            .collect();
        txn.query("INSERT INTO metric $rows").bind(("rows", rows)).await?.check()?;
    }
    Ok(())
}

impl Store {
    /// Records a finished crawl run with everything it found, in one transaction. Findings and
    /// metrics of earlier runs of the same kind for the same units are marked superseded (they
    /// stay queryable as history).
    pub async fn record_crawl_run(
        &self,
        run: &CrawlRunRecord,
        findings: &[Finding],
        metrics: &[Metric],
    ) -> StoreResult<String> {
        let run_id = self
            .transaction("保存检查结果", async |txn| {
                let run_id = start_run_in(txn, run).await?;
                insert_findings_in(txn, findings, Some(&run_id), None).await?;
                insert_metrics_in(txn, metrics, &run_id).await?;
                Ok(run_id)
            })
            .await?;
        Ok(record_key(&run_id))
    }

    /// Findings, newest first, filtered.
    pub async fn findings(&self, filter: &FindingFilter) -> StoreResult<Vec<Finding>> {
        let context = "读取问题";
        let mut conditions = Vec::new();
        if filter.unit.is_some() {
            conditions.push("unit = $unit");
        }
        if filter.check.is_some() {
            conditions.push("check = $check");
        }
        if !filter.include_superseded {
            conditions.push("superseded = false");
        }
        let where_clause =
            if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let mut response = self
            .db()
            .query(format!(
                "SELECT {FINDING_FIELDS} FROM finding {where_clause} ORDER BY observed_at DESC, unit, check"
            ))
            .bind(("unit", filter.unit.as_ref().map(ToString::to_string)))
            .bind(("check", filter.check.clone()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<FindingRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().map(Finding::try_from).collect()
    }

    /// Every finding a crawl run wrote, superseded or not (the report of a queued run).
    pub async fn run_findings(&self, run: &super::OpenRun) -> StoreResult<Vec<Finding>> {
        let context = "读取检查记录的问题";
        let mut response = self
            .db()
            .query(format!("SELECT {FINDING_FIELDS} FROM finding WHERE run = $run ORDER BY unit, check"))
            .bind(("run", run.record_id().clone()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<FindingRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().map(Finding::try_from).collect()
    }

    /// The evidence an assessment as of `as_of` scores, per unit: from each unit's newest
    /// closed (finished or cancelled; never running, see `runs.rs`) crawl run of each kind that
    /// lists the unit, at or before `as_of`, plus inspectors' and units' own
    /// findings observed by then, the latest value of each metric, and self-assessment claims
    /// submitted by then. Superseded flags are not used, so an old assessment re-runs exactly.
    pub async fn evidence(&self, as_of: DateTime<Utc>) -> StoreResult<BTreeMap<OrgCode, UnitEvidence>> {
        let context = "汇集评分证据";
        let mut response = self
            .db()
            .query(
                "SELECT id, kind, as_of, units FROM crawl_run WHERE status IN ['finished', 'cancelled'] AND as_of <= $as_of;
                 SELECT id, unit, check, source, observed_at, url, detail, run, status, rectify_by
                    FROM finding WHERE observed_at <= $as_of;
                 SELECT unit, name, value, observed_at, run FROM metric WHERE observed_at <= $as_of;
                 SELECT unit, item, claimed, note FROM self_assessment WHERE submitted_at <= $as_of;",
            )
            .bind(("as_of", as_of))
            .await
            .map_err(StoreError::query(context))?;
        let runs: Vec<RunRow> = response.take(0).map_err(StoreError::query(context))?;
        let findings: Vec<FindingRow> = response.take(1).map_err(StoreError::query(context))?;
        let metrics: Vec<MetricRow> = response.take(2).map_err(StoreError::query(context))?;
        let claims: Vec<ClaimRow> = response.take(3).map_err(StoreError::query(context))?;

        // The current run per (unit, kind): the one with the latest as-of date.
        let mut current: HashMap<(String, String), (DateTime<Utc>, String)> = HashMap::new();
        for run in &runs {
            let id = record_key(&run.id);
            for unit in &run.units {
                let slot = current.entry((unit.clone(), run.kind.clone())).or_insert((run.as_of, id.clone()));
                if run.as_of > slot.0 || (run.as_of == slot.0 && id > slot.1) {
                    *slot = (run.as_of, id.clone());
                }
            }
        }
        let is_current = |unit: &str, run: &Option<RecordId>| match run {
            None => true,
            Some(run) => {
                let id = record_key(run);
                runs.iter()
                    .find(|r| record_key(&r.id) == id)
                    .and_then(|r| current.get(&(unit.to_string(), r.kind.clone())))
                    .is_some_and(|(_, current_id)| *current_id == id)
            }
        };

        let mut evidence: BTreeMap<OrgCode, UnitEvidence> = BTreeMap::new();
        for (unit, kind) in current.keys() {
            let unit = OrgCode::parse(unit)
                .map_err(|e| StoreError::Corrupt { context: "crawl_run", message: format!("{unit}: {e}") })?;
            evidence.entry(unit).or_default().crawled.insert(kind.clone());
        }
        for row in findings {
            if !is_current(&row.unit, &row.run) {
                continue;
            }
            let finding = Finding::try_from(row)?;
            evidence.entry(finding.unit.clone()).or_default().findings.push(finding);
        }
        let mut latest: HashMap<(String, String), DateTime<Utc>> = HashMap::new();
        for row in metrics {
            if !is_current(&row.unit, &row.run) {
                continue;
            }
            let key = (row.unit.clone(), row.name.clone());
            if latest.get(&key).is_some_and(|seen| *seen > row.observed_at) {
                continue;
            }
            latest.insert(key, row.observed_at);
            let unit = OrgCode::parse(&row.unit).map_err(|e| StoreError::Corrupt {
                context: "metric",
                message: format!("{}: {e}", row.unit),
            })?;
            evidence.entry(unit).or_default().metrics.insert(row.name, row.value);
        }
        for row in claims {
            let unit = OrgCode::parse(&row.unit).map_err(|e| StoreError::Corrupt {
                context: "self_assessment",
                message: format!("{}: {e}", row.unit),
            })?;
            evidence.entry(unit.clone()).or_default().self_claims.push(SelfClaim {
                unit,
                item: row.item,
                claimed: row.claimed,
                note: row.note,
            });
        }
        for unit_evidence in evidence.values_mut() {
            unit_evidence.findings.sort_by(|a, b| a.id.cmp(&b.id));
        }
        Ok(evidence)
    }
}
