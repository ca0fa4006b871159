//! Federation, whom to believe: a relay that tampers with an envelope (or relays a PEERS
//! record it may not pass on) gets it refused while the honest envelopes of the same batch
//! are kept; a second, well-signed body for a change already applied is refused; records
//! signed with a key the origin has since rotated still verify at a peer that joins later;
//! a peer whose node certificate names another district, or chains to a CA that
//! was not configured for it, never gets a link up; and `FederationService` serves only the
//! node certificates of configured peers (officers and other districts' nodes get
//! PERMISSION_DENIED). That node certificates may not call officer services is covered in
//! `identity.rs`.
//!
//! The tampering relay is a fake peer served by the test itself: a tonic server with a
//! genuine node certificate for the relay's district, streaming hand-made sync batches.
#![forbid(unsafe_code)]

use std::pin::Pin;
use std::sync::{Arc, Mutex};

use prost::Message;
use setu_node::federation::keys::{Signer, SIGNING_KEY_FILE};
use setu_node::storage::Kind;
use setu_node::trust::identity::identity_from_der;
use setu_proto::v1::federation_service_client::FederationServiceClient;
use setu_proto::v1::federation_service_server::{FederationService, FederationServiceServer};
use setu_proto::v1::sync_message::Message as SyncPart;
use setu_proto::v1::{
    CreateRecordRequest, DigestRequest, DigestResponse, Envelope, EnvelopePayload,
    FetchPhotoRequest, Handling, KeyStatement, PersonRecord, PhotoChunk, SyncBatch, SyncMessage,
    SyncRequest,
};
use setu_tests::client::describe;
use setu_tests::mesh::{get_record, wait_for_record, Mesh, SYNC_TIMEOUT};
use setu_tests::{connect, sample_record, wait_until, Officer, Role, TestNode};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic::{Code, Request, Response, Status};

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";
const PURULIA: &str = "wb-purulia";
const BANKURA: &str = "wb-bankura";

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

type SyncStream = Pin<Box<dyn Stream<Item = Result<SyncMessage, Status>> + Send>>;
type PhotoStream = Pin<Box<dyn Stream<Item = Result<PhotoChunk, Status>> + Send>>;

/// A relay under the test's control: its one `Sync` stream carries whatever the test sends.
struct FakePeer {
    stream: Mutex<Option<mpsc::Receiver<Result<SyncMessage, Status>>>>,
    /// Who called `Sync`, as their certificates name them.
    callers: Arc<Mutex<Vec<String>>>,
}

#[tonic::async_trait]
impl FederationService for FakePeer {
    type SyncStream = SyncStream;

    async fn sync(&self, request: Request<SyncRequest>) -> Result<Response<SyncStream>, Status> {
        // The node's priority stream (alerts only) is not what this test is about.
        if request.get_ref().class == setu_proto::v1::SyncClass::Alerts as i32 {
            return Err(Status::unimplemented(
                "the fake relay has no priority stream",
            ));
        }
        let caller = request
            .peer_certs()
            .and_then(|certs| certs.first().cloned())
            .map(|leaf| match identity_from_der(leaf.as_ref()) {
                Ok(identity) => identity.to_string(),
                Err(e) => format!("unknown: {e}"),
            })
            .unwrap_or_else(|| "no certificate".to_string());
        self.callers.lock().expect("callers").push(caller);
        let rx = self
            .stream
            .lock()
            .expect("stream")
            .take()
            .ok_or_else(|| Status::unavailable("this fake relay serves one stream"))?;
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn digest(&self, _: Request<DigestRequest>) -> Result<Response<DigestResponse>, Status> {
        Err(Status::unimplemented("the fake relay has no digests"))
    }

    async fn repair(
        &self,
        _: Request<setu_proto::v1::RepairRequest>,
    ) -> Result<Response<setu_proto::v1::RepairResponse>, Status> {
        Err(Status::unimplemented("the fake relay repairs nothing"))
    }

    type FetchPhotoStream = PhotoStream;

    async fn fetch_photo(
        &self,
        _: Request<FetchPhotoRequest>,
    ) -> Result<Response<PhotoStream>, Status> {
        Err(Status::not_found("the fake relay holds no photos"))
    }
}

/// The envelope with the signed record's name changed, keeping A's key id and signature:
/// what a dishonest relay would forward.
fn tamper(genuine: &Envelope, new_name: &str) -> anyhow::Result<Envelope> {
    let mut payload = EnvelopePayload::decode(genuine.payload.as_slice())?;
    let mut record = PersonRecord::decode(payload.body.as_slice())?;
    record.name = new_name.to_string();
    payload.body = record.encode_to_vec();
    Ok(Envelope {
        payload: payload.encode_to_vec(),
        ..genuine.clone()
    })
}

fn batch(origin: &str, epoch: u64, envelopes: Vec<Envelope>, watermark: u64) -> SyncMessage {
    SyncMessage {
        message: Some(SyncPart::Batch(SyncBatch {
            origin: origin.to_string(),
            epoch,
            envelopes,
            watermark,
            reset: false,
            caught_up: true,
            head: watermark,
        })),
    }
}

/// A fake relay serving on a planned stand-in's port with its genuine node certificate;
/// whatever the test sends on `tx` goes down the one `Sync` stream it serves.
struct FakeRelay {
    tx: mpsc::Sender<Result<SyncMessage, Status>>,
    callers: Arc<Mutex<Vec<String>>>,
    server: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
}

impl FakeRelay {
    /// Serves as `district` (a stand-in of `mesh`), accepting clients of the CA `client_ca`.
    async fn serve(mesh: &Mesh, district: &str, client_ca: &str) -> anyhow::Result<FakeRelay> {
        let external = mesh.external(district);
        let (tx, rx) = mpsc::channel(16);
        let callers = Arc::new(Mutex::new(Vec::new()));
        let fake = FakePeer {
            stream: Mutex::new(Some(rx)),
            callers: callers.clone(),
        };
        let tls = ServerTlsConfig::new()
            .identity(Identity::from_pem(
                std::fs::read(&external.cert.cert)?,
                std::fs::read(&external.cert.key)?,
            ))
            .client_ca_root(Certificate::from_pem(std::fs::read(
                mesh.ca(client_ca).cert_path(),
            )?));
        let listener = external.listener()?;
        let server = tokio::spawn(
            Server::builder()
                .tls_config(tls)?
                .add_service(FederationServiceServer::new(fake))
                .serve_with_incoming(TcpIncoming::from(listener)),
        );
        Ok(FakeRelay {
            tx,
            callers,
            server,
        })
    }

    /// Who has called `Sync` so far.
    fn callers(&self) -> Vec<String> {
        self.callers.lock().expect("callers").clone()
    }
}

impl Drop for FakeRelay {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// What an origin hands to its peers: its current key statement and its signed log.
struct OriginLog {
    statement: KeyStatement,
    epoch: u64,
    entries: Vec<setu_node::storage::LogEntry>,
}

impl OriginLog {
    fn read(mesh: &Mesh, origin: &str) -> anyhow::Result<OriginLog> {
        let storage = mesh.node(origin).storage();
        let (_, _, statement) = storage
            .key_statements()?
            .into_iter()
            .find(|(o, key_id, _)| o == origin && key_id == &current_key_id(mesh, origin))
            .expect("the origin keeps its own key statement");
        Ok(OriginLog {
            statement: KeyStatement::decode(statement.as_slice())?,
            epoch: storage.epoch(),
            entries: storage.log_after(origin, 0, 100)?,
        })
    }

    fn envelope(&self, id: &str) -> Envelope {
        self.entries
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.envelope.clone())
            .expect("the origin's log holds the item")
    }

    fn last_seq(&self) -> u64 {
        self.entries.last().map(|e| e.state.seq).unwrap_or_default()
    }

    /// The sequence of item `id`'s change in the log.
    fn seq(&self, id: &str) -> u64 {
        self.entries
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.state.seq)
            .expect("the origin's log holds the item")
    }

    /// A batch of item `id`'s genuine change alone, with its sequence as the watermark.
    fn batch_of(&self, origin: &str, id: &str) -> SyncMessage {
        batch(origin, self.epoch, vec![self.envelope(id)], self.seq(id))
    }

    fn key(&self) -> SyncMessage {
        SyncMessage {
            message: Some(SyncPart::Key(self.statement.clone())),
        }
    }
}

/// The key id of the origin node's current signing key.
fn current_key_id(mesh: &Mesh, origin: &str) -> String {
    mesh.node(origin).federation().signer.key_id().to_string()
}

#[tokio::test]
async fn a_tampered_relayed_envelope_is_refused_and_nothing_of_it_is_kept() -> anyhow::Result<()> {
    let mesh = relayed().await?;
    let a = mesh.officer(DHANBAD, "JH-8001", Role::Officer).await?;
    let c = mesh.officer(PURULIA, "WB-8101", Role::Officer).await?;

    let target = create(&a, "Test Ramesh Example", Handling::Federation).await?;
    let peers_only = create(&a, "Test Neighbourly Example", Handling::Peers).await?;
    let honest = create(&a, "Test Honest Relay Example", Handling::Federation).await?;

    // What A would hand to B: its key statement and its signed envelopes.
    let log = OriginLog::read(&mesh, DHANBAD)?;
    let envelope_of = |id: &str| log.envelope(id);
    let last_seq = log.last_seq();
    let genuine = envelope_of(&target.id);
    let tampered = tamper(&genuine, "Test Rakesh Example")?;
    let differing = genuine
        .payload
        .iter()
        .zip(&tampered.payload)
        .filter(|(x, y)| x != y)
        .count();
    assert_eq!(
        (differing, genuine.payload.len()),
        (1, tampered.payload.len()),
        "exactly one byte of the signed payload changed"
    );
    assert_eq!(tampered.signature, genuine.signature);

    let relay = FakeRelay::serve(&mesh, ASANSOL, "wb").await?;
    let tx = &relay.tx;

    // One batch: the tampered record, a PEERS record B may not relay, and an honest one.
    let epoch = log.epoch;
    tx.send(Ok(log.key())).await?;
    tx.send(Ok(batch(
        DHANBAD,
        epoch,
        vec![
            tampered,
            envelope_of(&peers_only.id),
            envelope_of(&honest.id),
        ],
        last_seq,
    )))
    .await?;

    // The link worked: the honest envelope is accepted and verifies against A's key.
    let at_c = wait_for_record(&c, &honest.id, "C accepts the honest envelope", |_| true).await?;
    assert_eq!(at_c, honest);
    // The tampered one left nothing behind: no record, no state, no trace.
    let c_storage = mesh.node(PURULIA).storage();
    let err = get_record(&c, &target.id)
        .await
        .expect_err("the tampered record is refused");
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(!err.message().contains("Rakesh"), "{}", err.message());
    assert_eq!(c_storage.item_state(Kind::Record, &target.id)?, None);
    // A PEERS record relayed by someone other than its origin is refused too.
    let err = get_record(&c, &peers_only.id)
        .await
        .expect_err("a relayed PEERS record is refused");
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert_eq!(c_storage.item_state(Kind::Record, &peers_only.id)?, None);
    let held: Vec<String> = c_storage
        .list_records(None, 100, |_| true)?
        .items
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(
        held,
        vec![honest.name.clone()],
        "C holds only the honest record"
    );

    // The genuine envelope of the same change still goes through afterwards: the forgery
    // poisoned nothing (no "same sequence, different body" conflict).
    tx.send(Ok(batch(DHANBAD, epoch, vec![genuine], last_seq)))
        .await?;
    let at_c = wait_for_record(&c, &target.id, "C accepts the genuine envelope", |_| true).await?;
    assert_eq!(at_c, target);
    assert_eq!(at_c.name, "Test Ramesh Example");

    assert_eq!(
        relay.callers().first().map(String::as_str),
        Some("node wb-purulia"),
        "C dialled the relay with its node certificate"
    );
    Ok(())
}

/// C's link to `peer`, once it has failed at least once: its last error.
async fn link_error(mesh: &Mesh, node: &str, peer: &str) -> anyhow::Result<String> {
    let federation = mesh.node(node).federation().clone();
    wait_until(
        SYNC_TIMEOUT,
        &format!("{node}'s link to {peer} reports an error"),
        || {
            let federation = federation.clone();
            async move { !federation.status.get(peer).last_error.is_empty() }
        },
    )
    .await?;
    let link = federation.status.get(peer);
    assert!(
        !link.connected,
        "the link to {peer} never came up: {link:?}"
    );
    Ok(link.last_error)
}

#[tokio::test]
async fn a_peer_certificate_naming_another_district_is_refused() -> anyhow::Result<()> {
    // Purulia is told that Asansol-Durgapur is at an address where Bankura's node (same
    // state CA, genuine certificate, but for Bankura) listens. Bankura lists Purulia as a
    // peer, so only the district check stands between them.
    let mut plan = Mesh::plan()?;
    plan.ca("wb", "Test West Bengal CA")?;
    plan.node(BANKURA, "wb")?;
    plan.external(ASANSOL, "wb")?;
    plan.node(PURULIA, "wb")?;
    let bankura_url = format!("https://127.0.0.1:{}", plan.port(BANKURA));
    plan.dials_via(PURULIA, ASANSOL, &bankura_url);
    plan.dials(BANKURA, PURULIA);
    let mesh = plan.start().await?;
    let bankura = mesh.officer(BANKURA, "WB-8201", Role::Officer).await?;
    let record = create(&bankura, "Test Misrouted Example", Handling::Federation).await?;

    let error = link_error(&mesh, PURULIA, ASANSOL).await?;
    println!("Purulia's link error: {error}");
    assert!(
        error.contains("certificate") && error.contains("wb-asansol-durgapur.node.setu"),
        "the error names the certificate and the expected name: {error}"
    );
    // Bankura's own attempt to pull from Purulia is refused: it is not Purulia's peer.
    let refused = link_error(&mesh, BANKURA, PURULIA).await?;
    assert!(
        refused.contains("PermissionDenied") && refused.contains("not a configured peer"),
        "{refused}"
    );
    let c_storage = mesh.node(PURULIA).storage();
    assert!(c_storage.record(&record.id).is_err(), "nothing synced");
    assert_eq!(
        c_storage.watermarks(ASANSOL)?,
        Vec::new(),
        "no watermark moved"
    );
    assert!(
        c_storage.origins()?.iter().all(|o| o.origin == PURULIA),
        "Purulia holds nothing of another origin"
    );
    Ok(())
}

#[tokio::test]
async fn a_peer_certificate_from_an_untrusted_ca_is_refused() -> anyhow::Result<()> {
    // Asansol-Durgapur's node certificate names the right district but comes from a rogue
    // CA; Purulia is configured to expect the West Bengal CA for it.
    let mut plan = Mesh::plan()?;
    plan.ca("wb", "Test West Bengal CA")?;
    plan.ca("rogue", "Test Rogue CA")?;
    plan.node(ASANSOL, "rogue")?;
    plan.node(PURULIA, "wb")?;
    plan.peers(PURULIA, ASANSOL);
    let wb = plan.ca_cert("wb");
    plan.tune(PURULIA, move |config| {
        for peer in &mut config.peers {
            peer.ca = wb.clone();
        }
    });
    let mesh = plan.start().await?;
    let asansol = mesh.officer(ASANSOL, "WB-8301", Role::Officer).await?;
    let record = create(&asansol, "Test Impostor Example", Handling::Federation).await?;

    let error = link_error(&mesh, PURULIA, ASANSOL).await?;
    println!("Purulia's link error: {error}");
    assert!(
        error.contains("certificate") && error.contains("UnknownIssuer"),
        "the error says the certificate's issuer is unknown: {error}"
    );
    // The other way, Purulia's TLS refuses the rogue certificate before any call.
    let refused = link_error(&mesh, ASANSOL, PURULIA).await?;
    println!("Asansol-Durgapur's link error: {refused}");
    assert!(
        refused.contains("UnknownCA") || refused.contains("unknown CA"),
        "{refused}"
    );
    let c_storage = mesh.node(PURULIA).storage();
    assert!(c_storage.record(&record.id).is_err(), "nothing synced");
    assert!(c_storage.origins()?.iter().all(|o| o.origin == PURULIA));
    Ok(())
}

#[tokio::test]
async fn only_configured_peer_nodes_may_call_the_federation_service() -> anyhow::Result<()> {
    let mut plan = Mesh::plan()?;
    plan.ca("jh", "Test Jharkhand CA")?;
    plan.ca("wb", "Test West Bengal CA")?;
    plan.node(DHANBAD, "jh")?;
    plan.external(ASANSOL, "wb")?;
    plan.dials(DHANBAD, ASANSOL);
    let mesh = plan.start().await?;
    let node = mesh.node(DHANBAD);
    let jh_ca = mesh.ca("jh").cert_path();
    let officer = mesh.officer(DHANBAD, "JH-8401", Role::Admin).await?;
    create(
        &officer,
        "Test Federation Probe Example",
        Handling::Federation,
    )
    .await?;

    // The configured peer's node certificate gets a stream: A's key statement comes first.
    let peer = connect(node.addr(), &jh_ca, Some(&mesh.external(ASANSOL).cert)).await?;
    let mut stream = FederationServiceClient::new(peer)
        .sync(SyncRequest::default())
        .await?
        .into_inner();
    let first = stream
        .message()
        .await?
        .expect("the stream carries messages");
    assert!(matches!(first.message, Some(SyncPart::Key(_))), "{first:?}");
    drop(stream);

    // An officer certificate, even an admin's of the node's own district.
    let mut client = FederationServiceClient::new(officer.channel.clone());
    let err = client
        .sync(SyncRequest::default())
        .await
        .expect_err("officers may not sync");
    assert_eq!(err.code(), Code::PermissionDenied, "{}", describe(&err));
    assert!(
        err.message().contains("officer certificate"),
        "{}",
        err.message()
    );
    let err = client
        .digest(DigestRequest::default())
        .await
        .expect_err("officers may not ask for digests");
    assert_eq!(err.code(), Code::PermissionDenied, "{}", describe(&err));
    let err = client
        .fetch_photo(FetchPhotoRequest {
            sha256: "0".repeat(64),
            offset: 0,
        })
        .await
        .expect_err("officers may not fetch photos over federation");
    assert_eq!(err.code(), Code::PermissionDenied, "{}", describe(&err));

    // A genuine node certificate of a district that is not a configured peer.
    let stranger = mesh.ca("jh").node("jh-bokaro")?;
    let channel = connect(node.addr(), &jh_ca, Some(&stranger)).await?;
    let err = FederationServiceClient::new(channel)
        .sync(SyncRequest::default())
        .await
        .expect_err("a node that is not a peer may not sync");
    assert_eq!(err.code(), Code::PermissionDenied, "{}", describe(&err));
    assert!(
        err.message().contains("jh-bokaro") && err.message().contains("not a configured peer"),
        "{}",
        err.message()
    );
    Ok(())
}

/// A relay-and-consumer mesh: A (Jharkhand) makes records, C (West Bengal, trusting the
/// Jharkhand CA) pulls from B, a stand-in the test plays with a genuine node certificate.
async fn relayed() -> anyhow::Result<Mesh> {
    let mut plan = Mesh::plan()?;
    plan.ca("jh", "Test Jharkhand CA")?;
    plan.ca("wb", "Test West Bengal CA")?;
    plan.node(DHANBAD, "jh")?;
    plan.external(ASANSOL, "wb")?;
    plan.node(PURULIA, "wb")?;
    plan.dials(PURULIA, ASANSOL);
    plan.trust(PURULIA, "jh");
    plan.start().await
}

#[tokio::test]
async fn a_second_body_for_the_same_change_is_refused_even_when_well_signed() -> anyhow::Result<()>
{
    let mesh = relayed().await?;
    let a = mesh.officer(DHANBAD, "JH-8501", Role::Officer).await?;
    let c = mesh.officer(PURULIA, "WB-8601", Role::Officer).await?;
    let record = create(&a, "Test Suresh Example", Handling::Federation).await?;
    let later = create(&a, "Test Later Example", Handling::Federation).await?;
    let log = OriginLog::read(&mesh, DHANBAD)?;
    let genuine = log.envelope(&record.id);

    // A second body for the same (origin, id, seq), signed with A's own key (as a leaked key
    // or a buggy origin would): the signature verifies, the content conflicts.
    let config = mesh.node(DHANBAD).config();
    let seed: [u8; 32] = std::fs::read(config.data_dir.join(SIGNING_KEY_FILE))?
        .try_into()
        .map_err(|_| anyhow::anyhow!("the signing key file holds 32 bytes"))?;
    let cert_der = setu_node::trust::cert::parse_pem_certs(&std::fs::read(&config.cert)?)
        .map_err(anyhow::Error::msg)?
        .remove(0);
    let signer = Signer::from_seed(
        seed,
        DHANBAD,
        cert_der.as_ref(),
        &std::fs::read(&config.key)?,
    )?;
    let forged = tamper(&genuine, "Test Sukesh Example")?;
    let equivocation = signer.sign(&forged.payload);
    assert_eq!(equivocation.key_id, genuine.key_id);
    assert_ne!(equivocation.payload, genuine.payload);

    let relay = FakeRelay::serve(&mesh, ASANSOL, "wb").await?;
    relay.tx.send(Ok(log.key())).await?;
    relay.tx.send(Ok(log.batch_of(DHANBAD, &record.id))).await?;
    let at_c = wait_for_record(&c, &record.id, "C accepts the genuine change", |_| true).await?;
    assert_eq!(at_c, record);

    // The conflicting body, followed by a later honest change as a marker.
    relay
        .tx
        .send(Ok(batch(
            DHANBAD,
            log.epoch,
            vec![equivocation, log.envelope(&later.id)],
            log.last_seq(),
        )))
        .await?;
    wait_for_record(&c, &later.id, "C applies the batch", |_| true).await?;
    let kept = get_record(&c, &record.id).await?;
    assert_eq!(kept, record, "C keeps the first body it verified");
    assert_eq!(kept.name, "Test Suresh Example");
    Ok(())
}

#[tokio::test]
async fn a_ca_unbound_by_a_reload_stops_vouching_for_the_keys_it_attested() -> anyhow::Result<()> {
    let mut mesh = relayed().await?;
    let a = mesh.officer(DHANBAD, "JH-8511", Role::Officer).await?;
    let c = mesh.officer(PURULIA, "WB-8611", Role::Officer).await?;
    let before = create(&a, "Test Before Reload Example", Handling::Federation).await?;
    let after = create(&a, "Test After Reload Example", Handling::Federation).await?;
    let log = OriginLog::read(&mesh, DHANBAD)?;

    // While C trusts the Jharkhand CA, A's key and its record are accepted.
    let relay = FakeRelay::serve(&mesh, ASANSOL, "wb").await?;
    relay.tx.send(Ok(log.key())).await?;
    relay.tx.send(Ok(log.batch_of(DHANBAD, &before.id))).await?;
    wait_for_record(&c, &before.id, "C accepts A's record", |_| true).await?;

    // C's operator unbinds the Jharkhand CA and reloads: the key it attested, already in
    // C's keyring, is no longer trusted, so A's next record is refused.
    let jh_ca = mesh.ca("jh").cert_path();
    let node = mesh.node_mut(PURULIA);
    node.config_mut().trust.retain(|t| t.ca != jh_ca);
    node.reload()?;
    relay.tx.send(Ok(log.batch_of(DHANBAD, &after.id))).await?;
    let storage = mesh.node(PURULIA).storage().clone();
    wait_until(SYNC_TIMEOUT, "C has taken the batch", || {
        let applied = storage
            .watermarks(ASANSOL)
            .ok()
            .and_then(|w| w.into_iter().find(|w| w.origin == DHANBAD))
            .is_some_and(|w| w.seq >= log.seq(&after.id));
        async move { applied }
    })
    .await?;
    let refused = get_record(&c, &after.id)
        .await
        .expect_err("a record signed with a key no CA vouches for any more is refused");
    assert_eq!(refused.code(), Code::NotFound);
    Ok(())
}

#[tokio::test]
async fn records_signed_with_a_rotated_key_still_verify() -> anyhow::Result<()> {
    // B joins only after A has rotated its signing key: it must verify A's older records
    // with the old key and the newer ones with the new key.
    let mut plan = Mesh::plan()?;
    plan.ca("jh", "Test Jharkhand CA")?;
    plan.ca("wb", "Test West Bengal CA")?;
    plan.node(DHANBAD, "jh")?;
    plan.external(ASANSOL, "wb")?;
    plan.peers(DHANBAD, ASANSOL);
    let b_config = plan.config(ASANSOL);
    let mut mesh = plan.start().await?;
    let old_key = current_key_id(&mesh, DHANBAD);
    let before = {
        let a = mesh.officer(DHANBAD, "JH-8701", Role::Officer).await?;
        create(&a, "Test Old Key Example", Handling::Federation).await?
    };

    // Rotate: a new seed in the key file while A is stopped (no peer is connected yet).
    mesh.node_mut(DHANBAD).stop().await?;
    let key_file = mesh.node(DHANBAD).config().data_dir.join(SIGNING_KEY_FILE);
    std::fs::write(&key_file, rand_seed())?;
    mesh.node_mut(DHANBAD).start_again().await?;
    let new_key = current_key_id(&mesh, DHANBAD);
    assert_ne!(new_key, old_key, "A signs with a new key");
    let a = mesh.officer(DHANBAD, "JH-8702", Role::Officer).await?;
    let after = create(&a, "Test New Key Example", Handling::Federation).await?;
    let key_ids: Vec<String> = mesh
        .node(DHANBAD)
        .storage()
        .key_statements()?
        .into_iter()
        .filter(|(origin, _, _)| origin == DHANBAD)
        .map(|(_, key_id, _)| key_id)
        .collect();
    assert!(
        key_ids.contains(&old_key) && key_ids.contains(&new_key),
        "{key_ids:?}"
    );

    // B starts and catches up.
    let b = TestNode::start_on(b_config, mesh.external(ASANSOL).socket()?).await?;
    let b_ca = mesh.ca("wb");
    let b_officer = b_ca.officer(ASANSOL, "WB-8801", Role::Officer)?;
    let b_officer = Officer {
        channel: connect(b.addr(), &b_ca.cert_path(), Some(&b_officer)).await?,
        cert: b_officer,
        label: "WB-8801 (wb-asansol-durgapur)".to_string(),
    };
    let old_copy = wait_for_record(
        &b_officer,
        &before.id,
        "the old-key record reaches B",
        |_| true,
    )
    .await?;
    assert_eq!(old_copy, before);
    let new_copy = wait_for_record(
        &b_officer,
        &after.id,
        "the new-key record reaches B",
        |_| true,
    )
    .await?;
    assert_eq!(new_copy, after);
    Ok(())
}

/// 32 bytes that are different on every call (a new Ed25519 seed).
fn rand_seed() -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(uuid::Uuid::now_v7().as_bytes()).to_vec()
}
