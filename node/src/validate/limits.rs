//! The size limits every request is checked against. They are named here, in one place,
//! so that validation, error messages and documentation agree on the same numbers.

/// Longest name, alias, father's name or local name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest free-text field (summaries, methods, identifying marks, reasons), in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// Longest short field (police station, locality, FIR number, legal section), in characters.
pub const MAX_SHORT_CHARS: usize = 200;
/// Most aliases on one record.
pub const MAX_ALIASES: usize = 20;
/// Most phone numbers on one record.
pub const MAX_PHONES: usize = 20;
/// Most vehicle registrations on one record.
pub const MAX_VEHICLES: usize = 20;
/// Most cases on one record or MO note.
pub const MAX_CASES: usize = 50;
/// Most addresses on one record.
pub const MAX_ADDRESSES: usize = 10;
/// Most identifying marks on one record.
pub const MAX_MARKS: usize = 20;
/// Most associates on one record, and most linked records on one MO note.
pub const MAX_LINKS: usize = 100;
/// Most photos attached to one record.
pub const MAX_PHOTOS: usize = 20;
/// Most entries in each list of an MO note (weapons, vehicles, places, ...).
pub const MAX_MO_LIST: usize = 30;
/// Most legal sections on one case.
pub const MAX_SECTIONS: usize = 20;
/// Largest photo, in bytes (10 MiB).
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// Largest gRPC message the node decodes, in bytes; photos travel in chunks below it.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// Default page size of List calls.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page size of List calls.
pub const MAX_PAGE_SIZE: u32 = 500;
/// Largest reward in rupees (ten crore), to catch typing slips.
pub const MAX_REWARD_INR: u64 = 100_000_000;
/// Oldest birth year accepted.
pub const MIN_BIRTH_YEAR: u32 = 1900;
/// Oldest age accepted.
pub const MAX_AGE: u32 = 120;
/// Longest search text or father's name in a search, in characters.
pub const MAX_SEARCH_NAME_CHARS: usize = 200;
/// Longest MO text in a search, in characters.
pub const MAX_SEARCH_MO_CHARS: usize = 500;
/// Default page size of a search.
pub const DEFAULT_SEARCH_PAGE_SIZE: u32 = 20;
/// Largest page size of a search.
pub const MAX_SEARCH_PAGE_SIZE: u32 = 100;
/// Deepest offset a search pages to; narrow the query to see beyond it.
pub const MAX_SEARCH_OFFSET: usize = 10_000;
/// Default tolerance of a birth-year filter, in years either side.
pub const DEFAULT_BIRTH_YEAR_TOLERANCE: u32 = 2;
/// Largest tolerance of a birth-year filter.
pub const MAX_BIRTH_YEAR_TOLERANCE: u32 = 20;
/// Most values in each list filter of a search (origins, statuses, warnings, categories).
pub const MAX_SEARCH_FILTER_VALUES: usize = 20;
/// Longest alert title, in characters.
pub const MAX_ALERT_TITLE_CHARS: usize = 200;
/// Longest alert body, in characters.
pub const MAX_ALERT_BODY_CHARS: usize = 4_000;
/// Longest "action requested", acknowledgement note or cancel reason of an alert.
pub const MAX_ALERT_NOTE_CHARS: usize = 1_000;
/// Most linked records, vehicles, phones or photos on one alert.
pub const MAX_ALERT_LIST: usize = 20;
/// Furthest ahead an alert may expire: 30 days, in milliseconds.
pub const MAX_ALERT_LIFETIME_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// How soon after posting a FLASH alert must be acknowledged: 10 minutes, in milliseconds.
pub const FLASH_ACK_MS: i64 = 10 * 60 * 1000;
/// How soon after posting an IMMEDIATE alert must be acknowledged: 1 hour, in milliseconds.
pub const IMMEDIATE_ACK_MS: i64 = 60 * 60 * 1000;
