//! The inspectors' and units' flows through the dashboard: recording a visit, the
//! rectification loop on a finding page, the self-assessment form, and what each role may reach.

use chrono::Duration;
use gongkai::assess::LaggardCriteria;
use gongkai::jobs::{AssessRequest, Progress, assess, assessment_cutoff};
use gongkai::model::{CityClock, FindingStatus, RectificationAction, Source};
use gongkai::rules::RuleSet;
use gongkai::store::FindingFilter;
use gongkai::web::actions::visit::{VisitFindingInput, VisitInput, record_visit};
use gongkai::web::session::{AuthVia, CurrentUser};
use rocket::http::Status;
use rocket::local::asynchronous::{Client, LocalResponse};

use crate::web_support::{City, HOSTILE, post_form};

fn location(response: &LocalResponse<'_>) -> String {
    response.headers().get_one("Location").unwrap_or_default().to_string()
}

fn day(offset: i64) -> String {
    (CityClock::default().today() + Duration::days(offset)).to_string()
}

fn visit_path(city: &City, n: usize) -> String {
    format!("/inspector/units/{}/visit", city.units[n])
}

fn act_path(finding: &str) -> String {
    format!("/findings/{finding}/act")
}

/// Everything the visit tests check was (not) written for unit 1.
async fn inspector_findings(city: &City) -> Vec<gongkai::model::Finding> {
    let filter = FindingFilter { unit: Some(city.units[0].clone()), ..Default::default() };
    city.store
        .findings(&filter)
        .await
        .expect("findings")
        .into_iter()
        .filter(|f| f.source == Source::Inspector)
        .collect()
}

async fn nothing_recorded(city: &City) {
    assert!(city.store.visits_for(&city.units[0]).await.expect("visits").is_empty(), "no visit was written");
    assert!(inspector_findings(city).await.is_empty(), "no finding was written");
}

async fn page(client: &Client, path: &str) -> (Status, String) {
    let response = client.get(path.to_string()).dispatch().await;
    let status = response.status();
    (status, response.into_string().await.unwrap_or_default())
}

async fn status_of(city: &City, finding: &str) -> FindingStatus {
    city.store.finding(finding).await.expect("read").expect("exists").status
}

#[tokio::test]
async fn an_inspector_records_a_visit_with_two_findings() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("inspector1").await;
    let (status, form) = page(&client, &visit_path(&city, 0)).await;
    assert_eq!(status, Status::Ok);
    assert!(
        form.contains(&format!("value=\"{}\"", CityClock::default().today())),
        "the date defaults to today"
    );
    assert!(form.contains("<optgroup label=\"栏目\">") && form.contains("value=\"field.no_staff\""));
    assert!(form.contains("findings[2].check") && !form.contains("findings[3].check"), "three rows");
    assert!(form.contains("再加一条"));
    assert!(form.contains("被植入违规内容或链接"), "the crawler's open finding is shown before the form");

    let (date, due) = (day(-1), day(30));
    let response = post_form(
        &client,
        &visit_path(&city, 0),
        &[
            ("csrf", &csrf),
            ("date", &date),
            ("method", "现场检查"),
            ("note", "听取了汇报"),
            ("findings[0].check", "field.no_staff"),
            ("findings[0].note", "无专人负责"),
            ("findings[0].rectify_by", &due),
            ("findings[1].check", "column.stale"),
            ("findings[1].note", ""),
            ("findings[1].rectify_by", ""),
            ("findings[2].check", ""),
            ("findings[2].note", ""),
            ("findings[2].rectify_by", ""),
        ],
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), format!("/units/{}", city.units[0]));

    let visits = city.store.visits_for(&city.units[0]).await.expect("visits");
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0].inspector, "inspector1");
    assert_eq!(visits[0].group.as_deref(), Some("第一组"));
    assert_eq!(visits[0].date.to_string(), date);
    assert_eq!(visits[0].note.as_deref(), Some("听取了汇报"));
    assert_eq!(visits[0].findings, 2);

    let mut findings = inspector_findings(&city).await;
    findings.sort_by(|a, b| a.check.cmp(&b.check));
    let checks: Vec<&str> = findings.iter().map(|f| f.check.as_str()).collect();
    assert_eq!(checks, ["column.stale", "field.no_staff"]);
    assert!(findings.iter().all(|f| f.detail["group"] == "第一组" && f.status == FindingStatus::Open));
    assert_eq!(findings[1].rectify_by.map(|d| d.to_string()), Some(due));
    assert_eq!(findings[1].detail["note"], "无专人负责");

    let audit = city.store.audit_entries(20).await.expect("audit");
    let entry = audit.iter().find(|e| e.action == "visit.record").expect("audit entry");
    assert_eq!(entry.actor, "inspector1");
    assert_eq!(entry.target.as_deref(), Some(city.units[0].as_str()));

    // The same visit again is refused rather than doubled.
    let again = post_form(
        &client,
        &visit_path(&city, 0),
        &[("csrf", &csrf), ("date", &date), ("method", "现场检查"), ("findings[0].check", "field.no_staff")],
    )
    .await;
    assert_eq!(again.status(), Status::UnprocessableEntity);
    assert!(again.into_string().await.unwrap_or_default().contains("已录入过"));
    assert_eq!(city.store.visits_for(&city.units[0]).await.expect("visits").len(), 1);

    // A finding whose deadline has passed lands on the follow-up list.
    let (earlier, missed) = (day(-10), day(-5));
    let response = post_form(
        &client,
        &visit_path(&city, 1),
        &[
            ("csrf", &csrf),
            ("date", &earlier),
            ("method", "电话督查"),
            ("findings[0].check", "field.paper_docs_late"),
            ("findings[0].rectify_by", &missed),
        ],
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    let (_, home) = page(&client, "/inspector").await;
    let overdue = home.split("已过整改期限").nth(1).expect("overdue section");
    assert!(
        overdue.contains("未按时报送纸质文件") && overdue.contains(&format!("期限 {missed}")),
        "{overdue}"
    );
}

#[tokio::test]
async fn another_row_keeps_what_was_typed_and_saves_nothing() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("inspector1").await;
    let response = post_form(
        &client,
        &visit_path(&city, 0),
        &[
            ("csrf", &csrf),
            ("date", &day(-1)),
            ("method", "网站检查"),
            ("findings[0].check", "link.broken"),
            ("findings[0].note", "首页第三条链接打不开"),
            ("findings[1].check", ""),
            ("findings[2].check", ""),
            ("more", "1"),
        ],
    )
    .await;
    assert_eq!(response.status(), Status::Ok);
    let body = response.into_string().await.unwrap_or_default();
    assert!(body.contains("findings[3].check") && !body.contains("findings[4].check"), "one more row");
    assert!(
        body.contains("首页第三条链接打不开") && body.contains("<option value=\"link.broken\" selected>")
    );
    nothing_recorded(&city).await;
}

#[tokio::test]
async fn an_inspector_of_another_group_may_not_record_a_visit() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("inspector2").await;
    assert_eq!(page(&client, &visit_path(&city, 0)).await.0, Status::Forbidden);
    let response = post_form(
        &client,
        &visit_path(&city, 0),
        &[
            ("csrf", &csrf),
            ("date", &day(-1)),
            ("method", "现场检查"),
            ("findings[0].check", "field.no_staff"),
        ],
    )
    .await;
    assert_eq!(response.status(), Status::Forbidden);
    nothing_recorded(&city).await;

    // Nor may an inspector record on a unit outside every group, or a unit account at all.
    let (client, _) = city.signed_in("inspector1").await;
    assert_eq!(page(&client, &visit_path(&city, 2)).await.0, Status::Forbidden);
    let (client, _) = city.signed_in("unit1").await;
    assert_eq!(page(&client, &visit_path(&city, 0)).await.0, Status::Forbidden);
}

#[tokio::test]
async fn bad_visits_are_refused_with_the_field_named_and_the_input_kept() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("inspector1").await;

    let future = day(3);
    let response = post_form(
        &client,
        &visit_path(&city, 0),
        &[("csrf", &csrf), ("date", &future), ("method", "电话督查"), ("note", "电话无人接听")],
    )
    .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let body = response.into_string().await.unwrap_or_default();
    assert!(body.contains(&format!("检查日期 {future} 晚于今天")), "{body}");
    assert!(body.contains("电话无人接听") && body.contains(&format!("value=\"{future}\"")), "input kept");
    assert!(body.contains("<option value=\"电话督查\" selected>"), "method kept");

    let response = post_form(
        &client,
        &visit_path(&city, 0),
        &[
            ("csrf", &csrf),
            ("date", &day(-1)),
            ("method", "现场检查"),
            ("findings[0].check", "column.stale"),
            ("findings[1].check", "field.nonsense"),
            ("findings[1].note", "随便写的"),
        ],
    )
    .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let body = response.into_string().await.unwrap_or_default();
    assert!(body.contains("检查项“field.nonsense”未在规则集"), "{body}");
    assert!(body.contains("随便写的"));
    nothing_recorded(&city).await;

    // The action the API shares names the row and the field in its message.
    let (account, _) = city.store.account("inspector1").await.expect("read").expect("account");
    let user = CurrentUser { account, csrf: String::new(), via: AuthVia::Token };
    let input = VisitInput {
        date: day(-1),
        method: "onsite".into(),
        note: None,
        findings: vec![
            VisitFindingInput { check: "column.stale".into(), ..Default::default() },
            VisitFindingInput { check: "field.xxx".into(), ..Default::default() },
            VisitFindingInput {
                check: "column.empty".into(),
                rectify_by: Some(day(-2)),
                ..Default::default()
            },
        ],
    };
    let error =
        record_visit(&city.store, &user, &city.units[0], &input).await.expect_err("refused").to_string();
    assert!(error.contains("第 2 条问题的检查项") && error.contains("field.xxx"), "{error}");
    assert!(error.contains("第 3 条问题的整改期限"), "{error}");
    nothing_recorded(&city).await;
}

#[tokio::test]
async fn posts_without_the_session_token_are_refused() {
    let city = City::new().await;
    let (client, _csrf) = city.signed_in("inspector1").await;
    let fields = [
        ("date", day(-1)),
        ("method", "现场检查".to_string()),
        ("findings[0].check", "field.no_staff".into()),
    ];
    let without: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = post_form(&client, &visit_path(&city, 0), &without).await;
    assert_eq!(response.status(), Status::Forbidden);
    let mut forged = without.clone();
    forged.push(("csrf", "0123456789abcdef"));
    let response = post_form(&client, &visit_path(&city, 0), &forged).await;
    assert_eq!(response.status(), Status::Forbidden);
    nothing_recorded(&city).await;

    let (unit_client, _) = city.signed_in("unit1").await;
    let response =
        post_form(&unit_client, &act_path(&city.spam_finding), &[("action", "dispute"), ("note", "理由")])
            .await;
    assert_eq!(response.status(), Status::Forbidden);
    assert_eq!(status_of(&city, &city.spam_finding).await, FindingStatus::Open);
}

#[tokio::test]
async fn a_unit_disputes_its_finding_and_the_inspector_decides() {
    let city = City::new().await;
    let spam = city.spam_finding.clone();
    let (inspector1, inspector1_csrf) = city.signed_in("inspector1").await;
    let (_, home) = page(&inspector1, "/inspector").await;
    assert!(!home.contains(&spam), "an open finding without a deadline needs no follow-up yet");
    let (unit1, unit1_csrf) = city.signed_in("unit1").await;

    let (status, body) = page(&unit1, &format!("/findings/{spam}")).await;
    assert_eq!(status, Status::Ok);
    assert!(body.contains("value=\"rectify\"") && body.contains("value=\"dispute\""), "the unit's answers");
    assert!(!body.contains("value=\"seen_fixed\""), "no reviewer decisions for the unit");

    let response =
        post_form(&unit1, &act_path(&spam), &[("csrf", &unit1_csrf), ("action", "dispute"), ("note", "  ")])
            .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    assert!(response.into_string().await.unwrap_or_default().contains("须填写理由"));
    assert_eq!(status_of(&city, &spam).await, FindingStatus::Open);
    assert!(city.store.finding_events(&spam).await.expect("events").is_empty());

    let response = post_form(
        &unit1,
        &act_path(&spam),
        &[("csrf", &unit1_csrf), ("action", "dispute"), ("note", "该链接是友情链接，已核实无违规内容")],
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), format!("/findings/{spam}"));
    assert_eq!(status_of(&city, &spam).await, FindingStatus::Disputed);
    let events = city.store.finding_events(&spam).await.expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].action, events[0].actor.as_str()), (RectificationAction::Dispute, "unit1"));
    assert_eq!(events[0].note.as_deref(), Some("该链接是友情链接，已核实无违规内容"));

    // The unit cannot decide on its own answer; an inspector of another group cannot either.
    let response =
        post_form(&unit1, &act_path(&spam), &[("csrf", &unit1_csrf), ("action", "withdraw")]).await;
    assert_eq!(response.status(), Status::Forbidden);
    let (inspector2, inspector2_csrf) = city.signed_in("inspector2").await;
    let response =
        post_form(&inspector2, &act_path(&spam), &[("csrf", &inspector2_csrf), ("action", "withdraw")]).await;
    assert_eq!(response.status(), Status::NotFound, "another group's finding is not found");
    assert_eq!(status_of(&city, &spam).await, FindingStatus::Disputed);

    let (_, home) = page(&inspector1, "/inspector").await;
    assert!(home.contains(&spam), "the dispute waits on the follow-up list");
    let (_, body) = page(&inspector1, &format!("/findings/{spam}")).await;
    assert!(body.contains("value=\"uphold\"") && body.contains("value=\"withdraw\""));
    let response = post_form(
        &inspector1,
        &act_path(&spam),
        &[("csrf", &inspector1_csrf), ("action", "uphold"), ("note", "现场复核仍有违规链接")],
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(status_of(&city, &spam).await, FindingStatus::Confirmed);
    let (_, body) = page(&inspector1, &format!("/findings/{spam}")).await;
    assert!(
        body.contains("现场复核仍有违规链接") && body.contains("inspector1"),
        "the history shows both moves"
    );

    // Another unit posting to unit 1's finding is refused and changes nothing.
    let (unit3, unit3_csrf) = city.signed_in("unit3").await;
    let response = post_form(
        &unit3,
        &act_path(&spam),
        &[("csrf", &unit3_csrf), ("action", "rectify"), ("note", "已改")],
    )
    .await;
    assert_eq!(response.status(), Status::NotFound, "another unit's finding is not found");
    assert_eq!(status_of(&city, &spam).await, FindingStatus::Confirmed);
    assert_eq!(city.store.finding_events(&spam).await.expect("events").len(), 2);
}

#[tokio::test]
async fn the_finding_page_shows_hostile_evidence_as_text_and_only_to_those_who_may_see_it() {
    let city = City::new().await;
    let (unit1, _) = city.signed_in("unit1").await;
    let (status, body) = page(&unit1, &format!("/findings/{}", city.spam_finding)).await;
    assert_eq!(status, Status::Ok);
    assert!(!body.contains(HOSTILE) && !body.contains("<script>alert"), "the snippet is escaped");
    assert!(body.contains("class=\"snippet\">&lt;script&gt;alert("), "shown as text in .snippet");
    assert!(body.contains("rel=\"noopener nofollow\""), "the evidence URL is a guarded link");

    for (user, expected) in
        [("unit3", Status::NotFound), ("inspector2", Status::NotFound), ("leader1", Status::Ok)]
    {
        let (client, _) = city.signed_in(user).await;
        assert_eq!(page(&client, &format!("/findings/{}", city.spam_finding)).await.0, expected, "{user}");
    }
    let (status, _) = page(&unit1, &format!("/findings/{}", city.other_finding)).await;
    assert_eq!(status, Status::NotFound, "unit 3's finding is not unit 1's to see, nor to know of");
    assert_eq!(page(&unit1, "/findings/finding:doesnotexist").await.0, Status::NotFound);
    assert_eq!(page(&unit1, "/findings/unit:abc").await.0, Status::NotFound);
}

#[tokio::test]
async fn the_inspector_overview_lists_only_the_groups_units() {
    let city = City::new().await;
    let (client, _) = city.signed_in("inspector1").await;
    let (status, body) = page(&client, "/inspector").await;
    assert_eq!(status, Status::Ok);
    assert!(body.contains("甲局") && body.contains("乙局"));
    assert!(!body.contains("丙局") && !body.contains("丁中心"), "units outside the group are not listed");
    assert!(body.contains(&format!("href=\"{}\"", visit_path(&city, 0))));
    for user in ["unit1", "leader1", "office1"] {
        let (client, _) = city.signed_in(user).await;
        assert_eq!(page(&client, "/inspector").await.0, Status::Forbidden, "{user}");
    }
}

#[tokio::test]
async fn my_sends_a_unit_to_its_own_page() {
    let city = City::new().await;
    let (client, _) = city.signed_in("unit1").await;
    let response = client.get("/my").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), format!("/units/{}", city.units[0]));
    let (client, _) = city.signed_in("inspector1").await;
    assert_eq!(client.get("/my").dispatch().await.status(), Status::Forbidden);
}

/// Saves a current cycle scored with the national website rule set.
async fn assess_city(city: &City) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scoring-rules/gov-website-2019.toml");
    let source = std::fs::read_to_string(&path).expect("rule set");
    let rule_set = RuleSet::parse(&source, "gov-website-2019.toml").expect("valid rule set");
    let (day, cutoff) = assessment_cutoff(None).expect("today");
    let request = AssessRequest {
        rule_set,
        source,
        criteria: LaggardCriteria::shipped(),
        cycle: Some("2026-web".into()),
        day,
        cutoff,
        actor: "test".into(),
        save: true,
    };
    assess(&city.store, request, &Progress::default()).await.expect("assessed");
}

#[tokio::test]
async fn a_unit_submits_its_self_assessment() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("unit1").await;
    let (status, body) = page(&client, "/my/self-assessment").await;
    assert_eq!(status, Status::Ok);
    assert!(body.contains("还没有评估周期"), "no cycle yet: the page says so");

    assess_city(&city).await;
    let (_, body) = page(&client, "/my/self-assessment").await;
    assert!(body.contains("信息发布") && body.contains("分值 25 分"), "{body}");
    assert!(body.contains("单项否决"), "unit 1's planted spam failed it in the current cycle: {body}");

    let response = post_form(
        &client,
        "/my/self-assessment",
        &[
            ("csrf", &csrf),
            ("claims[0].item", "info_release"),
            ("claims[0].claimed", "22.50"),
            ("claims[0].note", "栏目均按时更新"),
            ("claims[1].item", "disclosure"),
            ("claims[1].claimed", ""),
            ("claims[1].note", ""),
        ],
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    let (_, body) = page(&client, &location(&response)).await;
    assert!(body.contains("已保存自评（1 项）"), "{body}");
    let claims = city.store.self_claims_for(&city.units[0]).await.expect("claims");
    assert_eq!(claims.len(), 1);
    assert_eq!(
        (claims[0].claim.item.as_str(), claims[0].claim.claimed.to_string()),
        ("info_release", "22.50".into())
    );
    assert_eq!(claims[0].claim.note.as_deref(), Some("栏目均按时更新"));

    let response = post_form(
        &client,
        "/my/self-assessment",
        &[
            ("csrf", &csrf),
            ("claims[0].item", "info_release"),
            ("claims[0].claimed", "26"),
            ("claims[1].item", "disclosure"),
            ("claims[1].claimed", "10"),
        ],
    )
    .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let body = response.into_string().await.unwrap_or_default();
    assert!(body.contains("自评项“信息发布”（info_release）：自评分 26 超过该项分值 25 分"), "{body}");
    assert!(body.contains("value=\"26\""), "the typed claim is kept");
    let after = city.store.self_claims_for(&city.units[0]).await.expect("claims");
    assert_eq!(after, claims, "a refused submission writes nothing, not even its valid items");

    // Only a unit account has a self-assessment; an unknown item is named.
    let response = post_form(
        &client,
        "/my/self-assessment",
        &[("csrf", &csrf), ("claims[0].item", "bogus"), ("claims[0].claimed", "1")],
    )
    .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    assert!(response.into_string().await.unwrap_or_default().contains("自评项“bogus”不在规则集"));
    let (inspector, _) = city.signed_in("inspector1").await;
    assert_eq!(page(&inspector, "/my/self-assessment").await.0, Status::Forbidden);
}
