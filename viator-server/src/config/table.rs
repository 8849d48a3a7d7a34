//! The option table: one declarative entry per configuration option that
//! `CONFIG GET *` lists on Redis 8.4, plus the hidden ones it accepts.
//!
//! Each entry mirrors a line of the `standardConfig` table in Redis's
//! `config.c`: the name, the old alias (`slaveof` for `replicaof`...), the
//! flags (immutable, protected, hidden, ...), the type with its bounds and
//! default, and one column of our own, `implemented`, which says whether
//! Viator honours the option yet. Options that are accepted but not honoured
//! produce a startup warning when they are set to a non-default value.
//!
//! The parsing, formatting and rewriting rules live in the sibling modules;
//! this file only describes options.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Per-option flags, the same set as Redis's `*_CONFIG` flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Flags(u32);

impl Flags {
    /// Settable at runtime with CONFIG SET (Redis's `MODIFIABLE_CONFIG`, zero).
    pub const MODIFIABLE: Flags = Flags(0);
    /// Only settable at startup: CONFIG SET answers "can't set immutable config".
    pub const IMMUTABLE: Flags = Flags(1 << 0);
    /// The value is a secret: the server redacts it from SLOWLOG, MONITOR...
    pub const SENSITIVE: Flags = Flags(1 << 1);
    /// Listed by `DEBUG CONFIG-REWRITE-FORCE-ALL`-style debug dumps.
    pub const DEBUG: Flags = Flags(1 << 2);
    /// Takes several arguments (`save 900 1 300 10`, `bind a b`).
    pub const MULTI_ARG: Flags = Flags(1 << 3);
    /// Not matched by CONFIG GET patterns; only an exact name finds it.
    pub const HIDDEN: Flags = Flags(1 << 4);
    /// CONFIG SET needs `enable-protected-configs` to allow the client.
    pub const PROTECTED: Flags = Flags(1 << 5);
    /// CONFIG SET is refused with -LOADING while the dataset loads.
    pub const DENY_LOADING: Flags = Flags(1 << 6);
    /// Setting it to its current value still counts as a change (TLS files
    /// whose content may have changed on disk).
    pub const VOLATILE: Flags = Flags(1 << 7);
    /// Registered by one of the modules Redis 8 ships built in (bloom,
    /// cuckoo, time series, vector sets); Viator has these types natively.
    pub const MODULE: Flags = Flags(1 << 8);

    /// Whether every flag of `other` is set in `self`.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of two flag sets.
    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.union(rhs)
    }
}

/// The C type behind a numeric option. It decides how bounds are checked:
/// Redis compares unsigned types (`unsigned int`, `unsigned long long`,
/// `size_t`) as unsigned, so a negative argument reports the unsigned range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumType {
    /// `int`.
    Int,
    /// `unsigned int` (checked unsigned).
    UInt,
    /// `long`.
    Long,
    /// `unsigned long` (checked signed, like Redis).
    ULong,
    /// `long long`.
    LongLong,
    /// `unsigned long long` (checked unsigned).
    ULongLong,
    /// `size_t` (checked unsigned).
    SizeT,
    /// `ssize_t`.
    SSizeT,
    /// `off_t`.
    OffT,
    /// `time_t`.
    TimeT,
}

impl NumType {
    /// Whether Redis's boundary check treats the value as unsigned.
    pub const fn unsigned_check(self) -> bool {
        matches!(self, NumType::UInt | NumType::ULongLong | NumType::SizeT)
    }
}

/// How a numeric option is written and read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumFormat {
    /// A plain integer (`string2ll` rules: no sign `+`, no leading zeros).
    Integer,
    /// A memory amount with an optional unit (`b k kb m mb g gb`).
    Memory,
    /// A memory amount or a percentage `N%` (stored as `-N`).
    MemoryPercent,
    /// An octal number (`unixsocketperm`).
    Octal,
}

/// One accepted name of an enum option with its numeric value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumValue {
    /// The name, as CONFIG GET prints it.
    pub name: &'static str,
    /// The value; several names may share one (the first one is printed).
    pub value: i32,
}

/// Extra validation run after the type's own parsing, like Redis's
/// `is_valid_fn` callbacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validator {
    /// `dbfilename` must be a plain file name.
    DbFilename,
    /// `appendfilename` must be a non-empty plain file name.
    AofFilename,
    /// `appenddirname` must be a non-empty plain directory name.
    AofDirname,
    /// `cluster-announce-hostname`: alphanumerics, `-` and `.`.
    Hostname,
    /// `cluster-announce-human-nodename`: no aux-field special characters.
    HumanNodename,
    /// `proc-title-template` must expand to something non-empty.
    ProcTitleTemplate,
    /// `activedefrag yes` is refused: Viator has no defragmenter.
    ActiveDefrag,
    /// `shutdown-on-sig*`: SAVE and NOSAVE are exclusive.
    ShutdownOnSig,
    /// A floating point number strictly between 0 and 1 (`bf-error-rate`).
    OpenUnitDouble,
    /// A non-negative floating point number (`ts-ignore-max-val-diff`).
    NonNegativeDouble,
}

/// The options whose value is not a scalar, each with its own syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// `dir`: the working directory, changed with `chdir`.
    Dir,
    /// `save`: pairs of `<seconds> <changes>`.
    Save,
    /// `client-output-buffer-limit`: `<class> <hard> <soft> <seconds>`...
    ClientOutputBufferLimit,
    /// `oom-score-adj-values`: three integers.
    OomScoreAdjValues,
    /// `notify-keyspace-events`: a string of class characters.
    NotifyKeyspaceEvents,
    /// `bind`: up to 16 addresses.
    Bind,
    /// `replicaof`: `<host> <port>` or `no one`.
    ReplicaOf,
    /// `latency-tracking-info-percentiles`: floating point percentiles.
    LatencyTrackingInfoPercentiles,
}

/// The type of an option with its default value and bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptionKind {
    /// `yes` / `no`.
    Bool {
        /// Default value.
        default: bool,
        /// Extra check of the new value.
        validator: Option<Validator>,
    },
    /// A number. Bounds are stored as C stores them in a `long long`: the
    /// upper bound of an `unsigned long long` option is `-1`
    /// (`ULLONG_MAX`), compared as unsigned.
    Numeric {
        /// The C type (decides signed or unsigned bound checks).
        ty: NumType,
        /// Accepted syntax and output format.
        format: NumFormat,
        /// Lower bound, inclusive.
        min: i64,
        /// Upper bound, inclusive.
        max: i64,
        /// Default value.
        default: i64,
    },
    /// One name out of a list (or, with [`Flags::MULTI_ARG`], a set of
    /// names whose values are OR-ed as bit flags).
    Enum {
        /// Accepted names.
        values: &'static [EnumValue],
        /// Default value.
        default: i32,
        /// Extra check of the new value.
        validator: Option<Validator>,
    },
    /// A string (Redis's `char*` and `sds` configs).
    String {
        /// Default value; `None` is Redis's NULL (printed as "").
        default: Option<&'static str>,
        /// Whether an empty value is stored as NULL (`EMPTY_STRING_IS_NULL`).
        empty_is_null: bool,
        /// Binary safe (`sds`); otherwise the value stops at its first NUL.
        binary: bool,
        /// Extra check of the new value.
        validator: Option<Validator>,
    },
    /// An option with its own syntax.
    Special(Special),
}

/// One option of the table.
#[derive(Clone, Copy, Debug)]
pub struct OptionDef {
    /// The option's identifier.
    pub id: Opt,
    /// Its name, lowercase.
    pub name: &'static str,
    /// Its old name, if any (`slave-read-only` for `replica-read-only`).
    pub alias: Option<&'static str>,
    /// Its flags.
    pub flags: Flags,
    /// Its type, default and bounds.
    pub kind: OptionKind,
    /// Whether Viator honours it. Unimplemented options are accepted;
    /// setting one to a non-default value at startup logs a warning.
    pub implemented: bool,
}

impl OptionDef {
    /// Whether this option takes several arguments.
    pub fn multi_arg(&self) -> bool {
        self.flags.contains(Flags::MULTI_ARG)
    }
}

// ---------------------------------------------------------------------------
// Enum value lists (config.c's configEnum arrays).
// ---------------------------------------------------------------------------

const fn ev(name: &'static str, value: i32) -> EnumValue {
    EnumValue { name, value }
}

/// `maxmemory-policy` names.
pub static MAXMEMORY_POLICY: &[EnumValue] = &[
    ev("volatile-lru", 0),
    ev("volatile-lfu", 1),
    ev("volatile-random", 2),
    ev("volatile-ttl", 3),
    ev("allkeys-lru", 4),
    ev("allkeys-lfu", 5),
    ev("allkeys-random", 6),
    ev("noeviction", 7),
];

/// `syslog-facility` names (values are the syslog(3) facility codes).
pub static SYSLOG_FACILITY: &[EnumValue] = &[
    ev("user", 8),
    ev("local0", 128),
    ev("local1", 136),
    ev("local2", 144),
    ev("local3", 152),
    ev("local4", 160),
    ev("local5", 168),
    ev("local6", 176),
    ev("local7", 184),
];

/// `loglevel` names; the values are [`crate::log::Level`] discriminants.
pub static LOGLEVEL: &[EnumValue] = &[
    ev("debug", 0),
    ev("verbose", 1),
    ev("notice", 2),
    ev("warning", 3),
    ev("nothing", 4),
];

/// `supervised` names.
pub static SUPERVISED: &[EnumValue] = &[
    ev("upstart", 1),
    ev("systemd", 2),
    ev("auto", 3),
    ev("no", 0),
];

/// `appendfsync` names.
pub static APPENDFSYNC: &[EnumValue] = &[ev("everysec", 1), ev("always", 2), ev("no", 0)];

/// `shutdown-on-sigint` / `shutdown-on-sigterm` flag names.
pub static SHUTDOWN_ON_SIG: &[EnumValue] = &[
    ev("default", 0),
    ev("save", 1),
    ev("nosave", 2),
    ev("now", 4),
    ev("force", 8),
];

/// `repl-diskless-load` names.
pub static REPL_DISKLESS_LOAD: &[EnumValue] =
    &[ev("disabled", 0), ev("on-empty-db", 1), ev("swapdb", 2)];

/// `tls-auth-clients` names.
pub static TLS_AUTH_CLIENTS: &[EnumValue] = &[ev("no", 0), ev("yes", 1), ev("optional", 2)];

/// `oom-score-adj` names (`yes` and `relative` are the same value).
pub static OOM_SCORE_ADJ: &[EnumValue] = &[
    ev("no", 0),
    ev("yes", 1),
    ev("relative", 1),
    ev("absolute", 2),
];

/// `acl-pubsub-default` names.
pub static ACL_PUBSUB_DEFAULT: &[EnumValue] = &[ev("allchannels", 1), ev("resetchannels", 0)];

/// `sanitize-dump-payload` names.
pub static SANITIZE_DUMP_PAYLOAD: &[EnumValue] = &[ev("no", 0), ev("yes", 1), ev("clients", 2)];

/// `enable-protected-configs`, `enable-debug-command`,
/// `enable-module-command` names (see [`super::ProtectedAction`]).
pub static PROTECTED_ACTION: &[EnumValue] = &[ev("no", 0), ev("yes", 1), ev("local", 2)];

/// `cluster-preferred-endpoint-type` names.
pub static CLUSTER_PREFERRED_ENDPOINT_TYPE: &[EnumValue] =
    &[ev("ip", 0), ev("hostname", 1), ev("unknown-endpoint", 2)];

/// `propagation-error-behavior` names.
pub static PROPAGATION_ERROR_BEHAVIOR: &[EnumValue] =
    &[ev("ignore", 0), ev("panic", 1), ev("panic-on-replicas", 2)];

/// `ts-encoding` names (time series module).
pub static TS_ENCODING: &[EnumValue] = &[ev("compressed", 0), ev("uncompressed", 1)];

/// `ts-duplicate-policy` names (time series module).
pub static TS_DUPLICATE_POLICY: &[EnumValue] = &[
    ev("block", 0),
    ev("first", 1),
    ev("last", 2),
    ev("min", 3),
    ev("max", 4),
    ev("sum", 5),
];

// ---------------------------------------------------------------------------
// Constructors used by the table below.
// ---------------------------------------------------------------------------

const INT_MAX: i64 = i32::MAX as i64;
const INT_MIN: i64 = i32::MIN as i64;
const UINT_MAX: i64 = u32::MAX as i64;
const LONG_MAX: i64 = i64::MAX;
const LLONG_MAX: i64 = i64::MAX;
/// `ULLONG_MAX` as C stores it in a `long long` bound.
const ULLONG_MAX: i64 = -1;
const MB: i64 = 1024 * 1024;

// Flag bits for the table below (OR-ed as plain integers so that the
// table stays a constant expression).
const M: u32 = Flags::MODIFIABLE.0;
const I: u32 = Flags::IMMUTABLE.0;
const SENS: u32 = Flags::SENSITIVE.0;
const DBG: u32 = Flags::DEBUG.0;
const MULTI: u32 = Flags::MULTI_ARG.0;
const HID: u32 = Flags::HIDDEN.0;
const PROT: u32 = Flags::PROTECTED.0;
const DENY: u32 = Flags::DENY_LOADING.0;
const VOL: u32 = Flags::VOLATILE.0;
const MODULE: u32 = Flags::MODULE.0;

const fn boolean(default: bool) -> OptionKind {
    OptionKind::Bool {
        default,
        validator: None,
    }
}

const fn boolean_v(default: bool, v: Validator) -> OptionKind {
    OptionKind::Bool {
        default,
        validator: Some(v),
    }
}

const fn num(ty: NumType, min: i64, max: i64, default: i64) -> OptionKind {
    OptionKind::Numeric {
        ty,
        format: NumFormat::Integer,
        min,
        max,
        default,
    }
}

const fn mem(ty: NumType, min: i64, max: i64, default: i64) -> OptionKind {
    OptionKind::Numeric {
        ty,
        format: NumFormat::Memory,
        min,
        max,
        default,
    }
}

const fn enumeration(values: &'static [EnumValue], default: i32) -> OptionKind {
    OptionKind::Enum {
        values,
        default,
        validator: None,
    }
}

/// A `char*` string whose empty value is NULL.
const fn s_null(default: Option<&'static str>) -> OptionKind {
    OptionKind::String {
        default,
        empty_is_null: true,
        binary: false,
        validator: None,
    }
}

/// A `char*` string that may be empty.
const fn s_empty(default: &'static str) -> OptionKind {
    OptionKind::String {
        default: Some(default),
        empty_is_null: false,
        binary: false,
        validator: None,
    }
}

const fn s_valid(default: Option<&'static str>, empty_is_null: bool, v: Validator) -> OptionKind {
    OptionKind::String {
        default,
        empty_is_null,
        binary: false,
        validator: Some(v),
    }
}

/// A binary safe `sds` string whose empty value is NULL.
const fn sds_null() -> OptionKind {
    OptionKind::String {
        default: None,
        empty_is_null: true,
        binary: true,
        validator: None,
    }
}

const fn special(s: Special) -> OptionKind {
    OptionKind::Special(s)
}

use NumType::{Int, LongLong, OffT, SSizeT, SizeT, TimeT, UInt, ULong, ULongLong};

macro_rules! option_table {
    ($( $id:ident: $name:literal, $alias:expr, $flags:expr, $kind:expr, $implemented:expr; )*) => {
        /// Identifies one option of the table; its discriminant is its index
        /// in [`OPTIONS`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u16)]
        pub enum Opt {
            $(
                #[doc = concat!("The `", $name, "` option.")]
                $id,
            )*
        }

        /// Every option, in the order of [`Opt`].
        pub static OPTIONS: &[OptionDef] = &[
            $(
                OptionDef {
                    id: Opt::$id,
                    name: $name,
                    alias: $alias,
                    flags: Flags($flags),
                    kind: $kind,
                    implemented: $implemented,
                },
            )*
        ];
    };
}

option_table! {
    // ---- Booleans --------------------------------------------------------
    Rdbchecksum: "rdbchecksum", None, I, boolean(true), true;
    Daemonize: "daemonize", None, I, boolean(false), true;
    AlwaysShowLogo: "always-show-logo", None, I, boolean(false), true;
    ProtectedMode: "protected-mode", None, M, boolean(true), true;
    Rdbcompression: "rdbcompression", None, M, boolean(true), true;
    RdbDelSyncFiles: "rdb-del-sync-files", None, M, boolean(false), false;
    Activerehashing: "activerehashing", None, M, boolean(true), false;
    StopWritesOnBgsaveError: "stop-writes-on-bgsave-error", None, M, boolean(true), true;
    SetProcTitle: "set-proc-title", None, I, boolean(true), false;
    DynamicHz: "dynamic-hz", None, M, boolean(true), false;
    LazyfreeLazyEviction: "lazyfree-lazy-eviction", None, DBG | M, boolean(false), false;
    LazyfreeLazyExpire: "lazyfree-lazy-expire", None, DBG | M, boolean(false), true;
    LazyfreeLazyServerDel: "lazyfree-lazy-server-del", None, DBG | M, boolean(false), true;
    LazyfreeLazyUserDel: "lazyfree-lazy-user-del", None, DBG | M, boolean(false), false;
    LazyfreeLazyUserFlush: "lazyfree-lazy-user-flush", None, DBG | M, boolean(false), false;
    ReplDisableTcpNodelay: "repl-disable-tcp-nodelay", None, M, boolean(false), false;
    ReplDisklessSync: "repl-diskless-sync", None, DBG | M, boolean(true), false;
    AofRewriteIncrementalFsync: "aof-rewrite-incremental-fsync", None, M, boolean(true), true;
    NoAppendfsyncOnRewrite: "no-appendfsync-on-rewrite", None, M, boolean(false), true;
    ClusterRequireFullCoverage: "cluster-require-full-coverage", None, M, boolean(true), false;
    RdbSaveIncrementalFsync: "rdb-save-incremental-fsync", None, M, boolean(true), true;
    AofLoadTruncated: "aof-load-truncated", None, M, boolean(true), true;
    AofUseRdbPreamble: "aof-use-rdb-preamble", None, M, boolean(true), true;
    AofTimestampEnabled: "aof-timestamp-enabled", None, M, boolean(false), true;
    ClusterReplicaNoFailover: "cluster-replica-no-failover", Some("cluster-slave-no-failover"), M, boolean(false), false;
    ReplicaLazyFlush: "replica-lazy-flush", Some("slave-lazy-flush"), M, boolean(false), false;
    ReplicaServeStaleData: "replica-serve-stale-data", Some("slave-serve-stale-data"), M, boolean(true), false;
    ReplicaReadOnly: "replica-read-only", Some("slave-read-only"), DBG | M, boolean(true), false;
    ReplicaIgnoreMaxmemory: "replica-ignore-maxmemory", Some("slave-ignore-maxmemory"), M, boolean(true), false;
    JemallocBgThread: "jemalloc-bg-thread", None, M, boolean(true), false;
    Activedefrag: "activedefrag", None, DBG | M, boolean_v(false, Validator::ActiveDefrag), false;
    SyslogEnabled: "syslog-enabled", None, I, boolean(false), false;
    ClusterEnabled: "cluster-enabled", None, I, boolean(false), false;
    Appendonly: "appendonly", None, M | DENY, boolean(false), true;
    ClusterAllowReadsWhenDown: "cluster-allow-reads-when-down", None, M, boolean(false), false;
    ClusterAllowPubsubshardWhenDown: "cluster-allow-pubsubshard-when-down", None, M, boolean(true), false;
    CrashLogEnabled: "crash-log-enabled", None, M, boolean(true), false;
    CrashMemcheckEnabled: "crash-memcheck-enabled", None, M, boolean(true), false;
    UseExitOnPanic: "use-exit-on-panic", None, M | HID, boolean(false), false;
    DisableThp: "disable-thp", None, I, boolean(true), true;
    ClusterAllowReplicaMigration: "cluster-allow-replica-migration", None, M, boolean(true), false;
    ReplicaAnnounced: "replica-announced", None, M, boolean(true), false;
    LatencyTracking: "latency-tracking", None, M, boolean(true), true;
    AofDisableAutoGc: "aof-disable-auto-gc", None, M | HID, boolean(false), true;
    ReplicaIgnoreDiskWriteErrors: "replica-ignore-disk-write-errors", None, M, boolean(false), false;
    EnableDebugAssert: "enable-debug-assert", None, I | HID, boolean(false), false;
    HideUserDataFromLog: "hide-user-data-from-log", None, M, boolean(false), false;
    ClusterSlotStatsEnabled: "cluster-slot-stats-enabled", None, M, boolean(false), false;
    ReplRdbChannel: "repl-rdb-channel", None, M | HID, boolean(false), false;

    // ---- Strings ---------------------------------------------------------
    Aclfile: "aclfile", None, I, s_empty(""), false;
    Unixsocket: "unixsocket", None, I, s_null(None), false;
    Pidfile: "pidfile", None, I, s_null(None), true;
    ReplicaAnnounceIp: "replica-announce-ip", Some("slave-announce-ip"), M, s_null(None), false;
    Masteruser: "masteruser", None, M | SENS, s_null(None), false;
    ClusterAnnounceIp: "cluster-announce-ip", None, M, s_null(None), false;
    ClusterConfigFile: "cluster-config-file", None, I, s_empty("nodes.conf"), false;
    ClusterAnnounceHostname: "cluster-announce-hostname", None, M, s_valid(None, true, Validator::Hostname), false;
    ClusterAnnounceHumanNodename: "cluster-announce-human-nodename", None, M, s_valid(None, true, Validator::HumanNodename), false;
    SyslogIdent: "syslog-ident", None, I, s_empty("redis"), false;
    Dbfilename: "dbfilename", None, M | PROT, s_valid(Some("dump.vdb"), false, Validator::DbFilename), true;
    Appendfilename: "appendfilename", None, I, s_valid(Some("appendonly.aof"), false, Validator::AofFilename), true;
    Appenddirname: "appenddirname", None, I, s_valid(Some("appendonlydir"), false, Validator::AofDirname), true;
    ServerCpulist: "server-cpulist", Some("server_cpulist"), I, s_null(None), false;
    BioCpulist: "bio-cpulist", Some("bio_cpulist"), I, s_null(None), false;
    AofRewriteCpulist: "aof-rewrite-cpulist", Some("aof_rewrite_cpulist"), I, s_null(None), false;
    BgsaveCpulist: "bgsave-cpulist", Some("bgsave_cpulist"), I, s_null(None), false;
    IgnoreWarnings: "ignore-warnings", None, M, s_empty(""), true;
    ProcTitleTemplate: "proc-title-template", None, M, s_valid(Some("{title} {listen-addr} {server-mode}"), false, Validator::ProcTitleTemplate), false;
    BindSourceAddr: "bind-source-addr", None, M, s_null(None), false;
    Logfile: "logfile", None, I, s_empty(""), true;
    LocaleCollate: "locale-collate", None, M, s_empty(""), false;
    Masterauth: "masterauth", None, M | SENS, sds_null(), false;
    Requirepass: "requirepass", None, M | SENS, sds_null(), true;

    // ---- Enums -----------------------------------------------------------
    Supervised: "supervised", None, I, enumeration(SUPERVISED, 0), false;
    SyslogFacility: "syslog-facility", None, I, enumeration(SYSLOG_FACILITY, 128), false;
    ReplDisklessLoad: "repl-diskless-load", None, DBG | M | DENY, enumeration(REPL_DISKLESS_LOAD, 0), false;
    Loglevel: "loglevel", None, M, enumeration(LOGLEVEL, 2), true;
    MaxmemoryPolicy: "maxmemory-policy", None, M, enumeration(MAXMEMORY_POLICY, 7), false;
    Appendfsync: "appendfsync", None, M, enumeration(APPENDFSYNC, 1), true;
    OomScoreAdj: "oom-score-adj", None, M, enumeration(OOM_SCORE_ADJ, 0), false;
    AclPubsubDefault: "acl-pubsub-default", None, M, enumeration(ACL_PUBSUB_DEFAULT, 0), false;
    SanitizeDumpPayload: "sanitize-dump-payload", None, DBG | M, enumeration(SANITIZE_DUMP_PAYLOAD, 0), false;
    EnableProtectedConfigs: "enable-protected-configs", None, I, enumeration(PROTECTED_ACTION, 0), true;
    EnableDebugCommand: "enable-debug-command", None, I, enumeration(PROTECTED_ACTION, 0), true;
    EnableModuleCommand: "enable-module-command", None, I, enumeration(PROTECTED_ACTION, 0), true;
    ClusterPreferredEndpointType: "cluster-preferred-endpoint-type", None, M, enumeration(CLUSTER_PREFERRED_ENDPOINT_TYPE, 0), false;
    PropagationErrorBehavior: "propagation-error-behavior", None, M, enumeration(PROPAGATION_ERROR_BEHAVIOR, 0), false;
    ShutdownOnSigint: "shutdown-on-sigint", None, M | MULTI, OptionKind::Enum { values: SHUTDOWN_ON_SIG, default: 0, validator: Some(Validator::ShutdownOnSig) }, false;
    ShutdownOnSigterm: "shutdown-on-sigterm", None, M | MULTI, OptionKind::Enum { values: SHUTDOWN_ON_SIG, default: 0, validator: Some(Validator::ShutdownOnSig) }, false;

    // ---- int -------------------------------------------------------------
    Databases: "databases", None, I, num(Int, 1, INT_MAX, 16), true;
    Port: "port", None, M, num(Int, 0, 65535, 6379), true;
    IoThreads: "io-threads", None, DBG | I, num(Int, 1, 128, 1), true;
    AutoAofRewritePercentage: "auto-aof-rewrite-percentage", None, M, num(Int, 0, INT_MAX, 100), true;
    ClusterReplicaValidityFactor: "cluster-replica-validity-factor", Some("cluster-slave-validity-factor"), M, num(Int, 0, INT_MAX, 10), false;
    ListMaxListpackSize: "list-max-listpack-size", Some("list-max-ziplist-size"), M, num(Int, INT_MIN, INT_MAX, -2), true;
    TcpKeepalive: "tcp-keepalive", None, M, num(Int, 0, INT_MAX, 300), true;
    ClusterMigrationBarrier: "cluster-migration-barrier", None, M, num(Int, 0, INT_MAX, 1), false;
    ActiveDefragCycleMin: "active-defrag-cycle-min", None, M, num(Int, 1, 99, 1), false;
    ActiveDefragCycleMax: "active-defrag-cycle-max", None, M, num(Int, 1, 99, 25), false;
    ActiveDefragThresholdLower: "active-defrag-threshold-lower", None, M, num(Int, 0, 1000, 10), false;
    ActiveDefragThresholdUpper: "active-defrag-threshold-upper", None, M, num(Int, 0, 1000, 100), false;
    LfuLogFactor: "lfu-log-factor", None, M, num(Int, 0, INT_MAX, 10), false;
    LfuDecayTime: "lfu-decay-time", None, M, num(Int, 0, INT_MAX, 1), false;
    ReplicaPriority: "replica-priority", Some("slave-priority"), M, num(Int, 0, INT_MAX, 100), false;
    ReplDisklessSyncDelay: "repl-diskless-sync-delay", None, M, num(Int, 0, INT_MAX, 5), false;
    MaxmemorySamples: "maxmemory-samples", None, M, num(Int, 1, INT_MAX, 5), false;
    MaxmemoryEvictionTenacity: "maxmemory-eviction-tenacity", None, M, num(Int, 0, 100, 10), false;
    Timeout: "timeout", None, M, num(Int, 0, INT_MAX, 0), true;
    ReplicaAnnouncePort: "replica-announce-port", Some("slave-announce-port"), M, num(Int, 0, 65535, 0), false;
    TcpBacklog: "tcp-backlog", None, I, num(Int, 0, INT_MAX, 511), true;
    ClusterPort: "cluster-port", None, I, num(Int, 0, 65535, 0), false;
    ClusterAnnounceBusPort: "cluster-announce-bus-port", None, M, num(Int, 0, 65535, 0), false;
    ClusterAnnouncePort: "cluster-announce-port", None, M, num(Int, 0, 65535, 0), false;
    ClusterAnnounceTlsPort: "cluster-announce-tls-port", None, M, num(Int, 0, 65535, 0), false;
    ReplTimeout: "repl-timeout", None, M, num(Int, 1, INT_MAX, 60), false;
    ReplPingReplicaPeriod: "repl-ping-replica-period", Some("repl-ping-slave-period"), M, num(Int, 1, INT_MAX, 10), false;
    ListCompressDepth: "list-compress-depth", None, DBG | M, num(Int, 0, INT_MAX, 0), true;
    RdbKeySaveDelay: "rdb-key-save-delay", None, M | HID, num(Int, INT_MIN, INT_MAX, 0), true;
    KeyLoadDelay: "key-load-delay", None, M | HID, num(Int, INT_MIN, INT_MAX, 0), false;
    ActiveExpireEffort: "active-expire-effort", None, M, num(Int, 1, 10, 1), true;
    Hz: "hz", None, M, num(Int, 0, INT_MAX, 10), true;
    MinReplicasToWrite: "min-replicas-to-write", Some("min-slaves-to-write"), M, num(Int, 0, INT_MAX, 0), false;
    MinReplicasMaxLag: "min-replicas-max-lag", Some("min-slaves-max-lag"), M, num(Int, 0, INT_MAX, 10), false;
    WatchdogPeriod: "watchdog-period", None, M | HID, num(Int, 0, INT_MAX, 0), false;
    ShutdownTimeout: "shutdown-timeout", None, M, num(Int, 0, INT_MAX, 10), false;
    ReplDisklessSyncMaxReplicas: "repl-diskless-sync-max-replicas", None, M, num(Int, 0, INT_MAX, 0), false;
    ClusterCompatibilitySampleRatio: "cluster-compatibility-sample-ratio", None, M, num(Int, 0, 100, 0), false;
    Lookahead: "lookahead", None, M, num(Int, 1, INT_MAX, 16), false;

    // ---- unsigned int ----------------------------------------------------
    Maxclients: "maxclients", None, M, num(UInt, 1, UINT_MAX, 10000), true;
    Unixsocketperm: "unixsocketperm", None, I, OptionKind::Numeric { ty: UInt, format: NumFormat::Octal, min: 0, max: 0o777, default: 0 }, false;
    SocketMarkId: "socket-mark-id", None, I, num(UInt, 0, UINT_MAX, 0), false;

    // ---- unsigned long ---------------------------------------------------
    ActiveDefragMaxScanFields: "active-defrag-max-scan-fields", None, M, num(ULong, 1, LONG_MAX, 1000), false;
    SlowlogMaxLen: "slowlog-max-len", None, M, num(ULong, 0, LONG_MAX, 128), false;
    AcllogMaxLen: "acllog-max-len", None, M, num(ULong, 0, LONG_MAX, 128), false;
    MaxNewConnectionsPerCycle: "max-new-connections-per-cycle", None, M, num(ULong, 1, 1000, 10), false;
    MaxNewTlsConnectionsPerCycle: "max-new-tls-connections-per-cycle", None, M, num(ULong, 1, 1000, 1), false;

    // ---- long long -------------------------------------------------------
    BusyReplyThreshold: "busy-reply-threshold", Some("lua-time-limit"), M, num(LongLong, 0, LONG_MAX, 5000), false;
    ClusterNodeTimeout: "cluster-node-timeout", None, M, num(LongLong, 0, LLONG_MAX, 15000), false;
    ClusterPingInterval: "cluster-ping-interval", None, M | HID, num(LongLong, 0, LLONG_MAX, 0), false;
    SlowlogLogSlowerThan: "slowlog-log-slower-than", None, M, num(LongLong, -1, LLONG_MAX, 10000), false;
    LatencyMonitorThreshold: "latency-monitor-threshold", None, M, num(LongLong, 0, LLONG_MAX, 0), false;
    ProtoMaxBulkLen: "proto-max-bulk-len", None, DBG | M, mem(LongLong, MB, LONG_MAX, 512 * MB), true;
    StreamNodeMaxEntries: "stream-node-max-entries", None, M, num(LongLong, 0, LLONG_MAX, 100), true;
    ReplBacklogSize: "repl-backlog-size", None, M, mem(LongLong, 1, LLONG_MAX, MB), false;
    ClusterSlotMigrationWritePauseTimeout: "cluster-slot-migration-write-pause-timeout", None, M, num(LongLong, 0, LLONG_MAX, 10000), false;

    // ---- unsigned long long ----------------------------------------------
    Maxmemory: "maxmemory", None, M, mem(ULongLong, 0, ULLONG_MAX, 0), false;
    ClusterLinkSendbufLimit: "cluster-link-sendbuf-limit", None, M, mem(ULongLong, 0, ULLONG_MAX, 0), false;
    ReplicaFullSyncBufferLimit: "replica-full-sync-buffer-limit", None, M, mem(SizeT, 0, LLONG_MAX, 0), false;
    ClusterSlotMigrationHandoffMaxLagBytes: "cluster-slot-migration-handoff-max-lag-bytes", None, M, mem(SizeT, 0, LLONG_MAX, MB), false;

    // ---- size_t ----------------------------------------------------------
    HashMaxListpackEntries: "hash-max-listpack-entries", Some("hash-max-ziplist-entries"), M, num(SizeT, 0, LONG_MAX, 512), true;
    SetMaxIntsetEntries: "set-max-intset-entries", None, M, num(SizeT, 0, LONG_MAX, 512), true;
    SetMaxListpackEntries: "set-max-listpack-entries", None, M, num(SizeT, 0, LONG_MAX, 128), true;
    SetMaxListpackValue: "set-max-listpack-value", None, M, num(SizeT, 0, LONG_MAX, 64), true;
    ZsetMaxListpackEntries: "zset-max-listpack-entries", Some("zset-max-ziplist-entries"), M, num(SizeT, 0, LONG_MAX, 128), true;
    ActiveDefragIgnoreBytes: "active-defrag-ignore-bytes", None, M, mem(SizeT, 1, LLONG_MAX, 100 * MB), false;
    HashMaxListpackValue: "hash-max-listpack-value", Some("hash-max-ziplist-value"), M, mem(SizeT, 0, LONG_MAX, 64), true;
    StreamNodeMaxBytes: "stream-node-max-bytes", None, M, mem(SizeT, 0, LONG_MAX, 4096), true;
    ZsetMaxListpackValue: "zset-max-listpack-value", Some("zset-max-ziplist-value"), M, mem(SizeT, 0, LONG_MAX, 64), true;
    HllSparseMaxBytes: "hll-sparse-max-bytes", None, M, mem(SizeT, 0, LONG_MAX, 3000), true;
    // Viator's own: the RDB version to write, for older Redis to read.
    RdbVersion: "rdb-version", None, M | HID, num(Int, 10, 12, 12), true;
    TrackingTableMaxKeys: "tracking-table-max-keys", None, M, num(SizeT, 0, LONG_MAX, 1_000_000), false;
    ClientQueryBufferLimit: "client-query-buffer-limit", None, DBG | M, mem(SizeT, MB, LONG_MAX, 1024 * MB), true;
    MaxmemoryClients: "maxmemory-clients", None, M, OptionKind::Numeric { ty: SSizeT, format: NumFormat::MemoryPercent, min: -100, max: i64::MAX, default: 0 }, false;

    // ---- time_t / off_t --------------------------------------------------
    ReplBacklogTtl: "repl-backlog-ttl", None, M, num(TimeT, 0, LONG_MAX, 3600), false;
    AutoAofRewriteMinSize: "auto-aof-rewrite-min-size", None, M, mem(OffT, 0, LLONG_MAX, 64 * MB), true;
    LoadingProcessEventsIntervalBytes: "loading-process-events-interval-bytes", None, M | HID, num(OffT, 1024, INT_MAX, 2 * MB), false;

    // ---- TLS ---------------------------------------------------------------
    TlsPort: "tls-port", None, M, num(Int, 0, 65535, 0), false;
    TlsSessionCacheSize: "tls-session-cache-size", None, M, num(Int, 0, INT_MAX, 20 * 1024), false;
    TlsSessionCacheTimeout: "tls-session-cache-timeout", None, M, num(Int, 0, INT_MAX, 300), false;
    TlsCluster: "tls-cluster", None, M, boolean(false), false;
    TlsReplication: "tls-replication", None, M, boolean(false), false;
    TlsAuthClients: "tls-auth-clients", None, M, enumeration(TLS_AUTH_CLIENTS, 1), false;
    TlsPreferServerCiphers: "tls-prefer-server-ciphers", None, M, boolean(false), false;
    TlsSessionCaching: "tls-session-caching", None, M, boolean(true), false;
    TlsCertFile: "tls-cert-file", None, VOL | M, s_null(None), false;
    TlsKeyFile: "tls-key-file", None, VOL | M, s_null(None), false;
    TlsKeyFilePass: "tls-key-file-pass", None, M | SENS, s_null(None), false;
    TlsClientCertFile: "tls-client-cert-file", None, VOL | M, s_null(None), false;
    TlsClientKeyFile: "tls-client-key-file", None, VOL | M, s_null(None), false;
    TlsClientKeyFilePass: "tls-client-key-file-pass", None, M | SENS, s_null(None), false;
    TlsDhParamsFile: "tls-dh-params-file", None, VOL | M, s_null(None), false;
    TlsCaCertFile: "tls-ca-cert-file", None, VOL | M, s_null(None), false;
    TlsCaCertDir: "tls-ca-cert-dir", None, VOL | M, s_null(None), false;
    TlsProtocols: "tls-protocols", None, M, s_null(None), false;
    TlsCiphers: "tls-ciphers", None, M, s_null(None), false;
    TlsCiphersuites: "tls-ciphersuites", None, M, s_null(None), false;

    // ---- Special -----------------------------------------------------------
    Dir: "dir", None, M | PROT | DENY, special(Special::Dir), true;
    Save: "save", None, M | MULTI, special(Special::Save), true;
    ClientOutputBufferLimit: "client-output-buffer-limit", None, M | MULTI, special(Special::ClientOutputBufferLimit), false;
    OomScoreAdjValues: "oom-score-adj-values", None, M | MULTI, special(Special::OomScoreAdjValues), false;
    NotifyKeyspaceEvents: "notify-keyspace-events", None, M, special(Special::NotifyKeyspaceEvents), false;
    Bind: "bind", None, M | MULTI, special(Special::Bind), true;
    Replicaof: "replicaof", Some("slaveof"), I | MULTI, special(Special::ReplicaOf), false;
    LatencyTrackingInfoPercentiles: "latency-tracking-info-percentiles", None, M | MULTI, special(Special::LatencyTrackingInfoPercentiles), true;

    // ---- Built-in module options (Redis 8 ships these modules loaded) -------
    VsetForceSingleThreadedExecution: "vset-force-single-threaded-execution", None, M | MODULE, boolean(false), false;
    BfErrorRate: "bf-error-rate", None, M | MODULE, s_valid(Some("0.01"), false, Validator::OpenUnitDouble), false;
    BfInitialSize: "bf-initial-size", None, M | MODULE, num(LongLong, 1, 1 << 30, 100), false;
    BfExpansionFactor: "bf-expansion-factor", None, M | MODULE, num(LongLong, 0, 32768, 2), false;
    CfBucketSize: "cf-bucket-size", None, M | MODULE, num(LongLong, 1, 255, 2), false;
    CfInitialSize: "cf-initial-size", None, M | MODULE, num(LongLong, 4, 1 << 30, 1024), false;
    CfMaxIterations: "cf-max-iterations", None, M | MODULE, num(LongLong, 1, 65535, 20), false;
    CfExpansionFactor: "cf-expansion-factor", None, M | MODULE, num(LongLong, 0, 32768, 1), false;
    CfMaxExpansions: "cf-max-expansions", None, M | MODULE, num(LongLong, 1, 65536, 32), false;
    TsNumThreads: "ts-num-threads", None, I | MODULE, num(LongLong, 1, 16, 3), false;
    TsCompactionPolicy: "ts-compaction-policy", None, M | MODULE, s_empty(""), false;
    TsEncoding: "ts-encoding", None, M | MODULE, enumeration(TS_ENCODING, 0), false;
    TsRetentionPolicy: "ts-retention-policy", None, M | MODULE, num(LongLong, 0, LLONG_MAX, 0), false;
    TsDuplicatePolicy: "ts-duplicate-policy", None, M | MODULE, enumeration(TS_DUPLICATE_POLICY, 0), false;
    TsChunkSizeBytes: "ts-chunk-size-bytes", None, M | MODULE, num(LongLong, 48, 1_048_576, 4096), false;
    TsIgnoreMaxTimeDiff: "ts-ignore-max-time-diff", None, M | MODULE, num(LongLong, 0, LLONG_MAX, 0), false;
    TsIgnoreMaxValDiff: "ts-ignore-max-val-diff", None, M | MODULE, s_valid(Some("0"), false, Validator::NonNegativeDouble), false;
}

impl Opt {
    /// The option's table entry.
    pub fn def(self) -> &'static OptionDef {
        &OPTIONS[self as usize]
    }

    /// The option's canonical name.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// The option's index in [`OPTIONS`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Looks an option up by name or alias, ASCII case-insensitively.
/// Returns the option and whether `name` is its alias.
pub fn lookup(name: &[u8]) -> Option<(Opt, bool)> {
    static MAP: OnceLock<HashMap<&'static str, (Opt, bool)>> = OnceLock::new();
    let map = MAP.get_or_init(|| {
        let mut m = HashMap::with_capacity(OPTIONS.len() * 2);
        for def in OPTIONS {
            m.insert(def.name, (def.id, false));
            if let Some(alias) = def.alias {
                m.insert(alias, (def.id, true));
            }
        }
        m
    });
    if name.len() > 64 {
        return None;
    }
    let mut buf = [0u8; 64];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let s = std::str::from_utf8(lower).ok()?;
    map.get(s).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_positions() {
        for (i, def) in OPTIONS.iter().enumerate() {
            assert_eq!(def.id as usize, i, "{}", def.name);
        }
    }

    #[test]
    fn names_are_unique_and_lowercase() {
        let mut seen = std::collections::HashSet::new();
        for def in OPTIONS {
            for n in std::iter::once(def.name).chain(def.alias) {
                assert!(seen.insert(n), "duplicate {n}");
                assert_eq!(n, n.to_ascii_lowercase());
            }
        }
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(lookup(b"PORT"), Some((Opt::Port, false)));
        assert_eq!(lookup(b"slaveof"), Some((Opt::Replicaof, true)));
        assert_eq!(lookup(b"nope"), None);
    }
}
