//! DUMP/RESTORE payloads (Redis's `createDumpPayload` and
//! `verifyDumpPayload`): a value as an RDB record without its key (type
//! byte, then the value), the RDB version as 2 bytes little-endian, and the
//! CRC64 of all that as 8 bytes little-endian. Byte-compatible with
//! Redis's, so a payload moves between Redis and Viator both ways.

use viator_types::entry::Entry;

use crate::objects::{Limits, entry_from_record, write_value};
use crate::rdb::value::read_value;
use crate::rdb::{RDB_VERSION, Reader, Writer};

/// The payload of `entry`'s value; `compress` is `rdbcompression` (long
/// strings LZF-compressed), which Redis's DUMP follows too.
pub fn create(entry: &Entry, compress: bool) -> Vec<u8> {
    create_version(entry, compress, RDB_VERSION)
}

/// [`create`] in RDB `version` (10 for Redis 7.0, 11 for 7.2) when the
/// value fits it, else in the current version (a hash with field expire
/// times needs 12).
pub fn create_version(entry: &Entry, compress: bool, version: u16) -> Vec<u8> {
    let mut version = version.min(RDB_VERSION);
    let mut w = Writer::new(Vec::new(), compress);
    if write_value(&mut w, entry, version).is_err() {
        version = RDB_VERSION;
        w = Writer::new(Vec::new(), compress);
        // Writing to memory cannot fail; an entry the current version
        // cannot write is a bug, reported by an empty value rather than a
        // panic.
        let _ = write_value(&mut w, entry, version);
    }
    let mut out = w.into_inner();
    out.extend_from_slice(&version.to_le_bytes());
    let crc = crate::crc::crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Whether `payload`'s footer is right: an RDB version this reader knows
/// and (unless `skip_checksum`) a matching CRC64.
pub fn verify(payload: &[u8], skip_checksum: bool) -> bool {
    if payload.len() < 10 {
        return false;
    }
    let footer = &payload[payload.len() - 10..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return false;
    }
    if skip_checksum {
        return true;
    }
    let crc = u64::from_le_bytes(footer[2..].try_into().unwrap_or([0; 8]));
    crate::crc::crc64(&payload[..payload.len() - 8]) == crc
}

/// The value of a verified payload as an entry of `key` (no expire time;
/// RESTORE sets it). `None` for a value Redis would not create (an empty
/// collection) or bad data ("Bad data format").
pub fn read(payload: &[u8], key: &[u8], limits: &Limits, now_ms: i64) -> Option<Entry> {
    let body = &payload[..payload.len().checked_sub(10)?];
    let mut r = Reader::new(body);
    let value_type = r.u8().ok()?;
    let value = read_value(&mut r, value_type).ok()?;
    if r.offset() != body.len() as u64 {
        return None;
    }
    entry_from_record(key, value, None, limits, now_ms).ok()?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_match_redis_bytes() {
        // Redis 7.x: DUMP of SET k "hello" with RDB version 12.
        let e = Entry::new_string(b"k", b"hello");
        let p = create(&e, true);
        assert_eq!(&p[..7], b"\x00\x05hello");
        assert_eq!(&p[7..9], &[12, 0]);
        assert!(verify(&p, false));
        let back = read(&p, b"other", &Limits::default(), 0).unwrap();
        assert_eq!(back.key(), b"other");
        assert_eq!(back.as_str().unwrap().to_vec(), b"hello");
        let mut bad = p.clone();
        bad[3] ^= 1;
        assert!(!verify(&bad, false));
        assert!(verify(&bad, true));
        assert!(!verify(&p[..9], false));
        let mut newer = p.clone();
        newer[7] = 13;
        assert!(!verify(&newer, true));
        // rdbcompression no: long strings stay raw.
        let long = Entry::new_string(b"k", &[b'a'; 100]);
        assert_eq!(create(&long, false)[1..3], [0x40, 100]);
        assert_eq!(create(&long, true)[1], 0xc3);
    }
}
