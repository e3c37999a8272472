//! Rendered page content kept for identical inputs. A ranking page is the same for every
//! reader of the same cycle, filters and page, and a unit's page for every reader with the same
//! actions there; rendering them (summaries over every unit and charts; ten store reads and an
//! explanation tree) cost most of a request. The layout around the content (the reader's name,
//! navigation, CSRF token, flash message) is rendered per request.
//!
//! Keys come with a stamp of what the content was computed from: for rankings every cycle's
//! `saved_at` and current flag (`views::ranking::cycles_stamp`), for unit pages the store's
//! change stamp (`Store::change_stamp`, which moves with every write). A new stamp empties the
//! cache first: nothing computed before a change is served after it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Bytes of rendered content kept at most (a 14,000-unit ranking has 47 pages of ~150 KB per
/// filter); beyond this the cache starts afresh rather than tracking recency.
const MAX_BYTES: usize = 64 * 1024 * 1024;

/// Rendered fragments by key; shared by every request of one server.
#[derive(Debug, Default)]
pub struct FragmentCache {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// The stamp every kept entry was rendered under.
    stamp: String,
    bytes: usize,
    map: HashMap<String, Arc<str>>,
}

impl FragmentCache {
    /// The fragment rendered for `key` under `stamp`, if kept.
    pub fn get(&self, stamp: &str, key: &str) -> Option<Arc<str>> {
        let entries = self.lock();
        if entries.stamp != stamp {
            return None;
        }
        entries.map.get(key).cloned()
    }

    /// Keeps a fragment rendered for `key` under `stamp`. A different stamp than the kept
    /// entries' means those are stale: they are dropped.
    pub fn put(&self, stamp: &str, key: &str, fragment: Arc<str>) {
        let mut entries = self.lock();
        if entries.stamp != stamp {
            *entries = Entries { stamp: stamp.to_string(), ..Entries::default() };
        }
        if entries.bytes + fragment.len() > MAX_BYTES {
            entries.map.clear();
            entries.bytes = 0;
        }
        entries.bytes += fragment.len();
        if let Some(previous) = entries.map.insert(key.to_string(), fragment) {
            entries.bytes -= previous.len();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_stamp_drops_what_was_rendered_before() {
        let cache = FragmentCache::default();
        cache.put("s1", "page=1", Arc::from("old"));
        assert_eq!(cache.get("s1", "page=1").as_deref(), Some("old"));
        assert!(cache.get("s1", "page=2").is_none());
        assert!(cache.get("s2", "page=1").is_none(), "a fragment was served under another stamp");
        cache.put("s2", "page=2", Arc::from("new"));
        assert!(cache.get("s1", "page=1").is_none(), "a stale fragment survived a new stamp");
        assert_eq!(cache.get("s2", "page=2").as_deref(), Some("new"));
    }

    #[test]
    fn size_is_bounded() {
        let cache = FragmentCache::default();
        let big: Arc<str> = Arc::from("x".repeat(MAX_BYTES / 2 + 1));
        cache.put("s", "a", big.clone());
        cache.put("s", "b", big.clone());
        assert!(cache.get("s", "a").is_none(), "the cache grew past its bound");
        assert!(cache.get("s", "b").is_some());
        assert!(cache.lock().bytes <= MAX_BYTES);
        cache.put("s", "b", Arc::from("y"));
        assert_eq!(cache.lock().bytes, 1, "a replaced entry's bytes were not given back");
    }
}
