//! Federation under failure: a `kill -9` of the real `setu-node` binary in the middle of a
//! 10 000-record catch-up loses and duplicates nothing once it restarts; a partition (a TCP
//! proxy inside the test cutting the link both ways) keeps changes on their side until it
//! heals, then both sides converge; an origin restored from an older backup under a new
//! epoch is resynced in full by its peer (what was created after the backup disappears
//! there too); and anti-entropy repairs a difference the watermarks cannot see. A node with
//! a connected peer should also stop promptly when asked (ignored for now: it does not, see
//! the test's reason; the restore test works around it by cutting the link first).
//!
//! Nodes are in-process (real mutual TLS on 127.0.0.1, real sled) except the killed one,
//! which is the real binary. Waits have deadlines; the one deliberate pause is marked.
#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use setu_node::sample::SampleGen;
use setu_node::storage::{Expect, Kind, Storage};
use setu_proto::v1::{
    CreateRecordRequest, Handling, ListRecordsRequest, PersonRecord, UpdateRecordRequest,
};
use setu_tests::bins::{write_node_config, NodeProcess};
use setu_tests::mesh::{
    get_record, list_peers, wait_for_record, wait_until_gone, Mesh, SYNC_TIMEOUT,
};
use setu_tests::proxy::TcpProxy;
use setu_tests::{connect, sample_record, wait_until, Officer, Role};
use tonic::Code;

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";

async fn create(officer: &Officer, name: &str) -> anyhow::Result<PersonRecord> {
    let mut record = sample_record(name);
    record.handling = Handling::Federation as i32;
    Ok(officer
        .records()
        .create(CreateRecordRequest {
            record: Some(record),
        })
        .await?
        .into_inner())
}

/// A plan of Dhanbad (Jharkhand CA) and Asansol-Durgapur (West Bengal CA).
fn two_states() -> anyhow::Result<setu_tests::mesh::MeshPlan> {
    let mut plan = Mesh::plan()?;
    plan.ca("jh", "Test Jharkhand CA")?;
    plan.ca("wb", "Test West Bengal CA")?;
    Ok(plan)
}

/// Stores `count` fictional FEDERATION records of `origin` straight through the storage
/// layer (each one signed in its own transaction, as the API would), then flushes, which
/// wakes the sync streams. Returns their ids.
async fn load_records(
    storage: &Storage,
    origin: &str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let writer = storage.clone();
    let origin = origin.to_string();
    let ids = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut sample = SampleGen::new(4242);
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count {
            let mut record = sample.person(&origin);
            record.id = uuid::Uuid::now_v7().to_string();
            record.origin = origin.clone();
            record.version = 1;
            record.handling = Handling::Federation as i32;
            writer.put_record(&record, Expect::Absent, &[])?;
            ids.push(record.id);
        }
        Ok(ids)
    })
    .await??;
    storage.flush().await?;
    Ok(ids)
}

/// Every id of `origin`'s records that `officer`'s node lists, page by page, and how many
/// entries the pages held in total (more than the ids would mean a duplicate).
async fn list_origin(officer: &Officer, origin: &str) -> anyhow::Result<(HashSet<String>, usize)> {
    let mut ids = HashSet::new();
    let mut entries = 0;
    let mut token = String::new();
    loop {
        let page = officer
            .records()
            .list(ListRecordsRequest {
                origins: vec![origin.to_string()],
                page_size: 500,
                page_token: token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        entries += page.records.len();
        for record in page.records {
            assert_eq!(record.origin, origin);
            ids.insert(record.id);
        }
        if page.next_page_token.is_empty() {
            return Ok((ids, entries));
        }
        token = page.next_page_token;
    }
}

/// B's watermark for A's changes received from A, as B's `PeerService/List` reports it.
async fn watermark_via_peers(officer: &Officer, peer: &str) -> Option<u64> {
    let list = list_peers(officer).await.ok()?;
    let status = list.peers.into_iter().find(|p| p.district == peer)?;
    Some(
        status
            .watermarks
            .iter()
            .find(|w| w.origin == peer)
            .map(|w| w.seq)
            .unwrap_or(0),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_10_000_record_catch_up_loses_and_duplicates_nothing() -> anyhow::Result<()>
{
    const TOTAL: usize = 10_000;
    // A runs in-process; B is the real binary, configured through a node.toml.
    let mut plan = two_states()?;
    plan.node(DHANBAD, "jh")?;
    plan.external(ASANSOL, "wb")?;
    plan.peers(DHANBAD, ASANSOL);
    let b_config = plan.config(ASANSOL);
    let mesh = plan.start().await?;
    let b_dir = mesh.dir().join(ASANSOL);
    std::fs::create_dir_all(&b_dir)?;
    let b_toml = b_dir.join("node.toml");
    write_node_config(&b_toml, &b_config)?;
    mesh.external(ASANSOL).release_port()?;

    let a = mesh.node(DHANBAD);
    let started = Instant::now();
    let ids = load_records(a.storage(), DHANBAD, TOTAL).await?;
    let head = a.storage().last_seq()?;
    assert_eq!(head, TOTAL as u64);
    println!("loaded {TOTAL} records on A in {:?}", started.elapsed());

    let b_ca = mesh.ca("wb").cert_path();
    let b_officer_cert = mesh.ca("wb").officer(ASANSOL, "WB-9101", Role::Officer)?;
    let started = Instant::now();
    let b = NodeProcess::start(&b_toml, &b_dir.join("node-1.log")).await?;
    let officer = Officer {
        channel: connect(b.addr(), &b_ca, Some(&b_officer_cert)).await?,
        cert: b_officer_cert.clone(),
        label: "WB-9101 (wb-asansol-durgapur)".to_string(),
    };
    wait_until(
        SYNC_TIMEOUT,
        "B has applied some of A's records",
        || async { watermark_via_peers(&officer, DHANBAD).await.unwrap_or(0) > 0 },
    )
    .await?;
    let at_kill = watermark_via_peers(&officer, DHANBAD).await.unwrap_or(0);
    let status = b.kill9().await?;
    println!(
        "killed B (kill -9: {status:?}) with its watermark for A at {at_kill} of {TOTAL}, {:?} after start",
        started.elapsed()
    );
    assert!(
        at_kill < TOTAL as u64,
        "the kill came in the middle of the catch-up"
    );

    // Restart the binary on the same data dir and port.
    let started = Instant::now();
    let b = NodeProcess::start(&b_toml, &b_dir.join("node-2.log")).await?;
    let officer = Officer {
        channel: connect(b.addr(), &b_ca, Some(&b_officer_cert)).await?,
        cert: b_officer_cert,
        label: "WB-9101 (wb-asansol-durgapur)".to_string(),
    };
    let resumed_at = watermark_via_peers(&officer, DHANBAD).await.unwrap_or(0);
    wait_until(
        Duration::from_secs(40),
        "B's watermark for A reaches A's last sequence",
        || async { watermark_via_peers(&officer, DHANBAD).await == Some(head) },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}\nB's log:\n{}", b.log()))?;
    println!(
        "B resumed at {resumed_at} and caught up in {:?}",
        started.elapsed()
    );

    let (listed, entries) = list_origin(&officer, DHANBAD).await?;
    assert_eq!(entries, TOTAL, "B lists each of A's records once");
    let expected: HashSet<String> = ids.into_iter().collect();
    assert_eq!(listed.len(), TOTAL, "no record lost");
    assert!(listed == expected, "B holds exactly A's records");
    let peers = list_peers(&officer).await?;
    let a_status = peers
        .peers
        .iter()
        .find(|p| p.district == DHANBAD)
        .expect("A is B's peer");
    assert_eq!(a_status.lag_in, 0, "{a_status:?}");
    b.kill9().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_holds_changes_back_and_both_sides_converge_when_it_heals() -> anyhow::Result<()>
{
    let mut plan = two_states()?;
    plan.node(DHANBAD, "jh")?;
    plan.node(ASANSOL, "wb")?;
    // Each node dials the other through a proxy in the test.
    let to_a = TcpProxy::start(([127, 0, 0, 1], plan.port(DHANBAD)).into()).await?;
    let to_b = TcpProxy::start(([127, 0, 0, 1], plan.port(ASANSOL)).into()).await?;
    plan.dials_via(DHANBAD, ASANSOL, &to_b.url());
    plan.dials_via(ASANSOL, DHANBAD, &to_a.url());
    let mesh = plan.start().await?;
    let a = mesh.officer(DHANBAD, "JH-9201", Role::Officer).await?;
    let b = mesh.officer(ASANSOL, "WB-9301", Role::Officer).await?;

    // The link works through the proxies.
    let from_a = create(&a, "Test Before Partition Example").await?;
    let from_b = create(&b, "Test Other Side Example").await?;
    wait_for_record(&b, &from_a.id, "A's record reaches B", |_| true).await?;
    wait_for_record(&a, &from_b.id, "B's record reaches A", |_| true).await?;
    assert!(to_a.forwarded() > 0 && to_b.forwarded() > 0);

    // Partition: both links drop.
    to_a.cut();
    to_b.cut();
    let (fa, fb) = (
        mesh.node(DHANBAD).federation().clone(),
        mesh.node(ASANSOL).federation().clone(),
    );
    wait_until(SYNC_TIMEOUT, "both links notice the partition", || {
        let (fa, fb) = (fa.clone(), fb.clone());
        async move { !fa.status.get(ASANSOL).connected && !fb.status.get(DHANBAD).connected }
    })
    .await?;

    // Changes on both sides while partitioned.
    let new_on_a = create(&a, "Test During Partition Example").await?;
    let mut change = from_a.clone();
    change.aliases.push("Partition Alias Test".to_string());
    let updated_on_a = a
        .records()
        .update(UpdateRecordRequest {
            record: Some(change),
            expected_version: from_a.version,
        })
        .await?
        .into_inner();
    let new_on_b = create(&b, "Test Far Side Example").await?;
    // Both sides try to reconnect and are refused, at least once each after the changes.
    let (refused_a, refused_b) = (to_a.refused(), to_b.refused());
    wait_until(
        SYNC_TIMEOUT,
        "both sides retry into the partition",
        || async { to_a.refused() > refused_a && to_b.refused() > refused_b },
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(300)).await; // sleep-ok: hold the partition a moment
    assert_eq!(
        get_record(&b, &new_on_a.id).await.map_err(|s| s.code()),
        Err(Code::NotFound),
        "A's new record did not cross"
    );
    assert_eq!(
        get_record(&b, &from_a.id).await?.version,
        1,
        "nor did A's update"
    );
    assert_eq!(
        get_record(&a, &new_on_b.id).await.map_err(|s| s.code()),
        Err(Code::NotFound),
        "B's new record did not cross"
    );
    let link = fb.status.get(DHANBAD);
    assert!(!link.connected && !link.last_error.is_empty(), "{link:?}");

    // Heal: both converge.
    let healed = Instant::now();
    to_a.heal();
    to_b.heal();
    let at_b = wait_for_record(
        &b,
        &new_on_a.id,
        "A's new record reaches B after healing",
        |_| true,
    )
    .await?;
    assert_eq!(at_b, new_on_a);
    let at_b = wait_for_record(&b, &from_a.id, "A's update reaches B", |r| r.version == 2).await?;
    assert_eq!(at_b, updated_on_a);
    let at_a = wait_for_record(
        &a,
        &new_on_b.id,
        "B's new record reaches A after healing",
        |_| true,
    )
    .await?;
    assert_eq!(at_a, new_on_b);
    println!("converged {:?} after healing", healed.elapsed());
    wait_until(SYNC_TIMEOUT, "both links are up again", || {
        let (fa, fb) = (fa.clone(), fb.clone());
        async move { fa.status.get(ASANSOL).connected && fb.status.get(DHANBAD).connected }
    })
    .await?;
    Ok(())
}

/// Copies a folder tree (a database backup).
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_restored_from_a_backup_is_resynced_under_its_new_epoch() -> anyhow::Result<()> {
    let mut plan = two_states()?;
    plan.node(DHANBAD, "jh")?;
    plan.node(ASANSOL, "wb")?;
    // B reaches A through a proxy, cut while A is stopped: a node does not stop while a
    // peer's sync stream is open (see `a_node_with_a_connected_peer_stops_promptly`).
    let to_a = TcpProxy::start(([127, 0, 0, 1], plan.port(DHANBAD)).into()).await?;
    plan.dials(DHANBAD, ASANSOL);
    plan.dials_via(ASANSOL, DHANBAD, &to_a.url());
    let mut mesh = plan.start().await?;
    let b = mesh.officer(ASANSOL, "WB-9501", Role::Officer).await?;
    let b_federation = mesh.node(ASANSOL).federation().clone();
    let b_disconnected = || {
        let b_federation = b_federation.clone();
        async move { !b_federation.status.get(DHANBAD).connected }
    };
    let data_dir = mesh.node(DHANBAD).config().data_dir.clone();
    let backup = mesh.dir().join("dhanbad-backup");

    // Records from before the backup, synced to B.
    let mut kept = Vec::new();
    {
        let a = mesh.officer(DHANBAD, "JH-9401", Role::Officer).await?;
        for name in [
            "Test Old One Example",
            "Test Old Two Example",
            "Test Old Three Example",
        ] {
            kept.push(create(&a, name).await?);
        }
    }
    for record in &kept {
        wait_for_record(&b, &record.id, "an old record reaches B", |_| true).await?;
    }
    let old_epoch = mesh.node(DHANBAD).storage().epoch();

    // The backup: A stopped, its data folder copied, A started again.
    to_a.cut();
    wait_until(SYNC_TIMEOUT, "B's link to A is down", b_disconnected).await?;
    mesh.node_mut(DHANBAD).stop().await?;
    copy_dir(&data_dir, &backup)?;
    mesh.node_mut(DHANBAD).start_again().await?;
    to_a.heal();

    // Records created after the backup, synced to B as well.
    let mut lost = Vec::new();
    {
        let a = mesh.officer(DHANBAD, "JH-9402", Role::Officer).await?;
        for name in ["Test After Backup Example", "Test Also Lost Example"] {
            lost.push(create(&a, name).await?);
        }
    }
    for record in &lost {
        wait_for_record(&b, &record.id, "a newer record reaches B", |_| true).await?;
    }

    // Disaster: A comes back from the backup, under a new epoch.
    to_a.cut();
    wait_until(SYNC_TIMEOUT, "B's link to A is down", b_disconnected).await?;
    mesh.node_mut(DHANBAD).stop().await?;
    std::fs::remove_dir_all(&data_dir)?;
    copy_dir(&backup, &data_dir)?;
    let new_epoch = Storage::renew_epoch(&data_dir, DHANBAD)?;
    assert_ne!(new_epoch, old_epoch);
    mesh.node_mut(DHANBAD).start_again().await?;
    to_a.heal();
    assert_eq!(mesh.node(DHANBAD).storage().epoch(), new_epoch);

    // B resyncs A in full: the records created after the backup are gone, the rest stay.
    for record in &lost {
        wait_until_gone(
            &b,
            &record.id,
            "B drops a record the restored A no longer has",
        )
        .await?;
    }
    for record in &kept {
        assert_eq!(&get_record(&b, &record.id).await?, record);
    }
    let b_storage = mesh.node(ASANSOL).storage();
    wait_until(
        SYNC_TIMEOUT,
        "B holds A's items under the new epoch only",
        || async {
            b_storage
                .items_of_origin(DHANBAD)
                .map(|items| {
                    items.len() == kept.len() && items.iter().all(|(_, _, s)| s.epoch == new_epoch)
                })
                .unwrap_or(false)
        },
    )
    .await?;
    let mut held: Vec<String> = b_storage
        .items_of_origin(DHANBAD)?
        .into_iter()
        .map(|(_, id, _)| id)
        .collect();
    held.sort();
    let mut expected: Vec<String> = kept.iter().map(|r| r.id.clone()).collect();
    expected.sort();
    assert_eq!(held, expected, "B holds exactly the restored A's records");
    assert_eq!(
        b_storage.origin_info(DHANBAD)?.map(|o| o.epoch),
        Some(new_epoch)
    );

    // And life goes on: a new record of the restored A reaches B.
    let a = mesh.officer(DHANBAD, "JH-9403", Role::Officer).await?;
    let fresh = create(&a, "Test After Restore Example").await?;
    assert_eq!(
        wait_for_record(&b, &fresh.id, "a post-restore record reaches B", |_| true).await?,
        fresh
    );
    for record in &lost {
        assert_eq!(
            get_record(&b, &record.id).await.map_err(|s| s.code()),
            Err(Code::NotFound)
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anti_entropy_repairs_what_the_watermarks_cannot_see() -> anyhow::Result<()> {
    let mut plan = two_states()?;
    plan.node(DHANBAD, "jh")?;
    plan.node(ASANSOL, "wb")?;
    plan.peers(DHANBAD, ASANSOL);
    plan.tune(ASANSOL, |config| config.anti_entropy_secs = 1);
    let mesh = plan.start().await?;
    let a = mesh.officer(DHANBAD, "JH-9601", Role::Officer).await?;
    let b = mesh.officer(ASANSOL, "WB-9701", Role::Officer).await?;
    let mut records = Vec::new();
    for name in [
        "Test Entropy One Example",
        "Test Entropy Two Example",
        "Test Entropy Three Example",
    ] {
        records.push(create(&a, name).await?);
    }
    for record in &records {
        wait_for_record(&b, &record.id, "A's record reaches B", |_| true).await?;
    }
    let b_node = mesh.node(ASANSOL);
    let watermarks = b_node.storage().watermarks(DHANBAD)?;

    // Behind B's back, one of A's records disappears from B's database.
    let victim = &records[1];
    let dropped = b_node
        .storage()
        .drop_items(&[(Kind::Record, victim.id.clone())])?;
    assert_eq!(dropped, 1);
    b_node.storage().flush().await?;
    assert_eq!(
        get_record(&b, &victim.id).await.map_err(|s| s.code()),
        Err(Code::NotFound)
    );
    assert_eq!(
        b_node.storage().watermarks(DHANBAD)?,
        watermarks,
        "the watermarks cannot see the loss"
    );

    // Watch the anti-entropy result while waiting for the repair.
    let federation = b_node.federation().clone();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let watcher = {
        let (federation, seen) = (federation.clone(), seen.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(10));
            loop {
                every.tick().await;
                let result = federation.status.get(DHANBAD).anti_entropy_result;
                {
                    let mut seen = seen.lock().expect("seen");
                    if seen.last() != Some(&result) {
                        seen.push(result);
                    }
                }
            }
        })
    };
    let back = wait_for_record(
        &b,
        &victim.id,
        "anti-entropy brings the record back",
        |_| true,
    )
    .await?;
    assert_eq!(&back, victim);
    wait_until(
        SYNC_TIMEOUT,
        "the next anti-entropy check finds the peers in sync",
        || {
            let federation = federation.clone();
            async move {
                federation
                    .status
                    .get(DHANBAD)
                    .anti_entropy_result
                    .starts_with("in sync")
            }
        },
    )
    .await?;
    watcher.abort();
    let seen = seen.lock().expect("seen").clone();
    println!("anti-entropy results seen on B: {seen:?}");
    assert!(
        seen.iter()
            .any(|r| r.contains(&format!("{DHANBAD} repaired 1 "))),
        "B reported the repair of the one item that differed: {seen:?}"
    );
    let link = federation.status.get(DHANBAD);
    assert!(
        !link.anti_entropy_result.is_empty() && link.anti_entropy_at_ms > 0,
        "{link:?}"
    );
    for record in &records {
        assert_eq!(&get_record(&b, &record.id).await?, record);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_a_connected_peer_stops_promptly() -> anyhow::Result<()> {
    let mut plan = two_states()?;
    plan.node(DHANBAD, "jh")?;
    plan.node(ASANSOL, "wb")?;
    plan.peers(DHANBAD, ASANSOL);
    let mut mesh = plan.start().await?;
    let (fa, fb) = (
        mesh.node(DHANBAD).federation().clone(),
        mesh.node(ASANSOL).federation().clone(),
    );
    wait_until(SYNC_TIMEOUT, "both links are up", || {
        let (fa, fb) = (fa.clone(), fb.clone());
        async move { fa.status.get(ASANSOL).connected && fb.status.get(DHANBAD).connected }
    })
    .await?;
    let started = Instant::now();
    let stopped =
        tokio::time::timeout(Duration::from_secs(10), mesh.node_mut(DHANBAD).stop()).await;
    assert!(
        stopped.is_ok(),
        "A did not stop within 10 s while B's sync stream to it was open"
    );
    stopped??;
    println!("A stopped in {:?}", started.elapsed());
    Ok(())
}
