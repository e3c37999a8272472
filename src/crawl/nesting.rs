//! A cap on element nesting, applied before html5ever sees a document (issue #11). The HTML
//! parser scans its stack of open elements for many tags, so a page of 100,000 nested `<div>`s
//! costs quadratic time; browsers stop nesting at a fixed depth (Blink: 512) and so do we.
//!
//! One linear pass over the bytes keeps a stack of open elements. Past [`MAX_DEPTH`], start tags
//! of further elements (and their matching end tags) are dropped and their text kept: the deep
//! part is flattened, not lost. Text inside `script`, `style` and the like, comments and
//! attribute values are skipped as the tokenizer would, so a `<` in them is not read as a tag.

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

/// A document with its nesting capped, and how many start tags were dropped for it.
pub struct Capped<'a> {
    pub html: Cow<'a, str>,
    pub dropped: usize,
}

/// `html` with element nesting capped at [`MAX_DEPTH`]; borrowed unchanged when nothing is that
/// deep (every ordinary page).
pub fn cap_nesting(html: &str) -> Capped<'_> {
    let bytes = html.as_bytes();
    let mut open: Vec<String> = Vec::new();
    // Start tags dropped past the cap, by name, awaiting their end tags.
    let mut pending: HashMap<String, usize> = HashMap::new();
    // Byte ranges to leave out.
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut dropped = 0;
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
                    let name = name.to_ascii_lowercase();
                    if let Some(count) = pending.get_mut(&name).filter(|c| **c > 0) {
                        *count -= 1;
                        cuts.push((start, end));
                    } else if let Some(index) = open.iter().rposition(|n| *n == name) {
                        open.truncate(index);
                    }
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
                if VOID.contains(&name.as_str()) || UNCOUNTED.contains(&name.as_str()) {
                    continue;
                }
                if open.len() >= MAX_DEPTH {
                    *pending.entry(name).or_default() += 1;
                    cuts.push((start, end));
                    dropped += 1;
                } else {
                    open.push(name);
                }
            }
            _ => at = start + 1,
        }
        if at >= bytes.len() {
            break;
        }
    }
    if cuts.is_empty() {
        return Capped { html: Cow::Borrowed(html), dropped: 0 };
    }
    let mut out = String::with_capacity(html.len());
    let mut from = 0;
    for (start, end) in cuts {
        // Cuts sit on `<` and just past `>` (or the end): ASCII, so char boundaries.
        out.push_str(html.get(from..start).unwrap_or_default());
        from = end;
    }
    out.push_str(html.get(from..).unwrap_or_default());
    Capped { html: Cow::Owned(out), dropped }
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
