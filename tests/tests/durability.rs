//! Durability and start-up checks: acknowledged writes survive a graceful restart and a
//! `kill -9` of the real `setu-node` binary, every stored write keeps its audit entry
//! through `kill -9` under concurrent load, and a bad config stops the binary at once
//! with exit code 64 and a message naming the key.
#![forbid(unsafe_code)]

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use setu_node::config::NodeConfig;
use setu_proto::v1::upload_photo_request::Part;
use setu_proto::v1::{
    AuditEntry, CreateMoNoteRequest, CreateRecordRequest, GetMoNoteRequest, GetRecordRequest,
    ListAuditRequest, ListRecordsRequest, MoCategory, PersonRecord, PersonStatus,
    UpdateRecordRequest, UploadPhotoHeader, UploadPhotoRequest,
};
use setu_tests::bins::{self, NodeProcess};
use setu_tests::fixtures::sample_note;
use setu_tests::node::test_config;
use setu_tests::{connect, png_bytes, records, sample_record, wait_until, District, Role, TestCa};

const DHANBAD: &str = "jh-dhanbad";

#[tokio::test]
async fn data_survives_a_graceful_restart() -> anyhow::Result<()> {
    let mut district = District::start(DHANBAD).await?;
    let (record, note, photo_sha) = {
        let officer = district.officer("JH-5001", Role::Officer).await?;
        let created = officer
            .records()
            .create(CreateRecordRequest {
                record: Some(sample_record("Test Durable Example")),
            })
            .await?
            .into_inner();
        let mut change = created.clone();
        change.status = PersonStatus::InCustody as i32;
        officer
            .records()
            .update(UpdateRecordRequest {
                record: Some(change),
                expected_version: 1,
            })
            .await?;
        let png = png_bytes([10, 20, 30]);
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
                    part: Some(Part::Chunk(png)),
                },
            ]))
            .await?
            .into_inner();
        let record = uploaded.record.expect("the upload returns the record");
        let note = officer
            .mo()
            .create(CreateMoNoteRequest {
                note: Some(sample_note(
                    MoCategory::ChainSnatching,
                    "Two riders on a motorcycle",
                    std::slice::from_ref(&record.id),
                )),
            })
            .await?
            .into_inner();
        let sha = record.photos[0].sha256.clone();
        (record, note, sha)
        // The officer's channel is dropped here, before the restart.
    };
    let old_addr = district.node.addr();
    district.node.restart().await?;
    assert_ne!(
        district.node.addr(),
        old_addr,
        "the restarted node listens on a new port"
    );

    let officer = district.officer("JH-5001", Role::Officer).await?;
    let stored = officer
        .records()
        .get(GetRecordRequest {
            id: record.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(stored, record);
    assert_eq!(stored.version, 3);
    assert_eq!(stored.status, PersonStatus::InCustody as i32);
    let stored_note = officer
        .mo()
        .get(GetMoNoteRequest {
            id: note.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(stored_note, note);
    let (_, bytes) = district
        .node
        .storage()
        .photo(&photo_sha)?
        .expect("the photo survives the restart");
    assert_eq!(bytes, png_bytes([10, 20, 30]));

    // And the restarted node keeps taking writes.
    let more = officer
        .records()
        .create(CreateRecordRequest {
            record: Some(sample_record("Test After Restart Example")),
        })
        .await?
        .into_inner();
    assert_eq!(more.version, 1);
    district.node.shutdown().await?;
    Ok(())
}

/// A CA, a node certificate for `district` and a `node.toml` in `dir`; returns the config
/// path and the CA.
fn node_files(
    dir: &Path,
    district: &str,
) -> anyhow::Result<(std::path::PathBuf, TestCa, NodeConfig)> {
    setu_tests::init();
    let ca = TestCa::create(&dir.join("ca"), "Test Jharkhand CA")?;
    let node_cert = ca.node(district)?;
    let config = test_config(
        district,
        dir.join("data"),
        &node_cert,
        vec![setu_tests::node::state_trust(&ca.cert_path(), DHANBAD)],
    );
    let path = dir.join("node.toml");
    bins::write_node_config(&path, &config)?;
    Ok((path, ca, config))
}

#[tokio::test]
async fn an_acknowledged_create_survives_kill_9() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (config_path, ca, _) = node_files(dir.path(), DHANBAD)?;
    let officer_cert = ca.officer(DHANBAD, "JH-5101", Role::Officer)?;

    let node = NodeProcess::start(&config_path, &dir.path().join("node-1.log")).await?;
    let channel = connect(node.addr(), &ca.cert_path(), Some(&officer_cert)).await?;
    let mut created: Vec<PersonRecord> = Vec::new();
    for i in 0..3 {
        let record = records(&channel)
            .create(CreateRecordRequest {
                record: Some(sample_record(&format!("Test Crash Witness {i} Example"))),
            })
            .await?
            .into_inner();
        created.push(record);
    }
    // As soon as the last Create is acknowledged: SIGKILL, no flush, no shutdown.
    let status = node.kill9().await?;
    assert_eq!(
        status.signal(),
        Some(9),
        "the node was killed by SIGKILL: {status:?}"
    );
    drop(channel);

    let node = NodeProcess::start(&config_path, &dir.path().join("node-2.log")).await?;
    let channel = connect(node.addr(), &ca.cert_path(), Some(&officer_cert)).await?;
    for record in &created {
        let stored = records(&channel)
            .get(GetRecordRequest {
                id: record.id.clone(),
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}\nnode log:\n{}", node.log()))?
            .into_inner();
        assert_eq!(&stored, record);
    }
    let listed = records(&channel)
        .list(ListRecordsRequest::default())
        .await?
        .into_inner();
    assert_eq!(listed.records.len(), created.len());
    node.kill9().await?;
    Ok(())
}

#[tokio::test]
async fn a_key_readable_by_others_stops_the_binary_with_exit_64() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (config_path, _ca, config) = node_files(dir.path(), DHANBAD)?;
    std::fs::set_permissions(&config.key, std::fs::Permissions::from_mode(0o644))?;

    let config_arg = config_path.to_string_lossy().into_owned();
    let finished = bins::run(bins::NODE_BIN, &["serve", "--config", &config_arg]).await?;
    assert_eq!(finished.status.code(), Some(64), "{finished}");
    let key = config.key.to_string_lossy().into_owned();
    assert!(
        finished.stderr.contains(&key),
        "stderr should name the key file:\n{finished}"
    );
    assert!(
        finished.stderr.contains("chmod 600"),
        "stderr should say how to fix it:\n{finished}"
    );
    assert!(
        finished.stderr.contains("`key`"),
        "stderr should name the config key:\n{finished}"
    );
    assert!(!finished.stdout.contains("listening"), "{finished}");
    assert!(
        !config.data_dir.exists(),
        "nothing is created before the config is valid"
    );
    Ok(())
}

#[tokio::test]
async fn a_bad_district_id_stops_the_binary_with_exit_64() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (config_path, _ca, mut config) = node_files(dir.path(), DHANBAD)?;
    config.district = "Jh_Dhanbad".to_string();
    bins::write_node_config(&config_path, &config)?;

    let config_arg = config_path.to_string_lossy().into_owned();
    let finished = bins::run(bins::NODE_BIN, &["serve", "--config", &config_arg]).await?;
    assert_eq!(finished.status.code(), Some(64), "{finished}");
    assert!(
        finished.stderr.contains("`district`"),
        "stderr should name the key:\n{finished}"
    );
    assert!(
        finished.stderr.contains("Jh_Dhanbad"),
        "stderr should quote the value:\n{finished}"
    );
    assert!(!config.data_dir.exists());

    // A missing config file is a usage error too, naming the file.
    let missing = dir.path().join("missing.toml");
    let missing_arg = missing.to_string_lossy().into_owned();
    let finished = bins::run(bins::NODE_BIN, &["serve", "--config", &missing_arg]).await?;
    assert_eq!(finished.status.code(), Some(64), "{finished}");
    assert!(finished.stderr.contains(&missing_arg), "{finished}");
    Ok(())
}

#[tokio::test]
async fn a_second_node_on_a_data_dir_in_use_is_refused_with_a_clear_message() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let (config_path, ca, config) = node_files(dir.path(), DHANBAD)?;
    let officer_cert = ca.officer(DHANBAD, "JH-5201", Role::Officer)?;
    let node = NodeProcess::start(&config_path, &dir.path().join("node-1.log")).await?;
    let channel = connect(node.addr(), &ca.cert_path(), Some(&officer_cert)).await?;
    let created = records(&channel)
        .create(CreateRecordRequest {
            record: Some(sample_record("Test Lock Holder Example")),
        })
        .await?
        .into_inner();

    // The same config (port 0, the same data_dir) started again while the first runs.
    let config_arg = config_path.to_string_lossy().into_owned();
    let finished = bins::run(bins::NODE_BIN, &["serve", "--config", &config_arg]).await?;
    assert!(!finished.status.success(), "{finished}");
    let data_dir = config.data_dir.display().to_string();
    assert!(
        finished.stderr.contains(&format!(
            "data_dir {data_dir} is in use by setu-node process"
        )),
        "stderr should name the folder and the holder:\n{finished}"
    );
    assert!(
        finished.stderr.contains("stop that node first"),
        "stderr should say what to do:\n{finished}"
    );
    assert!(!finished.stdout.contains("listening"), "{finished}");

    // The first node was not disturbed.
    let stored = records(&channel)
        .get(GetRecordRequest {
            id: created.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(stored, created);
    node.kill9().await?;
    Ok(())
}

/// Concurrent clients of the load test.
const CLIENTS: usize = 8;
/// Acknowledged creates per load phase before the node is killed.
const CREATES_PER_PHASE: usize = 40;
/// How many times the node is killed.
const KILLS: usize = 3;

/// Every record of the node `channel` is connected to, in id order.
async fn all_records(channel: &tonic::transport::Channel) -> anyhow::Result<Vec<PersonRecord>> {
    let mut out = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = records(channel)
            .list(ListRecordsRequest {
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        out.extend(page.records);
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        page_token = page.next_page_token;
    }
}

/// The whole audit trail of the node `channel` (an admin's) is connected to.
async fn all_audit(channel: &tonic::transport::Channel) -> anyhow::Result<Vec<AuditEntry>> {
    let mut out = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = setu_tests::client::audit(channel)
            .list(ListAuditRequest {
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        out.extend(page.entries);
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn every_stored_write_keeps_its_audit_entry_through_kill_9_under_load() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let (config_path, ca, config) = node_files(dir.path(), DHANBAD)?;
    let officers = (0..CLIENTS)
        .map(|i| ca.officer(DHANBAD, &format!("JH-54{i:02}"), Role::Officer))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let admin = ca.officer(DHANBAD, "JH-5499", Role::Admin)?;
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));

    for kill in 0..KILLS {
        let log = dir.path().join(format!("node-{kill}.log"));
        let node = NodeProcess::start(&config_path, &log).await?;
        let acked_here = Arc::new(AtomicUsize::new(0));
        let mut clients = Vec::new();
        for (i, officer) in officers.iter().enumerate() {
            let channel = connect(node.addr(), &ca.cert_path(), Some(officer)).await?;
            let acked_here = acked_here.clone();
            let acknowledged = acknowledged.clone();
            clients.push(tokio::spawn(async move {
                // Creates until the node dies under it; only acknowledged ids are kept.
                for n in 0.. {
                    let created = records(&channel)
                        .create(CreateRecordRequest {
                            record: Some(sample_record(&format!(
                                "Test Load Witness {kill} {i} {n} Example"
                            ))),
                        })
                        .await;
                    match created {
                        Ok(record) => {
                            acknowledged
                                .lock()
                                .expect("the list of acknowledged ids")
                                .push(record.into_inner().id);
                            acked_here.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => return,
                    }
                }
            }));
        }
        wait_until(
            Duration::from_secs(20),
            "the load phase has its acknowledged creates",
            || {
                let acked_here = acked_here.clone();
                async move { acked_here.load(Ordering::SeqCst) >= CREATES_PER_PHASE }
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}\nnode log:\n{}", node.log()))?;
        // Mid-load: the clients are still creating when SIGKILL arrives.
        let status = node.kill9().await?;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
        for client in clients {
            tokio::time::timeout(Duration::from_secs(10), client).await??;
        }
    }

    // After the last kill, the database as it was left.
    let node = NodeProcess::start(&config_path, &dir.path().join("node-last.log")).await?;
    let officer_channel = connect(node.addr(), &ca.cert_path(), Some(&officers[0])).await?;
    let admin_channel = connect(node.addr(), &ca.cert_path(), Some(&admin)).await?;
    let stored = all_records(&officer_channel).await?;
    let trail = all_audit(&admin_channel).await?;
    node.kill9().await?;

    let data_dir = config.data_dir.to_string_lossy().into_owned();
    let verified = bins::run(
        bins::NODE_BIN,
        &["audit", "verify", "--data-dir", &data_dir],
    )
    .await?;
    assert!(verified.status.success(), "{verified}");
    assert!(verified.stdout.contains("audit trail intact"), "{verified}");

    let stored_ids: std::collections::BTreeSet<&str> =
        stored.iter().map(|r| r.id.as_str()).collect();
    let acknowledged = acknowledged.lock().expect("the list of acknowledged ids");
    assert!(acknowledged.len() >= KILLS * CREATES_PER_PHASE);
    for id in acknowledged.iter() {
        assert!(
            stored_ids.contains(id.as_str()),
            "acknowledged create {id} is stored"
        );
    }
    let created_in_trail: std::collections::BTreeSet<&str> = trail
        .iter()
        .filter(|e| e.action == "record.create" && e.outcome == "OK")
        .flat_map(|e| e.ids.iter().map(String::as_str))
        .collect();
    for id in &stored_ids {
        assert!(
            created_in_trail.contains(id),
            "stored record {id} has its record.create audit entry"
        );
    }
    // And no create entry names a record that is not stored: entry and write are one.
    for id in &created_in_trail {
        assert!(stored_ids.contains(id), "audited create {id} is stored");
    }
    Ok(())
}
