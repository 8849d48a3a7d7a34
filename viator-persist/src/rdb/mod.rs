//! The RDB format's constants and its primitive encodings (Redis's `rdb.h`
//! and the low-level half of `rdb.c`).
//!
//! A file is `REDIS` and a four-digit version, then opcodes and key/value
//! records, then [`opcode::EOF`] and the CRC64 of everything before it
//! (little-endian; zero when `rdbchecksum` is off).

pub mod file;
pub mod legacy;
mod read;
pub mod stream;
pub mod value;
mod write;

pub use read::{RdbString, Reader};
pub use write::Writer;

/// The RDB version Redis 7.4 to 8.4 write.
pub const RDB_VERSION: u16 = 12;

/// The record types (Redis's `RDB_TYPE_*`): what follows a key.
pub mod value_type {
    /// A string.
    pub const STRING: u8 = 0;
    /// A list as a linked list of strings (before Redis 3.2).
    pub const LIST: u8 = 1;
    /// A set as a list of strings.
    pub const SET: u8 = 2;
    /// A sorted set with scores as strings (before RDB 8).
    pub const ZSET: u8 = 3;
    /// A hash as field/value strings.
    pub const HASH: u8 = 4;
    /// A sorted set with binary double scores.
    pub const ZSET_2: u8 = 5;
    /// A module value, pre-GA format.
    pub const MODULE_PRE_GA: u8 = 6;
    /// A module value.
    pub const MODULE_2: u8 = 7;
    /// A hash as a zipmap (Redis 2.x).
    pub const HASH_ZIPMAP: u8 = 9;
    /// A list as one ziplist.
    pub const LIST_ZIPLIST: u8 = 10;
    /// A set of integers as an intset.
    pub const SET_INTSET: u8 = 11;
    /// A sorted set as a ziplist.
    pub const ZSET_ZIPLIST: u8 = 12;
    /// A hash as a ziplist.
    pub const HASH_ZIPLIST: u8 = 13;
    /// A quicklist of ziplists (Redis 3.2 to 6.2).
    pub const LIST_QUICKLIST: u8 = 14;
    /// A stream, first listpack format.
    pub const STREAM_LISTPACKS: u8 = 15;
    /// A hash as a listpack.
    pub const HASH_LISTPACK: u8 = 16;
    /// A sorted set as a listpack.
    pub const ZSET_LISTPACK: u8 = 17;
    /// A quicklist of listpacks or plain nodes (Redis 7+).
    pub const LIST_QUICKLIST_2: u8 = 18;
    /// A stream with consumer-group metadata of Redis 7.0.
    pub const STREAM_LISTPACKS_2: u8 = 19;
    /// A set as a listpack.
    pub const SET_LISTPACK: u8 = 20;
    /// A stream with the consumers' active time (Redis 7.2+).
    pub const STREAM_LISTPACKS_3: u8 = 21;
    /// A hash with field TTLs, pre-GA format (Redis 7.4 RC).
    pub const HASH_METADATA_PRE_GA: u8 = 22;
    /// A listpack hash with field TTLs, pre-GA format.
    pub const HASH_LISTPACK_EX_PRE_GA: u8 = 23;
    /// A hash with field TTLs.
    pub const HASH_METADATA: u8 = 24;
    /// A listpack hash with field TTLs.
    pub const HASH_LISTPACK_EX: u8 = 25;
}

/// The opcodes that are not key records (Redis's `RDB_OPCODE_*`).
pub mod opcode {
    /// Slot information of the keys that follow (cluster).
    pub const SLOT_INFO: u8 = 244;
    /// A function library.
    pub const FUNCTION2: u8 = 245;
    /// A function library, pre-GA format.
    pub const FUNCTION_PRE_GA: u8 = 246;
    /// Module auxiliary data.
    pub const MODULE_AUX: u8 = 247;
    /// The next key's idle time (LRU), seconds.
    pub const IDLE: u8 = 248;
    /// The next key's access frequency (LFU), one byte.
    pub const FREQ: u8 = 249;
    /// An auxiliary field: two strings.
    pub const AUX: u8 = 250;
    /// Hash table size hints for the database.
    pub const RESIZEDB: u8 = 251;
    /// The next key's expire time, unix milliseconds, 8 bytes little-endian.
    pub const EXPIRETIME_MS: u8 = 252;
    /// The next key's expire time, unix seconds, 4 bytes (old files).
    pub const EXPIRETIME: u8 = 253;
    /// Select a database.
    pub const SELECTDB: u8 = 254;
    /// End of file (the checksum follows).
    pub const EOF: u8 = 255;
}

/// Length-prefix encodings: the two top bits of the first byte.
pub(crate) mod len_enc {
    /// 6-bit length in the same byte.
    pub const BITS6: u8 = 0;
    /// 14-bit length: 6 bits here and the next byte (big-endian).
    pub const BITS14: u8 = 1;
    /// 32-bit big-endian length follows (first byte exactly 0x80).
    pub const BITS32: u8 = 0x80;
    /// 64-bit big-endian length follows (first byte exactly 0x81).
    pub const BITS64: u8 = 0x81;
    /// A special string encoding in the low 6 bits.
    pub const SPECIAL: u8 = 3;
    /// Special: an 8-bit integer.
    pub const INT8: u8 = 0;
    /// Special: a 16-bit little-endian integer.
    pub const INT16: u8 = 1;
    /// Special: a 32-bit little-endian integer.
    pub const INT32: u8 = 2;
    /// Special: an LZF-compressed string.
    pub const LZF: u8 = 3;
}

/// What can go wrong reading an RDB stream. Every malformed input is one
/// of these, never a panic or an allocation larger than the input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The input ended inside a record.
    #[error("unexpected end of file")]
    UnexpectedEof,
    /// A length that cannot be right (larger than what is left, or than
    /// memory allows).
    #[error("invalid length {0}")]
    BadLength(u64),
    /// An unknown string encoding.
    #[error("unknown string encoding {0}")]
    BadEncoding(u8),
    /// LZF data that does not decompress to its stated length.
    #[error("invalid LZF compressed string")]
    BadLzf,
    /// A double in the old text format that does not parse.
    #[error("invalid double value")]
    BadDouble,
    /// The file does not start with `REDIS` and a version.
    #[error("wrong signature trying to load DB from file")]
    BadSignature,
    /// A version newer than this reader knows.
    #[error("can't handle RDB format version {0}")]
    BadVersion(u32),
    /// A compact encoding (intset, ziplist, listpack, zipmap) that fails
    /// its integrity check.
    #[error("corrupt {0}")]
    Corrupt(&'static str),
    /// A value this version of Viator cannot load yet.
    #[error("unsupported {0}")]
    Unsupported(&'static str),
    /// The checksum at the end does not match the data.
    #[error("wrong RDB checksum expected: ({stored:#x}) got ({computed:#x})")]
    BadChecksum {
        /// The checksum in the file.
        stored: u64,
        /// The checksum of the data read.
        computed: u64,
    },
    /// A value type no Redis version writes.
    #[error("unknown RDB value type {0}")]
    UnknownType(u8),
}

#[cfg(test)]
mod tests;
