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
    Site,
    Catalogue,
    Probe,
}

impl CrawlKind {
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
    pub unit: OrgCode,
    pub check: String,
    pub source: Source,
    pub observed_at: DateTime<Utc>,
    pub url: Option<String>,
    /// Structured evidence: the snippet, the page that carries a link, dates, counts.
    pub detail: serde_json::Value,
    pub status: FindingStatus,
    pub rectify_by: Option<NaiveDate>,
}

/// A measured quantity about a unit, e.g. `site.failure_ratio` or `catalogue.longest_gap_days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub unit: OrgCode,
    pub name: String,
    pub value: Decimal,
    pub observed_at: DateTime<Utc>,
}

/// A unit's own claim for one rule-set item in its self-assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfClaim {
    pub unit: OrgCode,
    pub item: String,
    pub claimed: Decimal,
    pub note: Option<String>,
}

/// Everything the rule engine may look at for one unit in one assessment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UnitEvidence {
    pub findings: Vec<Finding>,
    /// Latest value of each metric by name.
    pub metrics: BTreeMap<String, Decimal>,
    pub self_claims: Vec<SelfClaim>,
    /// The kinds of crawl run (`site`, `catalogue`, `probe`) whose current run covered the unit:
    /// a unit that no website crawl reached has no website evidence at all.
    #[serde(default)]
    pub crawled: BTreeSet<String>,
}
