//! CSV files: the rows of an import, read one at a time so that a file of any size costs
//! the same memory, and the records of an export, written with a header of every column.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use setu_proto::v1 as pb;

use super::columns::{CellError, Column};
use super::header::{Header, Names};
use super::rows::{ParsedRow, RowSource};
use crate::error::ClientError;

/// What a cell that is not UTF-8 is told.
const NOT_UTF8: &str = "is not UTF-8 text; save the file as \"CSV UTF-8\"";

/// The rows of a CSV file after its header row.
pub struct CsvRows<R: Read> {
    reader: csv::Reader<R>,
    header: Header,
    /// The row being read, reused to spare an allocation per row.
    record: csv::ByteRecord,
    /// The number of the last row read.
    row: u64,
    /// The file, for errors.
    source: PathBuf,
}

impl<R: Read> CsvRows<R> {
    /// Reads and checks the header row of `input` (named `source` in errors).
    pub fn new(input: R, names: &Names, source: &Path) -> Result<Self, ClientError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(input);
        let name = source.display().to_string();
        let header_cells = reader
            .byte_headers()
            .map_err(|e| read_error(source, e))?
            .clone();
        if header_cells.is_empty() {
            return Err(ClientError::Input(format!(
                "{name}: the file is empty; expected a header row naming the columns, e.g. \
                 \"external_ref,name,father_name\""
            )));
        }
        let cells: Vec<String> = header_cells
            .iter()
            .map(|cell| std::str::from_utf8(cell).map(str::to_string))
            .collect::<Result<_, _>>()
            .map_err(|_| ClientError::Input(format!("{name}: the header row {NOT_UTF8}")))?;
        let header = Header::new(&cells, names, &name)?;
        Ok(CsvRows {
            reader,
            header,
            record: csv::ByteRecord::new(),
            row: 0,
            source: source.to_path_buf(),
        })
    }

    /// The record of the current row, or every cell that could not be read.
    fn parse(&self) -> Result<pb::PersonRecord, Vec<CellError>> {
        let mut record = pb::PersonRecord::default();
        let mut errors = Vec::new();
        for (i, cell) in self.record.iter().enumerate() {
            match self.header.columns.get(i) {
                Some(Some(column)) => {
                    let result = match std::str::from_utf8(cell) {
                        Ok(text) => column.set(&mut record, text),
                        Err(_) => Err(CellError {
                            field: column.name().to_string(),
                            reason: NOT_UTF8.to_string(),
                        }),
                    };
                    if let Err(e) = result {
                        errors.push(e);
                    }
                }
                Some(None) if !is_blank(cell) => errors.push(CellError {
                    field: format!("column {}", i + 1),
                    reason: "the column has no header; name it or leave its cells empty"
                        .to_string(),
                }),
                None if !is_blank(cell) => {
                    errors.push(CellError {
                        field: format!("column {}", i + 1),
                        reason: format!(
                            "the row has {} cells; the header has {}",
                            self.record.len(),
                            self.header.columns.len()
                        ),
                    });
                    break;
                }
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(record)
        } else {
            Err(errors)
        }
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = Result<ParsedRow, ClientError>;

    /// The next row; rows whose cells are all empty are skipped (keeping their number).
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(read_error(&self.source, e))),
            }
            self.row += 1;
            if self.record.iter().all(is_blank) {
                continue;
            }
            let line = self.record.position().map_or(0, csv::Position::line);
            return Some(Ok(ParsedRow {
                row: self.row,
                line,
                record: self.parse(),
            }));
        }
    }
}

impl<R: Read + Send> RowSource for CsvRows<R> {
    fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }
}

/// Whether a cell holds nothing but spaces.
fn is_blank(cell: &[u8]) -> bool {
    cell.iter().all(u8::is_ascii_whitespace)
}

/// A failure to read the file: the operating system's, or the CSV reader's with its line.
fn read_error(source: &Path, error: csv::Error) -> ClientError {
    let line = error.position().map(csv::Position::line);
    match error.into_kind() {
        csv::ErrorKind::Io(source_error) => ClientError::File {
            action: "read",
            path: source.to_path_buf(),
            source: source_error,
        },
        other => ClientError::Input(format!(
            "{}{}: {other:?}",
            source.display(),
            line.map(|l| format!(" line {l}")).unwrap_or_default()
        )),
    }
}

/// Writes records as CSV: a header row of every column, then one row per record.
pub struct CsvSink<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> CsvSink<W> {
    /// Starts the file with its header row.
    pub fn new(out: W) -> std::io::Result<Self> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(Column::ALL.map(Column::name))?;
        Ok(CsvSink { writer })
    }

    /// Writes one record as a row.
    pub fn write(&mut self, record: &pb::PersonRecord) -> std::io::Result<()> {
        self.writer
            .write_record(Column::ALL.map(|c| c.cell(record)))
            .map_err(std::io::Error::from)
    }

    /// Flushes the rows and hands back the writer.
    pub fn finish(self) -> std::io::Result<W> {
        self.writer.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::columns::tests::sample;
    use crate::table::header::{parse_map_entry, Names};

    fn rows(text: &str, map: &[&str]) -> Result<Vec<ParsedRow>, ClientError> {
        let map: Vec<_> = map
            .iter()
            .map(|m| parse_map_entry(m).map_err(ClientError::Input))
            .collect::<Result<_, _>>()?;
        CsvRows::new(text.as_bytes(), &Names::new(&map)?, Path::new("people.csv"))?.collect()
    }

    #[test]
    fn rows_are_numbered_and_bad_cells_reported() -> Result<(), ClientError> {
        let text = "name,birth_year,status,aliases\n\
                    Test Raju,1991,wanted,Kalua;Raju Bhai\n\
                    Test Sunil,abc,fugitive,\n\
                    ,,,\n\
                    \"Test\nMohan\",1980,,\n\
                    Test Kumar,1985,arrested,,extra\n";
        let rows = rows(text, &[])?;
        assert_eq!(rows.len(), 4);
        let first = rows[0]
            .record
            .clone()
            .map_err(|_| ClientError::Input("bad".into()))?;
        assert_eq!(first.aliases, vec!["Kalua", "Raju Bhai"]);
        assert_eq!((rows[0].row, rows[0].line), (1, 2));
        let errors = rows[1].record.clone().err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["birth_year", "status"]);
        // Row 3 is all empty: skipped, but it keeps its number.
        assert_eq!((rows[2].row, rows[2].line), (4, 5));
        assert!(rows[2].record.is_ok());
        assert_eq!((rows[3].row, rows[3].line), (5, 7));
        let extra = rows[3].record.clone().err().unwrap_or_default();
        assert_eq!(extra[0].field, "column 5");
        Ok(())
    }

    #[test]
    fn mapped_headers_and_devanagari() -> Result<(), ClientError> {
        let text = "Naam,Pita,name_local\nTest Raju,Imaginary Lal,टेस्ट राजू\n";
        let rows = rows(text, &["name=Naam", "father_name=Pita"])?;
        let record = rows[0]
            .record
            .clone()
            .map_err(|_| ClientError::Input("bad".into()))?;
        assert_eq!(record.name, "Test Raju");
        assert_eq!(record.father_name, "Imaginary Lal");
        assert_eq!(record.name_local, "टेस्ट राजू");
        Ok(())
    }

    #[test]
    fn cells_that_are_not_utf8_are_row_errors() -> Result<(), ClientError> {
        let bytes: &[u8] = b"name,father_name\nTest Raju,Imaginary \xe9\n";
        let rows: Vec<ParsedRow> = CsvRows::new(bytes, &Names::new(&[])?, Path::new("people.csv"))?
            .collect::<Result<_, _>>()?;
        let errors = rows[0].record.clone().err().unwrap_or_default();
        assert_eq!(errors[0].field, "father_name");
        assert!(errors[0].reason.contains("UTF-8"));
        Ok(())
    }

    #[test]
    fn written_rows_read_back_the_same() -> Result<(), ClientError> {
        let records = vec![
            sample(),
            pb::PersonRecord {
                name: "Test \"Quoted\", Name\nSecond line".into(),
                ..Default::default()
            },
        ];
        let mut sink = CsvSink::new(Vec::new()).map_err(|e| ClientError::Input(e.to_string()))?;
        for record in &records {
            sink.write(record)
                .map_err(|e| ClientError::Input(e.to_string()))?;
        }
        let bytes = sink
            .finish()
            .map_err(|e| ClientError::Input(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|e| ClientError::Input(e.to_string()))?;
        assert!(
            text.starts_with("external_ref,name,name_local,aliases,"),
            "{text}"
        );
        let read: Vec<pb::PersonRecord> = rows(&text, &[])?
            .into_iter()
            .map(|r| r.record.map_err(|e| ClientError::Input(format!("{e:?}"))))
            .collect::<Result<_, _>>()?;
        assert_eq!(read, records);
        Ok(())
    }
}
