//! Name matching for suspect search: a pure library with no storage or gRPC, used by
//! the search service to find and rank people by name, alias or father's name however
//! the other district wrote it.
//!
//! The pipeline, from text to score:
//!
//! 1. [`normalize::fold`] folds case, punctuation and diacritics and collapses
//!    whitespace.
//! 2. [`translit::to_latin`] converts Devanagari (and Bengali, Odia, Gurmukhi, Gujarati)
//!    to the popular Latin spelling with `vidyut-lipi` plus Hindi schwa deletion, so
//!    "रवि कुमार यादव" becomes "ravi kumar yadav". Everything is compared in Latin, so
//!    both directions (Indic query, Latin record and the reverse) work alike.
//! 3. [`variants::key`] gives each token a spelling-variant key (v/w/b, sh/s, ph/f, z/j,
//!    long vowels, doubled letters, trailing a and h, ay/ai, au/ou, plus tables of
//!    multi-form names and short forms such as "Md" and "Kr").
//! 4. [`name::Name::parse`] prepares a name: tokens with their folded form, key, Double
//!    Metaphone codes, initials ("R. K.") and expanded short forms; an index can keep
//!    prepared names.
//! 5. [`score::NameQuery::parse`] parses a query, splitting off a relative's name
//!    ("Ravi s/o Ramesh") and aliases ("Raju @ Pappu"); [`score::match_name`] scores a
//!    query against a prepared name and says how it matched.
//! 6. [`terms::terms`] and [`terms::query_terms`] give inverted-index terms so that
//!    candidates can be found without scanning every name; `fuzzy.rs` keeps the index's
//!    dictionary of distinct words, through which a query token reaches the words within
//!    its typo budget.
//!
//! Cost, measured in a release build on the 2-core development machine: `match_name`
//! on a prepared candidate takes about 0.1–0.3 µs when the candidate is rejected (most
//! candidates: the search stops at the first query token that matches nothing) and
//! about 1–1.5 µs for a match, explanation included; `Name::parse` takes about 5 µs for
//! a Latin name and about 8 µs for a Devanagari one. The `match_name_is_cheap` test
//! prints the figure for the build it runs in.

pub mod document;
mod fuzzy;
pub mod index;
pub mod likely;
mod memory;
pub mod name;
pub mod normalize;
mod postings;
pub mod query;
pub mod score;
pub mod terms;
pub mod translit;
pub mod variants;

#[cfg(test)]
mod recall_set;

pub use document::{NoteDoc, RecordDoc};
pub use index::SearchIndex;
pub use likely::LikelyMatch;
pub use memory::Memory;
pub(crate) use name::ParseCache;
pub use name::{Name, Token};
pub use normalize::fold;
pub use query::{Hit, NoteHit, Reason, SearchQuery, SearchResults};
pub use score::{match_name, match_text, Match, MatchKind, NameQuery, Relation, TokenMatch};
pub use terms::{name_terms, query_terms, terms, QueryTokenTerms};
pub use translit::to_latin;
pub use variants::key;
