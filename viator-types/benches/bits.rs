//! The bitmap kernels on strings too big for the caches, in bytes of input
//! per second: BITCOUNT's [`popcount`] (the dispatching one, and the
//! portable loop the default x86-64 target gets without AVX2), and BITOP
//! over two and three sources.
//!
//! `cargo bench -p viator-types --bench bits -- --warm-up-time 1 --measurement-time 3`
//!
//! The size is 64 MB per source by default (`BITS_BENCH_MB` to change it;
//! 512 for the figure): already 30 times the last-level cache, so
//! the figures are memory bound as they are at 512 MB. Under `cargo test
//! --benches` it runs each benchmark once on 1 MB.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use viator_types::bits::{BitOp, bitop, bitop_into, first_bit, popcount, popcount_portable};

fn source(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut v = vec![0u8; len];
    rng.fill(&mut v);
    v
}

fn main() {
    let testing = !std::env::args().any(|a| a == "--bench");
    let mb: usize = std::env::var("BITS_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if testing { 1 } else { 64 });
    let len = mb << 20;
    let a = source(len, 1);
    let b = source(len, 2);
    let c = source(len, 3);
    let zeros = vec![0u8; len];

    let mut crit = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1));
    let mut g = crit.benchmark_group(format!("bits_{mb}MB"));
    g.throughput(Throughput::Bytes(len as u64));
    g.bench_function("bitcount_popcount", |bn| {
        bn.iter(|| popcount(black_box(&a)))
    });
    g.bench_function("bitcount_portable", |bn| {
        bn.iter(|| popcount_portable(black_box(&a)))
    });
    g.bench_function("bitpos_scan_zeros", |bn| {
        bn.iter(|| first_bit(black_box(&zeros), true))
    });
    g.bench_function("bitop_not", |bn| {
        bn.iter(|| bitop(BitOp::Not, black_box(&[&a[..]])))
    });
    g.throughput(Throughput::Bytes(2 * len as u64));
    for op in [BitOp::And, BitOp::Or, BitOp::Xor] {
        g.bench_function(format!("bitop_{}_2src", op.name().to_lowercase()), |bn| {
            bn.iter(|| bitop(op, black_box(&[&a[..], &b[..]])))
        });
    }
    // The same kernel into a result buffer that is already mapped: the
    // difference with the line above is the page faults of a fresh result,
    // which Redis pays too (sdsnewlen of the result).
    let mut out = vec![0u8; len];
    g.bench_function("bitop_and_2src_into_mapped", |bn| {
        bn.iter(|| bitop_into(BitOp::And, black_box(&[&a[..], &b[..]]), &mut out))
    });
    g.throughput(Throughput::Bytes(3 * len as u64));
    for op in [BitOp::Diff, BitOp::One] {
        g.bench_function(format!("bitop_{}_3src", op.name().to_lowercase()), |bn| {
            bn.iter(|| bitop(op, black_box(&[&a[..], &b[..], &c[..]])))
        });
    }
    g.finish();
    crit.final_summary();
}
