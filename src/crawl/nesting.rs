//! A cap on element nesting, applied before html5ever sees a document (issue #11). The HTML
//! parser scans its stack of open elements for many tags, so a page of 100,000 nested `<div>`s
//! costs quadratic time; browsers stop nesting at a fixed depth (Blink: 512) and so do we.
//!
//! One linear pass over the bytes keeps a stack of open elements. Past [`MAX_DEPTH`], start tags
//! of further elements (and their matching end tags) are dropped and their text kept: the deep
//! part is flattened, not lost. Text inside `script`, `style` and the like, comments and
//! attribute values are skipped as the tokenizer would, so a `<` in them is not read as a tag.
//!
//! The same pass bounds the other amplification of the parser: formatting elements (`<b>`,
//! `<font>` …) left unclosed are reopened for every later block. Past [`MAX_FORMATTING`] of them,
//! an end tag for one is written in before the next; and at block boundaries end tags are written
//! in for all of them but the outermost that may hide (`style`, `hidden`), so each block reopens
//! one at most.

use std::borrow::Cow;
use std::collections::HashMap;

/// Elements open at once at most, as in Blink.
pub const MAX_DEPTH: usize = 512;

/// Elements without content: they never open a level.
const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
    "wbr",
];
/// Elements the parser never nests in themselves: an optional end tag that a sibling of the same
/// kind implies (their containers `ul`, `table` … are counted), a link (a new `<a>` closes the
/// open one; sloppy pages leave hundreds unclosed), a form or button, and the document's own
/// `html`, `head` and `body`. They add at most a level each and are neither counted nor dropped,
/// so deep links are kept.
const UNCOUNTED: [&str; 21] = [
    "li", "dt", "dd", "p", "option", "optgroup", "tr", "td", "th", "tbody", "thead", "tfoot", "colgroup",
    "rb", "rt", "a", "form", "button", "html", "head", "body",
];
/// Elements whose content is text up to their end tag.
const RAW_TEXT: [&str; 9] =
    ["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"];

/// Formatting elements: the parser keeps those left unclosed in a list and, after the block
/// holding them ends, reopens them all before the next text ("reconstruct the active formatting
/// elements"). `a` is left out: a new link closes the open one.
const FORMATTING: [&str; 13] =
    ["b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u"];

/// Start tags that end an open paragraph, list item or definition (or are one): the formatting
/// elements inside are popped, and stay listed for reopening.
const BLOCKS: [&str; 38] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "header",
    "hgroup",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "section",
    "summary",
    "ul",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "listing",
    "form",
    "table",
    "li",
    "dd",
    "dt",
    "hr",
];

/// Formatting elements left unclosed at once, at most. The parser reopens every unclosed one
/// for every later block, so 500 of them over 4,000 blocks of `<div>字</div>` made 2,000,000
/// elements out of 62 KB (#11); past this many, an end tag for one of them is written in.
pub const MAX_FORMATTING: usize = 4;

/// A document with its nesting capped, and how many start tags were dropped for it.
pub struct Capped<'a> {
    /// The document as the parser should see it; borrowed when nothing had to change.
    pub html: Cow<'a, str>,
    /// Start tags dropped past `MAX_DEPTH` (their text is kept).
    pub dropped: usize,
    /// End tags written in for formatting elements left unclosed (see [`MAX_FORMATTING`]).
    pub closed: usize,
}

/// The state of one pass of [`cap_nesting`].
#[derive(Default)]
struct Pass {
    open: Vec<String>,
    // How many elements of each name are in `open`: an end tag of a name not open (stray, or of
    // an element never counted such as `</td>`) is passed over without scanning `open`, so each
    // scan removes what it passes and the pass stays linear (#11: a page of nested tables has
    // two such end tags per level).
    open_names: HashMap<String, usize>,
    /// Formatting elements kept and not yet closed by their end tag, and whether their tag has a
    /// `style` or `hidden` attribute (those are closed last: they may hide what they hold).
    formatting: Vec<(String, bool)>,
    /// Start tags dropped past the cap, by name, awaiting their end tags.
    pending: HashMap<String, usize>,
    /// Byte ranges left out, in order.
    cuts: Vec<(usize, usize)>,
    /// End tags written in, by position, in order (kept apart from the cuts, which a hostile
    /// page has millions of).
    inserts: Vec<(usize, String)>,
    dropped: usize,
    closed: usize,
}

impl Pass {
    fn start_tag(&mut self, name: String, tag: &[u8], start: usize, end: usize) {
        if self.open.len() >= MAX_DEPTH {
            *self.pending.entry(name).or_default() += 1;
            self.cuts.push((start, end));
            self.dropped += 1;
            return;
        }
        if FORMATTING.contains(&name.as_str()) {
            if self.formatting.len() >= MAX_FORMATTING {
                let last = self.formatting.len() - 1;
                let index = self.formatting.iter().rposition(|(_, styled)| !styled).unwrap_or(last);
                let (closing, _) = self.formatting.remove(index);
                self.inserts.push((start, format!("</{closing}>")));
                self.closed += 1;
                if let Some(at) = self.open.iter().rposition(|n| *n == closing) {
                    self.open.remove(at);
                    self.forget(&closing);
                }
            }
            let styled = contains_ci(tag, b"style") || contains_ci(tag, b"hidden");
            self.formatting.push((name.clone(), styled));
        }
        *self.open_names.entry(name.clone()).or_default() += 1;
        self.open.push(name);
    }

    fn end_tag(&mut self, name: String, start: usize, end: usize) {
        if let Some(count) = self.pending.get_mut(&name).filter(|c| **c > 0) {
            *count -= 1;
            self.cuts.push((start, end));
            return;
        }
        if let Some(at) = self.formatting.iter().rposition(|(n, _)| *n == name) {
            self.formatting.remove(at);
        }
        if self.open_names.get(&name).is_some_and(|c| *c > 0)
            && let Some(index) = self.open.iter().rposition(|n| *n == name)
        {
            let mut drained_formatting = false;
            for (n, closed) in self.open.split_off(index).into_iter().enumerate() {
                self.forget(&closed);
                drained_formatting |= n > 0 && FORMATTING.contains(&closed.as_str());
            }
            // Formatting elements inside the element closed here stay listed, to be reopened in
            // every later block: their end tags, written in after this one, unlist them.
            if drained_formatting {
                self.unlist(end);
            }
        }
    }

    /// Writes end tags at `at` for the listed formatting elements, but for the outermost one
    /// that may hide what it holds (a browser reopens it in the next block, hiding that too).
    /// At most that one is then reopened per block.
    fn unlist(&mut self, at: usize) {
        let keep = self.formatting.iter().position(|(_, styled)| *styled);
        if self.formatting.len() <= usize::from(keep.is_some()) {
            return;
        }
        let mut text = String::new();
        for (i, entry) in std::mem::take(&mut self.formatting).into_iter().enumerate().rev() {
            if Some(i) == keep {
                self.formatting.push(entry);
                continue;
            }
            text.push_str(&format!("</{}>", entry.0));
            self.closed += 1;
            if let Some(index) = self.open.iter().rposition(|n| *n == entry.0) {
                self.open.remove(index);
                self.forget(&entry.0);
            }
        }
        self.inserts.push((at, text));
    }

    fn forget(&mut self, name: &str) {
        if let Some(count) = self.open_names.get_mut(name) {
            *count -= 1;
        }
    }
}

/// `html` with element nesting capped at [`MAX_DEPTH`] and unclosed formatting elements at
/// [`MAX_FORMATTING`]; borrowed unchanged when neither limit is reached (every ordinary page).
pub fn cap_nesting(html: &str) -> Capped<'_> {
    let bytes = html.as_bytes();
    let mut pass = Pass::default();
    let mut at = 0;
    while let Some(offset) = memchr(b'<', &bytes[at..]) {
        let start = at + offset;
        let rest = &bytes[start + 1..];
        match rest.first() {
            Some(b'!') => {
                at = if rest.starts_with(b"!--") {
                    find(bytes, start + 4, b"-->").map_or(bytes.len(), |e| e + 3)
                } else {
                    memchr(b'>', rest).map_or(bytes.len(), |e| start + 1 + e + 1)
                };
            }
            Some(b'?') => at = memchr(b'>', rest).map_or(bytes.len(), |e| start + 1 + e + 1),
            Some(b'/') => {
                let name = tag_name(&bytes[start + 2..]);
                let end = tag_end(bytes, start + 2 + name.len());
                if !name.is_empty() {
                    pass.end_tag(name.to_ascii_lowercase(), start, end);
                }
                at = end;
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let raw = tag_name(rest);
                let name = raw.to_ascii_lowercase();
                let end = tag_end(bytes, start + 1 + raw.len());
                at = end;
                if RAW_TEXT.contains(&name.as_str()) {
                    // The content runs to the matching end tag, which the next round reads.
                    at = find_ci(bytes, end, format!("</{name}").as_bytes()).unwrap_or(bytes.len());
                    continue;
                }
                if BLOCKS.contains(&name.as_str()) && !pass.formatting.is_empty() {
                    pass.unlist(start);
                }
                if !VOID.contains(&name.as_str()) && !UNCOUNTED.contains(&name.as_str()) {
                    pass.start_tag(name, &bytes[start..end], start, end);
                }
            }
            _ => at = start + 1,
        }
        if at >= bytes.len() {
            break;
        }
    }
    let Pass { cuts, inserts, dropped, closed, .. } = pass;
    if cuts.is_empty() && inserts.is_empty() {
        return Capped { html: Cow::Borrowed(html), dropped, closed };
    }
    let mut out = String::with_capacity(html.len());
    let mut from = 0;
    let mut inserts = inserts.into_iter().peekable();
    // Cuts and inserts sit on `<` and just past `>` (or the end): ASCII, so char boundaries. An
    // insert goes before a cut at the same place (it follows the tag before).
    for (start, end) in cuts {
        while let Some((at, text)) = inserts.next_if(|(at, _)| *at <= start) {
            out.push_str(html.get(from..at).unwrap_or_default());
            out.push_str(&text);
            from = at;
        }
        out.push_str(html.get(from..start).unwrap_or_default());
        from = end;
    }
    for (at, text) in inserts {
        out.push_str(html.get(from..at).unwrap_or_default());
        out.push_str(&text);
        from = at;
    }
    out.push_str(html.get(from..).unwrap_or_default());
    Capped { html: Cow::Owned(out), dropped, closed }
}

/// The tag name at the start of `bytes` (up to whitespace, `/` or `>`), as text.
fn tag_name(bytes: &[u8]) -> &str {
    let len =
        bytes.iter().position(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>')).unwrap_or(bytes.len());
    // Stops only at ASCII bytes, so the slice ends on a char boundary; non-UTF-8 cannot occur.
    std::str::from_utf8(&bytes[..len]).unwrap_or_default()
}

/// Just past the `>` that ends the tag whose attributes start at `from`, honouring quoted
/// attribute values; the end of the document when the tag never ends.
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    let mut after_equals = false;
    while at < bytes.len() {
        match bytes[at] {
            b'>' => return at + 1,
            b'=' => after_equals = true,
            quote @ (b'"' | b'\'') if after_equals => {
                at = memchr(quote, &bytes[at + 1..]).map_or(bytes.len(), |e| at + 1 + e);
                after_equals = false;
            }
            c if c.is_ascii_whitespace() => {}
            _ => after_equals = false,
        }
        at += 1;
    }
    bytes.len()
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|b| *b == needle)
}

/// Where `needle` first occurs at or after `from`.
fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| from + p)
}

/// Whether `needle` occurs in `haystack`, ignoring ASCII case.
fn contains_ci(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// [`find`], ignoring ASCII case.
fn find_ci(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)).map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_pages_are_borrowed_unchanged() {
        let html = format!(
            "<!-- <div> --><script>if (a<b) {{ '<div>' }}</script><ul>{}</ul><p a='>'>{}{}",
            "<li>项".repeat(2_000),
            "<div>".repeat(MAX_DEPTH - 2),
            "</div>".repeat(MAX_DEPTH - 2)
        );
        let capped = cap_nesting(&html);
        assert!(matches!(capped.html, Cow::Borrowed(_)));
        assert_eq!(capped.dropped, 0);
    }

    #[test]
    fn unclosed_links_and_list_items_are_not_levels() {
        let html = format!("{}<div><ul><li>项</ul></div>", "<a href=\"/x\">链接".repeat(2_000));
        assert!(matches!(cap_nesting(&html).html, Cow::Borrowed(_)));
    }

    #[test]
    fn end_tags_of_elements_not_open_change_nothing() {
        // Stray end tags (and those of uncounted elements) neither close nor reopen a level:
        // at the cap, the next start tag is still dropped, and a real end tag still closes.
        let html = format!(
            "{}{}<div>深</div></div><span>浅</span>",
            "<div>".repeat(MAX_DEPTH),
            "</td></tr></span></p>".repeat(1_000)
        );
        let capped = cap_nesting(&html);
        assert_eq!(capped.dropped, 1);
        assert!(
            capped.html.contains("</p>深</div><span>浅</span>"),
            "{}",
            &capped.html[capped.html.len() - 60..]
        );
    }

    #[test]
    fn unclosed_formatting_elements_are_not_reopened_for_every_block() {
        let open: String = (0..500).map(|i| format!("<b id=\"b{i}\">")).collect();
        let html = format!("<div>{open}</div>{}", "<div>字</div>".repeat(1_000));
        let capped = cap_nesting(&html);
        // All but the last few are closed as the next opens; those are unlisted after `</div>`.
        assert_eq!((capped.dropped, capped.closed), (0, 500));
        let document = scraper::Html::parse_document(&capped.html);
        let bold = document.tree.values().filter(|n| n.as_element().is_some_and(|e| e.name() == "b")).count();
        // Without the limit: 500 + 500 × 1,000 elements.
        assert!(bold < 600, "{bold} <b> elements");
        assert_eq!(document.root_element().text().filter(|t| *t == "字").count(), 1_000);
    }

    #[test]
    fn paragraphs_closed_by_the_next_reopen_one_formatting_element_at_most() {
        let bold = |attribute: &str| {
            let open: String = (0..500).map(|i| format!("<b {attribute}=\"b{i}\">")).collect();
            let html = format!("<p>{open}{}", "<p>字".repeat(1_000));
            let document = scraper::Html::parse_document(&cap_nesting(&html).html);
            document.tree.values().filter(|n| n.as_element().is_some_and(|e| e.name() == "b")).count()
        };
        assert!(bold("id") < 600, "{} <b> elements", bold("id"));
        // Styled ones may hide: the outermost is reopened in each paragraph, as a browser does.
        let styled = bold("style");
        assert!((1_500..1_600).contains(&styled), "{styled} <b> elements");
    }

    #[test]
    fn formatting_that_hides_is_closed_last() {
        let html = format!(
            "<font style=\"display:none\">{}<a href=\"/spam\">链接</a></font>",
            (0..10).map(|i| format!("<b id=\"b{i}\">")).collect::<String>()
        );
        let capped = cap_nesting(&html);
        // Seven `<b>`s are closed as the next open; the last three are unlisted after `</font>`.
        assert_eq!(capped.closed, 10);
        let document = scraper::Html::parse_document(&capped.html);
        let selector = scraper::Selector::parse("font[style] a").expect("selector");
        assert_eq!(document.select(&selector).count(), 1, "{}", capped.html);
    }

    #[test]
    fn formatting_that_hides_still_reopens_after_its_block() {
        // A browser hides the next block's link too: the font is reopened there.
        let html = "<div><font style=\"font-size:0\"></div><div><a href=\"/spam\">链接</a></div>";
        let capped = cap_nesting(html);
        assert_eq!(capped.closed, 0);
        let document = scraper::Html::parse_document(&capped.html);
        let selector = scraper::Selector::parse("font[style] a").expect("selector");
        assert_eq!(document.select(&selector).count(), 1);
    }

    #[test]
    fn formatting_closed_by_its_end_tag_does_not_count() {
        let html =
            "<p><b>粗</b><i>斜</i><font color=red>红</font><u>线</u><em>强</em><b>再</b></p>".repeat(50);
        let capped = cap_nesting(&html);
        assert!(matches!(capped.html, Cow::Borrowed(_)));
        assert_eq!(capped.closed, 0);
    }

    #[test]
    fn deep_nesting_is_flattened_keeping_text() {
        let depth = MAX_DEPTH + 100;
        let html =
            format!("{}<a href=\"/d\">深处</a>{}", "<div class=\"x\">".repeat(depth), "</div>".repeat(depth));
        let capped = cap_nesting(&html);
        assert_eq!(capped.dropped, 100);
        assert!(capped.html.contains("<a href=\"/d\">深处</a>"));
        assert_eq!(capped.html.matches("<div").count(), MAX_DEPTH);
        assert_eq!(capped.html.matches("</div>").count(), MAX_DEPTH);
        assert!(capped.html.contains("深处"));
    }
}
