//! The journey in a real browser (headless chromium): an inspector records a visit, the office
//! re-assesses, the unit's score and explanation change, and the unit's own account sees its
//! data and nothing of other units. Screenshots of the main pages are written to
//! `test-artifacts/screenshots/` (or `$GONGKAI_ARTIFACTS`).

use std::time::Duration;

use gongkai::auth::hash_password;
use gongkai::jobs::{self, AssessRequest, Progress};
use gongkai::model::{Account, Role};
use gongkai::rules::RuleSet;
use gongkai::store::AuditEntry;

use crate::browser_driver::{Browser, serve};
use crate::web_support::{City, PASSWORD};

const RULES: &str = include_str!("../../scoring-rules/gov-website-2019.toml");

async fn assess(city: &City, cycle: &str) {
    let rule_set = RuleSet::parse(RULES, "gov-website-2019.toml").expect("rules");
    let (day, cutoff) = jobs::assessment_cutoff(None).expect("today");
    let request = AssessRequest {
        rule_set,
        source: RULES.to_string(),
        criteria: gongkai::assess::LaggardCriteria::shipped(),
        cycle: Some(cycle.to_string()),
        day,
        cutoff,
        actor: "test".into(),
        save: true,
    };
    jobs::assess(&city.store, request, &Progress::default()).await.expect("assess");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inspector_visit_changes_the_score_the_unit_then_sees_only_its_own() {
    let city = City::new().await;
    let visited = city.units[1].clone(); // 乙局, in 第一组, no findings yet.
    let other = city.units[0].clone();
    let account = Account {
        username: "unit2".into(),
        role: Role::Unit,
        unit: Some(visited.clone()),
        inspector_group: None,
        display_name: Some("乙局联系人".into()),
        disabled: false,
    };
    let hash = hash_password(PASSWORD).expect("hash");
    city.store
        .create_account(&account, &hash, AuditEntry::new("test", "account.add"))
        .await
        .expect("account");
    assess(&city, "browser-before").await;
    city.store
        .set_current_cycle("browser-before", AuditEntry::new("test", "cycle.current"))
        .await
        .expect("current");
    let before = city.store.unit_score("browser-before", &visited).await.expect("read").expect("scored");

    let base = serve(city.store.clone()).await;
    let browser = Browser::start(&base).await;

    // The inspector records a visit that finds the site search unusable.
    browser.login("inspector1", PASSWORD).await;
    browser.wait_for_path("/inspector").await;
    assert!(browser.text().await.contains("乙局"), "the group's unit is listed");
    browser.screenshot("inspector-home").await;
    browser.open(&format!("/inspector/units/{visited}/visit")).await;
    browser.select("select[name=method]", "现场检查").await;
    browser.fill("textarea[name=note]", "浏览器测试：现场检查").await;
    browser.select("select[name='findings[0].check']", "field.search_unusable").await;
    browser.fill("textarea[name='findings[0].note']", "站内搜索返回空白页").await;
    browser.screenshot("visit-form").await;
    browser.click("form.visit button[type=submit]:not([name=more])").await;
    browser.wait_for_path(&format!("/units/{visited}")).await;
    assert!(browser.text().await.contains("已保存检查记录"), "{}", browser.text().await);

    // The office re-assesses from the dashboard and waits for the job to finish.
    browser.login("office1", PASSWORD).await;
    browser.open("/office/jobs").await;
    browser.fill("form[action='/office/jobs/assess'] input[name=cycle]", "browser-after").await;
    browser.click("form[action='/office/jobs/assess'] input[name=make_current]").await;
    browser.click("form[action='/office/jobs/assess'] button[type=submit]").await;
    browser.wait_for("the job page", |path, _| path.starts_with("/office/jobs/")).await;
    let mut finished = false;
    for _ in 0..240 {
        // The job page reloads itself: a read during the reload is retried.
        let Ok(text) = browser.try_text().await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        if text.contains("出错") || text.contains("失败") {
            panic!("the assessment failed: {text}");
        }
        if city.store.unit_score("browser-after", &visited).await.expect("read").is_some()
            && !text.contains("进行中")
        {
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _ = browser.client.refresh().await;
    }
    assert!(finished, "the assessment job finished");
    browser.screenshot("office-job").await;
    let after = city.store.unit_score("browser-after", &visited).await.expect("read").expect("scored");
    assert_eq!(after.score, before.score - rust_decimal::Decimal::from(5), "search unusable costs 5 points");

    browser.open("/rankings").await;
    assert!(browser.text().await.contains("browser-after"));
    browser.screenshot("rankings").await;

    // The unit signs in: its own page shows the new total and the finding that cost the points.
    browser.login("unit2", PASSWORD).await;
    browser.wait_for_path(&format!("/units/{visited}")).await;
    let text = browser.text().await;
    assert!(text.contains(&after.score.to_string()), "the new total {} is shown: {text}", after.score);
    assert!(text.contains("站内搜索不可用"), "the explanation names the finding: {text}");
    assert!(text.contains("站内搜索返回空白页"), "with the inspector's note");
    browser.screenshot("unit-portal").await;

    // … and nothing of other units.
    for path in [format!("/units/{other}"), "/rankings".to_string(), "/office/jobs".to_string()] {
        browser.open(&path).await;
        let text = browser.text().await;
        assert!(text.contains("无权访问"), "{path}: {text}");
        assert!(!text.contains("甲局"), "{path} leaks another unit's name");
    }
    // Another unit's finding reads as missing, like an id that does not exist (issue #14).
    browser.open(&format!("/findings/{}", city.spam_finding)).await;
    let text = browser.text().await;
    assert!(text.contains("页面或记录不存在"), "{text}");
    assert!(!text.contains("甲局"), "the finding page leaks another unit's name");
    browser.screenshot("unit-refused").await;
    browser.close().await;
}

/// Issue #12: the office drafts a notification, a leader approves it, the office publishes it,
/// and the named unit acknowledges it in its portal.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn office_drafts_leader_approves_office_publishes_unit_acknowledges() {
    let city = City::new().await;
    assess(&city, "browser-notice").await;
    let named = city.units[0].clone(); // 甲局: hostile spam, a laggard.
    let base = serve(city.store.clone()).await;
    let browser = Browser::start(&base).await;

    browser.login("office1", PASSWORD).await;
    browser.open("/notices").await;
    browser.select("#draft-notice select[name=cycle]", "browser-notice").await;
    browser.click("#draft-notice button[type=submit]").await;
    let text = browser.wait_for("the draft to open", |path, _| path.starts_with("/notices/n")).await;
    let notice_path = browser.path().await;
    assert!(text.contains("草稿") && text.contains("甲局"), "{text}");
    assert!(!text.contains("审批通过"), "the office cannot approve");
    browser.screenshot("notice-draft").await;

    browser.login("leader1", PASSWORD).await;
    browser.open(&notice_path).await;
    browser.click("#approve-notice button").await;
    let text = browser.wait_for_text("已审批，文号").await;
    assert!(text.contains("南政开办〔"), "the number is fixed at approval: {text}");
    browser.screenshot("notice-approved").await;

    browser.login("office1", PASSWORD).await;
    browser.open(&notice_path).await;
    browser.click("#publish-notice button").await;
    let text = browser.wait_for_text("已发布").await;
    assert!(text.contains("单位门户"), "deliveries are listed: {text}");
    browser.screenshot("notice-published").await;

    browser.login("unit1", PASSWORD).await;
    browser.open("/portal/notices").await;
    let text = browser.text().await;
    assert!(text.contains("整改期限") && text.contains("签收通报"), "{text}");
    browser.screenshot("portal-notice").await;
    browser.click("form.ack-form button").await;
    browser.wait_for_text("已签收").await;
    let key = notice_path.trim_start_matches("/notices/");
    let notice = city.store.notice(key).await.expect("read").expect("notice");
    let entry = notice.units.iter().find(|u| u.unit == named.as_str()).expect("named");
    assert_eq!(entry.acknowledged_by.as_deref(), Some("unit1"));
    browser.close().await;
}
