//! Snapshots of the whole store in Redis's RDB format (the formats are in
//! `viator-persist`; this module walks the databases).
//!
//! [`save`] holds every shard of every database while it writes, as SAVE
//! and DEBUG RELOAD must (Redis's SAVE blocks the server too); [`load`]
//! fills an empty store from a snapshot, dropping keys whose time is up, as
//! a Redis master does when it loads.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use viator_persist::objects::{Limits, entry_from_record};
use viator_persist::rdb::file::{FileReader, FileWriter, Record};
use viator_persist::rdb::{self, RDB_VERSION};
use viator_types::entry::Entry;
use viator_types::hash;
use viator_types::set::SetLimits;
use viator_types::zset;

use crate::keyspace::Keyspace;
use crate::store::{Shard, Store};

/// How to write a snapshot.
#[derive(Debug, Clone)]
pub struct SaveOptions {
    /// `rdbcompression`: LZF-compress long strings.
    pub compress: bool,
    /// `rdbchecksum`: end with the CRC64 (else 0).
    pub checksum: bool,
    /// The RDB version to write (12, or 10 for Redis 7.0 when the data
    /// fits it).
    pub version: u16,
    /// Extra auxiliary fields after Redis's own (`aof-base`...).
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// The server's used memory, for the `used-mem` field.
    pub used_memory: u64,
    /// `rdb-key-save-delay`: microseconds a background save sleeps per key
    /// (a negative -n: one microsecond per n keys), for tests that need a
    /// save to last.
    pub key_save_delay_us: i64,
    /// Set by another thread to stop a background save early (an AOF
    /// rewrite killed by CONFIG SET appendonly no): the write then fails
    /// with [`std::io::ErrorKind::Interrupted`].
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for SaveOptions {
    fn default() -> SaveOptions {
        SaveOptions {
            compress: true,
            checksum: true,
            version: RDB_VERSION,
            aux: Vec::new(),
            used_memory: 0,
            key_save_delay_us: 0,
            cancel: None,
        }
    }
}

/// What a save wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaveStats {
    /// Keys written.
    pub keys: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// What a load read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// The `redis-ver` auxiliary field: the version that wrote the file.
    pub writer_version: Option<String>,
    /// The `ctime` field: when the file was written, unix seconds.
    pub ctime: Option<i64>,
    /// The `used-mem` field: the writer's memory use then.
    pub used_mem: Option<u64>,
    /// Keys added to the store.
    pub keys_loaded: u64,
    /// Keys dropped because their expire time had passed.
    pub keys_expired: u64,
    /// Keys dropped because they held an empty value.
    pub empty_keys_skipped: u64,
    /// Bytes of the snapshot, checksum included: where an AOF's commands
    /// start after its RDB preamble.
    pub bytes: u64,
}

/// Why a snapshot could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is not a valid RDB stream.
    #[error("{error} (at offset {offset})")]
    Format {
        /// What is wrong.
        error: rdb::Error,
        /// Where in the stream it was found.
        offset: u64,
    },
    /// A key is already in the store (and `allow_dup` was not given).
    #[error("RDB has duplicated key '{}' in DB {db}", String::from_utf8_lossy(key))]
    DuplicateKey {
        /// The key.
        key: Vec<u8>,
        /// Its database.
        db: usize,
    },
    /// A key names a database beyond `databases`.
    #[error("the data file was created with a server configured to handle more than {0} databases")]
    TooManyDatabases(usize),
}

/// The access clock of a key loaded or restored with `idle_s` (seconds
/// since last access) or `freq` (an LFU counter), when the eviction policy
/// keeps that kind of clock (Redis's objectSetLRUOrLFU); `None` leaves the
/// key's fresh clock.
pub fn access_clock(
    store: &Store,
    idle_s: Option<u64>,
    freq: Option<u8>,
    now_ms: i64,
) -> Option<u32> {
    use viator_types::entry::CLOCK_MAX;
    let policy = store.settings.maxmemory_policy();
    match (freq, idle_s) {
        (Some(f), _) if policy.is_lfu() => {
            Some(((crate::clock::lfu_new(now_ms) >> 8) << 8) | u32::from(f))
        }
        (_, Some(secs)) if policy.is_lru() => {
            let secs = secs.min(u64::from(CLOCK_MAX)) as u32;
            Some(crate::clock::lru_clock(now_ms).wrapping_sub(secs) & CLOCK_MAX)
        }
        _ => None,
    }
}

/// The encoding thresholds the configuration holds now.
pub fn limits(store: &Store) -> Limits {
    let s = &store.settings;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    Limits {
        list_fill: s.list_max_listpack_size.load(Ordering::Relaxed),
        list_compress: s.list_compress_depth.load(Ordering::Relaxed),
        hash: hash::Limits {
            max_entries: load(&s.hash_max_listpack_entries) as usize,
            max_value: load(&s.hash_max_listpack_value) as usize,
        },
        set: SetLimits {
            intset_entries: load(&s.set_max_intset_entries),
            listpack_entries: load(&s.set_max_listpack_entries),
            listpack_value: load(&s.set_max_listpack_value),
        },
        zset: zset::Limits {
            max_entries: load(&s.zset_max_listpack_entries) as usize,
            max_value: load(&s.zset_max_listpack_value) as usize,
        },
        stream_node: (
            load(&s.stream_node_max_entries),
            load(&s.stream_node_max_bytes),
        ),
    }
}

/// Writes every database to `out` with Redis's auxiliary fields first.
/// Holds every shard for the duration.
pub fn save<W: Write>(
    store: &Store,
    out: W,
    opts: &SaveOptions,
    now_ms: i64,
) -> std::io::Result<SaveStats> {
    let all: Vec<usize> = (0..store.db_count()).collect();
    let views = Keyspace::lock_dbs(store, &all, now_ms);
    let mut w = FileWriter::new(out, opts.version, opts.compress, opts.checksum)?;
    write_aux(&mut w, opts, now_ms)?;
    let mut keys = 0;
    for (db, ks) in views.iter().enumerate() {
        if ks.is_empty() {
            continue;
        }
        w.select_db(db as u64, ks.len() as u64, ks.expires_len() as u64)?;
        let mut result = Ok(());
        ks.for_each(|e| {
            if result.is_ok() {
                result = write_entry(&mut w, e, store, now_ms);
                keys += 1;
                // Redis's rdbSaveDb sleeps per key for SAVE too.
                key_save_delay(opts.key_save_delay_us, 1, None);
            }
        });
        result?;
    }
    let bytes = w.written() + 9;
    w.finish()?;
    Ok(SaveStats { keys, bytes })
}

/// Loads a snapshot into `store`. A key already there is an error unless
/// `allow_dup` (DEBUG RELOAD MERGE), when the loaded one replaces it. Keys
/// whose expire time is before `now_ms` are dropped.
pub fn load<R: Read>(
    store: &Store,
    input: R,
    now_ms: i64,
    allow_dup: bool,
) -> Result<LoadStats, LoadError> {
    let format = |r: &FileReader<R>, error| LoadError::Format {
        error,
        offset: r.offset(),
    };
    let mut r = FileReader::new(input).map_err(|error| LoadError::Format { error, offset: 0 })?;
    let limits = limits(store);
    let mut stats = LoadStats::default();
    let mut db = 0usize;
    loop {
        let record = match r.next_record() {
            Ok(rec) => rec,
            Err(e) => return Err(format(&r, e)),
        };
        match record {
            Record::Eof => {
                stats.bytes = r.offset();
                return Ok(stats);
            }
            Record::SelectDb(n) => {
                db = usize::try_from(n).unwrap_or(usize::MAX);
                if db >= store.db_count() {
                    return Err(LoadError::TooManyDatabases(store.db_count()));
                }
            }
            Record::Key {
                key,
                value,
                expire_ms,
                idle_s,
                freq,
            } => {
                if expire_ms.is_some_and(|t| t < now_ms) {
                    stats.keys_expired += 1;
                    continue;
                }
                match entry_from_record(&key, value, expire_ms, &limits, now_ms) {
                    Ok(Some(entry)) => {
                        let mut ks = Keyspace::lock_keys(store, db, &[key.as_slice()], now_ms);
                        if !allow_dup && ks.peek(&key).is_some() {
                            return Err(LoadError::DuplicateKey { key, db });
                        }
                        ks.set(entry, false);
                        if let Some(clock) = access_clock(store, idle_s, freq, now_ms)
                            && let Some(mut e) = ks.lookup(
                                &key,
                                crate::keyspace::Lookup {
                                    no_touch: true,
                                    no_stats: true,
                                },
                            )
                        {
                            e.set_clock(clock);
                        }
                        stats.keys_loaded += 1;
                    }
                    Ok(None) => stats.empty_keys_skipped += 1,
                    Err(e) => return Err(format(&r, e)),
                }
            }
            Record::Aux { name, value } => {
                let text = String::from_utf8_lossy(&value).into_owned();
                match name.as_slice() {
                    b"redis-ver" => stats.writer_version = Some(text),
                    b"ctime" => stats.ctime = text.parse().ok(),
                    b"used-mem" => stats.used_mem = text.parse().ok(),
                    _ => {}
                }
            }
            // Size hints, slot information and function libraries (loaded
            // once scripting exists) need nothing here.
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Background saves
// ---------------------------------------------------------------------------

/// A background save's view of the dataset, frozen at the moment it began.
///
/// Redis forks, and the kernel copies each memory page the parent changes
/// while the child writes. Viator copies at shard granularity instead: when
/// the save begins every shard is marked pending (with every shard locked,
/// so the mark is one instant for the whole dataset); the first view that
/// locks a pending shard afterwards (a command, the expire cycle, or the
/// saver itself) clones the shard's live entries before doing anything
/// else, and the saver writes the clones with no lock held. A command pays
/// for the copy of at most the shards it touches, once per save, and the
/// extra memory is the copied shards not yet written.
#[derive(Debug, Default)]
pub(crate) struct Cow {
    /// Whether a save is running: the one load a lock pays otherwise.
    active: AtomicBool,
    state: parking_lot::Mutex<Option<Arc<CowState>>>,
}

#[derive(Debug)]
struct CowState {
    now_ms: i64,
    shards_per_db: usize,
    /// How records are encoded (version, compression).
    version: u16,
    compress: bool,
    /// The eviction policy's access information to save (idle seconds
    /// under LRU, counters under LFU) and the LFU decay time, as of the
    /// save's start.
    policy: crate::store::EvictionPolicy,
    lfu_decay: u32,
    /// Per shard (database-major): not yet copied.
    pending: Box<[AtomicBool]>,
    /// Per shard: the copy, until the saver takes it.
    copies: Box<[parking_lot::Mutex<Option<ShardImage>>]>,
}

/// A shard's live keys at the save's start, already encoded as RDB
/// records: encoding is faster than duplicating every entry (so the
/// command that meets a pending shard waits less) and the image is smaller
/// than the entries it stands for.
#[derive(Debug, Default)]
struct ShardImage {
    records: Vec<u8>,
    keys: u64,
    expires: u64,
}

impl Cow {
    /// Called with shard `shard` of database `db` locked, before the view
    /// that locked it reads or changes it.
    #[inline]
    pub(crate) fn before_access(&self, db: usize, shard: usize, guard: &RefCell<Shard>) {
        if !self.active.load(Ordering::Acquire) {
            return;
        }
        self.copy_if_pending(db, shard, guard);
    }

    #[cold]
    fn copy_if_pending(&self, db: usize, shard: usize, guard: &RefCell<Shard>) {
        let Some(state) = self.state.lock().clone() else {
            return;
        };
        let i = db * state.shards_per_db + shard;
        if state.pending[i].swap(false, Ordering::AcqRel) {
            *state.copies[i].lock() = Some(copy_shard(&guard.borrow(), &state));
        }
    }

    /// Whether a background save is running.
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }
}

/// Clones the entries of `shard` that are live at `now_ms`.
fn copy_shard(shard: &Shard, state: &CowState) -> ShardImage {
    let mut w = FileWriter::fragment(Vec::new(), state.version, state.compress);
    let (mut keys, mut expires) = (0, 0);
    for e in shard.table.iter() {
        if e.expire_ms().is_some_and(|t| t < state.now_ms) {
            continue;
        }
        let (idle, freq) = access_of(e, state.policy, state.lfu_decay, state.now_ms);
        // Writing to memory cannot fail; an entry that cannot be encoded
        // (none exists) would be missing from the image, not panic.
        if w.key_with_access(e, idle, freq).is_ok() {
            keys += 1;
            expires += u64::from(e.expire_ms().is_some());
        }
    }
    ShardImage {
        records: w.into_inner(),
        keys,
        expires,
    }
}

/// A background save that has frozen the dataset and not written it yet:
/// [`BackgroundSave::write`] (on any thread) writes the dataset as it was
/// when [`begin_background`] returned.
#[derive(Debug)]
pub struct BackgroundSave {
    state: Arc<CowState>,
}

/// Why a background save cannot start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Background save already in progress")]
pub struct SaveInProgress;

/// Freezes the dataset for a background save: every shard of every
/// database is locked for the instant it takes to mark them.
pub fn begin_background(
    store: &Store,
    opts: &SaveOptions,
    now_ms: i64,
) -> Result<BackgroundSave, SaveInProgress> {
    begin_background_then(store, opts, now_ms, || ()).map(|(save, ())| save)
}

/// [`begin_background`] that also runs `at_freeze` at the frozen instant,
/// with every shard still locked: no command runs between the two, so
/// what `at_freeze` starts (an AOF rewrite's new incremental file) sees
/// exactly the writes after the frozen dataset. Returns what it returned.
pub fn begin_background_then<T>(
    store: &Store,
    opts: &SaveOptions,
    now_ms: i64,
    at_freeze: impl FnOnce() -> T,
) -> Result<(BackgroundSave, T), SaveInProgress> {
    let all: Vec<usize> = (0..store.db_count()).collect();
    let views = Keyspace::lock_dbs(store, &all, now_ms);
    if store.cow.is_active() {
        return Err(SaveInProgress);
    }
    let n = store.db_count() * store.shard_count();
    let state = Arc::new(CowState {
        now_ms,
        shards_per_db: store.shard_count(),
        version: opts.version,
        compress: opts.compress,
        policy: store.settings.maxmemory_policy(),
        lfu_decay: store.settings.lfu_decay_time.load(Ordering::Relaxed),
        pending: (0..n).map(|_| AtomicBool::new(true)).collect(),
        copies: (0..n).map(|_| parking_lot::Mutex::new(None)).collect(),
    });
    *store.cow.state.lock() = Some(state.clone());
    store.cow.active.store(true, Ordering::Release);
    let t = at_freeze();
    drop(views);
    Ok((BackgroundSave { state }, t))
}

/// Whether a background save (BGSAVE or an AOF rewrite) is running: what
/// Redis's `hasActiveChildProcess` says for its forks.
pub fn background_active(store: &Store) -> bool {
    store.cow.is_active()
}

/// Ends a background save that will not be written (its thread could not
/// start): shards are no longer copied.
pub fn abort_background(store: &Store) {
    store.cow.active.store(false, Ordering::Release);
    *store.cow.state.lock() = None;
}

impl BackgroundSave {
    /// Writes the frozen dataset to `out`, one shard at a time: a shard not
    /// copied yet is copied now (locked for the copy only), then written
    /// with no lock held. Ends the save either way.
    pub fn write<W: Write>(
        self,
        store: &Store,
        out: W,
        opts: &SaveOptions,
    ) -> std::io::Result<SaveStats> {
        let result = self.write_inner(store, out, opts);
        abort_background(store);
        result
    }

    fn write_inner<W: Write>(
        &self,
        store: &Store,
        out: W,
        opts: &SaveOptions,
    ) -> std::io::Result<SaveStats> {
        let state = &self.state;
        let mut w = FileWriter::new(out, opts.version, opts.compress, opts.checksum)?;
        write_aux(&mut w, opts, state.now_ms)?;
        let mut keys = 0;
        for db in 0..store.db_count() {
            let mut images = Vec::with_capacity(state.shards_per_db);
            for (s, lock) in store.db(db).shards().iter().enumerate() {
                let guard = lock.lock();
                let i = db * state.shards_per_db + s;
                let image = if state.pending[i].swap(false, Ordering::AcqRel) {
                    copy_shard(&guard.borrow(), state)
                } else {
                    state.copies[i].lock().take().unwrap_or_default()
                };
                drop(guard);
                images.push(image);
            }
            let total: u64 = images.iter().map(|im| im.keys).sum();
            if total == 0 {
                continue;
            }
            let expires: u64 = images.iter().map(|im| im.expires).sum();
            w.select_db(db as u64, total, expires)?;
            for image in &images {
                w.records(&image.records)?;
                key_save_delay(opts.key_save_delay_us, image.keys, opts.cancel.as_deref());
                if opts
                    .cancel
                    .as_ref()
                    .is_some_and(|c| c.load(Ordering::Relaxed))
                {
                    return Err(std::io::ErrorKind::Interrupted.into());
                }
            }
            keys += total;
        }
        let bytes = w.written() + 9;
        w.finish()?;
        Ok(SaveStats { keys, bytes })
    }
}

/// Sleeps what `rdb-key-save-delay` asks for `keys` keys written, in
/// slices, so that a cancelled save stops soon.
fn key_save_delay(delay_us: i64, keys: u64, cancel: Option<&AtomicBool>) {
    let mut us = match delay_us {
        0 => return,
        d if d > 0 => (d as u64).saturating_mul(keys),
        d => keys / d.unsigned_abs(),
    };
    while us > 0 && !cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        let slice = us.min(10_000);
        std::thread::sleep(std::time::Duration::from_micros(slice));
        us -= slice;
    }
}

/// Writes a key with the access information the eviction policy keeps
/// (Redis's rdbSaveKeyValuePair: idle seconds under LRU, the counter under
/// LFU, nothing otherwise).
fn write_entry<W: Write>(
    w: &mut FileWriter<W>,
    e: &Entry,
    store: &Store,
    now_ms: i64,
) -> std::io::Result<()> {
    let decay = store.settings.lfu_decay_time.load(Ordering::Relaxed);
    let (idle, freq) = access_of(e, store.settings.maxmemory_policy(), decay, now_ms);
    w.key_with_access(e, idle, freq)
}

/// What a snapshot keeps of a key's access clock under `policy`: idle
/// seconds under LRU, the decayed counter under LFU.
fn access_of(
    e: &Entry,
    policy: crate::store::EvictionPolicy,
    lfu_decay: u32,
    now_ms: i64,
) -> (Option<u64>, Option<u8>) {
    let idle = policy
        .is_lru()
        .then(|| crate::clock::lru_idle_ms(e.clock(), now_ms) / 1000);
    let freq = policy
        .is_lfu()
        .then(|| crate::clock::lfu_decayed_counter(e.clock(), now_ms, lfu_decay).min(255) as u8);
    (idle, freq)
}

fn write_aux<W: Write>(
    w: &mut FileWriter<W>,
    opts: &SaveOptions,
    now_ms: i64,
) -> std::io::Result<()> {
    w.aux(b"redis-ver", b"8.4.0")?;
    w.aux(
        b"redis-bits",
        if cfg!(target_pointer_width = "64") {
            b"64"
        } else {
            b"32"
        },
    )?;
    w.aux(b"ctime", (now_ms / 1000).to_string().as_bytes())?;
    w.aux(b"used-mem", opts.used_memory.to_string().as_bytes())?;
    for (name, value) in &opts.aux {
        w.aux(name, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_background_save_at_a_time() {
        let store = Store::new(Default::default());
        let opts = SaveOptions::default();
        let first = begin_background(&store, &opts, 0).unwrap();
        assert_eq!(
            begin_background(&store, &opts, 0).unwrap_err(),
            SaveInProgress
        );
        first.write(&store, Vec::new(), &opts).unwrap();
        let again = begin_background(&store, &opts, 0).unwrap();
        abort_background(&store);
        drop(again);
        assert!(begin_background(&store, &opts, 0).is_ok());
    }
}
