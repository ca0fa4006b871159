//! The node's health as the gRPC health service (`grpc.health.v1.Health`) reports it: every
//! registered service, and the whole server (the empty service name), is SERVING while the
//! node runs and its storage takes writes, and NOT_SERVING once the node starts shutting
//! down or while a storage probe fails. Load balancers and orchestrators read it to stop
//! sending calls to a node that cannot complete them.
//!
//! The decision is kept in two flags and re-applied to every service under one lock, so a
//! probe that recovers can never mark a node SERVING again after its shutdown began.

use crate::storage::Storage;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;

/// How often the storage probe runs.
pub const PROBE_EVERY: Duration = Duration::from_secs(5);
/// How long a probe may take before the storage counts as failing.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The node's health: whether it is shutting down and whether its storage works.
pub struct Health {
    reporter: HealthReporter,
    /// The fully qualified names of the services whose status is reported (the empty
    /// name, the whole server, is always reported too).
    services: Vec<&'static str>,
    shutting_down: AtomicBool,
    storage_healthy: AtomicBool,
    /// Held while the statuses are written, so that they always match the latest flags.
    apply: tokio::sync::Mutex<()>,
}

impl Health {
    /// Health over `reporter` for `services`, all SERVING.
    pub async fn new(reporter: HealthReporter, services: Vec<&'static str>) -> Health {
        let health = Health {
            reporter,
            services,
            shutting_down: AtomicBool::new(false),
            storage_healthy: AtomicBool::new(true),
            apply: tokio::sync::Mutex::new(()),
        };
        health.apply().await;
        health
    }

    /// Whether calls should be sent to this node: not shutting down, storage working.
    pub fn is_serving(&self) -> bool {
        !self.shutting_down.load(Ordering::SeqCst) && self.storage_healthy()
    }

    /// Whether the last storage probe succeeded.
    pub fn storage_healthy(&self) -> bool {
        self.storage_healthy.load(Ordering::SeqCst)
    }

    /// Marks the node as shutting down: every service turns NOT_SERVING for good.
    pub async fn shutting_down(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.apply().await;
    }

    /// Records the outcome of a storage probe.
    pub async fn storage_checked(&self, healthy: bool) {
        self.storage_healthy.store(healthy, Ordering::SeqCst);
        self.apply().await;
    }

    async fn apply(&self) {
        let _held = self.apply.lock().await;
        let status = if self.is_serving() {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        self.reporter.set_service_status("", status).await;
        for service in &self.services {
            self.reporter.set_service_status(service, status).await;
        }
    }
}

/// Probes `storage` every [`PROBE_EVERY`] until `stop` turns true, and reports each outcome
/// to `health`; logs when the storage starts failing and when it recovers.
pub async fn probe_storage(
    health: Arc<Health>,
    storage: Storage,
    clock: crate::clock::Clock,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(PROBE_EVERY) => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
        let outcome = match tokio::time::timeout(PROBE_TIMEOUT, storage.probe(clock.now_ms())).await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {PROBE_TIMEOUT:?}")),
        };
        let was_healthy = health.storage_healthy();
        match &outcome {
            Err(e) if was_healthy => {
                tracing::error!(error = %e, "storage probe failed; health is NOT_SERVING")
            }
            Ok(()) if !was_healthy => tracing::info!("storage probe succeeded again"),
            _ => {}
        }
        health.storage_checked(outcome.is_ok()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_health::pb::health_server::Health as _;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::server::HealthService;

    const RECORDS: &str = "setu.v1.RecordService";

    async fn status(service: &HealthService, name: &str) -> i32 {
        service
            .check(tonic::Request::new(HealthCheckRequest {
                service: name.to_string(),
            }))
            .await
            .expect("the service is registered")
            .into_inner()
            .status
    }

    async fn both(service: &HealthService) -> [i32; 2] {
        [status(service, "").await, status(service, RECORDS).await]
    }

    const SERVING: [i32; 2] = [ServingStatus::Serving as i32; 2];
    const NOT_SERVING: [i32; 2] = [ServingStatus::NotServing as i32; 2];

    #[tokio::test]
    async fn failing_storage_turns_not_serving_until_it_recovers() {
        let reporter = HealthReporter::new();
        let service = HealthService::from_health_reporter(reporter.clone());
        let health = Health::new(reporter, vec![RECORDS]).await;
        assert_eq!(both(&service).await, SERVING);
        health.storage_checked(false).await;
        assert_eq!(both(&service).await, NOT_SERVING);
        assert!(!health.storage_healthy());
        health.storage_checked(true).await;
        assert_eq!(both(&service).await, SERVING);
    }

    #[tokio::test]
    async fn shutting_down_stays_not_serving_whatever_the_probe_says() {
        let reporter = HealthReporter::new();
        let service = HealthService::from_health_reporter(reporter.clone());
        let health = Health::new(reporter, vec![RECORDS]).await;
        health.shutting_down().await;
        assert_eq!(both(&service).await, NOT_SERVING);
        health.storage_checked(true).await;
        assert_eq!(both(&service).await, NOT_SERVING);
        assert!(!health.is_serving());
    }
}
