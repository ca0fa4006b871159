//! The Setu district node as a library: the binary in `main.rs` is a thin wrapper, and
//! the end-to-end tests start nodes in-process through this crate.
#![forbid(unsafe_code)]

pub mod alert_view;
pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
pub mod federation;
pub mod net;
pub mod ops;
pub mod review;
pub mod sample;
pub mod search;
pub mod server;
pub mod service;
pub mod storage;
pub mod trust;
pub mod validate;

/// Spawns a task in the current tracing span, so that what it logs carries the span's
/// fields: the demo runs two nodes in one process and wraps each in a span naming its
/// district, and every task a node starts keeps saying which node it belongs to.
pub(crate) fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(tracing::Instrument::in_current_span(future))
}
