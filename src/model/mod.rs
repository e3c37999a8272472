//! Plain domain types. Nothing here knows about SurrealDB, Rocket or files: the store and
//! the web layer convert to and from these.

mod account;
mod catalogue;
pub mod check;
mod clock;
mod evidence;
mod org_code;
mod rectification;
mod unchecked;
mod unit;

pub use account::{Account, AccountError, MIN_PASSWORD_CHARS, Role};
pub use catalogue::CatalogueEntry;
pub use check::{CHECKS, Check, MISSING_EVIDENCE_CHECKS, check_info, is_check_id, is_missing_evidence};
pub use clock::CityClock;
pub use evidence::{CrawlKind, Finding, FindingStatus, Metric, SelfClaim, Source, UnitEvidence};
pub use org_code::{
    OrgCode, OrgCodeError, credit_check_character, organisation_check_character, synthetic_credit_code,
};
pub use rectification::{
    FindingEvent, MAX_RECTIFICATION_NOTE_CHARS, RectificationAction, RectificationError, RectificationSide,
    status_label_zh,
};
pub use unchecked::Unchecked;
pub use unit::{Unit, UnitKind, UnknownUnitKind};
