//! Blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK...).
//!
//! A blocking command that finds nothing to serve calls
//! [`Ctx::block_on_keys`] and writes no reply: the client is queued on each
//! of its keys. A write that may serve it calls [`Ctx::signal_ready`] (and
//! [`crate::Keyspace::set`] signals every key it creates or replaces), which
//! marks the key ready. When the outermost command ends, the store serves
//! the ready keys ([`Store::serve_ready`]): for each, while the key exists
//! with the type its waiters want, the longest-waiting client is taken off
//! the queues and its command is run again from the start, as Redis 7
//! re-processes a blocked command. If the command blocks again it joins the
//! queues' tails; otherwise its reply goes to the client's [`BlockSlot`] and
//! the client's connection is woken to send it.
//!
//! So a push inside MULTI/EXEC or a script wakes waiters after the whole
//! transaction, and the pusher's reply is written after the waiters were
//! served, as in Redis. Waiters are served in the order they blocked.
//!
//! The registry's lock is taken while shard locks are held (blocking and
//! signalling happen inside commands), and never the other way round:
//! serving releases it before locking shards, so there is no lock cycle.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use parking_lot::Mutex;
use viator_protocol::ReplyBuf;
use viator_types::entry::ValueType;

use crate::command::{Client, Ctx, Host};
use crate::store::Store;

/// The kind of value a blocked client waits for (Redis's `BLOCKED_LIST`,
/// `BLOCKED_ZSET`, `BLOCKED_STREAM`): a ready key wakes it only when the key
/// holds that type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockedOn {
    /// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.
    List,
    /// BZPOPMIN, BZPOPMAX, BZMPOP.
    ZSet,
    /// XREAD.
    Stream,
    /// XREADGROUP: also woken when the key is deleted or changes type
    /// (Redis's `unblock_on_nokey`), since its group is gone then, and
    /// by XGROUP DESTROY; the command, run again, replies the error.
    StreamGroup,
}

impl BlockedOn {
    /// Whether the key's current value (`None`: no key) may serve such a
    /// waiter, so that the command is worth running again.
    fn ready_for(self, t: Option<ValueType>) -> bool {
        matches!(
            (self, t),
            (BlockedOn::StreamGroup, _)
                | (BlockedOn::List, Some(ValueType::List))
                | (BlockedOn::ZSet, Some(ValueType::ZSet))
                | (BlockedOn::Stream, Some(ValueType::Stream))
        )
    }
}

/// What a blocking command replies at once where it cannot block (inside
/// MULTI or a script). A client that did block and timed out always gets a
/// null array, whatever the command (Redis's
/// `replyToBlockedClientTimedOut`): BLMOVE's `$-1` is only for the first
/// case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutReply {
    /// A null array (`*-1` in RESP2, `_` in RESP3): BLPOP, BLMPOP, BZPOPMIN...
    NullArray,
    /// A null bulk string (`$-1`, `_`): BLMOVE, BRPOPLPUSH.
    NullBulk,
}

impl TimeoutReply {
    /// Writes the reply.
    pub fn write(self, out: &mut ReplyBuf) {
        match self {
            TimeoutReply::NullArray => out.null_array(),
            TimeoutReply::NullBulk => out.null(),
        }
    }
}

/// Redis's error for a timeout that does not parse.
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
/// Redis's error for a negative timeout.
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
/// Redis's error for a timeout too far in the future.
pub const TIMEOUT_OUT_OF_RANGE: &str = "ERR timeout is out of range";
/// The reply of a client unblocked by `CLIENT UNBLOCK id ERROR`.
pub const UNBLOCKED_ERROR: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// Where a blocked client's reply is left for its connection, and how the
/// connection is woken. The server makes one per connection and puts it in
/// [`Client::block_slot`]; a client without one cannot block.
pub struct BlockSlot {
    reply: Mutex<Option<Delivered>>,
    waker: Box<dyn Fn() + Send + Sync>,
    /// When the blocked command should be run again even if no key is
    /// signalled (unix ms, 0: never): XREADGROUP's CLAIM, when a pending
    /// entry becomes idle enough to be claimed.
    wake_at_ms: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for BlockSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockSlot")
            .field("reply", &self.reply.lock().as_ref().map(|r| r.reply.len()))
            .finish()
    }
}

impl BlockSlot {
    /// A slot that calls `waker` when a reply is left in it.
    pub fn new(waker: impl Fn() + Send + Sync + 'static) -> BlockSlot {
        BlockSlot {
            reply: Mutex::new(None),
            waker: Box::new(waker),
            wake_at_ms: std::sync::atomic::AtomicI64::new(0),
        }
    }

    /// When the blocked command asked to be run again without a signal
    /// (unix ms, 0: never). The connection waiting on the slot does so
    /// with [`Blocking::wake`] and [`Store::serve_ready`].
    pub fn wake_at(&self) -> i64 {
        self.wake_at_ms.load(Ordering::Relaxed)
    }

    /// Clears [`BlockSlot::wake_at`] (the command is being run again).
    pub fn clear_wake_at(&self) {
        self.wake_at_ms.store(0, Ordering::Relaxed);
    }

    /// Takes the reply left for the client, if any.
    pub fn take(&self) -> Option<Delivered> {
        self.reply.lock().take()
    }

    fn deliver(&self, out: &mut ReplyBuf) {
        let errors = out.take_errors();
        *self.reply.lock() = Some(Delivered {
            reply: out.as_bytes().to_vec(),
            errors,
        });
        (self.waker)();
    }
}

/// What a blocked client is handed when it is served or unblocked.
#[derive(Debug)]
pub struct Delivered {
    /// The reply, as RESP for the client's protocol.
    pub reply: Vec<u8>,
    /// The error codes in it, for the error statistics.
    pub errors: Vec<String>,
}

/// A blocked client, as the registry keeps it.
#[derive(Debug)]
pub struct Waiter {
    /// The client as it was when it blocked (database, protocol, slot).
    pub client: Client,
    /// The command's arguments, name first.
    pub args: Vec<Vec<u8>>,
    /// The keys it waits on, in its database.
    pub keys: Vec<Vec<u8>>,
    /// What it waits for.
    pub on: BlockedOn,
    /// Deadline in unix milliseconds, 0 for none.
    pub deadline_ms: i64,
}

type KeyId = (usize, Vec<u8>);

#[derive(Debug, Default)]
struct Inner {
    /// Client ids waiting on each key, oldest first.
    queues: HashMap<KeyId, VecDeque<u64>>,
    waiters: HashMap<u64, Waiter>,
    /// Keys signalled since the last serving, in order, without repeats.
    ready: VecDeque<KeyId>,
    ready_set: HashSet<KeyId>,
}

impl Inner {
    fn remove(&mut self, id: u64) -> Option<Waiter> {
        let w = self.waiters.remove(&id)?;
        for k in &w.keys {
            let key = (w.client.db, k.clone());
            if let Some(q) = self.queues.get_mut(&key) {
                q.retain(|&c| c != id);
                if q.is_empty() {
                    self.queues.remove(&key);
                }
            }
        }
        Some(w)
    }
}

/// The registry of blocked clients. See the module docs.
#[derive(Debug, Default)]
pub struct Blocking {
    /// Number of blocked clients: signalling costs one load when zero.
    blocked: AtomicUsize,
    /// Set when a key was signalled and not served yet.
    pending: AtomicBool,
    inner: Mutex<Inner>,
}

thread_local! {
    /// Depth of nested command calls on this thread: waiters are served
    /// only when the outermost one ends (after EXEC, not after each of its
    /// commands).
    static DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Marks a command call on this thread for the duration of `f`; returns
/// whether it was the outermost one.
pub(crate) fn enter_call() -> bool {
    DEPTH.with(|d| {
        let v = d.get();
        d.set(v + 1);
        v == 0
    })
}

/// Ends what [`enter_call`] started.
pub(crate) fn leave_call() {
    DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
}

impl Blocking {
    /// Number of blocked clients (INFO's `blocked_clients`).
    pub fn blocked_clients(&self) -> usize {
        self.blocked.load(Ordering::Relaxed)
    }

    /// Number of keys with blocked clients (INFO's `total_blocking_keys`).
    pub fn blocking_keys(&self) -> usize {
        if self.blocked_clients() == 0 {
            return 0;
        }
        self.inner.lock().queues.len()
    }

    /// Number of keys with a client that also wants to hear of the key's
    /// deletion, an XREADGROUP (INFO's `total_blocking_keys_on_nokey`).
    pub fn blocking_keys_on_nokey(&self) -> usize {
        if self.blocked_clients() == 0 {
            return 0;
        }
        let inner = self.inner.lock();
        inner
            .queues
            .values()
            .filter(|q| {
                q.iter().any(|id| {
                    inner
                        .waiters
                        .get(id)
                        .is_some_and(|w| w.on == BlockedOn::StreamGroup)
                })
            })
            .count()
    }

    /// Number of blocked clients with a timeout (INFO's
    /// `clients_in_timeout_table`).
    pub fn clients_with_timeout(&self) -> usize {
        if self.blocked_clients() == 0 {
            return 0;
        }
        let inner = self.inner.lock();
        inner
            .waiters
            .values()
            .filter(|w| w.deadline_ms != 0)
            .count()
    }

    fn register(&self, w: Waiter) {
        let id = w.client.id;
        let mut inner = self.inner.lock();
        inner.remove(id);
        for k in &w.keys {
            let q = inner.queues.entry((w.client.db, k.clone())).or_default();
            if !q.contains(&id) {
                q.push_back(id);
            }
        }
        inner.waiters.insert(id, w);
        self.blocked.store(inner.waiters.len(), Ordering::Relaxed);
    }

    /// Takes client `id` off every queue (its timeout passed, it
    /// disconnected or was killed). Returns its record if it was blocked;
    /// `None` means it was not, or a command is being run for it right now
    /// and its reply is on the way.
    pub fn cancel(&self, id: u64) -> Option<Waiter> {
        if self.blocked_clients() == 0 {
            return None;
        }
        let mut inner = self.inner.lock();
        let w = inner.remove(id);
        self.blocked.store(inner.waiters.len(), Ordering::Relaxed);
        w
    }

    /// Marks every key client `id` waits on ready, so that the next
    /// [`Store::serve_ready`] runs its command again (its wake-up time
    /// came, see [`BlockSlot::wake_at`]).
    pub fn wake(&self, id: u64) {
        let mut inner = self.inner.lock();
        let Some(w) = inner.waiters.get(&id) else {
            return;
        };
        let keys: Vec<KeyId> = w.keys.iter().map(|k| (w.client.db, k.clone())).collect();
        for key in keys {
            if inner.ready_set.insert(key.clone()) {
                inner.ready.push_back(key);
            }
        }
        self.pending.store(true, Ordering::Release);
    }

    /// Marks `key` of database `db` ready if anyone waits on it.
    pub fn signal(&self, db: usize, key: &[u8]) {
        if self.blocked_clients() == 0 {
            return;
        }
        let mut inner = self.inner.lock();
        let id = (db, key.to_vec());
        if inner.queues.contains_key(&id) && inner.ready_set.insert(id.clone()) {
            inner.ready.push_back(id);
            self.pending.store(true, Ordering::Release);
        }
    }

    /// Marks every key of database `db` that has waiters ready (SWAPDB,
    /// which changes what every key holds).
    pub fn signal_db(&self, db: usize) {
        if self.blocked_clients() == 0 {
            return;
        }
        let mut inner = self.inner.lock();
        let keys: Vec<KeyId> = inner.queues.keys().filter(|k| k.0 == db).cloned().collect();
        for id in keys {
            if inner.ready_set.insert(id.clone()) {
                inner.ready.push_back(id);
                self.pending.store(true, Ordering::Release);
            }
        }
    }

    /// Whether some signalled key waits to be served.
    pub fn has_ready(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// The next signalled key and the clients waiting on it, oldest first.
    fn pop_ready(&self) -> Option<(KeyId, Vec<u64>)> {
        let mut inner = self.inner.lock();
        loop {
            let Some(id) = inner.ready.pop_front() else {
                self.pending.store(false, Ordering::Release);
                return None;
            };
            inner.ready_set.remove(&id);
            if let Some(q) = inner.queues.get(&id) {
                let waiting = q.iter().copied().collect();
                return Some((id, waiting));
            }
        }
    }

    /// What client `id` waits for, if it still waits on `key`.
    fn waits_on(&self, id: u64, key: &KeyId) -> Option<BlockedOn> {
        let inner = self.inner.lock();
        let w = inner.waiters.get(&id)?;
        (w.client.db == key.0 && w.keys.contains(&key.1)).then_some(w.on)
    }
}

impl Store {
    /// CLIENT UNBLOCK: unblocks client `id` with the reply of a timeout (a
    /// null array), or with the UNBLOCKED error when `error`, and counts the
    /// blocked command's call then, as Redis does. Returns whether the
    /// client was blocked.
    pub fn unblock_client(&self, id: u64, error: bool) -> bool {
        let Some(w) = self.blocking.cancel(id) else {
            return false;
        };
        let mut out = ReplyBuf::new();
        out.set_resp3(w.client.resp == 3);
        if error {
            out.error(UNBLOCKED_ERROR);
        } else {
            out.null_array();
        }
        if let Ok(cmd) = self.commands().resolve(&w.args) {
            cmd.stats.calls.fetch_add(1, Ordering::Relaxed);
            if error {
                cmd.stats.failed_calls.fetch_add(1, Ordering::Relaxed);
            }
        }
        if let Some(slot) = &w.client.block_slot {
            slot.deliver(&mut out);
        }
        true
    }

    /// Serves the clients blocked on the keys signalled ready, in the order
    /// the keys were signalled and, per key, the order the clients blocked.
    /// Commands run for them may signal more keys (BLMOVE pushes), which
    /// are served in the same pass.
    pub fn serve_ready(&self, host: &dyn Host) {
        while let Some((key, waiting)) = self.blocking.pop_ready() {
            let (db, name) = (key.0, key.1.as_slice());
            // Every client that waited when the key was taken, in order;
            // one that blocks again goes to the back and waits for the next
            // signal, as in Redis's handleClientsBlockedOnKey.
            for id in waiting {
                let Some(on) = self.blocking.waits_on(id, &key) else {
                    continue;
                };
                let now_ms = crate::clock::now_ms();
                let ready = {
                    let ks = crate::Keyspace::lock_keys(self, db, &[name], now_ms);
                    on.ready_for(ks.peek(name).map(|e| e.value_type()))
                };
                if !ready {
                    continue;
                }
                let Some(w) = self.blocking.cancel(id) else {
                    continue;
                };
                self.rerun(host, w);
            }
        }
    }

    /// Runs a blocked client's command again; delivers its reply unless it
    /// blocked again.
    fn rerun(&self, host: &dyn Host, w: Waiter) {
        let Waiter {
            mut client,
            args,
            deadline_ms,
            ..
        } = w;
        client.reblock_deadline = Some(deadline_ms);
        client.blocked = false;
        let mut out = ReplyBuf::new();
        out.set_resp3(client.resp == 3);
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        if let Ok(cmd) = self.commands().resolve(&argv) {
            // Not an outermost call: keys it signals (BLMOVE's destination)
            // join the ready list that `serve_ready` is draining, in order,
            // instead of being served from inside this one.
            enter_call();
            self.call(cmd, host, &mut client, &argv, &mut out);
            leave_call();
        }
        if !client.blocked
            && let Some(slot) = &client.block_slot
        {
            slot.deliver(&mut out);
        }
    }
}

impl Ctx<'_> {
    /// Argument `i` as a blocking timeout in seconds (fractions allowed),
    /// as Redis's `getTimeoutFromObjectOrReply`: the deadline in unix
    /// milliseconds, or 0 to block forever. On a bad value the error is
    /// written and `None` returned.
    pub fn timeout_arg(&mut self, i: usize) -> Option<i64> {
        let parsed = viator_types::number::LongDouble::parse(self.arg(i));
        let Some(secs) = parsed.map(|v| v.to_f64()) else {
            self.out.error(TIMEOUT_NOT_FLOAT);
            return None;
        };
        let ms = (secs * 1000.0).ceil();
        if ms > i64::MAX as f64 {
            self.out.error(TIMEOUT_OUT_OF_RANGE);
            return None;
        }
        self.deadline_from_ms(ms as i64)
    }

    /// A timeout in milliseconds (XREAD's BLOCK) turned into a deadline as
    /// [`Ctx::timeout_arg`] does, with Redis's errors.
    pub fn deadline_from_ms(&mut self, ms: i64) -> Option<i64> {
        if ms < 0 {
            self.out.error(TIMEOUT_NEGATIVE);
            return None;
        }
        if ms == 0 {
            return Some(0);
        }
        match ms.checked_add(self.now_ms) {
            Some(d) => Some(d),
            None => {
                self.out.error(TIMEOUT_OUT_OF_RANGE);
                None
            }
        }
    }

    /// Blocks the client on `keys` until one of them holds a value of kind
    /// `on` and the command, run again, can serve it, or until `deadline_ms`
    /// (0: never), when `timeout_reply` is sent. The command must write no
    /// reply of its own after calling this. Where the client cannot block
    /// (inside MULTI or a script, or a store run without a server), the
    /// timeout reply is written at once, as Redis does. A command run again
    /// for a blocked client keeps its first deadline.
    pub fn block_on_keys(
        &mut self,
        keys: &[&[u8]],
        on: BlockedOn,
        deadline_ms: i64,
        timeout_reply: TimeoutReply,
    ) {
        let args = self.args.iter().map(|a| a.to_vec()).collect();
        self.block_on_keys_as(keys, on, deadline_ms, timeout_reply, args);
    }

    /// [`Ctx::block_on_keys`], but the command run again when a key is
    /// ready is `args` rather than the one given: XREAD replaces `$` by the
    /// stream's last ID at the time it blocked, so that entries added
    /// meanwhile are not missed (Redis rewrites the blocked client's argv
    /// the same way).
    pub fn block_on_keys_as(
        &mut self,
        keys: &[&[u8]],
        on: BlockedOn,
        deadline_ms: i64,
        timeout_reply: TimeoutReply,
        args: Vec<Vec<u8>>,
    ) {
        if self.client.no_block || self.client.block_slot.is_none() {
            timeout_reply.write(self.out);
            return;
        }
        let deadline_ms = self.client.reblock_deadline.unwrap_or(deadline_ms);
        let mut uniq: Vec<Vec<u8>> = Vec::with_capacity(keys.len());
        for k in keys {
            if !uniq.iter().any(|u| u == k) {
                uniq.push(k.to_vec());
            }
        }
        let mut client = self.client.clone();
        client.reblock_deadline = None;
        client.blocked = false;
        if let Some(slot) = &self.client.block_slot {
            slot.clear_wake_at();
        }
        self.store.blocking.register(Waiter {
            client,
            args,
            keys: uniq,
            on,
            deadline_ms,
        });
        self.client.blocked = true;
        self.client.block_deadline = deadline_ms;
    }

    /// For a command that just blocked: run it again at `at_ms` (unix ms)
    /// even if no key is signalled by then.
    pub fn wake_blocked_at(&self, at_ms: i64) {
        if self.client.blocked
            && let Some(slot) = &self.client.block_slot
        {
            slot.wake_at_ms.store(at_ms.max(1), Ordering::Relaxed);
        }
    }

    /// Tells blocked clients that `key` (in the client's database) may now
    /// serve them: call it after adding to a list, sorted set or stream.
    /// Cheap when nobody is blocked.
    pub fn signal_ready(&self, key: &[u8]) {
        self.store.blocking.signal(self.client.db, key);
    }
}
