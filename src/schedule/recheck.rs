//! The recheck: findings whose rectification deadline has passed are checked again. Crawler
//! findings are re-crawled (the unit's website or catalogue, whichever the finding is about):
//! a problem the new crawl no longer finds is closed; one it finds again is overdue, and the
//! new finding carries the old deadline so the next cycle counts it. Inspectors' findings still
//! open are overdue (a follow-up item for the unit's inspector group). A unit whose site or
//! catalogue could not be reached is never closed on that evidence: its findings are overdue.
//!
//! The recheck also sends again the notices' e-mails that failed.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::SCHEDULER_ACTOR;
use crate::crawl::catalogue::CatalogueProfile;
use crate::crawl::profile::SiteProfile;
use crate::jobs::{self, CatalogueCrawl, JobError, Progress, SiteCrawl};
use crate::model::check::CATALOGUE_UNREACHABLE;
use crate::model::{Finding, FindingStatus, Source, Unit};
use crate::store::Store;

/// What a recheck needs besides the store.
#[derive(Debug, Clone)]
pub struct RecheckContext {
    /// Let the re-crawls reach loopback and private addresses (`serve --allow-private`).
    pub allow_private: bool,
    /// The website profile the re-crawls use.
    pub site_profile: SiteProfile,
    /// The catalogue profile the re-crawls use.
    pub catalogue_profile: CatalogueProfile,
}

/// What a recheck did; recorded with the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecheckCounts {
    /// Findings past their deadline.
    pub due: usize,
    /// Units re-crawled.
    pub recrawled: usize,
    /// Findings the re-crawl no longer found, now closed.
    pub closed: usize,
    /// Findings still there (or not checkable), now overdue.
    pub overdue: usize,
    /// Failed e-mails tried again, and how many of them went out.
    pub emails_retried: usize,
    /// Of the retried e-mails, those the mail server accepted.
    pub emails_sent: usize,
}

fn is_catalogue(check: &str) -> bool {
    check.starts_with("catalogue.")
}

/// Runs the recheck as of `today` (deadlines before it are over).
pub async fn recheck(
    store: &Store,
    context: &RecheckContext,
    today: NaiveDate,
    observed_at: DateTime<Utc>,
) -> Result<RecheckCounts, JobError> {
    let due = store.findings_past_deadline(today).await?;
    let mut counts = RecheckCounts { due: due.len(), ..RecheckCounts::default() };
    let crawled: Vec<&Finding> = due.iter().filter(|f| f.source == Source::Crawler).collect();
    let site_codes: BTreeSet<String> =
        crawled.iter().filter(|f| !is_catalogue(&f.check)).map(|f| f.unit.to_string()).collect();
    let catalogue_codes: BTreeSet<String> =
        crawled.iter().filter(|f| is_catalogue(&f.check)).map(|f| f.unit.to_string()).collect();
    let all_units = if crawled.is_empty() { Vec::new() } else { store.units().await? };
    let pick = |codes: &BTreeSet<String>| -> Vec<Unit> {
        all_units.iter().filter(|u| codes.contains(u.code.as_str())).cloned().collect()
    };
    // (side, unit) pairs whose evidence could not be renewed.
    let mut unverified: HashSet<(bool, String)> = HashSet::new();
    let progress = Progress::default();
    let site_units = pick(&site_codes);
    if !site_units.is_empty() {
        for unit in site_units.iter().filter(|u| !jobs::has_website(u)) {
            unverified.insert((false, unit.code.to_string()));
        }
        let request = SiteCrawl {
            profile: context.site_profile.clone(),
            units: site_units.clone(),
            day: today,
            observed_at,
            allow_private: context.allow_private,
        };
        let report = jobs::crawl_sites(store, request, &progress).await?;
        counts.recrawled += report.crawled.len();
        for (unit, outcome) in report.crawled.iter().zip(&report.outcomes) {
            if outcome.error.is_some() || !outcome.reachable {
                unverified.insert((false, unit.code.to_string()));
            }
        }
    }
    let catalogue_units = pick(&catalogue_codes);
    if !catalogue_units.is_empty() {
        let request = CatalogueCrawl {
            profile: context.catalogue_profile.clone(),
            units: catalogue_units.clone(),
            day: today,
            observed_at,
            allow_private: context.allow_private,
        };
        let report = jobs::crawl_catalogues(store, request, &progress).await?;
        counts.recrawled += report.crawled.len();
        let reached: HashSet<String> = report.crawled.iter().map(|u| u.code.to_string()).collect();
        for unit in &catalogue_units {
            if !reached.contains(unit.code.as_str()) {
                unverified.insert((true, unit.code.to_string()));
            }
        }
        for error in &report.summary.errors {
            unverified.insert((true, error.unit.clone()));
        }
        for (unit, outcome) in report.crawled.iter().zip(&report.outcomes) {
            if outcome.output.findings.iter().any(|f| f.check == CATALOGUE_UNREACHABLE.id) {
                unverified.insert((true, unit.code.to_string()));
            }
        }
    }
    for finding in &due {
        let unit = finding.unit.to_string();
        if finding.source == Source::Crawler {
            let side = is_catalogue(&finding.check);
            let again: Vec<Finding> = store
                .current_findings(&unit, &finding.check)
                .await?
                .into_iter()
                .filter(|f| f.id != finding.id)
                .collect();
            if unverified.contains(&(side, unit.clone())) || !again.is_empty() {
                store.flag_overdue(finding, &again, SCHEDULER_ACTOR).await?;
                counts.overdue += 1;
            } else {
                store.close_rechecked_finding(finding, SCHEDULER_ACTOR).await?;
                counts.closed += 1;
            }
        } else if matches!(
            finding.status,
            FindingStatus::Open | FindingStatus::Confirmed | FindingStatus::Disputed
        ) {
            // Only an inspector can see an inspector's finding fixed; past the deadline it is
            // their follow-up item. A unit's "rectified" answer awaits the inspector's check.
            store.flag_overdue(finding, &[], SCHEDULER_ACTOR).await?;
            counts.overdue += 1;
        }
    }
    match crate::notify::retry_failed_emails(store).await {
        Ok((tried, sent)) => {
            counts.emails_retried = tried;
            counts.emails_sent = sent;
        }
        Err(error) => tracing::warn!("重发通报邮件失败：{error}"),
    }
    Ok(counts)
}
