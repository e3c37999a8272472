//! Fetching one URL the way a careful crawler does: redirects followed by hand so that every
//! hop passes the address guard and counts against the cap, the body streamed and cut at the
//! size cap, every exchange under a deadline, every request scheduled by the politeness rules,
//! and the text decoded by the project's one decoder.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Response, StatusCode, redirect};
use tokio::time::Instant;
use url::Url;

use super::config::FetchConfig;
use super::error::{BuildError, FetchError};
use super::frontier::normalize;
use super::guard::{GuardedResolver, check_literal_host};
use super::politeness::{Politeness, Ticket, retry_after};
use crate::text::encoding::{Decoded, EncodingSource, Hints, decode};

/// What a server answered for a URL. Any status is a page, 404 and 500 included: the checks
/// decide what a status means.
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL finally answered, after redirects.
    pub url: Url,
    /// The URLs that redirected, in order, starting with the one requested. Empty when the first
    /// answer was not a redirect.
    pub redirects: Vec<Url>,
    /// The final answer's HTTP status; a status of 400 or more is a page, not an error.
    pub status: u16,
    /// The `Content-Type` header as sent, if any.
    pub content_type: Option<String>,
    /// The `Last-Modified` header as sent, if any, unparsed.
    pub last_modified: Option<String>,
    /// The body as text. Empty when the content is not text (PDF, images…): such bodies are not
    /// read at all.
    pub body: String,
    /// The body's bytes, kept only by [`Fetcher::fetch_document`] (issue #17: a report may be a
    /// PDF attachment, which `body` never holds). Empty otherwise.
    pub raw: Vec<u8>,
    /// The encoding the body was decoded with (`None` when the body was not read).
    pub encoding: Option<&'static str>,
    /// The body was longer than the size cap; `body` holds its beginning only.
    pub truncated: bool,
    /// Time spent in HTTP exchanges (all hops and retries), politeness waits excluded.
    pub elapsed: Duration,
}

impl Page {
    /// A 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The content type says HTML, or is missing (then the body is treated as HTML).
    pub fn is_html(&self) -> bool {
        self.content_type.as_deref().is_none_or(|t| t.to_ascii_lowercase().contains("html"))
    }
}

/// Fetches pages under one [`FetchConfig`]. Cheap to clone; clones share the connection pool
/// and the politeness state, so one `Fetcher` should serve a whole crawl.
#[derive(Debug, Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Resolves through the address guard (unless `allow_private`).
    client: reqwest::Client,
    /// Resolves without the guard; used only for hops to hosts on the private allowlist.
    exempt_client: Option<reqwest::Client>,
    allowlist: Vec<(String, Option<u16>)>,
    config: FetchConfig,
    /// Shared with fetchers made by [`Fetcher::with_identity`]: a host's limits count every
    /// request sent to it, whichever identity sent it.
    politeness: Arc<Politeness>,
}

/// One answer with its body still unread, and the slots and deadline it was obtained under.
struct Exchange {
    response: Response,
    _ticket: Ticket,
    deadline: Instant,
    started: Instant,
}

impl Fetcher {
    /// A fetcher with its own politeness limits (per host and in all) from `config`.
    pub fn new(config: FetchConfig) -> Result<Self, BuildError> {
        let politeness = Arc::new(Politeness::for_config(&config));
        Self::build(config, politeness)
    }

    /// A fetcher that presents itself differently (the cloaking check fetches as a search
    /// engine) but shares this one's politeness, so that its requests count against the same
    /// per-host limits instead of doubling them.
    pub fn with_identity(&self, user_agent: &str, referer: Option<&str>) -> Result<Self, BuildError> {
        let config = FetchConfig {
            user_agent: user_agent.to_owned(),
            referer: referer.map(str::to_owned),
            ..self.inner.config.clone()
        };
        Self::build(config, self.inner.politeness.clone())
    }

    fn build(config: FetchConfig, politeness: Arc<Politeness>) -> Result<Self, BuildError> {
        config.validate()?;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        );
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("zh-CN,zh;q=0.9,en;q=0.5"));
        if let Some(referer) = &config.referer {
            let value = HeaderValue::from_str(referer).map_err(|_| BuildError::Header(referer.clone()))?;
            headers.insert(header::REFERER, value);
        }
        let build = |allow_private: bool| {
            reqwest::Client::builder()
                .user_agent(config.user_agent.as_str())
                .default_headers(headers.clone())
                // Redirects are followed in `fetch`, so each hop is checked and counted.
                .redirect(redirect::Policy::none())
                .connect_timeout(config.connect_timeout())
                .dns_resolver(Arc::new(GuardedResolver { allow_private }))
                // A proxy would resolve and connect on our behalf, out of the guard's sight.
                .no_proxy()
                // Enough idle connections for the busiest host (a `[[fetch.hosts]]` override).
                .pool_max_idle_per_host(
                    config.hosts.iter().map(|h| h.concurrency).fold(config.per_host_concurrency, usize::max),
                )
                .build()
        };
        let client = build(config.allow_private)?;
        let allowlist = config.private_allowlist();
        let exempt_client =
            if config.allow_private || allowlist.is_empty() { None } else { Some(build(true)?) };
        Ok(Self { inner: Arc::new(Inner { client, exempt_client, allowlist, config, politeness }) })
    }

    /// The client for a hop: the unguarded one only for a host on the private allowlist.
    fn client_for(&self, url: &Url) -> &reqwest::Client {
        let inner = &*self.inner;
        match &inner.exempt_client {
            Some(exempt) if is_listed(&inner.allowlist, url) => exempt,
            _ => &inner.client,
        }
    }

    /// The settings it was built with.
    pub fn config(&self) -> &FetchConfig {
        &self.inner.config
    }

    /// Fetches `url`, following redirects. Fails only when no answer worth judging came back:
    /// the address is refused, the server cannot be reached or does not finish in time, or the
    /// redirects go round or on too long.
    ///
    /// One deadline, `total_timeout_secs` from the call, covers everything: every redirect hop,
    /// every retry, every `Retry-After` wait and politeness wait, and the body. A slow redirect
    /// chain therefore fails like one slow page does (issue #11).
    pub async fn fetch(&self, url: &Url) -> Result<Page, FetchError> {
        self.fetch_as(url, false).await
    }

    /// [`Fetcher::fetch`], keeping the body's bytes in [`Page::raw`] whatever its type (within
    /// the same size cap and deadline): the annual report check reads PDF attachments.
    pub async fn fetch_document(&self, url: &Url) -> Result<Page, FetchError> {
        self.fetch_as(url, true).await
    }

    async fn fetch_as(&self, url: &Url, keep_raw: bool) -> Result<Page, FetchError> {
        let config = &self.inner.config;
        let deadline = Instant::now() + config.total_timeout();
        let mut current = self.check_target(url)?;
        let mut redirects: Vec<Url> = Vec::new();
        let mut elapsed = Duration::ZERO;
        loop {
            let exchange = self.send(&current, deadline, &mut elapsed).await?;
            let status = exchange.response.status();
            if let Some(location) = redirect_location(status, exchange.response.headers()) {
                elapsed += exchange.started.elapsed();
                drop(exchange);
                let next =
                    current.join(location.trim()).ok().and_then(|u| normalize(&u)).ok_or_else(|| {
                        FetchError::BadRedirect { url: current.clone(), location: location.clone() }
                    })?;
                redirects.push(current);
                if redirects.contains(&next) {
                    let url = redirects.pop().unwrap_or_else(|| next.clone());
                    return Err(FetchError::RedirectLoop { url, target: Box::new(next) });
                }
                if redirects.len() > config.max_redirects {
                    let url = redirects.pop().unwrap_or_else(|| next.clone());
                    return Err(FetchError::TooManyRedirects { url, limit: config.max_redirects });
                }
                current = self.check_target(&next)?;
                continue;
            }
            return self.read_page(exchange, current, redirects, elapsed, keep_raw).await;
        }
    }

    /// Refuses what must not be requested at all: non-web schemes and literal non-public
    /// addresses (names are checked by the resolver, after resolution).
    fn check_target(&self, url: &Url) -> Result<Url, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::UnsupportedScheme { url: url.clone(), scheme: url.scheme().to_owned() });
        }
        let Some(normalized) = normalize(url) else {
            return Err(FetchError::InvalidUrl {
                url: url.to_string(), reason: "缺少主机名".to_owned()
            });
        };
        let exempt = self.inner.exempt_client.is_some() && is_listed(&self.inner.allowlist, &normalized);
        check_literal_host(&normalized, self.inner.config.allow_private || exempt).map_err(|blocked| {
            FetchError::PrivateAddress {
                url: normalized.clone(),
                host: blocked.host,
                address: blocked.address,
            }
        })?;
        Ok(normalized)
    }

    /// Sends one request when politeness allows, retrying a bounded number of times after 429
    /// and 503 (waiting as asked by `Retry-After`, or backing off exponentially). Nothing runs
    /// past `deadline`: a wait that would end after it fails the fetch at once.
    async fn send(
        &self,
        url: &Url,
        deadline: Instant,
        elapsed: &mut Duration,
    ) -> Result<Exchange, FetchError> {
        let Inner { config, politeness, .. } = &*self.inner;
        let client = self.client_for(url);
        let host = url.host_str().unwrap_or_default();
        let mut attempt = 0;
        loop {
            let Ok(ticket) = tokio::time::timeout_at(deadline, politeness.acquire(host)).await else {
                return Err(self.timeout(url));
            };
            let started = Instant::now();
            let sent = tokio::time::timeout_at(deadline, client.get(url.clone()).send()).await;
            let response = match sent {
                Err(_) => return Err(self.timeout(url)),
                Ok(Err(err)) => return Err(self.classify(&err, url)),
                Ok(Ok(response)) => response,
            };
            let status = response.status();
            let retryable = matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE);
            if retryable && attempt < config.max_retries {
                let asked = retry_after(response.headers());
                let wait = asked.unwrap_or_else(|| backoff(config.retry_backoff(), attempt));
                if wait <= config.max_retry_after() && Instant::now() + wait < deadline {
                    tracing::debug!(%url, status = status.as_u16(), ?wait, "server asked to wait; retrying");
                    *elapsed += started.elapsed();
                    politeness.back_off(host, wait);
                    attempt += 1;
                    continue;
                }
                // Asked to wait longer than we may: keep away for the longest wait allowed and
                // report the answer as it is.
                politeness.back_off(host, wait.min(config.max_retry_after()));
                if wait <= config.max_retry_after() {
                    // The wait is allowed but outlasts the total deadline.
                    return Err(self.timeout(url));
                }
            }
            return Ok(Exchange { response, _ticket: ticket, deadline, started });
        }
    }

    /// Reads the body (text only, at most the cap) and decodes it.
    async fn read_page(
        &self,
        exchange: Exchange,
        url: Url,
        redirects: Vec<Url>,
        elapsed: Duration,
        keep_raw: bool,
    ) -> Result<Page, FetchError> {
        let Exchange { mut response, _ticket, deadline, started } = exchange;
        let headers = response.headers();
        let status = response.status().as_u16();
        let content_type = header_text(headers, header::CONTENT_TYPE);
        let last_modified = header_text(headers, header::LAST_MODIFIED);
        let declared_length = response.content_length();
        let mut page = Page {
            url,
            redirects,
            status,
            content_type,
            last_modified,
            body: String::new(),
            raw: Vec::new(),
            encoding: None,
            truncated: false,
            elapsed,
        };
        let textual = page.content_type.as_deref().is_none_or(is_textual);
        if textual || keep_raw {
            let cap = self.inner.config.max_body_bytes;
            let read = tokio::time::timeout_at(deadline, read_capped(&mut response, cap)).await;
            let (bytes, full) = match read {
                Err(_) => return Err(self.timeout(&page.url)),
                Ok(Err(err)) => return Err(self.classify(&err, &page.url)),
                Ok(Ok(read)) => read,
            };
            // Exactly `cap` bytes may be the whole body; only a declared length says so.
            page.truncated = full && declared_length != Some(cap as u64);
            let declared = page.content_type.as_deref().and_then(charset_label);
            let tld = page.url.domain().and_then(|d| d.rsplit('.').next()).map(str::as_bytes);
            if textual {
                let decoded = decode_page(&bytes, Hints { declared, html: true, tld });
                page.body = decoded.text;
                page.encoding = Some(decoded.encoding.name());
            }
            if keep_raw {
                page.raw = bytes;
            }
        }
        page.elapsed += started.elapsed();
        Ok(page)
    }

    fn timeout(&self, url: &Url) -> FetchError {
        FetchError::Timeout { url: url.clone(), seconds: self.inner.config.total_timeout_secs }
    }

    fn classify(&self, err: &reqwest::Error, url: &Url) -> FetchError {
        let config = &self.inner.config;
        FetchError::from_reqwest(err, url, config.connect_timeout_secs, config.total_timeout_secs)
    }
}

fn is_listed(allowlist: &[(String, Option<u16>)], url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    allowlist
        .iter()
        .any(|(listed, port)| listed == host && port.is_none_or(|p| Some(p) == url.port_or_known_default()))
}

/// The target of a redirect answer, if this is one. A 3xx without `Location` is an answer in
/// its own right. Non-ASCII bytes, which some servers send raw, are read as UTF-8.
fn redirect_location(status: StatusCode, headers: &HeaderMap) -> Option<String> {
    let is_redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
    let location = headers.get(header::LOCATION)?;
    is_redirect.then(|| String::from_utf8_lossy(location.as_bytes()).into_owned())
}

/// Reads body chunks until the end or until `cap` bytes are held; the rest is never read.
/// Returns the bytes and whether the cap was reached.
async fn read_capped(response: &mut Response, cap: usize) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap - body.len();
        if chunk.len() >= room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

fn backoff(base: Duration, attempt: u32) -> Duration {
    base.saturating_mul(2u32.saturating_pow(attempt))
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
}

/// Content worth decoding as text; everything else (PDF, images, archives) is left unread.
fn is_textual(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    mime.is_empty()
        || mime.starts_with("text/")
        || mime.contains("html")
        || mime.contains("xml")
        || mime.contains("json")
        || mime.contains("javascript")
}

/// [`decode`], second-guessing chardetng on undeclared pages that are not valid UTF-8 (#11).
/// chardetng rules an encoding out at its first invalid sequence, so a UTF-8 page with one
/// paragraph pasted in GBK, or a GBK page with a few broken bytes, is read as another encoding
/// and all its Chinese text is lost: the unit's name, its columns, its footer. So UTF-8 is
/// tried first (GBK reads UTF-8 bytes nearly clean, never the reverse), then GBK; the first that
/// reads the page mostly (2 characters per bad sequence for UTF-8, 10 for GBK) is used, and only its bad sequences become U+FFFD.
/// chardetng's guess stands when neither does, or when it guessed GBK itself.
fn decode_page(bytes: &[u8], hints: Hints<'_>) -> Decoded {
    let decoded = decode(bytes, hints);
    if decoded.source != EncodingSource::Sniffed {
        return decoded;
    }
    // Characters read per bad sequence at least. GBK reads almost any byte pair, so it must
    // read far more cleanly than UTF-8, which random bytes seldom satisfy.
    for (candidate, ratio) in [(encoding_rs::UTF_8, 2), (encoding_rs::GBK, 10)] {
        if candidate == decoded.encoding {
            break;
        }
        let (text, _) = candidate.decode_without_bom_handling(bytes);
        let (read, bad) = non_ascii(&text);
        if read > 0 && read >= ratio * bad {
            let text = text.into_owned();
            return Decoded {
                text,
                encoding: candidate,
                source: EncodingSource::Sniffed,
                had_errors: bad > 0,
            };
        }
    }
    decoded
}

/// Non-ASCII characters read, and replacement characters (sequences that could not be read).
fn non_ascii(text: &str) -> (usize, usize) {
    text.chars().filter(|c| !c.is_ascii()).fold((0, 0), |(read, bad), c| {
        if c == char::REPLACEMENT_CHARACTER { (read, bad + 1) } else { (read + 1, bad) }
    })
}

/// The `charset` parameter of a `Content-Type` value.
fn charset_label(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(|c| c == '"' || c == '\''))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetcher_can_be_shared_across_tasks() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<Fetcher>();
        shareable::<Page>();
    }

    #[test]
    fn charset_is_read_from_content_type() {
        assert_eq!(charset_label("text/html; charset=GBK"), Some("GBK"));
        assert_eq!(charset_label("text/html;Charset=\"gb2312\""), Some("gb2312"));
        assert_eq!(charset_label("text/html"), None);
    }

    #[test]
    fn binary_content_is_not_text() {
        assert!(is_textual("text/html; charset=utf-8"));
        assert!(is_textual("application/xhtml+xml"));
        assert!(!is_textual("application/pdf"));
        assert!(!is_textual("image/png"));
    }

    #[test]
    fn only_redirect_statuses_with_a_location_redirect() {
        let mut headers = HeaderMap::new();
        assert_eq!(redirect_location(StatusCode::FOUND, &headers), None);
        headers.insert(header::LOCATION, HeaderValue::from_static("/next"));
        assert_eq!(redirect_location(StatusCode::FOUND, &headers).as_deref(), Some("/next"));
        assert_eq!(redirect_location(StatusCode::NOT_MODIFIED, &headers), None);
        assert_eq!(redirect_location(StatusCode::OK, &headers), None);
    }

    #[test]
    fn undeclared_pages_with_a_few_bad_bytes_keep_their_chinese_text() {
        let gbk = |text: &str| encoding_rs::GBK.encode(text).0.into_owned();
        let hints = Hints { declared: None, html: true, tld: Some(b"cn") };
        let page = "<title>南宁市测试局</title><p>主办单位：南宁市测试局，政务动态，通知公告。</p>";
        // UTF-8 with a sentence pasted in GBK (chardetng guesses GBK, and loses the UTF-8).
        let mut bytes = page.as_bytes().to_vec();
        bytes.extend(gbk("这一段是国标码"));
        bytes.extend_from_slice(page.as_bytes());
        assert_eq!(decode(&bytes, hints).encoding, encoding_rs::GBK);
        let decoded = decode_page(&bytes, hints);
        assert_eq!(decoded.encoding, encoding_rs::UTF_8);
        assert!(decoded.text.starts_with(page) && decoded.text.ends_with(page) && decoded.had_errors);
        // GBK with broken bytes.
        let mut bytes = gbk(page);
        bytes.extend_from_slice(&[0x81, 0x20, 0xFF]);
        bytes.extend(gbk(page));
        // On a host without a country domain (an IP address, .com) chardetng guesses windows-1252.
        let hints = Hints { tld: None, ..hints };
        assert_eq!(decode(&bytes, hints).encoding, encoding_rs::WINDOWS_1252);
        let decoded = decode_page(&bytes, hints);
        assert_eq!(decoded.encoding, encoding_rs::GBK);
        assert_eq!(decoded.text.matches("主办单位：南宁市测试局").count(), 2);
        // Clean GBK reads as GBK.
        let decoded = decode_page(&gbk(page), hints);
        assert_eq!((decoded.encoding, decoded.text.as_str()), (encoding_rs::GBK, page));
        // Latin text, which neither reads mostly, keeps chardetng's guess.
        let latin = encoding_rs::WINDOWS_1252.encode("Café crème à la française, déjà vu. ").0.repeat(20);
        assert_eq!(decode_page(&latin, hints).encoding, decode(&latin, hints).encoding);
    }

    #[test]
    fn backoff_doubles_and_saturates() {
        let base = Duration::from_secs(1);
        assert_eq!(backoff(base, 0), Duration::from_secs(1));
        assert_eq!(backoff(base, 2), Duration::from_secs(4));
        assert!(backoff(base, 200) >= Duration::from_secs(1 << 30));
    }
}
