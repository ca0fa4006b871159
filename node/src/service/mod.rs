//! The gRPC services officers call, one file each, and what they share: the node's state
//! and the wrapper that authenticates, times and logs every call.
//!
//! Invariant: handlers never touch sled; they go through [`crate::storage::Storage`], and
//! every write is flushed before it is acknowledged.

pub mod mo;
pub mod peers;
pub mod photos;
pub mod records;

use crate::auth;
use crate::error::NodeResult;
use crate::identity::Officer;
use crate::storage::Storage;
use setu_proto::v1::Handling;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tonic::{Request, Response, Status};

/// What every service handler needs.
pub struct NodeState {
    /// This node's district id.
    pub district: String,
    /// The district's store.
    pub storage: Storage,
    /// The handling code given to items created without one.
    pub default_handling: Handling,
}

/// Shared node state.
pub type SharedState = Arc<NodeState>;

/// Runs an officer RPC: finds the officer behind `request`, runs `body`, and logs one line
/// with the officer, method, status and latency.
pub(crate) async fn officer_call<Req, Resp, Fut>(
    method: &'static str,
    request: Request<Req>,
    body: impl FnOnce(Officer, Req) -> Fut,
) -> Result<Response<Resp>, Status>
where
    Fut: Future<Output = NodeResult<Resp>>,
{
    let started = Instant::now();
    let identity = auth::caller(&request);
    let who = match &identity {
        Ok(id) => id.to_string(),
        Err(_) => "unauthenticated".to_string(),
    };
    let result = match identity.and_then(auth::officer) {
        Ok(officer) => body(officer, request.into_inner()).await,
        Err(e) => Err(e),
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(resp) => {
            tracing::info!(caller = %who, method, status = "OK", latency_ms, "rpc");
            Ok(Response::new(resp))
        }
        Err(err) => {
            let status = Status::from(err);
            tracing::info!(caller = %who, method, status = ?status.code(), latency_ms, "rpc");
            Err(status)
        }
    }
}

/// Page size to use for a List call: 0 means the default; above the limit is refused.
pub(crate) fn page_size(requested: u32) -> NodeResult<usize> {
    use crate::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
    match requested {
        0 => Ok(DEFAULT_PAGE_SIZE as usize),
        n if n > MAX_PAGE_SIZE => Err(crate::error::NodeError::invalid(
            "page_size",
            format!("{n} is above the limit of {MAX_PAGE_SIZE}"),
        )),
        n => Ok(n as usize),
    }
}

/// The id to continue after, from a page token (empty for the first page).
pub(crate) fn page_after(token: &str) -> NodeResult<Option<&str>> {
    if token.is_empty() {
        return Ok(None);
    }
    crate::validate::id("page_token", token)?;
    Ok(Some(token))
}
