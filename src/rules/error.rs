//! Problems found in a rule-set file, each pinned to `origin:line:column` and a TOML key
//! path, so that an office clerk can open the file at the right place.

use std::fmt;
use std::ops::Range;

/// One problem in a rule-set file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Where the text came from (a file path, or a name such as `<stdin>`).
    pub origin: String,
    /// 1-based line and column (columns count characters, not bytes).
    pub line: usize,
    /// The column, 1-based, counted in characters.
    pub column: usize,
    /// The TOML key path, e.g. `indicators[2].deductions[0].per_finding`.
    pub key: String,
    /// What is wrong, in Simplified Chinese.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}:{}:{}: {}", self.origin, self.line, self.column, self.message)
        } else {
            write!(f, "{}:{}:{}: {}: {}", self.origin, self.line, self.column, self.key, self.message)
        }
    }
}

/// The file was refused; every problem found is listed, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("规则集有 {} 处错误：\n{}", .problems.len(), render(.problems))]
pub struct RuleSetError {
    /// Every problem found, in file order.
    pub problems: Vec<Problem>,
}

fn render(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
}

/// Turns byte offsets into line/column positions of one text.
#[derive(Debug, Clone)]
pub(super) struct Locator<'a> {
    origin: &'a str,
    text: &'a str,
}

impl<'a> Locator<'a> {
    pub(super) fn new(origin: &'a str, text: &'a str) -> Self {
        Self { origin, text }
    }

    pub(super) fn text(&self) -> &'a str {
        self.text
    }

    /// 1-based line and character column of a byte offset (clamped to the text).
    pub(super) fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    pub(super) fn problem(
        &self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        let (line, column) = self.position(span.start);
        Problem { origin: self.origin.to_string(), line, column, key: key.into(), message: message.into() }
    }
}

/// Collects problems while validation carries on, so one run reports all of them.
#[derive(Debug)]
pub(super) struct Problems<'a> {
    pub at: Locator<'a>,
    pub list: Vec<Problem>,
}

impl<'a> Problems<'a> {
    pub(super) fn new(at: Locator<'a>) -> Self {
        Self { at, list: Vec::new() }
    }

    pub(super) fn push(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        let problem = self.at.problem(span, key, message);
        self.list.push(problem);
    }

    pub(super) fn into_result<T>(mut self, value: T) -> Result<T, RuleSetError> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            self.list.sort_by(|a, b| (a.line, a.column, &a.key).cmp(&(b.line, b.column, &b.key)));
            self.list.dedup();
            Err(RuleSetError { problems: self.list })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let at = Locator::new("f.toml", "a = 1\n标题 = \"x\"\n");
        assert_eq!(at.position(0), (1, 1));
        assert_eq!(at.position(6), (2, 1));
        // "标题 = " is 2 three-byte characters plus 3 ASCII: the quote is column 6.
        assert_eq!(at.position(6 + 6 + 3), (2, 6));
    }
}
