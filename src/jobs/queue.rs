//! The requester's side of a queued crawl (issue #13): when worker processes are alive, a site
//! crawl is queued for them instead of run here, and this module watches the run until the
//! workers have closed it, then reads back the same report a local crawl returns. With no
//! worker alive nothing changes: the requesting process crawls itself, so a city needs one
//! process only.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::crawl::{SiteCrawl, SiteCrawlReport, SiteSummary, crawl_sites_here};
use super::{JobError, Progress};
use crate::crawl::profile::SiteProfile;
use crate::crawl::site::SiteOutcome;
use crate::model::{CrawlKind, Finding, OrgCode};
use crate::store::{OpenRun, Store, TaskSummary};

/// How long a worker's lease runs unless its heartbeat renews it, and how recent a heartbeat
/// must be for the worker to count as alive. A killed worker's units wait this long at most
/// before another worker takes them over.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// How often the requester looks at a queued run's progress.
const WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// What every worker needs to repeat the requester's site crawl exactly: the same profile
/// (as text), the same day and instant, the same permission to reach private addresses.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SiteRequest {
    /// The crawl profile's TOML text.
    pub profile: String,
    /// The day the crawl is "as of".
    pub day: NaiveDate,
    /// The instant findings are stamped with.
    pub observed_at: DateTime<Utc>,
    /// The requester allowed loopback and private addresses (a worker also needs its own
    /// `--allow-private` to reach them).
    pub allow_private: bool,
}

impl SiteRequest {
    /// The request of a queued run, as [`Store::queued_run_request`] returns it.
    pub fn from_value(value: serde_json::Value) -> Result<Self, JobError> {
        serde_json::from_value(value).map_err(|e| JobError::Failed(format!("排队检查的参数无法读取：{e}")))
    }

    /// The profile, parsed and validated again on the worker.
    pub fn profile(&self) -> Result<SiteProfile, JobError> {
        SiteProfile::parse(&self.profile, "排队检查的抓取配置").map_err(|e| JobError::Failed(e.to_string()))
    }
}

/// Crawls the units' websites and records one run: through the crawler workers when at least
/// one is alive (this process then only watches), in this process otherwise. Either way the
/// report is the same, and cancelling `progress` stops the crawl.
pub async fn crawl_sites(
    store: &Store,
    request: SiteCrawl,
    progress: &Progress,
) -> Result<SiteCrawlReport, JobError> {
    match queue_site_crawl(store, &request).await? {
        Some(run) => watch_site_crawl(store, run, request, progress).await,
        None => crawl_sites_here(store, request, progress).await,
    }
}

/// Queues `request` for the workers when at least one is alive and the profile can travel
/// (it was read from a file or the built-in text, not changed in code afterwards); `None` when
/// the crawl should run here.
async fn queue_site_crawl(store: &Store, request: &SiteCrawl) -> Result<Option<OpenRun>, JobError> {
    if request.units.is_empty() || !store.any_worker_alive(DEFAULT_LEASE).await? {
        return Ok(None);
    }
    let travels = SiteProfile::parse(&request.profile.source, "queued")
        .is_ok_and(|reparsed| reparsed == request.profile);
    if !travels {
        tracing::warn!("抓取配置在读取后被程序修改，无法交给检查进程：本进程自行抓取");
        return Ok(None);
    }
    let payload = SiteRequest {
        profile: request.profile.source.clone(),
        day: request.day,
        observed_at: request.observed_at,
        allow_private: request.allow_private,
    };
    let payload = serde_json::to_value(payload).map_err(|e| JobError::Failed(e.to_string()))?;
    let codes: Vec<OrgCode> = request.units.iter().map(|u| u.code.clone()).collect();
    let run = store.enqueue_crawl_run(CrawlKind::Site, request.observed_at, payload, &codes).await?;
    tracing::info!(run = %run.key(), units = codes.len(), "网站检查已排队，由检查进程执行");
    Ok(Some(run))
}

/// Follows a queued site run until the workers close it, advancing `progress`; cancelling
/// `progress` cancels the run (tasks not taken are dropped, tasks in flight finish). Returns
/// the report a local crawl of the same units would have returned.
async fn watch_site_crawl(
    store: &Store,
    run: OpenRun,
    request: SiteCrawl,
    progress: &Progress,
) -> Result<SiteCrawlReport, JobError> {
    let counters = progress.site_stage(request.units.len());
    let mut cancel_sent = false;
    loop {
        if progress.is_cancel_requested() && !cancel_sent {
            store.cancel_queued_run(&run).await?;
            cancel_sent = true;
        }
        let Some(state) = store.queue_progress(&run).await? else {
            return Err(JobError::Failed(format!("排队检查 {} 不存在", run.key())));
        };
        let settled = usize::try_from(state.done + state.dropped).unwrap_or(usize::MAX);
        counters.sites_done.store(settled, Ordering::Relaxed);
        if state.status != "running" {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(WATCH_INTERVAL) => {}
            () = progress.cancel_token().cancelled(), if !cancel_sent => {}
        }
    }
    site_report(store, &run, request).await
}

/// The report of a closed queued run, from its tasks' summaries and the findings it wrote.
async fn site_report(store: &Store, run: &OpenRun, request: SiteCrawl) -> Result<SiteCrawlReport, JobError> {
    let summaries: HashMap<String, TaskSummary> = store.task_summaries(run).await?.into_iter().collect();
    let mut findings: HashMap<OrgCode, Vec<Finding>> = HashMap::new();
    for finding in store.run_findings(run).await? {
        findings.entry(finding.unit.clone()).or_default().push(finding);
    }
    let cancelled = store.run_end(run).await? == Some(crate::store::RunEnd::Cancelled);
    let outcomes: Vec<SiteOutcome> = request
        .units
        .iter()
        .map(|unit| {
            let summary = summaries.get(unit.code.as_str());
            let error = match summary {
                Some(summary) => summary.error.clone(),
                None => Some(super::crawl::NOT_COMPLETED.to_owned()),
            };
            SiteOutcome {
                unit: unit.code.clone(),
                findings: findings.remove(&unit.code).unwrap_or_default(),
                metrics: Vec::new(),
                pages: summary.map_or(0, |s| usize::try_from(s.pages).unwrap_or(usize::MAX)),
                reachable: summary.is_some_and(|s| s.reachable),
                error,
            }
        })
        .collect();
    let summary = SiteSummary::of(run.key(), request.day, &request.units, &outcomes, cancelled);
    Ok(SiteCrawlReport { summary, crawled: request.units, outcomes })
}
