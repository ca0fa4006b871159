//! Likely matches of a new record: the existing records (this district's and every
//! replicated one) that are probably the same person, so that the officer creating a
//! record learns at once that the person is already known here or across the border.
//!
//! Candidates come from the index the way a search finds them — the new record's name,
//! local name and aliases as a name query (typos, variants and near misses included) —
//! and from a shared phone or vehicle. Each candidate is then judged on the whole
//! record:
//!
//! - the name: the best match of any of the new record's names against the candidate's
//!   names (its score is the starting point);
//! - the father's name, when both records have one: a match keeps the score (scaled by
//!   how well it matched), a different father multiplies it by 0.7;
//! - the birth years, when both are known: within 2 years keeps it, within 5 costs 10 %,
//!   further apart costs 25 %;
//! - each shared phone or vehicle: closes two thirds of the remaining gap to 1 (and makes
//!   a candidate of a record whose name did not match, at 0.75).
//!
//! Records scoring at least [`MIN_SCORE`] are reported, best first, at most
//! [`MAX_MATCHES`], with the reasons. Nothing is refused because of them.

use super::document::{NameField, RecordDoc};
use super::index::SearchIndex;
use super::name::Name;
use super::query::SearchQuery;
use super::score::{match_name, NameQuery};

/// The least score reported.
pub const MIN_SCORE: f32 = 0.75;
/// The most likely matches reported for one record.
pub const MAX_MATCHES: usize = 5;
/// Name candidates judged in full.
const NAME_CANDIDATES: usize = 30;
/// Records sharing a phone or vehicle judged in full, per identifier.
const IDENTIFIER_CANDIDATES: usize = 20;

/// An existing record that is probably the same person.
#[derive(Debug, Clone, PartialEq)]
pub struct LikelyMatch {
    /// The record id.
    pub id: String,
    /// Its owning district.
    pub origin: String,
    /// Its name as written.
    pub name: String,
    /// Its father's name as written (empty when unknown).
    pub father_name: String,
    /// How likely it is the same person, in (0, 1].
    pub score: f32,
    /// What agrees and what differs.
    pub reasons: Vec<String>,
}

/// The first name of `field` in a document.
fn first_name(doc: &RecordDoc, field: NameField) -> Option<&str> {
    doc.names
        .iter()
        .find(|n| n.field == field as i32)
        .map(|n| n.text.as_str())
}

/// The new record's own names (name, local name, aliases) as one query with
/// alternatives.
fn own_names(doc: &RecordDoc) -> NameQuery {
    let names: Vec<Name> = doc
        .names
        .iter()
        .filter(|n| n.field != NameField::Father as i32)
        .map(|n| Name::parse(&n.text))
        .filter(|n| !n.is_empty())
        .collect();
    NameQuery {
        names,
        relative: None,
        relation: None,
    }
}

/// Judges one candidate against the new record: its score and reasons, if it is likely
/// enough.
fn judge(new: &RecordDoc, names: &NameQuery, candidate: &RecordDoc) -> Option<(f32, Vec<String>)> {
    let mut reasons = Vec::new();
    let mut score = 0.0f32;
    let mut best: Option<(f32, String)> = None;
    for name in &candidate.names {
        if name.field == NameField::Father as i32 {
            continue;
        }
        if let Some(m) = match_name(names, &Name::parse(&name.text)) {
            if best.as_ref().is_none_or(|(s, _)| m.score > *s) {
                let field = NameField::try_from(name.field).unwrap_or(NameField::Name);
                best = Some((
                    m.score,
                    format!("{} '{}': {}", field.as_str(), name.text, m.how),
                ));
            }
        }
    }
    if let Some((s, reason)) = best {
        score = s;
        reasons.push(reason);
    }
    if let (Some(ours), Some(theirs)) = (
        first_name(new, NameField::Father),
        first_name(candidate, NameField::Father),
    ) {
        let father = match_name(&NameQuery::parse(ours), &Name::parse(theirs));
        match father {
            Some(m) => {
                score *= 0.85 + 0.15 * m.score;
                reasons.push(format!("father_name '{theirs}': {}", m.how));
            }
            None => {
                score *= 0.7;
                reasons.push(format!("father_name differs: '{theirs}'"));
            }
        }
    }
    if new.born_from != 0 && candidate.born_from != 0 {
        let gap = if new.born_to < candidate.born_from {
            candidate.born_from - new.born_to
        } else {
            new.born_from.saturating_sub(candidate.born_to)
        };
        let shown = if candidate.born_from == candidate.born_to {
            candidate.born_from.to_string()
        } else {
            format!("{}–{}", candidate.born_from, candidate.born_to)
        };
        score *= match gap {
            0..=2 => 1.0,
            3..=5 => 0.9,
            _ => 0.75,
        };
        reasons.push(match gap {
            0 => format!("born {shown} (same)"),
            _ => format!("born {shown} ({gap} years apart)"),
        });
    }
    let mut shared = 0;
    for phone in new.phones.iter().filter(|p| candidate.phones.contains(p)) {
        shared += 1;
        reasons.push(format!("phone {phone} (same)"));
    }
    for vehicle in new
        .vehicles
        .iter()
        .filter(|v| candidate.vehicles.contains(v))
    {
        shared += 1;
        reasons.push(format!("vehicle {vehicle} (same)"));
    }
    if shared > 0 {
        if score == 0.0 {
            score = MIN_SCORE;
        } else {
            for _ in 0..shared {
                score = 1.0 - (1.0 - score) / 3.0;
            }
        }
    }
    (score >= MIN_SCORE).then_some((score.min(1.0), reasons))
}

impl SearchIndex {
    /// The existing records that are probably the same person as the record whose search
    /// document is `doc`, best first. `exclude` is the new record's own id, if it is
    /// already indexed.
    pub fn likely_matches(&self, doc: &RecordDoc, exclude: Option<&str>) -> Vec<LikelyMatch> {
        let names = own_names(doc);
        let mut slots: Vec<u32> = Vec::new();
        if !names.is_empty() {
            let found = self.search(&SearchQuery {
                name: Some(names.clone()),
                limit: NAME_CANDIDATES,
                ..Default::default()
            });
            slots.extend(found.hits.iter().filter_map(|h| self.record_slot(&h.id)));
        }
        let identifiers = doc
            .phones
            .iter()
            .map(|p| format!("t:{p}"))
            .chain(doc.vehicles.iter().map(|v| format!("v:{v}")));
        for term in identifiers {
            let posting: Vec<u32> = self.record_posting(&term).collect();
            slots.extend(posting.iter().rev().take(IDENTIFIER_CANDIDATES));
        }
        slots.sort_unstable();
        slots.dedup();
        let mut out: Vec<LikelyMatch> = slots
            .into_iter()
            .filter_map(|slot| self.record(slot))
            .filter(|record| !exclude.is_some_and(|id| record.is(id)))
            .filter_map(|record| {
                let candidate = record.doc();
                let (score, reasons) = judge(doc, &names, &candidate)?;
                Some(LikelyMatch {
                    id: record.id(),
                    origin: candidate.origin.clone(),
                    name: first_name(&candidate, NameField::Name)
                        .unwrap_or_default()
                        .to_string(),
                    father_name: first_name(&candidate, NameField::Father)
                        .unwrap_or_default()
                        .to_string(),
                    score,
                    reasons,
                })
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        out.truncate(MAX_MATCHES);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::document::NameText;

    fn doc(origin: &str, name: &str, father: &str, born: u32, phones: &[&str]) -> RecordDoc {
        let mut names = vec![NameText {
            field: NameField::Name as i32,
            text: name.into(),
        }];
        if !father.is_empty() {
            names.push(NameText {
                field: NameField::Father as i32,
                text: father.into(),
            });
        }
        RecordDoc {
            origin: origin.into(),
            names,
            born_from: born,
            born_to: born,
            phones: phones.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        }
    }

    fn index() -> SearchIndex {
        let mut index = SearchIndex::new();
        let people = [
            (
                "a",
                "jh-dhanbad",
                "Ravi Kumar Yadav",
                "Ramesh Yadav",
                1990,
                &[][..],
            ),
            (
                "b",
                "jh-dhanbad",
                "Ravi Kumar Yadav",
                "Naresh Mahto",
                1975,
                &[],
            ),
            (
                "c",
                "wb-asansol-durgapur",
                "Sunil Minz",
                "Petrus Minz",
                1988,
                &[],
            ),
            (
                "d",
                "wb-asansol-durgapur",
                "Bablu Ansari",
                "",
                0,
                &["9876543210"],
            ),
            ("e", "jh-dhanbad", "Ajay Paswan", "Ramdeo Paswan", 1992, &[]),
        ];
        for (id, origin, name, father, born, phones) in people {
            index.put_record(id, doc(origin, name, father, born, phones));
        }
        index
    }

    #[test]
    fn the_same_person_is_found_across_the_border() {
        let index = index();
        let new = doc(
            "wb-asansol-durgapur",
            "Rawi Kumar Yadaw",
            "Ramesh Yadav",
            1991,
            &[],
        );
        let found = index.likely_matches(&new, None);
        assert_eq!(
            found.first().map(|m| m.id.as_str()),
            Some("a"),
            "{found:#?}"
        );
        let first = &found[0];
        assert_eq!(first.origin, "jh-dhanbad");
        assert!(first.score > 0.8, "{first:?}");
        assert!(first
            .reasons
            .iter()
            .any(|r| r.starts_with("father_name 'Ramesh Yadav'")));
        // The namesake with another father and birth year is not likely.
        assert!(found.iter().all(|m| m.id != "b"), "{found:#?}");
        // A typo in the father's name and a missing birth year still find him.
        let new = doc("jh-dhanbad", "Ajai Pawsan", "Ramdeo Paswan", 0, &[]);
        let found = index.likely_matches(&new, Some("x"));
        assert_eq!(
            found.first().map(|m| m.id.as_str()),
            Some("e"),
            "{found:#?}"
        );
    }

    #[test]
    fn a_shared_phone_is_enough_and_nothing_else_is_reported() {
        let index = index();
        let new = doc("jh-dhanbad", "Mahtab Alam", "", 0, &["9876543210"]);
        let found = index.likely_matches(&new, None);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].id, "d");
        assert!(found[0]
            .reasons
            .iter()
            .any(|r| r.contains("phone 9876543210")));
        let new = doc("jh-dhanbad", "Bhupendra Kisku", "Somra Kisku", 1980, &[]);
        assert!(index.likely_matches(&new, None).is_empty());
        // The record itself is left out.
        let new = doc(
            "wb-asansol-durgapur",
            "Sunil Minz",
            "Petrus Minz",
            1988,
            &[],
        );
        assert!(index.likely_matches(&new, Some("c")).is_empty());
    }
}
