//! A crawler worker (`gongkai worker`, issue #13): it registers in the store, takes queued
//! units by lease, crawls them, and writes each unit's results in the transaction that marks its
//! task done. A heartbeat renews its leases; when the worker dies they expire and another worker
//! takes the units over. See `store/queue.rs` for why no unit is lost or written twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::JobError;
use super::queue::SiteRequest;
use crate::crawl::site::{CrawlEnv, CrawlProgress, SiteOutcome, crawl_site};
use crate::model::CrawlKind;
use crate::store::{ClaimedTask, Store, TaskSummary, UnitResults, WorkerRegistration};

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Units crawled at the same time.
    pub concurrency: usize,
    /// How long a lease runs unless renewed; heartbeats come three times per lease.
    pub lease: Duration,
    /// How long an idle worker waits before asking for work again.
    pub poll: Duration,
    /// Reach loopback and private addresses, when the run's requester allowed it too.
    pub allow_private: bool,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
            lease: super::queue::DEFAULT_LEASE,
            poll: Duration::from_secs(1),
            allow_private: false,
        }
    }
}

/// What a worker did before it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// The name it registered under.
    pub name: String,
    /// Units crawled and written.
    pub tasks_done: u64,
    /// Units crawled but not written: the lease had passed to another worker.
    pub tasks_lost: u64,
}

/// The worker's shared state: its name, the crawl environment of each run it has seen, its counts.
struct Shared {
    store: Store,
    name: String,
    allow_private: bool,
    envs: Mutex<HashMap<String, Arc<CrawlEnv>>>,
    /// The tasks being worked on, by task key: the heartbeat renews exactly these.
    held: std::sync::Mutex<HashMap<String, ClaimedTask>>,
    progress: CrawlProgress,
    done: AtomicU64,
    lost: AtomicU64,
}

impl Shared {
    fn hold(&self, task: &ClaimedTask) {
        self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(task.key(), task.clone());
    }

    fn held_tasks(&self) -> Vec<ClaimedTask> {
        self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner).values().cloned().collect()
    }
}

/// A task this worker is working on; no longer renewed once dropped.
struct Held<'a> {
    shared: &'a Shared,
    key: String,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.shared.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.key);
    }
}

/// A unique name for this process: host, process id and a random suffix (a restarted process
/// may get the same pid).
pub fn worker_name() -> WorkerRegistration {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let pid = std::process::id();
    let suffix: u16 = rand::random();
    WorkerRegistration { name: format!("{host}-{pid}-{suffix:04x}"), host, pid, concurrency: 0 }
}

/// Runs a worker until `shutdown` fires, then gives its leases back and unregisters. Units in
/// flight at shutdown are abandoned unwritten; they go back to the queue at once.
pub async fn run_worker(
    store: &Store,
    mut registration: WorkerRegistration,
    options: WorkerOptions,
    shutdown: CancellationToken,
) -> Result<WorkerReport, JobError> {
    let concurrency = options.concurrency.max(1);
    registration.concurrency = u32::try_from(concurrency).unwrap_or(u32::MAX);
    store.register_worker(&registration).await?;
    tracing::info!(worker = %registration.name, concurrency, "检查进程已登记，等待任务");
    let shared = Arc::new(Shared {
        store: store.clone(),
        name: registration.name.clone(),
        allow_private: options.allow_private,
        envs: Mutex::new(HashMap::new()),
        held: std::sync::Mutex::new(HashMap::new()),
        progress: CrawlProgress::default(),
        done: AtomicU64::new(0),
        lost: AtomicU64::new(0),
    });
    let beating = tokio::spawn(heartbeat(shared.clone(), options.lease, shutdown.clone()));
    let mut in_flight = JoinSet::new();
    while !shutdown.is_cancelled() {
        let free = concurrency.saturating_sub(in_flight.len());
        let claimed = match store.claim_tasks(&shared.name, free, options.lease).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!("领取任务失败，稍后重试：{error}");
                Vec::new()
            }
        };
        let got_work = !claimed.is_empty();
        for task in claimed {
            if let Some(previous) = &task.taken_from {
                tracing::info!(unit = %task.unit, from = %previous, "接手租约已过期的任务");
            }
            shared.hold(&task);
            in_flight.spawn(process(shared.clone(), task));
        }
        // Wait for a unit to finish, or a while, then look for more work.
        let idle = if got_work && in_flight.len() < concurrency { Duration::ZERO } else { options.poll };
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            () = tokio::time::sleep(idle) => {}
        }
    }
    in_flight.abort_all();
    while in_flight.join_next().await.is_some() {}
    beating.abort();
    store.unregister_worker(&shared.name).await?;
    Ok(WorkerReport {
        name: shared.name.clone(),
        tasks_done: shared.done.load(Ordering::Relaxed),
        tasks_lost: shared.lost.load(Ordering::Relaxed),
    })
}

/// Renews the worker's leases three times per lease until shutdown.
async fn heartbeat(shared: Arc<Shared>, lease: Duration, shutdown: CancellationToken) {
    let every = lease / 3;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let held: Vec<ClaimedTask> = shared.held_tasks();
        if let Err(error) = shared.store.heartbeat(&shared.name, &held, lease).await {
            tracing::warn!("心跳失败：{error}");
        }
    }
}

/// Tries a unit gets in all (over every worker) before it is recorded as failed.
const MAX_ATTEMPTS: u32 = 5;

/// Crawls one unit, writes its results while the lease is still this worker's, and closes the
/// run if this was its last unit. When that fails (the store was unreachable, say) the unit goes
/// back to the queue at once — its lease would otherwise be renewed by this worker's heartbeat
/// for ever — until its tries are spent; it is then recorded as failed, so that the run closes.
async fn process(shared: Arc<Shared>, task: ClaimedTask) {
    // Dropped when this future ends in any way (done, failed, panicked, aborted at shutdown).
    let _held = Held { shared: &shared, key: task.key() };
    let Err(error) = try_process(&shared, &task).await else { return };
    let store = &shared.store;
    let settled = if task.attempts >= MAX_ATTEMPTS {
        tracing::error!(unit = %task.unit, run = %task.run.key(), "任务已尝试 {} 次仍失败：{error}", task.attempts);
        let summary = TaskSummary {
            error: Some(format!("检查进程尝试 {} 次仍失败：{error}", task.attempts)),
            ..TaskSummary::default()
        };
        match store.complete_task(&task, &shared.name, None, &summary).await {
            Ok(_) => store.close_queued_run_if_done(&task.run).await.map(|_| ()),
            Err(e) => Err(e),
        }
    } else {
        tracing::warn!(unit = %task.unit, run = %task.run.key(), "任务未完成，已放回队列：{error}");
        store.release_task(&task, &shared.name).await
    };
    if let Err(error) = settled {
        tracing::warn!(unit = %task.unit, "无法放回任务，租约到期后由其他检查进程接手：{error}");
    }
}

async fn try_process(shared: &Shared, task: &ClaimedTask) -> Result<(), JobError> {
    let store = &shared.store;
    let (outcome, summary) = match task.run.kind() {
        CrawlKind::Site => {
            let env = site_env(shared, task).await?;
            let outcome = match store.unit(&task.unit).await? {
                Some(unit) => crawl_site(&env, &unit, &shared.progress).await,
                None => unchecked(task, "单位已从名录中删除".to_owned()),
            };
            let summary = TaskSummary {
                reachable: outcome.reachable,
                pages: outcome.pages as u64,
                findings: outcome.findings.len() as u64,
                entries: 0,
                error: outcome.error.clone(),
            };
            (outcome, summary)
        }
        other => {
            let error = format!("检查进程不执行“{}”类检查", other.as_str());
            let outcome = unchecked(task, error.clone());
            (outcome, TaskSummary { error: Some(error), ..TaskSummary::default() })
        }
    };
    let results = outcome.error.is_none().then_some(UnitResults {
        unit: &outcome.unit,
        findings: &outcome.findings,
        metrics: &outcome.metrics,
        entries: None,
    });
    if store.complete_task(task, &shared.name, results, &summary).await? {
        shared.done.fetch_add(1, Ordering::Relaxed);
        tracing::info!(unit = %task.unit, pages = summary.pages, findings = summary.findings, "单位检查完成");
    } else {
        shared.lost.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(unit = %task.unit, "租约已被其他检查进程接手，本次结果不保存");
    }
    if store.close_queued_run_if_done(&task.run).await? {
        tracing::info!(run = %task.run.key(), "排队检查全部完成");
    }
    Ok(())
}

/// The crawl environment of the task's run, built once per run from the request it carries.
async fn site_env(shared: &Shared, task: &ClaimedTask) -> Result<Arc<CrawlEnv>, JobError> {
    let key = task.run.key();
    let mut envs = shared.envs.lock().await;
    if let Some(env) = envs.get(&key) {
        return Ok(env.clone());
    }
    let request = shared
        .store
        .queued_run_request(&task.run)
        .await?
        .ok_or_else(|| JobError::Failed(format!("检查记录 {key} 没有排队参数")))?;
    let request = SiteRequest::from_value(request)?;
    let env = CrawlEnv::new(
        request.profile()?,
        request.allow_private && shared.allow_private,
        request.day,
        request.observed_at,
    )
    .map_err(|e| JobError::Failed(e.to_string()))?;
    let env = Arc::new(env);
    // A worker lives for days: keep the environments of a few recent runs only.
    if envs.len() >= 4 {
        envs.clear();
    }
    envs.insert(key, env.clone());
    Ok(env)
}

fn unchecked(task: &ClaimedTask, error: String) -> SiteOutcome {
    SiteOutcome {
        unit: task.unit.clone(),
        findings: Vec::new(),
        metrics: Vec::new(),
        pages: 0,
        reachable: false,
        error: Some(error),
    }
}
