//! The append-only file: Redis 7+'s multi-part layout (a manifest naming a
//! base file and incremental files in `appenddirname`).

pub mod commands;
pub mod manifest;
pub mod rewrite;
