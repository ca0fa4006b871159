//! The node's configuration: a TOML file with `SETU_*` environment overrides, checked in
//! full before any port is bound, so that a bad config fails at once and names the key.

use crate::trust::anchors::{BindingSpec, CertKind, DistrictPattern, NotVouched, TrustAnchors};
use crate::trust::identity::{self, Identity};
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use setu_proto::v1::Handling;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A config problem, naming the key and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("config key `{key}`: {problem}")]
pub struct ConfigError {
    /// The config key (or environment variable) at fault.
    pub key: String,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    /// A problem with `key`.
    pub fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

impl From<crate::trust::deny::DenyError> for ConfigError {
    fn from(err: crate::trust::deny::DenyError) -> Self {
        ConfigError::new(err.key, err.problem)
    }
}

/// Which handling code a record or note gets when the officer gives none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DefaultHandling {
    /// Never leaves this district.
    LocalOnly,
    /// Shared with this district's direct peers only.
    #[default]
    Peers,
    /// May be relayed through the whole federation.
    Federation,
}

impl DefaultHandling {
    /// The protobuf value.
    pub fn handling(self) -> Handling {
        match self {
            DefaultHandling::LocalOnly => Handling::LocalOnly,
            DefaultHandling::Peers => Handling::Peers,
            DefaultHandling::Federation => Handling::Federation,
        }
    }
}

/// The configuration of one district node (`node.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// This node's district id, e.g. `jh-dhanbad`; its node certificate must name the same.
    pub district: String,
    /// The address the gRPC server listens on, e.g. `0.0.0.0:7401` (port 0 picks a free port).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The address of the admin listener: plain HTTP with `GET /metrics` (Prometheus) and
    /// `GET /health`. It carries counts only, no personal data; keep it on loopback (the
    /// default, `127.0.0.1:7490`) or a management network. Port 0 picks a free port.
    #[serde(default = "default_admin_listen")]
    pub admin_listen: SocketAddr,
    /// Where the node keeps its database.
    pub data_dir: PathBuf,
    /// This node's certificate (PEM), issued by `setu-node pki node`.
    pub cert: PathBuf,
    /// This node's private key (PEM); must not be readable by group or others.
    pub key: PathBuf,
    /// The CAs this node accepts certificates from, each bound to the districts and kinds
    /// of certificate it vouches for (`[[trust]]` tables). A certificate is accepted as
    /// identity X only when it chains to a CA bound to X's district and kind. Each peer's
    /// own `ca` needs no table here: it vouches for that peer's node certificate alone.
    #[serde(default)]
    pub trust: Vec<TrustConfig>,
    /// The old, unbound list of trusted CAs. No longer accepted: a config that still has it
    /// is refused with the `[[trust]]` tables that replace it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_cas: Option<Vec<PathBuf>>,
    /// Handling code for records and notes created without one.
    #[serde(default)]
    pub default_handling: DefaultHandling,
    /// Largest gRPC message accepted, in bytes (photos travel in smaller chunks).
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// Memory for the database page cache, in MiB.
    #[serde(default = "default_cache_mib")]
    pub cache_mib: u64,
    /// Seconds between anti-entropy checks with each peer.
    #[serde(default = "default_anti_entropy_secs")]
    pub anti_entropy_secs: u64,
    /// Hours a tombstone is kept after every peer has applied it, before it is collected.
    #[serde(default = "default_tombstone_grace_hours")]
    pub tombstone_grace_hours: u64,
    /// Days an audit entry is kept before it is pruned (at least 365, default 400). The
    /// remaining trail stays verifiable after pruning.
    #[serde(default = "default_audit_retention_days")]
    pub audit_retention_days: u64,
    /// The peer districts this node syncs with (`[[peers]]` tables).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<PeerConfig>,
    /// Certificates refused although they chain to a trusted CA (an officer transferred
    /// out, a stolen laptop, a retired node): `serial:<hex>` or `sha256:<hex>` (the SHA-256
    /// fingerprint of the certificate), hex in either case, colons allowed. A denied
    /// officer's or node's calls are refused (and audited) and its open connections closed
    /// when the list is reloaded (SIGHUP).
    #[serde(default)]
    pub deny: Vec<String>,
    /// The clock alert deadlines and expiry are judged by: the system clock. Not read from
    /// the file; tests move it forward through the Rust API.
    #[serde(skip)]
    pub clock: crate::clock::Clock,
}

/// One trusted CA and what it may vouch for (a `[[trust]]` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustConfig {
    /// The CA certificate bundle (PEM).
    pub ca: PathBuf,
    /// The districts whose identities this CA vouches for: exact ids (`jh-dhanbad`) or a
    /// prefix ending in `*` (`jh-*` for every Jharkhand district).
    pub districts: Vec<String>,
    /// Which certificates it vouches for: `officer` (officers, liaisons and admins) and/or
    /// `node` (district nodes).
    pub kinds: Vec<CertKind>,
}

impl TrustConfig {
    /// A binding of `ca` to `districts` for both kinds of certificate.
    pub fn new(ca: PathBuf, districts: &[&str], kinds: &[CertKind]) -> TrustConfig {
        TrustConfig {
            ca,
            districts: districts.iter().map(|d| d.to_string()).collect(),
            kinds: kinds.to_vec(),
        }
    }
}

/// The state part of a district id, as a pattern: `jh-*` for `jh-dhanbad`.
pub fn state_pattern(district: &str) -> String {
    match district.split_once('-') {
        Some((state, _)) => format!("{state}-*"),
        None => district.to_string(),
    }
}

/// Which items a node sends to one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SendHandling {
    /// This district's PEERS items (never relayed further).
    Peers,
    /// FEDERATION items: this district's, and other districts' as allowed by `relay_origins`.
    Federation,
}

/// One peer district.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// The peer's district id; its node certificate must name it.
    pub district: String,
    /// The peer node's address, e.g. `https://10.30.0.7:7402`.
    pub address: String,
    /// CA bundle (PEM) that vouches for the peer's node certificate; it is also trusted for
    /// the peer's incoming sync calls.
    pub ca: PathBuf,
    /// Handling codes sent to this peer; both by default.
    #[serde(default = "default_send")]
    pub send: Vec<SendHandling>,
    /// Other districts whose FEDERATION items are relayed to this peer; `["*"]` (the
    /// default) for all, `[]` for none.
    #[serde(default = "default_relay_origins")]
    pub relay_origins: Vec<String>,
}

impl PeerConfig {
    /// Whether items of `handling` (the protobuf value) of this node's own district go to
    /// the peer.
    pub fn sends_own(&self, handling: i32) -> bool {
        if handling == Handling::Peers as i32 {
            self.send.contains(&SendHandling::Peers)
        } else if handling == Handling::Federation as i32 {
            self.send.contains(&SendHandling::Federation)
        } else {
            false
        }
    }

    /// Whether FEDERATION items of another district `origin` are relayed to the peer.
    pub fn relays(&self, origin: &str) -> bool {
        origin != self.district
            && self.send.contains(&SendHandling::Federation)
            && self.relay_origins.iter().any(|o| o == "*" || o == origin)
    }
}

fn default_send() -> Vec<SendHandling> {
    vec![SendHandling::Peers, SendHandling::Federation]
}

fn default_relay_origins() -> Vec<String> {
    vec!["*".to_string()]
}

fn default_anti_entropy_secs() -> u64 {
    300
}

fn default_tombstone_grace_hours() -> u64 {
    24
}

/// The shortest audit retention allowed, in days: a year.
pub const MIN_AUDIT_RETENTION_DAYS: u64 = 365;
/// The longest audit retention allowed, in days: a hundred years.
pub const MAX_AUDIT_RETENTION_DAYS: u64 = 36_500;

fn default_audit_retention_days() -> u64 {
    400
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7401))
}

fn default_admin_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7490))
}

fn default_max_message_bytes() -> usize {
    crate::validate::limits::DEFAULT_MAX_MESSAGE_BYTES
}

fn default_cache_mib() -> u64 {
    256
}

/// Environment variables read as overrides: `SETU_` plus the key in upper case, e.g.
/// `SETU_LISTEN=0.0.0.0:7401`. Only the keys below are read, so that other `SETU_*`
/// variables (`SETU_LOG`, `SETU_CONFIG`, the client's) do not disturb the node.
const ENV_PREFIX: &str = "SETU_";

/// The keys that `SETU_*` environment variables may override (peers only in the file).
const ENV_KEYS: &[&str] = &[
    "district",
    "listen",
    "admin_listen",
    "data_dir",
    "cert",
    "key",
    "trusted_cas",
    "default_handling",
    "max_message_bytes",
    "cache_mib",
    "anti_entropy_secs",
    "tombstone_grace_hours",
    "audit_retention_days",
    "deny",
];

impl NodeConfig {
    /// Reads `path`, applies `SETU_*` overrides, resolves relative paths against the file's
    /// folder and validates the result.
    pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
        if !path.is_file() {
            return Err(ConfigError::new(
                "--config",
                format!("{} does not exist or is not a file", path.display()),
            ));
        }
        let figment = Figment::new()
            .merge(Toml::file(path))
            .merge(Env::prefixed(ENV_PREFIX).only(ENV_KEYS));
        let mut config: NodeConfig = figment.extract().map_err(|e| {
            let key = e.path.join(".");
            let key = if key.is_empty() {
                path.display().to_string()
            } else {
                key
            };
            ConfigError::new(key, e.kind.to_string())
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        config.resolve_paths(base);
        config.validate()?;
        Ok(config)
    }

    /// Serialises the config as TOML, for generated setups such as the demo.
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(|e| ConfigError::new("(all)", e.to_string()))
    }

    /// A config with every optional key at its default (used by the demo and tests), except
    /// that the admin listener takes a free loopback port, so that several nodes on one
    /// machine do not clash.
    pub fn new(
        district: &str,
        data_dir: PathBuf,
        cert: PathBuf,
        key: PathBuf,
        trust: Vec<TrustConfig>,
    ) -> NodeConfig {
        NodeConfig {
            district: district.to_string(),
            listen: default_listen(),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            cert,
            key,
            trust,
            trusted_cas: None,
            default_handling: DefaultHandling::default(),
            max_message_bytes: default_max_message_bytes(),
            cache_mib: default_cache_mib(),
            anti_entropy_secs: default_anti_entropy_secs(),
            tombstone_grace_hours: default_tombstone_grace_hours(),
            audit_retention_days: default_audit_retention_days(),
            peers: Vec::new(),
            deny: Vec::new(),
            clock: crate::clock::Clock::default(),
        }
    }

    /// The configured peer with this district id.
    pub fn peer(&self, district: &str) -> Option<&PeerConfig> {
        self.peers.iter().find(|p| p.district == district)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        resolve(&mut self.data_dir);
        resolve(&mut self.cert);
        resolve(&mut self.key);
        for trust in &mut self.trust {
            resolve(&mut trust.ca);
        }
        if let Some(old) = &mut self.trusted_cas {
            old.iter_mut().for_each(resolve);
        }
        for peer in &mut self.peers {
            resolve(&mut peer.ca);
        }
    }

    /// Checks every key: district id, certificate and key files (and that the certificate
    /// is a node certificate of this district), key permissions, trusted CAs and limits.
    pub fn validate(&self) -> Result<(), ConfigError> {
        identity::validate_district_id(&self.district)
            .map_err(|e| ConfigError::new("district", e))?;
        let cert_pem = read_file("cert", &self.cert)?;
        let certs = crate::trust::cert::parse_pem_certs(&cert_pem)
            .map_err(|e| ConfigError::new("cert", format!("{}: {e}", self.cert.display())))?;
        let Some(leaf) = certs.first() else {
            return Err(ConfigError::new(
                "cert",
                format!("{} holds no certificate", self.cert.display()),
            ));
        };
        let deny = crate::trust::deny::DenyList::parse(&self.deny)?;
        if let Some(denial) = deny.check_der(leaf.as_ref()) {
            return Err(ConfigError::new(
                "deny",
                format!(
                    "names this node's own certificate {} ({denial})",
                    self.cert.display()
                ),
            ));
        }
        match identity::identity_from_der(leaf.as_ref()) {
            Ok(Identity::Node { district }) if district == self.district => {}
            Ok(Identity::Node { district }) => {
                return Err(ConfigError::new(
                    "cert",
                    format!(
                        "{} is the node certificate of district '{district}', not of '{}'",
                        self.cert.display(),
                        self.district
                    ),
                ))
            }
            Ok(other) => {
                return Err(ConfigError::new(
                    "cert",
                    format!(
                        "{} is not a node certificate (it names {other})",
                        self.cert.display()
                    ),
                ))
            }
            Err(e) => {
                return Err(ConfigError::new(
                    "cert",
                    format!("{}: {e}", self.cert.display()),
                ))
            }
        }
        crate::trust::pki::check_key_permissions(&self.key)
            .map_err(|e| ConfigError::new("key", e.to_string()))?;
        read_file("key", &self.key)?;
        self.validate_trust(leaf.as_ref())?;
        if !(64 * 1024..=64 * 1024 * 1024).contains(&self.max_message_bytes) {
            return Err(ConfigError::new(
                "max_message_bytes",
                format!("{} is outside 65536..=67108864", self.max_message_bytes),
            ));
        }
        if !(8..=65_536).contains(&self.cache_mib) {
            return Err(ConfigError::new(
                "cache_mib",
                format!("{} is outside 8..=65536", self.cache_mib),
            ));
        }
        if !(1..=86_400).contains(&self.anti_entropy_secs) {
            return Err(ConfigError::new(
                "anti_entropy_secs",
                format!("{} is outside 1..=86400", self.anti_entropy_secs),
            ));
        }
        if self.tombstone_grace_hours > 24 * 365 {
            return Err(ConfigError::new(
                "tombstone_grace_hours",
                format!(
                    "{} is above the limit of 8760 (a year)",
                    self.tombstone_grace_hours
                ),
            ));
        }
        if !(MIN_AUDIT_RETENTION_DAYS..=MAX_AUDIT_RETENTION_DAYS)
            .contains(&self.audit_retention_days)
        {
            return Err(ConfigError::new(
                "audit_retention_days",
                format!(
                    "{} is outside {MIN_AUDIT_RETENTION_DAYS}..={MAX_AUDIT_RETENTION_DAYS} (at least a year is kept)",
                    self.audit_retention_days
                ),
            ));
        }
        let (admin, grpc) = (self.admin_listen, self.listen);
        let same_ip =
            admin.ip() == grpc.ip() || admin.ip().is_unspecified() || grpc.ip().is_unspecified();
        if admin.port() != 0 && admin.port() == grpc.port() && same_ip {
            return Err(ConfigError::new(
                "admin_listen",
                format!("{admin} takes the port of `listen` ({grpc}); give the admin listener its own port"),
            ));
        }
        self.validate_peers()?;
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::new("data_dir", "is empty"));
        }
        if self.data_dir.exists() && !self.data_dir.is_dir() {
            return Err(ConfigError::new(
                "data_dir",
                format!("{} exists and is not a folder", self.data_dir.display()),
            ));
        }
        Ok(())
    }
}

impl NodeConfig {
    /// Every CA binding: the `[[trust]]` tables, then each peer's `ca` bound to that
    /// peer's node certificate alone. Reads the CA files; each problem names its key.
    pub fn trust_specs(&self) -> Result<Vec<BindingSpec>, ConfigError> {
        let mut specs = Vec::new();
        for (i, trust) in self.trust.iter().enumerate() {
            let key = format!("trust[{i}]");
            let mut districts = Vec::new();
            for (j, pattern) in trust.districts.iter().enumerate() {
                districts.push(
                    DistrictPattern::parse(pattern)
                        .map_err(|e| ConfigError::new(format!("{key}.districts[{j}]"), e))?,
                );
            }
            specs.push(BindingSpec {
                pem: read_file(&format!("{key}.ca"), &trust.ca)?,
                source: key,
                districts,
                kinds: trust.kinds.clone(),
            });
        }
        for (i, peer) in self.peers.iter().enumerate() {
            let key = format!("peers[{i}].ca");
            let district = DistrictPattern::parse(&peer.district)
                .map_err(|e| ConfigError::new(format!("peers[{i}].district"), e))?;
            specs.push(BindingSpec {
                pem: read_file(&key, &peer.ca)?,
                source: key,
                districts: vec![district],
                kinds: vec![CertKind::Node],
            });
        }
        Ok(specs)
    }

    /// The CA bindings in force for this config, parsed.
    pub fn trust_anchors(&self) -> Result<TrustAnchors, ConfigError> {
        TrustAnchors::from_specs(&self.trust_specs()?)
            .map_err(|e| ConfigError::new(e.source_key, e.problem))
    }

    /// Checks the `[[trust]]` tables: the old `trusted_cas` is refused with the new form;
    /// the node's own district needs a CA for its officers; no binding lets a peer's CA
    /// vouch for this district (unless that CA also issued this node's own certificate,
    /// as when two districts of one state peer).
    fn validate_trust(&self, own_leaf: &[u8]) -> Result<(), ConfigError> {
        if let Some(old) = &self.trusted_cas {
            return Err(ConfigError::new(
                "trusted_cas",
                self.trusted_cas_replacement(old),
            ));
        }
        if self.trust.is_empty() {
            return Err(ConfigError::new(
                "trust",
                format!(
                    "is empty; add a [[trust]] table for this state's CA, for example:\n\n{}",
                    trust_table(
                        Path::new("/etc/setu/ca.pem"),
                        &state_pattern(&self.district)
                    )
                ),
            ));
        }
        // One reading of every CA file; the bindings refuse a table without districts,
        // kinds or certificates, naming it.
        let specs = self.trust_specs()?;
        let anchors = TrustAnchors::from_specs(&specs)
            .map_err(|e| ConfigError::new(e.source_key, e.problem))?;
        let own = Identity::Node {
            district: self.district.clone(),
        };
        // An expired certificate is warned about elsewhere; here only the binding counts.
        if let Err(e @ (NotVouched::NoBinding { .. } | NotVouched::KindNotBound { .. })) =
            anchors.vouch_at(own_leaf, &own, rustls::pki_types::UnixTime::now())
        {
            return Err(ConfigError::new(
                "cert",
                format!(
                    "{} is not vouched for by this node's own trust: {e}; bind the CA that issued it to {} in a [[trust]] table with kinds = [\"officer\", \"node\"]",
                    self.cert.display(),
                    self.district
                ),
            ));
        }
        let (tables, peer_specs) = specs.split_at(self.trust.len());
        let binds_own =
            |spec: &BindingSpec| spec.districts.iter().any(|p| p.matches(&self.district));
        if !tables
            .iter()
            .any(|spec| spec.kinds.contains(&CertKind::Officer) && binds_own(spec))
        {
            return Err(ConfigError::new(
                "trust",
                format!(
                    "no [[trust]] table lets a CA vouch for officers of {}, so none of its officers could connect; add kinds = [\"officer\", \"node\"] to this state's CA",
                    self.district
                ),
            ));
        }
        let own_issuers = anchors.issuers_of(own_leaf);
        let certs = |spec: &BindingSpec| {
            crate::trust::cert::parse_pem_certs(&spec.pem)
                .map_err(|e| ConfigError::new(&spec.source, e))
        };
        for (spec, trust) in tables.iter().zip(&self.trust) {
            if !binds_own(spec) || own_issuers.contains(&spec.source) {
                continue;
            }
            let ca_certs = certs(spec)?;
            for (peer_spec, peer) in peer_specs.iter().zip(&self.peers) {
                if certs(peer_spec)?.iter().any(|c| ca_certs.contains(c)) {
                    return Err(ConfigError::new(
                        &spec.source,
                        format!(
                            "lets {}, the CA of peer {}, vouch for this district ({}); a peer's CA may vouch only for its own districts",
                            trust.ca.display(),
                            peer.district,
                            self.district
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The message refusing the old `trusted_cas`, with the tables that replace it.
    fn trusted_cas_replacement(&self, old: &[PathBuf]) -> String {
        let peer_cas: Vec<&PathBuf> = self.peers.iter().map(|p| &p.ca).collect();
        let tables: Vec<String> = old
            .iter()
            .filter(|ca| !peer_cas.contains(ca))
            .map(|ca| trust_table(ca, &state_pattern(&self.district)))
            .collect();
        let tables = if tables.is_empty() {
            trust_table(
                Path::new("/etc/setu/ca.pem"),
                &state_pattern(&self.district),
            )
        } else {
            tables.join("\n")
        };
        format!(
            "is no longer accepted: each trusted CA now says which districts and kinds of certificate it vouches for. Replace `trusted_cas` with:\n\n{tables}\n(a peer's `ca` in its [[peers]] table needs no [[trust]] table: it vouches for that peer's node alone)"
        )
    }

    fn validate_peers(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for (i, peer) in self.peers.iter().enumerate() {
            let key = |k: &str| format!("peers[{i}].{k}");
            identity::validate_district_id(&peer.district)
                .map_err(|e| ConfigError::new(key("district"), e))?;
            if peer.district == self.district {
                return Err(ConfigError::new(
                    key("district"),
                    "is this node's own district; a node does not peer with itself",
                ));
            }
            if !seen.insert(peer.district.as_str()) {
                return Err(ConfigError::new(
                    key("district"),
                    format!("{} is listed twice", peer.district),
                ));
            }
            let uri: Result<tonic::transport::Uri, _> = peer.address.parse();
            match uri {
                Ok(uri) if uri.scheme_str() == Some("https") && uri.host().is_some() => {}
                _ => {
                    return Err(ConfigError::new(
                        key("address"),
                        format!(
                            "'{}' is not an https:// address with a host and port",
                            peer.address
                        ),
                    ))
                }
            }
            let pem = read_file(&key("ca"), &peer.ca)?;
            let certs = crate::trust::cert::parse_pem_certs(&pem)
                .map_err(|e| ConfigError::new(key("ca"), format!("{}: {e}", peer.ca.display())))?;
            if certs.is_empty() {
                return Err(ConfigError::new(
                    key("ca"),
                    format!("{} holds no certificate", peer.ca.display()),
                ));
            }
            if peer.send.is_empty() && peer.relay_origins.iter().any(|o| o != "*") {
                return Err(ConfigError::new(
                    key("relay_origins"),
                    "relaying needs `federation` in `send`",
                ));
            }
            for (j, origin) in peer.relay_origins.iter().enumerate() {
                if origin != "*" {
                    identity::validate_district_id(origin).map_err(|e| {
                        ConfigError::new(format!("peers[{i}].relay_origins[{j}]"), e)
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// A `[[trust]]` table binding `ca` to `districts` for officers and nodes, as TOML.
fn trust_table(ca: &Path, districts: &str) -> String {
    format!(
        "[[trust]]\nca = \"{}\"\ndistricts = [\"{districts}\"]\nkinds = [\"officer\", \"node\"]\n",
        ca.display()
    )
}

fn read_file(key: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path)
        .map_err(|e| ConfigError::new(key, format!("cannot read {}: {e}", path.display())))
}
