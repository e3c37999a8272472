//! Crawling catalogues: one unit's root, its classes and their pages (bounded), then the
//! checks; and many units at once, each unit's outcome handed to the caller's sink as soon as
//! the unit is done. Nothing here saves anything (issue #13): `jobs` writes each outcome, one
//! unit per transaction, and drops its entries (issue #11).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use url::Url;

use super::checks::{CatalogueScan, CheckOutput, ClassScan, check_catalogue};
use super::parse::{PageContext, find_classes, parse_class_page};
use super::profile::CatalogueProfile;
use crate::crawl::fetch::{Fetcher, Page};
use crate::crawl::parse_pool;
use crate::model::{OrgCode, Unit};

/// Live counters for a progress display.
#[derive(Debug, Default)]
pub struct CatalogueProgress {
    /// Units whose catalogue crawl has finished.
    pub units_done: AtomicUsize,
    /// Catalogue pages fetched so far, over all units.
    pub pages: AtomicUsize,
    /// Entries read so far, over all units.
    pub entries: AtomicUsize,
}

/// One unit's catalogue crawl and checks.
#[derive(Debug, Clone)]
pub struct CatalogueOutcome {
    /// The unit whose catalogue was crawled.
    pub unit: OrgCode,
    /// What the crawl read: classes, entries, errors.
    pub scan: CatalogueScan,
    /// The findings and metrics the checks made of it.
    pub output: CheckOutput,
    /// How many entries the scan read; stays right after whoever saved them took
    /// `scan.entries` away.
    pub entries_read: usize,
    /// The crawl of this unit stopped on an internal failure (not a catalogue problem).
    pub error: Option<String>,
}

impl CatalogueOutcome {
    /// The outcome of a unit whose crawl did not complete (its task died, or the crawl was
    /// stopped): no findings, the error says why.
    pub fn failed(unit: &Unit, error: String) -> Self {
        Self {
            unit: unit.code.clone(),
            scan: CatalogueScan::default(),
            output: CheckOutput::default(),
            entries_read: 0,
            error: Some(error),
        }
    }

    /// Whether the catalogue root answered, so that the entries read replace the stored ones.
    pub fn reached(&self) -> bool {
        self.error.is_none() && self.scan.root_error.is_none()
    }
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
            capped: false,
        };
        let mut next = Some(link.url);
        let mut seen: HashSet<Url> = HashSet::new();
        while let Some(url) = next.take() {
            if scan.budget_spent || !seen.insert(url.clone()) {
                break;
            }
            if class.pages >= profile.max_pages_per_class {
                class.capped = true;
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
    let entries_read = scan.entries.len();
    Some(CatalogueOutcome { unit: unit.code.clone(), scan, output, entries_read, error: None })
}

/// Units that have a catalogue to crawl.
pub fn has_catalogue(unit: &Unit) -> bool {
    unit.catalogue_url.as_deref().is_some_and(|u| !u.trim().is_empty())
}

/// Crawls the catalogues of `units` (those with a `catalogue_url`), at most
/// `max_concurrent_units` at a time, and sends each unit's outcome to `sink` as soon as it is
/// done, in the order they finish. A unit whose task died is sent with its error set and no
/// findings. Returns how many outcomes were sent.
///
/// Memory stays bounded: a unit keeps its concurrency permit until its outcome is in the sink,
/// so at most `max_concurrent_units` outcomes plus the sink's capacity exist at once. If the
/// receiver goes away, no further unit is started. Dropping the returned future aborts the
/// units in flight (their outcomes are never sent): that is how a caller cancels a crawl.
pub async fn crawl_units_to(
    fetcher: &Fetcher,
    profile: Arc<CatalogueProfile>,
    units: &[Unit],
    as_of: NaiveDate,
    observed_at: DateTime<Utc>,
    progress: Arc<CatalogueProgress>,
    sink: mpsc::Sender<CatalogueOutcome>,
) -> usize {
    let limit = Arc::new(Semaphore::new(profile.max_concurrent_units.max(1)));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    let mut by_task = std::collections::HashMap::new();
    for unit in units.iter().filter(|u| has_catalogue(u)).cloned() {
        let Ok(permit) = limit.clone().acquire_owned().await else { break };
        if sink.is_closed() {
            break;
        }
        let code = unit.code.clone();
        let task = {
            let (fetcher, profile, progress, sink, sent) =
                (fetcher.clone(), profile.clone(), progress.clone(), sink.clone(), sent.clone());
            async move {
                let _permit = permit;
                let outcome = crawl_unit(&fetcher, &profile, &unit, as_of, observed_at, &progress).await;
                if let Some(outcome) = outcome {
                    progress.units_done.fetch_add(1, Ordering::Relaxed);
                    if sink.send(outcome).await.is_ok() {
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        };
        let handle = tasks.spawn(task);
        by_task.insert(handle.id(), code);
        // Reap finished tasks as we go, so that a panicked unit is reported promptly.
        while let Some(joined) = tasks.try_join_next_with_id() {
            report_panic(joined, &by_task, units, &sink, &progress, &sent).await;
        }
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        report_panic(joined, &by_task, units, &sink, &progress, &sent).await;
    }
    sent.load(Ordering::Relaxed)
}

/// Sends the outcome of a unit whose task panicked (a task that finished has sent its own).
async fn report_panic(
    joined: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
    by_task: &std::collections::HashMap<tokio::task::Id, OrgCode>,
    units: &[Unit],
    sink: &mpsc::Sender<CatalogueOutcome>,
    progress: &CatalogueProgress,
    sent: &AtomicUsize,
) {
    let Err(error) = joined else { return };
    tracing::error!("目录检查任务异常终止：{error}");
    let Some(unit) = by_task.get(&error.id()).and_then(|code| units.iter().find(|u| &u.code == code)) else {
        return;
    };
    progress.units_done.fetch_add(1, Ordering::Relaxed);
    if sink.send(CatalogueOutcome::failed(unit, "检查程序异常终止".to_owned())).await.is_ok() {
        sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// Crawls the catalogues of `units` (those with a `catalogue_url`) and returns every outcome,
/// in the order of the units crawled. Holds everything at once: for benchmarks and tests; a
/// city's crawl goes through [`crawl_units_to`].
pub async fn crawl_units(
    fetcher: &Fetcher,
    profile: Arc<CatalogueProfile>,
    units: &[Unit],
    as_of: NaiveDate,
    observed_at: DateTime<Utc>,
    progress: Arc<CatalogueProgress>,
) -> Vec<CatalogueOutcome> {
    let crawled: Vec<&Unit> = units.iter().filter(|u| has_catalogue(u)).collect();
    let (sink, mut outcomes) = mpsc::channel(crawled.len().max(1));
    let crawl = crawl_units_to(fetcher, profile, units, as_of, observed_at, progress, sink);
    let collect = async {
        let mut received = Vec::with_capacity(crawled.len());
        while let Some(outcome) = outcomes.recv().await {
            received.push(outcome);
        }
        received
    };
    let (_, mut received) = tokio::join!(crawl, collect);
    let position = |code: &OrgCode| crawled.iter().position(|u| &u.code == code).unwrap_or(usize::MAX);
    received.sort_by_key(|o| position(&o.unit));
    received
}
