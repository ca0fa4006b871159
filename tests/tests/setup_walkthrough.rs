//! README's "Setting up a real district", step by step, for two districts of two states
//! through the real binaries: a CA per state, `pki node` (which writes the starting
//! `node.toml` with the state CA bound to the state's officers and nodes), the exchange of
//! CA certificates (each state's `ca.pem` becomes the neighbour's peer `ca`), `pki
//! officer --days --node` (which writes the officer's client config), the `[[peers]]`
//! table, `serve`, `setu whoami` with the written config, and an officer on each side: a
//! record made in Dhanbad is readable in Asansol on Asansol's node, and Asansol's officer
//! pointed at Dhanbad's node is sent home, `whoami` included.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use setu_tests::bins::{self, setu, setu_json, text, write_client_config, NodeProcess};
use setu_tests::mesh::free_port;
use setu_tests::wait_until;

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";

/// Runs `setu-node ARGS` and insists on success.
async fn setu_node(args: &[&str]) -> anyhow::Result<bins::Finished> {
    bins::run(bins::NODE_BIN, args).await?.success()
}

fn arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// One district's host, as the README lays it out: `/secure/<state>-ca`, `/etc/setu`,
/// `/var/lib/setu`, an officer folder.
struct Host {
    root: PathBuf,
    district: &'static str,
    port: u16,
}

impl Host {
    fn ca(&self) -> PathBuf {
        self.root.join("secure").join("ca")
    }
    fn etc(&self) -> PathBuf {
        self.root.join("etc-setu")
    }
}

#[tokio::test]
async fn the_readme_setup_works_step_by_step() -> anyhow::Result<()> {
    setu_tests::init();
    let dir = tempfile::tempdir()?;
    let hosts = [
        Host {
            root: dir.path().join("dhanbad"),
            district: DHANBAD,
            port: free_port()?,
        },
        Host {
            root: dir.path().join("asansol"),
            district: ASANSOL,
            port: free_port()?,
        },
    ];
    let state_names = ["Test Jharkhand Police", "Test West Bengal Police"];
    // Steps 1 and 2: a CA per state; a node certificate and a starting node.toml.
    for (host, name) in hosts.iter().zip(state_names) {
        setu_node(&["pki", "init-ca", "--out", &arg(&host.ca()), "--name", name]).await?;
        let made = setu_node(&[
            "pki",
            "node",
            "--ca",
            &arg(&host.ca()),
            "--district",
            host.district,
            "--host",
            "127.0.0.1",
            "--out",
            &arg(&host.etc()),
        ])
        .await?;
        assert!(made.stdout.contains("node.toml"), "{made}");
    }
    // The exchange: each state's CA certificate, never its key, goes to the other.
    for (i, host) in hosts.iter().enumerate() {
        let other = &hosts[1 - i];
        std::fs::copy(
            other.ca().join("ca.pem"),
            host.etc().join("neighbour-ca.pem"),
        )?;
    }
    // Step 3: an officer per district, with a client config naming the district's node.
    let mut officers = Vec::new();
    for (host, badge) in hosts.iter().zip(["JH-1234", "WB-1234"]) {
        let node = format!("https://127.0.0.1:{}", host.port);
        let issued = setu_node(&[
            "pki",
            "officer",
            "--ca",
            &arg(&host.ca()),
            "--district",
            host.district,
            "--badge",
            badge,
            "--name",
            "Test Officer Name",
            "--role",
            "officer",
            "--days",
            "30",
            "--node",
            &node,
            "--out",
            &arg(&host.root.join("officer")),
        ])
        .await?;
        let config = host.root.join("officer").join("setu.toml");
        for needle in [
            "serial ".to_string(),
            "(30 days)".to_string(),
            format!("wrote the client config {}", config.display()),
            format!("setu --config {} whoami", config.display()),
        ] {
            assert!(issued.stdout.contains(&needle), "{needle:?} in\n{issued}");
        }
        let written = std::fs::read_to_string(&config)?;
        assert!(
            written.contains(&format!("address = \"{node}\"")),
            "{written}"
        );
        officers.push(config);
    }
    // Step 4: node.toml as `pki node` wrote it, with this host's addresses and folder and
    // a [[peers]] table for the neighbour.
    let mut nodes = Vec::new();
    for (i, host) in hosts.iter().enumerate() {
        let other = &hosts[1 - i];
        let path = host.etc().join("node.toml");
        let written = std::fs::read_to_string(&path)?;
        assert!(written.contains("[[trust]]"), "{written}");
        let mut text = String::new();
        for line in written.lines() {
            let line = if line.starts_with("listen = ") {
                format!("listen = \"127.0.0.1:{}\"", host.port)
            } else if line.starts_with("admin_listen = ") {
                "admin_listen = \"127.0.0.1:0\"".to_string()
            } else if line.starts_with("data_dir = ") {
                format!("data_dir = {:?}", arg(&host.root.join("var-lib-setu")))
            } else {
                line.to_string()
            };
            text.push_str(&line);
            text.push('\n');
        }
        text.push_str(&format!(
            "\n[[peers]]\ndistrict = \"{}\"\naddress = \"https://127.0.0.1:{}\"\nca = \"neighbour-ca.pem\"\n",
            other.district, other.port
        ));
        std::fs::write(&path, text)?;
        // Step 5: serve.
        nodes.push(NodeProcess::start(&path, &host.root.join("node.log")).await?);
    }
    // Each officer checks the config `pki officer` wrote, as it says to.
    for (config, host) in officers.iter().zip(&hosts) {
        let who = setu(config, &["whoami"]).await?.success()?;
        for needle in [
            "Name      Test Officer Name".to_string(),
            format!("District  {}", host.district),
            "(30 days left)".to_string(),
            "accepts this certificate".to_string(),
        ] {
            assert!(who.stdout.contains(&needle), "{needle:?} in\n{who}");
        }
    }

    let created = setu_json(
        &officers[0],
        &[
            "record",
            "add",
            "--name",
            "Test Walkthrough Example",
            "--status",
            "wanted",
        ],
    )
    .await?;
    let id = text(&created, "id").to_string();
    assert!(!id.is_empty(), "{created}");
    wait_until(
        Duration::from_secs(30),
        "the record reaches Asansol's node",
        || {
            let config = officers[1].clone();
            let id = id.clone();
            async move {
                setu(&config, &["record", "show", &id])
                    .await
                    .map(|f| f.status.success())
                    .unwrap_or(false)
            }
        },
    )
    .await?;

    // Asansol's officer, pointed at Dhanbad's node, is sent to its own.
    let astray = hosts[1].root.join("astray.toml");
    write_client_config(
        &astray,
        &format!("https://127.0.0.1:{}", hosts[0].port),
        &hosts[0].etc().join("ca.pem"),
        &setu_tests::CertPair {
            cert: hosts[1].root.join("officer").join("officer.pem"),
            key: hosts[1].root.join("officer").join("officer.key"),
        },
    )?;
    let refused = setu(&astray, &["record", "show", &id]).await?;
    assert!(!refused.status.success(), "{refused}");
    assert!(
        refused.stderr.contains("use their own district's node"),
        "{refused}"
    );
    let refused = setu(&astray, &["whoami"]).await?;
    assert!(!refused.status.success(), "{refused}");
    assert!(
        refused.stdout.contains("does not accept it")
            && refused.stderr.contains("use their own district's node"),
        "{refused}"
    );
    for node in nodes {
        node.kill9().await?;
    }
    Ok(())
}
