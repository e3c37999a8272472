//! Benchmark: crawl a local universe of sites (default 200 sites × 50 pages) with the real site
//! crawler and checks, then probe every home page.
//!
//! `cargo run --example bench_crawl -- [SITES] [polite]`
//!
//! Each site listens on its own loopback address (127.0.1.1, 127.0.1.2, …), so per-host
//! politeness applies per site as it would on the internet. By default the shipped profile's
//! politeness (minimum gap, sites at a time) is lifted to measure the crawler itself; pass
//! `polite` to keep the shipped settings. Prints pages per second, wall time and peak memory.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use gongkai::crawl::Fetcher;
use gongkai::crawl::checks::CheckContext;
use gongkai::crawl::profile::SiteProfile;
use gongkai::crawl::site::{CrawlEnv, CrawlProgress, crawl_units, probe};
use gongkai::model::{Unit, UnitKind, synthetic_credit_code};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const COLUMNS: [&str; 9] = [
    "政务动态",
    "通知公告",
    "政策文件",
    "规划计划",
    "人事信息",
    "部门动态",
    "政策解读",
    "办事指南",
    "互动交流",
];
const ARTICLES_PER_COLUMN: usize = 4; // 1 home + 9 columns + 36 articles + 4 extra pages = 50

fn page(path: &str, site: usize) -> String {
    let body = if path == "/" {
        let mut links: String = COLUMNS
            .iter()
            .enumerate()
            .map(|(i, name)| {
                format!("<li><a href=\"/col/{i}\">{name}</a> <span>2026-11-{:02}</span></li>", 20 - i)
            })
            .collect();
        links
            .push_str(&(0..4).map(|i| format!("<a href=\"/about/{i}\">关于我们{i}</a>")).collect::<String>());
        format!(
            "<h1>南宁市第{site}局</h1><ul>{links}</ul><div class=footer>主办单位：南宁市第{site}局 \
             网站标识码4501000{site:03} 桂ICP备12345号 桂公网安备45010002000{site:03}号 \
             <a href=\"http://bszs.conac.cn/\"><img alt=\"党政机关\"></a></div>"
        )
    } else if let Some(column) = path.strip_prefix("/col/") {
        let items: String = (0..ARTICLES_PER_COLUMN)
            .map(|a| format!("<li><a href=\"/a/{column}-{a}\">第{a}条信息</a> [2026-11-{:02}]</li>", 25 - a))
            .collect();
        format!(
            "<h1>{}</h1><ul>{items}</ul>",
            COLUMNS.get(column.parse::<usize>().unwrap_or(0)).unwrap_or(&"")
        )
    } else {
        format!("<h1>正文 {path}</h1><p>{}</p><a href=\"/\">首页</a>", "政务公开内容。".repeat(200))
    };
    format!(
        "<!doctype html><html><head><meta charset=utf-8><title>南宁市第{site}局</title></head><body>{body}</body></html>"
    )
}

/// A minimal keep-alive HTTP/1.1 server for one site.
async fn serve(listener: TcpListener, site: usize, served: Arc<AtomicU64>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let served = served.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut reader = BufReader::new(read);
            loop {
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                    return;
                }
                let mut header = String::new();
                loop {
                    header.clear();
                    if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if header == "\r\n" {
                        break;
                    }
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let body = page(&path, site);
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                if write.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
                served.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
}

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse::<u64>().ok()))
        .map_or(0, |kib| kib / 1024)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sites: usize = std::env::args().nth(1).map_or(Ok(200), |a| a.parse())?;
    let polite = std::env::args().nth(2).as_deref() == Some("polite");
    let served = Arc::new(AtomicU64::new(0));
    let mut units = Vec::with_capacity(sites);
    for i in 0..sites {
        let ip = Ipv4Addr::new(127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8);
        let listener = TcpListener::bind(SocketAddr::from((ip, 0))).await?;
        let address = listener.local_addr()?;
        tokio::spawn(serve(listener, i, served.clone()));
        units.push(Unit {
            code: synthetic_credit_code("450100", i as u32 + 1)?,
            name: format!("南宁市第{i}局"),
            kind: UnitKind::Department,
            parent_code: None,
            website: Some(format!("http://{address}/")),
            catalogue_url: None,
            email: None,
        });
    }

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
