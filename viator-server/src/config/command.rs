//! CONFIG GET and CONFIG SET, as Redis's `configGetCommand` and
//! `configSetCommand`.

use std::collections::HashSet;

use viator_types::glob::glob_match;

use super::table::{Flags, OPTIONS, OptionDef, lookup};
use super::value::{SetSource, Value, split_spaces};
use super::{Config, Opt};

/// Facts about the client running CONFIG SET.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetContext {
    /// Whether the client is connected over loopback or a Unix socket
    /// (decides protected configs when `enable-protected-configs local`).
    pub client_is_local: bool,
    /// Whether the server is loading its dataset (options flagged
    /// `DENY_LOADING` are then refused with -LOADING).
    pub loading: bool,
}

/// What a successful CONFIG SET changed, and what it replaced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    changed: Vec<Opt>,
    backup: Vec<(Opt, Value)>,
}

impl Changes {
    /// The options whose value changed, in argument order. Volatile options
    /// (TLS files) count as changed even when set to the same value.
    pub fn options(&self) -> &[Opt] {
        &self.changed
    }

    /// The canonical names of the changed options.
    pub fn names(&self) -> Vec<&'static str> {
        self.changed.iter().map(|o| o.name()).collect()
    }

    /// Whether `opt` changed.
    pub fn contains(&self, opt: Opt) -> bool {
        self.changed.contains(&opt)
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty()
    }
}

/// Why CONFIG SET failed. [`ConfigSetError::message`] is the error reply
/// (without the leading `-`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigSetError {
    /// An odd number of arguments: "ERR syntax error".
    Syntax,
    /// A `DENY_LOADING` option while loading: the -LOADING error.
    Loading,
    /// An unknown option name.
    UnknownOption(String),
    /// The option exists but could not be set.
    Failed {
        /// The option name as Redis names it in the message.
        arg: String,
        /// Why, if known.
        reason: Option<String>,
    },
}

impl ConfigSetError {
    /// The error reply text, e.g. "ERR CONFIG SET failed (possibly related
    /// to argument 'port') - argument couldn't be parsed into an integer".
    pub fn message(&self) -> String {
        match self {
            ConfigSetError::Syntax => "ERR syntax error".into(),
            ConfigSetError::Loading => "LOADING Redis is loading the dataset in memory".into(),
            ConfigSetError::UnknownOption(name) => {
                format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
            }
            ConfigSetError::Failed {
                arg,
                reason: Some(r),
            } => format!("ERR CONFIG SET failed (possibly related to argument '{arg}') - {r}"),
            ConfigSetError::Failed { arg, reason: None } => {
                format!("ERR CONFIG SET failed (possibly related to argument '{arg}')")
            }
        }
    }

    /// The error for a side effect the server could not apply after a
    /// successful [`Config::config_set`] (the server then calls
    /// [`Config::revert`]), e.g. `apply_failed(Opt::Port, "Unable to listen
    /// on this port. Check server logs.")`.
    pub fn apply_failed(opt: Opt, reason: &str) -> ConfigSetError {
        ConfigSetError::Failed {
            arg: opt.name().to_string(),
            reason: Some(reason.to_string()),
        }
    }
}

impl std::fmt::Display for ConfigSetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ConfigSetError {}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Config {
    /// CONFIG GET: the options matching any of `patterns` (exact names are
    /// looked up case-insensitively and echoed as typed; patterns are
    /// matched case-insensitively against every name and alias, skipping
    /// hidden options). Each option appears once, as `(name, value)`.
    pub fn config_get<P: AsRef<[u8]>>(&self, patterns: &[P]) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut out: Vec<(Vec<u8>, &'static OptionDef)> = Vec::new();
        for pat in patterns {
            let pat = pat.as_ref();
            // Names match without regard to case, as Redis's result dict
            // does: `hz` and `HZ` are one option, reported as first asked.
            if !pat.iter().any(|c| matches!(c, b'[' | b'*' | b'?')) {
                if seen.contains(&pat.to_ascii_lowercase()) {
                    continue;
                }
                if let Some((opt, _)) = lookup(pat) {
                    seen.insert(pat.to_ascii_lowercase());
                    out.push((pat.to_vec(), opt.def()));
                }
                continue;
            }
            for def in OPTIONS {
                if def.flags.contains(Flags::HIDDEN) {
                    continue;
                }
                for name in std::iter::once(def.name).chain(def.alias) {
                    if seen.contains(name.as_bytes()) {
                        continue;
                    }
                    if glob_match(pat, name.as_bytes(), true) {
                        seen.insert(name.as_bytes().to_vec());
                        out.push((name.as_bytes().to_vec(), def));
                    }
                }
            }
        }
        out.into_iter()
            .map(|(name, def)| {
                let v = self.format_value(def);
                (name, v)
            })
            .collect()
    }

    /// CONFIG SET with `args` = `name value [name value ...]`. Either every
    /// value is set or none is. On success returns what changed; the
    /// server then applies side effects (listen on a new port, `chdir` to
    /// the new `dir`, reload TLS...) and calls [`Config::revert`] if one
    /// fails.
    pub fn config_set<A: AsRef<[u8]>>(
        &mut self,
        args: &[A],
        ctx: &SetContext,
    ) -> Result<Changes, ConfigSetError> {
        if args.is_empty() || args.len() % 2 == 1 {
            return Err(ConfigSetError::Syntax);
        }
        let protected_ok = self.enable_protected_configs().allows(ctx.client_is_local);
        // (option, alias?, name as typed, value). Redis registers an alias
        // as a distinct entry, so `x` and its alias are not duplicates.
        let mut to_set: Vec<(Opt, bool, &[u8])> = Vec::new();
        let mut first_err: Option<ConfigSetError> = None;
        for pair in args.chunks(2) {
            let (name, value) = (pair[0].as_ref(), pair[1].as_ref());
            let Some((opt, alias)) = lookup(name) else {
                if first_err.is_none() {
                    first_err = Some(ConfigSetError::UnknownOption(lossy(name)));
                }
                continue;
            };
            if first_err.is_some() {
                continue;
            }
            let flags = opt.def().flags;
            if flags.contains(Flags::IMMUTABLE)
                || (flags.contains(Flags::PROTECTED) && !protected_ok)
            {
                let reason = if flags.contains(Flags::IMMUTABLE) {
                    "can't set immutable config"
                } else {
                    "can't set protected config"
                };
                first_err = Some(ConfigSetError::Failed {
                    arg: lossy(name),
                    reason: Some(reason.into()),
                });
                continue;
            }
            if ctx.loading && flags.contains(Flags::DENY_LOADING) {
                first_err = Some(ConfigSetError::Loading);
                continue;
            }
            if to_set.iter().any(|&(o, a, _)| o == opt && a == alias) {
                first_err = Some(ConfigSetError::Failed {
                    arg: lossy(name),
                    reason: Some("duplicate parameter".into()),
                });
                continue;
            }
            to_set.push((opt, alias, value));
        }
        if let Some(e) = first_err {
            return Err(e);
        }

        let backup: Vec<(Opt, Value)> = to_set
            .iter()
            .map(|&(o, _, _)| (o, self.values[o.index()].clone()))
            .collect();
        let mut changed = Vec::new();
        for &(opt, alias, value) in &to_set {
            let def = opt.def();
            let argv = if def.multi_arg() {
                split_spaces(value)
            } else {
                vec![value.to_vec()]
            };
            let before = self.values[opt.index()].clone();
            if let Err(reason) = self.set_from_args(def, &argv, SetSource::Runtime) {
                for (o, v) in backup.iter().rev() {
                    self.values[o.index()] = v.clone();
                }
                let arg = if alias {
                    def.alias.unwrap_or(def.name)
                } else {
                    def.name
                };
                return Err(ConfigSetError::Failed {
                    arg: arg.to_string(),
                    reason: Some(reason),
                });
            }
            let differs = self.values[opt.index()] != before;
            if (differs || def.flags.contains(Flags::VOLATILE)) && !changed.contains(&opt) {
                changed.push(opt);
            }
        }
        Ok(Changes { changed, backup })
    }

    /// Restores the values a [`Config::config_set`] replaced (Redis's
    /// `restoreBackupConfig`), when the server could not apply them.
    pub fn revert(&mut self, changes: &Changes) {
        for (o, v) in changes.backup.iter().rev() {
            self.values[o.index()] = v.clone();
        }
    }
}
