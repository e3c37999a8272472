//! Crawls and assessments started from the dashboard run in the background; the office
//! watches their progress on a page that refreshes itself, and scripts read it as JSON.
//!
//! The board is kept in memory, like the login throttle: a restart forgets the list, but
//! never a result — every job writes what it found to the store, with its own audit record,
//! before it counts as finished. Only the last [`KEEP_JOBS`] jobs are remembered, and at most
//! one job of each kind runs at a time, so two crawls never compete for the same sites and
//! two assessments never race to save the same cycle.
//!
//! A job started with a way to stop it (a crawl) can be cancelled from the board: the board
//! only asks; the job stops at its own pace, saves what it completed and ends as cancelled.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// How many jobs the board remembers (running ones are never forgotten).
pub const KEEP_JOBS: usize = 20;

/// What a job does; one of each kind may run at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Website and/or catalogue checks.
    Crawl,
    /// Scoring every unit under a rule set and saving the cycle.
    Assess,
}

impl JobKind {
    /// The kind's Chinese name, for pages and the "already running" message.
    pub fn label_zh(self) -> &'static str {
        match self {
            JobKind::Crawl => "网站与目录检查",
            JobKind::Assess => "评分",
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Still working; its progress is live.
    Running,
    /// Done, its results saved.
    Finished,
    /// Stopped on request; what it completed before is saved.
    Cancelled,
    /// Stopped by an error; the view's `error` says why.
    Failed,
}

/// A link a finished job points to (the new ranking, the findings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct JobLink {
    /// Where the link goes, a path on this site.
    pub href: String,
    /// The link's text, in Chinese.
    pub label: String,
}

/// What a finished job reports: sentences for people, the numbers for scripts.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct JobSummary {
    /// What was done, one Chinese sentence a line.
    pub lines: Vec<String>,
    /// Pages to read the results on.
    pub links: Vec<JobLink>,
    /// The job's own outcome as JSON (e.g. the assessment's totals), for scripts.
    pub data: serde_json::Value,
    /// The job stopped because it was cancelled (its state says so; not repeated here).
    #[serde(skip)]
    pub cancelled: bool,
}

/// A job as pages and the status JSON show it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct JobView {
    /// The board's number for the job, counted from 1 since the server started.
    pub id: u64,
    /// What the job does.
    pub kind: JobKind,
    /// `kind` in Chinese.
    pub kind_label: &'static str,
    /// What was asked for, in words ("网站与公开目录 · 全部单位 · 截至 2026-11-20").
    pub title: String,
    /// The account that started it.
    pub started_by: String,
    /// When it was started, UTC.
    pub started_at: DateTime<Utc>,
    /// When it ended (finished, cancelled or failed), UTC; none while running.
    pub finished_at: Option<DateTime<Utc>>,
    /// Whole seconds from start to end, or to now while running.
    pub elapsed_seconds: i64,
    /// Where the job stands.
    pub state: JobState,
    /// The job's own progress snapshot (stage, done/total, pages, findings, …).
    pub progress: serde_json::Value,
    /// What it reports, once it ended without error.
    pub summary: Option<JobSummary>,
    /// Why it failed, in Chinese; none unless it failed.
    pub error: Option<String>,
    /// Running, stoppable, and not yet asked to stop: pages offer the cancel button.
    #[serde(skip)]
    pub cancellable: bool,
    /// Asked to stop and still winding down.
    #[serde(skip)]
    pub cancel_requested: bool,
}

/// Why a job could not be cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CancelRefused {
    /// No remembered job has that id.
    #[error("没有这个任务")]
    NotFound,
    /// The job has already ended.
    #[error("任务已经结束，无需取消")]
    NotRunning,
    /// The job was started without a way to stop it (an assessment).
    #[error("这类任务不能中途取消")]
    NotCancellable,
    /// A stop was already asked for; the job is winding down.
    #[error("已经请求取消，任务正在停止")]
    AlreadyRequested,
}

/// Asks a running job to stop.
type Canceller = Arc<dyn Fn() + Send + Sync>;

/// A second job of a kind that is already running was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("已有一个{}任务正在运行（任务 {running}），请等它结束后再开始", .kind.label_zh())]
pub struct JobBusy {
    /// The kind asked for.
    pub kind: JobKind,
    /// The id of the job of that kind still running.
    pub running: u64,
}

/// Reads a running job's progress; called whenever someone looks.
type Snapshot = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

struct Job {
    id: u64,
    kind: JobKind,
    title: String,
    started_by: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    snapshot: Snapshot,
    cancel: Option<Canceller>,
    cancel_requested: bool,
    outcome: Option<Result<JobSummary, String>>,
}

impl Job {
    fn view(&self, now: DateTime<Utc>) -> JobView {
        let state = match &self.outcome {
            None => JobState::Running,
            Some(Ok(summary)) if summary.cancelled => JobState::Cancelled,
            Some(Ok(_)) => JobState::Finished,
            Some(Err(_)) => JobState::Failed,
        };
        let running = state == JobState::Running;
        let end = self.finished_at.unwrap_or(now);
        JobView {
            id: self.id,
            kind: self.kind,
            kind_label: self.kind.label_zh(),
            title: self.title.clone(),
            started_by: self.started_by.clone(),
            started_at: self.started_at,
            finished_at: self.finished_at,
            elapsed_seconds: (end - self.started_at).num_seconds().max(0),
            state,
            progress: (self.snapshot)(),
            summary: self.outcome.as_ref().and_then(|o| o.as_ref().ok().cloned()),
            error: self.outcome.as_ref().and_then(|o| o.as_ref().err().cloned()),
            cancellable: running && self.cancel.is_some() && !self.cancel_requested,
            cancel_requested: running && self.cancel_requested,
        }
    }
}

#[derive(Default)]
struct Board {
    next_id: u64,
    /// Oldest first.
    jobs: VecDeque<Job>,
}

impl Board {
    /// Forgets the oldest finished jobs beyond [`KEEP_JOBS`].
    fn trim(&mut self) {
        while self.jobs.len() > KEEP_JOBS {
            match self.jobs.iter().position(|job| job.outcome.is_some()) {
                Some(oldest_finished) => {
                    self.jobs.remove(oldest_finished);
                }
                None => break,
            }
        }
    }
}

/// The background jobs of this server process. Cheap to clone: clones share the board.
#[derive(Clone, Default)]
pub struct JobBoard {
    board: Arc<Mutex<Board>>,
}

impl std::fmt::Debug for JobBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobBoard").field("jobs", &self.lock().jobs.len()).finish()
    }
}

impl JobBoard {
    fn lock(&self) -> std::sync::MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the job `work` makes from its id, in its own task, unless a job of the same kind
    /// is running; returns the new job's id. (The work gets the id so that its first step can
    /// write the audit record naming the job: a job never runs unaudited.) `snapshot` is read
    /// whenever the job is looked at, while it runs and after. A job whose task panics is
    /// recorded as failed, never left "running" for ever.
    pub fn start<W>(
        &self,
        kind: JobKind,
        title: impl Into<String>,
        started_by: impl Into<String>,
        snapshot: impl Fn() -> serde_json::Value + Send + Sync + 'static,
        work: impl FnOnce(u64) -> W,
    ) -> Result<u64, JobBusy>
    where
        W: Future<Output = Result<JobSummary, String>> + Send + 'static,
    {
        self.start_job(kind, title.into(), started_by.into(), Arc::new(snapshot), None, work)
    }

    /// Like [`JobBoard::start`], for a job that stops when `cancel` is called (see
    /// [`JobBoard::cancel`]); the job ends with a summary marked `cancelled`.
    pub fn start_cancellable<W>(
        &self,
        kind: JobKind,
        title: impl Into<String>,
        started_by: impl Into<String>,
        snapshot: impl Fn() -> serde_json::Value + Send + Sync + 'static,
        cancel: impl Fn() + Send + Sync + 'static,
        work: impl FnOnce(u64) -> W,
    ) -> Result<u64, JobBusy>
    where
        W: Future<Output = Result<JobSummary, String>> + Send + 'static,
    {
        self.start_job(
            kind,
            title.into(),
            started_by.into(),
            Arc::new(snapshot),
            Some(Arc::new(cancel)),
            work,
        )
    }

    fn start_job<W>(
        &self,
        kind: JobKind,
        title: String,
        started_by: String,
        snapshot: Snapshot,
        cancel: Option<Canceller>,
        work: impl FnOnce(u64) -> W,
    ) -> Result<u64, JobBusy>
    where
        W: Future<Output = Result<JobSummary, String>> + Send + 'static,
    {
        let id = {
            let mut board = self.lock();
            if let Some(running) = board.jobs.iter().find(|job| job.kind == kind && job.outcome.is_none()) {
                return Err(JobBusy { kind, running: running.id });
            }
            board.next_id += 1;
            let id = board.next_id;
            board.jobs.push_back(Job {
                id,
                kind,
                title,
                started_by,
                started_at: Utc::now(),
                finished_at: None,
                snapshot,
                cancel,
                cancel_requested: false,
                outcome: None,
            });
            board.trim();
            id
        };
        let task = tokio::spawn(work(id));
        let board = self.clone();
        tokio::spawn(async move {
            let outcome = match task.await {
                Ok(outcome) => outcome,
                Err(join_error) => {
                    tracing::error!(job = id, error = %join_error, "background job aborted");
                    Err("任务异常中止，请查看服务器日志".to_string())
                }
            };
            board.finish(id, outcome);
        });
        Ok(id)
    }

    fn finish(&self, id: u64, outcome: Result<JobSummary, String>) {
        let mut board = self.lock();
        if let Some(job) = board.jobs.iter_mut().find(|job| job.id == id) {
            job.finished_at = Some(Utc::now());
            job.outcome = Some(outcome);
        }
        board.trim();
    }

    /// Asks a running job to stop; returns the job as it stands. The job itself decides when
    /// it has stopped (it saves what it completed first), so it may show as running, with the
    /// request noted, for a moment after this returns.
    pub fn cancel(&self, id: u64) -> Result<JobView, CancelRefused> {
        let mut board = self.lock();
        let job = board.jobs.iter_mut().find(|job| job.id == id).ok_or(CancelRefused::NotFound)?;
        if job.outcome.is_some() {
            return Err(CancelRefused::NotRunning);
        }
        if job.cancel_requested {
            return Err(CancelRefused::AlreadyRequested);
        }
        let cancel = job.cancel.clone().ok_or(CancelRefused::NotCancellable)?;
        job.cancel_requested = true;
        cancel();
        Ok(job.view(Utc::now()))
    }

    /// One remembered job.
    pub fn job(&self, id: u64) -> Option<JobView> {
        let now = Utc::now();
        self.lock().jobs.iter().find(|job| job.id == id).map(|job| job.view(now))
    }

    /// Every remembered job, newest first.
    pub fn jobs(&self) -> Vec<JobView> {
        let now = Utc::now();
        self.lock().jobs.iter().rev().map(|job| job.view(now)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(lines: &[&str]) -> JobSummary {
        JobSummary {
            lines: lines.iter().map(std::string::ToString::to_string).collect(),
            ..Default::default()
        }
    }

    async fn settle(board: &JobBoard, id: u64) -> JobView {
        for _ in 0..200 {
            let view = board.job(id).expect("remembered");
            if view.state != JobState::Running {
                return view;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("job {id} did not finish");
    }

    #[tokio::test]
    async fn one_job_of_a_kind_runs_at_a_time() {
        let board = JobBoard::default();
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let first = board
            .start(
                JobKind::Crawl,
                "a",
                "office1",
                || serde_json::json!({"stage": "x"}),
                |_| async move {
                    let _ = wait.await;
                    Ok(done(&["ok"]))
                },
            )
            .expect("first starts");
        let refused = board.start(
            JobKind::Crawl,
            "b",
            "office1",
            || serde_json::json!({}),
            |_| async { Ok(JobSummary::default()) },
        );
        assert_eq!(refused, Err(JobBusy { kind: JobKind::Crawl, running: first }));
        let other_kind = board
            .start(
                JobKind::Assess,
                "c",
                "office1",
                || serde_json::json!({}),
                |_| async { Ok(done(&["scored"])) },
            )
            .expect("another kind may run alongside");
        assert_eq!(board.job(first).expect("listed").state, JobState::Running);
        assert_eq!(board.job(first).expect("listed").progress["stage"], "x");
        release.send(()).expect("job waits");
        let view = settle(&board, first).await;
        assert_eq!(view.state, JobState::Finished);
        assert_eq!(view.summary.expect("summary").lines, vec!["ok".to_string()]);
        assert_eq!(settle(&board, other_kind).await.state, JobState::Finished);
        assert!(
            board
                .start(
                    JobKind::Crawl,
                    "d",
                    "office1",
                    || serde_json::json!({}),
                    |_| async { Ok(JobSummary::default()) }
                )
                .is_ok()
        );
    }

    #[tokio::test]
    async fn failures_and_panics_end_the_job() {
        let board = JobBoard::default();
        let failed = board
            .start(
                JobKind::Assess,
                "a",
                "office1",
                || serde_json::json!({}),
                |_| async { Err("规则集无效".to_string()) },
            )
            .expect("starts");
        let view = settle(&board, failed).await;
        assert_eq!(view.state, JobState::Failed);
        assert_eq!(view.error.as_deref(), Some("规则集无效"));

        let panicked = board
            .start(
                JobKind::Assess,
                "b",
                "office1",
                || serde_json::json!({}),
                |_| async {
                    if true {
                        panic!("boom");
                    }
                    Ok(JobSummary::default())
                },
            )
            .expect("the failed job no longer blocks");
        let view = settle(&board, panicked).await;
        assert_eq!(view.state, JobState::Failed);
        assert!(view.finished_at.is_some());
    }

    #[tokio::test]
    async fn a_cancellable_job_is_asked_once_and_ends_cancelled() {
        let board = JobBoard::default();
        let token = tokio_util::sync::CancellationToken::new();
        let (asked, watched) = (token.clone(), token.clone());
        let id = board
            .start_cancellable(
                JobKind::Crawl,
                "a",
                "office1",
                || serde_json::json!({}),
                move || asked.cancel(),
                |_| async move {
                    watched.cancelled().await;
                    Ok(JobSummary { lines: vec!["已取消".into()], cancelled: true, ..Default::default() })
                },
            )
            .expect("starts");
        assert!(board.job(id).expect("listed").cancellable);
        let view = board.cancel(id).expect("asked");
        assert!(!view.cancellable && view.cancel_requested, "the button goes once asked");
        assert_eq!(board.cancel(id).err(), Some(CancelRefused::AlreadyRequested));
        let view = settle(&board, id).await;
        assert_eq!(view.state, JobState::Cancelled);
        assert_eq!(serde_json::to_value(&view).expect("json")["state"], "cancelled");
        assert_eq!(board.cancel(id).err(), Some(CancelRefused::NotRunning));
        assert_eq!(board.cancel(99).err(), Some(CancelRefused::NotFound));

        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let scoring = board
            .start(
                JobKind::Assess,
                "b",
                "office1",
                || serde_json::json!({}),
                |_| async move {
                    let _ = wait.await;
                    Ok(JobSummary::default())
                },
            )
            .expect("starts");
        assert_eq!(board.cancel(scoring).err(), Some(CancelRefused::NotCancellable));
        release.send(()).expect("job waits");
        assert_eq!(settle(&board, scoring).await.state, JobState::Finished);
    }

    #[tokio::test]
    async fn only_the_newest_jobs_are_remembered() {
        let board = JobBoard::default();
        let mut last = 0;
        for n in 0..(KEEP_JOBS + 5) {
            last = board
                .start(
                    JobKind::Assess,
                    format!("job {n}"),
                    "office1",
                    || serde_json::json!({}),
                    |_| async { Ok(JobSummary::default()) },
                )
                .expect("previous one finished");
            settle(&board, last).await;
        }
        let jobs = board.jobs();
        assert_eq!(jobs.len(), KEEP_JOBS);
        assert_eq!(jobs[0].id, last, "newest first");
        assert!(board.job(1).is_none(), "the oldest were forgotten");
    }
}
