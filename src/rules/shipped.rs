//! The rule sets shipped in `scoring-rules/`, compiled into the binary once, here, and parsed
//! once: the web, the demo, the CLI and the scheduler use them without access to the source
//! tree. Besides the [`RuleSet`], the web needs the `field.*` checks an inspector may record on
//! a visit and the items (indicators) a unit scores itself on.
//!
//! [`RuleSet`] does not list its own `[checks]` or `[[indicators]]`, so their ids, titles and
//! points are read here from the same text, and only from text that `RuleSet::parse` accepted.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::LazyLock;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::RuleSet;
use crate::model::check_info;

/// One rule set file as shipped: its path in the source tree and its exact text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippedFile {
    /// The path relative to the repository root, e.g. `scoring-rules/gov-website-2019.toml`.
    pub path: &'static str,
    /// The file's exact text, embedded at build time.
    pub text: &'static str,
}

impl ShippedFile {
    /// The file name without its directory (`gov-website-2019.toml`): what forms offer.
    pub fn file_name(&self) -> &'static str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }
}

/// The national government website rule set (政府网站绩效评估, 2019).
pub const GOV_WEBSITE_2019: ShippedFile = ShippedFile {
    path: "scoring-rules/gov-website-2019.toml",
    text: include_str!("../../scoring-rules/gov-website-2019.toml"),
};

/// The reference city's yearly disclosure rule set (2009).
pub const CITY_DISCLOSURE_2009: ShippedFile = ShippedFile {
    path: "scoring-rules/city-disclosure-2009.toml",
    text: include_str!("../../scoring-rules/city-disclosure-2009.toml"),
};

/// Every shipped rule set file, in a fixed order.
pub const FILES: &[ShippedFile] = &[GOV_WEBSITE_2019, CITY_DISCLOSURE_2009];

/// The shipped file named by its path (`scoring-rules/x.toml`) or by its bare file name.
pub fn file(name: &str) -> Option<&'static ShippedFile> {
    FILES.iter().find(|f| f.path == name || f.file_name() == name)
}

/// The shipped file at exactly this path (`scoring-rules/x.toml`), for a path that names a
/// file the disk does not have: the CLI and the scheduler fall back to the compiled-in text.
pub fn at_path(path: &str) -> Option<&'static ShippedFile> {
    FILES.iter().find(|f| f.path == path)
}

/// A `field.*` check a rule set declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldCheck {
    /// The check id, `field.` followed by the rule set's name for it.
    pub id: String,
    /// The Chinese title the rule set's `[checks]` table gives it.
    pub title: String,
}

/// One item (indicator) a unit may claim points for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleItem {
    /// The indicator's id in the rule set.
    pub id: String,
    /// The indicator's Chinese title.
    pub title: String,
    /// The indicator's points: the most a unit may claim for it.
    pub points: Decimal,
}

/// A shipped rule set, parsed, with what the web forms need from it.
#[derive(Debug)]
pub struct ShippedRuleSet {
    /// The file it was parsed from.
    pub file: &'static ShippedFile,
    /// The rule set, parsed and validated.
    pub rule_set: RuleSet,
    /// The `field.*` checks it declares, which inspectors may record.
    pub field_checks: Vec<FieldCheck>,
    /// Its indicators with points, which units may claim in a self-assessment.
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

fn load(file: &'static ShippedFile) -> Option<ShippedRuleSet> {
    let origin = file.path;
    let rule_set = match RuleSet::parse(file.text, origin) {
        Ok(rule_set) => rule_set,
        Err(error) => {
            tracing::error!(%origin, problems = error.problems.len(), "shipped rule set is invalid");
            return None;
        }
    };
    let outline: Outline = match toml::from_str(file.text) {
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
    Some(ShippedRuleSet { file, rule_set, field_checks, items })
}

static SHIPPED: LazyLock<Vec<ShippedRuleSet>> = LazyLock::new(|| FILES.iter().filter_map(load).collect());

/// Every shipped rule set that loads, in the order of [`FILES`].
pub fn shipped() -> &'static [ShippedRuleSet] {
    &SHIPPED
}

/// The shipped rule set with this id and version.
pub fn find(id: &str, version: Option<&str>) -> Option<&'static ShippedRuleSet> {
    shipped().iter().find(|s| s.rule_set.id() == id && version.is_none_or(|v| s.rule_set.version() == v))
}

/// The shipped rule set of a file, named by path or bare file name (see [`file`]).
pub fn by_file(name: &str) -> Option<&'static ShippedRuleSet> {
    let file = file(name)?;
    shipped().iter().find(|s| s.file.path == file.path)
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
        assert_eq!(shipped().len(), FILES.len(), "a shipped rule set failed to load");
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

    #[test]
    fn files_are_found_by_path_or_file_name_only() {
        assert_eq!(file("scoring-rules/gov-website-2019.toml"), Some(&GOV_WEBSITE_2019));
        assert_eq!(file("city-disclosure-2009.toml"), Some(&CITY_DISCLOSURE_2009));
        assert_eq!(file("scoring-rules/laggards.toml"), None, "not a rule set");
        assert_eq!(file("gov-website-2019"), None);
        assert_eq!(at_path("scoring-rules/city-disclosure-2009.toml"), Some(&CITY_DISCLOSURE_2009));
        assert_eq!(at_path("city-disclosure-2009.toml"), None, "a path, not a bare name");
        let city = by_file("city-disclosure-2009.toml").expect("city by file name");
        assert_eq!(city.rule_set.id(), "city-disclosure-2009");
        assert_eq!(city.file.text, CITY_DISCLOSURE_2009.text);
    }
}
