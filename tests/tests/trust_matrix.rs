//! The trust boundary as a matrix: certificates from the node's own state CA, the peer
//! state's CA and an unknown CA, naming the node's own district, the peer's and a third,
//! of every kind (officer, liaison, admin, node), each trying every sensitive call on
//! Dhanbad's node over real mutual TLS. Each cell has one expected outcome: a state CA
//! vouches only for the districts it is bound to, a peer's CA only for the peer's node, a
//! node serves only its own officers, and every refusal of a certificate that carried an
//! identity is in the audit trail (a certificate not vouched for recorded as unknown).
#![forbid(unsafe_code)]

use std::fmt;

use setu_proto::v1::federation_service_client::FederationServiceClient;
use setu_proto::v1::maintenance_service_client::MaintenanceServiceClient;
use setu_proto::v1::{
    BackupRequest, CreateRecordRequest, DeleteRecordRequest, GetRecordRequest, Handling,
    ListAuditRequest, ListRecordsRequest, SearchRequest, SyncRequest,
};
use setu_tests::client::describe;
use setu_tests::mesh::Mesh;
use setu_tests::pki::CertPair;
use setu_tests::{connect, sample_record, tls_alert, Role, TestCa};
use tonic::transport::Channel;
use tonic::Code;

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";
const THIRD: &str = "br-gaya";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Issuer {
    OwnState,
    PeerState,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    Own,
    Peer,
    Third,
}

impl Claim {
    fn district(self) -> &'static str {
        match self {
            Claim::Own => DHANBAD,
            Claim::Peer => ASANSOL,
            Claim::Third => THIRD,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Officer,
    Liaison,
    Admin,
    Node,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    ReadLocalOnly,
    List,
    Search,
    Audit,
    Expunge,
    Backup,
    FederationSync,
}

const CALLS: [Call; 7] = [
    Call::ReadLocalOnly,
    Call::List,
    Call::Search,
    Call::Audit,
    Call::Expunge,
    Call::Backup,
    Call::FederationSync,
];

/// What a cell must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The handshake's CA check refuses the certificate (a TLS alert on the first call).
    TlsRefused,
    /// A gRPC status code.
    Code(Code),
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::TlsRefused => f.write_str("refused in the TLS handshake"),
            Expect::Code(code) => write!(f, "{code:?}"),
        }
    }
}

/// The rule the matrix checks, written out once.
fn expected(issuer: Issuer, claim: Claim, kind: Kind, call: Call) -> Expect {
    use Code::{Ok, PermissionDenied, Unauthenticated};
    if issuer == Issuer::Unknown {
        return Expect::TlsRefused;
    }
    // Dhanbad binds the Jharkhand CA to its own district's officers and nodes, and the
    // West Bengal CA (Asansol's `ca`) to Asansol's node alone.
    let vouched = matches!(
        (issuer, claim, kind),
        (Issuer::OwnState, Claim::Own, _) | (Issuer::PeerState, Claim::Peer, Kind::Node)
    );
    // West Bengal's CA is believed about West Bengal's officers only so far as to send
    // them to their own node.
    let peer_officer = issuer == Issuer::PeerState && claim == Claim::Peer && kind != Kind::Node;
    if peer_officer {
        return Expect::Code(PermissionDenied);
    }
    if !vouched {
        return Expect::Code(Unauthenticated);
    }
    let code = match (claim, kind, call) {
        (Claim::Own, Kind::Node, Call::Backup) => Ok,
        (Claim::Own, Kind::Node, _) => PermissionDenied,
        (Claim::Own, _, Call::FederationSync) => PermissionDenied,
        (Claim::Own, Kind::Admin, _) => Ok,
        (Claim::Own, _, Call::Audit | Call::Expunge | Call::Backup) => PermissionDenied,
        (Claim::Own, _, _) => Ok,
        (Claim::Peer, Kind::Node, Call::FederationSync) => Ok,
        (Claim::Peer, Kind::Node, _) => PermissionDenied,
        _ => unreachable!("only Dhanbad's identities and Asansol's node are vouched for"),
    };
    Expect::Code(code)
}

/// Makes one call and returns its outcome.
async fn attempt(
    channel: &Channel,
    call: Call,
    record: &str,
    expungeable: &str,
) -> Result<(), tonic::Status> {
    let records = setu_tests::client::records(channel);
    match call {
        Call::ReadLocalOnly => records
            .clone()
            .get(GetRecordRequest {
                id: record.to_string(),
            })
            .await
            .map(drop),
        Call::List => records
            .clone()
            .list(ListRecordsRequest::default())
            .await
            .map(drop),
        Call::Search => setu_tests::client::search(channel)
            .search(SearchRequest {
                text: "Test Matrix Example".to_string(),
                ..Default::default()
            })
            .await
            .map(drop),
        Call::Audit => setu_tests::client::audit(channel)
            .list(ListAuditRequest::default())
            .await
            .map(drop),
        Call::Expunge => records
            .clone()
            .delete(DeleteRecordRequest {
                id: expungeable.to_string(),
                reason: "trust matrix test".to_string(),
                expected_version: 0,
            })
            .await
            .map(drop),
        Call::Backup => {
            let mut stream = MaintenanceServiceClient::new(channel.clone())
                .max_decoding_message_size(64 * 1024 * 1024)
                .backup(BackupRequest {})
                .await?
                .into_inner();
            // The first chunk proves the node started sending.
            stream.message().await.map(drop)
        }
        Call::FederationSync => FederationServiceClient::new(channel.clone())
            .sync(SyncRequest::default())
            .await
            .map(drop),
    }
}

fn outcome(result: &Result<(), tonic::Status>) -> Expect {
    match result {
        Ok(()) => Expect::Code(Code::Ok),
        Err(status) if tls_alert(status).is_some() => Expect::TlsRefused,
        Err(status) => Expect::Code(status.code()),
    }
}

fn certificate(ca: &TestCa, claim: Claim, kind: Kind, serial: usize) -> anyhow::Result<CertPair> {
    let district = claim.district();
    let badge = format!("MX-{serial:04}");
    match kind {
        Kind::Officer => ca.officer(district, &badge, Role::Officer),
        Kind::Liaison => ca.officer(district, &badge, Role::Liaison),
        Kind::Admin => ca.officer(district, &badge, Role::Admin),
        Kind::Node => ca.node(district),
    }
}

#[tokio::test]
async fn every_issuer_claim_kind_and_call_gets_its_expected_outcome() -> anyhow::Result<()> {
    let mesh = Mesh::two_states(DHANBAD, ASANSOL)?.start().await?;
    let unknown_dir = tempfile::tempdir()?;
    let unknown = TestCa::create(unknown_dir.path(), "Test Unknown CA")?;
    let dhanbad = mesh.node(DHANBAD);
    let admin = mesh.officer(DHANBAD, "JH-7001", Role::Admin).await?;

    // A local-only record to read, and one fresh record for every expunge attempt.
    let mut local_only = sample_record("Test Matrix Example");
    local_only.handling = Handling::LocalOnly as i32;
    let record = admin
        .records()
        .create(CreateRecordRequest {
            record: Some(local_only.clone()),
        })
        .await?
        .into_inner();
    let issuers = [Issuer::OwnState, Issuer::PeerState, Issuer::Unknown];
    let claims = [Claim::Own, Claim::Peer, Claim::Third];
    let kinds = [Kind::Officer, Kind::Liaison, Kind::Admin, Kind::Node];
    let cells = issuers.len() * claims.len() * kinds.len();
    let mut expungeable = Vec::with_capacity(cells);
    for _ in 0..cells {
        let created = admin
            .records()
            .create(CreateRecordRequest {
                record: Some(local_only.clone()),
            })
            .await?
            .into_inner();
        expungeable.push(created.id);
    }
    let audit_before = dhanbad.storage().audit_range(0, usize::MAX)?.len();

    let mut failures = Vec::new();
    let mut audited_calls = 0;
    let mut forged_badges = Vec::new();
    let mut serial = 0;
    for issuer in issuers {
        let ca = match issuer {
            Issuer::OwnState => mesh.ca("jh"),
            Issuer::PeerState => mesh.ca("wb"),
            Issuer::Unknown => &unknown,
        };
        for claim in claims {
            for kind in kinds {
                serial += 1;
                let cert = certificate(ca, claim, kind, serial)?;
                if kind != Kind::Node && !(issuer == Issuer::OwnState && claim == Claim::Own) {
                    forged_badges.push(format!("MX-{serial:04}"));
                }
                // The client trusts the Jharkhand CA, which issued Dhanbad's certificate.
                let channel =
                    connect(dhanbad.addr(), &mesh.ca("jh").cert_path(), Some(&cert)).await?;
                for call in CALLS {
                    let want = expected(issuer, claim, kind, call);
                    let result =
                        attempt(&channel, call, &record.id, &expungeable[serial - 1]).await;
                    let got = outcome(&result);
                    if got != want {
                        let detail = match &result {
                            Ok(()) => "OK".to_string(),
                            Err(status) => describe(status),
                        };
                        failures.push(format!(
                            "{issuer:?} CA, {claim:?} district, {kind:?}, {call:?}: expected {want}, got {got} ({detail})"
                        ));
                    }
                    // Every call that reached the node with an identity leaves one entry,
                    // except a successful sync (federation traffic is not audited).
                    if want != Expect::TlsRefused
                        && !(call == Call::FederationSync && want == Expect::Code(Code::Ok))
                    {
                        audited_calls += 1;
                    }
                    if let Err(status) = &result {
                        assert!(
                            status.message().len() < 400,
                            "a refusal stays short: {}",
                            status.message()
                        );
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The trail holds one entry per call, and never names a badge that only a CA not bound
    // to Dhanbad vouched for as one of Dhanbad's officers.
    let entries = dhanbad.storage().audit_range(0, usize::MAX)?;
    let new_entries = &entries[audit_before..];
    assert_eq!(new_entries.len(), audited_calls, "one audit entry per call");
    for entry in new_entries {
        if entry.district == DHANBAD {
            assert!(
                !forged_badges.contains(&entry.officer),
                "an unvouched certificate is recorded as {}: {entry:?}",
                entry.officer
            );
        }
    }
    let disowned = new_entries
        .iter()
        .filter(|e| e.outcome == "UNAUTHENTICATED")
        .inspect(|e| {
            assert_eq!(e.officer, "unknown", "{e:?}");
            assert!(e.query.contains("not vouched for"), "{e:?}");
        })
        .count();
    assert!(disowned > 0, "refusals of forged identities are audited");
    let sent_home = new_entries
        .iter()
        .filter(|e| e.outcome == "PERMISSION_DENIED" && e.district == ASANSOL && e.role != "node")
        .count();
    assert_eq!(
        sent_home,
        3 * CALLS.len(),
        "each West Bengal officer's calls (federation included) are refused and audited under its badge"
    );
    Ok(())
}

#[tokio::test]
async fn a_peer_officer_is_told_to_use_its_own_node() -> anyhow::Result<()> {
    let mesh = Mesh::two_states(DHANBAD, ASANSOL)?.start().await?;
    let local = mesh.officer(DHANBAD, "JH-7101", Role::Officer).await?;
    let mut local_only = sample_record("Test Matrix Neighbour");
    local_only.handling = Handling::LocalOnly as i32;
    let record = local
        .records()
        .create(CreateRecordRequest {
            record: Some(local_only),
        })
        .await?
        .into_inner();
    // A West Bengal officer's own certificate, pointed at Dhanbad's node.
    let cert = mesh.ca("wb").officer(ASANSOL, "WB-7201", Role::Officer)?;
    let channel = connect(
        mesh.node(DHANBAD).addr(),
        &mesh.ca("jh").cert_path(),
        Some(&cert),
    )
    .await?;
    let err = setu_tests::client::records(&channel)
        .get(GetRecordRequest {
            id: record.id.clone(),
        })
        .await
        .expect_err("a peer's officer reads nothing on this node");
    assert_eq!(err.code(), Code::PermissionDenied, "{}", describe(&err));
    assert_eq!(
        err.message(),
        "officers of wb-asansol-durgapur use their own district's node; what jh-dhanbad shares with them is there"
    );
    Ok(())
}
