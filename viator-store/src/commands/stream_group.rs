//! The consumer-group commands of streams: XGROUP, XREADGROUP, XACK,
//! XACKDEL, XPENDING, XCLAIM, XAUTOCLAIM and XINFO (Redis's `t_stream.c`).
//!
//! Every handler makes its checks in the order of its Redis counterpart,
//! so that a request with several faults gets the same error: XPENDING and
//! XAUTOCLAIM parse their arguments before looking at the key, XACK, XCLAIM
//! and XINFO look at the key (and group) first; XGROUP parses its options,
//! then the key, then the group, then the ID.
//!
//! XREADGROUP serves at once when it can (history, entries after the
//! group's last delivered ID, or with 8.4's CLAIM pending entries idle long
//! enough); otherwise, with BLOCK, it blocks with
//! [`BlockedOn::StreamGroup`]: it is run again from the start when its key
//! gets an entry, is deleted, flushed or retyped, or its group destroyed,
//! and then replies the entries or Redis's error (NOGROUP, WRONGTYPE).
//!
//! The group state (PEL, consumers, read counter and lag arithmetic) lives
//! in `viator_types::stream::groups`; this file parses, looks up and
//! replies.

use viator_protocol::ReplyBuf;
use viator_types::entry::{Entry, NewValue, Object, ValueType};
use viator_types::number::parse_i64;
use viator_types::stream::groups::{MAX_DELIVERY_COUNT, claim_idle};
use viator_types::stream::{ConsumerGroup, Stream, StreamId};

use crate::blocking::{BlockedOn, TimeoutReply};
use crate::command::{BeginSearch, CommandSpec, Ctx, FindKeys, KeySpec, acl, flags};
use crate::errors;

use super::rewrite;
use super::stream::id_text;

// ---------------------------------------------------------------------------
// The command table
// ---------------------------------------------------------------------------

const KS_RW_UPDATE_1: &[KeySpec] = &[KeySpec::single(1, &["RW", "UPDATE"])];
const KS_RW_DELETE_1: &[KeySpec] = &[KeySpec::single(1, &["RW", "DELETE"])];
const KS_RW_UPDATE_DELETE_1: &[KeySpec] = &[KeySpec::single(1, &["RW", "UPDATE", "DELETE"])];
const KS_RO_ACCESS_1: &[KeySpec] = &[KeySpec::single(1, &["RO", "ACCESS"])];
const KS_RO_ACCESS_2: &[KeySpec] = &[KeySpec::single(2, &["RO", "ACCESS"])];
const KS_RW_INSERT_2: &[KeySpec] = &[KeySpec::single(2, &["RW", "INSERT"])];
const KS_RW_DELETE_2: &[KeySpec] = &[KeySpec::single(2, &["RW", "DELETE"])];
const KS_RW_UPDATE_2: &[KeySpec] = &[KeySpec::single(2, &["RW", "UPDATE"])];
const XREADGROUP_KEYS: &[KeySpec] = &[KeySpec {
    flags: &["RO", "ACCESS"],
    begin: BeginSearch::Keyword {
        keyword: "STREAMS",
        startfrom: 4,
    },
    find: FindKeys::Range {
        lastkey: -1,
        keystep: 1,
        limit: 2,
    },
    notes: "",
}];
const ENTRIES_READ_HISTORY_CREATE: &[(&str, &str)] =
    &[("7.0.0", "Added the `entries_read` named argument.")];
const ENTRIES_READ_HISTORY_SETID: &[(&str, &str)] =
    &[("7.0.0", "Added the optional `entries_read` argument.")];

const XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "create",
        arity: -5,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::STREAM,
        keys: KS_RW_INSERT_2,
        group: "stream",
        summary: "Creates a consumer group.",
        since: "5.0.0",
        complexity: "O(1)",
        args: "key:key group:string id-selector:( id:string | $=new-id ) [MKSTREAM] [ENTRIESREAD=entriesread/entries-read:integer]",
        history: ENTRIES_READ_HISTORY_CREATE,
        handler: Some(xgroup_create),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "createconsumer",
        arity: 5,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::STREAM,
        keys: KS_RW_INSERT_2,
        group: "stream",
        summary: "Creates a consumer in a consumer group.",
        since: "6.2.0",
        complexity: "O(1)",
        args: "key:key group:string consumer:string",
        handler: Some(xgroup_createconsumer),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "delconsumer",
        arity: 5,
        flags: flags::WRITE,
        acl: acl::STREAM,
        keys: KS_RW_DELETE_2,
        group: "stream",
        summary: "Deletes a consumer from a consumer group.",
        since: "5.0.0",
        complexity: "O(1)",
        args: "key:key group:string consumer:string",
        handler: Some(xgroup_delconsumer),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "destroy",
        arity: 4,
        flags: flags::WRITE,
        acl: acl::STREAM,
        keys: KS_RW_DELETE_2,
        group: "stream",
        summary: "Destroys a consumer group.",
        since: "5.0.0",
        complexity: "O(N) where N is the number of entries in the group's pending entries list (PEL).",
        args: "key:key group:string",
        handler: Some(xgroup_destroy),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: flags::LOADING | flags::STALE,
        acl: acl::STREAM,
        group: "stream",
        summary: "Returns helpful text about the different subcommands.",
        since: "5.0.0",
        complexity: "O(1)",
        handler: Some(xgroup_help),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setid",
        arity: -5,
        flags: flags::WRITE,
        acl: acl::STREAM,
        keys: KS_RW_UPDATE_2,
        group: "stream",
        summary: "Sets the last-delivered ID of a consumer group.",
        since: "5.0.0",
        complexity: "O(1)",
        args: "key:key group:string id-selector:( id:string | $=new-id ) [ENTRIESREAD=entriesread/entries-read:integer]",
        history: ENTRIES_READ_HISTORY_SETID,
        handler: Some(xgroup_setid),
        ..CommandSpec::DEFAULT
    },
];

const XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "consumers",
        arity: 4,
        flags: flags::READONLY,
        acl: acl::STREAM,
        keys: KS_RO_ACCESS_2,
        group: "stream",
        summary: "Returns a list of the consumers in a consumer group.",
        since: "5.0.0",
        complexity: "O(1)",
        args: "key:key group:string",
        tips: &["nondeterministic_output"],
        history: &[(
            "7.2.0",
            "Added the `inactive` field, and changed the meaning of `idle`.",
        )],
        handler: Some(xinfo_consumers),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "groups",
        arity: 3,
        flags: flags::READONLY,
        acl: acl::STREAM,
        keys: KS_RO_ACCESS_2,
        group: "stream",
        summary: "Returns a list of the consumer groups of a stream.",
        since: "5.0.0",
        complexity: "O(1)",
        args: "key:key",
        history: &[("7.0.0", "Added the `entries-read` and `lag` fields")],
        handler: Some(xinfo_groups),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: flags::LOADING | flags::STALE,
        acl: acl::STREAM,
        group: "stream",
        summary: "Returns helpful text about the different subcommands.",
        since: "5.0.0",
        complexity: "O(1)",
        handler: Some(xinfo_help),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "stream",
        arity: -3,
        flags: flags::READONLY,
        acl: acl::STREAM,
        keys: KS_RO_ACCESS_2,
        group: "stream",
        summary: "Returns information about a stream.",
        since: "5.0.0",
        complexity: "O(1)",
        args: "key:key [full-block:{ FULL [COUNT=count:integer] }]",
        history: &[
            ("6.0.0", "Added the `FULL` modifier."),
            (
                "7.0.0",
                "Added the `max-deleted-entry-id`, `entries-added`, `recorded-first-entry-id`, `entries-read` and `lag` fields",
            ),
            (
                "7.2.0",
                "Added the `active-time` field, and changed the meaning of `seen-time`.",
            ),
        ],
        handler: Some(xinfo_stream),
        ..CommandSpec::DEFAULT
    },
];

/// The commands of this family.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "xack",
        arity: -4,
        flags: flags::WRITE | flags::FAST,
        acl: acl::STREAM,
        keys: KS_RW_UPDATE_1,
        group: "stream",
        summary: "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.",
        since: "5.0.0",
        complexity: "O(1) for each message ID processed.",
        args: "key:key group:string ID:string...",
        handler: Some(xack),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xackdel",
        arity: -6,
        flags: flags::WRITE | flags::FAST,
        acl: acl::STREAM,
        keys: KS_RW_UPDATE_DELETE_1,
        group: "stream",
        summary: "Acknowledges and deletes one or multiple messages for a stream consumer group.",
        since: "8.2.0",
        complexity: "O(1) for each message ID processed.",
        args: "key:key group:string [condition:( KEEPREF | DELREF | ACKED )] IDS=ids:{ numids:integer id:string... }",
        handler: Some(xackdel),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xautoclaim",
        arity: -6,
        flags: flags::WRITE | flags::FAST,
        acl: acl::STREAM,
        keys: KS_RW_DELETE_1,
        group: "stream",
        summary: "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.",
        since: "6.2.0",
        complexity: "O(1) if COUNT is small.",
        args: "key:key group:string consumer:string min-idle-time:string start:string [COUNT=count:integer] [JUSTID]",
        tips: &["nondeterministic_output"],
        history: &[(
            "7.0.0",
            "Added an element to the reply array, containing deleted entries the command cleared from the PEL",
        )],
        handler: Some(xautoclaim),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xclaim",
        arity: -6,
        flags: flags::WRITE | flags::FAST,
        acl: acl::STREAM,
        keys: KS_RW_UPDATE_1,
        group: "stream",
        summary: "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.",
        since: "5.0.0",
        complexity: "O(log N) with N being the number of messages in the PEL of the consumer group.",
        args: "key:key group:string consumer:string min-idle-time:string ID:string... [IDLE=ms:integer] [TIME=unix-time-milliseconds:unix-time] [RETRYCOUNT=count:integer] [FORCE] [JUSTID] [LASTID=lastid:string]",
        tips: &["nondeterministic_output"],
        handler: Some(xclaim),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xgroup",
        arity: -2,
        group: "stream",
        summary: "A container for consumer groups commands.",
        since: "5.0.0",
        complexity: "Depends on subcommand.",
        subcommands: XGROUP_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xinfo",
        arity: -2,
        group: "stream",
        summary: "A container for stream introspection commands.",
        since: "5.0.0",
        complexity: "Depends on subcommand.",
        subcommands: XINFO_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xpending",
        arity: -3,
        flags: flags::READONLY,
        acl: acl::STREAM,
        keys: KS_RO_ACCESS_1,
        group: "stream",
        summary: "Returns the information and entries from a stream consumer group's pending entries list.",
        since: "5.0.0",
        complexity: "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
        args: "key:key group:string [filters:{ [IDLE=min-idle-time:integer@6.2.0] start:string end:string count:integer [consumer:string] }]",
        tips: &["nondeterministic_output"],
        history: &[(
            "6.2.0",
            "Added the `IDLE` option and exclusive range intervals.",
        )],
        handler: Some(xpending),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xreadgroup",
        arity: -7,
        flags: flags::WRITE | flags::BLOCKING,
        acl: acl::STREAM,
        keys: XREADGROUP_KEYS,
        group: "stream",
        summary: "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.",
        since: "5.0.0",
        complexity: "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
        args: "GROUP=group-block:{ group:string consumer:string } [COUNT=count:integer] [BLOCK=milliseconds:integer] [CLAIM=min-idle-time:integer] [NOACK] STREAMS=streams:{ key:key... ID:string... }",
        handler: Some(xreadgroup),
        ..CommandSpec::DEFAULT
    },
];

// ---------------------------------------------------------------------------
// Errors and shared helpers
// ---------------------------------------------------------------------------

const KEY_MUST_EXIST: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
const BUSYGROUP: &str = "BUSYGROUP Consumer Group name already exists";
const ENTRIESREAD_RANGE: &str = "ERR value for ENTRIESREAD must be positive or -1";
const INVALID_START: &str = "ERR invalid start ID for the interval";
const INVALID_END: &str = "ERR invalid end ID for the interval";
const MISSING_GROUP: &str = "ERR Missing GROUP option for XREADGROUP";
const DOLLAR_IN_GROUP: &str = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.";
const PLUS_IN_GROUP: &str = "ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.";
const UNBALANCED: &str = "ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.";
const CLAIM_NOT_INTEGER: &str = "ERR min-idle-time is not an integer or out of range";
const CLAIM_NEGATIVE: &str = "ERR min-idle-time must be a positive integer";
const TIMEOUT_NOT_INTEGER: &str = "ERR timeout is not an integer or out of range";
const AUTOCLAIM_COUNT: &str = "ERR COUNT must be > 0";
const NUMIDS_POSITIVE: &str = "ERR Number of IDs must be a positive integer";
const NUMIDS_MATCH: &str = "ERR The `numids` parameter must match the number of arguments";
const IDS_REQUIRED: &str = "ERR IDS option is required";

/// `NOGROUP No such key '<key>' or consumer group '<group>'<suffix>`.
fn nogroup_key_or_group(out: &mut ReplyBuf, key: &[u8], group: &[u8], suffix: &str) {
    let mut msg = b"NOGROUP No such key '".to_vec();
    msg.extend_from_slice(key);
    msg.extend_from_slice(b"' or consumer group '");
    msg.extend_from_slice(group);
    msg.push(b'\'');
    msg.extend_from_slice(suffix.as_bytes());
    out.error_bytes(&msg);
}

/// `NOGROUP No such consumer group '<group>' for key name '<key>'`.
fn nogroup_for_key(out: &mut ReplyBuf, group: &[u8], key: &[u8]) {
    let mut msg = b"NOGROUP No such consumer group '".to_vec();
    msg.extend_from_slice(group);
    msg.extend_from_slice(b"' for key name '");
    msg.extend_from_slice(key);
    msg.push(b'\'');
    out.error_bytes(&msg);
}

/// Redis's `addReplySubcommandSyntaxError`: the subcommand as typed.
fn subcommand_syntax_error(ctx: &mut Ctx<'_>) {
    let cmd = String::from_utf8_lossy(ctx.arg(0)).to_ascii_uppercase();
    let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    let sub = ctx.arg(1);
    msg.extend_from_slice(&sub[..sub.len().min(128)]);
    msg.extend_from_slice(format!("'. Try {cmd} HELP.").as_bytes());
    ctx.out.error_bytes(&msg);
}

/// Redis's `addReplyHelp`.
fn reply_help(ctx: &mut Ctx<'_>, lines: &[&str]) {
    let name = String::from_utf8_lossy(ctx.arg(0)).to_ascii_uppercase();
    let out = &mut *ctx.out;
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Print this help.");
}

fn eq(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// `streamParseStrictIDOrReply`: `-` and `+` are refused, a missing
/// sequence is 0.
fn parse_strict_id(b: &[u8]) -> Option<StreamId> {
    if b == b"-" || b == b"+" {
        return None;
    }
    StreamId::parse(b, 0)
}

/// `streamParseIntervalIDOrReply`: `(id` is an exclusive bound (parsed
/// strictly), anything else an inclusive one where `-` and `+` are allowed.
fn parse_interval_id(b: &[u8], missing_seq: u64) -> Option<(StreamId, bool)> {
    if b.len() > 1 && b[0] == b'(' {
        if &b[1..] == b"-" || &b[1..] == b"+" {
            return None;
        }
        return StreamId::parse(&b[1..], missing_seq).map(|id| (id, true));
    }
    StreamId::parse(b, missing_seq).map(|id| (id, false))
}

/// A stream ID as its reply text, without allocating.
struct IdText {
    buf: [u8; 41],
    len: usize,
}

impl IdText {
    fn new(id: StreamId) -> IdText {
        let mut buf = [0u8; 41];
        let mut a = itoa::Buffer::new();
        let ms = a.format(id.ms).as_bytes();
        buf[..ms.len()].copy_from_slice(ms);
        let mut len = ms.len();
        buf[len] = b'-';
        len += 1;
        let seq = a.format(id.seq).as_bytes();
        buf[len..len + seq.len()].copy_from_slice(seq);
        len += seq.len();
        IdText { buf, len }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

fn reply_id(out: &mut ReplyBuf, id: StreamId) {
    out.bulk(IdText::new(id).as_bytes());
}

/// One entry as `[id, [field, value, ...]]`.
fn reply_entry(out: &mut ReplyBuf, id: StreamId, fields: &[&[u8]]) {
    out.array(2);
    reply_id(out, id);
    reply_fields(out, fields);
}

fn reply_fields(out: &mut ReplyBuf, fields: &[&[u8]]) {
    out.array(fields.len());
    for f in fields {
        out.bulk(f);
    }
}

/// Writes entry `id` of `s` as `[id, fields]`; returns false (writing
/// nothing) if it is not in the stream.
fn reply_stream_entry(out: &mut ReplyBuf, s: &Stream, id: StreamId) -> bool {
    let mut found = false;
    s.range(id, id, false, |id, fields| {
        reply_entry(out, id, fields);
        found = true;
        false
    });
    found
}

fn stream_mut(e: &mut Entry) -> &mut Stream {
    match e.as_object_mut() {
        Some(Object::Stream(s)) => s,
        // The caller looked the key up typed: it holds a stream.
        _ => unreachable!("typed lookup returned a non-stream"),
    }
}

fn new_stream_entry(key: &[u8]) -> Entry {
    Entry::new(
        key,
        NewValue::Object(Box::new(Object::Stream(Box::default()))),
        None,
    )
}

fn parse_i64_or(out: &mut ReplyBuf, b: &[u8], msg: &str) -> Option<i64> {
    let v = parse_i64(b);
    if v.is_none() {
        out.error(msg);
    }
    v
}

// ---------------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------------

/// The options of XGROUP CREATE (`MKSTREAM`, `ENTRIESREAD`) and SETID
/// (`ENTRIESREAD`), from argument 5 on. `None` when an error was written.
fn xgroup_options(ctx: &mut Ctx<'_>, create: bool) -> Option<(bool, i64)> {
    let (mut mkstream, mut entries_read) = (false, -1i64);
    let mut i = 5;
    while i < ctx.argc() {
        let a = ctx.arg(i);
        if create && eq(a, "MKSTREAM") {
            mkstream = true;
            i += 1;
        } else if eq(a, "ENTRIESREAD") && i + 1 < ctx.argc() {
            let v = parse_i64_or(ctx.out, ctx.arg(i + 1), errors::NOT_INTEGER)?;
            if v < 0 && v != -1 {
                ctx.out.error(ENTRIESREAD_RANGE);
                return None;
            }
            entries_read = v;
            i += 2;
        } else {
            subcommand_syntax_error(ctx);
            return None;
        }
    }
    Some((mkstream, entries_read))
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n].
fn xgroup_create(ctx: &mut Ctx<'_>) {
    let Some((mkstream, entries_read)) = xgroup_options(ctx, true) else {
        return;
    };
    let (key, group, id_arg) = (ctx.arg(2), ctx.arg(3), ctx.arg(4));
    let mut ks = ctx.key(key);
    let exists = match ks.write_typed_quiet(key, ValueType::Stream) {
        Err(e) => return ctx.out.error(e),
        Ok(found) => found.is_some(),
    };
    if !exists && !mkstream {
        return ctx.out.error(KEY_MUST_EXIST);
    }
    if ctx.argc() > 8 {
        return subcommand_syntax_error(ctx);
    }
    let id = if id_arg == b"$" {
        match ks.peek(key).and_then(|e| match e.as_object() {
            Some(Object::Stream(s)) => Some(s.last_id),
            _ => None,
        }) {
            Some(id) => id,
            None => StreamId::MIN,
        }
    } else {
        match parse_strict_id(id_arg) {
            Some(id) => id,
            None => return ctx.out.error(errors::INVALID_STREAM_ID),
        }
    };
    if !exists {
        ks.add(new_stream_entry(key));
    }
    let Ok(Some(mut e)) = ks.write_typed_quiet(key, ValueType::Stream) else {
        return ctx.out.error(KEY_MUST_EXIST);
    };
    let s = stream_mut(&mut e);
    if s.groups.contains_key(group) {
        return ctx.out.error(BUSYGROUP);
    }
    s.groups
        .insert(group.into(), ConsumerGroup::new(id, entries_read));
    drop(e);
    ks.touch_watched(key);
    ctx.store.add_dirty(1);
    ctx.out.ok();
}

/// Looks up `key` for XGROUP SETID/CREATECONSUMER/DELCONSUMER/DESTROY:
/// WRONGTYPE, the key-must-exist error and (unless `group_optional`)
/// NOGROUP are written here. Returns whether the group exists.
fn xgroup_lookup(
    ctx: &mut Ctx<'_>,
    ks: &mut crate::Keyspace<'_>,
    group_optional: bool,
) -> Option<bool> {
    let (key, group) = (ctx.arg(2), ctx.arg(3));
    let found = match ks.write_typed_quiet(key, ValueType::Stream) {
        Err(e) => {
            ctx.out.error(e);
            return None;
        }
        Ok(None) => {
            ctx.out.error(KEY_MUST_EXIST);
            return None;
        }
        Ok(Some(mut e)) => stream_mut(&mut e).groups.contains_key(group),
    };
    if !found && !group_optional {
        nogroup_for_key(ctx.out, group, key);
        return None;
    }
    Some(found)
}

/// XGROUP SETID key group id|$ [ENTRIESREAD n].
fn xgroup_setid(ctx: &mut Ctx<'_>) {
    let Some((_, entries_read)) = xgroup_options(ctx, false) else {
        return;
    };
    let key = ctx.arg(2);
    let mut ks = ctx.key(key);
    if xgroup_lookup(ctx, &mut ks, false).is_none() {
        return;
    }
    if ctx.argc() != 5 && ctx.argc() != 7 {
        return subcommand_syntax_error(ctx);
    }
    let Ok(Some(mut e)) = ks.write_typed_quiet(key, ValueType::Stream) else {
        return;
    };
    let s = stream_mut(&mut e);
    let id_arg = ctx.arg(4);
    let id = if id_arg == b"$" {
        s.last_id
    } else {
        match StreamId::parse(id_arg, 0) {
            Some(id) => id,
            None => return ctx.out.error(errors::INVALID_STREAM_ID),
        }
    };
    if let Some(g) = s.groups.get_mut(ctx.arg(3)) {
        g.last_id = id;
        g.entries_read = entries_read;
    }
    drop(e);
    ks.touch_watched(key);
    ctx.store.add_dirty(1);
    ctx.out.ok();
}

/// XGROUP DESTROY key group: 1 if the group existed.
fn xgroup_destroy(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(2);
    let mut ks = ctx.key(key);
    if xgroup_lookup(ctx, &mut ks, true).is_none() {
        return;
    }
    let removed = match ks.write_typed_quiet(key, ValueType::Stream) {
        Ok(Some(mut e)) => stream_mut(&mut e).groups.remove(ctx.arg(3)).is_some(),
        _ => false,
    };
    if removed {
        ks.touch_watched(key);
        ctx.store.add_dirty(1);
        // XREADGROUP clients blocked on the group get -NOGROUP.
        ctx.signal_ready(key);
    }
    ctx.out.int(i64::from(removed));
}

/// XGROUP CREATECONSUMER key group consumer: 1 if created.
fn xgroup_createconsumer(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(2);
    let mut ks = ctx.key(key);
    if xgroup_lookup(ctx, &mut ks, false).is_none() {
        return;
    }
    let created = match ks.write_typed_quiet(key, ValueType::Stream) {
        Ok(Some(mut e)) => stream_mut(&mut e)
            .groups
            .get_mut(ctx.arg(3))
            .is_some_and(|g| g.create_consumer(ctx.arg(4), ctx.now_ms)),
        _ => false,
    };
    if created {
        ks.touch_watched(key);
        ctx.store.add_dirty(1);
    }
    ctx.out.int(i64::from(created));
}

/// XGROUP DELCONSUMER key group consumer: how many entries it had pending.
fn xgroup_delconsumer(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(2);
    let mut ks = ctx.key(key);
    if xgroup_lookup(ctx, &mut ks, false).is_none() {
        return;
    }
    let pending = match ks.write_typed_quiet(key, ValueType::Stream) {
        Ok(Some(mut e)) => stream_mut(&mut e)
            .groups
            .get_mut(ctx.arg(3))
            .and_then(|g| g.delete_consumer(ctx.arg(4))),
        _ => None,
    };
    if pending.is_some() {
        ks.touch_watched(key);
        ctx.store.add_dirty(1);
    }
    ctx.out.int(pending.unwrap_or(0) as i64);
}

fn xgroup_help(ctx: &mut Ctx<'_>) {
    reply_help(
        ctx,
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    );
}

// ---------------------------------------------------------------------------
// XREADGROUP
// ---------------------------------------------------------------------------

/// XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [CLAIM min-idle]
/// [NOACK] STREAMS key... id...
fn xreadgroup(ctx: &mut Ctx<'_>) {
    let argc = ctx.argc();
    let mut deadline: Option<i64> = None;
    let mut count: usize = 0;
    let mut noack = false;
    let mut claim: i64 = -1;
    let mut names: Option<(&[u8], &[u8])> = None;
    let mut streams_arg = 0;
    let mut i = 1;
    while i < argc {
        let more = argc - i - 1;
        let o = ctx.arg(i);
        if eq(o, "CLAIM") && more > 0 {
            i += 1;
            let Some(v) = parse_i64_or(ctx.out, ctx.arg(i), CLAIM_NOT_INTEGER) else {
                return;
            };
            if v < 0 {
                return ctx.out.error(CLAIM_NEGATIVE);
            }
            claim = v;
        } else if eq(o, "BLOCK") && more > 0 {
            i += 1;
            let Some(ms) = parse_i64_or(ctx.out, ctx.arg(i), TIMEOUT_NOT_INTEGER) else {
                return;
            };
            let Some(d) = ctx.deadline_from_ms(ms) else {
                return;
            };
            deadline = Some(d);
        } else if eq(o, "COUNT") && more > 0 {
            i += 1;
            let Some(v) = parse_i64_or(ctx.out, ctx.arg(i), errors::NOT_INTEGER) else {
                return;
            };
            count = usize::try_from(v.max(0)).unwrap_or(usize::MAX);
        } else if eq(o, "STREAMS") && more > 0 {
            streams_arg = i + 1;
            if (argc - streams_arg) % 2 != 0 {
                return ctx.out.error(UNBALANCED);
            }
            break;
        } else if eq(o, "GROUP") && more >= 2 {
            names = Some((ctx.arg(i + 1), ctx.arg(i + 2)));
            i += 2;
        } else if eq(o, "NOACK") {
            noack = true;
        } else {
            return ctx.out.error(errors::SYNTAX);
        }
        i += 1;
    }
    if streams_arg == 0 {
        return ctx.out.error(errors::SYNTAX);
    }
    let Some((group, consumer)) = names else {
        return ctx.out.error(MISSING_GROUP);
    };
    let n = (argc - streams_arg) / 2;
    let args = ctx.args;
    let keys: &[&[u8]] = &args[streams_arg..streams_arg + n];
    let id_args: &[&[u8]] = &args[streams_arg + n..];

    let mut ks = ctx.keys(keys);
    // The IDs, checked with the keys and groups before anything is served:
    // `None` stands for `>`.
    let mut ids: Vec<Option<StreamId>> = Vec::with_capacity(n);
    for (key, id_arg) in keys.iter().zip(id_args) {
        let has_group = match ks.read_typed(key, ValueType::Stream) {
            Err(e) => return ctx.out.error(e),
            Ok(None) => false,
            Ok(Some(mut e)) => stream_mut(&mut e).groups.contains_key(group),
        };
        if !has_group {
            return nogroup_key_or_group(ctx.out, key, group, " in XREADGROUP with GROUP option");
        }
        let id = match *id_arg {
            b"$" => return ctx.out.error(DOLLAR_IN_GROUP),
            b"+" => return ctx.out.error(PLUS_IN_GROUP),
            b">" => None,
            other => match parse_strict_id(other) {
                // Redis marks `>` with the largest ID: asking for it is
                // asking for new entries.
                Some(StreamId::MAX) => None,
                Some(id) => Some(id),
                None => return ctx.out.error(errors::INVALID_STREAM_ID),
            },
        };
        ids.push(id);
    }

    let now = ctx.now_ms;
    let resp3 = ctx.out.is_resp3();
    let mut served = 0usize;
    let mut top = None;
    let mut claim_wake: Option<i64> = None;
    let mut props = GroupProps::new(ctx);
    for (key, id) in keys.iter().zip(&ids) {
        let Ok(Some(mut e)) = ks.read_typed(key, ValueType::Stream) else {
            continue;
        };
        let s = stream_mut(&mut e);
        let Some((gname, mut g)) = s.groups.remove_entry(group) else {
            continue;
        };
        // Is a pending entry idle long enough to be claimed? If not, when
        // the oldest will be: a blocked reader is run again then.
        let mut claimable = false;
        if claim != -1 {
            for (t, pid) in g.by_delivery_time() {
                if !s.contains(pid) {
                    continue;
                }
                claimable = claim_idle(now, t) >= claim as u64;
                let at = t.saturating_add(claim);
                claim_wake = Some(claim_wake.map_or(at, |w: i64| w.min(at)));
                break;
            }
        }
        let (mut sync, history) = match id {
            Some(_) => (true, true),
            None => (s.last_entry_id().is_some_and(|max| max > g.last_id), false),
        };
        if g.create_consumer(consumer, now) {
            ctx.store.add_dirty(1);
            // Without NOACK the XCLAIMs create it where they replay.
            if noack {
                props.create_consumer(key, group, consumer);
            }
        }
        if let Some(c) = g.consumers.get_mut(consumer) {
            c.seen_time_ms = now;
        }
        let mut claimed_only = false;
        if history {
            // As in Redis, history turns CLAIM off for this stream and the
            // ones after it.
            claim = -1;
        } else if !sync && claimable {
            sync = true;
            claimed_only = true;
        }
        if sync {
            served += 1;
            let out = &mut *ctx.out;
            if top.is_none() {
                top = Some(out.deferred());
            }
            if !resp3 {
                out.array(2);
            }
            out.bulk(key);
            let start = id.unwrap_or(g.last_id);
            let last_before = g.last_id;
            let served_ids = serve_group(
                out,
                s,
                &mut g,
                consumer,
                Serve {
                    start,
                    count,
                    claim,
                    noack,
                    history,
                    claimed_only,
                    now,
                },
            );
            if !served_ids.claimed.is_empty() || !served_ids.delivered.is_empty() {
                ctx.store.add_dirty(1);
            }
            if props.on {
                // Each entry claimed or delivered goes as an XCLAIM (with
                // the group's last ID as it was then), and a new last ID
                // as XGROUP SETID (Redis's streamReplyWithRange).
                let last_after = g.last_id;
                g.last_id = last_before;
                for pid in &served_ids.claimed {
                    props.xclaim(key, gname.as_ref(), &g, *pid);
                }
                for pid in &served_ids.delivered {
                    g.last_id = *pid;
                    if !noack {
                        props.xclaim(key, gname.as_ref(), &g, *pid);
                    }
                }
                g.last_id = last_after;
                if !served_ids.delivered.is_empty() {
                    props.setid(key, gname.as_ref(), &g);
                }
            }
        }
        s.groups.insert(gname, g);
    }
    drop(ks);
    props.feed(ctx);
    if let Some(at) = top {
        if resp3 {
            ctx.out.set_deferred_map(at, served);
        } else {
            ctx.out.set_deferred_array(at, served);
        }
        return;
    }
    match deadline {
        Some(d) => {
            ctx.block_on_keys(keys, BlockedOn::StreamGroup, d, TimeoutReply::NullArray);
            // CLAIM's condition may come true while the reader waits
            // (redis.io's XREADGROUP page): it is run again when the
            // oldest pending entry becomes idle enough.
            if let Some(at) = claim_wake {
                ctx.wake_blocked_at(at);
            }
        }
        None => ctx.out.null_array(),
    }
}

/// How [`serve_group`] serves one stream.
struct Serve {
    /// History: entries of the consumer's PEL after this ID; otherwise
    /// entries after the group's last delivered ID.
    start: StreamId,
    count: usize,
    claim: i64,
    noack: bool,
    history: bool,
    claimed_only: bool,
    now: i64,
}

/// What [`serve_group`] changed in a way Redis propagates.
#[derive(Default)]
struct Served {
    /// Pending entries claimed (8.4's CLAIM), in order.
    claimed: Vec<StreamId>,
    /// New entries delivered (the group's last ID moved past them).
    delivered: Vec<StreamId>,
}

/// Replies the entries of one stream for XREADGROUP (Redis's
/// `streamReplyWithRange` with a group). Returns what changed in a way
/// Redis propagates.
fn serve_group(
    out: &mut ReplyBuf,
    s: &Stream,
    g: &mut ConsumerGroup,
    consumer: &[u8],
    how: Serve,
) -> Served {
    let Serve {
        start,
        count,
        claim,
        noack,
        history,
        claimed_only,
        now,
    } = how;
    let mut served = Served::default();
    let at = out.deferred();
    let mut emitted = 0usize;
    if claim != -1 {
        // Pending entries idle long enough, oldest delivery first, up to
        // the entry that was last when we started (claimed entries move
        // behind it).
        let tail = g.by_delivery_time().last();
        let mut cursor = g.by_delivery_time().next();
        while let Some((t, pid)) = cursor {
            let next = g.next_by_time((t, pid));
            let idle = claim_idle(now, t);
            if idle < claim as u64 {
                break;
            }
            let count_before = g.pel.get(&pid).map_or(0, |p| p.delivery_count);
            let mut found = false;
            s.range(pid, pid, false, |id, fields| {
                out.array(4);
                reply_id(out, id);
                reply_fields(out, fields);
                out.int(idle as i64);
                out.int(count_before as i64);
                found = true;
                false
            });
            if found {
                g.claim(pid, consumer, now, |c| c.saturating_add(1));
                if let Some(c) = g.consumers.get_mut(consumer) {
                    c.active_time_ms = now;
                }
                served.claimed.push(pid);
                emitted += 1;
                if count != 0 && emitted >= count {
                    break;
                }
            }
            if Some((t, pid)) == tail {
                break;
            }
            cursor = next;
        }
    }
    if history {
        let Some(from) = start.next() else {
            out.set_deferred_array(at, 0);
            return served;
        };
        let ids: Vec<StreamId> = match g.consumers.get(consumer) {
            Some(c) => c
                .pending
                .range(from..)
                .take(if count == 0 { usize::MAX } else { count })
                .copied()
                .collect(),
            None => Vec::new(),
        };
        for pid in &ids {
            if reply_stream_entry(out, s, *pid) {
                g.redeliver(*pid, now);
            } else {
                // Pending, but deleted from the stream meanwhile.
                out.array(2);
                reply_id(out, *pid);
                out.null_array();
            }
        }
        out.set_deferred_array(at, ids.len());
        return served;
    }
    if claimed_only || (count != 0 && emitted == count) {
        out.set_deferred_array(at, emitted);
        return served;
    }
    let mut delivered = Vec::new();
    if let Some(from) = start.next() {
        let limit = if count == 0 { usize::MAX } else { count };
        s.range(from, StreamId::MAX, false, |id, fields| {
            if claim != -1 {
                out.array(4);
                reply_id(out, id);
                reply_fields(out, fields);
                out.int(0);
                out.int(0);
            } else {
                reply_entry(out, id, fields);
            }
            delivered.push(id);
            emitted += 1;
            emitted < limit
        });
    }
    for id in &delivered {
        s.advance_group(g, *id);
        if !noack {
            g.deliver(*id, consumer, now);
            if let Some(c) = g.consumers.get_mut(consumer) {
                c.active_time_ms = now;
            }
        }
    }
    served.delivered = delivered;
    out.set_deferred_array(at, emitted);
    served
}

// ---------------------------------------------------------------------------
// XACK, XACKDEL
// ---------------------------------------------------------------------------

/// XACK key group id...: how many were pending.
fn xack(ctx: &mut Ctx<'_>) {
    let (key, group) = (ctx.arg(1), ctx.arg(2));
    let mut ks = ctx.key(key);
    let mut e = match ks.read_typed(key, ValueType::Stream) {
        Err(e) => return ctx.out.error(e),
        Ok(None) => return ctx.out.int(0),
        Ok(Some(e)) => e,
    };
    let Some(g) = stream_mut(&mut e).groups.get_mut(group) else {
        return ctx.out.int(0);
    };
    // All or nothing: every ID parses before any is acknowledged.
    let args = ctx.args;
    let mut ids = Vec::with_capacity(args.len() - 3);
    for a in &args[3..] {
        match parse_strict_id(a) {
            Some(id) => ids.push(id),
            None => return ctx.out.error(errors::INVALID_STREAM_ID),
        }
    }
    let acked = ids.into_iter().filter(|id| g.ack(*id)).count();
    drop(e);
    if acked > 0 {
        ks.touch_watched(key);
        ctx.store.add_dirty(acked as u64);
    }
    ctx.out.int(acked as i64);
}

/// The deletion policy of XACKDEL (and XDELEX, XADD, XTRIM in 8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeletePolicy {
    KeepRef,
    DelRef,
    Acked,
}

/// Redis's `streamParseAckDelArgsOrReply` from argument `from`: the policy
/// and the range of the IDs in the arguments.
fn parse_ackdel_args(ctx: &mut Ctx<'_>, from: usize) -> Option<(DeletePolicy, usize, usize)> {
    let argc = ctx.argc();
    let mut policy = None;
    let mut ids = None;
    let mut j = from;
    while j < argc {
        let a = ctx.arg(j);
        if policy.is_none() && eq(a, "KEEPREF") {
            policy = Some(DeletePolicy::KeepRef);
            j += 1;
        } else if policy.is_none() && eq(a, "DELREF") {
            policy = Some(DeletePolicy::DelRef);
            j += 1;
        } else if policy.is_none() && eq(a, "ACKED") {
            policy = Some(DeletePolicy::Acked);
            j += 1;
        } else if eq(a, "IDS") && j + 1 < argc {
            let n = match parse_i64(ctx.arg(j + 1)) {
                Some(n) if n >= 1 => n as u64,
                _ => {
                    ctx.out.error(NUMIDS_POSITIVE);
                    return None;
                }
            };
            let start = j + 2;
            if n > (argc - start) as u64 {
                ctx.out.error(NUMIDS_MATCH);
                return None;
            }
            ids = Some((start, n as usize));
            j = start + n as usize;
        } else {
            ctx.out.error(errors::SYNTAX);
            return None;
        }
    }
    let Some((start, n)) = ids else {
        ctx.out.error(IDS_REQUIRED);
        return None;
    };
    Some((policy.unwrap_or(DeletePolicy::KeepRef), start, n))
}

/// XACKDEL key group [KEEPREF|DELREF|ACKED] IDS numids id...: per ID, 1
/// (acknowledged and deleted), 2 (acknowledged, still needed by a group)
/// or -1 (not pending in the group).
fn xackdel(ctx: &mut Ctx<'_>) {
    let (key, group) = (ctx.arg(1), ctx.arg(2));
    let mut ks = ctx.key(key);
    let found = match ks.read_typed(key, ValueType::Stream) {
        Err(e) => return ctx.out.error(e),
        Ok(None) => None,
        Ok(Some(mut e)) => Some(stream_mut(&mut e).groups.contains_key(group)),
    };
    let Some((policy, start, n)) = parse_ackdel_args(ctx, 3) else {
        return;
    };
    if found != Some(true) {
        ctx.out.array(n);
        for _ in 0..n {
            ctx.out.int(-1);
        }
        return;
    }
    let args = ctx.args;
    let mut ids = Vec::with_capacity(n);
    for a in &args[start..start + n] {
        match parse_strict_id(a) {
            Some(id) => ids.push(id),
            None => return ctx.out.error(errors::INVALID_STREAM_ID),
        }
    }
    let Ok(Some(mut e)) = ks.read_typed(key, ValueType::Stream) else {
        return;
    };
    let s = stream_mut(&mut e);
    let (mut deleted, mut acked) = (0u64, 0u64);
    ctx.out.array(n);
    for id in ids {
        let was_pending = s.groups.get_mut(group).is_some_and(|g| g.ack(id));
        if !was_pending {
            ctx.out.int(-1);
            continue;
        }
        acked += 1;
        let can_delete = match policy {
            DeletePolicy::Acked => !s.referenced_by_groups(id),
            DeletePolicy::DelRef => {
                s.drop_group_refs(id);
                true
            }
            DeletePolicy::KeepRef => true,
        };
        if can_delete && s.delete(id) {
            deleted += 1;
        }
        ctx.out.int(if can_delete { 1 } else { 2 });
    }
    drop(e);
    if deleted > 0 {
        ks.touch_watched(key);
    }
    ctx.store.add_dirty(acked + deleted);
}

// ---------------------------------------------------------------------------
// XPENDING
// ---------------------------------------------------------------------------

/// XPENDING key group [[IDLE min-idle] start end count [consumer]].
fn xpending(ctx: &mut Ctx<'_>) {
    let argc = ctx.argc();
    if argc != 3 && !(6..=9).contains(&argc) {
        return ctx.out.error(errors::SYNTAX);
    }
    let mut range = None;
    let mut consumer: Option<&[u8]> = None;
    let mut min_idle = 0i64;
    let mut count = 0i64;
    if argc >= 6 {
        let mut at = 3;
        if eq(ctx.arg(3), "IDLE") {
            let Some(v) = parse_i64_or(ctx.out, ctx.arg(4), errors::NOT_INTEGER) else {
                return;
            };
            min_idle = v;
            if argc < 8 {
                return ctx.out.error(errors::SYNTAX);
            }
            at += 2;
        }
        let Some(c) = parse_i64_or(ctx.out, ctx.arg(at + 2), errors::NOT_INTEGER) else {
            return;
        };
        count = c.max(0);
        let Some((mut start, start_ex)) = parse_interval_id(ctx.arg(at), 0) else {
            return ctx.out.error(errors::INVALID_STREAM_ID);
        };
        if start_ex {
            match start.next() {
                Some(s) => start = s,
                None => return ctx.out.error(INVALID_START),
            }
        }
        let Some((mut end, end_ex)) = parse_interval_id(ctx.arg(at + 1), u64::MAX) else {
            return ctx.out.error(errors::INVALID_STREAM_ID);
        };
        if end_ex {
            match end.prev() {
                Some(e) => end = e,
                None => return ctx.out.error(INVALID_END),
            }
        }
        if at + 3 < argc {
            consumer = Some(ctx.arg(at + 3));
        }
        range = Some((start, end));
    }
    let (key, group) = (ctx.arg(1), ctx.arg(2));
    let mut ks = ctx.key(key);
    let mut e = match ks.read_typed(key, ValueType::Stream) {
        Err(e) => return ctx.out.error(e),
        Ok(None) => return nogroup_key_or_group(ctx.out, key, group, ""),
        Ok(Some(e)) => e,
    };
    let Some(g) = stream_mut(&mut e).groups.get(group) else {
        return nogroup_key_or_group(ctx.out, key, group, "");
    };
    let out = &mut *ctx.out;
    let Some((start, end)) = range else {
        out.array(4);
        out.int(g.pel.len() as i64);
        let (Some((first, _)), Some((last, _))) = (g.pel.first_key_value(), g.pel.last_key_value())
        else {
            out.null();
            out.null();
            out.null_array();
            return;
        };
        reply_id(out, *first);
        reply_id(out, *last);
        let with_pending = g
            .consumers
            .values()
            .filter(|c| !c.pending.is_empty())
            .count();
        out.array(with_pending);
        for (name, c) in &g.consumers {
            if c.pending.is_empty() {
                continue;
            }
            out.array(2);
            out.bulk(name);
            out.bulk_int(c.pending.len() as i64);
        }
        return;
    };
    let now = ctx.now_ms;
    let ids: Box<dyn Iterator<Item = &StreamId>> = match consumer {
        Some(name) => match g.consumers.get(name) {
            Some(c) if start <= end => Box::new(c.pending.range(start..=end)),
            Some(_) => Box::new(std::iter::empty()),
            None => return out.array(0),
        },
        None if start <= end => Box::new(g.pel.range(start..=end).map(|(id, _)| id)),
        None => Box::new(std::iter::empty()),
    };
    let at = out.deferred();
    let mut n = 0usize;
    for id in ids {
        if count == 0 {
            break;
        }
        let Some(p) = g.pel.get(id) else { continue };
        let idle = now.saturating_sub(p.delivery_time_ms);
        if min_idle != 0 && idle < min_idle {
            continue;
        }
        count -= 1;
        n += 1;
        out.array(4);
        reply_id(out, *id);
        out.bulk(&p.consumer);
        out.int(idle.max(0));
        out.int(p.delivery_count as i64);
    }
    out.set_deferred_array(at, n);
}

// ---------------------------------------------------------------------------
// XCLAIM, XAUTOCLAIM
// ---------------------------------------------------------------------------

/// XCLAIM key group consumer min-idle-time id... [IDLE ms] [TIME ms]
/// [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id].
fn xclaim(ctx: &mut Ctx<'_>) {
    let (key, group, consumer) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let mut ks = ctx.key(key);
    let mut e = match ks.read_typed(key, ValueType::Stream) {
        Err(e) => return ctx.out.error(e),
        Ok(None) => return nogroup_key_or_group(ctx.out, key, group, ""),
        Ok(Some(e)) => e,
    };
    let s = stream_mut(&mut e);
    let Some((gname, mut g)) = s.groups.remove_entry(group) else {
        return nogroup_key_or_group(ctx.out, key, group, "");
    };
    let result = xclaim_parse(ctx);
    let Some(opts) = result else {
        s.groups.insert(gname, g);
        return;
    };
    let now = ctx.now_ms;
    let mut dirty = 0u64;
    let mut props = GroupProps::new(ctx);
    let mut propagate_last_id = false;
    if opts.last_id > g.last_id {
        g.last_id = opts.last_id;
        dirty += 1;
        propagate_last_id = true;
    }
    let delivery_time = match opts.delivery_time {
        Some(t) if t >= 0 && t <= now => t,
        _ => now,
    };
    if g.create_consumer(consumer, now) {
        dirty += 1;
    }
    if let Some(c) = g.consumers.get_mut(consumer) {
        c.seen_time_ms = now;
    }
    let args = ctx.args;
    let out = &mut *ctx.out;
    let at = out.deferred();
    let mut n = 0usize;
    for a in &args[5..5 + opts.id_count] {
        let Some(id) = parse_strict_id(a) else {
            continue;
        };
        if !s.contains(id) {
            // Deleted from the stream: drop it from the PEL (propagated
            // as the XCLAIM of the entry as it was, which drops it too).
            props.xclaim(key, group, &g, id);
            if g.ack(id) {
                propagate_last_id = false;
                dirty += 1;
            }
            continue;
        }
        let pending = g.pel.get(&id).map(|p| p.delivery_time_ms);
        match pending {
            None if !opts.force => continue,
            Some(t) if opts.min_idle != 0 && now.saturating_sub(t) < opts.min_idle => {
                continue;
            }
            _ => {}
        }
        // A FORCE-created entry starts delivered once, as Redis's NACK.
        let (retry, justid) = (opts.retry_count, opts.justid);
        let fresh = pending.is_none();
        g.claim(id, consumer, delivery_time, |c| {
            let c = if fresh { 1 } else { c };
            if retry >= 0 {
                retry as u64
            } else if justid {
                c
            } else {
                c.saturating_add(1)
            }
        });
        if justid {
            reply_id(out, id);
        } else {
            reply_stream_entry(out, s, id);
        }
        n += 1;
        if let Some(c) = g.consumers.get_mut(consumer) {
            c.active_time_ms = now;
        }
        dirty += 1;
        props.xclaim(key, group, &g, id);
        propagate_last_id = false;
    }
    out.set_deferred_array(at, n);
    if propagate_last_id {
        props.setid(key, group, &g);
    }
    s.groups.insert(gname, g);
    drop(e);
    if dirty > 0 {
        ks.touch_watched(key);
        ctx.store.add_dirty(dirty);
    }
    props.feed(ctx);
}

struct ClaimOptions {
    min_idle: i64,
    id_count: usize,
    delivery_time: Option<i64>,
    retry_count: i64,
    force: bool,
    justid: bool,
    last_id: StreamId,
}

/// XCLAIM's arguments after the key, group and consumer; `None` when an
/// error was written.
fn xclaim_parse(ctx: &mut Ctx<'_>) -> Option<ClaimOptions> {
    let min_idle = parse_i64_or(
        ctx.out,
        ctx.arg(4),
        "ERR Invalid min-idle-time argument for XCLAIM",
    )?
    .max(0);
    let argc = ctx.argc();
    let mut j = 5;
    while j < argc && parse_strict_id(ctx.arg(j)).is_some() {
        j += 1;
    }
    let id_count = j - 5;
    let mut o = ClaimOptions {
        min_idle,
        id_count,
        delivery_time: None,
        retry_count: -1,
        force: false,
        justid: false,
        last_id: StreamId::MIN,
    };
    let now = ctx.now_ms;
    while j < argc {
        let more = argc - 1 - j;
        let a = ctx.arg(j);
        if eq(a, "FORCE") {
            o.force = true;
        } else if eq(a, "JUSTID") {
            o.justid = true;
        } else if eq(a, "IDLE") && more > 0 {
            j += 1;
            let v = parse_i64_or(
                ctx.out,
                ctx.arg(j),
                "ERR Invalid IDLE option argument for XCLAIM",
            )?;
            o.delivery_time = Some(now.wrapping_sub(v));
        } else if eq(a, "TIME") && more > 0 {
            j += 1;
            let v = parse_i64_or(
                ctx.out,
                ctx.arg(j),
                "ERR Invalid TIME option argument for XCLAIM",
            )?;
            o.delivery_time = Some(v);
        } else if eq(a, "RETRYCOUNT") && more > 0 {
            j += 1;
            o.retry_count = parse_i64_or(
                ctx.out,
                ctx.arg(j),
                "ERR Invalid RETRYCOUNT option argument for XCLAIM",
            )?;
        } else if eq(a, "LASTID") && more > 0 {
            j += 1;
            match parse_strict_id(ctx.arg(j)) {
                Some(id) => o.last_id = id,
                None => {
                    ctx.out.error(errors::INVALID_STREAM_ID);
                    return None;
                }
            }
        } else {
            let mut msg = b"ERR Unrecognized XCLAIM option '".to_vec();
            msg.extend_from_slice(a);
            msg.push(b'\'');
            ctx.out.error_bytes(&msg);
            return None;
        }
        j += 1;
    }
    Some(o)
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT n] [JUSTID]:
/// `[next cursor, claimed entries, IDs deleted from the stream]`.
fn xautoclaim(ctx: &mut Ctx<'_>) {
    const ATTEMPTS_FACTOR: i64 = 10;
    let Some(min_idle) = parse_i64_or(
        ctx.out,
        ctx.arg(4),
        "ERR Invalid min-idle-time argument for XAUTOCLAIM",
    ) else {
        return;
    };
    let min_idle = min_idle.max(0);
    let Some((mut start, start_ex)) = parse_interval_id(ctx.arg(5), 0) else {
        return ctx.out.error(errors::INVALID_STREAM_ID);
    };
    if start_ex {
        match start.next() {
            Some(s) => start = s,
            None => return ctx.out.error(INVALID_START),
        }
    }
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < ctx.argc() {
        let more = ctx.argc() - 1 - j;
        let a = ctx.arg(j);
        if eq(a, "COUNT") && more > 0 {
            // Redis bounds COUNT so that count * attempts cannot overflow.
            let max = i64::MAX / 16;
            match parse_i64(ctx.arg(j + 1)) {
                Some(v) if (1..=max).contains(&v) => count = v,
                _ => return ctx.out.error(AUTOCLAIM_COUNT),
            }
            j += 1;
        } else if eq(a, "JUSTID") {
            justid = true;
        } else {
            return ctx.out.error(errors::SYNTAX);
        }
        j += 1;
    }
    let (key, group, consumer) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let mut ks = ctx.key(key);
    let mut e = match ks.read_typed(key, ValueType::Stream) {
        Err(e) => return ctx.out.error(e),
        Ok(None) => return nogroup_key_or_group(ctx.out, key, group, ""),
        Ok(Some(e)) => e,
    };
    let s = stream_mut(&mut e);
    let Some((gname, mut g)) = s.groups.remove_entry(group) else {
        return nogroup_key_or_group(ctx.out, key, group, "");
    };
    let now = ctx.now_ms;
    let mut dirty = 0u64;
    let mut props = GroupProps::new(ctx);
    if g.create_consumer(consumer, now) {
        dirty += 1;
    }
    if let Some(c) = g.consumers.get_mut(consumer) {
        c.seen_time_ms = now;
    }
    let mut attempts = count.saturating_mul(ATTEMPTS_FACTOR);
    // The claimed entries go to a buffer of their own: the cursor, which
    // comes first in the reply, is known only after them.
    let mut out = ReplyBuf::new();
    out.set_resp3(ctx.out.is_resp3());
    let out = &mut out;
    let mut claimed = 0usize;
    let mut deleted: Vec<StreamId> = Vec::new();
    let mut last_seen: Option<StreamId> = None;
    while attempts > 0 && count > 0 {
        attempts -= 1;
        let next = match last_seen {
            None => g.pel.range(start..).next(),
            Some(l) => g
                .pel
                .range((std::ops::Bound::Excluded(l), std::ops::Bound::Unbounded))
                .next(),
        };
        let Some((&id, p)) = next else {
            last_seen = None;
            break;
        };
        last_seen = Some(id);
        let time = p.delivery_time_ms;
        if !s.contains(id) {
            props.xclaim(key, group, &g, id);
            g.ack(id);
            deleted.push(id);
            count -= 1;
            dirty += 1;
            continue;
        }
        if min_idle != 0 && now.saturating_sub(time) < min_idle {
            continue;
        }
        g.claim(id, consumer, now, |c| {
            if justid { c } else { c.saturating_add(1) }
        });
        if justid {
            reply_id(out, id);
        } else {
            reply_stream_entry(out, s, id);
        }
        claimed += 1;
        count -= 1;
        if let Some(c) = g.consumers.get_mut(consumer) {
            c.active_time_ms = now;
        }
        dirty += 1;
        props.xclaim(key, group, &g, id);
    }
    // The cursor: the next pending entry after the last one looked at.
    let cursor = match last_seen {
        Some(l) => g
            .pel
            .range((std::ops::Bound::Excluded(l), std::ops::Bound::Unbounded))
            .next()
            .map_or(StreamId::MIN, |(id, _)| *id),
        None => StreamId::MIN,
    };
    let reply = &mut *ctx.out;
    reply.array(3);
    reply_id(reply, cursor);
    reply.array(claimed);
    reply.raw(out.as_bytes());
    reply.array(deleted.len());
    for id in &deleted {
        reply_id(reply, *id);
    }
    s.groups.insert(gname, g);
    drop(e);
    if dirty > 0 {
        ks.touch_watched(key);
        ctx.store.add_dirty(dirty);
    }
    props.feed(ctx);
}

// ---------------------------------------------------------------------------
// Propagation
// ---------------------------------------------------------------------------

/// The commands a consumer group change propagates as (Redis's
/// `streamPropagateXCLAIM`, `streamPropagateGroupID` and
/// `streamPropagateConsumerCreation`), gathered under the key's lock and
/// handed to [`Ctx::propagate`] after it.
#[derive(Default)]
struct GroupProps {
    /// Whether anything listens: nothing is gathered otherwise.
    on: bool,
    commands: Vec<Vec<Vec<u8>>>,
}

impl GroupProps {
    fn new(ctx: &Ctx<'_>) -> GroupProps {
        GroupProps {
            on: ctx.propagating(),
            commands: Vec::new(),
        }
    }

    /// `XCLAIM key group <owner> 0 id TIME <delivery time> RETRYCOUNT
    /// <deliveries> FORCE JUSTID LASTID <group's last ID>`: the pending
    /// entry `id` as it is now (or was, if it is being dropped), replayed
    /// idempotently.
    fn xclaim(&mut self, key: &[u8], group: &[u8], g: &ConsumerGroup, id: StreamId) {
        if !self.on {
            return;
        }
        let Some(p) = g.pel.get(&id) else {
            return;
        };
        self.commands.push(vec![
            b"XCLAIM".to_vec(),
            key.to_vec(),
            group.to_vec(),
            p.consumer.to_vec(),
            b"0".to_vec(),
            id_text(id),
            b"TIME".to_vec(),
            rewrite::int_text(p.delivery_time_ms),
            b"RETRYCOUNT".to_vec(),
            rewrite::uint_text(p.delivery_count),
            b"FORCE".to_vec(),
            b"JUSTID".to_vec(),
            b"LASTID".to_vec(),
            id_text(g.last_id),
        ]);
    }

    /// `XGROUP SETID key group <last ID> ENTRIESREAD <entries read>`.
    fn setid(&mut self, key: &[u8], group: &[u8], g: &ConsumerGroup) {
        if !self.on {
            return;
        }
        self.commands.push(vec![
            b"XGROUP".to_vec(),
            b"SETID".to_vec(),
            key.to_vec(),
            group.to_vec(),
            id_text(g.last_id),
            b"ENTRIESREAD".to_vec(),
            rewrite::int_text(g.entries_read),
        ]);
    }

    /// `XGROUP CREATECONSUMER key group consumer`.
    fn create_consumer(&mut self, key: &[u8], group: &[u8], consumer: &[u8]) {
        if !self.on {
            return;
        }
        self.commands.push(vec![
            b"XGROUP".to_vec(),
            b"CREATECONSUMER".to_vec(),
            key.to_vec(),
            group.to_vec(),
            consumer.to_vec(),
        ]);
    }

    /// Propagates what was gathered instead of the command, which is
    /// never propagated as called.
    fn feed(self, ctx: &mut Ctx<'_>) {
        if !self.on {
            return;
        }
        ctx.no_propagate();
        for argv in &self.commands {
            ctx.propagate(argv);
        }
    }
}

// ---------------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------------

/// Looks the key of an XINFO subcommand up: "no such key" and WRONGTYPE
/// are written here.
fn xinfo_stream_of<'k>(
    ctx: &mut Ctx<'_>,
    ks: &'k mut crate::Keyspace<'_>,
) -> Option<std::cell::RefMut<'k, Entry>> {
    match ks.read_typed(ctx.arg(2), ValueType::Stream) {
        Err(e) => {
            ctx.out.error(e);
            None
        }
        Ok(None) => {
            ctx.out.error(errors::NO_SUCH_KEY);
            None
        }
        Ok(Some(e)) => Some(e),
    }
}

fn reply_entries_read(out: &mut ReplyBuf, g: &ConsumerGroup) {
    if g.entries_read != -1 {
        out.int(g.entries_read);
    } else {
        out.null();
    }
}

fn reply_lag(out: &mut ReplyBuf, s: &Stream, g: &ConsumerGroup) {
    match s.group_lag(g) {
        Some(lag) => out.int(lag),
        None => out.null(),
    }
}

/// XINFO CONSUMERS key group.
fn xinfo_consumers(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(2);
    let mut ks = ctx.key(key);
    let Some(mut e) = xinfo_stream_of(ctx, &mut ks) else {
        return;
    };
    let s = stream_mut(&mut e);
    let Some(g) = s.groups.get(ctx.arg(3)) else {
        return nogroup_for_key(ctx.out, ctx.arg(3), key);
    };
    let now = ctx.now_ms;
    let out = &mut *ctx.out;
    out.array(g.consumers.len());
    for (name, c) in &g.consumers {
        let inactive = if c.active_time_ms != -1 {
            now - c.active_time_ms
        } else {
            -1
        };
        out.map(4);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"pending");
        out.int(c.pending.len() as i64);
        out.bulk(b"idle");
        out.int((now - c.seen_time_ms).max(0));
        out.bulk(b"inactive");
        out.int(inactive);
    }
}

/// XINFO GROUPS key.
fn xinfo_groups(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(2);
    let mut ks = ctx.key(key);
    let Some(mut e) = xinfo_stream_of(ctx, &mut ks) else {
        return;
    };
    let s = stream_mut(&mut e);
    let out = &mut *ctx.out;
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(6);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"consumers");
        out.int(g.consumers.len() as i64);
        out.bulk(b"pending");
        out.int(g.pel.len() as i64);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(out, g);
        out.bulk(b"lag");
        reply_lag(out, s, g);
    }
}

/// XINFO STREAM key [FULL [COUNT n]].
fn xinfo_stream(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(2);
    let mut ks = ctx.key(key);
    let Some(mut e) = xinfo_stream_of(ctx, &mut ks) else {
        return;
    };
    let args = ctx.args;
    let opts = &args[3..];
    let mut full = false;
    let mut count: i64 = 10;
    if !opts.is_empty() {
        if (opts.len() != 1 && opts.len() != 3)
            || !eq(opts[0], "FULL")
            || (opts.len() == 3 && !eq(opts[1], "COUNT"))
        {
            drop(e);
            return subcommand_syntax_error(ctx);
        }
        full = true;
        if opts.len() == 3 {
            let Some(c) = parse_i64_or(ctx.out, opts[2], errors::NOT_INTEGER) else {
                return;
            };
            count = if c < 0 { 10 } else { c };
        }
    }
    let s = stream_mut(&mut e);
    let out = &mut *ctx.out;
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.radix_tree_keys() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(s.radix_tree_nodes() as i64);
    out.bulk(b"last-generated-id");
    reply_id(out, s.last_id);
    out.bulk(b"max-deleted-entry-id");
    reply_id(out, s.max_deleted_id);
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    reply_id(out, s.first_id);
    if !full {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        for (name, rev) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
            out.bulk(name);
            let mut emitted = false;
            s.range(StreamId::MIN, StreamId::MAX, rev, |id, fields| {
                reply_entry(out, id, fields);
                emitted = true;
                false
            });
            if !emitted {
                out.null();
            }
        }
        return;
    }
    let limit = if count == 0 {
        usize::MAX
    } else {
        count as usize
    };
    out.bulk(b"entries");
    let at = out.deferred();
    let mut n = 0usize;
    s.range(StreamId::MIN, StreamId::MAX, false, |id, fields| {
        reply_entry(out, id, fields);
        n += 1;
        n < limit
    });
    out.set_deferred_array(at, n);
    out.bulk(b"groups");
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(out, g);
        out.bulk(b"lag");
        reply_lag(out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        let shown = g.pel.len().min(limit);
        out.array(shown);
        for (id, p) in g.pel.iter().take(shown) {
            out.array(4);
            reply_id(out, *id);
            out.bulk(&p.consumer);
            out.int(p.delivery_time_ms);
            out.int(p.delivery_count.min(MAX_DELIVERY_COUNT) as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(5);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time_ms);
            out.bulk(b"active-time");
            out.int(c.active_time_ms);
            out.bulk(b"pel-count");
            out.int(c.pending.len() as i64);
            out.bulk(b"pending");
            let shown = c.pending.len().min(limit);
            out.array(shown);
            for id in c.pending.iter().take(shown) {
                let (t, dc) = g
                    .pel
                    .get(id)
                    .map_or((0, 0), |p| (p.delivery_time_ms, p.delivery_count));
                out.array(3);
                reply_id(out, *id);
                out.int(t);
                out.int(dc as i64);
            }
        }
    }
}

fn xinfo_help(ctx: &mut Ctx<'_>) {
    reply_help(
        ctx,
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    );
}
