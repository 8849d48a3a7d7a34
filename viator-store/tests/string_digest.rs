//! DIGEST and DELEX (Redis 8.4). DIGEST is XXH3-64 with seed 0 as 16
//! lower-case hex digits, zero-padded (redis/redis#14502); IFDEQ/IFDNE
//! digests must be 16 characters and compare without regard to case.

mod string_support;

use string_support::T;

const OK: &str = "+OK\r\n";
const BAD_DIGEST: &str = "-ERR must be exactly 16 hexadecimal characters\r\n";

/// Hashes to 0x00006c38adf31777 (redis/redis#14496).
const ZERO_LED: &str =
    "v8lf0c11xh8ymlqztfd3eeq16kfn4sspw7fqmnuuq3k3t75em5wdizgcdw7uc26nnf961u2jkfzkjytls2kwlj7626sd";

#[test]
fn digest_replies() {
    let mut t = T::new();
    t.is("DIGEST nokey", "$-1\r\n");
    t.is_raw(&[b"SET", b"key1", b"Hello world"], b"+OK\r\n");
    t.is("DIGEST key1", "$16\r\nb6acb9d84a38ff74\r\n");
    t.is(&format!("SET z {ZERO_LED}"), OK);
    t.is("DIGEST z", "$16\r\n00006c38adf31777\r\n");
    // An integer-encoded value hashes as its text.
    t.is("SET n 123", OK);
    let n = t.cmd("DIGEST n");
    t.is("SET raw 1", OK);
    t.is("APPEND raw 23", ":3\r\n");
    assert_eq!(t.encoding("raw"), Some("raw"));
    assert_eq!(t.cmd("DIGEST raw"), n);
    t.is("SET e ''", OK);
    t.is("DIGEST e", "$16\r\n2d06800538d394c2\r\n");
    assert_eq!(t.hits_misses(), (5, 1));
    let mut t = T::resp3();
    t.is("DIGEST nokey", "_\r\n");
}

#[test]
fn delex_without_condition_is_del() {
    let mut t = T::new();
    t.is("DELEX nokey", ":0\r\n");
    t.is("SET k v EX 100", OK);
    t.is("DELEX k", ":1\r\n");
    assert!(!t.exists("k"));
    t.is("SET old v PXAT 1", OK);
    t.is("DELEX old", ":0\r\n");
    assert_eq!(t.dirty(), 3);
    t.is(
        "DELEX",
        "-ERR wrong number of arguments for 'delex' command\r\n",
    );
}

#[test]
fn delex_ifeq_ifne() {
    let mut t = T::new();
    t.is("DELEX nokey IFEQ v", ":0\r\n");
    t.is("DELEX nokey IFNE v", ":0\r\n");
    t.is("SET k v", OK);
    t.is("DELEX k IFEQ w", ":0\r\n");
    t.is("DELEX k IFNE v", ":0\r\n");
    assert!(t.exists("k"));
    t.is("DELEX k ifeq v", ":1\r\n");
    assert!(!t.exists("k"));
    t.is("SET k v", OK);
    t.is("DELEX k IfNe w", ":1\r\n");
    t.is("SET n 42", OK);
    t.is("DELEX n IFEQ 042", ":0\r\n");
    t.is("DELEX n IFEQ 42", ":1\r\n");
}

#[test]
fn delex_ifdeq_ifdne() {
    let mut t = T::new();
    t.is_raw(&[b"SET", b"k", b"Hello world"], b"+OK\r\n");
    t.is("DELEX k IFDNE b6acb9d84a38ff74", ":0\r\n");
    t.is("DELEX k IFDEQ b6acb9d84a38ff75", ":0\r\n");
    t.is("DELEX k IFDEQ 6acb9d84a38ff74", BAD_DIGEST);
    t.is("DELEX k IFDNE ''", BAD_DIGEST);
    assert!(t.exists("k"));
    t.is("DELEX k IFDEQ B6ACB9D84A38FF74", ":1\r\n");
    t.is(&format!("SET z {ZERO_LED}"), OK);
    // Leading zeros are part of the digest.
    t.is("DELEX z IFDEQ 6c38adf31777", BAD_DIGEST);
    t.is("DELEX z IFDNE 00006c38adf31777", ":0\r\n");
    t.is("DELEX z IFDNE 00006c38adf31778", ":1\r\n");
}

/// The order of checks is the one of Redis 8.4's delexCommand: the
/// argument count first (a condition without its value, or anything after
/// it, is an arity error even on a missing key), then the key is looked up
/// (a missing key answers 0 whatever follows), then the condition is read
/// (Redis's tests/unit/type/string.tcl, "DELEX wrong number of arguments"
/// and "DELEX invalid condition").
#[test]
fn delex_errors() {
    let mut t = T::new();
    t.is("SET k v", OK);
    let arity = "-ERR wrong number of arguments for 'delex' command\r\n";
    t.is("DELEX k IFEQ", arity);
    t.is("DELEX k IFEQ v extra", arity);
    t.is("DELEX nokey IFEQ", arity);
    t.is("DELEX nokey IFEQ v extra", arity);
    let invalid = "-ERR Invalid condition. Use IFEQ, IFNE, IFDEQ, or IFDNE\r\n";
    t.is("DELEX k FOO v", invalid);
    t.is("DELEX k IF v", invalid);
    t.is("DELEX nokey FOO v", ":0\r\n");
    t.is("DELEX nokey IFDEQ short", ":0\r\n");
    assert!(t.exists("k"));
    assert_eq!(t.dirty(), 1);
}
