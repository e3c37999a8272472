//! The office edits the schedule (checked before it is saved) and runs one of its jobs now, in
//! the background.

use chrono::Utc;

use super::Refused;
use crate::schedule::{self, RunOptions, Schedule, Trigger};
use crate::store::Store;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;

/// Saves `text` as the schedule if it parses (the store writes the audit record); a schedule
/// that does not parse is refused with the parser's message.
pub async fn save_schedule(
    store: &Store,
    user: &CurrentUser,
    text: &str,
) -> Result<Result<(), Refused>, WebError> {
    if let Err(error) = Schedule::parse(text, "提交的定时任务表") {
        return Ok(Err(Refused(error.to_string())));
    }
    store.save_schedule(text, &user.account.username).await?;
    Ok(Ok(()))
}

/// Starts the job named `name` of the schedule in force, once, in the background; answers the
/// job's name. A name the schedule does not have is refused.
pub async fn run_now(
    store: &Store,
    user: &CurrentUser,
    name: &str,
    allow_private: bool,
) -> Result<Result<String, Refused>, WebError> {
    let current = schedule::current_schedule(store).await.map_err(|e| WebError::BadRequest(e.to_string()))?;
    let Some(job) = current.job(name).cloned() else {
        return Ok(Err(Refused(format!("没有名为“{name}”的任务"))));
    };
    let mut options = RunOptions::new(schedule::instance_id(&format!("web:{}", user.account.username)));
    options.allow_private = allow_private;
    let store = store.clone();
    let started = job.name.clone();
    tokio::spawn(async move {
        if let Err(error) = schedule::run_job(&store, &job, Utc::now(), Trigger::Manual, &options).await {
            tracing::warn!("手动运行任务 {} 失败：{error}", job.name);
        }
    });
    Ok(Ok(started))
}
