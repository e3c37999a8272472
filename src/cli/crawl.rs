//! `gongkai crawl` and `gongkai probe`: check the registered units' websites and record one
//! crawl run with everything found (DESIGN.md §4, §6).

use std::collections::{BTreeMap, HashMap};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use chrono_tz::Tz;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use indicatif::{ProgressBar, ProgressStyle};
use rust_decimal::Decimal;
use serde::Serialize;

use super::BadInput;
use super::output::{Format, print_json};
use crate::crawl::availability::{ProbeSample, availability};
use crate::crawl::checks::CheckContext;
use crate::crawl::profile::SiteProfile;
use crate::crawl::site::{CrawlEnv, CrawlProgress, SiteOutcome, crawl_units, probe};
use crate::model::{CrawlKind, Finding, Metric, OrgCode, Unit};
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

/// The as-of day and the instant findings are stamped with: now, or noon (Beijing time) of the
/// given day so that a re-run for a past day is reproducible.
pub(super) fn as_of(raw: Option<&str>) -> Result<(NaiveDate, DateTime<Utc>), BadInput> {
    match raw {
        None => {
            let now = Utc::now();
            Ok((now.with_timezone(&Shanghai).date_naive(), now))
        }
        Some(raw) => {
            let day = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                .map_err(|_| BadInput::new(format!("--as-of 日期“{raw}”无效，应为 YYYY-MM-DD")))?;
            let noon = day
                .and_hms_opt(12, 0, 0)
                .and_then(|t| Shanghai.from_local_datetime(&t).single())
                .ok_or_else(|| BadInput::new(format!("--as-of 日期 {day} 超出范围")))?;
            Ok((day, noon.with_timezone(&Utc)))
        }
    }
}

/// The registered units to check: all, or those named by `--unit`.
pub(super) async fn select_units(store: &Store, codes: &[String]) -> anyhow::Result<Vec<Unit>> {
    let all = store.units().await?;
    if all.is_empty() {
        return Err(BadInput::new("还没有登记任何单位；请先运行 gongkai units import").into());
    }
    if codes.is_empty() {
        return Ok(all);
    }
    let mut by_code: HashMap<OrgCode, Unit> = all.into_iter().map(|u| (u.code.clone(), u)).collect();
    let mut selected = Vec::new();
    for raw in codes {
        let code = OrgCode::parse(raw).map_err(|e| BadInput::new(format!("单位代码“{raw}”无效：{e}")))?;
        match by_code.remove(&code) {
            Some(unit) => selected.push(unit),
            None if selected.iter().any(|u: &Unit| u.code == code) => {}
            None => return Err(BadInput::new(format!("未找到代码为 {code} 的单位")).into()),
        }
    }
    Ok(selected)
}

fn has_website(unit: &Unit) -> bool {
    unit.website.as_deref().is_some_and(|w| !w.trim().is_empty())
}

/// A progress bar on a terminal (sites done, pages, findings), hidden otherwise.
fn progress_bar(
    total: usize,
    format: Format,
    progress: Arc<CrawlProgress>,
) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = if format != Format::Json && io::stderr().is_terminal() {
        ProgressBar::new(total as u64).with_style(
            ProgressStyle::with_template("检查网站 {bar:30} {pos}/{len} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    } else {
        ProgressBar::hidden()
    };
    let shown = bar.clone();
    let ticker = tokio::spawn(async move {
        loop {
            shown.set_position(progress.sites_done.load(Ordering::Relaxed) as u64);
            shown.set_message(format!(
                "页面 {} · 问题 {}",
                progress.pages.load(Ordering::Relaxed),
                progress.findings.load(Ordering::Relaxed)
            ));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    (bar, ticker)
}

#[derive(Serialize)]
struct Summary {
    run: String,
    kind: &'static str,
    as_of: String,
    sites: usize,
    reachable: usize,
    without_website: usize,
    pages: usize,
    findings: usize,
    by_check: BTreeMap<String, usize>,
    errors: Vec<SiteError>,
}

#[derive(Serialize)]
struct SiteError {
    unit: String,
    error: String,
}

fn count_by_check(findings: &[Finding]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for finding in findings {
        *counts.entry(finding.check.clone()).or_default() += 1;
    }
    counts
}

/// Crawls the selected units' websites and records the run. With `--format json` the summary
/// is returned rather than printed, so that `gongkai crawl` can print one JSON document for
/// both sides.
pub async fn crawl(store: &Store, args: CrawlArgs) -> anyhow::Result<Option<serde_json::Value>> {
    let profile = load_profile(args.profile.as_ref())?;
    let (day, observed_at) = as_of(args.as_of.as_deref())?;
    let selected = select_units(store, &args.units).await?;
    let (units, without): (Vec<Unit>, Vec<Unit>) = selected.into_iter().partition(has_website);
    let env = CrawlEnv::new(profile, args.allow_private, day, observed_at)
        .map_err(|e| BadInput::new(e.to_string()))?;
    let started_at = Utc::now();
    let progress = Arc::new(CrawlProgress::default());
    let (bar, ticker) = progress_bar(units.len(), args.format, progress.clone());
    let outcomes = crawl_units(&env, units.clone(), progress).await;
    ticker.abort();
    bar.finish_and_clear();

    let findings: Vec<Finding> = outcomes.iter().flat_map(|o| o.findings.iter().cloned()).collect();
    let metrics: Vec<Metric> = outcomes.iter().flat_map(|o| o.metrics.iter().cloned()).collect();
    let errors: Vec<SiteError> = outcomes
        .iter()
        .filter_map(|o| o.error.as_ref().map(|e| SiteError { unit: o.unit.to_string(), error: e.clone() }))
        .collect();
    let pages = outcomes.iter().map(|o| o.pages).sum();
    let reachable = outcomes.iter().filter(|o| o.reachable).count();
    let stats = serde_json::json!({
        "sites": units.len(), "reachable": reachable, "pages": pages,
        "findings": findings.len(), "errors": errors.len(), "without_website": without.len(),
    });
    let record = CrawlRunRecord {
        kind: CrawlKind::Site,
        as_of: observed_at,
        started_at,
        finished_at: Utc::now(),
        units: units.iter().map(|u| u.code.clone()).collect(),
        stats,
    };
    let run = store.record_crawl_run(&record, &findings, &metrics).await?;
    let summary = Summary {
        run,
        kind: "site",
        as_of: day.to_string(),
        sites: units.len(),
        reachable,
        without_website: without.len(),
        pages,
        findings: findings.len(),
        by_check: count_by_check(&findings),
        errors,
    };
    if args.format == Format::Json {
        return Ok(Some(serde_json::to_value(&summary)?));
    }
    print_crawl_table(&summary, &units, &outcomes, &mut io::stdout().lock())?;
    Ok(None)
}

fn print_crawl_table(
    summary: &Summary,
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
    let (day, observed_at) = as_of(args.as_of.as_deref())?;
    let units: Vec<Unit> = select_units(store, &args.units).await?.into_iter().filter(has_website).collect();
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
