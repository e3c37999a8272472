//! Publication dates as they appear on Chinese government pages (DESIGN.md §5): `2026-11-20`,
//! `2026/11/20`, `2026.11.20`, `2026年11月20日`, and yearless `[11-20]`, which is read as the
//! latest such day not after the as-of day. Freshness checks only need the dates, not the items
//! they belong to, so the scanner works on plain text and never fails: what is not a valid
//! calendar date is simply not a date.

use chrono::{Datelike, NaiveDate};

/// Years outside this range are page furniture (phone numbers, counters), not publication dates.
const MIN_YEAR: i32 = 1990;
const MAX_YEAR: i32 = 2100;

/// Every date found in `text`, in order of appearance. Yearless dates are resolved against
/// `as_of`.
pub fn find_dates(text: &str, as_of: NaiveDate) -> Vec<NaiveDate> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        if let Some((date, end)) = full_date(&chars, i) {
            found.push(date);
            i = end;
        } else if let Some((date, end)) = yearless_date(&chars, i, as_of) {
            found.push(date);
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

/// The newest date in `text` that is not after `as_of`. Dates after the as-of day cannot be
/// publication dates yet (they are forged, or event dates) and must not make a page look fresh.
pub fn newest_date(text: &str, as_of: NaiveDate) -> Option<NaiveDate> {
    find_dates(text, as_of).into_iter().filter(|d| *d <= as_of).max()
}

/// Reads a run of 1 to `max` ASCII digits at `i`; returns the number and the index after it.
fn number(chars: &[char], i: usize, max: usize) -> Option<(u32, usize)> {
    let mut end = i;
    while end < chars.len() && chars[end].is_ascii_digit() {
        end += 1;
    }
    if end == i || end - i > max {
        return None;
    }
    let value = chars[i..end].iter().collect::<String>().parse().ok()?;
    Some((value, end))
}

/// `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD` (same separator twice) or `YYYY年M月D日`.
fn full_date(chars: &[char], i: usize) -> Option<(NaiveDate, usize)> {
    let (year, after_year) = number(chars, i, 4)?;
    if after_year - i != 4 {
        return None;
    }
    let separator = *chars.get(after_year)?;
    let (month, after_month) = number(chars, after_year + 1, 2)?;
    let closing = match separator {
        '-' | '/' | '.' => separator,
        '年' => '月',
        _ => return None,
    };
    if *chars.get(after_month)? != closing {
        return None;
    }
    let (day, mut end) = number(chars, after_month + 1, 2)?;
    if separator == '年' {
        if chars.get(end) == Some(&'日') {
            end += 1;
        }
    } else if chars.get(end).is_some_and(|c| c.is_ascii_digit() || *c == separator) {
        return None;
    }
    let year = i32::try_from(year).ok().filter(|y| (MIN_YEAR..=MAX_YEAR).contains(y))?;
    Some((NaiveDate::from_ymd_opt(year, month, day)?, end))
}

/// `MM-DD` standing alone (optionally in brackets, as list pages print it): the latest such day
/// not after `as_of`.
fn yearless_date(chars: &[char], i: usize, as_of: NaiveDate) -> Option<(NaiveDate, usize)> {
    let (month, after_month) = number(chars, i, 2)?;
    if chars.get(after_month) != Some(&'-') {
        return None;
    }
    let (day, end) = number(chars, after_month + 1, 2)?;
    if end - after_month - 1 != 2 || after_month - i != 2 {
        return None;
    }
    // Part of something longer (`010-12345678`, `11-20-33`, `2026-11-20` split oddly).
    let before = i.checked_sub(1).and_then(|p| chars.get(p));
    if before.is_some_and(|c| matches!(c, '-' | '/' | '.' | ':')) {
        return None;
    }
    if chars.get(end).is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '/' | '.' | ':')) {
        return None;
    }
    let this_year = NaiveDate::from_ymd_opt(as_of.year(), month, day);
    let date = match this_year {
        Some(date) if date <= as_of => date,
        // Not yet this year (or 29 February of a common year): last year's, or the last leap
        // year's for 29 February.
        _ => (1..=8).find_map(|back| NaiveDate::from_ymd_opt(as_of.year() - back, month, day))?,
    };
    Some((date, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn every_standard_form_is_read() {
        let as_of = d(2026, 11, 28);
        for text in ["2026-11-20", "2026/11/20", "2026.11.20", "2026年11月20日", "[11-20]", "11-20"] {
            assert_eq!(find_dates(text, as_of), [d(2026, 11, 20)], "{text}");
        }
        assert_eq!(find_dates("发布时间：2026年3月5日 来源", as_of), [d(2026, 3, 5)]);
        assert_eq!(find_dates("2026-3-5", as_of), [d(2026, 3, 5)]);
    }

    #[test]
    fn yearless_dates_are_the_latest_not_after_as_of() {
        let as_of = d(2026, 11, 28);
        assert_eq!(find_dates("【11-28】", as_of), [d(2026, 11, 28)]);
        assert_eq!(find_dates("[12-01]", as_of), [d(2025, 12, 1)]);
        assert_eq!(find_dates("(02-29)", as_of), [d(2024, 2, 29)]);
    }

    #[test]
    fn non_dates_are_ignored() {
        let as_of = d(2026, 11, 28);
        for text in [
            "电话：0771-2801234",
            "2026-13-01",
            "2026-02-30",
            "12026-11-20",
            "版本 1.2.3",
            "13-45",
            "2026-11-20-1",
            "10:11-20",
            "1850-01-01",
        ] {
            assert!(find_dates(text, as_of).is_empty(), "{text} gave {:?}", find_dates(text, as_of));
        }
    }

    #[test]
    fn newest_skips_dates_after_as_of() {
        let as_of = d(2026, 11, 28);
        let text = "<li>2026-11-01</li><li>2027-01-01</li><li>2026/10/03</li>";
        assert_eq!(newest_date(text, as_of), Some(d(2026, 11, 1)));
        assert_eq!(newest_date("没有日期", as_of), None);
    }
}
