//! How a [`WebError`] (or a catcher's status) reaches the client: JSON under `/api/`, otherwise
//! the error page rendered with the server's templates. Kept apart from `error` so that the
//! error type sits below everything that returns it (`state`, `templates`, `session`, …) and
//! only this responder reaches up to the [`AppState`].

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

use super::error::{GENERIC_SERVER_ERROR, WebError, is_api};
use super::state::AppState;

impl<'r> Responder<'r, 'static> for WebError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
        let message = match &self {
            WebError::Store(_) | WebError::Internal(_) => {
                tracing::error!(path = %request.uri().path(), error = %self, "request failed");
                GENERIC_SERVER_ERROR.to_string()
            }
            other => other.to_string(),
        };
        let mut response = error_response(request, status, &message)?;
        if matches!(self, WebError::Busy) {
            response.set_raw_header("Retry-After", "2");
        }
        Ok(response)
    }
}

/// The response for an error status: JSON under `/api/`, otherwise the error page.
pub(super) fn error_response(
    request: &Request<'_>,
    status: Status,
    message: &str,
) -> response::Result<'static> {
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
