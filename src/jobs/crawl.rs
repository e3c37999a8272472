//! Crawl jobs: check the selected units' websites or disclosure catalogues and record one run.
//! The crawlers only produce (issue #13); this module saves. Each unit's results are written
//! in a transaction of their own as soon as the unit is done, then dropped from memory (issue
//! #11); the run is opened first and closed with its totals at the end (see `store/runs.rs`
//! for what readers see meanwhile). A crawl stops when its [`Progress`] is cancelled: no unit
//! is started after that, the units in flight are abandoned with nothing written, the units
//! already done stay saved, and the run is closed as cancelled.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{JobError, Progress};
use crate::crawl::Fetcher;
use crate::crawl::catalogue::{CatalogueOutcome, CatalogueProfile, crawl_units_to, has_catalogue};
use crate::crawl::profile::SiteProfile;
use crate::crawl::site::{CrawlEnv, CrawlProgress, SiteOutcome, crawl_site};
use crate::model::{CrawlKind, Finding, OrgCode, Unit};
use crate::store::{RunEnd, Store, UnitResults};

/// Finished units waiting to be saved at most; with the units in flight, this bounds what a
/// crawl holds in memory however many units it covers.
const SAVE_QUEUE: usize = 8;

/// What a unit not completed because the crawl was stopped shows in the report.
pub(super) const NOT_COMPLETED: &str = "检查已取消，本单位未完成，原有结果保留";

/// A website crawl to run.
#[derive(Debug, Clone)]
pub struct SiteCrawl {
    /// The site crawl profile (crawlers/site.toml): limits, checks, words.
    pub profile: SiteProfile,
    /// The units asked for; those without a website are counted and recorded as unchecked.
    pub units: Vec<Unit>,
    /// The day the crawl is as of (city clock); update windows and ages count from it.
    pub day: NaiveDate,
    /// The instant stamped on every finding and metric the crawl records, UTC.
    pub observed_at: DateTime<Utc>,
    /// Reach loopback and private addresses (tests, the demo, intranets).
    pub allow_private: bool,
}

/// A unit whose check failed, and why.
#[derive(Debug, Clone, Serialize)]
pub struct UnitError {
    /// The unit's credit code.
    pub unit: String,
    /// Why, in Chinese, as the report shows it.
    pub error: String,
}

/// What a website crawl recorded; the JSON `gongkai crawl --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct SiteSummary {
    /// The crawl run's record key.
    pub run: String,
    /// Always `site`.
    pub kind: &'static str,
    /// The day the crawl is as of, `YYYY-MM-DD`.
    pub as_of: String,
    /// Units with a website (those without are counted in `without_website`).
    pub sites: usize,
    /// Saved units whose home page answered.
    pub reachable: usize,
    /// Units asked for that have no website; each is recorded as unchecked.
    pub without_website: usize,
    /// Pages read, over the saved units.
    pub pages: usize,
    /// Findings recorded, over the saved units.
    pub findings: usize,
    /// Findings recorded per check id.
    pub by_check: BTreeMap<String, usize>,
    /// Units whose crawl or save failed, with why; units a cancel left undone are not listed.
    pub errors: Vec<UnitError>,
    /// Units whose results were saved in this run.
    pub written: usize,
    /// The crawl was stopped before every unit was done.
    pub cancelled: bool,
}

/// The summary with each unit's outcome (units without a website included), in the same order.
#[derive(Debug, Clone)]
pub struct SiteCrawlReport {
    /// The totals.
    pub summary: SiteSummary,
    /// Every unit asked for, in the order of `outcomes`.
    pub crawled: Vec<Unit>,
    /// Each unit's outcome; a unit the crawl did not finish has an error and no findings.
    pub outcomes: Vec<SiteOutcome>,
}

/// How many findings of each check.
pub fn count_by_check<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for finding in findings {
        *counts.entry(finding.check.clone()).or_default() += 1;
    }
    counts
}

/// Whether a unit has a website to crawl.
pub fn has_website(unit: &Unit) -> bool {
    unit.website.as_deref().is_some_and(|w| !w.trim().is_empty())
}

/// Runs `crawl` unless `cancel` fires first; `true` when it was cancelled. Cancelling drops the
/// crawl future, which aborts its units in flight.
async fn unless_cancelled(cancel: &CancellationToken, crawl: impl Future) -> bool {
    tokio::select! {
        biased;
        () = cancel.cancelled() => true,
        _ = crawl => false,
    }
}

/// Where each unit's outcome goes in a report, which lists outcomes in the order of the units.
fn positions(units: &[Unit]) -> HashMap<OrgCode, usize> {
    units.iter().enumerate().map(|(i, u)| (u.code.clone(), i)).rev().collect()
}

/// Crawls the units' websites, at most `max_concurrent_sites` at a time, and sends each
/// outcome to `sink` when the unit is done. A unit keeps its concurrency permit until its
/// outcome is in the sink, so the memory held is bounded; dropping the future aborts the
/// units in flight.
async fn crawl_sites_to(
    env: &CrawlEnv,
    units: &[Unit],
    progress: Arc<CrawlProgress>,
    sink: mpsc::Sender<SiteOutcome>,
) {
    let limit = Arc::new(Semaphore::new(env.profile.max_concurrent_sites.max(1)));
    let mut tasks = JoinSet::new();
    let mut by_task = HashMap::new();
    for unit in units {
        let Ok(permit) = limit.clone().acquire_owned().await else { break };
        if sink.is_closed() {
            break;
        }
        let task = {
            let (env, unit, progress, sink) = (env.clone(), unit.clone(), progress.clone(), sink.clone());
            async move {
                let _permit = permit;
                let outcome = crawl_site(&env, &unit, &progress).await;
                progress.sites_done.fetch_add(1, Ordering::Relaxed);
                let _ = sink.send(outcome).await;
            }
        };
        let handle = tasks.spawn(task);
        by_task.insert(handle.id(), unit);
        while let Some(joined) = tasks.try_join_next_with_id() {
            site_panic(joined, &by_task, &sink, &progress).await;
        }
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        site_panic(joined, &by_task, &sink, &progress).await;
    }
}

/// Sends the outcome of a unit whose crawl task panicked: its error, no findings.
async fn site_panic(
    joined: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
    by_task: &HashMap<tokio::task::Id, &Unit>,
    sink: &mpsc::Sender<SiteOutcome>,
    progress: &CrawlProgress,
) {
    let Err(error) = joined else { return };
    let Some(unit) = by_task.get(&error.id()) else { return };
    tracing::error!(unit = %unit.code, "网站检查任务异常终止：{error}");
    progress.sites_done.fetch_add(1, Ordering::Relaxed);
    let _ = sink.send(unchecked_site(unit, format!("检查程序异常终止：{error}"))).await;
}

/// The outcome of a unit whose site was not (completely) crawled.
fn unchecked_site(unit: &Unit, error: String) -> SiteOutcome {
    SiteOutcome {
        unit: unit.code.clone(),
        findings: Vec::new(),
        metrics: Vec::new(),
        pages: 0,
        reachable: false,
        error: Some(error),
    }
}

/// Crawls the units' websites in this process and records the run, unit by unit (findings and
/// metrics; each unit's earlier results superseded as it is written). Stops early when
/// `progress` is cancelled. [`super::crawl_sites`] decides between this and the workers.
pub(super) async fn crawl_sites_here(
    store: &Store,
    request: SiteCrawl,
    progress: &Progress,
) -> Result<SiteCrawlReport, JobError> {
    // Units without a website are crawled too: their outcome is a `site.unchecked` finding, so
    // the run covers them and an assessment cannot score them as if nothing were wrong.
    let crawled = request.units;
    let env = CrawlEnv::new(request.profile, request.allow_private, request.day, request.observed_at)
        .map_err(|e| JobError::BadInput(e.to_string()))?;
    let run = store.begin_crawl_run(CrawlKind::Site, request.observed_at, Utc::now()).await?;
    let counters = progress.site_stage(crawled.len());
    let (sink, mut done) = mpsc::channel(SAVE_QUEUE);
    let crawl = unless_cancelled(progress.cancel_token(), crawl_sites_to(&env, &crawled, counters, sink));
    let save = async {
        let slots = positions(&crawled);
        let mut outcomes: Vec<Option<SiteOutcome>> = vec![None; crawled.len()];
        while let Some(mut outcome) = done.recv().await {
            if outcome.error.is_none() {
                let results = UnitResults {
                    unit: &outcome.unit,
                    findings: &outcome.findings,
                    metrics: &outcome.metrics,
                    entries: None,
                };
                if let Err(e) = store.record_run_unit(&run, results).await {
                    outcome.error = Some(format!("保存检查结果失败：{e}"));
                }
            }
            if let Some(slot) = slots.get(&outcome.unit).and_then(|&i| outcomes.get_mut(i)) {
                *slot = Some(outcome);
            }
        }
        outcomes
    };
    let (cancelled, outcomes) = tokio::join!(crawl, save);
    let outcomes: Vec<SiteOutcome> = outcomes
        .into_iter()
        .zip(&crawled)
        .map(|(outcome, unit)| outcome.unwrap_or_else(|| unchecked_site(unit, NOT_COMPLETED.to_owned())))
        .collect();
    let summary = SiteSummary::of(run.key(), request.day, &crawled, &outcomes, cancelled);
    let stats = serde_json::json!({
        "sites": summary.sites, "reachable": summary.reachable, "pages": summary.pages,
        "findings": summary.findings, "errors": summary.errors.len(),
        "without_website": summary.without_website, "written": summary.written, "cancelled": cancelled,
    });
    store.finish_crawl_run(&run, if cancelled { RunEnd::Cancelled } else { RunEnd::Finished }, stats).await?;
    Ok(SiteCrawlReport { summary, crawled, outcomes })
}

impl SiteSummary {
    /// The summary of a site run from its units' outcomes, in the units' order, however the run
    /// was crawled (here or by workers): only what was saved counts; a unit with an error is
    /// listed, unless the crawl was cancelled before it reached the unit.
    pub(super) fn of(
        run: String,
        day: NaiveDate,
        units: &[Unit],
        outcomes: &[SiteOutcome],
        cancelled: bool,
    ) -> Self {
        let saved = || outcomes.iter().filter(|o| o.error.is_none());
        let with_website = units.iter().filter(|u| has_website(u)).count();
        SiteSummary {
            run,
            kind: "site",
            as_of: day.to_string(),
            sites: with_website,
            reachable: saved().filter(|o| o.reachable).count(),
            without_website: units.len() - with_website,
            pages: saved().map(|o| o.pages).sum(),
            findings: saved().map(|o| o.findings.len()).sum(),
            by_check: count_by_check(saved().flat_map(|o| &o.findings)),
            errors: outcomes
                .iter()
                .filter_map(|o| o.error.as_ref().map(|e| (o, e)))
                .filter(|(_, e)| e.as_str() != NOT_COMPLETED)
                .map(|(o, e)| UnitError { unit: o.unit.to_string(), error: e.clone() })
                .collect(),
            written: saved().count(),
            cancelled,
        }
    }
}

/// A catalogue crawl to run.
#[derive(Debug, Clone)]
pub struct CatalogueCrawl {
    /// The catalogue crawl profile: limits, the index grammar, cadence rules.
    pub profile: CatalogueProfile,
    /// The units asked for; those without a `catalogue_url` are skipped.
    pub units: Vec<Unit>,
    /// The day the crawl is as of (city clock); cadence windows count from it.
    pub day: NaiveDate,
    /// The instant stamped on every finding, metric and entry the crawl records, UTC.
    pub observed_at: DateTime<Utc>,
    /// Reach loopback and private addresses (tests, the demo, intranets).
    pub allow_private: bool,
}

/// What a catalogue crawl recorded; the JSON `gongkai crawl --only catalogue` prints.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueSummary {
    /// `None` when no selected unit has a catalogue (nothing was recorded).
    pub run: Option<String>,
    /// Always `catalogue`.
    pub kind: &'static str,
    /// The day the crawl is as of, `YYYY-MM-DD`.
    pub as_of: String,
    /// Units with a catalogue address, all of them crawled.
    pub units: usize,
    /// Saved units whose catalogue root answered.
    pub reachable: usize,
    /// Catalogue pages read, over the saved units.
    pub pages: usize,
    /// Catalogue entries read and saved, over the units whose root answered.
    pub entries: usize,
    /// Findings recorded, over the saved units.
    pub findings: usize,
    /// Findings recorded per check id.
    pub by_check: BTreeMap<String, usize>,
    /// Units whose crawl or save failed, with why; units a cancel left undone are not listed.
    pub errors: Vec<UnitError>,
    /// Units whose results were saved in this run.
    pub written: usize,
    /// The crawl was stopped before every unit was done.
    pub cancelled: bool,
}

/// The summary with each crawled unit's outcome, in the same order. The outcomes carry no
/// entries: those were saved and dropped as each unit finished (`entries_read` says how many).
#[derive(Debug, Clone)]
pub struct CatalogueCrawlReport {
    /// The totals.
    pub summary: CatalogueSummary,
    /// The units with a catalogue address, in the order of `outcomes`.
    pub crawled: Vec<Unit>,
    /// Each unit's outcome; a unit the crawl did not finish has an error.
    pub outcomes: Vec<CatalogueOutcome>,
}

/// Crawls the units' catalogues and records one catalogue run, unit by unit: each unit's
/// findings, metrics and (when its catalogue root answered) entries replacing its previous
/// ones, in one transaction per unit. Units without a `catalogue_url` are skipped. Stops
/// early when `progress` is cancelled.
pub async fn crawl_catalogues(
    store: &Store,
    request: CatalogueCrawl,
    progress: &Progress,
) -> Result<CatalogueCrawlReport, JobError> {
    let crawled: Vec<Unit> = request.units.into_iter().filter(has_catalogue).collect();
    let mut config = request.profile.fetch.clone();
    config.allow_private |= request.allow_private;
    let fetcher = Fetcher::new(config).map_err(|e| JobError::BadInput(e.to_string()))?;
    let counters = progress.catalogue_stage(crawled.len());
    let mut summary = CatalogueSummary {
        run: None,
        kind: "catalogue",
        as_of: request.day.to_string(),
        units: crawled.len(),
        reachable: 0,
        pages: 0,
        entries: 0,
        findings: 0,
        by_check: BTreeMap::new(),
        errors: Vec::new(),
        written: 0,
        cancelled: false,
    };
    if crawled.is_empty() {
        return Ok(CatalogueCrawlReport { summary, crawled, outcomes: Vec::new() });
    }
    let run = store.begin_crawl_run(CrawlKind::Catalogue, request.observed_at, Utc::now()).await?;
    let (sink, mut done) = mpsc::channel(SAVE_QUEUE);
    let profile = Arc::new(request.profile);
    let crawl = unless_cancelled(
        progress.cancel_token(),
        crawl_units_to(&fetcher, profile, &crawled, request.day, request.observed_at, counters, sink),
    );
    let save = async {
        let slots = positions(&crawled);
        let mut outcomes: Vec<Option<CatalogueOutcome>> = vec![None; crawled.len()];
        while let Some(mut outcome) = done.recv().await {
            // The entries leave memory here, saved or not.
            let entries = std::mem::take(&mut outcome.scan.entries);
            if outcome.error.is_none() {
                let results = UnitResults {
                    unit: &outcome.unit,
                    findings: &outcome.output.findings,
                    metrics: &outcome.output.metrics,
                    entries: outcome.reached().then_some(entries.as_slice()),
                };
                if let Err(e) = store.record_run_unit(&run, results).await {
                    outcome.error = Some(format!("保存检查结果失败：{e}"));
                }
            }
            drop(entries);
            if let Some(slot) = slots.get(&outcome.unit).and_then(|&i| outcomes.get_mut(i)) {
                *slot = Some(outcome);
            }
        }
        outcomes
    };
    let (cancelled, outcomes) = tokio::join!(crawl, save);
    let outcomes: Vec<CatalogueOutcome> = outcomes
        .into_iter()
        .zip(&crawled)
        .map(|(outcome, unit)| {
            outcome.unwrap_or_else(|| CatalogueOutcome::failed(unit, NOT_COMPLETED.to_owned()))
        })
        .collect();
    let saved = || outcomes.iter().filter(|o| o.error.is_none());
    summary.written = saved().count();
    summary.reachable = saved().filter(|o| o.reached()).count();
    summary.pages = saved().map(|o| o.scan.pages).sum();
    summary.entries = saved().filter(|o| o.reached()).map(|o| o.entries_read).sum();
    summary.findings = saved().map(|o| o.output.findings.len()).sum();
    summary.by_check = count_by_check(saved().flat_map(|o| &o.output.findings));
    summary.errors = outcomes
        .iter()
        .filter_map(|o| o.error.as_ref().map(|e| (o, e)))
        .filter(|(_, e)| e.as_str() != NOT_COMPLETED)
        .map(|(o, e)| UnitError { unit: o.unit.to_string(), error: e.clone() })
        .collect();
    summary.cancelled = cancelled;
    let stats = serde_json::json!({
        "units": summary.units, "reachable": summary.reachable, "pages": summary.pages,
        "entries": summary.entries, "findings": summary.findings, "errors": summary.errors.len(),
        "written": summary.written, "cancelled": cancelled,
    });
    store.finish_crawl_run(&run, if cancelled { RunEnd::Cancelled } else { RunEnd::Finished }, stats).await?;
    summary.run = Some(run.key());
    Ok(CatalogueCrawlReport { summary, crawled, outcomes })
}
