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
//!
//! A record is held compactly, since a node holds millions of them: its id as a 128-bit
//! UUID (any other id as a string on the side), a small fixed [`Facts`] struct with what
//! the filters read (the district as an index into a table of districts), and its names,
//! phones and vehicles as one encoded run of bytes in a shared buffer, read only for the
//! few hundred candidates a search scores. Terms and ids are found through
//! [`HashedPostings`]: hashed, sorted and delta-encoded.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use uuid::Uuid;

use super::document::{NameField, NameText, NoteDoc, RecordDoc};
use super::fuzzy::Vocabulary;
use super::memory::{alloc, boxed, table, vec, Memory};
use super::name::{Name, ParseCache};
use super::normalize::fold;
use super::postings::{term_hash, HashedPostings};
use super::terms::name_terms;
use super::translit::to_latin;
use super::variants::key;

/// An MO note as the index holds it: what searches read of its document, encoded.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct NoteEntry {
    /// The note id.
    pub(crate) id: Box<str>,
    /// `MoCategory` as its protobuf value.
    pub(crate) category: i32,
    /// The linked record ids: per id, 0 and its 16 bytes for a canonical UUID, or 1, its
    /// length and its text.
    record_ids: Box<[u8]>,
    /// The texts: per text, its field's index in the index's field table, its length
    /// and its text.
    texts: Box<[u8]>,
}

impl NoteEntry {
    /// The ids of the records the note is linked to.
    pub(crate) fn record_ids(&self) -> impl Iterator<Item = String> + '_ {
        let bytes = &self.record_ids;
        let mut at = 0;
        std::iter::from_fn(move || {
            let kind = *bytes.get(at)?;
            at += 1;
            if kind == 0 {
                let raw: [u8; 16] = bytes.get(at..at + 16)?.try_into().ok()?;
                at += 16;
                return Some(Uuid::from_bytes(raw).hyphenated().to_string());
            }
            let len = read_varint(bytes, &mut at)?;
            let text = bytes.get(at..at.checked_add(len)?)?;
            at += len;
            Some(String::from_utf8_lossy(text).into_owned())
        })
    }

    /// The texts, each with its field's name, in the document's order.
    pub(crate) fn texts<'a>(
        &'a self,
        index: &'a SearchIndex,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let bytes = &self.texts;
        let mut at = 0;
        std::iter::from_fn(move || {
            let field = read_varint(bytes, &mut at)?;
            let len = read_varint(bytes, &mut at)?;
            let text = bytes.get(at..at.checked_add(len)?)?;
            at += len;
            let field = index.note_fields.get(field).map_or("note", |f| &**f);
            Some((field, std::str::from_utf8(text).ok()?))
        })
    }

    /// The heap bytes it holds.
    fn heap_bytes(&self) -> usize {
        boxed(&self.id) + alloc(self.record_ids.len()) + alloc(self.texts.len())
    }
}

/// What the filters of a search read of a record, kept per slot.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub(crate) struct Facts {
    /// When the record last changed, Unix milliseconds.
    pub(crate) updated_at_ms: i64,
    /// Where the record's names and identifiers start in the index's byte buffer.
    fields: u64,
    /// Bit `w` for every `Warning` value `w`.
    pub(crate) warnings: u32,
    /// The earliest possible birth year; 0 if unknown.
    pub(crate) born_from: u32,
    /// The latest possible birth year; 0 if unknown.
    pub(crate) born_to: u32,
    /// `PersonStatus` as its protobuf value.
    pub(crate) status: i32,
    /// `Gender` as its protobuf value.
    pub(crate) gender: i32,
    /// The owning district, as an index into the district table; [`EMPTY`] for an
    /// empty slot.
    pub(crate) origin: u32,
}

/// The `origin` of an empty slot.
const EMPTY: u32 = u32::MAX;

impl Facts {
    /// True if the record may have been born in some year of `from..=to`.
    pub(crate) fn born_within(&self, from: u32, to: u32) -> bool {
        self.born_from != 0 && self.born_from <= to && from <= self.born_to
    }
}

/// The kinds of encoded fields after the four [`NameField`] values.
const PHONE: u8 = 4;
const VEHICLE: u8 = 5;

fn push_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let mut value = 0usize;
    let mut shift = 0u32;
    loop {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= usize::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
        shift += 7;
    }
}

/// Set on a field's kind when its text is written as word numbers (see [`Words`]).
const AS_WORDS: u8 = 0x80;

/// The distinct words of the names held, numbered: names are written as word numbers,
/// since a million names share a few thousand words.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Words {
    words: Vec<Box<str>>,
    numbers: HashMap<Box<str>, u32>,
}

impl Words {
    /// The number of `word`, numbering it if it is new; None when the table is full.
    fn number(&mut self, word: &str) -> Option<u32> {
        if let Some(&n) = self.numbers.get(word) {
            return Some(n);
        }
        let n = u32::try_from(self.words.len()).ok()?;
        self.words.push(word.into());
        self.numbers.insert(word.into(), n);
        Some(n)
    }

    fn heap_bytes(&self) -> usize {
        vec(&self.words)
            + self.words.iter().map(|w| 2 * boxed(w)).sum::<usize>()
            + table(&self.numbers)
    }
}

/// Appends the names, phones and vehicles of `doc` to `out`: the length of what follows,
/// then per field its kind and either its length and its text, or (for a name of words
/// separated by single spaces, its kind marked [`AS_WORDS`]) the count and numbers of
/// its words.
fn encode_fields(doc: &RecordDoc, words: &mut Words, out: &mut Vec<u8>) {
    let mut fields = Vec::new();
    let push = |fields: &mut Vec<u8>, kind: u8, text: &str| {
        fields.push(kind);
        push_varint(fields, text.len());
        fields.extend_from_slice(text.as_bytes());
    };
    let mut numbers = Vec::new();
    for name in &doc.names {
        let field = NameField::try_from(name.field).unwrap_or(NameField::Name) as u8;
        numbers.clear();
        let plain = !name.text.is_empty() && name.text.split(' ').all(|w| !w.is_empty());
        if plain {
            for word in name.text.split(' ') {
                match words.number(word) {
                    Some(n) => numbers.push(n),
                    None => break,
                }
            }
        }
        if plain && numbers.len() == name.text.split(' ').count() {
            let mut encoded = vec![field | AS_WORDS];
            push_varint(&mut encoded, numbers.len());
            for &n in &numbers {
                push_varint(&mut encoded, n as usize);
            }
            fields.extend_from_slice(&encoded);
        } else {
            push(&mut fields, field, &name.text);
        }
    }
    for phone in &doc.phones {
        push(&mut fields, PHONE, phone);
    }
    for vehicle in &doc.vehicles {
        push(&mut fields, VEHICLE, vehicle);
    }
    push_varint(out, fields.len());
    out.extend_from_slice(&fields);
}

/// The encoded fields of one record, in order: (kind, text).
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
    words: &'a [Box<str>],
}

impl<'a> Iterator for Fields<'a> {
    type Item = (u8, Cow<'a, str>);

    fn next(&mut self) -> Option<(u8, Cow<'a, str>)> {
        let kind = *self.bytes.get(self.at)?;
        self.at += 1;
        if kind & AS_WORDS != 0 {
            let count = read_varint(self.bytes, &mut self.at)?;
            let mut text = String::new();
            for i in 0..count {
                let n = read_varint(self.bytes, &mut self.at)?;
                if i > 0 {
                    text.push(' ');
                }
                text.push_str(self.words.get(n)?);
            }
            return Some((kind & !AS_WORDS, Cow::Owned(text)));
        }
        let len = read_varint(self.bytes, &mut self.at)?;
        let text = self.bytes.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        Some((kind, Cow::Borrowed(std::str::from_utf8(text).ok()?)))
    }
}

/// One record held by the index, as searches and likely matches read it.
#[derive(Clone, Copy)]
pub(crate) struct RecordRef<'a> {
    index: &'a SearchIndex,
    slot: u32,
    /// Its filter facts.
    pub(crate) facts: &'a Facts,
}

impl<'a> RecordRef<'a> {
    /// The record id.
    pub(crate) fn id(&self) -> String {
        self.index.id_of(self.slot)
    }

    /// True if this is record `id`.
    pub(crate) fn is(&self, id: &str) -> bool {
        match self.index.ids.get(self.slot as usize) {
            Some(&0) | None => self
                .index
                .other_ids
                .get(&self.slot)
                .is_some_and(|other| &**other == id),
            Some(&uuid) => canonical_uuid(id) == Some(uuid),
        }
    }

    /// The owning district.
    pub(crate) fn origin(&self) -> &'a str {
        self.index
            .origins
            .get(self.facts.origin as usize)
            .map_or("", |o| &**o)
    }

    fn fields(&self) -> Fields<'a> {
        let bytes = &self.index.fields;
        let mut at = usize::try_from(self.facts.fields).unwrap_or(usize::MAX);
        let len = read_varint(bytes, &mut at).unwrap_or(0);
        let bytes = at
            .checked_add(len)
            .and_then(|end| bytes.get(at..end))
            .unwrap_or_default();
        Fields {
            bytes,
            at: 0,
            words: &self.index.name_words.words,
        }
    }

    /// The names as written, with their fields, in the document's order.
    pub(crate) fn names(&self) -> impl Iterator<Item = (NameField, Cow<'a, str>)> {
        self.fields().filter_map(|(kind, text)| {
            let field = NameField::try_from(i32::from(kind)).ok()?;
            Some((field, text))
        })
    }

    /// The phone keys.
    pub(crate) fn phones(&self) -> impl Iterator<Item = Cow<'a, str>> {
        self.fields()
            .filter(|(kind, _)| *kind == PHONE)
            .map(|(_, text)| text)
    }

    /// The vehicle keys.
    pub(crate) fn vehicles(&self) -> impl Iterator<Item = Cow<'a, str>> {
        self.fields()
            .filter(|(kind, _)| *kind == VEHICLE)
            .map(|(_, text)| text)
    }

    /// The search document as far as the index keeps it: everything but the FIR keys,
    /// which it holds only as terms.
    pub(crate) fn doc(&self) -> RecordDoc {
        RecordDoc {
            origin: self.origin().to_string(),
            status: self.facts.status,
            gender: self.facts.gender,
            warnings: self.facts.warnings,
            born_from: self.facts.born_from,
            born_to: self.facts.born_to,
            names: self
                .names()
                .map(|(field, text)| NameText {
                    field: field as i32,
                    text: text.into_owned(),
                })
                .collect(),
            phones: self.phones().map(Cow::into_owned).collect(),
            vehicles: self.vehicles().map(Cow::into_owned).collect(),
            firs: Vec::new(),
            updated_at_ms: self.facts.updated_at_ms,
        }
    }
}

/// The UUID of an id written in the canonical form (lower-case, hyphenated), the form
/// the node gives every id; None for any other id, and for the nil UUID, whose value
/// marks an id kept as a string.
fn canonical_uuid(id: &str) -> Option<u128> {
    if id.len() != 36 {
        return None;
    }
    let uuid = Uuid::try_parse(id).ok()?;
    let mut buffer = [0u8; 36];
    let written = uuid.hyphenated().encode_lower(&mut buffer);
    (*written == *id && !uuid.is_nil()).then_some(uuid.as_u128())
}

/// The inverted index of one node's records and MO notes (its own and replicated). It
/// serialises whole, so that a node stopped cleanly reads it back instead of rebuilding it
/// (see `storage/search_snapshot.rs`).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct SearchIndex {
    /// Per slot: the record's UUID, or 0 when its id is kept in `other_ids`.
    ids: Vec<u128>,
    /// The ids that are not canonical UUIDs, by slot.
    other_ids: HashMap<u32, Box<str>>,
    /// Id hash → the slots that held a record with that id.
    by_id: HashedPostings,
    /// Per slot: what the filters read.
    facts: Vec<Facts>,
    /// The encoded names, phones and vehicles of every slot (see [`encode_fields`]).
    fields: Vec<u8>,
    /// The words of the names in `fields`, numbered.
    name_words: Words,
    /// The districts, by index.
    origins: Vec<Box<str>>,
    origin_ids: HashMap<Box<str>, u32>,
    /// Records indexed.
    live_records: usize,
    pub(super) record_postings: HashedPostings,
    dead_records: usize,
    /// A bit per slot, set once the slot is emptied (until the next compaction), so
    /// that a search drops empty slots without reading their facts.
    empty_slots: Vec<u64>,
    pub(super) notes: Vec<Option<NoteEntry>>,
    note_slots: HashMap<Box<str>, u32>,
    /// The names of MO note fields, by index.
    note_fields: Vec<Box<str>>,
    pub(super) note_postings: HashedPostings,
    dead_notes: usize,
    /// True while a bulk build runs (see [`begin_bulk`](Self::begin_bulk)).
    bulk: bool,
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
    record_terms_cached(doc, None)
}

/// Like [`record_terms`], reusing and filling `cache` (for many records at once).
pub(crate) fn record_terms_with(doc: &RecordDoc, cache: &mut ParseCache) -> Vec<String> {
    record_terms_cached(doc, Some(cache))
}

fn record_terms_cached(doc: &RecordDoc, mut cache: Option<&mut ParseCache>) -> Vec<String> {
    let mut out = BTreeSet::new();
    for name in &doc.names {
        let prefix = if name.field == NameField::Father as i32 {
            'f'
        } else {
            'n'
        };
        let parsed = match cache.as_deref_mut() {
            Some(cache) => Name::parse_with(&name.text, cache),
            None => Name::parse(&name.text),
        };
        for term in name_terms(&parsed) {
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

/// Compaction runs when at least this many slots are empty and they are at least half as
/// many as the full ones.
const COMPACT_AFTER: usize = 4096;

/// The new number of every full slot of `slots` slots, keeping their order; `full` says
/// which are full.
fn renumbering(slots: usize, full: impl Fn(usize) -> bool) -> Vec<u32> {
    let mut renumber = vec![u32::MAX; slots];
    let mut next = 0u32;
    for (old, new) in renumber.iter_mut().enumerate() {
        if full(old) {
            *new = next;
            next += 1;
        }
    }
    renumber
}

impl SearchIndex {
    /// An empty index.
    pub fn new() -> SearchIndex {
        SearchIndex::default()
    }

    /// Records currently indexed.
    pub fn record_count(&self) -> usize {
        self.live_records
    }

    /// MO notes currently indexed.
    pub fn note_count(&self) -> usize {
        self.note_slots.len()
    }

    /// Record slots, empty ones included: every slot is below this.
    pub(crate) fn slot_count(&self) -> usize {
        self.facts.len()
    }

    /// The record in `slot`, if the slot is full.
    pub(crate) fn record(&self, slot: u32) -> Option<RecordRef<'_>> {
        let facts = self.facts.get(slot as usize)?;
        (facts.origin != EMPTY).then_some(RecordRef {
            index: self,
            slot,
            facts,
        })
    }

    /// The id of the record in `slot` (empty for a slot out of range).
    fn id_of(&self, slot: u32) -> String {
        match self.ids.get(slot as usize) {
            Some(&0) | None => self
                .other_ids
                .get(&slot)
                .map(|id| id.to_string())
                .unwrap_or_default(),
            Some(&uuid) => Uuid::from_u128(uuid).hyphenated().to_string(),
        }
    }

    /// A bit per slot (64 slots a word), set for the emptied slots; slots past its end are
    /// not empty.
    pub(crate) fn empty_slots(&self) -> &[u64] {
        &self.empty_slots
    }

    /// The index of district `origin` in the district table, if any record has had it.
    pub(crate) fn origin_id(&self, origin: &str) -> Option<u32> {
        self.origin_ids.get(origin).copied()
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
        let slot = u32::try_from(self.facts.len()).unwrap_or(u32::MAX);
        for term in &terms {
            learn_word(&mut self.words, &mut self.keys, term);
            self.record_postings.add(term_hash(term), slot);
        }
        self.record_postings.merge_if_needed(self.bulk);
        let origin = match self.origin_ids.get(doc.origin.as_str()) {
            Some(&origin) => origin,
            None => {
                let origin = u32::try_from(self.origins.len()).unwrap_or(EMPTY - 1);
                self.origins.push(doc.origin.as_str().into());
                self.origin_ids.insert(doc.origin.as_str().into(), origin);
                origin
            }
        };
        let fields = self.fields.len() as u64;
        encode_fields(&doc, &mut self.name_words, &mut self.fields);
        self.facts.push(Facts {
            updated_at_ms: doc.updated_at_ms,
            fields,
            warnings: doc.warnings,
            born_from: doc.born_from,
            born_to: doc.born_to,
            status: doc.status,
            gender: doc.gender,
            origin,
        });
        match canonical_uuid(id) {
            Some(uuid) => self.ids.push(uuid),
            None => {
                self.ids.push(0);
                self.other_ids.insert(slot, id.into());
            }
        }
        self.by_id.add(term_hash(id), slot);
        self.by_id.merge_if_needed(self.bulk);
        self.live_records += 1;
    }

    /// Removes record `id` from the index, if it is there.
    pub fn remove_record(&mut self, id: &str) {
        if let Some(slot) = self.record_slot(id) {
            if let Some(facts) = self.facts.get_mut(slot as usize) {
                facts.origin = EMPTY;
                let word = slot as usize / 64;
                if self.empty_slots.len() <= word {
                    self.empty_slots.resize(word + 1, 0);
                }
                self.empty_slots[word] |= 1 << (slot % 64);
            }
            self.other_ids.remove(&slot);
            self.live_records -= 1;
            self.dead_records += 1;
            self.compact_if_needed();
        }
    }

    /// Indexes `doc` as the current version of MO note `id`, replacing any earlier one.
    pub fn put_note(&mut self, id: &str, doc: NoteDoc) {
        self.remove_note(id);
        let slot = u32::try_from(self.notes.len()).unwrap_or(u32::MAX);
        for term in note_terms(&doc) {
            self.note_postings.add(term_hash(&term), slot);
        }
        self.note_postings.merge_if_needed(self.bulk);
        let mut record_ids = Vec::new();
        for record in &doc.record_ids {
            match canonical_uuid(record) {
                Some(uuid) => {
                    record_ids.push(0);
                    record_ids.extend_from_slice(&uuid.to_be_bytes());
                }
                None => {
                    record_ids.push(1);
                    push_varint(&mut record_ids, record.len());
                    record_ids.extend_from_slice(record.as_bytes());
                }
            }
        }
        let mut texts = Vec::new();
        for text in &doc.texts {
            let field = match self.note_fields.iter().position(|f| **f == *text.field) {
                Some(field) => field,
                None => {
                    self.note_fields.push(text.field.as_str().into());
                    self.note_fields.len() - 1
                }
            };
            push_varint(&mut texts, field);
            push_varint(&mut texts, text.text.len());
            texts.extend_from_slice(text.text.as_bytes());
        }
        self.notes.push(Some(NoteEntry {
            id: id.into(),
            category: doc.category,
            record_ids: record_ids.into_boxed_slice(),
            texts: texts.into_boxed_slice(),
        }));
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

    /// Starts a bulk build: postings are merged less often (more memory for a while,
    /// much less work) until [`shrink`](Self::shrink) ends it.
    pub fn begin_bulk(&mut self) {
        self.bulk = true;
    }

    /// Gives back spare capacity (after a bulk build, when buffers have grown by
    /// doubling), merges every recent posting and ends a bulk build.
    pub fn shrink(&mut self) {
        self.bulk = false;
        self.record_postings.shrink();
        self.note_postings.shrink();
        self.by_id.shrink();
        self.ids.shrink_to_fit();
        self.facts.shrink_to_fit();
        self.fields.shrink_to_fit();
        self.other_ids.shrink_to_fit();
        self.notes.shrink_to_fit();
        self.note_slots.shrink_to_fit();
    }

    /// An estimate of the heap bytes the index holds, the sum of
    /// [`memory`](Self::memory).
    pub fn heap_bytes(&self) -> usize {
        self.memory().total()
    }

    /// An estimate of the heap bytes the index holds, per structure (see
    /// [`Memory`]).
    pub fn memory(&self) -> Memory {
        let documents = vec(&self.facts)
            + vec(&self.fields)
            + self.name_words.heap_bytes()
            + vec(&self.origins)
            + self.origins.iter().map(|o| boxed(o)).sum::<usize>()
            + table(&self.origin_ids)
            + self.origin_ids.keys().map(|o| boxed(o)).sum::<usize>();
        let (id_lists, id_keys) = self.by_id.heap_bytes();
        let ids = vec(&self.ids)
            + vec(&self.empty_slots)
            + table(&self.other_ids)
            + self.other_ids.values().map(|id| boxed(id)).sum::<usize>()
            + id_lists
            + id_keys;
        let (postings, terms) = self.record_postings.heap_bytes();
        let (note_lists, note_terms) = self.note_postings.heap_bytes();
        let notes = vec(&self.notes)
            + self
                .notes
                .iter()
                .flatten()
                .map(NoteEntry::heap_bytes)
                .sum::<usize>()
            + vec(&self.note_fields)
            + self.note_fields.iter().map(|f| boxed(f)).sum::<usize>()
            + table(&self.note_slots)
            + self.note_slots.keys().map(|k| boxed(k)).sum::<usize>()
            + note_lists
            + note_terms;
        Memory {
            documents,
            ids,
            postings,
            terms,
            notes,
            dictionaries: self.words.heap_bytes() + self.keys.heap_bytes(),
            term_count: self.record_postings.term_count(),
            posting_count: self.record_postings.posting_count(),
            singleton_terms: self.record_postings.singleton_count(),
        }
    }

    /// The distinct name words and variant keys in the typo dictionaries.
    pub fn dictionary_sizes(&self) -> (usize, usize) {
        (self.words.len(), self.keys.len())
    }

    /// The slot of record `id`, if indexed.
    pub fn record_slot(&self, id: &str) -> Option<u32> {
        self.by_id
            .get(term_hash(id))
            .filter(|&slot| self.record(slot).is_some_and(|r| r.is(id)))
            .last()
    }

    fn compact_if_needed(&mut self) {
        let records =
            self.dead_records >= COMPACT_AFTER && self.dead_records * 2 >= self.live_records;
        let notes =
            self.dead_notes >= COMPACT_AFTER && self.dead_notes * 2 >= self.note_slots.len();
        if records || notes {
            self.compact();
        }
    }

    /// Renumbers the slots densely and drops every posting of a replaced or removed
    /// version.
    pub fn compact(&mut self) {
        // Renumber records densely so that the slot vectors and the bit sets of searches
        // stay proportional to the live records.
        let facts = &self.facts;
        let renumber = renumbering(facts.len(), |slot| facts[slot].origin != EMPTY);
        let new_slot = |slot: u32| {
            renumber
                .get(slot as usize)
                .copied()
                .filter(|&s| s != u32::MAX)
        };
        self.record_postings.renumber(new_slot);
        self.by_id.renumber(new_slot);
        let mut fields = Vec::with_capacity(self.fields.len());
        let mut facts = Vec::with_capacity(self.live_records);
        let mut ids = Vec::with_capacity(self.live_records);
        let mut other_ids = HashMap::new();
        for (slot, old) in self.facts.iter().enumerate() {
            let Some(record) = self.record(slot as u32) else {
                continue;
            };
            let new = u32::try_from(facts.len()).unwrap_or(u32::MAX);
            let start = fields.len() as u64;
            let mut at = usize::try_from(old.fields).unwrap_or(usize::MAX);
            let len = read_varint(&self.fields, &mut at).unwrap_or(0);
            push_varint(&mut fields, len);
            let bytes = at
                .checked_add(len)
                .and_then(|end| self.fields.get(at..end))
                .unwrap_or_default();
            fields.extend_from_slice(bytes);
            facts.push(Facts {
                fields: start,
                ..*old
            });
            ids.push(self.ids.get(slot).copied().unwrap_or(0));
            if let Some(id) = self.other_ids.get(&record.slot) {
                other_ids.insert(new, id.clone());
            }
        }
        fields.shrink_to_fit();
        self.fields = fields;
        self.facts = facts;
        self.ids = ids;
        self.other_ids = other_ids;
        self.dead_records = 0;
        self.empty_slots = Vec::new();

        let notes = &self.notes;
        let renumber = renumbering(notes.len(), |slot| notes[slot].is_some());
        self.note_postings.renumber(|slot| {
            renumber
                .get(slot as usize)
                .copied()
                .filter(|&s| s != u32::MAX)
        });
        self.notes.retain(Option::is_some);
        for slot in self.note_slots.values_mut() {
            *slot = renumber[*slot as usize];
        }
        self.dead_notes = 0;
    }

    /// The slots of the records carrying a term, ascending (empty slots included).
    pub(super) fn record_posting(&self, term: &str) -> impl Iterator<Item = u32> + '_ {
        self.record_postings.get(term_hash(term))
    }

    /// Sets the bit of every slot of the records carrying `term` in `bits` (64 slots a
    /// word).
    pub(super) fn record_posting_into(&self, term: &str, bits: &mut [u64]) {
        self.record_postings.or_into(term_hash(term), bits)
    }

    /// The slots of the MO notes carrying a term.
    pub(super) fn note_posting(&self, term: &str) -> impl Iterator<Item = u32> + '_ {
        self.note_postings.get(term_hash(term))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                .filter_map(|s| index.record(s))
                .map(|r| r.id())
                .collect()
        };
        assert_eq!(live(&index, "nw:yadav"), Vec::<String>::new());
        assert_eq!(live(&index, "nw:mahto"), vec!["b", "a"]);
        index.remove_record("b");
        index.compact();
        assert_eq!(live(&index, "nw:mahto"), vec!["a"]);
        assert_eq!(index.record_posting("nw:yadav").count(), 0);
        assert_eq!(index.record_count(), 1);
        assert_eq!(index.record_slot("a"), Some(0));
    }

    #[test]
    fn searches_skip_replaced_and_removed_versions() {
        use crate::search::{NameQuery, SearchQuery};
        let mut index = SearchIndex::new();
        for id in ["a", "b", "c"] {
            index.put_record(id, doc("Raju Yadav"));
        }
        index.put_record("a", doc("Raju Yadav"));
        index.remove_record("b");
        let ids = |index: &SearchIndex, origins: Vec<String>| -> Vec<String> {
            let query = SearchQuery {
                name: Some(NameQuery::parse("Raju Yadav")),
                origins,
                limit: 10,
                ..Default::default()
            };
            let mut ids: Vec<String> = index
                .search(&query)
                .hits
                .into_iter()
                .map(|h| h.id)
                .collect();
            ids.sort();
            ids
        };
        // Unfiltered searches drop empty slots by their bits, filtered ones by their facts.
        assert_eq!(ids(&index, Vec::new()), ["a", "c"]);
        assert_eq!(ids(&index, vec![String::new()]), ["a", "c"]);
        index.compact();
        assert!(index.empty_slots().is_empty());
        assert_eq!(ids(&index, Vec::new()), ["a", "c"]);
        index.remove_record("c");
        assert_eq!(ids(&index, Vec::new()), ["a"]);
    }

    #[test]
    fn a_loose_match_shows_every_name_it_could_mean() {
        use crate::search::{NameQuery, SearchQuery};
        let mut index = SearchIndex::new();
        // Seven namesakes of the closest name, indexed last (newest), and two of
        // another name one edit away.
        for i in 0..2 {
            index.put_record(&format!("sangita-{i}"), doc("Sangita Rawani"));
        }
        for i in 0..7 {
            index.put_record(&format!("sunita-{i}"), doc("Sunita Rawani"));
        }
        let ranked = |text: &str| -> Vec<String> {
            let query = SearchQuery {
                name: Some(NameQuery::parse(text)),
                limit: 5,
                ..Default::default()
            };
            index
                .search(&query)
                .hits
                .into_iter()
                .map(|h| h.id)
                .collect()
        };
        let page = ranked("Sanita Rawani");
        assert!(page.iter().any(|id| id.starts_with("sangita")), "{page:?}");
        assert_eq!(page.iter().filter(|id| id.starts_with("sunita")).count(), 3);
        // Written exactly, a name keeps every place.
        assert!(ranked("Sunita Rawani")
            .iter()
            .all(|id| id.starts_with("sunita")));
    }

    #[test]
    fn records_keep_what_searches_read() {
        let mut index = SearchIndex::new();
        let id = "01890a5d-ac96-774b-bcce-b302099a8057";
        let mut record = doc("Raju Yadav");
        record.names.push(NameText {
            field: NameField::Father as i32,
            text: "रमेश यादव".into(),
        });
        record.origin = "jh-dhanbad".into();
        record.phones = vec!["9876543210".into()];
        record.vehicles = vec!["jh10ab1234".into()];
        record.firs = vec!["jharia|112".into()];
        record.born_from = 1990;
        record.born_to = 1991;
        record.updated_at_ms = 17;
        index.put_record(id, record.clone());
        // Upper case is another id, kept as written.
        index.put_record("Other-Id", doc("Sita Devi"));
        // Names not written as words separated by single spaces are kept as written.
        for odd in ["  Sita  Devi ", "", "R.K. Yadav\tjr"] {
            index.put_record("odd", doc(odd));
            let slot = index.record_slot("odd").expect("indexed");
            let names: Vec<_> = index.record(slot).expect("full").names().collect();
            assert_eq!(names, [(NameField::Name, Cow::Borrowed(odd))]);
        }
        index.remove_record("odd");
        let slot = index.record_slot(id).expect("indexed");
        let kept = index.record(slot).expect("full").doc();
        assert_eq!(
            kept,
            RecordDoc {
                firs: Vec::new(),
                ..record
            }
        );
        assert_eq!(index.record(slot).map(|r| r.id()).as_deref(), Some(id));
        assert_eq!(index.record_slot(&id.to_uppercase()), None);
        let other = index.record_slot("Other-Id").expect("indexed");
        assert_eq!(
            index.record(other).map(|r| r.id()).as_deref(),
            Some("Other-Id")
        );
        index.remove_record(id);
        assert_eq!(index.record_slot(id), None);
        assert_eq!(index.record_count(), 1);
        index.compact();
        assert_eq!(index.record_slot("Other-Id"), Some(0));
        assert_eq!(
            index.record(0).map(|r| r.names().collect::<Vec<_>>()),
            Some(vec![(NameField::Name, Cow::Borrowed("Sita Devi"))])
        );
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
