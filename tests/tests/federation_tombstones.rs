//! Federation, cleaning up: a tombstone stays at the origin until every peer has applied
//! it, and is collected only after that (plus the grace period, zero here); until then a
//! peer that lags could still need it.
#![forbid(unsafe_code)]

use setu_node::storage::Kind;
use setu_proto::v1::{CreateRecordRequest, DeleteRecordRequest, Handling};
use setu_tests::mesh::{wait_for_record, wait_until_gone, Mesh, SYNC_TIMEOUT};
use setu_tests::wait::wait_until;
use setu_tests::{sample_record, Role};

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";

#[tokio::test]
async fn a_tombstone_is_collected_only_after_every_peer_has_applied_it() -> anyhow::Result<()> {
    let mut plan = Mesh::plan()?;
    plan.ca("jh", "Test Jharkhand CA")?;
    plan.ca("wb", "Test West Bengal CA")?;
    plan.node(DHANBAD, "jh")?;
    plan.node(ASANSOL, "wb")?;
    plan.peers(DHANBAD, ASANSOL);
    plan.tune(DHANBAD, |c| c.tombstone_grace_hours = 0);
    // B reports its watermarks to A with every anti-entropy check.
    plan.tune(ASANSOL, |c| c.anti_entropy_secs = 1);
    let mesh = plan.start().await?;
    let a = mesh.officer(DHANBAD, "JH-7301", Role::Admin).await?;
    let b = mesh.officer(ASANSOL, "WB-7401", Role::Officer).await?;

    let mut record = sample_record("Test Tombstone Example");
    record.handling = Handling::Federation as i32;
    let created = a
        .records()
        .create(CreateRecordRequest {
            record: Some(record),
        })
        .await?
        .into_inner();
    wait_for_record(&b, &created.id, "the record reaches B", |_| true).await?;
    a.records()
        .delete(DeleteRecordRequest {
            id: created.id.clone(),
            reason: "test: duplicate dossier".to_string(),
            expected_version: 0,
        })
        .await?;
    wait_until_gone(&b, &created.id, "the expunge reaches B").await?;
    let node_a = mesh.node(DHANBAD);
    let tombstone_seq = node_a
        .storage()
        .item_state(Kind::Record, &created.id)?
        .expect("the origin keeps the expunged record's state")
        .seq;

    // Once B has told A that it applied the tombstone, A may collect it.
    wait_until(
        SYNC_TIMEOUT,
        "B acknowledges the tombstone to A",
        || async {
            node_a.storage().peer_acks(ASANSOL).is_ok_and(|acks| {
                acks.iter()
                    .any(|w| w.origin == DHANBAD && w.seq >= tombstone_seq)
            })
        },
    )
    .await?;
    assert_eq!(node_a.federation().collect_tombstones()?, 1);
    assert!(node_a
        .storage()
        .tombstone(Kind::Record, &created.id)?
        .is_none());
    assert!(node_a
        .storage()
        .item_state(Kind::Record, &created.id)?
        .is_none());
    Ok(())
}

#[tokio::test]
async fn a_tombstone_stays_while_a_peer_has_not_applied_it() -> anyhow::Result<()> {
    let mut plan = Mesh::plan()?;
    plan.ca("jh", "Test Jharkhand CA")?;
    plan.node(DHANBAD, "jh")?;
    // A lists B as a peer, but B never runs: it never acknowledges anything.
    plan.external(ASANSOL, "jh")?;
    plan.dials(DHANBAD, ASANSOL);
    plan.tune(DHANBAD, |c| c.tombstone_grace_hours = 0);
    let mesh = plan.start().await?;
    let a = mesh.officer(DHANBAD, "JH-7302", Role::Admin).await?;
    let mut record = sample_record("Test Lagging Example");
    record.handling = Handling::Federation as i32;
    let created = a
        .records()
        .create(CreateRecordRequest {
            record: Some(record),
        })
        .await?
        .into_inner();
    a.records()
        .delete(DeleteRecordRequest {
            id: created.id.clone(),
            reason: "test: entered in error".to_string(),
            expected_version: 0,
        })
        .await?;
    let node_a = mesh.node(DHANBAD);
    assert_eq!(node_a.federation().collect_tombstones()?, 0);
    assert!(node_a
        .storage()
        .tombstone(Kind::Record, &created.id)?
        .is_some());
    Ok(())
}
