//! The keyspace table on the workload of a filled Redis: 1M keys
//! `key:<i>` with 16-byte values. Insert, lookup hit and miss, remove, and a
//! full SCAN, with `std::collections::HashMap<Vec<u8>, Vec<u8>>` on the same
//! workload for context (with its default SipHash and with ahash, which the
//! table uses, so that the hash function is not the whole story).
//!
//! Before the timings it prints the memory per key of `KeyTable` + `Entry`,
//! counted by a global allocator: bytes requested, bytes usable through
//! glibc's `malloc_usable_size`, and bytes in mimalloc's size classes (the
//! server's allocator; computed from its bin rule).
//!
//! `cargo bench -p viator-types --bench table -- --warm-up-time 1 --measurement-time 2`
//!
//! Under `cargo test --benches` (no `--bench` argument) it runs each
//! benchmark once on 10k keys.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use viator_types::entry::{Entry, NewValue};
use viator_types::table::{KeyTable, hash_key};

// ---------------------------------------------------------------------------
// A counting allocator
// ---------------------------------------------------------------------------

/// The system allocator, counting live bytes three ways.
struct Counting;

static REQUESTED: AtomicUsize = AtomicUsize::new(0);
static USABLE: AtomicUsize = AtomicUsize::new(0);
static MI_CLASS: AtomicUsize = AtomicUsize::new(0);
static BLOCKS: AtomicUsize = AtomicUsize::new(0);

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn usable_size(p: *mut u8) -> usize {
    unsafe extern "C" {
        fn malloc_usable_size(ptr: *mut std::ffi::c_void) -> usize;
    }
    // SAFETY: `p` is a live block from the system allocator (glibc malloc,
    // or posix_memalign for large alignments, which it also accepts).
    unsafe { malloc_usable_size(p.cast()) }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn usable_size(_: *mut u8) -> usize {
    0
}

/// The block size mimalloc (v2, default build) serves `size` bytes from:
/// 8-byte steps up to 64 bytes, then four classes per power of two; huge
/// blocks are rounded to the 64 KiB of their segment alignment.
fn mimalloc_class(size: usize) -> usize {
    let wsize = size.div_ceil(8).max(1);
    if wsize <= 8 {
        return wsize * 8;
    }
    if size > 16 << 20 {
        return size.next_multiple_of(64 << 10);
    }
    let b = usize::BITS - 1 - (wsize - 1).leading_zeros();
    let step = 1usize << (b - 2);
    wsize.next_multiple_of(step) * 8
}

fn count_in(p: *mut u8, size: usize) {
    if !p.is_null() {
        REQUESTED.fetch_add(size, Relaxed);
        USABLE.fetch_add(usable_size(p), Relaxed);
        MI_CLASS.fetch_add(mimalloc_class(size), Relaxed);
        BLOCKS.fetch_add(1, Relaxed);
    }
}

fn count_out(p: *mut u8, size: usize) {
    REQUESTED.fetch_sub(size, Relaxed);
    USABLE.fetch_sub(usable_size(p), Relaxed);
    MI_CLASS.fetch_sub(mimalloc_class(size), Relaxed);
    BLOCKS.fetch_sub(1, Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; the counters only
// observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc(layout) };
        count_in(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc_zeroed(layout) };
        count_in(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        count_out(p, layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(p, layout) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old_usable = usable_size(p);
        // SAFETY: forwarded with the caller's guarantees.
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            REQUESTED.fetch_sub(layout.size(), Relaxed);
            USABLE.fetch_sub(old_usable, Relaxed);
            MI_CLASS.fetch_sub(mimalloc_class(layout.size()), Relaxed);
            BLOCKS.fetch_sub(1, Relaxed);
            count_in(q, new_size);
        }
        q
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Clone, Copy)]
struct Usage {
    requested: usize,
    usable: usize,
    mi_class: usize,
    blocks: usize,
}

fn usage() -> Usage {
    Usage {
        requested: REQUESTED.load(Relaxed),
        usable: USABLE.load(Relaxed),
        mi_class: MI_CLASS.load(Relaxed),
        blocks: BLOCKS.load(Relaxed),
    }
}

fn report(what: &str, before: Usage, after: Usage, n: usize) {
    let per = |a: usize, b: usize| (b - a) as f64 / n as f64;
    println!(
        "memory {what:<34} {:>6.1} B/key requested, {:>6.1} usable (glibc), {:>6.1} in mimalloc classes, {:.2} allocations/key",
        per(before.requested, after.requested),
        per(before.usable, after.usable),
        per(before.mi_class, after.mi_class),
        per(before.blocks, after.blocks),
    );
}

// ---------------------------------------------------------------------------
// The workload
// ---------------------------------------------------------------------------

const VALUE: &[u8; 16] = b"xxxxxxxxxxxxxxxx";

/// 1M keys under `cargo bench`, 10k when run as a test.
fn key_count() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        1_000_000
    } else {
        10_000
    }
}

fn keys(prefix: &str, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("{prefix}:{i}").into_bytes())
        .collect()
}

fn build_table(keys: &[Vec<u8>]) -> KeyTable {
    let mut t = KeyTable::new();
    for k in keys {
        t.insert(Entry::new(k, NewValue::Str(VALUE), None));
    }
    t
}

fn build_map<S: std::hash::BuildHasher + Default>(
    keys: &[Vec<u8>],
) -> HashMap<Vec<u8>, Vec<u8>, S> {
    let mut m = HashMap::default();
    for k in keys {
        m.insert(k.clone(), VALUE.to_vec());
    }
    m
}

type SipMap = HashMap<Vec<u8>, Vec<u8>>;
type AMap = HashMap<Vec<u8>, Vec<u8>, ahash::RandomState>;

fn memory(n: usize) {
    let hit = keys("key", n);
    // Warm the hasher's OnceLock so it is not counted.
    hash_key(b"");
    let before = usage();
    let t = build_table(&hit);
    let after = usage();
    report("KeyTable + Entry", before, after, n);
    let slots = t.overhead_bytes();
    println!(
        "memory   of which slot arrays          {:>6.1} B/key ({} slots for {} keys, load {:.2}); entry blocks {:.1} B/key",
        slots as f64 / n as f64,
        t.capacity(),
        t.len(),
        t.len() as f64 / t.capacity() as f64,
        (after.requested - before.requested - slots) as f64 / n as f64,
    );
    drop(t);
    let before = usage();
    let m: SipMap = build_map(&hit);
    let after = usage();
    report("HashMap<Vec<u8>, Vec<u8>>", before, after, n);
    drop(m);
}

// ---------------------------------------------------------------------------
// Timings
// ---------------------------------------------------------------------------

fn table_benches(c: &mut Criterion) {
    let n = key_count();
    let hit = keys("key", n);
    let miss = keys("miss", n);
    let mut g = c.benchmark_group("keyspace");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));

    g.bench_function(BenchmarkId::new("insert", "KeyTable"), |b| {
        b.iter_with_large_drop(|| build_table(black_box(&hit)))
    });
    g.bench_function(BenchmarkId::new("insert", "HashMap-sip"), |b| {
        b.iter_with_large_drop(|| build_map::<std::hash::RandomState>(black_box(&hit)))
    });
    g.bench_function(BenchmarkId::new("insert", "HashMap-ahash"), |b| {
        b.iter_with_large_drop(|| build_map::<ahash::RandomState>(black_box(&hit)))
    });

    let table = build_table(&hit);
    let sip: SipMap = build_map(&hit);
    let ahm: AMap = build_map(&hit);
    for (name, probe) in [("lookup_hit", &hit), ("lookup_miss", &miss)] {
        g.bench_function(BenchmarkId::new(name, "KeyTable"), |b| {
            b.iter(|| {
                let mut found = 0usize;
                for k in probe {
                    found += table.get(black_box(k), hash_key(k)).is_some() as usize;
                }
                found
            })
        });
        g.bench_function(BenchmarkId::new(name, "HashMap-sip"), |b| {
            b.iter(|| {
                let mut found = 0usize;
                for k in probe {
                    found += sip.contains_key(black_box(k)) as usize;
                }
                found
            })
        });
        g.bench_function(BenchmarkId::new(name, "HashMap-ahash"), |b| {
            b.iter(|| {
                let mut found = 0usize;
                for k in probe {
                    found += ahm.contains_key(black_box(k)) as usize;
                }
                found
            })
        });
    }

    g.bench_function(BenchmarkId::new("scan_full", "KeyTable"), |b| {
        b.iter(|| {
            let mut seen = 0usize;
            let mut cursor = 0;
            loop {
                cursor = table.scan(cursor, |e| seen += e.key().len());
                if cursor == 0 {
                    break seen;
                }
            }
        })
    });
    g.bench_function(BenchmarkId::new("iter_full", "KeyTable"), |b| {
        b.iter(|| table.iter().map(|e| e.key().len()).sum::<usize>())
    });
    g.bench_function(BenchmarkId::new("iter_full", "HashMap-sip"), |b| {
        b.iter(|| sip.keys().map(Vec::len).sum::<usize>())
    });
    drop((table, sip, ahm));

    g.bench_function(BenchmarkId::new("remove", "KeyTable"), |b| {
        b.iter_batched(
            || build_table(&hit),
            |mut t| {
                for k in &hit {
                    black_box(t.remove(k, hash_key(k)));
                }
                t
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function(BenchmarkId::new("remove", "HashMap-sip"), |b| {
        b.iter_batched(
            || build_map::<std::hash::RandomState>(&hit),
            |mut m| {
                for k in &hit {
                    black_box(m.remove(k));
                }
                m
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function(BenchmarkId::new("remove", "HashMap-ahash"), |b| {
        b.iter_batched(
            || build_map::<ahash::RandomState>(&hit),
            |mut m| {
                for k in &hit {
                    black_box(m.remove(k));
                }
                m
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn main() {
    memory(key_count());
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    table_benches(&mut c);
    c.final_summary();
}
