//! `setu.v1.PeerService`: the officers' view of the federation links (`setu peers`).

use super::officer_call;
use crate::federation::Federation;
use setu_proto::v1::peer_service_server::PeerService;
use setu_proto::v1::{ListPeersRequest, ListPeersResponse, PeerStatus};
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
        let f = &self.federation;
        let own_head = f
            .storage
            .origin_info(&f.district)?
            .map(|i| i.max_seq)
            .unwrap_or(0);
        let mut peers = Vec::new();
        for peer in &f.peers {
            let link = f.status.get(&peer.district);
            let watermarks = f.storage.watermarks(&peer.district)?;
            let applied_from_peer = watermarks
                .iter()
                .find(|w| w.origin == peer.district)
                .map(|w| w.seq)
                .unwrap_or(0);
            let acked_by_peer = f
                .storage
                .peer_acks(&peer.district)?
                .into_iter()
                .find(|w| w.origin == f.district)
                .map(|w| w.seq)
                .unwrap_or(0);
            peers.push(PeerStatus {
                district: peer.district.clone(),
                address: peer.address.clone(),
                connected: link.connected,
                last_contact_ms: link.last_contact_ms,
                lag_in: link.peer_head.saturating_sub(applied_from_peer),
                lag_out: own_head.saturating_sub(acked_by_peer),
                anti_entropy_at_ms: link.anti_entropy_at_ms,
                anti_entropy_result: link.anti_entropy_result,
                last_error: link.last_error,
                last_error_at_ms: link.last_error_at_ms,
                watermarks,
            });
        }
        Ok(ListPeersResponse {
            district: f.district.clone(),
            peers,
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
