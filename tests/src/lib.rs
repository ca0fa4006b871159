//! Shared helpers of Setu's end-to-end tests (crate `setu-tests`).
//!
//! Every test builds its own world: a certificate authority per state ([`pki`]), real
//! district nodes on `127.0.0.1:0` over a real sled database in a temporary folder
//! ([`node`]), officers connecting over mutual TLS ([`client`]), and the real `setu-node`
//! and `setu` binaries as child processes ([`bins`]). Federation tests plan several peered
//! nodes at once ([`mesh`]) and can cut the link between two of them with a TCP proxy
//! ([`proxy`]). Nothing sleeps to synchronise: [`wait::wait_until`] polls a condition
//! against a deadline.
//!
//! The helpers live in this library rather than in files directly under `tests/`, because
//! cargo turns every such file into a test binary of its own.
#![forbid(unsafe_code)]

pub mod bench;
pub mod bins;
pub mod browser;
pub mod client;
pub mod fixtures;
pub mod mesh;
pub mod national;
pub mod node;
pub mod pki;
pub mod proxy;
pub mod scrape;
pub mod wait;

pub use client::{connect, describe, mo, photos, records, search, tls_alert, Officer};
pub use fixtures::{png_bytes, sample_note, sample_record};
pub use node::{District, TestNode};
pub use pki::{CertPair, TestCa};
pub use setu_node::trust::identity::Role;
pub use wait::wait_until;

/// Installs the process-wide rustls crypto provider (ring) and a quiet log subscriber.
///
/// Call at the start of every test: without a provider the server task panics inside a
/// spawned task and rejection tests would pass against a server that never started. Safe to
/// call any number of times.
pub fn init() {
    setu_node::net::tls::install_crypto_provider();
    let filter = std::env::var("SETU_TEST_LOG").unwrap_or_else(|_| "warn".to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_test_writer()
        .try_init();
}
