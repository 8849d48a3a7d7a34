//! The command path with no network: `Store::execute` from parsed
//! arguments to reply bytes, for the commands the end-to-end benchmark
//! leans on (GET hit and miss, SET, INCR, MSET of 10 keys).
//!
//! `cargo bench -p viator-store --bench command_path`

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use viator_protocol::ReplyBuf;
use viator_store::{Client, Store, StoreOptions};

fn args(words: &[&str]) -> Vec<Bytes> {
    words
        .iter()
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect()
}

fn command_path(c: &mut Criterion) {
    let store = Store::new(StoreOptions::default());
    let mut client = Client::default();
    let mut out = ReplyBuf::with_capacity(4096);
    // A populated keyspace, like redis-benchmark's after its SET phase.
    for i in 0..100_000 {
        let key = format!("key:{i:012}");
        store.execute(
            &mut client,
            &args(&["SET", &key, "xxxxxxxxxxxxxxxx"]),
            &mut out,
        );
        out.truncate(0);
    }
    let mut group = c.benchmark_group("execute");
    let mut bench = |name: &str, cmd: Vec<Bytes>| {
        group.bench_function(name, |b| {
            b.iter(|| {
                store.execute(&mut client, black_box(&cmd), &mut out);
                out.truncate(0);
            })
        });
    };
    bench("get_hit", args(&["GET", "key:000000001234"]));
    bench("get_miss", args(&["GET", "nokey:000000001234"]));
    bench(
        "set",
        args(&["SET", "key:000000004321", "xxxxxxxxxxxxxxxx"]),
    );
    bench("incr", args(&["INCR", "counter:rand_int"]));
    let mut mset = vec!["MSET"];
    let keys: Vec<String> = (0..10).map(|i| format!("key:{:012}", i * 7919)).collect();
    for k in &keys {
        mset.push(k);
        mset.push("xxx");
    }
    bench("mset_10", args(&mset));
    group.finish();
}

criterion_group!(benches, command_path);
criterion_main!(benches);
