//! Index terms for names, for an inverted index that finds candidates quickly and then
//! scores them with [`match_name`](super::score::match_name).
//!
//! A stored name is indexed under these terms (each prefixed by its kind, so the kinds
//! never collide):
//!
//! | term | for | example for "Raaju Yadav" |
//! |---|---|---|
//! | `w:` folded word | exact and transliterated matches | `w:raaju` |
//! | `k:` variant key | spelling variants, short forms | `k:raju` |
//! | `p:` Double Metaphone code | phonetic matches | `p:RJ` |
//! | `i:` letter | initials in the stored name ("R. K. Yadav") | `i:r` |
//! | `j:` / `x:` joined pair | a query writing two words as one | `j:raajuyadav`, `x:rajuyadav` |
//!
//! A query token looks up [`query_terms`]: its own `w:`, `k:` and `p:` terms, `i:` of
//! its first letter (to reach stored initials), `j:` and `x:` of itself (the stored name
//! may write it as two words), and `w:` and `k:` of the pairs it forms with its
//! neighbours (the stored name may write them as one word). Typos are not indexed per
//! record: the index keeps a dictionary of its distinct words
//! ([`Vocabulary`](super::fuzzy::Vocabulary)) and looks up the `w:` and `k:` terms of
//! the words within the typo budget of each query token. Query initials produce no
//! lookup terms: they are too unselective, so candidates are found through the other
//! tokens and the initials are checked by `match_name`.

use std::collections::BTreeSet;

use super::name::{Name, Token};
use super::score::NameQuery;

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
    }
    for pair in name.joined.iter().flatten() {
        out.insert(format!("j:{}", pair.latin));
        out.insert(format!("x:{}", pair.key));
    }
    out.into_iter().collect()
}

/// The lookup terms of one query token: a candidate that has none of them in its index
/// terms cannot match this token, except through initials (which are not looked up) or
/// a typo (looked up through the index's dictionary).
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
            // The candidate may write this token as two words.
            terms.insert(format!("j:{}", token.latin));
            terms.insert(format!("x:{}", token.key));
            // The query may have split what the candidate writes as one word.
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
        assert!(t.contains(&"j:raajuyadav".to_string()));
        assert!(t.iter().any(|t| t.starts_with("p:")));
        assert!(terms("R. K. Yadav").contains(&"i:r".to_string()));
        assert!(terms("रवि यादव").contains(&"w:ravi".to_string()));
    }

    #[test]
    fn matching_candidates_are_reachable() {
        assert!(reachable("Raju Yadav", "Raaju Yadav"));
        assert!(reachable("रवि कुमार यादव", "Ravi Kumar Yadav"));
        assert!(reachable("Ravi Kumar Yadav", "रवि कुमार यादव"));
        assert!(reachable("Ravikumar Yadav", "Ravi Kumar Yadav"));
        assert!(reachable("Ravi Kumar", "Ravikumar"));
        assert!(reachable("Md Salim", "Mohammad Salim"));
        assert!(reachable("Ravi Yadav", "R. Yadav"));
        assert!(!reachable("Suresh", "Ramesh Yadav"));
    }
}
