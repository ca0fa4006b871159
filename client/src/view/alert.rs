//! The JSON views of cross-border alerts: one alert message (an ALERT, UPDATE or CANCEL), an
//! acknowledgement, an alert as it stands with its targets, a page of alerts and one event
//! of `alert watch`.
//!
//! They exist because the generated types carry enum numbers and no serde support; here enums
//! are the lower-case words of [`crate::words`] (`null` when unspecified) and times are Unix
//! milliseconds (0 when unknown), like every other `--json` output.

use serde::{Deserialize, Serialize};
use setu_proto::v1 as pb;

use crate::words::{AlertCategory, AlertKind, AlertPriority, AlertState, Warning};

/// One alert message as posted: a new alert, an update or a cancellation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertMessageView {
    /// This message's own id.
    pub id: String,
    /// The posting district.
    pub origin: String,
    /// `alert`, `update` or `cancel`.
    pub kind: Option<AlertKind>,
    /// For an update or a cancellation: the id of the alert it changes.
    pub refers_to: String,
    /// How urgent the alert is.
    pub priority: Option<AlertPriority>,
    /// What the alert is about.
    pub category: Option<AlertCategory>,
    /// One line saying what happened.
    pub title: String,
    /// The details.
    pub body: String,
    /// When the incident happened; 0 when unknown.
    pub incident_at_ms: i64,
    /// Where the incident happened.
    pub incident_place: String,
    /// The person records the alert concerns.
    pub record_ids: Vec<String>,
    /// Vehicle registrations to look out for.
    pub vehicles: Vec<String>,
    /// Phone numbers concerned.
    pub phones: Vec<String>,
    /// SHA-256 of photos held by the posting node.
    pub photos: Vec<String>,
    /// Cautions for officers.
    pub warnings: Vec<Warning>,
    /// What the receiving districts are asked to do.
    pub action_requested: String,
    /// The districts the alert is for.
    pub targets: Vec<String>,
    /// When the alert stops streaming and lists as expired.
    pub expires_at_ms: i64,
    /// The poster's badge, from the poster's certificate.
    pub author_badge: String,
    /// The poster's name, from the poster's certificate.
    pub author_name: String,
    /// The poster's role, from the poster's certificate.
    pub author_role: String,
    /// When this message was posted.
    pub posted_at_ms: i64,
    /// Why the alert was cancelled, or what an update changed.
    pub reason: String,
}

impl From<pb::Alert> for AlertMessageView {
    fn from(a: pb::Alert) -> Self {
        Self {
            id: a.id,
            origin: a.origin,
            kind: AlertKind::from_proto(a.kind),
            refers_to: a.refers_to,
            priority: AlertPriority::from_proto(a.priority),
            category: AlertCategory::from_proto(a.category),
            title: a.title,
            body: a.body,
            incident_at_ms: a.incident_at_ms,
            incident_place: a.incident_place,
            record_ids: a.record_ids,
            vehicles: a.vehicles,
            phones: a.phones,
            photos: a.photos,
            warnings: a
                .warnings
                .into_iter()
                .filter_map(Warning::from_proto)
                .collect(),
            action_requested: a.action_requested,
            targets: a.targets,
            expires_at_ms: a.expires_at_ms,
            author_badge: a.author_badge,
            author_name: a.author_name,
            author_role: a.author_role,
            posted_at_ms: a.posted_at_ms,
            reason: a.reason,
        }
    }
}

impl AlertMessageView {
    /// The id of the alert this message belongs to: its own for a new alert, else the one
    /// it refers to.
    pub fn alert_id(&self) -> &str {
        if self.refers_to.is_empty() {
            &self.id
        } else {
            &self.refers_to
        }
    }
}

/// A receiving district's acknowledgement of an alert.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertAckView {
    /// The same on every node for one alert and district.
    pub id: String,
    /// The alert acknowledged.
    pub alert_id: String,
    /// The acknowledging district.
    pub origin: String,
    /// The alert's district.
    pub alert_origin: String,
    /// The acknowledging officer's badge.
    pub officer_badge: String,
    /// The acknowledging officer's name.
    pub officer_name: String,
    /// What was done.
    pub note: String,
    /// When the alert was acknowledged.
    pub acked_at_ms: i64,
    /// The districts the acknowledgement is sent to.
    pub targets: Vec<String>,
}

impl From<pb::AlertAck> for AlertAckView {
    fn from(a: pb::AlertAck) -> Self {
        Self {
            id: a.id,
            alert_id: a.alert_id,
            origin: a.origin,
            alert_origin: a.alert_origin,
            officer_badge: a.officer_badge,
            officer_name: a.officer_name,
            note: a.note,
            acked_at_ms: a.acked_at_ms,
            targets: a.targets,
        }
    }
}

/// One target district's position on an alert.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertTargetView {
    /// The target district.
    pub district: String,
    /// Its acknowledgement, as known to the node asked; `null` when none is known.
    pub ack: Option<AlertAckView>,
    /// Not acknowledged, the alert is open and its deadline has passed.
    pub overdue: bool,
    /// How far past the deadline, when overdue (ms).
    pub overdue_by_ms: i64,
}

impl From<pb::TargetStatus> for AlertTargetView {
    fn from(t: pb::TargetStatus) -> Self {
        Self {
            district: t.district,
            ack: t.ack.map(AlertAckView::from),
            overdue: t.overdue,
            overdue_by_ms: t.overdue_by_ms,
        }
    }
}

/// An alert as it stands: what `alert show --json` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertView {
    /// The current content: the latest ALERT or UPDATE.
    pub alert: AlertMessageView,
    /// `open`, `cancelled` or `expired`.
    pub state: Option<AlertState>,
    /// The original, then every update and the cancellation, in posting order.
    pub history: Vec<AlertMessageView>,
    /// Each target district's acknowledgement or lateness.
    pub targets: Vec<AlertTargetView>,
    /// The acknowledgement deadline; 0 for routine alerts.
    pub ack_deadline_ms: i64,
    /// The node's time when it made this view; lateness is relative to it.
    pub as_of_ms: i64,
    /// Whether the node knows every target's acknowledgement (only the origin does).
    pub all_acks_known: bool,
}

impl From<pb::AlertView> for AlertView {
    fn from(v: pb::AlertView) -> Self {
        Self {
            alert: v.alert.map(AlertMessageView::from).unwrap_or_default(),
            state: AlertState::from_proto(v.state),
            history: v.history.into_iter().map(AlertMessageView::from).collect(),
            targets: v.targets.into_iter().map(AlertTargetView::from).collect(),
            ack_deadline_ms: v.ack_deadline_ms,
            as_of_ms: v.as_of_ms,
            all_acks_known: v.all_acks_known,
        }
    }
}

impl AlertView {
    /// The alert's id (not that of its latest update).
    pub fn alert_id(&self) -> &str {
        self.alert.alert_id()
    }

    /// The message that first posted the alert: the first of the history, else the current
    /// content.
    pub fn original(&self) -> &AlertMessageView {
        self.history
            .iter()
            .find(|m| m.kind == Some(AlertKind::Alert))
            .or(self.history.first())
            .unwrap_or(&self.alert)
    }
}

/// One page of `alert list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertListView {
    /// The alerts on this page, newest first.
    pub alerts: Vec<AlertView>,
    /// The token for the next page; empty when this is the last page.
    pub next_page_token: String,
}

impl From<pb::ListAlertsResponse> for AlertListView {
    fn from(r: pb::ListAlertsResponse) -> Self {
        Self {
            alerts: r.alerts.into_iter().map(AlertView::from).collect(),
            next_page_token: r.next_page_token,
        }
    }
}

/// One event of `alert watch --json`: an alert message or an acknowledgement, and its
/// position in the node's feed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertEventView {
    /// The node's position of this event in its feed (increasing).
    pub position: u64,
    /// The alert message, when the event is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<AlertMessageView>,
    /// The acknowledgement, when the event is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack: Option<AlertAckView>,
}

impl From<pb::AlertEvent> for AlertEventView {
    fn from(e: pb::AlertEvent) -> Self {
        let (alert, ack) = match e.event {
            Some(pb::alert_event::Event::Alert(a)) => (Some(AlertMessageView::from(a)), None),
            Some(pb::alert_event::Event::Ack(a)) => (None, Some(AlertAckView::from(a))),
            None => (None, None),
        };
        Self {
            position: e.position,
            alert,
            ack,
        }
    }
}

/// The line `alert watch --json` prints when a FLASH alert passes its acknowledgement
/// deadline without this district's acknowledgement: `{"overdue": {...}}`. It is the watch's
/// own event, not one of the node's feed, so it has no position and `--after` cannot name it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertOverdueEventView {
    /// The overdue alert.
    pub overdue: AlertOverdueView,
}

/// A FLASH alert overdue for this district, as the node judged it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertOverdueView {
    /// The alert's id.
    pub alert_id: String,
    /// The posting district.
    pub origin: String,
    /// Its priority.
    pub priority: Option<AlertPriority>,
    /// Its current title.
    pub title: String,
    /// The district whose acknowledgement is overdue: the watching officer's.
    pub district: String,
    /// The acknowledgement deadline.
    pub ack_deadline_ms: i64,
    /// How far past it the node's clock was.
    pub overdue_by_ms: i64,
    /// The node's time when it judged the alert overdue.
    pub as_of_ms: i64,
}

impl AlertOverdueView {
    /// The overdue facts of the node's view `v` for `district`.
    pub fn of(v: &AlertView, district: &str) -> Self {
        let overdue_by_ms = v
            .targets
            .iter()
            .find(|t| t.district == district)
            .map_or(0, |t| t.overdue_by_ms);
        Self {
            alert_id: v.alert_id().to_string(),
            origin: v.original().origin.clone(),
            priority: v.alert.priority,
            title: v.alert.title.clone(),
            district: district.to_string(),
            ack_deadline_ms: v.ack_deadline_ms,
            overdue_by_ms,
            as_of_ms: v.as_of_ms,
        }
    }
}

impl AlertEventView {
    /// The id of the event's alert message or acknowledgement: what `--after` resumes from.
    pub fn id(&self) -> Option<&str> {
        match (&self.alert, &self.ack) {
            (Some(alert), _) => Some(&alert.id),
            (None, Some(ack)) => Some(&ack.id),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> pb::Alert {
        pb::Alert {
            id: "0190a1b2-0000-7000-8000-0000000000a1".into(),
            origin: "jh-dhanbad".into(),
            kind: pb::AlertKind::Alert as i32,
            priority: pb::AlertPriority::Flash as i32,
            category: pb::AlertCategory::VehicleLookout as i32,
            title: "White pickup after ATM robbery".into(),
            warnings: vec![pb::Warning::Armed as i32, 99],
            expires_at_ms: 1_760_007_200_000,
            posted_at_ms: 1_760_000_000_000,
            ..Default::default()
        }
    }

    #[test]
    fn enums_are_words_and_unknown_numbers_are_dropped() -> Result<(), serde_json::Error> {
        let view = AlertMessageView::from(alert());
        let json = serde_json::to_value(&view)?;
        assert_eq!(json["kind"], "alert");
        assert_eq!(json["priority"], "flash");
        assert_eq!(json["category"], "vehicle-lookout");
        assert_eq!(json["warnings"], serde_json::json!(["armed"]));
        assert_eq!(json["expires_at_ms"], 1_760_007_200_000_i64);
        assert_eq!(serde_json::from_value::<AlertMessageView>(json)?, view);
        Ok(())
    }

    #[test]
    fn updates_belong_to_the_alert_they_refer_to() {
        let update = AlertMessageView {
            id: "u".into(),
            refers_to: "a".into(),
            kind: Some(AlertKind::Update),
            ..Default::default()
        };
        assert_eq!(update.alert_id(), "a");
        let view = AlertView {
            alert: update.clone(),
            history: vec![AlertMessageView::from(alert()), update],
            ..Default::default()
        };
        assert_eq!(view.alert_id(), "a");
        assert_eq!(view.original().title, "White pickup after ATM robbery");
    }

    #[test]
    fn events_carry_their_position_and_only_their_kind() -> Result<(), serde_json::Error> {
        let event = AlertEventView::from(pb::AlertEvent {
            event: Some(pb::alert_event::Event::Ack(pb::AlertAck {
                id: "k".into(),
                alert_id: "a".into(),
                ..Default::default()
            })),
            position: 7,
        });
        assert_eq!(event.id(), Some("k"));
        let json = serde_json::to_value(&event)?;
        assert_eq!(json["position"], 7);
        assert_eq!(json["ack"]["alert_id"], "a");
        assert!(json.get("alert").is_none(), "{json}");
        Ok(())
    }
}
