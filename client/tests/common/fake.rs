//! An in-memory stand-in for the district node: just enough of the officer services, behind
//! mutual TLS, to drive every CLI command. It is not the real node and checks little.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures::Stream;
use setu_proto::v1 as pb;
use setu_proto::v1::mo_service_server::{MoService, MoServiceServer};
use setu_proto::v1::peer_service_server::{PeerService, PeerServiceServer};
use setu_proto::v1::photo_service_server::{PhotoService, PhotoServiceServer};
use setu_proto::v1::record_service_server::{RecordService, RecordServiceServer};
use setu_proto::v1::upload_photo_request::Part;
use sha2::{Digest, Sha256};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic::{Request, Response, Status, Streaming};

use super::pki::Pem;

/// The fake node's whole state.
#[derive(Default)]
struct State {
    records: BTreeMap<String, pb::PersonRecord>,
    notes: BTreeMap<String, pb::MoNote>,
    photos: BTreeMap<String, (pb::PhotoRef, Vec<u8>)>,
}

/// The shared handle every service holds.
#[derive(Clone, Default)]
pub struct Fake {
    state: Arc<Mutex<State>>,
}

const ORIGIN: &str = "jh-dhanbad";
const OFFICER: &str = "JH-1234 (jh-dhanbad)";
const NOW_MS: i64 = 1_760_000_000_000;

impl Fake {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, Status> {
        self.state
            .lock()
            .map_err(|_| Status::internal("state lock poisoned"))
    }
}

/// Starts the fake node on 127.0.0.1 with `node` as its identity, requiring client
/// certificates signed by `client_ca`; returns its `https://` address.
pub async fn start(node: &Pem, client_ca: &str) -> Result<String, Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("https://{}", listener.local_addr()?);
    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(&node.cert, &node.key))
        .client_ca_root(Certificate::from_pem(client_ca));
    let fake = Fake::default();
    let router = Server::builder()
        .tls_config(tls)?
        .add_service(RecordServiceServer::new(fake.clone()))
        .add_service(MoServiceServer::new(fake.clone()))
        .add_service(PhotoServiceServer::new(fake.clone()))
        .add_service(PeerServiceServer::new(fake));
    tokio::spawn(router.serve_with_incoming(TcpListenerStream::new(listener)));
    Ok(address)
}

#[tonic::async_trait]
impl RecordService for Fake {
    async fn create(
        &self,
        request: Request<pb::CreateRecordRequest>,
    ) -> Result<Response<pb::PersonRecord>, Status> {
        let mut record = request
            .into_inner()
            .record
            .ok_or_else(|| Status::invalid_argument("record is required"))?;
        if record.name.trim().is_empty() {
            return Err(Status::invalid_argument("name is required"));
        }
        record.id = uuid::Uuid::now_v7().to_string();
        record.origin = ORIGIN.into();
        record.version = 1;
        record.photos.clear();
        record.created_at_ms = NOW_MS;
        record.updated_at_ms = NOW_MS;
        record.created_by = OFFICER.into();
        record.updated_by = OFFICER.into();
        self.lock()?
            .records
            .insert(record.id.clone(), record.clone());
        Ok(Response::new(record))
    }

    async fn create_and_match(
        &self,
        request: Request<pb::CreateRecordRequest>,
    ) -> Result<Response<pb::CreateRecordResponse>, Status> {
        // The fake holds no other districts' records: a create with no likely matches.
        let record = RecordService::create(self, request).await?.into_inner();
        Ok(Response::new(pb::CreateRecordResponse {
            record: Some(record),
            likely_matches: Vec::new(),
        }))
    }

    async fn review(
        &self,
        request: Request<pb::ReviewRecordRequest>,
    ) -> Result<Response<pb::PersonRecord>, Status> {
        let request = request.into_inner();
        let mut state = self.lock()?;
        let record = state
            .records
            .get_mut(&request.id)
            .ok_or_else(|| Status::not_found(format!("record {} does not exist", request.id)))?;
        record.version += 1;
        record.review_by_ms = if request.review_by_ms == 0 {
            NOW_MS + 365 * 24 * 60 * 60 * 1000
        } else {
            request.review_by_ms
        };
        Ok(Response::new(record.clone()))
    }

    async fn get(
        &self,
        request: Request<pb::GetRecordRequest>,
    ) -> Result<Response<pb::PersonRecord>, Status> {
        let id = request.into_inner().id;
        let state = self.lock()?;
        let record = state
            .records
            .get(&id)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("record {id} does not exist")))?;
        Ok(Response::new(record))
    }

    async fn update(
        &self,
        request: Request<pb::UpdateRecordRequest>,
    ) -> Result<Response<pb::PersonRecord>, Status> {
        let request = request.into_inner();
        let mut record = request
            .record
            .ok_or_else(|| Status::invalid_argument("record is required"))?;
        let mut state = self.lock()?;
        let stored = state
            .records
            .get(&record.id)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("record {} does not exist", record.id)))?;
        if stored.version != request.expected_version {
            return Err(Status::aborted(format!(
                "record {} is at version {}, not {}",
                record.id, stored.version, request.expected_version
            )));
        }
        record.origin = stored.origin;
        record.version = stored.version + 1;
        record.photos = stored.photos;
        record.created_at_ms = stored.created_at_ms;
        record.created_by = stored.created_by;
        record.updated_at_ms = NOW_MS + 60_000;
        state.records.insert(record.id.clone(), record.clone());
        Ok(Response::new(record))
    }

    async fn delete(
        &self,
        request: Request<pb::DeleteRecordRequest>,
    ) -> Result<Response<pb::DeleteRecordResponse>, Status> {
        let request = request.into_inner();
        let stored =
            self.lock()?.records.remove(&request.id).ok_or_else(|| {
                Status::not_found(format!("record {} does not exist", request.id))
            })?;
        Ok(Response::new(pb::DeleteRecordResponse {
            tombstone: Some(pb::Tombstone {
                id: stored.id,
                origin: stored.origin,
                version: stored.version + 1,
                reason: request.reason,
                deleted_at_ms: NOW_MS,
                deleted_by: OFFICER.into(),
            }),
        }))
    }

    async fn list(
        &self,
        request: Request<pb::ListRecordsRequest>,
    ) -> Result<Response<pb::ListRecordsResponse>, Status> {
        let request = request.into_inner();
        if request.page_size > 500 {
            return Err(Status::invalid_argument(format!(
                "page_size: {} is above the limit of 500",
                request.page_size
            )));
        }
        let state = self.lock()?;
        let records: Vec<_> = state
            .records
            .values()
            .filter(|r| request.statuses.is_empty() || request.statuses.contains(&r.status))
            .cloned()
            .collect();
        let limit = if request.page_size == 0 {
            50
        } else {
            request.page_size as usize
        };
        let next_page_token = if records.len() > limit {
            "page-2".to_string()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListRecordsResponse {
            records: records.into_iter().take(limit).collect(),
            next_page_token,
        }))
    }
}

#[tonic::async_trait]
impl MoService for Fake {
    async fn create(
        &self,
        request: Request<pb::CreateMoNoteRequest>,
    ) -> Result<Response<pb::MoNote>, Status> {
        let mut note = request
            .into_inner()
            .note
            .ok_or_else(|| Status::invalid_argument("note is required"))?;
        if note.category == pb::MoCategory::Other as i32 && note.category_other.is_empty() {
            return Err(Status::invalid_argument("category_other: is required"));
        }
        note.id = uuid::Uuid::now_v7().to_string();
        note.origin = ORIGIN.into();
        note.version = 1;
        note.created_at_ms = NOW_MS;
        note.updated_at_ms = NOW_MS;
        note.created_by = OFFICER.into();
        note.updated_by = OFFICER.into();
        self.lock()?.notes.insert(note.id.clone(), note.clone());
        Ok(Response::new(note))
    }

    async fn get(
        &self,
        request: Request<pb::GetMoNoteRequest>,
    ) -> Result<Response<pb::MoNote>, Status> {
        let id = request.into_inner().id;
        let state = self.lock()?;
        let note = state
            .notes
            .get(&id)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("MO note {id} does not exist")))?;
        Ok(Response::new(note))
    }

    async fn update(
        &self,
        request: Request<pb::UpdateMoNoteRequest>,
    ) -> Result<Response<pb::MoNote>, Status> {
        let request = request.into_inner();
        let mut note = request
            .note
            .ok_or_else(|| Status::invalid_argument("note is required"))?;
        let mut state = self.lock()?;
        let stored = state
            .notes
            .get(&note.id)
            .cloned()
            .ok_or_else(|| Status::not_found("no such MO note"))?;
        if stored.version != request.expected_version {
            return Err(Status::aborted("version mismatch"));
        }
        note.origin = stored.origin;
        note.version = stored.version + 1;
        state.notes.insert(note.id.clone(), note.clone());
        Ok(Response::new(note))
    }

    async fn delete(
        &self,
        request: Request<pb::DeleteMoNoteRequest>,
    ) -> Result<Response<pb::DeleteMoNoteResponse>, Status> {
        let request = request.into_inner();
        let stored = self
            .lock()?
            .notes
            .remove(&request.id)
            .ok_or_else(|| Status::not_found("no such MO note"))?;
        Ok(Response::new(pb::DeleteMoNoteResponse {
            tombstone: Some(pb::Tombstone {
                id: stored.id,
                origin: stored.origin,
                version: stored.version + 1,
                reason: request.reason,
                deleted_at_ms: NOW_MS,
                deleted_by: OFFICER.into(),
            }),
        }))
    }

    async fn list(
        &self,
        request: Request<pb::ListMoNotesRequest>,
    ) -> Result<Response<pb::ListMoNotesResponse>, Status> {
        let request = request.into_inner();
        let state = self.lock()?;
        let notes = state
            .notes
            .values()
            .filter(|n| request.record_id.is_empty() || n.record_ids.contains(&request.record_id))
            .filter(|n| request.categories.is_empty() || request.categories.contains(&n.category))
            .cloned()
            .collect();
        Ok(Response::new(pb::ListMoNotesResponse {
            notes,
            next_page_token: String::new(),
        }))
    }
}

type ChunkStream = Pin<Box<dyn Stream<Item = Result<pb::DownloadPhotoChunk, Status>> + Send>>;

#[tonic::async_trait]
impl PhotoService for Fake {
    async fn upload(
        &self,
        request: Request<Streaming<pb::UploadPhotoRequest>>,
    ) -> Result<Response<pb::UploadPhotoResponse>, Status> {
        let mut stream = request.into_inner();
        let header = match stream.message().await?.and_then(|m| m.part) {
            Some(Part::Header(header)) => header,
            _ => {
                return Err(Status::invalid_argument(
                    "the first message must be the header",
                ))
            }
        };
        let mut bytes = Vec::new();
        while let Some(message) = stream.message().await? {
            match message.part {
                Some(Part::Chunk(chunk)) => bytes.extend_from_slice(&chunk),
                _ => {
                    return Err(Status::invalid_argument(
                        "only chunks may follow the header",
                    ))
                }
            }
        }
        let photo = pb::PhotoRef {
            sha256: hex::encode(Sha256::digest(&bytes)),
            mime_type: "image/jpeg".into(),
            size_bytes: bytes.len() as u64,
        };
        let mut state = self.lock()?;
        let record = state
            .records
            .get_mut(&header.record_id)
            .ok_or_else(|| Status::not_found("no such record"))?;
        record.photos.push(photo.clone());
        record.version += 1;
        let record = record.clone();
        state
            .photos
            .insert(photo.sha256.clone(), (photo.clone(), bytes));
        Ok(Response::new(pb::UploadPhotoResponse {
            photo: Some(photo),
            record: Some(record),
        }))
    }

    type DownloadStream = ChunkStream;

    async fn download(
        &self,
        request: Request<pb::DownloadPhotoRequest>,
    ) -> Result<Response<Self::DownloadStream>, Status> {
        let sha256 = request.into_inner().sha256;
        let (photo, bytes) = self
            .lock()?
            .photos
            .get(&sha256)
            .cloned()
            .ok_or_else(|| Status::not_found("no such photo"))?;
        let mut chunks: Vec<Result<pb::DownloadPhotoChunk, Status>> = bytes
            .chunks(64 * 1024)
            .map(|c| {
                Ok(pb::DownloadPhotoChunk {
                    photo: None,
                    chunk: c.to_vec(),
                })
            })
            .collect();
        match chunks.first_mut() {
            Some(Ok(first)) => first.photo = Some(photo),
            _ => chunks.push(Ok(pb::DownloadPhotoChunk {
                photo: Some(photo),
                chunk: Vec::new(),
            })),
        }
        Ok(Response::new(Box::pin(tokio_stream::iter(chunks))))
    }
}

/// The fake node's federation links: one healthy peer and one it has never reached, whose
/// error text carries a terminal escape sequence.
#[tonic::async_trait]
impl PeerService for Fake {
    async fn list(
        &self,
        _request: Request<pb::ListPeersRequest>,
    ) -> Result<Response<pb::ListPeersResponse>, Status> {
        Ok(Response::new(pb::ListPeersResponse {
            district: ORIGIN.into(),
            peers: vec![
                pb::PeerStatus {
                    district: "br-gaya".into(),
                    address: "https://node.br-gaya.example:7443".into(),
                    connected: true,
                    last_contact_ms: NOW_MS,
                    lag_in: 0,
                    lag_out: 3,
                    anti_entropy_at_ms: NOW_MS - 60_000,
                    anti_entropy_result: "in sync (2 origins compared)".into(),
                    last_error: String::new(),
                    last_error_at_ms: 0,
                    watermarks: vec![pb::Watermark {
                        origin: "br-gaya".into(),
                        epoch: 0xdead_beef_0000_0001,
                        seq: 1042,
                    }],
                    ..pb::PeerStatus::default()
                },
                pb::PeerStatus {
                    district: "wb-purulia".into(),
                    address: "https://node.wb-purulia.example:7443".into(),
                    last_error: "connection refused\u{1b}[31m".into(),
                    last_error_at_ms: NOW_MS,
                    ..pb::PeerStatus::default()
                },
            ],
            known_districts: vec!["br-gaya".into(), "jh-dhanbad".into(), "wb-purulia".into()],
            ..pb::ListPeersResponse::default()
        }))
    }
}
