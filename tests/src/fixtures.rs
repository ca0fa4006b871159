//! Test data: fictional person records and MO notes, and real (tiny) PNG images.

use setu_proto::v1::{Handling, MoCategory, MoMethod, MoNote, PersonRecord, PersonStatus, Warning};

/// A valid record of a fictional person.
pub fn sample_record(name: &str) -> PersonRecord {
    PersonRecord {
        name: name.to_string(),
        aliases: vec!["Kalu Test".to_string()],
        father_name: "Imaginary Prasad".to_string(),
        phones: vec!["+91 90000-00001".to_string()],
        vehicles: vec!["JH 99 ZZ 0001".to_string()],
        status: PersonStatus::Wanted as i32,
        warnings: vec![Warning::Armed as i32],
        handling: Handling::Peers as i32,
        ..Default::default()
    }
}

/// A valid MO note about the given records.
pub fn sample_note(category: MoCategory, summary: &str, record_ids: &[String]) -> MoNote {
    MoNote {
        record_ids: record_ids.to_vec(),
        category: category as i32,
        summary: summary.to_string(),
        method: Some(MoMethod {
            weapons: vec!["gas cutter".to_string()],
            vehicles: vec!["white pickup".to_string()],
            time_of_day: "late night, 01:00-04:00".to_string(),
            ..Default::default()
        }),
        places: vec!["Fictional Bazaar".to_string()],
        first_seen: "2025-01-10".to_string(),
        ..Default::default()
    }
}

/// The 8-byte signature every PNG file starts with.
pub const PNG_MAGIC: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// A valid 1×1 RGB PNG whose single pixel has the colour `rgb`: different colours give
/// different files (and digests).
pub fn png_bytes(rgb: [u8; 3]) -> Vec<u8> {
    let mut png = PNG_MAGIC.to_vec();
    // IHDR: width 1, height 1, bit depth 8, colour type 2 (RGB), default methods.
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    // One scanline: filter byte 0 and the pixel, in a zlib stream of one stored block.
    let raw = [0, rgb[0], rgb[1], rgb[2]];
    let mut zlib = vec![0x78, 0x01, 0x01];
    let len = raw.len() as u16;
    zlib.extend_from_slice(&len.to_le_bytes());
    zlib.extend_from_slice(&(!len).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_checksums_match_known_values() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        let png = png_bytes([255, 0, 0]);
        assert!(png.starts_with(&PNG_MAGIC));
        assert!(png.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
        assert_ne!(png, png_bytes([0, 255, 0]));
    }
}
