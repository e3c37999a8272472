//! The client's address, for the login throttle and the log.
//!
//! By default it is the address of the TCP peer and nothing else: headers such as `X-Real-IP`
//! or `X-Forwarded-For` are written by the client and would let anyone pose as a new address
//! per request. Only when the peer is one of the proxies named with `--trusted-proxy` is its
//! `X-Forwarded-For` believed: the client is the right-most address in it that is not itself a
//! trusted proxy (earlier entries were written by whoever sent the request and prove nothing).
//! A trusted proxy that sends no `X-Forwarded-For` may send `X-Real-IP` instead.

use std::convert::Infallible;
use std::net::IpAddr;

use rocket::request::{FromRequest, Outcome, Request};

use super::state::AppState;

/// The client's address as far as it can be known; `None` only when the connection has no
/// peer address (local test clients).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

/// The client behind `peer`, given the request's forwarding headers and the trusted proxies.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    real_ip: Option<&str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&canonical(peer)) {
        return Some(peer);
    }
    if let Some(chain) = forwarded_for {
        // Right to left: skip our own proxies; the first other hop is the client. Anything
        // unreadable ends the walk there, at the last address we could vouch for.
        let mut client = peer;
        for hop in chain.rsplit(',') {
            match parse_hop(hop) {
                Some(ip) if trusted.contains(&canonical(ip)) => client = ip,
                Some(ip) => return Some(ip),
                None => return Some(client),
            }
        }
        return Some(client);
    }
    real_ip.and_then(parse_hop).or(Some(peer))
}

/// One address of a forwarding header: `1.2.3.4`, `1.2.3.4:5678`, `[::1]:80` or `::1`.
fn parse_hop(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    text.parse::<std::net::SocketAddr>().ok().map(|s| s.ip())
}

/// An IPv4 address mapped into IPv6 (a dual-stack listener's view) compares as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddr {
    type Error = Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let trusted = request.rocket().state::<AppState>().map(|s| s.config.trusted_proxies.as_slice());
        let headers = request.headers();
        Outcome::Success(ClientAddr(client_address(
            request.remote().map(|r| canonical(r.ip())),
            headers.get_one("X-Forwarded-For"),
            headers.get_one("X-Real-IP"),
            trusted.unwrap_or_default(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn headers_are_ignored_unless_the_peer_is_a_trusted_proxy() {
        let peer = Some(ip("203.0.113.9"));
        assert_eq!(client_address(peer, Some("1.1.1.1"), Some("2.2.2.2"), &[]), peer);
        assert_eq!(client_address(peer, Some("1.1.1.1"), None, &[ip("10.0.0.1")]), peer);
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let proxy = ip("10.0.0.1");
        let trusted = [proxy, ip("10.0.0.2")];
        let peer = Some(proxy);
        // The client forged "6.6.6.6"; the proxies appended the real hops after it.
        assert_eq!(
            client_address(peer, Some("6.6.6.6, 198.51.100.7, 10.0.0.2"), None, &trusted),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(client_address(peer, None, Some("198.51.100.8"), &trusted), Some(ip("198.51.100.8")));
        assert_eq!(client_address(peer, Some("junk"), None, &trusted), peer, "unreadable: the proxy itself");
        assert_eq!(client_address(peer, Some("[2001:db8::1]:443"), None, &trusted), Some(ip("2001:db8::1")));
        assert_eq!(client_address(peer, None, None, &trusted), peer);
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_proxies() {
        let mapped = ip("::ffff:10.0.0.1");
        assert_eq!(
            client_address(Some(canonical(mapped)), Some("198.51.100.7"), None, &[ip("10.0.0.1")]),
            Some(ip("198.51.100.7"))
        );
    }
}
