//! SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO (Redis's `bitops.c`).

use crate::command::CommandSpec;

/// The commands of this family.
pub const COMMANDS: &[CommandSpec] = &[];
