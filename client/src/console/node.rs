//! The console's calls to the node: clients on the shared channels, and a node refusal
//! turned into what a page shows (the sentence, and the form field it names).
//!
//! Every call goes over the officer's own mutual-TLS connection, so the node authorises
//! and audits it as one of the officer's calls; the console adds no rights and keeps no
//! copy of what comes back.

use setu_proto::v1::alert_service_client::AlertServiceClient;
use setu_proto::v1::mo_service_client::MoServiceClient;
use setu_proto::v1::peer_service_client::PeerServiceClient;
use setu_proto::v1::photo_service_client::PhotoServiceClient;
use setu_proto::v1::record_service_client::RecordServiceClient;
use setu_proto::v1::search_service_client::SearchServiceClient;
use tonic::transport::Channel;
use tonic::{Code, Status};

use super::Console;
use crate::explain::explain_status;
use crate::output::MAX_MESSAGE_BYTES;

/// The longest node message a page shows, in characters; the node caps its own at 1 000
/// bytes, which is more than a page needs.
const MAX_SHOWN_CHARS: usize = 300;

/// Why a call failed, as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The request field the node named (`phones` for `phones[0]: ...`), when it named one.
    pub(crate) field: Option<String>,
    /// The sentence: the node's message for a refused value, else the client's
    /// explanation of the status (refused certificate, unreachable node, ...).
    pub(crate) message: String,
    /// Whether the node said there is no such item.
    pub(crate) not_found: bool,
}

impl Failure {
    /// A failure of the console's own reading of a form field, shown at that field.
    pub(crate) fn at(field: &str, message: String) -> Failure {
        Failure {
            field: Some(field.to_string()),
            message,
            not_found: false,
        }
    }
}

impl From<Status> for Failure {
    fn from(status: Status) -> Failure {
        let not_found = status.code() == Code::NotFound;
        if status.code() == Code::InvalidArgument {
            let message = bounded(status.message().trim());
            return Failure {
                field: field_of(&message),
                message,
                not_found,
            };
        }
        Failure {
            field: None,
            message: bounded(&explain_status(&status)),
            not_found,
        }
    }
}

/// The base field name at the start of a node refusal: `phones` in `phones[0]: ...`,
/// `cases` in `cases[1].fir_number: ...`, `name` in `name: is required`.
pub(crate) fn field_of(message: &str) -> Option<String> {
    let (path, _) = message.split_once(": ")?;
    let base: String = path
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
        .collect();
    let rest = &path[base.len()..];
    let shaped = rest.is_empty() || rest.starts_with('[') || rest.starts_with('.');
    (!base.is_empty() && shaped && !path.contains(' ')).then_some(base)
}

/// `text` cut to [`MAX_SHOWN_CHARS`] characters.
fn bounded(text: &str) -> String {
    if text.chars().count() <= MAX_SHOWN_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MAX_SHOWN_CHARS).collect();
    out.push('…');
    out
}

impl Console {
    /// A record service client.
    pub(crate) fn records(&self) -> RecordServiceClient<Channel> {
        RecordServiceClient::new(self.channel()).max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// An MO note service client.
    pub(crate) fn mo(&self) -> MoServiceClient<Channel> {
        MoServiceClient::new(self.channel()).max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// A search service client.
    pub(crate) fn search(&self) -> SearchServiceClient<Channel> {
        SearchServiceClient::new(self.channel()).max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// A photo service client.
    pub(crate) fn photos(&self) -> PhotoServiceClient<Channel> {
        PhotoServiceClient::new(self.channel()).max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// An alert service client for ordinary calls.
    pub(crate) fn alerts(&self) -> AlertServiceClient<Channel> {
        AlertServiceClient::new(self.channel()).max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// An alert service client for the alert stream.
    pub(crate) fn alert_stream(&self) -> AlertServiceClient<Channel> {
        AlertServiceClient::new(self.watch_channel()).max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// A peer service client.
    pub(crate) fn peers(&self) -> PeerServiceClient<Channel> {
        PeerServiceClient::new(self.channel()).max_decoding_message_size(MAX_MESSAGE_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_is_read_from_the_start_of_a_refusal() {
        assert_eq!(field_of("name: is required").as_deref(), Some("name"));
        assert_eq!(
            field_of("phones[0]: '12' has 2 digits; a phone has 10 to 15").as_deref(),
            Some("phones")
        );
        assert_eq!(
            field_of("cases[1].fir_number: is required").as_deref(),
            Some("cases")
        );
        assert_eq!(field_of("record 01ab is owned by jh-dhanbad: no"), None);
        assert_eq!(field_of("no colon here"), None);
    }

    #[test]
    fn an_invalid_argument_names_its_field() {
        let failure = Failure::from(Status::invalid_argument("birth_year: 1700 is outside"));
        assert_eq!(failure.field.as_deref(), Some("birth_year"));
        assert_eq!(failure.message, "birth_year: 1700 is outside");
        let other = Failure::from(Status::permission_denied("only liaisons post alerts"));
        assert_eq!(other.field, None);
        assert!(other.message.contains("only liaisons"), "{}", other.message);
    }
}
