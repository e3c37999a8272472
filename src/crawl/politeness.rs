//! Per-host politeness and the global concurrency limit. Government sites often run on small
//! servers; a crawler that hammers them both harms the unit and gets itself blocked, which would
//! then read as "site unreachable" — a false finding.
//!
//! Every host gets the default limits. The office may name hosts it runs itself (the city's
//! site-cluster platform, `[[fetch.hosts]]`) and give them their own limits; a host not named
//! can never get more than the default, and a named host still honours `Retry-After`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::config::FetchConfig;

/// Hosts remembered at most; idle ones are forgotten beyond this so that a long-running crawler
/// that has visited many hosts does not keep a slot for each of them forever.
const MAX_TRACKED_HOSTS: usize = 4096;

/// Schedules requests: at most `per_host` in flight per host, starts at least `min_gap` apart
/// per host (both replaced by a named host's own limits), at most `global` in flight in total,
/// and a host that asked us to wait is waited for.
#[derive(Debug)]
pub struct Politeness {
    default: Limits,
    /// Limits of the named hosts, keyed as `Url::host_str` spells them.
    named: HashMap<String, Limits>,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<HostSlot>>>,
}

/// How one host is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    concurrency: usize,
    min_gap: Duration,
}

#[derive(Debug)]
struct HostSlot {
    limits: Limits,
    permits: Arc<Semaphore>,
    /// The earliest moment the next request to this host may start.
    next_start: Mutex<Instant>,
}

/// Permission to send one request; the slots are released when it is dropped, so hold it until
/// the body has been read.
#[derive(Debug)]
pub struct Ticket {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data (a map of slots, an instant) stays consistent even if a holder panicked.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Politeness {
    /// Every host gets `per_host` and `min_gap`; add named hosts with [`Politeness::with_host`].
    pub fn new(per_host: usize, min_gap: Duration, global: usize) -> Self {
        Self {
            default: Limits { concurrency: per_host.max(1), min_gap },
            named: HashMap::new(),
            global: Arc::new(Semaphore::new(global.max(1))),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// The schedule a fetch configuration asks for: its defaults and its `[[fetch.hosts]]`
    /// overrides (the configuration is validated by then, so every override is within bounds).
    pub fn for_config(config: &FetchConfig) -> Self {
        let politeness = Self::new(config.per_host_concurrency, config.min_gap(), config.global_concurrency);
        config.host_limits().into_iter().fold(politeness, |politeness, (host, limits)| {
            politeness.with_host(&host, limits.concurrency, Duration::from_millis(limits.min_gap_ms))
        })
    }

    /// Gives `host` (as `Url::host_str` spells it) its own limits instead of the default ones.
    /// The global limit still bounds it.
    pub fn with_host(mut self, host: &str, concurrency: usize, min_gap: Duration) -> Self {
        let limits = Limits { concurrency: concurrency.max(1), min_gap };
        self.named.insert(host.to_ascii_lowercase(), limits);
        self
    }

    /// Waits until a request to `host` may start. The host slot is taken before the global one
    /// so that requests queued behind a busy host do not hold global slots other hosts could use.
    pub async fn acquire(&self, host: &str) -> Ticket {
        let slot = self.slot(host);
        // The semaphores are never closed, so acquiring cannot fail.
        let host_permit = slot.permits.clone().acquire_owned().await.expect("host semaphore is never closed");
        let start = {
            let mut next = lock(&slot.next_start);
            let start = (*next).max(Instant::now());
            *next = start + slot.limits.min_gap;
            start
        };
        tokio::time::sleep_until(start).await;
        let global_permit =
            self.global.clone().acquire_owned().await.expect("global semaphore is never closed");
        Ticket { _host: host_permit, _global: global_permit }
    }

    /// No request to `host` starts before `wait` has passed (after 429/503 or `Retry-After`).
    pub fn back_off(&self, host: &str, wait: Duration) {
        let slot = self.slot(host);
        let mut next = lock(&slot.next_start);
        *next = (*next).max(Instant::now() + wait);
    }

    fn slot(&self, host: &str) -> Arc<HostSlot> {
        let mut hosts = lock(&self.hosts);
        if let Some(slot) = hosts.get(host) {
            return slot.clone();
        }
        if hosts.len() >= MAX_TRACKED_HOSTS {
            let now = Instant::now();
            hosts.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot.permits.available_permits() < slot.limits.concurrency
                    || *lock(&slot.next_start) > now
            });
        }
        // Names are compared as URLs spell them; a host not named gets the default, so no
        // override can loosen the limits of a host it does not name.
        let limits = self.named.get(host).copied().unwrap_or(self.default);
        let slot = Arc::new(HostSlot {
            limits,
            permits: Arc::new(Semaphore::new(limits.concurrency)),
            next_start: Mutex::new(Instant::now()),
        });
        hosts.insert(host.to_owned(), slot.clone());
        slot
    }
}

/// The wait a `Retry-After` header asks for: delay-seconds or an HTTP date. `None` when absent
/// or unreadable (the caller then uses its own backoff).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).expect("header value"));
        headers
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after(&headers("7")), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT")), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers("soon")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    /// Long enough to be sure a waiting future is blocked, not merely slow: it is blocked forever.
    const BLOCKED: Duration = Duration::from_millis(100);

    #[tokio::test]
    async fn a_host_never_has_more_than_its_share_in_flight() {
        let politeness = Politeness::new(2, Duration::ZERO, 10);
        let a = politeness.acquire("a.example.cn").await;
        let _b = politeness.acquire("a.example.cn").await;
        let third = tokio::time::timeout(BLOCKED, politeness.acquire("a.example.cn")).await;
        assert!(third.is_err(), "a third ticket must wait while two are held");
        // Another host is not held up by the busy one.
        let _other = politeness.acquire("b.example.cn").await;
        drop(a);
        let third = tokio::time::timeout(Duration::from_secs(60), politeness.acquire("a.example.cn")).await;
        assert!(third.is_ok(), "a released slot is handed on");
    }

    #[tokio::test]
    async fn the_global_limit_spans_hosts() {
        let politeness = Politeness::new(4, Duration::ZERO, 1);
        let _a = politeness.acquire("a.example.cn").await;
        let other = tokio::time::timeout(BLOCKED, politeness.acquire("b.example.cn")).await;
        assert!(other.is_err(), "the single global slot is taken");
    }

    #[tokio::test]
    async fn starts_are_spaced_and_back_off_is_honoured() {
        // Lower bounds only: the waits are deliberate, so they can never be shorter.
        let politeness = Politeness::new(4, Duration::from_millis(200), 10);
        let begin = Instant::now();
        drop(politeness.acquire("a.example.cn").await);
        drop(politeness.acquire("a.example.cn").await);
        assert!(Instant::now() - begin >= Duration::from_millis(200));
        politeness.back_off("a.example.cn", Duration::from_millis(300));
        drop(politeness.acquire("a.example.cn").await);
        assert!(Instant::now() - begin >= Duration::from_millis(500));
    }

    #[tokio::test]
    async fn a_named_host_gets_its_own_limits_and_no_other_host_does() {
        let politeness =
            Politeness::new(2, Duration::from_secs(3600), 20).with_host("web.nj.gov.cn", 5, Duration::ZERO);
        let mut held = Vec::new();
        for _ in 0..5 {
            let ticket = tokio::time::timeout(BLOCKED, politeness.acquire("web.nj.gov.cn")).await;
            held.push(ticket.expect("the named host allows 5 at once, with no gap"));
        }
        let sixth = tokio::time::timeout(BLOCKED, politeness.acquire("web.nj.gov.cn")).await;
        assert!(sixth.is_err(), "a sixth ticket must wait while five are held");
        // Its parent domain and its subdomains are other hosts: default limits, default gap.
        for other in ["nj.gov.cn", "a.web.nj.gov.cn", "web.nj.gov.cn.evil.cn"] {
            held.push(politeness.acquire(other).await);
            let second = tokio::time::timeout(BLOCKED, politeness.acquire(other)).await;
            assert!(second.is_err(), "{other}: the default one-hour gap holds");
        }
    }

    #[tokio::test]
    async fn a_named_host_still_honours_back_off() {
        let politeness =
            Politeness::new(1, Duration::ZERO, 20).with_host("web.nj.gov.cn", 16, Duration::ZERO);
        politeness.back_off("web.nj.gov.cn", Duration::from_secs(3600));
        let next = tokio::time::timeout(BLOCKED, politeness.acquire("web.nj.gov.cn")).await;
        assert!(next.is_err(), "Retry-After holds for a named host too");
    }

    #[tokio::test]
    async fn the_global_limit_bounds_a_named_host() {
        let politeness = Politeness::new(1, Duration::ZERO, 3).with_host("web.nj.gov.cn", 16, Duration::ZERO);
        let _held: Vec<Ticket> = vec![
            politeness.acquire("web.nj.gov.cn").await,
            politeness.acquire("web.nj.gov.cn").await,
            politeness.acquire("web.nj.gov.cn").await,
        ];
        let fourth = tokio::time::timeout(BLOCKED, politeness.acquire("web.nj.gov.cn")).await;
        assert!(fourth.is_err(), "three global slots, three tickets");
    }

    #[test]
    fn overrides_come_from_the_fetch_configuration() {
        let config: FetchConfig =
            toml::from_str("[[hosts]]\nhost = \"Web.NJ.gov.cn\"\nconcurrency = 16\nmin_gap_ms = 0\n")
                .expect("valid settings");
        let politeness = Politeness::for_config(&config);
        assert_eq!(politeness.named["web.nj.gov.cn"], Limits { concurrency: 16, min_gap: Duration::ZERO });
        assert_eq!(politeness.default, Limits { concurrency: 4, min_gap: Duration::from_millis(250) });
    }
}
