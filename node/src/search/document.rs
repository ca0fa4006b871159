//! Search documents: what of a record or MO note the search index needs, taken out of the
//! item once, normalised, and stored by the storage layer in the same transaction as the
//! item itself. The in-memory index ([`super::index`]) is built from these documents, so
//! a document can never disagree with the item it was made from.
//!
//! Identifiers are normalised here, on the way in and on the query side alike:
//! [`phone_key`] (+91, a leading 0, spaces and dashes dropped), [`vehicle_key`]
//! ("JH 10 AB 1234" = "jh10ab1234") and [`fir_keys`] (police station, year and FIR
//! number).

use setu_proto::v1::{CaseRef, MoNote, PersonRecord};

use super::normalize::fold;

/// Which field of a record a name came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, prost::Enumeration)]
#[repr(i32)]
pub enum NameField {
    /// `name`, the name as written.
    Name = 0,
    /// `name_local`, the name in a local script.
    NameLocal = 1,
    /// One of `aliases`.
    Alias = 2,
    /// `father_name`.
    Father = 3,
}

impl NameField {
    /// The record field's name, as reasons report it.
    pub fn as_str(self) -> &'static str {
        match self {
            NameField::Name => "name",
            NameField::NameLocal => "name_local",
            NameField::Alias => "alias",
            NameField::Father => "father_name",
        }
    }
}

/// One name of a record, as written.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NameText {
    /// The field it came from.
    #[prost(enumeration = "NameField", tag = "1")]
    pub field: i32,
    /// The text as written, in any script.
    #[prost(string, tag = "2")]
    pub text: String,
}

/// The searchable part of a person record.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RecordDoc {
    /// The owning district.
    #[prost(string, tag = "1")]
    pub origin: String,
    /// `PersonStatus` as its protobuf value.
    #[prost(int32, tag = "2")]
    pub status: i32,
    /// `Gender` as its protobuf value.
    #[prost(int32, tag = "3")]
    pub gender: i32,
    /// Bit `w` is set for every `Warning` value `w` the record carries.
    #[prost(uint32, tag = "4")]
    pub warnings: u32,
    /// The earliest possible birth year, from `birth_year` or the age range; 0 if unknown.
    #[prost(uint32, tag = "5")]
    pub born_from: u32,
    /// The latest possible birth year; 0 if unknown.
    #[prost(uint32, tag = "6")]
    pub born_to: u32,
    /// Name, local name, aliases and father's name, as written.
    #[prost(message, repeated, tag = "7")]
    pub names: Vec<NameText>,
    /// Phone numbers as [`phone_key`] gives them.
    #[prost(string, repeated, tag = "8")]
    pub phones: Vec<String>,
    /// Vehicle registrations as [`vehicle_key`] gives them.
    #[prost(string, repeated, tag = "9")]
    pub vehicles: Vec<String>,
    /// Cases as [`fir_keys`] gives them (with and without the year).
    #[prost(string, repeated, tag = "10")]
    pub firs: Vec<String>,
    /// When the record last changed, Unix milliseconds (newer ranks first on ties).
    #[prost(int64, tag = "11")]
    pub updated_at_ms: i64,
}

/// One searchable text field of an MO note.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NoteText {
    /// The field's name as reasons report it ("summary", "method.weapons", "places").
    #[prost(string, tag = "1")]
    pub field: String,
    /// The text as written.
    #[prost(string, tag = "2")]
    pub text: String,
}

/// The searchable part of an MO note.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NoteDoc {
    /// The owning district.
    #[prost(string, tag = "1")]
    pub origin: String,
    /// `MoCategory` as its protobuf value.
    #[prost(int32, tag = "2")]
    pub category: i32,
    /// The person records the note is linked to.
    #[prost(string, repeated, tag = "3")]
    pub record_ids: Vec<String>,
    /// Summary, method, places and cases.
    #[prost(message, repeated, tag = "4")]
    pub texts: Vec<NoteText>,
}

impl RecordDoc {
    /// The search document of `record`.
    pub fn of(record: &PersonRecord) -> RecordDoc {
        let mut names = vec![NameText {
            field: NameField::Name as i32,
            text: record.name.clone(),
        }];
        if !record.name_local.is_empty() {
            names.push(NameText {
                field: NameField::NameLocal as i32,
                text: record.name_local.clone(),
            });
        }
        for alias in &record.aliases {
            names.push(NameText {
                field: NameField::Alias as i32,
                text: alias.clone(),
            });
        }
        if !record.father_name.is_empty() {
            names.push(NameText {
                field: NameField::Father as i32,
                text: record.father_name.clone(),
            });
        }
        let (born_from, born_to) = birth_years(record);
        let mut firs: Vec<String> = record.cases.iter().flat_map(fir_keys).collect();
        firs.sort();
        firs.dedup();
        RecordDoc {
            origin: record.origin.clone(),
            status: record.status,
            gender: record.gender,
            warnings: record
                .warnings
                .iter()
                .filter(|w| (0..32).contains(*w))
                .fold(0, |bits, w| bits | (1 << w)),
            born_from,
            born_to,
            names,
            phones: dedup(record.phones.iter().filter_map(|p| phone_key(p))),
            vehicles: dedup(record.vehicles.iter().filter_map(|v| vehicle_key(v))),
            firs,
            updated_at_ms: record.updated_at_ms,
        }
    }

    /// True if the record may have been born in some year of `from..=to`.
    pub fn born_within(&self, from: u32, to: u32) -> bool {
        self.born_from != 0 && self.born_from <= to && from <= self.born_to
    }
}

impl NoteDoc {
    /// The search document of `note`.
    pub fn of(note: &MoNote) -> NoteDoc {
        let mut texts = Vec::new();
        let mut push = |field: &str, text: &str| {
            if !text.trim().is_empty() {
                texts.push(NoteText {
                    field: field.to_string(),
                    text: text.to_string(),
                });
            }
        };
        push("summary", &note.summary);
        push("category_other", &note.category_other);
        if let Some(method) = &note.method {
            for weapon in &method.weapons {
                push("method.weapons", weapon);
            }
            for vehicle in &method.vehicles {
                push("method.vehicles", vehicle);
            }
            push("method.time_of_day", &method.time_of_day);
            for target in &method.targets {
                push("method.targets", target);
            }
            for route in &method.escape_routes {
                push("method.escape_routes", route);
            }
        }
        for place in &note.places {
            push("places", place);
        }
        for case in &note.cases {
            push(
                "cases",
                &format!("{} {}", case.fir_number, case.police_station),
            );
            for section in &case.sections {
                push("cases", section);
            }
        }
        NoteDoc {
            origin: note.origin.clone(),
            category: note.category,
            record_ids: note.record_ids.clone(),
            texts,
        }
    }
}

fn dedup(keys: impl Iterator<Item = String>) -> Vec<String> {
    let mut keys: Vec<String> = keys.collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The years a person may have been born in: the birth year itself, or, from an age range
/// recorded when the record last changed, the years that range allows (a year either side
/// of it, since birthdays fall on any day). (0, 0) when neither is known.
fn birth_years(record: &PersonRecord) -> (u32, u32) {
    if record.birth_year != 0 {
        return (record.birth_year, record.birth_year);
    }
    if record.age_min == 0 && record.age_max == 0 {
        return (0, 0);
    }
    let seen = crate::clock::year_of_ms(record.updated_at_ms.max(record.created_at_ms));
    let age_max = if record.age_max == 0 {
        record.age_min
    } else {
        record.age_max
    };
    let age_min = if record.age_min == 0 {
        age_max
    } else {
        record.age_min
    };
    (
        seen.saturating_sub(age_max + 1).max(1),
        seen.saturating_sub(age_min),
    )
}

/// A phone number reduced to its significant digits: the country code +91 (or 0091) and a
/// trunk 0 dropped, so "+91 98765-43210", "098765 43210" and "9876543210" are one key.
/// None when fewer than six digits remain.
pub fn phone_key(phone: &str) -> Option<String> {
    let mut digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 14 && digits.starts_with("0091") {
        digits.drain(..4);
    } else if digits.len() == 12 && digits.starts_with("91") {
        digits.drain(..2);
    }
    if digits.len() == 11 && digits.starts_with('0') {
        digits.remove(0);
    }
    (digits.len() >= 6).then_some(digits)
}

/// A vehicle registration reduced to lower-case letters and digits, so "JH 10 AB 1234",
/// "jh-10-ab-1234" and "JH10AB1234" are one key. None when fewer than four remain.
pub fn vehicle_key(vehicle: &str) -> Option<String> {
    let key: String = vehicle
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (key.len() >= 4).then_some(key)
}

/// A police station's name for matching: folded, without a leading or trailing "PS",
/// "P.S." or "police station" and without spaces ("Jharia PS" = "jharia").
pub fn station_key(station: &str) -> String {
    let folded = fold(station);
    let words: Vec<&str> = folded
        .split(' ')
        .filter(|w| {
            !w.is_empty() && !matches!(*w, "ps" | "p" | "s" | "police" | "station" | "thana")
        })
        .collect();
    words.concat()
}

/// An FIR number and its year from the way stations write them: "112/2025" is FIR 112 of
/// 2025, "0112" is FIR 112 of an unstated year. Returns the number without leading zeros
/// and the year, if written.
pub fn split_fir_number(fir: &str) -> (String, Option<u32>) {
    let mut parts = fir.trim().splitn(2, ['/', '-']);
    let number: String = parts
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let number = number.trim_start_matches('0').to_string();
    let year = parts.next().and_then(|y| {
        let digits: String = y.chars().filter(char::is_ascii_digit).collect();
        match digits.parse::<u32>().ok()? {
            y @ 1900..=2999 => Some(y),
            y @ 0..=99 => Some(2000 + y),
            _ => None,
        }
    });
    (number, year)
}

/// The index keys of a case: `station|number` and, when the year is known (from the
/// case's year or the FIR number), `station|year|number`.
pub fn fir_keys(case: &CaseRef) -> Vec<String> {
    let station = station_key(&case.police_station);
    let (number, written_year) = split_fir_number(&case.fir_number);
    if station.is_empty() || number.is_empty() {
        return Vec::new();
    }
    let mut keys = vec![format!("{station}|{number}")];
    let year = if case.year != 0 {
        Some(case.year)
    } else {
        written_year
    };
    if let Some(year) = year {
        keys.push(format!("{station}|{year}|{number}"));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalise() {
        let key = Some("9876543210".to_string());
        assert_eq!(phone_key("+91 98765-43210"), key);
        assert_eq!(phone_key("098765 43210"), key);
        assert_eq!(phone_key("0091 98765 43210"), key);
        assert_eq!(phone_key("(987) 654-3210"), key);
        assert_eq!(phone_key("12-34"), None);
    }

    #[test]
    fn vehicles_normalise() {
        assert_eq!(vehicle_key("JH 10 AB 1234"), Some("jh10ab1234".into()));
        assert_eq!(vehicle_key("jh-10-ab-1234"), Some("jh10ab1234".into()));
        assert_eq!(vehicle_key("JH"), None);
    }

    #[test]
    fn fir_numbers_normalise() {
        let case = CaseRef {
            fir_number: "0112/2025".into(),
            police_station: "Jharia P.S.".into(),
            ..Default::default()
        };
        assert_eq!(fir_keys(&case), vec!["jharia|112", "jharia|2025|112"]);
        assert_eq!(split_fir_number("112/25"), ("112".into(), Some(2025)));
        assert_eq!(station_key("PS Jharia"), "jharia");
        assert_eq!(station_key("Asansol South Police Station"), "asansolsouth");
    }

    #[test]
    fn age_ranges_become_birth_years() {
        let record = PersonRecord {
            age_min: 25,
            age_max: 30,
            updated_at_ms: 1_767_225_600_000, // 2026-01-01
            ..Default::default()
        };
        let doc = RecordDoc::of(&record);
        assert_eq!((doc.born_from, doc.born_to), (1995, 2001));
        assert!(doc.born_within(1990, 1996));
        assert!(!doc.born_within(1980, 1990));
        assert!(!RecordDoc::of(&PersonRecord::default()).born_within(1900, 2100));
    }
}
