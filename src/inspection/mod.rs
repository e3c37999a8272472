//! Evidence that people bring in by hand: special inspectors' visits (with the findings they
//! observed) and units' self-assessments (DESIGN.md §1, §3).
//!
//! Like the units registry, every file is checked as a whole before anything is written, and
//! every problem is reported as `LINE:FIELD: message`; writing is the store's job
//! ([`crate::store::Store::record_visits`], [`crate::store::Store::record_self_assessment`]).

mod self_assessment;
mod visits;

pub use self_assessment::{ClaimRow, SelfAssessmentFile, read_self_assessment};
pub use visits::{
    PlannedVisit, RowRules, VisitContext, VisitKey, VisitMethod, VisitRow, VisitRowText, VisitsFile,
    check_problem, check_visit_row, read_visits,
};

/// The `unit` cell of a row: present, a valid code, and a registered unit. Both imports
/// refer to units by code and must never record evidence about a unit the office has not
/// registered.
fn registered_unit(
    raw: Option<&str>,
    units: &std::collections::HashSet<crate::model::OrgCode>,
) -> Result<crate::model::OrgCode, String> {
    let raw = raw.ok_or_else(|| "必填".to_string())?;
    let code = crate::model::OrgCode::parse(raw).map_err(|e| format!("“{raw}”：{e}"))?;
    if units.contains(&code) {
        Ok(code)
    } else {
        Err(format!("单位 {code} 未登记，请先用 gongkai units import 导入"))
    }
}
