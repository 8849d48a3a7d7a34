//! Redis's listpack format: entries of an encoding byte or two, the bytes
//! or a compact integer, then a "backlen" that lets a reader walk
//! backwards; a whole listpack adds a 6-byte header (total bytes, element
//! count, both little-endian) and a 0xFF terminator.
//!
//! Lists keep their nodes as listpack entries (see [`crate::list`]), and
//! the RDB format stores small hashes, sets, sorted sets, lists and stream
//! nodes as whole listpacks. The entry functions here trust their input
//! (buffers this process wrote); [`entries`] checks a listpack that came
//! from outside (a file, a DUMP payload) before anything reads it.

use crate::entry::StrRef;
use crate::number::parse_i64;

/// Strings up to this long are tried as integers.
const INT_CANDIDATE_MAX: usize = 20;

/// One element as read: bytes, or an integer whose text is the element.
pub type Elem<'a> = StrRef<'a>;

/// Bytes of a listpack's header: total bytes (u32) and count (u16).
pub const HEADER_SIZE: usize = 6;

/// The byte that ends a listpack.
pub const EOF: u8 = 0xFF;

/// The count field's value when there are too many elements to count in
/// 16 bits (readers then walk the entries).
pub const COUNT_UNKNOWN: u16 = u16::MAX;

/// An element classified for storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enc<'a> {
    /// An integer, 1 to 9 bytes.
    Int(i64),
    /// A string.
    Str(&'a [u8]),
}

/// How listpack stores `v`: as an integer when it is the canonical text
/// of one (Redis's `lpStringToInt64`), else as bytes.
pub fn classify(v: &[u8]) -> Enc<'_> {
    if v.len() <= INT_CANDIDATE_MAX
        && let Some(n) = parse_i64(v)
    {
        return Enc::Int(n);
    }
    Enc::Str(v)
}

/// Bytes of the encoding and data of an entry (what its backlen counts).
pub fn enc_len(e: Enc<'_>) -> usize {
    match e {
        Enc::Int(v) => {
            if (0..=127).contains(&v) {
                1
            } else if (-4096..=4095).contains(&v) {
                2
            } else if (-32768..=32767).contains(&v) {
                3
            } else if (-8_388_608..=8_388_607).contains(&v) {
                4
            } else if (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&v) {
                5
            } else {
                9
            }
        }
        Enc::Str(s) => str_hdr_len(s.len()) + s.len(),
    }
}

/// Bytes of the encoding header of a string entry of `n` bytes.
pub fn str_hdr_len(n: usize) -> usize {
    if n < 64 {
        1
    } else if n < 4096 {
        2
    } else if n as u64 <= u64::from(u32::MAX) {
        5
    } else {
        9
    }
}

/// The length of the string whose entry takes `entry` bytes (the inverse
/// of [`entry_len`] for strings, which grows strictly with the length).
pub fn str_len_of_entry(entry: usize) -> usize {
    for hdr in [1, 2, 5, 9] {
        for bl in [1, 2, 3, 4, 5, 10] {
            if let Some(n) = entry.checked_sub(hdr + bl)
                && str_hdr_len(n) == hdr
                && backlen_len(hdr + n) == bl
            {
                return n;
            }
        }
    }
    unreachable!("{entry} bytes is no string entry's size")
}

/// Bytes of the backlen of an entry whose encoding and data take `l`.
pub fn backlen_len(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else if (l as u64) < (1u64 << 35) {
        5
    } else {
        10
    }
}

/// Whole size of an entry.
pub fn entry_len(e: Enc<'_>) -> usize {
    let l = enc_len(e);
    l + backlen_len(l)
}

/// Writes an entry into `out`, which is exactly `entry_len(e)` long.
pub fn write_entry(out: &mut [u8], e: Enc<'_>) {
    let l = enc_len(e);
    match e {
        Enc::Int(v) => {
            if (0..=127).contains(&v) {
                out[0] = v as u8;
            } else if (-4096..=4095).contains(&v) {
                let u = if v < 0 { (1 << 13) + v } else { v } as u16;
                out[0] = 0xC0 | (u >> 8) as u8;
                out[1] = (u & 0xff) as u8;
            } else {
                let (tag, n) = match l {
                    3 => (0xF1, 2),
                    4 => (0xF2, 3),
                    5 => (0xF3, 4),
                    _ => (0xF4, 8),
                };
                out[0] = tag;
                out[1..=n].copy_from_slice(&v.to_le_bytes()[..n]);
            }
        }
        Enc::Str(s) => {
            let n = s.len();
            let at = if n < 64 {
                out[0] = 0x80 | n as u8;
                1
            } else if n < 4096 {
                out[0] = 0xE0 | (n >> 8) as u8;
                out[1] = (n & 0xff) as u8;
                2
            } else if n as u64 <= u64::from(u32::MAX) {
                out[0] = 0xF0;
                out[1..5].copy_from_slice(&(n as u32).to_le_bytes());
                5
            } else {
                // Past listpack's 32-bit lengths: only in plain nodes.
                out[0] = 0xF5;
                out[1..9].copy_from_slice(&(n as u64).to_le_bytes());
                9
            };
            out[at..at + n].copy_from_slice(s);
        }
    }
    let bl = backlen_len(l);
    write_backlen(&mut out[l..l + bl], l);
}

/// Writes the backlen of an entry whose encoding and data take `l` into
/// `tail`, which is `backlen_len(l)` long.
fn write_backlen(tail: &mut [u8], l: usize) {
    let bl = tail.len();
    for (i, b) in tail.iter_mut().rev().enumerate() {
        let shift = 7 * i;
        let group = if shift < 64 { (l >> shift) & 127 } else { 0 };
        *b = group as u8 | if i + 1 < bl { 128 } else { 0 };
    }
    // The most significant group is the first byte and has no flag.
    if bl > 1 {
        tail[0] &= 127;
    }
}

/// Decodes the entry starting at `p`: the element and the entry's size.
pub fn read_entry(buf: &[u8], p: usize) -> (Elem<'_>, usize) {
    let b = buf[p];
    let (elem, l) = if b & 0x80 == 0 {
        (Elem::Int(i64::from(b)), 1)
    } else if b & 0xC0 == 0x80 {
        let n = (b & 0x3f) as usize;
        (Elem::Bytes(&buf[p + 1..p + 1 + n]), 1 + n)
    } else if b & 0xE0 == 0xC0 {
        let u = (i64::from(b & 0x1f) << 8) | i64::from(buf[p + 1]);
        let v = if u >= 1 << 12 { u - (1 << 13) } else { u };
        (Elem::Int(v), 2)
    } else if b & 0xF0 == 0xE0 {
        let n = (((b & 0x0f) as usize) << 8) | buf[p + 1] as usize;
        (Elem::Bytes(&buf[p + 2..p + 2 + n]), 2 + n)
    } else {
        let int = |n: usize| {
            let mut raw = [0u8; 8];
            raw[..n].copy_from_slice(&buf[p + 1..p + 1 + n]);
            // Sign-extend from n bytes.
            let shift = 64 - 8 * n as u32;
            (i64::from_le_bytes(raw) << shift) >> shift
        };
        match b {
            0xF0 => {
                let mut raw = [0u8; 4];
                raw.copy_from_slice(&buf[p + 1..p + 5]);
                let n = u32::from_le_bytes(raw) as usize;
                (Elem::Bytes(&buf[p + 5..p + 5 + n]), 5 + n)
            }
            0xF1 => (Elem::Int(int(2)), 3),
            0xF2 => (Elem::Int(int(3)), 4),
            0xF3 => (Elem::Int(int(4)), 5),
            0xF4 => (Elem::Int(int(8)), 9),
            _ => {
                let mut raw = [0u8; 8];
                raw.copy_from_slice(&buf[p + 1..p + 9]);
                let n = u64::from_le_bytes(raw) as usize;
                (Elem::Bytes(&buf[p + 9..p + 9 + n]), 9 + n)
            }
        }
    };
    (elem, l + backlen_len(l))
}

/// The start of the entry that ends just before `q`.
pub fn entry_start_before(buf: &[u8], q: usize) -> usize {
    let mut at = q - 1;
    let mut l: usize = 0;
    let mut shift = 0;
    loop {
        let b = buf[at];
        if shift < 64 {
            l |= ((b & 127) as usize) << shift;
        }
        shift += 7;
        if b & 128 == 0 {
            break;
        }
        at -= 1;
    }
    at - l
}

/// The length of an element's text.
pub fn elem_text_len(e: Elem<'_>) -> usize {
    e.len()
}

/// Builds a whole listpack (Redis's `lpNew` + `lpAppend`...).
#[derive(Debug, Clone)]
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// An empty listpack.
    pub fn new() -> Builder {
        Builder {
            buf: vec![0; HEADER_SIZE],
            count: 0,
        }
    }

    /// Appends `v`, integer-encoded when it is an integer's canonical text.
    pub fn push(&mut self, v: &[u8]) {
        self.push_enc(classify(v));
    }

    /// Appends an integer.
    pub fn push_int(&mut self, v: i64) {
        self.push_enc(Enc::Int(v));
    }

    /// Appends an entry as classified.
    pub fn push_enc(&mut self, e: Enc<'_>) {
        let at = self.buf.len();
        self.buf.resize(at + entry_len(e), 0);
        write_entry(&mut self.buf[at..], e);
        self.count += 1;
    }

    /// Number of elements so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The finished listpack: header, entries, terminator.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        let count = u16::try_from(self.count).unwrap_or(COUNT_UNKNOWN);
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// What is wrong with a listpack from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("corrupt listpack")
    }
}

impl std::error::Error for Corrupt {}

/// Decodes the entry at `p` of an untrusted buffer: the element and the
/// entry's size, or `None` when the entry runs past `end`, its backlen
/// disagrees, or its encoding is unknown (Redis's `lpValidateNext`).
pub fn read_entry_checked(buf: &[u8], p: usize, end: usize) -> Option<(Elem<'_>, usize)> {
    let b = *buf.get(p)?;
    // The encoding header's size, and the data length after it.
    let (hdr, data): (usize, usize) = if b & 0x80 == 0 {
        (1, 0)
    } else if b & 0xC0 == 0x80 {
        (1, usize::from(b & 0x3f))
    } else if b & 0xE0 == 0xC0 {
        (2, 0)
    } else if b & 0xF0 == 0xE0 {
        (
            2,
            (usize::from(b & 0x0f) << 8) | usize::from(*buf.get(p + 1)?),
        )
    } else {
        match b {
            0xF0 => {
                let raw: [u8; 4] = buf.get(p + 1..p + 5)?.try_into().ok()?;
                (5, u32::from_le_bytes(raw) as usize)
            }
            0xF1 => (3, 0),
            0xF2 => (4, 0),
            0xF3 => (5, 0),
            0xF4 => (9, 0),
            _ => return None,
        }
    };
    let l = hdr.checked_add(data)?;
    let size = l.checked_add(backlen_len(l))?;
    if p.checked_add(size)? > end.min(buf.len()) {
        return None;
    }
    let mut backlen = [0u8; 10];
    let backlen = &mut backlen[..size - l];
    write_backlen(backlen, l);
    if buf[p + l..p + size] != *backlen {
        return None;
    }
    let (elem, n) = read_entry(buf, p);
    (n == size).then_some((elem, size))
}

/// The elements of a whole listpack from outside, after checking its
/// header, every entry and the terminator; `expected` is the element count
/// the container's type requires a multiple of (2 for hash pairs), or 1.
pub fn entries(lp: &[u8], expected: usize) -> Result<Vec<Elem<'_>>, Corrupt> {
    if lp.len() < HEADER_SIZE + 1 {
        return Err(Corrupt);
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    let count = u16::from_le_bytes([lp[4], lp[5]]);
    if total != lp.len() || lp[total - 1] != EOF {
        return Err(Corrupt);
    }
    let end = total - 1;
    let mut out = Vec::new();
    let mut p = HEADER_SIZE;
    while p < end {
        let (e, n) = read_entry_checked(lp, p, end).ok_or(Corrupt)?;
        out.push(e);
        p += n;
    }
    if (count != COUNT_UNKNOWN && usize::from(count) != out.len())
        || (expected > 1 && out.len() % expected != 0)
    {
        return Err(Corrupt);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_lengths_come_back_from_entry_sizes() {
        for n in (0..70_000).chain([1 << 21, (1 << 28) + 3, 5_000_000_000]) {
            let e = str_hdr_len(n) + n;
            assert_eq!(str_len_of_entry(e + backlen_len(e)), n);
        }
    }

    #[test]
    fn entries_round_trip() {
        let samples: Vec<Vec<u8>> = vec![
            b"0".to_vec(),
            b"127".to_vec(),
            b"128".to_vec(),
            b"-1".to_vec(),
            b"-4096".to_vec(),
            b"4095".to_vec(),
            b"4096".to_vec(),
            b"-32768".to_vec(),
            b"32768".to_vec(),
            b"-8388608".to_vec(),
            b"8388608".to_vec(),
            b"2147483647".to_vec(),
            b"-2147483649".to_vec(),
            b"9223372036854775807".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"007".to_vec(),
            b"-0".to_vec(),
            b"".to_vec(),
            vec![b'x'; 63],
            vec![b'x'; 64],
            vec![b'y'; 4095],
            vec![b'z'; 4096],
            vec![b'w'; 20000],
        ];
        for s in &samples {
            let e = classify(s);
            let n = entry_len(e);
            let mut buf = vec![0u8; n];
            write_entry(&mut buf, e);
            let (back, size) = read_entry(&buf, 0);
            assert_eq!(size, n);
            assert_eq!(back.to_vec(), *s);
            assert_eq!(entry_start_before(&buf, n), 0);
        }
        // Listpack's sizes: "element:1" is 1 + 9 + 1 bytes.
        assert_eq!(entry_len(classify(b"element:1")), 11);
        assert_eq!(entry_len(classify(b"100")), 2);
        assert_eq!(entry_len(classify(b"1000")), 3);
    }

    #[test]
    fn whole_listpacks_round_trip_and_match_redis_bytes() {
        let mut b = Builder::new();
        b.push(b"a");
        b.push(b"1024");
        let lp = b.finish();
        // Redis: lpNew + lpAppend("a") + lpAppend("1024").
        assert_eq!(lp, [13, 0, 0, 0, 2, 0, 0x81, b'a', 2, 0xC4, 0x00, 2, 0xFF]);
        let got: Vec<Vec<u8>> = entries(&lp, 1)
            .unwrap()
            .iter()
            .map(|e| e.to_vec())
            .collect();
        assert_eq!(got, vec![b"a".to_vec(), b"1024".to_vec()]);
        assert_eq!(entries(&lp, 2).map(|v| v.len()), Ok(2));
    }

    #[test]
    fn corrupt_listpacks_are_refused() {
        let mut b = Builder::new();
        for i in 0..50 {
            b.push(format!("value-{i}").as_bytes());
        }
        let good = b.finish();
        assert!(entries(&good, 1).is_ok());
        assert_eq!(entries(&good, 3), Err(Corrupt));
        // Every truncation, every single-byte change: an error or a
        // well-formed reading, never a panic.
        for cut in 0..good.len() {
            assert!(entries(&good[..cut], 1).is_err());
        }
        for at in 0..good.len() {
            for v in [0u8, 0x3f, 0x80, 0xC0, 0xE0, 0xF0, 0xF5, 0xFF] {
                let mut bad = good.clone();
                bad[at] = v;
                let _ = entries(&bad, 1);
            }
        }
    }
}
