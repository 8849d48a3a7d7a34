//! CLIENT and its subcommands.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use viator_store::command::{CommandSpec, Ctx, acl, flags};

use crate::server::Shared;

const CLIENT_FLAGS: u64 = flags::NOSCRIPT | flags::LOADING | flags::STALE;

/// The CLIENT family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "client",
    arity: -2,
    group: "connection",
    summary: "A container for client connection commands.",
    since: "2.4.0",
    complexity: "Depends on subcommand.",
    subcommands: &[
        CommandSpec {
            name: "id",
            arity: 2,
            flags: CLIENT_FLAGS,
            acl: acl::SLOW | acl::CONNECTION,
            group: "connection",
            summary: "Returns the unique client ID of the connection.",
            since: "5.0.0",
            complexity: "O(1)",
            handler: Some(id),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "setname",
            arity: 3,
            flags: CLIENT_FLAGS,
            acl: acl::SLOW | acl::CONNECTION,
            group: "connection",
            summary: "Sets the connection name.",
            since: "2.6.9",
            complexity: "O(1)",
            args: "connection-name:string",
            tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
            handler: Some(setname),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "getname",
            arity: 2,
            flags: CLIENT_FLAGS,
            acl: acl::SLOW | acl::CONNECTION,
            group: "connection",
            summary: "Returns the name of the connection.",
            since: "2.6.9",
            complexity: "O(1)",
            handler: Some(getname),
            ..CommandSpec::DEFAULT
        },
    ],
    ..CommandSpec::DEFAULT
}];

/// Checks a client name as Redis does: no spaces, newlines or other
/// characters outside '!' to '~'.
pub fn validate_name(name: &[u8]) -> Result<(), &'static str> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err("ERR Client names cannot contain spaces, newlines or special characters.");
    }
    Ok(())
}

/// Sets the client's name (an empty name clears it) in the client and in
/// the registry.
pub fn set_name(ctx: &mut Ctx<'_>, name: Bytes) {
    let name = if name.is_empty() { None } else { Some(name) };
    let shared = Shared::from_host(ctx.host);
    if let Some(e) = shared.clients.get(ctx.client.id) {
        e.info.lock().name = name.clone();
    }
    ctx.client.name = name;
}

/// Ends a CLIENT PAUSE whose time is up.
pub fn end_pause_if_due(shared: &Shared) {
    let p = &shared.pause;
    if p.mode.load(Ordering::Relaxed) != 0 && viator_store::clock::now_ms() >= p.until_ms.load(Ordering::Relaxed) {
        p.mode.store(0, Ordering::Relaxed);
        p.resumed.notify_waiters();
    }
}

fn id(ctx: &mut Ctx<'_>) {
    ctx.out.int(ctx.client.id as i64);
}

fn setname(ctx: &mut Ctx<'_>) {
    let name = ctx.args[2].clone();
    if let Err(e) = validate_name(&name) {
        ctx.out.error(e);
        return;
    }
    set_name(ctx, name);
    ctx.out.ok();
}

fn getname(ctx: &mut Ctx<'_>) {
    match &ctx.client.name {
        Some(n) => ctx.out.bulk(n),
        None => ctx.out.null(),
    }
}
