//! Login throttling: after too many failed sign-ins for one user name, or from one client
//! address, further attempts are refused for a while, so passwords cannot be guessed at speed —
//! neither many guesses at one account nor one guess at each of many accounts (spraying).
//!
//! User names and addresses are counted in two separate maps, each of bounded size. When a map
//! is full, entries whose window has passed go first, then the oldest entry that is not locked;
//! an active lock is never evicted, so a flood of made-up names cannot free a victim's account.
//! If a map is full of active locks, a new key is not counted (the other map still is).
//!
//! Kept in memory: a restart forgets the counters, which costs an attacker one restart per
//! handful of guesses — acceptable for a dashboard that an operator restarts rarely.
//! The address is the one [`super::client::ClientAddr`] decided on, never a header the client
//! wrote unless it came through a trusted proxy.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Failures allowed for one user name within the window before it is locked.
pub const MAX_FAILURES: u32 = 5;
/// Failures allowed from one address (any user names) within the window. Higher than per name:
/// one address may be an office gateway that many people share.
pub const MAX_ADDRESS_FAILURES: u32 = 10;
/// Both the counting window and the lock's length.
pub const WINDOW_MINUTES: i64 = 15;
/// At most this many keys in each map.
pub const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

impl Failures {
    fn locked_at(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// Neither counting nor locking any more: safe to forget.
    fn stale_at(&self, now: DateTime<Utc>) -> bool {
        !self.locked_at(now) && now - self.first > Duration::minutes(WINDOW_MINUTES)
    }
}

/// One map of counters with its limit.
#[derive(Debug)]
struct Counters {
    map: HashMap<String, Failures>,
    limit: u32,
    capacity: usize,
}

impl Counters {
    fn new(limit: u32, capacity: usize) -> Self {
        Self { map: HashMap::new(), limit, capacity }
    }

    fn locked_until(&self, key: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.map.get(key).filter(|f| f.locked_at(now)).and_then(|f| f.locked_until)
    }

    /// Makes room for one new key; false when every entry is an active lock.
    fn make_room(&mut self, now: DateTime<Utc>) -> bool {
        if self.map.len() < self.capacity {
            return true;
        }
        self.map.retain(|_, f| !f.stale_at(now));
        if self.map.len() < self.capacity {
            return true;
        }
        let oldest_unlocked = self
            .map
            .iter()
            .filter(|(_, f)| !f.locked_at(now))
            .min_by_key(|(_, f)| f.first)
            .map(|(k, _)| k.clone());
        match oldest_unlocked {
            Some(key) => {
                self.map.remove(&key);
                true
            }
            None => false,
        }
    }

    fn failed(&mut self, key: &str, now: DateTime<Utc>) {
        if !self.map.contains_key(key) && !self.make_room(now) {
            tracing::warn!("登录限流表已满且均处于锁定状态，本次失败未计入：{key}");
            return;
        }
        let window = Duration::minutes(WINDOW_MINUTES);
        let entry =
            self.map.entry(key.to_string()).or_insert(Failures { count: 0, first: now, locked_until: None });
        if entry.stale_at(now) {
            *entry = Failures { count: 0, first: now, locked_until: None };
        }
        entry.count += 1;
        if entry.count >= self.limit {
            entry.locked_until = Some(now + window);
        }
    }
}

/// Who is trying to sign in: the user name typed and the client's address.
#[derive(Debug, Clone)]
pub struct Attempt {
    user: String,
    address: Option<String>,
}

impl Attempt {
    /// The user name is case-folded; an IPv6 address counts as its /64 network, which one
    /// client usually holds whole.
    pub fn new(username: &str, client: Option<IpAddr>) -> Self {
        let address = client.map(|ip| match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        });
        Self { user: username.trim().to_lowercase(), address }
    }
}

/// Failed-login counters per user name and per client address; shared by every request.
#[derive(Debug)]
pub struct LoginThrottle {
    users: Mutex<Counters>,
    addresses: Mutex<Counters>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::with_capacity(MAX_KEYS)
    }
}

fn lock(counters: &Mutex<Counters>) -> std::sync::MutexGuard<'_, Counters> {
    counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl LoginThrottle {
    /// A throttle whose maps hold at most `capacity` keys each.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            users: Mutex::new(Counters::new(MAX_FAILURES, capacity)),
            addresses: Mutex::new(Counters::new(MAX_ADDRESS_FAILURES, capacity)),
        }
    }

    /// Minutes left on the longer lock of the attempt's user name and address, if either is
    /// locked at `now`.
    pub fn locked(&self, attempt: &Attempt, now: DateTime<Utc>) -> Option<i64> {
        let user = lock(&self.users).locked_until(&attempt.user, now);
        let address = attempt.address.as_ref().and_then(|a| lock(&self.addresses).locked_until(a, now));
        user.into_iter().chain(address).max().map(|until| ((until - now).num_seconds() + 59) / 60)
    }

    /// Counts a failure against the user name and the address.
    pub fn failed(&self, attempt: &Attempt, now: DateTime<Utc>) {
        lock(&self.users).failed(&attempt.user, now);
        if let Some(address) = &attempt.address {
            lock(&self.addresses).failed(address, now);
        }
    }

    /// A successful sign-in clears the user name's counter (not the address's: one address
    /// may be a shared office gateway where someone else is guessing).
    pub fn succeeded(&self, attempt: &Attempt) {
        lock(&self.users).map.remove(&attempt.user);
    }

    /// How many keys the two maps hold, for tests and the operator's curiosity.
    pub fn len(&self) -> usize {
        lock(&self.users).map.len() + lock(&self.addresses).map.len()
    }

    /// Neither map holds a key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn locks_after_the_limit_and_unlocks_after_the_window() {
        let throttle = LoginThrottle::default();
        let t0 = Utc::now();
        let attempt = Attempt::new("Zhang", None);
        for i in 0..MAX_FAILURES - 1 {
            throttle.failed(&attempt, t0 + Duration::seconds(i64::from(i)));
            assert_eq!(throttle.locked(&attempt, t0), None, "after {} failures", i + 1);
        }
        throttle.failed(&attempt, t0);
        assert_eq!(throttle.locked(&attempt, t0), Some(WINDOW_MINUTES));
        assert_eq!(throttle.locked(&Attempt::new("zhang", ip(9)), t0), Some(WINDOW_MINUTES), "case-folded");
        assert_eq!(throttle.locked(&attempt, t0 + Duration::minutes(WINDOW_MINUTES + 1)), None);
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let throttle = LoginThrottle::default();
        let t0 = Utc::now();
        let attempt = Attempt::new("li", None);
        for i in 0..(MAX_FAILURES * 2) {
            throttle.failed(&attempt, t0 + Duration::minutes(i64::from(i) * (WINDOW_MINUTES / 2 + 1)));
        }
        assert_eq!(throttle.locked(&attempt, t0 + Duration::minutes(200)), None);
    }

    #[test]
    fn success_clears_the_user_but_not_the_address() {
        let throttle = LoginThrottle::default();
        let t0 = Utc::now();
        for n in 0..MAX_ADDRESS_FAILURES {
            throttle.failed(&Attempt::new(if n < MAX_FAILURES { "wang" } else { "other" }, ip(1)), t0);
        }
        throttle.succeeded(&Attempt::new("wang", ip(1)));
        assert_eq!(throttle.locked(&Attempt::new("wang", None), t0), None);
        assert!(throttle.locked(&Attempt::new("zhao", ip(1)), t0).is_some(), "the address stays locked");
    }

    #[test]
    fn spraying_one_guess_per_account_locks_the_address() {
        let throttle = LoginThrottle::default();
        let t0 = Utc::now();
        for n in 0..MAX_ADDRESS_FAILURES {
            let attempt = Attempt::new(&format!("user{n}"), ip(7));
            assert_eq!(throttle.locked(&attempt, t0), None, "guess {n}");
            throttle.failed(&attempt, t0);
        }
        assert!(throttle.locked(&Attempt::new("user-next", ip(7)), t0).is_some());
        assert_eq!(throttle.locked(&Attempt::new("user-next", ip(8)), t0), None, "other addresses are not");
    }

    #[test]
    fn ipv6_clients_count_as_their_network() {
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        assert_eq!(Attempt::new("x", Some(a)).address, Attempt::new("y", Some(b)).address);
    }

    #[test]
    fn a_flood_of_junk_names_never_evicts_an_active_lock_and_memory_stays_bounded() {
        let throttle = LoginThrottle::with_capacity(100);
        let t0 = Utc::now();
        let victim = Attempt::new("victim", None);
        for _ in 0..MAX_FAILURES {
            throttle.failed(&victim, t0);
        }
        for n in 0..10_000 {
            throttle.failed(
                &Attempt::new(&format!("junk{n}"), Some(IpAddr::from([10, 1, (n / 256) as u8, n as u8]))),
                t0,
            );
        }
        assert!(throttle.locked(&victim, t0).is_some(), "the victim's lock survived the flood");
        assert!(throttle.len() <= 200, "both maps stay within their capacity: {}", throttle.len());
    }

    #[test]
    fn a_map_full_of_locks_keeps_them_all() {
        let throttle = LoginThrottle::with_capacity(3);
        let t0 = Utc::now();
        for name in ["a1", "a2", "a3"] {
            for _ in 0..MAX_FAILURES {
                throttle.failed(&Attempt::new(name, None), t0);
            }
        }
        throttle.failed(&Attempt::new("a4", None), t0);
        for name in ["a1", "a2", "a3"] {
            assert!(throttle.locked(&Attempt::new(name, None), t0).is_some(), "{name}");
        }
        // Once the window has passed, stale entries make room again.
        let later = t0 + Duration::minutes(WINDOW_MINUTES + 1);
        for _ in 0..MAX_FAILURES {
            throttle.failed(&Attempt::new("a4", None), later);
        }
        assert!(throttle.locked(&Attempt::new("a4", None), later).is_some());
    }
}
