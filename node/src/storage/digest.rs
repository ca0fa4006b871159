//! Incremental anti-entropy digests: per origin and epoch, a fixed set of buckets (by a
//! hash of the item id), each holding a count and the XOR of a hash of (kind, id, seq) over
//! the items held with data, split by handling code. Every change updates its item's bucket
//! in the transaction that stores it, so a digest is read, never computed: its cost grows
//! with the number of buckets, not the number of records.
//!
//! Layout, in the `index` tree: `d + origin + NUL + epoch (8) + handling (1) + bucket (2)` →
//! count (8, big-endian) followed by the 32-byte XOR hash. A bucket whose count drops to
//! zero is removed. Bucket number [`ROOT`] (outside the range of real buckets) holds the
//! combination of all of them, kept in the same transactions, so the digest of a whole
//! origin is one read per handling code: an anti-entropy check costs the same for a
//! district of ten records as for one of a million, and grows only with the number of
//! origins. Alerts and acknowledgements travel by target district rather than by
//! handling code and are not part of the digests.
//!
//! Two nodes that hold the same items of an origin, at the same sequence numbers, have the
//! same buckets; XOR makes the digest of a set independent of the order of its changes and
//! lets the buckets of several handling codes be combined.

use super::codec::{corrupt, origin_prefix, read_u64};
use super::kv::{TreeName, WriteBatch};
use super::store::{Tx, TxResult};
use super::{ItemState, Kind, Storage, StorageResult};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;

/// How many buckets each origin's items are spread over.
pub const BUCKETS: usize = 1024;
/// The bucket number under which the combination of all buckets is kept.
const ROOT: u16 = u16::MAX;

/// A bucket's count and combined hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bucket {
    /// How many items fall in the bucket.
    pub count: u64,
    /// The XOR of their hashes.
    pub hash: [u8; 32],
}

impl Bucket {
    fn toggle(&mut self, item: &[u8; 32], add: bool) {
        for (h, i) in self.hash.iter_mut().zip(item) {
            *h ^= i;
        }
        if add {
            self.count += 1;
        } else {
            self.count = self.count.saturating_sub(1);
        }
    }

    /// Folds `other` into this bucket (the union of two disjoint sets).
    pub fn combine(&mut self, other: &Bucket) {
        for (h, o) in self.hash.iter_mut().zip(&other.hash) {
            *h ^= o;
        }
        self.count += other.count;
    }

    fn encode(&self) -> [u8; 40] {
        let mut value = [0u8; 40];
        value[..8].copy_from_slice(&self.count.to_be_bytes());
        value[8..].copy_from_slice(&self.hash);
        value
    }

    fn decode(value: &[u8]) -> StorageResult<Bucket> {
        if value.len() != 40 {
            return Err(corrupt("digest bucket", "not 40 bytes"));
        }
        let count = read_u64(&value[..8]).ok_or_else(|| corrupt("digest bucket", "count"))?;
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&value[8..]);
        Ok(Bucket { count, hash })
    }
}

/// The bucket an item id falls in.
pub fn bucket_of(id: &str) -> u16 {
    let digest = Sha256::digest(id.as_bytes());
    (u16::from_be_bytes([digest[0], digest[1]]) as usize % BUCKETS) as u16
}

/// The hash an item contributes at one change.
fn item_hash(kind: Kind, id: &str, seq: u64) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([kind.tag()]);
    hasher.update(id.as_bytes());
    hasher.update(seq.to_be_bytes());
    hasher.finalize().into()
}

/// Whether an item in `state` counts in the digests.
fn counted(kind: Kind, state: &ItemState) -> bool {
    !kind.is_alert() && state.has_data
}

fn origin_epoch_prefix(origin: &str, epoch: u64) -> Vec<u8> {
    let mut key = vec![b'd'];
    key.extend_from_slice(&origin_prefix(origin));
    key.extend_from_slice(&epoch.to_be_bytes());
    key
}

fn bucket_key(origin: &str, epoch: u64, handling: i32, bucket: u16) -> Vec<u8> {
    let mut key = origin_epoch_prefix(origin, epoch);
    key.push(handling.clamp(0, 255) as u8);
    key.extend_from_slice(&bucket.to_be_bytes());
    key
}

/// The meta key marking that the digests (with their roots) were built for every item held.
pub(super) const META_DIGESTS: &[u8] = b"digests_v2";

impl Tx<'_> {
    /// Moves an item's contribution from its `previous` state (if counted) to `state` (if
    /// counted). Runs inside the transaction that records the change.
    pub fn update_digest(
        &self,
        kind: Kind,
        id: &str,
        previous: Option<&ItemState>,
        state: Option<&ItemState>,
    ) -> TxResult<()> {
        let bucket = bucket_of(id);
        for (old, add) in [(previous, false), (state, true)] {
            let Some(s) = old else { continue };
            if !counted(kind, s) {
                continue;
            }
            let item = item_hash(kind, id, s.seq);
            for slot in [bucket, ROOT] {
                let key = bucket_key(&s.origin, s.epoch, s.handling, slot);
                let mut value = match self.index.get(&key)? {
                    Some(v) => Bucket::decode(&v)?,
                    None => Bucket::default(),
                };
                value.toggle(&item, add);
                if value.count == 0 {
                    self.index.remove(key)?;
                } else {
                    self.index.insert(key, &value.encode()[..])?;
                }
            }
        }
        Ok(())
    }
}

impl Storage {
    /// The buckets of `origin`'s items of `epoch` whose handling code is among `handlings`
    /// (protobuf values), all [`BUCKETS`] of them.
    pub fn digest_buckets(
        &self,
        origin: &str,
        epoch: u64,
        handlings: &[i32],
    ) -> StorageResult<Vec<Bucket>> {
        let mut out = vec![Bucket::default(); BUCKETS];
        let prefix = origin_epoch_prefix(origin, epoch);
        for entry in self.t.index.scan_prefix(&prefix) {
            let (key, value) = entry?;
            let rest = &key[prefix.len()..];
            let [handling, hi, lo] = rest else {
                return Err(corrupt("digest key", "bad length"));
            };
            if !handlings.contains(&i32::from(*handling)) {
                continue;
            }
            let bucket = usize::from(u16::from_be_bytes([*hi, *lo]));
            // The root (bucket number `ROOT`) is past the end and so left out.
            if let Some(slot) = out.get_mut(bucket) {
                slot.combine(&Bucket::decode(&value)?);
            }
        }
        Ok(out)
    }

    /// The combination of every bucket: the digest of the whole set, one read per
    /// handling code.
    pub fn digest_root(
        &self,
        origin: &str,
        epoch: u64,
        handlings: &[i32],
    ) -> StorageResult<Bucket> {
        let mut root = Bucket::default();
        for handling in handlings {
            if let Some(value) = self
                .t
                .index
                .get(bucket_key(origin, epoch, *handling, ROOT))?
            {
                root.combine(&Bucket::decode(&value)?);
            }
        }
        Ok(root)
    }

    /// The items of `origin` at `epoch` with one of `handlings`, counted in the digests, in
    /// the given buckets: (kind, id, seq). A scan of the item states, for repairs only.
    pub fn digest_items(
        &self,
        origin: &str,
        epoch: u64,
        handlings: &[i32],
        buckets: &[u16],
    ) -> StorageResult<Vec<(Kind, String, u64)>> {
        let wanted: std::collections::HashSet<u16> = buckets.iter().copied().collect();
        Ok(self
            .items_of_origin(origin)?
            .into_iter()
            .filter(|(kind, id, state)| {
                state.epoch == epoch
                    && counted(*kind, state)
                    && handlings.contains(&state.handling)
                    && wanted.contains(&bucket_of(id))
            })
            .map(|(kind, id, state)| (kind, id, state.seq))
            .collect())
    }

    /// Builds the digests from the item states when this database has none yet (one made
    /// before they existed), in one batch.
    pub(super) fn build_digests_once(&self) -> StorageResult<()> {
        if self.t.meta.get(META_DIGESTS)?.is_some() {
            return Ok(());
        }
        let mut buckets: HashMap<Vec<u8>, Bucket> = HashMap::new();
        for entry in self.t.index.scan_prefix(b"s") {
            let (key, value) = entry?;
            let (kind, id) = super::codec::split_item_key(&key[1..])?;
            let state = super::codec::decode_state(&value)?;
            if !counted(kind, &state) {
                continue;
            }
            let item = item_hash(kind, &id, state.seq);
            for slot in [bucket_of(&id), ROOT] {
                let key = bucket_key(&state.origin, state.epoch, state.handling, slot);
                buckets.entry(key).or_default().toggle(&item, true);
            }
        }
        let mut batch = WriteBatch::new();
        for entry in self.t.index.scan_prefix(b"d") {
            let (key, _) = entry?;
            batch.remove(TreeName::Index, key);
        }
        for (key, bucket) in &buckets {
            batch.insert(TreeName::Index, key.as_slice(), &bucket.encode()[..]);
        }
        self.commit_batch(batch)?;
        // The marker in its own commit after the buckets, as before the seam: a crash in
        // between only builds them again.
        let mut marker = WriteBatch::new();
        marker.insert(TreeName::Meta, META_DIGESTS, [1u8]);
        self.commit_batch(marker)?;
        self.kv.flush()?;
        if !buckets.is_empty() {
            tracing::info!(buckets = buckets.len(), "built the anti-entropy digests");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_combine_in_any_order_and_cancel_out() {
        let a = item_hash(Kind::Record, "a", 1);
        let b = item_hash(Kind::Record, "b", 7);
        let mut one = Bucket::default();
        one.toggle(&a, true);
        one.toggle(&b, true);
        let mut two = Bucket::default();
        two.toggle(&b, true);
        two.toggle(&a, true);
        assert_eq!(one, two);
        one.toggle(&a, false);
        one.toggle(&b, false);
        assert_eq!(one, Bucket::default());
        assert!(usize::from(bucket_of("some-id")) < BUCKETS);
        assert_eq!(
            Bucket::decode(&two.encode()).expect("a bucket"),
            two,
            "the encoding round-trips"
        );
    }
}
