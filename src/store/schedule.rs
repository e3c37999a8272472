//! The scheduler's records: leases (one scheduler per database, one run at a time per job),
//! the run log, and the schedule the office edited in the dashboard.

use chrono::{DateTime, Utc};
use serde::Serialize;
use surrealdb::types::{RecordId, SurrealValue};

use super::findings::record_key;
use super::{AuditEntry, Store, StoreError, StoreResult};

/// The setting that holds the schedule's TOML text once the office has edited it (or
/// `serve --schedule FILE` named one); without it the shipped `crawlers/schedule.toml` applies.
pub const SCHEDULE_SETTING: &str = "schedule.toml";

/// The lease every `serve` instance competes for; its holder runs the scheduler.
pub const SCHEDULER_LEASE: &str = "scheduler";

/// One run of a scheduled job, as the history lists it.
#[derive(Debug, Clone, PartialEq, Serialize, SurrealValue)]
pub struct ScheduleRunRecord {
    /// `schedule_run:…`; empty before the run is stored.
    #[surreal(default)]
    pub id: String,
    /// The job's name in the schedule.
    pub job: String,
    /// The job's kind (`probe`, `crawl`, `catalogue`, `assess`, `recheck`).
    pub kind: String,
    /// `schedule`, `catch_up` (the one run after downtime) or `manual`.
    pub trigger: String,
    /// The fire time of the cron expression this run belongs to (the start, for a manual run).
    pub scheduled_for: DateTime<Utc>,
    /// When it started, UTC.
    pub started_at: DateTime<Utc>,
    /// When it finished, UTC; `None` while running.
    pub finished_at: Option<DateTime<Utc>>,
    /// `running`, `ok` or `failed`.
    pub outcome: String,
    /// What the run did, as the job reports it (sites, findings, cycle…); `{}` until it finishes.
    pub counts: serde_json::Value,
    /// Why it failed, when `outcome` is `failed`.
    pub error: Option<String>,
    /// The instance that ran it.
    pub owner: String,
}

#[derive(Debug, Clone, SurrealValue)]
struct RunRow {
    id: RecordId,
    job: String,
    kind: String,
    trigger: String,
    scheduled_for: DateTime<Utc>,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    outcome: String,
    counts: serde_json::Value,
    error: Option<String>,
    owner: String,
}

impl From<RunRow> for ScheduleRunRecord {
    fn from(row: RunRow) -> Self {
        Self {
            id: record_key(&row.id),
            job: row.job,
            kind: row.kind,
            trigger: row.trigger,
            scheduled_for: row.scheduled_for,
            started_at: row.started_at,
            finished_at: row.finished_at,
            outcome: row.outcome,
            counts: row.counts,
            error: row.error,
            owner: row.owner,
        }
    }
}

#[derive(Debug, Clone, SurrealValue)]
struct NewRunRow {
    job: String,
    kind: String,
    trigger: String,
    scheduled_for: DateTime<Utc>,
    started_at: DateTime<Utc>,
    outcome: String,
    owner: String,
}

#[derive(Debug, Clone, SurrealValue)]
struct RunningRow {
    id: RecordId,
    job: String,
    owner: String,
}

#[derive(Debug, Clone, SurrealValue)]
struct LeaseRow {
    owner: String,
}

fn lease_id(name: &str) -> RecordId {
    RecordId::new("schedule_lease", name)
}

/// The lease that keeps two runs of one job apart.
pub fn job_lease(job: &str) -> String {
    format!("job:{job}")
}

impl Store {
    /// Takes or renews the lease `name` for `owner` until `until`. It succeeds when the lease
    /// is free, expired, or already `owner`'s: one conditional UPSERT, so two instances asking
    /// at once cannot both win.
    pub async fn try_lease(&self, name: &str, owner: &str, until: DateTime<Utc>) -> StoreResult<bool> {
        let context = "获取调度租约";
        let attempt = self
            .db()
            .query(
                "UPSERT $id SET owner = $owner, until = $until \
                 WHERE until = NONE OR until < $now OR owner = $owner RETURN owner",
            )
            .bind(("id", lease_id(name)))
            .bind(("owner", owner.to_string()))
            .bind(("until", until))
            .bind(("now", Utc::now()))
            .await;
        let mut response = match attempt {
            Ok(response) => response,
            // Two instances racing for a free lease: the loser's transaction conflicts.
            Err(error) if super::conflict::is_conflict_source(&error) => return Ok(false),
            Err(error) => return Err(StoreError::query(context)(error)),
        };
        let rows: Vec<LeaseRow> = match response.take(0) {
            Ok(rows) => rows,
            Err(error) if super::conflict::is_conflict_source(&error) => return Ok(false),
            Err(error) => return Err(StoreError::query(context)(error)),
        };
        Ok(rows.iter().any(|row| row.owner == owner))
    }

    /// Gives a lease up at once (a clean shutdown, a finished run), if `owner` holds it.
    pub async fn release_lease(&self, name: &str, owner: &str) -> StoreResult<()> {
        self.db()
            .query("UPDATE $id SET until = $past WHERE owner = $owner")
            .bind(("id", lease_id(name)))
            .bind(("owner", owner.to_string()))
            .bind(("past", DateTime::<Utc>::UNIX_EPOCH))
            .await
            .and_then(surrealdb::IndexedResults::check)
            .map_err(StoreError::query("释放调度租约"))?;
        Ok(())
    }

    /// Who holds a lease and until when, if anyone does now.
    pub async fn lease_holder(&self, name: &str) -> StoreResult<Option<String>> {
        let context = "读取调度租约";
        let mut response = self
            .db()
            .query("SELECT owner FROM $id WHERE until >= $now")
            .bind(("id", lease_id(name)))
            .bind(("now", Utc::now()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<LeaseRow> = response.take(0).map_err(StoreError::query(context))?;
        Ok(rows.into_iter().next().map(|row| row.owner))
    }

    /// Records the start of a run; returns its id.
    pub async fn start_schedule_run(&self, run: &ScheduleRunRecord) -> StoreResult<String> {
        let context = "记录调度运行";
        let row = NewRunRow {
            job: run.job.clone(),
            kind: run.kind.clone(),
            trigger: run.trigger.clone(),
            scheduled_for: run.scheduled_for,
            started_at: run.started_at,
            outcome: "running".into(),
            owner: run.owner.clone(),
        };
        let mut response = self
            .db()
            .query("(CREATE schedule_run CONTENT $row).id")
            .bind(("row", row))
            .await
            .map_err(StoreError::query(context))?;
        let ids: Vec<RecordId> = response.take(0).map_err(StoreError::query(context))?;
        ids.first()
            .map(record_key)
            .ok_or_else(|| StoreError::Corrupt {
                context: "schedule_run", message: "未返回记录编号".into()
            })
    }

    /// Records how a run ended.
    pub async fn finish_schedule_run(
        &self,
        id: &str,
        outcome: Result<serde_json::Value, String>,
    ) -> StoreResult<()> {
        let id = RecordId::parse_simple(id)
            .map_err(|_| StoreError::Corrupt { context: "schedule_run", message: id.to_string() })?;
        let (status, counts, error) = match outcome {
            Ok(counts) => ("ok", counts, None),
            Err(error) => ("failed", serde_json::json!({}), Some(error)),
        };
        self.db()
            .query("UPDATE $id SET finished_at = $now, outcome = $status, counts = $counts, error = $error")
            .bind(("id", id))
            .bind(("now", Utc::now()))
            .bind(("status", status.to_string()))
            .bind(("counts", counts))
            .bind(("error", error))
            .await
            .and_then(surrealdb::IndexedResults::check)
            .map_err(StoreError::query("记录调度运行结果"))?;
        Ok(())
    }

    /// Runs, newest first; `job` narrows to one job.
    pub async fn schedule_runs(
        &self,
        job: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ScheduleRunRecord>> {
        let context = "读取调度运行记录";
        let filter = if job.is_some() { "WHERE job = $job" } else { "" };
        let mut response = self
            .db()
            .query(format!(
                "SELECT id, job, kind, trigger, scheduled_for, started_at, finished_at, outcome, counts, \
                 error, owner FROM schedule_run {filter} ORDER BY started_at DESC, id DESC LIMIT $limit"
            ))
            .bind(("job", job.unwrap_or_default().to_string()))
            .bind(("limit", limit as i64))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<RunRow> = response.take(0).map_err(StoreError::query(context))?;
        Ok(rows.into_iter().map(ScheduleRunRecord::from).collect())
    }

    /// The newest `scheduled_for` of each job's scheduled runs (manual runs do not count):
    /// where the scheduler picks up after a restart.
    pub async fn last_scheduled(&self, jobs: &[String]) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        let context = "读取调度运行记录";
        let mut last = Vec::new();
        for job in jobs {
            let mut response = self
                .db()
                .query(
                    "SELECT VALUE scheduled_for FROM schedule_run WHERE job = $job AND trigger != 'manual' \
                     ORDER BY scheduled_for DESC LIMIT 1",
                )
                .bind(("job", job.clone()))
                .await
                .map_err(StoreError::query(context))?;
            let times: Vec<DateTime<Utc>> = response.take(0).map_err(StoreError::query(context))?;
            if let Some(at) = times.into_iter().next() {
                last.push((job.clone(), at));
            }
        }
        Ok(last)
    }

    /// Marks `owner`'s runs that are still "running" as failed with `message` (the scheduler
    /// stopped under them).
    pub async fn interrupt_runs(&self, owner: &str, message: &str) -> StoreResult<()> {
        self.db()
            .query(
                "UPDATE schedule_run SET outcome = 'failed', error = $message, finished_at = $now \
                 WHERE outcome = 'running' AND owner = $owner",
            )
            .bind(("owner", owner.to_string()))
            .bind(("message", message.to_string()))
            .bind(("now", Utc::now()))
            .await
            .and_then(surrealdb::IndexedResults::check)
            .map_err(StoreError::query("记录中断的调度运行"))?;
        Ok(())
    }

    /// Marks as failed the "running" runs whose owner no longer holds the job's lease: the
    /// instance stopped or crashed mid-run. A run whose lease is alive is left alone.
    pub async fn fail_abandoned_runs(&self, message: &str) -> StoreResult<usize> {
        let context = "检查中断的调度运行";
        let mut response = self
            .db()
            .query("SELECT id, job, owner FROM schedule_run WHERE outcome = 'running'")
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<RunningRow> = response.take(0).map_err(StoreError::query(context))?;
        let mut failed = 0;
        for row in rows {
            if self.lease_holder(&job_lease(&row.job)).await?.as_deref() == Some(row.owner.as_str()) {
                continue;
            }
            self.db()
                .query("UPDATE $id SET outcome = 'failed', error = $message, finished_at = $now")
                .bind(("id", row.id))
                .bind(("message", message.to_string()))
                .bind(("now", Utc::now()))
                .await
                .and_then(surrealdb::IndexedResults::check)
                .map_err(StoreError::query(context))?;
            failed += 1;
        }
        Ok(failed)
    }

    /// The schedule's TOML text as the office saved it, if it did.
    pub async fn saved_schedule(&self) -> StoreResult<Option<String>> {
        self.setting(SCHEDULE_SETTING).await
    }

    /// Saves the schedule's TOML text (already validated by the caller), with the audit record.
    pub async fn save_schedule(&self, text: &str, actor: &str) -> StoreResult<()> {
        let audit = AuditEntry::new(actor, "schedule.save").target("schedule");
        self.set_setting(SCHEDULE_SETTING, text, audit).await
    }
}
