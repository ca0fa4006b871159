//! Checks of what liaison officers send the alert service: the content of a new or
//! updated alert, its targets and expiry, cancel reasons and acknowledgement notes. Every
//! refusal names the field and the limit, as in `validate.rs`.

use crate::error::{NodeError, NodeResult};
use crate::validate::limits::{
    MAX_ALERT_BODY_CHARS, MAX_ALERT_LIFETIME_MS, MAX_ALERT_LIST, MAX_ALERT_NOTE_CHARS,
    MAX_ALERT_TITLE_CHARS, MAX_SHORT_CHARS,
};
use crate::validate::{count, enum_value, excerpt, id, phone, sha256, text, text_list, vehicle};
use setu_proto::v1::{Alert, AlertCategory, AlertPriority, Warning};
use std::collections::HashSet;

/// Checks the content fields of an alert (everything an officer writes), trimming text.
/// `now_ms` is the node's time, against which the expiry is judged.
pub fn content(alert: &mut Alert, now_ms: i64) -> NodeResult<()> {
    let priority: AlertPriority = enum_value("priority", alert.priority)?;
    if priority == AlertPriority::Unspecified {
        return Err(NodeError::invalid(
            "priority",
            "is required: flash, immediate or routine",
        ));
    }
    let category: AlertCategory = enum_value("category", alert.category)?;
    if category == AlertCategory::Unspecified {
        return Err(NodeError::invalid("category", "is required"));
    }
    text("title", &mut alert.title, MAX_ALERT_TITLE_CHARS, true)?;
    text("body", &mut alert.body, MAX_ALERT_BODY_CHARS, false)?;
    text(
        "incident_place",
        &mut alert.incident_place,
        MAX_SHORT_CHARS,
        false,
    )?;
    if alert.incident_at_ms < 0 || alert.incident_at_ms > now_ms + 24 * 60 * 60 * 1000 {
        return Err(NodeError::invalid(
            "incident_at_ms",
            format!(
                "{} is not a time up to one day from now (Unix milliseconds)",
                alert.incident_at_ms
            ),
        ));
    }
    count("record_ids", alert.record_ids.len(), MAX_ALERT_LIST)?;
    for (i, record) in alert.record_ids.iter().enumerate() {
        id(&format!("record_ids[{i}]"), record)?;
    }
    text_list(
        "vehicles",
        &mut alert.vehicles,
        MAX_ALERT_LIST,
        MAX_SHORT_CHARS,
    )?;
    for (i, v) in alert.vehicles.iter().enumerate() {
        vehicle(&format!("vehicles[{i}]"), v)?;
    }
    text_list("phones", &mut alert.phones, MAX_ALERT_LIST, MAX_SHORT_CHARS)?;
    for (i, p) in alert.phones.iter().enumerate() {
        phone(&format!("phones[{i}]"), p)?;
    }
    count("photos", alert.photos.len(), MAX_ALERT_LIST)?;
    for (i, sha) in alert.photos.iter().enumerate() {
        sha256(&format!("photos[{i}]"), sha)?;
    }
    count("warnings", alert.warnings.len(), MAX_ALERT_LIST)?;
    for (i, w) in alert.warnings.iter().enumerate() {
        let warning: Warning = enum_value(&format!("warnings[{i}]"), *w)?;
        if warning == Warning::Unspecified {
            return Err(NodeError::invalid(
                format!("warnings[{i}]"),
                "is not a warning",
            ));
        }
    }
    text(
        "action_requested",
        &mut alert.action_requested,
        MAX_ALERT_NOTE_CHARS,
        false,
    )?;
    expiry(alert.expires_at_ms, now_ms)
}

/// Checks an expiry: required, in the future, at most 30 days ahead.
pub fn expiry(expires_at_ms: i64, now_ms: i64) -> NodeResult<()> {
    if expires_at_ms == 0 {
        return Err(NodeError::invalid(
            "expires_at_ms",
            "is required: when the alert stops (at most 30 days ahead)",
        ));
    }
    if expires_at_ms <= now_ms {
        return Err(NodeError::invalid(
            "expires_at_ms",
            format!(
                "is {} s in the past; an alert must expire in the future",
                (now_ms - expires_at_ms) / 1000
            ),
        ));
    }
    if expires_at_ms - now_ms > MAX_ALERT_LIFETIME_MS {
        return Err(NodeError::invalid(
            "expires_at_ms",
            format!(
                "is {:.1} days ahead; the limit is 30 days",
                (expires_at_ms - now_ms) as f64 / 86_400_000.0
            ),
        ));
    }
    Ok(())
}

/// The districts a new alert goes to: the requested ones, each a configured peer and
/// named once, or every configured peer when none are named.
pub fn targets(requested: &[String], peers: &[String], own: &str) -> NodeResult<Vec<String>> {
    if requested.is_empty() {
        return Ok(peers.to_vec());
    }
    count("targets", requested.len(), peers.len().max(1))?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, target) in requested.iter().enumerate() {
        let target = target.trim();
        let field = format!("targets[{i}]");
        if target == own {
            return Err(NodeError::invalid(
                field,
                format!("{own} is this district; alerts are for peer districts"),
            ));
        }
        if !peers.iter().any(|p| p == target) {
            return Err(NodeError::invalid(
                field,
                format!(
                    "{} is not a peer of {own}; the peers are: {}",
                    excerpt(target),
                    if peers.is_empty() {
                        "none".to_string()
                    } else {
                        peers.join(", ")
                    }
                ),
            ));
        }
        if !seen.insert(target.to_string()) {
            return Err(NodeError::invalid(
                field,
                format!("{} is named twice", excerpt(target)),
            ));
        }
        out.push(target.to_string());
    }
    Ok(out)
}

/// Checks a cancel reason (required) or an update's reason (optional).
pub fn reason(value: &mut String, required: bool) -> NodeResult<()> {
    text("reason", value, MAX_ALERT_NOTE_CHARS, required)
}

/// Checks an acknowledgement note (optional).
pub fn note(value: &mut String) -> NodeResult<()> {
    text("note", value, MAX_ALERT_NOTE_CHARS, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn valid() -> Alert {
        Alert {
            priority: AlertPriority::Flash as i32,
            category: AlertCategory::Robbery as i32,
            title: " ATM robbery at Hirapur ".into(),
            body: "Two men on a black motorcycle, heading east.".into(),
            vehicles: vec!["JH 10 AB 1234".into()],
            warnings: vec![Warning::Armed as i32],
            expires_at_ms: NOW + 2 * 3_600_000,
            ..Default::default()
        }
    }

    fn refusal(mut alert: Alert) -> String {
        match content(&mut alert, NOW) {
            Err(NodeError::InvalidArgument { field, reason }) => format!("{field}: {reason}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_alert_is_trimmed_and_accepted() {
        let mut alert = valid();
        content(&mut alert, NOW).unwrap();
        assert_eq!(alert.title, "ATM robbery at Hirapur");
    }

    #[test]
    fn each_refusal_names_the_field_and_the_limit() {
        let cases: Vec<(Alert, &str)> = vec![
            (
                Alert {
                    title: "  ".into(),
                    ..valid()
                },
                "title: is required",
            ),
            (
                Alert {
                    priority: 0,
                    ..valid()
                },
                "priority: is required",
            ),
            (
                Alert {
                    category: 99,
                    ..valid()
                },
                "category: 99 is not a known value",
            ),
            (
                Alert {
                    body: "x".repeat(1 << 20),
                    ..valid()
                },
                "body: is 1048576 characters long; the limit is 4000",
            ),
            (
                Alert {
                    expires_at_ms: 0,
                    ..valid()
                },
                "expires_at_ms: is required",
            ),
            (
                Alert {
                    expires_at_ms: NOW - 60_000,
                    ..valid()
                },
                "expires_at_ms: is 60 s in the past",
            ),
            (
                Alert {
                    expires_at_ms: NOW + 31 * 86_400_000,
                    ..valid()
                },
                "expires_at_ms: is 31.0 days ahead; the limit is 30 days",
            ),
            (
                Alert {
                    vehicles: vec!["??".into()],
                    ..valid()
                },
                "vehicles[0]:",
            ),
            (
                Alert {
                    record_ids: vec!["nope".into()],
                    ..valid()
                },
                "record_ids[0]: 'nope' is not a valid id",
            ),
            (
                Alert {
                    warnings: vec![0],
                    ..valid()
                },
                "warnings[0]: is not a warning",
            ),
        ];
        for (alert, expected) in cases {
            let got = refusal(alert);
            assert!(
                got.starts_with(expected),
                "{got:?} should start with {expected:?}"
            );
        }
    }

    #[test]
    fn targets_are_peers_named_once_or_all_peers() {
        let peers = vec!["wb-asansol-durgapur".to_string(), "jh-bokaro".to_string()];
        assert_eq!(targets(&[], &peers, "jh-dhanbad").unwrap(), peers);
        assert_eq!(
            targets(&["jh-bokaro".into()], &peers, "jh-dhanbad").unwrap(),
            vec!["jh-bokaro".to_string()]
        );
        let err = targets(&["br-gaya".into()], &peers, "jh-dhanbad")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("targets[0]") && err.contains("not a peer"),
            "{err}"
        );
        let err = targets(
            &["jh-bokaro".into(), "jh-bokaro".into()],
            &peers,
            "jh-dhanbad",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("targets[1]") && err.contains("twice"), "{err}");
        let err = targets(&["jh-dhanbad".into()], &peers, "jh-dhanbad")
            .unwrap_err()
            .to_string();
        assert!(err.contains("this district"), "{err}");
    }
}
