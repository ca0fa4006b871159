//! Benchmark of federation over a thin WAN link (the test proxy between two in-process
//! nodes, real mutual TLS): bytes per record on the wire during a catch-up, the catch-up's
//! time over 1 MiB/s in one pass, FLASH alert latency (p50/p99) during that catch-up, and
//! the completion time of an 8 MB photo over a link that drops for 1 s every 5 s.
//!
//! Run with `cargo bench -p setu-tests --bench link`. `SETU_BENCH_LINK_RECORDS` sets the
//! number of records (default 100 000), `SETU_BENCH_LINK_ALERTS` the number of alerts
//! (default 20). Without `--bench` (as `cargo test` runs it) a quick mode uses small counts.

use std::time::{Duration, Instant};

use setu_node::sample::SampleGen;
use setu_node::storage::Storage;
use setu_proto::v1::{
    AlertCategory, AlertPriority, DownloadPhotoRequest, GetAlertRequest, Handling, PostAlertRequest,
};
use setu_tests::bench::{env_usize, percentile};
use setu_tests::client::record_with_incompressible_photo;
use setu_tests::mesh::{list_peers, Mesh};
use setu_tests::proxy::{LinkShape, TcpProxy};
use setu_tests::{Officer, Role};
use tokio_stream::StreamExt;

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";
const MIB: u64 = 1024 * 1024;

fn main() -> anyhow::Result<()> {
    let quick = !std::env::args().any(|a| a == "--bench");
    setu_node::net::tls::install_crypto_provider();
    let (records, alerts, photo) = if quick {
        (2_000, 3, 2 * MIB as usize)
    } else {
        (
            env_usize("SETU_BENCH_LINK_RECORDS", 100_000),
            env_usize("SETU_BENCH_LINK_ALERTS", 20),
            8 * MIB as usize,
        )
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        catch_up(records, alerts).await?;
        photo_over_flapping_link(photo).await?;
        if quick {
            println!("(quick mode: run with `cargo bench` for the full figures)");
        }
        Ok(())
    })
}

/// Two districts, each with its own CA; Asansol pulls from Dhanbad through a proxy
/// passing 1 MiB/s each way; anti-entropy every 300 s.
async fn mesh_through_proxy() -> anyhow::Result<(Mesh, TcpProxy)> {
    let mut plan = Mesh::plan()?;
    plan.ca("jh", "Bench Jharkhand CA")?;
    plan.ca("wb", "Bench West Bengal CA")?;
    plan.node(DHANBAD, "jh")?;
    plan.node(ASANSOL, "wb")?;
    let proxy = TcpProxy::start_shaped(
        ([127, 0, 0, 1], plan.port(DHANBAD)).into(),
        LinkShape::throttled(MIB),
    )
    .await?;
    plan.dials(DHANBAD, ASANSOL);
    plan.dials_via(ASANSOL, DHANBAD, &proxy.url());
    for district in [DHANBAD, ASANSOL] {
        plan.tune(district, |c| c.anti_entropy_secs = 300);
    }
    Ok((plan.start().await?, proxy))
}

async fn load_records(storage: &Storage, count: usize) -> anyhow::Result<()> {
    let writer = storage.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut sample = SampleGen::new(4217);
        // In batches of 500, one transaction each, as an import stores them.
        let mut batch = Vec::with_capacity(500);
        for i in 0..count {
            let mut record = sample.person(DHANBAD);
            record.id = uuid::Uuid::now_v7().to_string();
            record.version = 1;
            record.handling = Handling::Federation as i32;
            record.external_ref.clear();
            batch.push(record);
            if batch.len() == 500 || i + 1 == count {
                writer.put_new_records(&batch)?;
                batch.clear();
            }
        }
        Ok(())
    })
    .await??;
    storage.flush().await?;
    Ok(())
}

fn applied(storage: &Storage) -> u64 {
    storage
        .watermarks(DHANBAD)
        .ok()
        .and_then(|w| w.into_iter().find(|w| w.origin == DHANBAD))
        .map_or(0, |w| w.seq)
}

async fn catch_up(records: usize, alerts: usize) -> anyhow::Result<()> {
    let (mesh, proxy) = mesh_through_proxy().await?;
    let a = mesh.node(DHANBAD);
    let b_storage = mesh.node(ASANSOL).storage().clone();
    let liaison = mesh.officer(DHANBAD, "JH-1790", Role::Liaison).await?;
    let b_officer = mesh.officer(ASANSOL, "WB-1790", Role::Officer).await?;
    let b_federation = mesh.node(ASANSOL).federation().clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !b_federation.status.get(DHANBAD).connected {
        anyhow::ensure!(Instant::now() < deadline, "the link did not come up");
        tokio::time::sleep(Duration::from_millis(20)).await; // sleep-ok: poll interval
    }

    // Loaded while the link is down, so that every record is outstanding when it heals.
    proxy.cut();
    let loading = Instant::now();
    load_records(a.storage(), records).await?;
    let head = a.storage().last_seq()?;
    println!(
        "loaded {records} records into Dhanbad in {:.1} s",
        loading.elapsed().as_secs_f64()
    );
    let bytes_before = proxy.bytes_down();
    let catch_up_before = catch_up_bytes_in(&b_officer).await?;
    let started = Instant::now();
    proxy.heal();

    // FLASH alerts during the catch-up, one at a time, each timed until Asansol serves it.
    let mut latencies = Vec::new();
    let mut highest = 0;
    for i in 0..alerts {
        while applied(&b_storage) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await; // sleep-ok: poll interval
        }
        let posted = Instant::now();
        let alert = liaison
            .alerts()
            .post(flash(&format!("Bench FLASH {i}")))
            .await?
            .into_inner();
        loop {
            let seen = b_officer
                .alerts()
                .get(GetAlertRequest {
                    alert_id: alert.id.clone(),
                })
                .await
                .is_ok();
            if seen {
                break;
            }
            anyhow::ensure!(
                posted.elapsed() < Duration::from_secs(60),
                "alert {i} did not arrive"
            );
            tokio::time::sleep(Duration::from_millis(2)).await; // sleep-ok: poll interval
        }
        latencies.push(posted.elapsed());
        let now = applied(&b_storage);
        anyhow::ensure!(
            now >= highest,
            "the watermark moved back: the catch-up restarted"
        );
        highest = now;
        tokio::time::sleep(Duration::from_millis(200)).await; // sleep-ok: spacing between alerts
    }
    let during = applied(&b_storage) < head;
    loop {
        let now = applied(&b_storage);
        anyhow::ensure!(
            now >= highest,
            "the watermark moved back: the catch-up restarted"
        );
        highest = now;
        if now >= head {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(3600),
            "the catch-up did not finish"
        );
        tokio::time::sleep(Duration::from_millis(20)).await; // sleep-ok: poll interval
    }
    let elapsed = started.elapsed();
    let wire = proxy.bytes_down() - bytes_before;
    let messages = catch_up_bytes_in(&b_officer).await? - catch_up_before;
    println!(
        "catch-up of {records} records over 1 MiB/s: {:.1} s in one pass ({:.0} records/s)",
        elapsed.as_secs_f64(),
        records as f64 / elapsed.as_secs_f64()
    );
    println!(
        "bytes per record: {:.0} on the wire (TLS, HTTP/2, zstd as negotiated; the proxy's count towards the receiver, alerts included); {:.0} of sync messages before compression",
        wire as f64 / records as f64,
        messages as f64 / records as f64
    );
    latencies.sort();
    println!(
        "FLASH alert latency during the catch-up ({} alerts{}): p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        if during {
            ", all before it ended"
        } else {
            "; the catch-up ended first"
        },
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    Ok(())
}

/// The bytes of catch-up sync messages Asansol has received from Dhanbad.
async fn catch_up_bytes_in(officer: &Officer) -> anyhow::Result<u64> {
    let peers = list_peers(officer).await?;
    Ok(peers
        .peers
        .iter()
        .find(|p| p.district == DHANBAD)
        .and_then(|p| p.link_bytes.iter().find(|b| b.class == "catch-up"))
        .map_or(0, |b| b.bytes_in))
}

fn flash(title: &str) -> PostAlertRequest {
    PostAlertRequest {
        priority: AlertPriority::Flash as i32,
        category: AlertCategory::Robbery as i32,
        title: title.to_string(),
        body: "Two men on a black motorcycle, heading towards the border.".to_string(),
        incident_place: "Bench Nagar, near the ATM".to_string(),
        action_requested: "stop and detain; inform the originating police station".to_string(),
        targets: vec![ASANSOL.to_string()],
        expires_at_ms: setu_node::clock::now_ms() + 2 * 3_600_000,
        ..Default::default()
    }
}

async fn photo_over_flapping_link(size: usize) -> anyhow::Result<()> {
    let (mesh, proxy) = mesh_through_proxy().await?;
    let a = mesh.officer(DHANBAD, "JH-1791", Role::Officer).await?;
    let b = mesh.officer(ASANSOL, "WB-1791", Role::Officer).await?;
    // Counted from before the upload: Asansol may start fetching as soon as it is stored.
    let bytes_before = proxy.bytes_down();
    let started = Instant::now();
    let (_, sha) =
        record_with_incompressible_photo(&a, "Bench Photo Example", size, [3, 1, 4]).await?;
    proxy.flap(Duration::from_secs(5), Duration::from_secs(1));
    loop {
        if let Ok(response) = b
            .photos()
            .download(DownloadPhotoRequest {
                sha256: sha.clone(),
            })
            .await
        {
            let mut stream = response.into_inner();
            let mut n = 0;
            while let Some(Ok(chunk)) = stream.next().await {
                n += chunk.chunk.len();
            }
            if n == size {
                break;
            }
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(300),
            "the photo did not arrive"
        );
        tokio::time::sleep(Duration::from_millis(50)).await; // sleep-ok: poll interval
    }
    let elapsed = started.elapsed();
    let cuts = proxy.cuts();
    proxy.stop_flapping();
    let wire = proxy.bytes_down() - bytes_before;
    println!(
        "{:.1} MB photo over 1 MiB/s dropping 1 s every 5 s: complete after {:.1} s ({cuts} drops), {:.2}x its size on the wire",
        size as f64 / 1e6,
        elapsed.as_secs_f64(),
        wire as f64 / size as f64
    );
    Ok(())
}
