//! Reading RDB primitives (Redis's `rdbLoadLen`, `rdbGenericLoadStringObject`,
//! `rdbLoadBinaryDoubleValue`...), with the running CRC64.
//!
//! Lengths come from the input and cannot be trusted: buffers grow as
//! bytes actually arrive (at most [`CHUNK`] ahead), so a forged length of
//! many gigabytes costs an error at the end of the input, not an allocation.

use std::io::Read;

use super::{Error, len_enc};
use crate::crc::Crc64;

/// The most memory reserved ahead of the bytes actually read.
const CHUNK: usize = 1 << 20;

/// LZF turns 3 input bytes into at most 264 output bytes: a stated length
/// beyond this ratio is corrupt, and is refused before allocating.
const LZF_MAX_RATIO: u64 = 88;

/// Reads RDB primitives from `R`, keeping the CRC64 of everything read.
#[derive(Debug)]
pub struct Reader<R: Read> {
    input: R,
    crc: Crc64,
    read: u64,
}

/// A string as read: bytes, or an integer-encoded one (which callers may
/// keep as an integer without formatting it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdbString {
    /// Plain (or decompressed) bytes.
    Bytes(Vec<u8>),
    /// An integer encoding.
    Int(i64),
}

impl RdbString {
    /// The string's bytes (an integer in decimal).
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            RdbString::Bytes(b) => b,
            RdbString::Int(v) => itoa::Buffer::new().format(v).as_bytes().to_vec(),
        }
    }
}

impl<R: Read> Reader<R> {
    /// A reader of `input`.
    pub fn new(input: R) -> Reader<R> {
        Reader {
            input,
            crc: Crc64::new(),
            read: 0,
        }
    }

    /// Bytes consumed so far (the offset errors are reported at).
    pub fn offset(&self) -> u64 {
        self.read
    }

    /// The CRC64 of everything read so far.
    pub fn crc(&self) -> u64 {
        self.crc.value()
    }

    /// Fills `buf` from the input.
    pub fn exact(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        self.input
            .read_exact(buf)
            .map_err(|_| Error::UnexpectedEof)?;
        self.crc.update(buf);
        self.read += buf.len() as u64;
        Ok(())
    }

    /// Reads `n` bytes into a new buffer, growing it as the bytes arrive.
    pub fn vec(&mut self, n: u64) -> Result<Vec<u8>, Error> {
        let n = usize::try_from(n).map_err(|_| Error::BadLength(n))?;
        let mut v = Vec::with_capacity(n.min(CHUNK));
        while v.len() < n {
            let start = v.len();
            let step = (n - start).min(CHUNK);
            v.resize(start + step, 0);
            self.exact(&mut v[start..])?;
        }
        Ok(v)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, Error> {
        let mut b = [0u8; 1];
        self.exact(&mut b)?;
        Ok(b[0])
    }

    /// A 32-bit little-endian integer.
    pub fn u32_le(&mut self) -> Result<u32, Error> {
        let mut b = [0u8; 4];
        self.exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// A 64-bit little-endian integer.
    pub fn u64_le(&mut self) -> Result<u64, Error> {
        let mut b = [0u8; 8];
        self.exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// `REDIS` and a four-digit version; returns the version, refusing
    /// versions above `max_version`.
    pub fn header(&mut self, max_version: u32) -> Result<u32, Error> {
        let mut b = [0u8; 9];
        self.exact(&mut b).map_err(|_| Error::BadSignature)?;
        if &b[..5] != b"REDIS" || !b[5..].iter().all(u8::is_ascii_digit) {
            return Err(Error::BadSignature);
        }
        let version = b[5..]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        if version < 1 || version > max_version {
            return Err(Error::BadVersion(version));
        }
        Ok(version)
    }

    /// A length, or a special string encoding: `(value, true)` means the
    /// value is one of the `len_enc` specials (Redis's `rdbLoadLenByRef`).
    pub fn len_or_encoding(&mut self) -> Result<(u64, bool), Error> {
        let first = self.u8()?;
        match first >> 6 {
            len_enc::BITS6 => Ok((u64::from(first & 0x3f), false)),
            len_enc::BITS14 => Ok((
                (u64::from(first & 0x3f) << 8) | u64::from(self.u8()?),
                false,
            )),
            len_enc::SPECIAL => Ok((u64::from(first & 0x3f), true)),
            _ => match first {
                len_enc::BITS32 => {
                    let mut b = [0u8; 4];
                    self.exact(&mut b)?;
                    Ok((u64::from(u32::from_be_bytes(b)), false))
                }
                len_enc::BITS64 => {
                    let mut b = [0u8; 8];
                    self.exact(&mut b)?;
                    Ok((u64::from_be_bytes(b), false))
                }
                other => Err(Error::BadEncoding(other)),
            },
        }
    }

    /// A length; a special encoding here is corrupt.
    pub fn length(&mut self) -> Result<u64, Error> {
        match self.len_or_encoding()? {
            (n, false) => Ok(n),
            (enc, true) => Err(Error::BadEncoding(enc as u8)),
        }
    }

    /// A string in any of its encodings.
    pub fn string(&mut self) -> Result<RdbString, Error> {
        let (n, special) = self.len_or_encoding()?;
        if !special {
            return Ok(RdbString::Bytes(self.vec(n)?));
        }
        match n as u8 {
            len_enc::INT8 => Ok(RdbString::Int(i64::from(self.u8()? as i8))),
            len_enc::INT16 => {
                let mut b = [0u8; 2];
                self.exact(&mut b)?;
                Ok(RdbString::Int(i64::from(i16::from_le_bytes(b))))
            }
            len_enc::INT32 => {
                let mut b = [0u8; 4];
                self.exact(&mut b)?;
                Ok(RdbString::Int(i64::from(i32::from_le_bytes(b))))
            }
            len_enc::LZF => {
                let clen = self.length()?;
                let len = self.length()?;
                if len == 0 || clen == 0 || len > clen.saturating_mul(LZF_MAX_RATIO) {
                    return Err(Error::BadLzf);
                }
                let packed = self.vec(clen)?;
                let len = usize::try_from(len).map_err(|_| Error::BadLzf)?;
                let out = lzf::decompress(&packed, len).map_err(|_| Error::BadLzf)?;
                if out.len() != len {
                    return Err(Error::BadLzf);
                }
                Ok(RdbString::Bytes(out))
            }
            other => Err(Error::BadEncoding(other)),
        }
    }

    /// A string's bytes (integers in decimal).
    pub fn bytes(&mut self) -> Result<Vec<u8>, Error> {
        self.string().map(RdbString::into_bytes)
    }

    /// A double as 8 little-endian bytes.
    pub fn binary_double(&mut self) -> Result<f64, Error> {
        let mut b = [0u8; 8];
        self.exact(&mut b)?;
        Ok(f64::from_le_bytes(b))
    }

    /// A double in the old text format (RDB_TYPE_ZSET scores): a length
    /// byte, 253 for NaN, 254 for +inf, 255 for -inf.
    pub fn text_double(&mut self) -> Result<f64, Error> {
        match self.u8()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let mut b = [0u8; 255];
                let b = &mut b[..usize::from(n)];
                self.exact(b)?;
                std::str::from_utf8(b)
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .ok_or(Error::BadDouble)
            }
        }
    }
}
