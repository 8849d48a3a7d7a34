//! Viator's configuration: redis.conf parsing, the command line, CONFIG
//! GET / SET / REWRITE, all with redis-server 8.4's behaviour and messages.
//!
//! * [`table`] declares every option (name, alias, type, bounds, default,
//!   flags, and whether Viator honours it yet).
//! * [`Config`] holds the current value of every option, with typed getters
//!   for what the server reads.
//! * [`load`] parses config text like Redis's `loadServerConfigFromString`
//!   (quoting, `include`, repeated directives, units, yes/no) and reports
//!   errors with Redis's "FATAL CONFIG FILE ERROR" banner.
//! * [`parse_args`] turns `viator-server [file] [--opt val ...] [-]` into
//!   config text exactly as redis-server's `main()` does.
//! * [`Config::config_get`], [`Config::config_set`] and
//!   [`Config::rewrite`] implement the CONFIG subcommands.
//!
//! # How the server uses it
//!
//! ```no_run
//! use viator_server::config::{self, ArgsOutcome};
//! let args: Vec<String> = std::env::args().skip(1).collect();
//! let startup = match config::parse_args(&args) {
//!     Ok(ArgsOutcome::Run(startup)) => startup,
//!     Ok(ArgsOutcome::Exit { stdout, stderr, code }) => {
//!         print!("{stdout}");
//!         eprint!("{stderr}");
//!         std::process::exit(code);
//!     }
//!     Err(e) => e.exit(),
//! };
//! let cfg = startup.load().unwrap_or_else(|e| e.exit());
//! for warning in cfg.startup_warnings() {
//!     viator_server::log::warning(&warning);
//! }
//! ```
//!
//! The server keeps the `Config` behind a lock and copies hot values
//! (maxclients, timeout, hz...) into atomics; [`Config::config_set`]
//! returns the list of options that changed so it knows what to refresh
//! and what side effects to apply (listen on a new port, `chdir` to a new
//! `dir`...). If a side effect fails, [`Config::revert`] restores the old
//! values, as Redis's `restoreBackupConfig` does.

mod args;
mod command;
mod load;
mod rewrite;
pub mod table;
pub mod util;
mod value;

use std::path::{Path, PathBuf};

pub use args::{ArgsOutcome, StartupArgs, parse_args, usage_text, version_text};
pub use command::{Changes, ConfigSetError, SetContext};
pub use load::{Directive, load, load_isolated, load_with_base};
pub use rewrite::{REWRITE_SIGNATURE, RewriteContext, RewriteError};
pub use table::{Flags, OPTIONS, Opt, OptionDef, OptionKind, lookup};
pub use value::{
    BIND_DEFAULTS, ClientClass, OBUF_DEFAULTS, OOM_DEFAULTS, ObufLimit, SAVE_DEFAULTS, SaveParam,
    Value, notify, notify_flags_from_str, notify_flags_to_string,
};

/// The Redis version Viator is compatible with (reported as
/// `redis_version` and in the startup log).
pub const REDIS_VERSION: &str = "8.4.0";

/// Viator's own version.
pub const VIATOR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A configuration error, reported the way redis-server reports it before
/// exiting with status 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A bad directive or value. Printed to stderr as Redis's banner:
    ///
    /// ```text
    ///
    /// *** FATAL CONFIG FILE ERROR (Viator 0.1.0) ***
    /// Reading the configuration file, at line 2
    /// >>> 'port "abc"'
    /// argument couldn't be parsed into an integer
    /// ```
    ///
    /// The two middle lines are omitted for errors found after the last
    /// line (e.g. "Can't open the log file").
    Fatal {
        /// The 1-based line number and the line, trimmed.
        line: Option<(usize, String)>,
        /// The error message.
        message: String,
    },
    /// A config file or an `include` could not be read. Redis logs
    /// `Fatal error, can't open config file 'PATH': REASON` at warning
    /// level (to the log, not as a banner) and exits.
    CantOpen {
        /// The path as written.
        path: String,
        /// The `strerror` text.
        reason: String,
    },
}

impl ConfigError {
    /// The text Redis writes for this error: the full banner (starting with
    /// an empty line, ending with a newline) for [`ConfigError::Fatal`], the
    /// log message (no newline) for [`ConfigError::CantOpen`].
    pub fn report_text(&self) -> String {
        match self {
            ConfigError::Fatal { line, message } => {
                let mut s =
                    format!("\n*** FATAL CONFIG FILE ERROR (Viator {VIATOR_VERSION}) ***\n");
                if let Some((n, text)) = line {
                    s.push_str(&format!(
                        "Reading the configuration file, at line {n}\n>>> '{text}'\n"
                    ));
                }
                s.push_str(message);
                s.push('\n');
                s
            }
            ConfigError::CantOpen { path, reason } => {
                format!("Fatal error, can't open config file '{path}': {reason}")
            }
        }
    }

    /// The bare error message.
    pub fn message(&self) -> &str {
        match self {
            ConfigError::Fatal { message, .. } => message,
            ConfigError::CantOpen { reason, .. } => reason,
        }
    }

    /// Reports the error like Redis (banner on stderr, or a warning in the
    /// log) and exits the process with status 1.
    pub fn exit(&self) -> ! {
        match self {
            ConfigError::Fatal { .. } => eprint!("{}", self.report_text()),
            ConfigError::CantOpen { .. } => crate::log::warning(&self.report_text()),
        }
        std::process::exit(1)
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.report_text())
    }
}

impl std::error::Error for ConfigError {}

/// The value of `enable-protected-configs`, `enable-debug-command` and
/// `enable-module-command`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtectedAction {
    /// Refused for every client.
    No,
    /// Allowed for every client.
    Yes,
    /// Allowed for clients connected over loopback or a Unix socket.
    Local,
}

impl ProtectedAction {
    /// Whether a client (local or not) may perform the action.
    pub fn allows(self, client_is_local: bool) -> bool {
        match self {
            ProtectedAction::No => false,
            ProtectedAction::Yes => true,
            ProtectedAction::Local => client_is_local,
        }
    }
}

/// `appendfsync` policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendFsync {
    /// Never fsync, let the OS flush.
    No,
    /// fsync once per second.
    Everysec,
    /// fsync after every write.
    Always,
}

/// The current value of every option, plus the directives that are not
/// options (`rename-command`, `user`, `loadmodule`, module options) for the
/// subsystems that own them.
#[derive(Clone, Debug)]
pub struct Config {
    values: Vec<Value>,
    config_file: Option<PathBuf>,
    directives: Vec<Directive>,
    warnings: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        let cwd = std::env::current_dir()
            .map(|p| p.into_os_string().into_encoded_bytes())
            .unwrap_or_default();
        let values = OPTIONS.iter().map(|def| default_value(def, &cwd)).collect();
        Config {
            values,
            config_file: None,
            directives: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// The default value of an option; `cwd` is the default of `dir`.
fn default_value(def: &OptionDef, cwd: &[u8]) -> Value {
    use table::Special;
    match def.kind {
        OptionKind::Bool { default, .. } => Value::Bool(default),
        OptionKind::Numeric { default, .. } => Value::Num(default),
        OptionKind::Enum { default, .. } => Value::Enum(default),
        OptionKind::String { default, .. } => Value::Str(default.map(|s| s.as_bytes().to_vec())),
        OptionKind::Special(sp) => match sp {
            Special::Dir => Value::Dir(cwd.to_vec()),
            Special::Save => Value::Save(SAVE_DEFAULTS.to_vec()),
            Special::ClientOutputBufferLimit => Value::ClientOutputBufferLimit(OBUF_DEFAULTS),
            Special::OomScoreAdjValues => Value::OomScoreAdjValues(OOM_DEFAULTS),
            Special::NotifyKeyspaceEvents => Value::NotifyKeyspaceEvents(0),
            Special::Bind => Value::Bind(
                BIND_DEFAULTS
                    .iter()
                    .map(|s| s.as_bytes().to_vec())
                    .collect(),
            ),
            Special::ReplicaOf => Value::ReplicaOf(None),
            Special::LatencyTrackingInfoPercentiles => Value::Percentiles(vec![50.0, 99.0, 99.9]),
        },
    }
}

impl Config {
    /// A configuration with every option at its default (`dir` is the
    /// current directory).
    pub fn new() -> Config {
        Config::default()
    }

    // ---- generic access ----------------------------------------------------

    /// The stored value of an option.
    pub fn value(&self, opt: Opt) -> &Value {
        &self.values[opt.index()]
    }

    /// Whether an option is at its default value (for `dir`: always true).
    pub fn is_default(&self, opt: Opt) -> bool {
        if opt == Opt::Dir {
            return true;
        }
        self.values[opt.index()] == default_value(opt.def(), b"")
    }

    /// A boolean option's value (false if `opt` is not a boolean).
    pub fn bool(&self, opt: Opt) -> bool {
        matches!(self.values[opt.index()], Value::Bool(true))
    }

    /// A numeric option's raw value (Redis's `long long`; percentages are
    /// negative). 0 if `opt` is not numeric.
    pub fn num(&self, opt: Opt) -> i64 {
        match self.values[opt.index()] {
            Value::Num(v) => v,
            _ => 0,
        }
    }

    /// An enum option's numeric value (see the value lists in [`table`]).
    pub fn enum_value(&self, opt: Opt) -> i32 {
        match self.values[opt.index()] {
            Value::Enum(v) => v,
            _ => 0,
        }
    }

    /// A string option's value; `None` for NULL (and for non-strings).
    pub fn str_opt(&self, opt: Opt) -> Option<&[u8]> {
        match &self.values[opt.index()] {
            Value::Str(Some(s)) => Some(s),
            _ => None,
        }
    }

    /// An option's value formatted as CONFIG GET prints it.
    pub fn get_string(&self, opt: Opt) -> Vec<u8> {
        self.format_value(opt.def())
    }

    /// The absolute path of the config file, if the server was started
    /// with one (CONFIG REWRITE needs it).
    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    /// Sets the config file path (normally done by [`StartupArgs::load`]).
    pub fn set_config_file(&mut self, path: Option<PathBuf>) {
        self.config_file = path;
    }

    /// The `rename-command`, `user`, `loadmodule` and module option
    /// (`name.with.dot value`) directives, in file order.
    pub fn directives(&self) -> &[Directive] {
        &self.directives
    }

    /// Warnings to log at startup: what Redis itself warns about while
    /// loading the config, and "option X has no effect yet" for every
    /// option Viator does not honour yet that is set to a non-default value.
    pub fn startup_warnings(&self) -> Vec<String> {
        let mut out = self.warnings.clone();
        for def in OPTIONS {
            if !def.implemented && !self.is_default(def.id) {
                out.push(format!("option {} has no effect yet", def.name));
            }
        }
        out
    }

    // ---- typed getters -----------------------------------------------------

    /// `port`: the TCP port (0 = no TCP listener).
    pub fn port(&self) -> u16 {
        self.num(Opt::Port) as u16
    }

    /// `bind`: addresses to listen on, as written (an address may start
    /// with `-`, meaning "skip it if unavailable"). Empty: listen on all
    /// interfaces (Redis binds `*` and `-::*` by default).
    pub fn bind(&self) -> Vec<String> {
        self.bind_raw()
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }

    pub(crate) fn bind_raw(&self) -> &[Vec<u8>] {
        match &self.values[Opt::Bind.index()] {
            Value::Bind(v) => v,
            _ => &[],
        }
    }

    /// `databases`: number of databases.
    pub fn databases(&self) -> usize {
        self.num(Opt::Databases) as usize
    }

    /// `dir`: the working directory (absolute). The server must `chdir`
    /// there at startup and whenever CONFIG SET changes it.
    pub fn dir(&self) -> PathBuf {
        self.dir_path()
    }

    pub(crate) fn dir_path(&self) -> PathBuf {
        match &self.values[Opt::Dir.index()] {
            Value::Dir(d) => PathBuf::from(value::os_str(d)),
            _ => PathBuf::new(),
        }
    }

    /// `dbfilename`: the snapshot file name (relative to `dir`).
    pub fn dbfilename(&self) -> PathBuf {
        PathBuf::from(value::os_str(self.str_opt(Opt::Dbfilename).unwrap_or(b"")))
    }

    /// The AOF directory: `appenddirname` in `dir`.
    pub fn aof_dir(&self) -> PathBuf {
        self.dir().join(self.appenddirname())
    }

    /// `loglevel`.
    pub fn loglevel(&self) -> crate::log::Level {
        crate::log::Level::from_index(self.enum_value(Opt::Loglevel))
    }

    /// `logfile`: `None` means standard output (the value "").
    pub fn logfile(&self) -> Option<PathBuf> {
        match self.str_opt(Opt::Logfile) {
            Some(s) if !s.is_empty() => Some(PathBuf::from(value::os_str(s))),
            _ => None,
        }
    }

    /// `requirepass`: the default user's password, if set.
    pub fn requirepass(&self) -> Option<&[u8]> {
        self.str_opt(Opt::Requirepass)
    }

    /// `masterauth`.
    pub fn masterauth(&self) -> Option<&[u8]> {
        self.str_opt(Opt::Masterauth)
    }

    /// `maxclients`.
    pub fn maxclients(&self) -> u32 {
        self.num(Opt::Maxclients) as u32
    }

    /// `timeout`: idle client timeout in seconds (0 = never).
    pub fn timeout(&self) -> u64 {
        self.num(Opt::Timeout) as u64
    }

    /// `tcp-keepalive`: seconds (0 = off).
    pub fn tcp_keepalive(&self) -> u64 {
        self.num(Opt::TcpKeepalive) as u64
    }

    /// `tcp-backlog`.
    pub fn tcp_backlog(&self) -> u32 {
        self.num(Opt::TcpBacklog) as u32
    }

    /// `proto-max-bulk-len`: largest bulk string a client may send.
    pub fn proto_max_bulk_len(&self) -> u64 {
        self.num(Opt::ProtoMaxBulkLen) as u64
    }

    /// `client-query-buffer-limit`: largest query buffer per client.
    pub fn client_query_buffer_limit(&self) -> u64 {
        self.num(Opt::ClientQueryBufferLimit) as u64
    }

    fn protected_action(&self, opt: Opt) -> ProtectedAction {
        match self.enum_value(opt) {
            1 => ProtectedAction::Yes,
            2 => ProtectedAction::Local,
            _ => ProtectedAction::No,
        }
    }

    /// `enable-debug-command`.
    pub fn enable_debug_command(&self) -> ProtectedAction {
        self.protected_action(Opt::EnableDebugCommand)
    }

    /// `enable-protected-configs`.
    pub fn enable_protected_configs(&self) -> ProtectedAction {
        self.protected_action(Opt::EnableProtectedConfigs)
    }

    /// `enable-module-command`.
    pub fn enable_module_command(&self) -> ProtectedAction {
        self.protected_action(Opt::EnableModuleCommand)
    }

    /// `always-show-logo`.
    pub fn always_show_logo(&self) -> bool {
        self.bool(Opt::AlwaysShowLogo)
    }

    /// `io-threads`.
    pub fn io_threads(&self) -> usize {
        self.num(Opt::IoThreads) as usize
    }

    /// `hz`, already clamped to 1..=500 like Redis does.
    pub fn hz(&self) -> u64 {
        self.num(Opt::Hz)
            .clamp(value::HZ_RANGE.0, value::HZ_RANGE.1) as u64
    }

    /// `dynamic-hz`.
    pub fn dynamic_hz(&self) -> bool {
        self.bool(Opt::DynamicHz)
    }

    /// `daemonize`.
    pub fn daemonize(&self) -> bool {
        self.bool(Opt::Daemonize)
    }

    /// `pidfile`, if set.
    pub fn pidfile(&self) -> Option<PathBuf> {
        self.str_opt(Opt::Pidfile)
            .map(|s| PathBuf::from(value::os_str(s)))
    }

    /// `protected-mode`.
    pub fn protected_mode(&self) -> bool {
        self.bool(Opt::ProtectedMode)
    }
    /// `latency-tracking`.
    pub fn latency_tracking(&self) -> bool {
        self.bool(Opt::LatencyTracking)
    }

    /// `latency-tracking-info-percentiles`.
    pub fn latency_tracking_info_percentiles(&self) -> Vec<f64> {
        match self.value(Opt::LatencyTrackingInfoPercentiles) {
            Value::Percentiles(p) => p.clone(),
            _ => Vec::new(),
        }
    }

    /// `maxmemory` in bytes (0 = no limit).
    pub fn maxmemory(&self) -> u64 {
        self.num(Opt::Maxmemory) as u64
    }

    /// `maxmemory-policy`, as the store's eviction policy.
    pub fn maxmemory_policy(&self) -> viator_store::EvictionPolicy {
        let name = self.maxmemory_policy_name();
        viator_store::EvictionPolicy::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map_or(viator_store::EvictionPolicy::NoEviction, |(p, _)| *p)
    }

    /// `maxmemory-policy` by name (`"noeviction"`, `"allkeys-lru"`...).
    pub fn maxmemory_policy_name(&self) -> &'static str {
        let v = self.enum_value(Opt::MaxmemoryPolicy);
        table::MAXMEMORY_POLICY
            .iter()
            .find(|e| e.value == v)
            .map_or("noeviction", |e| e.name)
    }

    /// `lfu-log-factor`.
    pub fn lfu_log_factor(&self) -> u32 {
        self.num(Opt::LfuLogFactor) as u32
    }

    /// `lfu-decay-time` in minutes.
    pub fn lfu_decay_time(&self) -> u32 {
        self.num(Opt::LfuDecayTime) as u32
    }

    /// `maxmemory-samples`.
    pub fn maxmemory_samples(&self) -> u32 {
        self.num(Opt::MaxmemorySamples) as u32
    }

    /// `save` rules (empty: snapshots disabled).
    pub fn save_params(&self) -> &[SaveParam] {
        match &self.values[Opt::Save.index()] {
            Value::Save(v) => v,
            _ => &[],
        }
    }

    /// `rdbcompression`.
    pub fn rdbcompression(&self) -> bool {
        self.bool(Opt::Rdbcompression)
    }

    /// `stop-writes-on-bgsave-error`.
    pub fn stop_writes_on_bgsave_error(&self) -> bool {
        self.bool(Opt::StopWritesOnBgsaveError)
    }

    /// `rdbchecksum`.
    pub fn rdbchecksum(&self) -> bool {
        self.bool(Opt::Rdbchecksum)
    }

    /// `appendonly`.
    pub fn appendonly(&self) -> bool {
        self.bool(Opt::Appendonly)
    }

    /// `appendfsync`.
    pub fn appendfsync(&self) -> AppendFsync {
        match self.enum_value(Opt::Appendfsync) {
            2 => AppendFsync::Always,
            0 => AppendFsync::No,
            _ => AppendFsync::Everysec,
        }
    }

    /// `appendfilename`.
    pub fn appendfilename(&self) -> PathBuf {
        PathBuf::from(value::os_str(
            self.str_opt(Opt::Appendfilename).unwrap_or(b""),
        ))
    }

    /// `appenddirname`.
    pub fn appenddirname(&self) -> PathBuf {
        PathBuf::from(value::os_str(
            self.str_opt(Opt::Appenddirname).unwrap_or(b""),
        ))
    }

    /// `unixsocket`, if set.
    pub fn unixsocket(&self) -> Option<PathBuf> {
        self.str_opt(Opt::Unixsocket)
            .map(|s| PathBuf::from(value::os_str(s)))
    }

    /// `unixsocketperm` (0 = leave the umask's permissions).
    pub fn unixsocketperm(&self) -> u32 {
        self.num(Opt::Unixsocketperm) as u32
    }

    /// `replica-read-only`.
    pub fn replica_read_only(&self) -> bool {
        self.bool(Opt::ReplicaReadOnly)
    }

    /// `replicaof`: the master's host and port, if this is a replica.
    pub fn replicaof(&self) -> Option<(String, u16)> {
        match &self.values[Opt::Replicaof.index()] {
            Value::ReplicaOf(Some((h, p))) => {
                Some((String::from_utf8_lossy(h).into_owned(), *p as u16))
            }
            _ => None,
        }
    }

    /// `lazyfree-lazy-eviction`.
    pub fn lazyfree_lazy_eviction(&self) -> bool {
        self.bool(Opt::LazyfreeLazyEviction)
    }

    /// `lazyfree-lazy-expire`.
    pub fn lazyfree_lazy_expire(&self) -> bool {
        self.bool(Opt::LazyfreeLazyExpire)
    }

    /// `lazyfree-lazy-server-del`.
    pub fn lazyfree_lazy_server_del(&self) -> bool {
        self.bool(Opt::LazyfreeLazyServerDel)
    }

    /// `lazyfree-lazy-user-del`.
    pub fn lazyfree_lazy_user_del(&self) -> bool {
        self.bool(Opt::LazyfreeLazyUserDel)
    }

    /// `lazyfree-lazy-user-flush`.
    pub fn lazyfree_lazy_user_flush(&self) -> bool {
        self.bool(Opt::LazyfreeLazyUserFlush)
    }

    /// `active-expire-effort` (1..=10).
    pub fn active_expire_effort(&self) -> u32 {
        self.num(Opt::ActiveExpireEffort) as u32
    }

    /// `syslog-enabled`.
    pub fn syslog_enabled(&self) -> bool {
        self.bool(Opt::SyslogEnabled)
    }

    /// `syslog-ident`.
    pub fn syslog_ident(&self) -> String {
        String::from_utf8_lossy(self.str_opt(Opt::SyslogIdent).unwrap_or(b"")).into_owned()
    }

    /// `syslog-facility` as the syslog(3) facility code.
    pub fn syslog_facility(&self) -> i32 {
        self.enum_value(Opt::SyslogFacility)
    }

    /// `set-proc-title`.
    pub fn set_proc_title(&self) -> bool {
        self.bool(Opt::SetProcTitle)
    }

    /// `proc-title-template`.
    pub fn proc_title_template(&self) -> Vec<u8> {
        self.str_opt(Opt::ProcTitleTemplate).unwrap_or(b"").to_vec()
    }

    /// `notify-keyspace-events` flags (see [`notify`]).
    pub fn notify_keyspace_events(&self) -> u32 {
        match self.values[Opt::NotifyKeyspaceEvents.index()] {
            Value::NotifyKeyspaceEvents(f) => f,
            _ => 0,
        }
    }

    /// `client-output-buffer-limit`, indexed by [`ClientClass`].
    pub fn client_output_buffer_limits(&self) -> [ObufLimit; 3] {
        match self.values[Opt::ClientOutputBufferLimit.index()] {
            Value::ClientOutputBufferLimit(l) => l,
            _ => OBUF_DEFAULTS,
        }
    }

    /// `slowlog-log-slower-than` in microseconds (negative = disabled).
    pub fn slowlog_log_slower_than(&self) -> i64 {
        self.num(Opt::SlowlogLogSlowerThan)
    }

    /// `slowlog-max-len`.
    pub fn slowlog_max_len(&self) -> u64 {
        self.num(Opt::SlowlogMaxLen) as u64
    }

    /// `ignore-warnings`: the list of startup warnings to silence.
    pub fn ignore_warnings(&self) -> Vec<String> {
        String::from_utf8_lossy(self.str_opt(Opt::IgnoreWarnings).unwrap_or(b""))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// `cluster-enabled`.
    pub fn cluster_enabled(&self) -> bool {
        self.bool(Opt::ClusterEnabled)
    }

    /// `aclfile`, if set.
    pub fn aclfile(&self) -> Option<PathBuf> {
        match self.str_opt(Opt::Aclfile) {
            Some(s) if !s.is_empty() => Some(PathBuf::from(value::os_str(s))),
            _ => None,
        }
    }
}
