//! Parsing redis.conf text, like Redis's `loadServerConfigFromString`.
//!
//! The text is split on `\n`; each line is trimmed of blanks, `#` lines and
//! empty lines are skipped, the rest is split with `sdssplitargs` quoting
//! rules. The first word (lowercased) names an option or one of the
//! directives `include`, `rename-command`, `user`, `loadmodule`,
//! `sentinel`, or a module option (`name.with.dot value`). A repeated
//! option simply overwrites the earlier value, except `save`, whose lines
//! accumulate (the first `save` line of the file replaces the defaults).

use std::path::{Path, PathBuf};

use super::table::lookup;
use super::util::{split_args, strerror, until_nul};
use super::value::{SetSource, os_str};
use super::{Config, ConfigError, Opt};

/// Deprecated directives Redis 8.4 still accepts and ignores, with their
/// accepted argument counts (including the name).
const DEPRECATED: &[(&str, usize, usize)] = &[
    ("list-max-ziplist-entries", 2, 2),
    ("list-max-ziplist-value", 2, 2),
    ("lua-replicate-commands", 2, 2),
    ("io-threads-do-reads", 2, 2),
];

/// How deep `include` may nest (Redis has no limit and overflows its
/// stack on an include loop).
const MAX_INCLUDE_DEPTH: usize = 64;

/// A config file line that is not an option, kept for the subsystem that
/// owns it: `rename-command <old> <new>`, `user <name> <rules...>`,
/// `loadmodule <path> <args...>` or a module option `<module>.<name> <value>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// The directive name, lowercased (`"rename-command"`, `"user"`,
    /// `"loadmodule"`, or the dotted module option name).
    pub name: String,
    /// The arguments after the name.
    pub args: Vec<Vec<u8>>,
    /// The 1-based line number within the text it came from.
    pub line: usize,
    /// The line, trimmed.
    pub text: String,
}

impl Directive {
    /// An error about this directive, printed with its line like every
    /// other config error, e.g. `directive.error("No such command in
    /// rename-command")` (the message Redis gives for an unknown command).
    pub fn error(&self, message: &str) -> ConfigError {
        ConfigError::Fatal {
            line: Some((self.line, self.text.clone())),
            message: message.to_string(),
        }
    }
}

/// Parses config text into a [`Config`] that starts from the defaults.
///
/// `file_path` is the config file the server was started with (kept for
/// CONFIG REWRITE); `text` is everything to parse: the file's content
/// followed by stdin and the command line options (see
/// [`super::StartupArgs::load`]). Relative `include` paths are resolved
/// against the current directory, or against `dir` once a `dir` line has
/// been read (Redis `chdir`s as it reads `dir`).
pub fn load(text: impl AsRef<[u8]>, file_path: Option<&Path>) -> Result<Config, ConfigError> {
    load_with_base(Config::default(), text, file_path)
}

/// Like [`load`] with no config file, for servers embedded in another
/// program or started by tests: snapshots off (`save ""`) and `dir` a new
/// empty directory of its own under the system's temporary directory, so
/// that the server neither loads nor writes the working directory's
/// snapshot. Lines in `text` come after those two and may override them.
pub fn load_isolated(text: impl AsRef<[u8]>) -> Result<Config, ConfigError> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("viator-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| ConfigError::CantOpen {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut all = format!("save \"\"\ndir \"{}\"\n", dir.display()).into_bytes();
    all.extend_from_slice(text.as_ref());
    load(all, None)
}

/// Like [`load`], but applies the text on top of `base` instead of the
/// defaults.
pub fn load_with_base(
    base: Config,
    text: impl AsRef<[u8]>,
    file_path: Option<&Path>,
) -> Result<Config, ConfigError> {
    let mut loader = Loader {
        cfg: base,
        save_loaded: false,
        depth: 0,
    };
    if let Some(p) = file_path {
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        };
        loader.cfg.config_file = Some(abs);
    }
    loader.load_string(text.as_ref())?;
    Ok(loader.cfg)
}

struct Loader {
    cfg: Config,
    save_loaded: bool,
    depth: usize,
}

fn trim(line: &[u8]) -> &[u8] {
    let is_trim = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|c| !is_trim(c)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|c| !is_trim(c))
        .map_or(start, |e| e + 1);
    &line[start..end.max(start)]
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Loader {
    fn load_string(&mut self, text: &[u8]) -> Result<(), ConfigError> {
        let text = until_nul(text);
        let lines: Vec<&[u8]> = if text.is_empty() {
            Vec::new()
        } else {
            text.split(|&c| c == b'\n').collect()
        };
        for (i, raw) in lines.iter().enumerate() {
            let line = trim(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let fatal = |message: String| ConfigError::Fatal {
                line: Some((i + 1, lossy(line))),
                message,
            };
            let Some(mut argv) = split_args(line) else {
                return Err(fatal("Unbalanced quotes in configuration line".into()));
            };
            if argv.is_empty() {
                continue;
            }
            argv[0].make_ascii_lowercase();

            if let Some((opt, _)) = lookup(&argv[0]) {
                let def = opt.def();
                if !def.multi_arg() && argv.len() != 2 {
                    return Err(fatal("wrong number of arguments".into()));
                }
                let args: Vec<Vec<u8>> =
                    if def.multi_arg() && argv.len() == 2 && !argv[1].is_empty() {
                        // Redis 7+: `--save "900 1 300 10"` is one argument
                        // holding several.
                        split_args(&argv[1]).unwrap_or_default()
                    } else {
                        argv[1..].to_vec()
                    };
                let source = SetSource::File {
                    save_loaded: &mut self.save_loaded,
                };
                self.cfg.set_from_args(def, &args, source).map_err(fatal)?;
                continue;
            }

            let name = lossy(&argv[0]);
            let argc = argv.len();
            if DEPRECATED
                .iter()
                .any(|&(n, min, max)| n == name && (min..=max).contains(&argc))
            {
                continue;
            }
            let directive = |cfg: &mut Config| {
                cfg.directives.push(Directive {
                    name: name.clone(),
                    args: argv[1..].to_vec(),
                    line: i + 1,
                    text: lossy(line),
                });
            };
            match name.as_str() {
                "include" if argc == 2 => self.include(&argv[1])?,
                "rename-command" if argc == 3 => directive(&mut self.cfg),
                "user" if argc >= 2 => directive(&mut self.cfg),
                "loadmodule" if argc >= 2 => directive(&mut self.cfg),
                n if n.contains('.') => {
                    if argc < 2 {
                        return Err(fatal("Module config specified without value".into()));
                    }
                    directive(&mut self.cfg);
                }
                "sentinel" => {
                    // A bare `sentinel` switches redis-server to Sentinel
                    // mode; viator-server has none (see viator-sentinel).
                    if argc != 1 {
                        return Err(fatal(
                            "sentinel directive while not in sentinel mode".into(),
                        ));
                    }
                }
                _ => {
                    return Err(fatal("Bad directive or wrong number of arguments".into()));
                }
            }
        }
        self.final_checks()
    }

    /// The checks Redis runs after the last line of every parsed text.
    fn final_checks(&mut self) -> Result<(), ConfigError> {
        if let Some(logfile) = self.cfg.str_opt(Opt::Logfile).filter(|s| !s.is_empty()) {
            let path = self.resolve(logfile);
            if let Err(e) = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
            {
                return Err(ConfigError::Fatal {
                    line: None,
                    message: format!("Can't open the log file: {}", strerror(&e)),
                });
            }
        }
        if self.cfg.cluster_enabled() && self.cfg.replicaof().is_some() {
            return Err(ConfigError::Fatal {
                line: None,
                message: "replicaof directive not allowed in cluster mode".into(),
            });
        }
        if self.cfg.cluster_enabled() && self.cfg.databases() > 1 {
            self.cfg.warnings.push(format!(
                "WARNING: Changing databases number from {} to 1 since we are in cluster mode",
                self.cfg.databases()
            ));
            self.cfg.values[Opt::Databases.index()] = super::Value::Num(1);
        }
        Ok(())
    }

    /// A path as Redis would open it: relative to the current directory,
    /// which is `dir` once `dir` has been read.
    fn resolve(&self, path: &[u8]) -> PathBuf {
        let p = PathBuf::from(os_str(path));
        if p.is_absolute() {
            p
        } else {
            self.cfg.dir_path().join(p)
        }
    }

    fn include(&mut self, path: &[u8]) -> Result<(), ConfigError> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(ConfigError::Fatal {
                line: None,
                message: format!(
                    "include nesting deeper than {MAX_INCLUDE_DEPTH} levels (include loop?)"
                ),
            });
        }
        let content = read_config_source(&self.resolve(path), &lossy(path))?;
        self.depth += 1;
        let res = self.load_string(&content);
        self.depth -= 1;
        res
    }
}

/// Reads a config file like Redis's `loadServerConfig`: a path holding
/// `*`, `?` or `[` is a glob whose matches are read in order and
/// concatenated (no match: nothing, no error); a plain path that cannot be
/// opened is a [`ConfigError::CantOpen`] naming `shown` (the path as the
/// user wrote it).
pub(crate) fn read_config_source(path: &Path, shown: &str) -> Result<Vec<u8>, ConfigError> {
    let bytes = path.as_os_str().as_encoded_bytes();
    if bytes.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
        let mut out = Vec::new();
        for file in glob_paths(path) {
            match std::fs::read(&file) {
                Ok(data) => out.extend_from_slice(&data),
                Err(e) => {
                    return Err(ConfigError::CantOpen {
                        path: file.display().to_string(),
                        reason: strerror(&e),
                    });
                }
            }
        }
        return Ok(out);
    }
    std::fs::read(path).map_err(|e| ConfigError::CantOpen {
        path: shown.to_string(),
        reason: strerror(&e),
    })
}

/// The sorted matches of a glob(3) pattern.
fn glob_paths(pattern: &Path) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(pattern.as_os_str().as_bytes()) else {
        return Vec::new();
    };
    // SAFETY: glob_t is a plain C struct for which all-zero is a valid
    // initial state (glob(3) fills it in).
    let mut g: libc::glob_t = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated pattern, `g` is a valid glob_t;
    // on success we read gl_pathc entries of gl_pathv, then release them
    // with globfree exactly once.
    unsafe {
        if libc::glob(c.as_ptr(), 0, None, &mut g) != 0 {
            libc::globfree(&mut g);
            return Vec::new();
        }
        let mut out = Vec::with_capacity(g.gl_pathc);
        for i in 0..g.gl_pathc {
            let p = *g.gl_pathv.add(i);
            if !p.is_null() {
                let s = std::ffi::CStr::from_ptr(p);
                out.push(PathBuf::from(std::ffi::OsStr::from_bytes(s.to_bytes())));
            }
        }
        libc::globfree(&mut g);
        out
    }
}
