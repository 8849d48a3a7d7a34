//! MIGRATE (Redis's `cluster.c`): moves keys to another server by sending
//! it RESTORE commands with their DUMP payloads, over a connection kept in
//! a small cache for the next MIGRATE to the same place.
//!
//! The command talks to the target synchronously, with blocking
//! `std::net` I/O bounded by the command's timeout, as Redis's does: the
//! calling connection's worker thread waits for the target, like Redis's
//! whole event loop waits. The store gains no async runtime for it, and an
//! embedding program that runs MIGRATE gets a plain blocking call.
//!
//! # What is atomic
//!
//! Redis is single-threaded, so nothing else runs between its DUMP of the
//! keys, the network round trip and the deletion of the keys. Here other
//! clients keep running, and holding the keys' shard locks for up to
//! `timeout` milliseconds of network wait would stall every client whose
//! keys share a shard, on every worker thread. So MIGRATE works in three
//! steps:
//!
//! 1. Under the locks of the keys' shards (one acquisition for all keys),
//!    it looks the keys up, serializes them and reads their TTLs: the
//!    payloads are one consistent snapshot of the keys, as in Redis.
//! 2. Without any lock, it sends AUTH, SELECT and the RESTOREs, and reads
//!    the replies.
//! 3. Under the locks again, it deletes each key the target acknowledged
//!    (unless COPY), **only if the key still holds what was sent**: the
//!    same payload (the key is serialized again to compare, which costs
//!    what step 1 cost) and the same expire time. A key some client changed
//!    meanwhile keeps its new value on this server (the target has the
//!    value of step 1); no write is ever lost. Redis cannot get here; a
//!    client that relies on the key being gone after OK only differs when
//!    another client writes the key during the migration.
//!
//! Inside MULTI/EXEC, which holds every shard of the transaction for its
//! whole run, the three steps happen under those locks: the transaction
//! stays isolated, as in Redis. No lock is ever held across a tokio
//! `.await`: nothing here awaits.
//!
//! # The connection cache
//!
//! Redis's `migrateGetSocket`: at most [`CACHE_ITEMS`] connections, keyed
//! by `host:port` as written, each remembering the database it last
//! selected (so that SELECT is sent only when it changes) and closed by the
//! server's cron after [`CACHE_TTL_SECS`] seconds unused
//! ([`SocketCache::close_idle`]). A MIGRATE takes its connection out of the
//! cache while it uses it and puts it back after, so two MIGRATEs to the
//! same target at the same time each get a connection of their own (the
//! second opens a fresh one); INFO's `migrate_cached_sockets` does not
//! count a connection while a MIGRATE uses it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use viator_persist::dump;

use crate::command::{BeginSearch, CommandSpec, Ctx, FindKeys, KeySpec, acl, flags};
use crate::errors;

/// The most connections the cache keeps (`MIGRATE_SOCKET_CACHE_ITEMS`).
pub const CACHE_ITEMS: usize = 64;
/// Seconds a cached connection may stay unused before the cron closes it
/// (`MIGRATE_SOCKET_CACHE_TTL`).
pub const CACHE_TTL_SECS: i64 = 10;
/// The longest reply line read from the target, as Redis's 1024-byte
/// buffers (with their terminating NUL) hold.
const MAX_LINE: usize = 1023;

/// The commands of this family.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "migrate",
    arity: -6,
    flags: flags::WRITE,
    acl: acl::KEYSPACE | acl::DANGEROUS,
    keys: &[
        KeySpec::single(3, &["RW", "ACCESS", "DELETE"]),
        KeySpec {
            flags: &["RW", "ACCESS", "DELETE", "INCOMPLETE"],
            begin: BeginSearch::Keyword {
                keyword: "KEYS",
                startfrom: -2,
            },
            find: FindKeys::Range {
                lastkey: -1,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        },
    ],
    group: "generic",
    summary: "Atomically transfers a key from one Redis instance to another.",
    since: "2.6.0",
    complexity: "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
    args: "host:string port:integer key-selector:( key:key | \"\"=empty-string ) destination-db:integer timeout:integer [COPY@3.0.0] [REPLACE@3.0.0] [authentication:( AUTH=auth/password:string@4.0.7 | AUTH2=auth2:{ username:string password:string }@6.0.0 )] [KEYS=keys/key:key...@3.0.6]",
    tips: &["nondeterministic_output"],
    history: &[
        ("3.0.0", "Added the `COPY` and `REPLACE` options."),
        ("3.0.6", "Added the `KEYS` option."),
        ("4.0.7", "Added the `AUTH` option."),
        ("6.0.0", "Added the `AUTH2` option."),
    ],
    handler: Some(migrate),
    ..CommandSpec::DEFAULT
}];

/// One connection to a target, as the cache keeps it.
#[derive(Debug)]
struct Conn {
    /// The socket, with whatever the target sent past the last reply read.
    io: BufReader<TcpStream>,
    /// The database the connection selected last; -1 when unknown (a new
    /// connection, or after the target replied with an error).
    last_dbid: i64,
    /// Unix seconds of its last use.
    last_use: i64,
}

/// The cache of connections MIGRATE keeps to its targets (see the module
/// docs). One per store.
#[derive(Debug, Default)]
pub struct SocketCache {
    conns: Mutex<HashMap<Vec<u8>, Conn>>,
}

impl SocketCache {
    /// Connections in the cache (INFO's `migrate_cached_sockets`).
    pub fn len(&self) -> usize {
        self.conns.lock().len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.conns.lock().is_empty()
    }

    /// Closes the connections unused for more than [`CACHE_TTL_SECS`]
    /// seconds at unix time `now_secs` (Redis's
    /// `migrateCloseTimedoutSockets`, which `serverCron` runs every
    /// second).
    pub fn close_idle(&self, now_secs: i64) {
        self.conns
            .lock()
            .retain(|_, c| now_secs - c.last_use <= CACHE_TTL_SECS);
    }

    /// Closes every cached connection.
    pub fn clear(&self) {
        self.conns.lock().clear();
    }

    /// Takes the connection to `name` out of the cache, for one MIGRATE.
    fn take(&self, name: &[u8]) -> Option<Conn> {
        self.conns.lock().remove(name)
    }

    /// Puts a connection back after a MIGRATE used it. A full cache first
    /// closes one of its connections at random, as Redis's does before it
    /// adds one.
    fn put(&self, name: Vec<u8>, conn: Conn) {
        let mut conns = self.conns.lock();
        if !conns.contains_key(&name) && conns.len() >= CACHE_ITEMS {
            let victim = fastrand::usize(..conns.len());
            if let Some(k) = conns.keys().nth(victim).cloned() {
                conns.remove(&k);
            }
        }
        // Another MIGRATE to the same target may have put its own
        // connection back meanwhile: the newer one stays, the other closes.
        conns.insert(name, conn);
    }
}

/// One key to move: its name, payload, absolute expire time and the TTL
/// its RESTORE carries.
struct Item<'a> {
    key: &'a [u8],
    payload: Vec<u8>,
    expire_ms: Option<i64>,
    ttl: i64,
}

/// Why talking to the target failed, for the retry decision and the
/// error reply.
struct SocketError {
    /// The failure was a timeout: no retry (Redis's `errno == ETIMEDOUT`).
    timed_out: bool,
}

/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
/// [AUTH password | AUTH2 username password] [KEYS key ...]
fn migrate(ctx: &mut Ctx<'_>) {
    let Some(opts) = parse(ctx) else {
        return;
    };
    let keys = &ctx.args[opts.first_key..opts.first_key + opts.num_keys];

    // Step 1: the payloads, under the keys' locks. Every key is looked up
    // (lookupKeyRead: hits, misses and access clocks) before any is
    // serialized, as Redis does.
    let compress = ctx.store.settings.rdb_compression.load(Ordering::Relaxed);
    let version = ctx.store.settings.rdb_version.load(Ordering::Relaxed);
    let mut items: Vec<Item<'_>> = Vec::new();
    {
        let mut ks = ctx.keys(keys);
        let found: Vec<&[u8]> = keys
            .iter()
            .copied()
            .filter(|k| ks.read(k).is_some())
            .collect();
        if found.is_empty() {
            drop(ks);
            ctx.out.simple("NOKEY");
            return;
        }
        for key in found {
            // A key whose time ran out since its lookup is not sent (none
            // can be: the lookup and this share the command's time).
            if let Some(e) = ks.peek(key)
                && let Some(ttl) = restore_ttl(e.expire_ms(), ctx.now_ms)
            {
                items.push(Item {
                    key,
                    payload: dump::create_version(&e, compress, version),
                    expire_ms: e.expire_ms(),
                    ttl,
                });
            }
        }
    }

    // Step 2: the network, with no lock held (see the module docs).
    let restores = restore_commands(&items, opts.replace);
    let host = ctx.arg(1);
    let port = ctx.arg(2);
    let mut name = host.to_vec();
    name.push(b':');
    name.extend_from_slice(port);
    let cache = &ctx.store.migrate_sockets;
    let mut may_retry = true;
    let outcome = loop {
        match attempt(cache, &name, host, port, &opts, &restores, items.len()) {
            Attempt::Done(o) => break o,
            Attempt::CannotConnect => {
                ctx.out
                    .error("IOERR error or timeout connecting to the client");
                return;
            }
            Attempt::SocketError { err, write } => {
                // Redis's `socket_err`: one more try on a fresh connection,
                // unless the failure was a timeout.
                if !err.timed_out && may_retry {
                    may_retry = false;
                    continue;
                }
                ctx.out.error(if write {
                    "IOERR error or timeout writing to target instance"
                } else {
                    "IOERR error or timeout reading to target instance"
                });
                return;
            }
        }
    };

    // Step 3: delete what the target acknowledged, unless COPY.
    if !opts.copy && !outcome.acked.is_empty() {
        let acked: Vec<&Item<'_>> = outcome.acked.iter().map(|&j| &items[j]).collect();
        let acked_keys: Vec<&[u8]> = acked.iter().map(|i| i.key).collect();
        let mut ks = ctx.keys(&acked_keys);
        let mut deleted: Vec<&[u8]> = Vec::with_capacity(acked.len());
        for item in acked {
            let unchanged = ks.peek(item.key).is_some_and(|e| {
                e.expire_ms() == item.expire_ms
                    && dump::create_version(&e, compress, version) == item.payload
            });
            if unchanged && ks.remove(item.key).is_some() {
                deleted.push(item.key);
            }
        }
        drop(ks);
        // The keys are deleted here: a MIGRATE without COPY propagates as
        // `DEL` of exactly `deleted` (Redis's replaceClientCommandVector),
        // and not at all when `deleted` is empty.
        ctx.store.add_dirty(deleted.len() as u64);
        if deleted.is_empty() {
            ctx.no_propagate();
        } else if ctx.propagating() {
            let mut del: Vec<&[u8]> = vec![b"DEL"];
            del.extend(deleted.iter().copied());
            ctx.propagate(&del);
        }
    }

    match outcome.result {
        Ok(()) => ctx.out.ok(),
        Err(Reply::Target(line)) => {
            let mut msg = b"ERR Target instance replied with error: ".to_vec();
            // `%s` of C: the text stops at a NUL byte.
            let text = line.get(1..).unwrap_or_default();
            let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
            msg.extend_from_slice(&text[..end]);
            ctx.out.error_bytes(&msg);
        }
        Err(Reply::IoReading) => ctx
            .out
            .error("IOERR error or timeout reading to target instance"),
    }
}

/// The options of a MIGRATE.
struct Options<'a> {
    copy: bool,
    replace: bool,
    username: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    /// Argument index of the first key.
    first_key: usize,
    num_keys: usize,
    timeout: Duration,
    dbid: i64,
}

/// The options, checked in Redis's order (options first, then the
/// timeout, then the database); `None` once an error is written.
fn parse<'a>(ctx: &mut Ctx<'a>) -> Option<Options<'a>> {
    let argc = ctx.argc();
    let mut o = Options {
        copy: false,
        replace: false,
        username: None,
        password: None,
        first_key: 3,
        num_keys: 1,
        timeout: Duration::ZERO,
        dbid: 0,
    };
    let mut j = 6;
    while j < argc {
        let more = argc - 1 - j;
        if ctx.arg_is(j, "copy") {
            o.copy = true;
        } else if ctx.arg_is(j, "replace") {
            o.replace = true;
        } else if ctx.arg_is(j, "auth") {
            if more < 1 {
                ctx.out.error(errors::SYNTAX);
                return None;
            }
            j += 1;
            o.password = Some(ctx.arg(j));
        } else if ctx.arg_is(j, "auth2") {
            if more < 2 {
                ctx.out.error(errors::SYNTAX);
                return None;
            }
            o.username = Some(ctx.arg(j + 1));
            o.password = Some(ctx.arg(j + 2));
            j += 2;
        } else if ctx.arg_is(j, "keys") {
            if !ctx.arg(3).is_empty() {
                ctx.out.error(
                    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                );
                return None;
            }
            o.first_key = j + 1;
            o.num_keys = argc - j - 1;
            break;
        } else {
            ctx.out.error(errors::SYNTAX);
            return None;
        }
        j += 1;
    }
    let timeout = ctx.int_arg(5)?;
    o.dbid = ctx.int_arg(4)?;
    // A timeout of 0 or less is one second. The longest wait a socket
    // timeout takes here is about 24 days, far beyond any use.
    let ms = if timeout <= 0 {
        1000
    } else {
        timeout.min(i64::from(i32::MAX))
    };
    o.timeout = Duration::from_millis(ms as u64);
    Some(o)
}

/// RESTORE's TTL argument for a key expiring at `expire_ms`: the
/// milliseconds left, at least 1 for a key about to expire, 0 for none;
/// `None` when its time is past.
fn restore_ttl(expire_ms: Option<i64>, now_ms: i64) -> Option<i64> {
    match expire_ms {
        Some(at) => {
            let left = at.saturating_sub(now_ms);
            (left >= 0).then_some(left.max(1))
        }
        None => Some(0),
    }
}

/// The RESTORE commands of `items` in RESP, one after the other: key, TTL,
/// payload, and REPLACE if asked.
fn restore_commands(items: &[Item<'_>], replace: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        let ttl = item.ttl.to_string();
        let mut args: Vec<&[u8]> = vec![b"RESTORE", item.key, ttl.as_bytes(), &item.payload];
        if replace {
            args.push(b"REPLACE");
        }
        viator_protocol::encode_command(&mut out, &args);
    }
    out
}

/// What one try of talking to the target gave.
enum Attempt {
    /// No connection could be made.
    CannotConnect,
    /// Writing failed (`write`), or reading the AUTH, the SELECT or the
    /// first RESTORE reply failed: nothing was restored, a retry is safe.
    SocketError { err: SocketError, write: bool },
    /// The replies were read (or some were, before the connection failed).
    Done(Outcome),
}

/// The result of a MIGRATE whose RESTOREs reached the target.
struct Outcome {
    /// Indexes of the items the target restored, when they are to be
    /// deleted here (not with COPY, nor after an AUTH or SELECT error).
    acked: Vec<usize>,
    /// OK, or the error to reply.
    result: Result<(), Reply>,
}

/// An error reply of a MIGRATE whose commands were sent.
enum Reply {
    /// The first error line the target sent (with its `-`).
    Target(Vec<u8>),
    /// The connection failed after some replies.
    IoReading,
}

/// One try (Redis's `try_again` label): get a connection, send AUTH,
/// SELECT (when the connection has another database selected) and the
/// RESTOREs in one write, and read the replies.
fn attempt(
    cache: &SocketCache,
    name: &[u8],
    host: &[u8],
    port: &[u8],
    o: &Options<'_>,
    restores: &[u8],
    count: usize,
) -> Attempt {
    let now_secs = crate::clock::now_ms() / 1000;
    let mut conn = match cache.take(name) {
        Some(c) => c,
        None => match connect(host, port, o.timeout) {
            Some(s) => Conn {
                io: BufReader::new(s),
                last_dbid: -1,
                last_use: now_secs,
            },
            None => return Attempt::CannotConnect,
        },
    };
    conn.last_use = now_secs;
    let sock = conn.io.get_ref();
    if sock.set_read_timeout(Some(o.timeout)).is_err()
        || sock.set_write_timeout(Some(o.timeout)).is_err()
    {
        return Attempt::SocketError {
            err: SocketError { timed_out: false },
            write: true,
        };
    }

    let mut cmd = Vec::with_capacity(restores.len() + 64);
    if let Some(password) = o.password {
        match o.username {
            Some(user) => viator_protocol::encode_command(&mut cmd, &[b"AUTH", user, password]),
            None => viator_protocol::encode_command(&mut cmd, &[b"AUTH", password]),
        }
    }
    let select = conn.last_dbid != o.dbid;
    if select {
        viator_protocol::encode_command(&mut cmd, &[b"SELECT", o.dbid.to_string().as_bytes()]);
    }
    cmd.extend_from_slice(restores);
    if let Err(e) = conn.io.get_mut().write_all(&cmd) {
        return Attempt::SocketError {
            err: socket_error(&e),
            write: true,
        };
    }
    drop(cmd);

    let mut tainted = false;
    let mut read = |conn: &mut Conn| -> Result<Vec<u8>, SocketError> {
        let (line, cut) = read_line(&mut conn.io)?;
        tainted |= cut;
        Ok(line)
    };
    let read_err = |e: SocketError| Attempt::SocketError {
        err: e,
        write: false,
    };
    let auth_reply = match o.password {
        Some(_) => match read(&mut conn) {
            Ok(l) => Some(l),
            Err(e) => return read_err(e),
        },
        None => None,
    };
    let select_reply = if select {
        match read(&mut conn) {
            Ok(l) => Some(l),
            Err(e) => return read_err(e),
        }
    } else {
        None
    };
    let is_err = |l: &Option<Vec<u8>>| l.as_ref().is_some_and(|l| l.first() == Some(&b'-'));
    let (auth_failed, select_failed) = (is_err(&auth_reply), is_err(&select_reply));

    let mut acked = Vec::new();
    let mut target_error: Option<Vec<u8>> = None;
    let mut failed: Option<(usize, SocketError)> = None;
    for j in 0..count {
        let line = match read(&mut conn) {
            Ok(l) => l,
            Err(e) => {
                failed = Some((j, e));
                break;
            }
        };
        if auth_failed || select_failed || line.first() == Some(&b'-') {
            if target_error.is_none() {
                // The database selected is no longer known.
                conn.last_dbid = -1;
                target_error = Some(if auth_failed {
                    auth_reply.clone().unwrap_or_default()
                } else if select_failed {
                    select_reply.clone().unwrap_or_default()
                } else {
                    line
                });
            }
        } else if !o.copy {
            acked.push(j);
        }
    }

    if let Some((j, err)) = failed {
        // Nothing was restored yet: the caller may try again.
        if target_error.is_none() && j == 0 {
            return Attempt::SocketError { err, write: false };
        }
        // Some replies came: the connection closes (dropped here), the
        // acknowledged keys are deleted, and the reply is the target's
        // error if it sent one, else a read error.
        return Attempt::Done(Outcome {
            acked,
            result: Err(match target_error {
                Some(line) => Reply::Target(line),
                None => Reply::IoReading,
            }),
        });
    }
    let result = match target_error {
        Some(line) => Err(Reply::Target(line)),
        None => {
            // SELECT worked: the next MIGRATE to this database skips it.
            conn.last_dbid = o.dbid;
            Ok(())
        }
    };
    // A reply line too long for Redis's buffer left its end unread: the
    // connection is out of step and is not kept.
    if !tainted {
        cache.put(name.to_vec(), conn);
    }
    Attempt::Done(Outcome { acked, result })
}

/// A socket error as Redis's retry logic sees it.
fn socket_error(e: &std::io::Error) -> SocketError {
    SocketError {
        timed_out: matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

/// Reads one reply line (Redis's `syncReadLine`): up to `\n`, without the
/// line end, at most [`MAX_LINE`] bytes (a longer line is cut, and the
/// flag says so). An empty line, the end of the stream or a timeout is an
/// error.
fn read_line(io: &mut BufReader<TcpStream>) -> Result<(Vec<u8>, bool), SocketError> {
    let mut line = Vec::new();
    loop {
        let buf = match io.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(socket_error(&e)),
        };
        if buf.is_empty() {
            return Err(SocketError { timed_out: false });
        }
        let room = MAX_LINE - line.len();
        let window = &buf[..buf.len().min(room)];
        if let Some(i) = window.iter().position(|&b| b == b'\n') {
            line.extend_from_slice(&window[..i]);
            io.consume(i + 1);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.is_empty() {
                return Err(SocketError { timed_out: false });
            }
            return Ok((line, false));
        }
        let n = window.len();
        line.extend_from_slice(window);
        io.consume(n);
        if line.len() == MAX_LINE {
            return Ok((line, true));
        }
    }
}

/// Connects to `host`:`port` within `timeout` (Redis's
/// `connBlockingConnect`): every address the name resolves to is tried in
/// turn until one accepts. The port is read as C's `atoi` reads it.
fn connect(host: &[u8], port: &[u8], timeout: Duration) -> Option<TcpStream> {
    let host = std::str::from_utf8(host).ok()?;
    let port = u16::try_from(atoi(port)).ok()?;
    let deadline = Instant::now() + timeout;
    for addr in (host, port).to_socket_addrs().ok()? {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        if let Ok(s) = TcpStream::connect_timeout(&addr, left) {
            let _ = s.set_nodelay(true);
            return Some(s);
        }
    }
    None
}

/// C's `atoi`: leading white space, a sign, then digits up to the first
/// other byte; 0 when there are none. Saturates instead of overflowing.
fn atoi(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(i64::from(d - b'0'));
        i += 1;
    }
    if neg { -v } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Client, Store, StoreOptions};
    use viator_protocol::ReplyBuf;

    fn run(store: &Store, args: &[&str]) -> String {
        let mut client = Client::default();
        let mut out = ReplyBuf::new();
        store.execute(&mut client, args, &mut out);
        String::from_utf8_lossy(out.as_bytes()).into_owned()
    }

    /// A loopback port nothing listens on.
    fn closed_port() -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port().to_string()
    }

    #[test]
    fn arguments_are_checked_before_anything_else() {
        let store = Store::new(StoreOptions::default());
        let p = closed_port();
        let m = |rest: &[&str]| {
            let mut a = vec!["MIGRATE", "127.0.0.1", &p];
            a.extend_from_slice(rest);
            run(&store, &a)
        };
        assert_eq!(
            m(&["k", "0"]),
            "-ERR wrong number of arguments for 'migrate' command\r\n"
        );
        assert_eq!(m(&["k", "0", "10", "FOO"]), "-ERR syntax error\r\n");
        assert_eq!(m(&["k", "0", "10", "AUTH"]), "-ERR syntax error\r\n");
        assert_eq!(m(&["k", "0", "10", "AUTH2", "u"]), "-ERR syntax error\r\n");
        assert_eq!(
            m(&["k", "0", "10", "KEYS", "a"]),
            "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string\r\n"
        );
        // Options come before the numbers, the timeout before the db.
        assert_eq!(m(&["k", "x", "y", "FOO"]), "-ERR syntax error\r\n");
        assert_eq!(
            m(&["k", "x", "y"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            m(&["k", "x", "10"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        // No key here: NOKEY, without connecting anywhere.
        assert_eq!(m(&["k", "0", "10"]), "+NOKEY\r\n");
        assert_eq!(m(&["", "0", "10", "KEYS", "a", "b"]), "+NOKEY\r\n");
        // KEYS ends the options: what follows is keys, even "COPY".
        assert_eq!(m(&["", "0", "10", "KEYS", "COPY", "FOO"]), "+NOKEY\r\n");
    }

    #[test]
    fn an_unreachable_target_is_an_ioerr_and_the_key_stays() {
        let store = Store::new(StoreOptions::default());
        run(&store, &["SET", "k", "v"]);
        let p = closed_port();
        assert_eq!(
            run(&store, &["MIGRATE", "127.0.0.1", &p, "k", "0", "500"]),
            "-IOERR error or timeout connecting to the client\r\n"
        );
        assert_eq!(
            run(
                &store,
                &["MIGRATE", "no such host.invalid", &p, "k", "0", "500"]
            ),
            "-IOERR error or timeout connecting to the client\r\n"
        );
        assert_eq!(
            run(&store, &["MIGRATE", "127.0.0.1", "99999", "k", "0", "500"]),
            "-IOERR error or timeout connecting to the client\r\n"
        );
        assert_eq!(run(&store, &["GET", "k"]), "$1\r\nv\r\n");
        assert!(store.migrate_sockets.is_empty());
    }

    #[test]
    fn atoi_reads_as_c_does() {
        assert_eq!(atoi(b"6379"), 6379);
        assert_eq!(atoi(b" +12x"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b"99999999999999999999999"), i64::MAX);
    }

    #[test]
    fn commands_are_resp_arrays_of_bulks() {
        let item = |key: &'static [u8], payload: &[u8], ttl| Item {
            key,
            payload: payload.to_vec(),
            expire_ms: None,
            ttl,
        };
        let items = [item(b"a", b"P", 1), item(b"b", b"Q", 0)];
        assert_eq!(
            restore_commands(&items, true),
            b"*5\r\n$7\r\nRESTORE\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nP\r\n$7\r\nREPLACE\r\n\
              *5\r\n$7\r\nRESTORE\r\n$1\r\nb\r\n$1\r\n0\r\n$1\r\nQ\r\n$7\r\nREPLACE\r\n"
        );
        assert_eq!(
            restore_commands(&[item(b"c", b"R", 600)], false),
            b"*4\r\n$7\r\nRESTORE\r\n$1\r\nc\r\n$3\r\n600\r\n$1\r\nR\r\n"
        );
        // 1000 is "now": a TTL of at least 1 ms; past: not sent.
        assert_eq!(restore_ttl(Some(1000), 1000), Some(1));
        assert_eq!(restore_ttl(Some(1000), 400), Some(600));
        assert_eq!(restore_ttl(Some(1000), 1001), None);
        assert_eq!(restore_ttl(None, 1001), Some(0));
    }

    #[test]
    fn the_cache_keeps_64_connections_and_closes_idle_ones() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let cache = SocketCache::default();
        for i in 0..CACHE_ITEMS + 3 {
            let s = TcpStream::connect(addr).unwrap();
            let _ = listener.accept().unwrap();
            let conn = Conn {
                io: BufReader::new(s),
                last_dbid: -1,
                last_use: if i % 2 == 0 { 100 } else { 105 },
            };
            cache.put(format!("h:{i}").into_bytes(), conn);
        }
        assert_eq!(cache.len(), CACHE_ITEMS);
        cache.close_idle(110);
        assert_eq!(cache.len(), CACHE_ITEMS);
        cache.close_idle(111);
        let left = cache.len();
        assert!(left > 0 && left < CACHE_ITEMS, "{left}");
        assert!(cache.conns.lock().values().all(|c| c.last_use == 105));
        cache.close_idle(116);
        assert!(cache.is_empty());
    }
}
