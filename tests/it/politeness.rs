//! Politeness a city can configure (issue #11): many unit sites on one loopback host, crawled
//! with and without a `[[fetch.hosts]]` override, while a server counts how many requests it
//! has in flight at once. The counts are the assertions; nothing here is timed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use gongkai::crawl::config::HostLimits;
use gongkai::crawl::profile::SiteProfile;
use gongkai::crawl::site::{CrawlEnv, CrawlProgress, crawl_units};
use gongkai::model::{OrgCode, Unit, UnitKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::support::credit_code;

/// Answers a request for `path` (as sent): the HTML body, or `None` for a 404.
pub(crate) type Responder = dyn Fn(&str) -> Option<String> + Send + Sync;

/// What a [`CountingServer`] saw.
#[derive(Default)]
pub(crate) struct Seen {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    paths: Mutex<Vec<String>>,
}

/// A loopback web server that holds every request for `delay` before answering and records
/// the paths asked for and the most requests it ever had in flight at once.
pub(crate) struct CountingServer {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
    task: JoinHandle<()>,
}

impl Drop for CountingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CountingServer {
    pub(crate) async fn start(delay: Duration, respond: Arc<Responder>) -> CountingServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let seen = Arc::new(Seen::default());
        let shared = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, delay, respond.clone(), shared.clone()));
            }
        });
        CountingServer { addr, seen, task }
    }

    /// `http://HOST:PORT` followed by `path`, with `host` naming this server (`127.0.0.1` or
    /// `localhost`: two hosts to the crawler, one machine).
    pub(crate) fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.seen.max_in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn paths(&self) -> Vec<String> {
        self.seen.paths.lock().expect("paths").clone()
    }
}

async fn serve(mut stream: TcpStream, delay: Duration, respond: Arc<Responder>, seen: Arc<Seen>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    seen.max_in_flight.fetch_max(now, Ordering::SeqCst);
    seen.paths.lock().expect("paths").push(path.clone());
    tokio::time::sleep(delay).await;
    let (status, body) = match respond(&path) {
        Some(body) => (200, body),
        None => (404, "<h1>404</h1>".to_owned()),
    };
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    // Counted out before the answer is written: the crawler may start its next request as
    // soon as it has read this one, and that one must not be counted together with it.
    seen.in_flight.fetch_sub(1, Ordering::SeqCst);
    let _ = stream.write_all(&out).await;
    let _ = stream.shutdown().await;
}

/// Unit sites under `/s{n}/`, each a small home page linking to three pages of its own.
pub(crate) fn unit_sites(path: &str) -> Option<String> {
    let (site, page) = path.strip_prefix("/s")?.split_once('/')?;
    let site: u32 = site.parse().ok()?;
    let links: String = ["a", "b", "c"]
        .iter()
        .map(|p| format!("<li><a href=\"/s{site}/{p}.html\">栏目{p}</a></li>"))
        .collect();
    let body = match page {
        "" => format!("<h1>测试单位{site}</h1><ul>{links}</ul><p>网站标识码 4501000{site:03}</p>"),
        "a.html" | "b.html" | "c.html" => format!("<h1>单位{site}栏目</h1><p>2026-11-01 工作动态</p>"),
        _ => return None,
    };
    Some(format!(
        "<html><head><meta charset=\"utf-8\"><title>单位{site}</title></head><body>{body}</body></html>"
    ))
}

pub(crate) fn unit(n: u32, website: String) -> Unit {
    Unit {
        code: OrgCode::parse(&credit_code(n)).expect("code"),
        name: format!("测试单位{n}"),
        kind: UnitKind::Institution,
        parent_code: None,
        website: Some(website),
        catalogue_url: None,
        email: None,
    }
}

pub(crate) fn env(profile: SiteProfile) -> CrawlEnv {
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
    let observed = Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0).single().expect("time");
    CrawlEnv::new(profile, true, as_of, observed).expect("environment")
}

/// The shipped profile with room for many sites at once, so that the crawl wants more requests
/// in flight on a host than any limit allows, and no gap between starts.
fn busy_profile(cluster: Option<HostLimits>) -> SiteProfile {
    let mut profile = SiteProfile::builtin().expect("profile");
    profile.max_concurrent_sites = 48;
    profile.fetch.min_gap_ms = 0;
    profile.fetch.total_timeout_secs = 30;
    profile.fetch.global_concurrency = 48;
    profile.fetch.hosts.extend(cluster);
    // The cloaking check's second fetch of each home page (as a search engine) stays on: it
    // shares the crawl's politeness, so it must fit within the same limits.
    assert!(profile.spam.cloaking.enabled);
    profile
}

/// Runs one crawl of 36 sites on the cluster host (`127.0.0.1`) and 12 on another host
/// (`localhost`, the same machine under another name), each server holding every request for
/// 100 ms. Returns the most requests each server had in flight.
async fn crawl_two_hosts(profile: SiteProfile) -> (usize, usize) {
    let delay = Duration::from_millis(100);
    let cluster = CountingServer::start(delay, Arc::new(unit_sites)).await;
    let other = CountingServer::start(delay, Arc::new(unit_sites)).await;
    let mut units: Vec<Unit> =
        (0..36).map(|n| unit(n, cluster.url("127.0.0.1", &format!("/s{n}/")))).collect();
    units.extend((36..48).map(|n| unit(n, other.url("localhost", &format!("/s{n}/")))));
    let outcomes = crawl_units(&env(profile), units, Arc::new(CrawlProgress::default())).await;
    assert_eq!(outcomes.len(), 48);
    for outcome in &outcomes {
        assert!(outcome.reachable && outcome.error.is_none(), "{}: {:?}", outcome.unit, outcome.error);
        assert!(outcome.pages >= 4, "{}: home and its three pages, got {}", outcome.unit, outcome.pages);
    }
    // Every site's pages were fetched, on both hosts.
    let fetched = |server: &CountingServer| -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for path in server.paths() {
            *counts.entry(path).or_insert(0) += 1;
        }
        counts
    };
    let (on_cluster, on_other) = (fetched(&cluster), fetched(&other));
    assert!((0..36).all(|n| on_cluster.contains_key(&format!("/s{n}/c.html"))));
    assert!((36..48).all(|n| on_other.contains_key(&format!("/s{n}/c.html"))));
    (cluster.max_in_flight(), other.max_in_flight())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_an_override_every_host_gets_the_default_of_four() {
    let (cluster, other) = crawl_two_hosts(busy_profile(None)).await;
    assert!(cluster <= 4, "the cluster host had {cluster} requests in flight");
    assert!(other <= 4, "the other host had {other} requests in flight");
    // The crawl did press: dozens of sites wanted the host at once.
    assert!(cluster >= 2, "the cluster host never had two requests at once ({cluster})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_override_lifts_only_the_named_host() {
    let limits = HostLimits { host: "127.0.0.1".into(), concurrency: 16, min_gap_ms: 0 };
    let (cluster, other) = crawl_two_hosts(busy_profile(Some(limits))).await;
    assert!(cluster > 4, "the named host must get more than the default; it had {cluster}");
    assert!(cluster <= 16, "the named host had {cluster} requests in flight, above its 16");
    assert!(other <= 4, "a host the override does not name had {other} requests in flight");
}
