//! The leadership view: the ranking page with its filters and CSV export, and a unit's page with
//! the explanation tree down to each finding's evidence, for every role that may see it.

use chrono::{TimeZone, Utc};
use gongkai::assess::LaggardCriteria;
use gongkai::jobs::{AssessRequest, Progress, assess, assessment_cutoff};
use gongkai::model::{CrawlKind, Finding, FindingStatus, Source};
use gongkai::registry::{plan_import, read_registry};
use gongkai::rules::RuleSet;
use gongkai::store::{AuditEntry, CrawlRunRecord};
use rocket::http::Status;
use rocket::local::asynchronous::Client;

use crate::support::{HEADER, credit_code};
use crate::web_support::{City, unit};

const CYCLE: &str = "2026-Q4";

/// Scores the city under the shipped national rules as of 2026-11-30, as `gongkai assess` does.
async fn assess_city(city: &City) {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scoring-rules/gov-website-2019.toml"))
            .expect("shipped rules");
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
    assess(&city.store, request, &Progress::default()).await.expect("assessment");
}

async fn assessed_city() -> City {
    let city = City::new().await;
    assess_city(&city).await;
    city
}

async fn get(client: &Client, path: &str) -> (Status, String) {
    let response = client.get(path.to_string()).dispatch().await;
    let status = response.status();
    (status, response.into_string().await.unwrap_or_default())
}

/// The longest piece of `text` that HTML escaping leaves as it is, to look for on a page.
fn plain_part(text: &str) -> &str {
    text.split(['<', '>', '&', '"', '\'', '/']).max_by_key(|part| part.len()).unwrap_or(text)
}

/// The `<tr>` rows of the ranking table body.
fn table_rows(html: &str) -> Vec<&str> {
    let body =
        html.split("<tbody>").nth(1).and_then(|rest| rest.split("</tbody>").next()).expect("a table body");
    body.split("<tr").skip(1).collect()
}

/// A path with the cycle named, as links on the pages give it.
fn unit_path(n: u32) -> String {
    format!("/units/{}?cycle={CYCLE}", unit(n))
}

#[tokio::test]
async fn leader_sees_every_unit_with_the_stores_laggard_flags() {
    let city = assessed_city().await;
    let ranking = city.store.ranking(CYCLE).await.expect("ranking");
    assert_eq!(ranking.len(), 4);
    let laggards: Vec<_> = ranking.iter().filter(|r| r.laggard).collect();
    assert!(!laggards.is_empty(), "unit 1 is vetoed for spam, so the city has a laggard");

    let (client, _) = city.signed_in("leader1").await;
    let (status, html) = get(&client, "/rankings").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(CYCLE), "the current cycle is shown by default");
    let rows = table_rows(&html);
    assert_eq!(rows.len(), 4, "one row per unit");
    for (row, stored) in rows.iter().zip(&ranking) {
        assert!(
            row.contains(&format!("/units/{}?cycle={CYCLE}\">{}</a>", stored.unit, stored.name)),
            "{row}"
        );
        assert!(row.contains(&format!("<td class=\"num\">{}</td>", stored.score)), "{row}");
        assert_eq!(row.starts_with(" class=\"laggard\""), stored.laggard, "{row}");
        assert_eq!(row.contains("badge laggard\">后进"), stored.laggard, "{row}");
        for reason in &stored.reasons {
            assert!(row.contains(plain_part(reason)), "reason {reason} in {row}");
        }
    }
    assert!(html.contains("<svg"), "the charts are drawn on the server");
    assert!(html.contains("得分分布") && html.contains("各类单位平均分"));
    assert!(html.contains(&format!("<dt>后进单位</dt><dd><span class=\"down\">{}</span>", laggards.len())));
}

#[tokio::test]
async fn the_kind_and_laggard_filters_narrow_the_table() {
    let city = assessed_city().await;
    let (client, _) = city.signed_in("office1").await;

    let (status, html) = get(&client, "/rankings?kind=institution").await;
    assert_eq!(status, Status::Ok);
    let rows = table_rows(&html);
    assert_eq!(rows.len(), 1, "only unit 4 is an institution");
    assert!(rows[0].contains(&format!("/units/{}", unit(4))));
    for other in [1, 2, 3] {
        assert!(!html.contains(&format!("/units/{}", unit(other))), "unit {other} is a department");
    }
    assert!(html.contains("value=\"institution\" selected"), "the filter is kept in the form");

    let laggards =
        city.store.ranking(CYCLE).await.expect("ranking").into_iter().filter(|r| r.laggard).count();
    let (_, html) = get(&client, &format!("/rankings?cycle={CYCLE}&laggards=true")).await;
    let rows = table_rows(&html);
    assert_eq!(rows.len(), laggards);
    assert!(rows.iter().all(|row| row.starts_with(" class=\"laggard\"")));

    let (status, _) = get(&client, "/rankings?kind=bureau").await;
    assert_eq!(status, Status::UnprocessableEntity, "an unknown kind is refused, not ignored");
}

#[tokio::test]
async fn csv_export_has_the_bom_a_header_and_the_stores_totals() {
    let city = assessed_city().await;
    let (client, _) = city.signed_in("leader1").await;
    let response = client.get("/rankings.csv").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    let content_type = response.headers().get_one("Content-Type").unwrap_or_default().to_string();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    assert_eq!(
        response.headers().get_one("Content-Disposition"),
        Some(format!("attachment; filename=\"ranking-{CYCLE}.csv\"").as_str())
    );
    let bytes = response.into_bytes().await.expect("body");
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).expect("starts with the UTF-8 BOM");
    let records: Vec<csv::StringRecord> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.expect("csv"))
        .collect();
    assert_eq!(records.len(), 5, "a header and four rows");
    assert_eq!(&records[0][0], "名次");
    let score_column = records[0].iter().position(|h| h == "得分").expect("a score column");
    let code_column = records[0].iter().position(|h| h == "代码").expect("a code column");
    let ranking = city.store.ranking(CYCLE).await.expect("ranking");
    for (record, stored) in records[1..].iter().zip(&ranking) {
        assert_eq!(&record[code_column], stored.unit);
        assert_eq!(&record[score_column], stored.score.to_string());
    }

    let (status, csv) = get(&client, &format!("/rankings.csv?cycle={CYCLE}&kind=institution")).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(csv.lines().count(), 2, "the filters apply to the export too");
}

#[tokio::test]
async fn unit_page_escapes_the_snippet_and_shows_the_stores_total() {
    let city = assessed_city().await;
    let stored = city.store.unit_score(CYCLE, &unit(1)).await.expect("score").expect("unit 1 was scored");
    let (client, _) = city.signed_in("leader1").await;
    let (status, html) = get(&client, &format!("/units/{}", unit(1))).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("&lt;script&gt;"), "the hostile snippet is shown, escaped");
    assert!(!html.contains("<script>alert"), "and never as markup");
    assert!(html.contains("<div class=\"snippet\">&lt;script&gt;alert("));
    assert!(html.contains(&format!("<strong class=\"total\">{}</strong>", stored.score)));
    assert!(html.contains("甲局") && html.contains(unit(1).as_str()) && html.contains("第一组"));
    assert!(html.contains(&format!("<code>{}</code>", city.spam_finding)), "the finding is named by its id");
}

#[tokio::test]
async fn an_item_that_lost_points_cites_its_finding_and_full_marks_stay_folded() {
    let city = assessed_city().await;
    let (client, _) = city.signed_in("office1").await;

    // Unit 1 is vetoed for the spam finding: the veto is open and cites it.
    let (_, html) = get(&client, &unit_path(1)).await;
    let veto = html.split("node-veto\"").nth(1).expect("a veto node");
    assert!(veto.split_once('>').is_some_and(|(tag, _)| tag.ends_with(" open")), "the veto is expanded");
    assert!(veto.split("</details>").next().is_some_and(|node| node.contains(&city.spam_finding)));

    // Unit 3 lost points for its stale column: the item is expanded, listed among the lost
    // items, and cites the finding; items at full marks are folded.
    let tree = city.store.explanation(CYCLE, unit(3).as_str()).await.expect("read").expect("a tree");
    let items: Vec<serde_json::Value> = tree["root"]["children"]
        .as_array()
        .expect("children")
        .iter()
        .filter(|n| n["kind"] == "component")
        .flat_map(|c| c["children"].as_array().cloned().unwrap_or_default())
        .collect();
    let lost: Vec<&serde_json::Value> =
        items.iter().filter(|i| i["lost"].as_str().is_some_and(|l| l != "0")).collect();
    assert_eq!(lost.len(), 1, "one stale column costs one item: {tree:#}");
    let label = lost[0]["label"].as_str().expect("label");
    let points = lost[0]["lost"].as_str().expect("lost");

    let (status, html) = get(&client, &unit_path(3)).await;
    assert_eq!(status, Status::Ok);
    let summary = html.split("<h2>失分项</h2>").nth(1).expect("a lost-items list");
    let anchor = summary.split("href=\"#").nth(1).and_then(|rest| rest.split('"').next()).expect("an anchor");
    assert!(summary.split("</table>").next().is_some_and(|list| list.contains(plain_part(label))));
    let node = html.split(&format!("id=\"{anchor}\"")).nth(1).expect("the item's node");
    assert!(node.starts_with(" open>"), "the item that lost points is expanded");
    let node = node.split("node-indicator").next().unwrap_or(node);
    assert!(node.contains(plain_part(label)));
    assert!(node.contains(&format!("失 {points} 分")), "{node}");
    assert!(node.contains(&city.other_finding), "the item cites the finding that cost the points");
    assert!(node.contains("column.stale") && node.contains("栏目长期未更新"));

    let full = items.iter().find(|i| i["lost"] == "0").expect("an item at full marks");
    let full_label = full["label"].as_str().expect("label");
    let before = html.split(&format!("<strong>{}</strong>", full_label)).next().expect("the item is shown");
    let tag = before.rsplit("<details").next().expect("inside a details element");
    assert!(!tag.contains(" open"), "full marks are folded: {tag}");
}

#[tokio::test]
async fn unit_accounts_and_inspectors_see_only_their_units() {
    let city = assessed_city().await;
    let (unit1, _) = city.signed_in("unit1").await;
    for path in ["/rankings".to_string(), "/rankings.csv".to_string(), format!("/units/{}", unit(3))] {
        assert_eq!(get(&unit1, &path).await.0, Status::Forbidden, "unit1 on {path}");
    }
    let (status, html) = get(&unit1, &format!("/units/{}", unit(1))).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("甲局"));

    let (inspector, _) = city.signed_in("inspector1").await;
    assert_eq!(get(&inspector, &format!("/units/{}", unit(1))).await.0, Status::Ok);
    assert_eq!(get(&inspector, &format!("/units/{}", unit(3))).await.0, Status::Forbidden);
    assert_eq!(get(&inspector, "/rankings").await.0, Status::Forbidden);
    let (other, _) = city.signed_in("inspector2").await;
    assert_eq!(get(&other, &format!("/units/{}", unit(1))).await.0, Status::Forbidden, "another group");
}

#[tokio::test]
async fn each_role_gets_its_own_actions_on_a_unit_page() {
    let city = assessed_city().await;
    let path = format!("/units/{}", unit(1));

    let (unit1, _) = city.signed_in("unit1").await;
    let html = get(&unit1, &path).await.1;
    assert!(html.contains("href=\"/my/self-assessment\">提交自评</a>"));
    assert!(
        html.contains(&format!("{}#answer\">答复</a>", city.spam_finding)),
        "the open finding can be answered"
    );
    assert!(!html.contains("录入检查记录"));

    let (inspector, _) = city.signed_in("inspector1").await;
    let html = get(&inspector, &path).await.1;
    assert!(html.contains(&format!("href=\"/inspector/units/{}/visit\">录入检查记录</a>", unit(1))));
    assert!(!html.contains(">提交自评</a>") && !html.contains(">答复</a>"));

    let (leader, _) = city.signed_in("leader1").await;
    let html = get(&leader, &path).await.1;
    assert!(!html.contains(">提交自评</a>") && !html.contains(">答复</a>") && !html.contains("录入检查记录"));
}

#[tokio::test]
async fn unknown_codes_and_cycles_are_not_found() {
    let city = assessed_city().await;
    let (client, _) = city.signed_in("leader1").await;
    for path in [
        format!("/units/{}", credit_code(99)),
        "/units/not-a-code".to_string(),
        "/units/%3Cscript%3E".to_string(),
        format!("/units/{}?cycle=2020-Q1", unit(1)),
        "/rankings?cycle=2020-Q1".to_string(),
        "/rankings.csv?cycle=2020-Q1".to_string(),
    ] {
        let (status, html) = get(&client, &path).await;
        assert_eq!(status, Status::NotFound, "{path}");
        assert!(!html.contains("<script>"), "{path}");
    }
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_login() {
    let city = assessed_city().await;
    let client = city.client().await;
    for (path, next) in [
        ("/rankings".to_string(), "%2Frankings".to_string()),
        ("/rankings.csv".to_string(), "%2Frankings.csv".to_string()),
        (format!("/units/{}", unit(1)), format!("%2Funits%2F{}", unit(1))),
    ] {
        let response = client.get(path.clone()).dispatch().await;
        assert_eq!(response.status(), Status::SeeOther, "{path}");
        assert_eq!(response.headers().get_one("Location"), Some(format!("/login?next={next}").as_str()));
    }
}

#[tokio::test]
async fn a_unit_the_cycle_did_not_score_still_shows_its_facts_and_findings() {
    let city = assessed_city().await;
    let existing = city.store.units().await.expect("units");
    let csv = format!("{HEADER}{e},戊局,district,,http://u5.example.cn/,,\n", e = credit_code(5));
    let plan = plan_import(&read_registry(csv.as_bytes()).expect("readable"), &existing).expect("valid");
    city.store
        .apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {})
        .await
        .expect("import");
    let at = Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0).single().expect("date");
    let finding = Finding {
        id: None,
        unit: unit(5),
        check: "catalogue.unreachable".into(),
        source: Source::Crawler,
        observed_at: at,
        url: Some("javascript:alert(1)".into()),
        detail: serde_json::json!({ "error": "<img src=x onerror=alert(2)>" }),
        status: FindingStatus::Open,
        rectify_by: None,
    };
    let run = CrawlRunRecord {
        kind: CrawlKind::Catalogue,
        as_of: at,
        started_at: at,
        finished_at: at,
        units: vec![unit(5)],
        stats: serde_json::json!({}),
    };
    city.store.record_crawl_run(&run, &[finding], &[]).await.expect("run");

    let (client, _) = city.signed_in("office1").await;
    let (status, html) = get(&client, &format!("/units/{}", unit(5))).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("戊局") && html.contains("县区"));
    assert!(html.contains("本周期尚未评分"));
    assert!(html.contains("catalogue.unreachable") && html.contains("政府信息公开目录无法访问或解析"));
    assert!(html.contains("javascript:alert(1)"), "the address is shown as text");
    assert!(!html.contains("href=\"javascript:"), "but never linked");
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;") && !html.contains("<img"));
}

#[tokio::test]
async fn before_any_assessment_the_pages_say_so() {
    let city = City::new().await;
    let (client, _) = city.signed_in("leader1").await;
    let (status, html) = get(&client, "/rankings").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("还没有评估结果"));
    assert_eq!(get(&client, "/rankings.csv").await.0, Status::NotFound);
    let (status, html) = get(&client, &format!("/units/{}", unit(3))).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("还没有任何评估周期") && html.contains("column.stale"));
}

/// Records a site crawl that found spam on `code`'s site on 2026-11-29: a veto once the cycle
/// is re-run.
async fn record_spam(city: &City, code: &gongkai::model::OrgCode) {
    let at = Utc.with_ymd_and_hms(2026, 11, 29, 3, 0, 0).single().expect("date");
    let finding = Finding {
        id: None,
        unit: code.clone(),
        check: "content.spam".into(),
        source: Source::Crawler,
        observed_at: at,
        url: Some("http://u.example.cn/spam".into()),
        detail: serde_json::json!({}),
        status: FindingStatus::Open,
        rectify_by: None,
    };
    let run = CrawlRunRecord {
        kind: CrawlKind::Site,
        as_of: at,
        started_at: at,
        finished_at: at,
        units: vec![code.clone()],
        stats: serde_json::json!({}),
    };
    city.store.record_crawl_run(&run, &[finding], &[]).await.expect("run");
}

/// The ranking page's content is kept between requests (web/fragments.rs); re-running the cycle
/// must show the new scores on the very next request, to every role.
#[tokio::test]
async fn a_re_run_cycle_shows_its_new_scores_at_once() {
    let city = assessed_city().await;
    let (client, _) = city.signed_in("leader1").await;
    let before = city.store.ranking(CYCLE).await.expect("ranking");
    let (_, first) = get(&client, "/rankings").await;
    assert_eq!(get(&client, "/rankings").await.1, first, "the same inputs give the same page");

    // Spam on the best unit's site vetoes it: its total drops to zero when the cycle is re-run.
    let best = before.iter().find(|r| r.veto.is_none()).expect("an unvetoed unit").unit.clone();
    let code = gongkai::model::OrgCode::parse(&best).expect("a stored code");
    record_spam(&city, &code).await;
    assess_city(&city).await;
    let after = city.store.ranking(CYCLE).await.expect("ranking");
    let vetoed = after.iter().find(|r| r.unit == best).expect("still ranked");
    assert!(vetoed.veto.is_some(), "the re-run vetoed the unit");

    // The same server (and cache) that served the page before the re-run, then another role.
    let (office, _) = city.signed_in("office1").await;
    for (account, client) in [("leader1", &client), ("office1", &office)] {
        let (_, html) = get(client, "/rankings").await;
        let rows = table_rows(&html);
        assert_eq!(rows.len(), after.len());
        for (row, stored) in rows.iter().zip(&after) {
            assert!(row.contains(&format!("/units/{}?", stored.unit)), "{account}: order of {row}");
            assert!(row.contains(&format!("<td class=\"num\">{}", stored.score)), "{account}: {row}");
        }
        let vetoed_row = rows.iter().find(|r| r.contains(&format!("/units/{best}?"))).expect("row");
        assert!(vetoed_row.contains("单项否决"), "{account} was served the page from before the re-run");
    }
}

/// A unit's page content is kept per change stamp (web/fragments.rs); a crawl's new finding and
/// a re-run's new total must show on the very next request.
#[tokio::test]
async fn a_unit_page_shows_new_findings_and_scores_at_once() {
    let city = assessed_city().await;
    let (client, _) = city.signed_in("leader1").await;
    let path = unit_path(2);
    let (status, first) = get(&client, &path).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(get(&client, &path).await.1, first, "the same inputs give the same page");
    assert!(!first.contains("content.spam"));

    let code = unit(2);
    record_spam(&city, &code).await;
    let (_, html) = get(&client, &path).await;
    assert!(html.contains("content.spam"), "the kept page did not show the crawl's new finding");

    assess_city(&city).await;
    let score = city.store.unit_score(CYCLE, &code).await.expect("score").expect("scored");
    assert!(score.veto.is_some(), "the re-run vetoed the unit");
    let (_, html) = get(&client, &path).await;
    assert!(html.contains("单项否决"), "the kept page did not show the re-run's veto");
}
