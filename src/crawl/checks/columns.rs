//! `column.missing`, `column.empty`, `column.stale`. Columns are found by link text, matched
//! against the profile's synonyms (DESIGN.md §5), where real sites put them: on the home page,
//! on the disclosure section's landing page (政府信息公开 / 政务公开…), and on the pages its
//! blocks' “更多” links lead to — such a page whose title names a column is that column. A
//! column page's items are its dates, or, on a list without dates, its list rows that link
//! somewhere new. Columns whose cadence is `none` (the disclosure guide, the application
//! channel) must only be there. Every finding lists the pages searched, so a unit can see
//! where the program looked.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde_json::json;
use url::Url;

use super::page::Row;
use super::{CheckContext, ParsedPage};
use crate::crawl::dates::{find_dates, newest_date};
use crate::crawl::links::Link;
use crate::crawl::profile::{ColumnSearch, ColumnSpec};
use crate::model::Finding;
use crate::model::check::{COLUMN_EMPTY, COLUMN_MISSING, COLUMN_STALE};

/// Link texts longer than a synonym by more than this many characters are not column links
/// (they are articles that mention the column's name).
const MAX_EXTRA_CHARS: usize = 6;

/// Characters that separate a page title's parts (`规划计划 - 某某局`, `某某局_通知公告`).
const TITLE_SEPARATORS: [char; 12] = ['-', '_', '|', '—', '–', '·', '－', '｜', '>', '＞', '»', '›'];

/// Script blocks holding a list's records as data, rendered by the browser (大汉 Hanweb's
/// `<script type="text/xml"><datastore>…`): their records are the column's items.
const RECORD_STORES: [&str; 2] = ["<datastore", "<recordset"];

/// A required column and the link (or page) found for it.
#[derive(Debug, Clone)]
pub struct FoundColumn {
    /// The column as the profile requires it.
    pub spec: ColumnSpec,
    /// The column's page, resolved.
    pub url: Url,
    /// The link text, or the page title when the column was recognised by its title.
    pub text: String,
    /// The page the column was found on.
    pub found_on: String,
}

/// A page looked at for column links.
#[derive(Debug, Clone, Copy)]
pub struct SearchedPage<'a> {
    /// The page's URL, against which its links were resolved.
    pub url: &'a Url,
    /// The page's `<title>`, which may name a column on a “more” page.
    pub title: &'a str,
    /// The page's links with their texts.
    pub links: &'a [Link],
    /// Reached through a block's “more” link: the page may itself be the column its title
    /// names.
    pub via_more: bool,
}

/// Where the columns were looked for: the pages read (in order) and those that could not be.
#[derive(Debug, Clone, Default)]
pub struct Searched {
    /// URLs of the pages searched, in order.
    pub pages: Vec<String>,
    /// `(url, reason)` of pages that were to be searched but could not be read.
    pub unreadable: Vec<(String, String)>,
}

impl Searched {
    fn annotate(&self, detail: &mut serde_json::Value) {
        detail["searched"] = json!(self.pages);
        if !self.unreadable.is_empty() {
            detail["unreadable"] = json!(
                self.unreadable
                    .iter()
                    .map(|(url, reason)| json!({ "url": url, "reason": reason }))
                    .collect::<Vec<_>>()
            );
        }
    }
}

/// Matches the unit's required columns against the searched pages, in order: links on every
/// page first, then the titles of pages reached by “more” links. Returns the columns found and
/// a `column.missing` finding for each one that is not.
pub fn find(
    ctx: &CheckContext<'_>,
    home_url: &str,
    pages: &[SearchedPage<'_>],
    searched: &Searched,
) -> (Vec<FoundColumn>, Vec<Finding>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for spec in ctx.profile.columns_for(ctx.unit.kind) {
        let by_link = pages.iter().find_map(|page| {
            find_column_link(page.links, spec).map(|link| FoundColumn {
                spec: spec.clone(),
                url: link.url.clone(),
                text: link.text.clone(),
                found_on: page.url.to_string(),
            })
        });
        let by_title = || {
            pages.iter().filter(|p| p.via_more && title_names(p.title, spec)).map(|page| FoundColumn {
                spec: spec.clone(),
                url: page.url.clone(),
                text: page.title.to_owned(),
                found_on: page.url.to_string(),
            })
        };
        match by_link.or_else(|| by_title().next()) {
            Some(column) => found.push(column),
            None => {
                let mut detail = json!({ "column": spec.name, "synonyms": spec.synonyms, "cadence": spec.cadence.as_str() });
                searched.annotate(&mut detail);
                missing.push(ctx.finding(&COLUMN_MISSING, Some(home_url), detail));
            }
        }
    }
    (found, missing)
}

/// The link to the disclosure section's landing page among the home page's links.
pub fn landing_link<'a>(links: &'a [Link], search: &ColumnSearch) -> Option<&'a Link> {
    let allowed =
        links.iter().filter(|l| !search.landing_exclude.iter().any(|w| l.text.contains(w.as_str())));
    best_match(allowed, &search.landing)
}

/// Targets of the “more” links of a page's blocks, in page order, without duplicates, leaving
/// out the pages in `skip`; at most `max`.
pub fn more_links<'a>(
    links: impl IntoIterator<Item = &'a Link>,
    search: &ColumnSearch,
    skip: &[&'a Url],
    max: usize,
) -> Vec<Url> {
    let words: Vec<String> = search.more.iter().map(|w| bare(w)).collect();
    let mut seen: HashSet<&Url> = skip.iter().copied().collect();
    let mut out = Vec::new();
    for link in links {
        if out.len() >= max {
            break;
        }
        if words.contains(&bare(&link.text)) && seen.insert(&link.url) {
            out.push(link.url.clone());
        }
    }
    out
}

/// The link for a column: [`find_link`] over the links whose text names none of the column's
/// exclusions.
pub fn find_column_link<'a>(links: &'a [Link], spec: &ColumnSpec) -> Option<&'a Link> {
    let allowed = links.iter().filter(|l| !spec.exclude.iter().any(|w| l.text.contains(w.as_str())));
    best_match(allowed, &spec.synonyms)
}

/// The best link for a column: an exact synonym first, else a short text containing one.
pub fn find_link<'a>(links: &'a [Link], synonyms: &[String]) -> Option<&'a Link> {
    best_match(links.iter(), synonyms)
}

fn best_match<'a>(links: impl Iterator<Item = &'a Link>, synonyms: &[String]) -> Option<&'a Link> {
    let cleaned: Vec<(String, &Link)> = links.map(|l| (clean(&l.text), l)).collect();
    synonyms.iter().find_map(|s| cleaned.iter().find(|(text, _)| text == s).map(|(_, l)| *l)).or_else(|| {
        synonyms.iter().find_map(|s| cleaned.iter().find(|(text, _)| names(text, s)).map(|(_, l)| *l))
    })
}

/// Whether a link text is one of the synonyms, or a short text containing one.
pub fn is_named(text: &str, synonyms: &[String]) -> bool {
    let text = clean(text);
    synonyms.iter().any(|s| text == *s || names(&text, s))
}

/// Whether a short text contains the synonym (a longer one is an article title).
fn names(text: &str, synonym: &str) -> bool {
    text.contains(synonym) && text.chars().count() <= synonym.chars().count() + MAX_EXTRA_CHARS
}

/// Whether one part of a page title names the column.
fn title_names(title: &str, spec: &ColumnSpec) -> bool {
    title.split(TITLE_SEPARATORS).map(clean).any(|part| {
        !part.is_empty()
            && !spec.exclude.iter().any(|w| part.contains(w.as_str()))
            && spec.synonyms.iter().any(|s| part == *s || names(&part, s))
    })
}

/// Link text without spaces, arrows and "more" decorations.
fn clean(text: &str) -> String {
    text.replace("更多", "")
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '>' | '»' | '›' | '【' | '】' | '[' | ']' | '·' | '|'))
        .collect()
}

/// A “more” link's text reduced to its word: no spaces, brackets, arrows or plus signs, lower
/// case (`[更多>>]`, `MORE +` → `更多`, `more`).
fn bare(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '>' | '<'
                        | '»'
                        | '«'
                        | '›'
                        | '‹'
                        | '＞'
                        | '《'
                        | '》'
                        | '+'
                        | '＋'
                        | '【'
                        | '】'
                        | '['
                        | ']'
                        | '('
                        | ')'
                        | '（'
                        | '）'
                        | '…'
                        | '.'
                        | '·'
                        | '|'
                )
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The newest date of the page's items, and how many dated items there are: rows (list items,
/// table rows) that link somewhere new and carry a date. Dates outside the items — the
/// server's “今天是 2026年11月20日” in the header, a footer's “最后更新” — are not the column's.
/// `None` when no row is a dated item (a list laid out without rows is read as text).
fn newest_item(
    page: &ParsedPage,
    column: &FoundColumn,
    nav: &HashSet<Url>,
    as_of: NaiveDate,
) -> Option<(Option<NaiveDate>, usize)> {
    let newest =
        item_dates(page, as_of, |row| row.links.iter().any(|l| !nav.contains(l) && *l != column.url));
    let count = newest.len();
    newest.into_iter().max().map(|newest| (Some(newest), count))
}

/// One date per item of a page: the newest date up to the as-of day of each dated row (list
/// item, table row) that `is_item` accepts and that is not a layout wrapper. Dates outside the
/// items — the server's clock in the banner, a footer's “最后更新” — are left out.
pub fn item_dates(page: &ParsedPage, as_of: NaiveDate, is_item: impl Fn(&Row) -> bool) -> Vec<NaiveDate> {
    let dated = dated_rows(page, as_of);
    dated
        .iter()
        .filter(|row| is_item(row) && !wraps(row, &dated))
        .filter_map(|row| find_dates(&row.text, as_of).into_iter().filter(|d| *d <= as_of).max())
        .collect()
}

/// The page's rows that carry a date up to the as-of day.
pub fn dated_rows(page: &ParsedPage, as_of: NaiveDate) -> Vec<&Row> {
    page.rows.iter().filter(|r| find_dates(&r.text, as_of).iter().any(|d| *d <= as_of)).collect()
}

/// A row whose text holds two or more other dated rows is a layout wrapper, not an item: its
/// dates and words belong to different items.
pub fn wraps(row: &Row, dated: &[&Row]) -> bool {
    dated
        .iter()
        .filter(|other| other.text.len() < row.text.len() && row.text.contains(other.text.as_str()))
        .count()
        >= 2
}

/// The page's visible text, and the records of any script-held list (see [`RECORD_STORES`]).
fn listed_text(page: &ParsedPage) -> std::borrow::Cow<'_, str> {
    let stores: Vec<&str> = page
        .scripts
        .iter()
        .filter(|s| RECORD_STORES.iter().any(|m| s.contains(m)))
        .map(String::as_str)
        .collect();
    if stores.is_empty() {
        return std::borrow::Cow::Borrowed(&page.text);
    }
    let mut text = page.text.clone();
    for store in stores {
        text.push(' ');
        text.push_str(store);
    }
    std::borrow::Cow::Owned(text)
}

/// What fetching a column page gave.
pub enum ColumnPage<'a> {
    /// The column page, parsed.
    Parsed(&'a ParsedPage),
    /// The page answered with an error status or could not be fetched.
    Unavailable(String),
}

/// Judges one column page. `nav` holds the site's navigation targets (home page, columns,
/// section indexes): rows that only repeat the navigation are not items. A column that must
/// only be there (cadence `none`) is never judged.
pub fn check(
    ctx: &CheckContext<'_>,
    column: &FoundColumn,
    page: ColumnPage<'_>,
    nav: &HashSet<Url>,
    searched: &Searched,
) -> Vec<Finding> {
    let cadence = column.spec.cadence;
    if !cadence.judges_content() {
        return Vec::new();
    }
    let url = column.url.as_str();
    let base = || {
        let mut detail = json!({ "column": column.spec.name, "link_text": column.text, "url": url,
                                 "cadence": cadence.as_str(), "found_on": column.found_on });
        searched.annotate(&mut detail);
        detail
    };
    let page = match page {
        ColumnPage::Parsed(page) => page,
        ColumnPage::Unavailable(reason) => {
            let mut detail = base();
            detail["reason"] = json!(reason);
            return vec![ctx.finding(&COLUMN_EMPTY, Some(url), detail)];
        }
    };
    let (newest, dated) = match newest_item(page, column, nav, ctx.as_of) {
        Some(found) => found,
        None => {
            let text = listed_text(page);
            (newest_date(&text, ctx.as_of), find_dates(&text, ctx.as_of).len())
        }
    };
    let limit = i64::from(ctx.profile.cadence_days(cadence));
    match newest {
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
            vec![ctx.finding(&COLUMN_STALE, Some(url), detail)]
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
                vec![ctx.finding(&COLUMN_EMPTY, Some(url), detail)]
            } else {
                detail["newest"] = json!(null);
                detail["limit_days"] = json!(limit);
                detail["reason"] = json!("栏目信息均无日期");
                vec![ctx.finding(&COLUMN_STALE, Some(url), detail)]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crawl::profile::Cadence;

    fn link(text: &str, path: &str) -> Link {
        Link {
            url: Url::parse("http://x.gov.cn/").expect("url").join(path).expect("path"),
            text: text.to_owned(),
        }
    }

    fn spec(synonyms: &[&str], exclude: &[&str]) -> ColumnSpec {
        ColumnSpec {
            name: synonyms[0].to_owned(),
            synonyms: synonyms.iter().map(|s| (*s).to_owned()).collect(),
            cadence: Cadence::PresenceOnly,
            exclude: exclude.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn search() -> ColumnSearch {
        ColumnSearch {
            landing: vec!["政府信息公开".into(), "政务公开".into(), "信息公开".into()],
            landing_exclude: vec!["指南".into(), "年报".into()],
            more: vec!["更多".into(), "more".into()],
            max_more_pages: 3,
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

    #[test]
    fn excluded_words_keep_a_neighbouring_column_out() {
        let guide = spec(&["政府信息公开指南", "公开指南"], &["依申请"]);
        let links = vec![link("依申请公开指南", "/ysq/")];
        assert!(find_column_link(&links, &guide).is_none(), "the application guide is not the guide");
        let links = vec![link("依申请公开指南", "/ysq/"), link("公开指南", "/zn/")];
        assert_eq!(find_column_link(&links, &guide).map(|l| l.url.path()), Some("/zn/"));
        assert!(title_names("公开指南 - 南宁市测试局", &guide));
        assert!(!title_names("依申请公开指南_南宁市测试局", &guide));
        assert!(!title_names("南宁市测试局关于公开指南修订工作的情况说明", &guide));
    }

    #[test]
    fn the_landing_page_is_not_a_guide_or_a_report_and_more_links_are_bare_words() {
        let links = vec![
            link("政府信息公开指南", "/zn/"),
            link("政府信息公开年报", "/nb/"),
            link("政务公开", "/zwgk/"),
        ];
        assert_eq!(landing_link(&links, &search()).map(|l| l.url.path()), Some("/zwgk/"));
        assert!(landing_link(&links[..2], &search()).is_none());

        let home = Url::parse("http://x.gov.cn/zwgk/").expect("url");
        let links = vec![
            link("更多>>", "/a/"),
            link("[更多]", "/a/"),
            link("MORE +", "/b/"),
            link("更多", "/zwgk/"),
            link("更多精彩活动报名", "/c/"),
            link("more", "/d/"),
            link("更多", "/e/"),
        ];
        let more = more_links(&links, &search(), &[&home], 3);
        let paths: Vec<&str> = more.iter().map(Url::path).collect();
        assert_eq!(paths, ["/a/", "/b/", "/d/"]);
    }
}
