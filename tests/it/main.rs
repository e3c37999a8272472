//! Integration tests, one binary for all (each file under tests/ would link SurrealDB again).

mod cli;
mod support;
mod units_store;
