//! Set commands (Redis's `t_set.c`, and SSCAN from `db.c`).
//!
//! Each handler follows its Redis counterpart step by step, so that the
//! same request gets the same reply, the same error when several things
//! are wrong, and the same encoding afterwards (the Redis test suite
//! asserts OBJECT ENCODING after specific operations):
//!
//! - SADD creates the set in the encoding `setTypeCreate` picks from the
//!   first member and the number of members given, and converts an
//!   existing compact set up front when that many could not fit
//!   (`setTypeMaybeConvert`); the per-member rules are in
//!   [`viator_types::set`].
//! - SINTERSTORE builds its result from an empty intset when the smallest
//!   input is an intset and from an empty listpack otherwise, then turns an
//!   all-integer result into an intset when it fits one; SUNIONSTORE and
//!   SDIFFSTORE build from an empty intset. Each member goes in through the
//!   same add path as SADD, so the result converts exactly where Redis's
//!   does. SDIFF(STORE) picks Redis's algorithm from the same work
//!   estimate, since the two reach different encodings on the way.
//! - SUNION and SDIFF without a destination reply in ascending order when
//!   every input is an intset (Redis builds an intset then) and in hash
//!   order otherwise; SINTER replies in the order of its smallest input.
//! - SPOP with a count uses Redis's two strategies (pop a few, or draw the
//!   members that stay into a new set), so a set emptied down to a few
//!   members becomes compact again as in Redis.
//!
//! Multi-key commands lock every shard of their keys at once with
//! [`Ctx::keys`]. Inputs are first looked up one by one (expiry, keyspace
//! hits and misses, WRONGTYPE in argument order, as Redis's loops), then
//! read together through shared borrows ([`crate::Keyspace::peek`]), and
//! the result is stored only after those borrows end.
//!
//! Replies never grow without bound on client input: positive counts are
//! capped by the set's size as in Redis; a negative SRANDMEMBER count asks
//! for that many elements (repeats allowed), which Redis streams until the
//! client's output limit closes it. Viator builds replies in memory, so it
//! refuses a count whose reply could exceed `proto-max-bulk-len`.

use std::cell::Ref;
use std::sync::atomic::Ordering;

use viator_protocol::ReplyBuf;
use viator_types::entry::{Entry, NewValue, Object, ValueType};
use viator_types::glob::glob_match;
use viator_types::number::parse_i64;
use viator_types::set::{Elem, Set, SetLimits};

use super::rewrite;
use crate::Lookup;
use crate::command::{BeginSearch, CommandSpec, Ctx, FindKeys, KeySpec, acl, flags};
use crate::errors;

/// SRANDMEMBER's count error for -2^63, whose absolute value has no i64.
const SRANDMEMBER_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/// A negative SRANDMEMBER count whose reply would pass proto-max-bulk-len
/// (Viator's own limit; see the module docs).
const REPLY_TOO_LARGE: &str =
    "ERR value is out of range, the reply would exceed proto-max-bulk-len";
/// SINTERCARD numkeys beyond the arguments.
const TOO_MANY_KEYS: &str = "ERR Number of keys can't be greater than number of args";

/// The fewest bytes one element of an array reply takes (`$1\r\nx\r\n`).
const MIN_ELEMENT_REPLY: u64 = 7;

const KEY_ONLY: &str = "key:key";
const KEY_MEMBERS: &str = "key:key member:string...";
const KEYS_ONLY: &str = "key:key...";
const STORE_ARGS: &str = "destination:key key:key...";
const RO: &[KeySpec] = &[KeySpec::single(1, &["RO"])];
const RO_ACCESS: &[KeySpec] = &[KeySpec::single(1, &["RO", "ACCESS"])];
const RO_ACCESS_ALL: &[KeySpec] = &[KeySpec::range(1, -1, 1, &["RO", "ACCESS"])];
const MEMBERS_HISTORY: &[(&str, &str)] = &[("2.4.0", "Accepts multiple `member` arguments.")];
const ORDER_TIP: &[&str] = &["nondeterministic_output_order"];
const OUTPUT_TIP: &[&str] = &["nondeterministic_output"];
const INTER_COMPLEXITY: &str =
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
const TOTAL_COMPLEXITY: &str = "O(N) where N is the total number of elements in all given sets.";

/// The key specs of the *STORE commands: the destination, then the inputs.
const fn store_specs(dst_flags: &'static [&'static str]) -> [KeySpec; 2] {
    [
        KeySpec::single(1, dst_flags),
        KeySpec::range(2, -1, 1, &["RO", "ACCESS"]),
    ]
}
const SINTERSTORE_SPECS: [KeySpec; 2] = store_specs(&["RW", "UPDATE"]);
const OW_STORE_SPECS: [KeySpec; 2] = store_specs(&["OW", "UPDATE"]);

/// The set family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sadd",
        arity: -3,
        flags: flags::WRITE | flags::DENYOOM | flags::FAST,
        acl: acl::SET,
        keys: &[KeySpec::single(1, &["RW", "INSERT"])],
        group: "set",
        summary: "Adds one or more members to a set. Creates the key if it doesn't exist.",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        args: KEY_MEMBERS,
        history: MEMBERS_HISTORY,
        handler: Some(sadd),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "scard",
        arity: 2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::SET,
        keys: RO,
        group: "set",
        summary: "Returns the number of members in a set.",
        complexity: "O(1)",
        args: KEY_ONLY,
        handler: Some(scard),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sdiff",
        arity: -2,
        flags: flags::READONLY,
        acl: acl::SET,
        keys: RO_ACCESS_ALL,
        group: "set",
        summary: "Returns the difference of multiple sets.",
        complexity: TOTAL_COMPLEXITY,
        args: KEYS_ONLY,
        tips: ORDER_TIP,
        handler: Some(sdiff),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sdiffstore",
        arity: -3,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::SET,
        keys: &OW_STORE_SPECS,
        group: "set",
        summary: "Stores the difference of multiple sets in a key.",
        complexity: TOTAL_COMPLEXITY,
        args: STORE_ARGS,
        handler: Some(sdiffstore),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sinter",
        arity: -2,
        flags: flags::READONLY,
        acl: acl::SET,
        keys: RO_ACCESS_ALL,
        group: "set",
        summary: "Returns the intersect of multiple sets.",
        complexity: INTER_COMPLEXITY,
        args: KEYS_ONLY,
        tips: ORDER_TIP,
        handler: Some(sinter),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sintercard",
        arity: -3,
        flags: flags::READONLY,
        acl: acl::SET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
            notes: "",
        }],
        group: "set",
        summary: "Returns the number of members of the intersect of multiple sets.",
        since: "7.0.0",
        complexity: INTER_COMPLEXITY,
        args: "numkeys:integer key:key... [LIMIT=limit:integer]",
        handler: Some(sintercard),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sinterstore",
        arity: -3,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::SET,
        keys: &SINTERSTORE_SPECS,
        group: "set",
        summary: "Stores the intersect of multiple sets in a key.",
        complexity: INTER_COMPLEXITY,
        args: STORE_ARGS,
        handler: Some(sinterstore),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sismember",
        arity: 3,
        flags: flags::READONLY | flags::FAST,
        acl: acl::SET,
        keys: RO,
        group: "set",
        summary: "Determines whether a member belongs to a set.",
        complexity: "O(1)",
        args: "key:key member:string",
        handler: Some(sismember),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smembers",
        arity: 2,
        flags: flags::READONLY,
        acl: acl::SET,
        keys: RO_ACCESS,
        group: "set",
        summary: "Returns all members of a set.",
        complexity: "O(N) where N is the set cardinality.",
        args: KEY_ONLY,
        tips: ORDER_TIP,
        handler: Some(smembers),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smismember",
        arity: -3,
        flags: flags::READONLY | flags::FAST,
        acl: acl::SET,
        keys: RO_ACCESS,
        group: "set",
        summary: "Determines whether multiple members belong to a set.",
        since: "6.2.0",
        complexity: "O(N) where N is the number of elements being checked for membership",
        args: KEY_MEMBERS,
        handler: Some(smismember),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smove",
        arity: 4,
        flags: flags::WRITE | flags::FAST,
        acl: acl::SET,
        keys: &[
            KeySpec::single(1, &["RW", "ACCESS", "DELETE"]),
            KeySpec::single(2, &["RW", "INSERT"]),
        ],
        group: "set",
        summary: "Moves a member from one set to another.",
        complexity: "O(1)",
        args: "source:key destination:key member:string",
        handler: Some(smove),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "spop",
        arity: -2,
        flags: flags::WRITE | flags::FAST,
        acl: acl::SET,
        keys: &[KeySpec::single(1, &["RW", "ACCESS", "DELETE"])],
        group: "set",
        summary: "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        args: "key:key [count:integer@3.2.0]",
        tips: OUTPUT_TIP,
        history: &[("3.2.0", "Added the `count` argument.")],
        handler: Some(spop),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "srandmember",
        arity: -2,
        flags: flags::READONLY,
        acl: acl::SET,
        keys: RO_ACCESS,
        group: "set",
        summary: "Get one or multiple random members from a set",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        args: "key:key [count:integer@2.6.0]",
        tips: OUTPUT_TIP,
        history: &[("2.6.0", "Added the optional `count` argument.")],
        handler: Some(srandmember),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "srem",
        arity: -3,
        flags: flags::WRITE | flags::FAST,
        acl: acl::SET,
        keys: &[KeySpec::single(1, &["RW", "DELETE"])],
        group: "set",
        summary: "Removes one or more members from a set. Deletes the set if the last member was removed.",
        complexity: "O(N) where N is the number of members to be removed.",
        args: KEY_MEMBERS,
        history: MEMBERS_HISTORY,
        handler: Some(srem),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sscan",
        arity: -3,
        flags: flags::READONLY,
        acl: acl::SET,
        keys: RO_ACCESS,
        group: "set",
        summary: "Iterates over members of a set.",
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        args: "key:key cursor:integer [MATCH=pattern:pattern] [COUNT=count:integer]",
        tips: OUTPUT_TIP,
        handler: Some(sscan),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sunion",
        arity: -2,
        flags: flags::READONLY,
        acl: acl::SET,
        keys: RO_ACCESS_ALL,
        group: "set",
        summary: "Returns the union of multiple sets.",
        complexity: TOTAL_COMPLEXITY,
        args: KEYS_ONLY,
        tips: ORDER_TIP,
        handler: Some(sunion),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sunionstore",
        arity: -3,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::SET,
        keys: &OW_STORE_SPECS,
        group: "set",
        summary: "Stores the union of multiple sets in a key.",
        complexity: TOTAL_COMPLEXITY,
        args: STORE_ARGS,
        handler: Some(sunionstore),
        ..CommandSpec::DEFAULT
    },
];

// ---------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------

/// The encoding thresholds as the configuration holds them now.
fn limits(ctx: &Ctx<'_>) -> SetLimits {
    let s = &ctx.store.settings;
    SetLimits {
        intset_entries: s.set_max_intset_entries.load(Ordering::Relaxed),
        listpack_entries: s.set_max_listpack_entries.load(Ordering::Relaxed),
        listpack_value: s.set_max_listpack_value.load(Ordering::Relaxed),
    }
}

/// A new key holding `set`.
fn set_entry(key: &[u8], set: Set) -> Entry {
    Entry::new(key, NewValue::Object(Box::new(Object::Set(set))), None)
}

/// The set an entry holds (the caller checked the type).
fn as_set(e: &Entry) -> Option<&Set> {
    match e.as_object() {
        Some(Object::Set(s)) => Some(s),
        _ => None,
    }
}

/// The set an entry holds, mutably.
fn as_set_mut(e: &mut Entry) -> Option<&mut Set> {
    match e.as_object_mut() {
        Some(Object::Set(s)) => Some(s),
        _ => None,
    }
}

/// Writes one member as a bulk string.
fn reply_elem(out: &mut ReplyBuf, e: Elem<'_>) {
    match e {
        Elem::Int(n) => out.bulk_int(n),
        Elem::Str(b) => out.bulk(b),
    }
}

/// Writes a whole set as a set reply (an array in RESP2).
fn reply_set(out: &mut ReplyBuf, s: &Set) {
    out.set(s.len());
    s.for_each_elem(|e| reply_elem(out, e));
}

// ---------------------------------------------------------------------------
// Single-key commands
// ---------------------------------------------------------------------------

/// SADD key member [member ...]
fn sadd(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let members = &ctx.args[2..];
    let l = limits(ctx);
    let mut ks = ctx.key(key);
    // WATCH sees the key changed only when a member was added.
    let found = ks.lookup(key, Lookup::WRITE);
    if found
        .as_ref()
        .is_some_and(|e| e.value_type() != ValueType::Set)
    {
        drop(found);
        drop(ks);
        ctx.out.error(errors::WRONGTYPE);
        return;
    }
    let existing = found.map(|mut e| match as_set_mut(&mut e) {
        Some(s) => {
            s.maybe_convert(members.len(), &l);
            members.iter().filter(|m| s.add(m, &l)).count()
        }
        None => 0,
    });
    if existing.is_some_and(|n| n > 0) {
        ks.touch_watched(key);
    }
    let added = match existing {
        Some(n) => n,
        None => {
            let mut s = Set::create(members[0], members.len(), &l);
            let n = members.iter().filter(|m| s.add(m, &l)).count();
            ks.add(set_entry(key, s));
            n
        }
    };
    drop(ks);
    ctx.store.add_dirty(added as u64);
    ctx.out.int(added as i64);
}

/// SREM key member [member ...]: deletes the key with its last member.
fn srem(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let members = &ctx.args[2..];
    let mut ks = ctx.key(key);
    let outcome = match ks.lookup(key, Lookup::WRITE) {
        None => Some((0, false)),
        Some(mut e) => as_set_mut(&mut e).map(|s| {
            let mut deleted = 0;
            for m in members {
                if s.remove(m) {
                    deleted += 1;
                    if s.is_empty() {
                        break;
                    }
                }
            }
            (deleted, s.is_empty())
        }),
    };
    let Some((deleted, emptied)) = outcome else {
        drop(ks);
        ctx.out.error(errors::WRONGTYPE);
        return;
    };
    if deleted > 0 {
        ks.touch_watched(key);
    }
    if emptied {
        ks.remove(key);
    }
    drop(ks);
    ctx.store.add_dirty(deleted);
    ctx.out.int(deleted as i64);
}

/// SMOVE source destination member
fn smove(ctx: &mut Ctx<'_>) {
    let (src, dst, member) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let l = limits(ctx);
    let mut ks = ctx.keys(&[src, dst]);
    // Both lookups first, as Redis's (each may expire its key). WATCH sees
    // only the keys that change: a member the destination already has
    // leaves it untouched.
    let src_type = ks.lookup(src, Lookup::WRITE).map(|e| e.value_type());
    let dst_type = ks.lookup(dst, Lookup::WRITE).map(|e| e.value_type());
    let Some(src_type) = src_type else {
        drop(ks);
        ctx.out.int(0);
        return;
    };
    if src_type != ValueType::Set || dst_type.is_some_and(|t| t != ValueType::Set) {
        drop(ks);
        ctx.out.error(errors::WRONGTYPE);
        return;
    }
    if src == dst {
        let is_member = ks
            .peek(src)
            .is_some_and(|e| as_set(&e).is_some_and(|s| s.contains(member)));
        drop(ks);
        ctx.out.int(i64::from(is_member));
        return;
    }
    let (removed, emptied) = match ks.lookup(src, Lookup::WRITE) {
        Some(mut e) => match as_set_mut(&mut e) {
            Some(s) => (s.remove(member), s.is_empty()),
            None => (false, false),
        },
        None => (false, false),
    };
    if !removed {
        drop(ks);
        ctx.out.int(0);
        return;
    }
    ks.touch_watched(src);
    if emptied {
        ks.remove(src);
    }
    let mut dirty = 1;
    let existing = ks
        .lookup(dst, Lookup::WRITE)
        .map(|mut e| as_set_mut(&mut e).is_some_and(|s| s.add(member, &l)));
    let added = match existing {
        Some(added) => added,
        None => {
            let mut s = Set::create(member, 1, &l);
            s.add(member, &l);
            ks.add(set_entry(dst, s));
            true
        }
    };
    if added {
        dirty += 1;
        ks.touch_watched(dst);
    }
    drop(ks);
    ctx.store.add_dirty(dirty);
    ctx.out.int(1);
}

/// SISMEMBER key member
fn sismember(ctx: &mut Ctx<'_>) {
    let (key, member) = (ctx.arg(1), ctx.arg(2));
    let mut ks = ctx.key(key);
    let r = ks
        .read_typed(key, ValueType::Set)
        .map(|e| e.is_some_and(|e| as_set(&e).is_some_and(|s| s.contains(member))));
    drop(ks);
    match r {
        Ok(b) => ctx.out.int(i64::from(b)),
        Err(e) => ctx.out.error(e),
    }
}

/// SMISMEMBER key member [member ...]: a missing key is an empty set.
fn smismember(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let members = &ctx.args[2..];
    let mut ks = ctx.key(key);
    let found = match ks.read_typed(key, ValueType::Set) {
        Err(e) => {
            ctx.out.error(e);
            return;
        }
        Ok(e) => e,
    };
    let set = found.as_deref().and_then(as_set);
    ctx.out.array(members.len());
    for m in members {
        ctx.out.int(i64::from(set.is_some_and(|s| s.contains(m))));
    }
}

/// SCARD key
fn scard(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let r = ks
        .read_typed(key, ValueType::Set)
        .map(|e| e.and_then(|e| as_set(&e).map(Set::len)).unwrap_or(0));
    drop(ks);
    match r {
        Ok(n) => ctx.out.int(n as i64),
        Err(e) => ctx.out.error(e),
    }
}

/// SMEMBERS key: a set reply, empty for a missing key.
fn smembers(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    match ks.read_typed(key, ValueType::Set) {
        Err(e) => ctx.out.error(e),
        Ok(None) => ctx.out.set(0),
        Ok(Some(e)) => match as_set(&e) {
            Some(s) => reply_set(ctx.out, s),
            None => ctx.out.set(0),
        },
    }
}

/// SPOP key [count]
fn spop(ctx: &mut Ctx<'_>) {
    match ctx.argc() {
        3 => return spop_count(ctx),
        n if n > 3 => return ctx.out.error(errors::SYNTAX),
        _ => {}
    }
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let popped = match ks.write_typed(key, ValueType::Set) {
        Err(e) => {
            ctx.out.error(e);
            return;
        }
        Ok(None) => None,
        Ok(Some(mut e)) => as_set_mut(&mut e)
            .and_then(|s| s.pop_random(fastrand::u64(..)).map(|m| (m, s.is_empty()))),
    };
    let Some((member, emptied)) = popped else {
        drop(ks);
        ctx.out.null();
        return;
    };
    if emptied {
        ks.remove(key);
    }
    drop(ks);
    ctx.store.add_dirty(1);
    ctx.out.bulk(&member);
    // The random pick is propagated as the SREM of what was picked.
    ctx.propagate(&[&b"SREM"[..], key, &member]);
}

/// SPOP key count: a set reply (an array in RESP2) of distinct members.
fn spop_count(ctx: &mut Ctx<'_>) {
    let Some(count) = parse_i64(ctx.arg(2)).filter(|&n| n >= 0) else {
        ctx.out.error(errors::MUST_BE_POSITIVE);
        return;
    };
    let count = count as u64;
    let key = ctx.arg(1);
    let l = limits(ctx);
    let mut ks = ctx.key(key);
    let mut entry = match ks.write_typed(key, ValueType::Set) {
        Err(e) => {
            ctx.out.error(e);
            return;
        }
        Ok(None) => {
            ctx.out.set(0);
            return;
        }
        Ok(Some(e)) => e,
    };
    if count == 0 {
        drop(entry);
        drop(ks);
        ctx.out.set(0);
        return;
    }
    let Some(s) = as_set_mut(&mut entry) else {
        return;
    };
    let size = s.len();
    if count >= size as u64 {
        // The whole set, in its order; the key goes.
        reply_set(ctx.out, s);
        drop(entry);
        ks.remove(key);
        drop(ks);
        ctx.store.add_dirty(size as u64);
        // Propagated as the deletion of the key (Redis's
        // spopWithCountCommand, case 1).
        ctx.propagate(&[rewrite::server_del(ctx.store), key]);
        return;
    }
    let count = count as usize;
    // Redis's strategies (see `Set::pop_many`) pick what is popped and
    // the encoding of what stays.
    let popped = s.pop_many(count, &l);
    drop(entry);
    drop(ks);
    ctx.store.add_dirty(count as u64);
    ctx.out.set(popped.len());
    for m in &popped {
        ctx.out.bulk(m);
    }
    // Propagated as SREMs of what was popped, in the reply's order, at
    // most 1024 members each (Redis's spopWithCountCommand).
    if ctx.propagating() {
        for batch in popped.chunks(SPOP_SREM_BATCH) {
            let mut argv: Vec<&[u8]> = Vec::with_capacity(2 + batch.len());
            argv.push(b"SREM");
            argv.push(key);
            argv.extend(batch.iter().map(|m| &m[..]));
            ctx.propagate(&argv);
        }
    }
}

/// The most members one SREM propagated for SPOP with a count removes.
const SPOP_SREM_BATCH: usize = 1024;

/// SRANDMEMBER key [count]
fn srandmember(ctx: &mut Ctx<'_>) {
    match ctx.argc() {
        3 => return srandmember_count(ctx),
        n if n > 3 => return ctx.out.error(errors::SYNTAX),
        _ => {}
    }
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    match ks.read_typed(key, ValueType::Set) {
        Err(e) => ctx.out.error(e),
        Ok(None) => ctx.out.null(),
        Ok(Some(e)) => match as_set(&e).and_then(|s| s.random(fastrand::u64(..))) {
            Some(m) => reply_elem(ctx.out, m),
            None => ctx.out.null(),
        },
    }
}

/// SRANDMEMBER key count: distinct members for a positive count (at most
/// the whole set), `|count|` members with repeats for a negative one.
fn srandmember_count(ctx: &mut Ctx<'_>) {
    let Some(n) = ctx.int_arg(2) else {
        return;
    };
    if n == i64::MIN {
        ctx.out.error(SRANDMEMBER_RANGE);
        return;
    }
    let (count, unique) = (n.unsigned_abs(), n >= 0);
    let key = ctx.arg(1);
    let max_reply = ctx
        .store
        .settings
        .proto_max_bulk_len
        .load(Ordering::Relaxed);
    let mut ks = ctx.key(key);
    let found = match ks.read_typed(key, ValueType::Set) {
        Err(e) => {
            ctx.out.error(e);
            return;
        }
        Ok(e) => e,
    };
    let Some(s) = found.as_deref().and_then(as_set) else {
        drop(found);
        drop(ks);
        ctx.out.array(0);
        return;
    };
    if count == 0 {
        ctx.out.array(0);
        return;
    }
    if !unique || count == 1 {
        if count.saturating_mul(MIN_ELEMENT_REPLY) > max_reply {
            ctx.out.error(REPLY_TOO_LARGE);
            return;
        }
        ctx.out.array(count as usize);
        for _ in 0..count {
            if let Some(m) = s.random(fastrand::u64(..)) {
                reply_elem(ctx.out, m);
            }
        }
        return;
    }
    if count >= s.len() as u64 {
        ctx.out.array(s.len());
        s.for_each_elem(|e| reply_elem(ctx.out, e));
        return;
    }
    let picked = s.sample_distinct(count as usize);
    ctx.out.array(picked.len());
    for m in &picked {
        ctx.out.bulk(m);
    }
}

// ---------------------------------------------------------------------------
// SINTER, SINTERCARD, SINTERSTORE
// ---------------------------------------------------------------------------

/// Looks up every input as Redis's loops do (read lookups in argument
/// order; WRONGTYPE replied and `Err` returned at the first key of another
/// type). Returns whether each key exists.
fn lookup_inputs(
    ctx: &mut Ctx<'_>,
    ks: &mut crate::Keyspace<'_>,
    keys: &[&[u8]],
) -> Result<Vec<bool>, ()> {
    let mut present = Vec::with_capacity(keys.len());
    for k in keys {
        match ks.read_typed(k, ValueType::Set) {
            Err(e) => {
                ctx.out.error(e);
                return Err(());
            }
            Ok(e) => present.push(e.is_some()),
        }
    }
    Ok(present)
}

/// Shared borrows of the input sets (each `None` for a missing key).
fn borrow_inputs<'k>(
    ks: &'k crate::Keyspace<'_>,
    keys: &[&[u8]],
    present: &[bool],
) -> Vec<Option<Ref<'k, Entry>>> {
    keys.iter()
        .zip(present)
        .map(|(k, &p)| if p { ks.peek(k) } else { None })
        .collect()
}

/// What the intersection produces.
enum InterOut {
    /// SINTER: the reply.
    Reply,
    /// SINTERCARD: the count, stopping at the limit (0 = none).
    Card(usize),
    /// SINTERSTORE: a new set for the destination.
    Store,
}

fn sinter(ctx: &mut Ctx<'_>) {
    let keys: Vec<&[u8]> = ctx.args[1..].to_vec();
    sinter_generic(ctx, &keys, None, None);
}

fn sinterstore(ctx: &mut Ctx<'_>) {
    let keys: Vec<&[u8]> = ctx.args[2..].to_vec();
    let dst = ctx.arg(1);
    sinter_generic(ctx, &keys, Some(dst), None);
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut Ctx<'_>) {
    let numkeys = match parse_i64(ctx.arg(1)) {
        Some(n) if n >= 1 => n as u64,
        _ => {
            ctx.out.error(errors::NUMKEYS_POSITIVE);
            return;
        }
    };
    if numkeys > (ctx.argc() - 2) as u64 {
        ctx.out.error(TOO_MANY_KEYS);
        return;
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < ctx.argc() {
        let more = ctx.argc() - 1 - j;
        if ctx.arg_is(j, "LIMIT") && more > 0 {
            j += 1;
            match parse_i64(ctx.arg(j)) {
                Some(n) if n >= 0 => limit = usize::try_from(n).unwrap_or(usize::MAX),
                _ => {
                    ctx.out.error(errors::LIMIT_NEGATIVE);
                    return;
                }
            }
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    let keys: Vec<&[u8]> = ctx.args[2..2 + numkeys].to_vec();
    sinter_generic(ctx, &keys, None, Some(limit));
}

/// Redis's `sinterGenericCommand`: `dst` for SINTERSTORE, `card_limit` for
/// SINTERCARD.
fn sinter_generic(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    dst: Option<&[u8]>,
    card_limit: Option<usize>,
) {
    let mode = match (dst, card_limit) {
        (Some(_), _) => InterOut::Store,
        (None, Some(l)) => InterOut::Card(l),
        (None, None) => InterOut::Reply,
    };
    let l = limits(ctx);
    let mut all: Vec<&[u8]> = keys.to_vec();
    if let Some(d) = dst {
        all.push(d);
    }
    let mut ks = ctx.keys(&all);
    let Ok(present) = lookup_inputs(ctx, &mut ks, keys) else {
        return;
    };
    if present.iter().any(|&p| !p) {
        // An intersection with an empty set is empty.
        match (mode, dst) {
            (InterOut::Store, Some(d)) => {
                let removed = ks.remove(d).is_some();
                drop(ks);
                if removed {
                    ctx.store.add_dirty(1);
                }
                ctx.out.int(0);
            }
            (InterOut::Card(_), _) => ctx.out.int(0),
            _ => ctx.out.set(0),
        }
        return;
    }
    let refs = borrow_inputs(&ks, keys, &present);
    let mut sets: Vec<&Set> = refs
        .iter()
        .filter_map(|r| r.as_deref().and_then(as_set))
        .collect();
    if sets.len() != keys.len() {
        drop(refs);
        drop(ks);
        ctx.out.set(0);
        return;
    }
    // Smallest first; a stable sort keeps ties in argument order.
    sets.sort_by_key(|s| s.len());
    let first = sets[0];
    let in_all = |e: Elem<'_>| {
        sets[1..]
            .iter()
            .all(|s| std::ptr::eq(*s, first) || s.contains_elem(e))
    };
    match mode {
        InterOut::Card(limit) => {
            let mut n = 0usize;
            let mut stop = false;
            first.for_each_elem(|e| {
                if !stop && in_all(e) {
                    n += 1;
                    if limit != 0 && n >= limit {
                        stop = true;
                    }
                }
            });
            drop(refs);
            drop(ks);
            ctx.out.int(n as i64);
        }
        InterOut::Reply => {
            let at = ctx.out.deferred();
            let mut n = 0usize;
            first.for_each_elem(|e| {
                if in_all(e) {
                    reply_elem(ctx.out, e);
                    n += 1;
                }
            });
            drop(refs);
            drop(ks);
            ctx.out.set_deferred_set(at, n);
        }
        InterOut::Store => {
            let mut result = if first.is_intset() {
                Set::new_intset()
            } else {
                Set::new_listpack()
            };
            let mut only_integers = true;
            first.for_each_elem(|e| {
                if in_all(e) {
                    if only_integers && e.as_int().is_none() {
                        only_integers = false;
                    }
                    result.add_elem(e, &l);
                }
            });
            drop(refs);
            let Some(d) = dst else { return };
            store_result(ctx, ks, d, result, only_integers, &l);
        }
    }
}

/// Stores a *STORE result (or deletes the destination when it is empty)
/// and replies with its size.
fn store_result(
    ctx: &mut Ctx<'_>,
    mut ks: crate::Keyspace<'_>,
    dst: &[u8],
    mut result: Set,
    only_integers: bool,
    l: &SetLimits,
) {
    if result.is_empty() {
        let removed = ks.remove(dst).is_some();
        drop(ks);
        if removed {
            ctx.store.add_dirty(1);
        }
        ctx.out.int(0);
        return;
    }
    if only_integers {
        result.maybe_convert_to_intset(l);
    }
    result.shrink_to_fit();
    let n = result.len();
    let old = ks.set(set_entry(dst, result), false);
    drop(ks);
    drop(old);
    ctx.store.add_dirty(1);
    ctx.out.int(n as i64);
}

// ---------------------------------------------------------------------------
// SUNION, SDIFF and their STORE forms
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

fn sunion(ctx: &mut Ctx<'_>) {
    let keys: Vec<&[u8]> = ctx.args[1..].to_vec();
    sunion_diff_generic(ctx, &keys, None, SetOp::Union);
}

fn sunionstore(ctx: &mut Ctx<'_>) {
    let keys: Vec<&[u8]> = ctx.args[2..].to_vec();
    let dst = ctx.arg(1);
    sunion_diff_generic(ctx, &keys, Some(dst), SetOp::Union);
}

fn sdiff(ctx: &mut Ctx<'_>) {
    let keys: Vec<&[u8]> = ctx.args[1..].to_vec();
    sunion_diff_generic(ctx, &keys, None, SetOp::Diff);
}

fn sdiffstore(ctx: &mut Ctx<'_>) {
    let keys: Vec<&[u8]> = ctx.args[2..].to_vec();
    let dst = ctx.arg(1);
    sunion_diff_generic(ctx, &keys, Some(dst), SetOp::Diff);
}

/// Redis's `sunionDiffGenericCommand`.
fn sunion_diff_generic(ctx: &mut Ctx<'_>, keys: &[&[u8]], dst: Option<&[u8]>, op: SetOp) {
    let l = limits(ctx);
    let mut all: Vec<&[u8]> = keys.to_vec();
    if let Some(d) = dst {
        all.push(d);
    }
    let mut ks = ctx.keys(&all);
    let Ok(present) = lookup_inputs(ctx, &mut ks, keys) else {
        return;
    };
    let refs = borrow_inputs(&ks, keys, &present);
    let mut sets: Vec<Option<&Set>> = refs.iter().map(|r| r.as_deref().and_then(as_set)).collect();
    // Without a destination the result is an intset only if every input
    // is one; a *STORE result starts as an intset and converts as it grows.
    let all_intsets = sets.iter().flatten().all(|s| s.is_intset());
    let mut result = if dst.is_some() || all_intsets {
        Set::new_intset()
    } else {
        Set::new_table()
    };
    let same = |a: Option<&Set>, b: Option<&Set>| matches!((a, b), (Some(x), Some(y)) if std::ptr::eq(x, y));
    let sameset = sets[1..].iter().any(|s| same(sets[0], *s));
    match op {
        SetOp::Union => {
            for s in sets.iter().flatten() {
                s.for_each_elem(|e| {
                    result.add_elem(e, &l);
                });
            }
        }
        SetOp::Diff if sameset => {}
        SetOp::Diff => {
            if let Some(first) = sets[0] {
                // Redis's work estimate picks the algorithm (their paths
                // reach different encodings on the way).
                let present_n = sets.iter().flatten().count() as u64;
                let algo_one = present_n * first.len() as u64 / 2;
                let algo_two: u64 = sets.iter().flatten().map(|s| s.len() as u64).sum();
                if algo_one <= algo_two {
                    if sets.len() > 1 {
                        sets[1..].sort_by_key(|s| std::cmp::Reverse(s.map_or(0, Set::len)));
                    }
                    let others = &sets[1..];
                    first.for_each_elem(|e| {
                        if !others.iter().flatten().any(|s| s.contains_elem(e)) {
                            result.add_elem(e, &l);
                        }
                    });
                } else {
                    first.for_each_elem(|e| {
                        result.add_elem(e, &l);
                    });
                    for s in sets[1..].iter().flatten() {
                        if result.is_empty() {
                            break;
                        }
                        s.for_each_elem(|e| {
                            result.remove_elem(e);
                        });
                    }
                }
            }
        }
    }
    drop(refs);
    match dst {
        None => {
            reply_set(ctx.out, &result);
        }
        Some(d) => store_result(ctx, ks, d, result, false, &l),
    }
}

// ---------------------------------------------------------------------------
// SSCAN
// ---------------------------------------------------------------------------

/// SSCAN key cursor [MATCH pattern] [COUNT count]
///
/// As Redis's `scanGenericCommand`: the cursor is checked first, then the
/// key (a missing key is an empty, finished scan whatever the options),
/// then the options. A compact set comes back whole with cursor 0; a
/// hashtable is walked home slot by home slot with the reverse-binary
/// cursor until COUNT members were seen or ten times COUNT slots visited.
fn sscan(ctx: &mut Ctx<'_>) {
    let Some(cursor) = super::scan_args::cursor_arg(ctx, 2) else {
        return;
    };
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let found = match ks.read_typed(key, ValueType::Set) {
        Err(e) => {
            ctx.out.error(e);
            return;
        }
        Ok(None) => {
            ctx.out.array(2);
            ctx.out.bulk(b"0");
            ctx.out.array(0);
            return;
        }
        Ok(Some(e)) => e,
    };
    let Some(super::scan_args::ScanArgs { count, pattern, .. }) =
        super::scan_args::parse(ctx, 3, super::scan_args::ScanOf::Set)
    else {
        return;
    };
    let Some(s) = as_set(&found) else {
        return;
    };
    let mut items = ReplyBuf::new();
    let mut n = 0usize;
    let mut keep = |e: Elem<'_>| {
        let matched = match pattern {
            None => true,
            Some(p) => e.with_bytes(|b| glob_match(p, b, false)),
        };
        if matched {
            reply_elem(&mut items, e);
            n += 1;
        }
    };
    let next = if s.is_table() {
        let mut sampled: i64 = 0;
        let mut cur = cursor;
        let mut max_iterations = count.saturating_mul(10);
        loop {
            cur = s.scan(cur, |e| {
                sampled += 1;
                keep(e);
            });
            let more = max_iterations > 0;
            max_iterations -= 1;
            if cur == 0 || !more || sampled >= count {
                break;
            }
        }
        cur
    } else {
        s.scan(0, &mut keep)
    };
    drop(found);
    drop(ks);
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(n);
    ctx.out.raw(items.as_bytes());
}
