//! SurrealDB access. One code path for every engine: the URL alone decides whether the
//! database is embedded (`surrealkv://`), in memory (`mem://`) or a server (`ws://`), and
//! nothing here may assume the embedded engine.

mod accounts;
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
mod rectification;
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

/// The schema, applied idempotently at every connection.
const SCHEMA: &str = include_str!("schema.surql");

/// The SurrealDB namespace and database gongkai works in.
const NAMESPACE: &str = "gongkai";
const DATABASE: &str = "main";

/// Where the store lives and how to sign in to a server.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl StoreConfig {
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
        db.query(SCHEMA)
            .await
            .and_then(surrealdb::IndexedResults::check)
            .map_err(|e| StoreError::Schema(e.to_string()))?;
        Ok(Self { db, lock_file, rankings: Arc::default(), token_stamps: Arc::default() })
    }

    /// An in-memory store with the schema applied; for tests and dry runs.
    pub async fn memory() -> StoreResult<Self> {
        Self::connect(&StoreConfig::new("mem://")).await
    }

    /// Closes the connection and, for the embedded engine, waits until it has shut down and
    /// released its directory, so that a process that exits right after (every CLI command)
    /// does not cancel the engine's shutdown half-way, and the next process can open it.
    pub async fn close(self) {
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
