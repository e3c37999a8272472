//! `link.broken`: a link on the site answers 4xx/5xx or cannot be fetched. The evidence names
//! the page that carries the link and the link's text, which is what the unit needs to fix it.

use serde_json::json;

use super::CheckContext;
use crate::model::Finding;
use crate::model::check::LINK_BROKEN;

/// Where a link was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// The page the link is on.
    pub page: String,
    /// The link's visible text there.
    pub text: String,
}

/// How fetching a link target ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The target answered with this HTTP status (a failure from 400 on).
    Status(u16),
    /// The target could not be fetched; the fetch error's message.
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
    Some(ctx.finding(&LINK_BROKEN, Some(target), detail))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::crawl::checks::Fixture;
    use crate::model::UnitKind;

    #[test]
    fn only_failed_links_are_broken_and_the_finding_names_where_the_link_is() {
        let fixture = Fixture::new(UnitKind::Department);
        let ctx = fixture.ctx(NaiveDate::from_ymd_opt(2026, 11, 20).expect("day"));
        let referrer = Referrer { page: "http://site.gov.cn/zwgk/".into(), text: "机构职能".into() };
        let target = "http://site.gov.cn/jgzn/";
        for ok in [200, 301, 304, 399] {
            assert_eq!(check(&ctx, target, &LinkOutcome::Status(ok), &referrer), None, "{ok}");
        }
        for failed in [400, 404, 500, 503] {
            let finding = check(&ctx, target, &LinkOutcome::Status(failed), &referrer).expect("broken");
            assert_eq!((finding.check.as_str(), finding.url.as_deref()), (LINK_BROKEN.id, Some(target)));
            assert_eq!(finding.detail["status"], failed);
            assert_eq!(finding.detail["page"], "http://site.gov.cn/zwgk/");
            assert_eq!(finding.detail["text"], "机构职能");
        }
        let failed = LinkOutcome::Failed("连接超时".into());
        let finding = check(&ctx, target, &failed, &referrer).expect("broken");
        assert_eq!(finding.check, LINK_BROKEN.id);
        assert_eq!(finding.detail["error"], "连接超时");
        assert!(finding.detail["status"].is_null());
    }
}
