//! The search index's snapshot on disk, so that a node stopped cleanly starts in about a
//! second instead of rebuilding the index from every search document (tens of seconds at a
//! million records).
//!
//! A snapshot is trusted only while nothing has changed since it was written. Saving puts
//! a random token both in the file and in `meta`; opening the store takes the token out of
//! `meta` (durably, before anything is written), and every write transaction after a save
//! removes it in the same commit. A crash, an offline command, or any write after the save
//! therefore leaves no token behind, and the index is rebuilt from `search_docs` as before.
//! The file also carries a checksum of its contents, so a damaged file is rebuilt too.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::search::SearchIndex;

/// The snapshot's file name in the data folder.
pub(super) const SNAPSHOT_FILE: &str = "search-index.snapshot";
/// The `meta` key holding the token of the snapshot that matches the stored documents.
pub(super) const META_SNAPSHOT_TOKEN: &[u8] = b"search_snapshot_token";
/// The file's first bytes: what it is, and the layout's version.
const MAGIC: &[u8; 8] = b"SETUIDX2";
/// The token's length in bytes.
pub(super) const TOKEN_LEN: usize = 16;

/// Why a snapshot could not be written or read; the caller logs it and rebuilds.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SnapshotError {
    /// The file could not be written, read or renamed.
    #[error("search index snapshot {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The index could not be encoded or decoded.
    #[error("search index snapshot: {0}")]
    Encoding(#[from] postcard::Error),
    /// The file is not a snapshot of this layout, or its checksum does not match.
    #[error("search index snapshot {path}: {problem}")]
    Damaged { path: String, problem: &'static str },
}

fn path_in(dir: &Path) -> PathBuf {
    dir.join(SNAPSHOT_FILE)
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `index` with `token` into `dir`, replacing any older snapshot only once the new
/// one is complete and on disk.
pub(super) fn write(
    dir: &Path,
    token: &[u8; TOKEN_LEN],
    index: &SearchIndex,
) -> Result<u64, SnapshotError> {
    let payload = postcard::to_stdvec(index)?;
    let path = path_in(dir);
    let partial = dir.join(format!("{SNAPSHOT_FILE}.partial"));
    {
        let mut file = std::fs::File::create(&partial).map_err(io(&partial))?;
        let mut header = Vec::with_capacity(MAGIC.len() + TOKEN_LEN + 12);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(token);
        header.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        header.extend_from_slice(&crc32fast::hash(&payload).to_be_bytes());
        file.write_all(&header).map_err(io(&partial))?;
        file.write_all(&payload).map_err(io(&partial))?;
        file.sync_all().map_err(io(&partial))?;
    }
    std::fs::rename(&partial, &path).map_err(io(&path))?;
    if let Ok(folder) = std::fs::File::open(dir) {
        // The rename itself is durable once the folder is synced.
        let _ = folder.sync_all();
    }
    Ok(payload.len() as u64)
}

/// Reads the snapshot in `dir` if it carries `token`; `None` when there is none or it is
/// an older one.
pub(super) fn read(
    dir: &Path,
    token: &[u8; TOKEN_LEN],
) -> Result<Option<SearchIndex>, SnapshotError> {
    let path = path_in(dir);
    let mut file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&path)(e)),
    };
    let mut header = [0u8; 8 + TOKEN_LEN + 12];
    file.read_exact(&mut header).map_err(io(&path))?;
    let damaged = |problem| SnapshotError::Damaged {
        path: path.display().to_string(),
        problem,
    };
    if &header[..8] != MAGIC {
        return Err(damaged("not a snapshot of this version"));
    }
    if header[8..8 + TOKEN_LEN] != token[..] {
        return Ok(None);
    }
    let rest = &header[8 + TOKEN_LEN..];
    let len = u64::from_be_bytes(rest[..8].try_into().unwrap_or_default());
    let checksum = u32::from_be_bytes(rest[8..12].try_into().unwrap_or_default());
    let expected = file.metadata().map_err(io(&path))?.len() - header.len() as u64;
    if len != expected {
        return Err(damaged("its length does not match its header"));
    }
    let mut payload = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.read_to_end(&mut payload).map_err(io(&path))?;
    if crc32fast::hash(&payload) != checksum {
        return Err(damaged("its checksum does not match"));
    }
    Ok(Some(postcard::from_bytes(&payload)?))
}

/// Removes the snapshot in `dir`, if any (it is useless once its token is gone).
pub(super) fn remove(dir: &Path) {
    let _ = std::fs::remove_file(path_in(dir));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_reads_back_only_with_its_token_and_intact() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::new();
        let token = [7u8; TOKEN_LEN];
        write(dir.path(), &token, &index).unwrap();
        assert!(read(dir.path(), &token).unwrap().is_some());
        assert!(read(dir.path(), &[8u8; TOKEN_LEN]).unwrap().is_none());
        // One flipped byte in the contents is caught by the checksum.
        let path = path_in(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        assert!(read(dir.path(), &token).is_err());
        remove(dir.path());
        assert!(read(dir.path(), &token).unwrap().is_none());
    }
}
