//! JSON Lines files: one JSON object per line with the same keys as the CSV columns, read
//! one line at a time for an import and written one record per line by an export. Blank
//! lines are skipped and not counted as rows.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use setu_proto::v1 as pb;

use super::columns::{CellError, Column};
use super::header::Names;
use super::rows::{ParsedRow, RowSource};
use crate::error::ClientError;

/// The rows of a JSON Lines file.
pub struct JsonlRows<R: BufRead> {
    input: R,
    names: Names,
    /// The line of the file last read.
    line: u64,
    /// The number of the last row read.
    row: u64,
    bytes: u64,
    /// The line being read, reused.
    buffer: Vec<u8>,
    /// The first row, read ahead by [`JsonlRows::new`] to check its keys.
    first: Option<ParsedRow>,
    source: PathBuf,
}

/// A row's record or its errors, and the keys that name no field.
type Parsed = (Result<pb::PersonRecord, Vec<CellError>>, Vec<String>);

impl<R: BufRead> JsonlRows<R> {
    /// Reads the first object of `input` (named `source` in errors) ahead: a key of it that
    /// names no field stops the import before anything is sent, as an unknown CSV header
    /// does. Later objects with such keys are bad rows.
    pub fn new(input: R, names: &Names, source: &Path) -> Result<Self, ClientError> {
        let mut rows = JsonlRows {
            input,
            names: names.clone(),
            line: 0,
            row: 0,
            bytes: 0,
            buffer: Vec::new(),
            first: None,
            source: source.to_path_buf(),
        };
        if let Some((row, (record, unknown))) = rows.read()? {
            if let Some(key) = unknown.first() {
                return Err(ClientError::Input(format!(
                    "{}: line {}: {}",
                    source.display(),
                    row.line,
                    names.unknown(key)
                )));
            }
            rows.first = Some(ParsedRow { record, ..row });
        }
        Ok(rows)
    }

    /// The next non-blank line as a row.
    fn read(&mut self) -> Result<Option<(ParsedRow, Parsed)>, ClientError> {
        loop {
            self.buffer.clear();
            let n = self
                .input
                .read_until(b'\n', &mut self.buffer)
                .map_err(|source| ClientError::File {
                    action: "read",
                    path: self.source.clone(),
                    source,
                })?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            self.bytes += n as u64;
            if self.buffer.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.row += 1;
            let parsed = self.parse();
            let row = ParsedRow {
                row: self.row,
                line: self.line,
                record: Ok(pb::PersonRecord::default()),
            };
            return Ok(Some((row, parsed)));
        }
    }

    /// The record of the current line.
    fn parse(&self) -> Parsed {
        let whole = |reason: String| {
            (
                Err(vec![CellError {
                    field: String::new(),
                    reason,
                }]),
                Vec::new(),
            )
        };
        let Ok(text) = std::str::from_utf8(&self.buffer) else {
            return whole("the line is not UTF-8 text".to_string());
        };
        let object = match serde_json::from_str::<Map<String, Value>>(text) {
            Ok(object) => object,
            Err(e) => return whole(format!("not a JSON object: {e}")),
        };
        let mut record = pb::PersonRecord::default();
        let mut errors = Vec::new();
        let mut unknown = Vec::new();
        let mut given: Vec<(Column, &str)> = Vec::new();
        for (key, value) in &object {
            let Some(column) = self.names.column(key) else {
                errors.push(CellError {
                    field: key.clone(),
                    reason: self.names.unknown(key),
                });
                unknown.push(key.clone());
                continue;
            };
            if let Some((_, first)) = given.iter().find(|(c, _)| *c == column) {
                errors.push(CellError {
                    field: column.name().to_string(),
                    reason: format!("given twice, as {first:?} and {key:?}"),
                });
                continue;
            }
            given.push((column, key));
            if let Err(e) = column.set_json(&mut record, value) {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            (Ok(record), unknown)
        } else {
            (Err(errors), unknown)
        }
    }
}

impl<R: BufRead> Iterator for JsonlRows<R> {
    type Item = Result<ParsedRow, ClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(first) = self.first.take() {
            return Some(Ok(first));
        }
        match self.read() {
            Ok(Some((row, (record, _)))) => Some(Ok(ParsedRow { record, ..row })),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

impl<R: BufRead + Send> RowSource for JsonlRows<R> {
    fn bytes_read(&self) -> u64 {
        self.bytes
    }
}

/// Writes records as JSON Lines: one object per record, with only the fields that are set.
pub struct JsonlSink<W: Write> {
    out: W,
}

impl<W: Write> JsonlSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        JsonlSink { out }
    }

    /// Writes one record as a line, its keys in the order of the CSV columns.
    pub fn write(&mut self, record: &pb::PersonRecord) -> std::io::Result<()> {
        let mut separator = b"{";
        for column in Column::ALL {
            if let Some(value) = column.json(record) {
                self.out.write_all(separator)?;
                serde_json::to_writer(&mut self.out, column.name())?;
                self.out.write_all(b":")?;
                serde_json::to_writer(&mut self.out, &value)?;
                separator = b",";
            }
        }
        if separator == b"{" {
            self.out.write_all(b"{")?;
        }
        self.out.write_all(b"}\n")
    }

    /// Hands back the writer.
    pub fn finish(self) -> std::io::Result<W> {
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::columns::tests::sample;
    use crate::table::header::parse_map_entry;

    fn rows(text: &str, map: &[&str]) -> Result<Vec<ParsedRow>, ClientError> {
        let map: Vec<_> = map
            .iter()
            .map(|m| parse_map_entry(m).map_err(ClientError::Input))
            .collect::<Result<_, _>>()?;
        JsonlRows::new(
            text.as_bytes(),
            &Names::new(&map)?,
            Path::new("people.jsonl"),
        )?
        .collect()
    }

    #[test]
    fn objects_become_rows() -> Result<(), ClientError> {
        let text = "{\"Naam\": \"Test Raju\", \"aliases\": [\"Kalua\"], \"birth_year\": 1991}\n\
                    \n\
                    {\"Naam\": \"Test Sunil\", \"birth_year\": \"abc\", \"nickname\": \"x\"}\n\
                    not json\n";
        let rows = rows(text, &["name=Naam"])?;
        assert_eq!(rows.len(), 3);
        let first = rows[0]
            .record
            .clone()
            .map_err(|_| ClientError::Input("bad".into()))?;
        assert_eq!((first.name.as_str(), first.birth_year), ("Test Raju", 1991));
        assert_eq!((rows[1].row, rows[1].line), (2, 3));
        let errors = rows[1].record.clone().err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(
            fields.contains(&"birth_year") && fields.contains(&"nickname"),
            "{errors:?}"
        );
        let whole = rows[2].record.clone().err().unwrap_or_default();
        assert!(
            whole[0].reason.starts_with("not a JSON object"),
            "{whole:?}"
        );
        Ok(())
    }

    #[test]
    fn an_unknown_key_on_the_first_line_stops_before_sending() {
        let result = rows("{\"name\": \"Test Raju\", \"nickname\": \"x\"}\n", &[]);
        assert!(
            matches!(&result, Err(e) if e.to_string().contains("\"nickname\" is not a record field")),
            "{result:?}"
        );
    }

    #[test]
    fn written_lines_read_back_the_same() -> Result<(), ClientError> {
        let mut record = sample();
        // JSON Lines keeps what the CSV case format cannot hold.
        record.cases[0].fir_number = "112".into();
        let mut sink = JsonlSink::new(Vec::new());
        sink.write(&record)
            .and_then(|()| sink.write(&pb::PersonRecord::default()))
            .map_err(|e| ClientError::Input(e.to_string()))?;
        let bytes = sink
            .finish()
            .map_err(|e| ClientError::Input(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|e| ClientError::Input(e.to_string()))?;
        assert!(
            text.starts_with("{\"external_ref\":\"DHN-TEST-0042\",\"name\":"),
            "{text}"
        );
        assert!(text.ends_with("}\n{}\n"), "{text}");
        let read: Vec<pb::PersonRecord> = rows(&text, &[])?
            .into_iter()
            .map(|r| r.record.map_err(|e| ClientError::Input(format!("{e:?}"))))
            .collect::<Result<_, _>>()?;
        assert_eq!(read, vec![record, pb::PersonRecord::default()]);
        Ok(())
    }
}
