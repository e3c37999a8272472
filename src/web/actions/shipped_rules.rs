//! The rule sets shipped in `scoring-rules/`, compiled into the binary and parsed once: they
//! declare the `field.*` checks an inspector may record on a visit, and the items (indicators)
//! a unit scores itself on.
//!
//! [`RuleSet`] does not list its own `[checks]` or `[[indicators]]`, so their ids, titles and
//! points are read here from the same text, and only from text that `RuleSet::parse` accepted.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::LazyLock;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::check_info;
use crate::rules::RuleSet;

const SOURCES: &[(&str, &str)] = &[
    ("scoring-rules/gov-website-2019.toml", include_str!("../../../scoring-rules/gov-website-2019.toml")),
    (
        "scoring-rules/city-disclosure-2009.toml",
        include_str!("../../../scoring-rules/city-disclosure-2009.toml"),
    ),
];

/// A `field.*` check a rule set declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldCheck {
    pub id: String,
    pub title: String,
}

/// One item (indicator) a unit may claim points for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleItem {
    pub id: String,
    pub title: String,
    /// The indicator's points: the most a unit may claim for it.
    pub points: Decimal,
}

/// A shipped rule set with what the web forms need from it.
#[derive(Debug)]
pub struct ShippedRuleSet {
    pub rule_set: RuleSet,
    pub field_checks: Vec<FieldCheck>,
    pub items: Vec<RuleItem>,
}

/// The parts of the rule set file read here; everything else is `RuleSet`'s business.
#[derive(Deserialize)]
struct Outline {
    #[serde(default)]
    checks: BTreeMap<String, String>,
    #[serde(default)]
    indicators: Vec<OutlineIndicator>,
}

#[derive(Deserialize)]
struct OutlineIndicator {
    id: String,
    title: String,
    points: toml::Value,
}

/// Points as the validated file wrote them. A bare float goes through its shortest decimal
/// text, which is the literal the office typed (`12.5`), never a binary expansion.
fn points_of(value: &toml::Value) -> Option<Decimal> {
    match value {
        toml::Value::Integer(n) => Some(Decimal::from(*n)),
        toml::Value::Float(f) => Decimal::from_str(&f.to_string()).ok(),
        toml::Value::String(s) => Decimal::from_str_exact(s.trim()).ok(),
        _ => None,
    }
}

fn load(origin: &str, text: &str) -> Option<ShippedRuleSet> {
    let rule_set = match RuleSet::parse(text, origin) {
        Ok(rule_set) => rule_set,
        Err(error) => {
            tracing::error!(%origin, problems = error.problems.len(), "shipped rule set is invalid");
            return None;
        }
    };
    let outline: Outline = match toml::from_str(text) {
        Ok(outline) => outline,
        Err(error) => {
            tracing::error!(%origin, %error, "shipped rule set could not be outlined");
            return None;
        }
    };
    let field_checks = outline
        .checks
        .into_iter()
        .filter(|(id, _)| id.starts_with("field.") && rule_set.check_title(id).is_some())
        .map(|(id, title)| FieldCheck { id, title })
        .collect();
    let items = outline
        .indicators
        .into_iter()
        .filter_map(|i| Some(RuleItem { points: points_of(&i.points)?, id: i.id, title: i.title }))
        .collect();
    Some(ShippedRuleSet { rule_set, field_checks, items })
}

static SHIPPED: LazyLock<Vec<ShippedRuleSet>> =
    LazyLock::new(|| SOURCES.iter().filter_map(|(origin, text)| load(origin, text)).collect());

/// Every shipped rule set, in a fixed order.
pub fn shipped() -> &'static [ShippedRuleSet] {
    &SHIPPED
}

/// The shipped rule set with this id and version.
pub fn find(id: &str, version: Option<&str>) -> Option<&'static ShippedRuleSet> {
    shipped().iter().find(|s| s.rule_set.id() == id && version.is_none_or(|v| s.rule_set.version() == v))
}

/// The shipped rule sets as the row checks of a visit take them.
pub fn rule_sets() -> Vec<&'static RuleSet> {
    shipped().iter().map(|s| &s.rule_set).collect()
}

/// The Chinese title of a check id: the vocabulary's, or a shipped rule set's `field.*` one.
pub fn check_title(check: &str) -> Option<&'static str> {
    check_info(check)
        .map(|info| info.title_zh)
        .or_else(|| shipped().iter().find_map(|s| s.rule_set.check_title(check)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_rule_set_loads_with_its_field_checks_and_items() {
        assert_eq!(shipped().len(), SOURCES.len(), "a shipped rule set failed to load");
        let website = find("gov-website-2019", None).expect("website rule set");
        assert!(website.field_checks.iter().any(|c| c.id == "field.search_unusable"));
        let total: Decimal = website.items.iter().map(|i| i.points).sum();
        assert_eq!(total, website.rule_set.points(), "indicator points add up to the rule set's");
        let city = find("city-disclosure-2009", None).expect("city rule set");
        assert!(city.items.iter().any(|i| i.id == "organisation" && i.points == Decimal::from(20)));
        assert_eq!(check_title("field.no_staff"), Some("未明确专人负责信息公开工作"));
        assert_eq!(check_title("column.stale"), Some("栏目长期未更新"));
        assert_eq!(check_title("field.nonsense"), None);
    }
}
