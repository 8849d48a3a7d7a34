//! String commands (Redis's `t_string.c`).

use viator_types::entry::{Entry, StrRef};

use crate::command::{CommandSpec, Ctx, KeySpec, acl, flags};
use crate::errors;

/// The string family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "get",
        arity: 2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::STRING,
        keys: &[KeySpec::single(1, &["RO", "ACCESS"])],
        group: "string",
        summary: "Returns the string value of a key.",
        complexity: "O(1)",
        args: "key:key",
        handler: Some(get),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::STRING,
        keys: &[KeySpec::single(1, &["RW", "ACCESS", "UPDATE", "VARIABLE_FLAGS"])],
        group: "string",
        summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        complexity: "O(1)",
        args: "key:key value:string",
        handler: Some(set),
        ..CommandSpec::DEFAULT
    },
];

/// Writes a string value as a bulk reply.
pub fn reply_str(ctx: &mut Ctx<'_>, s: StrRef<'_>) {
    match s {
        StrRef::Bytes(b) => ctx.out.bulk(b),
        StrRef::Int(n) => ctx.out.bulk_int(n),
    }
}

fn get(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    match ks.read(key) {
        None => ctx.out.null(),
        Some(e) => match e.as_str() {
            Some(StrRef::Bytes(b)) => ctx.out.bulk(b),
            Some(StrRef::Int(n)) => ctx.out.bulk_int(n),
            None => ctx.out.error(errors::WRONGTYPE),
        },
    }
}

fn set(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    ks.set(Entry::new_string(key, ctx.arg(2)), false);
    drop(ks);
    ctx.store.add_dirty(1);
    ctx.out.ok();
}
