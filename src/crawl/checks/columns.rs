//! `column.missing`, `column.empty`, `column.stale`. Columns are found by link text on the home
//! page, matched against the profile's synonyms (DESIGN.md §5); a column page's items are its
//! dates, or, on a list without dates, its list rows that link somewhere new.

use std::collections::HashSet;

use serde_json::json;
use url::Url;

use super::{CheckContext, ParsedPage};
use crate::crawl::dates::{find_dates, newest_date};
use crate::crawl::links::Link;
use crate::crawl::profile::ColumnSpec;
use crate::model::Finding;

/// Link texts longer than a synonym by more than this many characters are not column links
/// (they are articles that mention the column's name).
const MAX_EXTRA_CHARS: usize = 6;

/// A required column and the home-page link found for it.
#[derive(Debug, Clone)]
pub struct FoundColumn {
    pub spec: ColumnSpec,
    pub url: Url,
    pub text: String,
}

/// Matches the unit's required columns against the home page's links. Returns the columns
/// found and a `column.missing` finding for each one that is not.
pub fn find(ctx: &CheckContext<'_>, home_url: &str, links: &[Link]) -> (Vec<FoundColumn>, Vec<Finding>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for spec in ctx.profile.columns_for(ctx.unit.kind) {
        match find_link(links, &spec.synonyms) {
            Some(link) => {
                found.push(FoundColumn { spec: spec.clone(), url: link.url.clone(), text: link.text.clone() })
            }
            None => missing.push(ctx.finding(
                "column.missing",
                Some(home_url),
                json!({ "column": spec.name, "synonyms": spec.synonyms, "cadence": spec.cadence.as_str() }),
            )),
        }
    }
    (found, missing)
}

/// The best link for a column: an exact synonym first, else a short text containing one.
pub fn find_link<'a>(links: &'a [Link], synonyms: &[String]) -> Option<&'a Link> {
    let cleaned: Vec<(String, &Link)> = links.iter().map(|l| (clean(&l.text), l)).collect();
    synonyms.iter().find_map(|s| cleaned.iter().find(|(text, _)| text == s).map(|(_, l)| *l)).or_else(|| {
        synonyms.iter().find_map(|s| {
            cleaned
                .iter()
                .find(|(text, _)| {
                    text.contains(s.as_str()) && text.chars().count() <= s.chars().count() + MAX_EXTRA_CHARS
                })
                .map(|(_, l)| *l)
        })
    })
}

/// Link text without spaces, arrows and "more" decorations.
fn clean(text: &str) -> String {
    text.replace("更多", "")
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '>' | '»' | '›' | '【' | '】' | '[' | ']' | '·' | '|'))
        .collect()
}

/// What fetching a column page gave.
pub enum ColumnPage<'a> {
    Parsed(&'a ParsedPage),
    /// The page answered with an error status or could not be fetched.
    Unavailable(String),
}

/// Judges one column page. `nav` holds the site's navigation targets (home page, columns,
/// section indexes): rows that only repeat the navigation are not items.
pub fn check(
    ctx: &CheckContext<'_>,
    column: &FoundColumn,
    page: ColumnPage<'_>,
    nav: &HashSet<Url>,
) -> Vec<Finding> {
    let url = column.url.as_str();
    let cadence = column.spec.cadence;
    let base = || json!({ "column": column.spec.name, "link_text": column.text, "url": url, "cadence": cadence.as_str() });
    let page = match page {
        ColumnPage::Parsed(page) => page,
        ColumnPage::Unavailable(reason) => {
            let mut detail = base();
            detail["reason"] = json!(reason);
            return vec![ctx.finding("column.empty", Some(url), detail)];
        }
    };
    let dated = find_dates(&page.text, ctx.as_of).len();
    let limit = i64::from(ctx.profile.cadence_days(cadence));
    match newest_date(&page.text, ctx.as_of) {
        Some(newest) => {
            let days = ctx.days_since(newest);
            if days <= limit {
                return Vec::new();
            }
            let mut detail = base();
            detail["newest"] = json!(newest.to_string());
            detail["days"] = json!(days);
            detail["limit_days"] = json!(limit);
            detail["items"] = json!(dated);
            vec![ctx.finding("column.stale", Some(url), detail)]
        }
        None => {
            let items = page
                .rows
                .iter()
                .filter(|row| row.links.iter().any(|l| !nav.contains(l) && *l != column.url))
                .count();
            let mut detail = base();
            detail["items"] = json!(items);
            if items == 0 {
                detail["reason"] = json!("栏目页没有列出任何信息");
                vec![ctx.finding("column.empty", Some(url), detail)]
            } else {
                detail["newest"] = json!(null);
                detail["limit_days"] = json!(limit);
                detail["reason"] = json!("栏目信息均无日期");
                vec![ctx.finding("column.stale", Some(url), detail)]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(text: &str, path: &str) -> Link {
        Link {
            url: Url::parse("http://x.gov.cn/").expect("url").join(path).expect("path"),
            text: text.to_owned(),
        }
    }

    #[test]
    fn exact_synonyms_win_over_longer_texts() {
        let links = vec![
            link("关于工作动态栏目调整的说明", "/a"),
            link("工作动态 >>", "/news/"),
            link("政务动态", "/gov/"),
        ];
        let synonyms = vec!["政务动态".to_owned(), "工作动态".to_owned()];
        assert_eq!(find_link(&links, &synonyms).map(|l| l.url.path()), Some("/gov/"));
        let synonyms = vec!["工作动态".to_owned()];
        assert_eq!(find_link(&links, &synonyms).map(|l| l.url.path()), Some("/news/"));
        assert!(find_link(&links[..1], &synonyms).is_none(), "an article title is not a column link");
    }
}
