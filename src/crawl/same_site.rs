//! What counts as the unit's own site (issue #11). A unit answers for its own website, so the
//! crawler follows links only within it: the same registrable domain (eTLD+1, by the public
//! suffix list) as the page the crawl started from, plus hosts named explicitly (the registered
//! catalogue's host, hosts the profile allow-lists, hosts that redirected to the site).
//!
//! `www.nj.gov.cn` and `xxgk.nj.gov.cn` are one site (`nj.gov.cn`, under the public suffix
//! `gov.cn`); `nanjing.gov.cn` and `nj.gov.cn` are two. An IP address, a single-label name
//! (`localhost`) or a name that is itself a public suffix has no registrable domain: it is the
//! same site only as the identical host. Ports and schemes do not matter, as for a browser's
//! "same site": the host decides.

use std::collections::BTreeSet;

use url::{Host, Url};

/// The site `host` (a URL's `host_str()`) belongs to: its registrable domain, or the host
/// itself when it has none (IP addresses, `localhost`, a bare public suffix).
pub fn site_of(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match Host::parse(&host) {
        Ok(Host::Domain(_)) => {}
        // An IPv4 address parses as a domain with a numeric "TLD" in the suffix list's eyes.
        Ok(Host::Ipv4(_) | Host::Ipv6(_)) | Err(_) => return host,
    }
    if !host.contains('.') {
        return host;
    }
    match psl::domain_str(&host) {
        Some(domain) => domain.to_owned(),
        None => host,
    }
}

/// Whether two URLs are on the same site (same registrable domain, or the identical host when
/// there is none).
pub fn same_site(a: &Url, b: &Url) -> bool {
    match (a.host_str(), b.host_str()) {
        (Some(a), Some(b)) => site_of(a) == site_of(b),
        _ => false,
    }
}

/// A host name or IP address as a URL spells it (lower case, IPv6 in brackets), read from a
/// setting such as `[links] follow_hosts`. `None` for anything with a scheme, port, path or
/// user: a listed host is a host, nothing more.
pub fn parse_host(entry: &str) -> Option<String> {
    let entry = entry.trim();
    if entry.is_empty() || entry.contains(['/', '@', '?', '#', '\\']) {
        return None;
    }
    let url = Url::parse(&format!("http://{entry}/")).ok()?;
    if url.port().is_some() || entry.rsplit_once(':').is_some_and(|(_, p)| !p.ends_with(']')) {
        return None;
    }
    url.host_str().map(str::to_owned)
}

/// The hosts one unit's crawl may follow links to: the sites (registrable domains) of the pages
/// it started from, and hosts allowed one by one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteScope {
    sites: BTreeSet<String>,
    hosts: BTreeSet<String>,
}

impl SiteScope {
    /// The site of `url` (its registrable domain). `None` when the URL has no host.
    pub fn of(url: &Url) -> Option<Self> {
        let mut scope = Self::default();
        scope.sites.insert(site_of(url.host_str()?));
        Some(scope)
    }

    /// Lets `host` in too, and only that host (not its whole registrable domain): a redirect
    /// origin or an allow-listed host vouches for itself, not for its neighbours.
    pub fn allow_host(&mut self, host: &str) {
        self.hosts.insert(host.trim_end_matches('.').to_ascii_lowercase());
    }

    /// Whether links to `host` stay on the site.
    pub fn contains_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&host) || self.sites.contains(&site_of(&host))
    }

    /// Whether `url` is a web address on the site.
    pub fn contains(&self, url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| self.contains_host(h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test url")
    }

    #[test]
    fn gov_cn_subdomains_share_their_registrable_domain() {
        assert_eq!(site_of("www.nj.gov.cn"), "nj.gov.cn");
        assert_eq!(site_of("xxgk.nj.gov.cn"), "nj.gov.cn");
        assert_eq!(site_of("WWW.NanJing.gov.cn"), "nanjing.gov.cn");
        assert_eq!(site_of("nanjing.gov.cn."), "nanjing.gov.cn");
        assert_eq!(site_of("a.b.c.nanning.gov.cn"), "nanning.gov.cn");
        assert_eq!(site_of("www.example.com.cn"), "example.com.cn");
        assert!(same_site(&url("http://www.nj.gov.cn/"), &url("https://xxgk.nj.gov.cn/a/b.html")));
        // Ports and schemes do not make another site.
        assert!(same_site(&url("http://www.nj.gov.cn/"), &url("https://nj.gov.cn:8443/")));
    }

    #[test]
    fn different_registrable_domains_are_different_sites() {
        assert!(!same_site(&url("http://www.nj.gov.cn/"), &url("http://www.nanjing.gov.cn/")));
        // gov.cn is a public suffix: two cities under it are not one site.
        assert_eq!(site_of("gov.cn"), "gov.cn");
        assert!(!same_site(&url("http://gov.cn/"), &url("http://nj.gov.cn/")));
        assert!(!same_site(&url("http://nj.gov.cn/"), &url("http://nj.gov.cn.evil.com/")));
        assert!(!same_site(&url("http://www.nj.gov.cn/"), &url("http://www.nj.edu.cn/")));
        assert!(!same_site(&url("http://www.nj.gov.cn/"), &url("mailto:gk@nj.gov.cn")));
    }

    #[test]
    fn ips_and_single_labels_are_only_themselves() {
        assert_eq!(site_of("127.0.0.1"), "127.0.0.1");
        assert!(same_site(&url("http://127.0.0.1:8080/"), &url("http://127.0.0.1:9090/x")));
        assert!(!same_site(&url("http://127.0.0.1/"), &url("http://127.0.0.2/")));
        assert!(!same_site(&url("http://10.0.0.1/"), &url("http://10.0.0.2/")));
        assert!(!same_site(&url("http://[::1]/"), &url("http://[::2]/")));
        assert!(same_site(&url("http://[::1]:1/"), &url("http://[::1]:2/")));
        assert_eq!(site_of("localhost"), "localhost");
        assert!(!same_site(&url("http://localhost/"), &url("http://127.0.0.1/")));
        assert!(!same_site(&url("http://localhost/"), &url("http://intranet/")));
    }

    #[test]
    fn a_scope_holds_its_site_and_the_hosts_allowed_one_by_one() {
        let mut scope = SiteScope::of(&url("http://www.nj.gov.cn/")).expect("scope");
        assert!(scope.contains(&url("http://xxgk.nj.gov.cn/")));
        assert!(!scope.contains(&url("http://www.nanjing.gov.cn/")));
        assert!(!scope.contains(&url("ftp://www.nj.gov.cn/")));
        scope.allow_host("ZWGK.Jiangsu.gov.cn");
        assert!(scope.contains(&url("http://zwgk.jiangsu.gov.cn/nj/")));
        assert!(
            !scope.contains(&url("http://www.jiangsu.gov.cn/")),
            "an allowed host is not its whole domain"
        );
    }

    #[test]
    fn listed_hosts_are_hosts_only() {
        assert_eq!(parse_host(" Zwgk.Jiangsu.GOV.cn "), Some("zwgk.jiangsu.gov.cn".to_owned()));
        assert_eq!(parse_host("10.1.2.3"), Some("10.1.2.3".to_owned()));
        assert_eq!(parse_host("[::1]"), Some("[::1]".to_owned()));
        for bad in ["", "a.gov.cn:8080", "http://a.gov.cn", "a.gov.cn/x", "u@a.gov.cn", "[::1]:80"] {
            assert_eq!(parse_host(bad), None, "{bad}");
        }
    }
}
