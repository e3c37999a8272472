//! The office's schedule page: the schedule's text in force (saved, else shipped), its recent
//! runs and which server holds the scheduler's lease. Three queries.

use crate::schedule::SHIPPED_SCHEDULE;
use crate::store::{SCHEDULER_LEASE, ScheduleRunRecord, Store};
use crate::web::error::WebError;

/// How many recent runs the page lists.
const RECENT_RUNS: usize = 50;

/// What the schedule page shows, before shaping.
#[derive(Debug)]
pub struct ScheduleOverview {
    /// The saved schedule's TOML, or the shipped one when none was saved.
    pub text: String,
    /// The newest runs first.
    pub runs: Vec<ScheduleRunRecord>,
    /// The instance running the scheduler now, if any.
    pub holder: Option<String>,
}

/// The schedule in force, its recent runs and the lease holder.
pub async fn schedule_overview(store: &Store) -> Result<ScheduleOverview, WebError> {
    let text = match store.saved_schedule().await? {
        Some(text) => text,
        None => SHIPPED_SCHEDULE.to_string(),
    };
    let runs = store.schedule_runs(None, RECENT_RUNS).await?;
    let holder = store.lease_holder(SCHEDULER_LEASE).await?;
    Ok(ScheduleOverview { text, runs, holder })
}
