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
    for _ in 0..150 {
        if browser.path().await.starts_with("/office/jobs/") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut finished = false;
    for _ in 0..120 {
        let text = browser.text().await;
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
        browser.client.refresh().await.expect("refresh");
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
    browser.open(&format!("/findings/{}", city.spam_finding)).await;
    assert!(browser.text().await.contains("无权访问"));
    browser.screenshot("unit-refused").await;
    browser.close().await;
}
