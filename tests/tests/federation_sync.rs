//! Federation, what travels: two peered nodes of different states replicate creates,
//! updates, expunges, photos and MO notes (the copy is read-only at the receiver); in a
//! chain A – B – C where C does not peer with A, handling codes decide how far a record
//! goes (FEDERATION is relayed and verifies at C, PEERS stops at B, LOCAL_ONLY never leaves
//! A), narrowing a record's handling retracts the copies that may no longer be held, and an
//! expunge travels down the chain as a signed tombstone.
//!
//! Every node is a real in-process node over mutual TLS on 127.0.0.1 with its own sled
//! database; nothing sleeps to synchronise, every wait has a deadline.
#![forbid(unsafe_code)]

use std::time::Instant;

use setu_node::storage::Kind;
use setu_proto::v1::upload_photo_request::Part;
use setu_proto::v1::{
    CreateMoNoteRequest, CreateRecordRequest, DeleteRecordRequest, DownloadPhotoRequest,
    GetMoNoteRequest, Handling, ListRecordsRequest, MoCategory, PersonRecord, PersonStatus,
    UpdateRecordRequest, UploadPhotoHeader, UploadPhotoRequest,
};
use setu_tests::mesh::{get_record, wait_for_record, wait_until_gone, Mesh, SYNC_TIMEOUT};
use setu_tests::wait::wait_for;
use setu_tests::{png_bytes, sample_note, sample_record, Officer, Role};
use sha2::{Digest, Sha256};
use tokio_stream::StreamExt;
use tonic::{Code, Status};

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";
const PURULIA: &str = "wb-purulia";

async fn create(officer: &Officer, name: &str, handling: Handling) -> anyhow::Result<PersonRecord> {
    let mut record = sample_record(name);
    record.handling = handling as i32;
    Ok(officer
        .records()
        .create(CreateRecordRequest {
            record: Some(record),
        })
        .await?
        .into_inner())
}

async fn update(officer: &Officer, record: &PersonRecord) -> anyhow::Result<PersonRecord> {
    Ok(officer
        .records()
        .update(UpdateRecordRequest {
            record: Some(record.clone()),
            expected_version: record.version,
        })
        .await?
        .into_inner())
}

async fn download(officer: &Officer, sha256: &str) -> Result<Vec<u8>, Status> {
    let mut stream = officer
        .photos()
        .download(DownloadPhotoRequest {
            sha256: sha256.to_string(),
        })
        .await?
        .into_inner();
    let mut bytes = Vec::new();
    while let Some(message) = stream.next().await {
        bytes.extend_from_slice(&message?.chunk);
    }
    Ok(bytes)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Dhanbad (Jharkhand CA) and Asansol-Durgapur (West Bengal CA), peering both ways.
async fn two_states() -> anyhow::Result<Mesh> {
    Mesh::two_states(DHANBAD, ASANSOL)?.start().await
}

#[tokio::test]
async fn creates_updates_photos_notes_and_expunges_reach_the_peer() -> anyhow::Result<()> {
    let mesh = two_states().await?;
    let a = mesh.officer(DHANBAD, "JH-7001", Role::Admin).await?;
    let b = mesh.officer(ASANSOL, "WB-7101", Role::Admin).await?;

    // Create on A: B holds an identical copy, owned by A, at the same version.
    let created = create(&a, "Test Bhola Example", Handling::Peers).await?;
    let started = Instant::now();
    let copy = wait_for_record(&b, &created.id, "the new record reaches B", |_| true).await?;
    println!("create A -> B visible after {:?}", started.elapsed());
    assert_eq!(copy.origin, DHANBAD);
    assert_eq!(copy.version, 1);
    assert_eq!(copy, created, "B's copy is exactly A's record");

    // Update on A.
    let mut change = created.clone();
    change.status = PersonStatus::InCustody as i32;
    change.aliases.push("Bholu Test".to_string());
    let updated = update(&a, &change).await?;
    assert_eq!(updated.version, 2);
    let copy = wait_for_record(&b, &created.id, "the update reaches B", |r| r.version == 2).await?;
    assert_eq!(copy, updated);

    // A photo uploaded on A arrives on B, and B serves the same bytes.
    let png = png_bytes([200, 10, 60]);
    let uploaded = a
        .photos()
        .upload(tokio_stream::iter(vec![
            UploadPhotoRequest {
                part: Some(Part::Header(UploadPhotoHeader {
                    record_id: created.id.clone(),
                    expected_version: 2,
                })),
            },
            UploadPhotoRequest {
                part: Some(Part::Chunk(png.clone())),
            },
        ]))
        .await?
        .into_inner();
    let with_photo = uploaded.record.expect("the upload returns the record");
    let sha = with_photo.photos[0].sha256.clone();
    assert_eq!(sha, sha256_hex(&png));
    let copy = wait_for_record(
        &b,
        &created.id,
        "the photo's record version reaches B",
        |r| r.version == with_photo.version,
    )
    .await?;
    assert_eq!(copy, with_photo);
    let bytes = wait_for(SYNC_TIMEOUT, "B has the photo's bytes", || {
        download(&b, &sha)
    })
    .await?;
    assert_eq!(sha256_hex(&bytes), sha, "the bytes on B match the hash");
    assert_eq!(bytes, png);

    // An MO note about the record travels the same way.
    let note = a
        .mo()
        .create(CreateMoNoteRequest {
            note: Some(sample_note(
                MoCategory::ChainSnatching,
                "Two riders on a fictional motorcycle",
                std::slice::from_ref(&created.id),
            )),
        })
        .await?
        .into_inner();
    let note_copy = wait_for(SYNC_TIMEOUT, "the MO note reaches B", || {
        let mut mo = b.mo();
        let id = note.id.clone();
        async move { mo.get(GetMoNoteRequest { id }).await }
    })
    .await?
    .into_inner();
    assert_eq!(note_copy, note);

    // B's officers read A's record but may not change or expunge it.
    let mut foreign = copy.clone();
    foreign.status = PersonStatus::Arrested as i32;
    let err = b
        .records()
        .update(UpdateRecordRequest {
            record: Some(foreign),
            expected_version: copy.version,
        })
        .await
        .expect_err("B may not change A's record");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains(DHANBAD), "{}", err.message());
    let err = b
        .records()
        .delete(DeleteRecordRequest {
            id: created.id.clone(),
            reason: "not ours to expunge".to_string(),
            expected_version: 0,
        })
        .await
        .expect_err("B may not expunge A's record");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains(DHANBAD), "{}", err.message());
    assert_eq!(
        get_record(&a, &created.id).await?,
        with_photo,
        "A unchanged"
    );

    // Expunge on A: the tombstone removes B's copy and its photo.
    a.records()
        .delete(DeleteRecordRequest {
            id: created.id.clone(),
            reason: "duplicate dossier (test)".to_string(),
            expected_version: 0,
        })
        .await?;
    let gone = wait_until_gone(&b, &created.id, "the expunge reaches B").await?;
    assert!(
        gone.message().contains("expunged"),
        "B says the record was expunged: {}",
        gone.message()
    );
    wait_for(
        SYNC_TIMEOUT,
        "B drops the photo of the expunged record",
        || async {
            match download(&b, &sha).await {
                Err(status) if status.code() == Code::NotFound => Ok(()),
                Err(status) => Err(format!("{status:?}")),
                Ok(_) => Err("still served".to_string()),
            }
        },
    )
    .await?;
    assert!(mesh.node(ASANSOL).storage().photo(&sha)?.is_none());
    Ok(())
}

/// Dhanbad – Asansol-Durgapur – Purulia: Purulia does not peer with Dhanbad, but trusts
/// the Jharkhand CA so that it can verify Dhanbad's signing key.
async fn chain() -> anyhow::Result<Mesh> {
    let mut plan = Mesh::plan()?;
    plan.ca("jh", "Test Jharkhand CA")?;
    plan.ca("wb", "Test West Bengal CA")?;
    plan.node(DHANBAD, "jh")?;
    plan.node(ASANSOL, "wb")?;
    plan.node(PURULIA, "wb")?;
    plan.peers(DHANBAD, ASANSOL);
    plan.peers(ASANSOL, PURULIA);
    plan.trust(PURULIA, "jh");
    plan.start().await
}

#[tokio::test]
async fn handling_codes_decide_how_far_a_record_travels() -> anyhow::Result<()> {
    let mesh = chain().await?;
    assert!(
        mesh.node(PURULIA).config().peer(DHANBAD).is_none(),
        "C does not peer with A"
    );
    let a = mesh.officer(DHANBAD, "JH-7201", Role::Officer).await?;
    let b = mesh.officer(ASANSOL, "WB-7301", Role::Officer).await?;
    let c = mesh.officer(PURULIA, "WB-7401", Role::Officer).await?;

    let federation = create(&a, "Test Federated Example", Handling::Federation).await?;
    let peers_only = create(&a, "Test Neighbourly Example", Handling::Peers).await?;
    let local = create(&a, "Test Homebound Example", Handling::LocalOnly).await?;
    // A later FEDERATION record: once it is on C, C has seen everything before it.
    let marker = create(&a, "Test Marker Example", Handling::Federation).await?;

    let at_c = wait_for_record(
        &c,
        &federation.id,
        "the FEDERATION record reaches C",
        |_| true,
    )
    .await?;
    assert_eq!(
        at_c, federation,
        "C's copy (relayed by B, verified) is A's record"
    );
    wait_for_record(
        &c,
        &marker.id,
        "the later FEDERATION record reaches C",
        |_| true,
    )
    .await?;
    wait_for_record(
        &b,
        &marker.id,
        "the later FEDERATION record reaches B",
        |_| true,
    )
    .await?;

    // PEERS: on B, never on C.
    assert_eq!(get_record(&b, &peers_only.id).await?, peers_only);
    let err = get_record(&c, &peers_only.id)
        .await
        .expect_err("a PEERS record is never relayed");
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(mesh.node(PURULIA).storage().record(&peers_only.id).is_err());

    // LOCAL_ONLY: nowhere but A, not even as a trace.
    assert_eq!(get_record(&a, &local.id).await?, local);
    for (who, officer) in [(ASANSOL, &b), (PURULIA, &c)] {
        let err = get_record(officer, &local.id)
            .await
            .expect_err("a LOCAL_ONLY record never leaves A");
        assert_eq!(err.code(), Code::NotFound, "{who}: {err:?}");
        assert_eq!(
            mesh.node(who)
                .storage()
                .item_state(Kind::Record, &local.id)?,
            None,
            "{who} knows nothing of the LOCAL_ONLY record"
        );
    }

    // What C lists of A's records: exactly the two FEDERATION ones.
    let listed = c
        .records()
        .list(ListRecordsRequest {
            origins: vec![DHANBAD.to_string()],
            page_size: 500,
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut ids: Vec<_> = listed.records.iter().map(|r| r.id.clone()).collect();
    ids.sort();
    let mut expected = vec![federation.id.clone(), marker.id.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    Ok(())
}

#[tokio::test]
async fn narrowing_handling_retracts_the_copies() -> anyhow::Result<()> {
    let mesh = chain().await?;
    let a = mesh.officer(DHANBAD, "JH-7501", Role::Officer).await?;
    let b = mesh.officer(ASANSOL, "WB-7601", Role::Officer).await?;
    let c = mesh.officer(PURULIA, "WB-7701", Role::Officer).await?;

    let to_local = create(&a, "Test Withdrawn Example", Handling::Federation).await?;
    let to_peers = create(&a, "Test Narrowed Example", Handling::Federation).await?;
    for (officer, node) in [(&b, ASANSOL), (&c, PURULIA)] {
        for record in [&to_local, &to_peers] {
            wait_for_record(
                officer,
                &record.id,
                &format!("{} reaches {node}", record.name),
                |_| true,
            )
            .await?;
        }
    }

    // FEDERATION -> LOCAL_ONLY: the copies on B and C are retracted.
    let mut change = to_local.clone();
    change.handling = Handling::LocalOnly as i32;
    let narrowed = update(&a, &change).await?;
    wait_until_gone(
        &b,
        &to_local.id,
        "B drops the record narrowed to LOCAL_ONLY",
    )
    .await?;
    wait_until_gone(
        &c,
        &to_local.id,
        "C drops the record narrowed to LOCAL_ONLY",
    )
    .await?;
    assert_eq!(get_record(&a, &to_local.id).await?, narrowed, "A keeps it");

    // FEDERATION -> PEERS: retracted from C, kept (updated) on B.
    let mut change = to_peers.clone();
    change.handling = Handling::Peers as i32;
    let narrowed = update(&a, &change).await?;
    let at_b = wait_for_record(&b, &to_peers.id, "B gets the PEERS version", |r| {
        r.version == narrowed.version
    })
    .await?;
    assert_eq!(at_b, narrowed);
    wait_until_gone(&c, &to_peers.id, "C drops the record narrowed to PEERS").await?;
    for id in [&to_local.id, &to_peers.id] {
        assert!(mesh.node(PURULIA).storage().record(id).is_err());
    }
    assert!(mesh.node(ASANSOL).storage().record(&to_local.id).is_err());
    Ok(())
}

#[tokio::test]
async fn an_expunge_is_relayed_down_the_chain() -> anyhow::Result<()> {
    let mesh = chain().await?;
    let a = mesh.officer(DHANBAD, "JH-7801", Role::Admin).await?;
    let c = mesh.officer(PURULIA, "WB-7901", Role::Officer).await?;
    let record = create(&a, "Test Expunged Example", Handling::Federation).await?;
    wait_for_record(&c, &record.id, "the record reaches C", |_| true).await?;
    a.records()
        .delete(DeleteRecordRequest {
            id: record.id.clone(),
            reason: "entered in error (test)".to_string(),
            expected_version: 0,
        })
        .await?;
    let gone = wait_until_gone(&c, &record.id, "the tombstone reaches C through B").await?;
    assert!(gone.message().contains("expunged"), "{}", gone.message());
    let state = mesh
        .node(PURULIA)
        .storage()
        .item_state(Kind::Record, &record.id)?
        .expect("C keeps the tombstone's state");
    assert!(state.deleted && !state.has_data, "{state:?}");
    Ok(())
}
