//! WATCH: which clients watch which keys, and the flag each client's EXEC
//! checks (Redis's `watched_keys` and `CLIENT_DIRTY_CAS`).
//!
//! The keyspace view touches a key ([`Watches::touch`]) whenever it
//! creates, replaces, deletes or hands out a key for writing
//! ([`crate::Keyspace::write`]), and changes its TTL; FLUSHDB, FLUSHALL and
//! SWAPDB touch the watched keys that exist. A key that had a TTL when it
//! was watched and is gone at EXEC (it expired, lazily or actively) also
//! fails the EXEC, as Redis's `isWatchedKeyExpired` does.
//!
//! Handing a key out for writing counts as a change even when the command
//! ends up changing nothing: such an EXEC fails where Redis's would run.
//! Commands that look keys up with `Lookup::WRITE` and call
//! [`crate::Keyspace::touch_watched`] themselves when they change something
//! (the hash family, SADD, SREM, SMOVE, ZADD, ZREM) are exact.
//!
//! All of it costs one atomic load per write while nobody watches.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use parking_lot::Mutex;

use crate::command::Client;

/// One key a client watches.
#[derive(Debug, Clone)]
pub struct WatchedKey {
    /// Its database.
    pub db: usize,
    /// The key.
    pub key: Vec<u8>,
    /// Whether it existed with a TTL when watched: if it is gone at EXEC,
    /// it expired (or was deleted, which touched it anyway).
    pub had_ttl: bool,
}

type KeyId = (usize, Vec<u8>);

/// The clients watching one key: their ids and dirty flags.
type Watchers = Vec<(u64, Arc<AtomicBool>)>;

/// The registry of watched keys. See the module docs.
#[derive(Debug, Default)]
pub struct Watches {
    /// Number of (key, client) watches: touching costs one load when zero.
    count: AtomicUsize,
    keys: Mutex<HashMap<KeyId, Watchers>>,
}

impl Watches {
    /// Whether anybody watches anything.
    #[inline]
    pub fn active(&self) -> bool {
        self.count.load(Ordering::Relaxed) != 0
    }

    /// Marks the clients watching `key` of database `db` as dirty.
    #[inline]
    pub fn touch(&self, db: usize, key: &[u8]) {
        if !self.active() {
            return;
        }
        self.touch_slow(db, key);
    }

    #[cold]
    fn touch_slow(&self, db: usize, key: &[u8]) {
        let keys = self.keys.lock();
        if let Some(watchers) = keys.get(&(db, key.to_vec())) {
            for (_, dirty) in watchers {
                dirty.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Touches every watched key of database `db` for which `exists` says
    /// yes (FLUSHDB, SWAPDB: only keys that were there change).
    pub fn touch_db_if(&self, db: usize, mut exists: impl FnMut(&[u8]) -> bool) {
        if !self.active() {
            return;
        }
        let keys = self.keys.lock();
        for ((d, key), watchers) in keys.iter() {
            if *d == db && exists(key) {
                for (_, dirty) in watchers {
                    dirty.store(true, Ordering::Relaxed);
                }
            }
        }
    }

    /// Number of distinct watched keys (INFO's `total_watched_keys`).
    pub fn watched_keys(&self) -> usize {
        if !self.active() {
            return 0;
        }
        self.keys.lock().len()
    }

    /// Adds `key` to the client's watches (once).
    pub(crate) fn watch(&self, client: &mut Client, db: usize, key: &[u8], had_ttl: bool) {
        if client.watched.iter().any(|w| w.db == db && w.key == key) {
            return;
        }
        let dirty = client
            .watch_dirty
            .get_or_insert_with(|| Arc::new(AtomicBool::new(false)))
            .clone();
        let mut keys = self.keys.lock();
        keys.entry((db, key.to_vec()))
            .or_default()
            .push((client.id, dirty));
        self.count.fetch_add(1, Ordering::Relaxed);
        client.watched.push(WatchedKey {
            db,
            key: key.to_vec(),
            had_ttl,
        });
    }

    /// Drops every watch of the client and clears its dirty flag (EXEC,
    /// DISCARD, UNWATCH, RESET, disconnection).
    pub fn unwatch_all(&self, client: &mut Client) {
        if let Some(d) = &client.watch_dirty {
            d.store(false, Ordering::Relaxed);
        }
        if client.watched.is_empty() {
            return;
        }
        let mut keys = self.keys.lock();
        for w in client.watched.drain(..) {
            let id = (w.db, w.key);
            if let Some(list) = keys.get_mut(&id) {
                let before = list.len();
                list.retain(|(c, _)| *c != client.id);
                self.count.fetch_sub(before - list.len(), Ordering::Relaxed);
                if list.is_empty() {
                    keys.remove(&id);
                }
            }
        }
    }
}
