//! The audit log (DESIGN.md §2): who changed what and when, newest first.

use minijinja::context;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::{State, get, routes};
use serde::Serialize;

use super::local_time;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::audit::{AuditFilter, audit_log};

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![audit]
}

/// How many entries the page shows.
const SHOWN: usize = 200;
#[derive(Debug, Serialize)]
struct AuditRow {
    at: String,
    actor: String,
    action: String,
    target: Option<String>,
    /// The detail as JSON text; shown escaped, never interpreted.
    detail: Option<String>,
}

fn detail_text(detail: &serde_json::Value) -> Option<String> {
    match detail {
        serde_json::Value::Null => None,
        serde_json::Value::Object(map) if map.is_empty() => None,
        other => Some(other.to_string()),
    }
}

#[get("/office/audit?<actor>&<action>")]
async fn audit(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
    actor: Option<&str>,
    action: Option<&str>,
) -> Result<RawHtml<String>, WebError> {
    user.require_office()?;
    let filter = AuditFilter {
        actor: actor.unwrap_or_default().trim().to_string(),
        action: action.unwrap_or_default().trim().to_string(),
    };
    let window = filter.window(SHOWN);
    let rows: Vec<AuditRow> = audit_log(&state.store, &filter, SHOWN)
        .await?
        .into_iter()
        .map(|record| AuditRow {
            at: local_time(record.at),
            detail: detail_text(&record.detail),
            actor: record.actor,
            action: record.action,
            target: record.target,
        })
        .collect();
    state.templates.page(
        "office/audit.html",
        &user,
        flash,
        context! { entries => rows, filter => filter, shown => SHOWN, window => window },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_details_are_left_out() {
        assert_eq!(detail_text(&serde_json::json!({})), None);
        assert_eq!(detail_text(&serde_json::json!({"a": "<b>"})).as_deref(), Some(r#"{"a":"<b>"}"#));
    }
}
