//! Parallel scoring must be invisible: the same scores, explanations and laggard reasons, in the
//! units' order, as scoring one unit after another.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use super::{LaggardCriteria, score_units};
use crate::model::check::{
    CATALOGUE_INDEX_INVALID, COLUMN_EMPTY, COLUMN_STALE, CONTENT_SPAM, IDENTITY_MISSING, LINK_BROKEN,
    SITE_UNREACHABLE,
};
use crate::model::{
    Finding, FindingStatus, OrgCode, SelfClaim, Source, Unit, UnitEvidence, UnitKind, synthetic_credit_code,
};
use crate::rules::RuleSet;
use crate::rules::shipped::{CITY_DISCLOSURE_2009, GOV_WEBSITE_2019};

const CHECKS: [&str; 8] = [
    "field.not_started",
    LINK_BROKEN.id,
    COLUMN_STALE.id,
    COLUMN_EMPTY.id,
    IDENTITY_MISSING.id,
    CATALOGUE_INDEX_INVALID.id,
    CONTENT_SPAM.id,
    SITE_UNREACHABLE.id,
];

const SOURCES: [Source; 3] = [Source::Crawler, Source::Inspector, Source::SelfReported];

const STATUSES: [FindingStatus; 3] =
    [FindingStatus::Open, FindingStatus::Confirmed, FindingStatus::Rectified];

/// A registry of `n` units of every kind whose evidence varies from unit to unit: findings of
/// several checks, sources, statuses and ages (some after the as-of day), metrics, self-claims,
/// and every seventh unit with no evidence at all.
fn registry(n: u32) -> (Vec<Unit>, BTreeMap<OrgCode, UnitEvidence>) {
    let base = Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).single().expect("date");
    let mut units = Vec::new();
    let mut evidence = BTreeMap::new();
    for i in 0..n {
        let code = synthetic_credit_code("450100", i + 1).expect("code");
        units.push(Unit {
            code: code.clone(),
            name: format!("第{i}单位"),
            kind: UnitKind::ALL[(i % 5) as usize],
            parent_code: None,
            website: Some(format!("http://u{i}.example.cn/")),
            catalogue_url: None,
            email: None,
        });
        if i % 7 == 6 {
            continue;
        }
        let mut unit_evidence = UnitEvidence::default();
        for j in 0..(i % 9) {
            let k = (i * 3 + j) as usize;
            unit_evidence.findings.push(Finding {
                id: Some(format!("finding:{i}_{j}")),
                unit: code.clone(),
                check: CHECKS[k % CHECKS.len()].to_string(),
                source: SOURCES[(i as usize + j as usize) % SOURCES.len()],
                observed_at: base - Duration::days(i64::from((i * 11 + j * 37) % 200)) + Duration::days(5),
                url: Some(format!("http://u{i}.example.cn/p{j}")),
                detail: serde_json::json!({ "n": j }),
                status: STATUSES[k % STATUSES.len()],
                rectify_by: None,
            });
        }
        unit_evidence.metrics.insert("site.failure_ratio".into(), Decimal::new(i64::from(i % 13), 2));
        if i % 4 == 0 {
            unit_evidence.metrics.insert("site.probe_days".into(), Decimal::from(i % 31));
        }
        if i % 5 == 1 {
            unit_evidence.self_claims.push(SelfClaim {
                unit: code.clone(),
                item: "organisation".into(),
                claimed: Decimal::new(i64::from(i % 20) * 5, 1),
                note: None,
            });
        }
        if i % 3 == 0 {
            unit_evidence.crawled.insert("site".into());
        }
        evidence.insert(code, unit_evidence);
    }
    (units, evidence)
}

#[test]
fn parallel_scoring_equals_scoring_one_unit_after_another() {
    let (units, evidence) = registry(600);
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
    let criteria = LaggardCriteria::shipped();
    let empty = UnitEvidence::default();
    let mut self_assessed = 0;
    for file in [GOV_WEBSITE_2019, CITY_DISCLOSURE_2009] {
        let rule_set = RuleSet::parse(file.text, file.path).expect("shipped rule set parses");
        let parallel = score_units(&rule_set, &units, &evidence, &criteria, as_of).expect("scored");
        let sequential: Vec<_> = units
            .iter()
            .filter(|unit| rule_set.applies_to(unit.kind))
            .map(|unit| {
                let unit_evidence = evidence.get(&unit.code).unwrap_or(&empty);
                (
                    unit,
                    rule_set.score(unit, unit_evidence, as_of),
                    criteria.evidence_reasons(unit_evidence, as_of),
                )
            })
            .collect();
        assert_eq!(parallel.len(), sequential.len(), "{}", file.path);
        for (got, (unit, score, reasons)) in parallel.iter().zip(&sequential) {
            assert_eq!(&got.unit, *unit, "{}: order differs", file.path);
            let what = |field: &str| format!("{}: {field} of {} differs", file.path, unit.code);
            assert_eq!(got.score.total, score.total, "{}", what("total"));
            assert_eq!(got.score.grade, score.grade, "{}", what("grade"));
            assert_eq!(got.score.veto, score.veto, "{}", what("veto"));
            assert_eq!(got.score.passed, score.passed, "{}", what("passed"));
            assert_eq!(got.score.unchecked, score.unchecked, "{}", what("unchecked"));
            assert_eq!(got.self_assessment, score.self_assessment_gap(), "{}", what("self-assessment"));
            let text = serde_json::to_string(&score.explanation).expect("json");
            assert_eq!(got.explanation_json.as_ref(), Some(&text), "{}", what("explanation"));
            assert_eq!(&got.evidence_reasons, reasons, "{}", what("laggard reasons"));
        }
        // The registry is varied enough to mean something: several distinct totals, and vetoes.
        let totals: std::collections::BTreeSet<Decimal> = parallel.iter().map(|s| s.score.total).collect();
        assert!(totals.len() > 5, "{}: only {} distinct totals", file.path, totals.len());
        assert!(parallel.iter().any(|s| s.score.veto.is_some()), "{}: no veto", file.path);
        self_assessed += parallel.iter().filter(|s| s.self_assessment.is_some()).count();
        // Folded: no tree is left behind in memory.
        assert!(parallel.iter().all(|s| s.score.explanation.root.children.is_empty()));
    }
    assert!(self_assessed > 0, "no unit's self-assessment was compared");
}
