//! Viator's data structures, with no I/O: the compact keyspace table and its
//! entries, the list, hash, set and sorted set types, Redis's glob matcher,
//! and Redis's number parsing and formatting. Later issues add the stream,
//! HyperLogLog, geo, vector set, JSON and probabilistic types here.

#![warn(missing_docs)]

pub mod bits;
pub mod entry;
pub mod geohash;
pub mod glob;
pub mod hash;
pub mod hll;
pub mod list;
pub mod listpack;
pub mod number;
pub mod set;
pub mod stream;
pub mod table;
pub mod thin;
pub mod zset;
