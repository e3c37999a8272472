//! Reading a CSV file with a header row of known column names, in UTF-8 or GBK.
//!
//! Shared by every CSV import (units registry, visits, self-assessment) so that all accept the
//! same files (any column order, a BOM, GBK, quoted fields, trailing blank lines) and word
//! header problems the same way.

use std::collections::HashMap;

use super::encoding::{self, Hints};
use super::problem::{Rejected, RowProblem};

/// A decoded file's data rows, with the column positions from its header.
pub struct Table {
    index: HashMap<&'static str, usize>,
    /// (1-based line, record) for every non-blank data row; rows that are not valid CSV or
    /// have the wrong number of fields are in `problems` instead.
    pub rows: Vec<(u64, csv::StringRecord)>,
    pub problems: Vec<RowProblem>,
    pub encoding: &'static str,
}

impl Table {
    /// Decodes and splits a file. Fails outright only when it cannot be read as a table at
    /// all (undecodable bytes, empty file, bad header).
    pub fn read(
        bytes: &[u8],
        required: &[&'static str],
        optional: &[&'static str],
    ) -> Result<Table, Rejected> {
        let decoded = encoding::decode(bytes, Hints { tld: Some(b"cn"), ..Hints::default() });
        if decoded.had_errors {
            return Err(Rejected(vec![RowProblem::new(
                0,
                "encoding",
                format!(
                    "文件编码无法识别（按 {} 解码出现乱码），请另存为 UTF-8 或 GBK 编码的 CSV",
                    decoded.encoding.name()
                ),
            )]));
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(decoded.text.as_bytes());
        let mut records = reader.records();
        let header = match records.next() {
            Some(Ok(header)) => header,
            Some(Err(error)) => return Err(Rejected(vec![csv_problem(&error)])),
            None => return Err(Rejected(vec![RowProblem::new(1, "header", "文件为空，缺少表头行")])),
        };
        let index = columns(&header, required, optional)?;

        let mut rows = Vec::new();
        let mut problems = Vec::new();
        for record in records {
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    problems.push(csv_problem(&error));
                    continue;
                }
            };
            let line = record.position().map_or(0, csv::Position::line);
            if record.iter().all(str::is_empty) {
                continue; // blank rows that spreadsheets leave at the end
            }
            if record.len() != header.len() {
                problems.push(RowProblem::new(
                    line,
                    "row",
                    format!("本行有 {} 个字段，表头有 {} 个", record.len(), header.len()),
                ));
                continue;
            }
            rows.push((line, record));
        }
        Ok(Table { index, rows, problems, encoding: decoded.encoding.name() })
    }

    /// A field's text, `None` when the column is absent or the cell is empty.
    pub fn get<'r>(&self, record: &'r csv::StringRecord, column: &str) -> Option<&'r str> {
        self.index.get(column).and_then(|i| record.get(*i)).filter(|v| !v.is_empty())
    }
}

fn columns(
    header: &csv::StringRecord,
    required: &[&'static str],
    optional: &[&'static str],
) -> Result<HashMap<&'static str, usize>, Rejected> {
    let mut index = HashMap::new();
    let mut problems = Vec::new();
    let allowed = || required.iter().chain(optional).copied().collect::<Vec<_>>().join(",");
    for (position, name) in header.iter().enumerate() {
        let name = name.trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
        match required.iter().chain(optional).find(|c| **c == name) {
            Some(known) if index.contains_key(known) => {
                problems.push(RowProblem::new(1, name, "表头中该列重复"))
            }
            Some(known) => {
                index.insert(*known, position);
            }
            None => problems.push(RowProblem::new(
                1,
                if name.is_empty() { format!("column {}", position + 1) } else { name },
                format!("未知的列；允许的列为 {}", allowed()),
            )),
        }
    }
    for column in required {
        if !index.contains_key(column) {
            problems.push(RowProblem::new(1, *column, "表头缺少必需的列"));
        }
    }
    if problems.is_empty() { Ok(index) } else { Err(Rejected(problems)) }
}

fn csv_problem(error: &csv::Error) -> RowProblem {
    let line = error.position().map_or(0, csv::Position::line);
    RowProblem::new(line, "row", format!("CSV 格式错误：{error}"))
}
