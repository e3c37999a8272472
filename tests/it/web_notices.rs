//! Notifications in the dashboard: office draft → leader approve (never the office) → office
//! publish → the unit acknowledges in its portal, seeing only its own entry; the schedule page;
//! a unit's availability page with its notices.

use gongkai::assess::LaggardCriteria;
use gongkai::jobs::{self, AssessRequest, Progress};
use gongkai::rules::RuleSet;
use rocket::http::Status;

use crate::web_support::{City, HOSTILE, post_form};

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scoring-rules/gov-website-2019.toml");

async fn assess(city: &City) {
    let text = std::fs::read_to_string(RULES).expect("rules");
    let rule_set = RuleSet::parse(&text, RULES).expect("valid");
    let (day, cutoff) = jobs::assessment_cutoff(Some("2026-11-20")).expect("day");
    let request = AssessRequest {
        rule_set,
        source: text,
        criteria: LaggardCriteria::shipped(),
        cycle: Some("2026-Q4".into()),
        day,
        cutoff,
        actor: "test".into(),
        save: true,
    };
    jobs::assess(&city.store, request, &Progress::default()).await.expect("assess");
}

#[tokio::test(flavor = "multi_thread")]
async fn office_drafts_leader_approves_office_publishes_and_the_unit_acknowledges() {
    let city = City::new().await;
    assess(&city).await;
    let laggards: Vec<String> = city
        .store
        .ranking("2026-Q4")
        .await
        .expect("ranking")
        .into_iter()
        .filter(|r| r.laggard)
        .map(|r| r.unit)
        .collect();
    assert!(laggards.contains(&city.units[0].to_string()), "unit 1 (spam) is a laggard: {laggards:?}");

    let (office, office_csrf) = city.signed_in("office1").await;
    let response =
        post_form(&office, "/office/notices/draft", &[("csrf", &office_csrf), ("cycle", "2026-Q4")]).await;
    assert_eq!(response.status(), Status::SeeOther);
    let location = response.headers().get_one("Location").expect("redirect").to_string();
    assert!(location.starts_with("/notices/n"), "{location}");
    let key = location.trim_start_matches("/notices/").to_string();

    // The office cannot approve; the leader can, and then sees the number.
    let refused = post_form(&office, &format!("/notices/{key}/approve"), &[("csrf", &office_csrf)]).await;
    assert_eq!(refused.status(), Status::Forbidden);
    let (leader, leader_csrf) = city.signed_in("leader1").await;
    let page = leader.get(location.clone()).dispatch().await.into_string().await.expect("page");
    assert!(page.contains("approve-notice"), "the leader sees the approve button");
    assert!(!page.contains(HOSTILE), "evidence is escaped");
    let approved = post_form(&leader, &format!("/notices/{key}/approve"), &[("csrf", &leader_csrf)]).await;
    assert_eq!(approved.status(), Status::SeeOther);
    let notice = city.store.notice(&key).await.expect("read").expect("notice");
    assert_eq!(notice.status, "approved");
    assert_eq!(notice.approved_by.as_deref(), Some("leader1"));

    let published =
        post_form(&office, &format!("/office/notices/{key}/publish"), &[("csrf", &office_csrf)]).await;
    assert_eq!(published.status(), Status::SeeOther);
    let notice = city.store.notice(&key).await.expect("read").expect("notice");
    assert_eq!(notice.status, "published", "{notice:?}");
    let pdf = office.get(format!("/notices/{key}/pdf")).dispatch().await;
    assert_eq!(pdf.status(), Status::Ok);
    assert!(pdf.into_bytes().await.expect("bytes").starts_with(b"%PDF-"));

    // The named unit acknowledges in its portal; the page shows only its own entry.
    let (unit1, unit1_csrf) = city.signed_in("unit1").await;
    let portal = unit1.get("/portal/notices").dispatch().await.into_string().await.expect("portal");
    assert!(portal.contains(&notice.title) && portal.contains("签收通报"), "{portal}");
    assert!(!portal.contains(HOSTILE));
    let forbidden = unit1.get(location.clone()).dispatch().await;
    assert_eq!(forbidden.status(), Status::Forbidden, "units read notices in their portal only");
    let ack = post_form(&unit1, &format!("/portal/notices/{key}/ack"), &[("csrf", &unit1_csrf)]).await;
    assert_eq!(ack.status(), Status::SeeOther);
    let notice = city.store.notice(&key).await.expect("read").expect("notice");
    let mine = notice.units.iter().find(|u| u.unit == city.units[0].as_str()).expect("unit 1 named");
    assert_eq!(mine.acknowledged_by.as_deref(), Some("unit1"));
    assert!(notice.deliveries.iter().any(|d| d.unit == city.units[0].as_str() && d.status == "acknowledged"));

    // Another unit sees nothing of unit 1's entry, and cannot acknowledge for it.
    let (unit3, unit3_csrf) = city.signed_in("unit3").await;
    let portal = unit3.get("/portal/notices").dispatch().await.into_string().await.expect("portal");
    if !notice.units.iter().any(|u| u.unit == city.units[2].as_str()) {
        assert!(!portal.contains(&notice.title), "{portal}");
        post_form(&unit3, &format!("/portal/notices/{key}/ack"), &[("csrf", &unit3_csrf)]).await;
        let after = city.store.notice(&key).await.expect("read").expect("notice");
        assert!(after.units.iter().all(|u| u.acknowledged_by.as_deref() != Some("unit3")));
    }
    assert!(!portal.contains("甲局"), "unit 1's name is not on unit 3's portal");
    let other = unit3.get(format!("/units/{}/availability", city.units[0])).dispatch().await;
    assert_eq!(other.status(), Status::Forbidden);

    // Unit 1's page links its availability page, which lists the notice that named it.
    let unit_page =
        unit1.get(format!("/units/{}", city.units[0])).dispatch().await.into_string().await.expect("page");
    assert!(unit_page.contains(&format!("/units/{}/availability", city.units[0])));
    let own = unit1.get(format!("/units/{}/availability", city.units[0])).dispatch().await;
    assert_eq!(own.status(), Status::Ok);
    assert!(own.into_string().await.expect("page").contains(&notice.title));

    // The office's list counts the published notice in its quarter.
    let list = office.get("/notices").dispatch().await.into_string().await.expect("list");
    assert!(list.contains("第 4 季度") || list.contains("季度"), "{list}");
    assert!(list.contains(notice.number.as_deref().expect("number")));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_office_edits_the_schedule_and_a_broken_one_is_refused() {
    let city = City::new().await;
    let (office, csrf) = city.signed_in("office1").await;
    let page = office.get("/office/schedule").dispatch().await.into_string().await.expect("page");
    assert!(page.contains("daily-recheck") && page.contains("quarterly-assessment"), "the shipped schedule");
    let broken = "[[job]]\nname = \"p\"\nkind = \"probe\"\ncron = \"0 * * * *\"\n";
    post_form(&office, "/office/schedule", &[("csrf", &csrf), ("text", broken)]).await;
    assert_eq!(city.store.saved_schedule().await.expect("read"), None, "a 5-field cron is refused");
    let good = "[[job]]\nname = \"probe\"\nkind = \"probe\"\ncron = \"0 */20 * * * *\"\n";
    let saved = post_form(&office, "/office/schedule", &[("csrf", &csrf), ("text", good)]).await;
    assert_eq!(saved.status(), Status::SeeOther);
    assert_eq!(city.store.saved_schedule().await.expect("read").as_deref(), Some(good));
    let (leader, _) = city.signed_in("leader1").await;
    assert_eq!(leader.get("/office/schedule").dispatch().await.status(), Status::Forbidden);
}
