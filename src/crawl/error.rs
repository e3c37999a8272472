//! Why a fetch produced no page. Every variant names the URL it concerns, because the message
//! ends up as evidence in front of a civil servant who must be able to check it in a browser.
//! An HTTP status ≥ 400 is not an error: the server answered, and the checks decide what that
//! answer means. A body over the size cap is not an error either: the page comes back truncated.

use std::error::Error as StdError;
use std::net::IpAddr;

use url::Url;

use super::config::ConfigError;
use super::guard::{BlockedAddress, ResolveFailed};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("网址无效：{url}（{reason}）")]
    InvalidUrl { url: String, reason: String },

    #[error("不支持的网址协议「{scheme}」，只抓取 http 和 https：{url}")]
    UnsupportedScheme { url: Url, scheme: String },

    #[error("拒绝访问非公网地址 {address}（{host}），如确需访问内网请使用 --allow-private：{url}")]
    PrivateAddress { url: Url, host: String, address: IpAddr },

    #[error("域名解析失败：{url}（{reason}）")]
    Dns { url: Url, reason: String },

    #[error("无法建立连接：{url}（{reason}）")]
    Connect { url: Url, reason: String },

    #[error("超过 {seconds} 秒总时限仍未完成（含重定向、重试与等待）：{url}")]
    Timeout { url: Url, seconds: u64 },

    #[error("重定向超过 {limit} 次：{url}")]
    TooManyRedirects { url: Url, limit: usize },

    #[error("重定向循环：{url} 又指向已经访问过的 {target}")]
    RedirectLoop { url: Url, target: Box<Url> },

    #[error("重定向目标无效：{url} 指向「{location}」")]
    BadRedirect { url: Url, location: String },

    #[error("请求或读取响应失败：{url}（{reason}）")]
    Http { url: Url, reason: String },
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
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("无法创建 HTTP 客户端：{0}")]
    Client(#[from] reqwest::Error),
    #[error("请求头的值无效（只能包含可见 ASCII 字符）：{0}")]
    Header(String),
}
