//! Assessment cycles: the rule set text, the cycle record and every unit's ranked score with its
//! explanation.
//!
//! A cycle is saved in stages so that a crash never leaves half of it visible, without holding
//! 14,000 rows in one transaction: every save gets a fresh `generation` token; the scores and
//! explanations are written in batches tagged with it (invisible: no reader looks at a
//! generation no `assessment` record names); one small transaction then writes the `assessment`
//! record naming the new generation (the flip); the previous generation's rows are deleted
//! after it. Every reader of `score` and `score_explanation` reads only the generation its
//! cycle's `assessment` record names.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use surrealdb::types::{RecordId, SurrealValue};

use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::assess::{RankedScore, Subordinates};
use crate::model::{OrgCode, Unchecked};

#[cfg(test)]
#[path = "assessments_tests.rs"]
mod tests;

/// Score rows (and as many explanations) written per transaction while a cycle is staged:
/// small enough that no transaction holds much in memory, large enough that a province's
/// 14,000 units take a handful of round trips.
const BATCH_ROWS: usize = 1_000;

/// Rows of a replaced generation deleted per statement after the flip.
const DELETE_BATCH_ROWS: usize = 2_000;

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
    /// The generation of `score` / `score_explanation` rows this cycle consists of.
    generation: String,
}

/// One unit's explanation tree in one generation of a cycle, as JSON text.
#[derive(Debug, Clone, SurrealValue)]
struct ExplanationRow {
    cycle: String,
    generation: String,
    unit: String,
    text: String,
}

#[derive(Debug, Clone, SurrealValue)]
struct ScoreRow {
    cycle: String,
    /// Which save wrote the row; left out of listings (they select by it), hence the default.
    #[surreal(default)]
    generation: String,
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
    ruleset_id: String,
    ruleset_version: String,
    ruleset_hash: String,
}

impl ScoreRow {
    fn new(cycle: &CycleRecord, generation: &str, row: &RankedScore) -> Self {
        ScoreRow {
            cycle: cycle.cycle.clone(),
            generation: generation.to_string(),
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
            ruleset_id: cycle.rule_set_id.clone(),
            ruleset_version: cycle.rule_set_version.clone(),
            ruleset_hash: cycle.rule_set_hash.clone(),
        }
    }

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

/// The generation the cycle's record names, as `$generation` for the statement after it
/// (`$assessment` is the record's id): NONE when the cycle was never saved, which no row has.
const CYCLE_GENERATION: &str = "LET $generation = (SELECT VALUE generation FROM ONLY $assessment);";

const SCORE_FIELDS: &str = "cycle, unit, name, kind, parent_code, total, grade, veto, passed, rank, rank_in_kind, \
     previous_rank, rank_change, laggard, reasons, subordinates, self_claimed, over_claim, unchecked, ruleset_id, ruleset_version, ruleset_hash";

impl Store {
    /// Saves a cycle: stages its scores and explanations under a fresh generation in batches,
    /// then flips the cycle record to that generation with the rule set and the audit entry in
    /// one small transaction, then deletes the rows of the generations it replaced. The cycle
    /// becomes visible (or, re-run, changes) only at the flip: a crash before it leaves the
    /// previous state, and the orphan rows are deleted by the next save of the cycle.
    /// `explanations` maps a unit's code to its explanation tree as JSON text
    /// ([`crate::assess::ScoredUnit::explanation_json`]); a unit without one has none.
    pub async fn save_cycle(
        &self,
        cycle: &CycleRecord,
        rows: &[RankedScore],
        explanations: &HashMap<String, String>,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        let generation = new_generation();
        for batch in rows.chunks(BATCH_ROWS) {
            self.stage_scores(cycle, &generation, batch, explanations).await?;
        }
        self.flip_cycle(cycle, &generation, rows.len(), audit).await?;
        // The cycle is saved; rows left behind are invisible and the next save deletes them.
        if let Err(error) = self.delete_replaced_generations(&cycle.cycle, &generation).await {
            tracing::warn!("评估周期“{}”的旧评分未能清除（不影响本次结果）：{error}", cycle.cycle);
        }
        Ok(())
    }

    /// Writes one batch of a cycle's score rows with their explanations in one transaction,
    /// tagged with `generation`; invisible until [`Store::flip_cycle`]. Only one batch's rows
    /// are ever copied into query values at a time.
    pub(crate) async fn stage_scores(
        &self,
        cycle: &CycleRecord,
        generation: &str,
        batch: &[RankedScore],
        explanations: &HashMap<String, String>,
    ) -> StoreResult<()> {
        let context = "保存评分结果";
        let scores: Vec<ScoreRow> = batch.iter().map(|row| ScoreRow::new(cycle, generation, row)).collect();
        let texts: Vec<ExplanationRow> = batch
            .iter()
            .filter_map(|row| {
                explanations.get(&row.unit).map(|text| ExplanationRow {
                    cycle: cycle.cycle.clone(),
                    generation: generation.to_string(),
                    unit: row.unit.clone(),
                    text: text.clone(),
                })
            })
            .collect();
        self.transaction(context, async |txn| {
            txn.query("INSERT INTO score $scores; INSERT INTO score_explanation $texts;")
                .bind(("scores", scores))
                .bind(("texts", texts))
                .await?
                .check()?;
            Ok(())
        })
        .await
    }

    /// Makes `generation` the cycle's: the rule set (kept once per hash), the cycle record
    /// naming the generation, and the audit entry, in one transaction. A save that started
    /// before the one already flipped (generations sort by start) does not flip: its rows may
    /// have been deleted as replaced, and the later save's cycle stands whole.
    pub(crate) async fn flip_cycle(
        &self,
        cycle: &CycleRecord,
        generation: &str,
        units: usize,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        let context = "保存评分结果";
        let ruleset_id = RecordId::new("ruleset", cycle.rule_set_hash.as_str());
        let assessment_id = RecordId::new("assessment", cycle.cycle.as_str());
        let newer = self
            .transaction(context, async |txn| {
                let mut response = txn
                    .query("SELECT VALUE generation FROM $assessment_id")
                    .bind(("assessment_id", assessment_id.clone()))
                    .await?
                    .check()?;
                let current: Vec<Option<String>> = response.take(0)?;
                if current.into_iter().flatten().any(|current| current.as_str() > generation) {
                    return Ok(true);
                }
                txn.query("UPSERT $ruleset_id CONTENT $ruleset; UPSERT $assessment_id CONTENT $assessment;")
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
                    .bind(("assessment_id", assessment_id.clone()))
                    .bind((
                        "assessment",
                        AssessmentRow {
                            id: assessment_id.clone(),
                            cycle: cycle.cycle.clone(),
                            ruleset: ruleset_id.clone(),
                            ruleset_id: cycle.rule_set_id.clone(),
                            as_of: cycle.as_of,
                            units: units as i64,
                            generation: generation.to_string(),
                        },
                    ))
                    .await?
                    .check()?;
                audit.write_in(txn).await?;
                Ok(false)
            })
            .await;
        // The cycle list changed: this process's next page must not wait for the live query.
        self.reads.clear();
        if newer? {
            // Two saves of one cycle ran at once: the one started last stands, whole.
            tracing::warn!("评估周期“{}”已由之后开始的另一次评分保存，本次结果未采用", cycle.cycle);
        }
        Ok(())
    }

    /// Deletes a cycle's rows of generations older than `generation` (replaced ones, and
    /// orphans of saves that never flipped), a batch per statement. Newer generations are
    /// left: they belong to a save still under way.
    pub(crate) async fn delete_replaced_generations(&self, cycle: &str, generation: &str) -> StoreResult<()> {
        let context = "清除旧评分";
        for table in ["score", "score_explanation"] {
            loop {
                let mut response = self
                    .db()
                    .query(
                        "LET $ids = (SELECT VALUE id FROM type::table($table) \
                         WHERE cycle = $cycle AND generation < $generation LIMIT $limit);
                         DELETE $ids;
                         RETURN array::len($ids);",
                    )
                    .bind(("table", table))
                    .bind(("cycle", cycle.to_string()))
                    .bind(("generation", generation.to_string()))
                    .bind(("limit", DELETE_BATCH_ROWS as i64))
                    .await
                    .map_err(StoreError::query(context))?;
                let deleted: Option<i64> = response.take(2).map_err(StoreError::query(context))?;
                if deleted.unwrap_or(0) < DELETE_BATCH_ROWS as i64 {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Every saved cycle, oldest first.
    /// Served from memory while [`Store::watch_changes`] runs: every ranking page starts here.
    pub async fn cycles(&self) -> StoreResult<Vec<CycleInfo>> {
        if let Some(cycles) = self.reads.cycles() {
            return Ok(cycles);
        }
        let context = "读取评估周期";
        let read = self.reads.generation();
        let mut response = self
            .db()
            .query(format!("SELECT {CYCLE_FIELDS} FROM assessment ORDER BY created_at, cycle"))
            .await
            .map_err(StoreError::query(context))?;
        let cycles: Vec<CycleInfo> = response.take(0).map_err(StoreError::query(context))?;
        self.reads.put_cycles(read, cycles.clone());
        Ok(cycles)
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
        let surql = format!(
            "SELECT {SCORE_FIELDS} FROM score WHERE cycle = $cycle AND generation = $generation ORDER BY rank, unit"
        );
        let rows: Vec<ScoreRow> = self.read_cycle(context, cycle, None, &surql).await?;
        rows.into_iter().map(ScoreRow::into_ranked).collect()
    }

    /// One unit's explanation tree in a cycle.
    pub async fn explanation(&self, cycle: &str, unit: &str) -> StoreResult<Option<serde_json::Value>> {
        let context = "读取评分说明";
        let surql = "SELECT VALUE text FROM score_explanation \
                     WHERE cycle = $cycle AND generation = $generation AND unit = $unit";
        let values: Vec<String> = self.read_cycle(context, cycle, Some(unit), surql).await?;
        values
            .into_iter()
            .next()
            .map(|text| {
                serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt { context: "score_explanation", message: e.to_string() })
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
            .await;
        self.reads.clear();
        if found? { Ok(()) } else { Err(CycleError::UnknownCycle(cycle.to_string())) }
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
        let surql = format!(
            "SELECT {SCORE_FIELDS} FROM score WHERE cycle = $cycle AND generation = $generation AND unit = $unit"
        );
        let rows: Vec<ScoreRow> = self.read_cycle(context, cycle, Some(unit.as_str()), &surql).await?;
        rows.into_iter().next().map(ScoreRow::into_ranked).transpose()
    }

    /// Runs `surql` on the generation `cycle`'s record names (`$generation`; `$cycle`, and
    /// `$unit` when given, are bound too) in one read transaction: the generation and the rows
    /// come from one snapshot, so a save that deletes the replaced generation meanwhile cannot
    /// cut a ranking short. A cycle never saved names no generation, and no row matches.
    async fn read_cycle<T: SurrealValue>(
        &self,
        context: &'static str,
        cycle: &str,
        unit: Option<&str>,
        surql: &str,
    ) -> StoreResult<Vec<T>> {
        self.read_transaction(context, async |txn| {
            let mut response = txn
                .query(format!("{CYCLE_GENERATION} {surql}"))
                .bind(("assessment", RecordId::new("assessment", cycle)))
                .bind(("cycle", cycle.to_string()))
                .bind(("unit", unit.map(str::to_string)))
                .await?
                .check()?;
            response.take(1)
        })
        .await
    }
}

/// A fresh generation token: the start instant in microseconds (16 hex digits, so tokens sort by
/// when their save started) and 32 random bits against two saves in the same microsecond.
fn new_generation() -> String {
    format!("{:016x}{:08x}", Utc::now().timestamp_micros().max(0), rand::random::<u32>())
}
