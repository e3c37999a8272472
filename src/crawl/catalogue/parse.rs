//! Reading catalogue pages (DESIGN.md §5): the root's class links, and a class page's table —
//! columns found by their header text in any order and any subset — with its 下一页 link.
//! Synchronous on purpose: `scraper::Html` is not `Send` and never crosses an `.await`.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::NaiveDate;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::profile::{CatalogueProfile, Field};
use crate::crawl::dates::find_dates;
use crate::crawl::nesting::cap_nesting;
use crate::crawl::same_site::same_site;
use crate::model::{CatalogueEntry, OrgCode};

/// Cell text is cut to this many characters: a hostile page must not make one entry huge.
pub const MAX_CELL_CHARS: usize = 500;
/// Class links read from a root page, at most.
const MAX_ROOT_LINKS: usize = 5_000;
/// Rows read from one class page, at most.
const MAX_ROWS_PER_PAGE: usize = 2_000;

static ANCHORS: LazyLock<Selector> = LazyLock::new(|| Selector::parse("a[href]").expect("valid selector"));
static BASE: LazyLock<Selector> = LazyLock::new(|| Selector::parse("base[href]").expect("valid selector"));
static TABLES: LazyLock<Selector> = LazyLock::new(|| Selector::parse("table").expect("valid selector"));
static ROWS: LazyLock<Selector> = LazyLock::new(|| Selector::parse("tr").expect("valid selector"));

/// A class linked from the catalogue root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassLink {
    /// The class's link text, as the root shows it.
    pub name: String,
    /// The class page, resolved against the root.
    pub url: Url,
}

/// Who and when the entries of a page belong to.
#[derive(Debug, Clone, Copy)]
pub struct PageContext<'a> {
    /// The unit whose catalogue it is; its entries are recorded under it.
    pub unit: &'a OrgCode,
    /// The class the page belongs to.
    pub class: &'a str,
    /// The crawl's day, against which yearless dates are resolved.
    pub as_of: NaiveDate,
}

/// What one class page holds.
#[derive(Debug, Clone, Default)]
pub struct ClassPage {
    /// The entries read from the page's table.
    pub entries: Vec<CatalogueEntry>,
    /// The columns recognised in the header row, in page order (`None` for an unknown column).
    pub columns: Vec<Option<Field>>,
    /// A table with a recognisable header row was found.
    pub table_found: bool,
    /// The 下一页 target, when there is one and it is not this page.
    pub next: Option<Url>,
}

/// The classes of `wanted` linked from the root, each once, in `wanted` order. A link matches
/// a class when its text is the class name, possibly followed by a count such as `(12)`. Only
/// links on the root's own site (its registrable domain) count: a class link to another site
/// is never fetched (issue #11), and reads as the class missing.
pub fn find_classes(html: &str, page_url: &Url, wanted: &[String]) -> Vec<ClassLink> {
    let document = Html::parse_document(&cap_nesting(html).html);
    let base = base_url(&document, page_url);
    let links: Vec<(String, Url)> = document
        .select(&ANCHORS)
        .take(MAX_ROOT_LINKS)
        .filter_map(|a| {
            let url = base.join(a.value().attr("href")?.trim()).ok()?;
            let on_site = matches!(url.scheme(), "http" | "https") && same_site(&url, page_url);
            on_site.then(|| (compact(&cell_text(a)), url))
        })
        .collect();
    wanted
        .iter()
        .filter_map(|name| {
            let wanted = compact(name);
            let exact = links.iter().find(|(text, _)| *text == wanted);
            let counted = || {
                links.iter().find(|(text, _)| {
                    text.strip_prefix(wanted.as_str()).is_some_and(|rest| !rest.chars().any(is_cjk))
                })
            };
            exact.or_else(counted).map(|(_, url)| ClassLink { name: name.clone(), url: url.clone() })
        })
        .collect()
}

/// Reads one class page.
pub fn parse_class_page(
    html: &str,
    page_url: &Url,
    profile: &CatalogueProfile,
    ctx: PageContext<'_>,
) -> ClassPage {
    // Nested tables nest as deeply as divs: capped first, or the parse is quadratic (#11).
    let document = Html::parse_document(&cap_nesting(html).html);
    let base = base_url(&document, page_url);
    let mut page = ClassPage { next: next_link(&document, &base, page_url), ..ClassPage::default() };
    // Each table's own rows (not those of tables nested in it), gathered in one pass: selecting
    // the rows below every table costs the page's size once per level of nesting (#11).
    let mut own_rows: HashMap<_, Vec<ElementRef<'_>>> = HashMap::new();
    for tr in document.select(&ROWS) {
        if let Some(table) = nearest_table(tr) {
            own_rows.entry(table.id()).or_default().push(tr);
        }
    }
    for table in document.select(&TABLES) {
        let mut rows = own_rows.remove(&table.id()).unwrap_or_default().into_iter();
        let Some(columns) = rows.by_ref().find_map(|tr| header_columns(tr, profile)) else { continue };
        page.table_found = true;
        for tr in rows.take(MAX_ROWS_PER_PAGE) {
            if let Some(entry) = read_row(tr, &columns, &base, page_url, ctx) {
                page.entries.push(entry);
            }
        }
        page.columns = columns;
        break;
    }
    page
}

/// The header row's columns, if `tr` is a header row: it names the title column and at least
/// one other known column.
fn header_columns(tr: ElementRef<'_>, profile: &CatalogueProfile) -> Option<Vec<Option<Field>>> {
    let columns: Vec<Option<Field>> =
        cells(tr).map(|cell| profile.field_for_header(&cell_text(cell))).collect();
    let known = columns.iter().flatten().count();
    (columns.contains(&Some(Field::Title)) && known >= 2).then_some(columns)
}

fn read_row(
    tr: ElementRef<'_>,
    columns: &[Option<Field>],
    base: &Url,
    page_url: &Url,
    ctx: PageContext<'_>,
) -> Option<CatalogueEntry> {
    let cells: Vec<ElementRef<'_>> = cells(tr).collect();
    // A lone cell under a wider header is a message row (暂无信息) or pager, not an entry.
    if cells.is_empty() || (cells.len() == 1 && columns.len() > 1) {
        return None;
    }
    // A pager inside the table (共 5 页 | 上一页 | 下一页) is not an entry either.
    let is_pager = tr.select(&ANCHORS).any(|a| {
        let text = compact(&cell_text(a));
        text.contains("下一页") || text.contains("上一页")
    });
    if is_pager {
        return None;
    }
    let mut entry = CatalogueEntry {
        unit: ctx.unit.clone(),
        class: ctx.class.to_owned(),
        index_no: None,
        title: String::new(),
        publisher: None,
        created_on: None,
        doc_no: None,
        topic: None,
        genre: None,
        service: None,
        url: None,
    };
    let mut any_text = false;
    for (cell, field) in cells.iter().zip(columns) {
        let Some(field) = field else { continue };
        let mut text = cell_text(*cell);
        any_text |= !text.is_empty();
        if *field == Field::Title {
            if let Some(link) = cell.select(&ANCHORS).next() {
                entry.url = resolve(base, link.value().attr("href"));
                // Long titles are often cut on the page and given whole in the link's title.
                let full = link.value().attr("title").map(|t| collapse(t.split_whitespace()));
                if let Some(full) = full.filter(|f| !f.is_empty())
                    && (text.is_empty() || text.ends_with("...") || text.ends_with('…'))
                {
                    text = full;
                }
            }
            entry.title = text;
            continue;
        }
        let value = (!text.is_empty()).then_some(text);
        match field {
            Field::IndexNo => entry.index_no = value,
            Field::Publisher => entry.publisher = value,
            Field::CreatedOn => {
                entry.created_on = value.and_then(|v| find_dates(&v, ctx.as_of).into_iter().next());
            }
            Field::DocNo => entry.doc_no = value,
            Field::Topic => entry.topic = value,
            Field::Genre => entry.genre = value,
            Field::Service => entry.service = value,
            Field::Title => {}
        }
    }
    if !any_text {
        return None;
    }
    if entry.url.is_none() {
        entry.url = cells
            .iter()
            .find_map(|cell| cell.select(&ANCHORS).next())
            .and_then(|a| resolve(base, a.value().attr("href")))
            .or_else(|| Some(page_url.to_string()));
    }
    Some(entry)
}

fn resolve(base: &Url, href: Option<&str>) -> Option<String> {
    let url = base.join(href?.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// The 下一页 link's target, unless it leads back to this page, nowhere, or off the page's site
/// (issue #11: a 下一页 to another registrable domain is not followed).
fn next_link(document: &Html, base: &Url, page_url: &Url) -> Option<Url> {
    document
        .select(&ANCHORS)
        .filter(|a| compact(&cell_text(*a)).contains("下一页"))
        .filter_map(|a| base.join(a.value().attr("href")?.trim()).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https") && same_site(url, page_url))
        .find(|url| !same_page(url, page_url))
}

fn same_page(a: &Url, b: &Url) -> bool {
    let strip = |u: &Url| {
        let mut u = u.clone();
        u.set_fragment(None);
        u
    };
    strip(a) == strip(b)
}

/// The direct `td`/`th` children of a row.
fn cells<'a>(tr: ElementRef<'a>) -> impl Iterator<Item = ElementRef<'a>> {
    tr.children().filter_map(ElementRef::wrap).filter(|e| matches!(e.value().name(), "td" | "th"))
}

/// The id of the closest enclosing `table`, so rows of nested tables are not read twice.
fn nearest_table(tr: ElementRef<'_>) -> Option<ElementRef<'_>> {
    tr.ancestors().filter_map(ElementRef::wrap).find(|e| e.value().name() == "table")
}

fn base_url(document: &Html, page_url: &Url) -> Url {
    document
        .select(&BASE)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page_url.join(href.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .unwrap_or_else(|| page_url.clone())
}

/// An element's visible text, whitespace collapsed and cut to [`MAX_CELL_CHARS`].
fn cell_text(element: ElementRef<'_>) -> String {
    collapse(element.text().flat_map(str::split_whitespace))
}

fn collapse<'a>(words: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    let mut count = 0;
    for word in words {
        if count >= MAX_CELL_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
            count += 1;
        }
        for ch in word.chars().take(MAX_CELL_CHARS.saturating_sub(count)) {
            out.push(ch);
            count += 1;
        }
    }
    out
}

/// Text without any blanks, for comparing names.
fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::organisation_check_character;

    fn unit() -> OrgCode {
        let body = "00001434";
        let check = organisation_check_character(body).expect("digits");
        OrgCode::parse(&format!("{body}{check}")).expect("valid")
    }

    fn base() -> Url {
        Url::parse("http://gk.example.cn/xxgk/zcfg/index.html").expect("url")
    }

    fn ctx(unit: &OrgCode) -> PageContext<'_> {
        PageContext {
            unit, class: "政策法规", as_of: NaiveDate::from_ymd_opt(2026, 11, 28).expect("date")
        }
    }

    #[test]
    fn classes_are_found_by_link_text_with_or_without_counts() {
        let html = r#"<ul><li><a href="jgzn/">机构职能</a></li><li><a href="/x/zcfg.html"> 政策 法规 (12)</a></li>
            <li><a href="qt/">其他新闻</a></li></ul>"#;
        let wanted: Vec<String> = ["机构职能", "政策法规", "其他"].map(String::from).to_vec();
        let found = find_classes(html, &base(), &wanted);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].url.as_str(), "http://gk.example.cn/xxgk/zcfg/jgzn/");
        assert_eq!(found[1].name, "政策法规");
        assert_eq!(found[1].url.as_str(), "http://gk.example.cn/x/zcfg.html");
    }

    #[test]
    fn a_catalogue_inside_100000_nested_tables_is_still_read() {
        let profile = CatalogueProfile::builtin().expect("profile");
        let unit = unit();
        let depth = 100_000;
        let html = format!(
            "{}<table><tr><th>标题</th><th>发布日期</th></tr>\
             <tr><td><a href=\"/doc/1.html\">深处的文件</a></td><td>2026-03-05</td></tr></table>{}",
            "<table><tr><td>".repeat(depth),
            "</td></tr></table>".repeat(depth)
        );
        let page = parse_class_page(&html, &base(), &profile, ctx(&unit));
        assert!(page.table_found);
        assert_eq!(page.entries.len(), 1);
        assert_eq!(page.entries[0].title, "深处的文件");
        assert_eq!(page.entries[0].url.as_deref(), Some("http://gk.example.cn/doc/1.html"));
    }

    #[test]
    fn columns_in_any_order_and_subset_are_read() {
        let profile = CatalogueProfile::builtin().expect("profile");
        let unit = unit();
        let html = r#"<table><tr><td>导航</td></tr></table>
            <table class="list"><tr><th>序号</th><th>发布日期</th><th>标题</th><th>索 引 号</th></tr>
            <tr><td>1</td><td>2026年3月5日</td><td><a href="/doc/1.html" title="关于印发某某办法的通知全文">关于印发某某...</a></td><td>X/2026-00001</td></tr>
            <tr><td colspan="4">暂无更多信息</td></tr>
            <tr><td>2</td><td></td><td>无链接条目</td><td></td></tr>
            <tr><td>共 3 页</td><td><a href="?page=0">上一页</a></td><td><a href="?page=2">下一页</a></td><td></td></tr>
            </table><a href="?page=2">下一页</a>"#;
        let page = parse_class_page(html, &base(), &profile, ctx(&unit));
        assert!(page.table_found);
        assert_eq!(page.columns, [None, Some(Field::CreatedOn), Some(Field::Title), Some(Field::IndexNo)]);
        assert_eq!(page.entries.len(), 2);
        let first = &page.entries[0];
        assert_eq!(first.title, "关于印发某某办法的通知全文");
        assert_eq!(first.index_no.as_deref(), Some("X/2026-00001"));
        assert_eq!(first.created_on, NaiveDate::from_ymd_opt(2026, 3, 5));
        assert_eq!(first.url.as_deref(), Some("http://gk.example.cn/doc/1.html"));
        assert_eq!(first.publisher, None);
        let second = &page.entries[1];
        assert_eq!(second.index_no, None);
        assert_eq!(second.created_on, None);
        assert_eq!(second.url.as_deref(), Some(base().as_str()));
        assert_eq!(
            page.next.map(|u| u.to_string()).as_deref(),
            Some("http://gk.example.cn/xxgk/zcfg/index.html?page=2")
        );
    }

    #[test]
    fn a_page_without_a_catalogue_table_has_no_entries() {
        let profile = CatalogueProfile::builtin().expect("profile");
        let unit = unit();
        let page =
            parse_class_page("<p>建设中</p><a href='index.html'>下一页</a>", &base(), &profile, ctx(&unit));
        assert!(!page.table_found);
        assert!(page.entries.is_empty());
        assert_eq!(page.next, None, "a 下一页 link to the page itself is not followed");
    }

    #[test]
    fn off_site_classes_and_next_pages_are_not_followed() {
        let html = r#"<a href="http://evil.example.com/jgzn/">机构职能</a><a href="http://www.example.cn/zcfg/">政策法规</a>
            <a href="http://gk.example.cn/x/zcfg.html">政策法规</a><a href="/ghjh/">规划计划</a>"#;
        let wanted = ["机构职能", "政策法规", "规划计划"].map(String::from);
        let found: Vec<(String, String)> =
            find_classes(html, &base(), &wanted).into_iter().map(|c| (c.name, c.url.to_string())).collect();
        assert_eq!(
            found,
            [
                ("政策法规".to_owned(), "http://www.example.cn/zcfg/".to_owned()),
                ("规划计划".to_owned(), "http://gk.example.cn/ghjh/".to_owned()),
            ],
            "a class on another registrable domain is not a class of this catalogue"
        );
        let profile = CatalogueProfile::builtin().expect("profile");
        let unit = unit();
        let next = |href: &str| {
            parse_class_page(&format!("<a href='{href}'>下一页</a>"), &base(), &profile, ctx(&unit)).next
        };
        assert_eq!(next("http://evil.example.com/p2.html"), None);
        assert_eq!(next("//evil.example.com/p2.html"), None);
        assert_eq!(
            next("http://xxgk.example.cn/p2.html").map(String::from),
            Some("http://xxgk.example.cn/p2.html".into())
        );
        // An off-site 下一页 does not hide an on-site one after it.
        let html = "<a href='http://evil.example.com/p2'>下一页</a><a href='?page=2'>下一页</a>";
        let page = parse_class_page(html, &base(), &profile, ctx(&unit));
        assert_eq!(
            page.next.map(String::from).as_deref(),
            Some("http://gk.example.cn/xxgk/zcfg/index.html?page=2")
        );
    }
}
