//! A unit's self-assessment from the web: one claim per item of the current cycle's rule set,
//! each an exact decimal between 0 and the item's points.

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::inspection::ClaimRow;
use crate::model::{OrgCode, SelfClaim};
use crate::rules::shipped::{self, ShippedRuleSet};
use crate::store::{AuditEntry, SelfAssessmentOutcome, Store};
use crate::web::error::WebError;
use crate::web::session::CurrentUser;

/// The longest note on a claim, as in the self-assessment import.
const MAX_NOTE_CHARS: usize = 2_000;

/// One claim as a form or an API body gives it. `claimed` is kept as text and read as an exact
/// decimal; a JSON number is taken by its literal. A blank claim means "not claimed".
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ClaimInput {
    /// The rule set's item (indicator) id the claim is for.
    pub item: String,
    /// The points claimed, as written: plain digits and a point (e.g. `12.5`), at most the item's points.
    #[serde(deserialize_with = "text_or_number")]
    pub claimed: String,
    /// The unit's remark on the claim (at most 2,000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

fn text_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Claimed {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(match Claimed::deserialize(deserializer)? {
        Claimed::Text(text) => text,
        Claimed::Number(number) => number.to_string(),
    })
}

/// What was wrong with one claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimProblem {
    /// The item's id, or `None` for the submission as a whole.
    pub item: Option<String>,
    /// What is wrong, in Chinese, naming the item.
    pub message: String,
}

/// A self-assessment refused for its content; every problem is listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ClaimsRefused(pub Vec<ClaimProblem>);

impl fmt::Display for ClaimsRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = self.0.iter().map(|p| p.message.as_str()).collect();
        f.write_str(&parts.join("；"))
    }
}

impl From<ClaimsRefused> for WebError {
    fn from(refused: ClaimsRefused) -> Self {
        WebError::BadRequest(refused.to_string())
    }
}

/// One item of the sheet a unit fills in.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SheetItem {
    /// The item's id in the rule set.
    pub id: String,
    /// The item's Chinese title.
    pub title: String,
    /// The item's points: the most a unit may claim for it.
    pub points: Decimal,
    /// Points the unit was granted for the item in the current cycle, when it was scored.
    pub earned: Option<Decimal>,
    /// The unit's latest claim for the item.
    pub claimed: Option<Decimal>,
    /// The remark on the latest claim.
    pub note: Option<String>,
    /// When the latest claim was submitted, UTC.
    pub submitted_at: Option<DateTime<Utc>>,
}

/// The current cycle's self-assessment sheet for one unit.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SelfAssessmentSheet {
    /// The current cycle's name.
    pub cycle: String,
    /// The cycle's rule set id.
    pub rule_set: String,
    /// The rule set's Chinese title.
    pub rule_set_title: String,
    /// The rule set's version as written in its file.
    pub rule_set_version: String,
    /// The unit's total in the current cycle, when it was scored.
    pub score: Option<Decimal>,
    /// The title of the veto item that failed the unit in the current cycle (then no item
    /// earned points).
    pub veto: Option<String>,
    /// Every item the unit may claim points for, in rule-set order.
    pub items: Vec<SheetItem>,
}

/// The shipped rule set of the current cycle, or why there is none to assess against.
async fn current_rules(store: &Store) -> Result<(String, &'static ShippedRuleSet), WebError> {
    let cycle = store
        .current_cycle()
        .await?
        .ok_or_else(|| WebError::bad("还没有评估周期，暂不能提交自评；请等待公开办开展评估"))?;
    let shipped = shipped::find(&cycle.ruleset_id, cycle.ruleset_version.as_deref()).ok_or_else(|| {
        WebError::bad(format!(
            "当前评估周期“{}”使用的规则集 {} 不是系统内置的规则集，暂不能在线自评；请联系公开办",
            cycle.cycle, cycle.ruleset_id
        ))
    })?;
    Ok((cycle.cycle, shipped))
}

/// The first node of an explanation tree (stored as JSON) with this kind and id.
fn find_node<'a>(node: &'a serde_json::Value, kind: &str, id: &str) -> Option<&'a serde_json::Value> {
    if node["kind"] == kind && node["id"] == id {
        return Some(node);
    }
    node["children"].as_array()?.iter().find_map(|child| find_node(child, kind, id))
}

fn node_label(explanation: &serde_json::Value, kind: &str, id: &str) -> Option<String> {
    find_node(&explanation["root"], kind, id).and_then(|n| n["label"].as_str()).map(str::to_string)
}

/// Points granted for `item` in an explanation tree: the self-claim node where the rule set
/// scores self-assessment, else the indicator node.
fn earned(explanation: &serde_json::Value, item: &str) -> Option<Decimal> {
    let root = &explanation["root"];
    let node = find_node(root, "self_claim", item).or_else(|| find_node(root, "indicator", item))?;
    match &node["score"] {
        serde_json::Value::String(text) => Decimal::from_str_exact(text).ok(),
        serde_json::Value::Number(number) => Decimal::from_str_exact(&number.to_string()).ok(),
        _ => None,
    }
}

/// The sheet `unit` fills in: the current cycle's items with their points, the unit's earned
/// points in that cycle and its latest claims.
pub async fn self_assessment_sheet(store: &Store, unit: &OrgCode) -> Result<SelfAssessmentSheet, WebError> {
    let (cycle, shipped) = current_rules(store).await?;
    let explanation = store.explanation(&cycle, unit.as_str()).await?;
    let score = store.unit_score(&cycle, unit).await?;
    let claims = store.self_claims_for(unit).await?;
    let items = shipped
        .items
        .iter()
        .map(|item| {
            // Claims come newest first within an item.
            let latest = claims.iter().find(|c| c.claim.item == item.id);
            SheetItem {
                id: item.id.clone(),
                title: item.title.clone(),
                points: item.points,
                earned: explanation.as_ref().and_then(|e| earned(e, &item.id)),
                claimed: latest.map(|c| c.claim.claimed),
                note: latest.and_then(|c| c.claim.note.clone()),
                submitted_at: latest.map(|c| c.submitted_at),
            }
        })
        .collect();
    Ok(SelfAssessmentSheet {
        cycle,
        rule_set: shipped.rule_set.id().to_string(),
        rule_set_title: shipped.rule_set.title().to_string(),
        rule_set_version: shipped.rule_set.version().to_string(),
        score: score.as_ref().map(|s| s.score),
        veto: score
            .and_then(|s| s.veto)
            .map(|veto| explanation.as_ref().and_then(|e| node_label(e, "veto", &veto)).unwrap_or(veto)),
        items,
    })
}

/// A non-negative decimal in plain digits, kept at the scale it was written with.
fn parse_claimed(raw: &str) -> Option<Decimal> {
    let plain = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if plain { Decimal::from_str_exact(raw).ok() } else { None }
}

/// Submits `user`'s (a unit account's) claims, replacing its earlier claims for the same
/// items, or refuses them with every problem named.
pub async fn submit_self_assessment(
    store: &Store,
    user: &CurrentUser,
    claims: &[ClaimInput],
) -> Result<SelfAssessmentOutcome, WebError> {
    Ok(try_submit_self_assessment(store, user, claims).await??)
}

/// [`submit_self_assessment`], keeping a refusal apart so that a form can show each problem
/// next to its item.
pub async fn try_submit_self_assessment(
    store: &Store,
    user: &CurrentUser,
    claims: &[ClaimInput],
) -> Result<Result<SelfAssessmentOutcome, ClaimsRefused>, WebError> {
    let unit = user.own_unit()?.clone();
    let (cycle, shipped) = current_rules(store).await?;
    let now = Utc::now();
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for input in claims {
        let id = input.item.trim();
        let raw = input.claimed.trim();
        let note = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if raw.is_empty() && note.is_none() {
            continue;
        }
        let mut problem =
            |message: String| problems.push(ClaimProblem { item: Some(id.to_string()), message });
        let Some(item) = shipped.items.iter().find(|i| i.id == id) else {
            problem(format!("自评项“{id}”不在规则集 {} 的评分项目中", shipped.rule_set.id()));
            continue;
        };
        if !seen.insert(id.to_string()) {
            problem(format!("自评项“{}”（{id}）重复提交", item.title));
            continue;
        }
        let claimed = match parse_claimed(raw) {
            None if raw.is_empty() => {
                problem(format!("自评项“{}”（{id}）：请填写自评分", item.title));
                continue;
            }
            None => {
                problem(format!(
                    "自评项“{}”（{id}）：“{raw}”不是有效的分数（应为 0 或正的十进制数，如 12.5）",
                    item.title
                ));
                continue;
            }
            Some(claimed) if claimed > item.points => {
                problem(format!(
                    "自评项“{}”（{id}）：自评分 {claimed} 超过该项分值 {} 分",
                    item.title, item.points
                ));
                continue;
            }
            Some(claimed) => claimed,
        };
        if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
            problem(format!("自评项“{}”（{id}）：说明过长（超过 {MAX_NOTE_CHARS} 个字符）", item.title));
            continue;
        }
        rows.push(ClaimRow {
            line: rows.len() as u64 + 1,
            claim: SelfClaim {
                unit: unit.clone(),
                item: id.to_string(),
                claimed,
                note: note.map(str::to_string),
            },
            submitted_at: now,
        });
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(ClaimProblem { item: None, message: "没有填写任何自评分".into() });
    }
    if !problems.is_empty() {
        return Ok(Err(ClaimsRefused(problems)));
    }
    let audit = AuditEntry::new(&user.account.username, "self_assessment.submit")
        .target(unit.to_string())
        .detail(serde_json::json!({
            "cycle": cycle,
            "rule_set": shipped.rule_set.id(),
            "claims": rows.iter().map(|r| serde_json::json!({
                "item": r.claim.item, "claimed": r.claim.claimed.to_string(),
            })).collect::<Vec<_>>(),
        }));
    Ok(Ok(store.record_self_assessment(&rows, audit).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_exact_plain_decimals() {
        assert_eq!(parse_claimed("12.30").map(|d| d.to_string()), Some("12.30".into()));
        assert_eq!(parse_claimed("0"), Some(Decimal::ZERO));
        for bad in ["-1", "1e2", "", "1.2.3", "１２", "+3"] {
            assert_eq!(parse_claimed(bad), None, "{bad}");
        }
    }

    #[test]
    fn json_numbers_keep_their_literal() {
        let input: ClaimInput =
            serde_json::from_str(r#"{"item":"organisation","claimed":12.5}"#).expect("json");
        assert_eq!(input.claimed, "12.5");
        let input: ClaimInput =
            serde_json::from_str(r#"{"item":"organisation","claimed":"12.30"}"#).expect("json");
        assert_eq!(input.claimed, "12.30");
    }

    #[test]
    fn earned_points_prefer_the_self_claim_node() {
        let tree = serde_json::json!({ "root": { "kind": "assessment", "id": "x", "children": [
            { "kind": "component", "id": "online", "children": [
                { "kind": "indicator", "id": "organisation", "score": "15" } ] },
            { "kind": "component", "id": "self", "children": [
                { "kind": "self_claim", "id": "organisation", "score": "12.50" } ] } ] } });
        assert_eq!(earned(&tree, "organisation").map(|d| d.to_string()), Some("12.50".into()));
        assert_eq!(earned(&tree, "proactive"), None);
    }
}
