//! The audit trail: an append-only, hash-chained log of officer calls in the `audit` tree.
//!
//! Layout of the `audit` tree (it is never part of the big write transaction):
//! - `e` + seq (8 bytes, big-endian) → the encoded [`AuditEntry`];
//! - `h` → the chain head: the last seq (8 bytes) followed by its hash (hex);
//! - `f` → the highest seq removed by retention (8 bytes), absent before the first prune.
//!
//! Each entry's `hash` is SHA-256 over the previous entry's hash (its hex text) followed by
//! the entry's protobuf encoding with `hash` empty. Prost encodes the fields of a message in
//! field-number order and skips default values, so the encoding is canonical for a given
//! entry. An append reads the head and writes the entry and the new head in one single-tree
//! transaction, so two concurrent appends can never take the same seq or fork the chain.
//!
//! Retention: [`Storage::prune_audit`] removes the oldest entries and records the highest
//! removed seq under `f` in the same atomic batch. Verification then starts at the first
//! kept entry, trusts that entry's `prev_hash` (the hash of an entry that no longer exists)
//! and requires its seq to follow the recorded prune point, so a removal beyond retention is
//! still detected.

use super::codec::{corrupt, read_u64};
use super::{Storage, StorageError, StorageResult};
use prost::Message;
use setu_proto::v1::AuditEntry;
use sha2::{Digest, Sha256};
use sled::transaction::ConflictableTransactionError;
use std::path::Path;

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

impl Storage {
    /// Appends `entry` to the audit trail, assigning the next seq, `prev_hash` and `hash`
    /// (whatever the caller put there is replaced). Returns the entry as stored. The caller
    /// flushes before acknowledging the call it records.
    pub fn append_audit(&self, entry: AuditEntry) -> StorageResult<AuditEntry> {
        let stored: AuditEntry = self.t.audit.transaction(|tx| {
            let (last_seq, last_hash) = match tx.get(HEAD_KEY)? {
                Some(head) => decode_head(&head).map_err(ConflictableTransactionError::Abort)?,
                None => (0, String::new()),
            };
            let mut entry = entry.clone();
            entry.seq = last_seq + 1;
            entry.prev_hash = last_hash;
            entry.hash = audit_hash(&entry);
            tx.insert(&entry_key(entry.seq), entry.encode_to_vec())?;
            tx.insert(HEAD_KEY, encode_head(entry.seq, &entry.hash))?;
            Ok::<_, ConflictableTransactionError<StorageError>>(entry)
        })?;
        Ok(stored)
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
            .range(start..)
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
            let mut batch = sled::Batch::default();
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
                batch.remove(&entry_key(entry.seq));
                highest = Some(entry.seq);
                in_batch += 1;
                true
            })?;
            let Some(highest) = highest else {
                return Ok(removed);
            };
            batch.insert(PRUNED_KEY, &highest.to_be_bytes());
            self.t.audit.apply_batch(batch)?;
            removed += in_batch as u64;
            if done {
                return Ok(removed);
            }
        }
    }

    /// Verifies the audit chain of the database in `dir`, which must not be open anywhere
    /// (sled allows one opener; a running node on `dir` is reported as such).
    pub fn verify_audit_dir(dir: &Path) -> StorageResult<Result<u64, AuditBreak>> {
        let tree = open_audit_tree(dir)?;
        verify_tree(&tree)
    }
}

/// Opens the `audit` tree of the database in `dir` for a tool (verification, tests).
pub fn open_audit_tree(dir: &Path) -> StorageResult<sled::Tree> {
    if !dir.join("db").exists() && !dir.join("conf").exists() {
        return Err(StorageError::Backend(format!(
            "{} holds no Setu database",
            dir.display()
        )));
    }
    let db = sled::Config::new().path(dir).open().map_err(|e| {
        let text = e.to_string();
        if text.contains("could not acquire lock") {
            StorageError::Backend(format!(
                "the database in {} is in use, probably by a running setu-node; stop the node first",
                dir.display()
            ))
        } else {
            StorageError::Backend(format!("cannot open {}: {text}", dir.display()))
        }
    })?;
    Ok(db.open_tree("audit")?)
}

fn verify_tree(tree: &sled::Tree) -> StorageResult<Result<u64, AuditBreak>> {
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

/// Overwrites the stored bytes of entry `seq` in `tree` (tests of tamper detection only).
#[doc(hidden)]
pub fn overwrite_audit_entry(tree: &sled::Tree, seq: u64, bytes: &[u8]) -> StorageResult<()> {
    tree.insert(entry_key(seq), bytes)?;
    tree.flush()?;
    Ok(())
}

/// The stored bytes of entry `seq` in `tree`, if any (tests of tamper detection only).
#[doc(hidden)]
pub fn audit_entry_bytes(tree: &sled::Tree, seq: u64) -> StorageResult<Option<Vec<u8>>> {
    Ok(tree.get(entry_key(seq))?.map(|v| v.to_vec()))
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
            let (key, value) = item?;
            entries.push((key.to_vec(), value.to_vec()));
        }
        let pruned = self.t.audit.get(PRUNED_KEY)?;
        let pruned_seq = pruned.as_deref().and_then(read_u64).unwrap_or(0);
        let mut out: Vec<(Vec<u8>, Vec<u8>)> = entries
            .into_iter()
            .filter(|(key, _)| seq_of_key(key).is_some_and(|seq| seq > pruned_seq))
            .collect();
        if let Some(head) = head {
            out.push((HEAD_KEY.to_vec(), head.to_vec()));
        }
        if let Some(pruned) = pruned {
            out.push((PRUNED_KEY.to_vec(), pruned.to_vec()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::tests::store;

    fn open_temp() -> (tempfile::TempDir, Storage) {
        store("jh-dhanbad")
    }

    fn entry(at_ms: i64, officer: &str, action: &str) -> AuditEntry {
        AuditEntry {
            at_ms,
            officer: officer.into(),
            action: action.into(),
            outcome: "OK".into(),
            ..Default::default()
        }
    }

    #[test]
    fn appends_chain_and_verify() {
        let (_dir, s) = open_temp();
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

    #[test]
    fn changed_entry_is_found() {
        let (_dir, s) = open_temp();
        for i in 0..3 {
            s.append_audit(entry(i, "JH-1", "record.get")).unwrap();
        }
        let mut second = s.audit_range(1, 1).unwrap().remove(0);
        second.officer = "JH-9".into();
        overwrite_audit_entry(&s.t.audit, 2, &second.encode_to_vec()).unwrap();
        let broken = s.verify_audit().unwrap().unwrap_err();
        assert_eq!(broken.seq, 2);
        assert!(broken.reason.contains("hash"), "{broken}");
    }

    #[test]
    fn removed_entries_are_found() {
        let (_dir, s) = open_temp();
        for i in 0..4 {
            s.append_audit(entry(i, "JH-1", "record.get")).unwrap();
        }
        s.t.audit.remove(entry_key(2)).unwrap();
        let broken = s.verify_audit().unwrap().unwrap_err();
        assert_eq!(broken.seq, 2);
        assert!(broken.reason.contains("missing"), "{broken}");

        let (_dir, s) = open_temp();
        for i in 0..4 {
            s.append_audit(entry(i, "JH-1", "record.get")).unwrap();
        }
        s.t.audit.remove(entry_key(4)).unwrap();
        assert_eq!(s.verify_audit().unwrap().unwrap_err().seq, 4);

        let (_dir, s) = open_temp();
        for i in 0..4 {
            s.append_audit(entry(i, "JH-1", "record.get")).unwrap();
        }
        s.t.audit.remove(entry_key(1)).unwrap();
        assert_eq!(s.verify_audit().unwrap().unwrap_err().seq, 1);
    }

    #[test]
    fn pruning_keeps_the_chain_verifiable() {
        let (_dir, s) = open_temp();
        for i in 0..10 {
            s.append_audit(entry(i * 100, "JH-1", "record.get"))
                .unwrap();
        }
        assert_eq!(s.prune_audit(450).unwrap(), 5);
        assert_eq!(s.verify_audit().unwrap(), Ok(5));
        assert_eq!(s.audit_range(0, 100).unwrap()[0].seq, 6);
        // Removing the first kept entry is still detected after a prune.
        s.t.audit.remove(entry_key(6)).unwrap();
        assert_eq!(s.verify_audit().unwrap().unwrap_err().seq, 6);
    }

    #[test]
    fn concurrent_appends_keep_one_chain() {
        let (_dir, s) = open_temp();
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
}
