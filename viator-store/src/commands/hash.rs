//! The commands of hashes, with field expiry (Redis's `t_hash.c`).
//!
//! Every handler checks its arguments in the order of its Redis 8.4
//! counterpart, so that a request with several faults gets the same error
//! (HEXPIRE looks at the key's type before its arguments, HSETEX at its
//! arguments before the key).
//!
//! Expired fields: a command first deletes the expired fields of the hash it
//! opens (`open`), and the key itself if no field is left, so nothing
//! after that sees them. The active expiry cycle deletes the others through
//! the shard's field-expiry index, which every command that may change a
//! hash's earliest field expire time updates (`with_hash`). (See
//! [`viator_types::hash::FieldExpireIndex`].)
//!
//! Encodings are Redis's (see [`viator_types::hash`]): `listpack` until a
//! field expiry command touches the hash (`listpackex`), `hashtable` past
//! `hash-max-listpack-entries` / `hash-max-listpack-value`.

use std::sync::atomic::Ordering;

use viator_types::entry::{Entry, NewValue, Object, ValueType};
use viator_types::glob::glob_match;
use viator_types::hash::{ExpireCond, Hash, Limits, code};
use viator_types::number::{LongDouble, parse_i64};

use crate::Keyspace;
use crate::command::{CommandSpec, Ctx, KeySpec, acl, flags};
use crate::errors;

use super::rewrite;

/// The largest field expire time Redis accepts (`HFE_MAX_ABS_TIME_MSEC`,
/// 2^46 - 1 ms).
const MAX_EXPIRE_MS: i64 = ((1i64 << 48) - 1) >> 2;
const NO_FIELDS: &str = "ERR Mandatory argument FIELDS is missing or not at the right position";
const NUMFIELDS_POSITIVE: &str = "ERR Number of fields must be a positive integer";
const NUMFIELDS_GT0: &str = "ERR Parameter `numFields` should be greater than 0";
const NUMFIELDS_MISMATCH: &str = "ERR The `numfields` parameter must match the number of arguments";
const NEGATIVE_EXPIRE: &str = "ERR invalid expire time, must be >= 0";
const NOT_INT_VALUE: &str = "ERR hash value is not an integer";
const NOT_FLOAT_VALUE: &str = "ERR hash value is not a float";
/// HRANDFIELD replies are built in memory: counts past this are refused
/// rather than filling memory (Redis streams them until the client's
/// output buffer limit closes the connection).
const HRANDFIELD_MAX: u64 = 1 << 26;

const RO: &[KeySpec] = &[KeySpec::single(1, &["RO"])];
const RO_ACCESS: &[KeySpec] = &[KeySpec::single(1, &["RO", "ACCESS"])];
const RW_UPDATE: &[KeySpec] = &[KeySpec::single(1, &["RW", "UPDATE"])];
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::single(1, &["RW", "ACCESS", "UPDATE"])];
const WRITE_FAST: u64 = flags::WRITE | flags::DENYOOM | flags::FAST;
const READ_FAST: u64 = flags::READONLY | flags::FAST;
const FIELD_ARGS: &str = "key:key field:string";
const FIELDS_BLOCK: &str = "key:key FIELDS=fields:{numfields:integer field:string...}";
const HFE_COMPLEXITY: &str = "O(N) where N is the number of specified fields";

macro_rules! hash_cmd {
    ($name:literal, $arity:expr, $flags:expr, $keys:expr, $since:literal, $summary:literal, $complexity:expr, $args:expr, $handler:ident) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            acl: acl::HASH,
            keys: $keys,
            group: "hash",
            summary: $summary,
            since: $since,
            complexity: $complexity,
            args: $args,
            handler: Some($handler),
            ..CommandSpec::DEFAULT
        }
    };
}

/// This family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        history: &[("2.4.0", "Accepts multiple `field` arguments.")],
        ..hash_cmd!(
            "hdel",
            -3,
            flags::WRITE | flags::FAST,
            &[KeySpec::single(1, &["RW", "DELETE"])],
            "2.0.0",
            "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.",
            "O(N) where N is the number of fields to be removed.",
            "key:key field:string...",
            hdel
        )
    },
    hash_cmd!(
        "hexists",
        3,
        READ_FAST,
        RO,
        "2.0.0",
        "Determines whether a field exists in a hash.",
        "O(1)",
        FIELD_ARGS,
        hexists
    ),
    hash_cmd!(
        "hexpire",
        -6,
        WRITE_FAST,
        RW_UPDATE,
        "7.4.0",
        "Set expiry for hash field using relative time to expire (seconds)",
        HFE_COMPLEXITY,
        "key:key seconds:integer [condition:(NX | XX | GT | LT)] FIELDS=fields:{numfields:integer field:string...}",
        hexpire
    ),
    hash_cmd!(
        "hexpireat",
        -6,
        WRITE_FAST,
        RW_UPDATE,
        "7.4.0",
        "Set expiry for hash field using an absolute Unix timestamp (seconds)",
        HFE_COMPLEXITY,
        "key:key unix-time-seconds:unix-time [condition:(NX | XX | GT | LT)] FIELDS=fields:{numfields:integer field:string...}",
        hexpireat
    ),
    hash_cmd!(
        "hexpiretime",
        -5,
        READ_FAST,
        RO,
        "7.4.0",
        "Returns the expiration time of a hash field as a Unix timestamp, in seconds.",
        HFE_COMPLEXITY,
        FIELDS_BLOCK,
        hexpiretime
    ),
    hash_cmd!(
        "hget",
        3,
        READ_FAST,
        RO_ACCESS,
        "2.0.0",
        "Returns the value of a field in a hash.",
        "O(1)",
        FIELD_ARGS,
        hget
    ),
    CommandSpec {
        tips: &["nondeterministic_output_order"],
        ..hash_cmd!(
            "hgetall",
            2,
            flags::READONLY,
            RO_ACCESS,
            "2.0.0",
            "Returns all fields and values in a hash.",
            "O(N) where N is the size of the hash.",
            "key:key",
            hgetall
        )
    },
    hash_cmd!(
        "hgetdel",
        -5,
        flags::WRITE | flags::FAST,
        &[KeySpec::single(1, &["RW", "ACCESS", "DELETE"])],
        "8.0.0",
        "Returns the value of a field and deletes it from the hash.",
        HFE_COMPLEXITY,
        FIELDS_BLOCK,
        hgetdel
    ),
    hash_cmd!(
        "hgetex",
        -5,
        flags::WRITE | flags::FAST,
        &[KeySpec {
            notes: "RW and UPDATE because it changes the TTL",
            ..KeySpec::single(1, &["RW", "ACCESS", "UPDATE"])
        }],
        "8.0.0",
        "Get the value of one or more fields of a given hash key, and optionally set their expiration.",
        HFE_COMPLEXITY,
        "key:key [expiration:(EX=seconds:integer | PX=milliseconds:integer | EXAT=unix-time-seconds:unix-time | PXAT=unix-time-milliseconds:unix-time | PERSIST)] FIELDS=fields:{numfields:integer field:string...}",
        hgetex
    ),
    hash_cmd!(
        "hincrby",
        4,
        WRITE_FAST,
        RW_ACCESS_UPDATE,
        "2.0.0",
        "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
        "O(1)",
        "key:key field:string increment:integer",
        hincrby
    ),
    hash_cmd!(
        "hincrbyfloat",
        4,
        WRITE_FAST,
        RW_ACCESS_UPDATE,
        "2.6.0",
        "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
        "O(1)",
        "key:key field:string increment:double",
        hincrbyfloat
    ),
    CommandSpec {
        tips: &["nondeterministic_output_order"],
        ..hash_cmd!(
            "hkeys",
            2,
            flags::READONLY,
            RO,
            "2.0.0",
            "Returns all fields in a hash.",
            "O(N) where N is the size of the hash.",
            "key:key",
            hkeys
        )
    },
    hash_cmd!(
        "hlen",
        2,
        READ_FAST,
        RO,
        "2.0.0",
        "Returns the number of fields in a hash.",
        "O(1)",
        "key:key",
        hlen
    ),
    hash_cmd!(
        "hmget",
        -3,
        READ_FAST,
        RO_ACCESS,
        "2.0.0",
        "Returns the values of all fields in a hash.",
        "O(N) where N is the number of fields being requested.",
        "key:key field:string...",
        hmget
    ),
    CommandSpec {
        doc_flags: &["deprecated"],
        deprecated_since: "4.0.0",
        replaced_by: "`HSET` with multiple field-value pairs",
        ..hash_cmd!(
            "hmset",
            -4,
            WRITE_FAST,
            RW_UPDATE,
            "2.0.0",
            "Sets the values of multiple fields.",
            "O(N) where N is the number of fields being set.",
            "key:key data:{field:string value:string}...",
            hset
        )
    },
    hash_cmd!(
        "hpersist",
        -5,
        flags::WRITE | flags::FAST,
        RW_UPDATE,
        "7.4.0",
        "Removes the expiration time for each specified field",
        HFE_COMPLEXITY,
        FIELDS_BLOCK,
        hpersist
    ),
    hash_cmd!(
        "hpexpire",
        -6,
        WRITE_FAST,
        RW_UPDATE,
        "7.4.0",
        "Set expiry for hash field using relative time to expire (milliseconds)",
        HFE_COMPLEXITY,
        "key:key milliseconds:integer [condition:(NX | XX | GT | LT)] FIELDS=fields:{numfields:integer field:string...}",
        hpexpire
    ),
    hash_cmd!(
        "hpexpireat",
        -6,
        WRITE_FAST,
        RW_UPDATE,
        "7.4.0",
        "Set expiry for hash field using an absolute Unix timestamp (milliseconds)",
        HFE_COMPLEXITY,
        "key:key unix-time-milliseconds:unix-time [condition:(NX | XX | GT | LT)] FIELDS=fields:{numfields:integer field:string...}",
        hpexpireat
    ),
    hash_cmd!(
        "hpexpiretime",
        -5,
        READ_FAST,
        RO,
        "7.4.0",
        "Returns the expiration time of a hash field as a Unix timestamp, in msec.",
        HFE_COMPLEXITY,
        FIELDS_BLOCK,
        hpexpiretime
    ),
    hash_cmd!(
        "hpttl",
        -5,
        READ_FAST,
        RO,
        "7.4.0",
        "Returns the TTL in milliseconds of a hash field.",
        HFE_COMPLEXITY,
        FIELDS_BLOCK,
        hpttl
    ),
    CommandSpec {
        tips: &["nondeterministic_output"],
        ..hash_cmd!(
            "hrandfield",
            -2,
            flags::READONLY,
            RO_ACCESS,
            "6.2.0",
            "Returns one or more random fields from a hash.",
            "O(N) where N is the number of fields returned",
            "key:key [options:{count:integer [WITHVALUES]}]",
            hrandfield
        )
    },
    CommandSpec {
        tips: &["nondeterministic_output"],
        ..hash_cmd!(
            "hscan",
            -3,
            flags::READONLY,
            RO_ACCESS,
            "2.8.0",
            "Iterates over fields and values of a hash.",
            "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
            "key:key cursor:integer [MATCH=pattern:pattern] [COUNT=count:integer] [NOVALUES]",
            hscan
        )
    },
    CommandSpec {
        history: &[("4.0.0", "Accepts multiple `field` and `value` arguments.")],
        ..hash_cmd!(
            "hset",
            -4,
            WRITE_FAST,
            RW_UPDATE,
            "2.0.0",
            "Creates or modifies the value of a field in a hash.",
            "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
            "key:key data:{field:string value:string}...",
            hset
        )
    },
    hash_cmd!(
        "hsetex",
        -6,
        WRITE_FAST,
        RW_UPDATE,
        "8.0.0",
        "Set the value of one or more fields of a given hash key, and optionally set their expiration.",
        "O(N) where N is the number of fields being set.",
        "key:key [condition:(FNX | FXX)] [expiration:(EX=seconds:integer | PX=milliseconds:integer | EXAT=unix-time-seconds:unix-time | PXAT=unix-time-milliseconds:unix-time | KEEPTTL)] FIELDS=fields:{numfields:integer data:{field:string value:string}...}",
        hsetex
    ),
    hash_cmd!(
        "hsetnx",
        4,
        WRITE_FAST,
        &[KeySpec::single(1, &["RW", "INSERT"])],
        "2.0.0",
        "Sets the value of a field in a hash only when the field doesn't exist.",
        "O(1)",
        "key:key field:string value:string",
        hsetnx
    ),
    hash_cmd!(
        "hstrlen",
        3,
        READ_FAST,
        RO,
        "3.2.0",
        "Returns the length of the value of a field.",
        "O(1)",
        FIELD_ARGS,
        hstrlen
    ),
    hash_cmd!(
        "httl",
        -5,
        READ_FAST,
        RO,
        "7.4.0",
        "Returns the TTL in seconds of a hash field.",
        HFE_COMPLEXITY,
        FIELDS_BLOCK,
        httl
    ),
    CommandSpec {
        tips: &["nondeterministic_output_order"],
        ..hash_cmd!(
            "hvals",
            2,
            flags::READONLY,
            RO_ACCESS,
            "2.0.0",
            "Returns all values in a hash.",
            "O(N) where N is the size of the hash.",
            "key:key",
            hvals
        )
    },
];

// ---------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------

fn limits(ctx: &Ctx<'_>) -> Limits {
    let s = &ctx.store.settings;
    let clamp = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    Limits {
        max_entries: clamp(s.hash_max_listpack_entries.load(Ordering::Relaxed)),
        max_value: clamp(s.hash_max_listpack_value.load(Ordering::Relaxed)),
    }
}

fn as_hash(e: &Entry) -> Option<&Hash> {
    match e.as_object() {
        Some(Object::Hash(h)) => Some(h),
        _ => None,
    }
}

fn as_hash_mut(e: &mut Entry) -> Option<&mut Hash> {
    match e.as_object_mut() {
        Some(Object::Hash(h)) => Some(h),
        _ => None,
    }
}

/// Which fields whose time is up a command reclaims when it opens a hash.
/// Redis 8 reclaims them lazily, only when a command names them (HGET,
/// HEXISTS, HINCRBY...); HLEN still counts the others, HGETALL and HSCAN
/// skip them, HDEL deletes them like any field, and HRANDFIELD reclaims
/// them all.
enum Reclaim<'a> {
    /// None (HLEN, HDEL, HSET, HGETALL, HSCAN...).
    Nothing,
    /// These fields, if their time is up.
    Fields(&'a [&'a [u8]]),
    /// Every field whose time is up.
    All,
}

/// [`open_with`] reclaiming every expired field (HRANDFIELD).
fn open(ctx: &mut Ctx<'_>, ks: &mut Keyspace<'_>, key: &[u8], read: bool) -> Option<bool> {
    open_with(ctx, ks, key, read, Reclaim::All)
}

/// Deletes those of `fields` whose time is up from the hash at `key` (which
/// the caller opened), and the key if no field is left; counts them in
/// `expired_subkeys`. Returns whether the hash is still there.
fn reclaim_named(ctx: &Ctx<'_>, ks: &mut Keyspace<'_>, key: &[u8], fields: &[&[u8]]) -> bool {
    let now = field_clock(ctx);
    let stale = read_hash(ks, key, |h| fields.iter().any(|f| h.is_expired(f, now)));
    match stale {
        None => return false,
        Some(false) => return true,
        Some(true) => {}
    }
    let (store, db) = (ctx.store, ctx.client.db);
    let (gone, empty) = with_hash(ks, key, |h| {
        let mut gone = 0;
        for f in fields {
            if h.is_expired(f, now) && h.remove(f) {
                gone += 1;
                store.propagate_field_expired(db, key, f);
            }
        }
        (gone, h.is_empty())
    })
    .unwrap_or((0, true));
    ctx.store
        .stats
        .expired_subkeys
        .fetch_add(gone, Ordering::Relaxed);
    if empty {
        ks.remove(key);
    }
    !empty
}

/// Looks the key up (a read lookup counts a hit or a miss) and checks its
/// type; then deletes the expired fields `reclaim` says, and the key if
/// none is left (each field counted in `expired_subkeys`). Returns whether
/// a hash is there, or `None` after a WRONGTYPE reply.
fn open_with(
    ctx: &mut Ctx<'_>,
    ks: &mut Keyspace<'_>,
    key: &[u8],
    read: bool,
    reclaim: Reclaim<'_>,
) -> Option<bool> {
    let now = field_clock(ctx);
    if let Reclaim::Fields(fields) = reclaim {
        let exists = open_with(ctx, ks, key, read, Reclaim::Nothing)?;
        return Some(exists && reclaim_named(ctx, ks, key, fields));
    }
    if let Reclaim::Nothing = reclaim {
        let found = if read {
            ks.read_typed(key, ValueType::Hash)
        } else {
            // WATCH sees the hash changed only when `with_hash` changes
            // it (or the key comes or goes), as Redis signals a modified
            // key only when a command changed it.
            ks.write_typed_quiet(key, ValueType::Hash)
        };
        return match found {
            Err(msg) => {
                ctx.out.error(msg);
                None
            }
            Ok(found) => Some(found.is_some()),
        };
    }
    let stale = {
        let found = if read {
            ks.read_typed(key, ValueType::Hash)
        } else {
            // WATCH sees the hash changed only when `with_hash` changes
            // it (or the key comes or goes), as Redis signals a modified
            // key only when a command changed it.
            ks.write_typed_quiet(key, ValueType::Hash)
        };
        match found {
            Err(msg) => {
                ctx.out.error(msg);
                return None;
            }
            Ok(None) => return Some(false),
            Ok(Some(e)) => as_hash(&e)
                .and_then(Hash::min_expire)
                .is_some_and(|t| t < now),
        }
    };
    if stale {
        let (store, db) = (ctx.store, ctx.client.db);
        let (gone, empty) = with_hash(ks, key, |h| {
            if store.propagation.is_active() {
                // Each field reclaimed is propagated as an HDEL, at once,
                // under the shard's lock (Redis's propagateHashFieldDeletion).
                let due: Vec<Vec<u8>> = h
                    .iter()
                    .filter(|f| f.2.is_some_and(|t| t < now))
                    .map(|f| f.0.to_vec())
                    .collect();
                for f in &due {
                    h.remove(f);
                    store.propagate_field_expired(db, key, f);
                }
                return (due.len(), h.is_empty());
            }
            let gone = h.remove_expired(now, usize::MAX);
            (gone, h.is_empty())
        })
        .unwrap_or((0, true));
        ctx.store
            .stats
            .expired_subkeys
            .fetch_add(gone as u64, Ordering::Relaxed);
        if empty {
            ks.remove(key);
            return Some(false);
        }
    }
    Some(true)
}

/// Runs `f` on the hash at `key` (which [`open`] found), then refiles it in
/// the shard's field-expiry index. Clients watching the key see it changed.
fn with_hash<R>(ks: &mut Keyspace<'_>, key: &[u8], f: impl FnOnce(&mut Hash) -> R) -> Option<R> {
    ks.touch_watched(key);
    ks.with_field_index(key, |e, index, key_hash| {
        let h = as_hash_mut(e)?;
        let r = f(h);
        index.sync(key_hash, h);
        Some(r)
    })
    .flatten()
}

/// Runs `f` on the hash at `key` without changing it.
fn read_hash<R>(ks: &Keyspace<'_>, key: &[u8], f: impl FnOnce(&Hash) -> R) -> Option<R> {
    let e = ks.peek(key)?;
    as_hash(&e).map(f)
}

/// Creates an empty hash at `key` (the caller fills it at once).
fn create(ks: &mut Keyspace<'_>, key: &[u8]) {
    let obj = Box::new(Object::Hash(Hash::new()));
    ks.add(Entry::new(key, NewValue::Object(obj), None));
}

/// Deletes the key if its hash was left empty.
fn drop_if_empty(ks: &mut Keyspace<'_>, key: &[u8]) {
    if read_hash(ks, key, Hash::is_empty).unwrap_or(false) {
        let old = ks.remove(key);
        drop(old);
    }
}

/// Whether an argument is `word`, ignoring ASCII case (Redis's
/// `strcasecmp`, which stops at a NUL byte).
fn is_token(arg: &[u8], word: &str) -> bool {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    arg[..end].eq_ignore_ascii_case(word.as_bytes())
}

/// Redis's `getRangeLongFromObjectOrReply(.., 1, max, msg)` for a field
/// count: any failure replies `msg`.
fn count_arg(ctx: &mut Ctx<'_>, i: usize, max: i64, msg: &str) -> Option<usize> {
    match parse_i64(ctx.arg(i)) {
        Some(n) if (1..=max).contains(&n) => usize::try_from(n).ok().or_else(|| {
            ctx.out.error(msg);
            None
        }),
        _ => {
            ctx.out.error(msg);
            None
        }
    }
}

/// Parses `FIELDS numfields field...` with FIELDS at argument `at`: the
/// index of the first field, or `None` after the error.
fn fields_block(ctx: &mut Ctx<'_>, at: usize, numfields_msg: &str) -> Option<usize> {
    if !is_token(ctx.arg(at), "FIELDS") {
        ctx.out.error(NO_FIELDS);
        return None;
    }
    let n = count_arg(ctx, at + 1, i64::MAX, numfields_msg)?;
    let first = at + 2;
    if ctx.argc().checked_sub(first) != Some(n) {
        ctx.out.error(NUMFIELDS_MISMATCH);
        return None;
    }
    Some(first)
}

/// Redis's `parseExpireTime`: a non-negative integer, in seconds or
/// milliseconds, plus `base`; the result must not pass
/// [`MAX_EXPIRE_MS`].
fn expire_time(ctx: &mut Ctx<'_>, raw: &[u8], seconds: bool, base: i64) -> Option<i64> {
    let Some(mut v) = parse_i64(raw) else {
        ctx.out.error(errors::NOT_INTEGER);
        return None;
    };
    if v < 0 {
        ctx.out.error(NEGATIVE_EXPIRE);
        return None;
    }
    let name = String::from_utf8_lossy(ctx.arg(0)).to_ascii_lowercase();
    if seconds {
        if v > MAX_EXPIRE_MS / 1000 {
            ctx.out.error(&errors::invalid_expire(&name));
            return None;
        }
        v *= 1000;
    }
    if v > MAX_EXPIRE_MS - base {
        ctx.out.error(&errors::invalid_expire(&name));
        return None;
    }
    Some(v + base)
}

fn reply_value(ctx: &mut Ctx<'_>, v: Option<&[u8]>) {
    match v {
        Some(v) => ctx.out.bulk(v),
        None => ctx.out.null(),
    }
}

// ---------------------------------------------------------------------------
// Setting and reading fields
// ---------------------------------------------------------------------------

/// HSET and HMSET (Redis's `hsetCommand`, which tells them apart by name).
fn hset(ctx: &mut Ctx<'_>) {
    if ctx.argc() % 2 == 1 {
        let name = String::from_utf8_lossy(ctx.arg(0)).to_ascii_lowercase();
        ctx.out.error(&errors::wrong_arity(&name));
        return;
    }
    let args = ctx.args;
    let key = args[1];
    let pairs = &args[2..];
    let lim = limits(ctx);
    let mut ks = ctx.key(key);
    let Some(exists) = open_with(ctx, &mut ks, key, false, Reclaim::Nothing) else {
        return;
    };
    if !exists {
        create(&mut ks, key);
    }
    let created = with_hash(&mut ks, key, |h| {
        h.prepare_write(pairs.iter().map(|a| a.len()), pairs.len() / 2, lim);
        pairs
            .chunks_exact(2)
            .filter(|p| h.set(p[0], p[1], false, lim))
            .count()
    })
    .unwrap_or(0);
    drop(ks);
    ctx.store.add_dirty((pairs.len() / 2) as u64);
    if matches!(ctx.arg(0).get(1), Some(b's' | b'S')) {
        ctx.out.int(created as i64);
    } else {
        ctx.out.ok();
    }
}

fn hsetnx(ctx: &mut Ctx<'_>) {
    let (key, field, value) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let lim = limits(ctx);
    let mut ks = ctx.key(key);
    let Some(exists) = open_with(ctx, &mut ks, key, false, Reclaim::Fields(&[field])) else {
        return;
    };
    if exists && read_hash(&ks, key, |h| h.get(field).is_some()).unwrap_or(false) {
        drop(ks);
        ctx.out.int(0);
        return;
    }
    if !exists {
        create(&mut ks, key);
    }
    with_hash(&mut ks, key, |h| {
        h.prepare_write([field.len(), value.len()], 1, lim);
        h.set(field, value, false, lim);
    });
    drop(ks);
    ctx.store.add_dirty(1);
    ctx.out.int(1);
}

fn hget(ctx: &mut Ctx<'_>) {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let mut ks = ctx.key(key);
    match open_with(ctx, &mut ks, key, true, Reclaim::Fields(&[field])) {
        None => {}
        Some(false) => ctx.out.null(),
        Some(true) => {
            let e = ks.peek(key);
            let v = e.as_deref().and_then(as_hash).and_then(|h| h.get(field));
            reply_value(ctx, v);
        }
    }
}

fn hmget(ctx: &mut Ctx<'_>) {
    let args = ctx.args;
    let key = args[1];
    let mut ks = ctx.key(key);
    let Some(_) = open_with(ctx, &mut ks, key, true, Reclaim::Fields(&args[2..])) else {
        return;
    };
    let e = ks.peek(key);
    let h = e.as_deref().and_then(as_hash);
    ctx.out.array(args.len() - 2);
    for f in &args[2..] {
        reply_value(ctx, h.and_then(|h| h.get(f)));
    }
}

fn hdel(ctx: &mut Ctx<'_>) {
    let args = ctx.args;
    let key = args[1];
    let mut ks = ctx.key(key);
    // An expired field not reclaimed yet is deleted like any other.
    match open_with(ctx, &mut ks, key, false, Reclaim::Nothing) {
        None => return,
        Some(false) => {
            drop(ks);
            ctx.out.int(0);
            return;
        }
        Some(true) => {}
    }
    let deleted = with_hash(&mut ks, key, |h| {
        let mut n = 0;
        for f in &args[2..] {
            if h.remove(f) {
                n += 1;
                if h.is_empty() {
                    break;
                }
            }
        }
        n
    })
    .unwrap_or(0);
    drop_if_empty(&mut ks, key);
    drop(ks);
    ctx.store.add_dirty(deleted);
    ctx.out.int(deleted as i64);
}

/// HLEN, HSTRLEN, HEXISTS: an integer about the hash, 0 for a missing key;
/// the field they name (none for HLEN) is reclaimed first if its time is
/// up.
fn int_reply(ctx: &mut Ctx<'_>, reclaim: Reclaim<'_>, f: impl FnOnce(&Hash) -> i64) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let n = match open_with(ctx, &mut ks, key, true, reclaim) {
        None => return,
        Some(false) => 0,
        Some(true) => read_hash(&ks, key, f).unwrap_or(0),
    };
    drop(ks);
    ctx.out.int(n);
}

/// HLEN counts the fields whose time is up but that nothing reclaimed yet,
/// as Redis 8 does.
fn hlen(ctx: &mut Ctx<'_>) {
    int_reply(ctx, Reclaim::Nothing, |h| h.len() as i64);
}

fn hstrlen(ctx: &mut Ctx<'_>) {
    let field = ctx.arg(2);
    int_reply(ctx, Reclaim::Fields(&[field]), |h| {
        h.get(field).map_or(0, |v| v.len() as i64)
    });
}

fn hexists(ctx: &mut Ctx<'_>) {
    let field = ctx.arg(2);
    int_reply(ctx, Reclaim::Fields(&[field]), |h| {
        i64::from(h.get(field).is_some())
    });
}

/// HGETALL, HKEYS, HVALS (Redis's `genericHgetallCommand`).
fn getall(ctx: &mut Ctx<'_>, keys: bool, values: bool) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    // Fields whose time is up are skipped, not reclaimed (Redis 8).
    let Some(exists) = open_with(ctx, &mut ks, key, true, Reclaim::Nothing) else {
        return;
    };
    let now = field_clock(ctx);
    let e = if exists { ks.peek(key) } else { None };
    let Some(h) = e.as_deref().and_then(as_hash) else {
        if keys && values {
            ctx.out.map(0);
        } else {
            ctx.out.array(0);
        }
        return;
    };
    let live = |t: &Option<i64>| t.is_none_or(|t| t >= now);
    let n = if h.fields_with_expiry() == 0 {
        h.len()
    } else {
        h.iter().filter(|(_, _, t)| live(t)).count()
    };
    if keys && values {
        ctx.out.map(n);
    } else {
        ctx.out.array(n);
    }
    for (f, v, _) in h.iter().filter(|(_, _, t)| live(t)) {
        if keys {
            ctx.out.bulk(f);
        }
        if values {
            ctx.out.bulk(v);
        }
    }
}

fn hgetall(ctx: &mut Ctx<'_>) {
    getall(ctx, true, true);
}

fn hkeys(ctx: &mut Ctx<'_>) {
    getall(ctx, true, false);
}

fn hvals(ctx: &mut Ctx<'_>) {
    getall(ctx, false, true);
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

fn hincrby(ctx: &mut Ctx<'_>) {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let Some(by) = ctx.int_arg(3) else {
        return;
    };
    let lim = limits(ctx);
    let mut ks = ctx.key(key);
    let Some(exists) = open_with(ctx, &mut ks, key, false, Reclaim::Fields(&[field])) else {
        return;
    };
    if !exists {
        create(&mut ks, key);
    }
    let r = with_hash(&mut ks, key, |h| {
        let cur = match h.get(field) {
            Some(v) => parse_i64(v).ok_or(NOT_INT_VALUE)?,
            None => 0,
        };
        let n = cur.checked_add(by).ok_or(errors::INCR_OVERFLOW)?;
        h.set(field, itoa::Buffer::new().format(n).as_bytes(), true, lim);
        Ok(n)
    })
    .unwrap_or(Err(errors::WRONGTYPE));
    drop(ks);
    match r {
        Ok(n) => {
            ctx.store.add_dirty(1);
            ctx.out.int(n);
        }
        Err(msg) => ctx.out.error(msg),
    }
}

/// HINCRBYFLOAT: long double arithmetic and `%.17Lf` text, as
/// INCRBYFLOAT (see [`viator_types::number`]); the field keeps its TTL.
fn hincrbyfloat(ctx: &mut Ctx<'_>) {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let incr = match LongDouble::parse(ctx.arg(3)) {
        Some(v) if !v.is_nan() => v,
        _ => {
            ctx.out.error(errors::NOT_FLOAT);
            return;
        }
    };
    if incr.is_infinite() {
        ctx.out.error("ERR value is NaN or Infinity");
        return;
    }
    let lim = limits(ctx);
    let mut ks = ctx.key(key);
    let Some(exists) = open_with(ctx, &mut ks, key, false, Reclaim::Fields(&[field])) else {
        return;
    };
    if !exists {
        create(&mut ks, key);
    }
    let r = with_hash(&mut ks, key, |h| {
        let cur = match h.get(field) {
            Some(v) => match LongDouble::parse(v) {
                Some(c) if !c.is_nan() => c,
                _ => return Err(NOT_FLOAT_VALUE),
            },
            None => LongDouble::ZERO,
        };
        let sum = cur + incr;
        if !sum.is_finite() {
            return Err("ERR increment would produce NaN or Infinity");
        }
        let text = sum.to_human_string();
        h.set(field, text.as_bytes(), true, lim);
        Ok(text)
    })
    .unwrap_or(Err(errors::WRONGTYPE));
    drop(ks);
    match r {
        Ok(text) => {
            ctx.store.add_dirty(1);
            ctx.out.bulk(text.as_bytes());
            // Propagated as HSET with the result, so that float formatting
            // cannot make a replay differ (Redis's hincrbyfloatCommand).
            ctx.propagate(&[b"HSET", key, field, text.as_bytes()]);
        }
        Err(msg) => ctx.out.error(msg),
    }
}

// ---------------------------------------------------------------------------
// HRANDFIELD, HSCAN
// ---------------------------------------------------------------------------

fn hrandfield(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    if ctx.argc() == 2 {
        let mut ks = ctx.key(key);
        match open(ctx, &mut ks, key, true) {
            None => {}
            Some(false) => ctx.out.null(),
            Some(true) => {
                let e = ks.peek(key);
                let pick = e
                    .as_deref()
                    .and_then(as_hash)
                    .and_then(|h| h.random(fastrand::u64(..)));
                reply_value(ctx, pick.map(|(f, _)| f));
            }
        }
        return;
    }
    let Some(l) = ctx.int_arg(2) else {
        return;
    };
    if l == i64::MIN {
        ctx.out.error(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
        return;
    }
    let withvalues = ctx.argc() == 4;
    if ctx.argc() > 4 || (withvalues && !is_token(ctx.arg(3), "WITHVALUES")) {
        ctx.out.error(errors::SYNTAX);
        return;
    }
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        ctx.out.error(errors::OUT_OF_RANGE);
        return;
    }
    let mut ks = ctx.key(key);
    let Some(exists) = open(ctx, &mut ks, key, true) else {
        return;
    };
    let e = if exists { ks.peek(key) } else { None };
    let Some(h) = e.as_deref().and_then(as_hash) else {
        ctx.out.array(0);
        return;
    };
    let count = l.unsigned_abs();
    if count == 0 {
        ctx.out.array(0);
        return;
    }
    let resp3 = ctx.out.is_resp3();
    let out = &mut *ctx.out;
    let emit = |out: &mut viator_protocol::ReplyBuf, f: &[u8], v: &[u8]| {
        if withvalues && resp3 {
            out.array(2);
        }
        out.bulk(f);
        if withvalues {
            out.bulk(v);
        }
    };
    let header = |out: &mut viator_protocol::ReplyBuf, n: usize| {
        out.array(if withvalues && !resp3 { n * 2 } else { n });
    };
    let size = h.len();
    if l < 0 || count == 1 {
        // Case 1: with repetitions, sampled independently.
        if count > HRANDFIELD_MAX {
            out.error(errors::OUT_OF_RANGE);
            return;
        }
        header(out, count as usize);
        for _ in 0..count {
            if let Some((f, v)) = h.random(fastrand::u64(..)) {
                emit(out, f, v);
            }
        }
        return;
    }
    if count >= size as u64 {
        // Case 2: the whole hash.
        header(out, size);
        for (f, v, _) in h.iter() {
            emit(out, f, v);
        }
        return;
    }
    let count = count as usize;
    header(out, count);
    if h.is_packed() || count * 3 > size {
        // Cases 2.5 and 3: choose `count` of the `size` fields, keeping
        // the packed order (selection sampling).
        let mut need = count;
        let mut left = size;
        for (f, v, _) in h.iter() {
            if need == 0 {
                break;
            }
            if fastrand::usize(..left) < need {
                emit(out, f, v);
                need -= 1;
            }
            left -= 1;
        }
        return;
    }
    // Case 4: a big hash and few fields: random picks, without repeats.
    let mut seen: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
    while seen.len() < count {
        if let Some((f, v)) = h.random(fastrand::u64(..))
            && seen.insert(f)
        {
            emit(out, f, v);
        }
    }
}

fn hscan(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let Some(cursor) = super::scan_args::cursor_arg(ctx, 2) else {
        return;
    };
    let mut ks = ctx.key(key);
    // Fields whose time is up are skipped, not reclaimed (Redis 8): a page
    // may come back empty.
    let Some(exists) = open_with(ctx, &mut ks, key, true, Reclaim::Nothing) else {
        return;
    };
    let now = field_clock(ctx);
    if !exists {
        drop(ks);
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return;
    }
    let Some(super::scan_args::ScanArgs {
        count,
        pattern,
        novalues,
        ..
    }) = super::scan_args::parse(ctx, 3, super::scan_args::ScanOf::Hash)
    else {
        return;
    };
    let e = ks.peek(key);
    let Some(h) = e.as_deref().and_then(as_hash) else {
        return;
    };
    let mut found = viator_protocol::ReplyBuf::new();
    let mut n = 0usize;
    let mut take = |f: &[u8], v: &[u8], t: Option<i64>| {
        if t.is_none_or(|t| t >= now) && pattern.is_none_or(|p| glob_match(p, f, false)) {
            found.bulk(f);
            n += 1;
            if !novalues {
                found.bulk(v);
                n += 1;
            }
        }
    };
    let mut cur = cursor;
    if h.is_packed() {
        cur = h.scan(0, &mut take);
    } else {
        let mut sampled: i64 = 0;
        let mut max_iterations = count.saturating_mul(10);
        loop {
            cur = h.scan(cur, |f, v, t| {
                sampled += 1;
                take(f, v, t);
            });
            max_iterations -= 1;
            if cur == 0 || max_iterations <= 0 || sampled >= count {
                break;
            }
        }
    }
    drop(e);
    drop(ks);
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(cur).as_bytes());
    ctx.out.array(n);
    ctx.out.raw(found.as_bytes());
}

// ---------------------------------------------------------------------------
// Field expiry
// ---------------------------------------------------------------------------

fn hexpire(ctx: &mut Ctx<'_>) {
    let now = ctx.now_ms;
    hexpire_generic(ctx, now, true);
}

fn hpexpire(ctx: &mut Ctx<'_>) {
    let now = ctx.now_ms;
    hexpire_generic(ctx, now, false);
}

fn hexpireat(ctx: &mut Ctx<'_>) {
    hexpire_generic(ctx, 0, true);
}

fn hpexpireat(ctx: &mut Ctx<'_>) {
    hexpire_generic(ctx, 0, false);
}

/// HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT (Redis's
/// `hexpireGenericCommand`): one result code per field.
fn hexpire_generic(ctx: &mut Ctx<'_>, base: i64, seconds: bool) {
    let key = ctx.arg(1);
    let now = field_clock(ctx);
    let mut ks = ctx.key(key);
    let Some(exists) = open_with(ctx, &mut ks, key, false, Reclaim::Nothing) else {
        return;
    };
    let Some(at) = expire_time(ctx, ctx.arg(2), seconds, base) else {
        return;
    };
    let a3 = ctx.arg(3);
    let cond = if is_token(a3, "nx") {
        ExpireCond::Nx
    } else if is_token(a3, "xx") {
        ExpireCond::Xx
    } else if is_token(a3, "gt") {
        ExpireCond::Gt
    } else if is_token(a3, "lt") {
        ExpireCond::Lt
    } else {
        ExpireCond::None
    };
    let fields_at = if cond == ExpireCond::None { 3 } else { 4 };
    let Some(first) = fields_block(ctx, fields_at, NUMFIELDS_GT0) else {
        return;
    };
    let fields = &ctx.args[first..];
    let exists = exists && reclaim_named(ctx, &mut ks, key, fields);
    if !exists {
        drop(ks);
        ctx.out.array(fields.len());
        for _ in fields {
            ctx.out.int(code::NO_FIELD);
        }
        return;
    }
    let codes: Vec<i64> = with_hash(&mut ks, key, |h| {
        h.enable_field_expiry();
        fields
            .iter()
            .map(|f| h.set_field_expire(f, at, cond, now))
            .collect()
    })
    .unwrap_or_default();
    drop_if_empty(&mut ks, key);
    drop(ks);
    let changed = codes
        .iter()
        .filter(|&&c| c == code::SET || c == code::DELETED)
        .count();
    ctx.store.add_dirty(changed as u64);
    if ctx.propagating() {
        propagate_hexpire(ctx, key, fields_at, at, base == 0 && !seconds, &codes);
    }
    ctx.out.array(codes.len());
    for c in codes {
        ctx.out.int(c);
    }
}

/// What HEXPIRE and friends propagate (Redis's `hexpireGenericCommand`):
/// an `HDEL` for each field a time already past deleted, then
/// `HPEXPIREAT key <ms> [cond] FIELDS <n> ...` naming only the fields whose
/// time was set, if any (HPEXPIREAT keeps its own time argument).
fn propagate_hexpire(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    fields_at: usize,
    at: i64,
    pexpireat: bool,
    codes: &[i64],
) {
    let args = ctx.args;
    let fields = &args[fields_at + 2..];
    for (f, _) in fields
        .iter()
        .zip(codes)
        .filter(|(_, c)| **c == code::DELETED)
    {
        ctx.propagate(&[b"HDEL", key, f]);
    }
    let set: Vec<&[u8]> = fields
        .iter()
        .zip(codes)
        .filter(|(_, c)| **c == code::SET)
        .map(|(f, _)| *f)
        .collect();
    if set.is_empty() {
        ctx.no_propagate();
        return;
    }
    let at = if pexpireat {
        args[2].to_vec()
    } else {
        rewrite::int_text(at)
    };
    let n = if set.len() == fields.len() {
        args[fields_at + 1].to_vec()
    } else {
        rewrite::uint_text(set.len() as u64)
    };
    let mut argv: Vec<&[u8]> = vec![b"HPEXPIREAT", key, &at];
    argv.extend_from_slice(&args[3..fields_at]);
    argv.push(args[fields_at]);
    argv.push(&n);
    argv.extend(set);
    ctx.propagate(&argv);
}

fn httl(ctx: &mut Ctx<'_>) {
    let now = ctx.now_ms;
    httl_generic(ctx, now, true);
}

fn hpttl(ctx: &mut Ctx<'_>) {
    let now = ctx.now_ms;
    httl_generic(ctx, now, false);
}

fn hexpiretime(ctx: &mut Ctx<'_>) {
    httl_generic(ctx, 0, true);
}

fn hpexpiretime(ctx: &mut Ctx<'_>) {
    httl_generic(ctx, 0, false);
}

/// HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME: -2 for a missing field, -1 for
/// one without TTL, else the time left (seconds rounded up) or the time.
fn httl_generic(ctx: &mut Ctx<'_>, base: i64, seconds: bool) {
    let key = ctx.arg(1);
    let now = field_clock(ctx);
    let mut ks = ctx.key(key);
    // A field whose time is up reads as missing; nothing is reclaimed.
    let Some(exists) = open_with(ctx, &mut ks, key, true, Reclaim::Nothing) else {
        return;
    };
    let Some(first) = fields_block(ctx, 2, NUMFIELDS_POSITIVE) else {
        return;
    };
    let fields = &ctx.args[first..];
    let e = if exists { ks.peek(key) } else { None };
    let h = e.as_deref().and_then(as_hash);
    ctx.out.array(fields.len());
    for f in fields {
        let n = match h.and_then(|h| h.expire_of(f)) {
            None => code::NO_FIELD,
            Some(None) => -1,
            Some(Some(t)) if t < now => code::NO_FIELD,
            Some(Some(t)) if seconds => (t + 999 - base) / 1000,
            Some(Some(t)) => t - base,
        };
        ctx.out.int(n);
    }
}

fn hpersist(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let Some(exists) = open_with(ctx, &mut ks, key, false, Reclaim::Nothing) else {
        return;
    };
    let Some(first) = fields_block(ctx, 2, NUMFIELDS_POSITIVE) else {
        return;
    };
    let fields = &ctx.args[first..];
    let exists = exists && reclaim_named(ctx, &mut ks, key, fields);
    let codes: Vec<i64> = if exists {
        with_hash(&mut ks, key, |h| {
            fields.iter().map(|f| h.persist(f)).collect()
        })
        .unwrap_or_default()
    } else {
        vec![code::NO_FIELD; fields.len()]
    };
    drop(ks);
    let changed = codes.iter().filter(|&&c| c == code::SET).count();
    ctx.store.add_dirty(changed as u64);
    ctx.out.array(codes.len());
    for c in codes {
        ctx.out.int(c);
    }
}

fn hgetdel(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let Some(exists) = open_with(ctx, &mut ks, key, false, Reclaim::Nothing) else {
        return;
    };
    let Some(first) = fields_block(ctx, 2, NUMFIELDS_POSITIVE) else {
        return;
    };
    let fields = &ctx.args[first..];
    let exists = exists && reclaim_named(ctx, &mut ks, key, fields);
    let values: Vec<Option<Vec<u8>>> = if exists {
        with_hash(&mut ks, key, |h| {
            fields
                .iter()
                .map(|f| {
                    let v = h.get(f).map(<[u8]>::to_vec);
                    if v.is_some() {
                        h.remove(f);
                    }
                    v
                })
                .collect()
        })
        .unwrap_or_default()
    } else {
        vec![None; fields.len()]
    };
    drop_if_empty(&mut ks, key);
    drop(ks);
    let deleted = values.iter().filter(|v| v.is_some()).count();
    ctx.store.add_dirty(deleted as u64);
    // Propagated as HDEL of the fields named (Redis's hgetdelCommand).
    if deleted > 0 && ctx.propagating() {
        let mut argv: Vec<&[u8]> = vec![b"HDEL", key];
        argv.extend_from_slice(fields);
        ctx.propagate(&argv);
    }
    ctx.out.array(values.len());
    for v in &values {
        reply_value(ctx, v.as_deref());
    }
}

/// What HGETEX does to the fields it returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum GetexAction {
    Nothing,
    Expire(i64),
    Persist,
}

/// The time field expire times are compared with: none has passed while
/// an AOF loads (Redis's `server.loading`), so that the commands after a
/// field's expire time in the file still find it, as Redis's replay does.
fn field_clock(ctx: &Ctx<'_>) -> i64 {
    if ctx
        .store
        .settings
        .loading
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        i64::MIN
    } else {
        ctx.now_ms
    }
}

fn hgetex(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let now = ctx.now_ms;
    let clock = field_clock(ctx);
    let mut ks = ctx.key(key);
    let Some(exists) = open_with(ctx, &mut ks, key, false, Reclaim::Nothing) else {
        return;
    };
    let a2 = ctx.arg(2);
    let timed = [
        ("ex", true, true),
        ("px", false, true),
        ("exat", true, false),
        ("pxat", false, false),
    ]
    .into_iter()
    .find(|(w, _, _)| is_token(a2, w));
    let (action, fields_at) = if let Some((_, seconds, relative)) = timed {
        let base = if relative { now } else { 0 };
        let Some(at) = expire_time(ctx, ctx.arg(3), seconds, base) else {
            return;
        };
        (GetexAction::Expire(at), 4)
    } else if is_token(a2, "persist") {
        (GetexAction::Persist, 3)
    } else {
        (GetexAction::Nothing, 2)
    };
    let Some(first) = fields_block(ctx, fields_at, NUMFIELDS_POSITIVE) else {
        return;
    };
    let fields = &ctx.args[first..];
    let exists = exists && reclaim_named(ctx, &mut ks, key, fields);
    if !exists {
        drop(ks);
        ctx.out.array(fields.len());
        for _ in fields {
            ctx.out.null();
        }
        return;
    }
    let mut changed = 0u64;
    let mut deleted: Vec<&[u8]> = Vec::new();
    let values: Vec<Option<Vec<u8>>> = with_hash(&mut ks, key, |h| {
        if action != GetexAction::Nothing {
            h.enable_field_expiry();
        }
        fields
            .iter()
            .map(|f| {
                let v = h.get(f).map(<[u8]>::to_vec);
                if v.is_some() {
                    let c = match action {
                        GetexAction::Nothing => code::NOT_MET,
                        GetexAction::Persist => h.persist(f),
                        GetexAction::Expire(at) => {
                            h.set_field_expire(f, at, ExpireCond::None, clock)
                        }
                    };
                    if c == code::SET || c == code::DELETED {
                        changed += 1;
                    }
                    if c == code::DELETED {
                        deleted.push(f);
                    }
                }
                v
            })
            .collect()
    })
    .unwrap_or_default();
    drop_if_empty(&mut ks, key);
    drop(ks);
    ctx.store.add_dirty(changed);
    // Never propagated as called (Redis's hgetexCommand): an HDEL for
    // each field a time already past deleted, else HPERSIST or
    // HPEXPIREAT with the FIELDS block as given.
    if changed > 0 && ctx.propagating() {
        let args = ctx.args;
        if !deleted.is_empty() {
            for f in deleted {
                ctx.propagate(&[b"HDEL", key, f]);
            }
        } else if action == GetexAction::Persist {
            let mut argv: Vec<&[u8]> = vec![b"HPERSIST", key];
            argv.extend_from_slice(&args[3..]);
            ctx.propagate(&argv);
        } else if let GetexAction::Expire(at) = action {
            let at = if is_token(args[2], "pxat") {
                args[3].to_vec()
            } else {
                rewrite::int_text(at)
            };
            let mut argv: Vec<&[u8]> = vec![b"HPEXPIREAT", key, &at];
            argv.extend_from_slice(&args[4..]);
            ctx.propagate(&argv);
        }
    }
    ctx.out.array(values.len());
    for v in &values {
        reply_value(ctx, v.as_deref());
    }
}

/// HSETEX's parsed options.
struct SetexOpts {
    fxx: bool,
    fnx: bool,
    /// EX/PX/EXAT/PXAT's absolute time.
    expire: Option<i64>,
    /// The index of the time argument, and whether it was PXAT's.
    expire_arg: (usize, bool),
    keepttl: bool,
    first: usize,
}

/// Redis's `hsetexParseArgs`: options in any order up to FIELDS.
fn hsetex_args(ctx: &mut Ctx<'_>) -> Option<SetexOpts> {
    const ONE_EXPIRY: &str =
        "ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified";
    const ONE_COND: &str = "ERR Only one of FXX or FNX arguments can be specified";
    let now = ctx.now_ms;
    let argc = ctx.argc();
    let mut o = SetexOpts {
        fxx: false,
        fnx: false,
        expire: None,
        expire_arg: (0, false),
        keepttl: false,
        first: 0,
    };
    let mut i = 2;
    while i < argc {
        let a = ctx.arg(i);
        if is_token(a, "fields") {
            if i + 3 >= argc {
                ctx.out.error(&errors::wrong_arity("hsetex"));
                return None;
            }
            let n = count_arg(
                ctx,
                i + 1,
                i64::from(i32::MAX),
                "ERR invalid number of fields",
            )?;
            let remaining = argc - i - 2;
            if remaining % 2 != 0 || n != remaining / 2 {
                ctx.out.error(&errors::wrong_arity("hsetex"));
                return None;
            }
            o.first = i + 2;
            return Some(o);
        }
        let timed = [
            ("EX", true, true),
            ("PX", false, true),
            ("EXAT", true, false),
            ("PXAT", false, false),
        ]
        .into_iter()
        .find(|(w, _, _)| is_token(a, w));
        if let Some((_, seconds, relative)) = timed {
            if o.expire.is_some() || o.keepttl {
                ctx.out.error(ONE_EXPIRY);
                return None;
            }
            if i + 1 >= argc {
                ctx.out.error("ERR missing expire time");
                return None;
            }
            i += 1;
            let base = if relative { now } else { 0 };
            o.expire = Some(expire_time(ctx, ctx.arg(i), seconds, base)?);
            o.expire_arg = (i, !seconds && !relative);
        } else if is_token(a, "KEEPTTL") {
            if o.expire.is_some() || o.keepttl {
                ctx.out.error(ONE_EXPIRY);
                return None;
            }
            o.keepttl = true;
        } else if is_token(a, "FXX") || is_token(a, "FNX") {
            if o.fxx || o.fnx {
                ctx.out.error(ONE_COND);
                return None;
            }
            if is_token(a, "FXX") {
                o.fxx = true;
            } else {
                o.fnx = true;
            }
        } else {
            let end = a.iter().position(|&b| b == 0).unwrap_or(a.len());
            let msg = format!(
                "ERR unknown argument: {}",
                String::from_utf8_lossy(&a[..end])
            );
            ctx.out.error(&msg);
            return None;
        }
        i += 1;
    }
    // Unreachable with the command's arity (four or more arguments after
    // the key cannot all be options), kept as a plain error.
    ctx.out.error(errors::SYNTAX);
    None
}

fn hsetex(ctx: &mut Ctx<'_>) {
    let Some(o) = hsetex_args(ctx) else {
        return;
    };
    let key = ctx.arg(1);
    let now = field_clock(ctx);
    let lim = limits(ctx);
    let pairs = &ctx.args[o.first..];
    let named: Vec<&[u8]> = pairs.iter().step_by(2).copied().collect();
    let mut ks = ctx.key(key);
    let Some(exists) = open_with(ctx, &mut ks, key, false, Reclaim::Fields(&named)) else {
        return;
    };
    if !exists {
        if o.fxx {
            drop(ks);
            ctx.out.int(0);
            return;
        }
        create(&mut ks, key);
    }
    if o.fxx || o.fnx {
        let found = read_hash(&ks, key, |h| {
            pairs
                .chunks_exact(2)
                .filter(|p| h.get(p[0]).is_some())
                .count()
        })
        .unwrap_or(0);
        let n = pairs.len() / 2;
        if (o.fxx && found != n) || (o.fnx && found != 0) {
            drop(ks);
            ctx.out.int(0);
            return;
        }
    }
    let keep = o.keepttl || o.expire.is_some();
    let mut deleted: Vec<&[u8]> = Vec::new();
    with_hash(&mut ks, key, |h| {
        h.prepare_write(pairs.iter().map(|a| a.len()), pairs.len() / 2, lim);
        if o.expire.is_some() {
            h.enable_field_expiry();
        }
        for p in pairs.chunks_exact(2) {
            h.set(p[0], p[1], keep, lim);
            if let Some(at) = o.expire
                && h.set_field_expire(p[0], at, ExpireCond::None, now) == code::DELETED
            {
                deleted.push(p[0]);
            }
        }
    });
    drop_if_empty(&mut ks, key);
    drop(ks);
    ctx.store.add_dirty((pairs.len() / 2) as u64);
    ctx.out.int(1);
    // Redis's hsetexCommand: fields a time already past deleted go as
    // HDELs instead of the command; a relative or second-based time is
    // rewritten as PXAT.
    if ctx.propagating() {
        if !deleted.is_empty() {
            for f in deleted {
                ctx.propagate(&[b"HDEL", key, f]);
            }
        } else if let (Some(at), (i, false)) = (o.expire, o.expire_arg) {
            let at = rewrite::int_text(at);
            let mut argv: Vec<&[u8]> = ctx.args.to_vec();
            argv[i - 1] = b"PXAT";
            argv[i] = &at;
            ctx.propagate(&argv);
        }
    }
}

/// Number of hashes with fields that have a TTL, for INFO keyspace's
/// `subexpiry` (counts the index, which may briefly hold hashes whose
/// TTL'd fields were deleted another way).
pub fn subexpiry_count(store: &crate::Store, db: usize) -> usize {
    store
        .db(db)
        .shards()
        .iter()
        .map(|s| s.lock().borrow().field_expires.len())
        .sum()
}
