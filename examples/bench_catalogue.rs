//! Catalogue benchmark (issue #4): parse and check 40,000 catalogue entries.
//!
//! `cargo run --example bench_catalogue [-- ENTRIES [--store]]`
//!
//! 1. Offline: the class pages are generated in memory and parsed and checked directly —
//!    the CPU cost of parsing and checking alone.
//! 2. Served: the same pages are served on 127.0.0.1 and crawled through the shared fetcher
//!    (politeness gap 0) — the end-to-end cost, with wall time and CPU time shown apart.
//! 3. With `--store`: the entries are also written to a temporary surrealkv store in one
//!    catalogue run (full-text index included).
//!
//! Prints wall time, process CPU time (user + system, from /proc/self/stat) and peak resident
//! memory (VmHWM from /proc/self/status).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use gongkai::crawl::catalogue::{
    CatalogueProfile, CatalogueProgress, CatalogueScan, ClassScan, PageContext, check_catalogue, crawl_units,
    parse_class_page,
};
use gongkai::crawl::{FetchConfig, Fetcher};
use gongkai::model::{Unit, UnitKind, synthetic_credit_code};
use gongkai::store::{Store, StoreConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

const UNITS: usize = 8;
const ROWS_PER_PAGE: usize = 50;

/// Process CPU seconds (user + system), in clock ticks of 1/100 s as Linux reports them.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may contain blanks.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, i.e. 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        .unwrap_or_else(|| "?".into())
}

struct Generated {
    units: Vec<Unit>,
    /// path → HTML
    pages: HashMap<String, String>,
}

/// `entries` entries over [`UNITS`] departments, 14 classes each, [`ROWS_PER_PAGE`] a page.
fn generate(entries: usize, profile: &CatalogueProfile, base: &str) -> anyhow::Result<Generated> {
    let classes = profile.classes_for(UnitKind::Department);
    let per_unit = entries / UNITS;
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 20).ok_or_else(|| anyhow::anyhow!("date"))?;
    let mut pages = HashMap::new();
    let mut units = Vec::new();
    for u in 0..UNITS {
        let code = synthetic_credit_code("450100", u as u32 + 1)?;
        let org = code.organisation_part().to_owned();
        let mut root = String::from("<html><body><ul>");
        let per_class = per_unit.div_ceil(classes.len());
        let mut serial = 0usize;
        for (c, class) in classes.iter().enumerate() {
            root.push_str(&format!("<li><a href=\"c{c}/1.html\">{class}</a></li>"));
            let count = per_class.min(per_unit.saturating_sub(serial));
            let page_count = count.div_ceil(ROWS_PER_PAGE).max(1);
            for p in 0..page_count {
                let mut html = String::from(
                    "<html><head><meta charset=\"utf-8\"></head><body><table><tr><th>索引号</th><th>名称</th>\
                     <th>发布机构</th><th>生成日期</th><th>文号</th><th>主题分类</th><th>体裁分类</th><th>服务对象分类</th></tr>",
                );
                for r in 0..ROWS_PER_PAGE.min(count - p * ROWS_PER_PAGE) {
                    serial += 1;
                    let _ = r;
                    let date = as_of - chrono::Days::new((serial % 700) as u64);
                    html.push_str(&format!(
                        "<tr><td>{org}/{}-{serial:05}</td><td><a href=\"/u{u}/doc/{serial}.html\" title=\"关于{class}事项的通知第{serial}号\">关于{class}事项的通知第{serial}号</a></td>\
                         <td>南宁市第{u}局</td><td>{}</td><td>南府发〔{}〕{serial}号</td><td>综合政务</td><td>通知</td><td>公众</td></tr>",
                        date.format("%Y"),
                        date.format("%Y-%m-%d"),
                        date.format("%Y"),
                    ));
                }
                html.push_str("</table>");
                if p + 1 < page_count {
                    html.push_str(&format!("<a href=\"{}.html\">下一页</a>", p + 2));
                }
                html.push_str("</body></html>");
                pages.insert(format!("/u{u}/c{c}/{}.html", p + 1), html);
            }
        }
        root.push_str("</ul></body></html>");
        pages.insert(format!("/u{u}/index.html"), root);
        units.push(Unit {
            code,
            name: format!("南宁市第{u}局"),
            kind: UnitKind::Department,
            parent_code: None,
            website: None,
            catalogue_url: Some(format!("{base}/u{u}/index.html")),
            email: None,
        });
    }
    Ok(Generated { units, pages })
}

async fn serve(listener: TcpListener, pages: Arc<HashMap<String, String>>) {
    while let Ok((mut stream, _)) = listener.accept().await {
        let pages = pages.clone();
        tokio::spawn(async move {
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&head);
            let path = text.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = match pages.get(path) {
                Some(body) => ("200 OK", body.as_bytes()),
                None => ("404 Not Found", &b"not found"[..]),
            };
            let header = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(header.as_bytes()).await;
            let _ = stream.write_all(body).await;
        });
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let entries: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(40_000);
    let with_store = args.iter().any(|a| a == "--store");
    let profile = CatalogueProfile::builtin()?;
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 20).ok_or_else(|| anyhow::anyhow!("date"))?;

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let generated = generate(entries, &profile, &base)?;
    let bytes: usize = generated.pages.values().map(String::len).sum();
    println!(
        "{} entries, {} units, {} pages, {:.1} MB of HTML",
        entries,
        generated.units.len(),
        generated.pages.len(),
        bytes as f64 / 1e6
    );

    // 1. Offline parse and check.
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    let mut parsed = 0usize;
    let mut findings = 0usize;
    for (u, unit) in generated.units.iter().enumerate() {
        let mut scan = CatalogueScan { root: format!("{base}/u{u}/index.html"), ..CatalogueScan::default() };
        for (c, class) in profile.classes_for(unit.kind).iter().enumerate() {
            let mut entries_in_class = 0;
            let mut p = 1;
            while let Some(html) = generated.pages.get(&format!("/u{u}/c{c}/{p}.html")) {
                let url = Url::parse(&format!("{base}/u{u}/c{c}/{p}.html"))?;
                let page =
                    parse_class_page(html, &url, &profile, PageContext { unit: &unit.code, class, as_of });
                entries_in_class += page.entries.len();
                scan.entries.extend(page.entries);
                p += 1;
            }
            scan.classes.push(ClassScan {
                name: class.clone(),
                url: Some(format!("{base}/u{u}/c{c}/1.html")),
                entries: entries_in_class,
                pages: p - 1,
                error: None,
                capped: false,
            });
        }
        parsed += scan.entries.len();
        findings += check_catalogue(unit, &profile, &scan, as_of, Utc::now()).findings.len();
    }
    println!(
        "offline parse+check: {parsed} entries, {findings} findings, wall {:.2} s, CPU {:.2} s, peak RSS {}",
        wall0.elapsed().as_secs_f64(),
        cpu_seconds() - cpu0,
        peak_memory()
    );

    // 2. Served through the shared fetcher.
    tokio::spawn(serve(listener, Arc::new(generated.pages)));
    let fetcher = Fetcher::new(FetchConfig { allow_private: true, min_gap_ms: 0, ..FetchConfig::default() })?;
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    let outcomes = crawl_units(
        &fetcher,
        Arc::new(profile.clone()),
        &generated.units,
        as_of,
        Utc::now(),
        Arc::new(CatalogueProgress::default()),
    )
    .await;
    let crawled: usize = outcomes.iter().map(|o| o.scan.entries.len()).sum();
    let pages: usize = outcomes.iter().map(|o| o.scan.pages).sum();
    let found: usize = outcomes.iter().map(|o| o.output.findings.len()).sum();
    println!(
        "served crawl+check: {crawled} entries, {pages} pages, {found} findings, wall {:.2} s, CPU {:.2} s (server included), peak RSS {}",
        wall0.elapsed().as_secs_f64(),
        cpu_seconds() - cpu0,
        peak_memory()
    );

    // 3. Optionally, the whole run recorded in a store.
    if with_store {
        let dir = std::env::temp_dir().join(format!("gongkai-bench-catalogue-{}", std::process::id()));
        let store = Store::connect(&StoreConfig::new(format!("surrealkv://{}", dir.display()))).await?;
        let (cpu0, wall0) = (cpu_seconds(), Instant::now());
        // Recorded as the job does it: one transaction per unit (issue #11).
        let mut profile = profile;
        profile.fetch = FetchConfig { allow_private: true, min_gap_ms: 0, ..FetchConfig::default() };
        let request = gongkai::jobs::CatalogueCrawl {
            profile,
            units: generated.units.clone(),
            day: as_of,
            observed_at: Utc::now(),
            allow_private: true,
        };
        let summary = gongkai::jobs::crawl_catalogues(&store, request, &gongkai::jobs::Progress::default())
            .await?
            .summary;
        println!(
            "crawl+check+store: {} entries, wall {:.2} s, CPU {:.2} s, peak RSS {}",
            summary.entries,
            wall0.elapsed().as_secs_f64(),
            cpu_seconds() - cpu0,
            peak_memory()
        );
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
