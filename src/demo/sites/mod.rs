//! The demo city's websites and catalogues, served by this process on loopback.
//!
//! Each unit's site listens on its own loopback address (127.0.1.1, 127.0.1.2, …) on an
//! ephemeral port, as `examples/bench_crawl.rs` does: the crawler's politeness is per host, so
//! 268 sites on one address would be crawled four requests at a time, while on their own
//! addresses they are crawled side by side. Where the system cannot bind those addresses (they
//! are routed to loopback on Linux, not everywhere) every site falls back to 127.0.0.1.
//!
//! Pages are rendered on request from the city plan and the era the demo is showing, so the
//! same servers show the previous quarter's sites and then the current ones.

mod catalogue;
mod http;
mod report;
mod website;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::NaiveDate;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub(in crate::demo) use catalogue::{CatalogueView, ROOT as CATALOGUE_ROOT};
pub(in crate::demo) use website::SiteView;
#[cfg(test)]
pub(in crate::demo) use website::emptied_column;

use super::plan::{Availability, CityPlan, Era};
use crate::crawl::catalogue::CatalogueProfile;
use crate::crawl::profile::SiteProfile;
use crate::model::{OrgCode, Unit};

/// How long a slow site takes to answer each request.
const SLOW_DELAY: Duration = Duration::from_millis(250);
/// Loopback addresses per /24 used for sites (127.0.1.1–127.0.1.250, then 127.0.2.x, …).
const SITES_PER_BLOCK: usize = 250;

/// One answer of a demo server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::demo) struct Page {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Page {
    fn html(body: String) -> Page {
        Page { status: 200, content_type: "text/html; charset=utf-8", body: body.into_bytes() }
    }

    fn status(status: u16, message: &str) -> Page {
        let body = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{status}</title></head><body><h1>{status} {message}</h1></body></html>"
        );
        Page { status, content_type: "text/html; charset=utf-8", body: body.into_bytes() }
    }

    fn not_found() -> Page {
        Page::status(404, "页面不存在")
    }

    /// A 1×1 transparent PNG: the badge image of the 党政机关 identity item.
    fn png() -> Page {
        const PIXEL: [u8; 67] = [
            0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
            0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
            0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
            0x42, 0x60, 0x82,
        ];
        Page { status: 200, content_type: "image/png", body: PIXEL.to_vec() }
    }
}

/// What a server does with a request.
enum Reply {
    Page {
        page: Page,
        delay: Option<Duration>,
    },
    /// Never answer.
    Silence,
}

/// Everything the servers render from, shared by all of them.
pub(in crate::demo) struct World {
    /// The units as registered in the shipped file (names, kinds, codes).
    units: Vec<Unit>,
    plan: CityPlan,
    site_profile: SiteProfile,
    catalogue_profile: CatalogueProfile,
    earlier_as_of: NaiveDate,
    current_as_of: NaiveDate,
    /// Showing the current era (else the earlier one).
    current: AtomicBool,
    served: AtomicU64,
}

impl World {
    pub(super) fn new(
        units: Vec<Unit>,
        plan: CityPlan,
        site_profile: SiteProfile,
        catalogue_profile: CatalogueProfile,
        (earlier_as_of, current_as_of): (NaiveDate, NaiveDate),
    ) -> World {
        World {
            units,
            plan,
            site_profile,
            catalogue_profile,
            earlier_as_of,
            current_as_of,
            current: AtomicBool::new(true),
            served: AtomicU64::new(0),
        }
    }

    pub(super) fn era(&self) -> Era {
        if self.current.load(Ordering::Relaxed) { Era::Current } else { Era::Earlier }
    }

    pub(super) fn set_era(&self, era: Era) {
        self.current.store(era == Era::Current, Ordering::Relaxed);
    }

    fn as_of(&self, era: Era) -> NaiveDate {
        match era {
            Era::Earlier => self.earlier_as_of,
            Era::Current => self.current_as_of,
        }
    }

    fn count_served(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn site_view(&self, unit: usize, era: Era) -> SiteView<'_> {
        let registered = &self.units[unit];
        SiteView {
            unit: registered,
            index: unit,
            state: self.plan.state(era, unit),
            as_of: self.as_of(era),
            columns: self.site_profile.columns_for(registered.kind),
            identity: &self.site_profile.identity,
        }
    }

    pub(super) fn catalogue_view(&self, unit: usize, era: Era) -> CatalogueView<'_> {
        let registered = &self.units[unit];
        CatalogueView {
            unit: registered,
            index: unit,
            state: self.plan.state(era, unit),
            as_of: self.as_of(era),
            classes: self.catalogue_profile.classes_for(registered.kind),
        }
    }

    /// Whether unit `unit`'s server is down in the era shown: its connections are reset at once.
    fn refuses(&self, unit: usize) -> bool {
        self.plan.state(self.era(), unit).availability == Availability::Refused
    }

    fn reply(&self, unit: usize, request: &http::Request) -> Reply {
        let era = self.era();
        let delay = match self.plan.state(era, unit).availability {
            // A connection accepted just before the era changed: nothing answers it.
            Availability::Silent | Availability::Refused => return Reply::Silence,
            Availability::Failing => {
                return Reply::Page { page: Page::status(502, "网关错误"), delay: None };
            }
            Availability::Slow => Some(SLOW_DELAY),
            Availability::Up => None,
        };
        let has_catalogue = self.units[unit].catalogue_url.is_some();
        let page = if request.path.starts_with(CATALOGUE_ROOT) {
            if has_catalogue {
                self.catalogue_view(unit, era).render(&request.path)
            } else {
                Page::not_found()
            }
        } else if request.path == CATALOGUE_ROOT.trim_end_matches('/') {
            if has_catalogue {
                self.catalogue_view(unit, era).render(CATALOGUE_ROOT)
            } else {
                Page::not_found()
            }
        } else {
            let agent = request.user_agent.to_ascii_lowercase();
            let spider = agent.contains("spider") || agent.contains("bot");
            self.site_view(unit, era).render(&request.path, spider)
        };
        Reply::Page { page, delay }
    }
}

/// The running demo servers. Dropping the handle (or calling [`DemoSites::stop`]) stops every
/// listener and closes every open connection.
pub struct DemoSites {
    world: Arc<World>,
    addresses: Vec<SocketAddr>,
    listeners: Vec<JoinHandle<()>>,
    /// Dropped with the handle: connection tasks watch it and end.
    _shutdown: watch::Sender<()>,
}

impl std::fmt::Debug for DemoSites {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoSites").field("sites", &self.addresses.len()).finish_non_exhaustive()
    }
}

/// A listener could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("无法在 {address} 上启动演示网站：{source}")]
pub struct BindError {
    /// The loopback address that could not be bound, or which site (第 N 个演示网站) failed.
    pub address: String,
    /// Why binding failed.
    #[source]
    pub source: std::io::Error,
}

impl DemoSites {
    /// Opens one listener per unit of `world` and starts serving.
    pub(in crate::demo) async fn start(world: Arc<World>) -> Result<DemoSites, BindError> {
        let (shutdown, watcher) = watch::channel(());
        let count = world.units.len();
        // Filled as servers start: returning early drops the handle, which stops them.
        let mut sites = DemoSites {
            world: world.clone(),
            addresses: Vec::with_capacity(count),
            listeners: Vec::with_capacity(count),
            _shutdown: shutdown,
        };
        let mut own_addresses = true;
        for unit in 0..count {
            let listener = match bind(unit, own_addresses).await {
                Ok(listener) => listener,
                Err(_) if own_addresses && unit == 0 => {
                    own_addresses = false;
                    bind(unit, false).await?
                }
                Err(error) => return Err(error),
            };
            let address = listener
                .local_addr()
                .map_err(|source| BindError {
                    address: format!("第 {} 个演示网站", unit + 1), source
                })?;
            sites.addresses.push(address);
            sites.listeners.push(tokio::spawn(http::serve(listener, world.clone(), unit, watcher.clone())));
        }
        Ok(sites)
    }

    /// Each unit's server address, in registry order.
    pub fn addresses(&self) -> &[SocketAddr] {
        &self.addresses
    }

    /// Each unit's code with its server address, in registry order.
    pub fn sites(&self) -> impl Iterator<Item = (&OrgCode, SocketAddr)> {
        self.world.units.iter().map(|u| &u.code).zip(self.addresses.iter().copied())
    }

    /// Responses written so far by all servers together.
    pub fn pages_served(&self) -> u64 {
        self.world.served.load(Ordering::Relaxed)
    }

    /// How many sites are served, one per unit.
    pub fn len(&self) -> usize {
        self.addresses.len()
    }

    /// No site is served.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
    }

    /// Stops every server (the same as dropping the handle).
    pub fn stop(self) {}

    pub(in crate::demo) fn world(&self) -> &World {
        &self.world
    }
}

impl Drop for DemoSites {
    fn drop(&mut self) {
        for listener in &self.listeners {
            listener.abort();
        }
    }
}

/// The listener of unit `unit`: on its own loopback address, or on 127.0.0.1.
async fn bind(unit: usize, own_address: bool) -> Result<TcpListener, BindError> {
    let ip = if own_address {
        let block = u8::try_from(1 + unit / SITES_PER_BLOCK).unwrap_or(u8::MAX);
        Ipv4Addr::new(127, 0, block, (1 + unit % SITES_PER_BLOCK) as u8)
    } else {
        Ipv4Addr::LOCALHOST
    };
    let address = SocketAddr::from((ip, 0));
    TcpListener::bind(address).await.map_err(|source| BindError { address: address.to_string(), source })
}
