//! Which addresses a delivery may connect to. A webhook's URL is anyone's choice, and the
//! delivery worker sits inside the deployment's network, so without this a room owner could make
//! it call the database, the broker or a cloud metadata service. Every address a host resolves
//! to is classified; an address that is not public is refused unless `CHAT_WEBHOOK_ALLOW` names
//! its host or a network holding it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use api_kit::Network;

/// Why an address is not public, or `None` for one that is.
pub fn classify(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(address: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = address.octets();
    let class = if a == 0 {
        // 0.0.0.0 itself, and the rest of "this network", which Linux connects to locally.
        "unspecified"
    } else if a == 127 {
        "loopback"
    } else if a == 10 || (a == 172 && (16..32).contains(&b)) || (a == 192 && b == 168) {
        "private"
    } else if a == 169 && b == 254 {
        "link-local"
    } else if a == 100 && (64..128).contains(&b) {
        "shared address space (100.64.0.0/10)"
    } else if (224..240).contains(&a) {
        "multicast"
    } else if a >= 240 {
        // 240.0.0.0/4 and the broadcast address.
        "reserved"
    } else if (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
    {
        // Protocol assignments, benchmarking and documentation: never a real endpoint.
        "reserved"
    } else {
        return None;
    };
    Some(class)
}

fn classify_v6(address: Ipv6Addr) -> Option<&'static str> {
    let segments = address.segments();
    let class = if address.is_unspecified() {
        "unspecified"
    } else if address.is_loopback() {
        "loopback"
    } else if address.to_ipv4_mapped().is_some() {
        // ::ffff:a.b.c.d reaches the IPv4 address; refused whatever it is, so that a mapped
        // form of a private address cannot slip through a check written for IPv6.
        "an IPv4-mapped address"
    } else if segments[..6] == [0; 6] {
        // ::a.b.c.d, deprecated IPv4-compatible addresses.
        "an IPv4-compatible address"
    } else if segments[..2] == [0x64, 0xff9b] {
        // NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48) reaches IPv4 addresses of any
        // kind.
        "a NAT64 address"
    } else if segments[0] & 0xffc0 == 0xfe80 {
        "link-local"
    } else if segments[0] & 0xfe00 == 0xfc00 || segments[0] & 0xffc0 == 0xfec0 {
        // Unique local (fc00::/7) and the old site-local (fec0::/10).
        "private"
    } else if segments[0] & 0xff00 == 0xff00 {
        "multicast"
    } else if segments[..2] == [0x2001, 0xdb8] {
        "reserved"
    } else {
        return None;
    };
    Some(class)
}

/// The hosts and networks an operator lets deliveries reach although they are not public.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    hosts: Vec<String>,
    networks: Vec<Network>,
}

impl AllowList {
    /// Parses `CHAT_WEBHOOK_ALLOW`'s entries: addresses, networks (`10.0.0.0/8`) or host names.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut allow = Self::default();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            if let Ok(network) = entry.parse::<Network>() {
                allow.networks.push(network);
            } else if is_host_name(entry) {
                allow.hosts.push(normalise_host(entry));
            } else {
                return Err(format!(
                    "{entry:?} is not a host name, an address or a network (a.b.c.d/n)"
                ));
            }
        }
        Ok(allow)
    }

    /// Whether a delivery to `host` may connect to `address`; if not, why.
    pub fn check(&self, host: &str, address: IpAddr) -> Result<(), String> {
        let Some(class) = classify(address) else {
            return Ok(());
        };
        let host = normalise_host(host);
        if self.hosts.contains(&host)
            || self
                .networks
                .iter()
                .any(|network| network.contains(address))
        {
            return Ok(());
        }
        Err(format!("{address} is {class} (not in CHAT_WEBHOOK_ALLOW)"))
    }
}

fn normalise_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.trim_end_matches('.').split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(address: &str) -> Option<&'static str> {
        classify(address.parse().unwrap())
    }

    #[test]
    fn every_range_that_is_not_public_is_named() {
        let cases = [
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "unspecified"),
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("10.0.0.1", "private"),
            ("10.255.255.255", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared address space (100.64.0.0/10)"),
            ("100.127.255.255", "shared address space (100.64.0.0/10)"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.255", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "reserved"),
            ("192.0.2.10", "reserved"),
            ("198.18.0.1", "reserved"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "an IPv4-mapped address"),
            ("::ffff:10.0.0.1", "an IPv4-mapped address"),
            ("::ffff:8.8.8.8", "an IPv4-mapped address"),
            ("::127.0.0.1", "an IPv4-compatible address"),
            ("64:ff9b::a00:1", "a NAT64 address"),
            ("fe80::1", "link-local"),
            ("febf:ffff::1", "link-local"),
            ("fc00::1", "private"),
            ("fd12:3456::1", "private"),
            ("fec0::1", "private"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "reserved"),
        ];
        for (address, expected) in cases {
            assert_eq!(class(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn public_addresses_next_to_the_ranges_pass() {
        for address in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "169.253.255.255",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "fe00::1",
            "fbff::1",
        ] {
            assert_eq!(class(address), None, "{address}");
        }
    }

    #[test]
    fn the_allow_list_admits_named_hosts_and_networks_only() {
        let allow =
            AllowList::parse(&["127.0.0.1", "10.1.0.0/16", "Hooks.Internal.", "fd00::/8"]).unwrap();
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert!(allow.check("localhost", ip("127.0.0.1")).is_ok());
        assert!(allow.check("x", ip("10.1.2.3")).is_ok());
        assert!(allow.check("x", ip("fd00::5")).is_ok());
        assert!(allow.check("hooks.internal", ip("192.168.0.9")).is_ok());
        assert!(allow.check("x", ip("93.184.216.34")).is_ok(), "public");
        let refused = allow.check("localhost", ip("::1")).unwrap_err();
        assert_eq!(refused, "::1 is loopback (not in CHAT_WEBHOOK_ALLOW)");
        assert!(allow.check("x", ip("10.2.0.1")).is_err());
        assert!(allow.check("x", ip("169.254.169.254")).is_err());
        assert!(allow.check("other.internal", ip("192.168.0.9")).is_err());
        let nothing = AllowList::default();
        assert!(nothing.check("x", ip("::ffff:127.0.0.1")).is_err());
        assert!(nothing.check("x", ip("0.0.0.0")).is_err());
    }

    #[test]
    fn a_malformed_allow_entry_is_refused() {
        for bad in ["10.0.0.0/33", "exa mple.com", "http://x", "a..b"] {
            assert!(AllowList::parse(&[bad]).is_err(), "{bad}");
        }
        assert!(AllowList::parse(&["", " "]).is_ok());
    }
}
