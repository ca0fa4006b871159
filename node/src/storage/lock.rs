//! The data folder's lock: one node per database. A second `setu-node` started on a folder
//! that is in use is refused with a sentence naming the folder and the process holding it,
//! before anything is opened, instead of failing somewhere inside the database engine.
//!
//! The lock is an advisory `flock` on `setu-node.lock` in the folder, held for as long as
//! the [`Storage`](super::Storage) is alive and released by the operating system when the
//! process ends, even after a crash or `kill -9`, so a stale file never blocks a restart.

use super::{StorageError, StorageResult};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The lock file's name inside the data folder.
pub const LOCK_FILE: &str = "setu-node.lock";

/// A held lock on a data folder; released when dropped.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Locks `dir` (which must exist) for this process, or says who holds it.
    pub fn acquire(dir: &Path) -> StorageResult<DataDirLock> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StorageError::Backend(format!("cannot open {}: {e}", path.display())))?;
        match lock_with_grace(&file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(StorageError::InUse {
                    dir: dir.display().to_string(),
                    holder: if holder.is_empty() {
                        "another process".to_string()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(TryLockError::Error(e)) => {
                return Err(StorageError::Backend(format!(
                    "cannot lock {}: {e}",
                    path.display()
                )))
            }
        }
        // Who holds the lock, for the message a second node prints.
        let note = format!("setu-node process {}\n", std::process::id());
        let written = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(note.as_bytes()))
            .and_then(|()| file.sync_all());
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "could not note this process in the lock file");
        }
        Ok(DataDirLock { _file: file })
    }
}

/// How long a lock held by someone else is waited for before the folder counts as in use.
const LOCK_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// Takes the lock, waiting up to [`LOCK_GRACE`] for a holder that is letting go.
///
/// A lock can outlive its owner by a moment: a child process forked by another thread,
/// between `fork` and `exec`, shares the open file and with it the lock, until `exec` closes
/// it. A node restarted on a folder just closed in the same process (a restore, a test's
/// restart) would be refused for that moment, so a busy lock is asked again a few times.
fn lock_with_grace(file: &File) -> Result<(), TryLockError> {
    let deadline = std::time::Instant::now() + LOCK_GRACE;
    loop {
        match file.try_lock() {
            Err(TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let refused = DataDirLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(
            refused.contains("is in use by setu-node process"),
            "{refused}"
        );
        assert!(
            refused.contains(&dir.path().display().to_string()),
            "{refused}"
        );
        drop(first);
        DataDirLock::acquire(dir.path()).unwrap();
    }
}
