//! API tokens for scripts. A token is shown once, when it is made; the store keeps only its
//! SHA-256, so a copy of the database does not hand out working tokens. A token speaks for its
//! account only while it is not revoked, not expired and the account is not disabled, and only
//! as far as its scope goes: a `read` token cannot write even when its account could.
//!
//! Use is recorded (`last_used_at`) at most once per [`STAMP_EVERY`] per token, from a note kept
//! in memory, so that a script's requests do not each cost a database write.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use surrealdb::types::{RecordId, RecordIdKey, SurrealValue};

use super::conflict::is_conflict_source;
use super::findings::record_key;
use super::request_cache::TokenEntry;
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::model::Account;

/// What every token starts with, so that a leaked one is recognisable in logs and scanners.
pub const API_TOKEN_PREFIX: &str = "gk_";
const TOKEN_BYTES: usize = 32;
const MAX_LABEL_CHARS: usize = 50;
/// The longest a token may be made to live.
pub const MAX_TOKEN_DAYS: i64 = 366;
/// A token's `last_used_at` is written at most this often.
pub(super) const STAMP_EVERY: Duration = Duration::minutes(5);
/// Tokens whose last stamp is remembered; beyond this the note starts afresh.
const REMEMBERED_STAMPS: usize = 10_000;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Reads only: every write is refused (403).
    Read,
    /// Reads and writes, as far as the account's role allows.
    Write,
}

impl TokenScope {
    /// The name stored and typed: `read` or `write`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
        }
    }
}

impl std::str::FromStr for TokenScope {
    type Err = TokenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "read" => Ok(TokenScope::Read),
            "write" => Ok(TokenScope::Write),
            _ => Err(TokenError::BadScope),
        }
    }
}

/// How a new token is limited: its scope and how many days it lives (1 to [`MAX_TOKEN_DAYS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSpec {
    /// What the token may do.
    pub scope: TokenScope,
    /// Days from creation until it expires, 1 to `MAX_TOKEN_DAYS`.
    pub days: i64,
}

/// What an accepted token grants: its account, within its scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The account the token speaks for, as it is now (role, unit, group).
    pub account: Account,
    /// The token's scope; a `read` token is refused every write whatever the account's role.
    pub scope: TokenScope,
}

/// When each token's use was last written to the store (by hash), shared by every clone of
/// the store handle.
#[derive(Debug, Default)]
pub(crate) struct TokenStamps(Mutex<HashMap<String, DateTime<Utc>>>);

impl TokenStamps {
    /// Whether a use at `now` should be written; notes it if so.
    fn due(&self, hash: &str, now: DateTime<Utc>) -> bool {
        let mut stamps = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if stamps.get(hash).is_some_and(|last| now - *last < STAMP_EVERY) {
            return false;
        }
        if stamps.len() >= REMEMBERED_STAMPS {
            stamps.clear();
        }
        stamps.insert(hash.to_string(), now);
        true
    }
}

/// A token operation failed in a way the user can fix.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No account has this username; holds the name given.
    #[error("账号“{0}”不存在")]
    UnknownAccount(String),
    /// The label is empty or longer than 50 characters.
    #[error("令牌说明不能为空，且不超过 {MAX_LABEL_CHARS} 个字符")]
    BadLabel,
    /// The scope is neither `read` nor `write`.
    #[error("令牌权限应为 read（只读）或 write（读写）")]
    BadScope,
    /// The lifetime is outside 1 to `MAX_TOKEN_DAYS` days.
    #[error("令牌有效期应为 1 到 {MAX_TOKEN_DAYS} 天")]
    BadExpiry,
    /// No such token, or it belongs to another account (the two are not told apart).
    #[error("令牌不存在或不属于该账号")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A token as its owner's list shows it: never the token, never its hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    /// The token record's id as text (`api_token:…`), for revoking it.
    pub id: String,
    /// The owner's note of what the token is for (e.g. 每周导出脚本), at most 50 characters.
    pub label: String,
    /// When it was made, UTC.
    pub created_at: DateTime<Utc>,
    /// When it was last accepted, UTC, to within five minutes (uses are stamped at most that often).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked by its owner; a revoked token is refused.
    pub revoked: bool,
    /// What it may do.
    pub scope: TokenScope,
    /// When it stops working, UTC.
    pub expires_at: DateTime<Utc>,
    /// Past `expires_at` now.
    pub expired: bool,
}

#[derive(Debug, Clone, SurrealValue)]
struct NewTokenRow {
    hash: String,
    username: String,
    label: String,
    revoked: bool,
    scope: String,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, SurrealValue)]
struct TokenInfoRow {
    id: RecordId,
    label: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked: bool,
    scope: String,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, SurrealValue)]
struct GrantRow {
    username: String,
    scope: String,
    expires_at: DateTime<Utc>,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether text has the shape of a token, so that junk never reaches the database.
fn looks_like_token(token: &str) -> bool {
    token.strip_prefix(API_TOKEN_PREFIX).is_some_and(|body| {
        body.len() == TOKEN_BYTES * 2
            && body.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn token_id(text: &str) -> Option<RecordId> {
    let id = RecordId::parse_simple(text.trim()).ok()?;
    let named = matches!(&id.key, RecordIdKey::String(key) if !key.is_empty());
    (id.table.as_str() == "api_token" && named).then_some(id)
}

impl Store {
    /// Makes a read-write token that lives 90 days; see [`Store::create_scoped_token`].
    pub async fn create_api_token(
        &self,
        username: &str,
        label: &str,
        audit: AuditEntry,
    ) -> Result<String, TokenError> {
        let spec = TokenSpec { scope: TokenScope::Write, days: 90 };
        self.create_scoped_token(username, label, spec, audit).await
    }

    /// Makes a token for an account with its scope and lifetime, with the audit record, and
    /// returns it. This is the only time the token exists in full: show it once.
    pub async fn create_scoped_token(
        &self,
        username: &str,
        label: &str,
        spec: TokenSpec,
        audit: AuditEntry,
    ) -> Result<String, TokenError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
            return Err(TokenError::BadLabel);
        }
        if !(1..=MAX_TOKEN_DAYS).contains(&spec.days) {
            return Err(TokenError::BadExpiry);
        }
        if self.account(username).await?.is_none() {
            return Err(TokenError::UnknownAccount(username.to_string()));
        }
        let mut secret = [0u8; TOKEN_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let token = format!("{API_TOKEN_PREFIX}{}", hex::encode(secret));
        let row = NewTokenRow {
            hash: token_hash(&token),
            username: username.to_string(),
            label: label.to_string(),
            revoked: false,
            scope: spec.scope.as_str().to_string(),
            expires_at: Utc::now() + Duration::days(spec.days),
        };
        let audit = audit.detail(serde_json::json!({ "scope": spec.scope.as_str(), "days": spec.days }));
        self.transaction("创建接口令牌", async |txn| {
            txn.query("CREATE api_token CONTENT $row RETURN NONE").bind(("row", row)).await?.check()?;
            audit.write_in(txn).await
        })
        .await?;
        Ok(token)
    }

    /// The account a token speaks for: none when the token is unknown, revoked or expired, or
    /// its account is gone or disabled. See [`Store::token_grant`].
    pub async fn account_for_token(&self, token: &str) -> StoreResult<Option<Account>> {
        Ok(self.token_grant(token).await?.map(|grant| grant.account))
    }

    /// What a token grants: none when it is unknown, revoked or expired, or its account is
    /// gone or disabled. Its use is stamped at most once per [`STAMP_EVERY`].
    pub async fn token_grant(&self, token: &str) -> StoreResult<Option<TokenGrant>> {
        let token = token.trim();
        if !looks_like_token(token) {
            return Ok(None);
        }
        let context = "核对接口令牌";
        let hash = token_hash(token);
        let entry = match self.reads.token(&hash) {
            Some(entry) => entry,
            None => {
                let read = self.reads.generation();
                let mut response = self
                    .db()
                    .query(
                        "SELECT username, scope, expires_at FROM api_token \
                         WHERE hash = $hash AND revoked = false AND expires_at > time::now()",
                    )
                    .bind(("hash", hash.clone()))
                    .await
                    .map_err(StoreError::query(context))?;
                let rows: Vec<GrantRow> = response.take(0).map_err(StoreError::query(context))?;
                let entry = rows.into_iter().next().map(|row| TokenEntry {
                    username: row.username,
                    scope: row.scope.parse().unwrap_or(TokenScope::Read),
                    expires_at: row.expires_at,
                });
                self.reads.put_token(read, &hash, entry.clone());
                entry
            }
        };
        // A remembered token may have expired since it was read.
        let Some(entry) = entry.filter(|e| e.expires_at > Utc::now()) else { return Ok(None) };
        let Some((account, _)) = self.account_session(&entry.username).await? else { return Ok(None) };
        if account.disabled {
            return Ok(None);
        }
        let scope = entry.scope;
        if self.token_stamps.due(&hash, Utc::now()) {
            let stamped = self
                .db()
                .query("UPDATE api_token SET last_used_at = time::now() WHERE hash = $hash RETURN NONE")
                .bind(("hash", hash))
                .await
                .and_then(surrealdb::IndexedResults::check);
            match stamped {
                // A script's parallel requests stamp the same token at once; one stamp is enough.
                Err(error) if is_conflict_source(&error) => {}
                stamped => {
                    stamped.map_err(StoreError::query(context))?;
                }
            }
        }
        Ok(Some(TokenGrant { account, scope }))
    }

    /// An account's tokens, newest first, without their hashes.
    pub async fn api_tokens(&self, username: &str) -> StoreResult<Vec<TokenInfo>> {
        let context = "读取接口令牌";
        let mut response = self
            .db()
            .query(
                "SELECT id, label, created_at, last_used_at, revoked, scope, expires_at FROM api_token \
                 WHERE username = $username ORDER BY created_at DESC",
            )
            .bind(("username", username.to_string()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<TokenInfoRow> = response.take(0).map_err(StoreError::query(context))?;
        let now = Utc::now();
        Ok(rows
            .into_iter()
            .map(|row| TokenInfo {
                id: record_key(&row.id),
                label: row.label,
                created_at: row.created_at,
                last_used_at: row.last_used_at,
                revoked: row.revoked,
                scope: row.scope.parse().unwrap_or(TokenScope::Read),
                expired: row.expires_at <= now,
                expires_at: row.expires_at,
            })
            .collect())
    }

    /// Revokes one of an account's tokens, with the audit record. A token of another account
    /// is not found, so one user cannot revoke another's. Revoking twice is harmless.
    pub async fn revoke_api_token(
        &self,
        id: &str,
        username: &str,
        audit: AuditEntry,
    ) -> Result<(), TokenError> {
        let Some(id) = token_id(id) else { return Err(TokenError::NotFound) };
        let found = self
            .transaction("吊销接口令牌", async |txn| {
                let mut response = txn
                    .query("UPDATE $id SET revoked = true WHERE username = $username RETURN VALUE id")
                    .bind(("id", id.clone()))
                    .bind(("username", username.to_string()))
                    .await?
                    .check()?;
                let updated: Vec<RecordId> = response.take(0)?;
                if updated.is_empty() {
                    return Ok(false);
                }
                audit.write_in(txn).await?;
                Ok(true)
            })
            .await;
        self.reads.clear();
        if found? { Ok(()) } else { Err(TokenError::NotFound) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    async fn store_with_account() -> Store {
        let store = Store::memory().await.expect("store");
        let account = Account {
            username: "script.owner".into(),
            role: Role::Leader,
            unit: None,
            inspector_group: None,
            display_name: None,
            disabled: false,
        };
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA";
        store.create_account(&account, hash, AuditEntry::new("test", "account.add")).await.expect("account");
        store
    }

    async fn last_used(store: &Store) -> Option<DateTime<Utc>> {
        store.api_tokens("script.owner").await.expect("tokens")[0].last_used_at
    }

    #[tokio::test]
    async fn an_expired_token_is_refused() {
        let store = store_with_account().await;
        let spec = TokenSpec { scope: TokenScope::Read, days: 1 };
        let token = store
            .create_scoped_token("script.owner", "x", spec, AuditEntry::new("t", "t"))
            .await
            .expect("token");
        assert_eq!(store.token_grant(&token).await.expect("grant").map(|g| g.scope), Some(TokenScope::Read));
        store
            .db()
            .query("UPDATE api_token SET expires_at = time::now() - 1s")
            .await
            .and_then(surrealdb::IndexedResults::check)
            .expect("expire");
        assert_eq!(store.token_grant(&token).await.expect("grant"), None);
        assert!(store.api_tokens("script.owner").await.expect("tokens")[0].expired);
        for days in [0, MAX_TOKEN_DAYS + 1] {
            let spec = TokenSpec { scope: TokenScope::Read, days };
            let refused =
                store.create_scoped_token("script.owner", "x", spec, AuditEntry::new("t", "t")).await;
            assert!(matches!(refused, Err(TokenError::BadExpiry)), "{days} days");
        }
    }

    #[tokio::test]
    async fn use_is_stamped_without_a_write_per_request() {
        let store = store_with_account().await;
        let token =
            store.create_api_token("script.owner", "x", AuditEntry::new("t", "t")).await.expect("token");
        assert_eq!(last_used(&store).await, None);
        assert!(store.token_grant(&token).await.expect("grant").is_some());
        assert!(last_used(&store).await.is_some(), "the first use is recorded");
        // Mark the stored stamp: further uses within STAMP_EVERY must not write it again.
        store
            .db()
            .query("UPDATE api_token SET last_used_at = d'2000-01-01T00:00:00Z'")
            .await
            .and_then(surrealdb::IndexedResults::check)
            .expect("mark");
        for _ in 0..20 {
            assert!(store.token_grant(&token).await.expect("grant").is_some());
        }
        let marked = DateTime::parse_from_rfc3339("2000-01-01T00:00:00Z").expect("date").with_timezone(&Utc);
        assert_eq!(last_used(&store).await, Some(marked), "20 uses, no write");
        // A clone of the handle shares the note.
        assert!(store.clone().token_grant(&token).await.expect("grant").is_some());
        assert_eq!(last_used(&store).await, Some(marked));
    }
}
