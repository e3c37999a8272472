//! What pages and the API change, done once for both: each action checks its input, writes
//! through the store and leaves an audit record, and answers a typed outcome.

pub mod account;
pub mod audit;
pub mod cycles;
pub mod finding;
pub mod groups;
pub mod jobs;
pub mod notices;
pub mod registry;
pub mod schedule;
pub mod self_assessment;
pub mod visit;

/// A request refused for what was asked (not a failure): the message the person sees, in
/// Chinese, naming what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);
