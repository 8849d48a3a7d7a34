//! Stream nodes on XADD's and XRANGE's hot paths: appending `f v<i>`
//! entries with IDs as `XADD *` makes them (many per millisecond), reading
//! ranges forwards and backwards, and deleting.
//!
//! `cargo bench -p viator-types --bench stream -- --warm-up-time 1 --measurement-time 2`

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use viator_types::stream::{Stream, StreamId};

/// IDs as a busy `XADD *` stream gets them: 150 entries a millisecond.
fn id(i: u64) -> StreamId {
    StreamId::new(1_700_000_000_000 + i / 150, i % 150)
}

fn filled(n: u64) -> Stream {
    let mut s = Stream::new();
    for i in 0..n {
        let v = format!("v{i}");
        s.append(id(i), &[b"f", v.as_bytes()]);
    }
    s
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("stream");
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("append 10k", |b| {
        let values: Vec<String> = (0..10_000).map(|i| format!("v{i}")).collect();
        b.iter_batched(
            Stream::new,
            |mut s| {
                for (i, v) in values.iter().enumerate() {
                    s.append(id(i as u64), &[b"f", v.as_bytes()]);
                }
                s
            },
            BatchSize::SmallInput,
        );
    });
    let s = filled(100_000);
    g.throughput(Throughput::Elements(100));
    g.bench_function("range 100 from the middle", |b| {
        b.iter(|| {
            let mut n = 0usize;
            s.range(id(50_000), StreamId::MAX, false, |_, f| {
                n += black_box(f).len();
                n < 200
            });
            n
        });
    });
    g.bench_function("reverse range 100 from the end", |b| {
        b.iter(|| {
            let mut n = 0usize;
            s.range(StreamId::MIN, StreamId::MAX, true, |_, f| {
                n += black_box(f).len();
                n < 200
            });
            n
        });
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("last entry id", |b| {
        b.iter(|| black_box(&s).last_entry_id())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
