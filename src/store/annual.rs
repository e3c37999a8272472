//! The figures of the city's own annual report (issue #17), counted in the store for one
//! calendar year. Every figure is one SurrealQL statement kept here as text
//! ([`ANNUAL_QUERIES`]), so that the draft can print, next to each number, the query that
//! produced it, and a reader can run it again (`$from` / `$to`: the year's first instant and the
//! next year's, UTC).

use chrono::{DateTime, TimeZone, Utc};
use surrealdb::types::SurrealValue;

use super::{Store, StoreError, StoreResult};

/// One query of the draft: what it counts, in the report's words, and its SurrealQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AnnualQuery {
    /// A stable key the draft's numbers refer to.
    pub key: &'static str,
    /// What it counts, in Chinese.
    pub description: &'static str,
    /// The statement, with `$from` and `$to` bound to the year's bounds.
    pub surql: &'static str,
}

/// Units in the registry, by kind.
pub const UNITS_BY_KIND: AnnualQuery = AnnualQuery {
    key: "units_by_kind",
    description: "名录中的单位，按类型计数（当前名录）",
    surql: "SELECT kind, count() AS n FROM unit GROUP BY kind ORDER BY kind",
};

/// Catalogue entries the units dated in the year.
pub const CATALOGUE_ENTRIES: AnnualQuery = AnnualQuery {
    key: "catalogue_entries",
    description: "各单位公开目录中成文日期在本年度的条目数（最近一次目录抓取所见）",
    surql: "RETURN array::len((SELECT VALUE id FROM catalogue_entry WHERE created_on >= $from AND created_on < $to))",
};

/// Finished website crawls observed in the year.
pub const SITE_RUNS: AnnualQuery = AnnualQuery {
    key: "site_runs",
    description: "本年度完成的网站检查轮次",
    surql: "RETURN array::len((SELECT VALUE id FROM crawl_run WHERE kind = 'site' AND status = 'finished' \
            AND as_of >= $from AND as_of < $to))",
};

/// Units whose website one of those crawls checked.
pub const SITE_UNITS: AnnualQuery = AnnualQuery {
    key: "site_units",
    description: "本年度网站检查覆盖的单位数（去重）",
    surql: "RETURN array::len(array::distinct(array::flatten((SELECT VALUE units FROM crawl_run \
            WHERE kind = 'site' AND status = 'finished' AND as_of >= $from AND as_of < $to))))",
};

/// Catalogue crawls finished in the year.
pub const CATALOGUE_RUNS: AnnualQuery = AnnualQuery {
    key: "catalogue_runs",
    description: "本年度完成的公开目录检查轮次",
    surql: "RETURN array::len((SELECT VALUE id FROM crawl_run WHERE kind = 'catalogue' AND status = 'finished' \
            AND as_of >= $from AND as_of < $to))",
};

/// Assessment cycles whose as-of day falls in the year.
pub const CYCLES: AnnualQuery = AnnualQuery {
    key: "cycles",
    description: "本年度开展的考评（评估周期，按考评基准日）",
    surql: "SELECT cycle, ruleset_id, as_of, units FROM assessment WHERE as_of >= $from AND as_of < $to \
            ORDER BY as_of, cycle",
};

/// Units scored in one of those cycles.
pub const UNITS_ASSESSED: AnnualQuery = AnnualQuery {
    key: "units_assessed",
    description: "本年度参加考评的单位数（去重）",
    surql: "RETURN array::len(array::distinct((SELECT VALUE unit FROM score WHERE [cycle, generation] IN \
            (SELECT VALUE [cycle, generation] FROM assessment WHERE as_of >= $from AND as_of < $to))))",
};

/// Inspectors' visits in the year.
pub const VISITS: AnnualQuery = AnnualQuery {
    key: "visits",
    description: "本年度实地检查（含电话、书面检查）次数",
    surql: "RETURN array::len((SELECT VALUE id FROM visit WHERE date >= $from AND date < $to))",
};

/// Units visited in the year.
pub const UNITS_VISITED: AnnualQuery = AnnualQuery {
    key: "units_visited",
    description: "本年度检查组实地检查的单位数（去重）",
    surql: "RETURN array::len(array::distinct((SELECT VALUE unit FROM visit WHERE date >= $from AND date < $to)))",
};

/// Notifications published in the year.
pub const NOTICES: AnnualQuery = AnnualQuery {
    key: "notices",
    description: "本年度印发的通报（已发布，未撤回）",
    surql: "RETURN array::len((SELECT VALUE id FROM notification WHERE status = 'published' \
            AND published_at >= $from AND published_at < $to))",
};

/// Units named in those notifications.
pub const UNITS_NOTIFIED: AnnualQuery = AnnualQuery {
    key: "units_notified",
    description: "本年度通报点名的单位数（去重）",
    surql: "RETURN array::len(array::distinct((SELECT VALUE unit FROM notification_unit WHERE notification IN \
            (SELECT VALUE id FROM notification WHERE status = 'published' AND published_at >= $from \
            AND published_at < $to))))",
};

/// Findings put under those notifications' deadlines.
pub const NOTIFIED_FINDINGS: AnnualQuery = AnnualQuery {
    key: "notified_findings",
    description: "本年度通报限期整改的问题数",
    surql: "RETURN array::len((SELECT VALUE id FROM finding WHERE notification IN (SELECT VALUE id FROM notification \
            WHERE status = 'published' AND published_at >= $from AND published_at < $to)))",
};

/// Of those, closed without being flagged overdue.
pub const RECTIFIED_ON_TIME: AnnualQuery = AnnualQuery {
    key: "rectified_on_time",
    description: "其中按期整改到位（已关闭且未逾期）的问题数",
    surql: "RETURN array::len((SELECT VALUE id FROM finding WHERE status = 'closed' AND overdue_at = NONE \
            AND notification IN (SELECT VALUE id FROM notification WHERE status = 'published' \
            AND published_at >= $from AND published_at < $to)))",
};

/// Of those, flagged overdue by the recheck.
pub const OVERDUE: AnnualQuery = AnnualQuery {
    key: "overdue",
    description: "其中逾期未整改的问题数",
    surql: "RETURN array::len((SELECT VALUE id FROM finding WHERE overdue_at != NONE \
            AND notification IN (SELECT VALUE id FROM notification WHERE status = 'published' \
            AND published_at >= $from AND published_at < $to)))",
};

/// Current findings observed in the year, by check.
pub const FINDINGS_BY_CHECK: AnnualQuery = AnnualQuery {
    key: "findings_by_check",
    description: "本年度发现的问题条数（未被新一轮检查取代的），按检查项",
    surql: "SELECT check, count() AS n FROM finding WHERE observed_at >= $from AND observed_at < $to \
            AND superseded = false GROUP BY check ORDER BY check",
};

/// Units with a finding of a check observed in the year.
pub const UNITS_BY_CHECK: AnnualQuery = AnnualQuery {
    key: "units_by_check",
    description: "本年度存在该问题的单位数（去重），按检查项",
    surql: "SELECT check, count() AS n FROM (SELECT check, unit FROM finding WHERE observed_at >= $from \
            AND observed_at < $to GROUP BY check, unit) GROUP BY check ORDER BY check",
};

/// Which units had which problems in the year, for grouping them as the report does.
pub const CHECK_UNITS: AnnualQuery = AnnualQuery {
    key: "check_units",
    description: "本年度存在问题的单位及其检查项（去重）",
    surql: "SELECT check, unit FROM finding WHERE observed_at >= $from AND observed_at < $to \
            GROUP BY check, unit ORDER BY check, unit",
};

/// Which unit supervises which (the registry's parent codes).
pub const SUPERVISION: AnnualQuery = AnnualQuery {
    key: "supervision",
    description: "名录中的上下级关系（当前名录）",
    surql: "SELECT code, parent_code FROM unit WHERE parent_code != NONE ORDER BY code",
};

/// Every query of the draft, in the order [`Store::annual_figures`] runs them.
pub const ANNUAL_QUERIES: [AnnualQuery; 18] = [
    UNITS_BY_KIND,
    CATALOGUE_ENTRIES,
    SITE_RUNS,
    SITE_UNITS,
    CATALOGUE_RUNS,
    CYCLES,
    UNITS_ASSESSED,
    VISITS,
    UNITS_VISITED,
    NOTICES,
    UNITS_NOTIFIED,
    NOTIFIED_FINDINGS,
    RECTIFIED_ON_TIME,
    OVERDUE,
    FINDINGS_BY_CHECK,
    UNITS_BY_CHECK,
    CHECK_UNITS,
    SUPERVISION,
];

/// A count under a key (a unit kind or a check id).
#[derive(Debug, Clone, PartialEq, Eq, SurrealValue, serde::Serialize)]
pub struct KeyCount {
    /// The unit kind or check id.
    #[surreal(default)]
    pub kind: Option<String>,
    /// The check id (for the by-check queries).
    #[surreal(default)]
    pub check: Option<String>,
    /// How many.
    pub n: i64,
}

impl KeyCount {
    /// The key, whichever of the two it is.
    pub fn key(&self) -> &str {
        self.kind.as_deref().or(self.check.as_deref()).unwrap_or_default()
    }
}

/// One assessment cycle of the year.
#[derive(Debug, Clone, PartialEq, SurrealValue, serde::Serialize)]
pub struct AnnualCycle {
    /// The cycle's id.
    pub cycle: String,
    /// The rule set that scored it.
    pub ruleset_id: String,
    /// Its as-of instant.
    pub as_of: DateTime<Utc>,
    /// Units scored.
    pub units: i64,
}

/// What the store holds for one year, each field counted by the query of the same name.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AnnualFigures {
    /// The calendar year.
    pub year: i32,
    /// [`UNITS_BY_KIND`].
    pub units_by_kind: Vec<KeyCount>,
    /// [`CATALOGUE_ENTRIES`].
    pub catalogue_entries: i64,
    /// [`SITE_RUNS`].
    pub site_runs: i64,
    /// [`SITE_UNITS`].
    pub site_units: i64,
    /// [`CATALOGUE_RUNS`].
    pub catalogue_runs: i64,
    /// [`CYCLES`].
    pub cycles: Vec<AnnualCycle>,
    /// [`UNITS_ASSESSED`].
    pub units_assessed: i64,
    /// [`VISITS`].
    pub visits: i64,
    /// [`UNITS_VISITED`].
    pub units_visited: i64,
    /// [`NOTICES`].
    pub notices: i64,
    /// [`UNITS_NOTIFIED`].
    pub units_notified: i64,
    /// [`NOTIFIED_FINDINGS`].
    pub notified_findings: i64,
    /// [`RECTIFIED_ON_TIME`].
    pub rectified_on_time: i64,
    /// [`OVERDUE`].
    pub overdue: i64,
    /// [`FINDINGS_BY_CHECK`].
    pub findings_by_check: Vec<KeyCount>,
    /// [`UNITS_BY_CHECK`].
    pub units_by_check: Vec<KeyCount>,
    /// [`CHECK_UNITS`].
    pub check_units: Vec<CheckUnit>,
    /// [`SUPERVISION`].
    pub supervision: Vec<Supervision>,
}

/// A unit with a finding of a check in the year.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, SurrealValue)]
pub struct CheckUnit {
    /// The check id.
    pub check: String,
    /// The unit's code.
    pub unit: String,
}

/// A unit and the unit that supervises it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, SurrealValue)]
pub struct Supervision {
    /// The supervised unit's code.
    pub code: String,
    /// Its supervising unit's code.
    pub parent_code: String,
}

/// The first instant of `year` and of the next, UTC.
pub fn year_bounds(year: i32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = |y: i32| Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).single();
    Some((start(year)?, start(year.checked_add(1)?)?))
}

impl Store {
    /// Counts the figures of `year`'s annual report: every query of [`ANNUAL_QUERIES`] in one
    /// request (read-only; each statement sees the store as it is).
    pub async fn annual_figures(&self, year: i32) -> StoreResult<AnnualFigures> {
        let context = "统计年度报告数据";
        let (from, to) = year_bounds(year).ok_or_else(|| StoreError::Corrupt {
            context: "year",
            message: format!("年份 {year} 超出范围"),
        })?;
        let statements: Vec<&str> = ANNUAL_QUERIES.iter().map(|q| q.surql).collect();
        let mut response = self
            .db()
            .query(statements.join(";\n"))
            .bind(("from", from))
            .bind(("to", to))
            .await
            .map_err(StoreError::query(context))?;
        let mut int = |index: usize| -> StoreResult<i64> {
            let value: Option<i64> = response.take(index).map_err(StoreError::query(context))?;
            Ok(value.unwrap_or(0))
        };
        let catalogue_entries = int(1)?;
        let site_runs = int(2)?;
        let site_units = int(3)?;
        let catalogue_runs = int(4)?;
        let units_assessed = int(6)?;
        let visits = int(7)?;
        let units_visited = int(8)?;
        let notices = int(9)?;
        let units_notified = int(10)?;
        let notified_findings = int(11)?;
        let rectified_on_time = int(12)?;
        let overdue = int(13)?;
        let units_by_kind: Vec<KeyCount> = response.take(0).map_err(StoreError::query(context))?;
        let cycles: Vec<AnnualCycle> = response.take(5).map_err(StoreError::query(context))?;
        let findings_by_check: Vec<KeyCount> = response.take(14).map_err(StoreError::query(context))?;
        let units_by_check: Vec<KeyCount> = response.take(15).map_err(StoreError::query(context))?;
        let check_units: Vec<CheckUnit> = response.take(16).map_err(StoreError::query(context))?;
        let supervision: Vec<Supervision> = response.take(17).map_err(StoreError::query(context))?;
        Ok(AnnualFigures {
            year,
            units_by_kind,
            catalogue_entries,
            site_runs,
            site_units,
            catalogue_runs,
            cycles,
            units_assessed,
            visits,
            units_visited,
            notices,
            units_notified,
            notified_findings,
            rectified_on_time,
            overdue,
            findings_by_check,
            units_by_check,
            check_units,
            supervision,
        })
    }
}
