//! The replication side of [`Storage`]: per-origin change logs read in sequence order,
//! verified remote changes applied together with the watermark in one transaction, epochs,
//! key statements, digests for anti-entropy, photo fetches and tombstone collection.

use super::alerts::alert_root;
use super::codec::*;
use super::kv::KvTree;
use super::store::{abort, tx_decode, Tx, TxResult};
use super::{
    ApplyOutcome, ItemState, Kind, LogEntry, OriginInfo, RemoteBody, RemoteChange, StorageError,
    StorageResult,
};
use crate::storage::Storage;
use prost::Message;
use setu_proto::v1::{Envelope, Handling, PersonRecord, Watermark};

/// What adopting an origin's epoch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochChange {
    /// The epoch was already the current one.
    Same,
    /// The node first heard of the origin, under this epoch.
    First,
    /// The node switched to the new epoch.
    Adopted,
    /// The epoch was retired earlier; changes under it are stale.
    Retired,
}

/// How a batch of verified changes is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ApplyMode {
    /// In sequence order from a sync stream, moving the watermark to this position.
    Stream(u64),
    /// Found by anti-entropy: no watermark moves.
    Repair,
    /// Ahead of the backlog (a priority stream): no watermark moves, and the changes stay
    /// out of the log until the ordered stream reaches them.
    Ahead,
}

fn apply_one(tx: &Tx<'_>, change: &RemoteChange, outcome: &mut ApplyOutcome) -> TxResult<()> {
    let (kind, id) = (change.kind, change.id.as_str());
    let previous = tx.state(kind, id)?;
    if let Some(prev) = &previous {
        if prev.origin != change.origin {
            outcome.refused.push(format!(
                "{kind} {id} from {} collides with an item of {}",
                change.origin, prev.origin
            ));
            return Ok(());
        }
        if prev.epoch == change.epoch {
            if change.seq < prev.seq {
                outcome.ignored += 1;
                return Ok(());
            }
            if change.seq == prev.seq {
                let stored: Option<Envelope> = match tx.envelopes.get(item_key(kind, id))? {
                    Some(b) => Some(tx_decode(&b)?),
                    None => None,
                };
                if stored.is_some_and(|s| s.payload != change.envelope.payload) {
                    outcome.refused.push(format!(
                        "ALARM: {kind} {id} of {} at sequence {} arrived with a different body than the one stored",
                        change.origin, change.seq
                    ));
                } else {
                    outcome.ignored += 1;
                    // A change applied ahead of its turn (from a priority stream) has no
                    // log entry yet: it takes its place in the log now that the ordered
                    // stream has reached it.
                    let key = log_key(&change.origin, change.seq);
                    if tx.log.get(&key)?.is_none() {
                        tx.log.insert(key, item_key(kind, id))?;
                    }
                }
                return Ok(());
            }
        }
    }
    let tree = tx.data_tree(kind);
    // Only an item held before can have photos to release.
    let old_record: Option<PersonRecord> = match (kind, &previous) {
        (Kind::Record, Some(prev)) if prev.has_data => tx.record(id)?,
        _ => None,
    };
    let (has_data, deleted) = match &change.body {
        RemoteBody::Record(record) => {
            tx.move_photo_refs(old_record.as_ref(), Some(record))?;
            for photo in &record.photos {
                if tx.photos.get(photo.sha256.as_bytes())?.is_none() {
                    outcome.missing_photos.push(photo.sha256.clone());
                }
            }
            tree.insert(id.as_bytes(), record.encode_to_vec())?;
            tx.index_record(id, Some(record))?;
            if previous.as_ref().is_some_and(|p| p.deleted) {
                tx.tombstones.remove(item_key(kind, id))?;
            }
            (true, false)
        }
        RemoteBody::MoNote(note) => {
            tree.insert(id.as_bytes(), note.encode_to_vec())?;
            tx.index_note(id, Some(note))?;
            if previous.as_ref().is_some_and(|p| p.deleted) {
                tx.tombstones.remove(item_key(kind, id))?;
            }
            (true, false)
        }
        RemoteBody::Alert(alert) => {
            tx.store_alert_item(Kind::Alert, id, &alert.encode_to_vec(), alert_root(alert))?;
            (true, false)
        }
        RemoteBody::AlertAck(ack) => {
            tx.store_alert_item(Kind::AlertAck, id, &ack.encode_to_vec(), &ack.alert_id)?;
            (true, false)
        }
        RemoteBody::Tombstone(tombstone) => {
            tx.move_photo_refs(old_record.as_ref(), None)?;
            tree.remove(id.as_bytes())?;
            tx.search_docs.remove(item_key(kind, id))?;
            tx.tombstones
                .insert(item_key(kind, id), tombstone.encode_to_vec())?;
            (false, true)
        }
        RemoteBody::Retracted => {
            tx.move_photo_refs(old_record.as_ref(), None)?;
            tree.remove(id.as_bytes())?;
            tx.search_docs.remove(item_key(kind, id))?;
            (false, false)
        }
    };
    // A replicated item counts as shared once this node held it as FEDERATION, i.e. once it
    // may have been relayed onwards: only then do its retractions and tombstones travel on.
    let shared = previous.as_ref().is_some_and(|p| p.shared)
        || (has_data && change.handling == Handling::Federation as i32);
    let state = ItemState {
        origin: change.origin.clone(),
        epoch: change.epoch,
        seq: change.seq,
        handling: change.handling,
        shared,
        has_data,
        deleted,
    };
    tx.record_change(
        kind,
        id,
        previous.as_ref(),
        &state,
        &change.envelope.encode_to_vec(),
    )?;
    outcome.applied += 1;
    Ok(())
}

impl Storage {
    /// Every origin this node holds changes of, its own included.
    pub fn origins(&self) -> StorageResult<Vec<OriginInfo>> {
        let mut out = Vec::new();
        for entry in self.t.origins.iter() {
            let (key, value) = entry?;
            let (epoch, max_seq, _) = decode_origin(&value)?;
            out.push(OriginInfo {
                origin: String::from_utf8_lossy(&key).into_owned(),
                epoch,
                max_seq,
            });
        }
        Ok(out)
    }

    /// One origin's current epoch and highest sequence, if known.
    pub fn origin_info(&self, origin: &str) -> StorageResult<Option<OriginInfo>> {
        match self.t.origins.get(origin.as_bytes())? {
            Some(value) => {
                let (epoch, max_seq, _) = decode_origin(&value)?;
                Ok(Some(OriginInfo {
                    origin: origin.to_string(),
                    epoch,
                    max_seq,
                }))
            }
            None => Ok(None),
        }
    }

    /// Entries of `origin`'s change log above `after_seq`, in sequence order, at most `limit`.
    pub fn log_after(
        &self,
        origin: &str,
        after_seq: u64,
        limit: usize,
    ) -> StorageResult<Vec<LogEntry>> {
        let start = log_key(origin, after_seq.saturating_add(1));
        let mut end = origin_prefix(origin);
        end.push(0xFF);
        let mut out = Vec::new();
        for entry in self.t.log.range(start..end) {
            if out.len() >= limit {
                break;
            }
            let (key, value) = entry?;
            let seq = log_key_seq(&key)?;
            let (kind, id) = split_item_key(&value)?;
            let Some(state) = self.item_state(kind, &id)? else {
                continue;
            };
            if state.seq != seq || state.origin != origin {
                // A stale entry left behind by an epoch change.
                continue;
            }
            let Some(bytes) = self.t.envelopes.get(item_key(kind, &id))? else {
                continue;
            };
            out.push(LogEntry {
                kind,
                id,
                state,
                envelope: Envelope::decode(bytes.as_ref())?,
            });
        }
        Ok(out)
    }

    /// The current change of one item: its state and the envelope to send, if held.
    pub fn current_change(&self, kind: Kind, id: &str) -> StorageResult<Option<LogEntry>> {
        let Some(state) = self.item_state(kind, id)? else {
            return Ok(None);
        };
        let Some(bytes) = self.t.envelopes.get(item_key(kind, id))? else {
            return Ok(None);
        };
        Ok(Some(LogEntry {
            kind,
            id: id.to_string(),
            state,
            envelope: Envelope::decode(bytes.as_ref())?,
        }))
    }

    /// Makes `epoch` the current epoch of `origin` (a restored origin starts a new one);
    /// the old epoch is retired so that no stale change brings it back.
    pub fn adopt_origin_epoch(&self, origin: &str, epoch: u64) -> StorageResult<EpochChange> {
        self.transact(|tx| {
            let Some(value) = tx.origins.get(origin.as_bytes())? else {
                tx.origins
                    .insert(origin.as_bytes(), encode_origin(epoch, 0, &[]))?;
                return Ok(EpochChange::First);
            };
            let (current, _, mut retired) = decode_origin(&value)?;
            if current == epoch {
                return Ok(EpochChange::Same);
            }
            if retired.contains(&epoch) || origin == self.origin {
                return Ok(EpochChange::Retired);
            }
            retired.push(current);
            tx.origins
                .insert(origin.as_bytes(), encode_origin(epoch, 0, &retired))?;
            Ok(EpochChange::Adopted)
        })
    }

    /// Applies verified changes of `origin` received from `peer`, and moves the watermark
    /// for (peer, origin) to (`epoch`, `watermark`), in one transaction. A change is stored
    /// when it is newer than what is held for its id; the same (origin, id, seq) with a
    /// different body is refused and reported.
    pub fn apply_remote(
        &self,
        peer: &str,
        origin: &str,
        epoch: u64,
        changes: &[RemoteChange],
        watermark: u64,
    ) -> StorageResult<ApplyOutcome> {
        self.apply_changes(peer, origin, epoch, changes, ApplyMode::Stream(watermark))
    }

    /// Applies verified changes of `origin` that a repair brought from `peer`, leaving the
    /// watermarks where they are (a repair never moves a watermark, in either direction).
    pub fn apply_repair(
        &self,
        peer: &str,
        origin: &str,
        epoch: u64,
        changes: &[RemoteChange],
    ) -> StorageResult<ApplyOutcome> {
        self.apply_changes(peer, origin, epoch, changes, ApplyMode::Repair)
    }

    /// Applies verified changes of `origin` that arrived ahead of their turn (alerts and
    /// acknowledgements from a priority stream), out of order with the origin's backlog:
    /// no watermark moves, and neither the change log nor the origin's highest sequence
    /// takes them yet, so that what this node relays onwards in sequence order never skips
    /// the backlog below them. When the ordered stream reaches the same change it finds it
    /// held (applied once, one alert-feed event) and puts it in the log.
    pub fn apply_ahead(
        &self,
        peer: &str,
        origin: &str,
        epoch: u64,
        changes: &[RemoteChange],
    ) -> StorageResult<ApplyOutcome> {
        self.apply_changes(peer, origin, epoch, changes, ApplyMode::Ahead)
    }

    fn apply_changes(
        &self,
        peer: &str,
        origin: &str,
        epoch: u64,
        changes: &[RemoteChange],
        mode: ApplyMode,
    ) -> StorageResult<ApplyOutcome> {
        if origin == self.origin {
            return Err(StorageError::Backend(format!(
                "{peer} sent changes of this node's own district {origin}"
            )));
        }
        self.transact_indexed(|tx| {
            let mut outcome = ApplyOutcome::default();
            let current_epoch = match tx.origins.get(origin.as_bytes())? {
                Some(v) => decode_origin(&v)?.0,
                None => epoch,
            };
            for change in changes {
                if change.origin != origin {
                    outcome.refused.push(format!(
                        "{} {} claims origin {} inside a batch of {origin}",
                        change.kind, change.id, change.origin
                    ));
                    continue;
                }
                if change.epoch != current_epoch {
                    outcome.refused.push(format!(
                        "{} {} of {origin} carries the retired epoch {}",
                        change.kind, change.id, change.epoch
                    ));
                    continue;
                }
                apply_one(tx, change, &mut outcome)?;
                if mode == ApplyMode::Ahead {
                    let key = log_key(&change.origin, change.seq);
                    if tx.log.get(&key)?.as_deref()
                        == Some(item_key(change.kind, &change.id).as_slice())
                        && tx
                            .state(change.kind, &change.id)?
                            .is_some_and(|s| s.seq == change.seq)
                    {
                        tx.log.remove(key)?;
                    }
                }
            }
            if mode == ApplyMode::Ahead {
                return Ok(outcome);
            }
            if let Some(highest) = changes
                .iter()
                .filter(|c| c.origin == origin && c.epoch == current_epoch)
                .map(|c| c.seq)
                .max()
            {
                tx.raise_origin_seq(origin, current_epoch, highest)?;
            }
            if let (ApplyMode::Stream(watermark), true) = (mode, epoch == current_epoch) {
                tx.watermarks
                    .insert(pair_key(peer, origin), encode_position(epoch, watermark))?;
            }
            Ok(outcome)
        })
        .and_then(|(outcome, _indexing)| {
            self.reindex(changes.iter().map(|c| (c.kind, c.id.as_str())))?;
            Ok(outcome)
        })
    }

    /// The watermarks of changes received from `peer`, per origin.
    pub fn watermarks(&self, peer: &str) -> StorageResult<Vec<Watermark>> {
        read_pairs(&self.t.watermarks, peer)
    }

    /// Forgets the watermark of (peer, origin), so the next sync starts from zero.
    pub fn reset_watermark(&self, peer: &str, origin: &str) -> StorageResult<()> {
        self.write_tx(|tx| tx.watermarks.remove(pair_key(peer, origin)))
    }

    /// Remembers how far `peer` says it has applied each origin (for lag and tombstone
    /// collection).
    pub fn set_peer_acks(&self, peer: &str, acks: &[Watermark]) -> StorageResult<()> {
        self.write_tx(|tx| {
            for ack in acks {
                tx.peer_acks.insert(
                    pair_key(peer, &ack.origin),
                    encode_position(ack.epoch, ack.seq),
                )?;
            }
            Ok(())
        })
    }

    /// How far `peer` last said it has applied each origin.
    pub fn peer_acks(&self, peer: &str) -> StorageResult<Vec<Watermark>> {
        read_pairs(&self.t.peer_acks, peer)
    }

    /// Keeps a verified key statement of `origin`. Statements are never removed, so changes
    /// signed with a rotated key still verify and can be relayed.
    pub fn put_key_statement(
        &self,
        origin: &str,
        key_id: &str,
        statement: &[u8],
    ) -> StorageResult<bool> {
        let key = pair_key(origin, key_id);
        let fresh = self.write_tx(|tx| {
            let fresh = tx.keys.get(&key)?.is_none();
            if fresh {
                tx.keys.insert(&key, statement)?;
            }
            Ok(fresh)
        })?;
        if fresh {
            self.keys_added
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(fresh)
    }

    /// A number that changes whenever a key statement is added (see `key_statements`).
    pub fn key_statements_version(&self) -> u64 {
        self.keys_added.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The encoded key statement held for `origin`'s key `key_id`, if any.
    pub fn key_statement(&self, origin: &str, key_id: &str) -> StorageResult<Option<Vec<u8>>> {
        self.t.keys.get(pair_key(origin, key_id))
    }

    /// Every key statement held: (origin, key id, encoded statement).
    pub fn key_statements(&self) -> StorageResult<Vec<(String, String, Vec<u8>)>> {
        let mut out = Vec::new();
        for entry in self.t.keys.iter() {
            let (key, value) = entry?;
            let origin = match key.iter().position(|&b| b == 0) {
                Some(i) => String::from_utf8_lossy(&key[..i]).into_owned(),
                None => continue,
            };
            out.push((origin, pair_key_second(&key), value));
        }
        Ok(out)
    }

    /// Every item of `origin` this node has a state for: (kind, id, state).
    pub fn items_of_origin(&self, origin: &str) -> StorageResult<Vec<(Kind, String, ItemState)>> {
        let mut out = Vec::new();
        for entry in self.t.index.scan_prefix(b"s") {
            let (key, value) = entry?;
            let state = decode_state(&value)?;
            if state.origin == origin {
                let (kind, id) = split_item_key(&key[1..])?;
                out.push((kind, id, state));
            }
        }
        Ok(out)
    }

    /// Removes replicated items entirely (data, photos nobody else references, envelope,
    /// state, log entry), in one transaction: what a full resync found the origin no longer
    /// has.
    pub fn drop_items(&self, items: &[(Kind, String)]) -> StorageResult<usize> {
        self.transact_indexed(|tx| {
            let mut dropped = 0;
            for (kind, id) in items {
                let Some(state) = tx.state(*kind, id)? else {
                    continue;
                };
                if state.origin == self.origin {
                    return abort(StorageError::Backend(format!(
                        "refusing to drop {kind} {id}: it belongs to this district"
                    )));
                }
                match kind {
                    Kind::Record => {
                        let old = tx.record(id)?;
                        tx.move_photo_refs(old.as_ref(), None)?;
                        tx.records.remove(id.as_bytes())?;
                    }
                    Kind::MoNote => {
                        tx.mo_notes.remove(id.as_bytes())?;
                    }
                    Kind::Alert | Kind::AlertAck => tx.drop_alert_item(*kind, id)?,
                }
                tx.search_docs.remove(item_key(*kind, id))?;
                tx.tombstones.remove(item_key(*kind, id))?;
                tx.envelopes.remove(item_key(*kind, id))?;
                tx.index.remove(state_key(*kind, id))?;
                tx.update_digest(*kind, id, Some(&state), None)?;
                let key = log_key(&state.origin, state.seq);
                if tx.log.get(&key)?.as_deref() == Some(item_key(*kind, id).as_slice()) {
                    tx.log.remove(key)?;
                }
                dropped += 1;
            }
            Ok(dropped)
        })
        .and_then(|(dropped, _indexing)| {
            self.reindex(items.iter().map(|(kind, id)| (*kind, id.as_str())))?;
            Ok(dropped)
        })
    }

    /// Photos referenced by held records whose bytes are not here yet.
    pub fn missing_photos(&self) -> StorageResult<Vec<String>> {
        let mut out = Vec::new();
        for entry in self.t.photo_meta.iter() {
            let (sha, _) = entry?;
            if self.t.photos.get(&sha)?.is_none() {
                out.push(String::from_utf8_lossy(&sha).into_owned());
            }
        }
        Ok(out)
    }

    /// Stores the bytes of a photo fetched from a peer, if a held record still references
    /// it. The caller has checked the bytes against the hash.
    pub fn store_fetched_photo(&self, sha256: &str, bytes: &[u8]) -> StorageResult<bool> {
        self.transact(|tx| {
            if tx.index.get(photo_ref_key(sha256))?.is_none()
                || tx.photos.get(sha256.as_bytes())?.is_some()
            {
                return Ok(false);
            }
            tx.photos.insert(sha256.as_bytes(), bytes)?;
            Ok(true)
        })
    }

    /// Removes tombstones (with their envelope, state and log entry) that `may_drop`
    /// accepts, in one transaction per tombstone; returns how many went.
    pub fn gc_tombstones(
        &self,
        may_drop: impl Fn(&ItemState, &setu_proto::v1::Tombstone) -> bool,
    ) -> StorageResult<usize> {
        let mut dropped = 0;
        for entry in self.t.tombstones.iter() {
            let (key, value) = entry?;
            let (kind, id) = split_item_key(&key)?;
            let tombstone = setu_proto::v1::Tombstone::decode(value.as_ref())?;
            let Some(state) = self.item_state(kind, &id)? else {
                continue;
            };
            if !state.deleted || !may_drop(&state, &tombstone) {
                continue;
            }
            let seq = state.seq;
            let removed = self.transact(|tx| {
                match tx.state(kind, &id)? {
                    Some(s) if s.seq == seq && s.deleted => {}
                    _ => return Ok(false),
                }
                tx.tombstones.remove(item_key(kind, &id))?;
                tx.envelopes.remove(item_key(kind, &id))?;
                tx.index.remove(state_key(kind, &id))?;
                tx.update_digest(kind, &id, Some(&state), None)?;
                let key = log_key(&state.origin, seq);
                if tx.log.get(&key)?.as_deref() == Some(item_key(kind, &id).as_slice()) {
                    tx.log.remove(key)?;
                }
                Ok(true)
            })?;
            if removed {
                dropped += 1;
            }
        }
        Ok(dropped)
    }
}

fn read_pairs(tree: &KvTree, first: &str) -> StorageResult<Vec<Watermark>> {
    let mut out = Vec::new();
    for entry in tree.scan_prefix(origin_prefix(first)) {
        let (key, value) = entry?;
        let (epoch, seq) = decode_position(&value)?;
        out.push(Watermark {
            origin: pair_key_second(&key),
            epoch,
            seq,
        });
    }
    Ok(out)
}
