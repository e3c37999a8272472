//! The audit log (DESIGN.md §2): who changed what and when, newest first.

use minijinja::context;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::{State, get, routes};
use serde::Serialize;

use super::local_time;
use crate::store::AuditRecord;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![audit]
}

/// How many entries the page shows.
const SHOWN: usize = 200;
/// How far back a filtered view looks: the store reads the newest entries only, so a filter
/// is applied to this many of them.
const FILTER_WINDOW: usize = 5_000;

#[derive(Debug, Serialize)]
struct AuditRow {
    at: String,
    actor: String,
    action: String,
    target: Option<String>,
    /// The detail as JSON text; shown escaped, never interpreted.
    detail: Option<String>,
}

#[derive(Debug, Default, Serialize)]
struct Filter {
    actor: String,
    action: String,
}

impl Filter {
    fn is_empty(&self) -> bool {
        self.actor.is_empty() && self.action.is_empty()
    }

    /// The actor must match exactly; the action by prefix, so `accounts` finds every account
    /// change and `accounts.create` only creations.
    fn keeps(&self, record: &AuditRecord) -> bool {
        (self.actor.is_empty() || record.actor == self.actor)
            && (self.action.is_empty() || record.action.starts_with(&self.action))
    }
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
    let filter = Filter {
        actor: actor.unwrap_or_default().trim().to_string(),
        action: action.unwrap_or_default().trim().to_string(),
    };
    let window = if filter.is_empty() { SHOWN } else { FILTER_WINDOW };
    let rows: Vec<AuditRow> = state
        .store
        .audit_entries(window)
        .await?
        .into_iter()
        .filter(|record| filter.keeps(record))
        .take(SHOWN)
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

    fn record(actor: &str, action: &str) -> AuditRecord {
        AuditRecord {
            at: chrono::Utc::now(),
            actor: actor.into(),
            action: action.into(),
            target: None,
            detail: serde_json::json!({}),
        }
    }

    #[test]
    fn filters_match_actor_exactly_and_action_by_prefix() {
        let filter = Filter { actor: "office1".into(), action: "accounts".into() };
        assert!(filter.keeps(&record("office1", "accounts.create")));
        assert!(!filter.keeps(&record("office10", "accounts.create")));
        assert!(!filter.keeps(&record("office1", "units.import")));
        assert!(Filter::default().keeps(&record("anyone", "anything")));
    }

    #[test]
    fn empty_details_are_left_out() {
        assert_eq!(detail_text(&serde_json::json!({})), None);
        assert_eq!(detail_text(&serde_json::json!({"a": "<b>"})).as_deref(), Some(r#"{"a":"<b>"}"#));
    }
}
