//! `link.broken`: a link on the site answers 4xx/5xx or cannot be fetched. The evidence names
//! the page that carries the link and the link's text, which is what the unit needs to fix it.

use serde_json::json;

use super::CheckContext;
use crate::model::Finding;

/// Where a link was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    pub page: String,
    pub text: String,
}

/// How fetching a link target ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    Status(u16),
    Failed(String),
}

/// A finding when the outcome is a failure; `None` for a working link.
pub fn check(
    ctx: &CheckContext<'_>,
    target: &str,
    outcome: &LinkOutcome,
    referrer: &Referrer,
) -> Option<Finding> {
    let detail = match outcome {
        LinkOutcome::Status(status) if *status < 400 => return None,
        LinkOutcome::Status(status) => {
            json!({ "status": status, "page": referrer.page, "text": referrer.text })
        }
        LinkOutcome::Failed(error) => json!({ "error": error, "page": referrer.page, "text": referrer.text }),
    };
    Some(ctx.finding("link.broken", Some(target), detail))
}
