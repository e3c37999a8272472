//! The rectification loop (DESIGN.md §1, §2): a unit answers a finding — fixed, or disputed
//! with a reason — and an inspector or the office decides. This module holds only the rules of
//! the loop: which moves exist from which status, and when a note is required. Who may make a
//! move is the web layer's decision; writing one is the store's.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{FindingStatus, OrgCode, Role};

/// The longest note a move may carry, in characters (the same bound as an inspector's note).
pub const MAX_RECTIFICATION_NOTE_CHARS: usize = 2_000;

/// Which side of the loop a move belongs to. The web layer maps roles onto sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RectificationSide {
    /// The unit the finding is about.
    Unit,
    /// An inspector or the office, checking the unit's answer.
    Reviewer,
}

/// One move in the rectification loop.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RectificationAction {
    /// Unit: the problem is fixed (open or confirmed → rectified).
    Rectify,
    /// Unit: the finding is wrong (open → disputed); the reason is required.
    Dispute,
    /// Reviewer: the fix is real (rectified → closed).
    ConfirmFix,
    /// Reviewer: the fix is not real (rectified → open).
    RejectFix,
    /// Reviewer: the dispute is right and the finding is withdrawn (disputed → closed).
    Withdraw,
    /// Reviewer: the dispute is wrong and the finding stands (disputed → confirmed).
    Uphold,
    /// Reviewer: seen fixed on a follow-up visit without the unit answering (open → closed).
    SeenFixed,
}

/// A move that the loop does not allow, or that lacks what it needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RectificationError {
    /// The loop has no such move from the finding's current status.
    #[error("问题当前状态为“{}”，不能执行“{}”", status_label_zh(*.from), .action.label_zh())]
    NotAllowed {
        /// The move attempted.
        action: RectificationAction,
        /// The finding's current status.
        from: FindingStatus,
    },
    /// A dispute without a reason; holds the move.
    #[error("“{}”须填写理由", .0.label_zh())]
    NoteRequired(RectificationAction),
    /// The note is longer than the limit; holds the limit in characters.
    #[error("说明不能超过 {0} 个字符")]
    NoteTooLong(usize),
    /// The action name is not one of the loop's; holds it as given.
    #[error("未知的整改操作“{0}”")]
    UnknownAction(String),
}

impl RectificationAction {
    /// Every move, in table order.
    pub const ALL: [RectificationAction; 7] = [
        RectificationAction::Rectify,
        RectificationAction::Dispute,
        RectificationAction::ConfirmFix,
        RectificationAction::RejectFix,
        RectificationAction::Withdraw,
        RectificationAction::Uphold,
        RectificationAction::SeenFixed,
    ];

    /// The name used in forms, the API, the event log and audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            RectificationAction::Rectify => "rectify",
            RectificationAction::Dispute => "dispute",
            RectificationAction::ConfirmFix => "confirm_fix",
            RectificationAction::RejectFix => "reject_fix",
            RectificationAction::Withdraw => "withdraw",
            RectificationAction::Uphold => "uphold",
            RectificationAction::SeenFixed => "seen_fixed",
        }
    }

    /// The move's Chinese name, as the buttons and the event log show it.
    pub fn label_zh(self) -> &'static str {
        match self {
            RectificationAction::Rectify => "已整改",
            RectificationAction::Dispute => "申辩",
            RectificationAction::ConfirmFix => "确认已整改",
            RectificationAction::RejectFix => "整改未到位",
            RectificationAction::Withdraw => "撤销问题",
            RectificationAction::Uphold => "维持问题",
            RectificationAction::SeenFixed => "复查已整改",
        }
    }

    /// Which side of the loop makes this move.
    pub fn side(self) -> RectificationSide {
        match self {
            RectificationAction::Rectify | RectificationAction::Dispute => RectificationSide::Unit,
            _ => RectificationSide::Reviewer,
        }
    }

    /// The status this move leads to from `from`, or `None` where the loop has no such move.
    /// This is the whole transition table.
    pub fn target(self, from: FindingStatus) -> Option<FindingStatus> {
        use FindingStatus::{Closed, Confirmed, Disputed, Open, Rectified};
        use RectificationAction::*;
        match (self, from) {
            (Rectify, Open | Confirmed) => Some(Rectified),
            (Dispute, Open) => Some(Disputed),
            (ConfirmFix, Rectified) => Some(Closed),
            (RejectFix, Rectified) => Some(Open),
            (Withdraw, Disputed) => Some(Closed),
            (Uphold, Disputed) => Some(Confirmed),
            (SeenFixed, Open) => Some(Closed),
            _ => None,
        }
    }

    /// A dispute without a reason cannot be judged; every other note is optional.
    pub fn note_required(self) -> bool {
        self == RectificationAction::Dispute
    }

    /// Checks a move against the table and its note, returning the new status and the note as
    /// it should be kept (trimmed; blank becomes none).
    pub fn apply(
        self,
        from: FindingStatus,
        note: Option<&str>,
    ) -> Result<(FindingStatus, Option<String>), RectificationError> {
        let to = self.target(from).ok_or(RectificationError::NotAllowed { action: self, from })?;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_none() && self.note_required() {
            return Err(RectificationError::NoteRequired(self));
        }
        if note.is_some_and(|n| n.chars().count() > MAX_RECTIFICATION_NOTE_CHARS) {
            return Err(RectificationError::NoteTooLong(MAX_RECTIFICATION_NOTE_CHARS));
        }
        Ok((to, note.map(str::to_string)))
    }

    /// The moves open from a status, in table order (for offering buttons).
    pub fn available(from: FindingStatus) -> Vec<RectificationAction> {
        Self::ALL.into_iter().filter(|action| action.target(from).is_some()).collect()
    }
}

impl fmt::Display for RectificationAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RectificationAction {
    type Err = RectificationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|action| action.as_str() == s.trim())
            .ok_or_else(|| RectificationError::UnknownAction(s.to_string()))
    }
}

/// How a finding's status reads in Chinese. A free function so that this module does not add
/// to [`FindingStatus`]'s own impl from afar.
pub fn status_label_zh(status: FindingStatus) -> &'static str {
    match status {
        FindingStatus::Open => "待整改",
        FindingStatus::Rectified => "已整改待核实",
        FindingStatus::Disputed => "申辩待核实",
        FindingStatus::Confirmed => "问题属实",
        FindingStatus::Closed => "已关闭",
    }
}

/// One recorded move: who moved a finding from which status to which, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FindingEvent {
    /// The finding's id as text (`finding:…`).
    pub finding: String,
    /// The unit the finding is about.
    pub unit: OrgCode,
    /// When the move was made, UTC.
    pub at: DateTime<Utc>,
    /// Who made it: an account's username.
    pub actor: String,
    /// The role the actor held when moving (unit, inspector, office).
    pub role: Role,
    /// The move made.
    pub action: RectificationAction,
    /// The finding's status before the move.
    pub from: FindingStatus,
    /// Its status after the move.
    pub to: FindingStatus,
    /// The reason or remark given, trimmed; a dispute always has one.
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use FindingStatus::*;
    use RectificationAction::*;

    const STATUSES: [FindingStatus; 5] = [Open, Rectified, Disputed, Confirmed, Closed];

    /// The table of the brief, written out independently of `target`.
    const ALLOWED: [(RectificationAction, FindingStatus, FindingStatus); 8] = [
        (Rectify, Open, Rectified),
        (Rectify, Confirmed, Rectified),
        (Dispute, Open, Disputed),
        (ConfirmFix, Rectified, Closed),
        (RejectFix, Rectified, Open),
        (Withdraw, Disputed, Closed),
        (Uphold, Disputed, Confirmed),
        (SeenFixed, Open, Closed),
    ];

    #[test]
    fn every_pair_of_action_and_status_follows_the_table() {
        for action in RectificationAction::ALL {
            for from in STATUSES {
                let expected =
                    ALLOWED.iter().find(|(a, f, _)| *a == action && *f == from).map(|(_, _, to)| *to);
                let got = action.apply(from, Some("说明")).ok().map(|(to, _)| to);
                assert_eq!(got, expected, "{action} from {from:?}");
                if expected.is_none() {
                    assert_eq!(
                        action.apply(from, Some("说明")),
                        Err(RectificationError::NotAllowed { action, from })
                    );
                }
            }
        }
        assert!(RectificationAction::available(Closed).is_empty(), "closed is final");
    }

    #[test]
    fn a_dispute_needs_a_reason_and_other_notes_are_optional() {
        assert_eq!(Dispute.apply(Open, None), Err(RectificationError::NoteRequired(Dispute)));
        assert_eq!(Dispute.apply(Open, Some("  \n")), Err(RectificationError::NoteRequired(Dispute)));
        assert_eq!(Dispute.apply(Open, Some(" 栏目已存在 ")), Ok((Disputed, Some("栏目已存在".to_string()))));
        assert_eq!(Rectify.apply(Open, None), Ok((Rectified, None)));
        let long = "字".repeat(MAX_RECTIFICATION_NOTE_CHARS + 1);
        assert_eq!(
            Rectify.apply(Open, Some(&long)),
            Err(RectificationError::NoteTooLong(MAX_RECTIFICATION_NOTE_CHARS))
        );
    }

    #[test]
    fn refusals_are_worded_in_chinese_and_names_round_trip() {
        let refusal = Withdraw.apply(Open, None).expect_err("refused").to_string();
        assert!(refusal.contains("待整改") && refusal.contains("撤销问题"), "{refusal}");
        for action in RectificationAction::ALL {
            assert_eq!(action.as_str().parse::<RectificationAction>(), Ok(action));
        }
        assert!("close".parse::<RectificationAction>().is_err());
        assert_eq!(Rectify.side(), RectificationSide::Unit);
        assert_eq!(SeenFixed.side(), RectificationSide::Reviewer);
    }
}
