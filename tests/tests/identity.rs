//! Who may do what: roles and districts come from the verified client certificate, and the
//! TLS layer refuses callers without a certificate, from an untrusted CA or with an expired
//! one — on the first call, after a valid call has proved the node is serving.
#![forbid(unsafe_code)]

use setu_node::config::{NodeConfig, TrustConfig};
use setu_node::trust::anchors::CertKind;
use setu_proto::v1::{
    CreateRecordRequest, DeleteRecordRequest, GetRecordRequest, ListRecordsRequest, PersonRecord,
    PersonStatus, UpdateRecordRequest,
};
use setu_tests::client::describe;
use setu_tests::node::test_config;
use setu_tests::pki::CertPair;
use setu_tests::{connect, records, sample_record, tls_alert, District, Officer, Role, TestCa};
use tonic::Code;

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

async fn get(officer: &Officer, id: &str) -> anyhow::Result<PersonRecord> {
    Ok(officer
        .records()
        .get(GetRecordRequest { id: id.to_string() })
        .await?
        .into_inner())
}

#[tokio::test]
async fn an_officer_without_the_admin_role_cannot_expunge() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-2001", Role::Officer).await?;
    let liaison = district.officer("JH-2002", Role::Liaison).await?;
    let record = create(&officer, "Test Delete Target Example").await?;

    for caller in [&officer, &liaison] {
        let err = caller
            .records()
            .delete(DeleteRecordRequest {
                id: record.id.clone(),
                reason: "trying without the admin role".to_string(),
                expected_version: 0,
            })
            .await
            .expect_err("only an admin may expunge");
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        assert!(err.message().contains("admin"), "{}", err.message());
    }
    assert_eq!(
        get(&officer, &record.id).await?,
        record,
        "the record is untouched"
    );
    Ok(())
}

#[tokio::test]
async fn an_officer_of_another_district_is_sent_to_its_own_node() -> anyhow::Result<()> {
    // The other state's CA exists first, so that the Dhanbad node can bind it to its
    // officers: they are believed to be West Bengal officers, and refused as such.
    let other_dir = tempfile::tempdir()?;
    let west_bengal = TestCa::create(other_dir.path(), "Test West Bengal CA")?;
    let district = District::start_trusting(
        DHANBAD,
        &[TrustConfig::new(
            west_bengal.cert_path(),
            &["wb-*"],
            &[CertKind::Officer],
        )],
    )
    .await?;
    let local = district.officer("JH-2101", Role::Officer).await?;
    let record = create(&local, "Test Border Case Example").await?;

    let visitor_cert = west_bengal.officer(ASANSOL, "WB-3101", Role::Admin)?;
    let visitor = district
        .connect_as(visitor_cert, "WB-3101 (wb-asansol-durgapur)")
        .await?;

    // Not even reading: peer data reaches peer officers through federation only.
    let err = visitor
        .records()
        .get(GetRecordRequest {
            id: record.id.clone(),
        })
        .await
        .expect_err("an officer of another district may not read on this node");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(
        err.message(),
        "officers of wb-asansol-durgapur use their own district's node; what jh-dhanbad shares with them is there"
    );
    let mut change = record.clone();
    change.status = PersonStatus::Arrested as i32;
    let err = visitor
        .records()
        .update(UpdateRecordRequest {
            record: Some(change),
            expected_version: record.version,
        })
        .await
        .expect_err("an officer of another district may not change the record");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = visitor
        .records()
        .delete(DeleteRecordRequest {
            id: record.id.clone(),
            reason: "not ours to delete".to_string(),
            expected_version: 0,
        })
        .await
        .expect_err("an officer of another district may not expunge the record");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = visitor
        .records()
        .create(CreateRecordRequest {
            record: Some(sample_record("Test Foreign Entry Example")),
        })
        .await
        .expect_err("an officer of another district may not create records here");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(
        get(&local, &record.id).await?,
        record,
        "the record is unchanged"
    );
    let list = local
        .records()
        .list(ListRecordsRequest::default())
        .await?
        .into_inner();
    assert_eq!(list.records, vec![record]);

    // Every refusal is in the district's audit trail, under the visitor's badge.
    let entries = district.node.storage().audit_range(0, 1000)?;
    let refused: Vec<_> = entries
        .iter()
        .filter(|e| e.officer == "WB-3101" && e.outcome == "PERMISSION_DENIED")
        .collect();
    assert_eq!(refused.len(), 4, "{entries:#?}");
    Ok(())
}

#[tokio::test]
async fn a_node_certificate_is_not_an_officer() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-2201", Role::Admin).await?;
    let record = create(&officer, "Test Node Probe Example").await?;

    let node_cert = district.ca.node(DHANBAD)?;
    let node = district.connect_as(node_cert, "node jh-dhanbad").await?;
    let err = node
        .records()
        .get(GetRecordRequest {
            id: record.id.clone(),
        })
        .await
        .expect_err("a node certificate may not call officer services");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(
        err.message().contains("officer certificate"),
        "{}",
        err.message()
    );
    let err = node
        .records()
        .create(CreateRecordRequest {
            record: Some(sample_record("Test Node Entry Example")),
        })
        .await
        .expect_err("a node certificate may not create records");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let list = officer
        .records()
        .list(ListRecordsRequest::default())
        .await?
        .into_inner();
    assert_eq!(list.records, vec![record]);
    Ok(())
}

#[test]
fn an_officer_certificate_cannot_serve_as_a_node() -> anyhow::Result<()> {
    setu_tests::init();
    let dir = tempfile::tempdir()?;
    let ca = TestCa::create(&dir.path().join("ca"), "Test Jharkhand CA")?;
    let officer = ca.officer(DHANBAD, "JH-2301", Role::Admin)?;
    let config: NodeConfig = test_config(
        DHANBAD,
        dir.path().join("data"),
        &officer,
        vec![setu_tests::node::state_trust(&ca.cert_path(), DHANBAD)],
    );
    let err = config
        .validate()
        .expect_err("an officer certificate is not a node certificate");
    assert_eq!(err.key, "cert", "{err}");
    assert!(err.problem.contains("not a node certificate"), "{err}");

    // A node certificate of another district is refused too, naming both districts.
    let other = ca.node("jh-bokaro")?;
    let config = test_config(
        DHANBAD,
        dir.path().join("data"),
        &other,
        vec![setu_tests::node::state_trust(&ca.cert_path(), DHANBAD)],
    );
    let err = config
        .validate()
        .expect_err("another district's node certificate");
    assert_eq!(err.key, "cert", "{err}");
    assert!(
        err.problem.contains("jh-bokaro") && err.problem.contains(DHANBAD),
        "{err}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "validation creates nothing"
    );
    Ok(())
}

/// Proves the node serves a valid officer, then returns the first call's error for
/// `identity` (connecting itself may succeed or fail, depending on the TLS version).
async fn refused_first_call(
    district: &District,
    identity: Option<&CertPair>,
) -> anyhow::Result<tonic::Status> {
    let valid = district.officer("JH-2401", Role::Officer).await?;
    let page = valid.records().list(ListRecordsRequest::default()).await?;
    assert!(page.into_inner().records.is_empty());

    let channel = match connect(district.node.addr(), &district.ca.cert_path(), identity).await {
        Ok(channel) => channel,
        Err(e) => return Ok(tonic::Status::unavailable(format!("connect failed: {e:#}"))),
    };
    match records(&channel).list(ListRecordsRequest::default()).await {
        Ok(_) => {
            anyhow::bail!("the first call succeeded although the certificate is not acceptable")
        }
        Err(status) => Ok(status),
    }
}

#[tokio::test]
async fn no_client_certificate_fails_the_first_call() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let status = refused_first_call(&district, None).await?;
    assert_ne!(status.code(), Code::Ok);
    assert_eq!(
        tls_alert(&status),
        Some(rustls::AlertDescription::CertificateRequired),
        "{}",
        describe(&status)
    );
    Ok(())
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_fails_the_first_call() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let rogue_dir = tempfile::tempdir()?;
    let rogue = TestCa::create(rogue_dir.path(), "Test Rogue CA")?;
    // Same district, badge and role as a real officer: only the issuer differs.
    let impostor = rogue.officer(DHANBAD, "JH-2401", Role::Admin)?;
    let status = refused_first_call(&district, Some(&impostor)).await?;
    assert_ne!(status.code(), Code::Ok);
    assert_eq!(
        tls_alert(&status),
        Some(rustls::AlertDescription::UnknownCA),
        "{}",
        describe(&status)
    );
    Ok(())
}

#[tokio::test]
async fn an_expired_officer_certificate_fails_the_first_call() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let expired = district
        .ca
        .expired_officer(DHANBAD, "JH-2501", Role::Admin)?;
    let status = refused_first_call(&district, Some(&expired)).await?;
    assert_ne!(status.code(), Code::Ok);
    assert_eq!(
        tls_alert(&status),
        Some(rustls::AlertDescription::CertificateExpired),
        "{}",
        describe(&status)
    );
    Ok(())
}
