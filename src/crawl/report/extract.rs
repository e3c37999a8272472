//! A report's text as lines, from its HTML page or its PDF attachment. Lines follow the
//! document's blocks (paragraphs, headings, table cells each on their own line for HTML; the
//! PDF's text lines in reading order), which is what heading and table recognition work on.
//! Pure: no network, no store. Both parsers read attacker-controlled bytes: the HTML's nesting
//! is capped first, and the caller runs the PDF parse where a panic cannot escape.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use crate::crawl::nesting::cap_nesting;

/// A digit and the date unit after it, separated by spaces.
static DIGIT_SPACE_UNIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d)[ \t]+([年月日])").expect("a valid pattern"));

/// Elements whose text is never shown.
const HIDDEN: &[&str] = &["script", "style", "noscript", "template", "head"];
/// Elements that start a new line of text.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "tr",
    "td",
    "th",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "caption",
    "body",
    "thead",
    "tbody",
    "center",
    "form",
    "hr",
    "title",
];

/// What was read from a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportText {
    /// The page's `<title>` (HTML) or its first non-empty line (PDF).
    pub title: String,
    /// Non-empty lines, whitespace collapsed, in document order.
    pub lines: Vec<String>,
    /// PDF attachments linked from an HTML page, in order (a page may only carry the report as
    /// an attachment).
    pub attachments: Vec<Url>,
    /// The text was cut at the template's `max_chars`.
    pub truncated: bool,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// The PDF could not be parsed; the reader's message.
    #[error("无法读取 PDF 文本：{0}")]
    Pdf(String),
    /// The document holds no text (a scanned PDF, an empty page).
    #[error("报告中没有可读的文字")]
    Empty,
}

/// The lines of an HTML report fetched from `url`.
pub fn html_text(html: &str, url: &Url, max_chars: usize) -> ReportText {
    let capped = cap_nesting(html);
    let document = Html::parse_document(&capped.html);
    let mut out = ReportText::default();
    if let Ok(title) = Selector::parse("title")
        && let Some(element) = document.select(&title).next()
    {
        out.title = collapse(&element.text().collect::<String>());
    }
    let mut text = String::new();
    let mut last_block = None;
    for node in document.root_element().descendants() {
        match node.value() {
            Node::Element(element) if element.name() == "br" => text.push('\n'),
            Node::Element(element) if element.name() == "a" => {
                let href = element.attr("href").and_then(|h| url.join(h.trim()).ok());
                if let Some(target) = href.filter(|u| u.path().to_ascii_lowercase().ends_with(".pdf"))
                    && !out.attachments.contains(&target)
                {
                    out.attachments.push(target);
                }
            }
            Node::Text(piece) => {
                let mut block = None;
                let mut hidden = false;
                for ancestor in node.ancestors().filter_map(ElementRef::wrap) {
                    let name = ancestor.value().name();
                    hidden |= HIDDEN.contains(&name);
                    if block.is_none() && BLOCKS.contains(&name) {
                        block = Some(ancestor.id());
                    }
                }
                if hidden {
                    continue;
                }
                if block != last_block {
                    text.push('\n');
                    last_block = block;
                }
                text.push_str(piece);
                if text.len() > max_chars * 4 {
                    out.truncated = true;
                    break;
                }
            }
            _ => {}
        }
    }
    out.lines = lines(&text, max_chars, &mut out.truncated);
    out
}

/// The lines of a PDF report. The parser may panic on a hostile file: the panic is caught and
/// becomes an error (run it off the async threads all the same: it takes CPU).
pub fn pdf_text(bytes: &[u8], max_chars: usize) -> Result<ReportText, ExtractError> {
    let text = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes))
        .map_err(|_| ExtractError::Pdf("PDF 解析异常终止".to_owned()))?
        .map_err(|e| ExtractError::Pdf(e.to_string()))?;
    // Latin and Chinese runs are set in different fonts, and the extractor puts a space
    // between them: `2025 年`, `1 月`. Dates and years are read without it.
    let text = DIGIT_SPACE_UNIT.replace_all(&text, "$1$2");
    let mut out = ReportText::default();
    out.lines = lines(&text, max_chars, &mut out.truncated);
    out.title = out.lines.first().cloned().unwrap_or_default();
    if out.lines.is_empty() {
        return Err(ExtractError::Empty);
    }
    Ok(out)
}

/// Whether `bytes` are a PDF file (by its signature, which servers' content types often miss).
pub fn is_pdf(bytes: &[u8]) -> bool {
    bytes.len() >= 5 && bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-")
}

/// Non-empty lines of `text`, whitespace collapsed, at most `max_chars` characters in all.
fn lines(text: &str, max_chars: usize, truncated: &mut bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut used = 0;
    for raw in text.lines() {
        let line = collapse(raw);
        if line.is_empty() {
            continue;
        }
        used += line.chars().count();
        if used > max_chars {
            *truncated = true;
            break;
        }
        out.push(line);
    }
    out
}

/// Whitespace (including full-width spaces and non-breaking spaces) collapsed to single spaces.
pub fn collapse(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '\u{3000}' || c == '\u{a0}')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_blocks_and_cells_become_lines_and_hidden_text_does_not() {
        let url = Url::parse("http://site.gov.cn/report/2025.html").expect("url");
        let html = "<html><head><title>2025年报告</title><style>p{}</style></head><body>\
            <h2>一、总体情况</h2><p>正文<b>加粗</b>继续</p><div>尾<br>换行</div>\
            <table><tr><td>本年新收</td><td>3</td><td>4</td></tr></table>\
            <script>var x = '不可见';</script><a href=\"/files/2025.PDF\">附件</a></body></html>";
        let text = html_text(html, &url, 10_000);
        assert_eq!(text.title, "2025年报告");
        assert_eq!(text.lines, ["一、总体情况", "正文加粗继续", "尾", "换行", "本年新收", "3", "4", "附件"]);
        assert_eq!(text.attachments, [Url::parse("http://site.gov.cn/files/2025.PDF").expect("url")]);
        assert!(!text.truncated);
        let cut = html_text(html, &url, 12);
        assert!(cut.truncated && cut.lines.len() < text.lines.len());
    }

    #[test]
    fn garbage_is_not_a_pdf_and_fails_without_panicking() {
        assert!(!is_pdf(b"<html>"));
        assert!(is_pdf(b"%PDF-1.7\n..."));
        assert!(pdf_text(b"%PDF-1.7 not really", 1000).is_err());
    }
}
