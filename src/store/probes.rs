//! Earlier probe runs, read back so that `gongkai probe` can compute availability over a window
//! (`site.failure_ratio`, `site.probe_days`, `site.min_daily_probes`): a probe run records a
//! `site.unreachable` finding per failed unit, and the run's unit list says who was probed.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Store, StoreError, StoreResult};

/// One finished probe run: when, whom, and which of them failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRun {
    pub as_of: DateTime<Utc>,
    pub units: Vec<String>,
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
