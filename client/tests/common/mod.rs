//! Shared helpers for the client's own integration tests: throw-away certificates and a small
//! in-memory stand-in for the district node, so the CLI and its TLS error messages can be
//! checked without the real node. All data here is fictional.

#![allow(dead_code)]

pub mod fake;
pub mod pki;

use std::path::{Path, PathBuf};

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
    std::fs::write(dir.join("officer.key"), key_pem)?;
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
