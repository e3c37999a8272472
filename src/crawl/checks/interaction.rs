//! `interaction.unanswered`: on the consultation column (found by link text), a message older
//! than the limit whose row still says it has no reply.

use serde_json::json;

use super::page::truncate;
use super::{CheckContext, ParsedPage};
use crate::crawl::dates::find_dates;
use crate::model::Finding;

/// Messages reported per site at most; the count says how many there were.
const MAX_REPORTED: usize = 20;

pub fn check(ctx: &CheckContext<'_>, url: &str, page: &ParsedPage) -> Vec<Finding> {
    let settings = &ctx.profile.interaction;
    let limit = i64::from(settings.limit_days);
    page.rows
        .iter()
        .filter_map(|row| {
            let marker = settings.unanswered_markers.iter().find(|m| row.text.contains(m.as_str()))?;
            let asked = find_dates(&row.text, ctx.as_of).into_iter().filter(|d| *d <= ctx.as_of).min()?;
            let days = ctx.days_since(asked);
            (days > limit).then(|| {
                ctx.finding(
                    "interaction.unanswered",
                    Some(row.links.first().map(url::Url::as_str).unwrap_or(url)),
                    json!({ "asked": asked.to_string(), "days": days, "limit_days": limit, "marker": marker, "snippet": truncate(&row.text, 80), "page": url }),
                )
            })
        })
        .take(MAX_REPORTED)
        .collect()
}
