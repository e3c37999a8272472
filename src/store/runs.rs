//! Crawl runs written one unit at a time (issue #11): the run is opened as `running`, each
//! finished unit's findings, metrics and catalogue entries are written in one transaction of
//! their own as soon as that unit is done, and the run is closed with its totals at the end
//! (`finished`, or `cancelled` when the office stopped it). Nothing of a whole city is held in
//! memory until the end, and nothing of a unit is ever half-written. A run whose process died
//! stays `running`, and so stays out of assessments.
//!
//! What readers see while a run is open, and after it was cancelled:
//! - **Assessments** ([`Store::evidence`]) count only closed runs (`finished` or `cancelled`),
//!   and only for the units a run lists. A unit is listed once its transaction committed, so a
//!   run still in progress is invisible to scoring: every unit is scored on its newest closed
//!   run, never on half a city. A cancelled run counts for the units it completed; the units it
//!   did not reach keep their previous run.
//! - **Listings** (current findings, a unit's catalogue entries) switch a unit from its old
//!   results to its new ones in the same transaction that writes the new ones: a unit is shown
//!   either all old or all new, never mixed. Different units may come from different runs
//!   while a crawl is in progress; that is true, and each unit's results say when they were
//!   observed.
//! - Writing the same unit twice in one run replaces what that run wrote for it before, so a
//!   retried unit never duplicates findings (the work queue of issue #13 relies on this).

use chrono::{DateTime, Utc};
use surrealdb::types::RecordId;

use super::catalogue::replace_entries_in;
use super::findings::{NewRunRow, insert_findings_in, insert_metrics_in, record_key};
use super::{Store, StoreResult};
use crate::model::{CatalogueEntry, CrawlKind, Finding, Metric, OrgCode};

/// An open crawl run, as [`Store::begin_crawl_run`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRun {
    id: RecordId,
    kind: CrawlKind,
}

impl OpenRun {
    pub(super) fn new(id: RecordId, kind: CrawlKind) -> Self {
        Self { id, kind }
    }

    pub(super) fn record_id(&self) -> &RecordId {
        &self.id
    }

    /// The run's record id as text (`crawl_run:…`), as summaries and findings cite it.
    pub fn key(&self) -> String {
        record_key(&self.id)
    }

    /// What the run crawls: sites, catalogues or probes.
    pub fn kind(&self) -> CrawlKind {
        self.kind
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Every unit was crawled (units whose check failed are listed in the stats, not the run).
    Finished,
    /// Stopped by the office: the run covers the units it completed, and only those.
    Cancelled,
}

impl RunEnd {
    fn as_str(self) -> &'static str {
        match self {
            RunEnd::Finished => "finished",
            RunEnd::Cancelled => "cancelled",
        }
    }
}

/// One unit's results, written together.
#[derive(Debug, Clone, Copy)]
pub struct UnitResults<'a> {
    /// The unit the results are about.
    pub unit: &'a OrgCode,
    /// Every finding the crawl made on the unit; its earlier ones of the run's kind are kept but
    /// marked superseded.
    pub findings: &'a [Finding],
    /// Every metric measured on the unit (counts, ratios), superseding earlier ones likewise.
    pub metrics: &'a [Metric],
    /// `Some` replaces the unit's catalogue entries; `None` keeps the ones it has (a site
    /// crawl, or a catalogue whose root could not be read).
    pub entries: Option<&'a [CatalogueEntry]>,
}

impl Store {
    /// Opens a `running` crawl run that lists no unit yet.
    pub async fn begin_crawl_run(
        &self,
        kind: CrawlKind,
        as_of: DateTime<Utc>,
        started_at: DateTime<Utc>,
    ) -> StoreResult<OpenRun> {
        let row = NewRunRow {
            kind: kind.as_str().to_string(),
            as_of,
            started_at,
            finished_at: None,
            status: "running".to_string(),
            units: Vec::new(),
            stats: serde_json::json!({}),
        };
        let id = self
            .transaction("开始记录检查", async |txn| {
                let mut created =
                    txn.query("(CREATE crawl_run CONTENT $run).id").bind(("run", row)).await?.check()?;
                let ids: Vec<RecordId> = created.take(0)?;
                ids.into_iter()
                    .next()
                    .ok_or_else(|| surrealdb::Error::internal("CREATE crawl_run returned no id".to_string()))
            })
            .await?;
        Ok(OpenRun { id, kind })
    }

    /// Writes one unit's results into an open run, in one transaction: the unit's earlier
    /// results of the same kind are marked superseded, what this run wrote for the unit
    /// before (a retry) is replaced, and the unit is added to the run's list.
    pub async fn record_run_unit(&self, run: &OpenRun, results: UnitResults<'_>) -> StoreResult<()> {
        self.transaction("保存单位检查结果", async |txn| {
            write_unit_results_in(txn, run, results).await?;
            txn.query("UPDATE $run SET units = array::union(units, [$unit])")
                .bind(("run", run.id.clone()))
                .bind(("unit", results.unit.to_string()))
                .await?
                .check()?;
            Ok(())
        })
        .await
    }

    /// Closes a run: its status, when it ended, and its totals.
    pub async fn finish_crawl_run(
        &self,
        run: &OpenRun,
        end: RunEnd,
        stats: serde_json::Value,
    ) -> StoreResult<()> {
        self.transaction("结束记录检查", async |txn| {
            txn.query("UPDATE $run SET status = $status, finished_at = time::now(), stats = $stats")
                .bind(("run", run.id.clone()))
                .bind(("status", end.as_str().to_string()))
                .bind(("stats", stats))
                .await?
                .check()?;
            Ok(())
        })
        .await
    }

    /// The units a run lists (those whose results were written), in no particular order.
    pub async fn crawl_run_units(&self, run: &OpenRun) -> StoreResult<Vec<String>> {
        let context = "读取检查记录";
        let mut response = self
            .db()
            .query("RETURN $run.units")
            .bind(("run", run.id.clone()))
            .await
            .map_err(super::StoreError::query(context))?;
        response.take(0).map_err(super::StoreError::query(context))
    }
}

/// Writes one unit's results into `run` inside `txn`: the unit's earlier results of the same
/// kind are marked superseded, and what this run wrote for the unit before (a retry) is replaced.
/// Listing the unit in the run is the caller's: a local crawl does it unit by unit, a queued run
/// once at its close (so that workers finishing units at the same time do not all write the
/// run's record).
pub(super) async fn write_unit_results_in(
    txn: &surrealdb::method::Transaction<surrealdb::engine::any::Any>,
    run: &OpenRun,
    results: UnitResults<'_>,
) -> surrealdb::Result<()> {
    txn.query(
        "DELETE finding WHERE run = $run AND unit = $unit;
         DELETE metric WHERE run = $run AND unit = $unit;
         UPDATE finding SET superseded = true
            WHERE unit = $unit AND superseded = false AND run != NONE AND run.kind = $kind;
         UPDATE metric SET superseded = true
            WHERE unit = $unit AND superseded = false AND run != NONE AND run.kind = $kind;",
    )
    .bind(("run", run.id.clone()))
    .bind(("unit", results.unit.to_string()))
    .bind(("kind", run.kind.as_str().to_string()))
    .await?
    .check()?;
    insert_findings_in(txn, results.findings, Some(&run.id), None).await?;
    insert_metrics_in(txn, results.metrics, &run.id).await?;
    if let Some(entries) = results.entries {
        replace_entries_in(txn, results.unit, entries, &run.id).await?;
    }
    Ok(())
}

/// The run named by its key as [`OpenRun::key`] prints it (`crawl_run:…`).
pub(super) fn parse_run_key(key: &str) -> Option<RecordId> {
    RecordId::parse_simple(key.trim()).ok().filter(|id| id.table.as_str() == "crawl_run")
}
