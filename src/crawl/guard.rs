//! Address policy: the crawler is pointed at URLs that units themselves register, so without a
//! guard a unit could make it probe the office's intranet, cloud metadata services or the
//! machine it runs on. Non-public addresses are refused after DNS resolution (in the resolver
//! that reqwest uses, so the address checked is the address connected to) and literal IP hosts
//! are refused before any request, on the first hop and on every redirect.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// How many resolved addresses are kept per name; a resolver answer is small in practice, the
/// cap only makes it bounded.
const MAX_ADDRESSES: usize = 32;

/// Is this an address on the public internet? `std`'s `is_global` is unstable, so the special
/// ranges (IANA special-purpose registries for IPv4 and IPv6) are listed here.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0 // "this network"
        || a == 10 // private
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || a == 127 // loopback
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168) // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224; // multicast, reserved, broadcast
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 well-known prefix 64:ff9b::/96 carries an IPv4 address in its last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
    }
    // 6to4 2002::/16 carries an IPv4 address in bits 16..48.
    if s[0] == 0x2002 {
        return is_public_v4(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8));
    }
    let special = s[..6] == [0, 0, 0, 0, 0, 0] // unspecified, loopback, IPv4-compatible
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64 64:ff9b:1::/48
        || (s[0] == 0x100 && s[1..4] == [0, 0, 0]) // discard-only 100::/64
        || (s[0] == 0x2001 && s[1] < 0x200) // IETF protocol assignments incl. Teredo 2001::/23
        || (s[0] == 0x2001 && s[1] == 0xdb8) // documentation
        || (s[0] == 0x3fff && s[1] < 0x1000) // documentation 3fff::/20
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        || (s[0] & 0xff00) == 0xff00; // multicast
    !special
}

/// An address the policy refuses, and the host that led to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host} 指向非公网地址 {address}")]
pub struct BlockedAddress {
    /// The host name that resolved to it.
    pub host: String,
    /// The non-public address (loopback, private, link-local…).
    pub address: IpAddr,
}

/// The system resolver could not resolve a name (as opposed to the guard refusing it).
#[derive(Debug, thiserror::Error)]
#[error("{host}：{source}")]
pub(crate) struct ResolveFailed {
    pub host: String,
    pub source: std::io::Error,
}

/// Refuses a URL whose host is a literal non-public IP address. Domain names are left to
/// [`GuardedResolver`], which sees the addresses they resolve to.
pub fn check_literal_host(url: &Url, allow_private: bool) -> Result<(), BlockedAddress> {
    if allow_private {
        return Ok(());
    }
    let address = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(Host::Domain(_)) | None => return Ok(()),
    };
    if is_public(address) {
        Ok(())
    } else {
        Err(BlockedAddress { host: url.host_str().unwrap_or_default().to_owned(), address })
    }
}

/// The system resolver with the address policy applied to its answers: when private targets
/// are not allowed, non-public addresses are dropped, and a name that resolves only to such
/// addresses fails with [`BlockedAddress`] (reqwest keeps it in the error's source chain).
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    /// Let names resolve to non-public addresses too (`--allow-private`).
    pub allow_private: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(resolve_guarded(name.as_str().to_owned(), self.allow_private))
    }
}

async fn resolve_guarded(host: String, allow_private: bool) -> Result<Addrs, BoxError> {
    let resolved: std::io::Result<Vec<SocketAddr>> =
        tokio::net::lookup_host((host.as_str(), 0)).await.map(|found| found.take(MAX_ADDRESSES).collect());
    let found = match resolved {
        Ok(found) => found,
        Err(source) => return Err(ResolveFailed { host, source }.into()),
    };
    if allow_private {
        return Ok(Box::new(found.into_iter()));
    }
    let public: Vec<SocketAddr> = found.iter().copied().filter(|a| is_public(a.ip())).collect();
    match (public.is_empty(), found.first()) {
        (true, Some(first)) => Err(BlockedAddress { host, address: first.ip() }.into()),
        _ => Ok(Box::new(public.into_iter())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().expect("address literal"))
    }

    #[test]
    fn internal_addresses_are_not_public() {
        for s in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001:db8::1",
            "ff02::1",
        ] {
            assert!(!public(s), "{s} must be refused");
        }
    }

    #[test]
    fn internet_addresses_are_public() {
        for s in ["1.1.1.1", "114.114.114.114", "172.32.0.1", "100.128.0.1", "2400:3200::1", "::ffff:8.8.8.8"]
        {
            assert!(public(s), "{s} must be allowed");
        }
    }

    #[test]
    fn literal_hosts_are_checked_unless_private_is_allowed() {
        let url = Url::parse("http://10.0.0.1/").expect("url");
        let blocked = check_literal_host(&url, false).expect_err("private");
        assert_eq!(blocked.address, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        assert!(check_literal_host(&url, true).is_ok());
        // The WHATWG parser turns a decimal host into an IPv4 address, so it is caught too.
        let decimal = Url::parse("http://2130706433/").expect("url");
        assert!(check_literal_host(&decimal, false).is_err());
        let v6 = Url::parse("http://[::1]:8080/").expect("url");
        assert!(check_literal_host(&v6, false).is_err());
        let name = Url::parse("http://www.nanning.gov.cn/").expect("url");
        assert!(check_literal_host(&name, false).is_ok());
    }
}
