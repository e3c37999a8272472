//! A problem with one place in an input file, reported as `LINE:FIELD: message`.

use std::fmt;

/// One problem with an input row. Line numbers are 1-based and count the header line, so
/// they match what a spreadsheet or text editor shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The line the problem is on, 1-based, the header being line 1.
    pub line: u64,
    /// The column (or `row`, `file`, `visit`…) the problem is in, by its header name.
    pub field: String,
    /// What is wrong and how to fix it, in Chinese.
    pub message: String,
}

impl RowProblem {
    /// A problem at `line`, in `field`.
    pub fn new(line: u64, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { line, field: field.into(), message: message.into() }
    }
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.field, self.message)
    }
}

/// Every problem found in a file, in line order. The file as a whole was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} 处错误，未导入任何数据", .0.len())]
pub struct Rejected(pub Vec<RowProblem>);

impl Rejected {
    /// The problems in line order, then by field, as people read them.
    pub fn sorted(mut problems: Vec<RowProblem>) -> Self {
        problems.sort_by(|a, b| a.line.cmp(&b.line).then_with(|| a.field.cmp(&b.field)));
        Self(problems)
    }
}
