//! Notifications (通报) as the dashboard lists them: every notice with each quarter's tally of
//! how the named units rectified, a unit's own notices, and a unit's availability (its probe
//! history and the notices that named it).

use std::collections::BTreeMap;

use chrono::{Datelike, Utc};
use serde::Serialize;

use crate::model::{CityClock, OrgCode};
use crate::store::{Notice, ProbeDay, Store};
use crate::web::error::WebError;

/// How many days of probe history a unit's availability chart shows.
const AVAILABILITY_DAYS: i64 = 30;

/// One quarter's published notices and how their named findings were rectified.
#[derive(Debug, Serialize, Default)]
pub struct Quarter {
    /// The quarter in Chinese (e.g. 2026 年第 4 季度), on the city clock, by publication date.
    pub quarter: String,
    /// Notices published in the quarter.
    pub notices: usize,
    /// Units named, counted once per notice that names them.
    pub units: usize,
    /// Findings the notices named.
    pub findings: usize,
    /// Named findings closed without becoming overdue.
    pub on_time: usize,
    /// Named findings that became overdue (closed since or not).
    pub overdue: usize,
}

/// The notices page: every notice, the quarters newest first, and the cycles (newest first)
/// a draft may be made from.
#[derive(Debug)]
pub struct NoticeList {
    /// Every notice, drafts included, newest first.
    pub notices: Vec<Notice>,
    /// Published notices' tallies, one per quarter.
    pub quarters: Vec<Quarter>,
    /// The assessed cycles a draft may be made from, newest first.
    pub cycles: Vec<String>,
}

/// Every notice with the quarterly tally. Two queries and one per published notice.
pub async fn notice_list(store: &Store) -> Result<NoticeList, WebError> {
    let notices = store.notices().await?;
    let mut quarters: BTreeMap<String, Quarter> = BTreeMap::new();
    for notice in notices.iter().filter(|n| n.status == "published") {
        let at = CityClock::default().local(notice.published_at.unwrap_or(notice.created_at));
        let label = format!("{} 年第 {} 季度", at.year(), at.month0() / 3 + 1);
        let (named, on_time, overdue) = store.notice_rectification(notice).await?;
        let q =
            quarters.entry(label.clone()).or_insert_with(|| Quarter { quarter: label, ..Quarter::default() });
        q.notices += 1;
        q.units += notice.units.len();
        q.findings += named;
        q.on_time += on_time;
        q.overdue += overdue;
    }
    let cycles = store.cycles().await?.into_iter().rev().map(|c| c.cycle).collect();
    Ok(NoticeList { notices, quarters: quarters.into_values().rev().collect(), cycles })
}

/// The published notices that name `unit`. One query.
pub async fn unit_notices(store: &Store, unit: &str) -> Result<Vec<Notice>, WebError> {
    Ok(store.notices_for_unit(unit).await?)
}

/// A unit's probe history, day by day over the last [`AVAILABILITY_DAYS`], and the notices that
/// named it.
#[derive(Debug)]
pub struct Availability {
    /// One entry per day probed (city clock) over the period, oldest first.
    pub days: Vec<ProbeDay>,
    /// The published notices that named the unit.
    pub notices: Vec<Notice>,
}

/// `unit`'s availability chart and notices. Two queries.
pub async fn availability(store: &Store, unit: &OrgCode) -> Result<Availability, WebError> {
    let since = Utc::now() - chrono::Duration::days(AVAILABILITY_DAYS);
    let days = store.probe_history(unit.as_str(), since, CityClock::default().zone()).await?;
    let notices = unit_notices(store, unit.as_str()).await?;
    Ok(Availability { days, notices })
}
