//! What pages and the API show, assembled once for both: each view reads what one page or
//! answer needs from the store and shapes it.

pub mod accounts;
pub mod annual_report;
pub mod audit;
pub mod cycles;
pub mod finding;
pub mod groups;
pub mod inspector;
pub mod jobs;
pub mod notices;
pub mod ranking;
pub mod registry;
pub mod schedule;
pub mod unit_detail;
pub mod units;
