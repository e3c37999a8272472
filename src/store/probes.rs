//! Availability samples: one row per probe of one unit's home page (`probe_sample`), written by
//! `gongkai probe` and the scheduler's probe job, read back to compute availability over a
//! window (`site.failure_ratio`, `site.probe_days`, `site.min_daily_probes`) and to chart a
//! unit's probe history. Earlier probe runs (before samples were kept) are still readable.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use surrealdb::types::{RecordId, SurrealValue};

use super::{Store, StoreError, StoreResult};

/// One finished probe run: when, whom, and which of them failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRun {
    /// The run's as-of instant, UTC.
    pub as_of: DateTime<Utc>,
    /// Credit codes of the units the run probed.
    pub units: Vec<String>,
    /// Of those, the units whose probe failed (a `site.unreachable` finding of the run).
    pub failed: HashSet<String>,
}

#[derive(Debug, Clone, SurrealValue)]
struct ProbeRunRow {
    id: RecordId,
    as_of: DateTime<Utc>,
    units: Vec<String>,
}

#[derive(Debug, Clone, SurrealValue)]
struct FailureRow {
    unit: String,
    run: Option<RecordId>,
}

impl Store {
    /// Finished probe runs with `since < as_of <= until`, oldest first.
    pub async fn probe_runs(&self, since: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<Vec<ProbeRun>> {
        let context = "读取探测记录";
        let mut response = self
            .db()
            .query(
                "SELECT id, as_of, units FROM crawl_run \
                   WHERE kind = 'probe' AND status = 'finished' AND as_of > $since AND as_of <= $until ORDER BY as_of;
                 SELECT unit, run FROM finding \
                   WHERE check = 'site.unreachable' AND run.kind = 'probe' AND observed_at > $since AND observed_at <= $until;",
            )
            .bind(("since", since))
            .bind(("until", until))
            .await
            .map_err(StoreError::query(context))?;
        let runs: Vec<ProbeRunRow> = response.take(0).map_err(StoreError::query(context))?;
        let failures: Vec<FailureRow> = response.take(1).map_err(StoreError::query(context))?;
        Ok(runs
            .into_iter()
            .map(|run| ProbeRun {
                as_of: run.as_of,
                failed: failures
                    .iter()
                    .filter(|f| f.run.as_ref() == Some(&run.id))
                    .map(|f| f.unit.clone())
                    .collect(),
                units: run.units,
            })
            .collect())
    }
}

/// One probe of one unit, as stored.
#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct ProbeSampleRecord {
    /// The probed unit's credit code.
    pub unit: String,
    /// When the probe was made, UTC.
    pub at: DateTime<Utc>,
    /// The probe found the home page unreachable (a `site.unreachable` finding).
    pub failed: bool,
    /// Why it failed: the fetch error, or `HTTP <status>`; `None` for a success.
    pub error: Option<String>,
}

#[derive(Debug, Clone, SurrealValue)]
struct NewSampleRow {
    unit: String,
    at: DateTime<Utc>,
    failed: bool,
    error: Option<String>,
    run: Option<RecordId>,
}

/// One day of a unit's probe history: how many samples, how many failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProbeDay {
    /// The day, in the zone the history was asked in.
    pub day: NaiveDate,
    /// Probes made that day.
    pub samples: u32,
    /// Of those, probes that failed.
    pub failed: u32,
}

impl Store {
    /// Stores probe samples, linked to the probe run they belong to (if stored already).
    pub async fn record_probe_samples(
        &self,
        samples: &[ProbeSampleRecord],
        run: Option<&str>,
    ) -> StoreResult<()> {
        let context = "保存探测样本";
        let run = run.and_then(|r| RecordId::parse_simple(r).ok());
        for chunk in samples.chunks(1_000) {
            let rows: Vec<NewSampleRow> = chunk
                .iter()
                .map(|s| NewSampleRow {
                    unit: s.unit.clone(),
                    at: s.at,
                    failed: s.failed,
                    error: s.error.clone(),
                    run: run.clone(),
                })
                .collect();
            self.db()
                .query("INSERT INTO probe_sample $rows")
                .bind(("rows", rows))
                .await
                .and_then(surrealdb::IndexedResults::check)
                .map_err(StoreError::query(context))?;
        }
        Ok(())
    }

    /// Samples of these units (all units when empty) with `since < at <= until`, oldest first,
    /// by unit.
    pub async fn probe_samples(
        &self,
        units: &[String],
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<HashMap<String, Vec<ProbeSampleRecord>>> {
        let context = "读取探测样本";
        let filter = if units.is_empty() { "" } else { "AND unit IN $units" };
        let mut response = self
            .db()
            .query(format!(
                "SELECT unit, at, failed, error FROM probe_sample WHERE at > $since AND at <= $until {filter} ORDER BY at"
            ))
            .bind(("since", since))
            .bind(("until", until))
            .bind(("units", units.to_vec()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<ProbeSampleRecord> = response.take(0).map_err(StoreError::query(context))?;
        let mut by_unit: HashMap<String, Vec<ProbeSampleRecord>> = HashMap::new();
        for row in rows {
            by_unit.entry(row.unit.clone()).or_default().push(row);
        }
        Ok(by_unit)
    }

    /// One unit's probe history day by day (in `zone`), from `since` on: the chart on the
    /// unit's page.
    pub async fn probe_history(
        &self,
        unit: &str,
        since: DateTime<Utc>,
        zone: Tz,
    ) -> StoreResult<Vec<ProbeDay>> {
        let samples = self.probe_samples(&[unit.to_string()], since, Utc::now()).await?;
        let mut days: BTreeMap<NaiveDate, (u32, u32)> = BTreeMap::new();
        for sample in samples.get(unit).into_iter().flatten() {
            let entry = days.entry(sample.at.with_timezone(&zone).date_naive()).or_default();
            entry.0 += 1;
            entry.1 += u32::from(sample.failed);
        }
        Ok(days.into_iter().map(|(day, (samples, failed))| ProbeDay { day, samples, failed }).collect())
    }
}
