//! `identity.missing`: a footer item the profile requires (网站标识码, ICP 备案号, 公安机关备案号,
//! 党政机关网站标识, 主办单位) is not on the home page. Badges are often images, so image
//! descriptions and link targets count as well as the text.

use serde_json::json;

use super::{CheckContext, ParsedPage};
use crate::model::Finding;
use crate::model::check::IDENTITY_MISSING;

/// One `identity.missing` finding per footer item of the profile that no pattern shows on the
/// home page (its text, image descriptions or link targets, ASCII case ignored).
pub fn check(ctx: &CheckContext<'_>, url: &str, home: &ParsedPage) -> Vec<Finding> {
    let haystacks = [home.text.as_str(), home.attr_text.as_str()];
    ctx.profile
        .identity
        .iter()
        .filter(|item| {
            !item
                .patterns
                .iter()
                .filter(|p| !p.trim().is_empty())
                .any(|pattern| haystacks.iter().any(|h| contains_ignore_ascii_case(h, pattern)))
        })
        .map(|item| {
            ctx.finding(&IDENTITY_MISSING, Some(url), json!({ "item": item.name, "patterns": item.patterns }))
        })
        .collect()
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack.contains(needle) || haystack.to_ascii_lowercase().contains(&needle.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::crawl::checks::Fixture;
    use crate::model::UnitKind;

    fn missing(html: &str) -> Vec<String> {
        let fixture = Fixture::new(UnitKind::Department);
        let url = "http://site.gov.cn/";
        let ctx = fixture.ctx(NaiveDate::from_ymd_opt(2026, 11, 20).expect("day"));
        let findings = check(&ctx, url, &fixture.page(html, url));
        assert!(findings.iter().all(|f| f.check == IDENTITY_MISSING.id && f.url.as_deref() == Some(url)));
        findings.iter().map(|f| f.detail["item"].as_str().unwrap_or_default().to_owned()).collect()
    }

    #[test]
    fn each_absent_footer_item_is_one_finding_and_badges_count_as_text() {
        let footer = "<div>主办单位：南宁市测试局 网站标识码：4501000001 \
                      <span>桂icp备12345678号</span>\
                      <a href=\"https://bszs.conac.cn/\"><img src=\"/dzjg.png\" alt=\"党政机关网站标识\"></a></div>";
        assert_eq!(missing(footer), ["公安机关备案号"]);
        let complete =
            footer.replace("</div>", "<img src=\"/ga.png\" alt=\"桂公网安备 45010002000001号\"></div>");
        assert_eq!(missing(&complete), Vec::<String>::new());
        let items = Fixture::new(UnitKind::Department).profile.identity.len();
        assert_eq!(missing("<p>欢迎访问</p>").len(), items, "every item is missing from a bare page");
    }
}
