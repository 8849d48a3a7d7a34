//! Viator's command-line tools.
//!
//! This crate will hold the binaries viator-cli, viator-benchmark,
//! viator-check-vdb, viator-check-aof, viator-sentinel, viator-dump,
//! viator-load and viator-shake, each taking the flags of its Redis
//! counterpart. Until they land, Debian's `redis-cli` and `redis-benchmark`
//! work against viator-server unchanged.
