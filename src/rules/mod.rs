//! Rule sets (评分规则集): the TOML format an office edits, its validation, and the pure
//! scoring engine that turns a unit's evidence into an explained score.
//!
//! Policy lives in the file — thresholds, points, caps, windows, check ids, weights — and
//! the code only knows the shapes (see docs/rule-authoring.md). The module is pure: no
//! database and no files; the caller reads the text and stores the result.
//!
//! ```text
//! format   the TOML structs, with spans     validate  raw → checked spec, every problem
//! expr     zen-expression on Decimal        evidence  which findings count, as which source
//! engine   vetoes, N/A, methods, caps, bonus explain  Score and its explanation tree
//! examples embedded worked examples         shipped   the rule sets compiled into the binary
//! vars     the variables, laid out once per rule set
//! ```

mod engine;
mod error;
mod evidence;
mod examples;
mod explain;
mod expr;
mod format;
pub mod shipped;
mod spec;
mod validate;
mod vars;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod layout_tests;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod unchecked_tests;
#[cfg(test)]
mod validate_tests;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::model::{Unit, UnitEvidence, UnitKind};

pub use error::{Problem, RuleSetError};
pub use examples::{ExampleOutcome, Expected};
pub use explain::{Cited, Explanation, Node, NodeKind, Score, SelfAssessmentGap};
pub use spec::{InForce, NaMethod};

/// A parsed and validated rule set. Cheap to share between threads (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct RuleSet {
    hash: String,
    spec: validate::Validated,
}

impl RuleSet {
    /// Parses and validates a rule set. `origin` (usually the file path) prefixes every
    /// problem as `origin:line:column`. All problems are reported at once, except that a
    /// TOML syntax error stops the reading.
    pub fn parse(text: &str, origin: &str) -> Result<RuleSet, RuleSetError> {
        let spec = validate::validate(text, origin)?;
        Ok(RuleSet { hash: hex::encode(Sha256::digest(text.as_bytes())), spec })
    }

    /// The rule set's id, from its `[rule_set]` table; cycles and scores name it.
    pub fn id(&self) -> &str {
        &self.spec.meta.id
    }

    /// The rule set's Chinese title.
    pub fn title(&self) -> &str {
        &self.spec.meta.title
    }

    /// The version string as written in the file (the hash tells edits apart).
    pub fn version(&self) -> &str {
        &self.spec.meta.version
    }

    /// The documents the rule set rests on, as written in the file.
    pub fn basis(&self) -> &[String] {
        &self.spec.meta.basis
    }

    /// Lowercase hex SHA-256 of the exact text: scores are stamped with it.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Whether units of this kind are scored under the rule set.
    pub fn applies_to(&self, kind: UnitKind) -> bool {
        self.spec.meta.applies_to.contains(&kind)
    }

    /// The unit kinds the rule set applies to, in the file's order.
    pub fn unit_kinds(&self) -> &[UnitKind] {
        &self.spec.meta.applies_to
    }

    /// The dates the rule set is in force; scoring outside them adds a warning, not an error.
    pub fn in_force(&self) -> InForce {
        self.spec.meta.in_force
    }

    /// The deduction points (100 nationally); the bonus comes on top.
    pub fn points(&self) -> Decimal {
        self.spec.meta.points
    }

    /// The highest total possible: points plus the bonus cap.
    pub fn max_total(&self) -> Decimal {
        self.spec.meta.points + self.spec.bonus.as_ref().map_or(Decimal::ZERO, |b| b.max)
    }

    /// The total at or above which a unit passes (when no veto is met).
    pub fn pass_mark(&self) -> Decimal {
        self.spec.meta.pass_mark
    }

    /// How points of indicators that do not apply to a unit are redistributed.
    pub fn not_applicable_method(&self) -> NaMethod {
        self.spec.na_method
    }

    /// The Chinese title of a check id this rule set knows (vocabulary or its own `field.*`).
    pub fn check_title(&self, check: &str) -> Option<&str> {
        self.spec.checks.get(check).map(String::as_str)
    }

    /// The metrics this rule set reads, with their Chinese titles and defaults: what the
    /// crawler, inspectors or the office must supply.
    pub fn metrics(&self) -> impl Iterator<Item = (&str, &str, Decimal)> {
        self.spec.metrics.iter().map(|(name, m)| (name.as_str(), m.title.as_str(), m.default))
    }

    /// Scores one unit. Deterministic and independent of the order of the evidence;
    /// findings of other units, closed findings and findings observed after `as_of` are
    /// ignored. The total lies in `0..=max_total()`.
    pub fn score(&self, unit: &Unit, evidence: &UnitEvidence, as_of: NaiveDate) -> Score {
        engine::score(&self.spec, &self.hash, unit, evidence, as_of)
    }

    /// Runs the embedded examples (for `gongkai rules check`).
    pub fn run_examples(&self) -> Vec<ExampleOutcome> {
        examples::run(self, &self.spec.examples)
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RuleSet>();
};
