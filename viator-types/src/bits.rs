//! Bit kernels for the bitmap commands (Redis's `bitops.c`): population
//! count, first set/clear bit, BITOP over byte slices, and the BITFIELD
//! integer reads, writes and overflow rules.
//!
//! Bits are numbered as Redis numbers them: bit 0 is the most significant
//! bit of the first byte, so a bitmap reads left to right and a field that
//! happens to be byte aligned is a big-endian integer.
//!
//! The two kernels that must run at memory speed on a 512 MB string,
//! [`popcount`] and [`bitop`], work on whole 64-bit words (or on byte loops
//! that the compiler turns into SIMD) with no per-byte branch; BITOP
//! processes the result in cache-sized blocks, applying every source to a
//! block before moving on, so that the result is written once and each
//! source read once, like Redis's single pass.
//!
//! [`popcount`] picks, once per call, an AVX2 build of the same safe loop
//! when the CPU has it: the default x86-64 target has no `popcnt`
//! instruction, and the AVX2 build counts 32 bytes per step with
//! `vpshufb`. The benchmark `benches/bits.rs` measures both.

/// Number of bits set in `bytes`.
pub fn popcount(bytes: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above), the one
            // requirement of a `#[target_feature(enable = "avx2")]` function.
            return unsafe { popcount_avx2(bytes) };
        }
    }
    popcount_portable(bytes)
}

/// [`popcount`] compiled for AVX2: the same safe loop, which the compiler
/// vectorizes with 256-bit registers.
///
/// # Safety
///
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn popcount_avx2(bytes: &[u8]) -> u64 {
    popcount_portable(bytes)
}

/// [`popcount`] for any CPU: eight bytes at a time in four independent
/// counters, so that no addition waits for the one before it.
#[inline(always)]
pub fn popcount_portable(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(32);
    let mut c = [0u64; 4];
    for ch in &mut chunks {
        for (k, w) in ch.chunks_exact(8).enumerate() {
            c[k] += u64::from(word(w).count_ones());
        }
    }
    let mut n = c[0] + c[1] + c[2] + c[3];
    for &b in chunks.remainder() {
        n += u64::from(b.count_ones());
    }
    n
}

/// Eight bytes as a native-endian word (the order does not matter for
/// counting or for bitwise operations).
#[inline(always)]
fn word(w: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(w);
    u64::from_ne_bytes(a)
}

/// Position of the first bit equal to `bit` in `bytes` (bit 0 is the most
/// significant bit of the first byte), `None` if there is none.
///
/// Whole words that cannot hold it (all zeros when looking for a one, all
/// ones when looking for a zero) are skipped eight bytes at a time.
pub fn first_bit(bytes: &[u8], bit: bool) -> Option<u64> {
    let skip = if bit { 0u64 } else { u64::MAX };
    let mut chunks = bytes.chunks_exact(8);
    let mut pos = 0u64;
    for ch in &mut chunks {
        let mut a = [0u8; 8];
        a.copy_from_slice(ch);
        let w = u64::from_be_bytes(a);
        if w != skip {
            let x = if bit { w } else { !w };
            return Some(pos + u64::from(x.leading_zeros()));
        }
        pos += 64;
    }
    for &b in chunks.remainder() {
        let x = if bit { b } else { !b };
        if x != 0 {
            return Some(pos + u64::from(x.leading_zeros()));
        }
        pos += 8;
    }
    None
}

/// Value of bit `offset` of `bytes`; bits past the end are 0.
pub fn get_bit(bytes: &[u8], offset: u64) -> bool {
    let byte = offset >> 3;
    usize::try_from(byte)
        .ok()
        .and_then(|i| bytes.get(i))
        .is_some_and(|&b| b & (0x80 >> (offset & 7)) != 0)
}

// ---------------------------------------------------------------------------
// BITOP
// ---------------------------------------------------------------------------

/// A BITOP operation. Every one reads a source shorter than the longest as
/// if it were padded with zero bytes, and the result is as long as the
/// longest source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    /// Bits set in every source.
    And,
    /// Bits set in any source.
    Or,
    /// Bits set in an odd number of sources.
    Xor,
    /// The complement of the one source.
    Not,
    /// Bits set in the first source and in none of the others (8.2).
    Diff,
    /// Bits set in one of the others and not in the first (8.2).
    Diff1,
    /// Bits set in the first source and in one of the others (8.2).
    AndOr,
    /// Bits set in exactly one source (8.2).
    One,
}

impl BitOp {
    /// The operation named `word`, ignoring ASCII case.
    pub fn parse(word: &[u8]) -> Option<BitOp> {
        const NAMES: [(&str, BitOp); 8] = [
            ("and", BitOp::And),
            ("or", BitOp::Or),
            ("xor", BitOp::Xor),
            ("not", BitOp::Not),
            ("diff", BitOp::Diff),
            ("diff1", BitOp::Diff1),
            ("andor", BitOp::AndOr),
            ("one", BitOp::One),
        ];
        NAMES
            .iter()
            .find(|(n, _)| word.eq_ignore_ascii_case(n.as_bytes()))
            .map(|&(_, op)| op)
    }

    /// The upper-case name, as Redis's error messages spell it.
    pub fn name(self) -> &'static str {
        match self {
            BitOp::And => "AND",
            BitOp::Or => "OR",
            BitOp::Xor => "XOR",
            BitOp::Not => "NOT",
            BitOp::Diff => "DIFF",
            BitOp::Diff1 => "DIFF1",
            BitOp::AndOr => "ANDOR",
            BitOp::One => "ONE",
        }
    }

    /// Whether the operation is "first source against the union of the
    /// others" (DIFF, DIFF1, ANDOR), which needs at least two sources.
    pub fn needs_two(self) -> bool {
        matches!(self, BitOp::Diff | BitOp::Diff1 | BitOp::AndOr)
    }
}

/// Bytes of the result computed at a time: every source is applied to one
/// block while it sits in the L1 cache.
const BLOCK: usize = 4096;

/// Computes `op` over `srcs` (missing keys are empty slices) into a new
/// buffer as long as the longest source. An empty result (every source
/// empty) is an empty vector.
///
/// NOT uses only the first source; the callers check the arity rules.
pub fn bitop(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![0u8; maxlen];
    bitop_into(op, srcs, &mut out);
    out
}

/// [`bitop`] into a buffer the caller provides, which must be as long as
/// the longest source (every byte of it is written). The benchmark uses it
/// to tell the kernel's cost from the cost of faulting in a fresh result.
///
/// # Panics
///
/// If `out` is shorter than the longest source.
pub fn bitop_into(op: BitOp, srcs: &[&[u8]], out: &mut [u8]) {
    let maxlen = out.len();
    assert!(
        srcs.iter().all(|s| s.len() <= maxlen),
        "result buffer too short"
    );
    let Some((&first, rest)) = srcs.split_first() else {
        out.fill(0);
        return;
    };
    let mut scratch = [0u8; BLOCK];
    let mut start = 0;
    while start < maxlen {
        let end = (start + BLOCK).min(maxlen);
        let dst = &mut out[start..end];
        let s0 = window(first, start, end);
        match op {
            BitOp::And => {
                copy_into(dst, s0);
                for s in rest {
                    let s = window(s, start, end);
                    and_into(dst, s);
                    dst[s.len()..].fill(0);
                }
            }
            BitOp::Or => {
                copy_into(dst, s0);
                for s in rest {
                    or_into(dst, window(s, start, end));
                }
            }
            BitOp::Xor => {
                copy_into(dst, s0);
                for s in rest {
                    xor_into(dst, window(s, start, end));
                }
            }
            BitOp::Not => {
                copy_into(dst, s0);
                for d in dst.iter_mut() {
                    *d = !*d;
                }
            }
            BitOp::Diff | BitOp::Diff1 | BitOp::AndOr => {
                // The union of the other sources, then combined with the
                // first.
                dst.fill(0);
                for s in rest {
                    or_into(dst, window(s, start, end));
                }
                let (head, tail) = dst.split_at_mut(s0.len());
                match op {
                    BitOp::Diff => {
                        for (d, &x) in head.iter_mut().zip(s0) {
                            *d = x & !*d;
                        }
                        tail.fill(0);
                    }
                    BitOp::Diff1 => {
                        for (d, &x) in head.iter_mut().zip(s0) {
                            *d &= !x;
                        }
                    }
                    _ => {
                        for (d, &x) in head.iter_mut().zip(s0) {
                            *d &= x;
                        }
                        tail.fill(0);
                    }
                }
            }
            BitOp::One => {
                // Bits seen in two sources or more go to `common`; the
                // result is the XOR of all without them.
                copy_into(dst, s0);
                let common = &mut scratch[..dst.len()];
                common.fill(0);
                for s in rest {
                    let s = window(s, start, end);
                    for ((d, c), &x) in dst.iter_mut().zip(common.iter_mut()).zip(s) {
                        *c |= *d & x;
                        *d ^= x;
                    }
                }
                for (d, &c) in dst.iter_mut().zip(common.iter()) {
                    *d &= !c;
                }
            }
        }
        start = end;
    }
}

/// The part of `s` within `start..end`, possibly shorter or empty.
#[inline(always)]
fn window(s: &[u8], start: usize, end: usize) -> &[u8] {
    s.get(start..end.min(s.len())).unwrap_or(&[])
}

/// Copies `s` to the start of `dst` and zeroes the rest.
#[inline(always)]
fn copy_into(dst: &mut [u8], s: &[u8]) {
    let (head, tail) = dst.split_at_mut(s.len());
    head.copy_from_slice(s);
    tail.fill(0);
}

#[inline(always)]
fn and_into(dst: &mut [u8], s: &[u8]) {
    for (d, &x) in dst.iter_mut().zip(s) {
        *d &= x;
    }
}

#[inline(always)]
fn or_into(dst: &mut [u8], s: &[u8]) {
    for (d, &x) in dst.iter_mut().zip(s) {
        *d |= x;
    }
}

#[inline(always)]
fn xor_into(dst: &mut [u8], s: &[u8]) {
    for (d, &x) in dst.iter_mut().zip(s) {
        *d ^= x;
    }
}

// ---------------------------------------------------------------------------
// BITFIELD
// ---------------------------------------------------------------------------

/// What BITFIELD's SET and INCRBY do when a value does not fit its field
/// (`OVERFLOW WRAP|SAT|FAIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Wrap around, as two's complement arithmetic does (the default).
    #[default]
    Wrap,
    /// Saturate at the field's minimum or maximum.
    Sat,
    /// Do nothing and reply nil.
    Fail,
}

/// The 9 bytes from byte `byte` on (zero past the end), big-endian in the
/// low 72 bits: any field of up to 64 bits starting in byte `byte` lies in
/// them.
fn window72(bytes: &[u8], byte: u64) -> u128 {
    let mut acc = 0u128;
    for i in 0..9u64 {
        let b = byte
            .checked_add(i)
            .and_then(|j| usize::try_from(j).ok())
            .and_then(|j| bytes.get(j))
            .copied()
            .unwrap_or(0);
        acc = (acc << 8) | u128::from(b);
    }
    acc
}

/// Mask of the low `bits` bits (1..=64).
fn low_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// The `bits`-bit (1..=64) unsigned field at bit `offset`; bits past the
/// end of `bytes` read as 0.
pub fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    let acc = window72(bytes, offset >> 3);
    let shift = 72 - (offset & 7) as u32 - bits;
    (acc >> shift) as u64 & low_mask(bits)
}

/// The `bits`-bit (1..=64) two's complement field at bit `offset`.
pub fn get_signed(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let u = get_unsigned(bytes, offset, bits);
    if bits < 64 && u & (1u64 << (bits - 1)) != 0 {
        (u | (u64::MAX << bits)) as i64
    } else {
        u as i64
    }
}

/// Writes the low `bits` bits (1..=64) of `value` at bit `offset`. The
/// caller made `bytes` long enough for the field's last bit; bytes of the
/// 9-byte window past the end hold no bit of the field and are left alone.
pub fn set_field(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    let byte = offset >> 3;
    let shift = 72 - (offset & 7) as u32 - bits;
    let mask = u128::from(low_mask(bits)) << shift;
    let acc = window72(bytes, byte);
    let acc = (acc & !mask) | ((u128::from(value) << shift) & mask);
    for i in 0..9u64 {
        let Some(j) = byte.checked_add(i).and_then(|j| usize::try_from(j).ok()) else {
            break;
        };
        match bytes.get_mut(j) {
            Some(b) => *b = (acc >> (8 * (8 - i))) as u8,
            None => break,
        }
    }
}

/// `value + incr` in an unsigned field of `bits` bits (1..=63), by Redis's
/// `checkUnsignedBitfieldOverflow` rules: the new value, or `None` when it
/// does not fit and `ow` is FAIL. A SET is an increment of 0 from the value
/// given (whose `u64` form may be out of range).
pub fn unsigned_add(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = low_mask(bits);
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = value.wrapping_neg() as i64;
    let over = value > max || (incr > 0 && incr > maxincr);
    let under = !over && incr < 0 && incr < minincr;
    if !over && !under {
        return Some(value.wrapping_add(incr as u64));
    }
    match ow {
        Overflow::Fail => None,
        Overflow::Sat => Some(if over { max } else { 0 }),
        Overflow::Wrap => Some(value.wrapping_add(incr as u64) & max),
    }
}

/// `value + incr` in a two's complement field of `bits` bits (1..=64), by
/// Redis's `checkSignedBitfieldOverflow` rules; `None` when it does not fit
/// and `ow` is FAIL.
pub fn signed_add(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max: i64 = if bits >= 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    // These can overflow, but are only used once `value` is known to be in
    // range, where they do not (as in Redis).
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let over =
        value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr);
    let under = !over
        && (value < min
            || (bits != 64 && incr < minincr)
            || (value < 0 && incr < 0 && incr < minincr));
    if !over && !under {
        return Some(value.wrapping_add(incr));
    }
    match ow {
        Overflow::Fail => None,
        Overflow::Sat => Some(if over { max } else { min }),
        Overflow::Wrap => {
            let mut c = (value as u64).wrapping_add(incr as u64);
            if bits < 64 {
                let mask = u64::MAX << bits;
                if c & (1u64 << (bits - 1)) != 0 {
                    c |= mask;
                } else {
                    c &= !mask;
                }
            }
            Some(c as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn model_bit(b: &[u8], i: usize) -> bool {
        b.get(i / 8).is_some_and(|&x| x & (0x80 >> (i % 8)) != 0)
    }

    fn model_op(op: BitOp, srcs: &[Vec<u8>]) -> Vec<u8> {
        let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
        let at = |s: &Vec<u8>, j: usize| s.get(j).copied().unwrap_or(0);
        (0..maxlen)
            .map(|j| {
                let first = at(&srcs[0], j);
                let others = srcs[1..].iter().fold(0u8, |a, s| a | at(s, j));
                match op {
                    BitOp::And => srcs.iter().fold(0xff, |a, s| a & at(s, j)),
                    BitOp::Or => srcs.iter().fold(0, |a, s| a | at(s, j)),
                    BitOp::Xor => srcs.iter().fold(0, |a, s| a ^ at(s, j)),
                    BitOp::Not => !first,
                    BitOp::Diff => first & !others,
                    BitOp::Diff1 => !first & others,
                    BitOp::AndOr => first & others,
                    BitOp::One => (0..8).fold(0u8, |acc, bit| {
                        let n = srcs.iter().filter(|s| at(s, j) & (1 << bit) != 0).count();
                        if n == 1 { acc | (1 << bit) } else { acc }
                    }),
                }
            })
            .collect()
    }

    #[test]
    fn popcount_counts_every_length() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 37 + 11) as u8).collect();
        for len in 0..data.len() {
            let want: u64 = data[..len].iter().map(|b| u64::from(b.count_ones())).sum();
            assert_eq!(popcount(&data[..len]), want);
            assert_eq!(popcount_portable(&data[..len]), want);
        }
    }

    #[test]
    fn first_bit_finds_ones_and_zeros() {
        assert_eq!(first_bit(&[], true), None);
        assert_eq!(first_bit(&[], false), None);
        assert_eq!(first_bit(&[0xff, 0xf0], true), Some(0));
        assert_eq!(first_bit(&[0xff, 0xf0], false), Some(12));
        assert_eq!(first_bit(&[0xff; 20], false), None);
        let mut v = vec![0u8; 20];
        v[17] = 0x01;
        assert_eq!(first_bit(&v, true), Some(17 * 8 + 7));
    }

    #[test]
    fn fields_read_and_write_big_endian_bits() {
        let mut b = vec![0u8; 2];
        // Redis's example: a 5-bit 23 at offset 7 is 00000001 01110000.
        set_field(&mut b, 7, 5, 23);
        assert_eq!(b, [0b0000_0001, 0b0111_0000]);
        assert_eq!(get_unsigned(&b, 7, 5), 23);
        assert_eq!(get_signed(&b, 7, 5), -9);
        let mut b = vec![0u8; 9];
        set_field(&mut b, 3, 64, 0x8000_0000_0000_0001);
        assert_eq!(get_unsigned(&b, 3, 64), 0x8000_0000_0000_0001);
        assert_eq!(get_signed(&b, 3, 64), i64::MIN + 1);
        // Past the end reads as zeros.
        assert_eq!(get_unsigned(&[0xff], 4, 8), 0xf0);
        assert_eq!(get_unsigned(&[0xff], u64::MAX - 70, 64), 0);
    }

    #[test]
    fn overflow_rules_follow_redis() {
        assert_eq!(unsigned_add(250, 10, 8, Overflow::Wrap), Some(4));
        assert_eq!(unsigned_add(250, 10, 8, Overflow::Sat), Some(255));
        assert_eq!(unsigned_add(250, 10, 8, Overflow::Fail), None);
        assert_eq!(unsigned_add(5, -10, 8, Overflow::Sat), Some(0));
        assert_eq!(unsigned_add(5, -10, 8, Overflow::Wrap), Some(251));
        assert_eq!(unsigned_add(u64::MAX, 0, 8, Overflow::Wrap), Some(255));
        assert_eq!(signed_add(120, 10, 8, Overflow::Wrap), Some(-126));
        assert_eq!(signed_add(120, 10, 8, Overflow::Sat), Some(127));
        assert_eq!(signed_add(-120, -10, 8, Overflow::Sat), Some(-128));
        assert_eq!(signed_add(-120, -10, 8, Overflow::Fail), None);
        assert_eq!(signed_add(i64::MAX, 1, 64, Overflow::Wrap), Some(i64::MIN));
        assert_eq!(signed_add(i64::MAX, 1, 64, Overflow::Sat), Some(i64::MAX));
        assert_eq!(signed_add(i64::MIN, -1, 64, Overflow::Sat), Some(i64::MIN));
        assert_eq!(signed_add(-1, i64::MIN, 64, Overflow::Fail), None);
        assert_eq!(
            signed_add(1, i64::MIN, 64, Overflow::Fail),
            Some(i64::MIN + 1)
        );
        assert_eq!(signed_add(200, 0, 8, Overflow::Wrap), Some(-56));
    }

    proptest! {
        #[test]
        fn bitop_matches_a_byte_model(
            op in prop_oneof![
                Just(BitOp::And), Just(BitOp::Or), Just(BitOp::Xor), Just(BitOp::Not),
                Just(BitOp::Diff), Just(BitOp::Diff1), Just(BitOp::AndOr), Just(BitOp::One),
            ],
            srcs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..9000), 1..5),
        ) {
            let srcs = if op == BitOp::Not { srcs[..1].to_vec() } else { srcs };
            let refs: Vec<&[u8]> = srcs.iter().map(|s| s.as_slice()).collect();
            let want = model_op(op, &srcs);
            prop_assert_eq!(&bitop(op, &refs), &want);
            // Into a buffer holding garbage: every byte is written.
            let mut dirty = vec![0xa5u8; want.len()];
            bitop_into(op, &refs, &mut dirty);
            prop_assert_eq!(dirty, want);
        }

        #[test]
        fn first_bit_matches_a_bit_model(bytes in prop::collection::vec(
            prop_oneof![Just(0u8), Just(0xffu8), any::<u8>()], 0..64), bit: bool) {
            let want = (0..bytes.len() * 8).find(|&i| model_bit(&bytes, i) == bit);
            prop_assert_eq!(first_bit(&bytes, bit), want.map(|i| i as u64));
        }

        #[test]
        fn fields_match_a_bit_model(
            bytes in prop::collection::vec(any::<u8>(), 0..12),
            offset in 0u64..100,
            bits in 1u32..=64,
            value: u64,
        ) {
            let want = (0..bits as u64).fold(0u64, |a, i| {
                (a << 1) | u64::from(model_bit(&bytes, (offset + i) as usize))
            });
            prop_assert_eq!(get_unsigned(&bytes, offset, bits), want);
            let need = ((offset + u64::from(bits) - 1) / 8 + 1) as usize;
            let mut grown = bytes.clone();
            if grown.len() < need {
                grown.resize(need, 0);
            }
            let before = grown.clone();
            set_field(&mut grown, offset, bits, value);
            prop_assert_eq!(get_unsigned(&grown, offset, bits), value & low_mask(bits));
            for i in 0..grown.len() * 8 {
                let inside = (i as u64) >= offset && (i as u64) < offset + u64::from(bits);
                if !inside {
                    prop_assert_eq!(model_bit(&grown, i), model_bit(&before, i));
                }
            }
        }
    }
}
