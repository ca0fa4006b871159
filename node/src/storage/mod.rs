//! Durable storage of a district's records, MO notes, photos and change log.
//!
//! This module is the narrow interface the rest of the node sees. [`Storage`] (in
//! `store.rs` and its siblings) is written against a small key-value seam, `kv::KvStore`:
//! named trees, point reads, range scans and one atomic multi-tree commit. Its engines are
//! sled on disk (`kv/sled.rs`, the only file that names sled) and a map in memory for
//! tests (`kv/memory.rs`), so the engine can be swapped without touching services.
//! Invariants:
//! - storage knows nothing about tonic or certificates: callers pass plain values;
//! - no engine type (sled's trees, batches, transactions, `IVec`) outside `kv/sled.rs`;
//! - one writer at a time: every write takes the store's writer lock from its first read
//!   to its commit, so a read-modify-write never races another write;
//! - every change that touches more than one key is one atomic commit, and takes the next
//!   per-origin sequence number in that same commit (the federation's change log);
//! - [`Storage::flush`] must complete before a write is acknowledged to anyone.

pub mod alerts;
pub mod audit;
pub mod backup;
mod codec;
pub mod digest;
mod kv;
pub mod lock;
mod replication;
mod search;
mod search_snapshot;
mod stats;
mod store;
#[cfg(test)]
mod tests;

use setu_proto::v1::{Alert, AlertAck, Envelope, MoNote, PersonRecord, Tombstone};
use std::fmt;

pub use audit::AuditBreak;
pub use replication::EpochChange;
pub use store::Storage;

/// Signs the payload of each local change as it is committed. The storage layer only calls
/// it; the keys and the cryptography live in the federation module.
pub trait ChangeSigner: Send + Sync {
    /// An envelope holding exactly `payload`, signed.
    fn sign(&self, payload: &[u8]) -> Envelope;
}

/// What the node knows about one item: whose it is, at which change, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemState {
    /// The owning district.
    pub origin: String,
    /// The origin's epoch of the latest change.
    pub epoch: u64,
    /// The origin's sequence number of the latest change.
    pub seq: u64,
    /// The handling code at the latest change (the protobuf value).
    pub handling: i32,
    /// Whether any version of the item was ever allowed to leave its origin.
    pub shared: bool,
    /// Whether the data is held (false after an expunge or a retraction).
    pub has_data: bool,
    /// Whether the latest change was an expunge.
    pub deleted: bool,
}

/// One change of an origin's log, with the envelope to send.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// The item's kind.
    pub kind: Kind,
    /// The item's id.
    pub id: String,
    /// The item's state at this change.
    pub state: ItemState,
    /// The signed envelope, with its signed retraction attached.
    pub envelope: Envelope,
}

/// A district whose changes this node holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginInfo {
    /// The district id.
    pub origin: String,
    /// Its current epoch as this node knows it.
    pub epoch: u64,
    /// The highest sequence number of its held here.
    pub max_seq: u64,
}

/// What a verified change from a peer carries.
#[derive(Debug, Clone)]
pub enum RemoteBody {
    /// A record's new content.
    Record(PersonRecord),
    /// An MO note's new content.
    MoNote(MoNote),
    /// An alert message (alert, update or cancel).
    Alert(Alert),
    /// A district's acknowledgement of an alert.
    AlertAck(AlertAck),
    /// An expunge.
    Tombstone(Tombstone),
    /// A retraction: the receiver may no longer hold the item.
    Retracted,
}

/// A change received from a peer, already verified against its origin's key.
#[derive(Debug, Clone)]
pub struct RemoteChange {
    /// The item's kind.
    pub kind: Kind,
    /// The item's id.
    pub id: String,
    /// The owning district.
    pub origin: String,
    /// The origin's epoch.
    pub epoch: u64,
    /// The origin's sequence number.
    pub seq: u64,
    /// The handling code.
    pub handling: i32,
    /// The decoded body.
    pub body: RemoteBody,
    /// The envelope as received, stored and relayed unchanged.
    pub envelope: Envelope,
}

/// What applying a batch of remote changes did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Changes stored.
    pub applied: usize,
    /// Changes ignored because this node already had them or something newer.
    pub ignored: usize,
    /// Changes refused: the same (origin, id, seq) with a different body, an id owned by
    /// another origin, or a stale epoch. Each is a sentence for the alarm log.
    pub refused: Vec<String>,
    /// Photos referenced by applied records whose bytes are not here yet.
    pub missing_photos: Vec<String>,
}

/// The kinds of item a district owns and shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A person record (dossier).
    Record,
    /// A modus-operandi note.
    MoNote,
    /// An alert message: a new alert, an update or a cancel.
    Alert,
    /// A district's acknowledgement of an alert.
    AlertAck,
}

impl Kind {
    /// The one-byte tag used in keys.
    pub(crate) fn tag(self) -> u8 {
        match self {
            Kind::Record => b'r',
            Kind::MoNote => b'm',
            Kind::Alert => b'a',
            Kind::AlertAck => b'k',
        }
    }

    /// The kind for a key tag.
    pub(crate) fn from_tag(tag: u8) -> Option<Kind> {
        match tag {
            b'r' => Some(Kind::Record),
            b'm' => Some(Kind::MoNote),
            b'a' => Some(Kind::Alert),
            b'k' => Some(Kind::AlertAck),
            _ => None,
        }
    }

    /// The kind as the wire names it.
    pub fn item_kind(self) -> setu_proto::v1::ItemKind {
        store::item_kind(self)
    }

    /// The kind of a wire `ItemKind` value, if it is one.
    pub fn from_item_kind(value: i32) -> Option<Kind> {
        use setu_proto::v1::ItemKind;
        match ItemKind::try_from(value) {
            Ok(ItemKind::Record) => Some(Kind::Record),
            Ok(ItemKind::MoNote) => Some(Kind::MoNote),
            Ok(ItemKind::Alert) => Some(Kind::Alert),
            Ok(ItemKind::AlertAck) => Some(Kind::AlertAck),
            _ => None,
        }
    }

    /// The name used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Record => "record",
            Kind::MoNote => "MO note",
            Kind::Alert => "alert",
            Kind::AlertAck => "alert acknowledgement",
        }
    }

    /// Whether the kind is part of the alert feed (alerts and acknowledgements), which
    /// travels by target district rather than by handling code.
    pub fn is_alert(self) -> bool {
        matches!(self, Kind::Alert | Kind::AlertAck)
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

/// A local change as committed: which item changed, at which sequence number.
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
    /// Another node holds the data folder.
    #[error("data_dir {dir} is in use by {holder}; stop that node first, or give this one another data_dir")]
    InUse { dir: String, holder: String },
    /// Another record of the same origin already uses the external reference.
    #[error(
        "external_ref: {} is already used by record {id}",
        crate::validate::excerpt(external_ref)
    )]
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
