//! The compact encodings older Redis versions wrote into RDB files, read
//! only (Viator writes listpacks, as Redis 7+): intsets (sets of integers,
//! still current), ziplists (lists, hashes and sorted sets up to Redis
//! 6.2), and zipmaps (hashes up to Redis 2.4).
//!
//! All three arrive as one string of the file and are checked completely
//! before use: a corrupt blob is an [`Error`], never a panic or an
//! out-of-bounds read.

use super::Error;

/// One element of a ziplist or zipmap: bytes or an integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item<'a> {
    /// A string.
    Bytes(&'a [u8]),
    /// An integer (its decimal text is the element).
    Int(i64),
}

impl Item<'_> {
    /// The element's bytes (an integer in decimal).
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            Item::Bytes(b) => b.to_vec(),
            Item::Int(v) => itoa::Buffer::new().format(*v).as_bytes().to_vec(),
        }
    }
}

/// A field and its value.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

fn corrupt(what: &'static str) -> Error {
    Error::Corrupt(what)
}

fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |n, &x| (n << 8) | u64::from(x))
}

/// The members of an intset: a u32 encoding (2, 4 or 8 bytes per member),
/// a u32 count, then the members little-endian in strictly increasing
/// order (Redis's `intsetValidateIntegrity`).
pub fn intset(blob: &[u8]) -> Result<Vec<i64>, Error> {
    if blob.len() < 8 {
        return Err(corrupt("intset header"));
    }
    let width = le(&blob[..4]) as usize;
    let count = le(&blob[4..8]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(corrupt("intset encoding"));
    }
    let body = &blob[8..];
    if count == 0 || count.checked_mul(width) != Some(body.len()) {
        return Err(corrupt("intset length"));
    }
    let shift = 64 - 8 * width as u32;
    let members: Vec<i64> = body
        .chunks_exact(width)
        .map(|c| ((le(c) << shift) as i64) >> shift)
        .collect();
    if members.windows(2).any(|w| w[0] >= w[1]) {
        return Err(corrupt("intset order"));
    }
    Ok(members)
}

/// The elements of a ziplist: header (total bytes, tail offset, count),
/// entries each with the previous entry's length, an encoding and data,
/// then 0xFF (Redis's `ziplistValidateIntegrity`).
pub fn ziplist(blob: &[u8]) -> Result<Vec<Item<'_>>, Error> {
    const HEADER: usize = 10;
    if blob.len() < HEADER + 1 {
        return Err(corrupt("ziplist header"));
    }
    let total = le(&blob[..4]) as usize;
    let tail = le(&blob[4..8]) as usize;
    let count = le(&blob[8..10]) as usize;
    if total != blob.len() || blob[total - 1] != 0xFF || tail >= total {
        return Err(corrupt("ziplist header"));
    }
    let end = total - 1;
    let mut items = Vec::new();
    let (mut p, mut prev_len, mut last_start) = (HEADER, 0usize, HEADER);
    while p < end {
        let start = p;
        // The previous entry's length: one byte, or 0xFE and a u32.
        let (prevlen, n) = match blob[p] {
            0xFE => (
                le(blob.get(p + 1..p + 5).ok_or(corrupt("ziplist entry"))?) as usize,
                5,
            ),
            0xFF => return Err(corrupt("ziplist entry")),
            b => (usize::from(b), 1),
        };
        if prevlen != prev_len {
            return Err(corrupt("ziplist prevlen"));
        }
        p += n;
        let enc = *blob.get(p).ok_or(corrupt("ziplist entry"))?;
        let field =
            |from: usize, len: usize| blob.get(from..from + len).ok_or(corrupt("ziplist entry"));
        let item = match enc >> 6 {
            0 => {
                let len = usize::from(enc & 0x3f);
                let data = field(p + 1, len)?;
                p += 1 + len;
                Item::Bytes(data)
            }
            1 => {
                let len = (usize::from(enc & 0x3f) << 8)
                    | usize::from(*blob.get(p + 1).ok_or(corrupt("ziplist entry"))?);
                let data = field(p + 2, len)?;
                p += 2 + len;
                Item::Bytes(data)
            }
            2 => {
                let raw = field(p + 1, 4)?;
                let len = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
                let data = field(p + 5, len)?;
                p += 5 + len;
                Item::Bytes(data)
            }
            _ => {
                let (width, value) = match enc {
                    0xC0 => (2, None),
                    0xD0 => (4, None),
                    0xE0 => (8, None),
                    0xF0 => (3, None),
                    0xFE => (1, None),
                    0xF1..=0xFD => (0, Some(i64::from(enc & 0x0f) - 1)),
                    _ => return Err(corrupt("ziplist encoding")),
                };
                let v = match value {
                    Some(v) => v,
                    None => {
                        let raw = field(p + 1, width)?;
                        let shift = 64 - 8 * width as u32;
                        ((le(raw) << shift) as i64) >> shift
                    }
                };
                p += 1 + width;
                Item::Int(v)
            }
        };
        if p > end {
            return Err(corrupt("ziplist entry"));
        }
        items.push(item);
        prev_len = p - start;
        last_start = start;
    }
    if (count != 0xFFFF && count != items.len()) || (!items.is_empty() && tail != last_start) {
        return Err(corrupt("ziplist count"));
    }
    Ok(items)
}

/// The field/value pairs of a zipmap: a count byte, then for each pair a
/// length and the field, a length, a free-space byte, the value and its
/// free space, then 0xFF (Redis's `zipmapValidateIntegrity`).
pub fn zipmap(blob: &[u8]) -> Result<Vec<Pair<'_>>, Error> {
    let mut p = 1;
    let mut pairs = Vec::new();
    let len_at = |p: usize| -> Result<(usize, usize), Error> {
        match *blob.get(p).ok_or(corrupt("zipmap length"))? {
            254 => Ok((
                le(blob.get(p + 1..p + 5).ok_or(corrupt("zipmap length"))?) as usize,
                5,
            )),
            255 => Err(corrupt("zipmap length")),
            b => Ok((usize::from(b), 1)),
        }
    };
    loop {
        match blob.get(p) {
            None => return Err(corrupt("zipmap end")),
            Some(0xFF) => break,
            Some(_) => {}
        }
        let (klen, n) = len_at(p)?;
        p += n;
        let key = blob.get(p..p + klen).ok_or(corrupt("zipmap field"))?;
        p += klen;
        let (vlen, n) = len_at(p)?;
        p += n;
        let free = usize::from(*blob.get(p).ok_or(corrupt("zipmap value"))?);
        p += 1;
        let value = blob.get(p..p + vlen).ok_or(corrupt("zipmap value"))?;
        p += vlen + free;
        pairs.push((key, value));
    }
    if p + 1 != blob.len() || (blob[0] < 254 && usize::from(blob[0]) != pairs.len()) {
        return Err(corrupt("zipmap count"));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intsets() {
        let mut b = vec![2, 0, 0, 0, 3, 0, 0, 0];
        for v in [-5i16, 7, 300] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(intset(&b), Ok(vec![-5, 7, 300]));
        let mut unordered = b.clone();
        unordered.swap(8, 10);
        unordered.swap(9, 11);
        assert!(intset(&unordered).is_err());
        assert!(intset(&b[..b.len() - 1]).is_err());
        let mut wide = vec![8, 0, 0, 0, 1, 0, 0, 0];
        wide.extend_from_slice(&i64::MIN.to_le_bytes());
        assert_eq!(intset(&wide), Ok(vec![i64::MIN]));
        assert!(intset(&[3, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }

    /// A ziplist built the way Redis 6 lays one out.
    fn build_ziplist(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut tail = 10;
        for e in entries {
            tail = 10 + body.len();
            let start = body.len();
            if prev < 254 {
                body.push(prev as u8);
            } else {
                body.push(0xFE);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            body.extend_from_slice(e);
            prev = body.len() - start;
        }
        let total = 10 + body.len() + 1;
        let mut zl = Vec::new();
        zl.extend_from_slice(&(total as u32).to_le_bytes());
        zl.extend_from_slice(&(tail as u32).to_le_bytes());
        zl.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(0xFF);
        zl
    }

    #[test]
    fn ziplists() {
        let long = vec![b'x'; 300];
        let mut long_enc = vec![0x40 | 1, 44];
        long_enc.extend_from_slice(&long);
        let zl = build_ziplist(&[
            b"\x03abc".to_vec(),
            vec![0xF1],                   // 0
            vec![0xFD],                   // 12
            vec![0xFE, 0x80],             // -128
            vec![0xC0, 0x39, 0x30],       // 12345
            vec![0xF0, 0xff, 0xff, 0x7f], // 8388607
            vec![0xD0, 0, 0, 0, 0x80],    // i32::MIN
            [vec![0xE0], i64::MAX.to_le_bytes().to_vec()].concat(),
            long_enc,
            b"\x01z".to_vec(),
        ]);
        let items = ziplist(&zl).unwrap();
        assert_eq!(items[0], Item::Bytes(b"abc"));
        let ints: Vec<i64> = items[1..8]
            .iter()
            .map(|i| match i {
                Item::Int(v) => *v,
                _ => panic!("not an int"),
            })
            .collect();
        assert_eq!(
            ints,
            [0, 12, -128, 12345, 8388607, i32::MIN as i64, i64::MAX]
        );
        assert_eq!(items[8], Item::Bytes(&long[..]));
        assert_eq!(items[9].to_vec(), b"z");
        for cut in 0..zl.len() {
            assert!(ziplist(&zl[..cut]).is_err());
        }
        for at in 0..zl.len() {
            let mut bad = zl.clone();
            bad[at] ^= 0x55;
            let _ = ziplist(&bad);
        }
    }

    #[test]
    fn zipmaps() {
        // {"foo": "bar", "k": "value"} with 2 free bytes after "value".
        let zm = b"\x02\x03foo\x03\x00bar\x01k\x05\x02valueXX\xff";
        assert_eq!(
            zipmap(zm),
            Ok(vec![(&b"foo"[..], &b"bar"[..]), (&b"k"[..], &b"value"[..])])
        );
        for cut in 0..zm.len() {
            assert!(zipmap(&zm[..cut]).is_err());
        }
        assert!(zipmap(b"\x03\x03foo\x03\x00bar\xff").is_err());
    }
}
