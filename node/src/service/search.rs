//! `setu.v1.SearchService`: cross-border suspect search over the node's own records and
//! every record replicated from its peers. The request is checked and turned into an index
//! query by [`crate::validate::search`]; the index (kept by the storage layer) ranks the
//! hits; this file fetches the records of the page and shapes the response.

use super::{officer_call, SharedState};
use crate::error::{NodeError, NodeResult};
use crate::storage::StorageError;
use crate::validate::search as validate_search;
use setu_proto::v1::search_service_server::SearchService;
use setu_proto::v1::{MatchReason, MoNoteHit, SearchHit, SearchRequest, SearchResponse};
use tonic::{Request, Response, Status};

/// The search service of one node.
pub struct SearchServiceImpl {
    state: SharedState,
}

impl SearchServiceImpl {
    /// A service over the node's state.
    pub fn new(state: SharedState) -> Self {
        SearchServiceImpl { state }
    }

    async fn search(&self, req: SearchRequest) -> NodeResult<SearchResponse> {
        let query = validate_search::search(&req)?;
        let storage = &self.state.storage;
        // A search is CPU work of up to tens of milliseconds; it runs off the async
        // workers so that it never stalls other calls and the sync streams.
        let index_storage = storage.clone();
        let results = tokio::task::spawn_blocking(move || index_storage.search(&query))
            .await
            .map_err(|e| NodeError::Internal(format!("the search task failed: {e}")))?;
        let mut hits = Vec::with_capacity(results.hits.len());
        for hit in results.hits {
            // A record expunged between the index lookup and this read is left out.
            let record = match storage.record(&hit.id) {
                Ok(record) => record,
                Err(StorageError::NotFound { .. } | StorageError::Expunged { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            hits.push(SearchHit {
                record: Some(record),
                score: hit.score,
                reasons: hit
                    .reasons
                    .into_iter()
                    .map(|r| MatchReason {
                        field: r.field,
                        detail: r.detail,
                        score: r.score,
                    })
                    .collect(),
            });
        }
        let mut mo_notes = Vec::with_capacity(results.notes.len());
        for note in results.notes {
            match storage.mo_note(&note.id) {
                Ok(found) => mo_notes.push(MoNoteHit {
                    note: Some(found),
                    score: note.score,
                    matched: note.matched,
                }),
                Err(StorageError::NotFound { .. } | StorageError::Expunged { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(SearchResponse {
            hits,
            total: u32::try_from(results.total).unwrap_or(u32::MAX),
            total_is_estimate: results.total_is_estimate,
            next_page_token: results
                .next_offset
                .map(validate_search::page_token)
                .unwrap_or_default(),
            mo_notes,
        })
    }
}

#[tonic::async_trait]
impl SearchService for SearchServiceImpl {
    async fn search(
        &self,
        request: Request<SearchRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        officer_call(
            &self.state.storage,
            "SearchService/Search",
            request,
            |_, r| self.search(r),
        )
        .await
    }
}
