//! The stream commands without consumer groups: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XREAD, XSETID (Redis's `t_stream.c`).

use crate::command::CommandSpec;

/// The commands of this family.
pub const COMMANDS: &[CommandSpec] = &[];
