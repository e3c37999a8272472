//! The demo's notification (通报): drafted by the demo office from the current cycle's
//! laggards, approved by the demo leader, published (portal deliveries; e-mail is recorded as
//! failed until a mail server is configured, as it would be), acknowledged by about half of the
//! named units, and one unit's finding flagged overdue by a recheck — the inspectors'
//! follow-up item and a laggard reason in the next cycle.

use chrono::NaiveDate;
use serde::Serialize;

use crate::demo::DemoError;
use crate::model::FindingStatus;
use crate::notify::{self, NoticeTemplate, NotifyError, PublishOptions};
use crate::schedule::SCHEDULER_ACTOR;
use crate::store::Store;

/// What the demo's notification step made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct DemoNotice {
    pub id: String,
    pub number: Option<String>,
    pub units: usize,
    pub acknowledged: usize,
    /// The unit whose finding is overdue and escalated, if any unit had a finding.
    pub overdue_unit: Option<String>,
}

fn failed(error: impl std::fmt::Display) -> DemoError {
    DemoError::Crawl(format!("演示通报无法生成：{error}"))
}

/// Runs the notification loop once on `cycle` as of `today`, with the demo's office
/// (`office`) and leader (`leader`) accounts.
pub(crate) async fn publish_demo_notice(
    store: &Store,
    cycle: &str,
    today: NaiveDate,
    office: &str,
    leader: &str,
) -> Result<Option<DemoNotice>, DemoError> {
    let template = NoticeTemplate::shipped().map_err(failed)?;
    let Some(draft) = notify::build_draft(store, cycle, office, &template, today).await? else {
        return Ok(None);
    };
    if draft.units.is_empty() {
        return Ok(None);
    }
    let id = store.create_notice(&draft).await?;
    notify::approve(store, &id, leader).await.map_err(failed)?;
    let published = match notify::publish(store, &id, office, &PublishOptions::default()).await {
        Ok(outcome) => outcome.notice,
        // Without a CJK font the notice stays approved; the demo goes on without it.
        Err(NotifyError::Pdf(error)) => {
            tracing::warn!("演示通报未发布：{error}");
            return Ok(None);
        }
        Err(error) => return Err(failed(error)),
    };
    let mut acknowledged = 0;
    for unit in published.units.iter().step_by(2) {
        if store.acknowledge_notice(&id, &unit.unit, "演示单位联系人").await.map_err(failed)? {
            acknowledged += 1;
        }
    }
    // The last named unit that has a finding lets its deadline pass: the recheck flags it.
    let mut overdue_unit = None;
    for unit in published.units.iter().rev() {
        let Some(named) = unit.findings.first() else { continue };
        if let Some(finding) = store.finding(&named.id).await?
            && finding.status != FindingStatus::Closed
        {
            store.flag_overdue(&finding, &[], SCHEDULER_ACTOR).await?;
            overdue_unit = Some(unit.unit.clone());
            break;
        }
    }
    Ok(Some(DemoNotice {
        id,
        number: published.number,
        units: published.units.len(),
        acknowledged,
        overdue_unit,
    }))
}
