//! The draft of the city's own annual report (issue #17) against a hand-counted fixture city:
//! five units of three kinds, a site crawl this year and one last year, a catalogue crawl with
//! dated entries, an assessment cycle, inspectors' visits on both sides of the year's border,
//! and a published notice with one finding fixed on time and one overdue. Every number of the
//! draft is asserted against the hand count; some are also recounted from the store directly;
//! and `gongkai report annual` prints the same draft.

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use gongkai::assess::LaggardCriteria;
use gongkai::crawl::report::ReportTemplate;
use gongkai::inspection::{PlannedVisit, VisitKey, VisitMethod};
use gongkai::jobs::{self, AssessRequest, Progress};
use gongkai::model::{Account, CatalogueEntry, CrawlKind, Finding, FindingStatus, OrgCode, Role, Source};
use gongkai::notify::annual::{self, AnnualDraft};
use gongkai::registry::{plan_import, read_registry};
use gongkai::rules::RuleSet;
use gongkai::store::{AuditEntry, CrawlRunRecord, RunEnd, Store, StoreConfig, UnitResults};

use crate::support::{HEADER, credit_code, gongkai, json, stderr};

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scoring-rules/gov-website-2019.toml");
const FAKE_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

fn code(n: u32) -> OrgCode {
    OrgCode::parse(&credit_code(n)).expect("code")
}

fn day(year: i32, month: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, d).expect("date")
}

/// This year in the city's time zone: what the cycle, the crawl and the notice fall in.
fn this_year() -> i32 {
    Utc::now().with_timezone(&Shanghai).year()
}

fn finding(unit: u32, check: &str, observed_at: chrono::DateTime<Utc>) -> Finding {
    Finding {
        id: None,
        unit: code(unit),
        check: check.to_string(),
        source: Source::Crawler,
        observed_at,
        url: Some(format!("http://u{unit}.example.cn/")),
        detail: serde_json::json!({}),
        status: FindingStatus::Open,
        rectify_by: None,
    }
}

fn entry(unit: u32, n: u32, created_on: Option<NaiveDate>) -> CatalogueEntry {
    CatalogueEntry {
        unit: code(unit),
        class: "机构职能".into(),
        index_no: Some(format!("000000000/2026-0000{n}")),
        title: format!("第{n}条信息"),
        publisher: Some("甲局".into()),
        created_on,
        doc_no: None,
        topic: None,
        genre: None,
        service: None,
        url: None,
    }
}

fn visit(unit: u32, date: NaiveDate) -> PlannedVisit {
    PlannedVisit {
        key: VisitKey {
            unit: code(unit), inspector: "监察员甲".into(), date, method: VisitMethod::OnSite
        },
        group: Some("第一组".into()),
        note: None,
        findings: Vec::new(),
        line: 1,
    }
}

/// The fixture city. Hand count for this year (Y) and last year (Y-1):
/// - units: department 3 (1, 2, 3), institution 1 (4), district 1 (5): 5;
/// - site crawls: Y one over units 1–4 (home.stale ×2 on 1 and 2, interaction.unanswered on 1,
///   link.broken ×2 on 3); Y-1 one over unit 5 (column.stale);
/// - catalogue crawl: Y one, unit 1's five entries dated Y ×3, Y-1 ×1, undated ×1;
/// - visits: Y unit 1 twice and unit 2 once; Y-1 unit 3 once;
/// - one cycle this year, scoring all 5 units;
/// - one notice published this year; of its findings one closed on time, one overdue.
async fn seed(store: &Store) -> (String, usize) {
    let y = this_year();
    let csv = format!(
        "{HEADER}{a},甲局,department,,http://u1.example.cn/,http://u1.example.cn/xxgk/,\n\
         {b},乙局,department,,http://u2.example.cn/,,\n{c},丙局,department,,http://u3.example.cn/,,\n\
         {d},丁中心,institution,{b},http://u4.example.cn/,,\n{e},戊区,district,,http://u5.example.cn/,,\n",
        a = credit_code(1),
        b = credit_code(2),
        c = credit_code(3),
        d = credit_code(4),
        e = credit_code(5),
    );
    let file = read_registry(csv.as_bytes()).expect("readable");
    let plan = plan_import(&file, &store.units().await.expect("units")).expect("valid");
    store.apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {}).await.expect("import");

    let last_year = Utc.with_ymd_and_hms(y - 1, 6, 1, 3, 0, 0).single().expect("date");
    let old = CrawlRunRecord {
        kind: CrawlKind::Site,
        as_of: last_year,
        started_at: last_year,
        finished_at: last_year,
        units: vec![code(5)],
        stats: serde_json::json!({}),
    };
    store.record_crawl_run(&old, &[finding(5, "column.stale", last_year)], &[]).await.expect("old run");
    let now = Utc::now() - chrono::Duration::minutes(5);
    let run = CrawlRunRecord {
        kind: CrawlKind::Site,
        as_of: now,
        started_at: now,
        finished_at: now,
        units: (1..=4).map(code).collect(),
        stats: serde_json::json!({}),
    };
    let findings = [
        finding(1, "home.stale", now),
        finding(1, "interaction.unanswered", now),
        finding(2, "home.stale", now),
        finding(3, "link.broken", now),
        finding(3, "link.broken", now),
    ];
    store.record_crawl_run(&run, &findings, &[]).await.expect("run");

    let catalogue = store.begin_crawl_run(CrawlKind::Catalogue, now, now).await.expect("begin");
    let entries = [
        entry(1, 1, Some(day(y, 1, 5))),
        entry(1, 2, Some(day(y, 6, 30))),
        entry(1, 3, Some(day(y, 12, 31))),
        entry(1, 4, Some(day(y - 1, 12, 31))),
        entry(1, 5, None),
    ];
    let unit = code(1);
    let results = UnitResults { unit: &unit, findings: &[], metrics: &[], entries: Some(&entries) };
    store.record_run_unit(&catalogue, results).await.expect("entries");
    store.finish_crawl_run(&catalogue, RunEnd::Finished, serde_json::json!({})).await.expect("finish");

    let visits = [
        visit(1, day(y, 3, 10)),
        visit(1, day(y, 5, 10)),
        visit(2, day(y, 6, 1)),
        visit(3, day(y - 1, 11, 1)),
    ];
    store.record_visits(&visits, AuditEntry::new("test", "visits")).await.expect("visits");

    for (username, role) in [("ban", Role::Office), ("lingdao", Role::Leader)] {
        let account = Account {
            username: username.into(),
            role,
            unit: None,
            inspector_group: None,
            display_name: None,
            disabled: false,
        };
        store
            .create_account(&account, FAKE_HASH, AuditEntry::new("test", "account.add"))
            .await
            .expect("account");
    }
    let text = std::fs::read_to_string(RULES).expect("rules");
    let rule_set = RuleSet::parse(&text, RULES).expect("valid");
    let today = Utc::now().with_timezone(&Shanghai).date_naive();
    let (as_of, cutoff) = jobs::assessment_cutoff(Some(&today.to_string())).expect("day");
    let request = AssessRequest {
        rule_set,
        source: text,
        criteria: LaggardCriteria::shipped(),
        cycle: Some("annual-test".into()),
        day: as_of,
        cutoff,
        actor: "test".into(),
        save: true,
    };
    jobs::assess(store, request, &Progress::default()).await.expect("assess");

    let template = gongkai::notify::NoticeTemplate::shipped().expect("template");
    let notice = gongkai::notify::draft(store, "annual-test", "ban", &template).await.expect("draft");
    gongkai::notify::approve(store, &notice.id, "lingdao").await.expect("approve");
    let options = gongkai::notify::PublishOptions::default();
    let published =
        gongkai::notify::publish(store, &notice.id, "ban", &options).await.expect("publish").notice;
    let named: Vec<String> = published.units.iter().flat_map(|u| &u.findings).map(|f| f.id.clone()).collect();
    assert!(named.len() >= 2, "the notice names at least two findings: {published:?}");
    // The first named finding is fixed before its deadline, the second is found overdue.
    let fixed = store.finding(&named[0]).await.expect("read").expect("exists");
    store.close_rechecked_finding(&fixed, "test").await.expect("close");
    let late = store.finding(&named[1]).await.expect("read").expect("exists");
    store.flag_overdue(&late, &[], "test").await.expect("overdue");
    (published.id, published.units.len())
}

fn value(draft: &AnnualDraft, key: &str) -> i64 {
    draft.figure(key).unwrap_or_else(|| panic!("no figure {key}")).value
}

async fn draft(store: &Store, year: i32) -> AnnualDraft {
    let figures = store.annual_figures(year).await.expect("figures");
    annual::draft(&figures, &ReportTemplate::builtin().expect("template"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_draft_counts_the_fixture_city_as_counted_by_hand() {
    let store = Store::memory().await.expect("store");
    let (_, notified_units) = seed(&store).await;
    let y = this_year();
    let report = draft(&store, y).await;

    let sections: Vec<&str> = report.sections.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(sections, ["summary", "proactive", "requests", "review", "problems", "other"]);
    assert!(report.template.contains("2021"), "{}", report.template);

    // Units by kind.
    for (key, n) in [
        ("units.department", 3),
        ("units.institution", 1),
        ("units.district", 1),
        ("units.devzone", 0),
        ("units.authorised", 0),
        ("units.total", 5),
    ] {
        assert_eq!(value(&report, key), n, "{key}");
    }
    // Crawls, catalogue, assessments and visits of this year only.
    for (key, n) in [
        ("site_runs", 1),
        ("site_units", 4),
        ("catalogue_runs", 1),
        ("catalogue_entries", 3),
        ("cycles", 1),
        ("cycles.annual-test", 5),
        ("units_assessed", 5),
        ("visits", 3),
        ("units_visited", 2),
    ] {
        assert_eq!(value(&report, key), n, "{key}");
    }
    // Problems by check: this year's findings only (last year's column.stale is not there).
    for (key, n) in [
        ("problems.home.stale.units", 2),
        ("problems.home.stale.findings", 2),
        ("problems.link.broken.units", 1),
        ("problems.link.broken.findings", 2),
        ("problems.interaction.unanswered.units", 1),
        ("problems.interaction.unanswered.findings", 1),
    ] {
        assert_eq!(value(&report, key), n, "{key}");
    }
    assert!(report.figure("problems.column.stale.units").is_none());
    // Grouped as the reference report names them: home.stale on units 1 and 2; interaction on
    // unit 1 and link.broken on unit 3; nothing unreachable, so no supervisor is named.
    assert_eq!(value(&report, "problem_groups.on_and_off"), 2);
    assert_eq!(value(&report, "problem_groups.no_staff"), 2);
    assert!(report.figure("problem_groups.not_started").is_none());
    assert!(report.figure("problem_groups.supervisors").is_none());
    let problems = &report.sections[4];
    assert!(problems.paragraphs[0].starts_with("（一）工作抓一阵、停一阵"), "{:?}", problems.paragraphs);
    assert!(
        problems.paragraphs.iter().any(|p| p.contains("首页长期未更新：2个单位")),
        "{:?}",
        problems.paragraphs
    );
    // The notice: one published, its units, one finding fixed on time and one overdue.
    assert_eq!(value(&report, "notices"), 1);
    assert_eq!(value(&report, "units_notified"), notified_units as i64);
    assert_eq!(value(&report, "rectified_on_time"), 1);
    assert_eq!(value(&report, "overdue"), 1);
    assert!(value(&report, "notified_findings") >= 2);

    // The hand-filled tables are empty forms carrying the template's rules.
    let requests = report.sections[2].forms.iter().find(|t| t.id == "requests").expect("request form");
    assert_eq!(requests.rules.len(), 3);
    assert!(requests.rows.len() > 20 && requests.columns.len() == 7);
    assert_eq!(report.sections[3].forms[0].rules.len(), 3);
    // Every figure names a query whose SurrealQL the draft carries.
    for figure in report.sections.iter().flat_map(|s| &s.figures) {
        let query = report.queries.iter().find(|q| q.key == figure.query).expect("query listed");
        assert!(query.surql.contains("$from") || query.key == "units_by_kind", "{query:?}");
    }

    // Recounted from the store directly: the registry by kind, the visits of the year, and the
    // notified findings read off the notices.
    let units = store.units().await.expect("units");
    assert_eq!(value(&report, "units.total"), units.len() as i64);
    for kind in gongkai::model::UnitKind::ALL {
        let n = units.iter().filter(|u| u.kind == kind).count() as i64;
        assert_eq!(value(&report, &format!("units.{}", kind.as_str())), n, "{kind:?}");
    }
    let mut visits = Vec::new();
    for unit in &units {
        visits.extend(store.visits_for(&unit.code).await.expect("visits"));
    }
    let in_year: Vec<_> = visits.iter().filter(|v| v.date.year() == y).collect();
    assert_eq!(value(&report, "visits"), in_year.len() as i64);
    let notices = store.notices().await.expect("notices");
    let mut named_open = 0;
    for notice in notices.iter().filter(|n| n.status == "published") {
        let (_, on_time, overdue) = store.notice_rectification(notice).await.expect("rectification");
        assert_eq!(
            (on_time as i64, overdue as i64),
            (value(&report, "rectified_on_time"), value(&report, "overdue"))
        );
        named_open += notice.units.iter().map(|u| u.findings.len()).sum::<usize>();
    }
    assert_eq!(value(&report, "notified_findings"), named_open as i64);

    // Last year: its crawl, its visit and its dated entry; no cycle, no notice.
    let before = draft(&store, y - 1).await;
    for (key, n) in [
        ("site_runs", 1),
        ("site_units", 1),
        ("catalogue_runs", 0),
        ("catalogue_entries", 1),
        ("cycles", 0),
        ("units_assessed", 0),
        ("visits", 1),
        ("units_visited", 1),
        ("notices", 0),
        ("problems.column.stale.units", 1),
    ] {
        assert_eq!(value(&before, key), n, "{key} in {}", y - 1);
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_prints_the_same_draft_as_json_and_as_a_page() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("surrealkv://{}", dir.path().join("db").display());
    let store = Store::connect(&StoreConfig::new(db.as_str())).await.expect("store");
    seed(&store).await;
    let y = this_year();
    let expected = serde_json::to_value(draft(&store, y).await).expect("json");
    store.close().await;

    let year = y.to_string();
    let printed = tokio::task::spawn_blocking({
        let (db, year) = (db.clone(), year.clone());
        move || json(&gongkai(&db, &["report", "annual", "--year", &year, "--format", "json"]))
    })
    .await
    .expect("cli");
    assert_eq!(printed, expected);
    assert_eq!(printed["sections"][0]["heading"], "一、总体情况");

    let page = tokio::task::spawn_blocking({
        let (db, year) = (db.clone(), year.clone());
        move || gongkai(&db, &["report", "annual", "--year", &year, "--format", "html"])
    })
    .await
    .expect("cli");
    assert!(page.status.success(), "{}", stderr(&page));
    let page = String::from_utf8_lossy(&page.stdout);
    assert!(page.contains("六、其他需要报告的事项") && page.contains("FROM visit WHERE date"), "{page}");

    let file = dir.path().join("annual.pdf");
    let written = tokio::task::spawn_blocking({
        let (db, year, file) = (db.clone(), year.clone(), file.display().to_string());
        move || gongkai(&db, &["report", "annual", "--year", &year, "--format", "pdf", "--out", &file])
    })
    .await
    .expect("cli");
    assert!(written.status.success(), "{}", stderr(&written));
    assert!(std::fs::read(&file).expect("the PDF is written").starts_with(b"%PDF"));
    let no_out = tokio::task::spawn_blocking({
        let db = db.clone();
        move || gongkai(&db, &["report", "annual", "--year", "2026", "--format", "pdf"])
    })
    .await
    .expect("cli");
    assert_eq!(no_out.status.code(), Some(2), "{}", stderr(&no_out));

    let refused = tokio::task::spawn_blocking(move || gongkai(&db, &["report", "annual", "--year", "1850"]))
        .await
        .expect("cli");
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
}

#[tokio::test]
async fn the_office_reads_the_draft_on_its_dashboard_and_no_one_else_does() {
    use rocket::http::Status;

    let city = crate::web_support::City::new().await;
    let (office, _) = city.signed_in("office1").await;
    let response = office.get("/office/reports/annual?year=2026").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    let page = response.into_string().await.unwrap_or_default();
    for expected in [
        "2026年政府信息公开工作年度报告（草稿）",
        "一、总体情况",
        "六、其他需要报告的事项",
        "收到和处理政府信息公开申请情况表（手工填写）",
        "本市纳入政府信息公开检查的单位共4个，其中政府部门3个、企事业单位1个",
        ">年度报告</a>",
        "SELECT kind, count() AS n FROM unit GROUP BY kind",
    ] {
        assert!(page.contains(expected), "missing {expected:?} in the page");
    }
    assert!(!page.contains("<script>alert"), "nothing crawled is shown unescaped");
    let pdf = office.get("/office/reports/annual.pdf?year=2026").dispatch().await;
    assert_eq!(pdf.status(), Status::Ok);
    assert_eq!(pdf.content_type(), Some(rocket::http::ContentType::PDF));
    assert!(pdf.into_bytes().await.unwrap_or_default().starts_with(b"%PDF"));
    let far = office.get("/office/reports/annual?year=1850").dispatch().await;
    assert_eq!(far.status(), Status::UnprocessableEntity);
    for user in ["leader1", "inspector1", "unit1"] {
        let (client, _) = city.signed_in(user).await;
        let refused = client.get("/office/reports/annual?year=2026").dispatch().await;
        assert_eq!(refused.status(), Status::Forbidden, "{user}");
    }
}
