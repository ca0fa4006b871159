//! Benchmark of federation: catch-up of many records from one node to a fresh peer over
//! mutual TLS (records/s and the peer's peak RSS), and live propagation latency of single
//! creates from A to B (p50/p99).
//!
//! Run with `cargo build --release --bins && cargo bench -p setu-tests --bench catchup`.
//! `SETU_BENCH_CATCHUP` sets the number of records (default 1 000 000); `SETU_BENCH_LIVE`
//! the number of live creates (default 300). Node A runs in this process; node B is the real
//! `setu-node` binary, so that its peak RSS is its own.

use anyhow::Context;
use setu_node::config::{NodeConfig, PeerConfig, SendHandling};
use setu_node::federation::keys::Signer;
use setu_node::storage::Storage;
use setu_node::trust::identity::Role;
use setu_node::trust::pki::{write_issued, Ca, Validity};
use setu_proto::v1::federation_service_client::FederationServiceClient;
use setu_proto::v1::peer_service_client::PeerServiceClient;
use setu_proto::v1::record_service_client::RecordServiceClient;
use setu_proto::v1::{
    CreateRecordRequest, DigestRequest, GetRecordRequest, Handling, ListPeersRequest,
};
use setu_tests::bench::{
    channel, env_usize, node_binary, percentile, proc_status_kib, process_cpu,
};
use setu_tests::mesh::free_port;

use std::sync::Arc;
use std::time::{Duration, Instant};

const A: &str = "jh-dhanbad";
const B: &str = "wb-asansol-durgapur";
/// Records per transaction of A's bulk load (each signed and logged as a create would be).
const LOAD_BATCH: usize = 1000;

fn main() -> anyhow::Result<()> {
    let quick = !std::env::args().any(|a| a == "--bench");
    setu_node::net::tls::install_crypto_provider();
    let records = if quick {
        500
    } else {
        env_usize("SETU_BENCH_CATCHUP", 1_000_000)
    };
    let live = if quick {
        20
    } else {
        env_usize("SETU_BENCH_LIVE", 300)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(records, live, quick))
}

async fn run(records: usize, live: usize, quick: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    let ca = Ca::generate("Bench federation CA")?;
    ca.save(&root.join("ca"))?;
    let ca_pem = root.join("ca").join("ca.pem");
    for (district, name) in [(A, "a"), (B, "b")] {
        let node = ca.issue_node(district, &["127.0.0.1".to_string()], Validity::days(2))?;
        write_issued(&root.join(name), "node", &node)?;
    }
    let b_officer =
        ca.issue_officer(B, "WB-9", "Bench Officer", Role::Officer, Validity::days(2))?;
    let a_officer =
        ca.issue_officer(A, "JH-9", "Bench Officer", Role::Officer, Validity::days(2))?;
    let (port_a, port_b) = (free_port()?, free_port()?);
    let peer = |district: &str, port: u16| PeerConfig {
        district: district.to_string(),
        address: format!("https://127.0.0.1:{port}"),
        ca: ca_pem.clone(),
        send: vec![SendHandling::Peers, SendHandling::Federation],
        relay_origins: vec!["*".to_string()],
    };

    // Load A's records straight into its store, signed as a running node would sign them.
    let a_data = root.join("a").join("data");
    std::fs::create_dir_all(&a_data)?;
    let cert_pem = std::fs::read(root.join("a").join("node.pem"))?;
    let key_pem = std::fs::read(root.join("a").join("node.key"))?;
    let cert_der = setu_node::trust::cert::parse_pem_certs(&cert_pem)
        .map_err(anyhow::Error::msg)?
        .into_iter()
        .next()
        .context("node certificate")?;
    let load_started = Instant::now();
    {
        let signer = Signer::load_or_create(&a_data, A, cert_der.as_ref(), &key_pem)?;
        let storage = Storage::open(&a_data, 512 * 1024 * 1024, A, Arc::new(signer))?;
        let mut sample = setu_node::sample::SampleGen::new(42);
        let mut loaded = 0;
        while loaded < records {
            let batch: Vec<_> = (0..LOAD_BATCH.min(records - loaded))
                .map(|_| {
                    let mut r = sample.person(A);
                    r.id = uuid::Uuid::now_v7().to_string();
                    r.version = 1;
                    r.handling = Handling::Federation as i32;
                    r.external_ref.clear();
                    r
                })
                .collect();
            storage.put_new_records(&batch)?;
            loaded += batch.len();
        }
        storage.flush().await?;
    }
    println!(
        "loaded {records} records into A in {:.1} s",
        load_started.elapsed().as_secs_f64()
    );
    let mut a_config = NodeConfig::new(
        A,
        a_data,
        root.join("a").join("node.pem"),
        root.join("a").join("node.key"),
        vec![setu_tests::node::state_trust(&ca_pem, A)],
    );
    a_config.listen = format!("127.0.0.1:{port_a}").parse()?;
    a_config.peers = vec![peer(B, port_b)];
    a_config.cache_mib = 512;
    let node_a = setu_node::server::start(a_config).await?;
    let a_head = node_a.storage().last_seq()?;

    // B: the real binary, fresh.
    let mut b_config = NodeConfig::new(
        B,
        root.join("b").join("data"),
        root.join("b").join("node.pem"),
        root.join("b").join("node.key"),
        vec![setu_tests::node::state_trust(&ca_pem, B)],
    );
    b_config.listen = format!("127.0.0.1:{port_b}").parse()?;
    b_config.peers = vec![peer(A, port_a)];
    std::fs::write(root.join("b").join("node.toml"), b_config.to_toml()?)?;
    let started = Instant::now();
    let mut b = tokio::process::Command::new(node_binary()?)
        .args(["serve", "--config"])
        .arg(root.join("b").join("node.toml"))
        .env(
            "SETU_LOG",
            std::env::var("SETU_BENCH_B_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let b_pid = b.id().context("B's pid")?;
    eprintln!("B spawned after {:?}", started.elapsed());
    let b_addr = format!("127.0.0.1:{port_b}");
    let mut peers = loop {
        match channel(&b_addr, &ca, &b_officer.cert_pem, &b_officer.key_pem).await {
            Ok(ch) => break PeerServiceClient::new(ch),
            Err(_) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(20)).await; // sleep-ok: poll interval while B starts
            }
            Err(e) => return Err(e),
        }
    };
    eprintln!("B reachable after {:?}", started.elapsed());
    // One pass: the watermark only ever grows, and no anti-entropy check repairs anything
    // along the way.
    let mut highest = 0;
    let mut checks = std::collections::BTreeSet::new();
    loop {
        let status = peers.list(ListPeersRequest {}).await?.into_inner();
        let applied = status
            .peers
            .iter()
            .flat_map(|p| p.watermarks.iter())
            .find(|w| w.origin == A)
            .map(|w| w.seq)
            .unwrap_or(0);
        anyhow::ensure!(
            applied >= highest,
            "B's watermark moved back from {highest} to {applied}: the catch-up restarted"
        );
        highest = applied;
        for p in &status.peers {
            if !p.anti_entropy_result.is_empty() {
                checks.insert(p.anti_entropy_result.clone());
            }
        }
        if applied >= a_head {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(3600),
            "catch-up did not finish"
        );
        tokio::time::sleep(Duration::from_millis(50)).await; // sleep-ok: poll interval of the progress check
    }
    let elapsed = started.elapsed();
    println!(
        "catch-up of {records} records A -> B over mTLS: {:.1} s = {:.0} records/s (from B's process start); B peak RSS {} MiB",
        elapsed.as_secs_f64(),
        records as f64 / elapsed.as_secs_f64(),
        proc_status_kib(b_pid, "VmHWM:").unwrap_or(0) / 1024
    );

    println!(
        "one pass: B's watermark never moved back; anti-entropy results seen during the catch-up: {checks:?}"
    );

    // B idle, holding every record: what a node spends on doing nothing. Anti-entropy
    // costs a digest exchange (measured below), not a scan, so this must not grow with
    // the number of records held.
    let idle = Duration::from_secs(if quick {
        2
    } else {
        env_usize("SETU_BENCH_IDLE_SECS", 30) as u64
    });
    // The first window holds what follows the end of the pass (its clean-up, the storage
    // engine settling after a bulk write); the second is the node at rest.
    for window in ["right after the catch-up", "at rest"] {
        let cpu_before = process_cpu(b_pid)?;
        tokio::time::sleep(idle).await; // sleep-ok: the idle window being measured
        let cpu_used = process_cpu(b_pid)? - cpu_before;
        println!(
            "B {window} with {records} records: {:.2} % of a core over {} s; RSS {} MiB",
            cpu_used.as_secs_f64() / idle.as_secs_f64() * 100.0,
            idle.as_secs(),
            proc_status_kib(b_pid, "VmRSS:").unwrap_or(0) / 1024
        );
    }

    // One digest exchange with A at this size, as B's node asks it (B's own certificate).
    let b_node_cert = std::fs::read_to_string(root.join("b").join("node.pem"))?;
    let b_node_key = std::fs::read_to_string(root.join("b").join("node.key"))?;
    let mut federation = FederationServiceClient::new(
        channel(&node_a.addr().to_string(), &ca, &b_node_cert, &b_node_key).await?,
    );
    let mut digest_times = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let answer = federation
            .digest(DigestRequest::default())
            .await?
            .into_inner();
        digest_times.push(t.elapsed());
        anyhow::ensure!(
            answer
                .digests
                .iter()
                .any(|d| d.origin == A && d.count >= records as u64),
            "A's digest covers its records"
        );
    }
    digest_times.sort();
    let a_storage = node_a.storage().clone();
    let t = Instant::now();
    let local = a_storage.digest_root(
        A,
        a_storage.epoch(),
        &[Handling::Peers as i32, Handling::Federation as i32],
    )?;
    let local_ms = t.elapsed().as_secs_f64() * 1000.0;
    println!(
        "digest exchange at {} items: p50 {:.2} ms, max {:.2} ms over mTLS (20 calls); reading the root locally {local_ms:.2} ms",
        local.count,
        percentile(&digest_times, 0.5),
        digest_times.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    );

    // Live propagation: create on A, poll Get on B until it is there.
    let mut a_records = RecordServiceClient::new(
        channel(
            &node_a.addr().to_string(),
            &ca,
            &a_officer.cert_pem,
            &a_officer.key_pem,
        )
        .await?,
    );
    let mut b_records = RecordServiceClient::new(
        channel(&b_addr, &ca, &b_officer.cert_pem, &b_officer.key_pem).await?,
    );
    let mut sample = setu_node::sample::SampleGen::new(7);
    let mut latencies = Vec::with_capacity(live);
    for _ in 0..live {
        let mut record = sample.person(A);
        record.handling = Handling::Federation as i32;
        record.external_ref.clear();
        let t = Instant::now();
        let created = a_records
            .create(CreateRecordRequest {
                record: Some(record),
            })
            .await?
            .into_inner();
        loop {
            if b_records
                .get(GetRecordRequest {
                    id: created.id.clone(),
                })
                .await
                .is_ok()
            {
                break;
            }
            anyhow::ensure!(
                t.elapsed() < Duration::from_secs(10),
                "a live change did not arrive"
            );
        }
        latencies.push(t.elapsed());
    }
    latencies.sort();
    println!(
        "live propagation A -> B (create acknowledged on A, then readable on B), {live} creates: p50 {:.2} ms, p99 {:.2} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    if quick {
        println!("(quick mode: run with `cargo bench` for the full figures)");
    }
    b.kill().await?;
    node_a.shutdown().await?;
    Ok(())
}
