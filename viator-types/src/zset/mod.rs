//! A sorted set (Redis `OBJ_ZSET`): members with scores, ordered by score
//! and then by member bytes.
//!
//! Two encodings, with Redis's OBJECT ENCODING names and switching rules
//! (the thresholds are `zset-max-listpack-entries` and
//! `zset-max-listpack-value`, passed in as [`Limits`]):
//!
//! - `listpack`: a sorted vector of (score, member), for small sets. Every
//!   operation is a linear scan, as in Redis's listpack, and cheap at the
//!   sizes the thresholds allow.
//! - `skiplist` (the name Redis shows; the structure differs): member
//!   blocks ([`ThinParts`](crate::thin::ThinParts): the member and its
//!   score in one allocation) in a slab, a hash index from member to slab
//!   id (ZSCORE, and the ZSCAN cursor), and an order-statistic B+tree over
//!   (score, id) ([`tree`]) for ranks and ranges in O(log n). Member bytes
//!   are stored once; the index and the tree hold 4-byte ids. About 60
//!   bytes a member for `member:<i>` members, against Redis's 100.
//!
//! A set converts from listpack to skiplist when an insertion passes a
//! threshold, and never back on deletion; only the results of the STORE
//! commands convert back ([`ZSet::shrink_to_fit_encoding`]), as Redis's
//! `zsetConvertToListpackIfNeeded`.

pub mod tree;

use std::cmp::Ordering;

use crate::table::hash_key;
use tree::{Slab, Tree};

/// The encoding thresholds: `zset-max-listpack-entries` and
/// `zset-max-listpack-value`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most members a listpack holds.
    pub max_entries: usize,
    /// Longest member a listpack holds.
    pub max_value: usize,
}

/// A member of a listpack-encoded set, with its score.
#[derive(Debug, Clone)]
pub struct LpEntry {
    score: f64,
    member: Box<[u8]>,
}

/// Orders (score, member) pairs as Redis does: by score, then by bytes.
#[inline]
fn order(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    if s1 < s2 {
        Ordering::Less
    } else if s1 > s2 {
        Ordering::Greater
    } else {
        m1.cmp(m2)
    }
}

const EMPTY: u32 = u32::MAX;
const MIN_INDEX: usize = 8;

/// Hash index from member bytes to slab id: open addressing with linear
/// probing over 4-byte ids, at most 3/4 full, deleting by backward shift
/// (as [`KeyTable`](crate::table::KeyTable), whose entries must own their
/// key bytes, which would store every member twice here).
#[derive(Debug, Clone, Default)]
struct Index {
    slots: Vec<u32>,
    len: usize,
}

impl Index {
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    fn find(&self, slab: &Slab, member: &[u8], hash: u64) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            let id = self.slots[i];
            if id == EMPTY {
                return None;
            }
            if slab.member(id) == member {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    fn place(&mut self, hash: u64, id: u32) {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        while self.slots[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = id;
    }

    fn insert(&mut self, slab: &Slab, hash: u64, id: u32) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.resize(slab, (self.slots.len() * 2).max(MIN_INDEX));
        }
        self.place(hash, id);
        self.len += 1;
    }

    fn resize(&mut self, slab: &Slab, capacity: usize) {
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; capacity]);
        for id in old.into_iter().filter(|&id| id != EMPTY) {
            self.place(hash_key(slab.member(id)), id);
        }
    }

    fn remove_at(&mut self, slab: &Slab, i: usize) {
        self.slots[i] = EMPTY;
        self.len -= 1;
        let mask = self.mask();
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let id = self.slots[j];
            if id == EMPTY {
                break;
            }
            let home = hash_key(slab.member(id)) as usize & mask;
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots[hole] = id;
                self.slots[j] = EMPTY;
                hole = j;
            }
        }
        if self.slots.len() > MIN_INDEX && self.len * 8 < self.slots.len() {
            self.resize(slab, (self.len * 2).next_power_of_two().max(MIN_INDEX));
        }
    }

    /// One step of a reverse-binary cursor, as [`KeyTable::scan`](crate::table::KeyTable::scan).
    fn scan(&self, slab: &Slab, cursor: u64, mut f: impl FnMut(u32)) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let mask = self.mask();
        let home = cursor as usize & mask;
        let mut i = home;
        while self.slots[i] != EMPTY {
            let id = self.slots[i];
            if hash_key(slab.member(id)) as usize & mask == home {
                f(id);
            }
            i = (i + 1) & mask;
        }
        let v = cursor | !(mask as u64);
        v.reverse_bits().wrapping_add(1).reverse_bits()
    }
}

/// The `skiplist` encoding. See the module docs.
#[derive(Debug, Clone, Default)]
pub struct Big {
    slab: Slab,
    index: Index,
    tree: Tree,
}

impl Big {
    fn id_of(&self, member: &[u8]) -> Option<(usize, u32)> {
        let slot = self.index.find(&self.slab, member, hash_key(member))?;
        Some((slot, self.index.slots[slot]))
    }

    fn insert_new(&mut self, member: &[u8], score: f64) {
        let id = self.slab.alloc(member, score);
        self.index.insert(&self.slab, hash_key(member), id);
        self.tree.insert(&self.slab, score, id);
    }

    fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (slot, id) = self.id_of(member)?;
        let score = self.slab.score(id);
        self.tree.remove(&self.slab, score, member);
        self.index.remove_at(&self.slab, slot);
        self.slab.release(id);
        Some(score)
    }
}

/// A sorted set (Redis `OBJ_ZSET`). See the module docs.
#[derive(Debug, Clone)]
pub enum ZSet {
    /// Small: a sorted vector.
    Listpack(Vec<LpEntry>),
    /// Big: slab, hash index and order-statistic tree.
    Skiplist(Box<Big>),
}

impl Default for ZSet {
    fn default() -> ZSet {
        ZSet::Listpack(Vec::new())
    }
}

impl ZSet {
    /// An empty set encoded for `size_hint` members of at most
    /// `max_len` bytes, as Redis's `zsetTypeCreate`.
    pub fn with_hint(size_hint: usize, max_len: usize, limits: Limits) -> ZSet {
        if size_hint <= limits.max_entries && max_len <= limits.max_value {
            ZSet::Listpack(Vec::with_capacity(size_hint.min(limits.max_entries)))
        } else {
            ZSet::Skiplist(Box::default())
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(v) => v.len(),
            ZSet::Skiplist(b) => b.tree.len(),
        }
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The OBJECT ENCODING name of its current representation.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::Skiplist(_) => "skiplist",
        }
    }

    /// Bytes of memory it uses, for MEMORY USAGE.
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<Self>()
            + match self {
                ZSet::Listpack(v) => {
                    v.capacity() * std::mem::size_of::<LpEntry>()
                        + v.iter().map(|e| e.member.len()).sum::<usize>()
                }
                ZSet::Skiplist(b) => {
                    std::mem::size_of::<Big>()
                        + b.slab.memory()
                        + b.index.slots.capacity() * 4
                        + b.tree.memory()
                }
            }
    }

    /// Calls `f` with its members with their scores, by rank.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        self.walk(0, false, |m, s| {
            f(m, s);
            true
        });
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(v) => v.iter().find(|e| &*e.member == member).map(|e| e.score),
            ZSet::Skiplist(b) => b.id_of(member).map(|(_, id)| b.slab.score(id)),
        }
    }

    /// The 0-based rank (by ascending score) of `member`, with its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match self {
            ZSet::Listpack(v) => v
                .iter()
                .position(|e| &*e.member == member)
                .map(|i| (i, v[i].score)),
            ZSet::Skiplist(b) => {
                let (_, id) = b.id_of(member)?;
                let score = b.slab.score(id);
                b.tree.rank(&b.slab, score, member).map(|r| (r, score))
            }
        }
    }

    /// The member at rank `rank`, with its score.
    pub fn at(&self, rank: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSet::Listpack(v) => v.get(rank).map(|e| (&*e.member, e.score)),
            ZSet::Skiplist(b) => {
                let (score, id) = b.tree.select(rank)?;
                Some((b.slab.member(id), score))
            }
        }
    }

    /// The number of leading members (by rank) for which `before` is true;
    /// `before` must hold for a prefix of the order and not after it.
    pub fn partition_point(&self, mut before: impl FnMut(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSet::Listpack(v) => v.partition_point(|e| before(e.score, &e.member)),
            ZSet::Skiplist(b) => b.tree.partition_point(|s, id| before(s, b.slab.member(id))),
        }
    }

    /// Calls `f` with the members from rank `from` on, upwards (or
    /// downwards when `rev`), until it returns false.
    pub fn walk(&self, from: usize, rev: bool, mut f: impl FnMut(&[u8], f64) -> bool) {
        match self {
            ZSet::Listpack(v) => {
                if rev {
                    if v.is_empty() {
                        return;
                    }
                    for e in v[..=from.min(v.len() - 1)].iter().rev() {
                        if !f(&e.member, e.score) {
                            return;
                        }
                    }
                } else {
                    for e in v.iter().skip(from) {
                        if !f(&e.member, e.score) {
                            return;
                        }
                    }
                }
            }
            ZSet::Skiplist(b) => {
                let slab = &b.slab;
                if rev {
                    b.tree.walk_rev(from, |s, id| f(slab.member(id), s));
                } else {
                    b.tree.walk(from, |s, id| f(slab.member(id), s));
                }
            }
        }
    }

    /// Converts to the skiplist encoding.
    pub fn convert_to_skiplist(&mut self) {
        if let ZSet::Listpack(v) = self {
            let mut big = Box::<Big>::default();
            for e in v.iter() {
                big.insert_new(&e.member, e.score);
            }
            *self = ZSet::Skiplist(big);
        }
    }

    /// Adds `member`, which must be absent, converting to the skiplist
    /// encoding first when the listpack would pass a threshold (Redis's
    /// `zsetAdd`).
    pub fn insert_new(&mut self, member: &[u8], score: f64, limits: Limits) {
        if let ZSet::Listpack(v) = self
            && (v.len() + 1 > limits.max_entries || member.len() > limits.max_value)
        {
            self.convert_to_skiplist();
        }
        match self {
            ZSet::Listpack(v) => {
                // A listpack stores integral scores as integers, so -0
                // comes back as 0 (Redis's `zzlInsertAt`).
                let score = if score == 0.0 { 0.0 } else { score };
                let pos = v.partition_point(|e| {
                    order(e.score, &e.member, score, member) == Ordering::Less
                });
                v.insert(
                    pos,
                    LpEntry {
                        score,
                        member: member.into(),
                    },
                );
            }
            ZSet::Skiplist(b) => b.insert_new(member, score),
        }
    }

    /// Changes the score of `member`, which must be present.
    pub fn update(&mut self, member: &[u8], score: f64) {
        match self {
            ZSet::Listpack(v) => {
                let Some(i) = v.iter().position(|e| &*e.member == member) else {
                    return;
                };
                let mut e = v.remove(i);
                let score = if score == 0.0 { 0.0 } else { score };
                e.score = score;
                let pos = v.partition_point(|x| {
                    order(x.score, &x.member, score, member) == Ordering::Less
                });
                v.insert(pos, e);
            }
            ZSet::Skiplist(b) => {
                let Some((_, id)) = b.id_of(member) else {
                    return;
                };
                let old = b.slab.score(id);
                b.tree.remove(&b.slab, old, member);
                b.slab.set_score(id, score);
                b.tree.insert(&b.slab, score, id);
            }
        }
    }

    /// Removes `member`; returns its score if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(v) => {
                let i = v.iter().position(|e| &*e.member == member)?;
                Some(v.remove(i).score)
            }
            ZSet::Skiplist(b) => b.remove(member),
        }
    }

    /// Removes the members of ranks `start..=end` (clamped); returns how
    /// many.
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> usize {
        let len = self.len();
        if start >= len || start > end {
            return 0;
        }
        let end = end.min(len - 1);
        match self {
            ZSet::Listpack(v) => {
                v.drain(start..=end);
            }
            ZSet::Skiplist(b) => {
                let mut victims = Vec::with_capacity(end - start + 1);
                b.tree.walk(start, |_, id| {
                    victims.push(id);
                    victims.len() < end - start + 1
                });
                for id in victims {
                    let m = b.slab.member(id).to_vec();
                    b.remove(&m);
                }
            }
        }
        end - start + 1
    }

    /// Converts a skiplist back to a listpack when it fits (Redis's
    /// `zsetConvertToListpackIfNeeded`, for STORE results).
    pub fn shrink_to_fit_encoding(&mut self, limits: Limits) {
        if let ZSet::Skiplist(_) = self
            && self.len() <= limits.max_entries
        {
            let mut fits = true;
            let mut v = Vec::with_capacity(self.len());
            self.for_each(|m, s| {
                fits &= m.len() <= limits.max_value;
                v.push(LpEntry {
                    score: s,
                    member: m.into(),
                });
            });
            if fits {
                *self = ZSet::Listpack(v);
            }
        }
    }

    /// One ZSCAN step: calls `f` with some members and returns the next
    /// cursor (0 at the end). A listpack returns everything at once, as
    /// Redis does; a skiplist visits one home slot of its hash index.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Listpack(v) => {
                for e in v {
                    f(&e.member, e.score);
                }
                0
            }
            ZSet::Skiplist(b) => b.index.scan(&b.slab, cursor, |id| {
                f(b.slab.member(id), b.slab.score(id));
            }),
        }
    }

    #[cfg(test)]
    fn check(&self) {
        if let ZSet::Skiplist(b) = self {
            b.tree.check(&b.slab);
            assert_eq!(b.index.len, b.tree.len());
        }
    }
}

#[cfg(test)]
mod tests;
