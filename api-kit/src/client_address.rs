//! Who is on the other end: the peer, or behind a reverse proxy we trust, the address the proxy
//! saw. Per-address limits key on it, so behind Caddy each client is limited apart instead of
//! everyone sharing the proxy's address, and a client cannot pick its own by forging a header.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

/// The client's address as the edge resolved it (see [`resolve_client_address`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// What per-address limits count: an IPv4 address, or the /64 network of an IPv6 one (a
    /// single host commonly holds a whole /64, so counting addresses would not limit it).
    pub fn limit_key(self) -> IpAddr {
        match self.0 {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !((1u128 << 64) - 1))),
            },
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        if let Some(resolved) = parts.extensions.get::<ClientAddress>() {
            return Ok(*resolved);
        }
        // Served without the edge middleware: the peer is all there is.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(peer)| peer.ip());
        Ok(Self(peer))
    }
}

/// An address or a network, as `CHAT_TRUSTED_PROXIES` lists them: `10.0.0.7`, `10.0.0.0/8`,
/// `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                network.to_bits() & mask == address.to_bits() & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                network.to_bits() & mask == address.to_bits() & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an address or a network (a.b.c.d/n)"))?;
        let longest = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => longest,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= longest)
                .ok_or_else(|| format!("{text:?}: the prefix must be 0 to {longest}"))?,
        };
        Ok(Self { address, prefix })
    }
}

/// The reverse proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<Vec<Network>>);

impl TrustedProxies {
    pub fn new(networks: Vec<Network>) -> Self {
        Self(Arc::new(networks))
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(address))
    }

    /// The client behind `peer`: when the peer is a trusted proxy, the right-most address of its
    /// forwarding header that is not itself a trusted proxy (each proxy appends the address it
    /// saw, so what lies left of that was written by the client, and may be forged). The peer
    /// otherwise, or when the header is missing. `X-Forwarded-For` is read when present (what
    /// Caddy sets), else `Forwarded`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_hops(headers).into_iter().rev() {
            // Past an entry that is no address, nothing can be told apart: the last trusted hop
            // is as far as the chain can be followed.
            let Some(hop) = hop else { return client };
            client = hop;
            if !self.trusts(hop) {
                return hop;
            }
        }
        client
    }
}

/// The addresses of the forwarding header, left to right; `None` for an entry that is no
/// address (`unknown`, an obfuscated name, garbage).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded_for: Vec<_> = headers.get_all("x-forwarded-for").iter().collect();
    if !forwarded_for.is_empty() {
        return forwarded_for
            .into_iter()
            .flat_map(|value| value.to_str().unwrap_or("?").split(','))
            .map(parse_hop)
            .collect();
    }
    headers
        .get_all(header::FORWARDED)
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("for=?").split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_hop(value))
            })
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `"[2001:db8::1]:4711"`.
fn parse_hop(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(address) = text.parse::<IpAddr>() {
        return Some(address);
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    text.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

/// Resolves the [`ClientAddress`] of every request once, at the edge (a request map, see
/// `chat`'s edge layers).
pub fn resolve_client_address(trusted: &TrustedProxies, mut request: Request) -> Request {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let client = trusted.client(peer.ip(), request.headers());
        request.extensions_mut().insert(ClientAddress(client));
    }
    request
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let forged = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(
            trusted.client(ip("203.0.113.9"), &forged),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &forged),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "192.168.1.1"]);
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.1.1.1")]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &chain), ip("203.0.113.7"));
        let split = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.7"),
        ]);
        assert_eq!(trusted.client(ip("192.168.1.1"), &split), ip("203.0.113.7"));
        let all_trusted = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &all_trusted), ip("10.9.9.9"));
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
        let garbage = headers(&[("x-forwarded-for", "203.0.113.7, nonsense, 10.1.1.1")]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &garbage), ip("10.1.1.1"));
    }

    #[test]
    fn the_standard_forwarded_header_is_read_when_there_is_no_x_forwarded_for() {
        let trusted = proxies(&["127.0.0.1"]);
        let forwarded = headers(&[(
            "forwarded",
            r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, for=127.0.0.1"#,
        )]);
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &forwarded),
            ip("2001:db8:cafe::17")
        );
        let port = headers(&[("forwarded", "for=203.0.113.7:443")]);
        assert_eq!(trusted.client(ip("127.0.0.1"), &port), ip("203.0.113.7"));
    }

    #[test]
    fn ipv6_clients_are_limited_per_64_and_mapped_ipv4_as_ipv4() {
        let key = |text: &str| ClientAddress(ip(text)).limit_key();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:203.0.113.7"), ip("203.0.113.7"));
        assert_eq!(key("203.0.113.7"), ip("203.0.113.7"));
    }

    #[test]
    fn networks_parse_and_match_by_their_prefix() {
        let network: Network = "172.16.0.0/12".parse().unwrap();
        assert!(network.contains(ip("172.31.255.255")));
        assert!(!network.contains(ip("172.32.0.0")));
        assert!(network.contains(ip("::ffff:172.16.0.1")));
        assert!("0.0.0.0/0"
            .parse::<Network>()
            .unwrap()
            .contains(ip("8.8.8.8")));
        assert!("fd00::/8"
            .parse::<Network>()
            .unwrap()
            .contains(ip("fd12::1")));
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "caddy",
            "10.0.0.0/x",
            "10.0.0/8",
        ] {
            assert!(bad.parse::<Network>().is_err(), "{bad:?}");
        }
    }
}
