//! The probe job: one request to each unit's home page under the profile's timeout, stored as
//! availability samples, with the availability metrics recomputed from every sample in the
//! window (国办秘函〔2019〕19号: ≥ 20 samples a day for 7 days, veto at ≥ 5 % failures). Shared
//! by `gongkai probe` and the scheduler, which spreads the units over a window so that the
//! probes of 268 sites do not all leave at the same second.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{JobError, has_website};
use crate::crawl::availability::{ProbeSample, availability};
use crate::crawl::checks::CheckContext;
use crate::crawl::profile::SiteProfile;
use crate::crawl::site::{CrawlEnv, probe};
use crate::model::{CrawlKind, Finding, Metric, Unit};
use crate::store::{CrawlRunRecord, ProbeSampleRecord, Store};

/// A round of probes to run.
#[derive(Debug, Clone)]
pub struct ProbeRound {
    /// The site crawl profile; its `[probe]` table sets the timeout, retries and window.
    pub profile: SiteProfile,
    /// The units asked for; those without a website are skipped.
    pub units: Vec<Unit>,
    /// The day the round is as of (city clock).
    pub day: NaiveDate,
    /// The round's start instant, UTC; each unit's sample is stamped with it plus its offset.
    pub observed_at: DateTime<Utc>,
    /// Reach loopback and private addresses (tests, the demo, intranets).
    pub allow_private: bool,
    /// Spread the units over this long: each unit waits a fixed offset derived from its code
    /// (the same every round, so each unit is probed at its own minute). Zero: all at once.
    pub spread: Duration,
}

/// One unit's result; with the availability over the window so far.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeRow {
    /// The unit's credit code.
    pub unit: String,
    /// The unit's name.
    pub name: String,
    /// This round's probe succeeded.
    pub reachable: bool,
    /// Failed probes / probes over the window, to 4 decimal places (0.05 is the veto line); none before any sample.
    pub failure_ratio: Option<Decimal>,
    /// Days in the window with at least one probe (city time zone).
    pub probe_days: Option<u32>,
    /// Probes on the window's least-probed day.
    pub min_daily_probes: Option<u32>,
}

/// What a probe round recorded; the JSON `gongkai probe --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeSummary {
    /// The probe run's record key.
    pub run: String,
    /// Always `probe`.
    pub kind: &'static str,
    /// The day the round is as of, `YYYY-MM-DD`.
    pub as_of: String,
    /// Units probed (those with a website).
    pub sites: usize,
    /// Units whose probe failed this round; each is a `site.unreachable` finding.
    pub failed: usize,
    /// Each probed unit's result, in the order the units were asked for.
    pub units: Vec<ProbeRow>,
}

/// A unit's fixed offset within `spread`: the first 8 bytes of SHA-256 of its code.
pub fn jitter(code: &str, spread: Duration) -> Duration {
    let millis = spread.as_millis() as u64;
    if millis == 0 {
        return Duration::ZERO;
    }
    let digest = Sha256::digest(code.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    Duration::from_millis(u64::from_be_bytes(head) % millis)
}

/// Probes the units, stores one sample each, and records the run with the failures as
/// `site.unreachable` findings and the availability metrics computed from the stored samples.
pub async fn probe_sites(store: &Store, mut round: ProbeRound) -> Result<ProbeSummary, JobError> {
    // A probe is one request under the timeout; the profile's `[probe]` says how it differs
    // from a full crawl's fetch (by default: no retries, no search-engine fetch).
    round.profile.fetch.max_retries = round.profile.probe.max_retries;
    round.profile.spam.cloaking.enabled &= round.profile.probe.cloaking;
    let zone: Tz = round
        .profile
        .probe
        .time_zone
        .parse()
        .map_err(|_| JobError::BadInput("probe.time_zone 无效".into()))?;
    let window = chrono::Duration::days(i64::from(round.profile.probe.window_days));
    let units: Vec<Unit> = round.units.into_iter().filter(has_website).collect();
    let env = CrawlEnv::new(round.profile, round.allow_private, round.day, round.observed_at)
        .map_err(|e| JobError::BadInput(e.to_string()))?;
    let started_at = Utc::now();
    let mut tasks = tokio::task::JoinSet::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(env.fetcher.config().global_concurrency));
    for (index, unit) in units.iter().cloned().enumerate() {
        let (env, limit) = (env.clone(), limit.clone());
        let offset = jitter(unit.code.as_str(), round.spread);
        tasks.spawn(async move {
            tokio::time::sleep(offset).await;
            let _permit = limit.acquire_owned().await;
            let at = env.observed_at + chrono::Duration::from_std(offset).unwrap_or_default();
            let ctx = CheckContext { unit: &unit, as_of: env.as_of, observed_at: at, profile: &env.profile };
            (index, at, probe(&env.fetcher, &ctx).await)
        });
    }
    let mut results: Vec<(DateTime<Utc>, Option<Finding>)> = vec![(round.observed_at, None); units.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, at, finding)) = joined {
            results[index] = (at, finding);
        }
    }
    let samples: Vec<ProbeSampleRecord> = units
        .iter()
        .zip(&results)
        .map(|(unit, (at, failure))| ProbeSampleRecord {
            unit: unit.code.to_string(),
            at: *at,
            failed: failure.is_some(),
            error: failure.as_ref().map(failure_text),
        })
        .collect();
    let last = results.iter().map(|(at, _)| *at).max().unwrap_or(round.observed_at);
    let codes: Vec<String> = units.iter().map(|u| u.code.to_string()).collect();
    let mut earlier = store.probe_samples(&codes, last - window, last).await?;
    let mut rows = Vec::new();
    let mut metrics = Vec::new();
    for (unit, sample) in units.iter().zip(&samples) {
        let stored = earlier.remove(sample.unit.as_str()).unwrap_or_default();
        let mut window_samples: Vec<ProbeSample> =
            stored.iter().map(|s| ProbeSample { at: s.at, failed: s.failed }).collect();
        window_samples.push(ProbeSample { at: sample.at, failed: sample.failed });
        let found = availability(&window_samples, zone);
        if let Some(a) = found {
            let metric = |name: &str, value: Decimal| Metric {
                unit: unit.code.clone(),
                name: name.to_owned(),
                value,
                observed_at: round.observed_at,
            };
            metrics.push(metric("site.failure_ratio", a.failure_ratio));
            metrics.push(metric("site.probe_days", Decimal::from(a.probe_days)));
            metrics.push(metric("site.min_daily_probes", Decimal::from(a.min_daily_probes)));
        }
        rows.push(ProbeRow {
            unit: sample.unit.clone(),
            name: unit.name.clone(),
            reachable: !sample.failed,
            failure_ratio: found.map(|a| a.failure_ratio),
            probe_days: found.map(|a| a.probe_days),
            min_daily_probes: found.map(|a| a.min_daily_probes),
        });
    }
    let findings: Vec<Finding> = results.into_iter().filter_map(|(_, f)| f).collect();
    let record = CrawlRunRecord {
        kind: CrawlKind::Probe,
        as_of: round.observed_at,
        started_at,
        finished_at: Utc::now(),
        units: units.iter().map(|u| u.code.clone()).collect(),
        stats: serde_json::json!({ "sites": units.len(), "failed": findings.len() }),
    };
    let run = store.record_crawl_run(&record, &findings, &metrics).await?;
    store.record_probe_samples(&samples, Some(&run)).await?;
    Ok(ProbeSummary {
        run,
        kind: "probe",
        as_of: round.day.to_string(),
        sites: units.len(),
        failed: findings.len(),
        units: rows,
    })
}

/// What a failed probe's finding says went wrong, in one line.
fn failure_text(finding: &Finding) -> String {
    match (finding.detail.get("error"), finding.detail.get("status")) {
        (Some(error), _) => error.as_str().map(str::to_owned).unwrap_or_else(|| error.to_string()),
        (None, Some(status)) => format!("HTTP {status}"),
        (None, None) => "无法访问".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_fixed_per_unit_and_within_the_spread() {
        let spread = Duration::from_secs(3_000);
        let a = jitter("11450100MB1234567X", spread);
        assert_eq!(a, jitter("11450100MB1234567X", spread));
        assert!(a < spread);
        assert_ne!(a, jitter("11450100MB7654321Y", spread));
        assert_eq!(jitter("x", Duration::ZERO), Duration::ZERO);
    }
}
