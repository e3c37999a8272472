//! Recording an inspector's visit from the web form or the API: the same row checks as the
//! visits import (`crate::inspection::check_visit_row`), then one write of the visit, its
//! findings and the audit record.

use std::collections::HashSet;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::inspection::{PlannedVisit, RowRules, VisitMethod, VisitRowText, check_visit_row};
use crate::model::{CHECKS, CityClock, OrgCode};
use crate::rules::shipped;
use crate::store::{AuditEntry, Store};
use crate::web::error::WebError;
use crate::web::session::CurrentUser;

/// A visit as an inspector submits it. Dates are text (`YYYY-MM-DD`) so that a bad one is
/// refused with the field named rather than as an unreadable body.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct VisitInput {
    /// The day of the visit, `YYYY-MM-DD` (Beijing); not after today.
    pub date: String,
    /// One of the four methods, by Chinese name or English alias (`onsite`, `phone`, …).
    pub method: String,
    /// What the inspector noted about the visit as a whole.
    #[serde(default)]
    pub note: Option<String>,
    /// The problems observed, one row each; blank rows are ignored.
    #[serde(default)]
    pub findings: Vec<VisitFindingInput>,
}

/// One problem observed on the visit. A row whose fields are all blank is ignored (the form
/// offers more rows than most visits need).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct VisitFindingInput {
    /// The check id of the problem (a vocabulary check or a rule set's `field.*` check).
    #[serde(default)]
    pub check: String,
    /// What the inspector saw, kept as the finding's evidence.
    #[serde(default)]
    pub note: Option<String>,
    /// Rectification deadline, `YYYY-MM-DD`, after the visit date.
    #[serde(default)]
    pub rectify_by: Option<String>,
}

impl VisitFindingInput {
    fn is_blank(&self) -> bool {
        cell(Some(&self.check)).is_none()
            && cell(self.note.as_deref()).is_none()
            && cell(self.rectify_by.as_deref()).is_none()
    }
}

/// What was wrong with one field of a submitted visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisitProblem {
    /// The finding row (1-based, counting every submitted row), or `None` for the visit itself.
    pub finding: Option<usize>,
    /// The field's name in [`VisitInput`] / [`VisitFindingInput`].
    pub field: String,
    /// What is wrong, in Chinese.
    pub message: String,
}

impl fmt::Display for VisitProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = field_label(&self.field);
        match self.finding {
            Some(row) => write!(f, "第 {row} 条问题的{label}：{}", self.message),
            None => write!(f, "{label}：{}", self.message),
        }
    }
}

/// A visit refused for its content; every problem is listed, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct VisitRefused(pub Vec<VisitProblem>);

impl fmt::Display for VisitRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("；"))
    }
}

impl From<VisitRefused> for WebError {
    fn from(refused: VisitRefused) -> Self {
        WebError::BadRequest(refused.to_string())
    }
}

/// What a recorded visit wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RecordedVisit {
    /// The visited unit's credit code.
    pub unit: String,
    /// The inspector who recorded it (their user name).
    pub inspector: String,
    /// The inspector's group.
    pub group: Option<String>,
    /// The day of the visit.
    pub date: NaiveDate,
    /// The method's Chinese name (e.g. 现场检查).
    pub method: &'static str,
    /// Findings the visit recorded.
    pub findings: usize,
}

/// The Chinese name of a field, as problems name it.
fn field_label(field: &str) -> &str {
    match field {
        "date" => "检查日期",
        "method" => "检查方式",
        "note" => "说明",
        "check" => "检查项",
        "rectify_by" => "整改期限",
        "unit" => "单位",
        "inspector" => "监察员",
        "group" => "小组",
        other => other,
    }
}

/// A form cell as the import reads one: trimmed, empty is absent.
fn cell(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Records a visit by `user` (an inspector of the unit's group) on `unit`, with its findings
/// and the audit record, or refuses it with every problem named.
pub async fn record_visit(
    store: &Store,
    user: &CurrentUser,
    unit: &OrgCode,
    input: &VisitInput,
) -> Result<RecordedVisit, WebError> {
    Ok(try_record_visit(store, user, unit, input).await??)
}

/// [`record_visit`], keeping a refusal apart from other errors so that a form can show each
/// problem next to its field.
pub async fn try_record_visit(
    store: &Store,
    user: &CurrentUser,
    unit: &OrgCode,
    input: &VisitInput,
) -> Result<Result<RecordedVisit, VisitRefused>, WebError> {
    let visit = match plan_visit(store, user, unit, input).await? {
        Ok(visit) => visit,
        Err(refused) => return Ok(Err(refused)),
    };
    let audit = AuditEntry::new(&user.account.username, "visit.record").target(unit.to_string()).detail(
        serde_json::json!({
            "date": visit.key.date.to_string(),
            "method": visit.key.method.as_str(),
            "group": visit.group,
            "findings": visit.findings.len(),
        }),
    );
    let outcome = store.record_visits(std::slice::from_ref(&visit), audit).await?;
    Ok(Ok(RecordedVisit {
        unit: unit.to_string(),
        inspector: visit.key.inspector,
        group: visit.group,
        date: visit.key.date,
        method: visit.key.method.as_str(),
        findings: outcome.findings,
    }))
}

/// Checks a visit without writing it: who may record it, then every field.
pub async fn plan_visit(
    store: &Store,
    user: &CurrentUser,
    unit: &OrgCode,
    input: &VisitInput,
) -> Result<Result<PlannedVisit, VisitRefused>, WebError> {
    user.ensure_record_visit(store, unit).await?;
    let group = user.own_group()?.to_string();
    if store.unit(unit).await?.is_none() {
        return Err(WebError::NotFound);
    }
    let registered: HashSet<OrgCode> = HashSet::from([unit.clone()]);
    let rule_sets = shipped::rule_sets();
    let rules = RowRules { units: &registered, rules: &rule_sets, today: CityClock::default().today() };
    let code = unit.to_string();
    let visit_cells = VisitRowText {
        unit: Some(&code),
        inspector: Some(&user.account.username),
        group: Some(&group),
        date: cell(Some(&input.date)),
        method: cell(Some(&input.method)),
        ..VisitRowText::default()
    };

    let mut problems = Vec::new();
    let visit_row = check_visit_row(
        &VisitRowText { note: cell(input.note.as_deref()), ..visit_cells },
        rules,
        &mut |field: &str, message: String| {
            problems.push(VisitProblem { finding: None, field: field.to_string(), message });
        },
    );
    let mut findings = Vec::new();
    for (index, row) in input.findings.iter().enumerate() {
        if row.is_blank() {
            continue;
        }
        let number = index + 1;
        if cell(Some(&row.check)).is_none() {
            problems.push(VisitProblem {
                finding: Some(number),
                field: "check".into(),
                message: "请选择检查项（不记录这条问题时，请把这一行的说明和整改期限也清空）".into(),
            });
            continue;
        }
        let cells = VisitRowText {
            check: cell(Some(&row.check)),
            note: cell(row.note.as_deref()),
            rectify_by: cell(row.rectify_by.as_deref()),
            ..visit_cells
        };
        // Problems with the visit's own fields were reported once above.
        let checked = check_visit_row(&cells, rules, &mut |field: &str, message: String| {
            if matches!(field, "check" | "note" | "rectify_by") {
                problems.push(VisitProblem { finding: Some(number), field: field.to_string(), message });
            }
        });
        findings.extend(checked.and_then(|row| row.finding()));
    }
    let Some(visit_row) = visit_row else { return Ok(Err(VisitRefused(problems))) };
    if store.visit_keys().await?.contains(&visit_row.key) {
        problems.push(VisitProblem {
            finding: None,
            field: "date".into(),
            message: format!(
                "您在 {} 以“{}”方式检查该单位的记录已录入过，不能重复录入",
                visit_row.key.date, visit_row.key.method
            ),
        });
    }
    if !problems.is_empty() {
        return Ok(Err(VisitRefused(problems)));
    }
    Ok(Ok(PlannedVisit {
        key: visit_row.key,
        group: visit_row.group,
        note: visit_row.note,
        findings,
        line: 1,
    }))
}

/// A group of checks an inspector chooses from.
#[derive(Debug, Clone, Serialize)]
pub struct CheckGroup {
    /// The group's Chinese heading (a check category, or a rule set's title).
    pub label: String,
    /// The checks in the group, in vocabulary order.
    pub checks: Vec<CheckChoice>,
}

/// One check as an option of the `<select>`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckChoice {
    /// The check id, the option's value.
    pub id: String,
    /// The check's Chinese title, the option's text.
    pub title: String,
}

/// Every check a visit may record, grouped for a `<select>`: the vocabulary by category, then
/// each shipped rule set's own `field.*` checks (an id declared by several appears once).
pub fn check_choices() -> Vec<CheckGroup> {
    const CATEGORIES: &[(&str, &str)] = &[
        ("site", "网站可用性"),
        ("home", "首页"),
        ("column", "栏目"),
        ("link", "链接"),
        ("content", "内容安全"),
        ("identity", "网站标识"),
        ("report", "年度报告"),
        ("interaction", "互动交流"),
        ("catalogue", "政府信息公开目录"),
    ];
    let mut groups: Vec<CheckGroup> = Vec::new();
    for (prefix, label) in CATEGORIES {
        let checks: Vec<CheckChoice> = CHECKS
            .iter()
            .filter(|c| c.id.split('.').next() == Some(*prefix))
            .map(|c| CheckChoice { id: c.id.to_string(), title: c.title_zh.to_string() })
            .collect();
        if !checks.is_empty() {
            groups.push(CheckGroup { label: (*label).to_string(), checks });
        }
    }
    // Vocabulary checks a new category was added for without a label here still appear.
    let listed: HashSet<String> = groups.iter().flat_map(|g| g.checks.iter().map(|c| c.id.clone())).collect();
    let rest: Vec<CheckChoice> = CHECKS
        .iter()
        .filter(|c| !listed.contains(c.id))
        .map(|c| CheckChoice { id: c.id.to_string(), title: c.title_zh.to_string() })
        .collect();
    if !rest.is_empty() {
        groups.push(CheckGroup { label: "其他".into(), checks: rest });
    }
    let mut seen = HashSet::new();
    for shipped in shipped::shipped() {
        let checks: Vec<CheckChoice> = shipped
            .field_checks
            .iter()
            .filter(|c| seen.insert(c.id.clone()))
            .map(|c| CheckChoice { id: c.id.clone(), title: c.title.clone() })
            .collect();
        if !checks.is_empty() {
            groups.push(CheckGroup {
                label: format!("实地检查项 · {}", shipped.rule_set.title()), checks
            });
        }
    }
    groups
}

/// The four methods, as the form offers them.
pub fn methods() -> Vec<&'static str> {
    VisitMethod::ALL.iter().map(|m| m.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_the_row_and_the_field_in_chinese() {
        let refused = VisitRefused(vec![
            VisitProblem { finding: None, field: "date".into(), message: "必填".into() },
            VisitProblem {
                finding: Some(2),
                field: "check".into(),
                message: "“field.x”不是已知的检查项".into(),
            },
        ]);
        assert_eq!(refused.to_string(), "检查日期：必填；第 2 条问题的检查项：“field.x”不是已知的检查项");
    }

    #[test]
    fn every_vocabulary_and_shipped_field_check_is_offered_once() {
        let offered: Vec<String> =
            check_choices().into_iter().flat_map(|g| g.checks.into_iter().map(|c| c.id)).collect();
        let unique: HashSet<&String> = offered.iter().collect();
        assert_eq!(unique.len(), offered.len(), "no check is offered twice");
        assert!(CHECKS.iter().all(|c| offered.iter().any(|o| o == c.id)));
        assert!(
            offered.iter().any(|o| o == "field.no_staff")
                && offered.iter().any(|o| o == "field.search_unusable")
        );
    }
}
