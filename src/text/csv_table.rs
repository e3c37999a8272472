//! Reading a CSV file with a header row of known column names, in UTF-8 or GBK.
//!
//! Shared by every CSV import (units registry, visits, self-assessment) so that all accept the
//! same files (any column order, a BOM, GBK, quoted fields, trailing blank lines) and word
//! header problems the same way.
//!
//! Line numbers are the file's own, as an editor shows them, whatever ends its lines (CRLF from
//! Excel or WPS, LF, a lone CR) and however many lines a quoted field spans: they are counted
//! from each record's byte offset, not taken from the CSV reader's own line counter.

use std::collections::HashMap;

use super::encoding::{self, Hints};
use super::problem::{Rejected, RowProblem};

/// A decoded file's data rows, with the column positions from its header.
pub struct Table {
    index: HashMap<&'static str, usize>,
    /// (1-based line, record) for every non-blank data row; rows that are not valid CSV or
    /// have the wrong number of fields are in `problems` instead.
    pub rows: Vec<(u64, csv::StringRecord)>,
    /// Rows that are not valid CSV or have the wrong number of fields; callers report them with
    /// their own.
    pub problems: Vec<RowProblem>,
    /// The encoding the bytes were decoded from (e.g. `UTF-8`, `GBK`).
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
        let lines = LineIndex::new(&decoded.text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(decoded.text.as_bytes());
        let mut records = reader.records();
        let header = match records.next() {
            Some(Ok(header)) => header,
            Some(Err(error)) => return Err(Rejected(vec![csv_problem(&error, &lines)])),
            None => return Err(Rejected(vec![RowProblem::new(1, "header", "文件为空，缺少表头行")])),
        };
        let index = columns(&header, required, optional)?;

        let mut rows = Vec::new();
        let mut problems = Vec::new();
        for record in records {
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    problems.push(csv_problem(&error, &lines));
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
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
                problems.push(RowProblem::new(1, name, "表头中该列重复"));
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

fn csv_problem(error: &csv::Error, lines: &LineIndex) -> RowProblem {
    let line = error.position().map_or(0, |p| lines.line_at(p.byte()));
    RowProblem::new(line, "row", format!("CSV 格式错误：{error}"))
}

/// Where each line of a text starts, to turn a byte offset into a 1-based line number.
/// CRLF, LF and a lone CR each end one line.
struct LineIndex<'t> {
    text: &'t [u8],
    starts: Vec<u64>,
}

impl<'t> LineIndex<'t> {
    fn new(text: &'t str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0u64];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    starts.push((i + 2) as u64);
                    i += 2;
                    continue;
                }
                b'\r' | b'\n' => starts.push((i + 1) as u64),
                _ => {}
            }
            i += 1;
        }
        Self { text: bytes, starts }
    }

    /// The line of a record that the CSV reader says starts at `offset`. The reader may put
    /// the start on the line break before it (the `\n` of a CRLF): the record's line is the
    /// one of its first byte that is not a line break.
    fn line_at(&self, offset: u64) -> u64 {
        let mut offset = usize::try_from(offset).unwrap_or(usize::MAX).min(self.text.len());
        while matches!(self.text.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        self.starts.partition_point(|start| *start <= offset as u64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [&str; 2] = ["a", "b"];

    /// The line of every row and of every problem.
    fn lines(text: &[u8]) -> (Vec<u64>, Vec<u64>) {
        let table = Table::read(text, &COLUMNS, &[]).expect("readable");
        (table.rows.iter().map(|(line, _)| *line).collect(), table.problems.iter().map(|p| p.line).collect())
    }

    /// Rows 2..=n+1, with a bad row (three fields) as data row `bad`.
    fn file(rows: usize, bad: usize, newline: &str) -> String {
        let mut text = format!("a,b{newline}");
        for n in 1..=rows {
            if n == bad {
                text.push_str(&format!("x{n},y,z{newline}"));
            } else {
                text.push_str(&format!("x{n},y{newline}"));
            }
        }
        text
    }

    #[test]
    fn crlf_files_are_numbered_like_lf_files_however_long() {
        for newline in ["\r\n", "\n", "\r"] {
            let (rows, problems) = lines(file(400, 201, newline).as_bytes());
            assert_eq!(problems, vec![202], "bad row on file line 202 with {newline:?}");
            assert_eq!(rows.first(), Some(&2));
            assert_eq!(rows.last(), Some(&401), "{newline:?}");
        }
    }

    #[test]
    fn a_bom_does_not_shift_lines() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(file(3, 2, "\r\n").as_bytes());
        assert_eq!(lines(&bytes), (vec![2, 4], vec![3]));
    }

    #[test]
    fn quoted_fields_over_several_lines_count_every_line() {
        let text = "a,b\r\n\"one\r\ntwo\r\nthree\",y\r\nx,y,z\r\nx,\"multi\nline\"\r\nlast,y\r\n";
        assert_eq!(lines(text.as_bytes()), (vec![2, 6, 8], vec![5]));
    }

    #[test]
    fn gbk_files_with_crlf_are_numbered_right() {
        let text = file(300, 250, "\r\n").replace("y", "乙");
        let (bytes, _, _) = encoding_rs::GBK.encode(&text);
        assert_eq!(lines(&bytes).1, vec![251]);
    }
}
