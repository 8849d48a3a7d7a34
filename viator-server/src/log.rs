//! The server log, in Redis's format:
//!
//! ```text
//! 12345:M 26 Nov 2026 13:35:17.418 * Ready to accept connections tcp
//! ```
//!
//! that is `pid:role day month year time.millis level message`, where the
//! role is `M` (master), `S` (replica), `C` (child process, and every line
//! Redis writes before the server is initialised) or `X` (sentinel), and
//! the level character is `.` debug, `-` verbose, `*` notice, `#` warning.
//!
//! One global logger, usable from any thread: [`log`], [`debug`],
//! [`verbose`], [`notice`], [`warning`] or the `serverlog!` macro (which
//! formats only when the level is enabled). Lines below the `loglevel` are
//! dropped; `logfile ""` writes to standard output; every line is written
//! with one `write` and flushed at once. A log file is opened in append
//! mode for each line, like Redis, so rotating it needs no signal.
//! `loglevel` and `logfile` can change at runtime ([`apply_config`]).
//!
//! The startup lines test harnesses wait for ("Server initialized",
//! "Ready to accept connections tcp", "Failed listening on port ... (tcp),
//! aborting.") and the ASCII logo are provided here too.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};

use parking_lot::Mutex;

use crate::config::{Config, REDIS_VERSION, VIATOR_VERSION};

/// Log levels, from the most to the least verbose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `debug` (`.`).
    Debug = 0,
    /// `verbose` (`-`).
    Verbose = 1,
    /// `notice` (`*`), the default.
    Notice = 2,
    /// `warning` (`#`).
    Warning = 3,
    /// `nothing`: as a `loglevel`, silences everything.
    Nothing = 4,
}

impl Level {
    /// The level with this index (the `loglevel` enum value); out of range
    /// values give `Notice`.
    pub fn from_index(i: i32) -> Level {
        match i {
            0 => Level::Debug,
            1 => Level::Verbose,
            3 => Level::Warning,
            4 => Level::Nothing,
            _ => Level::Notice,
        }
    }

    /// The character that marks the level in a log line.
    pub fn marker(self) -> char {
        match self {
            Level::Debug => '.',
            Level::Verbose => '-',
            Level::Notice => '*',
            Level::Warning | Level::Nothing => '#',
        }
    }

    /// The `loglevel` name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Verbose => "verbose",
            Level::Notice => "notice",
            Level::Warning => "warning",
            Level::Nothing => "nothing",
        }
    }
}

/// The role shown after the pid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// `M`: a master.
    Master,
    /// `S`: a replica.
    Replica,
    /// `C`: a child process (and the lines before the server initialises).
    Child,
    /// `X`: a sentinel.
    Sentinel,
}

impl Role {
    /// The role character.
    pub fn marker(self) -> char {
        match self {
            Role::Master => 'M',
            Role::Replica => 'S',
            Role::Child => 'C',
            Role::Sentinel => 'X',
        }
    }

    fn from_u8(v: u8) -> Role {
        match v {
            1 => Role::Replica,
            2 => Role::Child,
            3 => Role::Sentinel,
            _ => Role::Master,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            Role::Master => 0,
            Role::Replica => 1,
            Role::Child => 2,
            Role::Sentinel => 3,
        }
    }
}

/// Longest message [`log`] writes, like Redis's `LOG_MAX_LEN` (1024 bytes
/// including the terminating NUL): longer messages are cut.
pub const LOG_MAX_LEN: usize = 1023;

static LEVEL: AtomicU8 = AtomicU8::new(Level::Notice as u8);
static ROLE: AtomicU8 = AtomicU8::new(0);
/// `None`: standard output.
static LOGFILE: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Sets the minimum level written.
pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// The minimum level written.
pub fn level() -> Level {
    Level::from_index(i32::from(LEVEL.load(Ordering::Relaxed)))
}

/// Whether a message of `level` would be written.
pub fn enabled(level: Level) -> bool {
    level as u8 >= LEVEL.load(Ordering::Relaxed) && level != Level::Nothing
}

/// Sets the log file; `None` (the `logfile ""` of redis.conf) logs to
/// standard output.
pub fn set_logfile(path: Option<PathBuf>) {
    *LOGFILE.lock() = path;
}

/// The log file, `None` for standard output.
pub fn logfile() -> Option<PathBuf> {
    LOGFILE.lock().clone()
}

/// Sets the role shown in log lines (`M` by default).
pub fn set_role(role: Role) {
    ROLE.store(role.to_u8(), Ordering::Relaxed);
}

/// The role shown in log lines.
pub fn role() -> Role {
    Role::from_u8(ROLE.load(Ordering::Relaxed))
}

/// Takes `loglevel` and `logfile` from the configuration (at startup, and
/// after a CONFIG SET of `loglevel`).
pub fn apply_config(cfg: &Config) {
    set_level(cfg.loglevel());
    set_logfile(cfg.logfile().map(|p| {
        if p.is_absolute() {
            p
        } else {
            cfg.dir().join(p)
        }
    }));
}

/// The local time as Redis prints it: `26 Nov 2026 13:35:17.418`.
pub fn timestamp(now: std::time::SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let d = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as libc::time_t;
    let millis = d.subsec_millis();
    // SAFETY: `tm` is a plain C struct, valid when zeroed; localtime_r only
    // writes into it and reads `secs`.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&secs, &mut tm).is_null() {
            return format!("{secs}.{millis:03}");
        }
        tm
    };
    let month = MONTHS
        .get(usize::try_from(tm.tm_mon).unwrap_or(0))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        month,
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        millis
    )
}

/// One log line (with its newline) as Redis formats it.
pub fn format_line(pid: u32, role: Role, level: Level, timestamp: &str, msg: &str) -> String {
    format!(
        "{pid}:{} {timestamp} {} {msg}\n",
        role.marker(),
        level.marker()
    )
}

fn write_out(bytes: &[u8]) {
    let file = LOGFILE.lock().clone();
    match file {
        None => {
            let out = std::io::stdout();
            let mut out = out.lock();
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }
        Some(path) => {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
            {
                let _ = f.write_all(bytes);
            }
        }
    }
}

fn truncate(msg: &str) -> &str {
    if msg.len() <= LOG_MAX_LEN {
        return msg;
    }
    let mut end = LOG_MAX_LEN;
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    &msg[..end]
}

/// Writes `msg` at `level` with the current role.
pub fn log(level: Level, msg: &str) {
    log_as(role(), level, msg);
}

/// Writes `msg` at `level` with an explicit role (Redis shows `C` for the
/// lines written before the server is initialised).
pub fn log_as(role: Role, level: Level, msg: &str) {
    if !enabled(level) {
        return;
    }
    let line = format_line(
        std::process::id(),
        role,
        level,
        &timestamp(std::time::SystemTime::now()),
        truncate(msg),
    );
    write_out(line.as_bytes());
}

/// Writes `msg` as is, without the prefix or a newline (Redis's `LL_RAW`,
/// used for the logo), if `level` is enabled.
pub fn log_raw(level: Level, msg: &str) {
    if enabled(level) {
        write_out(msg.as_bytes());
    }
}

/// Logs at debug level.
pub fn debug(msg: &str) {
    log(Level::Debug, msg);
}

/// Logs at verbose level.
pub fn verbose(msg: &str) {
    log(Level::Verbose, msg);
}

/// Logs at notice level.
pub fn notice(msg: &str) {
    log(Level::Notice, msg);
}

/// Logs at warning level.
pub fn warning(msg: &str) {
    log(Level::Warning, msg);
}

/// Logs a formatted message, formatting it only if the level is enabled:
/// `serverlog!(Level::Notice, "DB loaded from disk: {:.3} seconds", secs)`.
#[macro_export]
macro_rules! serverlog {
    ($level:expr, $($arg:tt)*) => {{
        let level: $crate::log::Level = $level;
        if $crate::log::enabled(level) {
            $crate::log::log(level, &::std::format!($($arg)*));
        }
    }};
}

// ---------------------------------------------------------------------------
// Startup and listener lines.
// ---------------------------------------------------------------------------

/// Logged once the server is set up, before loading data.
pub const SERVER_INITIALIZED: &str = "Server initialized";

/// Logged (notice) when the TCP listeners are accepting connections.
pub const READY_TCP: &str = "Ready to accept connections tcp";

/// Logged (notice) when the Unix socket listener is accepting connections.
pub const READY_UNIX: &str = "Ready to accept connections unix";

/// Logged (notice) when the TLS listeners are accepting connections.
pub const READY_TLS: &str = "Ready to accept connections tls";

/// `Failed listening on port PORT (KIND), aborting.` (warning), written
/// before exiting when a listener cannot be set up; `kind` is `tcp`, `tls`
/// or `unix`.
pub fn failed_listening(port: u16, kind: &str) -> String {
    format!("Failed listening on port {port} ({kind}), aborting.")
}

/// `Warning: Could not create server TCP listening socket ADDR:PORT: ERROR`
/// (warning), written for each address that fails before
/// [`failed_listening`].
pub fn could_not_create_tcp_socket(addr: &str, port: u16, error: &str) -> String {
    format!("Warning: Could not create server TCP listening socket {addr}:{port}: {error}")
}

/// The three lines Redis logs before initialising (with role `C`):
/// the "is starting" line, the version line and either "Configuration
/// loaded" or, when started without any argument, the warning about the
/// missing config file. `program` is `argv[0]`.
pub fn log_starting(has_args: bool, program: &str) {
    log_as(
        Role::Child,
        Level::Notice,
        "oO0OoO0OoO0Oo Viator is starting oO0OoO0OoO0Oo",
    );
    log_as(
        Role::Child,
        Level::Notice,
        &format!(
            "Viator version={VIATOR_VERSION}, redis_version={REDIS_VERSION}, bits={}, \
             commit=00000000, modified=0, pid={}, just started",
            usize::BITS,
            std::process::id()
        ),
    );
    if has_args {
        log_as(Role::Child, Level::Notice, "Configuration loaded");
    } else {
        log_as(
            Role::Child,
            Level::Warning,
            &format!(
                "Warning: no config file specified, using the default config. In order to \
                 specify a config file use {program} /path/to/redis.conf"
            ),
        );
    }
}

/// The logo shown on a terminal or with `always-show-logo yes`, in the
/// place of Redis's, with the lines harnesses read: `Port:` and `PID:`.
pub fn ascii_logo(mode: &str, port: u16, pid: u32) -> String {
    let version = format!("Viator {VIATOR_VERSION} (00000000/0) {} bit", usize::BITS);
    let art = [
        r"__      ___       _             ",
        r"\ \    / (_)     | |            ",
        r" \ \  / / _  __ _| |_ ___  _ __ ",
        r"  \ \/ / | |/ _` | __/ _ \| '__|",
        r"   \  /  | | (_| | || (_) | |   ",
        r"    \/   |_|\__,_|\__\___/|_|   ",
        r"                                ",
    ];
    let text = [
        version,
        format!("Redis {REDIS_VERSION} compatible"),
        format!("Running in {mode} mode"),
        format!("Port: {port}"),
        format!("PID: {pid}"),
        String::new(),
        String::new(),
    ];
    let mut out = String::from("\n");
    for (a, t) in art.iter().zip(text.iter()) {
        let line = format!("    {a}    {t}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Whether Redis would show the logo: `always-show-logo yes`, or logging
/// to a terminal on standard output without syslog.
pub fn should_show_logo(cfg: &Config) -> bool {
    // SAFETY: isatty only inspects the file descriptor.
    let tty = unsafe { libc::isatty(libc::STDOUT_FILENO) } == 1;
    cfg.always_show_logo() || (!cfg.syslog_enabled() && cfg.logfile().is_none() && tty)
}

/// Logs the logo, or "Running mode=standalone, port=6379." when the logo
/// is not shown (Redis's `redisAsciiArt`). `port` is the port actually
/// listened on.
pub fn log_logo(cfg: &Config, port: u16) {
    let mode = if cfg.cluster_enabled() {
        "cluster"
    } else {
        "standalone"
    };
    if should_show_logo(cfg) {
        log_raw(Level::Notice, &ascii_logo(mode, port, std::process::id()));
    } else {
        notice(&format!("Running mode={mode}, port={port}."));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format() {
        let l = format_line(
            42,
            Role::Master,
            Level::Notice,
            "26 Nov 2026 13:35:17.418",
            "hi",
        );
        assert_eq!(l, "42:M 26 Nov 2026 13:35:17.418 * hi\n");
        let l = format_line(7, Role::Child, Level::Warning, "t", "w");
        assert_eq!(l, "7:C t # w\n");
        assert_eq!(Level::Debug.marker(), '.');
        assert_eq!(Level::Verbose.marker(), '-');
    }

    #[test]
    fn timestamp_shape() {
        let t = timestamp(std::time::SystemTime::now());
        // "dd Mon yyyy HH:MM:SS.mmm"
        let parts: Vec<&str> = t.split(' ').collect();
        assert_eq!(parts.len(), 4, "{t}");
        assert_eq!(parts[0].len(), 2);
        assert_eq!(parts[1].len(), 3);
        assert_eq!(parts[2].len(), 4);
        assert_eq!(parts[3].len(), 12);
    }

    #[test]
    fn logo_has_pid_and_port() {
        let logo = ascii_logo("standalone", 6380, 1234);
        assert!(logo.contains("Port: 6380\n"));
        assert!(logo.contains("PID: 1234\n"));
        assert!(logo.contains("Running in standalone mode"));
        assert!(logo.ends_with("\n\n"));
    }

    #[test]
    fn long_messages_are_cut() {
        let s = "é".repeat(1000);
        assert!(truncate(&s).len() <= LOG_MAX_LEN);
        assert!(truncate("short") == "short");
    }

    #[test]
    fn messages() {
        assert_eq!(
            failed_listening(6379, "tcp"),
            "Failed listening on port 6379 (tcp), aborting."
        );
    }
}
