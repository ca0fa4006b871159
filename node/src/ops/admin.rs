//! The admin listener: plain HTTP on a separate address (`admin_listen`, loopback by
//! default) with `GET /metrics` (the OpenMetrics text of [`crate::ops::metrics`]) and
//! `GET /health` (200 `serving` or 503 `not serving`, for probes that do not speak gRPC).
//!
//! It is plain HTTP, not mutual TLS like the gRPC port, because it carries no personal
//! data — only counts, district ids and method names — and because a Prometheus agent on
//! the same host should not need an officer or node certificate. Keep it on loopback (or a
//! management network): the node warns at start when it is bound elsewhere.

use crate::ops::health::Health;
use crate::ops::metrics::{Metrics, CONTENT_TYPE};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What the admin handlers read.
#[derive(Clone)]
struct Admin {
    metrics: Arc<Metrics>,
    health: Arc<Health>,
}

/// Serves the admin endpoints on `listener` until `stop` completes.
pub fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    let app = Router::new()
        .route("/metrics", get(metrics_text))
        .route("/health", get(health_text))
        .with_state(Admin { metrics, health });
    crate::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "the admin listener failed");
        }
    })
}

async fn metrics_text(State(admin): State<Admin>) -> Response {
    match admin.metrics.render().await {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the metrics failed");
            (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response()
        }
    }
}

async fn health_text(State(admin): State<Admin>) -> Response {
    if admin.health.is_serving() {
        (StatusCode::OK, "serving\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not serving\n").into_response()
    }
}
