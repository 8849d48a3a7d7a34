//! The commands of SORT and SORT_RO (Redis's `sort.c`). Being built in issue 3.

use crate::command::CommandSpec;

/// This family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[];
