//! Calls refused before any handler saw them. Tonic answers an undecodable request, one
//! larger than `max_message_bytes` or one for a method this node does not serve itself,
//! so `officer_call` never runs for it: without this layer such a refusal would leave no
//! audit entry, no log line and no metric.
//!
//! [`RefusalLayer`] wraps every call of the gRPC server. It puts a [`HandlerReached`]
//! marker in the request's extensions, which `officer_call` and the federation service set
//! (see [`handler_reached`]). When the response is a refusal (a non-OK `grpc-status` in the
//! response headers, tonic's trailers-only form) and no handler set the marker, the layer
//! logs one warning, counts it in `setu_refused_before_handler_total{method,code}` and, when
//! the TLS connection carried a certificate with a Setu identity, appends an audit entry
//! naming the caller and flushes it before the response leaves. Nothing of the client's
//! input is echoed beyond [`MAX_REASON_CHARS`] characters, and the method is only named
//! when it is one this node serves, so the metric's labels stay bounded.

use crate::ops::metrics::Metrics;
use crate::storage::Storage;
use crate::trust::identity::{identity_from_der, Identity};
use setu_proto::v1::AuditEntry;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::codegen::http;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic::{Code, Status};

/// The most characters of a refusal's message kept in its log line and audit entry.
pub(crate) const MAX_REASON_CHARS: usize = 100;

/// Longest method name (after the service) this node ever names in a label.
const MAX_METHOD_CHARS: usize = 64;

/// Set once a handler has seen the call (it then audits, logs and counts it itself).
#[derive(Clone, Default)]
pub(crate) struct HandlerReached(Arc<AtomicBool>);

impl HandlerReached {
    fn reached(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Tells the layer that a handler has seen `request`. Called first by `officer_call` and
/// by the federation service.
pub(crate) fn handler_reached<T>(request: &tonic::Request<T>) {
    if let Some(marker) = request.extensions().get::<HandlerReached>() {
        marker.0.store(true, Ordering::Release);
    }
}

/// The layer that records refusals made before a handler (see the module comment).
#[derive(Clone)]
pub(crate) struct RefusalLayer {
    shared: Arc<Shared>,
}

/// What the layer's services share.
struct Shared {
    storage: Storage,
    metrics: Arc<Metrics>,
    /// The fully qualified names of the Setu services this node serves.
    services: Vec<&'static str>,
}

impl RefusalLayer {
    /// A layer that audits into `storage`, counts into `metrics` and names the methods of
    /// `services` (fully qualified, such as `setu.v1.RecordService`).
    pub(crate) fn new(
        storage: Storage,
        metrics: Arc<Metrics>,
        services: Vec<&'static str>,
    ) -> RefusalLayer {
        RefusalLayer {
            shared: Arc::new(Shared {
                storage,
                metrics,
                services,
            }),
        }
    }
}

impl<S> tower_layer::Layer<S> for RefusalLayer {
    type Service = RefusalService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RefusalService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`RefusalLayer`] wraps around the server's routes.
#[derive(Clone)]
pub(crate) struct RefusalService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for RefusalService<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        let marker = HandlerReached::default();
        request.extensions_mut().insert(marker.clone());
        let path = request.uri().path().to_string();
        let certificate = request
            .extensions()
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(TlsConnectInfo::peer_certs)
            .and_then(|certs| certs.first().map(|c| c.as_ref().to_vec()));
        // The clone that was made ready stays with this call; the fresh clone waits for the
        // next `poll_ready`.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let shared = self.shared.clone();
        Box::pin(async move {
            let response = inner.call(request).await?;
            if !marker.reached() {
                if let Some(status) = Status::from_header_map(response.headers()) {
                    if status.code() != Code::Ok {
                        shared.refused(&path, &status, certificate.as_deref()).await;
                    }
                }
            }
            Ok(response)
        })
    }
}

/// At most `max` characters of `text`, marked with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max).collect();
    short.push('…');
    short
}

impl Shared {
    /// The method a path names, as the metrics and audit entries write it: `Service/Method`
    /// for a service this node serves (`Service/unknown` for a method it does not have),
    /// `None` for the health and reflection services (their handlers answer for
    /// themselves), `unknown` for anything else.
    fn method_of(&self, path: &str, code: Code) -> Option<String> {
        let (service, method) = path.trim_start_matches('/').split_once('/')?;
        if service.starts_with("grpc.") {
            return None;
        }
        if !self.services.contains(&service) {
            return Some("unknown".to_string());
        }
        let short = service.rsplit('.').next().unwrap_or(service);
        let plausible = !method.is_empty()
            && method.len() <= MAX_METHOD_CHARS
            && method.chars().all(|c| c.is_ascii_alphanumeric());
        if code == Code::Unimplemented || !plausible {
            return Some(format!("{short}/unknown"));
        }
        Some(format!("{short}/{method}"))
    }

    /// Logs, counts and (for a caller with a Setu identity) audits one refusal.
    async fn refused(&self, path: &str, status: &Status, certificate: Option<&[u8]>) {
        let code = status.code();
        let Some(method) = self.method_of(path, code) else {
            return;
        };
        let reason = shorten(status.message(), MAX_REASON_CHARS);
        self.metrics.record_refused_before_handler(&method, code);
        let identity = certificate.map(identity_from_der);
        let caller = match &identity {
            None => "no certificate".to_string(),
            Some(Ok(id)) => id.to_string(),
            Some(Err(_)) => "a certificate without a Setu identity".to_string(),
        };
        tracing::warn!(%caller, %method, code = ?code, %reason, "call refused before any handler saw it");
        let Some(Ok(identity)) = identity else {
            return;
        };
        let mut entry = AuditEntry {
            action: super::note::action_of(&method),
            method: method.clone(),
            district: identity.district().to_string(),
            outcome: super::note::code_name(code).to_string(),
            query: format!("refused before the handler: {reason}"),
            at_ms: crate::clock::now_ms(),
            ..Default::default()
        };
        match &identity {
            Identity::Officer(officer) => {
                entry.officer = officer.badge.clone();
                entry.officer_name = officer.name.clone();
                entry.role = officer.role.to_string();
            }
            Identity::Node { district } => {
                entry.officer = format!("node {district}");
                entry.role = "node".to_string();
            }
        }
        let written = match self.storage.append_audit(entry) {
            Ok(_) => self.storage.flush().await,
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            tracing::error!(%caller, %method, error = %e, "the audit entry of a call refused before its handler could not be written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn long_reasons_are_cut() {
        assert_eq!(shorten("short", 10), "short");
        let long = "x".repeat(500);
        let cut = shorten(&long, 100);
        assert_eq!(cut.chars().count(), 101);
        assert!(cut.ends_with('…'));
    }
}
