//! `setu-node backup` and `setu-node restore`: the operator's side of backups. A backup
//! is taken by the running node (it alone may open its database) and streamed over mutual
//! TLS to this command, authenticated with the node's own certificate; the file is written
//! beside its destination, synced, and renamed into place, readable by its owner only. A
//! restore needs no running node: it checks the file end to end, then writes it into an
//! empty folder under a new epoch (see `storage::backup`).

use crate::cli::CliError;
use crate::config::NodeConfig;
use crate::storage::backup;
use setu_proto::v1::maintenance_service_client::MaintenanceServiceClient;
use setu_proto::v1::BackupRequest;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

fn fail(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::Backup(format!("{what}: {e}"))
}

/// Where the node of `config` is reached from its own host: its listen address, with an
/// unspecified address (0.0.0.0 or ::) read as loopback.
fn local_address(config: &NodeConfig, address: Option<&str>) -> Result<String, CliError> {
    if let Some(address) = address {
        return Ok(address.to_string());
    }
    let mut listen: SocketAddr = config.listen;
    if listen.port() == 0 {
        return Err(fail(
            "backup",
            "the config's listen port is 0 (picked at start); give the node's address with --address https://127.0.0.1:PORT",
        ));
    }
    if listen.ip().is_unspecified() {
        listen.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    Ok(format!("https://{listen}"))
}

/// Asks the running node of `config` for a backup and writes it to `out`.
pub async fn backup(
    config: &NodeConfig,
    out: &Path,
    address: Option<&str>,
) -> Result<(), CliError> {
    let address = local_address(config, address)?;
    let cert = std::fs::read(&config.cert)
        .map_err(|e| fail(&format!("reading {}", config.cert.display()), e))?;
    let key = std::fs::read(&config.key)
        .map_err(|e| fail(&format!("reading {}", config.key.display()), e))?;
    let mut cas = Vec::new();
    for spec in config.trust_specs()? {
        cas.extend_from_slice(&spec.pem);
    }
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(cas))
        .identity(Identity::from_pem(cert, key))
        .domain_name(format!("{}.node.setu", config.district));
    let channel = Endpoint::from_shared(address.clone())
        .map_err(|e| fail("the node's address", e))?
        .tls_config(tls)
        .map_err(|e| fail("TLS", e))?
        .connect()
        .await
        .map_err(|e| {
            fail(
                &format!("connecting to the node at {address} (is it running?)"),
                e,
            )
        })?;
    let mut stream = MaintenanceServiceClient::new(channel)
        .max_decoding_message_size(64 * 1024 * 1024)
        .backup(BackupRequest {})
        .await
        .map_err(|s| fail("the node refused the backup", s.message()))?
        .into_inner();
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .ok_or_else(|| fail("--out", "names no file"))?
        .to_string_lossy()
        .into_owned();
    let partial = dir.join(format!(".{name}.partial"));
    let mut file = {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&partial)
            .map_err(|e| fail(&format!("creating {}", partial.display()), e))?
    };
    let started = std::time::Instant::now();
    let mut done = None;
    loop {
        match stream.message().await {
            Ok(Some(chunk)) => {
                file.write_all(&chunk.data)
                    .map_err(|e| fail(&format!("writing {}", partial.display()), e))?;
                if chunk.done.is_some() {
                    done = chunk.done;
                }
            }
            Ok(None) => break,
            Err(status) => {
                let _ = std::fs::remove_file(&partial);
                return Err(fail("the backup failed", status.message()));
            }
        }
    }
    let Some(done) = done else {
        let _ = std::fs::remove_file(&partial);
        return Err(fail(
            "the backup failed",
            "the node ended the stream before finishing",
        ));
    };
    file.sync_all().map_err(|e| fail("syncing the backup", e))?;
    drop(file);
    // The file must read back whole before it replaces anything.
    backup::verify_backup(&partial).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        fail("the backup did not verify", e)
    })?;
    std::fs::rename(&partial, out)
        .map_err(|e| fail(&format!("renaming to {}", out.display()), e))?;
    println!(
        "backup of {} written to {}: {} entries, {} bytes, epoch {:016x}, in {:.1} s",
        done.district,
        out.display(),
        done.entries,
        done.bytes,
        done.epoch,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Restores `from` into `data_dir` under a new epoch.
pub fn restore(from: &Path, data_dir: &Path) -> Result<(), CliError> {
    let (summary, epoch) = backup::restore_backup(from, data_dir)?;
    println!(
        "restored the backup of {} ({} entries, taken at {} ms) into {} under the new epoch {epoch:016x}; \
         start the node with data_dir = {} and its peers will resync it",
        summary.district,
        summary.entries,
        summary.taken_at_ms,
        data_dir.display(),
        data_dir.display()
    );
    Ok(())
}
