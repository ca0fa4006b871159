//! Person records and MO notes end to end: create, read, optimistic updates, expunge with
//! tombstones, paging and filters, against a real node over mutual TLS.
#![forbid(unsafe_code)]

use std::collections::HashSet;

use setu_proto::v1::{
    CreateMoNoteRequest, CreateRecordRequest, DeleteMoNoteRequest, DeleteRecordRequest,
    GetMoNoteRequest, GetRecordRequest, Handling, ListMoNotesRequest, ListRecordsRequest,
    MoCategory, PersonRecord, PersonStatus, UpdateMoNoteRequest, UpdateRecordRequest, Warning,
};
use setu_tests::fixtures::sample_note;
use setu_tests::{sample_record, District, Officer, Role};
use tonic::Code;

const DHANBAD: &str = "jh-dhanbad";

async fn create(officer: &Officer, record: PersonRecord) -> anyhow::Result<PersonRecord> {
    Ok(officer
        .records()
        .create(CreateRecordRequest {
            record: Some(record),
        })
        .await?
        .into_inner())
}

async fn get(officer: &Officer, id: &str) -> Result<PersonRecord, tonic::Status> {
    officer
        .records()
        .get(GetRecordRequest { id: id.to_string() })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn create_get_update_delete_lifecycle() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-1001", Role::Officer).await?;
    let admin = district.officer("JH-9001", Role::Admin).await?;

    // The node sets id, origin, version and authors itself: forged values are ignored.
    let mut forged = sample_record("Test Kumar Example");
    forged.id = "01936f0e-7f5a-7c3e-9d4b-2a1e6c0f8b12".to_string();
    forged.origin = "wb-asansol-durgapur".to_string();
    forged.version = 42;
    forged.created_by = "FAKE-1 (wb-asansol-durgapur)".to_string();
    forged.updated_by = "FAKE-2 (wb-asansol-durgapur)".to_string();
    forged.created_at_ms = 1;
    let created = create(&officer, forged).await?;
    assert_ne!(created.id, "01936f0e-7f5a-7c3e-9d4b-2a1e6c0f8b12");
    assert!(uuid::Uuid::parse_str(&created.id).is_ok(), "{}", created.id);
    assert_eq!(created.origin, DHANBAD);
    assert_eq!(created.version, 1);
    assert_eq!(created.created_by, officer.label);
    assert_eq!(created.updated_by, officer.label);
    assert!(created.created_at_ms > 1);

    let stored = get(&officer, &created.id).await?;
    assert_eq!(stored, created, "Get returns exactly what Create returned");
    assert_eq!(stored.name, "Test Kumar Example");
    assert_eq!(stored.father_name, "Imaginary Prasad");
    assert_eq!(stored.aliases, vec!["Kalu Test"]);
    assert_eq!(stored.status, PersonStatus::Wanted as i32);
    assert_eq!(stored.warnings, vec![Warning::Armed as i32]);
    assert_eq!(stored.handling, Handling::Peers as i32);
    assert_eq!(stored.origin, DHANBAD);
    assert_eq!(stored.created_by, "JH-1001 (jh-dhanbad)");

    // Update with the version last read.
    let mut change = stored.clone();
    change.status = PersonStatus::Arrested as i32;
    change.created_by = "FAKE-3 (jh-dhanbad)".to_string();
    let updated = officer
        .records()
        .update(UpdateRecordRequest {
            record: Some(change),
            expected_version: 1,
        })
        .await?
        .into_inner();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.status, PersonStatus::Arrested as i32);
    assert_eq!(updated.created_by, officer.label, "created_by is kept");
    assert_eq!(get(&officer, &created.id).await?, updated);

    // A stale version is refused and changes nothing.
    let mut stale = stored.clone();
    stale.name = "Stale Name Example".to_string();
    stale.status = PersonStatus::Convicted as i32;
    let err = officer
        .records()
        .update(UpdateRecordRequest {
            record: Some(stale),
            expected_version: 1,
        })
        .await
        .expect_err("a stale update must be refused");
    assert_eq!(err.code(), Code::Aborted, "{err:?}");
    assert!(err.message().contains("version 2"), "{}", err.message());
    assert_eq!(
        get(&officer, &created.id).await?,
        updated,
        "the record is unchanged"
    );

    // Delete without a reason: refused, naming the field; the record stays.
    for reason in ["", "   "] {
        let err = admin
            .records()
            .delete(DeleteRecordRequest {
                id: created.id.clone(),
                reason: reason.to_string(),
                expected_version: 0,
            })
            .await
            .expect_err("a delete without reason must be refused");
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        assert!(err.message().starts_with("reason:"), "{}", err.message());
    }
    assert_eq!(get(&officer, &created.id).await?, updated);

    // Delete with a stale expected version: refused, nothing changes.
    let err = admin
        .records()
        .delete(DeleteRecordRequest {
            id: created.id.clone(),
            reason: "duplicate dossier".to_string(),
            expected_version: 1,
        })
        .await
        .expect_err("a stale delete must be refused");
    assert_eq!(err.code(), Code::Aborted, "{err:?}");
    assert_eq!(get(&officer, &created.id).await?, updated);

    // Delete by an admin with a reason: a tombstone comes back, the data is gone.
    let tombstone = admin
        .records()
        .delete(DeleteRecordRequest {
            id: created.id.clone(),
            reason: "duplicate dossier".to_string(),
            expected_version: 2,
        })
        .await?
        .into_inner()
        .tombstone
        .expect("a delete returns the tombstone");
    assert_eq!(tombstone.id, created.id);
    assert_eq!(tombstone.origin, DHANBAD);
    assert_eq!(tombstone.version, 3);
    assert_eq!(tombstone.reason, "duplicate dossier");
    assert_eq!(tombstone.deleted_by, admin.label);
    assert!(tombstone.deleted_at_ms >= updated.updated_at_ms);

    let err = get(&officer, &created.id)
        .await
        .expect_err("an expunged record cannot be read");
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(err.message().contains("expunged"), "{}", err.message());
    let list = officer
        .records()
        .list(ListRecordsRequest::default())
        .await?
        .into_inner();
    assert!(list.records.is_empty(), "{:?}", list.records);

    // An expunged record cannot be updated back to life either.
    let err = officer
        .records()
        .update(UpdateRecordRequest {
            record: Some(updated),
            expected_version: 2,
        })
        .await
        .expect_err("updating an expunged record must fail");
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    Ok(())
}

#[tokio::test]
async fn list_pages_through_every_record_once_and_filters() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-1002", Role::Officer).await?;

    let mut created = Vec::new();
    for i in 0..7 {
        let mut record = sample_record(&format!("Test Person {i} Example"));
        record.status = if i % 3 == 0 {
            PersonStatus::Arrested as i32
        } else {
            PersonStatus::Wanted as i32
        };
        created.push(create(&officer, record).await?);
    }
    let all: HashSet<String> = created.iter().map(|r| r.id.clone()).collect();
    assert_eq!(all.len(), 7);

    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = officer
            .records()
            .list(ListRecordsRequest {
                page_size: 3,
                page_token: token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        pages += 1;
        assert!(
            page.records.len() <= 3,
            "page {pages} has {}",
            page.records.len()
        );
        seen.extend(page.records.into_iter().map(|r| r.id));
        if page.next_page_token.is_empty() {
            break;
        }
        assert!(pages < 10, "paging does not end");
        token = page.next_page_token;
    }
    assert_eq!(pages, 3, "7 records in pages of 3");
    assert_eq!(seen.len(), 7, "every record exactly once: {seen:?}");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), all);

    // Filter by status.
    let arrested = officer
        .records()
        .list(ListRecordsRequest {
            statuses: vec![PersonStatus::Arrested as i32],
            ..Default::default()
        })
        .await?
        .into_inner();
    let expected: HashSet<String> = created
        .iter()
        .filter(|r| r.status == PersonStatus::Arrested as i32)
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(expected.len(), 3);
    assert_eq!(
        arrested
            .records
            .iter()
            .map(|r| r.id.clone())
            .collect::<HashSet<_>>(),
        expected
    );
    assert!(arrested
        .records
        .iter()
        .all(|r| r.status == PersonStatus::Arrested as i32));

    // Filter by status with paging: a page of 2 arrested, then the last one.
    let first = officer
        .records()
        .list(ListRecordsRequest {
            statuses: vec![PersonStatus::Arrested as i32],
            page_size: 2,
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(first.records.len(), 2);
    let second = officer
        .records()
        .list(ListRecordsRequest {
            statuses: vec![PersonStatus::Arrested as i32],
            page_size: 2,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(second.records.len(), 1);
    assert!(second.next_page_token.is_empty());

    // Filter by origin: all are local; another district's origin matches none.
    let local = officer
        .records()
        .list(ListRecordsRequest {
            origins: vec![DHANBAD.to_string()],
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(local.records.len(), 7);
    let foreign = officer
        .records()
        .list(ListRecordsRequest {
            origins: vec!["wb-asansol-durgapur".to_string()],
            ..Default::default()
        })
        .await?
        .into_inner();
    assert!(foreign.records.is_empty(), "{:?}", foreign.records);

    // Bad filters name the field.
    let err = officer
        .records()
        .list(ListRecordsRequest {
            origins: vec!["Not A District".to_string()],
            ..Default::default()
        })
        .await
        .expect_err("a malformed origin must be refused");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("origins[0]"), "{}", err.message());
    let err = officer
        .records()
        .list(ListRecordsRequest {
            page_size: 501,
            ..Default::default()
        })
        .await
        .expect_err("a page above 500 must be refused");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("page_size"), "{}", err.message());
    Ok(())
}

#[tokio::test]
async fn mo_notes_lifecycle_and_filters() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-1003", Role::Officer).await?;
    let admin = district.officer("JH-9003", Role::Admin).await?;

    let first = create(&officer, sample_record("Test Gang Leader Example")).await?;
    let second = create(&officer, sample_record("Test Gang Member Example")).await?;

    let mut forged = sample_note(
        MoCategory::AtmRobbery,
        "Gas-cutter attacks on ATM kiosks",
        std::slice::from_ref(&first.id),
    );
    forged.origin = "wb-asansol-durgapur".to_string();
    forged.created_by = "FAKE-1 (wb-asansol-durgapur)".to_string();
    let atm = officer
        .mo()
        .create(CreateMoNoteRequest { note: Some(forged) })
        .await?
        .into_inner();
    assert_eq!(atm.origin, DHANBAD);
    assert_eq!(atm.version, 1);
    assert_eq!(atm.created_by, officer.label);
    assert_eq!(atm.record_ids, vec![first.id.clone()]);

    let burglary = officer
        .mo()
        .create(CreateMoNoteRequest {
            note: Some(sample_note(
                MoCategory::Burglary,
                "Night burglaries of locked houses",
                &[first.id.clone(), second.id.clone()],
            )),
        })
        .await?
        .into_inner();
    let unlinked = officer
        .mo()
        .create(CreateMoNoteRequest {
            note: Some(sample_note(
                MoCategory::Burglary,
                "Unattributed burglaries",
                &[],
            )),
        })
        .await?
        .into_inner();

    let got = officer
        .mo()
        .get(GetMoNoteRequest { id: atm.id.clone() })
        .await?
        .into_inner();
    assert_eq!(got, atm);
    assert_eq!(got.summary, "Gas-cutter attacks on ATM kiosks");

    // A note linking a record that does not exist is refused and not stored.
    let missing = uuid::Uuid::now_v7().to_string();
    let err = officer
        .mo()
        .create(CreateMoNoteRequest {
            note: Some(sample_note(MoCategory::Arms, "Arms supply", &[missing])),
        })
        .await
        .expect_err("a link to a missing record must be refused");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("record_ids[0]"), "{}", err.message());

    let ids = |notes: Vec<setu_proto::v1::MoNote>| {
        notes.into_iter().map(|n| n.id).collect::<HashSet<_>>()
    };
    let all = officer
        .mo()
        .list(ListMoNotesRequest::default())
        .await?
        .into_inner();
    assert_eq!(
        ids(all.notes),
        HashSet::from([atm.id.clone(), burglary.id.clone(), unlinked.id.clone()])
    );
    let by_first = officer
        .mo()
        .list(ListMoNotesRequest {
            record_id: first.id.clone(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(
        ids(by_first.notes),
        HashSet::from([atm.id.clone(), burglary.id.clone()])
    );
    let by_second = officer
        .mo()
        .list(ListMoNotesRequest {
            record_id: second.id.clone(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(ids(by_second.notes), HashSet::from([burglary.id.clone()]));
    let by_category = officer
        .mo()
        .list(ListMoNotesRequest {
            categories: vec![MoCategory::Burglary as i32],
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(
        ids(by_category.notes),
        HashSet::from([burglary.id.clone(), unlinked.id.clone()])
    );

    // Update with the right version; a stale one is refused and changes nothing.
    let mut change = atm.clone();
    change.summary = "Gas-cutter attacks on ATM kiosks at night".to_string();
    change.record_ids.push(second.id.clone());
    let updated = officer
        .mo()
        .update(UpdateMoNoteRequest {
            note: Some(change.clone()),
            expected_version: 1,
        })
        .await?
        .into_inner();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.created_by, officer.label);
    let mut expected_links = vec![first.id.clone(), second.id.clone()];
    expected_links.sort();
    assert_eq!(updated.record_ids, expected_links);
    change.summary = "Stale summary".to_string();
    let err = officer
        .mo()
        .update(UpdateMoNoteRequest {
            note: Some(change),
            expected_version: 1,
        })
        .await
        .expect_err("a stale update must be refused");
    assert_eq!(err.code(), Code::Aborted);
    let got = officer
        .mo()
        .get(GetMoNoteRequest { id: atm.id.clone() })
        .await?
        .into_inner();
    assert_eq!(got, updated);

    // Only an admin expunges; the note is then gone, with a tombstone.
    let err = officer
        .mo()
        .delete(DeleteMoNoteRequest {
            id: atm.id.clone(),
            reason: "merged into another note".to_string(),
            expected_version: 0,
        })
        .await
        .expect_err("an officer may not expunge");
    assert_eq!(err.code(), Code::PermissionDenied);
    let tombstone = admin
        .mo()
        .delete(DeleteMoNoteRequest {
            id: atm.id.clone(),
            reason: "merged into another note".to_string(),
            expected_version: 2,
        })
        .await?
        .into_inner()
        .tombstone
        .expect("a delete returns the tombstone");
    assert_eq!(tombstone.id, atm.id);
    assert_eq!(tombstone.version, 3);
    assert_eq!(tombstone.deleted_by, admin.label);
    let err = officer
        .mo()
        .get(GetMoNoteRequest { id: atm.id.clone() })
        .await
        .expect_err("an expunged note cannot be read");
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("expunged"), "{}", err.message());
    let by_first = officer
        .mo()
        .list(ListMoNotesRequest {
            record_id: first.id.clone(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(ids(by_first.notes), HashSet::from([burglary.id.clone()]));
    Ok(())
}
