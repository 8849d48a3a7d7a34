//! One client connection: read, parse every complete request, run each,
//! and write all replies of the batch with one write.

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use viator_protocol::{CommandParser, Limits, Parsed, ReplyBuf, Scanned};
use viator_store::blocking::BlockSlot;
use viator_store::{Client, Command};

use crate::clients::ClientEntry;
use crate::dispatch::{After, Batch, dispatch, record_last_cmd};
use crate::server::{ListenerSlot, Shared};

/// Initial size of a connection's read buffer (Redis's PROTO_IOBUF_LEN).
const READ_CHUNK: usize = 16 * 1024;
/// A connection's buffer grown past this for one big request or reply is
/// replaced by a fresh one once it is empty.
const TRIM_ABOVE: usize = 4 * READ_CHUNK;

/// Accepts connections and hands them to the worker threads, until the
/// listener is closed (CONFIG SET port/bind, shutdown).
pub(crate) async fn accept_loop(shared: Arc<Shared>, slot: Arc<ListenerSlot>) {
    loop {
        // The lock is held only while polling, never across an await, so
        // that CONFIG SET can take the socket away at any time.
        let accepted = std::future::poll_fn(|cx| match slot.listener.lock().as_ref() {
            None => std::task::Poll::Ready(None),
            Some(l) => l.poll_accept(cx).map(Some),
        })
        .await;
        match accepted {
            None => return,
            Some(Ok((stream, _))) => match stream.into_std() {
                Ok(s) => shared.hand_to_worker(s),
                Err(e) => crate::log::warning(&format!("Accepting client connection: {e}")),
            },
            Some(Err(e)) => {
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
        if r == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    let interval = interval.min(i32::MAX as u64) as i32;
    set(libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    set(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, interval)?;
    set(
        libc::IPPROTO_TCP,
        libc::TCP_KEEPINTVL,
        (interval / 3).max(1),
    )?;
    set(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3)
}

/// Redis's reply to a connection refused by protected mode.
const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Protected mode (on by default): with no password for the default user,
/// only loopback clients are accepted, as Redis does.
fn refused_by_protected_mode(shared: &Shared, peer: std::net::IpAddr) -> bool {
    let cfg = shared.config.read();
    protected_mode_refuses(cfg.protected_mode(), cfg.requirepass().is_some(), peer)
}

/// The rule of [`refused_by_protected_mode`], on plain values.
fn protected_mode_refuses(protected: bool, has_password: bool, peer: std::net::IpAddr) -> bool {
    let local = match peer {
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    };
    protected && !has_password && !local
}

/// Serves one connection until it closes. `worker` is the index of the
/// worker thread running it.
pub async fn serve(shared: Arc<Shared>, mut stream: TcpStream, worker: usize) {
    let (Ok(addr), Ok(laddr)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    setup_socket(&shared, &stream);
    let maxclients = shared.hot.maxclients.load(Ordering::Relaxed);
    if shared.clients.len() >= maxclients {
        shared
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    if refused_by_protected_mode(&shared, addr.ip()) {
        let _ = stream.write_all(PROTECTED_MODE_DENIED).await;
        return;
    }
    shared
        .stats
        .total_connections_received
        .fetch_add(1, Ordering::Relaxed);
    let entry = shared
        .clients
        .register(addr, laddr, stream.as_raw_fd(), worker);
    let served = Arc::new(tokio::sync::Notify::new());
    let waker = served.clone();
    let mut conn = Conn {
        client: Client {
            id: entry.id,
            user: if shared.hot.requirepass_set.load(Ordering::Relaxed) {
                None
            } else {
                Some("default".to_string())
            },
            block_slot: Some(Arc::new(BlockSlot::new(move || waker.notify_one()))),
            ..Client::default()
        },
        served,
        entry: entry.clone(),
        out: ReplyBuf::with_capacity(READ_CHUNK),
        args: Vec::new(),
        spans: Vec::new(),
        parser: CommandParser::new(),
        pending: false,
        held_flags: 0,
        need: 0,
        cached: None,
        worker,
    };
    let _ = conn.run(&shared, &mut stream).await;
    // A client that leaves while blocked or watching leaves no trace.
    shared.store.blocking.cancel(entry.id);
    shared.store.watches.unwatch_all(&mut conn.client);
    shared.clients.unregister(entry.id);
    // The stream drops here, after the client left the registry, so that
    // a CLIENT KILL never shuts down a descriptor reused by someone else.
}

struct Conn<'s> {
    client: Client,
    /// Woken when a reply for the blocked client is left in its block slot.
    served: Arc<tokio::sync::Notify>,
    entry: Arc<ClientEntry>,
    out: ReplyBuf,
    /// The arguments of an inline request, which the parser unescapes into
    /// their own buffers (multibulk arguments are borrowed from the read
    /// buffer instead).
    args: Vec<Bytes>,
    /// Argument spans of the multibulk request being run.
    spans: Vec<(usize, usize)>,
    /// The request parser, which remembers how far an incomplete request
    /// was parsed.
    parser: CommandParser,
    /// `args` holds an inline request that a CLIENT PAUSE held back: it
    /// runs before anything else is parsed. (A held multibulk request
    /// simply stays unconsumed at the front of the read buffer.)
    pending: bool,
    /// The flags of the command a CLIENT PAUSE holds.
    held_flags: u64,
    /// How long the read buffer must get for the incomplete request at its
    /// front (0 when unknown).
    need: usize,
    /// The last top-level command resolved, kept across batches: a client
    /// mostly repeats one command, and this skips the table lookup.
    cached: Option<&'s Command>,
    /// Index of the worker thread, for its counters.
    worker: usize,
}

/// What a batch of requests ended with.
enum Step {
    /// Everything complete in the buffer ran: read more.
    Read,
    /// Close once the replies are written.
    Close,
    /// A request waits for the end of a CLIENT PAUSE.
    Paused,
    /// A command blocked the client on keys.
    Blocked,
}

impl<'s> Conn<'s> {
    async fn run(&mut self, shared: &'s Shared, stream: &mut TcpStream) -> std::io::Result<()> {
        let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
        let tstats = &shared.threads[self.worker.min(shared.threads.len().saturating_sub(1))];
        let mut read = true;
        // Whether the read buffer grew past its usual size for a big request.
        let mut rbuf_grew = false;
        loop {
            if read {
                // A big request or reply leaves big buffers behind: once
                // they are empty they go back (Redis trims query and reply
                // buffers too), so that one large request does not pin
                // megabytes on a connection for its lifetime.
                if rbuf.is_empty() && rbuf_grew {
                    rbuf = BytesMut::with_capacity(READ_CHUNK);
                    rbuf_grew = false;
                }
                self.trim_buffers();
                if rbuf.capacity() - rbuf.len() < READ_CHUNK / 2 {
                    rbuf.reserve(READ_CHUNK);
                }
                let n = stream.read_buf(&mut rbuf).await?;
                if n == 0 || self.entry.killed.load(Ordering::Relaxed) {
                    return Ok(());
                }
                rbuf_grew |= rbuf.len() > TRIM_ABOVE;
                tstats.reads.fetch_add(1, Ordering::Relaxed);
                tstats
                    .net_input_bytes
                    .fetch_add(n as u64, Ordering::Relaxed);
                self.entry.net_in.fetch_add(n as u64, Ordering::Relaxed);
            }
            // One clock read per batch: the last interaction time and the
            // start of the first command.
            let now_us = viator_store::clock::now_us();
            self.entry
                .last_interaction_ms
                .store(now_us / 1000, Ordering::Relaxed);
            let step = self.process(shared, &mut rbuf, now_us);
            // Under `appendfsync always`, the batch's writes reach the disk
            // before its replies leave (one cheap check otherwise).
            crate::aof::sync_before_reply(shared);
            if !self.out.is_empty() {
                let wrote = self.out.len();
                stream.write_all(self.out.buffer_mut()).await?;
                self.out.buffer_mut().clear();
                tstats.writes.fetch_add(1, Ordering::Relaxed);
                tstats
                    .net_output_bytes
                    .fetch_add(wrote as u64, Ordering::Relaxed);
                self.entry
                    .net_out
                    .fetch_add(wrote as u64, Ordering::Relaxed);
            }
            match step {
                Step::Close => return Ok(()),
                Step::Paused => {
                    self.wait_for_unpause(shared).await;
                    if self.entry.killed.load(Ordering::Relaxed) {
                        return Ok(());
                    }
                    // Run the held request and what follows it in the
                    // buffer before reading again.
                    read = false;
                    continue;
                }
                Step::Blocked => {
                    if !self.wait_blocked(shared, stream, &mut rbuf).await {
                        return Ok(());
                    }
                    // The reply joins the output; what was pipelined
                    // after the blocking command runs before reading.
                    read = false;
                    continue;
                }
                Step::Read => read = true,
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

    /// Gives back the reply buffer and the argument vectors when a big
    /// reply or request grew them and they are empty again.
    fn trim_buffers(&mut self) {
        if self.out.is_empty() && self.out.buffer_mut().capacity() > TRIM_ABOVE {
            *self.out.buffer_mut() = BytesMut::with_capacity(READ_CHUNK);
        }
        if self.spans.capacity() > TRIM_ABOVE / 16 {
            self.spans = Vec::new();
        }
        // (Not while they hold an inline request a pause holds back.)
        if !self.pending && self.args.capacity() > TRIM_ABOVE / 16 {
            self.args = Vec::new();
        }
    }

    /// Runs the complete multibulk requests at the front of `rbuf`, their
    /// arguments borrowed from it. Returns how many bytes they took, and
    /// how the batch ends: `None` when an inline request comes next.
    fn run_multibulk(
        &mut self,
        shared: &'s Shared,
        rbuf: &BytesMut,
        limits: &mut Limits,
        batch: &mut Batch<'s>,
        ran: &mut u64,
    ) -> (usize, Option<Step>) {
        let data: &[u8] = rbuf;
        let mut consumed = 0;
        loop {
            let rest = &data[consumed..];
            if rest.first().is_some_and(|&b| b != b'*') {
                return (consumed, None);
            }
            let end = match self.parser.scan(rest, limits, &mut self.spans) {
                Ok(Scanned::Command { end }) => end,
                Ok(Scanned::Skip { end }) => {
                    consumed += end;
                    continue;
                }
                Ok(Scanned::Inline) => return (consumed, None),
                Ok(Scanned::Incomplete { need }) => {
                    // A large bulk is on its way: room for it all at once.
                    self.need = need;
                    return (consumed, Some(Step::Read));
                }
                Err(e) => return (consumed, Some(self.protocol_error(shared, &e))),
            };
            // Up to 16 arguments on the stack; more in a vector.
            let mut stack: [&[u8]; 16] = [&[]; 16];
            let heap: Vec<&[u8]>;
            let argv: &[&[u8]] = if self.spans.len() <= stack.len() {
                for (slot, &(start, len)) in stack.iter_mut().zip(&self.spans) {
                    *slot = &rest[start..start + len];
                }
                &stack[..self.spans.len()]
            } else {
                heap = self
                    .spans
                    .iter()
                    .map(|&(start, len)| &rest[start..start + len])
                    .collect();
                &heap
            };
            let after = dispatch(
                shared,
                &mut self.client,
                &self.entry,
                argv,
                &mut self.out,
                batch,
            );
            limits.authenticated = self.client.user.is_some();
            match after {
                After::Continue => {
                    *ran += 1;
                    consumed += end;
                }
                After::Close => {
                    *ran += 1;
                    return (consumed + end, Some(Step::Close));
                }
                After::Blocked => {
                    *ran += 1;
                    return (consumed + end, Some(Step::Blocked));
                }
                // The held request stays in the buffer, unconsumed, and
                // runs when the pause lets it.
                After::Paused(flags) => {
                    self.held_flags = flags;
                    return (consumed, Some(Step::Paused));
                }
            }
        }
    }

    /// Replies to a protocol error and says to close, as Redis does.
    fn protocol_error(&mut self, shared: &Shared, e: &viator_protocol::ProtocolError) -> Step {
        e.write_reply(&mut self.out);
        shared.stats.count_errors(self.out.take_errors());
        crate::log::verbose(&format!(
            "Protocol error ({e}) from client: id={} addr={}",
            self.client.id, self.entry.addr
        ));
        Step::Close
    }

    /// Waits until the held request may run: the pause ended, changed so
    /// that it no longer holds this command, or the client was killed.
    /// The task sleeps; the thread serves other clients meanwhile.
    async fn wait_for_unpause(&mut self, shared: &Shared) {
        self.entry.postponed.store(true, Ordering::Relaxed);
        loop {
            let resumed = shared.pause.resumed.notified();
            tokio::pin!(resumed);
            // Registered before looking, so that a pause ending between the
            // look and the wait still wakes us.
            resumed.as_mut().enable();
            if self.entry.killed.load(Ordering::Relaxed) || !self.held(shared) {
                break;
            }
            let until = shared.pause.until_ms.load(Ordering::Acquire);
            let left = (until - viator_store::clock::now_ms()).max(0) as u64;
            tokio::select! {
                _ = resumed => {}
                _ = self.entry.wake.notified() => {}
                _ = tokio::time::sleep(std::time::Duration::from_millis(left)) => {
                    crate::cmds::client::end_pause_if_due(shared);
                }
            }
        }
        self.entry.postponed.store(false, Ordering::Relaxed);
    }

    /// Waits while the client is blocked on keys: until a command run for
    /// it leaves its reply, its timeout passes, CLIENT UNBLOCK, or it is
    /// killed or disconnects. Bytes the client sends meanwhile are read
    /// (so that a disconnection is seen) and run afterwards, as Redis
    /// does. Returns false when the connection must close.
    async fn wait_blocked(
        &mut self,
        shared: &Shared,
        stream: &mut TcpStream,
        rbuf: &mut BytesMut,
    ) -> bool {
        let id = self.client.id;
        let deadline = self.client.block_deadline;
        self.client.blocked = false;
        self.entry.blocked.store(true, Ordering::Relaxed);
        let Some(slot) = self.client.block_slot.clone() else {
            return true;
        };
        let mut open = true;
        let go_on = loop {
            if let Some(d) = slot.take() {
                // Served by another client's write on another thread: what
                // it propagated is on disk before this reply goes out too.
                crate::aof::sync_everything(shared);
                self.out.raw(&d.reply);
                shared.stats.count_errors(d.errors);
                break true;
            }
            if self.entry.killed.load(Ordering::Relaxed) || !open {
                shared.store.blocking.cancel(id);
                break false;
            }
            let now = viator_store::clock::now_ms();
            if deadline != 0 && now >= deadline {
                // Not in the registry any more means a command is being
                // run for the client: its reply is on the way.
                if let Some(w) = shared.store.blocking.cancel(id) {
                    // Every timed-out block replies a null array, BLMOVE's
                    // included (Redis's replyToBlockedClientTimedOut).
                    self.out.null_array();
                    if let Ok(cmd) = shared.store.commands().resolve(&w.args) {
                        cmd.stats.calls.fetch_add(1, Ordering::Relaxed);
                    }
                    break true;
                }
            }
            // XREADGROUP ... CLAIM asked to be run again when a pending
            // entry becomes idle enough: its keys are marked ready and
            // served here, in the queue's order, as a write would.
            let wake = slot.wake_at();
            if wake != 0 && now >= wake {
                slot.clear_wake_at();
                shared.store.blocking.wake(id);
                shared.store.serve_ready(shared);
                // Served, or blocked again with a later wake-up time; a
                // wake-up time already past waits a millisecond, so that
                // this loop never spins.
                let next = slot.wake_at();
                if next == 0 || next > now {
                    continue;
                }
            }
            let until = match (deadline, wake) {
                (0, 0) => 0,
                (d, 0) | (0, d) => d,
                (d, w) => d.min(w),
            };
            let left = if until == 0 {
                std::time::Duration::from_secs(3600)
            } else {
                std::time::Duration::from_millis((until - now).clamp(1, 3_600_000) as u64)
            };
            if rbuf.capacity() - rbuf.len() < READ_CHUNK / 2 {
                rbuf.reserve(READ_CHUNK);
            }
            tokio::select! {
                _ = self.served.notified() => {}
                _ = self.entry.wake.notified() => {}
                _ = tokio::time::sleep(left) => {}
                r = stream.read_buf(rbuf) => {
                    match r {
                        Ok(n) if n > 0 => {
                            self.entry.net_in.fetch_add(n as u64, Ordering::Relaxed);
                            let limit = shared.hot.client_query_buffer_limit.load(Ordering::Relaxed);
                            if rbuf.len() as u64 > limit {
                                open = false;
                            }
                        }
                        _ => open = false,
                    }
                }
            }
        };
        self.entry.blocked.store(false, Ordering::Relaxed);
        go_on
    }

    /// Whether the pause still holds the pending request.
    fn held(&self, shared: &Shared) -> bool {
        shared.pause.blocks(self.held_flags)
    }

    /// Runs the held request, if any, then every complete request in
    /// `rbuf`. Multibulk requests run with their arguments borrowed from
    /// the read buffer, which is consumed once per stretch of them: no
    /// copy and no reference count per argument.
    fn process(&mut self, shared: &'s Shared, rbuf: &mut BytesMut, now_us: i64) -> Step {
        let mut limits = Limits {
            max_bulk_len: shared.hot.proto_max_bulk_len.load(Ordering::Relaxed),
            authenticated: self.client.user.is_some(),
            ..Limits::default()
        };
        let queued = rbuf.len();
        self.entry.qbuf.store(queued, Ordering::Relaxed);
        self.entry
            .qbuf_cap
            .store(rbuf.capacity(), Ordering::Relaxed);
        // Only this task writes it: no read-modify-write needed.
        if queued > self.entry.qbuf_peak.load(Ordering::Relaxed) {
            self.entry.qbuf_peak.store(queued, Ordering::Relaxed);
        }
        let mut ran = 0u64;
        let mut batch = Batch::new(now_us, self.cached);
        let step = loop {
            // An inline request held by a pause, or met below.
            if self.pending || rbuf.first().is_some_and(|&b| b != b'*') {
                if !self.pending {
                    match self.parser.parse(rbuf, &limits, &mut self.args) {
                        Ok(Parsed::Command) => {}
                        Ok(Parsed::Incomplete { .. }) => break Step::Read,
                        Err(e) => break self.protocol_error(shared, &e),
                    }
                }
                self.pending = false;
                let argv: Vec<&[u8]> = self.args.iter().map(|a| &a[..]).collect();
                let after = dispatch(
                    shared,
                    &mut self.client,
                    &self.entry,
                    &argv,
                    &mut self.out,
                    &mut batch,
                );
                limits.authenticated = self.client.user.is_some();
                match after {
                    After::Continue => ran += 1,
                    After::Close => {
                        ran += 1;
                        break Step::Close;
                    }
                    After::Blocked => {
                        ran += 1;
                        break Step::Blocked;
                    }
                    After::Paused(flags) => {
                        self.pending = true;
                        self.held_flags = flags;
                        break Step::Paused;
                    }
                }
                continue;
            }
            let (consumed, stop) =
                self.run_multibulk(shared, rbuf, &mut limits, &mut batch, &mut ran);
            rbuf.advance(consumed);
            if self.need > rbuf.len() {
                rbuf.reserve(self.need - rbuf.len());
            }
            self.need = 0;
            match stop {
                Some(step) => break step,
                // Stopped at an inline request: go round again.
                None => continue,
            }
        };
        if !self.pending {
            self.args.clear();
        }
        self.cached = batch.cached;
        if ran > 0 || batch.last.is_some() {
            // One lock of the client's details per batch.
            let mut info = self.entry.info.lock();
            if let Some(last) = batch.last {
                record_last_cmd(&mut info, last);
            }
            if ran > 0 {
                info.db = self.client.db;
                info.resp = self.client.resp;
                info.tot_cmds += ran;
                info.multi = self.client.multi.as_ref().map_or(-1, |m| m.len as i64);
                info.watch = self.client.watched.len();
                info.obuf = self.out.buffer_mut().capacity();
            }
        }
        if ran > 0 {
            shared
                .stats
                .total_commands_processed
                .fetch_add(ran, Ordering::Relaxed);
        }
        self.entry.qbuf.store(rbuf.len(), Ordering::Relaxed);
        self.entry
            .qbuf_cap
            .store(rbuf.capacity(), Ordering::Relaxed);
        step
    }
}

#[cfg(test)]
mod tests {
    use super::protected_mode_refuses;

    #[test]
    fn protected_mode_lets_only_loopback_in_without_a_password() {
        let lo4 = "127.0.0.1".parse().unwrap();
        let lo6 = "::1".parse().unwrap();
        let mapped = "::ffff:127.0.0.1".parse().unwrap();
        let remote = "10.1.2.3".parse().unwrap();
        assert!(!protected_mode_refuses(true, false, lo4));
        assert!(!protected_mode_refuses(true, false, lo6));
        assert!(!protected_mode_refuses(true, false, mapped));
        assert!(protected_mode_refuses(true, false, remote));
        assert!(!protected_mode_refuses(true, true, remote));
        assert!(!protected_mode_refuses(false, false, remote));
    }
}
