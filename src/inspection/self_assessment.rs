//! Reading a unit self-assessment sheet (`unit,item,claimed,note[,submitted_at]`).
//!
//! `claimed` is read as an exact decimal from its text — never through a float — so that the
//! `12.30` a unit typed is the `12.30` the rule engine compares and the explanation shows.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveTime, Utc};
use rust_decimal::Decimal;

use super::visits::parse_date;
use crate::model::{OrgCode, SelfClaim};
use crate::registry::{Rejected, RowProblem};
use crate::text::csv_table::Table;

const REQUIRED: [&str; 3] = ["unit", "item", "claimed"];
const OPTIONAL: [&str; 2] = ["note", "submitted_at"];
const MAX_ITEM_CHARS: usize = 100;
const MAX_NOTE_CHARS: usize = 2_000;

/// One claim with the line it came from and when it was submitted.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRow {
    /// The line of the sheet the claim came from.
    pub line: u64,
    /// The claim: unit, item, points, note.
    pub claim: SelfClaim,
    /// When the unit submitted it: the row's `submitted_at`, or the import time.
    pub submitted_at: DateTime<Utc>,
}

/// A self-assessment file that passed every check.
#[derive(Debug, Clone)]
pub struct SelfAssessmentFile {
    /// The claims, in line order.
    pub claims: Vec<ClaimRow>,
    /// The encoding the file was read as (e.g. `UTF-8`, `GBK`).
    pub encoding: &'static str,
}

impl SelfAssessmentFile {
    /// How many distinct units submitted claims.
    pub fn unit_count(&self) -> usize {
        self.claims.iter().map(|c| &c.claim.unit).collect::<HashSet<_>>().len()
    }
}

/// Parses and checks a self-assessment file against the registered units. `now` is the
/// submission time of rows without `submitted_at`, and the latest one allowed.
pub fn read_self_assessment(
    bytes: &[u8],
    units: &HashSet<OrgCode>,
    now: DateTime<Utc>,
) -> Result<SelfAssessmentFile, Rejected> {
    let table = Table::read(bytes, &REQUIRED, &OPTIONAL)?;
    let mut problems = table.problems.clone();
    let mut claims = Vec::new();
    let mut first_line_of: HashMap<(OrgCode, String), u64> = HashMap::new();

    for (line, record) in &table.rows {
        let line = *line;
        let before = problems.len();
        let mut problem = |field: &str, message: String| problems.push(RowProblem::new(line, field, message));

        let unit =
            super::registered_unit(table.get(record, "unit"), units).map_err(|m| problem("unit", m)).ok();
        let item = match table.get(record, "item") {
            None => {
                problem("item", "必填".into());
                None
            }
            Some(raw) if raw.chars().count() > MAX_ITEM_CHARS => {
                problem("item", format!("过长（超过 {MAX_ITEM_CHARS} 个字符）"));
                None
            }
            Some(raw) => Some(raw.to_string()),
        };
        let claimed = match table.get(record, "claimed") {
            None => {
                problem("claimed", "必填".into());
                None
            }
            Some(raw) => parse_claimed(raw).map_err(|m| problem("claimed", m)).ok(),
        };
        let note = match table.get(record, "note") {
            Some(raw) if raw.chars().count() > MAX_NOTE_CHARS => {
                problem("note", format!("过长（超过 {MAX_NOTE_CHARS} 个字符）"));
                None
            }
            other => other.map(str::to_string),
        };
        let submitted_at = match table.get(record, "submitted_at") {
            None => Some(now),
            Some(raw) => match parse_instant(raw) {
                Err(message) => {
                    problem("submitted_at", message);
                    None
                }
                Ok(at) if at > now => {
                    problem("submitted_at", format!("提交时间 {raw} 晚于现在"));
                    None
                }
                Ok(at) => Some(at),
            },
        };

        if problems.len() > before {
            continue;
        }
        let (Some(unit), Some(item), Some(claimed), Some(submitted_at)) = (unit, item, claimed, submitted_at)
        else {
            continue;
        };
        if let Some(first) = first_line_of.get(&(unit.clone(), item.clone())) {
            problems.push(RowProblem::new(
                line,
                "item",
                format!("单位 {unit} 的自评项“{item}”与第 {first} 行重复"),
            ));
            continue;
        }
        first_line_of.insert((unit.clone(), item.clone()), line);
        claims.push(ClaimRow { line, claim: SelfClaim { unit, item, claimed, note }, submitted_at });
    }
    if claims.is_empty() && problems.is_empty() {
        problems.push(RowProblem::new(2, "row", "文件中没有自评记录"));
    }
    if problems.is_empty() {
        Ok(SelfAssessmentFile { claims, encoding: table.encoding })
    } else {
        Err(Rejected::sorted(problems))
    }
}

/// A non-negative decimal written in plain digits (`12.30`, `0`, `5.5`), kept at the scale
/// it was written with.
fn parse_claimed(raw: &str) -> Result<Decimal, String> {
    let plain = raw.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+');
    let value = if plain { Decimal::from_str_exact(raw).ok() } else { None };
    match value {
        None => Err(format!("“{raw}”不是有效的数值（应写作 12.5 这样的十进制数）")),
        Some(v) if v.is_sign_negative() && !v.is_zero() => Err(format!("自评分 {raw} 不能为负数")),
        Some(v) => Ok(v),
    }
}

/// `YYYY-MM-DD` (that day, 00:00 UTC, as visit dates are read) or an RFC 3339 time.
fn parse_instant(raw: &str) -> Result<DateTime<Utc>, String> {
    if raw.len() == 10 {
        return parse_date(raw).map(|d| d.and_time(NaiveTime::MIN).and_utc());
    }
    DateTime::parse_from_rfc3339(raw).map(|t| t.with_timezone(&Utc)).map_err(|_| {
        format!("“{raw}”不是有效的时间；应为 YYYY-MM-DD 或 2026-11-20T09:30:00+08:00 这样的格式")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(csv: &str, units: &[OrgCode]) -> Result<SelfAssessmentFile, Rejected> {
        let units: HashSet<OrgCode> = units.iter().cloned().collect();
        let now = DateTime::parse_from_rfc3339("2026-11-28T08:00:00Z").expect("time").with_timezone(&Utc);
        read_self_assessment(csv.as_bytes(), &units, now)
    }

    fn code(n: u32) -> OrgCode {
        crate::model::synthetic_credit_code("450100", n).expect("valid code")
    }

    #[test]
    fn claims_keep_the_scale_they_were_written_with() {
        let a = code(1);
        let csv = format!("unit,item,claimed,note\n{a},guide,12.30,指南已更新\n{a},catalogue,0,\n");
        let file = read(&csv, std::slice::from_ref(&a)).expect("valid");
        assert_eq!(file.claims[0].claim.claimed.to_string(), "12.30");
        assert_eq!(file.claims[1].claim.claimed, Decimal::ZERO);
        assert_eq!(file.unit_count(), 1);
    }

    #[test]
    fn bad_rows_are_refused_with_line_and_field() {
        let a = code(1);
        let csv = format!(
            "unit,item,claimed,note,submitted_at\n\
             {a},guide,-1,,\n\
             {a},,3,,\n\
             {a},report,1e2,,\n\
             {a},report,2,,2099-01-01\n\
             {a},staff,2,,\n\
             {a},staff,3,,\n\
             {},staff,3,,\n",
            code(2)
        );
        let rejected = read(&csv, std::slice::from_ref(&a)).expect_err("refused");
        let places: Vec<String> = rejected.0.iter().map(|p| format!("{}:{}", p.line, p.field)).collect();
        assert_eq!(places, ["2:claimed", "3:item", "4:claimed", "5:submitted_at", "7:item", "8:unit"]);
    }
}
