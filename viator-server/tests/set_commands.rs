//! Set commands against a real in-process server, through the `redis`
//! crate: encodings at Redis's thresholds (the cases of Redis's
//! tests/unit/type/set.tcl), the random commands by their properties
//! (membership, distinctness, counts, what stays behind), the *STORE
//! results, SSCAN over a hashtable, and the RESP2/RESP3 reply shapes.

mod common;

use common::{redis_connection as connect, start};
use std::collections::BTreeSet;

use redis::{Connection, RedisResult, Value};

fn raw(con: &mut Connection, args: &[&str]) -> RedisResult<Value> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
}

#[track_caller]
fn int(con: &mut Connection, args: &[&str]) -> i64 {
    match raw(con, args) {
        Ok(Value::Int(n)) => n,
        other => panic!("{args:?}: expected an integer, got {other:?}"),
    }
}

#[track_caller]
fn text(con: &mut Connection, args: &[&str]) -> String {
    match raw(con, args) {
        Ok(Value::BulkString(b)) => String::from_utf8(b).expect("utf8"),
        Ok(Value::SimpleString(s)) => s,
        Ok(Value::Okay) => "OK".into(),
        other => panic!("{args:?}: expected a string, got {other:?}"),
    }
}

/// The members of an array or set reply, in reply order.
#[track_caller]
fn list(con: &mut Connection, args: &[&str]) -> Vec<String> {
    match raw(con, args) {
        Ok(Value::Array(v)) | Ok(Value::Set(v)) => v
            .into_iter()
            .map(|x| match x {
                Value::BulkString(b) => String::from_utf8(b).expect("utf8"),
                other => panic!("{args:?}: element {other:?}"),
            })
            .collect(),
        other => panic!("{args:?}: expected an array, got {other:?}"),
    }
}

#[track_caller]
fn err(con: &mut Connection, args: &[&str]) -> String {
    match raw(con, args) {
        Ok(v) => panic!("{args:?} should fail, got {v:?}"),
        Err(e) => format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
    }
}

fn encoding(con: &mut Connection, key: &str) -> String {
    text(con, &["OBJECT", "ENCODING", key])
}

fn sadd_all(con: &mut Connection, key: &str, members: &[String]) -> i64 {
    let mut args = vec!["SADD", key];
    args.extend(members.iter().map(String::as_str));
    int(con, &args)
}

fn members(con: &mut Connection, key: &str) -> BTreeSet<String> {
    list(con, &["SMEMBERS", key]).into_iter().collect()
}

fn range(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[test]
fn encodings_switch_at_redis_thresholds() {
    let server = start();
    let mut c = connect(&server, false);
    // An intset turns into a listpack on a string while small...
    sadd_all(&mut c, "s", &range("", 3));
    assert_eq!(encoding(&mut c, "s"), "intset");
    assert_eq!(int(&mut c, &["SADD", "s", "a"]), 1);
    assert_eq!(encoding(&mut c, "s"), "listpack");
    // ...and into a hashtable when too big for a listpack.
    sadd_all(&mut c, "big", &range("", 130));
    assert_eq!(encoding(&mut c, "big"), "intset");
    int(&mut c, &["SADD", "big", "a"]);
    assert_eq!(encoding(&mut c, "big"), "hashtable");
    // An integer beyond 64 bits is a string.
    int(&mut c, &["SADD", "huge", "213244124402402314402033402"]);
    assert_eq!(encoding(&mut c, "huge"), "listpack");
    assert_eq!(
        int(
            &mut c,
            &["SISMEMBER", "huge", "213244124402402314402033402"]
        ),
        1
    );
    // 512 integers one at a time, all at once, or after a first SADD.
    for how in 0..3 {
        int(&mut c, &["DEL", "i"]);
        let all = range("", 512);
        match how {
            0 => all.iter().for_each(|m| {
                int(&mut c, &["SADD", "i", m]);
            }),
            1 => {
                sadd_all(&mut c, "i", &all);
            }
            _ => {
                int(&mut c, &["SADD", "i", "1"]);
                sadd_all(&mut c, "i", &all);
            }
        }
        assert_eq!(encoding(&mut c, "i"), "intset");
        assert_eq!(int(&mut c, &["SCARD", "i"]), 512);
        int(&mut c, &["SADD", "i", "512"]);
        assert_eq!(encoding(&mut c, "i"), "hashtable");
        // 128 strings the same three ways.
        int(&mut c, &["DEL", "l"]);
        let mut all = vec!["a".to_string()];
        all.extend(range("", 127));
        match how {
            0 => all.iter().for_each(|m| {
                int(&mut c, &["SADD", "l", m]);
            }),
            1 => {
                sadd_all(&mut c, "l", &all);
            }
            _ => {
                int(&mut c, &["SADD", "l", "a"]);
                sadd_all(&mut c, "l", &all);
            }
        }
        assert_eq!(encoding(&mut c, "l"), "listpack");
        assert_eq!(int(&mut c, &["SCARD", "l"]), 128);
        int(&mut c, &["SADD", "l", "b"]);
        assert_eq!(encoding(&mut c, "l"), "hashtable");
    }
    // A long member makes a hashtable, and thresholds follow CONFIG SET.
    int(&mut c, &["SADD", "long", "x", &"y".repeat(65)]);
    assert_eq!(encoding(&mut c, "long"), "hashtable");
    text(&mut c, &["CONFIG", "SET", "set-max-listpack-value", "100"]);
    int(&mut c, &["SADD", "long2", "x", &"y".repeat(65)]);
    assert_eq!(encoding(&mut c, "long2"), "listpack");
    // Removing members never converts back.
    int(&mut c, &["SREM", "big", "a", "1", "2"]);
    assert_eq!(encoding(&mut c, "big"), "hashtable");
    drop(c);
    server.shutdown();
}

#[test]
fn listpack_keeps_insertion_order_and_intset_sorts() {
    let server = start();
    let mut c = connect(&server, false);
    int(&mut c, &["SADD", "s", "c", "a", "b", "d"]);
    int(&mut c, &["SREM", "s", "a"]);
    assert_eq!(list(&mut c, &["SMEMBERS", "s"]), ["c", "b", "d"]);
    int(&mut c, &["SADD", "n", "5", "-1", "300000", "2"]);
    assert_eq!(list(&mut c, &["SMEMBERS", "n"]), ["-1", "2", "5", "300000"]);
    drop(c);
    server.shutdown();
}

#[test]
fn spop_with_count_pops_distinct_members_and_keeps_the_rest() {
    let server = start();
    let mut c = connect(&server, false);
    let cases: [(&str, Vec<String>); 3] = [
        ("intset", range("", 100)),
        ("listpack", range("m", 100)),
        ("hashtable", range("m", 300)),
    ];
    for (enc, all) in cases {
        let size = all.len();
        for count in [1, 5, size / 2, size - 10, size - 1] {
            int(&mut c, &["DEL", "s"]);
            sadd_all(&mut c, "s", &all);
            assert_eq!(encoding(&mut c, "s"), enc);
            let before = members(&mut c, "s");
            let popped = list(&mut c, &["SPOP", "s", &count.to_string()]);
            let popped_set: BTreeSet<String> = popped.iter().cloned().collect();
            assert_eq!(popped.len(), count, "{enc} count {count}");
            assert_eq!(popped_set.len(), count, "{enc}: distinct");
            assert!(popped_set.is_subset(&before));
            let after = members(&mut c, "s");
            assert_eq!(after.len(), size - count);
            assert!(after.is_disjoint(&popped_set));
            let union: BTreeSet<String> = after.union(&popped_set).cloned().collect();
            assert_eq!(union, before);
        }
        // Popping everything (or more) deletes the key.
        int(&mut c, &["DEL", "s"]);
        sadd_all(&mut c, "s", &all);
        let popped = list(&mut c, &["SPOP", "s", &(size + 5).to_string()]);
        assert_eq!(popped.len(), size);
        assert_eq!(int(&mut c, &["EXISTS", "s"]), 0);
    }
    // What stays of a hashtable after a big pop is built anew, compact as
    // in Redis; an intset stays an intset.
    sadd_all(&mut c, "h", &range("m", 300));
    list(&mut c, &["SPOP", "h", "295"]);
    assert_eq!(encoding(&mut c, "h"), "listpack");
    assert_eq!(int(&mut c, &["SCARD", "h"]), 5);
    sadd_all(&mut c, "i", &range("", 300));
    list(&mut c, &["SPOP", "i", "295"]);
    assert_eq!(encoding(&mut c, "i"), "intset");
    // Single pops down to nothing.
    int(&mut c, &["SADD", "one", "a", "b"]);
    let a = text(&mut c, &["SPOP", "one"]);
    let b = text(&mut c, &["SPOP", "one"]);
    assert_ne!(a, b);
    assert_eq!(int(&mut c, &["EXISTS", "one"]), 0);
    assert_eq!(raw(&mut c, &["SPOP", "one"]).ok(), Some(Value::Nil));
    assert_eq!(
        err(&mut c, &["SPOP", "one", "-1"]),
        "ERR value is out of range, must be positive"
    );
    drop(c);
    server.shutdown();
}

#[test]
fn srandmember_counts() {
    let server = start();
    let mut c = connect(&server, false);
    for (key, all) in [
        ("i", range("", 50)),
        ("l", range("m", 50)),
        ("h", range("m", 1000)),
    ] {
        sadd_all(&mut c, key, &all);
        let set: BTreeSet<String> = all.iter().cloned().collect();
        for count in [1usize, 2, 10, 40, 49, 50, 51, 100_000] {
            let got = list(&mut c, &["SRANDMEMBER", key, &count.to_string()]);
            let distinct: BTreeSet<String> = got.iter().cloned().collect();
            assert_eq!(got.len(), count.min(all.len()), "{key} {count}");
            assert_eq!(distinct.len(), got.len(), "{key} {count}: distinct");
            assert!(distinct.is_subset(&set));
        }
        let got = list(&mut c, &["SRANDMEMBER", key, "-500"]);
        assert_eq!(got.len(), 500);
        assert!(got.iter().all(|m| set.contains(m)));
        let one = text(&mut c, &["SRANDMEMBER", key]);
        assert!(set.contains(&one));
        // Nothing changes.
        assert_eq!(int(&mut c, &["SCARD", key]), all.len() as i64);
    }
    assert_eq!(
        err(&mut c, &["SRANDMEMBER", "i", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    // A reply that could not be built in memory is refused, not attempted.
    assert!(
        err(&mut c, &["SRANDMEMBER", "i", "-9223372036854775807"])
            .starts_with("ERR value is out of range")
    );
    assert_eq!(
        list(&mut c, &["SRANDMEMBER", "i", "9223372036854775807"]).len(),
        50
    );
    assert!(list(&mut c, &["SRANDMEMBER", "missing", "-5"]).is_empty());
    assert!(list(&mut c, &["SRANDMEMBER", "i", "0"]).is_empty());
    drop(c);
    server.shutdown();
}

#[test]
fn store_commands_pick_redis_encodings_and_overwrite() {
    let server = start();
    let mut c = connect(&server, false);
    // set.tcl's generated sets, "regular" flavour.
    let mut s1 = range("", 200);
    s1.push("foo".into());
    let mut s2: Vec<String> = (195..395).map(|i| i.to_string()).collect();
    s2.push("foo".into());
    sadd_all(&mut c, "set1", &s1);
    sadd_all(&mut c, "set2", &s2);
    assert_eq!(encoding(&mut c, "set1"), "hashtable");
    assert_eq!(int(&mut c, &["SINTERSTORE", "res", "set1", "set2"]), 6);
    assert_eq!(encoding(&mut c, "res"), "listpack");
    let want: BTreeSet<String> = ["195", "196", "197", "198", "199", "foo"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(members(&mut c, "res"), want);
    assert_eq!(int(&mut c, &["SINTERCARD", "2", "set1", "set2"]), 6);
    assert_eq!(
        int(&mut c, &["SINTERCARD", "2", "set1", "set2", "LIMIT", "3"]),
        3
    );
    // Integer-only results are intsets.
    int(&mut c, &["SREM", "set1", "foo"]);
    int(&mut c, &["SINTERSTORE", "res", "set1", "set2"]);
    assert_eq!(encoding(&mut c, "res"), "intset");
    assert_eq!(int(&mut c, &["SUNIONSTORE", "u", "set1", "set2"]), 396);
    assert_eq!(encoding(&mut c, "u"), "hashtable");
    // Integers taken from a hashtable go into the intset result as integers.
    assert_eq!(int(&mut c, &["SDIFFSTORE", "d", "set1", "set2"]), 195);
    assert_eq!(encoding(&mut c, "d"), "intset");
    int(&mut c, &["SADD", "small1", "1", "2", "3"]);
    int(&mut c, &["SADD", "small2", "3", "4"]);
    assert_eq!(int(&mut c, &["SUNIONSTORE", "u", "small1", "small2"]), 4);
    assert_eq!(encoding(&mut c, "u"), "intset");
    // The destination is replaced whatever it held, and deleted when the
    // result is empty.
    text(&mut c, &["SET", "dst", "string"]);
    assert_eq!(int(&mut c, &["SDIFFSTORE", "dst", "small1", "small2"]), 2);
    assert_eq!(text(&mut c, &["TYPE", "dst"]), "set");
    assert_eq!(int(&mut c, &["SDIFFSTORE", "dst", "small1", "small1"]), 0);
    assert_eq!(int(&mut c, &["EXISTS", "dst"]), 0);
    text(&mut c, &["SET", "dst", "string"]);
    assert_eq!(int(&mut c, &["SINTERSTORE", "dst", "small1", "nokey"]), 0);
    assert_eq!(int(&mut c, &["EXISTS", "dst"]), 0);
    drop(c);
    server.shutdown();
}

#[test]
fn sscan_walks_a_hashtable_completely() {
    let server = start();
    let mut c = connect(&server, false);
    let all = range("member:", 5000);
    sadd_all(&mut c, "s", &all);
    assert_eq!(encoding(&mut c, "s"), "hashtable");
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let reply = raw(&mut c, &["SSCAN", "s", &cursor, "COUNT", "100"]).expect("sscan");
        let Value::Array(parts) = reply else {
            panic!("bad reply")
        };
        let [Value::BulkString(next), Value::Array(items)] = &parts[..] else {
            panic!("bad reply")
        };
        for i in items {
            if let Value::BulkString(b) = i {
                seen.insert(String::from_utf8(b.clone()).expect("utf8"));
            }
        }
        cursor = String::from_utf8(next.clone()).expect("utf8");
        calls += 1;
        if cursor == "0" {
            break;
        }
    }
    assert!(calls > 1, "a big set is scanned in steps");
    assert_eq!(seen, all.iter().cloned().collect());
    // MATCH filters; a compact set comes back whole with cursor 0.
    int(&mut c, &["SADD", "small", "apple", "banana", "avocado"]);
    let reply = raw(
        &mut c,
        &["SSCAN", "small", "0", "MATCH", "a*", "COUNT", "1"],
    )
    .expect("sscan");
    let Value::Array(parts) = reply else {
        panic!("bad reply")
    };
    assert_eq!(parts[0], Value::BulkString(b"0".to_vec()));
    assert_eq!(
        parts[1],
        Value::Array(vec![
            Value::BulkString(b"apple".to_vec()),
            Value::BulkString(b"avocado".to_vec())
        ])
    );
    drop(c);
    server.shutdown();
}

#[test]
fn smove_and_wrongtype() {
    let server = start();
    let mut c = connect(&server, false);
    int(&mut c, &["SADD", "src", "1", "2"]);
    int(&mut c, &["SADD", "dst", "a"]);
    assert_eq!(int(&mut c, &["SMOVE", "src", "dst", "1"]), 1);
    assert_eq!(int(&mut c, &["SMOVE", "src", "dst", "9"]), 0);
    assert_eq!(int(&mut c, &["SMOVE", "src", "dst", "2"]), 1);
    assert_eq!(int(&mut c, &["EXISTS", "src"]), 0);
    assert_eq!(
        members(&mut c, "dst"),
        ["1", "2", "a"].iter().map(|s| s.to_string()).collect()
    );
    assert_eq!(int(&mut c, &["SMOVE", "dst", "new", "a"]), 1);
    assert_eq!(encoding(&mut c, "new"), "listpack");
    text(&mut c, &["SET", "str", "x"]);
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    assert_eq!(err(&mut c, &["SMOVE", "dst", "str", "1"]), wrongtype);
    assert_eq!(err(&mut c, &["SMOVE", "str", "dst", "1"]), wrongtype);
    assert_eq!(int(&mut c, &["SMOVE", "missing", "str", "1"]), 0);
    for args in [
        &["SADD", "str", "a"][..],
        &["SMEMBERS", "str"],
        &["SINTER", "missing", "str"],
        &["SUNIONSTORE", "d", "str"],
        &["SSCAN", "str", "0"],
    ] {
        assert_eq!(err(&mut c, args), wrongtype);
    }
    drop(c);
    server.shutdown();
}

#[test]
fn resp3_replies_sets_where_redis_does() {
    let server = start();
    let mut c = connect(&server, true);
    int(&mut c, &["SADD", "a", "1", "2", "3"]);
    int(&mut c, &["SADD", "b", "2", "3", "4"]);
    for args in [
        &["SMEMBERS", "a"][..],
        &["SINTER", "a", "b"],
        &["SUNION", "a", "b"],
        &["SDIFF", "a", "b"],
        &["SMEMBERS", "missing"],
        &["SPOP", "missing", "2"],
    ] {
        assert!(
            matches!(raw(&mut c, args), Ok(Value::Set(_))),
            "{args:?} is a set in RESP3"
        );
    }
    assert!(matches!(
        raw(&mut c, &["SRANDMEMBER", "a", "2"]),
        Ok(Value::Array(_))
    ));
    assert!(matches!(
        raw(&mut c, &["SRANDMEMBER", "missing", "2"]),
        Ok(Value::Array(_))
    ));
    assert!(matches!(raw(&mut c, &["SPOP", "b", "5"]), Ok(Value::Set(v)) if v.len() == 3));
    drop(c);
    let mut c2 = connect(&server, false);
    assert!(matches!(
        raw(&mut c2, &["SMEMBERS", "a"]),
        Ok(Value::Array(v)) if v.len() == 3
    ));
    drop(c2);
    server.shutdown();
}

/// A connection that sent one big request (SADD of 100,000 members) gives
/// the buffers it grew back once the request ran: the server's
/// used_memory comes back to where it was after the set is unlinked, as
/// Redis's lazyfree test expects (before, the connection kept the request's
/// megabytes for its lifetime). A server process of its own, so that the
/// test's own allocations do not count.
#[test]
fn a_big_request_does_not_pin_its_buffers_on_the_connection() {
    let server = common::spawn_server(
        env!("CARGO_BIN_EXE_viator-server"),
        &["--save", "", "--appendonly", "no"],
    );
    let mut c = common::Client::connect(server.port);
    let used = |c: &mut common::Client| -> i64 {
        common::info_field(c, "memory", "used_memory")
            .parse()
            .unwrap()
    };
    let before = used(&mut c);
    let members: Vec<String> = (0..100_000).map(|i| format!("member:{i}")).collect();
    let mut args = vec!["SADD", "big"];
    args.extend(members.iter().map(String::as_str));
    assert_eq!(c.cmd(&args), ":100000");
    assert!(used(&mut c) > before + 3_000_000, "the set is in memory");
    assert_eq!(c.cmd(&["UNLINK", "big"]), ":1");
    let after = used(&mut c);
    assert!(
        after < before + 500_000,
        "used_memory {before} before, {after} after the set is gone"
    );
}
