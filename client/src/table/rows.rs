//! Rows as the readers hand them to the import: numbered, with the file line they start on,
//! each either a record to send or the cells that could not be read.
//!
//! "Row N" is the N-th record after the header (the N-th JSON object of a JSON Lines file);
//! its line is where it starts in the file, which differs when a quoted cell spans lines.

use setu_proto::v1 as pb;

use super::columns::CellError;
use crate::error::ClientError;

/// One row of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRow {
    /// The row number, from 1.
    pub row: u64,
    /// The line of the file the row starts on, from 1.
    pub line: u64,
    /// The record, or every cell that could not be read.
    pub record: Result<pb::PersonRecord, Vec<CellError>>,
}

/// A reader of rows: an iterator that also says how far into the file it has read.
///
/// An `Err` item is a failure that stops the import (the file cannot be read any more);
/// a bad row is an `Ok` item whose record is `Err`.
pub trait RowSource: Iterator<Item = Result<ParsedRow, ClientError>> + Send {
    /// Bytes of the file consumed so far, for progress.
    fn bytes_read(&self) -> u64;
}

/// Where each row starts in the file, kept small: only the rows where the distance between
/// row number and line number changes are stored (after a cell spanning lines, or blank
/// lines), so a million plain rows cost a few bytes.
#[derive(Debug, Clone, Default)]
pub struct LineMap {
    /// (first row, line minus row) from that row on, in row order.
    steps: Vec<(u64, u64)>,
}

impl LineMap {
    /// Notes that `row` starts on `line`; rows must be noted in order.
    pub fn note(&mut self, row: u64, line: u64) {
        let offset = line.saturating_sub(row);
        if self.steps.last().map(|&(_, o)| o) != Some(offset) {
            self.steps.push((row, offset));
        }
    }

    /// The line `row` starts on, or 0 when the row was never noted.
    pub fn line(&self, row: u64) -> u64 {
        let i = self.steps.partition_point(|&(first, _)| first <= row);
        match i.checked_sub(1).map(|i| self.steps[i]) {
            Some((_, offset)) => row + offset,
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_rows_and_their_jumps() {
        let mut map = LineMap::default();
        for row in 1..=5 {
            map.note(row, row + 1);
        }
        // Row 5 spans three lines, so row 6 starts two lines further on.
        for row in 6..=9 {
            map.note(row, row + 3);
        }
        assert_eq!(map.steps.len(), 2);
        assert_eq!(map.line(1), 2);
        assert_eq!(map.line(5), 6);
        assert_eq!(map.line(6), 9);
        assert_eq!(map.line(9), 12);
        assert_eq!(map.line(0), 0);
    }
}
