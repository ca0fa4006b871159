//! Chooses between the JSON document and the human text a command prints on stdout.

use serde::Serialize;

use crate::error::ClientError;

/// The largest message accepted from the node; a full page of 500 records fits easily.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Renders `value` as pretty JSON when `json` is set, otherwise with `human`.
pub fn emit<T: Serialize>(
    json: bool,
    value: &T,
    human: impl FnOnce(&T) -> String,
) -> Result<String, ClientError> {
    if json {
        let mut text = serde_json::to_string_pretty(value)?;
        text.push('\n');
        Ok(text)
    } else {
        Ok(human(value))
    }
}
