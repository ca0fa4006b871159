//! The node's refusals in an officer's words.
//!
//! The node names the field and the limit in the contract's terms ("expires_at_ms: is 40.0
//! days ahead; the limit is 30 days") and says how a call ended with a gRPC code. An officer
//! needs neither: this module turns the field into words ("the alert's expiry"), tidies the
//! numbers, and drops the code, which stays available in `--json` output (see
//! [`grpc_name`]).

/// The sentence an officer sees for a call the node answered with an error: `code` is the
/// gRPC code in lower-case words (see [`crate::explain::code_words`]), `message` the
/// node's message.
pub(crate) fn rpc_sentence(code: &str, message: &str) -> String {
    let message = tidy_numbers(message);
    match code {
        "invalid argument" | "out of range" => field_sentence(&message),
        "permission denied" => format!("not allowed: {message}"),
        "unauthenticated" => format!("the node did not accept this certificate: {message}"),
        "unavailable" => format!("the node cannot serve this now: {message}"),
        "internal" | "unknown" | "data loss" => {
            format!("the node failed to do this: {message}")
        }
        "deadline exceeded" => format!("the node did not answer in time: {message}"),
        "unimplemented" => {
            format!("the node does not offer this (it may run an older version of Setu): {message}")
        }
        "cancelled" => format!("the call was cancelled: {message}"),
        _ => message,
    }
}

/// The gRPC code's canonical name, e.g. `INVALID_ARGUMENT` for "invalid argument", as
/// `--json` error output carries it.
pub(crate) fn grpc_name(code: &str) -> String {
    code.to_ascii_uppercase().replace(' ', "_")
}

/// "field: reason" as a sentence about the field in words; a message that does not start
/// with a field name is returned unchanged.
fn field_sentence(message: &str) -> String {
    let Some((field, reason)) = split_field(message) else {
        return message.to_string();
    };
    if let Some(sentence) = special(field, reason) {
        return sentence;
    }
    let subject = subject(field);
    // A reason may start with the value it refuses, e.g. "2100 is in the future".
    let starts_with_number = reason.chars().next().is_some_and(|c| c.is_ascii_digit());
    if starts_with_number || starts_with_verb(reason) {
        format!("{subject} {reason}")
    } else {
        format!("{subject}: {reason}")
    }
}

/// Splits "aliases[3]: is too long" into the field and the reason, when the part before the
/// first ": " looks like a contract field name.
fn split_field(message: &str) -> Option<(&str, &str)> {
    let (field, reason) = message.split_once(": ")?;
    let is_field = !field.is_empty()
        && field.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && field
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_[].".contains(c));
    is_field.then_some((field, reason))
}

/// Whether a reason reads on from its subject, e.g. "is required" or "must be after ...".
fn starts_with_verb(reason: &str) -> bool {
    let first = reason.split_whitespace().next().unwrap_or("");
    matches!(
        first,
        "is" | "are"
            | "has"
            | "have"
            | "must"
            | "was"
            | "were"
            | "does"
            | "do"
            | "may"
            | "cannot"
            | "can"
            | "names"
            | "repeats"
            | "contains"
            | "needs"
            | "should"
    )
}

/// Whole sentences for the refusals that read badly with the field put into words alone.
fn special(field: &str, reason: &str) -> Option<String> {
    Some(match (field, reason) {
        ("category_other", "is required") => {
            "the category in words (--category-other) is required when the category is other"
                .to_string()
        }
        ("category_other", "is only for category OTHER") => {
            "the category in words (--category-other) is only for the category other".to_string()
        }
        ("page_size", reason) if reason.contains("above the limit") => {
            let limit = reason.rsplit(' ').next().unwrap_or("500");
            let asked = reason.split(' ').next().unwrap_or("");
            format!(
                "{asked} at a time is more than the node gives at once; the limit is {limit} \
                 (use --limit {limit} or less)"
            )
        }
        _ => return None,
    })
}

/// The words for a contract field, e.g. "the alert's expiry" for `expires_at_ms` or "alias
/// 4" for `aliases[3]`.
fn subject(field: &str) -> String {
    let field = field.rsplit('.').next().unwrap_or(field);
    if let Some((list, rest)) = field.split_once('[') {
        let index: Option<usize> = rest.trim_end_matches(']').parse().ok();
        let one = singular(list);
        return match index {
            Some(i) => format!("{one} {}", i + 1),
            None => one,
        };
    }
    words(field)
}

/// The words for a whole field.
fn words(field: &str) -> String {
    let known = match field {
        "expires_at_ms" => "the alert's expiry",
        "incident_at_ms" => "the incident time",
        "review_by_ms" => "the review date",
        "since_ms" => "the start time (--since)",
        "until_ms" => "the end time (--until)",
        "page_size" => "the number asked for (--limit)",
        "page_token" => "the page token",
        "category_other" => "the category in words (--category-other)",
        "name_local" => "the local-script name",
        "father_name" => "the father's name",
        "birth_year" => "the birth year",
        "birth_year_tolerance" | "tolerance" => "the birth-year tolerance (--tolerance)",
        "age_min" => "the lowest age",
        "age_max" => "the highest age",
        "reward_inr" => "the reward",
        "external_ref" => "the dossier number (--external-ref)",
        "identifying_marks" => "the identifying marks",
        "expected_version" => "the expected version",
        "record_id" | "id" => "the id",
        "record_ids" => "the linked records",
        "alert_id" => "the alert id",
        "after_id" | "after_position" | "after" => "the resume point (--after)",
        "action_requested" => "the action requested (--action)",
        "incident_place" => "the incident place",
        "mo_text" => "the MO text (--mo-text)",
        "mo_categories" => "the MO categories (--mo)",
        "fir_number" | "fir" => "the FIR number",
        "fir_year" => "the FIR year",
        "police_station" | "ps" => "the police station",
        "origins" => "the districts (--origin)",
        "targets" => "the target districts",
        "first_seen" => "the first-seen date",
        "last_seen" => "the last-seen date",
        "sha256" => "the photo's SHA-256",
        "batch_size" => "the batch size",
        "q" | "text" => "the search text",
        "officer" => "the officer's badge",
        _ => "",
    };
    if known.is_empty() {
        format!("the {}", field.replace('_', " "))
    } else {
        known.to_string()
    }
}

/// One item of a list field, e.g. "alias" for `aliases`.
fn singular(list: &str) -> String {
    match list {
        "aliases" => "alias".to_string(),
        "addresses" => "address".to_string(),
        "associates" => "associate".to_string(),
        "phones" => "phone".to_string(),
        "vehicles" => "vehicle".to_string(),
        "warnings" => "warning".to_string(),
        "statuses" => "status".to_string(),
        "origins" => "district".to_string(),
        "targets" => "target district".to_string(),
        "categories" => "category".to_string(),
        "record_ids" => "linked record".to_string(),
        "photos" => "photo".to_string(),
        "identifying_marks" => "identifying mark".to_string(),
        "cases" => "case".to_string(),
        other => other.trim_end_matches('s').replace('_', " "),
    }
}

/// Writes "40.0 days" as "40 days": a decimal whose fraction is zero loses it.
fn tidy_numbers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let chars: Vec<char> = message.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let after_digit = i > 0 && chars[i - 1].is_ascii_digit();
        if c == '.' && after_digit {
            let zeros = chars[i + 1..].iter().take_while(|&&d| d == '0').count();
            let next = chars.get(i + 1 + zeros);
            if zeros > 0 && !next.is_some_and(|n| n.is_ascii_digit() || *n == '.') {
                i += 1 + zeros;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_become_words() {
        assert_eq!(
            rpc_sentence(
                "invalid argument",
                "expires_at_ms: is 40.0 days ahead; the limit is 30 days"
            ),
            "the alert's expiry is 40 days ahead; the limit is 30 days"
        );
        assert_eq!(
            rpc_sentence(
                "invalid argument",
                "page_size: 1000 is above the limit of 500"
            ),
            "1000 at a time is more than the node gives at once; the limit is 500 \
             (use --limit 500 or less)"
        );
        assert_eq!(
            rpc_sentence("invalid argument", "category_other: is required"),
            "the category in words (--category-other) is required when the category is other"
        );
        assert_eq!(
            rpc_sentence(
                "invalid argument",
                "aliases[3]: is longer than 200 characters"
            ),
            "alias 4 is longer than 200 characters"
        );
        assert_eq!(
            rpc_sentence("invalid argument", "name: is required"),
            "the name is required"
        );
    }

    #[test]
    fn codes_are_not_prefixed() {
        let stale = rpc_sentence(
            "aborted",
            "record 0190 is at version 3, not the expected version 2; read it again and retry",
        );
        assert!(stale.starts_with("record 0190 is at version 3"), "{stale}");
        assert_eq!(
            rpc_sentence("failed precondition", "alert 0190 is cancelled"),
            "alert 0190 is cancelled"
        );
        assert!(
            !rpc_sentence("unauthenticated", "no client certificate was presented")
                .starts_with("unauthenticated:")
        );
        assert_eq!(grpc_name("failed precondition"), "FAILED_PRECONDITION");
    }

    #[test]
    fn zero_fractions_are_dropped_and_others_kept() {
        assert_eq!(tidy_numbers("40.0 days"), "40 days");
        assert_eq!(tidy_numbers("40.5 days"), "40.5 days");
        assert_eq!(tidy_numbers("version 1.0.3"), "version 1.0.3");
        assert_eq!(tidy_numbers("ends."), "ends.");
    }
}
