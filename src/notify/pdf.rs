//! The notice as a PDF, with the Chinese font embedded.
//!
//! krilla (the PDF library Typst is built on, actively maintained) embeds TrueType and
//! OpenType fonts, collections (.ttc) included, as CID fonts **subsetted** to the glyphs used
//! and with a ToUnicode map: a 4 MB CJK font adds a few kilobytes, and the text stays
//! searchable and copyable. It needs no C libraries, no system font lookup and no features of
//! the async stack, so it does not widen the dependency tree that SurrealDB shares.

use std::path::Path;

use krilla::color::rgb;
use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};

use super::render::{Block, blocks};
use crate::store::Notice;

/// A4 in PDF points (1/72 inch, krilla's `f32` units), and its margins: page geometry, never
/// a score (scores stay `Decimal` and are printed as text).
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN_X: f32 = 72.0;
const MARGIN_TOP: f32 = 72.0;
const MARGIN_BOTTOM: f32 = 72.0;

/// The PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// Neither `GONGKAI_PDF_FONT` nor any of the template's `fonts` names an existing file.
    #[error(
        "未找到可嵌入 PDF 的中文字体：请安装 fonts-droid-fallback 或 fonts-wqy-zenhei，或在通报模板 fonts 中指定字体文件"
    )]
    NoFont,
    /// A font file exists but could not be read: its path and why.
    #[error("无法读取字体 {0}：{1}")]
    FontRead(String, String),
    /// A font file is not a font the PDF writer can embed; holds its path.
    #[error("字体文件 {0} 无法使用")]
    FontInvalid(String),
    /// The PDF writer failed; its message.
    #[error("生成 PDF 失败：{0}")]
    Write(String),
}

/// Options for [`pdf`]; `compress: false` leaves streams readable (tests inspect them).
#[derive(Debug, Clone, Copy)]
pub struct PdfOptions {
    /// Compress the PDF's streams (the default); tests turn it off to read the text.
    pub compress: bool,
}

impl Default for PdfOptions {
    fn default() -> Self {
        Self { compress: true }
    }
}

/// How one kind of block is set: font size, alignment, indent (in ems), space before (in PDF
/// points — typography, not scores).
fn style(block: &Block) -> (f32, Align, f32, f32) {
    match block {
        Block::Masthead { .. } => (22.0, Align::Center, 0.0, 0.0),
        Block::Number { .. } => (12.0, Align::Center, 0.0, 10.0),
        Block::Title { .. } => (16.0, Align::Center, 0.0, 18.0),
        Block::Addressees { .. } => (12.0, Align::Left, 0.0, 14.0),
        Block::Heading { .. } => (13.0, Align::Left, 0.0, 12.0),
        Block::Paragraph { .. } => (12.0, Align::Left, 2.0, 4.0),
        Block::Unit { .. } => (12.0, Align::Left, 0.0, 8.0),
        Block::Item { .. } => (11.0, Align::Left, 2.0, 2.0),
        Block::Signature { .. } => (12.0, Align::Right, 0.0, 10.0),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Center,
    Right,
}

/// The advance of a character at `size`: full width for CJK characters (1 em in CJK fonts),
/// and DejaVu Sans Mono's 0.602 em for Latin ones, which are drawn in that font.
fn advance(c: char, size: f32) -> f32 {
    if is_latin(c) { size * LATIN_ADVANCE } else { size }
}

/// ASCII and general punctuation (“ ” — …), which CJK fallback fonts often lack: drawn in the
/// Latin font.
fn is_latin(c: char) -> bool {
    c.is_ascii() || ('\u{2000}'..='\u{206F}').contains(&c)
}

/// DejaVu Sans Mono's advance, in ems.
const LATIN_ADVANCE: f32 = 0.602;

/// The fonts a notice is set in: CJK, and a monospaced one for ASCII (where configured).
#[derive(Clone)]
pub struct PdfFonts {
    /// The CJK font, for everything but ASCII and general punctuation.
    pub cjk: Font,
    /// A monospaced font for ASCII and general punctuation (“ ” — …), which CJK fonts often lack;
    /// `None` when the template names none that exists.
    pub latin: Option<Font>,
}

/// Splits a line into runs of Latin and of other characters.
fn runs(line: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for c in line.chars() {
        match out.last_mut() {
            Some((latin, run)) if *latin == is_latin(c) => run.push(c),
            _ => out.push((is_latin(c), c.to_string())),
        }
    }
    out
}

/// Splits `text` into lines no wider than `width` (the first line `first_width`).
fn wrap(text: &str, size: f32, first_width: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0.0;
    for c in text.chars() {
        let limit = if lines.is_empty() { first_width } else { width };
        let w = advance(c, size);
        if used + w > limit && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            used = 0.0;
        }
        line.push(c);
        used += w;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Loads the font file (`.ttf`, `.otf`, or the first face of a `.ttc`).
pub fn load_font(path: &Path) -> Result<Font, PdfError> {
    let shown = path.display().to_string();
    let data = std::fs::read(path).map_err(|e| PdfError::FontRead(shown.clone(), e.to_string()))?;
    Font::new(data.into(), 0).ok_or(PdfError::FontInvalid(shown))
}

/// The notice as PDF bytes, set in `fonts`.
pub fn pdf(
    notice: &Notice,
    addressees: &str,
    fonts: &PdfFonts,
    options: PdfOptions,
) -> Result<Vec<u8>, PdfError> {
    let settings =
        SerializeSettings { compress_content_streams: options.compress, ..SerializeSettings::default() };
    let mut document = Document::new_with(settings);
    document.set_metadata(krilla::metadata::Metadata::new().title(notice.title.clone()));
    let content_width = PAGE_W - 2.0 * MARGIN_X;
    // Lay out every line first: (page, x, baseline y, size, red, text).
    let mut placed: Vec<(usize, f32, f32, f32, bool, String)> = Vec::new();
    let (mut page, mut y) = (0usize, MARGIN_TOP);
    for block in blocks(notice, addressees) {
        let (size, align, indent, before) = style(&block);
        let leading = size * 1.6;
        y += before;
        let first_width = content_width - indent * size;
        // Paragraphs indent their first line; items are indented throughout.
        let hanging = matches!(block, Block::Item { .. });
        let rest_width = if hanging { first_width } else { content_width };
        for (index, line) in wrap(block.text(), size, first_width, rest_width).into_iter().enumerate() {
            if y + leading > PAGE_H - MARGIN_BOTTOM {
                page += 1;
                y = MARGIN_TOP;
            }
            let width: f32 = line.chars().map(|c| advance(c, size)).sum();
            let x = match align {
                Align::Left if index == 0 || hanging => MARGIN_X + indent * size,
                Align::Left => MARGIN_X,
                Align::Center => MARGIN_X + ((content_width - width) / 2.0).max(0.0),
                Align::Right => MARGIN_X + (content_width - width).max(0.0),
            };
            y += leading;
            placed.push((page, x, y, size, matches!(block, Block::Masthead { .. }), line));
        }
    }
    let pages = placed.last().map_or(1, |p| p.0 + 1);
    for number in 0..pages {
        let settings =
            PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| PdfError::Write("页面尺寸".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for (_, x, y, size, red, line) in placed.iter().filter(|p| p.0 == number) {
            let paint = if *red { rgb::Color::new(200, 0, 0) } else { rgb::Color::black() };
            surface.set_fill(Some(Fill { paint: paint.into(), ..Fill::default() }));
            let mut at = *x;
            for (latin_run, run) in runs(line) {
                let font = match (&fonts.latin, latin_run) {
                    (Some(latin), true) => latin.clone(),
                    _ => fonts.cjk.clone(),
                };
                surface.draw_text(Point::from_xy(at, *y), font, *size, &run, false, TextDirection::Auto);
                at += run.chars().map(|c| advance(c, *size)).sum::<f32>();
            }
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| PdfError::Write(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_inside_the_width_and_keep_every_character() {
        let text = "被通报单位须于2027年1月5日前完成整改，并在平台单位门户中签收本通报、逐项答复整改情况。";
        let lines = wrap(text, 12.0, 100.0, 120.0);
        assert!(lines.len() > 3);
        assert_eq!(lines.concat(), text);
        for line in &lines[1..] {
            assert!(line.chars().map(|c| advance(c, 12.0)).sum::<f32>() <= 120.0, "{line}");
        }
    }
}
