//! Turning bytes from files and websites into text.
//!
//! Government units publish in UTF-8, GBK, GB2312 and GB18030, often without saying which.
//! One decoder serves the registry import and the crawler so that both make the same guess.

use encoding_rs::{Encoding, UTF_8};

/// Text decoded from bytes, with the encoding that was used and how it was chosen.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The decoded text.
    pub text: String,
    /// The encoding used (UTF-8, GBK, GB18030…).
    pub encoding: &'static Encoding,
    /// How the encoding was chosen.
    pub source: EncodingSource,
    /// Some bytes were not valid in the chosen encoding and became U+FFFD.
    pub had_errors: bool,
}

/// Where the decision about the encoding came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingSource {
    /// A byte-order mark at the start of the bytes.
    ByteOrderMark,
    /// The `Content-Type` header's charset.
    Declared,
    /// `<meta charset>` or `<meta http-equiv="Content-Type">` within the first 1024 bytes.
    MetaTag,
    /// The bytes were valid UTF-8.
    ValidUtf8,
    /// chardetng's guess.
    Sniffed,
}

/// What is known about the bytes besides the bytes themselves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hints<'a> {
    /// The charset label from an HTTP header, if any.
    pub declared: Option<&'a str>,
    /// Look for a `<meta>` charset declaration (HTML only).
    pub html: bool,
    /// The top-level domain of the source, e.g. `b"cn"`, which sharpens chardetng's guess.
    pub tld: Option<&'a [u8]>,
}

/// Decodes bytes. A byte order mark wins over every declaration (as in the WHATWG encoding
/// standard); then the header label, the meta tag, strict UTF-8, and finally a guess.
/// GB2312 and GBK labels decode as GBK, which is a superset that real pages rely on.
pub fn decode(bytes: &[u8], hints: Hints<'_>) -> Decoded {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return finish(&bytes[bom_len..], encoding, EncodingSource::ByteOrderMark);
    }
    if let Some(encoding) = hints.declared.and_then(|l| Encoding::for_label(l.trim().as_bytes())) {
        return finish(bytes, encoding, EncodingSource::Declared);
    }
    if hints.html
        && let Some(encoding) = meta_charset(bytes)
    {
        return finish(bytes, encoding, EncodingSource::MetaTag);
    }
    if std::str::from_utf8(bytes).is_ok() {
        return finish(bytes, UTF_8, EncodingSource::ValidUtf8);
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let guess = detector.guess(hints.tld, false);
    finish(bytes, guess, EncodingSource::Sniffed)
}

fn finish(bytes: &[u8], encoding: &'static Encoding, source: EncodingSource) -> Decoded {
    // UTF-16 declared in a meta tag is a lie by definition (the tag was readable as ASCII).
    let encoding = if source == EncodingSource::MetaTag { encoding.output_encoding() } else { encoding };
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    Decoded { text: text.into_owned(), encoding, source, had_errors }
}

/// Finds a charset declared in a `<meta>` tag within the first 1024 bytes.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(1024)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(found) = find(&lower[from..], b"<meta") {
        let tag_start = from + found;
        let tag_end =
            lower[tag_start..].iter().position(|b| *b == b'>').map_or(lower.len(), |p| tag_start + p);
        let tag = &lower[tag_start..tag_end];
        if let Some(at) = find(tag, b"charset") {
            let rest = &tag[at + b"charset".len()..];
            let rest = trim_start(rest);
            if let Some(rest) = rest.strip_prefix(b"=") {
                let rest = trim_start(rest);
                let rest = rest.strip_prefix(b"\"").or_else(|| rest.strip_prefix(b"'")).unwrap_or(rest);
                let label_len = rest
                    .iter()
                    .position(|b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>'))
                    .unwrap_or(rest.len());
                if let Some(encoding) = Encoding::for_label(&rest[..label_len]) {
                    return Some(encoding);
                }
            }
        }
        from = tag_end.max(tag_start + 1);
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[skip..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(text: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(text).0.into_owned()
    }

    #[test]
    fn undeclared_gbk_is_detected() {
        let bytes = gbk("单位代码,单位名称,类型\n南宁市人民政府办公厅,政府部门,关于开展政务公开工作的通知\n");
        let decoded = decode(&bytes, Hints::default());
        assert_eq!(decoded.source, EncodingSource::Sniffed);
        assert_eq!(decoded.encoding, encoding_rs::GBK);
        assert!(decoded.text.contains("南宁市人民政府办公厅"));
        assert!(!decoded.had_errors);
    }

    #[test]
    fn byte_order_mark_is_removed_and_wins() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("code,name".as_bytes());
        let decoded = decode(&bytes, Hints { declared: Some("gbk"), ..Hints::default() });
        assert_eq!(decoded.source, EncodingSource::ByteOrderMark);
        assert_eq!(decoded.text, "code,name");
    }

    #[test]
    fn meta_tag_charset_is_honoured_for_html() {
        let mut bytes =
            b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">".to_vec();
        bytes.extend(gbk("<title>政务公开</title>"));
        let decoded = decode(&bytes, Hints { html: true, ..Hints::default() });
        assert_eq!(decoded.source, EncodingSource::MetaTag);
        assert!(decoded.text.contains("政务公开"));
    }

    #[test]
    fn header_label_beats_meta_tag() {
        let bytes = "<meta charset=gbk><p>公开</p>".as_bytes();
        let decoded = decode(bytes, Hints { declared: Some("utf-8"), html: true, tld: None });
        assert_eq!(decoded.source, EncodingSource::Declared);
        assert!(decoded.text.contains("公开"));
    }
}
