//! Federation over a thin, flapping WAN link, simulated by the test proxy between two
//! real nodes (real mutual TLS, real sled): a FLASH alert posted while the peer catches up
//! on 20 000 records over 256 KiB/s reaches it within 2 s, ahead of the backlog, and is in
//! its alert feed once after the catch-up; so does a record created meanwhile; an 8 MB photo whose transfer is cut by a link
//! that drops every 5 s resumes where it stopped and arrives within 30 s of the first
//! reconnect, with at most 1.5 times its size on the wire. Both nodes run with
//! `anti_entropy_secs = 300`, so no anti-entropy tick helps.
//!
//! Waits have deadlines; nothing sleeps to synchronise.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use setu_node::sample::SampleGen;
use setu_node::storage::alerts::FeedItem;
use setu_node::storage::Storage;
use setu_proto::v1::{
    AlertCategory, AlertPriority, CreateRecordRequest, DownloadPhotoRequest, GetAlertRequest,
    Handling, PostAlertRequest,
};
use setu_tests::client::record_with_incompressible_photo;
use setu_tests::mesh::{get_record, list_peers, Mesh, MeshPlan};
use setu_tests::proxy::{LinkShape, TcpProxy};
use setu_tests::scrape::{http_get, parse};
use setu_tests::{sample_record, wait_until, Officer, Role};
use tokio_stream::StreamExt;

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";
const KIB: u64 = 1024;

/// Dhanbad and Asansol-Durgapur, each with its own state CA; Asansol reaches Dhanbad
/// through `proxy` (Dhanbad reaches Asansol directly), both with a 300 s anti-entropy period.
fn plan_through(proxy: &TcpProxy, mut plan: MeshPlan) -> anyhow::Result<MeshPlan> {
    plan.dials(DHANBAD, ASANSOL);
    plan.dials_via(ASANSOL, DHANBAD, &proxy.url());
    for district in [DHANBAD, ASANSOL] {
        plan.tune(district, |c| c.anti_entropy_secs = 300);
    }
    Ok(plan)
}

fn two_states() -> anyhow::Result<MeshPlan> {
    let mut plan = Mesh::plan()?;
    plan.ca("jh", "Test Jharkhand CA")?;
    plan.ca("wb", "Test West Bengal CA")?;
    plan.node(DHANBAD, "jh")?;
    plan.node(ASANSOL, "wb")?;
    Ok(plan)
}

/// Stores `count` fictional FEDERATION records of `origin` straight through the storage
/// layer (each signed, 500 to a transaction), then flushes, which wakes the sync streams.
async fn load_records(storage: &Storage, origin: &str, count: usize) -> anyhow::Result<()> {
    let writer = storage.clone();
    let origin = origin.to_string();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut sample = SampleGen::new(1717);
        let mut batch = Vec::with_capacity(500);
        for i in 0..count {
            let mut record = sample.person(&origin);
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

/// How far Asansol has applied Dhanbad's own changes received from Dhanbad.
fn applied_from_dhanbad(storage: &Storage) -> u64 {
    storage
        .watermarks(DHANBAD)
        .ok()
        .and_then(|w| w.into_iter().find(|w| w.origin == DHANBAD))
        .map_or(0, |w| w.seq)
}

fn flash(title: &str) -> PostAlertRequest {
    PostAlertRequest {
        priority: AlertPriority::Flash as i32,
        category: AlertCategory::Robbery as i32,
        title: title.to_string(),
        body: "Two men on a black motorcycle, heading towards the border.".to_string(),
        incident_place: "Test Nagar, near the ATM".to_string(),
        action_requested: "stop and detain; inform the originating police station".to_string(),
        targets: vec![ASANSOL.to_string()],
        expires_at_ms: setu_node::clock::now_ms() + 2 * 3_600_000,
        ..Default::default()
    }
}

async fn alert_visible(officer: &Officer, id: &str) -> bool {
    officer
        .alerts()
        .get(GetAlertRequest {
            alert_id: id.to_string(),
        })
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flash_alert_and_a_new_record_overtake_a_20_000_record_catch_up_over_256_kib_per_s(
) -> anyhow::Result<()> {
    const RECORDS: usize = 20_000;
    let plan = two_states()?;
    let proxy = TcpProxy::start_shaped(
        ([127, 0, 0, 1], plan.port(DHANBAD)).into(),
        LinkShape::throttled(256 * KIB),
    )
    .await?;
    let mesh = plan_through(&proxy, plan)?.start().await?;
    let a = mesh.node(DHANBAD);
    let b_storage = mesh.node(ASANSOL).storage().clone();
    let liaison = mesh.officer(DHANBAD, "JH-1701", Role::Liaison).await?;
    let b_officer = mesh.officer(ASANSOL, "WB-1701", Role::Officer).await?;

    // The link is down while Dhanbad loads its records, so that all of them are
    // outstanding when it comes back.
    wait_until(Duration::from_secs(30), "the link is up", || {
        let f = mesh.node(ASANSOL).federation().clone();
        async move { f.status.get(DHANBAD).connected }
    })
    .await?;
    proxy.cut();
    load_records(a.storage(), DHANBAD, RECORDS).await?;
    let head = a.storage().last_seq()?;
    proxy.heal();
    // The catch-up is under way: some records applied, most still on their way.
    wait_until(Duration::from_secs(60), "the catch-up starts", || {
        let s = b_storage.clone();
        async move { applied_from_dhanbad(&s) > 0 }
    })
    .await?;

    let posted = Instant::now();
    let alert = liaison
        .alerts()
        .post(flash("Test FLASH during catch-up"))
        .await?
        .into_inner();
    wait_until(
        Duration::from_secs(2),
        "the FLASH alert is visible on Asansol",
        || {
            let (officer, id) = (b_officer.clone(), alert.id.clone());
            async move { alert_visible(&officer, &id).await }
        },
    )
    .await?;
    let latency = posted.elapsed();
    let applied = applied_from_dhanbad(&b_storage);
    println!("FLASH alert visible on the peer {latency:?} after posting, with {applied} of {head} changes applied");
    assert!(
        applied < head / 2,
        "the alert arrived ahead of the backlog ({applied} of {head} applied)"
    );

    // Dhanbad counts the alert as delivered at once: Asansol says it holds it ahead of its
    // watermark, which the backlog still holds far below.
    wait_until(
        Duration::from_secs(5),
        "Dhanbad no longer lists the alert as undelivered",
        || {
            let officer = liaison.clone();
            async move {
                list_peers(&officer)
                    .await
                    .ok()
                    .and_then(|l| l.peers.into_iter().find(|p| p.district == ASANSOL))
                    .is_some_and(|p| p.oldest_undelivered_alert_ms == 0)
            }
        },
    )
    .await?;
    assert!(
        applied_from_dhanbad(&b_storage) < head,
        "the catch-up is still under way"
    );

    // A record created now is a live change too: it overtakes the backlog as well.
    let officer_a = mesh.officer(DHANBAD, "JH-1702", Role::Officer).await?;
    let mut live = sample_record("Test Live During Catch-up");
    live.handling = Handling::Federation as i32;
    let created = Instant::now();
    let live = officer_a
        .records()
        .create(CreateRecordRequest { record: Some(live) })
        .await?
        .into_inner();
    wait_until(
        Duration::from_secs(2),
        "the live record is readable on Asansol",
        || {
            let (officer, id) = (b_officer.clone(), live.id.clone());
            async move { get_record(&officer, &id).await.is_ok() }
        },
    )
    .await?;
    let applied = applied_from_dhanbad(&b_storage);
    println!(
        "live record readable on the peer {:?} after its creation, with {applied} of {head} changes applied",
        created.elapsed()
    );
    assert!(
        applied < head,
        "the record arrived ahead of the backlog ({applied} of {head} applied)"
    );

    // The rest of the catch-up brings the same alert again in order: it is applied once,
    // and Asansol's alert feed holds it once.
    wait_until(Duration::from_secs(180), "the catch-up completes", || {
        let s = b_storage.clone();
        async move { applied_from_dhanbad(&s) >= head }
    })
    .await?;
    let held = get_record(&b_officer, &live.id).await?;
    assert_eq!(
        held.version, live.version,
        "the live record is held as created"
    );
    let feed = b_storage.alert_feed_after(0, 1000)?;
    let entries = feed
        .iter()
        .filter(|e| matches!(&e.item, FeedItem::Alert(a) if a.id == alert.id))
        .count();
    assert_eq!(entries, 1, "the alert is in the feed once: {feed:?}");

    // What the operator sees of the link: bytes by class, reconnects.
    let peers = list_peers(&b_officer).await?;
    let link = peers
        .peers
        .iter()
        .find(|p| p.district == DHANBAD)
        .expect("Dhanbad is a peer");
    let bytes_in = |class: &str| {
        link.link_bytes
            .iter()
            .find(|b| b.class == class)
            .map_or(0, |b| b.bytes_in)
    };
    assert!(bytes_in("catch-up") > 0 && bytes_in("live") > 0, "{link:?}");
    assert!(link.reconnects_last_hour >= 1, "{link:?}");
    println!(
        "{} bytes through the proxy towards Asansol for {RECORDS} records: {} bytes per record",
        proxy.bytes_down(),
        proxy.bytes_down() / RECORDS as u64
    );
    Ok(())
}

/// Whether `officer`'s node serves the whole photo.
async fn photo_here_now(officer: &Officer, sha: &str, size: usize) -> bool {
    let Ok(response) = officer
        .photos()
        .download(DownloadPhotoRequest {
            sha256: sha.to_string(),
        })
        .await
    else {
        return false;
    };
    let mut stream = response.into_inner();
    let mut n = 0;
    while let Some(Ok(chunk)) = stream.next().await {
        n += chunk.chunk.len();
    }
    n == size
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_8_mb_photo_resumes_across_a_link_that_drops_every_5_s() -> anyhow::Result<()> {
    const PHOTO: usize = 8 * 1024 * 1024;
    let plan = two_states()?;
    let proxy = TcpProxy::start_shaped(
        ([127, 0, 0, 1], plan.port(DHANBAD)).into(),
        LinkShape::throttled(1024 * KIB),
    )
    .await?;
    let mesh = plan_through(&proxy, plan)?.start().await?;
    let a_officer = mesh.officer(DHANBAD, "JH-1702", Role::Officer).await?;
    let b_officer = mesh.officer(ASANSOL, "WB-1702", Role::Officer).await?;

    // A record with an 8 MB photo that does not compress (a PNG header, then noise).
    let (_, sha) =
        record_with_incompressible_photo(&a_officer, "Test Photo Resume Example", PHOTO, [9, 9, 9])
            .await?;

    // The link drops for 1 s every 5 s: at 1 MiB/s the photo needs two or three up-times.
    let down = Duration::from_secs(1);
    proxy.flap(Duration::from_secs(5), down);
    let flapping = Instant::now();
    wait_until(
        Duration::from_secs(10),
        "the link drops mid-transfer",
        || {
            let cuts = proxy.cuts();
            async move { cuts > 0 }
        },
    )
    .await?;
    assert!(
        !photo_here_now(&b_officer, &sha, PHOTO).await,
        "the first cut came before the photo had arrived"
    );
    let first_reconnect = flapping + Duration::from_secs(5);
    let photo_here = || {
        let (officer, sha) = (b_officer.clone(), sha.clone());
        async move { photo_here_now(&officer, &sha, PHOTO).await }
    };
    wait_until(
        Duration::from_secs(30) + first_reconnect.saturating_duration_since(Instant::now()),
        "the photo arrives within 30 s of the first reconnect",
        photo_here,
    )
    .await?;
    let arrived = flapping.elapsed();
    proxy.stop_flapping();
    // Everything that went towards Asansol since the link came up: the record, key
    // statements and TLS handshakes included.
    let on_wire = proxy.bytes_down();
    println!(
        "8 MB photo arrived {arrived:?} after the flapping began ({} cuts); {on_wire} bytes towards Asansol = {:.2}x the photo",
        proxy.cuts(),
        on_wire as f64 / PHOTO as f64
    );
    assert!(proxy.cuts() >= 1);
    assert!(
        on_wire as f64 <= 1.5 * PHOTO as f64,
        "the transfer resumed rather than restarted: {on_wire} bytes for a {PHOTO}-byte photo"
    );

    // The operator sees the photo bytes and the reconnects in Asansol's metrics.
    let response = http_get(mesh.node(ASANSOL).admin_addr(), "/metrics").await?;
    let metrics = parse(&response.body)?;
    let photo_bytes = metrics.value(
        "setu_sync_link_bytes_total",
        &[("peer", DHANBAD), ("class", "photos"), ("direction", "in")],
    )?;
    assert!(photo_bytes >= PHOTO as f64, "{photo_bytes}");
    let connections =
        metrics.value("setu_sync_peer_connections_last_hour", &[("peer", DHANBAD)])?;
    assert!(connections >= 2.0, "the link reconnected: {connections}");
    Ok(())
}
