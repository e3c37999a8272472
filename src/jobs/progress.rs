//! How far a running job has got, readable from another task (the dashboard's progress page,
//! the CLI's progress bar) while the job runs; and the one way back in: asking it to stop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::crawl::catalogue::CatalogueProgress;
use crate::crawl::site::CrawlProgress;

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "message", rename_all = "lowercase")]
pub enum JobState {
    /// Still working (or waiting to start).
    Running,
    /// Done; its results are saved.
    Finished,
    /// Stopped on request; what was completed before is saved.
    Cancelled,
    /// Stopped by an error, with its message in Chinese.
    Failed(String),
}

/// The counters the current stage advances.
#[derive(Debug, Clone, Default)]
enum Counters {
    #[default]
    None,
    Sites(Arc<CrawlProgress>),
    Catalogues(Arc<CatalogueProgress>),
}

#[derive(Debug)]
struct Inner {
    started_at: DateTime<Utc>,
    stage: Mutex<(String, usize, Counters)>,
    done: AtomicUsize,
    state: Mutex<JobState>,
    cancel: CancellationToken,
}

/// Shared by the job and its watchers; cloning shares the same progress.
#[derive(Debug, Clone)]
pub struct Progress {
    inner: Arc<Inner>,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                started_at: Utc::now(),
                stage: Mutex::new(("等待开始".to_string(), 0, Counters::None)),
                done: AtomicUsize::new(0),
                state: Mutex::new(JobState::Running),
                cancel: CancellationToken::new(),
            }),
        }
    }
}

/// A point-in-time copy of a job's progress, for JSON and pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgressSnapshot {
    /// The current stage's Chinese label (e.g. 抓取网站).
    pub stage: String,
    /// Units of work in the stage (units to crawl or score).
    pub total: usize,
    /// Units of work finished in the stage.
    pub done: usize,
    /// Pages read in the stage (crawl stages; zero otherwise).
    pub pages: usize,
    /// Findings (site crawl) or catalogue entries read (catalogue crawl).
    pub found: usize,
    /// Where the job stands; flattened as `state` and, on failure, `message`.
    #[serde(flatten)]
    pub state: JobState,
    /// When the job was started, UTC.
    pub started_at: DateTime<Utc>,
    /// Whole seconds since `started_at`.
    pub elapsed_seconds: i64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Progress {
    /// Starts a stage with a known amount of work (units to crawl or score).
    pub fn stage(&self, label: &str, total: usize) {
        *lock(&self.inner.stage) = (label.to_string(), total, Counters::None);
        self.inner.done.store(0, Ordering::Relaxed);
    }

    /// Starts a site-crawl stage and returns the counters the crawler advances.
    pub fn site_stage(&self, total: usize) -> Arc<CrawlProgress> {
        let counters = Arc::new(CrawlProgress::default());
        *lock(&self.inner.stage) = ("抓取网站".to_string(), total, Counters::Sites(counters.clone()));
        counters
    }

    /// Starts a catalogue-crawl stage and returns the counters the crawler advances.
    pub fn catalogue_stage(&self, total: usize) -> Arc<CatalogueProgress> {
        let counters = Arc::new(CatalogueProgress::default());
        *lock(&self.inner.stage) =
            ("抓取公开目录".to_string(), total, Counters::Catalogues(counters.clone()));
        counters
    }

    /// Marks `n` more units of work done in a stage without crawler counters.
    pub fn advance(&self, n: usize) {
        self.inner.done.fetch_add(n, Ordering::Relaxed);
    }

    /// Marks the job as done with its results saved.
    pub fn finish(&self) {
        *lock(&self.inner.state) = JobState::Finished;
    }

    /// Marks the job as stopped on request (after it saved what it had completed).
    pub fn cancelled(&self) {
        *lock(&self.inner.state) = JobState::Cancelled;
    }

    /// Asks the job to stop: crawls start no further unit, abort the units in flight, save
    /// the units already completed and close their run as cancelled. Jobs that cannot stop
    /// part-way (scoring) ignore it.
    pub fn cancel(&self) {
        self.inner.cancel.cancel();
    }

    /// Whether [`Progress::cancel`] was called.
    pub fn is_cancel_requested(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }

    /// The token a job watches to stop when asked.
    pub fn cancel_token(&self) -> &CancellationToken {
        &self.inner.cancel
    }

    /// Marks the job as stopped by an error; `message` is shown to the user (Chinese).
    pub fn fail(&self, message: impl Into<String>) {
        *lock(&self.inner.state) = JobState::Failed(message.into());
    }

    /// Where the job stands now.
    pub fn state(&self) -> JobState {
        lock(&self.inner.state).clone()
    }

    /// A consistent copy of the counters now, for a watcher to show or serialise.
    pub fn snapshot(&self) -> ProgressSnapshot {
        let (stage, total, counters) = lock(&self.inner.stage).clone();
        let (done, pages, found) = match counters {
            Counters::None => (self.inner.done.load(Ordering::Relaxed), 0, 0),
            Counters::Sites(c) => (
                c.sites_done.load(Ordering::Relaxed),
                c.pages.load(Ordering::Relaxed),
                c.findings.load(Ordering::Relaxed),
            ),
            Counters::Catalogues(c) => (
                c.units_done.load(Ordering::Relaxed),
                c.pages.load(Ordering::Relaxed),
                c.entries.load(Ordering::Relaxed),
            ),
        };
        ProgressSnapshot {
            stage,
            total,
            done: done.min(total.max(done)),
            pages,
            found,
            state: self.state(),
            started_at: self.inner.started_at,
            elapsed_seconds: (Utc::now() - self.inner.started_at).num_seconds(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watcher_sees_the_stage_counters_and_the_outcome() {
        let progress = Progress::default();
        let watcher = progress.clone();
        let counters = progress.site_stage(10);
        counters.sites_done.fetch_add(3, Ordering::Relaxed);
        counters.pages.fetch_add(40, Ordering::Relaxed);
        let seen = watcher.snapshot();
        assert_eq!((seen.stage.as_str(), seen.total, seen.done, seen.pages), ("抓取网站", 10, 3, 40));
        assert_eq!(seen.state, JobState::Running);

        progress.stage("评分", 268);
        progress.advance(268);
        progress.fail("数据库不可用");
        let seen = watcher.snapshot();
        assert_eq!((seen.total, seen.done, seen.pages), (268, 268, 0), "a new stage resets the counters");
        assert_eq!(seen.state, JobState::Failed("数据库不可用".into()));
        let json = serde_json::to_value(&seen).expect("json");
        assert_eq!(json["state"], "failed");
        assert_eq!(json["message"], "数据库不可用");
    }
}
