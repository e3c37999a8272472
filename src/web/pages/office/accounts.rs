//! Accounts (DESIGN.md §2): the office creates them, disables and re-enables them, and resets
//! forgotten passwords. Passwords are hashed with argon2 off the async workers; the office
//! never sees a hash, and may not lock itself out.

use std::collections::HashMap;

use minijinja::context;
use rocket::form::FromForm;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::{State, get, post, routes};
use serde::Serialize;

use super::{Posted, done, failed, refused};
use crate::auth::hash_password;
use crate::csrf_protected;
use crate::model::{Account, AccountError, OrgCode, Role};
use crate::store::AuditEntry;
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![accounts, create, set_disabled, reset_password]
}

const PAGE: &str = "/office/accounts";

/// The longest display name or group name, in characters (the store's limit for groups).
const MAX_NAME_CHARS: usize = 50;

/// One account as the page lists it.
#[derive(Debug, Serialize)]
struct AccountRow {
    username: String,
    display_name: Option<String>,
    role: &'static str,
    role_label: &'static str,
    unit: Option<String>,
    unit_name: Option<String>,
    group: Option<String>,
    disabled: bool,
    is_me: bool,
}

/// What was typed into the create form, shown again when it is refused (never the passwords).
#[derive(Debug, Default, Serialize)]
struct Entered {
    role: String,
    username: String,
    display_name: String,
    unit: String,
    group: String,
}

async fn accounts_page(
    state: &AppState,
    user: &CurrentUser,
    flash: Option<FlashMessage<'_>>,
    entered: Entered,
    error: Option<String>,
) -> Result<RawHtml<String>, WebError> {
    let names: HashMap<String, String> =
        state.store.units().await?.into_iter().map(|u| (u.code.to_string(), u.name)).collect();
    let rows: Vec<AccountRow> = state
        .store
        .accounts()
        .await?
        .into_iter()
        .map(|account| {
            let unit = account.unit.as_ref().map(ToString::to_string);
            AccountRow {
                is_me: account.username == user.account.username,
                unit_name: unit.as_ref().and_then(|u| names.get(u).cloned()),
                unit,
                username: account.username,
                display_name: account.display_name,
                role: account.role.as_str(),
                role_label: account.role.label_zh(),
                group: account.inspector_group,
                disabled: account.disabled,
            }
        })
        .collect();
    let groups: Vec<String> = state.store.groups().await?.into_iter().map(|g| g.name).collect();
    let roles: Vec<_> =
        Role::ALL.iter().map(|r| context! { value => r.as_str(), label => r.label_zh() }).collect();
    state.templates.page(
        "office/accounts.html",
        user,
        flash,
        context! { accounts => rows, roles => roles, groups => groups, entered => entered, error => error,
        min_password => crate::model::MIN_PASSWORD_CHARS },
    )
}

#[get("/office/accounts")]
async fn accounts(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    user.require_office()?;
    accounts_page(state, &user, flash, Entered::default(), None).await
}

#[derive(FromForm)]
struct CreateForm {
    #[field(default = String::new())]
    csrf: String,
    role: String,
    username: String,
    #[field(default = String::new())]
    display_name: String,
    #[field(default = String::new())]
    unit: String,
    #[field(default = String::new())]
    group: String,
    password: String,
    repeat: String,
}

#[derive(FromForm)]
struct DisableForm {
    #[field(default = String::new())]
    csrf: String,
    username: String,
    disabled: bool,
}

#[derive(FromForm)]
struct ResetForm {
    #[field(default = String::new())]
    csrf: String,
    username: String,
    password: String,
    repeat: String,
}

csrf_protected!(CreateForm, DisableForm, ResetForm);

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
async fn hash(state: &AppState, password: String) -> Result<String, WebError> {
    state
        .passwords
        .run(move || hash_password(&password))
        .await?
        .map_err(|e| WebError::Internal(e.to_string()))
}

/// The account the form describes, or why it cannot exist.
async fn described_account(state: &AppState, form: &CreateForm) -> Result<Account, String> {
    let role: Role = form.role.parse()?;
    let unit = match non_empty(&form.unit) {
        None => None,
        Some(raw) => {
            let code = OrgCode::parse(&raw).map_err(|e| format!("所属单位代码“{raw}”无效：{e}"))?;
            if state.store.unit(&code).await.map_err(|e| e.to_string())?.is_none() {
                return Err(format!("单位 {code} 未登记，请先在单位名录中导入"));
            }
            Some(code)
        }
    };
    let account = Account {
        username: form.username.trim().to_string(),
        role,
        unit,
        inspector_group: non_empty(&form.group),
        display_name: non_empty(&form.display_name),
        disabled: false,
    };
    account.validate().map_err(|e| account_error(&e))?;
    if account.display_name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        return Err(format!("姓名最多 {MAX_NAME_CHARS} 个字符"));
    }
    if account.inspector_group.as_ref().is_some_and(|g| g.chars().count() > MAX_NAME_CHARS) {
        return Err(format!("小组名称最多 {MAX_NAME_CHARS} 个字符"));
    }
    if form.password != form.repeat {
        return Err("两次输入的密码不一致".to_string());
    }
    account.check_password(&form.password).map_err(|e| account_error(&e))?;
    Ok(account)
}

#[post("/office/accounts", data = "<form>")]
async fn create(state: &State<AppState>, user: CurrentUser, form: CsrfForm<CreateForm>) -> Posted {
    user.require_office()?;
    let form = form.into_inner();
    let account = match described_account(state, &form).await {
        Ok(account) => account,
        Err(message) => {
            let entered = Entered {
                role: form.role,
                username: form.username,
                display_name: form.display_name,
                unit: form.unit,
                group: form.group,
            };
            return refused(accounts_page(state, &user, None, entered, Some(message)).await?);
        }
    };
    let hash = hash(state, form.password).await?;
    let audit = AuditEntry::new(&user.account.username, "accounts.create").target(account.username.clone()).detail(
        serde_json::json!({ "role": account.role.as_str(), "unit": account.unit.as_ref().map(ToString::to_string),
                            "group": account.inspector_group }),
    );
    state.store.create_account(&account, &hash, audit).await?;
    done(PAGE, format!("已创建账号 {}（{}）", account.username, account.role.label_zh()))
}

#[post("/office/accounts/disabled", data = "<form>")]
async fn set_disabled(state: &State<AppState>, user: CurrentUser, form: CsrfForm<DisableForm>) -> Posted {
    user.require_office()?;
    let username = form.username.trim();
    if form.disabled && username == user.account.username {
        return failed(PAGE, "不能停用自己正在使用的账号");
    }
    let action = if form.disabled { "accounts.disable" } else { "accounts.enable" };
    let audit = AuditEntry::new(&user.account.username, action).target(username.to_string());
    state.store.set_account_disabled(username, form.disabled, audit).await?;
    let message = if form.disabled {
        format!("已停用账号 {username}：它已无法登录，已登录的会话也随即失效")
    } else {
        format!("已启用账号 {username}")
    };
    done(PAGE, message)
}

#[post("/office/accounts/password", data = "<form>")]
async fn reset_password(state: &State<AppState>, user: CurrentUser, form: CsrfForm<ResetForm>) -> Posted {
    user.require_office()?;
    let form = form.into_inner();
    let username = form.username.trim().to_string();
    let Some((account, _)) = state.store.account(&username).await? else {
        return Err(WebError::NotFound);
    };
    if form.password != form.repeat {
        return failed(PAGE, format!("重设 {username} 的密码：两次输入的密码不一致"));
    }
    if let Err(error) = account.check_password(&form.password) {
        return failed(PAGE, format!("重设 {username} 的密码：{}", account_error(&error)));
    }
    let hash = hash(state, form.password).await?;
    let audit = AuditEntry::new(&user.account.username, "accounts.reset_password").target(username.clone());
    state.store.set_password_hash(&username, &hash, audit).await?;
    done(
        PAGE,
        format!(
            "已重设 {username} 的密码（其已登录的会话均已失效），请通过安全渠道告知本人，并提醒其登录后自行修改"
        ),
    )
}
