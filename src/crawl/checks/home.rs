//! `home.stale`: the newest dated item on the home page is older than the home window, or the
//! home page carries no dated item at all (the national rule counts an undated item as not
//! updated). Also the metric `home.days_since_update` the rule sets score by.

use rust_decimal::Decimal;
use serde_json::json;

use chrono::NaiveDate;

use super::columns::item_dates;
use super::{CheckContext, ParsedPage};
use crate::crawl::dates::newest_date;
use crate::model::check::HOME_STALE;
use crate::model::{Finding, Metric};

/// `home.stale` when the home page's newest dated item is older than `home_window_days`, or
/// it has none; with the `home.days_since_update` metric when a dated item was found.
pub fn check(ctx: &CheckContext<'_>, url: &str, home: &ParsedPage) -> (Vec<Finding>, Vec<Metric>) {
    let window = i64::from(ctx.profile.home_window_days);
    match newest_item(home, ctx.as_of) {
        Some(newest) => {
            let days = ctx.days_since(newest);
            let metric = ctx.metric("home.days_since_update", Decimal::from(days));
            let findings = if days > window {
                vec![ctx.finding(
                    &HOME_STALE,
                    Some(url),
                    json!({ "newest": newest.to_string(), "days": days, "window_days": window }),
                )]
            } else {
                Vec::new()
            };
            (findings, vec![metric])
        }
        None => (
            vec![ctx.finding(
                &HOME_STALE,
                Some(url),
                json!({ "newest": null, "window_days": window, "reason": "首页没有带日期的信息" }),
            )],
            Vec::new(),
        ),
    }
}

/// The newest date of the home page's items: rows (list items, table rows) that link somewhere
/// and carry a date. Dates outside the items are not updates — the server's
/// “今天是：2026年11月20日 星期五” in the banner links nowhere — so they cannot make a stale home
/// page look fresh. A page without dated item rows is read as text, as before.
fn newest_item(home: &ParsedPage, as_of: NaiveDate) -> Option<NaiveDate> {
    item_dates(home, as_of, |row| !row.links.is_empty())
        .into_iter()
        .max()
        .or_else(|| newest_date(&home.text, as_of))
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::*;
    use crate::crawl::checks::{Fixture, HiddenRules, parse_page};
    use crate::model::UnitKind;

    fn newest(html: &str) -> Option<NaiveDate> {
        let rules = HiddenRules { tiny_font_px: 2, offscreen_px: 1000 };
        let page = parse_page(html, &Url::parse("http://site.gov.cn/").expect("url"), rules);
        newest_item(&page, NaiveDate::from_ymd_opt(2026, 11, 20).expect("day"))
    }

    fn day(m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, m, d)
    }

    #[test]
    fn the_servers_clock_in_the_banner_is_not_an_update() {
        let html = "<table><tr><td><img alt=\"logo\"><span>今天是：2026年11月20日 星期五</span></td></tr>\
                    <tr><td><a href=\"/n/1.html\">召开防疫工作会议</a></td><td>2026-10-18</td></tr>\
                    <tr><td><a href=\"/n/2.html\">开展质量抽检</a></td><td>2026-10-11</td></tr></table>";
        assert_eq!(newest(html), day(10, 18));
    }

    #[test]
    fn items_outside_rows_are_read_from_the_text_and_future_dates_never_count() {
        assert_eq!(newest("<div><a href=\"/a\">通知</a> 2026-11-19</div>"), day(11, 19));
        let html =
            "<ul><li><a href=\"/a\">预告</a> 2026-12-01</li><li><a href=\"/b\">会议</a> [11-02]</li></ul>";
        assert_eq!(newest(html), day(11, 2));
        assert_eq!(newest("<p>欢迎访问</p>"), None);
    }

    #[test]
    fn a_home_page_is_stale_after_the_window_and_without_any_dated_item() {
        let fixture = Fixture::new(UnitKind::Department);
        let url = "http://site.gov.cn/";
        let home = fixture.page("<ul><li><a href=\"/n/1.html\">工作动态</a> 2026-11-06</li></ul>", url);
        let window = i64::from(fixture.profile.home_window_days);
        let last_fresh = NaiveDate::from_ymd_opt(2026, 11, 6).expect("day") + chrono::Days::new(14);
        assert_eq!(window, 14, "the shipped window");

        let (findings, metrics) = check(&fixture.ctx(last_fresh), url, &home);
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(metrics.len(), 1);
        assert_eq!(
            (metrics[0].name.as_str(), metrics[0].value),
            ("home.days_since_update", Decimal::from(14))
        );

        let (findings, metrics) = check(&fixture.ctx(last_fresh + chrono::Days::new(1)), url, &home);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].check, HOME_STALE.id);
        assert_eq!(findings[0].url.as_deref(), Some(url));
        assert_eq!(findings[0].detail["days"], 15);
        assert_eq!(findings[0].detail["newest"], "2026-11-06");
        assert_eq!(metrics[0].value, Decimal::from(15));

        let undated = fixture.page("<p><a href=\"/about\">欢迎访问</a></p>", url);
        let (findings, metrics) = check(&fixture.ctx(last_fresh), url, &undated);
        assert_eq!(findings.len(), 1, "no dated item counts as not updated");
        assert_eq!(findings[0].check, HOME_STALE.id);
        assert!(findings[0].detail["newest"].is_null());
        assert!(metrics.is_empty(), "no age to report");
    }
}
