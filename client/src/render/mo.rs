//! The human card of one MO note and the table of a page of notes.

use super::{by_line, case_line, clean, shorten, table, Card};
use crate::view::{MoListView, MoView};
use crate::words::word_or_dash;

/// The full card `mo show` prints.
pub fn mo_card(n: &MoView) -> String {
    mo_card_with_people(n, &n.record_ids)
}

/// The card with each linked record as a line of its own, e.g. its name, status and
/// warnings (see [`super::record::person_line`]) instead of the bare id.
pub fn mo_card_with_people(n: &MoView, people: &[String]) -> String {
    let mut card = Card::default();
    card.always("MO note", &n.id);
    card.always("Category", category_text(n));
    card.always("Summary", &n.summary);
    card.list("Records", people);
    card.list("Weapons", &n.method.weapons);
    card.list("Vehicles", &n.method.vehicles);
    card.field("Time of day", &n.method.time_of_day);
    card.list("Targets", &n.method.targets);
    card.list("Escape routes", &n.method.escape_routes);
    card.list("Places", &n.places);
    card.field("First seen", &n.first_seen);
    card.field("Last seen", &n.last_seen);
    card.list("Cases", n.cases.iter().map(case_line));
    card.always("Handling", word_or_dash(n.handling));
    card.always("Origin", &n.origin);
    card.always("Version", n.version.to_string());
    card.always("Created", by_line(n.created_at_ms, &n.created_by));
    card.always("Updated", by_line(n.updated_at_ms, &n.updated_by));
    card.render()
}

/// The category word, with the free text when the category is `other`.
pub(super) fn category_text(n: &MoView) -> String {
    match (n.category, n.category_other.is_empty()) {
        (Some(c), true) => c.to_string(),
        (Some(c), false) => format!("{c}: {}", n.category_other),
        (None, false) => n.category_other.clone(),
        (None, true) => "-".to_string(),
    }
}

/// The table `mo list` prints, with the next page token under it when there is one.
pub fn mo_table(page: &MoListView) -> String {
    if page.notes.is_empty() {
        return "no MO notes\n".to_string();
    }
    let rows: Vec<Vec<String>> = page
        .notes
        .iter()
        .map(|n| {
            vec![
                clean(&n.id),
                shorten(&category_text(n), 24),
                shorten(&n.summary, 48),
                n.record_ids.len().to_string(),
                clean(&n.origin),
                n.version.to_string(),
            ]
        })
        .collect();
    let mut out = table(
        &["ID", "CATEGORY", "SUMMARY", "RECORDS", "ORIGIN", "VERSION"],
        &rows,
    );
    if !page.next_page_token.is_empty() {
        out.push_str(&format!(
            "next page token: {}\n",
            clean(&page.next_page_token)
        ));
    }
    out
}
