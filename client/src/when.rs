//! Times and spans of time as officers read them: the local time of the officer's zone with
//! the zone shown ("2026-12-02 15:45 IST"), and one way of writing a span ("9m 51s",
//! "5d 3h") in every command.
//!
//! The zone is the one `TZ` names (an IANA name such as `Asia/Kolkata`), else the system's
//! (`/etc/localtime`); jiff reads both, with its own copy of the zone database when the
//! machine has none. Times in `--json` output stay Unix milliseconds.

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The officer's clock in Unix milliseconds; 0 if it is set before 1970.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The officer's time zone: `TZ`, else the system's, else UTC.
pub(crate) fn zone() -> TimeZone {
    TimeZone::try_system().unwrap_or(TimeZone::UTC)
}

/// Unix milliseconds as local `YYYY-MM-DD HH:MM ZONE`; 0 means unset and prints as "-".
pub fn minutes(ms: i64) -> String {
    if ms == 0 {
        return "-".to_string();
    }
    in_zone(ms, &zone(), "%Y-%m-%d %H:%M")
}

/// Unix milliseconds as local `YYYY-MM-DD HH:MM:SS ZONE`; 0 prints as "-".
pub fn seconds(ms: i64) -> String {
    if ms == 0 {
        return "-".to_string();
    }
    in_zone(ms, &zone(), "%Y-%m-%d %H:%M:%S")
}

/// Unix milliseconds in `tz` with the `strftime` pattern `pattern`, then the zone's
/// abbreviation ("IST", "UTC") or, for a zone without one, its offset ("+05:30").
pub(crate) fn in_zone(ms: i64, tz: &TimeZone, pattern: &str) -> String {
    let Ok(at) = Timestamp::from_millisecond(ms) else {
        return format!("{ms} ms");
    };
    let zoned = at.to_zoned(tz.clone());
    let abbreviation = zoned.strftime("%Z").to_string();
    let zone = if abbreviation.is_empty()
        || abbreviation.starts_with('+')
        || abbreviation.starts_with('-')
    {
        zoned.strftime("%:z").to_string()
    } else {
        abbreviation
    };
    format!("{} {zone}", zoned.strftime(pattern))
}

/// Midnight at the start of the local day `year-month-day`, in Unix milliseconds.
pub(crate) fn local_midnight_ms(year: i16, month: i8, day: i8) -> Option<i64> {
    let date = jiff::civil::Date::new(year, month, day).ok()?;
    let zoned = date.to_zoned(zone()).ok()?;
    Some(zoned.timestamp().as_millisecond())
}

/// A span of time in its two largest units, e.g. "45s", "5m 30s", "1h 5m", "2d 3h"; the
/// sign is dropped (callers say "ago" or "in").
pub fn span(ms: i64) -> String {
    let secs = ms.unsigned_abs() / 1000;
    let (days, hours, minutes, seconds) =
        (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let pair = |big: u64, big_unit: &str, small: u64, small_unit: &str| {
        if small == 0 {
            format!("{big}{big_unit}")
        } else {
            format!("{big}{big_unit} {small}{small_unit}")
        }
    };
    if days > 0 {
        pair(days, "d", hours, "h")
    } else if hours > 0 {
        pair(hours, "h", minutes, "m")
    } else if minutes > 0 {
        pair(minutes, "m", seconds, "s")
    } else {
        format!("{seconds}s")
    }
}

/// How long until `at_ms` from `now_ms` when counted in days, rounded to the nearest day
/// from two days on ("10 days" for a certificate issued for ten days a moment ago), as a
/// span below that ("1d 23h", "5h 3m").
pub fn days_left(at_ms: i64, now_ms: i64) -> String {
    let left = at_ms.saturating_sub(now_ms);
    if left >= 2 * DAY_MS - DAY_MS / 2 {
        let days = (left + DAY_MS / 2) / DAY_MS;
        format!("{days} days")
    } else {
        span(left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: i64 = 1_760_000_000_000;

    #[test]
    fn times_show_their_zone() -> Result<(), jiff::Error> {
        let kolkata = TimeZone::get("Asia/Kolkata")?;
        assert_eq!(
            in_zone(AT, &kolkata, "%Y-%m-%d %H:%M"),
            "2025-10-09 14:23 IST"
        );
        assert_eq!(
            in_zone(AT, &TimeZone::UTC, "%Y-%m-%d %H:%M:%S"),
            "2025-10-09 08:53:20 UTC"
        );
        let fixed = TimeZone::fixed(jiff::tz::offset(5));
        assert_eq!(
            in_zone(AT, &fixed, "%Y-%m-%d %H:%M"),
            "2025-10-09 13:53 +05:00"
        );
        assert_eq!(minutes(0), "-");
        Ok(())
    }

    #[test]
    fn spans_take_two_units() {
        assert_eq!(span(45_000), "45s");
        assert_eq!(span(591_000), "9m 51s");
        assert_eq!(span(343_000), "5m 43s");
        assert_eq!(span(5 * DAY_MS + 3 * 3_600_000 + 5_000), "5d 3h");
        assert_eq!(span(-90_000), "1m 30s");
        assert_eq!(span(3_600_000), "1h");
    }

    #[test]
    fn days_left_rounds_to_the_nearest_day() {
        assert_eq!(days_left(AT + 10 * DAY_MS - 2_000, AT), "10 days");
        assert_eq!(days_left(AT + 9 * DAY_MS + DAY_MS / 3, AT), "9 days");
        assert_eq!(days_left(AT + DAY_MS + 3_600_000, AT), "1d 1h");
        assert_eq!(days_left(AT + 5 * 3_600_000, AT), "5h");
    }
}
