//! Login throttling: after too many failed sign-ins for one user name or from one address,
//! further attempts are refused for a while, so passwords cannot be guessed at speed.
//!
//! Kept in memory: a restart forgets the counters, which costs an attacker one restart per
//! handful of guesses — acceptable for a dashboard that an operator restarts rarely.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Failures allowed within the window before a key is locked.
pub const MAX_FAILURES: u32 = 5;
/// Both the counting window and the lock's length.
pub const WINDOW_MINUTES: i64 = 15;
/// Forget keys beyond this many, oldest first, so a flood of made-up names cannot grow memory.
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    keys: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    /// Minutes left on the longest lock among `keys`, if any is locked at `now`.
    pub fn locked(&self, keys: &[String], now: DateTime<Utc>) -> Option<i64> {
        let map = self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.iter()
            .filter_map(|key| map.get(key).and_then(|f| f.locked_until))
            .filter(|until| *until > now)
            .map(|until| ((until - now).num_seconds() + 59) / 60)
            .max()
    }

    /// Counts a failure against every key; locks a key that reached the limit.
    pub fn failed(&self, keys: &[String], now: DateTime<Utc>) {
        let mut map = self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if map.len() >= MAX_KEYS
            && let Some(oldest) = map.iter().min_by_key(|(_, f)| f.first).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        let window = Duration::minutes(WINDOW_MINUTES);
        for key in keys {
            let entry =
                map.entry(key.clone()).or_insert(Failures { count: 0, first: now, locked_until: None });
            if now - entry.first > window {
                *entry = Failures { count: 0, first: now, locked_until: None };
            }
            entry.count += 1;
            if entry.count >= MAX_FAILURES {
                entry.locked_until = Some(now + window);
            }
        }
    }

    /// A successful sign-in clears the user name's counter (not the address's: one address
    /// may be a shared office gateway where someone else is guessing).
    pub fn succeeded(&self, key: &str) {
        self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(key);
    }
}

/// The throttle keys for one attempt: the user name (case-folded) and the client address.
pub fn keys(username: &str, client: Option<std::net::IpAddr>) -> Vec<String> {
    let mut keys = vec![format!("user:{}", username.trim().to_lowercase())];
    if let Some(ip) = client {
        keys.push(format!("ip:{ip}"));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_and_unlocks_after_the_window() {
        let throttle = LoginThrottle::default();
        let t0 = Utc::now();
        let keys = keys("Zhang", None);
        for i in 0..MAX_FAILURES - 1 {
            throttle.failed(&keys, t0 + Duration::seconds(i64::from(i)));
            assert_eq!(throttle.locked(&keys, t0), None, "after {} failures", i + 1);
        }
        throttle.failed(&keys, t0);
        assert_eq!(throttle.locked(&keys, t0), Some(WINDOW_MINUTES));
        assert_eq!(throttle.locked(&super::keys("zhang", None), t0), Some(WINDOW_MINUTES), "case-folded");
        assert_eq!(throttle.locked(&keys, t0 + Duration::minutes(WINDOW_MINUTES + 1)), None);
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let throttle = LoginThrottle::default();
        let t0 = Utc::now();
        let keys = keys("li", None);
        for i in 0..(MAX_FAILURES * 2) {
            throttle.failed(&keys, t0 + Duration::minutes(i64::from(i) * (WINDOW_MINUTES / 2 + 1)));
        }
        assert_eq!(throttle.locked(&keys, t0 + Duration::minutes(200)), None);
    }

    #[test]
    fn success_clears_the_user_but_not_the_address() {
        let throttle = LoginThrottle::default();
        let t0 = Utc::now();
        let ip = std::net::IpAddr::from([10, 0, 0, 1]);
        let attempt = keys("wang", Some(ip));
        for _ in 0..MAX_FAILURES {
            throttle.failed(&attempt, t0);
        }
        throttle.succeeded(&attempt[0]);
        assert_eq!(throttle.locked(&attempt[..1], t0), None);
        assert!(throttle.locked(&attempt[1..], t0).is_some());
    }
}
