//! The per-site crawl queue. Sites generate URLs without end (calendars, session ids, search
//! pages), so the queue admits a URL only once, only on the unit's own site (its registrable
//! domain and the hosts allowed explicitly, see [`super::same_site`]), only up to a depth and
//! only up to a page count: whatever a site does, the crawl of it terminates and its memory is
//! bounded by the page cap.

use std::collections::{HashSet, VecDeque};

use serde::Deserialize;
use url::Url;

use super::same_site::SiteScope;

/// URLs longer than this are not queued: no real page needs one, and a site that builds ever
/// longer URLs must not be able to grow the seen-set by kilobytes per entry.
pub const MAX_URL_LEN: usize = 2048;

/// Limits of one site's crawl.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FrontierConfig {
    /// URLs admitted at most (the seed included).
    pub max_pages: usize,
    /// Links followed at most from the seed (the seed is depth 0).
    pub max_depth: u32,
}

impl Default for FrontierConfig {
    fn default() -> Self {
        Self { max_pages: 500, max_depth: 4 }
    }
}

/// The canonical form of a URL for de-duplication: http(s) only, fragment dropped. The `url`
/// crate already lower-cases the host and drops a default port when parsing special schemes;
/// both are done again here so the function does not depend on how the `Url` was built. Nothing
/// else is changed (query order is meaningful to many servers).
pub fn normalize(url: &Url) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    let mut url = url.clone();
    url.set_fragment(None);
    if let Some(host) = url.host_str().map(str::to_ascii_lowercase) {
        // Lower-casing keeps a valid host valid, so this cannot fail for an http(s) URL.
        url.set_host(Some(&host)).ok()?;
    }
    if url.port().is_some() && url.port() == default_port(url.scheme()) {
        url.set_port(None).ok()?;
    }
    Some(url)
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// A URL waiting to be fetched, with how many links away from the seed it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The URL in canonical form (see [`normalize`]).
    pub url: Url,
    /// Links followed from the seed to reach it; the seed is 0.
    pub depth: u32,
}

/// What happened to a URL offered to the frontier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Admitted and waiting to be fetched.
    Queued,
    /// Already queued or fetched.
    Duplicate,
    /// Not http(s) or has no host.
    NotWeb,
    /// On another site than the unit's (another registrable domain, not allowed explicitly).
    OffSite,
    /// More links away from the seed than `max_depth`.
    TooDeep,
    /// Longer than `MAX_URL_LEN` bytes (2,048): generated URLs that never end.
    TooLong,
    /// The site's page cap has been reached.
    PageCapReached,
}

/// One site's crawl queue, breadth first.
#[derive(Debug)]
pub struct Frontier {
    config: FrontierConfig,
    scope: SiteScope,
    seen: HashSet<Url>,
    queue: VecDeque<Queued>,
    /// Some URL was refused for the page or depth cap: the crawl did not see the whole site,
    /// so a check must not conclude that something is absent from it.
    capped: bool,
}

impl Frontier {
    /// A frontier for the site at `seed`, which is queued at depth 0. The site is the seed's
    /// registrable domain (every subdomain of it); add hosts elsewhere one by one with
    /// [`Frontier::allow_host`].
    pub fn new(seed: &Url, config: FrontierConfig) -> Option<Self> {
        let seed = normalize(seed)?;
        let mut frontier = Self {
            config,
            scope: SiteScope::of(&seed)?,
            seen: HashSet::new(),
            queue: VecDeque::new(),
            capped: false,
        };
        frontier.push(&seed, 0);
        Some(frontier)
    }

    /// Treats `host` (that host only, not its registrable domain) as part of the site too.
    pub fn allow_host(&mut self, host: &str) {
        self.scope.allow_host(host);
    }

    /// Treats each of `hosts` as part of the site too: the profile's `[links] follow_hosts`,
    /// the host of the unit's registered catalogue.
    pub fn allow_hosts<'h>(&mut self, hosts: impl IntoIterator<Item = &'h str>) {
        for host in hosts {
            self.allow_host(host);
        }
    }

    /// Whether `url` is on the site (its registrable domain or a host allowed explicitly),
    /// whatever the caps say: pages fetched outside the crawl's order (column and “more” pages)
    /// should pass this too, so that no check fetches another site's page (issue #11).
    pub fn on_site(&self, url: &Url) -> bool {
        normalize(url).is_some_and(|url| self.scope.contains(&url))
    }

    /// Offers a URL found at `depth` (the depth of the page it was found on, plus one).
    pub fn push(&mut self, url: &Url, depth: u32) -> Admission {
        let Some(url) = normalize(url) else { return Admission::NotWeb };
        if !self.scope.contains(&url) {
            return Admission::OffSite;
        }
        if url.as_str().len() > MAX_URL_LEN {
            return Admission::TooLong;
        }
        if self.seen.contains(&url) {
            return Admission::Duplicate;
        }
        if depth > self.config.max_depth {
            self.capped = true;
            return Admission::TooDeep;
        }
        if self.seen.len() >= self.config.max_pages {
            self.capped = true;
            return Admission::PageCapReached;
        }
        self.seen.insert(url.clone());
        self.queue.push_back(Queued { url, depth });
        Admission::Queued
    }

    /// The next URL to fetch, oldest first (breadth first keeps the pages nearest the home
    /// page, which matter most, inside the page cap).
    pub fn pop(&mut self) -> Option<Queued> {
        self.queue.pop_front()
    }

    /// URLs admitted so far (fetched or waiting).
    pub fn admitted(&self) -> usize {
        self.seen.len()
    }

    /// URLs waiting to be fetched.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Whether the page or depth cap cut the crawl short.
    pub fn capped(&self) -> bool {
        self.capped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test url")
    }

    #[test]
    fn normalisation_drops_fragment_case_and_default_port_only() {
        let n = normalize(&url("HTTP://WWW.Nanning.GOV.cn:80/Xxgk/?b=2&a=1#top")).expect("web url");
        assert_eq!(n.as_str(), "http://www.nanning.gov.cn/Xxgk/?b=2&a=1");
        let n = normalize(&url("https://a.gov.cn:8443/x")).expect("web url");
        assert_eq!(n.as_str(), "https://a.gov.cn:8443/x");
        assert_eq!(normalize(&url("mailto:gk@nanning.gov.cn")), None);
        assert_eq!(normalize(&url("javascript:void(0)")), None);
    }

    #[test]
    fn duplicates_and_other_sites_are_refused() {
        let mut f = Frontier::new(&url("http://a.gov.cn/"), FrontierConfig::default()).expect("frontier");
        assert_eq!(f.push(&url("http://A.gov.cn/#main"), 1), Admission::Duplicate);
        assert_eq!(f.push(&url("http://a.gov.cn:80/news/"), 1), Admission::Queued);
        assert_eq!(f.push(&url("http://a.gov.cn/news/#list"), 1), Admission::Duplicate);
        assert_eq!(f.push(&url("https://a.gov.cn/news/"), 1), Admission::Queued);
        assert_eq!(f.push(&url("http://evil.example.com/"), 1), Admission::OffSite);
        f.allow_host("WWW.a.gov.cn");
        assert_eq!(f.push(&url("http://www.a.gov.cn/"), 1), Admission::Queued);
        assert_eq!(f.admitted(), 4);
        assert!(!f.capped());
    }

    #[test]
    fn the_site_is_the_registrable_domain_plus_hosts_allowed() {
        let mut f =
            Frontier::new(&url("http://www.nj.gov.cn/"), FrontierConfig::default()).expect("frontier");
        assert_eq!(f.push(&url("http://xxgk.nj.gov.cn/"), 1), Admission::Queued);
        assert_eq!(f.push(&url("https://nj.gov.cn:8443/a"), 1), Admission::Queued);
        assert_eq!(f.push(&url("http://www.nanjing.gov.cn/"), 1), Admission::OffSite);
        assert_eq!(f.push(&url("http://www.gov.cn/"), 1), Admission::OffSite);
        assert_eq!(f.push(&url("http://zwgk.jiangsu.gov.cn/nj/"), 1), Admission::OffSite);
        assert!(
            f.on_site(&url("https://XXGK.nj.gov.cn/any")) && !f.on_site(&url("http://zwgk.jiangsu.gov.cn/"))
        );
        f.allow_hosts(["zwgk.jiangsu.gov.cn"]);
        assert!(f.on_site(&url("http://zwgk.jiangsu.gov.cn/")));
        assert_eq!(f.push(&url("http://zwgk.jiangsu.gov.cn/nj/"), 1), Admission::Queued);
        assert_eq!(f.push(&url("http://www.jiangsu.gov.cn/"), 1), Admission::OffSite);

        let mut f =
            Frontier::new(&url("http://127.0.0.1:8080/"), FrontierConfig::default()).expect("frontier");
        assert_eq!(f.push(&url("http://127.0.0.1:9090/"), 1), Admission::Queued);
        assert_eq!(f.push(&url("http://127.0.0.2:8080/"), 1), Admission::OffSite);
        assert_eq!(f.push(&url("http://localhost:8080/"), 1), Admission::OffSite);
    }

    #[test]
    fn depth_and_page_caps_end_the_crawl() {
        let config = FrontierConfig { max_pages: 3, max_depth: 1 };
        let mut f = Frontier::new(&url("http://a.gov.cn/"), config).expect("frontier");
        assert_eq!(f.push(&url("http://a.gov.cn/deep"), 2), Admission::TooDeep);
        assert!(f.capped());
        assert_eq!(f.push(&url("http://a.gov.cn/1"), 1), Admission::Queued);
        assert_eq!(f.push(&url("http://a.gov.cn/2"), 1), Admission::Queued);
        assert_eq!(f.push(&url("http://a.gov.cn/3"), 1), Admission::PageCapReached);
        let long = format!("http://a.gov.cn/{}", "x".repeat(MAX_URL_LEN));
        assert_eq!(f.push(&url(&long), 1), Admission::TooLong);
        let popped: Vec<String> = std::iter::from_fn(|| f.pop()).map(|q| q.url.path().to_owned()).collect();
        assert_eq!(popped, ["/", "/1", "/2"]);
    }
}
