//! Unit tests of the storage layer: versions, external references, photos, paging, the
//! change log and the application of remote changes.
//!
//! Each test that needs no folder runs on both engines (sled on disk and the map in
//! memory): it takes an [`Engine`], and [`on_both_engines!`] makes one `#[test]` per engine
//! of it (`sled_engine::name` and `memory_engine::name`). The tests of the search index's
//! snapshot reopen a store on its folder and so run on sled only.

use super::*;
use prost::Message;
use setu_proto::v1::{EnvelopePayload, Handling, PhotoRef};
use std::sync::Arc;

/// Signs nothing: the storage layer only stores what the signer returns.
struct NullSigner;

impl ChangeSigner for NullSigner {
    fn sign(&self, payload: &[u8]) -> Envelope {
        Envelope {
            payload: payload.to_vec(),
            key_id: "test".into(),
            signature: vec![0; 64],
            retraction: None,
        }
    }
}

/// The engines a storage test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    /// sled, in a temporary folder.
    Sled,
    /// The in-memory map.
    Memory,
}

/// What must outlive a test's store: its temporary folder, for an engine on disk.
pub(crate) type Held = Option<tempfile::TempDir>;

/// A new, empty store of `origin` on `engine`.
pub(crate) fn store(engine: Engine, origin: &str) -> (Held, Storage) {
    match engine {
        Engine::Sled => {
            let dir = tempfile::tempdir().expect("tempdir");
            let storage = Storage::open(dir.path(), 16 * 1024 * 1024, origin, Arc::new(NullSigner))
                .expect("open");
            (Some(dir), storage)
        }
        Engine::Memory => {
            let storage = Storage::open_in_memory(origin, Arc::new(NullSigner)).expect("open");
            (None, storage)
        }
    }
}

/// Makes a `#[test]` per engine of each named function, which takes an [`Engine`]: in a
/// module `sled_engine` and a module `memory_engine` of the calling module.
macro_rules! on_both_engines {
    ($($test:ident),* $(,)?) => {
        mod sled_engine {
            $(
                #[test]
                fn $test() {
                    super::$test($crate::storage::tests::Engine::Sled)
                }
            )*
        }
        mod memory_engine {
            $(
                #[test]
                fn $test() {
                    super::$test($crate::storage::tests::Engine::Memory)
                }
            )*
        }
    };
}
pub(crate) use on_both_engines;

fn record(id: &str, version: u64) -> PersonRecord {
    PersonRecord {
        id: id.into(),
        origin: "jh-dhanbad".into(),
        version,
        name: "Test Person".into(),
        external_ref: "DHN/1".into(),
        handling: Handling::Federation as i32,
        ..Default::default()
    }
}

fn create_update_expunge_keeps_log_compact(engine: Engine) {
    let (_dir, s) = store(engine, "jh-dhanbad");
    let c1 = s.put_record(&record("a", 1), Expect::Absent, &[]).unwrap();
    assert_eq!(c1.seq, 1);
    let c2 = s
        .put_record(&record("a", 2), Expect::Version(1), &[])
        .unwrap();
    assert_eq!(c2.seq, 2);
    // The stale version is refused and changes nothing.
    let err = s
        .put_record(&record("a", 3), Expect::Version(1), &[])
        .unwrap_err();
    assert!(matches!(
        err,
        StorageError::VersionConflict { actual: 2, .. }
    ));
    assert_eq!(s.record("a").unwrap().version, 2);
    let log = s.log_after("jh-dhanbad", 0, 10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].state.seq, 2);
    let payload = EnvelopePayload::decode(log[0].envelope.payload.as_slice()).unwrap();
    assert_eq!((payload.seq, payload.epoch), (2, s.epoch()));
    assert!(log[0].envelope.retraction.is_some());
    let tomb = s
        .expunge(Kind::Record, "a", Some(2), "duplicate", "JH-1", 5)
        .unwrap();
    assert_eq!(tomb.version, 3);
    assert!(matches!(
        s.record("a").unwrap_err(),
        StorageError::Expunged { version: 3, .. }
    ));
    assert!(s
        .record_id_by_external_ref("jh-dhanbad", "DHN/1")
        .unwrap()
        .is_none());
    let log = s.log_after("jh-dhanbad", 0, 10).unwrap();
    assert_eq!(log.len(), 1);
    assert!(log[0].state.deleted);
    assert_eq!(s.origin_info("jh-dhanbad").unwrap().unwrap().max_seq, 3);
}

fn external_ref_is_unique_per_origin(engine: Engine) {
    let (_dir, s) = store(engine, "jh-dhanbad");
    s.put_record(&record("a", 1), Expect::Absent, &[]).unwrap();
    let err = s
        .put_record(&record("b", 1), Expect::Absent, &[])
        .unwrap_err();
    assert!(matches!(err, StorageError::ExternalRefTaken { .. }));
    assert!(matches!(
        s.record("b").unwrap_err(),
        StorageError::NotFound { .. }
    ));
    assert_eq!(s.last_seq().unwrap(), 1);
}

fn photos_are_stored_once_and_removed_with_the_last_reference(engine: Engine) {
    let (_dir, s) = store(engine, "jh-dhanbad");
    let photo = NewPhoto {
        sha256: "abc",
        mime_type: "image/png",
        bytes: b"png-bytes",
    };
    let mut a = record("a", 1);
    a.photos.push(PhotoRef {
        sha256: "abc".into(),
        mime_type: "image/png".into(),
        size_bytes: 9,
    });
    s.put_record(&a, Expect::Absent, &[photo]).unwrap();
    let mut b = a.clone();
    b.id = "b".into();
    b.external_ref = "DHN/2".into();
    s.put_record(&b, Expect::Absent, &[photo]).unwrap();
    s.expunge(Kind::Record, "a", None, "test", "JH-1", 1)
        .unwrap();
    assert!(s.photo("abc").unwrap().is_some());
    s.expunge(Kind::Record, "b", None, "test", "JH-1", 1)
        .unwrap();
    assert!(s.photo("abc").unwrap().is_none());
}

fn paging_walks_every_item_once(engine: Engine) {
    let (_dir, s) = store(engine, "jh-dhanbad");
    for i in 0..25 {
        let mut r = record(&format!("id{i:02}"), 1);
        r.external_ref.clear();
        s.put_record(&r, Expect::Absent, &[]).unwrap();
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s.list_records(after.as_deref(), 10, |_| true).unwrap();
        seen.extend(page.items.into_iter().map(|r| r.id));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
}

/// Builds the remote change that `origin_store` would send for its item `id`.
fn remote_change(origin_store: &Storage, id: &str) -> RemoteChange {
    let entry = origin_store
        .log_after(origin_store.origin(), 0, 100)
        .unwrap()
        .into_iter()
        .find(|e| e.id == id)
        .unwrap();
    let payload = EnvelopePayload::decode(entry.envelope.payload.as_slice()).unwrap();
    let body = if payload.deleted {
        RemoteBody::Tombstone(Tombstone::decode(payload.body.as_slice()).unwrap())
    } else {
        RemoteBody::Record(PersonRecord::decode(payload.body.as_slice()).unwrap())
    };
    RemoteChange {
        kind: Kind::Record,
        id: id.into(),
        origin: payload.origin,
        epoch: payload.epoch,
        seq: payload.seq,
        handling: payload.handling,
        body,
        envelope: entry.envelope,
    }
}

fn remote_changes_apply_once_newest_wins_and_conflicts_are_refused(engine: Engine) {
    let (_d1, a) = store(engine, "jh-dhanbad");
    let (_d2, b) = store(engine, "wb-asansol-durgapur");
    a.put_record(&record("x", 1), Expect::Absent, &[]).unwrap();
    let v1 = remote_change(&a, "x");
    a.put_record(&record("x", 2), Expect::Version(1), &[])
        .unwrap();
    let v2 = remote_change(&a, "x");
    // Newer first, then older: the older one is ignored (order-independent).
    let out = b
        .apply_remote(
            "jh-dhanbad",
            "jh-dhanbad",
            a.epoch(),
            std::slice::from_ref(&v2),
            2,
        )
        .unwrap();
    assert_eq!(out.applied, 1);
    let out = b
        .apply_remote("jh-dhanbad", "jh-dhanbad", a.epoch(), &[v1, v2.clone()], 2)
        .unwrap();
    assert_eq!((out.applied, out.ignored), (0, 2));
    assert_eq!(b.record("x").unwrap().version, 2);
    // The same (origin, id, seq) with another body is refused.
    let mut forged = v2.clone();
    let mut payload = EnvelopePayload::decode(forged.envelope.payload.as_slice()).unwrap();
    payload.body = record("x", 99).encode_to_vec();
    forged.envelope.payload = payload.encode_to_vec();
    let out = b
        .apply_remote("jh-dhanbad", "jh-dhanbad", a.epoch(), &[forged], 2)
        .unwrap();
    assert_eq!(out.refused.len(), 1);
    assert_eq!(b.record("x").unwrap().version, 2);
    assert_eq!(b.watermarks("jh-dhanbad").unwrap()[0].seq, 2);
    // A delete travels as a tombstone.
    a.expunge(Kind::Record, "x", None, "test", "JH-1", 1)
        .unwrap();
    let del = remote_change(&a, "x");
    b.apply_remote("jh-dhanbad", "jh-dhanbad", a.epoch(), &[del], 3)
        .unwrap();
    assert!(matches!(
        b.record("x").unwrap_err(),
        StorageError::Expunged { .. }
    ));
    // The digests of the two nodes agree on what each holds (nothing: x was expunged).
    let all = [
        Handling::LocalOnly as i32,
        Handling::Peers as i32,
        Handling::Federation as i32,
    ];
    let root = |s: &Storage| s.digest_root("jh-dhanbad", a.epoch(), &all).unwrap();
    assert_eq!(root(&a), root(&b));
    assert_eq!(root(&a).count, 0);
}

fn incremental_digests_follow_every_change_and_narrow_to_the_bucket_that_differs(engine: Engine) {
    let (_d1, a) = store(engine, "jh-dhanbad");
    let (_d2, b) = store(engine, "wb-asansol-durgapur");
    let all = [
        Handling::LocalOnly as i32,
        Handling::Peers as i32,
        Handling::Federation as i32,
    ];
    let mut changes = Vec::new();
    let numbered = |id: &str, version: u64| PersonRecord {
        external_ref: format!("DHN/{id}"),
        ..record(id, version)
    };
    for i in 0..20 {
        let id = format!("r{i}");
        a.put_record(&numbered(&id, 1), Expect::Absent, &[])
            .unwrap();
        if i % 3 == 0 {
            a.put_record(&numbered(&id, 2), Expect::Version(1), &[])
                .unwrap();
        }
        if i % 5 == 0 {
            a.expunge(Kind::Record, &id, None, "test", "JH-1", 1)
                .unwrap();
        }
        changes.push(remote_change(&a, &id));
    }
    // All but the last change reach b, in another order.
    let last = changes.pop().unwrap();
    changes.reverse();
    b.apply_remote("jh-dhanbad", "jh-dhanbad", a.epoch(), &changes, 100)
        .unwrap();
    let (mine, theirs) = (
        b.digest_buckets("jh-dhanbad", a.epoch(), &all).unwrap(),
        a.digest_buckets("jh-dhanbad", a.epoch(), &all).unwrap(),
    );
    let differing: Vec<u16> = (0..mine.len())
        .filter(|&i| mine[i] != theirs[i])
        .map(|i| i as u16)
        .collect();
    assert_eq!(differing, vec![crate::storage::digest::bucket_of("r19")]);
    let listed = a
        .digest_items("jh-dhanbad", a.epoch(), &all, &differing)
        .unwrap();
    assert!(listed.iter().any(|(_, id, _)| id == "r19"), "{listed:?}");
    // A repair brings the one change without touching the watermark.
    b.apply_repair("jh-dhanbad", "jh-dhanbad", a.epoch(), &[last])
        .unwrap();
    assert_eq!(b.watermarks("jh-dhanbad").unwrap()[0].seq, 100);
    let root = |s: &Storage| s.digest_root("jh-dhanbad", a.epoch(), &all).unwrap();
    assert_eq!(root(&a), root(&b));
    assert_eq!(root(&a).count, 16, "20 records, 4 expunged");
}

fn bulk_creates_are_all_or_nothing_and_searchable(engine: Engine) {
    use crate::search::{NameQuery, SearchQuery};
    let (_dir, s) = store(engine, "jh-dhanbad");
    let mut batch: Vec<PersonRecord> = (0..3)
        .map(|i| PersonRecord {
            external_ref: format!("DHN/{i}"),
            name: format!("Bulk Person{i} Example"),
            ..record(&format!("b{i}"), 1)
        })
        .collect();
    let entries = s.put_new_records(&batch).unwrap();
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let found = s.search(&SearchQuery {
        name: Some(NameQuery::parse("Bulk Person1")),
        limit: 10,
        ..Default::default()
    });
    assert_eq!(found.hits.first().map(|h| h.id.as_str()), Some("b1"));

    // A second batch with an external reference already used stores nothing at all.
    batch = vec![
        PersonRecord {
            external_ref: "DHN/9".into(),
            ..record("c1", 1)
        },
        PersonRecord {
            external_ref: "DHN/2".into(),
            ..record("c2", 1)
        },
    ];
    let err = s.put_new_records(&batch).unwrap_err();
    assert!(
        matches!(err, StorageError::ExternalRefTaken { .. }),
        "{err}"
    );
    assert!(s.record("c1").is_err());
    assert_eq!(s.last_seq().unwrap(), 3);
    assert_eq!(s.search_index().record_count(), 3);
}

fn search_documents_follow_expunges_and_remote_changes(engine: Engine) {
    use crate::search::{NameQuery, SearchQuery};
    let (_dir, s) = store(engine, "jh-dhanbad");
    let query = SearchQuery {
        name: Some(NameQuery::parse("Test Person")),
        limit: 10,
        ..Default::default()
    };
    s.put_record(&record("a", 1), Expect::Absent, &[]).unwrap();
    assert_eq!(s.search(&query).hits.len(), 1);
    s.expunge(Kind::Record, "a", None, "duplicate", "JH-1", 1)
        .unwrap();
    assert!(s.search(&query).hits.is_empty());
    assert!(
        s.t.search_docs.is_empty().unwrap(),
        "the document left with the data"
    );
}

fn a_change_applied_ahead_joins_the_log_only_when_the_ordered_stream_reaches_it(engine: Engine) {
    let (_d1, a) = store(engine, "jh-dhanbad");
    let (_d2, b) = store(engine, "wb-asansol-durgapur");
    for id in ["r1", "r2", "r3"] {
        let mut r = record(id, 1);
        r.external_ref.clear();
        a.put_record(&r, Expect::Absent, &[]).unwrap();
    }
    let changes: Vec<RemoteChange> = ["r1", "r2", "r3"]
        .iter()
        .map(|id| remote_change(&a, id))
        .collect();
    // The third change overtakes the first two: held, but neither in the log (which a
    // relay reads in order) nor in the origin's highest sequence, and no watermark moves.
    let out = b
        .apply_ahead("jh-dhanbad", "jh-dhanbad", a.epoch(), &changes[2..])
        .unwrap();
    assert_eq!(out.applied, 1);
    assert_eq!(b.record("r3").unwrap().version, 1);
    assert!(b.log_after("jh-dhanbad", 0, 10).unwrap().is_empty());
    assert!(b.watermarks("jh-dhanbad").unwrap().is_empty());
    assert_eq!(
        b.origin_info("jh-dhanbad")
            .unwrap()
            .map_or(0, |i| i.max_seq),
        0
    );
    // The ordered stream then brings all three: the third is not applied again, and it
    // takes its place in the log.
    let out = b
        .apply_remote("jh-dhanbad", "jh-dhanbad", a.epoch(), &changes, 3)
        .unwrap();
    assert_eq!((out.applied, out.ignored), (2, 1));
    let log: Vec<u64> = b
        .log_after("jh-dhanbad", 0, 10)
        .unwrap()
        .iter()
        .map(|e| e.state.seq)
        .collect();
    assert_eq!(log, vec![1, 2, 3]);
    assert_eq!(b.watermarks("jh-dhanbad").unwrap()[0].seq, 3);
}

fn a_transaction_reads_its_own_writes_and_an_abort_commits_nothing(engine: Engine) {
    let (_dir, s) = store(engine, "jh-dhanbad");
    let seen = s
        .transact(|tx| {
            tx.meta.insert(b"k1", b"v1")?;
            tx.index.insert(b"k2", b"v2")?;
            let before = tx.meta.get(b"k1")?;
            tx.meta.remove(b"k1")?;
            Ok((before, tx.meta.get(b"k1")?))
        })
        .unwrap();
    assert_eq!(seen, (Some(b"v1".to_vec()), None));
    assert_eq!(s.t.meta.get(b"k1").unwrap(), None);
    assert_eq!(s.t.index.get(b"k2").unwrap(), Some(b"v2".to_vec()));
    // Other readers see nothing of a transaction until it commits.
    let err = s
        .transact(|tx| {
            tx.index.insert(b"k3", b"v3")?;
            tx.index.remove(b"k2")?;
            assert_eq!(s.t.index.get(b"k3").unwrap(), None);
            super::store::abort::<()>(StorageError::Backend("stop".into()))
        })
        .unwrap_err();
    assert!(matches!(err, StorageError::Backend(_)), "{err}");
    assert_eq!(s.t.index.get(b"k3").unwrap(), None);
    assert_eq!(s.t.index.get(b"k2").unwrap(), Some(b"v2".to_vec()));
}

fn concurrent_writers_never_lose_an_update(engine: Engine) {
    let (_dir, s) = store(engine, "jh-dhanbad");
    const THREADS: usize = 4;
    const EACH: usize = 25;
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let s = &s;
            scope.spawn(move || {
                for i in 0..EACH {
                    let mut r = record(&format!("t{t}-{i}"), 1);
                    r.external_ref = format!("DHN/{t}/{i}");
                    s.put_record(&r, Expect::Absent, &[]).unwrap();
                    // A read-modify-write of one counter by every thread.
                    s.write_tx(|tx| {
                        let n = tx
                            .meta
                            .get(b"test_counter")?
                            .and_then(|v| super::codec::read_u64(&v))
                            .unwrap_or(0);
                        tx.meta.insert(b"test_counter", (n + 1).to_be_bytes())
                    })
                    .unwrap();
                    s.append_audit(setu_proto::v1::AuditEntry {
                        officer: format!("JH-{t}"),
                        action: "record.get".into(),
                        ..Default::default()
                    })
                    .unwrap();
                }
            });
        }
    });
    let total = (THREADS * EACH) as u64;
    assert_eq!(s.last_seq().unwrap(), total);
    assert_eq!(
        s.log_after("jh-dhanbad", 0, 1000).unwrap().len() as u64,
        total
    );
    assert_eq!(s.origin_info("jh-dhanbad").unwrap().unwrap().max_seq, total);
    let counter = s.t.meta.get(b"test_counter").unwrap().unwrap();
    assert_eq!(super::codec::read_u64(&counter), Some(total));
    assert_eq!(s.verify_audit().unwrap(), Ok(total));
    let all = [
        Handling::LocalOnly as i32,
        Handling::Peers as i32,
        Handling::Federation as i32,
    ];
    assert_eq!(
        s.digest_root("jh-dhanbad", s.epoch(), &all).unwrap().count,
        total
    );
    assert_eq!(s.search_index().record_count() as u64, total);
}

fn a_backup_restores_into_a_new_database_on_disk(engine: Engine) {
    let (_dir, s) = store(engine, "jh-dhanbad");
    let mut with_photo = record("a", 1);
    with_photo.photos.push(PhotoRef {
        sha256: "abc".into(),
        mime_type: "image/png".into(),
        size_bytes: 9,
    });
    let photo = NewPhoto {
        sha256: "abc",
        mime_type: "image/png",
        bytes: b"png-bytes",
    };
    s.put_record(&with_photo, Expect::Absent, &[photo]).unwrap();
    s.append_audit(setu_proto::v1::AuditEntry {
        officer: "JH-1".into(),
        action: "record.get".into(),
        ..Default::default()
    })
    .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("backup.bin");
    let summary = s.backup(std::fs::File::create(&file).unwrap()).unwrap();
    assert_eq!(summary.trees, super::kv::TreeName::ALL.len());
    let restored_dir = folder.path().join("restored");
    let (restored, epoch) = backup::restore_backup(&file, &restored_dir).unwrap();
    assert_eq!(restored.entries, summary.entries);
    assert_ne!(epoch, s.epoch());
    let r = reopen_in(&restored_dir, "jh-dhanbad");
    assert_eq!(r.epoch(), epoch);
    assert_eq!(r.record("a").unwrap(), with_photo);
    assert_eq!(r.photo("abc").unwrap().unwrap().1, b"png-bytes".to_vec());
    assert_eq!(r.verify_audit().unwrap(), Ok(1));
    // Re-signed under the new epoch at open.
    assert_eq!(
        r.log_after("jh-dhanbad", 0, 10).unwrap()[0].state.epoch,
        epoch
    );
}

fn reopen_in(dir: &std::path::Path, origin: &str) -> Storage {
    Storage::open(dir, 16 * 1024 * 1024, origin, Arc::new(NullSigner)).expect("reopen")
}

on_both_engines!(
    create_update_expunge_keeps_log_compact,
    external_ref_is_unique_per_origin,
    photos_are_stored_once_and_removed_with_the_last_reference,
    paging_walks_every_item_once,
    remote_changes_apply_once_newest_wins_and_conflicts_are_refused,
    incremental_digests_follow_every_change_and_narrow_to_the_bucket_that_differs,
    bulk_creates_are_all_or_nothing_and_searchable,
    search_documents_follow_expunges_and_remote_changes,
    a_change_applied_ahead_joins_the_log_only_when_the_ordered_stream_reaches_it,
    a_transaction_reads_its_own_writes_and_an_abort_commits_nothing,
    concurrent_writers_never_lose_an_update,
    a_backup_restores_into_a_new_database_on_disk,
);

fn reopen(dir: &tempfile::TempDir, origin: &str) -> Storage {
    Storage::open(dir.path(), 16 * 1024 * 1024, origin, Arc::new(NullSigner)).expect("reopen")
}

fn indexed_records(s: &Storage) -> usize {
    s.search
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .record_count()
}

#[test]
fn a_cleanly_stopped_store_reads_its_search_index_back_from_the_snapshot() {
    // On sled only: the snapshot lives in the data folder, and the store is reopened.
    let (dir, s) = store(Engine::Sled, "jh-dhanbad");
    let dir = dir.expect("a folder");
    s.put_record(&record("a", 1), Expect::Absent, &[]).unwrap();
    s.save_search_snapshot().unwrap();
    // With the documents gone behind the store's back, only the snapshot still knows "a":
    // finding it proves the index was read back rather than rebuilt.
    s.t.search_docs.clear();
    s.kv.flush().unwrap();
    drop(s);
    let s = reopen(&dir, "jh-dhanbad");
    assert_eq!(indexed_records(&s), 1);
    // The token was taken at open: the next start rebuilds, whatever happens now.
    drop(s);
    let s = reopen(&dir, "jh-dhanbad");
    assert_eq!(indexed_records(&s), 0);
}

#[test]
fn a_write_after_the_snapshot_makes_the_next_start_rebuild() {
    // On sled only: the snapshot lives in the data folder, and the store is reopened.
    let (dir, s) = store(Engine::Sled, "jh-dhanbad");
    let dir = dir.expect("a folder");
    s.put_record(&record("a", 1), Expect::Absent, &[]).unwrap();
    s.save_search_snapshot().unwrap();
    let b = PersonRecord {
        external_ref: "DHN/2".into(),
        ..record("b", 1)
    };
    s.put_record(&b, Expect::Absent, &[]).unwrap();
    s.kv.flush().unwrap();
    // Dropped without another snapshot, as after a crash.
    drop(s);
    let s = reopen(&dir, "jh-dhanbad");
    assert_eq!(indexed_records(&s), 2, "rebuilt from the documents");
    assert!(!dir
        .path()
        .join(super::search_snapshot::SNAPSHOT_FILE)
        .exists());
}
