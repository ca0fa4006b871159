//! Federations of in-process district nodes for the federation tests: state CAs, nodes on
//! ports bound before any of them starts (each node's config must name its peers'
//! addresses, so the plan binds port 0 for every node and hands the socket to the node),
//! peer links in one or both directions, and helpers that wait for a copy of a record to
//! arrive (or to go) on another node.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use setu_tests::mesh::Mesh;
//! let mut plan = Mesh::plan()?;
//! plan.ca("jh", "Test Jharkhand CA")?;
//! plan.ca("wb", "Test West Bengal CA")?;
//! plan.node("jh-dhanbad", "jh")?;
//! plan.node("wb-asansol-durgapur", "wb")?;
//! plan.peers("jh-dhanbad", "wb-asansol-durgapur");
//! let mesh = plan.start().await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use setu_node::config::{state_pattern, NodeConfig, PeerConfig, SendHandling, TrustConfig};
use setu_node::trust::anchors::CertKind;
use setu_node::trust::identity::Role;
use setu_proto::v1::peer_service_client::PeerServiceClient;
use setu_proto::v1::{GetRecordRequest, ListPeersRequest, ListPeersResponse, PersonRecord};
use tempfile::TempDir;
use tonic::{Code, Status};

use crate::client::{connect, Officer};
use crate::node::{test_config, TestNode};
use crate::pki::{CertPair, TestCa};
use crate::wait::wait_for;

/// How long a change may take to reach another node in these tests (generous: the live
/// tail delivers in milliseconds, but a debug build on a loaded 2-core machine is slow and a
/// link may be in its reconnect backoff).
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(20);

/// A free TCP port on 127.0.0.1 (bound, read and released), for a node in another process
/// whose peers must know its address before it starts. Another process may take the port
/// in between; in-process nodes get a socket bound by the plan instead.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// A peer entry for `district` at `address` whose node certificate chains to `ca`, sending
/// every handling code and relaying every origin (the defaults of `node.toml`).
pub fn peer_config(district: &str, address: &str, ca: &Path) -> PeerConfig {
    PeerConfig {
        district: district.to_string(),
        address: address.to_string(),
        ca: ca.to_path_buf(),
        send: vec![SendHandling::Peers, SendHandling::Federation],
        relay_origins: vec!["*".to_string()],
    }
}

type Tune = Box<dyn FnOnce(&mut NodeConfig) + Send>;

/// One planned node.
struct NodePlan {
    district: String,
    ca: String,
    /// The node's socket, bound to port 0 when planned and handed to the node at start.
    listener: std::net::TcpListener,
    port: u16,
    cert: CertPair,
    /// Further CAs (by name) the node trusts, e.g. a non-adjacent origin's.
    trust: Vec<String>,
    /// Peers this node lists: district and, when not its own port, the address to dial.
    peers: Vec<(String, Option<String>)>,
    tune: Vec<Tune>,
    /// A stand-in the test serves itself (no node is started).
    external: bool,
}

/// A federation being planned: CAs, nodes and links; [`MeshPlan::start`] starts it.
pub struct MeshPlan {
    dir: TempDir,
    cas: BTreeMap<String, TestCa>,
    plans: Vec<NodePlan>,
}

impl MeshPlan {
    /// Creates a state CA called `name` (used as a key by the other calls).
    pub fn ca(&mut self, name: &str, display_name: &str) -> anyhow::Result<()> {
        let ca = TestCa::create(&self.dir.path().join(format!("ca-{name}")), display_name)?;
        self.cas.insert(name.to_string(), ca);
        Ok(())
    }

    fn add(&mut self, district: &str, ca: &str, external: bool) -> anyhow::Result<()> {
        let cert = self
            .cas
            .get(ca)
            .with_context(|| format!("no CA {ca} in the plan"))?
            .node(district)?;
        self.add_with(district, ca, cert, external)
    }

    fn add_with(
        &mut self,
        district: &str,
        ca: &str,
        cert: CertPair,
        external: bool,
    ) -> anyhow::Result<()> {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").context("binding a node's port")?;
        let port = listener.local_addr()?.port();
        self.plans.push(NodePlan {
            district: district.to_string(),
            ca: ca.to_string(),
            listener,
            port,
            cert,
            trust: Vec::new(),
            peers: Vec::new(),
            tune: Vec::new(),
            external,
        });
        Ok(())
    }

    /// Plans the node of `district`, with a node certificate issued by `ca`.
    pub fn node(&mut self, district: &str, ca: &str) -> anyhow::Result<()> {
        self.add(district, ca, false)
    }

    /// Plans the node of `district` with a node certificate from `ca` valid for `days`
    /// (the other plans get 30 days).
    pub fn node_valid_for(&mut self, district: &str, ca: &str, days: u32) -> anyhow::Result<()> {
        let cert = self
            .cas
            .get(ca)
            .with_context(|| format!("no CA {ca} in the plan"))?
            .node_with(district, setu_node::trust::pki::Validity::days(days))?;
        self.add_with(district, ca, cert, false)
    }

    /// Plans a stand-in for `district` that the test serves itself (a fake peer): it gets a
    /// port and a node certificate issued by `ca`, but no node is started.
    pub fn external(&mut self, district: &str, ca: &str) -> anyhow::Result<()> {
        self.add(district, ca, true)
    }

    fn plan_mut(&mut self, district: &str) -> &mut NodePlan {
        self.plans
            .iter_mut()
            .find(|p| p.district == district)
            .unwrap_or_else(|| panic!("no node {district} in the plan"))
    }

    fn plan(&self, district: &str) -> &NodePlan {
        self.plans
            .iter()
            .find(|p| p.district == district)
            .unwrap_or_else(|| panic!("no node {district} in the plan"))
    }

    /// `a` and `b` peer with each other (each lists the other).
    pub fn peers(&mut self, a: &str, b: &str) {
        self.dials(a, b);
        self.dials(b, a);
    }

    /// `from` lists `to` as a peer: it pulls from `to` and accepts `to`'s sync calls.
    pub fn dials(&mut self, from: &str, to: &str) {
        self.plan_mut(from).peers.push((to.to_string(), None));
    }

    /// Like [`MeshPlan::dials`], but `from` reaches `to` at `address` (a proxy).
    pub fn dials_via(&mut self, from: &str, to: &str, address: &str) {
        self.plan_mut(from)
            .peers
            .push((to.to_string(), Some(address.to_string())));
    }

    /// `district` also trusts the CA `ca` (to verify a non-adjacent origin's keys).
    pub fn trust(&mut self, district: &str, ca: &str) {
        self.plan_mut(district).trust.push(ca.to_string());
    }

    /// Changes `district`'s config before it starts (e.g. `anti_entropy_secs`).
    pub fn tune(&mut self, district: &str, change: impl FnOnce(&mut NodeConfig) + Send + 'static) {
        self.plan_mut(district).tune.push(Box::new(change));
    }

    /// The port `district` will listen on.
    pub fn port(&self, district: &str) -> u16 {
        self.plan(district).port
    }

    /// The config `district` would start with.
    pub fn config(&self, district: &str) -> NodeConfig {
        self.config_of(self.plan(district))
    }

    /// The certificate file of the CA called `name`.
    pub fn ca_cert(&self, name: &str) -> PathBuf {
        self.cas[name].cert_path()
    }

    fn ca_path(&self, ca: &str) -> PathBuf {
        self.ca_cert(ca)
    }

    fn config_of(&self, plan: &NodePlan) -> NodeConfig {
        // Each CA vouches for the states of the districts it issued node certificates to
        // in this plan (`jh-*` for a CA that issued jh-dhanbad's):
        // the node's own CA for officers and nodes, the further ones for nodes only.
        let issued_by = |ca: &str| -> Vec<String> {
            let mut states: Vec<String> = self
                .plans
                .iter()
                .filter(|p| p.ca == ca)
                .map(|p| state_pattern(&p.district))
                .collect();
            states.dedup();
            states
        };
        let binding = |ca: &str, kinds: &[CertKind]| {
            let districts = issued_by(ca);
            let districts: Vec<&str> = districts.iter().map(String::as_str).collect();
            TrustConfig::new(self.ca_path(ca), &districts, kinds)
        };
        let mut trusted = vec![binding(&plan.ca, &[CertKind::Officer, CertKind::Node])];
        trusted.extend(plan.trust.iter().map(|ca| binding(ca, &[CertKind::Node])));
        let mut config = test_config(
            &plan.district,
            self.dir.path().join(&plan.district).join("data"),
            &plan.cert,
            trusted,
        );
        config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], plan.port));
        config.peers = plan
            .peers
            .iter()
            .map(|(district, address)| {
                let peer = self.plan(district);
                let address = address
                    .clone()
                    .unwrap_or_else(|| format!("https://127.0.0.1:{}", peer.port));
                peer_config(district, &address, &self.ca_path(&peer.ca))
            })
            .collect();
        config
    }

    /// Starts every planned node (not the external stand-ins), in the order planned.
    pub async fn start(mut self) -> anyhow::Result<Mesh> {
        let mut nodes = Vec::new();
        let mut externals = Vec::new();
        // Configs need every plan (peer ports and CAs), so build them all first.
        let configs: Vec<NodeConfig> = self.plans.iter().map(|p| self.config_of(p)).collect();
        let plans = std::mem::take(&mut self.plans);
        for (plan, mut config) in plans.into_iter().zip(configs) {
            for change in plan.tune {
                change(&mut config);
            }
            if plan.external {
                externals.push(External {
                    district: plan.district,
                    ca: plan.ca,
                    port: plan.port,
                    listener: std::sync::Mutex::new(Some(plan.listener)),
                    cert: plan.cert,
                });
                continue;
            }
            let node = TestNode::start_on(config, plan.listener)
                .await
                .with_context(|| format!("starting {}", plan.district))?;
            nodes.push(MeshNode {
                district: plan.district,
                ca: plan.ca,
                node,
            });
        }
        Ok(Mesh {
            nodes,
            externals,
            cas: self.cas,
            dir: self.dir,
        })
    }
}

/// A running node of a mesh.
pub struct MeshNode {
    /// Its district id.
    pub district: String,
    /// The name of the CA that issued its certificates.
    pub ca: String,
    /// The node itself.
    pub node: TestNode,
}

/// A planned stand-in for a district that the test serves itself.
pub struct External {
    /// Its district id.
    pub district: String,
    /// The name of the CA that issued its node certificate.
    pub ca: String,
    /// The port its peers dial.
    pub port: u16,
    /// The socket bound to `port`, until [`External::listener`] takes it.
    listener: std::sync::Mutex<Option<std::net::TcpListener>>,
    /// Its node certificate (issued by `ca`, naming `district`).
    pub cert: CertPair,
}

impl External {
    /// The stand-in's socket (bound to [`External::port`] when planned), for the node or
    /// server the test starts in its place; it can be taken once.
    pub fn socket(&self) -> anyhow::Result<std::net::TcpListener> {
        self.listener
            .lock()
            .map_err(|_| anyhow::anyhow!("the stand-in's socket lock is poisoned"))?
            .take()
            .context("the stand-in's socket was taken already")
    }

    /// [`External::socket`] for a tokio server.
    pub fn listener(&self) -> anyhow::Result<tokio::net::TcpListener> {
        let bound = self.socket()?;
        bound.set_nonblocking(true)?;
        Ok(tokio::net::TcpListener::from_std(bound)?)
    }

    /// Lets go of the stand-in's socket, for a `setu-node` process that binds
    /// [`External::port`] itself (another process could take the port in between; the
    /// caller starts its node straight after).
    pub fn release_port(&self) -> anyhow::Result<()> {
        drop(self.socket()?);
        Ok(())
    }
}

/// A running federation of in-process nodes.
pub struct Mesh {
    // Declared before `dir`, so the nodes let go of their databases first.
    nodes: Vec<MeshNode>,
    externals: Vec<External>,
    cas: BTreeMap<String, TestCa>,
    dir: TempDir,
}

impl Mesh {
    /// An empty plan in a new temporary folder.
    pub fn plan() -> anyhow::Result<MeshPlan> {
        crate::init();
        Ok(MeshPlan {
            dir: tempfile::tempdir().context("creating the mesh's folder")?,
            cas: BTreeMap::new(),
            plans: Vec::new(),
        })
    }

    /// The usual cross-border pair: `a` under a test Jharkhand CA (`jh`) and `b` under a
    /// test West Bengal CA (`wb`), peering both ways. Add nodes or change it before
    /// [`MeshPlan::start`].
    pub fn two_states(a: &str, b: &str) -> anyhow::Result<MeshPlan> {
        let mut plan = Mesh::plan()?;
        plan.ca("jh", "Test Jharkhand CA")?;
        plan.ca("wb", "Test West Bengal CA")?;
        plan.node(a, "jh")?;
        plan.node(b, "wb")?;
        plan.peers(a, b);
        Ok(plan)
    }

    /// The node of `district`.
    pub fn node(&self, district: &str) -> &TestNode {
        &self.entry(district).node
    }

    /// The node of `district`, to stop or restart it.
    pub fn node_mut(&mut self, district: &str) -> &mut TestNode {
        &mut self
            .nodes
            .iter_mut()
            .find(|n| n.district == district)
            .unwrap_or_else(|| panic!("no node {district} in the mesh"))
            .node
    }

    fn entry(&self, district: &str) -> &MeshNode {
        self.nodes
            .iter()
            .find(|n| n.district == district)
            .unwrap_or_else(|| panic!("no node {district} in the mesh"))
    }

    /// The stand-in planned for `district`.
    pub fn external(&self, district: &str) -> &External {
        self.externals
            .iter()
            .find(|n| n.district == district)
            .unwrap_or_else(|| panic!("no stand-in {district} in the mesh"))
    }

    /// The CA called `name`.
    pub fn ca(&self, name: &str) -> &TestCa {
        &self.cas[name]
    }

    /// The CA that issued `district`'s certificates.
    pub fn ca_of(&self, district: &str) -> &TestCa {
        let name = match self.nodes.iter().find(|n| n.district == district) {
            Some(n) => &n.ca,
            None => &self.external(district).ca,
        };
        &self.cas[name]
    }

    /// The mesh's temporary folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// An officer of `district` (certificate from its CA) connected to its node.
    pub async fn officer(
        &self,
        district: &str,
        badge: &str,
        role: Role,
    ) -> anyhow::Result<Officer> {
        let ca = self.ca_of(district);
        let cert = ca.officer(district, badge, role)?;
        let channel = connect(self.node(district).addr(), &ca.cert_path(), Some(&cert)).await?;
        Ok(Officer {
            channel,
            cert,
            label: format!("{badge} ({district})"),
        })
    }
}

/// Reads a record through `officer`.
pub async fn get_record(officer: &Officer, id: &str) -> Result<PersonRecord, Status> {
    officer
        .records()
        .get(GetRecordRequest { id: id.to_string() })
        .await
        .map(tonic::Response::into_inner)
}

/// Waits until `officer`'s node holds record `id` in a state `accept` likes, and returns it.
pub async fn wait_for_record(
    officer: &Officer,
    id: &str,
    what: &str,
    accept: impl Fn(&PersonRecord) -> bool,
) -> anyhow::Result<PersonRecord> {
    let accept = &accept;
    wait_for(SYNC_TIMEOUT, what, || async move {
        match get_record(officer, id).await {
            Ok(record) if accept(&record) => Ok(record),
            Ok(record) => Err(format!(
                "version {} is there, not yet the one awaited",
                record.version
            )),
            Err(status) => Err(format!("{:?}: {}", status.code(), status.message())),
        }
    })
    .await
}

/// Waits until `officer`'s node no longer holds record `id` (Get says NOT_FOUND), and
/// returns the NOT_FOUND status.
pub async fn wait_until_gone(officer: &Officer, id: &str, what: &str) -> anyhow::Result<Status> {
    wait_for(SYNC_TIMEOUT, what, || async move {
        match get_record(officer, id).await {
            Err(status) if status.code() == Code::NotFound => Ok(status),
            Err(status) => Err(format!("{:?}: {}", status.code(), status.message())),
            Ok(record) => Err(format!("still held at version {}", record.version)),
        }
    })
    .await
}

/// `PeerService/List` of the node `officer` is connected to.
pub async fn list_peers(officer: &Officer) -> Result<ListPeersResponse, Status> {
    PeerServiceClient::new(officer.channel.clone())
        .list(ListPeersRequest {})
        .await
        .map(tonic::Response::into_inner)
}
