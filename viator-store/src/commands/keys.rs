//! The generic (keyspace) commands, as Redis's `db.c`, `expire.c` and the
//! keyspace half of `object.c`: DEL, UNLINK, EXISTS, TYPE, RENAME,
//! RENAMENX, COPY, MOVE, KEYS, SCAN, RANDOMKEY, the EXPIRE and TTL
//! families, PERSIST, TOUCH and OBJECT; plus the whole-keyspace server
//! commands DBSIZE, FLUSHDB, FLUSHALL and SWAPDB.
//!
//! Every handler locks what it touches with one call (the shards of its
//! keys, or the whole database for KEYS, SCAN, RANDOMKEY, DBSIZE and
//! FLUSHDB), and the commands that reach a second database (MOVE, COPY
//! ... DB, SWAPDB, FLUSHALL) lock all their databases in the global order
//! of [`Keyspace::lock_pair`] and [`Keyspace::lock_dbs`].

use std::sync::atomic::Ordering;

use viator_protocol::ReplyBuf;
use viator_types::entry::{Entry, StrEncoding};
use viator_types::glob::{glob_match, pattern_literal};
use viator_types::number::parse_i64;

use super::rewrite;
use crate::clock;
use crate::command::{CommandSpec, Ctx, KeySpec, acl, flags};
use crate::errors;
use crate::keyspace::{Keyspace, Lookup};
use crate::store::Shard;

/// MOVE and COPY to the same key in the same database.
const SAME_OBJECT: &str = "ERR source and destination objects are the same";
/// OBJECT FREQ without an LFU policy.
const FREQ_NOT_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
/// OBJECT IDLETIME with an LFU policy.
const IDLETIME_LFU: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
/// The body of OBJECT HELP (Redis's `objectCommand` help array).
const OBJECT_HELP: &[&str] = &[
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
];
/// Freeing more keys than this after an ASYNC flush happens on a
/// background thread, as Redis's lazyfree does for large objects.
const LAZYFREE_THRESHOLD: usize = 64;

/// Key specs shared by the single-key commands.
const KS_RO: &[KeySpec] = &[KeySpec::single(1, &["RO"])];
const KS_RO_ACCESS: &[KeySpec] = &[KeySpec::single(1, &["RO", "ACCESS"])];
const KS_RW_UPDATE: &[KeySpec] = &[KeySpec::single(1, &["RW", "UPDATE"])];
const KS_OBJECT: &[KeySpec] = &[KeySpec::single(2, &["RO"])];
const KS_DELETE: &[KeySpec] = &[KeySpec::range(1, -1, 1, &["RM", "DELETE"])];
const KS_RO_MANY: &[KeySpec] = &[KeySpec::range(1, -1, 1, &["RO"])];

const EXPIRE_HISTORY: &[(&str, &str)] = &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")];
const TTL_HISTORY: &[(&str, &str)] = &[("2.8.0", "Added the -2 reply.")];
const FLUSH_HISTORY: &[(&str, &str)] = &[
    ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
    ("6.2.0", "Added the `SYNC` flushing mode modifier."),
];
const MULTI_SHARD_SUM: &[&str] = &["request_policy:multi_shard", "response_policy:agg_sum"];
const NONDETERMINISTIC: &[&str] = &["nondeterministic_output"];
const ALL_SHARDS_SUCCEEDED: &[&str] =
    &["request_policy:all_shards", "response_policy:all_succeeded"];

/// The OBJECT subcommands.
const OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "encoding",
        arity: 3,
        flags: flags::READONLY,
        acl: acl::KEYSPACE,
        keys: KS_OBJECT,
        group: "generic",
        summary: "Returns the internal encoding of a Redis object.",
        since: "2.2.3",
        complexity: "O(1)",
        args: "key:key",
        tips: NONDETERMINISTIC,
        handler: Some(object_encoding),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "freq",
        arity: 3,
        flags: flags::READONLY,
        acl: acl::KEYSPACE,
        keys: KS_OBJECT,
        group: "generic",
        summary: "Returns the logarithmic access frequency counter of a Redis object.",
        since: "4.0.0",
        complexity: "O(1)",
        args: "key:key",
        tips: NONDETERMINISTIC,
        handler: Some(object_freq),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: flags::LOADING | flags::STALE,
        acl: acl::KEYSPACE,
        group: "generic",
        summary: "Returns helpful text about the different subcommands.",
        since: "6.2.0",
        complexity: "O(1)",
        handler: Some(object_help),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "idletime",
        arity: 3,
        flags: flags::READONLY,
        acl: acl::KEYSPACE,
        keys: KS_OBJECT,
        group: "generic",
        summary: "Returns the time since the last access to a Redis object.",
        since: "2.2.3",
        complexity: "O(1)",
        args: "key:key",
        tips: NONDETERMINISTIC,
        handler: Some(object_idletime),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "refcount",
        arity: 3,
        flags: flags::READONLY,
        acl: acl::KEYSPACE,
        keys: KS_OBJECT,
        group: "generic",
        summary: "Returns the reference count of a value of a key.",
        since: "2.2.3",
        complexity: "O(1)",
        args: "key:key",
        tips: NONDETERMINISTIC,
        handler: Some(object_refcount),
        ..CommandSpec::DEFAULT
    },
];

/// The generic family's part of the command table (and DBSIZE, FLUSHDB,
/// FLUSHALL and SWAPDB of the server group), with Redis 8.4's metadata.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "copy",
        arity: -3,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::KEYSPACE,
        keys: &[
            KeySpec::single(1, &["RO", "ACCESS"]),
            KeySpec::single(2, &["OW", "UPDATE"]),
        ],
        group: "generic",
        summary: "Copies the value of a key to a new key.",
        since: "6.2.0",
        complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
        args: "source:key destination:key [DB=destination-db:integer] [REPLACE]",
        handler: Some(copy),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "del",
        arity: -2,
        flags: flags::WRITE,
        acl: acl::KEYSPACE,
        keys: KS_DELETE,
        group: "generic",
        summary: "Deletes one or more keys.",
        complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
        args: "key:key...",
        tips: MULTI_SHARD_SUM,
        handler: Some(del),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "exists",
        arity: -2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::KEYSPACE,
        keys: KS_RO_MANY,
        group: "generic",
        summary: "Determines whether one or more keys exist.",
        complexity: "O(N) where N is the number of keys to check.",
        args: "key:key...",
        tips: MULTI_SHARD_SUM,
        history: &[("3.0.3", "Accepts multiple `key` arguments.")],
        handler: Some(exists),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "expire",
        arity: -3,
        flags: flags::WRITE | flags::FAST,
        acl: acl::KEYSPACE,
        keys: KS_RW_UPDATE,
        group: "generic",
        summary: "Sets the expiration time of a key in seconds.",
        complexity: "O(1)",
        args: "key:key seconds:integer [condition:(NX|XX|GT|LT)@7.0.0]",
        history: EXPIRE_HISTORY,
        handler: Some(expire),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "expireat",
        arity: -3,
        flags: flags::WRITE | flags::FAST,
        acl: acl::KEYSPACE,
        keys: KS_RW_UPDATE,
        group: "generic",
        summary: "Sets the expiration time of a key to a Unix timestamp.",
        since: "1.2.0",
        complexity: "O(1)",
        args: "key:key unix-time-seconds:unix-time [condition:(NX|XX|GT|LT)@7.0.0]",
        history: EXPIRE_HISTORY,
        handler: Some(expireat),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "expiretime",
        arity: 2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::KEYSPACE,
        keys: KS_RO_ACCESS,
        group: "generic",
        summary: "Returns the expiration time of a key as a Unix timestamp.",
        since: "7.0.0",
        complexity: "O(1)",
        args: "key:key",
        handler: Some(expiretime),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "keys",
        arity: 2,
        flags: flags::READONLY,
        acl: acl::KEYSPACE | acl::DANGEROUS,
        group: "generic",
        summary: "Returns all key names that match a pattern.",
        complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
        args: "pattern:pattern",
        tips: &["request_policy:all_shards", "nondeterministic_output_order"],
        handler: Some(keys),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "move",
        arity: 3,
        flags: flags::WRITE | flags::FAST,
        acl: acl::KEYSPACE,
        keys: &[KeySpec::single(1, &["RW", "ACCESS", "UPDATE"])],
        group: "generic",
        summary: "Moves a key to another database.",
        complexity: "O(1)",
        args: "key:key db:integer",
        handler: Some(move_key),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "object",
        arity: -2,
        group: "generic",
        summary: "A container for object introspection commands.",
        since: "2.2.3",
        complexity: "Depends on subcommand.",
        subcommands: OBJECT_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "persist",
        arity: 2,
        flags: flags::WRITE | flags::FAST,
        acl: acl::KEYSPACE,
        keys: KS_RW_UPDATE,
        group: "generic",
        summary: "Removes the expiration time of a key.",
        since: "2.2.0",
        complexity: "O(1)",
        args: "key:key",
        handler: Some(persist),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pexpire",
        arity: -3,
        flags: flags::WRITE | flags::FAST,
        acl: acl::KEYSPACE,
        keys: KS_RW_UPDATE,
        group: "generic",
        summary: "Sets the expiration time of a key in milliseconds.",
        since: "2.6.0",
        complexity: "O(1)",
        args: "key:key milliseconds:integer [condition:(NX|XX|GT|LT)@7.0.0]",
        history: EXPIRE_HISTORY,
        handler: Some(pexpire),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pexpireat",
        arity: -3,
        flags: flags::WRITE | flags::FAST,
        acl: acl::KEYSPACE,
        keys: KS_RW_UPDATE,
        group: "generic",
        summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.",
        since: "2.6.0",
        complexity: "O(1)",
        args: "key:key unix-time-milliseconds:unix-time [condition:(NX|XX|GT|LT)@7.0.0]",
        history: EXPIRE_HISTORY,
        handler: Some(pexpireat),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pexpiretime",
        arity: 2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::KEYSPACE,
        keys: KS_RO_ACCESS,
        group: "generic",
        summary: "Returns the expiration time of a key as a Unix milliseconds timestamp.",
        since: "7.0.0",
        complexity: "O(1)",
        args: "key:key",
        handler: Some(pexpiretime),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pttl",
        arity: 2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::KEYSPACE,
        keys: KS_RO_ACCESS,
        group: "generic",
        summary: "Returns the expiration time in milliseconds of a key.",
        since: "2.6.0",
        complexity: "O(1)",
        args: "key:key",
        tips: NONDETERMINISTIC,
        history: TTL_HISTORY,
        handler: Some(pttl),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "randomkey",
        arity: 1,
        flags: flags::READONLY | flags::TOUCHES_ARBITRARY_KEYS,
        acl: acl::KEYSPACE,
        group: "generic",
        summary: "Returns a random key name from the database.",
        complexity: "O(1)",
        tips: &[
            "request_policy:all_shards",
            "response_policy:special",
            "nondeterministic_output",
        ],
        handler: Some(randomkey),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rename",
        arity: 3,
        flags: flags::WRITE,
        acl: acl::KEYSPACE,
        keys: &[
            KeySpec::single(1, &["RW", "ACCESS", "DELETE"]),
            KeySpec::single(2, &["OW", "UPDATE"]),
        ],
        group: "generic",
        summary: "Renames a key and overwrites the destination.",
        complexity: "O(1)",
        args: "key:key newkey:key",
        handler: Some(rename),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "renamenx",
        arity: 3,
        flags: flags::WRITE | flags::FAST,
        acl: acl::KEYSPACE,
        keys: &[
            KeySpec::single(1, &["RW", "ACCESS", "DELETE"]),
            KeySpec::single(2, &["OW", "INSERT"]),
        ],
        group: "generic",
        summary: "Renames a key only when the target key name doesn't exist.",
        complexity: "O(1)",
        args: "key:key newkey:key",
        history: &[(
            "3.2.0",
            "The command no longer returns an error when source and destination names are the same.",
        )],
        handler: Some(renamenx),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "scan",
        arity: -2,
        flags: flags::READONLY | flags::TOUCHES_ARBITRARY_KEYS,
        acl: acl::KEYSPACE,
        group: "generic",
        summary: "Iterates over the key names in the database.",
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        args: "cursor:integer [MATCH=pattern:pattern] [COUNT=count:integer] [TYPE=type:string@6.0.0]",
        tips: &[
            "nondeterministic_output",
            "request_policy:special",
            "response_policy:special",
        ],
        history: &[("6.0.0", "Added the `TYPE` subcommand.")],
        handler: Some(scan),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "touch",
        arity: -2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::KEYSPACE,
        keys: KS_RO_MANY,
        group: "generic",
        summary: "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
        since: "3.2.1",
        complexity: "O(N) where N is the number of keys that will be touched.",
        args: "key:key...",
        tips: MULTI_SHARD_SUM,
        handler: Some(touch),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "ttl",
        arity: 2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::KEYSPACE,
        keys: KS_RO_ACCESS,
        group: "generic",
        summary: "Returns the expiration time in seconds of a key.",
        complexity: "O(1)",
        args: "key:key",
        tips: NONDETERMINISTIC,
        history: TTL_HISTORY,
        handler: Some(ttl),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "type",
        arity: 2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::KEYSPACE,
        keys: KS_RO,
        group: "generic",
        summary: "Determines the type of value stored at a key.",
        complexity: "O(1)",
        args: "key:key",
        handler: Some(type_cmd),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "unlink",
        arity: -2,
        flags: flags::WRITE | flags::FAST,
        acl: acl::KEYSPACE,
        keys: KS_DELETE,
        group: "generic",
        summary: "Asynchronously deletes one or more keys.",
        since: "4.0.0",
        complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
        args: "key:key...",
        tips: MULTI_SHARD_SUM,
        handler: Some(del),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: flags::READONLY | flags::FAST,
        acl: acl::KEYSPACE,
        group: "server",
        summary: "Returns the number of keys in the database.",
        complexity: "O(1)",
        tips: &["request_policy:all_shards", "response_policy:agg_sum"],
        handler: Some(dbsize),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "flushall",
        arity: -1,
        flags: flags::WRITE,
        acl: acl::KEYSPACE | acl::DANGEROUS,
        group: "server",
        summary: "Removes all keys from all databases.",
        complexity: "O(N) where N is the total number of keys in all databases",
        args: "[flush-type:(ASYNC@4.0.0|SYNC@6.2.0)]",
        tips: ALL_SHARDS_SUCCEEDED,
        history: FLUSH_HISTORY,
        handler: Some(flushall),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "flushdb",
        arity: -1,
        flags: flags::WRITE,
        acl: acl::KEYSPACE | acl::DANGEROUS,
        group: "server",
        summary: "Remove all keys from the current database.",
        complexity: "O(N) where N is the number of keys in the selected database",
        args: "[flush-type:(ASYNC@4.0.0|SYNC@6.2.0)]",
        tips: ALL_SHARDS_SUCCEEDED,
        history: FLUSH_HISTORY,
        handler: Some(flushdb),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "swapdb",
        arity: 3,
        flags: flags::WRITE | flags::FAST,
        acl: acl::KEYSPACE | acl::DANGEROUS,
        group: "server",
        summary: "Swaps two Redis databases.",
        since: "4.0.0",
        complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
        args: "index1:integer index2:integer",
        handler: Some(swapdb),
        ..CommandSpec::DEFAULT
    },
];

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Lookup flags of EXISTS, TYPE, TTL and OBJECT: `LOOKUP_NOTOUCH`, with the
/// hit or miss counted.
const NO_TOUCH: Lookup = Lookup {
    no_touch: true,
    no_stats: false,
};

/// Lookup flags for bookkeeping reads that must not look like an access.
const QUIET: Lookup = Lookup {
    no_touch: true,
    no_stats: true,
};

/// Argument `i` as a C `int`, as Redis's `getIntFromObjectOrReply`: a
/// non-integer gets `msg` (or the standard integer error), an integer
/// outside the `int` range gets `msg` (or Redis's range error).
fn int32_arg(ctx: &mut Ctx<'_>, i: usize, msg: Option<&str>) -> Option<i64> {
    let Some(v) = parse_i64(ctx.arg(i)) else {
        ctx.out.error(msg.unwrap_or(errors::NOT_INTEGER));
        return None;
    };
    if v < i64::from(i32::MIN) || v > i64::from(i32::MAX) {
        match msg {
            Some(m) => ctx.out.error(m),
            None => ctx.out.error(&format!(
                "ERR value is out of range, value must between {} and {}",
                i32::MIN,
                i32::MAX
            )),
        }
        return None;
    }
    Some(v)
}

/// A database index that exists, from a parsed `int`.
fn db_index(ctx: &Ctx<'_>, id: i64) -> Option<usize> {
    usize::try_from(id)
        .ok()
        .filter(|&d| d < ctx.store.db_count())
}

/// A new entry holding a copy of `e`'s value and expire time under `key`
/// (see [`Entry::duplicate_as`]).
fn duplicate(e: &Entry, key: &[u8]) -> Entry {
    e.duplicate_as(key)
}

/// Gives the key `key` the access clock `clock`: a renamed or moved key is
/// the same object in Redis, so its LRU time or LFU counter carries over.
fn restore_clock(ks: &mut Keyspace<'_>, key: &[u8], clock: u32) {
    if let Some(mut e) = ks.lookup(key, QUIET) {
        e.set_clock(clock);
    }
}

/// Applies the client's CLIENT NO-TOUCH mode to views made with
/// [`Keyspace::lock_pair`], as [`Ctx::keys`] does for its views.
fn no_touch(ctx: &Ctx<'_>, a: &mut Keyspace<'_>, b: &mut Option<Keyspace<'_>>) {
    a.no_touch = ctx.client.no_touch;
    if let Some(b) = b {
        b.no_touch = ctx.client.no_touch;
    }
}

/// The OBJECT ENCODING name of a value.
fn encoding_name(e: &Entry) -> &'static str {
    match e.as_object() {
        Some(o) => o.encoding_name(),
        None => e.str_encoding().map_or("raw", StrEncoding::name),
    }
}

/// Frees the contents of flushed shards, never under the locks: inline for
/// SYNC and for a small ASYNC flush, on a background thread for a larger
/// ASYNC one.
fn free_shards(old: Vec<Shard>, keys: usize, asynchronous: bool) {
    if !asynchronous || keys <= LAZYFREE_THRESHOLD {
        drop(old);
        return;
    }
    // If the thread cannot start, its closure (and the shards) is dropped
    // right here, synchronously.
    let _ = std::thread::Builder::new()
        .name("viator-lazyfree".into())
        .spawn(move || drop(old));
}

/// Parses the optional ASYNC | SYNC argument of FLUSHDB and FLUSHALL
/// (Redis's `getFlushCommandFlags`). Returns whether to free
/// asynchronously, or `None` after writing the syntax error.
fn flush_mode(ctx: &mut Ctx<'_>) -> Option<bool> {
    match ctx.argc() {
        1 => Some(false),
        2 if ctx.arg_is(1, "sync") => Some(false),
        2 if ctx.arg_is(1, "async") => Some(true),
        _ => {
            ctx.out.error(errors::SYNTAX);
            None
        }
    }
}

// ---------------------------------------------------------------------------
// DEL, UNLINK, EXISTS, TYPE, TOUCH
// ---------------------------------------------------------------------------

/// DEL and UNLINK (`delGenericCommand`): deletes each key, expired ones
/// counting as absent; replies with the number deleted.
fn del(ctx: &mut Ctx<'_>) {
    let keys = &ctx.args[1..];
    let mut ks = ctx.keys(keys);
    let deleted = keys.iter().filter(|k| ks.remove(k).is_some()).count();
    drop(ks);
    ctx.store.add_dirty(deleted as u64);
    ctx.out.int(deleted as i64);
}

/// EXISTS: counts the keys that exist, each repeat counted again.
fn exists(ctx: &mut Ctx<'_>) {
    let keys = &ctx.args[1..];
    let mut ks = ctx.keys(keys);
    let n = keys
        .iter()
        .filter(|k| ks.lookup(k, NO_TOUCH).is_some())
        .count();
    drop(ks);
    ctx.out.int(n as i64);
}

/// TYPE: the value's type name as a status reply, `none` for no key.
fn type_cmd(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let name = ks
        .lookup(key, NO_TOUCH)
        .map_or("none", |e| e.value_type().name());
    drop(ks);
    ctx.out.simple(name);
}

/// TOUCH: reads each key (updating its access clock, even for a client in
/// CLIENT NO-TOUCH mode, as Redis exempts TOUCH) and counts those found.
fn touch(ctx: &mut Ctx<'_>) {
    let keys = &ctx.args[1..];
    let mut ks = ctx.keys(keys);
    ks.no_touch = false;
    let n = keys.iter().filter(|k| ks.read(k).is_some()).count();
    drop(ks);
    ctx.out.int(n as i64);
}

// ---------------------------------------------------------------------------
// RENAME, RENAMENX, COPY, MOVE
// ---------------------------------------------------------------------------

fn rename(ctx: &mut Ctx<'_>) {
    rename_generic(ctx, false);
}

fn renamenx(ctx: &mut Ctx<'_>) {
    rename_generic(ctx, true);
}

/// RENAME and RENAMENX (`renameGenericCommand`).
fn rename_generic(ctx: &mut Ctx<'_>, nx: bool) {
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    let mut ks = ctx.keys(&[src, dst]);
    let Some(clock) = ks.write(src).map(|e| e.clock()) else {
        drop(ks);
        ctx.out.error(errors::NO_SUCH_KEY);
        return;
    };
    // The same name, or RENAMENX onto an existing key: nothing to do.
    let renamed = src != dst && !(ks.write(dst).is_some() && nx);
    if renamed {
        // The entry itself moves to its new key: no copy of the value.
        if let Some(old) = ks.remove(src) {
            ks.set(old.renamed(dst), false);
            restore_clock(&mut ks, dst, clock);
        }
    }
    drop(ks);
    if renamed {
        ctx.store.add_dirty(1);
    }
    if nx {
        ctx.out.int(i64::from(renamed));
    } else {
        ctx.out.ok();
    }
}

/// COPY source destination [DB destination-db] [REPLACE] (`copyCommand`).
fn copy(ctx: &mut Ctx<'_>) {
    let (src_key, dst_key) = (ctx.arg(1), ctx.arg(2));
    let src_db = ctx.client.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut j = 3;
    while j < ctx.argc() {
        let additional = ctx.argc() - j - 1;
        if ctx.arg_is(j, "replace") {
            replace = true;
        } else if ctx.arg_is(j, "db") && additional >= 1 {
            let Some(id) = int32_arg(ctx, j + 1, None) else {
                return;
            };
            let Some(db) = db_index(ctx, id) else {
                ctx.out.error(errors::DB_INDEX_OUT_OF_RANGE);
                return;
            };
            dst_db = db;
            j += 1;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    if src_db == dst_db && src_key == dst_key {
        ctx.out.error(SAME_OBJECT);
        return;
    }
    let (mut src, mut dst) = Keyspace::lock_pair(
        ctx.store,
        src_db,
        &[src_key],
        dst_db,
        &[dst_key],
        ctx.now_ms,
    );
    no_touch(ctx, &mut src, &mut dst);
    let copied = src.read(src_key).map(|e| duplicate(&e, dst_key));
    let Some(copied) = copied else {
        drop((src, dst));
        ctx.out.int(0);
        return;
    };
    let target = match dst.as_mut() {
        Some(v) => v,
        None => &mut src,
    };
    if target.write(dst_key).is_some() && !replace {
        drop((src, dst));
        ctx.out.int(0);
        return;
    }
    target.set(copied, false);
    drop((src, dst));
    ctx.store.add_dirty(1);
    ctx.out.int(1);
}

/// MOVE key db (`moveCommand`).
fn move_key(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let src_db = ctx.client.db;
    let Some(id) = int32_arg(ctx, 2, None) else {
        return;
    };
    let Some(dst_db) = db_index(ctx, id) else {
        ctx.out.error(errors::DB_INDEX_OUT_OF_RANGE);
        return;
    };
    if dst_db == src_db {
        ctx.out.error(SAME_OBJECT);
        return;
    }
    let (mut src, mut dst) =
        Keyspace::lock_pair(ctx.store, src_db, &[key], dst_db, &[key], ctx.now_ms);
    no_touch(ctx, &mut src, &mut dst);
    let Some(mut dst) = dst else {
        // Distinct databases always give two views.
        drop(src);
        ctx.out.int(0);
        return;
    };
    let Some(clock) = src.write(key).map(|e| e.clock()) else {
        drop((src, dst));
        ctx.out.int(0);
        return;
    };
    if dst.write(key).is_some() {
        drop((src, dst));
        ctx.out.int(0);
        return;
    }
    // The entry itself moves to the other database: no copy of the value.
    if let Some(entry) = src.remove(key) {
        dst.set(entry, false);
        restore_clock(&mut dst, key, clock);
    }
    drop((src, dst));
    ctx.store.add_dirty(1);
    ctx.out.int(1);
}

// ---------------------------------------------------------------------------
// KEYS, SCAN, RANDOMKEY, DBSIZE
// ---------------------------------------------------------------------------

/// KEYS pattern: every live key matching the glob pattern. A pattern with
/// no wildcard matches one key at most, which is looked up directly.
fn keys(ctx: &mut Ctx<'_>) {
    let pattern = ctx.arg(1);
    if let Some(literal) = pattern_literal(pattern) {
        let ks = ctx.key(&literal);
        let found = ks.peek(&literal).is_some();
        drop(ks);
        if found {
            ctx.out.array(1);
            ctx.out.bulk(&literal);
        } else {
            ctx.out.array(0);
        }
        return;
    }
    let all = pattern == b"*";
    let ks = ctx.whole_db();
    let out = &mut *ctx.out;
    let at = out.deferred();
    let mut n = 0;
    ks.for_each(|e| {
        if all || glob_match(pattern, e.key(), false) {
            out.bulk(e.key());
            n += 1;
        }
    });
    drop(ks);
    out.set_deferred_array(at, n);
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
/// (`scanGenericCommand` over the keyspace).
///
/// The cursor comes from [`Keyspace::scan_step`], so a full iteration
/// returns every key present from its start to its end, whatever happens
/// between calls. COUNT bounds the work as in Redis: home slots are visited
/// until COUNT keys were seen or ten times COUNT slots were visited. A
/// MATCH pattern without wildcards can match one key only: that key is
/// looked up directly and the iteration ends at once, which returns exactly
/// what a full iteration would.
fn scan(ctx: &mut Ctx<'_>) {
    let Some(cursor) = super::scan_args::cursor_arg(ctx, 1) else {
        return;
    };
    let Some(super::scan_args::ScanArgs {
        count,
        pattern,
        type_name,
        ..
    }) = super::scan_args::parse(ctx, 2, super::scan_args::ScanOf::Keys)
    else {
        return;
    };
    // An unknown type name matches no key (Redis 8 still answers it with an
    // empty iteration rather than an error).
    let type_ok = |e: &Entry| {
        type_name.is_none_or(|t| e.value_type().name().as_bytes().eq_ignore_ascii_case(t))
    };

    let mut found = ReplyBuf::new();
    let mut n = 0usize;
    let next;
    if let Some(literal) = pattern.and_then(pattern_literal) {
        let ks = ctx.key(&literal);
        if ks.peek(&literal).is_some_and(|e| type_ok(&e)) {
            found.bulk(&literal);
            n = 1;
        }
        drop(ks);
        next = 0;
    } else {
        let mut ks = ctx.whole_db();
        let now = ks.now_ms();
        let mut sampled: i64 = 0;
        let mut cur = cursor;
        let mut max_iterations = count.saturating_mul(10);
        // Expired keys that pass the filters are not returned but deleted,
        // as Redis's scan deletes them (expireIfNeeded) on its way.
        let mut expired: Vec<Vec<u8>> = Vec::new();
        loop {
            cur = ks.scan_step_all(cur, |e| {
                sampled += 1;
                // Pattern, then type (whose lookup deletes an expired key
                // in Redis whatever its type), then expiry.
                if pattern.is_none_or(|p| glob_match(p, e.key(), false)) {
                    if e.expire_ms().is_some_and(|t| t < now) {
                        expired.push(e.key().to_vec());
                    } else if type_ok(e) {
                        found.bulk(e.key());
                        n += 1;
                    }
                }
            });
            let more = max_iterations > 0;
            max_iterations -= 1;
            if cur == 0 || !more || sampled >= count {
                break;
            }
        }
        for key in &expired {
            ks.exists(key);
        }
        drop(ks);
        next = cur;
    }
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(n);
    ctx.out.raw(found.as_bytes());
}

/// RANDOMKEY: a random live key, or a null reply for an empty database.
fn randomkey(ctx: &mut Ctx<'_>) {
    let mut ks = ctx.whole_db();
    let key = ks.random_key();
    drop(ks);
    match key {
        Some(k) => ctx.out.bulk(&k),
        None => ctx.out.null(),
    }
}

/// DBSIZE: the number of keys, counting expired keys not yet deleted.
fn dbsize(ctx: &mut Ctx<'_>) {
    let ks = ctx.whole_db();
    let n = ks.len();
    drop(ks);
    ctx.out.int(n as i64);
}

// ---------------------------------------------------------------------------
// EXPIRE family, TTL family, PERSIST
// ---------------------------------------------------------------------------

fn expire(ctx: &mut Ctx<'_>) {
    let now = ctx.now_ms;
    expire_generic(ctx, now, true);
}

fn pexpire(ctx: &mut Ctx<'_>) {
    let now = ctx.now_ms;
    expire_generic(ctx, now, false);
}

fn expireat(ctx: &mut Ctx<'_>) {
    expire_generic(ctx, 0, true);
}

fn pexpireat(ctx: &mut Ctx<'_>) {
    expire_generic(ctx, 0, false);
}

/// The EXPIRE conditions.
#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// Parses NX | XX | GT | LT as Redis's `parseExtendedExpireArgumentsOrReply`.
fn expire_flags(ctx: &mut Ctx<'_>) -> Option<ExpireFlags> {
    let mut f = ExpireFlags::default();
    for j in 3..ctx.argc() {
        if ctx.arg_is(j, "nx") {
            f.nx = true;
        } else if ctx.arg_is(j, "xx") {
            f.xx = true;
        } else if ctx.arg_is(j, "gt") {
            f.gt = true;
        } else if ctx.arg_is(j, "lt") {
            f.lt = true;
        } else {
            // `%s` in C: the option as a C string, up to a NUL byte.
            let opt = ctx.arg(j);
            let opt = opt.split(|&b| b == 0).next().unwrap_or(b"");
            let mut msg = b"ERR Unsupported option ".to_vec();
            msg.extend_from_slice(opt);
            ctx.out.error_bytes(&msg);
            return None;
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        ctx.out
            .error("ERR NX and XX, GT or LT options at the same time are not compatible");
        return None;
    }
    if f.gt && f.lt {
        ctx.out
            .error("ERR GT and LT options at the same time are not compatible");
        return None;
    }
    Some(f)
}

/// EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT (`expireGenericCommand`).
/// `basetime` is added to the argument (now for the relative forms, 0 for
/// the absolute ones); `seconds` says the argument is in seconds.
fn expire_generic(ctx: &mut Ctx<'_>, basetime: i64, seconds: bool) {
    let Some(f) = expire_flags(ctx) else {
        return;
    };
    let Some(mut when) = ctx.int_arg(2) else {
        return;
    };
    let name = match (basetime == 0, seconds) {
        (false, true) => "expire",
        (false, false) => "pexpire",
        (true, true) => "expireat",
        (true, false) => "pexpireat",
    };
    if seconds {
        let Some(ms) = when.checked_mul(1000) else {
            ctx.out.error(&errors::invalid_expire(name));
            return;
        };
        when = ms;
    }
    let Some(at) = when.checked_add(basetime) else {
        ctx.out.error(&errors::invalid_expire(name));
        return;
    };
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let Some(e) = ks.write(key) else {
        drop(ks);
        ctx.out.int(0);
        return;
    };
    let current = e.expire_ms();
    drop(e);
    let refused = (f.nx && current.is_some())
        || (f.xx && current.is_none())
        // No expire is an infinite TTL: GT never beats it...
        || (f.gt && current.is_none_or(|c| at <= c))
        // ...and LT always does.
        || (f.lt && current.is_some_and(|c| at >= c));
    if refused {
        drop(ks);
        ctx.out.int(0);
        return;
    }
    if ctx.already_expired(at) {
        ks.remove(key);
        drop(ks);
        // A time already past deletes the key: propagated as DEL (UNLINK
        // with lazyfree-lazy-expire), as Redis's expireGenericCommand.
        ctx.propagate(&[rewrite::expired_del(ctx.store), key]);
    } else {
        ks.set_expire(key, Some(at));
        drop(ks);
        // Propagated as PEXPIREAT with the absolute time, the conditions
        // kept; PEXPIREAT itself goes as called.
        if name != "pexpireat" && ctx.propagating() {
            let at = rewrite::int_text(at);
            let mut argv: Vec<&[u8]> = vec![b"PEXPIREAT", key, &at];
            argv.extend_from_slice(&ctx.args[3..]);
            ctx.propagate(&argv);
        }
    }
    ctx.store.add_dirty(1);
    ctx.out.int(1);
}

fn ttl(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, false, false);
}

fn pttl(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, true, false);
}

fn expiretime(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, false, true);
}

fn pexpiretime(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, true, true);
}

/// TTL, PTTL, EXPIRETIME and PEXPIRETIME (`ttlGenericCommand`): -2 for no
/// key, -1 for a key without expire, else the time left (or the absolute
/// expire time), in milliseconds or rounded to seconds.
fn ttl_generic(ctx: &mut Ctx<'_>, ms: bool, absolute: bool) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let found = ks.lookup(key, NO_TOUCH).map(|e| e.expire_ms());
    drop(ks);
    let Some(expire) = found else {
        ctx.out.int(-2);
        return;
    };
    let Some(at) = expire else {
        ctx.out.int(-1);
        return;
    };
    let left = (if absolute {
        at
    } else {
        at.saturating_sub(ctx.now_ms)
    })
    .max(0);
    ctx.out.int(if ms {
        left
    } else {
        left.saturating_add(500) / 1000
    });
}

/// PERSIST: removes the expire time; 1 if there was one.
fn persist(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let had = ks.write(key).is_some_and(|e| e.expire_ms().is_some());
    if had {
        ks.set_expire(key, None);
    }
    drop(ks);
    if had {
        ctx.store.add_dirty(1);
    }
    ctx.out.int(i64::from(had));
}

// ---------------------------------------------------------------------------
// OBJECT
// ---------------------------------------------------------------------------

/// Runs `f` on the key of an OBJECT subcommand (looked up without touching
/// it, hit or miss counted), or replies null if there is none.
fn with_object(ctx: &mut Ctx<'_>, f: impl FnOnce(&Entry, &mut Ctx<'_>)) {
    let key = ctx.arg(2);
    let mut ks = ctx.key(key);
    match ks.lookup(key, NO_TOUCH) {
        Some(e) => f(&e, ctx),
        None => ctx.out.null(),
    }
}

fn object_encoding(ctx: &mut Ctx<'_>) {
    with_object(ctx, |e, ctx| ctx.out.bulk(encoding_name(e).as_bytes()));
}

/// OBJECT REFCOUNT: always 1, as in Redis 8 where values stored in the
/// keyspace are never shared objects.
fn object_refcount(ctx: &mut Ctx<'_>) {
    with_object(ctx, |_, ctx| ctx.out.int(1));
}

fn object_idletime(ctx: &mut Ctx<'_>) {
    with_object(ctx, |e, ctx| {
        if ctx.store.settings.maxmemory_policy().is_lfu() {
            ctx.out.error(IDLETIME_LFU);
        } else {
            let idle = clock::lru_idle_ms(e.clock(), ctx.now_ms) / 1000;
            ctx.out.int(i64::try_from(idle).unwrap_or(i64::MAX));
        }
    });
}

fn object_freq(ctx: &mut Ctx<'_>) {
    with_object(ctx, |e, ctx| {
        let settings = &ctx.store.settings;
        if !settings.maxmemory_policy().is_lfu() {
            ctx.out.error(FREQ_NOT_LFU);
        } else {
            let decay = settings.lfu_decay_time.load(Ordering::Relaxed);
            ctx.out.int(i64::from(clock::lfu_decayed_counter(
                e.clock(),
                ctx.now_ms,
                decay,
            )));
        }
    });
}

/// OBJECT HELP, as Redis's `addReplyHelp`.
fn object_help(ctx: &mut Ctx<'_>) {
    super::introspection::reply_help(ctx.out, ctx.args[0], OBJECT_HELP);
}

// ---------------------------------------------------------------------------
// FLUSHDB, FLUSHALL, SWAPDB
// ---------------------------------------------------------------------------

/// FLUSHDB [ASYNC | SYNC]: removes every key of the selected database.
fn flushdb(ctx: &mut Ctx<'_>) {
    let Some(asynchronous) = flush_mode(ctx) else {
        return;
    };
    let mut ks = ctx.whole_db();
    let n = ks.len();
    let old = ks.take_contents();
    drop(ks);
    free_shards(old, n, asynchronous);
    ctx.store.add_dirty(n as u64);
    ctx.out.ok();
    // Propagated even when the database was empty already (Redis's
    // forceCommandPropagation in flushCommandCommon).
    ctx.propagate(ctx.args);
}

/// FLUSHALL [ASYNC | SYNC]: removes every key of every database, with all
/// databases locked at once so that no command sees a half-flushed server.
/// (Saving the empty snapshot when `save` is configured is the persistence
/// layer's part.)
fn flushall(ctx: &mut Ctx<'_>) {
    let Some(asynchronous) = flush_mode(ctx) else {
        return;
    };
    let all: Vec<usize> = (0..ctx.store.db_count()).collect();
    let mut views = Keyspace::lock_dbs(ctx.store, &all, ctx.now_ms);
    let mut n = 0;
    let mut old = Vec::new();
    for ks in &mut views {
        n += ks.len();
        old.extend(ks.take_contents());
    }
    drop(views);
    free_shards(old, n, asynchronous);
    // The keys removed, as FLUSHDB: since Redis 7.0 FLUSHALL no longer
    // adds one for itself (it forces its propagation instead), so on an
    // empty server it leaves the dirty counter alone.
    ctx.store.add_dirty(n as u64);
    ctx.out.ok();
    // Propagated even when every database was empty already, as FLUSHDB.
    ctx.propagate(ctx.args);
}

/// SWAPDB index1 index2: exchanges the contents of two databases.
fn swapdb(ctx: &mut Ctx<'_>) {
    let Some(id1) = int32_arg(ctx, 1, Some("ERR invalid first DB index")) else {
        return;
    };
    let Some(id2) = int32_arg(ctx, 2, Some("ERR invalid second DB index")) else {
        return;
    };
    let (Some(a), Some(b)) = (db_index(ctx, id1), db_index(ctx, id2)) else {
        ctx.out.error(errors::DB_INDEX_OUT_OF_RANGE);
        return;
    };
    if a != b {
        let mut views = Keyspace::lock_dbs(ctx.store, &[a, b], ctx.now_ms);
        if let [x, y] = views.as_mut_slice() {
            x.swap_contents(y);
        }
        // Every key changed what it holds: clients blocked in either
        // database may now be served (Redis's scanDatabaseForReadyKeys).
        ctx.store.blocking.signal_db(a);
        ctx.store.blocking.signal_db(b);
    }
    ctx.store.add_dirty(1);
    ctx.out.ok();
}
