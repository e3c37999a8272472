//! Errors a request can end in, shown as a Chinese page to people and as JSON to scripts.
//!
//! One type for pages and the API: the responder looks at the request path, so a handler never
//! has to decide how its errors are shown.

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

use super::state::AppState;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("请先登录")]
    Unauthorized,
    #[error("您的账号无权访问此页面")]
    Forbidden,
    #[error("页面或记录不存在")]
    NotFound,
    #[error("表单已过期或来源不明，请刷新页面后重试")]
    Csrf,
    /// Bad input from a form or an API body; the message names the field.
    #[error("{0}")]
    BadRequest(String),
    #[error("登录失败次数过多，请 {minutes} 分钟后再试")]
    Throttled { minutes: i64 },
    #[error("数据库错误：{0}")]
    Store(#[from] StoreError),
    #[error("内部错误：{0}")]
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> Status {
        match self {
            WebError::Unauthorized => Status::Unauthorized,
            WebError::Forbidden | WebError::Csrf => Status::Forbidden,
            WebError::NotFound => Status::NotFound,
            WebError::BadRequest(_) => Status::UnprocessableEntity,
            WebError::Throttled { .. } => Status::TooManyRequests,
            WebError::Store(_) | WebError::Internal(_) => Status::InternalServerError,
        }
    }

    pub fn bad(message: impl Into<String>) -> Self {
        WebError::BadRequest(message.into())
    }
}

/// The message of a guard that refused a request, kept for the catcher that shows the error
/// (Rocket hands catchers only the status).
pub struct GuardMessage(pub String);

/// Keeps `error`'s message for the catcher and returns the error's status.
pub fn note_guard_error(request: &Request<'_>, error: &WebError) -> Status {
    request.local_cache(|| GuardMessage(error.to_string()));
    error.status()
}

/// Whether a request is for the JSON API (errors as JSON) or a page (errors as HTML).
pub fn is_api(request: &Request<'_>) -> bool {
    request.uri().path().as_str().starts_with("/api/")
}

impl<'r> Responder<'r, 'static> for WebError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
        if status.code >= 500 {
            tracing::error!(path = %request.uri(), error = %self, "request failed");
        }
        error_response(request, status, &self.to_string())
    }
}

/// The response for an error status: JSON under `/api/`, otherwise the error page.
pub fn error_response(request: &Request<'_>, status: Status, message: &str) -> response::Result<'static> {
    let (content_type, body) = if is_api(request) {
        (ContentType::JSON, serde_json::json!({ "error": message, "status": status.code }).to_string())
    } else {
        let page = request
            .rocket()
            .state::<AppState>()
            .and_then(|state| state.templates.error_page(status.code, message).ok())
            .unwrap_or_else(|| format!("<!doctype html><meta charset=utf-8><p>{}</p>", status.code));
        (ContentType::HTML, page)
    };
    Response::build()
        .status(status)
        .header(content_type)
        .sized_body(body.len(), std::io::Cursor::new(body))
        .ok()
}

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
