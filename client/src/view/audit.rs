//! The JSON view of `setu audit`: entries of the node's audit trail.

use serde::{Deserialize, Serialize};
use setu_proto::v1 as pb;

/// One audit entry. `at_ms` is Unix milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditEntryView {
    /// Position in the node's hash chain.
    pub seq: u64,
    /// When the call ended.
    pub at_ms: i64,
    /// The caller's badge, or "unknown".
    pub officer: String,
    /// The caller's name from the certificate.
    pub officer_name: String,
    /// The district that issued the caller's certificate.
    pub district: String,
    /// The caller's role.
    pub role: String,
    /// What was done, e.g. "record.get".
    pub action: String,
    /// The gRPC method.
    pub method: String,
    /// The ids the call touched or returned.
    pub ids: Vec<String>,
    /// A summary of the query or filter.
    pub query: String,
    /// How many items the call returned.
    pub results: u32,
    /// The gRPC status code name, "OK" on success.
    pub outcome: String,
    /// The previous entry's hash (hex).
    pub prev_hash: String,
    /// This entry's hash (hex).
    pub hash: String,
}

impl From<pb::AuditEntry> for AuditEntryView {
    fn from(e: pb::AuditEntry) -> Self {
        Self {
            seq: e.seq,
            at_ms: e.at_ms,
            officer: e.officer,
            officer_name: e.officer_name,
            district: e.district,
            role: e.role,
            action: e.action,
            method: e.method,
            ids: e.ids,
            query: e.query,
            results: e.results,
            outcome: e.outcome,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// What `setu audit` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditListView {
    /// The matching entries, oldest first.
    pub entries: Vec<AuditEntryView>,
    /// The token to continue after the last entry shown; empty when there are no more.
    pub next_page_token: String,
}
