//! The website crawl profile (`crawlers/site.toml`): which columns each kind of unit owes, how
//! fresh they must be, which footer items and spam words to look for, and the fetch limits.
//! Policy is data: the office edits the file, and a bad file is refused with the key named.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use super::config::FetchConfig;
use super::frontier::FrontierConfig;
use crate::model::{CityClock, UnitKind};

/// The profile shipped with gongkai; used when no other file is given.
pub const DEFAULT_PROFILE: &str = include_str!("../../crawlers/site.toml");
/// How the shipped profile is named in error messages and run records.
pub const DEFAULT_PROFILE_NAME: &str = "crawlers/site.toml";

/// Upper bound of the pages fetched per site to find columns or message lists: these fetches
/// come on top of the crawl's page cap.
const MAX_FOLLOWED_PAGES: usize = 50;

/// How often a column must get a new item (DESIGN.md §4). The ids are what `column.stale`
/// findings carry in `detail.cadence` and what rule sets count by. `none` marks a column that
/// must only be there (the disclosure guide is one document, not a list): it can be missing,
/// never empty or stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cadence {
    /// News columns (政务动态, 工作动态); `cadences.news` days, 14 in the shipped profile.
    News,
    /// Notices and announcements (通知公告).
    Notice,
    /// Policy documents (政策文件).
    Policy,
    /// Plans and programmes (规划计划).
    Plan,
    /// Personnel information (人事信息).
    Personnel,
    /// Annual items, such as the yearly disclosure report.
    Annual,
    /// The column must only be present (e.g. the disclosure guide); written `none` in the file.
    #[serde(rename = "none")]
    PresenceOnly,
}

impl Cadence {
    /// The id written in the profile and in findings' `detail.cadence` (`news`, …, `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::News => "news",
            Cadence::Notice => "notice",
            Cadence::Policy => "policy",
            Cadence::Plan => "plan",
            Cadence::Personnel => "personnel",
            Cadence::Annual => "annual",
            Cadence::PresenceOnly => "none",
        }
    }

    /// Whether the column's page is judged for items and freshness, or only its link for being
    /// there.
    pub fn judges_content(self) -> bool {
        self != Cadence::PresenceOnly
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
    /// How fresh the column must be kept.
    pub cadence: Cadence,
    /// Link texts containing any of these are not this column even when they contain a
    /// synonym (依申请公开指南 is not the disclosure guide).
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// Where required columns are looked for besides the home page: the disclosure section's
/// landing page, found by link text on the home page, and the pages its blocks' “更多” links
/// lead to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSearch {
    /// Home-page link texts of the disclosure section (政府信息公开, 政务公开…).
    pub landing: Vec<String>,
    /// Home-page links containing any of these are not the landing page (政府信息公开年报 is
    /// a report, 政府信息公开指南 a column).
    #[serde(default)]
    pub landing_exclude: Vec<String>,
    /// Texts of a block's “more” link on the landing page.
    pub more: Vec<String>,
    /// “More” pages opened at most per site.
    pub max_more_pages: usize,
}

/// A footer item (网站标识码, 备案号…) and the texts that show it is there.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityItem {
    /// The item's Chinese name, as findings report it (e.g. 网站标识码).
    pub name: String,
    /// Texts any one of which, in the home page's text, image alt/title or link addresses, shows the item.
    pub patterns: Vec<String>,
}

/// Which links the crawl follows and checks (`[links]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LinkSettings {
    /// Fetch links to other sites as well (off by default: a unit answers for its own site).
    pub check_external: bool,
    /// Hosts crawled as part of every unit's site besides its own registrable domain (issue
    /// #11), e.g. the provincial disclosure platform that hosts the units' columns. Host names
    /// or IP addresses, matched exactly (no port, no subdomains).
    pub follow_hosts: Vec<String>,
}

/// The cloaking check (`[spam.cloaking]`): the home page fetched again as a search engine and
/// compared, since injected spam often shows only to crawlers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cloaking {
    /// Whether the second fetch is made at all.
    pub enabled: bool,
    /// The search engine's user agent.
    pub user_agent: String,
    /// The `Referer` of a visitor arriving from the search engine's results.
    #[serde(default)]
    pub referer: Option<String>,
}

/// Spam and injected-content detection (`[spam]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpamSettings {
    /// Phrases that occur only in injected advertising (not words police news uses, like 网络赌博).
    pub lexicon: Vec<String>,
    /// A lexicon word in visible text is not reported when its sentence carries one of these
    /// (打击, 查处…): government news about fighting gambling names the games it fights.
    #[serde(default)]
    pub report_markers: Vec<String>,
    /// …unless the sentence also carries one of these: the inducements only advertising uses
    /// (注册送, 首存…).
    #[serde(default)]
    pub ad_markers: Vec<String>,
    /// Domain suffixes that hidden links and redirects may point to.
    pub allow_domains: Vec<String>,
    /// Text in a font at or below this many pixels counts as hidden.
    pub tiny_font_px: u32,
    /// Content positioned more than this many pixels off the page counts as hidden.
    pub offscreen_px: u32,
    /// The search-engine fetch compared with the visitor's.
    pub cloaking: Cloaking,
    /// Visible injected phrases, found by shape rather than by a list of brands.
    #[serde(default)]
    pub injection: InjectionSettings,
}

/// Visible injection (`[spam.injection]`): the shapes of a gambling brand's advertising phrase
/// (a brand followed by 官网, 体育, 登录入口 …) and what makes a government page's own use of
/// such words legitimate. The tiers these words make are described in docs/crawling.md.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InjectionSettings {
    /// Words naming a site or its entrance (官网, 官方网站, app下载…).
    pub site_words: Vec<String>,
    /// Site words that government pages do not put after a name of their own (最新官网,
    /// 登录入口, 网页版…): with them a Chinese brand needs less evidence.
    pub strong_site_words: Vec<String>,
    /// Words naming a gambling category (体育, 娱乐, 真人, 棋牌…).
    pub category_words: Vec<String>,
    /// Words that follow a brand but also many government systems (平台, 游戏…).
    pub generic_words: Vec<String>,
    /// Filler inside the phrase (综合, (中国), 最新…); never a phrase by itself.
    pub decorations: Vec<String>,
    /// Latin tokens that are not brands (APP, PDF, ICP, WPS…), matched case-insensitively.
    pub latin_stopwords: Vec<String>,
    /// A brand containing one of these is the government's own (市, 政府, 政务, 广西…).
    pub legit_markers: Vec<String>,
    /// Phrases that are legitimate wherever they stand (南宁市人民政府官网, 爱南宁APP, 体育彩票…).
    pub allow_phrases: Vec<String>,
    /// A phrase right after one of these verbs is a reference, not an injection (登录, 访问…).
    pub mention_verbs: Vec<String>,
    /// Words that end the text before a brand (通知, 报告, 的…): where a brand glued onto a
    /// title begins.
    pub boundary_words: Vec<String>,
    /// Words a brand never holds: verbs that refer to a site or an app (通过, 下载, 关注…) and
    /// the function words before them (可, 请…). A brand begins after the last one before its
    /// phrase, even where repeats agree on more; with nothing left, the phrase names the page's
    /// own site or app (市民可通过官方APP购票), not a brand.
    pub referring_words: Vec<String>,
    /// Characters of a Chinese brand at most.
    pub max_brand_chars: usize,
    /// Characters the title, heading or paragraph must keep besides the phrase for the phrase
    /// to be an affix rather than the whole text.
    pub min_remainder_chars: usize,
    /// Placements listed per finding at most.
    pub max_placements: usize,
}

impl Default for InjectionSettings {
    fn default() -> Self {
        Self {
            site_words: Vec::new(),
            strong_site_words: Vec::new(),
            category_words: Vec::new(),
            generic_words: Vec::new(),
            decorations: Vec::new(),
            latin_stopwords: Vec::new(),
            legit_markers: Vec::new(),
            allow_phrases: Vec::new(),
            mention_verbs: Vec::new(),
            boundary_words: Vec::new(),
            referring_words: Vec::new(),
            max_brand_chars: 4,
            min_remainder_chars: 4,
            max_placements: 40,
        }
    }
}

/// When each kind of unit must publish last year's disclosure annual report, and how to find it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnualReport {
    /// Deadline per unit kind as `MM-DD` of the year after the report's year.
    pub deadlines: BTreeMap<UnitKind, String>,
    /// Texts, one of which a link text or title must contain to be the annual report (信息公开工作年度报告…).
    pub patterns: Vec<String>,
    /// Read the due report and check it against `crawlers/annual-report.toml` (issue #17).
    #[serde(default)]
    pub read_report: bool,
}

/// Consultation channels (政民互动): where they are and when a message counts as unanswered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interaction {
    /// Link texts of the consultation channels (政民互动, 领导信箱…), on the home page or the
    /// disclosure landing page.
    pub synonyms: Vec<String>,
    /// Link texts that lead from a channel's page to its message list (信件选登, 留言列表…),
    /// followed when the page reached lists no dated message.
    pub message_lists: Vec<String>,
    /// Levels of such links followed at most below a channel's page.
    pub follow_depth: u32,
    /// Consultation pages fetched at most per site (channel pages and message lists).
    pub max_pages: usize,
    /// Days a message may wait for an answer before it is reported (92 in the shipped profile).
    pub limit_days: u32,
    /// Words in a message's row that mark it unanswered (未回复, 办理中…).
    pub unanswered_markers: Vec<String>,
    /// Words marking an answered message: when one comes after the unanswered marker in a
    /// row, the marker was part of the title.
    #[serde(default)]
    pub answered_markers: Vec<String>,
}

/// Availability probes (`gongkai probe`, run by the scheduler) and how their results are counted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSettings {
    /// Probes a day per site.
    pub per_day: u32,
    /// Days over which the failure ratio is computed.
    pub window_days: u32,
    /// IANA time-zone name days are counted in (e.g. `Asia/Shanghai`); also the city's clock.
    pub time_zone: String,
    /// Retries of a probe's one request (default 0): retrying a 503 would hide the failure
    /// the probe is there to count. Replaces `[fetch] max_retries` for probes.
    #[serde(default)]
    pub max_retries: u32,
    /// Whether a probe also fetches as a search engine when `[spam.cloaking]` is enabled
    /// (default no: the cloaking check belongs to the full crawl).
    #[serde(default)]
    pub cloaking: bool,
}

/// The whole profile.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteProfile {
    /// The TOML text this profile was parsed from, so that a queued run can hand the very same
    /// profile to every worker (issue #13); empty for a profile built in code.
    #[serde(skip)]
    pub source: String,
    /// The home page must carry an item newer than this many days.
    pub home_window_days: u32,
    /// Sites crawled at the same time in one run.
    pub max_concurrent_sites: usize,
    /// Seconds one site's crawl may take at most, whatever its page caps: a site that answers
    /// every request just under the timeout must not hold the run for hours.
    pub site_budget_secs: u64,
    /// Cadence class → the longest gap, in days, a column of that class may go without a new item.
    pub cadences: BTreeMap<Cadence, u32>,
    /// The columns each kind of unit must have; a kind not listed owes none.
    #[serde(default)]
    pub columns: BTreeMap<UnitKind, Vec<ColumnSpec>>,
    /// Where columns are looked for beyond the home page.
    pub column_search: ColumnSearch,
    /// Footer identity items the home page must show (网站标识码, ICP 备案号…).
    #[serde(default)]
    pub identity: Vec<IdentityItem>,
    /// Which links are followed and checked.
    #[serde(default)]
    pub links: LinkSettings,
    /// Spam, hidden content and injection detection.
    pub spam: SpamSettings,
    /// The annual report check.
    pub annual_report: AnnualReport,
    /// The consultation channel check.
    pub interaction: Interaction,
    /// Availability probes.
    pub probe: ProbeSettings,
    /// Fetch limits: timeouts, body cap, redirects, politeness per host.
    #[serde(default)]
    pub fetch: FetchConfig,
    /// Crawl breadth: how many pages and how deep per site.
    #[serde(default)]
    pub frontier: FrontierConfig,
}

/// A profile that cannot be used; names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("无法读取抓取配置 {file}：{source}")]
    Read {
        /// The profile's path, as given.
        file: String,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not match the profile's shape.
    #[error("抓取配置 {file} 格式错误：{message}")]
    Parse {
        /// The profile's path, or the shipped profile's name.
        file: String,
        /// The TOML parser's message, which names the line and key.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("抓取配置 {file} 中 {key} 无效：{reason}")]
    Invalid {
        /// The profile's path, or the shipped profile's name.
        file: String,
        /// The offending key's dotted path, e.g. `probe.time_zone` or `columns.department[2].name`.
        key: String,
        /// What is wrong with it, in Chinese.
        reason: String,
    },
}

impl SiteProfile {
    /// The profile shipped in `crawlers/site.toml`.
    pub fn builtin() -> Result<Self, ProfileError> {
        Self::parse(DEFAULT_PROFILE, DEFAULT_PROFILE_NAME)
    }

    /// The city's clock, in `[probe] time_zone` (validated on load; the documented default,
    /// [`CityClock::DEFAULT_ZONE`], should the name somehow not parse).
    pub fn clock(&self) -> CityClock {
        CityClock::named(&self.probe.time_zone).unwrap_or_default()
    }

    /// Reads and validates the profile file at `path`.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ProfileError::Read { file: file.clone(), source })?;
        Self::parse(&text, &file)
    }

    /// Parses and validates; `file` names the source in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, ProfileError> {
        let mut profile: SiteProfile = toml::from_str(text)
            .map_err(|e| ProfileError::Parse { file: file.to_owned(), message: e.to_string() })?;
        profile.validate(file)?;
        profile.source = text.to_owned();
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
                if column.exclude.iter().any(|s| s.trim().is_empty()) {
                    return invalid(format!("{key}.exclude"), "不能含空字符串");
                }
            }
        }
        let search = &self.column_search;
        for (key, words) in [("landing", &search.landing), ("more", &search.more)] {
            if words.is_empty() || words.iter().any(|w| w.trim().is_empty()) {
                return invalid(format!("column_search.{key}"), "至少一个，且不能为空字符串");
            }
        }
        if search.landing_exclude.iter().any(|w| w.trim().is_empty()) {
            return invalid("column_search.landing_exclude".into(), "不能含空字符串");
        }
        if search.max_more_pages > MAX_FOLLOWED_PAGES {
            return invalid("column_search.max_more_pages".into(), "不能超过 50");
        }
        for (i, item) in self.identity.iter().enumerate() {
            if item.name.trim().is_empty() || item.patterns.iter().all(|p| p.trim().is_empty()) {
                return invalid(format!("identity[{i}]"), "名称和 patterns 不能为空");
            }
        }
        if self.spam.lexicon.iter().any(|w| w.trim().is_empty()) {
            return invalid("spam.lexicon".into(), "不能含空字符串");
        }
        let injection = &self.spam.injection;
        if injection.max_brand_chars < 2 {
            return invalid("spam.injection.max_brand_chars".into(), "至少为 2");
        }
        if injection.max_placements == 0 {
            return invalid("spam.injection.max_placements".into(), "必须大于 0");
        }
        for (key, words) in [
            ("site_words", &injection.site_words),
            ("strong_site_words", &injection.strong_site_words),
            ("category_words", &injection.category_words),
            ("generic_words", &injection.generic_words),
            ("decorations", &injection.decorations),
        ] {
            if words.iter().any(|w| w.trim().is_empty()) {
                return invalid(format!("spam.injection.{key}"), "不能含空字符串");
            }
        }
        for (kind, deadline) in &self.annual_report.deadlines {
            if parse_month_day(deadline).is_none() {
                return invalid(format!("annual_report.deadlines.{kind}"), "应为“月-日”，如 01-31");
            }
        }
        let interaction = &self.interaction;
        if interaction.limit_days == 0 {
            return invalid("interaction.limit_days".into(), "必须大于 0");
        }
        for (key, words) in [
            ("synonyms", &interaction.synonyms),
            ("message_lists", &interaction.message_lists),
            ("unanswered_markers", &interaction.unanswered_markers),
            ("answered_markers", &interaction.answered_markers),
        ] {
            if words.iter().any(|w| w.trim().is_empty()) {
                return invalid(format!("interaction.{key}"), "不能含空字符串");
            }
        }
        if interaction.follow_depth > 3 {
            return invalid("interaction.follow_depth".into(), "不能超过 3");
        }
        if interaction.max_pages == 0 || interaction.max_pages > MAX_FOLLOWED_PAGES {
            return invalid("interaction.max_pages".into(), "应在 1 到 50 之间");
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
        for (i, host) in self.links.follow_hosts.iter().enumerate() {
            if super::same_site::parse_host(host).is_none() {
                return invalid(
                    format!("links.follow_hosts[{i}]"),
                    "必须是主机名或 IP 地址，不含协议、端口和路径",
                );
            }
        }
        self.fetch.validate().or_else(|e| invalid(format!("fetch.{}", e.field), e.reason))?;
        Ok(())
    }

    /// Days a column of this class may go without a new item.
    pub fn cadence_days(&self, cadence: Cadence) -> u32 {
        self.cadences.get(&cadence).copied().unwrap_or(u32::MAX)
    }

    /// The required columns of a unit kind; empty when the profile lists none for it.
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
    fn shipped_probe_settings_keep_probes_single_shot_in_the_default_zone() {
        let profile = SiteProfile::builtin().expect("shipped profile is valid");
        assert_eq!(profile.clock(), CityClock::default(), "the documented default is the shipped zone");
        assert_eq!((profile.probe.max_retries, profile.probe.cloaking), (0, false));
        let text = DEFAULT_PROFILE.replace("time_zone = \"Asia/Shanghai\"", "time_zone = \"Europe/London\"");
        let london = SiteProfile::parse(&text, "test").expect("valid profile");
        assert_eq!(london.clock(), CityClock::named("Europe/London").expect("zone"));
        let lines = DEFAULT_PROFILE.lines();
        let text: Vec<&str> = lines.filter(|l| *l != "max_retries = 0" && *l != "cloaking = false").collect();
        assert_eq!(text.len() + 2, DEFAULT_PROFILE.lines().count(), "both keys were removed");
        let text = text.join("\n");
        let defaulted = SiteProfile::parse(&text, "test").expect("keys are optional");
        assert_eq!(defaulted.probe, profile.probe, "omitted keys default to no retries, no cloaking");
    }

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
        let names =
            |kind| -> Vec<&str> { profile.columns_for(kind).iter().map(|c| c.name.as_str()).collect() };
        for kind in [UnitKind::Department, UnitKind::District, UnitKind::Devzone] {
            assert_eq!(
                names(kind)[1..],
                ["通知公告", "政策文件", "政府信息公开指南", "依申请公开"],
                "{kind}"
            );
        }
        assert_eq!(names(UnitKind::Institution), ["工作动态", "通知公告", "政府信息公开指南"]);
        assert_eq!(names(UnitKind::Authorised), ["工作动态", "通知公告", "政府信息公开指南", "依申请公开"]);
        for kind in UnitKind::ALL {
            for column in profile.columns_for(kind) {
                let presence_only = matches!(column.name.as_str(), "政府信息公开指南" | "依申请公开");
                assert_eq!(column.cadence.judges_content(), !presence_only, "{kind} {}", column.name);
            }
        }
        assert!(profile.columns_for(UnitKind::Institution)[0].synonyms.contains(&"政务动态".to_owned()));
        assert!(profile.columns_for(UnitKind::Devzone)[0].synonyms.contains(&"园区动态".to_owned()));
        assert!(profile.interaction.synonyms.contains(&"政民互动".to_owned()));
        assert_eq!(profile.identity.len(), 5);
        assert_eq!(profile.annual_deadline(UnitKind::Department, 2025), NaiveDate::from_ymd_opt(2026, 1, 31));
        assert_eq!(profile.annual_deadline(UnitKind::District, 2025), NaiveDate::from_ymd_opt(2026, 3, 31));
        assert_eq!(profile.fetch.total_timeout_secs, 15);
        assert!(!profile.fetch.allow_private);
    }

    #[test]
    fn the_commented_cluster_example_works_when_uncommented() {
        let shipped = SiteProfile::builtin().expect("shipped profile");
        assert!(shipped.fetch.hosts.is_empty() && shipped.links.follow_hosts.is_empty());
        let example =
            "# [[fetch.hosts]]\n# host = \"www.nanning.gov.cn\"\n# concurrency = 16\n# min_gap_ms = 0\n";
        assert!(DEFAULT_PROFILE.contains(example), "crawlers/site.toml shows the override example");
        let text = DEFAULT_PROFILE.replace(example, &example.replace("# ", ""));
        let profile = SiteProfile::parse(&text, "x.toml").expect("the example is valid");
        assert_eq!(profile.fetch.concurrency_for("www.nanning.gov.cn"), 16);
        assert_eq!(profile.fetch.concurrency_for("nanning.gov.cn"), 4);
        let text = DEFAULT_PROFILE.replace("follow_hosts = []", "follow_hosts = [\"zwgk.Nanning.gov.cn\"]");
        let profile = SiteProfile::parse(&text, "x.toml").expect("a listed host is valid");
        assert_eq!(profile.links.follow_hosts, ["zwgk.Nanning.gov.cn"]);
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

        let bad =
            DEFAULT_PROFILE.replace("follow_hosts = []", "follow_hosts = [\"a.gov.cn\", \"b.gov.cn:81\"]");
        let err = SiteProfile::parse(&bad, "x.toml").expect_err("a port in follow_hosts");
        assert!(err.to_string().contains("links.follow_hosts[1]"), "{err}");

        let bad = DEFAULT_PROFILE.replace(
            "global_concurrency = 32",
            "global_concurrency = 32\n[[fetch.hosts]]\nhost = \"a.gov.cn\"\nconcurrency = 0\nmin_gap_ms = 0",
        );
        let err = SiteProfile::parse(&bad, "x.toml").expect_err("zero concurrency");
        assert!(err.to_string().contains("fetch.hosts[0].concurrency"), "{err}");

        let bad = DEFAULT_PROFILE.replace("max_more_pages = 16", "max_more_pages = 500");
        let err = SiteProfile::parse(&bad, "x.toml").expect_err("unbounded more pages");
        assert!(err.to_string().contains("column_search.max_more_pages"), "{err}");

        let bad = DEFAULT_PROFILE.replace("cadence = \"news\"", "cadence = \"weekly\"");
        let err = SiteProfile::parse(&bad, "x.toml").expect_err("unknown cadence");
        assert!(err.to_string().contains("x.toml") && err.to_string().contains("weekly"), "{err}");
    }
}
