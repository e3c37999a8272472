//! A small, deliberately misbehaving web server on 127.0.0.1 for the crawler's tests. Responses
//! are written by hand so that the server can do what real broken sites do: trickle bytes,
//! promise 60 MB, redirect in circles, answer 429, or accept a connection and say nothing.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use url::Url;

/// Size the `/huge` page claims and would send if it were read to the end.
pub(crate) const HUGE_LEN: usize = 60 * 1024 * 1024;

/// Text long enough for the charset sniffer to be sure it is Chinese.
pub(crate) const CHINESE: &str = "南宁市人民政府办公室关于进一步做好政府信息公开工作的通知。各县、区人民政府，市政府各部门：\
为贯彻落实《中华人民共和国政府信息公开条例》，切实保障公民、法人和其他组织依法获取政府信息，\
现将有关事项通知如下：一、加强组织领导，明确工作机构和人员；二、完善公开目录，及时更新信息；\
三、规范依申请公开办理程序，按期答复申请人。";

#[derive(Default)]
struct State {
    hits: Mutex<HashMap<String, usize>>,
    connections: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    huge_written: AtomicUsize,
    huge_done: AtomicBool,
    user_agents: Mutex<Vec<String>>,
}

/// A running fixture server; it stops when dropped.
pub(crate) struct Fixture {
    pub addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fixture {
    pub(crate) async fn start() -> Fixture {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind fixture server");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(State::default());
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        Fixture { addr, state, task }
    }

    pub(crate) fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).expect("fixture url")
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Requests received for a path (query included).
    pub(crate) fn hits(&self, path: &str) -> usize {
        self.state.hits.lock().expect("hits lock").get(path).copied().unwrap_or(0)
    }

    /// TCP connections accepted, whatever came over them.
    pub(crate) fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// The largest number of `/slow` requests that were being answered at the same time.
    pub(crate) fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn user_agents(&self) -> Vec<String> {
        self.state.user_agents.lock().expect("ua lock").clone()
    }

    /// Waits until the `/huge` handler has stopped writing (the client hung up), then says how
    /// many bytes it got out.
    pub(crate) async fn huge_bytes_written(&self) -> usize {
        for _ in 0..600 {
            if self.state.huge_done.load(Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(self.state.huge_done.load(Ordering::SeqCst), "the /huge handler never stopped");
        self.state.huge_written.load(Ordering::SeqCst)
    }
}

/// A port that accepts connections and never sends a byte.
pub(crate) struct Silent {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Silent {
    pub(crate) async fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind silent server");
        let addr = listener.local_addr().expect("local address");
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        Silent { addr, task }
    }

    pub(crate) fn url(&self) -> Url {
        Url::parse(&format!("http://{}/", self.addr)).expect("silent url")
    }
}

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

async fn serve(mut stream: TcpStream, state: Arc<State>) {
    let Some(head) = read_head(&mut stream).await else { return };
    let mut lines = head.lines();
    let target = lines.next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("/").to_owned();
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("user-agent")
        {
            state.user_agents.lock().expect("ua lock").push(value.trim().to_owned());
        }
    }
    let hit = {
        let mut hits = state.hits.lock().expect("hits lock");
        let count = hits.entry(target.clone()).or_default();
        *count += 1;
        *count
    };
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    let html = "text/html; charset=utf-8";
    let _ = match path {
        "/" => {
            let body = "<html><head><title>南宁市测试局</title></head><body>\
                <a href=\"/news/\">工作动态</a> <a href=\"/news/#top\">工作动态</a>\
                <a href=\"http://other.example.cn/\">上级网站</a></body></html>";
            respond(&mut stream, "200 OK", &[("Content-Type", html)], body.as_bytes()).await
        }
        "/news/" => respond(&mut stream, "200 OK", &[("Content-Type", html)], b"<p>news</p>").await,
        "/ua" => respond(&mut stream, "200 OK", &[("Content-Type", "text/plain")], b"ok").await,
        "/missing" => {
            let body = "<h1>404 页面未找到</h1>";
            respond(&mut stream, "404 Not Found", &[("Content-Type", html)], body.as_bytes()).await
        }
        "/gbk-header" => {
            let body = gbk(&format!("<html><body><p>{CHINESE}</p></body></html>"));
            respond(&mut stream, "200 OK", &[("Content-Type", "text/html; charset=GBK")], &body).await
        }
        "/gbk-meta" => {
            let body = gbk(&format!(
                "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">\
                 </head><body><p>{CHINESE}</p></body></html>"
            ));
            respond(&mut stream, "200 OK", &[("Content-Type", "text/html")], &body).await
        }
        "/gbk-none" => {
            let body = gbk(&format!("<html><body><p>{CHINESE}</p></body></html>"));
            respond(&mut stream, "200 OK", &[], &body).await
        }
        "/malformed" => {
            let mut body =
                b"<html><body><div><a href=\"/a\">\xff\xfe\xfd<b>ok</a><a href=/b>b<table><td>".to_vec();
            body.extend_from_slice(
                b"<a href=\"javascript:alert(1)\">x</a><a href=\"http://[::1\">bad</a></p></div>",
            );
            respond(&mut stream, "200 OK", &[("Content-Type", "text/html")], &body).await
        }
        "/report.pdf" => {
            let body = vec![b'%'; 1024 * 1024];
            respond(&mut stream, "200 OK", &[("Content-Type", "application/pdf")], &body).await
        }
        "/huge" => huge(&mut stream, &state).await,
        "/trickle" => trickle(&mut stream).await,
        "/loop-a" => redirect(&mut stream, "/loop-b").await,
        "/loop-b" => redirect(&mut stream, "/loop-a").await,
        "/self" => redirect(&mut stream, "/self#again").await,
        "/redirect" => redirect(&mut stream, query.strip_prefix("to=").unwrap_or("/")).await,
        p if p.starts_with("/hop/") => {
            let n: u32 = p["/hop/".len()..].parse().unwrap_or(0);
            if n == 0 {
                respond(&mut stream, "200 OK", &[("Content-Type", html)], b"<p>arrived</p>").await
            } else {
                redirect(&mut stream, &format!("/hop/{}", n - 1)).await
            }
        }
        p if p.starts_with("/slowhop/") => {
            // A redirect chain whose every hop takes 2 s: each hop is quick enough alone.
            let n: u32 = p["/slowhop/".len()..].parse().unwrap_or(0);
            tokio::time::sleep(Duration::from_secs(2)).await;
            if n == 0 {
                respond(&mut stream, "200 OK", &[("Content-Type", html)], b"<p>arrived</p>").await
            } else {
                redirect(&mut stream, &format!("/slowhop/{}", n - 1)).await
            }
        }
        "/cal" => {
            let day: i64 = query.strip_prefix("d=").and_then(|d| d.parse().ok()).unwrap_or(0);
            let body = format!(
                "<html><body><h1>日历 {day}</h1><a href=\"/cal?d={}\">前一天</a> \
                 <a href=\"/cal?d={}\">后一天</a> <a href=\"/cal?d={day}#today\">今天</a></body></html>",
                day - 1,
                day + 1
            );
            respond(&mut stream, "200 OK", &[("Content-Type", html)], body.as_bytes()).await
        }
        "/busy" if hit == 1 => {
            respond(&mut stream, "429 Too Many Requests", &[("Retry-After", "1")], b"slow down").await
        }
        "/busy" => respond(&mut stream, "200 OK", &[("Content-Type", html)], b"<p>served</p>").await,
        "/down" => respond(&mut stream, "503 Service Unavailable", &[], b"down").await,
        "/closed" => {
            respond(&mut stream, "503 Service Unavailable", &[("Retry-After", "3600")], b"maintenance").await
        }
        "/slow" => {
            let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            state.max_in_flight.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            state.in_flight.fetch_sub(1, Ordering::SeqCst);
            respond(&mut stream, "200 OK", &[("Content-Type", html)], b"<p>slow</p>").await
        }
        _ => respond(&mut stream, "404 Not Found", &[("Content-Type", html)], b"not found").await,
    };
}

/// Reads the request head (up to 16 KiB, 10 s).
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return None;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await.ok()?.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await
}

async fn redirect(stream: &mut TcpStream, location: &str) -> std::io::Result<()> {
    respond(stream, "302 Found", &[("Location", location)], b"").await
}

/// Promises and starts sending 60 MiB, produced 64 KiB at a time so the server itself never
/// holds more than that; stops when the client hangs up.
async fn huge(stream: &mut TcpStream, state: &State) -> std::io::Result<()> {
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {HUGE_LEN}\r\n\r\n");
    let result = async {
        stream.write_all(head.as_bytes()).await?;
        let chunk = vec![b'a'; 64 * 1024];
        let mut written = 0;
        while written < HUGE_LEN {
            stream.write_all(&chunk).await?;
            written += chunk.len();
            state.huge_written.store(written, Ordering::SeqCst);
        }
        stream.flush().await
    }
    .await;
    state.huge_done.store(true, Ordering::SeqCst);
    result
}

/// Promises 100 bytes and sends one per second.
async fn trickle(stream: &mut TcpStream) -> std::io::Result<()> {
    stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100\r\n\r\n").await?;
    for _ in 0..100 {
        stream.write_all(b"x").await?;
        stream.flush().await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(())
}
