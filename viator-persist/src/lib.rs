//! Viator's persistence formats.
//!
//! Snapshots are Redis's RDB format (Viator's default file name is
//! `dump.vdb`), so that a `dump.rdb` moves between Redis and Viator both
//! ways. This crate holds the format's building blocks: the checksums
//! ([`crc`]) and the RDB encodings of lengths, strings (integer-encoded and
//! LZF-compressed), doubles and opcodes ([`rdb`]). Whole-file saving and
//! loading, the multi-part AOF and DUMP/RESTORE payloads come with the
//! persistence issue.

#![warn(missing_docs)]

pub mod aof;
pub mod crc;
pub mod dump;
pub mod objects;
pub mod rdb;
