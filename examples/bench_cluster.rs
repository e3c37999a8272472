//! Benchmark: a city's site-cluster platform (网站群) — 268 unit sites on ONE loopback host —
//! crawled with the shipped politeness (4 requests at a time, 250 ms apart, per host) and with
//! a `[[fetch.hosts]]` override for that host (issue #11: under 2 minutes with the override).
//!
//! `cargo run --example bench_cluster -- [SITES] [SERVICE_MS] [RUNS]`
//!
//! SITES defaults to 268; SERVICE_MS (default 20) is how long the server takes per request;
//! RUNS is a comma-separated list of `default`, `override` (16 at a time, no gap, the shipped 8
//! sites at a time) and `override16` (the same with 16 sites at a time), all by default. Each
//! site is a small home page with four column links and a footer, and each column page links
//! to two articles: 7 pages per site. Prints wall time, pages and the most requests the server
//! had in flight for each run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use gongkai::crawl::config::HostLimits;
use gongkai::crawl::profile::SiteProfile;
use gongkai::crawl::site::{CrawlEnv, CrawlProgress, crawl_units};
use gongkai::model::{Unit, UnitKind, synthetic_credit_code};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const COLUMNS: [&str; 4] = ["工作动态", "通知公告", "政策文件", "政府信息公开指南"];

/// The page at `path` of the cluster: `/s{site}/`, `/s{site}/col{c}/`, `/s{site}/art{c}-{a}.html`.
fn page(path: &str) -> Option<String> {
    let (site, rest) = path.strip_prefix("/s")?.split_once('/')?;
    let site: usize = site.parse().ok()?;
    let body = if rest.is_empty() {
        let links: String = COLUMNS
            .iter()
            .enumerate()
            .map(|(c, name)| {
                format!("<li><a href=\"/s{site}/col{c}/\">{name}</a> <span>2026-11-{:02}</span></li>", 18 - c)
            })
            .collect();
        format!(
            "<h1>南宁市第{site}局</h1><ul>{links}</ul><div class=footer>主办单位：南宁市第{site}局 \
             网站标识码4501000{site:03} 桂ICP备12345号 桂公网安备45010002000{site:03}号</div>"
        )
    } else if let Some(column) = rest.strip_prefix("col").and_then(|c| c.strip_suffix('/')) {
        let items: String = (0..2)
            .map(|a| {
                format!(
                    "<li><a href=\"/s{site}/art{column}-{a}.html\">第{a}条信息</a> [2026-11-{:02}]</li>",
                    15 - a
                )
            })
            .collect();
        format!("<h1>栏目{column}</h1><ul>{items}</ul>")
    } else if rest.starts_with("art") && rest.ends_with(".html") {
        "<h1>信息</h1><p>2026-11-10 发布。正文内容。</p>".to_owned()
    } else {
        return None;
    };
    Some(format!(
        "<html><head><meta charset=\"utf-8\"><title>南宁市第{site}局</title></head><body>{body}</body></html>"
    ))
}

/// Serves the cluster on 127.0.0.1, each answer after `service`; counts requests in flight.
async fn serve(service: Duration) -> (u16, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let (now, max) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (in_flight, peak) = (now.clone(), max.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (in_flight, peak) = (in_flight.clone(), peak.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 2048];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let path = String::from_utf8_lossy(&head).split_whitespace().nth(1).unwrap_or("/").to_owned();
                peak.fetch_max(in_flight.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                tokio::time::sleep(service).await;
                let (status, body) = page(&path).map_or((404, String::from("<h1>404</h1>")), |b| (200, b));
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(body.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (port, now, max)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sites: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(268);
    let service = Duration::from_millis(args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20));
    let runs = args.get(2).cloned().unwrap_or_else(|| "default,override,override16".to_owned());
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
    let observed = Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0).single().expect("time");
    println!("{sites} sites on one loopback host, {} ms per request", service.as_millis());
    for run in runs.split(',') {
        let mut profile = SiteProfile::builtin().expect("shipped profile");
        match run {
            "default" => {}
            "override" | "override16" => {
                profile.fetch.hosts.push(HostLimits {
                    host: "127.0.0.1".into(),
                    concurrency: 16,
                    min_gap_ms: 0,
                });
                if run == "override16" {
                    profile.max_concurrent_sites = 16;
                }
            }
            other => {
                eprintln!("unknown run {other}: default, override or override16");
                continue;
            }
        }
        let (port, _, peak) = serve(service).await;
        let units: Vec<Unit> = (0..sites)
            .map(|n| Unit {
                code: synthetic_credit_code("450100", n as u32 + 1).expect("code"),
                name: format!("南宁市第{n}局"),
                kind: UnitKind::Department,
                parent_code: None,
                website: Some(format!("http://127.0.0.1:{port}/s{n}/")),
                catalogue_url: None,
                email: None,
            })
            .collect();
        let env = CrawlEnv::new(profile.clone(), true, as_of, observed).expect("environment");
        let progress = Arc::new(CrawlProgress::default());
        let started = Instant::now();
        let outcomes = crawl_units(&env, units, progress.clone()).await;
        let wall = started.elapsed();
        let reachable = outcomes.iter().filter(|o| o.reachable).count();
        println!(
            "{run:>10}: {:>7.1} s wall, {} pages, {reachable}/{sites} sites reached, at most {} requests in flight \
             (max_concurrent_sites {}, per-host limit {})",
            wall.as_secs_f64(),
            progress.pages.load(Ordering::Relaxed),
            peak.load(Ordering::SeqCst),
            profile.max_concurrent_sites,
            env.fetcher.config().concurrency_for("127.0.0.1"),
        );
    }
}
