//! The notice template as data (`scoring-rules/notice.toml`): the issuing office, the number
//! pattern, the sections, the rectification period, the wording of each laggard criterion, the
//! font embedded in the PDF, and the e-mail.

use std::path::PathBuf;

use serde::Deserialize;

/// The shipped template.
pub const SHIPPED_TEMPLATE: &str = include_str!("../../scoring-rules/notice.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    notice: NoticePart,
    #[serde(default)]
    section: Vec<SectionPart>,
    #[serde(default)]
    criterion: Vec<Criterion>,
    email: EmailPart,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticePart {
    issuer: String,
    number_pattern: String,
    title: String,
    #[serde(default)]
    addressees: String,
    rectification_days: u32,
    #[serde(default)]
    fonts: Vec<PathBuf>,
    #[serde(default)]
    latin_fonts: Vec<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionPart {
    heading: String,
    text: String,
}

/// How a laggard reason is worded in the notice.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// The reason starts with this.
    #[serde(rename = "match")]
    pub starts_with: Option<String>,
    /// Or the reason contains this.
    pub contains: Option<String>,
    /// How the notice words a reason that matches (e.g. 考核排名靠后); the reason's particulars follow it.
    pub wording: String,
}

/// The e-mail sent to each named unit on publication (`[email]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailPart {
    /// The sender address, unless the `smtp.from` setting gives one.
    pub from: String,
    /// The subject line; placeholders such as `{number}` and `{title}` are filled in.
    pub subject: String,
    /// The body; `{unit_name}`, `{deadline}` and the notice's placeholders are filled in.
    pub body: String,
}

/// A parsed, validated template.
#[derive(Debug, Clone)]
pub struct NoticeTemplate {
    /// The issuing office (发文机关), as printed on the masthead and the signature.
    pub issuer: String,
    /// The document number's pattern: `{year}` and `{seq}` (the year's next number, fixed at approval).
    pub number_pattern: String,
    /// The title pattern; `{cycle}` is filled in.
    pub title: String,
    /// The addressee line (主送), e.g. 各县（区）人民政府，市直各单位：.
    pub addressees: String,
    /// Days from drafting to the named units' rectification deadline.
    pub rectification_days: u32,
    /// CJK fonts to embed in the PDF; the first file that exists is used (.ttf or .ttc).
    pub fonts: Vec<PathBuf>,
    /// A monospaced font for Latin letters and digits, which many CJK fonts lack.
    pub latin_fonts: Vec<PathBuf>,
    /// The sections as (heading, text); `{unit_list}` in a text marks where the named units go.
    pub sections: Vec<(String, String)>,
    /// How each laggard reason is worded, tried in order.
    pub criteria: Vec<Criterion>,
    /// The e-mail to the named units.
    pub email: EmailPart,
    /// The text it was parsed from, kept with every draft.
    pub source: String,
}

/// The template could not be used; the message names the place.
#[derive(Debug, Clone, thiserror::Error)]
#[error("通报模板 {origin} 有误：{message}")]
pub struct TemplateError {
    /// Where the template came from: a path, or the shipped file's name.
    pub origin: String,
    /// What is wrong, in Chinese, with the line number when the parser gives one.
    pub message: String,
}

impl NoticeTemplate {
    /// Parses and validates a template's TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, TemplateError> {
        let error = |message: String| TemplateError { origin: origin.to_string(), message };
        let file: TemplateFile = toml::from_str(text).map_err(|e| {
            error(match e.span() {
                Some(span) => format!(
                    "第 {} 行：{}",
                    text[..span.start.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1,
                    e.message()
                ),
                None => e.message().to_string(),
            })
        })?;
        if !file.notice.number_pattern.contains("{seq}") {
            return Err(error("notice.number_pattern 须含 {seq}（当年顺序号）".into()));
        }
        if file.notice.rectification_days == 0 {
            return Err(error("notice.rectification_days 须大于 0".into()));
        }
        if file.notice.issuer.trim().is_empty() || file.notice.title.trim().is_empty() {
            return Err(error("notice.issuer 与 notice.title 不能为空".into()));
        }
        if !file.section.iter().any(|s| s.text.contains("{unit_list}")) {
            return Err(error("至少一节的 text 须含 {unit_list}（被通报单位列表的位置）".into()));
        }
        for (index, criterion) in file.criterion.iter().enumerate() {
            let empty = |v: &Option<String>| v.as_deref().is_none_or(str::is_empty);
            if empty(&criterion.starts_with) && empty(&criterion.contains) {
                return Err(error(format!("第 {} 个 criterion 须设置 match 或 contains", index + 1)));
            }
        }
        Ok(Self {
            issuer: file.notice.issuer,
            number_pattern: file.notice.number_pattern,
            title: file.notice.title,
            addressees: file.notice.addressees,
            rectification_days: file.notice.rectification_days,
            fonts: file.notice.fonts,
            latin_fonts: file.notice.latin_fonts,
            sections: file.section.into_iter().map(|s| (s.heading, s.text)).collect(),
            criteria: file.criterion,
            email: file.email,
            source: text.to_string(),
        })
    }

    /// The shipped template (`scoring-rules/notice.toml`).
    pub fn shipped() -> Result<Self, TemplateError> {
        Self::parse(SHIPPED_TEMPLATE, "scoring-rules/notice.toml")
    }

    /// A ranking reason as the notice words it: the criterion's wording followed by the
    /// specifics the reason carries (what follows the matched prefix), or by the whole reason.
    pub fn word(&self, reason: &str) -> String {
        for c in &self.criteria {
            if let Some(prefix) = c.starts_with.as_deref().filter(|p| !p.is_empty())
                && let Some(rest) = reason.strip_prefix(prefix)
            {
                return format!("{}{}", c.wording, rest.trim());
            }
            if c.contains.as_deref().is_some_and(|p| !p.is_empty() && reason.contains(p)) {
                return format!("{}（{}）", c.wording, reason);
            }
        }
        reason.to_string()
    }

    /// The first configured font file that exists.
    pub fn font_path(&self) -> Option<PathBuf> {
        if let Ok(path) = std::env::var("GONGKAI_PDF_FONT")
            && !path.is_empty()
        {
            return Some(PathBuf::from(path));
        }
        self.fonts.iter().find(|p| p.is_file()).cloned()
    }

    /// The first configured Latin font file that exists.
    pub fn latin_font_path(&self) -> Option<PathBuf> {
        self.latin_fonts.iter().find(|p| p.is_file()).cloned()
    }
}

/// Replaces `{name}` placeholders.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_template_words_each_criterion() {
        let t = NoticeTemplate::shipped().expect("valid");
        assert_eq!(t.rectification_days, 30);
        assert_eq!(t.word("低于合格线（55 < 60）"), "考核得分低于合格线（55 < 60）");
        assert_eq!(t.word("单项否决：首页无法访问"), "网站存在单项否决问题：首页无法访问");
        assert!(t.word("2 项问题超过整改期限仍未整改").starts_with("存在超过整改期限仍未整改的问题"));
        assert_eq!(t.word("别的原因"), "别的原因");
        assert_eq!(fill(&t.number_pattern, &[("year", "2026"), ("seq", "3")]), "南政开办〔2026〕3号");
    }

    #[test]
    fn a_template_without_a_sequence_number_is_refused() {
        let bad = SHIPPED_TEMPLATE.replace("{seq}号", "号");
        let e = NoticeTemplate::parse(&bad, "x.toml").expect_err("no seq");
        assert!(e.message.contains("{seq}"), "{e}");
    }
}
