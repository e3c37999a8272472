//! gongkai — compliance inspection and scoring for government information disclosure
//! (政府信息公开).
//!
//! Data flows one way (DESIGN.md §3): the units registry feeds the crawlers and inspectors,
//! whose findings and metrics feed the rule engine, whose scores feed rankings and
//! notifications. Each module owns one stage; `model` holds the plain types they share.

pub mod assess;
pub mod auth;
pub mod cli;
pub mod crawl;
pub mod demo;
pub mod inspection;
pub mod jobs;
pub mod model;
pub mod notify;
pub mod registry;
pub mod rules;
pub mod schedule;
pub mod store;
pub mod text;
pub mod web;
