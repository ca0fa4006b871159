//! `setu export`: this district's own records, streamed by `ImportService/Export`, written as
//! CSV or JSON Lines in the columns `setu import` reads, so that an export imports back
//! unchanged.
//!
//! Records are written as they arrive, never gathered: a file goes to a hidden name beside
//! its destination and is renamed into place only when complete, so an interrupted export
//! never leaves a truncated file that looks whole.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use setu_proto::v1 as pb;
use setu_proto::v1::import_service_client::ImportServiceClient;
use tonic::Streaming;

use crate::cli::ExportArgs;
use crate::config::ClientConfig;
use crate::connect::connect_untimed;
use crate::error::ClientError;
use crate::output::{emit, MAX_MESSAGE_BYTES};
use crate::progress::Progress;
use crate::table::{Sink, TableFormat};

/// How many records that cannot be written exactly are named one by one on standard error.
const NAMED_INEXACT: u64 = 20;

/// What `setu export --out FILE` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// Records written.
    pub exported: u64,
    /// The file's format.
    pub format: TableFormat,
    /// The file written.
    pub out: String,
    /// Records with a field the format could not hold exactly (CSV only).
    pub inexact: u64,
}

/// Runs `setu export`: writes the records to `--out` (then prints a summary on `stdout`) or
/// to `stdout` (then the summary goes to standard error). Progress goes to standard error,
/// as a spinner when `terminal`.
pub async fn run(
    config: &ClientConfig,
    args: &ExportArgs,
    json: bool,
    terminal: bool,
    stdout: &mut (dyn Write + Send),
) -> Result<(), ClientError> {
    let format = args
        .format
        .or_else(|| args.out.as_deref().and_then(TableFormat::from_path))
        .unwrap_or(TableFormat::Csv);
    let mut client = ImportServiceClient::new(connect_untimed(config).await?)
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let mut stream = client
        .export(pb::ExportRequest { batch_size: 0 })
        .await?
        .into_inner();
    let mut progress = Progress::new("export", "records", None, terminal);
    let Some(path) = &args.out else {
        let mut buffered = BufWriter::new(stdout);
        let destination = Path::new("standard output");
        let written = write_records(
            &mut stream,
            format,
            &mut buffered,
            destination,
            &mut progress,
        )
        .await;
        progress.finish();
        let (exported, inexact) = written?;
        eprintln!("exported {exported} records{}", inexact_note(inexact));
        return Ok(());
    };
    let partial = partial_path(path);
    // The export holds personal data: readable by the officer alone (mode 0600).
    let file = crate::photos::private_file(&partial).map_err(|source| ClientError::File {
        action: "create",
        path: partial.clone(),
        source,
    })?;
    let mut file = BufWriter::new(file);
    let written = write_records(&mut stream, format, &mut file, &partial, &mut progress).await;
    progress.finish();
    let finished = written.and_then(|counts| {
        let file = file
            .into_inner()
            .map_err(|e| write_error(&partial, e.into_error()))?;
        file.sync_all().map_err(|e| write_error(&partial, e))?;
        std::fs::rename(&partial, path).map_err(|source| ClientError::File {
            action: "rename the finished export to",
            path: path.clone(),
            source,
        })?;
        Ok(counts)
    });
    let (exported, inexact) = match finished {
        Ok(counts) => counts,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    let summary = ExportSummary {
        exported,
        format,
        out: path.display().to_string(),
        inexact,
    };
    let text = emit(json, &summary, |s| {
        format!(
            "exported {} records to {}{}\n",
            s.exported,
            s.out,
            inexact_note(s.inexact)
        )
    })?;
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| write_error(Path::new("standard output"), e))
}

/// Writes every record of the stream to `out` (named `destination` in errors); returns how many were written and how many
/// of them the format could not hold exactly (each named on standard error, up to a limit).
async fn write_records(
    stream: &mut Streaming<pb::ExportBatch>,
    format: TableFormat,
    out: &mut dyn Write,
    destination: &Path,
    progress: &mut Progress,
) -> Result<(u64, u64), ClientError> {
    let mut sink = Sink::new(format, out).map_err(|e| write_error(destination, e))?;
    let mut exported = 0;
    let mut inexact = 0;
    while let Some(batch) = stream.message().await? {
        for record in &batch.records {
            if let Some(why) = sink.inexact(record) {
                inexact += 1;
                if inexact <= NAMED_INEXACT {
                    eprintln!("warning: record {} ({}): {why}", record.id, label(record));
                }
            }
            sink.write(record)
                .map_err(|e| write_error(destination, e))?;
            exported += 1;
        }
        progress.update(exported, 0);
    }
    sink.finish().map_err(|e| write_error(destination, e))?;
    Ok((exported, inexact))
}

/// How a record is named in a warning: its external reference, else its name.
fn label(record: &pb::PersonRecord) -> &str {
    if record.external_ref.is_empty() {
        &record.name
    } else {
        &record.external_ref
    }
}

/// The summary's note on records that could not be written exactly.
fn inexact_note(inexact: u64) -> String {
    if inexact == 0 {
        String::new()
    } else {
        format!(
            "; {inexact} of them have cases CSV cannot hold exactly (see the warnings; \
             --format jsonl keeps them)"
        )
    }
}

/// The hidden file an export is written to before it is renamed to `path`.
fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".to_string());
    path.with_file_name(format!(".{name}.partial"))
}

/// A failure to write the export.
fn write_error(path: &Path, source: std::io::Error) -> ClientError {
    ClientError::File {
        action: "write to",
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_files_are_hidden_beside_the_destination() {
        assert_eq!(
            partial_path(Path::new("/tmp/out/people.csv")),
            PathBuf::from("/tmp/out/.people.csv.partial")
        );
        assert_eq!(
            partial_path(Path::new("people.jsonl")),
            PathBuf::from(".people.jsonl.partial")
        );
    }

    #[test]
    fn records_are_named_by_their_reference_or_name() {
        let mut record = pb::PersonRecord {
            name: "Test Raju".into(),
            ..Default::default()
        };
        assert_eq!(label(&record), "Test Raju");
        record.external_ref = "DHN-TEST-1".into();
        assert_eq!(label(&record), "DHN-TEST-1");
    }
}
