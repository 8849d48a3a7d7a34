//! The `redis` crate (redis-rs), the Rust client most users have, against
//! a real in-process server, over RESP2 and over RESP3
//! (`?protocol=resp3`), asserting the values a user's program gets back:
//!
//! - strings: SET and all its options, GET, GETEX, GETDEL, GETSET, APPEND,
//!   STRLEN, GETRANGE, SETRANGE, INCR/DECR families, INCRBYFLOAT, MSET,
//!   MSETNX, MGET, SETNX, SETEX, PSETEX, LCS;
//! - keys: DEL, UNLINK, EXISTS, EXPIRE/PEXPIRE/EXPIREAT and TTL/PTTL/
//!   EXPIRETIME, PERSIST, SCAN iterated to the end (with MATCH, COUNT and
//!   TYPE), KEYS, RENAME, RENAMENX, COPY, MOVE, TYPE, OBJECT ENCODING,
//!   DBSIZE, TOUCH;
//! - connection: HELLO's reply shape in both protocols, SELECT (and the
//!   database in the URL), CLIENT SETNAME/GETNAME/ID, PING, ECHO;
//! - what client test suites send before each test: FLUSHALL, SCRIPT
//!   FLUSH, FUNCTION FLUSH, CONFIG RESETSTAT, `CONFIG GET *`, SELECT 9;
//! - the async multiplexed connection with a pipeline and a transaction-less
//!   burst of concurrent requests.

use redis::{Commands, Connection, RedisResult, Value};
use viator_server::Server;

fn start() -> Server {
    let cfg = viator_server::config::load_isolated(
        "port 0\nbind 127.0.0.1\nenable-debug-command yes\nloglevel warning\n",
    )
    .expect("config");
    Server::start(cfg, None).expect("server starts")
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Proto {
    Resp2,
    Resp3,
}

fn url(server: &Server, proto: Proto, db: u32) -> String {
    match proto {
        Proto::Resp2 => format!("redis://127.0.0.1:{}/{db}", server.port()),
        Proto::Resp3 => format!("redis://127.0.0.1:{}/{db}?protocol=resp3", server.port()),
    }
}

fn connect(server: &Server, proto: Proto) -> Connection {
    redis::Client::open(url(server, proto, 0))
        .unwrap()
        .get_connection()
        .expect("connect")
}

/// Runs `f` on a fresh server once per protocol.
fn both(f: impl Fn(&mut Connection, Proto)) {
    for proto in [Proto::Resp2, Proto::Resp3] {
        let server = start();
        let mut con = connect(&server, proto);
        f(&mut con, proto);
        drop(con);
        server.shutdown();
    }
}

fn raw(con: &mut Connection, args: &[&str]) -> RedisResult<Value> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
}

/// The error message of a command that must fail, as "CODE detail".
#[track_caller]
fn err(con: &mut Connection, args: &[&str]) -> String {
    match raw(con, args) {
        Ok(v) => panic!("{args:?} should fail, got {v:?}"),
        Err(e) => {
            let code = e.code().unwrap_or("?").to_string();
            let detail = e.detail().unwrap_or("").to_string();
            format!("{code} {detail}")
        }
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn set_and_its_options() {
    both(|con, proto| {
        assert_eq!(
            raw(con, &["SET", "k", "v"]).unwrap(),
            Value::Okay,
            "{proto:?}"
        );
        let v: String = con.get("k").unwrap();
        assert_eq!(v, "v");
        // NX / XX: a refused SET is a nil reply.
        assert_eq!(raw(con, &["SET", "k", "w", "NX"]).unwrap(), Value::Nil);
        assert_eq!(raw(con, &["SET", "nope", "w", "XX"]).unwrap(), Value::Nil);
        assert_eq!(raw(con, &["SET", "k", "w", "XX"]).unwrap(), Value::Okay);
        // GET returns the old value.
        let old: Option<String> = redis::cmd("SET")
            .arg("k")
            .arg("x")
            .arg("GET")
            .query(con)
            .unwrap();
        assert_eq!(old.as_deref(), Some("w"));
        let old: Option<String> = redis::cmd("SET")
            .arg("fresh")
            .arg("x")
            .arg("GET")
            .query(con)
            .unwrap();
        assert_eq!(old, None);
        // EX / PX / EXAT / PXAT / KEEPTTL.
        assert_eq!(
            raw(con, &["SET", "k", "v", "EX", "100"]).unwrap(),
            Value::Okay
        );
        let ttl: i64 = con.ttl("k").unwrap();
        assert!((99..=100).contains(&ttl), "ttl {ttl}");
        assert_eq!(
            raw(con, &["SET", "k", "v2", "KEEPTTL"]).unwrap(),
            Value::Okay
        );
        let ttl: i64 = con.ttl("k").unwrap();
        assert!((99..=100).contains(&ttl), "KEEPTTL kept {ttl}");
        assert_eq!(raw(con, &["SET", "k", "v3"]).unwrap(), Value::Okay);
        let ttl: i64 = con.ttl("k").unwrap();
        assert_eq!(ttl, -1, "a plain SET clears the TTL");
        assert_eq!(
            raw(con, &["SET", "k", "v", "PX", "50000"]).unwrap(),
            Value::Okay
        );
        let pttl: i64 = con.pttl("k").unwrap();
        assert!((49_000..=50_000).contains(&pttl), "pttl {pttl}");
        let at = now_secs() + 1000;
        assert_eq!(
            raw(con, &["SET", "k", "v", "EXAT", &at.to_string()]).unwrap(),
            Value::Okay
        );
        let et: i64 = redis::cmd("EXPIRETIME").arg("k").query(con).unwrap();
        assert_eq!(et, at);
        let pat = (now_secs() + 1000) * 1000 + 123;
        assert_eq!(
            raw(con, &["SET", "k", "v", "PXAT", &pat.to_string()]).unwrap(),
            Value::Okay
        );
        let pet: i64 = redis::cmd("PEXPIRETIME").arg("k").query(con).unwrap();
        assert_eq!(pet, pat);
        // Errors.
        assert_eq!(
            err(con, &["SET", "k", "v", "EX", "0"]),
            "ERR invalid expire time in 'set' command"
        );
        assert_eq!(
            err(con, &["SET", "k", "v", "EX", "abc"]),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(err(con, &["SET", "k", "v", "NX", "XX"]), "ERR syntax error");
        assert_eq!(
            err(con, &["SET", "k", "v", "EX", "10", "PX", "10"]),
            "ERR syntax error"
        );
        assert_eq!(
            err(con, &["SET", "k"]),
            "ERR wrong number of arguments for 'set' command"
        );
        // Binary-safe values.
        let bin: Vec<u8> = (0u8..=255).collect();
        let _: () = con.set("bin", &bin).unwrap();
        let back: Vec<u8> = con.get("bin").unwrap();
        assert_eq!(back, bin);
        // SETNX, SETEX, PSETEX, GETSET.
        let n: i64 = redis::cmd("SETNX").arg("nx").arg("1").query(con).unwrap();
        assert_eq!(n, 1);
        let n: i64 = redis::cmd("SETNX").arg("nx").arg("2").query(con).unwrap();
        assert_eq!(n, 0);
        assert_eq!(raw(con, &["SETEX", "se", "100", "v"]).unwrap(), Value::Okay);
        assert!((99..=100).contains(&con.ttl::<_, i64>("se").unwrap()));
        assert_eq!(
            raw(con, &["PSETEX", "pse", "100000", "v"]).unwrap(),
            Value::Okay
        );
        assert!((99..=100).contains(&con.ttl::<_, i64>("pse").unwrap()));
        assert_eq!(
            err(con, &["SETEX", "se", "-1", "v"]),
            "ERR invalid expire time in 'setex' command"
        );
        let old: String = con.getset("nx", "3").unwrap();
        assert_eq!(old, "1");
    });
}

#[test]
fn getex_getdel_and_ranges() {
    both(|con, _| {
        let _: () = con.set("k", "hello world").unwrap();
        let v: String = redis::cmd("GETEX")
            .arg("k")
            .arg("EX")
            .arg(100)
            .query(con)
            .unwrap();
        assert_eq!(v, "hello world");
        assert!((99..=100).contains(&con.ttl::<_, i64>("k").unwrap()));
        let v: String = redis::cmd("GETEX")
            .arg("k")
            .arg("PERSIST")
            .query(con)
            .unwrap();
        assert_eq!(v, "hello world");
        assert_eq!(con.ttl::<_, i64>("k").unwrap(), -1);
        let v: Option<String> = redis::cmd("GETEX")
            .arg("missing")
            .arg("EX")
            .arg(10)
            .query(con)
            .unwrap();
        assert_eq!(v, None);
        assert_eq!(
            err(con, &["GETEX", "k", "EX", "0"]),
            "ERR invalid expire time in 'getex' command"
        );
        assert_eq!(
            err(con, &["GETEX", "k", "PERSIST", "EX", "1"]),
            "ERR syntax error"
        );
        let n: i64 = con.append("k", "!").unwrap();
        assert_eq!(n, 12);
        assert_eq!(con.strlen::<_, i64>("k").unwrap(), 12);
        let r: String = con.getrange("k", 0, 4).unwrap();
        assert_eq!(r, "hello");
        let r: String = con.getrange("k", -6, -1).unwrap();
        assert_eq!(r, "world!");
        let r: String = redis::cmd("SUBSTR")
            .arg("k")
            .arg(6)
            .arg(100)
            .query(con)
            .unwrap();
        assert_eq!(r, "world!");
        let n: i64 = con.setrange("k", 6, "WORLD").unwrap();
        assert_eq!(n, 12);
        let n: i64 = con.setrange("pad", 3, "x").unwrap();
        assert_eq!(n, 4);
        let v: Vec<u8> = con.get("pad").unwrap();
        assert_eq!(v, b"\0\0\0x");
        let v: String = redis::cmd("GETDEL").arg("k").query(con).unwrap();
        assert_eq!(v, "hello WORLD!");
        assert!(!con.exists::<_, bool>("k").unwrap());
        let v: Option<String> = redis::cmd("GETDEL").arg("k").query(con).unwrap();
        assert_eq!(v, None);
        let _: () = con.mset(&[("a", "ohmytext"), ("b", "mynewtext")]).unwrap();
        let lcs: String = redis::cmd("LCS").arg("a").arg("b").query(con).unwrap();
        assert_eq!(lcs, "mytext");
        let len: i64 = redis::cmd("LCS")
            .arg("a")
            .arg("b")
            .arg("LEN")
            .query(con)
            .unwrap();
        assert_eq!(len, 6);
    });
}

#[test]
fn counters_and_floats() {
    both(|con, proto| {
        assert_eq!(con.incr::<_, _, i64>("n", 1).unwrap(), 1);
        assert_eq!(redis::cmd("INCR").arg("n").query::<i64>(con).unwrap(), 2);
        assert_eq!(con.incr::<_, _, i64>("n", 10).unwrap(), 12);
        assert_eq!(con.decr::<_, _, i64>("n", 20).unwrap(), -8);
        assert_eq!(redis::cmd("DECR").arg("n").query::<i64>(con).unwrap(), -9);
        let _: () = con.set("big", i64::MAX).unwrap();
        assert_eq!(
            err(con, &["INCR", "big"]),
            "ERR increment or decrement would overflow"
        );
        let _: () = con.set("s", "abc").unwrap();
        assert_eq!(
            err(con, &["INCR", "s"]),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(
            err(con, &["INCRBY", "n", "1.5"]),
            "ERR value is not an integer or out of range"
        );
        // INCRBYFLOAT replies with a bulk string in both protocols.
        let _: () = con.set("f", "10.5").unwrap();
        let v = raw(con, &["INCRBYFLOAT", "f", "0.1"]).unwrap();
        assert_eq!(v, Value::BulkString(b"10.6".to_vec()), "{proto:?}");
        let v = raw(con, &["INCRBYFLOAT", "f", "5.0e3"]).unwrap();
        // Redis adds in long double precision and prints 17 digits.
        assert_eq!(v, Value::BulkString(b"5010.60000000000000009".to_vec()));
        let v = raw(con, &["INCRBYFLOAT", "g", "-1.5"]).unwrap();
        assert_eq!(v, Value::BulkString(b"-1.5".to_vec()));
        let v: f64 = con.incr("g", 1.5f64).unwrap();
        assert_eq!(v, 0.0);
        let v: String = con.get("g").unwrap();
        assert_eq!(v, "0");
        assert_eq!(
            err(con, &["INCRBYFLOAT", "s", "1"]),
            "ERR value is not a valid float"
        );
        assert_eq!(
            err(con, &["INCRBYFLOAT", "f", "inf"]),
            "ERR increment would produce NaN or Infinity"
        );
    });
}

#[test]
fn mset_mget_msetnx() {
    both(|con, _| {
        let _: () = con.mset(&[("a", "1"), ("b", "2"), ("c", "3")]).unwrap();
        let v: Vec<Option<String>> = con.mget(&["a", "missing", "c"]).unwrap();
        assert_eq!(v, vec![Some("1".into()), None, Some("3".into())]);
        let n: i64 = redis::cmd("MSETNX")
            .arg("x")
            .arg("1")
            .arg("a")
            .arg("9")
            .query(con)
            .unwrap();
        assert_eq!(n, 0);
        assert!(!con.exists::<_, bool>("x").unwrap());
        let n: i64 = redis::cmd("MSETNX")
            .arg("x")
            .arg("1")
            .arg("y")
            .arg("2")
            .query(con)
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            err(con, &["MSET", "a", "1", "b"]),
            "ERR wrong number of arguments for 'mset' command"
        );
        // MGET on a key of another type is nil, not an error: nothing
        // here creates one yet, so a plain value must come back.
        let v: Vec<Option<String>> = con.mget(&["x", "y"]).unwrap();
        assert_eq!(v, vec![Some("1".into()), Some("2".into())]);
    });
}

#[test]
fn expiry_commands() {
    both(|con, _| {
        let _: () = con.set("k", "v").unwrap();
        assert_eq!(con.ttl::<_, i64>("k").unwrap(), -1);
        assert_eq!(con.ttl::<_, i64>("missing").unwrap(), -2);
        assert_eq!(con.pttl::<_, i64>("missing").unwrap(), -2);
        assert!(con.expire::<_, bool>("k", 100).unwrap());
        assert!(!con.expire::<_, bool>("missing", 100).unwrap());
        assert!((99..=100).contains(&con.ttl::<_, i64>("k").unwrap()));
        // NX/XX/GT/LT.
        let n: i64 = redis::cmd("EXPIRE")
            .arg("k")
            .arg(50)
            .arg("NX")
            .query(con)
            .unwrap();
        assert_eq!(n, 0);
        let n: i64 = redis::cmd("EXPIRE")
            .arg("k")
            .arg(50)
            .arg("GT")
            .query(con)
            .unwrap();
        assert_eq!(n, 0);
        let n: i64 = redis::cmd("EXPIRE")
            .arg("k")
            .arg(50)
            .arg("LT")
            .query(con)
            .unwrap();
        assert_eq!(n, 1);
        let n: i64 = redis::cmd("EXPIRE")
            .arg("k")
            .arg(500)
            .arg("XX")
            .query(con)
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            err(con, &["EXPIRE", "k", "10", "NX", "XX"]),
            "ERR NX and XX, GT or LT options at the same time are not compatible"
        );
        assert_eq!(
            err(con, &["EXPIRE", "k", "ten"]),
            "ERR value is not an integer or out of range"
        );
        assert!(con.pexpire::<_, bool>("k", 200_000).unwrap());
        assert!((199..=200).contains(&con.ttl::<_, i64>("k").unwrap()));
        let at = now_secs() + 300;
        assert!(con.expire_at::<_, bool>("k", at).unwrap());
        assert_eq!(
            redis::cmd("EXPIRETIME").arg("k").query::<i64>(con).unwrap(),
            at
        );
        assert!(con.pexpire_at::<_, bool>("k", at * 1000).unwrap());
        assert_eq!(
            redis::cmd("PEXPIRETIME")
                .arg("k")
                .query::<i64>(con)
                .unwrap(),
            at * 1000
        );
        assert_eq!(
            redis::cmd("EXPIRETIME")
                .arg("missing")
                .query::<i64>(con)
                .unwrap(),
            -2
        );
        assert!(con.persist::<_, bool>("k").unwrap());
        assert!(!con.persist::<_, bool>("k").unwrap());
        assert_eq!(
            redis::cmd("EXPIRETIME").arg("k").query::<i64>(con).unwrap(),
            -1
        );
        // A time in the past deletes the key.
        assert!(con.expire_at::<_, bool>("k", 1).unwrap());
        assert!(!con.exists::<_, bool>("k").unwrap());
        // A key that expires is gone when read after its time.
        let _: () = redis::cmd("SET")
            .arg("short")
            .arg("v")
            .arg("PX")
            .arg(30)
            .query(con)
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(80));
        let v: Option<String> = con.get("short").unwrap();
        assert_eq!(v, None);
    });
}

#[test]
fn scan_iterates_every_key_once() {
    both(|con, _| {
        let mut pipe = redis::pipe();
        for i in 0..1000 {
            pipe.set(format!("key:{i}"), i).ignore();
        }
        for i in 0..100 {
            pipe.set(format!("other:{i}"), i).ignore();
        }
        let _: () = pipe.query(con).unwrap();
        // Manual cursor loop, as a client library does.
        let mut seen = std::collections::HashSet::new();
        let mut cursor: u64 = 0;
        let mut calls = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg("key:*")
                .arg("COUNT")
                .arg(50)
                .query(con)
                .unwrap();
            for k in keys {
                assert!(k.starts_with("key:"), "{k}");
                seen.insert(k);
            }
            calls += 1;
            assert!(calls < 10_000, "SCAN does not end");
            if next == 0 {
                break;
            }
            cursor = next;
        }
        assert_eq!(seen.len(), 1000);
        // The crate's iterator, no pattern.
        let all: std::collections::HashSet<String> = con
            .scan::<String>()
            .unwrap()
            .collect::<RedisResult<_>>()
            .unwrap();
        assert_eq!(all.len(), 1100);
        let typed: Vec<String> = redis::cmd("SCAN")
            .arg(0)
            .arg("TYPE")
            .arg("list")
            .arg("COUNT")
            .arg(10_000)
            .query::<(u64, Vec<String>)>(con)
            .unwrap()
            .1;
        assert!(typed.is_empty());
        let mut keys: Vec<String> = con.keys("other:1*").unwrap();
        keys.sort();
        assert_eq!(keys.len(), 11);
        assert_eq!(keys[0], "other:1");
        assert_eq!(redis::cmd("DBSIZE").query::<i64>(con).unwrap(), 1100);
        assert_eq!(err(con, &["SCAN", "abc"]), "ERR invalid cursor");
    });
}

#[test]
fn rename_copy_move_type_object() {
    both(|con, proto| {
        let _: () = con.set("a", "1").unwrap();
        let _: () = con.rename("a", "b").unwrap();
        assert!(!con.exists::<_, bool>("a").unwrap());
        assert_eq!(con.get::<_, String>("b").unwrap(), "1");
        assert_eq!(err(con, &["RENAME", "missing", "x"]), "ERR no such key");
        let _: () = con.set("c", "2").unwrap();
        assert!(!con.rename_nx::<_, _, bool>("b", "c").unwrap());
        assert!(con.rename_nx::<_, _, bool>("b", "d").unwrap());
        // COPY, with REPLACE and DB.
        let n: i64 = redis::cmd("COPY").arg("d").arg("c").query(con).unwrap();
        assert_eq!(n, 0);
        let n: i64 = redis::cmd("COPY")
            .arg("d")
            .arg("c")
            .arg("REPLACE")
            .query(con)
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(con.get::<_, String>("c").unwrap(), "1");
        let n: i64 = redis::cmd("COPY")
            .arg("d")
            .arg("d")
            .arg("DB")
            .arg(5)
            .query(con)
            .unwrap();
        assert_eq!(n, 1);
        let n: i64 = redis::cmd("MOVE").arg("c").arg(6).query(con).unwrap();
        assert_eq!(n, 1);
        assert!(!con.exists::<_, bool>("c").unwrap());
        assert_eq!(
            err(con, &["COPY", "d", "d"]),
            "ERR source and destination objects are the same"
        );
        // TYPE replies with a simple string.
        assert_eq!(
            raw(con, &["TYPE", "d"]).unwrap(),
            Value::SimpleString("string".into()),
            "{proto:?}"
        );
        assert_eq!(
            raw(con, &["TYPE", "missing"]).unwrap(),
            Value::SimpleString("none".into())
        );
        // OBJECT ENCODING follows Redis's string encodings.
        let _: () = con.set("int", "12345").unwrap();
        let _: () = con.set("short", "hello").unwrap();
        let _: () = con.set("long", "x".repeat(100)).unwrap();
        let enc = |con: &mut Connection, k: &str| -> String {
            redis::cmd("OBJECT")
                .arg("ENCODING")
                .arg(k)
                .query(con)
                .unwrap()
        };
        assert_eq!(enc(con, "int"), "int");
        assert_eq!(enc(con, "short"), "embstr");
        assert_eq!(enc(con, "long"), "raw");
        let _: i64 = con.append("short", "!").unwrap();
        assert_eq!(enc(con, "short"), "raw");
        assert_eq!(
            raw(con, &["OBJECT", "ENCODING", "missing"]).unwrap(),
            Value::Nil
        );
        let rc: i64 = redis::cmd("OBJECT")
            .arg("REFCOUNT")
            .arg("long")
            .query(con)
            .unwrap();
        assert_eq!(rc, 1);
        // DEL / UNLINK / EXISTS / TOUCH count keys.
        let n: i64 = con.exists(&["int", "int", "missing"]).unwrap();
        assert_eq!(n, 2);
        let n: i64 = redis::cmd("TOUCH")
            .arg("int")
            .arg("missing")
            .query(con)
            .unwrap();
        assert_eq!(n, 1);
        let n: i64 = con.del(&["int", "missing"]).unwrap();
        assert_eq!(n, 1);
        let n: i64 = con.unlink(&["short", "long"]).unwrap();
        assert_eq!(n, 2);
    });
}

#[test]
fn hello_reply_shape() {
    let server = start();
    // RESP3: a map of seven fields.
    let mut con = connect(&server, Proto::Resp3);
    let v = raw(&mut con, &["HELLO", "3"]).unwrap();
    let Value::Map(pairs) = v else {
        panic!("HELLO 3 is a map, got {v:?}")
    };
    let keys: Vec<String> = pairs
        .iter()
        .map(|(k, _)| match k {
            Value::BulkString(b) => String::from_utf8(b.clone()).unwrap(),
            other => panic!("key {other:?}"),
        })
        .collect();
    assert_eq!(
        keys,
        [
            "server", "version", "proto", "id", "mode", "role", "modules"
        ]
    );
    assert_eq!(pairs[0].1, Value::BulkString(b"redis".to_vec()));
    assert_eq!(pairs[1].1, Value::BulkString(b"8.4.0".to_vec()));
    assert_eq!(pairs[2].1, Value::Int(3));
    let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut con).unwrap();
    assert_eq!(pairs[3].1, Value::Int(id));
    assert_eq!(pairs[4].1, Value::BulkString(b"standalone".to_vec()));
    assert_eq!(pairs[5].1, Value::BulkString(b"master".to_vec()));
    assert_eq!(pairs[6].1, Value::Array(vec![]));
    drop(con);
    // RESP2: the same fields as a flat array of 14.
    let mut con = connect(&server, Proto::Resp2);
    let v = raw(&mut con, &["HELLO", "2"]).unwrap();
    let Value::Array(items) = v else {
        panic!("HELLO 2 is an array, got {v:?}")
    };
    assert_eq!(items.len(), 14);
    assert_eq!(items[0], Value::BulkString(b"server".to_vec()));
    assert_eq!(items[5], Value::Int(2));
    assert_eq!(items[13], Value::Array(vec![]));
    assert_eq!(
        err(&mut con, &["HELLO", "4"]),
        "NOPROTO unsupported protocol version"
    );
    drop(con);
    server.shutdown();
}

#[test]
fn select_flushall_and_client_names() {
    both(|con, proto| {
        let _: () = con.set("k", "db0").unwrap();
        assert_eq!(raw(con, &["SELECT", "9"]).unwrap(), Value::Okay);
        assert!(!con.exists::<_, bool>("k").unwrap());
        let _: () = con.set("k", "db9").unwrap();
        assert_eq!(err(con, &["SELECT", "16"]), "ERR DB index is out of range");
        assert_eq!(
            err(con, &["SELECT", "x"]),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(raw(con, &["SELECT", "0"]).unwrap(), Value::Okay);
        assert_eq!(con.get::<_, String>("k").unwrap(), "db0");
        // FLUSHALL empties every database.
        assert_eq!(raw(con, &["FLUSHALL"]).unwrap(), Value::Okay);
        assert_eq!(redis::cmd("DBSIZE").query::<i64>(con).unwrap(), 0);
        assert_eq!(raw(con, &["SELECT", "9"]).unwrap(), Value::Okay);
        assert_eq!(redis::cmd("DBSIZE").query::<i64>(con).unwrap(), 0);
        assert_eq!(raw(con, &["FLUSHALL", "ASYNC"]).unwrap(), Value::Okay);
        assert_eq!(raw(con, &["FLUSHDB", "SYNC"]).unwrap(), Value::Okay);
        // CLIENT SETNAME / GETNAME.
        assert_eq!(
            raw(con, &["CLIENT", "GETNAME"]).unwrap(),
            Value::Nil,
            "{proto:?}"
        );
        assert_eq!(
            raw(con, &["CLIENT", "SETNAME", "worker-1"]).unwrap(),
            Value::Okay
        );
        assert_eq!(
            raw(con, &["CLIENT", "GETNAME"]).unwrap(),
            Value::BulkString(b"worker-1".to_vec())
        );
        assert_eq!(
            err(con, &["CLIENT", "SETNAME", "has space"]),
            "ERR Client names cannot contain spaces, newlines or special characters."
        );
        assert_eq!(raw(con, &["CLIENT", "SETNAME", ""]).unwrap(), Value::Okay);
        assert_eq!(raw(con, &["CLIENT", "GETNAME"]).unwrap(), Value::Nil);
        let id: i64 = redis::cmd("CLIENT").arg("ID").query(con).unwrap();
        assert!(id > 0);
        assert_eq!(
            raw(con, &["PING"]).unwrap(),
            Value::SimpleString("PONG".into())
        );
        assert_eq!(
            raw(con, &["PING", "hi"]).unwrap(),
            Value::BulkString(b"hi".to_vec())
        );
        assert_eq!(
            raw(con, &["ECHO", "hi"]).unwrap(),
            Value::BulkString(b"hi".to_vec())
        );
    });
}

#[test]
fn database_in_the_url() {
    let server = start();
    for proto in [Proto::Resp2, Proto::Resp3] {
        let mut con9 = redis::Client::open(url(&server, proto, 9))
            .unwrap()
            .get_connection()
            .unwrap();
        let _: () = con9.set("where", "nine").unwrap();
        let mut con0 = connect(&server, proto);
        assert!(!con0.exists::<_, bool>("where").unwrap());
        let n: i64 = redis::cmd("MOVE")
            .arg("where")
            .arg(0)
            .query(&mut con9)
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(con0.get::<_, String>("where").unwrap(), "nine");
        let _: () = redis::cmd("FLUSHALL").query(&mut con0).unwrap();
    }
    server.shutdown();
}

/// What client libraries' own test suites (redis-py, go-redis, node-redis,
/// redis-rs) send to reset a server before each test.
#[test]
fn client_suite_preamble() {
    both(|con, proto| {
        let _: () = con.set("k", "v").unwrap();
        assert_eq!(raw(con, &["FLUSHALL"]).unwrap(), Value::Okay);
        assert_eq!(raw(con, &["SCRIPT", "FLUSH"]).unwrap(), Value::Okay);
        assert_eq!(raw(con, &["FUNCTION", "FLUSH"]).unwrap(), Value::Okay);
        assert_eq!(raw(con, &["CONFIG", "RESETSTAT"]).unwrap(), Value::Okay);
        assert_eq!(raw(con, &["SELECT", "9"]).unwrap(), Value::Okay);
        // CONFIG GET *: a map in RESP3, a flat array of pairs in RESP2.
        let all = raw(con, &["CONFIG", "GET", "*"]).unwrap();
        let pairs: Vec<(String, String)> = match (proto, all) {
            (Proto::Resp3, Value::Map(m)) => m
                .into_iter()
                .map(|(k, v)| {
                    (
                        redis::from_redis_value(k).unwrap(),
                        redis::from_redis_value(v).unwrap(),
                    )
                })
                .collect(),
            (Proto::Resp2, Value::Array(a)) => {
                assert_eq!(a.len() % 2, 0);
                a.chunks(2)
                    .map(|p| {
                        (
                            redis::from_redis_value(p[0].clone()).unwrap(),
                            redis::from_redis_value(p[1].clone()).unwrap(),
                        )
                    })
                    .collect()
            }
            (p, v) => panic!("CONFIG GET * in {p:?}: {v:?}"),
        };
        let map: std::collections::HashMap<_, _> = pairs.iter().cloned().collect();
        assert_eq!(map.len(), pairs.len(), "each option once");
        assert!(map.len() > 150, "only {} options", map.len());
        assert_eq!(map["databases"], "16");
        assert_eq!(map["maxmemory"], "0");
        assert_eq!(map["appendonly"], "no");
        assert_eq!(map["bind"], "127.0.0.1");
        assert_eq!(map["proto-max-bulk-len"], "536870912");
        // The same values through the typed API.
        let one: std::collections::HashMap<String, String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("maxmemory-policy")
            .query(con)
            .unwrap();
        assert_eq!(one["maxmemory-policy"], "noeviction");
    });
}

#[test]
fn async_multiplexed_connection() {
    let server = start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for proto in [Proto::Resp2, Proto::Resp3] {
        let client = redis::Client::open(url(&server, proto, 0)).unwrap();
        rt.block_on(async {
            let mut con = client.get_multiplexed_async_connection().await.unwrap();
            let mut pipe = redis::pipe();
            for i in 0..500 {
                pipe.cmd("INCR").arg("ctr").ignore();
                pipe.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
            }
            pipe.cmd("GET").arg("ctr");
            let (ctr,): (i64,) = pipe.query_async(&mut con).await.unwrap();
            assert_eq!(ctr, 500);
            // Concurrent requests on one multiplexed connection.
            let mut tasks = Vec::new();
            for i in 0..50 {
                let mut c = con.clone();
                tasks.push(async move {
                    let v: i64 = redis::cmd("GET")
                        .arg(format!("k{i}"))
                        .query_async(&mut c)
                        .await
                        .unwrap();
                    assert_eq!(v, i);
                });
            }
            for t in tasks {
                t.await;
            }
            let _: () = redis::cmd("FLUSHALL").query_async(&mut con).await.unwrap();
        });
    }
    server.shutdown();
}
