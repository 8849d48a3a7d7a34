//! The consumer-group commands of streams: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO, XACKDEL, XDELEX (Redis's `t_stream.c`).

use crate::command::CommandSpec;

/// The commands of this family.
pub const COMMANDS: &[CommandSpec] = &[];
