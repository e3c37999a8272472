//! What every request handler shares: the store, the templates, the login throttle, the
//! background jobs, and how the server was started.

use std::net::IpAddr;

use super::fragments::FragmentCache;
use super::hashing::PasswordGate;
use super::jobs::JobBoard;
use super::templates::Templates;
use super::throttle::LoginThrottle;
use crate::store::Store;

/// How `gongkai serve` (or `gongkai demo`) was asked to run.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The address to listen on (`--address`); loopback by default.
    pub address: IpAddr,
    /// The TCP port to listen on (`--port`).
    pub port: u16,
    /// Let crawls started from the dashboard reach loopback and private addresses (the demo
    /// city and intranet deployments); without it such targets are refused, as on the CLI.
    pub allow_private: bool,
    /// Session lifetime in minutes; a session is refused after this even if the browser kept
    /// the cookie.
    pub session_minutes: i64,
    /// Rocket's worker threads; `None` keeps Rocket's default (the number of cores).
    pub workers: Option<usize>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`); from anyone
    /// else, forwarding headers are ignored and the peer's address is the client's.
    pub trusted_proxies: Vec<IpAddr>,
    /// The address people use (`--public-url`). When it is `https://…`, TLS ends in front of
    /// gongkai: cookies are marked `Secure` and HSTS is sent.
    pub public_url: Option<String>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            address: IpAddr::from([127, 0, 0, 1]),
            port: 8000,
            allow_private: false,
            session_minutes: 8 * 60,
            workers: None,
            trusted_proxies: Vec::new(),
            public_url: None,
        }
    }
}

/// Managed by Rocket; handlers take `&State<AppState>`.
pub struct AppState {
    /// The database every page reads and every action writes.
    pub store: Store,
    /// The page templates, loaded once at start.
    pub templates: Templates,
    /// Failed-login counts per account and address, in memory.
    pub throttle: LoginThrottle,
    /// Limits how many password hashes run at once.
    pub passwords: PasswordGate,
    /// The background crawls and assessments started from the dashboard.
    pub jobs: JobBoard,
    /// Ranking page content kept per (cycles' stamps, filters, page).
    pub ranking_pages: FragmentCache,
    /// Unit page content kept per (the store's change stamp, unit, cycle, actions).
    pub unit_pages: FragmentCache,
    /// How the server was started.
    pub config: WebConfig,
}
