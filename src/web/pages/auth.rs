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

use crate::csrf_protected;
use crate::model::Role;
use crate::web::actions::account::{
    change_own_password, check_login, create_token as make_token, revoke_token as revoke, sign_out,
};
use crate::web::client::ClientAddr;
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::{CurrentUser, MaybeUser, end_session, random_token, same_secret, start_session};
use crate::web::state::AppState;
use crate::web::throttle::Attempt;
use crate::web::views::accounts::own_tokens;

/// The sign-in page and the account page (password, API tokens): templates as (name, source)
/// pairs, embedded in the binary.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("login.html", include_str!("../templates/login.html")),
    ("account.html", include_str!("../templates/account.html")),
];

/// The home redirect, the stylesheet, sign-in and sign-out, and `/account`.
pub fn routes() -> Vec<rocket::Route> {
    routes![home, login_page, login, logout, account, change_password, create_token, revoke_token, stylesheet]
}

/// Ties the login form to the browser that loaded it (login CSRF): a page elsewhere cannot
/// sign a visitor in to an account of the attacker's choosing.
const LOGIN_COOKIE: &str = "gk_login";

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
    match check_login(&state.store, &state.passwords, admission, &form.username, &form.password).await? {
        Some((account, epoch)) => {
            state.throttle.succeeded(&attempt);
            cookies.remove_private(Cookie::build(LOGIN_COOKIE).path("/login"));
            start_session(cookies, &account.username, epoch, state.config.session_minutes);
            let target = safe_next(form.next.as_deref()).unwrap_or_else(|| landing(account.role).to_string());
            Ok(Ok(Redirect::to(target)))
        }
        None => {
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
    sign_out(&state.store, &user).await?;
    end_session(cookies);
    Ok(Flash::success(Redirect::to("/login"), "已退出登录"))
}

async fn account_page(
    state: &AppState,
    user: &CurrentUser,
    flash: Option<FlashMessage<'_>>,
    new_token: Option<String>,
) -> Result<RawHtml<String>, WebError> {
    let tokens = own_tokens(&state.store, &user.account.username).await?;
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
    let changed = change_own_password(
        &state.store,
        &state.passwords,
        &user,
        &form.current,
        &form.new_password,
        &form.repeat,
    )
    .await?;
    let epoch = match changed {
        Ok(epoch) => epoch,
        Err(refused) => return Ok(Flash::error(Redirect::to("/account"), refused.0)),
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
    let token = make_token(&state.store, &user, &form.label, &form.scope, form.days).await?;
    account_page(state, &user, None, Some(token)).await
}

#[post("/account/tokens/revoke", data = "<form>")]
async fn revoke_token(
    state: &State<AppState>,
    user: CurrentUser,
    form: CsrfForm<RevokeForm>,
) -> Result<Flash<Redirect>, WebError> {
    revoke(&state.store, &user, &form.id).await?;
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
