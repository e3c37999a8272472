//! The variables a rule set's expressions see, laid out once per rule set.
//!
//! Which variables exist (`kind`, `count.…`, `metric.…`), their Chinese labels and where
//! each value comes from depend only on the rule set, so they are worked out at parse time.
//! Scoring a unit then only fills in values, in this order, with no name formatting and no
//! map building per unit.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rust_decimal::Decimal;

use super::spec::{Counter, MetricSpec};

/// Where a variable's value comes from when a unit is scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fill {
    /// `kind`: the unit's kind.
    Kind,
    /// `count.CHECK`: the findings of a check in the view.
    Check(String),
    /// `count.NAME`: a counter's findings in the view.
    Counter(String),
    /// `metric.NAME`: the unit's measurement, or the default.
    Metric { name: String, default: Decimal },
}

/// One variable: its dotted name, Chinese label (empty for `kind`) and source.
#[derive(Debug, Clone)]
pub(super) struct Var {
    pub name: Arc<str>,
    pub label: String,
    pub fill: Fill,
    /// Whether some expression of the rule set reads it; only those go into the
    /// zen-expression object (the others are still cited and shown).
    pub read: bool,
}

/// Every variable of a rule set, sorted by name and unique.
#[derive(Debug, Clone, Default)]
pub(super) struct Layout {
    vars: Vec<Var>,
}

impl Layout {
    /// Lays out `kind`, the checks, the counters, then the metrics; a later one of the
    /// same name replaces an earlier one. `read` is every name some expression reads.
    pub(super) fn new(
        checks: &BTreeMap<String, String>,
        counters: &[Counter],
        metrics: &BTreeMap<String, MetricSpec>,
        read: &BTreeSet<String>,
    ) -> Self {
        let mut by_name: BTreeMap<String, (String, Fill)> = BTreeMap::new();
        by_name.insert("kind".to_string(), (String::new(), Fill::Kind));
        for (check, title) in checks {
            by_name.insert(format!("count.{check}"), (title.clone(), Fill::Check(check.clone())));
        }
        for counter in counters {
            by_name.insert(
                format!("count.{}", counter.name),
                (counter.title.clone(), Fill::Counter(counter.name.clone())),
            );
        }
        for (name, spec) in metrics {
            by_name.insert(
                format!("metric.{name}"),
                (spec.title.clone(), Fill::Metric { name: name.clone(), default: spec.default }),
            );
        }
        let vars = by_name
            .into_iter()
            .map(|(name, (label, fill))| Var {
                read: read.contains(&name),
                name: Arc::from(name),
                label,
                fill,
            })
            .collect();
        Self { vars }
    }

    /// The variables, sorted by name.
    pub(super) fn vars(&self) -> &[Var] {
        &self.vars
    }

    /// The position of a variable in `vars()`.
    pub(super) fn position(&self, name: &str) -> Option<usize> {
        self.vars.binary_search_by(|v| (*v.name).cmp(name)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn later_sources_replace_earlier_ones_and_names_stay_sorted() {
        let checks = BTreeMap::from([("home.stale".to_string(), "首页更新".to_string())]);
        let counters = vec![Counter {
            name: "home.stale".to_string(),
            title: "计数器".to_string(),
            check: "home.stale".to_string(),
            detail: None,
            within_days: None,
        }];
        let metrics = BTreeMap::from([(
            "site.failure_ratio".to_string(),
            MetricSpec { title: "失败率".to_string(), default: dec!(0.5) },
        )]);
        let read = BTreeSet::from(["metric.site.failure_ratio".to_string()]);
        let layout = Layout::new(&checks, &counters, &metrics, &read);
        let names: Vec<&str> = layout.vars().iter().map(|v| &*v.name).collect();
        assert_eq!(names, ["count.home.stale", "kind", "metric.site.failure_ratio"]);
        let count = &layout.vars()[0];
        assert_eq!((count.label.as_str(), &count.fill), ("计数器", &Fill::Counter("home.stale".to_string())));
        assert_eq!(layout.vars().iter().map(|v| v.read).collect::<Vec<_>>(), [false, false, true]);
        assert_eq!(layout.position("metric.site.failure_ratio"), Some(2));
        assert_eq!(layout.position("metric.site"), None);
    }
}
