//! Blocking commands against a real in-process server: clients served in
//! the order they blocked, timeouts with fractions, CLIENT UNBLOCK, kills
//! and disconnections that leave no trace, keys deleted, renamed onto or
//! changed in type while clients wait, pipelined requests behind a blocked
//! one, and many producers and consumers losing and duplicating nothing.

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use common::{Client, start, wait_blocked};

#[test]
fn waiters_are_served_in_the_order_they_blocked() {
    let server = start();
    let mut p = Client::new(&server);
    let mut waiters: Vec<Client> = (0..3).map(|_| Client::new(&server)).collect();
    for (i, w) in waiters.iter_mut().enumerate() {
        w.send(&["BLPOP", "list", "0"]);
        wait_blocked(&mut p, i + 1);
    }
    // The pusher's reply comes after the waiters were served.
    assert_eq!(p.cmd(&["RPUSH", "list", "a", "b", "c", "d"]), ":4");
    assert_eq!(p.cmd(&["LRANGE", "list", "0", "-1"]), "[\"d\"]");
    for (w, v) in waiters.iter_mut().zip(["a", "b", "c"]) {
        assert_eq!(w.read(), format!("[\"list\",{v:?}]"));
    }
    wait_blocked(&mut p, 0);
}

#[test]
fn timeouts_take_fractions_and_answer_null_in_both_protocols() {
    let server = start();
    let mut c = Client::new(&server);
    let t = Instant::now();
    assert_eq!(c.cmd(&["BLPOP", "nolist", "0.2"]), "nil*");
    assert!(t.elapsed() >= Duration::from_millis(200));
    // A timed-out BLMOVE answers a null array too (Redis's
    // replyToBlockedClientTimedOut), not BLMOVE's usual null bulk.
    assert_eq!(
        c.cmd(&["BLMOVE", "nolist", "x", "LEFT", "RIGHT", "0.05"]),
        "nil*"
    );
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["BRPOP", "nolist", "0.05"]), "null");
    assert_eq!(c.cmd(&["BRPOPLPUSH", "nolist", "x", "0.05"]), "null");
    // Counted once, as Redis does.
    let stats = c.cmd(&["INFO", "commandstats"]);
    assert!(stats.contains("cmdstat_blpop:calls=1,"), "{stats}");
}

#[test]
fn bad_timeouts_are_refused_as_redis_words_it() {
    let server = start();
    let mut c = Client::new(&server);
    assert_eq!(
        c.cmd(&["BLPOP", "l", "abc"]),
        "-ERR timeout is not a float or out of range"
    );
    assert_eq!(c.cmd(&["BLPOP", "l", "-1"]), "-ERR timeout is negative");
    assert_eq!(
        c.cmd(&["BLPOP", "l", "1e300"]),
        "-ERR timeout is out of range"
    );
}

#[test]
fn client_unblock_answers_timeout_or_error() {
    let server = start();
    let mut c = Client::new(&server);
    let mut w = Client::new(&server);
    let id = w.id();
    c.cmd(&["CONFIG", "RESETSTAT"]);
    w.send(&["BLPOP", "l", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id]), ":1");
    assert_eq!(w.read(), "nil*");
    // The blocked command is counted once, when it is unblocked.
    let stats = c.cmd(&["INFO", "commandstats"]);
    assert!(
        stats.contains("cmdstat_blpop:calls=1,") && stats.contains("failed_calls=0"),
        "{stats}"
    );
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id]), ":0");
    w.send(&["BLPOP", "l", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]), ":1");
    assert_eq!(w.read(), "-UNBLOCKED client unblocked via CLIENT UNBLOCK");
    let errors = c.cmd(&["INFO", "errorstats"]);
    assert!(errors.contains("errorstat_UNBLOCKED:count=1"), "{errors}");
    // The client goes on normally.
    assert_eq!(w.cmd(&["PING"]), "+PONG");
}

#[test]
fn a_client_gone_while_blocked_leaves_no_trace() {
    let server = start();
    let mut c = Client::new(&server);
    {
        let mut w = Client::new(&server);
        w.send(&["BLPOP", "l", "0"]);
        wait_blocked(&mut c, 1);
    }
    wait_blocked(&mut c, 0);
    assert_eq!(c.cmd(&["RPUSH", "l", "x"]), ":1");
    assert_eq!(c.cmd(&["LLEN", "l"]), ":1");
    // Killed while blocked.
    let mut w = Client::new(&server);
    let id = w.id();
    w.send(&["BLPOP", "other", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["CLIENT", "KILL", "ID", &id]), ":1");
    wait_blocked(&mut c, 0);
    assert_eq!(c.cmd(&["RPUSH", "other", "y"]), ":1");
    assert_eq!(c.cmd(&["LLEN", "other"]), ":1");
}

#[test]
fn keys_deleted_retyped_or_renamed_onto_while_clients_wait() {
    let server = start();
    let mut c = Client::new(&server);
    let mut w = Client::new(&server);
    w.send(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    // A string there does not serve a list waiter: it stays blocked.
    assert_eq!(c.cmd(&["SET", "k", "str"]), "+OK");
    assert!(w.quiet_for(50));
    assert_eq!(c.cmd(&["DEL", "k"]), ":1");
    // A list renamed onto the key serves it.
    c.cmd(&["RPUSH", "src", "moved"]);
    assert_eq!(c.cmd(&["RENAME", "src", "k"]), "+OK");
    assert_eq!(w.read(), "[\"k\",\"moved\"]");
    assert_eq!(c.cmd(&["EXISTS", "k"]), ":0");
}

#[test]
fn blmove_destination_of_wrong_type_errors_when_served() {
    let server = start();
    let mut c = Client::new(&server);
    let mut w = Client::new(&server);
    w.send(&["BRPOPLPUSH", "blist", "target", "0"]);
    wait_blocked(&mut c, 1);
    c.cmd(&["SET", "target", "nolist"]);
    c.cmd(&["LPUSH", "blist", "foo"]);
    assert_eq!(
        w.read(),
        "-WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(c.cmd(&["LRANGE", "blist", "0", "-1"]), "[\"foo\"]");
}

#[test]
fn a_chain_of_blmoves_passes_the_element_along() {
    let server = start();
    let mut c = Client::new(&server);
    let mut a = Client::new(&server);
    let mut b = Client::new(&server);
    a.send(&["BLMOVE", "l1", "l2", "LEFT", "RIGHT", "0"]);
    wait_blocked(&mut c, 1);
    b.send(&["BLPOP", "l2", "0"]);
    wait_blocked(&mut c, 2);
    c.cmd(&["RPUSH", "l1", "x"]);
    assert_eq!(a.read(), "\"x\"");
    assert_eq!(b.read(), "[\"l2\",\"x\"]");
    assert_eq!(c.cmd(&["EXISTS", "l1", "l2"]), ":0");
}

#[test]
fn requests_pipelined_behind_a_blocked_one_run_after_it() {
    let server = start();
    let mut c = Client::new(&server);
    let mut w = Client::new(&server);
    let mut both = Vec::new();
    for args in [["BLPOP", "l", "0"].as_slice(), ["PING"].as_slice()] {
        both.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            both.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    w.s.write_all(&both).unwrap();
    wait_blocked(&mut c, 1);
    assert!(w.quiet_for(50));
    c.cmd(&["RPUSH", "l", "v"]);
    assert_eq!(w.read(), "[\"l\",\"v\"]");
    assert_eq!(w.read(), "+PONG");
}

#[test]
fn many_producers_and_consumers_lose_and_duplicate_nothing() {
    let server = start();
    let port = server.port();
    const N: usize = 50;
    const PER: usize = 20;
    let consumers: Vec<_> = (0..N)
        .map(|_| {
            let mut c = Client::new(&server);
            std::thread::spawn(move || {
                let mut got = Vec::new();
                for _ in 0..PER {
                    let r = c.cmd(&["BLPOP", "q1", "q2", "5"]);
                    assert_ne!(r, "nil*", "an element went missing");
                    got.push(r);
                }
                got
            })
        })
        .collect();
    let producers: Vec<_> = (0..N)
        .map(|p| {
            std::thread::spawn(move || {
                let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                let mut c = Client {
                    s,
                    buf: BytesMut::new(),
                };
                for i in 0..PER {
                    let key = if i % 2 == 0 { "q1" } else { "q2" };
                    let r = c.cmd(&["RPUSH", key, &format!("{p}:{i}")]);
                    assert!(r.starts_with(':'), "{r}");
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let mut seen = HashSet::new();
    for c in consumers {
        for r in c.join().unwrap() {
            assert!(seen.insert(r.clone()), "served twice: {r}");
        }
    }
    let values: HashSet<String> = seen
        .iter()
        .map(|r| {
            r.rsplit(',')
                .next()
                .unwrap()
                .trim_end_matches(']')
                .to_string()
        })
        .collect();
    assert_eq!(values.len(), N * PER);
    let mut c = Client::new(&server);
    assert_eq!(c.cmd(&["EXISTS", "q1", "q2"]), ":0");
}

#[test]
fn pushes_inside_exec_wake_waiters_after_it() {
    let server = start();
    let mut c = Client::new(&server);
    let mut w = Client::new(&server);
    w.send(&["BLPOP", "blist", "0"]);
    wait_blocked(&mut c, 1);
    c.cmd(&["MULTI"]);
    for v in ["a", "b", "c"] {
        assert_eq!(c.cmd(&["LPUSH", "blist", v]), "+QUEUED");
    }
    assert_eq!(c.cmd(&["EXEC"]), "[:1,:2,:3]");
    // The waiter saw the list as EXEC left it.
    assert_eq!(w.read(), "[\"blist\",\"c\"]");
    assert_eq!(c.cmd(&["LRANGE", "blist", "0", "-1"]), "[\"b\",\"a\"]");
}

#[test]
fn blocking_commands_inside_multi_answer_at_once() {
    let server = start();
    let mut c = Client::new(&server);
    c.cmd(&["MULTI"]);
    c.cmd(&["BLPOP", "empty", "0"]);
    c.cmd(&["BLMOVE", "empty", "x", "LEFT", "LEFT", "0"]);
    assert_eq!(c.cmd(&["EXEC"]), "[nil*,nil]");
}

#[test]
fn sorted_set_waiters_are_served_by_zadd() {
    let server = start();
    let mut c = Client::new(&server);
    let mut w1 = Client::new(&server);
    let mut w2 = Client::new(&server);
    w1.send(&["BZPOPMIN", "z", "0"]);
    wait_blocked(&mut c, 1);
    w2.send(&["BZMPOP", "0", "1", "z", "MAX", "COUNT", "2"]);
    wait_blocked(&mut c, 2);
    // A list under the key does not serve sorted set waiters.
    c.cmd(&["RPUSH", "z", "x"]);
    assert!(w1.quiet_for(50));
    c.cmd(&["DEL", "z"]);
    assert_eq!(c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]), ":3");
    assert_eq!(w1.read(), "[\"z\",\"a\",\"1\"]");
    assert_eq!(w2.read(), "[\"z\",[[\"c\",\"3\"],[\"b\",\"2\"]]]");
    assert_eq!(c.cmd(&["EXISTS", "z"]), ":0");
}
