//! The officer's client configuration: where the district node is and which certificates
//! prove who is talking to whom. Kept separate so tests and tools can load it without the CLI.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ClientError;

/// The client's TOML configuration file.
///
/// Relative paths in the file are resolved against the directory that holds the file, so a
/// configuration directory can be moved as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Address of the district node, e.g. `https://127.0.0.1:7401`; only `https` is accepted.
    pub address: String,
    /// PEM bundle of the certificate authorities that vouch for the node; it may hold several.
    pub ca: PathBuf,
    /// PEM certificate (chain) of this officer.
    pub cert: PathBuf,
    /// PEM private key of this officer.
    pub key: PathBuf,
    /// The name the node's certificate must carry; defaults to the host in `address`.
    #[serde(default)]
    pub server_name: Option<String>,
}

impl ClientConfig {
    /// Reads, parses and checks the configuration file at `path`.
    ///
    /// Errors name the file and, where the parser knows it, the key and line at fault.
    pub fn load(path: &Path) -> Result<Self, ClientError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClientError::ConfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new(""));
        Self::parse(&text, base).map_err(|message| ClientError::ConfigInvalid {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses configuration text, resolving relative paths against `base`.
    ///
    /// The error is a message without the file name; [`ClientConfig::load`] adds it.
    pub fn parse(text: &str, base: &Path) -> Result<Self, String> {
        let mut config: ClientConfig = toml::from_str(text).map_err(|e| describe_toml(&e, text))?;
        config.check_address()?;
        if let Some(name) = &config.server_name {
            if name.trim().is_empty() {
                return Err(
                    "key `server_name` is empty; remove it to use the host in `address`".into(),
                );
            }
        }
        config.ca = resolve(base, &config.ca);
        config.cert = resolve(base, &config.cert);
        config.key = resolve(base, &config.key);
        Ok(config)
    }

    /// The name the node's certificate must carry: `server_name` or the host in `address`.
    pub fn effective_server_name(&self) -> Result<String, ClientError> {
        if let Some(name) = &self.server_name {
            return Ok(name.clone());
        }
        host_of(&self.address).map_err(|reason| {
            ClientError::Input(format!("config key `address` ({}): {reason}", self.address))
        })
    }

    /// Accepts only `https://host[:port]` addresses, since the node speaks mutual TLS only.
    fn check_address(&self) -> Result<(), String> {
        let reason = match host_of(&self.address) {
            Ok(_) if self.address.starts_with("https://") => return Ok(()),
            Ok(_) => "the node speaks mutual TLS only, so the address must start with https://"
                .to_string(),
            Err(reason) => reason,
        };
        Err(format!("key `address` = {:?}: {reason}", self.address))
    }
}

/// Extracts the host of an address, without the brackets of an IPv6 literal.
fn host_of(address: &str) -> Result<String, String> {
    let uri: tonic::transport::Uri = address
        .parse()
        .map_err(|e| format!("not a valid address: {e}"))?;
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| "the address has no host".to_string())?;
    Ok(host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string())
}

/// Joins a relative path onto the configuration file's directory; absolute paths stay.
fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// Turns a TOML error into one line with the parser's message and the line number.
fn describe_toml(error: &toml::de::Error, text: &str) -> String {
    let message = error.message().trim().to_string();
    match error.span() {
        Some(span) => {
            let line = text
                .get(..span.start)
                .map_or(1, |before| before.matches('\n').count() + 1);
            format!("{message} (line {line})")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
address = "https://127.0.0.1:7401"
ca = "ca.pem"
cert = "certs/officer.pem"
key = "/etc/setu/officer.key"
"#;

    #[test]
    fn relative_paths_resolve_against_the_config_directory() -> Result<(), String> {
        let config = ClientConfig::parse(SAMPLE, Path::new("/home/officer/setu"))?;
        assert_eq!(config.ca, PathBuf::from("/home/officer/setu/ca.pem"));
        assert_eq!(
            config.cert,
            PathBuf::from("/home/officer/setu/certs/officer.pem")
        );
        assert_eq!(config.key, PathBuf::from("/etc/setu/officer.key"));
        assert_eq!(config.server_name, None);
        Ok(())
    }

    #[test]
    fn load_resolves_against_the_file_location() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("client.toml");
        std::fs::write(&path, SAMPLE)?;
        let config = ClientConfig::load(&path)?;
        assert_eq!(config.ca, dir.path().join("ca.pem"));
        Ok(())
    }

    #[test]
    fn unknown_key_is_named_with_file_and_line() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("client.toml");
        std::fs::write(&path, format!("{SAMPLE}adress = \"https://x\"\n"))?;
        let message = match ClientConfig::load(&path) {
            Ok(_) => return Err("an unknown key was accepted".into()),
            Err(e) => e.to_string(),
        };
        assert!(message.contains("client.toml"), "{message}");
        assert!(message.contains("adress"), "{message}");
        assert!(message.contains("line 6"), "{message}");
        Ok(())
    }

    #[test]
    fn missing_key_is_named() {
        let result = ClientConfig::parse("address = \"https://127.0.0.1:7401\"\n", Path::new("."));
        assert!(matches!(result, Err(m) if m.contains("ca")));
    }

    #[test]
    fn plain_http_is_refused() {
        let text = SAMPLE.replace("https://", "http://");
        let result = ClientConfig::parse(&text, Path::new("."));
        assert!(matches!(result, Err(m) if m.contains("https://")));
    }

    #[test]
    fn missing_file_names_the_file() {
        let result = ClientConfig::load(Path::new("/nonexistent/setu/client.toml"));
        assert!(
            matches!(result, Err(e) if e.to_string().contains("/nonexistent/setu/client.toml"))
        );
    }

    #[test]
    fn server_name_defaults_to_the_host() -> Result<(), Box<dyn std::error::Error>> {
        let config = ClientConfig::parse(SAMPLE, Path::new("."))?;
        assert_eq!(config.effective_server_name()?, "127.0.0.1");
        let v6 = SAMPLE.replace("127.0.0.1", "[::1]");
        let config = ClientConfig::parse(&v6, Path::new("."))?;
        assert_eq!(config.effective_server_name()?, "::1");
        let named = format!("{SAMPLE}server_name = \"node.jh-dhanbad.example\"\n");
        let config = ClientConfig::parse(&named, Path::new("."))?;
        assert_eq!(config.effective_server_name()?, "node.jh-dhanbad.example");
        Ok(())
    }
}
