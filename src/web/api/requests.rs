//! The shapes of the API's request bodies, for the OpenAPI document.
//!
//! The handlers read bodies field by field through [`super::body::Fields`], which names the
//! field at fault in a 422 (`findings[0].check`) where serde would not; these types only
//! describe the same bodies. Each handler refuses fields outside the list beside its type here,
//! and a test checks that every list names exactly its type's documented properties.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;

use crate::model::RectificationAction;

/// The fields `POST /cycles/current` accepts.
pub(super) const SET_CURRENT_CYCLE: &[&str] = &["cycle"];
/// The fields `POST /findings/{id}/actions` accepts.
pub(super) const FINDING_ACTION: &[&str] = &["action", "note"];
/// The fields `POST /units/{code}/visits` accepts.
pub(super) const VISIT: &[&str] = &["date", "method", "note", "findings"];
/// The fields of one entry of a visit's `findings`.
pub(super) const VISIT_FINDING: &[&str] = &["check", "note", "rectify_by"];
/// The fields `POST /self-assessment` accepts.
pub(super) const SELF_ASSESSMENT: &[&str] = &["claims"];
/// The fields of one entry of `claims`.
pub(super) const CLAIM: &[&str] = &["item", "claimed", "note"];

/// Marks a cycle current.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "describes a body the handler reads field by field")]
pub(super) struct SetCurrentCycleRequest {
    /// 评估周期名称（见 GET /cycles）
    cycle: String,
}

/// One move of the rectification loop.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "describes a body the handler reads field by field")]
pub(super) struct FindingActionRequest {
    action: RectificationAction,
    /// 说明；申辩（dispute）时必填
    note: Option<String>,
}

/// A visit and the problems found on it.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "describes a body the handler reads field by field")]
pub(super) struct VisitRequest {
    /// 检查日期，不晚于今天
    date: NaiveDate,
    /// 现场检查、听取汇报、网站检查、电话督查，或 onsite、briefing、website、phone
    method: String,
    note: Option<String>,
    findings: Option<Vec<VisitFindingRequest>>,
}

/// One problem found on a visit.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "describes a body the handler reads field by field")]
pub(super) struct VisitFindingRequest {
    /// 检查项编号，如 column.stale 或规则集的 field.*
    check: String,
    note: Option<String>,
    /// 整改期限，晚于检查日期
    rectify_by: Option<NaiveDate>,
}

/// The unit's self-assessment: a claim replaces the unit's earlier claim for the same item.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "describes a body the handler reads field by field")]
pub(super) struct SelfAssessmentRequest {
    claims: Vec<ClaimRequest>,
}

/// One self-assessed item.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "describes a body the handler reads field by field")]
pub(super) struct ClaimRequest {
    /// 评分项目编号（见 GET /self-assessment）
    item: String,
    /// 自评分，0 到该项分值之间的精确小数；写成字符串可保留小数位
    claimed: Decimal,
    note: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use schemars::{JsonSchema, SchemaGenerator};

    use super::*;

    fn properties<T: JsonSchema>() -> BTreeSet<String> {
        let schema = SchemaGenerator::default().into_root_schema_for::<T>();
        schema.get("properties").and_then(|p| p.as_object()).expect("an object").keys().cloned().collect()
    }

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(std::string::ToString::to_string).collect()
    }

    /// A field the handler accepts but the document omits (or the reverse) fails here.
    #[test]
    fn each_handler_accepts_exactly_the_documented_fields() {
        assert_eq!(properties::<SetCurrentCycleRequest>(), names(SET_CURRENT_CYCLE));
        assert_eq!(properties::<FindingActionRequest>(), names(FINDING_ACTION));
        assert_eq!(properties::<VisitRequest>(), names(VISIT));
        assert_eq!(properties::<VisitFindingRequest>(), names(VISIT_FINDING));
        assert_eq!(properties::<SelfAssessmentRequest>(), names(SELF_ASSESSMENT));
        assert_eq!(properties::<ClaimRequest>(), names(CLAIM));
    }
}
