//! Crawl jobs: check the selected units' websites or disclosure catalogues and record one run
//! with everything found.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{JobError, Progress};
use crate::crawl::Fetcher;
use crate::crawl::catalogue::{
    CatalogueOutcome, CatalogueProfile, crawl_catalogues as record_catalogues, has_catalogue,
};
use crate::crawl::profile::SiteProfile;
use crate::crawl::site::{CrawlEnv, SiteOutcome, crawl_units};
use crate::model::{CrawlKind, Finding, Metric, Unit};
use crate::store::{CrawlRunRecord, Store};

/// A website crawl to run.
#[derive(Debug, Clone)]
pub struct SiteCrawl {
    pub profile: SiteProfile,
    /// The units asked for; those without a website are counted and recorded as unchecked.
    pub units: Vec<Unit>,
    pub day: NaiveDate,
    pub observed_at: DateTime<Utc>,
    /// Reach loopback and private addresses (tests, the demo, intranets).
    pub allow_private: bool,
}

/// A unit whose check failed, and why.
#[derive(Debug, Clone, Serialize)]
pub struct UnitError {
    pub unit: String,
    pub error: String,
}

/// What a website crawl recorded; the JSON `gongkai crawl --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct SiteSummary {
    pub run: String,
    pub kind: &'static str,
    pub as_of: String,
    pub sites: usize,
    pub reachable: usize,
    pub without_website: usize,
    pub pages: usize,
    pub findings: usize,
    pub by_check: BTreeMap<String, usize>,
    pub errors: Vec<UnitError>,
}

/// The summary with each unit's outcome (units without a website included), in the same order.
#[derive(Debug, Clone)]
pub struct SiteCrawlReport {
    pub summary: SiteSummary,
    pub crawled: Vec<Unit>,
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

/// Crawls the units' websites and records the run (findings, metrics, superseding earlier runs).
pub async fn crawl_sites(
    store: &Store,
    request: SiteCrawl,
    progress: &Progress,
) -> Result<SiteCrawlReport, JobError> {
    // Units without a website are crawled too: their outcome is a `site.unchecked` finding, so
    // the run covers them and an assessment cannot score them as if nothing were wrong.
    let crawled = request.units;
    let with_website = crawled.iter().filter(|u| has_website(u)).count();
    let without = crawled.len() - with_website;
    let env = CrawlEnv::new(request.profile, request.allow_private, request.day, request.observed_at)
        .map_err(|e| JobError::BadInput(e.to_string()))?;
    let started_at = Utc::now();
    let counters = progress.site_stage(crawled.len());
    let outcomes = crawl_units(&env, crawled.clone(), counters).await;

    progress.stage("保存检查结果", 1);
    let findings: Vec<Finding> = outcomes.iter().flat_map(|o| o.findings.iter().cloned()).collect();
    let metrics: Vec<Metric> = outcomes.iter().flat_map(|o| o.metrics.iter().cloned()).collect();
    let errors: Vec<UnitError> = outcomes
        .iter()
        .filter_map(|o| o.error.as_ref().map(|e| UnitError { unit: o.unit.to_string(), error: e.clone() }))
        .collect();
    let pages = outcomes.iter().map(|o| o.pages).sum();
    let reachable = outcomes.iter().filter(|o| o.reachable).count();
    let record = CrawlRunRecord {
        kind: CrawlKind::Site,
        as_of: request.observed_at,
        started_at,
        finished_at: Utc::now(),
        units: crawled.iter().map(|u| u.code.clone()).collect(),
        stats: serde_json::json!({
            "sites": with_website, "reachable": reachable, "pages": pages,
            "findings": findings.len(), "errors": errors.len(), "without_website": without,
        }),
    };
    let run = store.record_crawl_run(&record, &findings, &metrics).await?;
    progress.advance(1);
    let summary = SiteSummary {
        run,
        kind: "site",
        as_of: request.day.to_string(),
        sites: with_website,
        reachable,
        without_website: without,
        pages,
        findings: findings.len(),
        by_check: count_by_check(&findings),
        errors,
    };
    Ok(SiteCrawlReport { summary, crawled, outcomes })
}

/// A catalogue crawl to run.
#[derive(Debug, Clone)]
pub struct CatalogueCrawl {
    pub profile: CatalogueProfile,
    /// The units asked for; those without a `catalogue_url` are skipped.
    pub units: Vec<Unit>,
    pub day: NaiveDate,
    pub observed_at: DateTime<Utc>,
    pub allow_private: bool,
}

/// What a catalogue crawl recorded; the JSON `gongkai crawl --only catalogue` prints.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueSummary {
    /// `None` when no selected unit has a catalogue (nothing was recorded).
    pub run: Option<String>,
    pub kind: &'static str,
    pub as_of: String,
    pub units: usize,
    pub reachable: usize,
    pub pages: usize,
    pub entries: usize,
    pub findings: usize,
    pub by_check: BTreeMap<String, usize>,
    pub errors: Vec<UnitError>,
}

#[derive(Debug, Clone)]
pub struct CatalogueCrawlReport {
    pub summary: CatalogueSummary,
    pub crawled: Vec<Unit>,
    pub outcomes: Vec<CatalogueOutcome>,
}

/// Crawls the units' catalogues and records one catalogue run (entries replaced per unit).
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
    let (recorded, outcomes) = if crawled.is_empty() {
        (None, Vec::new())
    } else {
        let (summary, outcomes) = record_catalogues(
            store,
            &fetcher,
            Arc::new(request.profile),
            &crawled,
            request.day,
            request.observed_at,
            counters,
        )
        .await?;
        (Some(summary), outcomes)
    };
    let summary = CatalogueSummary {
        run: recorded.as_ref().map(|s| s.run.clone()),
        kind: "catalogue",
        as_of: request.day.to_string(),
        units: crawled.len(),
        reachable: recorded.as_ref().map_or(0, |s| s.reachable),
        pages: recorded.as_ref().map_or(0, |s| s.pages),
        entries: recorded.as_ref().map_or(0, |s| s.entries),
        findings: recorded.as_ref().map_or(0, |s| s.findings),
        by_check: count_by_check(outcomes.iter().flat_map(|o| &o.output.findings)),
        errors: recorded
            .iter()
            .flat_map(|s| &s.errors)
            .map(|(unit, error)| UnitError { unit: unit.clone(), error: error.clone() })
            .collect(),
    };
    Ok(CatalogueCrawlReport { summary, crawled, outcomes })
}
