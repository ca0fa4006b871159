//! The record fields an import or export file carries as columns (CSV) or keys (JSON Lines),
//! and how each one's cell becomes part of a `PersonRecord` and back. Import and export
//! both go through this one table, so that `setu export` writes exactly what `setu import`
//! reads.

use serde_json::Value;
use setu_proto::v1 as pb;

use super::cells::{
    escape, format_time, join_list, list, number, quote, rupees, split_raw, time_ms, unescape, word,
};
use crate::parse::parse_case;
use crate::view::{AddressView, CaseView};
use crate::words::{Gender, Handling, Status, Warning};

/// A cell that could not be read: the record field at fault (e.g. "birth_year" or
/// "cases[1]") and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// The record field, as the node would name it.
    pub field: String,
    /// What is wrong, quoting the cell.
    pub reason: String,
}

/// One record field that a file may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// The district's own dossier number; the key that makes a re-import update.
    ExternalRef,
    /// The name as written.
    Name,
    /// The name in a local script.
    NameLocal,
    /// Other names, `;`-separated.
    Aliases,
    /// The father's name.
    FatherName,
    /// A gender word.
    Gender,
    /// The year of birth.
    BirthYear,
    /// The lower bound of the age range.
    AgeMin,
    /// The upper bound of the age range.
    AgeMax,
    /// Addresses, `|`-separated, each "locality, police station, district, state".
    Addresses,
    /// Identifying marks, `;`-separated.
    IdentifyingMarks,
    /// Phone numbers, `;`-separated.
    Phones,
    /// Vehicle registrations, `;`-separated.
    Vehicles,
    /// A status word.
    Status,
    /// The reward in rupees.
    RewardInr,
    /// Warning words, `;`-separated.
    Warnings,
    /// Linked FIRs, `|`-separated, each in the `--case` format.
    Cases,
    /// Ids of associated records, `;`-separated.
    Associates,
    /// A handling word.
    Handling,
    /// The review date.
    ReviewBy,
}

impl Column {
    /// Every column, in the order an export writes them.
    pub const ALL: [Column; 20] = [
        Column::ExternalRef,
        Column::Name,
        Column::NameLocal,
        Column::Aliases,
        Column::FatherName,
        Column::Gender,
        Column::BirthYear,
        Column::AgeMin,
        Column::AgeMax,
        Column::Addresses,
        Column::IdentifyingMarks,
        Column::Phones,
        Column::Vehicles,
        Column::Status,
        Column::RewardInr,
        Column::Warnings,
        Column::Cases,
        Column::Associates,
        Column::Handling,
        Column::ReviewBy,
    ];

    /// The column's header: the record field's name.
    pub fn name(self) -> &'static str {
        match self {
            Column::ExternalRef => "external_ref",
            Column::Name => "name",
            Column::NameLocal => "name_local",
            Column::Aliases => "aliases",
            Column::FatherName => "father_name",
            Column::Gender => "gender",
            Column::BirthYear => "birth_year",
            Column::AgeMin => "age_min",
            Column::AgeMax => "age_max",
            Column::Addresses => "addresses",
            Column::IdentifyingMarks => "identifying_marks",
            Column::Phones => "phones",
            Column::Vehicles => "vehicles",
            Column::Status => "status",
            Column::RewardInr => "reward_inr",
            Column::Warnings => "warnings",
            Column::Cases => "cases",
            Column::Associates => "associates",
            Column::Handling => "handling",
            Column::ReviewBy => "review_by",
        }
    }

    /// Every column's name, comma-separated, for messages.
    pub fn all_names() -> String {
        Column::ALL.map(Column::name).join(", ")
    }

    /// The column named exactly `name`.
    pub fn from_name(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.name() == name)
    }

    /// A refusal of this column's cell.
    fn refuse(self, reason: String) -> CellError {
        CellError {
            field: self.name().to_string(),
            reason,
        }
    }

    /// Sets this field of `record` from a cell's text; an empty cell leaves it unset.
    pub fn set(self, record: &mut pb::PersonRecord, cell: &str) -> Result<(), CellError> {
        let text = || cell.trim().to_string();
        match self {
            Column::ExternalRef => record.external_ref = text(),
            Column::Name => record.name = text(),
            Column::NameLocal => record.name_local = text(),
            Column::FatherName => record.father_name = text(),
            Column::Aliases => record.aliases = list(cell),
            Column::IdentifyingMarks => record.identifying_marks = list(cell),
            Column::Phones => record.phones = list(cell),
            Column::Vehicles => record.vehicles = list(cell),
            Column::Associates => record.associates = list(cell),
            Column::BirthYear => {
                record.birth_year = number(cell, "a year").map_err(|e| self.refuse(e))?;
            }
            Column::AgeMin | Column::AgeMax => {
                let age = number(cell, "an age in years").map_err(|e| self.refuse(e))?;
                match self {
                    Column::AgeMin => record.age_min = age,
                    _ => record.age_max = age,
                }
            }
            Column::RewardInr => record.reward_inr = rupees(cell).map_err(|e| self.refuse(e))?,
            Column::Gender => {
                record.gender = self.word(gender_letter(cell), Gender::ALL, Gender::word)?;
            }
            Column::Status => record.status = self.word(cell, Status::ALL, Status::word)?,
            Column::Handling => {
                record.handling = self.word(cell, Handling::ALL, Handling::word)?;
            }
            Column::Warnings => {
                record.warnings = list(cell)
                    .iter()
                    .enumerate()
                    .map(|(i, w)| warning(i, w))
                    .collect::<Result<_, _>>()?;
            }
            Column::ReviewBy if cell.trim().is_empty() => record.review_by_ms = 0,
            Column::ReviewBy => record.review_by_ms = time_ms(cell).map_err(|e| self.refuse(e))?,
            Column::Cases => record.cases = pieces(cell).map(case).collect::<Result<_, _>>()?,
            Column::Addresses => {
                record.addresses = pieces(cell).map(address).collect::<Result<_, _>>()?;
            }
        }
        Ok(())
    }

    /// An enum word's protobuf number; an empty cell is 0 (unspecified).
    fn word<T: Copy + ToProto>(
        self,
        cell: &str,
        all: &[T],
        word_of: fn(T) -> &'static str,
    ) -> Result<i32, CellError> {
        if cell.trim().is_empty() {
            return Ok(0);
        }
        word(cell, all, word_of, self.name())
            .map(ToProto::number)
            .map_err(|e| self.refuse(e))
    }

    /// Sets this field of `record` from a JSON value: text reads as a cell does, numbers and
    /// lists (for the multi-valued fields) as themselves, cases and addresses also as the
    /// objects `record show --json` prints; `null` leaves the field unset.
    pub fn set_json(self, record: &mut pb::PersonRecord, value: &Value) -> Result<(), CellError> {
        match value {
            Value::Null => Ok(()),
            Value::String(text) => self.set(record, text),
            Value::Number(n) => self.set(record, &n.to_string()),
            Value::Array(items) if self.is_list() => self.set_json_list(record, items),
            Value::Array(_) => Err(self.refuse("expected one value, not a list".to_string())),
            Value::Bool(_) | Value::Object(_) => Err(self.refuse(format!(
                "expected {}",
                if self.is_list() {
                    "a list or text"
                } else {
                    "text or a number"
                }
            ))),
        }
    }

    /// Whether the field holds a list.
    fn is_list(self) -> bool {
        matches!(
            self,
            Column::Aliases
                | Column::IdentifyingMarks
                | Column::Phones
                | Column::Vehicles
                | Column::Associates
                | Column::Warnings
                | Column::Cases
                | Column::Addresses
        )
    }

    /// Sets a multi-valued field from a JSON array: each item is one value, taken whole.
    fn set_json_list(
        self,
        record: &mut pb::PersonRecord,
        items: &[Value],
    ) -> Result<(), CellError> {
        let item_error = |i: usize, reason: &str| CellError {
            field: format!("{}[{i}]", self.name()),
            reason: reason.to_string(),
        };
        let texts = || -> Result<Vec<String>, CellError> {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                    Value::String(_) | Value::Null => {}
                    Value::Number(n) => out.push(n.to_string()),
                    _ => return Err(item_error(i, "expected text")),
                }
            }
            Ok(out)
        };
        match self {
            Column::Aliases => record.aliases = texts()?,
            Column::IdentifyingMarks => record.identifying_marks = texts()?,
            Column::Phones => record.phones = texts()?,
            Column::Vehicles => record.vehicles = texts()?,
            Column::Associates => record.associates = texts()?,
            Column::Warnings => {
                record.warnings = texts()?
                    .iter()
                    .enumerate()
                    .map(|(i, w)| warning(i, w))
                    .collect::<Result<_, _>>()?;
            }
            Column::Cases => {
                let mut cases = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let view = match item {
                        Value::String(text) => parse_case(text).map_err(|e| item_error(i, &e))?,
                        Value::Object(_) => serde_json::from_value::<CaseView>(item.clone())
                            .map_err(|e| item_error(i, &e.to_string()))?,
                        _ => return Err(item_error(i, "expected text or an object")),
                    };
                    cases.push(view.to_proto());
                }
                record.cases = cases;
            }
            Column::Addresses => {
                let mut addresses = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let view = match item {
                        Value::String(text) => address_view(text).map_err(|e| item_error(i, &e))?,
                        Value::Object(_) => serde_json::from_value::<AddressView>(item.clone())
                            .map_err(|e| item_error(i, &e.to_string()))?,
                        _ => return Err(item_error(i, "expected text or an object")),
                    };
                    addresses.push(view.to_proto());
                }
                record.addresses = addresses;
            }
            _ => return Err(self.refuse("expected one value, not a list".to_string())),
        }
        Ok(())
    }

    /// This field of `record` as a cell that [`Column::set`] reads back; empty when unset.
    pub fn cell(self, record: &pb::PersonRecord) -> String {
        let count = |n: u64| if n == 0 { String::new() } else { n.to_string() };
        match self {
            Column::ExternalRef => record.external_ref.clone(),
            Column::Name => record.name.clone(),
            Column::NameLocal => record.name_local.clone(),
            Column::FatherName => record.father_name.clone(),
            Column::Aliases => join_list(&record.aliases),
            Column::IdentifyingMarks => join_list(&record.identifying_marks),
            Column::Phones => join_list(&record.phones),
            Column::Vehicles => join_list(&record.vehicles),
            Column::Associates => join_list(&record.associates),
            Column::BirthYear => count(record.birth_year.into()),
            Column::AgeMin => count(record.age_min.into()),
            Column::AgeMax => count(record.age_max.into()),
            Column::RewardInr => count(record.reward_inr),
            Column::Gender => word_text(Gender::from_proto(record.gender).map(Gender::word)),
            Column::Status => word_text(Status::from_proto(record.status).map(Status::word)),
            Column::Handling => {
                word_text(Handling::from_proto(record.handling).map(Handling::word))
            }
            Column::Warnings => record
                .warnings
                .iter()
                .filter_map(|w| Warning::from_proto(*w))
                .map(Warning::word)
                .collect::<Vec<_>>()
                .join("; "),
            Column::ReviewBy if record.review_by_ms == 0 => String::new(),
            Column::ReviewBy => format_time(record.review_by_ms),
            Column::Cases => record
                .cases
                .iter()
                .map(|c| escape(&case_text(c), &['|']))
                .collect::<Vec<_>>()
                .join(" | "),
            Column::Addresses => record
                .addresses
                .iter()
                .map(address_text)
                .collect::<Vec<_>>()
                .join(" | "),
        }
    }

    /// This field of `record` as a JSON value that [`Column::set_json`] reads back; `None`
    /// when unset. Lists are arrays; cases and addresses are objects.
    pub fn json(self, record: &pb::PersonRecord) -> Option<Value> {
        let strings = |values: &[String]| {
            (!values.is_empty())
                .then(|| Value::Array(values.iter().cloned().map(Value::String).collect()))
        };
        match self {
            Column::Aliases => strings(&record.aliases),
            Column::IdentifyingMarks => strings(&record.identifying_marks),
            Column::Phones => strings(&record.phones),
            Column::Vehicles => strings(&record.vehicles),
            Column::Associates => strings(&record.associates),
            Column::Warnings => {
                let words: Vec<String> = record
                    .warnings
                    .iter()
                    .filter_map(|w| Warning::from_proto(*w))
                    .map(|w| w.word().to_string())
                    .collect();
                strings(&words)
            }
            Column::BirthYear | Column::AgeMin | Column::AgeMax | Column::RewardInr => {
                let n = match self {
                    Column::BirthYear => record.birth_year.into(),
                    Column::AgeMin => record.age_min.into(),
                    Column::AgeMax => record.age_max.into(),
                    _ => record.reward_inr,
                };
                (n != 0).then(|| Value::from(n))
            }
            Column::Cases => (!record.cases.is_empty()).then(|| {
                let cases: Vec<CaseView> =
                    record.cases.iter().cloned().map(CaseView::from).collect();
                serde_json::to_value(cases).unwrap_or(Value::Null)
            }),
            Column::Addresses => (!record.addresses.is_empty()).then(|| {
                let addresses: Vec<AddressView> = record
                    .addresses
                    .iter()
                    .cloned()
                    .map(AddressView::from)
                    .collect();
                serde_json::to_value(addresses).unwrap_or(Value::Null)
            }),
            _ => {
                let text = self.cell(record);
                (!text.is_empty()).then_some(Value::String(text))
            }
        }
    }
}

/// The enums whose words a cell may hold.
trait ToProto {
    /// The protobuf number.
    fn number(self) -> i32;
}

/// A gender cell with the letters spreadsheets use, `M` and `F` (either case), read as
/// the words.
fn gender_letter(cell: &str) -> &str {
    match cell.trim() {
        "m" | "M" => "male",
        "f" | "F" => "female",
        other => other,
    }
}

impl ToProto for Gender {
    fn number(self) -> i32 {
        self.to_proto()
    }
}

impl ToProto for Status {
    fn number(self) -> i32 {
        self.to_proto()
    }
}

impl ToProto for Handling {
    fn number(self) -> i32 {
        self.to_proto()
    }
}

/// An enum word, or empty for an unspecified (or unknown) value.
fn word_text(word: Option<&'static str>) -> String {
    word.unwrap_or_default().to_string()
}

/// The `i`-th warning word of a list.
fn warning(i: usize, text: &str) -> Result<i32, CellError> {
    word(text, Warning::ALL, Warning::word, "warning")
        .map(Warning::to_proto)
        .map_err(|reason| CellError {
            field: format!("warnings[{i}]"),
            reason,
        })
}

/// The non-blank `|`-separated pieces of a cell, numbered, escapes kept.
fn pieces(cell: &str) -> impl Iterator<Item = (usize, &str)> {
    split_raw(cell, '|')
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .enumerate()
}

/// The `i`-th case of a `cases` cell, in the `--case` format.
fn case((i, piece): (usize, &str)) -> Result<pb::CaseRef, CellError> {
    parse_case(unescape(piece).trim())
        .map(|view| view.to_proto())
        .map_err(|reason| CellError {
            field: format!("cases[{i}]"),
            reason: format!("{}: {reason}", quote(piece)),
        })
}

/// The `i`-th address of an `addresses` cell.
fn address((i, piece): (usize, &str)) -> Result<pb::Address, CellError> {
    address_view(piece)
        .map(|view| view.to_proto())
        .map_err(|reason| CellError {
            field: format!("addresses[{i}]"),
            reason,
        })
}

/// "locality, police station, district, state" with `\,` for a comma inside a part; missing
/// trailing parts stay empty.
fn address_view(text: &str) -> Result<AddressView, String> {
    let parts: Vec<String> = split_raw(text, ',')
        .into_iter()
        .map(|p| unescape(p).trim().to_string())
        .collect();
    if parts.len() > 4 {
        return Err(format!(
            "{} has {} comma-separated parts; expected at most 4: \
             \"locality, police station, district, state\" (write \\, for a comma inside a part)",
            quote(text),
            parts.len()
        ));
    }
    if parts.iter().all(String::is_empty) {
        return Err("the address is empty".to_string());
    }
    let mut parts = parts.into_iter();
    Ok(AddressView {
        locality: parts.next().unwrap_or_default(),
        police_station: parts.next().unwrap_or_default(),
        district: parts.next().unwrap_or_default(),
        state: parts.next().unwrap_or_default(),
    })
}

/// An address as [`address_view`] reads it, empty trailing parts left out.
fn address_text(a: &pb::Address) -> String {
    let mut parts: Vec<String> = [&a.locality, &a.police_station, &a.district, &a.state]
        .into_iter()
        .map(|p| escape(p, &[',', '|']))
        .collect();
    while parts.last().is_some_and(String::is_empty) && parts.len() > 1 {
        parts.pop();
    }
    parts.join(", ")
}

/// A case in the `--case` format, "FIR/YEAR@POLICE STATION[:SECTION;...][:ROLE]".
pub fn case_text(c: &pb::CaseRef) -> String {
    let mut text = format!("{}@{}", c.fir_number, c.police_station);
    let role = crate::words::CaseRole::from_proto(c.role);
    if !c.sections.is_empty() {
        text.push(':');
        text.push_str(&c.sections.join(";"));
    }
    if let Some(role) = role {
        text.push(':');
        text.push_str(role.word());
    }
    text
}

/// Why a record's cases cannot be written in a CSV cell exactly, if they cannot: the
/// `--case` format has no room for an FIR number without its year, or for `:`, `;` or `@`
/// in the wrong places. JSON Lines has no such limits.
pub fn inexact_case(record: &pb::PersonRecord) -> Option<String> {
    record
        .cases
        .iter()
        .enumerate()
        .find(|(_, c)| {
            let written = case_text(c);
            parse_case(&written).map(|v| v.to_proto()).as_ref() != Ok(*c)
        })
        .map(|(i, c)| {
            format!(
                "cases[{i}] ({}) cannot be written exactly as \"FIR/YEAR@POLICE STATION[:SECTIONS][:ROLE]\"; \
                 export with --format jsonl to keep it",
                case_text(c)
            )
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fully populated, fictional record whose every field round trips.
    pub(crate) fn sample() -> pb::PersonRecord {
        pb::PersonRecord {
            external_ref: "DHN-TEST-0042".into(),
            name: "Test Raju Mahto".into(),
            name_local: "टेस्ट राजू महतो".into(),
            aliases: vec!["Kalua".into(), "कालू; भाई".into()],
            father_name: "Imaginary Shankar Mahto".into(),
            gender: Gender::Male.to_proto(),
            birth_year: 1991,
            addresses: vec![
                pb::Address {
                    locality: "Ward 4, Block B".into(),
                    police_station: "Jharia".into(),
                    district: "Dhanbad".into(),
                    state: "Jharkhand".into(),
                },
                pb::Address {
                    locality: "Test Tola".into(),
                    police_station: "Gaya Town".into(),
                    ..Default::default()
                },
            ],
            identifying_marks: vec![r"scar on left cheek\chin".into()],
            phones: vec!["+91 90000 00000".into(), "+91 90000 00001".into()],
            vehicles: vec!["JH10XX0000".into()],
            status: Status::InCustody.to_proto(),
            reward_inr: 25_000,
            warnings: vec![Warning::Armed.to_proto(), Warning::EscapeRisk.to_proto()],
            cases: vec![
                pb::CaseRef {
                    fir_number: "112/2025".into(),
                    police_station: "Jharia".into(),
                    year: 2025,
                    sections: vec!["BNS 309(4)".into(), "BNS 111".into()],
                    role: crate::words::CaseRole::Accused.to_proto(),
                },
                pb::CaseRef {
                    fir_number: "7/2024".into(),
                    police_station: "Gaya | Town".into(),
                    year: 2024,
                    ..Default::default()
                },
            ],
            associates: vec!["0190a1b2-0000-7000-8000-000000000001".into()],
            handling: Handling::Peers.to_proto(),
            review_by_ms: 1_790_000_000_123,
            ..Default::default()
        }
    }

    #[test]
    fn every_field_round_trips_through_its_cell() -> Result<(), CellError> {
        let record = sample();
        let mut read = pb::PersonRecord::default();
        for column in Column::ALL {
            column.set(&mut read, &column.cell(&record))?;
        }
        assert_eq!(read, record);
        assert_eq!(inexact_case(&record), None);
        Ok(())
    }

    #[test]
    fn every_field_round_trips_through_json() -> Result<(), CellError> {
        let record = sample();
        let mut read = pb::PersonRecord::default();
        for column in Column::ALL {
            if let Some(value) = column.json(&record) {
                column.set_json(&mut read, &value)?;
            }
        }
        assert_eq!(read, record);
        Ok(())
    }

    #[test]
    fn empty_cells_leave_fields_unset() -> Result<(), CellError> {
        let mut read = pb::PersonRecord::default();
        for column in Column::ALL {
            column.set(&mut read, " ")?;
        }
        assert_eq!(read, pb::PersonRecord::default());
        Ok(())
    }

    #[test]
    fn bad_cells_name_the_field() {
        let mut record = pb::PersonRecord::default();
        let refused = |column: Column, cell: &str| {
            let mut record = pb::PersonRecord::default();
            column.set(&mut record, cell).err()
        };
        let year = refused(Column::BirthYear, "abc");
        assert_eq!(
            year,
            Some(CellError {
                field: "birth_year".into(),
                reason: "'abc' is not a year".into()
            })
        );
        let status = refused(Column::Status, "fugitive");
        assert!(
            matches!(&status, Some(e) if e.field == "status" && e.reason.contains("in-custody"))
        );
        let warning = refused(Column::Warnings, "armed; sneaky");
        assert!(
            matches!(&warning, Some(e) if e.field == "warnings[1]"),
            "{warning:?}"
        );
        let case = refused(Column::Cases, "112/2025@Jharia | 7 Gaya");
        assert!(
            matches!(&case, Some(e) if e.field == "cases[1]"),
            "{case:?}"
        );
        let address = refused(Column::Addresses, "a, b, c, d, e");
        assert!(
            matches!(&address, Some(e) if e.field == "addresses[0]"),
            "{address:?}"
        );
        let review = refused(Column::ReviewBy, "next year");
        assert!(
            matches!(&review, Some(e) if e.field == "review_by"),
            "{review:?}"
        );
        assert!(Column::Gender
            .set_json(&mut record, &serde_json::json!(["male"]))
            .is_err());
        for (cell, gender) in [
            ("M", Gender::Male),
            ("f", Gender::Female),
            (" F ", Gender::Female),
        ] {
            assert!(Column::Gender.set(&mut record, cell).is_ok(), "{cell}");
            assert_eq!(record.gender, gender.to_proto(), "{cell}");
        }
        let json_case = Column::Cases.set_json(&mut record, &serde_json::json!([{"fir": 1}]));
        assert!(
            matches!(&json_case, Err(e) if e.field == "cases[0]"),
            "{json_case:?}"
        );
    }

    #[test]
    fn json_accepts_semicolon_text_and_numbers() -> Result<(), CellError> {
        let mut record = pb::PersonRecord::default();
        Column::Aliases.set_json(&mut record, &serde_json::json!("Kalua; Raju Bhai"))?;
        Column::BirthYear.set_json(&mut record, &serde_json::json!(1991))?;
        Column::Phones.set_json(&mut record, &serde_json::json!([9000000000_u64]))?;
        Column::Cases.set_json(&mut record, &serde_json::json!(["112/2025@Jharia"]))?;
        assert_eq!(record.aliases, vec!["Kalua", "Raju Bhai"]);
        assert_eq!(record.birth_year, 1991);
        assert_eq!(record.phones, vec!["9000000000"]);
        assert_eq!(record.cases[0].year, 2025);
        Ok(())
    }

    #[test]
    fn cases_the_csv_format_cannot_hold_are_found() {
        let mut record = sample();
        record.cases[0].fir_number = "112".into();
        let why = inexact_case(&record).unwrap_or_default();
        assert!(why.starts_with("cases[0] (112@Jharia"), "{why}");
    }
}
