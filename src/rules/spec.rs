//! A validated rule set: every number is a `Decimal`, every expression is compiled, every
//! name is known. The engine reads only these types, never the raw TOML.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::model::{FindingStatus, Source, UnitKind};

use super::expr::Expr;

#[derive(Debug, Clone)]
pub(super) struct Meta {
    pub id: String,
    pub title: String,
    pub version: String,
    pub basis: Vec<String>,
    pub applies_to: Vec<UnitKind>,
    pub in_force: InForce,
    /// The deduction points of the whole set (100 nationally): the sum of the indicators.
    pub points: Decimal,
    pub pass_mark: Decimal,
    /// Decimal places of published scores; rounding is half away from zero.
    pub decimals: u32,
}

/// The period a rule set is in force, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct InForce {
    /// The first day in force.
    pub from: NaiveDate,
    /// The last day in force; `None`: open-ended.
    pub until: Option<NaiveDate>,
}

impl InForce {
    /// Whether `day` falls within the period, both ends included.
    pub fn contains(&self, day: NaiveDate) -> bool {
        day >= self.from && self.until.is_none_or(|until| day <= until)
    }
}

#[derive(Debug, Clone)]
pub(super) struct Grade {
    pub name: String,
    pub min: Decimal,
}

#[derive(Debug, Clone)]
pub(super) struct MetricSpec {
    pub title: String,
    /// The value used when no measurement exists.
    pub default: Decimal,
}

/// A named count of findings of one check, optionally narrowed by a detail field and an
/// age window (e.g. news/notice columns only, messages within the last year).
#[derive(Debug, Clone)]
pub(super) struct Counter {
    pub name: String,
    pub title: String,
    pub check: String,
    pub detail: Option<(String, Vec<String>)>,
    pub within_days: Option<u32>,
}

/// Which findings count, and which source wins when several report the same check.
#[derive(Debug, Clone)]
pub(super) struct SourcePolicy {
    pub counted_statuses: Vec<FindingStatus>,
    pub precedence: Vec<Source>,
    pub precedence_by_check: BTreeMap<String, Vec<Source>>,
    pub window_days: Option<u32>,
}

impl SourcePolicy {
    pub(super) fn precedence_for(&self, check: &str) -> &[Source] {
        self.precedence_by_check.get(check).map_or(&self.precedence, Vec::as_slice)
    }
}

/// One way of assessing (self-scoring, online evaluation, on-site inspection), weighted.
#[derive(Debug, Clone)]
pub(super) struct Component {
    pub id: String,
    pub title: String,
    pub weight: Decimal,
    pub basis: ComponentBasis,
}

#[derive(Debug, Clone)]
pub(super) enum ComponentBasis {
    /// Scored from the findings of these sources (and metrics, if `uses_metrics`).
    Evidence { sources: Vec<Source>, uses_metrics: bool },
    /// Scored from the unit's own claims per indicator; where `verified_by` is not empty,
    /// the evidence of those sources wins when the unit claims more than it shows.
    SelfClaims { verified_by: Vec<Source> },
}

#[derive(Debug, Clone)]
pub(super) struct Veto {
    pub id: String,
    pub title: String,
    pub when: Expr,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Indicator {
    pub id: String,
    pub title: String,
    /// Points available, which is also the cap on its deductions.
    pub points: Decimal,
    pub not_applicable_when: Option<Expr>,
    pub lines: Vec<Line>,
}

/// A deduction line (under an indicator) or a bonus item.
#[derive(Debug, Clone)]
pub(super) struct Line {
    pub id: String,
    pub title: String,
    pub when: Option<Expr>,
    pub max: Option<Decimal>,
    pub rule: LineRule,
}

#[derive(Debug, Clone)]
pub(super) enum LineRule {
    /// `per` points for each counted finding of a check (or counter).
    PerFinding { count: String, per: Decimal },
    /// The points of the highest band whose `at_least` the metric reaches.
    Thresholds { metric: String, bands: Vec<Band> },
    /// Points computed by a formula (negative results count as 0).
    Formula(Expr),
    /// Fixed points when `when` holds.
    Fixed(Decimal),
}

#[derive(Debug, Clone)]
pub(super) struct Band {
    pub at_least: Decimal,
    pub points: Decimal,
}

/// How indicators that do not apply to a unit are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NaMethod {
    /// Score the applicable indicators, then multiply by points / applicable points
    /// (×4/3 when 25 of 100 points do not apply).
    Scale,
    /// Give the missing points to the applicable indicators in proportion to their points.
    Spread,
}

#[derive(Debug, Clone)]
pub(super) struct Bonus {
    /// Bonus counts only when the base score is strictly above this.
    pub above: Decimal,
    pub max: Decimal,
    pub items: Vec<Line>,
}

/// What missing evidence costs (未能核查): while a finding of `check` counts in an assessment
/// method, each of `indicators` scores zero there, whatever its deductions and caps say.
#[derive(Debug, Clone)]
pub(super) struct UncheckedRule {
    pub check: String,
    pub indicators: Vec<String>,
}

/// An embedded example: evidence and the score it must produce.
#[derive(Debug, Clone)]
pub(super) struct Example {
    pub name: String,
    pub kind: UnitKind,
    pub as_of: NaiveDate,
    pub expect_total: Decimal,
    pub expect_grade: Option<String>,
    pub expect_veto: Option<String>,
    pub metrics: BTreeMap<String, Decimal>,
    pub claims: BTreeMap<String, Decimal>,
    pub findings: Vec<ExampleFinding>,
}

#[derive(Debug, Clone)]
pub(super) struct ExampleFinding {
    pub check: String,
    pub source: Source,
    pub status: FindingStatus,
    pub count: u32,
    pub observed: NaiveDate,
    pub url: Option<String>,
    pub detail: serde_json::Value,
}
