//! Integration tests, one binary for all (each file under tests/ would link SurrealDB again).

mod assessment;
mod cli;
mod crawl_fetch;
mod fixture_server;
mod support;
mod units_store;
