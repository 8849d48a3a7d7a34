//! A set (Redis `OBJ_SET`), in Redis 7.2+'s three encodings.
//!
//! - `intset`: sorted integers in one array of the narrowest width that
//!   holds them all (16, 32 or 64 bits), as Redis's `intset.c`. Membership
//!   is a binary search; iteration is in ascending order, which is why
//!   SMEMBERS of an integer set comes back sorted in Redis and here.
//! - `listpack`: a few short strings one after the other in one buffer, in
//!   insertion order, each behind its length (a LEB128 varint). Lookups
//!   scan the buffer, which is fast at the sizes allowed
//!   (`set-max-listpack-entries`, default 128). Iteration order is
//!   insertion order with deleted members closed up, exactly Redis's, so
//!   SMEMBERS of a small set replies in the same order as Redis.
//! - `hashtable`: a [`KeyTable`] of [`Member`]s, each one allocation (a
//!   [`ThinParts`] block with one part) behind an 8-byte slot: a
//!   `member:123456` costs a 16-byte block plus 9 to 24 bytes of table.
//!
//! The conversions are Redis's `t_set.c` rules (`setTypeCreate`,
//! `setTypeMaybeConvert`, `setTypeAddAux`, `maybeConvertToIntset`): an
//! intset takes a string that is not an integer by turning into a listpack
//! if the result fits the listpack limits and into a hashtable otherwise;
//! it turns into a hashtable past `set-max-intset-entries`; a listpack
//! turns into a hashtable past `set-max-listpack-entries` members or when a
//! member longer than `set-max-listpack-value` arrives. Nothing converts
//! back on removal, as in Redis. Callers pass the limits ([`SetLimits`]) on
//! each write, read from the live configuration.

use crate::number::{i64_digits_len, parse_i64};
use crate::table::{KeyTable, Keyed, hash_key};
use crate::thin::ThinParts;

/// Redis caps an intset at 2^30 entries whatever the configuration says
/// (`intsetMaxEntries`).
const INTSET_HARD_MAX: u64 = 1 << 30;

/// Redis's `LISTPACK_MAX_SAFETY_SIZE`: a listpack never grows past 1 GiB.
const LISTPACK_MAX_BYTES: usize = 1 << 30;

/// The encoding thresholds (`set-max-intset-entries`,
/// `set-max-listpack-entries`, `set-max-listpack-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetLimits {
    /// `set-max-intset-entries`.
    pub intset_entries: u64,
    /// `set-max-listpack-entries`.
    pub listpack_entries: u64,
    /// `set-max-listpack-value`.
    pub listpack_value: u64,
}

impl Default for SetLimits {
    /// Redis's defaults: 512, 128, 64.
    fn default() -> SetLimits {
        SetLimits {
            intset_entries: 512,
            listpack_entries: 128,
            listpack_value: 64,
        }
    }
}

impl SetLimits {
    fn intset_max(&self) -> u64 {
        self.intset_entries.min(INTSET_HARD_MAX)
    }
}

/// One member as an iteration gives it: an integer of an intset, or the
/// bytes of a string member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem<'a> {
    /// An integer member of an intset.
    Int(i64),
    /// A member's bytes.
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// Calls `f` with the member's bytes (an integer formatted first).
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Elem::Str(b) => f(b),
            Elem::Int(n) => f(itoa::Buffer::new().format(*n).as_bytes()),
        }
    }

    /// The member's bytes as an owned vector.
    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }

    /// The member as an integer, if it is the canonical text of one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Elem::Int(n) => Some(*n),
            Elem::Str(b) => parse_i64(b),
        }
    }
}

/// A member of a hashtable-encoded set: its bytes in one thin block.
#[derive(Clone, PartialEq, Eq)]
pub struct Member(ThinParts);

impl Member {
    /// A member holding `bytes`.
    pub fn new(bytes: &[u8]) -> Member {
        Member(ThinParts::new(&[bytes]))
    }

    /// The member's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.0.part(0)
    }
}

impl Keyed for Member {
    fn key(&self) -> &[u8] {
        self.0.part(0)
    }
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.bytes()))
    }
}

// ---------------------------------------------------------------------------
// intset
// ---------------------------------------------------------------------------

/// Sorted integers at the narrowest width that holds them (Redis's intset).
#[derive(Debug, Clone)]
enum IntSet {
    W16(Vec<i16>),
    W32(Vec<i32>),
    W64(Vec<i64>),
}

impl IntSet {
    fn new() -> IntSet {
        IntSet::W16(Vec::new())
    }

    fn len(&self) -> usize {
        match self {
            IntSet::W16(v) => v.len(),
            IntSet::W32(v) => v.len(),
            IntSet::W64(v) => v.len(),
        }
    }

    fn get(&self, i: usize) -> Option<i64> {
        match self {
            IntSet::W16(v) => v.get(i).map(|&x| i64::from(x)),
            IntSet::W32(v) => v.get(i).map(|&x| i64::from(x)),
            IntSet::W64(v) => v.get(i).copied(),
        }
    }

    fn search(&self, x: i64) -> Result<usize, usize> {
        match self {
            IntSet::W16(v) => match i16::try_from(x) {
                Ok(y) => v.binary_search(&y),
                Err(_) => Err(if x < 0 { 0 } else { v.len() }),
            },
            IntSet::W32(v) => match i32::try_from(x) {
                Ok(y) => v.binary_search(&y),
                Err(_) => Err(if x < 0 { 0 } else { v.len() }),
            },
            IntSet::W64(v) => v.binary_search(&x),
        }
    }

    fn contains(&self, x: i64) -> bool {
        self.search(x).is_ok()
    }

    /// Widens the array so that `x` fits (Redis's `intsetUpgradeAndAdd`).
    fn widen_for(&mut self, x: i64) {
        let need = if i16::try_from(x).is_ok() {
            16
        } else if i32::try_from(x).is_ok() {
            32
        } else {
            64
        };
        match self {
            IntSet::W16(v) if need == 32 => {
                *self = IntSet::W32(v.iter().map(|&y| i32::from(y)).collect());
            }
            IntSet::W16(v) if need == 64 => {
                *self = IntSet::W64(v.iter().map(|&y| i64::from(y)).collect());
            }
            IntSet::W32(v) if need == 64 => {
                *self = IntSet::W64(v.iter().map(|&y| i64::from(y)).collect());
            }
            _ => {}
        }
    }

    fn insert(&mut self, x: i64) -> bool {
        self.widen_for(x);
        match self.search(x) {
            Ok(_) => false,
            Err(at) => {
                // The width fits x after widen_for, so the casts are exact.
                match self {
                    IntSet::W16(v) => v.insert(at, x as i16),
                    IntSet::W32(v) => v.insert(at, x as i32),
                    IntSet::W64(v) => v.insert(at, x),
                }
                true
            }
        }
    }

    fn remove(&mut self, x: i64) -> bool {
        match self.search(x) {
            Ok(at) => {
                match self {
                    IntSet::W16(v) => {
                        v.remove(at);
                    }
                    IntSet::W32(v) => {
                        v.remove(at);
                    }
                    IntSet::W64(v) => {
                        v.remove(at);
                    }
                }
                true
            }
            Err(_) => false,
        }
    }

    fn bytes(&self) -> usize {
        8 + match self {
            IntSet::W16(v) => v.capacity() * 2,
            IntSet::W32(v) => v.capacity() * 4,
            IntSet::W64(v) => v.capacity() * 8,
        }
    }

    fn shrink_to_fit(&mut self) {
        match self {
            IntSet::W16(v) => v.shrink_to_fit(),
            IntSet::W32(v) => v.shrink_to_fit(),
            IntSet::W64(v) => v.shrink_to_fit(),
        }
    }
}

// ---------------------------------------------------------------------------
// listpack
// ---------------------------------------------------------------------------

/// Strings one after the other, each behind a LEB128 length.
#[derive(Debug, Clone, Default)]
struct Listpack {
    buf: Vec<u8>,
    len: usize,
}

fn read_varint(buf: &[u8], at: usize) -> (usize, usize) {
    let mut v: usize = 0;
    let mut shift = 0;
    let mut i = at;
    while let Some(&b) = buf.get(i) {
        v |= usize::from(b & 0x7f) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (v, i - at)
}

fn write_varint(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

impl Listpack {
    /// Iterates `(offset of the entry, bytes)`.
    fn entries(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let buf = &self.buf;
        let mut at = 0;
        std::iter::from_fn(move || {
            if at >= buf.len() {
                return None;
            }
            let (n, w) = read_varint(buf, at);
            let start = at + w;
            let end = (start + n).min(buf.len());
            let entry = (at, &buf[start..end]);
            at = end;
            Some(entry)
        })
    }

    fn find(&self, m: &[u8]) -> Option<usize> {
        self.entries().find(|(_, b)| *b == m).map(|(at, _)| at)
    }

    fn push(&mut self, m: &[u8]) {
        write_varint(&mut self.buf, m.len());
        self.buf.extend_from_slice(m);
        self.len += 1;
    }

    fn remove_at(&mut self, at: usize) {
        let (n, w) = read_varint(&self.buf, at);
        let end = (at + w + n).min(self.buf.len());
        self.buf.drain(at..end);
        self.len -= 1;
    }

    fn nth(&self, i: usize) -> Option<(usize, &[u8])> {
        self.entries().nth(i)
    }

    fn safe_to_add(&self, n: usize) -> bool {
        self.buf.len() + varint_len(n) + n <= LISTPACK_MAX_BYTES
    }
}

// ---------------------------------------------------------------------------
// the set
// ---------------------------------------------------------------------------

#[derive(Debug)]
enum Repr {
    Intset(IntSet),
    Listpack(Listpack),
    Table(KeyTable<Member>),
}

/// A set (Redis `OBJ_SET`). See the module docs.
#[derive(Debug)]
pub struct Set {
    repr: Repr,
}

impl Default for Set {
    fn default() -> Set {
        Set::new_intset()
    }
}

impl Clone for Set {
    fn clone(&self) -> Set {
        let repr = match &self.repr {
            Repr::Intset(i) => Repr::Intset(i.clone()),
            Repr::Listpack(l) => Repr::Listpack(l.clone()),
            Repr::Table(t) => {
                let mut n = KeyTable::new();
                for m in t.iter() {
                    n.insert_new(hash_key(m.bytes()), m.clone());
                }
                Repr::Table(n)
            }
        };
        Set { repr }
    }
}

impl Set {
    /// An empty intset-encoded set (Redis's `createIntsetObject`).
    pub fn new_intset() -> Set {
        Set {
            repr: Repr::Intset(IntSet::new()),
        }
    }

    /// An empty listpack-encoded set (Redis's `createSetListpackObject`).
    pub fn new_listpack() -> Set {
        Set {
            repr: Repr::Listpack(Listpack::default()),
        }
    }

    /// An empty hashtable-encoded set.
    pub fn new_table() -> Set {
        Set {
            repr: Repr::Table(KeyTable::new()),
        }
    }

    /// An empty set in the encoding Redis's `setTypeCreate` picks for a set
    /// whose first member is `first` and that is about to receive about
    /// `size_hint` members: an intset for an integer when the hint fits
    /// one, else a listpack when the hint fits one, else a hashtable.
    pub fn create(first: &[u8], size_hint: usize, l: &SetLimits) -> Set {
        let hint = size_hint as u64;
        if parse_i64(first).is_some() && hint <= l.intset_entries {
            Set::new_intset()
        } else if hint <= l.listpack_entries {
            Set::new_listpack()
        } else {
            Set::new_table()
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Intset(i) => i.len(),
            Repr::Listpack(l) => l.len,
            Repr::Table(t) => t.len(),
        }
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The OBJECT ENCODING name of its current representation.
    pub fn encoding_name(&self) -> &'static str {
        match &self.repr {
            Repr::Intset(_) => "intset",
            Repr::Listpack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Whether it is hashtable-encoded (SSCAN pages through those; the
    /// compact encodings come back whole).
    pub fn is_table(&self) -> bool {
        matches!(self.repr, Repr::Table(_))
    }

    /// Whether it is intset-encoded.
    pub fn is_intset(&self) -> bool {
        matches!(self.repr, Repr::Intset(_))
    }

    /// Whether it is listpack-encoded.
    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Listpack(_))
    }

    /// Bytes of memory it uses, for MEMORY USAGE.
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.repr {
                Repr::Intset(i) => i.bytes(),
                Repr::Listpack(l) => l.buf.capacity(),
                Repr::Table(t) => {
                    t.overhead_bytes()
                        + t.iter()
                            .map(|m| m.0.block_size().next_multiple_of(8))
                            .sum::<usize>()
                }
            }
    }

    /// Calls `f` with its members.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        self.for_each_elem(|e| e.with_bytes(&mut f));
    }

    /// Calls `f` with its members as an iteration gives them (integers of
    /// an intset unformatted), in the set's order: ascending for an
    /// intset, insertion order for a listpack, slot order for a hashtable.
    pub fn for_each_elem(&self, mut f: impl FnMut(Elem<'_>)) {
        match &self.repr {
            Repr::Intset(i) => {
                for k in 0..i.len() {
                    if let Some(x) = i.get(k) {
                        f(Elem::Int(x));
                    }
                }
            }
            Repr::Listpack(l) => l.entries().for_each(|(_, b)| f(Elem::Str(b))),
            Repr::Table(t) => t.iter().for_each(|m| f(Elem::Str(m.bytes()))),
        }
    }

    /// Every member as an owned vector, in the set's order.
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        let mut v = Vec::with_capacity(self.len());
        self.for_each_elem(|e| v.push(e.to_vec()));
        v
    }

    /// Whether `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.repr {
            Repr::Intset(i) => parse_i64(m).is_some_and(|x| i.contains(x)),
            Repr::Listpack(l) => l.find(m).is_some(),
            Repr::Table(t) => t.find(m, hash_key(m)).is_some(),
        }
    }

    /// Whether the member `e` is a member of this set.
    pub fn contains_elem(&self, e: Elem<'_>) -> bool {
        match (&self.repr, e) {
            (Repr::Intset(i), Elem::Int(x)) => i.contains(x),
            (_, e) => e.with_bytes(|b| self.contains(b)),
        }
    }

    /// Converts a compact set to a hashtable (Redis's
    /// `setTypeConvertAndExpand(.., OBJ_ENCODING_HT, ..)`).
    pub fn convert_to_table(&mut self) {
        if self.is_table() {
            return;
        }
        let mut t = KeyTable::new();
        self.for_each_elem(|e| {
            e.with_bytes(|b| {
                t.insert_new(hash_key(b), Member::new(b));
            })
        });
        self.repr = Repr::Table(t);
    }

    /// Converts an intset to a listpack, keeping its ascending order.
    fn convert_to_listpack(&mut self) {
        let mut lp = Listpack::default();
        self.for_each_elem(|e| e.with_bytes(|b| lp.push(b)));
        self.repr = Repr::Listpack(lp);
    }

    /// Redis's `setTypeMaybeConvert`: before adding about `size_hint`
    /// members, a compact set that could not hold that many becomes a
    /// hashtable at once.
    pub fn maybe_convert(&mut self, size_hint: usize, l: &SetLimits) {
        let hint = size_hint as u64;
        let convert = match &self.repr {
            Repr::Listpack(_) => hint > l.listpack_entries,
            Repr::Intset(_) => hint > l.intset_entries,
            Repr::Table(_) => false,
        };
        if convert {
            self.convert_to_table();
        }
    }

    /// Redis's `maybeConvertToIntset`: a set known to hold only integers
    /// becomes an intset if it is small enough for one.
    pub fn maybe_convert_to_intset(&mut self, l: &SetLimits) {
        if self.is_intset() || self.len() as u64 > l.intset_max() {
            return;
        }
        let mut is = IntSet::new();
        let mut all = true;
        self.for_each_elem(|e| match e.as_int() {
            Some(x) => {
                is.insert(x);
            }
            None => all = false,
        });
        if all {
            self.repr = Repr::Intset(is);
        }
    }

    /// Adds a member given as an integer (Redis's `setTypeAddAux` with no
    /// string): an intset takes it as it is. Returns whether it was added.
    pub fn add_int(&mut self, x: i64, l: &SetLimits) -> bool {
        if let Repr::Intset(i) = &mut self.repr {
            let added = i.insert(x);
            if added && i.len() as u64 > l.intset_max() {
                self.convert_to_table();
            }
            return added;
        }
        self.add(itoa::Buffer::new().format(x).as_bytes(), l)
    }

    /// Adds a member given as an [`Elem`].
    pub fn add_elem(&mut self, e: Elem<'_>, l: &SetLimits) -> bool {
        match e {
            Elem::Int(x) => self.add_int(x, l),
            Elem::Str(b) => self.add(b, l),
        }
    }

    /// Adds `m`, converting the encoding where Redis's `setTypeAddAux`
    /// does. Returns whether it was added (false if already a member).
    pub fn add(&mut self, m: &[u8], l: &SetLimits) -> bool {
        match &mut self.repr {
            Repr::Table(t) => {
                let h = hash_key(m);
                if t.find(m, h).is_some() {
                    return false;
                }
                t.insert_new(h, Member::new(m));
                true
            }
            Repr::Listpack(lp) => {
                if lp.find(m).is_some() {
                    return false;
                }
                if (lp.len as u64) < l.listpack_entries
                    && m.len() as u64 <= l.listpack_value
                    && lp.safe_to_add(m.len())
                {
                    lp.push(m);
                } else {
                    self.convert_to_table();
                    if let Repr::Table(t) = &mut self.repr {
                        t.insert_new(hash_key(m), Member::new(m));
                    }
                }
                true
            }
            Repr::Intset(is) => {
                if let Some(x) = parse_i64(m) {
                    let added = is.insert(x);
                    if added && is.len() as u64 > l.intset_max() {
                        self.convert_to_table();
                    }
                    return added;
                }
                // Not an integer: a listpack if every member would fit one
                // (the longest integer text stands for all of them), else
                // a hashtable.
                let n = is.len();
                let (mut max_len, mut total) = (0usize, 0usize);
                if n > 0 {
                    let lo = is.get(0).unwrap_or(0);
                    let hi = is.get(n - 1).unwrap_or(0);
                    max_len = i64_digits_len(lo).max(i64_digits_len(hi));
                    total = n * (1 + max_len);
                }
                let fits = (n as u64) < l.listpack_entries
                    && m.len() as u64 <= l.listpack_value
                    && max_len as u64 <= l.listpack_value
                    && total + m.len() + varint_len(m.len()) <= LISTPACK_MAX_BYTES;
                if fits {
                    self.convert_to_listpack();
                    if let Repr::Listpack(lp) = &mut self.repr {
                        lp.push(m);
                        lp.buf.shrink_to_fit();
                    }
                } else {
                    self.convert_to_table();
                    if let Repr::Table(t) = &mut self.repr {
                        t.insert_new(hash_key(m), Member::new(m));
                    }
                }
                true
            }
        }
    }

    /// Removes `m`. Returns whether it was a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Intset(i) => parse_i64(m).is_some_and(|x| i.remove(x)),
            Repr::Listpack(lp) => match lp.find(m) {
                Some(at) => {
                    lp.remove_at(at);
                    true
                }
                None => false,
            },
            Repr::Table(t) => t.remove(m, hash_key(m)).is_some(),
        }
    }

    /// Removes the member `e`. Returns whether it was a member.
    pub fn remove_elem(&mut self, e: Elem<'_>) -> bool {
        match (&mut self.repr, e) {
            (Repr::Intset(i), Elem::Int(x)) => i.remove(x),
            (_, e) => e.with_bytes(|b| self.remove(b)),
        }
    }

    /// A random member, `None` when empty. `r` is a random number.
    pub fn random(&self, r: u64) -> Option<Elem<'_>> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        match &self.repr {
            Repr::Intset(i) => i.get((r % n as u64) as usize).map(Elem::Int),
            Repr::Listpack(l) => l.nth((r % n as u64) as usize).map(|(_, b)| Elem::Str(b)),
            Repr::Table(t) => t
                .random_slot(r)
                .and_then(|s| t.at(s))
                .map(|m| Elem::Str(m.bytes())),
        }
    }

    /// Removes and returns a random member (Redis's `setTypePopRandom`).
    pub fn pop_random(&mut self, r: u64) -> Option<Vec<u8>> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        match &mut self.repr {
            Repr::Intset(i) => {
                let x = i.get((r % n as u64) as usize)?;
                i.remove(x);
                Some(itoa::Buffer::new().format(x).as_bytes().to_vec())
            }
            Repr::Listpack(l) => {
                let (at, b) = l.nth((r % n as u64) as usize)?;
                let v = b.to_vec();
                l.remove_at(at);
                Some(v)
            }
            Repr::Table(t) => {
                let s = t.random_slot(r)?;
                t.remove_at(s).map(|m| m.bytes().to_vec())
            }
        }
    }

    /// `k` distinct positions in the set's order, chosen at random and
    /// returned in ascending order (selection sampling, as Redis's
    /// `lpNextRandom`): for a compact set the positions are iteration
    /// indexes. `k` must not exceed the length.
    fn sample_positions(n: usize, k: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(k.min(n));
        let mut need = k.min(n);
        for i in 0..n {
            if need == 0 {
                break;
            }
            let left = n - i;
            if fastrand::usize(..left) < need {
                out.push(i);
                need -= 1;
            }
        }
        out
    }

    /// `k` distinct members chosen at random (`k` at most the length), as
    /// owned vectors. For compact sets they come in the set's order; for a
    /// hashtable in no particular order. The work is O(length) for compact
    /// sets and O(k) expected for a hashtable when `k` is small next to
    /// the length.
    pub fn sample_distinct(&self, k: usize) -> Vec<Vec<u8>> {
        let n = self.len();
        let k = k.min(n);
        match &self.repr {
            Repr::Intset(_) | Repr::Listpack(_) => {
                let picks = Set::sample_positions(n, k);
                let mut out = Vec::with_capacity(k);
                let mut p = picks.iter().peekable();
                let mut idx = 0usize;
                self.for_each_elem(|e| {
                    if p.peek() == Some(&&idx) {
                        out.push(e.to_vec());
                        p.next();
                    }
                    idx += 1;
                });
                out
            }
            Repr::Table(t) => {
                if k.saturating_mul(3) > n {
                    // Most of the set: take every slot and drop random
                    // ones (Redis's CASE 3).
                    let mut slots: Vec<&Member> = t.iter().collect();
                    while slots.len() > k {
                        let i = fastrand::usize(..slots.len());
                        slots.swap_remove(i);
                    }
                    slots.into_iter().map(|m| m.bytes().to_vec()).collect()
                } else {
                    // A few: sample until enough distinct ones (CASE 4).
                    let mut seen = std::collections::HashSet::with_capacity(k);
                    let mut out = Vec::with_capacity(k);
                    while out.len() < k {
                        let Some(s) = t.random_slot(fastrand::u64(..)) else {
                            break;
                        };
                        if seen.insert(s)
                            && let Some(m) = t.at(s)
                        {
                            out.push(m.bytes().to_vec());
                        }
                    }
                    out
                }
            }
        }
    }

    /// Removes `k` random members of a compact set in one pass and returns
    /// them in the set's order (SPOP's listpack strategy).
    fn take_positions(&mut self, picks: &[usize]) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(picks.len());
        let mut p = picks.iter().peekable();
        let mut idx = 0usize;
        self.for_each_elem(|e| {
            if p.peek() == Some(&&idx) {
                out.push(e.to_vec());
                p.next();
            }
            idx += 1;
        });
        for m in &out {
            self.remove(m);
        }
        out
    }

    /// SPOP with a count smaller than the length: removes `count` random
    /// members and returns them, with Redis's two strategies. When few are
    /// taken they are popped one by one (a listpack in one pass); when
    /// most are taken, the members that stay are drawn into a new set
    /// (built from empty as Redis builds it, so its encoding is Redis's:
    /// a listpack or intset again when what stays is small) and the rest
    /// are the reply.
    pub fn pop_many(&mut self, count: usize, l: &SetLimits) -> Vec<Vec<u8>> {
        let size = self.len();
        if count >= size {
            let all = self.to_vecs();
            *self = Set::new_intset();
            return all;
        }
        let remaining = size - count;
        if remaining.saturating_mul(5) > count {
            if self.is_listpack() {
                let picks = Set::sample_positions(size, count);
                return self.take_positions(&picks);
            }
            let mut out = Vec::with_capacity(count);
            for _ in 0..count {
                if let Some(m) = self.pop_random(fastrand::u64(..)) {
                    out.push(m);
                }
            }
            return out;
        }
        // Most of the set goes: draw the members that stay.
        let mut kept: Set;
        if self.is_listpack() {
            let picks = Set::sample_positions(size, remaining);
            let stay = self.take_positions(&picks);
            kept = Set::new_listpack();
            for m in &stay {
                kept.add(m, l);
            }
        } else {
            kept = if self.is_intset() {
                Set::new_intset()
            } else {
                Set::new_listpack()
            };
            for _ in 0..remaining {
                let Some(m) = self.pop_random(fastrand::u64(..)) else {
                    break;
                };
                kept.add(&m, l);
            }
        }
        let out = self.to_vecs();
        *self = kept;
        out
    }

    /// One step of SSCAN over a hashtable: calls `f` with the members of
    /// the home slot named by `cursor` and returns the next cursor (0 at
    /// the end), as [`KeyTable::scan`]. A compact set has no cursor: `f`
    /// gets every member and the cursor returned is 0.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(Elem<'_>)) -> u64 {
        match &self.repr {
            Repr::Table(t) => t.scan(cursor, |m| f(Elem::Str(m.bytes()))),
            _ => {
                self.for_each_elem(f);
                0
            }
        }
    }

    /// Frees spare capacity (after a set is built for a *STORE command).
    pub fn shrink_to_fit(&mut self) {
        match &mut self.repr {
            Repr::Intset(i) => i.shrink_to_fit(),
            Repr::Listpack(l) => l.buf.shrink_to_fit(),
            Repr::Table(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn lim() -> SetLimits {
        SetLimits::default()
    }

    fn members(s: &Set) -> BTreeSet<Vec<u8>> {
        s.to_vecs().into_iter().collect()
    }

    #[test]
    fn intset_widens_and_stays_sorted() {
        let mut s = Set::create(b"1", 1, &lim());
        assert_eq!(s.encoding_name(), "intset");
        for x in [5i64, -3, 70000, i64::MIN, 2, i64::MAX, 5] {
            s.add(x.to_string().as_bytes(), &lim());
        }
        assert_eq!(s.encoding_name(), "intset");
        let got: Vec<i64> = s.to_vecs().iter().map(|b| parse_i64(b).unwrap()).collect();
        assert_eq!(got, vec![i64::MIN, -3, 2, 5, 70000, i64::MAX]);
        assert!(s.contains(b"70000"));
        assert!(!s.contains(b"070000"));
        assert!(s.remove(b"-3"));
        assert!(!s.remove(b"-3"));
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn intset_takes_a_string_as_a_listpack_or_a_table() {
        let mut s = Set::new_intset();
        for x in 0..10 {
            s.add_int(x, &lim());
        }
        s.add(b"abc", &lim());
        assert_eq!(s.encoding_name(), "listpack");
        let order: Vec<Vec<u8>> = s.to_vecs();
        assert_eq!(order.first().map(|v| &v[..]), Some(&b"0"[..]));
        assert_eq!(order.last().map(|v| &v[..]), Some(&b"abc"[..]));
        // Too many integers for a listpack: straight to a table.
        let mut s = Set::new_intset();
        for x in 0..200 {
            s.add_int(x, &lim());
        }
        s.add(b"abc", &lim());
        assert_eq!(s.encoding_name(), "hashtable");
        assert_eq!(s.len(), 201);
        // A long string: a table.
        let mut s = Set::new_intset();
        s.add_int(1, &lim());
        s.add(&[b'x'; 65], &lim());
        assert_eq!(s.encoding_name(), "hashtable");
    }

    #[test]
    fn listpack_converts_past_its_limits() {
        let mut s = Set::create(b"a", 1, &lim());
        assert_eq!(s.encoding_name(), "listpack");
        for i in 0..128 {
            s.add(format!("m{i}").as_bytes(), &lim());
        }
        assert_eq!(s.encoding_name(), "listpack");
        s.add(b"one more", &lim());
        assert_eq!(s.encoding_name(), "hashtable");
        assert_eq!(s.len(), 129);
        let mut s = Set::create(b"a", 1, &lim());
        s.add(&[b'y'; 64], &lim());
        assert_eq!(s.encoding_name(), "listpack");
        s.add(&[b'y'; 65], &lim());
        assert_eq!(s.encoding_name(), "hashtable");
    }

    #[test]
    fn intset_converts_past_max_entries() {
        let l = SetLimits {
            intset_entries: 4,
            ..lim()
        };
        let mut s = Set::new_intset();
        for x in 0..4 {
            s.add_int(x, &l);
        }
        assert_eq!(s.encoding_name(), "intset");
        s.add_int(4, &l);
        assert_eq!(s.encoding_name(), "hashtable");
    }

    #[test]
    fn pop_many_keeps_the_rest() {
        for start in [Set::new_intset(), Set::new_listpack(), Set::new_table()] {
            for count in [1usize, 3, 90, 99] {
                let mut s = start.clone();
                for i in 0..100 {
                    s.add(i.to_string().as_bytes(), &lim());
                }
                let before = members(&s);
                let popped = s.pop_many(count, &lim());
                assert_eq!(popped.len(), count);
                let popped_set: BTreeSet<Vec<u8>> = popped.iter().cloned().collect();
                assert_eq!(popped_set.len(), count, "distinct");
                let after = members(&s);
                assert_eq!(after.len(), 100 - count);
                assert!(after.is_disjoint(&popped_set));
                let union: BTreeSet<Vec<u8>> = after.union(&popped_set).cloned().collect();
                assert_eq!(union, before);
            }
        }
    }

    #[test]
    fn sampling_is_distinct_members() {
        let mut s = Set::new_table();
        for i in 0..1000 {
            s.add(format!("m{i}").as_bytes(), &lim());
        }
        for k in [1, 10, 333, 334, 999, 1000] {
            let got = s.sample_distinct(k);
            let set: BTreeSet<Vec<u8>> = got.iter().cloned().collect();
            assert_eq!(set.len(), k);
            assert!(got.iter().all(|m| s.contains(m)));
        }
    }

    #[test]
    fn table_scan_visits_everything() {
        let mut s = Set::new_table();
        for i in 0..500 {
            s.add(format!("m{i}").as_bytes(), &lim());
        }
        let mut seen = BTreeSet::new();
        let mut c = 0;
        loop {
            c = s.scan(c, |e| {
                seen.insert(e.to_vec());
            });
            if c == 0 {
                break;
            }
        }
        assert_eq!(seen, members(&s));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(String),
        Remove(String),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        let member = prop_oneof![
            (-40i64..40).prop_map(|x| x.to_string()),
            "[a-c]{1,3}",
            (0i64..3).prop_map(|x| format!("{}", i64::MAX - x)),
        ];
        prop_oneof![
            4 => member.clone().prop_map(Op::Add),
            2 => member.prop_map(Op::Remove),
            1 => Just(Op::Pop),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_set(ops in proptest::collection::vec(op(), 0..300)) {
            let l = SetLimits { intset_entries: 20, listpack_entries: 10, listpack_value: 2 };
            let mut s = Set::new_intset();
            let mut model = BTreeSet::new();
            for o in ops {
                match o {
                    Op::Add(m) => {
                        prop_assert_eq!(s.add(m.as_bytes(), &l), model.insert(m.into_bytes()));
                    }
                    Op::Remove(m) => {
                        prop_assert_eq!(s.remove(m.as_bytes()), model.remove(m.as_bytes()));
                    }
                    Op::Pop => {
                        if let Some(m) = s.pop_random(fastrand::u64(..)) {
                            prop_assert!(model.remove(&m));
                        } else {
                            prop_assert!(model.is_empty());
                        }
                    }
                }
                prop_assert_eq!(s.len(), model.len());
                if s.is_listpack() {
                    prop_assert!(s.len() <= 10);
                }
            }
            prop_assert_eq!(members(&s), model.clone());
            for m in &model {
                prop_assert!(s.contains(m));
            }
        }
    }
}
