//! What pages and the API show, assembled once for both (being written).
pub mod inspector;
pub mod ranking;
pub mod unit_detail;
