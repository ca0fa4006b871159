//! The human output of the `setu alert` commands: the card of an alert as it stands (`alert
//! show`), the table of a page of alerts (`alert list`), and the card or line of each event
//! that `alert watch` streams.
//!
//! Lateness ("due in 5m", "OVERDUE by 12m") is the node's judgement at the node's time
//! (`as_of_ms`), so that an officer's wrong clock cannot hide an overdue acknowledgement.
//! Linked people are shown by name, status and warnings as the caller read them with the
//! officer's certificate ([`Linked`]), linked photos by the start of their hash.

use super::{clean, format_ms, shell_word, short_hash, shorten, table, Card};
use crate::view::{AlertAckView, AlertListView, AlertMessageView, AlertTargetView, AlertView};
use crate::when::span;
use crate::words::{word_or_dash, AlertKind, AlertPriority, AlertState};

/// The terminal's bell, rung before a FLASH alert.
const BELL: &str = "\x07";
/// Bold red, for FLASH.
const RED_BOLD: &str = "\x1b[1;31m";
/// Yellow, for IMMEDIATE.
const YELLOW: &str = "\x1b[33m";
/// Back to the terminal's normal style.
const RESET: &str = "\x1b[0m";

/// What an alert card shows beside the alert's own fields, fetched by the caller from the
/// node with the officer's certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Linked {
    /// One line per linked record, in the alert's order (see [`super::person_line`]); when
    /// `None` the card lists the bare ids.
    pub people: Option<Vec<String>>,
    /// The acknowledgement deadline and the node's time when it judged it (both Unix ms),
    /// from the node's view of the alert; `None` when unknown or for a routine alert.
    pub deadline: Option<(i64, i64)>,
}

/// The card `alert show` prints, with the linked records as ids (see
/// [`alert_card_with_people`]).
pub fn alert_card(v: &AlertView) -> String {
    alert_card_with_people(v, None)
}

/// The card `alert show` prints.
///
/// The content is the current one (after updates); origin, author and posting time are the
/// original post's. Each target district shows its acknowledgement or how late it is.
/// `people` are the lines of the linked records (see [`Linked::people`]).
pub fn alert_card_with_people(v: &AlertView, people: Option<&[String]>) -> String {
    let m = &v.alert;
    let original = v.original();
    let mut card = Card::default();
    card.always("Alert", v.alert_id());
    card.always("Priority", priority_text(m.priority, false));
    card.always("Category", word_or_dash(m.category));
    card.always("State", state_text(v.state));
    content(&mut card, m, people);
    card.always("Origin", &original.origin);
    card.always("Author", author(original));
    card.always("Posted", format_ms(original.posted_at_ms));
    card.always("Expires", expiry_text(m.expires_at_ms, v.as_of_ms));
    card.always("Ack deadline", deadline_text(v));
    card.list("History", v.history.iter().map(history_line));
    if v.targets.is_empty() {
        card.always("Targets", "none");
    } else {
        card.list("Targets", target_lines(v));
    }
    if !v.all_acks_known {
        card.always(
            "Note",
            format!(
                "this node knows only its own district's acknowledgement; \
                 acknowledgements of other districts are known at the origin ({})",
                clean(&original.origin)
            ),
        );
    }
    card.render()
}

/// The table `alert list` prints, newest first, with the command for the next page.
///
/// `repeat` is the command line that listed this page, without `--page-token`.
pub fn alert_table(page: &AlertListView, repeat: &str) -> String {
    if page.alerts.is_empty() {
        return "no alerts\n".to_string();
    }
    let rows: Vec<Vec<String>> = page
        .alerts
        .iter()
        .map(|v| {
            vec![
                clean(v.alert_id()),
                priority_text(v.alert.priority, false),
                word_or_dash(v.alert.category),
                state_text(v.state),
                shorten(&v.alert.title, 40),
                shorten(&v.original().origin, 24),
                format_ms(v.original().posted_at_ms),
                acks_cell(v),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "ID", "PRIORITY", "CATEGORY", "STATE", "TITLE", "ORIGIN", "POSTED", "ACKS",
        ],
        &rows,
    );
    if page.alerts.iter().any(|v| !v.all_acks_known) {
        out.push_str(
            "* this node knows only its own district's acknowledgements; \
             the origin knows all\n",
        );
    }
    if !page.next_page_token.is_empty() {
        out.push_str(&format!(
            "next page: {}\n",
            clean(&format!(
                "{repeat} --page-token {}",
                shell_word(&page.next_page_token)
            ))
        ));
    }
    out
}

/// The card of one alert message as `alert watch` prints it: a header line saying what
/// happened (ALERT, UPDATE of an alert, CANCEL of an alert), then the message's fields, with
/// the linked people and the acknowledgement deadline of `linked`.
///
/// On a `terminal` the priority is coloured (FLASH bold red, IMMEDIATE yellow) and a FLASH
/// alert or update rings the bell first.
pub fn message_card(m: &AlertMessageView, linked: &Linked, terminal: bool) -> String {
    let mut out = String::new();
    let kind = m.kind;
    if terminal && m.priority == Some(AlertPriority::Flash) && kind != Some(AlertKind::Cancel) {
        out.push_str(BELL);
    }
    let from = format!("from {}", clean(&m.origin));
    let header = match kind {
        Some(AlertKind::Cancel) => format!("CANCEL of alert {} — {from}", clean(&m.refers_to)),
        Some(AlertKind::Update) => format!(
            "{} UPDATE of alert {} — {}, {from}",
            priority_text(m.priority, terminal),
            clean(&m.refers_to),
            word_or_dash(m.category)
        ),
        _ => format!(
            "{} ALERT {} — {}, {from}",
            priority_text(m.priority, terminal),
            clean(&m.id),
            word_or_dash(m.category)
        ),
    };
    out.push_str(&header);
    out.push('\n');
    let mut card = Card::default();
    match kind {
        Some(AlertKind::Cancel) => {
            card.field("Title", &m.title);
            card.always("Reason", &m.reason);
        }
        Some(AlertKind::Update) => {
            card.field("Reason", &m.reason);
            content(&mut card, m, linked.people.as_deref());
            card.always("Expires", format_ms(m.expires_at_ms));
        }
        _ => {
            content(&mut card, m, linked.people.as_deref());
            card.list("Targets", &m.targets);
            card.always("Expires", format_ms(m.expires_at_ms));
        }
    }
    if kind != Some(AlertKind::Cancel) {
        if let Some((deadline, as_of)) = linked.deadline {
            card.always("Ack deadline", countdown(deadline, as_of));
        }
    }
    card.always("By", author(m));
    card.always("Posted", format_ms(m.posted_at_ms));
    if kind != Some(AlertKind::Alert) {
        card.always("Message", &m.id);
    }
    out.push_str(&card.render());
    out
}

/// What `alert watch` prints when a FLASH alert passes its acknowledgement deadline without
/// an acknowledgement from `district`: an OVERDUE banner (bold red and the bell on a
/// `terminal`) saying by how much, then the alert's card again as it stands.
pub fn overdue_card(v: &AlertView, district: &str, linked: &Linked, terminal: bool) -> String {
    let late_by = v
        .targets
        .iter()
        .find(|t| t.district == district)
        .map_or(v.as_of_ms - v.ack_deadline_ms, |t| t.overdue_by_ms);
    let mut out = String::new();
    if terminal {
        out.push_str(BELL);
    }
    let banner = if terminal {
        format!("{RED_BOLD}OVERDUE{RESET}")
    } else {
        "OVERDUE".to_string()
    };
    out.push_str(&format!(
        "{banner}: {} ALERT {} is not acknowledged by {}; the deadline {} passed {} ago\n",
        priority_text(v.alert.priority, false),
        clean(v.alert_id()),
        clean(district),
        format_ms(v.ack_deadline_ms),
        span(late_by.max(0))
    ));
    // The alert as it stands now, under its own id, whatever update carried the content.
    let mut current = v.alert.clone();
    current.id = v.alert_id().to_string();
    current.refers_to.clear();
    current.kind = Some(AlertKind::Alert);
    current.reason.clear();
    let card = message_card(&current, linked, terminal);
    out.push_str(card.trim_start_matches(BELL));
    out
}

/// The line `alert watch` prints for an acknowledgement, e.g. `ACK wb-asansol-durgapur
/// acknowledged "Pickup after ATM robbery" — WB-2001 Test Officer: nakabandi at the bridge`.
///
/// `title` is the alert's title when the watch has seen the alert, else the alert's id is
/// named instead.
pub fn ack_line(ack: &AlertAckView, title: Option<&str>) -> String {
    let what = match title {
        Some(title) if !title.trim().is_empty() => format!("\"{}\"", clean(title)),
        _ => format!("alert {}", clean(&ack.alert_id)),
    };
    let mut line = format!(
        "ACK {} acknowledged {what} — {}",
        clean(&ack.origin),
        clean(&officer(&ack.officer_badge, &ack.officer_name))
    );
    if !ack.note.trim().is_empty() {
        line.push_str(&format!(": {}", clean(&ack.note)));
    }
    line.push('\n');
    line
}

/// The message's content fields, shared by `alert show` and `alert watch`: the linked
/// records as `people` lines when the caller read them, else as ids; photos by the start of
/// their hash.
fn content(card: &mut Card, m: &AlertMessageView, people: Option<&[String]>) {
    card.always("Title", &m.title);
    if m.body.trim().is_empty() {
        card.always("Body", "");
    } else {
        card.list("Body", m.body.lines());
    }
    card.field("Incident", incident_text(m));
    match people {
        Some(people) => card.list("People", people),
        None => card.list("Records", &m.record_ids),
    }
    card.list("Vehicles", &m.vehicles);
    card.list("Phones", &m.phones);
    card.list(
        "Photos",
        m.photos.iter().map(|p| format!("photo {}", short_hash(p))),
    );
    card.field(
        "Warnings",
        m.warnings
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    );
    card.field("Action", &m.action_requested);
}

/// The priority in capitals, coloured on a terminal; "-" when unspecified.
fn priority_text(priority: Option<AlertPriority>, color: bool) -> String {
    let Some(priority) = priority else {
        return "-".to_string();
    };
    let word = priority.word().to_uppercase();
    match (color, priority) {
        (true, AlertPriority::Flash) => format!("{RED_BOLD}{word}{RESET}"),
        (true, AlertPriority::Immediate) => format!("{YELLOW}{word}{RESET}"),
        _ => word,
    }
}

/// The state in capitals, e.g. "OPEN"; "-" when unspecified.
fn state_text(state: Option<AlertState>) -> String {
    state.map_or_else(|| "-".to_string(), |s| s.word().to_uppercase())
}

/// "2025-10-09 08:10 UTC at Hirapur", or whichever part is known.
fn incident_text(m: &AlertMessageView) -> String {
    let place = m.incident_place.trim();
    match (m.incident_at_ms, place.is_empty()) {
        (0, _) => place.to_string(),
        (at, true) => format_ms(at),
        (at, false) => format!("{} at {place}", format_ms(at)),
    }
}

/// A badge and a name, whichever are known, e.g. "WB-2001 Test Officer".
fn officer(badge: &str, name: &str) -> String {
    let parts: Vec<&str> = [badge.trim(), name.trim()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        "unknown officer".to_string()
    } else {
        parts.join(" ")
    }
}

/// The poster, e.g. "JH-1234 Test Officer (liaison)".
fn author(m: &AlertMessageView) -> String {
    let who = officer(&m.author_badge, &m.author_name);
    if m.author_role.trim().is_empty() {
        who
    } else {
        format!("{who} ({})", m.author_role.trim())
    }
}

/// The expiry time, and how far away it is at the node's time.
fn expiry_text(expires_at_ms: i64, as_of_ms: i64) -> String {
    if expires_at_ms == 0 || as_of_ms == 0 {
        return format_ms(expires_at_ms);
    }
    let left = expires_at_ms - as_of_ms;
    if left > 0 {
        format!("{} (in {})", format_ms(expires_at_ms), span(left))
    } else {
        format!("{} ({} ago)", format_ms(expires_at_ms), span(left))
    }
}

/// The acknowledgement deadline, "none" for a routine alert; how far away it is only while
/// the alert is open, as nothing is due once it is cancelled or expired.
fn deadline_text(v: &AlertView) -> String {
    if v.ack_deadline_ms == 0 {
        return "none (routine alerts need no acknowledgement by a deadline)".to_string();
    }
    if v.state == Some(AlertState::Open) {
        countdown(v.ack_deadline_ms, v.as_of_ms)
    } else {
        format_ms(v.ack_deadline_ms)
    }
}

/// A deadline in local time and as a countdown at the node's time `as_of_ms`: "2025-10-09
/// 09:03 UTC (in 4m 30s)", or "(passed 2m ago)" once it has gone by.
fn countdown(deadline_ms: i64, as_of_ms: i64) -> String {
    if as_of_ms == 0 {
        return format_ms(deadline_ms);
    }
    let left = deadline_ms - as_of_ms;
    if left > 0 {
        format!("{} (in {})", format_ms(deadline_ms), span(left))
    } else {
        format!("{} (passed {} ago)", format_ms(deadline_ms), span(left))
    }
}

/// One line of history, e.g. "2025-10-09 09:00 UTC  UPDATE by JH-1234 Test Officer: moved".
fn history_line(m: &AlertMessageView) -> String {
    let what = match m.kind {
        Some(AlertKind::Alert) => "ALERT posted",
        Some(AlertKind::Update) => "UPDATE",
        Some(AlertKind::Cancel) => "CANCEL",
        None => "message",
    };
    let mut line = format!(
        "{}  {what} by {}",
        format_ms(m.posted_at_ms),
        officer(&m.author_badge, &m.author_name)
    );
    if !m.reason.trim().is_empty() {
        line.push_str(&format!(": {}", m.reason.trim()));
    }
    line
}

/// One line per target district: acknowledged (when, by whom, the note), awaiting (due
/// when) or overdue (by how much), districts padded into one column.
fn target_lines(v: &AlertView) -> Vec<String> {
    let names: Vec<String> = v.targets.iter().map(|t| clean(&t.district)).collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    v.targets
        .iter()
        .zip(names)
        .map(|(t, name)| {
            let pad = " ".repeat(width - name.chars().count());
            format!("{name}{pad}  {}", target_text(v, t))
        })
        .collect()
}

/// Where one target district stands on the alert.
fn target_text(v: &AlertView, t: &AlertTargetView) -> String {
    if let Some(ack) = &t.ack {
        let mut text = format!(
            "acknowledged {} by {}",
            format_ms(ack.acked_at_ms),
            officer(&ack.officer_badge, &ack.officer_name)
        );
        if !ack.note.trim().is_empty() {
            text.push_str(&format!(": {}", ack.note.trim()));
        }
        return text;
    }
    if t.overdue {
        return format!("OVERDUE by {}", span(t.overdue_by_ms));
    }
    if v.state != Some(AlertState::Open) {
        return "not acknowledged".to_string();
    }
    if v.ack_deadline_ms == 0 {
        return "awaiting (no deadline)".to_string();
    }
    let left = v.ack_deadline_ms - v.as_of_ms;
    if left > 0 {
        format!("awaiting, due in {}", span(left))
    } else {
        "awaiting".to_string()
    }
}

/// "1/2" acknowledged, "OVERDUE 1/2" when any target is overdue, "-" without targets; a
/// "*" marks a count that only knows this node's own district. While an open alert still
/// awaits an acknowledgement before its deadline, the countdown follows: "1/2, due in 4m".
fn acks_cell(v: &AlertView) -> String {
    if v.targets.is_empty() {
        return "-".to_string();
    }
    let acked = v.targets.iter().filter(|t| t.ack.is_some()).count();
    let mut cell = format!("{acked}/{}", v.targets.len());
    let overdue = v.targets.iter().any(|t| t.overdue);
    if overdue {
        cell = format!("OVERDUE {cell}");
    }
    if !v.all_acks_known {
        cell.push('*');
    }
    let left = v.ack_deadline_ms - v.as_of_ms;
    let awaiting = v.targets.iter().any(|t| t.ack.is_none());
    if !overdue
        && awaiting
        && v.state == Some(AlertState::Open)
        && v.ack_deadline_ms != 0
        && v.as_of_ms != 0
        && left > 0
    {
        cell.push_str(&format!(", due in {}", span(left)));
    }
    cell
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::{AlertCategory, Warning};

    /// 2025-10-09 08:53:20 UTC.
    const POSTED: i64 = 1_760_000_000_000;
    const MINUTE: i64 = 60_000;

    fn original() -> AlertMessageView {
        AlertMessageView {
            id: "0190a1b2-0000-7000-8000-0000000000a1".into(),
            origin: "jh-dhanbad".into(),
            kind: Some(AlertKind::Alert),
            priority: Some(AlertPriority::Flash),
            category: Some(AlertCategory::Robbery),
            title: "Cash van robbed at Test Nagar".into(),
            body: "Four men on two motorcycles.\nHeaded east on NH-19.".into(),
            incident_at_ms: POSTED - 20 * MINUTE,
            incident_place: "Test Nagar, near the fictional bank".into(),
            record_ids: vec!["0190a1b2-0000-7000-8000-000000000001".into()],
            vehicles: vec!["JH 99 ZZ 0001".into()],
            phones: vec!["+91 90000 00001".into()],
            warnings: vec![Warning::Armed],
            action_requested: "stop and detain".into(),
            targets: vec!["wb-asansol-durgapur".into(), "br-gaya".into()],
            expires_at_ms: POSTED + 120 * MINUTE,
            author_badge: "JH-1234".into(),
            author_name: "Test Liaison".into(),
            author_role: "liaison".into(),
            posted_at_ms: POSTED,
            ..Default::default()
        }
    }

    fn view() -> AlertView {
        let mut update = original();
        update.id = "0190a1b2-0000-7000-8000-0000000000b2".into();
        update.kind = Some(AlertKind::Update);
        update.refers_to = original().id;
        update.title = "Cash van robbed at Test Nagar (two suspects)".into();
        update.posted_at_ms = POSTED + 3 * MINUTE;
        update.reason = "two of them identified".into();
        AlertView {
            alert: update.clone(),
            state: Some(AlertState::Open),
            history: vec![original(), update],
            targets: vec![
                AlertTargetView {
                    district: "wb-asansol-durgapur".into(),
                    ack: Some(AlertAckView {
                        alert_id: original().id,
                        origin: "wb-asansol-durgapur".into(),
                        officer_badge: "WB-2001".into(),
                        officer_name: "Test Receiver".into(),
                        note: "nakabandi at the test bridge".into(),
                        acked_at_ms: POSTED + 4 * MINUTE,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                AlertTargetView {
                    district: "br-gaya".into(),
                    ..Default::default()
                },
            ],
            ack_deadline_ms: POSTED + 10 * MINUTE,
            as_of_ms: POSTED + 5 * MINUTE + 30_000,
            all_acks_known: true,
        }
    }

    #[test]
    fn the_card_shows_content_history_and_every_target() {
        let text = alert_card(&view());
        for line in [
            "Alert         0190a1b2-0000-7000-8000-0000000000a1",
            "Priority      FLASH",
            "Category      robbery",
            "State         OPEN",
            "Title         Cash van robbed at Test Nagar (two suspects)",
            "Body          Four men on two motorcycles.",
            "              Headed east on NH-19.",
            "Incident      2025-10-09 08:33 UTC at Test Nagar, near the fictional bank",
            "Warnings      armed",
            "Action        stop and detain",
            "Origin        jh-dhanbad",
            "Author        JH-1234 Test Liaison (liaison)",
            "Posted        2025-10-09 08:53 UTC",
            "Expires       2025-10-09 10:53 UTC (in 1h 54m)",
            "Ack deadline  2025-10-09 09:03 UTC (in 4m 30s)",
            "History       2025-10-09 08:53 UTC  ALERT posted by JH-1234 Test Liaison",
            "              2025-10-09 08:56 UTC  UPDATE by JH-1234 Test Liaison: two of them identified",
            "Targets       wb-asansol-durgapur  acknowledged 2025-10-09 08:57 UTC by WB-2001 Test Receiver: nakabandi at the test bridge",
            "              br-gaya              awaiting, due in 4m 30s",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        }
        assert!(!text.contains("Note"), "{text}");
    }

    #[test]
    fn overdue_cancelled_and_receiving_node_cards() {
        let mut v = view();
        v.targets[1].overdue = true;
        v.targets[1].overdue_by_ms = 12 * MINUTE;
        v.all_acks_known = false;
        let text = alert_card(&v);
        assert!(
            text.contains("br-gaya              OVERDUE by 12m"),
            "{text}"
        );
        assert!(
            text.contains(
                "acknowledgements of other districts are known at the origin (jh-dhanbad)"
            ),
            "{text}"
        );
        v.state = Some(AlertState::Cancelled);
        v.targets[1].overdue = false;
        let text = alert_card(&v);
        assert!(text.contains("State         CANCELLED"), "{text}");
        assert!(
            text.contains("Ack deadline  2025-10-09 09:03 UTC\n"),
            "{text}"
        );
        assert!(
            text.contains("br-gaya              not acknowledged"),
            "{text}"
        );
    }

    #[test]
    fn the_table_counts_acks_and_says_how_to_page() {
        let mut late = view();
        late.targets[1].overdue = true;
        let mut routine = view();
        routine.alert.priority = Some(AlertPriority::Routine);
        routine.all_acks_known = false;
        routine.ack_deadline_ms = 0;
        let page = AlertListView {
            alerts: vec![view(), late, routine],
            next_page_token: "t 1".into(),
        };
        let text = alert_table(&page, "setu alert list --open");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("ID"), "{text}");
        assert!(lines[0].ends_with("ACKS"), "{text}");
        assert!(lines[1].contains("FLASH"), "{text}");
        assert!(lines[1].contains("2025-10-09 08:53 UTC"), "{text}");
        assert!(lines[1].ends_with(" 1/2, due in 4m 30s"), "{text}");
        assert!(lines[2].ends_with(" OVERDUE 1/2"), "{text}");
        assert!(lines[3].contains("ROUTINE"), "{text}");
        assert!(lines[3].ends_with(" 1/2*"), "no deadline: {text}");
        assert!(lines[4].starts_with("* this node knows only"), "{text}");
        assert_eq!(
            lines[5],
            "next page: setu alert list --open --page-token 't 1'"
        );
        assert_eq!(alert_table(&AlertListView::default(), "x"), "no alerts\n");
    }

    #[test]
    fn watch_cards_colour_only_on_a_terminal() {
        let plain = message_card(&original(), &Linked::default(), false);
        assert!(
            plain.starts_with(
                "FLASH ALERT 0190a1b2-0000-7000-8000-0000000000a1 — robbery, from jh-dhanbad\n"
            ),
            "{plain}"
        );
        assert!(
            !plain.contains('\x1b') && !plain.contains('\x07'),
            "{plain}"
        );
        assert!(plain.contains("Targets   wb-asansol-durgapur\n"), "{plain}");
        let coloured = message_card(&original(), &Linked::default(), true);
        assert!(
            coloured.starts_with("\x07\x1b[1;31mFLASH\x1b[0m ALERT"),
            "{coloured:?}"
        );
        let mut immediate = original();
        immediate.priority = Some(AlertPriority::Immediate);
        let text = message_card(&immediate, &Linked::default(), true);
        assert!(
            text.starts_with("\x1b[33mIMMEDIATE\x1b[0m ALERT"),
            "{text:?}"
        );
        immediate.priority = Some(AlertPriority::Routine);
        let text = message_card(&immediate, &Linked::default(), true);
        assert!(text.starts_with("ROUTINE ALERT"), "{text:?}");
    }

    #[test]
    fn watch_cards_of_updates_and_cancels_name_the_alert() {
        let v = view();
        let text = message_card(&v.alert, &Linked::default(), false);
        assert!(
            text.starts_with(
                "FLASH UPDATE of alert 0190a1b2-0000-7000-8000-0000000000a1 — robbery"
            ),
            "{text}"
        );
        assert!(text.contains("Reason    two of them identified"), "{text}");
        assert!(
            text.contains("Message   0190a1b2-0000-7000-8000-0000000000b2"),
            "{text}"
        );
        let cancel = AlertMessageView {
            id: "c".into(),
            origin: "jh-dhanbad".into(),
            kind: Some(AlertKind::Cancel),
            refers_to: "a\u{1b}[2J".into(),
            priority: Some(AlertPriority::Flash),
            reason: "suspects arrested".into(),
            ..Default::default()
        };
        let text = message_card(&cancel, &Linked::default(), true);
        assert!(
            text.starts_with("CANCEL of alert a\\u{1b}[2J — from jh-dhanbad\n"),
            "{text:?}"
        );
        assert!(text.contains("Reason   suspects arrested"), "{text}");
    }

    #[test]
    fn ack_lines_name_the_alert_by_title_or_id() {
        let ack = view().targets[0].ack.clone().unwrap_or_default();
        assert_eq!(
            ack_line(&ack, Some("Cash van robbed")),
            "ACK wb-asansol-durgapur acknowledged \"Cash van robbed\" — \
             WB-2001 Test Receiver: nakabandi at the test bridge\n"
        );
        let bare = AlertAckView {
            note: String::new(),
            ..ack
        };
        assert_eq!(
            ack_line(&bare, None),
            "ACK wb-asansol-durgapur acknowledged alert 0190a1b2-0000-7000-8000-0000000000a1 \
             — WB-2001 Test Receiver\n"
        );
    }

    #[test]
    fn cards_name_people_photos_and_the_deadline() {
        let mut m = original();
        m.photos = vec!["3fa2c9d1e0b4".to_string() + &"0".repeat(52)];
        let people = vec![
            "Test Imaginary Mahto (wanted; armed) 0190a1b2-0000-7000-8000-000000000001".into(),
            "0190a1b2… (not available here)".into(),
        ];
        let linked = Linked {
            people: Some(people.clone()),
            deadline: Some((POSTED + 10 * MINUTE, POSTED + 30_000)),
        };
        let text = message_card(&m, &linked, false);
        for line in [
            "People        Test Imaginary Mahto (wanted; armed) 0190a1b2-0000-7000-8000-000000000001",
            "              0190a1b2… (not available here)",
            "Photos        photo 3fa2c9d1e0b4",
            "Ack deadline  2025-10-09 09:03 UTC (in 9m 30s)",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        }
        assert!(!text.contains("Records"), "{text}");
        let mut v = view();
        v.alert.photos = m.photos.clone();
        let card = alert_card_with_people(&v, Some(&people));
        assert!(
            card.contains("People        Test Imaginary Mahto"),
            "{card}"
        );
        assert!(
            card.contains("Photos        photo 3fa2c9d1e0b4\n"),
            "{card}"
        );
        let bare = alert_card(&v);
        assert!(
            bare.contains("Records       0190a1b2-0000-7000-8000-000000000001"),
            "{bare}"
        );
    }

    #[test]
    fn the_overdue_card_has_a_banner_and_rings_once_on_a_terminal() {
        let mut v = view();
        v.as_of_ms = POSTED + 12 * MINUTE;
        v.targets[1].overdue = true;
        v.targets[1].overdue_by_ms = 2 * MINUTE;
        let linked = Linked {
            people: None,
            deadline: Some((v.ack_deadline_ms, v.as_of_ms)),
        };
        let plain = overdue_card(&v, "br-gaya", &linked, false);
        let first = plain.lines().next().unwrap_or_default();
        assert_eq!(
            first,
            "OVERDUE: FLASH ALERT 0190a1b2-0000-7000-8000-0000000000a1 is not acknowledged by \
             br-gaya; the deadline 2025-10-09 09:03 UTC passed 2m ago"
        );
        assert!(
            plain.contains("\nFLASH ALERT 0190a1b2-0000-7000-8000-0000000000a1 — robbery"),
            "the card again, under the alert's own id: {plain}"
        );
        assert!(
            plain.contains("Ack deadline  2025-10-09 09:03 UTC (passed 2m ago)"),
            "{plain}"
        );
        assert!(
            !plain.contains('\x07') && !plain.contains('\x1b'),
            "{plain:?}"
        );
        let loud = overdue_card(&v, "br-gaya", &linked, true);
        assert!(
            loud.starts_with("\x07\x1b[1;31mOVERDUE\x1b[0m: FLASH ALERT"),
            "{loud:?}"
        );
        assert_eq!(loud.matches('\x07').count(), 1, "one bell: {loud:?}");
    }

    #[test]
    fn spans_use_their_two_largest_units() {
        assert_eq!(span(0), "0s");
        assert_eq!(span(45_000), "45s");
        assert_eq!(span(5 * MINUTE), "5m");
        assert_eq!(span(5 * MINUTE + 30_000), "5m 30s");
        assert_eq!(span(65 * MINUTE), "1h 5m");
        assert_eq!(span(51 * 60 * MINUTE), "2d 3h");
        assert_eq!(span(-90_000), "1m 30s");
    }
}
