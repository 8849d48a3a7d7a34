//! The commands of hashes, with field expiry (Redis's `t_hash.c`). Being built in issue 3.

use crate::command::CommandSpec;

/// This family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[];
