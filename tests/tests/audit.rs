//! The audit trail end to end: every officer call leaves one hash-chained entry (refused
//! calls included), only admins read the trail, filters work, and `setu-node audit verify`
//! finds a tampered entry in a stopped node's database.
#![forbid(unsafe_code)]

use std::time::Duration;

use prost::Message;
use setu_node::storage::audit::AuditFile;
use setu_proto::v1::upload_photo_request::Part;
use setu_proto::v1::{
    AuditEntry, CreateRecordRequest, DeleteRecordRequest, DownloadPhotoRequest, GetRecordRequest,
    ListAuditRequest, ListAuditResponse, ListRecordsRequest, PersonRecord, UpdateRecordRequest,
    UploadPhotoHeader, UploadPhotoRequest,
};
use setu_tests::bins::{self, setu, setu_with, write_client_config, NODE_BIN};
use setu_tests::wait::wait_for;
use setu_tests::{png_bytes, sample_record, wait_until, District, Officer, Role};
use tonic::Code;

const DHANBAD: &str = "jh-dhanbad";

async fn create(officer: &Officer, name: &str) -> anyhow::Result<PersonRecord> {
    Ok(officer
        .records()
        .create(CreateRecordRequest {
            record: Some(sample_record(name)),
        })
        .await?
        .into_inner())
}

async fn list_audit(
    officer: &Officer,
    request: ListAuditRequest,
) -> Result<ListAuditResponse, tonic::Status> {
    officer
        .audit()
        .list(request)
        .await
        .map(tonic::Response::into_inner)
}

/// Every entry the node holds, read behind the API.
fn entries(district: &District) -> anyhow::Result<Vec<AuditEntry>> {
    Ok(district.node.storage().audit_range(0, 10_000)?)
}

/// The one entry with `action` that touched `id`.
fn entry_for<'a>(entries: &'a [AuditEntry], action: &str, id: &str) -> &'a AuditEntry {
    let found: Vec<&AuditEntry> = entries
        .iter()
        .filter(|e| e.action == action && e.ids.iter().any(|i| i == id))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {action} entry for {id} in {entries:#?}"
    );
    found[0]
}

#[tokio::test]
async fn every_officer_action_leaves_an_entry() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-1001", Role::Officer).await?;
    let admin = district.officer("JH-9001", Role::Admin).await?;

    let created = create(&officer, "Audit Kumar Example").await?;
    officer
        .records()
        .get(GetRecordRequest {
            id: created.id.clone(),
        })
        .await?;
    let mut change = created.clone();
    change.father_name = "Another Imaginary Prasad".into();
    officer
        .records()
        .update(UpdateRecordRequest {
            record: Some(change),
            expected_version: 1,
        })
        .await?;
    let uploaded = officer
        .photos()
        .upload(tokio_stream::iter(vec![
            UploadPhotoRequest {
                part: Some(Part::Header(UploadPhotoHeader {
                    record_id: created.id.clone(),
                    expected_version: 2,
                })),
            },
            UploadPhotoRequest {
                part: Some(Part::Chunk(png_bytes([1, 2, 3]))),
            },
        ]))
        .await?
        .into_inner();
    let sha = uploaded.photo.expect("the upload returns the photo").sha256;
    let mut download = officer
        .photos()
        .download(DownloadPhotoRequest {
            sha256: sha.clone(),
        })
        .await?
        .into_inner();
    while download.message().await?.is_some() {}
    let listed = officer
        .records()
        .list(ListRecordsRequest::default())
        .await?
        .into_inner();
    assert_eq!(listed.records.len(), 1);
    admin
        .records()
        .delete(DeleteRecordRequest {
            id: created.id.clone(),
            reason: "entered in error".into(),
            expected_version: 0,
        })
        .await?;

    let all = entries(&district)?;
    assert_eq!(all.len(), 7, "{all:#?}");
    for (action, badge) in [
        ("record.create", "JH-1001"),
        ("record.get", "JH-1001"),
        ("record.update", "JH-1001"),
        ("photo.upload", "JH-1001"),
        ("record.list", "JH-1001"),
        ("record.delete", "JH-9001"),
    ] {
        let entry = entry_for(&all, action, &created.id);
        assert_eq!(entry.officer, badge, "{entry:?}");
        assert_eq!(entry.district, DHANBAD);
        assert_eq!(entry.outcome, "OK");
        assert_eq!(entry.results, 1, "{entry:?}");
        assert!(entry.at_ms > 0);
    }
    let get = entry_for(&all, "record.get", &created.id);
    assert_eq!(get.method, "RecordService/Get");
    assert_eq!(get.role, "officer");
    assert!(!get.officer_name.is_empty(), "{get:?}");
    assert_eq!(entry_for(&all, "record.delete", &created.id).role, "admin");
    let download = entry_for(&all, "photo.download", &sha);
    assert_eq!(download.officer, "JH-1001");
    assert_eq!(download.outcome, "OK");
    // The entries form one chain, numbered from 1.
    for (i, entry) in all.iter().enumerate() {
        assert_eq!(entry.seq, i as u64 + 1);
        if i > 0 {
            assert_eq!(entry.prev_hash, all[i - 1].hash);
        }
    }
    assert_eq!(district.node.storage().verify_audit()?, Ok(7));
    Ok(())
}

#[tokio::test]
async fn refused_calls_are_recorded() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-1002", Role::Officer).await?;
    let created = create(&officer, "Refused Kumar Example").await?;

    // Expunging needs the admin role.
    let denied = officer
        .records()
        .delete(DeleteRecordRequest {
            id: created.id.clone(),
            reason: "not allowed".into(),
            expected_version: 0,
        })
        .await
        .expect_err("an officer may not expunge");
    assert_eq!(denied.code(), Code::PermissionDenied);
    // A malformed id.
    let invalid = officer
        .records()
        .get(GetRecordRequest {
            id: "not an id".into(),
        })
        .await
        .expect_err("a malformed id is refused");
    assert_eq!(invalid.code(), Code::InvalidArgument);
    // A node certificate is not an officer: recorded as an unknown officer.
    let node = district
        .connect_as(district.ca.node(DHANBAD)?, "the node itself")
        .await?;
    let not_officer = node
        .records()
        .get(GetRecordRequest {
            id: created.id.clone(),
        })
        .await
        .expect_err("a node certificate is not an officer");
    assert_eq!(not_officer.code(), Code::PermissionDenied);

    let all = entries(&district)?;
    let delete = entry_for(&all, "record.delete", &created.id);
    assert_eq!(delete.officer, "JH-1002");
    assert_eq!(delete.outcome, "PERMISSION_DENIED");
    assert_eq!(delete.results, 0);
    let bad = all
        .iter()
        .find(|e| e.action == "record.get" && e.outcome == "INVALID_ARGUMENT")
        .expect("the refused get is recorded");
    assert_eq!(bad.officer, "JH-1002");
    assert_eq!(bad.ids, vec!["not an id"]);
    let unknown = all
        .iter()
        .find(|e| e.officer == "unknown")
        .expect("the node certificate's call is recorded");
    assert_eq!(unknown.action, "record.get");
    assert_eq!(unknown.outcome, "PERMISSION_DENIED");
    assert_eq!(unknown.ids, vec![created.id.clone()]);
    Ok(())
}

#[tokio::test]
async fn only_admins_read_the_audit_trail() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    for role in [Role::Officer, Role::Liaison] {
        let officer = district.officer("JH-1003", role).await?;
        let refused = list_audit(&officer, ListAuditRequest::default())
            .await
            .expect_err("only admins read the audit trail");
        assert_eq!(refused.code(), Code::PermissionDenied);
        assert!(refused.message().contains("admin"), "{}", refused.message());
    }
    let all = entries(&district)?;
    assert_eq!(all.len(), 2);
    assert!(all
        .iter()
        .all(|e| e.action == "audit.list" && e.outcome == "PERMISSION_DENIED"));
    Ok(())
}

#[tokio::test]
async fn admin_lists_with_filters() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let first = district.officer("JH-1004", Role::Officer).await?;
    let second = district.officer("JH-1005", Role::Officer).await?;
    let admin = district.officer("JH-9002", Role::Admin).await?;
    let a = create(&first, "Filter Kumar Example").await?;
    let b = create(&second, "Filter Devi Example").await?;
    // A millisecond boundary strictly after both creates and before the reads.
    let between = setu_node::clock::now_ms() + 1;
    wait_until(
        Duration::from_secs(5),
        "the clock passes the boundary",
        || async { setu_node::clock::now_ms() >= between },
    )
    .await?;
    for _ in 0..3 {
        second
            .records()
            .get(GetRecordRequest { id: a.id.clone() })
            .await?;
    }

    let by_officer = list_audit(
        &admin,
        ListAuditRequest {
            officer: "JH-1004".into(),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(by_officer.entries.len(), 1);
    assert_eq!(by_officer.entries[0].action, "record.create");
    assert_eq!(by_officer.entries[0].ids, vec![a.id.clone()]);

    let by_record = list_audit(
        &admin,
        ListAuditRequest {
            record_id: a.id.clone(),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(by_record.entries.len(), 4, "{by_record:#?}");
    assert!(!by_record.entries.iter().any(|e| e.ids.contains(&b.id)));

    let since = list_audit(
        &admin,
        ListAuditRequest {
            since_ms: between,
            officer: "JH-1005".into(),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(since.entries.len(), 3);
    assert!(since.entries.iter().all(|e| e.action == "record.get"));

    let until = list_audit(
        &admin,
        ListAuditRequest {
            until_ms: between,
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(until.entries.len(), 2);

    // Paging: two at a time through everything, without repeats.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = list_audit(
            &admin,
            ListAuditRequest {
                page_size: 2,
                page_token: token.clone(),
                until_ms: between,
                ..Default::default()
            },
        )
        .await?;
        seen.extend(page.entries.iter().map(|e| e.seq));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, vec![1, 2]);

    let too_big = list_audit(
        &admin,
        ListAuditRequest {
            page_size: 501,
            ..Default::default()
        },
    )
    .await
    .expect_err("a page above the limit is refused");
    assert_eq!(too_big.code(), Code::InvalidArgument);
    assert!(
        too_big.message().contains("page_size"),
        "{}",
        too_big.message()
    );
    assert!(too_big.message().contains("500"), "{}", too_big.message());

    // Reading the trail is itself recorded.
    let all = entries(&district)?;
    let reads: Vec<_> = all.iter().filter(|e| e.action == "audit.list").collect();
    assert_eq!(reads.len(), 7);
    assert!(reads.iter().all(|e| e.officer == "JH-9002"));
    assert!(reads.iter().any(|e| e.query.contains("officer=JH-1004")));
    Ok(())
}

/// Runs `setu-node audit verify` on `dir`, waiting out a database the stopping node has
/// not let go of yet.
async fn verify(dir: &std::path::Path) -> anyhow::Result<bins::Finished> {
    let dir = dir.to_string_lossy().into_owned();
    wait_for(
        Duration::from_secs(15),
        "the database is free for `setu-node audit verify`",
        || async {
            let finished =
                bins::run(NODE_BIN, &["audit", "verify", "--data-dir", dir.as_str()]).await?;
            if finished.stderr.contains("in use") {
                anyhow::bail!("still in use: {}", finished.stderr);
            }
            Ok(finished)
        },
    )
    .await
}

#[tokio::test]
async fn verify_finds_a_tampered_entry() -> anyhow::Result<()> {
    let mut district = District::start(DHANBAD).await?;
    let data_dir = district.node.config().data_dir.clone();
    {
        let officer = district.officer("JH-1006", Role::Officer).await?;
        let created = create(&officer, "Tamper Kumar Example").await?;
        for _ in 0..3 {
            officer
                .records()
                .get(GetRecordRequest {
                    id: created.id.clone(),
                })
                .await?;
        }
    }
    // A running node holds the database: the tool says so instead of guessing.
    let busy = bins::run(
        NODE_BIN,
        &["audit", "verify", "--data-dir", &data_dir.to_string_lossy()],
    )
    .await?;
    assert!(!busy.status.success(), "{busy}");
    assert!(busy.stderr.contains("in use"), "{busy}");
    district.node.stop().await?;

    let intact = verify(&data_dir).await?.success()?;
    assert!(
        intact.stdout.contains("audit trail intact: 4 entries"),
        "{intact}"
    );

    // Someone rewrites who read the record in entry 3.
    {
        let audit = AuditFile::open(&data_dir)?;
        let bytes = audit.entry_bytes(3)?.expect("entry 3 is stored");
        let mut entry = AuditEntry::decode(bytes.as_slice())?;
        entry.officer = "JH-0000".into();
        audit.overwrite_entry(3, &entry.encode_to_vec())?;
    }
    let broken = verify(&data_dir).await?;
    assert!(!broken.status.success(), "{broken}");
    assert!(
        broken.stdout.contains("audit trail broken at entry 3"),
        "{broken}"
    );
    Ok(())
}

#[tokio::test]
async fn setu_audit_prints_the_trail_for_admins_only() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-1007", Role::Officer).await?;
    let created = create(&officer, "Client Kumar Example").await?;
    let admin_config = district.dir().join("admin.toml");
    write_client_config(
        &admin_config,
        &district.node.url(),
        &district.ca.cert_path(),
        &district.ca.officer(DHANBAD, "JH-9003", Role::Admin)?,
    )?;
    let officer_config = district.dir().join("officer.toml");
    write_client_config(
        &officer_config,
        &district.node.url(),
        &district.ca.cert_path(),
        &district.ca.officer(DHANBAD, "JH-1008", Role::Officer)?,
    )?;

    let table = setu(
        &admin_config,
        &["audit", "--officer", "JH-1007", "--since", "2020-01-01"],
    )
    .await?
    .success()?;
    assert!(table.stdout.starts_with("TIME"), "{table}");
    assert!(table.stdout.contains("record.create"), "{table}");
    assert!(table.stdout.contains(&created.id), "{table}");
    assert!(table.stdout.contains("UTC"), "{table}");

    let json = setu(
        &admin_config,
        &["audit", "--record", &created.id, "--limit", "5", "--json"],
    )
    .await?
    .success()?;
    let value: serde_json::Value = serde_json::from_str(&json.stdout)?;
    let entries = value["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{json}");
    assert_eq!(entries[0]["officer"], "JH-1007");
    assert_eq!(entries[0]["action"], "record.create");
    assert_eq!(entries[0]["outcome"], "OK");

    // Newest first, to the second, with the query of a search and one style of action.
    officer
        .search()
        .search(setu_proto::v1::SearchRequest {
            text: "Client Kumar".to_string(),
            ..Default::default()
        })
        .await?;
    let table = setu_with(
        &admin_config,
        &["audit", "--officer", "JH-1007"],
        &[("COLUMNS", "160")],
    )
    .await?
    .success()?;
    let rows: Vec<&str> = table.stdout.lines().skip(1).collect();
    assert!(rows[0].contains("search.search"), "{table}");
    assert!(rows[0].contains("Client Kumar"), "{table}");
    assert!(
        rows.last().is_some_and(|r| r.contains("record.create")),
        "{table}"
    );
    let seconds = rows[0].split_whitespace().nth(1).unwrap_or_default();
    assert_eq!(seconds.matches(':').count(), 2, "{table}");
    assert!(!table.stdout.contains("SearchService"), "{table}");
    let oldest = setu(
        &admin_config,
        &["audit", "--officer", "JH-1007", "--oldest-first"],
    )
    .await?
    .success()?;
    let first = oldest.stdout.lines().nth(1).unwrap_or_default();
    assert!(first.contains("record.create"), "{oldest}");

    let refused = setu(&officer_config, &["audit"]).await?;
    assert!(!refused.status.success(), "{refused}");
    assert!(refused.stderr.contains("admin"), "{refused}");
    Ok(())
}

#[tokio::test]
async fn a_retention_under_a_year_is_refused() -> anyhow::Result<()> {
    setu_tests::init();
    let dir = tempfile::tempdir()?;
    let ca = setu_tests::TestCa::create(&dir.path().join("ca"), "Test State CA")?;
    let mut config = setu_tests::node::test_config(
        DHANBAD,
        dir.path().join("data"),
        &ca.node(DHANBAD)?,
        vec![setu_tests::node::state_trust(&ca.cert_path(), DHANBAD)],
    );
    assert_eq!(config.audit_retention_days, 400);
    config.audit_retention_days = 30;
    let err = match setu_node::server::start(config).await {
        Ok(_) => anyhow::bail!("a node started with a 30-day audit retention"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("audit_retention_days"), "{err}");
    assert!(err.contains("365"), "{err}");
    Ok(())
}
