//! Benchmark: crawl a local universe of sites (default 200 sites × 50 pages) with the real site
//! crawler and checks, then probe every home page.
//!
//! `cargo run --example bench_crawl -- [SITES] [polite]`
//!
//! Each site listens on its own loopback address (127.0.1.1, 127.0.1.2, …), so per-host
//! politeness applies per site as it would on the internet. By default the shipped profile's
//! politeness (minimum gap, sites at a time) is lifted to measure the crawler itself; pass
//! `polite` to keep the shipped settings. Prints pages per second, wall time and peak memory.

#[path = "support/loopback_sites.rs"]
mod loopback_sites;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use gongkai::crawl::Fetcher;
use gongkai::crawl::checks::CheckContext;
use gongkai::crawl::profile::SiteProfile;
use gongkai::crawl::site::{CrawlEnv, CrawlProgress, crawl_units, probe};

fn peak_rss_mib() -> u64 {
    loopback_sites::status_mib("VmHWM")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sites: usize = std::env::args().nth(1).map_or(Ok(200), |a| a.parse())?;
    let polite = std::env::args().nth(2).as_deref() == Some("polite");
    let served = Arc::new(AtomicU64::new(0));
    let units =
        loopback_sites::start_sites(sites, 1, served.clone(), Duration::ZERO, loopback_sites::FULL).await?;

    let mut profile = SiteProfile::builtin()?;
    if !polite {
        profile.max_concurrent_sites = 64;
        profile.fetch.min_gap_ms = 0;
        profile.fetch.global_concurrency = 64;
    }
    profile.spam.cloaking.enabled = false;
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 27).ok_or_else(|| anyhow::anyhow!("date"))?;
    let observed =
        Utc.with_ymd_and_hms(2026, 11, 27, 8, 0, 0).single().ok_or_else(|| anyhow::anyhow!("date"))?;
    let mut probe_config = profile.fetch.clone();
    probe_config.allow_private = true;
    let probe_profile = profile.clone();
    let env = CrawlEnv::new(profile, true, as_of, observed)?;

    let started = Instant::now();
    let cpu_started = cpu_seconds();
    let outcomes = crawl_units(&env, units.clone(), Arc::new(CrawlProgress::default())).await;
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_started;
    let pages: usize = outcomes.iter().map(|o| o.pages).sum();
    let findings: usize = outcomes.iter().map(|o| o.findings.len()).sum();
    println!(
        "crawl: {sites} sites, {pages} pages ({} served), {findings} findings in {wall:.2} s wall, {cpu:.2} s CPU \
         (crawler and server together) = {:.0} pages/s; peak RSS {} MiB; politeness {}",
        served.load(Ordering::Relaxed),
        pages as f64 / wall,
        peak_rss_mib(),
        if polite { "as shipped" } else { "lifted" }
    );

    // Probe: one home-page request per unit, as `gongkai probe` does, all units at once under
    // the fetcher's global limit.
    let fetcher = Fetcher::new(probe_config)?;
    let started = Instant::now();
    let mut probes = tokio::task::JoinSet::new();
    for unit in units {
        let fetcher = fetcher.clone();
        let profile = probe_profile.clone();
        probes.spawn(async move {
            let ctx = CheckContext { unit: &unit, as_of, observed_at: observed, profile: &profile };
            probe(&fetcher, &ctx).await.is_some()
        });
    }
    let mut failed = 0;
    while let Some(result) = probes.join_next().await {
        failed += usize::from(result.unwrap_or(true));
    }
    let wall = started.elapsed().as_secs_f64();
    println!(
        "probe: {sites} home pages, {failed} failed, in {wall:.2} s = {:.0} probes/s; peak RSS {} MiB",
        sites as f64 / wall,
        peak_rss_mib()
    );
    Ok(())
}

/// User + system CPU time of this process, from /proc/self/stat (clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let fields: Vec<&str> = s.rsplit_once(')')?.1.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / 100.0)
        })
        .unwrap_or(0.0)
}
