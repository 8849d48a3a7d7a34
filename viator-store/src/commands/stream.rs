//! The stream commands without consumer groups: XADD, XRANGE, XREVRANGE,
//! XLEN, XDEL, XDELEX, XTRIM, XREAD, XSETID (Redis's `t_stream.c`).
//!
//! Every handler makes its checks in the order of its Redis counterpart, so
//! that a request with several faults gets the same error: XADD and XTRIM
//! parse all their options (`streamParseAddOrTrimArgsOrReply`) before
//! looking at the key; XDEL looks at the key first (a missing key replies 0
//! whatever the IDs); XSETID parses everything before the key.
//!
//! XREAD serves at once when some stream has an entry after the ID given;
//! otherwise, with BLOCK, it blocks with its `$` IDs rewritten to the
//! stream's last ID at that moment, so that the command run again when an
//! XADD signals the key sees exactly the entries added since (Redis
//! rewrites the blocked client's argv the same way). Every XADD signals
//! its key with [`Ctx::signal_ready`].

use viator_protocol::ReplyBuf;
use viator_types::entry::{Entry, NewValue, Object, ValueType};
use viator_types::number::parse_i64;
use viator_types::stream::{RefPolicy, Stream, StreamId, TrimSpec, TrimStrategy};

use crate::blocking::{BlockedOn, TimeoutReply};
use crate::command::{BeginSearch, CommandSpec, Ctx, FindKeys, KeySpec, acl, flags};
use crate::errors;

use super::rewrite;

/// An XADD ID at or below the stream's last ID.
const ID_TOO_SMALL: &str =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
/// XADD with the ID 0-0.
const ID_ZERO: &str = "ERR The ID specified in XADD must be greater than 0-0";
/// XADD on a stream whose last ID is the largest possible.
const ID_EXHAUSTED: &str =
    "ERR The stream has exhausted the last possible ID, unable to add more items";
/// XADD fields and values longer than a listpack can hold.
const TOO_LARGE: &str = "ERR Elements are too large to be stored";
/// MAXLEN and MINID together.
const TRIM_BOTH: &str =
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
/// MAXLEN below zero.
const MAXLEN_NEGATIVE: &str = "ERR The MAXLEN argument must be >= 0.";
/// LIMIT below zero.
const LIMIT_NEGATIVE: &str = "ERR The LIMIT argument must be >= 0.";
/// LIMIT without MAXLEN or MINID.
const LIMIT_WITHOUT_STRATEGY: &str =
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
/// XTRIM without MAXLEN or MINID.
const XTRIM_WITHOUT_STRATEGY: &str =
    "ERR syntax error, XTRIM must be called with a trimming strategy";
/// LIMIT with exact trimming.
const LIMIT_WITHOUT_APPROX: &str =
    "ERR syntax error, LIMIT cannot be used without the special ~ option";
/// An exclusive start at the largest ID.
const BAD_START: &str = "ERR invalid start ID for the interval";
/// An exclusive end at the smallest ID.
const BAD_END: &str = "ERR invalid end ID for the interval";
/// XREAD with `>`.
const GT_ONLY_XREADGROUP: &str = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";
/// XREAD's odd list of keys and IDs.
const XREAD_UNBALANCED: &str = "ERR Unbalanced 'xread' list of streams: for each stream key an ID, '+', or '$' must be specified.";
/// XREAD with XREADGROUP's GROUP.
const GROUP_ONLY_XREADGROUP: &str =
    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
/// XREAD with XREADGROUP's NOACK.
const NOACK_ONLY_XREADGROUP: &str =
    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
/// XREAD BLOCK with a value that is not an integer.
const BLOCK_NOT_INTEGER: &str = "ERR timeout is not an integer or out of range";
/// XREAD `+` on a stream whose last ID is 0-0.
const LAST_ID_ZERO: &str = "ERR the stream last element ID is 0-0";
/// XSETID ENTRIESADDED below zero.
const ENTRIES_ADDED_NEGATIVE: &str = "ERR entries_added must be positive";
/// XSETID ID below its MAXDELETEDID.
const SETID_BELOW_GIVEN_MAX_DELETED: &str =
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id";
/// XSETID ID below the stream's max deleted ID.
const SETID_BELOW_MAX_DELETED: &str =
    "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id";
/// XSETID ID below the last entry.
const SETID_BELOW_TOP: &str =
    "ERR The ID specified in XSETID is smaller than the target stream top item";
/// XSETID ENTRIESADDED below the length.
const SETID_ENTRIES_ADDED_SMALL: &str =
    "ERR The entries_added specified in XSETID is smaller than the target stream length";
/// XDELEX numids that is not a positive integer.
const NUMIDS_BAD: &str = "ERR Number of IDs must be a positive integer";
/// XDELEX without IDS.
const IDS_REQUIRED: &str = "ERR IDS option is required";
/// XDELEX numids that does not match the IDs given.
const NUMIDS_MISMATCH: &str = "ERR The `numids` parameter must match the number of arguments";

/// A listpack holds at most this many bytes (Redis's
/// `STREAM_LISTPACK_MAX_SIZE`): XADD refuses larger entries and the
/// approximate-trim LIMIT default is capped by it.
const LISTPACK_MAX_SIZE: u64 = 1 << 30;

const RW_UPDATE: &[KeySpec] = &[KeySpec::single(1, &["RW", "UPDATE"])];
const RW_DELETE: &[KeySpec] = &[KeySpec::single(1, &["RW", "DELETE"])];
const RO_ACCESS: &[KeySpec] = &[KeySpec::single(1, &["RO", "ACCESS"])];

/// This family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "xadd",
        arity: -5,
        flags: flags::WRITE | flags::DENYOOM | flags::FAST,
        acl: acl::STREAM,
        keys: &[KeySpec {
            notes: "UPDATE instead of INSERT because of the optional trimming feature",
            ..KeySpec::single(1, &["RW", "UPDATE"])
        }],
        group: "stream",
        summary: "Appends a new message to a stream. Creates the key if it doesn't exist.",
        since: "5.0.0",
        complexity: "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
        args: "key:key [NOMKSTREAM@6.2.0] [condition:(KEEPREF | DELREF | ACKED)] [trim:{strategy:(MAXLEN | MINID@6.2.0) [operator:(==equal | ~=approximately)] threshold:string [LIMIT=count:integer@6.2.0]}] id-selector:(*=auto-id | id:string) data:{field:string value:string}...",
        tips: &["nondeterministic_output"],
        history: &[
            (
                "6.2.0",
                "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` option.",
            ),
            ("7.0.0", "Added support for the `<ms>-*` explicit ID form."),
            (
                "8.2.0",
                "Added the `KEEPREF`, `DELREF` and `ACKED` options.",
            ),
        ],
        handler: Some(xadd),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xdel",
        arity: -3,
        flags: flags::WRITE | flags::FAST,
        acl: acl::STREAM,
        keys: RW_DELETE,
        group: "stream",
        summary: "Returns the number of messages after removing them from a stream.",
        since: "5.0.0",
        complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
        args: "key:key id:string...",
        handler: Some(xdel),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xdelex",
        arity: -5,
        flags: flags::WRITE | flags::FAST,
        acl: acl::STREAM,
        keys: RW_DELETE,
        group: "stream",
        summary: "Deletes one or multiple entries from the stream.",
        since: "8.2.0",
        complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
        args: "key:key [condition:(KEEPREF | DELREF | ACKED)] IDS=ids:{numids:integer id:string...}",
        handler: Some(xdelex),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xlen",
        arity: 2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::STREAM,
        keys: &[KeySpec::single(1, &["RO"])],
        group: "stream",
        summary: "Return the number of messages in a stream.",
        since: "5.0.0",
        complexity: "O(1)",
        args: "key:key",
        handler: Some(xlen),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xrange",
        arity: -4,
        flags: flags::READONLY,
        acl: acl::STREAM,
        keys: RO_ACCESS,
        group: "stream",
        summary: "Returns the messages from a stream within a range of IDs.",
        since: "5.0.0",
        complexity: "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
        args: "key:key start:string end:string [COUNT=count:integer]",
        history: &[("6.2.0", "Added exclusive ranges.")],
        handler: Some(xrange),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xread",
        arity: -4,
        flags: flags::READONLY | flags::BLOCKING,
        acl: acl::STREAM,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Keyword {
                keyword: "STREAMS",
                startfrom: 1,
            },
            find: FindKeys::Range {
                lastkey: -1,
                keystep: 1,
                limit: 2,
            },
            notes: "",
        }],
        group: "stream",
        summary: "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.",
        since: "5.0.0",
        complexity: "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
        args: "[COUNT=count:integer] [BLOCK=milliseconds:integer] STREAMS=streams:{key:key... id:string...}",
        handler: Some(xread),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xrevrange",
        arity: -4,
        flags: flags::READONLY,
        acl: acl::STREAM,
        keys: RO_ACCESS,
        group: "stream",
        summary: "Returns the messages from a stream within a range of IDs in reverse order.",
        since: "5.0.0",
        complexity: "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
        args: "key:key end:string start:string [COUNT=count:integer]",
        history: &[("6.2.0", "Added exclusive ranges.")],
        handler: Some(xrevrange),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xsetid",
        arity: -3,
        flags: flags::WRITE | flags::DENYOOM | flags::FAST,
        acl: acl::STREAM,
        keys: RW_UPDATE,
        group: "stream",
        summary: "An internal command for replicating stream values.",
        since: "5.0.0",
        complexity: "O(1)",
        args: "key:key last-id:string [ENTRIESADDED=entries_added:integer@7.0.0] [MAXDELETEDID=max_deleted_entry_id:string@7.0.0]",
        history: &[(
            "7.0.0",
            "Added the `entries_added` and `max_deleted_entry_id` arguments.",
        )],
        handler: Some(xsetid),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xtrim",
        arity: -4,
        flags: flags::WRITE,
        acl: acl::STREAM,
        keys: RW_DELETE,
        group: "stream",
        summary: "Deletes messages from the beginning of a stream.",
        since: "5.0.0",
        complexity: "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
        args: "key:key trim:{strategy:(MAXLEN | MINID@6.2.0) [operator:(==equal | ~=approximately)] threshold:string [LIMIT=count:integer@6.2.0]} [condition:(KEEPREF | DELREF | ACKED)]",
        tips: &["nondeterministic_output"],
        history: &[
            (
                "6.2.0",
                "Added the `MINID` trimming strategy and the `LIMIT` option.",
            ),
            (
                "8.2.0",
                "Added the `KEEPREF`, `DELREF` and `ACKED` options.",
            ),
        ],
        handler: Some(xtrim),
        ..CommandSpec::DEFAULT
    },
];

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn is_token(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

fn stream_ref(e: &Entry) -> Option<&Stream> {
    match e.as_object() {
        Some(Object::Stream(s)) => Some(s),
        _ => None,
    }
}

fn stream_mut(e: &mut Entry) -> Option<&mut Stream> {
    match e.as_object_mut() {
        Some(Object::Stream(s)) => Some(s),
        _ => None,
    }
}

fn stream_entry(key: &[u8], s: Stream) -> Entry {
    Entry::new(
        key,
        NewValue::Object(Box::new(Object::Stream(Box::new(s)))),
        None,
    )
}

/// Writes an ID as a bulk string without allocating.
fn reply_id(out: &mut ReplyBuf, id: StreamId) {
    let mut buf = [0u8; 41];
    let n = format_id(id, &mut buf);
    out.bulk(&buf[..n]);
}

/// `ms-seq` into `buf` (41 bytes hold two u64s and the dash); the length.
fn format_id(id: StreamId, buf: &mut [u8; 41]) -> usize {
    let mut a = itoa::Buffer::new();
    let ms = a.format(id.ms).as_bytes();
    let mut b = itoa::Buffer::new();
    let seq = b.format(id.seq).as_bytes();
    buf[..ms.len()].copy_from_slice(ms);
    buf[ms.len()] = b'-';
    buf[ms.len() + 1..ms.len() + 1 + seq.len()].copy_from_slice(seq);
    ms.len() + 1 + seq.len()
}

/// A strict ID (`-` and `+` refused), as `streamParseStrictIDOrReply`
/// without the `ms-*` form; the error is written on failure.
fn strict_id(out: &mut ReplyBuf, arg: &[u8], missing_seq: u64) -> Option<StreamId> {
    let id = if arg == b"-" || arg == b"+" {
        None
    } else {
        StreamId::parse(arg, missing_seq)
    };
    if id.is_none() {
        out.error(errors::INVALID_STREAM_ID);
    }
    id
}

/// XRANGE's bounds (`streamParseIntervalIDOrReply`): `-`, `+`, an ID, or
/// `(ID` exclusive; returns the ID and whether it is exclusive.
fn interval_id(out: &mut ReplyBuf, arg: &[u8], missing_seq: u64) -> Option<(StreamId, bool)> {
    if arg.len() > 1 && arg[0] == b'(' {
        return strict_id(out, &arg[1..], missing_seq).map(|id| (id, true));
    }
    match StreamId::parse(arg, missing_seq) {
        Some(id) => Some((id, false)),
        None => {
            out.error(errors::INVALID_STREAM_ID);
            None
        }
    }
}

/// Writes entries `start..=end` (backwards when `rev`), at most `count` (0:
/// all), as an array of `[id, [field, value, ...]]`; the number written.
fn reply_range(
    out: &mut ReplyBuf,
    s: &Stream,
    start: StreamId,
    end: StreamId,
    count: u64,
    rev: bool,
) -> u64 {
    let at = out.deferred();
    let mut n = 0u64;
    s.range(start, end, rev, |id, fields| {
        out.array(2);
        reply_id(out, id);
        out.array(fields.len());
        for f in fields {
            out.bulk(f);
        }
        n += 1;
        count == 0 || n < count
    });
    out.set_deferred_array(at, n as usize);
    n
}

/// The deletion policy tokens of XADD, XTRIM and XDELEX.
fn ref_policy(arg: &[u8]) -> Option<RefPolicy> {
    if is_token(arg, "KEEPREF") {
        Some(RefPolicy::KeepRef)
    } else if is_token(arg, "DELREF") {
        Some(RefPolicy::DelRef)
    } else if is_token(arg, "ACKED") {
        Some(RefPolicy::Acked)
    } else {
        None
    }
}

/// What `streamParseAddOrTrimArgsOrReply` gathers.
struct AddTrimArgs {
    trim: Option<TrimStrategy>,
    approx: bool,
    limit: u64,
    policy: RefPolicy,
    no_mkstream: bool,
    /// XADD's ID argument: index, ID, and whether the sequence was given
    /// (`ms-*` leaves it to the stream). `None` for `*`.
    id: Option<(StreamId, bool)>,
    /// Index of the ID argument (XADD) or one past the options (XTRIM).
    id_pos: usize,
    /// Index of the trim threshold argument (0 without trimming).
    threshold_pos: usize,
}

/// Redis's `streamParseAddOrTrimArgsOrReply`, for XADD (`xadd`) or XTRIM;
/// writes the error and returns `None` on a bad request.
fn parse_add_trim(ctx: &mut Ctx<'_>, xadd: bool) -> Option<AddTrimArgs> {
    let mut a = AddTrimArgs {
        trim: None,
        approx: false,
        limit: 0,
        policy: RefPolicy::KeepRef,
        no_mkstream: false,
        id: None,
        id_pos: 0,
        threshold_pos: 0,
    };
    let mut limit_given = false;
    let mut policy_given = false;
    let argc = ctx.argc();
    let mut i = 2;
    while i < argc {
        let more = argc - 1 - i;
        let opt = ctx.arg(i);
        if xadd && opt == b"*" {
            break;
        } else if (is_token(opt, "MAXLEN") || is_token(opt, "MINID")) && more > 0 {
            let maxlen = is_token(opt, "MAXLEN");
            if a.trim.is_some() {
                ctx.out.error(TRIM_BOTH);
                return None;
            }
            a.approx = false;
            let next = ctx.arg(i + 1);
            if more >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            a.threshold_pos = i + 1;
            if maxlen {
                let n = ctx.int_arg(i + 1)?;
                if n < 0 {
                    ctx.out.error(MAXLEN_NEGATIVE);
                    return None;
                }
                a.trim = Some(TrimStrategy::MaxLen(n as u64));
            } else {
                let id = strict_id(ctx.out, ctx.arg(i + 1), 0)?;
                a.trim = Some(TrimStrategy::MinId(id));
            }
            i += 1;
        } else if is_token(opt, "LIMIT") && more > 0 {
            let n = ctx.int_arg(i + 1)?;
            if n < 0 {
                ctx.out.error(LIMIT_NEGATIVE);
                return None;
            }
            a.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && is_token(opt, "NOMKSTREAM") {
            a.no_mkstream = true;
        } else if let Some(p) = ref_policy(opt).filter(|_| !policy_given) {
            // A second policy is not an option: for XADD it is then read
            // as the ID, for XTRIM it is a syntax error.
            a.policy = p;
            policy_given = true;
        } else if xadd {
            // A syntax error or the ID.
            a.id = Some(xadd_id(ctx.out, opt)?);
            break;
        } else {
            ctx.out.error(errors::SYNTAX);
            return None;
        }
        i += 1;
    }
    a.id_pos = i;
    if a.limit != 0 && a.trim.is_none() {
        ctx.out.error(LIMIT_WITHOUT_STRATEGY);
        return None;
    }
    if !xadd && a.trim.is_none() {
        ctx.out.error(XTRIM_WITHOUT_STRATEGY);
        return None;
    }
    if rewrite::must_obey(ctx.client) {
        // What was propagated (an approximate trim rewritten as the exact
        // one, its LIMIT kept) replays with no limit, as in Redis.
        a.limit = 0;
    } else if limit_given {
        if !a.approx {
            ctx.out.error(LIMIT_WITHOUT_APPROX);
            return None;
        }
    } else if a.approx {
        let per_node = ctx
            .store
            .settings
            .stream_node_max_entries
            .load(std::sync::atomic::Ordering::Relaxed);
        let limit = per_node.saturating_mul(100);
        a.limit = if limit == 0 || limit > LISTPACK_MAX_SIZE {
            10_000
        } else {
            limit
        };
    } else {
        a.limit = 0;
    }
    Some(a)
}

/// XADD's explicit ID: `ms-seq`, `ms` (sequence 0), or `ms-*`; returns
/// the ID and whether its sequence was given.
fn xadd_id(out: &mut ReplyBuf, arg: &[u8]) -> Option<(StreamId, bool)> {
    if let Some(ms) = arg.strip_suffix(b"-*")
        && !ms.is_empty()
        && let Some(id) = StreamId::parse(ms, 0)
        && !ms.contains(&b'-')
    {
        return Some((id, false));
    }
    strict_id(out, arg, 0).map(|id| (id, true))
}

/// The text of a stream ID, `ms-seq`.
pub(crate) fn id_text(id: StreamId) -> Vec<u8> {
    let mut buf = [0u8; 41];
    let n = format_id(id, &mut buf);
    buf[..n].to_vec()
}

/// Rewrites an approximate trim in `argv` as the exact one it came to
/// (Redis's `streamRewriteApproxSpecifier` and `streamRewriteTrimArgument`):
/// `~` becomes `=`, and the threshold the stream's length (MAXLEN) or its
/// first entry's ID (MINID; the largest ID when empty), so that a replay
/// trims the same entries. LIMIT stays.
fn rewrite_trim(argv: &mut [Vec<u8>], a: &AddTrimArgs, s: &Stream) {
    if !a.approx || a.threshold_pos < 1 || a.threshold_pos >= argv.len() {
        return;
    }
    argv[a.threshold_pos - 1] = b"=".to_vec();
    argv[a.threshold_pos] = match a.trim {
        Some(TrimStrategy::MinId(_)) => {
            if s.is_empty() {
                id_text(StreamId::MAX)
            } else {
                id_text(s.first_id)
            }
        }
        _ => rewrite::uint_text(s.len() as u64),
    };
}

fn trim_spec(a: &AddTrimArgs, strategy: TrimStrategy) -> TrimSpec {
    TrimSpec {
        strategy,
        approx: a.approx,
        limit: a.limit,
        policy: a.policy,
    }
}

// ---------------------------------------------------------------------------
// XADD
// ---------------------------------------------------------------------------

/// XADD key [NOMKSTREAM] [KEEPREF|DELREF|ACKED] [MAXLEN|MINID [=|~]
/// threshold [LIMIT count]] *|id field value [field value ...]
fn xadd(ctx: &mut Ctx<'_>) {
    let Some(a) = parse_add_trim(ctx, true) else {
        return;
    };
    let field_pos = a.id_pos + 1;
    let argc = ctx.argc();
    if argc < field_pos + 2 || (argc - field_pos) % 2 == 1 {
        ctx.out.error(&errors::wrong_arity("xadd"));
        return;
    }
    if let Some((StreamId { ms: 0, seq: 0 }, true)) = a.id {
        ctx.out.error(ID_ZERO);
        return;
    }
    let key = ctx.arg(1);
    let args: &[&[u8]] = ctx.args;
    let fields = &args[field_pos..];
    let settings = &ctx.store.settings;
    let node_entries = settings
        .stream_node_max_entries
        .load(std::sync::atomic::Ordering::Relaxed);
    let node_bytes = settings
        .stream_node_max_bytes
        .load(std::sync::atomic::Ordering::Relaxed);
    let now_ms = ctx.now_ms.max(0) as u64;
    let propagating = ctx.propagating();
    // The command as it will replay: the ID it got, an exact trim.
    let mut argv: Option<Vec<Vec<u8>>> = None;
    let mut rewrite_add = |id: Option<StreamId>, s: &Stream| {
        if let Some(id) = id
            && propagating
            && (a.approx || !matches!(a.id, Some((_, true))))
        {
            let mut v: Vec<Vec<u8>> = args.iter().map(|x| x.to_vec()).collect();
            rewrite_trim(&mut v, &a, s);
            if !matches!(a.id, Some((_, true))) {
                v[a.id_pos] = id_text(id);
            }
            argv = Some(v);
        }
        id.is_some()
    };
    let mut ks = ctx.key(key);
    let existing = match ks.write_typed(key, ValueType::Stream) {
        Err(msg) => {
            ctx.out.error(msg);
            return;
        }
        Ok(Some(mut e)) => match stream_mut(&mut e) {
            Some(s) => {
                let id = add_entry(ctx.out, s, &a, fields, now_ms, node_entries, node_bytes);
                Some(rewrite_add(id, s))
            }
            None => {
                ctx.out.error(errors::WRONGTYPE);
                return;
            }
        },
        Ok(None) => None,
    };
    let added = match existing {
        Some(added) => added,
        None => {
            if a.no_mkstream {
                ctx.out.null();
                return;
            }
            // Redis creates the key before appending: an entry too large
            // leaves an empty stream behind.
            let mut s = Stream::new();
            let id = add_entry(
                ctx.out,
                &mut s,
                &a,
                fields,
                now_ms,
                node_entries,
                node_bytes,
            );
            let added = rewrite_add(id, &s);
            ks.add(stream_entry(key, s));
            added
        }
    };
    drop(ks);
    if added {
        ctx.store.add_dirty(1);
        ctx.signal_ready(key);
        if let Some(argv) = argv {
            ctx.propagate(&argv);
        }
    }
}

/// The part of XADD under the key's lock: picks the ID as
/// `streamAppendItem` does, appends, replies the ID and trims. Returns
/// the ID added (`None` once the error is written).
fn add_entry(
    out: &mut ReplyBuf,
    s: &mut Stream,
    a: &AddTrimArgs,
    fields: &[&[u8]],
    now_ms: u64,
    node_entries: u64,
    node_bytes: u64,
) -> Option<StreamId> {
    s.set_node_limits(node_entries, node_bytes);
    if s.last_id == StreamId::MAX {
        out.error(ID_EXHAUSTED);
        return None;
    }
    let id = match a.id {
        Some((id, true)) => id,
        Some((id, false)) => {
            if s.last_id.ms == id.ms {
                match s.last_id.seq.checked_add(1) {
                    Some(seq) => StreamId::new(id.ms, seq),
                    None => {
                        out.error(ID_TOO_SMALL);
                        return None;
                    }
                }
            } else {
                id
            }
        }
        None => {
            if now_ms > s.last_id.ms {
                StreamId::new(now_ms, 0)
            } else {
                // Not MAX: checked above.
                s.last_id.next().unwrap_or(StreamId::MAX)
            }
        }
    };
    if id <= s.last_id {
        out.error(ID_TOO_SMALL);
        return None;
    }
    let total: u64 = fields.iter().map(|f| f.len() as u64).sum();
    if total > LISTPACK_MAX_SIZE {
        out.error(TOO_LARGE);
        return None;
    }
    s.append(id, fields);
    reply_id(out, id);
    if let Some(strategy) = a.trim {
        s.trim(&trim_spec(a, strategy));
    }
    Some(id)
}

// ---------------------------------------------------------------------------
// XRANGE, XREVRANGE, XLEN
// ---------------------------------------------------------------------------

fn xrange(ctx: &mut Ctx<'_>) {
    range_generic(ctx, false);
}

fn xrevrange(ctx: &mut Ctx<'_>) {
    range_generic(ctx, true);
}

/// XRANGE key start end [COUNT n] / XREVRANGE key end start [COUNT n]
/// (`xrangeGenericCommand`).
fn range_generic(ctx: &mut Ctx<'_>, rev: bool) {
    let (start_arg, end_arg) = if rev {
        (ctx.arg(3), ctx.arg(2))
    } else {
        (ctx.arg(2), ctx.arg(3))
    };
    let Some((mut start, start_ex)) = interval_id(ctx.out, start_arg, 0) else {
        return;
    };
    if start_ex {
        match start.next() {
            Some(n) => start = n,
            None => {
                ctx.out.error(BAD_START);
                return;
            }
        }
    }
    let Some((mut end, end_ex)) = interval_id(ctx.out, end_arg, u64::MAX) else {
        return;
    };
    if end_ex {
        match end.prev() {
            Some(p) => end = p,
            None => {
                ctx.out.error(BAD_END);
                return;
            }
        }
    }
    let mut count: i64 = -1;
    let mut j = 4;
    while j < ctx.argc() {
        if is_token(ctx.arg(j), "COUNT") && j + 1 < ctx.argc() {
            let Some(n) = ctx.int_arg(j + 1) else {
                return;
            };
            count = n.max(0);
            j += 2;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
    }
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let e = match ks.read_typed(key, ValueType::Stream) {
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
    let Some(s) = stream_ref(&e) else {
        ctx.out.error(errors::WRONGTYPE);
        return;
    };
    if count == 0 {
        ctx.out.null_array();
        return;
    }
    reply_range(ctx.out, s, start, end, count.max(0) as u64, rev);
}

/// XLEN key.
fn xlen(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    match ks.read_typed(key, ValueType::Stream) {
        Err(msg) => ctx.out.error(msg),
        Ok(None) => ctx.out.int(0),
        Ok(Some(e)) => {
            let n = stream_ref(&e).map_or(0, |s| s.len());
            ctx.out.int(n as i64);
        }
    }
}

// ---------------------------------------------------------------------------
// XDEL, XDELEX, XTRIM
// ---------------------------------------------------------------------------

/// XDEL key id [id ...]: the key first, then every ID, then the deletions.
fn xdel(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let mut e = match ks.write_typed_quiet(key, ValueType::Stream) {
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
    let mut ids = Vec::with_capacity(ctx.argc() - 2);
    for j in 2..ctx.argc() {
        let Some(id) = strict_id(ctx.out, ctx.arg(j), 0) else {
            return;
        };
        ids.push(id);
    }
    let Some(s) = stream_mut(&mut e) else {
        ctx.out.error(errors::WRONGTYPE);
        return;
    };
    let deleted = ids.iter().filter(|&&id| s.delete(id)).count();
    drop(e);
    // WATCH sees the key changed only when something was deleted, as
    // Redis signals it.
    if deleted > 0 {
        ks.touch_watched(key);
    }
    drop(ks);
    ctx.store.add_dirty(deleted as u64);
    ctx.out.int(deleted as i64);
}

/// XDELEX key [KEEPREF|DELREF|ACKED] IDS numids id [id ...] (Redis 8.2):
/// one code per ID: -1 not found, 1 deleted, 2 kept because a consumer
/// group still needs it (ACKED).
fn xdelex(ctx: &mut Ctx<'_>) {
    let argc = ctx.argc();
    let mut policy = None;
    let mut i = 2;
    let mut ids_at = None;
    // `streamParseAckDelArgsOrReply`: one policy at most, options may
    // follow the IDs.
    while i < argc {
        let opt = ctx.arg(i);
        if let Some(p) = ref_policy(opt).filter(|_| policy.is_none()) {
            policy = Some(p);
            i += 1;
        } else if is_token(opt, "IDS") && i + 1 < argc {
            let Some(n) = parse_i64(ctx.arg(i + 1)).filter(|&n| n > 0) else {
                ctx.out.error(NUMIDS_BAD);
                return;
            };
            if n as u64 > (argc - i - 2) as u64 {
                ctx.out.error(NUMIDS_MISMATCH);
                return;
            }
            ids_at = Some((i + 2, n as usize));
            i += 2 + n as usize;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
    }
    let policy = policy.unwrap_or_default();
    let Some((first, numids)) = ids_at else {
        ctx.out.error(IDS_REQUIRED);
        return;
    };
    let mut ids = Vec::with_capacity(numids);
    for j in first..first + numids {
        let Some(id) = strict_id(ctx.out, ctx.arg(j), 0) else {
            return;
        };
        ids.push(id);
    }
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let mut e = match ks.write_typed_quiet(key, ValueType::Stream) {
        Err(msg) => {
            ctx.out.error(msg);
            return;
        }
        Ok(None) => {
            ctx.out.array(ids.len());
            for _ in &ids {
                ctx.out.int(-1);
            }
            return;
        }
        Ok(Some(e)) => e,
    };
    let Some(s) = stream_mut(&mut e) else {
        ctx.out.error(errors::WRONGTYPE);
        return;
    };
    ctx.out.array(ids.len());
    let mut deleted = 0u64;
    for &id in &ids {
        let code = s.delete_with_policy(id, policy);
        if code == 1 {
            deleted += 1;
        }
        ctx.out.int(code);
    }
    drop(e);
    if deleted > 0 {
        ks.touch_watched(key);
    }
    drop(ks);
    ctx.store.add_dirty(deleted);
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
/// [KEEPREF|DELREF|ACKED].
fn xtrim(ctx: &mut Ctx<'_>) {
    let Some(a) = parse_add_trim(ctx, false) else {
        return;
    };
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let mut e = match ks.write_typed_quiet(key, ValueType::Stream) {
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
    let Some(s) = stream_mut(&mut e) else {
        ctx.out.error(errors::WRONGTYPE);
        return;
    };
    let deleted = match a.trim {
        Some(strategy) => s.trim(&trim_spec(&a, strategy)),
        None => 0,
    };
    // An approximate trim goes as the exact one it came to (Redis's
    // xtrimCommand).
    let argv = (deleted > 0 && a.approx && ctx.propagating()).then(|| {
        let mut v: Vec<Vec<u8>> = ctx.args.iter().map(|x| x.to_vec()).collect();
        rewrite_trim(&mut v, &a, s);
        v
    });
    drop(e);
    if deleted > 0 {
        ks.touch_watched(key);
    }
    drop(ks);
    ctx.store.add_dirty(deleted);
    ctx.out.int(deleted as i64);
    if let Some(argv) = argv {
        ctx.propagate(&argv);
    }
}

// ---------------------------------------------------------------------------
// XREAD
// ---------------------------------------------------------------------------

/// XREAD [COUNT n] [BLOCK ms] STREAMS key [key ...] id [id ...]
/// (`xreadCommand` without GROUP).
fn xread(ctx: &mut Ctx<'_>) {
    let argc = ctx.argc();
    let mut block: Option<i64> = None;
    let mut count: u64 = 0;
    let mut streams_at = 0;
    let mut i = 1;
    while i < argc {
        let more = argc - i - 1;
        let o = ctx.arg(i);
        if is_token(o, "BLOCK") && more > 0 {
            i += 1;
            let Some(ms) = parse_i64(ctx.arg(i)) else {
                ctx.out.error(BLOCK_NOT_INTEGER);
                return;
            };
            let Some(deadline) = ctx.deadline_from_ms(ms) else {
                return;
            };
            block = Some(deadline);
        } else if is_token(o, "COUNT") && more > 0 {
            i += 1;
            let Some(n) = ctx.int_arg(i) else {
                return;
            };
            count = n.max(0) as u64;
        } else if is_token(o, "STREAMS") && more > 0 {
            streams_at = i + 1;
            if (argc - streams_at) % 2 != 0 {
                ctx.out.error(XREAD_UNBALANCED);
                return;
            }
            break;
        } else if is_token(o, "GROUP") && more >= 2 {
            ctx.out.error(GROUP_ONLY_XREADGROUP);
            return;
        } else if is_token(o, "NOACK") {
            ctx.out.error(NOACK_ONLY_XREADGROUP);
            return;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
        i += 1;
    }
    if streams_at == 0 {
        ctx.out.error(errors::SYNTAX);
        return;
    }
    let n = (argc - streams_at) / 2;
    let args: &[&[u8]] = ctx.args;
    let keys = &args[streams_at..streams_at + n];
    let id_args = &args[streams_at + n..];
    let mut ks = ctx.keys(keys);
    // The IDs, resolved key by key as Redis does (a WRONGTYPE key stops at
    // once, even after bad IDs for later keys).
    let mut ids = Vec::with_capacity(n);
    for (key, arg) in keys.iter().zip(id_args) {
        let last = match ks.read_typed(key, ValueType::Stream) {
            Err(msg) => {
                ctx.out.error(msg);
                return;
            }
            Ok(e) => e.and_then(|e| stream_ref(&e).map(|s| (s.last_id, s.last_entry_id()))),
        };
        let id = match *arg {
            b"$" => last.map_or(StreamId::MIN, |(l, _)| l),
            // Just before the last entry present (not the last ID ever
            // added, which may be deleted: Redis issue #13628).
            b"+" => match last {
                Some((_, Some(top))) => match top.prev() {
                    Some(p) => p,
                    None => {
                        ctx.out.error(LAST_ID_ZERO);
                        return;
                    }
                },
                Some((l, None)) => l,
                None => StreamId::MIN,
            },
            b">" => {
                ctx.out.error(GT_ONLY_XREADGROUP);
                return;
            }
            other => match strict_id(ctx.out, other, 0) {
                Some(id) => id,
                None => return,
            },
        };
        ids.push(id);
    }
    // Serve what can be served now.
    let resp3 = ctx.out.is_resp3();
    let mut served = 0usize;
    let mut at = None;
    for (key, &after) in keys.iter().zip(&ids) {
        // A second read lookup, as Redis's serving loop makes: hits and
        // misses count twice.
        let Some(e) = ks.read(key) else {
            continue;
        };
        let Some(s) = stream_ref(&e) else {
            continue;
        };
        let Some(max) = s.last_entry_id() else {
            continue;
        };
        if max <= after {
            continue;
        }
        if at.is_none() {
            at = Some(ctx.out.deferred());
        }
        served += 1;
        if !resp3 {
            ctx.out.array(2);
        }
        ctx.out.bulk(key);
        // `after` < max, so it has a successor.
        let start = after.next().unwrap_or(StreamId::MAX);
        reply_range(ctx.out, s, start, StreamId::MAX, count, false);
    }
    if let Some(at) = at {
        if resp3 {
            ctx.out.set_deferred_map(at, served);
        } else {
            ctx.out.set_deferred_array(at, served);
        }
        return;
    }
    drop(ks);
    let Some(deadline) = block else {
        ctx.out.null_array();
        return;
    };
    // Block with `$` replaced by the ID it stood for now.
    let mut rewritten: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
    for (k, arg) in id_args.iter().enumerate() {
        if *arg == b"$" {
            let mut buf = [0u8; 41];
            let len = format_id(ids[k], &mut buf);
            rewritten[streams_at + n + k] = buf[..len].to_vec();
        }
    }
    ctx.block_on_keys_as(
        keys,
        BlockedOn::Stream,
        deadline,
        TimeoutReply::NullArray,
        rewritten,
    );
}

// ---------------------------------------------------------------------------
// XSETID
// ---------------------------------------------------------------------------

/// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id].
fn xsetid(ctx: &mut Ctx<'_>) {
    let Some(id) = strict_id(ctx.out, ctx.arg(2), 0) else {
        return;
    };
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    let argc = ctx.argc();
    while i < argc {
        let more = argc - 1 - i;
        let opt = ctx.arg(i);
        if is_token(opt, "ENTRIESADDED") && more > 0 {
            let Some(n) = ctx.int_arg(i + 1) else {
                return;
            };
            if n < 0 {
                ctx.out.error(ENTRIES_ADDED_NEGATIVE);
                return;
            }
            entries_added = Some(n as u64);
            i += 2;
        } else if is_token(opt, "MAXDELETEDID") && more > 0 {
            let Some(m) = strict_id(ctx.out, ctx.arg(i + 1), 0) else {
                return;
            };
            if id < m {
                ctx.out.error(SETID_BELOW_GIVEN_MAX_DELETED);
                return;
            }
            max_deleted = m;
            i += 2;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
    }
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let mut e = match ks.write_typed_quiet(key, ValueType::Stream) {
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
    let Some(s) = stream_mut(&mut e) else {
        ctx.out.error(errors::WRONGTYPE);
        return;
    };
    if id < s.max_deleted_id {
        ctx.out.error(SETID_BELOW_MAX_DELETED);
        return;
    }
    if let Some(top) = s.last_entry_id() {
        if id < top {
            ctx.out.error(SETID_BELOW_TOP);
            return;
        }
        if entries_added.is_some_and(|n| (s.len() as u64) > n) {
            ctx.out.error(SETID_ENTRIES_ADDED_SMALL);
            return;
        }
    }
    s.last_id = id;
    if let Some(n) = entries_added {
        s.entries_added = n;
    }
    if max_deleted != StreamId::MIN {
        s.max_deleted_id = max_deleted;
    }
    drop(e);
    ks.touch_watched(key);
    drop(ks);
    ctx.store.add_dirty(1);
    ctx.out.ok();
}
