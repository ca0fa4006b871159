//! Backups of a district's database and restoring them.
//!
//! A backup is taken while the node serves: writes wait while the trees are copied (they
//! are held off by the store's gate, not refused), so the copy is one point in time: no
//! record without its envelope, log entry or search document. The audit trail is copied
//! apart, consistently (see [`Storage::audit_snapshot`]), because officer calls append to
//! it without the gate. The node's signing key is not in the backup: a restored node makes
//! a new one, attested by its node certificate.
//!
//! A restore writes the copy into an empty folder and gives the database a new epoch, so
//! that peers resync the district in full instead of trusting watermarks that point past
//! what the backup holds.
//!
//! File layout (all lengths and numbers big-endian):
//! - the magic `SETU-BACKUP-1\n`;
//! - a header: district (u32 length + UTF-8), epoch (u64), taken at (i64 Unix ms);
//! - per tree: `T`, name (u32 length + bytes), then `E` + key (u32 length + bytes) + value
//!   (u32 length + bytes) per entry;
//! - `X` and the SHA-256 of everything before it.

use super::kv::{KvStore, SledKv, TreeName, WriteBatch};
use super::{Storage, StorageError, StorageResult};
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read, Write};
use std::path::Path;

const MAGIC: &[u8] = b"SETU-BACKUP-1\n";
/// The page cache of the database a restore writes.
const RESTORE_CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// Entries written per commit during a restore, at most.
const RESTORE_BATCH: usize = 10_000;
/// Bytes (keys and values) written per commit during a restore, at most: photos are large.
const RESTORE_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Entries written between two flushes during a restore.
const RESTORE_FLUSH_EVERY: usize = 200_000;

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// The district whose database it is.
    pub district: String,
    /// The database epoch at the time of the backup.
    pub epoch: u64,
    /// When it was taken (Unix ms).
    pub taken_at_ms: i64,
    /// Trees and entries copied.
    pub trees: usize,
    pub entries: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// A writer that hashes and counts what passes through.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn io(err: std::io::Error) -> StorageError {
    StorageError::Backend(format!("backup: {err}"))
}

fn put_bytes(out: &mut impl Write, bytes: &[u8]) -> StorageResult<()> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| StorageError::Backend("backup: a value above 4 GiB".into()))?;
    out.write_all(&len.to_be_bytes()).map_err(io)?;
    out.write_all(bytes).map_err(io)
}

fn put_tree<'a>(
    out: &mut impl Write,
    name: &[u8],
    entries: impl Iterator<Item = StorageResult<(Vec<u8>, Vec<u8>)>> + 'a,
) -> StorageResult<u64> {
    out.write_all(b"T").map_err(io)?;
    put_bytes(out, name)?;
    let mut count = 0;
    for entry in entries {
        let (key, value) = entry?;
        out.write_all(b"E").map_err(io)?;
        put_bytes(out, &key)?;
        put_bytes(out, &value)?;
        count += 1;
    }
    Ok(count)
}

impl Storage {
    /// Writes a consistent backup of the database to `out`. Writes wait while the trees
    /// are copied.
    pub fn backup(&self, out: impl Write) -> StorageResult<BackupSummary> {
        let taken_at_ms = crate::clock::now_ms();
        let mut out = Hashing {
            inner: std::io::BufWriter::with_capacity(1 << 20, out),
            hasher: Sha256::new(),
            bytes: 0,
        };
        out.write_all(MAGIC).map_err(io)?;
        put_bytes(&mut out, self.origin.as_bytes())?;
        out.write_all(&self.epoch.to_be_bytes()).map_err(io)?;
        out.write_all(&taken_at_ms.to_be_bytes()).map_err(io)?;
        let mut trees = 0;
        let mut entries = 0;
        {
            let _closed = self
                .gate
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for name in TreeName::ALL {
                if name == TreeName::Audit {
                    continue;
                }
                let tree = super::kv::KvTree::new(self.kv.clone(), name);
                entries += put_tree(&mut out, name.as_str().as_bytes(), tree.iter())?;
                trees += 1;
            }
        }
        let audit = self.audit_snapshot()?;
        entries += put_tree(
            &mut out,
            TreeName::Audit.as_str().as_bytes(),
            audit.into_iter().map(Ok),
        )?;
        trees += 1;
        out.write_all(b"X").map_err(io)?;
        let digest = out.hasher.clone().finalize();
        out.inner.write_all(&digest).map_err(io)?;
        out.inner.flush().map_err(io)?;
        Ok(BackupSummary {
            district: self.origin.clone(),
            epoch: self.epoch,
            taken_at_ms,
            trees,
            entries,
            bytes: out.bytes + digest.len() as u64,
        })
    }
}

/// Reads a backup's parts.
struct Reader<R: Read> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Reader<R> {
    fn exact(&mut self, n: usize) -> StorageResult<Vec<u8>> {
        let mut buf = vec![0; n];
        self.inner
            .read_exact(&mut buf)
            .map_err(|e| StorageError::Corrupt {
                what: "backup".into(),
                detail: format!("it ends early ({e}); the file is incomplete"),
            })?;
        self.hasher.update(&buf);
        Ok(buf)
    }

    fn u32(&mut self) -> StorageResult<usize> {
        let b = self.exact(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn bytes(&mut self) -> StorageResult<Vec<u8>> {
        let len = self.u32()?;
        self.exact(len)
    }

    fn u64(&mut self) -> StorageResult<u64> {
        let b = self.exact(8)?;
        let mut arr = [0u8; 8];
        arr.copy_from_slice(&b);
        Ok(u64::from_be_bytes(arr))
    }
}

fn bad(detail: impl Into<String>) -> StorageError {
    StorageError::Corrupt {
        what: "backup".into(),
        detail: detail.into(),
    }
}

/// Reads the backup at `from`, calling `tree` for each tree name and `entry` for each
/// entry, and checks the checksum at the end. Returns the header.
fn read_backup(
    from: &Path,
    mut tree: impl FnMut(&[u8]) -> StorageResult<()>,
    mut entry: impl FnMut(Vec<u8>, Vec<u8>) -> StorageResult<()>,
) -> StorageResult<BackupSummary> {
    let file = std::fs::File::open(from)
        .map_err(|e| StorageError::Backend(format!("cannot open {}: {e}", from.display())))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut r = Reader {
        inner: BufReader::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
    };
    if r.exact(MAGIC.len())? != MAGIC {
        return Err(bad("it does not start like a Setu backup"));
    }
    let district = String::from_utf8(r.bytes()?).map_err(|_| bad("the district is not text"))?;
    let epoch = r.u64()?;
    let taken_at_ms = r.u64()? as i64;
    let (mut trees, mut entries) = (0, 0);
    loop {
        match r.exact(1)?[0] {
            b'T' => {
                tree(&r.bytes()?)?;
                trees += 1;
            }
            b'E' => {
                if trees == 0 {
                    return Err(bad("an entry comes before any tree"));
                }
                let key = r.bytes()?;
                let value = r.bytes()?;
                entry(key, value)?;
                entries += 1;
            }
            b'X' => break,
            other => return Err(bad(format!("unexpected record tag {other}"))),
        }
    }
    let expected = r.hasher.clone().finalize();
    let mut stored = [0u8; 32];
    r.inner
        .read_exact(&mut stored)
        .map_err(|_| bad("the checksum at the end is missing"))?;
    if stored[..] != expected[..] {
        return Err(bad(
            "the checksum does not match: the file was changed or damaged",
        ));
    }
    Ok(BackupSummary {
        district,
        epoch,
        taken_at_ms,
        trees,
        entries,
        bytes,
    })
}

/// The writing side of a restore: entries go to the current tree in commits of bounded
/// size.
struct Restore<'a> {
    kv: &'a dyn KvStore,
    /// The tree being restored; `None` while skipping a tree that is not the store's.
    tree: Option<TreeName>,
    batch: WriteBatch,
    /// Bytes of keys and values in `batch`.
    pending_bytes: usize,
    /// Entries committed since the last flush.
    since_flush: usize,
}

impl Restore<'_> {
    fn start_tree(&mut self, name: &[u8]) -> StorageResult<()> {
        self.commit()?;
        self.tree = TreeName::from_name(name);
        if self.tree.is_none() {
            // A tree an older version kept and nothing reads any more (e.g. `changes`).
            tracing::warn!(
                tree = %String::from_utf8_lossy(name),
                "the backup holds a tree this version does not use; it is not restored"
            );
        }
        Ok(())
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> StorageResult<()> {
        let Some(tree) = self.tree else {
            return Ok(());
        };
        self.pending_bytes += key.len() + value.len();
        self.batch.insert(tree, key, value);
        if self.batch.len() >= RESTORE_BATCH || self.pending_bytes >= RESTORE_BATCH_BYTES {
            self.commit()?;
        }
        Ok(())
    }

    /// Commits what is pending, and flushes every [`RESTORE_FLUSH_EVERY`] entries.
    fn commit(&mut self) -> StorageResult<()> {
        let batch = std::mem::take(&mut self.batch);
        let n = batch.len();
        if n == 0 {
            return Ok(());
        }
        self.kv.commit(batch)?;
        self.pending_bytes = 0;
        self.since_flush += n;
        if self.since_flush >= RESTORE_FLUSH_EVERY {
            self.kv.flush()?;
            self.since_flush = 0;
        }
        Ok(())
    }
}

/// Checks a backup file end to end (structure and checksum) without restoring it.
pub fn verify_backup(from: &Path) -> StorageResult<BackupSummary> {
    read_backup(from, |_| Ok(()), |_, _| Ok(()))
}

/// Restores the backup at `from` into `dir`, which must be empty or not exist, under a
/// new epoch. The file is verified in full before anything is written. Returns what was
/// restored and the new epoch.
pub fn restore_backup(from: &Path, dir: &Path) -> StorageResult<(BackupSummary, u64)> {
    let summary = verify_backup(from)?;
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir)
            .map_err(|e| StorageError::Backend(format!("cannot read {}: {e}", dir.display())))?;
        if entries.next().is_some() {
            return Err(StorageError::Backend(format!(
                "{} is not empty; restore into a new folder so that nothing is overwritten",
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| StorageError::Backend(format!("cannot create {}: {e}", dir.display())))?;
    let epoch = {
        let _lock = super::lock::DataDirLock::acquire(dir)?;
        // A small page cache, commits of modest size and a flush every so often keep the
        // restore's memory bounded (with sled's defaults it grew to several times the
        // backup's size).
        let kv = SledKv::open(dir, RESTORE_CACHE_BYTES)?;
        let restore = std::cell::RefCell::new(Restore {
            kv: &kv,
            tree: None,
            batch: WriteBatch::new(),
            pending_bytes: 0,
            since_flush: 0,
        });
        read_backup(
            from,
            |name| restore.borrow_mut().start_tree(name),
            |key, value| restore.borrow_mut().put(key, value),
        )?;
        restore.into_inner().commit()?;
        kv.flush()?;
        // On the database still open: opening it again right after closing it can find
        // the engine's own file lock not yet let go.
        Storage::renew_epoch_on(&kv, &summary.district)?
    };
    Ok((summary, epoch))
}
