//! The key-value seam under the storage layer: the few operations Setu needs from a
//! database engine, over a fixed set of named trees, with no engine type in sight.
//!
//! The storage layer (`store.rs` and its siblings) is written against [`KvStore`] only, so
//! the engine can be swapped, and the same code runs over the on-disk engine in production
//! ([`SledKv`], in `kv/sled.rs`, the only file that names sled) and over an in-memory one
//! in tests ([`MemoryKv`]).
//!
//! What an engine must provide:
//! - reads of one key, and lazy scans of a key range in either direction (a scan need not
//!   be a snapshot: it sees each key as committed when the scan reaches it);
//! - [`KvStore::commit`]: one [`WriteBatch`] of inserts and removals over several trees,
//!   applied all or nothing and visible to readers all at once;
//! - [`KvStore::flush`]: everything committed before the call is durable when it returns.
//!
//! Transactions (read, decide, write) are not the engine's business: the storage layer
//! lets one writer at a time read through its own pending writes and then commits them as
//! one batch (see `Storage::transact`).

#[cfg(test)]
pub(crate) mod memory;
pub(crate) mod sled;

pub(crate) use self::sled::SledKv;
#[cfg(test)]
pub(crate) use memory::MemoryKv;

use super::StorageResult;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

/// The trees of a district's store. Their names are the engine's tree names and the names
/// in a backup file, so they must never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TreeName {
    Records,
    MoNotes,
    Tombstones,
    Envelopes,
    Log,
    Index,
    Meta,
    Origins,
    Watermarks,
    Photos,
    PhotoMeta,
    PeerAcks,
    Keys,
    SearchDocs,
    Alerts,
    Audit,
}

impl TreeName {
    /// Every tree, in a fixed order (the order a backup writes them in).
    pub(crate) const ALL: [TreeName; 16] = [
        TreeName::Records,
        TreeName::MoNotes,
        TreeName::Tombstones,
        TreeName::Envelopes,
        TreeName::Log,
        TreeName::Index,
        TreeName::Meta,
        TreeName::Origins,
        TreeName::Watermarks,
        TreeName::Photos,
        TreeName::PhotoMeta,
        TreeName::PeerAcks,
        TreeName::Keys,
        TreeName::SearchDocs,
        TreeName::Alerts,
        TreeName::Audit,
    ];

    /// The tree's name in the engine and in backups.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TreeName::Records => "records",
            TreeName::MoNotes => "mo_notes",
            TreeName::Tombstones => "tombstones",
            TreeName::Envelopes => "envelopes",
            TreeName::Log => "log",
            TreeName::Index => "index",
            TreeName::Meta => "meta",
            TreeName::Origins => "origins",
            TreeName::Watermarks => "watermarks",
            TreeName::Photos => "photos",
            TreeName::PhotoMeta => "photo_meta",
            TreeName::PeerAcks => "peer_acks",
            TreeName::Keys => "keys",
            TreeName::SearchDocs => "search_docs",
            TreeName::Alerts => "alerts",
            TreeName::Audit => "audit",
        }
    }

    /// The tree called `name`, if it is one of the store's.
    pub(crate) fn from_name(name: &[u8]) -> Option<TreeName> {
        TreeName::ALL
            .into_iter()
            .find(|tree| tree.as_str().as_bytes() == name)
    }

    /// The tree's position in [`TreeName::ALL`], for engines that keep their trees in an
    /// array.
    pub(crate) fn position(self) -> usize {
        self as usize
    }
}

/// One entry read from a tree: key and value, owned.
pub(crate) type Entry = (Vec<u8>, Vec<u8>);

/// A lazy scan over entries in key order (or reverse key order).
pub(crate) type KvIter<'a> = Box<dyn Iterator<Item = StorageResult<Entry>> + 'a>;

/// The writes of one tree in a batch: key → new value, or `None` for a removal. A later
/// write of the same key replaces an earlier one.
pub(crate) type TreeWrites = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Inserts and removals over several trees, committed all or nothing by
/// [`KvStore::commit`].
#[derive(Debug, Default)]
pub(crate) struct WriteBatch {
    trees: BTreeMap<TreeName, TreeWrites>,
}

impl WriteBatch {
    /// An empty batch.
    pub(crate) fn new() -> WriteBatch {
        WriteBatch::default()
    }

    /// Sets `key` of `tree` to `value`.
    pub(crate) fn insert(
        &mut self,
        tree: TreeName,
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) {
        self.trees
            .entry(tree)
            .or_default()
            .insert(key.into(), Some(value.into()));
    }

    /// Removes `key` from `tree` (nothing happens if it is absent).
    pub(crate) fn remove(&mut self, tree: TreeName, key: impl Into<Vec<u8>>) {
        self.trees.entry(tree).or_default().insert(key.into(), None);
    }

    /// Adds a whole tree's writes (replacing writes of the same keys already in the batch).
    pub(crate) fn extend_tree(&mut self, tree: TreeName, writes: TreeWrites) {
        if writes.is_empty() {
            return;
        }
        match self.trees.get_mut(&tree) {
            Some(existing) => existing.extend(writes),
            None => {
                self.trees.insert(tree, writes);
            }
        }
    }

    /// How many writes the batch holds, over all trees.
    pub(crate) fn len(&self) -> usize {
        self.trees.values().map(BTreeMap::len).sum()
    }

    /// Whether the batch holds no write.
    pub(crate) fn is_empty(&self) -> bool {
        self.trees.values().all(BTreeMap::is_empty)
    }

    /// The batch's writes, tree by tree (trees without writes left out).
    pub(crate) fn into_trees(self) -> impl Iterator<Item = (TreeName, TreeWrites)> {
        self.trees.into_iter().filter(|(_, w)| !w.is_empty())
    }
}

/// A database engine as the storage layer sees it. See the module documentation for what
/// each operation promises.
pub(crate) trait KvStore: Send + Sync + 'static {
    /// The value of `key` in `tree`.
    fn get(&self, tree: TreeName, key: &[u8]) -> StorageResult<Option<Vec<u8>>>;

    /// The entries of `tree` between `lower` and `upper`, in key order, or in reverse key
    /// order with `reverse`.
    fn range(
        &self,
        tree: TreeName,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        reverse: bool,
    ) -> KvIter<'_>;

    /// How many entries `tree` holds (may cost a scan).
    fn len(&self, tree: TreeName) -> StorageResult<usize>;

    /// Applies every write of `batch` atomically: readers see all of them or none, and
    /// after a crash either all of them or none are there.
    fn commit(&self, batch: WriteBatch) -> StorageResult<()>;

    /// Makes everything committed so far durable.
    fn flush(&self) -> StorageResult<()>;

    /// The space the database takes on disk, in bytes (an estimate for the memory engine).
    fn size_on_disk(&self) -> StorageResult<u64>;
}

/// The smallest key greater than every key starting with `prefix`, if there is one (there
/// is none when the prefix is empty or all `0xFF`).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Whether a range with these bounds is empty whatever the keys (engines panic on a range
/// whose start lies after its end, so they return nothing for one instead).
pub(crate) fn is_inverted(lower: &Bound<Vec<u8>>, upper: &Bound<Vec<u8>>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(u))
        | (Bound::Excluded(l), Bound::Included(u)) => l >= u,
        _ => false,
    }
}

fn owned_bound(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    match bound {
        Bound::Included(k) => Bound::Included(k.to_vec()),
        Bound::Excluded(k) => Bound::Excluded(k.to_vec()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// A read handle on one tree of a store: what the storage layer's read paths hold in place
/// of an engine's tree type. Writes go through `Storage`'s writer, never through here.
#[derive(Clone)]
pub(crate) struct KvTree {
    kv: Arc<dyn KvStore>,
    name: TreeName,
}

impl KvTree {
    /// The handle on `name` in `kv`.
    pub(crate) fn new(kv: Arc<dyn KvStore>, name: TreeName) -> KvTree {
        KvTree { kv, name }
    }

    /// The store the tree belongs to.
    pub(crate) fn kv(&self) -> &Arc<dyn KvStore> {
        &self.kv
    }

    /// The value of `key`.
    pub(crate) fn get(&self, key: impl AsRef<[u8]>) -> StorageResult<Option<Vec<u8>>> {
        self.kv.get(self.name, key.as_ref())
    }

    /// Every entry, in key order.
    pub(crate) fn iter(&self) -> KvIter<'_> {
        self.kv
            .range(self.name, Bound::Unbounded, Bound::Unbounded, false)
    }

    /// The entries whose keys fall in `range`, in key order.
    pub(crate) fn range<K: AsRef<[u8]>>(&self, range: impl std::ops::RangeBounds<K>) -> KvIter<'_> {
        let (lower, upper) = bounds(&range);
        self.kv.range(self.name, lower, upper, false)
    }

    /// The entries whose keys fall in `range`, in reverse key order.
    pub(crate) fn range_rev<K: AsRef<[u8]>>(
        &self,
        range: impl std::ops::RangeBounds<K>,
    ) -> KvIter<'_> {
        let (lower, upper) = bounds(&range);
        self.kv.range(self.name, lower, upper, true)
    }

    /// The entries whose keys start with `prefix`, in key order.
    pub(crate) fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> KvIter<'_> {
        let prefix = prefix.as_ref();
        let upper = match prefix_end(prefix) {
            Some(end) => Bound::Excluded(end),
            None => Bound::Unbounded,
        };
        self.kv
            .range(self.name, Bound::Included(prefix.to_vec()), upper, false)
    }

    /// How many entries the tree holds.
    pub(crate) fn len(&self) -> StorageResult<usize> {
        self.kv.len(self.name)
    }
}

fn bounds<K: AsRef<[u8]>>(
    range: &impl std::ops::RangeBounds<K>,
) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let map = |b: Bound<&K>| owned_bound(b.map(AsRef::as_ref));
    (map(range.start_bound()), map(range.end_bound()))
}

/// Test-only writes straight to a tree, bypassing the storage layer's writer: for tests
/// that damage or empty a tree behind the store's back.
#[cfg(test)]
impl KvTree {
    /// Sets `key` to `value` in its own commit.
    pub(crate) fn insert(&self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        let mut batch = WriteBatch::new();
        batch.insert(self.name, key, value);
        self.kv.commit(batch).expect("test write");
    }

    /// Removes `key` in its own commit.
    pub(crate) fn remove(&self, key: impl Into<Vec<u8>>) {
        let mut batch = WriteBatch::new();
        batch.remove(self.name, key);
        self.kv.commit(batch).expect("test write");
    }

    /// Whether the tree is empty.
    pub(crate) fn is_empty(&self) -> StorageResult<bool> {
        Ok(self.iter().next().transpose()?.is_none())
    }

    /// Removes every entry in one commit.
    pub(crate) fn clear(&self) {
        let mut batch = WriteBatch::new();
        for entry in self.iter() {
            batch.remove(self.name, entry.expect("test read").0);
        }
        self.kv.commit(batch).expect("test write");
    }
}

#[cfg(test)]
mod tests {
    //! The engine contract, checked on both engines.
    use super::*;

    fn engines() -> Vec<(&'static str, Arc<dyn KvStore>, Option<tempfile::TempDir>)> {
        let dir = tempfile::tempdir().expect("tempdir");
        let on_disk = SledKv::open(dir.path(), 8 * 1024 * 1024).expect("open sled");
        vec![
            ("sled", Arc::new(on_disk), Some(dir)),
            ("memory", Arc::new(MemoryKv::new()), None),
        ]
    }

    fn keys(iter: KvIter<'_>) -> Vec<Vec<u8>> {
        iter.map(|e| e.expect("read").0).collect()
    }

    #[test]
    fn a_batch_over_several_trees_lands_whole_and_later_writes_win() {
        for (engine, kv, _dir) in engines() {
            let mut batch = WriteBatch::new();
            batch.insert(TreeName::Records, b"a".to_vec(), b"1".to_vec());
            batch.insert(TreeName::Index, b"x".to_vec(), b"2".to_vec());
            batch.insert(TreeName::Meta, b"m".to_vec(), b"3".to_vec());
            batch.remove(TreeName::Meta, b"m".to_vec());
            batch.insert(TreeName::Records, b"b".to_vec(), b"4".to_vec());
            assert_eq!(batch.len(), 4, "{engine}");
            kv.commit(batch).expect("commit");
            assert_eq!(
                kv.get(TreeName::Records, b"a").unwrap(),
                Some(b"1".to_vec())
            );
            assert_eq!(kv.get(TreeName::Index, b"x").unwrap(), Some(b"2".to_vec()));
            assert_eq!(kv.get(TreeName::Meta, b"m").unwrap(), None, "{engine}");
            assert_eq!(kv.len(TreeName::Records).unwrap(), 2, "{engine}");
            // A single-tree batch, and a removal of an absent key.
            let mut batch = WriteBatch::new();
            batch.remove(TreeName::Records, b"a".to_vec());
            batch.remove(TreeName::Records, b"zz".to_vec());
            kv.commit(batch).expect("commit");
            assert_eq!(kv.len(TreeName::Records).unwrap(), 1, "{engine}");
            kv.commit(WriteBatch::new()).expect("an empty batch");
            kv.flush().expect("flush");
            assert!(kv.size_on_disk().unwrap() > 0, "{engine}");
        }
    }

    #[test]
    fn scans_respect_bounds_prefixes_and_direction() {
        for (engine, kv, _dir) in engines() {
            let mut batch = WriteBatch::new();
            for key in ["a", "b1", "b2", "b3", "c"] {
                batch.insert(TreeName::Log, key.as_bytes(), key.as_bytes());
            }
            batch.insert(TreeName::Log, vec![b'b', 0xFF], b"ff".to_vec());
            kv.commit(batch).expect("commit");
            let tree = KvTree::new(kv.clone(), TreeName::Log);
            let strs = |v: Vec<Vec<u8>>| -> Vec<String> {
                v.into_iter()
                    .map(|k| String::from_utf8_lossy(&k).into_owned())
                    .collect()
            };
            assert_eq!(
                strs(keys(tree.scan_prefix(b"b"))),
                ["b1", "b2", "b3", "b\u{FFFD}"],
                "{engine}"
            );
            assert_eq!(
                strs(keys(tree.range(b"b2".to_vec()..))),
                ["b2", "b3", "b\u{FFFD}", "c"],
                "{engine}"
            );
            assert_eq!(
                strs(keys(tree.range(b"b1".to_vec()..b"b3".to_vec()))),
                ["b1", "b2"],
                "{engine}"
            );
            assert_eq!(
                strs(keys(tree.range_rev(b"a".to_vec()..=b"b2".to_vec()))),
                ["b2", "b1", "a"],
                "{engine}"
            );
            assert_eq!(
                strs(keys(tree.range_rev::<Vec<u8>>(..))),
                ["c", "b\u{FFFD}", "b3", "b2", "b1", "a"],
                "{engine}"
            );
            assert_eq!(keys(tree.iter()).len(), 6, "{engine}");
            assert!(!tree.is_empty().unwrap(), "{engine}");
            assert!(
                KvTree::new(kv.clone(), TreeName::Keys).is_empty().unwrap(),
                "{engine}"
            );
        }
    }

    #[test]
    fn a_scan_goes_on_past_writes_made_while_it_runs() {
        for (engine, kv, _dir) in engines() {
            let mut batch = WriteBatch::new();
            for i in 0u32..1000 {
                batch.insert(TreeName::Records, i.to_be_bytes(), b"v".to_vec());
            }
            kv.commit(batch).expect("commit");
            let tree = KvTree::new(kv.clone(), TreeName::Records);
            let mut seen = 0;
            for entry in tree.iter() {
                let (key, _) = entry.expect("read");
                // Removing what was already seen does not disturb the scan.
                let mut batch = WriteBatch::new();
                batch.remove(TreeName::Records, key);
                kv.commit(batch).expect("commit");
                seen += 1;
            }
            assert_eq!(seen, 1000, "{engine}");
            assert_eq!(kv.len(TreeName::Records).unwrap(), 0, "{engine}");
        }
    }

    #[test]
    fn prefix_end_is_the_next_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[b'a', 0xFF]), Some(b"b".to_vec()));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
        assert_eq!(prefix_end(b""), None);
    }

    #[test]
    fn tree_names_round_trip() {
        for tree in TreeName::ALL {
            assert_eq!(TreeName::from_name(tree.as_str().as_bytes()), Some(tree));
            assert_eq!(TreeName::ALL[tree.position()], tree);
        }
        assert_eq!(TreeName::from_name(b"changes"), None);
    }
}
