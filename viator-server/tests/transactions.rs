//! MULTI/EXEC/WATCH against a real in-process server with several
//! clients: another client's write fails a watching EXEC, a watched key
//! that expires fails it too while one already stale when watched does
//! not, CLIENT INFO and INFO show the transaction state, and EXEC is
//! isolated from other clients.

mod common;

use std::time::Duration;

use common::{Client, start};

#[test]
fn another_clients_write_fails_a_watching_exec() {
    let server = start();
    let mut a = Client::new(&server);
    let mut b = Client::new(&server);
    a.cmd(&["SET", "k", "1"]);
    assert_eq!(a.cmd(&["WATCH", "k", "other"]), "+OK");
    let info = b.cmd(&["INFO", "clients"]);
    assert!(info.contains("watching_clients:1\r\n"), "{info}");
    assert!(info.contains("total_watched_keys:2\r\n"), "{info}");
    assert_eq!(b.cmd(&["INCR", "k"]), ":2");
    assert_eq!(a.cmd(&["MULTI"]), "+OK");
    assert_eq!(a.cmd(&["SET", "k", "100"]), "+QUEUED");
    assert_eq!(a.cmd(&["EXEC"]), "nil*");
    assert_eq!(a.cmd(&["GET", "k"]), "\"2\"");
    // EXEC unwatched everything.
    let info = b.cmd(&["INFO", "clients"]);
    assert!(info.contains("total_watched_keys:0\r\n"), "{info}");
    // Writes to keys nobody watches change nothing.
    a.cmd(&["WATCH", "k"]);
    b.cmd(&["SET", "unrelated", "x"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["INCR", "k"]);
    assert_eq!(a.cmd(&["EXEC"]), "[:3]");
}

#[test]
fn watched_keys_that_expire_fail_exec_but_stale_ones_do_not() {
    let server = start();
    let mut a = Client::new(&server);
    a.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    a.cmd(&["SET", "k", "1", "PX", "300"]);
    a.cmd(&["WATCH", "k"]);
    std::thread::sleep(Duration::from_millis(350));
    a.cmd(&["MULTI"]);
    a.cmd(&["INCR", "k"]);
    assert_eq!(a.cmd(&["EXEC"]), "nil*");
    // Already expired when watched: EXEC runs.
    a.cmd(&["SET", "s", "1", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(10));
    a.cmd(&["WATCH", "s"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["PING"]);
    assert_eq!(a.cmd(&["EXEC"]), "[+PONG]");
    a.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
}

#[test]
fn client_info_inside_exec_shows_the_transaction() {
    let server = start();
    let mut a = Client::new(&server);
    assert!(a.cmd(&["CLIENT", "INFO"]).contains(" multi=-1 watch=0 "));
    a.cmd(&["WATCH", "x", "y"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["CLIENT", "INFO"]);
    a.cmd(&["PING"]);
    let r = a.cmd(&["EXEC"]);
    assert!(r.contains(" flags=x "), "{r}");
    assert!(r.contains(" multi=2 "), "{r}");
    assert!(r.contains(" cmd=exec "), "{r}");
    let mut b = Client::new(&server);
    a.cmd(&["MULTI"]);
    a.cmd(&["PING"]);
    let list = b.cmd(&["CLIENT", "LIST"]);
    assert!(
        list.contains(" flags=x ") && list.contains(" multi=1 "),
        "{list}"
    );
}

#[test]
fn exec_is_isolated_from_other_clients() {
    let server = start();
    let mut a = Client::new(&server);
    a.cmd(&["SET", "n", "0"]);
    let port = server.port();
    // Other clients read n while transactions add 1 twice: nobody may see
    // an odd value.
    let reader = std::thread::spawn(move || {
        let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut c = Client {
            s,
            buf: bytes::BytesMut::new(),
        };
        for _ in 0..2000 {
            let v = c.cmd(&["GET", "n"]);
            let n: i64 = v.trim_matches('"').parse().unwrap();
            assert_eq!(n % 2, 0, "saw the middle of a transaction");
        }
    });
    for _ in 0..500 {
        a.cmd(&["MULTI"]);
        a.cmd(&["INCR", "n"]);
        a.cmd(&["INCR", "n"]);
        a.cmd(&["EXEC"]);
    }
    reader.join().unwrap();
}

#[test]
fn set_writes_that_change_nothing_do_not_fail_a_watching_exec() {
    let server = start();
    let mut a = Client::new(&server);
    let mut b = Client::new(&server);
    a.cmd(&["SADD", "src", "a", "b"]);
    a.cmd(&["SADD", "dst", "a"]);
    a.cmd(&["WATCH", "dst"]);
    // Redis's "SMOVE only notify dstset when the addition is successful".
    assert_eq!(b.cmd(&["SMOVE", "src", "dst", "a"]), ":1");
    assert_eq!(b.cmd(&["SADD", "dst", "a"]), ":0");
    assert_eq!(b.cmd(&["SREM", "dst", "nosuch"]), ":0");
    a.cmd(&["MULTI"]);
    a.cmd(&["SADD", "dst", "c"]);
    assert_eq!(a.cmd(&["EXEC"]), "[:1]");
    // A real change does.
    a.cmd(&["WATCH", "dst"]);
    assert_eq!(b.cmd(&["SMOVE", "src", "dst", "b"]), ":1");
    a.cmd(&["MULTI"]);
    a.cmd(&["SCARD", "dst"]);
    assert_eq!(a.cmd(&["EXEC"]), "nil*");
}

#[test]
fn hash_writes_that_change_nothing_do_not_fail_a_watching_exec() {
    let server = start();
    let mut a = Client::new(&server);
    let mut b = Client::new(&server);
    a.cmd(&["HSET", "h", "f", "1"]);
    a.cmd(&["WATCH", "h"]);
    assert_eq!(b.cmd(&["HSETNX", "h", "f", "2"]), ":0");
    assert_eq!(b.cmd(&["HGET", "h", "f"]), "\"1\"");
    a.cmd(&["MULTI"]);
    a.cmd(&["HLEN", "h"]);
    assert_eq!(a.cmd(&["EXEC"]), "[:1]");
    a.cmd(&["WATCH", "h"]);
    assert_eq!(b.cmd(&["HINCRBY", "h", "f", "1"]), ":2");
    a.cmd(&["MULTI"]);
    a.cmd(&["HLEN", "h"]);
    assert_eq!(a.cmd(&["EXEC"]), "nil*");
}

#[test]
fn zset_writes_that_change_nothing_do_not_fail_a_watching_exec() {
    let server = start();
    let mut a = Client::new(&server);
    let mut b = Client::new(&server);
    a.cmd(&["ZADD", "z", "1", "m"]);
    a.cmd(&["WATCH", "z"]);
    assert_eq!(b.cmd(&["ZADD", "z", "NX", "5", "m"]), ":0");
    assert_eq!(b.cmd(&["ZADD", "z", "1", "m"]), ":0");
    assert_eq!(b.cmd(&["ZREM", "z", "nosuch"]), ":0");
    a.cmd(&["MULTI"]);
    a.cmd(&["ZCARD", "z"]);
    assert_eq!(a.cmd(&["EXEC"]), "[:1]");
    a.cmd(&["WATCH", "z"]);
    assert_eq!(b.cmd(&["ZADD", "z", "XX", "CH", "2", "m"]), ":1");
    a.cmd(&["MULTI"]);
    a.cmd(&["ZCARD", "z"]);
    assert_eq!(a.cmd(&["EXEC"]), "nil*");
}

#[test]
fn a_write_pause_holds_an_exec_that_writes_but_not_one_that_reads() {
    let server = start();
    let mut a = Client::new(&server);
    let mut b = Client::new(&server);
    a.cmd(&["MULTI"]);
    a.cmd(&["GET", "k"]);
    b.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]);
    assert_eq!(a.cmd(&["EXEC"]), "[nil]");
    b.cmd(&["CLIENT", "UNPAUSE"]);
    // Queued before the pause (queueing a write waits for a write pause
    // too, as in Redis), run after it.
    a.cmd(&["MULTI"]);
    a.cmd(&["SET", "k", "v"]);
    b.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]);
    a.send(&["EXEC"]);
    assert!(a.quiet_for(100));
    b.cmd(&["CLIENT", "UNPAUSE"]);
    assert_eq!(a.read(), "[+OK]");
}

#[test]
fn randomkey_returns_an_expired_key_while_expiry_is_paused() {
    let server = start();
    let mut a = Client::new(&server);
    a.cmd(&["MULTI"]);
    a.cmd(&["SET", "key", "value", "PX", "3"]);
    a.cmd(&["CLIENT", "PAUSE", "10000", "WRITE"]);
    a.cmd(&["EXEC"]);
    std::thread::sleep(Duration::from_millis(10));
    // Every key has a TTL and is past it, but a pause keeps it in place:
    // RANDOMKEY still answers instead of looping.
    assert_eq!(a.cmd(&["RANDOMKEY"]), "\"key\"");
    a.cmd(&["CLIENT", "UNPAUSE"]);
    assert_eq!(a.cmd(&["RANDOMKEY"]), "nil");
}
