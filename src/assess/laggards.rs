//! Laggard criteria (后进单位标准) as data: which units a ranking flags for notification and
//! why. The shipped defaults are `scoring-rules/laggards.toml`.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::model::{FindingStatus, UnitEvidence};

/// The shipped criteria.
pub const DEFAULT_CRITERIA: &str = include_str!("../../scoring-rules/laggards.toml");

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct CriteriaFile {
    laggards: LaggardCriteria,
}

/// What makes a unit a laggard. Every criterion is optional.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaggardCriteria {
    /// Flag a unit whose score was vetoed (单项否决).
    #[serde(default)]
    pub veto: bool,
    /// Flag a unit whose total is below the rule set's pass mark (vetoed units are already flagged above).
    #[serde(default)]
    pub below_pass_mark: bool,
    /// The unit's website or catalogue could not be checked (未能核查).
    #[serde(default)]
    pub unchecked: bool,
    /// Flag the bottom N % of the overall ranking (0 = off).
    #[serde(default)]
    pub bottom_percent: u32,
    /// Flag a drop of at least N places since the previous cycle (0 = off).
    #[serde(default)]
    pub drop_places: u32,
    /// "Not started": every one of these checks is among the unit's current findings.
    #[serde(default)]
    pub not_started_checks: Vec<String>,
    /// "On and off" work: this metric at or above the threshold.
    pub on_and_off_metric: Option<String>,
    /// The threshold for `on_and_off_metric`; set both or neither.
    pub on_and_off_at_least: Option<Decimal>,
    /// Flag a unit with findings still open past their rectification deadline.
    #[serde(default)]
    pub overdue_findings: bool,
    /// Over-claiming: the self-assessment exceeds the verified points by at least this much.
    pub over_claim_at_least: Option<Decimal>,
}

/// The criteria file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("后进单位标准文件 {origin} 有误：{message}")]
pub struct CriteriaError {
    /// Where the criteria came from (a path, or the shipped file's name), for the message.
    pub origin: String,
    /// What is wrong, in Chinese, with the line number when the TOML parser gives one.
    pub message: String,
}

impl LaggardCriteria {
    /// Parses a criteria file (a `[laggards]` table). `origin` names it in errors; a bottom
    /// percentage over 100 or a half-set on-and-off pair is rejected.
    pub fn parse(text: &str, origin: &str) -> Result<Self, CriteriaError> {
        let file: CriteriaFile = toml::from_str(text).map_err(|e| CriteriaError {
            origin: origin.to_string(),
            message: match e.span() {
                Some(span) => format!("第 {} 行：{}", line_of(text, span.start), e.message()),
                None => e.message().to_string(),
            },
        })?;
        let criteria = file.laggards;
        if criteria.bottom_percent > 100 {
            return Err(CriteriaError {
                origin: origin.into(),
                message: "bottom_percent 不能超过 100".into(),
            });
        }
        if criteria.on_and_off_metric.is_some() != criteria.on_and_off_at_least.is_some() {
            return Err(CriteriaError {
                origin: origin.into(),
                message: "on_and_off_metric 与 on_and_off_at_least 须同时设置".into(),
            });
        }
        Ok(criteria)
    }

    /// The shipped criteria (`scoring-rules/laggards.toml`), or no criteria at all if that file
    /// somehow fails to parse (a unit test keeps it parsing).
    pub fn shipped() -> Self {
        Self::parse(DEFAULT_CRITERIA, "scoring-rules/laggards.toml").unwrap_or_default()
    }

    /// Reasons that depend only on the unit's own evidence (rank-based ones come later).
    pub fn evidence_reasons(&self, evidence: &UnitEvidence, as_of: chrono::NaiveDate) -> Vec<String> {
        let mut reasons = Vec::new();
        if !self.not_started_checks.is_empty() {
            let present: BTreeSet<&str> = evidence.findings.iter().map(|f| f.check.as_str()).collect();
            if self.not_started_checks.iter().all(|c| present.contains(c.as_str())) {
                reasons.push(format!("尚未启动（{}）", self.not_started_checks.join("、")));
            }
        }
        if let (Some(metric), Some(threshold)) = (&self.on_and_off_metric, self.on_and_off_at_least)
            && let Some(value) = evidence.metrics.get(metric).filter(|v| **v >= threshold)
        {
            reasons.push(format!("抓一阵停一阵（{metric} = {value}，达到 {threshold}）"));
        }
        if self.overdue_findings {
            let overdue = evidence
                .findings
                .iter()
                .filter(|f| matches!(f.status, FindingStatus::Open | FindingStatus::Confirmed))
                .filter(|f| f.rectify_by.is_some_and(|due| due < as_of))
                .count();
            if overdue > 0 {
                reasons.push(format!("{overdue} 项问题超过整改期限仍未整改"));
            }
        }
        reasons
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_criteria_parse() {
        let criteria = LaggardCriteria::parse(DEFAULT_CRITERIA, "laggards.toml").expect("valid");
        assert!(criteria.veto && criteria.below_pass_mark && criteria.unchecked);
        assert_eq!(criteria.bottom_percent, 10);
    }

    #[test]
    fn unknown_keys_name_their_line() {
        let error = LaggardCriteria::parse("[laggards]\nveto = true\nbotom_percent = 5\n", "x.toml")
            .expect_err("typo must be refused");
        assert!(error.message.contains("第 3 行"), "{error}");
    }
}
