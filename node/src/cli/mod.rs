//! The `setu-node` command line: `serve` (SIGHUP reloads certificates and the deny-list),
//! `demo`, the `pki` commands (`renew` among them) and `audit verify`. `main.rs` only
//! parses arguments and maps the result to an exit code.

pub mod backup;
pub mod demo;

use crate::config::{ConfigError, NodeConfig};
use crate::server::{self, ServeError};
use crate::storage::{Storage, StorageError};
use crate::trust::identity::Role;
use crate::trust::pki::{self, PkiError};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Exit code for a bad configuration (EX_USAGE from sysexits).
pub const EXIT_CONFIG: u8 = 64;

/// The Setu district node.
#[derive(Debug, Parser)]
#[command(
    name = "setu-node",
    version,
    about = "Setu district node: records, MO notes and photos shared across the border over mutual TLS"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What `setu-node` can do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a district: `serve --config node.toml` (without --config: a single dev node in ./setu-data).
    Serve {
        /// The node's TOML config; `SETU_*` environment variables override its keys.
        #[arg(long, env = "SETU_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Start a two-district demo federation (Dhanbad and Asansol-Durgapur) on loopback.
    Demo {
        /// Where the demo keeps its PKI, configs and data; reused when it exists.
        #[arg(long, default_value = "setu-demo")]
        dir: PathBuf,
        /// Port of the Dhanbad node; Asansol-Durgapur listens on the next one. 0 picks free ports.
        #[arg(long, default_value_t = 7401)]
        base_port: u16,
    },
    /// Certificate authority and certificates.
    Pki {
        #[command(subcommand)]
        command: PkiCommand,
    },
    /// Back up the running node's database to FILE (a consistent snapshot; the node keeps
    /// serving, writes wait while the trees are copied). Run on the node's host: it uses the
    /// node's own certificate from the config.
    Backup {
        /// The node's TOML config.
        #[arg(long, env = "SETU_CONFIG")]
        config: PathBuf,
        /// The backup file to write (mode 0600).
        #[arg(long)]
        out: PathBuf,
        /// The node's address when the config's listen address does not say it, e.g.
        /// https://127.0.0.1:7401.
        #[arg(long)]
        address: Option<String>,
    },
    /// Restore a backup into an empty data folder, under a new epoch so that peers resync
    /// the district. The node must not be running on that folder.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// The data folder to create (must be empty or not exist).
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// The `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain of a stopped node's audit trail; exits non-zero when it is broken.
    Verify {
        /// The node's data folder (`data_dir` in node.toml); the node must not be running.
        #[arg(long)]
        data_dir: PathBuf,
    },
}

/// The `pki` subcommands.
#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create a CA (one per state, or per federation) in DIR: ca.pem and ca.key (mode 0600).
    InitCa {
        #[arg(long)]
        out: PathBuf,
        /// The CA's name, e.g. "Jharkhand Police".
        #[arg(long)]
        name: String,
    },
    /// Issue a node certificate naming the district and the hosts it is reached at.
    Node {
        /// The CA's folder (ca.pem, ca.key).
        #[arg(long)]
        ca: PathBuf,
        /// District id, e.g. jh-dhanbad.
        #[arg(long)]
        district: String,
        /// A DNS name or IP address of the node (repeatable).
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
        /// Output folder: node.pem, node.key, ca.pem.
        #[arg(long)]
        out: PathBuf,
    },
    /// Issue an officer's client certificate carrying district, badge, name and role.
    Officer {
        #[arg(long)]
        ca: PathBuf,
        #[arg(long)]
        district: String,
        /// Badge number, e.g. JH-1234.
        #[arg(long)]
        badge: String,
        /// The officer's name as it should appear in audit trails.
        #[arg(long)]
        name: String,
        /// officer, liaison or admin.
        #[arg(long, default_value = "officer")]
        role: Role,
        /// Output folder: officer.pem, officer.key, ca.pem and the client config setu.toml.
        #[arg(long)]
        out: PathBuf,
        /// Days of validity (default: 365; never beyond the CA's own expiry).
        #[arg(long)]
        days: Option<u32>,
        /// The district node's address for the client config, e.g.
        /// https://setu.dhanbad.example:7401 (a host its node certificate lists). Without it
        /// setu.toml gets a placeholder address to fill in.
        #[arg(long, value_name = "https://HOST:PORT", value_parser = parse_node_address)]
        node: Option<String>,
    },
    /// Renew a node or officer certificate: the same identity (district, badge, name, role,
    /// hosts) with a new key pair and a new validity, from the CA that issued it. Reload the
    /// node afterwards (SIGHUP) to serve a renewed node certificate.
    Renew {
        /// The CA's folder (ca.pem, ca.key); it must have issued the old certificate.
        #[arg(long)]
        ca: PathBuf,
        /// The certificate to renew (PEM); it may have expired.
        #[arg(long)]
        cert: PathBuf,
        /// Output folder: node.pem and node.key (or officer.pem and officer.key), ca.pem.
        #[arg(long)]
        out: PathBuf,
        /// Days of validity (default: 825 for a node, 365 for an officer).
        #[arg(long)]
        days: Option<u32>,
    },
}

/// Failures of the node's commands.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("{0}")]
    Demo(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Storage(#[from] StorageError),
    #[error("the audit trail is broken at entry {0}")]
    AuditBroken(u64),
    /// A backup could not be taken or written.
    #[error("{0}")]
    Backup(String),
    /// A file the command writes could not be written.
    #[error("{0}")]
    Write(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) | CliError::Serve(ServeError::Config(_)) => EXIT_CONFIG,
            _ => 1,
        }
    }
}

/// Runs a parsed command to completion.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve { config: Some(path) } => {
            let config = NodeConfig::load(&path)?;
            serve_until_signal(config, Some(path)).await
        }
        Command::Serve { config: None } => {
            let config = crate::cli::demo::dev_setup(&PathBuf::from("setu-data"))?;
            serve_until_signal(config, None).await
        }
        Command::Demo { dir, base_port } => crate::cli::demo::run(&dir, base_port).await,
        Command::Pki { command } => pki_command(command),
        Command::Backup {
            config,
            out,
            address,
        } => {
            let config = NodeConfig::load(&config)?;
            crate::cli::backup::backup(&config, &out, address.as_deref()).await
        }
        Command::Restore { from, data_dir } => crate::cli::backup::restore(&from, &data_dir),
        Command::Audit {
            command: AuditCommand::Verify { data_dir },
        } => verify_audit(&data_dir),
    }
}

/// Walks the audit chain in `data_dir` and says whether it is intact or where it breaks.
fn verify_audit(data_dir: &std::path::Path) -> Result<(), CliError> {
    match Storage::verify_audit_dir(data_dir)? {
        Ok(n) => {
            println!("audit trail intact: {n} entries");
            Ok(())
        }
        Err(broken) => {
            println!(
                "audit trail broken at entry {}: {}",
                broken.seq, broken.reason
            );
            Err(CliError::AuditBroken(broken.seq))
        }
    }
}

fn pki_command(command: PkiCommand) -> Result<(), CliError> {
    match command {
        PkiCommand::InitCa { out, name } => {
            pki::init_ca_dir(&out, &name)?;
            println!(
                "created CA '{name}' in {} (keep ca.key offline and safe)",
                out.display()
            );
        }
        PkiCommand::Node {
            ca,
            district,
            hosts,
            out,
        } => {
            pki::issue_node_to_dir(&ca, &district, &hosts, &out)?;
            println!(
                "issued node certificate for {district} in {}",
                out.display()
            );
            match write_starter_config(&out, &district)? {
                Some(path) => println!(
                    "wrote a starting node config, {}: it trusts this CA for {} officers and nodes; add a [[peers]] table for each neighbour",
                    path.display(),
                    crate::config::state_pattern(&district)
                ),
                None => println!(
                    "kept the existing {}",
                    out.join("node.toml").display()
                ),
            }
        }
        PkiCommand::Officer {
            ca,
            district,
            badge,
            name,
            role,
            out,
            days,
            node,
        } => {
            let issued =
                pki::issue_officer_to_dir(&ca, &district, &badge, &name, role, days, &out)?;
            let now_ms = crate::clock::now_ms();
            println!(
                "issued {role} certificate for {badge} ({district}) in {}: {} and {}",
                out.display(),
                issued.cert.display(),
                issued.key.display()
            );
            println!(
                "serial {}, valid until {} ({} days)",
                issued.serial,
                expiry_date(issued.not_after_ms),
                rounded_days(issued.not_after_ms - now_ms)
            );
            let config = out.join(OFFICER_CONFIG_FILE);
            match write_officer_config(&config, node.as_deref())? {
                OfficerConfig::Written => println!(
                    "wrote the client config {}{}",
                    config.display(),
                    if node.is_some() {
                        ""
                    } else {
                        " with a placeholder address: put the district node's https:// address in it (or issue again with --node)"
                    }
                ),
                OfficerConfig::Kept => println!(
                    "kept the existing client config {} (give --node to write it afresh)",
                    config.display()
                ),
            }
            println!(
                "hand the folder to the officer over a trusted channel; try it with:\n  setu --config {} whoami",
                shell_word(&config.display().to_string())
            );
        }
        PkiCommand::Renew {
            ca,
            cert,
            out,
            days,
        } => {
            let renewed = pki::renew_to_dir(&ca, &cert, &out, days)?;
            let until = crate::trust::cert::format_ms(renewed.not_after.unix_timestamp() * 1000);
            println!(
                "renewed the certificate of {} in {}: {} and {} (serial {}, valid until {until})",
                renewed.identity,
                out.display(),
                renewed.cert.display(),
                renewed.key.display(),
                renewed.serial,
            );
            println!(
                "the old certificate (serial {}) stays valid until it expires; to refuse it now, add \"serial:{}\" to `deny` in node.toml and reload (SIGHUP)",
                renewed.old_serial, renewed.old_serial
            );
        }
    }
    Ok(())
}

/// The client config `pki officer` writes beside the officer's certificate.
const OFFICER_CONFIG_FILE: &str = "setu.toml";

/// The address written into an officer's client config when `--node` is not given: it
/// fails to connect with its own name in the message, so it cannot be mistaken for a real
/// node.
const PLACEHOLDER_NODE: &str = "https://fill-in-the-node-address:7401";

/// What became of the officer's client config.
enum OfficerConfig {
    /// A new config was written.
    Written,
    /// A config was already there and no `--node` asked for a new one.
    Kept,
}

/// Writes the officer's client config (`setu.toml`) at `path`, in the format `setu
/// --config` reads: the node's `address` (`node`, else a placeholder with a comment saying
/// what to fill in) and the three files beside it by relative path. Without `node` an
/// existing config is kept, as it may already hold the real address.
fn write_officer_config(path: &Path, node: Option<&str>) -> Result<OfficerConfig, CliError> {
    if node.is_none() && path.exists() {
        return Ok(OfficerConfig::Kept);
    }
    let address = match node {
        Some(address) => format!(
            "# The district node; its certificate must list this host.\naddress = {}\n",
            toml_string(address)
        ),
        None => format!(
            "# Fill in: the https:// address of your district's node, with a host its node\n\
             # certificate lists (`setu-node pki node --host`), e.g.\n\
             # address = \"https://setu.dhanbad.example:7401\"\n\
             address = {}\n",
            toml_string(PLACEHOLDER_NODE)
        ),
    };
    let text = format!(
        "# Client config written by `setu-node pki officer`: use it as `setu --config {}`.\n\
         # Relative paths are relative to this file.\n\
         {address}\
         # The CA that vouches for the node.\n\
         ca = \"{}\"\n\
         # This officer's certificate and private key (mode 0600; keep it secret).\n\
         cert = \"officer.pem\"\n\
         key = \"officer.key\"\n",
        OFFICER_CONFIG_FILE,
        pki::CA_CERT_FILE
    );
    pki::write_public(path, &text)?;
    Ok(OfficerConfig::Written)
}

/// A TOML basic string holding `text`.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Checks `--node`: an `https://` address with a host (the port defaults to 443).
fn parse_node_address(text: &str) -> Result<String, String> {
    let text = text.trim();
    let uri: tonic::transport::Uri = text
        .parse()
        .map_err(|e| format!("{text:?} is not an address: {e}; e.g. https://10.20.0.5:7401"))?;
    if uri.scheme_str() != Some("https") {
        return Err(format!(
            "{text:?} must start with https:// (nodes speak mutual TLS only), e.g. https://10.20.0.5:7401"
        ));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!(
            "{text:?} names no host, e.g. https://10.20.0.5:7401"
        ));
    }
    Ok(text.trim_end_matches('/').to_string())
}

/// A span in days, rounded to the nearest day: a certificate issued for 30 days a moment ago
/// has 30 days, not 29 and some hours.
fn rounded_days(ms: i64) -> i64 {
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    (ms.max(0) + DAY_MS / 2).div_euclid(DAY_MS)
}

/// The day a certificate expires, `YYYY-MM-DD` (UTC).
fn expiry_date(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.date().to_string())
        .unwrap_or_else(|_| format!("{ms} ms"))
}

/// A word quoted for a POSIX shell when it needs quoting.
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@,".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Writes `out/node.toml` for a new node of `district` (unless one exists): this state's
/// CA, copied beside the certificate by `pki node`, bound to the state's officers and
/// nodes, and every other key at its default. Returns the path written.
fn write_starter_config(out: &Path, district: &str) -> Result<Option<PathBuf>, CliError> {
    use crate::config::{state_pattern, TrustConfig};
    use crate::trust::anchors::CertKind;
    let path = out.join("node.toml");
    if path.exists() {
        return Ok(None);
    }
    let mut config = NodeConfig::new(
        district,
        PathBuf::from("/var/lib/setu"),
        PathBuf::from("node.pem"),
        PathBuf::from("node.key"),
        vec![TrustConfig::new(
            PathBuf::from(pki::CA_CERT_FILE),
            &[&state_pattern(district)],
            &[CertKind::Officer, CertKind::Node],
        )],
    );
    config.listen = std::net::SocketAddr::from(([0, 0, 0, 0], 7401));
    config.admin_listen = std::net::SocketAddr::from(([127, 0, 0, 1], 7490));
    let text = format!(
        "# Node config written by `setu-node pki node`; see README.md for every key.\n\
         # Relative paths are relative to this file. Each neighbour gets a [[peers]] table:\n\
         #   [[peers]]\n\
         #   district = \"wb-asansol-durgapur\"\n\
         #   address = \"https://10.30.0.7:7402\"\n\
         #   ca = \"wb-ca.pem\"   # the neighbour state's CA: it vouches for that node alone\n{}",
        config.to_toml()?
    );
    std::fs::write(&path, text)
        .map_err(|e| CliError::Write(format!("writing {}: {e}", path.display())))?;
    Ok(Some(path))
}

/// Resolves when the process gets SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn serve_until_signal(config: NodeConfig, path: Option<PathBuf>) -> Result<(), CliError> {
    let node = server::start(config.clone()).await?;
    // The handler is installed before the node says it listens: SIGHUP's default action
    // would end the process.
    #[cfg(unix)]
    let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    #[cfg(not(unix))]
    let hangups = ();
    println!("setu-node {} listening on {}", node.district(), node.addr());
    println!(
        "setu-node {} metrics at http://{}/metrics",
        node.district(),
        node.admin_addr()
    );
    let reloads = tokio::spawn(reload_on_hangup(hangups, node.reloader(), config, path));
    shutdown_signal().await;
    reloads.abort();
    tracing::info!("shutting down: finishing calls in flight and flushing");
    node.shutdown().await?;
    Ok(())
}

/// Reloads the node's certificate, key, CA bundles and deny-list on each SIGHUP: from the
/// config file again when there is one (with its `SETU_*` overrides), otherwise from the
/// files the start-up config names. A bad config is logged, naming the key, and the node
/// keeps its current material.
#[cfg(unix)]
async fn reload_on_hangup(
    mut hangups: tokio::signal::unix::Signal,
    reloader: server::Reloader,
    config: NodeConfig,
    path: Option<PathBuf>,
) {
    while hangups.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading the TLS material and the deny-list");
        let fresh = match &path {
            Some(path) => NodeConfig::load(path).map(|mut c| {
                c.clock = config.clock.clone();
                c
            }),
            None => Ok(config.clone()),
        };
        let reloaded = fresh
            .map_err(crate::net::reload::ReloadError::from)
            .and_then(|fresh| reloader.reload(&fresh));
        if let Err(e) = reloaded {
            tracing::error!(error = %e, "reload refused; the node keeps its current certificate, CAs and deny-list");
        }
    }
}

/// Without Unix signals there is nothing to reload on.
#[cfg(not(unix))]
async fn reload_on_hangup(
    _hangups: (),
    _reloader: server::Reloader,
    _config: NodeConfig,
    _path: Option<PathBuf>,
) {
}

/// Sets up logging: `SETU_LOG` (or `RUST_LOG`) as an env-filter, `info` by default.
pub fn init_logging() {
    let filter = std::env::var("SETU_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_officer_config_without_a_node_says_what_to_fill_in(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(OFFICER_CONFIG_FILE);
        assert!(matches!(
            write_officer_config(&path, None)?,
            OfficerConfig::Written
        ));
        let text = std::fs::read_to_string(&path)?;
        assert!(
            text.contains("# Fill in: the https:// address of your district's node"),
            "{text}"
        );
        assert!(
            text.contains(&format!("address = \"{PLACEHOLDER_NODE}\"")),
            "{text}"
        );
        assert!(text.contains("cert = \"officer.pem\""), "{text}");
        assert!(matches!(
            write_officer_config(&path, None)?,
            OfficerConfig::Kept
        ));
        write_officer_config(&path, Some("https://10.20.0.5:7401"))?;
        let text = std::fs::read_to_string(&path)?;
        assert!(
            text.contains("address = \"https://10.20.0.5:7401\""),
            "{text}"
        );
        assert!(!text.contains("Fill in"), "{text}");
        Ok(())
    }

    #[test]
    fn node_addresses_must_be_https_with_a_host() {
        assert_eq!(
            parse_node_address("https://10.20.0.5:7401/"),
            Ok("https://10.20.0.5:7401".to_string())
        );
        let plain = parse_node_address("http://10.20.0.5:7401");
        assert!(
            matches!(&plain, Err(m) if m.contains("https://")),
            "{plain:?}"
        );
        let bare = parse_node_address("10.20.0.5:7401");
        assert!(bare.is_err(), "{bare:?}");
        assert_eq!(rounded_days(30 * 86_400_000 - 5_000), 30);
    }
}
