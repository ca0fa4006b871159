//! Running a search over the in-memory index: finding candidates through the postings,
//! filtering them, scoring names with [`match_name`], and ranking and paging the hits with
//! the reasons each matched.
//!
//! Every criterion given must hold (they are ANDed): a name in the text (every full word
//! of it, or all but one for a name of three or more words: a near miss), a father's name,
//! phone, vehicle, FIR, MO text and MO category narrow the candidates through postings;
//! origin, status, warnings, gender and birth year filter them. A relative written in the
//! text ("Ravi s/o Ramesh") only ranks: a record whose father matches ranks higher, one
//! without a father's name is still found.
//!
//! Broad queries ("Kumar" among a million records) can have tens of thousands of
//! candidates, and scoring a name in full costs microseconds (parsing the stored name
//! dominates). So candidates are first pre-scored from the postings alone — which kind of
//! term each query token hit: its exact folded form (1.0), its variant key (0.9), or a
//! looser term such as a phonetic code or a word within its typo budget (0.7), or
//! nothing (0, a near miss), plus half the
//! relative's pre-score — and only the best [`MAX_SCORED`] (more when paging deep) are
//! scored in full, newest first among equals.

use std::collections::HashMap;
use std::rc::Rc;

use super::document::NameField;
use super::index::{text_words, RecordRef, SearchIndex};
use super::name::{Name, ParseCache};
use super::score::{match_name, Match, NameQuery, NEAR_MISS_MIN_TOKENS};
use super::terms::query_terms;

/// The most candidates scored in full for one search.
/// Pre-scoring ranks the candidates well enough that scoring more changed no recall
/// figure of the search bench at a million records, while each one scored costs a few
/// microseconds.
pub const MAX_SCORED: usize = 128;
/// The most MO notes reported with a search.
pub const MAX_NOTE_HITS: usize = 20;

/// A validated search, in the index's terms.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// The name to look for, with its aliases and a relative (which only ranks).
    pub name: Option<NameQuery>,
    /// A father's name that must match.
    pub father: Option<Name>,
    /// Only records of these origins (empty: all).
    pub origins: Vec<String>,
    /// Only records with these statuses (empty: all).
    pub statuses: Vec<i32>,
    /// Bits of the warnings every hit must carry.
    pub warnings: u32,
    /// Only people linked to an MO note of one of these categories (empty: no filter).
    pub mo_categories: Vec<i32>,
    /// Only this gender (0: any).
    pub gender: i32,
    /// Only people who may have been born within these years.
    pub born: Option<(u32, u32)>,
    /// A phone key (see [`super::document::phone_key`]).
    pub phone: Option<String>,
    /// A vehicle key.
    pub vehicle: Option<String>,
    /// An FIR key (see [`super::document::fir_keys`]).
    pub fir: Option<String>,
    /// Free text over MO notes.
    pub mo_text: Option<String>,
    /// Hits to skip (paging).
    pub offset: usize,
    /// Hits to return.
    pub limit: usize,
}

/// Why a hit matched, for one criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// The record field that matched.
    pub field: String,
    /// In words.
    pub detail: String,
    /// This criterion's score.
    pub score: f32,
}

/// One ranked record.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The record id.
    pub id: String,
    /// The overall score in (0, 1].
    pub score: f32,
    /// Why it matched.
    pub reasons: Vec<Reason>,
}

/// One matching MO note.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteHit {
    /// The note id.
    pub id: String,
    /// The share of the query words found in it.
    pub score: f32,
    /// The words found and where ("'atm' in summary").
    pub matched: Vec<String>,
}

/// A page of results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    /// The hits of the requested page, best first.
    pub hits: Vec<Hit>,
    /// Hits in all.
    pub total: usize,
    /// True if only part of the candidates were scored (see [`MAX_SCORED`]).
    pub total_is_estimate: bool,
    /// The offset of the next page, if there are more hits.
    pub next_offset: Option<usize>,
    /// The best matching MO notes, with MO text.
    pub notes: Vec<NoteHit>,
}

/// A set of record slots as bits.
#[derive(Clone)]
struct Bits(Vec<u64>);

impl Bits {
    fn empty(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    fn set(&mut self, slot: u32) {
        let slot = slot as usize;
        if let Some(word) = self.0.get_mut(slot / 64) {
            *word |= 1 << (slot % 64);
        }
    }

    fn and(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    /// Clears every bit set in `other`.
    fn and_not(&mut self, other: &[u64]) {
        for (a, b) in self.0.iter_mut().zip(other) {
            *a &= !b;
        }
    }

    /// The bits of slots `64 * index ..` (0 past the end).
    fn word(&self, index: usize) -> u64 {
        self.0.get(index).copied().unwrap_or(0)
    }

    fn or(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    /// The slots in descending order (newest versions first).
    fn descending(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().rev().flat_map(|(i, &word)| {
            let mut word = word;
            std::iter::from_fn(move || {
                if word == 0 {
                    return None;
                }
                let top = 63 - word.leading_zeros();
                word &= !(1u64 << top);
                Some((i * 64) as u32 + top)
            })
        })
    }
}

/// Which records have some lookup term of one query token, by how close the term is:
/// the token's own folded form, its own variant key, or anything looser (phonetic codes,
/// one-edit deletions, joined pairs, initials).
struct TokenTiers {
    exact: Bits,
    variant: Bits,
    loose: Bits,
}

impl TokenTiers {
    /// The tiers' words holding the bits of slots `64 * index ..`.
    fn words(&self, index: usize) -> [u64; 3] {
        [
            self.exact.word(index),
            self.variant.word(index),
            self.loose.word(index),
        ]
    }
}

/// The pre-score weight of a token for the slot at `bit` of the tiers' `words` (0 when it
/// does not match).
fn weight(words: &[u64; 3], bit: u32) -> f32 {
    let has = |word: u64| word & (1 << bit) != 0;
    if has(words[0]) {
        1.0
    } else if has(words[1]) {
        0.9
    } else if has(words[2]) {
        0.7
    } else {
        0.0
    }
}

/// The candidates of a name query among names indexed under `prefix` ('n' or 'f'), with
/// each alternative's tokens' tiers for pre-scoring.
struct NameCandidates {
    /// Records where, for some alternative of the query, every non-initial token has a
    /// lookup term — or all but one, for an alternative of three or more such tokens (a
    /// near miss).
    bits: Bits,
    /// Per alternative, per non-initial token.
    alternatives: Vec<Vec<TokenTiers>>,
}

impl NameCandidates {
    /// A cheap estimate of how well `slot` matches, from which kind of term each token
    /// hit: the best alternative's mean token weight (a token that hit nothing adds 0).
    /// `near` keeps the tiers' words of the last 64 slots asked about: candidates come in
    /// slot order, so neighbours share them and the large bit sets are read once a word.
    fn pre_score(&self, slot: u32, near: &mut NearWords) -> f32 {
        let index = slot as usize / 64;
        if near.index != Some(index) {
            near.index = Some(index);
            near.words.clear();
            for tokens in &self.alternatives {
                near.words.extend(tokens.iter().map(|t| t.words(index)));
            }
        }
        let bit = slot % 64;
        let mut best = 0.0f32;
        let mut at = 0;
        for tokens in &self.alternatives {
            let words = near.words.get(at..at + tokens.len()).unwrap_or_default();
            at += tokens.len();
            if !words.is_empty() {
                let sum: f32 = words.iter().map(|w| weight(w, bit)).sum();
                best = best.max(sum / words.len() as f32);
            }
        }
        best
    }
}

/// The tiers' words of one run of 64 slots, per alternative and token (see
/// [`NameCandidates::pre_score`]).
#[derive(Default)]
struct NearWords {
    index: Option<usize>,
    words: Vec<[u64; 3]>,
}

/// The records hit by every one of `sets`, or by all but one when there are at least
/// [`NEAR_MISS_MIN_TOKENS`]. Worked out a word (64 slots) at a time: "all but one" is the
/// union over each set left out of the intersection of the others, from prefix and
/// suffix intersections of that word's bits.
fn all_or_all_but_one(sets: &[Bits], len: usize) -> Option<Bits> {
    let n = sets.len();
    if n == 0 {
        return None;
    }
    let near_miss = n >= NEAR_MISS_MIN_TOKENS;
    let mut out = Bits::empty(len);
    let mut suffix = vec![0u64; n + 1];
    for (i, word) in out.0.iter_mut().enumerate() {
        if !near_miss {
            *word = sets.iter().fold(!0, |all, set| all & set.word(i));
            continue;
        }
        // suffix[k] is the intersection of sets[k..] in this word.
        suffix[n] = !0;
        for k in (0..n).rev() {
            suffix[k] = suffix[k + 1] & sets[k].word(i);
        }
        let mut prefix = !0u64;
        let mut union = 0u64;
        for (k, set) in sets.iter().enumerate() {
            union |= prefix & suffix[k + 1];
            prefix &= set.word(i);
        }
        *word = union;
    }
    Some(out)
}

/// Looks up the candidates of a name query. None if the query has no token that can be
/// looked up (initials only).
fn name_candidates(index: &SearchIndex, prefix: char, query: &NameQuery) -> Option<NameCandidates> {
    let len = index.slot_count();
    let per_token = query_terms(query);
    let mut out: Option<Bits> = None;
    let mut alternatives = Vec::new();
    let mut position = 0;
    for name in &query.names {
        let tokens = &per_token[position..position + name.tokens.len()];
        position += name.tokens.len();
        let mut sets: Vec<Bits> = Vec::new();
        let mut tiers_of_tokens = Vec::new();
        for (token, terms) in name.tokens.iter().zip(tokens).filter(|(_, t)| !t.initial) {
            let own_word = format!("w:{}", token.latin);
            let own_key = format!("k:{}", token.key);
            let mut tiers = TokenTiers {
                exact: Bits::empty(len),
                variant: Bits::empty(len),
                loose: Bits::empty(len),
            };

            for term in &terms.terms {
                let tier = if *term == own_word {
                    &mut tiers.exact
                } else if *term == own_key {
                    &mut tiers.variant
                } else {
                    &mut tiers.loose
                };
                index.record_posting_into(&format!("{prefix}{term}"), &mut tier.0);
            }
            // Typos: the indexed words and keys within the token's typo budget.
            let near_words = index.words.near(&token.latin);
            let near_keys = index.keys.near(&token.key);
            let typo_terms = near_words
                .iter()
                .map(|w| format!("{prefix}w:{w}"))
                .chain(near_keys.iter().map(|k| format!("{prefix}k:{k}")));
            for term in typo_terms {
                index.record_posting_into(&term, &mut tiers.loose.0);
            }
            let mut any = tiers.exact.clone();
            any.or(&tiers.variant);
            any.or(&tiers.loose);
            sets.push(any);
            tiers_of_tokens.push(tiers);
        }
        alternatives.push(tiers_of_tokens);
        if let Some(alternative) = all_or_all_but_one(&sets, len) {
            match &mut out {
                None => out = Some(alternative),
                Some(o) => o.or(&alternative),
            }
        }
    }
    out.map(|bits| NameCandidates { bits, alternatives })
}

/// The records carrying identifier `term` (`t:`, `v:` or `c:` and the key). Postings
/// are keyed by term hash, so a phone or vehicle is also checked against the record's
/// own.
fn term_candidates(index: &SearchIndex, term: &str) -> Bits {
    let mut bits = Bits::empty(index.slot_count());
    let check = |slot: u32| -> bool {
        let Some(record) = index.record(slot) else {
            return false;
        };
        if let Some(phone) = term.strip_prefix("t:") {
            record.phones().any(|p| p == phone)
        } else if let Some(vehicle) = term.strip_prefix("v:") {
            record.vehicles().any(|v| v == vehicle)
        } else {
            true
        }
    };
    for slot in index.record_posting(term).filter(|&slot| check(slot)) {
        bits.set(slot);
    }
    bits
}

/// MO notes matching the text and categories, best first, with the share of query words
/// each has.
fn matching_notes(index: &SearchIndex, query: &SearchQuery) -> Vec<(u32, f32, Vec<String>)> {
    let categories = &query.mo_categories;
    let in_category = |slot: u32| {
        categories.is_empty()
            || index.notes[slot as usize]
                .as_ref()
                .is_some_and(|n| categories.contains(&n.category))
    };
    let Some(text) = &query.mo_text else {
        return index
            .notes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.is_some())
            .map(|(slot, _)| slot as u32)
            .filter(|&slot| in_category(slot))
            .map(|slot| (slot, 1.0, Vec::new()))
            .collect();
    };
    let words = text_words(text);
    if words.is_empty() {
        return Vec::new();
    }
    let mut found: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, (_, key)) in words.iter().enumerate() {
        for slot in index.note_posting(key) {
            found.entry(slot).or_default().push(i);
        }
    }
    // At least half of the query words must be in a note.
    let needed = words.len().div_ceil(2);
    let mut notes: Vec<(u32, f32, Vec<String>)> = found
        .into_iter()
        .filter(|(slot, hits)| {
            hits.len() >= needed && index.notes[*slot as usize].is_some() && in_category(*slot)
        })
        .map(|(slot, hits)| {
            let score = hits.len() as f32 / words.len() as f32;
            (slot, score, where_found(index, slot, &words, &hits))
        })
        .collect();
    notes.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    notes
}

/// "'atm' in summary" for each query word found in a note.
fn where_found(
    index: &SearchIndex,
    slot: u32,
    words: &[(String, String)],
    hits: &[usize],
) -> Vec<String> {
    let Some(note) = &index.notes[slot as usize] else {
        return Vec::new();
    };
    hits.iter()
        .map(|&i| {
            let (word, key) = &words[i];
            let field = note
                .texts(index)
                .find(|(_, text)| text_words(text).iter().any(|(_, k)| k == key))
                .map_or("note", |(field, _)| field);
            format!("'{word}' in {field}")
        })
        .collect()
}

/// One name query and what it has already made of candidate names during one search.
/// Candidates share most of their names (a million records hold far fewer distinct
/// names), so each distinct text is parsed and matched once per search, not once per
/// candidate.
struct NameMatcher {
    query: NameQuery,
    /// A candidate's name text → how the query matched it, if it did.
    seen: HashMap<String, Option<Rc<Match>>>,
}

impl NameMatcher {
    fn new(query: NameQuery) -> NameMatcher {
        NameMatcher {
            query,
            seen: HashMap::new(),
        }
    }

    /// How the query matches `text` (parsed through `cache`), if it does.
    fn match_text(&mut self, text: &str, cache: &mut ParseCache) -> Option<Rc<Match>> {
        if let Some(known) = self.seen.get(text) {
            return known.clone();
        }
        let found = match_name(&self.query, &Name::parse_with(text, cache)).map(Rc::new);
        if self.seen.len() >= MATCHES_REMEMBERED {
            self.seen.clear();
        }
        self.seen.insert(text.to_string(), found.clone());
        found
    }
}

/// How many candidate names one search remembers per name query (a bound on memory for
/// the broadest queries; the cache starts again when full).
const MATCHES_REMEMBERED: usize = 4096;

/// The best match of the matcher's query among a record's names of the given fields,
/// with the field. A one-word alias is also tried with the record's surname ("Raju" +
/// "Yadav").
fn best_name_match(
    record: &RecordRef<'_>,
    matcher: &mut NameMatcher,
    fathers: bool,
    cache: &mut ParseCache,
) -> Option<(Rc<Match>, NameField, String)> {
    let surname = record
        .names()
        .find(|(field, _)| *field == NameField::Name)
        .and_then(|(_, text)| {
            let words: Vec<&str> = text.split_whitespace().collect();
            (words.len() > 1).then(|| words[words.len() - 1].to_string())
        });
    let mut best: Option<(Rc<Match>, NameField, String)> = None;
    for (field, text) in record.names() {
        if (field == NameField::Father) != fathers {
            continue;
        }
        if best.as_ref().is_some_and(|(b, _, _)| b.score >= 1.0) {
            // Nothing scores above an exact match of every token.
            break;
        }
        let mut texts = vec![text.to_string()];
        if field == NameField::Alias && !text.contains(char::is_whitespace) {
            if let Some(surname) = &surname {
                texts.push(format!("{text} {surname}"));
            }
        }
        for text in texts {
            if let Some(m) = matcher.match_text(&text, cache) {
                if best.as_ref().is_none_or(|(b, _, _)| m.score > b.score) {
                    best = Some((m, field, text));
                }
            }
        }
    }
    best
}

/// How many hits of one loosely matched name come before the other names a query could
/// mean (see [`spread_names`]).
const PER_LOOSE_NAME: usize = 3;

/// Ranks hits by score, except that a name the query matched only loosely (a typo, a
/// sound, a spelling) gets at most [`PER_LOOSE_NAME`] places before the hits of every
/// other name, which follow in their order. A typo can be as close to several names
/// ("Sanita": Sunita, Sarita, Sangita), and at a million records each of them is carried
/// by dozens of people: the first page shows every name the query could mean, not ten
/// namesakes of one. A hit whose name or father's name matched exactly keeps its place.
fn spread_names(hits: Vec<(Hit, i64)>) -> Vec<(Hit, i64)> {
    let mut shown: HashMap<String, usize> = HashMap::new();
    let mut first = Vec::with_capacity(hits.len());
    let mut later = Vec::new();
    for hit in hits {
        // What the hit says about the person: its name, father's name and identifier
        // reasons (an MO note is about the case, not the person).
        let about_person: Vec<&Reason> = hit
            .0
            .reasons
            .iter()
            .filter(|r| r.field != "mo_note")
            .collect();
        // A name, father's name or identifier matched exactly is what the officer wrote:
        // the same person may well be on record more than once, and every record is shown.
        if about_person.is_empty() || about_person.iter().any(|r| r.score >= 1.0) {
            first.push(hit);
            continue;
        }
        // The same name with another father's name is another person.
        let person: Vec<&str> = about_person.iter().map(|r| r.detail.as_str()).collect();
        let count = shown.entry(person.join("; ")).or_default();
        *count += 1;
        if *count > PER_LOOSE_NAME {
            later.push(hit);
        } else {
            first.push(hit);
        }
    }
    first.extend(later);
    first
}

impl SearchIndex {
    /// Runs `query`: every criterion must hold; hits are ranked by score, then by the most
    /// recent change, then by id, with the namesakes of a loosely matched name spread
    /// out (see [`spread_names`]).
    pub fn search(&self, query: &SearchQuery) -> SearchResults {
        let mut candidates: Option<Bits> = None;
        let mut narrow = |bits: Bits| match &mut candidates {
            None => candidates = Some(bits),
            Some(c) => c.and(&bits),
        };
        if let Some(phone) = &query.phone {
            narrow(term_candidates(self, &format!("t:{phone}")));
        }
        if let Some(vehicle) = &query.vehicle {
            narrow(term_candidates(self, &format!("v:{vehicle}")));
        }
        if let Some(fir) = &query.fir {
            narrow(term_candidates(self, &format!("c:{fir}")));
        }
        // MO notes narrow to the people they are linked to; each person keeps the best
        // note's score and words.
        let mut by_note: HashMap<u32, (f32, u32)> = HashMap::new();
        let mut notes = Vec::new();
        if query.mo_text.is_some() || !query.mo_categories.is_empty() {
            notes = matching_notes(self, query);
            let mut bits = Bits::empty(self.slot_count());
            for (i, (note_slot, score, _)) in notes.iter().enumerate() {
                let Some(note) = &self.notes[*note_slot as usize] else {
                    continue;
                };
                for record in note.record_ids() {
                    if let Some(slot) = self.record_slot(&record) {
                        bits.set(slot);
                        let best = by_note.entry(slot).or_insert((*score, i as u32));
                        if *score > best.0 {
                            *best = (*score, i as u32);
                        }
                    }
                }
            }
            narrow(bits);
        }
        let father_candidates = query
            .father
            .as_ref()
            .and_then(|f| name_candidates(self, 'f', &NameQuery::from_name(f.clone())));
        if let Some(found) = &father_candidates {
            narrow(found.bits.clone());
        }
        let name = query.name.as_ref().filter(|n| !n.is_empty());
        let name_found = name.and_then(|n| name_candidates(self, 'n', n));
        if let Some(found) = &name_found {
            narrow(found.bits.clone());
        }

        // Filter, in slot order (newest versions first), and pick what to score. The
        // districts asked for are looked up once, as indexes into the district table.
        let origins: Vec<u32> = query
            .origins
            .iter()
            .filter_map(|o| self.origin_id(o))
            .collect();
        let filtered = !query.origins.is_empty()
            || !query.statuses.is_empty()
            || query.warnings != 0
            || query.gender != 0
            || query.born.is_some();
        let passes = |slot: u32| -> bool {
            let Some(record) = self.record(slot) else {
                return false;
            };
            let facts = record.facts;
            !filtered
                || ((query.origins.is_empty() || origins.contains(&facts.origin))
                    && (query.statuses.is_empty() || query.statuses.contains(&facts.status))
                    && facts.warnings & query.warnings == query.warnings
                    && (query.gender == 0 || facts.gender == query.gender)
                    && query
                        .born
                        .is_none_or(|(from, to)| facts.born_within(from, to)))
        };
        let mut chosen: Vec<u32> = match &mut candidates {
            // Without filters only the empty slots go, and they are known as bits: no
            // record is read.
            Some(bits) if !filtered => {
                bits.and_not(self.empty_slots());
                bits.descending().collect()
            }
            Some(bits) => bits.descending().filter(|&s| passes(s)).collect(),
            None => (0..self.slot_count() as u32)
                .rev()
                .filter(|&s| passes(s))
                .collect(),
        };
        let needs_scoring = name.is_some() || query.father.is_some();
        if !needs_scoring && query.mo_text.is_none() {
            return self.unranked_page(query, chosen, &by_note, &notes);
        }
        let mut estimate = false;
        let mut unscored = 0;
        let to_score = MAX_SCORED.max(query.offset + query.limit + MAX_SCORED / 4);
        if needs_scoring && chosen.len() > to_score {
            // Score in full only the most promising candidates: by the kind of term each
            // query token hit (exact, variant, looser), a relative's name adding to it,
            // newest first among equals.
            let relative = name
                .and_then(NameQuery::relative_query)
                .and_then(|r| name_candidates(self, 'f', &r));
            let own = name_found.as_ref().or(father_candidates.as_ref());
            let (mut own_near, mut relative_near) = (NearWords::default(), NearWords::default());
            let mut pre_score = |slot: u32| {
                own.map_or(0.0, |c| c.pre_score(slot, &mut own_near))
                    + relative
                        .as_ref()
                        .map_or(0.0, |r| 0.5 * r.pre_score(slot, &mut relative_near))
            };
            let mut ranked: Vec<(f32, u32)> = chosen.iter().map(|&s| (pre_score(s), s)).collect();
            let better = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1));
            ranked.select_nth_unstable_by(to_score - 1, better);
            ranked.truncate(to_score);
            unscored = chosen.len() - to_score;
            chosen = ranked.into_iter().map(|(_, s)| s).collect();
            estimate = true;
        }

        // The candidates share most of their words and names: each word is prepared, and
        // each name matched, once.
        let mut cache = ParseCache::default();
        let mut name_matcher = name.cloned().map(NameMatcher::new);
        let mut relative_matcher = name
            .and_then(NameQuery::relative_query)
            .map(NameMatcher::new);
        let mut father_matcher = query
            .father
            .as_ref()
            .map(|father| NameMatcher::new(NameQuery::from_name(father.clone())));
        let mut hits: Vec<(Hit, i64)> = Vec::new();
        for slot in chosen {
            let Some(record) = self.record(slot) else {
                continue;
            };
            let mut score = 1.0f32;
            let mut reasons = Vec::new();
            if let Some(matcher) = &mut name_matcher {
                let Some((m, field, text)) = best_name_match(&record, matcher, false, &mut cache)
                else {
                    continue;
                };
                score = m.score;
                reasons.push(Reason {
                    field: field.as_str().to_string(),
                    detail: format!("{} '{text}': {}", field.as_str(), m.how),
                    score: m.score,
                });
                if let Some(relative) = &mut relative_matcher {
                    match best_name_match(&record, relative, true, &mut cache) {
                        Some((m, _, text)) => {
                            score *= 0.6 + 0.4 * m.score;
                            reasons.push(Reason {
                                field: "father_name".into(),
                                detail: format!("father_name '{text}': {}", m.how),
                                score: m.score,
                            });
                        }
                        None => score *= 0.6,
                    }
                }
            }
            if let Some(father) = &mut father_matcher {
                let Some((m, _, text)) = best_name_match(&record, father, true, &mut cache) else {
                    continue;
                };
                score *= m.score;
                reasons.push(Reason {
                    field: "father_name".into(),
                    detail: format!("father_name '{text}': {}", m.how),
                    score: m.score,
                });
            }
            let (factor, extra) = self.other_reasons(query, slot, &by_note, &notes, name.is_some());
            score *= factor;
            reasons.extend(extra);
            hits.push((
                Hit {
                    id: record.id(),
                    score,
                    reasons,
                },
                record.facts.updated_at_ms,
            ));
        }
        hits.sort_by(|(a, at), (b, bt)| {
            b.score
                .total_cmp(&a.score)
                .then(bt.cmp(at))
                .then(a.id.cmp(&b.id))
        });
        let hits = spread_names(hits);
        let scored = hits.len();
        let total = scored + unscored;
        let end = (query.offset + query.limit).min(hits.len());
        let page: Vec<Hit> = hits
            .into_iter()
            .skip(query.offset)
            .take(end.saturating_sub(query.offset))
            .map(|(hit, _)| hit)
            .collect();
        let note_hits = if query.offset == 0 && query.mo_text.is_some() {
            notes
                .iter()
                .take(MAX_NOTE_HITS)
                .filter_map(|(slot, score, matched)| {
                    Some(NoteHit {
                        id: self.notes[*slot as usize].as_ref()?.id.to_string(),
                        score: *score,
                        matched: matched.clone(),
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        SearchResults {
            hits: page,
            total,
            total_is_estimate: estimate,
            next_offset: (end > query.offset && end < scored).then_some(end),
            notes: note_hits,
        }
    }

    /// The reasons of the identifier and MO criteria for the record in `slot`, and the
    /// factor its MO note's score contributes.
    fn other_reasons(
        &self,
        query: &SearchQuery,
        slot: u32,
        by_note: &HashMap<u32, (f32, u32)>,
        notes: &[(u32, f32, Vec<String>)],
        has_name: bool,
    ) -> (f32, Vec<Reason>) {
        let mut factor = 1.0;
        let mut reasons = Vec::new();
        for (field, key) in [
            ("phones", &query.phone),
            ("vehicles", &query.vehicle),
            ("cases", &query.fir),
        ] {
            if let Some(key) = key {
                let shown = key.replace('|', " ");
                reasons.push(Reason {
                    field: field.into(),
                    detail: format!("{field}: '{shown}' (exact, normalised)"),
                    score: 1.0,
                });
            }
        }
        if let Some(&(note_score, i)) = by_note.get(&slot) {
            let (note_slot, _, words) = &notes[i as usize];
            let note_id = self.notes[*note_slot as usize]
                .as_ref()
                .map(|n| n.id.to_string())
                .unwrap_or_default();
            if query.mo_text.is_some() {
                factor = if has_name {
                    0.7 + 0.3 * note_score
                } else {
                    note_score
                };
            }
            let detail = if words.is_empty() {
                format!("mo_note {note_id}: linked, of the requested category")
            } else {
                format!("mo_note {note_id}: linked, {}", words.join(", "))
            };
            reasons.push(Reason {
                field: "mo_note".into(),
                detail,
                score: note_score,
            });
        }
        (factor, reasons)
    }

    /// The page of a query without names or MO text: every hit scores 1, newest change
    /// first, and only the page's hits are built.
    fn unranked_page(
        &self,
        query: &SearchQuery,
        chosen: Vec<u32>,
        by_note: &HashMap<u32, (f32, u32)>,
        notes: &[(u32, f32, Vec<String>)],
    ) -> SearchResults {
        let updated = |slot: u32| {
            self.record(slot)
                .map_or(i64::MIN, |r| r.facts.updated_at_ms)
        };
        let mut ordered: Vec<(i64, u32)> = chosen.iter().map(|&s| (updated(s), s)).collect();
        let total = ordered.len();
        let wanted = (query.offset + query.limit).min(total);
        let newest_first = |a: &(i64, u32), b: &(i64, u32)| b.cmp(a);
        if wanted > 0 && wanted < total {
            ordered.select_nth_unstable_by(wanted - 1, newest_first);
            ordered.truncate(wanted);
        }
        ordered.sort_unstable_by(newest_first);
        let hits = ordered
            .into_iter()
            .skip(query.offset)
            .filter_map(|(_, slot)| {
                let record = self.record(slot)?;
                let (_, reasons) = self.other_reasons(query, slot, by_note, notes, false);
                Some(Hit {
                    id: record.id(),
                    score: 1.0,
                    reasons,
                })
            })
            .collect();
        SearchResults {
            hits,
            total,
            total_is_estimate: false,
            next_offset: (wanted > query.offset && wanted < total).then_some(wanted),
            notes: Vec::new(),
        }
    }
}
