//! The storage side of search: each record's and MO note's search document is written in
//! the `search_docs` tree inside the same commit as the item (local and replicated
//! changes alike, removed with the data on expunge, retraction or drop), and the
//! in-memory [`SearchIndex`] is brought up to date from the committed documents before
//! the write call returns. At start-up the index is read back from its snapshot when the
//! node was stopped cleanly and nothing changed since (see `search_snapshot.rs`), and
//! otherwise rebuilt from `search_docs`, which a database written before search existed
//! gets filled from its items first.

use std::sync::{PoisonError, RwLockReadGuard};

use prost::Message;
use setu_proto::v1::{MoNote, PersonRecord};

use super::codec::{item_key, split_item_key};
use super::kv::{TreeName, WriteBatch};
use super::search_snapshot::{self, META_SNAPSHOT_TOKEN, TOKEN_LEN};
use super::store::{Storage, Tx, TxResult};
use super::{Kind, StorageError, StorageResult};
use crate::search::{
    index::record_terms_with, NoteDoc, ParseCache, RecordDoc, SearchIndex, SearchQuery,
    SearchResults,
};

/// Set in `meta` once `search_docs` holds a document for every item.
const META_SEARCH_DOCS: &[u8] = b"search_docs_v1";

/// The threads that compute index terms during the start-up rebuild.
const REBUILD_THREADS: usize = 2;

impl Tx<'_> {
    /// Writes (or, with `None`, removes) the search document of record `id`.
    pub fn index_record(&self, id: &str, record: Option<&PersonRecord>) -> TxResult<()> {
        let key = item_key(Kind::Record, id);
        match record {
            Some(record) => self
                .search_docs
                .insert(key, RecordDoc::of(record).encode_to_vec())?,
            None => self.search_docs.remove(key)?,
        }
        Ok(())
    }

    /// Writes (or, with `None`, removes) the search document of MO note `id`.
    pub fn index_note(&self, id: &str, note: Option<&MoNote>) -> TxResult<()> {
        let key = item_key(Kind::MoNote, id);
        match note {
            Some(note) => self
                .search_docs
                .insert(key, NoteDoc::of(note).encode_to_vec())?,
            None => self.search_docs.remove(key)?,
        }
        Ok(())
    }
}

fn decode<M: Message + Default>(bytes: &[u8], id: &str) -> StorageResult<M> {
    M::decode(bytes).map_err(|e| StorageError::Corrupt {
        what: format!("search document of {id}"),
        detail: e.to_string(),
    })
}

impl Storage {
    /// Takes the search snapshot's token out of `meta`, durably, so that whatever this
    /// process writes next cannot leave a stale snapshot trusted.
    pub(super) fn take_snapshot_token(&self) -> StorageResult<Option<[u8; TOKEN_LEN]>> {
        let Some(token) = self.write_tx(|tx| tx.meta.take(META_SNAPSHOT_TOKEN))? else {
            return Ok(None);
        };
        self.kv.flush()?;
        Ok(<[u8; TOKEN_LEN]>::try_from(token.as_ref()).ok())
    }

    /// Saves the search index's snapshot with a new token; the next start reads it back
    /// instead of rebuilding, unless something is written first. Call when the node stops,
    /// after its last write. Returns the snapshot's size in bytes.
    pub fn save_search_snapshot(&self) -> StorageResult<u64> {
        // No write of search documents is between its commit and its index update now.
        let _indexing = self
            .index_gate
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(dir) = &self.dir else {
            // A store in memory has no folder to keep a snapshot in.
            return Ok(0);
        };
        let token: [u8; TOKEN_LEN] = rand::random();
        let started = std::time::Instant::now();
        let bytes = {
            let index = self.search.read().unwrap_or_else(PoisonError::into_inner);
            search_snapshot::write(dir, &token, &index)
                .map_err(|e| StorageError::Backend(e.to_string()))?
        };
        // From here on every write transaction removes the token again.
        self.snapshot_sealed
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let mut batch = WriteBatch::new();
        batch.insert(TreeName::Meta, META_SNAPSHOT_TOKEN, token);
        self.commit_batch(batch)?;
        self.kv.flush()?;
        tracing::info!(
            bytes,
            ms = started.elapsed().as_millis() as u64,
            "search index snapshot saved"
        );
        Ok(bytes)
    }

    /// Reads the search index from its snapshot when `token` says it matches the stored
    /// documents, and otherwise builds it from them (see [`Storage::rebuild_search_index`]).
    pub(super) fn load_search_index(&self, token: Option<[u8; TOKEN_LEN]>) -> StorageResult<()> {
        let Some(dir) = &self.dir else {
            // A store in memory keeps no snapshot.
            return self.rebuild_search_index();
        };
        if let Some(token) = token {
            let started = std::time::Instant::now();
            match search_snapshot::read(dir, &token) {
                Ok(Some(index)) => {
                    tracing::info!(
                        records = index.record_count(),
                        mo_notes = index.note_count(),
                        ms = started.elapsed().as_millis() as u64,
                        "search index read from its snapshot"
                    );
                    *self.search.write().unwrap_or_else(PoisonError::into_inner) = index;
                    search_snapshot::remove(dir);
                    return Ok(());
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "the search index is rebuilt instead"),
            }
        }
        search_snapshot::remove(dir);
        self.rebuild_search_index()
    }

    /// Fills `search_docs` from the stored items if this database predates it, then builds
    /// the in-memory index from the documents.
    fn rebuild_search_index(&self) -> StorageResult<()> {
        if self.t.meta.get(META_SEARCH_DOCS)?.is_none() {
            let mut batch = WriteBatch::new();
            for entry in self.t.records.iter() {
                let (id, bytes) = entry?;
                let record: PersonRecord = decode(&bytes, &String::from_utf8_lossy(&id))?;
                batch.insert(
                    TreeName::SearchDocs,
                    item_key(Kind::Record, &record.id),
                    RecordDoc::of(&record).encode_to_vec(),
                );
            }
            for entry in self.t.mo_notes.iter() {
                let (id, bytes) = entry?;
                let note: MoNote = decode(&bytes, &String::from_utf8_lossy(&id))?;
                batch.insert(
                    TreeName::SearchDocs,
                    item_key(Kind::MoNote, &note.id),
                    NoteDoc::of(&note).encode_to_vec(),
                );
            }
            self.commit_batch(batch)?;
            // The marker in its own commit after the documents: a crash in between only
            // writes them again.
            let mut marker = WriteBatch::new();
            marker.insert(TreeName::Meta, META_SEARCH_DOCS, [1u8]);
            self.commit_batch(marker)?;
            self.kv.flush()?;
        }
        let started = std::time::Instant::now();
        let mut records: Vec<(String, RecordDoc)> = Vec::new();
        let mut index = SearchIndex::new();
        index.begin_bulk();
        for entry in self.t.search_docs.iter() {
            let (key, bytes) = entry?;
            let (kind, id) = split_item_key(&key)?;
            match kind {
                Kind::Record => records.push((id.clone(), decode(&bytes, &id)?)),
                Kind::MoNote => index.put_note(&id, decode(&bytes, &id)?),
                Kind::Alert | Kind::AlertAck => {}
            }
        }
        let read = started.elapsed();
        // Computing the terms (transliteration, variant keys, phonetic codes) is the costly
        // part; it runs on several threads, each preparing every distinct word once, and
        // the postings are filled in order.
        let chunk = records.len().div_ceil(REBUILD_THREADS).max(1);
        let terms: Vec<Vec<Vec<String>>> = std::thread::scope(|scope| {
            let workers: Vec<_> = records
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        let mut cache = ParseCache::default();
                        part.iter()
                            .map(|(_, doc)| record_terms_with(doc, &mut cache))
                            .collect()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_default())
                .collect()
        });
        let computed = started.elapsed();
        for ((id, doc), terms) in records.into_iter().zip(terms.into_iter().flatten()) {
            index.put_record_with_terms(&id, doc, terms);
        }
        index.shrink();
        tracing::info!(
            records = index.record_count(),
            mo_notes = index.note_count(),
            ms = started.elapsed().as_millis() as u64,
            phases = format!(
                "read {} ms, terms {} ms, insert {} ms",
                read.as_millis(),
                (computed - read).as_millis(),
                (started.elapsed() - computed).as_millis()
            ),
            "search index built"
        );
        *self.search.write().unwrap_or_else(PoisonError::into_inner) = index;
        Ok(())
    }

    /// Brings the in-memory index up to date with the committed search documents of
    /// `items`. Called after every transaction that changed items, before the write
    /// returns; the index lock is held while the documents are read, so concurrent
    /// writers of the same item leave the index at the last committed version.
    pub(super) fn reindex<'a>(
        &self,
        items: impl IntoIterator<Item = (Kind, &'a str)>,
    ) -> StorageResult<()> {
        let mut index = self.search.write().unwrap_or_else(PoisonError::into_inner);
        for (kind, id) in items {
            let doc = self.t.search_docs.get(item_key(kind, id))?;
            match (kind, doc) {
                (Kind::Record, Some(bytes)) => index.put_record(id, decode(&bytes, id)?),
                (Kind::Record, None) => index.remove_record(id),
                (Kind::MoNote, Some(bytes)) => index.put_note(id, decode(&bytes, id)?),
                (Kind::MoNote, None) => index.remove_note(id),
                // Alerts are not searched.
                (Kind::Alert | Kind::AlertAck, _) => {}
            }
        }
        Ok(())
    }

    /// Runs a search over every record and MO note held (own and replicated).
    pub fn search(&self, query: &SearchQuery) -> SearchResults {
        self.search_index().search(query)
    }

    /// How many search documents are stored, and their bytes (keys and values): the
    /// durable part of the index.
    pub fn search_docs_size(&self) -> StorageResult<(usize, u64)> {
        let mut count = 0;
        let mut bytes = 0u64;
        for entry in self.t.search_docs.iter() {
            let (key, value) = entry?;
            count += 1;
            bytes += (key.len() + value.len()) as u64;
        }
        Ok((count, bytes))
    }

    /// Read access to the index, e.g. for its size.
    pub fn search_index(&self) -> RwLockReadGuard<'_, SearchIndex> {
        self.search.read().unwrap_or_else(PoisonError::into_inner)
    }
}
