//! Viator's data structures, with no I/O: the compact keyspace table and its
//! entries, Redis's glob matcher, and Redis's number parsing and formatting.
//! Later issues add the list, hash, set, sorted set, stream, HyperLogLog,
//! geo, vector set, JSON and probabilistic types here.

#![warn(missing_docs)]

pub mod entry;
pub mod glob;
pub mod number;
pub mod table;
