//! Shared helpers for the client's own integration tests: throw-away certificates and a small
//! in-memory stand-in for the district node, so the CLI and its TLS error messages can be
//! checked without the real node. All data here is fictional.

#![allow(dead_code)]

pub mod fake;
pub mod pki;

use std::path::{Path, PathBuf};

/// Writes a private key file with the permission bits `mode` (0600 for a key `setu`
/// accepts).
pub fn write_key(path: &Path, key_pem: &str, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, key_pem)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Writes a client config pointing at `address` with the given PEM files and returns its path.
pub fn write_config(
    dir: &Path,
    address: &str,
    ca_pem: &str,
    cert_pem: &str,
    key_pem: &str,
    server_name: Option<&str>,
) -> std::io::Result<PathBuf> {
    std::fs::write(dir.join("ca.pem"), ca_pem)?;
    std::fs::write(dir.join("officer.pem"), cert_pem)?;
    write_key(&dir.join("officer.key"), key_pem, 0o600)?;
    let mut text = format!(
        "address = \"{address}\"\nca = \"ca.pem\"\ncert = \"officer.pem\"\nkey = \"officer.key\"\n"
    );
    if let Some(name) = server_name {
        text.push_str(&format!("server_name = \"{name}\"\n"));
    }
    let path = dir.join("client.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}
