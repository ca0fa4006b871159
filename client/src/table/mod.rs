//! Person records as rows of a file, for `setu import` and `setu export`: CSV with a header
//! row, or JSON Lines with the same keys. One column table ([`Column`]) serves both ways, so
//! an export reads back through an import unchanged.
//!
//! Files are read and written one row at a time: nothing here holds a whole file.

mod cells;
mod columns;
mod csv_io;
mod header;
mod jsonl;
mod rows;

use std::io::{BufRead, Write};
use std::path::Path;

use setu_proto::v1 as pb;

pub use columns::{inexact_case, CellError, Column};
pub use csv_io::{CsvRows, CsvSink};
pub use header::{normalize, parse_map_entry, Header, MapEntry, Names};
pub use jsonl::{JsonlRows, JsonlSink};
pub use rows::{LineMap, ParsedRow, RowSource};

use crate::error::ClientError;

/// The file formats of import and export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl TableFormat {
    /// The format a file name's extension implies: `.csv`, or `.jsonl`, `.ndjson` and
    /// `.json` for JSON Lines.
    pub fn from_path(path: &Path) -> Option<TableFormat> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(TableFormat::Csv),
            "jsonl" | "ndjson" | "json" => Some(TableFormat::Jsonl),
            _ => None,
        }
    }

    /// The format's word, as `--format` takes it.
    pub fn word(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Jsonl => "jsonl",
        }
    }
}

/// The rows of `input` in `format`; the header (or the first JSON object) is read and
/// checked here, before anything is sent. `source` names the file in errors.
pub fn open_rows(
    format: TableFormat,
    input: Box<dyn BufRead + Send>,
    map: &[MapEntry],
    source: &Path,
) -> Result<Box<dyn RowSource>, ClientError> {
    let names = Names::new(map)?;
    Ok(match format {
        TableFormat::Csv => Box::new(CsvRows::new(input, &names, source)?),
        TableFormat::Jsonl => Box::new(JsonlRows::new(input, &names, source)?),
    })
}

/// Where an export writes its records.
pub enum Sink<W: Write> {
    /// CSV rows (boxed: the CSV writer carries its buffer inline).
    Csv(Box<CsvSink<W>>),
    /// JSON lines.
    Jsonl(JsonlSink<W>),
}

impl<W: Write> Sink<W> {
    /// Starts writing `format` to `out` (a CSV file starts with its header row).
    pub fn new(format: TableFormat, out: W) -> std::io::Result<Self> {
        Ok(match format {
            TableFormat::Csv => Sink::Csv(Box::new(CsvSink::new(out)?)),
            TableFormat::Jsonl => Sink::Jsonl(JsonlSink::new(out)),
        })
    }

    /// Writes one record.
    pub fn write(&mut self, record: &pb::PersonRecord) -> std::io::Result<()> {
        match self {
            Sink::Csv(sink) => sink.write(record),
            Sink::Jsonl(sink) => sink.write(record),
        }
    }

    /// Why this record cannot be written exactly in this format, if it cannot.
    pub fn inexact(&self, record: &pb::PersonRecord) -> Option<String> {
        match self {
            Sink::Csv(_) => inexact_case(record),
            Sink::Jsonl(_) => None,
        }
    }

    /// Flushes what is buffered and hands back the writer.
    pub fn finish(self) -> std::io::Result<W> {
        let mut out = match self {
            Sink::Csv(sink) => sink.finish()?,
            Sink::Jsonl(sink) => sink.finish()?,
        };
        out.flush()?;
        Ok(out)
    }
}
