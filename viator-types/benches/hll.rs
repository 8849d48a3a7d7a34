//! HyperLogLog hot paths: PFADD into a sparse and a dense HLL, PFCOUNT's
//! estimate from dense and sparse registers, and the register merge of
//! PFCOUNT with several keys and PFMERGE.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use viator_types::hll;

fn filled(n: u32, max: usize) -> Vec<u8> {
    let mut h = hll::new_sparse();
    for i in 0..n {
        hll::add(&mut h, format!("element:{i}").as_bytes(), max).expect("valid");
    }
    h
}

fn bench(c: &mut Criterion) {
    let sparse = filled(1000, 3000);
    let dense = filled(20_000, 3000);
    assert_eq!(hll::encoding(&sparse), hll::SPARSE);
    assert_eq!(hll::encoding(&dense), hll::DENSE);

    let mut i = 0u64;
    c.bench_function("pfadd sparse (1000 elements)", |b| {
        let mut h = sparse.clone();
        b.iter(|| {
            i += 1;
            // Mostly unchanged registers, as in a warm HLL; the clone
            // keeps the HLL from drifting dense.
            if i % 4096 == 0 {
                h = sparse.clone();
            }
            hll::add(&mut h, &i.to_le_bytes(), 3000)
        })
    });
    c.bench_function("pfadd dense", |b| {
        let mut h = dense.clone();
        b.iter(|| {
            i += 1;
            hll::add(&mut h, &i.to_le_bytes(), 3000)
        })
    });
    c.bench_function("count dense", |b| b.iter(|| hll::count(black_box(&dense))));
    c.bench_function("count sparse", |b| {
        b.iter(|| hll::count(black_box(&sparse)))
    });
    c.bench_function("merge dense + sparse, count", |b| {
        b.iter(|| {
            let mut raw = [0u8; hll::REGISTERS];
            hll::merge_into(&mut raw, black_box(&dense)).expect("valid");
            hll::merge_into(&mut raw, black_box(&sparse)).expect("valid");
            hll::count_raw(&raw)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
