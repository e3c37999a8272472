//! Errors a request can end in, shown as a Chinese page to people and as JSON to scripts.
//!
//! One type for pages and the API: the responder (`respond.rs`) looks at the request path, so a handler never
//! has to decide how its errors are shown.

use rocket::http::Status;
use rocket::request::Request;

use crate::store::StoreError;

/// Why a request was refused or failed; each variant maps to one HTTP status ([`WebError::status`])
/// and its Chinese message is what the user reads.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// No session or token: the page needs a login (401).
    #[error("请先登录")]
    Unauthorized,
    /// Logged in, but the account's role or group does not reach this page or record (403).
    #[error("您的账号无权访问此页面")]
    Forbidden,
    /// No such page, or no such record (404); also an unknown cycle or unregistered unit.
    #[error("页面或记录不存在")]
    NotFound,
    /// A form without a valid CSRF token for this session (403).
    #[error("表单已过期或来源不明，请刷新页面后重试")]
    Csrf,
    /// A write attempted with a read-only API token (403).
    #[error("该 API 令牌只读，不能用于修改数据")]
    ReadOnlyToken,
    /// Bad input from a form or an API body; the message names the field.
    #[error("{0}")]
    BadRequest(String),
    /// Too many failed logins for this account or address (429).
    #[error("登录失败次数过多，请 {minutes} 分钟后再试")]
    Throttled {
        /// Whole minutes until a login may be tried again, as the message shows them.
        minutes: i64,
    },
    /// Too many password checks running and waiting (a login flood): refused at once.
    #[error("服务器繁忙，请稍后再试")]
    Busy,
    /// The store failed (500).
    #[error("数据库错误：{0}")]
    Store(#[from] StoreError),
    /// Anything else that is the server's fault (500); the message says what.
    #[error("内部错误：{0}")]
    Internal(String),
}

impl WebError {
    /// The HTTP status the error is answered with.
    pub fn status(&self) -> Status {
        match self {
            WebError::Unauthorized => Status::Unauthorized,
            WebError::Forbidden | WebError::Csrf | WebError::ReadOnlyToken => Status::Forbidden,
            WebError::NotFound => Status::NotFound,
            WebError::BadRequest(_) => Status::UnprocessableEntity,
            WebError::Throttled { .. } => Status::TooManyRequests,
            WebError::Busy => Status::ServiceUnavailable,
            WebError::Store(_) | WebError::Internal(_) => Status::InternalServerError,
        }
    }

    /// A [`WebError::BadRequest`]: bad input, `message` naming the field in Chinese.
    pub fn bad(message: impl Into<String>) -> Self {
        WebError::BadRequest(message.into())
    }
}

/// The message of a guard that refused a request, kept for the catcher that shows the error
/// (Rocket hands catchers only the status).
pub struct GuardMessage(pub String);

/// Keeps `error`'s message for the catcher and returns the error's status.
pub fn note_guard_error(request: &Request<'_>, error: &WebError) -> Status {
    let status = error.status();
    if status.code >= 500 {
        // The catcher shows its generic text; the details are for the log only.
        tracing::error!(path = %request.uri().path(), error = %error, "request failed");
    } else {
        request.local_cache(|| GuardMessage(error.to_string()));
    }
    status
}

/// Whether a request is for the JSON API (errors as JSON) or a page (errors as HTML).
pub fn is_api(request: &Request<'_>) -> bool {
    request.uri().path().as_str().starts_with("/api/")
}

/// What a person or script is told about a server-side failure: never the database's or the
/// program's own error text (it names tables, queries, paths); that goes to the log only.
pub const GENERIC_SERVER_ERROR: &str = "服务器内部错误，请稍后重试或联系公开办";

/// Store operations that refuse with a typed error: the database failure stays a 500, the
/// refusal itself is shown to the person as a 422 with its Chinese message (a missing record
/// is a 404).
macro_rules! refusals_are_bad_requests {
    ($($error:path { store: $store:ident $(, not_found: $missing:ident)? }),+ $(,)?) => {
        $(impl From<$error> for WebError {
            fn from(error: $error) -> Self {
                use $error as E;
                match error {
                    E::$store(store) => WebError::Store(store),
                    $(E::$missing(..) => WebError::NotFound,)?
                    #[allow(unreachable_patterns)]
                    refusal => WebError::BadRequest(refusal.to_string()),
                }
            }
        })+
    };
}

refusals_are_bad_requests!(
    crate::store::AccountWriteError { store: Store },
    crate::store::AccountUpdateError { store: Store, not_found: NotFound },
    crate::store::AssignmentError { store: Store },
    crate::store::RectificationWriteError { store: Store, not_found: NotFound },
    crate::store::TokenError { store: Store },
    crate::store::CycleError { store: Store, not_found: UnknownCycle },
);

#[cfg(test)]
mod tests {
    use rocket::local::asynchronous::Client;
    use rocket::{get, routes};

    use super::WebError;

    #[get("/broken")]
    fn broken() -> Result<(), WebError> {
        Err(WebError::Internal("SELECT password_hash FROM account: connection refused at /srv/db".into()))
    }

    #[get("/api/broken")]
    fn api_broken() -> Result<(), WebError> {
        Err(WebError::Internal("SELECT password_hash FROM account".into()))
    }

    #[tokio::test]
    async fn server_errors_show_a_generic_message_and_keep_details_for_the_log() {
        let rocket = rocket::build().mount("/", routes![broken, api_broken]);
        let client = Client::untracked(rocket).await.expect("client");
        for path in ["/broken", "/api/broken"] {
            let response = client.get(path).dispatch().await;
            assert_eq!(response.status().code, 500);
            let body = response.into_string().await.unwrap_or_default();
            assert!(!body.contains("SELECT") && !body.contains("/srv/db"), "{path}: {body}");
            assert!(body.contains("服务器内部错误") || body.contains("500"), "{path}: {body}");
        }
    }
}
