//! The `setu peers` command: the district's federation links, as the node sees them.

use setu_proto::v1 as pb;
use setu_proto::v1::peer_service_client::PeerServiceClient;

use crate::config::ClientConfig;
use crate::connect::connect;
use crate::error::ClientError;
use crate::output::{emit, MAX_MESSAGE_BYTES};
use crate::render::peers_report;
use crate::view::PeerListView;
use crate::when::now_ms;

/// Runs `setu peers` and returns what it prints on stdout.
pub async fn run(config: &ClientConfig, json: bool) -> Result<String, ClientError> {
    let response = PeerServiceClient::new(connect(config).await?)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .list(pb::ListPeersRequest {})
        .await?
        .into_inner();
    let list = PeerListView::from(response);
    emit(json, &list, |l| peers_report(l, now_ms()))
}
