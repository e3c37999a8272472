//! A score and the tree that explains it.
//!
//! The explanation is what a unit reads to learn why it lost points, so every node carries
//! the Chinese label written in the rule file, the points at stake, and the evidence
//! (finding ids, URLs, check ids, metric values, self-assessment claims) behind it.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{Source, Unchecked};

/// The result of scoring one unit under one rule set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Final points, rounded to the rule set's decimals; 0 when a veto item is met.
    pub total: Decimal,
    /// The grade band the total falls in, if the rule set defines bands.
    pub grade: Option<String>,
    /// The id of the first veto item met, if any.
    pub veto: Option<String>,
    /// No veto and a total at or above the pass mark.
    pub passed: bool,
    /// What could not be checked (未能核查), one entry per missing-evidence check that counts.
    /// Empty for a unit whose evidence is complete.
    pub unchecked: Vec<Unchecked>,
    pub explanation: Explanation,
}

/// How a unit's self-assessment compares with what was verified, over the items it claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SelfAssessmentGap {
    /// Points the unit claimed.
    pub claimed: Decimal,
    /// Points the rule set granted for the same items after caps and verification.
    pub granted: Decimal,
}

impl SelfAssessmentGap {
    /// Points claimed beyond what was granted (never negative).
    pub fn over_claim(&self) -> Decimal {
        (self.claimed - self.granted).max(Decimal::ZERO)
    }
}

impl Score {
    /// The self-assessment gap, when the rule set scores self-assessment and the unit claimed.
    pub fn self_assessment_gap(&self) -> Option<SelfAssessmentGap> {
        let claims: Vec<&Node> = self
            .explanation
            .root
            .walk()
            .into_iter()
            .filter(|n| n.kind == NodeKind::SelfClaim && n.claimed.is_some())
            .collect();
        if claims.is_empty() {
            return None;
        }
        Some(SelfAssessmentGap {
            claimed: claims.iter().filter_map(|n| n.claimed).sum(),
            granted: claims.iter().filter_map(|n| n.score).sum(),
        })
    }
}

/// Stamped with the rule set's id, version and hash so a score is reproducible. Stored as
/// JSON with the score and read back (the web's score page) with the same types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub rule_set: String,
    pub version: String,
    pub hash: String,
    #[serde(default)]
    pub unit: String,
    pub as_of: NaiveDate,
    /// Things the reader should know that are not point changes (rule set out of force,
    /// an expression that could not be evaluated, findings ignored), in Chinese.
    #[serde(default)]
    pub warnings: Vec<String>,
    pub root: Node,
}

/// What a node of the tree stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Assessment,
    Vetoes,
    Veto,
    NotApplicable,
    Component,
    Indicator,
    Deduction,
    SelfClaim,
    Bonus,
    BonusItem,
    /// Under an indicator: evidence it depends on could not be collected (未能核查), so it
    /// scores zero. Cites the finding that recorded it.
    Unchecked,
    /// Read back only: a kind this version does not know (a newer engine wrote the stored
    /// tree). The engine never builds it.
    #[serde(other)]
    Unknown,
}

/// One node of the explanation tree. Point fields are present only where they mean
/// something for the node's kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub kind: NodeKind,
    pub id: String,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gained: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<Decimal>,
    /// The cap that limited this node's points, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<Decimal>,
    /// On a self-claim node: the points the unit claimed (before caps and verification), so
    /// that over-claiming can be reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Cited>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

impl Node {
    pub fn new(kind: NodeKind, id: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            kind,
            id: id.into(),
            label: label.into(),
            available: None,
            lost: None,
            gained: None,
            score: None,
            cap: None,
            weight: None,
            claimed: None,
            notes: Vec::new(),
            evidence: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Every node of the tree, depth first.
    pub fn walk(&self) -> Vec<&Node> {
        let mut nodes = vec![self];
        for child in &self.children {
            nodes.extend(child.walk());
        }
        nodes
    }

    /// Depth-first search by kind and id (tests and the web view use it).
    pub fn find(&self, kind: NodeKind, id: &str) -> Option<&Node> {
        if self.kind == kind && self.id == id {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(kind, id))
    }
}

/// A piece of evidence cited by a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Cited {
    Finding {
        id: Option<String>,
        check: String,
        source: Source,
        url: Option<String>,
        observed_at: DateTime<Utc>,
    },
    /// A variable an expression read: a count or a metric.
    Value {
        name: String,
        /// The Chinese title of the check, counter or metric, from the rule file.
        label: String,
        value: Decimal,
        /// The metric was not measured and its declared default was used.
        #[serde(default)]
        defaulted: bool,
    },
    Claim {
        item: String,
        claimed: Decimal,
    },
}
