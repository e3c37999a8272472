//! Who is asking: a signed-in person (a private, expiring session cookie) or a script (an API
//! token in `Authorization: Bearer …`). The account is re-read on every request, so disabling
//! an account takes effect at once rather than when its cookie expires.
//!
//! A cookie alone is not a session: it names the account's session epoch when it was issued,
//! and the account's current epoch must still match (one read, the same one that fetches the
//! account). Signing out, changing or resetting the password and disabling the account move the
//! epoch on, so every cookie issued before — including copies — stops working at once.

use chrono::Utc;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};
use serde::{Deserialize, Serialize};

use super::error::WebError;
use super::state::AppState;
use super::templates::PageUser;
use crate::model::Account;
use crate::store::TokenScope;

/// The session cookie: encrypted and authenticated by Rocket's private cookies.
pub const SESSION_COOKIE: &str = "gk_session";

/// What the session cookie carries.
#[derive(Debug, Serialize, Deserialize)]
struct SessionCookie {
    /// The account's user name.
    u: String,
    /// The session's CSRF token, echoed by every form.
    csrf: String,
    /// Expiry, seconds since the epoch: checked here, not only by the browser.
    exp: i64,
    /// The account's session epoch when the session started.
    e: i64,
}

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVia {
    /// The session cookie of a person signed in through the login page.
    Session,
    /// An API token: not sent by browsers on their own, so no CSRF token is needed.
    Token,
}

/// The signed-in account, for handlers that need one.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The account as read on this request (never older than the request).
    pub account: Account,
    /// The session's CSRF token (empty for API tokens).
    pub csrf: String,
    /// A session or an API token; decides whether forms must carry the CSRF token.
    pub via: AuthVia,
}

impl<'a> From<&'a CurrentUser> for PageUser<'a> {
    fn from(user: &'a CurrentUser) -> Self {
        PageUser { account: &user.account, csrf: &user.csrf }
    }
}

/// A random hex token (CSRF tokens, login-form tokens).
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What an API token used for this request may do, kept for [`super::csrf::ApiWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestScope(pub Option<TokenScope>);

/// Starts a session for `username` in the account's current session `epoch`; returns its CSRF
/// token.
pub fn start_session(cookies: &CookieJar<'_>, username: &str, epoch: i64, minutes: i64) -> String {
    let csrf = random_token();
    let expires = Utc::now() + chrono::Duration::minutes(minutes);
    let value =
        SessionCookie { u: username.to_string(), csrf: csrf.clone(), exp: expires.timestamp(), e: epoch };
    let text = serde_json::to_string(&value).unwrap_or_default();
    let mut cookie = Cookie::new(SESSION_COOKIE, text);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    if let Ok(expiry) = rocket::time::OffsetDateTime::from_unix_timestamp(expires.timestamp()) {
        cookie.set_expires(expiry);
    }
    cookies.add_private(cookie);
    csrf
}

/// Removes the session cookie from this browser. Only this copy: signing out also moves the
/// account's session epoch on so that copies elsewhere stop working too.
pub fn end_session(cookies: &CookieJar<'_>) {
    cookies.remove_private(Cookie::build(SESSION_COOKIE).path("/"));
}

/// Compares secrets in time independent of where they first differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn resolve(request: &Request<'_>) -> Result<Option<CurrentUser>, String> {
    let Some(state) = request.rocket().state::<AppState>() else {
        return Err("应用状态缺失".to_string());
    };
    if let Some(header) = request.headers().get_one("Authorization") {
        let Some(token) = header.strip_prefix("Bearer ").map(str::trim) else {
            return Ok(None);
        };
        let grant = state.store.token_grant(token).await.map_err(|e| e.to_string())?;
        request.local_cache(|| RequestScope(grant.as_ref().map(|g| g.scope)));
        return Ok(grant.map(|g| CurrentUser {
            account: g.account,
            csrf: String::new(),
            via: AuthVia::Token,
        }));
    }
    let Some(cookie) = request.cookies().get_private(SESSION_COOKIE) else {
        return Ok(None);
    };
    let Ok(session) = serde_json::from_str::<SessionCookie>(cookie.value()) else {
        return Ok(None);
    };
    if session.exp <= Utc::now().timestamp() {
        return Ok(None);
    }
    let account = state.store.account_session(&session.u).await.map_err(|e| e.to_string())?;
    Ok(account
        .filter(|(account, epoch)| !account.disabled && *epoch == session.e)
        .map(|(account, _)| CurrentUser { account, csrf: session.csrf, via: AuthVia::Session }))
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentUser {
    type Error = WebError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        // Several guards on one request (a handler and a CSRF form) look the account up once.
        let resolved = request.local_cache_async(resolve(request)).await;
        match resolved {
            Ok(Some(user)) => Outcome::Success(user.clone()),
            Ok(None) => Outcome::Error((Status::Unauthorized, WebError::Unauthorized)),
            Err(message) => {
                Outcome::Error((Status::InternalServerError, WebError::Internal(message.clone())))
            }
        }
    }
}

/// A caller that may be signed in or not (the login page, the home redirect).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MaybeUser {
    type Error = WebError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match request.local_cache_async(resolve(request)).await {
            Ok(user) => Outcome::Success(MaybeUser(user.clone())),
            Err(message) => {
                Outcome::Error((Status::InternalServerError, WebError::Internal(message.clone())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc123", "abc123"));
        assert!(!same_secret("abc123", "abc124"));
        assert!(!same_secret("abc123", "abc12"));
        assert!(!same_secret("", ""), "an empty token never matches");
    }
}
