//! Loopback websites for the examples (benchmarks and the cluster test): many small government
//! sites, each on its own loopback address so that per-host politeness applies per site as it
//! would on the internet. Shared by `bench_crawl` and `cluster_test` through `#[path]`.

#![allow(dead_code, unreachable_pub)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gongkai::model::{Unit, UnitKind, synthetic_credit_code};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

pub const COLUMNS: [&str; 9] = [
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
/// How many pages a site has.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Columns linked from the home page (at most 9).
    pub columns: usize,
    /// Articles listed in each column.
    pub articles: usize,
    /// Other pages linked from the home page (关于我们…).
    pub extra: usize,
}

/// 1 home + 9 columns + 36 articles + 4 extra pages = 50.
pub const FULL: Shape = Shape { columns: 9, articles: 4, extra: 4 };
/// 1 home + 2 columns + 2 articles = 5: a crawl of hundreds of sites in a minute or two.
pub const SMALL: Shape = Shape { columns: 2, articles: 1, extra: 0 };

/// The page at `path` of site number `site`: a home page linking nine dated columns and four
/// other pages, columns listing four articles each, and articles.
pub fn page(path: &str, site: usize, shape: Shape) -> String {
    let body = if path == "/" {
        let mut links: String = COLUMNS
            .iter()
            .take(shape.columns)
            .enumerate()
            .map(|(i, name)| {
                format!("<li><a href=\"/col/{i}\">{name}</a> <span>2026-11-{:02}</span></li>", 20 - i)
            })
            .collect();
        links.push_str(
            &(0..shape.extra).map(|i| format!("<a href=\"/about/{i}\">关于我们{i}</a>")).collect::<String>(),
        );
        format!(
            "<h1>南宁市第{site}局</h1><ul>{links}</ul><div class=footer>主办单位：南宁市第{site}局 \
             网站标识码4501000{site:03} 桂ICP备12345号 桂公网安备45010002000{site:03}号 \
             <a href=\"http://bszs.conac.cn/\"><img alt=\"党政机关\"></a></div>"
        )
    } else if let Some(column) = path.strip_prefix("/col/") {
        let items: String = (0..shape.articles)
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

/// What a site answers to a path: the status line's code and reason (`200 OK`) and the body.
pub type Answer = (&'static str, Vec<u8>);

/// A minimal keep-alive HTTP/1.1 server: every request is answered with `answer(path)` as HTML,
/// after waiting `delay` (a site at internet speed rather than loopback speed).
pub async fn serve_with<F>(listener: TcpListener, answer: Arc<F>, served: Arc<AtomicU64>, delay: Duration)
where
    F: Fn(&str) -> Answer + Send + Sync + 'static,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let (answer, served) = (answer.clone(), served.clone());
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
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let (status, body) = answer(&path);
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                if write.write_all(head.as_bytes()).await.is_err() || write.write_all(&body).await.is_err() {
                    return;
                }
                served.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
}

/// Serves site number `site` of the given shape (see [`page`]).
pub async fn serve(
    listener: TcpListener,
    site: usize,
    served: Arc<AtomicU64>,
    delay: Duration,
    shape: Shape,
) {
    let answer = move |path: &str| ("200 OK", page(path, site, shape).into_bytes());
    serve_with(listener, Arc::new(answer), served, delay).await;
}

/// A size from /proc/self/status (`VmHWM`: peak resident memory, `VmRSS`: current), in MiB.
pub fn status_mib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::to_owned)))
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
        .map_or(0, |kib| kib / 1024)
}

/// Starts `count` sites on 127.0.`first_block`.1, 127.0.`first_block`.2, … (250 per block) and
/// returns the units whose websites they are.
pub async fn start_sites(
    count: usize,
    first_block: u8,
    served: Arc<AtomicU64>,
    delay: Duration,
    shape: Shape,
) -> anyhow::Result<Vec<Unit>> {
    let mut units = Vec::with_capacity(count);
    for i in 0..count {
        let block = u8::try_from(usize::from(first_block) + i / 250)?;
        let ip = Ipv4Addr::new(127, 0, block, 1 + (i % 250) as u8);
        let listener = TcpListener::bind(SocketAddr::from((ip, 0))).await?;
        let address = listener.local_addr()?;
        tokio::spawn(serve(listener, i, served.clone(), delay, shape));
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
    Ok(units)
}
