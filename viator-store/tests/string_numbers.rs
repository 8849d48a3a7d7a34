//! INCR, DECR, INCRBY, DECRBY and INCRBYFLOAT; replies recorded from
//! redis-server 7.0.15.

mod string_support;

use string_support::T;

const OK: &str = "+OK\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const OVERFLOW: &str = "-ERR increment or decrement would overflow\r\n";
const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";

#[test]
fn incr_decr_basics() {
    let mut t = T::new();
    t.is("INCR n", ":1\r\n");
    assert_eq!(t.encoding("n"), Some("int"));
    t.is("INCR n", ":2\r\n");
    t.is("DECR n", ":1\r\n");
    t.is("DECR fresh", ":-1\r\n");
    t.is("INCRBY n 10", ":11\r\n");
    t.is("INCRBY n -20", ":-9\r\n");
    t.is("DECRBY n 1", ":-10\r\n");
    t.is("DECRBY n -11", ":1\r\n");
    t.is("INCRBY other 5", ":5\r\n");
    t.is("DECRBY other2 5", ":-5\r\n");
    t.is("GET n", "$1\r\n1\r\n");
    assert_eq!(t.dirty(), 10);
}

#[test]
fn incr_on_strings_that_hold_integers() {
    let mut t = T::new();
    // A raw string that is an integer (APPEND made it raw) counts.
    t.is("SET n 1", OK);
    t.is("APPEND n 0", ":2\r\n");
    assert_eq!(t.encoding("n"), Some("raw"));
    t.is("INCR n", ":11\r\n");
    assert_eq!(t.encoding("n"), Some("int"));
    for bad in [
        "1.5",
        "+1",
        " 1",
        "1 ",
        "01",
        "-0",
        "abc",
        "",
        "123456789012345678901",
        "9223372036854775808",
    ] {
        t.is_raw(&[b"SET", b"k", bad.as_bytes()], b"+OK\r\n");
        t.is("INCR k", NOT_INT);
        t.is("DECRBY k 1", NOT_INT);
    }
}

#[test]
fn incr_keeps_the_ttl() {
    let mut t = T::new();
    t.is("SET t 5 EX 100", OK);
    t.is("INCR t", ":6\r\n");
    assert!(t.pttl("t").unwrap() > 99_000);
    t.is("INCRBY t 100", ":106\r\n");
    assert!(t.pttl("t").unwrap() > 99_000);
}

#[test]
fn incr_overflow_and_bad_increments() {
    let mut t = T::new();
    t.is("SET k 9223372036854775807", OK);
    t.is("INCR k", OVERFLOW);
    t.is("INCRBY k 9223372036854775807", OVERFLOW);
    t.is("INCRBY k -9223372036854775808", ":-1\r\n");
    t.is("SET k -9223372036854775808", OK);
    t.is("DECR k", OVERFLOW);
    t.is("INCRBY k -1", OVERFLOW);
    t.is("DECRBY k 9223372036854775807", OVERFLOW);
    t.is(
        "DECRBY k -9223372036854775808",
        "-ERR decrement would overflow\r\n",
    );
    t.is("GET k", "$20\r\n-9223372036854775808\r\n");
    t.is("INCRBY k 1x", NOT_INT);
    t.is("INCRBY k ''", NOT_INT);
    t.is("INCRBY k 1.0", NOT_INT);
    // The increment is checked before the key is looked up.
    t.is("DECRBY nokey abc", NOT_INT);
    assert!(!t.exists("nokey"));
    t.is(
        "INCR",
        "-ERR wrong number of arguments for 'incr' command\r\n",
    );
    t.is(
        "INCRBY k",
        "-ERR wrong number of arguments for 'incrby' command\r\n",
    );
}

#[test]
fn incrbyfloat_formats_like_redis() {
    let mut t = T::new();
    t.is("SET f 10.50", OK);
    t.is("INCRBYFLOAT f 0.1", "$4\r\n10.6\r\n");
    // The result is stored as text, never as an integer.
    assert_eq!(t.encoding("f"), Some("embstr"));
    t.is("INCRBYFLOAT f 5189.4", "$4\r\n5200\r\n");
    assert_eq!(t.encoding("f"), Some("embstr"));
    t.is("INCRBYFLOAT f -5", "$4\r\n5195\r\n");
    t.is("SET f 5.0e3", OK);
    t.is("INCRBYFLOAT f 2.0e2", "$4\r\n5200\r\n");
    t.is("INCRBYFLOAT new 1.5", "$3\r\n1.5\r\n");
    t.is("SET p 12345.6", OK);
    t.is("INCRBYFLOAT p 0.1", "$23\r\n12345.69999999999999929\r\n");
    t.is("SET i 17179869184", OK);
    t.is("INCRBYFLOAT i 17179869184", "$11\r\n34359738368\r\n");
    t.is("SET z 0.1", OK);
    t.is("INCRBYFLOAT z 0.2", "$3\r\n0.3\r\n");
    t.is("INCRBYFLOAT z -0.3", "$1\r\n0\r\n");
    // Long results become raw strings.
    t.is("SET big 1", OK);
    t.is(
        "INCRBYFLOAT big 1e60",
        "$60\r\n999999999999999999999373423426722168652130621984886772203520\r\n",
    );
    assert_eq!(t.encoding("big"), Some("raw"));
}

#[test]
fn incrbyfloat_errors_and_ttl() {
    let mut t = T::new();
    t.is("SET f 1 EX 100", OK);
    t.is("INCRBYFLOAT f 1", "$1\r\n2\r\n");
    assert!(t.pttl("f").unwrap() > 99_000);
    t.is("INCRBYFLOAT f abc", NOT_FLOAT);
    t.is("INCRBYFLOAT f nan", NOT_FLOAT);
    t.is_raw(&[b"INCRBYFLOAT", b"f", b" 1"], NOT_FLOAT.as_bytes());
    t.is(
        "INCRBYFLOAT f inf",
        "-ERR increment would produce NaN or Infinity\r\n",
    );
    t.is(
        "INCRBYFLOAT nokey -inf",
        "-ERR increment would produce NaN or Infinity\r\n",
    );
    assert!(!t.exists("nokey"));
    t.is("SET s abc", OK);
    t.is("INCRBYFLOAT s 1", NOT_FLOAT);
    t.is("GET f", "$1\r\n2\r\n");
    assert_eq!(t.dirty(), 3);
}
