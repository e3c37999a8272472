//! Integration tests, one binary for all (each file under tests/ would link SurrealDB again).

mod accounts;
mod assessment;
mod catalogue;
mod catalogue_fixtures;
mod cli;
mod crawl_fetch;
mod fixture_server;
mod inspection;
mod site_checks;
mod support;
mod units_store;
