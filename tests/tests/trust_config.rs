//! The trust configuration, checked before any port is bound: the real `setu-node`
//! binary stops with exit code 64 and names the key when a `[[trust]]` table would let a
//! peer's CA vouch for this district, when no CA vouches for the district's officers, when
//! the node's own certificate is not vouched for, and when an old config still lists
//! `trusted_cas` (the message shows the tables to write instead).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use setu_node::config::{NodeConfig, TrustConfig};
use setu_node::trust::anchors::CertKind;
use setu_tests::bins;
use setu_tests::mesh::peer_config;
use setu_tests::node::{state_trust, test_config};
use setu_tests::TestCa;

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";

/// Dhanbad's files: its state CA, the West Bengal CA, a node certificate and a config
/// that peers with Asansol (its `ca` the West Bengal CA).
struct Files {
    dir: tempfile::TempDir,
    jh: TestCa,
    wb: TestCa,
    config: NodeConfig,
}

fn files() -> anyhow::Result<Files> {
    setu_tests::init();
    let dir = tempfile::tempdir()?;
    let jh = TestCa::create(&dir.path().join("jh-ca"), "Test Jharkhand CA")?;
    let wb = TestCa::create(&dir.path().join("wb-ca"), "Test West Bengal CA")?;
    let node_cert = jh.node(DHANBAD)?;
    let mut config = test_config(
        DHANBAD,
        dir.path().join("data"),
        &node_cert,
        vec![state_trust(&jh.cert_path(), DHANBAD)],
    );
    config.peers = vec![peer_config(ASANSOL, "https://127.0.0.1:1", &wb.cert_path())];
    Ok(Files {
        dir,
        jh,
        wb,
        config,
    })
}

/// Writes `config` and runs `setu-node serve` on it; returns the finished process.
async fn serve(dir: &Path, config: &NodeConfig) -> anyhow::Result<bins::Finished> {
    let path: PathBuf = dir.join("node.toml");
    bins::write_node_config(&path, config)?;
    let arg = path.to_string_lossy().into_owned();
    bins::run(bins::NODE_BIN, &["serve", "--config", &arg]).await
}

#[tokio::test]
async fn a_peer_ca_bound_to_this_district_is_refused() -> anyhow::Result<()> {
    let f = files()?;
    let mut config = f.config.clone();
    config.trust.push(TrustConfig::new(
        f.wb.cert_path(),
        &["*"],
        &[CertKind::Officer],
    ));
    let finished = serve(f.dir.path(), &config).await?;
    assert_eq!(finished.status.code(), Some(64), "{finished}");
    assert!(finished.stderr.contains("`trust[1]`"), "{finished}");
    assert!(
        finished
            .stderr
            .contains("a peer's CA may vouch only for its own districts"),
        "{finished}"
    );
    assert!(
        !config.data_dir.exists(),
        "nothing is created before the config is valid"
    );

    // The same CA bound to its own state's officers is fine as far as the config goes.
    let mut config = f.config.clone();
    config.trust.push(TrustConfig::new(
        f.wb.cert_path(),
        &["wb-*"],
        &[CertKind::Officer],
    ));
    config.validate()?;
    Ok(())
}

#[tokio::test]
async fn a_district_without_an_officer_ca_is_refused() -> anyhow::Result<()> {
    let f = files()?;
    let mut config = f.config.clone();
    config.trust = vec![TrustConfig::new(
        f.jh.cert_path(),
        &["jh-*"],
        &[CertKind::Node],
    )];
    let finished = serve(f.dir.path(), &config).await?;
    assert_eq!(finished.status.code(), Some(64), "{finished}");
    assert!(finished.stderr.contains("`trust`"), "{finished}");
    assert!(
        finished.stderr.contains("vouch for officers of jh-dhanbad"),
        "{finished}"
    );

    // Bound to another state's districts only, the own node certificate is not vouched
    // for either.
    let mut config = f.config.clone();
    config.trust = vec![TrustConfig::new(
        f.jh.cert_path(),
        &["br-*"],
        &[CertKind::Officer, CertKind::Node],
    )];
    let finished = serve(f.dir.path(), &config).await?;
    assert_eq!(finished.status.code(), Some(64), "{finished}");
    assert!(finished.stderr.contains("`cert`"), "{finished}");
    assert!(finished.stderr.contains("not vouched for"), "{finished}");
    Ok(())
}

#[tokio::test]
async fn an_old_config_with_trusted_cas_is_refused_with_the_new_form() -> anyhow::Result<()> {
    let f = files()?;
    let path = f.dir.path().join("node.toml");
    bins::write_node_config(&path, &f.config)?;
    // An old file: `trusted_cas` instead of the [[trust]] tables.
    let text = std::fs::read_to_string(&path)?;
    let start = text
        .find("[[trust]]")
        .expect("the written config has a trust table");
    let end = text[start..]
        .find("[[peers]]")
        .map_or(text.len(), |i| start + i);
    let jh = f.jh.cert_path().display().to_string();
    let wb = f.wb.cert_path().display().to_string();
    let old = format!(
        "trusted_cas = [\"{jh}\", \"{wb}\"]\n{}{}",
        &text[..start],
        &text[end..]
    );
    std::fs::write(&path, old)?;
    let arg = path.to_string_lossy().into_owned();
    let finished = bins::run(bins::NODE_BIN, &["serve", "--config", &arg]).await?;
    assert_eq!(finished.status.code(), Some(64), "{finished}");
    assert!(finished.stderr.contains("`trusted_cas`"), "{finished}");
    assert!(finished.stderr.contains("[[trust]]"), "{finished}");
    assert!(
        finished.stderr.contains(&format!("ca = \"{jh}\"")),
        "the message shows the table for the state CA:\n{finished}"
    );
    assert!(
        finished.stderr.contains("districts = [\"jh-*\"]"),
        "{finished}"
    );
    assert!(
        !finished.stderr.contains(&format!("ca = \"{wb}\"")),
        "the peer's CA needs no table (it is the peer's `ca`):\n{finished}"
    );
    Ok(())
}
