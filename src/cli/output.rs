//! Listing output in the three formats every command offers: a table for people, JSON for
//! scripts (stable field names), CSV for spreadsheets.

use std::io::{self, IsTerminal, Write};

use clap::ValueEnum;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

/// How a listing is printed; every listing command takes `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// 表格（中文表头）A table with Chinese headings, for people
    Table,
    /// JSON（字段名稳定）JSON with stable field names, for scripts
    Json,
    /// CSV（表头为 JSON 字段名，可编辑后再导入）CSV headed by the JSON keys, for spreadsheets
    Csv,
}

impl Format {
    /// The format asked for, or a table on a terminal and JSON when piped.
    pub fn resolve(asked: Option<Format>) -> Format {
        asked.unwrap_or(if io::stdout().is_terminal() { Format::Table } else { Format::Json })
    }
}

/// A row type that can be listed. JSON comes from `Serialize`; CSV uses the `key`s as its
/// header (so a CSV export can be edited and imported again); tables use the Chinese headings.
pub(super) trait Listing: Serialize {
    /// (field key, table heading) per column.
    const COLUMNS: &'static [(&'static str, &'static str)];
    fn cells(&self) -> Vec<String>;
}

pub(super) fn print_listing<T: Listing>(rows: &[T], format: Format, out: &mut impl Write) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, rows)?;
            writeln!(out)
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(T::COLUMNS.iter().map(|(key, _)| key))?;
            for row in rows {
                writer.write_record(row.cells())?;
            }
            writer.flush()
        }
        Format::Table => {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED);
            table.set_header(T::COLUMNS.iter().map(|(_, heading)| heading));
            for row in rows {
                table.add_row(row.cells());
            }
            writeln!(out, "{table}")?;
            writeln!(out, "共 {} 条", rows.len())
        }
    }
}

/// One record shown as a two-column table of heading and value.
pub(super) fn print_record_table(pairs: &[(&str, String)], out: &mut impl Write) -> io::Result<()> {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    for (heading, value) in pairs {
        table.add_row(vec![heading.to_string(), value.clone()]);
    }
    writeln!(out, "{table}")
}

pub(super) fn print_json(value: &impl Serialize, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}
