//! The node's configuration: a TOML file with `SETU_*` environment overrides, checked in
//! full before any port is bound, so that a bad config fails at once and names the key.

use crate::identity::{self, Identity};
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
    /// Where the node keeps its database.
    pub data_dir: PathBuf,
    /// This node's certificate (PEM), issued by `setu-node pki node`.
    pub cert: PathBuf,
    /// This node's private key (PEM); must not be readable by group or others.
    pub key: PathBuf,
    /// CA certificates (PEM) whose officers and nodes may connect: this state's CA and the
    /// CAs of the peer districts.
    pub trusted_cas: Vec<PathBuf>,
    /// Handling code for records and notes created without one.
    #[serde(default)]
    pub default_handling: DefaultHandling,
    /// Largest gRPC message accepted, in bytes (photos travel in smaller chunks).
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// Memory for the database page cache, in MiB.
    #[serde(default = "default_cache_mib")]
    pub cache_mib: u64,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7401))
}

fn default_max_message_bytes() -> usize {
    crate::limits::DEFAULT_MAX_MESSAGE_BYTES
}

fn default_cache_mib() -> u64 {
    256
}

/// Environment variables read as overrides: `SETU_` plus the key in upper case, e.g.
/// `SETU_LISTEN=0.0.0.0:7401`. `SETU_LOG` and `SETU_CONFIG` mean something else.
const ENV_PREFIX: &str = "SETU_";

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
            .merge(Env::prefixed(ENV_PREFIX).ignore(&["log", "config"]));
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

    /// A config with every optional key at its default (used by the demo and tests).
    pub fn new(
        district: &str,
        data_dir: PathBuf,
        cert: PathBuf,
        key: PathBuf,
        trusted_cas: Vec<PathBuf>,
    ) -> NodeConfig {
        NodeConfig {
            district: district.to_string(),
            listen: default_listen(),
            data_dir,
            cert,
            key,
            trusted_cas,
            default_handling: DefaultHandling::default(),
            max_message_bytes: default_max_message_bytes(),
            cache_mib: default_cache_mib(),
        }
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
        self.trusted_cas.iter_mut().for_each(resolve);
    }

    /// Checks every key: district id, certificate and key files (and that the certificate
    /// is a node certificate of this district), key permissions, trusted CAs and limits.
    pub fn validate(&self) -> Result<(), ConfigError> {
        identity::validate_district_id(&self.district)
            .map_err(|e| ConfigError::new("district", e))?;
        let cert_pem = read_file("cert", &self.cert)?;
        let certs = crate::tls::parse_pem_certs(&cert_pem)
            .map_err(|e| ConfigError::new("cert", format!("{}: {e}", self.cert.display())))?;
        let Some(leaf) = certs.first() else {
            return Err(ConfigError::new(
                "cert",
                format!("{} holds no certificate", self.cert.display()),
            ));
        };
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
        crate::pki::check_key_permissions(&self.key)
            .map_err(|e| ConfigError::new("key", e.to_string()))?;
        read_file("key", &self.key)?;
        if self.trusted_cas.is_empty() {
            return Err(ConfigError::new(
                "trusted_cas",
                "is empty; list at least this state's CA certificate",
            ));
        }
        for (i, ca) in self.trusted_cas.iter().enumerate() {
            let key = format!("trusted_cas[{i}]");
            let pem = read_file(&key, ca)?;
            let certs = crate::tls::parse_pem_certs(&pem)
                .map_err(|e| ConfigError::new(&key, format!("{}: {e}", ca.display())))?;
            if certs.is_empty() {
                return Err(ConfigError::new(
                    key,
                    format!("{} holds no certificate", ca.display()),
                ));
            }
        }
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

fn read_file(key: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path)
        .map_err(|e| ConfigError::new(key, format!("cannot read {}: {e}", path.display())))
}
