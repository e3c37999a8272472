//! The website crawl profile (`crawlers/site.toml`): which columns each kind of unit owes, how
//! fresh they must be, which footer items and spam words to look for, and the fetch limits.
//! Policy is data: the office edits the file, and a bad file is refused with the key named.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use super::config::FetchConfig;
use super::frontier::FrontierConfig;
use crate::model::UnitKind;

/// The profile shipped with gongkai; used when no other file is given.
pub const DEFAULT_PROFILE: &str = include_str!("../../crawlers/site.toml");
pub const DEFAULT_PROFILE_NAME: &str = "crawlers/site.toml";

/// How often a column must get a new item (DESIGN.md §4). The ids are what `column.stale`
/// findings carry in `detail.cadence` and what rule sets count by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cadence {
    News,
    Notice,
    Policy,
    Plan,
    Personnel,
    Annual,
}

impl Cadence {
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::News => "news",
            Cadence::Notice => "notice",
            Cadence::Policy => "policy",
            Cadence::Plan => "plan",
            Cadence::Personnel => "personnel",
            Cadence::Annual => "annual",
        }
    }
}

/// A column a unit must have.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// The name findings use.
    pub name: String,
    /// Link texts that count as this column.
    pub synonyms: Vec<String>,
    pub cadence: Cadence,
}

/// A footer item (网站标识码, 备案号…) and the texts that show it is there.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityItem {
    pub name: String,
    pub patterns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LinkSettings {
    /// Fetch links to other sites as well (off by default: a unit answers for its own site).
    pub check_external: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cloaking {
    pub enabled: bool,
    /// The search engine's user agent.
    pub user_agent: String,
    /// The `Referer` of a visitor arriving from the search engine's results.
    #[serde(default)]
    pub referer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpamSettings {
    pub lexicon: Vec<String>,
    /// Domain suffixes that hidden links and redirects may point to.
    pub allow_domains: Vec<String>,
    pub tiny_font_px: u32,
    pub offscreen_px: u32,
    pub cloaking: Cloaking,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnualReport {
    /// Deadline per unit kind as `MM-DD` of the year after the report's year.
    pub deadlines: BTreeMap<UnitKind, String>,
    pub patterns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interaction {
    pub synonyms: Vec<String>,
    pub limit_days: u32,
    pub unanswered_markers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSettings {
    pub per_day: u32,
    pub window_days: u32,
    pub time_zone: String,
}

/// The whole profile.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteProfile {
    pub home_window_days: u32,
    pub max_concurrent_sites: usize,
    /// Seconds one site's crawl may take at most, whatever its page caps: a site that answers
    /// every request just under the timeout must not hold the run for hours.
    pub site_budget_secs: u64,
    pub cadences: BTreeMap<Cadence, u32>,
    #[serde(default)]
    pub columns: BTreeMap<UnitKind, Vec<ColumnSpec>>,
    #[serde(default)]
    pub identity: Vec<IdentityItem>,
    #[serde(default)]
    pub links: LinkSettings,
    pub spam: SpamSettings,
    pub annual_report: AnnualReport,
    pub interaction: Interaction,
    pub probe: ProbeSettings,
    #[serde(default)]
    pub fetch: FetchConfig,
    #[serde(default)]
    pub frontier: FrontierConfig,
}

/// A profile that cannot be used; names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("无法读取抓取配置 {file}：{source}")]
    Read { file: String, source: std::io::Error },
    #[error("抓取配置 {file} 格式错误：{message}")]
    Parse { file: String, message: String },
    #[error("抓取配置 {file} 中 {key} 无效：{reason}")]
    Invalid { file: String, key: String, reason: String },
}

impl SiteProfile {
    /// The profile shipped in `crawlers/site.toml`.
    pub fn builtin() -> Result<Self, ProfileError> {
        Self::parse(DEFAULT_PROFILE, DEFAULT_PROFILE_NAME)
    }

    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ProfileError::Read { file: file.clone(), source })?;
        Self::parse(&text, &file)
    }

    /// Parses and validates; `file` names the source in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, ProfileError> {
        let profile: SiteProfile = toml::from_str(text)
            .map_err(|e| ProfileError::Parse { file: file.to_owned(), message: e.to_string() })?;
        profile.validate(file)?;
        Ok(profile)
    }

    fn validate(&self, file: &str) -> Result<(), ProfileError> {
        let invalid = |key: String, reason: &str| {
            Err(ProfileError::Invalid { file: file.to_owned(), key, reason: reason.to_owned() })
        };
        if self.home_window_days == 0 {
            return invalid("home_window_days".into(), "必须大于 0");
        }
        if self.max_concurrent_sites == 0 {
            return invalid("max_concurrent_sites".into(), "必须大于 0");
        }
        if self.site_budget_secs == 0 {
            return invalid("site_budget_secs".into(), "必须大于 0");
        }
        let agent = &self.spam.cloaking.user_agent;
        if self.spam.cloaking.enabled
            && (agent.trim().is_empty() || reqwest::header::HeaderValue::from_str(agent).is_err())
        {
            return invalid("spam.cloaking.user_agent".into(), "不能为空且只能包含可见 ASCII 字符");
        }
        for cadence in [
            Cadence::News,
            Cadence::Notice,
            Cadence::Policy,
            Cadence::Plan,
            Cadence::Personnel,
            Cadence::Annual,
        ] {
            match self.cadences.get(&cadence) {
                None => return invalid(format!("cadences.{}", cadence.as_str()), "缺少该更新周期"),
                Some(0) => return invalid(format!("cadences.{}", cadence.as_str()), "必须大于 0"),
                Some(_) => {}
            }
        }
        for (kind, columns) in &self.columns {
            for (i, column) in columns.iter().enumerate() {
                let key = format!("columns.{kind}[{i}]");
                if column.name.trim().is_empty() {
                    return invalid(format!("{key}.name"), "不能为空");
                }
                if column.synonyms.is_empty() || column.synonyms.iter().any(|s| s.trim().is_empty()) {
                    return invalid(format!("{key}.synonyms"), "至少一个，且不能为空字符串");
                }
            }
        }
        for (i, item) in self.identity.iter().enumerate() {
            if item.name.trim().is_empty() || item.patterns.iter().all(|p| p.trim().is_empty()) {
                return invalid(format!("identity[{i}]"), "名称和 patterns 不能为空");
            }
        }
        if self.spam.lexicon.iter().any(|w| w.trim().is_empty()) {
            return invalid("spam.lexicon".into(), "不能含空字符串");
        }
        for (kind, deadline) in &self.annual_report.deadlines {
            if parse_month_day(deadline).is_none() {
                return invalid(format!("annual_report.deadlines.{kind}"), "应为“月-日”，如 01-31");
            }
        }
        if self.interaction.limit_days == 0 {
            return invalid("interaction.limit_days".into(), "必须大于 0");
        }
        if self.probe.window_days == 0 || self.probe.per_day == 0 {
            return invalid("probe".into(), "per_day 和 window_days 必须大于 0");
        }
        if self.probe.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return invalid("probe.time_zone".into(), "不是有效的时区名，如 Asia/Shanghai");
        }
        if self.frontier.max_pages == 0 {
            return invalid("frontier.max_pages".into(), "必须大于 0");
        }
        self.fetch.validate().or_else(|e| invalid(format!("fetch.{}", e.field), e.reason))?;
        Ok(())
    }

    /// Days a column of this class may go without a new item.
    pub fn cadence_days(&self, cadence: Cadence) -> u32 {
        self.cadences.get(&cadence).copied().unwrap_or(u32::MAX)
    }

    pub fn columns_for(&self, kind: UnitKind) -> &[ColumnSpec] {
        self.columns.get(&kind).map(Vec::as_slice).unwrap_or_default()
    }

    /// The day by which the annual report for `year` must be out, for this kind of unit.
    pub fn annual_deadline(&self, kind: UnitKind, year: i32) -> Option<NaiveDate> {
        let (month, day) = parse_month_day(self.annual_report.deadlines.get(&kind)?)?;
        NaiveDate::from_ymd_opt(year + 1, month, day)
    }
}

fn parse_month_day(text: &str) -> Option<(u32, u32)> {
    let (month, day) = text.trim().split_once('-')?;
    let (month, day) = (month.parse().ok()?, day.parse().ok()?);
    NaiveDate::from_ymd_opt(2024, month, day).map(|_| (month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profile_loads_and_follows_the_national_rules() {
        let profile = SiteProfile::builtin().expect("shipped profile is valid");
        assert_eq!(profile.home_window_days, 14);
        assert_eq!(profile.cadence_days(Cadence::News), 14);
        assert_eq!(profile.cadence_days(Cadence::Notice), 183);
        assert_eq!(profile.cadence_days(Cadence::Plan), 365);
        assert!(
            profile
                .columns_for(UnitKind::Department)
                .iter()
                .any(|c| c.synonyms.contains(&"工作动态".to_owned()))
        );
        for kind in UnitKind::ALL {
            assert!(!profile.columns_for(kind).is_empty(), "{kind}");
        }
        assert_eq!(profile.identity.len(), 5);
        assert_eq!(profile.annual_deadline(UnitKind::Department, 2025), NaiveDate::from_ymd_opt(2026, 1, 31));
        assert_eq!(profile.annual_deadline(UnitKind::District, 2025), NaiveDate::from_ymd_opt(2026, 3, 31));
        assert_eq!(profile.fetch.total_timeout_secs, 15);
        assert!(!profile.fetch.allow_private);
    }

    #[test]
    fn errors_name_the_file_and_key() {
        let bad = DEFAULT_PROFILE.replace("news = 14", "news = 0");
        let err = SiteProfile::parse(&bad, "x.toml").expect_err("zero cadence");
        assert!(err.to_string().contains("x.toml") && err.to_string().contains("cadences.news"), "{err}");

        let bad = DEFAULT_PROFILE.replace("department = \"01-31\"", "department = \"02-30\"");
        let err = SiteProfile::parse(&bad, "x.toml").expect_err("bad deadline");
        assert!(err.to_string().contains("annual_report.deadlines.department"), "{err}");

        let bad = DEFAULT_PROFILE.replace("per_host_concurrency = 4", "per_host_concurrency = 9");
        let err = SiteProfile::parse(&bad, "x.toml").expect_err("politeness bar");
        assert!(err.to_string().contains("fetch.per_host_concurrency"), "{err}");

        let bad = DEFAULT_PROFILE.replace("cadence = \"news\"", "cadence = \"weekly\"");
        let err = SiteProfile::parse(&bad, "x.toml").expect_err("unknown cadence");
        assert!(err.to_string().contains("x.toml") && err.to_string().contains("weekly"), "{err}");
    }
}
