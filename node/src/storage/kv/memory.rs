//! An in-memory engine behind [`KvStore`], so that the storage layer's tests run without
//! a folder and check that nothing depends on sled's particular behaviour. Compiled for
//! tests only.
//!
//! Every tree is a `BTreeMap` behind one `RwLock`: a commit takes the write lock once for
//! the whole batch, so readers see all of it or none. Scans are lazy and read a chunk of
//! entries per lock, continuing after the last key they returned, so a caller may write
//! while it scans (as it may with sled) and sees each key as committed when the scan
//! reaches it. Nothing is durable: `flush` does nothing.

use super::{Entry, KvIter, KvStore, TreeName, WriteBatch};
use crate::storage::StorageResult;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{PoisonError, RwLock};

/// Entries read per lock by a scan.
const SCAN_CHUNK: usize = 128;

type Tree = BTreeMap<Vec<u8>, Vec<u8>>;

/// A store that lives and dies with the process.
pub(crate) struct MemoryKv {
    /// The trees, in the order of [`TreeName::ALL`].
    trees: RwLock<Vec<Tree>>,
}

impl MemoryKv {
    /// An empty store.
    pub(crate) fn new() -> MemoryKv {
        MemoryKv {
            trees: RwLock::new(vec![Tree::new(); TreeName::ALL.len()]),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Tree>> {
        self.trees.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MemoryKv {
    fn default() -> Self {
        MemoryKv::new()
    }
}

/// A lazy scan of one tree: each step reads up to [`SCAN_CHUNK`] entries under the read
/// lock, then narrows its bounds past the last one.
struct Scan<'a> {
    kv: &'a MemoryKv,
    tree: TreeName,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    reverse: bool,
    ready: std::vec::IntoIter<Entry>,
    done: bool,
}

impl Scan<'_> {
    fn refill(&mut self) {
        let trees = self.kv.read();
        let tree = &trees[self.tree.position()];
        let range = tree.range::<Vec<u8>, _>((self.lower.clone(), self.upper.clone()));
        let chunk: Vec<Entry> = if self.reverse {
            range
                .rev()
                .take(SCAN_CHUNK)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        } else {
            range
                .take(SCAN_CHUNK)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        if chunk.len() < SCAN_CHUNK {
            self.done = true;
        }
        if let Some((last, _)) = chunk.last() {
            if self.reverse {
                self.upper = Bound::Excluded(last.clone());
            } else {
                self.lower = Bound::Excluded(last.clone());
            }
        }
        self.ready = chunk.into_iter();
    }
}

impl Iterator for Scan<'_> {
    type Item = StorageResult<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(entry) = self.ready.next() {
            return Some(Ok(entry));
        }
        if self.done {
            return None;
        }
        self.refill();
        self.ready.next().map(Ok)
    }
}

impl KvStore for MemoryKv {
    fn get(&self, tree: TreeName, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        Ok(self.read()[tree.position()].get(key).cloned())
    }

    fn range(
        &self,
        tree: TreeName,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        reverse: bool,
    ) -> KvIter<'_> {
        if super::is_inverted(&lower, &upper) {
            return Box::new(std::iter::empty());
        }
        Box::new(Scan {
            kv: self,
            tree,
            lower,
            upper,
            reverse,
            ready: Vec::new().into_iter(),
            done: false,
        })
    }

    fn len(&self, tree: TreeName) -> StorageResult<usize> {
        Ok(self.read()[tree.position()].len())
    }

    fn commit(&self, batch: WriteBatch) -> StorageResult<()> {
        let mut trees = self.trees.write().unwrap_or_else(PoisonError::into_inner);
        for (name, writes) in batch.into_trees() {
            let tree = &mut trees[name.position()];
            for (key, value) in writes {
                match value {
                    Some(value) => {
                        tree.insert(key, value);
                    }
                    None => {
                        tree.remove(&key);
                    }
                }
            }
        }
        Ok(())
    }

    fn flush(&self) -> StorageResult<()> {
        Ok(())
    }

    fn size_on_disk(&self) -> StorageResult<u64> {
        Ok(self
            .read()
            .iter()
            .flat_map(|tree| tree.iter())
            .map(|(k, v)| (k.len() + v.len()) as u64)
            .sum())
    }
}
