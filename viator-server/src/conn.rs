//! One client connection: read, parse every complete request, run each,
//! and write all replies of the batch with one write.

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use viator_protocol::{Limits, Parsed, ReplyBuf, parse_command};
use viator_store::Client;

use crate::clients::ClientEntry;
use crate::dispatch::{After, dispatch};
use crate::server::Shared;

/// Initial size of a connection's read buffer (Redis's PROTO_IOBUF_LEN).
const READ_CHUNK: usize = 16 * 1024;

/// Accepts connections and hands them to the worker threads.
pub async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => match stream.into_std() {
                Ok(s) => shared.hand_to_worker(s),
                Err(e) => crate::log::warning(&format!("Accepting client connection: {e}")),
            },
            Err(e) => {
                crate::log::warning(&format!("Accepting client connection: {e}"));
                // Out of descriptors and the like: back off a little.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

fn setup_socket(shared: &Shared, stream: &TcpStream) {
    let _ = stream.set_nodelay(true);
    let keepalive = shared.hot.tcp_keepalive.load(Ordering::Relaxed);
    if keepalive > 0 {
        let sock = socket2_keepalive(stream.as_raw_fd(), keepalive);
        if let Err(e) = sock {
            crate::log::verbose(&format!("Setting TCP keepalive: {e}"));
        }
    }
}

/// Turns on TCP keepalive with Redis's timings for `interval` seconds.
fn socket2_keepalive(fd: i32, interval: u64) -> std::io::Result<()> {
    let set = |level: i32, name: i32, value: i32| -> std::io::Result<()> {
        // SAFETY: setsockopt reads exactly size_of::<i32>() bytes from a
        // live stack variable; fd is the connection's open socket.
        let r = unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                &value as *const i32 as *const libc::c_void,
                std::mem::size_of::<i32>() as libc::socklen_t,
            )
        };
        if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
    };
    let interval = interval.min(i32::MAX as u64) as i32;
    set(libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    set(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, interval)?;
    set(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, (interval / 3).max(1))?;
    set(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3)
}

/// Serves one connection until it closes.
pub async fn serve(shared: Arc<Shared>, mut stream: TcpStream) {
    let (Ok(addr), Ok(laddr)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    setup_socket(&shared, &stream);
    let maxclients = shared.hot.maxclients.load(Ordering::Relaxed);
    if shared.clients.len() >= maxclients {
        shared.stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream.write_all(b"-ERR max number of clients reached\r\n").await;
        return;
    }
    shared
        .stats
        .total_connections_received
        .fetch_add(1, Ordering::Relaxed);
    let entry = shared.clients.register(addr, laddr, stream.as_raw_fd(), 0);
    let mut conn = Conn {
        client: Client {
            id: entry.id,
            user: if shared.hot.requirepass_set.load(Ordering::Relaxed) {
                None
            } else {
                Some("default".to_string())
            },
            ..Client::default()
        },
        entry: entry.clone(),
        out: ReplyBuf::with_capacity(READ_CHUNK),
        args: Vec::new(),
    };
    let _ = conn.run(&shared, &mut stream).await;
    shared.clients.unregister(entry.id);
    // The stream drops here, after the client left the registry, so that
    // a CLIENT KILL never shuts down a descriptor reused by someone else.
}

struct Conn {
    client: Client,
    entry: Arc<ClientEntry>,
    out: ReplyBuf,
    args: Vec<Bytes>,
}

impl Conn {
    async fn run(&mut self, shared: &Shared, stream: &mut TcpStream) -> std::io::Result<()> {
        let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
        loop {
            if rbuf.capacity() - rbuf.len() < READ_CHUNK / 2 {
                rbuf.reserve(READ_CHUNK);
            }
            let n = stream.read_buf(&mut rbuf).await?;
            if n == 0 || self.entry.killed.load(Ordering::Relaxed) {
                return Ok(());
            }
            shared
                .stats
                .total_net_input_bytes
                .fetch_add(n as u64, Ordering::Relaxed);
            let close = self.process(shared, &mut rbuf);
            if !self.out.is_empty() {
                let wrote = self.out.len();
                stream.write_all(self.out.buffer_mut()).await?;
                self.out.buffer_mut().clear();
                shared
                    .stats
                    .total_net_output_bytes
                    .fetch_add(wrote as u64, Ordering::Relaxed);
            }
            if close {
                return Ok(());
            }
            let limit = shared.hot.client_query_buffer_limit.load(Ordering::Relaxed) as usize;
            if rbuf.len() > limit {
                shared
                    .stats
                    .client_query_buffer_limit_disconnections
                    .fetch_add(1, Ordering::Relaxed);
                crate::log::warning(&format!(
                    "Closing client that reached max query buffer length: id={} addr={} (qbuf initial bytes: {:?})",
                    self.client.id,
                    self.entry.addr,
                    String::from_utf8_lossy(&rbuf[..rbuf.len().min(64)])
                ));
                return Ok(());
            }
        }
    }

    /// Runs every complete request in `rbuf`. Returns true when the
    /// connection must close after the replies are written.
    fn process(&mut self, shared: &Shared, rbuf: &mut BytesMut) -> bool {
        let limits = Limits {
            max_bulk_len: shared.hot.proto_max_bulk_len.load(Ordering::Relaxed),
            authenticated: self.client.user.is_some(),
            ..Limits::default()
        };
        let mut ran = 0u64;
        let mut close = false;
        loop {
            match parse_command(rbuf, &limits, &mut self.args) {
                Ok(Parsed::Command) => {
                    ran += 1;
                    match dispatch(shared, &mut self.client, &self.entry, &self.args, &mut self.out) {
                        After::Continue => {}
                        After::Close => {
                            close = true;
                            break;
                        }
                    }
                }
                Ok(Parsed::Incomplete { need }) => {
                    if need > rbuf.len() {
                        rbuf.reserve(need - rbuf.len());
                    }
                    break;
                }
                Err(e) => {
                    self.out.error(&format!("ERR {e}"));
                    shared.stats.count_errors(self.out.take_errors());
                    crate::log::verbose(&format!("Protocol error ({e}) from client: id={} addr={}", self.client.id, self.entry.addr));
                    close = true;
                    break;
                }
            }
        }
        self.args.clear();
        let now = viator_store::clock::now_ms();
        self.entry.last_interaction_ms.store(now, Ordering::Relaxed);
        if ran > 0 {
            shared
                .stats
                .total_commands_processed
                .fetch_add(ran, Ordering::Relaxed);
            let mut info = self.entry.info.lock();
            info.db = self.client.db;
            info.resp = self.client.resp;
            info.tot_cmds += ran;
            info.qbuf = rbuf.len();
            info.qbuf_free = rbuf.capacity() - rbuf.len();
        }
        close
    }
}
