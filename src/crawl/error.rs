//! Why a fetch produced no page. Every variant names the URL it concerns, because the message
//! ends up as evidence in front of a civil servant who must be able to check it in a browser.
//! An HTTP status ≥ 400 is not an error: the server answered, and the checks decide what that
//! answer means. A body over the size cap is not an error either: the page comes back truncated.

use std::error::Error as StdError;
use std::net::IpAddr;

use url::Url;

use super::config::ConfigError;
use super::guard::{BlockedAddress, ResolveFailed};

/// Why a fetch produced no page; the Chinese message is what findings and run logs show.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The address could not be parsed as a URL (a registry entry or a page's link).
    #[error("网址无效：{url}（{reason}）")]
    InvalidUrl {
        /// The text as given, since it is not a URL.
        url: String,
        /// The URL parser's complaint.
        reason: String,
    },

    /// The URL is not http or https (`ftp:`, `mailto:`…).
    #[error("不支持的网址协议「{scheme}」，只抓取 http 和 https：{url}")]
    UnsupportedScheme {
        /// The URL refused.
        url: Url,
        /// Its scheme, as written.
        scheme: String,
    },

    /// The host resolved to a loopback, private or otherwise non-public address, which the
    /// address guard refuses unless `--allow-private` is given (SSRF protection).
    #[error("拒绝访问非公网地址 {address}（{host}），如确需访问内网请使用 --allow-private：{url}")]
    PrivateAddress {
        /// The URL refused.
        url: Url,
        /// The host name that resolved to it.
        host: String,
        /// The non-public address it resolved to.
        address: IpAddr,
    },

    /// The host name did not resolve.
    #[error("域名解析失败：{url}（{reason}）")]
    Dns {
        /// The URL whose host failed to resolve.
        url: Url,
        /// The resolver's message.
        reason: String,
    },

    /// No connection could be made (refused, unreachable, TLS handshake failed).
    #[error("无法建立连接：{url}（{reason}）")]
    Connect {
        /// The URL fetched.
        url: Url,
        /// The innermost cause, e.g. "Connection refused".
        reason: String,
    },

    /// The connect or total time limit ran out.
    #[error("超过 {seconds} 秒总时限仍未完成（含重定向、重试与等待）：{url}")]
    Timeout {
        /// The URL fetched.
        url: Url,
        /// The limit that ran out, in seconds (connect or total, whichever applied).
        seconds: u64,
    },

    /// More redirects than `[fetch] max_redirects` allows.
    #[error("重定向超过 {limit} 次：{url}")]
    TooManyRedirects {
        /// The hop at which the limit was reached.
        url: Url,
        /// The configured limit.
        limit: usize,
    },

    /// A redirect led back to a URL already visited in the same chain.
    #[error("重定向循环：{url} 又指向已经访问过的 {target}")]
    RedirectLoop {
        /// The hop that redirected.
        url: Url,
        /// The already-visited URL it pointed to (boxed to keep the error small).
        target: Box<Url>,
    },

    /// A redirect's `Location` did not make a usable http(s) URL.
    #[error("重定向目标无效：{url} 指向「{location}」")]
    BadRedirect {
        /// The hop that redirected.
        url: Url,
        /// The `Location` header as sent.
        location: String,
    },

    /// Any other failure while sending the request or reading the response body.
    #[error("请求或读取响应失败：{url}（{reason}）")]
    Http {
        /// The URL fetched.
        url: Url,
        /// The innermost cause.
        reason: String,
    },
}

impl FetchError {
    /// The URL the failure concerns (for a redirect failure, the hop that failed).
    pub fn url(&self) -> &str {
        match self {
            Self::InvalidUrl { url, .. } => url,
            Self::UnsupportedScheme { url, .. }
            | Self::PrivateAddress { url, .. }
            | Self::Dns { url, .. }
            | Self::Connect { url, .. }
            | Self::Timeout { url, .. }
            | Self::TooManyRedirects { url, .. }
            | Self::RedirectLoop { url, .. }
            | Self::BadRedirect { url, .. }
            | Self::Http { url, .. } => url.as_str(),
        }
    }

    /// Turns a reqwest error into the variant a user can act on. The address guard's refusal
    /// travels inside reqwest's error chain, so the chain is searched for it first.
    pub(crate) fn from_reqwest(err: &reqwest::Error, url: &Url, connect_secs: u64, total_secs: u64) -> Self {
        let url = url.clone();
        let mut source: Option<&(dyn StdError + 'static)> = Some(err);
        while let Some(current) = source {
            if let Some(blocked) = current.downcast_ref::<BlockedAddress>() {
                return Self::PrivateAddress { url, host: blocked.host.clone(), address: blocked.address };
            }
            if let Some(failed) = current.downcast_ref::<ResolveFailed>() {
                return Self::Dns { url, reason: failed.to_string() };
            }
            source = current.source();
        }
        let reason = root_cause(err);
        if err.is_timeout() {
            let seconds = if err.is_connect() { connect_secs } else { total_secs };
            Self::Timeout { url, seconds }
        } else if err.is_connect() {
            Self::Connect { url, reason }
        } else {
            Self::Http { url, reason }
        }
    }
}

/// The innermost cause is the one that says what happened ("Connection refused"); the outer
/// layers only repeat the URL.
fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// The fetcher could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The fetch settings are out of range.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// reqwest could not build its client (e.g. the TLS backend failed to initialise).
    #[error("无法创建 HTTP 客户端：{0}")]
    Client(#[from] reqwest::Error),
    /// A configured header value (such as the cloaking `Referer`) is not visible ASCII; holds the value.
    #[error("请求头的值无效（只能包含可见 ASCII 字符）：{0}")]
    Header(String),
}
