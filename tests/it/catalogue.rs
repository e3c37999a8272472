//! The disclosure catalogue (issue #4): parsing fixture catalogues served on 127.0.0.1, the
//! `catalogue.*` checks, cadence metrics, and storing, listing and searching entries.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use gongkai::crawl::catalogue::{CatalogueOutcome, CatalogueProfile, CatalogueProgress, crawl_unit};
use gongkai::crawl::{FetchConfig, Fetcher};
use gongkai::jobs::{CatalogueCrawl, CatalogueSummary, Progress};
use gongkai::model::{Finding, OrgCode, Unit, UnitKind};
use gongkai::store::{FindingFilter, Store, StoreConfig};
use rust_decimal::Decimal;
use serde_json::json;

use crate::catalogue_fixtures::{Catalogue, Col, StaticSite, row, serve};
use crate::support::{credit_code, org_code};

pub(crate) fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).expect("date")
}

fn profile() -> CatalogueProfile {
    CatalogueProfile::builtin().expect("shipped profile")
}

fn fetcher() -> Fetcher {
    Fetcher::new(FetchConfig {
        allow_private: true,
        min_gap_ms: 0,
        total_timeout_secs: 5,
        ..FetchConfig::default()
    })
    .expect("fetcher")
}

/// Crawls `units`' catalogues as a job does and records the run, one unit at a time.
pub(crate) async fn record_catalogues(
    store: &Store,
    units: &[Unit],
    observed: DateTime<Utc>,
) -> CatalogueSummary {
    let mut profile = profile();
    profile.fetch.allow_private = true;
    profile.fetch.min_gap_ms = 0;
    profile.fetch.total_timeout_secs = 5;
    let request = CatalogueCrawl {
        profile,
        units: units.to_vec(),
        day: as_of(),
        observed_at: observed,
        allow_private: true,
    };
    gongkai::jobs::crawl_catalogues(store, request, &Progress::default()).await.expect("recorded").summary
}

pub(crate) fn unit(code: &str, kind: UnitKind, site: &StaticSite, catalogue: &Catalogue) -> Unit {
    Unit {
        code: OrgCode::parse(code).expect("valid code"),
        name: "南宁市测试单位".into(),
        kind,
        parent_code: None,
        website: None,
        catalogue_url: Some(site.url(&catalogue.root_path()).to_string()),
        email: None,
    }
}

pub(crate) fn classes(kind: UnitKind) -> Vec<String> {
    profile().classes_for(kind).to_vec()
}

async fn crawl(unit: &Unit) -> CatalogueOutcome {
    let observed = Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0).single().expect("instant");
    crawl_unit(&fetcher(), &profile(), unit, as_of(), observed, &CatalogueProgress::default())
        .await
        .expect("unit has a catalogue")
}

fn checks(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.check.as_str()).collect()
}

fn metric(outcome: &CatalogueOutcome, name: &str) -> Decimal {
    outcome.output.metrics.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("metric {name}")).value
}

/// A department with a complete catalogue and one defect made by `spoil`.
async fn department_with(spoil: impl FnOnce(&mut Catalogue, &str)) -> (CatalogueOutcome, Catalogue) {
    let code = org_code(101);
    let mut catalogue = Catalogue::complete("d", &code, &classes(UnitKind::Department), 3, as_of());
    spoil(&mut catalogue, &code);
    let site = serve(&[&catalogue]).await;
    let outcome = crawl(&unit(&code, UnitKind::Department, &site, &catalogue)).await;
    (outcome, catalogue)
}

#[tokio::test]
async fn a_complete_catalogue_of_each_kind_has_no_findings() {
    for (n, kind) in
        [UnitKind::Department, UnitKind::Institution, UnitKind::Authorised].into_iter().enumerate()
    {
        let code = credit_code(200 + n as u32);
        let catalogue = Catalogue::complete("c", &code, &classes(kind), 2, as_of());
        let site = serve(&[&catalogue]).await;
        let outcome = crawl(&unit(&code, kind, &site, &catalogue)).await;
        let required = classes(kind).len();
        assert_eq!(required, if kind == UnitKind::Department { 14 } else { 6 });
        assert!(outcome.output.findings.is_empty(), "{kind}: {:#?}", outcome.output.findings);
        assert_eq!(outcome.scan.entries.len(), required * 2);
        assert_eq!(metric(&outcome, "catalogue.classes_present"), Decimal::from(required));
        let first = &outcome.scan.entries[0];
        assert_eq!(first.class, classes(kind)[0]);
        assert_eq!(first.publisher.as_deref(), Some("南宁市测试局"));
        assert_eq!(first.topic.as_deref(), Some("综合政务"));
        assert_eq!(first.created_on, as_of().pred_opt());
        assert_eq!(first.url.as_deref(), Some(site.url("/c/doc/1.html").as_str()));
    }
}

#[tokio::test]
async fn an_absent_class_is_named() {
    let (outcome, _) = department_with(|c, _| c.classes.retain(|(name, _)| name != "政府会议")).await;
    assert_eq!(checks(&outcome.output.findings), ["catalogue.class_missing"]);
    let detail = &outcome.output.findings[0].detail;
    assert_eq!((detail["class"].as_str(), detail["reason"].as_str()), (Some("政府会议"), Some("absent")));
}

#[tokio::test]
async fn an_empty_class_is_missing() {
    let (outcome, _) = department_with(|c, _| c.class_mut("统计信息").clear()).await;
    assert_eq!(checks(&outcome.output.findings), ["catalogue.class_missing"]);
    let finding = &outcome.output.findings[0];
    assert_eq!(
        (finding.detail["class"].as_str(), finding.detail["reason"].as_str()),
        (Some("统计信息"), Some("empty"))
    );
    assert!(finding.url.as_deref().is_some_and(|u| u.ends_with("/d/c6/1.html")), "{:?}", finding.url);
}

#[tokio::test]
async fn an_index_breaking_the_grammar_is_named_with_its_url() {
    let (outcome, _) =
        department_with(|c, code| c.class_mut("政策法规")[1].index_no = format!("{code}-2026-0002")).await;
    assert_eq!(checks(&outcome.output.findings), ["catalogue.index_invalid"]);
    let finding = &outcome.output.findings[0];
    assert_eq!(finding.detail["reason"], "grammar");
    assert_eq!(finding.detail["index_no"], format!("{}-2026-0002", org_code(101)));
    assert!(finding.url.as_deref().is_some_and(|u| u.ends_with("/d/doc/5.html")), "{:?}", finding.url);
    assert_eq!(finding.detail["url"].as_str(), finding.url.as_deref());
}

#[tokio::test]
async fn an_index_naming_another_organisation_is_invalid() {
    let other = org_code(999);
    let (outcome, _) = department_with(|c, _| {
        let row = &mut c.class_mut("财政资金")[0];
        row.index_no = format!("{other}/{}", row.index_no.split_once('/').expect("slash").1);
    })
    .await;
    assert_eq!(checks(&outcome.output.findings), ["catalogue.index_invalid"]);
    assert_eq!(outcome.output.findings[0].detail["reason"], "org_mismatch");
    assert_eq!(outcome.output.findings[0].detail["found"], other);
}

#[tokio::test]
async fn an_index_year_differing_from_the_creation_date_is_invalid() {
    let (outcome, _) =
        department_with(|c, code| c.class_mut("其他")[0].index_no = format!("{code}/2019-00040")).await;
    assert_eq!(checks(&outcome.output.findings), ["catalogue.index_invalid"]);
    let detail = &outcome.output.findings[0].detail;
    assert_eq!(
        (detail["reason"].clone(), detail["found"].clone(), detail["expected"].clone()),
        (json!("year_mismatch"), json!("2019"), json!(2026))
    );
    assert_eq!(detail["index_no"], format!("{}/2019-00040", org_code(101)));
}

#[tokio::test]
async fn a_credit_code_unit_may_use_its_full_code_or_the_embedded_organisation_code() {
    let code = credit_code(321);
    let embedded = OrgCode::parse(&code).expect("valid").organisation_part().to_owned();
    assert_eq!(embedded, org_code(321));
    let mut catalogue = Catalogue::complete("e", &code, &classes(UnitKind::Institution), 2, as_of());
    for (_, rows) in &mut catalogue.classes {
        rows[0].index_no = rows[0].index_no.replacen(&code, &embedded, 1);
    }
    let site = serve(&[&catalogue]).await;
    let outcome = crawl(&unit(&code, UnitKind::Institution, &site, &catalogue)).await;
    assert!(outcome.output.findings.is_empty(), "{:#?}", outcome.output.findings);
}

#[tokio::test]
async fn a_duplicate_index_is_one_finding_naming_both_entries() {
    let (outcome, catalogue) = department_with(|c, _| {
        let first = c.class_mut("机构职能")[0].index_no.clone();
        c.class_mut("人事信息")[2].index_no = first;
    })
    .await;
    assert_eq!(checks(&outcome.output.findings), ["catalogue.index_duplicate"]);
    let finding = &outcome.output.findings[0];
    let dup = &catalogue.classes[5].1[2];
    assert_eq!(finding.detail["index_no"], catalogue.classes[0].1[0].index_no);
    assert_eq!(finding.detail["count"], 2);
    assert!(finding.url.as_deref().is_some_and(|u| u.ends_with(&dup.href)), "{:?}", finding.url);
    assert_eq!(metric(&outcome, "catalogue.index_duplicate_entries"), Decimal::ONE);
}

#[tokio::test]
async fn missing_mandatory_metadata_is_named_per_entry() {
    let (outcome, catalogue) =
        department_with(|c, _| c.class_mut("政府采购")[1].publisher = " ".into()).await;
    assert_eq!(checks(&outcome.output.findings), ["catalogue.metadata_missing"]);
    let finding = &outcome.output.findings[0];
    let spoiled = &catalogue.classes[9].1[1];
    assert_eq!(finding.detail["missing"], json!(["publisher"]));
    assert_eq!(finding.detail["index_no"], spoiled.index_no);
    assert!(finding.url.as_deref().is_some_and(|u| u.ends_with(&spoiled.href)));
}

#[tokio::test]
async fn an_old_catalogue_is_stale_with_its_gap_profile() {
    let code = org_code(102);
    let newest = NaiveDate::from_ymd_opt(2026, 5, 1).expect("date");
    let catalogue = Catalogue::complete("s", &code, &classes(UnitKind::Authorised), 2, newest);
    let site = serve(&[&catalogue]).await;
    let outcome = crawl(&unit(&code, UnitKind::Authorised, &site, &catalogue)).await;
    assert_eq!(checks(&outcome.output.findings), ["catalogue.stale"]);
    let detail = &outcome.output.findings[0].detail;
    assert_eq!(detail["newest"], "2026-04-30");
    assert_eq!(detail["days_since_newest"], 204);
    assert_eq!(detail["monthly"].as_array().map(Vec::len), Some(24));
}

#[tokio::test]
async fn reordered_and_renamed_columns_are_read() {
    let code = org_code(103);
    let mut catalogue = Catalogue::complete("r", &code, &classes(UnitKind::Institution), 2, as_of());
    catalogue.columns = [
        ("序号", Col::Seq),
        ("发布日期", Col::Date),
        ("标题", Col::Title),
        ("发布单位", Col::Publisher),
        ("索 引 号", Col::Index),
        ("服务对象", Col::Service),
    ]
    .map(|(h, c)| (h.to_owned(), c))
    .to_vec();
    let site = serve(&[&catalogue]).await;
    let outcome = crawl(&unit(&code, UnitKind::Institution, &site, &catalogue)).await;
    assert!(outcome.output.findings.is_empty(), "{:#?}", outcome.output.findings);
    let first = &outcome.scan.entries[0];
    assert_eq!(first.index_no.as_deref(), Some(catalogue.classes[0].1[0].index_no.as_str()));
    assert_eq!(first.title, catalogue.classes[0].1[0].title);
    assert_eq!(first.publisher.as_deref(), Some("南宁市测试局"));
    assert_eq!(first.service.as_deref(), Some("公众"));
    assert_eq!(first.topic, None, "a column the table does not have stays empty");
}

#[tokio::test]
async fn pagination_is_followed_and_a_defect_on_the_last_page_is_found() {
    let code = org_code(104);
    let mut catalogue = Catalogue::complete("p", &code, &classes(UnitKind::Institution), 1, as_of());
    catalogue.page_size = 5;
    let long: Vec<_> = (0..17u32)
        .map(|i| {
            row(
                "p",
                &code,
                100 + i,
                as_of() - chrono::Days::new(u64::from(i) + 10),
                &format!("收费项目公示{i}"),
            )
        })
        .collect();
    *catalogue.class_mut("收费标准") = long;
    catalogue.class_mut("收费标准")[16].index_no = "BAD-INDEX".into();
    let site = serve(&[&catalogue]).await;
    let outcome = crawl(&unit(&code, UnitKind::Institution, &site, &catalogue)).await;
    let class = outcome.scan.classes.iter().find(|c| c.name == "收费标准").expect("class scanned");
    assert_eq!((class.pages, class.entries), (4, 17));
    assert_eq!(checks(&outcome.output.findings), ["catalogue.index_invalid"]);
    assert_eq!(outcome.output.findings[0].detail["index_no"], "BAD-INDEX");
    assert!(outcome.output.findings[0].url.as_deref().is_some_and(|u| u.ends_with("/p/doc/116.html")));
}

#[tokio::test]
async fn pagination_is_bounded_by_the_profile() {
    let code = org_code(105);
    let mut catalogue = Catalogue::complete("b", &code, &classes(UnitKind::Institution), 1, as_of());
    catalogue.page_size = 1;
    let rows: Vec<_> = (0..12u32).map(|i| row("b", &code, 50 + i, as_of(), &format!("指南{i}"))).collect();
    *catalogue.class_mut("服务指南") = rows;
    let site = serve(&[&catalogue]).await;
    let unit = unit(&code, UnitKind::Institution, &site, &catalogue);
    let mut profile = profile();
    profile.max_pages_per_class = 3;
    let outcome = crawl_unit(&fetcher(), &profile, &unit, as_of(), Utc::now(), &CatalogueProgress::default())
        .await
        .expect("catalogue");
    let class = outcome.scan.classes.iter().find(|c| c.name == "服务指南").expect("class scanned");
    assert_eq!((class.pages, class.entries), (3, 3));
}

#[tokio::test]
async fn a_gbk_catalogue_is_decoded() {
    let code = org_code(106);
    let mut catalogue = Catalogue::complete("g", &code, &classes(UnitKind::Authorised), 2, as_of());
    catalogue.gbk = true;
    let site = serve(&[&catalogue]).await;
    let outcome = crawl(&unit(&code, UnitKind::Authorised, &site, &catalogue)).await;
    assert!(outcome.output.findings.is_empty(), "{:#?}", outcome.output.findings);
    assert_eq!(outcome.scan.entries.len(), 12);
    assert_eq!(outcome.scan.entries[0].title, "机构概况信息第1号");
    assert_eq!(outcome.scan.entries[0].publisher.as_deref(), Some("南宁市测试局"));
}

#[tokio::test]
async fn a_catalogue_root_that_404s_is_unreachable_and_nothing_else() {
    let code = org_code(107);
    let catalogue = Catalogue::complete("x", &code, &classes(UnitKind::Department), 1, as_of());
    let site = serve(&[]).await;
    let outcome = crawl(&unit(&code, UnitKind::Department, &site, &catalogue)).await;
    assert_eq!(checks(&outcome.output.findings), ["catalogue.unreachable", "catalogue.unchecked"]);
    assert_eq!(outcome.output.findings[0].detail["reason"], "HTTP 404");
    assert_eq!(outcome.output.findings[1].detail["error"], "HTTP 404");
    assert_eq!(outcome.output.findings[0].url.as_deref(), Some(site.url("/x/index.html").as_str()));
    assert!(outcome.scan.entries.is_empty());
}

/// Two units with 48 entries each over the last 24 months: one publishes 2 a month, the
/// other 24 in each of two months.
fn steady_and_bursty() -> (Catalogue, Catalogue, String, String) {
    let class_names = classes(UnitKind::Institution);
    let (steady_code, bursty_code) = (org_code(301), org_code(302));
    let mut steady = Catalogue::complete("steady", &steady_code, &class_names, 0, as_of());
    let mut bursty = Catalogue::complete("bursty", &bursty_code, &class_names, 0, as_of());
    for i in 0..48u32 {
        let month_back = i / 2;
        let d = as_of() - chrono::Months::new(month_back) - chrono::Days::new(u64::from(i % 2) * 7);
        let class = &class_names[i as usize % 6];
        steady.class_mut(class).push(row("steady", &steady_code, i + 1, d, &format!("月度工作信息{i}")));
        let burst = if i < 24 { as_of() - chrono::Days::new(5) } else { as_of() - chrono::Months::new(12) };
        let d = burst - chrono::Days::new(u64::from(i % 24) / 6);
        bursty.class_mut(class).push(row("bursty", &bursty_code, i + 1, d, &format!("集中发布信息{i}")));
    }
    (steady, bursty, steady_code, bursty_code)
}

#[tokio::test]
async fn steady_and_bursty_publishers_with_equal_totals_are_told_apart() {
    let (steady, bursty, steady_code, bursty_code) = steady_and_bursty();
    let site = serve(&[&steady, &bursty]).await;
    let s = crawl(&unit(&steady_code, UnitKind::Institution, &site, &steady)).await;
    let b = crawl(&unit(&bursty_code, UnitKind::Institution, &site, &bursty)).await;
    assert!(s.output.findings.is_empty(), "{:#?}", s.output.findings);
    assert!(b.output.findings.is_empty(), "a recent burst is not stale: {:#?}", b.output.findings);
    assert_eq!(metric(&s, "catalogue.entries_window"), Decimal::from(48));
    assert_eq!(metric(&b, "catalogue.entries_window"), Decimal::from(48));
    assert_eq!(metric(&s, "catalogue.active_months"), Decimal::from(24));
    assert_eq!(metric(&b, "catalogue.active_months"), Decimal::from(2));
    assert!(metric(&s, "catalogue.longest_gap_days") <= Decimal::from(31));
    assert!(metric(&b, "catalogue.longest_gap_days") >= Decimal::from(300));
    assert_eq!(metric(&s, "catalogue.burstiness"), Decimal::ZERO);
    assert!(metric(&b, "catalogue.burstiness") > Decimal::from(3), "{}", metric(&b, "catalogue.burstiness"));
    assert_eq!(metric(&b, "catalogue.max_month_share"), Decimal::new(5, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_are_stored_replaced_per_unit_listed_and_searched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("surrealkv://{}", dir.path().join("db").display());
    let store = Store::connect(&StoreConfig::new(db)).await.expect("store");
    let (steady, bursty, steady_code, bursty_code) = steady_and_bursty();
    let mut first = steady.clone();
    first.class_mut("服务指南").push(row("steady", &steady_code, 900, as_of(), "关于财政预算公开的说明"));
    let site = serve(&[&first, &bursty]).await;
    let units = vec![
        unit(&steady_code, UnitKind::Institution, &site, &first),
        unit(&bursty_code, UnitKind::Institution, &site, &bursty),
        Unit { catalogue_url: None, ..unit(&org_code(303), UnitKind::Institution, &site, &bursty) },
    ];
    let summary = record_catalogues(&store, &units, Utc::now()).await;
    assert_eq!((summary.units, summary.reachable, summary.entries), (2, 2, 97));
    let steady_unit = OrgCode::parse(&steady_code).expect("code");
    assert_eq!(store.catalogue_entries(&steady_unit, None).await.expect("list").len(), 49);
    let guides = store.catalogue_entries(&steady_unit, Some("服务指南")).await.expect("list");
    assert_eq!(guides.len(), 9);
    assert_eq!(guides[0].title, "关于财政预算公开的说明");
    assert_eq!(guides[0].created_on, Some(as_of()));

    // A four-character word is found through the 2-character chunks, across units.
    let found = store.search_catalogue("财政预算", None, 50).await.expect("search");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].unit, steady_unit);
    assert_eq!(store.search_catalogue("集中发布", None, 100).await.expect("search").len(), 48);
    assert_eq!(store.search_catalogue("信息 集中", None, 100).await.expect("search").len(), 48);
    assert!(store.search_catalogue("预算财政", None, 50).await.expect("search").is_empty());

    // The next crawl replaces the steady unit's entries; the bursty unit's root now fails and
    // its entries are kept.
    drop(site);
    let site = serve(&[&steady]).await;
    let units = vec![
        unit(&steady_code, UnitKind::Institution, &site, &steady),
        unit(&bursty_code, UnitKind::Institution, &site, &bursty),
    ];
    let summary = record_catalogues(&store, &units, Utc::now()).await;
    assert_eq!((summary.units, summary.reachable), (2, 1));
    assert_eq!(store.catalogue_entries(&steady_unit, None).await.expect("list").len(), 48);
    assert!(store.search_catalogue("财政预算", None, 50).await.expect("search").is_empty());
    let bursty_unit = OrgCode::parse(&bursty_code).expect("code");
    assert_eq!(store.catalogue_entries(&bursty_unit, None).await.expect("list").len(), 48);
    let filter = FindingFilter { unit: Some(bursty_unit), ..FindingFilter::default() };
    let findings = store.findings(&filter).await.expect("findings");
    let mut found = checks(&findings);
    found.sort_unstable();
    assert_eq!(found, ["catalogue.unchecked", "catalogue.unreachable"]);
    store.close().await;
}

#[test]
fn the_cli_lists_and_searches_stored_entries() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("surrealkv://{}", dir.path().join("db").display());
    let code = org_code(401);
    let catalogue = Catalogue::complete("cli", &code, &classes(UnitKind::Institution), 2, as_of());
    let site = runtime.block_on(serve(&[&catalogue]));
    let csv = format!(
        "code,name,kind,parent_code,website,catalogue_url,email\n{code},南宁市目录测试中心,institution,,{},{},\n",
        site.url("/"),
        site.url(&catalogue.root_path())
    );
    let csv_path = dir.path().join("units.csv");
    std::fs::write(&csv_path, csv).expect("write csv");
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_gongkai"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .expect("run gongkai");
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("utf-8")
    };
    run(&["units", "import", csv_path.to_str().expect("path"), "--format", "json"]);
    let json = |text: String| serde_json::from_str::<serde_json::Value>(&text).expect("json");
    let site_only = json(run(&[
        "crawl",
        "--only",
        "site",
        "--allow-private",
        "--as-of",
        "2026-11-20",
        "--format",
        "json",
    ]));
    assert_eq!(site_only["kind"], "site");
    let none = json(run(&["catalogue", "list", "--unit", &code, "--format", "json"]));
    assert_eq!(none.as_array().map(Vec::len), Some(0), "--only site reads no catalogue");
    let crawled = json(run(&[
        "crawl",
        "--only",
        "catalogue",
        "--allow-private",
        "--as-of",
        "2026-11-20",
        "--format",
        "json",
    ]));
    assert_eq!(crawled["kind"], "catalogue");
    // Both sides at once still print one JSON document: an array of the two summaries.
    let both = json(run(&["crawl", "--allow-private", "--as-of", "2026-11-20", "--format", "json"]));
    let kinds: Vec<&str> = both
        .as_array()
        .expect("one array for both sides")
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["site", "catalogue"]);
    assert_eq!(
        (crawled["units"].clone(), crawled["entries"].clone(), crawled["findings"].clone()),
        (json!(1), json!(12), json!(0))
    );
    let listed: Vec<serde_json::Value> = serde_json::from_str(&run(&[
        "catalogue",
        "list",
        "--unit",
        &code,
        "--class",
        "收费标准",
        "--format",
        "json",
    ]))
    .expect("json");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["class"], "收费标准");
    assert_eq!(listed[0]["unit"], code);
    assert!(listed[0]["index_no"].as_str().is_some_and(|i| i.starts_with(&format!("{code}/2026-"))));
    let csv = run(&["catalogue", "search", "服务承诺信息", "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("unit,class,index_no,title,publisher,created_on,doc_no,topic,genre,service,url")
    );
    assert_eq!(lines.count(), 2);
}

/// Serves `catalogue` but every class page, slow (300 ms), links 下一页 to one more page: a
/// catalogue that never ends.
async fn endless(catalogue: &Catalogue) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let pages = Arc::new(catalogue.pages());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind endless catalogue");
    let addr = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let pages = pages.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let body = match path.rsplit_once('/') {
                    _ if pages.contains_key(&path) && path.ends_with("index.html") => {
                        String::from_utf8_lossy(&pages[&path].body).into_owned()
                    }
                    Some((dir, file)) => {
                        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                        let n: u32 = file.trim_end_matches(".html").parse().unwrap_or(1);
                        let first =
                            pages.get(&format!("{dir}/1.html")).map(|a| a.body.clone()).unwrap_or_default();
                        String::from_utf8_lossy(&first).replace(
                            "</body>",
                            &format!(
                                "<div class=\"pager\"><a href=\"{}.html\">下一页</a></div></body>",
                                n + 1
                            ),
                        )
                    }
                    None => String::new(),
                };
                let header = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(header.as_bytes()).await;
                let _ = stream.write_all(body.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (addr, task)
}

/// Issue #11: a catalogue whose 下一页 never ends stops at the unit budget, says it was checked
/// only in part, and does not call the classes it never reached missing.
#[tokio::test]
async fn an_endless_catalogue_stops_at_the_unit_budget() {
    let code = org_code(131);
    let catalogue = Catalogue::complete("e", &code, &classes(UnitKind::Department), 3, as_of());
    let (addr, task) = endless(&catalogue).await;
    let unit = Unit {
        code: OrgCode::parse(&code).expect("valid code"),
        name: "南宁市测试单位".into(),
        kind: UnitKind::Department,
        parent_code: None,
        website: None,
        catalogue_url: Some(format!("http://{addr}{}", catalogue.root_path())),
        email: None,
    };
    let mut budgeted = profile();
    budgeted.unit_budget_secs = 2;
    let observed = Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0).single().expect("instant");
    let started = std::time::Instant::now();
    let outcome = crawl_unit(&fetcher(), &budgeted, &unit, as_of(), observed, &CatalogueProgress::default())
        .await
        .expect("unit has a catalogue");
    task.abort();
    // Generous bound: without a budget the crawl would read 200 pages of 300 ms per class.
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    assert!(outcome.scan.budget_spent);
    assert!(outcome.scan.pages >= 2 && outcome.scan.pages < 40, "pages {}", outcome.scan.pages);
    let unchecked: Vec<&Finding> =
        outcome.output.findings.iter().filter(|f| f.check == "catalogue.unchecked").collect();
    assert_eq!(unchecked.len(), 1, "{:?}", checks(&outcome.output.findings));
    let detail = &unchecked[0].detail;
    assert_eq!(detail["reason"], "公开目录检查超出时间预算（2 秒），仅部分核查");
    assert_eq!(detail["budget_secs"], 2);
    assert_eq!(detail["pages"], json!(outcome.scan.pages));
    assert!(!checks(&outcome.output.findings).contains(&"catalogue.class_missing"));
}
