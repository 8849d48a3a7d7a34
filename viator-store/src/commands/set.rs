//! The commands of sets (Redis's `t_set.c`). Being built in issue 3.

use crate::command::CommandSpec;

/// This family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[];
