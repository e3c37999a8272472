//! What the office's jobs page reads besides the jobs of this process: the size of the registry
//! (the default scope of a crawl), and the crawler workers and queued crawls (issue #13): which
//! worker processes are alive, what each holds, and how far each queued run has got.

use std::time::Duration;

use serde::Serialize;

use crate::jobs::DEFAULT_LEASE;
use crate::model::CityClock;
use crate::store::{QueueProgress, Store, StoreResult, WorkerStatus};

/// Queued runs closed longer ago than this are no longer shown.
const RECENT_RUNS: Duration = Duration::from_secs(24 * 3600);

/// One worker row.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerRow {
    /// The worker's registered name (host, process id, suffix).
    pub name: String,
    /// The machine it runs on.
    pub host: String,
    /// 运行中, 失联 (no heartbeat within a lease: killed or cut off) or 已停止.
    pub state: &'static str,
    /// Whether it is alive now.
    pub alive: bool,
    /// Units it crawls at the same time.
    pub concurrency: u32,
    /// Units it holds now.
    pub leases: u64,
    /// Units it completed since it started.
    pub tasks_done: u64,
    /// Its last heartbeat, Beijing time.
    pub heartbeat: String,
}

/// One queued run with its progress.
#[derive(Debug, Clone, Serialize)]
pub struct QueuedRunRow {
    /// The run's progress as stored.
    #[serde(flatten)]
    pub progress: QueueProgress,
    /// When it was queued, Beijing time.
    pub started: String,
    /// Units settled (done or dropped) as a whole percentage, for the bar.
    pub percent: u64,
    /// 进行中, 已完成 or 已取消.
    pub state: &'static str,
}

/// The jobs page's cluster section.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterView {
    /// Workers, alive first.
    pub workers: Vec<WorkerRow>,
    /// Workers alive now; crawls are queued for them when there is at least one.
    pub alive: usize,
    /// Queued runs open now or closed in the last day, newest first.
    pub runs: Vec<QueuedRunRow>,
}

/// The jobs page's reads.
#[derive(Debug, Clone, Serialize)]
pub struct JobsOverview {
    /// Units registered: what a crawl with no unit named covers.
    pub units: usize,
    /// The workers and queued runs.
    pub cluster: ClusterView,
}

/// Reads what the jobs page shows.
pub async fn overview(store: &Store) -> StoreResult<JobsOverview> {
    Ok(JobsOverview { units: store.units().await?.len(), cluster: cluster(store).await? })
}

/// Every registered unit: what a crawl covers when no unit is named.
pub async fn registered_units(store: &Store) -> StoreResult<Vec<crate::model::Unit>> {
    store.units().await
}

/// Reads the workers and queued runs.
pub async fn cluster(store: &Store) -> StoreResult<ClusterView> {
    let clock = CityClock::default();
    let mut workers: Vec<WorkerRow> =
        store.workers(DEFAULT_LEASE).await?.into_iter().map(|worker| worker_row(worker, &clock)).collect();
    workers.sort_by_key(|w| !w.alive);
    let alive = workers.iter().filter(|w| w.alive).count();
    let runs = store
        .queued_runs(RECENT_RUNS)
        .await?
        .into_iter()
        .map(|progress| {
            let settled = progress.done + progress.dropped;
            let percent = (settled * 100).checked_div(progress.total).map_or(100, |p| p.min(100));
            let state = match progress.status.as_str() {
                "running" => "进行中",
                "cancelled" => "已取消",
                _ => "已完成",
            };
            QueuedRunRow { started: clock.format_second(progress.started_at), percent, state, progress }
        })
        .collect();
    Ok(ClusterView { workers, alive, runs })
}

fn worker_row(worker: WorkerStatus, clock: &CityClock) -> WorkerRow {
    let state = if worker.alive {
        "运行中"
    } else if worker.stopped_at.is_some() {
        "已停止"
    } else {
        "失联"
    };
    WorkerRow {
        name: worker.registration.name,
        host: worker.registration.host,
        state,
        alive: worker.alive,
        concurrency: worker.registration.concurrency,
        leases: worker.leases,
        tasks_done: worker.tasks_done,
        heartbeat: clock.format_second(worker.heartbeat_at),
    }
}
