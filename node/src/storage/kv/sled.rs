//! The sled engine behind [`KvStore`]: the one file of the node that names sled, so that
//! its types, errors and quirks stay here.
//!
//! Each [`TreeName`] is a sled tree of the same name, opened once. A batch that touches
//! one tree is applied with `Tree::apply_batch` (atomic for that tree); a batch over
//! several trees is one sled transaction over just the trees it touches, which applies
//! each tree's part inside it. The storage layer lets one writer commit at a time, so
//! these transactions never conflict with each other.

use super::{Entry, KvIter, KvStore, TreeName, TreeWrites, WriteBatch};
use crate::storage::{StorageError, StorageResult};
use ::sled::transaction::{TransactionError, Transactional};
use std::ops::Bound;
use std::path::Path;

/// How long [`SledKv::open`] waits for sled's file lock to be let go by this process.
const LOCK_GRACE: std::time::Duration = std::time::Duration::from_millis(1000);

/// Whether sled refused to open because its file lock is held.
fn is_lock_error(err: &::sled::Error) -> bool {
    err.to_string().contains("could not acquire lock")
}

/// A sled error as the storage layer's engine failure.
fn backend(err: ::sled::Error) -> StorageError {
    StorageError::Backend(err.to_string())
}

/// A sled database with every tree of the store open.
pub(crate) struct SledKv {
    db: ::sled::Db,
    /// The trees, in the order of [`TreeName::ALL`].
    trees: Vec<::sled::Tree>,
}

impl SledKv {
    /// Opens (or creates) the database in `dir`, with a page cache of `cache_bytes`. The
    /// caller holds the data folder's lock, so sled's own file lock can only be held by
    /// this process, by a database just closed whose background writes have not let go of
    /// the file yet: that is waited for, briefly.
    pub(crate) fn open(dir: &Path, cache_bytes: u64) -> StorageResult<SledKv> {
        let deadline = std::time::Instant::now() + LOCK_GRACE;
        loop {
            let opened = ::sled::Config::new()
                .path(dir)
                .cache_capacity(cache_bytes)
                .open();
            match opened {
                Ok(db) => return SledKv::with_trees(db),
                Err(e) if is_lock_error(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => {
                    return Err(StorageError::Backend(format!(
                        "cannot open {}: {e}",
                        dir.display()
                    )))
                }
            }
        }
    }

    /// Opens the existing database in `dir` for an offline tool, with sled's default
    /// cache: fails when `dir` holds no database, and says so plainly when a running node
    /// holds it (sled allows one opener).
    pub(crate) fn open_existing(dir: &Path) -> StorageResult<SledKv> {
        if !dir.join("db").exists() && !dir.join("conf").exists() {
            return Err(StorageError::Backend(format!(
                "{} holds no Setu database",
                dir.display()
            )));
        }
        let db = ::sled::Config::new().path(dir).open().map_err(|e| {
            let text = e.to_string();
            if is_lock_error(&e) {
                StorageError::Backend(format!(
                    "the database in {} is in use, probably by a running setu-node; stop the node first",
                    dir.display()
                ))
            } else {
                StorageError::Backend(format!("cannot open {}: {text}", dir.display()))
            }
        })?;
        SledKv::with_trees(db)
    }

    fn with_trees(db: ::sled::Db) -> StorageResult<SledKv> {
        let trees = TreeName::ALL
            .iter()
            .map(|name| db.open_tree(name.as_str()).map_err(backend))
            .collect::<StorageResult<Vec<_>>>()?;
        Ok(SledKv { db, trees })
    }

    fn tree(&self, name: TreeName) -> &::sled::Tree {
        &self.trees[name.position()]
    }
}

fn sled_batch(writes: &TreeWrites) -> ::sled::Batch {
    let mut batch = ::sled::Batch::default();
    for (key, value) in writes {
        match value {
            Some(value) => batch.insert(key.as_slice(), value.as_slice()),
            None => batch.remove(key.as_slice()),
        }
    }
    batch
}

fn sled_bound(bound: Bound<Vec<u8>>) -> Bound<::sled::IVec> {
    match bound {
        Bound::Included(k) => Bound::Included(k.into()),
        Bound::Excluded(k) => Bound::Excluded(k.into()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn owned(item: ::sled::Result<(::sled::IVec, ::sled::IVec)>) -> StorageResult<Entry> {
    item.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(backend)
}

impl KvStore for SledKv {
    fn get(&self, tree: TreeName, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        Ok(self
            .tree(tree)
            .get(key)
            .map_err(backend)?
            .map(|v| v.to_vec()))
    }

    fn range(
        &self,
        tree: TreeName,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        reverse: bool,
    ) -> KvIter<'_> {
        // sled panics on a range whose start lies after its end; such a range is empty.
        if super::is_inverted(&lower, &upper) {
            return Box::new(std::iter::empty());
        }
        let iter = self
            .tree(tree)
            .range::<::sled::IVec, _>((sled_bound(lower), sled_bound(upper)));
        if reverse {
            Box::new(iter.rev().map(owned))
        } else {
            Box::new(iter.map(owned))
        }
    }

    fn len(&self, tree: TreeName) -> StorageResult<usize> {
        Ok(self.tree(tree).len())
    }

    fn commit(&self, batch: WriteBatch) -> StorageResult<()> {
        let parts: Vec<(TreeName, TreeWrites)> = batch.into_trees().collect();
        match parts.as_slice() {
            [] => Ok(()),
            [(name, writes)] => self
                .tree(*name)
                .apply_batch(sled_batch(writes))
                .map_err(backend),
            _ => {
                let trees: Vec<::sled::Tree> = parts
                    .iter()
                    .map(|(name, _)| self.tree(*name).clone())
                    .collect();
                let batches: Vec<::sled::Batch> =
                    parts.iter().map(|(_, writes)| sled_batch(writes)).collect();
                let result: Result<(), TransactionError<()>> =
                    trees.as_slice().transaction(|views| {
                        for (view, batch) in views.iter().zip(&batches) {
                            view.apply_batch(batch)?;
                        }
                        Ok(())
                    });
                result.map_err(|e| match e {
                    TransactionError::Storage(e) => backend(e),
                    TransactionError::Abort(()) => {
                        StorageError::Backend("a write batch was aborted".into())
                    }
                })
            }
        }
    }

    fn flush(&self) -> StorageResult<()> {
        self.db.flush().map(|_| ()).map_err(backend)
    }

    fn size_on_disk(&self) -> StorageResult<u64> {
        self.db.size_on_disk().map_err(backend)
    }
}
