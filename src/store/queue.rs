//! The work queue that lets several worker processes share one crawl (issue #13).
//!
//! A queued run is an ordinary `crawl_run` (status `running`) that also carries the request the
//! workers need to repeat it exactly (profile text, day, instant), plus one `crawl_task` per unit.
//! Workers register in `crawl_worker`, take tasks by lease and renew their leases with every
//! heartbeat. Why it is safe:
//! - **One holder per task.** A task is taken with one conditional `UPDATE` (queued, or leased
//!   but expired). Two workers racing for it write the same record; the engine fails the later
//!   transaction as a conflict, so only one of them gets it.
//! - **A killed worker loses nothing.** Its heartbeats stop, its leases expire, and the next
//!   claim of any worker takes the task over.
//! - **No duplicate results.** A unit's results are written in the same transaction that marks
//!   its task done, and only while the writer still holds the lease; writing a unit again in a
//!   run replaces what the run wrote for it before (`runs.rs`).
//! - **The run closes itself.** After each completion the worker checks whether any task is left;
//!   the last one to commit sees none and closes the run, listing the units whose tasks are done.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use surrealdb::types::{RecordId, SurrealValue};

use super::findings::{NewRunRow, record_key};
use super::runs::{UnitResults, parse_run_key, write_unit_results_in};
use super::{OpenRun, RunEnd, Store, StoreError, StoreResult};
use crate::model::{CrawlKind, OrgCode};

/// How often a unit's results are tried in all when the write conflicts.
const COMPLETE_ATTEMPTS: u32 = 6;

/// Tasks inserted per statement when a run is queued.
const ENQUEUE_BATCH: usize = 1_000;

/// One unit of a queued run, as a worker holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedTask {
    id: RecordId,
    /// The run the task belongs to.
    pub run: OpenRun,
    /// The unit to crawl.
    pub unit: OrgCode,
    /// How often the task was taken, this time included.
    pub attempts: u32,
    /// The worker whose expired lease this claim took over, if any.
    pub taken_from: Option<String>,
}

impl ClaimedTask {
    /// The task's record id as text (`crawl_task:…`).
    pub fn key(&self) -> String {
        record_key(&self.id)
    }
}

/// A worker process as it registered itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerRegistration {
    /// Unique per process: host, process id and a random suffix.
    pub name: String,
    /// The machine the worker runs on (its host name).
    pub host: String,
    /// The worker's process id on that machine.
    pub pid: u32,
    /// Units the worker crawls at the same time.
    pub concurrency: u32,
}

/// A registered worker and what it is doing, for the jobs page and `gongkai workers`.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerStatus {
    /// The registration the worker made when it started.
    #[serde(flatten)]
    pub registration: WorkerRegistration,
    /// When the worker started.
    pub started_at: DateTime<Utc>,
    /// The worker's last sign of life; a worker silent for longer than a lease is dead.
    pub heartbeat_at: DateTime<Utc>,
    /// Tasks the worker completed (over every run still in the store).
    pub tasks_done: u64,
    /// Leases the worker holds now (units in flight).
    pub leases: u64,
    /// When the worker said it was stopping; `None` while it runs or after it was killed.
    pub stopped_at: Option<DateTime<Utc>>,
    /// Whether the worker's heartbeat is recent enough for it to count as alive.
    pub alive: bool,
}

/// How far a queued run has got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueProgress {
    /// The run (`crawl_run:…`).
    pub run: String,
    /// `site` or `catalogue`.
    pub kind: String,
    /// `running`, `finished` or `cancelled`.
    pub status: String,
    /// When the run was queued.
    pub started_at: DateTime<Utc>,
    /// Tasks in the run: one per unit.
    pub total: u64,
    /// Tasks no worker has taken yet.
    pub queued: u64,
    /// Tasks a worker holds now.
    pub leased: u64,
    /// Tasks completed.
    pub done: u64,
    /// Tasks dropped because the run was cancelled before a worker took them.
    pub dropped: u64,
    /// Claims that took a task over from a worker whose lease had expired.
    pub taken_over: u64,
}

/// What a worker reports about a unit when its task is done, kept on the task so that the run's
/// totals and the requester's report can be made without the worker's memory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, SurrealValue)]
pub struct TaskSummary {
    /// The site or catalogue answered.
    pub reachable: bool,
    /// Pages fetched.
    pub pages: u64,
    /// Findings written.
    pub findings: u64,
    /// Catalogue entries read (catalogue runs).
    pub entries: u64,
    /// Why the unit could not be checked; its results were then not written.
    pub error: Option<String>,
}

#[derive(Debug, SurrealValue)]
struct NewTaskRow {
    id: RecordId,
    run: RecordId,
    unit: String,
    status: String,
}

#[derive(Debug, SurrealValue)]
struct ClaimRow {
    id: RecordId,
    run: RecordId,
    kind: String,
    unit: String,
    attempts: i64,
    previous_owner: Option<String>,
}

#[derive(Debug, SurrealValue)]
struct WorkerRow {
    name: String,
    host: String,
    pid: i64,
    concurrency: i64,
    started_at: DateTime<Utc>,
    heartbeat_at: DateTime<Utc>,
    tasks_done: i64,
    stopped_at: Option<DateTime<Utc>>,
    leases: i64,
}

#[derive(Debug, SurrealValue)]
struct QueuedRunRow {
    id: RecordId,
    kind: String,
    status: String,
    started_at: DateTime<Utc>,
}

/// The task of `unit` in `run`: one id per (run, unit), so that queuing a unit twice is caught.
fn task_id(run: &RecordId, unit: &str) -> RecordId {
    RecordId::new("crawl_task", format!("{}/{unit}", record_key(run)))
}

fn worker_id(name: &str) -> RecordId {
    RecordId::new("crawl_worker", name)
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn lease_span(lease: std::time::Duration) -> Duration {
    Duration::from_std(lease).unwrap_or(Duration::seconds(30))
}

impl Store {
    /// Opens a `running` run of `kind` carrying `request` (what workers need to repeat the
    /// requester's crawl) and queues one task per unit, all in one transaction: workers see the
    /// whole run or none of it.
    pub async fn enqueue_crawl_run(
        &self,
        kind: CrawlKind,
        as_of: DateTime<Utc>,
        request: serde_json::Value,
        units: &[OrgCode],
    ) -> StoreResult<OpenRun> {
        let row = NewRunRow {
            kind: kind.as_str().to_string(),
            as_of,
            started_at: Utc::now(),
            finished_at: None,
            status: "running".to_string(),
            units: Vec::new(),
            stats: serde_json::json!({}),
        };
        let id = self
            .transaction("排队记录检查任务", async |txn| {
                let mut created =
                    txn.query("(CREATE crawl_run CONTENT $run).id").bind(("run", row)).await?.check()?;
                let ids: Vec<RecordId> = created.take(0)?;
                let id = ids.into_iter().next().ok_or_else(|| {
                    surrealdb::Error::internal("CREATE crawl_run returned no id".to_string())
                })?;
                txn.query("UPDATE $run SET request = $request, queued = true")
                    .bind(("run", id.clone()))
                    .bind(("request", request))
                    .await?
                    .check()?;
                for batch in units.chunks(ENQUEUE_BATCH) {
                    let rows: Vec<NewTaskRow> = batch
                        .iter()
                        .map(|unit| NewTaskRow {
                            id: task_id(&id, unit.as_str()),
                            run: id.clone(),
                            unit: unit.to_string(),
                            status: "queued".to_string(),
                        })
                        .collect();
                    txn.query("INSERT INTO crawl_task $rows RETURN NONE")
                        .bind(("rows", rows))
                        .await?
                        .check()?;
                }
                Ok(id)
            })
            .await?;
        Ok(OpenRun::new(id, kind))
    }

    /// The request a queued run carries (see [`Store::enqueue_crawl_run`]).
    pub async fn queued_run_request(&self, run: &OpenRun) -> StoreResult<Option<serde_json::Value>> {
        let context = "读取排队任务的检查参数";
        let mut response = self
            .db()
            .query("SELECT VALUE request FROM ONLY $run")
            .bind(("run", run.record_id().clone()))
            .await
            .map_err(StoreError::query(context))?;
        response.take(0).map_err(StoreError::query(context))
    }

    /// Takes up to `max` tasks for `owner` until `lease` from now: first tasks whose holder's
    /// lease expired (a dead worker's: they have waited longest), then queued ones. A task another worker takes at the same
    /// moment is left to it; `Ok(vec![])` then, and the caller asks again a little later.
    pub async fn claim_tasks(
        &self,
        owner: &str,
        max: usize,
        lease: std::time::Duration,
    ) -> StoreResult<Vec<ClaimedTask>> {
        let context = "领取检查任务";
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        let response = self
            .db()
            .query(
                "LET $stale = SELECT VALUE id FROM crawl_task
                     WHERE status = 'leased' AND lease_until < $now LIMIT $max;
                 LET $fresh = IF array::len($stale) < $max {
                     SELECT VALUE id FROM crawl_task WHERE status = 'queued' LIMIT $max - array::len($stale)
                 } ELSE { [] };
                 UPDATE array::concat($stale, $fresh)
                     SET previous_owner = owner, owner = $owner, status = 'leased',
                         lease_until = $until, attempts += 1
                     WHERE status = 'queued' OR (status = 'leased' AND lease_until < $now)
                     RETURN id, run, run.kind AS kind, unit, attempts, previous_owner;",
            )
            .bind(("max", max as i64))
            .bind(("now", now))
            .bind(("until", now + lease_span(lease)))
            .bind(("owner", owner.to_string()))
            .await
            .and_then(|mut response| response.take::<Vec<ClaimRow>>(2));
        // A task another worker took at the same instant: it is theirs; ask again later.
        let Some(rows) = unless_conflict(context, response)? else { return Ok(Vec::new()) };
        rows.into_iter()
            .map(|row| {
                let kind = crawl_kind(&row.kind).ok_or_else(|| StoreError::Corrupt {
                    context,
                    message: format!("任务 {} 的检查类型“{}”无效", record_key(&row.id), row.kind),
                })?;
                let unit = OrgCode::parse(&row.unit).map_err(|e| StoreError::Corrupt {
                    context,
                    message: format!("任务 {} 的单位代码无效：{e}", record_key(&row.id)),
                })?;
                Ok(ClaimedTask {
                    id: row.id,
                    run: OpenRun::new(row.run, kind),
                    unit,
                    attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
                    taken_from: row.previous_owner.filter(|previous| previous != owner),
                })
            })
            .collect()
    }

    /// Registers a worker (or re-registers one of the same name) as alive now.
    pub async fn register_worker(&self, worker: &WorkerRegistration) -> StoreResult<()> {
        self.db()
            .query(
                "UPSERT $id SET name = $name, host = $host, pid = $pid, concurrency = $concurrency,
                    started_at = time::now(), heartbeat_at = time::now(), stopped_at = NONE",
            )
            .bind(("id", worker_id(&worker.name)))
            .bind(("name", worker.name.clone()))
            .bind(("host", worker.host.clone()))
            .bind(("pid", i64::from(worker.pid)))
            .bind(("concurrency", i64::from(worker.concurrency)))
            .await
            .and_then(surrealdb::IndexedResults::check)
            .map_err(StoreError::query("登记检查进程"))?;
        Ok(())
    }

    /// A worker's heartbeat: it is alive, and the leases of `held` (the tasks it is working on)
    /// run for `lease` from now. Only tasks a worker still works on are renewed: a unit whose
    /// crawl died inside the worker lets its lease run out.
    pub async fn heartbeat(
        &self,
        worker: &str,
        held: &[ClaimedTask],
        lease: std::time::Duration,
    ) -> StoreResult<()> {
        let ids: Vec<RecordId> = held.iter().map(|task| task.id.clone()).collect();
        let beat = self
            .db()
            .query(
                "UPDATE $id SET heartbeat_at = time::now();
                 UPDATE $tasks SET lease_until = $until WHERE owner = $owner AND status = 'leased';",
            )
            .bind(("id", worker_id(worker)))
            .bind(("tasks", ids))
            .bind(("owner", worker.to_string()))
            .bind(("until", Utc::now() + lease_span(lease)))
            .await
            .and_then(surrealdb::IndexedResults::check);
        // A task being completed or taken at this instant: the next beat renews the others.
        unless_conflict("更新检查进程心跳", beat)?;
        Ok(())
    }

    /// A worker stopping cleanly: it gives its leases back (queued again at once, with no wait
    /// for their expiry) and is marked stopped.
    pub async fn unregister_worker(&self, worker: &str) -> StoreResult<()> {
        self.transaction("注销检查进程", async |txn| {
            txn.query(
                "UPDATE crawl_task SET status = 'queued', owner = NONE, lease_until = NONE
                    WHERE owner = $owner AND status = 'leased';
                 UPDATE $id SET stopped_at = time::now();",
            )
            .bind(("id", worker_id(worker)))
            .bind(("owner", worker.to_string()))
            .await?
            .check()?;
            Ok(())
        })
        .await
    }

    /// Writes a unit's results and marks its task done, in one transaction, if `owner` still
    /// holds the task. `Ok(false)` when it does not (its lease expired and another worker took
    /// the task): nothing is written, and the other worker's results will count.
    pub async fn complete_task(
        &self,
        task: &ClaimedTask,
        owner: &str,
        results: Option<UnitResults<'_>>,
        summary: &TaskSummary,
    ) -> StoreResult<bool> {
        // The worker's own heartbeat renews this task's lease and may commit in between: that
        // conflict is retried; the holder check inside sees any real change of hands.
        let mut attempt = 1;
        loop {
            let written = self
                .transaction("保存单位检查结果", async |txn| {
                    let mut holder = txn
                        .query("SELECT VALUE owner FROM ONLY $task WHERE status = 'leased'")
                        .bind(("task", task.id.clone()))
                        .await?
                        .check()?;
                    let holder: Option<String> = holder.take(0)?;
                    if holder.as_deref() != Some(owner) {
                        return Ok(false);
                    }
                    if let Some(results) = results {
                        write_unit_results_in(txn, &task.run, results).await?;
                    }
                    txn.query(
                        "UPDATE $task SET status = 'done', done_at = time::now(), lease_until = NONE,
                            summary = $summary",
                    )
                    .bind(("task", task.id.clone()))
                    .bind(("summary", summary.clone()))
                    .await?
                    .check()?;
                    Ok(true)
                })
                .await;
            match written {
                Err(StoreError::Query { source, .. })
                    if attempt < COMPLETE_ATTEMPTS && super::conflict::is_retryable(&source) =>
                {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * u64::from(attempt))).await;
                }
                other => return other,
            }
        }
    }

    /// Gives a task back to the queue at once (its results could not be written), if `owner`
    /// still holds it.
    pub async fn release_task(&self, task: &ClaimedTask, owner: &str) -> StoreResult<()> {
        let released = self
            .db()
            .query(
                "UPDATE $task SET status = 'queued', owner = NONE, lease_until = NONE
                    WHERE owner = $owner AND status = 'leased'",
            )
            .bind(("task", task.id.clone()))
            .bind(("owner", owner.to_string()))
            .await
            .and_then(surrealdb::IndexedResults::check);
        unless_conflict("归还检查任务", released)?;
        Ok(())
    }

    /// Closes a queued run when no task is left queued or leased: `finished`, or `cancelled`
    /// when the requester cancelled it, listing the units whose tasks are done, with the totals
    /// of their summaries. `true` when this call closed it. Safe to call any number of times
    /// from any number of workers: a closed run is left as it is.
    pub async fn close_queued_run_if_done(&self, run: &OpenRun) -> StoreResult<bool> {
        let context = "结束排队检查";
        let response = self
            .db()
            .query(
                "LET $open = (SELECT count() AS n FROM crawl_task
                    WHERE run = $run AND status IN ['queued', 'leased'] GROUP ALL)[0].n ?? 0;
                 LET $done = IF $open = 0 {
                     SELECT unit, summary FROM crawl_task WHERE run = $run AND status = 'done'
                 } ELSE { [] };
                 LET $written = $done.filter(|$t| $t.summary.error == NONE);
                 LET $closed = UPDATE $run SET
                    status = IF cancel_requested = true { 'cancelled' } ELSE { 'finished' },
                    finished_at = time::now(),
                    units = $written.unit,
                    stats = {
                        units: array::len($done),
                        written: array::len($written),
                        reachable: array::len($written.filter(|$t| $t.summary.reachable)),
                        pages: math::sum($written.summary.pages),
                        findings: math::sum($written.summary.findings),
                        entries: math::sum($written.summary.entries),
                        errors: array::len($done) - array::len($written),
                        cancelled: cancel_requested = true,
                        queued: true,
                    }
                    WHERE status = 'running' AND $open = 0
                    RETURN id;
                 RETURN array::len($closed) > 0;",
            )
            .bind(("run", run.record_id().clone()))
            .await
            .and_then(|mut response| {
                let last = response.num_statements().saturating_sub(1);
                response.take::<Option<bool>>(last)
            });
        // Two workers closing at once: the other one did it.
        Ok(unless_conflict(context, response)?.flatten().unwrap_or(false))
    }

    /// Cancels a queued run: tasks not yet taken are dropped, tasks in flight finish, and the
    /// run is then closed as `cancelled`, covering the units done.
    pub async fn cancel_queued_run(&self, run: &OpenRun) -> StoreResult<()> {
        self.transaction("取消排队检查", async |txn| {
            txn.query(
                "UPDATE $run SET cancel_requested = true WHERE status = 'running';
                 UPDATE crawl_task SET status = 'dropped', owner = NONE, lease_until = NONE
                    WHERE run = $run AND (status = 'queued'
                        OR (status = 'leased' AND lease_until < time::now()));",
            )
            .bind(("run", run.record_id().clone()))
            .await?
            .check()?;
            Ok(())
        })
        .await?;
        self.close_queued_run_if_done(run).await?;
        Ok(())
    }

    /// The progress of one queued run, or `None` when `run` is not a queued run.
    pub async fn queue_progress(&self, run: &OpenRun) -> StoreResult<Option<QueueProgress>> {
        let runs =
            self.queued_run_rows("queued = true AND id = $run", ("run", run.record_id().clone())).await?;
        match runs.into_iter().next() {
            Some(row) => Ok(Some(self.progress_of(row).await?)),
            None => Ok(None),
        }
    }

    /// Queued runs still open, and those closed within the last `recent`, newest first.
    pub async fn queued_runs(&self, recent: std::time::Duration) -> StoreResult<Vec<QueueProgress>> {
        let since = Utc::now() - lease_span(recent);
        let rows = self
            .queued_run_rows(
                "queued = true AND (status = 'running' OR finished_at > $since)",
                ("since", since),
            )
            .await?;
        let mut runs = Vec::with_capacity(rows.len());
        for row in rows {
            runs.push(self.progress_of(row).await?);
        }
        Ok(runs)
    }

    async fn queued_run_rows<V: SurrealValue + 'static>(
        &self,
        condition: &str,
        binding: (&'static str, V),
    ) -> StoreResult<Vec<QueuedRunRow>> {
        let context = "读取排队检查进度";
        let query = format!(
            "SELECT id, kind, status, started_at FROM crawl_run WHERE {condition} ORDER BY started_at DESC"
        );
        let mut response = self.db().query(query).bind(binding).await.map_err(StoreError::query(context))?;
        response.take(0).map_err(StoreError::query(context))
    }

    /// A run's task counts by status, in one pass over its tasks.
    async fn progress_of(&self, row: QueuedRunRow) -> StoreResult<QueueProgress> {
        #[derive(Debug, SurrealValue)]
        struct Count {
            status: String,
            taken_over: bool,
            n: i64,
        }
        let context = "读取排队检查进度";
        let mut response = self
            .db()
            .query(
                "SELECT status, previous_owner != NONE AS taken_over, count() AS n FROM crawl_task
                    WHERE run = $run GROUP BY status, taken_over",
            )
            .bind(("run", row.id.clone()))
            .await
            .map_err(StoreError::query(context))?;
        let counts: Vec<Count> = response.take(0).map_err(StoreError::query(context))?;
        let mut progress = QueueProgress {
            run: record_key(&row.id),
            kind: row.kind,
            status: row.status,
            started_at: row.started_at,
            total: 0,
            queued: 0,
            leased: 0,
            done: 0,
            dropped: 0,
            taken_over: 0,
        };
        for c in counts {
            let n = count(c.n);
            progress.total += n;
            if c.taken_over {
                progress.taken_over += n;
            }
            match c.status.as_str() {
                "queued" => progress.queued += n,
                "leased" => progress.leased += n,
                "done" => progress.done += n,
                _ => progress.dropped += n,
            }
        }
        Ok(progress)
    }

    /// Every registered worker not stopped cleanly, newest heartbeat first; `alive` when its
    /// last heartbeat is within `lease`.
    pub async fn workers(&self, lease: std::time::Duration) -> StoreResult<Vec<WorkerStatus>> {
        let context = "读取检查进程";
        let mut response = self
            .db()
            .query(
                "SELECT name, host, pid, concurrency, started_at, heartbeat_at, stopped_at,
                    (SELECT count() AS n FROM crawl_task WHERE owner = $parent.name AND status = 'leased'
                        GROUP ALL)[0].n ?? 0 AS leases,
                    (SELECT count() AS n FROM crawl_task WHERE owner = $parent.name AND status = 'done'
                        GROUP ALL)[0].n ?? 0 AS tasks_done
                 FROM crawl_worker ORDER BY heartbeat_at DESC",
            )
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<WorkerRow> = response.take(0).map_err(StoreError::query(context))?;
        let alive_since = Utc::now() - lease_span(lease);
        Ok(rows
            .into_iter()
            .map(|row| WorkerStatus {
                alive: row.stopped_at.is_none() && row.heartbeat_at > alive_since,
                registration: WorkerRegistration {
                    name: row.name,
                    host: row.host,
                    pid: u32::try_from(row.pid).unwrap_or(0),
                    concurrency: u32::try_from(row.concurrency).unwrap_or(0),
                },
                started_at: row.started_at,
                heartbeat_at: row.heartbeat_at,
                tasks_done: count(row.tasks_done),
                leases: count(row.leases),
                stopped_at: row.stopped_at,
            })
            .collect())
    }

    /// Whether any worker is alive (heartbeat within `lease`): crawls are then queued for the
    /// workers instead of run by the requesting process.
    pub async fn any_worker_alive(&self, lease: std::time::Duration) -> StoreResult<bool> {
        let context = "读取检查进程";
        let mut response = self
            .db()
            .query("RETURN array::len(SELECT VALUE id FROM crawl_worker WHERE stopped_at = NONE AND heartbeat_at > $since LIMIT 1) > 0")
            .bind(("since", Utc::now() - lease_span(lease)))
            .await
            .map_err(StoreError::query(context))?;
        let alive: Option<bool> = response.take(0).map_err(StoreError::query(context))?;
        Ok(alive.unwrap_or(false))
    }

    /// The summaries of a queued run's completed tasks, by unit.
    pub async fn task_summaries(&self, run: &OpenRun) -> StoreResult<Vec<(String, TaskSummary)>> {
        #[derive(Debug, SurrealValue)]
        struct Row {
            unit: String,
            summary: TaskSummary,
        }
        let context = "读取检查任务结果";
        let mut response = self
            .db()
            .query("SELECT unit, summary FROM crawl_task WHERE run = $run AND status = 'done'")
            .bind(("run", run.record_id().clone()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<Row> = response.take(0).map_err(StoreError::query(context))?;
        Ok(rows.into_iter().map(|row| (row.unit, row.summary)).collect())
    }

    /// The run named by its key (`crawl_run:…`), for a worker or a watcher that only has the key.
    pub fn open_run(&self, key: &str, kind: CrawlKind) -> StoreResult<OpenRun> {
        let id = parse_run_key(key).ok_or_else(|| StoreError::Corrupt {
            context: "读取检查记录",
            message: format!("检查记录编号“{key}”无效"),
        })?;
        Ok(OpenRun::new(id, kind))
    }

    /// How a finished run ended, read back (`None` while it runs).
    pub async fn run_end(&self, run: &OpenRun) -> StoreResult<Option<RunEnd>> {
        let context = "读取检查记录";
        let mut response = self
            .db()
            .query("SELECT VALUE status FROM ONLY $run")
            .bind(("run", run.record_id().clone()))
            .await
            .map_err(StoreError::query(context))?;
        let status: Option<String> = response.take(0).map_err(StoreError::query(context))?;
        Ok(match status.as_deref() {
            Some("finished") => Some(RunEnd::Finished),
            Some("cancelled") => Some(RunEnd::Cancelled),
            _ => None,
        })
    }
}

/// The run's kind as the store spells it.
fn crawl_kind(text: &str) -> Option<CrawlKind> {
    [CrawlKind::Site, CrawlKind::Catalogue, CrawlKind::Probe].into_iter().find(|kind| kind.as_str() == text)
}

/// `Ok(None)` when the statement lost a write conflict with a concurrent transaction (the
/// caller's work is then someone else's or can wait), the value otherwise.
fn unless_conflict<T>(context: &'static str, result: surrealdb::Result<T>) -> StoreResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if super::conflict::is_retryable(&error) => Ok(None),
        Err(error) => Err(StoreError::query(context)(error)),
    }
}
