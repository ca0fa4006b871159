//! The text of one spreadsheet cell: multi-valued cells split on `;` (or `|` and `,` for
//! cases and addresses) with `\` escapes, numbers, enum words and dates, each refusal said
//! in words that quote the cell.
//!
//! Escapes exist so that `setu export` can write any stored value and `setu import` read it
//! back unchanged: a `\` before `\`, `;`, `|` or `,` stands for that character itself; any
//! other `\` is an ordinary character, so hand-typed cells rarely need to care.

use crate::parse::parse_time;

/// The characters a `\` escapes in a multi-valued cell.
const ESCAPABLE: [char; 4] = ['\\', ';', '|', ','];

/// The most characters of a cell quoted in a refusal.
const QUOTE_CHARS: usize = 40;

/// Splits `text` at each `sep` not preceded by an escaping `\`; the pieces keep their
/// escapes, so that they can be split again at an inner separator before [`unescape`].
pub fn split_raw(text: &str, sep: char) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            if let Some((_, next)) = chars.clone().next() {
                if ESCAPABLE.contains(&next) {
                    chars.next();
                }
            }
        } else if c == sep {
            pieces.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    pieces.push(&text[start..]);
    pieces
}

/// Removes the escapes of a piece: `\;` becomes `;`, `\\` becomes `\`.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&next) = chars.peek() {
                if ESCAPABLE.contains(&next) {
                    out.push(next);
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

/// Escapes `\` and each of `seps` in `text`, so that [`split_raw`] and [`unescape`] give it
/// back unchanged.
pub fn escape(text: &str, seps: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\\' || seps.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The values of a `;`-separated cell, trimmed, empty ones dropped.
pub fn list(cell: &str) -> Vec<String> {
    split_raw(cell, ';')
        .into_iter()
        .map(|piece| unescape(piece).trim().to_string())
        .filter(|value| !value.is_empty())
        .collect()
}

/// Writes values as one `;`-separated cell that [`list`] reads back.
pub fn join_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| escape(v, &[';']))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A cell quoted for a refusal, shortened when long: `'abc'`.
pub fn quote(cell: &str) -> String {
    let cell = cell.trim();
    if cell.chars().count() > QUOTE_CHARS {
        let short: String = cell.chars().take(QUOTE_CHARS).collect();
        format!("'{short}...'")
    } else {
        format!("'{cell}'")
    }
}

/// A whole number such as a year or an age; empty is 0 (unknown). `what` completes
/// "is not ...", e.g. "a year".
pub fn number(cell: &str, what: &str) -> Result<u32, String> {
    let text = cell.trim();
    if text.is_empty() {
        return Ok(0);
    }
    text.parse()
        .map_err(|_| format!("{} is not {what}", quote(cell)))
}

/// An amount in rupees, with Indian or Western digit grouping ("1,00,000", "25 000") and an
/// optional "₹" or "Rs"; empty is 0 (none).
pub fn rupees(cell: &str) -> Result<u64, String> {
    let mut text = cell.trim();
    for prefix in ["₹", "Rs.", "Rs", "INR"] {
        if let Some(rest) = text.strip_prefix(prefix) {
            text = rest.trim_start();
            break;
        }
    }
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' '))
        .collect();
    if digits.is_empty() {
        return if cell.trim().is_empty() {
            Ok(0)
        } else {
            Err(format!("{} is not an amount in rupees", quote(cell)))
        };
    }
    digits
        .parse()
        .map_err(|_| format!("{} is not an amount in rupees", quote(cell)))
}

/// One of an enum's lower-case words, forgiving case, spaces and underscores ("In Custody"
/// and "IN_CUSTODY" both read as `in-custody`). `what` names the field in the refusal.
pub fn word<T: Copy>(
    cell: &str,
    all: &[T],
    word_of: fn(T) -> &'static str,
    what: &str,
) -> Result<T, String> {
    let wanted: String = cell
        .trim()
        .chars()
        .map(|c| match c {
            ' ' | '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    all.iter()
        .copied()
        .find(|value| word_of(*value) == wanted)
        .ok_or_else(|| {
            let words: Vec<&str> = all.iter().map(|v| word_of(*v)).collect();
            format!(
                "{} is not a {what}; use one of {}",
                quote(cell),
                words.join(", ")
            )
        })
}

/// A date (YYYY-MM-DD, UTC midnight) or RFC 3339 time, as Unix milliseconds.
pub fn time_ms(cell: &str) -> Result<i64, String> {
    parse_time(cell)
        .map(|t| t.ms)
        .map_err(|why| format!("{} is not a time: {why}", quote(cell)))
}

/// Writes Unix milliseconds as [`time_ms`] reads them: a bare date for midnight UTC, RFC 3339
/// with only the fraction needed otherwise.
pub fn format_time(ms: i64) -> String {
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let formatted = if ms % DAY_MS == 0 {
        at.format(time::macros::format_description!("[year]-[month]-[day]"))
    } else {
        at.format(&time::format_description::well_known::Rfc3339)
    };
    formatted.unwrap_or_else(|_| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::Status;

    #[test]
    fn lists_split_on_semicolons_and_keep_escaped_ones() {
        assert_eq!(list("Kalua; Raju Bhai ;;"), vec!["Kalua", "Raju Bhai"]);
        assert_eq!(
            list(r"scar\; left cheek;mole"),
            vec!["scar; left cheek", "mole"]
        );
        assert_eq!(list(r"C:\temp"), vec![r"C:\temp"]);
        assert!(list("  ").is_empty());
        let values = vec![r"a;b".to_string(), r"c\d".to_string(), r"e\;f".to_string()];
        assert_eq!(list(&join_list(&values)), values);
    }

    #[test]
    fn devanagari_cells_are_taken_as_they_are() {
        assert_eq!(list("राजू; कालू"), vec!["राजू", "कालू"]);
        assert_eq!(split_raw("राजू|कालू", '|'), vec!["राजू", "कालू"]);
    }

    #[test]
    fn inner_separators_survive_the_outer_split() {
        let cell = r"Ward 4\, Block B, Jharia | Gaya";
        let pieces = split_raw(cell, '|');
        assert_eq!(pieces.len(), 2);
        let parts = split_raw(pieces[0], ',');
        assert_eq!(unescape(parts[0]), "Ward 4, Block B");
        assert_eq!(unescape(parts[1]).trim(), "Jharia");
    }

    #[test]
    fn numbers_words_and_times() {
        assert_eq!(number(" 1991 ", "a year"), Ok(1991));
        assert_eq!(number("", "a year"), Ok(0));
        assert_eq!(
            number("abc", "a year"),
            Err("'abc' is not a year".to_string())
        );
        assert_eq!(rupees("₹ 1,00,000"), Ok(100_000));
        assert_eq!(rupees("Rs. 25 000"), Ok(25_000));
        assert_eq!(rupees(""), Ok(0));
        assert!(rupees("lots").is_err());
        assert!(rupees("₹").is_err());
        assert_eq!(
            word("In Custody", Status::ALL, Status::word, "status"),
            Ok(Status::InCustody)
        );
        let refused = word("fugitive", Status::ALL, Status::word, "status");
        assert!(
            matches!(&refused, Err(e) if e.starts_with("'fugitive' is not a status; use one of active,")),
            "{refused:?}"
        );
        for ms in [1_790_000_000_000, 1_789_776_000_000, 1_790_000_000_123] {
            assert_eq!(time_ms(&format_time(ms)), Ok(ms), "{}", format_time(ms));
        }
        assert_eq!(format_time(1_789_776_000_000), "2026-09-19");
        assert!(time_ms("19/09/2026").is_err());
    }

    #[test]
    fn long_cells_are_shortened_in_refusals() {
        let long = "x".repeat(100);
        assert_eq!(quote(&long).chars().count(), QUOTE_CHARS + 5);
    }
}
