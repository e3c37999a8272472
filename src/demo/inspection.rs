//! Evidence brought in by hand in the demo city: special inspectors' visits in four groups, with
//! the `field.*` problems they pointed out and rectification deadlines, and units'
//! self-assessments — some of them claiming more than the inspectors could verify.
//!
//! Built from the city plan, so that inspectors find fault mostly where the crawler does too:
//! the troubled units get most visits and findings, a few healthy units get a clean visit.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde_json::json;

use super::plan::{Availability, CityPlan, Era};
use crate::inspection::{ClaimRow, PlannedVisit, VisitKey, VisitMethod};
use crate::model::{CityClock, Finding, FindingStatus, OrgCode, SelfClaim, Source, Unit, UnitKind};

/// The inspector groups, each with its two inspectors.
pub const GROUPS: [(&str, [&str; 2]); 4] = [
    ("第一组", ["李明", "张华"]),
    ("第二组", ["王芳", "陈静"]),
    ("第三组", ["刘洋", "赵磊"]),
    ("第四组", ["黄丽", "周强"]),
];

/// Troubled and healthy units visited.
const TROUBLED_VISITED: usize = 26;
const HEALTHY_VISITED: usize = 14;
/// Units that submit a self-assessment without having been visited.
const SELF_ONLY: usize = 20;

/// The `field.*` checks inspectors record, with the note an inspector would write. Every id is
/// declared in one of the shipped rule sets (a test checks it).
pub(super) const FIELD_NOTES: [(&str, &str); 13] = [
    ("field.no_staff", "信息公开工作由办公室人员兼管，未明确专人负责"),
    ("field.system_missing", "未建立保密审查制度"),
    ("field.paper_docs_late", "第三季度纸质文件未按时报送"),
    ("field.guide_missing", "公开指南仍为旧版，未按新条例更新"),
    ("field.proactive_item_missing", "部门预算、决算未按规定时间公开"),
    ("field.catalogue_entry_late", "公开目录数据录入滞后一个月以上"),
    ("field.catalogue_nonstandard", "公开目录条目索引号、发布机构填写不规范"),
    ("field.application_no_channel", "未设立依申请公开受理窗口"),
    ("field.application_late", "一件依申请公开答复超过法定期限"),
    ("field.application_no_register", "依申请公开未建立登记台账"),
    ("field.complaint_unhandled", "群众举报投诉未按规定答复"),
    ("field.no_appraisal", "本年度未开展社会评议"),
    ("field.no_accountability", "未建立信息公开责任追究制度"),
];
const NOT_STARTED: (&str, &str) = ("field.not_started", "网站和公开目录均无法访问，信息公开工作尚未启动");
const SEARCH_UNUSABLE: (&str, &str) = ("field.search_unusable", "网站站内搜索无法使用");

/// Self-assessment items: the city rule set's indicators and their points, with the points each
/// `field.*` check costs there — what an honest unit deducts from its own claim.
/// (item id, points, [(field check, points it costs)]).
type SelfAssessmentItem = (&'static str, u32, &'static [(&'static str, u32)]);

const ITEMS: [SelfAssessmentItem; 4] = [
    (
        "organisation",
        20,
        &[("field.no_staff", 10), ("field.system_missing", 3), ("field.paper_docs_late", 5)],
    ),
    (
        "proactive",
        40,
        &[
            ("field.guide_missing", 5),
            ("field.proactive_item_missing", 2),
            ("field.catalogue_entry_late", 3),
            ("field.catalogue_nonstandard", 1),
        ],
    ),
    (
        "application",
        20,
        &[
            ("field.application_no_channel", 10),
            ("field.application_late", 2),
            ("field.application_no_register", 3),
        ],
    ),
    (
        "supervision",
        20,
        &[("field.complaint_unhandled", 5), ("field.no_appraisal", 5), ("field.no_accountability", 5)],
    ),
];

/// The hand-made evidence of the demo city.
#[derive(Debug, Clone)]
pub(super) struct Inspection {
    pub visits: Vec<PlannedVisit>,
    /// Each group with the units it visited (and is assigned), in group order.
    pub assignments: Vec<(String, Vec<OrgCode>)>,
    pub claims: Vec<ClaimRow>,
    /// A department the first group visited and found problems at: the demo unit account's.
    pub demo_unit: OrgCode,
}

/// Why the inspection could not be planned: only when the city has no unit to visit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("演示城市中没有可供检查的单位")]
pub struct NothingToInspect;

/// Plans the visits (between `first_day` and `last_day`) and self-assessments (submitted the
/// week before `last_day`) for `units` under `plan`.
pub(super) fn plan_inspection(
    units: &[Unit],
    plan: &CityPlan,
    first_day: NaiveDate,
    last_day: NaiveDate,
) -> Result<Inspection, NothingToInspect> {
    let visited = visited_units(units, plan);
    let demo_unit = visited.first().map(|&u| units[u].code.clone()).ok_or(NothingToInspect)?;
    let span = (last_day - first_day).num_days().max(1) as u64;
    let mut visits = Vec::new();
    let mut assignments: Vec<(String, Vec<OrgCode>)> =
        GROUPS.iter().map(|(group, _)| ((*group).to_owned(), Vec::new())).collect();
    let mut claims = Vec::new();
    for (i, &unit) in visited.iter().enumerate() {
        let (group, inspectors) = GROUPS[i % GROUPS.len()];
        let inspector = inspectors[(i / GROUPS.len()) % inspectors.len()];
        let code = &units[unit].code;
        assignments[i % GROUPS.len()].1.push(code.clone());
        let day = first_day + Days::new(i as u64 * span / visited.len().max(1) as u64);
        let method = VisitMethod::ALL[i % VisitMethod::ALL.len()];
        let troubled = plan.troubled().contains(&unit);
        let checks = field_checks(i, unit, plan, method, troubled);
        let findings: Vec<Finding> = checks
            .iter()
            .enumerate()
            .map(|(n, (check, note))| {
                let rectify_by = day + Days::new(if (i + n) % 2 == 0 { 30 } else { 60 });
                finding(code, check, note, day, group, inspector, method, rectify_by)
            })
            .collect();
        let note = findings.is_empty().then(|| "检查未发现问题".to_owned());
        visits.push(visit(code, inspector, group, day, method, note, findings));
        // Troubled units get a telephone follow-up ten days later.
        let follow_up = day + Days::new(10);
        if troubled && follow_up <= last_day && method != VisitMethod::Phone {
            let note = Some("电话回访：整改正在推进".to_owned());
            visits.push(visit(code, inspector, group, follow_up, VisitMethod::Phone, note, Vec::new()));
        }
        let over_claims = troubled && !checks.is_empty() && i % 3 != 2;
        claims.extend(self_claims(code, &checks, over_claims, i, last_day));
    }
    let self_only = plan.healthy().iter().filter(|u| !visited.contains(u)).take(SELF_ONLY);
    for (i, &unit) in self_only.enumerate() {
        claims.extend(self_claims(&units[unit].code, &[], false, i, last_day));
    }
    Ok(Inspection { visits, assignments, claims, demo_unit })
}

/// The units visited, in visiting order: first a department with problems (the demo unit's,
/// visited by the first group), then a unit that has not started (visited by the second group),
/// then other troubled units and a few healthy ones.
fn visited_units(units: &[Unit], plan: &CityPlan) -> Vec<usize> {
    let current = |u: usize| plan.state(Era::Current, u);
    let demo = plan.troubled().iter().copied().find(|&u| {
        let state = current(u);
        units[u].kind == UnitKind::Department
            && units[u].catalogue_url.is_some()
            && state.availability == Availability::Up
            && state.site.spam.is_none()
            && !state.site.stale_home
            && state.site != Default::default()
    });
    let not_started =
        plan.troubled().iter().copied().find(|&u| current(u).availability == Availability::Failing);
    let mut visited: Vec<usize> = demo.into_iter().chain(not_started).collect();
    let others: Vec<usize> = plan.troubled().iter().copied().filter(|u| !visited.contains(u)).collect();
    let wanted = TROUBLED_VISITED.saturating_sub(visited.len());
    visited.extend(others.into_iter().take(wanted));
    visited.extend(plan.healthy().iter().copied().take(HEALTHY_VISITED));
    visited
}

/// The problems an inspector records on the `i`-th visit.
fn field_checks(
    i: usize,
    unit: usize,
    plan: &CityPlan,
    method: VisitMethod,
    troubled: bool,
) -> Vec<(&'static str, &'static str)> {
    if i == 0 {
        return vec![FIELD_NOTES[0], FIELD_NOTES[6], FIELD_NOTES[2]];
    }
    if plan.state(Era::Current, unit).availability == Availability::Failing {
        return vec![NOT_STARTED, FIELD_NOTES[0]];
    }
    if !troubled {
        return if i.is_multiple_of(3) { vec![FIELD_NOTES[11]] } else { Vec::new() };
    }
    let count = 1 + i % 3;
    let mut checks: Vec<(&str, &str)> =
        (0..count).map(|n| FIELD_NOTES[(i * 5 + n * 4) % FIELD_NOTES.len()]).collect();
    checks.dedup();
    if method == VisitMethod::Website && i.is_multiple_of(2) {
        checks.push(SEARCH_UNUSABLE);
    }
    checks
}

#[allow(clippy::too_many_arguments)]
fn finding(
    unit: &OrgCode,
    check: &str,
    note: &str,
    day: NaiveDate,
    group: &str,
    inspector: &str,
    method: VisitMethod,
    rectify_by: NaiveDate,
) -> Finding {
    Finding {
        id: None,
        unit: unit.clone(),
        check: check.to_owned(),
        source: Source::Inspector,
        observed_at: day.and_time(NaiveTime::MIN).and_utc(),
        url: None,
        detail: json!({ "inspector": inspector, "group": group, "method": method.as_str(), "note": note }),
        status: FindingStatus::Open,
        rectify_by: Some(rectify_by),
    }
}

fn visit(
    unit: &OrgCode,
    inspector: &str,
    group: &str,
    date: NaiveDate,
    method: VisitMethod,
    note: Option<String>,
    findings: Vec<Finding>,
) -> PlannedVisit {
    PlannedVisit {
        key: VisitKey { unit: unit.clone(), inspector: inspector.to_owned(), date, method },
        group: Some(group.to_owned()),
        note,
        findings,
        line: 0,
    }
}

/// A unit's four claims. An honest unit deducts what the inspectors found; an over-claiming
/// one claims full points regardless.
fn self_claims(
    unit: &OrgCode,
    checks: &[(&str, &str)],
    over_claims: bool,
    i: usize,
    last_day: NaiveDate,
) -> Vec<ClaimRow> {
    let submitted = submitted_at(last_day, i);
    ITEMS
        .iter()
        .map(|(item, points, costs)| {
            let lost: u32 = if over_claims {
                0
            } else {
                let found: u32 = costs
                    .iter()
                    .filter(|(check, _)| checks.iter().any(|(c, _)| c == check))
                    .map(|(_, p)| p)
                    .sum();
                found.min(*points)
            };
            // Honest units also shave a little off for what they know is not perfect.
            let modesty = if over_claims { Decimal::ZERO } else { Decimal::new(((i % 3) * 5) as i64, 1) };
            let claimed = (Decimal::from(points - lost) - modesty).max(Decimal::ZERO);
            let note =
                (*item == "proactive" && i.is_multiple_of(4)).then(|| "已按新条例更新公开指南".to_owned());
            ClaimRow {
                line: 0,
                claim: SelfClaim { unit: unit.clone(), item: (*item).to_owned(), claimed, note },
                submitted_at: submitted,
            }
        })
        .collect()
}

/// Submission times spread over the week before `last_day`, in office hours (Beijing time).
fn submitted_at(last_day: NaiveDate, i: usize) -> DateTime<Utc> {
    let day = last_day - Days::new(1 + (i % 7) as u64);
    let time = NaiveTime::from_hms_opt(9 + (i % 8) as u32, 30, 0).unwrap_or(NaiveTime::MIN);
    let local = day.and_time(time);
    CityClock::default().instant(local).unwrap_or_else(|| local.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::city::registry_units;
    use crate::rules::RuleSet;

    fn inspection() -> (Vec<Unit>, Inspection) {
        let units = registry_units().expect("units");
        let plan = crate::demo::new_plan(&units).expect("plan");
        let first = NaiveDate::from_ymd_opt(2026, 9, 1).expect("date");
        let last = NaiveDate::from_ymd_opt(2026, 11, 19).expect("date");
        let inspection = plan_inspection(&units, &plan, first, last).expect("inspection");
        (units, inspection)
    }

    #[test]
    fn every_field_check_is_declared_in_a_shipped_rule_set() {
        let city = RuleSet::parse(crate::demo::CITY_RULES.text, "city").expect("city rules");
        let website = RuleSet::parse(crate::demo::WEBSITE_RULES.text, "website").expect("website rules");
        let (_, inspection) = inspection();
        for finding in inspection.visits.iter().flat_map(|v| &v.findings) {
            assert!(
                city.check_title(&finding.check).is_some() || website.check_title(&finding.check).is_some(),
                "{} is not declared",
                finding.check
            );
        }
    }

    #[test]
    fn forty_units_in_four_groups_and_sixty_self_assessments() {
        let (_, inspection) = inspection();
        let visited: usize = inspection.assignments.iter().map(|(_, units)| units.len()).sum();
        assert_eq!(visited, TROUBLED_VISITED + HEALTHY_VISITED);
        assert!(inspection.assignments.iter().all(|(_, units)| units.len() == visited / 4));
        let claimants: std::collections::BTreeSet<&OrgCode> =
            inspection.claims.iter().map(|c| &c.claim.unit).collect();
        assert_eq!(claimants.len(), visited + SELF_ONLY);
        assert!(inspection.visits.iter().all(|v| v.findings.iter().all(|f| f.rectify_by > Some(v.key.date))));
    }

    #[test]
    fn the_demo_unit_is_visited_by_the_first_group_and_has_findings() {
        let (_, inspection) = inspection();
        assert!(inspection.assignments[0].1.contains(&inspection.demo_unit));
        let findings = inspection
            .visits
            .iter()
            .filter(|v| v.key.unit == inspection.demo_unit)
            .flat_map(|v| &v.findings)
            .count();
        assert!(findings >= 2);
    }
}
