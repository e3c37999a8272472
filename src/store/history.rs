//! A unit's history as its page shows it: its score in every cycle, and the audit records
//! about it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use surrealdb::types::SurrealValue;

use super::{AuditRecord, Store, StoreError, StoreResult};
use crate::model::OrgCode;

/// A unit's score in one cycle, for its trend chart.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ScorePoint {
    /// The cycle's id.
    pub cycle: String,
    /// The cycle's as-of date: the point's place on the time axis.
    pub as_of: DateTime<Utc>,
    /// The rule set that scored the cycle: scores under different rule sets are not comparable.
    pub ruleset_id: String,
    /// The unit's total that cycle.
    pub total: Decimal,
    /// Its overall rank, 1 = best.
    pub rank: u32,
    /// Its rank among units of its kind.
    pub rank_in_kind: u32,
    /// Whether it was flagged as a laggard.
    pub laggard: bool,
    /// Its grade band, if the rule set defines bands.
    pub grade: Option<String>,
}

#[derive(Debug, Clone, SurrealValue)]
struct HistoryRow {
    cycle: String,
    generation: String,
    ruleset_id: String,
    total: Decimal,
    rank: i64,
    rank_in_kind: i64,
    laggard: bool,
    grade: Option<String>,
}

#[derive(Debug, Clone, SurrealValue)]
struct CycleDateRow {
    cycle: String,
    as_of: DateTime<Utc>,
    generation: String,
}

impl Store {
    /// A unit's score in every saved cycle, oldest as-of date first. The cycles' dates are read
    /// apart and joined here: there are few cycles, and a score row does not carry its date.
    /// Only the generation each cycle's record names counts: rows of a save still under way (or
    /// never finished) and of a replaced save are not the cycle's.
    pub async fn score_history(&self, unit: &OrgCode) -> StoreResult<Vec<ScorePoint>> {
        let context = "读取历史得分";
        // One read transaction: the cycles' generations and the rows come from one snapshot.
        let (rows, cycles) = self
            .read_transaction(context, async |txn| {
                let mut response = txn
                    .query(
                        "SELECT cycle, generation, ruleset_id, total, rank, rank_in_kind, laggard, grade \
                         FROM score WHERE unit = $unit;
                         SELECT cycle, as_of, generation FROM assessment;",
                    )
                    .bind(("unit", unit.to_string()))
                    .await?
                    .check()?;
                let rows: Vec<HistoryRow> = response.take(0)?;
                let cycles: Vec<CycleDateRow> = response.take(1)?;
                Ok((rows, cycles))
            })
            .await?;
        let cycles: HashMap<String, (DateTime<Utc>, String)> =
            cycles.into_iter().map(|row| (row.cycle, (row.as_of, row.generation))).collect();
        let corrupt = |message: String| StoreError::Corrupt { context: "score", message };
        let rank = |n: i64| u32::try_from(n).map_err(|_| corrupt(format!("名次 {n} 无效")));
        let mut points = rows
            .into_iter()
            .filter_map(|row| match cycles.get(&row.cycle) {
                Some((as_of, generation)) if *generation == row.generation => Some((*as_of, row)),
                _ => None,
            })
            .map(|(as_of, row)| {
                Ok(ScorePoint {
                    as_of,
                    ruleset_id: row.ruleset_id,
                    total: row.total,
                    rank: rank(row.rank)?,
                    rank_in_kind: rank(row.rank_in_kind)?,
                    laggard: row.laggard,
                    grade: row.grade,
                    cycle: row.cycle,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        points.sort_by(|a, b| a.as_of.cmp(&b.as_of).then_with(|| a.cycle.cmp(&b.cycle)));
        Ok(points)
    }

    /// The newest audit records about one target (a unit code, a username, a cycle) first.
    pub async fn audit_for_target(&self, target: &str, limit: usize) -> StoreResult<Vec<AuditRecord>> {
        let context = "读取审计日志";
        let mut response = self
            .db()
            .query(
                "SELECT at, actor, action, target, detail FROM audit WHERE target = $target \
                 ORDER BY at DESC LIMIT $limit",
            )
            .bind(("target", target.to_string()))
            .bind(("limit", limit as i64))
            .await
            .map_err(StoreError::query(context))?;
        response.take(0).map_err(StoreError::query(context))
    }
}
