//! Catalogue crawl runs are written unit by unit (issue #11): every unit's entries land whole,
//! a unit that fails (its crawl or its save) keeps what it had while the others are written,
//! and a run still in progress never reaches an assessment.

use chrono::{TimeZone, Utc};
use gongkai::model::{CatalogueEntry, CrawlKind, Finding, FindingStatus, Metric, OrgCode, Source, UnitKind};
use gongkai::store::{FindingFilter, RunEnd, Store, UnitResults};
use rust_decimal::Decimal;

use crate::catalogue::{as_of, classes, record_catalogues, unit};
use crate::catalogue_fixtures::{Catalogue, serve};
use crate::support::org_code;

#[tokio::test(flavor = "multi_thread")]
async fn every_unit_of_a_catalogue_crawl_is_written_with_all_its_entries() {
    let store = Store::memory().await.expect("store");
    let class_names = classes(UnitKind::Institution);
    // Five units of different sizes, several pages per class for most.
    let catalogues: Vec<(String, Catalogue)> = (0..5u32)
        .map(|i| {
            let code = org_code(500 + i);
            let catalogue =
                Catalogue::complete(&format!("w{i}"), &code, &class_names, 3 + 11 * i as usize, as_of());
            (code, catalogue)
        })
        .collect();
    let site = serve(&catalogues.iter().map(|(_, c)| c).collect::<Vec<_>>()).await;
    let units: Vec<_> =
        catalogues.iter().map(|(code, c)| unit(code, UnitKind::Institution, &site, c)).collect();
    let summary = record_catalogues(&store, &units, Utc::now()).await;

    let served: Vec<usize> =
        catalogues.iter().map(|(_, c)| c.classes.iter().map(|(_, rows)| rows.len()).sum()).collect();
    assert_eq!((summary.units, summary.written, summary.reachable, summary.cancelled), (5, 5, 5, false));
    assert_eq!(summary.entries, served.iter().sum::<usize>());
    for ((code, _), served) in catalogues.iter().zip(&served) {
        let stored = store.catalogue_entries(&OrgCode::parse(code).expect("code"), None).await.expect("list");
        assert_eq!(stored.len(), *served, "{code}");
    }
    let evidence = store.evidence(Utc::now()).await.expect("evidence");
    for (code, _) in &catalogues {
        let unit = OrgCode::parse(code).expect("code");
        assert!(evidence.get(&unit).is_some_and(|e| e.crawled.contains("catalogue")), "{code} is covered");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_unit_that_cannot_be_read_keeps_its_entries_while_the_others_are_replaced() {
    let store = Store::memory().await.expect("store");
    let class_names = classes(UnitKind::Institution);
    let (a, b) = (org_code(601), org_code(602));
    let first = [
        Catalogue::complete("fa", &a, &class_names, 4, as_of()),
        Catalogue::complete("fb", &b, &class_names, 5, as_of()),
    ];
    let site = serve(&[&first[0], &first[1]]).await;
    let units = [
        unit(&a, UnitKind::Institution, &site, &first[0]),
        unit(&b, UnitKind::Institution, &site, &first[1]),
    ];
    record_catalogues(&store, &units, Utc::now()).await;
    let (a_code, b_code) = (OrgCode::parse(&a).expect("code"), OrgCode::parse(&b).expect("code"));
    let b_before = store.catalogue_entries(&b_code, None).await.expect("list");
    assert_eq!(b_before.len(), 5 * class_names.len());

    // Next crawl: a's catalogue grew, b's is gone from the server.
    drop(site);
    let grown = Catalogue::complete("fa", &a, &class_names, 7, as_of());
    let site = serve(&[&grown]).await;
    let units =
        [unit(&a, UnitKind::Institution, &site, &grown), unit(&b, UnitKind::Institution, &site, &first[1])];
    let summary = record_catalogues(&store, &units, Utc::now()).await;
    assert_eq!((summary.written, summary.reachable), (2, 1));
    assert_eq!(store.catalogue_entries(&a_code, None).await.expect("list").len(), 7 * class_names.len());
    assert_eq!(
        store.catalogue_entries(&b_code, None).await.expect("list"),
        b_before,
        "b's entries untouched"
    );
}

fn finding(unit: &OrgCode, check: &str, day: u32) -> Finding {
    Finding {
        id: None,
        unit: unit.clone(),
        check: check.into(),
        source: Source::Crawler,
        observed_at: Utc.with_ymd_and_hms(2026, 11, day, 4, 0, 0).single().expect("instant"),
        url: None,
        detail: serde_json::json!({}),
        status: FindingStatus::Open,
        rectify_by: None,
    }
}

fn entries(unit: &OrgCode, n: usize) -> Vec<CatalogueEntry> {
    (0..n)
        .map(|i| CatalogueEntry {
            unit: unit.clone(),
            class: "政策法规".into(),
            index_no: Some(format!("000000001/2026-{i:05}")),
            title: format!("第{i}号文件"),
            publisher: None,
            created_on: Some(as_of()),
            doc_no: None,
            topic: None,
            genre: None,
            service: None,
            url: None,
        })
        .collect()
}

fn checks(findings: &[Finding], unit: &OrgCode) -> Vec<String> {
    let mut found: Vec<String> =
        findings.iter().filter(|f| &f.unit == unit).map(|f| f.check.clone()).collect();
    found.sort();
    found
}

#[tokio::test]
async fn a_failed_save_leaves_that_unit_as_it_was_and_the_other_units_written() {
    let store = Store::memory().await.expect("store");
    let (a, b) =
        (OrgCode::parse(&org_code(701)).expect("code"), OrgCode::parse(&org_code(702)).expect("code"));
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 4, 0, 0).single().expect("instant");
    let old = store.begin_crawl_run(CrawlKind::Catalogue, at, at).await.expect("run");
    for unit in [&a, &b] {
        let results = UnitResults {
            unit,
            findings: &[finding(unit, "catalogue.stale", 1)],
            metrics: &[],
            entries: Some(&entries(unit, 30)),
        };
        store.record_run_unit(&old, results).await.expect("unit written");
    }
    store.finish_crawl_run(&old, RunEnd::Finished, serde_json::json!({})).await.expect("closed");

    let later = Utc.with_ymd_and_hms(2026, 11, 10, 4, 0, 0).single().expect("instant");
    let run = store.begin_crawl_run(CrawlKind::Catalogue, later, later).await.expect("run");
    let a_new = [finding(&a, "catalogue.missing_fields", 10)];
    let metric = Metric {
        unit: a.clone(),
        name: "catalogue.active_months".into(),
        value: Decimal::from(3),
        observed_at: later,
    };
    let a_results = UnitResults {
        unit: &a,
        findings: &a_new,
        metrics: std::slice::from_ref(&metric),
        entries: Some(&entries(&a, 12)),
    };
    store.record_run_unit(&run, a_results).await.expect("a written");
    // b's save fails part-way: its finding breaks the schema after its entries were queued.
    let broken = [finding(&b, "catalogue.missing_fields", 10), finding(&b, "NOT A CHECK", 10)];
    let b_results = UnitResults { unit: &b, findings: &broken, metrics: &[], entries: Some(&entries(&b, 3)) };
    assert!(store.record_run_unit(&run, b_results).await.is_err(), "the schema refuses the finding");
    // A retried unit replaces what this run wrote for it before, never duplicates it.
    store.record_run_unit(&run, a_results).await.expect("a written again");
    store.finish_crawl_run(&run, RunEnd::Finished, serde_json::json!({})).await.expect("closed");

    assert_eq!(store.catalogue_entries(&a, None).await.expect("list").len(), 12);
    assert_eq!(store.catalogue_entries(&b, None).await.expect("list").len(), 30, "b's entries untouched");
    let current = store.findings(&FindingFilter::default()).await.expect("findings");
    assert_eq!(checks(&current, &a), ["catalogue.missing_fields"]);
    assert_eq!(checks(&current, &b), ["catalogue.stale"], "b's findings are still current");
    let evidence = store.evidence(Utc::now()).await.expect("evidence");
    assert_eq!(checks(&evidence[&a].findings, &a), ["catalogue.missing_fields"]);
    assert_eq!(evidence[&a].metrics.get("catalogue.active_months"), Some(&Decimal::from(3)));
    assert_eq!(checks(&evidence[&b].findings, &b), ["catalogue.stale"], "b is scored on its previous run");
}

#[tokio::test]
async fn a_run_in_progress_never_reaches_an_assessment() {
    let store = Store::memory().await.expect("store");
    let (a, b) =
        (OrgCode::parse(&org_code(801)).expect("code"), OrgCode::parse(&org_code(802)).expect("code"));
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 4, 0, 0).single().expect("instant");
    let old = store.begin_crawl_run(CrawlKind::Site, at, at).await.expect("run");
    for unit in [&a, &b] {
        let results = UnitResults {
            unit,
            findings: &[finding(unit, "site.dead_links", 1)],
            metrics: &[],
            entries: None,
        };
        store.record_run_unit(&old, results).await.expect("written");
    }
    store.finish_crawl_run(&old, RunEnd::Finished, serde_json::json!({})).await.expect("closed");

    let later = Utc.with_ymd_and_hms(2026, 11, 10, 4, 0, 0).single().expect("instant");
    let run = store.begin_crawl_run(CrawlKind::Site, later, later).await.expect("run");
    let a_new = [finding(&a, "site.unreachable", 10)];
    store
        .record_run_unit(&run, UnitResults { unit: &a, findings: &a_new, metrics: &[], entries: None })
        .await
        .expect("a");

    // Half the city is written: assessments still see the last closed run for everyone.
    let evidence = store.evidence(Utc::now()).await.expect("evidence");
    assert_eq!(checks(&evidence[&a].findings, &a), ["site.dead_links"]);
    assert_eq!(checks(&evidence[&b].findings, &b), ["site.dead_links"]);
    // Listings switch a unit as a whole: a is all new, b all old.
    let current = store.findings(&FindingFilter::default()).await.expect("findings");
    assert_eq!(checks(&current, &a), ["site.unreachable"]);
    assert_eq!(checks(&current, &b), ["site.dead_links"]);

    // Cancelled before b: the run counts for a only, and b keeps its previous run.
    store
        .finish_crawl_run(&run, RunEnd::Cancelled, serde_json::json!({ "written": 1 }))
        .await
        .expect("closed");
    assert_eq!(store.crawl_run_units(&run).await.expect("units"), [a.to_string()]);
    let evidence = store.evidence(Utc::now()).await.expect("evidence");
    assert_eq!(checks(&evidence[&a].findings, &a), ["site.unreachable"]);
    assert_eq!(checks(&evidence[&b].findings, &b), ["site.dead_links"]);
}
