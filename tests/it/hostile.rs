//! The hostile corpus of issue #11, served on 127.0.0.1 by a server that misbehaves on purpose:
//! pages nested 10^5 and 10^6 levels deep, a 1 byte/s trickle, a chain of slow redirects, gzip
//! and brotli bombs, an endless 下一页, a calendar trap, 10,000 links on one page, and pages
//! whose bytes do not match their encoding. Each test asserts the outcome (the finding, that
//! the deadline held, that the crawl finished), never how fast the test ran: CPU and memory
//! figures are in `examples/bench_hostile.rs`.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use flate2::{Compress, Compression, Crc, FlushCompress};
use gongkai::crawl::catalogue::{CatalogueOutcome, CatalogueProfile, CatalogueProgress, crawl_unit};
use gongkai::crawl::nesting::MAX_DEPTH;
use gongkai::crawl::profile::SiteProfile;
use gongkai::crawl::site::{CrawlEnv, CrawlProgress, SiteOutcome, crawl_site};
use gongkai::crawl::{FetchConfig, Fetcher};
use gongkai::model::{Finding, OrgCode, Unit, UnitKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use url::Url;

use crate::catalogue_fixtures::{Catalogue, row};
use crate::support::{credit_code, org_code};

const NAME: &str = "南宁市测试局";
/// Pages this deep or deeper are hostile; the nesting cap is 512.
const DEEP: [usize; 2] = [100_000, 1_000_000];
/// Body cap of the deep-nesting tests: a million nested tables is 33 MB, and the point there is
/// the parse, not the size cap (which the bomb tests cover).
const BIG_BODY: usize = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The hostile server.

/// How the server answers one request.
#[derive(Clone)]
enum Reply {
    /// Status, extra header lines and body, at once.
    Page { status: u16, headers: Vec<String>, body: Arc<[u8]> },
    /// The head at once, then the body one byte per `gap`.
    Trickle { body: Vec<u8>, gap: Duration },
    /// `reply`, after `delay`.
    Late { delay: Duration, reply: Box<Reply> },
}

fn page(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
    Reply::Page {
        status: 200,
        headers: vec![format!("Content-Type: {content_type}")],
        body: body.into().into(),
    }
}

fn html(body: impl Into<String>) -> Reply {
    page("text/html; charset=utf-8", body.into())
}

fn status(code: u16) -> Reply {
    Reply::Page {
        status: code,
        headers: vec!["Content-Type: text/html; charset=utf-8".to_owned()],
        body: format!("<h1>{code}</h1>").into_bytes().into(),
    }
}

fn redirect(to: &str) -> Reply {
    Reply::Page { status: 302, headers: vec![format!("Location: {to}")], body: Vec::new().into() }
}

/// What the server saw.
#[derive(Default)]
struct Log {
    /// Request targets, in the order they came.
    requests: Mutex<Vec<String>>,
    /// Body bytes a trickle wrote before the client hung up.
    trickled: AtomicUsize,
    /// Signalled when a trickle ends (the client hung up or the body was all sent).
    trickle_over: Notify,
}

impl Log {
    fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    fn count(&self, prefix: &str) -> usize {
        self.requests().iter().filter(|p| p.starts_with(prefix)).count()
    }
}

/// A misbehaving website on 127.0.0.1; stops when dropped.
struct Hostile {
    addr: SocketAddr,
    log: Arc<Log>,
    task: JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    async fn start(respond: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (log, respond) = (Arc::new(Log::default()), Arc::new(respond));
        let shared = log.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (log, respond) = (shared.clone(), respond.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, &log, &*respond).await;
                });
            }
        });
        Hostile { addr, log, task }
    }

    /// Serves the pages of `pages` by path, anything else a 404.
    async fn pages(pages: HashMap<String, Reply>) -> Hostile {
        Hostile::start(move |path| pages.get(path).cloned().unwrap_or_else(|| status(404))).await
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn serve(
    mut stream: TcpStream,
    log: &Log,
    respond: &(dyn Fn(&str) -> Reply + Sync),
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
        match stream.read(&mut buf).await? {
            0 => return Ok(()),
            n => head.extend_from_slice(&buf[..n]),
        }
    }
    let path = String::from_utf8_lossy(&head).split_whitespace().nth(1).unwrap_or("/").to_owned();
    if let Ok(mut requests) = log.requests.lock() {
        requests.push(path.clone());
    }
    let mut reply = respond(&path);
    while let Reply::Late { delay, reply: next } = reply {
        tokio::time::sleep(delay).await;
        reply = *next;
    }
    match reply {
        Reply::Page { status, headers, body } => {
            let mut out = format!("HTTP/1.1 {status} X\r\n");
            for header in headers {
                out.push_str(&header);
                out.push_str("\r\n");
            }
            out.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
            stream.write_all(out.as_bytes()).await?;
            stream.write_all(&body).await?;
        }
        Reply::Trickle { body, gap } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            let sent = async {
                stream.write_all(head.as_bytes()).await?;
                for byte in body {
                    tokio::time::sleep(gap).await;
                    stream.write_all(&[byte]).await?;
                    stream.flush().await?;
                    log.trickled.fetch_add(1, Ordering::SeqCst);
                }
                std::io::Result::Ok(())
            }
            .await;
            log.trickle_over.notify_one();
            sent?;
        }
        Reply::Late { .. } => {}
    }
    stream.shutdown().await
}

// ---------------------------------------------------------------------------------------------
// Sites and catalogues.

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).expect("date")
}

fn observed() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0).single().expect("time")
}

/// The footer items a home page must show (identity.missing), after whatever precedes them.
fn footer() -> String {
    format!(
        "<div class=\"footer\">主办单位：{NAME} 网站标识码：4501000001 \
         <a href=\"https://beian.miit.gov.cn/\">桂ICP备12345678号</a> \
         <a href=\"http://www.beian.gov.cn/\">桂公网安备 45010202000001号</a> \
         <a href=\"http://bszs.conac.cn/sitename?id=1\"><img src=\"/dzjg.png\" alt=\"党政机关\"></a></div>"
    )
}

/// A home page: the unit's name as title and heading, `middle`, then the footer.
fn home(middle: &str) -> String {
    format!("<html><head><title>{NAME}</title></head><body><h1>{NAME}</h1>{middle}{}</body></html>", footer())
}

fn profile() -> SiteProfile {
    let mut profile = SiteProfile::builtin().expect("profile");
    profile.fetch.min_gap_ms = 0;
    profile.fetch.total_timeout_secs = 5;
    profile.fetch.retry_backoff_ms = 50;
    profile.frontier.max_pages = 40;
    profile
}

fn unit(website: &str) -> Unit {
    Unit {
        code: OrgCode::parse(&credit_code(1)).expect("code"),
        name: NAME.to_owned(),
        kind: UnitKind::Department,
        parent_code: None,
        website: Some(website.to_owned()),
        catalogue_url: None,
        email: None,
    }
}

async fn crawl(server: &Hostile, profile: SiteProfile) -> SiteOutcome {
    let env = CrawlEnv::new(profile, true, as_of(), observed()).expect("environment");
    crawl_site(&env, &unit(&server.url("/")), &CrawlProgress::default()).await
}

fn of<'a>(outcome: &'a SiteOutcome, check: &str) -> Vec<&'a Finding> {
    outcome.findings.iter().filter(|f| f.check == check).collect()
}

fn summary(outcome: &SiteOutcome) -> Vec<(String, String)> {
    outcome.findings.iter().map(|f| (f.check.clone(), f.detail.to_string())).collect()
}

fn missing_columns(outcome: &SiteOutcome) -> Vec<String> {
    of(outcome, "column.missing")
        .iter()
        .filter_map(|f| f.detail["column"].as_str().map(str::to_owned))
        .collect()
}

/// The home page's footer and name were read, and the 政务动态 column link was found: the text
/// the checks need survived whatever the page did.
fn assert_home_was_read(outcome: &SiteOutcome) {
    assert!(outcome.reachable && outcome.error.is_none(), "{:?}", summary(outcome));
    assert!(of(outcome, "identity.missing").is_empty(), "footer not read: {:?}", summary(outcome));
    let replaced = of(outcome, "content.spam")
        .into_iter()
        .filter(|f| f.detail["technique"] == "organisation name replaced")
        .count();
    assert_eq!(replaced, 0, "name not read: {:?}", summary(outcome));
    let missing = missing_columns(outcome);
    assert!(!missing.iter().any(|c| c == "政务动态"), "column link not read: {missing:?}");
    // The check ran: the columns the page does not link are missing.
    assert!(missing.iter().any(|c| c == "通知公告"), "{missing:?}");
}

fn catalogue_profile() -> CatalogueProfile {
    CatalogueProfile::builtin().expect("catalogue profile")
}

fn catalogue_fetcher(max_body_bytes: usize) -> Fetcher {
    Fetcher::new(FetchConfig {
        allow_private: true,
        min_gap_ms: 0,
        total_timeout_secs: 10,
        max_body_bytes,
        ..FetchConfig::default()
    })
    .expect("fetcher")
}

/// A department whose complete catalogue is at `/h/index.html` on `server`.
fn catalogue_unit(code: &str, server: &Hostile) -> Unit {
    Unit {
        code: OrgCode::parse(code).expect("code"),
        name: NAME.to_owned(),
        kind: UnitKind::Department,
        parent_code: None,
        website: None,
        catalogue_url: Some(server.url("/h/index.html")),
        email: None,
    }
}

fn complete_catalogue(code: &str) -> Catalogue {
    let classes = catalogue_profile().classes_for(UnitKind::Department).to_vec();
    Catalogue::complete("h", code, &classes, 2, as_of())
}

/// The catalogue's pages as replies, the class page of 政策法规 (`/h/c1/1.html`) rewritten by
/// `spoil`.
fn catalogue_pages(catalogue: &Catalogue, spoil: impl FnOnce(String) -> String) -> HashMap<String, Reply> {
    let mut pages: HashMap<String, Reply> = catalogue
        .pages()
        .into_iter()
        .map(|(path, answer)| (path, page(&answer.content_type, answer.body)))
        .collect();
    let original = catalogue.pages().remove("/h/c1/1.html").expect("class page");
    let text = String::from_utf8(original.body).expect("utf-8 class page");
    pages.insert("/h/c1/1.html".to_owned(), html(spoil(text)));
    pages
}

async fn crawl_catalogue(fetcher: &Fetcher, profile: &CatalogueProfile, unit: &Unit) -> CatalogueOutcome {
    crawl_unit(fetcher, profile, unit, as_of(), observed(), &CatalogueProgress::default())
        .await
        .expect("the unit has a catalogue")
}

// ---------------------------------------------------------------------------------------------
// Deep nesting.

fn nested_divs(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "<div>".repeat(depth), "</div>".repeat(depth))
}

fn nested_tables(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "<table><tr><td>".repeat(depth), "</td></tr></table>".repeat(depth))
}

/// A home page whose only column link sits at the bottom of `nest`'s nesting and whose footer
/// comes after it.
async fn crawl_deep_home(nest: fn(usize, &str) -> String, depth: usize) -> SiteOutcome {
    let inner = "<a href=\"/c0/\">政务动态</a><p>深处的正文</p>";
    let mut pages = HashMap::new();
    pages.insert("/".to_owned(), html(home(&nest(depth, inner))));
    pages.insert(
        "/c0/".to_owned(),
        html(format!("<title>政务动态</title><ul><li>{NAME}新闻 2026-11-19</li></ul>")),
    );
    let server = Hostile::pages(pages).await;
    let mut profile = profile();
    profile.fetch.max_body_bytes = BIG_BODY;
    // The cloaking check would fetch and parse the home page a second time.
    profile.spam.cloaking.enabled = false;
    crawl(&server, profile).await
}

/// The flattening is on record: the site's metric counts the page, and a finding on the page
/// says how many levels were flattened (one per level past the cap; `p` and `a`, `tr` and `td`
/// are not levels).
fn assert_flattening_is_recorded(outcome: &SiteOutcome, depth: usize) {
    let pages = outcome.metrics.iter().find(|m| m.name == "site.flattened_pages");
    assert_eq!(pages.map(|m| m.value), Some(1.into()), "{:?}", outcome.metrics);
    let on_home = of(outcome, "column.missing");
    assert!(on_home.iter().all(|f| f.detail["flattened"] == depth - MAX_DEPTH), "{:?}", summary(outcome));
}

#[tokio::test]
async fn a_home_page_of_nested_divs_is_read_past_the_deep_part() {
    for depth in DEEP {
        let outcome = crawl_deep_home(nested_divs, depth).await;
        assert_home_was_read(&outcome);
        assert_flattening_is_recorded(&outcome, depth);
    }
}

#[tokio::test]
async fn a_home_page_of_nested_tables_is_read_past_the_deep_part() {
    for depth in DEEP {
        let outcome = crawl_deep_home(nested_tables, depth).await;
        assert_home_was_read(&outcome);
        assert_flattening_is_recorded(&outcome, depth);
    }
}

/// A complete catalogue whose 政策法规 page is spoiled by `spoil`: every class, 政策法规
/// included, must still be read in full.
async fn assert_deep_class_page_is_read(spoil: impl FnOnce(String) -> String) {
    let code = org_code(101);
    let catalogue = complete_catalogue(&code);
    let server = Hostile::pages(catalogue_pages(&catalogue, spoil)).await;
    let outcome =
        crawl_catalogue(&catalogue_fetcher(BIG_BODY), &catalogue_profile(), &catalogue_unit(&code, &server))
            .await;
    assert!(outcome.output.findings.is_empty(), "{:#?}", outcome.output.findings);
    let class = outcome.scan.classes.iter().find(|c| c.name == "政策法规").expect("class scanned");
    assert_eq!((class.pages, class.entries, &class.error), (1, 2, &None));
    assert_eq!(outcome.scan.entries.len(), 14 * 2);
}

#[tokio::test]
async fn a_catalogue_page_with_nested_divs_before_its_table_is_read() {
    for depth in DEEP {
        assert_deep_class_page_is_read(|page| {
            page.replacen(
                "<table class=\"list\">",
                &format!("{}<table class=\"list\">", nested_divs(depth, "深处")),
                1,
            )
        })
        .await;
    }
}

#[tokio::test]
async fn a_catalogue_table_at_the_bottom_of_nested_tables_is_read() {
    for depth in DEEP {
        assert_deep_class_page_is_read(|page| {
            let start = page.find("<table class=\"list\">").expect("list table");
            let end = start + page[start..].find("</table>").expect("end of list") + "</table>".len();
            format!("{}{}{}", &page[..start], nested_tables(depth, &page[start..end]), &page[end..])
        })
        .await;
    }
}

// ---------------------------------------------------------------------------------------------
// Deadlines.

#[tokio::test]
async fn a_home_page_trickling_one_byte_a_second_is_unreachable_at_the_total_deadline() {
    let body = home("").into_bytes();
    let length = body.len();
    let server =
        Hostile::start(move |_| Reply::Trickle { body: body.clone(), gap: Duration::from_secs(1) }).await;
    let mut profile = profile();
    profile.fetch.total_timeout_secs = 2;
    let outcome = crawl(&server, profile).await;
    assert!(!outcome.reachable);
    let checks: Vec<&str> = outcome.findings.iter().map(|f| f.check.as_str()).collect();
    assert_eq!(checks, ["site.unreachable", "site.unchecked"], "{:?}", summary(&outcome));
    let error = outcome.findings[0].detail["error"].as_str().unwrap_or_default();
    assert!(error.contains("超过 2 秒总时限"), "{error}");
    // The fetch hung up at its deadline: the server got to write a few bytes of a body that
    // takes minutes at this pace (not one byte per read timeout, for ever).
    server.log.trickle_over.notified().await;
    let written = server.log.trickled.load(Ordering::SeqCst);
    assert!(written <= 2 * 2 + 3 && length > 200, "{written} of {length} bytes written before the hang-up");
}

#[tokio::test]
async fn a_redirect_chain_of_slow_hops_is_unreachable_at_the_total_deadline() {
    // Scaled down from the issue (15 s deadline, 14 s hops): a 3 s deadline and 1.5 s hops.
    // Each hop is within the deadline; the chain is not.
    let hop = Duration::from_millis(1_500);
    let server =
        Hostile::start(move |path| match path.strip_prefix("/hop/").and_then(|n| n.parse::<u32>().ok()) {
            _ if path == "/" => Reply::Late { delay: hop, reply: Box::new(redirect("/hop/1")) },
            Some(n) if n < 5 => {
                Reply::Late { delay: hop, reply: Box::new(redirect(&format!("/hop/{}", n + 1))) }
            }
            _ => html(home("")),
        })
        .await;
    let mut profile = profile();
    profile.fetch.total_timeout_secs = 3;
    let outcome = crawl(&server, profile).await;
    assert!(!outcome.reachable, "{:?}", summary(&outcome));
    let unreachable = of(&outcome, "site.unreachable");
    assert_eq!(unreachable.len(), 1, "{:?}", summary(&outcome));
    let error = unreachable[0].detail["error"].as_str().unwrap_or_default();
    assert!(error.contains("超过 3 秒总时限"), "{error}");
    // The chain was given up at the deadline: two hops answered, the third was cut short.
    let requests = server.log.requests();
    assert!(requests.len() <= 3 && !requests.iter().any(|p| p == "/hop/5"), "{requests:?}");
}

// ---------------------------------------------------------------------------------------------
// Compression bombs.

const MIB: usize = 1024 * 1024;
/// What each bomb expands to: 1 GiB of blanks after a small HTML head.
const BOMB_MIB: usize = 1024;

fn bomb_head() -> Vec<u8> {
    format!("<html><head><title>{NAME}</title></head><body><h1>{NAME}</h1><p>").into_bytes()
}

/// A gzip stream of `bomb_head()` and [`BOMB_MIB`] MiB of blanks (about 1 MB: deflate cannot do
/// better than about 1:1000). One MiB of blanks is compressed once after a full flush, which
/// makes its blocks stand alone, and repeated; the trailer's CRC is combined, not recomputed.
fn gzip_bomb() -> Vec<u8> {
    let mut deflate = Compress::new(Compression::best(), false);
    let mut compress = |input: &[u8], flush: FlushCompress| {
        let mut out = Vec::with_capacity(input.len() / 100 + 1024);
        let mut at = 0;
        loop {
            let before = deflate.total_in();
            deflate.compress_vec(&input[at..], &mut out, flush).expect("deflate");
            at += (deflate.total_in() - before) as usize;
            if at >= input.len() && out.len() < out.capacity() {
                return out;
            }
            out.reserve(out.capacity());
        }
    };
    let head = bomb_head();
    let blanks = vec![b' '; MIB];
    let mut stream = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    stream.extend(compress(&head, FlushCompress::Full));
    let chunk = compress(&blanks, FlushCompress::Full);
    for _ in 0..BOMB_MIB {
        stream.extend_from_slice(&chunk);
    }
    stream.extend(compress(&[], FlushCompress::Finish));
    let mut crc = Crc::new();
    crc.update(&head);
    let mut blank_crc = Crc::new();
    blank_crc.update(&blanks);
    for _ in 0..BOMB_MIB {
        crc.combine(&blank_crc);
    }
    stream.extend_from_slice(&crc.sum().to_le_bytes());
    stream.extend_from_slice(&crc.amount().to_le_bytes());
    stream
}

/// A brotli stream of `bomb_head()` and [`BOMB_MIB`] MiB of blanks (about 13 KB). Once the window
/// holds only blanks, each flushed MiB of blanks compresses to the same bytes, which are
/// repeated.
fn brotli_bomb() -> Vec<u8> {
    let blanks = vec![b' '; MIB];
    let mut writer = brotli::CompressorWriter::new(Vec::new(), 64 * 1024, 5, 22);
    let mut marks = Vec::new();
    writer.write_all(&bomb_head()).expect("compress");
    for _ in 0..3 {
        writer.write_all(&blanks).expect("compress");
        writer.flush().expect("flush");
        marks.push(writer.get_ref().len());
    }
    let written = writer.into_inner();
    let (second, third) = (&written[marks[0]..marks[1]], &written[marks[1]..marks[2]]);
    assert_eq!(second, third, "a flushed MiB of blanks compresses alike once the window is blank");
    let mut stream = written[..marks[2]].to_vec();
    for _ in 3..BOMB_MIB {
        stream.extend_from_slice(third);
    }
    stream.extend_from_slice(&written[marks[2]..]);
    stream
}

fn bomb(encoding: &'static str, body: Vec<u8>) -> Reply {
    Reply::Page {
        status: 200,
        headers: vec![
            "Content-Type: text/html; charset=utf-8".to_owned(),
            format!("Content-Encoding: {encoding}"),
        ],
        body: body.into(),
    }
}

/// The bomb is read up to the body cap and no further, as a truncated page; a site whose home
/// page is the bomb is crawled to the end.
async fn assert_bomb_is_defused(encoding: &'static str, body: Vec<u8>) {
    assert!(body.len() < 2 * MIB, "{encoding} bomb of {} bytes", body.len());
    let reply = bomb(encoding, body);
    let server = Hostile::start(move |path| if path == "/" { reply.clone() } else { status(404) }).await;
    let config = profile().fetch;
    let cap = config.max_body_bytes;
    let fetcher = Fetcher::new(FetchConfig { allow_private: true, ..config }).expect("fetcher");
    let page = fetcher.fetch(&Url::parse(&server.url("/")).expect("url")).await.expect("page");
    assert!(page.truncated, "{encoding}: the page was read whole");
    assert_eq!(page.body.len(), cap, "{encoding}: the body is cut at the cap, not later");
    assert!(page.body.starts_with(&format!("<html><head><title>{NAME}")), "{encoding}: decoded");
    assert!(cap < BOMB_MIB * MIB / 100);

    let outcome = crawl(&server, profile()).await;
    assert!(outcome.reachable && outcome.error.is_none(), "{encoding}: {:?}", summary(&outcome));
    // The name in the head was read; the footer, a gigabyte further on, was not.
    assert!(of(&outcome, "content.spam").is_empty(), "{encoding}: {:?}", summary(&outcome));
    assert!(!of(&outcome, "identity.missing").is_empty(), "{encoding}: {:?}", summary(&outcome));
}

#[tokio::test]
async fn a_gzip_bomb_is_read_up_to_the_body_cap_only() {
    assert_bomb_is_defused("gzip", gzip_bomb()).await;
}

#[tokio::test]
async fn a_brotli_bomb_is_read_up_to_the_body_cap_only() {
    assert_bomb_is_defused("br", brotli_bomb()).await;
}

// ---------------------------------------------------------------------------------------------
// Traps without end.

#[tokio::test]
async fn an_endless_next_page_stops_at_the_class_page_cap() {
    let code = org_code(101);
    let catalogue = complete_catalogue(&code);
    let mut pages = catalogue_pages(&catalogue, |page| page);
    pages.retain(|path, _| !path.starts_with("/h/c1/"));
    let (pages, row_code) = (Arc::new(pages), code.clone());
    let server = Hostile::start(move |path| {
        // 政策法规 has a page n for every n, each with two entries and a 下一页 to n + 1.
        let Some(n) = path.strip_prefix("/h/c1/").and_then(|p| p.strip_suffix(".html")?.parse::<u32>().ok())
        else {
            return pages.get(path).cloned().unwrap_or_else(|| status(404));
        };
        let mut rows = String::new();
        for k in 0..2 {
            let serial = 1_000 + 2 * n + k;
            let entry = row("h", &row_code, serial, as_of() - chrono::Days::new(1), &format!("政策{serial}"));
            rows.push_str(&format!(
                "<tr><td>{}</td><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                entry.index_no, entry.href, entry.title, entry.publisher, entry.date
            ));
        }
        html(format!(
            "<table><tr><th>索引号</th><th>名称</th><th>发布机构</th><th>生成日期</th></tr>{rows}</table>\
             <a href=\"{}.html\">下一页</a>",
            n + 1
        ))
    })
    .await;
    let mut profile = catalogue_profile();
    profile.max_pages_per_class = 5;
    let outcome =
        crawl_catalogue(&catalogue_fetcher(5 * MIB), &profile, &catalogue_unit(&code, &server)).await;
    let class = outcome.scan.classes.iter().find(|c| c.name == "政策法规").expect("class scanned");
    assert_eq!((class.pages, class.entries), (5, 10));
    assert!(class.capped, "a 下一页 was left to follow");
    assert_eq!(server.log.count("/h/c1/"), 5, "{:?}", server.log.requests());
    // The cap is recorded (not a finding: the newest pages come first and were read).
    let capped = outcome.output.metrics.iter().find(|m| m.name == "catalogue.classes_capped");
    assert_eq!(capped.map(|m| m.value), Some(rust_decimal::Decimal::ONE));
    assert!(outcome.scan.classes.iter().filter(|c| c.name != "政策法规").all(|c| !c.capped));
    // The other classes were read after it: the trap held up nothing.
    assert_eq!(outcome.scan.entries.len(), 13 * 2 + 10);
    assert!(!outcome.scan.budget_spent);
    assert!(outcome.output.findings.is_empty(), "{:#?}", outcome.output.findings);
}

#[tokio::test]
async fn a_calendar_trap_stops_at_the_frontier_cap_and_says_so() {
    // Every day's page links to the next ten days, for ever.
    let start = as_of();
    let server = Hostile::start(move |path| {
        let day = |d: NaiveDate| format!("<a href=\"/cal/{d}.html\">{d}</a>");
        if path == "/" {
            return html(home(&day(start)));
        }
        match path.strip_prefix("/cal/").and_then(|p| p.strip_suffix(".html")?.parse::<NaiveDate>().ok()) {
            Some(date) => {
                let links: String = (1..=10).map(|n| day(date + chrono::Days::new(n))).collect();
                html(format!("<title>{date}</title><p>{date} 日程</p>{links}"))
            }
            None => status(404),
        }
    })
    .await;
    let profile = profile();
    let cap = profile.frontier.max_pages;
    let outcome = crawl(&server, profile).await;
    assert!(outcome.reachable && outcome.error.is_none());
    let days = server.log.count("/cal/");
    assert!((10..cap).contains(&days), "{days} calendar pages fetched for a cap of {cap}");
    assert!(outcome.pages <= cap + 2, "{} pages", outcome.pages);
    // The crawl says it saw part of the site only.
    let annual = of(&outcome, "report.annual_missing");
    assert_eq!(annual.len(), 1, "{:?}", summary(&outcome));
    assert_eq!(annual[0].detail["crawl_capped"], true);
}

#[tokio::test]
async fn ten_thousand_links_on_one_page_are_crawled_within_the_caps() {
    let links: String =
        (0..10_000).map(|i| format!("<li><a href=\"/l/{i}.html\">链接{i}</a></li>")).collect();
    let home_page = html(home(&format!("<ul>{links}</ul>")));
    let server = Hostile::start(move |path| {
        match path.strip_prefix("/l/").and_then(|p| p.strip_suffix(".html")?.parse::<u32>().ok()) {
            Some(n) if n % 2 == 1 => status(404),
            Some(n) => html(format!("<title>链接{n}</title><p>正文</p>")),
            None if path == "/" => home_page.clone(),
            None => status(404),
        }
    })
    .await;
    let profile = profile();
    let cap = profile.frontier.max_pages;
    let outcome = crawl(&server, profile).await;
    assert!(outcome.reachable && outcome.error.is_none());
    let fetched = server.log.count("/l/");
    assert!(fetched < cap, "{fetched} links fetched for a page cap of {cap}");
    let broken = of(&outcome, "link.broken");
    // Every other link is dead: each dead link fetched is reported once, none that was not.
    assert_eq!(broken.len(), fetched / 2, "{fetched} fetched");
    assert!(broken.len() >= 10);
    assert!(broken.iter().all(|f| f.detail["status"] == 404 && f.detail["page"] == server.url("/")));
    let annual = of(&outcome, "report.annual_missing");
    assert_eq!(annual.len(), 1);
    assert_eq!(annual[0].detail["crawl_capped"], true);
}

// ---------------------------------------------------------------------------------------------
// Encodings that lie.

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

/// A home page with its column link, encoded by `encode`, served as `content_type`.
async fn crawl_encoded(content_type: &str, body: Vec<u8>) -> SiteOutcome {
    let mut pages = HashMap::new();
    pages.insert("/".to_owned(), page(content_type, body));
    let server = Hostile::pages(pages).await;
    crawl(&server, profile()).await
}

fn column_home() -> String {
    home("<ul><li><a href=\"/c0/\">政务动态</a></li></ul><p>乱码段落：§</p>")
}

#[tokio::test]
async fn a_utf8_page_with_gbk_bytes_keeps_its_valid_text() {
    let page = column_home();
    let (before, after) = page.split_once('§').expect("marker");
    let mut body = before.as_bytes().to_vec();
    body.extend(gbk("这一段是GBK编码的文字"));
    body.extend_from_slice(after.as_bytes());
    let outcome = crawl_encoded("text/html; charset=utf-8", body).await;
    assert_home_was_read(&outcome);
}

#[tokio::test]
async fn a_gbk_page_with_invalid_sequences_keeps_its_valid_text() {
    let page = column_home();
    let (before, after) = page.split_once('§').expect("marker");
    let mut body = gbk(before);
    // A lead byte without its trail, a byte GBK never uses, and a lead byte at the very end.
    body.extend_from_slice(&[0x81, 0x20, 0xFF, 0xA1]);
    body.extend(gbk(after));
    body.push(0x81);
    let outcome = crawl_encoded("text/html; charset=GBK", body).await;
    assert_home_was_read(&outcome);
}

#[tokio::test]
async fn an_undeclared_gbk_page_with_invalid_sequences_keeps_its_valid_text() {
    let page = column_home();
    let (before, after) = page.split_once('§').expect("marker");
    let mut body = gbk(before);
    body.extend_from_slice(&[0x81, 0x20, 0xFF]);
    body.extend(gbk(after));
    let outcome = crawl_encoded("text/html", body).await;
    assert_home_was_read(&outcome);
}

#[tokio::test]
async fn an_undeclared_utf8_page_with_gbk_bytes_keeps_its_valid_text() {
    let page = column_home();
    let (before, after) = page.split_once('§').expect("marker");
    let mut body = before.as_bytes().to_vec();
    body.extend(gbk("这一段是GBK编码的文字"));
    body.extend_from_slice(after.as_bytes());
    let outcome = crawl_encoded("text/html", body).await;
    assert_home_was_read(&outcome);
}
