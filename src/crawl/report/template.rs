//! The national template of the disclosure annual report (`crawlers/annual-report.toml`): the
//! sections a report must have, its tables with their rows and columns, and the equations the
//! tables' numbers must satisfy. Policy is data: the rules are zen-expression text (the same
//! evaluator the scoring rules use), compiled once when the file is loaded, and a bad file is
//! refused with the key named.

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::Regex;
use rust_decimal::Decimal;
use serde::Deserialize;
use zen_expression::expression::Standard;
use zen_expression::variable::Variable;
use zen_expression::{Expression, compile_expression};

/// The template shipped with gongkai.
pub const DEFAULT_TEMPLATE: &str = include_str!("../../../crawlers/annual-report.toml");
/// How the shipped template is named in error messages.
pub const DEFAULT_TEMPLATE_NAME: &str = "crawlers/annual-report.toml";

/// The template file could not be used; messages name the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The file is not TOML of the template's shape.
    #[error("年度报告模板 {file} 格式错误：{message}")]
    Parse {
        /// The template file, as named to `parse`.
        file: String,
        /// The TOML reader's message.
        message: String,
    },
    /// A value is unusable: a bad regular expression or rule, an unknown section, a zero size.
    #[error("年度报告模板 {file} 中 {key} 无效：{message}")]
    Invalid {
        /// The template file, as named to `parse`.
        file: String,
        /// The key that is wrong, as a path (e.g. `tables.requests.rules.balance`).
        key: String,
        /// What is wrong with it, in Chinese.
        message: String,
    },
}

/// One required section and the heading texts that recognise it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionSpec {
    /// The section's id, which tables name to say where they sit.
    pub id: String,
    /// The template's own name, quoted in findings.
    pub name: String,
    /// The heading texts a report may use for it (any one), after the numbering.
    pub headings: Vec<String>,
}

/// A named row or column of a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellSpec {
    /// The row's or column's id: the variable the table's rules name it by.
    pub id: String,
    /// Its name in the national format, quoted in findings.
    pub name: String,
    /// Texts of which the row's label contains one (rows only). Empty: the section's first
    /// group of exactly as many numbers as the table has columns.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// Which way a rule runs over a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Over {
    /// In every column, with the rows' ids as variables.
    Columns,
    /// In every row, with the columns' ids as variables.
    Rows,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    name: String,
    over: Over,
    left: String,
    right: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    id: String,
    name: String,
    section: String,
    min_rows: usize,
    columns: Vec<CellSpec>,
    rows: Vec<CellSpec>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

/// One side of an equation, compiled.
#[derive(Debug, Clone)]
pub struct Side {
    /// The expression as written in the file (whitespace collapsed), quoted in findings.
    pub source: String,
    compiled: Arc<Expression<Standard>>,
}

impl Side {
    /// The side's value over `cells` (id → number); `None` when a cell it reads is absent.
    pub fn eval(&self, cells: &BTreeMap<String, Decimal>) -> Option<Decimal> {
        let context = Variable::empty_object();
        for (id, value) in cells {
            let _ = context.dot_insert(id, Variable::Number(*value));
        }
        self.compiled.evaluate(context).ok()?.as_number()
    }
}

/// An equation the table's numbers must satisfy.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule's id within its table.
    pub id: String,
    /// The equation in words (Chinese), quoted in findings.
    pub name: String,
    /// Whether it is checked in every column or in every row.
    pub over: Over,
    /// The equation's left side.
    pub left: Side,
    /// The equation's right side; the two must be equal.
    pub right: Side,
}

/// A table of the template.
#[derive(Debug, Clone)]
pub struct TableSpec {
    /// The table's id in the file.
    pub id: String,
    /// The table's name in the national format, quoted in findings.
    pub name: String,
    /// The id of the section it sits in.
    pub section: String,
    /// Fewer rows recognised than this means the table is missing.
    pub min_rows: usize,
    /// Its columns, in order: a row's numbers are read into them left to right.
    pub columns: Vec<CellSpec>,
    /// Its rows, each recognised by its labels.
    pub rows: Vec<CellSpec>,
    /// The equations its numbers must satisfy.
    pub rules: Vec<Rule>,
}

/// How the publication date is found on a report's page (the `[dates]` table).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateSpec {
    /// The labels a page puts before the publication date (e.g. 发布时间), any one.
    pub labels: Vec<String>,
    /// Characters read after a label to find the date.
    pub window: usize,
}

/// How reports of the city are compared for copying (the `[copying]` table): MinHash over
/// character shingles of the narrative.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopySpec {
    /// Estimated Jaccard similarity at which two reports are near-duplicates.
    pub near_duplicate: Decimal,
    /// Characters per shingle.
    pub shingle_chars: usize,
    /// The MinHash signature's length (more: a finer estimate, more work).
    pub hashes: usize,
    /// Reports with less narrative than this, in characters, are not compared (too short to judge).
    pub min_chars: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    template: String,
    max_chars: usize,
    numbering: Vec<String>,
    max_unnumbered_extra: usize,
    sections: Vec<SectionSpec>,
    tables: Vec<RawTable>,
    dates: DateSpec,
    copying: CopySpec,
    #[serde(default)]
    problem_groups: Vec<ProblemGroup>,
}

/// How the city's own draft groups the problems it found (the `[[problem_groups]]` tables), in
/// the reference report's words.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProblemGroup {
    /// A stable key, e.g. `on_and_off`.
    pub id: String,
    /// The group as the report names it (工作抓一阵、停一阵…).
    pub title: String,
    /// The check ids whose findings put a unit in this group.
    #[serde(default)]
    pub checks: Vec<String>,
    /// Instead of checks: the group counts the supervising units of the units in this (earlier)
    /// group.
    #[serde(default)]
    pub subordinates_of: Option<String>,
}

/// The template, loaded and compiled.
#[derive(Debug, Clone)]
pub struct ReportTemplate {
    /// Which version of the national format this file follows (quoted in findings).
    pub version: String,
    /// Characters of a report's text read at most; the rest is cut.
    pub max_chars: usize,
    /// The numbering a heading starts with (一、 /（一）/ 1. / 第一部分): patterns, any one, each
    /// anchored at the line's start in the file.
    pub numbering: Vec<Regex>,
    /// A numbered heading of any section anywhere in a line (numbering patterns unanchored,
    /// followed by a heading text), to split run-together PDF lines.
    pub inline_headings: Regex,
    /// Without numbering, a line is a heading only if it is the heading text plus at most this
    /// many characters (a colon, a full stop).
    pub max_unnumbered_extra: usize,
    /// The required sections, in the format's order.
    pub sections: Vec<SectionSpec>,
    /// The required tables with their rules.
    pub tables: Vec<TableSpec>,
    /// How the publication date is found.
    pub dates: DateSpec,
    /// How copying is detected.
    pub copying: CopySpec,
    /// How the city's own draft groups problems, in order.
    pub problem_groups: Vec<ProblemGroup>,
}

impl ReportTemplate {
    /// The shipped template.
    pub fn builtin() -> Result<Self, TemplateError> {
        Self::parse(DEFAULT_TEMPLATE, DEFAULT_TEMPLATE_NAME)
    }

    /// Parses and validates a template file's text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, TemplateError> {
        let raw: RawTemplate = toml::from_str(text)
            .map_err(|e| TemplateError::Parse { file: file.to_owned(), message: e.to_string() })?;
        let invalid =
            |key: String, message: String| TemplateError::Invalid { file: file.to_owned(), key, message };
        let mut numbering = Vec::new();
        for (i, pattern) in raw.numbering.iter().enumerate() {
            numbering
                .push(Regex::new(pattern).map_err(|e| invalid(format!("numbering[{i}]"), e.to_string()))?);
        }
        for (i, group) in raw.problem_groups.iter().enumerate() {
            let key = format!("problem_groups.{}", group.id);
            if let Some(unknown) = group.checks.iter().find(|c| crate::model::check::check_info(c).is_none())
            {
                return Err(invalid(format!("{key}.checks"), format!("没有检查项 {unknown}")));
            }
            match &group.subordinates_of {
                Some(of) if !raw.problem_groups[..i].iter().any(|g| &g.id == of) => {
                    return Err(invalid(
                        format!("{key}.subordinates_of"),
                        format!("前面没有 id 为 {of} 的类别"),
                    ));
                }
                None if group.checks.is_empty() => {
                    return Err(invalid(key, "须列出 checks 或给出 subordinates_of".into()));
                }
                _ => {}
            }
        }
        for section in &raw.sections {
            if section.headings.iter().all(|h| h.trim().is_empty()) {
                return Err(invalid(format!("sections.{}.headings", section.id), "至少需要一个标题".into()));
            }
        }
        let mut tables = Vec::new();
        for table in raw.tables {
            let key = format!("tables.{}", table.id);
            if !raw.sections.iter().any(|s| s.id == table.section) {
                return Err(invalid(
                    format!("{key}.section"),
                    format!("没有 id 为 {} 的章节", table.section),
                ));
            }
            if table.columns.is_empty() || table.rows.is_empty() {
                return Err(invalid(key, "表格至少需要一行一列".into()));
            }
            let mut rules = Vec::new();
            for rule in table.rules {
                let rule_key = format!("{key}.rules.{}", rule.id);
                let compile = |side: &str, source: &str| {
                    let compiled = compile_expression(source)
                        .map_err(|e| invalid(format!("{rule_key}.{side}"), e.to_string()))?;
                    Ok::<_, TemplateError>(Side { source: collapse(source), compiled: Arc::new(compiled) })
                };
                let (left, right) = (compile("left", &rule.left)?, compile("right", &rule.right)?);
                // Every variable must be a cell: with all cells zero both sides are numbers
                // (a misspelt name reads as null and is refused here, not at crawl time).
                let names = match rule.over {
                    Over::Columns => &table.rows,
                    Over::Rows => &table.columns,
                };
                let zeros: BTreeMap<String, Decimal> =
                    names.iter().map(|c| (c.id.clone(), Decimal::ZERO)).collect();
                for (side, expr) in [("left", &left), ("right", &right)] {
                    if expr.eval(&zeros).is_none() {
                        return Err(invalid(format!("{rule_key}.{side}"), "引用了表格中没有的行或列".into()));
                    }
                }
                rules.push(Rule { id: rule.id, name: rule.name, over: rule.over, left, right });
            }
            tables.push(TableSpec {
                id: table.id,
                name: table.name,
                section: table.section,
                min_rows: table.min_rows,
                columns: table.columns,
                rows: table.rows,
                rules,
            });
        }
        let numbers: Vec<&str> = raw.numbering.iter().map(|p| p.trim_start_matches('^')).collect();
        let titles: Vec<String> =
            raw.sections.iter().flat_map(|s| s.headings.iter()).map(|h| regex::escape(h.trim())).collect();
        let inline = format!("(?:{})(?:{})", numbers.join("|"), titles.join("|"));
        let inline_headings = Regex::new(&inline).map_err(|e| invalid("numbering".into(), e.to_string()))?;
        let copying = raw.copying;
        if copying.hashes == 0 || copying.shingle_chars == 0 {
            return Err(invalid("copying".into(), "hashes 与 shingle_chars 须大于 0".into()));
        }
        if copying.near_duplicate <= Decimal::ZERO || copying.near_duplicate > Decimal::ONE {
            return Err(invalid("copying.near_duplicate".into(), "应在 0 与 1 之间".into()));
        }
        Ok(Self {
            version: raw.template,
            max_chars: raw.max_chars,
            numbering,
            inline_headings,
            max_unnumbered_extra: raw.max_unnumbered_extra,
            sections: raw.sections,
            tables,
            dates: raw.dates,
            copying,
            problem_groups: raw.problem_groups,
        })
    }

    /// The section with this id.
    pub fn section(&self, id: &str) -> Option<&SectionSpec> {
        self.sections.iter().find(|s| s.id == id)
    }
}

/// Whitespace collapsed to single spaces (multi-line expressions quoted in findings).
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn the_shipped_template_loads_with_the_2021_sections_and_rules() {
        let template = ReportTemplate::builtin().expect("template");
        assert!(template.version.contains("2021"));
        let names: Vec<&str> = template.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "总体情况",
                "主动公开政府信息情况",
                "收到和处理政府信息公开申请情况",
                "政府信息公开行政复议、行政诉讼情况",
                "存在的主要问题及改进情况",
                "其他需要报告的事项"
            ]
        );
        let requests = template.tables.iter().find(|t| t.id == "requests").expect("requests table");
        let balance = requests.rules.iter().find(|r| r.id == "balance").expect("balance rule");
        let cells: BTreeMap<String, Decimal> = [
            ("received", dec!(10)),
            ("carried_over", dec!(2)),
            ("handled", dec!(11)),
            ("carried_forward", dec!(1)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(balance.left.eval(&cells), Some(dec!(12)));
        assert_eq!(balance.right.eval(&cells), Some(dec!(12)));
        assert_eq!(balance.right.source, "handled + carried_forward");
    }

    #[test]
    fn a_rule_naming_a_cell_the_table_lacks_is_refused_with_its_key() {
        let bad = DEFAULT_TEMPLATE
            .replace("right = \"handled + carried_forward\"", "right = \"handled + carried_fwd\"");
        let err = ReportTemplate::parse(&bad, "x.toml").expect_err("misspelt cell");
        assert!(err.to_string().contains("tables.requests.rules.balance.right"), "{err}");
        let bad = DEFAULT_TEMPLATE.replace("section = \"review\"", "section = \"reviews\"");
        assert!(ReportTemplate::parse(&bad, "x.toml").is_err());
    }
}
