//! Reading special inspectors' visit sheets (`unit,inspector,group,date,method,check,note,rectify_by`).
//!
//! One row is one finding observed on a visit; rows that share unit, inspector, date and
//! method are one visit. A row with an empty `check` records a visit that found nothing (its
//! note becomes the visit's note), so that clean visits count too. The file is refused as a
//! whole when any row is wrong.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::{NaiveDate, NaiveTime};

use crate::model::{Finding, FindingStatus, OrgCode, Source, check_info, is_check_id};
use crate::registry::{Rejected, RowProblem};
use crate::rules::RuleSet;
use crate::text::csv_table::Table;

const REQUIRED: [&str; 5] = ["unit", "inspector", "date", "method", "check"];
const OPTIONAL: [&str; 3] = ["group", "note", "rectify_by"];
const MAX_NAME_CHARS: usize = 50;
const MAX_NOTE_CHARS: usize = 2_000;

/// How an inspector surveyed a unit: the four ways the reference city's inspectors worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VisitMethod {
    /// 现场检查: the inspector went to the unit's office.
    OnSite,
    /// 听取汇报: the unit reported to the inspector.
    Briefing,
    /// 网站检查: the inspector examined the unit's website.
    Website,
    /// 电话督查: the inspector checked by telephone.
    Phone,
}

impl VisitMethod {
    /// Every method, in the order forms list them.
    pub const ALL: [VisitMethod; 4] =
        [VisitMethod::OnSite, VisitMethod::Briefing, VisitMethod::Website, VisitMethod::Phone];

    /// The name stored and shown (the schema's fixed set).
    pub fn as_str(self) -> &'static str {
        match self {
            VisitMethod::OnSite => "现场检查",
            VisitMethod::Briefing => "听取汇报",
            VisitMethod::Website => "网站检查",
            VisitMethod::Phone => "电话督查",
        }
    }

    /// The English alias accepted in files typed without a Chinese input method.
    pub fn alias(self) -> &'static str {
        match self {
            VisitMethod::OnSite => "onsite",
            VisitMethod::Briefing => "briefing",
            VisitMethod::Website => "website",
            VisitMethod::Phone => "phone",
        }
    }

    /// A method from a cell: its Chinese name or its English alias (any case); `None` for anything else.
    pub fn parse(raw: &str) -> Option<VisitMethod> {
        Self::ALL.into_iter().find(|m| m.as_str() == raw || m.alias().eq_ignore_ascii_case(raw))
    }
}

impl fmt::Display for VisitMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What makes rows one visit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VisitKey {
    /// The unit visited.
    pub unit: OrgCode,
    /// The inspector's name, as written in the sheet (at most 50 characters).
    pub inspector: String,
    /// The day of the visit (no later than the import's today).
    pub date: NaiveDate,
    /// How the unit was surveyed.
    pub method: VisitMethod,
}

/// A visit ready to be written, with the findings observed on it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedVisit {
    /// Unit, inspector, day and method: what makes it one visit.
    pub key: VisitKey,
    /// The inspector group (督查组), if the sheet names one; every row of a visit must agree.
    pub group: Option<String>,
    /// The notes of the visit's rows that found nothing, joined with "；".
    pub note: Option<String>,
    /// One finding per row that names a check, observed by the inspector on the visit's day.
    pub findings: Vec<Finding>,
    /// The first line of the file that belongs to this visit.
    pub line: u64,
}

/// What the rows are checked against besides themselves.
#[derive(Debug, Clone, Copy)]
pub struct VisitContext<'a> {
    /// Registered units.
    pub units: &'a HashSet<OrgCode>,
    /// Visits already stored: importing the same sheet twice must not double its findings.
    pub existing: &'a HashSet<VisitKey>,
    /// When given, `field.*` checks must be declared in this rule set.
    pub rules: Option<&'a RuleSet>,
    /// No visit can have happened after this day.
    pub today: NaiveDate,
}

/// A visits file that passed every check.
#[derive(Debug, Clone)]
pub struct VisitsFile {
    /// The visits, in the order of their first row.
    pub visits: Vec<PlannedVisit>,
    /// The encoding the file was read as (e.g. `UTF-8`, `GBK`), reported back to the importer.
    pub encoding: &'static str,
}

impl VisitsFile {
    /// How many findings all the visits record together.
    pub fn finding_count(&self) -> usize {
        self.visits.iter().map(|v| v.findings.len()).sum()
    }
}

/// One row's cells as text, as a CSV line or a web form gives them: trimmed, and `None` where
/// the cell is empty.
#[derive(Debug, Clone, Copy, Default)]
pub struct VisitRowText<'a> {
    /// The unit's credit code.
    pub unit: Option<&'a str>,
    /// The inspector's name.
    pub inspector: Option<&'a str>,
    /// The inspector group.
    pub group: Option<&'a str>,
    /// The visit's date, `YYYY-MM-DD`.
    pub date: Option<&'a str>,
    /// The method: Chinese name or English alias.
    pub method: Option<&'a str>,
    /// The check id observed; empty for a visit that found nothing.
    pub check: Option<&'a str>,
    /// Free text about the finding or the visit, at most 2,000 characters.
    pub note: Option<&'a str>,
    /// The rectification deadline the inspector set, `YYYY-MM-DD`, later than the visit.
    pub rectify_by: Option<&'a str>,
}

/// What one row is checked against: the registry, the rule sets whose `field.*` checks may be
/// used (none: any well-formed `field.*` id), and the day no visit can be later than.
#[derive(Debug, Clone, Copy)]
pub struct RowRules<'a> {
    /// Registered units: a row's unit must be one of them.
    pub units: &'a HashSet<OrgCode>,
    /// Rule sets whose `field.*` checks a row may name; empty: any well-formed `field.*` id.
    pub rules: &'a [&'a RuleSet],
    /// No visit can be later than this day.
    pub today: NaiveDate,
}

/// One row after its own checks.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRow {
    /// Unit, inspector, day and method.
    pub key: VisitKey,
    /// The inspector group, if given.
    pub group: Option<String>,
    /// The row's note, if given.
    pub note: Option<String>,
    /// The check id observed; `None` for a visit that found nothing.
    pub check: Option<String>,
    /// The rectification deadline the inspector set, if any.
    pub rectify_by: Option<NaiveDate>,
}

impl VisitRow {
    /// The finding this row records, or `None` for a row that found nothing.
    pub fn finding(&self) -> Option<Finding> {
        let check = self.check.clone()?;
        Some(Finding {
            id: None,
            unit: self.key.unit.clone(),
            check,
            source: Source::Inspector,
            observed_at: self.key.date.and_time(NaiveTime::MIN).and_utc(),
            url: None,
            detail: serde_json::json!({
                "inspector": self.key.inspector,
                "group": self.group,
                "method": self.key.method.as_str(),
                "note": self.note,
            }),
            status: FindingStatus::Open,
            rectify_by: self.rectify_by,
        })
    }
}

/// Parses and checks a visits file against the registry (and a rule set). Either every row
/// is valid and the visits are returned, or every problem is.
pub fn read_visits(bytes: &[u8], context: VisitContext<'_>) -> Result<VisitsFile, Rejected> {
    let table = Table::read(bytes, &REQUIRED, &OPTIONAL)?;
    let mut problems = table.problems.clone();
    let mut visits: Vec<PlannedVisit> = Vec::new();
    let mut visit_of: HashMap<VisitKey, usize> = HashMap::new();

    let rules = RowRules { units: context.units, rules: context.rules.as_slice(), today: context.today };
    for (line, record) in &table.rows {
        let line = *line;
        let cells = VisitRowText {
            unit: table.get(record, "unit"),
            inspector: table.get(record, "inspector"),
            group: table.get(record, "group"),
            date: table.get(record, "date"),
            method: table.get(record, "method"),
            check: table.get(record, "check"),
            note: table.get(record, "note"),
            rectify_by: table.get(record, "rectify_by"),
        };
        let mut problem = |field: &str, message: String| problems.push(RowProblem::new(line, field, message));
        let Some(row) = check_visit_row(&cells, rules, &mut problem) else { continue };
        if context.existing.contains(&row.key) {
            problems.push(RowProblem::new(
                line,
                "visit",
                format!(
                    "该次检查（{} {} {} {}）已导入过，不能重复导入",
                    row.key.unit, row.key.inspector, row.key.date, row.key.method
                ),
            ));
            continue;
        }
        let index = *visit_of.entry(row.key.clone()).or_insert_with(|| {
            visits.push(PlannedVisit {
                key: row.key.clone(),
                group: row.group.clone(),
                note: None,
                findings: Vec::new(),
                line,
            });
            visits.len() - 1
        });
        let visit = &mut visits[index];
        if visit.group != row.group {
            problems.push(RowProblem::new(
                line,
                "group",
                format!(
                    "与同一次检查的第 {} 行不一致（{}）",
                    visit.line,
                    visit.group.as_deref().unwrap_or("未填写")
                ),
            ));
            continue;
        }
        match row.finding() {
            None => {
                if let Some(note) = row.note {
                    visit.note = Some(match visit.note.take() {
                        Some(earlier) => format!("{earlier}；{note}"),
                        None => note,
                    });
                }
            }
            Some(finding) => visit.findings.push(finding),
        }
    }
    if visits.is_empty() && problems.is_empty() {
        problems.push(RowProblem::new(2, "row", "文件中没有检查记录"));
    }
    if problems.is_empty() {
        Ok(VisitsFile { visits, encoding: table.encoding })
    } else {
        Err(Rejected::sorted(problems))
    }
}

/// Checks every field of one row, reporting each problem by field name; `None` when any was
/// found. Shared by the visits import and the inspectors' web form, so both accept exactly the
/// same visits.
pub fn check_visit_row(
    cells: &VisitRowText<'_>,
    context: RowRules<'_>,
    problem: &mut impl FnMut(&str, String),
) -> Option<VisitRow> {
    let mut found = false;
    let mut problem = |field: &str, message: String| {
        found = true;
        problem(field, message);
    };

    let unit = super::registered_unit(cells.unit, context.units).map_err(|m| problem("unit", m)).ok();
    let inspector = text(cells.inspector, MAX_NAME_CHARS, true, "inspector", &mut problem);
    let group = text(cells.group, MAX_NAME_CHARS, false, "group", &mut problem);
    let date = match cells.date {
        None => {
            problem("date", "必填".into());
            None
        }
        Some(raw) => match parse_date(raw) {
            Err(message) => {
                problem("date", message);
                None
            }
            Ok(date) if date > context.today => {
                problem("date", format!("检查日期 {date} 晚于今天（{}）", context.today));
                None
            }
            Ok(date) => Some(date),
        },
    };
    let method = match cells.method {
        None => {
            problem("method", "必填".into());
            None
        }
        Some(raw) => VisitMethod::parse(raw).or_else(|| {
            let names: Vec<&str> = VisitMethod::ALL.iter().map(|m| m.as_str()).collect();
            problem("method", format!("“{raw}”不是有效的检查方式；应为 {} 之一", names.join("、")));
            None
        }),
    };
    let check = cells.check.and_then(|raw| match check_problem(raw, context.rules) {
        Some(message) => {
            problem("check", message);
            None
        }
        None => Some(raw.to_string()),
    });
    let note = text(cells.note, MAX_NOTE_CHARS, false, "note", &mut problem);
    let rectify_by = match cells.rectify_by {
        None => None,
        Some(_) if cells.check.is_none() => {
            problem("rectify_by", "未填写检查项（没有发现问题）的行不应填写整改期限".into());
            None
        }
        Some(raw) => match parse_date(raw) {
            Err(message) => {
                problem("rectify_by", message);
                None
            }
            Ok(due) if date.is_some_and(|d| due <= d) => {
                problem("rectify_by", format!("整改期限 {due} 应晚于检查日期"));
                None
            }
            Ok(due) => Some(due),
        },
    };

    if found {
        return None;
    }
    Some(VisitRow {
        key: VisitKey { unit: unit?, inspector: inspector?, date: date?, method: method? },
        group,
        note,
        check,
        rectify_by,
    })
}

/// Why a check id cannot be used, if it cannot: it must be in the vocabulary, or a `field.*`
/// id declared by one of `rules` (any well-formed one when no rule set is given).
pub fn check_problem(raw: &str, rules: &[&RuleSet]) -> Option<String> {
    if check_info(raw).is_some() {
        return None;
    }
    if !raw.starts_with("field.") || !is_check_id(raw) {
        return Some(format!(
            "“{raw}”不是已知的检查项；应为通用检查项（如 column.stale）或规则集定义的 field.* 检查项"
        ));
    }
    if rules.is_empty() || rules.iter().any(|rules| rules.check_title(raw).is_some()) {
        return None;
    }
    let named: Vec<String> = rules.iter().map(|r| format!("{}（{}）", r.id(), r.version())).collect();
    Some(format!("检查项“{raw}”未在规则集 {} 中声明", named.join("、")))
}

/// A strict `YYYY-MM-DD` date (chrono alone would also take `2026-1-5`).
pub(super) fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    let shaped = raw.len() == 10
        && raw
            .bytes()
            .enumerate()
            .all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if !shaped {
        return Err(format!("“{raw}”不是 YYYY-MM-DD 格式的日期"));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| format!("“{raw}”不是有效的日期"))
}

/// A free-text field, trimmed by the reader, length-checked.
fn text(
    value: Option<&str>,
    max_chars: usize,
    required: bool,
    field: &str,
    problem: &mut impl FnMut(&str, String),
) -> Option<String> {
    match value {
        None if required => {
            problem(field, "必填".into());
            None
        }
        None => None,
        Some(v) if v.chars().count() > max_chars => {
            problem(field, format!("过长（超过 {max_chars} 个字符）"));
            None
        }
        Some(v) => Some(v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(n: u32) -> OrgCode {
        crate::model::synthetic_credit_code("450100", n).expect("valid code")
    }

    fn read(csv: &str, units: &[OrgCode], existing: &[VisitKey]) -> Result<VisitsFile, Rejected> {
        let units: HashSet<OrgCode> = units.iter().cloned().collect();
        let existing: HashSet<VisitKey> = existing.iter().cloned().collect();
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).expect("date");
        read_visits(csv.as_bytes(), VisitContext { units: &units, existing: &existing, rules: None, today })
    }

    const HEADER: &str = "unit,inspector,group,date,method,check,note,rectify_by\n";

    #[test]
    fn rows_sharing_unit_inspector_date_and_method_are_one_visit() {
        let a = code(1);
        let csv = format!(
            "{HEADER}{a},李明,第一组,2026-11-02,现场检查,field.no_staff,无专人,2026-12-31\n\
             {a},李明,第一组,2026-11-02,onsite,column.stale,,\n\
             {a},李明,第一组,2026-11-03,电话督查,,电话无人接听,\n"
        );
        let file = read(&csv, std::slice::from_ref(&a), &[]).expect("valid");
        assert_eq!(file.visits.len(), 2);
        assert_eq!(file.finding_count(), 2);
        assert_eq!(file.visits[0].findings[0].rectify_by, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(file.visits[0].findings[1].detail["method"], "现场检查");
        assert!(file.visits[1].findings.is_empty());
        assert_eq!(file.visits[1].note.as_deref(), Some("电话无人接听"));
    }

    #[test]
    fn every_problem_names_its_line_and_field() {
        let a = code(1);
        let b = code(2);
        let csv = format!(
            "{HEADER}{b},李明,,2026-11-02,现场检查,field.no_staff,,\n\
             {a},李明,,2026/11/02,现场检查,field.no_staff,,\n\
             {a},李明,,2099-01-01,现场检查,field.no_staff,,\n\
             {a},李明,,2026-11-02,上门,field.no_staff,,\n\
             {a},李明,,2026-11-02,现场检查,site.nonsense,,\n\
             {a},李明,,2026-11-02,现场检查,field.no_staff,,2026-11-01\n\
             {a},李明,,2026-11-02,现场检查,field.no_staff,,\n\
             {a},李明,第二组,2026-11-02,现场检查,column.stale,,\n\
             {a},李明,,2026-11-02,现场检查,,,2026-12-01\n"
        );
        let rejected = read(&csv, std::slice::from_ref(&a), &[]).expect_err("refused");
        let places: Vec<String> = rejected.0.iter().map(|p| format!("{}:{}", p.line, p.field)).collect();
        assert_eq!(
            places,
            ["2:unit", "3:date", "4:date", "5:method", "6:check", "7:rectify_by", "9:group", "10:rectify_by"]
        );
    }

    #[test]
    fn a_visit_already_stored_is_refused() {
        let a = code(1);
        let key = VisitKey {
            unit: a.clone(),
            inspector: "李明".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"),
            method: VisitMethod::OnSite,
        };
        let csv = format!("{HEADER}{a},李明,,2026-11-02,现场检查,field.no_staff,,\n");
        let rejected = read(&csv, std::slice::from_ref(&a), &[key]).expect_err("refused");
        assert_eq!(rejected.0[0].field, "visit");
    }
}
