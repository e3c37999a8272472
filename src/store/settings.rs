//! Settings the program keeps in its own store, above all the cookie secret: every instance
//! that serves the dashboard from one database must sign sessions with the same key, and a
//! restart must not sign everyone out.

use rand::RngCore;
use surrealdb::types::{RecordId, SurrealValue};

use super::conflict::{CONFLICT_ATTEMPTS, is_conflict};
use super::{AuditEntry, Store, StoreError, StoreResult};

const COOKIE_SECRET_KEY: &str = "cookie_secret";

/// The length Rocket's `secret_key` requires.
pub const COOKIE_SECRET_BYTES: usize = 64;

#[derive(Debug, Clone, SurrealValue)]
struct SettingRow {
    id: RecordId,
    key: String,
    value: String,
}

fn setting_id(key: &str) -> RecordId {
    RecordId::new("setting", key)
}

impl Store {
    /// A setting's value, if it was ever set.
    pub async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        let context = "读取设置";
        let mut response = self
            .db()
            .query("SELECT VALUE value FROM $id")
            .bind(("id", setting_id(key)))
            .await
            .map_err(StoreError::query(context))?;
        let values: Vec<String> = response.take(0).map_err(StoreError::query(context))?;
        Ok(values.into_iter().next())
    }

    /// Sets a setting, with the audit record, replacing any earlier value.
    pub async fn set_setting(&self, key: &str, value: &str, audit: AuditEntry) -> StoreResult<()> {
        let row = SettingRow { id: setting_id(key), key: key.to_string(), value: value.to_string() };
        self.transaction("保存设置", async |txn| {
            txn.query("UPSERT $id CONTENT $row")
                .bind(("id", row.id.clone()))
                .bind(("row", row))
                .await?
                .check()?;
            audit.write_in(txn).await
        })
        .await
    }

    /// The key that signs session cookies, made on first use. The first value written wins:
    /// the insert never overwrites, and every caller returns what is stored afterwards, so
    /// instances starting together all end up with the same key. A caller whose insert lost a
    /// write conflict to another's tries again and then reads the winner's key.
    pub async fn cookie_secret(&self) -> StoreResult<[u8; COOKIE_SECRET_BYTES]> {
        let mut attempt = 1;
        let text = loop {
            match self.insert_cookie_secret().await {
                Ok(text) => break text,
                Err(error) if is_conflict(&error) && attempt < CONFLICT_ATTEMPTS => attempt += 1,
                Err(error) => return Err(error),
            }
        };
        let corrupt = |message: String| StoreError::Corrupt { context: "setting.cookie_secret", message };
        let bytes = hex::decode(text.trim()).map_err(|e| corrupt(e.to_string()))?;
        <[u8; COOKIE_SECRET_BYTES]>::try_from(bytes.as_slice())
            .map_err(|_| corrupt(format!("长度应为 {COOKIE_SECRET_BYTES} 字节，实为 {}", bytes.len())))
    }

    /// Writes a fresh cookie secret unless one exists, and returns the stored one as hex.
    async fn insert_cookie_secret(&self) -> StoreResult<String> {
        let context = "读取会话密钥";
        let mut fresh = [0u8; COOKIE_SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        let row = SettingRow {
            id: setting_id(COOKIE_SECRET_KEY),
            key: COOKIE_SECRET_KEY.to_string(),
            value: hex::encode(fresh),
        };
        let mut response = self
            .db()
            .query("INSERT IGNORE INTO setting $row RETURN NONE; SELECT VALUE value FROM $id;")
            .bind(("row", row))
            .bind(("id", setting_id(COOKIE_SECRET_KEY)))
            .await
            .and_then(surrealdb::IndexedResults::check)
            .map_err(StoreError::query(context))?;
        let stored: Vec<String> = response.take(1).map_err(StoreError::query(context))?;
        stored.into_iter().next().ok_or(StoreError::Corrupt {
            context: "setting.cookie_secret",
            message: "写入后读不到".to_string(),
        })
    }
}
