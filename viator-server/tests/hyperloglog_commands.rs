//! HyperLogLog commands against a real in-process server, through the
//! `redis` crate: the value bytes and estimates (checked against Redis 7.0
//! for the same inputs), sparse to dense promotion at
//! `hll-sparse-max-bytes` set with CONFIG SET, the dirty counter and WATCH
//! as Redis moves them (PFCOUNT's cache refresh is a write, a PFADD that
//! changes nothing is not), corrupted values answered with INVALIDOBJ, and
//! the RESP2/RESP3 reply shapes.

mod common;

use common::{redis_connection as connect, start};
use redis::{Connection, RedisResult, Value};

fn raw(con: &mut Connection, args: &[&[u8]]) -> RedisResult<Value> {
    let mut c = redis::cmd(std::str::from_utf8(args[0]).expect("name"));
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
}

#[track_caller]
fn int(con: &mut Connection, args: &[&str]) -> i64 {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    match raw(con, &a) {
        Ok(Value::Int(n)) => n,
        other => panic!("{args:?}: expected an integer, got {other:?}"),
    }
}

#[track_caller]
fn bytes(con: &mut Connection, args: &[&str]) -> Vec<u8> {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    match raw(con, &a) {
        Ok(Value::BulkString(b)) => b,
        Ok(Value::SimpleString(s)) => s.into_bytes(),
        Ok(Value::Okay) => b"OK".to_vec(),
        other => panic!("{args:?}: expected a string, got {other:?}"),
    }
}

#[track_caller]
fn text(con: &mut Connection, args: &[&str]) -> String {
    String::from_utf8(bytes(con, args)).expect("utf8")
}

#[track_caller]
fn error(con: &mut Connection, args: &[&[u8]]) -> String {
    match raw(con, args) {
        Err(e) => format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
        other => panic!("expected an error, got {other:?}"),
    }
}

fn pfadd_many(con: &mut Connection, key: &str, elements: &[String]) -> i64 {
    let mut c = redis::cmd("PFADD");
    c.arg(key);
    for e in elements {
        c.arg(e);
    }
    c.query(con).expect("pfadd")
}

fn dirty(con: &mut Connection) -> i64 {
    let info = text(con, &["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rdb_changes_since_last_save")
}

#[test]
fn values_are_redis_bytes() {
    let server = start();
    let mut con = connect(&server, false);
    assert_eq!(int(&mut con, &["PFADD", "h"]), 1);
    assert_eq!(
        bytes(&mut con, &["GET", "h"]),
        b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff"
    );
    assert_eq!(text(&mut con, &["TYPE", "h"]), "string");
    assert_eq!(text(&mut con, &["OBJECT", "ENCODING", "h"]), "raw");
    assert_eq!(int(&mut con, &["PFADD", "h", "a", "b", "c"]), 1);
    assert_eq!(int(&mut con, &["PFCOUNT", "h"]), 3);
    // What Redis 7.0 holds after PFADD h a b c and PFCOUNT h.
    assert_eq!(
        bytes(&mut con, &["GET", "h"]),
        b"HYLL\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00`\xf3\x80P\xb1\x84K\xfb\x80BZ"
    );
    assert_eq!(int(&mut con, &["PFADD", "h", "a", "b", "c"]), 0);
    assert_eq!(
        text(&mut con, &["PFDEBUG", "DECODE", "h"]),
        "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"
    );
}

#[test]
fn estimates_and_promotion() {
    let server = start();
    let mut con = connect(&server, false);
    let thousand: Vec<String> = (1..=1000).map(|i| i.to_string()).collect();
    pfadd_many(&mut con, "x", &thousand);
    assert_eq!(int(&mut con, &["PFCOUNT", "x"]), 1001);
    assert_eq!(int(&mut con, &["STRLEN", "x"]), 1922);
    assert_eq!(text(&mut con, &["PFDEBUG", "ENCODING", "x"]), "sparse");
    let three: Vec<String> = (1..=3000).map(|i| i.to_string()).collect();
    pfadd_many(&mut con, "y", &three);
    assert_eq!(int(&mut con, &["PFCOUNT", "y"]), 3005);
    assert_eq!(int(&mut con, &["STRLEN", "y"]), 12304);
    assert_eq!(text(&mut con, &["PFDEBUG", "ENCODING", "y"]), "dense");
    assert_eq!(int(&mut con, &["PFCOUNT", "x", "y"]), 3005);
    // The union is not cached anywhere: the keys keep their own values.
    assert_eq!(int(&mut con, &["PFCOUNT", "x"]), 1001);

    // A lower limit, read at the next write.
    assert_eq!(
        text(&mut con, &["CONFIG", "SET", "hll-sparse-max-bytes", "30"]),
        "OK"
    );
    pfadd_many(&mut con, "s", &["a".into(), "b".into(), "c".into()]);
    assert_eq!(text(&mut con, &["PFDEBUG", "ENCODING", "s"]), "sparse");
    let ten: Vec<String> = (0..10).map(|i| format!("n{i}")).collect();
    pfadd_many(&mut con, "s", &ten);
    assert_eq!(text(&mut con, &["PFDEBUG", "ENCODING", "s"]), "dense");
    assert_eq!(int(&mut con, &["STRLEN", "s"]), 12304);
}

#[test]
fn merge_into_new_and_existing_keys() {
    let server = start();
    let mut con = connect(&server, false);
    pfadd_many(&mut con, "a", &["1".into(), "2".into(), "3".into()]);
    pfadd_many(&mut con, "b", &["3".into(), "4".into(), "5".into()]);
    assert_eq!(text(&mut con, &["PFMERGE", "u", "a", "b"]), "OK");
    assert_eq!(int(&mut con, &["PFCOUNT", "u"]), 5);
    assert_eq!(text(&mut con, &["PFMERGE", "empty"]), "OK");
    assert_eq!(int(&mut con, &["EXISTS", "empty"]), 1);
    assert_eq!(int(&mut con, &["PFCOUNT", "empty"]), 0);
    // A dense input makes the destination dense.
    assert_eq!(int(&mut con, &["PFDEBUG", "TODENSE", "b"]), 1);
    assert_eq!(int(&mut con, &["PFDEBUG", "TODENSE", "b"]), 0);
    assert_eq!(text(&mut con, &["PFMERGE", "a", "b"]), "OK");
    assert_eq!(text(&mut con, &["PFDEBUG", "ENCODING", "a"]), "dense");
    assert_eq!(int(&mut con, &["PFCOUNT", "a"]), 5);
    // TTLs stay.
    assert_eq!(int(&mut con, &["EXPIRE", "u", "100"]), 1);
    assert_eq!(text(&mut con, &["PFMERGE", "u", "a"]), "OK");
    assert_eq!(int(&mut con, &["PFADD", "u", "zzz"]), 1);
    assert!(int(&mut con, &["TTL", "u"]) > 0);
}

#[test]
fn dirty_counter_moves_as_in_redis() {
    let server = start();
    let mut con = connect(&server, false);
    let d0 = dirty(&mut con);
    // Creating the key counts once, plus once per element that changed a
    // register.
    assert_eq!(int(&mut con, &["PFADD", "h", "a", "b", "c"]), 1);
    assert_eq!(dirty(&mut con), d0 + 4);
    assert_eq!(int(&mut con, &["PFADD", "h", "a", "b", "c"]), 0);
    assert_eq!(dirty(&mut con), d0 + 4);
    // Refreshing the cache is a write; reading a valid cache is not.
    assert_eq!(int(&mut con, &["PFCOUNT", "h"]), 3);
    assert_eq!(dirty(&mut con), d0 + 5);
    assert_eq!(int(&mut con, &["PFCOUNT", "h"]), 3);
    assert_eq!(dirty(&mut con), d0 + 5);
    // The union of several keys writes nothing.
    assert_eq!(int(&mut con, &["PFADD", "h", "d"]), 1);
    assert_eq!(int(&mut con, &["PFCOUNT", "h", "h"]), 4);
    assert_eq!(dirty(&mut con), d0 + 6);
    assert_eq!(text(&mut con, &["PFMERGE", "h"]), "OK");
    assert_eq!(dirty(&mut con), d0 + 7);
}

#[test]
fn watch_sees_only_real_changes() {
    let server = start();
    let mut con = connect(&server, false);
    let mut other = connect(&server, false);
    assert_eq!(int(&mut con, &["PFADD", "h", "a"]), 1);
    assert_eq!(int(&mut con, &["PFCOUNT", "h"]), 1);
    // A PFADD that changes no register and a PFCOUNT with a valid cache
    // leave a WATCH alone.
    assert_eq!(text(&mut con, &["WATCH", "h"]), "OK");
    assert_eq!(int(&mut other, &["PFADD", "h", "a"]), 0);
    assert_eq!(int(&mut other, &["PFCOUNT", "h"]), 1);
    assert_eq!(text(&mut con, &["MULTI"]), "OK");
    assert_eq!(text(&mut con, &["PING"]), "QUEUED");
    assert!(matches!(
        raw(&mut con, &[b"EXEC"]),
        Ok(Value::Array(v)) if v.len() == 1
    ));
    // A PFADD that changes a register trips it.
    assert_eq!(text(&mut con, &["WATCH", "h"]), "OK");
    assert_eq!(int(&mut other, &["PFADD", "h", "b"]), 1);
    assert_eq!(text(&mut con, &["MULTI"]), "OK");
    assert_eq!(text(&mut con, &["PING"]), "QUEUED");
    assert!(matches!(raw(&mut con, &[b"EXEC"]), Ok(Value::Nil)));
    // So does refreshing the cache.
    assert_eq!(text(&mut con, &["WATCH", "h"]), "OK");
    assert_eq!(int(&mut other, &["PFCOUNT", "h"]), 2);
    assert_eq!(text(&mut con, &["MULTI"]), "OK");
    assert_eq!(text(&mut con, &["PING"]), "QUEUED");
    assert!(matches!(raw(&mut con, &[b"EXEC"]), Ok(Value::Nil)));
}

#[test]
fn corrupted_and_foreign_values() {
    let server = start();
    let mut con = connect(&server, false);
    let not_hll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
    let invalid = "INVALIDOBJ Corrupted HLL object detected";
    assert_eq!(text(&mut con, &["SET", "s", "bar"]), "OK");
    assert_eq!(error(&mut con, &[b"PFADD", b"s", b"x"]), not_hll);
    assert_eq!(error(&mut con, &[b"PFCOUNT", b"s"]), not_hll);
    assert_eq!(error(&mut con, &[b"PFMERGE", b"d", b"s"]), not_hll);
    assert_eq!(int(&mut con, &["EXISTS", "d"]), 0);
    assert_eq!(int(&mut con, &["RPUSH", "l", "x"]), 1);
    assert!(error(&mut con, &[b"PFCOUNT", b"l"]).starts_with("WRONGTYPE Operation against"));

    assert_eq!(int(&mut con, &["PFADD", "h", "a", "b", "c"]), 1);
    assert_eq!(int(&mut con, &["APPEND", "h", "hello"]), 32);
    assert_eq!(error(&mut con, &[b"PFCOUNT", b"h"]), invalid);
    assert_eq!(error(&mut con, &[b"PFCOUNT", b"h", b"h"]), invalid);
    assert_eq!(error(&mut con, &[b"PFMERGE", b"d", b"h"]), invalid);
    assert_eq!(error(&mut con, &[b"PFDEBUG", b"GETREG", b"h"]), invalid);

    // Runs covering far more than 16384 registers: refused, not followed.
    let mut huge = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80".to_vec();
    for _ in 0..10_000 {
        huge.extend_from_slice(b"\x7f\xff");
    }
    assert!(matches!(
        raw(&mut con, &[b"SET", b"huge", &huge]),
        Ok(Value::Okay)
    ));
    assert_eq!(error(&mut con, &[b"PFCOUNT", b"huge"]), invalid);
    assert_eq!(error(&mut con, &[b"PFMERGE", b"d2", b"huge"]), invalid);
    assert_eq!(error(&mut con, &[b"PFDEBUG", b"TODENSE", b"huge"]), invalid);
    // Its first register is in the first opcode, but the edit would make it
    // longer than hll-sparse-max-bytes: the promotion finds the damage.
    assert_eq!(error(&mut con, &[b"PFADD", b"huge", b"a"]), invalid);

    assert_eq!(
        error(&mut con, &[b"PFDEBUG", b"GETREG", b"missing"]),
        "ERR The specified key does not exist"
    );
    assert_eq!(
        error(&mut con, &[b"PFDEBUG", b"what", b"huge"]),
        "ERR Unknown PFDEBUG subcommand 'what'"
    );
}

#[test]
fn reply_shapes_in_resp3() {
    let server = start();
    let mut con = connect(&server, true);
    assert_eq!(int(&mut con, &["PFADD", "h", "a"]), 1);
    assert_eq!(int(&mut con, &["PFCOUNT", "h"]), 1);
    assert_eq!(text(&mut con, &["PFMERGE", "h2", "h"]), "OK");
    assert_eq!(text(&mut con, &["PFDEBUG", "ENCODING", "h"]), "sparse");
    match raw(&mut con, &[b"PFDEBUG", b"GETREG", b"h"]) {
        Ok(Value::Array(v)) => {
            assert_eq!(v.len(), 16384);
            assert_eq!(v.iter().filter(|r| **r != Value::Int(0)).count(), 1);
        }
        other => panic!("expected an array, got {other:?}"),
    }
    assert_eq!(text(&mut con, &["PFDEBUG", "ENCODING", "h"]), "dense");
    assert_eq!(text(&mut con, &["PFDEBUG", "SIMD", "OFF"]), "disabled");
    assert_eq!(int(&mut con, &["PFCOUNT", "h", "h2"]), 1);
    assert_eq!(text(&mut con, &["PFDEBUG", "SIMD", "ON"]), "enabled");
    assert_eq!(int(&mut con, &["PFCOUNT", "h", "h2"]), 1);
}
