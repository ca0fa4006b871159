//! `setu.v1.AlertService`: liaison officers post, update and cancel alerts for peer
//! districts; liaison officers of a targeted district acknowledge them; every officer
//! lists, reads and watches them.
//!
//! Alerts are stored and replicated by the storage and federation layers like any other
//! item (kinds `Alert` and `AlertAck`, sent only to the districts they target); this file
//! checks who may do what, shapes messages, and runs the `Watch` streams over the node's
//! alert feed. Deadlines and expiry are judged by the node's [`Clock`].

use super::{officer_call, SharedState};
use crate::alert_view;
use crate::clock::Clock;
use crate::error::{NodeError, NodeResult};
use crate::storage::alerts::{alert_root, FeedEvent, FeedItem};
use crate::storage::{Storage, StorageError};
use crate::trust::auth::require_district_role;
use crate::trust::identity::{Officer, Role};
use crate::validate;
use crate::validate::alert as validate_alert;
use setu_proto::v1::alert_event::Event;
use setu_proto::v1::alert_service_server::AlertService;
use setu_proto::v1::{
    AcknowledgeAlertRequest, Alert, AlertAck, AlertEvent, AlertKind, AlertState, AlertView,
    CancelAlertRequest, GetAlertRequest, ListAlertsRequest, ListAlertsResponse, PostAlertRequest,
    UpdateAlertRequest, WatchAlertsRequest,
};
use std::pin::Pin;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

/// Feed events read per step of a watch stream.
const WATCH_BATCH: usize = 256;
/// Events buffered per watcher before the stream waits for the client.
const WATCH_BUFFER: usize = 64;

/// The alert service of one node.
pub struct AlertServiceImpl {
    state: SharedState,
    /// Turns true when the node shuts down: every watch stream then ends.
    stop: watch::Receiver<bool>,
}

/// Where a watch stream starts, decided (and audited) before it opens.
#[derive(Debug, Clone, Copy)]
pub struct WatchStart {
    /// Events after this feed position are sent.
    pub after: u64,
    /// Events up to this position are a replay of the open alerts: cancelled threads are
    /// left out entirely instead of announcing their cancel.
    pub replay_until: u64,
}

impl super::note::AuditResponse for WatchStart {}

/// The stream type of `Watch`.
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<AlertEvent, Status>> + Send>>;

impl AlertServiceImpl {
    /// A service over the node's state; watch streams end when `stop` turns true.
    pub fn new(state: SharedState, stop: watch::Receiver<bool>) -> Self {
        AlertServiceImpl { state, stop }
    }

    fn clock(&self) -> &Clock {
        &self.state.clock
    }

    /// Every linked record must be held here, and every photo.
    fn check_links(&self, alert: &Alert) -> NodeResult<()> {
        let storage = &self.state.storage;
        for (i, id) in alert.record_ids.iter().enumerate() {
            match storage.record(id) {
                Ok(_) => {}
                Err(StorageError::NotFound { .. } | StorageError::Expunged { .. }) => {
                    return Err(NodeError::invalid(
                        format!("record_ids[{i}]"),
                        format!("no record {id} on this node"),
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
        for (i, sha) in alert.photos.iter().enumerate() {
            if storage.photo_ref(sha)?.is_none() {
                return Err(NodeError::invalid(
                    format!("photos[{i}]"),
                    format!("no photo {sha} on this node; attach it to a record first"),
                ));
            }
        }
        Ok(())
    }

    /// The original alert behind `id` (an alert, update or cancel id).
    fn root_of(&self, field: &str, id: &str) -> NodeResult<Alert> {
        validate::id(field, id)?;
        let storage = &self.state.storage;
        let message = storage.alert(id)?;
        let root = alert_root(&message);
        if root == message.id {
            Ok(message)
        } else {
            Ok(storage.alert(root)?)
        }
    }

    /// An alert message of this district, signed by `officer`, about to be posted.
    fn new_message(&self, officer: &Officer, kind: AlertKind) -> Alert {
        Alert {
            id: uuid::Uuid::now_v7().to_string(),
            origin: self.state.district.clone(),
            kind: kind as i32,
            author_badge: officer.badge.clone(),
            author_name: officer.name.clone(),
            author_role: officer.role.to_string(),
            posted_at_ms: self.clock().now_ms(),
            ..Default::default()
        }
    }

    async fn post(&self, officer: Officer, req: PostAlertRequest) -> NodeResult<Alert> {
        let state = &self.state;
        require_district_role(&officer, &state.district, Role::Liaison, "posting an alert")?;
        let mut alert = Alert {
            priority: req.priority,
            category: req.category,
            title: req.title,
            body: req.body,
            incident_at_ms: req.incident_at_ms,
            incident_place: req.incident_place,
            record_ids: req.record_ids,
            vehicles: req.vehicles,
            phones: req.phones,
            photos: req.photos,
            warnings: req.warnings,
            action_requested: req.action_requested,
            expires_at_ms: req.expires_at_ms,
            ..self.new_message(&officer, AlertKind::Alert)
        };
        validate_alert::content(&mut alert, self.clock().now_ms())?;
        alert.targets = validate_alert::targets(&req.targets, &state.peers, &state.district)?;
        self.check_links(&alert)?;
        state.storage.put_alert(&alert)?;
        Ok(alert)
    }

    async fn update(&self, officer: Officer, req: UpdateAlertRequest) -> NodeResult<Alert> {
        let state = &self.state;
        require_district_role(
            &officer,
            &state.district,
            Role::Liaison,
            "updating an alert",
        )?;
        let root = self.root_of("alert_id", &req.alert_id)?;
        self.require_own(&root, "updated")?;
        let thread = state.storage.alert_thread(&root.id)?;
        let now = self.clock().now_ms();
        let standing = alert_view::standing(&thread, now)
            .ok_or_else(|| NodeError::Internal(format!("alert {} has no messages", root.id)))?;
        if standing.cancelled {
            return Err(NodeError::FailedPrecondition(format!(
                "alert {} was cancelled; post a new alert instead",
                root.id
            )));
        }
        let current = standing.current;
        let keep_text = |new: String, old: &String| {
            if new.trim().is_empty() {
                old.clone()
            } else {
                new
            }
        };
        let keep_list =
            |new: Vec<String>, old: &Vec<String>| if new.is_empty() { old.clone() } else { new };
        let keep_num = |new: i64, old: i64| if new == 0 { old } else { new };
        let keep_enum = |new: i32, old: i32| if new == 0 { old } else { new };
        let mut reason = req.reason;
        validate_alert::reason(&mut reason, false)?;
        let mut update = Alert {
            refers_to: root.id.clone(),
            priority: keep_enum(req.priority, current.priority),
            category: keep_enum(req.category, current.category),
            title: keep_text(req.title, &current.title),
            body: keep_text(req.body, &current.body),
            incident_at_ms: keep_num(req.incident_at_ms, current.incident_at_ms),
            incident_place: keep_text(req.incident_place, &current.incident_place),
            record_ids: keep_list(req.record_ids, &current.record_ids),
            vehicles: keep_list(req.vehicles, &current.vehicles),
            phones: keep_list(req.phones, &current.phones),
            photos: keep_list(req.photos, &current.photos),
            warnings: if req.warnings.is_empty() {
                current.warnings.clone()
            } else {
                req.warnings
            },
            action_requested: keep_text(req.action_requested, &current.action_requested),
            targets: root.targets.clone(),
            expires_at_ms: keep_num(req.expires_at_ms, current.expires_at_ms),
            reason,
            ..self.new_message(&officer, AlertKind::Update)
        };
        validate_alert::content(&mut update, now)?;
        self.check_links(&update)?;
        state.storage.put_alert(&update)?;
        Ok(update)
    }

    async fn cancel(&self, officer: Officer, mut req: CancelAlertRequest) -> NodeResult<Alert> {
        let state = &self.state;
        require_district_role(
            &officer,
            &state.district,
            Role::Liaison,
            "cancelling an alert",
        )?;
        validate_alert::reason(&mut req.reason, true)?;
        let root = self.root_of("alert_id", &req.alert_id)?;
        self.require_own(&root, "cancelled")?;
        let thread = state.storage.alert_thread(&root.id)?;
        let standing = alert_view::standing(&thread, self.clock().now_ms())
            .ok_or_else(|| NodeError::Internal(format!("alert {} has no messages", root.id)))?;
        if standing.cancelled {
            return Err(NodeError::FailedPrecondition(format!(
                "alert {} is already cancelled",
                root.id
            )));
        }
        // The cancel repeats the alert's headline so that a watcher's card makes sense on
        // its own.
        let current = standing.current;
        let cancel = Alert {
            refers_to: root.id.clone(),
            priority: current.priority,
            category: current.category,
            title: current.title.clone(),
            targets: root.targets.clone(),
            expires_at_ms: current.expires_at_ms,
            reason: req.reason,
            ..self.new_message(&officer, AlertKind::Cancel)
        };
        state.storage.put_alert(&cancel)?;
        Ok(cancel)
    }

    async fn acknowledge(
        &self,
        officer: Officer,
        mut req: AcknowledgeAlertRequest,
    ) -> NodeResult<AlertAck> {
        let state = &self.state;
        require_district_role(
            &officer,
            &state.district,
            Role::Liaison,
            "acknowledging an alert",
        )?;
        validate_alert::note(&mut req.note)?;
        let root = self.root_of("alert_id", &req.alert_id)?;
        if root.origin == state.district {
            return Err(NodeError::FailedPrecondition(format!(
                "alert {} is this district's own; the districts it targets acknowledge it",
                root.id
            )));
        }
        if !root.targets.iter().any(|t| *t == state.district) {
            return Err(NodeError::FailedPrecondition(format!(
                "alert {} is not addressed to {}",
                root.id, state.district
            )));
        }
        let thread = state.storage.alert_thread(&root.id)?;
        let now = self.clock().now_ms();
        match alert_view::standing(&thread, now).map(|s| s.state) {
            Some(AlertState::Cancelled) => {
                return Err(NodeError::FailedPrecondition(format!(
                    "alert {} was cancelled by {}",
                    root.id, root.origin
                )))
            }
            Some(AlertState::Expired) => {
                return Err(NodeError::FailedPrecondition(format!(
                    "alert {} has expired",
                    root.id
                )))
            }
            _ => {}
        }
        let alert_uuid = uuid::Uuid::parse_str(&root.id)
            .map_err(|e| NodeError::Internal(format!("stored alert id {}: {e}", root.id)))?;
        let ack = AlertAck {
            id: uuid::Uuid::new_v5(&alert_uuid, state.district.as_bytes()).to_string(),
            alert_id: root.id.clone(),
            origin: state.district.clone(),
            alert_origin: root.origin.clone(),
            officer_badge: officer.badge.clone(),
            officer_name: officer.name.clone(),
            note: req.note,
            acked_at_ms: now,
            targets: vec![root.origin.clone()],
        };
        state.storage.put_alert_ack(&ack)?;
        Ok(ack)
    }

    /// Only the posting district changes an alert, on its own node.
    fn require_own(&self, root: &Alert, what: &str) -> NodeResult<()> {
        if root.origin == self.state.district {
            Ok(())
        } else {
            Err(NodeError::PermissionDenied(format!(
                "alert {} was posted by {}; only {} can have it {what}",
                root.id, root.origin, root.origin
            )))
        }
    }

    fn view_of(&self, root: &str, now: i64) -> NodeResult<Option<AlertView>> {
        let thread = self.state.storage.alert_thread(root)?;
        Ok(alert_view::view(&thread, &self.state.district, now))
    }

    async fn get(&self, req: GetAlertRequest) -> NodeResult<AlertView> {
        let root = self.root_of("alert_id", &req.alert_id)?;
        self.view_of(&root.id, self.clock().now_ms())?
            .ok_or_else(|| NodeError::Internal(format!("alert {} has no messages", root.id)))
    }

    async fn list(&self, req: ListAlertsRequest) -> NodeResult<ListAlertsResponse> {
        let size = super::page_size(req.page_size)?;
        let offset: usize = if req.page_token.is_empty() {
            0
        } else {
            req.page_token.parse().map_err(|_| {
                NodeError::invalid(
                    "page_token",
                    format!(
                        "{} is not a token this node gave out",
                        validate::excerpt(&req.page_token)
                    ),
                )
            })?
        };
        let now = self.clock().now_ms();
        let mut roots = self.state.storage.alert_roots()?;
        roots.sort_by(|a, b| (b.posted_at_ms, &b.id).cmp(&(a.posted_at_ms, &a.id)));
        let mut views = Vec::new();
        for root in roots {
            let Some(view) = self.view_of(&root.id, now)? else {
                continue;
            };
            let open = view.state == AlertState::Open as i32;
            if (req.open_only || req.overdue_only) && !open {
                continue;
            }
            if req.overdue_only && !alert_view::is_overdue(&view) {
                continue;
            }
            views.push(view);
        }
        let total = views.len();
        let alerts: Vec<AlertView> = views.into_iter().skip(offset).take(size).collect();
        let next = offset + alerts.len();
        Ok(ListAlertsResponse {
            alerts,
            next_page_token: if next < total {
                next.to_string()
            } else {
                String::new()
            },
        })
    }

    async fn watch_start(&self, req: WatchAlertsRequest) -> NodeResult<WatchStart> {
        let storage = &self.state.storage;
        let head = storage.alert_feed_head()?;
        if req.live_only {
            return Ok(WatchStart {
                after: head,
                replay_until: 0,
            });
        }
        if req.after_position != 0 {
            if req.after_position > head {
                return Err(NodeError::invalid(
                    "after_position",
                    format!(
                        "{} is beyond this node's alert feed, which ends at {head}; watch without it to get every open alert",
                        req.after_position
                    ),
                ));
            }
            return Ok(WatchStart {
                after: req.after_position,
                replay_until: 0,
            });
        }
        if req.after_id.is_empty() {
            return Ok(WatchStart {
                after: 0,
                replay_until: head,
            });
        }
        validate::id("after_id", &req.after_id)?;
        match storage.alert_feed_position(&req.after_id)? {
            Some(after) => Ok(WatchStart {
                after,
                replay_until: 0,
            }),
            None => Err(NodeError::invalid(
                "after_id",
                format!(
                    "{} is not an alert event of this node; watch without it to get every open alert",
                    req.after_id
                ),
            )),
        }
    }
}

/// Whether a feed event goes to watchers at `now`: nothing of an expired alert; of a
/// cancelled one only the cancel itself, and not even that in the replay of open alerts.
fn deliverable(
    storage: &Storage,
    event: &FeedEvent,
    now: i64,
    replay: bool,
) -> Result<bool, StorageError> {
    let (root, is_cancel) = match &event.item {
        FeedItem::Alert(alert) => (
            alert_root(alert).to_string(),
            alert.kind == AlertKind::Cancel as i32,
        ),
        FeedItem::Ack(ack) => (ack.alert_id.clone(), false),
    };
    let thread = storage.alert_thread(&root)?;
    Ok(match alert_view::standing(&thread, now).map(|s| s.state) {
        Some(AlertState::Open) => true,
        Some(AlertState::Cancelled) => is_cancel && !replay,
        _ => false,
    })
}

/// Streams the feed after `start` to `tx`, then every new event as it is stored, until the
/// watcher goes away or the node stops.
async fn run_watch(
    storage: Storage,
    clock: Clock,
    start: WatchStart,
    tx: mpsc::Sender<Result<AlertEvent, Status>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut changed = storage.subscribe();
    let mut position = start.after;
    loop {
        changed.borrow_and_update();
        let events = match storage.alert_feed_after(position, WATCH_BATCH) {
            Ok(events) => events,
            Err(e) => {
                let _ = tx.send(Err(NodeError::from(e).into())).await;
                return;
            }
        };
        let full = events.len() == WATCH_BATCH;
        for event in events {
            position = event.position;
            let replay = event.position <= start.replay_until;
            match deliverable(&storage, &event, clock.now_ms(), replay) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    let _ = tx.send(Err(NodeError::from(e).into())).await;
                    return;
                }
            }
            let message = AlertEvent {
                event: Some(match event.item {
                    FeedItem::Alert(alert) => Event::Alert(*alert),
                    FeedItem::Ack(ack) => Event::Ack(ack),
                }),
                position: event.position,
            };
            if tx.send(Ok(message)).await.is_err() {
                return;
            }
        }
        if full {
            continue;
        }
        tokio::select! {
            changed = changed.changed() => if changed.is_err() { return },
            _ = stop.wait_for(|stopped| *stopped) => return,
            _ = tx.closed() => return,
        }
    }
}

#[tonic::async_trait]
impl AlertService for AlertServiceImpl {
    async fn post(&self, request: Request<PostAlertRequest>) -> Result<Response<Alert>, Status> {
        officer_call(&self.state.storage, "AlertService/Post", request, |o, r| {
            self.post(o, r)
        })
        .await
    }

    async fn update(
        &self,
        request: Request<UpdateAlertRequest>,
    ) -> Result<Response<Alert>, Status> {
        officer_call(
            &self.state.storage,
            "AlertService/Update",
            request,
            |o, r| self.update(o, r),
        )
        .await
    }

    async fn cancel(
        &self,
        request: Request<CancelAlertRequest>,
    ) -> Result<Response<Alert>, Status> {
        officer_call(
            &self.state.storage,
            "AlertService/Cancel",
            request,
            |o, r| self.cancel(o, r),
        )
        .await
    }

    async fn acknowledge(
        &self,
        request: Request<AcknowledgeAlertRequest>,
    ) -> Result<Response<AlertAck>, Status> {
        officer_call(
            &self.state.storage,
            "AlertService/Acknowledge",
            request,
            |o, r| self.acknowledge(o, r),
        )
        .await
    }

    async fn get(&self, request: Request<GetAlertRequest>) -> Result<Response<AlertView>, Status> {
        officer_call(&self.state.storage, "AlertService/Get", request, |_, r| {
            self.get(r)
        })
        .await
    }

    async fn list(
        &self,
        request: Request<ListAlertsRequest>,
    ) -> Result<Response<ListAlertsResponse>, Status> {
        officer_call(&self.state.storage, "AlertService/List", request, |_, r| {
            self.list(r)
        })
        .await
    }

    type WatchStream = WatchStream;

    async fn watch(
        &self,
        request: Request<WatchAlertsRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let start = officer_call(
            &self.state.storage,
            "AlertService/Watch",
            request,
            |_, r| self.watch_start(r),
        )
        .await?
        .into_inner();
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        crate::spawn(run_watch(
            self.state.storage.clone(),
            self.state.clock.clone(),
            start,
            tx,
            self.stop.clone(),
        ));
        let stream: WatchStream = Box::pin(ReceiverStream::new(rx));
        Ok(Response::new(stream))
    }
}
