//! Availability over the probe window (国办秘函〔2019〕19号: probed ≥ 20 times a day for 7 days,
//! veto at ≥ 5 % failures): the metrics `site.failure_ratio`, `site.probe_days` and
//! `site.min_daily_probes`, computed from the probe runs in the window. The rule set, not this
//! code, decides what the numbers mean.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

/// One probe of one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeSample {
    /// When the probe was made, UTC.
    pub at: DateTime<Utc>,
    /// The probe found the home page unreachable (it recorded `site.unreachable`).
    pub failed: bool,
}

/// The three availability metrics of one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Availability {
    /// Failed probes / probes, to 4 decimal places.
    pub failure_ratio: Decimal,
    /// Distinct days (in the profile's time zone) with at least one probe.
    pub probe_days: u32,
    /// Probes on the day with the fewest probes, among the days probed.
    pub min_daily_probes: u32,
}

/// `None` when there is no probe at all.
pub fn availability(samples: &[ProbeSample], zone: Tz) -> Option<Availability> {
    if samples.is_empty() {
        return None;
    }
    let mut per_day: BTreeMap<NaiveDate, u32> = BTreeMap::new();
    for sample in samples {
        *per_day.entry(sample.at.with_timezone(&zone).date_naive()).or_default() += 1;
    }
    let failed = samples.iter().filter(|s| s.failed).count();
    let ratio = Decimal::from(failed as u64) / Decimal::from(samples.len() as u64);
    Some(Availability {
        failure_ratio: ratio.round_dp(4).normalize(),
        probe_days: per_day.len() as u32,
        min_daily_probes: per_day.values().copied().min().unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).single().expect("valid time")
    }

    #[test]
    fn ratio_days_and_minimum_follow_the_samples() {
        let zone = crate::model::CityClock::DEFAULT_ZONE;
        let mut samples = Vec::new();
        for day in 1..=7 {
            for hour in 0..20 {
                samples.push(ProbeSample { at: at(day, hour % 15), failed: day == 3 && hour < 7 });
            }
        }
        let a = availability(&samples, zone).expect("samples");
        assert_eq!(a.probe_days, 7);
        assert_eq!(a.min_daily_probes, 20);
        assert_eq!(a.failure_ratio, Decimal::new(5, 2));
    }

    #[test]
    fn days_are_counted_in_the_local_time_zone() {
        let zone = crate::model::CityClock::DEFAULT_ZONE;
        // 15:00 and 17:00 UTC on the 1st are the 1st and the 2nd in Beijing.
        let samples =
            [ProbeSample { at: at(1, 15), failed: false }, ProbeSample { at: at(1, 17), failed: true }];
        let a = availability(&samples, zone).expect("samples");
        assert_eq!((a.probe_days, a.min_daily_probes), (2, 1));
        assert_eq!(a.failure_ratio, Decimal::new(5, 1));
        assert!(availability(&[], zone).is_none());
    }
}
