//! A test PKI: one certificate authority per state, issuing node and officer certificates
//! (valid or expired) into files, exactly as districts do with `setu-node pki`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use setu_node::trust::identity::Role;
use setu_node::trust::pki::{self, Ca, IssuedCert, Validity};

/// Hosts every test node certificate is valid for.
pub fn loopback_hosts() -> Vec<String> {
    vec!["127.0.0.1".to_string(), "localhost".to_string()]
}

/// A certificate and its private key (mode 0600) on disk.
#[derive(Debug, Clone)]
pub struct CertPair {
    /// The PEM certificate.
    pub cert: PathBuf,
    /// The PEM private key.
    pub key: PathBuf,
}

/// A state's certificate authority, saved as `ca.pem` and `ca.key` in its own folder.
pub struct TestCa {
    ca: Ca,
    dir: PathBuf,
    issued: AtomicUsize,
}

impl TestCa {
    /// Generates a CA named `name` and saves it into `dir` (created when missing).
    pub fn create(dir: &Path, name: &str) -> anyhow::Result<TestCa> {
        let ca = Ca::generate(name).context("generating a test CA")?;
        ca.save(dir).context("saving the test CA")?;
        Ok(TestCa {
            ca,
            dir: dir.to_path_buf(),
            issued: AtomicUsize::new(0),
        })
    }

    /// The CA certificate file nodes and clients trust.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.join(pki::CA_CERT_FILE)
    }

    /// The CA folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes an issued pair under a unique stem in the CA's folder.
    fn write(&self, label: &str, issued: &IssuedCert) -> anyhow::Result<CertPair> {
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        let stem: String = format!("{label}-{n}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        pki::write_issued(&self.dir, &stem, issued).context("writing an issued certificate")?;
        Ok(CertPair {
            cert: self.dir.join(format!("{stem}.pem")),
            key: self.dir.join(format!("{stem}.key")),
        })
    }

    /// A node certificate for `district`, valid for 127.0.0.1 and localhost.
    pub fn node(&self, district: &str) -> anyhow::Result<CertPair> {
        self.node_with(district, Validity::days(30))
    }

    /// A node certificate for `district` with the given validity (for expiry warnings).
    pub fn node_with(&self, district: &str, validity: Validity) -> anyhow::Result<CertPair> {
        let issued = self
            .ca
            .issue_node(district, &loopback_hosts(), validity)
            .context("issuing a node certificate")?;
        self.write(&format!("node-{district}"), &issued)
    }

    /// An officer certificate valid for 30 days.
    pub fn officer(&self, district: &str, badge: &str, role: Role) -> anyhow::Result<CertPair> {
        self.officer_with(district, badge, role, Validity::days(30))
    }

    /// An officer certificate that expired yesterday.
    pub fn expired_officer(
        &self,
        district: &str,
        badge: &str,
        role: Role,
    ) -> anyhow::Result<CertPair> {
        self.officer_with(district, badge, role, Validity::expired())
    }

    /// A successor of `old` (a node or officer certificate of this CA): same identity, new
    /// key pair, `days` of validity, written into `out` as `setu-node pki renew` does.
    pub fn renew(&self, old: &CertPair, out: &Path, days: u32) -> anyhow::Result<CertPair> {
        let renewed = pki::renew_to_dir(&self.dir, &old.cert, out, Some(days))
            .context("renewing a certificate")?;
        Ok(CertPair {
            cert: renewed.cert,
            key: renewed.key,
        })
    }

    /// An officer certificate with the given validity; the officer's name is fictional.
    pub fn officer_with(
        &self,
        district: &str,
        badge: &str,
        role: Role,
        validity: Validity,
    ) -> anyhow::Result<CertPair> {
        let name = format!("Test Officer {badge}");
        let issued = self
            .ca
            .issue_officer(district, badge, &name, role, validity)
            .context("issuing an officer certificate")?;
        self.write(&format!("officer-{district}-{badge}-{role}"), &issued)
    }
}
