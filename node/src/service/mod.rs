//! The gRPC services officers call, one file each, and what they share: the node's state
//! and the wrapper that authenticates, audits, times and logs every call.
//!
//! Invariants: handlers never touch the database engine; they go through
//! [`crate::storage::Storage`]. A write made under an officer call and its audit entry are
//! one transaction: [`officer_call`] runs the handler inside a [`CALL_AUDIT`] scope holding
//! the call's draft entry, and each write transaction the handler makes appends that entry
//! (with the ids it committed) in the same storage commit. A call that wrote nothing, or
//! that failed, gets its entry from `officer_call` after the handler. Handlers do not
//! flush: `officer_call` flushes once before anything is acknowledged, so one `fsync` makes
//! the writes and their entries durable. A handler that runs storage calls on a blocking
//! thread re-enters the scope there ([`in_call`]).

pub mod alerts;
pub mod audit;
pub mod federation;
pub mod import;
pub mod maintenance;
pub mod mo;
pub mod note;
pub mod peers;
pub mod photos;
pub mod records;
pub(crate) mod refusals;
pub mod search;

use crate::error::NodeResult;
use crate::ops::metrics::CallTimer;
use crate::storage::audit::{CallAudit, CALL_AUDIT};
use crate::storage::Storage;
use crate::trust::auth;
use crate::trust::identity::{Identity, Officer};
use note::{AuditNote, AuditRequest, AuditResponse};
use setu_proto::v1::{AuditEntry, Handling};
use std::future::Future;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// What every service handler needs.
pub struct NodeState {
    /// This node's district id.
    pub district: String,
    /// The district's store.
    pub storage: Storage,
    /// The handling code given to items created without one.
    pub default_handling: Handling,
    /// The configured peer districts (where alerts may be sent).
    pub peers: Vec<String>,
    /// The clock alert deadlines and expiry are judged by.
    pub clock: crate::clock::Clock,
    /// The node's data folder (a backup is spooled there before it is sent).
    pub data_dir: std::path::PathBuf,
}

/// The officer named in audit entries of callers without a usable officer identity.
pub const UNKNOWN_OFFICER: &str = "unknown";

/// Shared node state.
pub type SharedState = Arc<NodeState>;

/// Runs an officer RPC: finds the officer behind `request`, runs `body` inside the call's
/// [`CALL_AUDIT`] scope (so each write transaction of the call carries its audit entry),
/// appends the call's entry to the audit trail when no write carried one or the call failed
/// (who, what, which ids, how many results, the outcome; refused and unauthenticated calls
/// included), flushes it together with whatever the call wrote (the
/// only flush of an officer call, so it must happen before the response), and logs one line with the officer,
/// method, status and latency, which it also counts in the node's metrics (see
/// [`CallTimer`]). If the audit entry cannot be written durably the call fails with
/// INTERNAL: nothing is returned that the trail does not show.
pub(crate) async fn officer_call<Req, Resp, Fut>(
    storage: &Storage,
    method: &'static str,
    request: Request<Req>,
    body: impl FnOnce(Officer, Req) -> Fut,
) -> Result<Response<Resp>, Status>
where
    Req: AuditRequest,
    Resp: AuditResponse,
    Fut: Future<Output = NodeResult<Resp>>,
{
    crate::service::refusals::handler_reached(&request);
    let timer = CallTimer::start(&request, method);
    // The identity is read apart from the deny-list check, so that the audit entry of a
    // denied certificate still names the officer.
    let identity = auth::identify(&request);
    let mut note = AuditNote::default();
    request.get_ref().note(&mut note);
    let mut entry = AuditEntry {
        officer: UNKNOWN_OFFICER.to_string(),
        action: note::action_of(method),
        method: method.to_string(),
        ..Default::default()
    };
    let who = match &identity {
        Ok(id) => {
            match id {
                Identity::Officer(o) => {
                    entry.officer = o.badge.clone();
                    entry.officer_name = o.name.clone();
                    entry.district = o.district.clone();
                    entry.role = o.role.to_string();
                }
                Identity::Node { district } => {
                    entry.district = district.clone();
                    entry.role = "node".to_string();
                }
            }
            id.to_string()
        }
        Err(_) => "unauthenticated".to_string(),
    };
    let district = storage.origin();
    let identity = identity.and_then(|id| {
        auth::check_vouched(&request, &id, district)
            .inspect_err(|e| {
                // A certificate whose CA may not vouch for the identity it names is
                // recorded as unknown, with the claim, never as the officer it names.
                if matches!(e, crate::error::NodeError::Unauthenticated(_)) {
                    disown(&mut entry, &id);
                }
            })
            .and_then(|()| auth::check_deny(&request, &id))
            .map(|()| id)
    });
    let mut draft = entry.clone();
    draft.ids = note.ids.clone();
    draft.query = note.query.clone();
    let call = Arc::new(CallAudit::new(draft));
    let result = match identity.and_then(|id| auth::own_officer(id, district)) {
        Ok(officer) => {
            CALL_AUDIT
                .scope(call.clone(), body(officer, request.into_inner()))
                .await
        }
        Err(e) => Err(e),
    };
    let carried = !call.committed().is_empty();
    let result = result.map_err(Status::from);
    if let Ok(resp) = &result {
        resp.note(&mut note);
    }
    let code = match &result {
        Ok(_) => tonic::Code::Ok,
        Err(status) => status.code(),
    };
    entry.outcome = note::code_name(code).to_string();
    entry.ids = note.ids;
    if entry.query.is_empty() {
        entry.query = note.query;
    }
    entry.results = note.results;
    entry.at_ms = crate::clock::now_ms();
    // A successful call whose writes carried its entry needs no other; a failure after a
    // write is recorded as an additional entry with the failure's outcome.
    let entry = (!carried || code != tonic::Code::Ok).then_some(entry);
    if let Err(e) = record_audit(storage, entry).await {
        tracing::error!(caller = %who, method, error = %e, "the audit entry could not be written; the call is refused");
        timer.record(tonic::Code::Internal);
        return Err(Status::internal(
            "the audit trail could not be written; the call was not completed",
        ));
    }
    // Logged to the hundredth of a millisecond: 1.05, not 1.0473620000000001.
    let latency_ms = (timer.record(code).as_secs_f64() * 100_000.0).round() / 100.0;
    match result {
        Ok(resp) => {
            tracing::info!(caller = %who, method, status = "OK", latency_ms, "rpc");
            Ok(Response::new(resp))
        }
        Err(status) => {
            tracing::info!(caller = %who, method, status = ?status.code(), latency_ms, "rpc");
            Err(status)
        }
    }
}

/// Clears the identity fields of `entry` for a certificate that is not believed, keeping
/// what it claimed in the query.
pub(crate) fn disown(entry: &mut AuditEntry, claimed: &Identity) {
    entry.officer = UNKNOWN_OFFICER.to_string();
    entry.officer_name.clear();
    entry.district.clear();
    entry.role.clear();
    entry.query = format!("certificate not vouched for: it claims {claimed}");
}

/// Appends `entry` (if any) and makes it durable with everything written before.
async fn record_audit(
    storage: &Storage,
    entry: Option<AuditEntry>,
) -> Result<(), crate::storage::StorageError> {
    if let Some(entry) = entry {
        storage.append_audit(entry)?;
    }
    storage.flush().await
}

/// Runs `f` (on a blocking thread) inside the officer call `call` was taken from with
/// [`CallAudit::current`], so that its writes carry the call's audit entry; without a call,
/// runs it as it is.
pub(crate) fn in_call<T>(call: Option<Arc<CallAudit>>, f: impl FnOnce() -> T) -> T {
    match call {
        Some(call) => CALL_AUDIT.sync_scope(call, f),
        None => f(),
    }
}

/// Page size to use for a List call: 0 means the default; above the limit is refused.
pub(crate) fn page_size(requested: u32) -> NodeResult<usize> {
    use crate::validate::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
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
