//! Accounts (DESIGN.md §2): the office creates them, disables and re-enables them, and resets
//! forgotten passwords. Passwords are hashed with argon2 off the async workers; the office
//! never sees a hash, and may not lock itself out.

use minijinja::context;
use rocket::form::FromForm;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::{State, get, post, routes};
use serde::Serialize;

use super::{Posted, done, failed, refused as refused_page};
use crate::csrf_protected;
use crate::model::Role;
use crate::web::actions::account::{
    NewAccount, create_account, reset_password as reset_account_password, set_account_disabled,
};
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::accounts::accounts_overview;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![accounts, create, set_disabled, reset_password]
}

const PAGE: &str = "/office/accounts";

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
    let overview = accounts_overview(&state.store, &user.account.username).await?;
    let roles: Vec<_> =
        Role::ALL.iter().map(|r| context! { value => r.as_str(), label => r.label_zh() }).collect();
    state.templates.page(
        "office/accounts.html",
        user,
        flash,
        context! { accounts => overview.accounts, roles => roles, groups => overview.groups, entered => entered, error => error,
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

#[post("/office/accounts", data = "<form>")]
async fn create(state: &State<AppState>, user: CurrentUser, form: CsrfForm<CreateForm>) -> Posted {
    user.require_office()?;
    let form = form.into_inner();
    let input = NewAccount {
        role: form.role,
        username: form.username,
        display_name: form.display_name,
        unit: form.unit,
        group: form.group,
        password: form.password,
        repeat: form.repeat,
    };
    match create_account(&state.store, &state.passwords, &user, &input).await? {
        Ok(account) => done(PAGE, format!("已创建账号 {}（{}）", account.username, account.role.label_zh())),
        Err(refused) => {
            let entered = Entered {
                role: input.role,
                username: input.username,
                display_name: input.display_name,
                unit: input.unit,
                group: input.group,
            };
            refused_page(accounts_page(state, &user, None, entered, Some(refused.0)).await?)
        }
    }
}

#[post("/office/accounts/disabled", data = "<form>")]
async fn set_disabled(state: &State<AppState>, user: CurrentUser, form: CsrfForm<DisableForm>) -> Posted {
    user.require_office()?;
    let username = form.username.trim();
    if let Err(refused) = set_account_disabled(&state.store, &user, username, form.disabled).await? {
        return failed(PAGE, refused.0);
    }
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
    if let Err(refused) =
        reset_account_password(&state.store, &state.passwords, &user, &username, &form.password, &form.repeat)
            .await?
    {
        return failed(PAGE, refused.0);
    }
    done(
        PAGE,
        format!(
            "已重设 {username} 的密码（其已登录的会话均已失效），请通过安全渠道告知本人，并提醒其登录后自行修改"
        ),
    )
}
