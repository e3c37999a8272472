//! `home.stale`: the newest dated item on the home page is older than the home window, or the
//! home page carries no dated item at all (the national rule counts an undated item as not
//! updated). Also the metric `home.days_since_update` the rule sets score by.

use rust_decimal::Decimal;
use serde_json::json;

use super::{CheckContext, ParsedPage};
use crate::crawl::dates::newest_date;
use crate::model::{Finding, Metric};

pub fn check(ctx: &CheckContext<'_>, url: &str, home: &ParsedPage) -> (Vec<Finding>, Vec<Metric>) {
    let window = i64::from(ctx.profile.home_window_days);
    match newest_date(&home.text, ctx.as_of) {
        Some(newest) => {
            let days = ctx.days_since(newest);
            let metric = ctx.metric("home.days_since_update", Decimal::from(days));
            let findings = if days > window {
                vec![ctx.finding(
                    "home.stale",
                    Some(url),
                    json!({ "newest": newest.to_string(), "days": days, "window_days": window }),
                )]
            } else {
                Vec::new()
            };
            (findings, vec![metric])
        }
        None => (
            vec![ctx.finding(
                "home.stale",
                Some(url),
                json!({ "newest": null, "window_days": window, "reason": "首页没有带日期的信息" }),
            )],
            Vec::new(),
        ),
    }
}
