//! `setu.v1.AuditService`: the node's audit trail, for admins only. Reading the trail is
//! itself audited (action `audit.list`).

use super::{officer_call, SharedState};
use crate::error::{NodeError, NodeResult};
use crate::trust::auth::require_admin;
use crate::trust::identity::Officer;
use crate::validate;
use crate::validate::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use setu_proto::v1::audit_service_server::AuditService;
use setu_proto::v1::{ListAuditRequest, ListAuditResponse};
use tonic::{Request, Response, Status};

/// The most entries one List call looks at, so that a narrow filter over a long trail
/// returns a partial page with a token instead of scanning everything at once.
const MAX_SCAN: usize = 100_000;

/// The longest badge accepted as a filter, in characters.
const MAX_BADGE_CHARS: usize = 64;

/// The audit service of one node.
pub struct AuditServiceImpl {
    state: SharedState,
}

impl AuditServiceImpl {
    /// A service over the node's state.
    pub fn new(state: SharedState) -> Self {
        AuditServiceImpl { state }
    }

    fn list(&self, officer: &Officer, req: ListAuditRequest) -> NodeResult<ListAuditResponse> {
        require_admin(officer, "reading the audit trail")?;
        let limit = match req.page_size {
            0 => DEFAULT_PAGE_SIZE as usize,
            n if n > MAX_PAGE_SIZE => {
                return Err(NodeError::invalid(
                    "page_size",
                    format!("{n} is above the limit of {MAX_PAGE_SIZE}"),
                ))
            }
            n => n as usize,
        };
        let after = if req.page_token.is_empty() {
            0
        } else {
            req.page_token.parse::<u64>().map_err(|_| {
                NodeError::invalid("page_token", "is not a token this service returned")
            })?
        };
        if req.since_ms < 0 {
            return Err(NodeError::invalid("since_ms", "must not be negative"));
        }
        if req.until_ms < 0 {
            return Err(NodeError::invalid("until_ms", "must not be negative"));
        }
        if req.until_ms != 0 && req.until_ms <= req.since_ms {
            return Err(NodeError::invalid("until_ms", "must be after since_ms"));
        }
        if req.officer.chars().count() > MAX_BADGE_CHARS {
            return Err(NodeError::invalid(
                "officer",
                format!("is longer than the limit of {MAX_BADGE_CHARS} characters"),
            ));
        }
        if !req.record_id.is_empty() {
            validate::id("record_id", &req.record_id)?;
        }
        let mut entries = Vec::new();
        let mut more = false;
        let mut visit = |entry: setu_proto::v1::AuditEntry| {
            if entries.len() == limit {
                more = true;
                return false;
            }
            let keep = (req.since_ms == 0 || entry.at_ms >= req.since_ms)
                && (req.until_ms == 0 || entry.at_ms < req.until_ms)
                && (req.officer.is_empty() || entry.officer.eq_ignore_ascii_case(&req.officer))
                && (req.record_id.is_empty() || entry.ids.contains(&req.record_id));
            if keep {
                entries.push(entry);
            }
            true
        };
        let storage = &self.state.storage;
        // Newest first, the token is the seq to continue below; oldest first, the seq to
        // continue above.
        let last = if req.newest_first {
            storage.scan_audit_back(after, MAX_SCAN, &mut visit)?
        } else {
            storage.scan_audit(after, MAX_SCAN, &mut visit)?
        };
        // A page that stopped at the scan bound continues after the last entry looked at;
        // one that filled up continues after its last entry.
        let next = if more {
            entries.last().map(|e| e.seq)
        } else if req.newest_first {
            let looked = last != after && last > 0;
            (looked && storage.scan_audit_back(last, 1, |_| false)? != last).then_some(last)
        } else if last > after && storage.scan_audit(last, 1, |_| false)? > last {
            Some(last)
        } else {
            None
        };
        Ok(ListAuditResponse {
            entries,
            next_page_token: next.map(|s| s.to_string()).unwrap_or_default(),
        })
    }
}

#[tonic::async_trait]
impl AuditService for AuditServiceImpl {
    async fn list(
        &self,
        request: Request<ListAuditRequest>,
    ) -> Result<Response<ListAuditResponse>, Status> {
        officer_call(
            &self.state.storage,
            "AuditService/List",
            request,
            |o, r| async move { self.list(&o, r) },
        )
        .await
    }
}
