//! Snapshots on disk: the file in `dir`/`dbfilename`, written the way Redis
//! writes it (a temporary file, fsync, rename, so that a crash during a save
//! never damages the last good snapshot), loaded at start-up, and the state
//! INFO persistence reports.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use viator_store::snapshot::{self, SaveInProgress, SaveOptions, SaveStats};

use crate::server::Shared;

/// What INFO persistence reports about snapshots.
#[derive(Debug, Default)]
pub struct RdbState {
    /// Successful saves since start (`rdb_saves`).
    pub saves: AtomicU64,
    /// Whether the last background save failed (`rdb_last_bgsave_status`).
    pub last_bgsave_failed: AtomicBool,
    /// Seconds the last background save took, -1 for none
    /// (`rdb_last_bgsave_time_sec`).
    pub last_bgsave_secs: AtomicI64,
    /// Keys the last load added (`rdb_last_load_keys_loaded`).
    pub last_load_keys_loaded: AtomicU64,
    /// Keys the last load dropped as expired (`rdb_last_load_keys_expired`).
    pub last_load_keys_expired: AtomicU64,
    /// When the running background save began, unix ms (0: none).
    pub bgsave_started_ms: AtomicI64,
    /// When the last background save attempt began, unix ms, for the retry
    /// delay after a failure.
    pub last_bgsave_try_ms: AtomicI64,
    /// A BGSAVE SCHEDULE (or a BGSAVE inside MULTI) waits for the cron.
    pub bgsave_scheduled: AtomicBool,
}

impl RdbState {
    /// The state of a server that never saved.
    pub fn new() -> RdbState {
        RdbState {
            last_bgsave_secs: AtomicI64::new(-1),
            ..RdbState::default()
        }
    }
}

/// Where the snapshot lives: `dir`/`dbfilename`.
pub fn snapshot_path(shared: &Shared) -> PathBuf {
    let cfg = shared.config.read();
    cfg.dir().join(cfg.dbfilename())
}

fn save_options(shared: &Shared) -> SaveOptions {
    let cfg = shared.config.read();
    SaveOptions {
        compress: cfg.rdbcompression(),
        checksum: cfg.rdbchecksum(),
        used_memory: crate::alloc::allocated().unwrap_or(0) as u64,
        key_save_delay_us: cfg.num(crate::config::Opt::RdbKeySaveDelay),
        version: cfg.num(crate::config::Opt::RdbVersion) as u16,
        ..SaveOptions::default()
    }
}

/// How many bytes a save writes between two fsyncs under
/// `rdb-save-incremental-fsync` and `aof-rewrite-incremental-fsync`
/// (Redis's `REDIS_AUTOSYNC_BYTES`).
pub(crate) const INCREMENTAL_FSYNC_BYTES: u64 = 4 << 20;

/// A file written with an fsync every `every` bytes (never when 0), as
/// Redis's rio autosync does for snapshots and AOF rewrites: the data
/// reaches the disk as it is written instead of all at the final fsync,
/// which would otherwise stall the disk for everything else at once.
pub(crate) struct IncrementalFsync<'f> {
    file: &'f File,
    every: u64,
    unsynced: u64,
    /// How many fsyncs it made.
    pub(crate) syncs: u64,
}

impl<'f> IncrementalFsync<'f> {
    /// Writes `file`, fsyncing every `every` bytes (0: never).
    pub(crate) fn new(file: &'f File, every: u64) -> IncrementalFsync<'f> {
        IncrementalFsync {
            file,
            every,
            unsynced: 0,
            syncs: 0,
        }
    }

    /// `INCREMENTAL_FSYNC_BYTES` when `on`, else 0.
    pub(crate) fn interval(on: bool) -> u64 {
        if on { INCREMENTAL_FSYNC_BYTES } else { 0 }
    }
}

impl Write for IncrementalFsync<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = (&mut &*self.file).write(buf)?;
        self.unsynced += n as u64;
        if self.every > 0 && self.unsynced >= self.every {
            self.file.sync_data()?;
            self.unsynced = 0;
            self.syncs += 1;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes `path` through a temporary file in the same directory: written
/// (fsynced every `fsync_every` bytes on the way, never when 0), flushed,
/// fsynced, renamed over `path`, and the directory fsynced, so that the
/// rename itself survives a crash.
fn write_atomically(
    path: &Path,
    tmp_name: &str,
    fsync_every: u64,
    write: impl FnOnce(&mut BufWriter<IncrementalFsync<'_>>) -> io::Result<SaveStats>,
) -> io::Result<SaveStats> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let file = File::create(&tmp)?;
        let stats = {
            let mut out =
                BufWriter::with_capacity(1 << 20, IncrementalFsync::new(&file, fsync_every));
            let stats = write(&mut out)?;
            out.flush()?;
            stats
        };
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()?;
        Ok(stats)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The fsync interval of snapshot writes (`rdb-save-incremental-fsync`).
fn snapshot_fsync_every(shared: &Shared) -> u64 {
    let on = shared
        .config
        .read()
        .bool(crate::config::Opt::RdbSaveIncrementalFsync);
    IncrementalFsync::interval(on)
}

/// SAVE: writes the snapshot now, holding the whole dataset still while it
/// does (as Redis's SAVE blocks its server). On success the dirty counter
/// restarts from zero and LASTSAVE moves.
pub fn save_now(shared: &Shared) -> io::Result<SaveStats> {
    let path = snapshot_path(shared);
    let opts = save_options(shared);
    let store = &shared.store;
    let now = viator_store::clock::now_ms();
    let dirty_before = store.dirty.load(Ordering::Relaxed);
    let tmp = format!("temp-{}.rdb", std::process::id());
    let every = snapshot_fsync_every(shared);
    let result = write_atomically(&path, &tmp, every, |out| {
        snapshot::save(store, out, &opts, now)
    });
    match &result {
        Ok(_) => {
            store.dirty.fetch_sub(
                dirty_before.min(store.dirty.load(Ordering::Relaxed)),
                Ordering::Relaxed,
            );
            store.lastsave_ms.store(now, Ordering::Relaxed);
            crate::log::notice("DB saved on disk");
        }
        Err(e) => crate::log::warning(&format!(
            "Failed saving the DB to {tmp} (in server root dir {}): {e}",
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default()
        )),
    }
    result
}

/// Loads the snapshot file into the store. `Ok` with the lines Redis logs
/// about it (empty when there is no file: nothing to load); the caller logs
/// them, at start-up after "Server initialized".
pub fn load_file(shared: &Shared, allow_dup: bool) -> Result<Vec<String>, String> {
    let path = snapshot_path(shared);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(format!(
                "Fatal error loading the DB, check server logs: {e}"
            ));
        }
    };
    let started = Instant::now();
    let now = viator_store::clock::now_ms();
    let stats = snapshot::load(
        &shared.store,
        BufReader::with_capacity(1 << 20, file),
        now,
        allow_dup,
    )
    .map_err(|e| {
        format!("Short read or OOM loading DB. Unrecoverable error, aborting now. ({e})")
    })?;
    let mut lines = Vec::new();
    if let Some(v) = &stats.writer_version {
        lines.push(format!("Loading RDB produced by version {v}"));
    }
    if let Some(ctime) = stats.ctime {
        lines.push(format!("RDB age {} seconds", (now / 1000 - ctime).max(0)));
    }
    if let Some(mem) = stats.used_mem {
        lines.push(format!(
            "RDB memory usage when created {:.2} Mb",
            mem as f64 / (1024.0 * 1024.0)
        ));
    }
    lines.push(format!(
        "Done loading RDB, keys loaded: {}, keys expired: {}.",
        stats.keys_loaded, stats.keys_expired
    ));
    shared
        .rdb
        .last_load_keys_loaded
        .store(stats.keys_loaded, Ordering::Relaxed);
    shared
        .rdb
        .last_load_keys_expired
        .store(stats.keys_expired, Ordering::Relaxed);
    lines.push(format!(
        "DB loaded from disk: {:.3} seconds",
        started.elapsed().as_secs_f64()
    ));
    Ok(lines)
}

/// BGSAVE: freezes the dataset now and writes it on a thread of its own,
/// while clients go on (see `viator_store::snapshot::Cow` for the cost).
/// `Err` when a background save is already running.
pub fn bgsave(shared: &Shared) -> Result<(), SaveInProgress> {
    let now = viator_store::clock::now_ms();
    let this = shared
        .this
        .get()
        .and_then(std::sync::Weak::upgrade)
        .ok_or(SaveInProgress)?;
    let opts = save_options(shared);
    let frozen = snapshot::begin_background(&shared.store, &opts, now)?;
    let dirty_before = shared.store.dirty.load(Ordering::Relaxed);
    shared.rdb.bgsave_started_ms.store(now, Ordering::Relaxed);
    shared.rdb.last_bgsave_try_ms.store(now, Ordering::Relaxed);
    shared.rdb.saves.fetch_add(1, Ordering::Relaxed);
    let path = snapshot_path(shared);
    let opts = save_options(shared);
    let every = snapshot_fsync_every(shared);
    crate::log::notice(&format!(
        "Background saving started by pid {}",
        std::process::id()
    ));
    let spawned = std::thread::Builder::new()
        .name("viator-bgsave".into())
        .spawn(move || {
            let started = Instant::now();
            // Its own temporary name: a SAVE may run meanwhile (SHUTDOWN).
            let tmp = format!("temp-{}-bg.rdb", std::process::id());
            let result = write_atomically(&path, &tmp, every, |out| {
                frozen.write(&this.store, out, &opts)
            });
            // Ended even when the file could not be created and the frozen
            // dataset was never written.
            snapshot::abort_background(&this.store);
            let rdb = &this.rdb;
            rdb.last_bgsave_secs
                .store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
            rdb.bgsave_started_ms.store(0, Ordering::Relaxed);
            match result {
                Ok(_) => {
                    let store = &this.store;
                    store.dirty.fetch_sub(
                        dirty_before.min(store.dirty.load(Ordering::Relaxed)),
                        Ordering::Relaxed,
                    );
                    store.lastsave_ms.store(now, Ordering::Relaxed);
                    rdb.last_bgsave_failed.store(false, Ordering::Relaxed);
                    crate::log::notice("DB saved on disk");
                    crate::log::notice("Background saving terminated with success");
                }
                Err(e) => {
                    rdb.last_bgsave_failed.store(true, Ordering::Relaxed);
                    crate::log::warning(&format!("Write error saving DB on disk: {e}"));
                    crate::log::warning("Background saving error");
                }
            }
        });
    if spawned.is_err() {
        // The save never ran: unfreeze the dataset.
        snapshot::abort_background(&shared.store);
        shared.rdb.bgsave_started_ms.store(0, Ordering::Relaxed);
        shared.rdb.last_bgsave_failed.store(true, Ordering::Relaxed);
        crate::log::warning("Can't save in background: cannot start a thread");
    }
    Ok(())
}

/// Whether a background save is running (INFO `rdb_bgsave_in_progress`).
pub fn bgsave_in_progress(shared: &Shared) -> bool {
    shared.rdb.bgsave_started_ms.load(Ordering::Relaxed) != 0
}

/// The cron's part (Redis's `serverCron`): a scheduled BGSAVE, and the
/// `save` points: a BGSAVE once some point's number of changes happened
/// within its number of seconds, but not sooner than 5 seconds after a
/// failed one (`CONFIG_BGSAVE_RETRY_DELAY`).
pub fn cron(shared: &Shared) {
    if bgsave_in_progress(shared) || shared.aof.rewriting() {
        return;
    }
    if shared.rdb.bgsave_scheduled.swap(false, Ordering::Relaxed) {
        let _ = bgsave(shared);
        return;
    }
    let now = viator_store::clock::now_ms();
    let dirty = shared.store.dirty.load(Ordering::Relaxed);
    let since_save = (now - shared.store.lastsave_ms.load(Ordering::Relaxed)) / 1000;
    let retry_ok = !shared.rdb.last_bgsave_failed.load(Ordering::Relaxed)
        || now - shared.rdb.last_bgsave_try_ms.load(Ordering::Relaxed) > 5000;
    let due = shared
        .config
        .read()
        .save_params()
        .iter()
        .find(|p| dirty >= p.changes.max(0) as u64 && since_save >= p.seconds)
        .map(|p| (p.changes, p.seconds));
    if let Some((changes, seconds)) = due
        && retry_ok
    {
        crate::log::notice(&format!(
            "{changes} changes in {seconds} seconds. Saving..."
        ));
        let _ = bgsave(shared);
    }
}

/// The error of writes refused after a failed background save.
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Whether writes are refused (Redis's `writeCommandsDeniedByDiskError`
/// for snapshots): `stop-writes-on-bgsave-error` is on, `save` points are
/// set, and the last background save failed.
pub fn writes_refused(shared: &Shared) -> bool {
    if !shared.rdb.last_bgsave_failed.load(Ordering::Relaxed) {
        return false;
    }
    let cfg = shared.config.read();
    cfg.stop_writes_on_bgsave_error() && !cfg.save_params().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `len` bytes to a new file through a BufWriter over an
    /// `IncrementalFsync` with `every`; returns the fsyncs made and the
    /// file's contents.
    fn write_through(len: usize, every: u64) -> (u64, Vec<u8>) {
        let path = std::env::temp_dir().join(format!(
            "viator-incremental-fsync-{}-{every}",
            std::process::id()
        ));
        let file = File::create(&path).unwrap();
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let syncs = {
            let mut out = BufWriter::with_capacity(1 << 20, IncrementalFsync::new(&file, every));
            for chunk in data.chunks(100_000) {
                out.write_all(chunk).unwrap();
            }
            out.flush().unwrap();
            out.get_ref().syncs
        };
        let written = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(written, data);
        (syncs, written)
    }

    #[test]
    fn incremental_fsync_syncs_every_four_megabytes() {
        let (syncs, _) = write_through(10 << 20, IncrementalFsync::interval(true));
        assert_eq!(syncs, 2);
    }

    #[test]
    fn incremental_fsync_off_never_syncs_on_the_way() {
        let (syncs, _) = write_through(10 << 20, IncrementalFsync::interval(false));
        assert_eq!(syncs, 0);
    }
}
