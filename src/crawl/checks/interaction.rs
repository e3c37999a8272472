//! `interaction.unanswered`: on the consultation channels (政民互动, 领导信箱… found by link
//! text), a message older than the limit whose row still says it has no reply. A channel's
//! page often only leads on (a hub of mailboxes, a mailbox with its form): when it lists no
//! dated message, the crawl follows its links named like a message list (信件选登, 留言列表…),
//! a bounded number of levels. Message rows are list items or table rows (标题 | 留言时间 |
//! 状态); a row that wraps other dated rows (a layout table) is not a message.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde_json::json;
use url::Url;

use super::columns::{dated_rows, is_named, wraps};
use super::page::truncate;
use super::{CheckContext, ParsedPage};
use crate::crawl::dates::find_dates;
use crate::crawl::links::Link;
use crate::crawl::profile::Interaction;
use crate::model::Finding;
use crate::model::check::INTERACTION_UNANSWERED;

/// Messages reported per site at most; the count says how many there were.
const MAX_REPORTED: usize = 20;

/// The consultation channels linked from `links`, in order, without duplicates.
pub fn channel_links<'a>(links: impl IntoIterator<Item = &'a Link>, settings: &Interaction) -> Vec<Url> {
    let mut seen = HashSet::new();
    links
        .into_iter()
        .filter(|l| is_named(&l.text, &settings.synonyms))
        .filter(|l| seen.insert(l.url.clone()))
        .map(|l| l.url.clone())
        .collect()
}

/// Links of a channel's page that lead on to its message list: named like a message list or
/// like another channel.
pub fn onward_links(page: &ParsedPage, settings: &Interaction) -> Vec<Url> {
    let mut seen = HashSet::new();
    page.links
        .iter()
        .filter(|l| is_named(&l.text, &settings.message_lists) || is_named(&l.text, &settings.synonyms))
        .filter(|l| seen.insert(l.url.clone()))
        .map(|l| l.url.clone())
        .collect()
}

/// Whether the page lists at least one dated message (a dated row that is not a wrapper).
pub fn lists_messages(page: &ParsedPage, as_of: NaiveDate) -> bool {
    let dated = dated_rows(page, as_of);
    dated.iter().any(|row| !wraps(row, &dated))
}

/// The unanswered marker that gives the row's status: the last marker in the row, since the
/// status column follows the title (“反映热线电话长期未回复问题 … 已回复” is answered). `None`
/// when the row carries no unanswered marker, or an answered marker comes after it.
fn status_marker<'a>(text: &str, settings: &'a Interaction) -> Option<&'a str> {
    let last = |markers: &'a [String]| {
        markers.iter().filter_map(|m| text.rfind(m.as_str()).map(|at| (at + m.len(), m.as_str()))).max()
    };
    let (unanswered_end, marker) = last(&settings.unanswered_markers)?;
    match last(&settings.answered_markers) {
        Some((answered_end, _)) if answered_end > unanswered_end => None,
        _ => Some(marker),
    }
}

/// The unanswered messages on the pages (`(url, page)`), each reported once.
pub fn check(ctx: &CheckContext<'_>, pages: &[(&str, &ParsedPage)]) -> Vec<Finding> {
    let settings = &ctx.profile.interaction;
    let limit = i64::from(settings.limit_days);
    let mut seen = HashSet::new();
    let mut findings = Vec::new();
    for (url, page) in pages {
        let dated = dated_rows(page, ctx.as_of);
        for row in &dated {
            let Some(marker) = status_marker(&row.text, settings) else { continue };
            let Some(asked) = find_dates(&row.text, ctx.as_of).into_iter().filter(|d| *d <= ctx.as_of).min()
            else {
                continue;
            };
            let days = ctx.days_since(asked);
            if days <= limit || wraps(row, &dated) {
                continue;
            }
            let target = row.links.first().map(Url::as_str).unwrap_or(url);
            if !seen.insert((target.to_owned(), row.text.clone())) || findings.len() >= MAX_REPORTED {
                continue;
            }
            findings.push(ctx.finding(
                &INTERACTION_UNANSWERED,
                Some(target),
                json!({ "asked": asked.to_string(), "days": days, "limit_days": limit, "marker": marker,
                        "snippet": truncate(&row.text, 80), "page": url }),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::crawl::checks::Fixture;
    use crate::crawl::checks::page::Row;
    use crate::model::UnitKind;

    fn row(text: &str) -> Row {
        Row { text: text.to_owned(), links: Vec::new() }
    }

    #[test]
    fn the_last_marker_in_a_row_is_its_status() {
        let settings = crate::crawl::profile::SiteProfile::builtin().expect("profile").interaction;
        assert_eq!(status_marker("咨询低保 2026-06-01 未回复", &settings), Some("未回复"));
        assert_eq!(status_marker("反映热线电话长期未回复问题 2026-07-13 已回复", &settings), None);
        assert_eq!(status_marker("询问已回复的信件为何看不到 2026-07-13 待回复", &settings), Some("待回复"));
        assert_eq!(status_marker("咨询公积金 2026-07-13 已办结", &settings), None);
    }

    #[test]
    fn a_layout_row_wrapping_messages_is_not_a_message() {
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
        let page = ParsedPage {
            rows: vec![
                row("咨询甲 2026-01-05 已回复 咨询乙 2026-11-01 未回复"),
                row("咨询甲 2026-01-05 已回复"),
                row("咨询乙 2026-11-01 未回复"),
                row("留言须知"),
            ],
            ..ParsedPage::default()
        };
        let dated = dated_rows(&page, as_of);
        assert_eq!(dated.len(), 3);
        assert!(wraps(dated[0], &dated));
        assert!(!wraps(dated[1], &dated) && !wraps(dated[2], &dated));
        assert!(lists_messages(&page, as_of));
        let hub = ParsedPage {
            rows: vec![row("领导信箱"), row("在线咨询 2027-01-01")],
            ..ParsedPage::default()
        };
        assert!(!lists_messages(&hub, as_of), "no row dated up to the as-of day");
    }

    #[test]
    fn only_messages_older_than_the_limit_and_still_unanswered_are_reported_once() {
        let fixture = Fixture::new(UnitKind::Department);
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
        let limit = i64::from(fixture.profile.interaction.limit_days);
        let on_limit = as_of - chrono::Days::new(limit.unsigned_abs());
        let over = on_limit - chrono::Days::new(1);
        let message = Url::parse("http://site.gov.cn/hd/1.html").expect("url");
        let page = ParsedPage {
            rows: vec![
                Row { text: format!("咨询低保政策 {over} 未回复"), links: vec![message.clone()] },
                Row { text: format!("咨询公积金 {on_limit} 未回复"), links: Vec::new() },
                Row { text: format!("反映路灯不亮 {over} 已回复"), links: Vec::new() },
            ],
            ..ParsedPage::default()
        };
        let url = "http://site.gov.cn/hd/";
        let findings = check(&fixture.ctx(as_of), &[(url, &page), (url, &page)]);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].check, INTERACTION_UNANSWERED.id);
        assert_eq!(findings[0].url.as_deref(), Some(message.as_str()));
        assert_eq!(findings[0].detail["days"], limit + 1);
        assert_eq!(findings[0].detail["marker"], "未回复");
        assert_eq!(findings[0].detail["page"], url);
    }
}
