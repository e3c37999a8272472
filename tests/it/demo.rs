//! The demo city behind `gongkai demo`: built once into an embedded store in a temporary
//! directory, then checked from what the store reads back — the reference city's shape, a
//! spread of findings of many kinds, both rule sets' cycles with rank changes and laggards, the
//! inspectors' evidence, and one working account per role.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use gongkai::auth::verify_password;
use gongkai::demo::{self, DemoCity};
use gongkai::jobs::Progress;
use gongkai::model::{Finding, Role, Source, UnitKind};
use gongkai::store::{FindingFilter, Store, StoreConfig};

/// Every check the demo city must show somewhere.
const EXPECTED_CHECKS: [&str; 17] = [
    "site.unreachable",
    "home.stale",
    "column.missing",
    "column.empty",
    "column.stale",
    "link.broken",
    "content.spam",
    "identity.missing",
    "report.annual_missing",
    "interaction.unanswered",
    "catalogue.unreachable",
    "catalogue.class_missing",
    "catalogue.index_invalid",
    "catalogue.index_duplicate",
    "catalogue.metadata_missing",
    "catalogue.stale",
    "field.no_staff",
];

const SPAM_TECHNIQUES: [&str; 8] = [
    "injected phrase",
    "lexicon",
    "hidden link",
    "hidden iframe",
    "script-written link",
    "meta refresh",
    "cloaking",
    "organisation name replaced",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_demo_city_has_the_reference_shape_a_spread_of_problems_and_an_account_per_role() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("surrealkv://{}", dir.path().join("db").display());
    let store = Store::connect(&StoreConfig::new(db)).await.expect("store");
    let progress = Progress::default();
    let started = Instant::now();
    let city = demo::build(&store, &progress).await.expect("the demo city builds");
    eprintln!(
        "demo::build: {:.1} s, {} responses served, counts {:?}",
        started.elapsed().as_secs_f64(),
        city.sites.pages_served(),
        city.counts
    );

    check_units(&store, &city).await;
    check_findings(&store).await;
    check_cycles(&store, &city).await;
    check_accounts(&store, &city).await;
    check_annual_report(&store).await;

    let refused = demo::build(&store, &Progress::default()).await;
    assert!(matches!(refused, Err(demo::DemoError::StoreNotEmpty(268))), "a second build must be refused");

    let address = city.sites.addresses()[0];
    city.sites.stop();
    assert!(stops_answering(address).await, "the demo servers stop with their handle");
    store.close().await;
}

/// The city's own annual report for 2026 (issue #17): every section of the national format,
/// the whole registry crawled and assessed in both eras' cycles.
async fn check_annual_report(store: &Store) {
    let figures = store.annual_figures(2026).await.expect("figures");
    let template = gongkai::crawl::report::ReportTemplate::builtin().expect("template");
    let draft = gongkai::notify::annual::draft(&figures, &template);
    let value = |key: &str| draft.figure(key).map(|f| f.value);
    assert_eq!(draft.sections.len(), 6);
    assert_eq!(value("units.total"), Some(268));
    assert_eq!(value("site_units"), Some(268));
    assert_eq!(value("units_assessed"), Some(268));
    assert_eq!(value("cycles"), Some(3));
    assert!(value("units_visited").is_some_and(|n| n >= 25), "{figures:?}");
}

async fn check_units(store: &Store, city: &DemoCity) {
    let units = store.units().await.expect("units");
    let count = |kind| units.iter().filter(|u| u.kind == kind).count();
    assert_eq!(units.len(), 268);
    assert_eq!(
        [UnitKind::Department, UnitKind::Institution, UnitKind::District, UnitKind::Devzone].map(count),
        [88, 161, 12, 7]
    );
    let served: BTreeMap<String, String> =
        city.sites.sites().map(|(code, address)| (code.to_string(), format!("http://{address}/"))).collect();
    for unit in &units {
        let website = unit.website.as_deref().expect("every demo unit has a website");
        assert_eq!(Some(&website.to_owned()), served.get(unit.code.as_str()), "{}", unit.code);
        let host = url::Url::parse(website).expect("url").host_str().expect("host").to_owned();
        assert!(host.parse::<std::net::Ipv4Addr>().expect("an IP address").is_loopback(), "{website}");
        if let Some(catalogue) = &unit.catalogue_url {
            assert_eq!(catalogue, &format!("{website}xxgk/"));
        }
    }
    assert_eq!(city.counts.units, 268);
    assert!(city.counts.current_crawl.site_pages > 268 * 5, "{:?}", city.counts.current_crawl);
    assert!(city.counts.current_crawl.catalogue_entries > 1_000, "{:?}", city.counts.current_crawl);
}

async fn check_findings(store: &Store) {
    let findings = store.findings(&FindingFilter::default()).await.expect("findings");
    let by_check: BTreeMap<&str, usize> = findings.iter().fold(BTreeMap::new(), |mut counts, f| {
        *counts.entry(f.check.as_str()).or_default() += 1;
        counts
    });
    for check in EXPECTED_CHECKS {
        assert!(by_check.contains_key(check), "no {check} finding; found {by_check:?}");
    }
    // Annual reports (issue #17): every unit's is its own, three carry a planned defect.
    assert!(!by_check.contains_key("report.stale_copy"), "{by_check:?}");
    let units_with = |check: &str| {
        findings.iter().filter(|f| f.check == check).map(|f| f.unit.as_str()).collect::<BTreeSet<_>>().len()
    };
    assert_eq!([units_with("report.section_missing"), units_with("report.table_inconsistent")], [2, 1]);
    // Most units are healthy: the crawler found nothing at most of them.
    let crawled_with_findings: BTreeSet<&str> =
        findings.iter().filter(|f| f.source == Source::Crawler).map(|f| f.unit.as_str()).collect();
    assert!(crawled_with_findings.len() < 134, "{} units with crawler findings", crawled_with_findings.len());
    assert!(crawled_with_findings.len() > 40, "{} units with crawler findings", crawled_with_findings.len());

    let spam: Vec<&Finding> = findings.iter().filter(|f| f.check == "content.spam").collect();
    let techniques: BTreeSet<&str> = spam.iter().filter_map(|f| f.detail["technique"].as_str()).collect();
    for technique in SPAM_TECHNIQUES {
        assert!(techniques.contains(technique), "no spam by {technique}: {techniques:?}");
    }
    let snippet = |f: &&Finding| f.detail["snippet"].as_str().unwrap_or_default().to_owned();
    assert!(
        spam.iter().map(snippet).any(|s| s.contains("<script>alert(1)</script>") && s.contains("<b>")),
        "a spam snippet must carry markup for the dashboard to escape: {:?}",
        spam.iter().map(snippet).collect::<Vec<_>>()
    );

    let inspected: Vec<&Finding> = findings.iter().filter(|f| f.source == Source::Inspector).collect();
    let groups: BTreeSet<&str> = inspected.iter().filter_map(|f| f.detail["group"].as_str()).collect();
    assert_eq!(groups, BTreeSet::from(["第一组", "第二组", "第三组", "第四组"]));
    assert!(inspected.iter().all(|f| f.check.starts_with("field.") && f.rectify_by.is_some()));
    let visited: BTreeSet<&str> = inspected.iter().map(|f| f.unit.as_str()).collect();
    assert!(visited.len() >= 25, "{} units with inspectors' findings", visited.len());
}

async fn check_cycles(store: &Store, city: &DemoCity) {
    let cycles = store.cycles().await.expect("cycles");
    let ids: Vec<&str> = cycles.iter().map(|c| c.cycle.as_str()).collect();
    assert_eq!(
        ids,
        ["gov-website-2019-2026-08-31", "gov-website-2019-2026-11-20", "city-disclosure-2009-2026-11-20"]
    );
    let current = store.current_cycle().await.expect("current").expect("a current cycle");
    assert_eq!(current.cycle, "gov-website-2019-2026-11-20");
    assert_eq!(city.current_cycle, current.cycle);
    for cycle in &ids {
        let ranking = store.ranking(cycle).await.expect("ranking");
        assert_eq!(ranking.len(), 268, "{cycle}");
        assert!(ranking.iter().any(|r| r.laggard), "{cycle} has no laggard");
        assert!(ranking.iter().any(|r| r.passed), "{cycle} has no unit that passed");
        let totals: BTreeSet<_> = ranking.iter().map(|r| r.score).collect();
        assert!(totals.len() >= 10, "{cycle}: only {} distinct totals", totals.len());
    }
    let website = store.ranking(ids[1]).await.expect("ranking");
    assert!(website.iter().all(|r| r.previous_rank.is_some()), "ranked against the previous quarter");
    assert!(website.iter().filter(|r| r.rank_change.is_some_and(|c| c != 0)).count() >= 10);
    assert!(website.iter().any(|r| r.veto.is_some()));
    // The units whose site does not answer (502, silence, refused connections) are shown for
    // what they are: unchecked (未能核查), laggards, and below every checked unit that passed.
    let unchecked: Vec<_> = website.iter().filter(|r| !r.unchecked.is_empty()).collect();
    assert!(unchecked.iter().all(|r| r.laggard), "unchecked units are laggards");
    let unchecked: Vec<_> =
        unchecked.into_iter().filter(|r| r.unchecked.iter().any(|u| u.check == "site.unchecked")).collect();
    assert!(unchecked.len() >= 5, "{} units whose website was unchecked", unchecked.len());
    assert!(unchecked.iter().all(|r| !r.passed), "a unit whose website could not be checked fails");
    assert!(
        unchecked
            .iter()
            .any(|r| r.unchecked.iter().any(|u| u.error.as_deref().is_some_and(|e| !e.is_empty()))),
        "the reason carries the network error"
    );
    let lowest_checked_pass =
        website.iter().filter(|r| r.unchecked.is_empty() && r.passed).map(|r| r.rank).max();
    let best_unchecked = unchecked.iter().map(|r| r.rank).min();
    assert!(best_unchecked > lowest_checked_pass, "an unchecked unit outranks a checked unit that passed");
    // The seed-style hack is a security incident: a veto.
    let findings = store.findings(&FindingFilter::default()).await.expect("findings");
    let hacked = findings
        .iter()
        .find(|f| f.check == "content.spam" && f.detail["phrase"] == "bob最新官网")
        .expect("the seed-style hack is found");
    let row = website.iter().find(|r| r.unit == hacked.unit.as_str()).expect("ranked");
    assert_eq!(row.veto.as_deref(), Some("security_incident"), "{row:?}");
    let city_ranking = store.ranking(ids[2]).await.expect("ranking");
    let over_claimers = city_ranking.iter().filter(|r| r.over_claim.is_some_and(|o| o >= 5.into())).count();
    assert!(over_claimers >= 3, "{over_claimers} units over-claimed by 5 points or more");
    assert!(city_ranking.iter().filter(|r| r.self_claimed.is_some()).count() >= 50);
}

async fn check_accounts(store: &Store, city: &DemoCity) {
    let roles: Vec<(&str, Role)> = city.accounts.iter().map(|a| (a.username.as_str(), a.role)).collect();
    assert_eq!(
        roles,
        [
            ("demo-office", Role::Office),
            ("demo-leader", Role::Leader),
            ("demo-inspector", Role::Inspector),
            ("demo-unit", Role::Unit)
        ]
    );
    for shown in &city.accounts {
        let (stored, hash) = store.account(&shown.username).await.expect("read").expect("account stored");
        assert!(verify_password(&shown.password, &hash), "{}", shown.username);
        assert!(!verify_password(&format!("{}x", shown.password), &hash));
        assert_eq!(
            (stored.role, &stored.unit, &stored.inspector_group),
            (shown.role, &shown.unit, &shown.group)
        );
    }
    let passwords: BTreeSet<&str> = city.accounts.iter().map(|a| a.password.as_str()).collect();
    assert_eq!(passwords.len(), 4, "every account has its own password");

    let inspector = city.account(Role::Inspector).expect("inspector");
    assert_eq!(inspector.group.as_deref(), Some("第一组"));
    let unit = city.account(Role::Unit).and_then(|a| a.unit.clone()).expect("the unit account is bound");
    let filter = FindingFilter { unit: Some(unit.clone()), ..FindingFilter::default() };
    let findings = store.findings(&filter).await.expect("findings");
    assert!(findings.iter().any(|f| f.source == Source::Inspector), "the demo unit has inspectors' findings");
    assert!(findings.iter().any(|f| f.source == Source::Crawler), "and crawler findings");
    assert!(findings.iter().any(|f| f.detail["group"] == "第一组"), "found by the first group");
    let assigned = store.group_units("第一组").await.expect("group units");
    assert!(assigned.contains(&unit), "the first group is assigned the demo unit");
    assert_eq!(assigned.len(), 10);
}

/// Whether connecting to `address` is refused within a few tries (the listener task ends
/// asynchronously once aborted).
async fn stops_answering(address: std::net::SocketAddr) -> bool {
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(address).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
