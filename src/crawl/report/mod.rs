//! Reading a unit's disclosure annual report and checking it against the national template
//! (issue #17): the template as data (`crawlers/annual-report.toml`, the 2021 format), the
//! report's text from its page or PDF ([`extract`]), the checks of its sections, tables, year
//! and date ([`checks`]), and near-duplicates across the city ([`copying`]). Pure: the site
//! crawl fetches the document (`crawl::checks::annual::read_report`) and hands it here.

pub mod checks;
pub mod copying;
pub mod extract;
pub mod sample;
pub mod template;

pub use copying::{Fingerprint, Registry};
pub use extract::{ExtractError, ReportText, html_text, is_pdf, pdf_text};
pub use template::{ReportTemplate, TemplateError};

use super::checks::CheckContext;
use crate::model::Finding;

/// What checking one report gave: its findings, and its fingerprint for the city-wide
/// comparison (`None` when the narrative is too short to judge).
#[derive(Debug, Clone)]
pub struct Checked {
    /// The report's own defects: sections or tables missing, inconsistent numbers, wrong year, late.
    pub findings: Vec<Finding>,
    /// For the city-wide comparison.
    pub fingerprint: Option<Fingerprint>,
}

/// Checks the report for `year` read from `url` against `template`.
pub fn check(
    ctx: &CheckContext<'_>,
    template: &ReportTemplate,
    year: i32,
    url: &str,
    text: &ReportText,
) -> Checked {
    Checked {
        findings: checks::check(ctx, template, year, url, text),
        fingerprint: copying::fingerprint(ctx, template, url, text),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::NaiveDate;
    use url::Url;

    use super::sample::SampleReport;
    use super::*;
    use crate::crawl::checks::Fixture;
    use crate::model::UnitKind;
    use crate::model::check::{
        REPORT_LATE, REPORT_SECTION_MISSING, REPORT_STALE_COPY, REPORT_TABLE_INCONSISTENT,
    };

    const URL: &str = "http://site.gov.cn/report/2025.html";
    const CJK: &str = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf";
    const LATIN: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";

    fn as_of() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).expect("day")
    }

    fn sample() -> SampleReport {
        SampleReport::complete("南宁市测试局", 2025)
    }

    /// The report as its page reads, and as its PDF reads.
    fn both(report: &SampleReport) -> [(&'static str, ReportText); 2] {
        let template = ReportTemplate::builtin().expect("template");
        let url = Url::parse(URL).expect("url");
        let page = html_text(&report.html(), &url, template.max_chars);
        let pdf =
            report.pdf(Path::new(CJK), Path::new(LATIN)).expect("the PDF renders (fonts-droid-fallback)");
        let read = pdf_text(&pdf, template.max_chars).expect("the PDF reads");
        [("html", page), ("pdf", read)]
    }

    fn run(text: &ReportText) -> Vec<Finding> {
        let fixture = Fixture::new(UnitKind::Department);
        let template = ReportTemplate::builtin().expect("template");
        check(&fixture.ctx(as_of()), &template, 2025, URL, text).findings
    }

    fn of<'f>(findings: &'f [Finding], check: &str) -> Vec<&'f Finding> {
        findings.iter().filter(|f| f.check == check).collect()
    }

    #[test]
    fn a_complete_report_passes_clean_as_a_page_and_as_a_pdf() {
        for (kind, text) in both(&sample()) {
            let findings = run(&text);
            assert!(findings.is_empty(), "{kind}: {findings:#?}\n{:#?}", text.lines);
        }
    }

    #[test]
    fn a_report_missing_a_section_names_it() {
        let report = sample().without_section("存在的主要问题");
        for (kind, text) in both(&report) {
            let findings = run(&text);
            let missing = of(&findings, REPORT_SECTION_MISSING.id);
            assert_eq!(missing.len(), 1, "{kind}: {findings:#?}");
            assert_eq!(missing[0].detail["key"], "存在的主要问题及改进情况");
            assert_eq!(missing[0].detail["kind"], "section");
            let found = missing[0].detail["found_headings"].as_array().expect("quoted headings");
            assert_eq!(found.len(), 5, "{kind}");
            assert_eq!(findings.len(), 1, "{kind}: {findings:#?}");
        }
        // A section without its table is missing the table.
        let report = sample().without_table("收到和处理政府信息公开申请情况");
        for (kind, text) in both(&report) {
            let findings = run(&text);
            let missing = of(&findings, REPORT_SECTION_MISSING.id);
            assert_eq!(missing.len(), 1, "{kind}: {findings:#?}");
            assert_eq!(missing[0].detail["kind"], "table");
            assert_eq!(missing[0].detail["key"], "收到和处理政府信息公开申请情况表");
        }
    }

    #[test]
    fn a_request_table_that_does_not_add_up_quotes_both_sides() {
        // Five more received by natural persons, in their column and the total: the balance
        // fails in both columns, the applicants' sum still holds.
        let report = sample().with_row("本年新收", &[25, 3, 0, 1, 1, 0, 30]);
        for (kind, text) in both(&report) {
            let findings = run(&text);
            let wrong = of(&findings, REPORT_TABLE_INCONSISTENT.id);
            let keys: Vec<&str> = wrong.iter().map(|f| f.detail["key"].as_str().unwrap_or("")).collect();
            assert_eq!(
                keys,
                [
                    "收到和处理政府信息公开申请情况表·本年新收 + 上年结转 = 办理结果总计 + 结转下年度继续办理·自然人",
                    "收到和处理政府信息公开申请情况表·本年新收 + 上年结转 = 办理结果总计 + 结转下年度继续办理·总计",
                ],
                "{kind}: {findings:#?}"
            );
            let total = wrong[1];
            assert_eq!(total.detail["left"]["value"], "32");
            assert_eq!(total.detail["right"]["value"], "27");
            assert_eq!(total.detail["cells"]["received"], "30");
            assert!(
                total.detail["quote"].to_string().contains("本年新收政府信息公开申请数量 25 3 0 1 1 0 30"),
                "{kind}"
            );
            assert_eq!(findings.len(), 2, "{kind}: {findings:#?}");
        }
        // A row of applicants that does not sum to its total, and reconsideration results that
        // do not sum to theirs.
        let report = sample()
            .with_row("予以公开", &[10, 2, 0, 1, 0, 0, 14])
            .with_row("", &[1, 0, 0, 1, 3, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0]);
        for (kind, text) in both(&report) {
            let findings = run(&text);
            let rules: Vec<(&str, &str)> = of(&findings, REPORT_TABLE_INCONSISTENT.id)
                .iter()
                .map(|f| (f.detail["rule"].as_str().unwrap_or(""), f.detail["at"].as_str().unwrap_or("")))
                .collect();
            assert!(rules.contains(&("各类申请人之和 = 总计", "（一）予以公开")), "{kind}: {rules:?}");
            assert!(rules.contains(&("各项办理结果之和 = 办理结果总计", "总计")), "{kind}: {rules:?}");
            assert!(
                rules.contains(&(
                    "行政复议：结果维持 + 结果纠正 + 其他结果 + 尚未审结 = 总计",
                    "行政复议、行政诉讼"
                )),
                "{kind}: {rules:?}"
            );
        }
    }

    #[test]
    fn last_years_report_republished_is_a_stale_copy() {
        let report = SampleReport::complete("南宁市测试局", 2024);
        for (kind, text) in both(&report) {
            let findings = run(&text);
            let stale = of(&findings, REPORT_STALE_COPY.id);
            assert_eq!(stale.len(), 1, "{kind}: {findings:#?}");
            assert_eq!(stale[0].detail["found_year"], 2024);
            assert!(
                stale[0].detail["quote"]
                    .as_str()
                    .is_some_and(|q| q.contains("2024年政府信息公开工作年度报告"))
            );
        }
        // The year in the title alone is not enough: a body that only speaks of last year.
        let mut report = sample().replace("2025年", "2024年");
        report.title = "南宁市测试局2025年政府信息公开工作年度报告".to_owned();
        let (_, page) = both(&report).into_iter().next().expect("html");
        assert_eq!(of(&run(&page), REPORT_STALE_COPY.id).len(), 1);
    }

    #[test]
    fn a_cut_or_corrupted_pdf_is_an_error_or_less_text_never_a_panic() {
        let pdf = sample().pdf(Path::new(CJK), Path::new(LATIN)).expect("the PDF renders");
        let whole = pdf_text(&pdf, 100_000).expect("the PDF reads");
        assert!(pdf_text(&pdf[..100], 100_000).is_err());
        let mut corrupted = pdf.clone();
        corrupted.iter_mut().skip(300).step_by(61).for_each(|b| *b ^= 0x5a);
        for broken in [&pdf[..pdf.len() / 2], corrupted.as_slice()] {
            // Returns (a panic inside the parser is caught), with no more text than the whole.
            let read = pdf_text(broken, 100_000);
            assert!(
                read.is_ok_and(|t| t.lines.len() <= whole.lines.len()) || pdf_text(broken, 100_000).is_err()
            );
        }
    }

    #[test]
    fn a_report_published_after_the_deadline_is_late() {
        let url = Url::parse(URL).expect("url");
        let mut report = sample();
        report.published = "2026-02-15".to_owned();
        let findings = run(&html_text(&report.html(), &url, 100_000));
        let late = of(&findings, REPORT_LATE.id);
        assert_eq!(late.len(), 1, "{findings:#?}");
        assert_eq!(late[0].detail["deadline"], "2026-01-31");
        assert_eq!(late[0].detail["days_late"], 15);
        assert!(late[0].detail["quote"].as_str().is_some_and(|q| q.contains("发布时间：2026-02-15")));
        report.published = "2026-01-31".to_owned();
        assert!(run(&html_text(&report.html(), &url, 100_000)).is_empty());
    }

    #[test]
    fn another_units_report_with_the_name_changed_is_a_near_duplicate() {
        let template = ReportTemplate::builtin().expect("template");
        let url = Url::parse(URL).expect("url");
        let registry = Registry::default();
        let mut first = Fixture::new(UnitKind::Department);
        first.unit.name = "南宁市甲局".to_owned();
        let mut second = Fixture::new(UnitKind::Department);
        second.unit.name = "南宁市乙局".to_owned();
        second.unit.code = crate::model::synthetic_credit_code("450100", 2).expect("code");
        let mut third = Fixture::new(UnitKind::Department);
        third.unit.name = "南宁市丙局".to_owned();
        third.unit.code = crate::model::synthetic_credit_code("450100", 3).expect("code");
        let page = |report: SampleReport| html_text(&report.html(), &url, 100_000);
        let original = SampleReport::complete("南宁市甲局", 2025);
        let copy = original.clone().replace("南宁市甲局", "南宁市乙局");
        let own = SampleReport::complete_variant("南宁市丙局", 2025, 1);
        let print = |fixture: &Fixture, text: &ReportText| {
            let ctx = fixture.ctx(as_of());
            check(&ctx, &template, 2025, URL, text).fingerprint.expect("long enough to compare")
        };
        let admit = |fixture: &Fixture, text: ReportText| {
            registry.admit(&fixture.ctx(as_of()), &template, print(fixture, &text))
        };
        assert!(admit(&first, page(original)).is_none());
        let copied = admit(&second, page(copy)).expect("the same report with another name");
        assert_eq!(copied.check, REPORT_STALE_COPY.id);
        assert_eq!(copied.detail["kind"], "near_duplicate");
        assert_eq!(copied.detail["other_name"], "南宁市甲局");
        assert_eq!(copied.detail["similarity"], "1");
        assert!(admit(&third, page(own)).is_none(), "a report of its own");
    }
}
