//! A locked view of part of a database: the shards of some keys, or all of
//! them. Commands read and write keys only through a view, which applies
//! Redis's lookup rules: lazy expiry, access clocks, hit and miss counters,
//! and the expire-set bookkeeping.

use std::cell::{Ref, RefCell, RefMut};
use std::sync::atomic::Ordering;

use parking_lot::ReentrantMutexGuard;
use viator_types::entry::{Entry, ValueType};
use viator_types::table::hash_key;

use crate::clock;
use crate::store::{Shard, Store};

/// Checks the type of a looked-up entry.
fn typed(
    found: Option<RefMut<'_, Entry>>,
    ty: ValueType,
) -> Result<Option<RefMut<'_, Entry>>, &'static str> {
    match found {
        Some(e) if e.value_type() != ty => Err(crate::errors::WRONGTYPE),
        other => Ok(other),
    }
}

type Guard<'a> = ReentrantMutexGuard<'a, RefCell<Shard>>;

enum Guards<'a> {
    One(usize, Guard<'a>),
    /// Sorted by shard index; with every shard locked, entry i is shard i.
    Many(Vec<(usize, Guard<'a>)>),
}

/// How a lookup treats the key it finds (Redis's `LOOKUP_*` flags).
#[derive(Debug, Clone, Copy, Default)]
pub struct Lookup {
    /// Do not update the key's access clock.
    pub no_touch: bool,
    /// Do not count a keyspace hit or miss.
    pub no_stats: bool,
}

impl Lookup {
    /// A write lookup: touches the key, counts nothing.
    pub const WRITE: Lookup = Lookup {
        no_touch: false,
        no_stats: true,
    };
}

/// Shards of one database locked for one command. See the module docs.
pub struct Keyspace<'a> {
    store: &'a Store,
    db: usize,
    now_ms: i64,
    guards: Guards<'a>,
    /// Set for clients in CLIENT NO-TOUCH mode: reads do not touch keys.
    pub no_touch: bool,
    /// The key a single-key view was locked for (address, length) and its
    /// hash, so that the command's lookup of that same slice does not hash
    /// it a second time.
    hint: (usize, usize, u64),
}

impl<'a> Keyspace<'a> {
    /// Locks the shards holding `keys` in database `db`, in shard order.
    pub fn lock_keys<K: AsRef<[u8]>>(
        store: &'a Store,
        db: usize,
        keys: &[K],
        now_ms: i64,
    ) -> Keyspace<'a> {
        let shards = store.db(db).shards();
        let mut hint = (0, 0, 0);
        let guards = if let [k] = keys {
            let k = k.as_ref();
            let h = hash_key(k);
            hint = (k.as_ptr() as usize, k.len(), h);
            let s = store.shard_of(h);
            let g = shards[s].lock();
            store.cow.before_access(db, s, &g);
            Guards::One(s, g)
        } else {
            let mut idx: Vec<usize> = keys
                .iter()
                .map(|k| store.shard_of(hash_key(k.as_ref())))
                .collect();
            idx.sort_unstable();
            idx.dedup();
            Guards::Many(
                idx.into_iter()
                    .map(|s| {
                        let g = shards[s].lock();
                        store.cow.before_access(db, s, &g);
                        (s, g)
                    })
                    .collect(),
            )
        };
        Keyspace {
            store,
            db,
            now_ms,
            guards,
            no_touch: false,
            hint,
        }
    }

    /// The hash of `key`, reusing the one computed at lock time when it is
    /// the same slice.
    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        if key.as_ptr() as usize == self.hint.0 && key.len() == self.hint.1 {
            self.hint.2
        } else {
            hash_key(key)
        }
    }

    /// Locks every shard of database `db`.
    pub fn lock_db(store: &'a Store, db: usize, now_ms: i64) -> Keyspace<'a> {
        let guards = store
            .db(db)
            .shards()
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let g = s.lock();
                store.cow.before_access(db, i, &g);
                (i, g)
            })
            .collect();
        Keyspace {
            store,
            db,
            now_ms,
            guards: Guards::Many(guards),
            no_touch: false,
            hint: (0, 0, 0),
        }
    }

    /// The database index.
    pub fn db(&self) -> usize {
        self.db
    }

    /// The store.
    pub fn store(&self) -> &'a Store {
        self.store
    }

    /// The command's time, in unix milliseconds: expiry compares against it.
    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    fn cell(&self, hash: u64) -> &RefCell<Shard> {
        let s = self.store.shard_of(hash);
        match &self.guards {
            Guards::One(i, g) if *i == s => g,
            Guards::Many(v) => {
                let found = if v.len() == self.store.shard_count() {
                    v.get(s)
                } else {
                    v.iter().find(|(i, _)| *i == s)
                };
                &found.expect("key outside the locked shards").1
            }
            Guards::One(..) => panic!("key outside the locked shards"),
        }
    }

    /// Every locked shard.
    fn cells(&self) -> impl Iterator<Item = &RefCell<Shard>> {
        let (one, many) = match &self.guards {
            Guards::One(_, g) => (Some(&**g), None),
            Guards::Many(v) => (None, Some(v.iter().map(|(_, g)| &**g))),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    /// Deletes the key in slot `slot` of `shard` if its time is up. Returns
    /// whether it did.
    fn expire_slot(&self, shard: &mut Shard, slot: usize, hash: u64) -> bool {
        let expired = match shard.table.at(slot).and_then(|e| e.expire_ms()) {
            // Redis's keyIsExpired: expired once now is past the time, and
            // never while loading.
            Some(t) => t < self.now_ms && !self.store.settings.loading.load(Ordering::Relaxed),
            None => false,
        };
        if expired && self.store.settings.expiry_frozen.load(Ordering::Relaxed) {
            // Missing, but left in place until the pause ends.
            return true;
        }
        if expired {
            if self.store.propagation.is_active()
                && let Some(e) = shard.table.at(slot)
            {
                self.store.propagate_expired(self.db, e.key());
            }
            shard.table.remove_at(slot);
            shard.expires.remove(hash);
            self.store
                .stats
                .expired_keys
                .fetch_add(1, Ordering::Relaxed);
        }
        expired
    }

    fn touch(&self, e: &mut Entry) {
        let settings = &self.store.settings;
        if settings.maxmemory_policy().is_lfu() {
            let c = clock::lfu_touch(
                e.clock(),
                self.now_ms,
                settings.lfu_log_factor.load(Ordering::Relaxed),
                settings.lfu_decay_time.load(Ordering::Relaxed),
                fastrand::f64(),
            );
            e.set_clock(c);
        } else {
            e.set_clock(clock::lru_clock(self.now_ms));
        }
    }

    /// Looks a key up as Redis's `lookupKey` does: an expired key is
    /// deleted and reported missing; the access clock is updated and a hit
    /// or miss counted unless `how` says not to.
    pub fn lookup(&mut self, key: &[u8], how: Lookup) -> Option<RefMut<'_, Entry>> {
        let hash = self.hash(key);
        let no_touch = how.no_touch || self.no_touch;
        let mut shard = self.cell(hash).borrow_mut();
        let found = match shard.table.find(key, hash) {
            Some(slot) if self.expire_slot(&mut shard, slot, hash) => None,
            other => other,
        };
        if !how.no_stats {
            if found.is_some() {
                shard.counters.hits += 1;
            } else {
                shard.counters.misses += 1;
            }
        }
        let slot = found?;
        RefMut::filter_map(shard, |s| s.table.at_mut(slot))
            .ok()
            .map(|mut e| {
                if !no_touch {
                    self.touch(&mut e);
                }
                e
            })
    }

    /// A read lookup (`lookupKeyRead`): counts a hit or a miss, touches.
    pub fn read(&mut self, key: &[u8]) -> Option<RefMut<'_, Entry>> {
        self.lookup(key, Lookup::default())
    }

    /// A write lookup (`lookupKeyWrite`): touches, counts nothing. The key
    /// counts as changed for WATCH (see [`crate::watch`]).
    pub fn write(&mut self, key: &[u8]) -> Option<RefMut<'_, Entry>> {
        let (store, db) = (self.store, self.db);
        let found = self.lookup(key, Lookup::WRITE);
        if found.is_some() {
            store.watches.touch(db, key);
        }
        found
    }

    /// Marks `key` changed for the clients that WATCH it. [`Keyspace::write`]
    /// does it for every key it hands out; a command that looks a key up
    /// with [`Keyspace::lookup`] and `Lookup::WRITE` instead calls this only
    /// when it really changed the key, as Redis's `signalModifiedKey`.
    pub fn touch_watched(&self, key: &[u8]) {
        self.store.watches.touch(self.db, key);
    }

    /// Whether `key`'s shard is locked by this view.
    fn holds(&self, key: &[u8]) -> bool {
        let s = self.store.shard_of(hash_key(key));
        match &self.guards {
            Guards::One(i, _) => *i == s,
            Guards::Many(v) => v.iter().any(|(i, _)| *i == s),
        }
    }

    /// Touches the watched keys of this view's shards that hold a live
    /// value, before the view empties or swaps them.
    fn touch_watched_live_keys(&self) {
        self.store
            .watches
            .touch_db_if(self.db, |k| self.holds(k) && self.peek(k).is_some());
    }

    /// A read lookup of a key that must hold `ty` (or be missing):
    /// `Err(errors::WRONGTYPE)` when it holds another type.
    pub fn read_typed(
        &mut self,
        key: &[u8],
        ty: ValueType,
    ) -> Result<Option<RefMut<'_, Entry>>, &'static str> {
        typed(self.read(key), ty)
    }

    /// A write lookup of a key that must hold `ty` (or be missing):
    /// `Err(errors::WRONGTYPE)` when it holds another type.
    pub fn write_typed(
        &mut self,
        key: &[u8],
        ty: ValueType,
    ) -> Result<Option<RefMut<'_, Entry>>, &'static str> {
        typed(self.write(key), ty)
    }

    /// [`Keyspace::write_typed`] without the WATCH touch: for commands that
    /// call [`Keyspace::touch_watched`] themselves, only when they change
    /// the key.
    pub fn write_typed_quiet(
        &mut self,
        key: &[u8],
        ty: ValueType,
    ) -> Result<Option<RefMut<'_, Entry>>, &'static str> {
        typed(self.lookup(key, Lookup::WRITE), ty)
    }

    /// Looks at a key without touching it or counting anything; an expired
    /// key is reported missing but left for expiry to delete.
    pub fn peek(&self, key: &[u8]) -> Option<Ref<'_, Entry>> {
        let hash = self.hash(key);
        let shard = self.cell(hash).borrow();
        Ref::filter_map(shard, |s| {
            s.table
                .get(key, hash)
                .filter(|e| e.expire_ms().is_none_or(|t| t >= self.now_ms))
        })
        .ok()
    }

    /// Whether the key exists (deleting it first if expired), without
    /// touching it or counting a hit.
    pub fn exists(&mut self, key: &[u8]) -> bool {
        self.lookup(
            key,
            Lookup {
                no_touch: true,
                no_stats: true,
            },
        )
        .is_some()
    }

    fn prepare(&self, e: &mut Entry) {
        if self.store.settings.maxmemory_policy().is_lfu() {
            e.set_clock(clock::lfu_new(self.now_ms));
        } else {
            e.set_clock(clock::lru_clock(self.now_ms));
        }
    }

    /// Stores `entry` under its key (Redis's `setKey`): a new key is added,
    /// an existing one replaced. The old expire time is dropped unless
    /// `keep_ttl`, in which case it is carried over (the entry's own expire
    /// time, if any, wins). Returns the entry that was replaced.
    pub fn set(&mut self, mut entry: Entry, keep_ttl: bool) -> Option<Entry> {
        self.prepare(&mut entry);
        // A key created or replaced may serve clients blocked on it (a
        // list moved into place by RENAME, a SORT ... STORE result).
        self.store.blocking.signal(self.db, entry.key());
        self.store.watches.touch(self.db, entry.key());
        let hash = hash_key(entry.key());
        let mut shard = self.cell(hash).borrow_mut();
        let shard = &mut *shard;
        // A hash with field TTLs arriving here (RENAME, COPY, MOVE...) joins
        // this shard's field-expiry index, so that active expiry finds it.
        if let Some(viator_types::entry::Object::Hash(h)) = entry.as_object_mut() {
            shard.field_expires.adopt(hash, h);
        }
        // A key whose time is up is deleted first, as Redis's setKey looks
        // it up for writing: counted in expired_keys and propagated as a
        // DEL before the write. During a pause it stays in place instead.
        let found = match shard.table.find(entry.key(), hash) {
            Some(slot)
                if !self.store.settings.expiry_frozen.load(Ordering::Relaxed)
                    && self.expire_slot(shard, slot, hash) =>
            {
                None
            }
            found => found,
        };
        match found {
            Some(slot) => {
                let slot_entry = shard.table.at_mut(slot).expect("found slot is full");
                // Under an LFU policy an overwritten key keeps its access
                // frequency, as Redis's dbSetValue does.
                if self.store.settings.maxmemory_policy().is_lfu() {
                    entry.set_clock(slot_entry.clock());
                }
                let old_expire = slot_entry.expire_ms();
                // A key whose time is up (left in place by a pause) has no
                // TTL to keep: it is logically gone.
                let live_expire = old_expire.filter(|&t| t >= self.now_ms);
                if keep_ttl && entry.expire_ms().is_none() && live_expire.is_some() {
                    entry.set_expire_ms(live_expire);
                }
                match (old_expire.is_some(), entry.expire_ms().is_some()) {
                    (true, false) => {
                        shard.expires.remove(hash);
                    }
                    (false, true) => shard.expires.insert(hash),
                    _ => {}
                }
                Some(std::mem::replace(slot_entry, entry))
            }
            None => {
                if entry.expire_ms().is_some() {
                    shard.expires.insert(hash);
                }
                shard.table.insert_new(hash, entry);
                None
            }
        }
    }

    /// Adds an entry whose key the caller knows is absent (or expired: an
    /// expired key is deleted first).
    pub fn add(&mut self, entry: Entry) {
        self.set(entry, false);
    }

    /// Deletes a key (Redis's `dbDelete`). Returns the removed entry, or
    /// `None` if the key did not exist or had expired.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let hash = self.hash(key);
        let mut shard = self.cell(hash).borrow_mut();
        let slot = shard.table.find(key, hash)?;
        if self.expire_slot(&mut shard, slot, hash) {
            return None;
        }
        let e = shard.table.remove_at(slot)?;
        if e.expire_ms().is_some() {
            shard.expires.remove(hash);
        }
        self.store.watches.touch(self.db, key);
        // XREADGROUP waiters learn that their stream is gone (Redis's
        // signalDeletedKeyAsReady); other waiters ignore a missing key.
        self.store.blocking.signal(self.db, key);
        Some(e)
    }

    /// Runs `f` with the entry of `key` (looked up as is: no expiry check,
    /// touch or stats; callers looked it up first), the shard's hash-field
    /// expiry index and the key's hash, so that a hash command can change
    /// a hash and refile it in the index at once. `None` if the key is not
    /// in the table.
    pub fn with_field_index<R>(
        &mut self,
        key: &[u8],
        f: impl FnOnce(&mut Entry, &mut viator_types::hash::FieldExpireIndex, u64) -> R,
    ) -> Option<R> {
        let hash = self.hash(key);
        let mut shard = self.cell(hash).borrow_mut();
        let shard = &mut *shard;
        let slot = shard.table.find(key, hash)?;
        let e = shard.table.at_mut(slot)?;
        Some(f(e, &mut shard.field_expires, hash))
    }

    /// Sets or clears a key's expire time. Returns false if the key does not
    /// exist.
    pub fn set_expire(&mut self, key: &[u8], expire_ms: Option<i64>) -> bool {
        let hash = self.hash(key);
        let mut shard = self.cell(hash).borrow_mut();
        let shard = &mut *shard;
        let Some(slot) = shard.table.find(key, hash) else {
            return false;
        };
        // A key whose time is up is gone, even if nobody deleted it yet.
        if self.expire_slot(shard, slot, hash) {
            return false;
        }
        let Some(e) = shard.table.at_mut(slot) else {
            return false;
        };
        match (e.expire_ms().is_some(), expire_ms.is_some()) {
            (true, false) => {
                shard.expires.remove(hash);
            }
            (false, true) => shard.expires.insert(hash),
            _ => {}
        }
        e.set_expire_ms(expire_ms);
        self.store.watches.touch(self.db, key);
        true
    }

    /// Number of keys in the locked shards (the whole database when it is
    /// locked with [`Keyspace::lock_db`]). Expired keys not yet deleted are
    /// counted, as DBSIZE does in Redis.
    pub fn len(&self) -> usize {
        self.cells().map(|c| c.borrow().table.len()).sum()
    }

    /// Whether the locked shards hold no keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of keys with an expire time in the locked shards.
    pub fn expires_len(&self) -> usize {
        self.cells().map(|c| c.borrow().expires.len()).sum()
    }

    /// Calls `f` with every live (not expired) entry of the locked shards.
    pub fn for_each(&self, mut f: impl FnMut(&Entry)) {
        for c in self.cells() {
            for e in c.borrow().table.iter() {
                if e.expire_ms().is_none_or(|t| t >= self.now_ms) {
                    f(e);
                }
            }
        }
    }

    /// Removes every key of the locked shards. Returns how many there were.
    pub fn clear(&mut self) -> usize {
        self.touch_watched_live_keys();
        self.store.blocking.signal_db(self.db);
        let mut n = 0;
        for c in self.cells() {
            let mut s = c.borrow_mut();
            n += s.table.len();
            s.take_contents();
        }
        n
    }

    /// One step of SCAN over the whole database (all shards must be
    /// locked). The cursor holds the shard index in its low bits and the
    /// shard's table cursor above them, like Redis's kvstore cursors. Calls
    /// `f` with the entries of one home slot; returns the next cursor, 0 at
    /// the end.
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&Entry)) -> u64 {
        let now = self.now_ms;
        self.scan_step_all(cursor, |e| {
            if e.expire_ms().is_none_or(|t| t >= now) {
                f(e)
            }
        })
    }

    /// [`Keyspace::scan_step`] that also passes expired keys not deleted
    /// yet, for SCAN, which deletes the ones it meets as Redis does.
    pub fn scan_step_all(&self, cursor: u64, mut f: impl FnMut(&Entry)) -> u64 {
        let bits = self.store.shard_bits();
        let nshards = self.store.shard_count() as u64;
        let mut shard = (cursor & (nshards - 1)) as usize;
        let mut inner = cursor >> bits;
        let Guards::Many(v) = &self.guards else {
            // One shard per database.
            let c = self.cells().next().expect("a locked shard");
            return c.borrow().table.scan(inner, &mut f) << bits;
        };
        loop {
            let Some((_, g)) = v.get(shard) else { return 0 };
            let next = g.borrow().table.scan(inner, &mut f);
            if next != 0 {
                return (next << bits) | shard as u64;
            }
            // This shard is done; go on with the next one in the same call
            // only if it is empty, so that each call does bounded work.
            shard += 1;
            inner = 0;
            if shard as u64 >= nshards {
                return 0;
            }
            if !v[shard].1.borrow().table.is_empty() {
                return shard as u64;
            }
        }
    }

    /// Locks the shards of `keys_a` in database `db_a` and those of `keys_b`
    /// in database `db_b`, for the commands that touch two databases (MOVE,
    /// COPY ... DB). Locks are taken in the global order every multi-database
    /// lock follows, database index first and shard index second, so two
    /// such commands running in opposite directions cannot deadlock.
    ///
    /// Returns the view of `db_a` and the view of `db_b`; when the two
    /// databases are the same, the first view holds the shards of all the
    /// keys and the second is `None` (two views of one shard would fight
    /// over its `RefCell`).
    pub fn lock_pair<K: AsRef<[u8]>>(
        store: &'a Store,
        db_a: usize,
        keys_a: &[K],
        db_b: usize,
        keys_b: &[K],
        now_ms: i64,
    ) -> (Keyspace<'a>, Option<Keyspace<'a>>) {
        if db_a == db_b {
            let all: Vec<&[u8]> = keys_a.iter().chain(keys_b).map(|k| k.as_ref()).collect();
            return (Keyspace::lock_keys(store, db_a, &all, now_ms), None);
        }
        if db_a < db_b {
            let a = Keyspace::lock_keys(store, db_a, keys_a, now_ms);
            let b = Keyspace::lock_keys(store, db_b, keys_b, now_ms);
            (a, Some(b))
        } else {
            let b = Keyspace::lock_keys(store, db_b, keys_b, now_ms);
            let a = Keyspace::lock_keys(store, db_a, keys_a, now_ms);
            (a, Some(b))
        }
    }

    /// Locks every shard of each database in `dbs`, in the global lock order
    /// (database index, then shard index), for FLUSHALL and SWAPDB. Returns
    /// one whole-database view per database, in ascending index order, with
    /// duplicate indices dropped.
    pub fn lock_dbs(store: &'a Store, dbs: &[usize], now_ms: i64) -> Vec<Keyspace<'a>> {
        let mut order = dbs.to_vec();
        order.sort_unstable();
        order.dedup();
        order
            .into_iter()
            .map(|db| Keyspace::lock_db(store, db, now_ms))
            .collect()
    }

    /// Empties every locked shard and returns what the shards held, so that
    /// the caller frees the keys after dropping the view (or on another
    /// thread, for FLUSHDB/FLUSHALL ASYNC) instead of while holding the
    /// locks.
    pub fn take_contents(&mut self) -> Vec<Shard> {
        self.touch_watched_live_keys();
        // As Redis's signalFlushedDb: XREADGROUP waiters get their error.
        self.store.blocking.signal_db(self.db);
        self.cells()
            .map(|c| c.borrow_mut().take_contents())
            .collect()
    }

    /// Swaps the contents of every shard of this view with the same shard of
    /// `other` (SWAPDB). Both views must hold every shard of their database
    /// (see [`Keyspace::lock_dbs`]); returns false, and swaps nothing, if
    /// either does not.
    pub fn swap_contents(&mut self, other: &mut Keyspace<'_>) -> bool {
        let whole =
            |v: &Guards<'_>| matches!(v, Guards::Many(g) if g.len() == self.store.shard_count());
        if !whole(&self.guards) || !whole(&other.guards) {
            return false;
        }
        // A watched key changes if it exists on either side.
        let live = |k: &[u8]| self.peek(k).is_some() || other.peek(k).is_some();
        self.store.watches.touch_db_if(self.db, live);
        self.store.watches.touch_db_if(other.db, live);
        for (a, b) in self.cells().zip(other.cells()) {
            let (mut a, mut b) = (a.borrow_mut(), b.borrow_mut());
            std::mem::swap(&mut *a, &mut *b);
            // Counters belong to the shard, not to its keys.
            std::mem::swap(&mut a.counters, &mut b.counters);
        }
        true
    }

    /// A random live key of the locked shards, or `None` if there is none.
    /// Expired keys met on the way are deleted. While a CLIENT PAUSE keeps
    /// expired keys in place and every key has a TTL, the hundredth key
    /// drawn is returned even if its time is up, as Redis's `dbRandomKey`
    /// does so that RANDOMKEY cannot loop forever.
    pub fn random_key(&mut self) -> Option<Vec<u8>> {
        let cells: Vec<&RefCell<Shard>> = self.cells().collect();
        let total: usize = cells.iter().map(|c| c.borrow().table.len()).sum();
        if total == 0 {
            return None;
        }
        let volatile: usize = cells.iter().map(|c| c.borrow().expires.len()).sum();
        let frozen = self.store.settings.expiry_frozen.load(Ordering::Relaxed);
        let mut maxtries = 100;
        // Bounded tries, as Redis's dbRandomKey gives up on keyspaces where
        // every key is expired only after deleting them.
        for _ in 0..total.saturating_mul(2).max(if frozen { 100 } else { 16 }) {
            // Pick a shard weighted by its size.
            let mut r = fastrand::usize(..total.max(1));
            let mut chosen = cells[0];
            for c in &cells {
                let n = c.borrow().table.len();
                if r < n {
                    chosen = c;
                    break;
                }
                r -= n;
            }
            let mut s = chosen.borrow_mut();
            let Some(slot) = s.table.random_slot(fastrand::u64(..)) else {
                continue;
            };
            let (key, hash) = {
                let e = s.table.at(slot)?;
                (e.key().to_vec(), hash_key(e.key()))
            };
            if frozen && volatile >= total {
                maxtries -= 1;
                if maxtries == 0 {
                    return Some(key);
                }
            }
            if self.expire_slot(&mut s, slot, hash) {
                continue;
            }
            return Some(key);
        }
        None
    }
}
