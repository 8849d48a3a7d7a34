//! Writing RDB primitives (Redis's `rdbSaveLen`, `rdbSaveRawString`,
//! `rdbSaveBinaryDoubleValue`...), with the running CRC64.

use std::io::{self, Write};

use super::len_enc;
use crate::crc::Crc64;

/// Writes RDB primitives to `W`, keeping the CRC64 of everything written.
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
    crc: Crc64,
    written: u64,
    compress: bool,
}

impl<W: Write> Writer<W> {
    /// A writer; `compress` is `rdbcompression`: strings longer than 20
    /// bytes are LZF-compressed when that saves at least 4 bytes.
    pub fn new(out: W, compress: bool) -> Writer<W> {
        Writer {
            out,
            crc: Crc64::new(),
            written: 0,
            compress,
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The CRC64 of everything written so far.
    pub fn crc(&self) -> u64 {
        self.crc.value()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Writes raw bytes.
    pub fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.out.write_all(b)?;
        self.crc.update(b);
        self.written += b.len() as u64;
        Ok(())
    }

    /// Writes one byte (an opcode or a type).
    pub fn u8(&mut self, b: u8) -> io::Result<()> {
        self.bytes(&[b])
    }

    /// `REDIS` and the four-digit version.
    pub fn header(&mut self, version: u16) -> io::Result<()> {
        self.bytes(format!("REDIS{version:04}").as_bytes())
    }

    /// A length (Redis's `rdbSaveLen`): 1, 2, 5 or 9 bytes.
    pub fn length(&mut self, n: u64) -> io::Result<()> {
        if n < 1 << 6 {
            self.u8(n as u8)
        } else if n < 1 << 14 {
            self.bytes(&[(len_enc::BITS14 << 6) | (n >> 8) as u8, n as u8])
        } else if n <= u64::from(u32::MAX) {
            self.u8(len_enc::BITS32)?;
            self.bytes(&(n as u32).to_be_bytes())
        } else {
            self.u8(len_enc::BITS64)?;
            self.bytes(&n.to_be_bytes())
        }
    }

    /// A 32-bit little-endian integer (old expire times).
    pub fn u32_le(&mut self, n: u32) -> io::Result<()> {
        self.bytes(&n.to_le_bytes())
    }

    /// A 64-bit little-endian integer (expire times in milliseconds).
    pub fn u64_le(&mut self, n: u64) -> io::Result<()> {
        self.bytes(&n.to_le_bytes())
    }

    /// A double as 8 little-endian bytes (Redis's
    /// `rdbSaveBinaryDoubleValue`).
    pub fn binary_double(&mut self, v: f64) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    /// An integer as a string (Redis's `rdbSaveLongLongAsStringObject`):
    /// the special integer encodings when it fits 32 bits, else decimal.
    pub fn int_string(&mut self, v: i64) -> io::Result<()> {
        match int_encoding(v) {
            Some(enc) => self.bytes(&enc.0[..enc.1]),
            None => self.raw_string(itoa::Buffer::new().format(v).as_bytes()),
        }
    }

    /// A string (Redis's `rdbSaveRawString`): integer-encoded when it is
    /// the canonical decimal form of a 32-bit integer, LZF-compressed when
    /// enabled and worth it, else length and bytes.
    pub fn string(&mut self, s: &[u8]) -> io::Result<()> {
        if s.len() <= 11
            && let Some(v) = canonical_int(s)
            && let Some(enc) = int_encoding(v)
        {
            return self.bytes(&enc.0[..enc.1]);
        }
        if self.compress && s.len() > 20 && self.lzf_string(s)? {
            return Ok(());
        }
        self.raw_string(s)
    }

    fn raw_string(&mut self, s: &[u8]) -> io::Result<()> {
        self.length(s.len() as u64)?;
        self.bytes(s)
    }

    /// Writes `s` LZF-compressed if that saves more than 4 bytes, as Redis
    /// (`rdbSaveLzfStringObject` with an output buffer of `len - 4`).
    fn lzf_string(&mut self, s: &[u8]) -> io::Result<bool> {
        // The crate reports input it cannot shrink as an error.
        let Ok(packed) = lzf::compress(s) else {
            return Ok(false);
        };
        if packed.is_empty() || packed.len() > s.len() - 4 {
            return Ok(false);
        }
        self.u8((len_enc::SPECIAL << 6) | len_enc::LZF)?;
        self.length(packed.len() as u64)?;
        self.length(s.len() as u64)?;
        self.bytes(&packed)?;
        Ok(true)
    }
}

/// `s` as an integer if it is exactly the decimal form Redis would print
/// for it (no sign on zero, no leading zeros or spaces: Redis's
/// `string2ll` followed by the `ll2string` round-trip check).
fn canonical_int(s: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(s).ok()?;
    let v: i64 = text.parse().ok()?;
    (itoa::Buffer::new().format(v).as_bytes() == s).then_some(v)
}

/// The special integer encoding of `v` (Redis's `rdbEncodeInteger`): the
/// bytes and how many of them are used.
fn int_encoding(v: i64) -> Option<([u8; 5], usize)> {
    let special = len_enc::SPECIAL << 6;
    let mut b = [0u8; 5];
    if let Ok(x) = i8::try_from(v) {
        b[0] = special | len_enc::INT8;
        b[1] = x as u8;
        Some((b, 2))
    } else if let Ok(x) = i16::try_from(v) {
        b[0] = special | len_enc::INT16;
        b[1..3].copy_from_slice(&x.to_le_bytes());
        Some((b, 3))
    } else if let Ok(x) = i32::try_from(v) {
        b[0] = special | len_enc::INT32;
        b[1..5].copy_from_slice(&x.to_le_bytes());
        Some((b, 5))
    } else {
        None
    }
}
