//! Signing in and out, the home page that sends each role to its place, and a person's own
//! account settings (password, API tokens for scripts).

use chrono::Utc;
use minijinja::context;
use rocket::form::{Form, FromForm};
use rocket::http::{ContentType, Cookie, CookieJar, SameSite};
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};

use crate::auth::{hash_password, verify_password};
use crate::csrf_protected;
use crate::model::Role;
use crate::store::{AuditEntry, TokenScope, TokenSpec};
use crate::web::client::ClientAddr;
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::{CurrentUser, MaybeUser, end_session, random_token, same_secret, start_session};
use crate::web::state::AppState;
use crate::web::throttle::Attempt;

pub const TEMPLATES: &[(&str, &str)] = &[
    ("login.html", include_str!("../templates/login.html")),
    ("account.html", include_str!("../templates/account.html")),
];

pub fn routes() -> Vec<rocket::Route> {
    routes![home, login_page, login, logout, account, change_password, create_token, revoke_token, stylesheet]
}

/// Ties the login form to the browser that loaded it (login CSRF): a page elsewhere cannot
/// sign a visitor in to an account of the attacker's choosing.
const LOGIN_COOKIE: &str = "gk_login";

/// A stored hash to verify against when the user name does not exist, so that a wrong name and
/// a wrong password take the same time and names cannot be probed.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Vg0z5XyIr2cY6c7dYAVs3Sg4yRYWkq6kK2w7g3zzYxk";

/// Where each role starts.
fn landing(role: Role) -> &'static str {
    match role {
        Role::Office | Role::Leader => "/rankings",
        Role::Inspector => "/inspector",
        Role::Unit => "/my",
    }
}

#[get("/")]
fn home(user: MaybeUser) -> Redirect {
    match user.0 {
        Some(user) => Redirect::to(landing(user.role())),
        None => Redirect::to("/login"),
    }
}

#[get("/static/app.css")]
fn stylesheet() -> (ContentType, &'static str) {
    (ContentType::CSS, include_str!("../static/app.css"))
}

/// Only a local path may be a redirect target after login (no open redirect to another site),
/// and only one that is a valid URI path as it stands: no spaces, tabs or other control
/// characters (they made the redirect itself fail), nothing longer than a sane address.
fn safe_next(next: Option<&str>) -> Option<String> {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && n.len() <= 2_000
            && !n.contains('\\')
            && !n.contains("://")
            && !n.chars().any(|c| c.is_whitespace() || c.is_control())
            && rocket::http::uri::Origin::parse(n).is_ok()
    })
    .map(str::to_string)
}

fn login_form(
    state: &AppState,
    cookies: &CookieJar<'_>,
    next: Option<&str>,
    username: &str,
    error: Option<String>,
) -> Result<RawHtml<String>, WebError> {
    let token = random_token();
    let mut cookie = Cookie::new(LOGIN_COOKIE, token.clone());
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Strict);
    cookie.set_path("/login");
    cookies.add_private(cookie);
    state
        .templates
        .render(
            "login.html",
            context! { login_csrf => token, next => safe_next(next).unwrap_or_default(), username => username, error => error },
        )
        .map(RawHtml)
}

#[get("/login?<next>")]
fn login_page(
    state: &State<AppState>,
    cookies: &CookieJar<'_>,
    user: MaybeUser,
    next: Option<&str>,
) -> Result<Result<RawHtml<String>, Redirect>, WebError> {
    if let Some(user) = user.0 {
        return Ok(Err(Redirect::to(landing(user.role()))));
    }
    login_form(state, cookies, next, "", None).map(Ok)
}

#[derive(FromForm)]
struct LoginForm {
    csrf: String,
    username: String,
    password: String,
    next: Option<String>,
}

#[post("/login", data = "<form>")]
async fn login(
    state: &State<AppState>,
    cookies: &CookieJar<'_>,
    client: ClientAddr,
    form: Form<LoginForm>,
) -> Result<Result<Redirect, (rocket::http::Status, RawHtml<String>)>, WebError> {
    let form = form.into_inner();
    let expected = cookies.get_private(LOGIN_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if !same_secret(&form.csrf, &expected) {
        return Err(WebError::Csrf);
    }
    let now = Utc::now();
    let attempt = Attempt::new(&form.username, client.0);
    if let Some(minutes) = state.throttle.locked(&attempt, now) {
        let page = login_form(
            state,
            cookies,
            form.next.as_deref(),
            &form.username,
            Some(WebError::Throttled { minutes }.to_string()),
        )?;
        return Ok(Err((rocket::http::Status::TooManyRequests, page)));
    }
    // A place at the password gate first: in a flood, the refusal costs no database read.
    let admission = match state.passwords.admit() {
        Ok(admission) => admission,
        Err(busy) => {
            let page =
                login_form(state, cookies, form.next.as_deref(), &form.username, Some(busy.to_string()))?;
            return Ok(Err((busy.status(), page)));
        }
    };
    let found = state.store.account_login(form.username.trim()).await?;
    let stored = found.as_ref().map_or(DUMMY_HASH.to_string(), |(_, hash, _)| hash.clone());
    let password = form.password.clone();
    // argon2 is deliberately slow and large: at most a few at once, off the async workers.
    let matches =
        state.passwords.run_admitted(admission, move || verify_password(&password, &stored)).await?;
    match found {
        Some((account, _, epoch)) if matches && !account.disabled => {
            state.throttle.succeeded(&attempt);
            cookies.remove_private(Cookie::build(LOGIN_COOKIE).path("/login"));
            start_session(cookies, &account.username, epoch, state.config.session_minutes);
            let target = safe_next(form.next.as_deref()).unwrap_or_else(|| landing(account.role).to_string());
            Ok(Ok(Redirect::to(target)))
        }
        _ => {
            state.throttle.failed(&attempt, now);
            let page = login_form(
                state,
                cookies,
                form.next.as_deref(),
                &form.username,
                Some("用户名或密码错误，或账号已停用".to_string()),
            )?;
            Ok(Err((rocket::http::Status::Unauthorized, page)))
        }
    }
}

#[derive(FromForm)]
struct LogoutForm {
    csrf: String,
}

#[derive(FromForm)]
struct PasswordForm {
    csrf: String,
    current: String,
    new_password: String,
    repeat: String,
}

#[derive(FromForm)]
struct TokenForm {
    csrf: String,
    label: String,
    /// `read` or `write`; a form without it makes a read-only token.
    #[field(default = String::from("read"))]
    scope: String,
    /// Days the token lives.
    #[field(default = 90)]
    days: i64,
}

#[derive(FromForm)]
struct RevokeForm {
    csrf: String,
    id: String,
}

csrf_protected!(LogoutForm, PasswordForm, TokenForm, RevokeForm);

/// Signing out ends every session of the account, on every device: a cookie copied before
/// is refused from now on.
#[post("/logout", data = "<_form>")]
async fn logout(
    state: &State<AppState>,
    cookies: &CookieJar<'_>,
    user: CurrentUser,
    _form: CsrfForm<LogoutForm>,
) -> Result<Flash<Redirect>, WebError> {
    state.store.end_sessions(&user.account.username).await?;
    end_session(cookies);
    Ok(Flash::success(Redirect::to("/login"), "已退出登录"))
}

async fn account_page(
    state: &AppState,
    user: &CurrentUser,
    flash: Option<FlashMessage<'_>>,
    new_token: Option<String>,
) -> Result<RawHtml<String>, WebError> {
    let tokens = state.store.api_tokens(&user.account.username).await?;
    state.templates.page("account.html", user, flash, context! { tokens => tokens, new_token => new_token })
}

#[get("/account")]
async fn account(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    account_page(state, &user, flash, None).await
}

/// Changing the password ends every other session of the account (a copied cookie dies with
/// the old password); this browser gets a new session.
#[post("/account/password", data = "<form>")]
async fn change_password(
    state: &State<AppState>,
    cookies: &CookieJar<'_>,
    user: CurrentUser,
    form: CsrfForm<PasswordForm>,
) -> Result<Flash<Redirect>, WebError> {
    let form = form.into_inner();
    let back = |message: String| Ok(Flash::error(Redirect::to("/account"), message));
    if form.new_password != form.repeat {
        return back("两次输入的新密码不一致".into());
    }
    if let Err(error) = user.account.check_password(&form.new_password) {
        return back(error.to_string());
    }
    let Some((_, stored)) = state.store.account(&user.account.username).await? else {
        return Err(WebError::Unauthorized);
    };
    let (current, new_password) = (form.current.clone(), form.new_password.clone());
    let new_hash = state
        .passwords
        .run(move || verify_password(&current, &stored).then(|| hash_password(&new_password)))
        .await?;
    let Some(new_hash) = new_hash else {
        return back("当前密码不正确".into());
    };
    let new_hash = new_hash.map_err(|e| WebError::Internal(e.to_string()))?;
    let audit =
        AuditEntry::new(&user.account.username, "account.password").target(user.account.username.clone());
    state.store.set_password_hash(&user.account.username, &new_hash, audit).await?;
    let Some((_, epoch)) = state.store.account_session(&user.account.username).await? else {
        return Err(WebError::Unauthorized);
    };
    start_session(cookies, &user.account.username, epoch, state.config.session_minutes);
    Ok(Flash::success(Redirect::to("/account"), "密码已修改；该账号在其他设备上的登录已全部失效"))
}

#[post("/account/tokens", data = "<form>")]
async fn create_token(
    state: &State<AppState>,
    user: CurrentUser,
    form: CsrfForm<TokenForm>,
) -> Result<RawHtml<String>, WebError> {
    let label = form.label.trim();
    if label.is_empty() || label.chars().count() > 50 {
        return Err(WebError::bad("令牌用途：必填，最多 50 个字符"));
    }
    let scope: TokenScope = form.scope.parse()?;
    let spec = TokenSpec { scope, days: form.days };
    let audit = AuditEntry::new(&user.account.username, "token.create").target(user.account.username.clone());
    let token = state.store.create_scoped_token(&user.account.username, label, spec, audit).await?;
    account_page(state, &user, None, Some(token)).await
}

#[post("/account/tokens/revoke", data = "<form>")]
async fn revoke_token(
    state: &State<AppState>,
    user: CurrentUser,
    form: CsrfForm<RevokeForm>,
) -> Result<Flash<Redirect>, WebError> {
    let audit = AuditEntry::new(&user.account.username, "token.revoke").target(form.id.clone());
    state.store.revoke_api_token(&form.id, &user.account.username, audit).await?;
    Ok(Flash::success(Redirect::to("/account"), "令牌已吊销"))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/units/123")), Some("/units/123".into()));
        assert_eq!(safe_next(Some("//evil.example/")), None);
        assert_eq!(safe_next(Some("https://evil.example/")), None);
        assert_eq!(safe_next(Some("/\\evil.example")), None);
        assert_eq!(safe_next(Some("/x?u=http://a")), None, "anything with a scheme inside is refused");
        assert_eq!(safe_next(None), None);
        assert_eq!(safe_next(Some("/account\t")), None, "a tab made the redirect fail with 500");
        assert_eq!(safe_next(Some("/units/a b")), None);
        assert_eq!(safe_next(Some("/units/%20x?cycle=2026-Q4")), Some("/units/%20x?cycle=2026-Q4".into()));
        assert_eq!(safe_next(Some("/x\u{0}")), None);
    }
}
