//! The registry of connected clients, for CLIENT LIST/KILL/INFO, INFO
//! clients, `maxclients` and idle `timeout`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

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
    /// Bytes in the query buffer after the last batch.
    pub qbuf: usize,
    /// Free bytes in the query buffer.
    pub qbuf_free: usize,
    /// Bytes of pending output.
    pub omem: usize,
    /// Commands run by this client.
    pub tot_cmds: u64,
    /// Bytes read from this client.
    pub tot_net_in: u64,
    /// Bytes written to this client.
    pub tot_net_out: u64,
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
    /// Set when the client's socket was shut down by someone else.
    pub io_thread: usize,
    /// Details.
    pub info: Mutex<ClientInfo>,
    /// Whether the client is blocked (CLIENT UNBLOCK target) — none yet.
    pub blocked: AtomicBool,
    /// CLIENT UNBLOCK requests.
    pub unblock: AtomicU64,
}

impl ClientEntry {
    /// Closes the client's socket from outside its task: its pending read
    /// returns and the task ends.
    pub fn kill(&self) {
        if !self.killed.swap(true, Ordering::AcqRel) {
            // SAFETY-free: shutdown(2) on a descriptor only affects that
            // socket. The registry lock held by our callers guarantees the
            // descriptor still belongs to this client: a client leaves the
            // registry (under the same lock) before its socket is closed.
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
    pub fn register(&self, addr: SocketAddr, laddr: SocketAddr, fd: i32, io_thread: usize) -> Arc<ClientEntry> {
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
                qbuf: 0,
                qbuf_free: 0,
                omem: 0,
                tot_cmds: 0,
                tot_net_in: 0,
                tot_net_out: 0,
            }),
            blocked: AtomicBool::new(false),
            unblock: AtomicU64::new(0),
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

    /// Kills the clients for which `pred` is true, except `skip` (a client
    /// killing itself is closed after its reply instead). Returns how many
    /// matched, `skip` included.
    pub fn kill_where(&self, skip: u64, mut pred: impl FnMut(&ClientEntry) -> bool) -> usize {
        let map = self.map.lock();
        let mut n = 0;
        for e in map.values() {
            if pred(e) {
                n += 1;
                if e.id != skip {
                    e.kill();
                }
            }
        }
        n
    }

    /// Closes clients idle for longer than `timeout` (seconds, 0 = never).
    pub fn close_idle(&self, shared: &Shared) {
        let timeout = shared.hot.timeout.load(Ordering::Relaxed);
        if timeout == 0 {
            return;
        }
        let now = viator_store::clock::now_ms();
        let limit = timeout as i64 * 1000;
        let map = self.map.lock();
        for e in map.values() {
            if now - e.last_interaction_ms.load(Ordering::Relaxed) > limit && !e.blocked.load(Ordering::Relaxed) {
                crate::log::verbose("Closing idle client");
                e.kill();
            }
        }
    }
}
