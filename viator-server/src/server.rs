//! The running server: shared state, listeners, worker threads, the
//! periodic cron, and shutdown.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use tokio::sync::{Notify, mpsc, watch};
use viator_store::{Host, Store, StoreOptions};

use crate::clients::Registry;
use crate::config::{Config, Opt};

/// Settings read on every request or connection, copied out of the
/// [`Config`] whenever it changes so that reading one costs an atomic load.
#[derive(Debug, Default)]
pub struct Hot {
    /// `maxclients`.
    pub maxclients: AtomicUsize,
    /// `timeout` in seconds, 0 for none.
    pub timeout: AtomicU64,
    /// `proto-max-bulk-len`.
    pub proto_max_bulk_len: AtomicU64,
    /// `client-query-buffer-limit`.
    pub client_query_buffer_limit: AtomicU64,
    /// Whether `requirepass` is set.
    pub requirepass_set: AtomicBool,
    /// `tcp-keepalive` in seconds.
    pub tcp_keepalive: AtomicU64,
    /// `hz`.
    pub hz: AtomicU64,
}

/// Server-wide counters for INFO stats.
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Connections accepted.
    pub total_connections_received: AtomicU64,
    /// Commands processed.
    pub total_commands_processed: AtomicU64,
    /// Connections refused because of maxclients.
    pub rejected_connections: AtomicU64,
    /// Error replies sent.
    pub total_error_replies: AtomicU64,
    /// Error replies by code (at most 128 codes, as Redis).
    pub errors: Mutex<HashMap<String, u64>>,
    /// Cleared when the 129th distinct error code shows up: from then on
    /// error codes are not tracked until CONFIG RESETSTAT, as in Redis.
    pub errors_disabled: AtomicBool,
    /// Commands that were refused before running.
    pub unexpected_error_replies: AtomicU64,
    /// Clients closed for reaching the query buffer limit.
    pub client_query_buffer_limit_disconnections: AtomicU64,
    /// Instantaneous ops/sec, updated by the cron.
    pub instantaneous_ops_per_sec: AtomicU64,
    /// Instantaneous input kbps * 100.
    pub instantaneous_input_kbps_x100: AtomicU64,
    /// Instantaneous output kbps * 100.
    pub instantaneous_output_kbps_x100: AtomicU64,
}

impl ServerStats {
    /// Counts the error codes of one reply.
    pub fn count_errors(&self, codes: Vec<String>) {
        if codes.is_empty() {
            return;
        }
        self.total_error_replies
            .fetch_add(codes.len() as u64, Ordering::Relaxed);
        if self.errors_disabled.load(Ordering::Relaxed) {
            return;
        }
        let mut map = self.errors.lock();
        for code in codes {
            let len = map.len();
            match map.get_mut(&code) {
                Some(n) => *n += 1,
                None if len < ERROR_STATS_NUMBER => {
                    map.insert(code, 1);
                }
                None => {
                    // Redis's incrementErrorCount: too many distinct codes
                    // (an attacker can make them up) stop the tracking.
                    let mut known: Vec<&String> = map.keys().collect();
                    known.sort();
                    let list: Vec<&str> = known.iter().map(|s| s.as_str()).collect();
                    crate::log::warning(&format!(
                        "Errorstats stopped adding new errors because the number of different errors reached {ERROR_STATS_NUMBER}; all errors will be tracked again after CONFIG RESETSTAT. errors: {}",
                        list.join(", ")
                    ));
                    map.clear();
                    map.insert("ERRORSTATS_DISABLED".to_string(), 1);
                    self.errors_disabled.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
    }

    /// Zeroes the counters CONFIG RESETSTAT resets.
    pub fn reset(&self) {
        for c in [
            &self.total_connections_received,
            &self.total_commands_processed,
            &self.rejected_connections,
            &self.total_error_replies,
            &self.unexpected_error_replies,
            &self.client_query_buffer_limit_disconnections,
            &self.instantaneous_ops_per_sec,
            &self.instantaneous_input_kbps_x100,
            &self.instantaneous_output_kbps_x100,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.errors.lock().clear();
        self.errors_disabled.store(false, Ordering::Relaxed);
    }
}

/// Distinct error codes INFO errorstats tracks before it stops (Redis's
/// ERROR_STATS_NUMBER).
const ERROR_STATS_NUMBER: usize = 128;

/// The counters of one worker thread (Redis's per-I/O-thread statistics),
/// on their own cache lines so that threads never share one: summing them
/// for INFO is cheap, contending on a shared counter per read is not.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct ThreadStats {
    /// Socket reads that returned data.
    pub reads: AtomicU64,
    /// Socket writes of a batch of replies.
    pub writes: AtomicU64,
    /// Bytes read from clients.
    pub net_input_bytes: AtomicU64,
    /// Bytes written to clients.
    pub net_output_bytes: AtomicU64,
}

impl ThreadStats {
    fn reset(&self) {
        for c in [
            &self.reads,
            &self.writes,
            &self.net_input_bytes,
            &self.net_output_bytes,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// CLIENT PAUSE state.
#[derive(Debug, Default)]
pub struct Pause {
    /// [`Pause::NONE`], [`Pause::WRITE`] or [`Pause::ALL`].
    pub mode: std::sync::atomic::AtomicU8,
    /// Unix milliseconds when the pause ends.
    pub until_ms: AtomicI64,
    /// Woken whenever the pause ends or changes, so that waiting clients
    /// look again.
    pub resumed: Notify,
    /// Serializes changes (pause, unpause, expiry), so that a pause ending
    /// on time never erases one set at the same moment. Readers only load
    /// the atomics.
    change: Mutex<()>,
    /// The store's flag that keeps expired keys in place while paused
    /// (`Settings::expiry_frozen`).
    pub(crate) expiry_frozen: std::sync::Arc<AtomicBool>,
}

impl Pause {
    /// No pause.
    pub const NONE: u8 = 0;
    /// Write commands (and those that may replicate) wait.
    pub const WRITE: u8 = 1;
    /// Every command waits.
    pub const ALL: u8 = 2;

    /// Whether a command with these table flags must wait now. Costs one
    /// atomic load when no pause is set (the hot path); ends a pause whose
    /// time is up.
    #[inline]
    pub fn blocks(&self, cmd_flags: u64) -> bool {
        if self.mode.load(Ordering::Relaxed) == Pause::NONE {
            return false;
        }
        self.blocks_slow(cmd_flags)
    }

    #[cold]
    fn blocks_slow(&self, cmd_flags: u64) -> bool {
        use viator_store::command::flags;
        self.end_if_due();
        match self.mode.load(Ordering::Acquire) {
            Pause::ALL => true,
            Pause::WRITE => cmd_flags & (flags::WRITE | flags::MAY_REPLICATE) != 0,
            _ => false,
        }
    }

    /// Starts or changes a pause as Redis's `pauseActions`: the mode is
    /// replaced, the end time only ever grows.
    pub fn pause(&self, mode: u8, until_ms: i64) {
        let _change = self.change.lock();
        self.until_ms.fetch_max(until_ms, Ordering::AcqRel);
        self.mode.store(mode, Ordering::Release);
        // Both modes hold writes, and deleting an expired key is one.
        self.expiry_frozen.store(true, Ordering::Release);
        // A change from ALL to WRITE lets readers go on.
        self.resumed.notify_waiters();
    }

    /// Ends the pause (CLIENT UNPAUSE).
    pub fn unpause(&self) {
        let _change = self.change.lock();
        self.clear();
    }

    fn clear(&self) {
        self.expiry_frozen.store(false, Ordering::Release);
        self.mode.store(Pause::NONE, Ordering::Release);
        self.until_ms.store(0, Ordering::Release);
        self.resumed.notify_waiters();
    }

    /// Ends the pause if its time is up. Returns whether a pause is still
    /// in effect.
    pub fn end_if_due(&self) -> bool {
        if self.mode.load(Ordering::Acquire) == Pause::NONE {
            return false;
        }
        let _change = self.change.lock();
        if self.mode.load(Ordering::Acquire) == Pause::NONE {
            return false;
        }
        if viator_store::clock::now_ms() >= self.until_ms.load(Ordering::Acquire) {
            self.clear();
            return false;
        }
        true
    }

    /// Whether any pause is in effect (active expiry and eviction stop
    /// during a pause, as in Redis).
    pub fn is_paused(&self) -> bool {
        self.mode.load(Ordering::Relaxed) != Pause::NONE
    }
}

/// Everything the connections and commands share. It is the store's
/// [`Host`], so server-level commands reach it through the command context.
pub struct Shared {
    /// The keyspace and command table.
    pub store: Store,
    /// The configuration, as CONFIG GET/SET see it.
    pub config: RwLock<Config>,
    /// Hot copies of config values.
    pub hot: Hot,
    /// Connected clients.
    pub clients: Registry,
    /// Counters.
    pub stats: ServerStats,
    /// Per worker thread counters, indexed by thread.
    pub threads: Box<[ThreadStats]>,
    /// CLIENT PAUSE.
    pub pause: Pause,
    /// When the server started.
    pub started: Instant,
    /// 40 hex characters identifying this run.
    pub run_id: String,
    /// The replication ID (`master_replid`), 40 hex characters.
    pub replid: String,
    /// The TCP port listened on (0: none), changed by CONFIG SET port.
    pub port: AtomicU16,
    /// `Some` once the server is asked to stop; the value says whether the
    /// process should exit afterwards.
    pub shutdown: watch::Sender<Option<bool>>,
    /// Path of the configuration file, if any.
    pub config_file: Option<std::path::PathBuf>,
    /// Memory in use once the server was ready (`used_memory_startup`).
    pub memory_startup: usize,
    /// Highest memory use seen (`used_memory_peak`) and when, in unix ms.
    pub memory_peak: Mutex<(usize, i64)>,
    /// Commands processed at the last cron tick, for ops/sec.
    pub(crate) last_ops: AtomicU64,
    /// Network bytes in and out at the last cron sample, for kbps.
    pub(crate) last_net: Mutex<(u64, u64)>,
    /// The worker threads' connection queues.
    pub(crate) workers: Vec<mpsc::UnboundedSender<std::net::TcpStream>>,
    pub(crate) next_worker: AtomicUsize,
    /// The listening sockets, which CONFIG SET port/bind replaces.
    pub(crate) listeners: Mutex<Vec<Arc<ListenerSlot>>>,
    /// Snapshot state for INFO persistence, SAVE, LASTSAVE.
    pub rdb: crate::persistence::RdbState,
    /// The append-only file.
    pub aof: crate::aof::Aof,
    /// This state's own `Arc`, for the accept loops CONFIG SET starts.
    pub(crate) this: std::sync::OnceLock<std::sync::Weak<Shared>>,
}

/// One listening socket, shared by its accept loop and the server so that
/// CONFIG SET port/bind can close it at once, from any thread, before
/// binding the new addresses (the old and new ones may overlap).
#[derive(Debug)]
pub(crate) struct ListenerSlot {
    /// The socket; `None` once closed, which ends its accept loop.
    pub(crate) listener: Mutex<Option<tokio::net::TcpListener>>,
    /// The address it listens on.
    addr: Option<SocketAddr>,
    /// The accept loop.
    task: Mutex<Option<tokio::task::AbortHandle>>,
}

impl ListenerSlot {
    /// Closes the socket and stops its accept loop.
    fn close(&self) {
        drop(self.listener.lock().take());
        if let Some(t) = self.task.lock().take() {
            t.abort();
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("port", &self.port.load(Ordering::Relaxed))
            .finish()
    }
}

impl Host for Shared {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn debug_reload(
        &self,
        ctx: &mut viator_store::command::Ctx<'_>,
        save: bool,
        flush: bool,
        merge: bool,
    ) {
        if save && crate::persistence::save_now(self).is_err() {
            ctx.out.error("ERR");
            return;
        }
        if flush {
            let all: Vec<usize> = (0..self.store.db_count()).collect();
            let mut views = viator_store::Keyspace::lock_dbs(&self.store, &all, ctx.now_ms);
            let old: Vec<_> = views.iter_mut().flat_map(|ks| ks.take_contents()).collect();
            drop(views);
            drop(old);
        }
        match crate::persistence::load_file(self, merge) {
            Ok(lines) => {
                for line in lines {
                    crate::log::notice(&line);
                }
                crate::log::notice("DB reloaded by DEBUG RELOAD");
                ctx.out.ok();
            }
            Err(e) => {
                crate::log::warning(&e);
                ctx.out
                    .error("ERR Error trying to load the RDB dump, check server logs.");
            }
        }
    }

    fn debug_loadaof(&self, ctx: &mut viator_store::command::Ctx<'_>) {
        crate::aof::debug_loadaof(self, ctx);
    }

    fn debug_aof_flush_sleep(&self, micros: u64) {
        self.aof.set_flush_sleep(micros);
    }
}

impl Shared {
    /// Copies the configuration's hot values into [`Hot`] and the store's
    /// settings.
    pub fn apply_config(&self) {
        let cfg = self.config.read();
        let h = &self.hot;
        h.maxclients
            .store(cfg.maxclients() as usize, Ordering::Relaxed);
        h.timeout.store(cfg.timeout(), Ordering::Relaxed);
        h.proto_max_bulk_len
            .store(cfg.proto_max_bulk_len(), Ordering::Relaxed);
        h.client_query_buffer_limit
            .store(cfg.client_query_buffer_limit(), Ordering::Relaxed);
        h.requirepass_set
            .store(cfg.requirepass().is_some(), Ordering::Relaxed);
        h.tcp_keepalive
            .store(cfg.tcp_keepalive(), Ordering::Relaxed);
        h.hz.store(cfg.hz().clamp(1, 500), Ordering::Relaxed);
        let s = &self.store.settings;
        s.proto_max_bulk_len
            .store(cfg.proto_max_bulk_len(), Ordering::Relaxed);
        s.maxmemory.store(cfg.maxmemory(), Ordering::Relaxed);
        s.latency_tracking
            .store(cfg.latency_tracking(), Ordering::Relaxed);
        s.set_maxmemory_policy(cfg.maxmemory_policy());
        s.lfu_log_factor
            .store(cfg.lfu_log_factor(), Ordering::Relaxed);
        s.lfu_decay_time
            .store(cfg.lfu_decay_time(), Ordering::Relaxed);
        s.active_expire_effort
            .store(cfg.active_expire_effort(), Ordering::Relaxed);
        s.rdb_compression
            .store(cfg.rdbcompression(), Ordering::Relaxed);
        s.lazyfree_lazy_expire
            .store(cfg.lazyfree_lazy_expire(), Ordering::Relaxed);
        s.lazyfree_lazy_server_del
            .store(cfg.lazyfree_lazy_server_del(), Ordering::Relaxed);
        s.rdb_version
            .store(cfg.num(Opt::RdbVersion) as u16, Ordering::Relaxed);
        self.aof.configure(
            cfg.appendfsync(),
            cfg.bool(crate::config::Opt::AofTimestampEnabled),
            cfg.bool(crate::config::Opt::NoAppendfsyncOnRewrite),
        );
        s.list_max_listpack_size
            .store(cfg.num(Opt::ListMaxListpackSize), Ordering::Relaxed);
        s.list_compress_depth
            .store(cfg.num(Opt::ListCompressDepth), Ordering::Relaxed);
        for (setting, opt) in [
            (&s.hash_max_listpack_entries, Opt::HashMaxListpackEntries),
            (&s.hash_max_listpack_value, Opt::HashMaxListpackValue),
            (&s.set_max_intset_entries, Opt::SetMaxIntsetEntries),
            (&s.set_max_listpack_entries, Opt::SetMaxListpackEntries),
            (&s.set_max_listpack_value, Opt::SetMaxListpackValue),
            (&s.zset_max_listpack_entries, Opt::ZsetMaxListpackEntries),
            (&s.zset_max_listpack_value, Opt::ZsetMaxListpackValue),
            (&s.stream_node_max_entries, Opt::StreamNodeMaxEntries),
            (&s.stream_node_max_bytes, Opt::StreamNodeMaxBytes),
            (&s.hll_sparse_max_bytes, Opt::HllSparseMaxBytes),
        ] {
            setting.store(cfg.num(opt) as u64, Ordering::Relaxed);
        }
    }

    /// The shared state reached from a command's host.
    pub fn from_host(host: &dyn Host) -> &Shared {
        host.as_any()
            .downcast_ref::<Shared>()
            .expect("server commands run with the server as host")
    }

    /// Asks the server to stop.
    pub fn request_shutdown(&self, exit_process: bool) {
        self.shutdown.send_modify(|v| *v = Some(exit_process));
    }

    pub(crate) fn hand_to_worker(&self, stream: std::net::TcpStream) {
        let n = self.workers.len();
        let i = self.next_worker.fetch_add(1, Ordering::Relaxed) % n;
        let _ = self.workers[i].send(stream);
    }

    /// The TCP port listened on, 0 for none.
    pub fn port(&self) -> u16 {
        self.port.load(Ordering::Relaxed)
    }

    /// Bytes of memory in use: what the counting allocator counts when it
    /// is the global allocator, the resident set size otherwise.
    pub fn used_memory(&self) -> usize {
        crate::alloc::allocated().unwrap_or_else(rss_bytes)
    }

    /// Records a new memory peak if `used` is one, and returns the peak
    /// and its time (unix ms).
    pub fn note_memory_peak(&self, used: usize) -> (usize, i64) {
        let mut peak = self.memory_peak.lock();
        if used > peak.0 {
            *peak = (used, viator_store::clock::now_ms());
        }
        *peak
    }

    /// Listens on `bind` addresses and `port` instead of the current
    /// listeners (CONFIG SET port/bind), as Redis's `changeListener`: the
    /// old sockets close first, then the new ones are bound; if that
    /// fails, the old addresses are bound again. Port 0 closes the TCP
    /// listeners. Must run inside a worker (the new accept loops run on
    /// its runtime).
    pub fn relisten(&self, bind: &[String], port: u16, backlog: u32) -> Result<(), String> {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return Err("no runtime to listen with".into());
        };
        let mut current = self.listeners.lock();
        let old: Vec<SocketAddr> = current.iter().filter_map(|s| s.addr).collect();
        for s in current.drain(..) {
            s.close();
        }
        let bind_here = |bind: &[String], port: u16| {
            // No port, or no address (`bind ""`): Redis listens nowhere.
            if port == 0 || bind.is_empty() {
                return Ok(Vec::new());
            }
            // Binding builds a small runtime of its own, which may not be
            // dropped inside a worker's: bind on a short-lived thread.
            std::thread::scope(|s| {
                s.spawn(|| bind_addrs(bind, port, backlog))
                    .join()
                    .unwrap_or_else(|_| Err(StartError::Other("bind thread failed".into())))
            })
        };
        let (listeners, result) = match bind_here(bind, port) {
            Ok(l) => (l, Ok(())),
            Err(e) => {
                match &e {
                    StartError::Listen { port, source } => {
                        let addrs = bind.join(" ");
                        crate::log::warning(&crate::log::could_not_create_tcp_socket(
                            &addrs,
                            *port,
                            &source.to_string(),
                        ));
                    }
                    StartError::Other(m) => crate::log::warning(m),
                }
                let old_bind: Vec<String> = old.iter().map(|a| a.ip().to_string()).collect();
                let old_port = old.first().map(|a| a.port()).unwrap_or(0);
                let restored = bind_here(&old_bind, old_port).unwrap_or_else(|e| {
                    crate::log::warning(&format!("Failed to listen again on port {old_port}: {e}"));
                    Vec::new()
                });
                (restored, Err(e.to_string()))
            }
        };
        let _enter = rt.enter();
        let mut listening_port = 0;
        for l in listeners {
            if l.set_nonblocking(true).is_err() {
                continue;
            }
            let addr = l.local_addr().ok();
            if let Ok(l) = tokio::net::TcpListener::from_std(l) {
                listening_port = addr.map(|a| a.port()).unwrap_or(0);
                let slot = Arc::new(ListenerSlot {
                    listener: Mutex::new(Some(l)),
                    addr,
                    task: Mutex::new(None),
                });
                if let Some(me) = self.listeners_owner() {
                    let h = rt.spawn(crate::conn::accept_loop(me, slot.clone()));
                    *slot.task.lock() = Some(h.abort_handle());
                }
                current.push(slot);
            }
        }
        self.port.store(listening_port, Ordering::Relaxed);
        result
    }

    /// The `Arc` of this state, for tasks that must own it.
    fn listeners_owner(&self) -> Option<Arc<Shared>> {
        self.this.get().and_then(std::sync::Weak::upgrade)
    }

    /// Zeroes what CONFIG RESETSTAT resets (Redis's `resetServerStats`,
    /// `resetCommandTableStats` and `resetErrorTableStats`).
    pub fn reset_stats(&self) {
        self.stats.reset();
        self.store.reset_stats();
        self.store.commands().reset_stats();
        for t in self.threads.iter() {
            t.reset();
        }
        self.last_ops.store(0, Ordering::Relaxed);
        *self.last_net.lock() = (0, 0);
    }

    /// Sum of the worker threads' counters: (reads, writes, bytes in,
    /// bytes out).
    pub fn thread_totals(&self) -> (u64, u64, u64, u64) {
        self.threads.iter().fold((0, 0, 0, 0), |a, t| {
            (
                a.0 + t.reads.load(Ordering::Relaxed),
                a.1 + t.writes.load(Ordering::Relaxed),
                a.2 + t.net_input_bytes.load(Ordering::Relaxed),
                a.3 + t.net_output_bytes.load(Ordering::Relaxed),
            )
        })
    }
}

/// The resident set size of the process, from /proc/self/statm (0 where
/// it cannot be read).
pub fn rss_bytes() -> usize {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<usize>().ok())
        })
        .unwrap_or(0);
    // SAFETY: sysconf takes a constant and touches no memory.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * if page > 0 { page as usize } else { 4096 }
}

/// A running server, as returned by [`Server::start`].
pub struct Server {
    shared: Arc<Shared>,
    threads: Vec<std::thread::JoinHandle<()>>,
    stop: watch::Receiver<Option<bool>>,
    addrs: Vec<SocketAddr>,
    load_log: Vec<String>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addrs", &self.addrs)
            .finish()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Binding a listening socket failed.
    #[error("Failed listening on port {port} (tcp), aborting.")]
    Listen {
        /// The port.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
    /// Another startup failure.
    #[error("{0}")]
    Other(String),
}

/// Starts an accept loop per listener on the current runtime and records
/// the listeners in the shared state.
fn spawn_accept_loops(shared: &Arc<Shared>, listeners: Vec<std::net::TcpListener>) {
    let mut slots = shared.listeners.lock();
    for l in listeners {
        if l.set_nonblocking(true).is_err() {
            continue;
        }
        let addr = l.local_addr().ok();
        if let Ok(l) = tokio::net::TcpListener::from_std(l) {
            let slot = Arc::new(ListenerSlot {
                listener: Mutex::new(Some(l)),
                addr,
                task: Mutex::new(None),
            });
            let h = tokio::spawn(crate::conn::accept_loop(shared.clone(), slot.clone()));
            *slot.task.lock() = Some(h.abort_handle());
            slots.push(slot);
        }
    }
}

fn random_run_id() -> String {
    (0..40)
        .map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap_or('0'))
        .collect()
}

/// IPv6 listeners take only IPv6, so that `bind * ::*` can listen on both
/// families on one port, as Redis does.
fn set_v6only(s: &tokio::net::TcpSocket) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads size_of::<c_int>() bytes from a live local;
    // the descriptor belongs to `s`, which is open.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            &on as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn bind_all(cfg: &Config) -> Result<Vec<std::net::TcpListener>, StartError> {
    bind_addrs(&cfg.bind(), cfg.port(), cfg.tcp_backlog())
}

fn bind_addrs(
    bind: &[String],
    port: u16,
    backlog: u32,
) -> Result<Vec<std::net::TcpListener>, StartError> {
    let mut out = Vec::new();
    // tokio's TcpSocket sets the backlog and SO_REUSEADDR; it needs a
    // runtime only while the socket is made, then leaves it as a std one.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| StartError::Other(e.to_string()))?;
    let _enter = rt.enter();
    for addr in bind {
        // A leading '-' marks an address that may be unavailable.
        let optional = addr.starts_with('-');
        let addr = addr.trim_start_matches('-');
        let ip: std::net::IpAddr = match addr {
            "*" => std::net::Ipv4Addr::UNSPECIFIED.into(),
            "::*" => std::net::Ipv6Addr::UNSPECIFIED.into(),
            "localhost" => std::net::Ipv4Addr::LOCALHOST.into(),
            a => a
                .parse()
                .map_err(|_| StartError::Other(format!("Invalid bind address '{a}'")))?,
        };
        let sa = SocketAddr::new(ip, port);
        let sock = match ip {
            std::net::IpAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
            std::net::IpAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
        };
        let bound = sock.and_then(|s| {
            s.set_reuseaddr(true)?;
            if ip.is_ipv6() {
                set_v6only(&s)?;
            }
            s.bind(sa)?;
            let l = s.listen(backlog)?;
            l.into_std()
        });
        match bound {
            Ok(l) => out.push(l),
            // An IPv6 address on a host without IPv6 is skipped, as Redis
            // does for its default "* -::*" bind.
            Err(e)
                if optional
                    || (ip.is_ipv6() && e.kind() == std::io::ErrorKind::AddrNotAvailable) =>
            {
                crate::log::verbose(&format!("Skipping optional bind address {addr}: {e}"));
            }
            Err(e) => return Err(StartError::Listen { port, source: e }),
        }
        if port == 0 {
            // All listeners share the first one's port.
            break;
        }
    }
    if out.is_empty() {
        return Err(StartError::Other(
            "Failed listening on all bind addresses".into(),
        ));
    }
    Ok(out)
}

impl Server {
    /// Binds the listeners and starts the worker threads. The server runs
    /// until [`Server::shutdown`] or a SHUTDOWN command.
    pub fn start(
        config: Config,
        config_file: Option<std::path::PathBuf>,
    ) -> Result<Server, StartError> {
        Server::start_with(config, config_file, || {})
    }

    /// [`Server::start`] that calls `initialized` once the server is set up
    /// and listening, before the dataset loads: where redis-server logs
    /// its banner and "Server initialized", which harnesses wait for even
    /// when loading then fails.
    pub fn start_with(
        mut config: Config,
        config_file: Option<std::path::PathBuf>,
        initialized: impl FnOnce(),
    ) -> Result<Server, StartError> {
        // CONFIG REWRITE and INFO read the file from the configuration.
        if config.config_file().is_none() && config_file.is_some() {
            config.set_config_file(config_file.clone());
        }
        let config_file = config.config_file().map(|p| p.to_path_buf());
        // Calibrate the TSC clock that times commands now, not on the
        // first command.
        let _ = quanta::Instant::now();
        let listeners = bind_all(&config)?;
        let addrs: Vec<SocketAddr> = listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect();
        let port = addrs.first().map(|a| a.port()).unwrap_or(0);
        let io_threads = match config.io_threads() {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            n => n,
        }
        .max(1);
        let mut store = Store::new(StoreOptions {
            databases: config.databases(),
            ..StoreOptions::default()
        });
        crate::cmds::bind(store.commands_mut());
        // Every command runs on a worker thread (the cron and blocked
        // clients' reruns included): with one worker, they are ordered.
        store
            .settings
            .commands_on_one_thread
            .store(io_threads == 1, Ordering::Relaxed);
        let (shutdown_tx, shutdown_rx) = watch::channel(None);
        let mut worker_rx = Vec::new();
        let mut workers = Vec::new();
        for _ in 0..io_threads {
            let (tx, rx) = mpsc::unbounded_channel();
            workers.push(tx);
            worker_rx.push(rx);
        }
        let frozen = store.settings.expiry_frozen.clone();
        let shared = Arc::new(Shared {
            store,
            config: RwLock::new(config),
            hot: Hot::default(),
            clients: Registry::default(),
            stats: ServerStats::default(),
            threads: (0..io_threads).map(|_| ThreadStats::default()).collect(),
            pause: Pause {
                expiry_frozen: frozen,
                ..Pause::default()
            },
            started: Instant::now(),
            run_id: random_run_id(),
            replid: random_run_id(),
            port: AtomicU16::new(port),
            shutdown: shutdown_tx,
            config_file,
            memory_startup: crate::alloc::allocated().unwrap_or_else(rss_bytes),
            memory_peak: Mutex::new((0, viator_store::clock::now_ms())),
            last_ops: AtomicU64::new(0),
            last_net: Mutex::new((0, 0)),
            workers,
            next_worker: AtomicUsize::new(0),
            listeners: Mutex::new(Vec::new()),
            this: std::sync::OnceLock::new(),
            rdb: crate::persistence::RdbState::new(),
            aof: crate::aof::Aof::new(),
        });
        let _ = shared.this.set(Arc::downgrade(&shared));
        shared.apply_config();
        // The dataset is in place before the first client connects.
        initialized();
        // With the AOF on, it is the dataset and the snapshot is not read
        // (Redis's loadDataFromDisk).
        let load_log = if shared.config.read().appendonly() {
            crate::aof::load(&shared).map_err(StartError::Other)?;
            crate::aof::open_on_start(&shared).map_err(StartError::Other)?;
            Vec::new()
        } else {
            crate::persistence::load_file(&shared, false).map_err(StartError::Other)?
        };
        let mut threads = Vec::new();
        for (i, mut rx) in worker_rx.into_iter().enumerate() {
            let shared = shared.clone();
            let mut stop = shutdown_rx.clone();
            let listeners: Vec<std::net::TcpListener> = if i == 0 {
                listeners
                    .iter()
                    .filter_map(|l| l.try_clone().ok())
                    .collect()
            } else {
                Vec::new()
            };
            let t = std::thread::Builder::new()
                .name(format!("viator-io-{i}"))
                .spawn(move || {
                    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        Ok(rt) => rt,
                        Err(e) => {
                            crate::log::warning(&format!("Cannot start worker thread: {e}"));
                            return;
                        }
                    };
                    rt.block_on(async move {
                        spawn_accept_loops(&shared, listeners);
                        if i == 0 {
                            tokio::spawn(cron(shared.clone()));
                        }
                        loop {
                            tokio::select! {
                                s = rx.recv() => match s {
                                    Some(s) => {
                                        if let Ok(stream) = tokio::net::TcpStream::from_std(s) {
                                            tokio::spawn(crate::conn::serve(shared.clone(), stream, i));
                                        }
                                    }
                                    None => break,
                                },
                                r = stop.changed() => if r.is_err() || stop.borrow().is_some() { break },
                            }
                        }
                    });
                    // Dropping the runtime here cancels every connection task
                    // of this thread, closing the sockets.
                })
                .map_err(|e| StartError::Other(e.to_string()))?;
            threads.push(t);
        }
        drop(listeners);
        Ok(Server {
            shared,
            threads,
            stop: shutdown_rx,
            addrs,
            load_log,
        })
    }

    /// The lines Redis logs about loading the snapshot at start-up (none
    /// when there was no file), for the binary to log after "Server
    /// initialized".
    pub fn load_log(&self) -> &[String] {
        &self.load_log
    }

    /// The shared state.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.shared.port()
    }

    /// The addresses listened on.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Blocks until the server is asked to stop, then stops it. Returns
    /// whether the process should exit (SHUTDOWN asks for that).
    pub fn wait(mut self) -> bool {
        let mut stop = self.stop.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(rt) = rt {
            rt.block_on(async {
                while stop.borrow_and_update().is_none() {
                    if stop.changed().await.is_err() {
                        break;
                    }
                }
            });
        }
        let exit = self.stop.borrow().unwrap_or(false);
        self.join();
        exit
    }

    /// Stops the server and waits for its threads.
    pub fn shutdown(mut self) {
        self.shared.request_shutdown(false);
        self.join();
    }

    fn join(&mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        // The last writes reach the AOF, and its writer thread ends.
        crate::aof::stop(&self.shared);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.shared.request_shutdown(false);
            self.join();
        }
    }
}

/// The periodic tasks of Redis's `serverCron`: active expiry, idle client
/// timeouts, ops/sec sampling, the end of CLIENT PAUSE.
async fn cron(shared: Arc<Shared>) {
    let mut last_sample = Instant::now();
    // Redis's trackInstantaneousMetric: the mean of the last 16 samples
    // taken every 100 ms, for ops/sec, input and output kbps.
    const SAMPLES: usize = 16;
    let mut ops_samples = [0f64; SAMPLES];
    let mut in_samples = [0f64; SAMPLES];
    let mut out_samples = [0f64; SAMPLES];
    let mut idx = 0usize;
    loop {
        let hz = shared.hot.hz.load(Ordering::Relaxed).max(1);
        let period = Duration::from_millis(1000 / hz);
        tokio::time::sleep(period).await;
        crate::cmds::client::end_pause_if_due(&shared);
        // Active expiry: at most a quarter of each period, as Redis's slow
        // cycle (ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC). A client pause stops
        // it, so that the dataset stays still, as in Redis.
        if !shared.pause.is_paused() {
            viator_store::expire::active_expire_cycle(&shared.store, period / 4);
        }
        shared.clients.close_idle(&shared);
        // MIGRATE's connections unused for 10 s (Redis runs this once a
        // second; it is a short walk of at most 64 entries).
        shared
            .store
            .migrate_sockets
            .close_idle(viator_store::clock::now_ms() / 1000);
        crate::persistence::cron(&shared);
        crate::aof::cron(&shared);
        shared.note_memory_peak(shared.used_memory());
        if last_sample.elapsed() >= Duration::from_millis(100) {
            let elapsed = last_sample.elapsed().as_secs_f64();
            last_sample = Instant::now();
            let ops = shared
                .stats
                .total_commands_processed
                .load(Ordering::Relaxed);
            let prev = shared.last_ops.swap(ops, Ordering::Relaxed);
            let (_, _, net_in, net_out) = shared.thread_totals();
            let (prev_in, prev_out) =
                std::mem::replace(&mut *shared.last_net.lock(), (net_in, net_out));
            ops_samples[idx] = ops.saturating_sub(prev) as f64 / elapsed;
            in_samples[idx] = net_in.saturating_sub(prev_in) as f64 / elapsed / 1024.0;
            out_samples[idx] = net_out.saturating_sub(prev_out) as f64 / elapsed / 1024.0;
            idx = (idx + 1) % SAMPLES;
            let mean = |v: &[f64; SAMPLES]| v.iter().sum::<f64>() / SAMPLES as f64;
            let st = &shared.stats;
            st.instantaneous_ops_per_sec
                .store(mean(&ops_samples) as u64, Ordering::Relaxed);
            st.instantaneous_input_kbps_x100
                .store((mean(&in_samples) * 100.0) as u64, Ordering::Relaxed);
            st.instantaneous_output_kbps_x100
                .store((mean(&out_samples) * 100.0) as u64, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errorstats_stop_at_128_codes_until_resetstat() {
        let s = ServerStats::default();
        for i in 0..ERROR_STATS_NUMBER {
            s.count_errors(vec![format!("E{i}")]);
        }
        s.count_errors(vec!["E1".to_string()]);
        assert_eq!(s.errors.lock().get("E1"), Some(&2));
        s.count_errors(vec!["ONE-TOO-MANY".to_string()]);
        let only: Vec<(String, u64)> = s.errors.lock().clone().into_iter().collect();
        assert_eq!(only, [("ERRORSTATS_DISABLED".to_string(), 1)]);
        s.count_errors(vec!["E1".to_string()]);
        assert_eq!(s.errors.lock().len(), 1);
        s.reset();
        s.count_errors(vec!["E1".to_string()]);
        assert_eq!(s.errors.lock().get("E1"), Some(&1));
    }
}
