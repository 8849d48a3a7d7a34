//! MULTI, EXEC, DISCARD, WATCH and UNWATCH (Redis's `multi.c`).
//!
//! Between MULTI and EXEC the commands of a client are queued, not run
//! ([`Store::queue_in_multi`]); an error while queueing (unknown command,
//! wrong arity, a command refused inside a transaction) makes EXEC refuse
//! the whole transaction. EXEC runs the queue with every shard of every
//! database locked, so no other client sees a state in between, and
//! blocking commands in it reply at once as on timeout. Clients blocked on
//! keys that the transaction fills are served after it.

use std::sync::atomic::Ordering;

use crate::Keyspace;
use crate::command::{Client, Command, CommandSpec, Ctx, KeySpec, acl, flags};
use crate::store::Store;

/// A client's queued transaction (Redis's `multiState`).
#[derive(Debug, Clone, Default)]
pub struct MultiState {
    /// The queued commands' arguments, name first.
    pub queued: Vec<Vec<Vec<u8>>>,
    /// Set by an error while queueing: EXEC will refuse (EXECABORT).
    pub aborted: bool,
    /// Number of commands queued (CLIENT LIST's `multi=`), which stays
    /// while EXEC runs them.
    pub len: usize,
    /// The command flags of everything queued, ORed: a CLIENT PAUSE of
    /// writes holds an EXEC whose transaction writes (Redis's
    /// `mstate.cmd_flags`).
    pub flags: u64,
}

/// Redis's reply to EXEC after an error while queueing.
pub const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

const TX: u64 = flags::NOSCRIPT | flags::LOADING | flags::STALE;

/// This family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "multi",
        arity: 1,
        flags: TX | flags::FAST | flags::ALLOW_BUSY,
        acl: acl::TRANSACTION,
        group: "transactions",
        summary: "Starts a transaction.",
        since: "1.2.0",
        complexity: "O(1)",
        handler: Some(multi),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "exec",
        arity: 1,
        flags: TX | flags::SKIP_SLOWLOG,
        acl: acl::TRANSACTION,
        group: "transactions",
        summary: "Executes all commands in a transaction.",
        since: "1.2.0",
        complexity: "Depends on commands in the transaction",
        handler: Some(exec),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "discard",
        arity: 1,
        flags: TX | flags::FAST | flags::ALLOW_BUSY,
        acl: acl::TRANSACTION,
        group: "transactions",
        summary: "Discards a transaction.",
        since: "2.0.0",
        complexity: "O(N), when N is the number of queued commands",
        handler: Some(discard),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "watch",
        arity: -2,
        flags: TX | flags::FAST | flags::ALLOW_BUSY,
        acl: acl::TRANSACTION,
        keys: &[KeySpec::range(1, -1, 1, &["RO"])],
        group: "transactions",
        summary: "Monitors changes to keys to determine the execution of a transaction.",
        since: "2.2.0",
        complexity: "O(1) for every key.",
        args: "key:key...",
        handler: Some(watch),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "unwatch",
        arity: 1,
        flags: TX | flags::FAST | flags::ALLOW_BUSY,
        acl: acl::TRANSACTION,
        group: "transactions",
        summary: "Forgets about watched keys of a transaction.",
        since: "2.2.0",
        complexity: "O(1)",
        handler: Some(unwatch),
        ..CommandSpec::DEFAULT
    },
];

/// Commands that run at once inside MULTI instead of being queued.
fn runs_inside_multi(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

impl Client {
    /// Marks the client's transaction as failed, if it is in one (Redis's
    /// `flagTransaction`): call it when a command is refused while queueing.
    pub fn flag_transaction(&mut self) {
        if let Some(m) = &mut self.multi {
            m.aborted = true;
        }
    }
}

impl Store {
    /// Inside MULTI, queues a resolved command instead of running it and
    /// replies `+QUEUED` (or refuses a command not allowed in a
    /// transaction, failing it). Returns whether the command was handled
    /// here; if not, the caller runs it.
    pub fn queue_in_multi(
        &self,
        cmd: &Command,
        client: &mut Client,
        args: &[&[u8]],
        out: &mut viator_protocol::ReplyBuf,
    ) -> bool {
        let Some(m) = &mut client.multi else {
            return false;
        };
        if runs_inside_multi(&cmd.full_name) {
            return false;
        }
        if cmd.spec.flags & flags::NO_MULTI != 0 {
            cmd.stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
            m.aborted = true;
            out.error("ERR Command not allowed inside a transaction");
            return true;
        }
        m.queued
            .push(args.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
        m.len = m.queued.len();
        m.flags |= cmd.spec.flags;
        out.simple("QUEUED");
        true
    }
}

fn multi(ctx: &mut Ctx<'_>) {
    if ctx.client.multi.is_some() {
        ctx.out.error("ERR MULTI calls can not be nested");
        return;
    }
    ctx.client.multi = Some(MultiState::default());
    ctx.out.ok();
}

fn discard(ctx: &mut Ctx<'_>) {
    if ctx.client.multi.take().is_none() {
        ctx.out.error("ERR DISCARD without MULTI");
        return;
    }
    ctx.store.watches.unwatch_all(ctx.client);
    ctx.out.ok();
}

fn watch(ctx: &mut Ctx<'_>) {
    if ctx.client.multi.is_some() {
        ctx.out.error("ERR WATCH inside MULTI is not allowed");
        return;
    }
    let keys = &ctx.args[1..];
    let mut ks = ctx.keys(keys);
    for key in keys {
        // Looking the key up deletes it first if its time is up, so a key
        // already stale when watched does not fail the EXEC.
        let had_ttl = ks
            .lookup(
                key,
                crate::Lookup {
                    no_touch: true,
                    no_stats: true,
                },
            )
            .is_some_and(|e| e.expire_ms().is_some());
        ctx.store
            .watches
            .watch(ctx.client, ctx.client.db, key, had_ttl);
    }
    drop(ks);
    ctx.out.ok();
}

fn unwatch(ctx: &mut Ctx<'_>) {
    ctx.store.watches.unwatch_all(ctx.client);
    ctx.out.ok();
}

/// Whether a watched key changed since WATCH: touched, or expired since.
fn watched_changed(client: &Client, views: &mut [Keyspace<'_>]) -> bool {
    if client
        .watch_dirty
        .as_ref()
        .is_some_and(|d| d.load(Ordering::Relaxed))
    {
        return true;
    }
    client.watched.iter().any(|w| {
        w.had_ttl
            && views
                .iter_mut()
                .find(|v| v.db() == w.db)
                .is_some_and(|v| !v.exists(&w.key))
    })
}

fn exec(ctx: &mut Ctx<'_>) {
    // The state stays in place while the commands run, as in Redis (CLIENT
    // INFO inside EXEC shows `flags=x`), and goes at the end.
    let Some(m) = ctx.client.multi.as_mut().map(|m| MultiState {
        queued: std::mem::take(&mut m.queued),
        aborted: m.aborted,
        len: m.len,
        flags: m.flags,
    }) else {
        ctx.out.error("ERR EXEC without MULTI");
        return;
    };
    run_transaction(ctx, &m);
    ctx.client.multi = None;
}

fn run_transaction(ctx: &mut Ctx<'_>, m: &MultiState) {
    if m.aborted {
        ctx.store.watches.unwatch_all(ctx.client);
        ctx.out.error(EXECABORT);
        return;
    }
    // Every shard of every database, in the global lock order: the
    // commands run as one step for everybody else.
    let dbs: Vec<usize> = (0..ctx.store.db_count()).collect();
    let mut views = Keyspace::lock_dbs(ctx.store, &dbs, ctx.now_ms);
    let changed = watched_changed(ctx.client, &mut views);
    ctx.store.watches.unwatch_all(ctx.client);
    if changed {
        ctx.out.null_array();
        return;
    }
    ctx.out.array(m.queued.len());
    let was = ctx.client.no_block;
    ctx.client.no_block = true;
    for args in &m.queued {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        match ctx.store.commands().resolve(&argv) {
            Ok(cmd) => {
                ctx.store.call(cmd, ctx.host, ctx.client, &argv, ctx.out);
            }
            Err((err, cmd)) => crate::commands::reply_lookup_error(&err, cmd, &argv, ctx.out),
        }
    }
    ctx.client.no_block = was;
    drop(views);
}
