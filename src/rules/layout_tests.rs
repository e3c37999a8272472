//! The per-rule-set layout and the per-env zen object are caches: these tests make sure
//! neither leaks between rule sets or goes stale within one.

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use rust_decimal_macros::dec;

use crate::model::{Finding, FindingStatus, Source, UnitEvidence, UnitKind};

use super::golden_tests::{GOV_WEBSITE, code, gov, unit};
use super::{Cited, NodeKind, RuleSet};

const FORMULA: &str = "min([ceil(count.catalogue.index_invalid / 10), 5])";

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2019, 12, 31).expect("valid date")
}

fn invalid_index_numbers(n: usize) -> UnitEvidence {
    let on = Utc.from_utc_datetime(&as_of().and_time(NaiveTime::MIN));
    let findings = (0..n)
        .map(|i| Finding {
            id: Some(format!("finding:{i}")),
            unit: code(),
            check: "catalogue.index_invalid".to_string(),
            source: Source::Crawler,
            observed_at: on,
            url: Some(format!("http://127.0.0.1:9/{i}")),
            detail: serde_json::json!({}),
            status: FindingStatus::Open,
            rectify_by: None,
        })
        .collect();
    UnitEvidence { findings, ..UnitEvidence::default() }
}

#[test]
fn rule_sets_with_different_expressions_never_share_compiled_state() {
    assert!(GOV_WEBSITE.contains(FORMULA), "the shipped formula this test edits has changed");
    // Same variables, different formula: one point per invalid index number, capped at 5.
    let per_finding = GOV_WEBSITE.replace(FORMULA, "min([count.catalogue.index_invalid, 5])");
    // A rule set whose formula reads a variable the shipped one does not put in its object.
    let reads_kind = GOV_WEBSITE.replace(FORMULA, "kind == 'department' ? 4 : 1");
    let shipped = gov();
    let edited = RuleSet::parse(&per_finding, "edited.toml").unwrap_or_else(|e| panic!("{e}"));
    let by_kind = RuleSet::parse(&reads_kind, "by-kind.toml").unwrap_or_else(|e| panic!("{e}"));
    let ev = invalid_index_numbers(3);
    let department = unit(UnitKind::Department);
    // Interleaved, so any state shared between rule sets or units would show.
    for _ in 0..2 {
        assert_eq!(shipped.score(&department, &ev, as_of()).total, dec!(99), "ceil(3 / 10) = 1");
        assert_eq!(edited.score(&department, &ev, as_of()).total, dec!(97), "min(3, 5) = 3");
        assert_eq!(by_kind.score(&department, &ev, as_of()).total, dec!(96), "department: 4");
        assert_eq!(by_kind.score(&unit(UnitKind::District), &ev, as_of()).total, dec!(99), "district: 1");
    }
}

#[test]
fn variables_no_expression_reads_are_still_scored_and_cited() {
    // The reply-days metric is read by a thresholds line only, so it stays out of the zen
    // object, but the line still sees its value and cites it with its label.
    let rs = gov();
    let layout = &rs.spec.vars;
    let position = layout.position("metric.interaction.avg_reply_days").expect("declared metric");
    assert!(!layout.vars()[position].read);
    let ev = UnitEvidence {
        metrics: [("interaction.avg_reply_days".to_string(), dec!(20))].into(),
        ..UnitEvidence::default()
    };
    let s = rs.score(&unit(UnitKind::Department), &ev, as_of());
    assert_eq!(s.total, dec!(94), "20 days reaches the 6-point band");
    let line = s.explanation.root.find(NodeKind::Deduction, "slow_reply").expect("slow_reply line");
    assert_eq!(
        line.evidence,
        [Cited::Value {
            name: "metric.interaction.avg_reply_days".to_string(),
            label: "留言平均答复天数".to_string(),
            value: dec!(20),
            defaulted: false,
        }]
    );
}
