//! Time: unix milliseconds, and the 24-bit access clocks of keys (LRU
//! seconds, LFU counters) that OBJECT IDLETIME, OBJECT FREQ and eviction
//! read.

use std::time::{SystemTime, UNIX_EPOCH};

use viator_types::entry::CLOCK_MAX;

/// The current unix time in milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The current unix time in microseconds.
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// The LRU clock at `now_ms`: seconds, wrapping at 24 bits (Redis's
/// `LRU_CLOCK` with a one-second resolution).
pub fn lru_clock(now_ms: i64) -> u32 {
    ((now_ms / 1000) as u64 & u64::from(CLOCK_MAX)) as u32
}

/// Milliseconds since a key with LRU clock `clock` was last used.
pub fn lru_idle_ms(clock: u32, now_ms: i64) -> u64 {
    let now = lru_clock(now_ms);
    let secs = if now >= clock {
        now - clock
    } else {
        (CLOCK_MAX - clock) + now
    };
    u64::from(secs) * 1000
}

/// The LFU minutes clock: 16 bits of unix minutes.
fn lfu_minutes(now_ms: i64) -> u32 {
    ((now_ms / 60_000) & 0xffff) as u32
}

/// Initial LFU counter of new keys (Redis's LFU_INIT_VAL).
pub const LFU_INIT_VAL: u32 = 5;

/// A fresh LFU clock: current minutes and the initial counter.
pub fn lfu_new(now_ms: i64) -> u32 {
    (lfu_minutes(now_ms) << 8) | LFU_INIT_VAL
}

/// The LFU counter of `clock` after decaying it for the minutes elapsed,
/// one step per `decay_time` minutes (Redis's `LFUDecrAndReturn`).
pub fn lfu_decayed_counter(clock: u32, now_ms: i64, decay_time: u32) -> u32 {
    let last = clock >> 8;
    let counter = clock & 0xff;
    let now = lfu_minutes(now_ms);
    let elapsed = if now >= last {
        now - last
    } else {
        65535 - last + now
    };
    let periods = elapsed.checked_div(decay_time).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// The LFU clock after one access: decay, then a logarithmic increment
/// (Redis's `updateLFU`). `r` is a random number in [0, 1).
pub fn lfu_touch(clock: u32, now_ms: i64, log_factor: u32, decay_time: u32, r: f64) -> u32 {
    let mut counter = lfu_decayed_counter(clock, now_ms, decay_time);
    if counter < 255 {
        let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
        let p = 1.0 / (base * log_factor as f64 + 1.0);
        if r < p {
            counter += 1;
        }
    }
    (lfu_minutes(now_ms) << 8) | counter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_idle_counts_seconds_and_wraps() {
        let now = 1_700_000_000_000i64;
        let c = lru_clock(now - 5000);
        assert_eq!(lru_idle_ms(c, now), 5000);
    }

    #[test]
    fn lfu_counter_grows_and_decays() {
        let now = 1_700_000_000_000i64;
        let mut c = lfu_new(now);
        assert_eq!(c & 0xff, LFU_INIT_VAL);
        for _ in 0..10 {
            c = lfu_touch(c, now, 10, 1, 0.0);
        }
        assert_eq!(c & 0xff, LFU_INIT_VAL + 10);
        assert_eq!(
            lfu_decayed_counter(c, now + 3 * 60_000, 1),
            LFU_INIT_VAL + 7
        );
    }
}
