//! In-process district nodes on `127.0.0.1:0`, over a real sled database in a temporary
//! folder, and the [`District`] fixture that bundles a node with its state's CA.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use setu_node::config::{state_pattern, NodeConfig, TrustConfig};
use setu_node::federation::Federation;
use setu_node::server::{self, RunningNode};
use setu_node::storage::Storage;
use setu_node::trust::anchors::CertKind;
use setu_node::trust::identity::Role;
use tempfile::TempDir;

use crate::client::{connect, Officer};
use crate::pki::{CertPair, TestCa};
use crate::wait::wait_for;

/// How long a restarting node may take to get its database back.
const RESTART_TIMEOUT: Duration = Duration::from_secs(15);

/// A node config for `district` with the test defaults: loopback port 0 and a small cache.
pub fn test_config(
    district: &str,
    data_dir: PathBuf,
    node_cert: &CertPair,
    trust: Vec<TrustConfig>,
) -> NodeConfig {
    let mut config = NodeConfig::new(
        district,
        data_dir,
        node_cert.cert.clone(),
        node_cert.key.clone(),
        trust,
    );
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.cache_mib = 16;
    config
}

/// The usual binding of a state CA: it vouches for officers and nodes of the state that
/// `district` belongs to (`jh-*` for `jh-dhanbad`).
pub fn state_trust(ca: &Path, district: &str) -> TrustConfig {
    TrustConfig::new(
        ca.to_path_buf(),
        &[&state_pattern(district)],
        &[CertKind::Officer, CertKind::Node],
    )
}

/// A node running inside the test process.
pub struct TestNode {
    config: NodeConfig,
    running: Option<RunningNode>,
}

impl TestNode {
    /// Starts a node; `config.listen` should be `127.0.0.1:0`.
    pub async fn start(config: NodeConfig) -> anyhow::Result<TestNode> {
        let running = server::start(config.clone())
            .await
            .context("starting an in-process node")?;
        Ok(TestNode {
            config,
            running: Some(running),
        })
    }

    /// Starts a node serving on `listener`, a socket bound already (its port is kept for
    /// [`TestNode::start_again`]).
    pub async fn start_on(
        mut config: NodeConfig,
        listener: std::net::TcpListener,
    ) -> anyhow::Result<TestNode> {
        config.listen = listener.local_addr()?;
        let running = server::start_on(config.clone(), Some(listener))
            .await
            .context("starting an in-process node")?;
        Ok(TestNode {
            config,
            running: Some(running),
        })
    }

    fn running(&self) -> &RunningNode {
        self.running
            .as_ref()
            .expect("a TestNode is running between its methods")
    }

    /// The address the node listens on.
    pub fn addr(&self) -> SocketAddr {
        self.running().addr()
    }

    /// The address of the node's admin listener (`/metrics`, `/health`; plain HTTP).
    pub fn admin_addr(&self) -> SocketAddr {
        self.running().admin_addr()
    }

    /// `https://127.0.0.1:PORT`, as a client config writes it.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr())
    }

    /// The node's config.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The config the node starts with next time (e.g. another `data_dir` after a restore).
    pub fn config_mut(&mut self) -> &mut NodeConfig {
        &mut self.config
    }

    /// Reloads the node's certificate, key, CA bundles and deny-list from its config (as
    /// changed through [`TestNode::config_mut`]), as SIGHUP does for `setu-node serve`.
    pub fn reload(&self) -> anyhow::Result<setu_node::net::reload::ReloadReport> {
        Ok(self.running().reload(&self.config)?)
    }

    /// The node's storage, to look behind the API.
    pub fn storage(&self) -> &Storage {
        self.running().storage()
    }

    /// The node's federation state (peer links, their status), to look behind the API.
    pub fn federation(&self) -> &Arc<Federation> {
        self.running().federation()
    }

    /// Whether the node is serving (false between [`TestNode::stop`] and
    /// [`TestNode::start_again`]).
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Stops the node gracefully (calls in flight finish, sled is flushed) and keeps its
    /// config, so that [`TestNode::start_again`] can bring it back on the same data folder
    /// (and, when `config.listen` names a fixed port, on the same port).
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(running) = self.running.take() {
            running.shutdown().await.context("stopping the node")?;
        }
        Ok(())
    }

    /// Starts a node stopped with [`TestNode::stop`] again from its config, waiting out a
    /// database or port that is still being let go of.
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.running.is_none(), "the node is still running");
        let config = self.config.clone();
        let running = wait_for(
            RESTART_TIMEOUT,
            "the node starts again on its data dir",
            || server::start(config.clone()),
        )
        .await?;
        self.running = Some(running);
        Ok(())
    }

    /// Stops the node gracefully (calls in flight finish, sled is flushed) and starts it
    /// again on the same data folder; it listens on a new port afterwards (unless
    /// `config.listen` names a fixed port).
    ///
    /// Drop the channels to the old node first: a connection still closing can keep the
    /// database locked, which the restart waits out.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        if let Some(running) = self.running.take() {
            running.shutdown().await.context("stopping the node")?;
        }
        let config = self.config.clone();
        let running = wait_for(
            RESTART_TIMEOUT,
            "the node starts again on its data dir",
            || server::start(config.clone()),
        )
        .await?;
        self.running = Some(running);
        Ok(())
    }

    /// Stops the node gracefully.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(running) = self.running.take() {
            running.shutdown().await.context("stopping the node")?;
        }
        Ok(())
    }
}

/// A district: a temporary folder holding its state CA, node certificate and database,
/// and its node running in-process.
pub struct District {
    /// The district id, e.g. `jh-dhanbad`.
    pub id: String,
    /// The state CA that issued the node's and officers' certificates.
    pub ca: TestCa,
    /// The running node.
    pub node: TestNode,
    /// Dropped last, after the node has let go of the database.
    dir: TempDir,
}

impl District {
    /// Starts the node of `id`, trusting only its own state CA.
    pub async fn start(id: &str) -> anyhow::Result<District> {
        Self::start_trusting(id, &[]).await
    }

    /// Starts the node of `id`, trusting its own state CA and the `extra` bindings.
    pub async fn start_trusting(id: &str, extra: &[TrustConfig]) -> anyhow::Result<District> {
        crate::init();
        let dir = tempfile::tempdir().context("creating the district's folder")?;
        let ca = TestCa::create(&dir.path().join("ca"), &format!("Test State CA of {id}"))?;
        let node_cert = ca.node(id)?;
        let mut trusted = vec![state_trust(&ca.cert_path(), id)];
        trusted.extend_from_slice(extra);
        let config = test_config(id, dir.path().join("data"), &node_cert, trusted);
        let node = TestNode::start(config).await?;
        Ok(District {
            id: id.to_string(),
            ca,
            node,
            dir,
        })
    }

    /// The district's temporary folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Issues a certificate for an officer of this district and connects with it.
    pub async fn officer(&self, badge: &str, role: Role) -> anyhow::Result<Officer> {
        let cert = self.ca.officer(&self.id, badge, role)?;
        self.connect_as(cert, &format!("{badge} ({})", self.id))
            .await
    }

    /// Connects to this district's node with any certificate pair.
    pub async fn connect_as(&self, cert: CertPair, label: &str) -> anyhow::Result<Officer> {
        let channel = connect(self.node.addr(), &self.ca.cert_path(), Some(&cert)).await?;
        Ok(Officer {
            channel,
            cert,
            label: label.to_string(),
        })
    }
}
