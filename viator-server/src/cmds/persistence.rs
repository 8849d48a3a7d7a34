//! SAVE, BGSAVE and LASTSAVE (Redis's `rdb.c` commands) and BGREWRITEAOF;
//! the work is in `crate::persistence` and `crate::aof`.

use std::sync::atomic::Ordering;

use viator_store::command::{CommandSpec, Ctx, acl, flags};
use viator_store::errors;

use crate::persistence;
use crate::server::Shared;

/// The snapshot commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "save",
        arity: 1,
        flags: flags::NO_ASYNC_LOADING | flags::ADMIN | flags::NOSCRIPT | flags::NO_MULTI,
        group: "server",
        summary: "Synchronously saves the database(s) to disk.",
        since: "1.0.0",
        complexity: "O(N) where N is the total number of keys in all databases",
        handler: Some(save),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bgsave",
        arity: -1,
        flags: flags::NO_ASYNC_LOADING | flags::ADMIN | flags::NOSCRIPT,
        group: "server",
        summary: "Asynchronously saves the database(s) to disk.",
        since: "1.0.0",
        complexity: "O(1)",
        args: "[SCHEDULE@3.2.2]",
        history: &[("3.2.2", "Added the `SCHEDULE` option.")],
        handler: Some(bgsave),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bgrewriteaof",
        arity: 1,
        flags: flags::NO_ASYNC_LOADING | flags::ADMIN | flags::NOSCRIPT,
        group: "server",
        summary: "Asynchronously rewrites the append-only file to disk.",
        since: "1.0.0",
        complexity: "O(1)",
        handler: Some(bgrewriteaof),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lastsave",
        arity: 1,
        flags: flags::LOADING | flags::STALE | flags::FAST,
        acl: acl::ADMIN | acl::DANGEROUS,
        group: "server",
        summary: "Returns the Unix timestamp of the last successful save to disk.",
        since: "1.0.0",
        complexity: "O(1)",
        tips: &["nondeterministic_output"],
        handler: Some(lastsave),
        ..CommandSpec::DEFAULT
    },
];

const IN_PROGRESS: &str = "ERR Background save already in progress";

fn save(ctx: &mut Ctx<'_>) {
    let shared = Shared::from_host(ctx.host);
    if persistence::bgsave_in_progress(shared) {
        ctx.out.error(IN_PROGRESS);
        return;
    }
    shared.rdb.saves.fetch_add(1, Ordering::Relaxed);
    match persistence::save_now(shared) {
        Ok(_) => ctx.out.ok(),
        Err(_) => ctx.out.error("ERR"),
    }
}

fn bgsave(ctx: &mut Ctx<'_>) {
    let schedule = match ctx.argc() {
        1 => false,
        2 if ctx.arg_is(1, "schedule") => true,
        _ => {
            ctx.out.error(errors::SYNTAX);
            return;
        }
    };
    let shared = Shared::from_host(ctx.host);
    if persistence::bgsave_in_progress(shared) {
        ctx.out.error(IN_PROGRESS);
        return;
    }
    if shared.aof.rewriting() {
        if schedule {
            shared.rdb.bgsave_scheduled.store(true, Ordering::Relaxed);
            ctx.out.simple("Background saving scheduled");
        } else {
            ctx.out.error("ERR An AOF log rewriting in progress: can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
        }
        return;
    }
    // Inside MULTI the dataset is locked by the transaction: the save waits
    // for the cron, as Redis's `server.in_exec` case.
    if ctx.client.no_block {
        let _ = schedule;
        shared.rdb.bgsave_scheduled.store(true, Ordering::Relaxed);
        ctx.out.simple("Background saving scheduled");
        return;
    }
    match persistence::bgsave(shared) {
        Ok(()) => ctx.out.simple("Background saving started"),
        Err(_) => ctx.out.error(IN_PROGRESS),
    }
}

fn lastsave(ctx: &mut Ctx<'_>) {
    let ms = ctx.store.lastsave_ms.load(Ordering::Relaxed);
    ctx.out.int(ms / 1000);
}

fn bgrewriteaof(ctx: &mut Ctx<'_>) {
    let shared = Shared::from_host(ctx.host);
    if shared.aof.rewriting() {
        ctx.out
            .error("ERR Background append only file rewriting already in progress");
        return;
    }
    // A background save running, or a transaction holding the dataset:
    // the cron starts it later, as Redis's `aof_rewrite_scheduled`.
    let scheduled = || {
        shared.aof.rewrite_scheduled.store(true, Ordering::Relaxed);
        shared.aof.consecutive_failures.store(0, Ordering::Relaxed);
    };
    if ctx.client.no_block || persistence::bgsave_in_progress(shared) {
        scheduled();
        ctx.out
            .simple("Background append only file rewriting scheduled");
        return;
    }
    match crate::aof::rewrite_background(shared, false) {
        Ok(()) => ctx
            .out
            .simple("Background append only file rewriting started"),
        Err(crate::aof::RewriteError::InProgress) => ctx
            .out
            .error("ERR Background append only file rewriting already in progress"),
        Err(crate::aof::RewriteError::Busy) => {
            scheduled();
            ctx.out
                .simple("Background append only file rewriting scheduled");
        }
        Err(crate::aof::RewriteError::Failed) => ctx.out.error(
            "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
        ),
    }
}
