//! Embedded examples: evidence written in the rule file with the score it must give.
//! `gongkai rules check FILE` runs them, so an office that edits a point value sees at
//! once which worked examples no longer hold.

use chrono::{NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::{Finding, OrgCode, SelfClaim, Unit, UnitEvidence, synthetic_credit_code};

use super::RuleSet;
use super::explain::Score;
use super::spec::Example;

/// What an example expects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expected {
    /// The total the example's author wrote down.
    pub total: Decimal,
    /// The grade band expected (`None`: no band).
    pub grade: Option<String>,
    /// The veto item expected to be met (`None`: no veto).
    pub veto: Option<String>,
}

/// The result of running one example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExampleOutcome {
    /// The example's name, as in the rule file's `[[example]]`.
    pub name: String,
    /// What the rule file says the result should be.
    pub expected: Expected,
    /// `None` only if the example's made-up unit could not be built (a bug, not a rule).
    pub actual: Option<Score>,
    /// The actual score matches `expected` on total, grade and veto.
    pub pass: bool,
    /// What differs, in Chinese; empty when the example passes.
    pub mismatches: Vec<String>,
}

/// The made-up unit examples are scored for (Nanning's division code, serial 1).
fn example_code() -> Option<OrgCode> {
    synthetic_credit_code("450100", 1).ok()
}

/// Builds the unit and evidence an example describes.
pub(super) fn evidence_for(example: &Example, code: &OrgCode) -> (Unit, UnitEvidence) {
    let unit = Unit {
        code: code.clone(),
        name: "示例单位".to_string(),
        kind: example.kind,
        parent_code: None,
        website: None,
        catalogue_url: None,
        email: None,
    };
    let mut findings = Vec::new();
    for (i, f) in example.findings.iter().enumerate() {
        for k in 0..f.count {
            findings.push(Finding {
                id: Some(format!("example-{}-{}", i + 1, k + 1)),
                unit: code.clone(),
                check: f.check.clone(),
                source: f.source,
                observed_at: Utc.from_utc_datetime(&f.observed.and_time(NaiveTime::MIN)),
                url: f.url.clone(),
                detail: f.detail.clone(),
                status: f.status,
                rectify_by: None,
            });
        }
    }
    let self_claims = example
        .claims
        .iter()
        .map(|(item, claimed)| SelfClaim {
            unit: code.clone(),
            item: item.clone(),
            claimed: *claimed,
            note: None,
        })
        .collect();
    (
        unit,
        UnitEvidence { findings, metrics: example.metrics.clone(), self_claims, ..UnitEvidence::default() },
    )
}

pub(super) fn run(rules: &RuleSet, examples: &[Example]) -> Vec<ExampleOutcome> {
    examples.iter().map(|example| run_one(rules, example)).collect()
}

fn run_one(rules: &RuleSet, example: &Example) -> ExampleOutcome {
    let expected = Expected {
        total: example.expect_total,
        grade: example.expect_grade.clone(),
        veto: example.expect_veto.clone(),
    };
    let Some(code) = example_code() else {
        return ExampleOutcome {
            name: example.name.clone(),
            expected,
            actual: None,
            pass: false,
            mismatches: vec!["无法生成示例单位代码".to_string()],
        };
    };
    let (unit, evidence) = evidence_for(example, &code);
    let actual = rules.score(&unit, &evidence, example.as_of);
    let mut mismatches = Vec::new();
    if actual.total != expected.total {
        mismatches.push(format!("总分应为 {}，实际为 {}", expected.total, actual.total));
    }
    if let Some(grade) = &expected.grade
        && actual.grade.as_ref() != Some(grade)
    {
        mismatches.push(format!("等级应为“{grade}”，实际为“{}”", actual.grade.as_deref().unwrap_or("无")));
    }
    if actual.veto != expected.veto {
        mismatches.push(format!(
            "否决项应为“{}”，实际为“{}”",
            expected.veto.as_deref().unwrap_or("无"),
            actual.veto.as_deref().unwrap_or("无")
        ));
    }
    ExampleOutcome {
        name: example.name.clone(),
        expected,
        pass: mismatches.is_empty(),
        actual: Some(actual),
        mismatches,
    }
}
