//! Scheduled jobs (DESIGN.md §3, §6): the schedule is data (`crawlers/schedule.toml`, or the
//! copy the office edited in the dashboard), `gongkai serve` runs the loop, and every run is
//! recorded. One scheduler per database: instances compete for a lease in the store.
//!
//! `spec` parses the schedule; `scheduler` is the loop (lease, catch-up, no overlap); `run`
//! does one run of one job through the shared jobs in [`crate::jobs`]; `recheck` closes or
//! flags the findings whose rectification deadline has passed.

mod recheck;
mod run;
mod scheduler;
mod spec;

pub use recheck::{RecheckContext, RecheckCounts, recheck};
pub use run::{RunError, RunOptions, Trigger, run_job};
pub use scheduler::{Due, SchedulerConfig, SchedulerHandle, current_schedule, due, spawn};
pub use spec::{JobKind, JobSpec, SHIPPED_SCHEDULE, Schedule, ScheduleError};

/// Who the audit log names for scheduled work (runs and rechecks alike).
pub const SCHEDULER_ACTOR: &str = "scheduler";

/// The schedule in force could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleLoadError {
    /// The saved schedule could not be read from the store.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The schedule (saved, given or shipped) is invalid.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
}

/// A name for this instance as a lease owner: process id and a random part, so two instances
/// on one machine (or one restarted) never share an identity.
pub fn instance_id(prefix: &str) -> String {
    format!("{prefix}:{}:{:08x}", std::process::id(), rand::random::<u32>())
}
