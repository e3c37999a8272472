//! Links on a page, with the text a reader sees: columns are found by link text (DESIGN.md §5)
//! and the frontier is fed from the targets.

use std::sync::LazyLock;

use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::crawl::nesting::cap_nesting;

/// Link text is cut to this many characters: column names are short, and a hostile page must
/// not make every link carry a megabyte of text.
const MAX_TEXT_CHARS: usize = 200;

/// A link target and its visible text (whitespace collapsed; for an image link, the image's
/// `alt`, or else the link's `title`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The target, resolved against the page.
    pub url: Url,
    /// The visible text, at most 200 characters.
    pub text: String,
}

// The selectors are constants; parsing them cannot fail at run time once a test has run them.
static ANCHORS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("a[href], area[href]").expect("valid selector"));
static BASE: LazyLock<Selector> = LazyLock::new(|| Selector::parse("base[href]").expect("valid selector"));
static IMAGES: LazyLock<Selector> = LazyLock::new(|| Selector::parse("img[alt]").expect("valid selector"));

/// Extracts the http(s) links of an HTML document, resolved against `<base href>` if present,
/// else against `base` (the page's final URL). Links that do not resolve, and `javascript:`,
/// `mailto:` and the like, are skipped. Synchronous on purpose: `scraper::Html` is not `Send`
/// and must never be held across an `.await`.
pub fn extract_links(html: &str, base: &Url) -> Vec<Link> {
    let capped = cap_nesting(html);
    links_in(&Html::parse_document(&capped.html), base)
}

/// [`extract_links`] over a document already parsed (with its nesting capped): the page checks
/// parse a page once and take its links from the same tree.
pub fn links_in(document: &Html, base: &Url) -> Vec<Link> {
    let base = document
        .select(&BASE)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| base.join(href.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .unwrap_or_else(|| base.clone());
    document
        .select(&ANCHORS)
        .filter_map(|element| {
            let href = element.value().attr("href")?.trim();
            let url = base.join(href).ok()?;
            matches!(url.scheme(), "http" | "https").then(|| Link { url, text: link_text(element) })
        })
        .collect()
}

fn link_text(element: ElementRef<'_>) -> String {
    let mut text = collapse(element.text());
    if text.is_empty() {
        let alt = element.select(&IMAGES).filter_map(|img| img.value().attr("alt"));
        text = collapse(alt);
    }
    if text.is_empty() {
        text = collapse(element.value().attr("title"));
    }
    text
}

/// Joins text pieces with single spaces, trimmed and cut to [`MAX_TEXT_CHARS`].
fn collapse<'a>(pieces: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    let mut count = 0;
    for word in pieces.into_iter().flat_map(str::split_whitespace) {
        if count >= MAX_TEXT_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
            count += 1;
        }
        for ch in word.chars().take(MAX_TEXT_CHARS.saturating_sub(count)) {
            out.push(ch);
            count += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("http://www.nanning.gov.cn/xxgk/index.html").expect("test url")
    }

    #[test]
    fn links_resolve_and_carry_their_text() {
        let html = r#"<ul><li><a href="gzdt/">  工作
            动态 </a></li><li><a href="/zcfg/list.html#top">政策法规</a></li>
            <li><a href="javascript:void(0)">打印</a><a href="mailto:gk@nanning.gov.cn">信箱</a></li>
            <li><a href="http://other.gov.cn/"><img src="x.png" alt="上级网站"></a></li></ul>"#;
        let links = extract_links(html, &page());
        let found: Vec<(&str, &str)> = links.iter().map(|l| (l.url.as_str(), l.text.as_str())).collect();
        assert_eq!(
            found,
            [
                ("http://www.nanning.gov.cn/xxgk/gzdt/", "工作 动态"),
                ("http://www.nanning.gov.cn/zcfg/list.html#top", "政策法规"),
                ("http://other.gov.cn/", "上级网站"),
            ]
        );
    }

    #[test]
    fn base_href_is_honoured_and_broken_markup_is_survived() {
        let html = r#"<html><head><base href="http://www.nanning.gov.cn/root/"></head><body>
            <a href="a.html">甲<a href="b.html" title="乙"></a><div><a href="http://[bad/">坏</a>"#;
        let links = extract_links(html, &page());
        let urls: Vec<&str> = links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(urls, ["http://www.nanning.gov.cn/root/a.html", "http://www.nanning.gov.cn/root/b.html"]);
        assert_eq!(links[1].text, "乙");
    }

    #[test]
    fn link_text_is_bounded() {
        let html = format!("<a href=\"/x\">{}</a>", "长".repeat(10_000));
        let links = extract_links(&html, &page());
        assert_eq!(links[0].text.chars().count(), MAX_TEXT_CHARS);
    }
}
