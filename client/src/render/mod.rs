//! Human-readable output: cards for single records, notes, alerts and peer links, tables for
//! lists.
//!
//! Text from the node is shown as received except for control characters, which are escaped
//! so that a record from any district cannot drive the officer's terminal.

mod alert;
mod audit;
mod mo;
mod peers;
mod record;
mod search;

pub use crate::when::span;
pub use alert::{
    ack_line, alert_card, alert_card_with_people, alert_table, message_card, overdue_card, Linked,
};
pub use audit::audit_table;
pub use mo::{mo_card, mo_card_with_people, mo_table};
pub use peers::peers_report;
pub(crate) use peers::{behind_lines, link_figures};
pub use record::{note_line, person_line, record_card, record_card_with_notes, record_table};
pub use search::search_report;

use crate::view::{AddressView, CaseView};

/// Formats Unix milliseconds as local `YYYY-MM-DD HH:MM ZONE` (see [`crate::when`]); 0
/// means unset and prints as "-".
pub fn format_ms(ms: i64) -> String {
    crate::when::minutes(ms)
}

/// Escapes control characters (terminal escape sequences among them) in text for display.
pub fn clean(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// An address on one line, skipping empty parts.
pub fn address_line(address: &AddressView) -> String {
    [
        &address.locality,
        &address.police_station,
        &address.district,
        &address.state,
    ]
    .iter()
    .map(|p| p.trim())
    .filter(|p| !p.is_empty())
    .collect::<Vec<_>>()
    .join(", ")
}

/// A case on one line, e.g. `FIR 112/2025 @ Jharia: BNS 309(4); BNS 111 (accused)`.
pub fn case_line(case: &CaseView) -> String {
    let mut line = format!("FIR {}", case.fir_number);
    if case.year != 0 && !case.fir_number.ends_with(&case.year.to_string()) {
        line.push_str(&format!(" of {}", case.year));
    }
    line.push_str(&format!(" @ {}", case.police_station));
    if !case.sections.is_empty() {
        line.push_str(&format!(": {}", case.sections.join("; ")));
    }
    if let Some(role) = case.role {
        line.push_str(&format!(" ({role})"));
    }
    line
}

/// A timestamp and its author, e.g. "2025-10-09 14:23 IST by JH-1234 (jh-dhanbad)".
pub fn by_line(ms: i64, who: &str) -> String {
    if who.is_empty() {
        format_ms(ms)
    } else {
        format!("{} by {}", format_ms(ms), who)
    }
}

/// A labelled card: one field per line, lists continued under their label.
#[derive(Debug, Default)]
pub struct Card {
    /// Label and value of each line; an empty label continues the previous field.
    lines: Vec<(String, String)>,
}

impl Card {
    /// Adds a field, even when its value is empty.
    pub fn always(&mut self, label: &str, value: impl AsRef<str>) {
        let value = value.as_ref();
        let shown = if value.is_empty() { "-" } else { value };
        self.lines.push((label.to_string(), clean(shown)));
    }

    /// Adds a field only when its value is not empty.
    pub fn field(&mut self, label: &str, value: impl AsRef<str>) {
        if !value.as_ref().is_empty() {
            self.always(label, value);
        }
    }

    /// Adds a list, one item per line, only when it has items.
    pub fn list<I, S>(&mut self, label: &str, items: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for (i, item) in items.into_iter().enumerate() {
            let label = if i == 0 { label } else { "" };
            self.lines.push((label.to_string(), clean(item.as_ref())));
        }
    }

    /// The card as text, labels padded into one column.
    pub fn render(&self) -> String {
        let width = self
            .lines
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (label, value) in &self.lines {
            let pad = width - label.chars().count();
            out.push_str(label);
            out.push_str(&" ".repeat(pad + 2));
            out.push_str(value);
            out.push('\n');
        }
        out
    }
}

/// The width tables and long lines must fit: `COLUMNS` when set, else the terminal's width
/// when standard output is a terminal, else none (output to a file or a pipe keeps every
/// character).
pub fn terminal_width() -> Option<usize> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    columns.or_else(|| {
        terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0))
    })
}

/// The narrowest a column is shrunk to when a table must fit.
const MIN_COLUMN: usize = 5;

/// A plain table with a header row, fitted to [`terminal_width`]: columns are as wide as
/// their widest cell, and when the table is too wide the widest columns are narrowed and
/// their cells cut with "…". A column headed "ID" is never narrowed, so ids stay whole.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    table_within(headers, rows, terminal_width())
}

/// [`table`] fitted to `width` characters, or not at all for `None`.
pub fn table_within(headers: &[&str], rows: &[Vec<String>], width: Option<usize>) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    if let Some(limit) = width {
        let gaps = 2 * widths.len().saturating_sub(1);
        while widths.iter().sum::<usize>() + gaps > limit {
            let widest = widths
                .iter()
                .enumerate()
                .filter(|(i, w)| headers.get(*i) != Some(&"ID") && **w > MIN_COLUMN)
                .max_by_key(|(_, w)| **w)
                .map(|(i, _)| i);
            match widest {
                Some(i) => widths[i] -= 1,
                None => break,
            }
        }
    }
    let mut out = String::new();
    let header_row: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header_row).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            let cell = if cell.chars().count() > width {
                cut(cell, width)
            } else {
                cell.clone()
            };
            line.push_str(&cell);
            line.push_str(&" ".repeat(width.saturating_sub(cell.chars().count()) + 2));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A line cut to [`terminal_width`] with "…", for the lines printed under a table row.
pub fn fit_line(line: &str) -> String {
    match terminal_width() {
        Some(width) if line.chars().count() > width => cut(line, width),
        _ => line.to_string(),
    }
}

/// Text cut to `max` characters, the last one "…".
fn cut(text: &str, max: usize) -> String {
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// Quotes a word for a POSIX shell, so that a printed command can be pasted back as is:
/// plain words stay as they are, anything else goes in single quotes.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// How many hex digits of a photo's SHA-256 a card shows: as many as `git` shows of a
/// commit, and enough for `setu record photo get`, which takes a unique start.
const SHORT_HASH_DIGITS: usize = 12;

/// How many characters of an id a card shows where the full id would not help.
const SHORT_ID_CHARS: usize = 8;

/// The start of a photo's SHA-256, e.g. "3fa2c9d1e0b4".
pub(crate) fn short_hash(sha256: &str) -> String {
    clean(&sha256.chars().take(SHORT_HASH_DIGITS).collect::<String>())
}

/// The start of an id with "…", e.g. "0193a1b2…"; a short id stays whole.
pub(crate) fn short_id(id: &str) -> String {
    if id.chars().count() <= SHORT_ID_CHARS {
        return clean(id);
    }
    let mut short: String = id.chars().take(SHORT_ID_CHARS).collect();
    short.push('…');
    clean(&short)
}

/// Shortens text to `max` characters for a table cell, marking the cut with "…".
pub fn shorten(text: &str, max: usize) -> String {
    let text = clean(text);
    if text.chars().count() <= max {
        return text;
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_as_local_minutes() {
        assert_eq!(format_ms(0), "-");
        assert_eq!(format_ms(i64::MAX), format!("{} ms", i64::MAX));
    }

    #[test]
    fn short_ids_and_hashes() {
        assert_eq!(
            short_id("0193a1b2-0000-7000-8000-000000000001"),
            "0193a1b2…"
        );
        assert_eq!(short_id("r1"), "r1");
        assert_eq!(short_hash(&"ab".repeat(32)), "abababababab");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean("Raju\u{1b}[31m"), "Raju\\u{1b}[31m");
        assert_eq!(clean("राजू"), "राजू");
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("jh-dhanbad"), "jh-dhanbad");
        assert_eq!(shell_word("112/2025"), "112/2025");
        assert_eq!(shell_word("raju yadav"), "'raju yadav'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
    }

    #[test]
    fn tables_align_columns() {
        let text = table_within(&["ID", "NAME"], &[vec!["1".into(), "Raju".into()]], None);
        assert_eq!(text, "ID  NAME\n1   Raju\n");
    }

    #[test]
    fn tables_fit_the_width_and_keep_ids_whole() {
        let id = "01a23640-d9e3-7000-8000-000000000001".to_string();
        let rows = vec![vec![
            id.clone(),
            "Imaginary Kumar Prasad Mahato".to_string(),
            "Fictional Lal Mahato Senior".to_string(),
            "armed, violent, escape-risk".to_string(),
        ]];
        let headers = ["ID", "NAME", "FATHER", "WARNINGS"];
        let text = table_within(&headers, &rows, Some(80));
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        assert!(text.contains(&id), "{text}");
        assert!(text.contains('…'), "{text}");
        let wide = table_within(&headers, &rows, Some(200));
        assert!(!wide.contains('…'), "{wide}");
    }
}
