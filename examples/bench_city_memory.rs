//! Memory benchmark (issue #11): a whole city's crawl, websites then catalogues, recorded as
//! the dashboard's job records it, with peak resident memory measured.
//!
//! `cargo run --example bench_city_memory -- [SITES] [ENTRIES] [kv|mem|drop]`
//!
//! - SITES loopback sites (default 268, the reference city), each on its own address
//!   (127.0.1.1, 127.0.1.2, …) so that per-host politeness applies per site as on the internet.
//! - Every home page is 5 MB of HTML (read whole: the shipped body limit is 5 MiB); it links to
//!   eight small column pages.
//! - Every site also serves a disclosure catalogue of ENTRIES entries (default 3,000) over the
//!   classes a department owes, 50 rows a page.
//! - The results go to a surrealkv store in a temporary directory (`kv`, default) or to `mem`
//!   (which keeps every entry in memory, so its peak includes the whole store). `drop` tells
//!   the crawler's share from the store's: the site crawl goes to `mem` (small), and the
//!   catalogue outcomes are received through the crawler's sink and dropped, nothing stored.
//!
//! The shipped profiles are used as they are, except that the minimum gap between requests to
//! one host is 0 (every site is its own host here, so this only saves wall time). Pages are
//! generated on request, so the servers hold one 5 MB home page in all. Prints wall time and
//! peak RSS (VmHWM from /proc/self/status) after each stage. The target: under 500 MiB.

#[path = "support/loopback_sites.rs"]
mod loopback_sites;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use gongkai::crawl::catalogue::CatalogueProfile;
use gongkai::crawl::profile::SiteProfile;
use gongkai::jobs::{self, CatalogueCrawl, Progress, SiteCrawl};
use gongkai::model::{Unit, UnitKind, synthetic_credit_code};
use gongkai::store::{Store, StoreConfig};
use tokio::net::TcpListener;

/// Bytes of each home page.
const HOME_BYTES: usize = 5_000_000;
const ROWS_PER_PAGE: usize = 50;
const COLUMNS: usize = 8;

fn peak_rss_mib() -> u64 {
    loopback_sites::status_mib("VmHWM")
}

fn current_rss_mib() -> u64 {
    loopback_sites::status_mib("VmRSS")
}

/// One 5 MB home page, shared by every site: a header with the footer marks and the column
/// links, then news paragraphs up to the size.
fn home_page() -> Vec<u8> {
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=utf-8><title>南宁市测试局</title></head><body>\
         <div class=footer>主办单位：南宁市测试局 网站标识码4501000001 桂ICP备12345号 桂公网安备45010002000001号</div><ul>",
    );
    for c in 0..COLUMNS {
        html.push_str(&format!(
            "<li><a href=\"/col/{c}\">栏目{c}</a> <span>2026-11-{:02}</span></li>",
            20 - c
        ));
    }
    html.push_str("</ul>");
    let mut n = 0usize;
    while html.len() < HOME_BYTES - 200 {
        n += 1;
        html.push_str(&format!(
            "<div class=news><h3>政务动态第{n}条</h3><p>南宁市人民政府办公室关于进一步做好政府信息公开工作的通知，\
             各县、区人民政府，市政府各部门：为贯彻落实《中华人民共和国政府信息公开条例》，现将有关事项通知如下。</p></div>"
        ));
    }
    html.push_str("</body></html>");
    html.into_bytes()
}

/// The catalogue's pages, made on request: `/cat/index.html` lists the classes, and
/// `/cat/c{class}/{page}.html` holds 50 rows and a 下一页 link while there are more.
fn catalogue_page(path: &str, site: usize, classes: &[String], entries: usize) -> Option<String> {
    let rest = path.strip_prefix("/cat/")?;
    let per_class = entries.div_ceil(classes.len());
    if rest == "index.html" {
        let links: String = classes
            .iter()
            .enumerate()
            .map(|(c, name)| format!("<li><a href=\"c{c}/1.html\">{name}</a></li>"))
            .collect();
        return Some(format!("<html><body><ul>{links}</ul></body></html>"));
    }
    let (class, page) = rest.strip_prefix('c')?.strip_suffix(".html")?.split_once('/')?;
    let (class, page): (usize, usize) = (class.parse().ok()?, page.parse().ok()?);
    let name = classes.get(class)?;
    let first = (page - 1) * ROWS_PER_PAGE;
    if page == 0 || first >= per_class {
        return None;
    }
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 20)?;
    let mut html = String::from(
        "<html><head><meta charset=\"utf-8\"></head><body><table><tr><th>索引号</th><th>名称</th>\
         <th>发布机构</th><th>生成日期</th><th>文号</th><th>主题分类</th><th>体裁分类</th><th>服务对象分类</th></tr>",
    );
    for row in first..(first + ROWS_PER_PAGE).min(per_class) {
        let serial = class * per_class + row + 1;
        let date = as_of - chrono::Days::new((serial % 700) as u64);
        html.push_str(&format!(
            "<tr><td>{:08}/{}-{serial:05}</td><td><a href=\"/doc/{serial}.html\">关于{name}事项的通知第{serial}号</a></td>\
             <td>南宁市第{site}局</td><td>{}</td><td>南府发〔{}〕{serial}号</td><td>综合政务</td><td>通知</td><td>公众</td></tr>",
            site + 1,
            date.format("%Y"),
            date.format("%Y-%m-%d"),
            date.format("%Y"),
        ));
    }
    html.push_str("</table>");
    if first + ROWS_PER_PAGE < per_class {
        html.push_str(&format!("<a href=\"{}.html\">下一页</a>", page + 1));
    }
    html.push_str("</body></html>");
    Some(html)
}

struct Site {
    index: usize,
    home: Arc<Vec<u8>>,
    classes: Arc<Vec<String>>,
    entries: usize,
}

impl Site {
    fn answer(&self, path: &str) -> (&'static str, Vec<u8>) {
        if path == "/" {
            return ("200 OK", self.home.as_ref().clone());
        }
        if let Some(column) = path.strip_prefix("/col/") {
            let body = format!(
                "<html><head><meta charset=utf-8><title>栏目{column}</title></head><body><h1>栏目{column}</h1>\
                 <ul><li><a href=\"/\">首页</a> [2026-11-19]</li></ul></body></html>"
            );
            return ("200 OK", body.into_bytes());
        }
        match catalogue_page(path, self.index, &self.classes, self.entries) {
            Some(body) => ("200 OK", body.into_bytes()),
            None => ("404 Not Found", b"<html><body>not found</body></html>".to_vec()),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sites: usize = args.first().map_or(Ok(268), |a| a.parse())?;
    let entries: usize = args.get(1).map_or(Ok(3_000), |a| a.parse())?;
    let mode = args.get(2).map_or("kv", String::as_str);
    let in_memory = mode == "mem" || mode == "drop";

    let mut site_profile = SiteProfile::builtin()?;
    site_profile.fetch.min_gap_ms = 0;
    let mut catalogue_profile = CatalogueProfile::builtin()?;
    catalogue_profile.fetch.min_gap_ms = 0;
    let classes = Arc::new(catalogue_profile.classes_for(UnitKind::Department).to_vec());
    let home = Arc::new(home_page());
    let mut units = Vec::with_capacity(sites);
    for i in 0..sites {
        let ip = Ipv4Addr::new(127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8);
        let listener = TcpListener::bind(SocketAddr::from((ip, 0))).await?;
        let address = listener.local_addr()?;
        let site = Site { index: i, home: home.clone(), classes: classes.clone(), entries };
        let site = Arc::new(site);
        let answer = move |path: &str| site.answer(path);
        tokio::spawn(loopback_sites::serve_with(listener, Arc::new(answer), Arc::default(), Duration::ZERO));
        units.push(Unit {
            code: synthetic_credit_code("450100", i as u32 + 1)?,
            name: format!("南宁市第{i}局"),
            kind: UnitKind::Department,
            parent_code: None,
            website: Some(format!("http://{address}/")),
            catalogue_url: Some(format!("http://{address}/cat/index.html")),
            email: None,
        });
    }
    let dir = std::env::temp_dir().join(format!("gongkai-bench-city-{}", std::process::id()));
    let url = if in_memory { "mem://".to_owned() } else { format!("surrealkv://{}", dir.display()) };
    let store = Store::connect(&StoreConfig::new(url.clone())).await?;
    println!(
        "{sites} sites, home page {:.1} MB each, {entries} catalogue entries each ({} classes), store {url}; \
         {} sites and {} catalogues at a time; RSS at start {} MiB",
        home.len() as f64 / 1e6,
        classes.len(),
        site_profile.max_concurrent_sites,
        catalogue_profile.max_concurrent_units,
        current_rss_mib()
    );

    let day = NaiveDate::from_ymd_opt(2026, 11, 20).ok_or_else(|| anyhow::anyhow!("date"))?;
    let observed_at = Utc::now();
    let started = Instant::now();
    let request =
        SiteCrawl { profile: site_profile, units: units.clone(), day, observed_at, allow_private: true };
    let site = jobs::crawl_sites(&store, request, &Progress::default()).await?.summary;
    println!(
        "site crawl: {} sites ({} reachable, {} written), {} pages, {} findings, {} errors; wall {:.1} s; \
         peak RSS {} MiB, RSS now {} MiB",
        site.sites,
        site.reachable,
        site.written,
        site.pages,
        site.findings,
        site.errors.len(),
        started.elapsed().as_secs_f64(),
        peak_rss_mib(),
        current_rss_mib()
    );

    let started = Instant::now();
    if mode == "drop" {
        let mut fetch = catalogue_profile.fetch.clone();
        fetch.allow_private = true;
        let fetcher = gongkai::crawl::Fetcher::new(fetch)?;
        let (sink, mut outcomes) = tokio::sync::mpsc::channel(8);
        let progress = Arc::new(gongkai::crawl::catalogue::CatalogueProgress::default());
        let profile = Arc::new(catalogue_profile);
        let crawl = gongkai::crawl::catalogue::crawl_units_to(
            &fetcher,
            profile,
            &units,
            day,
            observed_at,
            progress,
            sink,
        );
        let drain = async {
            let (mut count, mut read) = (0usize, 0usize);
            while let Some(outcome) = outcomes.recv().await {
                count += 1;
                read += outcome.entries_read;
            }
            (count, read)
        };
        let (_, (count, read)) = tokio::join!(crawl, drain);
        println!(
            "catalogue crawl, outcomes dropped: {count} units, {read} entries; wall {:.1} s; peak RSS {} MiB, RSS now {} MiB",
            started.elapsed().as_secs_f64(),
            peak_rss_mib(),
            current_rss_mib()
        );
        return Ok(());
    }
    let request = CatalogueCrawl { profile: catalogue_profile, units, day, observed_at, allow_private: true };
    let report = jobs::crawl_catalogues(&store, request, &Progress::default()).await?;
    let catalogue = &report.summary;
    let sample = match report.crawled.first() {
        Some(unit) => store.catalogue_entries(&unit.code, None).await?.len(),
        None => 0,
    };
    println!(
        "catalogue crawl: {} units ({} reachable, {} written), {} pages, {} entries ({} stored for the first unit), \
         {} findings, {} errors; wall {:.1} s; peak RSS {} MiB, RSS now {} MiB",
        catalogue.units,
        catalogue.reachable,
        catalogue.written,
        catalogue.pages,
        catalogue.entries,
        sample,
        catalogue.findings,
        catalogue.errors.len(),
        started.elapsed().as_secs_f64(),
        peak_rss_mib(),
        current_rss_mib()
    );
    for error in site.errors.iter().chain(&catalogue.errors).take(5) {
        println!("  error: {} {}", error.unit, error.error);
    }
    println!("peak RSS of the whole city: {} MiB (target < 500 MiB)", peak_rss_mib());
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
