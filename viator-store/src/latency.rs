//! Per-command latency histograms for INFO latencystats, laid out exactly
//! as the HdrHistogram Redis uses (lowest value 1 ns, highest 1 s, two
//! significant figures), so that the percentiles INFO prints are the same
//! numbers Redis would print for the same durations.
//!
//! Why not the `hdrhistogram` crate: recording must work through a shared
//! reference from every worker thread without a lock on the command path;
//! here each bucket is an atomic counter and a record is one relaxed
//! `fetch_add`. The bucket arithmetic is HdrHistogram's, reimplemented.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Smallest value tracked, in nanoseconds (Redis's
/// LATENCY_HISTOGRAM_MIN_VALUE).
pub const MIN_VALUE: u64 = 1;
/// Largest value tracked, in nanoseconds (LATENCY_HISTOGRAM_MAX_VALUE).
pub const MAX_VALUE: u64 = 1_000_000_000;

/// 2 significant figures: sub-buckets of 256 (HdrHistogram's
/// `sub_bucket_count` for a precision of 2).
const SUB_BUCKET_COUNT_MAGNITUDE: u32 = 8;
const SUB_BUCKET_HALF_COUNT_MAGNITUDE: u32 = SUB_BUCKET_COUNT_MAGNITUDE - 1;
const SUB_BUCKET_HALF_COUNT: u64 = 1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE;
const SUB_BUCKET_MASK: u64 = (1 << SUB_BUCKET_COUNT_MAGNITUDE) - 1;
/// Buckets needed to reach [`MAX_VALUE`] from 256 by doublings, plus one.
const BUCKET_COUNT: usize = 23;
const COUNTS_LEN: usize = (BUCKET_COUNT + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE;

fn bucket_index(v: u64) -> u32 {
    let pow2ceiling = 64 - (v | SUB_BUCKET_MASK).leading_zeros();
    pow2ceiling - (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1)
}

fn counts_index(v: u64) -> usize {
    let b = bucket_index(v);
    let sub = v >> b;
    (((b as u64 + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + sub - SUB_BUCKET_HALF_COUNT) as usize
}

/// The lowest value that lands in counts slot `i`.
fn value_at_index(i: usize) -> u64 {
    let mut b = (i >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) as i64 - 1;
    let mut sub = (i as u64 & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
    if b < 0 {
        sub -= SUB_BUCKET_HALF_COUNT;
        b = 0;
    }
    sub << b
}

/// The highest value counted as equal to `v`.
fn highest_equivalent(v: u64) -> u64 {
    let b = bucket_index(v);
    let sub = v >> b;
    let lowest = sub << b;
    let adjusted = if sub >= (1 << SUB_BUCKET_COUNT_MAGNITUDE) {
        b + 1
    } else {
        b
    };
    lowest + (1u64 << adjusted) - 1
}

/// The lowest value counted as equal to `v`.
fn lowest_equivalent(v: u64) -> u64 {
    let b = bucket_index(v);
    (v >> b) << b
}

/// A latency histogram, allocated on its first record (a command nobody
/// runs costs one pointer).
#[derive(Debug, Default)]
pub struct Histogram {
    counts: OnceLock<Box<[AtomicU64]>>,
}

impl Histogram {
    /// Records one duration in nanoseconds, clamped to the tracked range
    /// as Redis's `updateCommandLatencyHistogram` does.
    pub fn record(&self, nanos: u64) {
        let v = nanos.clamp(MIN_VALUE, MAX_VALUE);
        let counts = self
            .counts
            .get_or_init(|| (0..COUNTS_LEN).map(|_| AtomicU64::new(0)).collect());
        counts[counts_index(v)].fetch_add(1, Ordering::Relaxed);
    }

    /// Number of recorded values (a sum over the buckets: the command path
    /// pays for one counter, INFO for the rest).
    pub fn count(&self) -> u64 {
        self.counts
            .get()
            .map_or(0, |c| c.iter().map(|n| n.load(Ordering::Relaxed)).sum())
    }

    /// HdrHistogram's `hdr_value_at_percentile`: the highest value
    /// equivalent to the one at `percentile` (0 to 100), in nanoseconds.
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let Some(counts) = self.counts.get() else {
            return 0;
        };
        let total = self.count();
        let p = percentile.min(100.0);
        let wanted = (((p / 100.0) * total as f64) + 0.5) as u64;
        let wanted = wanted.max(1);
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c.load(Ordering::Relaxed);
            if seen >= wanted {
                let v = value_at_index(i);
                return if percentile == 0.0 {
                    lowest_equivalent(v)
                } else {
                    highest_equivalent(v)
                };
            }
        }
        0
    }

    /// Forgets every value (CONFIG RESETSTAT).
    pub fn reset(&self) {
        if let Some(counts) = self.counts.get() {
            for c in counts.iter() {
                c.store(0, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_covers_the_range() {
        assert!(counts_index(MAX_VALUE) < COUNTS_LEN);
        assert_eq!(counts_index(1), 1);
        assert_eq!(value_at_index(counts_index(255)), 255);
        // Exact below 256, then buckets of 2, 4, ...
        assert_eq!(highest_equivalent(100), 100);
        assert_eq!(highest_equivalent(300), 301);
        assert_eq!(highest_equivalent(1000), 1003);
        assert_eq!(highest_equivalent(5000), 5023);
    }

    #[test]
    fn percentiles_as_redis_prints_them() {
        // Redis records whole microseconds times 1000; a command faster
        // than a microsecond is recorded as 1 ns: INFO says p50=0.001.
        let h = Histogram::default();
        for _ in 0..90 {
            h.record(0);
        }
        for _ in 0..10 {
            h.record(1000);
        }
        assert_eq!(h.value_at_percentile(50.0), 1);
        assert_eq!(h.value_at_percentile(99.0), 1003);
        assert_eq!(h.value_at_percentile(99.9), 1003);
        h.record(3_000_000_000);
        assert_eq!(h.value_at_percentile(100.0), highest_equivalent(MAX_VALUE));
        h.reset();
        assert_eq!(h.count(), 0);
    }
}
