//! One small HTTP/1.1 server for the crawler tests' fixture websites: it reads a request head,
//! asks the test's responder for the answer to the path (and whether a search engine's crawler
//! asked), writes it with `Connection: close` and closes. Each site gets its own server on
//! 127.0.0.1, which stops when dropped.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Bytes of a request head read at most.
const MAX_HEAD: usize = 65_536;

/// What a request asked for.
pub(crate) struct Request {
    /// The request target as sent (not percent-decoded).
    pub path: String,
    /// The user agent is Baiduspider (the cloaking check's second fetch).
    pub spider: bool,
}

/// One answer of a fixture server.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub content_type: String,
    /// A `Location` header, for redirects.
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    pub(crate) fn html(body: impl Into<String>) -> Answer {
        Answer {
            status: 200,
            content_type: "text/html; charset=utf-8".to_owned(),
            location: None,
            body: body.into().into_bytes(),
        }
    }

    /// A short HTML page with this status.
    pub(crate) fn status(code: u16) -> Answer {
        Answer { status: code, ..Answer::html(format!("<h1>{code}</h1>")) }
    }
}

/// A running fixture website; stops when dropped.
pub(crate) struct PageServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PageServer {
    /// Serves every request with `respond`'s answer.
    pub(crate) async fn start(respond: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> PageServer {
        Self::start_slow(respond, |_| None).await
    }

    /// Serves every request with `respond`'s answer, after the pause `delay` gives it (a slow
    /// server, without holding up the others).
    pub(crate) async fn start_slow(
        respond: impl Fn(&Request) -> Answer + Send + Sync + 'static,
        delay: impl Fn(&Request) -> Option<std::time::Duration> + Send + Sync + 'static,
    ) -> PageServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let respond = Arc::new(respond);
        let delay = Arc::new(delay);
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (respond, delay) = (respond.clone(), delay.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 2048];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let request = Request {
                        path: head.split_whitespace().nth(1).unwrap_or("/").to_owned(),
                        spider: head.lines().any(|l| {
                            l.to_ascii_lowercase().starts_with("user-agent:") && l.contains("Baiduspider")
                        }),
                    };
                    if let Some(pause) = delay(&request) {
                        tokio::time::sleep(pause).await;
                    }
                    let answer = respond(&request);
                    let location =
                        answer.location.as_deref().map(|l| format!("Location: {l}\r\n")).unwrap_or_default();
                    let mut out = format!(
                        "HTTP/1.1 {} X\r\nContent-Type: {}\r\n{location}Content-Length: {}\r\nConnection: close\r\n\r\n",
                        answer.status,
                        answer.content_type,
                        answer.body.len()
                    )
                    .into_bytes();
                    out.extend_from_slice(&answer.body);
                    let _ = stream.write_all(&out).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        PageServer { addr, task }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` followed by `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// An address on loopback where nothing listens: every connection to it is refused (a dead
/// website).
pub(crate) fn refused_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}
