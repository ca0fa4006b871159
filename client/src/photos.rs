//! `setu record photo add` and `setu record photo get`: photos travel in 256 KiB pieces and
//! are checked against their SHA-256 on both ends.

use std::path::Path;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use setu_proto::v1 as pb;
use setu_proto::v1::photo_service_client::PhotoServiceClient;
use setu_proto::v1::upload_photo_request::Part;
use sha2::{Digest, Sha256};
use tonic::transport::Channel;

use crate::cli::PhotoCommand;
use crate::config::ClientConfig;
use crate::connect::connect;
use crate::error::ClientError;
use crate::output::{emit, MAX_MESSAGE_BYTES};
use crate::records;
use crate::view::{PhotoUploadView, PhotoView, RecordView};

/// The size of each uploaded piece.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// The result of `record photo get`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhotoDownloadView {
    /// The photo as the node described it.
    pub photo: PhotoView,
    /// Where the verified bytes were written.
    pub path: String,
}

/// Runs one photo command and returns what it prints on stdout.
pub async fn run(
    config: &ClientConfig,
    command: &PhotoCommand,
    json: bool,
) -> Result<String, ClientError> {
    match command {
        PhotoCommand::Add {
            id,
            file,
            expected_version,
        } => add(config, id, file, *expected_version, json).await,
        PhotoCommand::Get { id, sha256, out } => get(config, id, sha256, out, json).await,
    }
}

/// A photo service client on `channel`.
fn client(channel: Channel) -> PhotoServiceClient<Channel> {
    PhotoServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE_BYTES)
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The upload stream's messages: the header, then the photo in [`CHUNK_BYTES`] pieces.
pub fn upload_messages(
    record_id: &str,
    expected_version: u64,
    bytes: &[u8],
) -> Vec<pb::UploadPhotoRequest> {
    let header = pb::UploadPhotoRequest {
        part: Some(Part::Header(pb::UploadPhotoHeader {
            record_id: record_id.to_string(),
            expected_version,
        })),
    };
    std::iter::once(header)
        .chain(
            bytes
                .chunks(CHUNK_BYTES)
                .map(|chunk| pb::UploadPhotoRequest {
                    part: Some(Part::Chunk(chunk.to_vec())),
                }),
        )
        .collect()
}

/// `record photo add`: uploads the file and prints the stored photo's SHA-256.
async fn add(
    config: &ClientConfig,
    id: &str,
    file: &Path,
    expected_version: Option<u64>,
    json: bool,
) -> Result<String, ClientError> {
    let bytes = tokio::fs::read(file)
        .await
        .map_err(|source| ClientError::File {
            action: "read",
            path: file.to_path_buf(),
            source,
        })?;
    let local = sha256_hex(&bytes);
    let messages = upload_messages(id, expected_version.unwrap_or(0), &bytes);
    drop(bytes);
    let response = client(connect(config).await?)
        .upload(tokio_stream::iter(messages))
        .await?
        .into_inner();
    let photo = response
        .photo
        .map(PhotoView::from)
        .ok_or_else(|| ClientError::Protocol("the upload returned no photo".to_string()))?;
    if photo.sha256 != local {
        return Err(ClientError::ChecksumMismatch {
            expected: local,
            actual: photo.sha256,
        });
    }
    let view = PhotoUploadView {
        photo,
        record: response.record.map(RecordView::from).unwrap_or_default(),
    };
    emit(json, &view, |v| format!("{}\n", v.photo.sha256))
}

/// `record photo get`: checks that the record lists the photo, downloads it, verifies its
/// SHA-256 and only then writes the file.
async fn get(
    config: &ClientConfig,
    id: &str,
    sha256: &str,
    out: &Path,
    json: bool,
) -> Result<String, ClientError> {
    let channel = connect(config).await?;
    let mut records = records::client_on(channel.clone());
    let record = records::get(&mut records, id).await?;
    let listed = record
        .photos
        .iter()
        .find(|p| p.sha256.eq_ignore_ascii_case(sha256))
        .cloned()
        .ok_or_else(|| ClientError::PhotoNotListed {
            record_id: id.to_string(),
            sha256: sha256.to_string(),
        })?;
    let mut stream = client(channel)
        .download(pb::DownloadPhotoRequest {
            sha256: sha256.to_string(),
        })
        .await?
        .into_inner();
    let mut photo = None;
    let mut bytes = Vec::new();
    while let Some(message) = stream.next().await {
        let message = message?;
        if photo.is_none() {
            photo = message.photo.map(PhotoView::from);
        }
        bytes.extend_from_slice(&message.chunk);
        if listed.size_bytes > 0 && bytes.len() as u64 > listed.size_bytes {
            return Err(ClientError::Protocol(format!(
                "the node sent more than the {} bytes the record lists",
                listed.size_bytes
            )));
        }
    }
    let actual = sha256_hex(&bytes);
    if actual != sha256 {
        return Err(ClientError::ChecksumMismatch {
            expected: sha256.to_string(),
            actual,
        });
    }
    tokio::fs::write(out, &bytes)
        .await
        .map_err(|source| ClientError::File {
            action: "write",
            path: out.to_path_buf(),
            source,
        })?;
    let view = PhotoDownloadView {
        photo: photo.unwrap_or(listed),
        path: out.display().to_string(),
    };
    emit(json, &view, |v| {
        format!(
            "wrote {} ({} bytes, {})\n",
            v.path,
            bytes.len(),
            v.photo.mime_type
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_start_with_the_header_and_split_into_chunks() {
        let bytes = vec![7u8; CHUNK_BYTES * 2 + 10];
        let messages = upload_messages("0190", 3, &bytes);
        assert_eq!(messages.len(), 4);
        assert!(
            matches!(&messages[0].part, Some(Part::Header(h)) if h.record_id == "0190" && h.expected_version == 3)
        );
        assert!(matches!(&messages[3].part, Some(Part::Chunk(c)) if c.len() == 10));
    }

    #[test]
    fn digest_is_lower_case_hex() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
