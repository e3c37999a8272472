//! Per-host politeness and the global concurrency limit. Government sites often run on small
//! servers; a crawler that hammers them both harms the unit and gets itself blocked, which would
//! then read as "site unreachable" — a false finding.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Hosts remembered at most; idle ones are forgotten beyond this so that a long-running crawler
/// that has visited many hosts does not keep a slot for each of them forever.
const MAX_TRACKED_HOSTS: usize = 4096;

/// Schedules requests: at most `per_host` in flight per host, starts at least `min_gap` apart
/// per host, at most `global` in flight in total, and a host that asked us to wait is waited for.
#[derive(Debug)]
pub struct Politeness {
    per_host: usize,
    min_gap: Duration,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<HostSlot>>>,
}

#[derive(Debug)]
struct HostSlot {
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
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Politeness {
    pub fn new(per_host: usize, min_gap: Duration, global: usize) -> Self {
        Self {
            per_host: per_host.max(1),
            min_gap,
            global: Arc::new(Semaphore::new(global.max(1))),
            hosts: Mutex::new(HashMap::new()),
        }
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
            *next = start + self.min_gap;
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
            let per_host = self.per_host;
            hosts.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot.permits.available_permits() < per_host
                    || *lock(&slot.next_start) > now
            });
        }
        let slot = Arc::new(HostSlot {
            permits: Arc::new(Semaphore::new(self.per_host)),
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
}
