//! Photos: streamed in chunks, checked by content (not name) and size, attached to their
//! record, downloaded byte for byte, and stored once per SHA-256 until the last record that
//! references them is expunged.
#![forbid(unsafe_code)]

use setu_proto::v1::upload_photo_request::Part;
use setu_proto::v1::{
    CreateRecordRequest, DeleteRecordRequest, DownloadPhotoRequest, GetRecordRequest, PersonRecord,
    PhotoRef, UploadPhotoHeader, UploadPhotoRequest, UploadPhotoResponse,
};
use setu_tests::{png_bytes, sample_record, District, Officer, Role};
use sha2::{Digest, Sha256};
use tokio_stream::StreamExt;
use tonic::{Code, Status};

const DHANBAD: &str = "jh-dhanbad";
const MIB: usize = 1024 * 1024;

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

/// Uploads `bytes` to `record_id` as a header followed by chunks of `chunk` bytes.
async fn upload(
    officer: &Officer,
    record_id: &str,
    bytes: &[u8],
    chunk: usize,
) -> Result<UploadPhotoResponse, Status> {
    let mut messages = vec![UploadPhotoRequest {
        part: Some(Part::Header(UploadPhotoHeader {
            record_id: record_id.to_string(),
            expected_version: 0,
        })),
    }];
    messages.extend(bytes.chunks(chunk).map(|c| UploadPhotoRequest {
        part: Some(Part::Chunk(c.to_vec())),
    }));
    officer
        .photos()
        .upload(tokio_stream::iter(messages))
        .await
        .map(tonic::Response::into_inner)
}

/// Downloads a photo: its reference (from the first message) and all its bytes.
async fn download(officer: &Officer, sha256: &str) -> Result<(PhotoRef, Vec<u8>), Status> {
    let mut stream = officer
        .photos()
        .download(DownloadPhotoRequest {
            sha256: sha256.to_string(),
        })
        .await?
        .into_inner();
    let mut photo = None;
    let mut bytes = Vec::new();
    while let Some(message) = stream.next().await {
        let message = message?;
        if let Some(p) = message.photo {
            assert!(
                photo.is_none(),
                "only the first message carries the reference"
            );
            photo = Some(p);
        }
        bytes.extend_from_slice(&message.chunk);
    }
    let photo = photo.ok_or_else(|| Status::internal("the download carried no photo reference"))?;
    Ok((photo, bytes))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn an_eleven_mib_photo_is_refused_naming_the_limit() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-4001", Role::Officer).await?;
    let record = create(&officer, "Test Big Photo Example").await?;

    // A real PNG header followed by 11 MiB of padding, in chunks of 1 MiB.
    let mut bytes = png_bytes([1, 2, 3]);
    bytes.resize(11 * MIB, 0);
    let status = upload(&officer, &record.id, &bytes, MIB)
        .await
        .expect_err("an 11 MiB photo must be refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().starts_with("photo:"),
        "{}",
        status.message()
    );
    assert!(
        status.message().contains("10485760") || status.message().contains("10 MiB"),
        "the message should give the limit: {}",
        status.message()
    );

    let stored = get(&officer, &record.id).await?;
    assert!(stored.photos.is_empty(), "{:?}", stored.photos);
    assert_eq!(stored, record, "the record is unchanged");
    assert!(district
        .node
        .storage()
        .photo_ref(&sha256_hex(&bytes))?
        .is_none());
    Ok(())
}

#[tokio::test]
async fn a_text_file_named_jpg_is_refused() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-4002", Role::Officer).await?;
    let record = create(&officer, "Test Fake Photo Example").await?;

    // What a file called "suspect.jpg" holding plain text would upload: the name never
    // travels, only the bytes.
    let text = b"This is not a photograph, whatever suspect.jpg claims.\n".repeat(50);
    let status = upload(&officer, &record.id, &text, 1024)
        .await
        .expect_err("plain text must be refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().starts_with("photo:"),
        "{}",
        status.message()
    );

    // An empty upload and an upload without a header are refused too.
    let status = upload(&officer, &record.id, &[], 1024)
        .await
        .expect_err("an empty photo must be refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().starts_with("photo:"),
        "{}",
        status.message()
    );
    let headless = vec![UploadPhotoRequest {
        part: Some(Part::Chunk(png_bytes([9, 9, 9]))),
    }];
    let status = officer
        .photos()
        .upload(tokio_stream::iter(headless))
        .await
        .expect_err("an upload must start with its header");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().starts_with("header:"),
        "{}",
        status.message()
    );

    assert_eq!(
        get(&officer, &record.id).await?,
        record,
        "the record is unchanged"
    );
    assert!(district
        .node
        .storage()
        .photo_ref(&sha256_hex(&text))?
        .is_none());
    Ok(())
}

#[tokio::test]
async fn a_png_is_attached_downloaded_and_stored_once() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-4003", Role::Officer).await?;
    let admin = district.officer("JH-9004", Role::Admin).await?;
    let first = create(&officer, "Test Photo Owner Example").await?;
    let second = create(&officer, "Test Photo Twin Example").await?;

    let png = png_bytes([200, 30, 40]);
    let sha = sha256_hex(&png);
    // Chunks of 7 bytes: the node must reassemble them in order.
    let uploaded = upload(&officer, &first.id, &png, 7).await?;
    let photo = uploaded
        .photo
        .expect("the upload returns the photo reference");
    assert_eq!(photo.sha256, sha);
    assert_eq!(photo.mime_type, "image/png");
    assert_eq!(photo.size_bytes, png.len() as u64);
    let record = uploaded.record.expect("the upload returns the record");
    assert_eq!(record.version, first.version + 1);
    assert_eq!(record.photos, vec![photo.clone()]);
    assert_eq!(record.updated_by, officer.label);
    assert_eq!(get(&officer, &first.id).await?, record);

    let (downloaded_ref, downloaded) = download(&officer, &sha).await?;
    assert_eq!(downloaded, png, "the download returns identical bytes");
    assert_eq!(sha256_hex(&downloaded), sha);
    assert_eq!(downloaded_ref, photo);

    // Uploading the same photo again to the same record changes nothing.
    let again = upload(&officer, &first.id, &png, 1024).await?;
    assert_eq!(again.record.expect("record").version, record.version);

    // The same bytes on a second record: one stored copy, referenced twice.
    let twin = upload(&officer, &second.id, &png, 1024).await?;
    assert_eq!(twin.photo.expect("photo").sha256, sha);
    assert_eq!(get(&officer, &second.id).await?.photos, vec![photo.clone()]);
    let (stored_ref, stored) = district
        .node
        .storage()
        .photo(&sha)?
        .expect("the photo is stored");
    assert_eq!(stored, png);
    assert_eq!(stored_ref, photo);

    // A refused (stale) expunge rolls back completely: record and photo stay.
    let status = admin
        .records()
        .delete(DeleteRecordRequest {
            id: first.id.clone(),
            reason: "duplicate dossier".to_string(),
            expected_version: first.version,
        })
        .await
        .expect_err("a stale expunge must be refused");
    assert_eq!(status.code(), Code::Aborted, "{status:?}");
    assert_eq!(get(&officer, &first.id).await?, record);

    // Expunging the first record keeps the photo for the second.
    admin
        .records()
        .delete(DeleteRecordRequest {
            id: first.id.clone(),
            reason: "duplicate dossier".to_string(),
            expected_version: 0,
        })
        .await?;
    let (_, still) = download(&officer, &sha).await?;
    assert_eq!(
        still, png,
        "the photo survives while a record references it"
    );

    // Expunging the second removes it.
    admin
        .records()
        .delete(DeleteRecordRequest {
            id: second.id.clone(),
            reason: "duplicate dossier".to_string(),
            expected_version: 0,
        })
        .await?;
    let status = download(&officer, &sha)
        .await
        .expect_err("a photo nobody references is gone");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(district.node.storage().photo(&sha)?.is_none());

    // A malformed digest names the field.
    let status = download(&officer, "ABC")
        .await
        .expect_err("a malformed digest must be refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().starts_with("sha256:"),
        "{}",
        status.message()
    );
    Ok(())
}
