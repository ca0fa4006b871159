//! The human report of `setu peers`: a header line (with the node's own certificate
//! expiry), then one card per federation link. A certificate expiring within 30 days is
//! flagged "EXPIRES IN n DAYS" (rounded to the nearest day; hours and minutes under two
//! days).

use super::{clean, Card};
use crate::view::{OriginLagView, PeerListView, PeerView, WatermarkView};
use crate::when::{days_left, span, DAY_MS};

/// Timestamps younger than this also show how long ago they were.
const RECENT_MS: i64 = 10 * 60 * 1000;

/// Certificates expiring within this many days are flagged (the node warns in its log too).
const EXPIRY_WARNING_DAYS: i64 = 30;

/// The report `setu peers` prints; `now_ms` (Unix ms) places the recent timestamps.
pub fn peers_report(list: &PeerListView, now_ms: i64) -> String {
    let count = match list.peers.len() {
        0 => "no peers".to_string(),
        1 => "1 peer".to_string(),
        n => format!("{n} peers"),
    };
    let district = if list.district.is_empty() {
        "-".to_string()
    } else {
        clean(&list.district)
    };
    let mut out = format!("district {district}: {count}\n");
    if list.own_cert_expires_at_ms != 0 {
        out.push_str(&format!(
            "this node's certificate{}: {}\n",
            serial(&list.own_cert_serial),
            expiry(list.own_cert_expires_at_ms, now_ms)
        ));
    }
    for peer in &list.peers {
        out.push('\n');
        out.push_str(&peer_card(peer, now_ms));
    }
    out
}

/// The card of one link.
fn peer_card(p: &PeerView, now_ms: i64) -> String {
    let mut card = Card::default();
    card.always("Peer", &p.district);
    card.always("Address", &p.address);
    card.always("Connected", if p.connected { "yes" } else { "no" });
    card.always(
        "Last contact",
        if p.last_contact_ms == 0 {
            "never".to_string()
        } else {
            when(p.last_contact_ms, now_ms)
        },
    );
    card.always("Lag in", changes(p.lag_in));
    card.always("Lag out", changes(p.lag_out));
    for figure in link_figures(p, now_ms) {
        if figure.list {
            card.list(figure.label, figure.lines);
        } else {
            card.always(figure.label, figure.lines.join(" "));
        }
    }
    card.list(
        "Anti-entropy",
        timed(
            p.anti_entropy_at_ms,
            &p.anti_entropy_result,
            now_ms,
            "not yet",
        ),
    );
    // An error from before the link came back is history, and is shown as such.
    let recovered =
        p.connected && !p.last_error.is_empty() && p.last_contact_ms > p.last_error_at_ms;
    let mut last_error = timed(p.last_error_at_ms, &p.last_error, now_ms, "none");
    if recovered {
        last_error.push("(the link has recovered since)".to_string());
    }
    card.list("Last error", last_error);
    card.list("Behind", behind_lines(&p.origin_lags));
    if p.watermarks.is_empty() {
        card.always("Watermarks", "none");
    } else {
        card.list("Watermarks", watermark_lines(&p.watermarks));
    }
    card.always(
        "Certificate",
        if p.peer_cert_expires_at_ms == 0 {
            "not seen yet".to_string()
        } else {
            format!(
                "{}{}",
                expiry(p.peer_cert_expires_at_ms, now_ms),
                serial(&p.peer_cert_serial)
            )
        },
    );
    card.render()
}

/// One of a link's own figures: a label and its lines.
pub(crate) struct LinkFigure {
    /// "Slow link", "Traffic", "Connections", "Oldest undelivered change" or "alert".
    pub label: &'static str,
    /// What it says.
    pub lines: Vec<String>,
    /// Whether the lines are a list (traffic per class) rather than one sentence.
    pub list: bool,
}

/// The link's own figures, those with something to say: a slow link, the traffic per
/// class, the connections made in the last hour, the oldest undelivered change and alert.
/// `setu peers` prints them in each card and the console's links page in each row.
pub(crate) fn link_figures(p: &PeerView, now_ms: i64) -> Vec<LinkFigure> {
    let mut figures = Vec::new();
    let mut say = |label, lines: Vec<String>, list| {
        figures.push(LinkFigure { label, lines, list });
    };
    if !p.slow_link.is_empty() {
        say("Slow link", vec![clean(&p.slow_link)], false);
    }
    let traffic: Vec<String> = p
        .link_bytes
        .iter()
        .filter(|b| b.bytes_in > 0 || b.bytes_out > 0)
        .map(|b| {
            format!(
                "{}: {} in, {} out",
                clean(&b.class),
                byte_size(b.bytes_in),
                byte_size(b.bytes_out)
            )
        })
        .collect();
    if !traffic.is_empty() {
        say("Traffic", traffic, true);
    }
    if p.reconnects_last_hour > 0 {
        say(
            "Connections",
            vec![format!("{} in the last hour", p.reconnects_last_hour)],
            false,
        );
    }
    for (label, at_ms) in [
        ("Oldest undelivered change", p.oldest_undelivered_change_ms),
        ("Oldest undelivered alert", p.oldest_undelivered_alert_ms),
    ] {
        if at_ms > 0 {
            say(
                label,
                vec![format!("signed {}", when(at_ms, now_ms))],
                false,
            );
        }
    }
    figures
}

/// A byte count for people: "812 B", "12.4 KiB", "3.1 MiB".
fn byte_size(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if f < KIB {
        format!("{n} B")
    } else if f < KIB * KIB {
        format!("{:.1} KiB", f / KIB)
    } else if f < KIB * KIB * KIB {
        format!("{:.1} MiB", f / KIB / KIB)
    } else {
        format!("{:.1} GiB", f / KIB / KIB / KIB)
    }
}

/// " (serial 4a1b…)", or nothing when unknown.
fn serial(serial: &str) -> String {
    if serial.is_empty() {
        String::new()
    } else {
        format!(" (serial {})", clean(serial))
    }
}

/// When a certificate expires, flagged when within the warning period:
/// "expires 2026-01-01 00:00:00 IST" or "EXPIRES IN 10 DAYS (2026-01-01 00:00:00 IST)".
pub fn expiry(not_after_ms: i64, now_ms: i64) -> String {
    let at = when(not_after_ms, 0);
    let left = not_after_ms.saturating_sub(now_ms);
    if not_after_ms <= now_ms {
        format!("EXPIRED ({at}); renew it with `setu-node pki renew`")
    } else if left >= EXPIRY_WARNING_DAYS * DAY_MS {
        format!("expires {at}")
    } else {
        let left = days_left(not_after_ms, now_ms);
        let left = if left.ends_with(" days") {
            left.to_uppercase()
        } else {
            left
        };
        format!("EXPIRES IN {left} ({at}); renew it with `setu-node pki renew`")
    }
}

/// "1 change", "12 changes".
fn changes(n: u64) -> String {
    if n == 1 {
        "1 change".to_string()
    } else {
        format!("{n} changes")
    }
}

/// An event as one or two card lines: its time, then what happened; `missing` when neither
/// is known.
fn timed(at_ms: i64, text: &str, now_ms: i64, missing: &str) -> Vec<String> {
    let mut lines = Vec::new();
    if at_ms != 0 {
        lines.push(when(at_ms, now_ms));
    }
    if !text.trim().is_empty() {
        lines.push(text.to_string());
    }
    if lines.is_empty() {
        lines.push(missing.to_string());
    }
    lines
}

/// Unix milliseconds as local `YYYY-MM-DD HH:MM:SS ZONE`, with "(5m 43s ago)" when recent.
pub fn when(ms: i64, now_ms: i64) -> String {
    let mut text = crate::when::seconds(ms);
    let age = now_ms.saturating_sub(ms);
    if now_ms > 0 && (0..RECENT_MS).contains(&age) {
        text.push_str(&format!(" ({} ago)", span(age)));
    }
    text
}

/// Per origin received through the peer, how many of its changes this node has not taken
/// yet ("jh-ranchi: 30 changes (peer has up to 50, applied 20)"), so an operator sees
/// where a change is stuck; "up to date" when nothing is behind, "not known yet" before
/// the peer's first batch.
pub(crate) fn behind_lines(lags: &[OriginLagView]) -> Vec<String> {
    if lags.is_empty() {
        return vec!["not known yet".to_string()];
    }
    let stuck: Vec<String> = lags
        .iter()
        .filter(|l| l.behind > 0)
        .map(|l| {
            format!(
                "{}: {} (peer has up to {}, applied {})",
                clean(&l.origin),
                changes(l.behind),
                l.peer_head,
                l.applied
            )
        })
        .collect();
    if stuck.is_empty() {
        vec![format!(
            "up to date on {}",
            match lags.len() {
                1 => "1 origin".to_string(),
                n => format!("{n} origins"),
            }
        )]
    } else {
        stuck
    }
}

/// "origin → seq (epoch 0x…)", origins padded into one column.
fn watermark_lines(watermarks: &[WatermarkView]) -> Vec<String> {
    let origins: Vec<String> = watermarks.iter().map(|w| clean(&w.origin)).collect();
    let width = origins.iter().map(|o| o.chars().count()).max().unwrap_or(0);
    watermarks
        .iter()
        .zip(origins)
        .map(|(w, origin)| {
            let pad = " ".repeat(width - origin.chars().count());
            format!("{origin}{pad} → {} (epoch {:#x})", w.seq, w.epoch)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::LinkBytesView;

    const NOW: i64 = 1_760_000_042_000;

    fn linked() -> PeerView {
        PeerView {
            district: "br-gaya".into(),
            address: "https://node.br-gaya.example:7443".into(),
            connected: true,
            last_contact_ms: NOW - 12_000,
            lag_in: 1,
            lag_out: 3,
            anti_entropy_at_ms: 1_760_000_000_000,
            anti_entropy_result: "in sync (2 origins compared)".into(),
            last_error: String::new(),
            last_error_at_ms: 0,
            watermarks: vec![
                WatermarkView {
                    origin: "br-gaya".into(),
                    epoch: 0x1a2b_3c4d_5e6f_7081,
                    seq: 1042,
                },
                WatermarkView {
                    origin: "jh-ranchi".into(),
                    epoch: 0xff,
                    seq: 7,
                },
            ],
            peer_cert_expires_at_ms: NOW + 365 * DAY_MS,
            peer_cert_serial: "4a1b".into(),
            origin_lags: vec![
                OriginLagView {
                    origin: "br-gaya".into(),
                    peer_head: 1042,
                    applied: 1042,
                    behind: 0,
                },
                OriginLagView {
                    origin: "jh-ranchi".into(),
                    peer_head: 37,
                    applied: 7,
                    behind: 30,
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn a_slow_flapping_link_says_so_with_its_traffic() {
        let slow = PeerView {
            slow_link: "slow link: 80000 changes behind at 1200 changes/s (about 300 KiB/s received); about 66 s to catch up".into(),
            link_bytes: vec![
                LinkBytesView {
                    class: "live".into(),
                    bytes_in: 2048,
                    bytes_out: 0,
                },
                LinkBytesView {
                    class: "catch-up".into(),
                    bytes_in: 5 * 1024 * 1024,
                    bytes_out: 0,
                },
                LinkBytesView {
                    class: "photos".into(),
                    bytes_in: 0,
                    bytes_out: 0,
                },
            ],
            reconnects_last_hour: 4,
            oldest_undelivered_change_ms: NOW - 5_000,
            ..linked()
        };
        let card = peer_card(&slow, NOW);
        assert!(
            card.contains("Slow link                  slow link: 80000 changes behind"),
            "{card}"
        );
        assert!(
            card.contains("Traffic                    live: 2.0 KiB in, 0 B out\n"),
            "{card}"
        );
        assert!(card.contains("catch-up: 5.0 MiB in, 0 B out\n"), "{card}");
        assert!(
            !card.contains("photos:"),
            "a class without traffic is left out: {card}"
        );
        assert!(
            card.contains("Connections                4 in the last hour"),
            "{card}"
        );
        assert!(
            card.contains("Oldest undelivered change  signed "),
            "{card}"
        );
        assert!(!card.contains("Oldest undelivered alert"), "{card}");
    }

    #[test]
    fn a_linked_peer_prints_as_a_card() {
        let list = PeerListView {
            district: "jh-dhanbad".into(),
            peers: vec![linked()],
            ..PeerListView::default()
        };
        assert_eq!(
            peers_report(&list, NOW),
            "district jh-dhanbad: 1 peer\n\
             \n\
             Peer          br-gaya\n\
             Address       https://node.br-gaya.example:7443\n\
             Connected     yes\n\
             Last contact  2025-10-09 08:53:50 UTC (12s ago)\n\
             Lag in        1 change\n\
             Lag out       3 changes\n\
             Anti-entropy  2025-10-09 08:53:20 UTC (42s ago)\n\
             \x20             in sync (2 origins compared)\n\
             Last error    none\n\
             Behind        jh-ranchi: 30 changes (peer has up to 37, applied 7)\n\
             Watermarks    br-gaya   → 1042 (epoch 0x1a2b3c4d5e6f7081)\n\
             \x20             jh-ranchi → 7 (epoch 0xff)\n\
             Certificate   expires 2026-10-09 08:54:02 UTC (serial 4a1b)\n"
        );
    }

    #[test]
    fn certificates_expiring_within_30_days_are_flagged() {
        let list = PeerListView {
            district: "jh-dhanbad".into(),
            peers: vec![PeerView {
                peer_cert_expires_at_ms: NOW + 9 * DAY_MS + 1000,
                ..linked()
            }],
            own_cert_expires_at_ms: NOW + 10 * DAY_MS + 1000,
            own_cert_serial: "5c2d".into(),
            known_districts: Vec::new(),
        };
        let text = peers_report(&list, NOW);
        assert!(
            text.starts_with(
                "district jh-dhanbad: 1 peer\n\
                 this node's certificate (serial 5c2d): EXPIRES IN 10 DAYS (2025-10-19 08:54:03 UTC); renew it with `setu-node pki renew`\n\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("Certificate   EXPIRES IN 9 DAYS (2025-10-18 08:54:03 UTC); renew it with `setu-node pki renew` (serial 4a1b)\n"),
            "{text}"
        );
        assert_eq!(
            expiry(NOW + 31 * DAY_MS, NOW),
            "expires 2025-11-09 08:54:02 UTC"
        );
        assert!(expiry(NOW + 5_000, NOW).starts_with("EXPIRES IN 5s "));
        assert!(expiry(NOW + DAY_MS + 3_600_000, NOW).starts_with("EXPIRES IN 1d 1h "));
        assert!(expiry(NOW + 10 * DAY_MS - 5_000, NOW).starts_with("EXPIRES IN 10 DAYS "));
        assert!(expiry(NOW - 1000, NOW).starts_with("EXPIRED"));
    }

    #[test]
    fn an_error_from_before_the_link_recovered_is_marked_as_history() {
        let recovered = PeerView {
            last_error: "could not connect: connection refused".into(),
            last_error_at_ms: NOW - 60_000,
            ..linked()
        };
        let list = PeerListView {
            district: "jh-dhanbad".into(),
            peers: vec![recovered.clone()],
            ..PeerListView::default()
        };
        let text = peers_report(&list, NOW);
        assert!(
            text.contains("could not connect: connection refused\n\x20             (the link has recovered since)\n"),
            "{text}"
        );
        // Still down: no such remark.
        let down = PeerView {
            connected: false,
            ..recovered
        };
        let list = PeerListView {
            district: "jh-dhanbad".into(),
            peers: vec![down],
            ..PeerListView::default()
        };
        assert!(!peers_report(&list, NOW).contains("recovered"));
    }

    #[test]
    fn a_peer_never_reached_says_so() {
        let never = PeerView {
            district: "wb-purulia".into(),
            address: "https://node.wb-purulia.example:7443".into(),
            last_error: "could not connect: connection refused".into(),
            last_error_at_ms: 1_700_000_000_000,
            ..PeerView::default()
        };
        let list = PeerListView {
            district: "jh-dhanbad".into(),
            peers: vec![linked(), never],
            ..PeerListView::default()
        };
        let text = peers_report(&list, NOW);
        assert!(text.starts_with("district jh-dhanbad: 2 peers\n"), "{text}");
        assert!(text.contains("Connected     no\n"), "{text}");
        assert!(text.contains("Last contact  never\n"), "{text}");
        assert!(text.contains("Lag in        0 changes\n"), "{text}");
        assert!(text.contains("Anti-entropy  not yet\n"), "{text}");
        assert!(
            text.contains(
                "Last error    2023-11-14 22:13:20 UTC\n\
                 \x20             could not connect: connection refused\n"
            ),
            "{text}"
        );
        assert!(text.contains("Watermarks    none\n"), "{text}");
        assert!(text.contains("Behind        not known yet\n"), "{text}");
        assert!(text.contains("Certificate   not seen yet\n"), "{text}");
    }

    #[test]
    fn a_peer_with_nothing_behind_says_up_to_date() {
        let caught_up = PeerView {
            origin_lags: vec![OriginLagView {
                origin: "br-gaya".into(),
                peer_head: 9,
                applied: 9,
                behind: 0,
            }],
            ..linked()
        };
        let list = PeerListView {
            district: "jh-dhanbad".into(),
            peers: vec![caught_up],
            ..PeerListView::default()
        };
        let text = peers_report(&list, NOW);
        assert!(
            text.contains("Behind        up to date on 1 origin\n"),
            "{text}"
        );
    }

    #[test]
    fn no_peers_and_hostile_text() {
        let empty = PeerListView {
            district: "jh-dhanbad".into(),
            peers: vec![],
            ..PeerListView::default()
        };
        assert_eq!(peers_report(&empty, NOW), "district jh-dhanbad: no peers\n");
        let hostile = PeerListView {
            district: "jh\u{1b}[2J".into(),
            peers: vec![PeerView {
                district: "br\u{7}".into(),
                last_error: "bad\u{1b}]0;title\u{7}".into(),
                watermarks: vec![WatermarkView {
                    origin: "x\u{1b}[31m".into(),
                    epoch: 1,
                    seq: 1,
                }],
                ..linked()
            }],
            ..PeerListView::default()
        };
        let text = peers_report(&hostile, NOW);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
        assert!(
            text.starts_with("district jh\\u{1b}[2J: 1 peer\n"),
            "{text}"
        );
        assert!(text.contains("bad\\u{1b}]0;title\\u{7}"), "{text}");
    }

    #[test]
    fn old_and_future_times_have_no_age() {
        assert_eq!(when(NOW - RECENT_MS, NOW), "2025-10-09 08:44:02 UTC");
        assert_eq!(when(NOW + 5_000, NOW), "2025-10-09 08:54:07 UTC");
        assert_eq!(when(NOW, NOW), "2025-10-09 08:54:02 UTC (0s ago)");
        assert_eq!(when(i64::MAX, NOW), format!("{} ms", i64::MAX));
    }
}
