//! What nearly every request reads, remembered for a few seconds: the account behind a session
//! cookie, the grant behind an API token, and the list of saved cycles (every ranking page
//! starts from it). Reading them from the store was most of the cost of a page whose content
//! is otherwise served from memory (`web/fragments.rs`).
//!
//! Revocation and re-runs must still apply at once, so the cache is trusted only while it is
//! told about every change:
//! - this process's own writes to accounts and tokens empty it before they return;
//! - every change, by this process or another (another `serve` on the same server, the CLI, a
//!   worker), arrives through live queries on `account`, `api_token` and `assessment`
//!   ([`Store::watch_changes`]) and empties it;
//! - if a live query cannot be started or its stream ends, the cache switches itself off and
//!   every request reads the store again, as before.
//!
//! A read that raced with a change is not kept: every emptying moves a generation on, and an
//! entry read under an older generation is dropped instead of stored.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use surrealdb::types::Value;

use super::{CycleInfo, Store, StoreError, StoreResult};
use crate::model::Account;
use crate::store::TokenScope;

/// How long an entry is trusted even when no change was announced: a safety net, not the
/// mechanism (changes empty the cache at once).
const TIME_TO_LIVE: Duration = Duration::from_secs(5);
/// Entries kept; beyond this the cache starts afresh (a flood of forged usernames cannot grow it).
const MAX_ENTRIES: usize = 10_000;

/// An account as a session check needs it: the account and its session epoch, or none when
/// there is no such account.
pub(crate) type SessionEntry = Option<(Account, i64)>;

/// A token as a request needs it: whose it is, its scope and when it expires; none when no
/// live (unrevoked, unexpired) token has this hash.
#[derive(Debug, Clone)]
pub(crate) struct TokenEntry {
    pub(crate) username: String,
    pub(crate) scope: TokenScope,
    pub(crate) expires_at: DateTime<Utc>,
}

/// Sessions, token grants and the cycle list read recently, shared by every clone of one
/// store handle.
#[derive(Debug, Default)]
pub(crate) struct RequestCache {
    /// Off until the live queries run; off for good once one of them ends.
    enabled: AtomicBool,
    generation: AtomicU64,
    /// Moves on with every change to what a unit's page shows (see [`Store::change_stamp`]).
    changes: AtomicU64,
    sessions: Mutex<HashMap<String, (Instant, SessionEntry)>>,
    tokens: Mutex<HashMap<String, (Instant, Option<TokenEntry>)>>,
    /// Every saved cycle, oldest first ([`Store::cycles`]).
    cycles: Mutex<Option<(Instant, Vec<CycleInfo>)>>,
    /// The task reading the live queries, stopped when the store closes (it holds the
    /// connection, so an embedded engine could not shut down while it runs).
    watcher: Mutex<Option<tokio::task::AbortHandle>>,
}

/// The generation a read started under; see [`RequestCache::put_session`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Generation(u64);

impl RequestCache {
    /// Starts trusting entries (the live queries are running).
    pub(crate) fn enable(&self) {
        self.enabled.store(true, Ordering::SeqCst);
    }

    /// Stops trusting entries for good (a live query ended) and empties the cache.
    pub(crate) fn disable(&self) {
        self.enabled.store(false, Ordering::SeqCst);
        self.clear();
    }

    /// Whether entries are being kept at all.
    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

    /// Notes that some data changed; pages kept under an older [`Store::change_stamp`] are stale.
    pub(crate) fn note_change(&self) {
        self.changes.fetch_add(1, Ordering::SeqCst);
    }

    /// Forgets everything: an account, a token or a cycle changed.
    pub(crate) fn clear(&self) {
        self.note_change();
        self.generation.fetch_add(1, Ordering::SeqCst);
        lock(&self.sessions).clear();
        lock(&self.tokens).clear();
        *lock(&self.cycles) = None;
    }

    /// Call before reading the store; hand the result to the matching `put_*`.
    pub(crate) fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::SeqCst))
    }

    /// The remembered session entry for `username`, if fresh.
    pub(crate) fn session(&self, username: &str) -> Option<SessionEntry> {
        self.get(&self.sessions, username)
    }

    /// Remembers what the store said of `username`, unless something changed since `read`.
    pub(crate) fn put_session(&self, read: Generation, username: &str, entry: SessionEntry) {
        self.put(&self.sessions, read, username, entry);
    }

    /// The remembered grant of a token hash, if fresh.
    pub(crate) fn token(&self, hash: &str) -> Option<Option<TokenEntry>> {
        self.get(&self.tokens, hash)
    }

    /// Remembers what the store said of a token hash, unless something changed since `read`.
    pub(crate) fn put_token(&self, read: Generation, hash: &str, entry: Option<TokenEntry>) {
        self.put(&self.tokens, read, hash, entry);
    }

    /// The remembered list of cycles, if fresh.
    pub(crate) fn cycles(&self) -> Option<Vec<CycleInfo>> {
        if !self.is_enabled() {
            return None;
        }
        lock(&self.cycles).as_ref().filter(|(at, _)| at.elapsed() < TIME_TO_LIVE).map(|(_, c)| c.clone())
    }

    /// Remembers the list of cycles, unless something changed since `read`.
    pub(crate) fn put_cycles(&self, read: Generation, cycles: Vec<CycleInfo>) {
        if !self.is_enabled() {
            return;
        }
        let mut kept = lock(&self.cycles);
        if self.generation.load(Ordering::SeqCst) == read.0 {
            *kept = Some((Instant::now(), cycles));
        }
    }

    fn get<T: Clone>(&self, map: &Mutex<HashMap<String, (Instant, T)>>, key: &str) -> Option<T> {
        if !self.is_enabled() {
            return None;
        }
        let map = lock(map);
        map.get(key).filter(|(at, _)| at.elapsed() < TIME_TO_LIVE).map(|(_, entry)| entry.clone())
    }

    fn put<T>(&self, map: &Mutex<HashMap<String, (Instant, T)>>, read: Generation, key: &str, entry: T) {
        if !self.is_enabled() {
            return;
        }
        let mut map = lock(map);
        // Checked under the lock `clear` also takes, so a clear cannot slip in between.
        if self.generation.load(Ordering::SeqCst) != read.0 {
            return;
        }
        if map.len() >= MAX_ENTRIES && !map.contains_key(key) {
            map.clear();
        }
        map.insert(key.to_string(), (Instant::now(), entry));
    }
}

/// Tables whose changes empty the cache (what it keeps is read from them).
const FORGETTING_TABLES: [&str; 3] = ["account", "api_token", "assessment"];
/// Tables whose changes only move the change stamp on: what a unit's page shows.
const STAMPED_TABLES: [&str; 6] =
    ["unit", "finding", "finding_event", "visit", "self_assessment", "assignment"];

impl Store {
    /// Starts remembering sessions, token grants and the cycle list for a few seconds, emptied
    /// whenever an account, a token or a cycle record changes anywhere, and moves the change
    /// stamp on with every change to what a unit's page shows (live queries on each table).
    /// For long-running servers (`serve`); a command that runs once has nothing to gain.
    /// Calling it twice is harmless.
    pub async fn watch_changes(&self) -> StoreResult<()> {
        let cache = self.reads.clone();
        if lock(&cache.watcher).is_some() {
            return Ok(());
        }
        let mut changes = futures_util::stream::SelectAll::new();
        for table in FORGETTING_TABLES.iter().chain(&STAMPED_TABLES) {
            let context = "订阅数据变更";
            let stream: surrealdb::method::Stream<Vec<Value>> =
                self.db().select(*table).live().await.map_err(StoreError::query(context))?;
            let forget = FORGETTING_TABLES.contains(table);
            // Each stream's end is announced (None): one table no longer watched is enough
            // to stop trusting the cache.
            let ended = futures_util::stream::once(std::future::ready(None));
            changes.push(stream.map(move |change| Some((forget, change))).chain(ended));
        }
        let watched = cache.clone();
        let task = tokio::spawn(async move {
            while let Some(Some((forget, change))) = changes.next().await {
                if let Err(error) = change {
                    tracing::warn!(%error, "数据变更订阅中断，此后每个请求都重新读取");
                    break;
                }
                if forget { watched.clear() } else { watched.note_change() }
            }
            watched.disable();
        });
        *lock(&cache.watcher) = Some(task.abort_handle());
        cache.enable();
        Ok(())
    }

    /// A number that moves on whenever anything a unit's page shows may have changed: every
    /// transaction this process commits, and every change the live queries report (findings,
    /// visits, claims, groups, units, cycles, accounts). `None` while changes are not watched:
    /// then nothing may be kept.
    pub fn change_stamp(&self) -> Option<u64> {
        self.reads.is_enabled().then(|| self.reads.changes.load(Ordering::SeqCst))
    }

    /// Stops the live queries of [`Store::watch_changes`], if any, and stops trusting the cache.
    pub(crate) fn stop_watching_changes(&self) {
        if let Some(task) = lock(&self.reads.watcher).take() {
            task.abort();
        }
        self.reads.disable();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    fn account(name: &str) -> Account {
        Account {
            username: name.into(),
            role: Role::Leader,
            unit: None,
            inspector_group: None,
            display_name: None,
            disabled: false,
        }
    }

    /// Writes past every method of the store, as another process would.
    async fn raw_write(store: &Store, surql: &str) {
        store.db().query(surql).await.expect("raw write").check().expect("write");
    }

    /// Waits (at most 4 s) for a live notification to have done its work.
    async fn wait_until(mut done: impl FnMut() -> bool) {
        for _ in 0..400 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A change written past this process's own account methods (as another `serve` or the
    /// CLI would) still empties the cache: the live query reports it.
    #[tokio::test]
    async fn a_change_made_elsewhere_empties_the_cache() {
        let store = Store::memory().await.expect("store");
        let audit = crate::store::AuditEntry::new("test", "account.add");
        store
            .create_account(&account("a"), "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA", audit)
            .await
            .expect("account");
        store.watch_changes().await.expect("live queries start on the embedded engine");
        let (cached, _) = store.account_session("a").await.expect("read").expect("account");
        assert!(!cached.disabled);
        assert!(store.reads.session("a").is_some(), "the session read was not remembered");

        let before = store.reads.generation().0;
        raw_write(&store, "UPDATE account:a SET disabled = true").await;
        wait_until(|| store.reads.generation().0 != before).await;
        assert_ne!(store.reads.generation().0, before, "no change notification arrived");
        let (now, _) = store.account_session("a").await.expect("read").expect("account");
        assert!(now.disabled, "the cache answered with the account as it was before");

        // A cycle saved by another process shows in the next listing.
        assert!(store.cycles().await.expect("cycles").is_empty());
        assert!(store.reads.cycles().is_some(), "the cycle list was not remembered");
        let before = store.reads.generation().0;
        raw_write(
            &store,
            "CREATE assessment:c SET cycle = 'c', ruleset = ruleset:x, as_of = time::now(), \
                 ruleset_id = 'x', units = 0, generation = '1'",
        )
        .await;
        wait_until(|| store.reads.generation().0 != before).await;
        let cycles = store.cycles().await.expect("cycles");
        assert_eq!(cycles.iter().map(|c| c.cycle.as_str()).collect::<Vec<_>>(), ["c"], "a stale cycle list");

        // A unit registered elsewhere moves the change stamp on (unit pages kept are stale).
        let stamp = store.change_stamp().expect("watched");
        raw_write(
            &store,
            "CREATE unit SET code = '124501000000000000', name = '别处登记', kind = 'district'",
        )
        .await;
        wait_until(|| store.change_stamp() != Some(stamp)).await;
        assert_ne!(store.change_stamp(), Some(stamp), "a change made elsewhere left the stamp as it was");

        store.stop_watching_changes();
        assert!(!store.reads.is_enabled());
        assert_eq!(store.change_stamp(), None, "nothing may be kept while changes are not watched");
    }

    #[test]
    fn nothing_is_kept_until_enabled() {
        let cache = RequestCache::default();
        cache.put_session(cache.generation(), "a", Some((account("a"), 0)));
        assert!(cache.session("a").is_none());
        cache.enable();
        cache.put_session(cache.generation(), "a", Some((account("a"), 0)));
        assert_eq!(cache.session("a").flatten().map(|(a, e)| (a.username, e)), Some(("a".into(), 0)));
    }

    #[test]
    fn a_read_that_raced_with_a_change_is_dropped() {
        let cache = RequestCache::default();
        cache.enable();
        let before = cache.generation();
        cache.clear(); // the account changed while the store was being read
        cache.put_session(before, "a", Some((account("a"), 0)));
        assert!(cache.session("a").is_none(), "a stale read was kept");
    }

    #[test]
    fn clearing_and_disabling_forget_everything() {
        let cache = RequestCache::default();
        cache.enable();
        cache.put_session(cache.generation(), "a", None);
        assert!(matches!(cache.session("a"), Some(None)), "a missing account is remembered as missing");
        cache.clear();
        assert!(cache.session("a").is_none());
        cache.put_session(cache.generation(), "a", None);
        cache.disable();
        assert!(cache.session("a").is_none());
        cache.put_session(cache.generation(), "a", None);
        assert!(cache.session("a").is_none(), "a disabled cache kept an entry");
    }
}
