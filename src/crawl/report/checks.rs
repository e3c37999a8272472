//! The checks of one report's text against the template: its sections, its tables and their
//! equations, its year and its publication date. Each finding quotes what was read.

use std::collections::BTreeMap;

use regex::Regex;
use rust_decimal::Decimal;
use serde_json::json;

use super::extract::ReportText;
use super::template::{Over, ReportTemplate, SectionSpec, TableSpec};
use crate::crawl::checks::CheckContext;
use crate::crawl::dates::find_dates;
use crate::model::Finding;
use crate::model::check::{
    REPORT_LATE, REPORT_SECTION_MISSING, REPORT_STALE_COPY, REPORT_TABLE_INCONSISTENT,
};

/// Characters of evidence quoted at most.
const QUOTE_CHARS: usize = 160;

/// Where a section's heading was found: the template's section and the line's index.
#[derive(Debug, Clone)]
pub struct FoundSection<'t> {
    /// The template's section the heading names.
    pub spec: &'t SectionSpec,
    /// The heading line's index in the report's lines (0-based).
    pub line: usize,
}

/// `lines` with a line break put before every numbered heading of the template found inside a
/// line: PDF text extraction often runs a heading into the line before or after it.
pub fn split_headings(template: &ReportTemplate, lines: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let mut cuts: Vec<usize> =
            template.inline_headings.find_iter(line).map(|m| m.start()).filter(|&at| at > 0).collect();
        cuts.dedup();
        let mut from = 0;
        for at in cuts {
            let piece = line[from..at].trim();
            if !piece.is_empty() {
                out.push(piece.to_owned());
            }
            from = at;
        }
        out.push(line[from..].trim().to_owned());
    }
    out
}

/// The headings found, in document order (each section once, at its first heading).
pub fn find_sections<'t>(template: &'t ReportTemplate, lines: &[String]) -> Vec<FoundSection<'t>> {
    let mut found: Vec<FoundSection<'t>> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let (numbered, rest) = strip_numbering(&template.numbering, line);
        let rest: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
        let spec = template.sections.iter().find(|spec| {
            !found.iter().any(|f| f.spec.id == spec.id)
                && spec.headings.iter().any(|heading| {
                    let heading: String = heading.chars().filter(|c| !c.is_whitespace()).collect();
                    rest.starts_with(&heading)
                        && (numbered
                            || rest.chars().count()
                                <= heading.chars().count() + template.max_unnumbered_extra)
                })
        });
        if let Some(spec) = spec {
            found.push(FoundSection { spec, line: index });
        }
    }
    found
}

/// `line` without its heading number, and whether it had one.
fn strip_numbering<'l>(numbering: &[Regex], line: &'l str) -> (bool, &'l str) {
    let line = line.trim();
    for pattern in numbering {
        if let Some(m) = pattern.find(line)
            && m.start() == 0
        {
            return (true, &line[m.end()..]);
        }
    }
    (false, line)
}

/// The lines of a found section: after its heading, up to the next heading found.
fn section_lines<'l>(found: &[FoundSection<'_>], id: &str, lines: &'l [String]) -> Option<&'l [String]> {
    let at = found.iter().position(|f| f.spec.id == id)?;
    let start = found[at].line + 1;
    let end = found.iter().map(|f| f.line).filter(|&l| l > found[at].line).min().unwrap_or(lines.len());
    lines.get(start..end)
}

/// A run of text followed by the numbers after it, as the table's text reads.
#[derive(Debug, Clone, Default)]
struct Group {
    label: String,
    numbers: Vec<Decimal>,
    /// The numbers as written, for quoting.
    written: Vec<String>,
}

/// A token that is a whole number as tables write them (`12`, `1,204`, `0.50`).
fn number(token: &str) -> Option<Decimal> {
    let plain: String = token.chars().filter(|c| *c != ',' && *c != '，').collect();
    let valid = !plain.is_empty()
        && plain.chars().all(|c| c.is_ascii_digit() || c == '.')
        && plain.chars().next().is_some_and(|c| c.is_ascii_digit())
        && plain.matches('.').count() <= 1
        && !plain.ends_with('.');
    if valid { plain.parse().ok() } else { None }
}

/// The section's text as label runs each followed by its numbers.
fn groups(lines: &[String]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    let mut current = Group::default();
    for token in lines.iter().flat_map(|l| l.split_whitespace()) {
        if let Some(value) = number(token) {
            current.numbers.push(value);
            current.written.push(token.to_owned());
        } else {
            if !current.numbers.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            current.label.push_str(token);
        }
    }
    if !current.label.is_empty() || !current.numbers.is_empty() {
        out.push(current);
    }
    out
}

/// One row as read: the template's row index, its cells by column index, and its text.
#[derive(Debug, Clone)]
struct ReadRow {
    row: usize,
    cells: BTreeMap<usize, Decimal>,
    quote: String,
}

/// Reads `table`'s rows from its section's lines, in the template's row order.
fn read_table(table: &TableSpec, lines: &[String]) -> Vec<ReadRow> {
    let groups = groups(lines);
    let columns = table.columns.len();
    let mut out = Vec::new();
    let mut at = 0;
    for (index, row) in table.rows.iter().enumerate() {
        let next_labels = table.rows.get(index + 1).map(|r| r.labels.as_slice()).unwrap_or_default();
        let found = if row.labels.is_empty() {
            groups.iter().enumerate().skip(at).find(|(_, g)| g.numbers.len() == columns)
        } else {
            groups.iter().enumerate().skip(at).find(|(_, g)| row.labels.iter().any(|l| g.label.contains(l)))
        };
        let Some((position, group)) = found else { continue };
        // The next row's label in the same run, after this one's: this row's cells were empty
        // and the numbers belong to the next row.
        let own = row.labels.iter().filter_map(|l| group.label.find(l.as_str())).min().unwrap_or(0);
        let blank = next_labels.iter().any(|l| group.label[own..].contains(l.as_str()));
        let cells: BTreeMap<usize, Decimal> = if blank {
            BTreeMap::new()
        } else if group.numbers.len() == columns {
            group.numbers.iter().copied().enumerate().collect()
        } else if group.numbers.len() == 1 {
            BTreeMap::from([(columns - 1, group.numbers[0])])
        } else {
            BTreeMap::new()
        };
        let quote = truncate(&format!("{} {}", group.label, group.written.join(" ")));
        out.push(ReadRow { row: index, cells, quote });
        at = if blank { position } else { position + 1 };
    }
    out
}

/// The template's check of one report's text (`text`, read from `url`) for `year`.
pub fn check(
    ctx: &CheckContext<'_>,
    template: &ReportTemplate,
    year: i32,
    url: &str,
    text: &ReportText,
) -> Vec<Finding> {
    let split = split_headings(template, &text.lines);
    let lines = &split;
    let found = find_sections(template, lines);
    let mut findings = Vec::new();
    let found_names: Vec<String> = found.iter().map(|f| lines[f.line].clone()).collect();
    for spec in &template.sections {
        if !found.iter().any(|f| f.spec.id == spec.id) {
            findings.push(ctx.finding(
                &REPORT_SECTION_MISSING,
                Some(url),
                json!({
                    "key": spec.name, "section": spec.name, "kind": "section", "year": year,
                    "headings": spec.headings, "found_headings": found_names,
                    "template": template.version,
                }),
            ));
        }
    }
    for table in &template.tables {
        let Some(section) = section_lines(&found, &table.section, lines) else { continue };
        let rows = read_table(table, section);
        if rows.len() < table.min_rows {
            let quote = truncate(&section.join(" "));
            findings.push(ctx.finding(
                &REPORT_SECTION_MISSING,
                Some(url),
                json!({
                    "key": table.name, "section": table.name, "kind": "table", "year": year,
                    "rows_found": rows.len(), "rows_required": table.min_rows, "quote": quote,
                    "template": template.version,
                }),
            ));
            continue;
        }
        findings.extend(inconsistencies(ctx, url, table, &rows));
    }
    findings.extend(wrong_year(ctx, url, year, text));
    findings.extend(late(ctx, template, url, year, lines));
    findings
}

/// The table's equations that do not hold, one finding per rule and column (or row).
fn inconsistencies(ctx: &CheckContext<'_>, url: &str, table: &TableSpec, rows: &[ReadRow]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in &table.rules {
        // (where: the column or row name, cells by id, quotes of the rows read)
        let mut cases: Vec<(String, BTreeMap<String, Decimal>, Vec<String>)> = Vec::new();
        match rule.over {
            Over::Columns => {
                for (c, column) in table.columns.iter().enumerate() {
                    let mut cells = BTreeMap::new();
                    for read in rows {
                        if let Some(value) = read.cells.get(&c) {
                            cells.insert(table.rows[read.row].id.clone(), *value);
                        }
                    }
                    let quotes = rows.iter().map(|r| r.quote.clone()).collect();
                    cases.push((column.name.clone(), cells, quotes));
                }
            }
            Over::Rows => {
                for read in rows {
                    let cells = read.cells.iter().map(|(c, v)| (table.columns[*c].id.clone(), *v)).collect();
                    cases.push((table.rows[read.row].name.clone(), cells, vec![read.quote.clone()]));
                }
            }
        }
        for (place, cells, quotes) in cases {
            let (Some(left), Some(right)) = (rule.left.eval(&cells), rule.right.eval(&cells)) else {
                continue;
            };
            if left == right {
                continue;
            }
            let shown: BTreeMap<String, String> =
                cells.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
            findings.push(ctx.finding(
                &REPORT_TABLE_INCONSISTENT,
                Some(url),
                json!({
                    "key": format!("{}·{}·{place}", table.name, rule.name),
                    "table": table.name, "rule": rule.name, "at": place,
                    "left": { "expression": rule.left.source, "value": left.to_string() },
                    "right": { "expression": rule.right.source, "value": right.to_string() },
                    "cells": shown, "quote": quotes,
                }),
            ));
        }
    }
    findings
}

/// The first `YYYY年` in `text`.
fn first_year(text: &str) -> Option<(i32, usize)> {
    let chars: Vec<char> = text.chars().collect();
    for i in 0..chars.len().saturating_sub(4) {
        let digits = &chars[i..i + 4];
        let before_ok = i == 0 || !chars[i - 1].is_ascii_digit();
        if before_ok && digits.iter().all(char::is_ascii_digit) && chars[i + 4] == '年' {
            let year: i32 = digits.iter().collect::<String>().parse().ok()?;
            return Some((year, i));
        }
    }
    None
}

/// `report.stale_copy` for a report of another year: its title (or first heading) names
/// another year, or its text never names the due year but does name the year before.
fn wrong_year(ctx: &CheckContext<'_>, url: &str, year: i32, text: &ReportText) -> Option<Finding> {
    // The title, or failing a year there the first lines that name a report (never a date
    // line of the page's furniture).
    let titled = std::iter::once(&text.title)
        .chain(text.lines.iter().take(10))
        .filter(|line| line.contains("报告"))
        .find_map(|line| first_year(line).map(|(y, _)| (y, line.clone())));
    // The body without the title repeated as its heading: what the report says of itself.
    let body: Vec<&String> = text
        .lines
        .iter()
        .filter(|l| text.title.is_empty() || !(l.contains(&text.title) || text.title.contains(l.as_str())))
        .collect();
    let due = format!("{year}年");
    let previous = format!("{}年", year - 1);
    let (found_year, quote) = match titled {
        Some((found, line)) if found != year => (found, line),
        _ if !body.iter().any(|l| l.contains(&due)) && body.iter().any(|l| l.contains(&previous)) => {
            let line = body.iter().find(|l| l.contains(&previous)).copied().cloned().unwrap_or_default();
            (year - 1, line)
        }
        _ => return None,
    };
    Some(ctx.finding(
        &REPORT_STALE_COPY,
        Some(url),
        json!({
            "key": "year", "kind": "wrong_year", "year": year, "found_year": found_year,
            "quote": truncate(&quote),
        }),
    ))
}

/// The publication date the page shows: the first date after one of the template's labels.
pub fn publication_date(
    template: &ReportTemplate,
    lines: &[String],
    as_of: chrono::NaiveDate,
) -> Option<(chrono::NaiveDate, String)> {
    for line in lines {
        for label in &template.dates.labels {
            let Some(at) = line.find(label.as_str()) else { continue };
            let window: String = line[at + label.len()..].chars().take(template.dates.window).collect();
            if let Some(date) = find_dates(&window, as_of).into_iter().next() {
                return Some((date, truncate(line)));
            }
        }
    }
    None
}

/// `report.late`: the page's publication date is after the unit kind's deadline.
fn late(
    ctx: &CheckContext<'_>,
    template: &ReportTemplate,
    url: &str,
    year: i32,
    lines: &[String],
) -> Option<Finding> {
    let deadline = ctx.profile.annual_deadline(ctx.unit.kind, year)?;
    let (published, quote) = publication_date(template, lines, ctx.as_of)?;
    (published > deadline).then(|| {
        ctx.finding(
            &REPORT_LATE,
            Some(url),
            json!({
                "key": year.to_string(), "year": year, "published": published.to_string(),
                "deadline": deadline.to_string(), "days_late": (published - deadline).num_days(),
                "quote": quote,
            }),
        )
    })
}

/// `text` cut to [`QUOTE_CHARS`] characters.
pub fn truncate(text: &str) -> String {
    let mut out: String = text.chars().take(QUOTE_CHARS).collect();
    if text.chars().count() > QUOTE_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn headings_are_recognised_with_any_numbering_and_mentions_in_prose_are_not() {
        let template = ReportTemplate::builtin().expect("template");
        let text = lines(
            "本报告包括总体情况、主动公开政府信息情况等部分。\n一、总体情况\n正文\n（二）主动公开政府信息情况\n\
             3.收到和处理政府信息公开申请情况\n第四部分 政府信息公开行政复议、行政诉讼情况\n存在的主要问题及改进情况：\n\
             六、其他需要报告的事项。本单位无其他需要报告的事项。",
        );
        let found: Vec<(&str, usize)> =
            find_sections(&template, &text).iter().map(|f| (f.spec.id.as_str(), f.line)).collect();
        assert_eq!(
            found,
            [("summary", 1), ("proactive", 3), ("requests", 4), ("review", 5), ("problems", 6), ("other", 7)]
        );
        assert!(find_sections(&template, &lines("存在的主要问题及改进情况很多，下一步将加强")).is_empty());
    }

    #[test]
    fn numbers_are_whole_tokens_and_labels_run_until_the_next_number() {
        assert_eq!(number("1,204"), Some(Decimal::from(1204)));
        assert_eq!(number("0.50"), "0.50".parse().ok());
        assert_eq!(number("1.属于国家秘密"), None);
        assert_eq!(number("1."), None);
        let read = groups(&lines("申请人情况 自然人 总计\n一、本年新收 3 4\n1.属于 国家秘密\n0 0"));
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].label, "申请人情况自然人总计一、本年新收");
        assert_eq!(read[1].label, "1.属于国家秘密");
        assert_eq!(read[1].numbers, [Decimal::ZERO, Decimal::ZERO]);
    }
}
