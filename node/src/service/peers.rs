//! `setu.v1.PeerService`: the officers' view of the federation links (`setu peers`), with
//! the expiry of the node's own certificate and of each peer's.

use super::officer_call;
use crate::federation::Federation;
use crate::net::reload::TlsState;
use setu_proto::v1::peer_service_server::PeerService;
use setu_proto::v1::{ListPeersRequest, ListPeersResponse};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The peer-status service of one node.
pub struct PeerServiceImpl {
    federation: Arc<Federation>,
    tls: Arc<TlsState>,
}

impl PeerServiceImpl {
    /// A service over the node's federation state.
    pub fn new(federation: Arc<Federation>, tls: Arc<TlsState>) -> Self {
        PeerServiceImpl { federation, tls }
    }

    fn list(&self) -> crate::error::NodeResult<ListPeersResponse> {
        let own = self.tls.own();
        let peers = self.federation.peer_statuses()?;
        let mut known: Vec<String> = std::iter::once(self.federation.district.clone())
            .chain(peers.iter().map(|p| p.district.clone()))
            .chain(
                self.federation
                    .storage
                    .origins()?
                    .into_iter()
                    .map(|o| o.origin),
            )
            .collect();
        known.sort();
        known.dedup();
        Ok(ListPeersResponse {
            district: self.federation.district.clone(),
            peers,
            own_cert_expires_at_ms: own.not_after_ms,
            own_cert_serial: own.serial,
            known_districts: known,
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
