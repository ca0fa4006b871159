//! `/photos/{sha256}`: a record's photo, fetched from the node's `PhotoService` for each
//! request and passed to the browser, so that thumbnails and dossiers show photos inline
//! without the console keeping any (every response says `no-store`).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use setu_proto::v1 as pb;
use tokio_stream::StreamExt;

use super::node::Failure;
use super::Console;

/// The largest photo passed on: the node's own limit is 10 MiB.
const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024 + 64 * 1024;

/// The image types the browser is told; anything else is sent as plain bytes.
const IMAGE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];

/// `GET /photos/{sha256}`.
pub(crate) async fn photo(State(console): State<Console>, Path(sha256): Path<String>) -> Response {
    if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
        return (StatusCode::BAD_REQUEST, "not a photo digest").into_response();
    }
    match download(&console, &sha256.to_ascii_lowercase()).await {
        Ok((mime, bytes)) => {
            let mime = if IMAGE_TYPES.contains(&mime.as_str()) {
                mime
            } else {
                "application/octet-stream".to_string()
            };
            ([(header::CONTENT_TYPE, mime)], bytes).into_response()
        }
        Err(failure) => {
            let status = if failure.not_found {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::BAD_GATEWAY
            };
            (status, failure.message).into_response()
        }
    }
}

/// The photo's type and bytes.
async fn download(console: &Console, sha256: &str) -> Result<(String, Vec<u8>), Failure> {
    let mut stream = console
        .photos()
        .download(pb::DownloadPhotoRequest {
            sha256: sha256.to_string(),
        })
        .await?
        .into_inner();
    let mut mime = String::new();
    let mut bytes = Vec::new();
    while let Some(message) = stream.next().await {
        let message = message?;
        if let Some(photo) = message.photo {
            mime = photo.mime_type;
        }
        if bytes.len() + message.chunk.len() > MAX_PHOTO_BYTES {
            return Err(Failure {
                field: None,
                message: "the photo is larger than a photo may be".to_string(),
                not_found: false,
            });
        }
        bytes.extend_from_slice(&message.chunk);
    }
    Ok((mime, bytes))
}
