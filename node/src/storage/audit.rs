//! The audit trail: an append-only, hash-chained log of officer calls in the `audit` tree.
//!
//! Invariant: a write made under an officer call and its audit entry are one transaction.
//! `service::officer_call` runs its handler inside a [`CALL_AUDIT`] scope holding the
//! call's draft entry; every write transaction (`Storage::transact`) that commits a local
//! change inside such a scope appends the call's entry, listing the ids it committed, in
//! that same commit (the `audit` tree is one of its trees). After `kill -9` a
//! write is therefore never durable without its entry, whichever flush made it durable.
//! Reads, refusals and failures are appended on their own with [`Storage::append_audit`].
//! Writes outside officer calls (federation apply, tombstone collection, the re-signing
//! after an epoch change) carry no entry.
//!
//! Layout of the `audit` tree:
//! - `e` + seq (8 bytes, big-endian) → the encoded [`AuditEntry`];
//! - `h` → the chain head: the last seq (8 bytes) followed by its hash (hex);
//! - `f` → the highest seq removed by retention (8 bytes), absent before the first prune.
//!
//! Each entry's `hash` is SHA-256 over the previous entry's hash (its hex text) followed by
//! the entry's protobuf encoding with `hash` empty. Prost encodes the fields of a message in
//! field-number order and skips default values, so the encoding is canonical for a given
//! entry. An append reads the head and writes the entry and the new head in one commit
//! under the store's writer lock (its own for [`Storage::append_audit`], the write's for an
//! entry carried by a write; both go through `append_in`), so two concurrent appends can
//! never take the same seq or fork the chain.
//!
//! Retention: [`Storage::prune_audit`] removes the oldest entries and records the highest
//! removed seq under `f` in the same atomic batch. Verification then starts at the first
//! kept entry, trusts that entry's `prev_hash` (the hash of an entry that no longer exists)
//! and requires its seq to follow the recorded prune point, so a removal beyond retention is
//! still detected.

use super::codec::{corrupt, read_u64};
use super::kv::{KvTree, TreeName, WriteBatch};
use super::store::{TxResult, TxTree};
use super::{Storage, StorageResult};
use prost::Message;
use setu_proto::v1::AuditEntry;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Arc, Mutex};

const ENTRY_PREFIX: u8 = b'e';
const HEAD_KEY: &[u8] = b"h";
const PRUNED_KEY: &[u8] = b"f";
/// Entries removed per atomic batch when pruning.
const PRUNE_BATCH: usize = 10_000;

/// Where and why the audit chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditBreak {
    /// The seq of the first entry that does not verify (or that is missing).
    pub seq: u64,
    /// A sentence saying what is wrong.
    pub reason: String,
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "entry {}: {}", self.seq, self.reason)
    }
}

fn entry_key(seq: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = ENTRY_PREFIX;
    key[1..].copy_from_slice(&seq.to_be_bytes());
    key
}

fn seq_of_key(key: &[u8]) -> Option<u64> {
    match key {
        [ENTRY_PREFIX, rest @ ..] => read_u64(rest),
        _ => None,
    }
}

fn encode_head(seq: u64, hash: &str) -> Vec<u8> {
    let mut value = seq.to_be_bytes().to_vec();
    value.extend_from_slice(hash.as_bytes());
    value
}

fn decode_head(value: &[u8]) -> StorageResult<(u64, String)> {
    let (seq, hash) = value
        .split_at_checked(8)
        .ok_or_else(|| corrupt("audit head", "shorter than 8 bytes"))?;
    let seq = read_u64(seq).ok_or_else(|| corrupt("audit head", "not 8 bytes"))?;
    let hash =
        String::from_utf8(hash.to_vec()).map_err(|e| corrupt("audit head", e.to_string()))?;
    Ok((seq, hash))
}

/// The hash of `entry`: SHA-256 over `prev_hash` and the entry encoded with `hash` empty.
pub fn audit_hash(entry: &AuditEntry) -> String {
    let mut unhashed = entry.clone();
    unhashed.hash.clear();
    let mut hasher = Sha256::new();
    hasher.update(entry.prev_hash.as_bytes());
    hasher.update(unhashed.encode_to_vec());
    hex::encode(hasher.finalize())
}

tokio::task_local! {
    /// The officer call the current task works for, set by `service::officer_call` around
    /// its handler (and re-entered with `sync_scope` on the blocking threads a handler uses),
    /// so that each write transaction can carry the call's audit entry.
    pub(crate) static CALL_AUDIT: Arc<CallAudit>;
}

/// The audit entry of one officer call in progress, as drafted before its handler runs,
/// and the entries its writes have committed so far.
#[derive(Debug)]
pub(crate) struct CallAudit {
    /// Who called, which method, the action and the request's ids and query summary.
    draft: AuditEntry,
    /// The seqs of the entries committed with the call's writes.
    committed: Mutex<Vec<u64>>,
}

impl CallAudit {
    /// A call whose writes are recorded from `draft` (its outcome, results, time, seq and
    /// hashes are filled in per write).
    pub(crate) fn new(draft: AuditEntry) -> CallAudit {
        CallAudit {
            draft,
            committed: Mutex::new(Vec::new()),
        }
    }

    /// The call of the current task, if it runs inside a [`CALL_AUDIT`] scope.
    pub(crate) fn current() -> Option<Arc<CallAudit>> {
        CALL_AUDIT.try_with(Arc::clone).ok()
    }

    /// The seqs of the entries the call's writes committed, in commit order.
    pub(crate) fn committed(&self) -> Vec<u64> {
        self.committed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The entry of a write that committed the changes of `ids`.
    pub(super) fn entry_for_write(&self, ids: &[String]) -> AuditEntry {
        let mut entry = self.draft.clone();
        for id in ids {
            if !entry.ids.contains(id) {
                entry.ids.push(id.clone());
            }
        }
        entry.outcome = "OK".to_string();
        entry.results = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        entry.at_ms = crate::clock::now_ms();
        entry
    }

    /// Notes that entry `seq` was committed with one of the call's writes.
    pub(super) fn note_committed(&self, seq: u64) {
        self.committed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(seq);
    }
}

/// Appends `entry` to the audit chain inside a transaction, through its `audit` tree `tx`:
/// takes the next seq after the head, links `prev_hash`, computes `hash` and moves the head.
pub(super) fn append_in(tx: &TxTree<'_>, mut entry: AuditEntry) -> TxResult<AuditEntry> {
    let (last_seq, last_hash) = match tx.get(HEAD_KEY)? {
        Some(head) => decode_head(&head)?,
        None => (0, String::new()),
    };
    entry.seq = last_seq + 1;
    entry.prev_hash = last_hash;
    entry.hash = audit_hash(&entry);
    tx.insert(entry_key(entry.seq), entry.encode_to_vec())?;
    tx.insert(HEAD_KEY, encode_head(entry.seq, &entry.hash))?;
    Ok(entry)
}

impl Storage {
    /// Appends `entry` to the audit trail, assigning the next seq, `prev_hash` and `hash`
    /// (whatever the caller put there is replaced). Returns the entry as stored. The caller
    /// flushes before acknowledging the call it records. For reads, refusals and failures:
    /// a write under an officer call carries its entry in its own transaction instead.
    pub fn append_audit(&self, entry: AuditEntry) -> StorageResult<AuditEntry> {
        self.write_tx(|tx| append_in(&tx.audit, entry))
    }

    /// Up to `limit` entries with a seq above `after_seq`, in seq order.
    pub fn audit_range(&self, after_seq: u64, limit: usize) -> StorageResult<Vec<AuditEntry>> {
        let mut out = Vec::new();
        self.scan_audit(after_seq, usize::MAX, |entry| {
            out.push(entry);
            out.len() < limit
        })?;
        Ok(out)
    }

    /// Calls `visit` with each entry above `after_seq` in seq order, looking at no more than
    /// `max_scan` entries, until `visit` returns false. Returns the seq of the last entry
    /// looked at (or `after_seq` when none was).
    pub fn scan_audit(
        &self,
        after_seq: u64,
        max_scan: usize,
        mut visit: impl FnMut(AuditEntry) -> bool,
    ) -> StorageResult<u64> {
        let start = entry_key(after_seq.saturating_add(1));
        let mut last = after_seq;
        for item in self
            .t
            .audit
            .range(start.to_vec()..)
            .take_while(|r| {
                r.as_ref()
                    .map(|(k, _)| k[0] == ENTRY_PREFIX)
                    .unwrap_or(true)
            })
            .take(max_scan)
        {
            let (key, value) = item?;
            last = seq_of_key(&key).ok_or_else(|| corrupt("audit key", "not prefix + 8 bytes"))?;
            let entry = AuditEntry::decode(value.as_ref())
                .map_err(|e| corrupt(&format!("audit entry {last}"), e.to_string()))?;
            if !visit(entry) {
                break;
            }
        }
        Ok(last)
    }

    /// Visits the entries before `before_seq` (all of them for 0), newest first, looking at
    /// no more than `max_scan`, until `visit` returns false; returns the seq of the last
    /// entry looked at (`before_seq` when none was).
    pub fn scan_audit_back(
        &self,
        before_seq: u64,
        max_scan: usize,
        mut visit: impl FnMut(AuditEntry) -> bool,
    ) -> StorageResult<u64> {
        let end = if before_seq == 0 {
            entry_key(u64::MAX)
        } else {
            entry_key(before_seq)
        };
        let mut last = before_seq;
        for item in self
            .t
            .audit
            .range_rev(entry_key(0).to_vec()..end.to_vec())
            .take(max_scan)
        {
            let (key, value) = item?;
            last = seq_of_key(&key).ok_or_else(|| corrupt("audit key", "not prefix + 8 bytes"))?;
            let entry = AuditEntry::decode(value.as_ref())
                .map_err(|e| corrupt(&format!("audit entry {last}"), e.to_string()))?;
            if !visit(entry) {
                break;
            }
        }
        Ok(last)
    }

    /// Walks the whole chain. `Ok(Ok(n))`: `n` entries verified; `Ok(Err(b))`: the chain
    /// breaks at `b`; `Err`: the store could not be read.
    pub fn verify_audit(&self) -> StorageResult<Result<u64, AuditBreak>> {
        verify_tree(&self.t.audit)
    }

    /// Removes the entries written before `before_ms` (oldest first, stopping at the first
    /// newer one) and records the highest removed seq, so the rest still verifies. Returns
    /// how many entries were removed.
    pub fn prune_audit(&self, before_ms: i64) -> StorageResult<u64> {
        let mut removed = 0u64;
        loop {
            let mut batch = WriteBatch::new();
            let mut highest = None;
            let mut done = true;
            let mut in_batch = 0usize;
            self.scan_audit(0, PRUNE_BATCH + 1, |entry| {
                if entry.at_ms >= before_ms {
                    return false;
                }
                if in_batch == PRUNE_BATCH {
                    done = false;
                    return false;
                }
                batch.remove(TreeName::Audit, entry_key(entry.seq));
                highest = Some(entry.seq);
                in_batch += 1;
                true
            })?;
            let Some(highest) = highest else {
                return Ok(removed);
            };
            batch.insert(TreeName::Audit, PRUNED_KEY, highest.to_be_bytes());
            self.commit_batch(batch)?;
            removed += in_batch as u64;
            if done {
                return Ok(removed);
            }
        }
    }

    /// Verifies the audit chain of the database in `dir`, which must not be open anywhere
    /// (the engine allows one opener; a running node on `dir` is reported as such).
    pub fn verify_audit_dir(dir: &Path) -> StorageResult<Result<u64, AuditBreak>> {
        AuditFile::open(dir)?.verify()
    }
}

/// The audit trail of a stopped node's database, opened on its folder by a tool
/// (`setu-node audit verify`) or a test of tamper detection.
pub struct AuditFile {
    tree: KvTree,
}

impl AuditFile {
    /// Opens the audit trail of the database in `dir`, which must hold one and must not be
    /// open anywhere (a running node on `dir` is reported as such).
    pub fn open(dir: &Path) -> StorageResult<AuditFile> {
        let kv = super::kv::SledKv::open_existing(dir)?;
        Ok(AuditFile {
            tree: KvTree::new(Arc::new(kv), TreeName::Audit),
        })
    }

    /// Walks the whole chain, as [`Storage::verify_audit`] does.
    pub fn verify(&self) -> StorageResult<Result<u64, AuditBreak>> {
        verify_tree(&self.tree)
    }

    /// The stored bytes of entry `seq`, if any (tests of tamper detection only).
    #[doc(hidden)]
    pub fn entry_bytes(&self, seq: u64) -> StorageResult<Option<Vec<u8>>> {
        self.tree.get(entry_key(seq))
    }

    /// Overwrites the stored bytes of entry `seq`, durably (tests of tamper detection only).
    #[doc(hidden)]
    pub fn overwrite_entry(&self, seq: u64, bytes: &[u8]) -> StorageResult<()> {
        let mut batch = WriteBatch::new();
        batch.insert(TreeName::Audit, entry_key(seq), bytes);
        self.tree.kv().commit(batch)?;
        self.tree.kv().flush()
    }
}

fn verify_tree(tree: &KvTree) -> StorageResult<Result<u64, AuditBreak>> {
    let pruned = match tree.get(PRUNED_KEY)? {
        Some(v) => read_u64(&v).ok_or_else(|| corrupt("audit prune point", "not 8 bytes"))?,
        None => 0,
    };
    let head = tree.get(HEAD_KEY)?.map(|v| decode_head(&v)).transpose()?;
    let mut checked = 0u64;
    // The seq and hash of the last verified entry; before the first, what it must follow.
    let mut last_seq = pruned;
    let mut last_hash: Option<String> = None;
    for item in tree.scan_prefix([ENTRY_PREFIX]) {
        let (key, value) = item?;
        let Some(key_seq) = seq_of_key(&key) else {
            return Ok(Err(AuditBreak {
                seq: last_seq + 1,
                reason: "a stored key is not a valid audit key".into(),
            }));
        };
        // Entries appended after the head was read (on a live store) are not checked.
        if head
            .as_ref()
            .is_some_and(|(head_seq, _)| key_seq > *head_seq)
        {
            break;
        }
        let entry = match AuditEntry::decode(value.as_ref()) {
            Ok(entry) => entry,
            Err(e) => {
                return Ok(Err(AuditBreak {
                    seq: key_seq,
                    reason: format!("the stored entry cannot be decoded ({e})"),
                }))
            }
        };
        if key_seq != last_seq + 1 {
            return Ok(Err(AuditBreak {
                seq: last_seq + 1,
                reason: format!(
                    "entry {} is missing (the next stored entry is {key_seq})",
                    last_seq + 1
                ),
            }));
        }
        if entry.seq != key_seq {
            return Ok(Err(AuditBreak {
                seq: key_seq,
                reason: format!(
                    "the entry says seq {} but is stored as {key_seq}",
                    entry.seq
                ),
            }));
        }
        match &last_hash {
            // The first kept entry: before any prune it must start the chain; after one,
            // its prev_hash names an entry that was removed and is trusted.
            None if pruned == 0 && !entry.prev_hash.is_empty() => {
                return Ok(Err(AuditBreak {
                    seq: key_seq,
                    reason: "the first entry has a prev_hash, so earlier entries were removed"
                        .into(),
                }))
            }
            Some(prev) if *prev != entry.prev_hash => {
                return Ok(Err(AuditBreak {
                    seq: key_seq,
                    reason: format!(
                        "prev_hash does not match the hash of entry {last_seq} (an entry was changed or removed)"
                    ),
                }))
            }
            _ => {}
        }
        if audit_hash(&entry) != entry.hash {
            return Ok(Err(AuditBreak {
                seq: key_seq,
                reason: "its content does not match its hash (the entry was changed)".into(),
            }));
        }
        last_seq = key_seq;
        last_hash = Some(entry.hash);
        checked += 1;
    }
    if let Some((head_seq, head_hash)) = head {
        if head_seq != last_seq {
            return Ok(Err(AuditBreak {
                seq: last_seq + 1,
                reason: format!(
                    "entries {}..={head_seq} are missing (the chain head is at {head_seq})",
                    last_seq + 1
                ),
            }));
        }
        if let Some(hash) = last_hash {
            if hash != head_hash {
                return Ok(Err(AuditBreak {
                    seq: last_seq,
                    reason: "its hash does not match the chain head".into(),
                }));
            }
        }
    } else if checked > 0 || pruned > 0 {
        return Ok(Err(AuditBreak {
            seq: last_seq,
            reason: "the chain head is missing".into(),
        }));
    }
    Ok(Ok(checked))
}

impl Storage {
    /// A consistent copy of the audit tree for a backup, taken while appends go on: the
    /// head is read first and only entries up to it are kept, and the prune point is read
    /// last with the entries it covers left out, so the copy verifies as a whole.
    pub(super) fn audit_snapshot(&self) -> StorageResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let head = self.t.audit.get(HEAD_KEY)?;
        let head_seq = match &head {
            Some(value) => decode_head(value)?.0,
            None => 0,
        };
        let mut entries = Vec::new();
        for item in self
            .t
            .audit
            .range(entry_key(0).to_vec()..=entry_key(head_seq).to_vec())
        {
            entries.push(item?);
        }
        let pruned = self.t.audit.get(PRUNED_KEY)?;
        let pruned_seq = pruned.as_deref().and_then(read_u64).unwrap_or(0);
        let mut out: Vec<(Vec<u8>, Vec<u8>)> = entries
            .into_iter()
            .filter(|(key, _)| seq_of_key(key).is_some_and(|seq| seq > pruned_seq))
            .collect();
        if let Some(head) = head {
            out.push((HEAD_KEY.to_vec(), head));
        }
        if let Some(pruned) = pruned {
            out.push((PRUNED_KEY.to_vec(), pruned));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::tests::{on_both_engines, store, Engine};
    use crate::storage::StorageError;

    on_both_engines!(
        appends_chain_and_verify,
        changed_entry_is_found,
        removed_entries_are_found,
        pruning_keeps_the_chain_verifiable,
        a_write_under_a_call_carries_one_chained_entry,
        an_aborted_write_leaves_no_entry,
        concurrent_appends_keep_one_chain,
    );

    fn entry(at_ms: i64, officer: &str, action: &str) -> AuditEntry {
        AuditEntry {
            at_ms,
            officer: officer.into(),
            action: action.into(),
            outcome: "OK".into(),
            ..Default::default()
        }
    }

    fn appends_chain_and_verify(engine: Engine) {
        let (_dir, s) = store(engine, "jh-dhanbad");
        assert_eq!(s.verify_audit().unwrap(), Ok(0));
        let a = s.append_audit(entry(1, "JH-1", "record.get")).unwrap();
        let b = s.append_audit(entry(2, "JH-2", "record.list")).unwrap();
        assert_eq!((a.seq, b.seq), (1, 2));
        assert!(a.prev_hash.is_empty());
        assert_eq!(b.prev_hash, a.hash);
        assert_eq!(audit_hash(&b), b.hash);
        assert_eq!(s.verify_audit().unwrap(), Ok(2));
        let range = s.audit_range(1, 10).unwrap();
        assert_eq!(range.len(), 1);
        assert_eq!(range[0].seq, 2);
    }

    fn changed_entry_is_found(engine: Engine) {
        let (_dir, s) = store(engine, "jh-dhanbad");
        for i in 0..3 {
            s.append_audit(entry(i, "JH-1", "record.get")).unwrap();
        }
        let mut second = s.audit_range(1, 1).unwrap().remove(0);
        second.officer = "JH-9".into();
        s.t.audit
            .insert(entry_key(2).to_vec(), second.encode_to_vec());
        let broken = s.verify_audit().unwrap().unwrap_err();
        assert_eq!(broken.seq, 2);
        assert!(broken.reason.contains("hash"), "{broken}");
    }

    fn removed_entries_are_found(engine: Engine) {
        let (_dir, s) = store(engine, "jh-dhanbad");
        for i in 0..4 {
            s.append_audit(entry(i, "JH-1", "record.get")).unwrap();
        }
        s.t.audit.remove(entry_key(2).to_vec());
        let broken = s.verify_audit().unwrap().unwrap_err();
        assert_eq!(broken.seq, 2);
        assert!(broken.reason.contains("missing"), "{broken}");

        let (_dir, s) = store(engine, "jh-dhanbad");
        for i in 0..4 {
            s.append_audit(entry(i, "JH-1", "record.get")).unwrap();
        }
        s.t.audit.remove(entry_key(4).to_vec());
        assert_eq!(s.verify_audit().unwrap().unwrap_err().seq, 4);

        let (_dir, s) = store(engine, "jh-dhanbad");
        for i in 0..4 {
            s.append_audit(entry(i, "JH-1", "record.get")).unwrap();
        }
        s.t.audit.remove(entry_key(1).to_vec());
        assert_eq!(s.verify_audit().unwrap().unwrap_err().seq, 1);
    }

    fn pruning_keeps_the_chain_verifiable(engine: Engine) {
        let (_dir, s) = store(engine, "jh-dhanbad");
        for i in 0..10 {
            s.append_audit(entry(i * 100, "JH-1", "record.get"))
                .unwrap();
        }
        assert_eq!(s.prune_audit(450).unwrap(), 5);
        assert_eq!(s.verify_audit().unwrap(), Ok(5));
        assert_eq!(s.audit_range(0, 100).unwrap()[0].seq, 6);
        // Removing the first kept entry is still detected after a prune.
        s.t.audit.remove(entry_key(6).to_vec());
        assert_eq!(s.verify_audit().unwrap().unwrap_err().seq, 6);
    }

    /// A record of the test district, new (version 1).
    fn record(id: &str) -> setu_proto::v1::PersonRecord {
        setu_proto::v1::PersonRecord {
            id: id.into(),
            origin: "jh-dhanbad".into(),
            version: 1,
            name: "Imaginary Example Person".into(),
            handling: setu_proto::v1::Handling::Federation as i32,
            ..Default::default()
        }
    }

    /// The draft entry of an officer's create call.
    fn create_call() -> Arc<CallAudit> {
        Arc::new(CallAudit::new(AuditEntry {
            officer: "JH-1001".into(),
            officer_name: "Imaginary Officer".into(),
            district: "jh-dhanbad".into(),
            role: "officer".into(),
            action: "record.create".into(),
            method: "RecordService/Create".into(),
            ..Default::default()
        }))
    }

    fn a_write_under_a_call_carries_one_chained_entry(engine: Engine) {
        let (_dir, s) = store(engine, "jh-dhanbad");
        s.append_audit(entry(1, "JH-2", "record.get")).unwrap();
        let call = create_call();
        CALL_AUDIT.sync_scope(call.clone(), || {
            s.put_record(&record("rec-1"), crate::storage::Expect::Absent, &[])
                .unwrap();
        });
        assert_eq!(call.committed(), vec![2]);
        let all = s.audit_range(0, 10).unwrap();
        assert_eq!(all.len(), 2, "{all:#?}");
        let written = &all[1];
        assert_eq!(written.seq, 2);
        assert_eq!(written.prev_hash, all[0].hash);
        assert_eq!(written.officer, "JH-1001");
        assert_eq!(written.action, "record.create");
        assert_eq!(written.outcome, "OK");
        assert_eq!(written.ids, vec!["rec-1".to_string()]);
        assert_eq!(written.results, 1);
        assert!(written.at_ms > 0);
        assert_eq!(s.verify_audit().unwrap(), Ok(2));

        // A bulk write is one transaction and so one entry listing every id.
        let call = create_call();
        CALL_AUDIT.sync_scope(call.clone(), || {
            s.put_new_records(&[record("rec-2"), record("rec-3")])
                .unwrap();
        });
        assert_eq!(call.committed(), vec![3]);
        let bulk = s.audit_range(2, 10).unwrap();
        assert_eq!(bulk.len(), 1);
        assert_eq!(bulk[0].ids, vec!["rec-2".to_string(), "rec-3".to_string()]);
        assert_eq!(bulk[0].results, 2);
        assert_eq!(s.verify_audit().unwrap(), Ok(3));
    }

    fn an_aborted_write_leaves_no_entry(engine: Engine) {
        let (_dir, s) = store(engine, "jh-dhanbad");
        s.put_record(&record("rec-1"), crate::storage::Expect::Absent, &[])
            .unwrap();
        // Outside a call, a write carries no entry.
        assert!(s.audit_range(0, 10).unwrap().is_empty());
        let call = create_call();
        let mut stale = record("rec-1");
        stale.version = 3;
        let refused = CALL_AUDIT.sync_scope(call.clone(), || {
            s.put_record(&stale, crate::storage::Expect::Version(2), &[])
        });
        assert!(matches!(
            refused,
            Err(StorageError::VersionConflict { actual: 1, .. })
        ));
        assert!(call.committed().is_empty());
        assert!(s.audit_range(0, 10).unwrap().is_empty());
        assert_eq!(s.verify_audit().unwrap(), Ok(0));
    }

    fn concurrent_appends_keep_one_chain(engine: Engine) {
        let (_dir, s) = store(engine, "jh-dhanbad");
        std::thread::scope(|scope| {
            for t in 0..4 {
                let s = &s;
                scope.spawn(move || {
                    for i in 0..25 {
                        s.append_audit(entry(i, &format!("JH-{t}"), "record.get"))
                            .unwrap();
                    }
                });
            }
        });
        assert_eq!(s.verify_audit().unwrap(), Ok(100));
    }

    /// On sled only: the tool opens a stopped node's folder.
    #[test]
    fn the_audit_file_of_a_stopped_store_verifies_and_shows_tampering() {
        let (dir, s) = store(Engine::Sled, "jh-dhanbad");
        let dir = dir.expect("a folder");
        for i in 0..3 {
            s.append_audit(entry(i, "JH-1", "record.get")).unwrap();
        }
        // A running store holds the database.
        let busy = AuditFile::open(dir.path())
            .err()
            .expect("refused while open");
        assert!(busy.to_string().contains("in use"), "{busy}");
        drop(s);
        let file = AuditFile::open(dir.path()).unwrap();
        assert_eq!(file.verify().unwrap(), Ok(3));
        let mut second =
            AuditEntry::decode(file.entry_bytes(2).unwrap().unwrap().as_slice()).unwrap();
        second.officer = "JH-9".into();
        file.overwrite_entry(2, &second.encode_to_vec()).unwrap();
        assert_eq!(file.verify().unwrap().unwrap_err().seq, 2);
        drop(file);
        assert_eq!(
            Storage::verify_audit_dir(dir.path())
                .unwrap()
                .unwrap_err()
                .seq,
            2
        );
        let empty = tempfile::tempdir().unwrap();
        let none = AuditFile::open(empty.path()).err().expect("no database");
        assert!(
            none.to_string().contains("holds no Setu database"),
            "{none}"
        );
    }
}
