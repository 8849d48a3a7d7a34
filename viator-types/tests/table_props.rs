//! Property tests for the keyspace's two unsafe-adjacent data structures:
//! [`Entry`] (one raw heap block per key) and [`KeyTable`] / [`ExpireSet`]
//! (open addressing with backward-shift deletion and Redis's SCAN cursor).
//!
//! The table is driven by random edit sequences and compared after every
//! step against a `std::collections::HashMap` model, and its structural
//! invariants are checked directly: every entry sits in the unbroken run of
//! full slots that starts at its home slot, the load stays within 1/8..3/4,
//! `random_slot` lands on a full slot, and the expire set's ids lead back to
//! exactly the keys that have a TTL.
//!
//! These tests also run under Miri (`cargo +nightly miri test -p
//! viator-types --test table_props`), with fewer cases.

use std::collections::{HashMap, HashSet};

use proptest::collection::vec;
use proptest::prelude::*;
use viator_types::entry::{CLOCK_MAX, EMBSTR_MAX, Entry, NewValue, StrEncoding, StrRef};
use viator_types::table::{ExpireSet, KeyTable, hash_key};

/// Fewer cases under Miri, which runs each one a thousand times slower, and
/// no failure files (Miri isolates the file system).
fn config(cases: u32) -> ProptestConfig {
    if cfg!(miri) {
        ProptestConfig {
            cases: 2,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    } else {
        ProptestConfig::with_cases(cases)
    }
}

/// Sizes that stay affordable under Miri.
fn scaled(n: usize) -> usize {
    if cfg!(miri) { (n / 16).max(4) } else { n }
}

// ---------------------------------------------------------------------------
// The value model
// ---------------------------------------------------------------------------

/// What an entry's value should be, and how it should be stored.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    /// Inline bytes (`NewValue::Str`).
    Str(Vec<u8>),
    /// An integer (`NewValue::Int`).
    Int(i64),
    /// A heap string (`NewValue::Heap`).
    Heap(Vec<u8>),
}

impl Val {
    fn new_value(&self) -> NewValue<'_> {
        match self {
            Val::Str(b) => NewValue::Str(b),
            Val::Int(n) => NewValue::Int(*n),
            Val::Heap(b) => NewValue::Heap(b.clone()),
        }
    }

    fn str_ref(&self) -> StrRef<'_> {
        match self {
            Val::Str(b) | Val::Heap(b) => StrRef::Bytes(b),
            Val::Int(n) => StrRef::Int(*n),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        self.str_ref().to_vec()
    }

    fn encoding(&self) -> StrEncoding {
        match self {
            Val::Str(b) if b.len() <= EMBSTR_MAX => StrEncoding::Embstr,
            Val::Str(_) | Val::Heap(_) => StrEncoding::Raw,
            Val::Int(_) => StrEncoding::Int,
        }
    }
}

/// The whole expected state of one entry.
#[derive(Clone, Debug)]
struct Model {
    val: Val,
    expire: Option<i64>,
    clock: u32,
}

impl Model {
    fn new(val: Val, expire: Option<i64>) -> Model {
        Model {
            val,
            expire,
            clock: 0,
        }
    }
}

fn assert_entry(e: &Entry, key: &[u8], m: &Model) {
    assert_eq!(e.key(), key, "key");
    assert_eq!(e.as_str(), Some(m.val.str_ref()), "value of {key:?}");
    assert_eq!(
        e.str_encoding(),
        Some(m.val.encoding()),
        "encoding of {key:?}"
    );
    assert_eq!(e.expire_ms(), m.expire, "expire of {key:?}");
    assert_eq!(e.clock(), m.clock, "clock of {key:?}");
    assert!(e.memory_usage() >= key.len() + m.val.bytes().len().min(8));
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// Keys around every length-field boundary: empty, short, 254/255/256
/// bytes (the u8 length field ends at 254), and long.
fn any_key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => vec(any::<u8>(), 0..8),
        1 => Just(Vec::new()),
        2 => prop_oneof![Just(254usize), Just(255), Just(256)]
            .prop_flat_map(|n| vec(any::<u8>(), n)),
        1 => (250usize..=260).prop_flat_map(|n| vec(any::<u8>(), n)),
        1 => vec(any::<u8>(), 0..scaled(2000)),
    ]
}

/// Values of each kind, inline ones around the 44-byte embstr limit and the
/// 255-byte length-field boundary.
fn any_val() -> impl Strategy<Value = Val> {
    prop_oneof![
        3 => vec(any::<u8>(), 0..50).prop_map(Val::Str),
        1 => (250usize..=260, any::<u8>()).prop_map(|(n, b)| Val::Str(vec![b; n])),
        1 => vec(any::<u8>(), 0..scaled(700)).prop_map(Val::Str),
        2 => any::<i64>().prop_map(Val::Int),
        2 => vec(any::<u8>(), 0..300).prop_map(Val::Heap),
    ]
}

fn any_expire() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![Just(None), any::<i64>().prop_map(Some)]
}

// ---------------------------------------------------------------------------
// Entry
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum EntryOp {
    SetExpire(Option<i64>),
    SetClock(u32),
    SetValue(Val),
    SetInt(i64),
    Append(Vec<u8>),
}

fn entry_op() -> impl Strategy<Value = EntryOp> {
    prop_oneof![
        3 => any_expire().prop_map(EntryOp::SetExpire),
        2 => any::<u32>().prop_map(EntryOp::SetClock),
        2 => any_val().prop_map(EntryOp::SetValue),
        1 => any::<i64>().prop_map(EntryOp::SetInt),
        2 => vec(any::<u8>(), 0..40).prop_map(EntryOp::Append),
    ]
}

/// Applies `op` to both the entry and its model.
fn apply_entry_op(e: &mut Entry, m: &mut Model, op: &EntryOp) {
    match op {
        EntryOp::SetExpire(x) => {
            e.set_expire_ms(*x);
            m.expire = *x;
        }
        EntryOp::SetClock(c) => {
            e.set_clock(*c);
            m.clock = c & CLOCK_MAX;
        }
        EntryOp::SetValue(v) => {
            e.set_value(v.new_value());
            m.val = v.clone();
        }
        EntryOp::SetInt(n) => {
            e.set_int(*n);
            m.val = Val::Int(*n);
        }
        EntryOp::Append(b) => {
            e.heap_str_mut().expect("a string").extend_from_slice(b);
            let mut bytes = m.val.bytes();
            bytes.extend_from_slice(b);
            m.val = Val::Heap(bytes);
        }
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn entry_new_round_trips(key in any_key(), val in any_val(), expire in any_expire()) {
        let e = Entry::new(&key, val.new_value(), expire);
        assert_entry(&e, &key, &Model::new(val, expire));
    }

    #[test]
    fn entry_edits_keep_key_value_expire_and_clock(
        key in any_key(),
        val in any_val(),
        expire in any_expire(),
        clock in any::<u32>(),
        ops in vec(entry_op(), 0..24),
    ) {
        let mut e = Entry::new(&key, val.new_value(), expire);
        e.set_clock(clock);
        let mut m = Model { val, expire, clock: clock & CLOCK_MAX };
        assert_entry(&e, &key, &m);
        for op in &ops {
            apply_entry_op(&mut e, &mut m, op);
            assert_entry(&e, &key, &m);
        }
    }

    /// Toggling the expire on and off, alone, changes nothing else: not the
    /// bytes, not the encoding (OBJECT ENCODING stays `embstr` after EXPIRE
    /// and PERSIST in Redis), not the clock.
    #[test]
    fn entry_expire_toggles_change_nothing_else(
        key in any_key(),
        val in any_val(),
        clock in 0..=CLOCK_MAX,
        toggles in vec(any_expire(), 1..12),
    ) {
        let mut e = Entry::new(&key, val.new_value(), None);
        e.set_clock(clock);
        let mut m = Model { val, expire: None, clock };
        for x in toggles {
            e.set_expire_ms(x);
            m.expire = x;
            assert_entry(&e, &key, &m);
        }
    }

    /// `new_string` stores canonical integers as integers and everything
    /// else as bytes; either way the text reads back unchanged.
    #[test]
    fn entry_new_string_round_trips(
        key in any_key(),
        value in prop_oneof![
            vec(any::<u8>(), 0..60),
            "[-+0 ]?[0-9]{0,21}".prop_map(String::into_bytes),
            any::<i64>().prop_map(|n| n.to_string().into_bytes()),
        ],
    ) {
        let e = Entry::new_string(&key, &value);
        prop_assert_eq!(e.key(), &key[..]);
        let s = e.as_str().expect("a string");
        prop_assert_eq!(s.to_vec(), value.clone());
        prop_assert_eq!(s.len(), value.len());
        match s {
            StrRef::Int(n) => {
                prop_assert_eq!(n.to_string().into_bytes(), value);
                prop_assert_eq!(e.str_encoding(), Some(StrEncoding::Int));
            }
            StrRef::Bytes(_) => {
                prop_assert!(std::str::from_utf8(&value)
                    .ok()
                    .and_then(|t| t.parse::<i64>().ok())
                    .is_none_or(|n| n.to_string().as_bytes() != value));
            }
        }
    }
}

/// Regression: adding or removing an expire used to move an inline (embstr)
/// value into a heap buffer, so OBJECT ENCODING turned `raw` after EXPIRE
/// or PERSIST (Redis keeps `embstr`) and the key paid a second allocation.
#[test]
fn expire_toggle_keeps_embstr_inline() {
    let mut e = Entry::new_string(b"key", b"hello");
    let before = e.memory_usage();
    e.set_clock(77);
    e.set_expire_ms(Some(1_700_000_000_000));
    assert_eq!(e.str_encoding(), Some(StrEncoding::Embstr));
    assert_eq!(e.memory_usage(), before + 8);
    e.set_expire_ms(None);
    assert_eq!(e.str_encoding(), Some(StrEncoding::Embstr));
    assert_eq!(e.memory_usage(), before);
    assert_eq!(e.as_str(), Some(StrRef::Bytes(b"hello")));
    assert_eq!(e.clock(), 77);
    // A 300-byte inline value (raw by length) stays inline too.
    let long = vec![b'v'; 300];
    let mut e = Entry::new(b"k", NewValue::Str(&long), None);
    let before = e.memory_usage();
    e.set_expire_ms(Some(5));
    assert_eq!(e.memory_usage(), before + 8);
    assert_eq!(e.as_str(), Some(StrRef::Bytes(&long[..])));
}

// ---------------------------------------------------------------------------
// KeyTable against a HashMap model
// ---------------------------------------------------------------------------

/// The keys the table ops pick from, so that removes and edits mostly hit:
/// a few length-boundary keys, then short ones.
fn pool_key(i: u16) -> Vec<u8> {
    match i {
        0 => Vec::new(),
        1 => vec![b'a'; 254],
        2 => vec![b'b'; 255],
        3 => vec![b'c'; 256],
        4 => vec![0xff; 1000],
        _ => format!("k{i}").into_bytes(),
    }
}

const POOL: u16 = 160;

#[derive(Clone, Debug)]
enum TableOp {
    /// `insert`, replacing any entry with the same key.
    Insert(u16, Val, Option<i64>),
    /// `insert` of keys nobody else uses, to make the table grow.
    Bulk(u16),
    Remove(u16),
    SetExpire(u16, Option<i64>),
    SetValue(u16, Val),
    SetClock(u16, u32),
    SetInt(u16, i64),
    Append(u16, Vec<u8>),
    /// `retain` with a predicate of the key bytes and a salt; large salts
    /// drop most keys so that the table shrinks.
    Retain(u8),
    /// `remove_at` on the slot `random_slot` picks.
    RemoveRandom(u64),
    Clear,
}

fn table_op() -> impl Strategy<Value = TableOp> {
    let k = 0..POOL;
    prop_oneof![
        8 => (k.clone(), any_val(), any_expire()).prop_map(|(k, v, x)| TableOp::Insert(k, v, x)),
        1 => (0..scaled(400) as u16).prop_map(TableOp::Bulk),
        5 => k.clone().prop_map(TableOp::Remove),
        4 => (k.clone(), any_expire()).prop_map(|(k, x)| TableOp::SetExpire(k, x)),
        2 => (k.clone(), any_val()).prop_map(|(k, v)| TableOp::SetValue(k, v)),
        1 => (k.clone(), any::<u32>()).prop_map(|(k, c)| TableOp::SetClock(k, c)),
        1 => (k.clone(), any::<i64>()).prop_map(|(k, n)| TableOp::SetInt(k, n)),
        2 => (k, vec(any::<u8>(), 0..20)).prop_map(|(k, b)| TableOp::Append(k, b)),
        1 => any::<u8>().prop_map(TableOp::Retain),
        2 => any::<u64>().prop_map(TableOp::RemoveRandom),
        1 => Just(TableOp::Clear),
    ]
}

/// Whether `retain` keeps `key` for this salt: keeps about salt/255 of
/// the keys away from the ends of the salt range.
fn keeps(key: &[u8], salt: u8) -> bool {
    let h = key.iter().fold(u32::from(salt).wrapping_mul(31), |a, &b| {
        a.wrapping_mul(131).wrapping_add(u32::from(b))
    });
    (h % 255) as u8 >= salt
}

/// A table, its expire set, and the model of both.
#[derive(Default)]
struct Harness {
    table: KeyTable,
    expires: ExpireSet,
    model: HashMap<Vec<u8>, Model>,
    bulk_next: u64,
}

impl Harness {
    /// Keeps the expire set in step with an entry's TTL changing from
    /// `before` to `after`, as the store does.
    fn track_expire(&mut self, key: &[u8], before: Option<i64>, after: Option<i64>) {
        match (before.is_some(), after.is_some()) {
            (false, true) => self.expires.insert(hash_key(key)),
            (true, false) => assert!(self.expires.remove(hash_key(key))),
            _ => {}
        }
    }

    fn forget(&mut self, e: &Entry) {
        let m = self
            .model
            .remove(e.key())
            .expect("removed key was in the model");
        assert_entry(e, e.key(), &m);
        self.track_expire(e.key(), m.expire, None);
    }

    fn apply(&mut self, op: &TableOp) {
        match op {
            TableOp::Insert(k, v, x) => {
                let key = pool_key(*k);
                let old = self.table.insert(Entry::new(&key, v.new_value(), *x));
                let old_model = self.model.insert(key.clone(), Model::new(v.clone(), *x));
                assert_eq!(old.is_some(), old_model.is_some());
                if let (Some(old), Some(m)) = (&old, &old_model) {
                    assert_entry(old, &key, m);
                }
                self.track_expire(&key, old_model.and_then(|m| m.expire), *x);
            }
            TableOp::Bulk(n) => {
                for _ in 0..*n {
                    let key = format!("bulk:{}", self.bulk_next).into_bytes();
                    self.bulk_next += 1;
                    let val = Val::Str(key.clone());
                    let hash = hash_key(&key);
                    assert!(self.table.find(&key, hash).is_none());
                    let slot = self
                        .table
                        .insert_new(hash, Entry::new(&key, val.new_value(), None));
                    assert_eq!(self.table.at(slot).map(Entry::key), Some(&key[..]));
                    self.model.insert(key, Model::new(val, None));
                }
            }
            TableOp::Remove(k) => {
                let key = pool_key(*k);
                let removed = self.table.remove(&key, hash_key(&key));
                assert_eq!(removed.is_some(), self.model.contains_key(&key));
                if let Some(e) = removed {
                    self.forget(&e);
                }
            }
            TableOp::SetExpire(k, x) => {
                let key = pool_key(*k);
                if let Some(e) = self.table.get_mut(&key, hash_key(&key)) {
                    e.set_expire_ms(*x);
                    let m = self.model.get_mut(&key).expect("in the model");
                    let before = std::mem::replace(&mut m.expire, *x);
                    self.track_expire(&key, before, *x);
                } else {
                    assert!(!self.model.contains_key(&key));
                }
            }
            TableOp::SetValue(k, v) => self.edit(*k, &EntryOp::SetValue(v.clone())),
            TableOp::SetClock(k, c) => self.edit(*k, &EntryOp::SetClock(*c)),
            TableOp::SetInt(k, n) => self.edit(*k, &EntryOp::SetInt(*n)),
            TableOp::Append(k, b) => self.edit(*k, &EntryOp::Append(b.clone())),
            TableOp::Retain(salt) => {
                let mut calls: HashMap<Vec<u8>, usize> = HashMap::new();
                let mut dropped = Vec::new();
                self.table.retain(|e| {
                    *calls.entry(e.key().to_vec()).or_default() += 1;
                    let keep = keeps(e.key(), *salt);
                    if !keep {
                        dropped.push(e.key().to_vec());
                    }
                    keep
                });
                // Every entry was offered to the predicate, once.
                assert_eq!(calls.len(), self.model.len());
                assert!(
                    calls.values().all(|&c| c == 1),
                    "retain offered an entry twice"
                );
                for key in dropped {
                    let m = self
                        .model
                        .remove(&key)
                        .expect("dropped key was in the model");
                    self.track_expire(&key, m.expire, None);
                }
            }
            TableOp::RemoveRandom(r) => match self.table.random_slot(*r) {
                Some(slot) => {
                    let e = self.table.remove_at(slot).expect("random_slot is full");
                    self.forget(&e);
                }
                None => assert!(self.model.is_empty()),
            },
            TableOp::Clear => {
                self.table.clear();
                self.expires.clear();
                self.model.clear();
            }
        }
    }

    fn edit(&mut self, k: u16, op: &EntryOp) {
        let key = pool_key(k);
        match self.table.get_mut(&key, hash_key(&key)) {
            Some(e) => {
                let m = self.model.get_mut(&key).expect("in the model");
                apply_entry_op(e, m, op);
            }
            None => assert!(!self.model.contains_key(&key)),
        }
    }

    /// Compares the table with the model and checks its invariants.
    fn check(&self) {
        let t = &self.table;
        assert_eq!(t.len(), self.model.len());
        assert_eq!(t.is_empty(), self.model.is_empty());
        let cap = t.capacity();
        if cap > 0 {
            assert!(cap.is_power_of_two() && cap >= 8, "capacity {cap}");
            assert!(t.len() * 4 <= cap * 3, "overfull: {} in {cap}", t.len());
            assert!(
                cap == 8 || t.len() * 8 >= cap,
                "sparse: {} in {cap}",
                t.len()
            );
        } else {
            assert!(t.is_empty());
        }
        assert_eq!(t.iter().count(), t.len());
        // Every entry sits in the unbroken run of full slots from its home.
        let mask = cap.wrapping_sub(1);
        let mut full = 0;
        for slot in 0..cap {
            let Some(e) = t.at(slot) else { continue };
            full += 1;
            let mut i = hash_key(e.key()) as usize & mask;
            while i != slot {
                assert!(t.at(i).is_some(), "hole at {i} before slot {slot}");
                i = (i + 1) & mask;
            }
            assert_eq!(t.find(e.key(), hash_key(e.key())), Some(slot));
        }
        assert_eq!(full, t.len());
        assert!(t.at(cap).is_none());
        for (key, m) in &self.model {
            let e = t.get(key, hash_key(key)).expect("model key in table");
            assert_entry(e, key, m);
        }
        // random_slot always lands on a full slot.
        for r in [
            0,
            1,
            u64::MAX,
            0x9e37_79b9_7f4a_7c15,
            cap as u64,
            mask as u64,
        ] {
            match t.random_slot(r) {
                Some(slot) => assert!(t.at(slot).is_some()),
                None => assert!(t.is_empty()),
            }
        }
        self.check_expires();
    }

    /// The expire set holds one id per key with a TTL, and each id leads
    /// back through `for_each_with_id` to exactly that key.
    fn check_expires(&self) {
        let with_ttl: HashSet<&[u8]> = self
            .model
            .iter()
            .filter(|(_, m)| m.expire.is_some())
            .map(|(k, _)| &k[..])
            .collect();
        assert_eq!(self.expires.len(), with_ttl.len());
        let mut found: Vec<Vec<u8>> = Vec::new();
        let mut ids = 0;
        for s in 0..self.expires.capacity() {
            let id = self.expires.slot(s);
            if id == 0 {
                continue;
            }
            ids += 1;
            self.table.for_each_with_id(id, |slot, e| {
                let h = hash_key(e.key());
                assert!(ExpireSet::matches(id, h));
                assert_eq!(self.table.at(slot).map(Entry::key), Some(e.key()));
                found.push(e.key().to_vec());
            });
        }
        assert_eq!(ids, with_ttl.len());
        assert_eq!(found.len(), with_ttl.len(), "ids without their key");
        let found: HashSet<&[u8]> = found.iter().map(|k| &k[..]).collect();
        assert_eq!(found, with_ttl);
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn table_matches_hashmap_model(ops in vec(table_op(), 1..scaled(200))) {
        let mut h = Harness::default();
        h.check();
        for op in &ops {
            h.apply(op);
            h.check();
        }
        // Draining through remove_at leaves an empty, minimal table.
        while let Some(slot) = h.table.random_slot(fastrand_u64(h.table.len() as u64)) {
            let e = h.table.remove_at(slot).expect("full slot");
            h.forget(&e);
        }
        h.check();
        prop_assert!(h.table.capacity() <= 8);
        prop_assert!(h.expires.is_empty());
    }
}

/// A cheap deterministic mix, so the drain above does not always pick
/// slot 0's run.
fn fastrand_u64(x: u64) -> u64 {
    x.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29)
}

/// Regression: `retain` walked slots 0..capacity, so when a run of full
/// slots wrapped past the end of the array, removing the entry in the last
/// slot shifted the wrapped entries (already offered at slots 0, 1, ...)
/// back into it and `keep` saw them a second time.
#[test]
fn retain_offers_wrapped_entries_once() {
    // Three keys whose home is slot 7 of an 8-slot table fill 7, 0 and 1.
    let keys: Vec<Vec<u8>> = (0..)
        .map(|i| format!("w{i}").into_bytes())
        .filter(|k| hash_key(k) & 7 == 7)
        .take(3)
        .collect();
    let mut t = KeyTable::new();
    for k in &keys {
        t.insert(Entry::new_string(k, b"v"));
    }
    assert_eq!(t.capacity(), 8);
    assert_eq!(t.at(7).map(Entry::key), Some(&keys[0][..]));
    assert_eq!(t.at(0).map(Entry::key), Some(&keys[1][..]));
    let mut calls: HashMap<Vec<u8>, usize> = HashMap::new();
    t.retain(|e| {
        *calls.entry(e.key().to_vec()).or_default() += 1;
        e.key() != &keys[0][..]
    });
    assert_eq!(t.len(), 2);
    for k in &keys {
        assert_eq!(
            calls.get(k),
            Some(&1),
            "keep called {:?} times for {k:?}",
            calls.get(k)
        );
    }
}

// ---------------------------------------------------------------------------
// SCAN
// ---------------------------------------------------------------------------

/// What happens to the table between two SCAN calls.
#[derive(Clone, Debug)]
enum Churn {
    Nothing,
    /// Insert this many new keys (growth).
    Grow(u16),
    /// Remove this many of the churn keys, newest first (shrinking).
    Shrink(u16),
    /// Remove every churn key (the table shrinks to fit the stable keys).
    ShrinkAll,
    /// Rewrite a stable key's value and TTL in place.
    Touch(u16),
}

fn churn() -> impl Strategy<Value = Churn> {
    let big = scaled(3000) as u16;
    prop_oneof![
        4 => Just(Churn::Nothing),
        3 => (1..big).prop_map(Churn::Grow),
        3 => (1..big).prop_map(Churn::Shrink),
        1 => Just(Churn::ShrinkAll),
        2 => any::<u16>().prop_map(Churn::Touch),
    ]
}

fn stable_key(i: usize) -> Vec<u8> {
    format!("stable:{i}").into_bytes()
}

proptest! {
    #![proptest_config(config(128))]

    /// Redis's SCAN guarantee: a full iteration returns every key that was
    /// present from start to end, however the table grew or shrank between
    /// calls, and never a key that was never there.
    #[test]
    fn scan_returns_every_key_present_throughout(
        stable in 0..scaled(600),
        pre_churn in 0..scaled(2000),
        steps in vec(churn(), 0..48),
    ) {
        let mut t = KeyTable::new();
        for i in 0..stable {
            t.insert(Entry::new_string(&stable_key(i), b"v"));
        }
        let mut churn_live: Vec<Vec<u8>> = Vec::new();
        let mut ever: HashSet<Vec<u8>> = (0..stable).map(stable_key).collect();
        let mut next = 0usize;
        let mut grow = |t: &mut KeyTable, live: &mut Vec<Vec<u8>>, ever: &mut HashSet<Vec<u8>>, n: usize| {
            for _ in 0..n {
                let k = format!("churn:{next}").into_bytes();
                next += 1;
                t.insert(Entry::new_string(&k, b"c"));
                ever.insert(k.clone());
                live.push(k);
            }
        };
        grow(&mut t, &mut churn_live, &mut ever, pre_churn);

        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut cursor = 0u64;
        let mut calls = 0usize;
        loop {
            cursor = t.scan(cursor, |e| {
                seen.insert(e.key().to_vec());
            });
            calls += 1;
            prop_assert!(calls < 1 << 22, "scan does not terminate");
            if cursor == 0 {
                break;
            }
            // The next cursor never has bits above the table's mask.
            prop_assert!(cursor < t.capacity() as u64);
            match steps.get(calls - 1).cloned().unwrap_or(Churn::Nothing) {
                Churn::Nothing => {}
                Churn::Grow(n) => grow(&mut t, &mut churn_live, &mut ever, n as usize),
                Churn::Shrink(n) => {
                    for _ in 0..n {
                        let Some(k) = churn_live.pop() else { break };
                        prop_assert!(t.remove(&k, hash_key(&k)).is_some());
                    }
                }
                Churn::ShrinkAll => {
                    for k in churn_live.drain(..) {
                        prop_assert!(t.remove(&k, hash_key(&k)).is_some());
                    }
                }
                Churn::Touch(i) => {
                    if stable > 0 {
                        let k = stable_key(i as usize % stable);
                        let e = t.get_mut(&k, hash_key(&k)).expect("stable key");
                        e.set_expire_ms(Some(i64::from(i)));
                        e.heap_str_mut().expect("string").push(b'!');
                    }
                }
            }
        }
        for i in 0..stable {
            prop_assert!(seen.contains(&stable_key(i)), "scan missed stable:{}", i);
        }
        for k in &seen {
            prop_assert!(ever.contains(k), "scan returned a key never inserted");
        }
    }

    /// Without changes between calls every key comes back exactly once, and
    /// the iteration takes one call per slot.
    #[test]
    fn scan_without_changes_returns_each_key_once(n in 0..scaled(3000), removed in 0..scaled(3000)) {
        let mut t = KeyTable::new();
        for i in 0..n {
            t.insert(Entry::new_string(&stable_key(i), b"v"));
        }
        // Removing some makes the table sparser (and maybe shrink).
        for i in 0..removed.min(n) {
            let k = stable_key(i * 7 % n);
            t.remove(&k, hash_key(&k));
        }
        let mut count: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut cursor = 0u64;
        let mut calls = 0;
        loop {
            cursor = t.scan(cursor, |e| *count.entry(e.key().to_vec()).or_default() += 1);
            calls += 1;
            if cursor == 0 {
                break;
            }
        }
        prop_assert_eq!(count.len(), t.len());
        prop_assert!(count.values().all(|&c| c == 1));
        prop_assert_eq!(calls, if t.is_empty() { 1 } else { t.capacity() });
    }
}

/// Growth from 8 slots to thousands in the middle of an iteration, then
/// shrinking back to 8, with a handful of stable keys.
#[test]
fn scan_survives_extreme_growth_then_shrink() {
    let big = scaled(20_000);
    let mut t = KeyTable::new();
    let stable: Vec<Vec<u8>> = (0..5).map(stable_key).collect();
    for k in &stable {
        t.insert(Entry::new_string(k, b"v"));
    }
    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut calls = 0;
    loop {
        cursor = t.scan(cursor, |e| {
            seen.insert(e.key().to_vec());
        });
        calls += 1;
        if cursor == 0 {
            break;
        }
        match calls {
            2 => {
                for i in 0..big {
                    t.insert(Entry::new_string(format!("c{i}").as_bytes(), b"c"));
                }
            }
            50 => {
                for i in 0..big {
                    let k = format!("c{i}").into_bytes();
                    t.remove(&k, hash_key(&k));
                }
                assert!(t.capacity() <= 64, "capacity {}", t.capacity());
            }
            _ => {}
        }
    }
    for k in &stable {
        assert!(seen.contains(k), "missed {k:?}");
    }
}

// ---------------------------------------------------------------------------
// ExpireSet alone
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    /// The expire set is a multiset of ids (hash 0 counts as 1): inserts and
    /// removes match a counting model, including equal hashes, hashes that
    /// share their low bits, and 0/1.
    #[test]
    fn expire_set_is_a_multiset_of_ids(
        ops in vec(
            (
                any::<bool>(),
                prop_oneof![
                    Just(0u64),
                    Just(1u64),
                    (0u64..64).prop_map(|x| x << 40 | 3),
                    0u64..32,
                    any::<u64>(),
                ],
            ),
            0..scaled(400),
        ),
    ) {
        let mut x = ExpireSet::default();
        let mut model: HashMap<u64, usize> = HashMap::new();
        for (insert, hash) in ops {
            let id = hash.max(1);
            if insert {
                x.insert(hash);
                *model.entry(id).or_default() += 1;
            } else {
                let had = model.get(&id).copied().unwrap_or(0) > 0;
                prop_assert_eq!(x.remove(hash), had);
                if had {
                    *model.get_mut(&id).unwrap() -= 1;
                }
            }
            let total: usize = model.values().sum();
            prop_assert_eq!(x.len(), total);
            let cap = x.capacity();
            prop_assert!(cap == 0 || (cap.is_power_of_two() && total * 4 <= cap * 3));
            let mut stored: HashMap<u64, usize> = HashMap::new();
            let mask = cap.wrapping_sub(1);
            for s in 0..cap {
                let sid = x.slot(s);
                if sid != 0 {
                    *stored.entry(sid).or_default() += 1;
                    // Unbroken run from the id's home slot.
                    let mut i = sid as usize & mask;
                    while i != s {
                        prop_assert!(x.slot(i) != 0);
                        i = (i + 1) & mask;
                    }
                    prop_assert!(ExpireSet::matches(sid, sid));
                }
            }
            model.retain(|_, c| *c > 0);
            prop_assert_eq!(&stored, &model);
        }
        prop_assert!(ExpireSet::matches(1, 0) && ExpireSet::matches(1, 1));
        prop_assert!(!ExpireSet::matches(0, 0));
    }
}
