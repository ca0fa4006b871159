//! Benchmark of writes: `Create` over mutual TLS from 1 and 16 concurrent clients (ops/s,
//! p50/p99 latency, every write flushed before it is acknowledged), and storage-layer
//! inserts of 100 000 records (records/s).
//!
//! Run with `cargo bench -p setu-tests --bench create`. Options through the environment:
//! `SETU_BENCH_CREATES` (creates per client run, default 2000) and `SETU_BENCH_STORAGE`
//! (storage-layer records, default 100000).

use anyhow::Context;
use setu_node::config::NodeConfig;
use setu_node::federation::keys::Signer;
use setu_node::storage::{Expect, Storage};
use setu_node::trust::identity::Role;
use setu_node::trust::pki::{write_issued, Ca, Validity};
use setu_proto::v1::record_service_client::RecordServiceClient;
use setu_proto::v1::CreateRecordRequest;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn storage_insert(records: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // Local writes are signed as they commit, as in a real node.
    let ca = Ca::generate("Bench CA")?;
    let node = ca.issue_node("jh-dhanbad", &["127.0.0.1".to_string()], Validity::days(2))?;
    let cert_der = setu_node::trust::cert::parse_pem_certs(node.cert_pem.as_bytes())
        .map_err(anyhow::Error::msg)?
        .into_iter()
        .next()
        .context("node certificate")?;
    let signer = Signer::from_seed(
        [7; 32],
        "jh-dhanbad",
        cert_der.as_ref(),
        node.key_pem.as_bytes(),
    )?;
    let storage = Storage::open(
        dir.path(),
        256 * 1024 * 1024,
        "jh-dhanbad",
        Arc::new(signer),
    )?;
    let mut sample = setu_node::sample::SampleGen::new(1);
    let items: Vec<_> = (0..records)
        .map(|_| {
            let mut r = sample.person("jh-dhanbad");
            r.id = uuid::Uuid::now_v7().to_string();
            r.version = 1;
            r
        })
        .collect();
    let started = Instant::now();
    for r in &items {
        storage.put_record(r, Expect::Absent, &[])?;
    }
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    rt.block_on(storage.flush())?;
    let elapsed = started.elapsed();
    println!(
        "storage put_record (one signed transaction each, one flush at the end): {records} records in {:.2} s = {:.0} records/s; on disk {:.1} MiB",
        elapsed.as_secs_f64(),
        records as f64 / elapsed.as_secs_f64(),
        storage.size_on_disk()? as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

async fn grpc_creates(concurrency: usize, total: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let ca = Ca::generate("Bench CA")?;
    ca.save(&dir.path().join("ca"))?;
    let node = ca.issue_node("jh-dhanbad", &["127.0.0.1".to_string()], Validity::days(2))?;
    write_issued(dir.path(), "node", &node)?;
    let officer = ca.issue_officer(
        "jh-dhanbad",
        "JH-9",
        "Bench Officer",
        Role::Officer,
        Validity::days(2),
    )?;
    let mut config = NodeConfig::new(
        "jh-dhanbad",
        dir.path().join("data"),
        dir.path().join("node.pem"),
        dir.path().join("node.key"),
        vec![setu_tests::node::state_trust(
            &dir.path().join("ca").join("ca.pem"),
            "jh-dhanbad",
        )],
    );
    config.listen = "127.0.0.1:0".parse()?;
    let running = setu_node::server::start(config).await?;
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca.cert_pem()))
        .identity(Identity::from_pem(&officer.cert_pem, &officer.key_pem))
        .domain_name("127.0.0.1");
    let endpoint = Endpoint::from_shared(format!("https://{}", running.addr()))?.tls_config(tls)?;
    let per_client = total / concurrency;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..concurrency {
        let channel = endpoint.connect().await.context("connect")?;
        tasks.push(tokio::spawn(async move {
            let mut client = RecordServiceClient::new(channel);
            let mut sample = setu_node::sample::SampleGen::new(c as u64);
            let mut latencies = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                let mut record = sample.person("jh-dhanbad");
                // Each client's generator numbers its dossiers from 1: drop them so the
                // clients do not collide on the unique external reference.
                record.external_ref.clear();
                let t = Instant::now();
                client
                    .create(CreateRecordRequest {
                        record: Some(record),
                    })
                    .await?;
                latencies.push(t.elapsed());
            }
            Ok::<_, tonic::Status>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    println!(
        "Create over mTLS, {concurrency:>2} client(s): {} creates in {:.2} s = {:.0} ops/s; p50 {:.2} ms, p99 {:.2} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
    );
    running.shutdown().await?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // `cargo test --benches` runs bench binaries with `--bench` absent; stay quick then.
    let quick = !std::env::args().any(|a| a == "--bench");
    setu_node::net::tls::install_crypto_provider();
    let creates = if quick {
        32
    } else {
        env_usize("SETU_BENCH_CREATES", 2000)
    };
    let storage = if quick {
        1000
    } else {
        env_usize("SETU_BENCH_STORAGE", 100_000)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(grpc_creates(1, creates))?;
    rt.block_on(grpc_creates(16, creates))?;
    storage_insert(storage)?;
    Ok(())
}
