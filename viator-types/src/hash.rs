//! A hash (Redis `OBJ_HASH`), with per-field expiry (Redis 7.4+ HFE).
//!
//! Two representations, switched exactly where Redis switches them:
//!
//! - **Packed** (OBJECT ENCODING `listpack`, or `listpackex` once a field
//!   expiry command touched it): every field and value in one byte buffer,
//!   in insertion order. In the `listpackex` form each entry also carries an
//!   expire time, and entries are kept in Redis's order: fields with a TTL
//!   first, by expire time (a field whose TTL changes moves before the first
//!   entry with an equal or later time), then fields without one. HGETALL
//!   therefore answers in the same order as Redis.
//! - **Table** (`hashtable`): a [`KeyTable`] of [`Field`]s, one
//!   [`ThinParts`] allocation per field holding the field, the value and,
//!   only when set, the expire time; plus an ordered set of the fields that
//!   have a TTL, so that expiring them never walks the whole hash.
//!
//! A packed hash becomes a table when it would hold more than
//! `hash-max-listpack-entries` fields or a field or value longer than
//! `hash-max-listpack-value` bytes ([`Limits`]); a table never goes back.
//!
//! Expiry is by the caller's clock: methods take `now` (unix ms) and a field
//! whose expire time is before `now` counts as gone. Commands call
//! [`Hash::remove_expired`] before they look at a hash, so the other methods
//! never need to skip expired fields.

use std::collections::BTreeSet;

use crate::table::{KeyTable, Keyed, hash_key};
use crate::thin::ThinParts;

/// The encoding thresholds (`hash-max-listpack-entries`,
/// `hash-max-listpack-value`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most fields a packed hash holds.
    pub max_entries: usize,
    /// Longest field or value a packed hash holds.
    pub max_value: usize,
}

/// The condition of HEXPIRE and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireCond {
    /// Always set.
    None,
    /// Only if the field has no TTL.
    Nx,
    /// Only if the field has a TTL.
    Xx,
    /// Only if the new time is later than the field's (which must have one).
    Gt,
    /// Only if the new time is earlier than the field's (a field with no
    /// TTL counts as infinite, so it always gets one).
    Lt,
}

/// Result codes of HEXPIRE and friends.
pub mod code {
    /// No such field.
    pub const NO_FIELD: i64 = -2;
    /// Condition not met.
    pub const NOT_MET: i64 = 0;
    /// Expire time set.
    pub const SET: i64 = 1;
    /// The time was not in the future: the field was deleted.
    pub const DELETED: i64 = 2;
    /// HPERSIST: the field has no TTL.
    pub const NO_TTL: i64 = -1;
}

/// One field of a big hash: field, value and optional expire time (8 bytes,
/// little-endian) in one thin allocation.
#[derive(Debug, Clone)]
pub struct Field(ThinParts);

impl Field {
    fn new(field: &[u8], value: &[u8], expire: Option<i64>) -> Field {
        match expire {
            None => Field(ThinParts::new(&[field, value])),
            Some(t) => Field(ThinParts::new(&[field, value, &t.to_le_bytes()])),
        }
    }

    /// The field name.
    pub fn name(&self) -> &[u8] {
        self.0.part(0)
    }

    /// The value.
    pub fn value(&self) -> &[u8] {
        self.0.part(1)
    }

    /// The expire time in unix milliseconds, if any.
    pub fn expire(&self) -> Option<i64> {
        if self.0.count() < 3 {
            return None;
        }
        let b: [u8; 8] = self.0.part(2).try_into().ok()?;
        Some(i64::from_le_bytes(b))
    }
}

impl Keyed for Field {
    fn key(&self) -> &[u8] {
        self.0.part(0)
    }
}

/// Bytes of a length prefix (as [`ThinParts`]: one byte, or 255 and a u64).
fn len_size(n: usize) -> usize {
    if n < 255 { 1 } else { 9 }
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    if n < 255 {
        out.push(n as u8);
    } else {
        out.push(255);
        out.extend_from_slice(&(n as u64).to_le_bytes());
    }
}

/// Reads a length prefix at `at`; returns (length, bytes of the prefix).
fn get_len(buf: &[u8], at: usize) -> (usize, usize) {
    match buf[at] {
        255 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[at + 1..at + 9]);
            (u64::from_le_bytes(b) as usize, 9)
        }
        n => (n as usize, 1),
    }
}

/// Where one entry of a packed hash lies in its buffer.
#[derive(Debug, Clone, Copy)]
struct Slot {
    start: usize,
    field: (usize, usize),
    value: (usize, usize),
    expire: Option<i64>,
    end: usize,
}

/// The packed representation (see the module docs).
#[derive(Debug, Clone, Default)]
struct Pack {
    buf: Vec<u8>,
    len: usize,
    /// `listpackex`: each entry ends with an i64 expire time (0 for none).
    ex: bool,
}

impl Pack {
    fn slot_at(&self, start: usize) -> Slot {
        let (flen, fl) = get_len(&self.buf, start);
        let fstart = start + fl;
        let vat = fstart + flen;
        let (vlen, vl) = get_len(&self.buf, vat);
        let vstart = vat + vl;
        let mut end = vstart + vlen;
        let mut expire = None;
        if self.ex {
            let mut b = [0u8; 8];
            b.copy_from_slice(&self.buf[end..end + 8]);
            let t = i64::from_le_bytes(b);
            expire = (t != 0).then_some(t);
            end += 8;
        }
        Slot {
            start,
            field: (fstart, flen),
            value: (vstart, vlen),
            expire,
            end,
        }
    }

    fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            if at >= self.buf.len() {
                return None;
            }
            let s = self.slot_at(at);
            at = s.end;
            Some(s)
        })
    }

    fn bytes(&self, r: (usize, usize)) -> &[u8] {
        &self.buf[r.0..r.0 + r.1]
    }

    fn find(&self, field: &[u8]) -> Option<Slot> {
        self.slots().find(|s| self.bytes(s.field) == field)
    }

    fn encode(&self, field: &[u8], value: &[u8], expire: Option<i64>) -> Vec<u8> {
        let mut e = Vec::with_capacity(
            len_size(field.len()) + field.len() + len_size(value.len()) + value.len() + 8,
        );
        put_len(&mut e, field.len());
        e.extend_from_slice(field);
        put_len(&mut e, value.len());
        e.extend_from_slice(value);
        if self.ex {
            e.extend_from_slice(&expire.unwrap_or(0).to_le_bytes());
        }
        e
    }

    fn append(&mut self, field: &[u8], value: &[u8], expire: Option<i64>) {
        let e = self.encode(field, value, expire);
        self.buf.extend_from_slice(&e);
        self.len += 1;
    }

    fn remove(&mut self, s: Slot) {
        self.buf.drain(s.start..s.end);
        self.len -= 1;
    }

    /// Inserts an entry with expire time `at` in TTL order: before the
    /// first entry with no TTL or a time not earlier than `at` (Redis's
    /// `listpackExUpdateExpiry`).
    fn insert_ordered(&mut self, field: &[u8], value: &[u8], at: i64) {
        let pos = self
            .slots()
            .find(|s| s.expire.is_none_or(|t| t >= at))
            .map_or(self.buf.len(), |s| s.start);
        let e = self.encode(field, value, Some(at));
        self.buf.splice(pos..pos, e);
        self.len += 1;
    }

    fn replace_value(&mut self, s: Slot, value: &[u8]) {
        let at = s.value.0 - len_size(s.value.1);
        let mut e = Vec::with_capacity(len_size(value.len()) + value.len());
        put_len(&mut e, value.len());
        e.extend_from_slice(value);
        self.buf.splice(at..s.value.0 + s.value.1, e);
    }
}

/// The table representation (see the module docs).
#[derive(Debug, Default)]
struct Table {
    map: KeyTable<Field>,
    /// (expire time, field) of every field with a TTL.
    ttls: BTreeSet<(i64, Box<[u8]>)>,
}

impl Clone for Table {
    fn clone(&self) -> Table {
        let mut map = KeyTable::new();
        for f in self.map.iter() {
            map.insert_new(hash_key(f.name()), f.clone());
        }
        Table {
            map,
            ttls: self.ttls.clone(),
        }
    }
}

impl Table {
    fn get(&self, field: &[u8]) -> Option<&Field> {
        self.map.get(field, hash_key(field))
    }

    fn put(&mut self, field: &[u8], value: &[u8], expire: Option<i64>) {
        let h = hash_key(field);
        if let Some(old) = self.map.remove(field, h)
            && let Some(t) = old.expire()
        {
            self.ttls.remove(&(t, Box::from(field)));
        }
        if let Some(t) = expire {
            self.ttls.insert((t, Box::from(field)));
        }
        self.map.insert_new(h, Field::new(field, value, expire));
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        match self.map.remove(field, hash_key(field)) {
            Some(old) => {
                if let Some(t) = old.expire() {
                    self.ttls.remove(&(t, Box::from(field)));
                }
                true
            }
            None => false,
        }
    }
}

#[derive(Debug, Clone)]
enum Repr {
    Pack(Pack),
    Table(Table),
}

/// A field, its value and its expire time, as [`Hash::iter`] yields them.
pub type FieldRef<'a> = (&'a [u8], &'a [u8], Option<i64>);

/// A hash (Redis `OBJ_HASH`). See the module docs.
#[derive(Debug, Clone)]
pub struct Hash {
    repr: Repr,
    /// The time under which the shard's [`FieldExpireIndex`] holds this
    /// hash, if it does.
    indexed: Option<i64>,
}

impl Default for Hash {
    fn default() -> Hash {
        Hash::new()
    }
}

impl Hash {
    /// An empty packed hash.
    pub fn new() -> Hash {
        Hash {
            repr: Repr::Pack(Pack::default()),
            indexed: None,
        }
    }

    /// Number of fields (including expired ones not removed yet).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.len,
            Repr::Table(t) => t.map.len(),
        }
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The OBJECT ENCODING name of its current representation.
    pub fn encoding_name(&self) -> &'static str {
        match &self.repr {
            Repr::Pack(p) if p.ex => "listpackex",
            Repr::Pack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Whether it is packed (`listpack` or `listpackex`).
    pub fn is_packed(&self) -> bool {
        matches!(self.repr, Repr::Pack(_))
    }

    /// Bytes of memory it uses, for MEMORY USAGE.
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.repr {
                Repr::Pack(p) => p.buf.capacity(),
                Repr::Table(t) => {
                    t.map.overhead_bytes()
                        + t.map.iter().map(|f| f.0.block_size()).sum::<usize>()
                        + t.ttls.iter().map(|(_, f)| 40 + f.len()).sum::<usize>()
                }
            }
    }

    /// Calls `f` with its fields and values, in iteration order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        for (k, v, _) in self.iter() {
            f(k, v);
        }
    }

    /// Fields, values and expire times, in iteration order (the packed
    /// order, or the table's slot order).
    pub fn iter(&self) -> Box<dyn Iterator<Item = FieldRef<'_>> + '_> {
        match &self.repr {
            Repr::Pack(p) => Box::new(
                p.slots()
                    .map(move |s| (p.bytes(s.field), p.bytes(s.value), s.expire)),
            ),
            Repr::Table(t) => Box::new(t.map.iter().map(|f| (f.name(), f.value(), f.expire()))),
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Pack(p) => p.find(field).map(|s| p.bytes(s.value)),
            Repr::Table(t) => t.get(field).map(|f| f.value()),
        }
    }

    /// `None` if `field` is absent, else its expire time (if it has one).
    pub fn expire_of(&self, field: &[u8]) -> Option<Option<i64>> {
        match &self.repr {
            Repr::Pack(p) => p.find(field).map(|s| s.expire),
            Repr::Table(t) => t.get(field).map(|f| f.expire()),
        }
    }

    /// The earliest field expire time.
    pub fn min_expire(&self) -> Option<i64> {
        match &self.repr {
            Repr::Pack(p) if p.ex => p.slots().next().and_then(|s| s.expire),
            Repr::Pack(_) => None,
            Repr::Table(t) => t.ttls.first().map(|(t, _)| *t),
        }
    }

    /// Number of fields with a TTL.
    pub fn fields_with_expiry(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) if p.ex => p.slots().filter(|s| s.expire.is_some()).count(),
            Repr::Pack(_) => 0,
            Repr::Table(t) => t.ttls.len(),
        }
    }

    /// Converts to a table.
    fn convert_to_table(&mut self) {
        let Repr::Pack(p) = &self.repr else { return };
        let mut t = Table::default();
        for s in p.slots() {
            t.put(p.bytes(s.field), p.bytes(s.value), s.expire);
        }
        self.repr = Repr::Table(t);
    }

    /// Redis's `hashTypeTryConversion` before a write of `new_fields` pairs
    /// whose argument lengths are `lens`: a packed hash becomes a table if
    /// there are more new pairs than the entry limit or any argument is
    /// longer than the value limit.
    pub fn prepare_write(
        &mut self,
        lens: impl IntoIterator<Item = usize>,
        new_fields: usize,
        limits: Limits,
    ) {
        if !self.is_packed() {
            return;
        }
        if new_fields > limits.max_entries || lens.into_iter().any(|n| n > limits.max_value) {
            self.convert_to_table();
        }
    }

    /// Turns a `listpack` into a `listpackex` (what Redis does when a field
    /// expiry command first touches a packed hash, whatever its outcome).
    pub fn enable_field_expiry(&mut self) {
        if let Repr::Pack(p) = &mut self.repr
            && !p.ex
        {
            let mut ex = Pack {
                buf: Vec::with_capacity(p.buf.len() + 8 * p.len),
                len: 0,
                ex: true,
            };
            for s in p.slots() {
                ex.append(p.bytes(s.field), p.bytes(s.value), None);
            }
            *p = ex;
        }
    }

    /// Sets `field` to `value`; returns whether the field is new. Without
    /// `keep_ttl` the field loses its TTL (HSET); with it the TTL stays
    /// (HINCRBY, HSETEX). Converts to a table as Redis's `hashTypeSet` does.
    pub fn set(&mut self, field: &[u8], value: &[u8], keep_ttl: bool, limits: Limits) -> bool {
        if self.is_packed() && (field.len() > limits.max_value || value.len() > limits.max_value) {
            self.convert_to_table();
        }
        let created = match &mut self.repr {
            Repr::Pack(p) => match p.find(field) {
                Some(s) if s.expire.is_some() && !keep_ttl => {
                    // Losing its TTL moves it to the end (listpackExPersist).
                    p.remove(s);
                    p.append(field, value, None);
                    false
                }
                Some(s) => {
                    p.replace_value(s, value);
                    false
                }
                None => {
                    p.append(field, value, None);
                    true
                }
            },
            Repr::Table(t) => {
                let old = t.get(field).map(|f| f.expire());
                let expire = if keep_ttl { old.flatten() } else { None };
                t.put(field, value, expire);
                old.is_none()
            }
        };
        if self.is_packed() && self.len() > limits.max_entries {
            self.convert_to_table();
        }
        created
    }

    /// Deletes `field`; returns whether it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack(p) => match p.find(field) {
                Some(s) => {
                    p.remove(s);
                    true
                }
                None => false,
            },
            Repr::Table(t) => t.remove(field),
        }
    }

    /// Sets the expire time of `field` to `at` under `cond` (HEXPIRE and
    /// friends, Redis's `hashTypeSetEx`): returns a [`code`]. A time not
    /// after `now` deletes the field.
    pub fn set_field_expire(&mut self, field: &[u8], at: i64, cond: ExpireCond, now: i64) -> i64 {
        let Some(prev) = self.expire_of(field) else {
            return code::NO_FIELD;
        };
        let ok = match prev {
            // No TTL counts as an infinite one: LT always sets it, GT and XX
            // never do (Redis's hashTypeSetEx).
            None => matches!(cond, ExpireCond::None | ExpireCond::Nx | ExpireCond::Lt),
            Some(p) => match cond {
                ExpireCond::None | ExpireCond::Xx => true,
                ExpireCond::Nx => false,
                ExpireCond::Gt => at > p,
                ExpireCond::Lt => at < p,
            },
        };
        if !ok {
            return code::NOT_MET;
        }
        if at <= now {
            self.remove(field);
            return code::DELETED;
        }
        match &mut self.repr {
            Repr::Pack(p) => {
                if let Some(s) = p.find(field) {
                    let value = p.bytes(s.value).to_vec();
                    p.remove(s);
                    if p.ex {
                        p.insert_ordered(field, &value, at);
                    } else {
                        // Callers enable expiry first; stay correct anyway.
                        p.append(field, &value, None);
                    }
                }
            }
            Repr::Table(t) => {
                if let Some(f) = t.get(field) {
                    let value = f.value().to_vec();
                    t.put(field, &value, Some(at));
                }
            }
        }
        code::SET
    }

    /// Removes the TTL of `field` (HPERSIST): returns a [`code`] (-2 no
    /// field, -1 no TTL, 1 done).
    pub fn persist(&mut self, field: &[u8]) -> i64 {
        match self.expire_of(field) {
            None => code::NO_FIELD,
            Some(None) => code::NO_TTL,
            Some(Some(_)) => {
                match &mut self.repr {
                    Repr::Pack(p) => {
                        if let Some(s) = p.find(field) {
                            let value = p.bytes(s.value).to_vec();
                            p.remove(s);
                            p.append(field, &value, None);
                        }
                    }
                    Repr::Table(t) => {
                        if let Some(f) = t.get(field) {
                            let value = f.value().to_vec();
                            t.put(field, &value, None);
                        }
                    }
                }
                code::SET
            }
        }
    }

    /// Deletes every field whose expire time is before `now`, at most
    /// `max` of them; returns how many went.
    pub fn remove_expired(&mut self, now: i64, max: usize) -> usize {
        let mut n = 0;
        match &mut self.repr {
            Repr::Pack(p) => {
                // Fields with a TTL come first, earliest first.
                while n < max {
                    let first = p.slots().next();
                    match first {
                        Some(s) if s.expire.is_some_and(|t| t < now) => {
                            p.remove(s);
                            n += 1;
                        }
                        _ => break,
                    }
                }
            }
            Repr::Table(t) => {
                while n < max {
                    match t.ttls.first() {
                        Some((at, _)) if *at < now => {
                            if let Some((_, f)) = t.ttls.pop_first() {
                                t.map.remove(&f, hash_key(&f));
                                n += 1;
                            }
                        }
                        _ => break,
                    }
                }
            }
        }
        n
    }

    /// A random field and value (uniform for packed hashes, by slot for
    /// tables as Redis's dict sampling); `r` is a random number.
    pub fn random(&self, r: u64) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Pack(p) => {
                if p.len == 0 {
                    return None;
                }
                let i = (r % p.len as u64) as usize;
                p.slots()
                    .nth(i)
                    .map(|s| (p.bytes(s.field), p.bytes(s.value)))
            }
            Repr::Table(t) => {
                let i = t.map.random_slot(r)?;
                t.map.at(i).map(|f| (f.name(), f.value()))
            }
        }
    }

    /// One HSCAN step over a table (see [`KeyTable::scan`]); a packed hash
    /// is returned whole with cursor 0, as Redis does. `f` gets each field,
    /// its value and its expire time.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8], Option<i64>)) -> u64 {
        match &self.repr {
            Repr::Pack(p) => {
                for s in p.slots() {
                    f(p.bytes(s.field), p.bytes(s.value), s.expire);
                }
                0
            }
            Repr::Table(t) => t.map.scan(cursor, |e| f(e.name(), e.value(), e.expire())),
        }
    }

    /// Whether `field` is there but its time is up (Redis keeps such a
    /// field until something reclaims it; HLEN still counts it).
    pub fn is_expired(&self, field: &[u8], now: i64) -> bool {
        matches!(self.expire_of(field), Some(Some(t)) if t < now)
    }
}

/// A shard's index of the hashes that have fields with a TTL, by their
/// earliest field expire time, for the active expiry cycle. Entries are
/// (time, key hash); each [`Hash`](struct@Hash) remembers the time it is filed under,
/// so moving it costs two B-tree operations. An entry left behind by a key
/// deleted or overwritten some other way is dropped when its time comes.
#[derive(Debug, Default)]
pub struct FieldExpireIndex {
    set: BTreeSet<(i64, u64)>,
}

impl FieldExpireIndex {
    /// Files `hash` (the value of the key whose hash is `key_hash`) under
    /// its current earliest field expire time, moving it if that changed.
    pub fn sync(&mut self, key_hash: u64, hash: &mut Hash) {
        let min = hash.min_expire();
        if min == hash.indexed {
            return;
        }
        if let Some(old) = hash.indexed {
            self.set.remove(&(old, key_hash));
        }
        if let Some(new) = min {
            self.set.insert((new, key_hash));
        }
        hash.indexed = min;
    }

    /// Files a hash that just arrived in the shard (RENAME, COPY, MOVE...)
    /// whatever it was filed under elsewhere.
    pub fn adopt(&mut self, key_hash: u64, hash: &mut Hash) {
        hash.indexed = None;
        self.sync(key_hash, hash);
    }

    /// Takes out the earliest entry if its time is before `now`.
    pub fn pop_due(&mut self, now: i64) -> Option<(i64, u64)> {
        match self.set.first() {
            Some(&(t, _)) if t < now => self.set.pop_first(),
            _ => None,
        }
    }

    /// Whether `hash` is filed under `at`.
    pub fn is_filed_under(hash: &Hash, at: i64) -> bool {
        hash.indexed == Some(at)
    }

    /// Marks `hash` as not filed (after its entry was popped).
    pub fn unfiled(hash: &mut Hash) {
        hash.indexed = None;
    }

    /// Number of entries (hashes with field TTLs, plus stale entries).
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    const SMALL: Limits = Limits {
        max_entries: 8,
        max_value: 16,
    };

    #[test]
    fn converts_at_the_thresholds_and_never_back() {
        let mut h = Hash::new();
        for i in 0..8 {
            assert!(h.set(format!("f{i}").as_bytes(), b"v", false, SMALL));
        }
        assert_eq!(h.encoding_name(), "listpack");
        h.set(b"f8", b"v", false, SMALL);
        assert_eq!(h.encoding_name(), "hashtable");
        for i in 0..9 {
            h.remove(format!("f{i}").as_bytes());
        }
        h.set(b"x", b"y", false, SMALL);
        assert_eq!(h.encoding_name(), "hashtable");
        let mut h = Hash::new();
        h.set(b"f", &[b'x'; 17], false, SMALL);
        assert_eq!(h.encoding_name(), "hashtable");
    }

    #[test]
    fn listpackex_keeps_redis_order() {
        let mut h = Hash::new();
        for f in [b"a", b"b", b"c", b"d"] {
            h.set(f, b"v", false, SMALL);
        }
        h.enable_field_expiry();
        assert_eq!(h.encoding_name(), "listpackex");
        assert_eq!(
            h.set_field_expire(b"c", 300, ExpireCond::None, 0),
            code::SET
        );
        assert_eq!(
            h.set_field_expire(b"d", 100, ExpireCond::None, 0),
            code::SET
        );
        assert_eq!(
            h.set_field_expire(b"a", 300, ExpireCond::None, 0),
            code::SET
        );
        let order: Vec<&[u8]> = h.iter().map(|(f, _, _)| f).collect();
        assert_eq!(order, [&b"d"[..], b"a", b"c", b"b"]);
        assert_eq!(h.min_expire(), Some(100));
        assert_eq!(h.persist(b"d"), code::SET);
        assert_eq!(h.persist(b"d"), code::NO_TTL);
        assert_eq!(h.persist(b"zz"), code::NO_FIELD);
        let order: Vec<&[u8]> = h.iter().map(|(f, _, _)| f).collect();
        assert_eq!(order, [&b"a"[..], b"c", b"b", b"d"]);
        assert_eq!(h.remove_expired(301, usize::MAX), 2);
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn expire_conditions() {
        for packed in [true, false] {
            let mut h = Hash::new();
            let limits = if packed {
                SMALL
            } else {
                Limits {
                    max_entries: 0,
                    max_value: 0,
                }
            };
            h.set(b"f", b"v", false, limits);
            h.enable_field_expiry();
            use ExpireCond::*;
            assert_eq!(h.set_field_expire(b"f", 100, Xx, 0), code::NOT_MET);
            assert_eq!(h.set_field_expire(b"f", 100, Gt, 0), code::NOT_MET);
            // No TTL is an infinite one: LT sets it.
            assert_eq!(h.set_field_expire(b"f", 100, Lt, 0), code::SET);
            assert_eq!(h.persist(b"f"), 1);
            assert_eq!(h.set_field_expire(b"f", 100, Nx, 0), code::SET);
            assert_eq!(h.set_field_expire(b"f", 100, Nx, 0), code::NOT_MET);
            assert_eq!(h.set_field_expire(b"f", 50, Gt, 0), code::NOT_MET);
            assert_eq!(h.set_field_expire(b"f", 200, Gt, 0), code::SET);
            assert_eq!(h.set_field_expire(b"f", 300, Lt, 0), code::NOT_MET);
            assert_eq!(h.expire_of(b"f"), Some(Some(200)));
            // HINCRBY keeps the TTL, HSET drops it.
            h.set(b"f", b"2", true, limits);
            assert_eq!(h.expire_of(b"f"), Some(Some(200)));
            h.set(b"f", b"3", false, limits);
            assert_eq!(h.expire_of(b"f"), Some(Option::None));
            assert_eq!(h.set_field_expire(b"f", 10, None, 10), code::DELETED);
            assert!(h.is_empty());
            assert_eq!(h.set_field_expire(b"f", 10, None, 0), code::NO_FIELD);
        }
    }

    #[test]
    fn table_scan_returns_everything() {
        let mut h = Hash::new();
        let limits = Limits {
            max_entries: 4,
            max_value: 64,
        };
        for i in 0..1000 {
            h.set(format!("f{i}").as_bytes(), b"v", false, limits);
        }
        let mut seen = std::collections::HashSet::new();
        let mut c = 0;
        loop {
            c = h.scan(c, |f, _, _| {
                seen.insert(f.to_vec());
            });
            if c == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
        assert!(h.random(12345).is_some());
        let copy = h.clone();
        assert_eq!(copy.len(), 1000);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Set(u8, u8, bool),
        Del(u8),
        Expire(u8, i64),
        Persist(u8),
        Purge(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..20, any::<u8>(), any::<bool>()).prop_map(|(f, v, k)| Op::Set(f, v, k)),
            (0u8..20).prop_map(Op::Del),
            (0u8..20, 1i64..100).prop_map(|(f, t)| Op::Expire(f, t)),
            (0u8..20).prop_map(Op::Persist),
            (1i64..100).prop_map(Op::Purge),
        ]
    }

    proptest! {
        #[test]
        fn matches_a_model(ops in proptest::collection::vec(op(), 0..200), small in any::<bool>()) {
            let limits = if small { SMALL } else { Limits { max_entries: 512, max_value: 64 } };
            let mut h = Hash::new();
            h.enable_field_expiry();
            let mut model: HashMap<Vec<u8>, (Vec<u8>, Option<i64>)> = HashMap::new();
            for op in ops {
                match op {
                    Op::Set(f, v, keep) => {
                        let f = vec![b'f'; f as usize + 1];
                        let v = vec![v; (v % 24) as usize];
                        let created = h.set(&f, &v, keep, limits);
                        let old = model.get(&f).and_then(|(_, t)| *t);
                        prop_assert_eq!(created, !model.contains_key(&f));
                        model.insert(f, (v, if keep { old } else { None }));
                    }
                    Op::Del(f) => {
                        let f = vec![b'f'; f as usize + 1];
                        prop_assert_eq!(h.remove(&f), model.remove(&f).is_some());
                    }
                    Op::Expire(f, t) => {
                        let f = vec![b'f'; f as usize + 1];
                        let c = h.set_field_expire(&f, t, ExpireCond::None, 0);
                        match model.get_mut(&f) {
                            Some(e) => { prop_assert_eq!(c, code::SET); e.1 = Some(t); }
                            None => prop_assert_eq!(c, code::NO_FIELD),
                        }
                    }
                    Op::Persist(f) => {
                        let f = vec![b'f'; f as usize + 1];
                        h.persist(&f);
                        if let Some(e) = model.get_mut(&f) { e.1 = None; }
                    }
                    Op::Purge(now) => {
                        h.remove_expired(now, usize::MAX);
                        model.retain(|_, (_, t)| t.is_none_or(|t| t >= now));
                    }
                }
                prop_assert_eq!(h.len(), model.len());
                prop_assert_eq!(h.min_expire(), model.values().filter_map(|(_, t)| *t).min());
            }
            for (f, (v, t)) in &model {
                prop_assert_eq!(h.get(f), Some(&v[..]));
                prop_assert_eq!(h.expire_of(f), Some(*t));
            }
            // Packed listpackex order: TTL fields first, by time.
            if h.is_packed() {
                let times: Vec<Option<i64>> = h.iter().map(|(_, _, t)| t).collect();
                let mut sorted = times.clone();
                sorted.sort_by_key(|t| t.unwrap_or(i64::MAX));
                prop_assert_eq!(times, sorted);
            }
        }
    }
}
