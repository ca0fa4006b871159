//! Alerts and their acknowledgements in storage: the items themselves, the node's alert
//! feed (the order in which this node learnt of each event, which `Watch` streams and
//! resumes from), and the thread index that groups an alert with its updates, cancel and
//! acknowledgements.
//!
//! Layout, besides the `alerts` tree (id → encoded `Alert` or `AlertAck`):
//! - `index`: `f` + position (u64, big-endian) → tag + id: the feed;
//! - `index`: `g` + tag + id → position: where an item last entered the feed;
//! - `index`: `u` + root alert id + NUL + tag + id → empty: the thread index;
//! - `meta`: `alert_feed` → the last feed position taken.
//!
//! Invariants: an item enters the feed in the same transaction that stores it, and only
//! when its content is new to this node (a change re-signed under a new epoch, or the same
//! change arriving from two peers, is not a new event), so a watcher sees each event once.

use super::codec::{corrupt, item_key, read_u64, split_item_key};
use super::store::{abort, tx_decode, Tx, TxResult};
use super::{ChangeEntry, Kind, Storage, StorageError, StorageResult};
use prost::Message;
use setu_proto::v1::{Alert, AlertAck, AlertKind, Handling};

const META_FEED: &[u8] = b"alert_feed";

/// The alert an alert message belongs to: itself for an ALERT, the alert it changes for an
/// UPDATE or CANCEL.
pub fn alert_root(alert: &Alert) -> &str {
    if alert.kind == AlertKind::Alert as i32 || alert.refers_to.is_empty() {
        &alert.id
    } else {
        &alert.refers_to
    }
}

fn feed_key(position: u64) -> Vec<u8> {
    let mut key = vec![b'f'];
    key.extend_from_slice(&position.to_be_bytes());
    key
}

fn feed_back_key(kind: Kind, id: &str) -> Vec<u8> {
    let mut key = vec![b'g'];
    key.extend_from_slice(&item_key(kind, id));
    key
}

fn thread_prefix(root: &str) -> Vec<u8> {
    let mut key = vec![b'u'];
    key.extend_from_slice(root.as_bytes());
    key.push(0);
    key
}

fn thread_key(root: &str, kind: Kind, id: &str) -> Vec<u8> {
    let mut key = thread_prefix(root);
    key.extend_from_slice(&item_key(kind, id));
    key
}

/// One event of the alert feed.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedItem {
    /// An alert message.
    Alert(Box<Alert>),
    /// An acknowledgement.
    Ack(AlertAck),
}

/// An event of the alert feed with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    /// The node's feed position (increasing).
    pub position: u64,
    /// What happened.
    pub item: FeedItem,
}

/// An alert with everything that refers to it, as this node holds it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertThread {
    /// The original ALERT, then updates and the cancel, in posting order.
    pub messages: Vec<Alert>,
    /// The acknowledgements held, one per district.
    pub acks: Vec<AlertAck>,
}

impl Tx<'_> {
    /// Stores an alert item and, when its content is new here, appends it to the feed and
    /// the thread of `root`.
    pub fn store_alert_item(&self, kind: Kind, id: &str, bytes: &[u8], root: &str) -> TxResult<()> {
        if self.alerts.get(id.as_bytes())?.as_deref() == Some(bytes) {
            return Ok(());
        }
        self.alerts.insert(id.as_bytes(), bytes)?;
        let position = match self.meta.get(META_FEED)? {
            Some(v) => read_u64(&v).ok_or_else(|| corrupt("alert feed counter", "not 8 bytes"))?,
            None => 0,
        } + 1;
        self.meta.insert(META_FEED, position.to_be_bytes())?;
        let back = feed_back_key(kind, id);
        if let Some(old) = self.index.get(&back)? {
            // A replaced acknowledgement leaves the feed at its old position.
            if let Some(old) = read_u64(&old) {
                self.index.remove(feed_key(old))?;
            }
        }
        self.index.insert(feed_key(position), item_key(kind, id))?;
        self.index.insert(back, position.to_be_bytes())?;
        self.index.insert(thread_key(root, kind, id), [])?;
        Ok(())
    }

    /// Removes an alert item entirely (a full resync found its origin no longer has it).
    pub fn drop_alert_item(&self, kind: Kind, id: &str) -> TxResult<()> {
        let Some(bytes) = self.alerts.take(id.as_bytes())? else {
            return Ok(());
        };
        let root = match kind {
            Kind::Alert => {
                let alert: Alert = tx_decode(&bytes)?;
                alert_root(&alert).to_string()
            }
            _ => tx_decode::<AlertAck>(&bytes)?.alert_id,
        };
        let back = feed_back_key(kind, id);
        if let Some(position) = self.index.take(back)? {
            if let Some(position) = read_u64(&position) {
                self.index.remove(feed_key(position))?;
            }
        }
        self.index.remove(thread_key(&root, kind, id))?;
        Ok(())
    }
}

impl Storage {
    /// The current changes of `origin`'s alerts and acknowledgements above `after_seq`, in
    /// sequence order: what a priority sync stream owes a peer before its live tail. Reads
    /// the alerts tree (a few items per alert), not the change log, so its cost does not
    /// grow with a backlog of records.
    pub fn alert_changes_after(
        &self,
        origin: &str,
        after_seq: u64,
    ) -> StorageResult<Vec<super::LogEntry>> {
        let mut out = Vec::new();
        for entry in self.t.alerts.iter() {
            let (id, _) = entry?;
            let id = String::from_utf8_lossy(&id).into_owned();
            for kind in [Kind::Alert, Kind::AlertAck] {
                if let Some(change) = self.current_change(kind, &id)? {
                    if change.state.origin == origin && change.state.seq > after_seq {
                        out.push(change);
                    }
                }
            }
        }
        out.sort_by_key(|e| e.state.seq);
        Ok(out)
    }

    /// Stores a new alert message of this district (an ALERT, UPDATE or CANCEL), appends it
    /// to the feed, and logs and signs it, in one transaction.
    pub fn put_alert(&self, alert: &Alert) -> StorageResult<ChangeEntry> {
        let bytes = alert.encode_to_vec();
        self.transact(|tx| {
            if tx.state(Kind::Alert, &alert.id)?.is_some() {
                return abort(StorageError::AlreadyExists {
                    kind: Kind::Alert,
                    id: alert.id.clone(),
                });
            }
            tx.store_alert_item(Kind::Alert, &alert.id, &bytes, alert_root(alert))?;
            self.commit_local(
                tx,
                Kind::Alert,
                &alert.id,
                Handling::Peers as i32,
                false,
                bytes.clone(),
            )
        })
    }

    /// Stores this district's acknowledgement of an alert (replacing an earlier one of the
    /// same district), appends it to the feed, and logs and signs it, in one transaction.
    pub fn put_alert_ack(&self, ack: &AlertAck) -> StorageResult<ChangeEntry> {
        let bytes = ack.encode_to_vec();
        self.transact(|tx| {
            tx.store_alert_item(Kind::AlertAck, &ack.id, &bytes, &ack.alert_id)?;
            self.commit_local(
                tx,
                Kind::AlertAck,
                &ack.id,
                Handling::Peers as i32,
                false,
                bytes.clone(),
            )
        })
    }

    /// The alert message stored under `id`.
    pub fn alert(&self, id: &str) -> StorageResult<Alert> {
        match self.item_state(Kind::Alert, id)? {
            Some(state) if state.has_data => {}
            _ => {
                return Err(StorageError::NotFound {
                    kind: Kind::Alert,
                    id: id.to_string(),
                })
            }
        }
        match self.t.alerts.get(id.as_bytes())? {
            Some(bytes) => Ok(Alert::decode(bytes.as_ref())?),
            None => Err(StorageError::NotFound {
                kind: Kind::Alert,
                id: id.to_string(),
            }),
        }
    }

    /// The alert `root` with its updates, cancel and acknowledgements.
    pub fn alert_thread(&self, root: &str) -> StorageResult<AlertThread> {
        let mut thread = AlertThread::default();
        for entry in self.t.index.scan_prefix(thread_prefix(root)) {
            let (key, _) = entry?;
            let (kind, id) = split_item_key(&key[thread_prefix(root).len()..])?;
            let Some(bytes) = self.t.alerts.get(id.as_bytes())? else {
                continue;
            };
            match kind {
                Kind::Alert => thread.messages.push(Alert::decode(bytes.as_ref())?),
                Kind::AlertAck => thread.acks.push(AlertAck::decode(bytes.as_ref())?),
                _ => {
                    return Err(corrupt(
                        "alert thread",
                        "holds an item that is not an alert",
                    ))
                }
            }
        }
        // The original first, then in posting order (ids are time-ordered UUIDs as a
        // tie-break).
        thread.messages.sort_by(|a, b| {
            (a.kind != AlertKind::Alert as i32, a.posted_at_ms, &a.id).cmp(&(
                b.kind != AlertKind::Alert as i32,
                b.posted_at_ms,
                &b.id,
            ))
        });
        thread.acks.sort_by(|a, b| a.origin.cmp(&b.origin));
        Ok(thread)
    }

    /// Every original ALERT held (own and received), in feed order.
    pub fn alert_roots(&self) -> StorageResult<Vec<Alert>> {
        let mut out = Vec::new();
        for event in self.alert_feed_after(0, usize::MAX)? {
            if let FeedItem::Alert(alert) = event.item {
                if alert.kind == AlertKind::Alert as i32 {
                    out.push(*alert);
                }
            }
        }
        Ok(out)
    }

    /// Feed events after `position`, in order, at most `limit`.
    pub fn alert_feed_after(&self, position: u64, limit: usize) -> StorageResult<Vec<FeedEvent>> {
        let mut out = Vec::new();
        let start = feed_key(position.saturating_add(1));
        for entry in self.t.index.range(start..vec![b'g']) {
            if out.len() >= limit {
                break;
            }
            let (key, value) = entry?;
            let position = read_u64(&key[1..]).ok_or_else(|| corrupt("feed key", "bad"))?;
            let (kind, id) = split_item_key(&value)?;
            let Some(bytes) = self.t.alerts.get(id.as_bytes())? else {
                continue;
            };
            let item = match kind {
                Kind::Alert => FeedItem::Alert(Box::new(Alert::decode(bytes.as_ref())?)),
                Kind::AlertAck => FeedItem::Ack(AlertAck::decode(bytes.as_ref())?),
                _ => return Err(corrupt("alert feed", "holds an item that is not an alert")),
            };
            out.push(FeedEvent { position, item });
        }
        Ok(out)
    }

    /// The feed position of an alert message or acknowledgement, if it is in the feed.
    pub fn alert_feed_position(&self, id: &str) -> StorageResult<Option<u64>> {
        for kind in [Kind::Alert, Kind::AlertAck] {
            if let Some(v) = self.t.index.get(feed_back_key(kind, id))? {
                return Ok(Some(
                    read_u64(&v).ok_or_else(|| corrupt("feed position", "not 8 bytes"))?,
                ));
            }
        }
        Ok(None)
    }

    /// The last feed position taken (0 when the feed is empty).
    pub fn alert_feed_head(&self) -> StorageResult<u64> {
        Ok(match self.t.meta.get(META_FEED)? {
            Some(v) => read_u64(&v).ok_or_else(|| corrupt("alert feed counter", "not 8 bytes"))?,
            None => 0,
        })
    }
}
