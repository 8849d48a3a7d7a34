//! Viator's command-line tools, each taking the flags of its Redis
//! counterpart and printing what it prints.
//!
//! Here now: `viator-check-vdb` (redis-check-rdb) and `viator-check-aof`
//! (redis-check-aof). To come: viator-cli, viator-benchmark, viator-sentinel,
//! viator-dump, viator-load and viator-shake; until they land, Debian's
//! `redis-cli` and `redis-benchmark` work against viator-server unchanged.

#![warn(missing_docs)]

pub mod check_aof;
pub mod check_vdb;

/// The Redis version the tools speak for.
pub const REDIS_VERSION: &str = "8.4.0";
