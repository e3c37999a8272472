//! What pages and the API change, done once for both (being written).

pub mod finding;
pub mod self_assessment;
pub mod visit;
