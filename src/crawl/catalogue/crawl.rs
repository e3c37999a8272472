//! Crawling catalogues: one unit's root, its classes and their pages (bounded), then the
//! checks; and many units at once, recorded as one catalogue crawl run with every unit's
//! entries replaced in the same transaction.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use url::Url;

use super::checks::{CatalogueScan, CheckOutput, ClassScan, check_catalogue};
use super::parse::{PageContext, find_classes, parse_class_page};
use super::profile::CatalogueProfile;
use crate::crawl::fetch::{Fetcher, Page};
use crate::crawl::parse_pool;
use crate::model::{CatalogueEntry, CrawlKind, Finding, Metric, OrgCode, Unit};
use crate::store::{CrawlRunRecord, Store, StoreError};

/// Live counters for a progress display.
#[derive(Debug, Default)]
pub struct CatalogueProgress {
    pub units_done: AtomicUsize,
    pub pages: AtomicUsize,
    pub entries: AtomicUsize,
}

/// One unit's catalogue crawl and checks.
#[derive(Debug, Clone)]
pub struct CatalogueOutcome {
    pub unit: OrgCode,
    pub scan: CatalogueScan,
    pub output: CheckOutput,
    /// The crawl of this unit stopped on an internal failure (not a catalogue problem).
    pub error: Option<String>,
}

/// What a catalogue crawl run did.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueRunSummary {
    pub run: String,
    pub units: usize,
    pub reachable: usize,
    pub pages: usize,
    pub entries: usize,
    pub findings: usize,
    pub errors: Vec<(String, String)>,
}

/// A fetched page as text, or why it is not usable.
async fn fetch_html(fetcher: &Fetcher, url: &Url) -> Result<Page, String> {
    let page = fetcher.fetch(url).await.map_err(|e| e.to_string())?;
    if !page.is_success() {
        return Err(format!("HTTP {}", page.status));
    }
    if !page.is_html() {
        return Err(format!("不是网页（{}）", page.content_type.as_deref().unwrap_or("未知类型")));
    }
    Ok(page)
}

/// Reads a unit's catalogue from `root`: the classes its kind owes, each followed through its
/// 下一页 links up to the profile's page cap, and at most the profile's entry cap in all.
pub async fn scan_catalogue(
    fetcher: &Fetcher,
    profile: &CatalogueProfile,
    unit: &Unit,
    root: &str,
    as_of: NaiveDate,
    progress: &CatalogueProgress,
) -> CatalogueScan {
    let mut scan = CatalogueScan { root: root.trim().to_owned(), ..CatalogueScan::default() };
    let root_url = match Url::parse(root.trim()) {
        Ok(url) => url,
        Err(e) => {
            scan.root_error = Some(format!("目录地址无效：{e}"));
            return scan;
        }
    };
    let wanted = profile.classes_for(unit.kind);
    // Issue #11: one budget for the whole unit; no page is fetched once it is spent, and no
    // fetch runs past it.
    let budget_end = tokio::time::Instant::now() + Duration::from_secs(profile.unit_budget_secs);
    let root_page = fetch_html(fetcher, &root_url).await;
    scan.pages += 1;
    progress.pages.fetch_add(1, Ordering::Relaxed);
    // Pages are parsed off the async runtime, in the bounded parse pool (#11).
    let wanted = wanted.to_vec();
    let parsed = match root_page {
        Ok(page) => parse_pool::parse(move || find_classes(&page.body, &page.url, &wanted)).await,
        Err(reason) => Err(reason),
    };
    let links = match parsed {
        Ok(links) => links,
        Err(reason) => {
            scan.root_error = Some(reason);
            return scan;
        }
    };
    let shared = Arc::new(profile.clone());
    for link in links {
        let mut class = ClassScan {
            name: link.name.clone(),
            url: Some(link.url.to_string()),
            entries: 0,
            pages: 0,
            error: None,
        };
        let mut next = Some(link.url);
        let mut seen: HashSet<Url> = HashSet::new();
        while let Some(url) = next.take() {
            if scan.budget_spent || class.pages >= profile.max_pages_per_class || !seen.insert(url.clone()) {
                break;
            }
            if tokio::time::Instant::now() >= budget_end {
                scan.budget_spent = true;
                break;
            }
            if scan.entries.len() >= profile.max_entries_per_unit {
                scan.capped = true;
                break;
            }
            let Ok(fetched) = tokio::time::timeout_at(budget_end, fetch_html(fetcher, &url)).await else {
                scan.budget_spent = true;
                break;
            };
            class.pages += 1;
            scan.pages += 1;
            progress.pages.fetch_add(1, Ordering::Relaxed);
            let page = match fetched {
                Ok(page) => page,
                Err(reason) => {
                    class.error = Some((url.to_string(), reason));
                    break;
                }
            };
            let (shared, unit_code, class_name) = (Arc::clone(&shared), unit.code.clone(), link.name.clone());
            let parsed = parse_pool::parse(move || {
                let ctx = PageContext { unit: &unit_code, class: &class_name, as_of };
                parse_class_page(&page.body, &page.url, &shared, ctx)
            })
            .await;
            let parsed = match parsed {
                Ok(parsed) => parsed,
                Err(reason) => {
                    class.error = Some((url.to_string(), reason));
                    break;
                }
            };
            let room = profile.max_entries_per_unit - scan.entries.len();
            let taken = parsed.entries.len().min(room);
            class.entries += taken;
            progress.entries.fetch_add(taken, Ordering::Relaxed);
            scan.entries.extend(parsed.entries.into_iter().take(taken));
            next = parsed.next;
        }
        scan.classes.push(class);
    }
    scan
}

/// Crawls and checks one unit's catalogue (`None` when it has no `catalogue_url`).
pub async fn crawl_unit(
    fetcher: &Fetcher,
    profile: &CatalogueProfile,
    unit: &Unit,
    as_of: NaiveDate,
    observed_at: DateTime<Utc>,
    progress: &CatalogueProgress,
) -> Option<CatalogueOutcome> {
    let root = unit.catalogue_url.as_deref().map(str::trim).filter(|u| !u.is_empty())?;
    let scan = scan_catalogue(fetcher, profile, unit, root, as_of, progress).await;
    let output = check_catalogue(unit, profile, &scan, as_of, observed_at);
    Some(CatalogueOutcome { unit: unit.code.clone(), scan, output, error: None })
}

/// Units that have a catalogue to crawl.
pub fn has_catalogue(unit: &Unit) -> bool {
    unit.catalogue_url.as_deref().is_some_and(|u| !u.trim().is_empty())
}

/// Crawls the catalogues of `units` (those with a `catalogue_url`), at most
/// `max_concurrent_units` at a time. Outcomes come back in the order of the units crawled; a
/// unit whose task failed gets an outcome with its error set and no findings.
pub async fn crawl_units(
    fetcher: &Fetcher,
    profile: Arc<CatalogueProfile>,
    units: &[Unit],
    as_of: NaiveDate,
    observed_at: DateTime<Utc>,
    progress: Arc<CatalogueProgress>,
) -> Vec<CatalogueOutcome> {
    let units: Vec<Unit> = units.iter().filter(|u| has_catalogue(u)).cloned().collect();
    let limit = Arc::new(Semaphore::new(profile.max_concurrent_units));
    let mut tasks = JoinSet::new();
    for (index, unit) in units.iter().cloned().enumerate() {
        let (fetcher, profile, limit, progress) =
            (fetcher.clone(), profile.clone(), limit.clone(), progress.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let outcome = crawl_unit(&fetcher, &profile, &unit, as_of, observed_at, &progress).await;
            progress.units_done.fetch_add(1, Ordering::Relaxed);
            (index, outcome)
        });
    }
    let mut outcomes: Vec<Option<CatalogueOutcome>> = vec![None; units.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, outcome)) => {
                if let Some(slot) = outcomes.get_mut(index) {
                    *slot = outcome;
                }
            }
            Err(error) => tracing::error!("目录检查任务异常终止：{error}"),
        }
    }
    outcomes
        .into_iter()
        .zip(&units)
        .map(|(outcome, unit)| {
            outcome.unwrap_or_else(|| CatalogueOutcome {
                unit: unit.code.clone(),
                scan: CatalogueScan::default(),
                output: CheckOutput::default(),
                error: Some("检查程序异常终止".to_owned()),
            })
        })
        .collect()
}

/// Crawls the catalogues of `units` and records one catalogue crawl run: findings, metrics
/// and, for every unit whose catalogue root answered, its entries replacing the previous
/// ones — all in one transaction. Units without a `catalogue_url` are skipped.
pub async fn crawl_catalogues(
    store: &Store,
    fetcher: &Fetcher,
    profile: Arc<CatalogueProfile>,
    units: &[Unit],
    as_of: NaiveDate,
    observed_at: DateTime<Utc>,
    progress: Arc<CatalogueProgress>,
) -> Result<(CatalogueRunSummary, Vec<CatalogueOutcome>), StoreError> {
    let started_at = Utc::now();
    let outcomes = crawl_units(fetcher, profile, units, as_of, observed_at, progress).await;
    let findings: Vec<Finding> = outcomes.iter().flat_map(|o| o.output.findings.iter().cloned()).collect();
    let metrics: Vec<Metric> = outcomes.iter().flat_map(|o| o.output.metrics.iter().cloned()).collect();
    let reachable: Vec<&CatalogueOutcome> =
        outcomes.iter().filter(|o| o.error.is_none() && o.scan.root_error.is_none()).collect();
    let entries: Vec<(OrgCode, &[CatalogueEntry])> =
        reachable.iter().map(|o| (o.unit.clone(), o.scan.entries.as_slice())).collect();
    let pages = outcomes.iter().map(|o| o.scan.pages).sum();
    let entry_count = outcomes.iter().map(|o| o.scan.entries.len()).sum();
    let errors: Vec<(String, String)> =
        outcomes.iter().filter_map(|o| o.error.as_ref().map(|e| (o.unit.to_string(), e.clone()))).collect();
    let record = CrawlRunRecord {
        kind: CrawlKind::Catalogue,
        as_of: observed_at,
        started_at,
        finished_at: Utc::now(),
        units: outcomes.iter().filter(|o| o.error.is_none()).map(|o| o.unit.clone()).collect(),
        stats: serde_json::json!({
            "units": outcomes.len(), "reachable": reachable.len(), "pages": pages,
            "entries": entry_count, "findings": findings.len(), "errors": errors.len(),
        }),
    };
    let run = store.record_catalogue_run(&record, &entries, &findings, &metrics).await?;
    let summary = CatalogueRunSummary {
        run,
        units: outcomes.len(),
        reachable: reachable.len(),
        pages,
        entries: entry_count,
        findings: findings.len(),
        errors,
    };
    Ok((summary, outcomes))
}
