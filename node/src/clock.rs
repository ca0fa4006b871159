//! Wall-clock time in the one unit Setu stores (Unix milliseconds), so that every module
//! reads the time the same way.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds in one (non-leap) year, the default review period of a record.
pub const YEAR_MS: i64 = 365 * 24 * 60 * 60 * 1000;

/// The current time in Unix milliseconds. A clock set before 1970 reads as 0.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The calendar year (UTC) of a Unix-millisecond time; times before 1970 read as 1970.
pub fn year_of_ms(ms: i64) -> u32 {
    let at = time::OffsetDateTime::from_unix_timestamp(ms.max(0) / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    u32::try_from(at.year()).unwrap_or(1970)
}

/// The current calendar year (UTC).
pub fn current_year() -> u32 {
    let year = time::OffsetDateTime::now_utc().year();
    u32::try_from(year).unwrap_or(0)
}

/// The node's clock for deadlines and expiry: the system time plus an offset that is
/// always zero in service. Tests move a node's clock forward (for instance past an alert's
/// acknowledgement deadline) without waiting; clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    /// The current time in Unix milliseconds, as this clock reads it.
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.offset_ms.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Moves the clock forward by `by` (for tests).
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms
            .fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}
