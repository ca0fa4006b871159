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

use super::{Storage, StorageError, StorageResult};
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read, Write};
use std::path::Path;

const MAGIC: &[u8] = b"SETU-BACKUP-1\n";
/// The tree that is copied apart from the others.
const AUDIT_TREE: &[u8] = b"audit";
/// The page cache of the database a restore writes.
const RESTORE_CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// Entries written per batch during a restore.
const RESTORE_BATCH: usize = 2_000;
/// Entries written between two flushes during a restore.
const RESTORE_FLUSH_EVERY: usize = 200_000;
/// sled's own default tree, which Setu does not use.
const DEFAULT_TREE: &[u8] = b"__sled__default";

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
            for name in self.db.tree_names() {
                if name.as_ref() == AUDIT_TREE || name.as_ref() == DEFAULT_TREE {
                    continue;
                }
                let tree = self.db.open_tree(&name)?;
                entries += put_tree(
                    &mut out,
                    &name,
                    tree.iter().map(|item| {
                        item.map(|(k, v)| (k.to_vec(), v.to_vec()))
                            .map_err(StorageError::from)
                    }),
                )?;
                trees += 1;
            }
        }
        let audit = self.audit_snapshot()?;
        entries += put_tree(&mut out, AUDIT_TREE, audit.into_iter().map(Ok))?;
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
    {
        let _lock = super::lock::DataDirLock::acquire(dir)?;
        // A small page cache, batches of modest size and a flush every so often keep the
        // restore's memory bounded (with sled's defaults it grew to several times the
        // backup's size).
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(RESTORE_CACHE_BYTES)
            .open()
            .map_err(|e| StorageError::Backend(format!("cannot open {}: {e}", dir.display())))?;
        let since_flush = std::cell::Cell::new(0usize);
        let current: std::cell::RefCell<Option<sled::Tree>> = std::cell::RefCell::new(None);
        let batch: std::cell::RefCell<sled::Batch> =
            std::cell::RefCell::new(sled::Batch::default());
        let pending = std::cell::Cell::new(0usize);
        let apply = || -> StorageResult<()> {
            if let Some(tree) = current.borrow().as_ref() {
                tree.apply_batch(batch.take())?;
            }
            pending.set(0);
            Ok(())
        };
        read_backup(
            from,
            |name| {
                apply()?;
                *current.borrow_mut() = Some(db.open_tree(name)?);
                Ok(())
            },
            |key, value| {
                batch.borrow_mut().insert(key, value);
                pending.set(pending.get() + 1);
                if pending.get() >= RESTORE_BATCH {
                    apply()?;
                    since_flush.set(since_flush.get() + RESTORE_BATCH);
                    if since_flush.get() >= RESTORE_FLUSH_EVERY {
                        db.flush()?;
                        since_flush.set(0);
                    }
                }
                Ok(())
            },
        )?;
        apply()?;
        db.flush()?;
    }
    let epoch = Storage::renew_epoch(dir, &summary.district)?;
    Ok((summary, epoch))
}
