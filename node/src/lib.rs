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
