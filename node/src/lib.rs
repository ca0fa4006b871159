//! The Setu district node as a library: the binary in `main.rs` is a thin wrapper, and
//! the end-to-end tests start nodes in-process through this crate.
#![forbid(unsafe_code)]

pub mod admin;
pub mod alert_view;
pub mod auth;
pub mod backup_cli;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connection;
pub mod demo;
pub mod deny;
pub mod error;
pub mod federation;
pub mod health;
pub mod identity;
pub mod limits;
pub mod metrics;
pub mod pki;
pub mod reload;
pub mod review;
pub mod sample;
pub mod search;
pub mod server;
pub mod service;
pub mod storage;
pub mod tls;
pub mod validate;
pub mod validate_alert;
pub mod validate_search;
