//! The `setu peers` command: the district's federation links, as the node sees them.

use std::time::{SystemTime, UNIX_EPOCH};

use setu_proto::v1 as pb;
use setu_proto::v1::peer_service_client::PeerServiceClient;

use crate::config::ClientConfig;
use crate::connect::connect;
use crate::error::ClientError;
use crate::output::{emit, MAX_MESSAGE_BYTES};
use crate::render::peers_report;
use crate::view::PeerListView;

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

/// The officer's clock in Unix milliseconds; 0 if it is set before 1970.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
