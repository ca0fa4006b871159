//! The human card of one person record and the table of a page of records.

use super::{address_line, by_line, case_line, clean, format_ms, shorten, table, Card};
use crate::view::{RecordListView, RecordView};
use crate::words::word_or_dash;

/// The full card `record show` prints.
pub fn record_card(r: &RecordView) -> String {
    record_card_with_notes(r, &[])
}

/// The card with the MO notes linked to the person, one line each (see [`note_line`]).
pub fn record_card_with_notes(r: &RecordView, notes: &[String]) -> String {
    let mut card = Card::default();
    card.always("Record", &r.id);
    card.always("Name", &r.name);
    card.field("Local name", &r.name_local);
    card.field("Aliases", r.aliases.join(", "));
    card.field("Father", &r.father_name);
    card.field(
        "Gender",
        r.gender.map(|g| g.to_string()).unwrap_or_default(),
    );
    card.field("Age", age_text(r));
    card.always("Status", word_or_dash(r.status));
    if r.reward_inr > 0 {
        card.field("Reward", format!("Rs {}", r.reward_inr));
    }
    card.field(
        "Warnings",
        r.warnings
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    );
    card.list("Addresses", r.addresses.iter().map(address_line));
    card.list("Marks", &r.identifying_marks);
    card.list("Phones", &r.phones);
    card.list("Vehicles", &r.vehicles);
    card.list("Cases", r.cases.iter().map(case_line));
    card.list("Associates", &r.associates);
    card.list("MO notes", notes);
    card.list(
        "Photos",
        r.photos
            .iter()
            .map(|p| format!("{}  {}  {} bytes", p.sha256, p.mime_type, p.size_bytes)),
    );
    card.always("Handling", word_or_dash(r.handling));
    card.field("External ref", &r.external_ref);
    card.always("Origin", &r.origin);
    card.always("Version", r.version.to_string());
    card.always("Review by", format_ms(r.review_by_ms));
    card.always("Created", by_line(r.created_at_ms, &r.created_by));
    card.always("Updated", by_line(r.updated_at_ms, &r.updated_by));
    card.render()
}

/// An MO note on a person's card: its category, the start of its summary and its id, e.g.
/// "atm-robbery: Gas-cutter on kiosks at night (0190…)".
pub fn note_line(n: &crate::view::MoView) -> String {
    format!(
        "{}: {} ({})",
        super::mo::category_text(n),
        shorten(&n.summary, 60),
        clean(&n.id)
    )
}

/// A linked person on a note or alert card: name, status, warnings and id, e.g. "Raju
/// Mahto (wanted; armed) 0190…".
pub fn person_line(r: &RecordView) -> String {
    let mut facts = vec![word_or_dash(r.status)];
    if !r.warnings.is_empty() {
        facts.push(warnings_cell(&r.warnings));
    }
    format!("{} ({}) {}", clean(&r.name), facts.join("; "), clean(&r.id))
}

/// "born 1991; 30-36 years", or whichever part is known.
fn age_text(r: &RecordView) -> String {
    let mut parts = Vec::new();
    if r.birth_year != 0 {
        parts.push(format!("born {}", r.birth_year));
    }
    match (r.age_min, r.age_max) {
        (0, 0) => {}
        (min, 0) => parts.push(format!("{min}+ years")),
        (0, max) => parts.push(format!("up to {max} years")),
        (min, max) if min == max => parts.push(format!("{min} years")),
        (min, max) => parts.push(format!("{min}-{max} years")),
    }
    parts.join("; ")
}

/// The warnings of a record for a table cell: "armed, violent", or "-" for none.
pub(crate) fn warnings_cell(warnings: &[crate::words::Warning]) -> String {
    if warnings.is_empty() {
        return "-".to_string();
    }
    warnings
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The table `record list` prints, with the next page token under it when there is one.
pub fn record_table(page: &RecordListView) -> String {
    if page.records.is_empty() {
        return "no records\n".to_string();
    }
    let rows: Vec<Vec<String>> = page
        .records
        .iter()
        .map(|r| {
            vec![
                clean(&r.id),
                shorten(&r.name, 30),
                shorten(&r.father_name, 30),
                word_or_dash(r.status),
                warnings_cell(&r.warnings),
                clean(&r.origin),
                r.version.to_string(),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "ID", "NAME", "FATHER", "STATUS", "WARNINGS", "ORIGIN", "VERSION",
        ],
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
