//! What each officer call reports to the audit trail beyond who called and how it ended:
//! the ids it touched, a summary of its query or filter, and how many items it returned.
//!
//! Requests report what the caller asked for (read before the handler runs, so refused
//! calls are recorded with it); responses report what was returned. Handlers therefore
//! need no audit code of their own.

use crate::storage::alerts::alert_root;
use setu_proto::v1::{
    AcknowledgeAlertRequest, Alert, AlertAck, AlertView, CancelAlertRequest, CreateMoNoteRequest,
    CreateRecordRequest, CreateRecordResponse, DeleteMoNoteRequest, DeleteMoNoteResponse,
    DeleteRecordRequest, DeleteRecordResponse, DownloadPhotoChunk, DownloadPhotoRequest,
    ExportRequest, GetAlertRequest, GetMoNoteRequest, GetRecordRequest, ImportRequest,
    ImportResponse, ListAlertsRequest, ListAlertsResponse, ListAuditRequest, ListAuditResponse,
    ListMoNotesRequest, ListMoNotesResponse, ListPeersRequest, ListPeersResponse,
    ListRecordsRequest, ListRecordsResponse, MoNote, PersonRecord, PostAlertRequest,
    ReviewRecordRequest, SearchRequest, SearchResponse, UpdateAlertRequest, UpdateMoNoteRequest,
    UpdateRecordRequest, UploadPhotoRequest, UploadPhotoResponse, WatchAlertsRequest,
};

/// The longest query summary kept in an entry, in characters.
const MAX_QUERY_CHARS: usize = 1024;

/// The per-call details of one audit entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditNote {
    /// The ids of the items the call touched or returned, without repeats.
    pub ids: Vec<String>,
    /// A summary of the query or filter.
    pub query: String,
    /// How many items the call returned.
    pub results: u32,
}

impl AuditNote {
    /// Adds `id` unless it is empty or already noted.
    pub fn id(&mut self, id: &str) {
        if !id.is_empty() && !self.ids.iter().any(|i| i == id) {
            self.ids.push(id.to_string());
        }
    }

    /// Adds `key=value` to the query summary when `value` is not empty.
    pub fn filter(&mut self, key: &str, value: impl AsRef<str>) {
        let value = value.as_ref();
        if value.is_empty() {
            return;
        }
        if !self.query.is_empty() {
            self.query.push(' ');
        }
        self.query.push_str(key);
        self.query.push('=');
        self.query.push_str(value);
        if self.query.chars().count() > MAX_QUERY_CHARS {
            self.query = self.query.chars().take(MAX_QUERY_CHARS).collect();
        }
    }
}

/// A request that reports what was asked for.
pub trait AuditRequest {
    /// Notes the ids and filters the caller gave.
    fn note(&self, _note: &mut AuditNote) {}
}

/// A response that reports what was returned.
pub trait AuditResponse {
    /// Notes the ids returned and how many items.
    fn note(&self, _note: &mut AuditNote) {}
}

fn joined<T: ToString>(values: &[T]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl AuditRequest for CreateRecordRequest {}

impl AuditRequest for GetRecordRequest {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.id);
    }
}

impl AuditRequest for UpdateRecordRequest {
    fn note(&self, note: &mut AuditNote) {
        if let Some(record) = &self.record {
            note.id(&record.id);
        }
    }
}

impl AuditRequest for DeleteRecordRequest {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.id);
        note.filter("reason", &self.reason);
    }
}

impl AuditRequest for ListRecordsRequest {
    fn note(&self, note: &mut AuditNote) {
        note.filter("statuses", joined(&self.statuses));
        note.filter("origins", joined(&self.origins));
        if self.due_review {
            note.filter("due_review", "true");
        }
        note.filter("page_token", &self.page_token);
    }
}

impl AuditRequest for CreateMoNoteRequest {
    fn note(&self, note: &mut AuditNote) {
        if let Some(mo) = &self.note {
            for id in &mo.record_ids {
                note.id(id);
            }
        }
    }
}

impl AuditRequest for GetMoNoteRequest {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.id);
    }
}

impl AuditRequest for UpdateMoNoteRequest {
    fn note(&self, note: &mut AuditNote) {
        if let Some(mo) = &self.note {
            note.id(&mo.id);
        }
    }
}

impl AuditRequest for DeleteMoNoteRequest {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.id);
        note.filter("reason", &self.reason);
    }
}

impl AuditRequest for ListMoNotesRequest {
    fn note(&self, note: &mut AuditNote) {
        note.filter("record_id", &self.record_id);
        note.filter("categories", joined(&self.categories));
        note.filter("page_token", &self.page_token);
    }
}

impl AuditRequest for tonic::Streaming<UploadPhotoRequest> {}

impl AuditRequest for DownloadPhotoRequest {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.sha256);
    }
}

impl AuditRequest for ListPeersRequest {}

impl AuditRequest for SearchRequest {
    fn note(&self, note: &mut AuditNote) {
        note.filter("text", &self.text);
        note.filter("father", &self.father_name);
        note.filter("origins", joined(&self.origins));
        note.filter("statuses", joined(&self.statuses));
        note.filter("warnings", joined(&self.warnings));
        note.filter("mo_categories", joined(&self.mo_categories));
        if self.gender != 0 {
            note.filter("gender", self.gender.to_string());
        }
        if self.birth_year != 0 {
            note.filter("born", self.birth_year.to_string());
        }
        if let Some(tolerance) = self.birth_year_tolerance {
            note.filter("tolerance", tolerance.to_string());
        }
        note.filter("phone", &self.phone);
        note.filter("vehicle", &self.vehicle);
        note.filter("fir", &self.fir_number);
        note.filter("ps", &self.police_station);
        if self.fir_year != 0 {
            note.filter("fir_year", self.fir_year.to_string());
        }
        note.filter("mo_text", &self.mo_text);
        note.filter("page_token", &self.page_token);
    }
}

impl AuditRequest for ListAuditRequest {
    fn note(&self, note: &mut AuditNote) {
        if self.since_ms != 0 {
            note.filter("since_ms", self.since_ms.to_string());
        }
        if self.until_ms != 0 {
            note.filter("until_ms", self.until_ms.to_string());
        }
        note.filter("officer", &self.officer);
        note.filter("record_id", &self.record_id);
        note.filter("page_token", &self.page_token);
    }
}

impl AuditResponse for PersonRecord {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.id);
        note.results = 1;
    }
}

impl AuditResponse for CreateRecordResponse {
    fn note(&self, note: &mut AuditNote) {
        if let Some(record) = &self.record {
            note.id(&record.id);
        }
        // The likely matches are records shown to the officer, like search hits.
        for m in &self.likely_matches {
            note.id(&m.id);
        }
        note.results = 1 + u32::try_from(self.likely_matches.len()).unwrap_or(u32::MAX);
    }
}

impl AuditResponse for DeleteRecordResponse {
    fn note(&self, note: &mut AuditNote) {
        if let Some(t) = &self.tombstone {
            note.id(&t.id);
        }
        note.results = 1;
    }
}

impl AuditResponse for ListRecordsResponse {
    fn note(&self, note: &mut AuditNote) {
        for r in &self.records {
            note.id(&r.id);
        }
        note.results = u32::try_from(self.records.len()).unwrap_or(u32::MAX);
    }
}

impl AuditResponse for MoNote {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.id);
        for id in &self.record_ids {
            note.id(id);
        }
        note.results = 1;
    }
}

impl AuditResponse for DeleteMoNoteResponse {
    fn note(&self, note: &mut AuditNote) {
        if let Some(t) = &self.tombstone {
            note.id(&t.id);
        }
        note.results = 1;
    }
}

impl AuditResponse for ListMoNotesResponse {
    fn note(&self, note: &mut AuditNote) {
        for n in &self.notes {
            note.id(&n.id);
        }
        note.results = u32::try_from(self.notes.len()).unwrap_or(u32::MAX);
    }
}

impl AuditResponse for UploadPhotoResponse {
    fn note(&self, note: &mut AuditNote) {
        if let Some(record) = &self.record {
            note.id(&record.id);
        }
        if let Some(photo) = &self.photo {
            note.id(&photo.sha256);
        }
        note.results = 1;
    }
}

impl AuditResponse for Vec<DownloadPhotoChunk> {
    fn note(&self, note: &mut AuditNote) {
        if let Some(photo) = self.first().and_then(|c| c.photo.as_ref()) {
            note.id(&photo.sha256);
        }
        note.results = u32::from(!self.is_empty());
    }
}

impl AuditResponse for SearchResponse {
    fn note(&self, note: &mut AuditNote) {
        for hit in &self.hits {
            if let Some(record) = &hit.record {
                note.id(&record.id);
            }
        }
        for hit in &self.mo_notes {
            if let Some(mo) = &hit.note {
                note.id(&mo.id);
            }
        }
        note.results = u32::try_from(self.hits.len()).unwrap_or(u32::MAX);
    }
}

impl AuditResponse for ListPeersResponse {
    fn note(&self, note: &mut AuditNote) {
        note.results = u32::try_from(self.peers.len()).unwrap_or(u32::MAX);
    }
}

impl AuditResponse for ListAuditResponse {
    fn note(&self, note: &mut AuditNote) {
        note.results = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
    }
}

/// The audit action of a gRPC method, e.g. `RecordService/Get` → `record.get`.
pub fn action_of(method: &str) -> String {
    let (service, call) = method.split_once('/').unwrap_or(("", method));
    let area = match service {
        "RecordService" => "record",
        "MoService" => "mo",
        "PhotoService" => "photo",
        "PeerService" => "peers",
        "AuditService" => "audit",
        "AlertService" => "alert",
        "ImportService" => "import",
        "SearchService" => "search",
        "MaintenanceService" => "maintenance",
        "FederationService" => "federation",
        // Any other service in the same style: "FooService" becomes "foo".
        other => {
            return format!(
                "{}.{}",
                other.trim_end_matches("Service").to_lowercase(),
                call.to_lowercase()
            )
        }
    };
    format!("{area}.{}", call.to_lowercase())
}

impl AuditRequest for tonic::Streaming<ImportRequest> {}

impl AuditRequest for ExportRequest {}

/// Rows of an import report whose likely matches' ids are audited (the count of all is).
const AUDITED_MATCH_ROWS: usize = 100;

impl AuditResponse for ImportResponse {
    fn note(&self, note: &mut AuditNote) {
        for id in &self.ids {
            note.id(id);
        }
        for row in self.likely_matches.iter().take(AUDITED_MATCH_ROWS) {
            for m in &row.likely_matches {
                note.id(&m.id);
            }
        }
        if !self.likely_matches.is_empty() {
            note.filter("likely_match_rows", self.likely_matches.len().to_string());
        }
        if self.dry_run {
            note.filter("dry_run", "true");
        }
        note.filter(
            "report",
            format!(
                "created={} updated={} unchanged={} rejected={}",
                self.created,
                self.updated,
                self.unchanged,
                self.rejected.len()
            ),
        );
        note.results = u32::try_from(self.created + self.updated).unwrap_or(u32::MAX);
    }
}

impl AuditRequest for ReviewRecordRequest {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.id);
    }
}

impl AuditRequest for PostAlertRequest {
    fn note(&self, note: &mut AuditNote) {
        note.filter("title", &self.title);
        note.filter("targets", joined(&self.targets));
        for id in &self.record_ids {
            note.id(id);
        }
    }
}

impl AuditRequest for UpdateAlertRequest {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.alert_id);
        note.filter("reason", &self.reason);
    }
}

impl AuditRequest for CancelAlertRequest {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.alert_id);
        note.filter("reason", &self.reason);
    }
}

impl AuditRequest for AcknowledgeAlertRequest {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.alert_id);
        note.filter("note", &self.note);
    }
}

impl AuditRequest for GetAlertRequest {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.alert_id);
    }
}

impl AuditRequest for ListAlertsRequest {
    fn note(&self, note: &mut AuditNote) {
        if self.open_only {
            note.filter("open", "true");
        }
        if self.overdue_only {
            note.filter("overdue", "true");
        }
        note.filter("page_token", &self.page_token);
    }
}

impl AuditRequest for WatchAlertsRequest {
    fn note(&self, note: &mut AuditNote) {
        note.filter("after", &self.after_id);
        if self.after_position != 0 {
            note.filter("after_position", self.after_position.to_string());
        }
        if self.live_only {
            note.filter("live", "true");
        }
    }
}

impl AuditResponse for Alert {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.id);
        note.results = 1;
    }
}

impl AuditResponse for AlertAck {
    fn note(&self, note: &mut AuditNote) {
        note.id(&self.id);
        note.results = 1;
    }
}

impl AuditResponse for AlertView {
    fn note(&self, note: &mut AuditNote) {
        if let Some(alert) = &self.alert {
            note.id(alert_root(alert));
        }
        note.results = 1;
    }
}

impl AuditResponse for ListAlertsResponse {
    fn note(&self, note: &mut AuditNote) {
        for view in &self.alerts {
            if let Some(alert) = &view.alert {
                note.id(alert_root(alert));
            }
        }
        note.results = u32::try_from(self.alerts.len()).unwrap_or(u32::MAX);
    }
}

pub use crate::error::code_name;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_codes() {
        assert_eq!(action_of("RecordService/Get"), "record.get");
        assert_eq!(action_of("PeerService/List"), "peers.list");
        assert_eq!(action_of("AuditService/List"), "audit.list");
        assert_eq!(action_of("SearchService/Search"), "search.search");
        assert_eq!(action_of("NewService/Thing"), "new.thing");
        assert_eq!(
            code_name(tonic::Code::PermissionDenied),
            "PERMISSION_DENIED"
        );
    }

    #[test]
    fn notes_skip_repeats_and_bound_the_query() {
        let mut note = AuditNote::default();
        note.id("a");
        note.id("a");
        note.id("");
        assert_eq!(note.ids, vec!["a"]);
        note.filter("q", "x".repeat(5000));
        assert_eq!(note.query.chars().count(), MAX_QUERY_CHARS);
    }
}
