//! The crawl and assessment steps of the demo build: the shared jobs, with the shipped profiles
//! and rule sets.
//!
//! The demo's own servers are crawled with politeness lifted (no gap between requests, many
//! sites at a time) and short timeouts, so the silent site costs seconds, not the national 15 s.

use chrono::NaiveDate;
use serde::Serialize;

use super::{DEMO_ACTOR, DemoError};
use crate::assess::LaggardCriteria;
use crate::crawl::FetchConfig;
use crate::crawl::catalogue::CatalogueProfile;
use crate::crawl::profile::SiteProfile;
use crate::jobs::{self, AssessRequest, CatalogueCrawl, Progress, SiteCrawl};
use crate::model::Unit;
use crate::rules::RuleSet;
use crate::store::Store;

/// The notification step (issue #12); `build` calls `pipeline::notices::publish_demo_notice`.
#[path = "notices.rs"]
pub(super) mod notices;

/// Sites and catalogues crawled at the same time, and requests in flight in total.
const CONCURRENT_SITES: usize = 64;
/// Seconds a demo page may take: longer than any demo server needs, short enough that the
/// silent site does not hold the build up.
const TIMEOUT_SECS: u64 = 3;

/// What one crawl of the city found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CrawlCounts {
    /// Units whose website was crawled.
    pub sites: usize,
    /// Of those, sites whose home page answered.
    pub reachable_sites: usize,
    /// Website pages fetched.
    pub site_pages: usize,
    /// Findings the website crawl recorded.
    pub site_findings: usize,
    /// Units whose disclosure catalogue was crawled.
    pub catalogues: usize,
    /// Catalogue pages fetched.
    pub catalogue_pages: usize,
    /// Catalogue entries read.
    pub catalogue_entries: usize,
    /// Findings the catalogue crawl recorded.
    pub catalogue_findings: usize,
}

/// One assessment cycle the demo made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoCycle {
    /// The cycle's id, `RULESET-DATE` (rule set id and as-of day).
    pub cycle: String,
    /// The rule set's id.
    pub rule_set_id: String,
    /// The rule set's Chinese title.
    pub rule_set_title: String,
    /// The day scored as of.
    pub as_of: NaiveDate,
    /// Units scored.
    pub units: usize,
    /// Units that passed (no veto, total at or above the pass mark).
    pub passed: usize,
    /// Units a veto item zeroed.
    pub vetoed: usize,
    /// Units flagged as laggards.
    pub laggards: usize,
    /// The cycle of the same rule set this one's rank changes are measured against.
    pub previous_cycle: Option<String>,
}

/// The shipped website profile with politeness lifted for the demo's own servers.
pub(super) fn site_profile() -> Result<SiteProfile, DemoError> {
    let mut profile = SiteProfile::builtin().map_err(|e| DemoError::Crawl(e.to_string()))?;
    profile.max_concurrent_sites = CONCURRENT_SITES;
    lift_politeness(&mut profile.fetch);
    Ok(profile)
}

/// The demo's servers are this process's own: no gap between requests, many at once, short
/// timeouts, loopback allowed.
fn lift_politeness(fetch: &mut FetchConfig) {
    fetch.min_gap_ms = 0;
    fetch.global_concurrency = CONCURRENT_SITES;
    fetch.connect_timeout_secs = TIMEOUT_SECS;
    fetch.total_timeout_secs = TIMEOUT_SECS;
    fetch.allow_private = true;
}

/// The shipped catalogue profile with politeness lifted for the demo's own servers.
pub(super) fn catalogue_profile() -> Result<CatalogueProfile, DemoError> {
    let mut profile = CatalogueProfile::builtin().map_err(|e| DemoError::Crawl(e.to_string()))?;
    profile.max_concurrent_units = CONCURRENT_SITES;
    lift_politeness(&mut profile.fetch);
    Ok(profile)
}

/// Crawls every unit's website and catalogue as of `day` and records both runs.
pub(super) async fn crawl_city(
    store: &Store,
    units: &[Unit],
    day: NaiveDate,
    progress: &Progress,
) -> Result<CrawlCounts, DemoError> {
    let (day, observed_at) = jobs::crawl_instant(Some(&day.to_string()))?;
    let sites = jobs::crawl_sites(
        store,
        SiteCrawl { profile: site_profile()?, units: units.to_vec(), day, observed_at, allow_private: true },
        progress,
    )
    .await?;
    let catalogues = jobs::crawl_catalogues(
        store,
        CatalogueCrawl {
            profile: catalogue_profile()?,
            units: units.to_vec(),
            day,
            observed_at,
            allow_private: true,
        },
        progress,
    )
    .await?;
    Ok(CrawlCounts {
        sites: sites.summary.sites,
        reachable_sites: sites.summary.reachable,
        site_pages: sites.summary.pages,
        site_findings: sites.summary.findings,
        catalogues: catalogues.summary.units,
        catalogue_pages: catalogues.summary.pages,
        catalogue_entries: catalogues.summary.entries,
        catalogue_findings: catalogues.summary.findings,
    })
}

/// Scores every unit under `rules` as of `day` and saves the cycle `RULESET-DATE`, ranked
/// against the previous cycle of the same rule set.
pub(super) async fn assess(
    store: &Store,
    rules: &RuleSet,
    source: &str,
    day: NaiveDate,
    progress: &Progress,
) -> Result<DemoCycle, DemoError> {
    let (day, cutoff) = jobs::assessment_cutoff(Some(&day.to_string()))?;
    let request = AssessRequest {
        rule_set: rules.clone(),
        source: source.to_owned(),
        criteria: LaggardCriteria::shipped(),
        cycle: None,
        day,
        cutoff,
        actor: DEMO_ACTOR.to_owned(),
        save: true,
    };
    let outcome = jobs::assess(store, request, progress).await?;
    Ok(DemoCycle {
        cycle: outcome.cycle,
        rule_set_id: outcome.rule_set,
        rule_set_title: rules.title().to_owned(),
        as_of: day,
        units: outcome.units,
        passed: outcome.passed,
        vetoed: outcome.vetoed,
        laggards: outcome.laggards,
        previous_cycle: outcome.previous_cycle,
    })
}
