//! Certificates over a node's life: a renewed node certificate is served after a reload
//! while open streams carry on, and peers take it up when they dial again; a certificate put
//! on the deny-list is refused at its next call (audited, naming the officer) and its open
//! connections end, for officers and peer nodes alike; `setu-node pki renew` keeps the
//! identity with a new key; certificates expiring within 30 days show in `setu peers`; and
//! the real binary reloads on SIGHUP.
//!
//! Real in-process nodes (and the real binaries) over mutual TLS on 127.0.0.1, real
//! certificates; nothing sleeps to synchronise, every wait has a deadline.
#![forbid(unsafe_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use setu_node::config::NodeConfig;
use setu_node::trust::cert::CertFacts;
use setu_node::trust::identity::{identity_from_der, Identity};
use setu_node::trust::pki::Validity;
use setu_proto::v1::alert_event::Event;
use setu_proto::v1::{
    Alert, AlertCategory, AlertEvent, AlertPriority, AuditEntry, CreateRecordRequest,
    ListAuditRequest, ListRecordsRequest, PersonRecord, PostAlertRequest, WatchAlertsRequest,
};
use setu_tests::bins::{self, NodeProcess, NODE_BIN};
use setu_tests::client::{connect, describe, server_cert};
use setu_tests::mesh::{list_peers, wait_for_record, Mesh, SYNC_TIMEOUT};
use setu_tests::node::test_config;
use setu_tests::wait::wait_for;
use setu_tests::{sample_record, wait_until, CertPair, District, Officer, Role, TestCa};
use tokio_stream::StreamExt;
use tonic::{Code, Status, Streaming};

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Serial, fingerprint and expiry of the first certificate in a PEM file.
fn facts(cert: &Path) -> anyhow::Result<CertFacts> {
    let pem = std::fs::read(cert)?;
    let der = setu_node::trust::cert::parse_pem_certs(&pem)
        .map_err(anyhow::Error::msg)?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("{} holds no certificate", cert.display()))?;
    CertFacts::of_der(der.as_ref()).map_err(anyhow::Error::msg)
}

/// The identity a PEM certificate file names.
fn identity(cert: &Path) -> anyhow::Result<Identity> {
    let pem = std::fs::read(cert)?;
    let der = setu_node::trust::cert::parse_pem_certs(&pem)
        .map_err(anyhow::Error::msg)?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("{} holds no certificate", cert.display()))?;
    Ok(identity_from_der(der.as_ref())?)
}

async fn create(officer: &Officer, name: &str) -> Result<PersonRecord, Status> {
    officer
        .records()
        .create(CreateRecordRequest {
            record: Some(sample_record(name)),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn list_records(officer: &Officer) -> Result<usize, Status> {
    officer
        .records()
        .list(ListRecordsRequest::default())
        .await
        .map(|r| r.into_inner().records.len())
}

fn alert(title: &str) -> PostAlertRequest {
    PostAlertRequest {
        priority: AlertPriority::Routine as i32,
        category: AlertCategory::Robbery as i32,
        title: title.to_string(),
        body: "Two men on a black motorcycle, heading towards the border.".to_string(),
        incident_place: "Test Nagar, near the ATM".to_string(),
        action_requested: "inform the originating police station".to_string(),
        targets: vec![ASANSOL.to_string()],
        expires_at_ms: setu_node::clock::now_ms() + 2 * 3_600_000,
        ..Default::default()
    }
}

async fn post(officer: &Officer, title: &str) -> anyhow::Result<Alert> {
    Ok(officer.alerts().post(alert(title)).await?.into_inner())
}

async fn watch(officer: &Officer) -> anyhow::Result<Streaming<AlertEvent>> {
    Ok(officer
        .alerts()
        .watch(WatchAlertsRequest::default())
        .await?
        .into_inner())
}

/// Reads a watch stream until the alert `id` arrives.
async fn read_until(stream: &mut Streaming<AlertEvent>, id: &str) -> anyhow::Result<()> {
    loop {
        let event = match tokio::time::timeout(SYNC_TIMEOUT, stream.next()).await {
            Ok(Some(event)) => event?,
            Ok(None) => anyhow::bail!("the watch stream ended"),
            Err(_) => anyhow::bail!("no alert event within {SYNC_TIMEOUT:?}"),
        };
        if matches!(&event.event, Some(Event::Alert(a)) if a.id == id) {
            return Ok(());
        }
    }
}

/// Calls `call` until it is refused as UNAUTHENTICATED and returns the refusal. The
/// connection the caller had may be closed under it, so transport failures are retried;
/// a call that succeeds fails the test.
async fn refused<F, Fut, T>(what: &str, call: F) -> anyhow::Result<Status>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, Status>>,
{
    let accepted = Arc::new(AtomicBool::new(false));
    let status = wait_for(SYNC_TIMEOUT, what, || {
        let accepted = accepted.clone();
        let call = call();
        async move {
            match call.await {
                Err(status) if status.code() == Code::Unauthenticated => Ok(status),
                Err(status) => Err(describe(&status)),
                Ok(_) => {
                    accepted.store(true, Ordering::SeqCst);
                    Err("the call was accepted".to_string())
                }
            }
        }
    })
    .await?;
    anyhow::ensure!(
        !accepted.load(Ordering::SeqCst),
        "a call was accepted after the reload: {what}"
    );
    Ok(status)
}

/// Dhanbad (Jharkhand) and Asansol-Durgapur (West Bengal), peering both ways, with both
/// links up.
async fn federation() -> anyhow::Result<Mesh> {
    let mesh = Mesh::two_states(DHANBAD, ASANSOL)?.start().await?;
    links_up(&mesh).await?;
    Ok(mesh)
}

/// Waits until each node's link to the other is connected.
async fn links_up(mesh: &Mesh) -> anyhow::Result<()> {
    for (node, peer) in [(DHANBAD, ASANSOL), (ASANSOL, DHANBAD)] {
        let federation = mesh.node(node).federation().clone();
        wait_until(
            SYNC_TIMEOUT,
            &format!("{node}'s link to {peer} is up"),
            || {
                let federation = federation.clone();
                async move { federation.status.get(peer).connected }
            },
        )
        .await?;
    }
    Ok(())
}

/// The node's own certificate pair, as its config names it.
fn node_pair(config: &NodeConfig) -> CertPair {
    CertPair {
        cert: config.cert.clone(),
        key: config.key.clone(),
    }
}

#[tokio::test]
async fn a_renewed_node_certificate_is_served_after_reload_and_open_streams_carry_on(
) -> anyhow::Result<()> {
    let mut mesh = federation().await?;
    let liaison = mesh.officer(DHANBAD, "JH-2001", Role::Liaison).await?;
    let watcher = mesh.officer(DHANBAD, "JH-2002", Role::Officer).await?;
    let remote = mesh.officer(ASANSOL, "WB-2001", Role::Officer).await?;
    let mut stream = watch(&watcher).await?;
    let before = post(&liaison, "Test robbery before the renewal").await?;
    read_until(&mut stream, &before.id).await?;
    let ca = mesh.ca_of(DHANBAD).cert_path();
    let old = facts(&mesh.node(DHANBAD).config().cert)?;
    assert_eq!(
        server_cert(mesh.node(DHANBAD).addr(), &ca, &watcher.cert)
            .await?
            .serial,
        old.serial
    );
    let asansol_link = mesh.node(ASANSOL).federation().status.get(DHANBAD);

    // Renew Dhanbad's certificate into new files and reload.
    let renewed = mesh.ca_of(DHANBAD).renew(
        &node_pair(mesh.node(DHANBAD).config()),
        &mesh.dir().join("renewed"),
        400,
    )?;
    let node = mesh.node_mut(DHANBAD);
    node.config_mut().cert = renewed.cert.clone();
    node.config_mut().key = renewed.key.clone();
    let report = node.reload()?;
    assert!(report.cert_changed, "{report:?}");
    assert_ne!(report.cert.serial, old.serial);
    assert_eq!(report.cert, facts(&renewed.cert)?);
    assert!(report.needs_restart.is_empty(), "{report:?}");

    // A new connection gets the renewed certificate...
    let served = server_cert(mesh.node(DHANBAD).addr(), &ca, &watcher.cert).await?;
    assert_eq!(served.serial, report.cert.serial);
    // ...while the open watch stream and the officers' connections carry on.
    let after = post(&liaison, "Test robbery after the renewal").await?;
    read_until(&mut stream, &after.id).await?;
    // Asansol's pull from Dhanbad never broke: the alert posted after the reload reaches it
    // over the stream opened before, and its link shows no new error.
    wait_for(SYNC_TIMEOUT, "the alert reaches Asansol-Durgapur", || {
        let remote = remote.clone();
        let id = after.id.clone();
        async move {
            remote
                .alerts()
                .get(setu_proto::v1::GetAlertRequest { alert_id: id })
                .await
        }
    })
    .await?;
    let link = mesh.node(ASANSOL).federation().status.get(DHANBAD);
    assert!(link.connected, "{link:?}");
    assert_eq!(
        (link.last_error.as_str(), link.last_error_at_ms),
        (
            asansol_link.last_error.as_str(),
            asansol_link.last_error_at_ms
        ),
        "the link did not break"
    );

    // Asansol now refuses Dhanbad's old certificate: both links are cut and dialled again,
    // Dhanbad's with the renewed certificate, and sync goes on both ways.
    let asansol = mesh.node_mut(ASANSOL);
    asansol.config_mut().deny = vec![format!("serial:{}", old.serial)];
    let report = asansol.reload()?;
    assert_eq!(report.denied, 1);
    let federation = mesh.node(ASANSOL).federation().clone();
    let renewed_serial = served.serial.clone();
    wait_until(
        SYNC_TIMEOUT,
        "Asansol-Durgapur sees Dhanbad's renewed certificate",
        || {
            let federation = federation.clone();
            let serial = renewed_serial.clone();
            async move {
                federation
                    .status
                    .get(DHANBAD)
                    .peer_cert
                    .is_some_and(|c| c.serial == serial)
            }
        },
    )
    .await?;
    let writer = mesh.officer(DHANBAD, "JH-2003", Role::Officer).await?;
    let from_dhanbad = create(&writer, "Test Renewed Example").await?;
    wait_for_record(
        &remote,
        &from_dhanbad.id,
        "Dhanbad's record reaches Asansol",
        |_| true,
    )
    .await?;
    let from_asansol = create(&remote, "Test Redialled Example").await?;
    wait_for_record(
        &writer,
        &from_asansol.id,
        "Asansol's record reaches Dhanbad over a link dialled with the renewed certificate",
        |_| true,
    )
    .await?;
    Ok(())
}

/// The audit entries of `badge` on the node `admin` is connected to.
async fn audit_of(admin: &Officer, badge: &str) -> anyhow::Result<Vec<AuditEntry>> {
    Ok(admin
        .audit()
        .list(ListAuditRequest {
            officer: badge.to_string(),
            page_size: 500,
            ..Default::default()
        })
        .await?
        .into_inner()
        .entries)
}

#[tokio::test]
async fn a_denied_officer_is_refused_after_reload_and_the_refusal_is_audited() -> anyhow::Result<()>
{
    let mut district = District::start(DHANBAD).await?;
    let admin = district.officer("JH-9001", Role::Admin).await?;
    let denied = district.officer("JH-1001", Role::Officer).await?;
    let other = district.officer("JH-1002", Role::Officer).await?;
    create(&denied, "Test Before Example").await?;
    let mut stream = watch(&denied).await?;

    // The serial as an operator might copy it: upper case, with colons.
    let serial = facts(&denied.cert.cert)?.serial;
    let spelled: Vec<String> = serial
        .to_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).into_owned())
        .collect();
    district.node.config_mut().deny = vec![format!("serial:{}", spelled.join(":"))];
    let report = district.node.reload()?;
    assert_eq!(report.denied, 1);
    assert!(!report.cert_changed);

    // The open watch stream of the denied officer ends.
    match tokio::time::timeout(SYNC_TIMEOUT, stream.next()).await {
        Ok(None) | Ok(Some(Err(_))) => {}
        Ok(Some(Ok(event))) => anyhow::bail!("the denied officer still got {event:?}"),
        Err(_) => anyhow::bail!("the denied officer's watch stream is still open"),
    }
    // The next call is refused, naming the deny-list and the officer.
    let status = refused("the denied officer's call is refused", || {
        list_records(&denied)
    })
    .await?;
    let message = status.message();
    assert!(
        message.contains("deny-list") && message.contains(&serial) && message.contains("JH-1001"),
        "{message}"
    );
    // Other officers are unaffected.
    assert_eq!(list_records(&other).await?, 1);
    create(&other, "Test After Example").await?;

    // The refusal is in the audit trail with the officer's badge and the outcome.
    let entries = audit_of(&admin, "JH-1001").await?;
    let refusal = entries
        .iter()
        .find(|e| e.method == "RecordService/List" && e.outcome == "UNAUTHENTICATED")
        .ok_or_else(|| anyhow::anyhow!("no refused entry in {entries:#?}"))?;
    assert_eq!(refusal.district, DHANBAD);
    assert_eq!(refusal.role, "officer");
    assert_eq!(refusal.officer_name, "Test Officer JH-1001");

    // A fingerprint entry works too; clearing the list lets the first officer back in.
    let fingerprint = facts(&other.cert.cert)?.sha256;
    district.node.config_mut().deny = vec![format!("sha256:{fingerprint}")];
    district.node.reload()?;
    refused("the officer denied by fingerprint is refused", || {
        list_records(&other)
    })
    .await?;
    let back = district.connect_as(denied.cert.clone(), "JH-1001").await?;
    assert_eq!(list_records(&back).await?, 2);

    // A bad deny-list is refused whole: the node keeps the list it has.
    district.node.config_mut().deny = vec!["serial:not-hex".to_string()];
    let error = district.node.reload().expect_err("a bad entry is refused");
    assert!(error.to_string().contains("deny[0]"), "{error}");
    refused("the fingerprint entry still holds", || list_records(&other)).await?;
    Ok(())
}

#[tokio::test]
async fn a_denied_peer_node_is_refused_both_ways_and_audited() -> anyhow::Result<()> {
    let mut mesh = federation().await?;
    let fingerprint = facts(&mesh.node(DHANBAD).config().cert)?.sha256;
    let asansol = mesh.node_mut(ASANSOL);
    asansol.config_mut().deny = vec![format!("sha256:{fingerprint}")];
    asansol.reload()?;

    for (node, peer) in [(DHANBAD, ASANSOL), (ASANSOL, DHANBAD)] {
        let federation = mesh.node(node).federation().clone();
        wait_until(
            SYNC_TIMEOUT,
            &format!("{node}'s link to {peer} fails on the deny-list"),
            || {
                let federation = federation.clone();
                async move {
                    let link = federation.status.get(peer);
                    !link.connected && link.last_error.contains("deny-list")
                }
            },
        )
        .await?;
    }
    let entries = mesh.node(ASANSOL).storage().audit_range(0, 10_000)?;
    let refusal = entries
        .iter()
        .find(|e| e.method == "FederationService/Sync")
        .ok_or_else(|| anyhow::anyhow!("no refused sync call in {entries:#?}"))?;
    assert_eq!(refusal.officer, format!("node {DHANBAD}"));
    assert_eq!(refusal.role, "node");
    assert_eq!(refusal.outcome, "UNAUTHENTICATED");
    Ok(())
}

#[tokio::test]
async fn pki_renew_keeps_the_identity_with_a_new_key() -> anyhow::Result<()> {
    setu_tests::init();
    let dir = tempfile::tempdir()?;
    let ca = TestCa::create(&dir.path().join("ca"), "Test Jharkhand CA")?;
    let officer = ca.officer_with(DHANBAD, "JH-3001", Role::Liaison, Validity::days(5))?;
    let node = ca.node(DHANBAD)?;
    let ca_dir = ca.dir().to_string_lossy().into_owned();

    for (old, out) in [(&officer, "officer-out"), (&node, "node-out")] {
        let out = dir.path().join(out);
        let finished = bins::run(
            NODE_BIN,
            &[
                "pki",
                "renew",
                "--ca",
                &ca_dir,
                "--cert",
                &old.cert.to_string_lossy(),
                "--out",
                &out.to_string_lossy(),
                "--days",
                "90",
            ],
        )
        .await?
        .success()?;
        let stem = if out.ends_with("node-out") {
            "node"
        } else {
            "officer"
        };
        let (cert, key) = (
            out.join(format!("{stem}.pem")),
            out.join(format!("{stem}.key")),
        );
        let before = facts(&old.cert)?;
        let after = facts(&cert)?;
        assert!(
            finished.stdout.contains(&after.serial)
                && finished
                    .stdout
                    .contains(&format!("serial:{}", before.serial)),
            "{finished}"
        );
        assert_eq!(identity(&cert)?, identity(&old.cert)?);
        assert_ne!(after.serial, before.serial);
        let days = (after.not_after_ms - setu_node::clock::now_ms()) / DAY_MS;
        assert!((89..=90).contains(&days), "{days} days");
        let mode = std::fs::metadata(&key)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the new key is private");
        assert_ne!(std::fs::read(&key)?, std::fs::read(&old.key)?, "a new key");
        assert!(out.join("ca.pem").is_file());
    }

    // The renewed node certificate is valid for the same hosts and the district's name.
    let renewed = dir.path().join("node-out").join("node.pem");
    let roots = {
        let mut roots = rustls::RootCertStore::empty();
        for cert in setu_node::trust::cert::parse_pem_certs(&std::fs::read(ca.cert_path())?)
            .map_err(anyhow::Error::msg)?
        {
            roots.add(cert)?;
        }
        Arc::new(roots)
    };
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        roots,
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build()?;
    let leaf = setu_node::trust::cert::parse_pem_certs(&std::fs::read(&renewed)?)
        .map_err(anyhow::Error::msg)?
        .remove(0);
    for host in ["127.0.0.1", "localhost", "jh-dhanbad.node.setu"] {
        let name = rustls::pki_types::ServerName::try_from(host)?;
        use rustls::client::danger::ServerCertVerifier;
        verifier
            .verify_server_cert(&leaf, &[], &name, &[], rustls::pki_types::UnixTime::now())
            .map_err(|e| anyhow::anyhow!("{host}: {e}"))?;
    }

    // A certificate of another CA is refused with a clear message.
    let other = TestCa::create(&dir.path().join("other"), "Test Other CA")?;
    let foreign = other.officer("wb-purulia", "WB-1", Role::Officer)?;
    let finished = bins::run(
        NODE_BIN,
        &[
            "pki",
            "renew",
            "--ca",
            &ca_dir,
            "--cert",
            &foreign.cert.to_string_lossy(),
            "--out",
            &dir.path().join("foreign-out").to_string_lossy(),
        ],
    )
    .await?;
    assert!(!finished.status.success(), "{finished}");
    assert!(
        finished.stderr.contains("was not issued by the CA"),
        "{finished}"
    );
    assert!(!dir.path().join("foreign-out").join("officer.pem").exists());
    Ok(())
}

#[tokio::test]
async fn certificates_expiring_within_30_days_are_reported() -> anyhow::Result<()> {
    let mut plan = Mesh::plan()?;
    plan.ca("jh", "Test Jharkhand CA")?;
    plan.ca("wb", "Test West Bengal CA")?;
    plan.node_valid_for(DHANBAD, "jh", 10)?;
    plan.node_valid_for(ASANSOL, "wb", 400)?;
    plan.peers(DHANBAD, ASANSOL);
    let mesh = plan.start().await?;
    links_up(&mesh).await?;
    let now = setu_node::clock::now_ms();
    let dhanbad_cert = facts(&mesh.node(DHANBAD).config().cert)?;
    let asansol_cert = facts(&mesh.node(ASANSOL).config().cert)?;

    let at_dhanbad = mesh.officer(DHANBAD, "JH-4001", Role::Officer).await?;
    let list = list_peers(&at_dhanbad).await?;
    assert_eq!(list.own_cert_expires_at_ms, dhanbad_cert.not_after_ms);
    assert_eq!(list.own_cert_serial, dhanbad_cert.serial);
    assert!(list.own_cert_expires_at_ms - now < 30 * DAY_MS);
    assert_eq!(
        list.peers[0].peer_cert_expires_at_ms,
        asansol_cert.not_after_ms
    );

    let at_asansol = mesh.officer(ASANSOL, "WB-4001", Role::Officer).await?;
    let list = list_peers(&at_asansol).await?;
    assert_eq!(list.own_cert_expires_at_ms, asansol_cert.not_after_ms);
    assert_eq!(
        list.peers[0].peer_cert_expires_at_ms,
        dhanbad_cert.not_after_ms
    );
    assert_eq!(list.peers[0].peer_cert_serial, dhanbad_cert.serial);

    // `setu peers` at Asansol flags Dhanbad's certificate, not its own.
    let config = mesh.dir().join("wb-officer.toml");
    bins::write_client_config(
        &config,
        &format!("https://{}", mesh.node(ASANSOL).addr()),
        &mesh.ca_of(ASANSOL).cert_path(),
        &at_asansol.cert,
    )?;
    let finished = bins::setu(&config, &["peers"]).await?.success()?;
    assert!(
        finished.stdout.contains("Certificate   EXPIRES IN 10 DAYS"),
        "{finished}"
    );
    let own_line = finished.stdout.lines().nth(1).unwrap_or_default();
    assert!(
        own_line.starts_with("this node's certificate (serial") && own_line.contains(": expires "),
        "{finished}"
    );
    Ok(())
}

#[tokio::test]
async fn sighup_reloads_the_running_binary() -> anyhow::Result<()> {
    setu_tests::init();
    let dir = tempfile::tempdir()?;
    let ca = TestCa::create(&dir.path().join("ca"), "Test Jharkhand CA")?;
    let ca_dir = ca.dir().to_string_lossy().into_owned();
    let node_dir = dir.path().join("node");
    let node_dir_text = node_dir.to_string_lossy().into_owned();
    bins::run(
        NODE_BIN,
        &[
            "pki",
            "node",
            "--ca",
            &ca_dir,
            "--district",
            DHANBAD,
            "--host",
            "127.0.0.1",
            "--out",
            &node_dir_text,
        ],
    )
    .await?
    .success()?;
    let pair = CertPair {
        cert: node_dir.join("node.pem"),
        key: node_dir.join("node.key"),
    };
    let mut config = test_config(
        DHANBAD,
        dir.path().join("data"),
        &pair,
        vec![setu_tests::node::state_trust(&ca.cert_path(), DHANBAD)],
    );
    let config_path = dir.path().join("node.toml");
    bins::write_node_config(&config_path, &config)?;
    let node = NodeProcess::start(&config_path, &dir.path().join("node.log")).await?;
    let officer_cert = ca.officer(DHANBAD, "JH-5001", Role::Officer)?;
    let old = server_cert(node.addr(), &ca.cert_path(), &officer_cert).await?;
    let officer = Officer {
        channel: connect(node.addr(), &ca.cert_path(), Some(&officer_cert)).await?,
        cert: officer_cert.clone(),
        label: "JH-5001".to_string(),
    };
    assert_eq!(list_records(&officer).await?, 0);

    // Renew in place, as an operator would, and send SIGHUP.
    bins::run(
        NODE_BIN,
        &[
            "pki",
            "renew",
            "--ca",
            &ca_dir,
            "--cert",
            &pair.cert.to_string_lossy(),
            "--out",
            &node_dir_text,
        ],
    )
    .await?
    .success()?;
    let renewed = facts(&pair.cert)?;
    assert_ne!(renewed.serial, old.serial);
    node.hangup()?;
    let reloaded = |serial: String| {
        let node = &node;
        move || {
            let serial = serial.clone();
            async move {
                node.log()
                    .lines()
                    .any(|l| l.contains("reloaded TLS material") && l.contains(&serial))
            }
        }
    };
    wait_until(
        SYNC_TIMEOUT,
        "the node logs the reload with the new serial",
        reloaded(renewed.serial.clone()),
    )
    .await?;
    let served = server_cert(node.addr(), &ca.cert_path(), &officer_cert).await?;
    assert_eq!(served.serial, renewed.serial);
    assert_eq!(list_records(&officer).await?, 0, "the open channel works");

    // A bad deny-list is refused, naming the key; the node keeps serving.
    config.deny = vec!["serial".to_string()];
    bins::write_node_config(&config_path, &config)?;
    node.hangup()?;
    wait_until(SYNC_TIMEOUT, "the node logs the refused reload", || async {
        node.log()
            .lines()
            .any(|l| l.contains("reload refused") && l.contains("deny[0]"))
    })
    .await?;
    assert_eq!(list_records(&officer).await?, 0);

    // A good one takes effect.
    config.deny = vec![format!("serial:{}", facts(&officer_cert.cert)?.serial)];
    bins::write_node_config(&config_path, &config)?;
    node.hangup()?;
    // The reload runs when the node handles the signal: calls before it are still served.
    wait_until(
        SYNC_TIMEOUT,
        "the node logs the reload with the denied officer",
        || async {
            node.log()
                .lines()
                .any(|l| l.contains("reloaded TLS material") && l.contains("denied=1"))
        },
    )
    .await?;
    let status = refused("the denied officer is refused after SIGHUP", || {
        list_records(&officer)
    })
    .await?;
    assert!(
        status.message().contains("deny-list"),
        "{}",
        status.message()
    );
    node.kill9().await?;
    Ok(())
}
