//! APPEND, SETRANGE, STRLEN, GETRANGE, SUBSTR and LCS; replies recorded
//! from redis-server 7.0.15.

mod string_support;

use std::sync::atomic::Ordering;

use string_support::T;

const OK: &str = "+OK\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const TOO_LONG: &str = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
const EMPTY: &str = "$0\r\n\r\n";

#[test]
fn append_creates_and_grows() {
    let mut t = T::new();
    t.is("APPEND ap 123", ":3\r\n");
    // A new key is encoded as SET would.
    assert_eq!(t.encoding("ap"), Some("int"));
    t.is("APPEND ap 4", ":4\r\n");
    assert_eq!(t.encoding("ap"), Some("raw"));
    t.is("GET ap", "$4\r\n1234\r\n");
    t.is("APPEND ap ''", ":4\r\n");
    t.is("APPEND e ''", ":0\r\n");
    t.is("GET e", EMPTY);
    // Appending nothing still makes the value raw, as in Redis.
    t.is("SET n 123", OK);
    t.is("APPEND n ''", ":3\r\n");
    assert_eq!(t.encoding("n"), Some("raw"));
    t.is("SET t v EX 100", OK);
    t.is("APPEND t x", ":2\r\n");
    assert!(t.pttl("t").unwrap() > 99_000);
    for _ in 0..100 {
        t.cmd("APPEND long abcdefghij");
    }
    t.is("STRLEN long", ":1000\r\n");
    assert_eq!(t.dirty(), 108);
}

#[test]
fn append_and_setrange_respect_proto_max_bulk_len() {
    let mut t = T::new();
    t.store
        .settings
        .proto_max_bulk_len
        .store(1024 * 1024, Ordering::Relaxed);
    t.is("SETRANGE x 1048570 abcdef", ":1048576\r\n");
    t.is("SETRANGE x 1048571 abcdef", TOO_LONG);
    t.is("STRLEN x", ":1048576\r\n");
    t.is("APPEND x g", TOO_LONG);
    t.is("APPEND x ''", ":1048576\r\n");
    t.is("SETRANGE new 1048571 abcdef", TOO_LONG);
    assert!(!t.exists("new"));
    // Setting nothing is never too long.
    t.is("SETRANGE y 1048571 ''", ":0\r\n");
    t.is("SETRANGE x 9223372036854775806 ''", ":1048576\r\n");
    t.store
        .settings
        .proto_max_bulk_len
        .store(512 * 1024 * 1024, Ordering::Relaxed);
    t.is("SETRANGE x 536870911 ab", TOO_LONG);
    t.is("SETRANGE x 9223372036854775807 ab", TOO_LONG);
}

#[test]
fn setrange_pads_overwrites_and_encodes_raw() {
    let mut t = T::new();
    t.is("SETRANGE sr 0 ''", ":0\r\n");
    assert!(!t.exists("sr"));
    t.is("SETRANGE sr 3 ab", ":5\r\n");
    t.is_raw(&[b"GET", b"sr"], b"$5\r\n\0\0\0ab\r\n");
    assert_eq!(t.encoding("sr"), Some("raw"));
    t.is("SETRANGE sr 1 XYZ", ":5\r\n");
    t.is_raw(&[b"GET", b"sr"], b"$5\r\n\0XYZb\r\n");
    t.is("SETRANGE sr 7 !", ":8\r\n");
    t.is_raw(&[b"GET", b"sr"], b"$8\r\n\0XYZb\0\0!\r\n");
    t.is("SETRANGE sr -1 x", "-ERR offset is out of range\r\n");
    t.is("SETRANGE sr abc x", NOT_INT);
    t.is("SETRANGE sr 1 ''", ":8\r\n");
    // On an integer: made raw only when something is written.
    t.is("SET n 123", OK);
    t.is("SETRANGE n 0 ''", ":3\r\n");
    assert_eq!(t.encoding("n"), Some("int"));
    t.is("SETRANGE n 1 9", ":3\r\n");
    assert_eq!(t.encoding("n"), Some("raw"));
    t.is("GET n", "$3\r\n193\r\n");
    t.is("SET t hello EX 100", OK);
    t.is("SETRANGE t 0 J", ":5\r\n");
    assert!(t.pttl("t").unwrap() > 99_000);
    t.is("GET t", "$5\r\nJello\r\n");
}

#[test]
fn setrange_counts_only_real_changes() {
    let mut t = T::new();
    t.is("SETRANGE k 0 ''", ":0\r\n");
    t.is("SET k v", OK);
    t.is("SETRANGE k 0 ''", ":1\r\n");
    assert_eq!(t.dirty(), 1);
    t.is("SETRANGE k 0 w", ":1\r\n");
    assert_eq!(t.dirty(), 2);
}

#[test]
fn strlen_of_every_encoding() {
    let mut t = T::new();
    t.is("STRLEN nokey", ":0\r\n");
    t.is("SET n -123", OK);
    t.is("STRLEN n", ":4\r\n");
    t.is("SET n -9223372036854775808", OK);
    t.is("STRLEN n", ":20\r\n");
    t.is("SET s hello", OK);
    t.is("STRLEN s", ":5\r\n");
    t.is("SET e ''", OK);
    t.is("STRLEN e", ":0\r\n");
}

#[test]
fn getrange_index_rules() {
    let mut t = T::new();
    t.is("SET s This_is_a_string", OK);
    let cases = [
        ("0 3", "This"),
        ("-3 -1", "ing"),
        ("0 -1", "This_is_a_string"),
        ("10 100", "string"),
        ("100 200", ""),
        ("-1 -3", ""),
        // A start before the string is clamped to 0, and so is an end:
        // Redis keeps answering the first byte here.
        ("-200 -100", "T"),
        ("0 -100", "T"),
        ("5 2", ""),
        ("9223372036854775807 9223372036854775807", ""),
        ("-9223372036854775808 -9223372036854775808", "T"),
        ("0 9223372036854775807", "This_is_a_string"),
    ];
    for (range, want) in cases {
        t.is(
            &format!("GETRANGE s {range}"),
            &format!("${}\r\n{want}\r\n", want.len()),
        );
        t.is(
            &format!("SUBSTR s {range}"),
            &format!("${}\r\n{want}\r\n", want.len()),
        );
    }
    t.is("SET n 123", OK);
    t.is("GETRANGE n 0 -1", "$3\r\n123\r\n");
    t.is("GETRANGE n 1 1", "$1\r\n2\r\n");
    t.is("SET e ''", OK);
    t.is("GETRANGE e 0 -1", EMPTY);
    t.is("GETRANGE e 0 0", EMPTY);
    // A missing key is an empty string, in RESP3 too.
    t.is("GETRANGE nokey 0 -1", EMPTY);
    // The indexes are checked before the key is looked up.
    t.is("GETRANGE n a 1", NOT_INT);
    t.is("GETRANGE nokey 0 b", NOT_INT);
    t.is("GETRANGE n 1.5 2", NOT_INT);
    let mut t = T::resp3();
    t.is("GETRANGE nokey 0 -1", EMPTY);
}

const LCS_IDX: &str = "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n";

#[test]
fn lcs_string_len_and_idx() {
    let mut t = T::new();
    t.is("MSET key1 ohmytext key2 mynewtext", OK);
    t.is("LCS key1 key2", "$6\r\nmytext\r\n");
    t.is("LCS key1 key2 LEN", ":6\r\n");
    t.is("LCS key1 key2 len len", ":6\r\n");
    t.is("LCS key1 key2 IDX", LCS_IDX);
    t.is("LCS key1 key2 idx minmatchlen -5", LCS_IDX);
    t.is(
        "LCS key1 key2 IDX MINMATCHLEN 4",
        "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n",
    );
    t.is(
        "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN",
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n",
    );
    t.is(
        "LCS key1 key2 IDX WITHMATCHLEN",
        "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n",
    );
    // WITHMATCHLEN and MINMATCHLEN mean nothing without IDX.
    t.is("LCS key1 key2 LEN WITHMATCHLEN MINMATCHLEN 3", ":6\r\n");
    t.is("MSET a abcdef b abcdef", OK);
    t.is(
        "LCS a b IDX WITHMATCHLEN",
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:0\r\n:5\r\n*2\r\n:0\r\n:5\r\n:6\r\n$3\r\nlen\r\n:6\r\n",
    );
    t.is("MSET a 123456 b 1x2y3456", OK);
    t.is("LCS a b", "$6\r\n123456\r\n");
    t.is(
        "LCS a b IDX WITHMATCHLEN",
        "*4\r\n$7\r\nmatches\r\n*3\r\n*3\r\n*2\r\n:2\r\n:5\r\n*2\r\n:4\r\n:7\r\n:4\r\n*3\r\n*2\r\n:1\r\n:1\r\n*2\r\n:2\r\n:2\r\n:1\r\n*3\r\n*2\r\n:0\r\n:0\r\n*2\r\n:0\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n",
    );
}

#[test]
fn lcs_missing_keys_are_empty_strings() {
    let mut t = T::new();
    t.is("SET key1 ohmytext", OK);
    t.is("LCS key1 nokey", EMPTY);
    t.is("LCS nokey nokey2 LEN", ":0\r\n");
    t.is(
        "LCS key1 nokey IDX",
        "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n",
    );
    t.is("LCS key1 key1", "$8\r\nohmytext\r\n");
    assert_eq!(t.hits_misses(), (4, 4));
}

#[test]
fn lcs_idx_is_a_map_in_resp3() {
    let mut t = T::resp3();
    t.is("MSET key1 ohmytext key2 mynewtext", OK);
    t.is(
        "LCS key1 key2 IDX",
        "%2\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n",
    );
    t.is(
        "LCS key1 nokey IDX",
        "%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n",
    );
    t.is("LCS key1 key2", "$6\r\nmytext\r\n");
}

#[test]
fn lcs_errors() {
    let mut t = T::new();
    t.is("MSET key1 ohmytext key2 mynewtext", OK);
    t.is(
        "LCS key1 key2 LEN IDX",
        "-ERR If you want both the length and indexes, please just use IDX.\r\n",
    );
    t.is("LCS key1 key2 MINMATCHLEN", "-ERR syntax error\r\n");
    t.is("LCS key1 key2 MINMATCHLEN abc", NOT_INT);
    t.is("LCS key1 key2 foo", "-ERR syntax error\r\n");
    t.is(
        "LCS key1",
        "-ERR wrong number of arguments for 'lcs' command\r\n",
    );
    // The table may not outgrow proto-max-bulk-len.
    t.store
        .settings
        .proto_max_bulk_len
        .store(1024 * 1024, Ordering::Relaxed);
    let a = "a".repeat(600);
    let b = "b".repeat(600);
    t.is(&format!("MSET a {a} b {b}"), OK);
    t.is(
        "LCS a b LEN",
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n",
    );
    t.is(&format!("MSET a {} b {}", &a[..400], &b[..400]), OK);
    t.is("LCS a b LEN", ":0\r\n");
}
