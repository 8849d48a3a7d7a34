//! The commands of lists (Redis's `t_list.c`).
//!
//! Every handler makes its checks in the order of its Redis counterpart, so
//! that a request with several faults gets the same error: LRANGE, LTRIM
//! and LREM parse their numbers before looking at the key, LINDEX and LSET
//! look at the key first; LPOS parses all its options first; LMOVE parses
//! its directions, BLMOVE its directions then its timeout, BLMPOP its
//! numkeys, direction and COUNT before its timeout.
//!
//! Encodings follow Redis 7.2+ (see `viator_types::list`): before adding,
//! a `listpack` that would pass `list-max-listpack-size` becomes a
//! `quicklist` (`listTypeTryConversionAppend`); after removing, a one-node
//! quicklist at most half the limit becomes a listpack again.
//!
//! The blocking commands serve at once when they can; otherwise they call
//! [`Ctx::block_on_keys`] and write nothing else: the blocking machinery
//! runs them again from the start when a key is signalled, as Redis 7
//! re-processes a blocked command. Every write that adds elements signals
//! its key with [`Ctx::signal_ready`].

use std::sync::atomic::Ordering;

use viator_types::entry::{Entry, NewValue, Object, ValueType};
use viator_types::list::{Elem, End, List, Needle};
use viator_types::number::parse_i64;

use super::rewrite;
use crate::blocking::{BlockedOn, TimeoutReply};
use crate::command::{BeginSearch, CommandSpec, Ctx, FindKeys, KeySpec, acl, flags};
use crate::errors;
use crate::keyspace::Keyspace;

/// LSET on an index outside the list.
const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
/// LPOS RANK 0.
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
/// LPOS RANK i64::MIN (its negation would overflow).
const RANK_OUT_OF_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/// LPOS COUNT below zero or not a number.
const COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
/// LPOS MAXLEN below zero or not a number.
const MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";

const PUSH_COMPLEXITY: &str = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";
const POP_COMPLEXITY: &str = "O(N) where N is the number of elements returned";
const MPOP_COMPLEXITY: &str =
    "O(N+M) where N is the number of provided keys and M is the number of elements returned.";
const BPOP_COMPLEXITY: &str = "O(N) where N is the number of provided keys.";
const RW_INSERT: &[KeySpec] = &[KeySpec::single(1, &["RW", "INSERT"])];
const RW_ACCESS_DELETE: &[KeySpec] = &[KeySpec::single(1, &["RW", "ACCESS", "DELETE"])];
const RO_ACCESS: &[KeySpec] = &[KeySpec::single(1, &["RO", "ACCESS"])];
const RW_DELETE: &[KeySpec] = &[KeySpec::single(1, &["RW", "DELETE"])];
const MOVE_KEYS: &[KeySpec] = &[
    KeySpec::single(1, &["RW", "ACCESS", "DELETE"]),
    KeySpec::single(2, &["RW", "INSERT"]),
];
const WRITE_FAST: u64 = flags::WRITE | flags::DENYOOM | flags::FAST;
const PUSH_HISTORY: &[(&str, &str)] = &[("2.4.0", "Accepts multiple `element` arguments.")];
const PUSHX_HISTORY: &[(&str, &str)] = &[("4.0.0", "Accepts multiple `element` arguments.")];
const POP_HISTORY: &[(&str, &str)] = &[("6.2.0", "Added the `count` argument.")];
const TIMEOUT_HISTORY: &[(&str, &str)] = &[(
    "6.0.0",
    "`timeout` is interpreted as a double instead of an integer.",
)];
const MOVE_ARGS: &str =
    "source:key destination:key wherefrom:(LEFT | RIGHT) whereto:(LEFT | RIGHT)";

const fn mpop_keys(index: i32) -> &'static [KeySpec] {
    if index == 1 {
        &[KeySpec {
            flags: &["RW", "ACCESS", "DELETE"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
            notes: "",
        }]
    } else {
        &[KeySpec {
            flags: &["RW", "ACCESS", "DELETE"],
            begin: BeginSearch::Index(2),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
            notes: "",
        }]
    }
}

/// This family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "blmove",
        arity: 6,
        flags: flags::WRITE | flags::DENYOOM | flags::NOSCRIPT | flags::BLOCKING,
        acl: acl::LIST,
        keys: MOVE_KEYS,
        group: "list",
        summary: "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.",
        since: "6.2.0",
        complexity: "O(1)",
        args: "source:key destination:key wherefrom:(LEFT | RIGHT) whereto:(LEFT | RIGHT) timeout:double",
        handler: Some(blmove),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "blmpop",
        arity: -5,
        flags: flags::WRITE | flags::BLOCKING,
        acl: acl::LIST,
        keys: mpop_keys(2),
        group: "list",
        summary: "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        since: "7.0.0",
        complexity: MPOP_COMPLEXITY,
        args: "timeout:double numkeys:integer key:key... where:(LEFT | RIGHT) [COUNT=count:integer]",
        handler: Some(blmpop),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "blpop",
        arity: -3,
        flags: flags::WRITE | flags::NOSCRIPT | flags::BLOCKING,
        acl: acl::LIST,
        keys: &[KeySpec::range(1, -2, 1, &["RW", "ACCESS", "DELETE"])],
        group: "list",
        summary: "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        since: "2.0.0",
        complexity: BPOP_COMPLEXITY,
        args: "key:key... timeout:double",
        history: TIMEOUT_HISTORY,
        handler: Some(blpop),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "brpop",
        arity: -3,
        flags: flags::WRITE | flags::NOSCRIPT | flags::BLOCKING,
        acl: acl::LIST,
        keys: &[KeySpec::range(1, -2, 1, &["RW", "ACCESS", "DELETE"])],
        group: "list",
        summary: "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        since: "2.0.0",
        complexity: BPOP_COMPLEXITY,
        args: "key:key... timeout:double",
        history: TIMEOUT_HISTORY,
        handler: Some(brpop),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "brpoplpush",
        arity: 4,
        flags: flags::WRITE | flags::DENYOOM | flags::NOSCRIPT | flags::BLOCKING,
        acl: acl::LIST,
        keys: MOVE_KEYS,
        group: "list",
        summary: "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.",
        since: "2.2.0",
        complexity: "O(1)",
        args: "source:key destination:key timeout:double",
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`BLMOVE` with the `RIGHT` and `LEFT` arguments",
        history: TIMEOUT_HISTORY,
        handler: Some(brpoplpush),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lindex",
        arity: 3,
        flags: flags::READONLY,
        acl: acl::LIST,
        keys: RO_ACCESS,
        group: "list",
        summary: "Returns an element from a list by its index.",
        complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
        args: "key:key index:integer",
        handler: Some(lindex),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "linsert",
        arity: 5,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::LIST,
        keys: RW_INSERT,
        group: "list",
        summary: "Inserts an element before or after another element in a list.",
        since: "2.2.0",
        complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
        args: "key:key where:(BEFORE | AFTER) pivot:string element:string",
        handler: Some(linsert),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "llen",
        arity: 2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::LIST,
        keys: &[KeySpec::single(1, &["RO"])],
        group: "list",
        summary: "Returns the length of a list.",
        complexity: "O(1)",
        args: "key:key",
        handler: Some(llen),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lmove",
        arity: 5,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::LIST,
        keys: MOVE_KEYS,
        group: "list",
        summary: "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
        since: "6.2.0",
        complexity: "O(1)",
        args: MOVE_ARGS,
        handler: Some(lmove),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lmpop",
        arity: -4,
        flags: flags::WRITE,
        acl: acl::LIST,
        keys: mpop_keys(1),
        group: "list",
        summary: "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
        since: "7.0.0",
        complexity: MPOP_COMPLEXITY,
        args: "numkeys:integer key:key... where:(LEFT | RIGHT) [COUNT=count:integer]",
        handler: Some(lmpop),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lpop",
        arity: -2,
        flags: flags::WRITE | flags::FAST,
        acl: acl::LIST,
        keys: RW_ACCESS_DELETE,
        group: "list",
        summary: "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
        complexity: POP_COMPLEXITY,
        args: "key:key [count:integer@6.2.0]",
        history: POP_HISTORY,
        handler: Some(lpop),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lpos",
        arity: -3,
        flags: flags::READONLY,
        acl: acl::LIST,
        keys: RO_ACCESS,
        group: "list",
        summary: "Returns the index of matching elements in a list.",
        since: "6.0.6",
        complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
        args: "key:key element:string [RANK=rank:integer] [COUNT=num-matches:integer] [MAXLEN=len:integer]",
        handler: Some(lpos),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lpush",
        arity: -3,
        flags: WRITE_FAST,
        acl: acl::LIST,
        keys: RW_INSERT,
        group: "list",
        summary: "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
        complexity: PUSH_COMPLEXITY,
        args: "key:key element:string...",
        history: PUSH_HISTORY,
        handler: Some(lpush),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lpushx",
        arity: -3,
        flags: WRITE_FAST,
        acl: acl::LIST,
        keys: RW_INSERT,
        group: "list",
        summary: "Prepends one or more elements to a list only when the list exists.",
        since: "2.2.0",
        complexity: PUSH_COMPLEXITY,
        args: "key:key element:string...",
        history: PUSHX_HISTORY,
        handler: Some(lpushx),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lrange",
        arity: 4,
        flags: flags::READONLY,
        acl: acl::LIST,
        keys: RO_ACCESS,
        group: "list",
        summary: "Returns a range of elements from a list.",
        complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
        args: "key:key start:integer stop:integer",
        handler: Some(lrange),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lrem",
        arity: 4,
        flags: flags::WRITE,
        acl: acl::LIST,
        keys: RW_DELETE,
        group: "list",
        summary: "Removes elements from a list. Deletes the list if the last element was removed.",
        complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
        args: "key:key count:integer element:string",
        handler: Some(lrem),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lset",
        arity: 4,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::LIST,
        keys: &[KeySpec::single(1, &["RW", "UPDATE"])],
        group: "list",
        summary: "Sets the value of an element in a list by its index.",
        complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
        args: "key:key index:integer element:string",
        handler: Some(lset),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "ltrim",
        arity: 4,
        flags: flags::WRITE,
        acl: acl::LIST,
        keys: RW_DELETE,
        group: "list",
        summary: "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
        complexity: "O(N) where N is the number of elements to be removed by the operation.",
        args: "key:key start:integer stop:integer",
        handler: Some(ltrim),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rpop",
        arity: -2,
        flags: flags::WRITE | flags::FAST,
        acl: acl::LIST,
        keys: RW_ACCESS_DELETE,
        group: "list",
        summary: "Returns and removes the last elements of the list. Deletes the list if the last element was popped.",
        complexity: POP_COMPLEXITY,
        args: "key:key [count:integer@6.2.0]",
        history: POP_HISTORY,
        handler: Some(rpop),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rpoplpush",
        arity: 3,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::LIST,
        keys: MOVE_KEYS,
        group: "list",
        summary: "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.",
        since: "1.2.0",
        complexity: "O(1)",
        args: "source:key destination:key",
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`LMOVE` with the `RIGHT` and `LEFT` arguments",
        handler: Some(rpoplpush),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rpush",
        arity: -3,
        flags: WRITE_FAST,
        acl: acl::LIST,
        keys: RW_INSERT,
        group: "list",
        summary: "Appends one or more elements to a list. Creates the key if it doesn't exist.",
        complexity: PUSH_COMPLEXITY,
        args: "key:key element:string...",
        history: PUSH_HISTORY,
        handler: Some(rpush),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rpushx",
        arity: -3,
        flags: WRITE_FAST,
        acl: acl::LIST,
        keys: RW_INSERT,
        group: "list",
        summary: "Appends an element to a list only when the list exists.",
        since: "2.2.0",
        complexity: PUSH_COMPLEXITY,
        args: "key:key element:string...",
        history: PUSHX_HISTORY,
        handler: Some(rpushx),
        ..CommandSpec::DEFAULT
    },
];

// ---------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------

/// Whether an option argument is `word`, ignoring ASCII case; like Redis's
/// `strcasecmp` on a C string, only the bytes before a NUL count.
fn is_token(arg: &[u8], word: &str) -> bool {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    arg[..end].eq_ignore_ascii_case(word.as_bytes())
}

/// The current `list-max-listpack-size`.
fn fill(ctx: &Ctx<'_>) -> i64 {
    ctx.store
        .settings
        .list_max_listpack_size
        .load(Ordering::Relaxed)
}

/// The current `list-compress-depth`, which a list converted to a
/// quicklist now keeps for life.
fn depth(ctx: &Ctx<'_>) -> i64 {
    ctx.store
        .settings
        .list_compress_depth
        .load(Ordering::Relaxed)
}

/// The list inside an entry typed as a list.
fn list_mut(e: &mut Entry) -> Option<&mut List> {
    match e.as_object_mut() {
        Some(Object::List(l)) => Some(l),
        _ => None,
    }
}

fn list_ref(e: &Entry) -> Option<&List> {
    match e.as_object() {
        Some(Object::List(l)) => Some(l),
        _ => None,
    }
}

/// A new list entry.
fn list_entry(key: &[u8], list: List) -> Entry {
    Entry::new(key, NewValue::Object(Box::new(Object::List(list))), None)
}

fn reply_elem(ctx: &mut Ctx<'_>, e: Elem<'_>) {
    match e {
        Elem::Bytes(b) => ctx.out.bulk(b),
        Elem::Int(n) => ctx.out.bulk_int(n),
    }
}

/// LEFT or RIGHT (`getListPositionFromObjectOrReply`).
fn position_arg(ctx: &mut Ctx<'_>, i: usize) -> Option<End> {
    let a = ctx.arg(i);
    if is_token(a, "right") {
        Some(End::Tail)
    } else if is_token(a, "left") {
        Some(End::Head)
    } else {
        ctx.out.error(errors::SYNTAX);
        None
    }
}

/// An integer argument in `min..=max`, or `msg` (for a bad number too) as
/// Redis's `getRangeLongFromObjectOrReply` with a message.
fn range_arg(ctx: &mut Ctx<'_>, i: usize, min: i64, max: i64, msg: &str) -> Option<i64> {
    match parse_i64(ctx.arg(i)) {
        Some(v) if (min..=max).contains(&v) => Some(v),
        _ => {
            ctx.out.error(msg);
            None
        }
    }
}

/// Removes the list at `key` if it is empty, or tries the shrinking
/// conversion (Redis's `listElementsRemoved`).
fn after_removal(ks: &mut Keyspace<'_>, key: &[u8], fill: i64) {
    let empty = match ks.write(key) {
        Some(mut e) => match list_mut(&mut e) {
            Some(l) if l.is_empty() => true,
            Some(l) => {
                l.shrink_check(fill);
                false
            }
            None => false,
        },
        None => false,
    };
    if empty {
        ks.remove(key);
    }
}

/// Writes elements `from..from+n` (towards the tail) or, with `reverse`,
/// `from` down to `from+1-n` (towards the head) as an array.
fn reply_range(ctx: &mut Ctx<'_>, l: &List, from: usize, n: usize, reverse: bool) {
    ctx.out.array(n);
    if n == 0 {
        return;
    }
    let mut left = n;
    l.visit(from, reverse, |e| {
        reply_elem(ctx, e);
        left -= 1;
        left > 0
    });
}

// ---------------------------------------------------------------------------
// Pushes
// ---------------------------------------------------------------------------

fn lpush(ctx: &mut Ctx<'_>) {
    push_generic(ctx, End::Head, false);
}

fn rpush(ctx: &mut Ctx<'_>) {
    push_generic(ctx, End::Tail, false);
}

fn lpushx(ctx: &mut Ctx<'_>) {
    push_generic(ctx, End::Head, true);
}

fn rpushx(ctx: &mut Ctx<'_>) {
    push_generic(ctx, End::Tail, true);
}

/// LPUSH, RPUSH, LPUSHX, RPUSHX (`pushGenericCommand`).
fn push_generic(ctx: &mut Ctx<'_>, end: End, xx: bool) {
    let key = ctx.arg(1);
    let values = &ctx.args[2..];
    let fill = fill(ctx);
    let depth = depth(ctx);
    let add_bytes = values
        .iter()
        .map(|v| v.len())
        .fold(0usize, usize::saturating_add);
    let mut ks = ctx.key(key);
    let existing = match ks.write_typed(key, ValueType::List) {
        Err(msg) => {
            ctx.out.error(msg);
            return;
        }
        Ok(Some(mut e)) => {
            let Some(l) = list_mut(&mut e) else {
                ctx.out.error(errors::WRONGTYPE);
                return;
            };
            l.grow_check(fill, depth, add_bytes, values.len());
            for v in values {
                l.push(v, end, fill);
            }
            Some(l.len())
        }
        Ok(None) => None,
    };
    let len = match existing {
        Some(n) => n,
        None if xx => {
            ctx.out.int(0);
            return;
        }
        None => {
            let mut l = List::new();
            l.grow_check(fill, depth, add_bytes, values.len());
            for v in values {
                l.push(v, end, fill);
            }
            let n = l.len();
            ks.add(list_entry(key, l));
            n
        }
    };
    drop(ks);
    ctx.store.add_dirty(values.len() as u64);
    ctx.out.int(len as i64);
    ctx.signal_ready(key);
}

/// LINSERT key BEFORE|AFTER pivot element.
fn linsert(ctx: &mut Ctx<'_>) {
    let after = if is_token(ctx.arg(2), "after") {
        true
    } else if is_token(ctx.arg(2), "before") {
        false
    } else {
        ctx.out.error(errors::SYNTAX);
        return;
    };
    let (key, pivot, value) = (ctx.arg(1), ctx.arg(3), ctx.arg(4));
    let fill = fill(ctx);
    let depth = depth(ctx);
    let mut ks = ctx.key(key);
    let mut e = match ks.write_typed(key, ValueType::List) {
        Err(msg) => {
            ctx.out.error(msg);
            return;
        }
        Ok(None) => {
            ctx.out.int(0);
            return;
        }
        Ok(Some(e)) => e,
    };
    let Some(l) = list_mut(&mut e) else {
        ctx.out.error(errors::WRONGTYPE);
        return;
    };
    // Redis converts before knowing whether the pivot is there.
    l.grow_check(fill, depth, value.len(), 1);
    if !l.insert(&Needle::new(pivot), value, after, fill) {
        ctx.out.int(-1);
        return;
    }
    let len = l.len();
    drop(e);
    drop(ks);
    ctx.store.add_dirty(1);
    ctx.out.int(len as i64);
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

fn llen(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    match ks.read_typed(key, ValueType::List) {
        Err(msg) => ctx.out.error(msg),
        Ok(None) => ctx.out.int(0),
        Ok(Some(e)) => {
            let n = list_ref(&e).map_or(0, List::len);
            ctx.out.int(n as i64);
        }
    }
}

fn lindex(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let e = match ks.read_typed(key, ValueType::List) {
        Err(msg) => {
            ctx.out.error(msg);
            return;
        }
        Ok(None) => {
            ctx.out.null();
            return;
        }
        Ok(Some(e)) => e,
    };
    let Some(index) = ctx.int_arg(2) else {
        return;
    };
    let found = list_ref(&e).and_then(|l| l.get_with(index, |v| reply_elem(ctx, v)));
    if found.is_none() {
        ctx.out.null();
    }
}

fn lrange(ctx: &mut Ctx<'_>) {
    let Some(start) = ctx.int_arg(2) else {
        return;
    };
    let Some(end) = ctx.int_arg(3) else {
        return;
    };
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let e = match ks.read_typed(key, ValueType::List) {
        Err(msg) => {
            ctx.out.error(msg);
            return;
        }
        Ok(None) => {
            ctx.out.array(0);
            return;
        }
        Ok(Some(e)) => e,
    };
    let Some(l) = list_ref(&e) else {
        ctx.out.array(0);
        return;
    };
    match super::index_range(start, end, l.len()) {
        None => ctx.out.array(0),
        Some((s, e)) => reply_range(ctx, l, s, e - s + 1, false),
    }
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].
fn lpos(ctx: &mut Ctx<'_>) {
    let mut rank: i64 = 1;
    let mut count: i64 = -1;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < ctx.argc() {
        let opt = ctx.arg(j);
        let more = j + 1 < ctx.argc();
        if is_token(opt, "RANK") && more {
            j += 1;
            let Some(r) = ctx.int_arg(j) else {
                return;
            };
            if r == i64::MIN {
                ctx.out.error(RANK_OUT_OF_RANGE);
                return;
            }
            if r == 0 {
                ctx.out.error(RANK_ZERO);
                return;
            }
            rank = r;
        } else if is_token(opt, "COUNT") && more {
            j += 1;
            let Some(c) = range_arg(ctx, j, 0, i64::MAX, COUNT_NEGATIVE) else {
                return;
            };
            count = c;
        } else if is_token(opt, "MAXLEN") && more {
            j += 1;
            let Some(m) = range_arg(ctx, j, 0, i64::MAX, MAXLEN_NEGATIVE) else {
                return;
            };
            maxlen = m;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    let from_tail = rank < 0;
    let rank = rank.unsigned_abs();
    let key = ctx.arg(1);
    let needle = Needle::new(ctx.arg(2));
    let mut ks = ctx.key(key);
    let e = match ks.read_typed(key, ValueType::List) {
        Err(msg) => {
            ctx.out.error(msg);
            return;
        }
        Ok(None) => {
            if count != -1 {
                ctx.out.array(0);
            } else {
                ctx.out.null();
            }
            return;
        }
        Ok(Some(e)) => e,
    };
    let Some(l) = list_ref(&e) else {
        ctx.out.null();
        return;
    };
    let len = l.len();
    let limit = if maxlen == 0 {
        usize::MAX
    } else {
        maxlen as usize
    };
    let mut matches: u64 = 0;
    let mut found: Vec<i64> = Vec::new();
    let want = count.max(0) as u64;
    let mut index = 0;
    let from = if from_tail { len.saturating_sub(1) } else { 0 };
    l.visit(from, from_tail, |e| {
        if index >= limit {
            return false;
        }
        let at = if from_tail { len - index - 1 } else { index };
        index += 1;
        if !needle.matches(e) {
            return true;
        }
        matches += 1;
        if matches < rank {
            return true;
        }
        found.push(at as i64);
        !(count == -1 || (want != 0 && matches - rank + 1 >= want))
    });
    if count != -1 {
        ctx.out.array(found.len());
        for i in found {
            ctx.out.int(i);
        }
    } else {
        match found.first() {
            Some(&i) => ctx.out.int(i),
            None => ctx.out.null(),
        }
    }
}

// ---------------------------------------------------------------------------
// Changes in place
// ---------------------------------------------------------------------------

fn lset(ctx: &mut Ctx<'_>) {
    let (key, value) = (ctx.arg(1), ctx.arg(3));
    let fill = fill(ctx);
    let depth = depth(ctx);
    let mut ks = ctx.key(key);
    let mut e = match ks.write_typed(key, ValueType::List) {
        Err(msg) => {
            ctx.out.error(msg);
            return;
        }
        Ok(None) => {
            ctx.out.error(errors::NO_SUCH_KEY);
            return;
        }
        Ok(Some(e)) => e,
    };
    let Some(index) = ctx.int_arg(2) else {
        return;
    };
    let Some(l) = list_mut(&mut e) else {
        ctx.out.error(errors::WRONGTYPE);
        return;
    };
    l.grow_check(fill, depth, value.len(), 1);
    if l.set(index, value, fill) {
        l.shrink_check(fill);
        drop(e);
        drop(ks);
        ctx.store.add_dirty(1);
        ctx.out.ok();
    } else {
        ctx.out.error(INDEX_OUT_OF_RANGE);
    }
}

fn ltrim(ctx: &mut Ctx<'_>) {
    let Some(start) = ctx.int_arg(2) else {
        return;
    };
    let Some(end) = ctx.int_arg(3) else {
        return;
    };
    let key = ctx.arg(1);
    let fill = fill(ctx);
    let mut ks = ctx.key(key);
    let removed = {
        let mut e = match ks.write_typed(key, ValueType::List) {
            Err(msg) => {
                ctx.out.error(msg);
                return;
            }
            Ok(None) => {
                ctx.out.ok();
                return;
            }
            Ok(Some(e)) => e,
        };
        let Some(l) = list_mut(&mut e) else {
            ctx.out.error(errors::WRONGTYPE);
            return;
        };
        let len = l.len();
        let (ltrim, rtrim) = match super::index_range(start, end, len) {
            None => (len, 0),
            Some((s, e)) => (s, len - e - 1),
        };
        l.delete_range(0, ltrim);
        let left = l.len();
        l.delete_range(left - rtrim, rtrim);
        ltrim + rtrim
    };
    after_removal(&mut ks, key, fill);
    drop(ks);
    ctx.store.add_dirty(removed as u64);
    ctx.out.ok();
}

fn lrem(ctx: &mut Ctx<'_>) {
    let Some(count) = ctx.int_arg(2) else {
        return;
    };
    let (key, value) = (ctx.arg(1), ctx.arg(3));
    let fill = fill(ctx);
    let mut ks = ctx.key(key);
    let removed = {
        let mut e = match ks.write_typed(key, ValueType::List) {
            Err(msg) => {
                ctx.out.error(msg);
                return;
            }
            Ok(None) => {
                ctx.out.int(0);
                return;
            }
            Ok(Some(e)) => e,
        };
        let Some(l) = list_mut(&mut e) else {
            ctx.out.error(errors::WRONGTYPE);
            return;
        };
        let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
        l.remove_matching(&Needle::new(value), limit, count < 0)
    };
    if removed > 0 {
        after_removal(&mut ks, key, fill);
    }
    drop(ks);
    ctx.store.add_dirty(removed as u64);
    ctx.out.int(removed as i64);
}

// ---------------------------------------------------------------------------
// Pops
// ---------------------------------------------------------------------------

fn lpop(ctx: &mut Ctx<'_>) {
    pop_generic(ctx, End::Head);
}

fn rpop(ctx: &mut Ctx<'_>) {
    pop_generic(ctx, End::Tail);
}

/// LPOP/RPOP key [count] (`popGenericCommand`).
fn pop_generic(ctx: &mut Ctx<'_>, end: End) {
    if ctx.argc() > 3 {
        let name = if end == End::Head { "lpop" } else { "rpop" };
        ctx.out.error(&errors::wrong_arity(name));
        return;
    }
    let count = if ctx.argc() == 3 {
        let Some(c) = range_arg(ctx, 2, 0, i64::MAX, errors::MUST_BE_POSITIVE) else {
            return;
        };
        Some(c as u64)
    } else {
        None
    };
    let key = ctx.arg(1);
    let fill = fill(ctx);
    let mut ks = ctx.key(key);
    let popped = {
        let mut e = match ks.write_typed(key, ValueType::List) {
            Err(msg) => {
                ctx.out.error(msg);
                return;
            }
            Ok(None) => {
                if count.is_some() {
                    ctx.out.null_array();
                } else {
                    ctx.out.null();
                }
                return;
            }
            Ok(Some(e)) => e,
        };
        let Some(l) = list_mut(&mut e) else {
            ctx.out.error(errors::WRONGTYPE);
            return;
        };
        match count {
            Some(0) => {
                ctx.out.array(0);
                return;
            }
            None => {
                let out = &mut *ctx.out;
                l.pop_with(end, |v| match v {
                    Elem::Bytes(b) => out.bulk(b),
                    Elem::Int(n) => out.bulk_int(n),
                });
                1
            }
            Some(c) => pop_range_reply(ctx, l, end, c),
        }
    };
    after_removal(&mut ks, key, fill);
    drop(ks);
    ctx.store.add_dirty(popped as u64);
}

/// Replies with up to `count` elements from an end (the tail's in reverse)
/// and removes them. Returns how many.
fn pop_range_reply(ctx: &mut Ctx<'_>, l: &mut List, end: End, count: u64) -> usize {
    let len = l.len();
    let n = usize::try_from(count).unwrap_or(usize::MAX).min(len);
    match end {
        End::Head => {
            reply_range(ctx, l, 0, n, false);
            l.delete_range(0, n);
        }
        End::Tail => {
            reply_range(ctx, l, len - 1, n, true);
            l.delete_range(len - n, n);
        }
    }
    n
}

/// Pops from the first non-empty list of `keys` for LMPOP/BLMPOP (with
/// `count`) and BLPOP/BRPOP (without), replying as they do. Returns false,
/// having written nothing, when every list is missing.
fn mpop_first(ctx: &mut Ctx<'_>, keys: &[&[u8]], end: End, count: Option<u64>) -> bool {
    let fill = fill(ctx);
    let mut ks = ctx.keys(keys);
    for &key in keys {
        let popped = {
            let mut e = match ks.write_typed(key, ValueType::List) {
                Err(msg) => {
                    ctx.out.error(msg);
                    return true;
                }
                Ok(None) => continue,
                Ok(Some(e)) => e,
            };
            let Some(l) = list_mut(&mut e) else {
                ctx.out.error(errors::WRONGTYPE);
                return true;
            };
            if l.is_empty() {
                continue;
            }
            ctx.out.array(2);
            ctx.out.bulk(key);
            match count {
                Some(c) => pop_range_reply(ctx, l, end, c),
                None => {
                    let out = &mut *ctx.out;
                    l.pop_with(end, |v| match v {
                        Elem::Bytes(b) => out.bulk(b),
                        Elem::Int(n) => out.bulk_int(n),
                    });
                    1
                }
            }
        };
        after_removal(&mut ks, key, fill);
        drop(ks);
        ctx.store.add_dirty(popped as u64);
        // Propagated as the plain pop that did the same (Redis's
        // blockingPopGenericCommand and lmpopGenericCommand): LPOP/RPOP
        // key, with the number popped when a count was given.
        if ctx.propagating() {
            let name: &[u8] = match end {
                End::Head => b"LPOP",
                End::Tail => b"RPOP",
            };
            match count {
                Some(_) => {
                    let n = rewrite::uint_text(popped as u64);
                    ctx.propagate(&[name, key, &n[..]]);
                }
                None => ctx.propagate(&[name, key]),
            }
        }
        return true;
    }
    false
}

/// The keys and direction of LMPOP/BLMPOP from argument `numkeys_idx` on
/// (`lmpopGenericCommand`), with COUNT (1 if absent). Writes the error and
/// returns `None` on a bad request.
fn parse_mpop<'a>(ctx: &mut Ctx<'a>, numkeys_idx: usize) -> Option<(Vec<&'a [u8]>, End, u64)> {
    let numkeys = range_arg(ctx, numkeys_idx, 1, i64::MAX, errors::NUMKEYS_POSITIVE)? as u64;
    let where_idx = (numkeys_idx as u64)
        .checked_add(numkeys)
        .and_then(|v| v.checked_add(1))
        .filter(|&v| v < ctx.argc() as u64);
    let Some(where_idx) = where_idx else {
        ctx.out.error(errors::SYNTAX);
        return None;
    };
    let where_idx = where_idx as usize;
    let end = position_arg(ctx, where_idx)?;
    let mut count: Option<u64> = None;
    let mut j = where_idx + 1;
    while j < ctx.argc() {
        if count.is_none() && is_token(ctx.arg(j), "COUNT") && j + 1 < ctx.argc() {
            j += 1;
            count = Some(range_arg(ctx, j, 1, i64::MAX, errors::COUNT_POSITIVE)? as u64);
        } else {
            ctx.out.error(errors::SYNTAX);
            return None;
        }
        j += 1;
    }
    let args: &'a [&'a [u8]] = ctx.args;
    let keys = args[numkeys_idx + 1..where_idx].to_vec();
    Some((keys, end, count.unwrap_or(1)))
}

fn lmpop(ctx: &mut Ctx<'_>) {
    let Some((keys, end, count)) = parse_mpop(ctx, 1) else {
        return;
    };
    if !mpop_first(ctx, &keys, end, Some(count)) {
        ctx.out.null_array();
    }
}

fn blmpop(ctx: &mut Ctx<'_>) {
    let Some((keys, end, count)) = parse_mpop(ctx, 2) else {
        return;
    };
    let Some(deadline) = ctx.timeout_arg(1) else {
        return;
    };
    if !mpop_first(ctx, &keys, end, Some(count)) {
        ctx.block_on_keys(&keys, BlockedOn::List, deadline, TimeoutReply::NullArray);
    }
}

fn blpop(ctx: &mut Ctx<'_>) {
    blocking_pop(ctx, End::Head);
}

fn brpop(ctx: &mut Ctx<'_>) {
    blocking_pop(ctx, End::Tail);
}

/// BLPOP/BRPOP key [key ...] timeout (`blockingPopGenericCommand`).
fn blocking_pop(ctx: &mut Ctx<'_>, end: End) {
    let last = ctx.argc() - 1;
    let Some(deadline) = ctx.timeout_arg(last) else {
        return;
    };
    let args: &[&[u8]] = ctx.args;
    let keys = &args[1..last];
    if !mpop_first(ctx, keys, end, None) {
        ctx.block_on_keys(keys, BlockedOn::List, deadline, TimeoutReply::NullArray);
    }
}

// ---------------------------------------------------------------------------
// Moves
// ---------------------------------------------------------------------------

fn lmove(ctx: &mut Ctx<'_>) {
    let Some(from) = position_arg(ctx, 3) else {
        return;
    };
    let Some(to) = position_arg(ctx, 4) else {
        return;
    };
    move_generic(ctx, from, to);
}

fn rpoplpush(ctx: &mut Ctx<'_>) {
    move_generic(ctx, End::Tail, End::Head);
}

fn blmove(ctx: &mut Ctx<'_>) {
    let Some(from) = position_arg(ctx, 3) else {
        return;
    };
    let Some(to) = position_arg(ctx, 4) else {
        return;
    };
    let Some(deadline) = ctx.timeout_arg(5) else {
        return;
    };
    blocking_move(ctx, from, to, deadline);
}

fn brpoplpush(ctx: &mut Ctx<'_>) {
    let Some(deadline) = ctx.timeout_arg(3) else {
        return;
    };
    blocking_move(ctx, End::Tail, End::Head, deadline);
}

/// `blmoveGenericCommand`: moves at once if the source has elements, or
/// blocks on it.
fn blocking_move(ctx: &mut Ctx<'_>, from: End, to: End, deadline: i64) {
    let src = ctx.arg(1);
    let exists = {
        let mut ks = ctx.key(src);
        match ks.write_typed(src, ValueType::List) {
            Err(msg) => {
                ctx.out.error(msg);
                return;
            }
            Ok(found) => found.is_some(),
        }
    };
    if exists {
        // Served: propagated as the command that does not block (Redis's
        // lmoveHandlePush callers).
        if move_generic(ctx, from, to) && ctx.propagating() {
            let args = ctx.args;
            if ctx.arg_is(0, "blmove") {
                ctx.propagate(&[b"LMOVE", args[1], args[2], args[3], args[4]]);
            } else {
                ctx.propagate(&[b"RPOPLPUSH", args[1], args[2]]);
            }
        }
    } else {
        ctx.block_on_keys(&[src], BlockedOn::List, deadline, TimeoutReply::NullBulk);
    }
}

/// LMOVE/RPOPLPUSH (`lmoveGenericCommand`): the source is looked up and
/// checked, then the destination, before anything moves. Returns whether
/// an element moved.
fn move_generic(ctx: &mut Ctx<'_>, from: End, to: End) -> bool {
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    let fill = fill(ctx);
    let depth = depth(ctx);
    let mut ks = ctx.keys(&[src, dst]);
    match ks.write_typed(src, ValueType::List) {
        Err(msg) => {
            ctx.out.error(msg);
            return false;
        }
        Ok(None) => {
            ctx.out.null();
            return false;
        }
        Ok(Some(_)) => {}
    }
    let dst_exists = match ks.write_typed(dst, ValueType::List) {
        Err(msg) => {
            ctx.out.error(msg);
            return false;
        }
        Ok(found) => found.is_some(),
    };
    // Pop from the source.
    let value = {
        let Some(mut e) = ks.write(src) else {
            ctx.out.null();
            return false;
        };
        let Some(l) = list_mut(&mut e) else {
            ctx.out.error(errors::WRONGTYPE);
            return false;
        };
        match l.pop(from) {
            Some(v) => v,
            None => {
                ctx.out.null();
                return false;
            }
        }
    };
    // Push to the destination (maybe the same list).
    if dst_exists || src == dst {
        if let Some(mut e) = ks.write(dst)
            && let Some(l) = list_mut(&mut e)
        {
            l.grow_check(fill, depth, value.len(), 1);
            l.push(&value, to, fill);
        }
    } else {
        let mut l = List::new();
        l.grow_check(fill, depth, value.len(), 1);
        l.push(&value, to, fill);
        ks.add(list_entry(dst, l));
    }
    after_removal(&mut ks, src, fill);
    drop(ks);
    ctx.store.add_dirty(1);
    ctx.out.bulk(&value);
    ctx.signal_ready(dst);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_clamp_like_redis() {
        assert_eq!(crate::commands::index_range(0, -1, 5), Some((0, 4)));
        assert_eq!(crate::commands::index_range(-100, 100, 5), Some((0, 4)));
        assert_eq!(crate::commands::index_range(3, 1, 5), None);
        assert_eq!(crate::commands::index_range(5, 10, 5), None);
        assert_eq!(
            crate::commands::index_range(i64::MIN, i64::MAX, 5),
            Some((0, 4))
        );
        assert_eq!(crate::commands::index_range(i64::MAX, i64::MIN, 5), None);
        assert_eq!(crate::commands::index_range(-1, -1, 0), None);
    }

    #[test]
    fn every_command_is_in_the_list_group_with_a_handler() {
        for c in COMMANDS {
            assert_eq!(c.group, "list", "{}", c.name);
            assert!(c.handler.is_some(), "{}", c.name);
            assert!(c.acl & acl::LIST != 0, "{}", c.name);
        }
        assert_eq!(COMMANDS.len(), 22);
        let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }
}
