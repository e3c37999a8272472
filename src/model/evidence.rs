//! Evidence about a unit: findings (DESIGN.md §4) and metrics, whoever observed them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::OrgCode;

/// Who observed a finding. Rule sets weigh sources and decide which wins on disagreement.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The website and catalogue crawlers.
    Crawler,
    /// A special inspector (特邀监察员) on a visit.
    Inspector,
    /// The unit's own self-assessment.
    #[serde(rename = "self")]
    SelfReported,
}

impl Source {
    /// The name stored and used in files and the API: `crawler`, `inspector` or `self`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Crawler => "crawler",
            Source::Inspector => "inspector",
            Source::SelfReported => "self",
        }
    }
}

impl std::str::FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "crawler" => Ok(Source::Crawler),
            "inspector" => Ok(Source::Inspector),
            "self" => Ok(Source::SelfReported),
            other => Err(format!("未知的来源“{other}”")),
        }
    }
}

impl FindingStatus {
    /// The name stored and used in the API: `open`, `rectified`, `disputed`, `confirmed` or `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Rectified => "rectified",
            FindingStatus::Disputed => "disputed",
            FindingStatus::Confirmed => "confirmed",
            FindingStatus::Closed => "closed",
        }
    }
}

impl std::str::FromStr for FindingStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            FindingStatus::Open,
            FindingStatus::Rectified,
            FindingStatus::Disputed,
            FindingStatus::Confirmed,
            FindingStatus::Closed,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
        .ok_or_else(|| format!("未知的状态“{s}”"))
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a crawl run covered. Evidence for an assessment takes, per unit and kind, the newest
/// finished run at or before the as-of date, so a re-run of an old assessment is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CrawlKind {
    /// The website crawl (`gongkai crawl`, site side).
    Site,
    /// The disclosure-catalogue crawl.
    Catalogue,
    /// The availability probes (`gongkai probe`).
    Probe,
}

impl CrawlKind {
    /// The name stored in run records and `UnitEvidence::crawled`: `site`, `catalogue` or `probe`.
    pub fn as_str(self) -> &'static str {
        match self {
            CrawlKind::Site => "site",
            CrawlKind::Catalogue => "catalogue",
            CrawlKind::Probe => "probe",
        }
    }
}

/// Where a finding stands in the rectification loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    /// Newly found, or confirmed again; counts against the unit.
    #[default]
    Open,
    /// The unit says it fixed the problem; an inspector has yet to confirm.
    Rectified,
    /// The unit disputes the finding; an inspector has yet to decide.
    Disputed,
    /// An inspector confirmed the finding stands (after a dispute or a failed rectification).
    Confirmed,
    /// Fixed and confirmed, or withdrawn: no longer counts.
    Closed,
}

/// One observed problem. `check` is a stable id from the check vocabulary
/// (`site.unreachable`, `catalogue.index_invalid`, …) or a rule set's `field.*` id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// The store's id, once stored (explanations cite it).
    pub id: Option<String>,
    /// The unit the problem belongs to.
    pub unit: OrgCode,
    /// The check id: what kind of problem this is.
    pub check: String,
    /// Who observed it: a crawler, an inspector or the unit itself.
    pub source: Source,
    /// When it was observed, UTC (for an inspector's finding: 00:00 UTC of the visit's day).
    pub observed_at: DateTime<Utc>,
    /// The page it concerns, when it concerns one.
    pub url: Option<String>,
    /// Structured evidence: the snippet, the page that carries a link, dates, counts.
    pub detail: serde_json::Value,
    /// Where it stands in the rectification loop.
    pub status: FindingStatus,
    /// The day by which the unit must fix it, when one was set (by an inspector or a notice).
    pub rectify_by: Option<NaiveDate>,
}

/// A measured quantity about a unit, e.g. `site.failure_ratio` or `catalogue.longest_gap_days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// The unit measured.
    pub unit: OrgCode,
    /// The metric's id, e.g. `site.failure_ratio`; rule sets read it by this name.
    pub name: String,
    /// The measured value, exact.
    pub value: Decimal,
    /// When it was measured, UTC.
    pub observed_at: DateTime<Utc>,
}

/// A unit's own claim for one rule-set item in its self-assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfClaim {
    /// The unit that claims.
    pub unit: OrgCode,
    /// The rule set's self-assessment item id the claim is for.
    pub item: String,
    /// Points claimed, before caps and verification.
    pub claimed: Decimal,
    /// The unit's explanation or evidence for the claim, free text.
    pub note: Option<String>,
}

/// Everything the rule engine may look at for one unit in one assessment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UnitEvidence {
    /// The unit's findings; the engine filters them by status, date and source.
    pub findings: Vec<Finding>,
    /// Latest value of each metric by name.
    pub metrics: BTreeMap<String, Decimal>,
    /// The unit's self-assessment claims.
    pub self_claims: Vec<SelfClaim>,
    /// The kinds of crawl run (`site`, `catalogue`, `probe`) whose current run covered the unit:
    /// a unit that no website crawl reached has no website evidence at all.
    #[serde(default)]
    pub crawled: BTreeSet<String>,
}
