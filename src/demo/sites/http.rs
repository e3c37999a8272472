//! A tiny HTTP/1.1 server: one accept loop per listener, one task per connection, keep-alive,
//! `Content-Length` bodies. Enough for gongkai's own crawler and a browser; nothing more is
//! needed on loopback.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::{Reply, World};

/// A connection idle this long is closed, so that pooled connections do not pile up.
const IDLE: Duration = Duration::from_secs(15);
/// Header lines read per request at most.
const MAX_HEADER_LINES: usize = 100;
/// Bytes of one header line read at most.
const MAX_LINE_BYTES: u64 = 8 * 1024;

/// One request as far as the demo sites care.
pub(super) struct Request {
    pub path: String,
    pub user_agent: String,
}

/// Accepts connections for the site of unit `unit` until the task is aborted.
pub(super) async fn serve(
    listener: TcpListener,
    world: Arc<World>,
    unit: usize,
    shutdown: watch::Receiver<()>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) if world.refuses(unit) => {
                // A server that is down: reset the connection at once (linger 0 sends RST),
                // which the crawler sees as a refused or reset connection.
                let _ = stream.set_zero_linger();
                drop(stream);
            }
            Ok((stream, _)) => {
                tokio::spawn(connection(stream, world.clone(), unit, shutdown.clone()));
            }
            // Out of descriptors or similar: wait rather than spin.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

async fn connection(stream: TcpStream, world: Arc<World>, unit: usize, mut shutdown: watch::Receiver<()>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let request = tokio::select! {
            _ = shutdown.changed() => return,
            read = tokio::time::timeout(IDLE, read_request(&mut reader)) => read,
        };
        let Ok(Some(request)) = request else { return };
        match world.reply(unit, &request) {
            Reply::Silence => {
                // Say nothing until the client gives up (its timeout) or the demo stops.
                let mut sink = [0u8; 512];
                loop {
                    tokio::select! {
                        _ = shutdown.changed() => return,
                        read = reader.read(&mut sink) => if matches!(read, Ok(0) | Err(_)) { return },
                    }
                }
            }
            Reply::Page { page, delay } => {
                if let Some(delay) = delay {
                    tokio::time::sleep(delay).await;
                }
                let head = format!(
                    "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nServer: gongkai-demo\r\n\r\n",
                    page.status,
                    reason(page.status),
                    page.content_type,
                    page.body.len()
                );
                if write.write_all(head.as_bytes()).await.is_err()
                    || write.write_all(&page.body).await.is_err()
                {
                    return;
                }
                world.count_served();
            }
        }
    }
}

/// Reads a request head; `None` at the end of the connection or on a malformed head. Bodies
/// are not expected (the sites only answer GET) and not read.
async fn read_request(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<Request> {
    let mut line = String::new();
    if (&mut *reader).take(MAX_LINE_BYTES).read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut user_agent = String::new();
    for _ in 0..MAX_HEADER_LINES {
        line.clear();
        if (&mut *reader).take(MAX_LINE_BYTES).read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        if line == "\r\n" || line == "\n" {
            return Some(Request { path, user_agent });
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("user-agent")
        {
            user_agent = value.trim().to_owned();
        }
    }
    None
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Unknown",
    }
}
