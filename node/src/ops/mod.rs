//! What operators see: Prometheus metrics, the gRPC and HTTP health status, and the
//! plain-HTTP admin listener that serves them on loopback.

pub mod admin;
pub mod health;
pub mod metrics;
