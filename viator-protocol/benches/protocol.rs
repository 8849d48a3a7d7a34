//! Hot paths of the protocol crate: request parsing as a server does it
//! (a pipelined read buffer drained command by command), inline parsing,
//! and encoding of typical replies.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use viator_protocol::{Frame, Limits, Parsed, ReplyBuf, parse_command, parse_frame};

fn multibulk(args: &[&[u8]], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn pipeline(n: usize, cmd: impl Fn(usize, &mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        cmd(i, &mut out);
    }
    out
}

/// Drains every command from a copy of `input`; returns how many.
fn drain(input: &[u8], args: &mut Vec<Bytes>) -> usize {
    let mut buf = BytesMut::from(input);
    let limits = Limits::default();
    let mut n = 0;
    while let Ok(Parsed::Command) = parse_command(&mut buf, &limits, args) {
        n += black_box(args.len());
    }
    n
}

fn parse_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_command");
    let set = pipeline(1000, |i, out| {
        let key = format!("key:{i:08}");
        multibulk(&[b"SET", key.as_bytes(), b"value-value-value"], out);
    });
    let get = pipeline(1000, |i, out| {
        let key = format!("key:{i:08}");
        multibulk(&[b"GET", key.as_bytes()], out);
    });
    let inline = pipeline(1000, |i, out| {
        out.extend_from_slice(format!("SET key:{i:08} value-value-value\r\n").as_bytes());
    });
    let quoted = pipeline(1000, |i, out| {
        out.extend_from_slice(format!("SET \"key {i:08}\" \"a\\x41\\n\"\r\n").as_bytes());
    });
    let mset = {
        let mut out = Vec::new();
        let kv: Vec<Vec<u8>> = (0..2000).map(|i| format!("k{i}").into_bytes()).collect();
        let mut args: Vec<&[u8]> = vec![b"MSET"];
        args.extend(kv.iter().map(|v| v.as_slice()));
        multibulk(&args, &mut out);
        out
    };
    let mut args = Vec::new();
    for (name, input, cmds) in [
        ("1000 pipelined SET", &set, 1000),
        ("1000 pipelined GET", &get, 1000),
        ("1000 inline SET", &inline, 1000),
        ("1000 inline quoted SET", &quoted, 1000),
        ("MSET with 2000 args", &mset, 1),
    ] {
        g.throughput(Throughput::Elements(cmds));
        g.bench_function(name, |b| b.iter(|| drain(black_box(input), &mut args)));
    }
    g.finish();
}

fn encode_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Elements(1000));
    let mut r = ReplyBuf::with_capacity(64 * 1024);
    g.bench_function("1000 +OK", |b| {
        b.iter(|| {
            r.truncate(0);
            for _ in 0..1000 {
                r.ok();
            }
            black_box(r.len())
        })
    });
    g.bench_function("1000 bulk 17B", |b| {
        b.iter(|| {
            r.truncate(0);
            for _ in 0..1000 {
                r.bulk(black_box(b"value-value-value"));
            }
            black_box(r.len())
        })
    });
    g.bench_function("1000 integers", |b| {
        b.iter(|| {
            r.truncate(0);
            for i in 0..1000i64 {
                r.int(black_box(i * 7919));
            }
            black_box(r.len())
        })
    });
    g.bench_function("1000 doubles", |b| {
        b.iter(|| {
            r.truncate(0);
            for i in 0..1000 {
                r.double(black_box(f64::from(i) * 0.37 + 0.001));
            }
            black_box(r.len())
        })
    });
    g.bench_function("LRANGE-like array of 1000 bulks", |b| {
        b.iter(|| {
            r.truncate(0);
            r.array(1000);
            for _ in 0..1000 {
                r.bulk(black_box(b"element"));
            }
            black_box(r.len())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("frame");
    let reply = {
        let mut out = BytesMut::new();
        for i in 0..1000 {
            if i % 2 == 0 {
                Frame::Simple(Bytes::from_static(b"OK")).encode(&mut out);
            } else {
                Frame::Bulk(Bytes::from_static(b"value-value-value")).encode(&mut out);
            }
        }
        out
    };
    g.throughput(Throughput::Elements(1000));
    g.bench_function("parse 1000 replies", |b| {
        b.iter(|| {
            let mut buf = reply.clone();
            let mut n = 0;
            while let Ok(Some(f)) = parse_frame(&mut buf) {
                black_box(&f);
                n += 1;
            }
            n
        })
    });
    g.bench_function("encode 1000 commands", |b| {
        let cmd = Frame::command(["SET", "key:00000001", "value-value-value"]);
        let mut out = BytesMut::with_capacity(64 * 1024);
        b.iter(|| {
            out.clear();
            for _ in 0..1000 {
                cmd.encode(&mut out);
            }
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, parse_benches, encode_benches);
criterion_main!(benches);
