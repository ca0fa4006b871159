//! [`Storage`] over the key-value seam ([`KvStore`]): opening, the one-writer transaction,
//! local writes and reads. Replication lives in `replication.rs`, byte layouts in
//! `codec.rs`, the engines in `kv/`.
//!
//! Layout, one tree each (see [`TreeName`]):
//! - `records`, `mo_notes`: id → encoded item, for every item held (own and replicated);
//! - `tombstones`: tag + id → encoded `Tombstone`;
//! - `envelopes`: tag + id → the signed `Envelope` of the item's latest change;
//! - `log`: origin + NUL + seq → tag + id: each origin's change log, one entry per item
//!   (the previous entry of an item is removed when it changes again);
//! - `index`: `s`+tag+id → [`ItemState`]; `x`+origin+NUL+external ref → record id;
//!   `p`+sha256 → how many records reference the photo;
//! - `audit`: the hash-chained audit trail (layout in `audit.rs`); a write made under an
//!   officer call appends the call's entry in its own commit;
//! - `meta`: this database's `epoch` and `seq` counter;
//! - `origins`: origin → its epoch, highest sequence held, retired epochs;
//! - `watermarks`: peer + NUL + origin → (epoch, seq) applied from that peer;
//! - `peer_acks`: peer + NUL + origin → (epoch, seq) the peer says it has applied;
//! - `keys`: origin + NUL + key id → encoded `KeyStatement`;
//! - `photos`: sha256 → bytes; `photo_meta`: sha256 → encoded `PhotoRef`;
//! - `search_docs`: tag + id → the item's search document (see `search.rs`);
//! - `alerts`: id → encoded `Alert` or `AlertAck` (the item state says which); the alert feed and thread index
//!   live in `index` (layout in `alerts.rs`).
//!
//! Writes: one writer at a time. Every write, a transaction or a plain batch, takes the
//! store's writer lock, reads through its own pending writes, and ends in one
//! [`KvStore::commit`], so no read-modify-write can interleave with another and every
//! multi-key change is applied all at once.

use super::codec::*;
use super::kv::{KvStore, KvTree, TreeName, TreeWrites, WriteBatch};
use super::{
    ChangeEntry, ChangeSigner, Expect, ItemState, Kind, NewPhoto, Page, StorageError, StorageResult,
};
use prost::Message;
use setu_proto::v1::{
    EnvelopePayload, Handling, ItemKind, MoNote, PersonRecord, PhotoRef, Tombstone,
};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::watch;

const META_EPOCH: &[u8] = b"epoch";
const META_SEQ: &[u8] = b"seq";
/// The page cache of a database opened by an offline command (a new epoch after a restore).
const OFFLINE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// What a transaction body returns: an error aborts the transaction, which then commits
/// nothing.
pub(super) type TxResult<T> = Result<T, StorageError>;

/// Aborts the transaction with `err`.
pub(super) fn abort<T>(err: StorageError) -> TxResult<T> {
    Err(err)
}

/// Decodes a message read inside a transaction.
pub(super) fn tx_decode<M: Message + Default>(bytes: &[u8]) -> TxResult<M> {
    Ok(M::decode(bytes)?)
}

/// A district's durable store.
#[derive(Clone)]
pub struct Storage {
    /// The engine.
    pub(super) kv: Arc<dyn KvStore>,
    /// Read handles on every tree.
    pub(super) t: Trees,
    pub(super) origin: String,
    pub(super) epoch: u64,
    signer: Arc<dyn ChangeSigner>,
    changed: Arc<watch::Sender<u64>>,
    /// Counts the key statements added since the store was opened, so that a sync stream
    /// rereads them only when one was added.
    pub(super) keys_added: Arc<std::sync::atomic::AtomicU64>,
    flusher: Arc<GroupFlush>,
    /// The in-memory search index, derived from `search_docs` (see `search.rs`).
    pub(super) search: Arc<std::sync::RwLock<crate::search::SearchIndex>>,
    /// This process's lock on the data folder, held while any clone is alive (none for a
    /// store in memory).
    _lock: Option<Arc<super::lock::DataDirLock>>,
    /// Held by every write from its first read to its commit: one writer at a time, so a
    /// transaction's reads stay true until its writes land.
    writer: Arc<Mutex<()>>,
    /// Every write transaction holds this shared; a backup holds it exclusively while it
    /// copies the trees, so that the copy is one consistent point in time.
    pub(super) gate: Arc<std::sync::RwLock<()>>,
    /// Every write of search documents holds this shared until the in-memory index has
    /// taken it; saving the index's snapshot holds it exclusively, so the snapshot matches
    /// the stored documents.
    pub(super) index_gate: Arc<std::sync::RwLock<()>>,
    /// Set once a snapshot of the search index is saved: from then on every write
    /// transaction also removes the snapshot's token (see `search_snapshot.rs`).
    pub(super) snapshot_sealed: Arc<std::sync::atomic::AtomicBool>,
    /// The data folder, where the search index's snapshot is kept (none for a store in
    /// memory, which keeps no snapshot).
    pub(super) dir: Option<PathBuf>,
}

/// Read handles on every tree of the store.
#[derive(Clone)]
pub(super) struct Trees {
    pub records: KvTree,
    pub mo_notes: KvTree,
    pub tombstones: KvTree,
    pub envelopes: KvTree,
    pub log: KvTree,
    pub index: KvTree,
    pub meta: KvTree,
    pub origins: KvTree,
    pub watermarks: KvTree,
    pub photos: KvTree,
    pub photo_meta: KvTree,
    pub peer_acks: KvTree,
    pub keys: KvTree,
    pub search_docs: KvTree,
    pub alerts: KvTree,
    /// The audit trail; a write under an officer call appends its entry in the write's
    /// commit (see `audit.rs`).
    pub audit: KvTree,
}

impl Trees {
    fn new(kv: &Arc<dyn KvStore>) -> Trees {
        let tree = |name| KvTree::new(kv.clone(), name);
        Trees {
            records: tree(TreeName::Records),
            mo_notes: tree(TreeName::MoNotes),
            tombstones: tree(TreeName::Tombstones),
            envelopes: tree(TreeName::Envelopes),
            log: tree(TreeName::Log),
            index: tree(TreeName::Index),
            meta: tree(TreeName::Meta),
            origins: tree(TreeName::Origins),
            watermarks: tree(TreeName::Watermarks),
            photos: tree(TreeName::Photos),
            photo_meta: tree(TreeName::PhotoMeta),
            peer_acks: tree(TreeName::PeerAcks),
            keys: tree(TreeName::Keys),
            search_docs: tree(TreeName::SearchDocs),
            alerts: tree(TreeName::Alerts),
            audit: tree(TreeName::Audit),
        }
    }
}

/// Group commit: one `fsync` at a time, each covering every write committed before it
/// started. Concurrent `flush_async` calls deadlock inside sled 0.34 (seen with 16
/// concurrent writers), so flushes are serialised here, and a caller whose write an
/// already finished flush covered returns at once.
#[derive(Default)]
struct GroupFlush {
    /// Flush requests made so far (each after its caller's write committed).
    requested: std::sync::atomic::AtomicU64,
    /// Every request up to this number is durable.
    done: std::sync::atomic::AtomicU64,
    /// Held while a flush runs.
    lock: tokio::sync::Mutex<()>,
}

impl GroupFlush {
    async fn flush(&self, kv: &Arc<dyn KvStore>) -> StorageResult<()> {
        use std::sync::atomic::Ordering;
        let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let _running = self.lock.lock().await;
        if self.done.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        // Every request numbered up to `covered` was made before this flush starts.
        let covered = self.requested.load(Ordering::SeqCst);
        let kv = kv.clone();
        tokio::task::spawn_blocking(move || kv.flush())
            .await
            .map_err(|e| StorageError::Backend(format!("flush task failed: {e}")))??;
        self.done.store(covered, Ordering::SeqCst);
        Ok(())
    }
}

/// One tree as a transaction sees it: the store's entries overlaid with the transaction's
/// own pending writes. Only point reads and writes: a transaction body never scans.
pub(super) struct TxTree<'a> {
    kv: &'a dyn KvStore,
    name: TreeName,
    /// Key → the value written in this transaction, or `None` for a removal.
    writes: RefCell<TreeWrites>,
}

impl<'a> TxTree<'a> {
    fn new(kv: &'a dyn KvStore, name: TreeName) -> TxTree<'a> {
        TxTree {
            kv,
            name,
            writes: RefCell::new(BTreeMap::new()),
        }
    }

    /// The value of `key`, as this transaction has left it.
    pub fn get(&self, key: impl AsRef<[u8]>) -> TxResult<Option<Vec<u8>>> {
        let key = key.as_ref();
        if let Some(pending) = self.writes.borrow().get(key) {
            return Ok(pending.clone());
        }
        self.kv.get(self.name, key)
    }

    /// Sets `key` to `value` when the transaction commits.
    pub fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> TxResult<()> {
        self.writes
            .borrow_mut()
            .insert(key.as_ref().to_vec(), Some(value.as_ref().to_vec()));
        Ok(())
    }

    /// Removes `key` when the transaction commits.
    pub fn remove(&self, key: impl AsRef<[u8]>) -> TxResult<()> {
        self.writes.borrow_mut().insert(key.as_ref().to_vec(), None);
        Ok(())
    }

    /// Removes `key` when the transaction commits, returning its value as it was.
    pub fn take(&self, key: impl AsRef<[u8]>) -> TxResult<Option<Vec<u8>>> {
        let old = self.get(key.as_ref())?;
        if old.is_some() {
            self.remove(key)?;
        }
        Ok(old)
    }

    fn into_writes(self) -> (TreeName, TreeWrites) {
        (self.name, self.writes.into_inner())
    }
}

/// The trees one write transaction may touch, each read through the transaction's own
/// writes.
pub(super) struct Tx<'a> {
    pub records: TxTree<'a>,
    pub mo_notes: TxTree<'a>,
    pub tombstones: TxTree<'a>,
    pub envelopes: TxTree<'a>,
    pub log: TxTree<'a>,
    pub index: TxTree<'a>,
    pub meta: TxTree<'a>,
    pub origins: TxTree<'a>,
    pub watermarks: TxTree<'a>,
    pub photos: TxTree<'a>,
    pub photo_meta: TxTree<'a>,
    pub peer_acks: TxTree<'a>,
    pub keys: TxTree<'a>,
    pub search_docs: TxTree<'a>,
    pub alerts: TxTree<'a>,
    /// Only for audit entries: the entry of the officer call a write is made under (see
    /// `transact`) and [`Storage::append_audit`].
    pub(super) audit: TxTree<'a>,
    /// The ids of the local changes committed in this transaction, for the call's audit
    /// entry.
    committed: RefCell<Vec<String>>,
}

impl<'a> Tx<'a> {
    fn new(kv: &'a dyn KvStore) -> Tx<'a> {
        let tree = |name| TxTree::new(kv, name);
        Tx {
            records: tree(TreeName::Records),
            mo_notes: tree(TreeName::MoNotes),
            tombstones: tree(TreeName::Tombstones),
            envelopes: tree(TreeName::Envelopes),
            log: tree(TreeName::Log),
            index: tree(TreeName::Index),
            meta: tree(TreeName::Meta),
            origins: tree(TreeName::Origins),
            watermarks: tree(TreeName::Watermarks),
            photos: tree(TreeName::Photos),
            photo_meta: tree(TreeName::PhotoMeta),
            peer_acks: tree(TreeName::PeerAcks),
            keys: tree(TreeName::Keys),
            search_docs: tree(TreeName::SearchDocs),
            alerts: tree(TreeName::Alerts),
            audit: tree(TreeName::Audit),
            committed: RefCell::default(),
        }
    }

    /// Every pending write of the transaction, as one batch.
    fn into_batch(self) -> WriteBatch {
        let mut batch = WriteBatch::new();
        for tree in [
            self.records,
            self.mo_notes,
            self.tombstones,
            self.envelopes,
            self.log,
            self.index,
            self.meta,
            self.origins,
            self.watermarks,
            self.photos,
            self.photo_meta,
            self.peer_acks,
            self.keys,
            self.search_docs,
            self.alerts,
            self.audit,
        ] {
            let (name, writes) = tree.into_writes();
            batch.extend_tree(name, writes);
        }
        batch
    }
}

pub(super) fn item_kind(kind: Kind) -> ItemKind {
    match kind {
        Kind::Record => ItemKind::Record,
        Kind::MoNote => ItemKind::MoNote,
        Kind::Alert => ItemKind::Alert,
        Kind::AlertAck => ItemKind::AlertAck,
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

impl Tx<'_> {
    /// The tree holding the data of items of `kind`.
    pub fn data_tree(&self, kind: Kind) -> &TxTree<'_> {
        match kind {
            Kind::Record => &self.records,
            Kind::MoNote => &self.mo_notes,
            Kind::Alert | Kind::AlertAck => &self.alerts,
        }
    }

    /// The stored state of an item.
    pub fn state(&self, kind: Kind, id: &str) -> TxResult<Option<ItemState>> {
        match self.index.get(state_key(kind, id))? {
            Some(v) => Ok(Some(decode_state(&v)?)),
            None => Ok(None),
        }
    }

    /// Records an item's latest change: its envelope, its log entry (dropping the previous
    /// one), its state and its contribution to the anti-entropy digests.
    pub fn record_change(
        &self,
        kind: Kind,
        id: &str,
        previous: Option<&ItemState>,
        state: &ItemState,
        envelope_bytes: &[u8],
    ) -> TxResult<()> {
        if let Some(prev) = previous {
            // After an epoch change another item may own the same sequence number: only
            // remove the entry when it is this item's.
            let key = log_key(&prev.origin, prev.seq);
            if self.log.get(&key)?.as_deref() == Some(item_key(kind, id).as_slice()) {
                self.log.remove(key)?;
            }
        }
        self.log
            .insert(log_key(&state.origin, state.seq), item_key(kind, id))?;
        self.index
            .insert(state_key(kind, id), encode_state(state))?;
        self.envelopes.insert(item_key(kind, id), envelope_bytes)?;
        self.update_digest(kind, id, previous, Some(state))?;
        Ok(())
    }

    /// Raises the highest sequence number held for `origin` in its current epoch; the
    /// first change seen of an origin sets its epoch.
    pub fn raise_origin_seq(&self, origin: &str, epoch: u64, seq: u64) -> TxResult<()> {
        match self.origins.get(origin.as_bytes())? {
            Some(v) => {
                let (current, max_seq, retired) = decode_origin(&v)?;
                if current == epoch && seq > max_seq {
                    self.origins
                        .insert(origin.as_bytes(), encode_origin(current, seq, &retired))?;
                }
            }
            None => {
                self.origins
                    .insert(origin.as_bytes(), encode_origin(epoch, seq, &[]))?;
            }
        }
        Ok(())
    }

    /// Adds one reference to a photo (`add`) or removes one; a photo nobody references any
    /// more is removed with its metadata.
    pub fn adjust_photo_ref(&self, sha256: &str, add: bool) -> TxResult<()> {
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
            self.index.insert(key, count.to_be_bytes())?;
        }
        Ok(())
    }

    /// Moves photo references from the old version of a record to the new one. Photos new
    /// to this node get their metadata; whether their bytes are here is up to the caller.
    pub fn move_photo_refs(
        &self,
        old: Option<&PersonRecord>,
        new: Option<&PersonRecord>,
    ) -> TxResult<()> {
        let before = photo_set(old);
        let after = photo_set(new);
        if let Some(record) = new {
            for photo in &record.photos {
                if !before.contains(&photo.sha256)
                    && self.photo_meta.get(photo.sha256.as_bytes())?.is_none()
                {
                    self.photo_meta
                        .insert(photo.sha256.as_bytes(), photo.encode_to_vec())?;
                }
            }
        }
        for sha in after.difference(&before) {
            self.adjust_photo_ref(sha, true)?;
        }
        for sha in before.difference(&after) {
            self.adjust_photo_ref(sha, false)?;
        }
        Ok(())
    }

    /// Moves the external-reference index from the old record to the new one.
    pub fn update_ext_ref(
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
                if owner.as_slice() != record.id.as_bytes() {
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

    /// The stored record, if any.
    pub fn record(&self, id: &str) -> TxResult<Option<PersonRecord>> {
        match self.records.get(id.as_bytes())? {
            Some(b) => Ok(Some(tx_decode(&b)?)),
            None => Ok(None),
        }
    }

    /// Fails when the id has a tombstone.
    fn refuse_if_expunged(&self, kind: Kind, id: &str) -> TxResult<()> {
        if let Some(bytes) = self.tombstones.get(item_key(kind, id))? {
            let tomb: Tombstone = tx_decode(&bytes)?;
            return abort(StorageError::Expunged {
                kind,
                id: id.to_string(),
                version: tomb.version,
                reason: tomb.reason,
            });
        }
        Ok(())
    }
}

impl Storage {
    /// Opens (or creates) the store of district `origin` in `dir`, on disk (sled).
    /// `cache_bytes` bounds the engine's page cache; `signer` signs every local change as
    /// it commits.
    pub fn open(
        dir: &Path,
        cache_bytes: u64,
        origin: &str,
        signer: Arc<dyn ChangeSigner>,
    ) -> StorageResult<Storage> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StorageError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        let lock = super::lock::DataDirLock::acquire(dir)?;
        let kv = super::kv::SledKv::open(dir, cache_bytes)?;
        Storage::open_with(
            Arc::new(kv),
            Some((dir.to_path_buf(), lock)),
            origin,
            signer,
        )
    }

    /// Opens a new, empty store of district `origin` held in memory only: for tests. It
    /// keeps no data-folder lock and no search-index snapshot.
    #[cfg(test)]
    pub(crate) fn open_in_memory(
        origin: &str,
        signer: Arc<dyn ChangeSigner>,
    ) -> StorageResult<Storage> {
        Storage::open_with(Arc::new(super::kv::MemoryKv::new()), None, origin, signer)
    }

    /// Opens the store of district `origin` on `kv`. `folder` is the data folder with its
    /// lock, for an engine on disk: the search index's snapshot is kept there.
    fn open_with(
        kv: Arc<dyn KvStore>,
        folder: Option<(PathBuf, super::lock::DataDirLock)>,
        origin: &str,
        signer: Arc<dyn ChangeSigner>,
    ) -> StorageResult<Storage> {
        let epoch = match kv.get(TreeName::Meta, META_EPOCH)? {
            Some(v) => read_u64(&v).ok_or_else(|| corrupt("epoch", "not 8 bytes"))?,
            None => {
                // A fresh database gets a random, non-zero epoch so that peers can tell a
                // restored or recreated database from the one they synced with.
                let epoch = rand::random::<u64>().max(1);
                let mut batch = WriteBatch::new();
                batch.insert(TreeName::Meta, META_EPOCH, epoch.to_be_bytes());
                kv.commit(batch)?;
                kv.flush()?;
                epoch
            }
        };
        let (dir, lock) = match folder {
            Some((dir, lock)) => (Some(dir), Some(Arc::new(lock))),
            None => (None, None),
        };
        let storage = Storage {
            t: Trees::new(&kv),
            kv,
            origin: origin.to_string(),
            epoch,
            signer,
            changed: Arc::new(watch::channel(0).0),
            keys_added: Arc::default(),
            flusher: Arc::new(GroupFlush::default()),
            search: Arc::default(),
            _lock: lock,
            writer: Arc::default(),
            gate: Arc::default(),
            index_gate: Arc::default(),
            snapshot_sealed: Arc::default(),
            dir,
        };
        // Before anything is written: a snapshot is good only for a store opened with its
        // token, and only until the next write.
        let snapshot_token = storage.take_snapshot_token()?;
        // This node is the authority on its own origin's epoch.
        if storage.t.origins.get(origin.as_bytes())?.is_none() {
            let seq = storage.last_seq()?;
            let mut batch = WriteBatch::new();
            batch.insert(
                TreeName::Origins,
                origin.as_bytes(),
                encode_origin(epoch, seq, &[]),
            );
            storage.commit_batch(batch)?;
        }
        storage.build_digests_once()?;
        storage.reannounce_stale_epoch()?;
        storage.load_search_index(snapshot_token)?;
        Ok(storage)
    }

    /// After a restore under a new epoch, signs every item of this district again under the
    /// new epoch (with new sequence numbers), so that peers get a complete full pass.
    fn reannounce_stale_epoch(&self) -> StorageResult<()> {
        let stale: Vec<(Kind, String)> = self
            .items_of_origin(&self.origin)?
            .into_iter()
            .filter(|(_, _, state)| state.epoch != self.epoch)
            .map(|(kind, id, _)| (kind, id))
            .collect();
        if stale.is_empty() {
            return Ok(());
        }
        for chunk in stale.chunks(256) {
            self.transact(|tx| {
                for (kind, id) in chunk {
                    let Some(bytes) = tx.envelopes.get(item_key(*kind, id))? else {
                        continue;
                    };
                    let envelope: setu_proto::v1::Envelope = tx_decode(&bytes)?;
                    let payload: EnvelopePayload = tx_decode(&envelope.payload)?;
                    self.commit_local(
                        tx,
                        *kind,
                        id,
                        payload.handling,
                        payload.deleted,
                        payload.body,
                    )?;
                }
                Ok(())
            })?;
        }
        self.kv.flush()?;
        tracing::info!(
            items = stale.len(),
            epoch = self.epoch,
            "re-signed this district's items under its new epoch"
        );
        Ok(())
    }

    /// Gives the database in `dir` (not open anywhere) a new random epoch, retiring the old
    /// one. A database restored from a backup must start a new epoch, so that peers resync
    /// it instead of trusting watermarks that point past what it holds. Returns the epoch.
    pub fn renew_epoch(dir: &Path, origin: &str) -> StorageResult<u64> {
        let _lock = super::lock::DataDirLock::acquire(dir)?;
        let kv = super::kv::SledKv::open(dir, OFFLINE_CACHE_BYTES)?;
        Storage::renew_epoch_on(&kv, origin)
    }

    /// [`Storage::renew_epoch`] on a database already open (and not open anywhere else),
    /// e.g. the one a restore has just written.
    pub(super) fn renew_epoch_on(kv: &dyn KvStore, origin: &str) -> StorageResult<u64> {
        let old = kv
            .get(TreeName::Meta, META_EPOCH)?
            .and_then(|v| read_u64(&v))
            .unwrap_or(0);
        let mut epoch = rand::random::<u64>().max(1);
        while epoch == old {
            epoch = rand::random::<u64>().max(1);
        }
        let seq = kv
            .get(TreeName::Meta, META_SEQ)?
            .and_then(|v| read_u64(&v))
            .unwrap_or(0);
        let mut retired = match kv.get(TreeName::Origins, origin.as_bytes())? {
            Some(v) => decode_origin(&v)?.2,
            None => Vec::new(),
        };
        if old != 0 {
            retired.push(old);
        }
        // The new epoch and the origin's entry change together.
        let mut batch = WriteBatch::new();
        batch.insert(TreeName::Meta, META_EPOCH, epoch.to_be_bytes());
        batch.insert(
            TreeName::Origins,
            origin.as_bytes(),
            encode_origin(epoch, seq, &retired),
        );
        kv.commit(batch)?;
        kv.flush()?;
        Ok(epoch)
    }

    /// This database's epoch: random, fixed at creation.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The district this store belongs to.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The highest sequence number this origin has taken (0 when nothing was written).
    pub fn last_seq(&self) -> StorageResult<u64> {
        Ok(match self.t.meta.get(META_SEQ)? {
            Some(v) => read_u64(&v).ok_or_else(|| corrupt("sequence counter", "not 8 bytes"))?,
            None => 0,
        })
    }

    /// Makes every write so far durable, then tells the sync streams that something changed.
    /// Call before acknowledging a write.
    pub async fn flush(&self) -> StorageResult<()> {
        self.flusher.flush(&self.kv).await?;
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
        Ok(())
    }

    /// A receiver that sees a new value after every flush that followed a change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// [`Storage::transact`] for a write of search documents: the returned guard is held
    /// until the caller has brought the in-memory index up to date, so that a snapshot of
    /// the index is never taken between the two.
    pub(super) fn transact_indexed<T>(
        &self,
        body: impl FnOnce(&Tx<'_>) -> TxResult<T>,
    ) -> StorageResult<(T, std::sync::RwLockReadGuard<'_, ()>)> {
        let indexing = self
            .index_gate
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let value = self.transact(body)?;
        Ok((value, indexing))
    }

    /// Runs `body` as one transaction over every tree it may touch: as the only writer,
    /// reading through its own writes, which are committed as one batch when it succeeds
    /// and dropped when it fails. Under an officer call (a
    /// [`CALL_AUDIT`](super::audit::CALL_AUDIT) scope), a transaction that committed local
    /// changes also appends the call's audit entry, listing their ids, so that the write and
    /// its entry are one commit.
    pub(super) fn transact<T>(
        &self,
        body: impl FnOnce(&Tx<'_>) -> TxResult<T>,
    ) -> StorageResult<T> {
        // Shared with every other write; only a backup's copy waits for (and holds off)
        // the writes.
        let _open = self.gate.read().unwrap_or_else(PoisonError::into_inner);
        let call = super::audit::CallAudit::current();
        let (value, seq) = self.write_tx(|tx| {
            let value = body(tx)?;
            if self
                .snapshot_sealed
                .load(std::sync::atomic::Ordering::SeqCst)
            {
                // Written after the search index's snapshot: it no longer matches.
                tx.meta
                    .remove(super::search_snapshot::META_SNAPSHOT_TOKEN)?;
            }
            let ids = tx.committed.take();
            let seq = match &call {
                Some(call) if !ids.is_empty() => {
                    Some(super::audit::append_in(&tx.audit, call.entry_for_write(&ids))?.seq)
                }
                _ => None,
            };
            Ok((value, seq))
        })?;
        if let (Some(call), Some(seq)) = (&call, seq) {
            call.note_committed(seq);
        }
        Ok(value)
    }

    /// The writer lock: one writer at a time, from its first read to its commit.
    fn writer(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `body` as the only writer, over a [`Tx`] that reads through its own pending
    /// writes, and commits those writes as one batch if the body succeeds (nothing if it
    /// fails). The bare form of [`Storage::transact`]: no backup gate, no audit entry, no
    /// snapshot token, for writes that need none (audit appends, peer bookkeeping).
    pub(super) fn write_tx<T>(
        &self,
        body: impl FnOnce(&Tx<'_>) -> TxResult<T>,
    ) -> StorageResult<T> {
        let _writer = self.writer();
        let tx = Tx::new(self.kv.as_ref());
        let value = body(&tx)?;
        let batch = tx.into_batch();
        if !batch.is_empty() {
            self.kv.commit(batch)?;
        }
        Ok(value)
    }

    /// Commits `batch` as the only writer: for writes that read nothing they depend on
    /// (or that are computed at start-up, before anyone else writes).
    pub(super) fn commit_batch(&self, batch: WriteBatch) -> StorageResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let _writer = self.writer();
        self.kv.commit(batch)
    }

    /// Takes the next sequence number of this origin, signs the change (with its signed
    /// retraction attached) and records it. Runs inside the caller's transaction.
    pub(super) fn commit_local(
        &self,
        tx: &Tx<'_>,
        kind: Kind,
        id: &str,
        handling: i32,
        deleted: bool,
        body: Vec<u8>,
    ) -> TxResult<ChangeEntry> {
        let current = match tx.meta.get(META_SEQ)? {
            Some(v) => read_u64(&v).ok_or_else(|| corrupt("sequence counter", "not 8 bytes"))?,
            None => 0,
        };
        let seq = current + 1;
        tx.meta.insert(META_SEQ, seq.to_be_bytes())?;
        let previous = tx.state(kind, id)?;
        let shared = previous.as_ref().is_some_and(|p| p.shared)
            || (!deleted && handling != Handling::LocalOnly as i32);
        let now = crate::clock::now_ms();
        let payload = EnvelopePayload {
            origin: self.origin.clone(),
            kind: item_kind(kind) as i32,
            id: id.to_string(),
            seq,
            epoch: self.epoch,
            deleted,
            retracted: false,
            handling,
            body,
            signed_at_ms: now,
        };
        let mut envelope = self.signer.sign(&payload.encode_to_vec());
        if !deleted {
            let stub = EnvelopePayload {
                retracted: true,
                body: Vec::new(),
                ..payload
            };
            envelope.retraction = Some(Box::new(self.signer.sign(&stub.encode_to_vec())));
        }
        let state = ItemState {
            origin: self.origin.clone(),
            epoch: self.epoch,
            seq,
            handling,
            shared,
            has_data: !deleted,
            deleted,
        };
        tx.record_change(
            kind,
            id,
            previous.as_ref(),
            &state,
            &envelope.encode_to_vec(),
        )?;
        tx.origins
            .insert(self.origin.as_bytes(), encode_origin(self.epoch, seq, &[]))?;
        let mut committed = tx.committed.borrow_mut();
        if !committed.iter().any(|c| c == id) {
            committed.push(id.to_string());
        }
        Ok(ChangeEntry {
            seq,
            kind,
            id: id.to_string(),
            deleted,
        })
    }

    /// Stores a record of this district, checking `expect` against what is stored, storing
    /// `new_photos`, keeping the external-reference index and photo reference counts, and
    /// logging and signing the change, all in one transaction. Every photo the record lists
    /// must be stored already or be among `new_photos`.
    pub fn put_record(
        &self,
        record: &PersonRecord,
        expect: Expect,
        new_photos: &[NewPhoto<'_>],
    ) -> StorageResult<ChangeEntry> {
        let bytes = record.encode_to_vec();
        self.transact_indexed(|tx| {
            tx.refuse_if_expunged(Kind::Record, &record.id)?;
            let old = tx.record(&record.id)?;
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
                }
            }
            let before = photo_set(old.as_ref());
            for sha in photo_set(Some(record)).difference(&before) {
                if tx.photos.get(sha.as_bytes())?.is_none() {
                    return abort(StorageError::NotFound {
                        kind: Kind::Record,
                        id: format!("{} photo {sha}", record.id),
                    });
                }
            }
            tx.move_photo_refs(old.as_ref(), Some(record))?;
            tx.records.insert(record.id.as_bytes(), bytes.as_slice())?;
            tx.index_record(&record.id, Some(record))?;
            self.commit_local(
                tx,
                Kind::Record,
                &record.id,
                record.handling,
                false,
                bytes.clone(),
            )
        })
        .and_then(|(entry, _indexing)| {
            self.reindex([(Kind::Record, record.id.as_str())])?;
            Ok(entry)
        })
    }

    /// Creates many records of this district in one transaction (each checked, indexed,
    /// logged and signed as [`put_record`](Self::put_record) does for a create without
    /// photos): a bulk load either stores every record or none. Much faster per record
    /// than one transaction each.
    pub fn put_new_records(&self, records: &[PersonRecord]) -> StorageResult<Vec<ChangeEntry>> {
        let encoded: Vec<Vec<u8>> = records.iter().map(Message::encode_to_vec).collect();
        self.transact_indexed(|tx| {
            let mut entries = Vec::with_capacity(records.len());
            for (record, bytes) in records.iter().zip(&encoded) {
                tx.refuse_if_expunged(Kind::Record, &record.id)?;
                let old = tx.record(&record.id)?;
                check_expectation(
                    Kind::Record,
                    &record.id,
                    old.as_ref().map(|r| r.version),
                    Expect::Absent,
                )?;
                if !record.photos.is_empty() {
                    return abort(StorageError::NotFound {
                        kind: Kind::Record,
                        id: format!("{} photo {}", record.id, record.photos[0].sha256),
                    });
                }
                tx.update_ext_ref(None, Some(record))?;
                tx.records.insert(record.id.as_bytes(), bytes.as_slice())?;
                tx.index_record(&record.id, Some(record))?;
                entries.push(self.commit_local(
                    tx,
                    Kind::Record,
                    &record.id,
                    record.handling,
                    false,
                    bytes.clone(),
                )?);
            }
            Ok(entries)
        })
        .and_then(|(entries, _indexing)| {
            self.reindex(records.iter().map(|r| (Kind::Record, r.id.as_str())))?;
            Ok(entries)
        })
    }

    /// Stores an MO note of this district, checking `expect`, logging and signing the change
    /// in one transaction.
    pub fn put_mo_note(&self, note: &MoNote, expect: Expect) -> StorageResult<ChangeEntry> {
        let bytes = note.encode_to_vec();
        self.transact_indexed(|tx| {
            tx.refuse_if_expunged(Kind::MoNote, &note.id)?;
            let stored = match tx.mo_notes.get(note.id.as_bytes())? {
                Some(b) => Some(tx_decode::<MoNote>(&b)?.version),
                None => None,
            };
            check_expectation(Kind::MoNote, &note.id, stored, expect)?;
            tx.mo_notes.insert(note.id.as_bytes(), bytes.as_slice())?;
            tx.index_note(&note.id, Some(note))?;
            self.commit_local(
                tx,
                Kind::MoNote,
                &note.id,
                note.handling,
                false,
                bytes.clone(),
            )
        })
        .and_then(|(entry, _indexing)| {
            self.reindex([(Kind::MoNote, note.id.as_str())])?;
            Ok(entry)
        })
    }

    /// Expunges an item of this district: removes its data (and, for a record, the photos
    /// nobody else references), leaves a tombstone at the stored version plus one, and logs
    /// and signs the deletion, in one transaction. With `expected_version`, the stored
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
        self.transact_indexed(|tx| {
            tx.refuse_if_expunged(kind, id)?;
            if kind.is_alert() {
                return abort(StorageError::Backend(format!(
                    "{kind}s are cancelled, not expunged ({id})"
                )));
            }
            let tree = tx.data_tree(kind);
            let Some(bytes) = tree.get(id.as_bytes())? else {
                return abort(StorageError::NotFound {
                    kind,
                    id: id.to_string(),
                });
            };
            let (version, origin, handling) = match kind {
                Kind::Record => {
                    let old: PersonRecord = tx_decode(&bytes)?;
                    tx.update_ext_ref(Some(&old), None)?;
                    tx.move_photo_refs(Some(&old), None)?;
                    (old.version, old.origin, old.handling)
                }
                Kind::MoNote => {
                    let old: MoNote = tx_decode(&bytes)?;
                    (old.version, old.origin, old.handling)
                }
                Kind::Alert | Kind::AlertAck => {
                    return abort(StorageError::Backend(format!(
                        "{kind}s are cancelled, not expunged ({id})"
                    )))
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
            tx.search_docs.remove(item_key(kind, id))?;
            let body = tombstone.encode_to_vec();
            tx.tombstones.insert(item_key(kind, id), body.as_slice())?;
            self.commit_local(tx, kind, id, handling, true, body)?;
            Ok(tombstone)
        })
        .and_then(|(tombstone, _indexing)| {
            self.reindex([(kind, id)])?;
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

    /// The record stored under `id` (this district's or replicated).
    pub fn record(&self, id: &str) -> StorageResult<PersonRecord> {
        match self.t.records.get(id.as_bytes())? {
            Some(b) => Ok(PersonRecord::decode(b.as_ref())?),
            None => Err(self.missing(Kind::Record, id)),
        }
    }

    /// The MO note stored under `id`.
    pub fn mo_note(&self, id: &str) -> StorageResult<MoNote> {
        match self.t.mo_notes.get(id.as_bytes())? {
            Some(b) => Ok(MoNote::decode(b.as_ref())?),
            None => Err(self.missing(Kind::MoNote, id)),
        }
    }

    /// The tombstone of an expunged item, if it was expunged.
    pub fn tombstone(&self, kind: Kind, id: &str) -> StorageResult<Option<Tombstone>> {
        match self.t.tombstones.get(item_key(kind, id))? {
            Some(b) => Ok(Some(Tombstone::decode(b.as_ref())?)),
            None => Ok(None),
        }
    }

    /// The state of an item, if this node has ever held it.
    pub fn item_state(&self, kind: Kind, id: &str) -> StorageResult<Option<ItemState>> {
        match self.t.index.get(state_key(kind, id))? {
            Some(v) => Ok(Some(decode_state(&v)?)),
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
            .t
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
        list_tree(&self.t.records, after, limit, |b| {
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
        list_tree(&self.t.mo_notes, after, limit, |b| {
            let n = MoNote::decode(b)?;
            Ok(keep(&n).then_some(n))
        })
    }

    /// The metadata of a photo referenced here.
    pub fn photo_ref(&self, sha256: &str) -> StorageResult<Option<PhotoRef>> {
        match self.t.photo_meta.get(sha256.as_bytes())? {
            Some(b) => Ok(Some(PhotoRef::decode(b.as_ref())?)),
            None => Ok(None),
        }
    }

    /// A stored photo's metadata and bytes; `None` when it is unknown or its bytes have not
    /// arrived from the peer yet.
    pub fn photo(&self, sha256: &str) -> StorageResult<Option<(PhotoRef, Vec<u8>)>> {
        let Some(meta) = self.photo_ref(sha256)? else {
            return Ok(None);
        };
        Ok(self
            .t
            .photos
            .get(sha256.as_bytes())?
            .map(|bytes| (meta, bytes.to_vec())))
    }

    /// How many records are stored (own and replicated).
    pub fn record_count(&self) -> usize {
        // A count that cannot be read counts as none; the caller only reports it.
        self.t.records.len().unwrap_or(0)
    }

    /// The database's size on disk, in bytes.
    pub fn size_on_disk(&self) -> StorageResult<u64> {
        self.kv.size_on_disk()
    }
}

fn list_tree<T>(
    tree: &KvTree,
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
