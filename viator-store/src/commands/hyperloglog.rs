//! PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST (Redis's `hyperloglog.c`).

use crate::command::CommandSpec;

/// The commands of this family.
pub const COMMANDS: &[CommandSpec] = &[];
