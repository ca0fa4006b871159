//! The console's stylesheet and script, compiled into the binary so that the console needs
//! no build step, no CDN and no network but the node's: it works in an offline control room.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// The stylesheet: wall-screen and phone-width layouts, and the print wanted notice.
const CSS: &str = include_str!("assets/console.css");

/// The script: local times, the live alert wall, countdowns and the FLASH sound.
const JS: &str = include_str!("assets/console.js");

/// `GET /assets/{name}`.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "console.css" => ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response(),
        "console.js" => (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            JS,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
