//! How many sockets may be open at once: per user, per client address and on the node. A socket
//! holds a [`SocketPermit`] from its admission to its end; one over a cap is upgraded and closed
//! at once with 1013 (try again later), its reason naming the cap.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use metrics::Gauge;
use uuid::Uuid;

use crate::measures::WS_CONNECTIONS;

/// The caps on open sockets; `0` lifts a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketCaps {
    pub per_user: usize,
    pub per_address: usize,
    pub per_node: usize,
}

impl Default for SocketCaps {
    fn default() -> Self {
        Self {
            per_user: 32,
            per_address: 256,
            per_node: 100_000,
        }
    }
}

/// The cap a socket would exceed, with what it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CapReached {
    User(usize),
    Address(usize),
    Node(usize),
}

impl CapReached {
    /// The close frame's reason: which limit the client met.
    pub(crate) fn reason(self) -> String {
        let (which, cap) = match self {
            Self::User(cap) => ("per-user", cap),
            Self::Address(cap) => ("per-address", cap),
            Self::Node(cap) => ("per-node", cap),
        };
        format!("{which} socket limit reached ({cap} open)")
    }
}

/// The node's open sockets, counted by user and by address; cheap to clone.
#[derive(Clone)]
pub(crate) struct OpenSockets {
    caps: SocketCaps,
    counts: Arc<Mutex<Counts>>,
    /// The node's count, for its metrics.
    gauge: Gauge,
}

#[derive(Default)]
struct Counts {
    node: usize,
    by_user: HashMap<Uuid, usize>,
    by_address: HashMap<IpAddr, usize>,
}

/// One open socket's place in the counts, given back when dropped.
pub(crate) struct SocketPermit {
    open: OpenSockets,
    user: Uuid,
    address: IpAddr,
}

impl OpenSockets {
    pub(crate) fn new(caps: SocketCaps) -> Self {
        Self {
            caps,
            counts: Arc::default(),
            gauge: metrics::gauge!(WS_CONNECTIONS),
        }
    }

    /// Counts one more socket of `user` from `address`, unless that would exceed a cap.
    pub(crate) fn open(&self, user: Uuid, address: IpAddr) -> Result<SocketPermit, CapReached> {
        let mut counts = self.counts.lock().expect("socket counts poisoned");
        let over = |cap: usize, open: usize| cap != 0 && open >= cap;
        if over(self.caps.per_node, counts.node) {
            return Err(CapReached::Node(self.caps.per_node));
        }
        let from_address = counts.by_address.get(&address).copied().unwrap_or(0);
        if over(self.caps.per_address, from_address) {
            return Err(CapReached::Address(self.caps.per_address));
        }
        let of_user = counts.by_user.get(&user).copied().unwrap_or(0);
        if over(self.caps.per_user, of_user) {
            return Err(CapReached::User(self.caps.per_user));
        }
        counts.node += 1;
        self.gauge.increment(1.0);
        *counts.by_address.entry(address).or_default() += 1;
        *counts.by_user.entry(user).or_default() += 1;
        Ok(SocketPermit {
            open: self.clone(),
            user,
            address,
        })
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        let mut counts = self.open.counts.lock().expect("socket counts poisoned");
        counts.node -= 1;
        self.open.gauge.decrement(1.0);
        release(&mut counts.by_address, self.address);
        release(&mut counts.by_user, self.user);
    }
}

/// One fewer under `key`; a key with none left goes, so the maps hold only open sockets.
fn release<K: Hash + Eq>(counts: &mut HashMap<K, usize>, key: K) {
    if let Some(open) = counts.get_mut(&key) {
        *open -= 1;
        if *open == 0 {
            counts.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const HERE: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const THERE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));

    fn caps(per_user: usize, per_address: usize, per_node: usize) -> OpenSockets {
        OpenSockets::new(SocketCaps {
            per_user,
            per_address,
            per_node,
        })
    }

    #[test]
    fn each_cap_counts_open_sockets_and_a_closed_one_frees_its_place() {
        let open = caps(2, 3, 4);
        let (alice, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let first = open.open(alice, HERE).unwrap();
        let _second = open.open(alice, HERE).unwrap();
        assert_eq!(open.open(alice, THERE).err(), Some(CapReached::User(2)));
        let _third = open.open(bob, HERE).unwrap();
        assert_eq!(open.open(bob, HERE).err(), Some(CapReached::Address(3)));
        let _fourth = open.open(bob, THERE).unwrap();
        assert_eq!(open.open(bob, THERE).err(), Some(CapReached::Node(4)));
        drop(first);
        assert!(open.open(alice, THERE).is_ok());
        assert!(open.counts.lock().unwrap().by_user.contains_key(&alice));
    }

    #[test]
    fn zero_lifts_a_cap() {
        let open = caps(0, 0, 0);
        let permits: Vec<_> = (0..1000)
            .map(|_| open.open(Uuid::nil(), HERE).unwrap())
            .collect();
        drop(permits);
        let counts = open.counts.lock().unwrap();
        assert_eq!(counts.node, 0);
        assert!(counts.by_user.is_empty() && counts.by_address.is_empty());
    }
}
