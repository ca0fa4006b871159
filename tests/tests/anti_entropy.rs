//! Anti-entropy that never undoes progress: a fresh peer catching up a large district while
//! a digest check runs every second finishes in one pass, its watermark never moving back;
//! and after a partition with random creates, updates and expunges on both sides, the
//! incremental bucket digests and the data agree again.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use setu_node::storage::digest::Bucket;
use setu_node::storage::Storage;
use setu_proto::v1::{
    CreateRecordRequest, DeleteRecordRequest, Handling, ListRecordsRequest, PersonRecord,
    PersonStatus, UpdateRecordRequest,
};
use setu_tests::mesh::Mesh;
use setu_tests::proxy::TcpProxy;
use setu_tests::{sample_record, wait_until, Officer, Role};

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";
const CATCH_UP_RECORDS: usize = 50_000;

/// The handling codes a peer gets in full by default.
const SHARED: [i32; 2] = [Handling::Peers as i32, Handling::Federation as i32];

/// `origin`'s digest as `storage` holds it.
fn root(storage: &Storage, origin: &str, epoch: u64) -> Bucket {
    storage
        .digest_root(origin, epoch, &SHARED)
        .expect("a digest")
}

/// The watermark `storage` holds for (`peer`, `origin`).
fn watermark(storage: &Storage, peer: &str, origin: &str) -> u64 {
    storage
        .watermarks(peer)
        .expect("watermarks")
        .iter()
        .find(|w| w.origin == origin)
        .map_or(0, |w| w.seq)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_peer_catches_up_in_one_pass_while_anti_entropy_checks_every_second(
) -> anyhow::Result<()> {
    let mut plan = Mesh::two_states(DHANBAD, ASANSOL)?;
    plan.tune(ASANSOL, |c| c.anti_entropy_secs = 1);
    let mut mesh = plan.start().await?;

    // Asansol is down, with an empty data folder, while Dhanbad fills up.
    mesh.node_mut(ASANSOL).stop().await?;
    let asansol_data = mesh.node(ASANSOL).config().data_dir.clone();
    std::fs::remove_dir_all(&asansol_data)?;
    let dhanbad = mesh.node(DHANBAD).storage().clone();
    let mut sample = setu_node::sample::SampleGen::new(12);
    let mut batch = Vec::with_capacity(1000);
    for _ in 0..CATCH_UP_RECORDS {
        let mut record = sample.person(DHANBAD);
        record.id = uuid::Uuid::now_v7().to_string();
        record.version = 1;
        record.handling = Handling::Federation as i32;
        record.external_ref.clear();
        batch.push(record);
        if batch.len() == 1000 {
            dhanbad.put_new_records(&batch)?;
            batch.clear();
        }
    }
    dhanbad.flush().await?;
    let epoch = dhanbad.epoch();
    let expected = root(&dhanbad, DHANBAD, epoch);
    assert!(expected.count >= CATCH_UP_RECORDS as u64);

    mesh.node_mut(ASANSOL).start_again().await?;
    let asansol = mesh.node(ASANSOL).storage().clone();
    let status = mesh.node(ASANSOL).federation().clone();
    let seen = Arc::new(Mutex::new((0u64, false, Vec::<String>::new())));
    wait_until(
        Duration::from_secs(300),
        "Asansol holds all of Dhanbad's records",
        || {
            let (asansol, status, seen) = (asansol.clone(), status.clone(), seen.clone());
            async move {
                let now = watermark(&asansol, DHANBAD, DHANBAD);
                let result = status.status.get(DHANBAD).anti_entropy_result;
                let mut seen = seen.lock().expect("samples");
                if now < seen.0 {
                    let before = seen.0;
                    seen.2
                        .push(format!("the watermark moved back from {before} to {now}"));
                }
                seen.0 = seen.0.max(now);
                if result.contains("catching up") {
                    seen.1 = true;
                }
                if result.contains("repaired") {
                    seen.2
                        .push(format!("a check repaired during the catch-up: {result}"));
                }
                root(&asansol, DHANBAD, epoch) == expected
            }
        },
    )
    .await?;
    let (_, checked_midway, problems) = seen.lock().expect("samples").clone();
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        checked_midway,
        "an anti-entropy check ran while the catch-up was in progress"
    );
    // One more check, now caught up, finds the two in sync.
    wait_until(
        Duration::from_secs(30),
        "a check finds them in sync",
        || {
            let status = status.clone();
            async move {
                status
                    .status
                    .get(DHANBAD)
                    .anti_entropy_result
                    .starts_with("in sync")
            }
        },
    )
    .await?;
    assert_eq!(root(&asansol, DHANBAD, epoch), expected);
    Ok(())
}

/// Makes a random change on `officer`'s node: a create, an update of one of `own` or an
/// expunge of one (admin).
async fn random_change(
    officer: &Officer,
    admin: &Officer,
    own: &mut Vec<PersonRecord>,
    rng: &mut rand::rngs::StdRng,
    n: usize,
) -> anyhow::Result<()> {
    match rng.random_range(0..4) {
        0 | 1 if !own.is_empty() => {
            let i = rng.random_range(0..own.len());
            let mut change = own[i].clone();
            change.status = PersonStatus::Absconding as i32;
            change.aliases.push(format!("Test Alias {n}"));
            own[i] = officer
                .records()
                .update(UpdateRecordRequest {
                    record: Some(change),
                    expected_version: own[i].version,
                })
                .await?
                .into_inner();
        }
        2 if !own.is_empty() => {
            let i = rng.random_range(0..own.len());
            let gone = own.swap_remove(i);
            admin
                .records()
                .delete(DeleteRecordRequest {
                    id: gone.id,
                    reason: "test partition expunge".to_string(),
                    expected_version: 0,
                })
                .await?;
        }
        _ => {
            let created = officer
                .records()
                .create(CreateRecordRequest {
                    record: Some(sample_record(&format!("Test Partition Person {n}"))),
                })
                .await?
                .into_inner();
            own.push(created);
        }
    }
    Ok(())
}

/// The records `officer`'s node holds, by id, with their versions.
async fn held(officer: &Officer) -> anyhow::Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    let mut token = String::new();
    loop {
        let page = officer
            .records()
            .list(ListRecordsRequest {
                page_size: 500,
                page_token: token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        for r in page.records {
            out.insert(r.id, r.version);
        }
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn after_a_partition_with_random_changes_the_digests_and_the_data_agree() -> anyhow::Result<()>
{
    let mut plan = Mesh::plan()?;
    plan.ca("jh", "Test Jharkhand CA")?;
    plan.ca("wb", "Test West Bengal CA")?;
    plan.node(DHANBAD, "jh")?;
    plan.node(ASANSOL, "wb")?;
    // Each node dials the other through a proxy the test can cut.
    let to_a = TcpProxy::start(([127, 0, 0, 1], plan.port(DHANBAD)).into()).await?;
    let to_b = TcpProxy::start(([127, 0, 0, 1], plan.port(ASANSOL)).into()).await?;
    plan.dials_via(DHANBAD, ASANSOL, &to_b.url());
    plan.dials_via(ASANSOL, DHANBAD, &to_a.url());
    for node in [DHANBAD, ASANSOL] {
        plan.tune(node, |c| c.anti_entropy_secs = 1);
    }
    let mesh = plan.start().await?;
    let (a, a_admin) = (
        mesh.officer(DHANBAD, "JH-9401", Role::Officer).await?,
        mesh.officer(DHANBAD, "JH-9402", Role::Admin).await?,
    );
    let (b, b_admin) = (
        mesh.officer(ASANSOL, "WB-9501", Role::Officer).await?,
        mesh.officer(ASANSOL, "WB-9502", Role::Admin).await?,
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261203);
    let (mut own_a, mut own_b) = (Vec::new(), Vec::new());
    for n in 0..20 {
        random_change(&a, &a_admin, &mut own_a, &mut rng, n).await?;
        random_change(&b, &b_admin, &mut own_b, &mut rng, n).await?;
    }

    to_a.cut();
    to_b.cut();
    for n in 20..80 {
        random_change(&a, &a_admin, &mut own_a, &mut rng, n).await?;
        random_change(&b, &b_admin, &mut own_b, &mut rng, n).await?;
    }
    to_a.heal();
    to_b.heal();

    let (sa, sb) = (
        mesh.node(DHANBAD).storage().clone(),
        mesh.node(ASANSOL).storage().clone(),
    );
    let (ea, eb) = (sa.epoch(), sb.epoch());
    wait_until(
        Duration::from_secs(60),
        "both sides' digests of both origins agree",
        || {
            let (sa, sb) = (sa.clone(), sb.clone());
            async move {
                root(&sa, DHANBAD, ea) == root(&sb, DHANBAD, ea)
                    && root(&sa, ASANSOL, eb) == root(&sb, ASANSOL, eb)
            }
        },
    )
    .await?;
    assert_eq!(
        held(&a).await?,
        held(&b).await?,
        "the same records, at the same versions"
    );
    assert_eq!(
        root(&sa, DHANBAD, ea).count as usize,
        own_a.len(),
        "Dhanbad's digest counts its records"
    );
    Ok(())
}
