//! The update-gap profile of a catalogue ("抓一阵停一阵", on-and-off work): monthly entry counts
//! over a window, the longest silence, and how bursty the counts are. Exact decimals only.

use chrono::{Datelike, NaiveDate};
use rust_decimal::prelude::MathematicalOps;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// Decimal places kept for ratios.
const SCALE: u32 = 4;

/// A unit's cadence as of a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cadence {
    /// `(YYYY-MM, entries created that month)`, oldest month first, ending with the as-of month.
    pub monthly: Vec<(String, u32)>,
    /// Entries dated within the window.
    pub total: u32,
    /// Months of the window with at least one entry.
    pub active_months: u32,
    /// The longest run of days without a new entry inside the window, counting the silence up
    /// to the as-of day; the whole window when nothing was published in it.
    pub longest_gap_days: i64,
    /// Coefficient of variation of the monthly counts (population standard deviation ÷ mean):
    /// 0 for a perfectly even publisher; about √months when everything came in one month.
    /// `None` when the window holds no entry.
    pub burstiness: Option<Decimal>,
    /// The busiest month's share of the window's entries (0–1). `None` without entries.
    pub max_month_share: Option<Decimal>,
    /// The newest entry date not after the as-of day, anywhere in time.
    pub newest: Option<NaiveDate>,
    /// Days from `newest` to the as-of day; `None` without any entry.
    pub days_since_newest: Option<i64>,
}

/// The first day of the month `back` months before `day`'s month.
fn month_start(day: NaiveDate, back: u32) -> NaiveDate {
    let index = day.year() * 12 + day.month0() as i32 - back as i32;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1).unwrap_or(day)
}

/// Computes the cadence of entries dated `dates` over the `months` months ending with `as_of`'s
/// month. Dates after `as_of` are ignored (they cannot have been published yet).
pub fn cadence(dates: &[NaiveDate], as_of: NaiveDate, months: u32) -> Cadence {
    let months = months.max(1);
    let start = month_start(as_of, months - 1);
    let mut counts = vec![0u32; months as usize];
    let mut in_window: Vec<NaiveDate> = Vec::new();
    for date in dates.iter().copied().filter(|d| *d >= start && *d <= as_of) {
        let index = (date.year() - start.year()) * 12 + date.month0() as i32 - start.month0() as i32;
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| counts.get_mut(i)) {
            *slot += 1;
            in_window.push(date);
        }
    }
    in_window.sort_unstable();
    in_window.dedup();
    let longest_gap_days = match (in_window.first(), in_window.last()) {
        (Some(_), Some(last)) => {
            let between = in_window.windows(2).map(|w| (w[1] - w[0]).num_days()).max().unwrap_or(0);
            between.max((as_of - *last).num_days())
        }
        _ => (as_of - start).num_days() + 1,
    };
    let total: u32 = counts.iter().sum();
    let (burstiness, max_month_share) = if total == 0 {
        (None, None)
    } else {
        let n = Decimal::from(months);
        let mean = Decimal::from(total) / n;
        let variance = counts
            .iter()
            .map(|c| {
                let d = Decimal::from(*c) - mean;
                d * d
            })
            .sum::<Decimal>()
            / n;
        let cv = variance.sqrt().map(|sd| round(sd / mean));
        let max = counts.iter().copied().max().unwrap_or(0);
        (cv, Some(round(Decimal::from(max) / Decimal::from(total))))
    };
    let newest = dates.iter().copied().filter(|d| *d <= as_of).max();
    Cadence {
        monthly: counts.iter().enumerate().map(|(i, c)| (month_label(start, i as u32), *c)).collect(),
        total,
        active_months: counts.iter().filter(|c| **c > 0).count() as u32,
        longest_gap_days,
        burstiness,
        max_month_share,
        newest,
        days_since_newest: newest.map(|d| (as_of - d).num_days()),
    }
}

fn month_label(start: NaiveDate, forward: u32) -> String {
    let index = start.year() * 12 + start.month0() as i32 + forward as i32;
    format!("{:04}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1)
}

fn round(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(SCALE, RoundingStrategy::MidpointNearestEven).normalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn months_are_counted_oldest_first_and_ending_with_the_as_of_month() {
        let as_of = day(2026, 3, 15);
        let dates = [day(2026, 3, 1), day(2026, 3, 10), day(2025, 4, 30), day(2025, 3, 31), day(2026, 4, 1)];
        let c = cadence(&dates, as_of, 12);
        assert_eq!(c.monthly.len(), 12);
        assert_eq!(c.monthly[0], ("2025-04".to_owned(), 1));
        assert_eq!(c.monthly[11], ("2026-03".to_owned(), 2));
        assert_eq!(c.total, 3, "before the window and after the as-of day are not counted");
        assert_eq!(c.active_months, 2);
        assert_eq!(c.newest, Some(day(2026, 3, 10)));
        assert_eq!(c.days_since_newest, Some(5));
        assert_eq!(c.longest_gap_days, (day(2026, 3, 1) - day(2025, 4, 30)).num_days());
    }

    #[test]
    fn steady_and_bursty_publishers_with_equal_totals_differ() {
        let as_of = day(2026, 12, 31);
        // Steady: 2 entries in each of 24 months. Bursty: 24 entries in two months.
        let mut steady = Vec::new();
        for i in 0..24 {
            let first = month_start(as_of, i);
            steady.push(first);
            steady.push(first + chrono::Days::new(14));
        }
        let mut bursty = Vec::new();
        for d in 1..=24 {
            bursty.push(day(2025, 1, d));
            bursty.push(day(2026, 1, d));
        }
        let s = cadence(&steady, as_of, 24);
        let b = cadence(&bursty, as_of, 24);
        assert_eq!(s.total, 48);
        assert_eq!(b.total, 48);
        assert_eq!(s.burstiness, Some(Decimal::ZERO));
        // Two months of 24 among 24 months: mean 2, sd = sqrt((2·22² + 22·2²)/24) = sqrt(44).
        assert_eq!(b.burstiness, Some(round(dec!(44).sqrt().expect("sqrt") / dec!(2))));
        assert_eq!(s.max_month_share, Some(dec!(0.0417)));
        assert_eq!(b.max_month_share, Some(dec!(0.5)));
        assert!(s.longest_gap_days <= 17, "{}", s.longest_gap_days);
        assert_eq!(b.longest_gap_days, (day(2026, 1, 1) - day(2025, 1, 24)).num_days());
        assert_eq!(s.active_months, 24);
        assert_eq!(b.active_months, 2);
    }

    #[test]
    fn an_empty_window_is_one_long_gap() {
        let as_of = day(2026, 6, 30);
        let c = cadence(&[day(2020, 1, 1)], as_of, 24);
        assert_eq!(c.total, 0);
        assert_eq!(c.burstiness, None);
        assert_eq!(c.longest_gap_days, (as_of - day(2024, 7, 1)).num_days() + 1);
        assert_eq!(c.newest, Some(day(2020, 1, 1)));
    }
}
