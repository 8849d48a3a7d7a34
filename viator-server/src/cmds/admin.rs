//! Server administration: SHUTDOWN, TIME, LOLWUT, and the script cache and
//! function registry commands that test harnesses send before every test
//! (SCRIPT FLUSH, FUNCTION FLUSH). The cache and registry stay empty until
//! scripting lands; the commands that would fill them are not offered yet.

use viator_store::command::{CommandSpec, Ctx, acl, flags};
use viator_store::errors;

use crate::server::Shared;

const SCRIPT_FLAGS: u64 = flags::NOSCRIPT;

/// The administration family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: flags::ADMIN
            | flags::NOSCRIPT
            | flags::LOADING
            | flags::STALE
            | flags::NO_MULTI
            | flags::SENTINEL
            | flags::ALLOW_BUSY,
        group: "server",
        summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        since: "1.0.0",
        complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
        args: "[save-selector:(NOSAVE|SAVE)] [NOW@7.0.0] [FORCE@7.0.0] [ABORT@7.0.0]",
        history: &[("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers.")],
        handler: Some(shutdown),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: flags::LOADING | flags::STALE | flags::FAST,
        group: "server",
        summary: "Returns the server time.",
        since: "2.6.0",
        complexity: "O(1)",
        tips: &["nondeterministic_output"],
        handler: Some(time),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lolwut",
        arity: -1,
        flags: flags::READONLY | flags::FAST,
        group: "server",
        summary: "Displays computer art and the Redis version",
        since: "5.0.0",
        args: "[VERSION=version:integer]",
        handler: Some(lolwut),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "script",
        arity: -2,
        group: "scripting",
        summary: "A container for Lua scripts management commands.",
        since: "2.6.0",
        complexity: "Depends on subcommand.",
        subcommands: &[
            CommandSpec {
                name: "flush",
                arity: -2,
                flags: SCRIPT_FLAGS,
                acl: acl::SCRIPTING | acl::SLOW,
                group: "scripting",
                summary: "Removes all server-side Lua scripts from the script cache.",
                since: "2.6.0",
                complexity: "O(N) with N being the number of scripts in cache",
                args: "[flush-type:(ASYNC@6.2.0|SYNC@6.2.0)]",
                tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                history: &[(
                    "6.2.0",
                    "Added the `ASYNC` and `SYNC` flushing mode modifiers.",
                )],
                handler: Some(script_flush),
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "exists",
                arity: -3,
                flags: SCRIPT_FLAGS,
                acl: acl::SCRIPTING | acl::SLOW,
                group: "scripting",
                summary: "Determines whether server-side Lua scripts exist in the script cache.",
                since: "2.6.0",
                complexity: "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
                args: "sha1:string...",
                tips: &[
                    "request_policy:all_shards",
                    "response_policy:agg_logical_and",
                ],
                handler: Some(script_exists),
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "help",
                arity: 2,
                flags: flags::LOADING | flags::STALE,
                acl: acl::SCRIPTING | acl::SLOW,
                group: "scripting",
                summary: "Returns helpful text about the different subcommands.",
                since: "5.0.0",
                complexity: "O(1)",
                handler: Some(script_help),
                ..CommandSpec::DEFAULT
            },
        ],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "function",
        arity: -2,
        group: "scripting",
        summary: "A container for function commands.",
        since: "7.0.0",
        complexity: "Depends on subcommand.",
        subcommands: &[
            CommandSpec {
                name: "flush",
                arity: -2,
                flags: flags::WRITE | flags::NOSCRIPT,
                acl: acl::SCRIPTING | acl::SLOW,
                group: "scripting",
                summary: "Deletes all libraries and functions.",
                since: "7.0.0",
                complexity: "O(N) where N is the number of functions deleted",
                args: "[flush-type:(ASYNC|SYNC)]",
                tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
                handler: Some(function_flush),
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "list",
                arity: -2,
                flags: flags::NOSCRIPT,
                acl: acl::SCRIPTING | acl::SLOW,
                group: "scripting",
                summary: "Returns information about all libraries.",
                since: "7.0.0",
                complexity: "O(N) where N is the number of functions",
                args: "[LIBRARYNAME=library-name-pattern:string] [WITHCODE]",
                tips: &["nondeterministic_output_order"],
                handler: Some(function_list),
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "help",
                arity: 2,
                flags: flags::LOADING | flags::STALE,
                acl: acl::SCRIPTING | acl::SLOW,
                group: "scripting",
                summary: "Returns helpful text about the different subcommands.",
                since: "7.0.0",
                complexity: "O(1)",
                handler: Some(function_help),
                ..CommandSpec::DEFAULT
            },
        ],
        ..CommandSpec::DEFAULT
    },
];

/// What Redis's `prepareForShutdown` does before the server stops: the
/// final snapshot when `save` points are configured (unless NOSAVE) or
/// SAVE asks for one. Returns false when that save failed, and the server
/// must not stop (unless FORCE).
pub fn prepare_shutdown(shared: &Shared, nosave: bool, save: bool) -> bool {
    crate::log::warning("User requested shutdown...");
    if shared.aof.enabled() {
        crate::log::notice("Calling fsync() on the AOF file.");
        crate::aof::flush_all(shared);
    }
    if save || (!nosave && !shared.config.read().save_params().is_empty()) {
        crate::log::notice("Saving the final RDB snapshot before exiting.");
        if crate::persistence::save_now(shared).is_err() {
            crate::log::warning("Error trying to save the DB, can't exit.");
            return false;
        }
    }
    true
}

fn shutdown(ctx: &mut Ctx<'_>) {
    let (mut nosave, mut save, mut abort, mut force) = (false, false, false, false);
    let mut any_flag = false;
    for i in 1..ctx.argc() {
        if ctx.arg_is(i, "nosave") {
            nosave = true;
            any_flag = true;
        } else if ctx.arg_is(i, "save") {
            save = true;
            any_flag = true;
        } else if ctx.arg_is(i, "now") {
            any_flag = true;
        } else if ctx.arg_is(i, "force") {
            force = true;
            any_flag = true;
        } else if ctx.arg_is(i, "abort") {
            abort = true;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
    }
    if (abort && any_flag) || (nosave && save) {
        ctx.out.error(errors::SYNTAX);
        return;
    }
    if abort {
        // No shutdown ever waits (there are no replicas to wait for), so
        // none can be in progress.
        ctx.out.error("ERR No shutdown in progress.");
        return;
    }
    let shared = Shared::from_host(ctx.host);
    if !prepare_shutdown(shared, nosave, save) && !force {
        ctx.out.error("ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    // Like Redis, the client gets no reply: the connection closes as the
    // server exits.
    ctx.client.close_after_reply = true;
    shared.request_shutdown(true);
}

fn time(ctx: &mut Ctx<'_>) {
    let us = viator_store::clock::now_us();
    ctx.out.array(2);
    ctx.out.bulk_int(us / 1_000_000);
    ctx.out.bulk_int(us % 1_000_000);
}

fn lolwut(ctx: &mut Ctx<'_>) {
    let mut version = None;
    let mut i = 1;
    while i < ctx.argc() {
        if ctx.arg_is(i, "version") && i + 1 < ctx.argc() {
            match viator_types::number::parse_i64(ctx.arg(i + 1)) {
                Some(v) => version = Some(v),
                None => {
                    ctx.out.error(errors::NOT_INTEGER);
                    return;
                }
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    let _ = version;
    // A small wave drawn fresh each time; the last line carries the
    // version, as Redis's does.
    let mut art = String::new();
    for row in 0..6 {
        for col in 0..40 {
            let y = ((col as f64 / 40.0 * std::f64::consts::TAU).sin() * 2.5 + 2.5).round() as i32;
            art.push(if y == row { '~' } else { ' ' });
        }
        art.push('\n');
    }
    art.push_str(&format!(
        "Viator ver. {} (Redis ver. {})\n",
        crate::VIATOR_VERSION,
        crate::REDIS_VERSION
    ));
    ctx.out.verbatim("txt", art.as_bytes());
}

fn flush_mode_ok(ctx: &mut Ctx<'_>) -> bool {
    match ctx.argc() {
        2 => true,
        3 if ctx.arg_is(2, "async") || ctx.arg_is(2, "sync") => true,
        3 => {
            ctx.out
                .error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
            false
        }
        _ => {
            ctx.out.error(errors::SYNTAX);
            false
        }
    }
}

fn script_flush(ctx: &mut Ctx<'_>) {
    if flush_mode_ok(ctx) {
        // The script cache holds nothing until scripting lands.
        ctx.out.ok();
    }
}

fn script_exists(ctx: &mut Ctx<'_>) {
    let n = ctx.argc() - 2;
    ctx.out.array(n);
    for _ in 0..n {
        ctx.out.int(0);
    }
}

fn help(ctx: &mut Ctx<'_>, container: &str, lines: &[&str]) {
    ctx.out.array(lines.len() + 3);
    ctx.out.simple(&format!(
        "{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        ctx.out.simple(l);
    }
    ctx.out.simple("HELP");
    ctx.out.simple("    Print this help.");
}

fn script_help(ctx: &mut Ctx<'_>) {
    help(
        ctx,
        "SCRIPT",
        &[
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
        ],
    );
}

fn function_flush(ctx: &mut Ctx<'_>) {
    match ctx.argc() {
        2 => ctx.out.ok(),
        3 if ctx.arg_is(2, "async") || ctx.arg_is(2, "sync") => ctx.out.ok(),
        3 => ctx
            .out
            .error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"),
        _ => ctx.out.error(errors::SYNTAX),
    }
}

fn function_list(ctx: &mut Ctx<'_>) {
    let mut i = 2;
    let mut seen_code = false;
    let mut seen_pattern = false;
    while i < ctx.argc() {
        if ctx.arg_is(i, "withcode") && !seen_code {
            seen_code = true;
            i += 1;
        } else if ctx.arg_is(i, "libraryname") && !seen_pattern {
            if i + 1 >= ctx.argc() {
                ctx.out.error("ERR library name argument was not given");
                return;
            }
            seen_pattern = true;
            i += 2;
        } else {
            let a = String::from_utf8_lossy(ctx.arg(i)).into_owned();
            ctx.out.error(&format!("ERR Unknown argument {a}"));
            return;
        }
    }
    // No libraries exist until scripting lands.
    ctx.out.array(0);
}

fn function_help(ctx: &mut Ctx<'_>) {
    help(
        ctx,
        "FUNCTION",
        &[
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
        ],
    );
}
