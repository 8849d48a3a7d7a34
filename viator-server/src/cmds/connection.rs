//! Connection commands: PING, ECHO, SELECT, QUIT, RESET, HELLO, AUTH.

use bytes::Bytes;
use viator_store::command::{CommandSpec, Ctx, ReplyMode, acl, flags};
use viator_store::errors;

use crate::server::Shared;

/// The connection family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: flags::FAST | flags::SENTINEL,
        acl: acl::CONNECTION,
        group: "connection",
        summary: "Returns the server's liveliness response.",
        complexity: "O(1)",
        args: "[message:string]",
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        handler: Some(ping),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: flags::LOADING | flags::STALE | flags::FAST,
        acl: acl::CONNECTION,
        group: "connection",
        summary: "Returns the given string.",
        complexity: "O(1)",
        args: "message:string",
        handler: Some(echo),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: flags::LOADING | flags::STALE | flags::FAST,
        acl: acl::CONNECTION,
        group: "connection",
        summary: "Changes the selected database.",
        since: "1.0.0",
        complexity: "O(1)",
        args: "index:integer",
        handler: Some(select),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: flags::ALLOW_BUSY
            | flags::NOSCRIPT
            | flags::LOADING
            | flags::STALE
            | flags::FAST
            | flags::NO_AUTH,
        acl: acl::CONNECTION,
        group: "connection",
        summary: "Closes the connection.",
        complexity: "O(1)",
        doc_flags: &["deprecated"],
        deprecated_since: "7.2.0",
        replaced_by: "just closing the connection",
        handler: Some(quit),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "reset",
        arity: 1,
        flags: flags::NOSCRIPT
            | flags::LOADING
            | flags::STALE
            | flags::FAST
            | flags::NO_AUTH
            | flags::ALLOW_BUSY,
        acl: acl::CONNECTION,
        group: "connection",
        summary: "Resets the connection.",
        since: "6.2.0",
        complexity: "O(1)",
        handler: Some(reset),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hello",
        arity: -1,
        flags: flags::NOSCRIPT
            | flags::LOADING
            | flags::STALE
            | flags::FAST
            | flags::NO_AUTH
            | flags::SENTINEL
            | flags::ALLOW_BUSY,
        acl: acl::CONNECTION,
        group: "connection",
        summary: "Handshakes with the Redis server.",
        since: "6.0.0",
        complexity: "O(1)",
        args: "[arguments:{protover:integer [AUTH=auth:{username:string password:string}] [SETNAME=clientname:string]}]",
        history: &[(
            "6.2.0",
            "`protover` made optional; when called without arguments the command reports the current connection's context.",
        )],
        handler: Some(hello),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "auth",
        arity: -2,
        flags: flags::NOSCRIPT
            | flags::LOADING
            | flags::STALE
            | flags::FAST
            | flags::NO_AUTH
            | flags::SENTINEL
            | flags::ALLOW_BUSY,
        acl: acl::CONNECTION,
        group: "connection",
        summary: "Authenticates the connection.",
        complexity: "O(N) where N is the number of passwords defined for the user",
        args: "[username:string@6.0.0] password:string",
        history: &[("6.0.0", "Added ACL style (username and password).")],
        handler: Some(auth),
        ..CommandSpec::DEFAULT
    },
];

fn ping(ctx: &mut Ctx<'_>) {
    match ctx.argc() {
        1 => ctx.out.simple("PONG"),
        2 => {
            let msg = ctx.arg(1);
            ctx.out.bulk(msg);
        }
        _ => ctx.out.error(&errors::wrong_arity("ping")),
    }
}

fn echo(ctx: &mut Ctx<'_>) {
    let msg = ctx.arg(1);
    ctx.out.bulk(msg);
}

fn select(ctx: &mut Ctx<'_>) {
    let Some(n) = viator_types::number::parse_i64(ctx.arg(1)) else {
        ctx.out.error(errors::NOT_INTEGER);
        return;
    };
    if n < i64::from(i32::MIN) || n > i64::from(i32::MAX) {
        ctx.out
            .error("ERR value is out of range, value must between -2147483648 and 2147483647");
        return;
    }
    if n < 0 || n as usize >= ctx.store.db_count() {
        ctx.out.error(errors::DB_INDEX_OUT_OF_RANGE);
        return;
    }
    ctx.client.db = n as usize;
    ctx.out.ok();
}

fn quit(ctx: &mut Ctx<'_>) {
    ctx.out.ok();
    ctx.client.close_after_reply = true;
}

fn reset(ctx: &mut Ctx<'_>) {
    let shared = Shared::from_host(ctx.host);
    let c = &mut *ctx.client;
    c.db = 0;
    c.resp = 2;
    ctx.out.set_resp3(false);
    c.name = None;
    c.no_evict = false;
    c.no_touch = false;
    c.reply_mode = ReplyMode::On;
    c.multi = None;
    ctx.store.watches.unwatch_all(c);
    c.user = if shared.config.read().requirepass().is_some() {
        None
    } else {
        Some("default".to_string())
    };
    if let Some(e) = shared.clients.get(c.id) {
        let mut info = e.info.lock();
        info.name = None;
        info.no_evict = false;
        info.no_touch = false;
        info.user = "default".to_string();
    }
    ctx.out.simple("RESET");
}

/// Checks a user name and password against `requirepass` (the default
/// user; ACL users come with the ACL issue). Returns whether they match.
fn check_password(shared: &Shared, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    match shared.config.read().requirepass() {
        // The default user has `nopass` when requirepass is empty: any
        // password is accepted.
        None => true,
        // Constant time, so that timing does not tell how much matched.
        Some(p) => bool::from(subtle::ConstantTimeEq::ct_eq(p, pass)),
    }
}

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

fn set_user(ctx: &mut Ctx<'_>, user: &[u8]) {
    let name = String::from_utf8_lossy(user).into_owned();
    let shared = Shared::from_host(ctx.host);
    if let Some(e) = shared.clients.get(ctx.client.id) {
        e.info.lock().user = name.clone();
    }
    ctx.client.user = Some(name);
}

fn auth(ctx: &mut Ctx<'_>) {
    let shared = Shared::from_host(ctx.host);
    let (user, pass): (&[u8], &[u8]) = match ctx.argc() {
        2 => (b"default", ctx.arg(1)),
        3 => (ctx.arg(1), ctx.arg(2)),
        _ => {
            ctx.out.error(errors::SYNTAX);
            return;
        }
    };
    if ctx.argc() == 2 && shared.config.read().requirepass().is_none() {
        ctx.out.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        return;
    }
    if check_password(shared, user, pass) {
        set_user(ctx, user);
        ctx.out.ok();
    } else {
        crate::log::verbose("Authentication failed");
        ctx.out.error(WRONGPASS);
    }
}

fn hello(ctx: &mut Ctx<'_>) {
    let shared = Shared::from_host(ctx.host);
    let mut resp = ctx.client.resp;
    let mut i = 1;
    if ctx.argc() >= 2 {
        match viator_types::number::parse_i64(ctx.arg(1)) {
            Some(v) if v == 2 || v == 3 => resp = v as u8,
            Some(_) => {
                ctx.out.error("NOPROTO unsupported protocol version");
                return;
            }
            None => {
                ctx.out
                    .error("ERR Protocol version is not an integer or out of range");
                return;
            }
        }
        i = 2;
    }
    let mut auth: Option<(Bytes, Bytes)> = None;
    let mut setname: Option<Bytes> = None;
    while i < ctx.argc() {
        let more = ctx.argc() - i - 1;
        if ctx.arg_is(i, "AUTH") && more >= 2 {
            auth = Some((
                Bytes::copy_from_slice(ctx.args[i + 1]),
                Bytes::copy_from_slice(ctx.args[i + 2]),
            ));
            i += 3;
        } else if ctx.arg_is(i, "SETNAME") && more >= 1 {
            setname = Some(Bytes::copy_from_slice(ctx.args[i + 1]));
            i += 2;
        } else {
            let opt = String::from_utf8_lossy(ctx.arg(i)).into_owned();
            ctx.out
                .error(&format!("ERR Syntax error in HELLO option '{opt}'"));
            return;
        }
    }
    if let Some((user, pass)) = &auth {
        if !check_password(shared, user, pass) {
            ctx.out.error(WRONGPASS);
            return;
        }
    }
    if auth.is_none() && ctx.client.user.is_none() {
        ctx.out.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    if let Some(name) = &setname {
        if let Err(e) = crate::cmds::client::validate_name(name) {
            ctx.out.error(e);
            return;
        }
    }
    if let Some((user, _)) = &auth {
        set_user(ctx, user);
    }
    if let Some(name) = setname {
        crate::cmds::client::set_name(ctx, name);
    }
    ctx.client.resp = resp;
    ctx.out.set_resp3(resp == 3);
    let role = "master";
    ctx.out.map(7);
    ctx.out.bulk(b"server");
    ctx.out.bulk(b"redis");
    ctx.out.bulk(b"version");
    ctx.out.bulk(crate::REDIS_VERSION.as_bytes());
    ctx.out.bulk(b"proto");
    ctx.out.int(i64::from(resp));
    ctx.out.bulk(b"id");
    ctx.out.int(ctx.client.id as i64);
    ctx.out.bulk(b"mode");
    ctx.out.bulk(b"standalone");
    ctx.out.bulk(b"role");
    ctx.out.bulk(role.as_bytes());
    ctx.out.bulk(b"modules");
    ctx.out.array(0);
}
