//! The in-memory inverted index over search documents: term → the records (or MO notes)
//! that carry it. It is derived data: the storage layer writes each item's search
//! document in the item's own transaction, updates this index from the committed
//! documents before the write returns, and rebuilds it from the documents at start-up.
//! Keeping the postings in memory is what makes a million-record search take
//! milliseconds; sled was measured at about 150 ms to scan ten thousand posting keys.
//!
//! Every version of an item gets a new slot; the slot of the version it replaces is
//! emptied, and posting lists still naming it are cleaned up in bulk
//! ([`SearchIndex::compact`]) once enough slots are empty. Postings are therefore always
//! in ascending slot order, and a search skips empty slots.

use std::collections::{BTreeSet, HashMap};

use super::document::{NameField, NoteDoc, RecordDoc};
use super::fuzzy::Vocabulary;
use super::name::Name;
use super::normalize::fold;
use super::terms::name_terms;
use super::translit::to_latin;
use super::variants::key;

/// A record as the index holds it.
#[derive(Debug, Clone)]
pub struct RecordEntry {
    /// The record id.
    pub id: Box<str>,
    /// Its search document.
    pub doc: RecordDoc,
}

/// An MO note as the index holds it.
#[derive(Debug, Clone)]
pub struct NoteEntry {
    /// The note id.
    pub id: Box<str>,
    /// Its search document.
    pub doc: NoteDoc,
}

/// Postings: term → slots in ascending order.
type Postings = HashMap<Box<str>, Vec<u32>>;

/// The inverted index of one node's records and MO notes (its own and replicated).
#[derive(Debug, Default)]
pub struct SearchIndex {
    pub(super) records: Vec<Option<RecordEntry>>,
    record_slots: HashMap<Box<str>, u32>,
    pub(super) record_postings: Postings,
    dead_records: usize,
    pub(super) notes: Vec<Option<NoteEntry>>,
    note_slots: HashMap<Box<str>, u32>,
    pub(super) note_postings: Postings,
    dead_notes: usize,
    /// Record id → slots of the notes linking it (empty slots included until compaction).
    pub(super) notes_of_record: HashMap<Box<str>, Vec<u32>>,
    /// The distinct folded words of indexed names (`w:` terms), for typos.
    pub(super) words: Vocabulary,
    /// The distinct variant keys of indexed names (`k:` terms), for typos.
    pub(super) keys: Vocabulary,
}

/// Words too common in MO notes to search by.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "by", "for", "from", "in", "into", "is", "of", "on", "or",
    "the", "then", "to", "with", "was", "were", "who", "ke", "ki", "ka", "se", "me", "mein", "aur",
    "par",
];

/// The search keys of the words of a free text (an MO note field or an MO query): folded,
/// transliterated to Latin, stop words and single letters dropped, each reduced to its
/// spelling-variant key with a plural "s" removed ("vans" = "van", "Dhanbaad" =
/// "Dhanbad"), in order and without repeats.
pub fn text_words(text: &str) -> Vec<(String, String)> {
    let latin = to_latin(&fold(text));
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for word in latin.split(|c: char| !c.is_alphanumeric()) {
        if word.chars().count() < 2 || STOP_WORDS.contains(&word) {
            continue;
        }
        let mut k = if word.chars().all(|c| c.is_ascii_digit()) {
            word.to_string()
        } else {
            key(word)
        };
        if k.len() > 3 && k.ends_with('s') && !k.ends_with("ss") {
            k.pop();
        }
        if !k.is_empty() && seen.insert(k.clone()) {
            out.push((word.to_string(), k));
        }
    }
    out
}

/// The index terms of a record's search document. Names, local names and aliases are
/// indexed under `n` plus the name term, fathers' names under `f`, identifiers under
/// `t:` (phone), `v:` (vehicle) and `c:` (case).
pub fn record_terms(doc: &RecordDoc) -> Vec<String> {
    let mut out = BTreeSet::new();
    for name in &doc.names {
        let prefix = if name.field == NameField::Father as i32 {
            'f'
        } else {
            'n'
        };
        for term in name_terms(&Name::parse(&name.text)) {
            out.insert(format!("{prefix}{term}"));
        }
    }
    out.extend(doc.phones.iter().map(|p| format!("t:{p}")));
    out.extend(doc.vehicles.iter().map(|v| format!("v:{v}")));
    out.extend(doc.firs.iter().map(|c| format!("c:{c}")));
    out.into_iter().collect()
}

fn note_terms(doc: &NoteDoc) -> Vec<String> {
    let mut out = BTreeSet::new();
    for text in &doc.texts {
        out.extend(text_words(&text.text).into_iter().map(|(_, k)| k));
    }
    out.into_iter().collect()
}

/// Adds `slot` to the posting list of every term, calling `new_term` for each term seen
/// for the first time.
fn add_postings(
    postings: &mut Postings,
    terms: Vec<String>,
    slot: u32,
    mut new_term: impl FnMut(&str),
) {
    for term in terms {
        match postings.get_mut(term.as_str()) {
            Some(list) => list.push(slot),
            None => {
                new_term(&term);
                postings.insert(term.into_boxed_str(), vec![slot]);
            }
        }
    }
}

/// Adds the word of a name term (`nw:raju`, `fk:raju`) to the dictionary of its kind.
fn learn_word(words: &mut Vocabulary, keys: &mut Vocabulary, term: &str) {
    let Some(rest) = term.strip_prefix('n').or_else(|| term.strip_prefix('f')) else {
        return;
    };
    if let Some(word) = rest.strip_prefix("w:") {
        words.insert(word);
    } else if let Some(k) = rest.strip_prefix("k:") {
        keys.insert(k);
    }
}

/// Removes empty slots from every posting list, and lists that end up empty.
fn compact_postings<T>(postings: &mut Postings, slots: &[Option<T>]) {
    postings.retain(|_, list| {
        list.retain(|&slot| slots[slot as usize].is_some());
        list.shrink_to_fit();
        !list.is_empty()
    });
}

/// Compaction runs when at least this many slots are empty and they are at least half as
/// many as the full ones.
const COMPACT_AFTER: usize = 4096;

impl SearchIndex {
    /// An empty index.
    pub fn new() -> SearchIndex {
        SearchIndex::default()
    }

    /// Records currently indexed.
    pub fn record_count(&self) -> usize {
        self.record_slots.len()
    }

    /// MO notes currently indexed.
    pub fn note_count(&self) -> usize {
        self.note_slots.len()
    }

    /// Indexes `doc` as the current version of record `id`, replacing any earlier one.
    pub fn put_record(&mut self, id: &str, doc: RecordDoc) {
        let terms = record_terms(&doc);
        self.put_record_with_terms(id, doc, terms);
    }

    /// Like [`put_record`](Self::put_record), with the terms already computed (the
    /// start-up rebuild computes them on several threads).
    pub fn put_record_with_terms(&mut self, id: &str, doc: RecordDoc, terms: Vec<String>) {
        self.remove_record(id);
        let slot = u32::try_from(self.records.len()).unwrap_or(u32::MAX);
        let (words, keys) = (&mut self.words, &mut self.keys);
        add_postings(&mut self.record_postings, terms, slot, |term| {
            learn_word(words, keys, term)
        });
        self.records.push(Some(RecordEntry { id: id.into(), doc }));
        self.record_slots.insert(id.into(), slot);
    }

    /// Removes record `id` from the index, if it is there.
    pub fn remove_record(&mut self, id: &str) {
        if let Some(slot) = self.record_slots.remove(id) {
            self.records[slot as usize] = None;
            self.dead_records += 1;
            self.compact_if_needed();
        }
    }

    /// Indexes `doc` as the current version of MO note `id`, replacing any earlier one.
    pub fn put_note(&mut self, id: &str, doc: NoteDoc) {
        self.remove_note(id);
        let slot = u32::try_from(self.notes.len()).unwrap_or(u32::MAX);
        add_postings(&mut self.note_postings, note_terms(&doc), slot, |_| {});
        for record in &doc.record_ids {
            match self.notes_of_record.get_mut(record.as_str()) {
                Some(list) => list.push(slot),
                None => {
                    self.notes_of_record
                        .insert(record.clone().into_boxed_str(), vec![slot]);
                }
            }
        }
        self.notes.push(Some(NoteEntry { id: id.into(), doc }));
        self.note_slots.insert(id.into(), slot);
    }

    /// Removes MO note `id` from the index, if it is there.
    pub fn remove_note(&mut self, id: &str) {
        if let Some(slot) = self.note_slots.remove(id) {
            self.notes[slot as usize] = None;
            self.dead_notes += 1;
            self.compact_if_needed();
        }
    }

    /// Gives back the spare capacity of every posting list (after a bulk build, when the
    /// lists have grown by doubling).
    pub fn shrink(&mut self) {
        for list in self
            .record_postings
            .values_mut()
            .chain(self.note_postings.values_mut())
        {
            list.shrink_to_fit();
        }
        self.record_postings.shrink_to_fit();
        self.note_postings.shrink_to_fit();
        self.records.shrink_to_fit();
        self.notes.shrink_to_fit();
    }

    /// An estimate of the heap bytes the index holds: postings, term strings, documents,
    /// id maps and the typo dictionaries (hash-table overhead estimated per entry).
    pub fn heap_bytes(&self) -> usize {
        // A hash-map entry: the boxed key (16), the value, and about 8 bytes of table.
        let postings = |p: &Postings| -> usize {
            p.iter()
                .map(|(k, v)| k.len() + 16 + 24 + 8 + v.capacity() * 4)
                .sum()
        };
        let names = |doc: &RecordDoc| -> usize {
            doc.names
                .iter()
                .map(|n| n.text.capacity() + 32)
                .sum::<usize>()
                + doc.names.capacity() * 32
                + doc.origin.capacity()
                + doc.phones.iter().map(|p| p.capacity() + 24).sum::<usize>()
                + doc
                    .vehicles
                    .iter()
                    .map(|v| v.capacity() + 24)
                    .sum::<usize>()
                + doc.firs.iter().map(|f| f.capacity() + 24).sum::<usize>()
        };
        let records: usize = self
            .records
            .iter()
            .map(|e| {
                std::mem::size_of::<Option<RecordEntry>>()
                    + e.as_ref().map_or(0, |e| e.id.len() + names(&e.doc))
            })
            .sum();
        let slots: usize = self.record_slots.keys().map(|k| k.len() + 16 + 4 + 8).sum();
        postings(&self.record_postings)
            + postings(&self.note_postings)
            + records
            + slots
            + self.words.heap_bytes()
            + self.keys.heap_bytes()
    }

    /// The distinct name words and variant keys in the typo dictionaries.
    pub fn dictionary_sizes(&self) -> (usize, usize) {
        (self.words.len(), self.keys.len())
    }

    /// The slot of record `id`, if indexed.
    pub fn record_slot(&self, id: &str) -> Option<u32> {
        self.record_slots.get(id).copied()
    }

    fn compact_if_needed(&mut self) {
        let records =
            self.dead_records >= COMPACT_AFTER && self.dead_records * 2 >= self.record_slots.len();
        let notes =
            self.dead_notes >= COMPACT_AFTER && self.dead_notes * 2 >= self.note_slots.len();
        if records || notes {
            self.compact();
        }
    }

    /// Renumbers the slots densely and drops every posting of a replaced or removed
    /// version.
    pub fn compact(&mut self) {
        compact_postings(&mut self.record_postings, &self.records);
        compact_postings(&mut self.note_postings, &self.notes);
        let notes = &self.notes;
        self.notes_of_record.retain(|_, list| {
            list.retain(|&slot| notes[slot as usize].is_some());
            !list.is_empty()
        });
        // Renumber records densely so that the slot vector and the bit sets of searches
        // stay proportional to the live records.
        let mut renumber = vec![u32::MAX; self.records.len()];
        let mut next = 0u32;
        for (old, entry) in self.records.iter().enumerate() {
            if entry.is_some() {
                renumber[old] = next;
                next += 1;
            }
        }
        for list in self.record_postings.values_mut() {
            for slot in list.iter_mut() {
                *slot = renumber[*slot as usize];
            }
        }
        self.records.retain(Option::is_some);
        for slot in self.record_slots.values_mut() {
            *slot = renumber[*slot as usize];
        }
        self.dead_records = 0;
        let mut renumber = vec![u32::MAX; self.notes.len()];
        let mut next = 0u32;
        for (old, entry) in self.notes.iter().enumerate() {
            if entry.is_some() {
                renumber[old] = next;
                next += 1;
            }
        }
        for list in self
            .note_postings
            .values_mut()
            .chain(self.notes_of_record.values_mut())
        {
            for slot in list.iter_mut() {
                *slot = renumber[*slot as usize];
            }
        }
        self.notes.retain(Option::is_some);
        for slot in self.note_slots.values_mut() {
            *slot = renumber[*slot as usize];
        }
        self.dead_notes = 0;
    }

    /// The posting list of a record term; empty when nothing carries it.
    pub(super) fn record_posting(&self, term: &str) -> &[u32] {
        self.record_postings
            .get(term)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The posting list of an MO note term.
    pub(super) fn note_posting(&self, term: &str) -> &[u32] {
        self.note_postings
            .get(term)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::document::NameText;

    fn doc(name: &str) -> RecordDoc {
        RecordDoc {
            names: vec![NameText {
                field: NameField::Name as i32,
                text: name.into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn replacing_and_removing_keeps_postings_consistent() {
        let mut index = SearchIndex::new();
        index.put_record("a", doc("Raju Yadav"));
        index.put_record("b", doc("Ramesh Mahto"));
        index.put_record("a", doc("Raju Mahto"));
        let live = |index: &SearchIndex, term: &str| -> Vec<String> {
            index
                .record_posting(term)
                .iter()
                .filter_map(|&s| index.records[s as usize].as_ref())
                .map(|e| e.id.to_string())
                .collect()
        };
        assert_eq!(live(&index, "nw:yadav"), Vec::<String>::new());
        assert_eq!(live(&index, "nw:mahto"), vec!["b", "a"]);
        index.remove_record("b");
        index.compact();
        assert_eq!(live(&index, "nw:mahto"), vec!["a"]);
        assert_eq!(index.record_posting("nw:yadav"), &[] as &[u32]);
        assert_eq!(index.record_count(), 1);
        assert_eq!(index.record_slot("a"), Some(0));
    }

    #[test]
    fn text_words_fold_and_stem() {
        let words: Vec<String> = text_words("ATM cash-vans, the FIRING at Dhanbaad")
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        let again: Vec<String> = text_words("atm cash van firing dhanbad")
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        assert_eq!(words, again);
    }
}
