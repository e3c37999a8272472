//! Missing evidence (未能核查): a unit whose website or catalogue could not be checked loses
//! the indicators that depend on it under both shipped rule sets, the explanation says why
//! (the `[unchecked]` section's validation is tested with the rest in `validate_tests`).

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::model::{Finding, FindingStatus, SelfClaim, Source, UnitEvidence, UnitKind};

use super::golden_tests::{city, code, gov, unit};
use super::{Cited, NodeKind, RuleSet, Score};

const REFUSED: &str = "error sending request for url (http://127.0.0.1:9/): 连接被拒绝";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn finding(check: &str, source: Source, on: NaiveDate, detail: serde_json::Value) -> Finding {
    Finding {
        id: Some(format!("finding:{}", check.replace('.', "_"))),
        unit: code(),
        check: check.to_string(),
        source,
        observed_at: Utc.from_utc_datetime(&on.and_time(NaiveTime::MIN)),
        url: Some("http://127.0.0.1:9/".to_string()),
        detail,
        status: FindingStatus::Open,
        rectify_by: None,
    }
}

/// What the crawler records for a site that refuses every connection.
fn dead_site(on: NaiveDate) -> Vec<Finding> {
    vec![
        finding("site.unreachable", Source::Crawler, on, serde_json::json!({ "error": REFUSED })),
        finding(
            "site.unchecked",
            Source::Crawler,
            on,
            serde_json::json!({ "reason": "网站首页无法访问，网站各项检查均未能进行", "error": REFUSED }),
        ),
    ]
}

fn dead_catalogue(on: NaiveDate) -> Vec<Finding> {
    vec![
        finding("catalogue.unreachable", Source::Crawler, on, serde_json::json!({ "reason": REFUSED })),
        finding(
            "catalogue.unchecked",
            Source::Crawler,
            on,
            serde_json::json!({ "reason": "公开目录首页无法访问，目录各项检查均未能进行", "error": REFUSED }),
        ),
    ]
}

fn full_claims() -> Vec<SelfClaim> {
    [
        ("organisation", dec!(20)),
        ("proactive", dec!(40)),
        ("application", dec!(20)),
        ("supervision", dec!(20)),
    ]
    .into_iter()
    .map(|(item, claimed)| SelfClaim { unit: code(), item: item.into(), claimed, note: None })
    .collect()
}

fn score_gov(findings: Vec<Finding>) -> Score {
    let evidence = UnitEvidence { findings, ..UnitEvidence::default() };
    gov().score(&unit(UnitKind::Department), &evidence, day(2019, 12, 31))
}

fn score_city(findings: Vec<Finding>) -> Score {
    let mut evidence = UnitEvidence { findings, self_claims: full_claims(), ..UnitEvidence::default() };
    evidence.metrics.insert("application.received".into(), dec!(12));
    city().score(&unit(UnitKind::Department), &evidence, day(2010, 3, 31))
}

fn indicator<'s>(score: &'s Score, component: &str, id: &str) -> &'s super::Node {
    score
        .explanation
        .root
        .find(NodeKind::Component, component)
        .and_then(|c| c.find(NodeKind::Indicator, id))
        .unwrap_or_else(|| panic!("indicator {component}/{id}"))
}

#[test]
fn a_dead_site_zeroes_the_website_indicators_of_the_national_rules() {
    let healthy = score_gov(Vec::new());
    assert_eq!((healthy.total, healthy.unchecked.len()), (dec!(100), 0));

    let site = score_gov(dead_site(day(2019, 12, 30)));
    // info_release 25 + disclosure 15 + interaction 15 + usability 20 → 0; service 25 stands.
    assert_eq!(site.total, dec!(25));
    assert_eq!(site.grade.as_deref(), Some("不合格"));
    assert!(!site.passed && site.veto.is_none(), "one failed crawl is not a veto");
    assert_eq!(site.unchecked.len(), 1);
    assert_eq!(site.unchecked[0].check, "site.unchecked");
    assert_eq!(site.unchecked[0].label, "网站未能核查");
    assert_eq!(site.unchecked[0].reason, "网站首页无法访问，网站各项检查均未能进行");
    assert_eq!(site.unchecked[0].error.as_deref(), Some(REFUSED));

    for (id, points) in [("info_release", 25), ("disclosure", 15), ("interaction", 15), ("usability", 20)] {
        let node = indicator(&site, "all", id);
        assert_eq!((node.score, node.lost), (Some(Decimal::ZERO), Some(Decimal::from(points))), "{id}");
        let why = node.find(NodeKind::Unchecked, "site.unchecked").expect("the reason node");
        assert!(
            why.notes.iter().any(|n| n.contains("未能核查") && n.contains("网站首页无法访问")),
            "{why:?}"
        );
        assert!(
            why.evidence
                .iter()
                .any(|c| matches!(c, Cited::Finding { check, .. } if check == "site.unchecked")),
            "the finding is cited: {why:?}"
        );
    }
    assert_eq!(indicator(&site, "all", "service").score, Some(dec!(25)));
    assert!(site.explanation.root.notes.iter().any(|n| n.starts_with("未能核查：网站未能核查")));
}

#[test]
fn a_dead_catalogue_zeroes_disclosure_and_both_together_add_nothing_more() {
    let catalogue = score_gov(dead_catalogue(day(2019, 12, 30)));
    assert_eq!(catalogue.total, dec!(85), "15 points of 政府信息公开, the 10-point deduction inside them");
    assert_eq!(
        catalogue.unchecked.iter().map(|u| u.check.as_str()).collect::<Vec<_>>(),
        ["catalogue.unchecked"]
    );
    assert_eq!(indicator(&catalogue, "all", "info_release").score, Some(dec!(25)));

    let mut both = dead_site(day(2019, 12, 30));
    both.extend(dead_catalogue(day(2019, 12, 30)));
    let both = score_gov(both);
    assert_eq!(both.total, dec!(25));
    assert_eq!(both.unchecked.len(), 2);
    let disclosure = indicator(&both, "all", "disclosure");
    assert_eq!(disclosure.children.len(), 2, "both reasons are given: {disclosure:?}");
}

#[test]
fn zeroing_ignores_caps_and_other_deductions() {
    // Heavy deductions on the same indicators change nothing: they score exactly zero, not less.
    let mut findings = dead_site(day(2019, 12, 30));
    for _ in 0..30 {
        findings.push(finding("link.broken", Source::Crawler, day(2019, 12, 30), serde_json::Value::Null));
    }
    let score = score_gov(findings);
    assert_eq!(score.total, dec!(25));
    let usability = indicator(&score, "all", "usability");
    assert_eq!((usability.score, usability.lost, usability.cap), (Some(Decimal::ZERO), Some(dec!(20)), None));
}

#[test]
fn closed_or_later_missing_evidence_does_not_count() {
    let mut closed = dead_site(day(2019, 12, 30));
    for f in &mut closed {
        f.status = FindingStatus::Closed;
    }
    let score = score_gov(closed);
    assert_eq!((score.total, score.unchecked.len()), (dec!(100), 0));
    let later = score_gov(dead_site(day(2020, 1, 2)));
    assert_eq!((later.total, later.unchecked.len()), (dec!(100), 0), "observed after the as-of day");
}

#[test]
fn a_dead_site_loses_the_online_evaluation_of_the_city_rules() {
    let healthy = score_city(Vec::new());
    assert_eq!(healthy.total, dec!(100));

    let dead = score_city(dead_site(day(2010, 3, 1)));
    // Only 网上评议 reads the crawler: 0.2 × 100 + 0.4 × 0 + 0.4 × 100 = 60.
    assert_eq!(dead.total, dec!(60));
    let online = dead.explanation.root.find(NodeKind::Component, "online").expect("online");
    assert_eq!(online.score, Some(Decimal::ZERO));
    for component in ["self", "onsite"] {
        let node = dead.explanation.root.find(NodeKind::Component, component).expect(component);
        assert_eq!(node.score, Some(dec!(100)), "{component} does not read the crawler");
        assert!(node.find(NodeKind::Unchecked, "site.unchecked").is_none(), "{component}");
    }
    assert_eq!(dead.unchecked.len(), 1);

    let catalogue = score_city(dead_catalogue(day(2010, 3, 1)));
    // 网上评议 100 − 40 = 60: 0.2 × 100 + 0.4 × 60 + 0.4 × 100 = 84.
    assert_eq!(catalogue.total, dec!(84));
    assert_eq!(indicator(&catalogue, "online", "proactive").score, Some(Decimal::ZERO));
    assert_eq!(indicator(&catalogue, "online", "organisation").score, Some(dec!(20)));
}

#[test]
fn an_inspectors_missing_evidence_check_counts_only_where_inspectors_count() {
    // A rule set may declare its own field.* check as missing evidence (a refused visit).
    let text = super::golden_tests::CITY_2009
        .replace("[unchecked]\n", "[unchecked]\n\"field.visit_refused\" = [\"organisation\"]\n");
    let text = text.replace("[checks]\n", "[checks]\n\"field.visit_refused\" = \"拒绝实地检查\"\n");
    let rules = RuleSet::parse(&text, "city.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut evidence = UnitEvidence {
        findings: vec![finding(
            "field.visit_refused",
            Source::Inspector,
            day(2010, 3, 1),
            serde_json::json!({}),
        )],
        self_claims: full_claims(),
        ..UnitEvidence::default()
    };
    evidence.metrics.insert("application.received".into(), dec!(12));
    let score = rules.score(&unit(UnitKind::Department), &evidence, day(2010, 3, 31));
    // On site: organisation 0 → 80; self-assessment verified by inspectors: 80; online 100.
    // 0.2 × 80 + 0.4 × 100 + 0.4 × 80 = 88.
    assert_eq!(score.total, dec!(88));
    assert_eq!(score.unchecked.len(), 1);
    assert_eq!(
        (score.unchecked[0].label.as_str(), score.unchecked[0].reason.as_str()),
        ("拒绝实地检查", "拒绝实地检查")
    );
}
