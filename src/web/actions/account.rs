//! Accounts: the office creates them, disables and re-enables them and resets forgotten
//! passwords; a person signs in and out, changes their own password and manages their API
//! tokens. Passwords are hashed and checked with argon2 off the async workers, through the
//! gate that bounds how many run at once; nobody ever sees a hash.

use super::Refused;
use crate::auth::{hash_password, verify_password};
use crate::model::{Account, AccountError, OrgCode, Role};
use crate::store::{AuditEntry, Store, TokenScope, TokenSpec};
use crate::web::error::WebError;
use crate::web::hashing::{Admission, PasswordGate};
use crate::web::session::CurrentUser;

/// The longest display name or group name, in characters (the store's limit for groups).
const MAX_NAME_CHARS: usize = 50;

/// The longest label of an API token, in characters.
const MAX_TOKEN_LABEL_CHARS: usize = 50;

/// A stored hash to verify against when the user name does not exist, so that a wrong name and
/// a wrong password take the same time and names cannot be probed.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Vg0z5XyIr2cY6c7dYAVs3Sg4yRYWkq6kK2w7g3zzYxk";

/// A new account as the office's form describes it (blank optional fields are "none").
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    /// The role's id (`office`, `leader`, `inspector` or `unit`).
    pub role: String,
    /// The sign-in name; the account's key.
    pub username: String,
    /// The name shown instead of the user name (at most 50 characters).
    pub display_name: String,
    /// A unit account's unit, by credit code; the unit must be registered.
    pub unit: String,
    /// An inspector's group (at most 50 characters).
    pub group: String,
    /// The initial password, checked against the password rules.
    pub password: String,
    /// The password typed again; must equal `password`.
    pub repeat: String,
}

/// The model's messages name the CLI's flags; the form names its own fields.
fn account_error(error: &AccountError) -> String {
    match error {
        AccountError::UnitMissing => "单位联系人账号须填写所属单位代码".to_string(),
        AccountError::UnitNotAllowed => "只有单位联系人账号属于某个单位，请清空“所属单位代码”".to_string(),
        AccountError::GroupMissing => "特邀监察员账号须填写所在小组".to_string(),
        AccountError::GroupNotAllowed => "只有特邀监察员账号属于某个小组，请清空“所在小组”".to_string(),
        other => other.to_string(),
    }
}

fn non_empty(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// Hashes off the async workers, through the gate that bounds concurrent argon2 runs.
async fn hash(passwords: &PasswordGate, password: String) -> Result<String, WebError> {
    passwords.run(move || hash_password(&password)).await?.map_err(|e| WebError::Internal(e.to_string()))
}

/// The account `input` describes, or why it cannot exist.
async fn described_account(store: &Store, input: &NewAccount) -> Result<Result<Account, Refused>, WebError> {
    let refused = |message: String| Ok(Err(Refused(message)));
    let role: Role = match input.role.parse() {
        Ok(role) => role,
        Err(error) => return refused(error),
    };
    let unit = match non_empty(&input.unit) {
        None => None,
        Some(raw) => {
            let code = match OrgCode::parse(&raw) {
                Ok(code) => code,
                Err(e) => return refused(format!("所属单位代码“{raw}”无效：{e}")),
            };
            match store.unit(&code).await {
                Ok(Some(_)) => Some(code),
                Ok(None) => return refused(format!("单位 {code} 未登记，请先在单位名录中导入")),
                Err(e) => return refused(e.to_string()),
            }
        }
    };
    let account = Account {
        username: input.username.trim().to_string(),
        role,
        unit,
        inspector_group: non_empty(&input.group),
        display_name: non_empty(&input.display_name),
        disabled: false,
    };
    if let Err(e) = account.validate() {
        return refused(account_error(&e));
    }
    if account.display_name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        return refused(format!("姓名最多 {MAX_NAME_CHARS} 个字符"));
    }
    if account.inspector_group.as_ref().is_some_and(|g| g.chars().count() > MAX_NAME_CHARS) {
        return refused(format!("小组名称最多 {MAX_NAME_CHARS} 个字符"));
    }
    if input.password != input.repeat {
        return refused("两次输入的密码不一致".to_string());
    }
    if let Err(e) = account.check_password(&input.password) {
        return refused(account_error(&e));
    }
    Ok(Ok(account))
}

/// The office creates the account `input` describes, with an audit record of its role, unit
/// and group; what is wrong with the input is refused with the field named.
pub async fn create_account(
    store: &Store,
    passwords: &PasswordGate,
    user: &CurrentUser,
    input: &NewAccount,
) -> Result<Result<Account, Refused>, WebError> {
    let account = match described_account(store, input).await? {
        Ok(account) => account,
        Err(refused) => return Ok(Err(refused)),
    };
    let hash = hash(passwords, input.password.clone()).await?;
    let audit = AuditEntry::new(&user.account.username, "accounts.create").target(account.username.clone()).detail(
        serde_json::json!({ "role": account.role.as_str(), "unit": account.unit.as_ref().map(ToString::to_string),
                            "group": account.inspector_group }),
    );
    store.create_account(&account, &hash, audit).await?;
    Ok(Ok(account))
}

/// The office disables (or re-enables) `username`; nobody may disable the account they use.
pub async fn set_account_disabled(
    store: &Store,
    user: &CurrentUser,
    username: &str,
    disabled: bool,
) -> Result<Result<(), Refused>, WebError> {
    if disabled && username == user.account.username {
        return Ok(Err(Refused("不能停用自己正在使用的账号".to_string())));
    }
    let action = if disabled { "accounts.disable" } else { "accounts.enable" };
    let audit = AuditEntry::new(&user.account.username, action).target(username.to_string());
    store.set_account_disabled(username, disabled, audit).await?;
    Ok(Ok(()))
}

/// The office sets a new password for `username` (a missing account is "not found"); the
/// password must be typed twice alike and meet the rules for the account's role.
pub async fn reset_password(
    store: &Store,
    passwords: &PasswordGate,
    user: &CurrentUser,
    username: &str,
    password: &str,
    repeat: &str,
) -> Result<Result<(), Refused>, WebError> {
    let Some((account, _)) = store.account(username).await? else {
        return Err(WebError::NotFound);
    };
    if password != repeat {
        return Ok(Err(Refused(format!("重设 {username} 的密码：两次输入的密码不一致"))));
    }
    if let Err(error) = account.check_password(password) {
        return Ok(Err(Refused(format!("重设 {username} 的密码：{}", account_error(&error)))));
    }
    let hash = hash(passwords, password.to_string()).await?;
    let audit =
        AuditEntry::new(&user.account.username, "accounts.reset_password").target(username.to_string());
    store.set_password_hash(username, &hash, audit).await?;
    Ok(Ok(()))
}

/// The account `username` names, with its session epoch, when `password` is its password and
/// it is not disabled. An unknown name costs the same hash check as a wrong password.
pub async fn check_login(
    store: &Store,
    passwords: &PasswordGate,
    admission: Admission,
    username: &str,
    password: &str,
) -> Result<Option<(Account, i64)>, WebError> {
    let found = store.account_login(username.trim()).await?;
    let stored = found.as_ref().map_or(DUMMY_HASH.to_string(), |(_, hash, _)| hash.clone());
    let password = password.to_string();
    // argon2 is deliberately slow and large: at most a few at once, off the async workers.
    let matches = passwords.run_admitted(admission, move || verify_password(&password, &stored)).await?;
    Ok(found
        .filter(|(account, _, _)| matches && !account.disabled)
        .map(|(account, _, epoch)| (account, epoch)))
}

/// Ends every session of `user`'s account, on every device.
pub async fn sign_out(store: &Store, user: &CurrentUser) -> Result<(), WebError> {
    store.end_sessions(&user.account.username).await?;
    Ok(())
}

/// `user` changes their own password, proving the current one; every session of the account
/// ends. Answers the new session epoch, for this browser's new session.
pub async fn change_own_password(
    store: &Store,
    passwords: &PasswordGate,
    user: &CurrentUser,
    current: &str,
    new_password: &str,
    repeat: &str,
) -> Result<Result<i64, Refused>, WebError> {
    if new_password != repeat {
        return Ok(Err(Refused("两次输入的新密码不一致".into())));
    }
    if let Err(error) = user.account.check_password(new_password) {
        return Ok(Err(Refused(error.to_string())));
    }
    let username = &user.account.username;
    let Some((_, stored)) = store.account(username).await? else {
        return Err(WebError::Unauthorized);
    };
    let (current, new_password) = (current.to_string(), new_password.to_string());
    let new_hash = passwords
        .run(move || verify_password(&current, &stored).then(|| hash_password(&new_password)))
        .await?;
    let Some(new_hash) = new_hash else {
        return Ok(Err(Refused("当前密码不正确".into())));
    };
    let new_hash = new_hash.map_err(|e| WebError::Internal(e.to_string()))?;
    let audit = AuditEntry::new(username, "account.password").target(username.clone());
    store.set_password_hash(username, &new_hash, audit).await?;
    let Some((_, epoch)) = store.account_session(username).await? else {
        return Err(WebError::Unauthorized);
    };
    Ok(Ok(epoch))
}

/// `user` makes an API token for a script: `label` says what for, `scope` is `read` or
/// `write`, and it lives `days` days. Answers the token, shown once.
pub async fn create_token(
    store: &Store,
    user: &CurrentUser,
    label: &str,
    scope: &str,
    days: i64,
) -> Result<String, WebError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > MAX_TOKEN_LABEL_CHARS {
        return Err(WebError::bad(format!("令牌用途：必填，最多 {MAX_TOKEN_LABEL_CHARS} 个字符")));
    }
    let scope: TokenScope = scope.parse()?;
    let spec = TokenSpec { scope, days };
    let username = &user.account.username;
    let audit = AuditEntry::new(username, "token.create").target(username.clone());
    Ok(store.create_scoped_token(username, label, spec, audit).await?)
}

/// `user` revokes one of their own API tokens.
pub async fn revoke_token(store: &Store, user: &CurrentUser, id: &str) -> Result<(), WebError> {
    let audit = AuditEntry::new(&user.account.username, "token.revoke").target(id.to_string());
    store.revoke_api_token(id, &user.account.username, audit).await?;
    Ok(())
}
