//! The `surreal` binary: SurrealDB's own command line (`surreal start …`), built from the
//! `surrealdb-server` library so that the project can run a real server in its cluster test.

#![recursion_limit = "256"]

use std::process::ExitCode;

fn main() -> ExitCode {
    surrealdb_server::init(surrealdb_server::core::CommunityComposer())
}
