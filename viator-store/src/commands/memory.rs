//! MEMORY (Redis's `object.c` memoryCommand): USAGE and HELP. DOCTOR,
//! MALLOC-STATS, PURGE and STATS come with the server introspection work.

use crate::command::{CommandSpec, Ctx, KeySpec, flags};
use crate::errors;

/// This family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "memory",
    arity: -2,
    group: "server",
    summary: "A container for memory diagnostics commands.",
    since: "4.0.0",
    complexity: "Depends on subcommand.",
    subcommands: SUBCOMMANDS,
    ..CommandSpec::DEFAULT
}];

const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "help",
        arity: 2,
        flags: flags::LOADING | flags::STALE,
        group: "server",
        summary: "Returns helpful text about the different subcommands.",
        since: "4.0.0",
        complexity: "O(1)",
        handler: Some(help),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "usage",
        arity: -3,
        flags: flags::READONLY,
        keys: &[KeySpec::single(2, &["RO"])],
        group: "server",
        summary: "Estimates the memory usage of a key.",
        since: "4.0.0",
        complexity: "O(N) where N is the number of samples.",
        args: "key:key [SAMPLES=count:integer]",
        handler: Some(usage),
        ..CommandSpec::DEFAULT
    },
];

const HELP: &[&str] = &[
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

/// MEMORY HELP, as Redis's `addReplyHelp`.
fn help(ctx: &mut Ctx<'_>) {
    super::introspection::reply_help(ctx.out, b"MEMORY", HELP);
}

/// MEMORY USAGE key [SAMPLES count]: the bytes the key and its value take
/// (the entry block and everything it owns). Viator counts every element,
/// so SAMPLES is checked as Redis checks it and otherwise changes nothing.
fn usage(ctx: &mut Ctx<'_>) {
    let mut j = 3;
    while j < ctx.argc() {
        if ctx.arg_is(j, "samples") && j + 1 < ctx.argc() {
            let Some(n) = ctx.int_arg(j + 1) else {
                return;
            };
            if n < 0 {
                ctx.out.error(errors::SYNTAX);
                return;
            }
            j += 2;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
    }
    let key = ctx.arg(2);
    let ks = ctx.key(key);
    let bytes = ks.peek(key).map(|e| e.memory_usage());
    drop(ks);
    match bytes {
        // The table slot (8 bytes and a control byte) is the key's too.
        Some(n) => ctx.out.int((n + 9) as i64),
        None => ctx.out.null(),
    }
}
