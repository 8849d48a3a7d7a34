//! GET, SET and its options, SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX.
//! Expected bytes were recorded from redis-server 7.0.15 where the command
//! exists there; the 8.4 additions (IFEQ/IFNE/IFDEQ/IFDNE) follow the 8.4
//! documentation and source changes (see the comments).

mod string_support;

use string_support::{T, bulk, now};

const NULL: &str = "$-1\r\n";
const OK: &str = "+OK\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";

#[test]
fn get_hit_miss_and_integers() {
    let mut t = T::new();
    t.is("GET nokey", NULL);
    t.is("SET k hello", OK);
    t.is("GET k", "$5\r\nhello\r\n");
    t.is("SET n -42", OK);
    t.is("GET n", "$3\r\n-42\r\n");
    t.is("SET e ''", OK);
    t.is("GET e", "$0\r\n\r\n");
    t.is_raw(&[b"SET", b"bin", b"a\r\n\0b"], b"+OK\r\n");
    t.is_raw(&[b"GET", b"bin"], b"$5\r\na\r\n\0b\r\n");
    assert_eq!(t.hits_misses(), (4, 1));
    t.is(
        "GET",
        "-ERR wrong number of arguments for 'get' command\r\n",
    );
    t.is(
        "GET a b",
        "-ERR wrong number of arguments for 'get' command\r\n",
    );
}

#[test]
fn get_null_is_resp3_null() {
    let mut t = T::resp3();
    t.is("GET nokey", "_\r\n");
    t.is("SET k v", OK);
    t.is("GET k", "$1\r\nv\r\n");
}

#[test]
fn set_encodings_follow_redis() {
    let mut t = T::new();
    let cases = [
        ("10", "int"),
        ("-9223372036854775808", "int"),
        ("9223372036854775807", "int"),
        ("9223372036854775808", "embstr"),
        ("12345678901234567890", "embstr"),
        ("123456789012345678901", "embstr"),
        ("01", "embstr"),
        ("-0", "embstr"),
        ("+1", "embstr"),
        ("1.5", "embstr"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "embstr"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "raw"),
    ];
    for (value, enc) in cases {
        t.is(&format!("SET k {value}"), OK);
        assert_eq!(t.encoding("k"), Some(enc), "{value}");
        t.is("GET k", &bulk(value));
    }
    // With an expire time too.
    t.is("SET k 77 EX 100", OK);
    assert_eq!(t.encoding("k"), Some("int"));
    t.is("SET k 7x PX 100000", OK);
    assert_eq!(t.encoding("k"), Some("embstr"));
}

#[test]
fn set_drops_the_ttl_unless_keepttl() {
    let mut t = T::new();
    t.is("SET k v EX 100", OK);
    assert!((99_000..=100_000).contains(&t.pttl("k").unwrap()));
    t.is("SET k v2", OK);
    assert_eq!(t.expire("k"), Some(None));
    t.is("SET k v EX 100", OK);
    t.is("SET k v3 KEEPTTL", OK);
    assert!(t.pttl("k").unwrap() > 99_000);
    t.is("SET k v4 KEEPTTL GET", "$2\r\nv3\r\n");
    assert!(t.pttl("k").unwrap() > 99_000);
    t.is("GET k", "$2\r\nv4\r\n");
    // KEEPTTL on a key without a TTL, and on a new key.
    t.is("SET p v KEEPTTL", OK);
    assert_eq!(t.expire("p"), Some(None));
    t.is("SET p v2 keepttl", OK);
    assert_eq!(t.expire("p"), Some(None));
}

#[test]
fn set_expire_options() {
    let mut t = T::new();
    t.is("SET k v EX 10", OK);
    let ttl = t.pttl("k").unwrap();
    assert!((9_000..=10_000).contains(&ttl), "{ttl}");
    t.is("SET k v px 5000", OK);
    let ttl = t.pttl("k").unwrap();
    assert!((4_000..=5_000).contains(&ttl), "{ttl}");
    let at = now() / 1000 + 100;
    t.is(&format!("SET k v EXAT {at}"), OK);
    assert_eq!(t.expire("k"), Some(Some(at * 1000)));
    let at = now() + 100_000;
    t.is(&format!("SET k v PXAT {at}"), OK);
    assert_eq!(t.expire("k"), Some(Some(at)));
    // Repeating an option is allowed: the last one wins.
    t.is("SET k v EX 10 EX 20", OK);
    assert!(t.pttl("k").unwrap() > 19_000);
    // A time in the past is accepted; the key is gone for readers.
    t.is("SET old v EXAT 1", OK);
    t.is("SET old2 v PXAT 1", OK);
    t.is("GET old", NULL);
    t.is("GET old2", NULL);
    assert!(!t.exists("old"));
}

#[test]
fn set_expire_errors() {
    let mut t = T::new();
    let invalid = "-ERR invalid expire time in 'set' command\r\n";
    for bad in [
        "SET k v EX 0",
        "SET k v EX -1",
        "SET k v PX 0",
        "SET k v EXAT 0",
        "SET k v PXAT 0",
        "SET k v PXAT -5",
        // Seconds that overflow when turned into milliseconds.
        "SET k v EX 9223372036854776",
        "SET k v EXAT 9223372036854776",
        // Relative times that overflow when now is added.
        "SET k v PX 9223372036854775807",
        "SET k v EX 9223372036854775",
    ] {
        t.is(bad, invalid);
    }
    t.is("SET k v PXAT 9223372036854775807", OK);
    t.is("SET k v EXAT 9223372036854775", OK);
    for bad in [
        "SET k v EX abc",
        "SET k v PX 1.5",
        "SET k v EX ''",
        "SET k v EX +1",
        "SET k v EX 01",
    ] {
        t.is(bad, NOT_INT);
    }
    // Option syntax is checked before the expire value.
    t.is("SET k v EX abc NX XX", SYNTAX);
    t.is("SET k v nx PX abc", NOT_INT);
    assert_eq!(t.dirty(), 2);
}

#[test]
fn set_syntax_errors() {
    let mut t = T::new();
    for bad in [
        "SET k v EX 10 PX 10",
        "SET k v EX 10 EXAT 10",
        "SET k v PXAT 10 PX 10",
        "SET k v KEEPTTL EX 1",
        "SET k v EX 1 KEEPTTL",
        "SET k v NX XX",
        "SET k v XX NX",
        "SET k v EX",
        "SET k v PXAT",
        "SET k v FOO",
        "SET k v PERSIST",
        "SET k v NXX",
        "SET k v ''",
        "SET k v IFEQ",
        "SET k v IFEQ a NX",
        "SET k v NX IFEQ a",
        "SET k v XX IFNE a",
        "SET k v IFEQ a IFNE b",
        "SET k v IFEQ a IFEQ b",
        "SET k v IFDEQ 0123456789abcdef IFDNE 0123456789abcdef",
    ] {
        t.is(bad, SYNTAX);
    }
    t.is(
        "SET",
        "-ERR wrong number of arguments for 'set' command\r\n",
    );
    t.is(
        "SET k",
        "-ERR wrong number of arguments for 'set' command\r\n",
    );
    assert!(!t.exists("k"));
    // Repeated flags that do not conflict are accepted, in any case.
    t.is("SET k v nx NX", OK);
    t.is("SET k v xX Xx", OK);
    t.is("SET k v2 GET get", "$1\r\nv\r\n");
    t.is("SET k v KeepTtl KEEPTTL", OK);
    // Options are compared as C strings: a NUL ends them.
    t.is_raw(&[b"SET", b"z", b"v", b"NX\0junk"], b"+OK\r\n");
}

#[test]
fn set_nx_xx_and_get() {
    let mut t = T::new();
    t.is("SET k v XX", NULL);
    assert!(!t.exists("k"));
    t.is("SET k v NX", OK);
    t.is("SET k v2 NX", NULL);
    t.is("GET k", "$1\r\nv\r\n");
    t.is("SET k v2 XX", OK);
    t.is("GET k", "$2\r\nv2\r\n");
    // GET replies with the old value whatever the condition does.
    t.is("SET k v3 NX GET", "$2\r\nv2\r\n");
    t.is("GET k", "$2\r\nv2\r\n");
    t.is("SET k2 v XX GET", NULL);
    assert!(!t.exists("k2"));
    t.is("SET k2 v NX GET", NULL);
    t.is("GET k2", "$1\r\nv\r\n");
    t.is("SET k3 v GET", NULL);
    t.is("SET k3 w GET EX 100", "$1\r\nv\r\n");
    assert!(t.pttl("k3").is_some());
    t.is("SET i 123", OK);
    t.is("SET i x GET", "$3\r\n123\r\n");
}

#[test]
fn set_nulls_in_resp3() {
    let mut t = T::resp3();
    t.is("SET k v XX", "_\r\n");
    t.is("SET k v GET", "_\r\n");
    t.is("SET k v2 NX", "_\r\n");
    t.is("SET k v3 NX GET", "$1\r\nv\r\n");
    t.is("SET k v IFEQ nope", "_\r\n");
}

#[test]
fn set_counts_changes_and_read_stats() {
    let mut t = T::new();
    t.is("SET k v", OK);
    t.is("SET k v NX", NULL);
    t.is("SET k v XX", OK);
    assert_eq!(t.dirty(), 2);
    // Only GET reads count as hits and misses.
    assert_eq!(t.hits_misses(), (0, 0));
    t.is("SET k v GET", "$1\r\nv\r\n");
    t.is("SET q v GET", NULL);
    assert_eq!(t.hits_misses(), (1, 1));
}

/// IFEQ/IFNE compare the current value; IFDEQ/IFDNE its DIGEST. IFEQ and
/// IFDEQ never create the key, IFNE and IFDNE create a missing one (SET
/// page of Redis 8.4).
#[test]
fn set_ifeq_ifne() {
    let mut t = T::new();
    t.is("SET k v IFEQ v", NULL);
    assert!(!t.exists("k"));
    t.is("SET k v IFNE v", OK);
    t.is("GET k", "$1\r\nv\r\n");
    t.is("SET k v2 IFEQ other", NULL);
    t.is("SET k v2 IFEQ V", NULL);
    t.is("SET k v2 ifeq v", OK);
    t.is("GET k", "$2\r\nv2\r\n");
    t.is("SET k v3 IFNE v2", NULL);
    t.is("SET k v3 IFNE v", OK);
    t.is("GET k", "$2\r\nv3\r\n");
    // Integer-encoded values compare as their text.
    t.is("SET n 100", OK);
    t.is("SET n 101 IFEQ 100", OK);
    t.is("SET n 102 IFEQ 0101", NULL);
    t.is("GET n", "$3\r\n101\r\n");
    // With an expire time and with KEEPTTL.
    t.is("SET n 5 IFEQ 101 EX 100", OK);
    assert!(t.pttl("n").unwrap() > 99_000);
    t.is("SET n 6 IFNE 5 KEEPTTL", NULL);
    t.is("SET n 6 IFNE 9 KEEPTTL", OK);
    assert!(t.pttl("n").unwrap() > 99_000);
    t.is("SET n 7 IFEQ 6", OK);
    assert_eq!(t.expire("n"), Some(None));
}

#[test]
fn set_if_conditions_with_get() {
    let mut t = T::new();
    // GET gives the old value whether the condition held or not.
    t.is("SET k v", OK);
    t.is("SET k w IFEQ nope GET", "$1\r\nv\r\n");
    t.is("GET k", "$1\r\nv\r\n");
    t.is("SET k w IFEQ v GET", "$1\r\nv\r\n");
    t.is("GET k", "$1\r\nw\r\n");
    t.is("SET m v IFEQ v GET", NULL);
    assert!(!t.exists("m"));
    t.is("SET m v IFNE v GET", NULL);
    t.is("GET m", "$1\r\nv\r\n");
}

#[test]
fn set_ifdeq_ifdne() {
    let mut t = T::new();
    // DIGEST "Hello world" is b6acb9d84a38ff74 (the DIGEST page's example).
    t.is("SET k v IFDEQ b6acb9d84a38ff74", NULL);
    assert!(!t.exists("k"));
    t.is_raw(
        &[b"SET", b"k", b"Hello world", b"IFDNE", b"b6acb9d84a38ff74"],
        b"+OK\r\n",
    );
    t.is("SET k x IFDNE b6acb9d84a38ff74", NULL);
    // Hex is compared without regard to case (redis/redis#14502).
    t.is("SET k x IFDNE B6ACB9D84A38FF74", NULL);
    t.is("SET k x IFDEQ 0000000000000000", NULL);
    t.is("SET k x IFDEQ B6acb9d84a38FF74", OK);
    t.is("GET k", "$1\r\nx\r\n");
    t.is("SET k y IFDNE zzzzzzzzzzzzzzzz", OK);
    // A digest must be exactly 16 characters.
    let bad = "-ERR must be exactly 16 hexadecimal characters\r\n";
    t.is("SET k z IFDEQ 6c38adf31777", bad);
    t.is("SET k z IFDNE b6acb9d84a38ff740", bad);
    t.is("SET k z IFDEQ ''", bad);
    t.is("GET k", "$1\r\ny\r\n");
    t.is("SET k z IFDEQ 1 GET", bad);
    t.is(
        "SET k z IFDEQ 1 EX 0",
        "-ERR invalid expire time in 'set' command\r\n",
    );
    // The digest is checked against an existing key only, once the options
    // are read: a syntax error anywhere wins, and on a missing key IFDEQ
    // just fails and IFDNE just passes (Redis's tests/unit/type/string.tcl,
    // "Extended SET with IFDEQ - key doesn't exist").
    t.is("SET k z XX IFDEQ 1", SYNTAX);
    t.is("SET k z IFDEQ 1 XX", SYNTAX);
    t.is("SET m v IFDEQ 1234567890", NULL);
    t.is("SET m v IFDEQ 1234567890 GET", NULL);
    assert!(!t.exists("m"));
    t.is("SET m v IFDNE 1234567890", OK);
    t.is("GET m", "$1\r\nv\r\n");
    t.is("DEL m", ":1\r\n");
    t.is("SET m w IFDNE '' GET", NULL);
    t.is("GET m", "$1\r\nw\r\n");
}

#[test]
fn setnx_setex_psetex() {
    let mut t = T::new();
    t.is("SETNX a 1", ":1\r\n");
    t.is("SETNX a 2", ":0\r\n");
    t.is("GET a", "$1\r\n1\r\n");
    assert_eq!(t.encoding("a"), Some("int"));
    let setex = "-ERR invalid expire time in 'setex' command\r\n";
    t.is("SETEX a 0 v", setex);
    t.is("SETEX a -1 v", setex);
    t.is("SETEX a 9223372036854775 v", setex);
    t.is("SETEX a 9223372036854776 v", setex);
    t.is("SETEX a abc v", NOT_INT);
    t.is("SETEX a 100 v", OK);
    assert!((99_000..=100_000).contains(&t.pttl("a").unwrap()));
    t.is("GET a", "$1\r\nv\r\n");
    let psetex = "-ERR invalid expire time in 'psetex' command\r\n";
    t.is("PSETEX a 0 v", psetex);
    t.is("PSETEX a 9223372036854775807 v", psetex);
    t.is("PSETEX a 1x v", NOT_INT);
    t.is("PSETEX a 100000 12", OK);
    assert!((99_000..=100_000).contains(&t.pttl("a").unwrap()));
    assert_eq!(t.encoding("a"), Some("int"));
    t.is(
        "SETEX a 100",
        "-ERR wrong number of arguments for 'setex' command\r\n",
    );
    t.is(
        "SETNX a",
        "-ERR wrong number of arguments for 'setnx' command\r\n",
    );
}

#[test]
fn getset_and_getdel() {
    let mut t = T::new();
    t.is("SET a v EX 100", OK);
    t.is("GETSET a newv", "$1\r\nv\r\n");
    // GETSET drops the TTL, like SET.
    assert_eq!(t.expire("a"), Some(None));
    t.is("GETSET nokey 5", NULL);
    assert_eq!(t.encoding("nokey"), Some("int"));
    t.is("GETDEL nokey", "$1\r\n5\r\n");
    assert!(!t.exists("nokey"));
    t.is("GETDEL nokey", NULL);
    t.is("GETDEL a", "$4\r\nnewv\r\n");
    assert_eq!(t.dbsize(), 0);
    assert_eq!(t.dirty(), 5);

    let mut t = T::resp3();
    t.is("GETSET k v", "_\r\n");
    t.is("GETDEL x", "_\r\n");
}

#[test]
fn getex_reads_and_changes_the_ttl() {
    let mut t = T::new();
    t.is("GETEX nokey", NULL);
    t.is("SET t v EX 100", OK);
    t.is("GETEX t", "$1\r\nv\r\n");
    assert!(t.pttl("t").unwrap() > 99_000);
    t.is("GETEX t PERSIST", "$1\r\nv\r\n");
    assert_eq!(t.expire("t"), Some(None));
    t.is("GETEX t px 5000", "$1\r\nv\r\n");
    assert!((4_000..=5_000).contains(&t.pttl("t").unwrap()));
    t.is("GETEX t EX 10 EX 20", "$1\r\nv\r\n");
    assert!(t.pttl("t").unwrap() > 19_000);
    let at = now() + 50_000;
    t.is(&format!("GETEX t PXAT {at}"), "$1\r\nv\r\n");
    assert_eq!(t.expire("t"), Some(Some(at)));
    let at = now() / 1000 + 70;
    t.is(&format!("GETEX t exat {at}"), "$1\r\nv\r\n");
    assert_eq!(t.expire("t"), Some(Some(at * 1000)));
    t.is("GETEX t PERSIST PERSIST", "$1\r\nv\r\n");
    assert_eq!(t.expire("t"), Some(None));
    // A time already past deletes the key after replying.
    t.is("SET n 12", OK);
    t.is("GETEX n PXAT 1", "$2\r\n12\r\n");
    assert_eq!(t.dbsize(), 1);
    t.is("GETEX n", NULL);
    t.is("GETEX t EXAT 1", "$1\r\nv\r\n");
    assert_eq!(t.dbsize(), 0);
}

#[test]
fn getex_errors_and_their_order() {
    let mut t = T::new();
    let invalid = "-ERR invalid expire time in 'getex' command\r\n";
    for bad in [
        "GETEX k foo",
        "GETEX k EX",
        "GETEX k EX 10 PERSIST",
        "GETEX k PERSIST EX 10",
        "GETEX k EX 1 PX 1",
        "GETEX k KEEPTTL",
        "GETEX k NX",
        "GETEX k GET",
    ] {
        t.is(bad, SYNTAX);
    }
    // On a missing key, the expire value is never looked at.
    t.is("GETEX missing EX abc", NULL);
    t.is("GETEX missing EX 0", NULL);
    t.is("SET k v", OK);
    t.is("GETEX k EX abc", NOT_INT);
    t.is("GETEX k EX 0", invalid);
    t.is("GETEX k EX -1", invalid);
    t.is("GETEX k PXAT 0", invalid);
    t.is("GETEX k PX 9223372036854775807", invalid);
    t.is("GETEX k EXAT 9223372036854776", invalid);
    t.is("GETEX k EXAT 9223372036854775", "$1\r\nv\r\n");
    t.is(
        "GETEX",
        "-ERR wrong number of arguments for 'getex' command\r\n",
    );
    let mut t = T::resp3();
    t.is("GETEX k", "_\r\n");
}

#[test]
fn getex_counts_changes() {
    let mut t = T::new();
    t.is("SET k v", OK);
    let d = t.dirty();
    t.is("GETEX k", "$1\r\nv\r\n");
    t.is("GETEX k PERSIST", "$1\r\nv\r\n");
    assert_eq!(t.dirty(), d);
    t.is("GETEX k EX 100", "$1\r\nv\r\n");
    t.is("GETEX k PERSIST", "$1\r\nv\r\n");
    assert_eq!(t.dirty(), d + 2);
}

/// Redis keeps `embstr` when only the TTL changes.
#[test]
fn ttl_changes_keep_the_encoding() {
    let mut t = T::new();
    t.is("SET k hello", OK);
    t.is("GETEX k EX 100", "$5\r\nhello\r\n");
    assert_eq!(t.encoding("k"), Some("embstr"));
    t.is("GETEX k PERSIST", "$5\r\nhello\r\n");
    assert_eq!(t.encoding("k"), Some("embstr"));
    t.is("SET j hello EX 100", OK);
    t.is("SET j hello2 KEEPTTL", OK);
    assert_eq!(t.encoding("j"), Some("embstr"));
    t.is("MSETEX 1 j hello3 KEEPTTL", ":1\r\n");
    assert_eq!(t.encoding("j"), Some("embstr"));
}
