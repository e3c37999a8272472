//! API tokens for scripts. A token is shown once, when it is made; the store keeps only its
//! SHA-256, so a copy of the database does not hand out working tokens. A token speaks for its
//! account only while it is not revoked and the account is not disabled.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use surrealdb::types::{RecordId, RecordIdKey, SurrealValue};

use super::conflict::is_conflict_source;
use super::findings::record_key;
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::model::Account;

/// What every token starts with, so that a leaked one is recognisable in logs and scanners.
pub const API_TOKEN_PREFIX: &str = "gk_";
const TOKEN_BYTES: usize = 32;
const MAX_LABEL_CHARS: usize = 50;

/// A token operation failed in a way the user can fix.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("账号“{0}”不存在")]
    UnknownAccount(String),
    #[error("令牌说明不能为空，且不超过 {MAX_LABEL_CHARS} 个字符")]
    BadLabel,
    #[error("令牌不存在或不属于该账号")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A token as its owner's list shows it: never the token, never its hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    /// The token record's id as text (`api_token:…`), for revoking it.
    pub id: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

#[derive(Debug, Clone, SurrealValue)]
struct NewTokenRow {
    hash: String,
    username: String,
    label: String,
    revoked: bool,
}

#[derive(Debug, Clone, SurrealValue)]
struct TokenInfoRow {
    id: RecordId,
    label: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked: bool,
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
    /// Makes a token for an account, with the audit record, and returns it. This is the only
    /// time the token exists in full: show it once.
    pub async fn create_api_token(
        &self,
        username: &str,
        label: &str,
        audit: AuditEntry,
    ) -> Result<String, TokenError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
            return Err(TokenError::BadLabel);
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
        };
        self.transaction("创建接口令牌", async |txn| {
            txn.query("CREATE api_token CONTENT $row RETURN NONE").bind(("row", row)).await?.check()?;
            audit.write_in(txn).await
        })
        .await?;
        Ok(token)
    }

    /// The account a token speaks for: none when the token is unknown or revoked, or its
    /// account is gone or disabled. A token that is accepted is stamped as used.
    pub async fn account_for_token(&self, token: &str) -> StoreResult<Option<Account>> {
        let token = token.trim();
        if !looks_like_token(token) {
            return Ok(None);
        }
        let context = "核对接口令牌";
        let mut response = self
            .db()
            .query("SELECT VALUE username FROM api_token WHERE hash = $hash AND revoked = false")
            .bind(("hash", token_hash(token)))
            .await
            .map_err(StoreError::query(context))?;
        let usernames: Vec<String> = response.take(0).map_err(StoreError::query(context))?;
        let Some(username) = usernames.into_iter().next() else { return Ok(None) };
        let Some((account, _)) = self.account(&username).await? else { return Ok(None) };
        if account.disabled {
            return Ok(None);
        }
        let stamped = self
            .db()
            .query("UPDATE api_token SET last_used_at = time::now() WHERE hash = $hash RETURN NONE")
            .bind(("hash", token_hash(token)))
            .await
            .and_then(|r| r.check());
        match stamped {
            // A script's parallel requests stamp the same token at once; one stamp is enough.
            Err(error) if is_conflict_source(&error) => {}
            stamped => {
                stamped.map_err(StoreError::query(context))?;
            }
        }
        Ok(Some(account))
    }

    /// An account's tokens, newest first, without their hashes.
    pub async fn api_tokens(&self, username: &str) -> StoreResult<Vec<TokenInfo>> {
        let context = "读取接口令牌";
        let mut response = self
            .db()
            .query(
                "SELECT id, label, created_at, last_used_at, revoked FROM api_token \
                 WHERE username = $username ORDER BY created_at DESC",
            )
            .bind(("username", username.to_string()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<TokenInfoRow> = response.take(0).map_err(StoreError::query(context))?;
        Ok(rows
            .into_iter()
            .map(|row| TokenInfo {
                id: record_key(&row.id),
                label: row.label,
                created_at: row.created_at,
                last_used_at: row.last_used_at,
                revoked: row.revoked,
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
            .await?;
        if found { Ok(()) } else { Err(TokenError::NotFound) }
    }
}
