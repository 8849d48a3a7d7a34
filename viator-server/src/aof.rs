//! The append-only file, as Redis 7+ keeps it: a directory (`appenddirname`)
//! holding a base file (an RDB snapshot, `appendonly.aof.N.base.rdb`), the
//! incremental files of the writes since (`appendonly.aof.N.incr.aof`, RESP
//! commands) and the manifest that lists them, with Redis's names, so that
//! Redis loads Viator's directory and the reverse.
//!
//! Writes reach the AOF through the store's propagation sink
//! ([`viator_store::propagate`]), which encodes them into a pending buffer
//! while their shards are still locked: the file's order is the order the
//! writes happened in. The connection that wrote moves the buffer to the
//! file before its replies go out ([`sync_before_reply`]), as Redis writes
//! its AOF buffer before replying, so an acknowledged write survives the
//! process being killed; with `appendfsync always` it fsyncs too, so the
//! write survives the machine crashing. Connections that meet there share
//! one write and one fsync. A writer thread fsyncs once a second under
//! `everysec` (never under `no`: the kernel decides), and writes what
//! other paths fed (keys expiring in the background).
//!
//! BGREWRITEAOF freezes the dataset as BGSAVE does (see
//! `viator_store::snapshot`), and in the same instant switches the writes
//! to a new incremental file; the frozen dataset becomes the new base, and
//! the manifest then drops the files it replaces.

use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use viator_persist::aof::commands::{AofError, CommandReader};
use viator_persist::aof::manifest::{self, AofFile, FileType, Manifest};
use viator_protocol::encode_command as encode;
use viator_store::Client;
use viator_store::propagate::{Propagated, PropagationSink};
use viator_store::snapshot::{self, SaveOptions};

use crate::server::Shared;

/// `appendfsync`: when written commands are fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Fsync {
    /// Never: the kernel flushes when it likes.
    No = 0,
    /// Once a second, on the writer thread.
    Everysec = 1,
    /// Before the replies of the writes go out.
    Always = 2,
}

/// The AOF's state: the writes not yet in the file, the file, the
/// manifest, and what INFO persistence reports.
#[derive(Debug)]
pub struct Aof {
    core: Arc<Core>,
    /// When the running rewrite began, unix ms (0: none).
    pub rewrite_started_ms: AtomicI64,
    /// A BGREWRITEAOF waits for the cron (a BGSAVE was running, or it was
    /// asked inside MULTI).
    pub rewrite_scheduled: AtomicBool,
    /// Seconds the last rewrite took, -1 for none.
    pub last_rewrite_secs: AtomicI64,
    /// Whether the last rewrite failed.
    pub last_rewrite_failed: AtomicBool,
    /// Rewrites started since start-up.
    pub rewrites: AtomicU64,
    /// Rewrites that failed in a row.
    pub consecutive_failures: AtomicU64,
    /// The base file's size after the last rewrite (or at load), for the
    /// automatic rewrite's growth check.
    pub base_size: AtomicU64,
    /// Stops the running rewrite (CONFIG SET appendonly no).
    rewrite_cancel: Mutex<Option<Arc<AtomicBool>>>,
}

/// What the propagation sink and the writer thread share.
#[derive(Debug)]
struct Core {
    pending: Mutex<Pending>,
    wake: Condvar,
    io: Mutex<Io>,
    fsync: AtomicU8,
    timestamps: AtomicBool,
    /// Whether writes are appended (AOF on).
    enabled: AtomicBool,
    /// The writer thread should end.
    stop: AtomicBool,
    /// Whether the last write to the file failed (`aof_last_write_status`).
    write_failed: AtomicBool,
    /// DEBUG AOF-FLUSH-SLEEP: microseconds to sleep before each write.
    flush_sleep_us: AtomicU64,
    /// `no-appendfsync-on-rewrite`: no fsync while a background save or
    /// rewrite runs.
    no_fsync_on_rewrite: AtomicBool,
    /// The last write error's text, for the MISCONF refusal.
    write_error: Mutex<String>,
}

/// Encoded writes waiting for the file.
#[derive(Debug, Default)]
struct Pending {
    buf: Vec<u8>,
    /// The database the file's last command ran in; -1 forces a SELECT.
    selected_db: i64,
    /// The last `#TS:` annotation written, unix seconds.
    last_ts: i64,
    /// Bytes ever fed.
    fed: u64,
}

/// The files.
#[derive(Debug)]
struct Io {
    /// `dir`/`appenddirname`.
    dir: PathBuf,
    /// `appendfilename`.
    name: Vec<u8>,
    manifest: Manifest,
    /// The incremental file written to.
    file: Option<File>,
    /// Its size.
    incr_size: u64,
    /// Bytes of [`Pending::fed`] written to the file, and fsynced.
    written: u64,
    synced: u64,
    last_fsync: Instant,
}

thread_local! {
    /// Whether a command on this thread fed the AOF since the last
    /// [`sync_before_reply`].
    static FED: Cell<bool> = const { Cell::new(false) };
}

impl PropagationSink for Core {
    fn feed(&self, commands: &[Propagated], wrap: bool) {
        if !self.enabled.load(Ordering::Relaxed) {
            return;
        }
        let mut p = self.pending.lock();
        let before = p.buf.len();
        if self.timestamps.load(Ordering::Relaxed) {
            let now = viator_store::clock::now_ms() / 1000;
            if now != p.last_ts {
                p.buf.extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
                p.last_ts = now;
            }
        }
        if wrap {
            encode(&mut p.buf, &[b"MULTI"]);
        }
        for c in commands {
            if c.db as i64 != p.selected_db {
                let mut digits = itoa::Buffer::new();
                encode(&mut p.buf, &[b"SELECT", digits.format(c.db).as_bytes()]);
                p.selected_db = c.db as i64;
            }
            encode(&mut p.buf, &c.argv);
        }
        if wrap {
            encode(&mut p.buf, &[b"EXEC"]);
        }
        p.fed += (p.buf.len() - before) as u64;
        FED.with(|f| f.set(true));
    }
}

impl Default for Aof {
    fn default() -> Aof {
        Aof::new()
    }
}

impl Aof {
    /// An AOF that is off.
    pub fn new() -> Aof {
        Aof {
            core: Arc::new(Core {
                pending: Mutex::new(Pending {
                    selected_db: -1,
                    ..Pending::default()
                }),
                wake: Condvar::new(),
                io: Mutex::new(Io {
                    dir: PathBuf::new(),
                    name: Vec::new(),
                    manifest: Manifest::default(),
                    file: None,
                    incr_size: 0,
                    written: 0,
                    synced: 0,
                    last_fsync: Instant::now(),
                }),
                fsync: AtomicU8::new(Fsync::Everysec as u8),
                timestamps: AtomicBool::new(false),
                enabled: AtomicBool::new(false),
                stop: AtomicBool::new(false),
                write_failed: AtomicBool::new(false),
                flush_sleep_us: AtomicU64::new(0),
                no_fsync_on_rewrite: AtomicBool::new(false),
                write_error: Mutex::new(String::new()),
            }),
            rewrite_started_ms: AtomicI64::new(0),
            rewrite_scheduled: AtomicBool::new(false),
            last_rewrite_secs: AtomicI64::new(-1),
            last_rewrite_failed: AtomicBool::new(false),
            rewrites: AtomicU64::new(0),
            consecutive_failures: AtomicU64::new(0),
            base_size: AtomicU64::new(0),
            rewrite_cancel: Mutex::new(None),
        }
    }

    /// Whether writes are appended (`aof_enabled`).
    pub fn enabled(&self) -> bool {
        self.core.enabled.load(Ordering::Relaxed)
    }

    /// Whether a rewrite is running (`aof_rewrite_in_progress`).
    pub fn rewriting(&self) -> bool {
        self.rewrite_started_ms.load(Ordering::Relaxed) != 0
    }

    /// Whether the last write to the file failed (`aof_last_write_status`).
    pub fn write_failed(&self) -> bool {
        self.core.write_failed.load(Ordering::Relaxed)
    }

    /// The refusal of writes while the AOF cannot be written (Redis's
    /// `writeCommandsDeniedByDiskError` for the AOF), if it cannot.
    pub fn misconf(&self) -> Option<String> {
        (self.enabled() && self.write_failed()).then(|| {
            format!(
                "MISCONF Errors writing to the AOF file: {}",
                self.core.write_error.lock()
            )
        })
    }

    /// Bytes waiting for the file (`aof_buffer_length`).
    pub fn buffer_len(&self) -> usize {
        self.core.pending.lock().buf.len()
    }

    /// The base and incremental files' sizes (`aof_current_size`).
    pub fn current_size(&self) -> u64 {
        let io = self.core.io.lock();
        let base = io
            .manifest
            .base
            .as_ref()
            .map_or(0, |b| file_size(&io.dir.join(os(&b.name))));
        let older: u64 = io.manifest.incr[..io.manifest.incr.len().saturating_sub(1)]
            .iter()
            .map(|f| file_size(&io.dir.join(os(&f.name))))
            .sum();
        base + older + io.incr_size
    }

    /// DEBUG AOF-FLUSH-SLEEP.
    pub fn set_flush_sleep(&self, micros: u64) {
        self.core.flush_sleep_us.store(micros, Ordering::Relaxed);
    }

    /// Sets the fsync policy and timestamp annotations from the config.
    pub fn configure(
        &self,
        fsync: crate::config::AppendFsync,
        timestamps: bool,
        no_fsync_on_rewrite: bool,
    ) {
        self.core
            .no_fsync_on_rewrite
            .store(no_fsync_on_rewrite, Ordering::Relaxed);
        let policy = match fsync {
            crate::config::AppendFsync::No => Fsync::No,
            crate::config::AppendFsync::Everysec => Fsync::Everysec,
            crate::config::AppendFsync::Always => Fsync::Always,
        };
        self.core.fsync.store(policy as u8, Ordering::Relaxed);
        self.core.timestamps.store(timestamps, Ordering::Relaxed);
    }

    fn fsync_policy(&self) -> Fsync {
        fsync_of(self.core.fsync.load(Ordering::Relaxed))
    }
}

fn fsync_of(v: u8) -> Fsync {
    match v {
        0 => Fsync::No,
        2 => Fsync::Always,
        _ => Fsync::Everysec,
    }
}

fn os(name: &[u8]) -> &std::ffi::OsStr {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(name)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn lossy(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

/// `dir`/`appenddirname` and `appendfilename` from the config.
fn paths(shared: &Shared) -> (PathBuf, Vec<u8>) {
    let cfg = shared.config.read();
    use std::os::unix::ffi::OsStrExt;
    (
        cfg.aof_dir(),
        cfg.appendfilename().as_os_str().as_bytes().to_vec(),
    )
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

impl Core {
    /// Moves the pending buffer to the file; with `fsync`, fsyncs it too.
    /// Holding `io` orders concurrent flushes.
    fn flush(&self, fsync: bool) {
        let mut io = self.io.lock();
        let sleep = self.flush_sleep_us.load(Ordering::Relaxed);
        if sleep > 0 && !self.pending.lock().buf.is_empty() {
            std::thread::sleep(Duration::from_micros(sleep));
        }
        let (bytes, fed) = {
            let mut p = self.pending.lock();
            (std::mem::take(&mut p.buf), p.fed)
        };
        let always = fsync_of(self.fsync.load(Ordering::Relaxed)) == Fsync::Always;
        let good_size = io.incr_size;
        if !bytes.is_empty()
            && let Some(f) = io.file.as_mut()
        {
            let (mut done, error) = write_some(f, &bytes);
            if let Some(e) = error {
                let text = if done > 0 {
                    crate::log::warning(&format!(
                        "Short write while writing to the AOF file: (nwritten={done}, expected={})",
                        bytes.len()
                    ));
                    // Redis's ftruncate back to the last whole write: a
                    // half command would make the file unloadable.
                    if f.set_len(good_size).is_ok() {
                        done = 0;
                    } else {
                        crate::log::warning(
                            "Could not remove short write from the append-only file.  Redis may refuse to load the AOF the next time it starts.",
                        );
                    }
                    crate::config::util::strerror(&io::Error::from_raw_os_error(libc::ENOSPC))
                } else {
                    let text = crate::config::util::strerror(&e);
                    crate::log::warning(&format!("Error writing to the AOF file: {text}"));
                    text
                };
                if always {
                    // The replies of these writes may already be out: the
                    // promise of `always` cannot be kept, as Redis exits.
                    crate::log::warning(
                        "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...",
                    );
                    std::process::exit(1);
                }
                // What was not written stays first in line, to be written
                // again: the writes are not lost while the disk is full.
                {
                    let mut p = self.pending.lock();
                    let newer = std::mem::take(&mut p.buf);
                    p.buf = bytes[done..].to_vec();
                    p.buf.extend_from_slice(&newer);
                }
                io.incr_size += done as u64;
                io.written += done as u64;
                *self.write_error.lock() = text;
                self.write_failed.store(true, Ordering::Relaxed);
                return;
            }
            io.incr_size += bytes.len() as u64;
            if self.write_failed.swap(false, Ordering::Relaxed) {
                crate::log::notice("AOF write error looks solved, Redis can write again.");
            }
        }
        io.written = fed;
        if fsync && io.synced < io.written {
            let done = io.written;
            if let Some(f) = &io.file {
                match f.sync_data() {
                    Ok(()) => io.synced = done,
                    Err(e) => {
                        let text = crate::config::util::strerror(&e);
                        if always {
                            crate::log::warning(&format!(
                                "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {text}. Exiting..."
                            ));
                            std::process::exit(1);
                        }
                        // As Redis's background fsync error: writes are
                        // refused until an fsync succeeds.
                        crate::log::warning(&format!("Fail to fsync the AOF file: {text}"));
                        *self.write_error.lock() = text;
                        self.write_failed.store(true, Ordering::Relaxed);
                    }
                }
            }
            io.last_fsync = Instant::now();
        }
    }
}

/// Writes as much of `bytes` as the file takes (retrying interrupted
/// writes): how much, and the error that stopped it.
fn write_some(f: &mut File, bytes: &[u8]) -> (usize, Option<io::Error>) {
    let mut done = 0;
    while done < bytes.len() {
        match f.write(&bytes[done..]) {
            Ok(0) => return (done, Some(io::Error::from_raw_os_error(libc::ENOSPC))),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

/// The writer thread: moves writes to the file as they come, and fsyncs
/// once a second under `everysec`.
fn writer(aof: Arc<Core>, shared: std::sync::Weak<Shared>) {
    loop {
        // Connections write their own batches before replying: this thread
        // wakes when the next fsync is due (at most a second apart) and
        // writes what other paths fed meanwhile (keys expiring in the
        // cron).
        let timeout = Duration::from_secs(1)
            .saturating_sub(aof.io.lock().last_fsync.elapsed())
            .max(Duration::from_millis(10));
        {
            let mut p = aof.pending.lock();
            if !aof.stop.load(Ordering::Relaxed) {
                aof.wake.wait_for(&mut p, timeout);
            }
        }
        if aof.stop.load(Ordering::Relaxed) {
            return;
        }
        let everysec = fsync_of(aof.fsync.load(Ordering::Relaxed)) == Fsync::Everysec;
        let due = everysec
            && aof.io.lock().last_fsync.elapsed() >= Duration::from_secs(1)
            && !shared.upgrade().is_some_and(|s| fsync_held(&s));
        aof.flush(due);
        // With nothing left to fsync, the next fsync is due a second after
        // now (and the wait above is never zero while idle).
        let mut io = aof.io.lock();
        if !everysec || io.synced >= io.written {
            io.last_fsync = Instant::now();
        }
    }
}

/// Whether `no-appendfsync-on-rewrite` holds fsyncs back now: a
/// background save or rewrite is writing.
fn fsync_held(shared: &Shared) -> bool {
    shared.aof.core.no_fsync_on_rewrite.load(Ordering::Relaxed)
        && snapshot::background_active(&shared.store)
}

/// If a command of this thread fed the AOF since the last call, writes
/// everything fed so far to the file, and under `appendfsync always`
/// fsyncs it too. The connection calls it after running a batch, before
/// writing its replies: as Redis writes its AOF buffer before replying,
/// an acknowledged write is in the file (in the kernel's cache at least)
/// whatever the policy, and survives the process being killed.
pub fn sync_before_reply(shared: &Shared) {
    if FED.with(|f| f.replace(false)) {
        let aof = &shared.aof;
        if !aof.enabled() {
            return;
        }
        if aof.fsync_policy() == Fsync::Always {
            sync_everything(shared);
        } else {
            let target = aof.core.pending.lock().fed;
            if aof.core.io.lock().written < target {
                aof.core.flush(false);
            }
        }
    }
}

/// Under `appendfsync always`: writes and fsyncs everything fed so far,
/// unless it is on disk already.
pub fn sync_everything(shared: &Shared) {
    let aof = &shared.aof;
    if aof.enabled() && aof.fsync_policy() == Fsync::Always {
        let target = aof.core.pending.lock().fed;
        if aof.core.io.lock().synced >= target {
            return;
        }
        aof.core.flush(!fsync_held(shared));
    }
}

/// SHUTDOWN's and CONFIG SET appendonly no's part: everything to the file,
/// fsynced.
pub fn flush_all(shared: &Shared) {
    if shared.aof.enabled() {
        shared.aof.core.flush(true);
    }
}

// ---------------------------------------------------------------------------
// Start-up: loading, opening
// ---------------------------------------------------------------------------

/// Reads the manifest of `dir`, `None` when there is none.
fn read_manifest(dir: &Path, name: &[u8]) -> Result<Option<Manifest>, String> {
    let path = dir.join(os(&manifest::manifest_name(name)));
    match std::fs::read(&path) {
        Ok(text) => Manifest::parse(&text).map(Some).map_err(|e| {
            // The error itself is the start-up failure the caller logs.
            crate::log::warning("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
            e.to_string()
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!(
            "Fatal error: can't open the AOF manifest {}: {e}",
            lossy(&manifest::manifest_name(name))
        )),
    }
}

/// Writes the manifest through a temporary file, fsynced and renamed.
fn write_manifest(dir: &Path, name: &[u8], m: &Manifest) -> io::Result<()> {
    let final_path = dir.join(os(&manifest::manifest_name(name)));
    let tmp = dir.join(os(
        &[b"temp-".as_slice(), &manifest::manifest_name(name)].concat()
    ));
    let mut f = File::create(&tmp)?;
    f.write_all(&m.format())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &final_path)?;
    File::open(dir)?.sync_all()
}

/// How loading one file ended.
enum Loaded {
    Ok,
    Empty,
    Truncated,
}

/// Replays one file of the AOF (Redis's `loadSingleAppendOnlyFile`).
fn load_one(shared: &Shared, dir: &Path, name: &[u8], old_style: bool) -> Result<Loaded, String> {
    let path = dir.join(os(name));
    let shown = lossy(name);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(format!("The append log file {shown} doesn't exist: {e}"));
        }
        Err(e) => {
            return Err(format!(
                "Fatal error: can't open the append log file {shown} for reading: {e}"
            ));
        }
    };
    if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
        return Ok(Loaded::Empty);
    }
    let mut input = BufReader::with_capacity(1 << 20, file);
    let mut start = 0;
    if input
        .fill_buf()
        .map_err(|e| e.to_string())?
        .starts_with(b"REDIS")
    {
        crate::log::notice(if old_style {
            "Reading RDB preamble from AOF file..."
        } else {
            "Reading RDB base file on AOF loading..."
        });
        let now = viator_store::clock::now_ms();
        match snapshot::load(&shared.store, &mut input, now, false) {
            Ok(stats) => start = stats.bytes,
            Err(_) => {
                return Err(if old_style {
                    format!(
                        "Error reading the RDB preamble of the AOF file {shown}, AOF loading aborted"
                    )
                } else {
                    format!("Error reading the RDB base file {shown}, AOF loading aborted")
                });
            }
        }
        if old_style {
            crate::log::notice("Reading the remaining AOF tail...");
        }
    }
    let mut reader = CommandReader::new(input, start);
    // Redis's AOF client: its id lets the propagated `MAXLEN = n LIMIT m`
    // trims through (see viator_store::commands::rewrite).
    let mut client = Client {
        id: viator_store::commands::rewrite::AOF_CLIENT_ID,
        no_block: true,
        ..Client::default()
    };
    let mut out = viator_protocol::ReplyBuf::new();
    let mut before_multi = 0;
    let truncated_at = loop {
        let at = reader.offset();
        match reader.next_command() {
            Ok(None) => {
                if client.multi.is_some() {
                    crate::log::warning(&format!(
                        "Revert incomplete MULTI/EXEC transaction in AOF file {shown}"
                    ));
                    break before_multi;
                }
                return Ok(Loaded::Ok);
            }
            Ok(Some(argv)) => {
                let argv: Vec<Vec<u8>> = argv;
                let Ok(cmd) = shared.store.commands().resolve(&argv) else {
                    return Err(format!(
                        "Unknown command '{}' reading the append only file {shown}",
                        lossy(argv.first().map_or(&[][..], |a| a.as_slice()))
                    ));
                };
                if cmd.spec.name == "multi" {
                    before_multi = at;
                }
                out.truncate(0);
                shared
                    .store
                    .execute_with(shared, &mut client, &argv, &mut out);
            }
            Err(AofError::Truncated { valid_up_to }) => {
                break if client.multi.is_some() {
                    before_multi
                } else {
                    valid_up_to
                };
            }
            Err(AofError::Format { .. }) => {
                return Err(format!(
                    "Bad file format reading the append only file {shown}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
                ));
            }
        }
    };
    if shared
        .config
        .read()
        .bool(crate::config::Opt::AofLoadTruncated)
    {
        crate::log::warning(&format!(
            "!!! Warning: short read while loading the AOF file {shown}!!!"
        ));
        crate::log::warning(&format!(
            "!!! Truncating the AOF {shown} at offset {truncated_at} !!!"
        ));
        match OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(truncated_at))
        {
            Ok(()) => {
                crate::log::warning(&format!(
                    "AOF {shown} loaded anyway because aof-load-truncated is enabled"
                ));
                return Ok(Loaded::Truncated);
            }
            Err(e) => crate::log::warning(&format!("Error truncating the AOF file {shown}: {e}")),
        }
    }
    Err(format!(
        "Unexpected end of file reading the append only file {shown}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
    ))
}

/// Loads the AOF at start-up (Redis's `loadAppendOnlyFiles`), moving an
/// old-style single file into the directory first. `Ok(false)` when there
/// is no AOF. Errors are logged, and stop the server.
pub fn load(shared: &Shared) -> Result<bool, String> {
    let (dir, name) = paths(shared);
    let cwd_dir = shared.config.read().dir();
    let mut m = read_manifest(&dir, &name)?.unwrap_or_default();
    let old_path = cwd_dir.join(os(&name));
    if old_path.exists()
        && (!dir.is_dir()
            || (m.base.is_none() && m.incr.is_empty())
            || (m.incr.is_empty()
                && m.base.as_ref().is_some_and(|b| b.name == name)
                && !dir.join(os(&name)).exists()))
    {
        // Redis's aofUpgradePrepare.
        std::fs::create_dir_all(&dir).map_err(|e| {
            format!(
                "Can't open or create append-only dir {}: {e}",
                dir.display()
            )
        })?;
        m = Manifest {
            base: Some(AofFile::new(name.clone(), 1, FileType::Base)),
            ..Manifest::default()
        };
        write_manifest(&dir, &name, &m).map_err(|e| e.to_string())?;
        std::fs::rename(&old_path, dir.join(os(&name))).map_err(|e| {
            format!(
                "Error trying to move the old AOF file {} into dir {}: {e}",
                lossy(&name),
                dir.display()
            )
        })?;
        crate::log::notice(&format!(
            "Successfully migrated an old-style AOF file ({}) into the AOF directory ({}).",
            lossy(&name),
            dir.display()
        ));
    }
    let settings = &shared.store.settings;
    settings.loading.store(true, Ordering::Relaxed);
    let result =
        viator_store::propagate::suppressed(|| load_manifest_files(shared, &dir, &name, &m));
    settings.loading.store(false, Ordering::Relaxed);
    shared.aof.core.io.lock().manifest = m;
    result
}

/// DEBUG LOADAOF: what is pending goes to the file, the dataset is
/// emptied and the AOF loaded back (Redis's `debugCommand` "loadaof").
pub fn debug_loadaof(shared: &Shared, ctx: &mut viator_store::Ctx<'_>) {
    if shared.aof.enabled() {
        shared.aof.core.flush(true);
    }
    {
        let all: Vec<usize> = (0..shared.store.db_count()).collect();
        let mut views = viator_store::Keyspace::lock_dbs(&shared.store, &all, ctx.now_ms);
        let old: Vec<_> = views.iter_mut().flat_map(|ks| ks.take_contents()).collect();
        drop(views);
        drop(old);
    }
    // The files on disk are the truth; the manifest is read again.
    let io_manifest = std::mem::take(&mut shared.aof.core.io.lock().manifest);
    // Redis's AOF_NOT_EXIST is an error here; an empty AOF is not.
    let exists = {
        let (dir, name) = paths(shared);
        dir.join(os(&manifest::manifest_name(&name))).exists()
    };
    match load(shared) {
        Ok(_) if exists => {
            ctx.no_propagate();
            crate::log::notice("Append Only File loaded by DEBUG LOADAOF");
            ctx.out.ok();
        }
        result => {
            shared.aof.core.io.lock().manifest = io_manifest;
            if let Err(e) = result {
                crate::log::warning(&e);
            }
            ctx.out
                .error("ERR Error trying to load the AOF files, check server logs.");
        }
    }
}

fn load_manifest_files(
    shared: &Shared,
    dir: &Path,
    name: &[u8],
    m: &Manifest,
) -> Result<bool, String> {
    if m.base.is_none() && m.incr.is_empty() {
        return Ok(false);
    }
    let files: Vec<&AofFile> = m.base.iter().chain(&m.incr).collect();
    let mut total = 0;
    for f in &files {
        match std::fs::metadata(dir.join(os(&f.name))) {
            Ok(md) => total += md.len(),
            Err(e) => {
                return Err(format!(
                    "The append log file {} doesn't exist: {e}",
                    lossy(&f.name)
                ));
            }
        }
    }
    if total == 0 {
        return Ok(false);
    }
    let started = Instant::now();
    for (i, f) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let t = Instant::now();
        let kind = if f.kind == FileType::Base {
            "base"
        } else {
            "incr"
        };
        match load_one(shared, dir, &f.name, f.name == name)? {
            Loaded::Truncated if !last => {
                return Err("Fatal error: the truncated file is not the last file".to_string());
            }
            Loaded::Empty if f.kind == FileType::Base => {}
            _ => crate::log::notice(&format!(
                "DB loaded from {kind} file {}: {:.3} seconds",
                lossy(&f.name),
                t.elapsed().as_secs_f64()
            )),
        }
    }
    if let Some(b) = &m.base {
        shared
            .aof
            .base_size
            .store(file_size(&dir.join(os(&b.name))), Ordering::Relaxed);
    }
    crate::log::notice(&format!(
        "DB loaded from append only file: {:.3} seconds",
        started.elapsed().as_secs_f64()
    ));
    Ok(true)
}

/// Opens the AOF for writing after start-up (Redis's
/// `aofOpenIfNeededOnServerStart`): a first base file when there is none,
/// the last incremental file (or a new one), the manifest on disk; then
/// writes flow. Call [`load`] first.
pub fn open_on_start(shared: &Shared) -> Result<(), String> {
    let (dir, name) = paths(shared);
    std::fs::create_dir_all(&dir).map_err(|e| {
        format!(
            "Can't open or create append-only dir {}: {e}",
            dir.display()
        )
    })?;
    let core = &shared.aof.core;
    let mut io = core.io.lock();
    io.dir = dir.clone();
    io.name = name.clone();
    if io.manifest.base.is_none() && io.manifest.incr.is_empty() {
        let format = base_format(shared);
        let base = next_base(&mut io.manifest, &name, format.preamble);
        write_base_now(shared, &dir.join(os(&base)), format).map_err(|e| e.to_string())?;
        crate::log::notice(&format!(
            "Creating AOF base file {} on server start",
            lossy(&base)
        ));
    }
    let reopen = !io.manifest.incr.is_empty();
    let incr = match io.manifest.incr.last() {
        Some(f) => f.name.clone(),
        None => next_incr(&mut io.manifest, &name),
    };
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join(os(&incr)))
        .map_err(|e| format!("Can't open the append-only file {}: {e}", lossy(&incr)))?;
    write_manifest(&dir, &name, &io.manifest).map_err(|e| e.to_string())?;
    io.incr_size = file.metadata().map_or(0, |m| m.len());
    io.file = Some(file);
    crate::log::notice(&format!(
        "{} AOF incr file {} on server start",
        if reopen { "Opening" } else { "Creating" },
        lossy(&incr)
    ));
    drop(io);
    start_writes(shared);
    Ok(())
}

/// Marks the current base as history and names the next one (`.rdb` with
/// an RDB preamble, `.aof` for commands).
fn next_base(m: &mut Manifest, name: &[u8], preamble: bool) -> Vec<u8> {
    let seq = m.base.as_ref().map_or(0, |b| b.seq) + 1;
    if let Some(mut old) = m.base.take() {
        old.kind = FileType::History;
        m.history.insert(0, old);
    }
    let file = manifest::base_name(name, seq, preamble);
    m.base = Some(AofFile::new(file.clone(), seq, FileType::Base));
    file
}

/// Adds the next incremental file to the manifest.
fn next_incr(m: &mut Manifest, name: &[u8]) -> Vec<u8> {
    let seq = m.incr.last().map_or(0, |f| f.seq) + 1;
    let file = manifest::incr_name(name, seq);
    let mut f = AofFile::new(file.clone(), seq, FileType::Incr);
    f.start_offset = 0;
    m.incr.push(f);
    file
}

/// Connects the AOF to the store's propagation and starts the writer.
fn start_writes(shared: &Shared) {
    let core = shared.aof.core.clone();
    {
        let mut p = core.pending.lock();
        p.selected_db = -1;
    }
    core.enabled.store(true, Ordering::Relaxed);
    core.stop.store(false, Ordering::Relaxed);
    shared.store.propagation.set_sink(Some(core.clone()));
    let weak = shared.this.get().cloned().unwrap_or_default();
    let _ = std::thread::Builder::new()
        .name("viator-aof".into())
        .spawn(move || writer(core, weak));
}

/// The options of an AOF base snapshot: Redis's `aof-base` aux field.
fn base_options(shared: &Shared) -> SaveOptions {
    let cfg = shared.config.read();
    SaveOptions {
        compress: cfg.rdbcompression(),
        checksum: cfg.rdbchecksum(),
        aux: vec![(b"aof-base".to_vec(), b"1".to_vec())],
        key_save_delay_us: cfg.num(crate::config::Opt::RdbKeySaveDelay),
        version: cfg.num(crate::config::Opt::RdbVersion) as u16,
        ..SaveOptions::default()
    }
}

/// How a base file is written: `aof-use-rdb-preamble`, and the `#TS:`
/// annotation a command base starts with under `aof-timestamp-enabled`.
#[derive(Debug, Clone, Copy)]
struct BaseFormat {
    preamble: bool,
    timestamps: bool,
    /// `aof-rewrite-incremental-fsync`: fsync every 4 MB written.
    incremental_fsync: bool,
}

fn base_format(shared: &Shared) -> BaseFormat {
    let cfg = shared.config.read();
    BaseFormat {
        preamble: cfg.bool(crate::config::Opt::AofUseRdbPreamble),
        timestamps: cfg.bool(crate::config::Opt::AofTimestampEnabled),
        incremental_fsync: cfg.bool(crate::config::Opt::AofRewriteIncrementalFsync),
    }
}

/// Writes a base file to `path` with `write_rdb`, which writes the dataset
/// as RDB: as it is with an RDB preamble, else turned into commands.
fn write_base(
    path: &Path,
    format: BaseFormat,
    write_rdb: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let f = File::create(path)?;
    {
        let every = crate::persistence::IncrementalFsync::interval(format.incremental_fsync);
        let mut out = io::BufWriter::with_capacity(
            1 << 20,
            crate::persistence::IncrementalFsync::new(&f, every),
        );
        if format.preamble {
            write_rdb(&mut out)?;
        } else {
            let mut rdb = Vec::new();
            write_rdb(&mut rdb)?;
            let ts = format
                .timestamps
                .then(|| viator_store::clock::now_ms() / 1000);
            viator_persist::aof::rewrite::write_commands(&rdb[..], &mut out, ts)?;
        }
        out.flush()?;
    }
    f.sync_all()
}

/// Writes the dataset as a base file now (an empty server's first base).
fn write_base_now(shared: &Shared, path: &Path, format: BaseFormat) -> io::Result<()> {
    let opts = base_options(shared);
    write_base(path, format, |out| {
        snapshot::save(&shared.store, out, &opts, viator_store::clock::now_ms()).map(|_| ())
    })
}

// ---------------------------------------------------------------------------
// Rewriting, turning on and off
// ---------------------------------------------------------------------------

/// Why a rewrite did not start.
#[derive(Debug, PartialEq, Eq)]
pub enum RewriteError {
    /// One is running.
    InProgress,
    /// A background save is running: the rewrite waits for the cron.
    Busy,
    /// It failed to start (logged).
    Failed,
}

/// BGREWRITEAOF (and CONFIG SET appendonly yes, with `enable`): freezes
/// the dataset, and in the same instant sends the writes to a new
/// incremental file (on, with `enable`), then writes the new base on a
/// thread of its own.
pub fn rewrite_background(shared: &Shared, enable: bool) -> Result<(), RewriteError> {
    if shared.aof.rewriting() {
        return Err(RewriteError::InProgress);
    }
    let Some(this) = shared.this.get().and_then(std::sync::Weak::upgrade) else {
        return Err(RewriteError::Failed);
    };
    let (dir, name) = paths(shared);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        crate::log::warning(&format!(
            "Can't open or create append-only dir {}: {e}",
            dir.display()
        ));
        shared
            .aof
            .last_rewrite_failed
            .store(true, Ordering::Relaxed);
        return Err(RewriteError::Failed);
    }
    let now = viator_store::clock::now_ms();
    let mut opts = base_options(shared);
    let cancel = Arc::new(AtomicBool::new(false));
    opts.cancel = Some(cancel.clone());
    let format = base_format(shared);
    let core = shared.aof.core.clone();
    let was_on = shared.aof.enabled();
    let first = enable && !was_on;
    let begun = snapshot::begin_background_then(&shared.store, &opts, now, || {
        if !was_on && !enable {
            // Off: only the base is written (and listed).
            let mut io = core.io.lock();
            io.manifest = read_manifest(&dir, &name)
                .ok()
                .flatten()
                .unwrap_or_default();
            io.dir = dir.clone();
            io.name = name.clone();
            io.incr_size = 0;
            return Ok(());
        }
        let switched = switch_incr(&core, &dir, &name, first);
        if switched.is_ok() && first {
            // Still frozen: no write can slip between the base and the
            // first incremental file.
            start_writes(shared);
        }
        switched
    });
    let frozen = match begun {
        Err(_) => return Err(RewriteError::Busy),
        Ok((_, Err(()))) => {
            snapshot::abort_background(&shared.store);
            shared
                .aof
                .last_rewrite_failed
                .store(true, Ordering::Relaxed);
            return Err(RewriteError::Failed);
        }
        Ok((frozen, Ok(()))) => frozen,
    };
    let aof = &shared.aof;
    *aof.rewrite_cancel.lock() = Some(cancel);
    aof.rewrites.fetch_add(1, Ordering::Relaxed);
    aof.rewrite_started_ms.store(now, Ordering::Relaxed);
    aof.rewrite_scheduled.store(false, Ordering::Relaxed);
    crate::log::notice(&format!(
        "Background append only file rewriting started by pid {}",
        std::process::id()
    ));
    let spawned = std::thread::Builder::new()
        .name("viator-aofrw".into())
        .spawn(move || {
            let started = Instant::now();
            let tmp_name = format!("temp-rewriteaof-bg-{}.aof", std::process::id());
            let tmp = this.config.read().dir().join(&tmp_name);
            let written = write_base(&tmp, format, |out| {
                frozen.write(&this.store, out, &opts).map(|_| ())
            });
            let result = match written {
                Ok(()) => {
                    crate::log::notice(&format!(
                        "Successfully created the temporary AOF base file {tmp_name}"
                    ));
                    crate::log::notice("Background AOF rewrite terminated with success");
                    finish_rewrite(&this, &tmp, &tmp_name, format.preamble)
                }
                // Stopped by CONFIG SET appendonly no: not a failure.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
                Err(e) => {
                    crate::log::warning(&format!(
                        "Write error writing append only file on disk: {e}"
                    ));
                    crate::log::warning("Background AOF rewrite terminated with error");
                    Err(())
                }
            };
            let _ = std::fs::remove_file(&tmp);
            let aof = &this.aof;
            aof.last_rewrite_secs
                .store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
            aof.last_rewrite_failed
                .store(result.is_err(), Ordering::Relaxed);
            if result.is_err() {
                aof.consecutive_failures.fetch_add(1, Ordering::Relaxed);
            } else {
                aof.consecutive_failures.store(0, Ordering::Relaxed);
            }
            aof.rewrite_started_ms.store(0, Ordering::Relaxed);
        });
    if spawned.is_err() {
        snapshot::abort_background(&shared.store);
        aof.rewrite_started_ms.store(0, Ordering::Relaxed);
        aof.last_rewrite_failed.store(true, Ordering::Relaxed);
        return Err(RewriteError::Failed);
    }
    Ok(())
}

/// At the frozen instant: everything written so far goes to the current
/// incremental file, and the writes from now on to a new one, listed in
/// the manifest (Redis's `openNewIncrAofForAppend`). With `first`, the AOF
/// was off: the manifest on disk (if any) names the files to replace, and
/// stays as it is until the rewrite ends, so that a crash meanwhile loads
/// the old AOF rather than a new file without its base.
fn switch_incr(core: &Core, dir: &Path, name: &[u8], first: bool) -> Result<(), ()> {
    if !first {
        core.flush(true);
    }
    let mut io = core.io.lock();
    if first {
        io.manifest = read_manifest(dir, name).ok().flatten().unwrap_or_default();
        io.dir = dir.to_path_buf();
        io.name = name.to_vec();
    }
    let mut m = io.manifest.clone();
    let incr = next_incr(&mut m, name);
    let file = match OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join(os(&incr)))
    {
        Ok(f) => f,
        Err(e) => {
            crate::log::warning(&format!(
                "Can't open the append-only file {}: {e}",
                lossy(&incr)
            ));
            return Err(());
        }
    };
    if !first && write_manifest(dir, name, &m).is_err() {
        return Err(());
    }
    crate::log::notice(&format!(
        "Creating AOF incr file {} on background rewrite",
        lossy(&incr)
    ));
    if let Some(old) = io.file.replace(file) {
        let _ = old.sync_data();
    }
    io.manifest = m;
    io.incr_size = 0;
    io.written = core.pending.lock().fed;
    io.synced = io.written;
    core.pending.lock().selected_db = -1;
    Ok(())
}

/// Puts a finished rewrite in place (Redis's `backgroundRewriteDoneHandler`):
/// the temporary file becomes the new base, the incremental files before
/// the current one become history, the manifest is written, and the
/// history files are deleted.
fn finish_rewrite(shared: &Shared, tmp: &Path, tmp_name: &str, preamble: bool) -> Result<(), ()> {
    let core = &shared.aof.core;
    let mut io = core.io.lock();
    let mut m = io.manifest.clone();
    let name = io.name.clone();
    let dir = io.dir.clone();
    let base = next_base(&mut m, &name, preamble);
    if let Err(e) = std::fs::rename(tmp, dir.join(os(&base))) {
        crate::log::warning(&format!(
            "Error trying to rename the temporary AOF base file {tmp_name} into {}: {e}",
            lossy(&base)
        ));
        return Err(());
    }
    crate::log::notice(&format!(
        "Successfully renamed the temporary AOF base file {tmp_name} into {}",
        lossy(&base)
    ));
    // Every incremental file but the one being written (if the AOF is
    // on) holds writes the new base has.
    let keep = if io.file.is_some() {
        m.incr.pop()
    } else {
        None
    };
    // In front of the history, in their order, as Redis's
    // markRewrittenIncrAofAsHistory lists them.
    let rewritten: Vec<AofFile> = m
        .incr
        .drain(..)
        .map(|mut f| {
            f.kind = FileType::History;
            f
        })
        .collect();
    m.history.splice(0..0, rewritten);
    m.incr.extend(keep);
    if write_manifest(&dir, &name, &m).is_err() {
        let _ = std::fs::remove_file(dir.join(os(&base)));
        return Err(());
    }
    let disable_gc = shared
        .config
        .read()
        .bool(crate::config::Opt::AofDisableAutoGc);
    if !disable_gc {
        remove_history(&dir, &name, &mut m);
    }
    shared.aof.base_size.store(
        file_size(&dir.join(os(&base))) + io.incr_size,
        Ordering::Relaxed,
    );
    io.manifest = m;
    crate::log::notice("Background AOF rewrite finished successfully");
    Ok(())
}

/// Deletes the history files `m` lists and writes the manifest without
/// them (Redis's `aofDelHistoryFiles`).
fn remove_history(dir: &Path, name: &[u8], m: &mut Manifest) {
    if m.history.is_empty() {
        return;
    }
    for f in m.history.drain(..) {
        crate::log::notice(&format!(
            "Removing the history file {} in the background",
            lossy(&f.name)
        ));
        let _ = std::fs::remove_file(dir.join(os(&f.name)));
    }
    let _ = write_manifest(dir, name, m);
}

/// CONFIG SET aof-disable-auto-gc no: the history files kept meanwhile go.
pub fn delete_history(shared: &Shared) {
    let mut io = shared.aof.core.io.lock();
    if io.dir.as_os_str().is_empty() {
        return;
    }
    let (dir, name) = (io.dir.clone(), io.name.clone());
    remove_history(&dir, &name, &mut io.manifest);
}

/// CONFIG SET appendonly no: the last writes to the file, fsynced, and no
/// more (Redis's `stopAppendOnly`).
pub fn stop(shared: &Shared) {
    let aof = &shared.aof;
    if aof.rewriting()
        && let Some(cancel) = aof.rewrite_cancel.lock().take()
    {
        // Redis kills its rewriting child and waits for it.
        crate::log::notice(&format!(
            "Killing running AOF rewrite child: {}",
            std::process::id()
        ));
        cancel.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + Duration::from_secs(10);
        while aof.rewriting() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let core = &shared.aof.core;
    if !core.enabled.load(Ordering::Relaxed) {
        return;
    }
    shared.store.propagation.set_sink(None);
    core.flush(true);
    core.enabled.store(false, Ordering::Relaxed);
    core.stop.store(true, Ordering::Relaxed);
    core.wake.notify_all();
    core.io.lock().file = None;
}

/// The cron's part: a scheduled rewrite, and the automatic one when the
/// AOF grew by `auto-aof-rewrite-percentage` since the last rewrite and
/// is at least `auto-aof-rewrite-min-size`.
pub fn cron(shared: &Shared) {
    let aof = &shared.aof;
    if aof.rewriting() || crate::persistence::bgsave_in_progress(shared) {
        return;
    }
    if aof.rewrite_scheduled.load(Ordering::Relaxed) {
        let enable = shared.config.read().appendonly() && !aof.enabled();
        let _ = rewrite_background(shared, enable);
        return;
    }
    if !aof.enabled() {
        return;
    }
    let (percent, min) = {
        let cfg = shared.config.read();
        (
            cfg.num(crate::config::Opt::AutoAofRewritePercentage),
            cfg.num(crate::config::Opt::AutoAofRewriteMinSize) as u64,
        )
    };
    if percent <= 0 {
        return;
    }
    let size = aof.current_size();
    let base = aof.base_size.load(Ordering::Relaxed).max(1);
    let growth = (size.saturating_sub(base)) * 100 / base;
    if size > min && growth >= percent as u64 {
        crate::log::notice(&format!(
            "Starting automatic rewriting of AOF on {growth}% growth"
        ));
        let _ = rewrite_background(shared, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_k(db: usize) -> Propagated {
        Propagated {
            db,
            argv: vec![b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()],
        }
    }

    /// A full disk: the write fails, nothing is lost (the bytes wait to be
    /// written again), and writes are refused with Redis's MISCONF until a
    /// write succeeds.
    #[test]
    fn a_failed_write_keeps_the_bytes_and_refuses_writes() {
        let aof = Aof::new();
        aof.core.enabled.store(true, Ordering::Relaxed);
        let Ok(full) = OpenOptions::new().write(true).open("/dev/full") else {
            return; // no /dev/full on this system
        };
        aof.core.io.lock().file = Some(full);
        aof.core.feed(&[set_k(0)], false);
        let pending = aof.buffer_len();
        aof.core.flush(false);
        assert!(aof.write_failed());
        assert_eq!(
            aof.misconf().as_deref(),
            Some("MISCONF Errors writing to the AOF file: No space left on device")
        );
        assert_eq!(aof.buffer_len(), pending);
        // The disk has room again.
        let dir = std::env::temp_dir().join(format!("viator-aof-unit-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("incr.aof");
        aof.core.io.lock().file = Some(File::create(&path).unwrap());
        aof.core.feed(&[set_k(0)], false);
        aof.core.flush(true);
        assert!(!aof.write_failed() && aof.misconf().is_none());
        let text = std::fs::read(&path).unwrap();
        let one = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        let two = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        assert_eq!(text, [one.as_slice(), two].concat());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
