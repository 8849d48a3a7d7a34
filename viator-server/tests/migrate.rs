//! MIGRATE between two in-process Viator servers over TCP: every option
//! (COPY, REPLACE, AUTH, AUTH2, KEYS), the errors Redis gives (syntax,
//! unreachable target, the target's own errors, timeouts), TTLs carried
//! over, the connection cache (SELECT only when the database changes, a
//! connection the target closed replaced at once, idle ones closed by the
//! cron), and a key written during the migration kept. The `#[ignore]`d
//! tests at the end move keys between Viator and Debian's redis-server
//! both ways.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Process, info_field, spawn_server};
use viator_server::Server;

fn start_with(extra: &str) -> Server {
    let text =
        format!("port 0\nbind 127.0.0.1\nloglevel warning\nenable-debug-command yes\n{extra}");
    let cfg = viator_server::config::load_isolated(text).expect("config");
    Server::start(cfg, None).expect("server starts")
}

/// A source and a target server, a client of each.
fn pair() -> (Server, Server, Client, Client) {
    let src = start_with("");
    let dst = start_with("");
    let s = Client::new(&src);
    let d = Client::new(&dst);
    (src, dst, s, d)
}

/// `MIGRATE 127.0.0.1 <port> <rest...>` on `c`.
fn migrate(c: &mut Client, port: u16, rest: &[&str]) -> String {
    let port = port.to_string();
    let mut args = vec!["MIGRATE", "127.0.0.1", &port];
    args.extend_from_slice(rest);
    c.cmd(&args)
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn a_key_moves_and_is_gone_from_the_source() {
    let (_src, dst, mut s, mut d) = pair();
    s.cmd(&["SET", "key", "Some Value"]);
    assert_eq!(migrate(&mut s, dst.port(), &["key", "0", "5000"]), "+OK");
    assert_eq!(s.cmd(&["EXISTS", "key"]), ":0");
    assert_eq!(d.cmd(&["GET", "key"]), "\"Some Value\"");
    assert_eq!(d.cmd(&["TTL", "key"]), ":-1");
    // Every type goes as its DUMP payload.
    s.cmd(&["RPUSH", "list", "a", "b", "c"]);
    s.cmd(&["HSET", "hash", "f1", "v1", "f2", "v2"]);
    s.cmd(&["SADD", "set", "x", "y"]);
    s.cmd(&["ZADD", "zset", "1.5", "m", "2", "n"]);
    s.cmd(&["XADD", "stream", "1-1", "f", "v"]);
    for k in ["list", "hash", "set", "zset", "stream"] {
        assert_eq!(migrate(&mut s, dst.port(), &[k, "0", "5000"]), "+OK", "{k}");
    }
    assert_eq!(s.cmd(&["DBSIZE"]), ":0");
    assert_eq!(d.cmd(&["LRANGE", "list", "0", "-1"]), "[\"a\",\"b\",\"c\"]");
    assert_eq!(d.cmd(&["HGET", "hash", "f2"]), "\"v2\"");
    assert_eq!(d.cmd(&["SCARD", "set"]), ":2");
    assert_eq!(d.cmd(&["ZSCORE", "zset", "m"]), "\"1.5\"");
    assert_eq!(d.cmd(&["XLEN", "stream"]), ":1");
    // A missing key: NOKEY, nothing sent.
    assert_eq!(migrate(&mut s, dst.port(), &["key", "0", "5000"]), "+NOKEY");
}

#[test]
fn the_ttl_goes_along() {
    let (_src, dst, mut s, mut d) = pair();
    s.cmd(&["SET", "key", "v", "EX", "10"]);
    assert_eq!(migrate(&mut s, dst.port(), &["key", "0", "5000"]), "+OK");
    let ttl: i64 = d.cmd(&["PTTL", "key"])[1..].parse().unwrap();
    assert!((8_000..=10_000).contains(&ttl), "{ttl}");
    // A persistent key stays persistent (RESTORE's TTL 0).
    s.cmd(&["SET", "p", "v"]);
    assert_eq!(migrate(&mut s, dst.port(), &["p", "0", "5000"]), "+OK");
    assert_eq!(d.cmd(&["PTTL", "p"]), ":-1");
}

#[test]
fn copy_keeps_the_source_and_replace_overwrites_the_target() {
    let (_src, dst, mut s, mut d) = pair();
    s.cmd(&["RPUSH", "list", "a", "b", "c", "d"]);
    assert_eq!(
        migrate(&mut s, dst.port(), &["list", "0", "5000", "COPY"]),
        "+OK"
    );
    assert_eq!(s.cmd(&["LLEN", "list"]), ":4");
    assert_eq!(d.cmd(&["LLEN", "list"]), ":4");
    // The target has the key: BUSYKEY, and the source keeps it, even
    // without COPY.
    d.cmd(&["SET", "list", "somevalue"]);
    assert_eq!(
        migrate(&mut s, dst.port(), &["list", "0", "5000"]),
        "-ERR Target instance replied with error: BUSYKEY Target key name already exists."
    );
    assert_eq!(s.cmd(&["LLEN", "list"]), ":4");
    assert_eq!(d.cmd(&["GET", "list"]), "\"somevalue\"");
    assert_eq!(
        migrate(
            &mut s,
            dst.port(),
            &["list", "0", "5000", "copy", "replace"]
        ),
        "+OK"
    );
    assert_eq!(s.cmd(&["LLEN", "list"]), ":4");
    assert_eq!(
        d.cmd(&["LRANGE", "list", "0", "-1"]),
        "[\"a\",\"b\",\"c\",\"d\"]"
    );
    d.cmd(&["SET", "list", "again"]);
    assert_eq!(
        migrate(&mut s, dst.port(), &["list", "0", "5000", "REPLACE"]),
        "+OK"
    );
    assert_eq!(s.cmd(&["EXISTS", "list"]), ":0");
    assert_eq!(d.cmd(&["LLEN", "list"]), ":4");
}

#[test]
fn keys_moves_the_keys_that_exist_and_nokey_only_when_none_does() {
    let (_src, dst, mut s, mut d) = pair();
    s.cmd(&["MSET", "key1", "v1", "key2", "v2", "key3", "v3"]);
    assert_eq!(
        migrate(
            &mut s,
            dst.port(),
            &["", "0", "5000", "KEYS", "nokey-1", "nokey-2", "nokey-2"]
        ),
        "+NOKEY"
    );
    assert_eq!(
        migrate(
            &mut s,
            dst.port(),
            &[
                "", "0", "5000", "KEYS", "nokey-1", "key1", "nokey-2", "key2", "key3"
            ]
        ),
        "+OK"
    );
    assert_eq!(s.cmd(&["DBSIZE"]), ":0");
    assert_eq!(
        d.cmd(&["MGET", "key1", "key2", "key3"]),
        "[\"v1\",\"v2\",\"v3\"]"
    );
    assert_eq!(
        migrate(&mut s, dst.port(), &["NotEmpty", "0", "5000", "KEYS", "a"]),
        "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
    );
}

#[test]
fn only_the_keys_the_target_acknowledged_are_deleted() {
    let (_src, dst, mut s, mut d) = pair();
    let keys = [
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "l", "m", "n", "o", "p", "q",
    ];
    let mut mset = vec!["MSET"];
    for k in &keys {
        mset.extend_from_slice(&[k, "1"]);
    }
    s.cmd(&mset);
    d.cmd(&["MSET", "c", "_", "d", "_"]);
    let mut rest = vec!["", "0", "5000", "KEYS"];
    rest.extend_from_slice(&keys);
    // The first error the target sent is the reply.
    assert_eq!(
        migrate(&mut s, dst.port(), &rest),
        "-ERR Target instance replied with error: BUSYKEY Target key name already exists."
    );
    assert_eq!(s.cmd(&["DBSIZE"]), ":2");
    assert_eq!(s.cmd(&["EXISTS", "c", "d"]), ":2");
    assert_eq!(d.cmd(&["DBSIZE"]), ":15");
    assert_eq!(d.cmd(&["GET", "c"]), "\"_\"");
}

#[test]
fn the_options_are_checked_as_redis_checks_them() {
    let (_src, dst, mut s, mut d) = pair();
    s.cmd(&["SET", "k", "v"]);
    let p = dst.port();
    assert_eq!(
        migrate(&mut s, p, &["k", "0"]),
        "-ERR wrong number of arguments for 'migrate' command"
    );
    assert_eq!(
        migrate(&mut s, p, &["k", "0", "5000", "NOPE"]),
        "-ERR syntax error"
    );
    assert_eq!(
        migrate(&mut s, p, &["k", "0", "5000", "AUTH"]),
        "-ERR syntax error"
    );
    assert_eq!(
        migrate(&mut s, p, &["k", "0", "5000", "AUTH2", "user"]),
        "-ERR syntax error"
    );
    assert_eq!(
        migrate(&mut s, p, &["k", "0", "soon"]),
        "-ERR value is not an integer or out of range"
    );
    assert_eq!(
        migrate(&mut s, p, &["k", "zero", "5000"]),
        "-ERR value is not an integer or out of range"
    );
    // A database the target does not have: its SELECT error, and the key
    // stays. The RESTORE after the failed SELECT still ran in the
    // connection's database (0), as it does in Redis.
    assert_eq!(
        migrate(&mut s, p, &["k", "99", "5000"]),
        "-ERR Target instance replied with error: ERR DB index is out of range"
    );
    assert_eq!(s.cmd(&["EXISTS", "k"]), ":1");
    assert_eq!(d.cmd(&["GET", "k"]), "\"v\"");
    // A timeout of 0 is one second, not "no time at all".
    s.cmd(&["SET", "j", "v"]);
    assert_eq!(migrate(&mut s, p, &["j", "0", "0"]), "+OK");
}

#[test]
fn an_unreachable_target_is_an_ioerr() {
    let (_src, _dst, mut s, _d) = pair();
    s.cmd(&["SET", "k", "v"]);
    assert_eq!(
        migrate(&mut s, closed_port(), &["k", "0", "1000"]),
        "-IOERR error or timeout connecting to the client"
    );
    assert_eq!(s.cmd(&["GET", "k"]), "\"v\"");
    assert_eq!(
        info_field(&mut s, "everything", "migrate_cached_sockets"),
        "0"
    );
}

#[test]
fn auth_and_auth2_are_sent_first() {
    let (_src, dst, mut s, mut d) = pair();
    assert_eq!(d.cmd(&["CONFIG", "SET", "requirepass", "foobar"]), "+OK");
    assert_eq!(d.cmd(&["AUTH", "foobar"]), "+OK");
    s.cmd(&["RPUSH", "list", "a", "b", "c", "d"]);
    assert_eq!(
        migrate(&mut s, dst.port(), &["list", "0", "5000"]),
        "-ERR Target instance replied with error: NOAUTH Authentication required."
    );
    assert_eq!(
        migrate(&mut s, dst.port(), &["list", "0", "5000", "AUTH", "wrong"]),
        "-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(s.cmd(&["LLEN", "list"]), ":4");
    assert_eq!(
        migrate(&mut s, dst.port(), &["list", "0", "5000", "AUTH", "foobar"]),
        "+OK"
    );
    assert_eq!(
        d.cmd(&["LRANGE", "list", "0", "-1"]),
        "[\"a\",\"b\",\"c\",\"d\"]"
    );
    s.cmd(&["SET", "k", "v"]);
    assert_eq!(
        migrate(
            &mut s,
            dst.port(),
            &["k", "0", "5000", "AUTH2", "default", "foobar"]
        ),
        "+OK"
    );
    assert_eq!(d.cmd(&["GET", "k"]), "\"v\"");
}

#[test]
fn the_connection_is_cached_and_select_sent_when_the_db_changes() {
    let (_src, dst, mut s, mut d) = pair();
    assert_eq!(
        info_field(&mut s, "everything", "migrate_cached_sockets"),
        "0"
    );
    s.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(migrate(&mut s, dst.port(), &["a", "9", "5000"]), "+OK");
    assert_eq!(
        info_field(&mut s, "everything", "migrate_cached_sockets"),
        "1"
    );
    let clients = info_field(&mut d, "everything", "connected_clients");
    // The same connection, still in db 9 without a new SELECT.
    assert_eq!(migrate(&mut s, dst.port(), &["b", "9", "5000"]), "+OK");
    assert_eq!(migrate(&mut s, dst.port(), &["c", "3", "5000"]), "+OK");
    assert_eq!(
        info_field(&mut d, "everything", "connected_clients"),
        clients
    );
    assert_eq!(
        info_field(&mut s, "everything", "migrate_cached_sockets"),
        "1"
    );
    d.cmd(&["SELECT", "9"]);
    assert_eq!(d.cmd(&["MGET", "a", "b", "c"]), "[\"1\",\"2\",nil]");
    d.cmd(&["SELECT", "3"]);
    assert_eq!(d.cmd(&["GET", "c"]), "\"3\"");
    // The target drops the connection: the next MIGRATE finds it dead and
    // tries once more on a new one, without the client seeing anything.
    assert_eq!(
        d.cmd(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]),
        ":1"
    );
    s.cmd(&["SET", "d", "4"]);
    assert_eq!(migrate(&mut s, dst.port(), &["d", "3", "5000"]), "+OK");
    assert_eq!(d.cmd(&["GET", "d"]), "\"4\"");
}

#[test]
fn idle_cached_connections_close_after_ten_seconds() {
    let (_src, dst, mut s, _d) = pair();
    s.cmd(&["SET", "k", "v"]);
    assert_eq!(migrate(&mut s, dst.port(), &["k", "0", "5000"]), "+OK");
    assert_eq!(
        info_field(&mut s, "everything", "migrate_cached_sockets"),
        "1"
    );
    let start = Instant::now();
    while info_field(&mut s, "everything", "migrate_cached_sockets") != "0" {
        assert!(start.elapsed() < Duration::from_secs(15), "never closed");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Closed after more than 10 whole seconds unused.
    assert!(
        start.elapsed() >= Duration::from_secs(9),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_target_too_slow_to_reply_is_a_timeout() {
    let (_src, dst, mut s, _d) = pair();
    s.cmd(&["SET", "k", "v"]);
    let mut sleeper = Client::new(&dst);
    sleeper.send(&["DEBUG", "SLEEP", "1"]);
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    assert_eq!(
        migrate(&mut s, dst.port(), &["k", "0", "300"]),
        "-IOERR error or timeout reading to target instance"
    );
    // No retry after a timeout.
    assert!(
        t.elapsed() < Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(s.cmd(&["GET", "k"]), "\"v\"");
    assert_eq!(sleeper.read(), "+OK");
    assert_eq!(
        info_field(&mut s, "everything", "migrate_cached_sockets"),
        "0"
    );
}

#[test]
fn large_values_go_in_one_piece() {
    let (_src, dst, mut s, mut d) = pair();
    for chunk in 0..200 {
        let items: Vec<String> = (0..500).map(|i| format!("item {chunk} {i}")).collect();
        let mut args = vec!["RPUSH", "big"];
        args.extend(items.iter().map(String::as_str));
        s.cmd(&args);
    }
    assert_eq!(migrate(&mut s, dst.port(), &["big", "0", "10000"]), "+OK");
    assert_eq!(d.cmd(&["LLEN", "big"]), ":100000");
    assert_eq!(d.cmd(&["LINDEX", "big", "-1"]), "\"item 199 499\"");
    assert_eq!(s.cmd(&["EXISTS", "big"]), ":0");
}

#[test]
fn a_key_written_during_the_migration_is_kept() {
    // Two worker threads: the writer's connection is served while the
    // MIGRATE's waits for the target.
    let src = start_with("io-threads 2\n");
    let dst = start_with("");
    let mut m = Client::new(&src);
    let mut w = Client::new(&src);
    m.cmd(&["SET", "k", "old"]);
    let mut sleeper = Client::new(&dst);
    sleeper.send(&["DEBUG", "SLEEP", "0.5"]);
    std::thread::sleep(Duration::from_millis(100));
    let port = dst.port().to_string();
    m.send(&["MIGRATE", "127.0.0.1", &port, "k", "0", "5000"]);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(w.cmd(&["APPEND", "k", "+new"]), ":7");
    assert_eq!(m.read(), "+OK");
    assert_eq!(sleeper.read(), "+OK");
    // The target has what was sent; the source keeps the newer value.
    let mut d = Client::new(&dst);
    assert_eq!(d.cmd(&["GET", "k"]), "\"old\"");
    assert_eq!(w.cmd(&["GET", "k"]), "\"old+new\"");
}

#[test]
fn command_info_docs_and_getkeys_are_redis_8s() {
    let server = start_with("");
    let mut c = Client::new(&server);
    assert_eq!(
        c.cmd(&["COMMAND", "INFO", "MIGRATE"]),
        "[[\"migrate\",:-6,[+write,+movablekeys],:3,:3,:1,[+@keyspace,+@write,+@slow,+@dangerous],\
         [\"nondeterministic_output\"],\
         [[\"flags\",[+RW,+access,+delete],\"begin_search\",[\"type\",\"index\",\"spec\",[\"index\",:3]],\
         \"find_keys\",[\"type\",\"range\",\"spec\",[\"lastkey\",:0,\"keystep\",:1,\"limit\",:0]]],\
         [\"flags\",[+RW,+access,+delete,+incomplete],\"begin_search\",[\"type\",\"keyword\",\"spec\",\
         [\"keyword\",\"KEYS\",\"startfrom\",:-2]],\"find_keys\",[\"type\",\"range\",\"spec\",\
         [\"lastkey\",:-1,\"keystep\",:1,\"limit\",:0]]]],[]]]"
    );
    let docs = c.cmd(&["COMMAND", "DOCS", "MIGRATE"]);
    for want in [
        "\"summary\",\"Atomically transfers a key from one Redis instance to another.\"",
        "[\"name\",\"key-selector\",\"type\",\"oneof\",\"arguments\",[[\"name\",\"key\",\"type\",\"key\",\"display_text\",\"key\",\"key_spec_index\",:0],\
         [\"name\",\"empty-string\",\"type\",\"pure-token\",\"display_text\",\"empty-string\",\"token\",\"\"\"\"]]]",
        "[\"name\",\"auth\",\"type\",\"string\",\"display_text\",\"password\",\"token\",\"AUTH\",\"since\",\"4.0.7\"]",
        "[\"name\",\"keys\",\"type\",\"key\",\"display_text\",\"key\",\"key_spec_index\",:1,\"token\",\"KEYS\",\"since\",\"3.0.6\",\"flags\",[+optional,+multiple]]",
    ] {
        assert!(docs.contains(want), "{want}\nnot in\n{docs}");
    }
    let getkeys = |c: &mut Client, rest: &[&str]| {
        let mut a = vec!["COMMAND", "GETKEYS", "MIGRATE", "h", "p"];
        a.extend_from_slice(rest);
        c.cmd(&a)
    };
    assert_eq!(getkeys(&mut c, &["k", "0", "5"]), "[\"k\"]");
    assert_eq!(
        getkeys(&mut c, &["", "0", "5", "KEYS", "a", "b"]),
        "[\"a\",\"b\"]"
    );
    assert_eq!(
        getkeys(&mut c, &["", "0", "5", "AUTH", "KEYS", "KEYS", "a"]),
        "[\"a\"]"
    );
    assert_eq!(
        getkeys(&mut c, &["", "0", "5", "AUTH2", "KEYS", "x", "KEYS", "a"]),
        "[\"a\"]"
    );
    assert_eq!(
        getkeys(&mut c, &["k", "0", "5", "KEYS", "a"]),
        "-ERR Invalid arguments specified for command"
    );
}

// ---- Against Debian's redis-server -------------------------------------

/// A redis-server on a free port, killed on drop.
fn start_redis() -> Process {
    spawn_server("redis-server", &["--save", "", "--appendonly", "no"])
}

/// The RDB version of DUMP payloads of the redis-server on PATH: 10 for
/// 7.0 and 7.2's 11, 12 from 7.4 on (Redis 8 included).
fn redis_rdb_version(r: &mut Client) -> u16 {
    let payload = match r.call(&[b"DUMP", b"probe"]) {
        viator_protocol::Frame::Bulk(b) => b,
        other => panic!("DUMP: {other:?}"),
    };
    let n = payload.len();
    u16::from_le_bytes([payload[n - 10], payload[n - 9]])
}

/// The keys of every type both sides know, set on `c`.
fn fill(c: &mut Client) {
    c.cmd(&["SET", "str", "hello"]);
    c.cmd(&["SET", "ttl", "v", "EX", "100"]);
    c.cmd(&["RPUSH", "list", "a", "1", "b"]);
    c.cmd(&["SADD", "set", "x", "y", "z"]);
    c.cmd(&["SADD", "ints", "1", "2", "3"]);
    c.cmd(&["ZADD", "zset", "1.5", "m", "-inf", "n"]);
    c.cmd(&["HSET", "hash", "f", "v", "g", "w"]);
    c.cmd(&["XADD", "stream", "1-1", "f", "1"]);
}

const KEYS: [&str; 8] = [
    "str", "ttl", "list", "set", "ints", "zset", "hash", "stream",
];

/// What the keys of [`fill`] read as on `c`.
fn read_all(c: &mut Client) -> Vec<String> {
    vec![
        c.cmd(&["GET", "str"]),
        c.cmd(&["GET", "ttl"]),
        c.cmd(&["LRANGE", "list", "0", "-1"]),
        c.cmd(&["SMEMBERS", "set"]),
        c.cmd(&["SMEMBERS", "ints"]),
        c.cmd(&["ZRANGE", "zset", "0", "-1", "WITHSCORES"]),
        c.cmd(&["HGETALL", "hash"]),
        c.cmd(&["XRANGE", "stream", "-", "+"]),
    ]
}

/// Redis migrates every type to Viator, with KEYS, AUTH and a TTL, and
/// Viator reads them as Redis did.
#[test]
#[ignore = "needs redis-server on PATH"]
fn redis_migrates_to_viator() {
    let redis = start_redis();
    let viator = start_with("requirepass secret\n");
    let mut r = Client::connect(redis.port);
    let mut v = Client::new(&viator);
    assert_eq!(v.cmd(&["AUTH", "secret"]), "+OK");
    fill(&mut r);
    let want = read_all(&mut r);
    let port = viator.port().to_string();
    let mut args = vec![
        "MIGRATE",
        "127.0.0.1",
        &port,
        "",
        "0",
        "5000",
        "AUTH",
        "secret",
        "KEYS",
    ];
    args.extend_from_slice(&KEYS);
    assert_eq!(r.cmd(&args), "+OK");
    assert_eq!(r.cmd(&["DBSIZE"]), ":0");
    let mut got = read_all(&mut v);
    // Set members come in whatever order each server keeps them.
    for i in [3, 4] {
        got[i] = sorted(&got[i]);
    }
    let mut want = want;
    for i in [3, 4] {
        want[i] = sorted(&want[i]);
    }
    assert_eq!(got, want);
    let ttl: i64 = v.cmd(&["TTL", "ttl"])[1..].parse().unwrap();
    assert!((98..=100).contains(&ttl), "{ttl}");
    // And Viator's errors reach Redis's client as Redis's would.
    r.cmd(&["SET", "str", "again"]);
    assert_eq!(
        r.cmd(&[
            "MIGRATE",
            "127.0.0.1",
            &port,
            "str",
            "0",
            "5000",
            "AUTH",
            "secret"
        ]),
        "-ERR Target instance replied with error: BUSYKEY Target key name already exists."
    );
}

/// Viator migrates every type to Redis (and hash fields with a TTL there
/// and back). Redis accepts payloads of its own RDB version or older:
/// Viator's are version 12, as Redis 8's, so a Redis before 7.4 refuses
/// them exactly as it refuses Redis 8's, and the keys stay on Viator;
/// with `rdb-version` set to the target's, they go through.
#[test]
#[ignore = "needs redis-server on PATH"]
fn viator_migrates_to_redis() {
    let redis = start_redis();
    let viator = start_with("");
    let mut r = Client::connect(redis.port);
    let mut v = Client::new(&viator);
    r.cmd(&["SET", "probe", "x"]);
    let redis_version = redis_rdb_version(&mut r);
    r.cmd(&["DEL", "probe"]);
    assert_eq!(r.cmd(&["CONFIG", "SET", "requirepass", "secret"]), "+OK");
    assert_eq!(r.cmd(&["AUTH", "secret"]), "+OK");
    fill(&mut v);
    let want = read_all(&mut v);
    let port = redis.port.to_string();
    let mut args = vec![
        "MIGRATE",
        "127.0.0.1",
        &port,
        "",
        "0",
        "5000",
        "AUTH2",
        "default",
        "secret",
        "KEYS",
    ];
    args.extend_from_slice(&KEYS);
    let reply = v.cmd(&args);
    if redis_version < 12 {
        assert_eq!(
            reply,
            "-ERR Target instance replied with error: ERR DUMP payload version or checksum are wrong"
        );
        assert_eq!(v.cmd(&["DBSIZE"]), ":8");
        assert_eq!(r.cmd(&["DBSIZE"]), ":0");
        // Written in the target's RDB version on request, they go through.
        assert_eq!(
            v.cmd(&["CONFIG", "SET", "rdb-version", &redis_version.to_string()]),
            "+OK"
        );
        assert_eq!(v.cmd(&args), "+OK");
    } else {
        assert_eq!(reply, "+OK");
    }
    assert_eq!(v.cmd(&["DBSIZE"]), ":0");
    let mut got = read_all(&mut r);
    let mut want = want;
    for i in [3, 4] {
        got[i] = sorted(&got[i]);
        want[i] = sorted(&want[i]);
    }
    assert_eq!(got, want);
    let ttl: i64 = r.cmd(&["TTL", "ttl"])[1..].parse().unwrap();
    assert!((98..=100).contains(&ttl), "{ttl}");
    if redis_version < 12 {
        // Hash fields with a TTL need version 12.
        return;
    }
    // Hash fields with a TTL (RDB 12), there and back.
    v.cmd(&["HSET", "hf", "a", "1", "b", "2"]);
    assert_eq!(v.cmd(&["HEXPIRE", "hf", "100", "FIELDS", "1", "a"]), "[:1]");
    assert_eq!(
        v.cmd(&[
            "MIGRATE",
            "127.0.0.1",
            &port,
            "hf",
            "0",
            "5000",
            "AUTH",
            "secret"
        ]),
        "+OK"
    );
    assert_eq!(
        r.cmd(&["HTTL", "hf", "FIELDS", "2", "a", "b"]),
        "[:100,:-1]"
    );
    let vport = viator.port().to_string();
    assert_eq!(
        r.cmd(&["MIGRATE", "127.0.0.1", &vport, "hf", "0", "5000"]),
        "+OK"
    );
    assert_eq!(v.cmd(&["HGETALL", "hf"]), "[\"a\",\"1\",\"b\",\"2\"]");
    let ttl: i64 = v
        .cmd(&["HTTL", "hf", "FIELDS", "1", "a"])
        .trim_matches(|c| c == '[' || c == ']' || c == ':')
        .parse()
        .unwrap();
    assert!((98..=100).contains(&ttl), "{ttl}");
}

/// The elements of a shown array, sorted.
fn sorted(shown: &str) -> String {
    let inner = shown.trim_start_matches('[').trim_end_matches(']');
    let mut v: Vec<&str> = inner.split(',').collect();
    v.sort_unstable();
    format!("[{}]", v.join(","))
}
