//! `setu.v1.RecordService`: create, read, update, expunge and list person records.

use super::{officer_call, page_after, page_size, SharedState};
use crate::clock::{now_ms, YEAR_MS};
use crate::error::{NodeError, NodeResult};
use crate::storage::{Expect, Kind};
use crate::trust::auth::{officer_label, require_admin, require_owner};
use crate::trust::identity::{validate_district_id, Officer};
use crate::validate;
use setu_proto::v1::record_service_server::RecordService;
use setu_proto::v1::{
    CreateRecordRequest, CreateRecordResponse, DeleteRecordRequest, DeleteRecordResponse,
    GetRecordRequest, LikelyMatch, ListRecordsRequest, ListRecordsResponse, PersonRecord,
    PersonStatus, ReviewRecordRequest, UpdateRecordRequest,
};
use std::collections::HashSet;
use tonic::{Request, Response, Status};

/// The record service of one node.
pub struct RecordServiceImpl {
    state: SharedState,
}

impl RecordServiceImpl {
    /// A service over the node's state.
    pub fn new(state: SharedState) -> Self {
        RecordServiceImpl { state }
    }
}

/// Review dates: a date the officer set explicitly is kept; otherwise (none, or the one
/// stored before) the record is due a year after this change.
pub(crate) fn review_by(requested: i64, previous: i64, now: i64) -> NodeResult<i64> {
    if requested == 0 || requested == previous {
        return Ok(now + YEAR_MS);
    }
    if requested <= now {
        return Err(NodeError::invalid("review_by_ms", "must be in the future"));
    }
    if requested > now + 5 * YEAR_MS {
        return Err(NodeError::invalid(
            "review_by_ms",
            "may be at most five years ahead",
        ));
    }
    Ok(requested)
}

/// The existing records (own and replicated) that are probably the same person as
/// `record`, which is not stored yet, in their wire form.
pub(crate) fn likely_matches(
    storage: &crate::storage::Storage,
    record: &PersonRecord,
) -> Vec<LikelyMatch> {
    let doc = crate::search::RecordDoc::of(record);
    storage
        .search_index()
        .likely_matches(&doc, Some(&record.id))
        .into_iter()
        .map(|m| LikelyMatch {
            id: m.id,
            origin: m.origin,
            name: m.name,
            father_name: m.father_name,
            score: m.score,
            reasons: m.reasons,
        })
        .collect()
}

impl RecordServiceImpl {
    async fn create_and_match(
        &self,
        officer: Officer,
        req: CreateRecordRequest,
    ) -> NodeResult<CreateRecordResponse> {
        let (record, likely_matches) = self.create_checked(officer, req, true).await?;
        Ok(CreateRecordResponse {
            record: Some(record),
            likely_matches,
        })
    }

    async fn create(&self, officer: Officer, req: CreateRecordRequest) -> NodeResult<PersonRecord> {
        Ok(self.create_checked(officer, req, false).await?.0)
    }

    /// Creates a record; with `matching`, also finds the existing records that are
    /// probably the same person (before storing it, so it cannot match itself).
    async fn create_checked(
        &self,
        officer: Officer,
        req: CreateRecordRequest,
        matching: bool,
    ) -> NodeResult<(PersonRecord, Vec<LikelyMatch>)> {
        let state = &self.state;
        let mut record = req
            .record
            .ok_or_else(|| NodeError::invalid("record", "is required"))?;
        require_owner(
            &officer,
            &state.district,
            &state.district,
            "a new record of this node",
        )?;
        validate::record(&mut record, state.default_handling)?;
        let now = now_ms();
        record.id = uuid::Uuid::now_v7().to_string();
        record.origin = state.district.clone();
        record.version = 1;
        record.photos.clear();
        record.review_by_ms = review_by(record.review_by_ms, 0, now)?;
        record.created_at_ms = now;
        record.updated_at_ms = now;
        record.created_by = officer_label(&officer);
        record.updated_by = record.created_by.clone();
        let matches = if matching {
            // Like a search, this is CPU work of milliseconds: off the async workers.
            let storage = state.storage.clone();
            let candidate = record.clone();
            tokio::task::spawn_blocking(move || likely_matches(&storage, &candidate))
                .await
                .map_err(|e| NodeError::Internal(format!("the likely-match task failed: {e}")))?
        } else {
            Vec::new()
        };
        state.storage.put_record(&record, Expect::Absent, &[])?;
        Ok((record, matches))
    }

    async fn update(&self, officer: Officer, req: UpdateRecordRequest) -> NodeResult<PersonRecord> {
        let state = &self.state;
        let mut record = req
            .record
            .ok_or_else(|| NodeError::invalid("record", "is required"))?;
        validate::id("record.id", &record.id)?;
        if req.expected_version == 0 {
            return Err(NodeError::invalid(
                "expected_version",
                "is required: give the version you last read",
            ));
        }
        let stored = state.storage.record(&record.id)?;
        require_owner(
            &officer,
            &state.district,
            &stored.origin,
            &format!("record {}", stored.id),
        )?;
        validate::record(&mut record, state.default_handling)?;
        let now = now_ms();
        record.origin = stored.origin;
        record.version = req.expected_version + 1;
        record.photos = stored.photos;
        record.review_by_ms = review_by(record.review_by_ms, stored.review_by_ms, now)?;
        record.created_at_ms = stored.created_at_ms;
        record.created_by = stored.created_by;
        record.updated_at_ms = now;
        record.updated_by = officer_label(&officer);
        state
            .storage
            .put_record(&record, Expect::Version(req.expected_version), &[])?;
        Ok(record)
    }

    async fn delete(
        &self,
        officer: Officer,
        mut req: DeleteRecordRequest,
    ) -> NodeResult<DeleteRecordResponse> {
        let state = &self.state;
        validate::id("id", &req.id)?;
        validate::reason(&mut req.reason)?;
        require_admin(&officer, "expunging a record")?;
        let stored = state.storage.record(&req.id)?;
        require_owner(
            &officer,
            &state.district,
            &stored.origin,
            &format!("record {}", stored.id),
        )?;
        let expected = (req.expected_version != 0).then_some(req.expected_version);
        let tombstone = state.storage.expunge(
            Kind::Record,
            &req.id,
            expected,
            &req.reason,
            &officer_label(&officer),
            now_ms(),
        )?;
        tracing::warn!(id = %req.id, by = %officer_label(&officer), reason = %req.reason, "record expunged");
        Ok(DeleteRecordResponse {
            tombstone: Some(tombstone),
        })
    }

    async fn review(&self, officer: Officer, req: ReviewRecordRequest) -> NodeResult<PersonRecord> {
        let state = &self.state;
        validate::id("id", &req.id)?;
        require_admin(&officer, "confirming a record's review")?;
        let mut record = state.storage.record(&req.id)?;
        require_owner(
            &officer,
            &state.district,
            &record.origin,
            &format!("record {}", record.id),
        )?;
        let expected = if req.expected_version == 0 {
            record.version
        } else {
            req.expected_version
        };
        let now = state.clock.now_ms();
        record.review_by_ms = if req.review_by_ms == 0 {
            now + YEAR_MS
        } else {
            review_by(req.review_by_ms, 0, now)?
        };
        record.version = expected + 1;
        record.updated_at_ms = now;
        record.updated_by = officer_label(&officer);
        state
            .storage
            .put_record(&record, Expect::Version(expected), &[])?;
        tracing::info!(id = %record.id, by = %record.updated_by, review_by_ms = record.review_by_ms, "record review confirmed");
        Ok(record)
    }

    fn list(&self, req: ListRecordsRequest) -> NodeResult<ListRecordsResponse> {
        let limit = page_size(req.page_size)?;
        let after = page_after(&req.page_token)?;
        let mut statuses = HashSet::new();
        for (i, s) in req.statuses.iter().enumerate() {
            match PersonStatus::try_from(*s) {
                Ok(PersonStatus::Unspecified) | Err(_) => {
                    return Err(NodeError::invalid(
                        format!("statuses[{i}]"),
                        format!("{s} is not a known status"),
                    ))
                }
                Ok(_) => {
                    statuses.insert(*s);
                }
            }
        }
        for (i, o) in req.origins.iter().enumerate() {
            validate_district_id(o).map_err(|e| NodeError::invalid(format!("origins[{i}]"), e))?;
        }
        let origins: HashSet<&str> = req.origins.iter().map(String::as_str).collect();
        // Review dates are judged by the node's clock, like alert deadlines.
        let now = self.state.clock.now_ms();
        let own = self.state.district.as_str();
        let page = self.state.storage.list_records(after, limit, |r| {
            (statuses.is_empty() || statuses.contains(&r.status))
                && (origins.is_empty() || origins.contains(r.origin.as_str()))
                && (!req.due_review || (r.origin == own && r.review_by_ms <= now))
        })?;
        Ok(ListRecordsResponse {
            records: page.items,
            next_page_token: page.next_after.unwrap_or_default(),
        })
    }
}

#[tonic::async_trait]
impl RecordService for RecordServiceImpl {
    async fn create(
        &self,
        request: Request<CreateRecordRequest>,
    ) -> Result<Response<PersonRecord>, Status> {
        officer_call(
            &self.state.storage,
            "RecordService/Create",
            request,
            |o, r| self.create(o, r),
        )
        .await
    }

    async fn create_and_match(
        &self,
        request: Request<CreateRecordRequest>,
    ) -> Result<Response<CreateRecordResponse>, Status> {
        officer_call(
            &self.state.storage,
            "RecordService/CreateAndMatch",
            request,
            |o, r| self.create_and_match(o, r),
        )
        .await
    }

    async fn get(
        &self,
        request: Request<GetRecordRequest>,
    ) -> Result<Response<PersonRecord>, Status> {
        officer_call(
            &self.state.storage,
            "RecordService/Get",
            request,
            |_, r| async move {
                validate::id("id", &r.id)?;
                Ok(self.state.storage.record(&r.id)?)
            },
        )
        .await
    }

    async fn update(
        &self,
        request: Request<UpdateRecordRequest>,
    ) -> Result<Response<PersonRecord>, Status> {
        officer_call(
            &self.state.storage,
            "RecordService/Update",
            request,
            |o, r| self.update(o, r),
        )
        .await
    }

    async fn delete(
        &self,
        request: Request<DeleteRecordRequest>,
    ) -> Result<Response<DeleteRecordResponse>, Status> {
        officer_call(
            &self.state.storage,
            "RecordService/Delete",
            request,
            |o, r| self.delete(o, r),
        )
        .await
    }

    async fn list(
        &self,
        request: Request<ListRecordsRequest>,
    ) -> Result<Response<ListRecordsResponse>, Status> {
        officer_call(
            &self.state.storage,
            "RecordService/List",
            request,
            |_, r| async move { self.list(r) },
        )
        .await
    }

    async fn review(
        &self,
        request: Request<ReviewRecordRequest>,
    ) -> Result<Response<PersonRecord>, Status> {
        officer_call(
            &self.state.storage,
            "RecordService/Review",
            request,
            |o, r| self.review(o, r),
        )
        .await
    }
}
