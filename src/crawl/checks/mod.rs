//! The website checks of DESIGN.md §4, one small module each. Every check is a pure function
//! over pages already fetched and parsed ([`ParsedPage`]) and returns findings or metrics; the
//! crawl in `crawl::site` decides what to fetch. Evidence (`detail`) always names what was seen
//! and where, so a unit can check it in a browser.

pub mod annual;
pub mod broken;
pub mod columns;
pub mod home;
pub mod identity;
pub mod injection;
pub mod interaction;
pub mod page;
pub mod spam;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

pub use page::{HiddenRules, ParsedPage, parse_page};

use super::profile::SiteProfile;
use crate::model::{Check, Finding, FindingStatus, Metric, Source, Unit};

/// What every check needs to know besides the pages: whose site, which day, which profile.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    /// The unit whose site is checked.
    pub unit: &'a Unit,
    /// The day "today" is for freshness (DESIGN.md §6 `--as-of`).
    pub as_of: NaiveDate,
    /// When the evidence was observed (stamped on every finding and metric).
    pub observed_at: DateTime<Utc>,
    /// The crawl profile: columns, cadences, spam settings.
    pub profile: &'a SiteProfile,
}

impl CheckContext<'_> {
    /// A finding of `check`, a check of the registry ([`crate::model::check`]): the crawler
    /// reports no check that is not registered.
    pub fn finding(&self, check: &Check, url: Option<&str>, detail: serde_json::Value) -> Finding {
        Finding {
            id: None,
            unit: self.unit.code.clone(),
            check: check.id.to_owned(),
            source: Source::Crawler,
            observed_at: self.observed_at,
            url: url.map(str::to_owned),
            detail,
            status: FindingStatus::Open,
            rectify_by: None,
        }
    }

    /// A metric of the unit, stamped like its findings.
    pub fn metric(&self, name: &str, value: Decimal) -> Metric {
        Metric { unit: self.unit.code.clone(), name: name.to_owned(), value, observed_at: self.observed_at }
    }

    /// Days from `date` to the as-of day.
    pub fn days_since(&self, date: NaiveDate) -> i64 {
        (self.as_of - date).num_days()
    }
}

/// The host without a leading `www.`, so that `www.x.gov.cn` and `x.gov.cn` are one site.
pub fn site_host(host: &str) -> &str {
    host.strip_prefix("www.").unwrap_or(host)
}

/// Whether `url` leaves the site and is not on a trusted domain (suffix match).
pub fn is_foreign(url: &url::Url, site: &str, allow_domains: &[String]) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = site_host(&host.to_ascii_lowercase()).to_owned();
    if host == site_host(site) {
        return false;
    }
    !allow_domains.iter().any(|domain| {
        let domain = domain.trim().trim_start_matches('.').to_ascii_lowercase();
        host == domain || host.ends_with(&format!(".{domain}"))
    })
}

/// A finding with the key the site crawl de-duplicates by (the same injected footer on every
/// page is one problem, not three hundred). Here rather than in `spam.rs` so that the spam and
/// injection checks, which both produce them, do not import each other.
pub struct Keyed {
    /// What makes two findings one problem: `technique|what`, e.g. the technique and the phrase.
    pub key: String,
    /// The finding; of several with one key, the first one seen is kept.
    pub finding: Finding,
}

/// What the tests of single checks build on: a unit of one kind and the shipped profile, from
/// which a [`CheckContext`] for any as-of day is made.
#[cfg(test)]
pub(crate) struct Fixture {
    pub unit: Unit,
    pub profile: SiteProfile,
}

#[cfg(test)]
impl Fixture {
    pub(crate) fn new(kind: crate::model::UnitKind) -> Self {
        let unit = Unit {
            code: crate::model::synthetic_credit_code("450100", 1).expect("synthetic code"),
            name: "南宁市测试局".to_owned(),
            kind,
            parent_code: None,
            website: Some("http://site.gov.cn/".to_owned()),
            catalogue_url: None,
            email: None,
        };
        Self { unit, profile: SiteProfile::builtin().expect("the shipped profile") }
    }

    /// The context of a crawl on `as_of`, observed at noon UTC that day.
    pub(crate) fn ctx(&self, as_of: NaiveDate) -> CheckContext<'_> {
        let observed_at = as_of.and_hms_opt(12, 0, 0).expect("noon").and_utc();
        CheckContext { unit: &self.unit, as_of, observed_at, profile: &self.profile }
    }

    /// `html` parsed as if fetched from `url`, with the profile's hidden-text rules.
    pub(crate) fn page(&self, html: &str, url: &str) -> ParsedPage {
        let spam = &self.profile.spam;
        let rules = HiddenRules { tiny_font_px: spam.tiny_font_px, offscreen_px: spam.offscreen_px };
        parse_page(html, &url::Url::parse(url).expect("url"), rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_means_off_site_and_not_trusted() {
        let allow = vec!["gov.cn".to_owned()];
        let url = |s: &str| url::Url::parse(s).expect("url");
        assert!(!is_foreign(&url("http://www.site.cn/a"), "site.cn", &allow));
        assert!(!is_foreign(&url("http://beian.miit.gov.cn/"), "site.cn", &allow));
        assert!(is_foreign(&url("http://bet.example.com/"), "site.cn", &allow));
        assert!(is_foreign(&url("http://evilgov.cn/"), "site.cn", &allow));
    }
}
