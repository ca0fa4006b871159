//! Reads `--file` JSON and lays it over a base record or note.
//!
//! The file may hold any subset of the fields `--json` prints: only the keys present replace
//! the base, so `{"status": "arrested"}` changes the status and nothing else.

use std::io::Read;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::ClientError;

/// The top-level keys of a JSON object read from a file, or from standard input for "-".
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    /// Where the JSON came from, for error messages.
    source: String,
    /// The object's keys and values.
    fields: Map<String, Value>,
}

impl Overlay {
    /// Reads and parses the JSON object at `path` ("-" for standard input).
    pub fn read(path: &Path) -> Result<Self, ClientError> {
        let text = if path == Path::new("-") {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| ClientError::File {
                    action: "read",
                    path: path.to_path_buf(),
                    source,
                })?;
            text
        } else {
            std::fs::read_to_string(path).map_err(|source| ClientError::File {
                action: "read",
                path: path.to_path_buf(),
                source,
            })?
        };
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses JSON text that must be one object; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Self, ClientError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ClientError::Input(format!("{source}: not valid JSON: {e}")))?;
        match value {
            Value::Object(fields) => Ok(Self {
                source: source.to_string(),
                fields,
            }),
            _ => Err(ClientError::Input(format!(
                "{source}: expected a JSON object like the --json output"
            ))),
        }
    }

    /// A non-empty string field, e.g. the `id` the file was saved with.
    pub fn string(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// A positive integer field, e.g. the `version` the file was saved with.
    pub fn positive(&self, key: &str) -> Option<u64> {
        self.fields
            .get(key)
            .and_then(Value::as_u64)
            .filter(|v| *v > 0)
    }

    /// `base` with every key of this overlay replacing the base's value.
    pub fn apply<T: Serialize + DeserializeOwned>(&self, base: &T) -> Result<T, ClientError> {
        let mut merged = match serde_json::to_value(base)? {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        for (key, value) in &self.fields {
            merged.insert(key.clone(), value.clone());
        }
        serde_json::from_value(Value::Object(merged))
            .map_err(|e| ClientError::Input(format!("{}: {e}", self.source)))
    }
}

/// Reads the overlay named by an optional `--file`.
pub fn read_optional(path: Option<&Path>) -> Result<Option<Overlay>, ClientError> {
    path.map(Overlay::read).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::RecordView;
    use crate::words::Status;

    #[test]
    fn only_present_keys_replace_the_base() -> Result<(), ClientError> {
        let base = RecordView {
            name: "Raju Mahto".into(),
            aliases: vec!["Kalua".into()],
            ..RecordView::default()
        };
        let overlay = Overlay::parse(r#"{"status": "arrested", "version": 4}"#, "rec.json")?;
        let merged = overlay.apply(&base)?;
        assert_eq!(merged.name, "Raju Mahto");
        assert_eq!(merged.aliases, vec!["Kalua"]);
        assert_eq!(merged.status, Some(Status::Arrested));
        assert_eq!(overlay.positive("version"), Some(4));
        Ok(())
    }

    #[test]
    fn bad_files_name_the_file_and_the_problem() {
        let typo = Overlay::parse(r#"{"stauts": "arrested"}"#, "rec.json")
            .and_then(|o| o.apply(&RecordView::default()));
        assert!(
            matches!(typo, Err(e) if e.to_string().contains("rec.json") && e.to_string().contains("stauts"))
        );
        let word = Overlay::parse(r#"{"status": "fugitive"}"#, "rec.json")
            .and_then(|o| o.apply(&RecordView::default()));
        assert!(matches!(word, Err(e) if e.to_string().contains("fugitive")));
        assert!(Overlay::parse("[1]", "rec.json").is_err());
        assert!(Overlay::parse("{", "rec.json").is_err());
    }
}
