//! The catalogue crawl profile (`crawlers/catalogue.toml`): required classes per unit kind,
//! column-header synonyms, the index-number grammar, mandatory fields, the staleness window and
//! the bounds of a crawl. A bad file is refused with the key named.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::index_grammar::IndexGrammar;
use crate::crawl::FetchConfig;
use crate::model::UnitKind;

const DEFAULT_PROFILE: &str = include_str!("../../../crawlers/catalogue.toml");
const DEFAULT_PROFILE_NAME: &str = "crawlers/catalogue.toml";

/// A column of a catalogue table, i.e. a field of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// 索引号: the entry's index number, whose grammar the profile defines.
    IndexNo,
    /// 名称: the entry's title.
    Title,
    /// 发布机构: the unit that published it.
    Publisher,
    /// 生成日期: the date it was made.
    CreatedOn,
    /// 文号: its document number, if it is a formal document.
    DocNo,
    /// 主题分类: the topic classification.
    Topic,
    /// 体裁分类: the genre classification.
    Genre,
    /// 服务对象分类: the classification by who it serves.
    Service,
}

impl Field {
    /// Every field, in the standard column order.
    pub const ALL: [Field; 8] = [
        Field::IndexNo,
        Field::Title,
        Field::Publisher,
        Field::CreatedOn,
        Field::DocNo,
        Field::Topic,
        Field::Genre,
        Field::Service,
    ];

    /// The identifier used in the profile and in finding details.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::IndexNo => "index_no",
            Field::Title => "title",
            Field::Publisher => "publisher",
            Field::CreatedOn => "created_on",
            Field::DocNo => "doc_no",
            Field::Topic => "topic",
            Field::Genre => "genre",
            Field::Service => "service",
        }
    }

    /// The standard header text, for messages.
    pub fn label_zh(self) -> &'static str {
        match self {
            Field::IndexNo => "索引号",
            Field::Title => "名称",
            Field::Publisher => "发布机构",
            Field::CreatedOn => "生成日期",
            Field::DocNo => "文号",
            Field::Topic => "主题分类",
            Field::Genre => "体裁分类",
            Field::Service => "服务对象分类",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexSettings {
    pattern: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    stale_days: u32,
    cadence_months: u32,
    max_pages_per_class: usize,
    max_entries_per_unit: usize,
    max_findings_per_check: usize,
    max_concurrent_units: usize,
    #[serde(default = "default_unit_budget_secs")]
    unit_budget_secs: u64,
    mandatory: Vec<Field>,
    index: IndexSettings,
    columns: BTreeMap<Field, Vec<String>>,
    classes: BTreeMap<UnitKind, Vec<String>>,
    #[serde(default)]
    fetch: FetchConfig,
}

/// The unit budget when the profile does not set one: ten minutes.
fn default_unit_budget_secs() -> u64 {
    600
}

/// A validated catalogue profile.
#[derive(Debug, Clone)]
pub struct CatalogueProfile {
    /// `catalogue.stale` when the newest entry is older than this many days.
    pub stale_days: u32,
    /// Months of monthly counts behind the cadence metrics.
    pub cadence_months: u32,
    /// Pages followed through 下一页 per class, at most.
    pub max_pages_per_class: usize,
    /// Entries read per unit, at most.
    pub max_entries_per_unit: usize,
    /// Findings kept per check and unit; the full count is still recorded as a metric.
    pub max_findings_per_check: usize,
    /// Catalogues crawled at the same time.
    pub max_concurrent_units: usize,
    /// Seconds one unit's catalogue crawl may take (issue #11); when spent, no further page is
    /// fetched and the catalogue counts as checked only in part.
    pub unit_budget_secs: u64,
    /// Fields every entry must fill in (`catalogue.metadata_missing` otherwise).
    pub mandatory: Vec<Field>,
    /// The index-number grammar: a regular expression with named parts `org`, `year`, `serial`.
    pub grammar: IndexGrammar,
    /// Header synonyms per field, normalised (blanks and colons removed).
    pub columns: BTreeMap<Field, Vec<String>>,
    /// The classes (类目) each kind of unit must have, by their Chinese names.
    pub classes: BTreeMap<UnitKind, Vec<String>>,
    /// How catalogue pages are fetched (timeouts, size cap, politeness).
    pub fetch: FetchConfig,
}

/// A profile that cannot be used; names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueProfileError {
    /// The file could not be read.
    #[error("无法读取目录检查配置 {file}：{source}")]
    Read {
        /// The profile's path, as given.
        file: String,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not match the profile's shape.
    #[error("目录检查配置 {file} 格式错误：{message}")]
    Parse {
        /// The profile's path, or the shipped profile's name.
        file: String,
        /// The TOML parser's message, which names the line and key.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("目录检查配置 {file} 中 {key} 无效：{reason}")]
    Invalid {
        /// The profile's path, or the shipped profile's name.
        file: String,
        /// The offending key's dotted path, e.g. `index.pattern`.
        key: String,
        /// What is wrong with it, in Chinese.
        reason: String,
    },
}

/// Header text as compared: without blanks (including the full-width space), colons and `*`.
pub fn normalise_header(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace() && !matches!(c, ':' | '：' | '*' | '\u{3000}')).collect()
}

impl CatalogueProfile {
    /// The profile shipped in `crawlers/catalogue.toml`.
    pub fn builtin() -> Result<Self, CatalogueProfileError> {
        Self::parse(DEFAULT_PROFILE, DEFAULT_PROFILE_NAME)
    }

    /// Reads and validates the profile file at `path`.
    pub fn load(path: &Path) -> Result<Self, CatalogueProfileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| CatalogueProfileError::Read { file: file.clone(), source })?;
        Self::parse(&text, &file)
    }

    /// Parses and validates; `file` names the source in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, CatalogueProfileError> {
        let raw: RawProfile = toml::from_str(text)
            .map_err(|e| CatalogueProfileError::Parse { file: file.to_owned(), message: e.to_string() })?;
        let invalid = |key: &str, reason: String| CatalogueProfileError::Invalid {
            file: file.to_owned(),
            key: key.to_owned(),
            reason,
        };
        let positive = [
            ("stale_days", raw.stale_days as usize),
            ("cadence_months", raw.cadence_months as usize),
            ("max_pages_per_class", raw.max_pages_per_class),
            ("max_entries_per_unit", raw.max_entries_per_unit),
            ("max_findings_per_check", raw.max_findings_per_check),
            ("max_concurrent_units", raw.max_concurrent_units),
            ("unit_budget_secs", usize::try_from(raw.unit_budget_secs).unwrap_or(usize::MAX)),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(invalid(key, "必须大于 0".into()));
            }
        }
        if raw.cadence_months > 120 {
            return Err(invalid("cadence_months", "不能超过 120".into()));
        }
        let grammar =
            IndexGrammar::new(&raw.index.pattern).map_err(|e| invalid("index.pattern", e.to_string()))?;
        let mut columns = BTreeMap::new();
        for (field, synonyms) in raw.columns {
            let normalised: Vec<String> = synonyms.iter().map(|s| normalise_header(s)).collect();
            if normalised.is_empty() || normalised.iter().any(String::is_empty) {
                return Err(invalid(
                    &format!("columns.{}", field.as_str()),
                    "至少一个，且不能为空字符串".into(),
                ));
            }
            columns.insert(field, normalised);
        }
        if !columns.contains_key(&Field::Title) {
            return Err(invalid("columns.title", "必须给出名称列的表头".into()));
        }
        for (kind, classes) in &raw.classes {
            if classes.iter().any(|c| c.trim().is_empty()) {
                return Err(invalid(&format!("classes.{kind}"), "不能含空字符串".into()));
            }
        }
        raw.fetch.validate().map_err(|e| invalid(&format!("fetch.{}", e.field), e.reason.to_owned()))?;
        Ok(Self {
            stale_days: raw.stale_days,
            cadence_months: raw.cadence_months,
            max_pages_per_class: raw.max_pages_per_class,
            max_entries_per_unit: raw.max_entries_per_unit,
            max_findings_per_check: raw.max_findings_per_check,
            max_concurrent_units: raw.max_concurrent_units,
            unit_budget_secs: raw.unit_budget_secs,
            mandatory: raw.mandatory,
            grammar,
            columns,
            classes: raw.classes,
            fetch: raw.fetch,
        })
    }

    /// The classes a unit of this kind owes (none when the profile does not list the kind).
    pub fn classes_for(&self, kind: UnitKind) -> &[String] {
        self.classes.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The field a header cell names, if any: an exact synonym first, else the longest synonym
    /// the header contains (`信息名称（标题）` is a title).
    pub fn field_for_header(&self, header: &str) -> Option<Field> {
        let header = normalise_header(header);
        if header.is_empty() {
            return None;
        }
        let exact = self.columns.iter().find(|(_, syns)| syns.contains(&header));
        if let Some((field, _)) = exact {
            return Some(*field);
        }
        self.columns
            .iter()
            .flat_map(|(field, syns)| syns.iter().map(move |s| (*field, s)))
            .filter(|(_, s)| header.contains(s.as_str()))
            .max_by_key(|(_, s)| s.chars().count())
            .map(|(field, _)| field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profile_has_the_standard_tables() {
        let profile = CatalogueProfile::builtin().expect("shipped profile is valid");
        assert_eq!(profile.classes_for(UnitKind::Department).len(), 14);
        assert_eq!(profile.classes_for(UnitKind::District).len(), 14);
        assert_eq!(profile.classes_for(UnitKind::Devzone).len(), 14);
        assert_eq!(profile.classes_for(UnitKind::Institution).len(), 6);
        assert_eq!(profile.classes_for(UnitKind::Authorised).len(), 6);
        assert_eq!(profile.mandatory, [Field::IndexNo, Field::Title, Field::CreatedOn, Field::Publisher]);
    }

    #[test]
    fn headers_match_synonyms_exactly_or_by_containment() {
        let profile = CatalogueProfile::builtin().expect("shipped profile is valid");
        assert_eq!(profile.field_for_header(" 索 引 号："), Some(Field::IndexNo));
        assert_eq!(profile.field_for_header("标题"), Some(Field::Title));
        assert_eq!(profile.field_for_header("发布日期"), Some(Field::CreatedOn));
        assert_eq!(profile.field_for_header("服务对象分类"), Some(Field::Service));
        assert_eq!(profile.field_for_header("主题分类"), Some(Field::Topic));
        assert_eq!(profile.field_for_header("信息名称（标题）"), Some(Field::Title));
        assert_eq!(profile.field_for_header("序号"), None);
        assert_eq!(profile.field_for_header(""), None);
    }

    #[test]
    fn bad_profiles_name_the_key() {
        let text = DEFAULT_PROFILE.replace("stale_days = 90", "stale_days = 0");
        let err = CatalogueProfile::parse(&text, "x.toml").expect_err("zero window refused");
        assert!(err.to_string().contains("stale_days"), "{err}");
        let text = DEFAULT_PROFILE.replace("(?P<serial>", "(?P<serial");
        let err = CatalogueProfile::parse(&text, "x.toml").expect_err("bad regex refused");
        assert!(err.to_string().contains("index.pattern"), "{err}");
    }

    #[test]
    fn the_unit_budget_is_read_defaulted_and_must_be_positive() {
        assert!(DEFAULT_PROFILE.contains("unit_budget_secs = 600"));
        let text = DEFAULT_PROFILE.replace("unit_budget_secs = 600", "unit_budget_secs = 45");
        assert_eq!(CatalogueProfile::parse(&text, "x.toml").expect("valid").unit_budget_secs, 45);
        let text = DEFAULT_PROFILE.replace("unit_budget_secs = 600", "");
        assert_eq!(CatalogueProfile::parse(&text, "x.toml").expect("valid").unit_budget_secs, 600);
        let text = DEFAULT_PROFILE.replace("unit_budget_secs = 600", "unit_budget_secs = 0");
        let err = CatalogueProfile::parse(&text, "x.toml").expect_err("zero budget refused");
        assert!(err.to_string().contains("unit_budget_secs"), "{err}");
    }
}
