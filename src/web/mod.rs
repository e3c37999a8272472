//! The web dashboard and JSON API (`gongkai serve`): Rocket, server-rendered pages in Chinese,
//! roles as DESIGN.md §2 sets them.
//!
//! Layout: `session` (who is asking), `csrf` (form and API write protection), `access` (what
//! each role may see and do), `templates` (layout and rendering), `pages/` (one module per
//! audience), `api/` (JSON under `/api/v1`), `charts` (SVG) and `export` (CSV).

pub mod access;
pub mod actions;
pub mod api;
pub mod charts;
pub mod client;
pub mod csrf;
pub mod error;
pub mod export;
pub mod fragments;
pub mod hashing;
pub mod headers;
pub mod jobs;
pub mod pages;
mod respond;
pub mod session;
pub mod state;
pub mod templates;
pub mod throttle;
pub mod views;

use rocket::config::{LogLevel, SecretKey};
use rocket::data::{Limits, ToByteUnit};
use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder};
use rocket::{Build, Rocket, catch, catchers};

pub use error::WebError;
pub use state::{AppState, WebConfig};

use crate::store::{Store, StoreError};

/// Why the server could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A page template does not compile.
    #[error("页面模板有误：{0}")]
    Templates(#[from] minijinja::Error),
    /// The store failed while reading the cookie key.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Rocket could not start (address in use, bad configuration); its message.
    #[error("网页服务无法启动：{0}")]
    Launch(String),
}

/// The Rocket instance with every route, ready to launch (or to drive from tests with
/// `rocket::local::asynchronous::Client`). The cookie key is kept in the store, so sessions
/// survive a restart and every instance sharing a database accepts the same cookies.
pub async fn build(store: Store, config: WebConfig) -> Result<Rocket<Build>, ServeError> {
    let secret = store.cookie_secret().await?;
    // Every request needs its account; remember it for a few seconds, emptied by any change.
    // Without the live queries the server still works, reading the account on every request.
    if let Err(error) = store.watch_changes().await {
        tracing::warn!(%error, "账号缓存未启用");
    }
    let templates = templates::Templates::new(pages::TEMPLATES)?;
    let mut rocket_config = rocket::Config {
        address: config.address,
        port: config.port,
        secret_key: SecretKey::from(&secret[..]),
        log_level: LogLevel::Critical,
        cli_colors: false,
        // The client's address is the TCP peer's unless a trusted proxy forwarded it
        // (`client::ClientAddr`); Rocket's default would believe `X-Real-IP` from anyone.
        ip_header: None,
        // Registry files and pasted registries up to 10 MB (a pasted text field counts
        // against "string"), with room for the multipart envelope.
        limits: Limits::default()
            .limit("form", 256.kibibytes())
            .limit("string", 11.mebibytes())
            .limit("data-form", 16.mebibytes())
            .limit("file", 16.mebibytes()),
        ..rocket::Config::release_default()
    };
    if let Some(workers) = config.workers {
        rocket_config.workers = workers;
    }
    let state = AppState {
        store,
        templates,
        throttle: throttle::LoginThrottle::default(),
        passwords: hashing::PasswordGate::default(),
        jobs: jobs::JobBoard::default(),
        ranking_pages: fragments::FragmentCache::default(),
        unit_pages: fragments::FragmentCache::default(),
        config,
    };
    let security_headers = headers::SecurityHeaders::new(state.config.public_url.as_deref());
    Ok(rocket::custom(rocket_config)
        .attach(security_headers)
        .manage(state)
        .mount("/", pages::routes())
        .mount("/api/v1", api::routes())
        .register("/", catchers![unauthorized, forbidden, not_found, unprocessable, too_large, server_error]))
}

/// Serves until Ctrl-C.
pub async fn serve(store: Store, config: WebConfig) -> Result<(), ServeError> {
    let rocket = build(store, config).await?;
    rocket.launch().await.map_err(|e| ServeError::Launch(e.to_string()))?;
    Ok(())
}

/// A page that needs a sign-in sends the browser to the login page and back; the API answers
/// 401 in JSON.
#[catch(401)]
fn unauthorized(request: &Request<'_>) -> Result<Redirect, Caught> {
    if error::is_api(request) {
        return Err(Caught(Status::Unauthorized, "请先登录或提供 API 令牌"));
    }
    let next = request.uri().to_string();
    let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("next", &next).finish();
    Ok(Redirect::to(format!("/login?{query}")))
}

#[catch(403)]
fn forbidden() -> Caught {
    Caught(Status::Forbidden, "您的账号无权访问此页面，或表单已过期（请刷新页面后重试）")
}

#[catch(404)]
fn not_found() -> Caught {
    Caught(Status::NotFound, "页面或记录不存在")
}

#[catch(422)]
fn unprocessable() -> Caught {
    Caught(Status::UnprocessableEntity, "提交的内容无效，请检查后重试")
}

#[catch(413)]
fn too_large() -> Caught {
    Caught(Status::PayloadTooLarge, "提交的内容太大")
}

#[catch(500)]
fn server_error() -> Caught {
    Caught(Status::InternalServerError, "服务器内部错误，请稍后重试或联系公开办")
}

/// An error status turned into the error page or a JSON error. A guard that refused the
/// request may have left a more precise message (which form field was wrong); it wins.
struct Caught(Status, &'static str);

impl<'r> Responder<'r, 'static> for Caught {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let note = &request.local_cache(|| error::GuardMessage(String::new())).0;
        let message = if note.is_empty() || self.0.code >= 500 { self.1 } else { note.as_str() };
        respond::error_response(request, self.0, message)
    }
}
