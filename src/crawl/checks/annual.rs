//! `report.annual_missing`: the previous year's disclosure annual report is not linked anywhere
//! on the crawled site once its deadline (per unit kind, from the profile) has passed. When it
//! is linked, and the profile says to read reports, [`read_report`] fetches it (the page, or its
//! PDF attachment) and checks it against the national template (`crawl::report`, issue #17).

use chrono::Datelike;
use serde_json::json;
use tokio::time::{Instant, timeout_at};
use url::Url;

use super::CheckContext;
use crate::crawl::fetch::{Fetcher, Page};
use crate::crawl::parse_pool;
use crate::crawl::report::{self, Registry, ReportTemplate, ReportText};
use crate::model::Finding;
use crate::model::check::REPORT_ANNUAL_MISSING;

/// The report year whose deadline has most recently passed by the as-of day.
pub fn due_year(ctx: &CheckContext<'_>) -> Option<i32> {
    let last_year = ctx.as_of.year() - 1;
    let deadline = ctx.profile.annual_deadline(ctx.unit.kind, last_year)?;
    Some(if ctx.as_of > deadline { last_year } else { last_year - 1 })
}

/// Whether a link text or page title announces the report for `year`.
pub fn announces(text: &str, year: i32, patterns: &[String]) -> bool {
    text.contains(&year.to_string()) && patterns.iter().any(|p| text.contains(p.as_str()))
}

/// `texts` are the link texts and page titles seen during the crawl. `capped` says the crawl
/// did not see the whole site; the finding says so, because the report may sit deeper (the
/// national rule expects it to be reachable from the disclosure pages near the home page).
pub fn check<'t>(
    ctx: &CheckContext<'_>,
    home_url: &str,
    texts: impl IntoIterator<Item = &'t str>,
    capped: bool,
) -> Vec<Finding> {
    let Some(year) = due_year(ctx) else { return Vec::new() };
    let patterns = &ctx.profile.annual_report.patterns;
    if texts.into_iter().any(|t| announces(t, year, patterns)) {
        return Vec::new();
    }
    let deadline = ctx.profile.annual_deadline(ctx.unit.kind, year).map(|d| d.to_string());
    vec![ctx.finding(
        &REPORT_ANNUAL_MISSING,
        Some(home_url),
        json!({ "year": year, "deadline": deadline, "patterns": patterns, "crawl_capped": capped }),
    )]
}

/// The first link (text, target) that announces the report for `year`.
pub fn report_link<'l>(links: &'l [(String, Url)], year: i32, patterns: &[String]) -> Option<&'l Url> {
    links.iter().find(|(text, _)| announces(text, year, patterns)).map(|(_, url)| url)
}

/// What the site crawl lends [`read_report`]: its fetcher and budget, the template, and the
/// city-wide registry of reports read in this crawl.
pub struct ReportFetch<'a> {
    /// The crawl's fetcher: its politeness, limits and address guard apply to the report too.
    pub fetcher: &'a Fetcher,
    /// The site's deadline: no fetch starts or runs past it.
    pub deadline: Instant,
    /// The national template the report is checked against.
    pub template: &'a ReportTemplate,
    /// The reports of the city read so far, which this one is compared with for copying.
    pub registry: &'a Registry,
}

/// What reading the report gave.
#[derive(Debug, Default)]
pub struct ReportRead {
    /// The report's defects, copying included; none when it could not be read.
    pub findings: Vec<Finding>,
    /// Documents fetched (the report's page, and its attachment when the page only links it).
    pub pages: usize,
    /// The site's budget ran out before the report was read.
    pub timed_out: bool,
}

/// Fetches the due year's report from `links` (the on-site links whose text names a report)
/// and checks it. A page that names no section of the template but links a PDF is read through
/// its first PDF attachment, with the page's publication date kept. Nothing is reported for a
/// report that cannot be fetched: the broken-link check names the link.
pub async fn read_report(
    ctx: &CheckContext<'_>,
    fetch: ReportFetch<'_>,
    links: &[(String, Url)],
) -> ReportRead {
    let mut read = ReportRead::default();
    let Some(year) = due_year(ctx) else { return read };
    let Some(url) = report_link(links, year, &ctx.profile.annual_report.patterns).cloned() else {
        return read;
    };
    let max_chars = fetch.template.max_chars;
    let Some(mut text) = fetch_text(&fetch, &url, max_chars, &mut read).await else { return read };
    let mut source = url.to_string();
    if report::checks::find_sections(fetch.template, &text.lines).is_empty()
        && let Some(attachment) = text.attachments.first().cloned()
        && let Some(mut pdf) = fetch_text(&fetch, &attachment, max_chars, &mut read).await
    {
        let dated = report::checks::publication_date(fetch.template, &text.lines, ctx.as_of);
        if let Some((_, line)) = dated {
            pdf.lines.insert(0, line);
        }
        text = pdf;
        source = attachment.to_string();
    }
    let checked = report::check(ctx, fetch.template, year, &source, &text);
    read.findings = checked.findings;
    if let Some(print) = checked.fingerprint {
        read.findings.extend(fetch.registry.admit(ctx, fetch.template, print));
    }
    read
}

/// One document's text (HTML or PDF), parsed in the crawl's parse pool; `None` when it could
/// not be fetched, read, or the budget ran out (then `read.timed_out` says so).
async fn fetch_text(
    fetch: &ReportFetch<'_>,
    url: &Url,
    max_chars: usize,
    read: &mut ReportRead,
) -> Option<ReportText> {
    if Instant::now() >= fetch.deadline {
        read.timed_out = true;
        return None;
    }
    let Ok(fetched) = timeout_at(fetch.deadline, fetch.fetcher.fetch_document(url)).await else {
        read.timed_out = true;
        return None;
    };
    read.pages += 1;
    let page: Page = fetched.ok().filter(Page::is_success)?;
    let pdf = report::is_pdf(&page.raw)
        || page.content_type.as_deref().is_some_and(|t| t.to_ascii_lowercase().contains("pdf"));
    // Parsed in the crawl's pool, and within the site's budget too: a hostile PDF that keeps
    // the parser busy costs its thread, not the crawl.
    let parsed = if pdf {
        let bytes = page.raw;
        timeout_at(fetch.deadline, parse_pool::parse(move || report::pdf_text(&bytes, max_chars).ok())).await
    } else if page.is_html() {
        let (body, base) = (page.body, page.url);
        timeout_at(
            fetch.deadline,
            parse_pool::parse(move || Some(report::html_text(&body, &base, max_chars))),
        )
        .await
    } else {
        return None;
    };
    let Ok(parsed) = parsed else {
        read.timed_out = true;
        return None;
    };
    let parsed = parsed.ok().flatten();
    parsed.filter(|text| !text.lines.is_empty())
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::crawl::checks::Fixture;
    use crate::crawl::profile::SiteProfile;
    use crate::model::UnitKind;

    #[test]
    fn the_titles_real_sites_use_announce_the_report_of_the_right_year_only() {
        let profile = SiteProfile::builtin().expect("profile");
        let patterns = &profile.annual_report.patterns;
        for title in [
            "南宁市财政局2025年政府信息公开工作年度报告",
            "南宁市财政局2025年度政府信息公开工作报告",
            "2025年政府信息公开年度报告",
            "2025年信息公开年报",
        ] {
            assert!(announces(title, 2025, patterns), "{title}");
            assert!(!announces(title, 2024, patterns), "{title} is not the 2024 report");
        }
        assert!(!announces("2025年工作总结", 2025, patterns));
        assert!(!announces("关于报送2025年政府信息公开工作的通知", 2025, patterns));
    }

    #[test]
    fn the_report_is_owed_the_day_after_the_kinds_deadline() {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).expect("day");
        let department = Fixture::new(UnitKind::Department);
        let old_report = ["2024年政府信息公开工作年度报告"];
        assert!(check(&department.ctx(day(1, 31)), "http://site.gov.cn/", old_report, false).is_empty());

        let findings = check(&department.ctx(day(2, 1)), "http://site.gov.cn/", old_report, true);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].check, REPORT_ANNUAL_MISSING.id);
        assert_eq!(findings[0].detail["year"], 2025);
        assert_eq!(findings[0].detail["deadline"], "2026-01-31");
        assert_eq!(findings[0].detail["crawl_capped"], true);
        let both = ["2024年政府信息公开工作年度报告", "2025年政府信息公开年度报告"];
        assert!(check(&department.ctx(day(2, 1)), "http://site.gov.cn/", both, false).is_empty());

        // Districts have until 31 March.
        let district = Fixture::new(UnitKind::District);
        assert!(check(&district.ctx(day(3, 31)), "http://site.gov.cn/", old_report, false).is_empty());
        assert_eq!(check(&district.ctx(day(4, 1)), "http://site.gov.cn/", old_report, false).len(), 1);
    }
}
