//! Integration tests, one binary for all (each file under tests/ would link SurrealDB again).

mod accounts;
mod assessment;
mod browser;
mod browser_driver;
mod catalogue;
mod catalogue_fixtures;
mod cli;
mod crawl_fetch;
mod demo;
mod fixture_server;
mod inspection;
mod site_checks;
mod support;
mod units_store;
mod web_api;
mod web_auth;
mod web_flows;
mod web_leader;
mod web_office;
mod web_roles;
mod web_store;
mod web_support;
