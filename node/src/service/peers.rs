//! `setu.v1.PeerService`: the officers' view of the federation links (`setu peers`).

use super::officer_call;
use crate::federation::Federation;
use setu_proto::v1::peer_service_server::PeerService;
use setu_proto::v1::{ListPeersRequest, ListPeersResponse};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The peer-status service of one node.
pub struct PeerServiceImpl {
    federation: Arc<Federation>,
}

impl PeerServiceImpl {
    /// A service over the node's federation state.
    pub fn new(federation: Arc<Federation>) -> Self {
        PeerServiceImpl { federation }
    }

    fn list(&self) -> crate::error::NodeResult<ListPeersResponse> {
        Ok(ListPeersResponse {
            district: self.federation.district.clone(),
            peers: self.federation.peer_statuses()?,
        })
    }
}

#[tonic::async_trait]
impl PeerService for PeerServiceImpl {
    async fn list(
        &self,
        request: Request<ListPeersRequest>,
    ) -> Result<Response<ListPeersResponse>, Status> {
        officer_call(
            &self.federation.storage,
            "PeerService/List",
            request,
            |_, _| async move { self.list() },
        )
        .await
    }
}
