//! One fetched HTML page reduced to what the checks look at. Parsing happens here, in one
//! synchronous function, because `scraper::Html` is not `Send`; the result is plain owned data
//! that can cross `.await` points and be kept after the document is dropped.

use std::sync::LazyLock;

use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use crate::crawl::links::{Link, links_in};
use crate::crawl::nesting::cap_nesting;

/// Text kept per page at most (characters): enough for any real page, bounded for hostile ones.
const MAX_TEXT_CHARS: usize = 200_000;
/// Script text kept per page at most.
const MAX_SCRIPT_CHARS: usize = 64_000;
/// Rows (list items, table rows) kept per page at most.
const MAX_ROWS: usize = 500;
/// Text blocks kept per page at most, and characters per block.
const MAX_BLOCKS: usize = 2_000;
const MAX_BLOCK_CHARS: usize = 5_000;
/// Headings kept per page at most, and characters per heading: a longer "title" is a container.
const MAX_HEADINGS: usize = 20;
const MAX_HEADING_CHARS: usize = 200;
/// Nodes of one element's subtree read at most for its text or links (rows, headings, the
/// masthead): a real row or heading has far fewer, while a hostile page nests the whole
/// document inside each of hundreds of them (#11).
const MAX_SUBTREE_NODES: usize = 20_000;

/// Elements that start and end a run of text (a block); `br` ends one too.
const BLOCK_ELEMENTS: [&str; 40] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "br",
    "caption",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "option",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
];
/// Elements whose text no reader sees as text.
const CODE_ELEMENTS: [&str; 7] = ["script", "style", "noscript", "template", "title", "textarea", "head"];

static TITLE: LazyLock<Selector> = LazyLock::new(|| sel("title"));
static HEADINGS: LazyLock<Selector> =
    LazyLock::new(|| sel("h1, h2, header, .header, #header, .logo, #logo, .top, #top"));
static ATTRS: LazyLock<Selector> = LazyLock::new(|| sel("img, a[href], area[href], input[value]"));
static HIDEABLE: LazyLock<Selector> = LazyLock::new(|| sel("a[href], iframe[src], frame[src]"));
static SCRIPTS: LazyLock<Selector> = LazyLock::new(|| sel("script"));
static META_REFRESH: LazyLock<Selector> = LazyLock::new(|| sel("meta[http-equiv]"));
static ROW_LINKS: LazyLock<Selector> = LazyLock::new(|| sel("a[href]"));
static ANCHOR: LazyLock<Selector> = LazyLock::new(|| sel("a"));
static FRAMESET: LazyLock<Selector> = LazyLock::new(|| sel("frameset frame[src]"));

fn sel(text: &str) -> Selector {
    // Constant selectors; the unit tests parse every one of them.
    Selector::parse(text).expect("valid selector")
}

/// Thresholds for "hidden" that come from the crawl profile.
#[derive(Debug, Clone, Copy)]
pub struct HiddenRules {
    /// Text in a font at or below this many pixels is hidden.
    pub tiny_font_px: u32,
    /// Content moved further than this many pixels off the page is hidden.
    pub offscreen_px: u32,
}

/// A link or frame a reader cannot see, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenTarget {
    /// Where the hidden link or frame points, resolved against the page.
    pub url: Url,
    /// `link` or `iframe`.
    pub element: &'static str,
    /// The CSS or attribute that hides it, quoted.
    pub technique: String,
    /// The link's visible text, whitespace collapsed, cut to 60 characters.
    pub text: String,
}

/// A list item or table row: where list pages put their items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The row's text, whitespace collapsed.
    pub text: String,
    /// The row's links, resolved, in order.
    pub links: Vec<Url>,
}

/// A run of visible text between block boundaries (`p`, `div`, `td`, `br` …), outside links,
/// headings and the title: where an article's paragraphs are, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The block's text, whitespace collapsed.
    pub text: String,
    /// 1-based number among the page's paragraphs: its `<p>` blocks when it has any (then other
    /// blocks have none), else every block.
    pub paragraph: Option<usize>,
}

/// One fetched HTML page reduced to what the checks look at (see the module comment).
#[derive(Debug, Clone, Default)]
pub struct ParsedPage {
    /// The `<title>`, whitespace collapsed.
    pub title: String,
    /// All text outside scripts and styles, whitespace collapsed.
    pub text: String,
    /// Title, header and image descriptions: where a site shows whose site it is.
    pub masthead: String,
    /// Image alt/title/src, link targets, input values: where footer badges hide their text.
    pub attr_text: String,
    /// Every link on the page with its visible text, resolved.
    pub links: Vec<Link>,
    /// Links and frames hidden from readers (for the spam checks).
    pub hidden: Vec<HiddenTarget>,
    /// Inline script texts, 64,000 characters at most over the page.
    pub scripts: Vec<String>,
    /// Target of a `<meta http-equiv="refresh">`, resolved.
    pub meta_refresh: Option<Url>,
    /// List items and table rows, 500 at most: where list pages put their items and dates.
    pub rows: Vec<Row>,
    /// `h1`–`h6` and short elements whose class or id names a title (`.title`, `#article-title`),
    /// without links, in document order.
    pub headings: Vec<String>,
    /// Text blocks in document order (see [`Block`]).
    pub blocks: Vec<Block>,
    /// Start tags dropped because the page nests elements deeper than a browser does (see
    /// [`crate::crawl::nesting`]); their text was kept, flattened into the enclosing element.
    pub flattened: usize,
    /// Targets of the page's `<frameset>` frames (not inline `<iframe>`s), resolved, in order.
    pub frameset: Vec<Url>,
}

/// Parses `html` fetched from `url`.
pub fn parse_page(html: &str, url: &Url, rules: HiddenRules) -> ParsedPage {
    let capped = cap_nesting(html);
    let document = Html::parse_document(&capped.html);
    let title = document.select(&TITLE).next().map(|t| collapse(t.text())).unwrap_or_default();
    let mut page = ParsedPage { title, flattened: capped.dropped, ..ParsedPage::default() };
    (page.text, page.hidden) = text_and_hidden(&document, url, rules);
    (page.headings, page.blocks) = headings_and_blocks(&document);
    let mut masthead = page.title.clone();
    for element in document.select(&HEADINGS) {
        if masthead.len() < 4_000 * 3 {
            push_capped(&mut masthead, &collapse(subtree_text(element)), 4_000);
        }
    }
    let mut attr_text = String::new();
    for element in document.select(&ATTRS) {
        for name in ["alt", "title", "src", "href", "value"] {
            if let Some(value) = element.value().attr(name) {
                push_capped(&mut attr_text, value, MAX_TEXT_CHARS);
                if name == "alt" && element.value().name() == "img" {
                    push_capped(&mut masthead, value, 8_000);
                }
            }
        }
    }
    page.masthead = masthead;
    page.attr_text = attr_text;
    page.links = links_in(&document, url);
    page.frameset = document
        .select(&FRAMESET)
        .filter_map(|frame| url.join(frame.value().attr("src")?.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .take(MAX_ROWS)
        .collect();
    let mut script_chars = 0;
    for script in document.select(&SCRIPTS) {
        let text: String = script.text().collect();
        if text.trim().is_empty() || script_chars >= MAX_SCRIPT_CHARS {
            continue;
        }
        let text = truncate(&text, MAX_SCRIPT_CHARS - script_chars);
        script_chars += text.chars().count();
        page.scripts.push(text);
    }
    page.meta_refresh = document
        .select(&META_REFRESH)
        .filter(|m| m.value().attr("http-equiv").is_some_and(|v| v.trim().eq_ignore_ascii_case("refresh")))
        .find_map(|m| refresh_target(m.value().attr("content")?, url));
    page.rows = rows(&document, url);
    page
}

/// Characters of a row's text kept.
const MAX_ROW_CHARS: usize = 500;

/// The first [`MAX_ROWS`] list items and table rows, with their text (cut to
/// [`MAX_ROW_CHARS`]) and links, in one walk of the tree: rows nest (a layout table's row holds
/// the whole page), and reading each row's subtree apart costs the page once per level (#11).
fn rows(document: &Html, url: &Url) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    // Rows among the current node's ancestors, and those of them whose text is not yet full.
    let (mut open, mut filling): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    // A node to enter, or (with the row's index) a row to leave.
    let mut stack = vec![(document.tree.root(), None)];
    while let Some((node, leaving)) = stack.pop() {
        if let Some(index) = leaving {
            open.pop();
            filling.retain(|&i| i != index);
            continue;
        }
        match node.value() {
            Node::Text(chunk) if !filling.is_empty() => {
                let words: Vec<&str> = chunk.split_whitespace().collect();
                if !words.is_empty() {
                    // Enough bytes for more than MAX_ROW_CHARS characters, so the cut is marked.
                    filling.retain(|&i| {
                        let text = &mut rows[i].text;
                        for word in &words {
                            if !text.is_empty() {
                                text.push(' ');
                            }
                            text.push_str(word);
                        }
                        text.len() <= 4 * (MAX_ROW_CHARS + 1)
                    });
                }
            }
            Node::Element(element) => {
                if matches!(element.name(), "li" | "tr" | "dd") && rows.len() < MAX_ROWS {
                    open.push(rows.len());
                    filling.push(rows.len());
                    stack.push((node, Some(rows.len())));
                    rows.push(Row { text: String::new(), links: Vec::new() });
                } else if !open.is_empty()
                    && let Some(element) = ElementRef::wrap(node).filter(|a| ROW_LINKS.matches(a))
                    && let Some(target) = element.value().attr("href").and_then(|h| url.join(h.trim()).ok())
                {
                    for &i in &open {
                        rows[i].links.push(target.clone());
                    }
                }
            }
            _ => {}
        }
        stack.extend(node.children().rev().map(|child| (child, None)));
    }
    for row in &mut rows {
        row.text = truncate(&row.text, MAX_ROW_CHARS);
    }
    rows
}

/// Text of every text node outside `script`, `style`, `noscript` and `template`, and the links
/// and frames a reader cannot see, in one walk of the tree that carries what ancestors decide
/// (inside code; the nearest hiding declaration) instead of looking up the ancestors of every
/// node: on a deeply nested page that lookup is quadratic (#11).
fn text_and_hidden(document: &Html, url: &Url, rules: HiddenRules) -> (String, Vec<HiddenTarget>) {
    let mut text = String::new();
    let mut hidden = Vec::new();
    // Node, inside code, index of the nearest hiding ancestor's declaration in `techniques`.
    let mut stack = vec![(document.tree.root(), false, None::<usize>)];
    let mut techniques: Vec<String> = Vec::new();
    while let Some((node, in_code, hiding)) = stack.pop() {
        let (in_code, hiding) = match node.value() {
            Node::Text(chunk) => {
                if !in_code && text.len() < MAX_TEXT_CHARS * 3 {
                    let chunk = collapse(std::iter::once(&**chunk));
                    if !chunk.is_empty() {
                        push_capped(&mut text, &chunk, MAX_TEXT_CHARS);
                    }
                }
                continue;
            }
            Node::Element(element) => {
                let name = element.name();
                let in_code = in_code || matches!(name, "script" | "style" | "noscript" | "template");
                let own = if element.attr("hidden").is_some() {
                    Some("hidden 属性".to_owned())
                } else {
                    element.attr("style").and_then(|style| hiding_declaration(style, rules))
                };
                let hiding = match own {
                    Some(found) => {
                        techniques.push(found);
                        Some(techniques.len() - 1)
                    }
                    None => hiding,
                };
                if let Some(element) = ElementRef::wrap(node).filter(|e| HIDEABLE.matches(e))
                    && let Some(target) = hidden_target(
                        element,
                        url,
                        hiding.and_then(|i| techniques.get(i)).map(String::as_str),
                    )
                {
                    hidden.push(target);
                }
                (in_code, hiding)
            }
            _ => (in_code, hiding),
        };
        stack.extend(node.children().rev().map(|child| (child, in_code, hiding)));
    }
    (text, hidden)
}

/// `element` (a link or frame) as a hidden target, when it is one: `inherited` is the hiding
/// declaration of the element itself or its nearest hiding ancestor.
fn hidden_target(element: ElementRef<'_>, url: &Url, inherited: Option<&str>) -> Option<HiddenTarget> {
    let attr = if element.value().name() == "a" { "href" } else { "src" };
    let target = element.value().attr(attr).and_then(|h| url.join(h.trim()).ok())?;
    if !matches!(target.scheme(), "http" | "https") {
        return None;
    }
    let is_frame = element.value().name() != "a";
    let technique = frame_size(element, is_frame).or_else(|| inherited.map(str::to_owned))?;
    Some(HiddenTarget {
        url: target,
        element: if is_frame { "iframe" } else { "link" },
        technique,
        text: truncate(&collapse(element.text()), 60),
    })
}

/// The page's headings and text blocks, walking the tree once with an explicit stack (hostile
/// pages nest deeply; recursion could overflow).
fn headings_and_blocks(document: &Html) -> (Vec<String>, Vec<Block>) {
    let mut walk = BlockWalk::default();
    let mut stack = vec![(document.tree.root(), false)];
    while let Some((node, leaving)) = stack.pop() {
        match node.value() {
            Node::Text(chunk)
                if walk.code == 0 && walk.anchors == 0 && walk.buffer.len() < MAX_BLOCK_CHARS * 4 =>
            {
                walk.buffer.push_str(chunk);
            }
            Node::Text(_) => {}
            Node::Element(element) => {
                let name = element.name();
                let block = BLOCK_ELEMENTS.contains(&name);
                if leaving {
                    if block {
                        walk.flush();
                    }
                    walk.count(name, false);
                    continue;
                }
                if walk.code == 0
                    && let Some(heading) = ElementRef::wrap(node).and_then(heading_text)
                {
                    walk.flush();
                    if walk.headings.len() < MAX_HEADINGS && !heading.is_empty() {
                        walk.headings.push(heading);
                    }
                    continue;
                }
                if block {
                    walk.flush();
                }
                walk.count(name, true);
                stack.push((node, true));
                stack.extend(node.children().rev().map(|child| (child, false)));
            }
            _ if !leaving => stack.extend(node.children().rev().map(|child| (child, false))),
            _ => {}
        }
    }
    walk.flush();
    let numbered_p = walk.blocks.iter().any(|(_, in_p)| *in_p);
    let mut n = 0;
    let blocks = walk
        .blocks
        .into_iter()
        .map(|(text, in_p)| {
            let paragraph = (in_p || !numbered_p).then(|| {
                n += 1;
                n
            });
            Block { text, paragraph }
        })
        .collect();
    (walk.headings, blocks)
}

#[derive(Default)]
struct BlockWalk {
    headings: Vec<String>,
    /// Block text and whether it sits in a `<p>`.
    blocks: Vec<(String, bool)>,
    buffer: String,
    code: usize,
    anchors: usize,
    paragraphs: usize,
}

impl BlockWalk {
    fn count(&mut self, name: &str, entering: bool) {
        let counter = match name {
            "a" => &mut self.anchors,
            "p" => &mut self.paragraphs,
            _ if CODE_ELEMENTS.contains(&name) => &mut self.code,
            _ => return,
        };
        *counter = if entering { *counter + 1 } else { counter.saturating_sub(1) };
    }

    fn flush(&mut self) {
        if self.blocks.len() >= MAX_BLOCKS {
            // Full: later blocks are not collapsed only to be thrown away (#11).
            self.buffer.clear();
            return;
        }
        let text = collapse(std::iter::once(self.buffer.as_str()));
        self.buffer.clear();
        if !text.is_empty() && self.blocks.len() < MAX_BLOCKS {
            self.blocks.push((truncate(&text, MAX_BLOCK_CHARS), self.paragraphs > 0));
        }
    }
}

/// The text of a heading: `h1`–`h6`, or an element whose class or id names a title (`title`,
/// `biaoti`, `bt`, `tit`), short and without links (a heading wrapping a link is a list item, read as link text).
fn heading_text(element: ElementRef<'_>) -> Option<String> {
    let value = element.value();
    let is_heading = matches!(value.name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
        || [value.attr("class"), value.attr("id")]
            .into_iter()
            .flatten()
            .flat_map(str::split_whitespace)
            .map(str::to_ascii_lowercase)
            .any(|name| {
                name.contains("title")
                    || name.contains("biaoti")
                    || matches!(name.as_str(), "bt" | "tit" | "headline")
            });
    if !is_heading || subtree_elements(element).any(|e| ANCHOR.matches(&e)) {
        return None;
    }
    let text = collapse(std::iter::once(subtree_text(element).collect::<String>().as_str()));
    (text.chars().count() <= MAX_HEADING_CHARS).then_some(text)
}

/// The text nodes among the first [`MAX_SUBTREE_NODES`] nodes of `element`'s subtree.
fn subtree_text(element: ElementRef<'_>) -> impl Iterator<Item = &str> {
    element.descendants().take(MAX_SUBTREE_NODES).filter_map(|node| node.value().as_text().map(|t| &**t))
}

/// The elements among the first [`MAX_SUBTREE_NODES`] nodes below `element` (not itself).
fn subtree_elements(element: ElementRef<'_>) -> impl Iterator<Item = ElementRef<'_>> {
    element.descendants().skip(1).take(MAX_SUBTREE_NODES).filter_map(ElementRef::wrap)
}

/// A frame too small to see, quoting the attribute.
fn frame_size(element: ElementRef<'_>, is_frame: bool) -> Option<String> {
    if is_frame {
        for dimension in ["width", "height"] {
            if let Some(value) = element.value().attr(dimension)
                && px(value).is_some_and(|v| v <= 1.0)
            {
                return Some(format!("{dimension}=\"{}\"", value.trim()));
            }
        }
    }
    None
}

/// The declaration in an inline style that hides the element, if any.
pub fn hiding_declaration(style: &str, rules: HiddenRules) -> Option<String> {
    for declaration in style.split(';') {
        let Some((property, value)) = declaration.split_once(':') else { continue };
        let property = property.trim().to_ascii_lowercase();
        let value = value.trim().to_ascii_lowercase().replace(" !important", "").replace("!important", "");
        let value = value.trim();
        let quoted = || format!("{property}:{value}");
        let hides = match property.as_str() {
            "display" => value == "none",
            "visibility" => value == "hidden" || value == "collapse",
            "opacity" => value.parse::<f64>().is_ok_and(|v| v <= 0.01),
            "font-size" => px(value).is_some_and(|v| v <= f64::from(rules.tiny_font_px)),
            "width" | "height" | "max-width" | "max-height" => px(value).is_some_and(|v| v <= 0.0),
            "left" | "top" | "right" | "margin-left" | "margin-top" | "text-indent" => {
                px(value).is_some_and(|v| v <= -f64::from(rules.offscreen_px))
            }
            _ => false,
        };
        if hides {
            return Some(quoted());
        }
    }
    None
}

/// A CSS length in pixels (`0`, `1px`, `-9999px`, `1pt`); other units are not judged.
fn px(value: &str) -> Option<f64> {
    let value = value.trim();
    let number = value.trim_end_matches("px").trim_end_matches("pt").trim();
    if number.len() != value.len() || value.chars().all(|c| c.is_ascii_digit() || c == '-' || c == '.') {
        number.parse().ok()
    } else {
        None
    }
}

/// `0; url=http://…` → the URL, resolved against the page.
fn refresh_target(content: &str, base: &Url) -> Option<Url> {
    let lower = content.to_ascii_lowercase();
    let at = lower.find("url")?;
    let rest = content[at + 3..].trim_start().strip_prefix('=')?.trim();
    let rest = rest.trim_matches(|c| c == '\'' || c == '"');
    base.join(rest).ok().filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// Joins the words of `parts` with single spaces: how a browser shows runs of whitespace.
pub fn collapse<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for part in parts {
        for word in part.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

fn push_capped(target: &mut String, text: &str, cap: usize) {
    if target.len() >= cap * 3 {
        return;
    }
    if !target.is_empty() {
        target.push(' ');
    }
    target.push_str(text);
}

/// At most `max` characters of `text`.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: HiddenRules = HiddenRules { tiny_font_px: 2, offscreen_px: 1000 };

    fn parse(html: &str) -> ParsedPage {
        parse_page(html, &Url::parse("http://site.gov.cn/").expect("url"), RULES)
    }

    #[test]
    fn text_skips_scripts_and_styles() {
        let page = parse(
            "<title> 南宁市 财政局 </title><style>.a{}</style><script>var x='秘密';</script><p>正文</p>",
        );
        assert_eq!(page.title, "南宁市 财政局");
        assert!(page.text.contains("正文") && !page.text.contains("秘密"));
        assert_eq!(page.scripts.len(), 1);
    }

    #[test]
    fn hiding_styles_are_recognised_with_their_declaration() {
        for (style, expected) in [
            ("display: none", "display:none"),
            ("VISIBILITY:hidden", "visibility:hidden"),
            ("font-size:0px", "font-size:0px"),
            ("font-size:1px", "font-size:1px"),
            ("position:absolute;left:-9999px", "left:-9999px"),
            ("text-indent:-5000px", "text-indent:-5000px"),
            ("width:0;height:0;overflow:hidden", "width:0"),
            ("display:none !important", "display:none"),
        ] {
            assert_eq!(hiding_declaration(style, RULES).as_deref(), Some(expected), "{style}");
        }
        for style in
            ["display:block", "font-size:12px", "left:-10px", "width:100px", "font-size:1em", "color:red"]
        {
            assert_eq!(hiding_declaration(style, RULES), None, "{style}");
        }
    }

    #[test]
    fn hidden_links_and_frames_are_found_through_ancestors() {
        let page = parse(
            "<div style=\"display:none\"><p><a href=\"http://bad.example.com/\">澳门</a></p></div>\
             <a href=\"/ok\">正常</a><iframe src=\"http://x.example.com/\" width=\"0\" height=\"0\"></iframe>\
             <iframe src=\"/map\" width=\"600\"></iframe>",
        );
        assert_eq!(page.hidden.len(), 2, "{:?}", page.hidden);
        assert_eq!(page.hidden[0].technique, "display:none");
        assert_eq!(page.hidden[0].url.as_str(), "http://bad.example.com/");
        assert_eq!(page.hidden[1].element, "iframe");
    }

    #[test]
    fn meta_refresh_target_is_resolved() {
        let page = parse("<meta http-equiv=\"Refresh\" content=\"0; URL='http://evil.example.com/x'\">");
        assert_eq!(page.meta_refresh.map(|u| u.to_string()).as_deref(), Some("http://evil.example.com/x"));
        assert!(parse("<meta http-equiv=\"refresh\" content=\"300\">").meta_refresh.is_none());
    }

    #[test]
    fn headings_and_paragraphs_come_in_document_order() {
        let page = parse(
            "<title>标题</title><div class=\"position\">当前位置：<a href=\"/\">首页</a></div>\
             <div class=\"article-title\">文章标题</div><div class=\"bt button\">表格标题</div><h1>正文标题</h1><h3><a href=\"/x\">列表标题</a></h3>\
             <p>第一段<b>加粗</b>继续。</p><p><a href=\"/y\">链接</a></p><p>第二段<br>换行</p>\
             <script>var s='脚本';</script>",
        );
        assert_eq!(page.headings, ["文章标题", "表格标题", "正文标题"]);
        let blocks: Vec<(&str, Option<usize>)> =
            page.blocks.iter().map(|b| (b.text.as_str(), b.paragraph)).collect();
        assert_eq!(
            blocks,
            [("当前位置：", None), ("第一段加粗继续。", Some(1)), ("第二段", Some(2)), ("换行", Some(3))]
        );
        // Without `<p>`, every block is a paragraph.
        let page = parse("<div>甲段</div><div>乙段<br>丙段</div>");
        let numbers: Vec<Option<usize>> = page.blocks.iter().map(|b| b.paragraph).collect();
        assert_eq!(numbers, [Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn hostile_nesting_is_flattened_keeping_text_links_and_hiding() {
        let depth = 100_000;
        let html = format!(
            "<div style=\"display:none\">{}<a href=\"http://bad.example.com/\">深处链接</a>正文末尾{}</div>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let page = parse(&html);
        // The outer div and the nested ones past the cap are dropped; the link is kept.
        assert_eq!(page.flattened, depth + 1 - crate::crawl::nesting::MAX_DEPTH);
        assert!(page.text.contains("深处链接 正文末尾"), "{}", page.text.len());
        assert_eq!(page.links.len(), 1);
        assert_eq!(page.links[0].url.as_str(), "http://bad.example.com/");
        assert_eq!(page.hidden.len(), 1);
        assert_eq!(page.hidden[0].technique, "display:none");
    }

    #[test]
    fn hostile_nested_tables_keep_their_text_and_links() {
        let depth = 100_000;
        let html = format!(
            "{}<a href=\"/deep.html\">表格深处</a>{}",
            "<table><tr><td>".repeat(depth),
            "</td></tr></table>".repeat(depth)
        );
        let page = parse(&html);
        assert!(page.flattened > 0);
        assert!(page.text.contains("表格深处"));
        let links: Vec<&str> = page.links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(links, ["http://site.gov.cn/deep.html"]);
    }

    #[test]
    fn pages_just_under_the_limit_are_unchanged() {
        // The outer div and the nested ones make the page exactly as deep as the cap (`html`,
        // `body` and links are not counted: the parser never nests them).
        let depth = crate::crawl::nesting::MAX_DEPTH - 1;
        let html = format!(
            "<html><body><div hidden>{}<a href=\"/x\">底层</a>{}</div></body></html>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let page = parse(&html);
        assert_eq!(page.flattened, 0);
        assert_eq!(page.hidden.len(), 1);
        assert_eq!(page.hidden[0].technique, "hidden 属性");
        assert_eq!(page.text, "底层");
    }

    #[test]
    fn links_found_once_equal_links_of_the_string_entry_point() {
        let html = "<html><head><base href=\"/root/\"></head><body><ul><li><a href=\"a.html\">甲</a></li>\
                    <li><a href=\"http://other.gov.cn/\"><img alt=\"上级\"></a></li></ul>\
                    <map><area href=\"/m\" title=\"地图\"></map><a href=\"javascript:x()\">否</a></body></html>";
        let url = Url::parse("http://site.gov.cn/p/index.html").expect("url");
        let page = parse_page(html, &url, RULES);
        assert_eq!(page.links, crate::crawl::links::extract_links(html, &url));
        assert_eq!(page.links.len(), 3);
    }

    #[test]
    fn rows_read_in_one_walk_equal_rows_read_one_by_one() {
        let html = format!(
            "<table><tr><td><ul><li><a href=\"/a\">甲</a> 2026-11-20<ul><li>乙<a href=\"/b\">丙</a></li></ul></li>\
             <li>{}<a href=\"/c\">丁</a></li></ul></td><td><dl><dd> 戊 <b>己</b></dd></dl></td></tr>\
             <tr><td>{}</td></tr></table>",
            "长文 ".repeat(400),
            "<ul><li>项</li></ul>".repeat(MAX_ROWS)
        );
        let url = Url::parse("http://site.gov.cn/").expect("url");
        let document = Html::parse_document(&html);
        let one_by_one: Vec<Row> = document
            .select(&sel("li, tr, dd"))
            .take(MAX_ROWS)
            .map(|row| Row {
                text: truncate(&collapse(row.text()), MAX_ROW_CHARS),
                links: row
                    .select(&ROW_LINKS)
                    .filter_map(|a| url.join(a.value().attr("href")?.trim()).ok())
                    .collect(),
            })
            .collect();
        let walked = rows(&document, &url);
        assert_eq!(walked.len(), MAX_ROWS);
        assert_eq!(walked, one_by_one);
        assert_eq!(walked[0].links.len(), 3);
        assert!(walked[3].text.ends_with('…'));
    }

    #[test]
    fn rows_carry_their_text_and_links() {
        let page = parse("<ul><li><a href=\"/a/1.html\">通知一</a> <span>2026-11-20</span></li></ul>");
        assert_eq!(page.rows.len(), 1);
        assert_eq!(page.rows[0].text, "通知一 2026-11-20");
        assert_eq!(page.rows[0].links[0].as_str(), "http://site.gov.cn/a/1.html");
    }
}
