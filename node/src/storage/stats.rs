//! Cheap reads for the metrics endpoint and the health probe: how many records each origin
//! has here, and whether the database still takes a durable write. Kept apart from the
//! item reads because nothing but observability needs them.

use super::codec::{decode_state, state_key};
use super::kv::{TreeName, WriteBatch};
use super::{Kind, Storage, StorageResult};
use std::collections::BTreeMap;

/// The `meta` key the health probe writes (the time of the last probe, Unix ms).
const META_PROBE: &[u8] = b"health_probe";

impl Storage {
    /// How many records are held here (data present, not expunged or retracted), by origin
    /// district. Reads the item states in the `index` tree, one small value per record and
    /// no record bodies; blocking, so call it off the async threads.
    pub fn records_by_origin(&self) -> StorageResult<BTreeMap<String, u64>> {
        let mut counts = BTreeMap::new();
        for entry in self.t.index.scan_prefix(state_key(Kind::Record, "")) {
            let (_, value) = entry?;
            let state = decode_state(&value)?;
            if state.has_data {
                *counts.entry(state.origin).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    /// Checks that the database still takes a durable write: writes the time to one `meta`
    /// key and flushes (through the same group flush as every other write, so it never runs
    /// beside another flush). An error means the disk or the data folder is failing.
    pub async fn probe(&self, now_ms: i64) -> StorageResult<()> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut batch = WriteBatch::new();
            batch.insert(TreeName::Meta, META_PROBE, now_ms.to_be_bytes());
            store.commit_batch(batch)
        })
        .await
        .map_err(|e| super::StorageError::Backend(format!("probe task failed: {e}")))??;
        self.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{on_both_engines, store, Engine};
    use super::super::Expect;
    use super::*;
    use setu_proto::v1::{Handling, PersonRecord};

    fn record(id: &str, external_ref: &str) -> PersonRecord {
        PersonRecord {
            id: id.into(),
            origin: "jh-dhanbad".into(),
            version: 1,
            name: "Test Person".into(),
            external_ref: external_ref.into(),
            handling: Handling::Peers as i32,
            ..Default::default()
        }
    }

    on_both_engines!(
        records_are_counted_by_origin_without_the_expunged,
        the_probe_writes_and_flushes,
    );

    fn records_are_counted_by_origin_without_the_expunged(engine: Engine) {
        let (_dir, s) = store(engine, "jh-dhanbad");
        assert!(s.records_by_origin().unwrap().is_empty());
        s.put_record(&record("a", "DHN/1"), Expect::Absent, &[])
            .unwrap();
        s.put_record(&record("b", "DHN/2"), Expect::Absent, &[])
            .unwrap();
        s.expunge(Kind::Record, "b", Some(1), "duplicate", "JH-1", 5)
            .unwrap();
        let counts = s.records_by_origin().unwrap();
        assert_eq!(
            counts.into_iter().collect::<Vec<_>>(),
            [("jh-dhanbad".to_string(), 1)]
        );
    }

    fn the_probe_writes_and_flushes(engine: Engine) {
        let (_dir, s) = store(engine, "jh-dhanbad");
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(s.probe(1_800_000_000_000))
            .unwrap();
        assert_eq!(
            s.t.meta.get(META_PROBE).unwrap().as_deref(),
            Some(&1_800_000_000_000i64.to_be_bytes()[..])
        );
    }
}
