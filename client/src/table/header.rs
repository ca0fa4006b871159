//! Which record field each column of a file (or key of a JSON line) stands for: the field's
//! own name by default, forgiving case, spaces and hyphens ("Father Name" is `father_name`),
//! or any other header named with `--map FIELD=HEADER`, so that a district's spreadsheet can
//! be imported with the headers it already has.
//!
//! Every problem with the header is found before a single row is sent.

use std::collections::HashMap;

use super::columns::Column;
use crate::error::ClientError;

/// One `--map FIELD=HEADER`: the file's header `header` holds the record field `column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    /// The record field.
    pub column: Column,
    /// The header in the file, as given.
    pub header: String,
}

/// Parses one `--map` entry, "FIELD=HEADER", e.g. `name=Naam` or `father_name=पिता`.
pub fn parse_map_entry(text: &str) -> Result<MapEntry, String> {
    let (field, header) = text
        .split_once('=')
        .ok_or_else(|| format!("expected FIELD=HEADER, e.g. name=Naam, not {text:?}"))?;
    let column = Column::from_name(&normalize(field)).ok_or_else(|| {
        format!(
            "{:?} is not a record field; the fields are {}",
            field.trim(),
            Column::all_names()
        )
    })?;
    if normalize(header).is_empty() {
        return Err(format!("no header given for {}", column.name()));
    }
    Ok(MapEntry {
        column,
        header: header.trim().to_string(),
    })
}

/// A header as it is compared: trimmed, without a byte-order mark, lower case, with spaces
/// and hyphens as underscores.
pub fn normalize(name: &str) -> String {
    name.trim_start_matches('\u{feff}')
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if matches!(c, ' ' | '-') { '_' } else { c })
        .collect()
}

/// The header names a file may use, with the `--map` entries taking precedence over the
/// fields' own names.
#[derive(Debug, Clone)]
pub struct Names {
    /// Field by normalised header.
    by_key: HashMap<String, Column>,
    /// The `--map` entries, to check that each header is present.
    mapped: Vec<MapEntry>,
}

impl Names {
    /// The names of every field plus the `--map` entries; refuses a field or a header mapped
    /// twice.
    pub fn new(map: &[MapEntry]) -> Result<Names, ClientError> {
        let mut by_key: HashMap<String, Column> = Column::ALL
            .into_iter()
            .map(|c| (c.name().to_string(), c))
            .collect();
        let mut seen: HashMap<Column, &str> = HashMap::new();
        let mut headers: HashMap<String, Column> = HashMap::new();
        for entry in map {
            if let Some(first) = seen.insert(entry.column, &entry.header) {
                return Err(ClientError::Input(format!(
                    "--map gives {} twice ({first} and {})",
                    entry.column.name(),
                    entry.header
                )));
            }
            let key = normalize(&entry.header);
            if let Some(other) = headers.insert(key.clone(), entry.column) {
                return Err(ClientError::Input(format!(
                    "--map maps header {:?} to both {} and {}",
                    entry.header,
                    other.name(),
                    entry.column.name()
                )));
            }
            by_key.insert(key, entry.column);
        }
        Ok(Names {
            by_key,
            mapped: map.to_vec(),
        })
    }

    /// The field a header (or JSON key) stands for.
    pub fn column(&self, name: &str) -> Option<Column> {
        self.by_key.get(&normalize(name)).copied()
    }

    /// Why a header is refused, with what to do about it.
    pub fn unknown(&self, name: &str) -> String {
        format!(
            "{:?} is not a record field; rename it to one of {}, or map it with --map FIELD={}",
            name.trim(),
            Column::all_names(),
            name.trim()
        )
    }
}

/// The header row of a CSV file: which field each column holds.
#[derive(Debug, Clone)]
pub struct Header {
    /// The field of each column; `None` for a column without a header, whose cells must stay
    /// empty (spreadsheets often save a few such columns at the right).
    pub columns: Vec<Option<Column>>,
}

impl Header {
    /// Maps the header cells of `source` to fields, refusing unknown headers, a field given
    /// twice, a `--map` header the file lacks, and a file without a name column.
    pub fn new(cells: &[String], names: &Names, source: &str) -> Result<Header, ClientError> {
        let bad = |why: String| ClientError::Input(format!("{source}: {why}"));
        let mut columns = Vec::with_capacity(cells.len());
        let mut first_of: HashMap<Column, usize> = HashMap::new();
        for (i, cell) in cells.iter().enumerate() {
            if normalize(cell).is_empty() {
                columns.push(None);
                continue;
            }
            let column = names
                .column(cell)
                .ok_or_else(|| bad(format!("column {}: {}", i + 1, names.unknown(cell))))?;
            if let Some(first) = first_of.insert(column, i) {
                return Err(bad(format!(
                    "columns {} ({:?}) and {} ({:?}) both give {}",
                    first + 1,
                    cells[first].trim(),
                    i + 1,
                    cell.trim(),
                    column.name()
                )));
            }
            columns.push(Some(column));
        }
        for entry in &names.mapped {
            let present = cells
                .iter()
                .any(|c| normalize(c) == normalize(&entry.header));
            if !present {
                return Err(bad(format!(
                    "--map {}={}: the file has no column {:?}; its columns are {}",
                    entry.column.name(),
                    entry.header,
                    entry.header,
                    cells
                        .iter()
                        .map(|c| format!("{:?}", c.trim()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        if !first_of.contains_key(&Column::Name) {
            return Err(bad(
                "the file has no name column; every record needs a name (map another header \
                 to it with --map name=HEADER)"
                    .to_string(),
            ));
        }
        Ok(Header { columns })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cells: &[&str], map: &[&str]) -> Result<Header, ClientError> {
        let map: Vec<MapEntry> = map
            .iter()
            .map(|m| parse_map_entry(m).map_err(ClientError::Input))
            .collect::<Result<_, _>>()?;
        let cells: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
        Header::new(&cells, &Names::new(&map)?, "people.csv")
    }

    #[test]
    fn field_names_match_forgivingly() -> Result<(), ClientError> {
        let h = header(&["\u{feff}Name", "Father Name", "birth-year", ""], &[])?;
        assert_eq!(
            h.columns,
            vec![
                Some(Column::Name),
                Some(Column::FatherName),
                Some(Column::BirthYear),
                None
            ]
        );
        Ok(())
    }

    #[test]
    fn map_names_other_headers() -> Result<(), ClientError> {
        let h = header(
            &["Naam", "Pita", "नाम", "status"],
            &["name=Naam", "father_name=pita", "name_local=नाम"],
        )?;
        assert_eq!(
            h.columns,
            vec![
                Some(Column::Name),
                Some(Column::FatherName),
                Some(Column::NameLocal),
                Some(Column::Status)
            ]
        );
        Ok(())
    }

    #[test]
    fn header_mistakes_are_refused_with_the_way_out() {
        let message = |r: Result<Header, ClientError>| r.err().map(|e| e.to_string());
        let unknown = message(header(&["name", "Mobile"], &[])).unwrap_or_default();
        assert!(unknown.starts_with("people.csv: column 2: \"Mobile\" is not a record field"));
        assert!(
            unknown.contains("external_ref, name, name_local"),
            "{unknown}"
        );
        assert!(unknown.contains("--map FIELD=Mobile"), "{unknown}");
        let twice = message(header(&["name", "Naam"], &["name=Naam"])).unwrap_or_default();
        assert!(twice.contains("both give name"), "{twice}");
        let missing = message(header(&["name"], &["father_name=Pita"])).unwrap_or_default();
        assert!(missing.contains("no column \"Pita\""), "{missing}");
        let nameless = message(header(&["phones"], &[])).unwrap_or_default();
        assert!(nameless.contains("no name column"), "{nameless}");
    }

    #[test]
    fn map_entries_are_checked() {
        assert!(parse_map_entry("name=Naam").is_ok());
        assert!(parse_map_entry("Father-Name=Pita").is_ok());
        assert!(parse_map_entry("nam=Naam").is_err_and(|e| e.contains("external_ref")));
        assert!(parse_map_entry("name").is_err());
        assert!(parse_map_entry("name= ").is_err());
        let twice = [
            MapEntry {
                column: Column::Name,
                header: "A".into(),
            },
            MapEntry {
                column: Column::Name,
                header: "B".into(),
            },
        ];
        assert!(Names::new(&twice).is_err());
    }
}
