//! The demo servers against the real crawler, without a store: every troubled unit yields
//! exactly the checks its planned defects call for, and healthy units yield none. This is what
//! keeps the demo honest when a check or the profile changes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::plan::{Availability, Era, ReportDefect, Spam, UnitState};
use super::sites::{DemoSites, World, emptied_column};
use super::{CURRENT_AS_OF, EARLIER_AS_OF, city, new_plan, pipeline};
use crate::crawl::Fetcher;
use crate::crawl::catalogue::{CatalogueProgress, crawl_unit};
use crate::crawl::profile::ColumnSpec;
use crate::crawl::site::{CrawlEnv, CrawlProgress, crawl_site};
use crate::model::check::{
    CATALOGUE_CLASS_MISSING, CATALOGUE_INDEX_DUPLICATE, CATALOGUE_INDEX_INVALID, CATALOGUE_METADATA_MISSING,
    CATALOGUE_STALE, CATALOGUE_UNCHECKED, CATALOGUE_UNREACHABLE, COLUMN_EMPTY, COLUMN_MISSING, COLUMN_STALE,
    CONTENT_SPAM, HOME_STALE, IDENTITY_MISSING, INTERACTION_UNANSWERED, LINK_BROKEN, REPORT_ANNUAL_MISSING,
    REPORT_SECTION_MISSING, REPORT_TABLE_INCONSISTENT, SITE_UNCHECKED, SITE_UNREACHABLE,
};
use crate::model::{Finding, Unit};

/// Healthy units crawled besides every troubled one.
const HEALTHY_SAMPLE: usize = 24;

struct Crawled {
    site: Vec<Finding>,
    catalogue: Vec<Finding>,
    longest_gap_days: Option<Decimal>,
}

fn ids(findings: &[Finding]) -> BTreeSet<&str> {
    findings.iter().map(|f| f.check.as_str()).collect()
}

fn count(findings: &[Finding], check: &str) -> usize {
    findings.iter().filter(|f| f.check == check).count()
}

/// The website checks a unit's planned state calls for, given the unit kind's required columns.
fn expected_site(state: &UnitState, columns: &[ColumnSpec]) -> BTreeSet<&'static str> {
    let site = &state.site;
    if !state.availability.answers() {
        return BTreeSet::from([SITE_UNREACHABLE.id, SITE_UNCHECKED.id]);
    }
    let linked = &columns[..columns.len().saturating_sub(site.missing_columns)];
    let emptied = if site.empty_column { emptied_column(linked) } else { None };
    // Presence-only columns (the guide, the application page) are never judged stale.
    let stale = (0..site.stale_columns.min(linked.len()))
        .any(|c| Some(c) != emptied && linked[c].cadence.judges_content());
    [
        (HOME_STALE.id, site.stale_home),
        (COLUMN_MISSING.id, site.missing_columns > 0),
        (COLUMN_EMPTY.id, emptied.is_some()),
        (COLUMN_STALE.id, stale),
        (LINK_BROKEN.id, site.broken_links > 0),
        (CONTENT_SPAM.id, site.spam.is_some()),
        (IDENTITY_MISSING.id, !site.missing_identity.is_empty()),
        (REPORT_ANNUAL_MISSING.id, site.no_annual_report),
        (REPORT_SECTION_MISSING.id, site.report_defect == Some(ReportDefect::SectionMissing)),
        (REPORT_TABLE_INCONSISTENT.id, site.report_defect == Some(ReportDefect::TableInconsistent)),
        (INTERACTION_UNANSWERED.id, site.unanswered > 0),
    ]
    .into_iter()
    .filter_map(|(check, expected)| expected.then_some(check))
    .collect()
}

/// The catalogue checks a unit's planned state calls for.
fn expected_catalogue(state: &UnitState) -> BTreeSet<&'static str> {
    let catalogue = &state.catalogue;
    if !state.availability.answers() || catalogue.root_missing {
        return BTreeSet::from([CATALOGUE_UNREACHABLE.id, CATALOGUE_UNCHECKED.id]);
    }
    [
        (CATALOGUE_UNREACHABLE.id, catalogue.broken_class),
        (CATALOGUE_CLASS_MISSING.id, catalogue.missing_classes > 0 || catalogue.empty_class),
        (CATALOGUE_INDEX_INVALID.id, catalogue.invalid_index > 0),
        (CATALOGUE_INDEX_DUPLICATE.id, catalogue.duplicate_index),
        (CATALOGUE_METADATA_MISSING.id, catalogue.metadata_missing > 0),
        (CATALOGUE_STALE.id, catalogue.stale),
    ]
    .into_iter()
    .filter_map(|(check, expected)| expected.then_some(check))
    .collect()
}

async fn crawl(unit: &Unit, day: NaiveDate) -> Crawled {
    let site_profile = pipeline::site_profile().expect("site profile");
    let (_, observed_at) = crate::jobs::crawl_instant(Some(&day.to_string())).expect("day");
    let env = CrawlEnv::new(site_profile, true, day, observed_at).expect("environment");
    let site = crawl_site(&env, unit, &CrawlProgress::default()).await;
    let catalogue_profile = pipeline::catalogue_profile().expect("catalogue profile");
    let fetcher = Fetcher::new(catalogue_profile.fetch.clone()).expect("fetcher");
    let outcome =
        crawl_unit(&fetcher, &catalogue_profile, unit, day, observed_at, &CatalogueProgress::default()).await;
    let (catalogue, longest_gap_days) = match outcome {
        Some(outcome) => (
            outcome.output.findings,
            outcome.output.metrics.iter().find(|m| m.name == "catalogue.longest_gap_days").map(|m| m.value),
        ),
        None => (Vec::new(), None),
    };
    Crawled { site: site.findings, catalogue, longest_gap_days }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_unit_shows_exactly_its_planned_problems() {
    let units = city::registry_units().expect("units");
    let plan = new_plan(&units).expect("plan");
    let site_profile = pipeline::site_profile().expect("profile");
    let columns: Vec<Vec<ColumnSpec>> =
        units.iter().map(|u| site_profile.columns_for(u.kind).to_vec()).collect();
    let chosen: Vec<usize> =
        plan.troubled().iter().chain(plan.healthy().iter().take(HEALTHY_SAMPLE)).copied().collect();
    let world = World::new(
        units.clone(),
        plan.clone(),
        site_profile,
        pipeline::catalogue_profile().expect("profile"),
        (EARLIER_AS_OF, CURRENT_AS_OF),
    );
    let sites = DemoSites::start(Arc::new(world)).await.expect("servers");
    let served = city::served_units(&units, sites.addresses());

    let mut tasks = tokio::task::JoinSet::new();
    for &unit in &chosen {
        let target = served[unit].clone();
        tasks.spawn(async move { (unit, crawl(&target, CURRENT_AS_OF).await) });
    }
    let mut wrong: BTreeMap<String, String> = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (unit, crawled) = joined.expect("crawl task");
        let state = plan.state(Era::Current, unit);
        let name = format!("{} {:?}", units[unit].name, state);
        let site_expected = expected_site(state, &columns[unit]);
        if ids(&crawled.site) != site_expected {
            wrong.insert(name.clone(), format!("site {:?} ≠ {:?}", ids(&crawled.site), site_expected));
        }
        let catalogue_expected =
            if units[unit].catalogue_url.is_some() { expected_catalogue(state) } else { BTreeSet::new() };
        if ids(&crawled.catalogue) != catalogue_expected {
            wrong.insert(
                format!("{name} (catalogue)"),
                format!("catalogue {:?} ≠ {:?}", ids(&crawled.catalogue), catalogue_expected),
            );
        }
        if state.site.spam == Some(Spam::InjectedBrand) {
            let cited = crawled
                .site
                .iter()
                .any(|f| f.check == CONTENT_SPAM.id && f.detail.to_string().contains("bob最新官网"));
            assert!(cited, "{name}: the injected brand is not cited: {:#?}", crawled.site);
        }
        if state.availability.answers() {
            let site = &state.site;
            assert_eq!(count(&crawled.site, LINK_BROKEN.id), site.broken_links, "{name}");
            assert_eq!(count(&crawled.site, IDENTITY_MISSING.id), site.missing_identity.len(), "{name}");
            assert_eq!(count(&crawled.site, INTERACTION_UNANSWERED.id), site.unanswered, "{name}");
            assert_eq!(count(&crawled.site, COLUMN_MISSING.id), site.missing_columns, "{name}");
            let clean_catalogue = !state.catalogue.broken_class && !state.catalogue.root_missing;
            if clean_catalogue && units[unit].catalogue_url.is_some() && !state.catalogue.duplicate_index {
                assert_eq!(
                    count(&crawled.catalogue, CATALOGUE_INDEX_INVALID.id),
                    state.catalogue.invalid_index,
                    "{name}"
                );
            }
            if let Some(gap) = crawled.longest_gap_days {
                let on_and_off = state.catalogue.bursty || state.catalogue.stale;
                assert_eq!(gap >= Decimal::from(90), on_and_off, "{name}: longest gap {gap}");
            }
        }
    }
    assert!(wrong.is_empty(), "{} units differ from the plan:\n{wrong:#?}", wrong.len());
    assert!(sites.pages_served() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_earlier_era_shows_the_earlier_state() {
    let units = city::registry_units().expect("units");
    let plan = new_plan(&units).expect("plan");
    let changed = (0..units.len())
        .find(|&u| {
            let (before, now) = (plan.state(Era::Earlier, u), plan.state(Era::Current, u));
            before.site.broken_links != now.site.broken_links && now.availability == Availability::Up
        })
        .expect("a unit whose broken links changed");
    let world = World::new(
        units.clone(),
        plan.clone(),
        pipeline::site_profile().expect("profile"),
        pipeline::catalogue_profile().expect("profile"),
        (EARLIER_AS_OF, CURRENT_AS_OF),
    );
    let sites = DemoSites::start(Arc::new(world)).await.expect("servers");
    let target = city::served_units(&units, sites.addresses()).swap_remove(changed);
    sites.world().set_era(Era::Earlier);
    let before = crawl(&target, EARLIER_AS_OF).await;
    sites.world().set_era(Era::Current);
    let now = crawl(&target, CURRENT_AS_OF).await;
    assert_eq!(count(&before.site, LINK_BROKEN.id), plan.state(Era::Earlier, changed).site.broken_links);
    assert_eq!(count(&now.site, LINK_BROKEN.id), plan.state(Era::Current, changed).site.broken_links);
}
