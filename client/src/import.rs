//! `setu import FILE`: a district's spreadsheet of records, CSV or JSON Lines, streamed to
//! the node's `ImportService/Import` in batches.
//!
//! The file is read on a blocking thread, one row at a time, into batches that go through a
//! short queue to the call, so reading is paced by sending and memory stays flat whatever
//! the file's size. Cells this client cannot read (a year that is not a number, an unknown
//! status word) make their row a rejection here, and the row is not sent; the node judges
//! the rest. The report merges both kinds of rejection by row number.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use futures::{Stream, StreamExt};
use prost::Message as _;
use serde::Serialize;
use setu_proto::v1 as pb;
use setu_proto::v1::import_request::Part;
use setu_proto::v1::import_service_client::ImportServiceClient;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};
use tonic::transport::Channel;

use crate::cli::ImportArgs;
use crate::config::ClientConfig;
use crate::connect::connect_untimed;
use crate::error::ClientError;
use crate::output::emit;
use crate::progress::Progress;
use crate::records::{render_likely_matches, LikelyMatchView};
use crate::table::{open_rows, LineMap, RowSource, TableFormat};

/// How many batches the reader may run ahead of the call.
const QUEUED_BATCHES: usize = 4;

/// A batch is sent once its records reach this many bytes, however few rows it has, to stay
/// well inside the node's message limit (4 MiB unless configured otherwise).
const BATCH_BYTES: usize = 1024 * 1024;

/// The largest report accepted from the node, which lists every row it refused.
const MAX_REPORT_BYTES: usize = 256 * 1024 * 1024;

/// Progress is reported at least every this many rows read, even when none are sent.
const PROGRESS_ROWS: u64 = 1_000;

/// The read buffer of the file.
const READ_BUFFER: usize = 256 * 1024;

/// A row that was not imported: refused by this client (a cell it could not read) or by the
/// node (a value outside the rules), with its number, its line in the file, the field at
/// fault and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The row number: 1 is the first record after the header.
    pub row: u64,
    /// The line of the file the row starts on; 0 when unknown.
    pub line: u64,
    /// The record field at fault, e.g. "birth_year" or "phones[1]"; empty for the whole row.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// What `setu import` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// The file imported.
    pub source: String,
    /// Whether nothing was stored.
    pub dry_run: bool,
    /// Rows read from the file (rows whose cells are all empty are not counted).
    pub rows: u64,
    /// New records created (or that would be).
    pub created: u64,
    /// Records (same external_ref) changed.
    pub updated: u64,
    /// Records (same external_ref) already identical.
    pub unchanged: u64,
    /// Rows refused.
    pub rejected: u64,
    /// Rows the node refused beyond the first 10 000 it lists (not in `errors`).
    pub unlisted: u64,
    /// Why each row was refused, by row number; a row may have several.
    pub errors: Vec<Rejection>,
    /// Ids of the records created or updated, in row order (the node lists at most 1 000).
    pub ids: Vec<String>,
    /// New rows that are probably people already known here or in a peer district (the
    /// node lists the first 1 000 such rows).
    pub likely_matches: Vec<RowMatchesView>,
    /// New rows the node did not compare with the existing records (it compares the
    /// first 10 000 new rows of an import).
    pub likely_matches_unchecked: u64,
}

/// The existing records that are probably the same person as one new row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowMatchesView {
    /// The row's number.
    pub row: u64,
    /// Its line in the file (0 if unknown).
    pub line: u64,
    /// The record the row created (empty in a dry run).
    pub id: String,
    /// The likely matches, best first.
    pub matches: Vec<LikelyMatchView>,
}

/// Runs `setu import`: checks the file's header, streams its rows and writes the report to
/// `out`. Returns [`ClientError::RowsRejected`] after the report when any row was refused.
/// Progress goes to standard error, as a bar when `terminal`.
pub async fn run(
    config: &ClientConfig,
    args: &ImportArgs,
    json: bool,
    terminal: bool,
    out: &mut dyn Write,
) -> Result<(), ClientError> {
    let format = format_of(args.format, &args.file)?;
    let (input, total_bytes) = open_input(&args.file)?;
    let rows = open_rows(format, input, &args.map, &display_path(&args.file))?;
    let channel = connect_untimed(config).await?;
    let job = Job {
        source: display_path(&args.file).display().to_string(),
        dry_run: args.dry_run,
        batch_rows: args.batch_rows as usize,
        total_bytes,
        terminal,
    };
    let report = send(channel, rows, &job).await?;
    let text = emit(json, &report, render)?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|source| ClientError::File {
            action: "write to",
            path: "standard output".into(),
            source,
        })?;
    if report.rejected > 0 {
        return Err(ClientError::RowsRejected {
            rejected: report.rejected,
            rows: report.rows,
            dry_run: report.dry_run,
        });
    }
    Ok(())
}

/// The format of `--format`, or the one the file's extension implies.
fn format_of(format: Option<TableFormat>, path: &Path) -> Result<TableFormat, ClientError> {
    if let Some(format) = format {
        return Ok(format);
    }
    if path == Path::new("-") {
        return Err(ClientError::Input(
            "reading standard input needs --format csv or --format jsonl".to_string(),
        ));
    }
    TableFormat::from_path(path).ok_or_else(|| {
        ClientError::Input(format!(
            "cannot tell the format of {} from its extension (.csv, .jsonl or .ndjson); \
             give --format csv or --format jsonl",
            path.display()
        ))
    })
}

/// How the file is named in messages.
fn display_path(path: &Path) -> PathBuf {
    if path == Path::new("-") {
        PathBuf::from("standard input")
    } else {
        path.to_path_buf()
    }
}

/// The file (or standard input for "-"), buffered, and its size when it is a regular file.
fn open_input(path: &Path) -> Result<(Box<dyn BufRead + Send>, Option<u64>), ClientError> {
    if path == Path::new("-") {
        let stdin = BufReader::with_capacity(READ_BUFFER, std::io::stdin());
        return Ok((Box::new(stdin), None));
    }
    let file = File::open(path).map_err(|source| ClientError::File {
        action: "open",
        path: path.to_path_buf(),
        source,
    })?;
    let size = file
        .metadata()
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len());
    Ok((Box::new(BufReader::with_capacity(READ_BUFFER, file)), size))
}

/// What one import needs besides its rows.
struct Job {
    /// The file's name, for the node's audit trail and the report.
    source: String,
    dry_run: bool,
    batch_rows: usize,
    total_bytes: Option<u64>,
    terminal: bool,
}

/// What the reader hands the call.
enum Message {
    /// The next rows to send.
    Batch(Vec<pb::ImportRow>),
    /// The file cannot be read any further: the call must not end as if it were complete.
    Failed,
}

/// What the reader found, besides the rows it sent.
#[derive(Debug, Default)]
struct Read {
    /// Rows read.
    rows: u64,
    /// Rows this client refused.
    errors: Vec<Rejection>,
    /// The line of each row.
    lines: LineMap,
    /// Whether the whole file was read and queued.
    complete: bool,
}

/// Streams the rows to the node and builds the report from its answer and the reader's.
async fn send(
    channel: Channel,
    rows: Box<dyn RowSource>,
    job: &Job,
) -> Result<ImportReport, ClientError> {
    let mut client = ImportServiceClient::new(channel).max_decoding_message_size(MAX_REPORT_BYTES);
    let (queue, queued) = mpsc::channel(QUEUED_BATCHES);
    let (stop, stopped) = watch::channel(false);
    let progress = Progress::new("import", "rows", job.total_bytes, job.terminal);
    let handle = Handle::current();
    let batch_rows = job.batch_rows;
    let mut reader = tokio::task::spawn_blocking(move || {
        read_rows(rows, &queue, batch_rows, progress, stopped, &handle)
    });
    let header = pb::ImportRequest {
        part: Some(Part::Header(pb::ImportHeader {
            dry_run: job.dry_run,
            source: job.source.clone(),
        })),
    };
    let body = futures::stream::once(async move { header }).chain(batches(queued));
    let call = client.import(body);
    tokio::pin!(call);
    let (response, read) = tokio::select! {
        response = &mut call => {
            // Normally the node answers once the whole file is sent; earlier only when it
            // refuses the import itself. Either way the reader stops at its next batch.
            let _ = stop.send(true);
            let read = joined(reader.await);
            (response, read)
        }
        read = &mut reader => {
            // Returning early here drops the call, which cancels it: a file that broke off
            // is never reported to the node as complete.
            let read = joined(read)?;
            (call.await, Ok(read))
        }
    };
    let response = response?.into_inner();
    let read = read?;
    if !read.complete {
        return Err(ClientError::Protocol(
            "the node answered before the whole file was sent".to_string(),
        ));
    }
    Ok(report(job, read, response))
}

/// The reader's result, with a failed thread as an error.
fn joined(
    result: Result<Result<Read, ClientError>, tokio::task::JoinError>,
) -> Result<Read, ClientError> {
    result.map_err(|e| ClientError::Protocol(format!("the file reader failed: {e}")))?
}

/// The import's messages after the header: one per batch queued by the reader. After
/// [`Message::Failed`] the stream never ends, so the call cannot complete normally.
fn batches(
    queued: mpsc::Receiver<Message>,
) -> impl Stream<Item = pb::ImportRequest> + Send + 'static {
    futures::stream::unfold(queued, |mut queued| async move {
        match queued.recv().await {
            Some(Message::Batch(rows)) => {
                let request = pb::ImportRequest {
                    part: Some(Part::Batch(pb::ImportBatch { rows })),
                };
                Some((request, queued))
            }
            Some(Message::Failed) => {
                std::future::pending::<()>().await;
                None
            }
            None => None,
        }
    })
}

/// Reads every row, queues the good ones in batches and keeps the refused ones; runs on a
/// blocking thread. Stops early, incomplete, when `stopped` turns true or the call is gone.
fn read_rows(
    mut rows: Box<dyn RowSource>,
    queue: &mpsc::Sender<Message>,
    batch_rows: usize,
    mut progress: Progress,
    mut stopped: watch::Receiver<bool>,
    handle: &Handle,
) -> Result<Read, ClientError> {
    let mut read = Read::default();
    let mut batch = Vec::with_capacity(batch_rows);
    let mut batch_bytes = 0;
    loop {
        let row = match rows.next() {
            Some(Ok(row)) => row,
            Some(Err(error)) => {
                progress.finish();
                deliver(handle, queue, &mut stopped, Message::Failed);
                return Err(broken_off(error, read.rows));
            }
            None => break,
        };
        read.rows += 1;
        read.lines.note(row.row, row.line);
        match row.record {
            Ok(record) => {
                batch_bytes += record.encoded_len();
                batch.push(pb::ImportRow {
                    row: row.row,
                    record: Some(record),
                });
            }
            Err(cells) => read.errors.extend(cells.into_iter().map(|cell| Rejection {
                row: row.row,
                line: row.line,
                field: cell.field,
                reason: cell.reason,
            })),
        }
        if batch.len() >= batch_rows || batch_bytes >= BATCH_BYTES {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_rows));
            batch_bytes = 0;
            if !deliver(handle, queue, &mut stopped, Message::Batch(full)) {
                progress.finish();
                return Ok(read);
            }
        }
        if read.rows % PROGRESS_ROWS == 0 {
            progress.update(read.rows, rows.bytes_read());
        }
    }
    progress.update(read.rows, rows.bytes_read());
    progress.finish();
    if !batch.is_empty() && !deliver(handle, queue, &mut stopped, Message::Batch(batch)) {
        return Ok(read);
    }
    read.complete = true;
    Ok(read)
}

/// Queues a message, waiting while the queue is full; false when the import was stopped or
/// the call is gone.
fn deliver(
    handle: &Handle,
    queue: &mpsc::Sender<Message>,
    stopped: &mut watch::Receiver<bool>,
    message: Message,
) -> bool {
    handle.block_on(async {
        tokio::select! {
            sent = queue.send(message) => sent.is_ok(),
            _ = stopped.wait_for(|stop| *stop) => false,
        }
    })
}

/// A file that broke off mid-way, saying what may already be stored.
fn broken_off(error: ClientError, rows: u64) -> ClientError {
    if rows == 0 {
        return error;
    }
    ClientError::Input(format!(
        "{error}; the import was cancelled after {rows} rows, some of which the node may have \
         stored: fix the file and import it again (rows with an external_ref are then updated, \
         not duplicated)"
    ))
}

/// The report: the node's counts, and every rejection by row.
fn report(job: &Job, read: Read, response: pb::ImportResponse) -> ImportReport {
    let Read {
        rows,
        mut errors,
        lines,
        ..
    } = read;
    let unlisted = response.rejected_unlisted;
    errors.extend(response.rejected.into_iter().map(|e| Rejection {
        row: e.row,
        line: lines.line(e.row),
        field: column_name(e.field),
        reason: e.reason,
    }));
    errors.sort_by_key(|e| e.row);
    let mut rejected = 0;
    let mut last = None;
    for error in &errors {
        if last != Some(error.row) {
            rejected += 1;
            last = Some(error.row);
        }
    }
    ImportReport {
        source: job.source.clone(),
        dry_run: response.dry_run,
        rows,
        created: response.created,
        updated: response.updated,
        unchanged: response.unchanged,
        // The node lists its first 10 000 rejections and counts the rest.
        rejected: rejected + unlisted,
        unlisted,
        errors,
        ids: response.ids,
        likely_matches: response
            .likely_matches
            .into_iter()
            .map(|m| RowMatchesView {
                row: m.row,
                line: lines.line(m.row),
                id: m.id,
                matches: m
                    .likely_matches
                    .into_iter()
                    .map(LikelyMatchView::from)
                    .collect(),
            })
            .collect(),
        likely_matches_unchecked: response.likely_matches_unchecked,
    }
}

/// The node names fields as the record message does; the one column named otherwise is
/// `review_by` (the message's `review_by_ms`), so that the report names what the file has.
fn column_name(field: String) -> String {
    if field == "review_by_ms" {
        "review_by".to_string()
    } else {
        field
    }
}

/// The report as text: the counts, then each rejection on its own line.
fn render(report: &ImportReport) -> String {
    let counts = format!(
        "{} new, {} updated, {} unchanged, {} rejected",
        report.created, report.updated, report.unchanged, report.rejected
    );
    let mut text = if report.dry_run {
        format!("dry run, nothing stored: would import {counts}\n")
    } else {
        format!("imported {counts}\n")
    };
    for error in &report.errors {
        text.push_str(&format!("row {}", error.row));
        if error.line != 0 {
            text.push_str(&format!(" (line {})", error.line));
        }
        text.push_str(": ");
        if !error.field.is_empty() {
            text.push_str(&error.field);
            text.push_str(": ");
        }
        text.push_str(&error.reason);
        text.push('\n');
    }
    if report.unlisted > 0 {
        text.push_str(&format!(
            "... and {} more rejected rows the node did not list; fix the rows above and import again to see them\n",
            report.unlisted
        ));
    }
    for row in &report.likely_matches {
        text.push_str(&format!("row {}", row.row));
        if row.line != 0 {
            text.push_str(&format!(" (line {})", row.line));
        }
        if !row.id.is_empty() {
            text.push_str(&format!(", record {}", row.id));
        }
        text.push_str(":\n");
        text.push_str(&render_likely_matches(&row.matches, "  "));
    }
    if report.likely_matches_unchecked > 0 {
        text.push_str(&format!(
            "{} new rows after the first 10 000 were not compared with the existing records\n",
            report.likely_matches_unchecked
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            source: "people.csv".into(),
            dry_run: false,
            batch_rows: 1000,
            total_bytes: None,
            terminal: false,
        }
    }

    #[test]
    fn client_and_node_rejections_merge_by_row() {
        let mut lines = LineMap::default();
        for row in 1..=6 {
            lines.note(row, row + 1);
        }
        let read = Read {
            rows: 6,
            errors: vec![
                Rejection {
                    row: 5,
                    line: 6,
                    field: "birth_year".into(),
                    reason: "'abc' is not a year".into(),
                },
                Rejection {
                    row: 5,
                    line: 6,
                    field: "status".into(),
                    reason: "'x' is not a status".into(),
                },
            ],
            lines,
            complete: true,
        };
        let response = pb::ImportResponse {
            created: 3,
            rejected: vec![
                pb::RowError {
                    row: 2,
                    field: "phones[0]".into(),
                    reason: "not a phone number".into(),
                },
                pb::RowError {
                    row: 6,
                    field: "review_by_ms".into(),
                    reason: "must be in the future".into(),
                },
            ],
            ..Default::default()
        };
        let report = report(&job(), read, response);
        assert_eq!(report.rejected, 3);
        let rows: Vec<u64> = report.errors.iter().map(|e| e.row).collect();
        assert_eq!(rows, vec![2, 5, 5, 6]);
        assert_eq!(report.errors[0].line, 3);
        let text = render(&report);
        assert_eq!(
            text,
            "imported 3 new, 0 updated, 0 unchanged, 3 rejected\n\
             row 2 (line 3): phones[0]: not a phone number\n\
             row 5 (line 6): birth_year: 'abc' is not a year\n\
             row 5 (line 6): status: 'x' is not a status\n\
             row 6 (line 7): review_by: must be in the future\n"
        );
    }

    #[test]
    fn dry_runs_say_so() {
        let response = pb::ImportResponse {
            created: 2,
            dry_run: true,
            ..Default::default()
        };
        let text = render(&report(&job(), Read::default(), response));
        assert_eq!(
            text,
            "dry run, nothing stored: would import 2 new, 0 updated, 0 unchanged, 0 rejected\n"
        );
    }

    #[test]
    fn formats_come_from_the_flag_or_the_extension() {
        assert_eq!(
            format_of(None, Path::new("people.CSV")).ok(),
            Some(TableFormat::Csv)
        );
        assert_eq!(
            format_of(None, Path::new("people.ndjson")).ok(),
            Some(TableFormat::Jsonl)
        );
        assert_eq!(
            format_of(Some(TableFormat::Csv), Path::new("-")).ok(),
            Some(TableFormat::Csv)
        );
        assert!(format_of(None, Path::new("-")).is_err());
        assert!(format_of(None, Path::new("people.xlsx")).is_err());
    }
}
