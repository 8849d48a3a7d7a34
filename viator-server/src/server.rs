//! The running server: shared state, listeners, worker threads, the
//! periodic cron, and shutdown.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use tokio::sync::{Notify, mpsc, watch};
use viator_store::{Host, Store, StoreOptions};

use crate::clients::Registry;
use crate::config::Config;

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
    /// Bytes read from clients.
    pub total_net_input_bytes: AtomicU64,
    /// Bytes written to clients.
    pub total_net_output_bytes: AtomicU64,
    /// Connections refused because of maxclients.
    pub rejected_connections: AtomicU64,
    /// Error replies sent.
    pub total_error_replies: AtomicU64,
    /// Error replies by code (at most 128 codes, as Redis).
    pub errors: Mutex<HashMap<String, u64>>,
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
        let mut map = self.errors.lock();
        for code in codes {
            let len = map.len();
            match map.get_mut(&code) {
                Some(n) => *n += 1,
                None if len < 128 => {
                    map.insert(code, 1);
                }
                None => {}
            }
        }
    }

    /// Zeroes the counters CONFIG RESETSTAT resets.
    pub fn reset(&self) {
        for c in [
            &self.total_connections_received,
            &self.total_commands_processed,
            &self.total_net_input_bytes,
            &self.total_net_output_bytes,
            &self.rejected_connections,
            &self.total_error_replies,
            &self.unexpected_error_replies,
            &self.client_query_buffer_limit_disconnections,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.errors.lock().clear();
    }
}

/// CLIENT PAUSE state.
#[derive(Debug, Default)]
pub struct Pause {
    /// 0 none, 1 WRITE, 2 ALL.
    pub mode: std::sync::atomic::AtomicU8,
    /// Unix milliseconds when the pause ends.
    pub until_ms: AtomicI64,
    /// Woken when the pause ends.
    pub resumed: Notify,
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
    /// CLIENT PAUSE.
    pub pause: Pause,
    /// When the server started.
    pub started: Instant,
    /// 40 hex characters identifying this run.
    pub run_id: String,
    /// The TCP port actually listened on.
    pub port: u16,
    /// `Some` once the server is asked to stop; the value says whether the
    /// process should exit afterwards.
    pub shutdown: watch::Sender<Option<bool>>,
    /// Path of the configuration file, if any.
    pub config_file: Option<std::path::PathBuf>,
    /// Commands processed at the last cron tick, for ops/sec.
    pub(crate) last_ops: AtomicU64,
    /// The worker threads' connection queues.
    pub(crate) workers: Vec<mpsc::UnboundedSender<std::net::TcpStream>>,
    pub(crate) next_worker: AtomicUsize,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("port", &self.port).finish()
    }
}

impl Host for Shared {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Shared {
    /// Copies the configuration's hot values into [`Hot`] and the store's
    /// settings.
    pub fn apply_config(&self) {
        let cfg = self.config.read();
        let h = &self.hot;
        h.maxclients.store(cfg.maxclients() as usize, Ordering::Relaxed);
        h.timeout.store(cfg.timeout(), Ordering::Relaxed);
        h.proto_max_bulk_len
            .store(cfg.proto_max_bulk_len(), Ordering::Relaxed);
        h.client_query_buffer_limit
            .store(cfg.client_query_buffer_limit(), Ordering::Relaxed);
        h.requirepass_set
            .store(cfg.requirepass().is_some(), Ordering::Relaxed);
        h.tcp_keepalive.store(cfg.tcp_keepalive(), Ordering::Relaxed);
        h.hz.store(cfg.hz().clamp(1, 500), Ordering::Relaxed);
        let s = &self.store.settings;
        s.proto_max_bulk_len
            .store(cfg.proto_max_bulk_len(), Ordering::Relaxed);
        s.maxmemory.store(cfg.maxmemory(), Ordering::Relaxed);
        s.set_maxmemory_policy(cfg.maxmemory_policy());
        s.lfu_log_factor
            .store(cfg.lfu_log_factor(), Ordering::Relaxed);
        s.lfu_decay_time
            .store(cfg.lfu_decay_time(), Ordering::Relaxed);
        s.active_expire_effort
            .store(cfg.active_expire_effort(), Ordering::Relaxed);
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
}

/// A running server, as returned by [`Server::start`].
pub struct Server {
    shared: Arc<Shared>,
    threads: Vec<std::thread::JoinHandle<()>>,
    stop: watch::Receiver<Option<bool>>,
    addrs: Vec<SocketAddr>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addrs", &self.addrs).finish()
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
    if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

fn bind_all(cfg: &Config) -> Result<Vec<std::net::TcpListener>, StartError> {
    let port = cfg.port();
    let mut out = Vec::new();
    // tokio's TcpSocket sets the backlog and SO_REUSEADDR; it needs a
    // runtime only while the socket is made, then leaves it as a std one.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| StartError::Other(e.to_string()))?;
    let _enter = rt.enter();
    for addr in cfg.bind() {
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
            let l = s.listen(cfg.tcp_backlog())?;
            l.into_std()
        });
        match bound {
            Ok(l) => out.push(l),
            // An IPv6 address on a host without IPv6 is skipped, as Redis
            // does for its default "* -::*" bind.
            Err(e) if optional || (ip.is_ipv6() && e.kind() == std::io::ErrorKind::AddrNotAvailable) => {
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
        return Err(StartError::Other("Failed listening on all bind addresses".into()));
    }
    Ok(out)
}

impl Server {
    /// Binds the listeners and starts the worker threads. The server runs
    /// until [`Server::shutdown`] or a SHUTDOWN command.
    pub fn start(config: Config, config_file: Option<std::path::PathBuf>) -> Result<Server, StartError> {
        let listeners = bind_all(&config)?;
        let addrs: Vec<SocketAddr> = listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
        let port = addrs.first().map(|a| a.port()).unwrap_or(0);
        let io_threads = match config.io_threads() {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            n => n,
        }
        .max(1);
        let mut store = Store::new(StoreOptions {
            databases: config.databases(),
            ..StoreOptions::default()
        });
        crate::cmds::bind(store.commands_mut());
        let (shutdown_tx, shutdown_rx) = watch::channel(None);
        let mut worker_rx = Vec::new();
        let mut workers = Vec::new();
        for _ in 0..io_threads {
            let (tx, rx) = mpsc::unbounded_channel();
            workers.push(tx);
            worker_rx.push(rx);
        }
        let shared = Arc::new(Shared {
            store,
            config: RwLock::new(config),
            hot: Hot::default(),
            clients: Registry::default(),
            stats: ServerStats::default(),
            pause: Pause::default(),
            started: Instant::now(),
            run_id: random_run_id(),
            port,
            shutdown: shutdown_tx,
            config_file,
            last_ops: AtomicU64::new(0),
            workers,
            next_worker: AtomicUsize::new(0),
        });
        shared.apply_config();
        let mut threads = Vec::new();
        for (i, mut rx) in worker_rx.into_iter().enumerate() {
            let shared = shared.clone();
            let mut stop = shutdown_rx.clone();
            let listeners: Vec<std::net::TcpListener> = if i == 0 {
                listeners.iter().filter_map(|l| l.try_clone().ok()).collect()
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
                        for l in listeners {
                            if l.set_nonblocking(true).is_err() {
                                continue;
                            }
                            if let Ok(l) = tokio::net::TcpListener::from_std(l) {
                                tokio::spawn(crate::conn::accept_loop(shared.clone(), l));
                            }
                        }
                        if i == 0 {
                            tokio::spawn(cron(shared.clone()));
                        }
                        loop {
                            tokio::select! {
                                s = rx.recv() => match s {
                                    Some(s) => {
                                        if let Ok(stream) = tokio::net::TcpStream::from_std(s) {
                                            tokio::spawn(crate::conn::serve(shared.clone(), stream));
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
        })
    }

    /// The shared state.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.shared.port
    }

    /// The addresses listened on.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Blocks until the server is asked to stop, then stops it. Returns
    /// whether the process should exit (SHUTDOWN asks for that).
    pub fn wait(mut self) -> bool {
        let mut stop = self.stop.clone();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
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
    loop {
        let hz = shared.hot.hz.load(Ordering::Relaxed).max(1);
        let period = Duration::from_millis(1000 / hz);
        tokio::time::sleep(period).await;
        // Active expiry: at most a quarter of each period, as Redis's slow
        // cycle (ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC).
        viator_store::expire::active_expire_cycle(&shared.store, period / 4);
        shared.clients.close_idle(&shared);
        crate::cmds::client::end_pause_if_due(&shared);
        if last_sample.elapsed() >= Duration::from_millis(100) {
            let elapsed = last_sample.elapsed().as_secs_f64();
            last_sample = Instant::now();
            let ops = shared.stats.total_commands_processed.load(Ordering::Relaxed);
            let prev = shared.last_ops.swap(ops, Ordering::Relaxed);
            let rate = (ops.saturating_sub(prev)) as f64 / elapsed;
            shared
                .stats
                .instantaneous_ops_per_sec
                .store(rate as u64, Ordering::Relaxed);
        }
    }
}
