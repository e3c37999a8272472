//! `report.annual_missing`: the previous year's disclosure annual report is not linked anywhere
//! on the crawled site once its deadline (per unit kind, from the profile) has passed.

use chrono::Datelike;
use serde_json::json;

use super::CheckContext;
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
