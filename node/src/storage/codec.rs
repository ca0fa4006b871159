//! How keys and small values are laid out in the store's trees. Kept apart so that the byte
//! layout is written down once.

use super::{ItemState, Kind, StorageError};

/// `tag + id`: the key of an item in `tombstones`, `envelopes` and the item-state index.
pub fn item_key(kind: Kind, id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(id.len() + 1);
    key.push(kind.tag());
    key.extend_from_slice(id.as_bytes());
    key
}

/// Splits an item key back into kind and id.
pub fn split_item_key(key: &[u8]) -> Result<(Kind, String), StorageError> {
    let (&tag, id) = key
        .split_first()
        .ok_or_else(|| corrupt("item key", "empty"))?;
    let kind = Kind::from_tag(tag).ok_or_else(|| corrupt("item key", "unknown kind"))?;
    let id = String::from_utf8(id.to_vec()).map_err(|e| corrupt("item key", e))?;
    Ok((kind, id))
}

/// `s + tag + id`: where an item's [`ItemState`] is kept in the `index` tree.
pub fn state_key(kind: Kind, id: &str) -> Vec<u8> {
    let mut key = vec![b's'];
    key.extend_from_slice(&item_key(kind, id));
    key
}

/// `x + origin + NUL + external ref` → record id, in the `index` tree.
pub fn ext_ref_key(origin: &str, external_ref: &str) -> Vec<u8> {
    let mut key = vec![b'x'];
    key.extend_from_slice(origin.as_bytes());
    key.push(0);
    key.extend_from_slice(external_ref.as_bytes());
    key
}

/// `p + sha256` → how many records reference the photo, in the `index` tree.
pub fn photo_ref_key(sha256: &str) -> Vec<u8> {
    let mut key = vec![b'p'];
    key.extend_from_slice(sha256.as_bytes());
    key
}

/// `origin + NUL`: the prefix of an origin's entries in `log`, `watermarks` and `keys`.
pub fn origin_prefix(origin: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(origin.len() + 1);
    key.extend_from_slice(origin.as_bytes());
    key.push(0);
    key
}

/// `origin + NUL + seq`: an entry of the per-origin change log.
pub fn log_key(origin: &str, seq: u64) -> Vec<u8> {
    let mut key = origin_prefix(origin);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// The sequence number at the end of a log key.
pub fn log_key_seq(key: &[u8]) -> Result<u64, StorageError> {
    let start = key
        .len()
        .checked_sub(8)
        .ok_or_else(|| corrupt("log key", "too short"))?;
    read_u64(&key[start..]).ok_or_else(|| corrupt("log key", "bad sequence"))
}

/// `peer + NUL + origin`: a watermark or a peer's acknowledgement.
pub fn pair_key(a: &str, b: &str) -> Vec<u8> {
    let mut key = origin_prefix(a);
    key.extend_from_slice(b.as_bytes());
    key
}

/// The part after the first NUL of a pair key.
pub fn pair_key_second(key: &[u8]) -> String {
    match key.iter().position(|&b| b == 0) {
        Some(i) => String::from_utf8_lossy(&key[i + 1..]).into_owned(),
        None => String::new(),
    }
}

/// An (epoch, sequence) pair as 16 bytes.
pub fn encode_position(epoch: u64, seq: u64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&epoch.to_be_bytes());
    out[8..].copy_from_slice(&seq.to_be_bytes());
    out
}

/// Reads an (epoch, sequence) pair.
pub fn decode_position(bytes: &[u8]) -> Result<(u64, u64), StorageError> {
    if bytes.len() < 16 {
        return Err(corrupt("position", "shorter than 16 bytes"));
    }
    let epoch = read_u64(&bytes[..8]).ok_or_else(|| corrupt("position", "epoch"))?;
    let seq = read_u64(&bytes[8..16]).ok_or_else(|| corrupt("position", "seq"))?;
    Ok((epoch, seq))
}

/// An origin's entry in `origins`: current epoch, highest sequence, then retired epochs.
pub fn encode_origin(epoch: u64, max_seq: u64, retired: &[u64]) -> Vec<u8> {
    let mut out = encode_position(epoch, max_seq).to_vec();
    for r in retired {
        out.extend_from_slice(&r.to_be_bytes());
    }
    out
}

/// Reads an origin's entry: (epoch, highest sequence, retired epochs).
pub fn decode_origin(bytes: &[u8]) -> Result<(u64, u64, Vec<u64>), StorageError> {
    let (epoch, max_seq) = decode_position(bytes)?;
    let retired = bytes[16..].chunks_exact(8).filter_map(read_u64).collect();
    Ok((epoch, max_seq, retired))
}

const FLAG_SHARED: u8 = 1;
const FLAG_HAS_DATA: u8 = 2;
const FLAG_DELETED: u8 = 4;

/// An item's state: epoch, seq, flags, handling, origin.
pub fn encode_state(state: &ItemState) -> Vec<u8> {
    let mut out = Vec::with_capacity(18 + state.origin.len());
    out.extend_from_slice(&encode_position(state.epoch, state.seq));
    let mut flags = 0;
    if state.shared {
        flags |= FLAG_SHARED;
    }
    if state.has_data {
        flags |= FLAG_HAS_DATA;
    }
    if state.deleted {
        flags |= FLAG_DELETED;
    }
    out.push(flags);
    out.push(u8::try_from(state.handling).unwrap_or(0));
    out.extend_from_slice(state.origin.as_bytes());
    out
}

/// Reads an item's state.
pub fn decode_state(bytes: &[u8]) -> Result<ItemState, StorageError> {
    let (epoch, seq) = decode_position(bytes)?;
    if bytes.len() < 18 {
        return Err(corrupt("item state", "too short"));
    }
    let flags = bytes[16];
    Ok(ItemState {
        origin: String::from_utf8(bytes[18..].to_vec()).map_err(|e| corrupt("item state", e))?,
        epoch,
        seq,
        handling: i32::from(bytes[17]),
        shared: flags & FLAG_SHARED != 0,
        has_data: flags & FLAG_HAS_DATA != 0,
        deleted: flags & FLAG_DELETED != 0,
    })
}

/// A big-endian u64 from exactly 8 bytes.
pub fn read_u64(bytes: &[u8]) -> Option<u64> {
    let arr: [u8; 8] = bytes.try_into().ok()?;
    Some(u64::from_be_bytes(arr))
}

/// A corruption error.
pub fn corrupt(what: &str, detail: impl ToString) -> StorageError {
    StorageError::Corrupt {
        what: what.to_string(),
        detail: detail.to_string(),
    }
}
