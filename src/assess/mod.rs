//! Assessment cycles: score every unit a rule set applies to, rank them, flag laggards.
//! Pure: the store gathers the evidence and saves the cycle; this module decides.

mod coverage;
mod laggards;
#[cfg(test)]
mod parallel_tests;
mod ranking;

use chrono::NaiveDate;

pub use coverage::mark_uncrawled;
pub use laggards::{CriteriaError, DEFAULT_CRITERIA, LaggardCriteria};
pub use ranking::{RankedScore, ScoredUnit, Subordinates, rank};

use crate::model::{OrgCode, Unit, UnitEvidence};
use crate::rules::RuleSet;

/// Scores every unit the rule set applies to, in the units' order. Units without evidence are
/// scored on empty evidence (every metric at its declared default), as a unit with nothing found
/// against it. Each explanation is folded into its JSON text as soon as the unit is scored
/// ([`ScoredUnit::fold_explanation`]): a province's trees never sit in memory together.
///
/// Each unit's score depends only on the rule set, its own evidence and the day, so the units
/// are scored in parallel on rayon's pool; the result is in `units`' order all the same (an
/// indexed parallel collect keeps it). This blocks the calling thread until every unit is
/// scored: from async code, call it inside `tokio::task::spawn_blocking`.
pub fn score_units(
    rule_set: &RuleSet,
    units: &[Unit],
    evidence: &std::collections::BTreeMap<OrgCode, UnitEvidence>,
    criteria: &LaggardCriteria,
    as_of: NaiveDate,
) -> Result<Vec<ScoredUnit>, serde_json::Error> {
    use rayon::prelude::*;
    let empty = UnitEvidence::default();
    units
        .par_iter()
        .filter(|unit| rule_set.applies_to(unit.kind))
        .map(|unit| {
            let unit_evidence = evidence.get(&unit.code).unwrap_or(&empty);
            let mut scored = ScoredUnit::new(
                unit.clone(),
                rule_set.score(unit, unit_evidence, as_of),
                criteria.evidence_reasons(unit_evidence, as_of),
            );
            scored.fold_explanation()?;
            Ok(scored)
        })
        .collect()
}
