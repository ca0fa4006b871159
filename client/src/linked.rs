//! What a card links to, fetched so that officers read names rather than ids: the MO notes
//! of a person (`record show`) and the people of a note or an alert (`mo show`, `alert
//! show`, `alert watch`).

use setu_proto::v1 as pb;
use setu_proto::v1::mo_service_client::MoServiceClient;
use tonic::transport::Channel;

use crate::error::ClientError;
use crate::output::MAX_MESSAGE_BYTES;
use crate::records;
use crate::render::{note_line, person_line, short_id};
use crate::view::MoView;

/// The most linked notes a card lists.
const NOTES_SHOWN: u32 = 50;

/// One line per MO note linked to the record `record_id` (see [`note_line`]).
pub(crate) async fn note_lines(
    channel: &Channel,
    record_id: &str,
) -> Result<Vec<String>, ClientError> {
    let notes = MoServiceClient::new(channel.clone())
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .list(pb::ListMoNotesRequest {
            record_id: record_id.to_string(),
            page_size: NOTES_SHOWN,
            ..Default::default()
        })
        .await?
        .into_inner()
        .notes;
    Ok(notes
        .into_iter()
        .map(|n| note_line(&MoView::from(n)))
        .collect())
}

/// One line per record id (see [`person_line`]), each record read with the officer's own
/// certificate (so the node decides and audits); a record that cannot be read here (not
/// shared with this district, expunged, or the node refusing) is a short id and "not
/// available here".
pub(crate) async fn person_lines(channel: &Channel, ids: &[String]) -> Vec<String> {
    let mut client = records::client_on(channel.clone());
    let mut lines = Vec::with_capacity(ids.len());
    for id in ids {
        lines.push(match records::get(&mut client, id).await {
            Ok(record) => person_line(&record),
            Err(_) => format!("{} (not available here)", short_id(id)),
        });
    }
    lines
}
