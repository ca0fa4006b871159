//! Refuses a district filter the node does not know, so that a mistyped district id
//! (`--district wb-asansol`) is not taken for "nothing matched".
//!
//! The node lists the districts it knows in `PeerService/List` (its own, its peers and every
//! origin it holds items of); a filter outside that list stops the command with the list.

use setu_proto::v1 as pb;
use setu_proto::v1::peer_service_client::PeerServiceClient;
use tonic::transport::Channel;

use crate::error::ClientError;
use crate::output::MAX_MESSAGE_BYTES;

/// Checks every district in `asked` (the values of `flag`, e.g. "--district") against the
/// districts the node knows; an empty `asked` costs no call.
pub(crate) async fn check_known(
    channel: &Channel,
    flag: &str,
    asked: &[String],
) -> Result<(), ClientError> {
    if asked.is_empty() {
        return Ok(());
    }
    let known = PeerServiceClient::new(channel.clone())
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .list(pb::ListPeersRequest {})
        .await?
        .into_inner()
        .known_districts;
    // A node that predates the list says nothing; then nothing can be checked.
    if known.is_empty() {
        return Ok(());
    }
    refuse_unknown(flag, asked, &known)
}

/// The refusal of the first district of `asked` missing from `known`, if any.
fn refuse_unknown(flag: &str, asked: &[String], known: &[String]) -> Result<(), ClientError> {
    let Some(unknown) = asked
        .iter()
        .find(|d| !known.iter().any(|k| k.eq_ignore_ascii_case(d.trim())))
    else {
        return Ok(());
    };
    let excerpt: String = unknown.chars().take(60).collect();
    Err(ClientError::Input(format!(
        "{flag} {}: this node knows no such district; the districts it knows are {}",
        crate::render::clean(&excerpt),
        known
            .iter()
            .map(|k| crate::render::clean(k))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_districts_are_refused_with_the_known_ones() {
        let known = vec!["jh-dhanbad".to_string(), "wb-asansol-durgapur".to_string()];
        assert!(refuse_unknown("--district", &["jh-dhanbad".into()], &known).is_ok());
        let refused = refuse_unknown("--district", &["wb-asansol".into()], &known)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            refused.as_deref(),
            Some(
                "--district wb-asansol: this node knows no such district; the districts it \
                 knows are jh-dhanbad, wb-asansol-durgapur"
            )
        );
    }
}
