//! What a running node can change without a restart: its certificate and key, the CA
//! bundles it trusts (`[[trust]]`, each peer's `ca`) and its deny-list.
//!
//! [`TlsState`] holds the current material. Each new incoming connection takes the server
//! settings current at its handshake and each dial of a peer the dial settings current at
//! that moment, so connections already open (a peer's sync stream, an officer's alert
//! watch) carry on untouched after a reload. The deny-list is read on every call; when it
//! changes, open connections whose certificate it now names are closed.
//!
//! [`TlsState::reload`] checks the new material in full before swapping anything: on any
//! problem the node keeps what it has and the error names the config key. `setu-node
//! serve` maps SIGHUP to a reload from the same config file; tests call
//! [`crate::server::RunningNode::reload`].
//!
//! The bindings of CAs to districts ([`crate::trust::anchors`]) are swapped with the rest,
//! in the [`SharedAnchors`] that calls and the federation's key checks read.

use crate::config::{ConfigError, NodeConfig};
use crate::net::tls::TlsMaterial;
use crate::trust::anchors::SharedAnchors;
use crate::trust::cert::CertFacts;
use crate::trust::cert::{format_ms, warn_if_expiring};
use crate::trust::deny::DenyList;
use rustls::{ClientConfig, ServerConfig};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

/// Why a reload was refused; the node keeps its current material.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The new config or the files it names are not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// What a reload changed.
#[derive(Debug, Clone)]
pub struct ReloadReport {
    /// The node certificate now served: serial, fingerprint, expiry.
    pub cert: CertFacts,
    /// Whether the certificate differs from the one served before.
    pub cert_changed: bool,
    /// How many certificates the deny-list now names.
    pub denied: usize,
    /// Keys that changed in the file but only take effect after a restart.
    pub needs_restart: Vec<String>,
}

/// The node's current TLS material and deny-list, swapped as a whole by a reload.
pub struct TlsState {
    /// Settings for new incoming connections.
    server: RwLock<Arc<ServerConfig>>,
    /// Settings for new dials, by peer district.
    dial: RwLock<HashMap<String, Arc<ClientConfig>>>,
    /// The node certificate served.
    own: RwLock<CertFacts>,
    /// The deny-list; connections watch it to close when their certificate is named.
    deny: watch::Sender<Arc<DenyList>>,
    /// Which CA vouches for which districts and kinds, shared with the federation.
    anchors: SharedAnchors,
    /// The config the material was loaded from, to tell which other keys changed.
    config: RwLock<NodeConfig>,
}

impl std::fmt::Debug for TlsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsState")
            .field("own", &self.own())
            .field("denied", &self.deny().len())
            .finish_non_exhaustive()
    }
}

/// Reads a lock even if a thread panicked while holding it (the values are replaced whole,
/// never left half-written).
fn read<T: Clone>(lock: &RwLock<T>) -> T {
    match lock.read() {
        Ok(guard) => guard.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

fn write<T>(lock: &RwLock<T>, value: T) {
    match lock.write() {
        Ok(mut guard) => *guard = value,
        Err(poisoned) => *poisoned.into_inner() = value,
    }
}

impl TlsState {
    /// The state of a node starting with `material` and the deny-list of `config`.
    pub fn new(config: &NodeConfig, material: &TlsMaterial) -> Result<Arc<TlsState>, ConfigError> {
        let deny = DenyList::parse(&config.deny)?;
        Ok(Arc::new(TlsState {
            server: RwLock::new(material.server.clone()),
            dial: RwLock::new(material.dial.clone()),
            own: RwLock::new(material.own.clone()),
            deny: watch::Sender::new(Arc::new(deny)),
            anchors: SharedAnchors::new(material.anchors.clone()),
            config: RwLock::new(config.clone()),
        }))
    }

    /// The settings a new incoming connection is accepted with.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        read(&self.server)
    }

    /// The settings a new dial of `peer` uses.
    pub fn dial_config(&self, peer: &str) -> Option<Arc<ClientConfig>> {
        read(&self.dial).get(peer).cloned()
    }

    /// The node certificate served now.
    pub fn own(&self) -> CertFacts {
        read(&self.own)
    }

    /// The CA bindings in force (the same handle the federation reads).
    pub fn anchors(&self) -> SharedAnchors {
        self.anchors.clone()
    }

    /// The deny-list in force.
    pub fn deny(&self) -> Arc<DenyList> {
        self.deny.borrow().clone()
    }

    /// Follows the deny-list as reloads change it.
    pub fn watch_deny(&self) -> watch::Receiver<Arc<DenyList>> {
        self.deny.subscribe()
    }

    /// Validates `config` and the files it names, then swaps in its certificate, key, CA
    /// bundles and deny-list (and the federation's trust anchors for key statements). On
    /// any error nothing changes. Keys that cannot change while serving (district,
    /// addresses, data folder, peers, limits) are reported in
    /// [`ReloadReport::needs_restart`] and otherwise ignored.
    pub fn reload(&self, config: &NodeConfig) -> Result<ReloadReport, ReloadError> {
        config.validate()?;
        let material = TlsMaterial::load(config)?;
        let deny = DenyList::parse(&config.deny).map_err(ConfigError::from)?;
        let old = read(&self.config);
        let needs_restart = restart_keys(&old, config);
        let previous = self.own();
        // Everything is checked: swap. A dial or handshake in progress keeps what it took.
        // Peers come and go only with a restart: a peer the running links still serve keeps
        // its dial settings even when the new file no longer lists it.
        let mut dial = read(&self.dial);
        dial.extend(material.dial.clone());
        write(&self.server, material.server.clone());
        write(&self.dial, dial);
        write(&self.own, material.own.clone());
        self.anchors.replace(material.anchors.clone());
        let denied = deny.len();
        self.deny.send_replace(Arc::new(deny));
        let mut kept = config.clone();
        kept.clock = old.clock.clone();
        write(&self.config, kept);
        let report = ReloadReport {
            cert_changed: previous != material.own,
            cert: material.own,
            denied,
            needs_restart,
        };
        tracing::info!(
            serial = %report.cert.serial,
            expires = %format_ms(report.cert.not_after_ms),
            cert_changed = report.cert_changed,
            denied = report.denied,
            "reloaded TLS material"
        );
        warn_if_expiring("this node's", &report.cert, old.clock.now_ms());
        if !report.needs_restart.is_empty() {
            tracing::warn!(keys = %report.needs_restart.join(", "), "these config keys changed but take effect only after a restart");
        }
        Ok(report)
    }
}

/// The keys that differ between `old` and `new` and that a reload does not apply.
fn restart_keys(old: &NodeConfig, new: &NodeConfig) -> Vec<String> {
    let mut keys = Vec::new();
    let mut differs = |key: &str, changed: bool| {
        if changed {
            keys.push(key.to_string());
        }
    };
    differs("district", old.district != new.district);
    differs("listen", old.listen != new.listen);
    differs("admin_listen", old.admin_listen != new.admin_listen);
    differs("data_dir", old.data_dir != new.data_dir);
    differs(
        "default_handling",
        old.default_handling != new.default_handling,
    );
    differs(
        "max_message_bytes",
        old.max_message_bytes != new.max_message_bytes,
    );
    differs("cache_mib", old.cache_mib != new.cache_mib);
    differs(
        "anti_entropy_secs",
        old.anti_entropy_secs != new.anti_entropy_secs,
    );
    differs(
        "tombstone_grace_hours",
        old.tombstone_grace_hours != new.tombstone_grace_hours,
    );
    differs(
        "audit_retention_days",
        old.audit_retention_days != new.audit_retention_days,
    );
    let peers = |c: &NodeConfig| {
        c.peers
            .iter()
            .map(|p| {
                (
                    p.district.clone(),
                    p.address.clone(),
                    p.send.clone(),
                    p.relay_origins.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    // A peer's `ca` file is reloaded; anything else about the peers needs a restart.
    differs("peers", peers(old) != peers(new));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TrustConfig;
    use crate::trust::anchors::CertKind;
    #[test]
    fn only_keys_a_reload_cannot_apply_are_reported() {
        let old = NodeConfig::new(
            "jh-dhanbad",
            "/var/lib/setu".into(),
            "/etc/setu/node.pem".into(),
            "/etc/setu/node.key".into(),
            vec![TrustConfig::new(
                "/etc/setu/ca.pem".into(),
                &["jh-*"],
                &[CertKind::Officer, CertKind::Node],
            )],
        );
        let mut new = old.clone();
        new.cert = "/etc/setu/renewed/node.pem".into();
        new.key = "/etc/setu/renewed/node.key".into();
        new.trust.push(TrustConfig::new(
            "/etc/setu/jh-officers.pem".into(),
            &["jh-dhanbad"],
            &[CertKind::Officer],
        ));
        new.deny = vec!["serial:01".into()];
        assert!(restart_keys(&old, &new).is_empty());
        new.cache_mib += 1;
        new.listen = "127.0.0.1:7999".parse().expect("an address");
        assert_eq!(restart_keys(&old, &new), ["listen", "cache_mib"]);
    }
}
