//! The TOML shape of a rule set, exactly as an office writes it (see docs/rule-authoring.md).
//!
//! These structs only mirror the file: every value a person may get wrong is wrapped in
//! [`Spanned`] so that `validate` can name its line. Unknown keys are refused
//! (`deny_unknown_fields`), because a misspelt key silently ignored would change a score
//! without anyone noticing.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Visitor};
use toml::Spanned;
use toml::value::Datetime;

/// A number as written in the file. Its value is re-read from the source text by
/// `validate` (via the span), so `0.05` becomes exactly `Decimal 0.05` and never passes
/// through a binary float. A quoted number (`"0.05"`) is accepted as well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NumLit {
    /// A bare TOML integer or float: the literal text decides the value.
    Bare,
    /// A quoted decimal.
    Quoted(String),
}

impl<'de> Deserialize<'de> for NumLit {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumVisitor;
        impl Visitor<'_> for NumVisitor {
            type Value = NumLit;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<NumLit, E> {
                Ok(NumLit::Bare)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<NumLit, E> {
                Ok(NumLit::Bare)
            }
            // The binary value is deliberately discarded: the source text is authoritative.
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<NumLit, E> {
                Ok(NumLit::Bare)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NumLit, E> {
                Ok(NumLit::Quoted(v.to_string()))
            }
        }
        deserializer.deserialize_any(NumVisitor)
    }
}

pub(super) type Num = Spanned<NumLit>;
pub(super) type Text = Spanned<String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRuleSet {
    pub rule_set: Spanned<RawMeta>,
    #[serde(default)]
    pub grades: Vec<Spanned<RawGrade>>,
    /// Extra `field.*` check ids of this rule set, with their Chinese titles.
    #[serde(default)]
    pub checks: BTreeMap<Text, Text>,
    #[serde(default)]
    pub metrics: BTreeMap<Text, Spanned<RawMetric>>,
    #[serde(default)]
    pub counters: BTreeMap<Text, Spanned<RawCounter>>,
    #[serde(default)]
    pub sources: Option<Spanned<RawSources>>,
    #[serde(default)]
    pub components: Vec<Spanned<RawComponent>>,
    #[serde(default)]
    pub vetoes: Vec<Spanned<RawVeto>>,
    #[serde(default)]
    pub indicators: Vec<Spanned<RawIndicator>>,
    #[serde(default)]
    pub not_applicable: Option<Spanned<RawNotApplicable>>,
    #[serde(default)]
    pub bonus: Option<Spanned<RawBonus>>,
    /// Missing evidence (未能核查): a missing-evidence check → the indicators it zeroes.
    #[serde(default)]
    pub unchecked: BTreeMap<Text, Vec<Text>>,
    #[serde(default)]
    pub examples: Vec<Spanned<RawExample>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMeta {
    pub id: Text,
    pub title: Text,
    pub version: Text,
    #[serde(default)]
    pub basis: Vec<Text>,
    pub applies_to: Vec<Text>,
    pub in_force_from: Spanned<Datetime>,
    #[serde(default)]
    pub in_force_until: Option<Spanned<Datetime>>,
    pub points: Num,
    pub pass_mark: Num,
    #[serde(default)]
    pub decimals: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrade {
    pub name: Text,
    pub min: Num,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetric {
    pub title: Text,
    pub default: Num,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCounter {
    pub title: Text,
    pub check: Text,
    #[serde(default)]
    pub detail_key: Option<Text>,
    #[serde(default)]
    pub detail_values: Vec<Text>,
    #[serde(default)]
    pub within_days: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSources {
    #[serde(default)]
    pub counted_statuses: Option<Vec<Text>>,
    #[serde(default)]
    pub precedence: Option<Vec<Text>>,
    #[serde(default)]
    pub precedence_by_check: BTreeMap<Text, Vec<Text>>,
    #[serde(default)]
    pub window_days: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawComponent {
    pub id: Text,
    pub title: Text,
    pub weight: Num,
    #[serde(default)]
    pub sources: Vec<Text>,
    #[serde(default)]
    pub uses_metrics: Option<bool>,
    #[serde(default)]
    pub self_claims: bool,
    #[serde(default)]
    pub verified_by: Vec<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVeto {
    pub id: Text,
    pub title: Text,
    pub when: Text,
    #[serde(default)]
    pub note: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIndicator {
    pub id: Text,
    pub title: Text,
    pub points: Num,
    #[serde(default)]
    pub not_applicable_when: Option<Text>,
    #[serde(default)]
    pub deductions: Vec<Spanned<RawLine>>,
}

/// One deduction (or bonus) line. Exactly one way of computing points must be given:
/// `check` + `per_finding`, `metric` + `thresholds`, `formula`, or `when` + `points`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLine {
    pub id: Text,
    pub title: Text,
    #[serde(default)]
    pub check: Option<Text>,
    #[serde(default)]
    pub per_finding: Option<Num>,
    #[serde(default)]
    pub metric: Option<Text>,
    #[serde(default)]
    pub thresholds: Vec<Spanned<RawBand>>,
    #[serde(default)]
    pub formula: Option<Text>,
    #[serde(default)]
    pub when: Option<Text>,
    #[serde(default)]
    pub points: Option<Num>,
    #[serde(default)]
    pub max: Option<Num>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBand {
    pub at_least: Num,
    pub points: Num,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotApplicable {
    pub method: Text,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBonus {
    pub above: Num,
    pub max: Num,
    #[serde(default)]
    pub items: Vec<Spanned<RawLine>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExample {
    pub name: Text,
    #[serde(default)]
    pub kind: Option<Text>,
    #[serde(default)]
    pub as_of: Option<Spanned<Datetime>>,
    pub expect_total: Num,
    #[serde(default)]
    pub expect_grade: Option<Text>,
    #[serde(default)]
    pub expect_veto: Option<Text>,
    #[serde(default)]
    pub metrics: BTreeMap<Text, Num>,
    #[serde(default)]
    pub claims: BTreeMap<Text, Num>,
    #[serde(default)]
    pub findings: Vec<Spanned<RawExampleFinding>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExampleFinding {
    pub check: Text,
    #[serde(default)]
    pub source: Option<Text>,
    #[serde(default)]
    pub status: Option<Text>,
    #[serde(default)]
    pub count: Option<Spanned<i64>>,
    #[serde(default)]
    pub observed: Option<Spanned<Datetime>>,
    #[serde(default)]
    pub url: Option<Text>,
    #[serde(default)]
    pub detail: Option<toml::Table>,
}
