//! Missing evidence end to end (issue #10): a website and catalogue whose server refuses every
//! connection are crawled, the crawl records that nothing could be checked (未能核查), and the
//! assessment neither gives the unit full marks nor ranks it above a checked, healthy unit —
//! and the ranking, the unit's page, the CSV export and the API all say why.

use chrono::{NaiveDate, TimeZone, Utc};
use gongkai::assess::LaggardCriteria;
use gongkai::crawl::catalogue::{CatalogueProfile, CatalogueProgress, crawl_unit};
use gongkai::crawl::profile::SiteProfile;
use gongkai::crawl::site::{CrawlEnv, CrawlProgress, crawl_site};
use gongkai::jobs::{AssessRequest, Progress, assess, assessment_cutoff};
use gongkai::model::{CrawlKind, Unit};
use gongkai::registry::{plan_import, read_registry};
use gongkai::rules::RuleSet;
use gongkai::store::{AuditEntry, CrawlRunRecord};
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use rust_decimal::Decimal;

use crate::page_server::refused_address;
use crate::support::{HEADER, credit_code};
use crate::web_support::{City, unit};

const CYCLE: &str = "dead-site";
const SITE_REASON: &str = "网站首页无法访问，网站各项检查均未能进行";
const CATALOGUE_REASON: &str = "公开目录首页无法访问，目录各项检查均未能进行";

async fn get(client: &Client, path: &str) -> (Status, String) {
    let response = client.get(path.to_string()).dispatch().await;
    let status = response.status();
    (status, response.into_string().await.unwrap_or_default())
}

/// Registers unit 5 with a dead website and catalogue, crawls both as `gongkai crawl` does and
/// records the runs; returns the unit.
async fn crawl_dead_unit(city: &City) -> Unit {
    let dead = refused_address();
    let csv = format!("{HEADER}{e},戊局,department,,http://{dead}/,http://{dead}/gk/,\n", e = credit_code(5));
    let existing = city.store.units().await.expect("units");
    let plan = plan_import(&read_registry(csv.as_bytes()).expect("readable"), &existing).expect("valid");
    city.store
        .apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {})
        .await
        .expect("import");
    let unit = city.store.unit(&unit(5)).await.expect("read").expect("registered");

    let day = NaiveDate::from_ymd_opt(2026, 11, 25).expect("day");
    let at = Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).single().expect("time");
    let mut profile = SiteProfile::builtin().expect("profile");
    profile.fetch.min_gap_ms = 0;
    profile.fetch.total_timeout_secs = 5;
    profile.fetch.retry_backoff_ms = 50;
    let env = CrawlEnv::new(profile, true, day, at).expect("environment");

    let site = crawl_site(&env, &unit, &CrawlProgress::default()).await;
    assert!(!site.reachable);
    let checks: Vec<&str> = site.findings.iter().map(|f| f.check.as_str()).collect();
    assert_eq!(checks, ["site.unreachable", "site.unchecked"]);
    assert_eq!(site.findings[1].detail["reason"], SITE_REASON);
    assert_eq!(site.findings[1].detail["error"], site.findings[0].detail["error"], "the raw error is kept");
    assert_eq!(site.findings[1].url.as_deref(), Some(format!("http://{dead}/").as_str()));

    let catalogue_profile = CatalogueProfile::builtin().expect("catalogue profile");
    let catalogue =
        crawl_unit(&env.fetcher, &catalogue_profile, &unit, day, at, &CatalogueProgress::default())
            .await
            .expect("the unit has a catalogue");
    let checks: Vec<&str> = catalogue.output.findings.iter().map(|f| f.check.as_str()).collect();
    assert_eq!(checks, ["catalogue.unreachable", "catalogue.unchecked"]);

    for (kind, findings) in
        [(CrawlKind::Site, site.findings), (CrawlKind::Catalogue, catalogue.output.findings.clone())]
    {
        // The city's catalogues were all crawled, the others' clean: only the dead unit's is
        // unchecked (a unit no catalogue crawl reached would be unchecked too).
        let units = match kind {
            CrawlKind::Catalogue => city.units.iter().cloned().chain([unit.code.clone()]).collect(),
            _ => vec![unit.code.clone()],
        };
        let run = CrawlRunRecord {
            kind,
            as_of: at,
            started_at: at,
            finished_at: at,
            units,
            stats: serde_json::json!({}),
        };
        city.store.record_crawl_run(&run, &findings, &[]).await.expect("record run");
    }
    unit
}

async fn assess_city(city: &City) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scoring-rules/gov-website-2019.toml");
    let source = std::fs::read_to_string(path).expect("shipped rules");
    let rule_set = RuleSet::parse(&source, "gov-website-2019.toml").expect("valid rules");
    let (day, cutoff) = assessment_cutoff(Some("2026-11-30")).expect("day");
    let request = AssessRequest {
        rule_set,
        source,
        criteria: LaggardCriteria::shipped(),
        cycle: Some(CYCLE.to_string()),
        day,
        cutoff,
        actor: "test".into(),
        save: true,
    };
    let outcome = assess(&city.store, request, &Progress::default()).await.expect("assessment");
    assert_eq!((outcome.units, outcome.unchecked), (5, 1));
    assert!(outcome.summary_zh().contains("未能核查 1"), "{}", outcome.summary_zh());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_site_is_unchecked_never_full_marks_and_ranks_below_healthy_units() {
    let city = City::new().await;
    let dead = crawl_dead_unit(&city).await;
    assess_city(&city).await;

    // The ranking: units 2 and 4 are healthy (100), unit 3 lost a point for a stale column,
    // the dead unit keeps only the 25 points of 办事服务, and unit 1 (injected spam) is vetoed.
    let ranking = city.store.ranking(CYCLE).await.expect("ranking");
    let order: Vec<(String, Decimal, u32)> =
        ranking.iter().map(|r| (r.unit.clone(), r.score, r.rank)).collect();
    let code = |n: u32| unit(n).to_string();
    assert_eq!(
        order,
        [
            (code(2), Decimal::from(100), 1),
            (code(4), Decimal::from(100), 1),
            (code(3), Decimal::from(99), 3),
            (code(5), Decimal::from(25), 4),
            (code(1), Decimal::ZERO, 5),
        ],
        "{ranking:#?}"
    );
    let row = ranking.iter().find(|r| r.unit == dead.code.as_str()).expect("dead unit");
    assert!(row.laggard && !row.passed && row.veto.is_none());
    let checks: Vec<&str> = row.unchecked.iter().map(|u| u.check.as_str()).collect();
    assert_eq!(checks, ["catalogue.unchecked", "site.unchecked"]);
    assert_eq!(row.unchecked[1].reason, SITE_REASON);
    assert!(
        row.reasons.iter().any(|r| r.starts_with("未能核查（") && r.contains(SITE_REASON)),
        "{:?}",
        row.reasons
    );
    assert!(ranking.iter().filter(|r| r.unit != dead.code.as_str()).all(|r| r.unchecked.is_empty()));

    let (client, _) = city.signed_in("leader1").await;

    // The ranking page flags the unit and counts it.
    let (status, html) = get(&client, "/rankings").await;
    assert_eq!(status, Status::Ok);
    let dead_row = html.split("<tr").find(|r| r.contains("戊局")).expect("the dead unit's row");
    assert!(dead_row.contains("未能核查") && dead_row.contains("class=\"laggard\""), "{dead_row}");
    assert!(html.find("乙局") < html.find("戊局"), "the healthy unit is listed first");
    assert!(html.contains("<dt>未能核查</dt>"));

    // The unit's page says why it lost the points, down to the finding.
    let (status, html) = get(&client, &format!("/units/{}", dead.code)).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("<dt>未能核查</dt>"), "the score section says so");
    assert!(html.contains(SITE_REASON) && html.contains(CATALOGUE_REASON));
    assert!(html.contains("本指标依赖的证据未能核查，得 0 分"), "the explanation tree says why");
    assert!(html.contains("网站未能核查") && html.contains("site.unchecked"));

    // The API: the ranking rows and the unit's detail carry the list.
    let (status, body) = get(&client, "/api/v1/rankings").await;
    assert_eq!(status, Status::Ok);
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json["summary"]["unchecked"], 1);
    let api_row =
        json["rows"].as_array().and_then(|rows| rows.iter().find(|r| r["unit"] == dead.code.as_str()));
    let api_row = api_row.expect("dead unit's row");
    assert_eq!(api_row["unchecked"][1]["check"], "site.unchecked");
    assert_eq!(api_row["unchecked"][1]["label"], "网站未能核查");
    assert_eq!(api_row["unchecked"][1]["reason"], SITE_REASON);

    let (status, body) = get(&client, &format!("/api/v1/units/{}", dead.code)).await;
    assert_eq!(status, Status::Ok);
    let detail: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(detail["score"]["unchecked"][0]["reason"], CATALOGUE_REASON);
    let lost = detail["lost_items"].as_array().expect("lost items");
    assert_eq!(lost.len(), 4, "{lost:?}");
    assert!(lost.iter().all(|item| item["unchecked"] == true), "{lost:?}");

    // The spreadsheet export names it in its own column.
    let (status, csv) = get(&client, "/rankings.csv").await;
    assert_eq!(status, Status::Ok);
    let line = csv.lines().find(|l| l.contains("戊局")).expect("dead unit's line");
    assert!(line.contains(&format!("网站未能核查：{SITE_REASON}")), "{line}");
}

/// A unit registered without a website cannot be checked either: the crawl job records it as
/// unchecked in the run (so the assessment sees it), never as a unit with nothing wrong.
#[tokio::test(flavor = "multi_thread")]
async fn a_unit_without_a_registered_website_is_recorded_as_unchecked() {
    let city = City::new().await;
    let mut units = city.store.units().await.expect("units");
    units.truncate(1);
    units[0].website = None;
    let code = units[0].code.clone();
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).expect("day");
    let at = Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).single().expect("time");
    let request = gongkai::jobs::SiteCrawl {
        profile: SiteProfile::builtin().expect("profile"),
        units,
        day,
        observed_at: at,
        allow_private: true,
    };
    let report = gongkai::jobs::crawl_sites(&city.store, request, &Progress::default()).await.expect("crawl");
    assert_eq!((report.summary.sites, report.summary.without_website), (0, 1));
    assert_eq!(report.crawled.len(), report.outcomes.len(), "one outcome per unit, in order");
    let filter = gongkai::store::FindingFilter { unit: Some(code), ..Default::default() };
    let saved = city.store.findings(&filter).await.expect("findings");
    let checks: Vec<&str> = saved.iter().map(|f| f.check.as_str()).collect();
    assert_eq!(checks, ["site.unchecked"]);
    assert!(saved[0].detail["reason"].as_str().is_some_and(|r| r.contains("未登记网站地址")), "{saved:?}");
}
