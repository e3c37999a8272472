//! The notice as a document: a list of blocks (heading, number, paragraphs, the named units)
//! that the printable HTML page and the PDF both lay out, so the two never say different things.

use minijinja::{Environment, context};
use serde::Serialize;

use super::draft::day_zh;
use crate::store::Notice;

/// One block of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// The issuing office, large and centred (the document's masthead).
    Masthead {
        /// The issuer's name.
        text: String,
    },
    /// The document number, centred under the masthead.
    Number {
        /// The document number (文号), or a placeholder while a draft.
        text: String,
    },
    /// The notice's title, under the number.
    Title {
        /// The title text.
        text: String,
    },
    /// The addressees, flush left.
    Addressees {
        /// The addressee line, as the caller words it.
        text: String,
    },
    /// A section heading from the template (一、…).
    Heading {
        /// The heading text.
        text: String,
    },
    /// One paragraph of a section's body.
    Paragraph {
        /// The paragraph text.
        text: String,
    },
    /// A named unit: its name, then its reasons, findings and deadline, indented.
    Unit {
        /// `N. name（credit code）`.
        text: String,
    },
    /// One line under a named unit: a reason, a finding with its evidence, or the deadline.
    Item {
        /// The line, with its label (通报原因：…, 整改期限：…).
        text: String,
    },
    /// The signature and date, flush right.
    Signature {
        /// The issuer, or the date in Chinese (2027年1月5日).
        text: String,
    },
}

impl Block {
    /// The block's text, whatever its kind.
    pub fn text(&self) -> &str {
        match self {
            Block::Masthead { text }
            | Block::Number { text }
            | Block::Title { text }
            | Block::Addressees { text }
            | Block::Heading { text }
            | Block::Paragraph { text }
            | Block::Unit { text }
            | Block::Item { text }
            | Block::Signature { text } => text,
        }
    }
}

/// The blocks of a notice, in reading order.
pub fn blocks(notice: &Notice, addressees: &str) -> Vec<Block> {
    let mut out = vec![Block::Masthead { text: notice.issuer.clone() }];
    out.push(Block::Number {
        text: notice.number.clone().unwrap_or_else(|| "（文号于审批时确定）".into())
    });
    out.push(Block::Title { text: notice.title.clone() });
    if !addressees.is_empty() {
        out.push(Block::Addressees { text: addressees.to_string() });
    }
    for section in &notice.sections {
        out.push(Block::Heading { text: section.heading.clone() });
        for paragraph in section.text.split('\n').map(str::trim).filter(|p| !p.is_empty()) {
            if paragraph == "{unit_list}" {
                unit_list(notice, &mut out);
            } else {
                out.push(Block::Paragraph { text: paragraph.to_string() });
            }
        }
    }
    let date = notice.approved_at.map(day_zh).unwrap_or_default();
    out.push(Block::Signature { text: notice.issuer.clone() });
    if !date.is_empty() {
        out.push(Block::Signature { text: date });
    }
    out
}

fn unit_list(notice: &Notice, out: &mut Vec<Block>) {
    for (index, unit) in notice.units.iter().enumerate() {
        out.push(Block::Unit { text: format!("{}. {}（{}）", index + 1, unit.name, unit.unit) });
        for reason in &unit.reasons {
            out.push(Block::Item { text: format!("通报原因：{reason}") });
        }
        if let Some(note) = &unit.added_note {
            out.push(Block::Item { text: format!("补充列入：{note}") });
        }
        for finding in &unit.findings {
            let mut line = format!("问题：{}", finding.title);
            if let Some(url) = &finding.url {
                line.push_str(&format!("（{url}）"));
            }
            if !finding.evidence.is_empty() {
                line.push_str(&format!("；证据：{}", finding.evidence));
            }
            out.push(Block::Item { text: line });
        }
        out.push(Block::Item { text: format!("整改期限：{}", day_zh(unit.deadline)) });
    }
}

const PAGE: &str = r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
  body { font-family: "Droid Sans Fallback", "WenQuanYi Zen Hei", "Noto Sans CJK SC", sans-serif;
         max-width: 46em; margin: 2em auto; line-height: 1.8; color: #111; }
  .masthead { color: #c00; font-size: 1.8em; text-align: center; font-weight: bold;
              border-bottom: 2px solid #c00; padding-bottom: .3em; }
  .number { text-align: center; margin: .5em 0 1.5em; }
  .title { text-align: center; font-size: 1.3em; font-weight: bold; }
  .heading { font-weight: bold; margin-top: 1em; }
  .paragraph { text-indent: 2em; }
  .unit { font-weight: bold; margin-top: .6em; }
  .item { padding-left: 2em; }
  .signature { text-align: right; }
  @media print { body { margin: 0 auto; } }
</style>
</head>
<body>
{% for b in blocks %}<div class="{{ b.kind }}">{{ b.text }}</div>
{% endfor %}
</body>
</html>
"#;

/// The printable page. Crawled text (evidence, URLs) is escaped by the template engine.
pub fn html(notice: &Notice, addressees: &str) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.add_template("notice.html", PAGE)?;
    env.get_template("notice.html")?
        .render(context! { title => notice.title, blocks => blocks(notice, addressees) })
}

/// The plain-text body lines (for the e-mail and tests).
pub fn text(notice: &Notice, addressees: &str) -> String {
    blocks(notice, addressees).iter().map(Block::text).collect::<Vec<_>>().join("\n")
}
