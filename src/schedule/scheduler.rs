//! The scheduler loop that `gongkai serve` runs. Every instance runs the loop, but only the
//! holder of the `scheduler` lease in the store starts jobs: the lease is renewed on every
//! tick and taken over by another instance once it has expired (a crash, a lost network).
//!
//! Each job remembers the fire time of its last scheduled run (in the store), so after
//! downtime the fires it missed collapse into one catch-up run. A job whose previous run is
//! still going is not started again; its missed fires become one run after it finishes.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::run::{RunError, RunOptions, Trigger, run_job};
use super::spec::{JobSpec, Schedule};
use crate::store::{SCHEDULER_LEASE, Store, StoreError, job_lease};

/// How the scheduler runs.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// How each job run is carried out (owner, private addresses, job lease).
    pub run: RunOptions,
    /// The scheduler lease lasts this long unless renewed.
    pub lease_ttl: Duration,
    /// How often the loop wakes up: renews the lease and starts due jobs.
    pub tick: Duration,
}

impl SchedulerConfig {
    /// The defaults: a 30-second scheduler lease, a one-second tick.
    pub fn new(run: RunOptions) -> Self {
        Self { run, lease_ttl: Duration::from_secs(30), tick: Duration::from_secs(1) }
    }
}

/// A fire that is due now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The latest fire time not after now.
    pub scheduled_for: DateTime<Utc>,
    /// How many fire times since the anchor it stands for (1 = on time).
    pub fires: usize,
}

/// At most this many fire times are counted (a 1-second schedule after a month of downtime).
const MAX_COUNTED_FIRES: usize = 1_000_000;

/// The fire due at `now` for a job last run for `anchor`: the latest fire time in
/// `(anchor, now]`, standing for all of them.
pub fn due(job: &JobSpec, zone: Tz, anchor: DateTime<Utc>, now: DateTime<Utc>) -> Option<Due> {
    let mut latest = None;
    let mut fires = 0;
    for fire in job.fires_after(anchor, zone) {
        if fire > now || fires >= MAX_COUNTED_FIRES {
            break;
        }
        latest = Some(fire);
        fires += 1;
    }
    latest.map(|scheduled_for| Due { scheduled_for, fires })
}

/// The schedule in force: the one saved in the store (edited by the office, or named by
/// `serve --schedule`), else the shipped one.
pub async fn current_schedule(store: &Store) -> Result<Schedule, super::ScheduleLoadError> {
    match store.saved_schedule().await? {
        Some(text) => Ok(Schedule::parse(&text, "已保存的定时任务表")?),
        None => Ok(Schedule::shipped()?),
    }
}

/// A running scheduler; stop it with [`SchedulerHandle::stop`].
pub struct SchedulerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SchedulerHandle {
    /// Stops the loop, interrupts running jobs (their runs are recorded as failed) and gives
    /// the lease up so another instance can take over at once.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts the scheduler loop on the current runtime.
pub fn spawn(store: Store, config: SchedulerConfig) -> SchedulerHandle {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run_loop(store, config, stopped));
    SchedulerHandle { stop, task }
}

struct LoopState {
    holding: bool,
    /// Per job: the fire time of its last scheduled run.
    anchors: HashMap<String, DateTime<Utc>>,
    running: HashMap<String, JoinHandle<()>>,
    schedule: Option<Schedule>,
}

async fn run_loop(store: Store, config: SchedulerConfig, mut stopped: watch::Receiver<bool>) {
    let mut state =
        LoopState { holding: false, anchors: HashMap::new(), running: HashMap::new(), schedule: None };
    let mut ticker = tokio::time::interval(config.tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stopped.changed() => break,
        }
        if let Err(error) = tick(&store, &config, &mut state).await {
            tracing::warn!("调度器：{error}");
        }
    }
    for (name, task) in state.running.drain() {
        task.abort();
        let _ = task.await;
        let _ = store.release_lease(&job_lease(&name), &config.run.owner).await;
    }
    if let Err(error) = store.interrupt_runs(&config.run.owner, "服务停止，运行中断").await {
        tracing::warn!("调度器：{error}");
    }
    let _ = store.release_lease(SCHEDULER_LEASE, &config.run.owner).await;
}

async fn tick(store: &Store, config: &SchedulerConfig, state: &mut LoopState) -> Result<(), StoreError> {
    let ttl = chrono::Duration::from_std(config.lease_ttl).unwrap_or(chrono::Duration::seconds(30));
    let held = store.try_lease(SCHEDULER_LEASE, &config.run.owner, Utc::now() + ttl).await?;
    if !held {
        if state.holding {
            tracing::warn!("调度器：租约已被其他实例接管");
        }
        state.holding = false;
        state.anchors.clear();
        return Ok(());
    }
    match current_schedule(store).await {
        Ok(schedule) => state.schedule = Some(schedule),
        Err(error) => tracing::warn!("调度器：{error}；继续使用上一个有效的任务表"),
    }
    let Some(schedule) = state.schedule.clone() else { return Ok(()) };
    if !state.holding {
        // Taking over: pick up where the store says each job was, and close the runs that a
        // crashed or stopped instance left "running".
        let names: Vec<String> = schedule.jobs.iter().map(|j| j.name.clone()).collect();
        state.anchors = store.last_scheduled(&names).await?.into_iter().collect();
        store.fail_abandoned_runs("运行中断（实例停止或崩溃）").await?;
        state.holding = true;
    }
    state.running.retain(|_, task| !task.is_finished());
    let now = Utc::now();
    for job in &schedule.jobs {
        let anchor = *state.anchors.entry(job.name.clone()).or_insert(now);
        if state.running.contains_key(&job.name) {
            continue;
        }
        let Some(due) = due(job, schedule.time_zone, anchor, now) else { continue };
        let late = now - due.scheduled_for > chrono::Duration::from_std(config.tick * 2).unwrap_or_default();
        let trigger = if due.fires > 1 || late { Trigger::CatchUp } else { Trigger::Schedule };
        state.anchors.insert(job.name.clone(), due.scheduled_for);
        let name = job.name.clone();
        let (store, job, options) = (store.clone(), job.clone(), config.run.clone());
        let task = tokio::spawn(async move {
            match run_job(&store, &job, due.scheduled_for, trigger, &options).await {
                Ok(record) if record.outcome == "failed" => {
                    tracing::warn!("任务 {} 运行失败：{}", job.name, record.error.unwrap_or_default());
                }
                Ok(_) => {}
                Err(RunError::Busy(name, holder)) => {
                    tracing::info!("任务 {name} 仍由 {holder} 运行，跳过本次");
                }
                Err(error) => tracing::warn!("任务 {} 无法运行：{error}", job.name),
            }
        });
        state.running.insert(name, task);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    use crate::model::CityClock;

    fn job(cron: &str) -> JobSpec {
        let text = format!("[[job]]\nname = \"j\"\nkind = \"probe\"\ncron = \"{cron}\"\n");
        Schedule::parse(&text, "t").expect("valid").jobs.remove(0)
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, h, m, s).single().expect("time")
    }

    #[test]
    fn nothing_is_due_before_the_next_fire() {
        let hourly = job("0 0 * * * *");
        assert_eq!(due(&hourly, CityClock::DEFAULT_ZONE, at(3, 0, 0), at(3, 59, 59)), None);
        let on_time = due(&hourly, CityClock::DEFAULT_ZONE, at(3, 0, 0), at(4, 0, 0)).expect("due");
        assert_eq!((on_time.scheduled_for, on_time.fires), (at(4, 0, 0), 1));
    }

    #[test]
    fn downtime_collapses_into_one_run_for_the_latest_missed_fire() {
        let hourly = job("0 0 * * * *");
        // Down from 03:00 to 09:30: six fires missed, one catch-up run for 09:00.
        let caught = due(&hourly, CityClock::DEFAULT_ZONE, at(3, 0, 0), at(9, 30, 0)).expect("due");
        assert_eq!((caught.scheduled_for, caught.fires), (at(9, 0, 0), 6));
    }
}
