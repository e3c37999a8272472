//! `gongkai crawl` and `gongkai probe`: check the registered units' websites and record one
//! crawl run with everything found (DESIGN.md §4, §6).

use std::io::{self, Write};
use std::path::PathBuf;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use super::BadInput;
use super::output::{Format, print_json};
use crate::crawl::profile::SiteProfile;
use crate::crawl::site::SiteOutcome;
use crate::jobs::{self, ProbeRound, Progress, SiteCrawl, SiteSummary, count_by_check};
use crate::model::Unit;
use crate::store::Store;

/// What `crawl` and `probe` are asked to do.
#[derive(Debug, Clone)]
pub(super) struct CrawlArgs {
    pub units: Vec<String>,
    pub as_of: Option<String>,
    pub allow_private: bool,
    pub profile: Option<PathBuf>,
    pub format: Format,
}

/// The profile from `--profile`, or the one shipped with gongkai.
fn load_profile(path: Option<&PathBuf>) -> Result<SiteProfile, BadInput> {
    match path {
        Some(path) => SiteProfile::load(path),
        None => SiteProfile::builtin(),
    }
    .map_err(|e| BadInput::new(e.to_string()))
}

/// Crawls the selected units' websites and records the run. With `--format json` the summary
/// is returned rather than printed, so that `gongkai crawl` can print one JSON document for
/// both sides.
pub(super) async fn crawl(store: &Store, args: CrawlArgs) -> anyhow::Result<Option<serde_json::Value>> {
    let profile = load_profile(args.profile.as_ref())?;
    let (day, observed_at) = jobs::crawl_instant(args.as_of.as_deref())?;
    let units = jobs::select_units(store, &args.units).await?;
    let progress = Progress::default();
    let (bar, ticker) = super::progress::show(progress.clone(), args.format == Format::Json);
    let request = SiteCrawl { profile, units, day, observed_at, allow_private: args.allow_private };
    let report = jobs::crawl_sites(store, request, &progress).await;
    ticker.abort();
    bar.finish_and_clear();
    let report = report?;
    if args.format == Format::Json {
        return Ok(Some(serde_json::to_value(&report.summary)?));
    }
    print_crawl_table(&report.summary, &report.crawled, &report.outcomes, &mut io::stdout().lock())?;
    Ok(None)
}

fn print_crawl_table(
    summary: &SiteSummary,
    units: &[Unit],
    outcomes: &[SiteOutcome],
    out: &mut impl Write,
) -> io::Result<()> {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(["单位代码", "单位名称", "首页", "页面数", "问题数", "主要问题"]);
    for (unit, outcome) in units.iter().zip(outcomes) {
        let checks = count_by_check(&outcome.findings);
        let main: Vec<String> = checks.iter().map(|(check, n)| format!("{check}×{n}")).collect();
        let state = match (&outcome.error, outcome.reachable) {
            (Some(_), _) => "检查出错",
            (None, true) => "可访问",
            (None, false) => "无法访问",
        };
        table.add_row(vec![
            unit.code.to_string(),
            unit.name.clone(),
            state.to_owned(),
            outcome.pages.to_string(),
            outcome.findings.len().to_string(),
            main.join(" "),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "检查网站 {} 个（可访问 {}，未登记网站 {}），抓取页面 {} 个，发现问题 {} 条；记录 {}",
        summary.sites,
        summary.reachable,
        summary.without_website,
        summary.pages,
        summary.findings,
        summary.run
    )?;
    for error in &summary.errors {
        writeln!(out, "单位 {} 检查出错：{}", error.unit, error.error)?;
    }
    Ok(())
}

/// Probes the selected units' home pages once (the scheduler does this 24 times a day) and
/// prints the availability over the window, computed from the stored samples.
pub(super) async fn probe_all(store: &Store, args: CrawlArgs) -> anyhow::Result<()> {
    let profile = load_profile(args.profile.as_ref())?;
    let (day, observed_at) = jobs::crawl_instant(args.as_of.as_deref())?;
    let units = jobs::select_units(store, &args.units).await?;
    let round = ProbeRound {
        profile,
        units,
        day,
        observed_at,
        allow_private: args.allow_private,
        spread: std::time::Duration::ZERO,
    };
    let summary = jobs::probe_sites(store, round).await?;
    let mut out = io::stdout().lock();
    match args.format {
        Format::Json => print_json(&summary, &mut out)?,
        _ => {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED);
            table.set_header(["单位代码", "单位名称", "本次探测", "失败率", "探测天数", "每日最少探测次数"]);
            let shown = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
            for row in &summary.units {
                table.add_row(vec![
                    row.unit.clone(),
                    row.name.clone(),
                    if row.reachable { "可访问".to_owned() } else { "失败".to_owned() },
                    shown(row.failure_ratio.map(|v| v.to_string())),
                    shown(row.probe_days.map(|v| v.to_string())),
                    shown(row.min_daily_probes.map(|v| v.to_string())),
                ]);
            }
            writeln!(out, "{table}")?;
            writeln!(out, "探测网站 {} 个，失败 {} 个；记录 {}", summary.sites, summary.failed, summary.run)?;
        }
    }
    Ok(())
}
