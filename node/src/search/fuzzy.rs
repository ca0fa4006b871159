//! The index's dictionary of distinct name words, for typos: the words within one or two
//! edits of a query word are found here by the symmetric deletion scheme, over the few
//! thousand distinct words rather than over every record, and their postings are then
//! looked up as usual.
//!
//! Each word is stored under itself and every string made by deleting one letter (two
//! letters as well for words of seven letters or more). A query word looks up itself
//! and its own deletions the same way; two words within one edit always share one of
//! these strings — a dropped or doubled letter (one side's deletion is the other word),
//! a replaced letter (both sides deleting it), two neighbours swapped, the first two
//! included (both sides deleting one of the pair) — and every word found is checked
//! with the same edit distance and budget as [`match_name`](super::score::match_name)
//! uses, so the index finds exactly the typos the scorer accepts within one edit, and
//! most of the two-edit typos of long words.

use std::collections::HashMap;

use super::score::typo_distance;

/// Words of at least this many letters get deletions of two letters as well.
const TWO_DELETIONS_FROM: usize = 7;
/// Words shorter than this get no deletions (no typo is allowed in them).
const MIN_TYPO_LEN: usize = 3;

/// A set of distinct words with their deletion neighbourhoods.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Vocabulary {
    words: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
    /// Deletion string (or the word itself) → the ids of the words that produce it.
    neighbourhood: HashMap<Box<str>, Vec<u32>>,
}

impl Vocabulary {
    /// Adds `word` if it is not there yet.
    pub(crate) fn insert(&mut self, word: &str) {
        if word.len() < MIN_TYPO_LEN || !word.is_ascii() || self.ids.contains_key(word) {
            return;
        }
        let id = u32::try_from(self.words.len()).unwrap_or(u32::MAX);
        self.words.push(word.into());
        self.ids.insert(word.into(), id);
        for variant in variants(word) {
            let list = self
                .neighbourhood
                .entry(variant.into_boxed_str())
                .or_default();
            if list.last() != Some(&id) {
                list.push(id);
            }
        }
    }

    /// The distinct words held.
    pub(crate) fn len(&self) -> usize {
        self.words.len()
    }

    /// The stored words within the typo budget of `query` (see
    /// [`typo_distance`]), other than `query` itself.
    pub(crate) fn near(&self, query: &str) -> Vec<&str> {
        if query.len() < MIN_TYPO_LEN || !query.is_ascii() {
            return Vec::new();
        }
        let mut seen: Vec<u32> = Vec::new();
        for variant in variants(query) {
            if let Some(ids) = self.neighbourhood.get(variant.as_str()) {
                seen.extend_from_slice(ids);
            }
        }
        seen.sort_unstable();
        seen.dedup();
        seen.into_iter()
            .filter_map(|id| self.words.get(id as usize))
            .map(|w| &**w)
            .filter(|w| *w != query && typo_distance(query, w).is_some())
            .collect()
    }

    /// An estimate of the heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        use super::memory::{boxed, table, vec};
        vec(&self.words)
            + self.words.iter().map(|w| boxed(w)).sum::<usize>()
            + table(&self.ids)
            + self.ids.keys().map(|w| boxed(w)).sum::<usize>()
            + table(&self.neighbourhood)
            + self
                .neighbourhood
                .iter()
                .map(|(k, v)| boxed(k) + vec(v))
                .sum::<usize>()
    }
}

/// The word itself and every deletion of one letter (and of two, for long words).
fn variants(word: &str) -> Vec<String> {
    let mut out = vec![word.to_string()];
    if word.len() < MIN_TYPO_LEN {
        return out;
    }
    let ones = deletions(word);
    if word.len() >= TWO_DELETIONS_FROM {
        for one in &ones {
            out.extend(deletions(one));
        }
    }
    out.extend(ones);
    out.sort_unstable();
    out.dedup();
    out
}

/// Every string made by deleting one byte of an ASCII word.
fn deletions(word: &str) -> Vec<String> {
    let bytes = word.as_bytes();
    (0..bytes.len())
        .map(|skip| {
            bytes
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, &b)| char::from(b))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary(words: &[&str]) -> Vocabulary {
        let mut v = Vocabulary::default();
        for w in words {
            v.insert(w);
        }
        v
    }

    #[test]
    fn finds_every_kind_of_one_edit_typo() {
        let v = vocabulary(&[
            "rekha",
            "ajit",
            "choudhury",
            "nath",
            "kumari",
            "kumar",
            "paswan",
            "ramesh",
        ]);
        // Two neighbours swapped, the first two included.
        assert_eq!(v.near("erkha"), ["rekha"]);
        assert_eq!(v.near("aijt"), ["ajit"]);
        assert_eq!(v.near("cohudhury"), ["choudhury"]);
        assert_eq!(v.near("pawsan"), ["paswan"]);
        // A letter dropped, doubled or replaced.
        assert_eq!(v.near("nth"), ["nath"]);
        assert_eq!(v.near("rameesh"), ["ramesh"]);
        assert_eq!(v.near("ramezh"), ["ramesh"]);
        let kumai = v.near("kumai");
        assert!(kumai.contains(&"kumari") && kumai.contains(&"kumar"));
        // Two edits in a long word.
        assert_eq!(v.near("chodhuyr"), ["choudhury"]);
        // Nothing within the budget.
        assert!(v.near("suresh").is_empty());
        assert!(v.near("ra").is_empty());
    }
}
