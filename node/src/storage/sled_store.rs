//! The sled implementation of [`Storage`].
//!
//! Layout, one sled tree each:
//! - `records`: record id → encoded `PersonRecord`;
//! - `mo_notes`: note id → encoded `MoNote`;
//! - `tombstones`: kind tag + id → encoded `Tombstone`;
//! - `changes`: sequence number (big-endian) → kind tag, deleted flag, id; compacted so that
//!   only the latest change of each item stays;
//! - `index`: `s`+tag+id → the item's latest sequence number; `x`+origin+NUL+external ref →
//!   record id; `p`+sha256 → how many records reference the photo;
//! - `meta`: `epoch` and `seq`;
//! - `photos`: sha256 → bytes; `photo_meta`: sha256 → encoded `PhotoRef`.

use super::{ChangeEntry, Expect, Kind, NewPhoto, Page, StorageError, StorageResult};
use prost::Message;
use setu_proto::v1::{MoNote, PersonRecord, PhotoRef, Tombstone};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use std::collections::BTreeSet;
use std::path::Path;

const META_EPOCH: &[u8] = b"epoch";
const META_SEQ: &[u8] = b"seq";

impl From<sled::Error> for StorageError {
    fn from(err: sled::Error) -> Self {
        StorageError::Backend(err.to_string())
    }
}

impl From<TransactionError<StorageError>> for StorageError {
    fn from(err: TransactionError<StorageError>) -> Self {
        match err {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => e.into(),
        }
    }
}

/// What a transaction body returns: an abort carries a [`StorageError`].
type TxResult<T> = Result<T, ConflictableTransactionError<StorageError>>;

fn abort<T>(err: StorageError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(err))
}

/// A district's durable store.
#[derive(Clone)]
pub struct Storage {
    db: sled::Db,
    records: sled::Tree,
    mo_notes: sled::Tree,
    tombstones: sled::Tree,
    changes: sled::Tree,
    index: sled::Tree,
    meta: sled::Tree,
    photos: sled::Tree,
    photo_meta: sled::Tree,
    epoch: u64,
}

/// The trees one write transaction touches, in a fixed order.
struct Tx<'a> {
    records: &'a TransactionalTree,
    mo_notes: &'a TransactionalTree,
    tombstones: &'a TransactionalTree,
    changes: &'a TransactionalTree,
    index: &'a TransactionalTree,
    meta: &'a TransactionalTree,
    photos: &'a TransactionalTree,
    photo_meta: &'a TransactionalTree,
}

fn item_key(kind: Kind, id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(id.len() + 1);
    key.push(kind.tag());
    key.extend_from_slice(id.as_bytes());
    key
}

fn seq_index_key(kind: Kind, id: &str) -> Vec<u8> {
    let mut key = vec![b's'];
    key.extend_from_slice(&item_key(kind, id));
    key
}

fn ext_ref_key(origin: &str, external_ref: &str) -> Vec<u8> {
    let mut key = vec![b'x'];
    key.extend_from_slice(origin.as_bytes());
    key.push(0);
    key.extend_from_slice(external_ref.as_bytes());
    key
}

fn photo_ref_key(sha256: &str) -> Vec<u8> {
    let mut key = vec![b'p'];
    key.extend_from_slice(sha256.as_bytes());
    key
}

fn read_u64(bytes: &[u8]) -> Option<u64> {
    let arr: [u8; 8] = bytes.try_into().ok()?;
    Some(u64::from_be_bytes(arr))
}

fn corrupt(what: &str, detail: impl ToString) -> StorageError {
    StorageError::Corrupt {
        what: what.to_string(),
        detail: detail.to_string(),
    }
}

fn encode_change(kind: Kind, deleted: bool, id: &str) -> Vec<u8> {
    let mut value = Vec::with_capacity(id.len() + 2);
    value.push(kind.tag());
    value.push(u8::from(deleted));
    value.extend_from_slice(id.as_bytes());
    value
}

fn decode_change(seq_key: &[u8], value: &[u8]) -> StorageResult<ChangeEntry> {
    let seq = read_u64(seq_key).ok_or_else(|| corrupt("change log key", "not 8 bytes"))?;
    let (&tag, rest) = value
        .split_first()
        .ok_or_else(|| corrupt("change log entry", "empty"))?;
    let (&deleted, id) = rest
        .split_first()
        .ok_or_else(|| corrupt("change log entry", "truncated"))?;
    let kind = Kind::from_tag(tag).ok_or_else(|| corrupt("change log entry", "unknown kind"))?;
    let id = String::from_utf8(id.to_vec()).map_err(|e| corrupt("change log entry", e))?;
    Ok(ChangeEntry {
        seq,
        kind,
        id,
        deleted: deleted != 0,
    })
}

impl Tx<'_> {
    /// Takes the next sequence number of this origin and records the change under it,
    /// dropping the item's previous entry so the log holds one entry per item.
    fn log_change(&self, kind: Kind, id: &str, deleted: bool) -> TxResult<ChangeEntry> {
        let current = match self.meta.get(META_SEQ)? {
            Some(v) => read_u64(&v).ok_or_else(|| {
                ConflictableTransactionError::Abort(corrupt("sequence counter", "not 8 bytes"))
            })?,
            None => 0,
        };
        let seq = current + 1;
        self.meta.insert(META_SEQ, &seq.to_be_bytes())?;
        let index_key = seq_index_key(kind, id);
        if let Some(previous) = self.index.get(&index_key)? {
            self.changes.remove(previous.as_ref())?;
        }
        self.index.insert(index_key, &seq.to_be_bytes())?;
        self.changes
            .insert(&seq.to_be_bytes(), encode_change(kind, deleted, id))?;
        Ok(ChangeEntry {
            seq,
            kind,
            id: id.to_string(),
            deleted,
        })
    }

    /// Fails when the id has a tombstone.
    fn refuse_if_expunged(&self, kind: Kind, id: &str) -> TxResult<()> {
        if let Some(bytes) = self.tombstones.get(item_key(kind, id))? {
            let tomb = Tombstone::decode(bytes.as_ref())
                .map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
            return abort(StorageError::Expunged {
                kind,
                id: id.to_string(),
                version: tomb.version,
                reason: tomb.reason,
            });
        }
        Ok(())
    }

    /// Adds `delta` (+1 or -1) to a photo's reference count; a photo nobody references any
    /// more is removed with its metadata.
    fn adjust_photo_ref(&self, sha256: &str, add: bool) -> TxResult<()> {
        let key = photo_ref_key(sha256);
        let count = match self.index.get(&key)? {
            Some(v) => read_u64(&v).unwrap_or(0),
            None => 0,
        };
        let count = if add {
            count + 1
        } else {
            count.saturating_sub(1)
        };
        if count == 0 {
            self.index.remove(key)?;
            self.photos.remove(sha256.as_bytes())?;
            self.photo_meta.remove(sha256.as_bytes())?;
        } else {
            self.index.insert(key, &count.to_be_bytes())?;
        }
        Ok(())
    }

    /// Moves the external-reference index from the old record to the new one.
    fn update_ext_ref(
        &self,
        old: Option<&PersonRecord>,
        new: Option<&PersonRecord>,
    ) -> TxResult<()> {
        let old_key = old
            .filter(|r| !r.external_ref.is_empty())
            .map(|r| ext_ref_key(&r.origin, &r.external_ref));
        let new_key = new
            .filter(|r| !r.external_ref.is_empty())
            .map(|r| ext_ref_key(&r.origin, &r.external_ref));
        if old_key == new_key {
            return Ok(());
        }
        if let Some(key) = old_key {
            self.index.remove(key)?;
        }
        if let (Some(key), Some(record)) = (new_key, new) {
            if let Some(owner) = self.index.get(&key)? {
                if owner.as_ref() != record.id.as_bytes() {
                    return abort(StorageError::ExternalRefTaken {
                        external_ref: record.external_ref.clone(),
                        id: String::from_utf8_lossy(&owner).into_owned(),
                    });
                }
            }
            self.index.insert(key, record.id.as_bytes())?;
        }
        Ok(())
    }
}

fn photo_set(record: Option<&PersonRecord>) -> BTreeSet<String> {
    record
        .map(|r| r.photos.iter().map(|p| p.sha256.clone()).collect())
        .unwrap_or_default()
}

fn check_expectation(kind: Kind, id: &str, stored: Option<u64>, expect: Expect) -> TxResult<()> {
    match (expect, stored) {
        (Expect::Absent, None) => Ok(()),
        (Expect::Absent, Some(_)) => abort(StorageError::AlreadyExists {
            kind,
            id: id.to_string(),
        }),
        (Expect::Version(_), None) => abort(StorageError::NotFound {
            kind,
            id: id.to_string(),
        }),
        (Expect::Version(expected), Some(actual)) if expected != actual => {
            abort(StorageError::VersionConflict {
                kind,
                id: id.to_string(),
                expected,
                actual,
            })
        }
        (Expect::Version(_), Some(_)) => Ok(()),
    }
}

impl Storage {
    /// Opens (or creates) the store in `dir`. `cache_bytes` bounds sled's page cache.
    pub fn open(dir: &Path, cache_bytes: u64) -> StorageResult<Storage> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .open()
            .map_err(|e| StorageError::Backend(format!("cannot open {}: {e}", dir.display())))?;
        let meta = db.open_tree("meta")?;
        let epoch = match meta.get(META_EPOCH)? {
            Some(v) => read_u64(&v).ok_or_else(|| corrupt("epoch", "not 8 bytes"))?,
            None => {
                // A fresh database gets a random, non-zero epoch so that peers can tell a
                // restored or recreated database from the one they synced with.
                let epoch = rand::random::<u64>().max(1);
                meta.insert(META_EPOCH, &epoch.to_be_bytes())?;
                meta.flush()?;
                epoch
            }
        };
        Ok(Storage {
            records: db.open_tree("records")?,
            mo_notes: db.open_tree("mo_notes")?,
            tombstones: db.open_tree("tombstones")?,
            changes: db.open_tree("changes")?,
            index: db.open_tree("index")?,
            photos: db.open_tree("photos")?,
            photo_meta: db.open_tree("photo_meta")?,
            meta,
            db,
            epoch,
        })
    }

    /// This database's epoch: random, fixed at creation.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The highest sequence number taken so far (0 when nothing was written).
    pub fn last_seq(&self) -> StorageResult<u64> {
        Ok(match self.meta.get(META_SEQ)? {
            Some(v) => read_u64(&v).ok_or_else(|| corrupt("sequence counter", "not 8 bytes"))?,
            None => 0,
        })
    }

    /// Makes every write so far durable. Call before acknowledging a write.
    pub async fn flush(&self) -> StorageResult<()> {
        self.db.flush_async().await?;
        Ok(())
    }

    /// Runs `body` as one transaction over every tree.
    fn transact<T>(&self, body: impl Fn(&Tx<'_>) -> TxResult<T>) -> StorageResult<T> {
        let trees = (
            &self.records,
            &self.mo_notes,
            &self.tombstones,
            &self.changes,
            &self.index,
            &self.meta,
            &self.photos,
            &self.photo_meta,
        );
        let result = sled::Transactional::transaction(
            &trees,
            |(records, mo_notes, tombstones, changes, index, meta, photos, photo_meta)| {
                body(&Tx {
                    records,
                    mo_notes,
                    tombstones,
                    changes,
                    index,
                    meta,
                    photos,
                    photo_meta,
                })
            },
        );
        result.map_err(StorageError::from)
    }

    /// Stores a record, checking `expect` against what is stored, storing `new_photos`,
    /// keeping the external-reference index and photo reference counts, and logging the
    /// change, all in one transaction. Every photo the record lists must be stored already
    /// or be among `new_photos`.
    pub fn put_record(
        &self,
        record: &PersonRecord,
        expect: Expect,
        new_photos: &[NewPhoto<'_>],
    ) -> StorageResult<ChangeEntry> {
        let bytes = record.encode_to_vec();
        self.transact(|tx| {
            tx.refuse_if_expunged(Kind::Record, &record.id)?;
            let old = match tx.records.get(record.id.as_bytes())? {
                Some(b) => Some(
                    PersonRecord::decode(b.as_ref())
                        .map_err(|e| ConflictableTransactionError::Abort(e.into()))?,
                ),
                None => None,
            };
            check_expectation(
                Kind::Record,
                &record.id,
                old.as_ref().map(|r| r.version),
                expect,
            )?;
            tx.update_ext_ref(old.as_ref(), Some(record))?;
            for photo in new_photos {
                if tx.photos.get(photo.sha256.as_bytes())?.is_none() {
                    tx.photos.insert(photo.sha256.as_bytes(), photo.bytes)?;
                    let meta = PhotoRef {
                        sha256: photo.sha256.to_string(),
                        mime_type: photo.mime_type.to_string(),
                        size_bytes: photo.bytes.len() as u64,
                    };
                    tx.photo_meta
                        .insert(photo.sha256.as_bytes(), meta.encode_to_vec())?;
                }
            }
            let before = photo_set(old.as_ref());
            let after = photo_set(Some(record));
            for sha in after.difference(&before) {
                if tx.photo_meta.get(sha.as_bytes())?.is_none() {
                    return abort(StorageError::NotFound {
                        kind: Kind::Record,
                        id: format!("{} photo {sha}", record.id),
                    });
                }
                tx.adjust_photo_ref(sha, true)?;
            }
            for sha in before.difference(&after) {
                tx.adjust_photo_ref(sha, false)?;
            }
            tx.records.insert(record.id.as_bytes(), bytes.as_slice())?;
            tx.log_change(Kind::Record, &record.id, false)
        })
    }

    /// Stores an MO note, checking `expect` and logging the change in one transaction.
    pub fn put_mo_note(&self, note: &MoNote, expect: Expect) -> StorageResult<ChangeEntry> {
        let bytes = note.encode_to_vec();
        self.transact(|tx| {
            tx.refuse_if_expunged(Kind::MoNote, &note.id)?;
            let stored = match tx.mo_notes.get(note.id.as_bytes())? {
                Some(b) => Some(
                    MoNote::decode(b.as_ref())
                        .map_err(|e| ConflictableTransactionError::Abort(e.into()))?
                        .version,
                ),
                None => None,
            };
            check_expectation(Kind::MoNote, &note.id, stored, expect)?;
            tx.mo_notes.insert(note.id.as_bytes(), bytes.as_slice())?;
            tx.log_change(Kind::MoNote, &note.id, false)
        })
    }

    /// Expunges an item: removes its data (and, for a record, the photos nobody else
    /// references), leaves `tombstone` (whose version must be the stored version plus one)
    /// and logs the deletion, in one transaction. With `expected_version`, the stored
    /// version must match it.
    pub fn expunge(
        &self,
        kind: Kind,
        id: &str,
        expected_version: Option<u64>,
        reason: &str,
        deleted_by: &str,
        deleted_at_ms: i64,
    ) -> StorageResult<Tombstone> {
        self.transact(|tx| {
            tx.refuse_if_expunged(kind, id)?;
            let tree = match kind {
                Kind::Record => tx.records,
                Kind::MoNote => tx.mo_notes,
            };
            let Some(bytes) = tree.get(id.as_bytes())? else {
                return abort(StorageError::NotFound {
                    kind,
                    id: id.to_string(),
                });
            };
            let (version, origin) = match kind {
                Kind::Record => {
                    let old = PersonRecord::decode(bytes.as_ref())
                        .map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
                    tx.update_ext_ref(Some(&old), None)?;
                    for sha in photo_set(Some(&old)) {
                        tx.adjust_photo_ref(&sha, false)?;
                    }
                    (old.version, old.origin)
                }
                Kind::MoNote => {
                    let old = MoNote::decode(bytes.as_ref())
                        .map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
                    (old.version, old.origin)
                }
            };
            if let Some(expected) = expected_version {
                check_expectation(kind, id, Some(version), Expect::Version(expected))?;
            }
            let tombstone = Tombstone {
                id: id.to_string(),
                origin,
                version: version + 1,
                reason: reason.to_string(),
                deleted_at_ms,
                deleted_by: deleted_by.to_string(),
            };
            tree.remove(id.as_bytes())?;
            tx.tombstones
                .insert(item_key(kind, id), tombstone.encode_to_vec())?;
            tx.log_change(kind, id, true)?;
            Ok(tombstone)
        })
    }

    fn missing(&self, kind: Kind, id: &str) -> StorageError {
        match self.tombstone(kind, id) {
            Ok(Some(t)) => StorageError::Expunged {
                kind,
                id: id.to_string(),
                version: t.version,
                reason: t.reason,
            },
            Ok(None) => StorageError::NotFound {
                kind,
                id: id.to_string(),
            },
            Err(e) => e,
        }
    }

    /// The record stored under `id`.
    pub fn record(&self, id: &str) -> StorageResult<PersonRecord> {
        match self.records.get(id.as_bytes())? {
            Some(b) => Ok(PersonRecord::decode(b.as_ref())?),
            None => Err(self.missing(Kind::Record, id)),
        }
    }

    /// The MO note stored under `id`.
    pub fn mo_note(&self, id: &str) -> StorageResult<MoNote> {
        match self.mo_notes.get(id.as_bytes())? {
            Some(b) => Ok(MoNote::decode(b.as_ref())?),
            None => Err(self.missing(Kind::MoNote, id)),
        }
    }

    /// The tombstone of an expunged item, if it was expunged.
    pub fn tombstone(&self, kind: Kind, id: &str) -> StorageResult<Option<Tombstone>> {
        match self.tombstones.get(item_key(kind, id))? {
            Some(b) => Ok(Some(Tombstone::decode(b.as_ref())?)),
            None => Ok(None),
        }
    }

    /// The id of the record of `origin` with this external reference, if any.
    pub fn record_id_by_external_ref(
        &self,
        origin: &str,
        external_ref: &str,
    ) -> StorageResult<Option<String>> {
        Ok(self
            .index
            .get(ext_ref_key(origin, external_ref))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Records in id order after `after`, keeping those `keep` accepts, at most `limit`.
    pub fn list_records(
        &self,
        after: Option<&str>,
        limit: usize,
        keep: impl Fn(&PersonRecord) -> bool,
    ) -> StorageResult<Page<PersonRecord>> {
        list_tree(&self.records, after, limit, |b| {
            let r = PersonRecord::decode(b)?;
            Ok(keep(&r).then_some(r))
        })
    }

    /// MO notes in id order after `after`, keeping those `keep` accepts, at most `limit`.
    pub fn list_mo_notes(
        &self,
        after: Option<&str>,
        limit: usize,
        keep: impl Fn(&MoNote) -> bool,
    ) -> StorageResult<Page<MoNote>> {
        list_tree(&self.mo_notes, after, limit, |b| {
            let n = MoNote::decode(b)?;
            Ok(keep(&n).then_some(n))
        })
    }

    /// The metadata of a stored photo.
    pub fn photo_ref(&self, sha256: &str) -> StorageResult<Option<PhotoRef>> {
        match self.photo_meta.get(sha256.as_bytes())? {
            Some(b) => Ok(Some(PhotoRef::decode(b.as_ref())?)),
            None => Ok(None),
        }
    }

    /// A stored photo's metadata and bytes.
    pub fn photo(&self, sha256: &str) -> StorageResult<Option<(PhotoRef, Vec<u8>)>> {
        let Some(meta) = self.photo_ref(sha256)? else {
            return Ok(None);
        };
        match self.photos.get(sha256.as_bytes())? {
            Some(bytes) => Ok(Some((meta, bytes.to_vec()))),
            None => Err(corrupt(
                "photo",
                format!("{sha256} has metadata but no bytes"),
            )),
        }
    }

    /// Change-log entries with a sequence number above `after`, oldest first, at most `limit`.
    pub fn changes_since(&self, after: u64, limit: usize) -> StorageResult<Vec<ChangeEntry>> {
        let start = after.saturating_add(1).to_be_bytes();
        let mut out = Vec::new();
        for item in self.changes.range(start..).take(limit) {
            let (k, v) = item?;
            out.push(decode_change(&k, &v)?);
        }
        Ok(out)
    }

    /// How many records are stored.
    pub fn record_count(&self) -> usize {
        self.records.len()
    }

    /// The database's size on disk, in bytes.
    pub fn size_on_disk(&self) -> StorageResult<u64> {
        Ok(self.db.size_on_disk()?)
    }
}

fn list_tree<T>(
    tree: &sled::Tree,
    after: Option<&str>,
    limit: usize,
    decode_keep: impl Fn(&[u8]) -> StorageResult<Option<T>>,
) -> StorageResult<Page<T>> {
    let iter = match after {
        Some(after) => {
            let mut start = after.as_bytes().to_vec();
            // The smallest key strictly greater than `after`.
            start.push(0);
            tree.range(start..)
        }
        None => tree.iter(),
    };
    let mut items = Vec::new();
    let mut last_key = None;
    for entry in iter {
        let (key, value) = entry?;
        if items.len() == limit {
            return Ok(Page {
                items,
                next_after: last_key,
            });
        }
        last_key = Some(String::from_utf8_lossy(&key).into_owned());
        if let Some(item) = decode_keep(&value)? {
            items.push(item);
        }
    }
    Ok(Page {
        items,
        next_after: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(dir.path(), 16 * 1024 * 1024).expect("open");
        (dir, storage)
    }

    fn record(id: &str, version: u64) -> PersonRecord {
        PersonRecord {
            id: id.into(),
            origin: "jh-dhanbad".into(),
            version,
            name: "Test Person".into(),
            external_ref: "DHN/1".into(),
            ..Default::default()
        }
    }

    #[test]
    fn create_update_expunge_keeps_log_compact() {
        let (_dir, s) = store();
        let c1 = s.put_record(&record("a", 1), Expect::Absent, &[]).unwrap();
        assert_eq!(c1.seq, 1);
        let c2 = s
            .put_record(&record("a", 2), Expect::Version(1), &[])
            .unwrap();
        assert_eq!(c2.seq, 2);
        // The stale version is refused and changes nothing.
        let err = s
            .put_record(&record("a", 3), Expect::Version(1), &[])
            .unwrap_err();
        assert!(matches!(
            err,
            StorageError::VersionConflict { actual: 2, .. }
        ));
        assert_eq!(s.record("a").unwrap().version, 2);
        let log = s.changes_since(0, 10).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].seq, 2);
        let tomb = s
            .expunge(Kind::Record, "a", Some(2), "duplicate", "JH-1", 5)
            .unwrap();
        assert_eq!(tomb.version, 3);
        assert!(matches!(
            s.record("a").unwrap_err(),
            StorageError::Expunged { version: 3, .. }
        ));
        assert!(s
            .record_id_by_external_ref("jh-dhanbad", "DHN/1")
            .unwrap()
            .is_none());
        let log = s.changes_since(0, 10).unwrap();
        assert_eq!(log.len(), 1);
        assert!(log[0].deleted);
    }

    #[test]
    fn external_ref_is_unique_per_origin() {
        let (_dir, s) = store();
        s.put_record(&record("a", 1), Expect::Absent, &[]).unwrap();
        let err = s
            .put_record(&record("b", 1), Expect::Absent, &[])
            .unwrap_err();
        assert!(matches!(err, StorageError::ExternalRefTaken { .. }));
        assert!(matches!(
            s.record("b").unwrap_err(),
            StorageError::NotFound { .. }
        ));
    }

    #[test]
    fn photos_are_stored_once_and_removed_with_the_last_reference() {
        let (_dir, s) = store();
        let photo = NewPhoto {
            sha256: "abc",
            mime_type: "image/png",
            bytes: b"png-bytes",
        };
        let mut a = record("a", 1);
        a.photos.push(PhotoRef {
            sha256: "abc".into(),
            mime_type: "image/png".into(),
            size_bytes: 9,
        });
        s.put_record(&a, Expect::Absent, &[photo]).unwrap();
        let mut b = a.clone();
        b.id = "b".into();
        b.external_ref = "DHN/2".into();
        s.put_record(&b, Expect::Absent, &[photo]).unwrap();
        s.expunge(Kind::Record, "a", None, "test", "JH-1", 1)
            .unwrap();
        assert!(s.photo("abc").unwrap().is_some());
        s.expunge(Kind::Record, "b", None, "test", "JH-1", 1)
            .unwrap();
        assert!(s.photo("abc").unwrap().is_none());
    }

    #[test]
    fn paging_walks_every_item_once() {
        let (_dir, s) = store();
        for i in 0..25 {
            let mut r = record(&format!("id{i:02}"), 1);
            r.external_ref.clear();
            s.put_record(&r, Expect::Absent, &[]).unwrap();
        }
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = s.list_records(after.as_deref(), 10, |_| true).unwrap();
            seen.extend(page.items.into_iter().map(|r| r.id));
            match page.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen.len(), 25);
    }
}
