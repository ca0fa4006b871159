//! `setu.v1.ImportService`: a district's active-criminal list comes from its spreadsheet.
//! `Import` takes rows of records streamed in batches, validates each, and stores the good
//! ones (new records in one transaction per batch; a row whose external reference is
//! already used updates that record, or leaves it alone when nothing changed), reporting
//! every bad row by row number, field and reason. `Export` streams the district's own
//! records back out.
//!
//! A bad row never stops the import and never half-writes: it is refused before anything
//! of it is stored. The report is the acknowledgement; `officer_call` flushes before it.

use super::records::{likely_matches, review_by};
use super::{officer_call, SharedState};
use crate::error::{NodeError, NodeResult};
use crate::storage::{Expect, Storage, StorageError};
use crate::trust::auth::{officer_label, require_owner};
use crate::trust::identity::Officer;
use crate::validate;
use setu_proto::v1::import_request::Part;
use setu_proto::v1::import_service_server::ImportService;
use setu_proto::v1::{
    ExportBatch, ExportRequest, ImportRequest, ImportResponse, ImportRow, LikelyMatch,
    PersonRecord, RowError, RowMatches,
};
use std::collections::HashMap;
use std::pin::Pin;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

/// Most rows in one batch message.
pub const MAX_IMPORT_BATCH: usize = 5_000;
/// Most ids listed in an import report.
const MAX_REPORTED_IDS: usize = 1_000;
/// New rows of one import compared with the existing records for likely matches; the
/// rest are counted as unchecked (a comparison costs about a search).
const MAX_MATCHED_ROWS: u64 = 10_000;
/// Rows with likely matches listed in the report.
const MAX_REPORTED_MATCH_ROWS: usize = 1_000;
/// Most rejected rows listed in an import report; the rest are counted.
const MAX_REPORTED_REJECTIONS: usize = 10_000;
/// Records per export message by default, and at most.
const DEFAULT_EXPORT_BATCH: usize = 500;
const MAX_EXPORT_BATCH: usize = 5_000;

/// The import service of one node.
pub struct ImportServiceImpl {
    state: SharedState,
}

/// Where an import stands between batches.
struct ImportRun {
    storage: Storage,
    district: String,
    default_handling: setu_proto::v1::Handling,
    author: String,
    dry_run: bool,
    /// External references seen in this import, with the row that used them first.
    refs_seen: HashMap<String, u64>,
    /// New rows compared with the existing records so far.
    matched_rows: u64,
    report: ImportResponse,
}

/// A refusal of one row.
fn reject(report: &mut ImportResponse, row: u64, err: NodeError) -> NodeResult<()> {
    let (field, reason) = match err {
        NodeError::InvalidArgument { field, reason } => (field, reason),
        NodeError::Storage(
            e @ (StorageError::ExternalRefTaken { .. }
            | StorageError::AlreadyExists { .. }
            | StorageError::VersionConflict { .. }),
        ) => ("external_ref".to_string(), e.to_string()),
        // A server fault stops the import: it is not the row's doing.
        other => return Err(other),
    };
    if report.rejected.len() < MAX_REPORTED_REJECTIONS {
        report.rejected.push(RowError { row, field, reason });
    } else {
        report.rejected_unlisted += 1;
    }
    Ok(())
}

/// The review date of an imported row: a date already past is kept (the district's list
/// says the record is due, and it then lists under `record list --due-review`); otherwise
/// the rule of an officer's create or update applies.
fn import_review_by(requested: i64, previous: i64, now: i64) -> NodeResult<i64> {
    if requested > 0 && requested <= now {
        return Ok(requested);
    }
    review_by(requested, previous, now)
}

/// `new`'s content equals `stored`'s, ignoring what the node manages.
fn same_content(new: &PersonRecord, stored: &PersonRecord) -> bool {
    let mut a = new.clone();
    a.id = stored.id.clone();
    a.origin = stored.origin.clone();
    a.version = stored.version;
    a.photos = stored.photos.clone();
    if a.review_by_ms == 0 {
        a.review_by_ms = stored.review_by_ms;
    }
    a.created_at_ms = stored.created_at_ms;
    a.created_by = stored.created_by.clone();
    a.updated_at_ms = stored.updated_at_ms;
    a.updated_by = stored.updated_by.clone();
    a == *stored
}

impl ImportRun {
    fn note_id(&mut self, id: &str) {
        if self.report.ids.len() < MAX_REPORTED_IDS {
            self.report.ids.push(id.to_string());
        }
    }

    /// Validates and stores one batch of rows. Runs on a blocking thread.
    fn batch(&mut self, rows: Vec<ImportRow>) -> NodeResult<()> {
        let now = crate::clock::now_ms();
        let mut fresh: Vec<(u64, PersonRecord)> = Vec::new();
        for row in rows {
            let number = row.row;
            let Some(mut record) = row.record else {
                reject(
                    &mut self.report,
                    number,
                    NodeError::invalid("record", "is missing"),
                )?;
                continue;
            };
            if let Err(e) = validate::record(&mut record, self.default_handling) {
                reject(&mut self.report, number, e)?;
                continue;
            }
            if !record.external_ref.is_empty() {
                if let Some(first) = self.refs_seen.get(&record.external_ref) {
                    let err = NodeError::invalid(
                        "external_ref",
                        format!(
                            "{} is also on row {first} of this import",
                            validate::excerpt(&record.external_ref)
                        ),
                    );
                    reject(&mut self.report, number, err)?;
                    continue;
                }
                self.refs_seen.insert(record.external_ref.clone(), number);
                let existing = self
                    .storage
                    .record_id_by_external_ref(&self.district, &record.external_ref)?;
                if let Some(id) = existing {
                    if let Err(e) = self.update(number, id, record, now) {
                        reject(&mut self.report, number, e)?;
                    }
                    continue;
                }
            }
            let requested_review = record.review_by_ms;
            match import_review_by(requested_review, 0, now) {
                Ok(at) => record.review_by_ms = at,
                Err(e) => {
                    reject(&mut self.report, number, e)?;
                    continue;
                }
            }
            record.id = uuid::Uuid::now_v7().to_string();
            record.origin = self.district.clone();
            record.version = 1;
            record.photos.clear();
            record.created_at_ms = now;
            record.updated_at_ms = now;
            record.created_by = self.author.clone();
            record.updated_by = self.author.clone();
            fresh.push((number, record));
        }
        self.create(fresh)
    }

    /// Updates the record holding the row's external reference, unless nothing changed.
    fn update(
        &mut self,
        row: u64,
        id: String,
        mut record: PersonRecord,
        now: i64,
    ) -> NodeResult<()> {
        let stored = self.storage.record(&id)?;
        if same_content(&record, &stored) {
            self.report.unchanged += 1;
            return Ok(());
        }
        record.review_by_ms = import_review_by(record.review_by_ms, stored.review_by_ms, now)?;
        record.id = stored.id.clone();
        record.origin = stored.origin.clone();
        record.version = stored.version + 1;
        record.photos = stored.photos.clone();
        record.created_at_ms = stored.created_at_ms;
        record.created_by = stored.created_by.clone();
        record.updated_at_ms = now;
        record.updated_by = self.author.clone();
        if !self.dry_run {
            self.storage
                .put_record(&record, Expect::Version(stored.version), &[])?;
        }
        tracing::debug!(row, id = %record.id, "import updated a record");
        self.report.updated += 1;
        self.note_id(&record.id);
        Ok(())
    }

    /// The likely matches of each new row among the records stored before this batch
    /// (the first [`MAX_MATCHED_ROWS`] new rows of the import; the rest are counted).
    fn likely_matches(&mut self, fresh: &[(u64, PersonRecord)]) -> Vec<Vec<LikelyMatch>> {
        fresh
            .iter()
            .map(|(_, record)| {
                if self.matched_rows >= MAX_MATCHED_ROWS {
                    self.report.likely_matches_unchecked += 1;
                    return Vec::new();
                }
                self.matched_rows += 1;
                likely_matches(&self.storage, record)
            })
            .collect()
    }

    /// Reports a new row's likely matches, if it has any.
    fn note_matches(&mut self, row: u64, id: &str, matches: Vec<LikelyMatch>) {
        if !matches.is_empty() && self.report.likely_matches.len() < MAX_REPORTED_MATCH_ROWS {
            self.report.likely_matches.push(RowMatches {
                row,
                id: id.to_string(),
                likely_matches: matches,
            });
        }
    }

    /// Stores new records: the batch in one transaction, or, if that is refused, each on
    /// its own so that only the refused rows are reported. Each new row's likely matches
    /// (existing records that are probably the same person) are reported with it.
    fn create(&mut self, fresh: Vec<(u64, PersonRecord)>) -> NodeResult<()> {
        if fresh.is_empty() {
            return Ok(());
        }
        let matches = self.likely_matches(&fresh);
        if self.dry_run {
            self.report.created += fresh.len() as u64;
            for ((row, _), matches) in fresh.iter().zip(matches) {
                self.note_matches(*row, "", matches);
            }
            return Ok(());
        }
        let records: Vec<PersonRecord> = fresh.iter().map(|(_, r)| r.clone()).collect();
        match self.storage.put_new_records(&records) {
            Ok(_) => {
                self.report.created += records.len() as u64;
                for ((row, record), matches) in fresh.iter().zip(matches) {
                    self.note_id(&record.id);
                    self.note_matches(*row, &record.id, matches);
                }
                Ok(())
            }
            Err(StorageError::Backend(e)) => Err(StorageError::Backend(e).into()),
            Err(_) => {
                for ((row, record), matches) in fresh.into_iter().zip(matches) {
                    match self.storage.put_record(&record, Expect::Absent, &[]) {
                        Ok(_) => {
                            self.report.created += 1;
                            self.note_id(&record.id);
                            self.note_matches(row, &record.id, matches);
                        }
                        Err(e) => reject(&mut self.report, row, e.into())?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// The stream type of `Export`.
pub type ExportStream = Pin<Box<dyn Stream<Item = Result<ExportBatch, Status>> + Send>>;

/// The size an export was asked for, checked before it starts (and audited).
#[derive(Debug, Clone, Copy)]
pub struct ExportStart {
    batch: usize,
}

impl super::note::AuditResponse for ExportStart {}

impl ImportServiceImpl {
    /// A service over the node's state.
    pub fn new(state: SharedState) -> Self {
        ImportServiceImpl { state }
    }

    async fn import(
        &self,
        officer: Officer,
        mut stream: Streaming<ImportRequest>,
    ) -> NodeResult<ImportResponse> {
        let state = &self.state;
        require_owner(
            &officer,
            &state.district,
            &state.district,
            "an import of records into this node",
        )?;
        let first = stream.message().await.map_err(|s| {
            NodeError::invalid(
                "header",
                format!("the import stream failed: {}", s.message()),
            )
        })?;
        let header = match first.and_then(|m| m.part) {
            Some(Part::Header(h)) => h,
            _ => {
                return Err(NodeError::invalid(
                    "header",
                    "the first message must be the import header",
                ))
            }
        };
        let mut run = ImportRun {
            storage: state.storage.clone(),
            district: state.district.clone(),
            default_handling: state.default_handling,
            author: officer_label(&officer),
            dry_run: header.dry_run,
            refs_seen: HashMap::new(),
            matched_rows: 0,
            report: ImportResponse {
                dry_run: header.dry_run,
                ..Default::default()
            },
        };
        tracing::info!(by = %run.author, source = %header.source, dry_run = header.dry_run, "import started");
        while let Some(message) = stream.message().await.map_err(|s| {
            NodeError::invalid(
                "batch",
                format!(
                    "the import stream broke after {} created, {} updated: {}",
                    run.report.created,
                    run.report.updated,
                    s.message()
                ),
            )
        })? {
            let rows = match message.part {
                Some(Part::Batch(batch)) => batch.rows,
                _ => {
                    return Err(NodeError::invalid(
                        "header",
                        "only the first message may be a header",
                    ))
                }
            };
            if rows.len() > MAX_IMPORT_BATCH {
                return Err(NodeError::invalid(
                    "batch.rows",
                    format!(
                        "has {} rows; the limit is {MAX_IMPORT_BATCH} per message",
                        rows.len()
                    ),
                ));
            }
            // The batch's transactions carry the call's audit entry, one per transaction.
            let call = crate::storage::audit::CallAudit::current();
            run = tokio::task::spawn_blocking(move || {
                super::in_call(call, || run.batch(rows).map(|()| run))
            })
            .await
            .map_err(|e| NodeError::Internal(format!("the import task failed: {e}")))??;
        }
        run.report.rejected.sort_by_key(|e| e.row);
        tracing::info!(
            by = %run.author,
            created = run.report.created,
            updated = run.report.updated,
            unchanged = run.report.unchanged,
            rejected = run.report.rejected.len(),
            dry_run = run.dry_run,
            "import finished"
        );
        Ok(run.report)
    }

    async fn export_start(&self, officer: Officer, req: ExportRequest) -> NodeResult<ExportStart> {
        require_owner(
            &officer,
            &self.state.district,
            &self.state.district,
            "an export of this node's records",
        )?;
        let batch = match req.batch_size as usize {
            0 => DEFAULT_EXPORT_BATCH,
            n if n > MAX_EXPORT_BATCH => {
                return Err(NodeError::invalid(
                    "batch_size",
                    format!("{n} is above the limit of {MAX_EXPORT_BATCH}"),
                ))
            }
            n => n,
        };
        Ok(ExportStart { batch })
    }
}

/// Streams the district's own records in id order.
async fn run_export(
    storage: Storage,
    district: String,
    batch: usize,
    tx: mpsc::Sender<Result<ExportBatch, Status>>,
) {
    let mut after: Option<String> = None;
    loop {
        let page = {
            let storage = storage.clone();
            let district = district.clone();
            let after = after.clone();
            tokio::task::spawn_blocking(move || {
                storage.list_records(after.as_deref(), batch, |r| r.origin == district)
            })
            .await
        };
        let page = match page {
            Ok(Ok(page)) => page,
            Ok(Err(e)) => {
                let _ = tx.send(Err(NodeError::from(e).into())).await;
                return;
            }
            Err(e) => {
                let _ = tx
                    .send(Err(NodeError::Internal(format!(
                        "the export task failed: {e}"
                    ))
                    .into()))
                    .await;
                return;
            }
        };
        if !page.items.is_empty()
            && tx
                .send(Ok(ExportBatch {
                    records: page.items,
                }))
                .await
                .is_err()
        {
            return;
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => return,
        }
    }
}

#[tonic::async_trait]
impl ImportService for ImportServiceImpl {
    async fn import(
        &self,
        request: Request<Streaming<ImportRequest>>,
    ) -> Result<Response<ImportResponse>, Status> {
        officer_call(
            &self.state.storage,
            "ImportService/Import",
            request,
            |o, s| self.import(o, s),
        )
        .await
    }

    type ExportStream = ExportStream;

    async fn export(
        &self,
        request: Request<ExportRequest>,
    ) -> Result<Response<Self::ExportStream>, Status> {
        let start = officer_call(
            &self.state.storage,
            "ImportService/Export",
            request,
            |o, r| self.export_start(o, r),
        )
        .await?
        .into_inner();
        let (tx, rx) = mpsc::channel(4);
        crate::spawn(run_export(
            self.state.storage.clone(),
            self.state.district.clone(),
            start.batch,
            tx,
        ));
        let stream: ExportStream = Box::pin(ReceiverStream::new(rx));
        Ok(Response::new(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_equality_ignores_what_the_node_manages() {
        let stored = PersonRecord {
            id: "a".into(),
            origin: "jh-dhanbad".into(),
            version: 3,
            name: "Test Kumar".into(),
            review_by_ms: 5,
            created_by: "JH-1 (jh-dhanbad)".into(),
            ..Default::default()
        };
        let incoming = PersonRecord {
            name: "Test Kumar".into(),
            ..Default::default()
        };
        assert!(same_content(&incoming, &stored));
        let changed = PersonRecord {
            name: "Test Kumar Mahato".into(),
            ..Default::default()
        };
        assert!(!same_content(&changed, &stored));
    }
}
