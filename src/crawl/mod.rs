//! The crawler's fetching layer, shared by every website and catalogue check (DESIGN.md §4, §7):
//! fetch a URL politely and safely, decode it, pull its links, and keep a per-site queue that
//! always terminates. Checks are built on top; nothing here knows about findings or the store.

// A failed fetch is the slow path beside a network request: errors stay plain values, not boxed,
// so that checks match on them and name the URL without indirection.
#![allow(clippy::result_large_err)]

pub mod availability;
pub mod catalogue;
pub mod checks;
pub mod config;
pub mod dates;
pub mod error;
pub mod fetch;
pub mod frontier;
pub mod guard;
pub mod links;
pub mod nesting;
pub mod parse_pool;
pub mod politeness;
pub mod profile;
pub mod report;
pub mod same_site;
pub mod site;

pub use config::{ConfigError, DEFAULT_USER_AGENT, FetchConfig};
pub use error::{BuildError, FetchError};
pub use fetch::{Fetcher, Page};
pub use frontier::{Admission, Frontier, FrontierConfig, Queued, normalize};
pub use links::{Link, extract_links};
