//! One run of one job: take the job's lease (so two runs of a job never overlap, whether the
//! scheduler or `gongkai schedule run` started them), record the start, do the work through
//! the shared jobs in [`crate::jobs`], record the outcome with its counts or error.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::SCHEDULER_ACTOR;
use super::spec::{JobKind, JobSpec};
use crate::assess::LaggardCriteria;
use crate::crawl::catalogue::CatalogueProfile;
use crate::crawl::profile::SiteProfile;
use crate::jobs::{self, AssessRequest, CatalogueCrawl, JobError, ProbeRound, Progress, SiteCrawl};
use crate::rules::{RuleSet, shipped};
use crate::store::{ScheduleRunRecord, Store, StoreError, job_lease};

/// Why a run happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The cron expression fired.
    Schedule,
    /// The one run after downtime (or after a long previous run) for the fires it missed.
    CatchUp,
    /// `gongkai schedule run NAME` or the dashboard's "run now".
    Manual,
}

impl Trigger {
    /// The name stored with the run: `schedule`, `catch_up` or `manual`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::CatchUp => "catch_up",
            Trigger::Manual => "manual",
        }
    }
}

/// How runs are carried out.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The instance running it (lease owner, recorded with the run).
    pub owner: String,
    /// Let crawls reach loopback and private addresses (tests, the demo, intranets).
    pub allow_private: bool,
    /// A job's lease lasts this long and is renewed a third of the way through.
    pub lease_ttl: Duration,
    /// Where relative `rules`/`laggards` paths are looked up (the working directory if `None`).
    pub base_dir: Option<std::path::PathBuf>,
}

impl RunOptions {
    /// Options for `owner`: no private addresses, a one-minute lease, paths from the working directory.
    pub fn new(owner: impl Into<String>) -> Self {
        Self { owner: owner.into(), allow_private: false, lease_ttl: Duration::from_secs(60), base_dir: None }
    }
}

/// A run that could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Another instance holds the job's lease: the job's name and the holder.
    #[error("任务“{0}”正在运行（{1}），同一任务不会重叠运行")]
    Busy(String, String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs `job` once now and records it. The run's own failure (a crawl that could not start, a
/// bad rule file) is recorded as the run's outcome, not returned as an error.
pub async fn run_job(
    store: &Store,
    job: &JobSpec,
    scheduled_for: DateTime<Utc>,
    trigger: Trigger,
    options: &RunOptions,
) -> Result<ScheduleRunRecord, RunError> {
    let lease = job_lease(&job.name);
    let ttl = chrono::Duration::from_std(options.lease_ttl).unwrap_or(chrono::Duration::seconds(60));
    if !store.try_lease(&lease, &options.owner, Utc::now() + ttl).await? {
        let holder = store.lease_holder(&lease).await?.unwrap_or_default();
        return Err(RunError::Busy(job.name.clone(), holder));
    }
    let mut record = ScheduleRunRecord {
        id: String::new(),
        job: job.name.clone(),
        kind: job.kind.as_str().to_string(),
        trigger: trigger.as_str().to_string(),
        scheduled_for,
        started_at: Utc::now(),
        finished_at: None,
        outcome: "running".into(),
        counts: serde_json::json!({}),
        error: None,
        owner: options.owner.clone(),
    };
    let started = store.start_schedule_run(&record).await;
    let id = match started {
        Ok(id) => id,
        Err(error) => {
            let _ = store.release_lease(&lease, &options.owner).await;
            return Err(error.into());
        }
    };
    let work = execute(store, job, options);
    tokio::pin!(work);
    let mut heartbeat = tokio::time::interval(options.lease_ttl / 3);
    heartbeat.tick().await;
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            _ = heartbeat.tick() => {
                if let Err(error) = store.try_lease(&lease, &options.owner, Utc::now() + ttl).await {
                    tracing::warn!("任务 {} 的租约续期失败：{error}", job.name);
                }
            }
        }
    };
    let outcome = outcome.map_err(|e| e.to_string());
    store.finish_schedule_run(&id, outcome.clone()).await?;
    store.release_lease(&lease, &options.owner).await?;
    record.id = id;
    record.finished_at = Some(Utc::now());
    match outcome {
        Ok(counts) => {
            record.outcome = "ok".into();
            record.counts = counts;
        }
        Err(error) => {
            record.outcome = "failed".into();
            record.error = Some(error);
        }
    }
    Ok(record)
}

/// Does the job's work; the counts are recorded with the run.
async fn execute(store: &Store, job: &JobSpec, options: &RunOptions) -> Result<serde_json::Value, JobError> {
    let (day, observed_at) = jobs::crawl_instant(None)?;
    let progress = Progress::default();
    match job.kind {
        JobKind::Probe => {
            let round = ProbeRound {
                profile: site_profile()?,
                units: jobs::select_units(store, &[]).await?,
                day,
                observed_at,
                allow_private: options.allow_private,
                spread: job.spread,
            };
            let summary = jobs::probe_sites(store, round).await?;
            Ok(serde_json::json!({ "run": summary.run, "sites": summary.sites, "failed": summary.failed }))
        }
        JobKind::Crawl => {
            let request = SiteCrawl {
                profile: site_profile()?,
                units: jobs::select_units(store, &[]).await?,
                day,
                observed_at,
                allow_private: options.allow_private,
            };
            let s = jobs::crawl_sites(store, request, &progress).await?.summary;
            Ok(serde_json::json!({
                "run": s.run, "sites": s.sites, "reachable": s.reachable, "pages": s.pages,
                "findings": s.findings, "errors": s.errors.len(),
            }))
        }
        JobKind::Catalogue => {
            let request = CatalogueCrawl {
                profile: catalogue_profile()?,
                units: jobs::select_units(store, &[]).await?,
                day,
                observed_at,
                allow_private: options.allow_private,
            };
            let s = jobs::crawl_catalogues(store, request, &progress).await?.summary;
            Ok(serde_json::json!({
                "run": s.run, "units": s.units, "reachable": s.reachable, "entries": s.entries,
                "findings": s.findings, "errors": s.errors.len(),
            }))
        }
        JobKind::Assess => {
            let (rule_set, source) = load_rules(job.rules.as_deref().unwrap_or_default(), options)?;
            let criteria = match job.laggards.as_deref() {
                None => LaggardCriteria::shipped(),
                Some(path) => {
                    let text = read_text(path, options)?;
                    LaggardCriteria::parse(&text, path).map_err(|e| JobError::BadInput(e.to_string()))?
                }
            };
            let (day, cutoff) = jobs::assessment_cutoff(None)?;
            let request = AssessRequest {
                rule_set,
                source,
                criteria,
                // `<rule set id>-<date>`: named after the date, and distinct per rule set.
                cycle: None,
                day,
                cutoff,
                actor: SCHEDULER_ACTOR.into(),
                save: true,
            };
            let outcome = jobs::assess(store, request, &progress).await?;
            Ok(serde_json::json!({
                "cycle": outcome.cycle, "units": outcome.units, "passed": outcome.passed,
                "vetoed": outcome.vetoed, "laggards": outcome.laggards,
            }))
        }
        JobKind::Recheck => {
            let context = super::recheck::RecheckContext {
                allow_private: options.allow_private,
                site_profile: site_profile()?,
                catalogue_profile: catalogue_profile()?,
            };
            let counts = super::recheck::recheck(store, &context, day, observed_at).await?;
            Ok(serde_json::to_value(counts).unwrap_or_default())
        }
    }
}

fn site_profile() -> Result<SiteProfile, JobError> {
    SiteProfile::builtin().map_err(|e| JobError::BadInput(e.to_string()))
}

fn catalogue_profile() -> Result<CatalogueProfile, JobError> {
    CatalogueProfile::builtin().map_err(|e| JobError::BadInput(e.to_string()))
}

fn read_text(path: &str, options: &RunOptions) -> Result<String, JobError> {
    let full = match &options.base_dir {
        Some(base) if Path::new(path).is_relative() => base.join(path),
        _ => Path::new(path).to_path_buf(),
    };
    match std::fs::read_to_string(&full) {
        Ok(text) => Ok(text),
        // The shipped rule sets are usable by path even where the files are not on disk.
        Err(error) => shipped::at_path(path)
            .map(|file| file.text.to_string())
            .ok_or_else(|| JobError::BadInput(format!("无法读取 {}：{error}", full.display()))),
    }
}

/// The rule set a job names, with its exact text.
fn load_rules(path: &str, options: &RunOptions) -> Result<(RuleSet, String), JobError> {
    let text = read_text(path, options)?;
    let rule_set = RuleSet::parse(&text, path).map_err(|e| JobError::BadInput(e.to_string()))?;
    Ok((rule_set, text))
}
