//! `gongkai report annual --year Y`: the draft of the city's own annual report on government
//! information disclosure (issue #17), as JSON (every number with its query) or as a printable
//! page or a PDF. The counting and the layout live in `notify::annual`; this only prints.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use super::BadInput;
use super::output::print_json;
use crate::crawl::report::ReportTemplate;
use crate::notify::PdfOptions;
use crate::notify::annual;
use crate::store::Store;

/// The reports the office drafts.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// 本市政府信息公开工作年度报告草稿（按国家格式，数字均附统计查询）— the city's annual report draft
    Annual {
        /// 报告年度 The calendar year reported on
        #[arg(long)]
        year: i32,
        /// 输出格式（缺省 JSON）Output format (default: JSON)
        #[arg(long, value_enum, default_value = "json")]
        format: ReportFormat,
        /// PDF 写入的文件（--format pdf 时必需）File the PDF is written to (required with pdf)
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// How the draft is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// JSON（字段名稳定，数字附查询）JSON, every number with its query
    Json,
    /// 可打印的网页 A printable HTML page
    Html,
    /// PDF（与通报同一排版，嵌入中文字体）A PDF set like the notices, written to --out
    Pdf,
}

/// Runs a `report` command.
pub(super) async fn dispatch(store: &Store, command: ReportCommand) -> anyhow::Result<()> {
    match command {
        ReportCommand::Annual { year, format, out } => annual_report(store, year, format, out).await,
    }
}

async fn annual_report(
    store: &Store,
    year: i32,
    format: ReportFormat,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    if !(2000..=2100).contains(&year) {
        return Err(BadInput::new(format!("年度“{year}”不在 2000–2100 之间")).into());
    }
    if format == ReportFormat::Pdf && out.is_none() {
        return Err(BadInput::new("--format pdf 须用 --out 指定写入的文件").into());
    }
    let template = ReportTemplate::builtin().map_err(|e| BadInput::new(e.to_string()))?;
    let figures = store.annual_figures(year).await?;
    let draft = annual::draft(&figures, &template);
    let mut stdout = io::stdout().lock();
    match format {
        ReportFormat::Json => print_json(&draft, &mut stdout)?,
        ReportFormat::Html => writeln!(stdout, "{}", annual::html(&draft)?)?,
        ReportFormat::Pdf => {
            let bytes =
                annual::pdf(&draft, PdfOptions::default()).map_err(|e| BadInput::new(e.to_string()))?;
            let path = out.unwrap_or_default();
            std::fs::write(&path, bytes).map_err(|e| anyhow::anyhow!("无法写入 {}：{e}", path.display()))?;
            writeln!(stdout, "{}", path.display())?;
        }
    }
    Ok(())
}
