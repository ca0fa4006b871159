//! Index terms for names, for an inverted index that finds candidates quickly and then
//! scores them with [`match_name`](super::score::match_name).
//!
//! A stored name is indexed under these terms (each prefixed by its kind, so the kinds
//! never collide):
//!
//! | term | for | example for "Raaju" |
//! |---|---|---|
//! | `w:` folded word | exact and transliterated matches | `w:raaju` |
//! | `k:` variant key | spelling variants, short forms | `k:raju` |
//! | `p:` Double Metaphone code | phonetic matches | `p:RJ` |
//! | `d:` key with one letter deleted | typos of one edit (keys of 4+ letters) | `d:aju`, `d:rju`, … |
//! | `i:` letter | initials in the stored name ("R. K. Yadav") | `i:r` |
//!
//! Joined pairs of adjacent tokens ("ravikumar" for "Ravi Kumar") are indexed under
//! `w:` and `k:` as well. A query token looks up [`query_terms`]: its own `w:`, `k:`
//! and `p:` terms, `i:` of its first letter (to reach stored initials), and, for the
//! one-edit typos, the symmetric deletion scheme: `k:` and `d:` of its key and of each
//! one-letter deletion of its key. Query initials produce no lookup terms: they are too
//! unselective, so candidates are found through the other tokens and the initials are
//! checked by `match_name`. Two-edit typos of long names are reached only through the
//! phonetic term.

use std::collections::BTreeSet;

use super::name::{Name, Token};
use super::score::NameQuery;

/// Variant keys shorter than this get no deletion terms (a one-edit typo is only
/// allowed from four letters).
const MIN_DELETION_KEY: usize = 4;

/// The index terms of a name as written, in any supported script.
pub fn terms(name: &str) -> Vec<String> {
    name_terms(&Name::parse(name))
}

/// The index terms of a prepared name, sorted and without duplicates.
pub fn name_terms(name: &Name) -> Vec<String> {
    let mut out = BTreeSet::new();
    for token in &name.tokens {
        if token.initial {
            out.insert(format!("i:{}", token.latin));
            continue;
        }
        token_terms(token, &mut out);
        for deleted in deletions(&token.key) {
            out.insert(format!("d:{deleted}"));
        }
    }
    for pair in name.joined.iter().flatten() {
        out.insert(format!("w:{}", pair.latin));
        out.insert(format!("k:{}", pair.key));
    }
    out.into_iter().collect()
}

/// The lookup terms of one query token: a candidate that has none of them in its index
/// terms cannot match this token (except through initials, which are not looked up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryTokenTerms {
    /// The query token as written.
    pub token: String,
    /// True if the token is an initial, in which case `terms` is empty.
    pub initial: bool,
    /// The terms to look up.
    pub terms: Vec<String>,
}

/// The lookup terms of every token of every alternative of a query, in order.
pub fn query_terms(query: &NameQuery) -> Vec<QueryTokenTerms> {
    let mut out = Vec::new();
    for name in &query.names {
        for (i, token) in name.tokens.iter().enumerate() {
            if token.initial {
                out.push(QueryTokenTerms {
                    token: token.original.clone(),
                    initial: true,
                    terms: Vec::new(),
                });
                continue;
            }
            let mut terms = BTreeSet::new();
            token_terms(token, &mut terms);
            if let Some(first) = token.latin.chars().next() {
                terms.insert(format!("i:{first}"));
            }
            terms.insert(format!("d:{}", token.key));
            for deleted in deletions(&token.key) {
                terms.insert(format!("k:{deleted}"));
                terms.insert(format!("d:{deleted}"));
            }
            // The query token may be half of a joined candidate token, or the query
            // may have split what the candidate writes as one word.
            let before = i.checked_sub(1).and_then(|j| name.joined.get(j));
            for pair in [before, name.joined.get(i)].into_iter().flatten().flatten() {
                terms.insert(format!("w:{}", pair.latin));
                terms.insert(format!("k:{}", pair.key));
            }
            out.push(QueryTokenTerms {
                token: token.original.clone(),
                initial: false,
                terms: terms.into_iter().collect(),
            });
        }
    }
    out
}

/// The `w:`, `k:` and `p:` terms of one token.
fn token_terms(token: &Token, out: &mut BTreeSet<String>) {
    out.insert(format!("w:{}", token.latin));
    out.insert(format!("k:{}", token.key));
    for code in &token.phonetic {
        if code.len() >= 2 {
            out.insert(format!("p:{code}"));
        }
    }
}

/// Every string made by deleting one character of `key`, for keys long enough to allow
/// a one-edit typo.
fn deletions(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < MIN_DELETION_KEY {
        return Vec::new();
    }
    (0..chars.len())
        .map(|skip| {
            chars
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| *c)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// True if some lookup term of every non-initial query token is an index term of
    /// the candidate, which is what an index needs to find it.
    fn reachable(query: &str, candidate: &str) -> bool {
        let indexed: BTreeSet<String> = terms(candidate).into_iter().collect();
        query_terms(&NameQuery::parse(query))
            .iter()
            .filter(|t| !t.initial)
            .all(|t| t.terms.iter().any(|term| indexed.contains(term)))
    }

    #[test]
    fn terms_cover_the_kinds() {
        let t = terms("Raaju Yadav");
        assert!(t.contains(&"w:raaju".to_string()));
        assert!(t.contains(&"k:raju".to_string()));
        assert!(t.contains(&"w:raajuyadav".to_string()));
        assert!(t.iter().any(|t| t.starts_with("p:")));
        assert!(t.iter().any(|t| t.starts_with("d:")));
        assert!(terms("R. K. Yadav").contains(&"i:r".to_string()));
        assert!(terms("रवि यादव").contains(&"w:ravi".to_string()));
    }

    #[test]
    fn matching_candidates_are_reachable() {
        assert!(reachable("Raju Yadav", "Raaju Yadav"));
        assert!(reachable("रवि कुमार यादव", "Ravi Kumar Yadav"));
        assert!(reachable("Ravi Kumar Yadav", "रवि कुमार यादव"));
        assert!(reachable("Ramesh Yadva", "Ramesh Yadav"));
        assert!(reachable("Rmaesh Yadav", "Ramesh Yadav"));
        assert!(reachable("Ravikumar Yadav", "Ravi Kumar Yadav"));
        assert!(reachable("Ravi Kumar", "Ravikumar"));
        assert!(reachable("Md Salim", "Mohammad Salim"));
        assert!(reachable("Ravi Yadav", "R. Yadav"));
        assert!(!reachable("Suresh", "Ramesh Yadav"));
    }
}
