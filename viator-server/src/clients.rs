//! The registry of connected clients, for CLIENT LIST/KILL/INFO, INFO
//! clients, `maxclients` and idle `timeout`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;

use crate::server::Shared;

/// What CLIENT LIST shows of a client and changes rarely or once per batch.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// CLIENT SETNAME.
    pub name: Option<Bytes>,
    /// CLIENT SETINFO LIB-NAME.
    pub lib_name: Option<Bytes>,
    /// CLIENT SETINFO LIB-VER.
    pub lib_ver: Option<Bytes>,
    /// Authenticated user.
    pub user: String,
    /// Selected database.
    pub db: usize,
    /// Protocol version.
    pub resp: u8,
    /// Full name of the last command (`client|list`).
    pub last_cmd: Arc<str>,
    /// CLIENT NO-EVICT.
    pub no_evict: bool,
    /// CLIENT NO-TOUCH.
    pub no_touch: bool,
    /// Size of the output buffer.
    pub obuf: usize,
    /// Bytes of pending output.
    pub omem: usize,
    /// Commands run by this client.
    pub tot_cmds: u64,
    /// Commands queued in MULTI, -1 outside a transaction.
    pub multi: i64,
    /// Number of keys watched.
    pub watch: usize,
}

/// One connected client.
#[derive(Debug)]
pub struct ClientEntry {
    /// CLIENT ID.
    pub id: u64,
    /// Peer address.
    pub addr: SocketAddr,
    /// Local address.
    pub laddr: SocketAddr,
    /// Socket file descriptor.
    pub fd: i32,
    /// Unix milliseconds at connection.
    pub created_ms: i64,
    /// Unix milliseconds of the last command.
    pub last_interaction_ms: AtomicI64,
    /// Set when the client is to be closed (CLIENT KILL, timeout).
    pub killed: AtomicBool,
    /// The worker thread serving the client (`io-thread`).
    pub io_thread: usize,
    /// Details.
    pub info: Mutex<ClientInfo>,
    /// Whether the client is blocked (CLIENT UNBLOCK target) — none yet.
    pub blocked: AtomicBool,
    /// Whether the client waits for a CLIENT PAUSE to end before running
    /// its next command (Redis's postponed clients).
    pub postponed: AtomicBool,
    /// CLIENT UNBLOCK requests.
    pub unblock: AtomicU64,
    /// Bytes in the query buffer (`qbuf`): the batch being run included
    /// while it runs, as in Redis.
    pub qbuf: AtomicUsize,
    /// Size of the query buffer (`rbs`; `qbuf-free` is the rest).
    pub qbuf_cap: AtomicUsize,
    /// Largest query buffer content seen (`rbp`).
    pub qbuf_peak: AtomicUsize,
    /// Bytes read from this client (`tot-net-in`).
    pub net_in: AtomicU64,
    /// Bytes written to this client (`tot-net-out`).
    pub net_out: AtomicU64,
    /// Woken when the client is killed, so that a task waiting for
    /// something else (the end of a pause) notices.
    pub wake: tokio::sync::Notify,
}

impl ClientEntry {
    /// Closes the client's socket from outside its task: its pending read
    /// returns and the task ends.
    pub(crate) fn kill(&self) {
        if !self.killed.swap(true, Ordering::AcqRel) {
            self.wake.notify_one();
            // shutdown(2) on a descriptor only affects that socket. The
            // registry lock held by our callers guarantees the descriptor
            // still belongs to this client: a client leaves the registry
            // (under the same lock) before its socket is closed.
            shutdown_fd(self.fd);
        }
    }
}

fn shutdown_fd(fd: i32) {
    // SAFETY: shutdown(2) takes a plain integer and touches no memory; on a
    // descriptor that is not a socket it fails with ENOTSOCK. See
    // ClientEntry::kill for why the descriptor is still this client's.
    unsafe {
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
}

/// All connected clients, by id.
#[derive(Debug, Default)]
pub struct Registry {
    map: Mutex<BTreeMap<u64, Arc<ClientEntry>>>,
    next_id: AtomicU64,
}

impl Registry {
    /// Adds a client and returns its entry.
    pub fn register(
        &self,
        addr: SocketAddr,
        laddr: SocketAddr,
        fd: i32,
        io_thread: usize,
    ) -> Arc<ClientEntry> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let now = viator_store::clock::now_ms();
        let e = Arc::new(ClientEntry {
            id,
            addr,
            laddr,
            fd,
            created_ms: now,
            last_interaction_ms: AtomicI64::new(now),
            killed: AtomicBool::new(false),
            io_thread,
            info: Mutex::new(ClientInfo {
                name: None,
                lib_name: None,
                lib_ver: None,
                user: "default".to_string(),
                db: 0,
                resp: 2,
                last_cmd: Arc::from("NULL"),
                no_evict: false,
                no_touch: false,
                obuf: 0,
                omem: 0,
                tot_cmds: 0,
                multi: -1,
                watch: 0,
            }),
            blocked: AtomicBool::new(false),
            postponed: AtomicBool::new(false),
            unblock: AtomicU64::new(0),
            qbuf: AtomicUsize::new(0),
            qbuf_cap: AtomicUsize::new(0),
            qbuf_peak: AtomicUsize::new(0),
            net_in: AtomicU64::new(0),
            net_out: AtomicU64::new(0),
            wake: tokio::sync::Notify::new(),
        });
        self.map.lock().insert(id, e.clone());
        e
    }

    /// Removes a client. Called by its task before the socket is closed.
    pub fn unregister(&self, id: u64) {
        self.map.lock().remove(&id);
    }

    /// Number of connected clients.
    pub fn len(&self) -> usize {
        self.map.lock().len()
    }

    /// Whether no client is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of every client, by id.
    pub fn all(&self) -> Vec<Arc<ClientEntry>> {
        self.map.lock().values().cloned().collect()
    }

    /// The client with this id.
    pub fn get(&self, id: u64) -> Option<Arc<ClientEntry>> {
        self.map.lock().get(&id).cloned()
    }

    /// Kills the clients for which `pred` is true, except `me` (a client
    /// killing itself is closed after its reply instead), and removes them
    /// from the registry at once, as Redis frees them. Returns how many
    /// matched, `me` included, and whether `me` matched.
    pub fn kill_where(&self, me: u64, mut pred: impl FnMut(&ClientEntry) -> bool) -> (usize, bool) {
        let mut map = self.map.lock();
        let mut n = 0;
        let mut me_matched = false;
        map.retain(|_, e| {
            if !pred(e) {
                return true;
            }
            n += 1;
            if e.id == me {
                me_matched = true;
                return true;
            }
            // Under the registry lock, so the descriptor is still this
            // client's (see ClientEntry::kill).
            e.kill();
            false
        });
        (n, me_matched)
    }

    /// Closes clients idle for longer than `timeout` (seconds, 0 = never).
    pub fn close_idle(&self, shared: &Shared) {
        let timeout = shared.hot.timeout.load(Ordering::Relaxed);
        if timeout == 0 {
            return;
        }
        let now = viator_store::clock::now_ms();
        let limit = timeout as i64 * 1000;
        self.kill_where(0, |e| {
            let idle = now - e.last_interaction_ms.load(Ordering::Relaxed) > limit
                && !e.blocked.load(Ordering::Relaxed)
                && !e.postponed.load(Ordering::Relaxed);
            if idle {
                crate::log::verbose("Closing idle client");
            }
            idle
        });
    }
}
