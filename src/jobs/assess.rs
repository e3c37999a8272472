//! The assessment job: score every unit a rule set applies to from the evidence as of a day,
//! rank them against the previous cycle of the same rule set, and save the cycle.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{JobError, Progress};
use crate::assess::{LaggardCriteria, RankedScore, ScoredUnit, mark_uncrawled, rank, score_units};
use crate::model::{OrgCode, Unit, UnitEvidence};
use crate::rules::RuleSet;
use crate::store::{AuditEntry, CycleRecord, Store};

/// An assessment to run.
#[derive(Debug, Clone)]
pub struct AssessRequest {
    /// The parsed rule set to score with.
    pub rule_set: RuleSet,
    /// The rule set's exact text, stored with the cycle so every score can be reproduced.
    pub source: String,
    /// When a unit is flagged as a laggard (后进单位).
    pub criteria: LaggardCriteria,
    /// Default: `<rule set id>-<day>`.
    pub cycle: Option<String>,
    /// The day scored as of (city clock): windows and deadlines count from it.
    pub day: NaiveDate,
    /// Evidence observed up to this instant counts (see [`super::assessment_cutoff`]).
    pub cutoff: DateTime<Utc>,
    /// Who asked, for the audit log.
    pub actor: String,
    /// `false` scores and ranks without saving (what-if).
    pub save: bool,
}

/// What an assessment produced; the JSON `gongkai assess --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct AssessOutcome {
    /// The cycle's name, e.g. `gov-website-2019-2026-11-30`.
    pub cycle: String,
    /// The rule set's id.
    pub rule_set: String,
    /// The rule set's version as written in its file.
    pub version: String,
    /// SHA-256 of the rule set's text, hex.
    pub hash: String,
    /// The day scored as of, `YYYY-MM-DD`.
    pub as_of: String,
    /// Units scored.
    pub units: usize,
    /// Units that passed: no veto and a total at or above the pass mark.
    pub passed: usize,
    /// Units a met veto item zeroed.
    pub vetoed: usize,
    /// Units flagged as laggards.
    pub laggards: usize,
    /// Units whose website or catalogue could not be checked (未能核查).
    pub unchecked: usize,
    /// The previous cycle of the same rule set, which rank changes are measured against.
    pub previous_cycle: Option<String>,
    /// Whether the cycle was saved (false for a what-if); not part of the printed summary.
    #[serde(skip)]
    pub saved: bool,
    /// Every unit's ranked score, best first.
    #[serde(skip)]
    pub rows: Vec<RankedScore>,
}

impl AssessOutcome {
    /// The one-sentence summary the command line prints and the dashboard's job page shows.
    pub fn summary_zh(&self) -> String {
        let unchecked =
            if self.unchecked > 0 { format!("，未能核查 {}", self.unchecked) } else { String::new() };
        format!(
            "周期 {} 已评分：{} 个单位，合格 {}，单项否决 {}，后进 {}{unchecked}（规则集 {} {} 版，截至 {}）",
            self.cycle,
            self.units,
            self.passed,
            self.vetoed,
            self.laggards,
            self.rule_set,
            self.version,
            self.as_of
        )
    }
}

/// Scores, ranks and (unless `save` is false) saves the cycle with its audit entry.
pub async fn assess(
    store: &Store,
    request: AssessRequest,
    progress: &Progress,
) -> Result<AssessOutcome, JobError> {
    let rule_set = &request.rule_set;
    let cycle = request.cycle.clone().unwrap_or_else(|| format!("{}-{}", rule_set.id(), request.day));
    if cycle.trim().is_empty() {
        return Err(JobError::BadInput("周期名称不能为空".into()));
    }
    progress.stage("汇集证据", 1);
    let units = store.units().await?;
    let mut evidence = store.evidence(request.cutoff).await?;
    mark_uncrawled(&units, &mut evidence, request.cutoff);
    progress.stage("评分", units.len());
    let unit_count = units.len();
    let scored = score_in_parallel(&request, units, evidence).await?;
    progress.advance(unit_count);
    if scored.is_empty() {
        return Err(JobError::BadInput(format!("没有适用规则集 {} 的单位，请先导入单位名录", rule_set.id())));
    }
    let previous = store
        .cycles()
        .await?
        .into_iter()
        .rfind(|c| c.cycle != cycle && c.ruleset_id == rule_set.id())
        .map(|c| c.cycle);
    let previous_ranks: HashMap<String, u32> = match &previous {
        Some(previous) => store.ranking(previous).await?.into_iter().map(|r| (r.unit, r.rank)).collect(),
        None => HashMap::new(),
    };
    let rows = rank(&scored, &previous_ranks, &request.criteria, rule_set.pass_mark());
    let laggards = rows.iter().filter(|r| r.laggard).count();

    if request.save {
        progress.stage("保存评分", 1);
        let explanations = scored
            .into_iter()
            .map(ScoredUnit::into_explanation_json)
            .collect::<Result<HashMap<String, String>, serde_json::Error>>()
            .map_err(|e| JobError::Failed(format!("无法保存评分说明：{e}")))?;
        let record = CycleRecord {
            cycle: cycle.clone(),
            as_of: request.cutoff,
            rule_set_id: rule_set.id().to_string(),
            rule_set_version: rule_set.version().to_string(),
            rule_set_hash: rule_set.hash().to_string(),
            rule_set_title: rule_set.title().to_string(),
            rule_set_source: request.source.clone(),
        };
        let audit = AuditEntry::new(request.actor.clone(), "assess").target(cycle.clone()).detail(
            serde_json::json!({
                "rule_set": rule_set.id(), "version": rule_set.version(), "hash": rule_set.hash(),
                "as_of": request.day.to_string(), "units": rows.len(), "laggards": laggards,
            }),
        );
        store.save_cycle(&record, &rows, &explanations, audit).await?;
        progress.advance(1);
    }

    Ok(AssessOutcome {
        rule_set: rule_set.id().to_string(),
        version: rule_set.version().to_string(),
        hash: rule_set.hash().to_string(),
        as_of: request.day.to_string(),
        units: rows.len(),
        passed: rows.iter().filter(|r| r.passed).count(),
        vetoed: rows.iter().filter(|r| r.veto.is_some()).count(),
        laggards,
        unchecked: rows.iter().filter(|r| !r.unchecked.is_empty()).count(),
        previous_cycle: previous,
        saved: request.save,
        cycle,
        rows,
    })
}

/// Scores the units on rayon's pool from a blocking thread (`spawn_blocking`): the runtime's
/// worker threads keep serving requests and the store meanwhile, and the blocking thread only
/// waits for the pool. (`block_in_place` would take a worker thread out of the runtime and
/// panics on a current-thread runtime, which tests use.) The units and their evidence move in
/// and are dropped there once scored.
async fn score_in_parallel(
    request: &AssessRequest,
    units: Vec<Unit>,
    evidence: BTreeMap<OrgCode, UnitEvidence>,
) -> Result<Vec<ScoredUnit>, JobError> {
    let rule_set = request.rule_set.clone();
    let criteria = request.criteria.clone();
    let day = request.day;
    tokio::task::spawn_blocking(move || score_units(&rule_set, &units, &evidence, &criteria, day))
        .await
        .map_err(|e| JobError::Failed(format!("评分中断：{e}")))?
        .map_err(|e| JobError::Failed(format!("无法生成评分说明：{e}")))
}
