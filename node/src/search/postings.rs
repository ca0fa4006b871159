//! Posting lists compact enough for millions of distinct terms: term → slots in ascending
//! order, keyed by a 64-bit hash of the term rather than by its text.
//!
//! A million records carry several million distinct terms, most of them carried by one
//! record only (phones, vehicles, FIR numbers, joined name pairs). A hash map from a
//! boxed term to a vector costs some 60 bytes per term before the first posting; here a
//! term costs its 8-byte hash, a 4-byte offset and its list, delta- and
//! varint-encoded (one to three bytes per posting).
//!
//! The lists live in two parts: the merged part (term hashes sorted, lists packed in one
//! byte buffer, found by binary search) and the recent part (a hash map of plain vectors)
//! that takes new postings. The recent part is merged in when it has grown to a
//! sixteenth of the merged part, so that its share of memory stays small and the cost
//! of merging, linear in the whole, is spread over many insertions.
//!
//! A merged list holding at least one slot in [`DENSE_SHARE`] (and [`DENSE_MIN`] slots)
//! is kept as a bitmap instead: the commonest names ("Kumar", "Devi", their phonetic
//! codes) are carried by a tenth of a million records, and a search ORs such a bitmap
//! into its candidate set a word at a time instead of decoding a hundred thousand
//! varints. Few terms are that common, so the bitmaps cost a few bytes per record.
//!
//! Two different terms with the same 64-bit hash would share a list. Among ten million
//! terms that happens with a probability of about 3 in a million per index, and the
//! index's users check what a posting stands for where they can: names are scored in
//! full, phones, vehicles and ids compared with the record's own. Only an FIR key or an
//! MO note word sharing its hash with another term could add a candidate.

use std::collections::HashMap;
use std::hash::Hasher;

use super::memory::{table, vec};

/// The 64-bit hash of a term (SipHash-1-3 with fixed keys, so the same in every run).
pub(crate) fn term_hash(term: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    hasher.write(term.as_bytes());
    hasher.finish()
}

/// The recent part is merged once its postings reach this many, or a sixteenth of the
/// merged part's, whichever is more.
const MIN_RECENT: usize = 1 << 15;

/// A merged list is kept as a bitmap once it holds at least one in this many of the
/// slots seen ...
const DENSE_SHARE: usize = 32;
/// ... and at least this many slots.
const DENSE_MIN: usize = 4096;

/// Posting lists keyed by term hash (see the module documentation).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct HashedPostings {
    /// The merged terms' hashes, ascending.
    keys: Vec<u64>,
    /// Where each merged term's list starts in `bytes`, and, last, where the last ends.
    starts: Vec<u32>,
    /// The merged lists: each slot as the varint of its difference from the previous one
    /// (the first from zero).
    bytes: Vec<u8>,
    /// Postings added since the last merge, per term hash, ascending.
    recent: HashMap<u64, Vec<u32>>,
    /// Postings in `recent`.
    recent_postings: usize,
    /// Postings in the merged part.
    merged_postings: usize,
    /// The merged lists kept as bitmaps (bit `s % 64` of word `s / 64` for slot `s`), by
    /// term hash; such a term's list in `bytes` is empty.
    dense: HashMap<u64, Vec<u64>>,
    /// One more than the highest slot added.
    slots_seen: usize,
}

/// Whether a merged list of `count` slots among `slots_seen` is kept as a bitmap.
fn is_dense(count: usize, slots_seen: usize) -> bool {
    count >= DENSE_MIN && count.saturating_mul(DENSE_SHARE) >= slots_seen
}

/// Sets the bit of every slot of `slots` in `bitmap`, growing it as needed.
fn set_bits(bitmap: &mut Vec<u64>, slots: impl IntoIterator<Item = u32>) {
    for slot in slots {
        let word = slot as usize / 64;
        if bitmap.len() <= word {
            bitmap.resize(word + 1, 0);
        }
        bitmap[word] |= 1 << (slot % 64);
    }
}

/// The slots whose bits are set in `bitmap`, ascending.
fn bitmap_slots(bitmap: &[u64]) -> impl Iterator<Item = u32> + '_ {
    bitmap.iter().enumerate().flat_map(|(i, &word)| {
        let mut word = word;
        std::iter::from_fn(move || {
            if word == 0 {
                return None;
            }
            let bit = word.trailing_zeros();
            word &= word - 1;
            Some((i * 64) as u32 + bit)
        })
    })
}

/// The number of slots of an encoded list (one final byte per varint).
fn encoded_count(list: &[u8]) -> usize {
    list.iter().filter(|&&b| b & 0x80 == 0).count()
}

fn push_varint(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The slots of one encoded list, in order.
#[derive(Clone)]
pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
    at: usize,
    last: u32,
}

impl Iterator for Decoder<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let mut value = 0u32;
        let mut shift = 0;
        loop {
            let byte = *self.bytes.get(self.at)?;
            self.at += 1;
            value |= u32::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        self.last = self.last.wrapping_add(value);
        Some(self.last)
    }
}

fn decode(bytes: &[u8]) -> Decoder<'_> {
    Decoder {
        bytes,
        at: 0,
        last: 0,
    }
}

/// Appends `slots` (ascending, each above `last`) to an encoded list ending at `last`.
fn encode_after(out: &mut Vec<u8>, mut last: u32, slots: impl IntoIterator<Item = u32>) {
    for slot in slots {
        push_varint(out, slot.wrapping_sub(last));
        last = slot;
    }
}

impl HashedPostings {
    /// Adds `slot` to the list of the term hashed to `hash`. Slots must be added in
    /// ascending order per term; adding the last one again does nothing.
    pub(crate) fn add(&mut self, hash: u64, slot: u32) {
        let list = self.recent.entry(hash).or_default();
        if list.last().is_some_and(|&last| last >= slot) {
            return;
        }
        list.push(slot);
        self.recent_postings += 1;
        self.slots_seen = self.slots_seen.max(slot as usize + 1);
    }

    /// Merges the recent part in if it has grown enough (see [`MIN_RECENT`]); in `bulk`
    /// (a build from scratch, shrunk at its end) only once it is as large as the merged
    /// part, so that a build merges a few times rather than a hundred.
    pub(crate) fn merge_if_needed(&mut self, bulk: bool) {
        let share = if bulk {
            self.merged_postings
        } else {
            self.merged_postings / 16
        };
        if self.recent_postings >= MIN_RECENT.max(share) {
            self.merge();
        }
    }

    /// The index of the merged term hashed to `hash`.
    fn find(&self, hash: u64) -> Option<usize> {
        self.keys.binary_search(&hash).ok()
    }

    /// The encoded merged list of term `i`.
    fn merged_list(&self, i: usize) -> &[u8] {
        let start = self.starts.get(i).copied().unwrap_or(0) as usize;
        let end = self.starts.get(i + 1).copied().unwrap_or(0) as usize;
        self.bytes.get(start..end).unwrap_or_default()
    }

    /// The slots of the term hashed to `hash`, ascending.
    pub(crate) fn get(&self, hash: u64) -> impl Iterator<Item = u32> + '_ {
        let merged = self.find(hash).map(|i| self.merged_list(i)).unwrap_or(&[]);
        let bitmap = self.dense.get(&hash).map(Vec::as_slice).unwrap_or(&[]);
        let recent = self.recent.get(&hash).map(Vec::as_slice).unwrap_or(&[]);
        bitmap_slots(bitmap)
            .chain(decode(merged))
            .chain(recent.iter().copied())
    }

    /// Sets the bit of every slot of the term hashed to `hash` in `bits` (bit `s % 64` of
    /// word `s / 64`; slots past its end are left out): a bitmap list is ORed in a word
    /// at a time.
    pub(crate) fn or_into(&self, hash: u64, bits: &mut [u64]) {
        fn set(bits: &mut [u64], slot: u32) {
            if let Some(word) = bits.get_mut(slot as usize / 64) {
                *word |= 1 << (slot % 64);
            }
        }
        if let Some(bitmap) = self.dense.get(&hash) {
            for (word, add) in bits.iter_mut().zip(bitmap) {
                *word |= add;
            }
        } else if let Some(i) = self.find(hash) {
            decode(self.merged_list(i)).for_each(|slot| set(bits, slot));
        }
        if let Some(recent) = self.recent.get(&hash) {
            recent.iter().for_each(|&slot| set(bits, slot));
        }
    }

    /// Folds the recent part into the merged part.
    pub(crate) fn merge(&mut self) {
        if self.recent.is_empty() {
            return;
        }
        let mut recent: Vec<(u64, Vec<u32>)> = self.recent.drain().collect();
        recent.sort_unstable_by_key(|(hash, _)| *hash);
        let mut keys = Vec::with_capacity(self.keys.len() + recent.len());
        let mut starts = Vec::with_capacity(self.keys.len() + recent.len() + 1);
        let mut bytes = Vec::with_capacity(self.bytes.len() + self.recent_postings * 3);
        let mut old = 0;
        let mut new = recent.into_iter().peekable();
        let mut dense = std::mem::take(&mut self.dense);
        loop {
            let old_key = self.keys.get(old).copied();
            let new_key = new.peek().map(|(hash, _)| *hash);
            let (key, from_old, from_new) = match (old_key, new_key) {
                (None, None) => break,
                (Some(o), None) => (o, true, false),
                (None, Some(n)) => (n, false, true),
                (Some(o), Some(n)) => (o.min(n), o <= n, n <= o),
            };
            keys.push(key);
            let start = bytes.len();
            starts.push(u32::try_from(start).unwrap_or(u32::MAX));
            if let Some(bitmap) = dense.get_mut(&key) {
                // A bitmap list takes its new slots as bits.
                old += usize::from(from_old);
                if from_new {
                    if let Some((_, slots)) = new.next() {
                        set_bits(bitmap, slots);
                    }
                }
                continue;
            }
            let mut last = 0;
            if from_old {
                let list = self.merged_list(old);
                bytes.extend_from_slice(list);
                last = decode(list).last().unwrap_or(0);
                old += 1;
            }
            if from_new {
                if let Some((_, slots)) = new.next() {
                    let fresh = slots.into_iter().filter(|&s| !from_old || s > last);
                    if from_old {
                        encode_after(&mut bytes, last, fresh);
                    } else {
                        encode_after(&mut bytes, 0, fresh);
                    }
                }
            }
            // A list shorter in bytes than DENSE_MIN holds fewer slots: not counted.
            let list = &bytes[start..];
            if list.len() >= DENSE_MIN && is_dense(encoded_count(list), self.slots_seen) {
                let mut bitmap = Vec::new();
                set_bits(&mut bitmap, decode(&bytes[start..]));
                bytes.truncate(start);
                dense.insert(key, bitmap);
            }
        }
        self.dense = dense;
        starts.push(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
        bytes.shrink_to_fit();
        self.keys = keys;
        self.starts = starts;
        self.bytes = bytes;
        self.merged_postings += self.recent_postings;
        self.recent_postings = 0;
        self.recent.shrink_to_fit();
    }

    /// Rewrites every list through `renumber` (a slot's new number, or None to drop
    /// it), which must keep the order of the slots it keeps; lists left empty go.
    pub(crate) fn renumber(&mut self, renumber: impl Fn(u32) -> Option<u32>) {
        self.merge();
        let mut keys = Vec::with_capacity(self.keys.len());
        let mut starts = Vec::with_capacity(self.starts.len());
        let mut bytes = Vec::with_capacity(self.bytes.len());
        let mut postings = 0;
        let mut kept = Vec::new();
        let mut dense = HashMap::new();
        // The renumbered slots end where the highest slot that stays lands.
        let slots_seen = (0..self.slots_seen)
            .rev()
            .find_map(|slot| renumber(slot as u32))
            .map_or(0, |slot| slot as usize + 1);
        for (i, &key) in self.keys.iter().enumerate() {
            kept.clear();
            match self.dense.get(&key) {
                Some(bitmap) => kept.extend(bitmap_slots(bitmap).filter_map(&renumber)),
                None => kept.extend(decode(self.merged_list(i)).filter_map(&renumber)),
            }
            if kept.is_empty() {
                continue;
            }
            keys.push(key);
            starts.push(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
            postings += kept.len();
            if is_dense(kept.len(), slots_seen) {
                let mut bitmap = Vec::new();
                set_bits(&mut bitmap, kept.iter().copied());
                dense.insert(key, bitmap);
            } else {
                encode_after(&mut bytes, 0, kept.iter().copied());
            }
        }
        starts.push(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
        keys.shrink_to_fit();
        starts.shrink_to_fit();
        bytes.shrink_to_fit();
        self.keys = keys;
        self.starts = starts;
        self.bytes = bytes;
        self.merged_postings = postings;
        dense.shrink_to_fit();
        self.dense = dense;
        self.slots_seen = slots_seen;
    }

    /// Gives back spare capacity.
    pub(crate) fn shrink(&mut self) {
        self.merge();
        self.keys.shrink_to_fit();
        self.starts.shrink_to_fit();
        self.bytes.shrink_to_fit();
        self.recent.shrink_to_fit();
        for bitmap in self.dense.values_mut() {
            bitmap.shrink_to_fit();
        }
    }

    /// Heap bytes: of the lists (merged bytes and recent vectors), and of the term keys
    /// (hashes, offsets and the recent part's table).
    pub(crate) fn heap_bytes(&self) -> (usize, usize) {
        let lists = vec(&self.bytes)
            + self.recent.values().map(vec).sum::<usize>()
            + self.dense.values().map(vec).sum::<usize>();
        let terms = vec(&self.keys) + vec(&self.starts) + table(&self.recent) + table(&self.dense);
        (lists, terms)
    }

    /// Distinct terms (a term both merged and recent counted once per part).
    pub(crate) fn term_count(&self) -> usize {
        self.keys.len() + self.recent.len()
    }

    /// Postings held, empty slots included.
    pub(crate) fn posting_count(&self) -> usize {
        self.merged_postings + self.recent_postings
    }

    /// Terms with a single posting.
    pub(crate) fn singleton_count(&self) -> usize {
        let merged = (0..self.keys.len())
            .filter(|&i| {
                let list = self.merged_list(i);
                list.last().is_some_and(|b| b & 0x80 == 0)
                    && list[..list.len() - 1].iter().all(|b| b & 0x80 != 0)
            })
            .count();
        merged + self.recent.values().filter(|l| l.len() == 1).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(p: &HashedPostings, term: &str) -> Vec<u32> {
        p.get(term_hash(term)).collect()
    }

    #[test]
    fn lists_survive_merges_and_renumbering() {
        let mut p = HashedPostings::default();
        for slot in 0..1000u32 {
            p.add(term_hash("common"), slot);
            if slot % 7 == 0 {
                p.add(term_hash("seventh"), slot);
            }
            p.add(term_hash(&format!("own{slot}")), slot);
            if slot % 100 == 99 {
                p.merge();
            }
        }
        p.add(term_hash("common"), 5000);
        p.add(term_hash("common"), 5000);
        let mut common: Vec<u32> = (0..1000).collect();
        common.push(5000);
        assert_eq!(slots(&p, "common"), common);
        assert_eq!(slots(&p, "own123"), [123]);
        assert_eq!(slots(&p, "seventh").len(), 143);
        assert!(slots(&p, "none").is_empty());
        assert_eq!(p.posting_count(), 1001 + 143 + 1000);
        // Drop the odd slots and halve the even ones.
        p.renumber(|s| (s % 2 == 0).then_some(s / 2));
        assert_eq!(slots(&p, "own123"), Vec::<u32>::new());
        assert_eq!(slots(&p, "own124"), [62]);
        assert_eq!(slots(&p, "common").len(), 501);
        assert_eq!(p.singleton_count(), 500);
    }

    #[test]
    fn common_terms_become_bitmaps_and_read_back_the_same() {
        let mut p = HashedPostings::default();
        let mut every_third = Vec::new();
        for slot in 0..40_000u32 {
            p.add(term_hash("common"), slot);
            if slot % 3 == 0 {
                p.add(term_hash("third"), slot);
                every_third.push(slot);
            }
            if slot % 1000 == 7 {
                p.add(term_hash("rare"), slot);
            }
            if slot % 10_000 == 9_999 {
                p.merge();
            }
        }
        p.add(term_hash("third"), 40_001);
        every_third.push(40_001);
        assert!(p.dense.contains_key(&term_hash("common")));
        assert!(p.dense.contains_key(&term_hash("third")));
        assert!(!p.dense.contains_key(&term_hash("rare")));
        assert_eq!(slots(&p, "third"), every_third);
        assert_eq!(slots(&p, "common").len(), 40_000);
        p.merge();
        assert_eq!(slots(&p, "third"), every_third);
        // ORed into a bit set: the bitmap word by word, the rest slot by slot.
        let mut bits = vec![0u64; 40_002usize.div_ceil(64)];
        p.or_into(term_hash("third"), &mut bits);
        p.or_into(term_hash("rare"), &mut bits);
        let mut expected: Vec<u32> = every_third.clone();
        expected.extend((0..40).map(|k| k * 1000 + 7));
        expected.sort_unstable();
        expected.dedup();
        assert_eq!(bitmap_slots(&bits).collect::<Vec<_>>(), expected);
        // Renumbering keeps the lists; a list too sparse afterwards is encoded again.
        p.renumber(|s| (s % 3 == 0).then_some(s / 3));
        let kept = every_third.iter().filter(|&&s| s % 3 == 0).count();
        assert_eq!(slots(&p, "third").len(), kept);
        assert_eq!(
            slots(&p, "rare"),
            (0..40)
                .filter(|k| (k * 1000 + 7) % 3 == 0)
                .map(|k| (k * 1000 + 7) / 3)
                .collect::<Vec<u32>>()
        );
        assert!(p.dense.contains_key(&term_hash("third")));
        p.renumber(|s| (s < 10).then_some(s));
        assert!(p.dense.is_empty());
        assert_eq!(slots(&p, "common"), (0..10).collect::<Vec<u32>>());
    }
}
