//! HyperLogLog, byte for byte as Redis's `hyperloglog.c` lays it out.
//!
//! An HLL is a plain string value, so its bytes are what GET, DUMP and
//! replication carry: they must be Redis's for the same inputs. The layout:
//!
//! ```text
//! +------+---+-----+----------+---------------------------//
//! | HYLL | E | N/U | Cardin.  | registers (dense or sparse)
//! +------+---+-----+----------+---------------------------//
//!  0..4   4   5..8   8..16     16..
//! ```
//!
//! `E` is the encoding ([`DENSE`] or [`SPARSE`]); `Cardin.` is the last
//! computed cardinality, little endian, whose top bit (the MSB of byte 15)
//! marks it stale.
//!
//! * **Dense**: 16384 registers of 6 bits, packed from the least significant
//!   bit of each byte up (12288 bytes, 12304 with the header).
//! * **Sparse**: run-length opcodes. `00xxxxxx` (ZERO) is 1-64 zero
//!   registers; `01xxxxxx yyyyyyyy` (XZERO) is 1-16384 zero registers;
//!   `1vvvvvxx` (VAL) is 1-4 registers of value 1-32. A new HLL is the
//!   18 bytes `HYLL 01 000000 0000000000000000 7fff` (one XZERO of 16384).
//!
//! Adding an element hashes it with MurmurHash64A (seed `0xadc83b19`): the
//! low 14 bits pick the register, and the run of zeros above them (plus one)
//! is the value the register is raised to. A sparse HLL is edited in place
//! exactly as Redis's `hllSparseSet` does (split, then merge adjacent VAL
//! opcodes in a window of five) and becomes dense when a value exceeds 32
//! or when the edit would take it past `hll-sparse-max-bytes`.
//!
//! The estimator is Otmar Ertl's improved one ("New cardinality estimation
//! algorithms for HyperLogLog sketches", arXiv:1702.01284) computed from the
//! register histogram, with Redis's order of floating point operations so
//! that the rounded estimate is Redis's.
//!
//! Every function that reads registers checks the sparse opcodes: a run
//! that would go past 16384 registers, or that stops short of it, is
//! [`Corrupt`]: the command layer answers Redis's INVALIDOBJ error instead
//! of reading or writing out of bounds.

use std::sync::atomic::{AtomicBool, Ordering};

/// Bits of the hash that pick a register.
pub const HLL_P: u32 = 14;
/// Bits of the hash left for the run of zeros.
pub const HLL_Q: u32 = 64 - HLL_P;
/// Number of registers.
pub const REGISTERS: usize = 1 << HLL_P;
/// Mask of the register index.
const P_MASK: u64 = (REGISTERS as u64) - 1;
/// Bits of one dense register.
const BITS: usize = 6;
/// Largest register value.
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Bytes of the header.
pub const HDR_SIZE: usize = 16;
/// Bytes of a dense HLL, header included.
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
/// The dense encoding byte.
pub const DENSE: u8 = 0;
/// The sparse encoding byte.
pub const SPARSE: u8 = 1;
/// The highest valid encoding byte.
const MAX_ENCODING: u8 = 1;
/// Seed of the element hash.
const HASH_SEED: u64 = 0xadc8_3b19;
/// Largest value a sparse VAL opcode holds.
const SPARSE_VAL_MAX_VALUE: u8 = 32;
/// Longest run of a sparse VAL opcode.
const SPARSE_VAL_MAX_LEN: usize = 4;
/// Longest run of a sparse ZERO opcode.
const SPARSE_ZERO_MAX_LEN: usize = 64;
/// `0.5 / ln(2)`, the estimator's alpha for an infinite number of registers.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
/// The default `hll-sparse-max-bytes`.
pub const DEFAULT_SPARSE_MAX_BYTES: usize = 3000;

/// Whether the word-at-a-time paths are used for merging dense registers
/// (PFDEBUG SIMD ON/OFF). Both paths give the same result; the switch lets
/// a test compare them, as Redis's does for its AVX2 code.
static SIMD: AtomicBool = AtomicBool::new(true);

/// Turns the word-at-a-time merge on or off (PFDEBUG SIMD).
pub fn set_simd(on: bool) {
    SIMD.store(on, Ordering::Relaxed);
}

/// Whether the word-at-a-time merge is on.
pub fn simd() -> bool {
    SIMD.load(Ordering::Relaxed)
}

/// The registers or opcodes of an HLL do not describe 16384 registers
/// (Redis's "Corrupted HLL object detected").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Corrupted HLL object detected")
    }
}

impl std::error::Error for Corrupt {}

// ----------------------------------------------------------------- hashing

/// MurmurHash2, 64-bit version (`MurmurHash64A`), as Redis computes it:
/// little-endian word reads whatever the host, and the length mixed in as
/// a 64-bit product.
pub fn murmurhash64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    // Redis passes the length as a C int; lengths past i32::MAX wrap the
    // same way there (the elements of one command line never get there).
    let mut h = seed ^ (key.len() as i32 as i64 as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the length of its `000...1`
/// pattern (Redis's `hllPatLen`): at most `HLL_Q + 1`.
#[inline]
pub fn pat_len(element: &[u8]) -> (usize, u8) {
    let hash = murmurhash64a(element, HASH_SEED);
    let index = (hash & P_MASK) as usize;
    let rest = (hash >> HLL_P) | (1u64 << HLL_Q);
    (index, 1 + rest.trailing_zeros() as u8)
}

// ------------------------------------------------------------------ header

/// A new, empty HLL: sparse, one XZERO opcode covering every register.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_SIZE + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    let l = REGISTERS - 1;
    v.push(0x40 | (l >> 8) as u8);
    v.push((l & 0xff) as u8);
    v
}

/// Whether `bytes` passes Redis's `isHLLObjectOrReply` checks: long enough
/// for a header, the `HYLL` magic, a known encoding, and the exact length
/// for a dense HLL. (A sparse HLL's opcodes are checked when read.)
pub fn is_valid(bytes: &[u8]) -> bool {
    bytes.len() >= HDR_SIZE
        && &bytes[..4] == b"HYLL"
        && bytes[4] <= MAX_ENCODING
        && (bytes[4] != DENSE || bytes.len() == DENSE_SIZE)
}

/// The encoding byte of a valid HLL.
pub fn encoding(bytes: &[u8]) -> u8 {
    bytes[4]
}

/// The cached cardinality, if the cache is valid.
pub fn cached_card(bytes: &[u8]) -> Option<u64> {
    if bytes[15] & 0x80 != 0 {
        return None;
    }
    let mut card = [0u8; 8];
    card.copy_from_slice(&bytes[8..16]);
    Some(u64::from_le_bytes(card))
}

/// Stores a freshly computed cardinality (which also marks it valid, as
/// long as the top bit of the value is clear).
pub fn set_cached_card(bytes: &mut [u8], card: u64) {
    bytes[8..16].copy_from_slice(&card.to_le_bytes());
}

/// Marks the cached cardinality stale.
pub fn invalidate_cache(bytes: &mut [u8]) {
    bytes[15] |= 0x80;
}

// ------------------------------------------------------------------- dense

/// Dense register `i` of `regs` (the bytes after the header). The byte after
/// the last register is read as zero, as the terminator of Redis's sds
/// string is.
#[inline]
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = regs[byte] as u32;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
}

/// Sets dense register `i` to `val` (at most 63).
#[inline]
pub fn dense_put(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = val as u32;
    let b0 = &mut regs[byte];
    *b0 &= !((REGISTER_MAX as u32) << fb) as u8;
    *b0 |= (v << fb) as u8;
    if let Some(b1) = regs.get_mut(byte + 1) {
        *b1 &= !((REGISTER_MAX as u32) >> (8 - fb)) as u8;
        *b1 |= (v >> (8 - fb)) as u8;
    }
}

/// Raises dense register `i` to `count` if it is lower (`hllDenseSet`).
/// Returns whether it changed.
#[inline]
pub fn dense_set(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_put(regs, i, count);
        true
    } else {
        false
    }
}

/// The 16 registers packed in 12 bytes.
#[inline(always)]
fn unpack16(c: &[u8]) -> [u8; 16] {
    let w0 = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], 0, 0]);
    let w1 = u64::from_le_bytes([c[6], c[7], c[8], c[9], c[10], c[11], 0, 0]);
    let mut out = [0u8; 16];
    for k in 0..8 {
        out[k] = ((w0 >> (6 * k)) & 63) as u8;
        out[8 + k] = ((w1 >> (6 * k)) & 63) as u8;
    }
    out
}

/// Adds the histogram of dense registers to `histo`.
fn dense_histogram(regs: &[u8], histo: &mut [u32; 64]) {
    // Four histograms in turn, so that runs of equal registers (the
    // common case: mostly zeros) do not chain every increment on the one
    // before it.
    let mut h = [[0u32; 64]; 4];
    for c in regs.chunks_exact(12).take(REGISTERS / 16) {
        let r = unpack16(c);
        for (k, &v) in r.iter().enumerate() {
            h[k & 3][v as usize] += 1;
        }
    }
    for (i, slot) in histo.iter_mut().enumerate() {
        *slot += h[0][i] + h[1][i] + h[2][i] + h[3][i];
    }
}

/// Writes 16384 one-byte registers (each at most 63) as dense registers.
pub fn dense_compress(regs: &mut [u8], raw: &[u8; REGISTERS]) {
    for (out, r) in regs.chunks_exact_mut(3).zip(raw.chunks_exact(4)) {
        let w = (r[0] as u32 & 63)
            | (r[1] as u32 & 63) << 6
            | (r[2] as u32 & 63) << 12
            | (r[3] as u32 & 63) << 18;
        out.copy_from_slice(&w.to_le_bytes()[..3]);
    }
}

// ------------------------------------------------------------------ sparse

#[inline]
fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}

#[inline]
fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}

#[inline]
fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}

#[inline]
fn zero_len(b: u8) -> usize {
    (b & 0x3f) as usize + 1
}

#[inline]
fn xzero_len(b: u8, next: u8) -> usize {
    (((b & 0x3f) as usize) << 8 | next as usize) + 1
}

#[inline]
fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}

#[inline]
fn val_len(b: u8) -> usize {
    (b & 0x3) as usize + 1
}

#[inline]
fn val_op(val: u8, len: usize) -> u8 {
    ((val - 1) << 2 | (len as u8 - 1)) | 0x80
}

#[inline]
fn zero_op(len: usize) -> u8 {
    (len - 1) as u8
}

#[inline]
fn xzero_op(len: usize) -> [u8; 2] {
    let l = len - 1;
    [(l >> 8) as u8 | 0x40, (l & 0xff) as u8]
}

/// One decoded sparse opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// A run of zero registers (ZERO or XZERO).
    Zero {
        /// Registers covered.
        len: usize,
        /// Whether it is the two-byte XZERO form.
        long: bool,
    },
    /// A run of registers holding `value`.
    Val {
        /// The registers' value.
        value: u8,
        /// Registers covered.
        len: usize,
    },
}

/// Walks the sparse opcodes of `ops` (the bytes after the header) in
/// order. A two-byte XZERO cut short by the end of the string reads its
/// missing byte as zero, as Redis reads the sds terminator.
pub fn sparse_opcodes(ops: &[u8]) -> impl Iterator<Item = Opcode> + '_ {
    let mut p = 0;
    std::iter::from_fn(move || {
        let &b = ops.get(p)?;
        Some(if is_zero(b) {
            p += 1;
            Opcode::Zero {
                len: zero_len(b),
                long: false,
            }
        } else if is_xzero(b) {
            let next = ops.get(p + 1).copied().unwrap_or(0);
            p += 2;
            Opcode::Zero {
                len: xzero_len(b, next),
                long: true,
            }
        } else {
            p += 1;
            Opcode::Val {
                value: val_value(b),
                len: val_len(b),
            }
        })
    })
}

/// Calls `f(first_register, run, value)` for every run of a sparse HLL's
/// opcodes, checking that they cover exactly 16384 registers.
fn sparse_runs(ops: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    for op in sparse_opcodes(ops) {
        let (len, value) = match op {
            Opcode::Zero { len, .. } => (len, 0),
            Opcode::Val { value, len } => (len, value),
        };
        if idx + len > REGISTERS {
            return Err(Corrupt);
        }
        f(idx, len, value);
        idx += len;
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// The dense form of a sparse HLL (`hllSparseToDense`): the header is
/// copied (cached cardinality included) with the encoding changed. A dense
/// HLL is returned as is.
pub fn sparse_to_dense(hll: &[u8]) -> Result<Vec<u8>, Corrupt> {
    if hll[4] == DENSE {
        return Ok(hll.to_vec());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(&hll[..HDR_SIZE]);
    dense[4] = DENSE;
    let (_, regs) = dense.split_at_mut(HDR_SIZE);
    sparse_runs(&hll[HDR_SIZE..], |first, len, value| {
        if value != 0 {
            for i in first..first + len {
                dense_put(regs, i, value);
            }
        }
    })?;
    Ok(dense)
}

/// Turns `hll` dense in place. Returns whether it was sparse.
pub fn make_dense(hll: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if hll[4] == DENSE {
        return Ok(false);
    }
    *hll = sparse_to_dense(hll)?;
    Ok(true)
}

/// Raises sparse register `index` to `count` if it is lower, editing the
/// opcodes in place as Redis's `hllSparseSet` does, or promoting the HLL
/// to dense when `count` does not fit a VAL opcode or the edit would make
/// the string longer than `max_bytes`. Returns whether a register changed;
/// on a change the cached cardinality is marked stale.
pub fn sparse_set(
    hll: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_bytes: usize,
) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(hll, index, count);
    }
    // Redis's greedy growth: room for the worst edit (3 more bytes) with
    // up to 300 bytes to spare, but not past max_bytes; plus the terminator
    // and slack the in-place edit below works with.
    let len = hll.len();
    if hll.capacity() < len + 8 {
        let mut want = len + 3;
        want += want.min(300);
        let want = want.min(max_bytes).max(len + 8);
        hll.reserve_exact(want - len);
    }
    let mut len = len;
    // Work on the bytes followed by a zero terminator and some slack, as
    // Redis works on an sds string (whose terminator its opcode reads may
    // touch); the logical length is `len`.
    hll.resize(len + 8, 0);
    let r = sparse_set_in(hll, &mut len, index, count, max_bytes);
    hll.truncate(len);
    match r {
        Step::Unchanged => Ok(false),
        Step::Updated => {
            invalidate_cache(hll);
            Ok(true)
        }
        Step::Promote => promote(hll, index, count),
        Step::Corrupt => Err(Corrupt),
    }
}

enum Step {
    Unchanged,
    Updated,
    Promote,
    Corrupt,
}

/// The body of [`sparse_set`] on a buffer with a terminator and slack past
/// the logical length `*len`.
fn sparse_set_in(buf: &mut [u8], len: &mut usize, index: usize, count: u8, max: usize) -> Step {
    let sparse = HDR_SIZE;
    let mut end = *len;
    // Step 1: find the opcode covering `index`.
    let mut p = sparse;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    while p < end {
        let b = buf[p];
        let mut oplen = 1;
        span = if is_zero(b) {
            zero_len(b)
        } else if is_val(b) {
            val_len(b)
        } else {
            oplen = 2;
            xzero_len(b, buf[p + 1])
        };
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return Step::Corrupt;
    }
    let b = buf[p];
    let next = if is_xzero(b) { p + 2 } else { p + 1 };
    let next = (next < end).then_some(next);
    let (zero, xzero) = (is_zero(b), is_xzero(b));
    let runlen = if zero {
        zero_len(b)
    } else if xzero {
        xzero_len(b, buf[p + 1])
    } else {
        val_len(b)
    };

    let mut updated_in_place = false;
    // Cases A and B: a VAL opcode already high enough, or covering only
    // this register.
    if !zero && !xzero {
        if val_value(b) >= count {
            return Step::Unchanged;
        }
        if runlen == 1 {
            buf[p] = val_op(count, 1);
            updated_in_place = true;
        }
    }
    // Case C: a ZERO opcode of one register.
    if !updated_in_place && zero && runlen == 1 {
        buf[p] = val_op(count, 1);
        updated_in_place = true;
    }
    if !updated_in_place {
        // Case D: split the opcode into up to three.
        let mut seq = [0u8; 5];
        let mut n = 0;
        let last = first + span - 1;
        if zero || xzero {
            if index != first {
                push_zeros(&mut seq, &mut n, index - first);
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                push_zeros(&mut seq, &mut n, last - index);
            }
        } else {
            let curval = val_value(b);
            if index != first {
                seq[n] = val_op(curval, index - first);
                n += 1;
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                seq[n] = val_op(curval, last - index);
                n += 1;
            }
        }
        // Step 3: put the new sequence in place of the old opcode.
        let seqlen = n as isize;
        let oldlen: isize = if xzero { 2 } else { 1 };
        let delta = seqlen - oldlen;
        if delta > 0 && *len + delta as usize > max {
            return Step::Promote;
        }
        if delta != 0
            && let Some(next) = next
        {
            let to = (next as isize + delta) as usize;
            buf.copy_within(next..end, to);
        }
        *len = (*len as isize + delta) as usize;
        buf[*len] = 0;
        buf[p..p + n].copy_from_slice(&seq[..n]);
        end = (end as isize + delta) as usize;
    }

    // Step 4: merge adjacent VAL opcodes of the same value, looking at up to
    // five opcodes from the one before the edit.
    let mut p = prev.unwrap_or(sparse);
    let mut scanlen = 5;
    while p < end && scanlen > 0 {
        scanlen -= 1;
        let b = buf[p];
        if is_xzero(b) {
            p += 2;
            continue;
        } else if is_zero(b) {
            p += 1;
            continue;
        }
        if p + 1 < end && is_val(buf[p + 1]) {
            let v1 = val_value(b);
            let v2 = val_value(buf[p + 1]);
            if v1 == v2 {
                let l = val_len(b) + val_len(buf[p + 1]);
                if l <= SPARSE_VAL_MAX_LEN {
                    buf[p + 1] = val_op(v1, l);
                    buf.copy_within(p + 1..end + 1, p);
                    *len -= 1;
                    buf[*len] = 0;
                    end -= 1;
                    continue;
                }
            }
        }
        p += 1;
    }
    Step::Updated
}

/// Appends a ZERO (up to 64 registers) or XZERO opcode of `len` registers
/// to the split sequence.
fn push_zeros(seq: &mut [u8; 5], n: &mut usize, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        seq[*n..*n + 2].copy_from_slice(&xzero_op(len));
        *n += 2;
    } else {
        seq[*n] = zero_op(len);
        *n += 1;
    }
}

/// Makes `hll` dense and raises register `index` to `count` there.
fn promote(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    make_dense(hll)?;
    let changed = dense_set(&mut hll[HDR_SIZE..], index, count);
    if changed {
        invalidate_cache(hll);
    }
    Ok(changed)
}

// -------------------------------------------------------------- operations

/// Adds `element` to a valid HLL (`hllAdd`). Returns whether a register
/// changed (then the cached cardinality is marked stale).
pub fn add(hll: &mut Vec<u8>, element: &[u8], max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(element);
    set_register(hll, index, count, max_bytes)
}

/// Raises register `index` to `count` in a valid HLL of either encoding.
pub fn set_register(
    hll: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_bytes: usize,
) -> Result<bool, Corrupt> {
    match hll[4] {
        DENSE => {
            let changed = dense_set(&mut hll[HDR_SIZE..], index, count);
            if changed {
                invalidate_cache(hll);
            }
            Ok(changed)
        }
        SPARSE => sparse_set(hll, index, count, max_bytes),
        _ => Err(Corrupt),
    }
}

/// Raises each of `raw`'s registers to this HLL's value where it is
/// higher (`hllMerge`).
pub fn merge_into(raw: &mut [u8; REGISTERS], hll: &[u8]) -> Result<(), Corrupt> {
    if hll[4] == DENSE && !simd() {
        let regs = &hll[HDR_SIZE..];
        for (i, r) in raw.iter_mut().enumerate() {
            let v = dense_get(regs, i);
            if v > *r {
                *r = v;
            }
        }
        Ok(())
    } else if hll[4] == DENSE {
        let regs = &hll[HDR_SIZE..];
        for (c, out) in regs.chunks_exact(12).zip(raw.chunks_exact_mut(16)) {
            let r = unpack16(c);
            for (o, v) in out.iter_mut().zip(r) {
                *o = (*o).max(v);
            }
        }
        Ok(())
    } else {
        sparse_runs(&hll[HDR_SIZE..], |first, len, value| {
            if value != 0 {
                for r in &mut raw[first..first + len] {
                    if value > *r {
                        *r = value;
                    }
                }
            }
        })
    }
}

/// The register histogram of a valid HLL.
fn histogram(hll: &[u8]) -> Result<[u32; 64], Corrupt> {
    let mut histo = [0u32; 64];
    if hll[4] == DENSE {
        dense_histogram(&hll[HDR_SIZE..], &mut histo);
    } else {
        sparse_runs(&hll[HDR_SIZE..], |_, len, value| {
            histo[value as usize] += len as u32
        })?;
    }
    Ok(histo)
}

/// The estimated cardinality of a valid HLL, computed from its registers
/// (the cache is neither read nor written).
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    Ok(estimate(&histogram(hll)?))
}

/// The estimated cardinality of 16384 one-byte registers (PFCOUNT of
/// several keys).
pub fn count_raw(raw: &[u8; REGISTERS]) -> u64 {
    let mut h = [[0u32; 64]; 4];
    for (i, word) in raw.chunks_exact(8).enumerate() {
        if word.iter().all(|&r| r == 0) {
            // Mostly empty registers: one step for eight, as Redis's
            // hllRawRegHisto.
            h[i & 3][0] += 8;
        } else {
            for (k, &r) in word.iter().enumerate() {
                h[k & 3][(r & 63) as usize] += 1;
            }
        }
    }
    let mut histo = [0u32; 64];
    for (i, slot) in histo.iter_mut().enumerate() {
        *slot = h[0][i] + h[1][i] + h[2][i] + h[3][i];
    }
    estimate(&histo)
}

/// Ertl's `sigma`.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prime = z;
        z += x * y;
        y += y;
        if z_prime == z {
            return z;
        }
    }
}

/// Ertl's `tau`.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prime = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z_prime == z {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate from a register histogram, in Redis's order of
/// operations, rounded as its `llroundl` (half away from zero; a result
/// that does not fit, as an infinite one from an HLL whose every register
/// is past 50, gives the x86-64 "integer indefinite" value Redis replies).
fn estimate(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[HLL_Q as usize + 1] as f64) / m);
    for j in (1..=HLL_Q as usize).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    let e = (ALPHA_INF * m * m / z).round();
    let limit = (1u64 << 63) as f64;
    if (-limit..limit).contains(&e) {
        e as i64 as u64
    } else {
        i64::MIN as u64
    }
}

/// PFDEBUG DECODE's text for a sparse HLL: `z:N` for ZERO, `Z:N` for
/// XZERO, `v:VALUE,N` for VAL, separated by spaces.
pub fn decode_sparse(hll: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for op in sparse_opcodes(&hll[HDR_SIZE..]) {
        if !s.is_empty() {
            s.push(' ');
        }
        let _ = match op {
            Opcode::Zero { len, long: false } => write!(s, "z:{len}"),
            Opcode::Zero { len, long: true } => write!(s, "Z:{len}"),
            Opcode::Val { value, len } => write!(s, "v:{value},{len}"),
        };
    }
    s
}

/// Every register of a valid HLL, as one byte each (PFDEBUG GETREG after
/// its conversion to dense).
pub fn registers(hll: &[u8]) -> Result<Box<[u8; REGISTERS]>, Corrupt> {
    let mut raw = Box::new([0u8; REGISTERS]);
    if hll[4] == DENSE {
        let regs = &hll[HDR_SIZE..];
        for (i, r) in raw.iter_mut().enumerate() {
            *r = dense_get(regs, i);
        }
    } else {
        merge_into(&mut raw, hll)?;
    }
    Ok(raw)
}

/// PFSELFTEST: checks the dense register accessors against a byte array,
/// then adds ten million elements to a dense and a sparse HLL side by side,
/// checking at each power of ten that they agree, that the sparse one is
/// still sparse while small (below `max_bytes / 2`), and that the error is
/// within six standard errors. `Err` holds Redis's TESTFAILED message.
pub fn selftest(max_bytes: usize, mut rand: impl FnMut() -> u32) -> Result<(), String> {
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..4].copy_from_slice(b"HYLL");
    let mut bytes = [0u8; REGISTERS];
    for _ in 0..1000 {
        {
            let regs = &mut dense[HDR_SIZE..];
            for (i, b) in bytes.iter_mut().enumerate() {
                let r = (rand() & REGISTER_MAX as u32) as u8;
                *b = r;
                dense_put(regs, i, r);
            }
        }
        let regs = &dense[HDR_SIZE..];
        for (i, &b) in bytes.iter().enumerate() {
            let v = dense_get(regs, i);
            if v != b {
                return Err(format!("TESTFAILED Register {i} should be {b} but is {v}"));
            }
        }
    }
    dense[HDR_SIZE..].fill(0);
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rand() as u64 | (rand() as u64) << 32;
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let (index, cnt) = pat_len(&ele);
        dense_set(&mut dense[HDR_SIZE..], index, cnt);
        set_register(&mut sparse, index, cnt, max_bytes)
            .map_err(|_| "TESTFAILED sparse HLL corrupted".to_string())?;
        if j != checkpoint {
            continue;
        }
        if j < (max_bytes / 2) as u64 && sparse[4] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let dense_card = count(&dense).unwrap_or(0);
        if Ok(dense_card) != count(&sparse) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = checkpoint.abs_diff(dense_card);
        let mut maxerr = (relerr * 6.0 * checkpoint as f64).ceil() as u64;
        if j == 10 {
            maxerr = 1;
        }
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn build(elements: impl IntoIterator<Item = Vec<u8>>, max: usize) -> Vec<u8> {
        let mut h = new_sparse();
        for e in elements {
            add(&mut h, &e, max).unwrap();
        }
        h
    }

    fn numbers(n: u32) -> Vec<Vec<u8>> {
        (1..=n).map(|i| i.to_string().into_bytes()).collect()
    }

    #[test]
    fn murmur_matches_the_reference() {
        // MurmurHash64A reference outputs (seed 0) from the original C.
        assert_eq!(murmurhash64a(b"", 0), 0);
        // Elements whose registers Redis 7.0 shows for PFADD h a b c.
        let h = build([b"a".to_vec(), b"b".to_vec(), b"c".to_vec()], 3000);
        assert_eq!(
            &h[..],
            b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ"
        );
        assert_eq!(count(&h), Ok(3));
    }

    #[test]
    fn empty_string_element_matches_redis() {
        let h = build([Vec::new()], 3000);
        assert_eq!(
            &h[..],
            b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80W1\x84h\xcc"
        );
    }

    #[test]
    fn new_hll_is_one_xzero() {
        let h = new_sparse();
        assert_eq!(
            &h[..],
            b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"
        );
        assert!(is_valid(&h));
        assert_eq!(count(&h), Ok(0));
        assert_eq!(cached_card(&h), Some(0));
        assert_eq!(decode_sparse(&h), "Z:16384");
    }

    #[test]
    fn sizes_and_counts_match_redis() {
        // PFADD x 1..1000: 1922 bytes sparse, PFCOUNT 1001 (Redis 7.0).
        let x = build(numbers(1000), 3000);
        assert_eq!(x[4], SPARSE);
        assert_eq!(x.len(), 1922);
        assert_eq!(count(&x), Ok(1001));
        // PFADD y 1..3000: dense, PFCOUNT 3005.
        let y = build(numbers(3000), 3000);
        assert_eq!(y[4], DENSE);
        assert_eq!(y.len(), DENSE_SIZE);
        assert_eq!(count(&y), Ok(3005));
        // PFCOUNT x y merges to 3005 too.
        let mut raw = [0u8; REGISTERS];
        merge_into(&mut raw, &x).unwrap();
        merge_into(&mut raw, &y).unwrap();
        assert_eq!(count_raw(&raw), 3005);
    }

    #[test]
    fn validity_checks() {
        assert!(!is_valid(b"HYLL"));
        let mut h = new_sparse();
        h[4] = 2;
        assert!(!is_valid(&h));
        h[4] = DENSE;
        assert!(!is_valid(&h));
        let d = sparse_to_dense(&new_sparse()).unwrap();
        assert!(is_valid(&d));
        let mut bad = new_sparse();
        bad[0] = b'h';
        assert!(!is_valid(&bad));
    }

    #[test]
    fn corrupted_sparse_is_detected() {
        // Extra bytes at the tail: the runs go past 16384 registers.
        let mut h = build([b"a".to_vec()], 3000);
        h.extend_from_slice(b"hello");
        assert_eq!(count(&h), Err(Corrupt));
        assert_eq!(sparse_to_dense(&h), Err(Corrupt));
        let mut raw = [0u8; REGISTERS];
        assert_eq!(merge_into(&mut raw, &h), Err(Corrupt));
        // Runs that stop short.
        let mut short = new_sparse();
        short.truncate(HDR_SIZE + 1);
        assert_eq!(count(&short), Err(Corrupt));
        // Huge runs are refused before any register is written.
        let mut huge = new_sparse();
        huge.extend_from_slice(&[0x7f, 0xff, 0x7f, 0xff]);
        assert_eq!(registers(&huge).map(|_| ()), Err(Corrupt));
        // Only a header: the lookup for any register fails.
        let mut hdr = new_sparse();
        hdr.truncate(HDR_SIZE);
        assert_eq!(add(&mut hdr, b"x", 3000), Err(Corrupt));
    }

    #[test]
    fn truncated_xzero_reads_a_zero_byte() {
        let mut h = new_sparse();
        h.truncate(HDR_SIZE + 1);
        assert_eq!(decode_sparse(&h), "Z:16129");
        // Setting a register inside it does not panic.
        let _ = sparse_set(&mut h, 5, 3, 3000);
    }

    #[test]
    fn promotion_at_the_size_limit() {
        let mut h = new_sparse();
        let mut i = 0u32;
        while h[4] == SPARSE {
            add(&mut h, i.to_string().as_bytes(), 100).unwrap();
            assert!(h.len() <= 100 || h[4] == DENSE);
            i += 1;
        }
        assert_eq!(h.len(), DENSE_SIZE);
    }

    #[test]
    fn big_register_promotes() {
        let mut h = new_sparse();
        assert_eq!(sparse_set(&mut h, 7, 33, 3000), Ok(true));
        assert_eq!(h[4], DENSE);
        assert_eq!(dense_get(&h[HDR_SIZE..], 7), 33);
        assert_eq!(cached_card(&h), None);
    }

    #[test]
    fn estimate_of_saturated_registers_is_the_indefinite_integer() {
        let mut d = sparse_to_dense(&new_sparse()).unwrap();
        d[HDR_SIZE..].fill(0xff);
        assert_eq!(count(&d), Ok(i64::MIN as u64));
    }

    #[test]
    fn dense_compress_round_trips() {
        let mut raw = [0u8; REGISTERS];
        for (i, r) in raw.iter_mut().enumerate() {
            *r = (i * 7 % 64) as u8;
        }
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        dense_compress(&mut regs, &raw);
        for (i, &r) in raw.iter().enumerate() {
            assert_eq!(dense_get(&regs, i), r);
        }
    }

    #[test]
    fn selftest_passes() {
        let mut rng = fastrand::Rng::with_seed(7);
        // Fewer cycles would be nicer in debug builds, but this is the
        // command's own test, run as is.
        assert_eq!(selftest(3000, || rng.u32(..)), Ok(()));
    }

    proptest! {
        #[test]
        fn sparse_and_dense_agree(
            elements in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 0..400),
            max in 20usize..3000,
        ) {
            let mut sparse = new_sparse();
            let mut dense = sparse_to_dense(&new_sparse()).unwrap();
            for e in &elements {
                let a = add(&mut sparse, e, max).unwrap();
                let b = add(&mut dense, e, max).unwrap();
                prop_assert_eq!(a, b);
                if sparse[4] == SPARSE {
                    // The opcodes stay well formed and within the limit.
                    prop_assert!(sparse_runs(&sparse[HDR_SIZE..], |_, _, _| ()).is_ok());
                    prop_assert!(sparse.len() <= max.max(HDR_SIZE + 2));
                }
            }
            prop_assert_eq!(registers(&sparse).unwrap(), registers(&dense).unwrap());
            prop_assert_eq!(count(&sparse), count(&dense));
        }

        #[test]
        fn corrupted_bytes_never_panic(
            elements in proptest::collection::vec(any::<u32>(), 0..300),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        ) {
            let mut h = build(elements.iter().map(|e| e.to_le_bytes().to_vec()), 3000);
            for (pos, b) in edits {
                let len = h.len();
                h[pos % len] = b;
            }
            if is_valid(&h) {
                let _ = count(&h);
                let mut raw = [0u8; REGISTERS];
                let _ = merge_into(&mut raw, &h);
                let _ = decode_sparse(&h);
                let mut c = h.clone();
                for i in 0..50u32 {
                    if add(&mut c, &i.to_le_bytes(), 3000).is_err() {
                        break;
                    }
                }
            }
        }
    }
}
