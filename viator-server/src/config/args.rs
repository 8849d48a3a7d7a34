//! The command line, exactly as redis-server's `main()` reads it:
//!
//! ```text
//! viator-server [/path/to/redis.conf] [--option value ...] [-]
//! ```
//!
//! A first argument that does not start with `-` is the config file. The
//! other arguments become config text appended after the file: `--port
//! 7000 --save ''` is `port "7000" \nsave "" `, an option takes every
//! following argument up to the next `--name`, and a `-` as the first or
//! last argument reads more config from stdin (between the file and the
//! options). `-v`/`--version` and `-h`/`--help` are only recognised as the
//! first argument.

use std::io::Read;
use std::path::PathBuf;

use super::load::{load_with_base, read_config_source};
use super::util::{cat_repr, split_args, strerror};
use super::{Config, ConfigError, REDIS_VERSION, VIATOR_VERSION};

/// What to do after reading the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgsOutcome {
    /// Start the server with this configuration source.
    Run(StartupArgs),
    /// Print and exit without starting (`--version`, `--help`).
    Exit {
        /// Text for standard output.
        stdout: String,
        /// Text for standard error.
        stderr: String,
        /// Exit status (`--version`: 0, `--help`: 1, like redis-server).
        code: i32,
    },
}

/// Where the configuration comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartupArgs {
    /// The config file, made absolute (CONFIG REWRITE writes it back).
    pub config_file: Option<PathBuf>,
    /// Whether to read config text from stdin too (`-`).
    pub from_stdin: bool,
    /// The config text built from `--option value` arguments.
    pub options: Vec<u8>,
    /// Whether any argument was given. Without any, Redis loads nothing
    /// and logs "Warning: no config file specified, using the default
    /// config..." (see [`crate::log::log_starting`]).
    pub has_args: bool,
}

impl StartupArgs {
    /// Reads the config file and stdin, appends the options and parses the
    /// whole text, like Redis's `loadServerConfig`. Logs "Reading config
    /// from stdin" when reading stdin.
    pub fn load(&self) -> Result<Config, ConfigError> {
        if !self.has_args {
            return Ok(Config::default());
        }
        let mut text = Vec::new();
        if let Some(path) = &self.config_file {
            text = read_config_source(path, &path.display().to_string())?;
        }
        if self.from_stdin {
            crate::log::notice("Reading config from stdin");
            let mut buf = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut buf) {
                return Err(ConfigError::CantOpen {
                    path: "-".into(),
                    reason: strerror(&e),
                });
            }
            text.extend_from_slice(&buf);
        }
        text.push(b'\n');
        text.extend_from_slice(&self.options);
        load_with_base(Config::default(), &text, self.config_file.as_deref())
    }

    /// The text to parse when the config file's and stdin's contents are
    /// already known (for tests and embedding).
    pub fn text_with(&self, file_content: &[u8], stdin_content: &[u8]) -> Vec<u8> {
        let mut text = file_content.to_vec();
        text.extend_from_slice(stdin_content);
        text.push(b'\n');
        text.extend_from_slice(&self.options);
        text
    }
}

/// The `--help` text (redis-server's, with our binary name).
pub fn usage_text() -> String {
    let lines = [
        "Usage: ./viator-server [/path/to/redis.conf] [options] [-]",
        "       ./viator-server - (read config from stdin)",
        "       ./viator-server -v or --version",
        "       ./viator-server -h or --help",
        "",
        "Examples:",
        "       ./viator-server (run the server with default conf)",
        "       echo 'maxmemory 128mb' | ./viator-server -",
        "       ./viator-server /etc/redis/6379.conf",
        "       ./viator-server --port 7777",
        "       ./viator-server --port 7777 --replicaof 127.0.0.1 8888",
        "       ./viator-server /etc/myredis.conf --loglevel verbose -",
        "       ./viator-server /etc/myredis.conf --loglevel verbose",
        "",
    ];
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// A build identifier (stable for a given version).
fn build_id() -> u64 {
    // FNV-1a of the version strings.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in VIATOR_VERSION.bytes().chain(REDIS_VERSION.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The `--version` line, shaped like redis-server's
/// (`Redis server v=8.4.0 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64
/// build=...`).
pub fn version_text() -> String {
    format!(
        "Viator server v={VIATOR_VERSION} redis_version={REDIS_VERSION} sha=00000000:0 \
         malloc=mimalloc bits={} build={:x}\n",
        usize::BITS,
        build_id()
    )
}

/// Reads the command line: `args` are the arguments after the program
/// name (`std::env::args().skip(1)`).
pub fn parse_args(args: &[String]) -> Result<ArgsOutcome, ConfigError> {
    // Redis indexes argv with the program name at 0; keep its arithmetic.
    let args: Vec<&str> = std::iter::once("")
        .chain(args.iter().map(String::as_str))
        .collect();
    let argc = args.len();
    if argc < 2 {
        return Ok(ArgsOutcome::Run(StartupArgs {
            config_file: None,
            from_stdin: false,
            options: Vec::new(),
            has_args: false,
        }));
    }
    let first = args[1];
    if first == "-v" || first == "--version" {
        return Ok(ArgsOutcome::Exit {
            stdout: version_text(),
            stderr: String::new(),
            code: 0,
        });
    }
    if first == "--help" || first == "-h" {
        return Ok(ArgsOutcome::Exit {
            stdout: String::new(),
            stderr: usage_text(),
            code: 1,
        });
    }

    let mut j = 1;
    let mut config_file = None;
    if !first.starts_with('-') {
        let p = PathBuf::from(first);
        let abs = if p.is_absolute() {
            p
        } else {
            std::env::current_dir()
                .map(|d| d.join(&p))
                .map_err(|e| ConfigError::CantOpen {
                    path: first.to_string(),
                    reason: strerror(&e),
                })?
        };
        config_file = Some(abs);
        j = 2;
    }

    let mut options: Vec<u8> = Vec::new();
    let mut from_stdin = false;
    let mut handled_last_config_arg = true;
    while j < argc {
        let a = args[j].as_bytes();
        if a == b"-" && (j == 1 || j == argc - 1) {
            from_stdin = true;
        } else if handled_last_config_arg && a.starts_with(b"--") {
            if !options.is_empty() {
                options.push(b'\n');
            }
            options.extend_from_slice(&a[2..]);
            options.push(b' ');
            let words = split_args(a).map(|v| v.len());
            if words == Some(1) {
                // Only the option name (`--port`): its value follows.
                handled_last_config_arg = false;
                let is_save = a.eq_ignore_ascii_case(b"--save");
                if j != argc - 1 && args[j + 1].starts_with("--") && is_save {
                    // `--save --port 1`: an empty save, as before Redis 7.0.1.
                    options.extend_from_slice(b"\"\"");
                    handled_last_config_arg = true;
                } else if j == argc - 1 && is_save {
                    options.extend_from_slice(b"\"\"");
                }
            } else {
                // Name and value in one argument (`"--port 6380"`).
                handled_last_config_arg = true;
            }
        } else {
            cat_repr(&mut options, a);
            options.push(b' ');
            handled_last_config_arg = true;
        }
        j += 1;
    }
    Ok(ArgsOutcome::Run(StartupArgs {
        config_file,
        from_stdin,
        options,
        has_args: true,
    }))
}
