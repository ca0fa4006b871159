//! Metrics and health: the admin listener's `/metrics` endpoint scraped and parsed as
//! Prometheus would (calls by method and status code with latency histograms, records by
//! origin, database size, sync lag per peer and origin, alerts awaiting acknowledgement and
//! overdue), and the gRPC health status turning NOT_SERVING as soon as a node starts
//! shutting down.
//!
//! Real in-process nodes over mutual TLS on 127.0.0.1 with their own sled databases;
//! nothing sleeps to synchronise, every wait has a deadline.
#![forbid(unsafe_code)]

use std::time::Duration;

use anyhow::{ensure, Context};
use setu_proto::v1::{
    AlertCategory, AlertPriority, CreateRecordRequest, ListAuditRequest, PostAlertRequest,
};
use setu_tests::mesh::{Mesh, SYNC_TIMEOUT};
use setu_tests::scrape::{http_get, parse, Exposition};
use setu_tests::wait::wait_for;
use setu_tests::{sample_record, District, Officer, Role, TestNode};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";

/// Scrapes `node`'s `/metrics` and parses it.
async fn scrape(node: &TestNode) -> anyhow::Result<Exposition> {
    let response = http_get(node.admin_addr(), "/metrics").await?;
    ensure!(
        response.status == 200,
        "status {}: {}",
        response.status,
        response.body
    );
    let content_type = response
        .headers
        .get("content-type")
        .context("no content-type")?;
    ensure!(
        content_type.starts_with("application/openmetrics-text"),
        "content-type {content_type}"
    );
    parse(&response.body)
}

/// Scrapes `node` until `accept` likes what it sees (sync and acknowledgements arrive in
/// the background), and returns that exposition.
async fn scrape_until(
    node: &TestNode,
    what: &str,
    accept: impl Fn(&Exposition) -> anyhow::Result<()>,
) -> anyhow::Result<Exposition> {
    let accept = &accept;
    wait_for(SYNC_TIMEOUT, what, || async move {
        let exposition = scrape(node).await?;
        accept(&exposition)?;
        anyhow::Ok(exposition)
    })
    .await
}

async fn create_record(officer: &Officer, name: &str) -> anyhow::Result<()> {
    officer
        .records()
        .create(CreateRecordRequest {
            record: Some(sample_record(name)),
        })
        .await?;
    Ok(())
}

fn flash_alert(targets: &[&str]) -> PostAlertRequest {
    PostAlertRequest {
        priority: AlertPriority::Flash as i32,
        category: AlertCategory::Robbery as i32,
        title: "ATM robbery at Test Nagar".to_string(),
        body: "Two men on a black motorcycle, heading towards the border.".to_string(),
        incident_place: "Test Nagar, near the ATM".to_string(),
        action_requested: "stop and detain; inform the originating police station".to_string(),
        targets: targets.iter().map(|t| t.to_string()).collect(),
        expires_at_ms: setu_node::clock::now_ms() + 2 * 3_600_000,
        ..Default::default()
    }
}

/// The buckets of one histogram series: (upper bound, cumulative count), in order.
fn buckets(e: &Exposition, name: &str, labels: &[(&str, &str)]) -> Vec<(f64, f64)> {
    e.find(name, labels)
        .map(|s| {
            let le = match s.labels["le"].as_str() {
                "+Inf" => f64::INFINITY,
                bound => bound.parse().expect("a numeric bucket bound"),
            };
            (le, s.value)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoint_scraped_and_parsed() -> anyhow::Result<()> {
    let mut mesh = Mesh::two_states(DHANBAD, ASANSOL)?.start().await?;
    let officer = mesh.officer(DHANBAD, "JH-7001", Role::Officer).await?;
    let liaison = mesh.officer(DHANBAD, "JH-7002", Role::Liaison).await?;

    create_record(&officer, "Ramesh Testwala").await?;
    create_record(&officer, "Suresh Testwala").await?;
    let refused = officer
        .audit()
        .list(ListAuditRequest::default())
        .await
        .expect_err("an officer may not read the audit trail");
    assert_eq!(refused.code(), Code::PermissionDenied);
    liaison.alerts().post(flash_alert(&[ASANSOL])).await?;

    let dhanbad = mesh.node(DHANBAD);
    let lag = |direction: &'static str, origin: &'static str| {
        [
            ("peer", ASANSOL),
            ("origin", origin),
            ("direction", direction),
        ]
    };
    // Asansol pulls the records and the alert and acknowledges them: the outgoing lag
    // falls to zero once it has. Dhanbad's own pull from Asansol connects meanwhile (it
    // may have started before Asansol was up, and be in its reconnect backoff).
    let e = scrape_until(
        dhanbad,
        "Asansol has applied everything of Dhanbad's and both links are up",
        |e| {
            let out = e.value("setu_sync_lag_changes", &lag("out", DHANBAD))?;
            ensure!(out == 0.0, "{out} changes not acknowledged yet");
            let connected = e.value("setu_sync_peer_connected", &[("peer", ASANSOL)])?;
            ensure!(
                connected == 1.0,
                "the pull from Asansol is not connected yet"
            );
            Ok(())
        },
    )
    .await?;

    // Calls, by method and status code, refused ones included.
    assert_eq!(e.types["setu_rpc_requests"], "counter");
    let create_ok = [("method", "RecordService/Create"), ("code", "OK")];
    assert_eq!(e.value("setu_rpc_requests_total", &create_ok)?, 2.0);
    assert_eq!(
        e.value(
            "setu_rpc_requests_total",
            &[
                ("method", "AuditService/List"),
                ("code", "PERMISSION_DENIED")
            ]
        )?,
        1.0
    );
    assert_eq!(
        e.value(
            "setu_rpc_requests_total",
            &[("method", "AlertService/Post"), ("code", "OK")]
        )?,
        1.0
    );
    assert!(
        e.value(
            "setu_rpc_requests_total",
            &[("method", "FederationService/Sync"), ("code", "OK")]
        )? >= 1.0,
        "the peer's sync calls are counted too"
    );

    // Latency histograms: cumulative buckets ending in +Inf, matching the count.
    assert_eq!(e.types["setu_rpc_duration_seconds"], "histogram");
    let create_buckets = buckets(&e, "setu_rpc_duration_seconds_bucket", &create_ok);
    assert!(create_buckets.len() > 5, "buckets: {create_buckets:?}");
    assert!(
        create_buckets
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
        "buckets are ordered and cumulative: {create_buckets:?}"
    );
    assert_eq!(create_buckets.last(), Some(&(f64::INFINITY, 2.0)));
    assert_eq!(e.value("setu_rpc_duration_seconds_count", &create_ok)?, 2.0);
    assert!(e.value("setu_rpc_duration_seconds_sum", &create_ok)? > 0.0);

    // What the database holds.
    assert_eq!(e.value("setu_records", &[("origin", DHANBAD)])?, 2.0);
    assert_eq!(e.find("setu_records", &[("origin", ASANSOL)]).count(), 0);
    assert!(e.value("setu_database_size_bytes", &[])? > 0.0);
    assert_eq!(e.value("setu_storage_healthy", &[])?, 1.0);

    // Sync per peer and origin.
    assert!(e.value("setu_sync_lag_changes", &lag("in", ASANSOL))? >= 0.0);
    assert!(
        e.value(
            "setu_sync_peer_last_contact_timestamp_seconds",
            &[("peer", ASANSOL)]
        )? > 0.0
    );

    // The FLASH alert waits for Asansol's acknowledgement, not yet overdue.
    let outgoing = [("direction", "outgoing")];
    assert_eq!(e.value("setu_alerts_awaiting_ack", &outgoing)?, 1.0);
    assert_eq!(e.value("setu_alerts_overdue", &outgoing)?, 0.0);
    assert_eq!(
        e.value("setu_alerts_awaiting_ack", &[("direction", "incoming")])?,
        0.0
    );

    // Asansol holds Dhanbad's records and sees the alert as waiting for its own ack.
    let asansol = mesh.node(ASANSOL);
    let e = scrape_until(asansol, "Asansol counts the alert sent to it", |e| {
        let incoming = e.value("setu_alerts_awaiting_ack", &[("direction", "incoming")])?;
        ensure!(incoming == 1.0, "{incoming} incoming alerts awaiting ack");
        Ok(())
    })
    .await?;
    assert_eq!(e.value("setu_records", &[("origin", DHANBAD)])?, 2.0);
    assert!(
        e.value(
            "setu_sync_applied_seq",
            &[("peer", DHANBAD), ("origin", DHANBAD)]
        )? >= 3.0,
        "two records and an alert applied from Dhanbad"
    );

    // Past the FLASH deadline (10 minutes) the alert is overdue at its origin.
    dhanbad.config().clock.advance(Duration::from_secs(11 * 60));
    let e = scrape(dhanbad).await?;
    assert_eq!(e.value("setu_alerts_overdue", &outgoing)?, 1.0);
    assert_eq!(e.value("setu_alerts_awaiting_ack", &outgoing)?, 1.0);

    let health = http_get(dhanbad.admin_addr(), "/health").await?;
    assert_eq!((health.status, health.body.as_str()), (200, "serving\n"));
    let missing = http_get(dhanbad.admin_addr(), "/nothing-here").await?;
    assert_eq!(missing.status, 404);

    mesh.node_mut(ASANSOL).stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_turns_not_serving_when_shutdown_starts() -> anyhow::Result<()> {
    let mut district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-7101", Role::Officer).await?;
    let mut health = HealthClient::new(officer.channel.clone());
    for service in ["", "setu.v1.RecordService", "setu.v1.FederationService"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.to_string(),
            })
            .await?
            .into_inner();
        assert_eq!(
            status.status,
            ServingStatus::Serving as i32,
            "{service:?} is SERVING while the node runs"
        );
    }
    let mut watch = health
        .watch(HealthCheckRequest {
            service: "setu.v1.RecordService".to_string(),
        })
        .await?
        .into_inner();
    let first = watch.message().await?.context("the watch ended")?;
    assert_eq!(first.status, ServingStatus::Serving as i32);
    let admin = district.node.admin_addr();

    // The open watch keeps the server draining, which makes the window observable: the
    // watcher hears NOT_SERVING, and /health says so too, before the node has stopped.
    let stopping = district.node.stop();
    tokio::pin!(stopping);
    let next = tokio::select! {
        next = watch.message() => next?.context("the watch ended without a status")?,
        stopped = &mut stopping => {
            stopped?;
            anyhow::bail!("the node stopped before its health turned NOT_SERVING");
        }
    };
    assert_eq!(next.status, ServingStatus::NotServing as i32);
    let during = tokio::select! {
        response = http_get(admin, "/health") => response?,
        stopped = &mut stopping => {
            stopped?;
            anyhow::bail!("the node stopped before /health was read");
        }
    };
    assert_eq!(
        (during.status, during.body.as_str()),
        (503, "not serving\n")
    );
    drop(watch);
    drop(health);
    drop(officer);
    tokio::time::timeout(Duration::from_secs(30), stopping)
        .await
        .context("the node did not stop once the watch was gone")??;
    Ok(())
}

#[tokio::test]
async fn an_admin_listen_that_cannot_be_used_is_refused_naming_the_key() -> anyhow::Result<()> {
    setu_tests::init();
    let dir = tempfile::tempdir()?;
    let ca = setu_tests::TestCa::create(&dir.path().join("ca"), "Test Jharkhand CA")?;
    let node_cert = ca.node(DHANBAD)?;
    let config = setu_tests::node::test_config(
        DHANBAD,
        dir.path().join("data"),
        &node_cert,
        vec![setu_tests::node::state_trust(&ca.cert_path(), DHANBAD)],
    );

    // The gRPC port given to the admin listener too: a config error, before any bind.
    let mut same_port = config.clone();
    same_port.listen = "127.0.0.1:7401".parse()?;
    same_port.admin_listen = "0.0.0.0:7401".parse()?;
    let err = setu_node::server::start(same_port)
        .await
        .err()
        .context("a shared port is refused")?;
    assert!(
        matches!(err, setu_node::server::ServeError::Config(_)),
        "{err}"
    );
    assert!(err.to_string().contains("`admin_listen`"), "{err}");

    // A port another process holds: a startup error naming the key and the address.
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let mut busy = config;
    busy.admin_listen = taken.local_addr()?;
    let err = setu_node::server::start(busy)
        .await
        .err()
        .context("a taken admin port is refused")?;
    let text = err.to_string();
    assert!(text.contains("`admin_listen`"), "{text}");
    assert!(text.contains(&taken.local_addr()?.to_string()), "{text}");
    Ok(())
}
