//! Estimating the heap bytes of the search index, per structure, for the search bench
//! and the node's start-up log.
//!
//! The estimates count what the allocator is asked for: a vector or string at its
//! capacity, a boxed string at its length, a hash table at its bucket count (each bucket
//! an entry plus one control byte), each allocation rounded up to the allocator's
//! granularity of 8 bytes. They leave out the allocator's own bookkeeping.

use std::collections::HashMap;
use std::fmt;

/// The allocator's granularity: no allocation is smaller, and sizes round up to it.
const GRANULE: usize = 8;

/// The bytes an allocation of `n` bytes takes (none for an empty one).
pub(crate) fn alloc(n: usize) -> usize {
    n.next_multiple_of(GRANULE)
}

/// The heap bytes of a vector's buffer.
pub(crate) fn vec<T>(v: &Vec<T>) -> usize {
    alloc(v.capacity() * std::mem::size_of::<T>())
}

/// The heap bytes of a boxed string.
pub(crate) fn boxed(s: &str) -> usize {
    alloc(s.len())
}

/// The buckets a hash table of `capacity` holds (hashbrown's layout: a power of two, at
/// most seven eighths full).
pub(crate) fn buckets(capacity: usize) -> usize {
    match capacity {
        0 => 0,
        1..=3 => 4,
        4..=7 => 8,
        _ => (capacity * 8 / 7).next_power_of_two(),
    }
}

/// The heap bytes of a hash table of entries of `entry` bytes at `capacity`.
pub(crate) fn table_of(capacity: usize, entry: usize) -> usize {
    let buckets = buckets(capacity);
    if buckets == 0 {
        return 0;
    }
    // One control byte per bucket plus a group's worth of trailing control bytes.
    alloc(buckets * entry + buckets + 16)
}

/// The heap bytes of a standard hash map's table (not of what its entries point to).
pub(crate) fn table<K, V, S>(map: &HashMap<K, V, S>) -> usize {
    table_of(map.capacity(), std::mem::size_of::<(K, V)>())
}

/// The search index's heap bytes by structure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    /// What is kept of each record for filtering and scoring (filter facts, names,
    /// identifiers), the slot table included.
    pub documents: usize,
    /// Record ids and the map from id to slot.
    pub ids: usize,
    /// The record posting lists.
    pub postings: usize,
    /// The record term dictionary (term → posting list).
    pub terms: usize,
    /// MO notes: their documents, ids, terms and postings.
    pub notes: usize,
    /// The typo dictionaries (distinct words and variant keys with their deletion
    /// neighbourhoods).
    pub dictionaries: usize,
    /// Distinct record terms.
    pub term_count: usize,
    /// Record postings (term, slot pairs), empty slots included.
    pub posting_count: usize,
    /// Distinct record terms carried by one record only.
    pub singleton_terms: usize,
}

impl Memory {
    /// All the heap bytes counted.
    pub fn total(&self) -> usize {
        self.documents + self.ids + self.postings + self.terms + self.notes + self.dictionaries
    }

    /// The figures per record of `records`, as one line.
    pub fn per_record(&self, records: usize) -> String {
        let n = records.max(1) as f64;
        let each = |bytes: usize| bytes as f64 / n;
        format!(
            "{:.0} bytes/record = documents {:.1} + ids and slot map {:.1} + postings {:.1} \
             + term dictionary {:.1} + MO notes {:.1} + typo dictionaries {:.1} \
             ({:.2} distinct terms, {:.2} of them carried by one record only, and {:.1} \
             postings per record)",
            each(self.total()),
            each(self.documents),
            each(self.ids),
            each(self.postings),
            each(self.terms),
            each(self.notes),
            each(self.dictionaries),
            self.term_count as f64 / n,
            self.singleton_terms as f64 / n,
            self.posting_count as f64 / n,
        )
    }
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes: documents {}, ids {}, postings {}, terms {}, MO notes {}, typo \
             dictionaries {}",
            self.total(),
            self.documents,
            self.ids,
            self.postings,
            self.terms,
            self.notes,
            self.dictionaries
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_round_up_to_powers_of_two() {
        assert_eq!(buckets(0), 0);
        assert_eq!(buckets(3), 4);
        assert_eq!(buckets(7), 8);
        assert_eq!(buckets(14), 16);
        assert_eq!(buckets(28), 32);
        assert_eq!(alloc(1), 8);
        assert_eq!(alloc(16), 16);
    }
}
