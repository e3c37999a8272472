//! The work queue that lets several workers share a crawl (issue #13), on the real store:
//! leases are exclusive, an expired lease passes to another worker whose results are the only
//! ones written, heartbeats keep a lease, cancelling drops what nobody took, and a crawl done by
//! workers records exactly what the same crawl done in one process records.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use gongkai::crawl::profile::SiteProfile;
use gongkai::jobs::{self, Progress, SiteCrawl, WorkerOptions};
use gongkai::model::{CrawlKind, Finding, FindingStatus, OrgCode, Source, Unit};
use gongkai::registry::{plan_import, read_registry};
use gongkai::store::{AuditEntry, ClaimedTask, Store, TaskSummary, UnitResults, WorkerRegistration};
use tokio_util::sync::CancellationToken;

use crate::page_server::{Answer, PageServer};
use crate::support::{HEADER, credit_code};

const LONG: Duration = Duration::from_secs(3600);

fn codes(n: u32) -> Vec<OrgCode> {
    (1..=n).map(|i| OrgCode::parse(&credit_code(i)).expect("valid code")).collect()
}

fn finding(unit: &OrgCode, check: &str, note: &str) -> Finding {
    Finding {
        id: None,
        unit: unit.clone(),
        check: check.to_owned(),
        source: Source::Crawler,
        observed_at: Utc.with_ymd_and_hms(2026, 12, 1, 4, 0, 0).single().expect("instant"),
        url: None,
        detail: serde_json::json!({ "note": note }),
        status: FindingStatus::Open,
        rectify_by: None,
    }
}

async fn queued(store: &Store, units: &[OrgCode]) -> gongkai::store::OpenRun {
    let as_of = Utc.with_ymd_and_hms(2026, 12, 1, 4, 0, 0).single().expect("instant");
    store.enqueue_crawl_run(CrawlKind::Site, as_of, serde_json::json!({}), units).await.expect("queued")
}

async fn complete(store: &Store, task: &ClaimedTask, owner: &str, findings: &[Finding]) -> bool {
    let results = UnitResults { unit: &task.unit, findings, metrics: &[], entries: None };
    let summary = TaskSummary { reachable: true, findings: findings.len() as u64, ..TaskSummary::default() };
    store.complete_task(task, owner, Some(results), &summary).await.expect("complete")
}

#[tokio::test]
async fn workers_claiming_at_the_same_time_never_hold_the_same_unit() {
    let store = Store::memory().await.expect("store");
    let units = codes(40);
    let run = queued(&store, &units).await;
    let mut claimers = tokio::task::JoinSet::new();
    for worker in ["w1", "w2", "w3"] {
        let store = store.clone();
        claimers.spawn(async move {
            let mut mine = Vec::new();
            // Claim until the queue is empty; a lost race returns nothing and is asked again.
            let mut idle_rounds = 0;
            while idle_rounds < 20 {
                let claimed = store.claim_tasks(worker, 3, LONG).await.expect("claim");
                if claimed.is_empty() {
                    idle_rounds += 1;
                    tokio::task::yield_now().await;
                } else {
                    idle_rounds = 0;
                }
                mine.extend(claimed.into_iter().map(|t| (worker, t.unit.to_string())));
            }
            mine
        });
    }
    let mut all = Vec::new();
    while let Some(mine) = claimers.join_next().await {
        all.extend(mine.expect("claimer"));
    }
    let distinct: BTreeSet<&String> = all.iter().map(|(_, unit)| unit).collect();
    assert_eq!(all.len(), 40, "every unit claimed exactly once: {all:?}");
    assert_eq!(distinct.len(), 40);
    let progress = store.queue_progress(&run).await.expect("progress").expect("queued run");
    assert_eq!((progress.total, progress.queued, progress.leased), (40, 0, 40));
    let workers: BTreeSet<&str> = all.iter().map(|(w, _)| *w).collect();
    assert!(workers.len() >= 2, "the work was shared, not taken by one claimer: {workers:?}");
}

#[tokio::test]
async fn an_expired_lease_passes_to_another_worker_and_only_its_results_are_written() {
    let store = Store::memory().await.expect("store");
    let units = codes(2);
    let run = queued(&store, &units).await;
    // Worker A takes both units with a lease that has run out by the time anyone looks: A is
    // as good as killed.
    let held_by_a = store.claim_tasks("a", 5, Duration::ZERO).await.expect("claim");
    assert_eq!(held_by_a.len(), 2);
    assert!(held_by_a.iter().all(|t| t.attempts == 1 && t.taken_from.is_none()));
    tokio::time::sleep(Duration::from_millis(5)).await;
    let held_by_b = store.claim_tasks("b", 5, LONG).await.expect("claim");
    assert_eq!(held_by_b.len(), 2, "B takes A's expired units over");
    assert!(held_by_b.iter().all(|t| t.attempts == 2 && t.taken_from.as_deref() == Some("a")));

    // A wakes up and tries to write: refused, nothing written.
    let late =
        complete(&store, &held_by_a[0], "a", &[finding(&held_by_a[0].unit, "home.stale", "from a")]).await;
    assert!(!late, "a worker that lost its lease must not write");
    for task in &held_by_b {
        assert!(complete(&store, task, "b", &[finding(&task.unit, "home.stale", "from b")]).await);
    }
    assert!(store.close_queued_run_if_done(&run).await.expect("close"), "the last completion closes the run");
    assert!(
        !store.close_queued_run_if_done(&run).await.expect("close again"),
        "closing twice changes nothing"
    );
    let written = store.run_findings(&run).await.expect("findings");
    assert_eq!(written.len(), 2, "one finding per unit, none from the late worker: {written:?}");
    assert!(written.iter().all(|f| f.detail["note"] == "from b"));
    let progress = store.queue_progress(&run).await.expect("progress").expect("run");
    assert_eq!((progress.status.as_str(), progress.done, progress.taken_over), ("finished", 2, 2));
    assert_eq!(store.run_end(&run).await.expect("end"), Some(gongkai::store::RunEnd::Finished));
}

#[tokio::test]
async fn a_heartbeat_keeps_the_leases_of_the_units_in_work_and_only_those() {
    let store = Store::memory().await.expect("store");
    let run = queued(&store, &codes(3)).await;
    let held = store.claim_tasks("a", 3, Duration::ZERO).await.expect("claim");
    assert_eq!(held.len(), 3);
    // A still works on two of them; the third one's crawl died inside A.
    store.heartbeat("a", &held[..2], LONG).await.expect("heartbeat");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let taken = store.claim_tasks("b", 3, LONG).await.expect("claim");
    assert_eq!(taken.len(), 1, "only the lease A stopped renewing passes to B: {taken:?}");
    assert_eq!(taken[0].unit, held[2].unit);
    let progress = store.queue_progress(&run).await.expect("progress").expect("run");
    assert_eq!(progress.leased, 3);
}

#[tokio::test]
async fn cancelling_drops_the_units_nobody_took_and_closes_with_the_units_done() {
    let store = Store::memory().await.expect("store");
    let units = codes(5);
    let run = queued(&store, &units).await;
    let held = store.claim_tasks("a", 2, LONG).await.expect("claim");
    store.cancel_queued_run(&run).await.expect("cancel");
    let progress = store.queue_progress(&run).await.expect("progress").expect("run");
    assert_eq!((progress.status.as_str(), progress.dropped, progress.leased), ("running", 3, 2));
    assert!(
        store.claim_tasks("b", 5, LONG).await.expect("claim").is_empty(),
        "dropped units are not handed out"
    );
    for task in &held {
        assert!(complete(&store, task, "a", &[]).await);
    }
    assert!(store.close_queued_run_if_done(&run).await.expect("close"));
    assert_eq!(store.run_end(&run).await.expect("end"), Some(gongkai::store::RunEnd::Cancelled));
}

/// A city of `n` units whose sites are paths of one local server.
async fn city(server: &PageServer, n: u32) -> (Store, Vec<Unit>) {
    let store = Store::memory().await.expect("store");
    let mut csv = HEADER.to_string();
    for i in 1..=n {
        csv.push_str(&format!(
            "{},测试局{i},department,,{},,\n",
            credit_code(i),
            server.url(&format!("/u{i}/"))
        ));
    }
    let file = read_registry(csv.as_bytes()).expect("readable");
    let plan = plan_import(&file, &[]).expect("valid");
    store.apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {}).await.expect("import");
    let units = store.units().await.expect("units");
    (store, units)
}

/// Sites that differ per unit: odd units' home pages are stale, even units' are missing.
fn site(request: &crate::page_server::Request) -> Answer {
    let path = request.path.as_str();
    let n: u32 = path.trim_start_matches("/u").split('/').next().and_then(|n| n.parse().ok()).unwrap_or(0);
    if n.is_multiple_of(2) {
        return Answer::status(404);
    }
    Answer::html(format!(
        "<html><head><title>测试局{n}</title></head><body><h1>测试局{n}</h1>\
         <ul><li><a href=\"/u{n}/a.html\">通知</a> 2020-01-0{}</li></ul></body></html>",
        1 + n % 9
    ))
}

fn crawl_request(units: Vec<Unit>) -> SiteCrawl {
    SiteCrawl {
        profile: SiteProfile::builtin().expect("profile"),
        units,
        day: NaiveDate::from_ymd_opt(2026, 12, 1).expect("day"),
        observed_at: Utc.with_ymd_and_hms(2026, 12, 1, 4, 0, 0).single().expect("instant"),
        allow_private: true,
    }
}

fn by_unit(findings: &[Finding]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in findings {
        map.entry(f.unit.to_string()).or_default().push(f.check.clone());
    }
    map.values_mut().for_each(|checks| checks.sort());
    map
}

#[tokio::test]
async fn a_crawl_done_by_workers_records_what_a_crawl_in_one_process_records() {
    let server = PageServer::start(site).await;
    let (local_store, local_units) = city(&server, 6).await;
    let local = jobs::crawl_sites(&local_store, crawl_request(local_units), &Progress::default())
        .await
        .expect("local");
    let local_run = local_store.open_run(&local.summary.run, CrawlKind::Site).expect("run");
    let local_findings = local_store.run_findings(&local_run).await.expect("findings");
    assert!(!local_findings.is_empty(), "the fixture sites have problems to find");

    let (store, units) = city(&server, 6).await;
    let shutdown = CancellationToken::new();
    let mut workers = tokio::task::JoinSet::new();
    for i in 0..2 {
        let (store, shutdown) = (store.clone(), shutdown.clone());
        let registration =
            WorkerRegistration { name: format!("test-{i}"), host: "test".into(), pid: i, concurrency: 0 };
        let options = WorkerOptions {
            concurrency: 2,
            poll: Duration::from_millis(20),
            allow_private: true,
            ..WorkerOptions::default()
        };
        workers.spawn(async move { jobs::run_worker(&store, registration, options, shutdown).await });
    }
    // Both registered before the crawl is asked for, so that it is queued.
    while store.workers(jobs::DEFAULT_LEASE).await.expect("workers").iter().filter(|w| w.alive).count() < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let queued =
        jobs::crawl_sites(&store, crawl_request(units), &Progress::default()).await.expect("queued crawl");
    let run = store.open_run(&queued.summary.run, CrawlKind::Site).expect("run");
    let progress =
        store.queue_progress(&run).await.expect("progress").expect("the crawl was queued, not local");
    assert_eq!((progress.total, progress.done, progress.status.as_str()), (6, 6, "finished"));
    let queued_findings = store.run_findings(&run).await.expect("findings");
    assert_eq!(by_unit(&queued_findings), by_unit(&local_findings), "same checks per unit, however crawled");
    assert_eq!(queued.summary.findings, local.summary.findings);
    assert_eq!(queued.summary.by_check, local.summary.by_check);
    assert_eq!(queued.summary.written, 6);

    shutdown.cancel();
    let mut done = 0;
    while let Some(report) = workers.join_next().await {
        done += report.expect("worker task").expect("worker").tasks_done;
    }
    assert_eq!(done, 6, "every unit done once, by one of the two workers");
    let after = store.workers(jobs::DEFAULT_LEASE).await.expect("workers");
    assert!(
        after.iter().all(|w| !w.alive && w.stopped_at.is_some()),
        "stopped workers unregister: {after:?}"
    );
}
