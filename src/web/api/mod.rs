//! The JSON API under `/api/v1`: everything the pages show, for scripts, under the same roles.
//!
//! Callers prove who they are with an API token (`Authorization: Bearer gk_…`) or a browser
//! session; a session writes only with its CSRF token in `X-CSRF-Token` ([`ApiWriter`]).
//! Every answer is the structure the matching page is built from (`super::views`), and every
//! write goes through the same function as the page's form (`super::actions`), so the two can
//! never disagree. Who may do what is asked of [`super::access`] only. Errors are JSON
//! (`{"error": "…", "status": N}`), and a body that cannot be read is a 422 naming the field.
//!
//! [`openapi`] describes every route here; a test checks that the two agree.
//!
//! [`ApiWriter`]: super::csrf::ApiWriter

mod body;
mod cycles;
mod findings;
mod groups;
mod me;
mod office;
pub mod openapi;
mod rankings;
mod requests;
mod self_assessment;
mod units;

use rocket::serde::json::Json;

use super::error::WebError;

/// What a JSON read or write answers.
type ApiResult<T> = Result<Json<T>, WebError>;

/// Every API route, to be mounted at `/api/v1`.
pub fn routes() -> Vec<rocket::Route> {
    [
        openapi::routes(),
        me::routes(),
        cycles::routes(),
        rankings::routes(),
        units::routes(),
        findings::routes(),
        self_assessment::routes(),
        groups::routes(),
        office::routes(),
    ]
    .concat()
}

/// A yes/no query parameter: absent or empty is `false`; anything but the usual spellings is
/// refused with the parameter named.
fn flag(name: &str, raw: Option<&str>) -> Result<bool, WebError> {
    match raw.map(str::trim).unwrap_or_default() {
        "" | "false" | "0" | "no" | "off" => Ok(false),
        "true" | "1" | "yes" | "on" => Ok(true),
        other => Err(WebError::bad(format!("参数“{name}”无效：“{other}”应为 true 或 false"))),
    }
}

#[cfg(test)]
mod tests {
    use super::flag;

    #[test]
    fn flags_accept_the_usual_spellings_and_name_the_parameter_otherwise() {
        assert!(!flag("laggards", None).unwrap());
        assert!(flag("laggards", Some("true")).unwrap());
        assert!(!flag("laggards", Some("0")).unwrap());
        assert!(flag("laggards", Some("maybe")).unwrap_err().to_string().contains("laggards"));
    }
}
