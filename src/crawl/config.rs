//! Operator settings for fetching. Every limit that keeps a hostile site from stalling the crawl
//! or growing memory lives here, so that it can be tuned per deployment in `crawlers/*.toml`
//! without touching code.

use std::time::Duration;

use serde::Deserialize;

/// The user agent names gongkai and its purpose, so that a site's operator who sees it in a log
/// knows who is knocking and why.
pub const DEFAULT_USER_AGENT: &str =
    concat!("gongkai/", env!("CARGO_PKG_VERSION"), " (+government disclosure inspection)");

/// The politeness bar of DESIGN.md §7: never more than this many requests in flight to one host.
pub const MAX_PER_HOST_CONCURRENCY: usize = 4;

/// Requests in flight a `[[fetch.hosts]]` override may allow its host at most: even the city's
/// own site-cluster platform is one server that the whole city's visitors also use.
pub const MAX_HOST_OVERRIDE_CONCURRENCY: usize = 64;

/// `[[fetch.hosts]]` entries at most: overrides are for a few platforms the office runs, not a
/// way to lift the politeness bar for every site.
pub const MAX_HOST_OVERRIDES: usize = 64;

/// Longest `min_gap_ms` accepted (one minute), here and in overrides: a longer gap would make
/// every fetch of the host miss its deadline.
const MAX_MIN_GAP_MS: u64 = 60_000;

/// Politeness limits for one named host (`[[fetch.hosts]]`), replacing `per_host_concurrency`
/// and `min_gap_ms` for that host only. Meant for the city's own site-cluster platform (网站群),
/// where hundreds of unit sites share one host and the default of 4 at a time takes hours.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostLimits {
    /// A host name or IP address as it appears in the sites' URLs, without a port: politeness
    /// is per host (one server), so the limit covers every port of it. Matched exactly, case
    /// aside; `www.a.gov.cn` does not cover `a.gov.cn`.
    pub host: String,
    /// Requests in flight to this host at most (1 to 64; never more than `global_concurrency`).
    pub concurrency: usize,
    /// Minimum time between the starts of two requests to this host.
    pub min_gap_ms: u64,
}

/// How pages are fetched. Durations carry their unit in the field name because TOML has no
/// duration type and a bare `timeout = 15` invites guessing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchConfig {
    /// Time allowed to establish a TCP (and TLS) connection.
    pub connect_timeout_secs: u64,
    /// Time allowed for one whole fetch, from the first request to the last body byte: every
    /// redirect hop, retry and `Retry-After` wait included (issue #11). 15 s is the national
    /// rule's "has not answered within 15 s"; it also stops servers that trickle bytes.
    pub total_timeout_secs: u64,
    /// Body bytes read at most; the rest is not read and the page is marked truncated.
    pub max_body_bytes: usize,
    /// Redirect hops followed at most before the fetch fails.
    pub max_redirects: usize,
    /// Requests in flight to one host at most (1 to 4).
    pub per_host_concurrency: usize,
    /// Minimum time between the starts of two requests to the same host.
    pub min_gap_ms: u64,
    /// Requests in flight in total at most.
    pub global_concurrency: usize,
    /// The `User-Agent` header sent with every request.
    pub user_agent: String,
    /// A `Referer` sent with every request, if any: the cloaking check fetches as a search
    /// engine's visitor, because injected pages often show their spam only to such visits.
    #[serde(default)]
    pub referer: Option<String>,
    /// Reach loopback, private, link-local and other non-public addresses (tests, the demo,
    /// intranet deployments). Off by default so that a unit cannot aim the crawler at internal
    /// services.
    pub allow_private: bool,
    /// Hosts (`host` or `host:port`) reachable even when they are non-public and
    /// `allow_private` is off: one intranet site can be let through without opening all of
    /// them. A redirect away from a listed host is checked like any other URL.
    pub private_allowlist: Vec<String>,
    /// Limits for named hosts (`[[fetch.hosts]]`); every other host keeps the defaults above.
    pub hosts: Vec<HostLimits>,
    /// Retries after a 429 or 503 answer, at most.
    pub max_retries: u32,
    /// First backoff after 429/503 without a usable `Retry-After`; doubles on each retry.
    pub retry_backoff_ms: u64,
    /// Longest `Retry-After` that is waited for. A server asking for longer is not retried:
    /// its 429/503 page is returned, as waiting less than asked would ignore the request.
    pub max_retry_after_secs: u64,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            connect_timeout_secs: 10,
            total_timeout_secs: 15,
            max_body_bytes: 5 * 1024 * 1024,
            max_redirects: 10,
            per_host_concurrency: MAX_PER_HOST_CONCURRENCY,
            min_gap_ms: 250,
            global_concurrency: 32,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            referer: None,
            allow_private: false,
            private_allowlist: Vec::new(),
            hosts: Vec::new(),
            max_retries: 2,
            retry_backoff_ms: 1000,
            max_retry_after_secs: 30,
        }
    }
}

/// A setting that cannot work, named so the operator can fix the file (`hosts[2].concurrency`
/// for an entry of a list).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("抓取配置项 {field} 无效：{reason}")]
pub struct ConfigError {
    /// The setting's path, e.g. `total_timeout_secs` or `hosts[2].concurrency`.
    pub field: String,
    /// What is wrong with it, in Chinese.
    pub reason: &'static str,
}

impl FetchConfig {
    /// Rejects settings that would deadlock (zero permits), time out every request, or break
    /// the per-host politeness bar.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |field: &str, reason| Err(ConfigError { field: field.to_owned(), reason });
        if self.connect_timeout_secs == 0 {
            return fail("connect_timeout_secs", "必须大于 0");
        }
        if self.total_timeout_secs == 0 {
            return fail("total_timeout_secs", "必须大于 0");
        }
        if self.max_body_bytes == 0 {
            return fail("max_body_bytes", "必须大于 0");
        }
        if !(1..=MAX_PER_HOST_CONCURRENCY).contains(&self.per_host_concurrency) {
            return fail("per_host_concurrency", "必须在 1 到 4 之间");
        }
        if self.global_concurrency == 0 {
            return fail("global_concurrency", "必须大于 0");
        }
        if self.min_gap_ms > MAX_MIN_GAP_MS {
            return fail("min_gap_ms", "不能超过 60000（一分钟）");
        }
        if self.user_agent.trim().is_empty()
            || reqwest::header::HeaderValue::from_str(&self.user_agent).is_err()
        {
            return fail("user_agent", "不能为空且只能包含可见 ASCII 字符");
        }
        if self.private_allowlist.iter().any(|entry| parse_authority(entry).is_none()) {
            return fail("private_allowlist", "每一项必须是主机名或“主机名:端口”");
        }
        self.validate_hosts()
    }

    /// Checks the `[[fetch.hosts]]` overrides; errors name the entry (`hosts[2].concurrency`).
    fn validate_hosts(&self) -> Result<(), ConfigError> {
        if self.hosts.len() > MAX_HOST_OVERRIDES {
            return Err(ConfigError { field: "hosts".to_owned(), reason: "最多 64 项" });
        }
        let mut seen = Vec::with_capacity(self.hosts.len());
        for (i, limits) in self.hosts.iter().enumerate() {
            let fail = |key: &str, reason| Err(ConfigError { field: format!("hosts[{i}].{key}"), reason });
            let Some(host) = host_key(&limits.host) else {
                return fail("host", "必须是主机名或 IP 地址，不含协议、端口和路径");
            };
            if seen.contains(&host) {
                return fail("host", "同一主机只能设置一次");
            }
            seen.push(host);
            if !(1..=MAX_HOST_OVERRIDE_CONCURRENCY).contains(&limits.concurrency) {
                return fail("concurrency", "必须在 1 到 64 之间");
            }
            if limits.concurrency > self.global_concurrency {
                return fail("concurrency", "不能超过 global_concurrency");
            }
            if limits.min_gap_ms > MAX_MIN_GAP_MS {
                return fail("min_gap_ms", "不能超过 60000（一分钟）");
            }
        }
        Ok(())
    }

    /// The `[[fetch.hosts]]` overrides keyed as URLs spell their host (lower-case, IPv6 in
    /// brackets); invalid entries are skipped (`validate` reports them).
    pub fn host_limits(&self) -> Vec<(String, HostLimits)> {
        self.hosts.iter().filter_map(|limits| Some((host_key(&limits.host)?, limits.clone()))).collect()
    }

    /// Requests that may be in flight to `host` (a URL's `host_str()`): its override's
    /// concurrency, else `per_host_concurrency`. A site crawl sizes its batches by this.
    pub fn concurrency_for(&self, host: &str) -> usize {
        self.hosts
            .iter()
            .find(|limits| host_key(&limits.host).is_some_and(|key| key.eq_ignore_ascii_case(host)))
            .map_or(self.per_host_concurrency, |limits| limits.concurrency)
    }

    /// The allowlist as (lower-case host, optional port) pairs; invalid entries are skipped
    /// (`validate` reports them).
    pub fn private_allowlist(&self) -> Vec<(String, Option<u16>)> {
        self.private_allowlist.iter().filter_map(|entry| parse_authority(entry)).collect()
    }

    /// `connect_timeout_secs` as a duration.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }

    /// `total_timeout_secs` as a duration.
    pub fn total_timeout(&self) -> Duration {
        Duration::from_secs(self.total_timeout_secs)
    }

    /// `min_gap_ms` as a duration.
    pub fn min_gap(&self) -> Duration {
        Duration::from_millis(self.min_gap_ms)
    }

    /// `retry_backoff_ms` as a duration.
    pub fn retry_backoff(&self) -> Duration {
        Duration::from_millis(self.retry_backoff_ms)
    }

    /// `max_retry_after_secs` as a duration.
    pub fn max_retry_after(&self) -> Duration {
        Duration::from_secs(self.max_retry_after_secs)
    }
}

/// Reads an override's host (no port) the way a URL's host is read, so that it matches the
/// `host_str()` of the URLs it is meant for.
fn host_key(entry: &str) -> Option<String> {
    match parse_authority(entry)? {
        (host, None) => Some(host),
        (_, Some(_)) => None,
    }
}

/// Reads `host` or `host:port` the way a URL's authority is read, so that an entry matches the
/// `host_str()` of the URLs it is meant for (IPv6 in brackets, names lower-cased).
fn parse_authority(entry: &str) -> Option<(String, Option<u16>)> {
    let entry = entry.trim();
    if entry.is_empty() || entry.contains(['/', '@', '?', '#']) {
        return None;
    }
    let url = url::Url::parse(&format!("http://{entry}/")).ok()?;
    let has_port = entry.rsplit_once(':').is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
        && !entry.ends_with(']');
    let port = if has_port { Some(url.port_or_known_default()?) } else { None };
    Some((url.host_str()?.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_issue() {
        let config = FetchConfig::default();
        assert_eq!(config.total_timeout(), Duration::from_secs(15));
        assert_eq!(config.max_body_bytes, 5 * 1024 * 1024);
        assert_eq!(config.per_host_concurrency, 4);
        assert!(!config.allow_private);
        assert!(config.user_agent.starts_with("gongkai/"));
        assert!(config.user_agent.ends_with("(+government disclosure inspection)"));
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn partial_toml_keeps_the_other_defaults() {
        let config: FetchConfig =
            toml::from_str("total_timeout_secs = 2\nallow_private = true\n").expect("valid settings");
        assert_eq!(config.total_timeout_secs, 2);
        assert!(config.allow_private);
        assert_eq!(config.max_body_bytes, FetchConfig::default().max_body_bytes);
    }

    #[test]
    fn unknown_and_unworkable_settings_are_refused() {
        assert!(toml::from_str::<FetchConfig>("total_timeout = 2\n").is_err());
        let field = |config: FetchConfig| config.validate().map_err(|e| e.field);
        let config = FetchConfig { per_host_concurrency: 8, ..FetchConfig::default() };
        assert_eq!(field(config), Err("per_host_concurrency".to_owned()));
        let config = FetchConfig { global_concurrency: 0, ..FetchConfig::default() };
        assert_eq!(field(config), Err("global_concurrency".to_owned()));
        let config = FetchConfig { private_allowlist: vec!["http://x/".into()], ..FetchConfig::default() };
        assert_eq!(field(config), Err("private_allowlist".to_owned()));
    }

    #[test]
    fn allowlist_entries_read_like_url_authorities() {
        let config = FetchConfig {
            private_allowlist: vec!["Intranet.GOV.cn".into(), "10.1.2.3:8080".into(), "[::1]:80".into()],
            ..FetchConfig::default()
        };
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(
            config.private_allowlist(),
            [
                ("intranet.gov.cn".to_owned(), None),
                ("10.1.2.3".to_owned(), Some(8080)),
                ("[::1]".to_owned(), Some(80))
            ]
        );
    }

    fn limits(host: &str, concurrency: usize, min_gap_ms: u64) -> HostLimits {
        HostLimits { host: host.to_owned(), concurrency, min_gap_ms }
    }

    #[test]
    fn host_overrides_are_read_from_toml() {
        let config: FetchConfig = toml::from_str(
            "[[hosts]]\nhost = \"Web.NJ.gov.cn\"\nconcurrency = 16\nmin_gap_ms = 0\n\
             [[hosts]]\nhost = \"10.1.2.3\"\nconcurrency = 8\nmin_gap_ms = 50\n",
        )
        .expect("valid settings");
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.hosts, [limits("Web.NJ.gov.cn", 16, 0), limits("10.1.2.3", 8, 50)]);
        assert_eq!(config.concurrency_for("web.nj.gov.cn"), 16);
        assert_eq!(config.concurrency_for("10.1.2.3"), 8);
        // Hosts not named keep the default, subdomains and parents included.
        assert_eq!(config.concurrency_for("nj.gov.cn"), 4);
        assert_eq!(config.concurrency_for("a.web.nj.gov.cn"), 4);
        assert_eq!(config.host_limits()[0].0, "web.nj.gov.cn");
        // Both limits must be given: a forgotten gap must not silently become the default.
        assert!(toml::from_str::<FetchConfig>("[[hosts]]\nhost = \"a\"\nconcurrency = 8\n").is_err());
        assert!(
            toml::from_str::<FetchConfig>("[[hosts]]\nhost=\"a\"\nconcurrency=8\nmin_gap_ms=0\nport=1\n")
                .is_err()
        );
    }

    #[test]
    fn bad_host_overrides_name_the_entry_and_key() {
        let field = |hosts: Vec<HostLimits>| {
            FetchConfig { hosts, ..FetchConfig::default() }.validate().map_err(|e| e.field)
        };
        let ok = limits("a.gov.cn", 16, 0);
        assert_eq!(field(vec![ok.clone(), ok.clone()]), Err("hosts[1].host".to_owned()));
        assert_eq!(field(vec![ok.clone(), limits("A.gov.cn", 8, 0)]), Err("hosts[1].host".to_owned()));
        for bad in ["a.gov.cn:8080", "http://a.gov.cn/", "", "a.gov.cn/x"] {
            assert_eq!(field(vec![limits(bad, 8, 0)]), Err("hosts[0].host".to_owned()), "{bad}");
        }
        assert_eq!(field(vec![ok.clone(), limits("b.gov.cn", 0, 0)]), Err("hosts[1].concurrency".to_owned()));
        assert_eq!(
            field(vec![ok.clone(), ok.clone(), limits("c.gov.cn", 65, 0)]),
            Err("hosts[1].host".to_owned())
        );
        assert_eq!(
            field(vec![ok.clone(), limits("c.gov.cn", 65, 0)]),
            Err("hosts[1].concurrency".to_owned())
        );
        assert_eq!(field(vec![limits("c.gov.cn", 2, 60_001)]), Err("hosts[0].min_gap_ms".to_owned()));
        assert_eq!(
            field(vec![limits("[::1]", 64, 0)]),
            Err("hosts[0].concurrency".to_owned()),
            "over global 32"
        );
        let config = FetchConfig {
            global_concurrency: 64,
            hosts: vec![limits("[::1]", 64, 0)],
            ..FetchConfig::default()
        };
        assert_eq!(config.validate(), Ok(()));
        let many = (0..=MAX_HOST_OVERRIDES).map(|i| limits(&format!("h{i}.gov.cn"), 8, 0)).collect();
        assert_eq!(field(many), Err("hosts".to_owned()));
    }
}
