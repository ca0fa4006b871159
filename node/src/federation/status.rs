//! The live state of each peer link (connected, last contact, last error, anti-entropy
//! result), kept in memory for `setu peers` and the logs.

use crate::config::PeerConfig;
use std::collections::HashMap;
use std::sync::Mutex;

/// What is known about one peer link.
#[derive(Debug, Clone, Default)]
pub struct PeerLink {
    /// The peer's address.
    pub address: String,
    /// Whether a sync stream from the peer is open.
    pub connected: bool,
    /// When the last message came from the peer (Unix ms; 0 never).
    pub last_contact_ms: i64,
    /// The peer's highest sequence of its own changes, as it last said.
    pub peer_head: u64,
    /// When the last anti-entropy check ran (Unix ms) and what it found.
    pub anti_entropy_at_ms: i64,
    pub anti_entropy_result: String,
    /// The last error on the link and when it happened.
    pub last_error: String,
    pub last_error_at_ms: i64,
}

/// Every peer's link state.
pub struct PeerStatusBoard {
    links: Mutex<HashMap<String, PeerLink>>,
}

impl PeerStatusBoard {
    /// A board with one entry per configured peer.
    pub fn new(peers: &[PeerConfig]) -> Self {
        let links = peers
            .iter()
            .map(|p| {
                (
                    p.district.clone(),
                    PeerLink {
                        address: p.address.clone(),
                        ..Default::default()
                    },
                )
            })
            .collect();
        PeerStatusBoard {
            links: Mutex::new(links),
        }
    }

    /// Changes one peer's entry.
    pub fn update(&self, peer: &str, change: impl FnOnce(&mut PeerLink)) {
        if let Ok(mut links) = self.links.lock() {
            change(links.entry(peer.to_string()).or_default());
        }
    }

    /// A copy of one peer's entry.
    pub fn get(&self, peer: &str) -> PeerLink {
        self.links
            .lock()
            .ok()
            .and_then(|links| links.get(peer).cloned())
            .unwrap_or_default()
    }
}
