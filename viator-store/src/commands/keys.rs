//! Placeholder: being written.

use crate::command::CommandSpec;

/// This family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[];
