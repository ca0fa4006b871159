//! `setu record photo add`, `setu record photo get` and `setu record show --save-photos`:
//! photos travel in 256 KiB pieces and are checked against their SHA-256 on both ends.

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
use crate::parse::parse_sha256;
use crate::records;
use crate::render::record_card;
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

/// The result of `record show --save-photos`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SavedPhotosView {
    /// The record, as `record show --json` prints it.
    pub record: RecordView,
    /// Each photo of the record and where it was saved, in the record's order.
    pub saved: Vec<PhotoDownloadView>,
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
        PhotoCommand::Get {
            id,
            sha256,
            out,
            force,
        } => get(config, id, sha256, out, *force, json).await,
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
    prefix: &str,
    out: &Path,
    force: bool,
    json: bool,
) -> Result<String, ClientError> {
    if !force && tokio::fs::symlink_metadata(out).await.is_ok() {
        return Err(ClientError::Input(format!(
            "{} already exists; choose another --out or add --force to replace it",
            out.display()
        )));
    }
    let channel = connect(config).await?;
    let mut records = records::client_on(channel.clone());
    let record = records::get(&mut records, id).await?;
    let listed = unique_photo(id, &record.photos, prefix)?;
    let sha256 = listed.sha256.to_ascii_lowercase();
    let (photo, bytes) = download(&mut client(channel), &sha256, &listed).await?;
    write(out, &bytes).await?;
    let view = PhotoDownloadView {
        photo,
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

/// `record show ID --save-photos DIR`: reads the record, saves every photo it lists into
/// `dir` (created when missing) as `<sha256>.<ext>`, each verified before it is written,
/// then prints the record and where each photo went.
pub async fn show_and_save(
    config: &ClientConfig,
    id: &str,
    dir: &Path,
    json: bool,
) -> Result<String, ClientError> {
    let channel = connect(config).await?;
    let record = records::get(&mut records::client_on(channel.clone()), id).await?;
    let mut photos = client(channel);
    if !record.photos.is_empty() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|source| ClientError::File {
                action: "create the folder",
                path: dir.to_path_buf(),
                source,
            })?;
    }
    let mut saved = Vec::new();
    for listed in &record.photos {
        // The digest names the file, so it must be one before it goes near a path.
        let sha256 = parse_sha256(&listed.sha256).map_err(|_| {
            ClientError::Protocol(format!(
                "record {id} lists a photo whose sha256 {:?} is not 64 hex digits",
                listed.sha256
            ))
        })?;
        let (photo, bytes) = download(&mut photos, &sha256, listed).await?;
        let path = dir.join(photo_file_name(&sha256, &photo.mime_type));
        write(&path, &bytes).await?;
        saved.push(PhotoDownloadView {
            photo,
            path: path.display().to_string(),
        });
    }
    let view = SavedPhotosView { record, saved };
    emit(json, &view, saved_report)
}

/// The record's card followed by one line per saved photo.
pub fn saved_report(view: &SavedPhotosView) -> String {
    let mut out = record_card(&view.record);
    out.push('\n');
    if view.saved.is_empty() {
        out.push_str("no photos to save\n");
    }
    for saved in &view.saved {
        out.push_str(&format!(
            "saved {} ({} bytes, {})\n",
            saved.path, saved.photo.size_bytes, saved.photo.mime_type
        ));
    }
    out
}

/// The file name of a saved photo: its SHA-256 and the usual extension of its media type
/// ("bin" for a type this client does not know).
pub fn photo_file_name(sha256: &str, mime_type: &str) -> String {
    let extension = match mime_type.trim().to_ascii_lowercase().as_str() {
        "image/jpeg" | "image/jpg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        _ => "bin",
    };
    format!("{sha256}.{extension}")
}

/// Downloads the photo `sha256` that the record lists as `listed` and verifies it: no more
/// bytes than listed, and exactly the expected SHA-256. Returns the photo as the node
/// described it (its size being the bytes received) and the bytes.
async fn download(
    client: &mut PhotoServiceClient<Channel>,
    sha256: &str,
    listed: &PhotoView,
) -> Result<(PhotoView, Vec<u8>), ClientError> {
    let mut stream = client
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
    if !actual.eq_ignore_ascii_case(sha256) {
        return Err(ClientError::ChecksumMismatch {
            expected: sha256.to_string(),
            actual,
        });
    }
    let mut photo = photo.unwrap_or_else(|| listed.clone());
    photo.size_bytes = bytes.len() as u64;
    Ok((photo, bytes))
}

/// The one photo of the record whose SHA-256 starts with `prefix` (hex, any case); an
/// unknown or ambiguous prefix is refused with a sentence.
fn unique_photo(id: &str, photos: &[PhotoView], prefix: &str) -> Result<PhotoView, ClientError> {
    let prefix = prefix.trim().to_ascii_lowercase();
    let matching: Vec<&PhotoView> = photos
        .iter()
        .filter(|p| p.sha256.to_ascii_lowercase().starts_with(&prefix))
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(ClientError::PhotoNotListed {
            record_id: id.to_string(),
            sha256: prefix,
        }),
        many => Err(ClientError::Input(format!(
            "{} photos of record {id} start with {prefix}; give more of the digest ({})",
            many.len(),
            many.iter()
                .map(|p| p.sha256.chars().take(prefix.len() + 4).collect::<String>())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Writes verified photo bytes to `path`, readable by the officer alone (mode 0600): a
/// photo of a person on record is not for other users of the machine.
async fn write(path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    let path = path.to_path_buf();
    let bytes = bytes.to_vec();
    let target = path.clone();
    tokio::task::spawn_blocking(move || write_private(&target, &bytes))
        .await
        .map_err(|e| ClientError::Protocol(format!("the file writer stopped: {e}")))?
        .map_err(|source| ClientError::File {
            action: "write",
            path,
            source,
        })
}

/// Writes `bytes` to `path` with mode 0600, also when the file was there with another mode.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = private_file(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates (or truncates) `path` for writing with mode 0600.
pub(crate) fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
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
    fn saved_photos_are_named_after_their_digest_and_type() {
        let sha = "ab".repeat(32);
        assert_eq!(photo_file_name(&sha, "image/jpeg"), format!("{sha}.jpg"));
        assert_eq!(photo_file_name(&sha, "image/png"), format!("{sha}.png"));
        assert_eq!(photo_file_name(&sha, "IMAGE/WEBP"), format!("{sha}.webp"));
        assert_eq!(photo_file_name(&sha, "image/gif"), format!("{sha}.bin"));
    }

    #[test]
    fn the_report_shows_the_record_then_each_saved_photo() {
        let photo = PhotoView {
            sha256: "ab".repeat(32),
            mime_type: "image/png".into(),
            size_bytes: 69,
        };
        let view = SavedPhotosView {
            record: RecordView {
                name: "Test Raju Example".into(),
                photos: vec![photo.clone()],
                ..Default::default()
            },
            saved: vec![PhotoDownloadView {
                photo,
                path: format!("photos/{}.png", "ab".repeat(32)),
            }],
        };
        let text = saved_report(&view);
        assert!(text.starts_with(&record_card(&view.record)), "{text}");
        assert!(
            text.ends_with(&format!(
                "\nsaved photos/{}.png (69 bytes, image/png)\n",
                "ab".repeat(32)
            )),
            "{text}"
        );
        let none = saved_report(&SavedPhotosView::default());
        assert!(none.ends_with("\nno photos to save\n"), "{none}");
    }

    #[test]
    fn digest_is_lower_case_hex() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
