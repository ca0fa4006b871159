//! `setu.v1.MoService`: modus-operandi notes, linked to the person records they concern.

use super::{officer_call, page_after, page_size, SharedState};
use crate::clock::now_ms;
use crate::error::{NodeError, NodeResult};
use crate::storage::{Expect, Kind, StorageError};
use crate::trust::auth::{officer_label, require_admin, require_owner};
use crate::trust::identity::Officer;
use crate::validate;
use setu_proto::v1::mo_service_server::MoService;
use setu_proto::v1::{
    CreateMoNoteRequest, DeleteMoNoteRequest, DeleteMoNoteResponse, GetMoNoteRequest,
    ListMoNotesRequest, ListMoNotesResponse, MoCategory, MoNote, UpdateMoNoteRequest,
};
use std::collections::HashSet;
use tonic::{Request, Response, Status};

/// The MO-note service of one node.
pub struct MoServiceImpl {
    state: SharedState,
}

impl MoServiceImpl {
    /// A service over the node's state.
    pub fn new(state: SharedState) -> Self {
        MoServiceImpl { state }
    }

    /// Every linked record must exist on this node (its own or replicated).
    fn check_links(&self, note: &MoNote) -> NodeResult<()> {
        for (i, id) in note.record_ids.iter().enumerate() {
            match self.state.storage.record(id) {
                Ok(_) => {}
                Err(StorageError::NotFound { .. }) | Err(StorageError::Expunged { .. }) => {
                    return Err(NodeError::invalid(
                        format!("record_ids[{i}]"),
                        format!("no record {id} on this node"),
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn create(&self, officer: Officer, req: CreateMoNoteRequest) -> NodeResult<MoNote> {
        let state = &self.state;
        let mut note = req
            .note
            .ok_or_else(|| NodeError::invalid("note", "is required"))?;
        require_owner(
            &officer,
            &state.district,
            &state.district,
            "a new MO note of this node",
        )?;
        validate::mo_note(&mut note, state.default_handling)?;
        self.check_links(&note)?;
        let now = now_ms();
        note.id = uuid::Uuid::now_v7().to_string();
        note.origin = state.district.clone();
        note.version = 1;
        note.created_at_ms = now;
        note.updated_at_ms = now;
        note.created_by = officer_label(&officer);
        note.updated_by = note.created_by.clone();
        state.storage.put_mo_note(&note, Expect::Absent)?;
        Ok(note)
    }

    async fn update(&self, officer: Officer, req: UpdateMoNoteRequest) -> NodeResult<MoNote> {
        let state = &self.state;
        let mut note = req
            .note
            .ok_or_else(|| NodeError::invalid("note", "is required"))?;
        validate::id("note.id", &note.id)?;
        if req.expected_version == 0 {
            return Err(NodeError::invalid(
                "expected_version",
                "is required: give the version you last read",
            ));
        }
        let stored = state.storage.mo_note(&note.id)?;
        require_owner(
            &officer,
            &state.district,
            &stored.origin,
            &format!("MO note {}", stored.id),
        )?;
        validate::mo_note(&mut note, state.default_handling)?;
        self.check_links(&note)?;
        note.origin = stored.origin;
        note.version = req.expected_version + 1;
        note.created_at_ms = stored.created_at_ms;
        note.created_by = stored.created_by;
        note.updated_at_ms = now_ms();
        note.updated_by = officer_label(&officer);
        state
            .storage
            .put_mo_note(&note, Expect::Version(req.expected_version))?;
        Ok(note)
    }

    async fn delete(
        &self,
        officer: Officer,
        mut req: DeleteMoNoteRequest,
    ) -> NodeResult<DeleteMoNoteResponse> {
        let state = &self.state;
        validate::id("id", &req.id)?;
        validate::reason(&mut req.reason)?;
        require_admin(&officer, "expunging an MO note")?;
        let stored = state.storage.mo_note(&req.id)?;
        require_owner(
            &officer,
            &state.district,
            &stored.origin,
            &format!("MO note {}", stored.id),
        )?;
        let expected = (req.expected_version != 0).then_some(req.expected_version);
        let tombstone = state.storage.expunge(
            Kind::MoNote,
            &req.id,
            expected,
            &req.reason,
            &officer_label(&officer),
            now_ms(),
        )?;
        Ok(DeleteMoNoteResponse {
            tombstone: Some(tombstone),
        })
    }

    fn list(&self, req: ListMoNotesRequest) -> NodeResult<ListMoNotesResponse> {
        let limit = page_size(req.page_size)?;
        let after = page_after(&req.page_token)?;
        if !req.record_id.is_empty() {
            validate::id("record_id", &req.record_id)?;
        }
        let mut categories = HashSet::new();
        for (i, c) in req.categories.iter().enumerate() {
            match MoCategory::try_from(*c) {
                Ok(MoCategory::Unspecified) | Err(_) => {
                    return Err(NodeError::invalid(
                        format!("categories[{i}]"),
                        format!("{c} is not a known category"),
                    ))
                }
                Ok(_) => {
                    categories.insert(*c);
                }
            }
        }
        let page = self.state.storage.list_mo_notes(after, limit, |n| {
            (categories.is_empty() || categories.contains(&n.category))
                && (req.record_id.is_empty() || n.record_ids.contains(&req.record_id))
        })?;
        Ok(ListMoNotesResponse {
            notes: page.items,
            next_page_token: page.next_after.unwrap_or_default(),
        })
    }
}

#[tonic::async_trait]
impl MoService for MoServiceImpl {
    async fn create(
        &self,
        request: Request<CreateMoNoteRequest>,
    ) -> Result<Response<MoNote>, Status> {
        officer_call(&self.state.storage, "MoService/Create", request, |o, r| {
            self.create(o, r)
        })
        .await
    }

    async fn get(&self, request: Request<GetMoNoteRequest>) -> Result<Response<MoNote>, Status> {
        officer_call(
            &self.state.storage,
            "MoService/Get",
            request,
            |_, r| async move {
                validate::id("id", &r.id)?;
                Ok(self.state.storage.mo_note(&r.id)?)
            },
        )
        .await
    }

    async fn update(
        &self,
        request: Request<UpdateMoNoteRequest>,
    ) -> Result<Response<MoNote>, Status> {
        officer_call(&self.state.storage, "MoService/Update", request, |o, r| {
            self.update(o, r)
        })
        .await
    }

    async fn delete(
        &self,
        request: Request<DeleteMoNoteRequest>,
    ) -> Result<Response<DeleteMoNoteResponse>, Status> {
        officer_call(&self.state.storage, "MoService/Delete", request, |o, r| {
            self.delete(o, r)
        })
        .await
    }

    async fn list(
        &self,
        request: Request<ListMoNotesRequest>,
    ) -> Result<Response<ListMoNotesResponse>, Status> {
        officer_call(
            &self.state.storage,
            "MoService/List",
            request,
            |_, r| async move { self.list(r) },
        )
        .await
    }
}
