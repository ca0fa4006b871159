//! Durable storage of a district's records, MO notes, photos and change log.
//!
//! This module is the narrow interface the rest of the node sees; sled lives only in
//! [`sled_store`], so that the engine could be swapped without touching services.
//! Invariants:
//! - storage knows nothing about tonic or certificates: callers pass plain values;
//! - every change that touches more than one key is one transaction, and takes the next
//!   per-origin sequence number in that same transaction (the federation's change log);
//! - [`Storage::flush`] must complete before a write is acknowledged to anyone.

mod sled_store;

use std::fmt;

pub use sled_store::Storage;

/// The kinds of item a district owns and shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A person record (dossier).
    Record,
    /// A modus-operandi note.
    MoNote,
}

impl Kind {
    /// The one-byte tag used in keys.
    pub(crate) fn tag(self) -> u8 {
        match self {
            Kind::Record => b'r',
            Kind::MoNote => b'm',
        }
    }

    /// The kind for a key tag.
    pub(crate) fn from_tag(tag: u8) -> Option<Kind> {
        match tag {
            b'r' => Some(Kind::Record),
            b'm' => Some(Kind::MoNote),
            _ => None,
        }
    }

    /// The name used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Record => "record",
            Kind::MoNote => "MO note",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the stored state must be for a write to go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Nothing may be stored under the id yet (a create).
    Absent,
    /// The stored item must be at exactly this version.
    Version(u64),
}

/// A photo to store together with the record that references it.
#[derive(Debug, Clone, Copy)]
pub struct NewPhoto<'a> {
    /// Lower-case hex SHA-256 of `bytes`.
    pub sha256: &'a str,
    /// The content type taken from the bytes' magic numbers.
    pub mime_type: &'a str,
    /// The photo itself.
    pub bytes: &'a [u8],
}

/// One entry of the change log: which item changed, at which sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEntry {
    /// The per-origin sequence number the change took.
    pub seq: u64,
    /// What kind of item changed.
    pub kind: Kind,
    /// The item's id.
    pub id: String,
    /// Whether the change was an expunge.
    pub deleted: bool,
}

/// A page of items in id order.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The id to continue after, when there may be more.
    pub next_after: Option<String>,
}

/// Failures and refusals of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The engine failed (I/O, corruption it detected, a full disk).
    #[error("storage failure: {0}")]
    Backend(String),
    /// Stored bytes could not be decoded.
    #[error("stored {what} is corrupt: {detail}")]
    Corrupt { what: String, detail: String },
    /// Nothing is stored under the id.
    #[error("{kind} {id} not found")]
    NotFound { kind: Kind, id: String },
    /// The item was expunged; only its tombstone remains.
    #[error("{kind} {id} was expunged at version {version}: {reason}")]
    Expunged {
        kind: Kind,
        id: String,
        version: u64,
        reason: String,
    },
    /// The stored version is not the one the caller expected.
    #[error("{kind} {id} is at version {actual}, not the expected version {expected}; read it again and retry")]
    VersionConflict {
        kind: Kind,
        id: String,
        expected: u64,
        actual: u64,
    },
    /// Something is already stored under the id.
    #[error("{kind} {id} already exists")]
    AlreadyExists { kind: Kind, id: String },
    /// Another record of the same origin already uses the external reference.
    #[error("external_ref: '{external_ref}' is already used by record {id}")]
    ExternalRefTaken { external_ref: String, id: String },
}

impl From<prost::DecodeError> for StorageError {
    fn from(err: prost::DecodeError) -> Self {
        StorageError::Corrupt {
            what: "item".into(),
            detail: err.to_string(),
        }
    }
}

/// Results of storage calls.
pub type StorageResult<T> = Result<T, StorageError>;
