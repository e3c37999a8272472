//! Assessment cycles: score every unit a rule set applies to, rank them, flag laggards.
//! Pure: the store gathers the evidence and saves the cycle; this module decides.

mod coverage;
mod laggards;
mod ranking;

use chrono::NaiveDate;

pub use coverage::mark_uncrawled;
pub use laggards::{CriteriaError, DEFAULT_CRITERIA, LaggardCriteria};
pub use ranking::{RankedScore, ScoredUnit, Subordinates, rank};

use crate::model::{OrgCode, Unit, UnitEvidence};
use crate::rules::RuleSet;

/// Scores every unit the rule set applies to. Units without evidence are scored on empty
/// evidence (every metric at its declared default), as a unit with nothing found against it.
pub fn score_units(
    rule_set: &RuleSet,
    units: &[Unit],
    evidence: &std::collections::BTreeMap<OrgCode, UnitEvidence>,
    criteria: &LaggardCriteria,
    as_of: NaiveDate,
) -> Vec<ScoredUnit> {
    let empty = UnitEvidence::default();
    units
        .iter()
        .filter(|unit| rule_set.applies_to(unit.kind))
        .map(|unit| {
            let unit_evidence = evidence.get(&unit.code).unwrap_or(&empty);
            ScoredUnit {
                unit: unit.clone(),
                score: rule_set.score(unit, unit_evidence, as_of),
                evidence_reasons: criteria.evidence_reasons(unit_evidence, as_of),
            }
        })
        .collect()
}
