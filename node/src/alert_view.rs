//! How an alert stands at a given moment: its current content after updates, whether it
//! is open, cancelled or expired, its acknowledgement deadline, and which target districts
//! have acknowledged or are overdue. Pure functions of the stored thread and a time, so
//! that deadlines are judged the same way by `Get`, `List` and `Watch`, and can be tested
//! with any clock.

use crate::storage::alerts::AlertThread;
use crate::validate::limits::{FLASH_ACK_MS, IMMEDIATE_ACK_MS};
use setu_proto::v1::{Alert, AlertKind, AlertPriority, AlertState, AlertView, TargetStatus};

/// The acknowledgement deadline of an alert of `priority` posted at `posted_at_ms` (0 when
/// the priority has none).
pub fn ack_deadline_ms(priority: i32, posted_at_ms: i64) -> i64 {
    match AlertPriority::try_from(priority) {
        Ok(AlertPriority::Flash) => posted_at_ms.saturating_add(FLASH_ACK_MS),
        Ok(AlertPriority::Immediate) => posted_at_ms.saturating_add(IMMEDIATE_ACK_MS),
        _ => 0,
    }
}

/// The parts of a thread that decide its state.
#[derive(Debug, Clone, Copy)]
pub struct Standing<'a> {
    /// The original alert (or, if it is missing here, the first message held).
    pub original: &'a Alert,
    /// The latest ALERT or UPDATE.
    pub current: &'a Alert,
    /// Whether a CANCEL is held.
    pub cancelled: bool,
    /// Open, cancelled or expired at the time asked about.
    pub state: AlertState,
}

/// Where a thread stands at `now_ms`; `None` for a thread with no messages.
pub fn standing(thread: &AlertThread, now_ms: i64) -> Option<Standing<'_>> {
    let original = thread
        .messages
        .iter()
        .find(|m| m.kind == AlertKind::Alert as i32)
        .or_else(|| thread.messages.first())?;
    let current = thread
        .messages
        .iter()
        .rev()
        .find(|m| m.kind != AlertKind::Cancel as i32)
        .unwrap_or(original);
    let cancelled = thread
        .messages
        .iter()
        .any(|m| m.kind == AlertKind::Cancel as i32);
    let state = if cancelled {
        AlertState::Cancelled
    } else if now_ms >= current.expires_at_ms {
        AlertState::Expired
    } else {
        AlertState::Open
    };
    Some(Standing {
        original,
        current,
        cancelled,
        state,
    })
}

/// The view of a thread at `now_ms`, as seen by the node of `own_district`.
pub fn view(thread: &AlertThread, own_district: &str, now_ms: i64) -> Option<AlertView> {
    let standing = standing(thread, now_ms)?;
    let deadline = ack_deadline_ms(standing.current.priority, standing.original.posted_at_ms);
    let targets = standing
        .original
        .targets
        .iter()
        .map(|district| {
            let ack = thread.acks.iter().find(|a| a.origin == *district).cloned();
            let overdue = ack.is_none()
                && standing.state == AlertState::Open
                && deadline != 0
                && now_ms > deadline;
            TargetStatus {
                district: district.clone(),
                ack,
                overdue,
                overdue_by_ms: if overdue { now_ms - deadline } else { 0 },
            }
        })
        .collect();
    Some(AlertView {
        alert: Some(standing.current.clone()),
        state: standing.state as i32,
        history: thread.messages.clone(),
        targets,
        ack_deadline_ms: deadline,
        as_of_ms: now_ms,
        all_acks_known: standing.original.origin == own_district,
    })
}

/// Whether any target of the view is overdue.
pub fn is_overdue(view: &AlertView) -> bool {
    view.targets.iter().any(|t| t.overdue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use setu_proto::v1::AlertAck;

    const POSTED: i64 = 1_800_000_000_000;
    const MINUTE: i64 = 60_000;

    fn alert(kind: AlertKind, id: &str, priority: AlertPriority, posted: i64) -> Alert {
        Alert {
            id: id.into(),
            origin: "jh-dhanbad".into(),
            kind: kind as i32,
            refers_to: if kind == AlertKind::Alert {
                String::new()
            } else {
                "a1".into()
            },
            priority: priority as i32,
            title: "ATM robbery".into(),
            targets: vec!["wb-asansol-durgapur".into(), "jh-bokaro".into()],
            expires_at_ms: POSTED + 120 * MINUTE,
            posted_at_ms: posted,
            ..Default::default()
        }
    }

    fn thread(messages: Vec<Alert>, acks: Vec<AlertAck>) -> AlertThread {
        AlertThread { messages, acks }
    }

    #[test]
    fn deadlines_follow_the_priority() {
        assert_eq!(
            ack_deadline_ms(AlertPriority::Flash as i32, POSTED),
            POSTED + 10 * MINUTE
        );
        assert_eq!(
            ack_deadline_ms(AlertPriority::Immediate as i32, POSTED),
            POSTED + 60 * MINUTE
        );
        assert_eq!(ack_deadline_ms(AlertPriority::Routine as i32, POSTED), 0);
    }

    #[test]
    fn a_target_without_an_ack_is_overdue_only_after_the_deadline() {
        let ack = AlertAck {
            origin: "jh-bokaro".into(),
            note: "nakabandi at the bridge".into(),
            ..Default::default()
        };
        let t = thread(
            vec![alert(AlertKind::Alert, "a1", AlertPriority::Flash, POSTED)],
            vec![ack],
        );
        let before = view(&t, "jh-dhanbad", POSTED + 9 * MINUTE).unwrap();
        assert!(before.targets.iter().all(|t| !t.overdue));
        let after = view(&t, "jh-dhanbad", POSTED + 13 * MINUTE).unwrap();
        let asansol = &after.targets[0];
        assert!(asansol.overdue);
        assert_eq!(asansol.overdue_by_ms, 3 * MINUTE);
        assert!(
            !after.targets[1].overdue,
            "an acknowledged target is never overdue"
        );
        assert!(is_overdue(&after));
        assert!(after.all_acks_known);
        assert!(!view(&t, "jh-bokaro", POSTED).unwrap().all_acks_known);
    }

    #[test]
    fn updates_supersede_and_cancels_and_expiry_close() {
        let mut update = alert(
            AlertKind::Update,
            "a2",
            AlertPriority::Routine,
            POSTED + MINUTE,
        );
        update.title = "ATM robbery: suspects seen at Barakar".into();
        let t = thread(
            vec![
                alert(AlertKind::Alert, "a1", AlertPriority::Flash, POSTED),
                update,
            ],
            vec![],
        );
        let v = view(&t, "jh-dhanbad", POSTED + 30 * MINUTE).unwrap();
        assert_eq!(
            v.alert.as_ref().unwrap().title,
            "ATM robbery: suspects seen at Barakar"
        );
        assert_eq!(v.state, AlertState::Open as i32);
        assert_eq!(v.ack_deadline_ms, 0, "downgraded to ROUTINE: no deadline");
        assert_eq!(
            view(&t, "jh-dhanbad", POSTED + 121 * MINUTE).unwrap().state,
            AlertState::Expired as i32
        );
        let mut cancelled = t.clone();
        cancelled.messages.push(alert(
            AlertKind::Cancel,
            "a3",
            AlertPriority::Flash,
            POSTED + 2 * MINUTE,
        ));
        let v = view(&cancelled, "jh-dhanbad", POSTED + 30 * MINUTE).unwrap();
        assert_eq!(v.state, AlertState::Cancelled as i32);
        assert!(v.targets.iter().all(|t| !t.overdue));
        assert_eq!(v.history.len(), 3);
    }
}
