//! The JSON view of a modus-operandi note and of a page of notes.

use serde::{Deserialize, Serialize};
use setu_proto::v1 as pb;

use super::common::CaseView;
use crate::words::{Handling, MoCategory};

/// How the crimes are done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MethodView {
    /// Weapons used.
    pub weapons: Vec<String>,
    /// Vehicles used.
    pub vehicles: Vec<String>,
    /// When they strike, e.g. "late night, 01:00-04:00".
    pub time_of_day: String,
    /// What they go after.
    pub targets: Vec<String>,
    /// How they get away.
    pub escape_routes: Vec<String>,
}

impl From<pb::MoMethod> for MethodView {
    fn from(m: pb::MoMethod) -> Self {
        Self {
            weapons: m.weapons,
            vehicles: m.vehicles,
            time_of_day: m.time_of_day,
            targets: m.targets,
            escape_routes: m.escape_routes,
        }
    }
}

impl MethodView {
    /// The protobuf message for this method.
    pub fn to_proto(&self) -> pb::MoMethod {
        pb::MoMethod {
            weapons: self.weapons.clone(),
            vehicles: self.vehicles.clone(),
            time_of_day: self.time_of_day.clone(),
            targets: self.targets.clone(),
            escape_routes: self.escape_routes.clone(),
        }
    }
}

/// An MO note as `--json` prints it and `--file` reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MoView {
    /// Assigned by the node that created the note.
    pub id: String,
    /// The owning district.
    pub origin: String,
    /// Bumps on every change.
    pub version: u64,
    /// The person records the note concerns.
    pub record_ids: Vec<String>,
    /// The kind of crime; `null` when unspecified.
    pub category: Option<MoCategory>,
    /// The kind of crime in words, when `category` is `other`.
    pub category_other: String,
    /// What the gang does, in a few sentences.
    pub summary: String,
    /// How the crimes are done.
    pub method: MethodView,
    /// Where the gang has struck.
    pub places: Vec<String>,
    /// First seen, as YYYY-MM-DD; empty when unknown.
    pub first_seen: String,
    /// Last seen, as YYYY-MM-DD; empty when unknown.
    pub last_seen: String,
    /// Linked FIRs.
    pub cases: Vec<CaseView>,
    /// Who may receive the note.
    pub handling: Option<Handling>,
    /// When the note was created, in Unix milliseconds.
    pub created_at_ms: i64,
    /// When the note last changed, in Unix milliseconds.
    pub updated_at_ms: i64,
    /// The officer who created the note.
    pub created_by: String,
    /// The officer who last changed the note.
    pub updated_by: String,
}

impl From<pb::MoNote> for MoView {
    fn from(n: pb::MoNote) -> Self {
        Self {
            id: n.id,
            origin: n.origin,
            version: n.version,
            record_ids: n.record_ids,
            category: MoCategory::from_proto(n.category),
            category_other: n.category_other,
            summary: n.summary,
            method: n.method.map(MethodView::from).unwrap_or_default(),
            places: n.places,
            first_seen: n.first_seen,
            last_seen: n.last_seen,
            cases: n.cases.into_iter().map(CaseView::from).collect(),
            handling: Handling::from_proto(n.handling),
            created_at_ms: n.created_at_ms,
            updated_at_ms: n.updated_at_ms,
            created_by: n.created_by,
            updated_by: n.updated_by,
        }
    }
}

impl MoView {
    /// The protobuf message for this note.
    pub fn to_proto(&self) -> pb::MoNote {
        pb::MoNote {
            id: self.id.clone(),
            origin: self.origin.clone(),
            version: self.version,
            record_ids: self.record_ids.clone(),
            category: self.category.map_or(0, MoCategory::to_proto),
            category_other: self.category_other.clone(),
            summary: self.summary.clone(),
            method: Some(self.method.to_proto()),
            places: self.places.clone(),
            first_seen: self.first_seen.clone(),
            last_seen: self.last_seen.clone(),
            cases: self.cases.iter().map(CaseView::to_proto).collect(),
            handling: self.handling.map_or(0, Handling::to_proto),
            created_at_ms: self.created_at_ms,
            updated_at_ms: self.updated_at_ms,
            created_by: self.created_by.clone(),
            updated_by: self.updated_by.clone(),
        }
    }
}

/// The protobuf message for `edited`, a changed copy of `stored_view`, keeping the stored
/// numbers of enum fields the edit left alone (see [`super::record::edited_record`]).
pub fn edited_note(stored: &pb::MoNote, stored_view: &MoView, edited: &MoView) -> pb::MoNote {
    let mut out = edited.to_proto();
    if edited.category == stored_view.category {
        out.category = stored.category;
    }
    if edited.handling == stored_view.handling {
        out.handling = stored.handling;
    }
    if edited.cases == stored_view.cases {
        out.cases = stored.cases.clone();
    }
    out
}

/// One page of `mo list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MoListView {
    /// The notes on this page.
    pub notes: Vec<MoView>,
    /// The token for the next page; empty when this is the last page.
    pub next_page_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::CaseRole;

    fn sample() -> MoView {
        MoView {
            id: "0190a1b2-0000-7000-8000-0000000000aa".into(),
            origin: "br-gaya".into(),
            version: 2,
            record_ids: vec!["0190a1b2-0000-7000-8000-000000000001".into()],
            category: Some(MoCategory::AtmRobbery),
            category_other: String::new(),
            summary: "Gas-cutter used on ATMs of isolated highway kiosks.".into(),
            method: MethodView {
                weapons: vec!["country-made pistol".into()],
                vehicles: vec!["white pickup".into()],
                time_of_day: "late night, 01:00-04:00".into(),
                targets: vec!["highway ATMs".into()],
                escape_routes: vec!["NH-19 towards the border".into()],
            },
            places: vec!["Sherghati".into()],
            first_seen: "2025-01-10".into(),
            last_seen: "2025-06-02".into(),
            cases: vec![CaseView {
                fir_number: "77/2025".into(),
                police_station: "Sherghati".into(),
                year: 2025,
                sections: vec![],
                role: Some(CaseRole::Suspect),
            }],
            handling: Some(Handling::Peers),
            created_at_ms: 1_760_000_000_000,
            updated_at_ms: 1_760_000_000_500,
            created_by: "BR-5678 (br-gaya)".into(),
            updated_by: "BR-5678 (br-gaya)".into(),
        }
    }

    #[test]
    fn view_proto_view_round_trip() {
        let view = sample();
        assert_eq!(MoView::from(view.to_proto()), view);
    }

    #[test]
    fn json_round_trip() -> Result<(), serde_json::Error> {
        let view = sample();
        let json = serde_json::to_value(&view)?;
        assert_eq!(json["category"], "atm-robbery");
        assert_eq!(serde_json::from_value::<MoView>(json)?, view);
        Ok(())
    }
}
