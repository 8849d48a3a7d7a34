//! The command families, one file each, as Redis's `t_string.c`,
//! `db.c`, `server.c`... Each family exports its part of the command table
//! as a `COMMANDS` list of [`CommandSpec`] entries.

use crate::command::CommandSpec;

pub mod args;
pub mod bitmap;
pub mod debug;
pub mod dump;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod introspection;
pub mod keys;
pub mod list;
pub mod memory;
pub mod migrate;
pub mod rewrite;
mod scan_args;
pub mod set;
pub mod sort;
pub mod stream;
pub mod stream_group;
pub mod string;
pub mod transactions;
pub mod zset;

pub use crate::exec::reply_lookup_error;

/// Every command this crate declares, family by family.
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    [
        string::COMMANDS,
        keys::COMMANDS,
        dump::COMMANDS,
        migrate::COMMANDS,
        list::COMMANDS,
        hash::COMMANDS,
        set::COMMANDS,
        zset::COMMANDS,
        stream::COMMANDS,
        stream_group::COMMANDS,
        hyperloglog::COMMANDS,
        bitmap::COMMANDS,
        geo::COMMANDS,
        sort::COMMANDS,
        transactions::COMMANDS,
        memory::COMMANDS,
        introspection::COMMANDS,
        debug::COMMANDS,
    ]
    .into_iter()
    .flatten()
}

/// Redis's index range sanitizing (LRANGE, LTRIM, ZRANGE by rank...):
/// negative indexes count from the end, the start is clamped to 0 and the
/// end to the last element. `None` for an empty range, else the inclusive
/// `(start, end)`.
pub(crate) fn index_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let from_end = |i: i64| if i < 0 { i.saturating_add(len) } else { i };
    let start = from_end(start).max(0);
    let end = from_end(end);
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}
