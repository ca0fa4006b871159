//! Parsers for the structured command-line values: `--case`, `--address`, photo digests,
//! mandatory reasons, times and durations. They only split the text into fields; the node
//! judges the content.

use crate::view::{AddressView, CaseView};
use crate::words::CaseRole;

/// The `--case` format, as shown in help and error messages.
pub const CASE_FORMAT: &str = "FIR/YEAR@POLICE STATION[:SECTION;SECTION...][:ROLE]";

/// Parses `--case "112/2025@Jharia:BNS 309(4);BNS 111:accused"`.
///
/// The FIR number is kept whole ("112/2025") and the year is its four digits after the last
/// `/`. Sections are separated by `;`. The role, when given, is the last `:` part and one of
/// `suspect`, `accused` or `convicted`; with only two parts, a role word is a role and
/// anything else is the section list.
pub fn parse_case(text: &str) -> Result<CaseView, String> {
    let bad = |why: &str| {
        format!("{why}; expected {CASE_FORMAT}, e.g. \"112/2025@Jharia:BNS 309(4):accused\"")
    };
    let mut parts = text.split(':');
    let head = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let (fir, station) = head
        .split_once('@')
        .ok_or_else(|| bad("missing '@' between the FIR number and the police station"))?;
    let fir = fir.trim();
    let station = station.trim();
    if fir.is_empty() || station.is_empty() {
        return Err(bad(
            "the FIR number and the police station must both be given",
        ));
    }
    let year_text = fir
        .rsplit_once('/')
        .map(|(_, year)| year.trim())
        .ok_or_else(|| bad("the FIR number must end in /YEAR"))?;
    if year_text.len() != 4 || !year_text.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad("the year after the last '/' must be four digits"));
    }
    let year: u32 = year_text
        .parse()
        .map_err(|_| bad("the year after the last '/' must be four digits"))?;
    let (sections, role) = match rest.as_slice() {
        [] => (None, None),
        [one] => match parse_role(one) {
            Some(role) => (None, Some(role)),
            None => (Some(*one), None),
        },
        [sections, role] => {
            let role = parse_role(role).ok_or_else(|| {
                bad(&format!(
                    "unknown role {:?} (allowed: suspect, accused, convicted)",
                    role.trim()
                ))
            })?;
            (Some(*sections), Some(role))
        }
        _ => return Err(bad("too many ':' separated parts")),
    };
    Ok(CaseView {
        fir_number: fir.to_string(),
        police_station: station.to_string(),
        year,
        sections: sections
            .map(|s| {
                s.split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        role,
    })
}

/// A role word, or `None` when the text is not one.
fn parse_role(text: &str) -> Option<CaseRole> {
    let text = text.trim();
    CaseRole::ALL.iter().copied().find(|r| r.word() == text)
}

/// Parses `--address "locality, police station, district, state"`; missing trailing parts stay
/// empty and more than four parts are refused.
pub fn parse_address(text: &str) -> Result<AddressView, String> {
    let parts: Vec<String> = text.split(',').map(|p| p.trim().to_string()).collect();
    if parts.len() > 4 {
        return Err(format!(
            "{} comma-separated parts; expected at most 4: \"locality, police station, district, state\"",
            parts.len()
        ));
    }
    if parts.iter().all(String::is_empty) {
        return Err("the address is empty".to_string());
    }
    let mut parts = parts.into_iter();
    Ok(AddressView {
        locality: parts.next().unwrap_or_default(),
        police_station: parts.next().unwrap_or_default(),
        district: parts.next().unwrap_or_default(),
        state: parts.next().unwrap_or_default(),
    })
}

/// Parses a photo digest: 64 hex digits, returned in lower case.
pub fn parse_sha256(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err("expected a SHA-256 digest of 64 hex digits".to_string())
    }
}

/// Parses the start of a SHA-256 digest: 1 to 64 hex digits, in lower case.
pub fn parse_sha256_prefix(text: &str) -> Result<String, String> {
    let text = text.trim();
    if !text.is_empty() && text.len() <= 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err("expected a SHA-256 digest, or its first hex digits".to_string())
    }
}

/// Refuses empty or blank text, for values such as `--reason`.
pub fn parse_non_blank(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("must not be empty".to_string())
    } else {
        Ok(text.to_string())
    }
}

/// A point in time given on the command line: a local date or an RFC 3339 timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeArg {
    /// Unix milliseconds of the instant (local midnight for a date, see [`crate::when`]).
    pub ms: i64,
    /// Whether only a date was given, so that an upper bound can include the whole day.
    pub date_only: bool,
}

impl TimeArg {
    /// The instant as a lower bound.
    pub fn start_ms(self) -> i64 {
        self.ms
    }

    /// The instant as an upper bound: a bare date includes its whole day.
    pub fn end_ms(self) -> i64 {
        if self.date_only {
            self.ms + 24 * 60 * 60 * 1000
        } else {
            self.ms
        }
    }
}

/// Parses `YYYY-MM-DD` (midnight in the officer's zone) or an RFC 3339 timestamp such as
/// `2025-10-09T08:53:00+05:30`.
pub fn parse_time(text: &str) -> Result<TimeArg, String> {
    let text = text.trim();
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    let (at, date_only) = if let Ok(date) = time::Date::parse(text, &date_format) {
        let ms = crate::when::local_midnight_ms(
            i16::try_from(date.year()).map_err(|_| "the year is out of range".to_string())?,
            i8::try_from(u8::from(date.month())).unwrap_or(1),
            i8::try_from(date.day()).unwrap_or(1),
        )
        .ok_or_else(|| "the date is out of range".to_string())?;
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .map_err(|_| "the date is out of range".to_string())?;
        (at, true)
    } else {
        let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                "expected a date as YYYY-MM-DD (local) or an RFC 3339 time such as 2025-10-09T08:53:00Z"
                    .to_string()
            })?;
        (at, false)
    };
    let ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| "the time is out of range".to_string())?;
    if ms < 0 {
        return Err("the time must be after 1970-01-01".to_string());
    }
    Ok(TimeArg { ms, date_only })
}

/// Parses a `--warning` word, or "" for none (so that `--warning ""` clears the list).
pub fn parse_warning_or_none(text: &str) -> Result<Option<crate::words::Warning>, String> {
    use crate::words::Warning;
    if text.trim().is_empty() {
        return Ok(None);
    }
    <Warning as clap::ValueEnum>::from_str(text.trim(), true)
        .map(Some)
        .map_err(|_| {
            let words: Vec<&str> = Warning::ALL.iter().map(|w| w.word()).collect();
            format!(
                "expected one of {} (or \"\" to clear the list)",
                words.join(", ")
            )
        })
}

/// The duration format of `--expires-in`, as shown in help and error messages.
pub const DURATION_FORMAT: &str =
    "a number and a unit (m minutes, h hours, d days), e.g. 30m, 2h, 1d or 1h30m";

/// Parses a duration such as `30m`, `2h`, `1d` or `1h30m` (also `2 hours`, `90min`).
///
/// Only a duration of at least one second is accepted. How long is too long is the node's
/// decision (it names the limit); here only sizes beyond any date are refused.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let bad = |why: String| format!("{why}; expected {DURATION_FORMAT}");
    if text.chars().all(|c| c.is_ascii_digit()) && !text.is_empty() {
        return Err(bad(format!("{text:?} has no unit")));
    }
    let duration = humantime::parse_duration(text).map_err(|e| {
        bad(match e {
            humantime::DurationError::UnknownUnit { unit, .. } if !unit.is_empty() => {
                format!("unknown unit {unit:?}")
            }
            humantime::DurationError::UnknownUnit { value, .. } => format!("{value} has no unit"),
            humantime::DurationError::NumberOverflow => "the duration is too long".to_string(),
            humantime::DurationError::Empty => "the duration is empty".to_string(),
            _ => "not a duration".to_string(),
        })
    })?;
    if duration.as_secs() == 0 {
        return Err(bad("the duration must be at least one second".to_string()));
    }
    if i64::try_from(duration.as_millis()).is_err() {
        return Err(bad("the duration is too long".to_string()));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_dates_or_rfc3339() -> Result<(), String> {
        let day = parse_time("2025-10-09")?;
        assert_eq!(day.start_ms(), 1_759_968_000_000);
        assert_eq!(day.end_ms(), 1_759_968_000_000 + 86_400_000);
        let at = parse_time("2025-10-09T05:30:00+05:30")?;
        assert_eq!((at.start_ms(), at.end_ms()), (day.ms, day.ms));
        assert!(parse_time("09/10/2025").is_err());
        assert!(parse_time("1960-01-01").is_err());
        Ok(())
    }

    #[test]
    fn full_case() -> Result<(), String> {
        let case = parse_case("112/2025@Jharia:BNS 309(4); BNS 111:accused")?;
        assert_eq!(case.fir_number, "112/2025");
        assert_eq!(case.police_station, "Jharia");
        assert_eq!(case.year, 2025);
        assert_eq!(case.sections, vec!["BNS 309(4)", "BNS 111"]);
        assert_eq!(case.role, Some(CaseRole::Accused));
        Ok(())
    }

    #[test]
    fn case_with_only_sections_or_only_role() -> Result<(), String> {
        let sections = parse_case("7/2024@Gaya Town:BNS 303")?;
        assert_eq!(sections.sections, vec!["BNS 303"]);
        assert_eq!(sections.role, None);
        let role = parse_case("7/2024@Gaya Town:suspect")?;
        assert!(role.sections.is_empty());
        assert_eq!(role.role, Some(CaseRole::Suspect));
        let bare = parse_case("7/2024@Gaya Town")?;
        assert_eq!((bare.year, bare.role), (2024, None));
        Ok(())
    }

    #[test]
    fn bad_cases_are_refused() {
        assert!(parse_case("112/2025 Jharia").is_err());
        assert!(parse_case("112@Jharia").is_err());
        assert!(parse_case("112/25@Jharia").is_err());
        assert!(parse_case("112/2025@").is_err());
        assert!(parse_case("112/2025@Jharia:BNS 1:boss").is_err());
        assert!(parse_case("112/2025@Jharia:a:b:c").is_err());
    }

    #[test]
    fn addresses_fill_missing_parts_with_empty() -> Result<(), String> {
        let full = parse_address("Ward 4, Jharia, Dhanbad, Jharkhand")?;
        assert_eq!(full.state, "Jharkhand");
        let short = parse_address("Ward 4, Jharia")?;
        assert_eq!(short.police_station, "Jharia");
        assert_eq!(short.district, "");
        let gap = parse_address(", , Gaya, Bihar")?;
        assert_eq!((gap.locality.as_str(), gap.district.as_str()), ("", "Gaya"));
        assert!(parse_address("a, b, c, d, e").is_err());
        assert!(parse_address(" , ").is_err());
        Ok(())
    }

    #[test]
    fn durations_take_units() -> Result<(), String> {
        let minutes = |m: u64| std::time::Duration::from_secs(m * 60);
        assert_eq!(parse_duration("30m")?, minutes(30));
        assert_eq!(parse_duration("2h")?, minutes(120));
        assert_eq!(parse_duration("1d")?, minutes(24 * 60));
        assert_eq!(parse_duration("1h30m")?, minutes(90));
        assert_eq!(parse_duration(" 1h 30m ")?, minutes(90));
        assert_eq!(parse_duration("2 hours")?, minutes(120));
        assert_eq!(parse_duration("40d")?, minutes(40 * 24 * 60));
        Ok(())
    }

    #[test]
    fn bad_durations_show_the_format() {
        for bad in [
            "xyz",
            "",
            "2",
            "0",
            "0m",
            "2x",
            "-1h",
            "1h-",
            "999999999999y",
        ] {
            let result = parse_duration(bad);
            assert!(
                matches!(&result, Err(e) if e.contains("e.g. 30m, 2h, 1d or 1h30m")),
                "{bad:?}: {result:?}"
            );
        }
        let no_unit = parse_duration("2").err().unwrap_or_default();
        assert!(no_unit.contains("no unit"), "{no_unit}");
        let unit = parse_duration("2x").err().unwrap_or_default();
        assert!(unit.starts_with("unknown unit \"x\";"), "{unit}");
        let word = parse_duration("xyz").err().unwrap_or_default();
        assert!(word.starts_with("not a duration;"), "{word}");
    }

    #[test]
    fn digests_are_checked_and_lowered() {
        assert_eq!(parse_sha256(&"AB".repeat(32)), Ok("ab".repeat(32)));
        assert!(parse_sha256("abc").is_err());
        assert!(parse_non_blank("  ").is_err());
    }
}
