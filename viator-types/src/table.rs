//! The keyspace hash table: open addressing with linear probing over thin
//! entry pointers, and Redis's reverse-binary SCAN cursor.
//!
//! Why our own table: the keyspace needs SCAN's guarantee (a full iteration
//! returns every key present throughout, even while the table grows or
//! shrinks), random sampling for RANDOMKEY and eviction, and 8-byte slots.
//! No map crate gives bucket-level access for the cursor.
//!
//! Layout: a control byte per slot (0 = empty, otherwise `0x80` plus 7 bits
//! of the hash, so most failed probes never touch an entry) and a slot of
//! `Option<Entry>` (8 bytes). The table keeps at most 3/4 of its slots full
//! and deletes with backward shifting, so the probe sequence of every entry
//! is unbroken: an entry whose home slot is `h` sits in the run of full
//! slots that starts at `h`.
//!
//! SCAN visits home slots in Redis's reverse-binary order and, for each,
//! returns the entries of the run whose home that slot is. Because the
//! cursor walks home slots exactly as Redis's dictScan walks buckets, the
//! same proof applies: growing or shrinking between calls never skips a key
//! that stayed in the table (a key may be returned twice).

use std::sync::OnceLock;

use crate::entry::Entry;

/// The process-wide key hasher, seeded randomly at first use so that keys
/// chosen by a client cannot be made to collide on purpose.
fn hasher() -> &'static ahash::RandomState {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new)
}

/// The hash of a key, as the keyspace uses it everywhere: the high bits pick
/// the shard, the middle bits fill the control byte, the low bits pick the
/// home slot.
#[inline]
pub fn hash_key(key: &[u8]) -> u64 {
    hasher().hash_one(key)
}

/// One step of the SplitMix64 generator: turns one random number into a
/// sequence of well-mixed ones.
#[inline]
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[inline]
fn tag(hash: u64) -> u8 {
    0x80 | ((hash >> 50) as u8 & 0x7f)
}

const MIN_CAPACITY: usize = 8;

/// What a [`KeyTable`] holds: anything with key bytes. The keyspace holds
/// [`Entry`]s; hashes, sets and sorted sets hold their own compact fields
/// and members, so they share the table, its SCAN cursor and its sampling.
pub trait Keyed {
    /// The bytes the table hashes and compares.
    fn key(&self) -> &[u8];
}

impl Keyed for Entry {
    fn key(&self) -> &[u8] {
        Entry::key(self)
    }
}

/// A set of entries keyed by their key bytes. See the module docs.
pub struct KeyTable<T = Entry> {
    ctrl: Vec<u8>,
    slots: Vec<Option<T>>,
    len: usize,
}

impl<T> std::fmt::Debug for KeyTable<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyTable")
            .field("len", &self.len)
            .field("capacity", &self.slots.len())
            .finish()
    }
}

impl<T: Keyed> KeyTable<T> {
    /// An empty table; it allocates on the first insert.
    pub fn new() -> KeyTable<T> {
        KeyTable {
            ctrl: Vec::new(),
            slots: Vec::new(),
            len: 0,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of slots (a power of two, or 0 before the first insert).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Bytes used by the slot arrays (not the entries).
    pub fn overhead_bytes(&self) -> usize {
        self.slots.len() * (1 + std::mem::size_of::<Option<T>>())
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The slot holding `key`, if present. `hash` must be `hash_key(key)`.
    #[inline]
    pub fn find(&self, key: &[u8], hash: u64) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let t = tag(hash);
        let mut i = hash as usize & mask;
        loop {
            let c = self.ctrl[i];
            if c == 0 {
                return None;
            }
            if c == t
                && let Some(e) = &self.slots[i]
                && e.key() == key
            {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The entry for `key`. `hash` must be `hash_key(key)`.
    #[inline]
    pub fn get(&self, key: &[u8], hash: u64) -> Option<&T> {
        self.find(key, hash).and_then(|i| self.slots[i].as_ref())
    }

    /// The entry for `key`, mutably. `hash` must be `hash_key(key)`.
    #[inline]
    pub fn get_mut(&mut self, key: &[u8], hash: u64) -> Option<&mut T> {
        let i = self.find(key, hash)?;
        self.slots[i].as_mut()
    }

    /// The entry in slot `i`.
    pub fn at(&self, i: usize) -> Option<&T> {
        self.slots.get(i).and_then(|s| s.as_ref())
    }

    /// The entry in slot `i`, mutably.
    pub fn at_mut(&mut self, i: usize) -> Option<&mut T> {
        self.slots.get_mut(i).and_then(|s| s.as_mut())
    }

    /// Inserts `entry`, replacing and returning an entry with the same key.
    pub fn insert(&mut self, entry: T) -> Option<T> {
        let hash = hash_key(entry.key());
        if let Some(i) = self.find(entry.key(), hash) {
            return self.slots[i].replace(entry);
        }
        self.insert_new(hash, entry);
        None
    }

    /// Inserts an entry whose key is known to be absent. `hash` must be
    /// `hash_key(entry.key())`. Returns its slot.
    pub fn insert_new(&mut self, hash: u64, entry: T) -> usize {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.resize((self.slots.len() * 2).max(MIN_CAPACITY));
        }
        let i = self.place(hash, entry);
        self.len += 1;
        i
    }

    fn place(&mut self, hash: u64, entry: T) -> usize {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        while self.ctrl[i] != 0 {
            i = (i + 1) & mask;
        }
        self.ctrl[i] = tag(hash);
        self.slots[i] = Some(entry);
        i
    }

    fn resize(&mut self, capacity: usize) {
        debug_assert!(capacity.is_power_of_two() && capacity >= self.len);
        let old = std::mem::take(&mut self.slots);
        self.ctrl = vec![0; capacity];
        self.slots.resize_with(capacity, || None);
        for e in old.into_iter().flatten() {
            let h = hash_key(e.key());
            self.place(h, e);
        }
    }

    /// Removes and returns the entry for `key`.
    pub fn remove(&mut self, key: &[u8], hash: u64) -> Option<T> {
        let i = self.find(key, hash)?;
        self.remove_at(i)
    }

    /// Removes and returns the entry in slot `i`.
    pub fn remove_at(&mut self, i: usize) -> Option<T> {
        let removed = self.take_at(i)?;
        self.shrink_if_sparse();
        Some(removed)
    }

    fn shrink_if_sparse(&mut self) {
        if self.slots.len() > MIN_CAPACITY && self.len * 8 < self.slots.len() {
            self.resize((self.len * 2).next_power_of_two().max(MIN_CAPACITY));
        }
    }

    /// Removes the entry in slot `i` without shrinking the table, so that
    /// slot positions stay meaningful for a caller walking them.
    fn take_at(&mut self, i: usize) -> Option<T> {
        let removed = self.slots.get_mut(i)?.take()?;
        self.ctrl[i] = 0;
        self.len -= 1;
        // Backward-shift: pull later entries of the run into the hole when
        // their home slot is not inside (hole, position].
        let mask = self.mask();
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            if self.ctrl[j] == 0 {
                break;
            }
            let Some(e) = &self.slots[j] else { break };
            let home = hash_key(e.key()) as usize & mask;
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.ctrl[hole] = self.ctrl[j];
                self.slots[hole] = self.slots[j].take();
                self.ctrl[j] = 0;
                hole = j;
            }
        }
        Some(removed)
    }

    /// Removes every entry and frees the slots.
    pub fn clear(&mut self) {
        *self = KeyTable::new();
    }

    /// Visits the home slot named by `cursor` and calls `f` with each entry
    /// whose home it is; returns the next cursor, 0 when the iteration is
    /// complete. Start with cursor 0.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&T)) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let mask = self.mask();
        let home = cursor as usize & mask;
        let mut i = home;
        while self.ctrl[i] != 0 {
            if let Some(e) = &self.slots[i]
                && hash_key(e.key()) as usize & mask == home
            {
                f(e);
            }
            i = (i + 1) & mask;
        }
        // Increment the reversed cursor (Redis's dictScan).
        let mut v = cursor | !(mask as u64);
        v = v.reverse_bits().wrapping_add(1).reverse_bits();
        v
    }

    /// A slot holding an entry, chosen uniformly at random (`r` is a random
    /// number that seeds the draws), as Redis's `dictGetFairRandomKey` aims
    /// for: SRANDMEMBER and HRANDFIELD with negative counts draw many times
    /// and their tests check the histogram.
    ///
    /// Random slots are drawn until one is full. The table is kept at least
    /// 1/8 full, so that takes 8 draws on average; after 64 empty draws (odds
    /// below one in 5000) the next full slot is taken instead.
    pub fn random_slot(&self, r: u64) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let mut x = r;
        let mut i = 0;
        for _ in 0..64 {
            x = splitmix64(x);
            i = (x >> 32) as usize & mask;
            if self.ctrl[i] != 0 {
                return Some(i);
            }
        }
        while self.ctrl[i] == 0 {
            i = (i + 1) & mask;
        }
        Some(i)
    }

    /// Every entry, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten()
    }

    /// Removes every entry for which `keep` returns false.
    /// Each entry is offered to `keep` exactly once.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        // Walk once round from just after an empty slot. Backward shifting
        // moves an entry back within its run and never across an empty
        // slot, so it lands in slot i (looked at again) or in a slot not
        // reached yet; starting at slot 0 instead, a run that wraps past the
        // end would bring already-visited entries back in front of the walk.
        let Some(empty) = self.ctrl.iter().position(|&c| c == 0) else {
            return;
        };
        let mask = self.mask();
        let mut n = 1;
        while n < self.slots.len() {
            let i = (empty + n) & mask;
            match &self.slots[i] {
                Some(e) if !keep(e) => {
                    // Backward shifting may move an unvisited entry into
                    // slot i, so look at it again.
                    self.take_at(i);
                }
                _ => n += 1,
            }
        }
        self.shrink_if_sparse();
    }
}

impl<T> Default for KeyTable<T> {
    fn default() -> KeyTable<T> {
        KeyTable {
            ctrl: Vec::new(),
            slots: Vec::new(),
            len: 0,
        }
    }
}

/// The keys of a shard that have an expire time, by hash: what the active
/// expiry cycle sweeps, so that it never walks keys without a TTL.
///
/// It holds 64-bit key hashes (a hash of 0 is stored as 1, so that 0 means
/// empty), not keys, so a key with a TTL costs 8 bytes here and entries can
/// move freely. Two keys with the same hash are two elements.
#[derive(Default, Debug)]
pub struct ExpireSet {
    slots: Vec<u64>,
    len: usize,
}

#[inline]
fn expire_id(hash: u64) -> u64 {
    hash.max(1)
}

impl ExpireSet {
    /// Number of keys with an expire time.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no key has an expire time.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Records a key with this hash as having an expire time.
    pub fn insert(&mut self, hash: u64) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.resize((self.slots.len() * 2).max(MIN_CAPACITY));
        }
        let mask = self.slots.len() - 1;
        let id = expire_id(hash);
        let mut i = id as usize & mask;
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = id;
        self.len += 1;
    }

    fn resize(&mut self, capacity: usize) {
        let old = std::mem::replace(&mut self.slots, vec![0; capacity]);
        let mask = capacity - 1;
        for id in old.into_iter().filter(|&id| id != 0) {
            let mut i = id as usize & mask;
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = id;
        }
    }

    /// Forgets one key with this hash. Returns whether one was recorded.
    pub fn remove(&mut self, hash: u64) -> bool {
        if self.len == 0 {
            return false;
        }
        let mask = self.slots.len() - 1;
        let id = expire_id(hash);
        let mut i = id as usize & mask;
        loop {
            match self.slots[i] {
                0 => return false,
                x if x == id => break,
                _ => i = (i + 1) & mask,
            }
        }
        self.slots[i] = 0;
        self.len -= 1;
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let x = self.slots[j];
            if x == 0 {
                break;
            }
            let home = x as usize & mask;
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots[hole] = x;
                self.slots[j] = 0;
                hole = j;
            }
        }
        if self.slots.len() > MIN_CAPACITY && self.len * 8 < self.slots.len() {
            self.resize((self.len * 2).next_power_of_two().max(MIN_CAPACITY));
        }
        true
    }

    /// Removes every element.
    pub fn clear(&mut self) {
        *self = ExpireSet::default();
    }

    /// Number of slots, for sizing a sweep.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The hash id stored in slot `i` (0 when empty). Compare it with a
    /// key's hash through [`ExpireSet::matches`].
    pub fn slot(&self, i: usize) -> u64 {
        self.slots.get(i).copied().unwrap_or(0)
    }

    /// Whether the stored id `id` stands for a key with hash `hash`.
    pub fn matches(id: u64, hash: u64) -> bool {
        id != 0 && id == expire_id(hash)
    }
}

impl<T: Keyed> KeyTable<T> {
    /// Calls `f` with each entry whose hash stands for the expire-set id
    /// `id`. Used by the expiry sweep to go from an
    /// [`ExpireSet`] slot to the keys it stands for.
    pub fn for_each_with_id(&self, id: u64, mut f: impl FnMut(usize, &T)) {
        if self.len == 0 || id == 0 {
            return;
        }
        let mask = self.mask();
        // Only the id 1 is ambiguous (hash 0 or 1), with two home slots.
        let starts = [id as usize & mask, 0];
        let n = if id == 1 && mask != 0 { 2 } else { 1 };
        for &start in &starts[..n] {
            let mut i = start;
            while self.ctrl[i] != 0 {
                if let Some(e) = &self.slots[i] {
                    let h = hash_key(e.key());
                    if expire_id(h) == id && h as usize & mask == start {
                        f(i, e);
                    }
                }
                i = (i + 1) & mask;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn key(i: usize) -> Vec<u8> {
        format!("key:{i}").into_bytes()
    }

    #[test]
    fn insert_find_remove() {
        let mut t = KeyTable::new();
        for i in 0..5000 {
            assert!(t.insert(Entry::new_string(&key(i), b"v")).is_none());
        }
        assert_eq!(t.len(), 5000);
        for i in 0..5000 {
            let k = key(i);
            assert!(t.get(&k, hash_key(&k)).is_some(), "missing {i}");
        }
        for i in (0..5000).step_by(2) {
            let k = key(i);
            assert!(t.remove(&k, hash_key(&k)).is_some());
        }
        for i in 0..5000 {
            let k = key(i);
            assert_eq!(t.get(&k, hash_key(&k)).is_some(), i % 2 == 1, "key {i}");
        }
        for i in (1..5000).step_by(2) {
            let k = key(i);
            assert!(t.remove(&k, hash_key(&k)).is_some());
        }
        assert!(t.is_empty());
        assert!(t.capacity() <= MIN_CAPACITY);
    }

    fn full_scan(t: &KeyTable) -> HashSet<Vec<u8>> {
        let mut seen = HashSet::new();
        let mut c = 0;
        loop {
            c = t.scan(c, |e| {
                seen.insert(e.key().to_vec());
            });
            if c == 0 {
                break;
            }
        }
        seen
    }

    #[test]
    fn scan_returns_every_key() {
        let mut t = KeyTable::new();
        for i in 0..3000 {
            t.insert(Entry::new_string(&key(i), b"v"));
        }
        assert_eq!(full_scan(&t).len(), 3000);
    }

    #[test]
    fn scan_survives_growth_and_shrinking() {
        // Keys 0..1000 stay throughout; others come and go between calls.
        let mut t = KeyTable::new();
        for i in 0..1000 {
            t.insert(Entry::new_string(&key(i), b"v"));
        }
        let mut seen = HashSet::new();
        let mut c = 0;
        let mut step = 0usize;
        loop {
            c = t.scan(c, |e| {
                seen.insert(e.key().to_vec());
            });
            step += 1;
            if step % 3 == 0 && step < 3000 {
                for j in 0..50 {
                    t.insert(Entry::new_string(&key(100_000 + step * 50 + j), b"v"));
                }
            }
            if step % 5 == 0 && step > 1500 {
                let victims: Vec<Vec<u8>> = t
                    .iter()
                    .map(|e| e.key().to_vec())
                    .filter(|k| k.len() > 7)
                    .take(400)
                    .collect();
                for k in victims {
                    t.remove(&k, hash_key(&k));
                }
            }
            if c == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(&key(i)), "scan missed key {i}");
        }
    }

    #[test]
    fn retain_and_random() {
        let mut t = KeyTable::new();
        for i in 0..1000 {
            t.insert(Entry::new_string(&key(i), b"v"));
        }
        t.retain(|e| e.key().ends_with(b"7"));
        assert_eq!(t.len(), 100);
        for r in 0..100u64 {
            let i = t.random_slot(r.wrapping_mul(0x9e3779b97f4a7c15)).unwrap();
            assert!(t.at(i).unwrap().key().ends_with(b"7"));
        }
        for e in t.iter() {
            let k = e.key();
            assert_eq!(
                t.find(k, hash_key(k)).map(|i| t.at(i).unwrap().key()),
                Some(k)
            );
        }
    }

    #[test]
    fn expire_set_finds_keys_by_id() {
        let mut t = KeyTable::new();
        let mut x = ExpireSet::default();
        for i in 0..2000 {
            let k = key(i);
            t.insert(Entry::new_string(&k, b"v"));
            if i % 3 == 0 {
                x.insert(hash_key(&k));
            }
        }
        assert_eq!(x.len(), 667);
        let mut found = 0;
        for s in 0..x.capacity() {
            let id = x.slot(s);
            if id != 0 {
                t.for_each_with_id(id, |_, e| {
                    assert!(ExpireSet::matches(id, hash_key(e.key())));
                    found += 1;
                });
            }
        }
        assert_eq!(found, 667);
        for i in (0..2000).step_by(3) {
            assert!(x.remove(hash_key(&key(i))));
        }
        assert!(x.is_empty());
    }

    #[test]
    fn random_slots_are_drawn_uniformly() {
        // A sparse table, where "next full slot after a random one" would
        // favour entries after long gaps.
        let mut t: KeyTable = KeyTable::new();
        for i in 0..10 {
            t.insert(Entry::new_string(&key(i), b"v"));
        }
        let mut counts = std::collections::HashMap::new();
        let mut r = 12345u64;
        for _ in 0..100_000 {
            r = splitmix64(r);
            let slot = t.random_slot(r).unwrap();
            *counts
                .entry(t.at(slot).unwrap().key().to_vec())
                .or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 10);
        for (k, n) in counts {
            assert!((9_000..11_000).contains(&n), "{k:?} drawn {n} times");
        }
    }
}
