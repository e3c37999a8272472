//! Accounts: created with their audit record in one transaction; read back without the hash
//! except where a password is being checked.

use surrealdb::types::{RecordId, SurrealValue};

use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::model::{Account, OrgCode};

#[derive(Debug, Clone, SurrealValue)]
struct AccountRow {
    id: RecordId,
    username: String,
    password_hash: String,
    role: String,
    unit: Option<String>,
    inspector_group: Option<String>,
    display_name: Option<String>,
    disabled: bool,
    /// Absent on accounts made before sessions could be ended; reads as 0.
    #[surreal(default)]
    session_epoch: Option<i64>,
}

impl TryFrom<AccountRow> for (Account, String) {
    type Error = StoreError;

    fn try_from(row: AccountRow) -> Result<Self, Self::Error> {
        let corrupt = |message: String| StoreError::Corrupt { context: "account", message };
        let account = Account {
            role: row.role.parse().map_err(corrupt)?,
            unit: row
                .unit
                .map(|u| OrgCode::parse(&u).map_err(|e| corrupt(format!("{}: {e}", row.username))))
                .transpose()?,
            username: row.username,
            inspector_group: row.inspector_group,
            display_name: row.display_name,
            disabled: row.disabled,
        };
        Ok((account, row.password_hash))
    }
}

/// Creating an account failed in a way the user can fix.
#[derive(Debug, thiserror::Error)]
pub enum AccountWriteError {
    /// An account with this username exists already; holds the name.
    #[error("用户名“{0}”已存在")]
    Taken(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Changing an existing account failed in a way the user can fix.
#[derive(Debug, thiserror::Error)]
pub enum AccountUpdateError {
    /// No account has this username; holds the name given.
    #[error("账号“{0}”不存在")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

const ACCOUNT_FIELDS: &str =
    "id, username, password_hash, role, unit, inspector_group, display_name, disabled, session_epoch";

/// Ends every session of the account: a session cookie names the epoch it was started in and
/// is accepted only while the account is still in that epoch.
const NEXT_EPOCH: &str = "session_epoch = (session_epoch ?? 0) + 1";

impl Store {
    /// Creates an account with an already computed password hash. The record id is the
    /// username, so a second account of the same name is refused by the database itself.
    pub async fn create_account(
        &self,
        account: &Account,
        password_hash: &str,
        audit: AuditEntry,
    ) -> Result<(), AccountWriteError> {
        if self.account(&account.username).await?.is_some() {
            return Err(AccountWriteError::Taken(account.username.clone()));
        }
        let row = AccountRow {
            id: RecordId::new("account", account.username.as_str()),
            username: account.username.clone(),
            password_hash: password_hash.to_string(),
            role: account.role.as_str().to_string(),
            unit: account.unit.as_ref().map(ToString::to_string),
            inspector_group: account.inspector_group.clone(),
            display_name: account.display_name.clone(),
            disabled: account.disabled,
            session_epoch: Some(0),
        };
        let created = self
            .transaction("创建账号", async |txn| {
                txn.query("CREATE account CONTENT $row").bind(("row", row)).await?.check()?;
                audit.write_in(txn).await
            })
            .await;
        self.reads.clear();
        created?;
        Ok(())
    }

    /// Every account, by username (no hashes).
    pub async fn accounts(&self) -> StoreResult<Vec<Account>> {
        let context = "读取账号";
        let mut response = self
            .db()
            .query(format!("SELECT {ACCOUNT_FIELDS} FROM account ORDER BY username"))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<AccountRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().map(|row| <(Account, String)>::try_from(row).map(|(a, _)| a)).collect()
    }

    /// One account with its password hash, for signing in.
    pub async fn account(&self, username: &str) -> StoreResult<Option<(Account, String)>> {
        self.account_row(username).await?.map(<(Account, String)>::try_from).transpose()
    }

    /// One account with its session epoch, for checking a session cookie (one read).
    /// Served from the access cache while [`Store::watch_changes`] runs: every request of a
    /// signed-in person asks this.
    pub async fn account_session(&self, username: &str) -> StoreResult<Option<(Account, i64)>> {
        if let Some(entry) = self.reads.session(username) {
            return Ok(entry);
        }
        let read = self.reads.generation();
        let entry = match self.account_row(username).await? {
            Some(row) => {
                let epoch = row.session_epoch.unwrap_or(0);
                let (account, _) = <(Account, String)>::try_from(row)?;
                Some((account, epoch))
            }
            None => None,
        };
        self.reads.put_session(read, username, entry.clone());
        Ok(entry)
    }

    /// One account with its password hash and session epoch, for signing in (one read).
    pub async fn account_login(&self, username: &str) -> StoreResult<Option<(Account, String, i64)>> {
        let Some(row) = self.account_row(username).await? else { return Ok(None) };
        let epoch = row.session_epoch.unwrap_or(0);
        let (account, hash) = <(Account, String)>::try_from(row)?;
        Ok(Some((account, hash, epoch)))
    }

    async fn account_row(&self, username: &str) -> StoreResult<Option<AccountRow>> {
        let context = "读取账号";
        let mut response = self
            .db()
            .query(format!("SELECT {ACCOUNT_FIELDS} FROM $id"))
            .bind(("id", RecordId::new("account", username)))
            .await
            .map_err(StoreError::query(context))?;
        response.take(0).map_err(StoreError::query(context))
    }

    /// Ends every session of an account (signing out ends them on every device). Returns the
    /// new epoch, which a session started from now on must carry; `None` for no such account.
    pub async fn end_sessions(&self, username: &str) -> StoreResult<Option<i64>> {
        let context = "结束会话";
        let response = self
            .db()
            .query(format!("UPDATE $id SET {NEXT_EPOCH} RETURN VALUE session_epoch"))
            .bind(("id", RecordId::new("account", username)))
            .await
            .and_then(surrealdb::IndexedResults::check)
            .map_err(StoreError::query(context));
        // Emptied whether or not the write reported success: a failed answer may still have
        // been applied, and forgetting costs one read.
        self.reads.clear();
        let mut response = response?;
        let epochs: Vec<i64> = response.take(0).map_err(StoreError::query(context))?;
        Ok(epochs.into_iter().next())
    }

    /// Disables or re-enables an account, with the audit record. A disabled account cannot sign
    /// in and its API tokens stop working; its sessions end for good (re-enabling it does not
    /// bring them back).
    pub async fn set_account_disabled(
        &self,
        username: &str,
        disabled: bool,
        audit: AuditEntry,
    ) -> Result<(), AccountUpdateError> {
        self.update_account(
            username,
            "停用或启用账号",
            "SET disabled = $value, session_epoch = (session_epoch ?? 0) + 1",
            disabled,
            audit,
        )
        .await
    }

    /// Replaces an account's password hash (an argon2 PHC string), with the audit record, and
    /// ends every session of the account (a stolen cookie dies with the old password).
    pub async fn set_password_hash(
        &self,
        username: &str,
        password_hash: &str,
        audit: AuditEntry,
    ) -> Result<(), AccountUpdateError> {
        self.update_account(
            username,
            "修改密码",
            "SET password_hash = $value, session_epoch = (session_epoch ?? 0) + 1",
            password_hash.to_string(),
            audit,
        )
        .await
    }

    /// The inspector accounts of a group, by username (no hashes; disabled ones included).
    pub async fn inspectors_in(&self, group: &str) -> StoreResult<Vec<Account>> {
        let context = "读取小组成员";
        let mut response = self
            .db()
            .query(format!(
                "SELECT {ACCOUNT_FIELDS} FROM account WHERE role = $role AND inspector_group = $group \
                 ORDER BY username"
            ))
            .bind(("role", crate::model::Role::Inspector.as_str()))
            .bind(("group", group.trim().to_string()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<AccountRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().map(|row| <(Account, String)>::try_from(row).map(|(a, _)| a)).collect()
    }

    /// Applies one `SET` to an existing account in one transaction with the audit record.
    async fn update_account<V: SurrealValue + Send + 'static>(
        &self,
        username: &str,
        context: &'static str,
        set: &'static str,
        value: V,
        audit: AuditEntry,
    ) -> Result<(), AccountUpdateError> {
        let id = RecordId::new("account", username);
        let found = self
            .transaction(context, async |txn| {
                let mut response = txn
                    .query(format!("UPDATE $id {set} RETURN VALUE id"))
                    .bind(("id", id.clone()))
                    .bind(("value", value))
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
        if found? { Ok(()) } else { Err(AccountUpdateError::NotFound(username.to_string())) }
    }
}
