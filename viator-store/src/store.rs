//! The store: numbered databases, each split into shards behind their own
//! locks, plus the settings and statistics every command can reach.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU32, AtomicU64, Ordering};

use parking_lot::ReentrantMutex;
use viator_types::table::{ExpireSet, KeyTable};

use crate::command::CommandTable;

/// One shard of a database: the keys whose hash falls in it.
#[derive(Debug, Default)]
pub struct Shard {
    /// The keys and values.
    pub table: KeyTable,
    /// Hashes of the keys that have an expire time (see [`ExpireSet`]).
    pub expires: ExpireSet,
    /// Where the active expiry sweep goes on next time.
    pub expire_cursor: usize,
    /// Hashes of this shard that have fields with a TTL, by earliest field
    /// expire time: what the active expiry cycle walks to delete expired
    /// hash fields (issue 3, hashes).
    pub field_expires: viator_types::hash::FieldExpireIndex,
    /// Keyspace hits and misses of lookups in this shard. Counted here,
    /// under the shard's lock, rather than in shared atomics: the counter
    /// costs a plain increment on every read command. They stay with the
    /// shard when its contents are emptied or swapped.
    pub counters: ShardCounters,
}

/// Statistics kept per shard (see [`Shard::counters`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct ShardCounters {
    /// Successful read lookups.
    pub hits: u64,
    /// Failed read lookups.
    pub misses: u64,
}

impl Shard {
    /// Empties the shard, keeping its counters; returns what it held.
    pub fn take_contents(&mut self) -> Shard {
        let counters = self.counters;
        let mut taken = std::mem::take(self);
        self.counters = counters;
        taken.counters = ShardCounters::default();
        taken
    }
}

/// A shard behind its lock.
///
/// The mutex is reentrant so that a transaction or a script, which locks
/// every shard it may touch before it starts, can run ordinary commands that
/// lock their own keys again. The `RefCell` turns the lock's shared access
/// into exclusive access; views never hold two borrows of one shard at once.
pub type ShardLock = ReentrantMutex<RefCell<Shard>>;

/// One database (SELECT index).
#[derive(Debug)]
pub struct Db {
    shards: Box<[ShardLock]>,
}

impl Db {
    fn new(nshards: usize) -> Db {
        Db {
            shards: (0..nshards)
                .map(|_| ReentrantMutex::new(RefCell::new(Shard::default())))
                .collect(),
        }
    }

    /// The shards, in lock order.
    pub fn shards(&self) -> &[ShardLock] {
        &self.shards
    }
}

/// The policy maxmemory uses to choose keys to evict (`maxmemory-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum EvictionPolicy {
    /// `noeviction`
    NoEviction = 0,
    /// `allkeys-lru`
    AllKeysLru,
    /// `allkeys-lfu`
    AllKeysLfu,
    /// `allkeys-random`
    AllKeysRandom,
    /// `volatile-lru`
    VolatileLru,
    /// `volatile-lfu`
    VolatileLfu,
    /// `volatile-random`
    VolatileRandom,
    /// `volatile-ttl`
    VolatileTtl,
}

impl EvictionPolicy {
    /// Every policy with its configuration name.
    pub const ALL: [(EvictionPolicy, &'static str); 8] = [
        (EvictionPolicy::VolatileLru, "volatile-lru"),
        (EvictionPolicy::VolatileLfu, "volatile-lfu"),
        (EvictionPolicy::VolatileRandom, "volatile-random"),
        (EvictionPolicy::VolatileTtl, "volatile-ttl"),
        (EvictionPolicy::AllKeysLru, "allkeys-lru"),
        (EvictionPolicy::AllKeysLfu, "allkeys-lfu"),
        (EvictionPolicy::AllKeysRandom, "allkeys-random"),
        (EvictionPolicy::NoEviction, "noeviction"),
    ];

    /// Whether the access clock of keys holds LFU counters.
    pub fn is_lfu(self) -> bool {
        matches!(
            self,
            EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu
        )
    }

    /// Whether the access clock of keys holds LRU times.
    pub fn is_lru(self) -> bool {
        matches!(
            self,
            EvictionPolicy::AllKeysLru | EvictionPolicy::VolatileLru
        )
    }

    fn from_u8(v: u8) -> EvictionPolicy {
        match v {
            1 => EvictionPolicy::AllKeysLru,
            2 => EvictionPolicy::AllKeysLfu,
            3 => EvictionPolicy::AllKeysRandom,
            4 => EvictionPolicy::VolatileLru,
            5 => EvictionPolicy::VolatileLfu,
            6 => EvictionPolicy::VolatileRandom,
            7 => EvictionPolicy::VolatileTtl,
            _ => EvictionPolicy::NoEviction,
        }
    }
}

/// Settings commands read while they run. The server writes them when the
/// configuration changes; they are atomics so that reading one costs a load.
#[derive(Debug)]
pub struct Settings {
    /// `proto-max-bulk-len`: the largest string APPEND, SETRANGE and friends
    /// may build.
    pub proto_max_bulk_len: AtomicU64,
    maxmemory_policy: AtomicU8,
    /// `lfu-log-factor`.
    pub lfu_log_factor: AtomicU32,
    /// `lfu-decay-time` in minutes.
    pub lfu_decay_time: AtomicU32,
    /// `active-expire-effort` (1 to 10).
    pub active_expire_effort: AtomicU32,
    /// Whether the active expiry cycle runs (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire_enabled: AtomicBool,
    /// `maxmemory` in bytes, 0 for no limit.
    pub maxmemory: AtomicU64,
    /// `latency-tracking`: record each call's duration for INFO
    /// latencystats.
    pub latency_tracking: AtomicBool,
    /// Set while a CLIENT PAUSE holds writes: expired keys read as missing
    /// but are not deleted (a deletion is a write), as in Redis. Shared with
    /// the server's pause state.
    pub expiry_frozen: std::sync::Arc<AtomicBool>,
    /// `list-max-listpack-size`: positive, the most elements of one list
    /// node; negative (-1 to -5), its most bytes (4, 8, 16, 32, 64 KiB).
    pub list_max_listpack_size: AtomicI64,
    /// `list-compress-depth`: how many nodes at each end of a quicklist
    /// stay uncompressed (0: none is compressed). A list takes the value
    /// when it becomes a quicklist and keeps it.
    pub list_compress_depth: AtomicI64,
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: AtomicU64,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: AtomicU64,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: AtomicU64,
    /// `set-max-listpack-entries`.
    pub set_max_listpack_entries: AtomicU64,
    /// `set-max-listpack-value`.
    pub set_max_listpack_value: AtomicU64,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: AtomicU64,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: AtomicU64,
    /// `rdbcompression`: LZF-compress long strings in snapshots and DUMP
    /// payloads.
    pub rdb_compression: AtomicBool,
    /// `stream-node-max-entries`: the most entries of one stream node (0:
    /// no limit).
    pub stream_node_max_entries: AtomicU64,
    /// `stream-node-max-bytes`: the most bytes of one stream node (0: no
    /// limit).
    pub stream_node_max_bytes: AtomicU64,
    /// `hll-sparse-max-bytes`: a sparse HyperLogLog that would grow past
    /// this becomes dense.
    pub hll_sparse_max_bytes: AtomicU64,
    /// `rdb-version` (a Viator option): the RDB version snapshots, AOF
    /// bases and DUMP payloads are written in: 12 (Redis 7.4 to 8.4), 11
    /// (7.2) or 10 (7.0) for older servers to read.
    pub rdb_version: std::sync::atomic::AtomicU16,
    /// Set by a host that runs every command on one thread (the server
    /// with `io-threads 1`): commands then reach the propagation sink in
    /// the order they ran without locking their shards for it (see
    /// `crate::propagate`).
    pub commands_on_one_thread: AtomicBool,
    /// Set while an AOF loads: no key expires (a key the AOF gives a time
    /// already past keeps it until loading ends, and later commands in the
    /// file still find it), as Redis's `server.loading`.
    pub loading: AtomicBool,
    /// `lazyfree-lazy-expire`: a key deleted because its time was up is
    /// propagated as `UNLINK` instead of `DEL`.
    pub lazyfree_lazy_expire: AtomicBool,
    /// `lazyfree-lazy-server-del`: a key a command deletes as a side effect
    /// (SPOP taking the whole set) is propagated as `UNLINK` instead of
    /// `DEL`.
    pub lazyfree_lazy_server_del: AtomicBool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            proto_max_bulk_len: AtomicU64::new(512 * 1024 * 1024),
            maxmemory_policy: AtomicU8::new(EvictionPolicy::NoEviction as u8),
            lfu_log_factor: AtomicU32::new(10),
            lfu_decay_time: AtomicU32::new(1),
            active_expire_effort: AtomicU32::new(1),
            active_expire_enabled: AtomicBool::new(true),
            maxmemory: AtomicU64::new(0),
            latency_tracking: AtomicBool::new(true),
            expiry_frozen: std::sync::Arc::new(AtomicBool::new(false)),
            list_max_listpack_size: AtomicI64::new(-2),
            list_compress_depth: AtomicI64::new(0),
            hash_max_listpack_entries: AtomicU64::new(512),
            hash_max_listpack_value: AtomicU64::new(64),
            set_max_intset_entries: AtomicU64::new(512),
            set_max_listpack_entries: AtomicU64::new(128),
            set_max_listpack_value: AtomicU64::new(64),
            zset_max_listpack_entries: AtomicU64::new(128),
            zset_max_listpack_value: AtomicU64::new(64),
            rdb_compression: AtomicBool::new(true),
            stream_node_max_entries: AtomicU64::new(100),
            stream_node_max_bytes: AtomicU64::new(4096),
            rdb_version: std::sync::atomic::AtomicU16::new(12),
            commands_on_one_thread: AtomicBool::new(false),
            loading: AtomicBool::new(false),
            lazyfree_lazy_expire: AtomicBool::new(false),
            lazyfree_lazy_server_del: AtomicBool::new(false),
            hll_sparse_max_bytes: AtomicU64::new(3000),
        }
    }
}

impl Settings {
    /// The current eviction policy.
    pub fn maxmemory_policy(&self) -> EvictionPolicy {
        EvictionPolicy::from_u8(self.maxmemory_policy.load(Ordering::Relaxed))
    }

    /// Sets the eviction policy.
    pub fn set_maxmemory_policy(&self, p: EvictionPolicy) {
        self.maxmemory_policy.store(p as u8, Ordering::Relaxed);
    }
}

/// Counters INFO reports. Relaxed atomics: they are statistics.
#[derive(Debug, Default)]
pub struct Stats {
    /// Successful key lookups by reading commands.
    pub keyspace_hits: AtomicU64,
    /// Failed key lookups by reading commands.
    pub keyspace_misses: AtomicU64,
    /// Keys deleted because their time to live ran out.
    pub expired_keys: AtomicU64,
    /// Hash fields deleted because their time to live ran out
    /// (`expired_subkeys`).
    pub expired_subkeys: AtomicU64,
    /// Keys evicted by maxmemory.
    pub evicted_keys: AtomicU64,
    /// Times the active expiry cycle stopped early because of its time
    /// limit.
    pub expired_time_cap_reached_count: AtomicU64,
    /// Microseconds spent in the active expiry cycle (INFO shows them in
    /// milliseconds, `expire_cycle_cpu_milliseconds`; kept finer here so
    /// that cycles shorter than a millisecond add up).
    pub expire_cycle_cpu_us: AtomicU64,
    /// Keys found expired by the sweep but not yet deleted (always 0 here:
    /// the sweep deletes what it finds).
    pub expired_stale_perc: AtomicU64,
}

impl Stats {
    /// Zeroes every counter (CONFIG RESETSTAT).
    pub fn reset(&self) {
        for c in [
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.expired_keys,
            &self.expired_subkeys,
            &self.evicted_keys,
            &self.expired_time_cap_reached_count,
            &self.expire_cycle_cpu_us,
            &self.expired_stale_perc,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// Options for building a [`Store`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Number of databases (`databases`, 16 by default).
    pub databases: usize,
    /// log2 of the number of shards per database.
    pub shard_bits: u32,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            databases: 16,
            shard_bits: 4,
        }
    }
}

/// The whole keyspace with its command table: everything needed to run a
/// command, with no network.
#[derive(Debug)]
pub struct Store {
    dbs: Box<[Db]>,
    shard_bits: u32,
    /// Settings commands read.
    pub settings: Settings,
    /// Statistics.
    pub stats: Stats,
    /// Changes since the last save (`rdb_changes_since_last_save`).
    pub dirty: AtomicU64,
    /// Unix time in milliseconds of the last successful save.
    pub lastsave_ms: AtomicI64,
    /// Clients blocked on keys (BLPOP and friends).
    pub blocking: crate::blocking::Blocking,
    /// Keys watched by clients (WATCH).
    pub watches: crate::watch::Watches,
    /// The background snapshot in progress, if any.
    pub(crate) cow: crate::snapshot::Cow,
    /// Where writes propagate (the AOF), if anywhere.
    pub propagation: crate::propagate::Propagation,
    /// MIGRATE's cached connections to its targets.
    pub migrate_sockets: crate::commands::migrate::SocketCache,
    commands: CommandTable,
}

impl Store {
    /// A store with the given options and the built-in command table.
    pub fn new(options: StoreOptions) -> Store {
        let nshards = 1usize << options.shard_bits;
        Store {
            dbs: (0..options.databases.max(1))
                .map(|_| Db::new(nshards))
                .collect(),
            shard_bits: options.shard_bits,
            settings: Settings::default(),
            stats: Stats::default(),
            dirty: AtomicU64::new(0),
            lastsave_ms: AtomicI64::new(crate::clock::now_ms()),
            blocking: Default::default(),
            watches: Default::default(),
            cow: Default::default(),
            propagation: Default::default(),
            migrate_sockets: Default::default(),
            commands: CommandTable::builtin(),
        }
    }

    /// The command table.
    pub fn commands(&self) -> &CommandTable {
        &self.commands
    }

    /// The command table, to register commands of higher crates before the
    /// store is shared.
    pub fn commands_mut(&mut self) -> &mut CommandTable {
        &mut self.commands
    }

    /// Number of databases.
    pub fn db_count(&self) -> usize {
        self.dbs.len()
    }

    /// Database `i`.
    pub fn db(&self, i: usize) -> &Db {
        &self.dbs[i]
    }

    /// Number of shards per database.
    pub fn shard_count(&self) -> usize {
        1 << self.shard_bits
    }

    /// log2 of the number of shards per database.
    pub fn shard_bits(&self) -> u32 {
        self.shard_bits
    }

    /// The shard a key hash falls in.
    #[inline]
    pub fn shard_of(&self, hash: u64) -> usize {
        if self.shard_bits == 0 {
            0
        } else {
            (hash >> (64 - self.shard_bits)) as usize
        }
    }

    /// Adds `n` to the count of changes since the last save.
    pub fn add_dirty(&self, n: u64) {
        self.dirty.fetch_add(n, Ordering::Relaxed);
        crate::propagate::count_dirty(n);
    }

    /// Number of keys in database `db` (locks each shard in turn).
    pub fn db_size(&self, db: usize) -> usize {
        self.dbs[db]
            .shards
            .iter()
            .map(|s| s.lock().borrow().table.len())
            .sum()
    }

    /// Keyspace hits since the last reset (INFO `keyspace_hits`).
    pub fn keyspace_hits(&self) -> u64 {
        self.stats.keyspace_hits.load(Ordering::Relaxed) + self.sum_counters(|c| c.hits)
    }

    /// Keyspace misses since the last reset (INFO `keyspace_misses`).
    pub fn keyspace_misses(&self) -> u64 {
        self.stats.keyspace_misses.load(Ordering::Relaxed) + self.sum_counters(|c| c.misses)
    }

    fn sum_counters(&self, f: impl Fn(&ShardCounters) -> u64) -> u64 {
        self.dbs
            .iter()
            .flat_map(|db| db.shards.iter())
            .map(|s| f(&s.lock().borrow().counters))
            .sum()
    }

    /// Zeroes the store's statistics (CONFIG RESETSTAT).
    pub fn reset_stats(&self) {
        self.stats.reset();
        for s in self.dbs.iter().flat_map(|db| db.shards.iter()) {
            s.lock().borrow_mut().counters = ShardCounters::default();
        }
    }

    /// Number of keys with an expire time in database `db`.
    pub fn db_expires(&self, db: usize) -> usize {
        self.dbs[db]
            .shards
            .iter()
            .map(|s| s.lock().borrow().expires.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Client;
    use viator_protocol::ReplyBuf;

    #[test]
    fn keyspace_counters_survive_flushes_and_swaps_and_reset() {
        let store = Store::new(StoreOptions::default());
        let mut client = Client::default();
        let mut out = ReplyBuf::new();
        for cmd in [
            &["SET", "a", "1"][..],
            &["GET", "a"],
            &["GET", "missing"],
            &["SWAPDB", "0", "1"],
            &["FLUSHALL"],
            &["GET", "a"],
        ] {
            store.execute(&mut client, cmd, &mut out);
        }
        assert_eq!((store.keyspace_hits(), store.keyspace_misses()), (1, 2));
        store.reset_stats();
        assert_eq!((store.keyspace_hits(), store.keyspace_misses()), (0, 0));
    }

    #[test]
    fn frozen_expiry_hides_expired_keys_without_deleting_them() {
        let store = Store::new(StoreOptions::default());
        let mut client = Client::default();
        let mut run = |cmd: &[&str]| {
            let mut out = ReplyBuf::new();
            store.execute(&mut client, cmd, &mut out);
            out.as_bytes().to_vec()
        };
        run(&["SET", "k", "v", "PX", "1"]);
        std::thread::sleep(std::time::Duration::from_millis(5));
        store.settings.expiry_frozen.store(true, Ordering::Relaxed);
        assert_eq!(run(&["GET", "k"]), b"$-1\r\n");
        assert_eq!(run(&["EXISTS", "k"]), b":0\r\n");
        assert_eq!(run(&["DBSIZE"]), b":1\r\n");
        // SET KEEPTTL on a logically expired key keeps no TTL.
        assert_eq!(run(&["SET", "k", "w", "KEEPTTL"]), b"+OK\r\n");
        assert_eq!(run(&["TTL", "k"]), b":-1\r\n");
        run(&["SET", "j", "v", "PX", "1"]);
        std::thread::sleep(std::time::Duration::from_millis(5));
        store.settings.expiry_frozen.store(false, Ordering::Relaxed);
        assert_eq!(run(&["GET", "j"]), b"$-1\r\n");
        assert_eq!(run(&["DBSIZE"]), b":1\r\n");
    }

    #[test]
    fn a_key_lives_through_its_expire_millisecond() {
        use viator_types::entry::{Entry, NewValue};
        let store = Store::new(StoreOptions::default());
        let now = 1_700_000_000_000;
        let mut ks = crate::Keyspace::lock_keys(&store, 0, &[b"k"], now);
        ks.add(Entry::new(b"k", NewValue::Str(b"v"), Some(now)));
        // Redis's keyIsExpired: expired when now > when.
        assert!(ks.exists(b"k"));
        drop(ks);
        let mut ks = crate::Keyspace::lock_keys(&store, 0, &[b"k"], now + 1);
        assert!(!ks.exists(b"k"));
    }
}
