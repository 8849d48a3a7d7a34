//! The commands of lists (Redis's `t_list.c`). Being built in issue 3.

use crate::command::CommandSpec;

/// This family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[];
