//! `gongkai catalogue list` and `gongkai catalogue search`: browse the disclosure-catalogue
//! entries the last catalogue crawls stored; and the catalogue side of `gongkai crawl`.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use super::BadInput;
use super::crawl::CrawlArgs;
use super::output::{Format, Listing, print_listing};
use crate::crawl::catalogue::{CatalogueProfile, has_catalogue};
use crate::jobs::{self, CatalogueCrawl, CatalogueCrawlReport, Progress};
use crate::model::{CatalogueEntry, OrgCode};
use crate::store::Store;

/// One entry as listed; the field names are the stable JSON/CSV names.
#[derive(Debug, Clone, Serialize)]
struct EntryView {
    unit: String,
    class: String,
    index_no: Option<String>,
    title: String,
    publisher: Option<String>,
    created_on: Option<String>,
    doc_no: Option<String>,
    topic: Option<String>,
    genre: Option<String>,
    service: Option<String>,
    url: Option<String>,
}

impl From<CatalogueEntry> for EntryView {
    fn from(e: CatalogueEntry) -> Self {
        Self {
            unit: e.unit.to_string(),
            class: e.class,
            index_no: e.index_no,
            title: e.title,
            publisher: e.publisher,
            created_on: e.created_on.map(|d| d.to_string()),
            doc_no: e.doc_no,
            topic: e.topic,
            genre: e.genre,
            service: e.service,
            url: e.url,
        }
    }
}

impl Listing for EntryView {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("unit", "单位代码"),
        ("class", "类目"),
        ("index_no", "索引号"),
        ("title", "名称"),
        ("publisher", "发布机构"),
        ("created_on", "生成日期"),
        ("doc_no", "文号"),
        ("topic", "主题分类"),
        ("genre", "体裁分类"),
        ("service", "服务对象分类"),
        ("url", "网址"),
    ];

    fn cells(&self) -> Vec<String> {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            self.unit.clone(),
            self.class.clone(),
            text(&self.index_no),
            self.title.clone(),
            text(&self.publisher),
            text(&self.created_on),
            text(&self.doc_no),
            text(&self.topic),
            text(&self.genre),
            text(&self.service),
            text(&self.url),
        ]
    }
}

fn parse_unit(raw: &str) -> Result<OrgCode, BadInput> {
    OrgCode::parse(raw).map_err(|e| BadInput::new(format!("单位代码“{raw}”无效：{e}")))
}

/// `gongkai catalogue list --unit CODE [--class NAME]`.
pub(super) async fn list(
    store: &Store,
    unit: &str,
    class: Option<&str>,
    format: Format,
) -> anyhow::Result<()> {
    let code = parse_unit(unit)?;
    if store.unit(&code).await?.is_none() {
        return Err(BadInput::new(format!("未找到代码为 {code} 的单位")).into());
    }
    let class = class.map(str::trim).filter(|c| !c.is_empty());
    let entries = store.catalogue_entries(&code, class).await?;
    let views: Vec<EntryView> = entries.into_iter().map(EntryView::from).collect();
    print_listing(&views, format, &mut io::stdout().lock())?;
    Ok(())
}

/// `gongkai catalogue search QUERY [--unit CODE] [--limit N]`.
pub(super) async fn search(
    store: &Store,
    query: &str,
    unit: Option<&str>,
    limit: usize,
    format: Format,
) -> anyhow::Result<()> {
    if query.trim().is_empty() {
        return Err(BadInput::new("检索词不能为空").into());
    }
    let unit = unit.map(parse_unit).transpose()?;
    let entries = store.search_catalogue(query, unit.as_ref(), limit).await?;
    let views: Vec<EntryView> = entries.into_iter().map(EntryView::from).collect();
    print_listing(&views, format, &mut io::stdout().lock())?;
    Ok(())
}

/// Which side `gongkai crawl` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CrawlSide {
    /// 只检查网站 Websites only
    Site,
    /// 只检查公开目录 Catalogues only
    Catalogue,
}

/// The catalogue side of `gongkai crawl`: crawls the selected units that have a
/// `catalogue_url` and records one catalogue run. When `quiet_if_none` (both sides were asked
/// for) and no selected unit has a catalogue, nothing is done or printed.
pub(super) async fn crawl(
    store: &Store,
    args: &CrawlArgs,
    profile_path: Option<&Path>,
    quiet_if_none: bool,
) -> anyhow::Result<Option<serde_json::Value>> {
    let profile = match profile_path {
        Some(path) => CatalogueProfile::load(path),
        None => CatalogueProfile::builtin(),
    }
    .map_err(|e| BadInput::new(e.to_string()))?;
    let (day, observed_at) = jobs::crawl_instant(args.as_of.as_deref())?;
    let units = jobs::select_units(store, &args.units).await?;
    if quiet_if_none && args.format != Format::Json && !units.iter().any(has_catalogue) {
        return Ok(None);
    }
    let request = CatalogueCrawl { profile, units, day, observed_at, allow_private: args.allow_private };
    let progress = Progress::default();
    let (bar, ticker) = super::progress::show(progress.clone(), args.format == Format::Json);
    let crawled = jobs::crawl_catalogues(store, request, &progress).await;
    ticker.abort();
    bar.finish_and_clear();
    let CatalogueCrawlReport { summary: report, crawled: units, outcomes } = crawled?;
    if args.format == Format::Json {
        return Ok(Some(serde_json::to_value(&report)?));
    }
    let mut out = io::stdout().lock();
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(["单位代码", "单位名称", "公开目录", "类目", "条目数", "页面数", "问题数", "主要问题"]);
    for (unit, outcome) in units.iter().zip(&outcomes) {
        let mut checks: BTreeMap<&str, usize> = BTreeMap::new();
        for finding in &outcome.output.findings {
            *checks.entry(finding.check.as_str()).or_default() += 1;
        }
        let main: Vec<String> = checks.iter().map(|(check, n)| format!("{check}×{n}")).collect();
        let state = match (&outcome.error, &outcome.scan.root_error) {
            (Some(_), _) => "检查出错",
            (None, Some(_)) => "无法访问",
            (None, None) => "可访问",
        };
        let classes = outcome.scan.classes.iter().filter(|c| c.entries > 0).count();
        table.add_row(vec![
            unit.code.to_string(),
            unit.name.clone(),
            state.to_owned(),
            classes.to_string(),
            outcome.entries_read.to_string(),
            outcome.scan.pages.to_string(),
            outcome.output.findings.len().to_string(),
            main.join(" "),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "检查公开目录 {} 个（可访问 {}），抓取页面 {} 个，读取条目 {} 条，发现问题 {} 条；记录 {}",
        report.units,
        report.reachable,
        report.pages,
        report.entries,
        report.findings,
        report.run.as_deref().unwrap_or("-")
    )?;
    for error in &report.errors {
        writeln!(out, "单位 {} 的目录检查出错：{}", error.unit, error.error)?;
    }
    Ok(None)
}
