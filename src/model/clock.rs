//! The reference city's clock: what "today", "this day" and a shown time mean. Instants are
//! stored in UTC; days (as-of days, visit dates, deadlines) and the times people read are the
//! city's. The zone comes from the site profile (`crawlers/site.toml`, `[probe] time_zone`)
//! where one is at hand, and otherwise is [`CityClock::DEFAULT_ZONE`], the zone that profile
//! ships with.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Days and local times in one time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CityClock {
    zone: Tz,
}

impl Default for CityClock {
    fn default() -> Self {
        Self::new(Self::DEFAULT_ZONE)
    }
}

impl CityClock {
    /// Beijing time (Asia/Shanghai, UTC+8, no daylight saving): the zone of every Chinese
    /// government office, and the one `crawlers/site.toml` ships with.
    pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Shanghai;

    /// The clock of `zone`.
    pub const fn new(zone: Tz) -> Self {
        Self { zone }
    }

    /// The clock of an IANA zone name (`Asia/Shanghai`), or `None` if the name is unknown.
    pub fn named(name: &str) -> Option<Self> {
        name.parse().ok().map(Self::new)
    }

    /// The clock's time zone.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// Today in the city: what "not in the future" means for a date people write down.
    pub fn today(&self) -> NaiveDate {
        self.date_of(Utc::now())
    }

    /// The city's calendar day of an instant.
    pub fn date_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }

    /// An instant as the city's wall clock shows it.
    pub fn local(&self, at: DateTime<Utc>) -> DateTime<Tz> {
        at.with_timezone(&self.zone)
    }

    /// The instant of a wall-clock time in the city, if it exists and is unambiguous.
    pub fn instant(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        self.zone.from_local_datetime(&local).single().map(|t| t.with_timezone(&Utc))
    }

    /// The instant the city's `day` begins.
    pub fn start_of(&self, day: NaiveDate) -> Option<DateTime<Utc>> {
        self.instant(day.and_hms_opt(0, 0, 0)?)
    }

    /// `2026-11-30`, the city's day.
    pub fn format_date(&self, at: DateTime<Utc>) -> String {
        self.local(at).format("%Y-%m-%d").to_string()
    }

    /// `2026-11-30 09:05`, to the minute.
    pub fn format_minute(&self, at: DateTime<Utc>) -> String {
        self.local(at).format("%Y-%m-%d %H:%M").to_string()
    }

    /// `2026-11-30 09:05:07`, to the second.
    pub fn format_second(&self, at: DateTime<Utc>) -> String {
        self.local(at).format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 7).single().expect("valid instant")
    }

    #[test]
    fn beijing_days_begin_at_sixteen_utc_the_day_before() {
        let clock = CityClock::default();
        let late = utc(2026, 11, 29, 16, 5);
        assert_eq!(clock.date_of(late), NaiveDate::from_ymd_opt(2026, 11, 30).expect("date"));
        assert_eq!(
            clock.date_of(utc(2026, 11, 29, 15, 59)),
            NaiveDate::from_ymd_opt(2026, 11, 29).expect("date")
        );
        assert_eq!(clock.format_date(late), "2026-11-30");
        assert_eq!(clock.format_minute(late), "2026-11-30 00:05");
        assert_eq!(clock.format_second(late), "2026-11-30 00:05:07");
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
        assert_eq!(clock.start_of(day), Some(utc(2026, 11, 29, 16, 0) - chrono::Duration::seconds(7)));
    }

    #[test]
    fn another_zone_gives_another_day() {
        let london = CityClock::named("Europe/London").expect("known zone");
        let at = utc(2026, 11, 29, 16, 5);
        assert_eq!(london.format_date(at), "2026-11-29");
        assert_ne!(london.date_of(at), CityClock::default().date_of(at));
        assert_eq!(CityClock::named("Mars/Olympus"), None);
    }
}
