//! The views pages read through: they must show what the store holds, read in a constant
//! number of queries. Each test compares a view with the same facts read one record at a time.

use chrono::NaiveDate;
use gongkai::assess::LaggardCriteria;
use gongkai::inspection::{PlannedVisit, VisitKey, VisitMethod};
use gongkai::jobs::{AssessRequest, Progress, assess, assessment_cutoff};
use gongkai::rules::RuleSet;
use gongkai::store::AuditEntry;
use gongkai::web::views::inspector::{InspectorUnitRow, inspector_home, unit_open_findings};

use crate::web_support::City;

const GROUP: &str = "第一组";

fn date(text: &str) -> NaiveDate {
    text.parse().expect("date")
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

/// Records a visit without findings (an earlier day may be recorded after a later one).
fn visit(city: &City, unit: usize, day: &str) -> PlannedVisit {
    PlannedVisit {
        key: VisitKey {
            unit: city.units[unit].clone(),
            inspector: "inspector1".into(),
            date: date(day),
            method: VisitMethod::OnSite,
        },
        group: Some(GROUP.into()),
        note: None,
        findings: Vec::new(),
        line: 1,
    }
}

#[tokio::test]
async fn the_inspector_overview_matches_the_units_read_one_by_one() {
    let city = City::new().await;
    // Three units in the group (two with open findings), the fourth in another group.
    city.store
        .assign_units(GROUP, &city.units[..3], AuditEntry::new("test", "assign"))
        .await
        .expect("assign");
    city.store
        .assign_units("第二组", &city.units[3..], AuditEntry::new("test", "assign"))
        .await
        .expect("assign");
    let visits = [
        visit(&city, 0, "2026-11-10"),
        visit(&city, 0, "2026-09-01"),
        visit(&city, 2, "2026-10-05"),
        visit(&city, 3, "2026-11-30"),
    ];
    city.store.record_visits(&visits, AuditEntry::new("test", "visits")).await.expect("visits");

    let before = inspector_home(&city.store, GROUP).await.expect("view");
    assert_eq!(before.cycle, None, "nothing assessed yet");
    assert!(before.units.iter().all(|row| row.score.is_none() && row.rank.is_none()));

    assess_city(&city).await;
    let view = inspector_home(&city.store, GROUP).await.expect("view");
    let store = &city.store;
    let cycle = store.current_cycle().await.expect("cycle").expect("assessed").cycle;
    assert_eq!(view.cycle.as_deref(), Some(cycle.as_str()));

    // The same rows, read the way the page used to: two queries per unit.
    let codes = store.group_units(GROUP).await.expect("group");
    let open = store.open_findings_for_units(&codes).await.expect("open");
    let mut expected = Vec::new();
    for code in &codes {
        let score = store.unit_score(&cycle, code).await.expect("score");
        let name = store.unit(code).await.expect("unit").expect("registered").name;
        expected.push(InspectorUnitRow {
            code: code.to_string(),
            name,
            score: score.as_ref().map(|s| s.score.to_string()),
            rank: score.as_ref().map(|s| s.rank),
            laggard: score.as_ref().is_some_and(|s| s.laggard),
            open_findings: open.iter().filter(|f| &f.unit == code).count(),
            last_visit: store.visits_for(code).await.expect("visits").first().map(|v| v.date.to_string()),
        });
    }
    assert_eq!(view.units, expected);

    // What a broken view would get wrong: the group only, scores present, the latest visit.
    assert_eq!(view.units.len(), 3);
    assert!(!view.units.iter().any(|row| row.code == city.units[3].to_string()), "another group's unit");
    assert!(view.units.iter().all(|row| row.score.is_some() && row.rank.is_some()));
    let row = |n: usize| view.units.iter().find(|r| r.code == city.units[n].to_string()).expect("listed");
    assert_eq!(row(0).last_visit.as_deref(), Some("2026-11-10"));
    assert_eq!(row(1).last_visit, None);
    assert_eq!(row(2).last_visit.as_deref(), Some("2026-10-05"));
    assert_eq!((row(0).open_findings, row(1).open_findings, row(2).open_findings), (1, 0, 1));
    assert_eq!(row(0).name, "甲局");

    // The follow-up list carries each open finding with its unit's name.
    assert_eq!(view.open.len(), open.len());
    for item in &view.open {
        let name = store.unit(&item.finding.unit).await.expect("unit").expect("registered").name;
        assert_eq!(item.unit_name, name);
    }
    assert!(view.open.iter().any(|f| f.unit_name == "丙局"));

    let own = unit_open_findings(store, &city.units[0]).await.expect("open");
    assert_eq!(own.len(), 1);
    assert!(own.iter().all(|f| f.unit == city.units[0]));
}
