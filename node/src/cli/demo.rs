//! `setu-node demo` and the dev node of a bare `setu-node serve`: throwaway PKIs, configs
//! and fictional sample data, so that Setu can be tried with one command. Nothing here is
//! a production setup, and the output says so.

use crate::cli::{shutdown_signal, CliError};
use crate::config::{state_pattern, NodeConfig, PeerConfig, TrustConfig};
use crate::server::{self, RunningNode};
use crate::trust::anchors::CertKind;
use crate::trust::identity::Role;
use crate::trust::pki::{self, Ca, Validity};
use setu_proto::v1::mo_service_client::MoServiceClient;
use setu_proto::v1::record_service_client::RecordServiceClient;
use setu_proto::v1::{CreateMoNoteRequest, CreateRecordRequest, ListRecordsRequest, PersonRecord};
use std::path::{Path, PathBuf};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// One district of the demo.
struct DemoDistrict {
    /// District id.
    id: &'static str,
    /// Short name used in file names.
    short: &'static str,
    /// The state CA's folder name and display name.
    ca_dir: &'static str,
    ca_name: &'static str,
    /// Badge prefix.
    badge: &'static str,
    /// Seed for its sample data.
    seed: u64,
}

const DISTRICTS: [DemoDistrict; 2] = [
    DemoDistrict {
        id: "jh-dhanbad",
        short: "dhanbad",
        ca_dir: "jharkhand-ca",
        ca_name: "Jharkhand Police (demo CA)",
        badge: "JH",
        seed: 7401,
    },
    DemoDistrict {
        id: "wb-asansol-durgapur",
        short: "asansol",
        ca_dir: "west-bengal-ca",
        ca_name: "West Bengal Police (demo CA)",
        badge: "WB",
        seed: 7402,
    },
];

/// Fictional officers of each demo district: (file role, badge number, name, role).
const OFFICERS: [(&str, &str, &str, Role); 3] = [
    ("officer", "1101", "Demo Officer", Role::Officer),
    ("liaison", "2202", "Demo Liaison", Role::Liaison),
    ("admin", "3303", "Demo Admin", Role::Admin),
];

const SAMPLE_RECORDS: usize = 30;
const SAMPLE_NOTES: usize = 8;

fn demo_err(context: &str, e: impl std::fmt::Display) -> CliError {
    CliError::Demo(format!("{context}: {e}"))
}

/// Loads the CA in `dir`, or creates it when it does not exist yet.
fn ensure_ca(dir: &Path, name: &str) -> Result<Ca, CliError> {
    if dir.join(pki::CA_KEY_FILE).exists() {
        Ok(Ca::load(dir)?)
    } else {
        let ca = Ca::generate(name)?;
        ca.save(dir)?;
        Ok(ca)
    }
}

/// Issues `dir/<stem>.pem` and `.key` unless they exist.
fn ensure_issued(
    dir: &Path,
    stem: &str,
    issue: impl FnOnce() -> Result<pki::IssuedCert, pki::PkiError>,
) -> Result<(), CliError> {
    if dir.join(format!("{stem}.pem")).exists() && dir.join(format!("{stem}.key")).exists() {
        return Ok(());
    }
    let issued = issue()?;
    pki::write_issued(dir, stem, &issued)?;
    Ok(())
}

fn loopback_hosts() -> Vec<String> {
    vec!["127.0.0.1".to_string(), "localhost".to_string()]
}

/// Writes a client config file for one officer.
fn write_client_config(
    path: &Path,
    address: &str,
    ca: &Path,
    cert: &Path,
    key: &Path,
) -> Result<(), CliError> {
    let text = format!(
        "# Setu client config written by `setu-node demo`.\n\
         # Address of the district node.\naddress = \"{address}\"\n\
         # CA that vouches for the node.\nca = \"{}\"\n\
         # This officer's certificate and private key.\ncert = \"{}\"\nkey = \"{}\"\n",
        ca.display(),
        cert.display(),
        key.display()
    );
    std::fs::write(path, text).map_err(|e| demo_err(&format!("writing {}", path.display()), e))
}

/// Writes a node config file and returns it loaded (so the demo goes through the same
/// loading and validation as a real district).
fn write_node_config(
    dir: &Path,
    district: &str,
    port: u16,
    trust: Vec<TrustConfig>,
    peers: Vec<PeerConfig>,
) -> Result<NodeConfig, CliError> {
    let mut config = NodeConfig::new(
        district,
        PathBuf::from("data"),
        PathBuf::from("node.pem"),
        PathBuf::from("node.key"),
        trust,
    );
    config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    config.peers = peers;
    // A short anti-entropy period, so that the demo shows its result soon.
    config.anti_entropy_secs = 30;
    let path = dir.join("node.toml");
    let text = format!(
        "# Node config written by `setu-node demo`; see README.md for every key.\n{}",
        config.to_toml()?
    );
    std::fs::write(&path, text).map_err(|e| demo_err(&format!("writing {}", path.display()), e))?;
    Ok(NodeConfig::load(&path)?)
}

/// A gRPC channel to `node` authenticated as the officer in `cert`/`key`.
async fn channel(
    node: &RunningNode,
    ca: &Path,
    cert: &Path,
    key: &Path,
) -> Result<Channel, CliError> {
    let read =
        |p: &Path| std::fs::read(p).map_err(|e| demo_err(&format!("reading {}", p.display()), e));
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read(ca)?))
        .identity(Identity::from_pem(read(cert)?, read(key)?))
        .domain_name("127.0.0.1");
    Endpoint::from_shared(format!("https://{}", node.addr()))
        .map_err(|e| demo_err("endpoint", e))?
        .tls_config(tls)
        .map_err(|e| demo_err("client TLS", e))?
        .connect()
        .await
        .map_err(|e| demo_err("connecting to the demo node", e))
}

/// Loads fictional records and MO notes through the node's own API, once.
async fn load_sample_data(
    channel: Channel,
    district: &DemoDistrict,
) -> Result<Option<PersonRecord>, CliError> {
    let mut records = RecordServiceClient::new(channel.clone());
    let existing = records
        .list(ListRecordsRequest {
            origins: vec![district.id.to_string()],
            page_size: 1,
            ..Default::default()
        })
        .await
        .map_err(|e| demo_err("listing records", e.message()))?
        .into_inner();
    if let Some(first) = existing.records.first() {
        return Ok(Some(first.clone()));
    }
    let mut ids = Vec::new();
    let mut first = None;
    for record in crate::sample::demo_records(district.id, SAMPLE_RECORDS, district.seed) {
        let created = records
            .create(CreateRecordRequest {
                record: Some(record),
            })
            .await
            .map_err(|e| demo_err("loading a sample record", e.message()))?
            .into_inner();
        ids.push(created.id.clone());
        first.get_or_insert(created);
    }
    let mut notes = MoServiceClient::new(channel);
    for note in crate::sample::demo_mo_notes(district.id, &ids, SAMPLE_NOTES, district.seed) {
        notes
            .create(CreateMoNoteRequest { note: Some(note) })
            .await
            .map_err(|e| demo_err("loading a sample MO note", e.message()))?;
    }
    Ok(first)
}

/// Posts a fictional open alert from the first demo district to its peer, unless an open
/// one is already there, so that `alert list` and `alert watch` have something to show.
async fn post_sample_alert(channel: Channel, record_id: &str) -> Result<(), CliError> {
    use setu_proto::v1::alert_service_client::AlertServiceClient;
    use setu_proto::v1::{AlertCategory, AlertPriority, ListAlertsRequest, PostAlertRequest};
    let mut alerts = AlertServiceClient::new(channel);
    let open = alerts
        .list(ListAlertsRequest {
            open_only: true,
            page_size: 1,
            ..Default::default()
        })
        .await
        .map_err(|e| demo_err("listing alerts", e.message()))?
        .into_inner();
    if !open.alerts.is_empty() {
        return Ok(());
    }
    let now = crate::clock::now_ms();
    alerts
        .post(PostAlertRequest {
            priority: AlertPriority::Immediate as i32,
            category: AlertCategory::Robbery as i32,
            title: "ATM cash robbery at Hirapur (demo)".to_string(),
            body: "Two men on a black motorcycle took the cash cassette and rode towards the state border."
                .to_string(),
            incident_at_ms: now - 30 * 60 * 1000,
            incident_place: "Hirapur, near the bank ATM".to_string(),
            record_ids: vec![record_id.to_string()],
            vehicles: vec!["JH 10 AB 1234".to_string()],
            warnings: vec![setu_proto::v1::Warning::Armed as i32],
            action_requested: "Nakabandi at the border crossings; inform Hirapur police station"
                .to_string(),
            expires_at_ms: now + 24 * 60 * 60 * 1000,
            ..Default::default()
        })
        .await
        .map_err(|e| demo_err("posting the sample alert", e.message()))?;
    Ok(())
}

/// The two demo ports: `base` and the next one, or two free ports when `base` is 0.
fn demo_ports(base: u16) -> Result<[u16; 2], CliError> {
    if base != 0 {
        let next = base
            .checked_add(1)
            .ok_or_else(|| CliError::Demo("--base-port must be below 65535".into()))?;
        return Ok([base, next]);
    }
    let free = || -> Result<u16, CliError> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| demo_err("finding a free port", e))?;
        Ok(listener
            .local_addr()
            .map_err(|e| demo_err("finding a free port", e))?
            .port())
    };
    let first = free()?;
    let mut second = free()?;
    while second == first {
        second = free()?;
    }
    Ok([first, second])
}

/// Runs the two-district demo until Ctrl-C.
pub async fn run(dir: &Path, base_port: u16) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| demo_err(&format!("creating {}", dir.display()), e))?;
    // Both state CAs first: each node binds its own state's CA to the state's districts
    // (officers and nodes) and the other state's CA, as its peer's `ca`, to the peer's
    // node alone.
    let mut cas = Vec::new();
    for d in &DISTRICTS {
        let ca_dir = dir.join(d.ca_dir);
        cas.push(ensure_ca(&ca_dir, d.ca_name)?);
    }
    let trusted: Vec<PathBuf> = DISTRICTS
        .iter()
        .map(|d| std::fs::canonicalize(dir.join(d.ca_dir).join(pki::CA_CERT_FILE)))
        .collect::<Result<_, _>>()
        .map_err(|e| demo_err("locating CA certificates", e))?;

    // Ports are fixed before either node starts, since each node's config names the other.
    let ports = demo_ports(base_port)?;
    let mut nodes = Vec::new();
    for (i, (d, ca)) in DISTRICTS.iter().zip(&cas).enumerate() {
        let node_dir = dir.join(d.short);
        ensure_issued(&node_dir, "node", || {
            ca.issue_node(d.id, &loopback_hosts(), Validity::days(pki::NODE_CERT_DAYS))
        })?;
        for (file_role, number, name, role) in OFFICERS {
            let badge = format!("{}-{number}", d.badge);
            ensure_issued(&node_dir.join("officers"), file_role, || {
                ca.issue_officer(
                    d.id,
                    &badge,
                    name,
                    role,
                    Validity::days(pki::OFFICER_CERT_DAYS),
                )
            })?;
        }
        let other = 1 - i;
        let peer = PeerConfig {
            district: DISTRICTS[other].id.to_string(),
            address: format!("https://127.0.0.1:{}", ports[other]),
            ca: trusted[other].clone(),
            send: vec![
                crate::config::SendHandling::Peers,
                crate::config::SendHandling::Federation,
            ],
            relay_origins: vec!["*".to_string()],
        };
        let own_trust = TrustConfig::new(
            trusted[i].clone(),
            &[&state_pattern(d.id)],
            &[CertKind::Officer, CertKind::Node],
        );
        let config = write_node_config(&node_dir, d.id, ports[i], vec![own_trust], vec![peer])?;
        // Every line a node logs names its district: the two nodes share this process.
        let span = tracing::info_span!("node", district = d.id);
        nodes.push(tracing::Instrument::instrument(server::start(config), span).await?);
    }

    let mut sample_ids = Vec::new();
    for (d, node) in DISTRICTS.iter().zip(&nodes) {
        let address = format!("https://127.0.0.1:{}", node.addr().port());
        for (file_role, ..) in OFFICERS {
            write_client_config(
                &dir.join(format!("{}-{file_role}.toml", d.short)),
                &address,
                Path::new(d.ca_dir).join(pki::CA_CERT_FILE).as_path(),
                &Path::new(d.short)
                    .join("officers")
                    .join(format!("{file_role}.pem")),
                &Path::new(d.short)
                    .join("officers")
                    .join(format!("{file_role}.key")),
            )?;
        }
        let officers = dir.join(d.short).join("officers");
        let ch = channel(
            node,
            &dir.join(d.ca_dir).join(pki::CA_CERT_FILE),
            &officers.join("admin.pem"),
            &officers.join("admin.key"),
        )
        .await?;
        let first = load_sample_data(ch.clone(), d).await?.unwrap_or_default();
        if d.id == DISTRICTS[0].id && !first.id.is_empty() {
            post_sample_alert(ch, &first.id).await?;
        }
        sample_ids.push(first);
    }

    print_instructions(dir, &nodes, &sample_ids);
    shutdown_signal().await;
    println!("\nstopping the demo nodes...");
    for node in nodes {
        node.shutdown().await?;
    }
    println!("stopped; data kept in {}", dir.display());
    Ok(())
}

fn print_instructions(dir: &Path, nodes: &[RunningNode], samples: &[PersonRecord]) {
    let d = dir.display();
    let setu = "cargo run -q --release --bin setu --";
    println!("\nSetu demo federation is running (a DEMO: throwaway certificates, fictional data).");
    for node in nodes {
        println!(
            "  {:<22} https://{}   metrics http://{}/metrics",
            node.district(),
            node.addr(),
            node.admin_addr()
        );
    }
    println!("\nFiles: {d}/ holds both state CAs, node configs and a client config per officer:");
    println!("  {d}/dhanbad-officer.toml  {d}/dhanbad-liaison.toml  {d}/dhanbad-admin.toml");
    println!("  {d}/asansol-officer.toml  {d}/asansol-liaison.toml  {d}/asansol-admin.toml");
    println!("\nTry, in another terminal:");
    println!("  {setu} --config {d}/dhanbad-officer.toml record list");
    if let Some(first) = samples.first().filter(|s| !s.id.is_empty()) {
        println!(
            "  {setu} --config {d}/dhanbad-officer.toml record show {}",
            first.id
        );
        // The same person searched for from across the border, as the other side might
        // write the name.
        let name = if first.name_local.is_empty() {
            &first.name
        } else {
            &first.name_local
        };
        println!("  {setu} --config {d}/asansol-officer.toml search \"{name}\"");
    }
    println!("  {setu} --config {d}/asansol-officer.toml search --status wanted --district jh-dhanbad --born 1990 --tolerance 5");
    println!(
        "  {setu} --config {d}/dhanbad-officer.toml record add --name \"Test Kumar Mahato\" --father-name \"Suresh Mahato\" --status wanted --vehicle \"JH 10 AB 1234\" --warning armed"
    );
    println!("  {setu} --config {d}/asansol-officer.toml search --vehicle \"jh-10-ab-1234\"");
    println!("  {setu} --config {d}/dhanbad-officer.toml mo list");
    println!("  {setu} --config {d}/asansol-officer.toml record list --status wanted");
    if let Some(second) = samples.get(1).filter(|s| !s.id.is_empty()) {
        println!(
            "  {setu} --config {d}/asansol-admin.toml record delete {} --reason \"duplicate dossier\"",
            second.id
        );
    }
    println!("\nAlerts across the border (watch in one terminal, post and acknowledge in others):");
    println!("  {setu} --config {d}/asansol-officer.toml alert watch");
    println!(
        "  {setu} --config {d}/dhanbad-liaison.toml alert post --priority flash --category robbery --title \"ATM robbery at Hirapur\" --body \"Two men on a black Pulsar, heading to the border\" --vehicle \"JH 10 AB 1234\" --warning armed --expires-in 2h"
    );
    println!("  {setu} --config {d}/asansol-liaison.toml alert list --open   (a sample alert from Dhanbad is there)");
    println!("  {setu} --config {d}/asansol-liaison.toml alert ack <ALERT-ID> --note \"nakabandi at Barakar bridge\"");
    println!("  {setu} --config {d}/dhanbad-liaison.toml alert show <ALERT-ID>");
    println!("  {setu} --help");
    println!("\nCtrl-C stops both nodes.");
}

/// Prepares a single dev node in `dir` (for `setu-node serve` without a config): a dev CA,
/// a node certificate for `dev-local`, an admin certificate and its client config.
pub fn dev_setup(dir: &Path) -> Result<NodeConfig, CliError> {
    eprintln!(
        "WARNING: no --config given: running a DEV node with a generated PKI in {}.",
        dir.display()
    );
    eprintln!(
        "WARNING: this is NOT a district setup; see README.md for `setu-node pki` and node.toml."
    );
    std::fs::create_dir_all(dir)
        .map_err(|e| demo_err(&format!("creating {}", dir.display()), e))?;
    let ca = ensure_ca(&dir.join("ca"), "Setu dev CA")?;
    ensure_issued(dir, "node", || {
        ca.issue_node(
            "dev-local",
            &loopback_hosts(),
            Validity::days(pki::NODE_CERT_DAYS),
        )
    })?;
    ensure_issued(dir, "admin", || {
        ca.issue_officer(
            "dev-local",
            "DEV-1",
            "Dev Admin",
            Role::Admin,
            Validity::days(pki::OFFICER_CERT_DAYS),
        )
    })?;
    let config = write_node_config(
        dir,
        "dev-local",
        7401,
        vec![TrustConfig::new(
            PathBuf::from("ca").join(pki::CA_CERT_FILE),
            &["dev-local"],
            &[CertKind::Officer, CertKind::Node],
        )],
        Vec::new(),
    )?;
    write_client_config(
        &dir.join("dev-admin.toml"),
        "https://127.0.0.1:7401",
        &Path::new("ca").join(pki::CA_CERT_FILE),
        Path::new("admin.pem"),
        Path::new("admin.key"),
    )?;
    eprintln!(
        "WARNING: client config for an admin: {}",
        dir.join("dev-admin.toml").display()
    );
    Ok(config)
}
