//! Golden tests for the two shipped rule sets: hand-computed scores for small evidence
//! sets (veto, cap, bonus gate, not-applicable, source weighting), and their embedded
//! examples.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::model::{
    Finding, FindingStatus, OrgCode, SelfClaim, Source, Unit, UnitEvidence, UnitKind, synthetic_credit_code,
};

use super::{Cited, NaMethod, NodeKind, RuleSet, Score};

pub(super) const GOV_WEBSITE: &str = super::shipped::GOV_WEBSITE_2019.text;
pub(super) const CITY_2009: &str = super::shipped::CITY_DISCLOSURE_2009.text;

pub(super) fn gov() -> RuleSet {
    RuleSet::parse(GOV_WEBSITE, "gov-website-2019.toml").unwrap_or_else(|e| panic!("{e}"))
}

pub(super) fn city() -> RuleSet {
    RuleSet::parse(CITY_2009, "city-disclosure-2009.toml").unwrap_or_else(|e| panic!("{e}"))
}

pub(super) fn code() -> OrgCode {
    synthetic_credit_code("450100", 7).expect("valid test code")
}

pub(super) fn unit(kind: UnitKind) -> Unit {
    Unit {
        code: code(),
        name: "测试单位".to_string(),
        kind,
        parent_code: None,
        website: Some("http://test.gov.cn/".to_string()),
        catalogue_url: None,
        email: None,
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// A builder for evidence, so each test reads as its scenario.
#[derive(Default)]
struct Ev(UnitEvidence);

impl Ev {
    fn find(mut self, check: &str, source: Source, n: usize) -> Self {
        self = self.find_on(check, source, n, day(2009, 12, 1));
        self
    }

    fn find_on(mut self, check: &str, source: Source, n: usize, on: NaiveDate) -> Self {
        for _ in 0..n {
            let i = self.0.findings.len();
            self.0.findings.push(Finding {
                id: Some(format!("finding:{i}")),
                unit: code(),
                check: check.to_string(),
                source,
                observed_at: Utc.from_utc_datetime(&on.and_time(NaiveTime::MIN)),
                url: Some(format!("http://test.gov.cn/page{i}.html")),
                detail: serde_json::Value::Null,
                status: FindingStatus::Open,
                rectify_by: None,
            });
        }
        self
    }

    fn detail(mut self, detail: serde_json::Value) -> Self {
        if let Some(last) = self.0.findings.last_mut() {
            last.detail = detail;
        }
        self
    }

    fn metric(mut self, name: &str, value: Decimal) -> Self {
        self.0.metrics.insert(name.to_string(), value);
        self
    }

    fn claim(mut self, item: &str, claimed: Decimal) -> Self {
        self.0.self_claims.push(SelfClaim { unit: code(), item: item.to_string(), claimed, note: None });
        self
    }

    fn full_claims(self) -> Self {
        self.claim("organisation", dec!(20))
            .claim("proactive", dec!(40))
            .claim("application", dec!(20))
            .claim("supervision", dec!(20))
    }
}

fn score_gov(ev: Ev) -> Score {
    gov().score(&unit(UnitKind::Department), &ev.0, day(2019, 12, 31))
}

fn score_city(ev: Ev) -> Score {
    city().score(&unit(UnitKind::Department), &ev.0, day(2010, 3, 31))
}

#[test]
fn shipped_rule_sets_parse_and_their_examples_pass() {
    for rules in [gov(), city()] {
        let outcomes = rules.run_examples();
        assert!(outcomes.len() >= 6, "{}", rules.id());
        for outcome in outcomes {
            assert!(outcome.pass, "{}: {}: {:?}", rules.id(), outcome.name, outcome.mismatches);
        }
    }
}

#[test]
fn metadata_of_the_national_rule_set() {
    let rules = gov();
    assert_eq!(rules.id(), "gov-website-2019");
    assert_eq!(rules.points(), dec!(100));
    assert_eq!(rules.max_total(), dec!(130));
    assert_eq!(rules.pass_mark(), dec!(60));
    assert_eq!(rules.not_applicable_method(), NaMethod::Scale);
    assert!(UnitKind::ALL.into_iter().all(|k| rules.applies_to(k)));
    assert!(rules.in_force().contains(day(2025, 1, 1)));
    assert_eq!(rules.check_title("field.search_unusable"), Some("站内搜索不可用"));
    let city = city();
    assert!(city.in_force().contains(day(2010, 3, 31)));
    assert!(!city.in_force().contains(day(2011, 1, 1)));
    assert_eq!(city.not_applicable_method(), NaMethod::Spread);
}

#[test]
fn hash_is_of_the_exact_text() {
    let a = RuleSet::parse(GOV_WEBSITE, "a").expect("valid");
    let b = RuleSet::parse(&format!("{GOV_WEBSITE}\n# 注释\n"), "b").expect("valid");
    assert_eq!(a.hash().len(), 64);
    assert_ne!(a.hash(), b.hash());
    assert_eq!(score_gov(Ev::default()).explanation.hash, a.hash());
}

#[test]
fn clean_site_scores_full_marks() {
    let s = score_gov(Ev::default());
    assert_eq!(
        (s.total, s.grade.as_deref(), s.veto.as_deref(), s.passed),
        (dec!(100), Some("优秀"), None, true)
    );
}

#[test]
fn spam_vetoes_and_cites_the_finding() {
    let s = score_gov(Ev::default().find("content.spam", Source::Crawler, 1).find(
        "link.broken",
        Source::Crawler,
        3,
    ));
    assert_eq!(s.total, dec!(0));
    assert_eq!(s.veto.as_deref(), Some("security_incident"));
    assert!(!s.passed);
    assert_eq!(s.grade.as_deref(), Some("不合格"));
    let veto = s.explanation.root.find(NodeKind::Veto, "security_incident").expect("veto node");
    assert_eq!(veto.label, "安全、泄密事故等严重问题");
    assert!(veto.evidence.iter().any(|c| matches!(c,
        Cited::Finding { check, url: Some(url), .. } if check == "content.spam" && url.contains("page0"))));
    // No further scoring: no indicator appears.
    assert!(s.explanation.root.find(NodeKind::Indicator, "usability").is_none());
}

#[test]
fn availability_veto_needs_the_whole_probe_window() {
    let base =
        || Ev::default().metric("site.failure_ratio", dec!(0.05)).metric("site.min_daily_probes", dec!(20));
    assert_eq!(
        score_gov(base().metric("site.probe_days", dec!(7))).veto.as_deref(),
        Some("site_unreachable")
    );
    assert_eq!(score_gov(base().metric("site.probe_days", dec!(6))).veto, None);
    let low = Ev::default()
        .metric("site.failure_ratio", dec!(0.0499))
        .metric("site.min_daily_probes", dec!(20))
        .metric("site.probe_days", dec!(7));
    assert_eq!(score_gov(low).veto, None);
}

#[test]
fn column_vetoes_count_only_the_cadence_classes_named() {
    // Four stale news columns and one stale plan column: 4 in the counter, 5 overall.
    let mut ev = Ev::default();
    for _ in 0..4 {
        ev = ev.find("column.stale", Source::Crawler, 1).detail(serde_json::json!({ "cadence": "news" }));
    }
    ev = ev.find("column.stale", Source::Crawler, 1).detail(serde_json::json!({ "cadence": "plan" }));
    let s = score_gov(ev);
    assert_eq!(s.veto, None);
    assert_eq!(s.total, dec!(95));
    let ev = Ev::default()
        .find("column.stale", Source::Crawler, 5)
        .detail(serde_json::json!({ "cadence": "notice" }));
    // Only the last finding carries the detail: 1 in the counter, no veto, 5 × 1 point.
    assert_eq!(score_gov(ev).total, dec!(95));
    let mut ev = Ev::default();
    for _ in 0..5 {
        ev = ev.find("column.stale", Source::Crawler, 1).detail(serde_json::json!({ "cadence": "policy" }));
    }
    assert_eq!(score_gov(ev).veto.as_deref(), Some("columns_stale"));
}

#[test]
fn interaction_veto_looks_back_one_year_only() {
    let old = Ev::default().find_on("interaction.unanswered", Source::Crawler, 1, day(2018, 12, 1));
    assert_eq!(score_gov(old).veto, None);
    let recent = Ev::default().find_on("interaction.unanswered", Source::Crawler, 1, day(2019, 6, 1));
    assert_eq!(score_gov(recent).veto.as_deref(), Some("interaction_poor"));
}

#[test]
fn deductions_are_capped_per_line_and_per_indicator() {
    // 6 missing columns = 12, line cap 10; 4 empty = 8; 4 stale = 4; home 10 days = 4 → 26 > 25.
    let s = score_gov(
        Ev::default()
            .find("column.missing", Source::Crawler, 6)
            .find("column.empty", Source::Crawler, 4)
            .find("column.stale", Source::Crawler, 4)
            .metric("home.days_since_update", dec!(10)),
    );
    assert_eq!(s.total, dec!(75));
    assert_eq!(s.grade.as_deref(), Some("合格"));
    let ind = s.explanation.root.find(NodeKind::Indicator, "info_release").expect("indicator");
    assert_eq!((ind.available, ind.lost, ind.cap), (Some(dec!(25)), Some(dec!(25)), Some(dec!(25))));
    let line = ind.children.iter().find(|c| c.id == "column_missing").expect("line");
    assert_eq!((line.lost, line.cap), (Some(dec!(10)), Some(dec!(10))));
    assert_eq!(line.evidence.len(), 6);
    let home = ind.children.iter().find(|c| c.id == "home_slow").expect("line");
    assert!(home.evidence.contains(&Cited::Value {
        name: "metric.home.days_since_update".to_string(),
        label: "首页最新信息距今天数".to_string(),
        value: dec!(10),
        defaulted: false
    }));
}

#[test]
fn formula_deduction_for_invalid_index_numbers() {
    // ceil(25 / 10) = 3 points.
    let s = score_gov(Ev::default().find("catalogue.index_invalid", Source::Crawler, 25));
    assert_eq!(s.total, dec!(97));
    // ceil(80 / 10) = 8, formula caps at 5.
    let s = score_gov(Ev::default().find("catalogue.index_invalid", Source::Crawler, 80));
    assert_eq!(s.total, dec!(95));
}

#[test]
fn no_public_services_scales_by_four_thirds() {
    // 7 broken links = 3.5 points: 71.5 of 75 → 71.5 × 100 / 75 = 95.333… → 95.33.
    let s = score_gov(Ev::default().metric("unit.public_services", dec!(0)).find(
        "link.broken",
        Source::Crawler,
        7,
    ));
    assert_eq!(s.total, dec!(95.33));
    let na = s.explanation.root.find(NodeKind::NotApplicable, "not_applicable").expect("na node");
    assert_eq!(na.lost, Some(dec!(25)));
    assert!(na.children.iter().any(|c| c.id == "service"));
    // The service findings of a unit without services do not count.
    let s = score_gov(Ev::default().metric("unit.public_services", dec!(0)).find(
        "field.service_online_unavailable",
        Source::Inspector,
        3,
    ));
    assert_eq!(s.total, dec!(100));
}

#[test]
fn bonus_counts_only_above_the_gate_and_is_capped() {
    let review = |ev: Ev| {
        ev.metric("review.interpretation", dec!(8))
            .metric("review.service", dec!(10))
            .metric("review.interaction", dec!(7))
            .metric("review.innovation", dec!(9))
    };
    // 80.5 > 80: bonus 34 capped at 30.
    let s = score_gov(review(Ev::default().find("column.missing", Source::Crawler, 5).find(
        "link.broken",
        Source::Crawler,
        19,
    )));
    assert_eq!(s.total, dec!(110.5));
    let bonus = s.explanation.root.find(NodeKind::Bonus, "bonus").expect("bonus node");
    assert_eq!((bonus.gained, bonus.cap), (Some(dec!(30)), Some(dec!(30))));
    // Exactly 80: no bonus.
    let s = score_gov(review(Ev::default().find("column.missing", Source::Crawler, 5).find(
        "link.broken",
        Source::Crawler,
        20,
    )));
    assert_eq!(s.total, dec!(80));
    assert_eq!(s.grade.as_deref(), Some("良好"));
}

#[test]
fn pass_mark_is_inclusive() {
    // Lost: information 8 + 1 = 9; disclosure 10 + 5 = 15 (its cap); usability 10 + 6 = 16.
    let sixty = || {
        Ev::default()
            .find("column.missing", Source::Crawler, 4)
            .find("column.stale", Source::Crawler, 1)
            .find("catalogue.unreachable", Source::Crawler, 1)
            .find("report.annual_missing", Source::Crawler, 1)
            .find("link.broken", Source::Crawler, 20)
            .find("identity.missing", Source::Crawler, 3)
    };
    let s = score_gov(sixty());
    assert_eq!(s.total, dec!(60));
    assert!(s.passed);
    assert_eq!(s.grade.as_deref(), Some("合格"));
    let s = score_gov(sixty().find("field.interaction_results_hidden", Source::Inspector, 1));
    assert_eq!(s.total, dec!(57));
    assert!(!s.passed);
    assert_eq!(s.grade.as_deref(), Some("不合格"));
}

#[test]
fn statuses_and_dates_decide_what_counts() {
    let mut ev = Ev::default().find("link.broken", Source::Crawler, 4);
    ev.0.findings[0].status = FindingStatus::Closed;
    ev.0.findings[1].status = FindingStatus::Rectified;
    ev.0.findings[2].observed_at = Utc.from_utc_datetime(&day(2020, 1, 1).and_time(NaiveTime::MIN));
    // Closed and after as-of do not count: 2 × 0.5 = 1.
    assert_eq!(score_gov(ev).total, dec!(99));
    // Another unit's finding is ignored and reported.
    let mut ev = Ev::default().find("content.spam", Source::Crawler, 1);
    ev.0.findings[0].unit = synthetic_credit_code("450100", 8).expect("code");
    let s = score_gov(ev);
    assert_eq!(s.total, dec!(100));
    assert_eq!(s.explanation.warnings.len(), 1);
}

#[test]
fn inspector_overrules_crawler_but_not_for_availability_precedence() {
    let s = score_gov(Ev::default().find("link.broken", Source::Crawler, 10).find(
        "link.broken",
        Source::Inspector,
        2,
    ));
    assert_eq!(s.total, dec!(99));
    assert!(s.explanation.root.notes.iter().any(|n| n.contains("link.broken")));
}

#[test]
fn city_weights_self_online_and_onsite() {
    // Nothing found, full claims: 100. No claims: 0.2 × 0 + 0.8 × 100 = 80.
    let s = score_city(Ev::default().full_claims().metric("application.received", dec!(4)));
    assert_eq!(s.total, dec!(100));
    let s = score_city(Ev::default().metric("application.received", dec!(4)));
    assert_eq!(s.total, dec!(80));
    // A crawler problem costs only in the online method: 10 × 0.4 = 4.
    let s = score_city(Ev::default().full_claims().metric("application.received", dec!(4)).find(
        "catalogue.unreachable",
        Source::Crawler,
        1,
    ));
    assert_eq!(s.total, dec!(96));
    let online = s.explanation.root.find(NodeKind::Component, "online").expect("component");
    assert_eq!((online.weight, online.score), (Some(dec!(0.4)), Some(dec!(90))));
}

#[test]
fn city_self_claims_are_capped_by_inspection() {
    // Inspector: no staff (10) + 2 late paper docs (5, capped) = 15 in organisation.
    // Self: organisation 20 claimed, 5 verified → 85. 0.2 × 85 + 0.4 × 100 + 0.4 × 85 = 91.
    let s = score_city(
        Ev::default()
            .full_claims()
            .metric("application.received", dec!(5))
            .find("field.no_staff", Source::Inspector, 1)
            .find("field.paper_docs_late", Source::Inspector, 2),
    );
    assert_eq!(s.total, dec!(91));
    let claim = s.explanation.root.find(NodeKind::SelfClaim, "organisation").expect("claim node");
    assert_eq!(claim.score, Some(dec!(5)));
    assert!(claim.notes.iter().any(|n| n.contains("以核查为准")));
    // A modest claim below the verified score stands.
    let s = score_city(
        Ev::default()
            .claim("organisation", dec!(3))
            .claim("proactive", dec!(40))
            .claim("application", dec!(20))
            .claim("supervision", dec!(20))
            .metric("application.received", dec!(5))
            .find("field.no_staff", Source::Inspector, 1),
    );
    // Self 83, online 100, onsite 90: 16.6 + 40 + 36 = 92.6.
    assert_eq!(s.total, dec!(92.6));
}

#[test]
fn city_spreads_not_applicable_points() {
    // No applications: organisation 25, proactive 50, supervision 25.
    // 200-day gap costs 8 in every method; online also loses 10 for the catalogue.
    let s = score_city(
        Ev::default()
            .full_claims()
            .metric("application.received", dec!(0))
            .metric("catalogue.longest_gap_days", dec!(200))
            .find("catalogue.unreachable", Source::Crawler, 1),
    );
    assert_eq!(s.total, dec!(88));
    let proactive = s.explanation.root.find(NodeKind::Indicator, "proactive").expect("indicator");
    assert_eq!(proactive.available, Some(dec!(50)));
    // Not counted when the number of applications was not reported (default -1).
    let s = score_city(Ev::default().full_claims());
    assert_eq!(s.total, dec!(100));
    assert!(s.explanation.root.find(NodeKind::NotApplicable, "not_applicable").is_none());
}

#[test]
fn city_application_deadline_is_fifteen_working_days() {
    let at = |days: Decimal| {
        score_city(
            Ev::default()
                .full_claims()
                .metric("application.received", dec!(9))
                .metric("application.max_reply_working_days", days),
        )
        .total
    };
    assert_eq!(at(dec!(15)), dec!(100));
    // 5 points in online and onsite, and the verified self-claim: 5 × (0.2 + 0.4 + 0.4).
    assert_eq!(at(dec!(16)), dec!(95));
    assert_eq!(at(dec!(31)), dec!(90));
}

#[test]
fn city_veto_stops_scoring() {
    let s = score_city(Ev::default().full_claims().find("field.not_started", Source::Inspector, 1));
    assert_eq!((s.total, s.veto.as_deref(), s.passed), (dec!(0), Some("not_started"), false));
}

#[test]
fn explanation_serialises_to_json() {
    let s = score_gov(Ev::default().find("link.broken", Source::Crawler, 2));
    let json = serde_json::to_value(&s).expect("serialises");
    assert_eq!(json["veto"], serde_json::Value::Null);
    assert_eq!(json["explanation"]["rule_set"], "gov-website-2019");
    assert!(json.to_string().contains("错链、断链"));
    let _ = BTreeMap::<String, Decimal>::new();
}
