//! `gongkai crawl` and `gongkai probe`: check the registered units' websites and record one
//! crawl run with everything found (DESIGN.md §4, §6).

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use chrono_tz::Tz;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rust_decimal::Decimal;
use serde::Serialize;

use super::BadInput;
use super::output::{Format, print_json};
use crate::crawl::availability::{ProbeSample, availability};
use crate::crawl::checks::CheckContext;
use crate::crawl::profile::SiteProfile;
use crate::crawl::site::{CrawlEnv, SiteOutcome, probe};
use crate::jobs::{self, Progress, SiteCrawl, SiteSummary, count_by_check, has_website};
use crate::model::{CrawlKind, Finding, Metric, Unit};
use crate::store::{CrawlRunRecord, Store};

/// What `crawl` and `probe` are asked to do.
#[derive(Debug, Clone)]
pub struct CrawlArgs {
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
pub async fn crawl(store: &Store, args: CrawlArgs) -> anyhow::Result<Option<serde_json::Value>> {
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

#[derive(Serialize)]
struct ProbeRow {
    unit: String,
    name: String,
    reachable: bool,
    failure_ratio: Option<Decimal>,
    probe_days: Option<u32>,
    min_daily_probes: Option<u32>,
}

#[derive(Serialize)]
struct ProbeSummary {
    run: String,
    kind: &'static str,
    as_of: String,
    sites: usize,
    failed: usize,
    units: Vec<ProbeRow>,
}

pub async fn probe_all(store: &Store, args: CrawlArgs) -> anyhow::Result<()> {
    let mut profile = load_profile(args.profile.as_ref())?;
    // A probe is one request under the timeout: retrying a 503 would hide the failure it is
    // there to count, and the search-engine fetch belongs to the full crawl.
    profile.fetch.max_retries = 0;
    profile.spam.cloaking.enabled = false;
    let zone: Tz = profile.probe.time_zone.parse().map_err(|_| BadInput::new("probe.time_zone 无效"))?;
    let window = chrono::Duration::days(i64::from(profile.probe.window_days));
    let (day, observed_at) = jobs::crawl_instant(args.as_of.as_deref())?;
    let units: Vec<Unit> =
        jobs::select_units(store, &args.units).await?.into_iter().filter(has_website).collect();
    let env = CrawlEnv::new(profile, args.allow_private, day, observed_at)
        .map_err(|e| BadInput::new(e.to_string()))?;
    let started_at = Utc::now();
    let mut tasks = tokio::task::JoinSet::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(env.fetcher.config().global_concurrency));
    for (index, unit) in units.iter().cloned().enumerate() {
        let (env, limit) = (env.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let ctx = CheckContext {
                unit: &unit,
                as_of: env.as_of,
                observed_at: env.observed_at,
                profile: &env.profile,
            };
            (index, probe(&env.fetcher, &ctx).await)
        });
    }
    let mut failures: Vec<Option<Finding>> = vec![None; units.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, finding)) = joined {
            failures[index] = finding;
        }
    }
    let earlier = store.probe_runs(observed_at - window, observed_at).await?;
    let mut rows = Vec::new();
    let mut metrics = Vec::new();
    for (unit, failure) in units.iter().zip(&failures) {
        let code = unit.code.to_string();
        let mut samples: Vec<ProbeSample> = earlier
            .iter()
            .filter(|run| run.units.contains(&code))
            .map(|run| ProbeSample { at: run.as_of, failed: run.failed.contains(&code) })
            .collect();
        samples.push(ProbeSample { at: observed_at, failed: failure.is_some() });
        let found = availability(&samples, zone);
        if let Some(a) = found {
            let metric = |name: &str, value: Decimal| Metric {
                unit: unit.code.clone(),
                name: name.to_owned(),
                value,
                observed_at,
            };
            metrics.push(metric("site.failure_ratio", a.failure_ratio));
            metrics.push(metric("site.probe_days", Decimal::from(a.probe_days)));
            metrics.push(metric("site.min_daily_probes", Decimal::from(a.min_daily_probes)));
        }
        rows.push(ProbeRow {
            unit: code,
            name: unit.name.clone(),
            reachable: failure.is_none(),
            failure_ratio: found.map(|a| a.failure_ratio),
            probe_days: found.map(|a| a.probe_days),
            min_daily_probes: found.map(|a| a.min_daily_probes),
        });
    }
    let findings: Vec<Finding> = failures.into_iter().flatten().collect();
    let record = CrawlRunRecord {
        kind: CrawlKind::Probe,
        as_of: observed_at,
        started_at,
        finished_at: Utc::now(),
        units: units.iter().map(|u| u.code.clone()).collect(),
        stats: serde_json::json!({ "sites": units.len(), "failed": findings.len() }),
    };
    let run = store.record_crawl_run(&record, &findings, &metrics).await?;
    let summary = ProbeSummary {
        run,
        kind: "probe",
        as_of: day.to_string(),
        sites: units.len(),
        failed: findings.len(),
        units: rows,
    };
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
