//! The command table: one declarative entry per command, which resolves
//! names, checks arity, and feeds COMMAND INFO/DOCS/GETKEYS, ACL categories
//! and (later) cluster slot checks.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use viator_protocol::ReplyBuf;

use crate::store::Store;

/// Command flags, as COMMAND INFO lists them.
pub mod flags {
    /// May modify the keyspace.
    pub const WRITE: u64 = 1 << 0;
    /// Only reads.
    pub const READONLY: u64 = 1 << 1;
    /// May grow memory use: refused when over maxmemory.
    pub const DENYOOM: u64 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u64 = 1 << 3;
    /// Pub/sub.
    pub const PUBSUB: u64 = 1 << 4;
    /// Not allowed from scripts.
    pub const NOSCRIPT: u64 = 1 << 5;
    /// May block the client.
    pub const BLOCKING: u64 = 1 << 6;
    /// Allowed while loading the dataset.
    pub const LOADING: u64 = 1 << 7;
    /// Allowed on a replica with stale data.
    pub const STALE: u64 = 1 << 8;
    /// Not shown to MONITOR.
    pub const SKIP_MONITOR: u64 = 1 << 9;
    /// Not logged in the slow log.
    pub const SKIP_SLOWLOG: u64 = 1 << 10;
    /// O(1) or O(log N).
    pub const FAST: u64 = 1 << 11;
    /// Allowed before authentication.
    pub const NO_AUTH: u64 = 1 << 12;
    /// May replicate even if it is not a write.
    pub const MAY_REPLICATE: u64 = 1 << 13;
    /// Not allowed inside MULTI.
    pub const NO_MULTI: u64 = 1 << 14;
    /// Keys cannot be found from the key specs alone.
    pub const MOVABLE_KEYS: u64 = 1 << 15;
    /// Allowed while a script is busy.
    pub const ALLOW_BUSY: u64 = 1 << 16;
    /// Not allowed while a replica loads its dataset in the background.
    pub const NO_ASYNC_LOADING: u64 = 1 << 17;
    /// Key arguments are optional.
    pub const NO_MANDATORY_KEYS: u64 = 1 << 18;
    /// Runs in Sentinel mode.
    pub const SENTINEL: u64 = 1 << 19;
    /// Runs only in Sentinel mode.
    pub const ONLY_SENTINEL: u64 = 1 << 20;
    /// Protected by `enable-*-command` (DEBUG, MODULE).
    pub const PROTECTED: u64 = 1 << 21;
    /// May touch keys not named in its arguments.
    pub const TOUCHES_ARBITRARY_KEYS: u64 = 1 << 22;
    /// Allowed on a cluster node that is importing the slot when the client
    /// sent ASKING (RESTORE-ASKING).
    pub const ASKING: u64 = 1 << 23;

    /// Names in COMMAND INFO order.
    pub const NAMES: &[(u64, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (SENTINEL, "sentinel"),
        (ONLY_SENTINEL, "only_sentinel"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (PROTECTED, "protected"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
        (TOUCHES_ARBITRARY_KEYS, "touches_arbitrary_keys"),
    ];
}

/// ACL categories, as COMMAND INFO and ACL CAT list them.
pub mod acl {
    /// `@keyspace`
    pub const KEYSPACE: u64 = 1 << 0;
    /// `@read`
    pub const READ: u64 = 1 << 1;
    /// `@write`
    pub const WRITE: u64 = 1 << 2;
    /// `@set`
    pub const SET: u64 = 1 << 3;
    /// `@sortedset`
    pub const SORTEDSET: u64 = 1 << 4;
    /// `@list`
    pub const LIST: u64 = 1 << 5;
    /// `@hash`
    pub const HASH: u64 = 1 << 6;
    /// `@string`
    pub const STRING: u64 = 1 << 7;
    /// `@bitmap`
    pub const BITMAP: u64 = 1 << 8;
    /// `@hyperloglog`
    pub const HYPERLOGLOG: u64 = 1 << 9;
    /// `@geo`
    pub const GEO: u64 = 1 << 10;
    /// `@stream`
    pub const STREAM: u64 = 1 << 11;
    /// `@pubsub`
    pub const PUBSUB: u64 = 1 << 12;
    /// `@admin`
    pub const ADMIN: u64 = 1 << 13;
    /// `@fast`
    pub const FAST: u64 = 1 << 14;
    /// `@slow`
    pub const SLOW: u64 = 1 << 15;
    /// `@blocking`
    pub const BLOCKING: u64 = 1 << 16;
    /// `@dangerous`
    pub const DANGEROUS: u64 = 1 << 17;
    /// `@connection`
    pub const CONNECTION: u64 = 1 << 18;
    /// `@transaction`
    pub const TRANSACTION: u64 = 1 << 19;
    /// `@scripting`
    pub const SCRIPTING: u64 = 1 << 20;

    /// Names in Redis's order.
    pub const NAMES: &[(u64, &str)] = &[
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];
}

/// Where a key spec starts looking for keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At a fixed argument index.
    Index(i32),
    /// After a keyword, searched from `startfrom` (negative: from the end).
    Keyword {
        /// The keyword.
        keyword: &'static str,
        /// Where the search starts.
        startfrom: i32,
    },
    /// Keys cannot be found from the arguments' positions.
    Unknown,
}

/// How a key spec finds keys once it has started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys from the start up to `lastkey` (relative; -1 = last argument),
    /// every `keystep`, at most `1/limit` of the remaining arguments when
    /// `limit` is set.
    Range {
        /// Index of the last key, relative to the start.
        lastkey: i32,
        /// Step between keys.
        keystep: i32,
        /// Limit divisor, 0 for none.
        limit: i32,
    },
    /// The number of keys is an argument.
    Keynum {
        /// Index of the count, relative to the start.
        keynumidx: i32,
        /// Index of the first key, relative to the start.
        firstkey: i32,
        /// Step between keys.
        keystep: i32,
    },
    /// Keys cannot be found from the arguments' positions.
    Unknown,
}

/// One key spec (Redis 7 key specifications), as COMMAND INFO shows it.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// Access flags: RO, RW, OW, RM, ACCESS, UPDATE, INSERT, DELETE,
    /// NOT_KEY, INCOMPLETE, VARIABLE_FLAGS.
    pub flags: &'static [&'static str],
    /// Where the search starts.
    pub begin: BeginSearch,
    /// How keys are found.
    pub find: FindKeys,
    /// Free-form notes.
    pub notes: &'static str,
}

impl KeySpec {
    /// One key at argument `index`.
    pub const fn single(index: i32, flags: &'static [&'static str]) -> KeySpec {
        KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }
    }

    /// Keys from argument `index` to the end (`lastkey` -1), every `step`.
    pub const fn range(
        index: i32,
        lastkey: i32,
        step: i32,
        flags: &'static [&'static str],
    ) -> KeySpec {
        KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Range {
                lastkey,
                keystep: step,
                limit: 0,
            },
            notes: "",
        }
    }
}

/// A command implementation. It reads `ctx.args`, locks what it touches
/// through `ctx`, and writes exactly one reply into `ctx.out`.
pub type Handler = fn(&mut Ctx<'_>);

/// One entry of the command table.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name; for subcommands, the subcommand alone.
    pub name: &'static str,
    /// Redis arity: N means exactly N arguments with the name, -N at least N.
    pub arity: i32,
    /// [`flags`] bits.
    pub flags: u64,
    /// [`acl`] category bits, besides those implied by the flags.
    pub acl: u64,
    /// Key specs.
    pub keys: &'static [KeySpec],
    /// Group shown by COMMAND DOCS: string, generic, connection, server...
    pub group: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Redis version that added the command.
    pub since: &'static str,
    /// Time complexity.
    pub complexity: &'static str,
    /// Arguments in the docs syntax (see `docs`), empty for none.
    pub args: &'static str,
    /// Command tips (`nondeterministic_output`, `request_policy:all_shards`...).
    pub tips: &'static [&'static str],
    /// Doc flags: `deprecated`, `syscmd`.
    pub doc_flags: &'static [&'static str],
    /// Version that deprecated it, empty if not.
    pub deprecated_since: &'static str,
    /// What replaces it, if deprecated.
    pub replaced_by: &'static str,
    /// History: (version, change).
    pub history: &'static [(&'static str, &'static str)],
    /// The implementation; `None` for container commands (CONFIG, CLIENT...)
    /// that dispatch to subcommands, and for commands a higher crate binds
    /// with [`CommandTable::bind`].
    pub handler: Option<Handler>,
    /// Subcommands, for containers.
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// A blank entry for struct-update syntax in the command lists.
    pub const DEFAULT: CommandSpec = CommandSpec {
        name: "",
        arity: 0,
        flags: 0,
        acl: 0,
        keys: &[],
        group: "",
        summary: "",
        since: "1.0.0",
        complexity: "",
        args: "",
        tips: &[],
        doc_flags: &[],
        deprecated_since: "",
        replaced_by: "",
        history: &[],
        handler: None,
        subcommands: &[],
    };

    /// ACL categories: the declared ones plus those Redis derives from the
    /// flags (`setImplicitACLCategories`): write gives @write, readonly
    /// @read (except for @scripting commands), admin @admin and
    /// @dangerous, pubsub @pubsub, fast @fast, blocking @blocking, and
    /// whatever is not @fast is @slow.
    pub fn acl_categories(&self) -> u64 {
        let mut c = self.acl;
        if self.flags & flags::WRITE != 0 {
            c |= acl::WRITE;
        }
        if self.flags & flags::READONLY != 0 && self.acl & acl::SCRIPTING == 0 {
            c |= acl::READ;
        }
        if self.flags & flags::ADMIN != 0 {
            c |= acl::ADMIN | acl::DANGEROUS;
        }
        if self.flags & flags::PUBSUB != 0 {
            c |= acl::PUBSUB;
        }
        if self.flags & flags::FAST != 0 {
            c |= acl::FAST;
        }
        if self.flags & flags::BLOCKING != 0 {
            c |= acl::BLOCKING;
        }
        if c & acl::FAST == 0 {
            c |= acl::SLOW;
        }
        c
    }

    /// Whether `argc` arguments (with the name) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a >= 0 && argc == a as usize) || (a < 0 && argc >= a.unsigned_abs() as usize)
    }

    /// The legacy (first, last, step) key range COMMAND INFO shows, derived
    /// from the key specs as Redis's `populateCommandLegacyRangeSpec` does;
    /// `(0, 0, 0)` when the specs give none.
    pub fn legacy_range(&self) -> (i32, i32, i32) {
        match self.legacy_key_spec().0 {
            Some((pos, lastkey, keystep)) => {
                let last = if lastkey >= 0 { lastkey + pos } else { lastkey };
                (pos, last, keystep)
            }
            None => (0, 0, 0),
        }
    }

    /// Whether the keys cannot all be found from the legacy range: the
    /// `movablekeys` flag Redis derives from the key specs.
    pub fn movable_keys(&self) -> bool {
        self.legacy_key_spec().1
    }

    /// The flags with `movablekeys` derived from the key specs, as COMMAND
    /// INFO shows them.
    pub fn effective_flags(&self) -> u64 {
        if self.movable_keys() {
            self.flags | flags::MOVABLE_KEYS
        } else {
            self.flags
        }
    }

    /// Redis's `populateCommandLegacyRangeSpec`: the legacy range as an
    /// index/range spec `(index, lastkey relative to index, keystep)`, if
    /// there is one, and whether the command has movable keys.
    ///
    /// One index/range spec is the range as it is (its step included).
    /// Otherwise the plain (step 1) index/range specs that follow one
    /// another are glued; any other spec, or an incomplete one, makes the
    /// keys movable.
    fn legacy_key_spec(&self) -> (Option<(i32, i32, i32)>, bool) {
        let incomplete = |ks: &KeySpec| {
            ks.flags
                .iter()
                .any(|f| f.eq_ignore_ascii_case("INCOMPLETE"))
        };
        if self.keys.is_empty() {
            return (None, false);
        }
        if let [ks] = self.keys
            && let (
                BeginSearch::Index(pos),
                FindKeys::Range {
                    lastkey, keystep, ..
                },
            ) = (ks.begin, ks.find)
        {
            return (Some((pos, lastkey, keystep)), incomplete(ks));
        }
        let mut movable = false;
        let mut firstkey = i32::MAX;
        let mut lastkey: i32 = 0;
        let mut prev_lastkey: i32 = 0;
        for ks in self.keys {
            let (
                BeginSearch::Index(pos),
                FindKeys::Range {
                    lastkey: rel_last,
                    keystep,
                    ..
                },
            ) = (ks.begin, ks.find)
            else {
                movable = true;
                continue;
            };
            if keystep != 1 || (prev_lastkey != 0 && prev_lastkey != pos.wrapping_sub(1)) {
                movable = true;
                continue;
            }
            if incomplete(ks) {
                movable = true;
            }
            firstkey = firstkey.min(pos);
            let abs_last = if rel_last >= 0 {
                rel_last.wrapping_add(pos)
            } else {
                rel_last
            };
            // Redis compares as unsigned so that a negative (from the end)
            // last key wins over any positive one.
            lastkey = (lastkey as u32).max(abs_last as u32) as i32;
            prev_lastkey = lastkey;
        }
        if firstkey == i32::MAX {
            return (None, true);
        }
        let rel = if lastkey < 0 {
            lastkey
        } else {
            lastkey - firstkey
        };
        (Some((firstkey, rel, 1)), movable)
    }
}

/// Per-command counters for INFO commandstats.
#[derive(Debug, Default)]
pub struct CommandStats {
    /// Calls that ran.
    pub calls: AtomicU64,
    /// Microseconds spent.
    pub usec: AtomicU64,
    /// Calls refused before running (arity, ACL, OOM...).
    pub rejected_calls: AtomicU64,
    /// Calls that ran and replied with an error.
    pub failed_calls: AtomicU64,
    /// Durations of the calls, for INFO latencystats.
    pub latency: crate::latency::Histogram,
}

impl CommandStats {
    fn reset(&self) {
        for c in [
            &self.calls,
            &self.usec,
            &self.rejected_calls,
            &self.failed_calls,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.latency.reset();
    }
}

/// A resolved command: its spec, its full name (`config|get`) and its
/// counters.
#[derive(Debug)]
pub struct Command {
    /// The table entry.
    pub spec: CommandSpec,
    /// Full name: `get`, or `config|get` for a subcommand.
    pub full_name: std::sync::Arc<str>,
    /// Counters.
    pub stats: CommandStats,
    /// Subcommands, by lower-case name.
    pub subs: ahash::HashMap<&'static str, Box<Command>>,
    /// Bound implementation (the spec's, or one a higher crate bound).
    pub handler: Option<Handler>,
}

impl Command {
    fn new(spec: CommandSpec, parent: Option<&str>) -> Command {
        let full_name: std::sync::Arc<str> = match parent {
            Some(p) => format!("{p}|{}", spec.name).into(),
            None => spec.name.into(),
        };
        let subs = spec
            .subcommands
            .iter()
            .map(|s| (s.name, Box::new(Command::new(*s, Some(spec.name)))))
            .collect();
        Command {
            handler: spec.handler,
            spec,
            full_name,
            stats: CommandStats::default(),
            subs,
        }
    }

    /// Subcommands sorted by name.
    pub fn sorted_subs(&self) -> Vec<&Command> {
        let mut v: Vec<&Command> = self.subs.values().map(|b| &**b).collect();
        v.sort_by_key(|c| c.spec.name);
        v
    }
}

/// Why a command could not be resolved; each renders as Redis's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// No such command.
    Unknown,
    /// The container has no such subcommand.
    UnknownSub,
    /// Wrong number of arguments.
    Arity,
}

/// Looks `name` up in a map keyed by lower-case names, folding its case on
/// the stack: no allocation on the command path. Names longer than any
/// command are simply not found.
fn lookup_lowercase<'a>(
    map: &'a ahash::HashMap<&'static str, Box<Command>>,
    name: &[u8],
) -> Option<&'a Command> {
    let mut buf = [0u8; 64];
    let lower = buf.get_mut(..name.len())?;
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let s = std::str::from_utf8(lower).ok()?;
    map.get(s).map(|b| &**b)
}

/// All commands, by lower-case name.
#[derive(Debug)]
pub struct CommandTable {
    commands: ahash::HashMap<&'static str, Box<Command>>,
}

impl CommandTable {
    /// The commands of this crate's families.
    pub fn builtin() -> CommandTable {
        let mut t = CommandTable {
            commands: ahash::HashMap::default(),
        };
        for spec in crate::commands::all() {
            t.add(*spec);
        }
        t
    }

    /// Adds (or replaces) a command.
    pub fn add(&mut self, spec: CommandSpec) {
        self.commands
            .insert(spec.name, Box::new(Command::new(spec, None)));
    }

    /// Binds an implementation to a command or subcommand declared without
    /// one (`"config|get"` for a subcommand). Returns false if there is no
    /// such entry.
    pub fn bind(&mut self, full_name: &str, handler: Handler) -> bool {
        let mut parts = full_name.splitn(2, '|');
        let top = parts.next().unwrap_or("");
        let Some(cmd) = self.commands.get_mut(top) else {
            return false;
        };
        match parts.next() {
            None => {
                cmd.handler = Some(handler);
                true
            }
            Some(sub) => match cmd.subs.get_mut(sub) {
                Some(s) => {
                    s.handler = Some(handler);
                    true
                }
                None => false,
            },
        }
    }

    /// A top-level command by name, any case.
    pub fn get(&self, name: &[u8]) -> Option<&Command> {
        lookup_lowercase(&self.commands, name)
    }

    /// A command or `container|sub` by full name.
    pub fn get_full(&self, full_name: &str) -> Option<&Command> {
        let lower = full_name.to_ascii_lowercase();
        let mut parts = lower.splitn(2, '|');
        let top = self.commands.get(parts.next()?)?;
        match parts.next() {
            None => Some(top),
            Some(sub) => top.subs.get(sub).map(|b| &**b),
        }
    }

    /// Resolves the command of a request, with subcommands and arity.
    pub fn resolve<A: AsRef<[u8]>>(
        &self,
        args: &[A],
    ) -> Result<&Command, (LookupError, Option<&Command>)> {
        let Some(name) = args.first() else {
            return Err((LookupError::Unknown, None));
        };
        let Some(cmd) = self.get(name.as_ref()) else {
            return Err((LookupError::Unknown, None));
        };
        // A container called alone is the container itself (COMMAND runs
        // bare; CONFIG fails its arity), as Redis's `lookupCommand` does.
        let cmd = if cmd.subs.is_empty() || args.len() == 1 {
            cmd
        } else {
            let Some(sub) = args.get(1) else {
                return Err((LookupError::Arity, Some(cmd)));
            };
            match lookup_lowercase(&cmd.subs, sub.as_ref()) {
                Some(s) => s,
                None => return Err((LookupError::UnknownSub, Some(cmd))),
            }
        };
        if !cmd.spec.arity_ok(args.len()) {
            return Err((LookupError::Arity, Some(cmd)));
        }
        Ok(cmd)
    }

    /// Every top-level command.
    pub fn iter(&self) -> impl Iterator<Item = &Command> {
        self.commands.values().map(|b| &**b)
    }

    /// Number of top-level commands.
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// Zeroes every command's counters (CONFIG RESETSTAT).
    pub fn reset_stats(&self) {
        for c in self.iter() {
            c.stats.reset();
            for s in c.subs.values() {
                s.stats.reset();
            }
        }
    }
}

/// Client state that commands read and change.
#[derive(Debug, Clone)]
pub struct Client {
    /// CLIENT ID.
    pub id: u64,
    /// Selected database.
    pub db: usize,
    /// Protocol version: 2 or 3.
    pub resp: u8,
    /// CLIENT SETNAME.
    pub name: Option<Bytes>,
    /// CLIENT SETINFO LIB-NAME.
    pub lib_name: Option<Bytes>,
    /// CLIENT SETINFO LIB-VER.
    pub lib_ver: Option<Bytes>,
    /// CLIENT NO-TOUCH.
    pub no_touch: bool,
    /// CLIENT NO-EVICT.
    pub no_evict: bool,
    /// Authenticated user name, `None` before authentication.
    pub user: Option<String>,
    /// CLIENT REPLY state.
    pub reply_mode: ReplyMode,
    /// Close the connection once the current replies are written (QUIT,
    /// CLIENT KILL of oneself).
    pub close_after_reply: bool,
    /// Where a reply for this client goes when it is blocked and later
    /// served (see [`crate::blocking`]); a client without one cannot block.
    pub block_slot: Option<std::sync::Arc<crate::blocking::BlockSlot>>,
    /// Set inside MULTI/EXEC and scripts: blocking commands reply at once
    /// as on timeout.
    pub no_block: bool,
    /// Set by a command that blocked the client: the caller waits for the
    /// reply in [`Client::block_slot`] instead of the command's own.
    pub blocked: bool,
    /// The deadline (unix ms, 0 for none) of the block that `blocked`
    /// reports.
    pub block_deadline: i64,
    /// For a command run again for a blocked client: its first deadline,
    /// which a new block keeps.
    pub reblock_deadline: Option<i64>,
    /// The transaction being queued, between MULTI and EXEC.
    pub multi: Option<crate::commands::transactions::MultiState>,
    /// The keys this client watches (WATCH).
    pub watched: Vec<crate::watch::WatchedKey>,
    /// Set when a watched key changes: EXEC will fail.
    pub watch_dirty: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// CLIENT REPLY state (Redis's `CLIENT_REPLY_OFF`, `_SKIP`, `_SKIP_NEXT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    /// Replies are sent.
    #[default]
    On,
    /// No replies are sent until CLIENT REPLY ON.
    Off,
    /// The reply of the command after the current one is dropped.
    SkipNext,
    /// The reply of the current command is dropped.
    Skip,
}

impl Default for Client {
    fn default() -> Client {
        Client {
            id: 0,
            db: 0,
            resp: 2,
            name: None,
            lib_name: None,
            lib_ver: None,
            no_touch: false,
            no_evict: false,
            user: Some("default".to_string()),
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            block_slot: None,
            no_block: false,
            blocked: false,
            block_deadline: 0,
            reblock_deadline: None,
            multi: None,
            watched: Vec::new(),
            watch_dirty: None,
        }
    }
}

/// What the store needs from whoever runs it (the server, or an embedding
/// program): a way for commands bound by higher crates to reach their own
/// state.
pub trait Host: Send + Sync {
    /// The host as `Any`, for commands that know its concrete type.
    fn as_any(&self) -> &dyn Any;

    /// DEBUG RELOAD: save the snapshot (unless not `save`), empty the
    /// store (unless not `flush`), load the snapshot back (keys in it
    /// replacing existing ones when `merge`), and reply. A store run
    /// without a server has no snapshot file.
    fn debug_reload(&self, ctx: &mut Ctx<'_>, save: bool, flush: bool, merge: bool) {
        let _ = (save, flush, merge);
        ctx.out
            .error("ERR DEBUG RELOAD needs a server with a snapshot file");
    }

    /// DEBUG LOADAOF: write what the AOF has pending, empty the store,
    /// load the AOF back, and reply. A store run without a server has no
    /// AOF.
    fn debug_loadaof(&self, ctx: &mut Ctx<'_>) {
        ctx.out
            .error("ERR DEBUG LOADAOF needs a server with an append-only file");
    }

    /// DEBUG AOF-FLUSH-SLEEP: microseconds to sleep before each write of
    /// the AOF, for tests.
    fn debug_aof_flush_sleep(&self, micros: u64) {
        let _ = micros;
    }
}

/// A host with nothing behind it, for running the store alone.
#[derive(Debug, Default)]
pub struct NoHost;

impl Host for NoHost {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Everything a command sees while it runs.
pub struct Ctx<'a> {
    /// The store.
    pub store: &'a Store,
    /// The calling client.
    pub client: &'a mut Client,
    /// The arguments, name first.
    pub args: &'a [&'a [u8]],
    /// Where the reply goes.
    pub out: &'a mut ReplyBuf,
    /// The host (server) running the store.
    pub host: &'a dyn Host,
    /// The command's time in unix milliseconds.
    pub now_ms: i64,
}

impl<'a> Ctx<'a> {
    /// Locks the shards of `keys` in the client's database.
    pub fn keys<K: AsRef<[u8]>>(&self, keys: &[K]) -> crate::Keyspace<'a> {
        let mut ks = crate::Keyspace::lock_keys(self.store, self.client.db, keys, self.now_ms);
        ks.no_touch = self.client.no_touch;
        ks
    }

    /// Locks the shard of one key in the client's database.
    pub fn key(&self, key: &[u8]) -> crate::Keyspace<'a> {
        self.keys(&[key])
    }

    /// Locks every shard of the client's database.
    pub fn whole_db(&self) -> crate::Keyspace<'a> {
        let mut ks = crate::Keyspace::lock_db(self.store, self.client.db, self.now_ms);
        ks.no_touch = self.client.no_touch;
        ks
    }

    /// Argument `i` (0 is the command name); empty if absent.
    pub fn arg(&self, i: usize) -> &'a [u8] {
        self.args.get(i).copied().unwrap_or(b"")
    }

    /// Number of arguments, with the name.
    pub fn argc(&self) -> usize {
        self.args.len()
    }
}
