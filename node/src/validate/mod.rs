//! Checks every field an officer sends against the limits in [`crate::validate::limits`], and tidies
//! what can be tidied (surrounding spaces). Each refusal names the field and the limit, so
//! the officer can correct the input; nothing is stored until a whole item passes.

pub mod alert;
pub mod limits;
pub mod search;

use crate::error::{NodeError, NodeResult};
use crate::validate::limits::*;
use setu_proto::v1::{
    Address, CaseRef, CaseRole, Gender, Handling, MoCategory, MoNote, PersonRecord, PersonStatus,
    Warning,
};

/// Checks that `id` is a UUID, as the node assigns them.
pub fn id(field: &str, id: &str) -> NodeResult<()> {
    if id.is_empty() {
        return Err(NodeError::invalid(field, "is required"));
    }
    uuid::Uuid::parse_str(id).map(|_| ()).map_err(|_| {
        NodeError::invalid(
            field,
            format!(
                "{} is not a valid id (a UUID such as 01936f0e-7f5a-7c3e-9d4b-2a1e6c0f8b12)",
                excerpt(id)
            ),
        )
    })
}

/// The most characters of officer input an error message quotes.
const EXCERPT_CHARS: usize = 40;

/// Quotes officer input for an error message, bounded: at most [`EXCERPT_CHARS`]
/// characters in single quotes, cut on a character boundary, with "…" and the input's
/// length in characters after it when it was cut. Control characters are escaped, so the
/// quote stays on one line. An error message must never echo input whole: a long input
/// would otherwise make the status too large for the response's trailers.
pub(crate) fn excerpt(input: &str) -> String {
    let mut out = String::with_capacity(input.len().min(EXCERPT_CHARS * 4) + 2);
    out.push('\'');
    let mut chars = input.chars();
    for c in chars.by_ref().take(EXCERPT_CHARS) {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    if chars.next().is_some() {
        let total = input.chars().count();
        out.push_str(&format!("…' ({total} characters)"));
    } else {
        out.push('\'');
    }
    out
}

/// Trims `value` and checks its length and that it holds no control characters.
pub(crate) fn text(
    field: &str,
    value: &mut String,
    max_chars: usize,
    required: bool,
) -> NodeResult<()> {
    let trimmed = value.trim();
    if trimmed.len() != value.len() {
        *value = trimmed.to_string();
    }
    if value.is_empty() {
        return if required {
            Err(NodeError::invalid(
                field,
                "is required and may not be empty",
            ))
        } else {
            Ok(())
        };
    }
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(NodeError::invalid(
            field,
            format!("is {chars} characters long; the limit is {max_chars}"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(NodeError::invalid(
            field,
            "may not contain control characters",
        ));
    }
    Ok(())
}

/// Checks the number of entries of a list and each entry's text.
pub(crate) fn text_list(
    field: &str,
    values: &mut [String],
    max_items: usize,
    max_chars: usize,
) -> NodeResult<()> {
    if values.len() > max_items {
        return Err(NodeError::invalid(
            field,
            format!("has {} entries; the limit is {max_items}", values.len()),
        ));
    }
    for (i, v) in values.iter_mut().enumerate() {
        text(&format!("{field}[{i}]"), v, max_chars, true)?;
    }
    Ok(())
}

pub(crate) fn count(field: &str, len: usize, max: usize) -> NodeResult<()> {
    if len > max {
        return Err(NodeError::invalid(
            field,
            format!("has {len} entries; the limit is {max}"),
        ));
    }
    Ok(())
}

pub(crate) fn enum_value<E: TryFrom<i32>>(field: &str, value: i32) -> NodeResult<E> {
    E::try_from(value)
        .map_err(|_| NodeError::invalid(field, format!("{value} is not a known value")))
}

/// Checks a phone number: digits with optional +, spaces, dashes, dots and brackets,
/// 10 to 15 digits.
pub(crate) fn phone(field: &str, value: &str) -> NodeResult<()> {
    if !value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'))
    {
        return Err(NodeError::invalid(
            field,
            format!(
                "{} may contain only digits, spaces, '+', '-', '.', '(' and ')'",
                excerpt(value)
            ),
        ));
    }
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if !(10..=15).contains(&digits) {
        return Err(NodeError::invalid(
            field,
            format!(
                "{} has {digits} digits; a phone number has 10 to 15",
                excerpt(value)
            ),
        ));
    }
    Ok(())
}

/// Checks a vehicle registration: letters, digits, spaces and dashes, 4 to 16 letters and
/// digits ("JH 10 AB 1234").
pub(crate) fn vehicle(field: &str, value: &str) -> NodeResult<()> {
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
    {
        return Err(NodeError::invalid(
            field,
            format!(
                "{} may contain only letters, digits, spaces and dashes",
                excerpt(value)
            ),
        ));
    }
    let significant = value.chars().filter(char::is_ascii_alphanumeric).count();
    if !(4..=16).contains(&significant) {
        return Err(NodeError::invalid(
            field,
            format!(
                "{} has {significant} letters and digits; a registration has 4 to 16",
                excerpt(value)
            ),
        ));
    }
    Ok(())
}

fn address(field: &str, a: &mut Address) -> NodeResult<()> {
    text(
        &format!("{field}.locality"),
        &mut a.locality,
        MAX_SHORT_CHARS,
        false,
    )?;
    text(
        &format!("{field}.police_station"),
        &mut a.police_station,
        MAX_SHORT_CHARS,
        false,
    )?;
    text(
        &format!("{field}.district"),
        &mut a.district,
        MAX_SHORT_CHARS,
        false,
    )?;
    text(
        &format!("{field}.state"),
        &mut a.state,
        MAX_SHORT_CHARS,
        false,
    )?;
    if a.locality.is_empty()
        && a.police_station.is_empty()
        && a.district.is_empty()
        && a.state.is_empty()
    {
        return Err(NodeError::invalid(
            field,
            "is empty; give at least a locality, police station, district or state",
        ));
    }
    Ok(())
}

fn cases(field: &str, cases: &mut [CaseRef]) -> NodeResult<()> {
    count(field, cases.len(), MAX_CASES)?;
    let this_year = crate::clock::current_year();
    for (i, c) in cases.iter_mut().enumerate() {
        let f = format!("{field}[{i}]");
        text(
            &format!("{f}.fir_number"),
            &mut c.fir_number,
            MAX_SHORT_CHARS,
            true,
        )?;
        text(
            &format!("{f}.police_station"),
            &mut c.police_station,
            MAX_SHORT_CHARS,
            true,
        )?;
        if c.year != 0 && !(MIN_BIRTH_YEAR..=this_year).contains(&c.year) {
            return Err(NodeError::invalid(
                format!("{f}.year"),
                format!("{} is outside {MIN_BIRTH_YEAR}..={this_year}", c.year),
            ));
        }
        text_list(
            &format!("{f}.sections"),
            &mut c.sections,
            MAX_SECTIONS,
            MAX_SHORT_CHARS,
        )?;
        let _: CaseRole = enum_value(&format!("{f}.role"), c.role)?;
    }
    Ok(())
}

/// The handling code to store: the given one, or the node's default when unspecified.
fn handling(field: &str, value: i32, default: Handling) -> NodeResult<i32> {
    match enum_value::<Handling>(field, value)? {
        Handling::Unspecified => Ok(default as i32),
        h => Ok(h as i32),
    }
}

/// Splits every alias written as several joined by a marker ("Raju @ Pappu", "Raju urf
/// Pappu", "Raju alias Pappu") into separate aliases, keeping the order and dropping
/// repeats (compared case-insensitively), so that each is searched as a name of its own.
fn split_aliases(aliases: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(aliases.len());
    for alias in aliases {
        for part in crate::search::score::split_aliases(&alias) {
            let lower = part.trim().to_lowercase();
            if !out.iter().any(|o| o.trim().to_lowercase() == lower) {
                out.push(part);
            }
        }
    }
    out
}

/// Validates and tidies the officer-supplied content of a person record. Aliases joined
/// by a marker are split (see [`split_aliases`]). Fields the node
/// sets itself (id, origin, version, photos, timestamps, authors) are not looked at.
pub fn record(r: &mut PersonRecord, default_handling: Handling) -> NodeResult<()> {
    text("name", &mut r.name, MAX_NAME_CHARS, true)?;
    text("name_local", &mut r.name_local, MAX_NAME_CHARS, false)?;
    text("external_ref", &mut r.external_ref, MAX_SHORT_CHARS, false)?;
    count("aliases", r.aliases.len(), MAX_ALIASES)?;
    r.aliases = split_aliases(std::mem::take(&mut r.aliases));
    text_list("aliases", &mut r.aliases, MAX_ALIASES, MAX_NAME_CHARS)?;
    text("father_name", &mut r.father_name, MAX_NAME_CHARS, false)?;
    let _: Gender = enum_value("gender", r.gender)?;
    let this_year = crate::clock::current_year();
    if r.birth_year != 0 && !(MIN_BIRTH_YEAR..=this_year).contains(&r.birth_year) {
        return Err(NodeError::invalid(
            "birth_year",
            format!("{} is outside {MIN_BIRTH_YEAR}..={this_year}", r.birth_year),
        ));
    }
    if r.age_min > MAX_AGE || r.age_max > MAX_AGE {
        return Err(NodeError::invalid(
            "age_min/age_max",
            format!("an age may be at most {MAX_AGE}"),
        ));
    }
    if r.age_max != 0 && r.age_min > r.age_max {
        return Err(NodeError::invalid(
            "age_min",
            format!("{} is above age_max {}", r.age_min, r.age_max),
        ));
    }
    if r.birth_year != 0 && (r.age_min != 0 || r.age_max != 0) {
        return Err(NodeError::invalid(
            "birth_year",
            "give either birth_year or an age range (age_min/age_max), not both",
        ));
    }
    count("addresses", r.addresses.len(), MAX_ADDRESSES)?;
    for (i, a) in r.addresses.iter_mut().enumerate() {
        address(&format!("addresses[{i}]"), a)?;
    }
    text_list(
        "identifying_marks",
        &mut r.identifying_marks,
        MAX_MARKS,
        MAX_TEXT_CHARS,
    )?;
    text_list("phones", &mut r.phones, MAX_PHONES, 32)?;
    for (i, p) in r.phones.iter().enumerate() {
        phone(&format!("phones[{i}]"), p)?;
    }
    text_list("vehicles", &mut r.vehicles, MAX_VEHICLES, 32)?;
    for (i, v) in r.vehicles.iter().enumerate() {
        vehicle(&format!("vehicles[{i}]"), v)?;
    }
    if enum_value::<PersonStatus>("status", r.status)? == PersonStatus::Unspecified {
        r.status = PersonStatus::Active as i32;
    }
    if r.reward_inr > MAX_REWARD_INR {
        return Err(NodeError::invalid(
            "reward_inr",
            format!("{} is above the limit of {MAX_REWARD_INR}", r.reward_inr),
        ));
    }
    count("warnings", r.warnings.len(), 8)?;
    for (i, w) in r.warnings.iter().enumerate() {
        if enum_value::<Warning>(&format!("warnings[{i}]"), *w)? == Warning::Unspecified {
            return Err(NodeError::invalid(
                format!("warnings[{i}]"),
                "is unspecified",
            ));
        }
    }
    r.warnings.sort_unstable();
    r.warnings.dedup();
    cases("cases", &mut r.cases)?;
    count("associates", r.associates.len(), MAX_LINKS)?;
    for (i, a) in r.associates.iter().enumerate() {
        id(&format!("associates[{i}]"), a)?;
        if *a == r.id {
            return Err(NodeError::invalid(
                format!("associates[{i}]"),
                "a record cannot be its own associate",
            ));
        }
    }
    r.handling = handling("handling", r.handling, default_handling)?;
    if r.review_by_ms < 0 {
        return Err(NodeError::invalid("review_by_ms", "may not be negative"));
    }
    Ok(())
}

/// Checks a YYYY-MM-DD date, or empty.
fn date(field: &str, value: &mut String) -> NodeResult<()> {
    text(field, value, 10, false)?;
    if value.is_empty() {
        return Ok(());
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, format).map(|_| ()).map_err(|_| {
        NodeError::invalid(
            field,
            format!("{} is not a date as YYYY-MM-DD", excerpt(value)),
        )
    })
}

/// Validates and tidies the officer-supplied content of an MO note.
pub fn mo_note(n: &mut MoNote, default_handling: Handling) -> NodeResult<()> {
    count("record_ids", n.record_ids.len(), MAX_LINKS)?;
    for (i, r) in n.record_ids.iter().enumerate() {
        id(&format!("record_ids[{i}]"), r)?;
    }
    n.record_ids.sort();
    n.record_ids.dedup();
    match enum_value::<MoCategory>("category", n.category)? {
        MoCategory::Unspecified => {
            return Err(NodeError::invalid("category", "is required"));
        }
        MoCategory::Other => text(
            "category_other",
            &mut n.category_other,
            MAX_SHORT_CHARS,
            true,
        )?,
        _ => {
            text(
                "category_other",
                &mut n.category_other,
                MAX_SHORT_CHARS,
                false,
            )?;
            if !n.category_other.is_empty() {
                return Err(NodeError::invalid(
                    "category_other",
                    "is only for category OTHER",
                ));
            }
        }
    }
    text("summary", &mut n.summary, MAX_TEXT_CHARS, true)?;
    if let Some(m) = n.method.as_mut() {
        text_list(
            "method.weapons",
            &mut m.weapons,
            MAX_MO_LIST,
            MAX_SHORT_CHARS,
        )?;
        text_list(
            "method.vehicles",
            &mut m.vehicles,
            MAX_MO_LIST,
            MAX_SHORT_CHARS,
        )?;
        text(
            "method.time_of_day",
            &mut m.time_of_day,
            MAX_SHORT_CHARS,
            false,
        )?;
        text_list(
            "method.targets",
            &mut m.targets,
            MAX_MO_LIST,
            MAX_SHORT_CHARS,
        )?;
        text_list(
            "method.escape_routes",
            &mut m.escape_routes,
            MAX_MO_LIST,
            MAX_SHORT_CHARS,
        )?;
    }
    text_list("places", &mut n.places, MAX_MO_LIST, MAX_SHORT_CHARS)?;
    date("first_seen", &mut n.first_seen)?;
    date("last_seen", &mut n.last_seen)?;
    if !n.first_seen.is_empty() && !n.last_seen.is_empty() && n.first_seen > n.last_seen {
        return Err(NodeError::invalid(
            "last_seen",
            format!("{} is before first_seen {}", n.last_seen, n.first_seen),
        ));
    }
    cases("cases", &mut n.cases)?;
    n.handling = handling("handling", n.handling, default_handling)?;
    Ok(())
}

/// Checks a photo hash: 64 lower-case hexadecimal characters.
pub(crate) fn sha256(field: &str, sha: &str) -> NodeResult<()> {
    if sha.len() == 64
        && sha
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(NodeError::invalid(
            field,
            "must be 64 lower-case hexadecimal characters",
        ))
    }
}

/// Checks an expunge reason.
pub fn reason(value: &mut String) -> NodeResult<()> {
    text("reason", value, MAX_TEXT_CHARS, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> PersonRecord {
        PersonRecord {
            name: "  Test Kumar ".into(),
            phones: vec!["+91 98765-43210".into()],
            vehicles: vec!["JH 10 AB 1234".into()],
            ..Default::default()
        }
    }

    #[test]
    fn tidies_and_defaults() {
        let mut r = valid();
        record(&mut r, Handling::Peers).unwrap();
        assert_eq!(r.name, "Test Kumar");
        assert_eq!(r.status, PersonStatus::Active as i32);
        assert_eq!(r.handling, Handling::Peers as i32);
    }

    #[test]
    fn aliases_joined_by_a_marker_are_split() {
        let mut r = valid();
        r.aliases = vec![
            "Raju @ Pappu".into(),
            "Raju urf Pappu".into(),
            "Kalua alias  Kallu Bhai".into(),
            "Sonu@Monu".into(),
            "Bablu AKA Babloo".into(),
            "Mahtab Alam".into(),
        ];
        record(&mut r, Handling::Peers).unwrap();
        assert_eq!(
            r.aliases,
            [
                "Raju",
                "Pappu",
                "Kalua",
                "Kallu Bhai",
                "Sonu",
                "Monu",
                "Bablu",
                "Babloo",
                "Mahtab Alam"
            ]
        );
        // A split that goes over the limit is refused like any other list.
        let mut r = valid();
        r.aliases = (0..20).map(|i| format!("A{i} @ B{i}")).collect();
        let err = record(&mut r, Handling::Peers).unwrap_err().to_string();
        assert!(
            err.contains("aliases") && err.contains("limit is 20"),
            "{err}"
        );
    }

    #[test]
    fn names_the_field_and_the_limit() {
        let mut r = valid();
        r.aliases = vec!["x".into(); 10_000];
        let err = record(&mut r, Handling::Peers).unwrap_err().to_string();
        assert!(
            err.contains("aliases") && err.contains("limit is 20"),
            "{err}"
        );
        let mut r = valid();
        r.name = "   ".into();
        let err = record(&mut r, Handling::Peers).unwrap_err().to_string();
        assert!(err.starts_with("name:"), "{err}");
        let mut r = valid();
        r.phones = vec!["12345".into()];
        let err = record(&mut r, Handling::Peers).unwrap_err().to_string();
        assert!(err.starts_with("phones[0]"), "{err}");
    }

    #[test]
    fn excerpt_quotes_short_input_whole() {
        assert_eq!(excerpt(""), "''");
        assert_eq!(excerpt("garbage"), "'garbage'");
        let forty = "a".repeat(EXCERPT_CHARS);
        assert_eq!(excerpt(&forty), format!("'{forty}'"));
    }

    #[test]
    fn excerpt_cuts_long_input_and_counts_it() {
        let long = "b".repeat(3_000_000);
        let shown = excerpt(&long);
        assert_eq!(
            shown,
            format!("'{}…' (3000000 characters)", "b".repeat(EXCERPT_CHARS))
        );
        let one_over = "c".repeat(EXCERPT_CHARS + 1);
        assert!(excerpt(&one_over).ends_with("…' (41 characters)"));
    }

    #[test]
    fn excerpt_cuts_on_a_character_boundary_and_escapes_controls() {
        // Devanagari letters are three bytes each; the count is of characters.
        let name = "राम".repeat(100);
        let shown = excerpt(&name);
        assert!(shown.starts_with("'राम"), "{shown}");
        assert!(shown.ends_with("…' (300 characters)"), "{shown}");
        let quoted: String = shown.chars().skip(1).take_while(|&c| c != '…').collect();
        assert_eq!(quoted.chars().count(), EXCERPT_CHARS);
        assert_eq!(excerpt("a\nb"), "'a\\nb'");
    }

    #[test]
    fn a_huge_id_is_refused_with_a_short_message() {
        let token = "x".repeat(3 * 1024 * 1024);
        let err = id("page_token", &token).unwrap_err().to_string();
        assert!(err.starts_with("page_token: 'xxx"), "{err}");
        assert!(err.len() < 200, "{} bytes", err.len());
        assert!(err.contains("(3145728 characters)"), "{err}");
    }

    #[test]
    fn refuses_malformed_ids() {
        assert!(id("id", "not-a-uuid")
            .unwrap_err()
            .to_string()
            .starts_with("id:"));
        assert!(id("id", &uuid::Uuid::now_v7().to_string()).is_ok());
    }
}
