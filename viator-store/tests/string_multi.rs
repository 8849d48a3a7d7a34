//! MGET, MSET, MSETNX and MSETEX (8.4).

mod string_support;

use string_support::{T, now};

const OK: &str = "+OK\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";

#[test]
fn mget_mixes_hits_and_misses() {
    let mut t = T::new();
    t.is("MSET a 1 b 2", OK);
    t.is("MGET a b nokey", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n");
    t.is("MGET nokey", "*1\r\n$-1\r\n");
    t.is("MGET a a", "*2\r\n$1\r\n1\r\n$1\r\n1\r\n");
    assert_eq!(t.hits_misses(), (4, 2));
    t.is(
        "MGET",
        "-ERR wrong number of arguments for 'mget' command\r\n",
    );
    let mut t = T::resp3();
    t.is("SET a x", OK);
    t.is("MGET nokey a", "*2\r\n_\r\n$1\r\nx\r\n");
}

#[test]
fn mget_across_many_shards() {
    let mut t = T::new();
    let mut mset = String::from("MSET");
    let mut mget = String::from("MGET");
    let mut want = String::from("*200\r\n");
    for i in 0..200 {
        mset.push_str(&format!(" key:{i} v{i}"));
        mget.push_str(&format!(" key:{i}"));
        want.push_str(&format!("${}\r\nv{i}\r\n", format!("v{i}").len()));
    }
    t.is(&mset, OK);
    t.is(&mget, &want);
    assert_eq!(t.dbsize(), 200);
    assert_eq!(t.dirty(), 200);
}

#[test]
fn mset_replaces_values_and_ttls() {
    let mut t = T::new();
    t.is("SET t v EX 100", OK);
    t.is("MSET t v2 n 12", OK);
    assert_eq!(t.expire("t"), Some(None));
    assert_eq!(t.encoding("n"), Some("int"));
    // The last value of a repeated key wins.
    t.is("MSET q 1 q 2", OK);
    t.is("GET q", "$1\r\n2\r\n");
    t.is(
        "MSET a 1 b",
        "-ERR wrong number of arguments for 'mset' command\r\n",
    );
    t.is(
        "MSET a",
        "-ERR wrong number of arguments for 'mset' command\r\n",
    );
    assert!(!t.exists("a"));
}

#[test]
fn msetnx_sets_all_or_nothing() {
    let mut t = T::new();
    t.is("MSETNX a 1 b 2", ":1\r\n");
    t.is("MSETNX a 1 z 2", ":0\r\n");
    assert!(!t.exists("z"));
    t.is("MSETNX y 1 z 2", ":1\r\n");
    t.is("MSETNX q 1 q 2", ":1\r\n");
    t.is("GET q", "$1\r\n2\r\n");
    t.is(
        "MSETNX y 1 z",
        "-ERR wrong number of arguments for 'msetnx' command\r\n",
    );
    // An expired key counts as missing.
    t.is("SET old v PXAT 1", OK);
    t.is("MSETNX old fresh", ":1\r\n");
    t.is("GET old", "$5\r\nfresh\r\n");
    assert_eq!(t.expire("old"), Some(None));
}

/// MSETEX numkeys key value [key value ...] [NX | XX] [EX | PX | EXAT |
/// PXAT | KEEPTTL]: integer reply 1 when every key was set, 0 when none
/// was (MSETEX page of Redis 8.4). Error texts for numkeys follow Redis
/// 8.4 (as client test suites run against it record them).
#[test]
fn msetex_sets_keys_with_a_shared_ttl() {
    let mut t = T::new();
    t.is("MSETEX 2 a 1 b 2", ":1\r\n");
    assert_eq!(t.expire("a"), Some(None));
    assert_eq!(t.encoding("a"), Some("int"));
    t.is("MSETEX 2 a x b y EX 100", ":1\r\n");
    for k in ["a", "b"] {
        assert!((99_000..=100_000).contains(&t.pttl(k).unwrap()), "{k}");
    }
    t.is("MGET a b", "*2\r\n$1\r\nx\r\n$1\r\ny\r\n");
    t.is("MSETEX 1 a z KEEPTTL", ":1\r\n");
    assert!(t.pttl("a").unwrap() > 99_000);
    t.is("MSETEX 1 a w", ":1\r\n");
    assert_eq!(t.expire("a"), Some(None));
    t.is("MSETEX 1 a w px 5000", ":1\r\n");
    assert!((4_000..=5_000).contains(&t.pttl("a").unwrap()));
    let at = now() + 60_000;
    t.is(&format!("MSETEX 2 a 1 c 3 PXAT {at}"), ":1\r\n");
    assert_eq!(t.expire("c"), Some(Some(at)));
    let at = now() / 1000 + 60;
    t.is(&format!("MSETEX 1 c 3 exat {at}"), ":1\r\n");
    assert_eq!(t.expire("c"), Some(Some(at * 1000)));
    // Options in any order.
    t.is("MSETEX 1 d 4 EX 100 NX", ":1\r\n");
    assert!(t.pttl("d").is_some());
    t.is("MSETEX 2 a 1 a 2", ":1\r\n");
    t.is("GET a", "$1\r\n2\r\n");
}

#[test]
fn msetex_nx_and_xx() {
    let mut t = T::new();
    t.is("SET a 1", OK);
    t.is("MSETEX 2 a x b y NX", ":0\r\n");
    assert!(!t.exists("b"));
    t.is("MSETEX 2 a x b y XX", ":0\r\n");
    t.is("GET a", "$1\r\n1\r\n");
    t.is("MSETEX 2 b x c y NX EX 100", ":1\r\n");
    assert!(t.pttl("c").is_some());
    t.is("MSETEX 3 a 7 b 8 c 9 XX", ":1\r\n");
    t.is("MGET a b c", "*3\r\n$1\r\n7\r\n$1\r\n8\r\n$1\r\n9\r\n");
    assert_eq!(t.expire("c"), Some(None));
    t.is("MSETEX 2 a 1 a 2 XX", ":1\r\n");
    t.is("MSETEX 2 new 1 new 2 NX", ":1\r\n");
    t.is("GET new", "$1\r\n2\r\n");
}

#[test]
fn msetex_errors() {
    let mut t = T::new();
    t.is("MSETEX 0 a 1", "-ERR invalid numkeys value\r\n");
    t.is("MSETEX -1 a 1", "-ERR invalid numkeys value\r\n");
    // numkeys is read as Redis 8.4 does (getRangeLongFromObjectOrReply
    // from 1 to INT_MAX): not an integer or out of range is the same error
    // (its tests/unit/type/string.tcl, "MSETEX - error cases" and
    // "overflow protection in numkeys").
    t.is("MSETEX x a 1", "-ERR invalid numkeys value\r\n");
    t.is("MSETEX key1 val1 ex 10", "-ERR invalid numkeys value\r\n");
    t.is("MSETEX 2147483648 a 1", "-ERR invalid numkeys value\r\n");
    t.is(
        "MSETEX 9223372036854775807 a 1",
        "-ERR invalid numkeys value\r\n",
    );
    t.is(
        "MSETEX 2147483647 a 1 ex 10",
        "-ERR wrong number of key-value pairs\r\n",
    );
    t.is("MSETEX 2 a 1", "-ERR wrong number of key-value pairs\r\n");
    t.is("MSETEX 2 a 1 b", "-ERR wrong number of key-value pairs\r\n");
    t.is(
        "MSETEX 1 a",
        "-ERR wrong number of arguments for 'msetex' command\r\n",
    );
    for bad in [
        "MSETEX 1 a 1 b",
        "MSETEX 1 a 1 NX XX",
        "MSETEX 1 a 1 EX 1 PX 1",
        "MSETEX 1 a 1 EX 1 KEEPTTL",
        "MSETEX 1 a 1 EX",
        "MSETEX 1 a 1 GET",
        "MSETEX 1 a 1 PERSIST",
        "MSETEX 1 a 1 IFEQ 1",
    ] {
        t.is(bad, SYNTAX);
    }
    let invalid = "-ERR invalid expire time in 'msetex' command\r\n";
    t.is("MSETEX 1 a 1 EX 0", invalid);
    t.is("MSETEX 1 a 1 PX 9223372036854775807", invalid);
    t.is(
        "MSETEX 1 a 1 EX abc",
        "-ERR value is not an integer or out of range\r\n",
    );
    assert_eq!(t.dbsize(), 0);
    assert_eq!(t.dirty(), 0);
}
