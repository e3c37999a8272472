//! Long-running work shared by the command line, the web dashboard and the demo: crawling
//! websites and catalogues and assessing a cycle. Each job records its own results (with their
//! audit entries) and reports progress through a [`Progress`] another task can read while it
//! runs; printing and progress bars stay with the caller.

mod assess;
mod crawl;
mod probe;
mod progress;
mod queue;
#[cfg(test)]
mod store_tests;
mod worker;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

pub use assess::{AssessOutcome, AssessRequest, assess};
pub use crawl::{
    CatalogueCrawl, CatalogueCrawlReport, CatalogueSummary, SiteCrawl, SiteCrawlReport, SiteSummary,
    UnitError, count_by_check, crawl_catalogues, has_website,
};
pub use probe::{ProbeRound, ProbeRow, ProbeSummary, jitter, probe_sites};
pub use progress::{JobState, Progress, ProgressSnapshot};
pub use queue::{DEFAULT_LEASE, SiteRequest, crawl_sites};
pub use worker::{WorkerOptions, WorkerReport, run_worker, worker_name};

use crate::model::{CityClock, OrgCode, Unit};
use crate::store::{Store, StoreError};

/// Why a job could not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The request itself is wrong (a date, a unit code, an empty registry); the message says
    /// what, in Chinese, for the person who asked.
    #[error("{0}")]
    BadInput(String),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The job broke part-way for a reason of its own (a queued request unreadable, a result
    /// that could not be serialised); the message is in Chinese.
    #[error("{0}")]
    Failed(String),
}

/// The day a crawl is "as of" and the instant its findings are stamped with: now, or noon
/// (Beijing time) of the given day so that a re-run for a past day is reproducible.
pub fn crawl_instant(raw: Option<&str>) -> Result<(NaiveDate, DateTime<Utc>), JobError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => {
            let now = Utc::now();
            Ok((CityClock::default().date_of(now), now))
        }
        Some(raw) => {
            let day = parse_day(raw)?;
            let noon = day
                .and_hms_opt(12, 0, 0)
                .and_then(|t| CityClock::default().instant(t))
                .ok_or_else(|| JobError::BadInput(format!("日期 {day} 超出范围")))?;
            Ok((day, noon))
        }
    }
}

/// The day an assessment is "as of" (default: today in China) and the instant that ends it:
/// evidence observed up to the end of that day counts.
pub fn assessment_cutoff(raw: Option<&str>) -> Result<(NaiveDate, DateTime<Utc>), JobError> {
    let day = match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => CityClock::default().today(),
        Some(raw) => parse_day(raw)?,
    };
    let end = day
        .succ_opt()
        .and_then(|next| CityClock::default().start_of(next))
        .map(|midnight| midnight - chrono::Duration::milliseconds(1))
        .ok_or_else(|| JobError::BadInput(format!("日期 {day} 超出范围")))?;
    Ok((day, end))
}

fn parse_day(raw: &str) -> Result<NaiveDate, JobError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| JobError::BadInput(format!("--as-of 日期“{raw}”无效，应为 YYYY-MM-DD")))
}

/// The registered units a job covers: all, or those named by code (each must be registered).
pub async fn select_units(store: &Store, codes: &[String]) -> Result<Vec<Unit>, JobError> {
    let all = store.units().await?;
    if all.is_empty() {
        return Err(JobError::BadInput("还没有登记任何单位；请先运行 gongkai units import".into()));
    }
    if codes.is_empty() {
        return Ok(all);
    }
    let mut by_code: HashMap<OrgCode, Unit> = all.into_iter().map(|u| (u.code.clone(), u)).collect();
    let mut selected: Vec<Unit> = Vec::new();
    for raw in codes {
        let code = OrgCode::parse(raw.trim())
            .map_err(|e| JobError::BadInput(format!("单位代码“{raw}”无效：{e}")))?;
        match by_code.remove(&code) {
            Some(unit) => selected.push(unit),
            None if selected.iter().any(|u| u.code == code) => {}
            None => return Err(JobError::BadInput(format!("未找到代码为 {code} 的单位"))),
        }
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crawl_of_a_past_day_is_stamped_at_noon_in_beijing() {
        let (day, at) = crawl_instant(Some("2026-11-20")).expect("valid");
        assert_eq!(day.to_string(), "2026-11-20");
        assert_eq!(at.to_rfc3339(), "2026-11-20T04:00:00+00:00");
        assert!(matches!(crawl_instant(Some("2026-13-01")), Err(JobError::BadInput(_))));
    }

    #[test]
    fn an_assessment_counts_evidence_until_the_end_of_the_day_in_beijing() {
        let (day, end) = assessment_cutoff(Some("2026-11-30")).expect("valid");
        assert_eq!(day.to_string(), "2026-11-30");
        assert_eq!(end.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "2026-11-30T15:59:59.999Z");
        assert!(matches!(assessment_cutoff(Some("30/11/2026")), Err(JobError::BadInput(_))));
    }
}
