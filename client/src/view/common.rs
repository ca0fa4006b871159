//! JSON views of the small messages shared by records and MO notes: addresses, cases,
//! photo references and tombstones.

use serde::{Deserialize, Serialize};
use setu_proto::v1 as pb;

use crate::words::CaseRole;

/// An address: locality, police station, district and state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AddressView {
    /// Locality, village or mohalla.
    pub locality: String,
    /// The police station whose area it lies in.
    pub police_station: String,
    /// The district.
    pub district: String,
    /// The state.
    pub state: String,
}

impl From<pb::Address> for AddressView {
    fn from(a: pb::Address) -> Self {
        Self {
            locality: a.locality,
            police_station: a.police_station,
            district: a.district,
            state: a.state,
        }
    }
}

impl AddressView {
    /// The protobuf message for this address.
    pub fn to_proto(&self) -> pb::Address {
        pb::Address {
            locality: self.locality.clone(),
            police_station: self.police_station.clone(),
            district: self.district.clone(),
            state: self.state.clone(),
        }
    }
}

/// A First Information Report a person or note is linked to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaseView {
    /// The FIR number as the police station writes it, e.g. "112/2025".
    pub fir_number: String,
    /// The police station that registered the FIR.
    pub police_station: String,
    /// The year of the FIR.
    pub year: u32,
    /// Legal sections, e.g. "BNS 309(4)".
    pub sections: Vec<String>,
    /// The person's role in the case; `null` when unspecified.
    pub role: Option<CaseRole>,
}

impl From<pb::CaseRef> for CaseView {
    fn from(c: pb::CaseRef) -> Self {
        Self {
            fir_number: c.fir_number,
            police_station: c.police_station,
            year: c.year,
            sections: c.sections,
            role: CaseRole::from_proto(c.role),
        }
    }
}

impl CaseView {
    /// The protobuf message for this case.
    pub fn to_proto(&self) -> pb::CaseRef {
        pb::CaseRef {
            fir_number: self.fir_number.clone(),
            police_station: self.police_station.clone(),
            year: self.year,
            sections: self.sections.clone(),
            role: self.role.map_or(0, CaseRole::to_proto),
        }
    }
}

/// A photo attached to a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhotoView {
    /// Lower-case hex SHA-256 of the photo bytes.
    pub sha256: String,
    /// The photo's media type, e.g. "image/jpeg".
    pub mime_type: String,
    /// The photo's size in bytes.
    pub size_bytes: u64,
}

impl From<pb::PhotoRef> for PhotoView {
    fn from(p: pb::PhotoRef) -> Self {
        Self {
            sha256: p.sha256,
            mime_type: p.mime_type,
            size_bytes: p.size_bytes,
        }
    }
}

impl PhotoView {
    /// The protobuf message for this photo reference.
    pub fn to_proto(&self) -> pb::PhotoRef {
        pb::PhotoRef {
            sha256: self.sha256.clone(),
            mime_type: self.mime_type.clone(),
            size_bytes: self.size_bytes,
        }
    }
}

/// What remains after a record or note is expunged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TombstoneView {
    /// The id of the expunged record or note.
    pub id: String,
    /// The district that owned it.
    pub origin: String,
    /// The version of the tombstone.
    pub version: u64,
    /// Why it was expunged.
    pub reason: String,
    /// When it was expunged, in Unix milliseconds.
    pub deleted_at_ms: i64,
    /// Who expunged it.
    pub deleted_by: String,
}

impl From<pb::Tombstone> for TombstoneView {
    fn from(t: pb::Tombstone) -> Self {
        Self {
            id: t.id,
            origin: t.origin,
            version: t.version,
            reason: t.reason,
            deleted_at_ms: t.deleted_at_ms,
            deleted_by: t.deleted_by,
        }
    }
}
