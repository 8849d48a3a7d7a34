//! Stream commands against a real in-process server: XREAD BLOCK served by
//! XADD (only entries added after `$` was resolved, each exactly once, to
//! several readers at once, across producers), timeouts, MULTI, type
//! changes, RESP3's map reply, and client input that must not hurt
//! (huge and negative counts, huge entries).

mod common;

use std::time::{Duration, Instant};

use common::{Client, start, wait_blocked};

#[test]
fn xread_block_on_dollar_sees_only_entries_added_after() {
    let server = start();
    let mut p = Client::new(&server);
    assert_eq!(p.cmd(&["XADD", "s", "1", "f", "old"]), "\"1-0\"");
    let mut r = Client::new(&server);
    r.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut p, 1);
    assert_eq!(p.cmd(&["XADD", "s", "2", "f", "new"]), "\"2-0\"");
    assert_eq!(r.read(), "[[\"s\",[[\"2-0\",[\"f\",\"new\"]]]]]");
    wait_blocked(&mut p, 0);
}

#[test]
fn xread_block_on_a_missing_key_waits_for_its_first_entry() {
    let server = start();
    let mut p = Client::new(&server);
    let mut r = Client::new(&server);
    r.send(&[
        "XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "a", "b", "$", "$",
    ]);
    wait_blocked(&mut p, 1);
    // A key of another type does not serve it.
    assert_eq!(p.cmd(&["SET", "b", "x"]), "+OK");
    assert!(r.quiet_for(100));
    assert_eq!(p.cmd(&["DEL", "b"]), ":1");
    assert_eq!(p.cmd(&["XADD", "b", "7-1", "k", "v"]), "\"7-1\"");
    assert_eq!(r.read(), "[[\"b\",[[\"7-1\",[\"k\",\"v\"]]]]]");
}

#[test]
fn several_readers_on_dollar_each_see_every_new_entry_exactly_once() {
    const READERS: usize = 4;
    const ENTRIES: usize = 200;
    let server = start();
    let port = server.port();
    let mut p = Client::new(&server);
    assert!(p.cmd(&["XADD", "s", "*", "f", "before"]).starts_with('"'));
    let mut readers: Vec<Client> = (0..READERS).map(|_| Client::new(&server)).collect();
    for (i, r) in readers.iter_mut().enumerate() {
        r.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
        wait_blocked(&mut p, i + 1);
    }
    let handles: Vec<_> = readers
        .into_iter()
        .map(|mut r| {
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut reply = r.read();
                loop {
                    // [["s",[["id",["f","vN"]],...]]]
                    for part in reply.split("[\"").skip(2) {
                        if let Some(id) = part.strip_suffix("\",") {
                            seen.push(id.to_string());
                        }
                    }
                    if seen.len() >= ENTRIES {
                        return seen;
                    }
                    let last = seen.last().cloned().unwrap_or_default();
                    reply = r.cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", &last]);
                }
            })
        })
        .collect();
    // Two producers interleave their entries.
    let producers: Vec<_> = (0..2)
        .map(|k| {
            std::thread::spawn(move || {
                let s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
                let mut c = Client {
                    s,
                    buf: bytes::BytesMut::new(),
                };
                for i in 0..ENTRIES / 2 {
                    let v = format!("p{k}-{i}");
                    let reply = c.cmd(&["XADD", "s", "*", "f", &v]);
                    assert!(reply.starts_with('"'), "{reply}");
                }
            })
        })
        .collect();
    for h in producers {
        h.join().expect("producer");
    }
    let all = p.cmd(&["XRANGE", "s", "-", "+"]);
    let mut ids: Vec<String> = Vec::new();
    for part in all.split("[\"").skip(1) {
        if let Some(id) = part.strip_suffix("\",") {
            ids.push(id.to_string());
        }
    }
    // The entry added before the readers blocked is not theirs.
    ids.remove(0);
    assert_eq!(ids.len(), ENTRIES);
    for h in handles {
        let seen = h.join().expect("reader");
        assert_eq!(seen, ids, "every new entry once, in order");
    }
}

#[test]
fn xread_block_times_out_with_a_null_array_in_both_protocols() {
    let server = start();
    let mut c = Client::new(&server);
    let t = Instant::now();
    assert_eq!(
        c.cmd(&["XREAD", "BLOCK", "150", "STREAMS", "s", "$"]),
        "nil*"
    );
    assert!(t.elapsed() >= Duration::from_millis(140));
    assert!(!c.cmd(&["HELLO", "3"]).is_empty());
    assert_eq!(
        c.cmd(&["XREAD", "BLOCK", "50", "STREAMS", "s", "0"]),
        "null"
    );
    // Without BLOCK there is no wait.
    assert_eq!(c.cmd(&["XREAD", "STREAMS", "s", "0"]), "null");
}

#[test]
fn xread_replies_a_map_in_resp3() {
    let server = start();
    let mut c = Client::new(&server);
    c.cmd(&["HELLO", "3"]);
    c.cmd(&["XADD", "a", "1", "f", "v"]);
    c.cmd(&["XADD", "b", "2", "g", "w"]);
    let reply = c.cmd(&["XREAD", "STREAMS", "a", "b", "0", "0"]);
    assert!(reply.starts_with("Map("), "{reply}");
    assert!(reply.contains("\"a\"") || reply.contains("[97]"), "{reply}");
}

#[test]
fn xread_block_inside_multi_answers_at_once() {
    let server = start();
    let mut c = Client::new(&server);
    c.cmd(&["MULTI"]);
    c.cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    assert_eq!(c.cmd(&["EXEC"]), "[nil*]");
}

#[test]
fn xadd_inside_multi_serves_readers_after_exec() {
    let server = start();
    let mut p = Client::new(&server);
    let mut r = Client::new(&server);
    r.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "0"]);
    wait_blocked(&mut p, 1);
    p.cmd(&["MULTI"]);
    p.cmd(&["XADD", "s", "1", "a", "1"]);
    p.cmd(&["XADD", "s", "2", "a", "2"]);
    assert_eq!(p.cmd(&["EXEC"]), "[\"1-0\",\"2-0\"]");
    assert_eq!(
        r.read(),
        "[[\"s\",[[\"1-0\",[\"a\",\"1\"]],[\"2-0\",[\"a\",\"2\"]]]]]"
    );
}

#[test]
fn deleting_entries_does_not_wake_readers() {
    let server = start();
    let mut p = Client::new(&server);
    p.cmd(&["XADD", "s", "1", "f", "v"]);
    let mut r = Client::new(&server);
    r.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut p, 1);
    assert_eq!(p.cmd(&["XDEL", "s", "1"]), ":1");
    assert_eq!(p.cmd(&["XTRIM", "s", "MAXLEN", "0"]), ":0");
    assert!(r.quiet_for(100));
    // The last ID survives the deletion: a smaller explicit ID is refused.
    assert_eq!(
        p.cmd(&["XADD", "s", "1", "f", "v"]),
        "-ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    p.cmd(&["XADD", "s", "3", "f", "v"]);
    assert_eq!(r.read(), "[[\"s\",[[\"3-0\",[\"f\",\"v\"]]]]]");
}

#[test]
fn extreme_counts_and_limits_are_harmless() {
    let server = start();
    let mut c = Client::new(&server);
    for i in 1..=5 {
        c.cmd(&["XADD", "s", &i.to_string(), "f", "v"]);
    }
    let min = i64::MIN.to_string();
    let max = i64::MAX.to_string();
    assert_eq!(
        c.cmd(&["XRANGE", "s", "-", "+", "COUNT", &min]),
        "nil*",
        "a negative COUNT is COUNT 0"
    );
    assert!(
        c.cmd(&["XRANGE", "s", "-", "+", "COUNT", &max])
            .starts_with("[[\"1-0\"")
    );
    assert!(
        c.cmd(&["XREVRANGE", "s", "+", "-", "COUNT", &max])
            .starts_with("[[\"5-0\"")
    );
    assert!(
        c.cmd(&["XREAD", "COUNT", &max, "STREAMS", "s", "0"])
            .contains("5-0")
    );
    assert!(
        c.cmd(&["XREAD", "COUNT", &min, "STREAMS", "s", "0"])
            .contains("5-0")
    );
    assert_eq!(
        c.cmd(&["XTRIM", "s", "MAXLEN", "~", &max, "LIMIT", &max]),
        ":0"
    );
    assert_eq!(c.cmd(&["XTRIM", "s", "MAXLEN", &max]), ":0");
    assert_eq!(
        c.cmd(&["XADD", "s", "MAXLEN", &min, "*", "f", "v"]),
        "-ERR The MAXLEN argument must be >= 0."
    );
    assert_eq!(
        c.cmd(&["XREAD", "BLOCK", &min, "STREAMS", "s", "$"]),
        "-ERR timeout is negative"
    );
    assert_eq!(c.cmd(&["XLEN", "s"]), ":5");
}

#[test]
fn large_entries_go_to_their_own_nodes_and_read_back() {
    let server = start();
    let mut c = Client::new(&server);
    let big = "x".repeat(70_000);
    let mid = "y".repeat(5_000);
    assert_eq!(c.cmd(&["XADD", "s", "1", "f", &big]), "\"1-0\"");
    assert_eq!(c.cmd(&["XADD", "s", "2", "f", &mid, "g", "1"]), "\"2-0\"");
    assert_eq!(c.cmd(&["XADD", "s", "3", &mid, "-17"]), "\"3-0\"");
    let all = c.cmd(&["XRANGE", "s", "-", "+"]);
    assert!(all.contains(&big) && all.contains(&mid) && all.contains("\"-17\""));
    assert_eq!(c.cmd(&["XDEL", "s", "2"]), ":1");
    assert_eq!(c.cmd(&["XLEN", "s"]), ":2");
    assert_eq!(
        c.cmd(&["XREVRANGE", "s", "+", "-", "COUNT", "1"]),
        format!("[[\"3-0\",[\"{mid}\",\"-17\"]]]")
    );
}

#[test]
fn xread_counts_two_lookups_per_key_as_redis() {
    let server = start();
    let mut c = Client::new(&server);
    c.cmd(&["XADD", "q", "1", "f", "v"]);
    c.cmd(&["CONFIG", "RESETSTAT"]);
    c.cmd(&["XREAD", "STREAMS", "q", "0"]);
    c.cmd(&["XREAD", "STREAMS", "q", "5"]);
    c.cmd(&["XREAD", "STREAMS", "nokey", "0"]);
    let info = c.cmd(&["INFO", "stats"]);
    assert!(info.contains("keyspace_hits:4\r\n"), "{info}");
    assert!(info.contains("keyspace_misses:2\r\n"), "{info}");
}
