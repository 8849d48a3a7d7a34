//! CLIENT and its subcommands (Redis's `clientCommand` in networking.c).
//!
//! Client-side caching (TRACKING, CACHING, GETREDIR, TRACKINGINFO) comes
//! with its own issue; those subcommands are not offered until then.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use viator_store::command::{CommandSpec, Ctx, ReplyMode, acl, flags};
use viator_store::commands::introspection::reply_help;
use viator_store::errors;

use crate::clients::ClientEntry;
use crate::server::{Pause, Shared};

const CLIENT_FLAGS: u64 = flags::NOSCRIPT | flags::LOADING | flags::STALE;
const ADMIN_FLAGS: u64 = flags::ADMIN | CLIENT_FLAGS;
const CONN: u64 = acl::SLOW | acl::CONNECTION;

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
            name: "help",
            arity: 2,
            flags: flags::LOADING | flags::STALE,
            acl: CONN,
            group: "connection",
            summary: "Returns helpful text about the different subcommands.",
            since: "5.0.0",
            complexity: "O(1)",
            handler: Some(help),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "id",
            arity: 2,
            flags: CLIENT_FLAGS,
            acl: CONN,
            group: "connection",
            summary: "Returns the unique client ID of the connection.",
            since: "5.0.0",
            complexity: "O(1)",
            handler: Some(id),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "info",
            arity: 2,
            flags: CLIENT_FLAGS,
            acl: CONN,
            group: "connection",
            summary: "Returns information about the connection.",
            since: "6.2.0",
            complexity: "O(1)",
            tips: &["nondeterministic_output"],
            handler: Some(info),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "list",
            arity: -2,
            flags: ADMIN_FLAGS,
            acl: CONN,
            group: "connection",
            summary: "Lists open connections.",
            since: "2.4.0",
            complexity: "O(N) where N is the number of client connections",
            args: "[TYPE=client-type:( NORMAL | MASTER | REPLICA | PUBSUB )@5.0.0] [ID=client-id:integer...@6.2.0]",
            tips: &["nondeterministic_output"],
            history: &[
                ("2.8.12", "Added unique client `id` field."),
                ("5.0.0", "Added optional `TYPE` filter."),
                ("6.0.0", "Added `user` field."),
                (
                    "6.2.0",
                    "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter.",
                ),
                (
                    "7.0.0",
                    "Added `resp`, `multi-mem`, `rbs` and `rbp` fields.",
                ),
                ("7.0.3", "Added `ssub` field."),
                ("7.2.0", "Added `lib-name` and `lib-ver` fields."),
                ("7.4.0", "Added `watch` field."),
                ("8.0.0", "Added `io-thread` field."),
            ],
            handler: Some(list),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "kill",
            arity: -3,
            flags: ADMIN_FLAGS,
            acl: CONN,
            group: "connection",
            summary: "Terminates open connections.",
            since: "2.4.0",
            complexity: "O(N) where N is the number of client connections",
            args: "filter:( old-format/ip:port:string!2.8.12 | new-format:( [ID=client-id:integer@2.8.12] | [TYPE=client-type:( NORMAL | MASTER@3.2.0 | SLAVE | REPLICA@5.0.0 | PUBSUB )@2.8.12] | [USER=username:string] | [ADDR=addr/ip:port:string] | [LADDR=laddr/ip:port:string@6.2.0] | [SKIPME=skipme:( YES | NO )] | [MAXAGE=maxage:integer@7.4.0] )... )",
            history: &[
                ("2.8.12", "Added new filter format."),
                ("2.8.12", "`ID` option."),
                ("3.2.0", "Added `master` type in for `TYPE` option."),
                (
                    "5.0.0",
                    "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility.",
                ),
                ("6.2.0", "`LADDR` option."),
                ("7.4.0", "`MAXAGE` option."),
            ],
            handler: Some(kill),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "setname",
            arity: 3,
            flags: CLIENT_FLAGS,
            acl: CONN,
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
            acl: CONN,
            group: "connection",
            summary: "Returns the name of the connection.",
            since: "2.6.9",
            complexity: "O(1)",
            handler: Some(getname),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "setinfo",
            arity: 4,
            flags: CLIENT_FLAGS,
            acl: CONN,
            group: "connection",
            summary: "Sets information specific to the client or connection.",
            since: "7.2.0",
            complexity: "O(1)",
            args: "attr:( LIB-NAME=libname:string | LIB-VER=libver:string )",
            tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
            handler: Some(setinfo),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "reply",
            arity: 3,
            flags: CLIENT_FLAGS,
            acl: CONN,
            group: "connection",
            summary: "Instructs the server whether to reply to commands.",
            since: "3.2.0",
            complexity: "O(1)",
            args: "action:( ON | OFF | SKIP )",
            handler: Some(reply),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "no-evict",
            arity: 3,
            flags: ADMIN_FLAGS,
            acl: CONN,
            group: "connection",
            summary: "Sets the client eviction mode of the connection.",
            since: "7.0.0",
            complexity: "O(1)",
            args: "enabled:( ON | OFF )",
            handler: Some(no_evict),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "no-touch",
            arity: 3,
            flags: CLIENT_FLAGS,
            acl: CONN,
            group: "connection",
            summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
            since: "7.2.0",
            complexity: "O(1)",
            args: "enabled:( ON | OFF )",
            handler: Some(no_touch),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "pause",
            arity: -3,
            flags: ADMIN_FLAGS,
            acl: CONN,
            group: "connection",
            summary: "Suspends commands processing.",
            since: "3.0.0",
            complexity: "O(1)",
            args: "timeout:integer [mode:( WRITE | ALL )@6.2.0]",
            history: &[(
                "6.2.0",
                "`CLIENT PAUSE WRITE` mode added along with the `mode` option.",
            )],
            handler: Some(pause),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "unpause",
            arity: 2,
            flags: ADMIN_FLAGS,
            acl: CONN,
            group: "connection",
            summary: "Resumes processing commands from paused clients.",
            since: "6.2.0",
            complexity: "O(N) Where N is the number of paused clients",
            handler: Some(unpause),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "unblock",
            arity: -3,
            flags: ADMIN_FLAGS,
            acl: CONN,
            group: "connection",
            summary: "Unblocks a client blocked by a blocking command from a different connection.",
            since: "5.0.0",
            complexity: "O(log N) where N is the number of client connections",
            args: "client-id:integer [unblock-type:( TIMEOUT | ERROR )]",
            handler: Some(unblock),
            ..CommandSpec::DEFAULT
        },
    ],
    ..CommandSpec::DEFAULT
}];

/// Redis 8's CLIENT HELP text, between the header and the HELP lines.
const HELP: &[&str] = &[
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
];

/// Checks a client name as Redis does: no spaces, newlines or other
/// characters outside '!' to '~'.
pub fn validate_name(name: &[u8]) -> Result<(), &'static str> {
    if !valid_attr(name) {
        return Err("ERR Client names cannot contain spaces, newlines or special characters.");
    }
    Ok(())
}

/// Redis's `validateClientAttr`: every byte between '!' and '~'.
fn valid_attr(v: &[u8]) -> bool {
    v.iter().all(|c| (b'!'..=b'~').contains(c))
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

/// Ends a CLIENT PAUSE whose time is up (run by the cron, and by paused
/// clients when their wait times out).
pub fn end_pause_if_due(shared: &Shared) {
    shared.pause.end_if_due();
}

/// The reply for a known subcommand called with a number of arguments its
/// handler does not take (Redis's `addReplySubcommandSyntaxError`).
fn subcommand_syntax_error(ctx: &mut Ctx<'_>) {
    let sub = String::from_utf8_lossy(ctx.arg(1));
    let sub: String = sub.chars().take(128).collect();
    let container = String::from_utf8_lossy(ctx.arg(0)).to_ascii_uppercase();
    ctx.out.error(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {container} HELP."
    ));
}

fn help(ctx: &mut Ctx<'_>) {
    let container = ctx.args[0];
    reply_help(ctx.out, container, HELP);
}

fn id(ctx: &mut Ctx<'_>) {
    ctx.out.int(ctx.client.id as i64);
}

/// A client's kind for the TYPE filters (Redis's `getClientType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

/// Redis's `getClientTypeByName`.
fn client_type_by_name(name: &[u8]) -> Option<ClientType> {
    let t = [
        ("normal", ClientType::Normal),
        ("slave", ClientType::Replica),
        ("replica", ClientType::Replica),
        ("pubsub", ClientType::PubSub),
        ("master", ClientType::Master),
    ];
    t.iter()
        .find(|(n, _)| name.eq_ignore_ascii_case(n.as_bytes()))
        .map(|&(_, t)| t)
}

/// The type of a connected client. Replication and pub/sub are not
/// implemented yet, so every client is a normal one.
fn client_type(_e: &ClientEntry) -> ClientType {
    ClientType::Normal
}

fn unknown_type(ctx: &mut Ctx<'_>, i: usize) {
    let t = String::from_utf8_lossy(ctx.arg(i)).into_owned();
    ctx.out.error(&format!("ERR Unknown client type '{t}'"));
}

fn lossy(b: &Option<Bytes>) -> std::borrow::Cow<'_, str> {
    match b {
        Some(b) => String::from_utf8_lossy(b),
        None => std::borrow::Cow::Borrowed(""),
    }
}

/// Appends one CLIENT LIST line (without its newline) for `e`, as Redis's
/// `catClientInfoString`. The calling client's own line takes the fields
/// that change while a batch runs (db, name, modes) from `me`, and the
/// size of the command being run as `argv-mem`.
fn client_line(
    out: &mut String,
    e: &ClientEntry,
    now_ms: i64,
    me: Option<(&viator_store::Client, usize)>,
) {
    let info = e.info.lock().clone();
    let (db, resp, name, lib_name, lib_ver, user, no_evict, no_touch, closing, argv_mem) = match me
    {
        Some((c, argv)) => (
            c.db,
            c.resp,
            c.name.clone(),
            c.lib_name.clone(),
            c.lib_ver.clone(),
            c.user.clone().unwrap_or_else(|| info.user.clone()),
            c.no_evict,
            c.no_touch,
            c.close_after_reply,
            argv,
        ),
        None => (
            info.db,
            info.resp,
            info.name.clone(),
            info.lib_name.clone(),
            info.lib_ver.clone(),
            info.user.clone(),
            info.no_evict,
            info.no_touch,
            false,
            0,
        ),
    };
    let (multi, watch) = match me {
        Some((c, _)) => (
            c.multi.as_ref().map_or(-1, |m| m.len as i64),
            c.watched.len(),
        ),
        None => (info.multi, info.watch),
    };
    let mut fl = String::new();
    if e.blocked.load(Ordering::Relaxed) || e.postponed.load(Ordering::Relaxed) {
        fl.push('b');
    }
    if closing {
        fl.push('c');
    }
    if e.killed.load(Ordering::Relaxed) {
        fl.push('A');
    }
    if no_evict {
        fl.push('e');
    }
    if no_touch {
        fl.push('T');
    }
    if multi >= 0 {
        fl.push('x');
    }
    if fl.is_empty() {
        fl.push('N');
    }
    let age = (now_ms - e.created_ms).max(0) / 1000;
    let idle = (now_ms - e.last_interaction_ms.load(Ordering::Relaxed)).max(0) / 1000;
    let qbuf = e.qbuf.load(Ordering::Relaxed);
    let rbs = e.qbuf_cap.load(Ordering::Relaxed);
    let tot_mem = rbs
        + info.obuf
        + argv_mem
        + std::mem::size_of::<ClientEntry>()
        + std::mem::size_of::<viator_store::Client>();
    let _ = write!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi={} watch={} \
         qbuf={} qbuf-free={} argv-mem={} multi-mem=0 rbs={} rbp={} obl=0 oll=0 omem={} tot-mem={} events=r cmd={} \
         user={} redir=-1 resp={} lib-name={} lib-ver={} io-thread={} tot-net-in={} tot-net-out={} tot-cmds={}",
        e.id,
        e.addr,
        e.laddr,
        e.fd,
        lossy(&name),
        age,
        idle,
        fl,
        db,
        multi,
        watch,
        qbuf,
        rbs.saturating_sub(qbuf),
        argv_mem,
        rbs,
        e.qbuf_peak.load(Ordering::Relaxed),
        info.omem,
        tot_mem,
        info.last_cmd,
        user,
        resp,
        lossy(&lib_name),
        lossy(&lib_ver),
        e.io_thread,
        e.net_in.load(Ordering::Relaxed),
        e.net_out.load(Ordering::Relaxed),
        info.tot_cmds,
    );
}

/// Appends the line of `e`, newline included, using the calling client's
/// live state when `e` is the caller.
fn push_line(out: &mut String, ctx: &Ctx<'_>, e: &ClientEntry, now_ms: i64) {
    let me =
        (e.id == ctx.client.id).then(|| (&*ctx.client, ctx.args.iter().map(|a| a.len()).sum()));
    client_line(out, e, now_ms, me);
    out.push('\n');
}

fn info(ctx: &mut Ctx<'_>) {
    let shared = Shared::from_host(ctx.host);
    let mut out = String::new();
    if let Some(e) = shared.clients.get(ctx.client.id) {
        push_line(&mut out, ctx, &e, ctx.now_ms);
    }
    ctx.out.verbatim("txt", out.as_bytes());
}

fn list(ctx: &mut Ctx<'_>) {
    let shared = Shared::from_host(ctx.host);
    let now = ctx.now_ms;
    let mut out = String::new();
    if ctx.argc() == 4 && ctx.arg_is(2, "type") {
        let Some(t) = client_type_by_name(ctx.arg(3)) else {
            unknown_type(ctx, 3);
            return;
        };
        for e in shared.clients.all() {
            if client_type(&e) == t {
                push_line(&mut out, ctx, &e, now);
            }
        }
    } else if ctx.argc() > 3 && ctx.arg_is(2, "id") {
        let mut ids = Vec::with_capacity(ctx.argc() - 3);
        for i in 3..ctx.argc() {
            match viator_types::number::parse_i64(ctx.arg(i)) {
                Some(v) => ids.push(v),
                None => {
                    ctx.out.error("ERR Invalid client ID");
                    return;
                }
            }
        }
        // One line per id given, in the order given, as Redis does.
        for id in ids {
            if let Some(e) = u64::try_from(id).ok().and_then(|id| shared.clients.get(id)) {
                push_line(&mut out, ctx, &e, now);
            }
        }
    } else if ctx.argc() != 2 {
        ctx.out.error(errors::SYNTAX);
        return;
    } else {
        for e in shared.clients.all() {
            push_line(&mut out, ctx, &e, now);
        }
    }
    ctx.out.verbatim("txt", out.as_bytes());
}

/// The filters of CLIENT KILL (Redis's `clientKillFilter`).
#[derive(Default)]
struct KillFilter {
    addr: Option<String>,
    laddr: Option<String>,
    id: Option<u64>,
    ctype: Option<ClientType>,
    user: Option<String>,
    skipme: bool,
    max_age: Option<i64>,
}

impl KillFilter {
    fn matches(&self, e: &ClientEntry, now_ms: i64) -> bool {
        if let Some(a) = &self.addr
            && e.addr.to_string() != *a
        {
            return false;
        }
        if let Some(a) = &self.laddr
            && e.laddr.to_string() != *a
        {
            return false;
        }
        if let Some(t) = self.ctype
            && client_type(e) != t
        {
            return false;
        }
        if let Some(id) = self.id
            && e.id != id
        {
            return false;
        }
        if let Some(u) = &self.user
            && e.info.lock().user != *u
        {
            return false;
        }
        // Whole seconds of both times, as Redis compares `ctime`.
        if let Some(max) = self.max_age
            && now_ms / 1000 - e.created_ms / 1000 < max
        {
            return false;
        }
        true
    }
}

/// Parses the filter form of CLIENT KILL, replying with Redis's error on a
/// bad one.
fn parse_kill_filter(ctx: &mut Ctx<'_>) -> Option<KillFilter> {
    let mut f = KillFilter {
        skipme: true,
        ..KillFilter::default()
    };
    let mut i = 2;
    while i < ctx.argc() {
        let more = ctx.argc() > i + 1;
        if !more {
            ctx.out.error(errors::SYNTAX);
            return None;
        }
        let v = ctx.arg(i + 1);
        if ctx.arg_is(i, "id") {
            match viator_types::number::parse_i64(v) {
                Some(n) if n >= 1 => f.id = Some(n as u64),
                _ => {
                    ctx.out.error("ERR client-id should be greater than 0");
                    return None;
                }
            }
        } else if ctx.arg_is(i, "type") {
            match client_type_by_name(v) {
                Some(t) => f.ctype = Some(t),
                None => {
                    unknown_type(ctx, i + 1);
                    return None;
                }
            }
        } else if ctx.arg_is(i, "addr") {
            f.addr = Some(String::from_utf8_lossy(v).into_owned());
        } else if ctx.arg_is(i, "laddr") {
            f.laddr = Some(String::from_utf8_lossy(v).into_owned());
        } else if ctx.arg_is(i, "user") {
            // Only the default user exists until ACL users land.
            if v != b"default" {
                let u = String::from_utf8_lossy(v).into_owned();
                ctx.out.error(&format!("ERR No such user '{u}'"));
                return None;
            }
            f.user = Some("default".to_string());
        } else if ctx.arg_is(i, "skipme") {
            if v.eq_ignore_ascii_case(b"yes") {
                f.skipme = true;
            } else if v.eq_ignore_ascii_case(b"no") {
                f.skipme = false;
            } else {
                ctx.out.error(errors::SYNTAX);
                return None;
            }
        } else if ctx.arg_is(i, "maxage") {
            match viator_types::number::parse_i64(v) {
                Some(n) if n > 0 => f.max_age = Some(n),
                Some(_) => {
                    ctx.out.error("ERR maxage should be greater than 0");
                    return None;
                }
                None => {
                    ctx.out
                        .error("ERR maxage is not an integer or out of range");
                    return None;
                }
            }
        } else {
            ctx.out.error(errors::SYNTAX);
            return None;
        }
        i += 2;
    }
    Some(f)
}

fn kill(ctx: &mut Ctx<'_>) {
    let shared = Shared::from_host(ctx.host);
    let old_form = ctx.argc() == 3;
    let filter = if old_form {
        // CLIENT KILL <addr>: with the old form one may kill oneself.
        KillFilter {
            addr: Some(String::from_utf8_lossy(ctx.arg(2)).into_owned()),
            skipme: false,
            ..KillFilter::default()
        }
    } else {
        match parse_kill_filter(ctx) {
            Some(f) => f,
            None => return,
        }
    };
    let me = ctx.client.id;
    let now = ctx.now_ms;
    let (killed, me_matched) = shared.clients.kill_where(me, |e| {
        !(filter.skipme && e.id == me) && filter.matches(e, now)
    });
    if old_form {
        if killed == 0 {
            ctx.out.error("ERR No such client");
        } else {
            ctx.out.ok();
        }
    } else {
        ctx.out.int(killed as i64);
    }
    if me_matched {
        // Killing oneself: closed once this reply is written.
        ctx.client.close_after_reply = true;
    }
}

fn setname(ctx: &mut Ctx<'_>) {
    let name = Bytes::copy_from_slice(ctx.args[2]);
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

fn setinfo(ctx: &mut Ctx<'_>) {
    let lib_name = if ctx.arg_is(2, "lib-name") {
        true
    } else if ctx.arg_is(2, "lib-ver") {
        false
    } else {
        let attr = String::from_utf8_lossy(ctx.arg(2)).into_owned();
        ctx.out.error(&format!("ERR Unrecognized option '{attr}'"));
        return;
    };
    let value = Bytes::copy_from_slice(ctx.args[3]);
    if !valid_attr(&value) {
        let attr = String::from_utf8_lossy(ctx.arg(2)).into_owned();
        ctx.out.error(&format!(
            "ERR {attr} cannot contain spaces, newlines or special characters."
        ));
        return;
    }
    let value = if value.is_empty() { None } else { Some(value) };
    let shared = Shared::from_host(ctx.host);
    if let Some(e) = shared.clients.get(ctx.client.id) {
        let mut info = e.info.lock();
        if lib_name {
            info.lib_name = value.clone();
        } else {
            info.lib_ver = value.clone();
        }
    }
    if lib_name {
        ctx.client.lib_name = value;
    } else {
        ctx.client.lib_ver = value;
    }
    ctx.out.ok();
}

fn reply(ctx: &mut Ctx<'_>) {
    if ctx.arg_is(2, "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.out.ok();
    } else if ctx.arg_is(2, "off") {
        // No reply: this very command's reply is the first one dropped.
        ctx.client.reply_mode = ReplyMode::Off;
    } else if ctx.arg_is(2, "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        ctx.out.error(errors::SYNTAX);
    }
}

/// Parses ON/OFF, replying with a syntax error otherwise.
fn on_off(ctx: &mut Ctx<'_>) -> Option<bool> {
    if ctx.arg_is(2, "on") {
        Some(true)
    } else if ctx.arg_is(2, "off") {
        Some(false)
    } else {
        ctx.out.error(errors::SYNTAX);
        None
    }
}

fn no_evict(ctx: &mut Ctx<'_>) {
    let Some(on) = on_off(ctx) else { return };
    ctx.client.no_evict = on;
    let shared = Shared::from_host(ctx.host);
    if let Some(e) = shared.clients.get(ctx.client.id) {
        e.info.lock().no_evict = on;
    }
    ctx.out.ok();
}

fn no_touch(ctx: &mut Ctx<'_>) {
    let Some(on) = on_off(ctx) else { return };
    ctx.client.no_touch = on;
    let shared = Shared::from_host(ctx.host);
    if let Some(e) = shared.clients.get(ctx.client.id) {
        e.info.lock().no_touch = on;
    }
    ctx.out.ok();
}

/// Redis's `getTimeoutFromObjectOrReply` in milliseconds: the absolute
/// end time in unix ms, 0 for a zero timeout.
fn timeout_ms(ctx: &mut Ctx<'_>, i: usize, now_ms: i64) -> Option<i64> {
    let Some(t) = viator_types::number::parse_i64(ctx.arg(i)) else {
        ctx.out
            .error("ERR timeout is not an integer or out of range");
        return None;
    };
    if t < 0 {
        ctx.out.error("ERR timeout is negative");
        return None;
    }
    if t == 0 {
        return Some(0);
    }
    match t.checked_add(now_ms) {
        Some(end) => Some(end),
        None => {
            ctx.out.error("ERR timeout is out of range");
            None
        }
    }
}

fn pause(ctx: &mut Ctx<'_>) {
    if ctx.argc() > 4 {
        subcommand_syntax_error(ctx);
        return;
    }
    let mut mode = Pause::ALL;
    if ctx.argc() == 4 {
        if ctx.arg_is(3, "write") {
            mode = Pause::WRITE;
        } else if !ctx.arg_is(3, "all") {
            ctx.out.error("ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    let now = ctx.now_ms;
    let Some(end) = timeout_ms(ctx, 2, now) else {
        return;
    };
    let shared = Shared::from_host(ctx.host);
    shared.pause.pause(mode, end);
    ctx.out.ok();
}

fn unpause(ctx: &mut Ctx<'_>) {
    Shared::from_host(ctx.host).pause.unpause();
    ctx.out.ok();
}

fn unblock(ctx: &mut Ctx<'_>) {
    if ctx.argc() > 4 {
        subcommand_syntax_error(ctx);
        return;
    }
    if ctx.argc() == 4 && !ctx.arg_is(3, "timeout") && !ctx.arg_is(3, "error") {
        ctx.out
            .error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
        return;
    }
    let Some(id) = ctx.int_arg(2) else {
        return;
    };
    // Only clients blocked on keys can be unblocked; one held by CLIENT
    // PAUSE is not blocked in that sense and gets 0, as in Redis.
    let error = ctx.argc() == 4 && ctx.arg_is(3, "error");
    let unblocked = u64::try_from(id).is_ok_and(|id| ctx.store.unblock_client(id, error));
    ctx.out.int(i64::from(unblocked));
}
