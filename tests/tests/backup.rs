//! Backup and restore: `setu-node backup` takes a consistent snapshot while the node keeps
//! serving writes, `setu-node restore` writes it into an empty folder under a new epoch (a
//! damaged file or a folder in use is refused), the restored node holds everything
//! acknowledged before the backup with an intact audit trail, and a peer resyncs the
//! restored district: records created after the backup disappear there too, and new ones
//! flow again.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use setu_proto::v1::maintenance_service_client::MaintenanceServiceClient;
use setu_proto::v1::{BackupRequest, CreateRecordRequest, ListRecordsRequest, PersonRecord};
use setu_tests::bins::{self, NodeProcess};
use setu_tests::mesh::{wait_for_record, Mesh, SYNC_TIMEOUT};
use setu_tests::node::test_config;
use setu_tests::wait::wait_until;
use setu_tests::{connect, records, sample_record, Officer, Role, TestCa};
use tokio_stream::StreamExt;

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";

async fn create(officer: &Officer, name: &str) -> anyhow::Result<PersonRecord> {
    Ok(officer
        .records()
        .create(CreateRecordRequest {
            record: Some(sample_record(name)),
        })
        .await?
        .into_inner())
}

/// The ids of `origin`'s records that `officer`'s node holds.
async fn ids_of(officer: &Officer, origin: &str) -> anyhow::Result<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
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
        ids.extend(page.records.into_iter().map(|r| r.id));
        if page.next_page_token.is_empty() {
            return Ok(ids);
        }
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn a_backup_taken_while_writing_restores_through_the_binaries() -> anyhow::Result<()> {
    setu_tests::init();
    let dir = tempfile::tempdir()?;
    let ca = TestCa::create(&dir.path().join("ca"), "Test Jharkhand CA")?;
    let node_cert = ca.node(DHANBAD)?;
    let config = test_config(
        DHANBAD,
        dir.path().join("data"),
        &node_cert,
        vec![setu_tests::node::state_trust(&ca.cert_path(), DHANBAD)],
    );
    let config_path = dir.path().join("node.toml");
    bins::write_node_config(&config_path, &config)?;
    let officer_cert = ca.officer(DHANBAD, "JH-8001", Role::Officer)?;

    let node = NodeProcess::start(&config_path, &dir.path().join("node-1.log")).await?;
    let channel = connect(node.addr(), &ca.cert_path(), Some(&officer_cert)).await?;
    let mut before = BTreeSet::new();
    for i in 0..20 {
        let created = records(&channel)
            .create(CreateRecordRequest {
                record: Some(sample_record(&format!("Test Before Backup {i} Example"))),
            })
            .await?
            .into_inner();
        before.insert(created.id);
    }

    // Four writers keep creating records while the backup runs (more concurrent writes
    // than the node has runtime threads: the backup must not depend on them).
    let writing = Arc::new(AtomicBool::new(true));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let channel = channel.clone();
            let writing = writing.clone();
            tokio::spawn(async move {
                let mut written = 0u32;
                while writing.load(Ordering::SeqCst) {
                    let request = CreateRecordRequest {
                        record: Some(sample_record(&format!(
                            "Test During Backup {w} {written} Example"
                        ))),
                    };
                    if records(&channel).create(request).await.is_ok() {
                        written += 1;
                    }
                }
                written
            })
        })
        .collect();
    let file = dir.path().join("dhanbad.setu-backup");
    let (config_arg, file_arg) = (
        config_path.to_string_lossy().into_owned(),
        file.to_string_lossy().into_owned(),
    );
    let address = format!("https://{}", node.addr());
    let finished = bins::run(
        bins::NODE_BIN,
        &[
            "backup",
            "--config",
            &config_arg,
            "--out",
            &file_arg,
            "--address",
            &address,
        ],
    )
    .await?
    .success()?;
    writing.store(false, Ordering::SeqCst);
    let mut written_during = 0;
    for writer in writers {
        written_during += writer.await?;
    }
    assert!(
        finished.stdout.contains("backup of jh-dhanbad written to"),
        "{finished}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the backup is readable by its owner only");
    }
    let all_ids = {
        let listed = records(&channel)
            .list(ListRecordsRequest {
                page_size: 500,
                ..Default::default()
            })
            .await?
            .into_inner();
        listed
            .records
            .into_iter()
            .map(|r| r.id)
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        all_ids.len(),
        20 + written_during as usize,
        "the node kept serving writes"
    );
    drop(channel);
    node.kill9().await?;

    // A restore refuses a folder in use (not empty) and a damaged file.
    let data_arg = config.data_dir.to_string_lossy().into_owned();
    let refused = bins::run(
        bins::NODE_BIN,
        &["restore", "--from", &file_arg, "--data-dir", &data_arg],
    )
    .await?;
    assert!(!refused.status.success());
    assert!(refused.stderr.contains("is not empty"), "{refused}");
    let damaged = dir.path().join("damaged.setu-backup");
    let mut bytes = std::fs::read(&file)?;
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    std::fs::write(&damaged, bytes)?;
    let restored_dir = dir.path().join("restored");
    let restored_arg = restored_dir.to_string_lossy().into_owned();
    let refused = bins::run(
        bins::NODE_BIN,
        &[
            "restore",
            "--from",
            &damaged.to_string_lossy(),
            "--data-dir",
            &restored_arg,
        ],
    )
    .await?;
    assert!(!refused.status.success());
    assert!(refused.stderr.contains("backup"), "{refused}");
    assert!(
        !restored_dir.join("db").exists(),
        "nothing is written from a damaged file"
    );

    let finished = bins::run(
        bins::NODE_BIN,
        &["restore", "--from", &file_arg, "--data-dir", &restored_arg],
    )
    .await?
    .success()?;
    assert!(
        finished.stdout.contains("under the new epoch"),
        "{finished}"
    );

    // The restored node holds every record acknowledged before the backup, and a
    // consistent cut of those written during it: every listed record reads back whole.
    let mut restored_config = config.clone();
    restored_config.data_dir = restored_dir.clone();
    let restored_path = dir.path().join("restored.toml");
    bins::write_node_config(&restored_path, &restored_config)?;
    let node = NodeProcess::start(&restored_path, &dir.path().join("node-2.log")).await?;
    let channel = connect(node.addr(), &ca.cert_path(), Some(&officer_cert)).await?;
    let listed = records(&channel)
        .list(ListRecordsRequest {
            page_size: 500,
            ..Default::default()
        })
        .await?
        .into_inner();
    let restored: BTreeSet<String> = listed.records.iter().map(|r| r.id.clone()).collect();
    assert!(
        before.is_subset(&restored),
        "everything acknowledged before the backup is back"
    );
    assert!(restored.is_subset(&all_ids), "nothing invented");
    for record in &listed.records {
        let read = records(&channel)
            .get(setu_proto::v1::GetRecordRequest {
                id: record.id.clone(),
            })
            .await?
            .into_inner();
        assert_eq!(&read, record);
    }
    // The restored node takes writes again.
    records(&channel)
        .create(CreateRecordRequest {
            record: Some(sample_record("Test After Restore Example")),
        })
        .await?;
    drop(channel);
    node.kill9().await?;
    let verified = bins::run(
        bins::NODE_BIN,
        &["audit", "verify", "--data-dir", &restored_arg],
    )
    .await?
    .success()?;
    assert!(verified.stdout.contains("audit trail intact"), "{verified}");
    Ok(())
}

#[tokio::test]
async fn a_peer_resyncs_a_restored_district() -> anyhow::Result<()> {
    let mut mesh = Mesh::two_states(DHANBAD, ASANSOL)?.start().await?;
    let admin_a = mesh.officer(DHANBAD, "JH-8101", Role::Admin).await?;
    let officer_b = mesh.officer(ASANSOL, "WB-8201", Role::Officer).await?;

    let kept = create(&admin_a, "Test Kept Example").await?;
    wait_for_record(&officer_b, &kept.id, "the first record reaches B", |_| true).await?;

    // A backup through the API, by an admin of the district.
    let mut stream = MaintenanceServiceClient::new(admin_a.channel.clone())
        .backup(BackupRequest {})
        .await?
        .into_inner();
    let file = mesh.dir().join("a.setu-backup");
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        bytes.extend_from_slice(&chunk.data);
    }
    std::fs::write(&file, &bytes)?;
    // An ordinary officer may not take one.
    let officer_a = mesh.officer(DHANBAD, "JH-8102", Role::Officer).await?;
    let refused = MaintenanceServiceClient::new(officer_a.channel.clone())
        .backup(BackupRequest {})
        .await
        .expect_err("only admins and the node itself take backups");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);

    // A record created after the backup reaches B, then A's disk "fails".
    let lost = create(&admin_a, "Test Lost Example").await?;
    wait_for_record(&officer_b, &lost.id, "the later record reaches B", |_| true).await?;
    drop(admin_a);
    drop(officer_a);
    let restored_dir = mesh.dir().join("a-restored");
    mesh.node_mut(DHANBAD).stop().await?;
    setu_node::storage::backup::restore_backup(&file, &restored_dir)?;
    mesh.node_mut(DHANBAD).config_mut().data_dir = restored_dir;
    mesh.node_mut(DHANBAD).start_again().await?;

    // B resyncs A in full: the record A no longer has is dropped, the kept one stays.
    let admin_a = mesh.officer(DHANBAD, "JH-8103", Role::Admin).await?;
    let expected = ids_of(&admin_a, DHANBAD).await?;
    assert_eq!(expected, BTreeSet::from([kept.id.clone()]));
    wait_until(
        SYNC_TIMEOUT,
        "B holds exactly what the restored A has",
        || {
            let officer_b = officer_b.clone();
            let expected = expected.clone();
            async move { ids_of(&officer_b, DHANBAD).await.ok() == Some(expected) }
        },
    )
    .await?;
    let fresh = create(&admin_a, "Test After Restore Example").await?;
    wait_for_record(
        &officer_b,
        &fresh.id,
        "a new record of the restored A reaches B",
        |_| true,
    )
    .await?;
    Ok(())
}
