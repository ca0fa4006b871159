//! `setu.v1.PhotoService`: photos streamed in chunks, checked by their magic bytes,
//! stored once per SHA-256 and attached to a record in the same transaction.

use super::{officer_call, SharedState};
use crate::clock::now_ms;
use crate::error::{NodeError, NodeResult};
use crate::storage::{Expect, NewPhoto};
use crate::trust::auth::{officer_label, require_owner};
use crate::trust::identity::Officer;
use crate::validate;
use crate::validate::limits::{MAX_PHOTOS, MAX_PHOTO_BYTES};
use setu_proto::v1::photo_service_server::PhotoService;
use setu_proto::v1::upload_photo_request::Part;
use setu_proto::v1::{
    DownloadPhotoChunk, DownloadPhotoRequest, PhotoRef, UploadPhotoRequest, UploadPhotoResponse,
};
use sha2::{Digest, Sha256};
use std::pin::Pin;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

/// Size of each chunk a download is sent in.
const DOWNLOAD_CHUNK_BYTES: usize = 256 * 1024;

/// The photo service of one node.
pub struct PhotoServiceImpl {
    state: SharedState,
}

impl PhotoServiceImpl {
    /// A service over the node's state.
    pub fn new(state: SharedState) -> Self {
        PhotoServiceImpl { state }
    }
}

/// The content type of an image, from its first bytes; `None` for anything but JPEG, PNG
/// or WebP, whatever the file was called.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

impl PhotoServiceImpl {
    async fn upload(
        &self,
        officer: Officer,
        mut stream: Streaming<UploadPhotoRequest>,
    ) -> NodeResult<UploadPhotoResponse> {
        let state = &self.state;
        let first = stream.message().await.map_err(|s| {
            NodeError::invalid(
                "header",
                format!("the upload stream failed: {}", s.message()),
            )
        })?;
        let header = match first.and_then(|m| m.part) {
            Some(Part::Header(h)) => h,
            _ => {
                return Err(NodeError::invalid(
                    "header",
                    "the first message must be the header naming the record",
                ))
            }
        };
        validate::id("header.record_id", &header.record_id)?;
        let stored = state.storage.record(&header.record_id)?;
        require_owner(
            &officer,
            &state.district,
            &stored.origin,
            &format!("record {}", stored.id),
        )?;
        if header.expected_version != 0 && header.expected_version != stored.version {
            return Err(crate::storage::StorageError::VersionConflict {
                kind: crate::storage::Kind::Record,
                id: stored.id,
                expected: header.expected_version,
                actual: stored.version,
            }
            .into());
        }
        let mut bytes = Vec::new();
        while let Some(message) = stream.next().await {
            let message = message.map_err(|s| {
                NodeError::invalid(
                    "chunk",
                    format!("the upload stream failed: {}", s.message()),
                )
            })?;
            match message.part {
                Some(Part::Chunk(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_PHOTO_BYTES {
                        return Err(NodeError::invalid(
                            "photo",
                            format!("is larger than the limit of {MAX_PHOTO_BYTES} bytes (10 MiB)"),
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Some(Part::Header(_)) => {
                    return Err(NodeError::invalid("header", "may only be sent once, first"))
                }
                None => {}
            }
        }
        if bytes.is_empty() {
            return Err(NodeError::invalid("photo", "is empty"));
        }
        let mime_type = sniff_image(&bytes).ok_or_else(|| {
            NodeError::invalid(
                "photo",
                "is not a JPEG, PNG or WebP image (checked by its content, not its name)",
            )
        })?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let photo = PhotoRef {
            sha256: sha256.clone(),
            mime_type: mime_type.to_string(),
            size_bytes: bytes.len() as u64,
        };
        if stored.photos.iter().any(|p| p.sha256 == sha256) {
            // The same photo again: nothing to change.
            return Ok(UploadPhotoResponse {
                photo: Some(photo),
                record: Some(stored),
            });
        }
        if stored.photos.len() >= MAX_PHOTOS {
            return Err(NodeError::invalid(
                "photos",
                format!(
                    "record {} already has {MAX_PHOTOS} photos, the limit",
                    stored.id
                ),
            ));
        }
        let mut record = stored.clone();
        record.photos.push(photo.clone());
        record.version = stored.version + 1;
        record.updated_at_ms = now_ms();
        record.updated_by = officer_label(&officer);
        let new_photo = NewPhoto {
            sha256: &sha256,
            mime_type,
            bytes: &bytes,
        };
        state
            .storage
            .put_record(&record, Expect::Version(stored.version), &[new_photo])?;
        Ok(UploadPhotoResponse {
            photo: Some(photo),
            record: Some(record),
        })
    }

    fn download(&self, req: DownloadPhotoRequest) -> NodeResult<Vec<DownloadPhotoChunk>> {
        crate::validate::sha256("sha256", &req.sha256)?;
        let (photo, bytes) = self.state.storage.photo(&req.sha256)?.ok_or_else(|| {
            crate::storage::StorageError::NotFound {
                kind: crate::storage::Kind::Record,
                id: format!("photo {}", req.sha256),
            }
        })?;
        let mut chunks: Vec<DownloadPhotoChunk> = bytes
            .chunks(DOWNLOAD_CHUNK_BYTES)
            .map(|c| DownloadPhotoChunk {
                photo: None,
                chunk: c.to_vec(),
            })
            .collect();
        if let Some(first) = chunks.first_mut() {
            first.photo = Some(photo);
        }
        Ok(chunks)
    }
}

/// The stream a download is sent as.
pub type DownloadStream = Pin<Box<dyn Stream<Item = Result<DownloadPhotoChunk, Status>> + Send>>;

#[tonic::async_trait]
impl PhotoService for PhotoServiceImpl {
    async fn upload(
        &self,
        request: Request<Streaming<UploadPhotoRequest>>,
    ) -> Result<Response<UploadPhotoResponse>, Status> {
        officer_call(
            &self.state.storage,
            "PhotoService/Upload",
            request,
            |o, s| self.upload(o, s),
        )
        .await
    }

    type DownloadStream = DownloadStream;

    async fn download(
        &self,
        request: Request<DownloadPhotoRequest>,
    ) -> Result<Response<Self::DownloadStream>, Status> {
        let response = officer_call(
            &self.state.storage,
            "PhotoService/Download",
            request,
            |_, r| async move { self.download(r) },
        )
        .await?;
        let chunks = response.into_inner();
        let stream: DownloadStream = Box::pin(tokio_stream::iter(chunks.into_iter().map(Ok)));
        Ok(Response::new(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::sniff_image;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"just some text named .jpg"), None);
    }
}
