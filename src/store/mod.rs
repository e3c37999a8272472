//! SurrealDB access. One code path for every engine: the URL alone decides whether the
//! database is embedded (`surrealkv://`), in memory (`mem://`) or a server (`ws://`), and
//! nothing here may assume the embedded engine.

mod accounts;
pub mod annual;
mod assessments;
mod assignments;
mod audit;
mod backup;
mod catalogue;
mod conflict;
mod error;
mod findings;
mod history;
mod notifications;
mod probes;
mod queue;
mod rectification;
mod request_cache;
mod runs;
mod schedule;
mod self_assessment;
mod settings;
mod tokens;
mod units;
mod visits;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use surrealdb::Surreal;
use surrealdb::engine::any::{self, Any};
use surrealdb::opt::auth::Root;

pub use accounts::{AccountUpdateError, AccountWriteError};
pub use assessments::{CycleError, CycleInfo, CycleRecord};
pub use assignments::{AssignmentError, GroupSummary};
pub use audit::{AuditEntry, AuditRecord};
pub use error::{StoreError, StoreResult};
pub use findings::{CrawlRunRecord, FindingFilter};
pub use history::ScorePoint;
pub use notifications::{
    NewNotice, Notice, NoticeDelivery, NoticeFinding, NoticeSection, NoticeUnit, NoticeWriteError, notice_id,
};
pub use probes::{ProbeDay, ProbeRun, ProbeSampleRecord};
pub use queue::{ClaimedTask, QueueProgress, TaskSummary, WorkerRegistration, WorkerStatus};
pub use rectification::RectificationWriteError;
pub use runs::{OpenRun, RunEnd, UnitResults};
pub use schedule::{SCHEDULE_SETTING, SCHEDULER_LEASE, ScheduleRunRecord, job_lease};
pub use self_assessment::{SelfAssessmentOutcome, SubmittedClaim};
pub use settings::COOKIE_SECRET_BYTES;
pub use tokens::{
    API_TOKEN_PREFIX, MAX_TOKEN_DAYS, TokenError, TokenGrant, TokenInfo, TokenScope, TokenSpec,
};
pub use units::ImportOutcome;
pub use visits::{VisitRecord, VisitsOutcome};

/// The schema's text, applied idempotently at every connection through [`schema`].
const SCHEMA_TEXT: &str = include_str!("schema.surql");

/// Where schema.surql lists the unit kinds: the model keeps the one list.
const UNIT_KINDS: &str = "{{unit_kinds}}";

/// The schema as applied: schema.surql with the unit kinds of [`crate::model::UnitKind::ALL`]
/// in place of its placeholder.
fn schema() -> String {
    let kinds: Vec<String> =
        crate::model::UnitKind::ALL.iter().map(|kind| format!("'{}'", kind.as_str())).collect();
    SCHEMA_TEXT.replace(UNIT_KINDS, &format!("[{}]", kinds.join(", ")))
}

/// Applies the schema, unless the store already has this very schema (its hash is recorded in
/// `schema_version:current` by the same query that applies it). Processes starting together
/// against one server (workers, `serve`) would otherwise all redefine every table at the same
/// moment and conflict; the loser of such a race waits a random moment and looks again, by
/// which time the winner has usually recorded the schema.
async fn apply_schema(db: &Surreal<Any>) -> StoreResult<()> {
    use sha2::{Digest, Sha256};
    let schema = schema();
    let hash = hex::encode(Sha256::digest(schema.as_bytes()));
    let mut attempt = 1;
    loop {
        let current: Option<String> = db
            .query("SELECT VALUE hash FROM ONLY schema_version:current")
            .await
            .and_then(|mut response| response.take(0))
            .unwrap_or(None);
        if current.as_deref() == Some(hash.as_str()) {
            return Ok(());
        }
        let applied = db
            .query(schema.as_str())
            .query("UPSERT schema_version:current SET hash = $hash")
            .bind(("hash", hash.clone()))
            .await
            .and_then(surrealdb::IndexedResults::check);
        match applied {
            Ok(_) => return Ok(()),
            Err(error) if attempt < SCHEMA_ATTEMPTS && conflict::is_retryable(&error) => {
                attempt += 1;
                let pause = 50 + rand::random::<u64>() % 450;
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            Err(error) => return Err(StoreError::Schema(error.to_string())),
        }
    }
}

/// How often the schema is applied in all before a conflict is reported.
const SCHEMA_ATTEMPTS: u32 = 30;

/// The SurrealDB namespace and database gongkai works in.
const NAMESPACE: &str = "gongkai";
const DATABASE: &str = "main";

/// Where the store lives and how to sign in to a server.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `surrealkv://PATH` (embedded, on disk), `mem://` (embedded, in memory: tests) or
    /// `ws://`/`wss://HOST:PORT` (a SurrealDB server).
    pub url: String,
    /// The server's root user; required for `ws`/`wss`, ignored for embedded stores.
    pub username: Option<String>,
    /// That user's password; required with `username`.
    pub password: Option<String>,
}

impl StoreConfig {
    /// A store at `url`, without credentials (enough for the embedded engines).
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), username: None, password: None }
    }
}

/// A connected, schema-checked database handle. Cheap to clone: every clone shares the
/// connection and is already switched to gongkai's namespace and database.
#[derive(Debug, Clone)]
pub struct Store {
    db: Surreal<Any>,
    /// The embedded engine's lock file, which is released once the engine has shut down.
    lock_file: Option<std::path::PathBuf>,
    /// Rankings read recently, shared by every clone of this handle.
    rankings: Arc<RankingCache>,
    /// When each API token's use was last written, so that not every request writes.
    token_stamps: Arc<tokens::TokenStamps>,
    /// What every request reads (sessions, token grants, the cycle list), kept while live
    /// queries report every change; see [`Store::watch_changes`].
    reads: Arc<request_cache::RequestCache>,
}

/// Recently read rankings by cycle, each with the `saved_at` stamp of the cycle record it was
/// read under; a newer stamp means the cycle was re-run and the entry is stale.
#[derive(Debug, Default)]
struct RankingCache {
    entries: std::sync::Mutex<HashMap<String, (DateTime<Utc>, SharedRanking)>>,
}

/// One cycle's ranking, best first, shared by every reader.
type SharedRanking = Arc<Vec<crate::assess::RankedScore>>;

/// How many cycles' rankings are kept in memory.
const CACHED_RANKINGS: usize = 16;

impl RankingCache {
    fn get(&self, cycle: &str, stamp: DateTime<Utc>) -> Option<SharedRanking> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(cycle).filter(|(saved, _)| *saved == stamp).map(|(_, rows)| rows.clone())
    }

    fn put(&self, cycle: &str, stamp: DateTime<Utc>, rows: SharedRanking) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CACHED_RANKINGS && !entries.contains_key(cycle) {
            entries.clear();
        }
        entries.insert(cycle.to_string(), (stamp, rows));
    }
}

/// How long [`Store::close`] waits for the embedded engine: 200 × 25 ms = 5 s.
const CLOSE_POLLS: u32 = 200;
const CLOSE_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(25);

impl Store {
    /// Connects, signs in where the engine is a server, and applies the schema.
    pub async fn connect(config: &StoreConfig) -> StoreResult<Self> {
        let url = config.url.trim();
        let scheme = url.split_once("://").map(|(s, _)| s).ok_or_else(|| StoreError::BadUrl(url.into()))?;
        if !matches!(scheme, "surrealkv" | "mem" | "ws" | "wss") {
            return Err(StoreError::BadUrl(url.into()));
        }
        let lock_file = if scheme == "surrealkv" {
            ensure_parent_directory(url)?;
            Some(std::path::Path::new(url.trim_start_matches("surrealkv://")).join("LOCK"))
        } else {
            None
        };
        // A server is never signed in to with made-up credentials (root/root would work on a
        // carelessly started server, and hide that gongkai was not configured).
        let credentials = match (scheme, &config.username, &config.password) {
            ("ws" | "wss", Some(user), Some(pass)) if !user.is_empty() && !pass.is_empty() => {
                Some((user.clone(), pass.clone()))
            }
            ("ws" | "wss", _, _) => return Err(StoreError::MissingCredentials { url: url.into() }),
            _ => None,
        };
        let db = any::connect(url).await.map_err(|e| connect_error(url, &e))?;
        if let Some((username, password)) = credentials {
            db.signin(Root { username, password })
                .await
                .map_err(|e| StoreError::SignIn { url: url.into(), message: e.to_string() })?;
        }
        db.use_ns(NAMESPACE).use_db(DATABASE).await.map_err(StoreError::query("选择命名空间"))?;
        apply_schema(&db).await?;
        Ok(Self {
            db,
            lock_file,
            rankings: Arc::default(),
            token_stamps: Arc::default(),
            reads: Arc::default(),
        })
    }

    /// An in-memory store with the schema applied; for tests and dry runs.
    pub async fn memory() -> StoreResult<Self> {
        Self::connect(&StoreConfig::new("mem://")).await
    }

    /// Closes the connection and, for the embedded engine, waits until it has shut down and
    /// released its directory, so that a process that exits right after (every CLI command)
    /// does not cancel the engine's shutdown half-way, and the next process can open it.
    pub async fn close(self) {
        self.stop_watching_changes();
        let lock_file = self.lock_file.clone();
        drop(self);
        let Some(lock_file) = lock_file else { return };
        for _ in 0..CLOSE_POLLS {
            let released =
                std::fs::File::open(&lock_file).map(|file| file.try_lock().is_ok()).unwrap_or(true);
            if released {
                return;
            }
            tokio::time::sleep(CLOSE_POLL_INTERVAL).await;
        }
        tracing::warn!(
            "数据库在 {} 秒内未能完全关闭",
            CLOSE_POLLS as u64 * CLOSE_POLL_INTERVAL.as_millis() as u64 / 1000
        );
    }

    /// Runs `work` in one transaction: committed when it succeeds, cancelled when any statement
    /// fails, so a multi-record write is never left half done. `context` names the operation
    /// in the error the user sees.
    pub(crate) async fn transaction<T>(
        &self,
        context: &'static str,
        work: impl AsyncFnOnce(&surrealdb::method::Transaction<Any>) -> surrealdb::Result<T>,
    ) -> StoreResult<T> {
        let outcome = self.run_transaction(context, work).await;
        // Pages kept from before this write are stale, even if the commit's answer was lost:
        // a stamp that moves for nothing costs one page render.
        self.reads.note_change();
        outcome
    }

    /// Runs reads in one transaction, so that they see one state of the store (a cycle's
    /// generation and its rows). Writes nothing, so kept pages stay valid.
    pub(crate) async fn read_transaction<T>(
        &self,
        context: &'static str,
        work: impl AsyncFnOnce(&surrealdb::method::Transaction<Any>) -> surrealdb::Result<T>,
    ) -> StoreResult<T> {
        self.run_transaction(context, work).await
    }

    async fn run_transaction<T>(
        &self,
        context: &'static str,
        work: impl AsyncFnOnce(&surrealdb::method::Transaction<Any>) -> surrealdb::Result<T>,
    ) -> StoreResult<T> {
        let txn = self.db.clone().begin().await.map_err(StoreError::query(context))?;
        match work(&txn).await {
            Ok(value) => {
                txn.commit().await.map_err(StoreError::query(context))?;
                Ok(value)
            }
            Err(source) => {
                // Dropping the transaction would leave a server to time it out; cancel it.
                let _ = txn.cancel().await;
                Err(StoreError::Query { context, source: Box::new(source) })
            }
        }
    }

    pub(crate) fn db(&self) -> &Surreal<Any> {
        &self.db
    }
}

/// The embedded engine creates its directory but not the directories above it.
fn ensure_parent_directory(url: &str) -> StoreResult<()> {
    let path = url.trim_start_matches("surrealkv://");
    if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| StoreError::Connect {
            url: url.into(),
            message: format!("无法创建目录 {}：{e}", parent.display()),
        })?;
    }
    Ok(())
}

fn connect_error(url: &str, error: &surrealdb::Error) -> StoreError {
    let message = error.to_string();
    if message.contains("LOCK") && message.contains("locked") {
        StoreError::Locked { path: url.trim_start_matches("surrealkv://").into() }
    } else {
        StoreError::Connect { url: url.into(), message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UnitKind;

    /// Creates a unit of `kind` straight through SurrealQL, past the model's own parsing, so
    /// that only the schema's assertion can refuse it.
    async fn create_unit(store: &Store, code: String, kind: &str) -> surrealdb::Result<()> {
        store
            .db()
            .query("CREATE unit SET code = $code, name = '测试单位', kind = $kind")
            .bind(("code", code))
            .bind(("kind", kind.to_string()))
            .await?
            .check()?;
        Ok(())
    }

    #[tokio::test]
    async fn the_schema_takes_the_unit_kinds_from_the_model() {
        assert!(!schema().contains(UNIT_KINDS), "the placeholder was left in the schema");
        let store = Store::memory().await.expect("store");
        for (n, kind) in UnitKind::ALL.iter().enumerate() {
            let created = create_unit(&store, format!("{n:0>18}"), kind.as_str()).await;
            assert!(created.is_ok(), "the model's kind {kind:?} was refused: {created:?}");
        }
        let refused = create_unit(&store, format!("{:0>18}", 99), "township").await;
        assert!(refused.is_err(), "a kind the model does not have was stored");
    }
}
