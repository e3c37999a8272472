//! Which findings count, as which source, and the variables expressions see.
//!
//! Everything here sorts before it counts, so the order in which the store hands over the
//! evidence can never change a score.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::model::{Finding, Source, Unit, UnitEvidence};

use super::explain::Cited;
use super::expr::{Binding, Env, Value};
use super::spec::{Counter, SourcePolicy};
use super::validate::Validated;
use super::vars::{Fill, Layout};

/// All sources, in the order used after a rule set's own precedence list.
pub(super) const ALL_SOURCES: [Source; 3] = [Source::Inspector, Source::Crawler, Source::SelfReported];

/// The findings that count at all: this unit's, a counted status, observed by the as-of
/// day and within the rule set's window. Sorted into a canonical order.
pub(super) fn counted<'e>(
    rs: &Validated,
    unit: &Unit,
    evidence: &'e UnitEvidence,
    as_of: NaiveDate,
) -> Vec<&'e Finding> {
    let policy = &rs.sources;
    let mut list: Vec<&Finding> = evidence
        .findings
        .iter()
        .filter(|f| f.unit == unit.code)
        .filter(|f| policy.counted_statuses.contains(&f.status))
        .filter(|f| within(f, as_of, policy.window_days))
        .collect();
    list.sort_by(|a, b| canonical(a).cmp(&canonical(b)));
    list
}

fn within(f: &Finding, as_of: NaiveDate, days: Option<u32>) -> bool {
    let day = f.observed_at.date_naive();
    day <= as_of && days.is_none_or(|d| (as_of - day).num_days() < i64::from(d))
}

fn canonical(
    f: &Finding,
) -> (&str, Source, chrono::DateTime<chrono::Utc>, Option<&str>, Option<&str>, String) {
    (f.check.as_str(), f.source, f.observed_at, f.id.as_deref(), f.url.as_deref(), f.detail.to_string())
}

/// The findings one assessment method sees: per check, those of the winning source.
#[derive(Debug, Default)]
pub(super) struct View<'e> {
    by_check: BTreeMap<&'e str, (Source, Vec<&'e Finding>)>,
    /// Checks where a lower-precedence source's findings were set aside.
    pub overruled: Vec<(String, Source, Source)>,
}

/// Whether a counter counts `finding`: observed within its window and, when it names a detail
/// field, with one of its values there.
fn counts(counter: &Counter, finding: &Finding, as_of: NaiveDate) -> bool {
    within(finding, as_of, counter.within_days)
        && match &counter.detail {
            None => true,
            Some((key, values)) => finding
                .detail
                .get(key)
                .and_then(|v| v.as_str())
                .is_some_and(|v| values.iter().any(|w| w == v)),
        }
}

impl<'e> View<'e> {
    /// Keeps the allowed sources; where several report the same check, only the first in
    /// the rule set's precedence counts (no double counting, and e.g. an inspector on
    /// site overrules the crawler).
    pub(super) fn new(findings: &[&'e Finding], allowed: &[Source], policy: &SourcePolicy) -> Self {
        let mut grouped: BTreeMap<&'e str, BTreeMap<Source, Vec<&'e Finding>>> = BTreeMap::new();
        for f in findings.iter().filter(|f| allowed.contains(&f.source)) {
            grouped.entry(f.check.as_str()).or_default().entry(f.source).or_default().push(f);
        }
        let mut view = View::default();
        for (check, mut by_source) in grouped {
            let order = policy.precedence_for(check).iter().chain(ALL_SOURCES.iter());
            let winner = order.copied().find(|s| by_source.contains_key(s));
            if let Some(winner) = winner {
                for loser in by_source.keys().filter(|s| **s != winner) {
                    view.overruled.push((check.to_string(), winner, *loser));
                }
                let list = by_source.remove(&winner).unwrap_or_default();
                view.by_check.insert(check, (winner, list));
            }
        }
        view
    }

    /// The findings behind `count.NAME`: a check id or a counter.
    pub(super) fn findings(&self, name: &str, counters: &[Counter], as_of: NaiveDate) -> Vec<&'e Finding> {
        if let Some(counter) = counters.iter().find(|c| c.name == name) {
            let base = self.by_check.get(counter.check.as_str()).map(|(_, l)| l.as_slice()).unwrap_or(&[]);
            return base.iter().copied().filter(|f| counts(counter, f, as_of)).collect();
        }
        self.by_check.get(name).map(|(_, l)| l.clone()).unwrap_or_default()
    }
    /// How many findings `findings` would return, without collecting them.
    pub(super) fn count(&self, name: &str, counters: &[Counter], as_of: NaiveDate) -> usize {
        if let Some(counter) = counters.iter().find(|c| c.name == name) {
            let base = self.by_check.get(counter.check.as_str()).map(|(_, l)| l.as_slice()).unwrap_or(&[]);
            return base.iter().filter(|f| counts(counter, f, as_of)).count();
        }
        self.by_check.get(name).map_or(0, |(_, l)| l.len())
    }
}

/// The expression context of one view, and how each value came about (for citations).
/// Names and labels come from the rule set's layout; only the values are the unit's.
#[derive(Debug)]
pub(super) struct Context<'e> {
    pub env: Env,
    pub view: View<'e>,
    layout: &'e Layout,
    /// Per layout variable: a metric that was not measured and took its default.
    defaulted: Vec<bool>,
    as_of: NaiveDate,
}

impl<'e> Context<'e> {
    pub(super) fn new(
        rs: &'e Validated,
        unit: &Unit,
        evidence: &UnitEvidence,
        view: View<'e>,
        uses_metrics: bool,
        as_of: NaiveDate,
    ) -> Self {
        let vars = rs.vars.vars();
        let mut defaulted = vec![false; vars.len()];
        let mut bindings = Vec::with_capacity(vars.len());
        for (var, defaulted) in vars.iter().zip(&mut defaulted) {
            let value = match &var.fill {
                Fill::Kind => Value::Text(unit.kind.as_str().to_string()),
                Fill::Check(check) => Value::Number(Decimal::from(view.count(check, &[], as_of))),
                Fill::Counter(name) => Value::Number(Decimal::from(view.count(name, &rs.counters, as_of))),
                Fill::Metric { name, default } => {
                    let measured = if uses_metrics { evidence.metrics.get(name).copied() } else { None };
                    *defaulted = measured.is_none();
                    Value::Number(measured.unwrap_or(*default))
                }
            };
            bindings.push(Binding { name: var.name.clone(), value, read: var.read });
        }
        Self { env: Env::from_sorted(bindings), view, layout: &rs.vars, defaulted, as_of }
    }

    pub(super) fn number(&self, name: &str) -> Decimal {
        match self.env.get(name) {
            Some(Value::Number(n)) => *n,
            _ => Decimal::ZERO,
        }
    }

    pub(super) fn cite_value(&self, name: &str) -> Cited {
        let position = self.layout.position(name);
        Cited::Value {
            name: name.to_string(),
            label: position.map(|i| self.layout.vars()[i].label.clone()).unwrap_or_default(),
            value: self.number(name),
            defaulted: position.is_some_and(|i| self.defaulted[i]),
        }
    }

    pub(super) fn cite_findings(&self, count_name: &str, counters: &[Counter]) -> Vec<Cited> {
        self.view.findings(count_name, counters, self.as_of).into_iter().map(cite_finding).collect()
    }

    /// Citations for every variable an expression read: the value, and for counts the
    /// findings behind them.
    pub(super) fn cite_refs(&self, refs: &[String], counters: &[Counter]) -> Vec<Cited> {
        let mut out = Vec::new();
        for name in refs.iter().filter(|n| n.as_str() != "kind") {
            out.push(self.cite_value(name));
            if let Some(count) = name.strip_prefix("count.") {
                out.extend(self.cite_findings(count, counters));
            }
        }
        out
    }
}

pub(super) fn cite_finding(f: &Finding) -> Cited {
    Cited::Finding {
        id: f.id.clone(),
        check: f.check.clone(),
        source: f.source,
        url: f.url.clone(),
        observed_at: f.observed_at,
    }
}
