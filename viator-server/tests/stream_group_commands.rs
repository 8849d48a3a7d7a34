//! Consumer-group commands against a server started in process: reply
//! shapes in RESP2 and RESP3, XREADGROUP blocking and being woken by new
//! entries, by the group's destruction and by the key's deletion, 8.4's
//! CLAIM taking over idle entries, and many blocked consumers of one group
//! fed by many producers: every entry is delivered to exactly one consumer
//! and none is lost. Replies of small cases are compared with Redis in
//! `tests/diff/stream-groups*.txt`.

mod common;

use std::collections::HashSet;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Client, start, wait_blocked};
use viator_protocol::{Frame, parse_frame};

/// Reads one whole frame.
fn frame(c: &mut Client) -> Frame {
    loop {
        if let Some(f) = parse_frame(&mut c.buf).expect("valid RESP") {
            return f;
        }
        let mut chunk = [0u8; 8192];
        let n = c.s.read(&mut chunk).expect("reply in time");
        assert!(n > 0, "connection closed");
        c.buf.extend_from_slice(&chunk[..n]);
    }
}

fn bulk(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("not a bulk: {other:?}"),
    }
}

/// The (ID, first value) pairs of an XREADGROUP reply (RESP2) over one
/// stream; empty for a null reply.
fn entries(f: &Frame) -> Vec<(String, String)> {
    let Frame::Array(streams) = f else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in streams {
        let Frame::Array(kv) = s else { panic!("{s:?}") };
        let Frame::Array(es) = &kv[1] else {
            panic!("{kv:?}")
        };
        for e in es {
            let Frame::Array(pair) = e else {
                panic!("{e:?}")
            };
            let value = match &pair[1] {
                Frame::Array(fields) => bulk(&fields[1]),
                _ => String::new(),
            };
            out.push((bulk(&pair[0]), value));
        }
    }
    out
}

#[test]
fn read_ack_and_pending() {
    let server = start();
    let mut c = Client::new(&server);
    assert_eq!(
        c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        "+OK"
    );
    assert_eq!(c.cmd(&["XADD", "s", "1-0", "f", "v1"]), "\"1-0\"");
    assert_eq!(c.cmd(&["XADD", "s", "2-0", "f", "v2"]), "\"2-0\"");
    assert_eq!(
        c.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "s",
            ">"
        ]),
        "[[\"s\",[[\"1-0\",[\"f\",\"v1\"]]]]]"
    );
    assert_eq!(
        c.cmd(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"]),
        "[[\"s\",[[\"1-0\",[\"f\",\"v1\"]]]]]"
    );
    assert_eq!(
        c.cmd(&["XPENDING", "s", "g"]),
        "[:1,\"1-0\",\"1-0\",[[\"alice\",\"1\"]]]"
    );
    // The history read counted a second delivery.
    let p = c.cmd(&["XPENDING", "s", "g", "-", "+", "10"]);
    assert!(
        p.starts_with("[[\"1-0\",\"alice\",:") && p.ends_with(",:2]]"),
        "{p}"
    );
    assert_eq!(c.cmd(&["XACK", "s", "g", "1-0", "1-0"]), ":1");
    assert_eq!(c.cmd(&["XPENDING", "s", "g"]), "[:0,nil,nil,nil*]");
    // Lag and entries-read follow the reads.
    let groups = c.cmd(&["XINFO", "GROUPS", "s"]);
    assert!(
        groups.contains("\"entries-read\",:1,\"lag\",:1"),
        "{groups}"
    );
    // RESP3: the top level is a map of streams.
    c.send(&["HELLO", "3"]);
    assert!(matches!(frame(&mut c), Frame::Map(_)));
    c.send(&["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]);
    match frame(&mut c) {
        Frame::Map(kv) => {
            assert_eq!(bulk(&kv[0].0), "s");
        }
        other => panic!("not a map: {other:?}"),
    }
    c.send(&["XINFO", "CONSUMERS", "s", "g"]);
    let Frame::Array(consumers) = frame(&mut c) else {
        panic!()
    };
    assert_eq!(consumers.len(), 2);
    assert!(matches!(&consumers[0], Frame::Map(m) if m.len() == 4));
}

#[test]
fn blocked_readers_are_served_or_told_why() {
    let server = start();
    let mut c = Client::new(&server);
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let mut r = Client::new(&server);

    // A new entry wakes the reader.
    r.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "a",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(&mut c, 1);
    c.cmd(&["XADD", "s", "1-0", "f", "v"]);
    assert_eq!(r.read(), "[[\"s\",[[\"1-0\",[\"f\",\"v\"]]]]]");

    // A timeout is a null array.
    assert_eq!(
        r.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "a",
            "BLOCK",
            "30",
            "STREAMS",
            "s",
            ">"
        ]),
        "nil*"
    );

    // XGROUP DESTROY: -NOGROUP.
    r.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "a",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["XGROUP", "DESTROY", "s", "g"]), ":1");
    let e = r.read();
    assert!(
        e.starts_with("-NOGROUP No such key 's' or consumer group 'g'"),
        "{e}"
    );

    // DEL: -NOGROUP too.
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    r.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "a",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(&mut c, 1);
    c.cmd(&["DEL", "s"]);
    assert!(r.read().starts_with("-NOGROUP"));

    // A history ID never blocks.
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    assert_eq!(
        r.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "a",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            "0"
        ]),
        "[[\"s\",[]]]"
    );
}

/// The first entry of the first stream of an XREADGROUP reply (RESP2).
fn first_entry(f: Frame) -> Vec<Frame> {
    let Frame::Array(mut streams) = f else {
        panic!("{f:?}")
    };
    let Frame::Array(mut kv) = streams.swap_remove(0) else {
        panic!()
    };
    let Frame::Array(mut es) = kv.swap_remove(1) else {
        panic!()
    };
    let Frame::Array(e) = es.swap_remove(0) else {
        panic!()
    };
    e
}

#[test]
fn claim_takes_over_idle_entries() {
    let server = start();
    let mut c = Client::new(&server);
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    c.cmd(&["XADD", "s", "1-0", "f", "v"]);
    c.cmd(&["XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"]);
    // Not idle long enough yet, and nothing new: nothing to serve.
    assert_eq!(
        c.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "b",
            "CLAIM",
            "100000",
            "STREAMS",
            "s",
            ">"
        ]),
        "nil*"
    );
    std::thread::sleep(Duration::from_millis(60));
    c.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "b",
        "CLAIM",
        "50",
        "STREAMS",
        "s",
        ">",
    ]);
    let e = first_entry(frame(&mut c));
    assert_eq!(e.len(), 4, "id, fields, idle, delivery count");
    assert!(matches!(e[2], Frame::Integer(n) if n >= 50));
    assert!(matches!(e[3], Frame::Integer(1)));
    assert_eq!(
        c.cmd(&["XPENDING", "s", "g"]),
        "[:1,\"1-0\",\"1-0\",[[\"b\",\"1\"]]]"
    );
    let p = c.cmd(&["XPENDING", "s", "g", "-", "+", "1"]);
    assert!(p.ends_with(",:2]]"), "{p}");
}

/// A reader blocked with CLAIM is served when a pending entry becomes idle
/// enough, with no write to the stream (redis.io: the CLAIM condition may
/// become true during the BLOCK period).
#[test]
fn a_blocked_claim_reader_wakes_when_an_entry_becomes_idle_enough() {
    let server = start();
    let mut c = Client::new(&server);
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    c.cmd(&["XADD", "s", "1-0", "f", "v"]);
    c.cmd(&["XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"]);
    let mut b = Client::new(&server);
    // BLOCK 0: only the entry becoming claimable can end this.
    b.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "b",
        "CLAIM",
        "150",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    let e = first_entry(frame(&mut b));
    assert_eq!(common::show(&e[0]), "\"1-0\"");
    assert!(matches!(e[2], Frame::Integer(n) if n >= 150));
    assert_eq!(
        c.cmd(&["XPENDING", "s", "g"]),
        "[:1,\"1-0\",\"1-0\",[[\"b\",\"1\"]]]"
    );
    // With nothing pending, a CLAIM reader waits for a write as before.
    c.cmd(&["XACK", "s", "g", "1-0"]);
    b.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "b",
        "CLAIM",
        "10",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    common::wait_blocked(&mut c, 1);
    c.cmd(&["XADD", "s", "2-0", "f", "w"]);
    assert_eq!(b.read(), "[[\"s\",[[\"2-0\",[\"f\",\"w\"],:0,:0]]]]");
}

#[test]
fn hostile_arguments_neither_hang_nor_panic() {
    let server = start();
    let mut c = Client::new(&server);
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    c.cmd(&["XADD", "s", "1-0", "f", "v"]);
    c.cmd(&["XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"]);
    for args in [
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "a",
            "COUNT",
            "-9223372036854775808",
            "STREAMS",
            "s",
            "0",
        ][..],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "a",
            "COUNT",
            "9223372036854775807",
            "STREAMS",
            "s",
            ">",
        ],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "a",
            "CLAIM",
            "9223372036854775807",
            "STREAMS",
            "s",
            ">",
        ],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "a",
            "CLAIM",
            "0",
            "COUNT",
            "1",
            "STREAMS",
            "s",
            ">",
        ],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "a",
            "BLOCK",
            "9223372036854775807",
            "STREAMS",
            "s",
            ">",
        ],
        &["XPENDING", "s", "g", "-", "+", "9223372036854775807"],
        &[
            "XPENDING",
            "s",
            "g",
            "IDLE",
            "-9223372036854775808",
            "+",
            "-",
            "-1",
        ],
        &[
            "XAUTOCLAIM",
            "s",
            "g",
            "b",
            "-1",
            "0",
            "COUNT",
            "576460752303423487",
        ],
        &[
            "XCLAIM",
            "s",
            "g",
            "b",
            "0",
            "1-0",
            "IDLE",
            "-9223372036854775808",
            "RETRYCOUNT",
            "-1",
        ],
        &[
            "XCLAIM",
            "s",
            "g",
            "b",
            "0",
            "1-0",
            "TIME",
            "9223372036854775807",
            "FORCE",
        ],
        &[
            "XINFO",
            "STREAM",
            "s",
            "FULL",
            "COUNT",
            "-9223372036854775808",
        ],
        &["XACKDEL", "s", "g", "IDS", "9223372036854775807", "1-0"],
        &[
            "XGROUP",
            "SETID",
            "s",
            "g",
            "18446744073709551615-18446744073709551615",
        ],
        &["XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"],
    ] {
        let r = c.cmd(args);
        assert!(!r.is_empty(), "{args:?}");
    }
    assert_eq!(c.cmd(&["PING"]), "+PONG");
}

/// Many consumers of one group blocked on one stream, many producers:
/// every entry reaches exactly one consumer, and none is lost.
#[test]
fn concurrent_consumers_share_every_entry_once() {
    const PRODUCERS: usize = 4;
    const PER_PRODUCER: usize = 250;
    const CONSUMERS: usize = 8;
    const TOTAL: usize = PRODUCERS * PER_PRODUCER;
    let server = Arc::new(start());
    let mut c = Client::new(&server);
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let received = Arc::new(AtomicUsize::new(0));

    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|n| {
            let server = server.clone();
            let received = received.clone();
            std::thread::spawn(move || {
                let mut r = Client::new(&server);
                let name = format!("c{n}");
                let mut got = Vec::new();
                let until = Instant::now() + Duration::from_secs(60);
                while received.load(Ordering::SeqCst) < TOTAL && Instant::now() < until {
                    r.send(&[
                        "XREADGROUP",
                        "GROUP",
                        "g",
                        &name,
                        "COUNT",
                        "7",
                        "BLOCK",
                        "100",
                        "STREAMS",
                        "s",
                        ">",
                    ]);
                    let batch = entries(&frame(&mut r));
                    for (id, _) in &batch {
                        assert_eq!(r.cmd(&["XACK", "s", "g", id]), ":1", "{id} acked once");
                    }
                    received.fetch_add(batch.len(), Ordering::SeqCst);
                    got.extend(batch);
                }
                got
            })
        })
        .collect();
    // Let the consumers block first, then produce.
    wait_blocked(&mut c, CONSUMERS);
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let server = server.clone();
            std::thread::spawn(move || {
                let mut w = Client::new(&server);
                for i in 0..PER_PRODUCER {
                    let v = format!("p{p}-{i}");
                    let id = w.cmd(&["XADD", "s", "*", "f", &v]);
                    assert!(id.starts_with('"'), "{id}");
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer");
    }
    let mut all = Vec::new();
    let mut per_consumer = Vec::new();
    for h in consumers {
        let got = h.join().expect("consumer");
        per_consumer.push(got.len());
        all.extend(got);
    }
    assert_eq!(
        all.len(),
        TOTAL,
        "delivered exactly once in total: {per_consumer:?}"
    );
    let ids: HashSet<&String> = all.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), TOTAL, "no entry delivered twice");
    let values: HashSet<&String> = all.iter().map(|(_, v)| v).collect();
    for p in 0..PRODUCERS {
        for i in 0..PER_PRODUCER {
            assert!(values.contains(&format!("p{p}-{i}")), "p{p}-{i} lost");
        }
    }
    assert_eq!(c.cmd(&["XPENDING", "s", "g"]), "[:0,nil,nil,nil*]");
    let groups = c.cmd(&["XINFO", "GROUPS", "s"]);
    assert!(
        groups.contains(&format!("\"entries-read\",:{TOTAL},\"lag\",:0")),
        "{groups}"
    );
}
