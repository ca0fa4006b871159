//! The JSON view of a person record, of a page of records and of a photo upload's result.

use serde::{Deserialize, Serialize};
use setu_proto::v1 as pb;

use super::common::{AddressView, CaseView, PhotoView};
use crate::words::{Gender, Handling, Status, Warning};

/// A person record as `--json` prints it and `--file` reads it.
///
/// Every field is optional when reading; missing ones take their empty value. Enum fields are
/// lower-case words and `null` when unspecified; timestamps are Unix milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordView {
    /// UUID v7 assigned by the node that created the record.
    pub id: String,
    /// The owning district, e.g. "jh-dhanbad".
    pub origin: String,
    /// Bumps on every change.
    pub version: u64,
    /// The district's own dossier number.
    pub external_ref: String,
    /// The name as written.
    pub name: String,
    /// The name in a local script.
    pub name_local: String,
    /// Other names the person goes by.
    pub aliases: Vec<String>,
    /// The father's name.
    pub father_name: String,
    /// The person's gender.
    pub gender: Option<Gender>,
    /// Year of birth; 0 when unknown.
    pub birth_year: u32,
    /// Lower bound of the age range; 0 when unknown.
    pub age_min: u32,
    /// Upper bound of the age range; 0 when unknown.
    pub age_max: u32,
    /// Known addresses.
    pub addresses: Vec<AddressView>,
    /// Scars, tattoos and other identifying marks.
    pub identifying_marks: Vec<String>,
    /// Phone numbers.
    pub phones: Vec<String>,
    /// Vehicle registration numbers.
    pub vehicles: Vec<String>,
    /// Where the person stands with the police.
    pub status: Option<Status>,
    /// Reward announced, in rupees; 0 when none.
    pub reward_inr: u64,
    /// Cautions for officers.
    pub warnings: Vec<Warning>,
    /// Linked FIRs.
    pub cases: Vec<CaseView>,
    /// Ids of associated person records.
    pub associates: Vec<String>,
    /// Attached photos.
    pub photos: Vec<PhotoView>,
    /// Who may receive the record.
    pub handling: Option<Handling>,
    /// When the record must be reviewed, in Unix milliseconds.
    pub review_by_ms: i64,
    /// When the record was created, in Unix milliseconds.
    pub created_at_ms: i64,
    /// When the record last changed, in Unix milliseconds.
    pub updated_at_ms: i64,
    /// The officer who created the record.
    pub created_by: String,
    /// The officer who last changed the record.
    pub updated_by: String,
}

impl From<pb::PersonRecord> for RecordView {
    fn from(r: pb::PersonRecord) -> Self {
        Self {
            id: r.id,
            origin: r.origin,
            version: r.version,
            external_ref: r.external_ref,
            name: r.name,
            name_local: r.name_local,
            aliases: r.aliases,
            father_name: r.father_name,
            gender: Gender::from_proto(r.gender),
            birth_year: r.birth_year,
            age_min: r.age_min,
            age_max: r.age_max,
            addresses: r.addresses.into_iter().map(AddressView::from).collect(),
            identifying_marks: r.identifying_marks,
            phones: r.phones,
            vehicles: r.vehicles,
            status: Status::from_proto(r.status),
            reward_inr: r.reward_inr,
            warnings: r
                .warnings
                .into_iter()
                .filter_map(Warning::from_proto)
                .collect(),
            cases: r.cases.into_iter().map(CaseView::from).collect(),
            associates: r.associates,
            photos: r.photos.into_iter().map(PhotoView::from).collect(),
            handling: Handling::from_proto(r.handling),
            review_by_ms: r.review_by_ms,
            created_at_ms: r.created_at_ms,
            updated_at_ms: r.updated_at_ms,
            created_by: r.created_by,
            updated_by: r.updated_by,
        }
    }
}

impl RecordView {
    /// The protobuf message for this record.
    pub fn to_proto(&self) -> pb::PersonRecord {
        pb::PersonRecord {
            id: self.id.clone(),
            origin: self.origin.clone(),
            version: self.version,
            external_ref: self.external_ref.clone(),
            name: self.name.clone(),
            name_local: self.name_local.clone(),
            aliases: self.aliases.clone(),
            father_name: self.father_name.clone(),
            gender: self.gender.map_or(0, Gender::to_proto),
            birth_year: self.birth_year,
            age_min: self.age_min,
            age_max: self.age_max,
            addresses: self.addresses.iter().map(AddressView::to_proto).collect(),
            identifying_marks: self.identifying_marks.clone(),
            phones: self.phones.clone(),
            vehicles: self.vehicles.clone(),
            status: self.status.map_or(0, Status::to_proto),
            reward_inr: self.reward_inr,
            warnings: self.warnings.iter().map(|w| w.to_proto()).collect(),
            cases: self.cases.iter().map(CaseView::to_proto).collect(),
            associates: self.associates.clone(),
            photos: self.photos.iter().map(PhotoView::to_proto).collect(),
            handling: self.handling.map_or(0, Handling::to_proto),
            review_by_ms: self.review_by_ms,
            created_at_ms: self.created_at_ms,
            updated_at_ms: self.updated_at_ms,
            created_by: self.created_by.clone(),
            updated_by: self.updated_by.clone(),
        }
    }
}

/// The protobuf message for `edited`, a changed copy of `stored_view`, keeping the stored
/// numbers of enum fields the edit left alone.
///
/// A newer node may use enum values this client does not know; they read as `null` or are
/// left out of lists, and writing them back unchanged must not erase them.
pub fn edited_record(
    stored: &pb::PersonRecord,
    stored_view: &RecordView,
    edited: &RecordView,
) -> pb::PersonRecord {
    let mut out = edited.to_proto();
    if edited.gender == stored_view.gender {
        out.gender = stored.gender;
    }
    if edited.status == stored_view.status {
        out.status = stored.status;
    }
    if edited.handling == stored_view.handling {
        out.handling = stored.handling;
    }
    if edited.warnings == stored_view.warnings {
        out.warnings = stored.warnings.clone();
    }
    if edited.cases == stored_view.cases {
        out.cases = stored.cases.clone();
    }
    out
}

/// One page of `record list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordListView {
    /// The records on this page.
    pub records: Vec<RecordView>,
    /// The token for the next page; empty when this is the last page.
    pub next_page_token: String,
}

/// The result of `record photo add`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhotoUploadView {
    /// The stored photo.
    pub photo: PhotoView,
    /// The record with the photo attached.
    pub record: RecordView,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::CaseRole;

    /// A fully populated, fictional record.
    fn sample() -> RecordView {
        RecordView {
            id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
            origin: "jh-dhanbad".into(),
            version: 3,
            external_ref: "DHN-2025-0042".into(),
            name: "Raju Mahto".into(),
            name_local: "राजू महतो".into(),
            aliases: vec!["Kalua".into()],
            father_name: "Shankar Mahto".into(),
            gender: Some(Gender::Male),
            birth_year: 1991,
            age_min: 30,
            age_max: 36,
            addresses: vec![AddressView {
                locality: "Ward 4".into(),
                police_station: "Jharia".into(),
                district: "Dhanbad".into(),
                state: "Jharkhand".into(),
            }],
            identifying_marks: vec!["scar on left cheek".into()],
            phones: vec!["+91 90000 00000".into()],
            vehicles: vec!["JH10XX0000".into()],
            status: Some(Status::InCustody),
            reward_inr: 25_000,
            warnings: vec![Warning::Armed, Warning::EscapeRisk],
            cases: vec![CaseView {
                fir_number: "112/2025".into(),
                police_station: "Jharia".into(),
                year: 2025,
                sections: vec!["BNS 309(4)".into()],
                role: Some(CaseRole::Accused),
            }],
            associates: vec!["0190a1b2-0000-7000-8000-000000000001".into()],
            photos: vec![PhotoView {
                sha256: "ab".repeat(32),
                mime_type: "image/jpeg".into(),
                size_bytes: 1024,
            }],
            handling: Some(Handling::Federation),
            review_by_ms: 1_790_000_000_000,
            created_at_ms: 1_760_000_000_000,
            updated_at_ms: 1_760_000_100_000,
            created_by: "JH-1234 (jh-dhanbad)".into(),
            updated_by: "JH-1234 (jh-dhanbad)".into(),
        }
    }

    #[test]
    fn view_proto_view_round_trip() {
        let view = sample();
        assert_eq!(RecordView::from(view.to_proto()), view);
        let empty = RecordView::default();
        assert_eq!(RecordView::from(empty.to_proto()), empty);
    }

    #[test]
    fn unknown_enum_numbers_survive_an_unrelated_edit() {
        let mut stored = sample().to_proto();
        stored.status = 42;
        stored.warnings.push(17);
        let stored_view = RecordView::from(stored.clone());
        assert_eq!(stored_view.status, None);
        let edited = RecordView {
            name: "Raju Kumar Mahto".into(),
            ..stored_view.clone()
        };
        let out = edited_record(&stored, &stored_view, &edited);
        assert_eq!(out.status, 42);
        assert_eq!(out.warnings.last(), Some(&17));
        assert_eq!(out.name, "Raju Kumar Mahto");
        let changed = RecordView {
            status: Some(Status::Arrested),
            ..stored_view.clone()
        };
        let out = edited_record(&stored, &stored_view, &changed);
        assert_eq!(out.status, Status::Arrested.to_proto());
    }

    #[test]
    fn json_round_trip_uses_words_and_integers() -> Result<(), serde_json::Error> {
        let view = sample();
        let json = serde_json::to_value(&view)?;
        assert_eq!(json["status"], "in-custody");
        assert_eq!(json["warnings"][1], "escape-risk");
        assert_eq!(json["handling"], "federation");
        assert_eq!(json["cases"][0]["role"], "accused");
        assert_eq!(json["created_at_ms"], 1_760_000_000_000_i64);
        assert_eq!(serde_json::from_value::<RecordView>(json)?, view);
        Ok(())
    }

    #[test]
    fn partial_json_fills_defaults_and_unknown_keys_fail() {
        let partial: Result<RecordView, _> = serde_json::from_str(r#"{"name": "Raju Mahto"}"#);
        assert!(matches!(partial, Ok(v) if v.name == "Raju Mahto" && v.status.is_none()));
        let typo: Result<RecordView, _> = serde_json::from_str(r#"{"nmae": "Raju Mahto"}"#);
        assert!(typo.is_err());
    }
}
