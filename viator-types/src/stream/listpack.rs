//! Whole listpacks for stream nodes: a byte vector of elements, each an
//! integer or a string, which RDB saves as it is. The entries themselves
//! are [`crate::listpack`]'s; this module adds the header, the end byte
//! and walking over a listpack that sits at an offset in its buffer.
//!
//! Layout (Redis's `listpack.c`): a 6-byte header (total bytes as a
//! little-endian u32, element count as a u16, 65535 when it does not
//! fit), the elements, and a 0xFF end byte. An element is an encoding byte
//! (with the small integer or the string length folded in where they fit),
//! its data, and a "backlen" of 1 to 5 bytes holding the size of the
//! encoding and data, readable from its end so that the list can be walked
//! backwards. Strings that are the canonical text of an `i64` are stored as
//! integers, as Redis's `lpAppend` does.
//!
//! Positions are byte offsets of an element's encoding byte. The functions
//! trust the bytes to be a well-formed listpack built by this module; they
//! never index out of bounds on one (slicing would panic otherwise, which
//! only a bug here can cause).

use crate::entry::StrRef;
use crate::listpack::{self, EOF, Enc, HEADER_SIZE as HEADER};

/// An element's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// An integer element.
    Int(i64),
    /// A string element.
    Str(&'a [u8]),
}

/// Appends an empty listpack to `buf`, which then holds it from `base`
/// (its current length) on. Every function below takes that `base`: a
/// stream node keeps its master ID in front of its listpack.
pub fn new_in(buf: &mut Vec<u8>) -> usize {
    let base = buf.len();
    buf.extend_from_slice(&[0; HEADER]);
    buf.push(EOF);
    set_header(buf, base, 0);
    base
}

/// A new, empty listpack (at base 0).
pub fn new() -> Vec<u8> {
    let mut lp = Vec::with_capacity(HEADER + 1);
    new_in(&mut lp);
    lp
}

/// Number of elements (read from the header, counted when it says
/// 65535).
pub fn len(lp: &[u8], base: usize) -> usize {
    if let Some(n) = header_count(lp, base) {
        return n;
    }
    let mut count = 0;
    let mut p = first(lp, base);
    while let Some(pos) = p {
        count += 1;
        p = next(lp, pos);
    }
    count
}

fn set_header(lp: &mut [u8], base: usize, count: usize) {
    let total = u32::try_from(lp.len() - base).unwrap_or(u32::MAX);
    lp[base..base + 4].copy_from_slice(&total.to_le_bytes());
    let n = u16::try_from(count).unwrap_or(u16::MAX);
    lp[base + 4..base + 6].copy_from_slice(&n.to_le_bytes());
}

fn header_count(lp: &[u8], base: usize) -> Option<usize> {
    let n = u16::from_le_bytes([lp[base + 4], lp[base + 5]]);
    (n != u16::MAX).then_some(n as usize)
}

/// Total bytes of the listpack at `base`, from its header.
pub fn total_bytes(lp: &[u8], base: usize) -> usize {
    u32::from_le_bytes([lp[base], lp[base + 1], lp[base + 2], lp[base + 3]]) as usize
}

/// Position of the first element, `None` when empty.
pub fn first(lp: &[u8], base: usize) -> Option<usize> {
    (lp.get(base + HEADER) != Some(&EOF)).then_some(base + HEADER)
}

/// Whole size of the element at `p`, backlen included.
fn element_size(lp: &[u8], p: usize) -> usize {
    listpack::read_entry(lp, p).1
}

/// Position of the element after the one at `p`, `None` at the end.
pub fn next(lp: &[u8], p: usize) -> Option<usize> {
    let n = p + element_size(lp, p);
    (lp.get(n).is_some_and(|&b| b != EOF)).then_some(n)
}

/// Position of the element before the one at `p` (`p` may be the end
/// byte), `None` at the first element. Reads the previous element's
/// backlen backwards, as Redis's `lpPrev`.
pub fn prev(lp: &[u8], base: usize, p: usize) -> Option<usize> {
    (p > base + HEADER).then(|| listpack::entry_start_before(lp, p))
}

/// Position of the end byte.
pub fn end(lp: &[u8], base: usize) -> usize {
    (base + total_bytes(lp, base)).min(lp.len()) - 1
}

/// The element at `p`.
pub fn get(lp: &[u8], p: usize) -> Value<'_> {
    match listpack::read_entry(lp, p).0 {
        StrRef::Int(v) => Value::Int(v),
        StrRef::Bytes(b) => Value::Str(b),
    }
}

/// The element at `p` as an integer (stream metadata is always stored as
/// integers; a string that is not one reads as 0).
pub fn get_int(lp: &[u8], p: usize) -> i64 {
    match get(lp, p) {
        Value::Int(v) => v,
        Value::Str(s) => std::str::from_utf8(s)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
    }
}

/// Appends an element in `e`'s encoding (with its backlen) to `out`.
fn encode(out: &mut Vec<u8>, e: Enc<'_>) {
    let at = out.len();
    out.resize(at + listpack::entry_len(e), 0);
    listpack::write_entry(&mut out[at..], e);
}

/// Appends the encoding of `v` (with its backlen) to `out`.
fn encode_int(out: &mut Vec<u8>, v: i64) {
    encode(out, Enc::Int(v));
}

/// Appends the encoding of `s` (with its backlen) to `out`: an integer
/// when `s` is the canonical text of one, as Redis's `lpAppend`.
fn encode_str(out: &mut Vec<u8>, s: &[u8]) {
    encode(out, listpack::classify(s));
}

/// An element ready to be appended (see [`append`]).
pub enum Item<'a> {
    /// An integer element.
    Int(i64),
    /// A string element (an integer when it is the text of one).
    Str(&'a [u8]),
}

/// Appends elements, updating the header once.
pub fn append(lp: &mut Vec<u8>, base: usize, items: &[Item<'_>]) {
    let count = header_count(lp, base);
    lp.pop();
    for it in items {
        match *it {
            Item::Int(v) => encode_int(lp, v),
            Item::Str(s) => encode_str(lp, s),
        }
    }
    lp.push(EOF);
    let count = count.map_or(usize::from(u16::MAX), |c| c + items.len());
    set_header(lp, base, count);
}

/// Appends an integer element.
pub fn append_int(lp: &mut Vec<u8>, base: usize, v: i64) {
    append(lp, base, &[Item::Int(v)]);
}

/// Appends a string element (an integer when it is the text of one).
pub fn append_str(lp: &mut Vec<u8>, base: usize, s: &[u8]) {
    append(lp, base, &[Item::Str(s)]);
}

/// Replaces the element at `p` by the integer `v`, in place when the
/// encoding keeps its size.
pub fn replace_int(lp: &mut Vec<u8>, base: usize, p: usize, v: i64) {
    let old = element_size(lp, p);
    let mut enc = Vec::with_capacity(11);
    encode_int(&mut enc, v);
    if enc.len() == old {
        lp[p..p + old].copy_from_slice(&enc);
    } else {
        lp.splice(p..p + old, enc);
        let count = header_count(lp, base).unwrap_or(usize::from(u16::MAX));
        set_header(lp, base, count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_and_strings_round_trip() {
        let ints = [
            0,
            1,
            127,
            128,
            -1,
            4095,
            -4096,
            4096,
            32767,
            -32768,
            40000,
            8388607,
            -8388608,
            8388608,
            i64::from(i32::MAX),
            i64::from(i32::MIN),
            i64::MAX,
            i64::MIN,
        ];
        let mut lp = new();
        for v in ints {
            append_int(&mut lp, 0, v);
        }
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        for s in [&b""[..], b"abc", b"007", b"-0", b"12", &mid, &long] {
            append_str(&mut lp, 0, s);
        }
        assert_eq!(len(&lp, 0), ints.len() + 7);
        assert_eq!(
            u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize,
            lp.len()
        );
        let mut got = Vec::new();
        let mut p = first(&lp, 0);
        while let Some(pos) = p {
            got.push(get(&lp, pos));
            p = next(&lp, pos);
        }
        let mut want: Vec<Value<'_>> = ints.iter().map(|&v| Value::Int(v)).collect();
        want.extend([
            Value::Str(b""),
            Value::Str(b"abc"),
            Value::Str(b"007"),
            Value::Str(b"-0"),
            Value::Int(12),
            Value::Str(&mid),
            Value::Str(&long),
        ]);
        assert_eq!(got, want);
        // And backwards.
        let mut back = Vec::new();
        let mut p = prev(&lp, 0, end(&lp, 0));
        while let Some(pos) = p {
            back.push(get(&lp, pos));
            p = prev(&lp, 0, pos);
        }
        back.reverse();
        assert_eq!(back, want);
    }

    #[test]
    fn replace_grows_and_shrinks() {
        let mut lp = new();
        append_int(&mut lp, 0, 1);
        append_str(&mut lp, 0, b"tail");
        let p = first(&lp, 0).unwrap_or(0);
        replace_int(&mut lp, 0, p, 100_000);
        assert_eq!(get(&lp, 6), Value::Int(100_000));
        let p2 = next(&lp, 6).unwrap_or(0);
        assert_eq!(get(&lp, p2), Value::Str(b"tail"));
        replace_int(&mut lp, 0, 6, 3);
        assert_eq!(get(&lp, 6), Value::Int(3));
        assert_eq!(next(&lp, 6).map(|p| get(&lp, p)), Some(Value::Str(b"tail")));
        assert_eq!(lp.len(), 6 + 2 + 6 + 1);
        assert_eq!(
            u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize,
            lp.len()
        );
    }
}
