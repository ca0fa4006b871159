//! The re-ring timer of `setu alert watch`: which FLASH alerts this district still owes an
//! acknowledgement, and when each one's deadline falls.
//!
//! Deadlines are the node's: each is taken from the node's view of the alert
//! (`AlertService/Get`: the deadline and the node's time when it judged it), turned into a
//! wait on this machine's monotonic clock, and confirmed with the node again when the wait
//! is over, so that neither the officer's wrong clock nor an acknowledgement the watch has
//! not seen yet makes it ring wrongly. An alert is rung once; one that is acknowledged by
//! this district, cancelled or expired is never rung. This module only keeps the books; the
//! watch loop makes the calls and prints.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::time::Instant;

use crate::view::{AlertAckView, AlertView};
use crate::words::{AlertPriority, AlertState};

/// How long after the node's deadline the watch asks again, so that the node's clock has
/// passed it too when the question arrives.
const SLACK: Duration = Duration::from_millis(250);

/// How many rung alerts are remembered (each is rung once); past that the memory starts
/// afresh, which at worst rings a very old alert a second time after a reconnection.
const RUNG_KEPT: usize = 10_000;

/// What the node's view of an alert means for the re-ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Overdue for this district now: ring.
    Ring,
    /// Not yet due: ask again after this long.
    Later(Duration),
    /// Nothing will ever be due: not FLASH, not for this district, acknowledged, cancelled,
    /// expired, or rung already.
    Never,
}

/// The FLASH alerts awaiting this district's acknowledgement, each with the moment to ask
/// the node about it again.
#[derive(Debug, Default)]
pub(crate) struct Reminders {
    /// This officer's district, from the certificate; empty when unknown (nothing rings).
    district: String,
    /// When to ask again, by alert id.
    pending: HashMap<String, Instant>,
    /// Alerts already rung.
    rung: HashSet<String>,
}

impl Reminders {
    /// Reminders for the officers of `district`.
    pub(crate) fn new(district: &str) -> Self {
        Reminders {
            district: district.to_string(),
            ..Reminders::default()
        }
    }

    /// The district whose acknowledgements the watch waits for.
    pub(crate) fn district(&self) -> &str {
        &self.district
    }

    /// What the node's view `v` of an alert means for this district.
    pub(crate) fn verdict(&self, v: &AlertView) -> Verdict {
        let id = v.alert_id();
        if self.district.is_empty()
            || self.rung.contains(id)
            || v.state != Some(AlertState::Open)
            || v.alert.priority != Some(AlertPriority::Flash)
            || v.ack_deadline_ms == 0
        {
            return Verdict::Never;
        }
        let Some(target) = v.targets.iter().find(|t| t.district == self.district) else {
            return Verdict::Never;
        };
        if target.ack.is_some() {
            return Verdict::Never;
        }
        if target.overdue {
            return Verdict::Ring;
        }
        let left = u64::try_from(v.ack_deadline_ms.saturating_sub(v.as_of_ms)).unwrap_or(0);
        Verdict::Later(Duration::from_millis(left) + SLACK)
    }

    /// Notes the node's view of an alert at `now`: due at once, due later, or forgotten.
    pub(crate) fn note(&mut self, v: &AlertView, now: Instant) {
        let id = v.alert_id().to_string();
        match self.verdict(v) {
            Verdict::Ring => {
                self.pending.insert(id, now);
            }
            Verdict::Later(wait) => {
                self.pending.insert(id, now + wait);
            }
            Verdict::Never => {
                self.pending.remove(&id);
            }
        }
    }

    /// Asks about `alert_id` again at `at` (after a failed question).
    pub(crate) fn retry(&mut self, alert_id: &str, at: Instant) {
        self.pending.insert(alert_id.to_string(), at);
    }

    /// Forgets an alert that was cancelled.
    pub(crate) fn cancelled(&mut self, alert_id: &str) {
        self.pending.remove(alert_id);
    }

    /// Forgets an alert once this district has acknowledged it.
    pub(crate) fn acknowledged(&mut self, ack: &AlertAckView) {
        if ack.origin == self.district {
            self.pending.remove(&ack.alert_id);
        }
    }

    /// Remembers that an alert was rung, so that it never rings again.
    pub(crate) fn rang(&mut self, alert_id: &str) {
        if self.rung.len() >= RUNG_KEPT {
            self.rung.clear();
        }
        self.rung.insert(alert_id.to_string());
        self.pending.remove(alert_id);
    }

    /// The next moment an alert is due to be asked about again.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.pending.values().min().copied()
    }

    /// Takes the alerts due at `now` out of the books, earliest first.
    pub(crate) fn take_due(&mut self, now: Instant) -> Vec<String> {
        let mut due: Vec<(Instant, String)> = self
            .pending
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(id, at)| (*at, id.clone()))
            .collect();
        due.sort();
        for (_, id) in &due {
            self.pending.remove(id);
        }
        due.into_iter().map(|(_, id)| id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{AlertMessageView, AlertTargetView};
    use crate::words::AlertKind;

    const HERE: &str = "wb-asansol-durgapur";
    const POSTED: i64 = 1_760_000_000_000;
    const MINUTE: i64 = 60_000;

    /// An open FLASH alert for this district, seen `minutes` after it was posted.
    fn flash(minutes: i64) -> AlertView {
        AlertView {
            alert: AlertMessageView {
                id: "a1".into(),
                kind: Some(AlertKind::Alert),
                priority: Some(AlertPriority::Flash),
                origin: "jh-dhanbad".into(),
                ..Default::default()
            },
            state: Some(AlertState::Open),
            targets: vec![AlertTargetView {
                district: HERE.into(),
                overdue: minutes >= 10,
                overdue_by_ms: (minutes - 10).max(0) * MINUTE,
                ..Default::default()
            }],
            ack_deadline_ms: POSTED + 10 * MINUTE,
            as_of_ms: POSTED + minutes * MINUTE,
            ..Default::default()
        }
    }

    #[test]
    fn a_flash_alert_is_due_at_the_nodes_deadline() {
        let mut books = Reminders::new(HERE);
        let now = Instant::now();
        books.note(&flash(4), now);
        assert_eq!(
            books.next_due(),
            Some(now + Duration::from_millis(6 * 60_000) + SLACK)
        );
        assert!(books.take_due(now).is_empty());
        assert_eq!(books.verdict(&flash(11)), Verdict::Ring);
        let late = now + Duration::from_secs(7 * 60);
        assert_eq!(books.take_due(late), vec!["a1".to_string()]);
        assert_eq!(books.next_due(), None, "taken out of the books");
        books.rang("a1");
        assert_eq!(books.verdict(&flash(12)), Verdict::Never, "rung once only");
    }

    #[test]
    fn acknowledged_cancelled_expired_and_other_alerts_never_ring() {
        let books = Reminders::new(HERE);
        let mut acked = flash(11);
        acked.targets[0].ack = Some(AlertAckView::default());
        assert_eq!(books.verdict(&acked), Verdict::Never);
        for state in [AlertState::Cancelled, AlertState::Expired] {
            let mut closed = flash(11);
            closed.state = Some(state);
            assert_eq!(books.verdict(&closed), Verdict::Never, "{state:?}");
        }
        let mut immediate = flash(11);
        immediate.alert.priority = Some(AlertPriority::Immediate);
        assert_eq!(books.verdict(&immediate), Verdict::Never);
        let mut elsewhere = flash(11);
        elsewhere.targets[0].district = "br-gaya".into();
        assert_eq!(books.verdict(&elsewhere), Verdict::Never);
        assert_eq!(Reminders::new("").verdict(&flash(11)), Verdict::Never);
    }

    #[test]
    fn an_acknowledgement_or_cancel_seen_on_the_stream_stops_the_timer() {
        let mut books = Reminders::new(HERE);
        let now = Instant::now();
        books.note(&flash(1), now);
        books.acknowledged(&AlertAckView {
            alert_id: "a1".into(),
            origin: "br-gaya".into(),
            ..Default::default()
        });
        assert!(books.next_due().is_some(), "another district's ack");
        books.acknowledged(&AlertAckView {
            alert_id: "a1".into(),
            origin: HERE.into(),
            ..Default::default()
        });
        assert_eq!(books.next_due(), None);
        books.note(&flash(1), now);
        books.cancelled("a1");
        assert_eq!(books.next_due(), None);
    }
}
