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
    /// Why the total is what it is: the rule set's stamp and the tree of points.
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
    /// The rule set's id, from its `[rule_set]` table.
    pub rule_set: String,
    /// The rule set's version string, as written in the file.
    pub version: String,
    /// SHA-256 of the rule file's text, hex; tells apart two edits that kept the same version.
    pub hash: String,
    /// The scored unit's credit code (empty in trees stored before it was recorded).
    #[serde(default)]
    pub unit: String,
    /// The day the unit was assessed as of (a calendar day on the city clock); windows and
    /// deadlines count from it.
    pub as_of: NaiveDate,
    /// Things the reader should know that are not point changes (rule set out of force,
    /// an expression that could not be evaluated, findings ignored), in Chinese.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The tree: an `Assessment` node whose children are the vetoes, components and bonus.
    pub root: Node,
}

/// What a node of the tree stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// The root: the whole rule set, its points and the final base score.
    Assessment,
    /// The group of veto items (单项否决) checked before anything is scored.
    Vetoes,
    /// One veto item; its notes say whether its condition was met.
    Veto,
    /// The indicators excluded as not applicable (不适用) and how their points were redistributed.
    NotApplicable,
    /// One assessment method (e.g. website inspection, self-assessment), with its weight.
    Component,
    /// One scored indicator (指标) inside a component.
    Indicator,
    /// One deduction line under an indicator: what was found and the points it cost.
    Deduction,
    /// One self-assessed indicator: the points the unit claimed and those granted.
    SelfClaim,
    /// The bonus group (加分项), counted only when the base score clears its gate.
    Bonus,
    /// One bonus line that earned points.
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
    /// What the node stands for; decides which point fields are meaningful.
    pub kind: NodeKind,
    /// The rule file's id for the item (indicator, veto, component…), or a fixed id for groups.
    pub id: String,
    /// The Chinese title from the rule file, shown to the unit.
    pub label: String,
    /// Points at stake at this node before any deduction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<Decimal>,
    /// Points deducted here (deductions, indicators, the not-applicable redistribution).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<Decimal>,
    /// Points earned here (bonus group and bonus lines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gained: Option<Decimal>,
    /// Points the node ends with, after deductions and caps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<Decimal>,
    /// The cap that limited this node's points, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap: Option<Decimal>,
    /// A component's weight in the total (e.g. 0.6); only on component nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<Decimal>,
    /// On a self-claim node: the points the unit claimed (before caps and verification), so
    /// that over-claiming can be reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed: Option<Decimal>,
    /// Explanations in Chinese: conditions met, formulas, caps, why points were not counted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The findings, values and claims the node's points rest on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Cited>,
    /// Sub-nodes, in the rule file's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

impl Node {
    /// A node with no points, notes, evidence or children; the engine fills in what applies.
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
    /// A finding the points rest on (a deduction line's problem, a veto's trigger).
    Finding {
        /// The finding's record id in the store, when it has been saved.
        id: Option<String>,
        /// The check id that produced it (e.g. `link.broken`).
        check: String,
        /// Who recorded it: crawler, inspector or self-assessment.
        source: Source,
        /// The page the finding is about, if any.
        url: Option<String>,
        /// When the problem was observed, UTC.
        observed_at: DateTime<Utc>,
    },
    /// A variable an expression read: a count or a metric.
    Value {
        /// The variable's name in the expression, e.g. a check id or a metric such as `site.failure_ratio`.
        name: String,
        /// The Chinese title of the check, counter or metric, from the rule file.
        label: String,
        /// The value read at assessment time.
        value: Decimal,
        /// The metric was not measured and its declared default was used.
        #[serde(default)]
        defaulted: bool,
    },
    /// A self-assessment claim a self-claim node scored.
    Claim {
        /// The self-assessment item's id, as in the rule file.
        item: String,
        /// The points the unit claimed for it, before caps and verification.
        claimed: Decimal,
    },
}
