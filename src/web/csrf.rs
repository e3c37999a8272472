//! CSRF protection. Rocket has none built in, so every form that changes something is read
//! through [`CsrfForm`], which refuses the post unless its `csrf` field matches the session's
//! token; JSON writes through the API need an API token with the `write` scope or the
//! `X-CSRF-Token` header.

use rocket::data::{Data, FromData, Outcome};
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::request::{FromRequest, Request};

use super::error::{WebError, note_guard_error};
use super::session::{AuthVia, CurrentUser, RequestScope, same_secret};
use crate::store::TokenScope;

/// A form that carries the session's CSRF token in a field named `csrf`.
pub trait CsrfProtected {
    /// The token the form carried, to compare with the session's.
    fn csrf_token(&self) -> &str;
}

/// Implements [`CsrfProtected`] for form structs with a `csrf: String` field.
#[macro_export]
macro_rules! csrf_protected {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::web::csrf::CsrfProtected for $form {
            fn csrf_token(&self) -> &str {
                &self.csrf
            }
        })+
    };
}

/// A form post whose CSRF token was checked against the signed-in session.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<T> CsrfForm<T> {
    /// The checked form.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for CsrfForm<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + CsrfProtected + Send> FromData<'r> for CsrfForm<T> {
    type Error = WebError;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        let user = match CurrentUser::from_request(request).await {
            rocket::outcome::Outcome::Success(user) => user,
            rocket::outcome::Outcome::Error(error) => return Outcome::Error(error),
            rocket::outcome::Outcome::Forward(_) => {
                return Outcome::Error((Status::Unauthorized, WebError::Unauthorized));
            }
        };
        let form = match Form::<T>::from_data(request, data).await {
            Outcome::Success(form) => form.into_inner(),
            Outcome::Forward(forward) => return Outcome::Forward(forward),
            Outcome::Error((status, errors)) => {
                let message = errors
                    .iter()
                    .map(|e| match e.name.as_ref() {
                        Some(name) => format!("{name}：{}", e.kind),
                        None => e.kind.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("；");
                let error = WebError::BadRequest(format!("表单无效：{message}"));
                note_guard_error(request, &error);
                return Outcome::Error((status, error));
            }
        };
        if user.via == AuthVia::Session && same_secret(form.csrf_token(), &user.csrf) {
            Outcome::Success(CsrfForm(form))
        } else {
            Outcome::Error((Status::Forbidden, WebError::Csrf))
        }
    }
}

/// A caller allowed to write through the JSON API: with an API token, or signed in with the
/// session's CSRF token in the `X-CSRF-Token` header.
#[derive(Debug, Clone)]
pub struct ApiWriter(pub CurrentUser);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ApiWriter {
    type Error = WebError;

    async fn from_request(request: &'r Request<'_>) -> rocket::request::Outcome<Self, Self::Error> {
        let user = match CurrentUser::from_request(request).await {
            rocket::outcome::Outcome::Success(user) => user,
            rocket::outcome::Outcome::Error(error) => return rocket::outcome::Outcome::Error(error),
            rocket::outcome::Outcome::Forward(status) => return rocket::outcome::Outcome::Forward(status),
        };
        let allowed = match user.via {
            // A read-only token never writes, whatever its account's role.
            AuthVia::Token => {
                let scope = request.local_cache(|| RequestScope(None)).0;
                if scope != Some(TokenScope::Write) {
                    let error = WebError::ReadOnlyToken;
                    note_guard_error(request, &error);
                    return rocket::outcome::Outcome::Error((Status::Forbidden, error));
                }
                true
            }
            AuthVia::Session => {
                request.headers().get_one("X-CSRF-Token").is_some_and(|t| same_secret(t, &user.csrf))
            }
        };
        if allowed {
            rocket::outcome::Outcome::Success(ApiWriter(user))
        } else {
            rocket::outcome::Outcome::Error((Status::Forbidden, WebError::Csrf))
        }
    }
}
