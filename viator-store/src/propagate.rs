//! Command propagation: what a write sends to the AOF (and, later, to
//! replicas), as Redis's `alsoPropagate` and `propagatePendingCommands` do.
//!
//! A command that changed the dataset (it added to the store's dirty
//! counter) is propagated as it was called, unless its handler says
//! otherwise: [`Ctx::propagate`] replaces the verbatim form with commands
//! that replay deterministically (`EXPIRE` becomes `PEXPIREAT`, `SPOP`
//! becomes `SREM`, a served `BLPOP` becomes `LPOP` ...), and
//! [`Ctx::no_propagate`] propagates nothing.
//!
//! The commands of one execution unit (a top-level call; a transaction's
//! or a blocked client's commands included) are handed to the
//! [`PropagationSink`] together, wrapped in `MULTI`/`EXEC` when there are
//! several, as Redis does.
//!
//! Order. Two commands that touch the same key must reach the sink in the
//! order they ran. Shard locks order them while they run, so the unit is
//! fed while they are still held: a top-level write locks the shards of
//! its keys before its handler runs (the handler's own locks of the same
//! shards are reentrant) and keeps them until the unit is fed. Commands
//! that may lock more than their keys' shards (transactions, MOVE, COPY,
//! SORT, whole-database commands) lock every shard of every database
//! first, as EXEC does. A key or hash field deleted because its time was
//! up is fed at once, under the lock of its shard. A host that runs every
//! command on one thread says so (`Settings::commands_on_one_thread`), and
//! the locks are skipped: one thread orders everything already; there such
//! a deletion inside a command joins the command's unit, as in Redis.
//!
//! All of this costs one relaxed atomic load per command while nothing
//! listens.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::RwLock;

use crate::command::{Command, Ctx, flags};
use crate::store::Store;

/// One propagated command: the database it runs in and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Propagated {
    /// The database the command applies to (a `SELECT` precedes it when
    /// the sink's last database differs).
    pub db: usize,
    /// The command's arguments, name first.
    pub argv: Vec<Vec<u8>>,
}

/// Where propagated commands go: the server's AOF, replication.
pub trait PropagationSink: Send + Sync + fmt::Debug {
    /// Receives the commands of one execution unit, in order. `wrap` asks
    /// for them to be wrapped in `MULTI`/`EXEC` (there are several). It is
    /// called with the shard locks of the commands' keys held, so it must
    /// not lock shards itself; it should be quick.
    fn feed(&self, commands: &[Propagated], wrap: bool);
}

/// The store's propagation target: nothing, or one sink.
#[derive(Debug, Default)]
pub struct Propagation {
    active: AtomicBool,
    sink: RwLock<Option<Arc<dyn PropagationSink>>>,
}

impl Propagation {
    /// Whether a sink listens: when not, commands skip all of this.
    #[inline]
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// Sets (or, with `None`, removes) the sink. Set it while holding
    /// every shard lock (see [`Keyspace::lock_dbs`](crate::Keyspace::lock_dbs))
    /// when the sink must see exactly the writes after a point in time.
    pub fn set_sink(&self, sink: Option<Arc<dyn PropagationSink>>) {
        let mut slot = self.sink.write();
        self.active.store(sink.is_some(), Ordering::Relaxed);
        *slot = sink;
    }

    fn feed(&self, commands: &[Propagated], wrap: bool) {
        if commands.is_empty() {
            return;
        }
        if let Some(sink) = &*self.sink.read() {
            sink.feed(commands, wrap);
        }
    }
}

/// A sink that keeps what it is fed, for tests and tools that inspect
/// propagation. `MULTI`/`EXEC` wrapping is recorded as those commands.
#[derive(Debug, Default)]
pub struct RecordingSink {
    commands: parking_lot::Mutex<Vec<Propagated>>,
}

impl RecordingSink {
    /// Takes everything recorded so far.
    pub fn take(&self) -> Vec<Propagated> {
        std::mem::take(&mut *self.commands.lock())
    }
}

impl PropagationSink for RecordingSink {
    fn feed(&self, commands: &[Propagated], wrap: bool) {
        let mut log = self.commands.lock();
        let db = commands[0].db;
        if wrap {
            log.push(Propagated {
                db,
                argv: vec![b"MULTI".to_vec()],
            });
        }
        log.extend_from_slice(commands);
        if wrap {
            let db = commands[commands.len() - 1].db;
            log.push(Propagated {
                db,
                argv: vec![b"EXEC".to_vec()],
            });
        }
    }
}

/// How the command running in a frame propagates.
enum Mode {
    /// As called, if it changed something.
    Verbatim,
    /// As the commands its handler gave (pushed to the unit already).
    Replaced,
    /// Not at all.
    Prevented,
}

/// One call in progress on this thread.
struct Frame {
    dirty_at_start: u64,
    mode: Mode,
}

/// This thread's calls in progress and the unit's pending commands.
#[derive(Default)]
struct Unit {
    frames: Vec<Frame>,
    pending: Vec<Propagated>,
}

thread_local! {
    /// Set while [`suppressed`] runs: calls propagate nothing.
    static SUPPRESSED: Cell<bool> = const { Cell::new(false) };
    /// Changes made by commands on this thread: [`Store::add_dirty`] adds
    /// here too, so that a call knows whether it changed anything when
    /// other threads change things at the same time.
    static DIRTY: Cell<u64> = const { Cell::new(0) };
    static UNIT: RefCell<Unit> = RefCell::default();
}

/// Runs `f` with propagation off on this thread: the commands it runs
/// (an AOF being loaded by DEBUG LOADAOF) propagate nothing, as Redis's
/// loading does not.
pub fn suppressed<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SUPPRESSED.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SUPPRESSED.with(|s| s.replace(true)));
    f()
}

/// Whether this thread's calls propagate nothing now.
pub(crate) fn is_suppressed() -> bool {
    SUPPRESSED.with(Cell::get)
}

/// Counts `n` changes by the command running on this thread.
#[inline]
pub(crate) fn count_dirty(n: u64) {
    DIRTY.with(|d| d.set(d.get().wrapping_add(n)));
}

/// Starts a call; returns whether it starts an execution unit.
pub(crate) fn enter() -> bool {
    let dirty = DIRTY.with(Cell::get);
    UNIT.with(|u| {
        let mut u = u.borrow_mut();
        u.frames.push(Frame {
            dirty_at_start: dirty,
            mode: Mode::Verbatim,
        });
        u.frames.len() == 1
    })
}

/// Adds `command` to the unit open on this thread, if a call is in
/// progress; else gives it back.
fn join_open_unit(command: Propagated) -> Option<Propagated> {
    UNIT.with(|u| {
        let mut u = u.borrow_mut();
        if u.frames.is_empty() {
            Some(command)
        } else {
            u.pending.push(command);
            None
        }
    })
}

/// Forgets this thread's unit if a handler panics, so that the next
/// command on the thread starts a unit of its own.
pub(crate) struct UnwindGuard;

impl Drop for UnwindGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            UNIT.with(|u| *u.borrow_mut() = Unit::default());
        }
    }
}

/// Ends the current call: records its verbatim form if it changed
/// something and its handler did not choose otherwise. At the end of a
/// unit, returns the unit's commands.
pub(crate) fn leave(cmd: &Command, args: &[&[u8]], db: usize) -> Option<Vec<Propagated>> {
    let dirty = DIRTY.with(Cell::get);
    UNIT.with(|u| {
        let mut u = u.borrow_mut();
        let frame = u.frames.pop()?;
        // EXEC propagates the commands it ran, never itself.
        let verbatim = matches!(frame.mode, Mode::Verbatim)
            && dirty != frame.dirty_at_start
            && cmd.spec.name != "exec";
        if verbatim {
            u.pending.push(Propagated {
                db,
                argv: args.iter().map(|a| a.to_vec()).collect(),
            });
        }
        u.frames.is_empty().then(|| std::mem::take(&mut u.pending))
    })
}

/// Whether `cmd` may lock shards beyond those of its keys in the client's
/// database, so that the unit must lock everything first.
fn locks_widely(cmd: &Command, keys: usize) -> bool {
    keys == 0
        || cmd.spec.flags & flags::TOUCHES_ARBITRARY_KEYS != 0
        || matches!(cmd.spec.name, "exec" | "move" | "copy" | "sort" | "sort_ro")
}

impl Store {
    /// Locks what a unit starting with `cmd` needs held until it is fed
    /// (see the module docs): the views to keep until then, none for a
    /// command that cannot propagate.
    pub(crate) fn lock_unit<'a>(
        &'a self,
        cmd: &Command,
        args: &[&[u8]],
        db: usize,
        now_ms: i64,
    ) -> Vec<crate::Keyspace<'a>> {
        if cmd.spec.flags & (flags::WRITE | flags::MAY_REPLICATE) == 0 && cmd.spec.name != "exec" {
            return Vec::new();
        }
        // One thread runs every command: they reach the sink in the order
        // they ran with no lock at all.
        if self.settings.commands_on_one_thread.load(Ordering::Relaxed) {
            return Vec::new();
        }
        let keys = crate::commands::introspection::command_keys(cmd, args);
        if locks_widely(cmd, keys.len()) {
            let dbs: Vec<usize> = (0..self.db_count()).collect();
            return crate::Keyspace::lock_dbs(self, &dbs, now_ms);
        }
        let names: Vec<&[u8]> = keys
            .iter()
            .filter_map(|k| args.get(k.pos).copied())
            .collect();
        vec![crate::Keyspace::lock_keys(self, db, &names, now_ms)]
    }

    /// Hands a finished unit to the sink.
    pub(crate) fn feed_unit(&self, commands: &[Propagated]) {
        self.propagation.feed(commands, commands.len() > 1);
    }

    /// Propagates the deletion of a key whose time was up (Redis's
    /// `deleteExpiredKeyAndPropagate`): `UNLINK` with `lazyfree-lazy-expire`,
    /// else `DEL`. Called under the lock of the key's shard, so that it
    /// reaches the sink before any later write of that key.
    pub(crate) fn propagate_expired(&self, db: usize, key: &[u8]) {
        if !self.propagation.is_active() || is_suppressed() {
            return;
        }
        let name: &[u8] = if self.settings.lazyfree_lazy_expire.load(Ordering::Relaxed) {
            b"UNLINK"
        } else {
            b"DEL"
        };
        let del = Propagated {
            db,
            argv: vec![name.to_vec(), key.to_vec()],
        };
        self.feed_deletion(del);
    }

    /// Propagates the deletion of something whose time was up. Inside a
    /// command it joins the command's unit, before what the command
    /// propagates, so that a write over an expired key goes out as
    /// `MULTI`, `DEL`, the write, `EXEC` (Redis's `alsoPropagate` inside
    /// `call()`). That needs one thread running every command: with
    /// several, the unit is fed after this key's shard may have been let
    /// go (a read locks nothing for its unit), so the deletion is fed at
    /// once, under the shard's lock, to keep its order with other threads'
    /// writes of the key. Outside a command (active expiry) it is a unit
    /// of its own.
    fn feed_deletion(&self, deletion: Propagated) {
        let deletion = if self.settings.commands_on_one_thread.load(Ordering::Relaxed) {
            join_open_unit(deletion)
        } else {
            Some(deletion)
        };
        if let Some(deletion) = deletion {
            self.propagation
                .feed(std::slice::from_ref(&deletion), false);
        }
    }

    /// Propagates the deletion of a hash field whose time was up (Redis's
    /// `propagateHashFieldDeletion`): `HDEL key field`. Called under the
    /// lock of the key's shard, as [`Store::propagate_expired`], by the
    /// active expiry cycle and by commands that reclaim expired fields.
    pub(crate) fn propagate_field_expired(&self, db: usize, key: &[u8], field: &[u8]) {
        if !self.propagation.is_active() || is_suppressed() {
            return;
        }
        let hdel = Propagated {
            db,
            argv: vec![b"HDEL".to_vec(), key.to_vec(), field.to_vec()],
        };
        self.feed_deletion(hdel);
    }
}

impl Ctx<'_> {
    /// Whether what this command propagates matters (a sink listens):
    /// check it before building the arguments of [`Ctx::propagate`].
    #[inline]
    pub fn propagating(&self) -> bool {
        self.store.propagation.is_active() && !is_suppressed()
    }

    /// Redis's `checkAlreadyExpired`: whether an expire time of `at_ms` set
    /// now deletes the key at once. Never while loading, so that an AOF
    /// replays the key and the commands after it.
    pub fn already_expired(&self, at_ms: i64) -> bool {
        at_ms <= self.now_ms && !self.store.settings.loading.load(Ordering::Relaxed)
    }

    /// Propagates `argv` (in the client's current database) instead of
    /// the command as called; call it once per command to propagate, in
    /// order. Does nothing while no sink listens.
    pub fn propagate<A: AsRef<[u8]>>(&mut self, argv: &[A]) {
        if !self.propagating() {
            return;
        }
        let db = self.client.db;
        UNIT.with(|u| {
            let mut u = u.borrow_mut();
            if let Some(f) = u.frames.last_mut() {
                f.mode = Mode::Replaced;
            }
            u.pending.push(Propagated {
                db,
                argv: argv.iter().map(|a| a.as_ref().to_vec()).collect(),
            });
        });
    }

    /// Propagates nothing for this command, even if it changed something
    /// (unless [`Ctx::propagate`] is called after).
    pub fn no_propagate(&mut self) {
        if !self.propagating() {
            return;
        }
        UNIT.with(|u| {
            if let Some(f) = u.borrow_mut().frames.last_mut() {
                f.mode = Mode::Prevented;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Client, StoreOptions};
    use viator_protocol::ReplyBuf;

    fn recorded(cmds: &[&[&str]]) -> Vec<(usize, Vec<String>)> {
        let store = Store::new(StoreOptions::default());
        let sink = Arc::new(RecordingSink::default());
        store.propagation.set_sink(Some(sink.clone()));
        let mut client = Client::default();
        for c in cmds {
            let mut out = ReplyBuf::new();
            // SELECT is the server's: the store only keeps the number.
            if let ["SELECT", db] = c[..] {
                client.db = db.parse().unwrap();
                continue;
            }
            store.execute(&mut client, c, &mut out);
        }
        sink.take()
            .into_iter()
            .map(|p| {
                (
                    p.db,
                    p.argv
                        .iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect(),
                )
            })
            .collect()
    }

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn writes_propagate_and_reads_and_no_ops_do_not() {
        let got = recorded(&[
            &["SET", "k", "v"],
            &["GET", "k"],
            &["DEL", "missing"],
            &["SELECT", "3"],
            &["RPUSH", "l", "a"],
        ]);
        assert_eq!(
            got,
            vec![
                (0, argv(&["SET", "k", "v"])),
                (3, argv(&["RPUSH", "l", "a"]))
            ]
        );
    }

    #[test]
    fn a_transaction_is_wrapped_when_it_propagates_several_commands() {
        let got = recorded(&[
            &["MULTI"],
            &["SET", "a", "1"],
            &["GET", "a"],
            &["INCR", "a"],
            &["EXEC"],
            &["MULTI"],
            &["SET", "b", "1"],
            &["EXEC"],
        ]);
        assert_eq!(
            got,
            vec![
                (0, argv(&["MULTI"])),
                (0, argv(&["SET", "a", "1"])),
                (0, argv(&["INCR", "a"])),
                (0, argv(&["EXEC"])),
                (0, argv(&["SET", "b", "1"])),
            ]
        );
    }

    #[test]
    fn nothing_is_recorded_without_a_sink() {
        let store = Store::new(StoreOptions::default());
        let mut client = Client::default();
        let mut out = ReplyBuf::new();
        store.execute(&mut client, &["SET", "k", "v"], &mut out);
        assert!(!store.propagation.is_active());
        assert!(UNIT.with(|u| u.borrow().pending.is_empty()));
    }
}
