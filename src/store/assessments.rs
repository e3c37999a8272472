//! Assessment cycles: the rule set text, the cycle record and every unit's ranked score with its
//! explanation, written together so a cycle is never half there.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use surrealdb::types::{RecordId, SurrealValue};

use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::assess::{RankedScore, Subordinates};
use crate::model::{OrgCode, Unchecked};

/// A cycle to save: which rule set (with its exact text) scored it, as of when.
#[derive(Debug, Clone)]
pub struct CycleRecord {
    /// The cycle's id (default `<rule set id>-<day>`), unique among cycles.
    pub cycle: String,
    /// The last instant of the as-of day in the city's time zone, UTC: evidence observed up to it counts.
    pub as_of: DateTime<Utc>,
    /// The rule set's id.
    pub rule_set_id: String,
    /// The rule set's version, as written in its file.
    pub rule_set_version: String,
    /// SHA-256 of the rule set's text, hex.
    pub rule_set_hash: String,
    /// The rule set's Chinese title.
    pub rule_set_title: String,
    /// The rule set's exact text, so every score of the cycle can be reproduced.
    pub rule_set_source: String,
}

/// A saved cycle, for listings and for finding the previous one.
#[derive(Debug, Clone, PartialEq, SurrealValue, serde::Serialize, schemars::JsonSchema)]
pub struct CycleInfo {
    /// The cycle's id.
    pub cycle: String,
    /// The last instant of its as-of day, UTC: evidence observed up to it counted.
    pub as_of: DateTime<Utc>,
    /// When the cycle was saved, UTC.
    pub created_at: DateTime<Utc>,
    /// The id of the rule set that scored it.
    pub ruleset_id: String,
    /// How many units were scored.
    pub units: i64,
    /// The cycle the dashboard shows by default ([`Store::set_current_cycle`]).
    pub current: bool,
    /// The rule set's title and version, read through the cycle's link to its rule set.
    pub ruleset_title: Option<String>,
    /// The rule set's version (see `ruleset_title`).
    pub ruleset_version: Option<String>,
    /// When the cycle record was last written; see [`Store::ranking_shared`].
    #[surreal(default)]
    #[serde(skip)]
    pub saved_at: Option<DateTime<Utc>>,
}

/// Choosing the current cycle failed in a way the user can fix.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    /// No cycle has this id; holds the id as given.
    #[error("评估周期“{0}”不存在")]
    UnknownCycle(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, SurrealValue)]
struct RuleSetRow {
    id: RecordId,
    rule_id: String,
    version: String,
    hash: String,
    title: String,
    source: String,
}

#[derive(Debug, Clone, SurrealValue)]
struct AssessmentRow {
    id: RecordId,
    cycle: String,
    ruleset: RecordId,
    ruleset_id: String,
    as_of: DateTime<Utc>,
    units: i64,
}

#[derive(Debug, Clone, SurrealValue)]
struct ScoreRow {
    cycle: String,
    unit: String,
    name: String,
    kind: String,
    parent_code: Option<String>,
    total: Decimal,
    grade: Option<String>,
    veto: Option<String>,
    passed: bool,
    rank: i64,
    rank_in_kind: i64,
    previous_rank: Option<i64>,
    rank_change: Option<i64>,
    laggard: bool,
    reasons: Vec<String>,
    subordinates: Option<serde_json::Value>,
    self_claimed: Option<Decimal>,
    over_claim: Option<Decimal>,
    /// What could not be checked (未能核查); absent in scores saved before it existed.
    #[surreal(default)]
    unchecked: Vec<serde_json::Value>,
    /// JSON text; left out of listings (hence the default), read by [`Store::explanation`].
    #[surreal(default)]
    explanation: String,
    ruleset_id: String,
    ruleset_version: String,
    ruleset_hash: String,
}

impl ScoreRow {
    fn into_ranked(self) -> StoreResult<RankedScore> {
        let corrupt = |message: String| StoreError::Corrupt { context: "score", message };
        let rank = |n: i64| u32::try_from(n).map_err(|_| corrupt(format!("名次 {n} 无效")));
        Ok(RankedScore {
            kind: self.kind.parse().map_err(|e| corrupt(format!("{}: {e}", self.unit)))?,
            subordinates: self
                .subordinates
                .map(serde_json::from_value::<Subordinates>)
                .transpose()
                .map_err(|e| corrupt(e.to_string()))?,
            rank: rank(self.rank)?,
            rank_in_kind: rank(self.rank_in_kind)?,
            previous_rank: self.previous_rank.map(rank).transpose()?,
            unit: self.unit,
            name: self.name,
            parent_code: self.parent_code,
            score: self.total,
            grade: self.grade,
            veto: self.veto,
            passed: self.passed,
            rank_change: self.rank_change,
            laggard: self.laggard,
            reasons: self.reasons,
            self_claimed: self.self_claimed,
            over_claim: self.over_claim,
            unchecked: self
                .unchecked
                .into_iter()
                .map(serde_json::from_value::<Unchecked>)
                .collect::<Result<_, _>>()
                .map_err(|e| corrupt(format!("未能核查记录无效：{e}")))?,
        })
    }
}

const CYCLE_FIELDS: &str = "cycle, as_of, created_at, ruleset_id, units, current, saved_at, \
     ruleset.title AS ruleset_title, ruleset.version AS ruleset_version";

const SCORE_FIELDS: &str = "cycle, unit, name, kind, parent_code, total, grade, veto, passed, rank, rank_in_kind, \
     previous_rank, rank_change, laggard, reasons, subordinates, self_claimed, over_claim, unchecked, ruleset_id, ruleset_version, ruleset_hash";

impl Store {
    /// Saves a cycle in one transaction: the rule set text (kept once per hash), the cycle
    /// record, and every score with its explanation. Re-running a cycle replaces it whole.
    pub async fn save_cycle(
        &self,
        cycle: &CycleRecord,
        rows: &[RankedScore],
        explanations: &HashMap<String, String>,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        let context = "保存评分结果";
        let ruleset_id = RecordId::new("ruleset", cycle.rule_set_hash.as_str());
        let score_rows: Vec<ScoreRow> = rows
            .iter()
            .map(|row| ScoreRow {
                cycle: cycle.cycle.clone(),
                unit: row.unit.clone(),
                name: row.name.clone(),
                kind: row.kind.as_str().to_string(),
                parent_code: row.parent_code.clone(),
                total: row.score,
                grade: row.grade.clone(),
                veto: row.veto.clone(),
                passed: row.passed,
                rank: i64::from(row.rank),
                rank_in_kind: i64::from(row.rank_in_kind),
                previous_rank: row.previous_rank.map(i64::from),
                rank_change: row.rank_change,
                laggard: row.laggard,
                reasons: row.reasons.clone(),
                subordinates: row.subordinates.as_ref().and_then(|s| serde_json::to_value(s).ok()),
                self_claimed: row.self_claimed,
                over_claim: row.over_claim,
                unchecked: row.unchecked.iter().filter_map(|u| serde_json::to_value(u).ok()).collect(),
                explanation: explanations.get(&row.unit).cloned().unwrap_or_else(|| "{}".to_string()),
                ruleset_id: cycle.rule_set_id.clone(),
                ruleset_version: cycle.rule_set_version.clone(),
                ruleset_hash: cycle.rule_set_hash.clone(),
            })
            .collect();
        self.transaction(context, async |txn| {
            txn.query(
                "UPSERT $ruleset_id CONTENT $ruleset;
                 DELETE score WHERE cycle = $cycle;
                 UPSERT $assessment_id CONTENT $assessment;",
            )
            .bind(("ruleset_id", ruleset_id.clone()))
            .bind((
                "ruleset",
                RuleSetRow {
                    id: ruleset_id.clone(),
                    rule_id: cycle.rule_set_id.clone(),
                    version: cycle.rule_set_version.clone(),
                    hash: cycle.rule_set_hash.clone(),
                    title: cycle.rule_set_title.clone(),
                    source: cycle.rule_set_source.clone(),
                },
            ))
            .bind(("cycle", cycle.cycle.clone()))
            .bind(("assessment_id", RecordId::new("assessment", cycle.cycle.as_str())))
            .bind((
                "assessment",
                AssessmentRow {
                    id: RecordId::new("assessment", cycle.cycle.as_str()),
                    cycle: cycle.cycle.clone(),
                    ruleset: ruleset_id.clone(),
                    ruleset_id: cycle.rule_set_id.clone(),
                    as_of: cycle.as_of,
                    units: score_rows.len() as i64,
                },
            ))
            .await?
            .check()?;
            for chunk in score_rows.chunks(1_000) {
                txn.query("INSERT INTO score $rows").bind(("rows", chunk.to_vec())).await?.check()?;
            }
            audit.write_in(txn).await
        })
        .await
    }

    /// Every saved cycle, oldest first.
    pub async fn cycles(&self) -> StoreResult<Vec<CycleInfo>> {
        let context = "读取评估周期";
        let mut response = self
            .db()
            .query(format!("SELECT {CYCLE_FIELDS} FROM assessment ORDER BY created_at, cycle"))
            .await
            .map_err(StoreError::query(context))?;
        response.take(0).map_err(StoreError::query(context))
    }

    /// A cycle's ranking, best first, shared from memory while the cycle record is unchanged.
    /// Dashboards read the same ranking for every request; reading it costs one small query for
    /// the cycle's `saved_at` stamp instead of every score row.
    pub async fn ranking_shared(&self, cycle: &str) -> StoreResult<Arc<Vec<RankedScore>>> {
        let context = "读取排名";
        let mut response = self
            .db()
            .query("SELECT VALUE saved_at FROM assessment WHERE cycle = $cycle")
            .bind(("cycle", cycle.to_string()))
            .await
            .map_err(StoreError::query(context))?;
        let stamps: Vec<Option<DateTime<Utc>>> = response.take(0).map_err(StoreError::query(context))?;
        let Some(stamp) = stamps.into_iter().next() else {
            return Ok(Arc::new(Vec::new()));
        };
        if let Some(stamp) = stamp
            && let Some(rows) = self.rankings.get(cycle, stamp)
        {
            return Ok(rows);
        }
        let rows = Arc::new(self.ranking(cycle).await?);
        if let Some(stamp) = stamp {
            self.rankings.put(cycle, stamp, rows.clone());
        }
        Ok(rows)
    }

    /// A cycle's ranking, best first.
    pub async fn ranking(&self, cycle: &str) -> StoreResult<Vec<RankedScore>> {
        let context = "读取排名";
        let mut response = self
            .db()
            .query(format!("SELECT {SCORE_FIELDS} FROM score WHERE cycle = $cycle ORDER BY rank, unit"))
            .bind(("cycle", cycle.to_string()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<ScoreRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().map(ScoreRow::into_ranked).collect()
    }

    /// One unit's explanation tree in a cycle.
    pub async fn explanation(&self, cycle: &str, unit: &str) -> StoreResult<Option<serde_json::Value>> {
        let context = "读取评分说明";
        let mut response = self
            .db()
            .query("SELECT VALUE explanation FROM score WHERE cycle = $cycle AND unit = $unit")
            .bind(("cycle", cycle.to_string()))
            .bind(("unit", unit.to_string()))
            .await
            .map_err(StoreError::query(context))?;
        let values: Vec<String> = response.take(0).map_err(StoreError::query(context))?;
        values
            .into_iter()
            .next()
            .map(|text| {
                serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt { context: "score.explanation", message: e.to_string() })
            })
            .transpose()
    }

    /// Marks one cycle as the current one and every other as not, in one transaction with the
    /// audit record.
    pub async fn set_current_cycle(&self, cycle: &str, audit: AuditEntry) -> Result<(), CycleError> {
        let id = RecordId::new("assessment", cycle);
        let found = self
            .transaction("设置当前评估周期", async |txn| {
                let mut response =
                    txn.query("SELECT VALUE cycle FROM $id").bind(("id", id.clone())).await?.check()?;
                let found: Vec<String> = response.take(0)?;
                if found.is_empty() {
                    return Ok(false);
                }
                txn.query(
                    "UPDATE assessment SET current = false WHERE current = true AND id != $id;
                     UPDATE $id SET current = true;",
                )
                .bind(("id", id.clone()))
                .await?
                .check()?;
                audit.write_in(txn).await?;
                Ok(true)
            })
            .await?;
        if found { Ok(()) } else { Err(CycleError::UnknownCycle(cycle.to_string())) }
    }

    /// The cycle the dashboard shows by default: the one marked current, else the newest.
    pub async fn current_cycle(&self) -> StoreResult<Option<CycleInfo>> {
        let context = "读取当前评估周期";
        let mut response = self
            .db()
            .query(format!(
                "SELECT {CYCLE_FIELDS} FROM assessment ORDER BY current DESC, created_at DESC, cycle DESC LIMIT 1"
            ))
            .await
            .map_err(StoreError::query(context))?;
        let cycles: Vec<CycleInfo> = response.take(0).map_err(StoreError::query(context))?;
        Ok(cycles.into_iter().next())
    }

    /// One unit's score in one cycle, without reading the cycle's ranking.
    pub async fn unit_score(&self, cycle: &str, unit: &OrgCode) -> StoreResult<Option<RankedScore>> {
        let context = "读取单位得分";
        let mut response = self
            .db()
            .query(format!("SELECT {SCORE_FIELDS} FROM score WHERE cycle = $cycle AND unit = $unit"))
            .bind(("cycle", cycle.to_string()))
            .bind(("unit", unit.to_string()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<ScoreRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().next().map(ScoreRow::into_ranked).transpose()
    }
}
