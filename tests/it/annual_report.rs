//! Annual reports read from fixture websites on 127.0.0.1 (issue #17): the site crawl follows
//! the link to the due year's report, reads it as a page or a PDF (directly, or as the page's
//! attachment) and checks it against the national template. A complete report passes clean;
//! a missing section, a request table that does not add up, last year's report republished and
//! another unit's report with the name changed are each found with their evidence. With the
//! profile's `read_report` off, no report is fetched.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use gongkai::crawl::profile::SiteProfile;
use gongkai::crawl::report::sample::SampleReport;
use gongkai::crawl::site::{CrawlEnv, CrawlProgress, SiteOutcome, crawl_units};
use gongkai::model::{Finding, OrgCode, Unit, UnitKind};

use crate::page_server::{Answer, PageServer};
use crate::support::credit_code;

const CJK: &str = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf";
const LATIN: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";

/// A small site whose home page links the 2025 report at `report_path`; `pages` adds the
/// report (and any attachment).
async fn site(name: &str, report_path: &str, pages: Vec<(&str, Answer)>) -> PageServer {
    let home = format!(
        "<html><head><title>{name}</title></head><body><h1>{name}</h1>\
         <ul><li><a href=\"{report_path}\">{name}2025年政府信息公开工作年度报告</a> 2026-01-20</li></ul>\
         <footer>主办单位：{name}</footer></body></html>"
    );
    let mut map: HashMap<String, Answer> = pages.into_iter().map(|(p, a)| (p.to_owned(), a)).collect();
    map.insert("/".to_owned(), Answer::html(home));
    let map = Arc::new(map);
    PageServer::start(move |request| map.get(&request.path).cloned().unwrap_or_else(|| Answer::status(404)))
        .await
}

fn pdf(report: &SampleReport) -> Answer {
    let bytes = report.pdf(Path::new(CJK), Path::new(LATIN)).expect("the PDF renders (fonts-droid-fallback)");
    Answer { status: 200, content_type: "application/pdf".to_owned(), location: None, body: bytes }
}

fn unit(n: u32, name: &str, server: &PageServer) -> Unit {
    Unit {
        code: OrgCode::parse(&credit_code(n)).expect("code"),
        name: name.to_owned(),
        kind: UnitKind::Department,
        parent_code: None,
        website: Some(server.url("/")),
        catalogue_url: None,
        email: None,
    }
}

fn env(read_report: bool) -> CrawlEnv {
    let mut profile = SiteProfile::builtin().expect("profile");
    profile.fetch.min_gap_ms = 0;
    profile.fetch.total_timeout_secs = 5;
    profile.annual_report.read_report = read_report;
    let as_of = NaiveDate::from_ymd_opt(2026, 3, 1).expect("day");
    let observed = Utc.with_ymd_and_hms(2026, 3, 1, 4, 0, 0).single().expect("time");
    CrawlEnv::new(profile, true, as_of, observed).expect("environment")
}

/// The outcome's report findings (the vocabulary's `report.*` besides `annual_missing`).
fn reported(outcome: &SiteOutcome) -> Vec<&Finding> {
    outcome
        .findings
        .iter()
        .filter(|f| f.check.starts_with("report.") && f.check != "report.annual_missing")
        .collect()
}

fn of<'a>(outcome: &'a SiteOutcome, check: &str) -> Vec<&'a Finding> {
    outcome.findings.iter().filter(|f| f.check == check).collect()
}

#[tokio::test]
async fn reports_are_read_from_the_sites_and_each_defect_is_found_with_its_evidence() {
    let names = ["南宁市甲局", "南宁市乙局", "南宁市丙局", "南宁市丁局", "南宁市戊局"];
    // Each unit's own narrative (variant i): reports of different units are not copies.
    let complete = |i: usize| SampleReport::complete_variant(names[i], 2025, i);
    // 甲: a complete HTML report. 乙: a PDF attachment behind a page with no text of its own,
    // missing a section. 丙: a PDF whose request table does not add up. 丁: last year's report
    // behind this year's link. 戊: 甲's report with 戊's name (read after 甲's: one crawl).
    let jia =
        site(names[0], "/bg/2025.html", vec![("/bg/2025.html", Answer::html(complete(0).html()))]).await;
    let attachment_page = format!(
        "<html><head><title>{0}2025年政府信息公开工作年度报告</title></head><body>\
         <h1>{0}2025年政府信息公开工作年度报告</h1><p>发布时间：2026-02-03</p>\
         <p>附件：<a href=\"/files/report.pdf\">{0}2025年政府信息公开工作年度报告.pdf</a></p></body></html>",
        names[1]
    );
    let yi = site(
        names[1],
        "/bg/2025.html",
        vec![
            ("/bg/2025.html", Answer::html(attachment_page)),
            ("/files/report.pdf", pdf(&complete(1).without_section("其他需要报告的事项"))),
        ],
    )
    .await;
    let bing = site(
        names[2],
        "/bg/2025.pdf",
        vec![("/bg/2025.pdf", pdf(&complete(2).with_row("结转下年度", &[3, 0, 0, 0, 0, 0, 3])))],
    )
    .await;
    let last_year = SampleReport::complete_variant(names[3], 2024, 3);
    let ding = site(names[3], "/bg/2025.html", vec![("/bg/2025.html", Answer::html(last_year.html()))]).await;
    let copied = SampleReport::complete(names[0], 2025).replace(names[0], names[4]);
    let wu = site(names[4], "/bg/2025.html", vec![("/bg/2025.html", Answer::html(copied.html()))]).await;

    let servers = [&jia, &yi, &bing, &ding, &wu];
    let units: Vec<Unit> = servers.iter().enumerate().map(|(i, s)| unit(i as u32 + 1, names[i], s)).collect();
    // One site at a time, in order, so that 甲's report is read before 戊's.
    let mut env = env(true);
    Arc::make_mut(&mut env.profile).max_concurrent_sites = 1;
    let outcomes = crawl_units(&env, units, Arc::new(CrawlProgress::default())).await;

    assert!(reported(&outcomes[0]).is_empty(), "甲 is complete: {:#?}", reported(&outcomes[0]));
    assert!(of(&outcomes[0], "report.annual_missing").is_empty());

    let missing = of(&outcomes[1], "report.section_missing");
    assert_eq!(missing.len(), 1, "{:#?}", reported(&outcomes[1]));
    assert_eq!(missing[0].detail["key"], "其他需要报告的事项");
    assert_eq!(
        missing[0].url.as_deref(),
        Some(yi.url("/files/report.pdf").as_str()),
        "the attachment was read"
    );
    // The publication date is the page's, not the attachment's.
    let late = of(&outcomes[1], "report.late");
    assert_eq!(late.len(), 1, "{:#?}", reported(&outcomes[1]));
    assert_eq!(late[0].detail["published"], "2026-02-03");
    assert_eq!(late[0].detail["days_late"], 3);
    assert_eq!(reported(&outcomes[1]).len(), 2, "{:#?}", reported(&outcomes[1]));

    let wrong = of(&outcomes[2], "report.table_inconsistent");
    assert_eq!(wrong.len(), 2, "{:#?}", reported(&outcomes[2]));
    assert_eq!(wrong[1].detail["at"], "总计");
    assert_eq!(wrong[1].detail["left"]["value"], "27");
    assert_eq!(wrong[1].detail["right"]["value"], "29");
    assert_eq!(wrong[1].url.as_deref(), Some(bing.url("/bg/2025.pdf").as_str()));

    let stale = of(&outcomes[3], "report.stale_copy");
    assert_eq!(stale.len(), 1, "{:#?}", reported(&outcomes[3]));
    assert_eq!(stale[0].detail["kind"], "wrong_year");
    assert_eq!(stale[0].detail["found_year"], 2024);

    let copies = of(&outcomes[4], "report.stale_copy");
    assert_eq!(copies.len(), 1, "{:#?}", reported(&outcomes[4]));
    assert_eq!(copies[0].detail["kind"], "near_duplicate");
    assert_eq!(copies[0].detail["other_name"], names[0]);
    assert_eq!(copies[0].detail["other_url"], jia.url("/bg/2025.html"));
    for outcome in &outcomes {
        assert!(of(outcome, "site.unchecked").is_empty(), "{:#?}", outcome.findings);
    }
}

#[tokio::test]
async fn with_read_report_off_no_report_is_fetched() {
    let name = "南宁市甲局";
    let broken = SampleReport::complete(name, 2024).without_section("总体情况");
    let server = site(name, "/bg/2025.html", vec![("/bg/2025.html", Answer::html(broken.html()))]).await;
    let off =
        crawl_units(&env(false), vec![unit(1, name, &server)], Arc::new(CrawlProgress::default())).await;
    assert!(reported(&off[0]).is_empty(), "{:#?}", off[0].findings);
    let on = crawl_units(&env(true), vec![unit(1, name, &server)], Arc::new(CrawlProgress::default())).await;
    assert_eq!(of(&on[0], "report.section_missing").len(), 1, "{:#?}", reported(&on[0]));
    assert_eq!(of(&on[0], "report.stale_copy").len(), 1, "{:#?}", reported(&on[0]));
    // The report page is linked from the home page, so the crawl fetched it either way; reading
    // it for the template costs one more fetch.
    assert_eq!(on[0].pages, off[0].pages + 1);
}
