//! Scoring a name query against a candidate name.
//!
//! A query is parsed once ([`NameQuery::parse`]); candidates are prepared once
//! ([`Name::parse`], which an index can keep). [`match_name`] then pairs every query
//! token with a different candidate token, in any order, and scores each pair by the
//! best way they match:
//!
//! | kind | score | example |
//! |---|---|---|
//! | exact (folded) | 1.00 | "YADAV" = "Yadav" |
//! | transliteration | 0.98 | "रवि" = "Ravi" |
//! | short form | 0.92 | "Md" ~ "Mohammad" |
//! | spelling variant (same key) | 0.90 | "Raaju" ~ "Raju" |
//! | phonetic (Double Metaphone, close keys) | 0.76 | "Hembrom" ~ "Hembram" |
//! | typo, 1 edit / 2 edits | 0.72 / 0.62 | "Yadva" ~ "Yadav" |
//! | initial | 0.55 (0.50 when the candidate has the initial) | "R." ~ "Ravi" |
//!
//! Typos are Damerau-Levenshtein (optimal string alignment) distances on the folded form
//! or on the variant key, allowed by the shorter word's length: none up to 2 letters, 1
//! edit for 3–6 letters, 2 edits from 7 (a dropped, doubled or replaced letter, or two
//! neighbours swapped, the first two included). Between typos the same number of edits
//! away, the closer one as written ranks first: a typo reached only through the
//! variant keys costs 0.03 more, one in the first letter 0.02, one that changes the
//! word's length 0.01, and one in a word of three letters 0.04. A query token
//! may also match two adjacent candidate tokens written as one ("Ravikumar" ~ "Ravi
//! Kumar") or the reverse, at 0.97 of the pair's score; such joined words match only
//! by equal folded forms or keys, never by typo, sound or initial.
//!
//! Every query token must match, except that a query of three or more full words may
//! leave one of them unmatched (a near miss: "Shyam Kumai Kisku" for "Shyam Kisku"); that
//! token scores 0, the match is multiplied by [`MISSED_TOKEN_FACTOR`] and the explanation
//! names it. The name score is the mean of the token scores (initials weigh half),
//! multiplied by 0.95 for every candidate token left unmatched (0.98 for an unmatched
//! initial, at least 0.75 in all) and by 0.99 when the tokens match out of order. Scores
//! lie in (0, 1].

use std::fmt;

use strsim::osa_distance;

use super::name::{Name, Token, MAX_TOKENS};
use super::translit::to_latin;

/// How one query token matched one candidate token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchKind {
    /// The folded forms are equal.
    Exact,
    /// The folded forms are equal once the Indic-script side is transliterated.
    Transliteration,
    /// One side is a short form of the other ("Md" and "Mohammad").
    ShortForm,
    /// The spelling-variant keys are equal.
    Variant,
    /// The phonetic codes agree and the keys are close.
    Phonetic,
    /// Within the allowed edit distance (the number of edits).
    Typo(u8),
    /// A single letter matches the first letter of a name.
    Initial,
}

impl MatchKind {
    /// The base score of this kind of match.
    fn score(self) -> f32 {
        match self {
            MatchKind::Exact => 1.0,
            MatchKind::Transliteration => 0.98,
            MatchKind::ShortForm => 0.92,
            MatchKind::Variant => 0.90,
            MatchKind::Phonetic => 0.76,
            MatchKind::Typo(1) => 0.72,
            MatchKind::Typo(_) => 0.62,
            MatchKind::Initial => 0.55,
        }
    }
}

impl fmt::Display for MatchKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchKind::Exact => f.write_str("exact"),
            MatchKind::Transliteration => f.write_str("transliteration"),
            MatchKind::ShortForm => f.write_str("short form"),
            MatchKind::Variant => f.write_str("spelling variant"),
            MatchKind::Phonetic => f.write_str("phonetic"),
            MatchKind::Typo(1) => f.write_str("typo, 1 edit"),
            MatchKind::Typo(n) => write!(f, "typo, {n} edits"),
            MatchKind::Initial => f.write_str("initial"),
        }
    }
}

/// One matched pair of tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenMatch {
    /// The query token as written (two tokens joined by a space if they matched one).
    pub query: String,
    /// The candidate token as written (likewise).
    pub candidate: String,
    /// How they matched.
    pub kind: MatchKind,
    /// True if one side was two adjacent tokens taken as one word.
    pub joined: bool,
    /// The transliterated form, when the query or candidate side was Indic script.
    pub latin: Option<String>,
    /// The score of this pair.
    pub score: f32,
}

impl fmt::Display for TokenMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined = if self.joined { ", joined" } else { "" };
        let latin = match &self.latin {
            Some(latin) => format!(", read as '{latin}'"),
            None => String::new(),
        };
        if self.kind == MatchKind::Exact && !self.joined {
            write!(f, "'{}' (exact)", self.candidate)
        } else {
            write!(
                f,
                "'{}' ~ '{}' ({}{joined}{latin})",
                self.query, self.candidate, self.kind
            )
        }
    }
}

/// The result of matching a query against a candidate name.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    /// Overall score in (0, 1]; 1 is an exact match of every token.
    pub score: f32,
    /// What matched, in words: "'Raaju' ~ 'Raju' (spelling variant), 'Yadav' (exact)".
    pub how: String,
    /// The matched token pairs, in query order.
    pub tokens: Vec<TokenMatch>,
    /// The query token left unmatched by a near miss, as written.
    pub missed: Option<String>,
}

/// The factor applied to a match that left one query token unmatched, so that near
/// misses rank below names matching every token.
pub const MISSED_TOKEN_FACTOR: f32 = 0.9;

/// Queries of at least this many full (non-initial) words may leave one unmatched.
pub const NEAR_MISS_MIN_TOKENS: usize = 3;

/// The relation written between a name and a relative's name in a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// "s/o", "son of", "पुत्र".
    SonOf,
    /// "d/o", "daughter of", "पुत्री".
    DaughterOf,
    /// "w/o", "wife of", "पत्नी".
    WifeOf,
    /// "h/o", "husband of", "पति".
    HusbandOf,
    /// "c/o", "care of", or "पिता" (father:).
    Other,
}

impl Relation {
    /// True if the relative is the person's father (son of, daughter of) — or, for
    /// "पिता"/"c/o", probably so.
    pub fn is_parent(self) -> bool {
        matches!(
            self,
            Relation::SonOf | Relation::DaughterOf | Relation::Other
        )
    }
}

/// A parsed name query: the name with its alternatives ("Raju @ Pappu", "Raju urf
/// Pappu"), and the relative's name given after "s/o", "d/o", "w/o" and the like.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameQuery {
    /// The name and its aliases; a candidate matches if any of them matches.
    pub names: Vec<Name>,
    /// The relative's name ("Ramesh" in "Ravi s/o Ramesh"), if given.
    pub relative: Option<Name>,
    /// How the relative is related, if given.
    pub relation: Option<Relation>,
}

/// Markers that separate a name from an alias of it.
const ALIAS_MARKERS: &[&str] = &["@", "urf", "urph", "alias", "aka", "उर्फ", "उर्फ़"];

impl NameQuery {
    /// Parses a free-text name query in any supported script. Relation markers ("s/o",
    /// "S/O", "son of", "d/o", "w/o", "h/o", "c/o", "पुत्र", "पिता", "पत्नी") split off
    /// the relative's name; alias markers ("@", "urf", "alias", "aka", "उर्फ") split
    /// the name into alternatives.
    pub fn parse(text: &str) -> NameQuery {
        let words = split_words(text);
        let mut name_words: Vec<&str> = Vec::new();
        let mut relative_words: Vec<&str> = Vec::new();
        let mut relation = None;
        let mut i = 0;
        while let Some(&word) = words.get(i) {
            if relation.is_none() {
                if let Some((rel, used)) = relation_marker(&words, i) {
                    relation = Some(rel);
                    i += used;
                    continue;
                }
                name_words.push(word);
            } else {
                relative_words.push(word);
            }
            i += 1;
        }
        let mut names = Vec::new();
        let mut current: Vec<&str> = Vec::new();
        for word in name_words {
            if is_alias_marker(word) {
                names.push(Name::parse(&current.join(" ")));
                current.clear();
            } else {
                current.push(word);
            }
        }
        names.push(Name::parse(&current.join(" ")));
        names.retain(|n| !n.is_empty());
        let relative = Some(Name::parse(&relative_words.join(" "))).filter(|n| !n.is_empty());
        NameQuery {
            names,
            relation: relation.filter(|_| relative.is_some()),
            relative,
        }
    }

    /// A query for a name already prepared (a record's alias or father's name).
    pub fn from_name(name: Name) -> NameQuery {
        NameQuery {
            names: vec![name],
            relative: None,
            relation: None,
        }
    }

    /// A query for the relative's name alone, to match against a record's father's
    /// (or husband's) name.
    pub fn relative_query(&self) -> Option<NameQuery> {
        self.relative.clone().map(NameQuery::from_name)
    }

    /// True if the query has no name tokens.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Splits a query into words at whitespace, with "@" and the slash markers ("s/o")
/// kept as words of their own even when written without spaces ("Raju@Pappu",
/// "Ravi,s/o:Ramesh").
fn split_words(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    for chunk in text.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
        let mut rest = chunk;
        while !rest.is_empty() {
            match find_marker(rest) {
                Some((start, end)) => {
                    let before = rest.get(..start).unwrap_or_default();
                    let before = before.trim_matches(|c: char| c == ':' || c == '-');
                    if !before.is_empty() {
                        words.push(before);
                    }
                    words.push(rest.get(start..end).unwrap_or_default());
                    rest = rest.get(end..).unwrap_or_default();
                    rest = rest.trim_start_matches([':', '-', '.']);
                }
                None => {
                    words.push(rest);
                    rest = "";
                }
            }
        }
    }
    words
}

/// Finds the first "@" or slash relation marker ("s/o", "D/O.", "w/0") in a chunk,
/// returning its byte range. A slash marker must not be preceded by a letter.
fn find_marker(chunk: &str) -> Option<(usize, usize)> {
    let bytes = chunk.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'@' {
            return Some((i, i + 1));
        }
        let letter = b.to_ascii_lowercase();
        let slash = bytes.get(i + 1) == Some(&b'/');
        let o = matches!(bytes.get(i + 2), Some(b'o' | b'O' | b'0'));
        let preceded = i > 0 && bytes.get(i - 1).is_some_and(|p| p.is_ascii_alphabetic());
        let followed = bytes.get(i + 3).is_some_and(|p| p.is_ascii_alphabetic());
        if matches!(letter, b's' | b'd' | b'w' | b'h' | b'c') && slash && o && !preceded {
            if followed {
                continue;
            }
            return Some((i, i + 3));
        }
    }
    None
}

/// Splits a text holding several names joined by alias markers ("Raju @ Pappu", "Raju
/// urf Pappu", "Raju alias Pappu", "Raju@Pappu") into the names, each with its words
/// separated by single spaces; a text without a marker comes back whole and unchanged.
pub(crate) fn split_aliases(text: &str) -> Vec<String> {
    let spaced = text.replace('@', " @ ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    if !words.iter().any(|w| is_alias_marker(w)) {
        return vec![text.to_string()];
    }
    words
        .split(|w| is_alias_marker(w))
        .map(|part| part.join(" "))
        .filter(|part| !part.is_empty())
        .collect()
}

fn is_alias_marker(word: &str) -> bool {
    let lower = word.to_lowercase();
    let lower = lower.trim_matches(|c: char| c == ':' || c == '.');
    ALIAS_MARKERS.contains(&lower)
}

/// Recognises a relation marker at `words[i]`, returning the relation and how many
/// words it takes.
fn relation_marker(words: &[&str], i: usize) -> Option<(Relation, usize)> {
    let word = words.get(i)?;
    let lower = word.to_lowercase();
    let lower = lower.trim_matches(|c: char| c == ':' || c == '.' || c == '-');
    let slash = |l: char| {
        lower.len() == 3
            && lower.starts_with(l)
            && lower.get(1..).is_some_and(|r| r == "/o" || r == "/0")
    };
    let single = if slash('s') {
        Some(Relation::SonOf)
    } else if slash('d') {
        Some(Relation::DaughterOf)
    } else if slash('w') {
        Some(Relation::WifeOf)
    } else if slash('h') {
        Some(Relation::HusbandOf)
    } else if slash('c') {
        Some(Relation::Other)
    } else if !word.is_ascii() {
        match to_latin(lower).as_str() {
            "putra" | "putr" | "beta" => Some(Relation::SonOf),
            "putri" | "beti" => Some(Relation::DaughterOf),
            "patni" => Some(Relation::WifeOf),
            "pati" => Some(Relation::HusbandOf),
            "pita" | "vald" | "valad" => Some(Relation::Other),
            _ => None,
        }
    } else {
        None
    };
    if let Some(rel) = single {
        return Some((rel, 1));
    }
    let next = words.get(i + 1).map(|w| w.to_lowercase());
    if next.as_deref() == Some("of") {
        let rel = match lower {
            "son" => Relation::SonOf,
            "daughter" => Relation::DaughterOf,
            "wife" => Relation::WifeOf,
            "husband" => Relation::HusbandOf,
            "child" | "care" => Relation::Other,
            _ => return None,
        };
        return Some((rel, 2));
    }
    None
}

/// True if both strings are non-empty and start with the same character.
fn same_first(a: &str, b: &str) -> bool {
    matches!((a.chars().next(), b.chars().next()), (Some(x), Some(y)) if x == y)
}

/// The edit budget for two strings whose shorter one has `len` letters: none up to 2
/// letters, 1 for 3–6 ("Nth" for "Nath"), 2 from 7.
pub(crate) fn edit_budget(len: usize) -> usize {
    match len {
        0..=2 => 0,
        3..=6 => 1,
        _ => 2,
    }
}

/// The edit distance between `a` and `b` if it is within the budget for their length.
pub(crate) fn typo_distance(a: &str, b: &str) -> Option<usize> {
    let budget = edit_budget(a.len().min(b.len()));
    if budget == 0 || a.len().abs_diff(b.len()) > budget {
        return None;
    }
    if letter_difference(a, b).is_some_and(|lower| lower > budget) {
        return None;
    }
    let d = osa_distance(a, b);
    (d <= budget).then_some(d)
}

/// A cheap lower bound on the edit distance of two ASCII lower-case words: every edit
/// changes the count of at most one letter on each side, so the distance is at least
/// the larger one-sided difference of their letter counts. `None` for other text.
fn letter_difference(a: &str, b: &str) -> Option<usize> {
    let mut counts = [0i32; 36];
    let slot = |c: u8| match c {
        b'a'..=b'z' => Some(usize::from(c - b'a')),
        b'0'..=b'9' => Some(26 + usize::from(c - b'0')),
        _ => None,
    };
    for c in a.bytes() {
        *counts.get_mut(slot(c)?)? += 1;
    }
    for c in b.bytes() {
        *counts.get_mut(slot(c)?)? -= 1;
    }
    let surplus: i32 = counts.iter().filter(|&&n| n > 0).sum();
    let deficit: i32 = -counts.iter().filter(|&&n| n < 0).sum::<i32>();
    usize::try_from(surplus.max(deficit)).ok()
}

/// Compares two tokens, returning how they match and the pair's score.
fn compare(q: &Token, c: &Token) -> Option<(MatchKind, f32)> {
    if q.initial || c.initial {
        let (initial, full) = if q.initial { (q, c) } else { (c, q) };
        if full.initial {
            return (q.latin == c.latin).then_some((MatchKind::Exact, 1.0));
        }
        let matched =
            same_first(&full.latin, &initial.latin) || same_first(&full.key, &initial.key);
        let score = if q.initial { 0.55 } else { 0.50 };
        return matched.then_some((MatchKind::Initial, score));
    }
    if q.latin == c.latin {
        let kind = if q.indic != c.indic {
            MatchKind::Transliteration
        } else {
            MatchKind::Exact
        };
        return Some((kind, kind.score()));
    }
    if q.key == c.key {
        let kind = if q.short_form || c.short_form {
            MatchKind::ShortForm
        } else {
            MatchKind::Variant
        };
        return Some((kind, kind.score()));
    }
    let as_written = typo_distance(&q.latin, &c.latin);
    let typo = [as_written, typo_distance(&q.key, &c.key)]
        .into_iter()
        .flatten()
        .min();
    let phonetic = phonetic_match(q, c);
    let mut best: Option<(MatchKind, f32)> = None;
    if let Some(d) = typo {
        let kind = MatchKind::Typo(u8::try_from(d).unwrap_or(u8::MAX));
        let mut score = kind.score();
        // As written, "Uuresh" is one letter from "Suresh" but two from "Umesh" (one
        // only once spellings are merged): the closer word as written ranks first.
        if as_written.is_none_or(|written| written > d) {
            score -= 0.03;
        }
        if !same_first(&q.latin, &c.latin) {
            score -= 0.02;
        }
        // Of two words the same number of edits away, the one as long as the query's
        // word ranks first ("Mhaato": "Mahato" before "Mahto").
        if q.latin.len() != c.latin.len() {
            score -= 0.01;
        }
        // A typo in a word of three letters is the least certain kind.
        if q.latin.len().min(c.latin.len()) <= 3 {
            score -= 0.04;
        }
        best = Some((kind, score));
    }
    if phonetic && best.is_none_or(|(_, s)| s < MatchKind::Phonetic.score()) {
        best = Some((MatchKind::Phonetic, MatchKind::Phonetic.score()));
    }
    best
}

/// Compares a token with two tokens joined into one word: only equal folded forms or
/// equal keys count, since a typo allowance on a long joined word would let it absorb
/// a whole short token ("Kumar Jha" is not a typo of "Kumar").
fn compare_joined(a: &Token, b: &Token) -> Option<(MatchKind, f32)> {
    if a.initial || b.initial {
        return None;
    }
    compare(a, b).filter(|(kind, _)| {
        matches!(
            kind,
            MatchKind::Exact
                | MatchKind::Transliteration
                | MatchKind::ShortForm
                | MatchKind::Variant
        )
    })
}

/// True if the Double Metaphone codes of the two keys share a code, the keys start
/// alike and differ by at most two edits (and by at most a third of their length).
fn phonetic_match(q: &Token, c: &Token) -> bool {
    let [qp, qa] = &q.phonetic;
    let [cp, ca] = &c.phonetic;
    if qp.len() < 2 || cp.len() < 2 {
        return false;
    }
    let shared = qp == cp || qp == ca || qa == cp || (!qa.is_empty() && qa == ca);
    if !shared || !same_first(&q.key, &c.key) {
        return false;
    }
    let longest = q.key.len().max(c.key.len());
    let allowed = (longest / 3).clamp(1, 2);
    q.key.len().abs_diff(c.key.len()) <= allowed && osa_distance(&q.key, &c.key) <= allowed
}

/// One way to cover query tokens with candidate tokens.
#[derive(Clone, Copy, Debug)]
struct Edge {
    /// First query token covered, and whether the next one is covered too.
    q: usize,
    q_pair: bool,
    /// First candidate token covered, and whether the next one is covered too.
    c: usize,
    c_pair: bool,
    kind: MatchKind,
    score: f32,
}

impl Edge {
    fn q_span(&self) -> usize {
        if self.q_pair {
            2
        } else {
            1
        }
    }

    fn c_mask(&self) -> u64 {
        let bits = if self.c_pair { 0b11 } else { 0b1 };
        bits << self.c
    }
}

/// Cap on the search for the best assignment of query tokens to candidate tokens.
const MAX_STEPS: usize = 20_000;

/// Matches a parsed query against a prepared candidate name, returning `None` unless
/// every query token (of at least one of the query's alternatives) matches a different
/// candidate token.
pub fn match_name(query: &NameQuery, candidate: &Name) -> Option<Match> {
    query
        .names
        .iter()
        .filter_map(|name| match_one(name, candidate))
        .max_by(|a, b| a.score.total_cmp(&b.score))
}

/// Convenience for one-off comparisons: parses both texts and matches them.
pub fn match_text(query: &str, candidate: &str) -> Option<Match> {
    match_name(&NameQuery::parse(query), &Name::parse(candidate))
}

/// Matches one alternative of a query against a candidate.
fn match_one(query: &Name, candidate: &Name) -> Option<Match> {
    let qn = query.tokens.len().min(MAX_TOKENS);
    let cn = candidate.tokens.len().min(MAX_TOKENS);
    if qn == 0 || cn == 0 {
        return None;
    }
    let full_words = query.tokens.iter().take(qn).filter(|t| !t.initial).count();
    let skips = usize::from(full_words >= NEAR_MISS_MIN_TOKENS);
    let mut edges: Vec<Vec<Edge>> = Vec::with_capacity(qn);
    let mut uncovered = 0;
    for qi in 0..qn {
        edges.push(token_edges(query, candidate, qi, qn, cn));
        // Most candidates fail on some token: give up as soon as more query tokens can
        // be covered neither on their own nor as the second half of a joined pair than a
        // near miss may leave out (and an initial may never be left out).
        if !coverable(&edges, qi) {
            uncovered += 1;
            let initial = query.tokens.get(qi).is_some_and(|t| t.initial);
            if initial || uncovered > skips {
                return None;
            }
        }
    }
    let weights: Vec<f32> = query
        .tokens
        .iter()
        .take(qn)
        .map(|t| if t.initial { 0.5 } else { 1.0 })
        .collect();
    let skippable: Vec<bool> = query
        .tokens
        .iter()
        .take(qn)
        .map(|t| skips > 0 && !t.initial)
        .collect();
    // The best any token can add (its weight times its best edge, or the best joined
    // pair that covers it), summed from each position to the end, bounds the search.
    let mut bounds = vec![0.0f32; qn + 1];
    for qi in (0..qn).rev() {
        let own = edges
            .get(qi)
            .and_then(|e| e.first())
            .map_or(0.0, |e| e.score);
        let by_pair = qi
            .checked_sub(1)
            .and_then(|p| edges.get(p))
            .and_then(|e| e.iter().find(|e| e.q_pair))
            .map_or(0.0, |e| e.score);
        let weight = weights.get(qi).copied().unwrap_or(1.0);
        let next = bounds.get(qi + 1).copied().unwrap_or(0.0);
        if let Some(b) = bounds.get_mut(qi) {
            *b = next + weight * own.max(by_pair);
        }
    }
    let mut search = Search {
        edges: &edges,
        weights: &weights,
        skippable: &skippable,
        bounds: &bounds,
        chosen: Vec::new(),
        skipped: None,
        best: None,
        steps: 0,
    };
    search.run(0, 0, 0.0, skips);
    let (total, chosen, skipped) = search.best?;
    let weight_sum: f32 = weights.iter().sum();
    let mut score = total / weight_sum;
    let mut used = 0u64;
    for e in &chosen {
        used |= e.c_mask();
    }
    let mut factor = 1.0f32;
    for (ci, token) in candidate.tokens.iter().take(cn).enumerate() {
        if used & (1 << ci) == 0 {
            factor *= if token.initial { 0.98 } else { 0.95 };
        }
    }
    score *= factor.max(0.75);
    if chosen.windows(2).any(|w| matches!(w, [a, b] if a.c > b.c)) {
        score *= 0.99;
    }
    let missed = skipped
        .and_then(|qi| query.tokens.get(qi))
        .map(|t| t.original.clone());
    if missed.is_some() {
        score *= MISSED_TOKEN_FACTOR;
    }
    let tokens: Vec<TokenMatch> = chosen
        .iter()
        .map(|e| describe(query, candidate, e))
        .collect();
    let mut how = tokens
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(missed) = &missed {
        how.push_str(&format!(", '{missed}' not matched (near miss)"));
    }
    Some(Match {
        score: score.clamp(f32::MIN_POSITIVE, 1.0),
        how,
        tokens,
        missed,
    })
}

/// Every way query token `qi` (alone, or joined with the next one) matches candidate
/// tokens (alone, or two joined), best first.
fn token_edges(query: &Name, candidate: &Name, qi: usize, qn: usize, cn: usize) -> Vec<Edge> {
    let mut out = Vec::new();
    let Some(q) = query.tokens.get(qi) else {
        return out;
    };
    let q_pair = if qi + 1 < qn {
        query.joined.get(qi).and_then(Option::as_ref)
    } else {
        None
    };
    for ci in 0..cn {
        let Some(c) = candidate.tokens.get(ci) else {
            break;
        };
        if let Some((kind, score)) = compare(q, c) {
            out.push(edge(qi, false, ci, false, kind, score));
        }
        if ci + 1 < cn {
            if let Some(Some(pair)) = candidate.joined.get(ci) {
                if let Some((kind, score)) = compare_joined(q, pair) {
                    out.push(edge(qi, false, ci, true, kind, score * 0.97));
                }
            }
        }
        if let Some(pair) = q_pair {
            if let Some((kind, score)) = compare_joined(pair, c) {
                out.push(edge(qi, true, ci, false, kind, score * 0.97));
            }
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

/// True if query token `qi` has an edge of its own or is covered by a joined pair
/// starting at the token before it.
fn coverable(edges: &[Vec<Edge>], qi: usize) -> bool {
    let own = edges.get(qi).is_some_and(|e| !e.is_empty());
    let by_pair = qi > 0
        && edges
            .get(qi - 1)
            .is_some_and(|e| e.iter().any(|e| e.q_pair));
    own || by_pair
}

fn edge(q: usize, q_pair: bool, c: usize, c_pair: bool, kind: MatchKind, score: f32) -> Edge {
    Edge {
        q,
        q_pair,
        c,
        c_pair,
        kind,
        score,
    }
}

/// Depth-first search for the assignment with the highest weighted score.
struct Search<'a> {
    edges: &'a [Vec<Edge>],
    weights: &'a [f32],
    /// Which query tokens a near miss may leave unmatched.
    skippable: &'a [bool],
    /// `bounds[i]`: the most that tokens `i..` can add.
    bounds: &'a [f32],
    chosen: Vec<Edge>,
    /// The query token left unmatched on the current path, if any.
    skipped: Option<usize>,
    best: Option<(f32, Vec<Edge>, Option<usize>)>,
    steps: usize,
}

impl Search<'_> {
    /// Extends the current path from query token `qi`, with `used` candidate tokens
    /// taken, `total` scored so far and `skips` tokens that may still be left out.
    fn run(&mut self, qi: usize, used: u64, total: f32, skips: usize) {
        self.steps += 1;
        if qi >= self.edges.len() {
            // A full match beats a near miss of any score.
            let better = match &self.best {
                None => true,
                Some((b, _, b_skipped)) => match (self.skipped, b_skipped) {
                    (None, Some(_)) => true,
                    (Some(_), None) => false,
                    _ => total > *b,
                },
            };
            if better {
                self.best = Some((total, self.chosen.clone(), self.skipped));
            }
            return;
        }
        let remaining = self.bounds.get(qi).copied().unwrap_or(0.0);
        if let Some((b, _, b_skipped)) = &self.best {
            if (b_skipped.is_none() || self.skipped.is_some()) && total + remaining <= *b {
                return;
            }
        }
        let Some(options) = self.edges.get(qi) else {
            return;
        };
        for e in options {
            if self.steps > MAX_STEPS && self.best.is_some() {
                return;
            }
            if used & e.c_mask() != 0 {
                continue;
            }
            let weight: f32 = self.weights.iter().skip(qi).take(e.q_span()).sum();
            self.chosen.push(*e);
            self.run(
                qi + e.q_span(),
                used | e.c_mask(),
                total + e.score * weight,
                skips,
            );
            self.chosen.pop();
        }
        // A near miss: leave this token out, only if no full match was found.
        let full_found = self.best.as_ref().is_some_and(|(_, _, s)| s.is_none());
        if skips > 0 && !full_found && self.skippable.get(qi).copied().unwrap_or(false) {
            if self.steps > MAX_STEPS && self.best.is_some() {
                return;
            }
            self.skipped = Some(qi);
            self.run(qi + 1, used, total, skips - 1);
            self.skipped = None;
        }
    }
}

/// Describes one chosen edge as a token match.
fn describe(query: &Name, candidate: &Name, e: &Edge) -> TokenMatch {
    let side = |name: &Name, i: usize, pair: bool| -> (String, String, bool) {
        let token = if pair {
            name.joined.get(i).and_then(Option::as_ref)
        } else {
            name.tokens.get(i)
        };
        match token {
            Some(t) => (t.original.clone(), t.latin.clone(), t.indic),
            None => (String::new(), String::new(), false),
        }
    };
    let (q_text, q_latin, q_indic) = side(query, e.q, e.q_pair);
    let (c_text, c_latin, c_indic) = side(candidate, e.c, e.c_pair);
    let latin = if q_indic && !c_indic {
        Some(q_latin)
    } else if c_indic && !q_indic {
        Some(c_latin)
    } else {
        None
    }
    .filter(|_| e.kind != MatchKind::Transliteration);
    TokenMatch {
        query: q_text,
        candidate: c_text,
        kind: e.kind,
        joined: e.q_pair || e.c_pair,
        latin,
        score: e.score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(q: &str, c: &str) -> f32 {
        match_text(q, c).map_or(0.0, |m| m.score)
    }

    #[test]
    fn exact_and_reordered() {
        assert_eq!(score("Ravi Kumar Yadav", "RAVI KUMAR YADAV"), 1.0);
        let reordered = score("Yadav Ravi Kumar", "Ravi Kumar Yadav");
        assert!(reordered > 0.98 && reordered < 1.0, "{reordered}");
        assert!(score("Ravi Yadav", "Ravi Kumar Yadav") < 1.0);
        assert!(score("Ravi Yadav", "Ravi Kumar Yadav") > 0.9);
    }

    #[test]
    fn every_query_token_must_match() {
        assert!(match_text("Ramesh Yadav", "Suresh Yadav").is_none());
        assert!(match_text("R. K. Yadav", "Ravi Yadav").is_none());
        assert!(match_text("", "Ravi").is_none());
        assert!(match_text("Ravi", "").is_none());
    }

    #[test]
    fn kinds_rank_as_specified() {
        let exact = score("Raju Yadav", "Raju Yadav");
        let variant = score("Raaju Yadav", "Raju Yadav");
        let typo = score("Rjau Yadav", "Raju Yadav");
        let initial = score("R. Yadav", "Raju Yadav");
        assert!(exact > variant && variant > typo && typo > initial);
        let phonetic = match_text("Hembrom", "Hembram").map(|m| m.how);
        assert_eq!(
            phonetic.as_deref(),
            Some("'Hembrom' ~ 'Hembram' (phonetic)")
        );
        assert!(initial > 0.0);
    }

    #[test]
    fn typos_closer_as_written_rank_first() {
        // One letter from "Suresh" as written, two from "Umesh" (one once the doubled
        // letter is merged).
        assert!(score("Uuresh Gope", "Suresh Gope") > score("Uuresh Gope", "Umesh Gope"));
        // One edit each way: the word of the query's length first.
        assert!(score("Ajti Mondal", "Ajit Mondal") > score("Ajti Mondal", "Aji Mondal"));
        // A first letter replaced still matches, below the same typo further on.
        assert!(score("Kajesh Oraon", "Rajesh Oraon") > 0.0);
        assert!(score("Rajesj Oraon", "Rajesh Oraon") > score("Kajesh Oraon", "Rajesh Oraon"));
    }

    #[test]
    fn explains_what_matched() {
        let m = match_text("Raaju Yadav", "Raju Yadav");
        let how = m.map(|m| m.how).unwrap_or_default();
        assert_eq!(how, "'Raaju' ~ 'Raju' (spelling variant), 'Yadav' (exact)");
        let m = match_text("रवि यादव", "Ravi Yadav");
        let how = m.map(|m| m.how).unwrap_or_default();
        assert_eq!(
            how,
            "'रवि' ~ 'Ravi' (transliteration), 'यादव' ~ 'Yadav' (transliteration)"
        );
        let m = match_text("Md Salim", "Mohammad Salim");
        let how = m.map(|m| m.how).unwrap_or_default();
        assert_eq!(how, "'Md' ~ 'Mohammad' (short form), 'Salim' (exact)");
    }

    #[test]
    fn explains_transliterated_typos_and_relatives() {
        let m = match_text("महतो", "Mahato");
        let how = m.map(|m| m.how).unwrap_or_default();
        assert_eq!(how, "'महतो' ~ 'Mahato' (typo, 1 edit, read as 'mahto')");
        let q = NameQuery::parse("Ravi Yadav s/o Late Ramesh Yadav");
        let father = q.relative_query();
        let m = father.and_then(|f| match_name(&f, &Name::parse("Ramesh Yadav")));
        assert_eq!(m.map(|m| m.score), Some(1.0));
    }

    #[test]
    fn overlong_queries_stay_cheap() {
        let long = "a ".repeat(5000);
        let q = NameQuery::parse(&long);
        let c = Name::parse(&"Amit ".repeat(40));
        let start = std::time::Instant::now();
        let m = match_name(&q, &c);
        assert!(m.is_some());
        assert!(start.elapsed().as_secs() < 2);
    }

    #[test]
    fn joined_tokens() {
        assert!(score("Ravikumar Yadav", "Ravi Kumar Yadav") > 0.9);
        assert!(score("Ravi Kumar Yadav", "Ravikumar Yadav") > 0.9);
        // A joined pair never absorbs a token through a typo or an initial: "Jha" is
        // left unmatched (a near miss) rather than joined to "Kumar".
        let m = match_text("Anil Kumar Jha", "Anil Kumar");
        assert_eq!(m.and_then(|m| m.missed).as_deref(), Some("Jha"));
        assert!(match_text("Sarfaraz Khan", "S. Yadav").is_none());
    }

    #[test]
    fn parses_relations_and_aliases() {
        let q = NameQuery::parse("Ravi s/o Ramesh");
        assert_eq!(q.names.len(), 1);
        assert_eq!(q.relation, Some(Relation::SonOf));
        assert_eq!(
            q.relative.as_ref().map(Name::latin).as_deref(),
            Some("ramesh")
        );
        let q = NameQuery::parse("Sita Devi W/O Ramesh Yadav");
        assert_eq!(q.relation, Some(Relation::WifeOf));
        assert_eq!(
            q.names.first().map(Name::latin).as_deref(),
            Some("sita devi")
        );
        let q = NameQuery::parse("Ravi,S/O:Ramesh");
        assert_eq!(q.relation, Some(Relation::SonOf));
        let q = NameQuery::parse("Ravi son of Ramesh");
        assert_eq!(q.relation, Some(Relation::SonOf));
        let q = NameQuery::parse("रवि पुत्र रमेश");
        assert_eq!(q.relation, Some(Relation::SonOf));
        assert_eq!(
            q.relative.as_ref().map(Name::latin).as_deref(),
            Some("ramesh")
        );
        let q = NameQuery::parse("Raju @ Pappu Yadav");
        assert_eq!(q.names.len(), 2);
        assert!(q.relative.is_none());
        let q = NameQuery::parse("Raju urf Pappu");
        assert_eq!(q.names.len(), 2);
        let q = NameQuery::parse("Sonu Raju@Pappu");
        assert_eq!(q.names.len(), 2);
        // A slash marker needs a word boundary: "Das/o" is no marker.
        assert_eq!(find_marker("abs/o"), None);
        assert!(NameQuery::parse("  ").is_empty());
    }

    #[test]
    fn aliases_in_the_query_match_either_name() {
        let q = NameQuery::parse("Raju @ Pappu");
        assert!(match_name(&q, &Name::parse("Pappu Yadav")).is_some());
        assert!(match_name(&q, &Name::parse("Raju Yadav")).is_some());
        assert!(match_name(&q, &Name::parse("Sonu Yadav")).is_none());
    }

    #[test]
    fn edit_budget_scales_with_length() {
        assert_eq!(typo_distance("ra", "ri"), None);
        assert_eq!(typo_distance("ram", "rim"), Some(1));
        assert_eq!(typo_distance("nth", "nath"), Some(1));
        assert_eq!(typo_distance("raju", "rjau"), Some(1));
        assert_eq!(typo_distance("ramesh", "rmaesj"), None);
        assert_eq!(typo_distance("mahendra", "mahedrna"), Some(2));
        assert_eq!(letter_difference("raju", "rjau"), Some(0));
        assert_eq!(letter_difference("raju", "ramu"), Some(1));
        assert_eq!(letter_difference("ravi", "amit"), Some(2));
        assert_eq!(letter_difference("ravi", "रवि"), None);
    }

    #[test]
    fn a_near_miss_leaves_one_token_out_and_ranks_below() {
        // One token of three or more may be left unmatched, and the reason names it.
        let m = match_text("Ravi Kumar Yadav", "Ravi Yadav");
        let m = m.as_ref();
        assert_eq!(m.and_then(|m| m.missed.as_deref()), Some("Kumar"));
        assert!(m.is_some_and(|m| m.how.contains("'Kumar' not matched")));
        let near = m.map_or(0.0, |m| m.score);
        let full_typo = score("Shyam Kumai Kisku", "Shyam Kumari Kisku");
        let missed = score("Shyam Qwerty Kisku", "Shyam Kumari Kisku");
        assert!(
            missed > 0.0 && missed < full_typo,
            "{missed} vs {full_typo}"
        );
        assert!(near > 0.0 && near < score("Ravi Yadav", "Ravi Kumar Yadav"));
        // Never two tokens, never an initial, never in a query of two words.
        assert!(match_text("Shyam Qwerty Zxcvb Kisku", "Shyam Kisku").is_none());
        assert!(match_text("Ravi Suresh", "Ravi Yadav").is_none());
        assert!(match_text("Ravi K. Yadav Sharma", "Ravi Yadav Sharma").is_none());
        // A full match is preferred to a near miss of the same candidate.
        let m = match_text("Lalit Nath Choudhury", "Lalit Nath Choudhury");
        assert_eq!(m.map(|m| (m.score, m.missed)), Some((1.0, None)));
    }

    /// True if a single-token comparison matches loosely: a typo, the sound (which wins
    /// over a typo in a word of three letters) or a variant spelling.
    fn fuzzy(q: &str, c: &str) -> bool {
        let kind = match_text(q, c).and_then(|m| m.tokens.first().map(|t| t.kind));
        matches!(
            kind,
            Some(MatchKind::Typo(_) | MatchKind::Phonetic | MatchKind::Variant)
        )
    }

    #[test]
    fn every_kind_of_typo_matches() {
        // Two neighbours swapped, the first two included.
        assert!(fuzzy("eRkha", "Rekha"));
        assert!(fuzzy("Aijt", "Ajit"));
        assert!(fuzzy("Cohudhury", "Choudhury"));
        assert!(fuzzy("Pawsan", "Paswan"));
        assert!(fuzzy("Dsa", "Das"));
        assert!(fuzzy("Jah", "Jha"));
        // A letter dropped.
        assert!(fuzzy("Nth", "Nath"));
        assert!(fuzzy("Kumai", "Kumari"));
        assert!(fuzzy("Tirky", "Tirkey"));
        // A letter doubled.
        assert!(fuzzy("Mondall", "Mondal"));
        assert!(fuzzy("Soreen", "Soren"));
        // A letter replaced.
        assert!(fuzzy("Mondol", "Mondal"));
        assert!(fuzzy("Hansdq", "Hansda"));
        assert!(fuzzy("Dss", "Das"));
        // The full names of the issue.
        for (q, c) in [
            ("Lalit Nth Choudhury", "Lalit Nath Choudhury"),
            ("Mumtaz Pawsan", "Mumtaz Paswan"),
            ("Shyam Kumai Kisku", "Shyam Kumari Kisku"),
            ("eRkha Lal Tirkey", "Rekha Lal Tirkey"),
            ("Aijt Mondal", "Ajit Mondal"),
            ("Salim Nath Cohudhury", "Salim Nath Choudhury"),
        ] {
            let m = match_text(q, c);
            assert!(
                m.as_ref().is_some_and(|m| m.missed.is_none()),
                "{q} -> {c}: {m:?}"
            );
        }
    }
}
