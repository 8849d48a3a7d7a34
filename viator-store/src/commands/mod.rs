//! The command families, one file each, as Redis's `t_string.c`,
//! `db.c`, `server.c`... Each family exports its part of the command table
//! as a `COMMANDS` list of [`CommandSpec`] entries.

use crate::command::CommandSpec;

pub mod args;
pub mod debug;
pub mod hash;
pub mod introspection;
pub mod keys;
pub mod list;
pub mod memory;
mod scan_args;
pub mod set;
pub mod sort;
pub mod string;
pub mod transactions;
pub mod zset;

pub use crate::exec::reply_lookup_error;

/// Every command this crate declares, family by family.
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    [
        string::COMMANDS,
        keys::COMMANDS,
        list::COMMANDS,
        hash::COMMANDS,
        set::COMMANDS,
        zset::COMMANDS,
        sort::COMMANDS,
        transactions::COMMANDS,
        memory::COMMANDS,
        introspection::COMMANDS,
        debug::COMMANDS,
    ]
    .into_iter()
    .flatten()
}
