//! Option values: how each type is parsed from its arguments (config file
//! line or CONFIG SET), checked, stored and printed for CONFIG GET. The
//! error strings are Redis's, word for word.

use std::path::{Path, PathBuf};

use super::Config;
use super::table::{
    EnumValue, Flags, NumFormat, NumType, OptionDef, OptionKind, Special, Validator,
};
use super::util::{memtoull, strerror, string2d, string2ll, strtoll, strtoll_full, until_nul};

/// One `save <seconds> <changes>` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaveParam {
    /// Seconds since the last save.
    pub seconds: i64,
    /// Number of changes within those seconds (a C `int`).
    pub changes: i32,
}

/// The output buffer limits of one client class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObufLimit {
    /// Hard limit in bytes (0 = none): the client is closed at once.
    pub hard_limit_bytes: u64,
    /// Soft limit in bytes (0 = none).
    pub soft_limit_bytes: u64,
    /// Seconds the soft limit may be exceeded before closing the client.
    pub soft_limit_seconds: i64,
}

/// The client classes that have output buffer limits, in Redis's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientClass {
    /// Normal clients.
    Normal = 0,
    /// Replicas (`slave` / `replica`).
    Replica = 1,
    /// Pub/Sub subscribers.
    Pubsub = 2,
}

/// The stored value of one option.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A boolean option.
    Bool(bool),
    /// A numeric option, stored as Redis's `long long` (percentages are
    /// negative, `unsigned long long` values above `i64::MAX` wrap).
    Num(i64),
    /// An enum option (the OR of flags for multi-argument enums).
    Enum(i32),
    /// A string option; `None` is Redis's NULL.
    Str(Option<Vec<u8>>),
    /// `dir`: an absolute path.
    Dir(Vec<u8>),
    /// `save`.
    Save(Vec<SaveParam>),
    /// `client-output-buffer-limit`, indexed by [`ClientClass`].
    ClientOutputBufferLimit([ObufLimit; 3]),
    /// `oom-score-adj-values`: master, replica, background child.
    OomScoreAdjValues([i32; 3]),
    /// `notify-keyspace-events` flags (see [`super::notify`]).
    NotifyKeyspaceEvents(u32),
    /// `bind` addresses.
    Bind(Vec<Vec<u8>>),
    /// `replicaof` host and port, `None` for a master.
    ReplicaOf(Option<(Vec<u8>, i64)>),
    /// `latency-tracking-info-percentiles`.
    Percentiles(Vec<f64>),
}

/// Default output buffer limits: normal, replica, pubsub.
pub const OBUF_DEFAULTS: [ObufLimit; 3] = [
    ObufLimit {
        hard_limit_bytes: 0,
        soft_limit_bytes: 0,
        soft_limit_seconds: 0,
    },
    ObufLimit {
        hard_limit_bytes: 256 * 1024 * 1024,
        soft_limit_bytes: 64 * 1024 * 1024,
        soft_limit_seconds: 60,
    },
    ObufLimit {
        hard_limit_bytes: 32 * 1024 * 1024,
        soft_limit_bytes: 8 * 1024 * 1024,
        soft_limit_seconds: 60,
    },
];

/// Default `oom-score-adj-values`.
pub const OOM_DEFAULTS: [i32; 3] = [0, 200, 800];

/// Default `bind` addresses.
pub const BIND_DEFAULTS: [&str; 2] = ["*", "-::*"];

/// Default `save` rules.
pub const SAVE_DEFAULTS: [SaveParam; 3] = [
    SaveParam {
        seconds: 3600,
        changes: 1,
    },
    SaveParam {
        seconds: 300,
        changes: 100,
    },
    SaveParam {
        seconds: 60,
        changes: 10000,
    },
];

/// Most addresses `bind` accepts (`CONFIG_BINDADDR_MAX`).
pub const BIND_MAX: usize = 16;

/// Lowest and highest `hz` actually used (`CONFIG_MIN_HZ`, `CONFIG_MAX_HZ`).
pub const HZ_RANGE: (i64, i64) = (1, 500);

/// `notify-keyspace-events` flag bits, as in Redis's `server.h`.
pub mod notify {
    /// `K`: keyspace events (`__keyspace@<db>__`).
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: keyevent events (`__keyevent@<db>__`).
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted set commands.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: expired events.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: evicted events.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: key miss events (excluded from `A`).
    pub const KEY_MISS: u32 = 1 << 11;
    /// Module "loaded" events (not selectable by a character).
    pub const LOADED: u32 = 1 << 12;
    /// `d`: module key type events.
    pub const MODULE: u32 = 1 << 13;
    /// `n`: new key events (excluded from `A`).
    pub const NEW: u32 = 1 << 14;
    /// `A`: alias for `g$lshzxetd`.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// Parses a `notify-keyspace-events` class string; `None` on an unknown
/// character.
pub fn notify_flags_from_str(s: &[u8]) -> Option<u32> {
    let mut flags = 0;
    for &c in until_nul(s) {
        flags |= match c {
            b'A' => notify::ALL,
            b'g' => notify::GENERIC,
            b'$' => notify::STRING,
            b'l' => notify::LIST,
            b's' => notify::SET,
            b'h' => notify::HASH,
            b'z' => notify::ZSET,
            b'x' => notify::EXPIRED,
            b'e' => notify::EVICTED,
            b'K' => notify::KEYSPACE,
            b'E' => notify::KEYEVENT,
            b't' => notify::STREAM,
            b'm' => notify::KEY_MISS,
            b'd' => notify::MODULE,
            b'n' => notify::NEW,
            _ => return None,
        };
    }
    Some(flags)
}

/// Prints `notify-keyspace-events` flags the way Redis does.
pub fn notify_flags_to_string(flags: u32) -> String {
    let mut s = String::new();
    if flags & notify::ALL == notify::ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (notify::GENERIC, 'g'),
            (notify::STRING, '$'),
            (notify::LIST, 'l'),
            (notify::SET, 's'),
            (notify::HASH, 'h'),
            (notify::ZSET, 'z'),
            (notify::EXPIRED, 'x'),
            (notify::EVICTED, 'e'),
            (notify::STREAM, 't'),
            (notify::MODULE, 'd'),
            (notify::NEW, 'n'),
        ] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [
        (notify::KEYSPACE, 'K'),
        (notify::KEYEVENT, 'E'),
        (notify::KEY_MISS, 'm'),
    ] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// Redis's `configEnumGetName`: the first name whose value matches, or
/// for bit flags the names whose bits make up the value, or "unknown".
pub fn enum_name(values: &[EnumValue], value: i32, bitflags: bool) -> String {
    let mut names: Option<String> = None;
    let mut unmatched = value;
    for v in values {
        if v.value == value {
            return v.name.to_string();
        }
        if bitflags && v.value != 0 && v.value == (unmatched & v.value) {
            match &mut names {
                Some(n) => {
                    n.push(' ');
                    n.push_str(v.name);
                }
                None => names = Some(v.name.to_string()),
            }
            unmatched &= !v.value;
        }
    }
    match names {
        Some(n) if unmatched == 0 => n,
        _ => "unknown".to_string(),
    }
}

/// Where a value is being set from; a few options behave differently
/// when read from the config file.
pub(crate) enum SetSource<'a> {
    /// A config file line. `save_loaded` tracks whether a `save` line was
    /// already seen (the first one replaces the defaults, later ones add).
    File { save_loaded: &'a mut bool },
    /// CONFIG SET.
    Runtime,
}

/// The result of parsing arguments for one option.
pub(crate) type SetResult = Result<(), String>;

fn is_base_name(v: &[u8]) -> bool {
    !v.contains(&b'/')
}

impl Config {
    /// Parses `argv` (the arguments after the option name) for `def` and
    /// stores the new value. Returns Redis's error text on failure; the
    /// stored value is then unchanged.
    pub(crate) fn set_from_args(
        &mut self,
        def: &'static OptionDef,
        argv: &[Vec<u8>],
        source: SetSource<'_>,
    ) -> SetResult {
        let idx = def.id.index();
        let arg0: &[u8] = argv.first().map(Vec::as_slice).unwrap_or(b"");
        match def.kind {
            OptionKind::Bool { validator, .. } => {
                let v = if arg0.eq_ignore_ascii_case(b"yes") {
                    true
                } else if arg0.eq_ignore_ascii_case(b"no") {
                    false
                } else {
                    return Err("argument must be 'yes' or 'no'".into());
                };
                if let Some(val) = validator {
                    self.validate_bool(val, v)?;
                }
                self.values[idx] = Value::Bool(v);
            }
            OptionKind::Numeric {
                ty,
                format,
                min,
                max,
                ..
            } => {
                let v = parse_numeric(format, arg0)?;
                check_bounds(ty, format, min, max, v)?;
                let v = if def.id == super::Opt::Hz {
                    v.clamp(HZ_RANGE.0, HZ_RANGE.1)
                } else {
                    v
                };
                self.values[idx] = Value::Num(v);
            }
            OptionKind::Enum {
                values, validator, ..
            } => {
                let bitflags = def.flags.contains(Flags::MULTI_ARG);
                let v = parse_enum(values, argv, bitflags)?;
                if validator == Some(Validator::ShutdownOnSig) && v & 1 != 0 && v & 2 != 0 {
                    return Err(
                        "shutdown options SAVE and NOSAVE can't be used simultaneously".into(),
                    );
                }
                self.values[idx] = Value::Enum(v);
            }
            OptionKind::String {
                empty_is_null,
                binary,
                validator,
                ..
            } => {
                let raw = if binary { arg0 } else { until_nul(arg0) };
                if let Some(val) = validator {
                    self.validate_string(val, raw)?;
                }
                let v = if empty_is_null && raw.is_empty() {
                    None
                } else {
                    Some(raw.to_vec())
                };
                self.values[idx] = Value::Str(v);
            }
            OptionKind::Special(sp) => self.set_special(sp, argv, source)?,
        }
        Ok(())
    }

    fn validate_bool(&self, v: Validator, value: bool) -> SetResult {
        match v {
            Validator::ActiveDefrag if value => {
                Err("Active defragmentation cannot be enabled: it \
                 requires a Redis server compiled with a modified Jemalloc \
                 like the one shipped by default with the Redis source \
                 distribution"
                    .into())
            }
            _ => Ok(()),
        }
    }

    fn validate_string(&self, v: Validator, value: &[u8]) -> SetResult {
        match v {
            Validator::DbFilename => {
                if !is_base_name(value) {
                    return Err("dbfilename can't be a path, just a filename".into());
                }
            }
            Validator::AofFilename => {
                if value.is_empty() {
                    return Err("appendfilename can't be empty".into());
                }
                if !is_base_name(value) {
                    return Err("appendfilename can't be a path, just a filename".into());
                }
            }
            Validator::AofDirname => {
                if value.is_empty() {
                    return Err("appenddirname can't be empty".into());
                }
                if !is_base_name(value) {
                    return Err("appenddirname can't be a path, just a dirname".into());
                }
            }
            Validator::Hostname => {
                if value.len() >= 256 {
                    return Err("Hostnames must be less than 256 characters".into());
                }
                if !value
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
                {
                    return Err(
                        "Hostnames may only contain alphanumeric characters, hyphens or dots"
                            .into(),
                    );
                }
            }
            Validator::HumanNodename => {
                if value
                    .iter()
                    .any(|&c| !c.is_ascii_alphanumeric() && b"!#$%&()*+:;<>?@[]^{|}~".contains(&c))
                {
                    return Err("Announced human node name contained invalid character".into());
                }
            }
            Validator::ProcTitleTemplate => {
                let ok = match self.expand_proc_title(value, b"") {
                    Some(s) => !s.is_empty(),
                    None => false,
                };
                if !ok {
                    return Err("template format is invalid or contains unknown variables".into());
                }
            }
            Validator::OpenUnitDouble => match string2d(value) {
                Some(d) if d > 0.0 && d < 1.0 => {}
                _ => return Err("argument must be a number between 0 and 1 exclusive".into()),
            },
            Validator::NonNegativeDouble => match string2d(value) {
                Some(d) if d >= 0.0 => {}
                _ => return Err("argument must be a non-negative number".into()),
            },
            Validator::ActiveDefrag | Validator::ShutdownOnSig => {}
        }
        Ok(())
    }

    /// Expands a `proc-title-template` (Redis's `sdstemplate` with the
    /// process title variables), trimmed of spaces. `None` if the template
    /// is malformed or names an unknown variable.
    pub fn expand_proc_title(&self, template: &[u8], title: &[u8]) -> Option<Vec<u8>> {
        let mut res = Vec::new();
        let mut p = 0;
        while p < template.len() {
            let Some(rel) = template[p..].iter().position(|&c| c == b'{') else {
                res.extend_from_slice(&template[p..]);
                break;
            };
            let sv = p + rel;
            res.extend_from_slice(&template[p..sv]);
            let name_start = sv + 1;
            if name_start >= template.len() {
                return None;
            }
            if template[name_start] == b'{' {
                res.push(b'{');
                p = name_start + 1;
                continue;
            }
            let ev = name_start + template[name_start..].iter().position(|&c| c == b'}')?;
            let var = &template[name_start..ev];
            res.extend_from_slice(&self.proc_title_variable(var, title)?);
            p = ev + 1;
        }
        let start = res.iter().position(|&c| c != b' ').unwrap_or(res.len());
        let end = res
            .iter()
            .rposition(|&c| c != b' ')
            .map_or(start, |e| e + 1);
        Some(res[start..end.max(start)].to_vec())
    }

    fn proc_title_variable(&self, var: &[u8], title: &[u8]) -> Option<Vec<u8>> {
        let port = self.port();
        let tls_port = self.num(super::Opt::TlsPort);
        Some(match var {
            b"title" => title.to_vec(),
            b"listen-addr" => {
                if port != 0 || tls_port != 0 {
                    let bind = self.bind_raw();
                    let addr: &[u8] = bind.first().map(Vec::as_slice).unwrap_or(b"*");
                    let mut v = addr.to_vec();
                    let p = if port != 0 { i64::from(port) } else { tls_port };
                    v.extend_from_slice(format!(":{p}").as_bytes());
                    v
                } else {
                    let mut v = b"unixsocket:".to_vec();
                    v.extend_from_slice(self.str_opt(super::Opt::Unixsocket).unwrap_or(b""));
                    v
                }
            }
            b"server-mode" => {
                if self.bool(super::Opt::ClusterEnabled) {
                    b"[cluster]".to_vec()
                } else {
                    Vec::new()
                }
            }
            b"config-file" => match &self.config_file {
                Some(p) => p.as_os_str().as_encoded_bytes().to_vec(),
                None => b"-".to_vec(),
            },
            b"port" => port.to_string().into_bytes(),
            b"tls-port" => tls_port.to_string().into_bytes(),
            b"unixsocket" => self.str_opt(super::Opt::Unixsocket).unwrap_or(b"").to_vec(),
            _ => return None,
        })
    }

    fn set_special(&mut self, sp: Special, argv: &[Vec<u8>], source: SetSource<'_>) -> SetResult {
        match sp {
            Special::Dir => {
                if argv.len() != 1 {
                    return Err("wrong number of arguments".into());
                }
                let new = resolve_dir(Path::new(&os_str(&argv[0])), &self.dir_path())?;
                self.values[super::Opt::Dir.index()] =
                    Value::Dir(new.into_os_string().into_encoded_bytes());
            }
            Special::Save => {
                let argv: &[Vec<u8>] = if argv.len() == 1 && argv[0].is_empty() {
                    &[]
                } else {
                    argv
                };
                if argv.len() % 2 == 1 {
                    return Err("Invalid save parameters".into());
                }
                let mut params = Vec::with_capacity(argv.len() / 2);
                for pair in argv.chunks(2) {
                    let seconds = strtoll_full(&pair[0]).ok_or("Invalid save parameters")?;
                    let changes = strtoll_full(&pair[1]).ok_or("Invalid save parameters")?;
                    if seconds < 1 || changes < 0 {
                        return Err("Invalid save parameters".into());
                    }
                    params.push(SaveParam {
                        seconds,
                        changes: changes as i32,
                    });
                }
                let idx = super::Opt::Save.index();
                match source {
                    SetSource::File { save_loaded } if *save_loaded => {
                        if let Value::Save(existing) = &mut self.values[idx] {
                            if argv.is_empty() {
                                existing.clear();
                            }
                            existing.extend(params);
                        }
                    }
                    SetSource::File { save_loaded } => {
                        *save_loaded = true;
                        self.values[idx] = Value::Save(params);
                    }
                    SetSource::Runtime => self.values[idx] = Value::Save(params),
                }
            }
            Special::ClientOutputBufferLimit => {
                if argv.len() % 4 != 0 {
                    return Err("Wrong number of arguments in buffer limit configuration.".into());
                }
                let idx = super::Opt::ClientOutputBufferLimit.index();
                let mut limits = match &self.values[idx] {
                    Value::ClientOutputBufferLimit(l) => *l,
                    _ => OBUF_DEFAULTS,
                };
                let mut updates = Vec::new();
                for group in argv.chunks(4) {
                    let class = client_class_by_name(&group[0])
                        .ok_or("Invalid client class specified in buffer limit configuration.")?;
                    let hard = memtoull(&group[1]);
                    let soft = memtoull(&group[2]);
                    let secs = strtoll_full(&group[3]).map(|v| v as i32);
                    match (hard, soft, secs) {
                        (Some(hard), Some(soft), Some(secs)) if secs >= 0 => {
                            updates.push((
                                class,
                                ObufLimit {
                                    hard_limit_bytes: hard,
                                    soft_limit_bytes: soft,
                                    soft_limit_seconds: i64::from(secs),
                                },
                            ));
                        }
                        _ => {
                            return Err("Error in hard, soft or soft_seconds setting in \
                                 buffer limit configuration."
                                .into());
                        }
                    }
                }
                for (class, limit) in updates {
                    limits[class as usize] = limit;
                }
                self.values[idx] = Value::ClientOutputBufferLimit(limits);
            }
            Special::OomScoreAdjValues => {
                if argv.len() != 3 {
                    return Err("wrong number of arguments".into());
                }
                let mut values = [0i32; 3];
                for (slot, arg) in values.iter_mut().zip(argv) {
                    match strtoll_full(arg) {
                        Some(v) if (-2000..=2000).contains(&v) => *slot = v as i32,
                        _ => {
                            return Err("Invalid oom-score-adj-values, elements must be \
                                 between -2000 and 2000."
                                .into());
                        }
                    }
                }
                if values[1] < values[0] || values[2] < values[1] {
                    crate::log::warning(
                        "The oom-score-adj-values configuration may not work for \
                         non-privileged processes! Please consult the documentation.",
                    );
                }
                self.values[super::Opt::OomScoreAdjValues.index()] =
                    Value::OomScoreAdjValues(values);
            }
            Special::NotifyKeyspaceEvents => {
                if argv.len() != 1 {
                    return Err("wrong number of arguments".into());
                }
                let flags = notify_flags_from_str(&argv[0])
                    .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
                self.values[super::Opt::NotifyKeyspaceEvents.index()] =
                    Value::NotifyKeyspaceEvents(flags);
            }
            Special::Bind => {
                if argv.len() > BIND_MAX {
                    return Err("Too many bind addresses specified.".into());
                }
                let addrs: Vec<Vec<u8>> = if argv.len() == 1 && argv[0].is_empty() {
                    Vec::new()
                } else {
                    argv.iter().map(|a| until_nul(a).to_vec()).collect()
                };
                self.values[super::Opt::Bind.index()] = Value::Bind(addrs);
            }
            Special::ReplicaOf => {
                if argv.len() != 2 {
                    return Err("wrong number of arguments".into());
                }
                let idx = super::Opt::Replicaof.index();
                if argv[0].eq_ignore_ascii_case(b"no") && argv[1].eq_ignore_ascii_case(b"one") {
                    self.values[idx] = Value::ReplicaOf(None);
                    return Ok(());
                }
                // Redis clears the master before validating the port.
                self.values[idx] = Value::ReplicaOf(None);
                let port = strtoll_full(&argv[1]).filter(|p| (0..=65535).contains(p));
                let Some(port) = port else {
                    return Err("Invalid master port".into());
                };
                self.values[idx] = Value::ReplicaOf(Some((argv[0].clone(), port)));
            }
            Special::LatencyTrackingInfoPercentiles => {
                let argv: &[Vec<u8>] = if argv.len() == 1 && argv[0].is_empty() {
                    &[]
                } else {
                    argv
                };
                let mut out = Vec::with_capacity(argv.len());
                let idx = super::Opt::LatencyTrackingInfoPercentiles.index();
                for a in argv {
                    let Some(p) = string2d(a) else {
                        self.values[idx] = Value::Percentiles(Vec::new());
                        return Err("Invalid latency-tracking-info-percentiles parameters".into());
                    };
                    if !(0.0..=100.0).contains(&p) {
                        self.values[idx] = Value::Percentiles(Vec::new());
                        return Err("latency-tracking-info-percentiles parameters should sit \
                             between [0.0,100.0]"
                            .into());
                    }
                    out.push(p);
                }
                self.values[idx] = Value::Percentiles(out);
            }
        }
        Ok(())
    }

    /// The value of `def` as CONFIG GET prints it.
    pub(crate) fn format_value(&self, def: &OptionDef) -> Vec<u8> {
        let value = &self.values[def.id.index()];
        match (def.kind, value) {
            (_, Value::Bool(b)) => {
                if *b {
                    b"yes".to_vec()
                } else {
                    b"no".to_vec()
                }
            }
            (OptionKind::Numeric { format, .. }, Value::Num(v)) => {
                format_numeric(format, *v).into_bytes()
            }
            (OptionKind::Enum { values, .. }, Value::Enum(v)) => {
                enum_name(values, *v, def.flags.contains(Flags::MULTI_ARG)).into_bytes()
            }
            (_, Value::Str(s)) => s.clone().unwrap_or_default(),
            (_, Value::Dir(d)) => d.clone(),
            (_, Value::Save(params)) => params
                .iter()
                .map(|p| format!("{} {}", p.seconds, p.changes))
                .collect::<Vec<_>>()
                .join(" ")
                .into_bytes(),
            (_, Value::ClientOutputBufferLimit(limits)) => limits
                .iter()
                .zip(["normal", "slave", "pubsub"])
                .map(|(l, name)| {
                    format!(
                        "{name} {} {} {}",
                        l.hard_limit_bytes, l.soft_limit_bytes, l.soft_limit_seconds
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
                .into_bytes(),
            (_, Value::OomScoreAdjValues(v)) => format!("{} {} {}", v[0], v[1], v[2]).into_bytes(),
            (_, Value::NotifyKeyspaceEvents(f)) => notify_flags_to_string(*f).into_bytes(),
            (_, Value::Bind(addrs)) => addrs.join(&b' '),
            (_, Value::ReplicaOf(r)) => match r {
                Some((host, port)) => {
                    let mut v = host.clone();
                    v.extend_from_slice(format!(" {port}").as_bytes());
                    v
                }
                None => Vec::new(),
            },
            (_, Value::Percentiles(p)) => p
                .iter()
                .map(|v| super::util::format_percentile(*v))
                .collect::<Vec<_>>()
                .join(" ")
                .into_bytes(),
            // A numeric or enum option always holds the matching variant.
            (_, Value::Num(v)) => v.to_string().into_bytes(),
            (_, Value::Enum(v)) => v.to_string().into_bytes(),
        }
    }
}

/// `getClientTypeByName` restricted to the classes that have limits.
fn client_class_by_name(name: &[u8]) -> Option<ClientClass> {
    let lower = name.to_ascii_lowercase();
    match lower.as_slice() {
        b"normal" => Some(ClientClass::Normal),
        b"slave" | b"replica" => Some(ClientClass::Replica),
        b"pubsub" => Some(ClientClass::Pubsub),
        _ => None,
    }
}

fn parse_enum(values: &[EnumValue], argv: &[Vec<u8>], bitflags: bool) -> Result<i32, String> {
    let err = || {
        let names: Vec<&str> = values.iter().map(|v| v.name).collect();
        let mut msg = format!(
            "argument(s) must be one of the following: {}",
            names.join(", ")
        );
        msg.truncate(255);
        msg
    };
    if argv.is_empty() || (!bitflags && argv.len() != 1) {
        return Err(err());
    }
    let mut acc = 0;
    for a in argv {
        let mut matched = false;
        for v in values {
            if v.name.as_bytes().eq_ignore_ascii_case(a) {
                acc |= v.value;
                matched = true;
            }
        }
        if !matched {
            return Err(err());
        }
    }
    Ok(acc)
}

/// Parses a numeric argument like Redis's `numericParseString`.
pub(crate) fn parse_numeric(format: NumFormat, s: &[u8]) -> Result<i64, String> {
    if matches!(format, NumFormat::Memory | NumFormat::MemoryPercent) {
        if let Some(v) = memtoull(s) {
            return Ok(v as i64);
        }
    }
    if format == NumFormat::MemoryPercent && s.len() > 1 && s[s.len() - 1] == b'%' {
        match string2ll(&s[..s.len() - 1]) {
            Some(v) if v >= 0 => return Ok(-v),
            _ => {}
        }
    }
    if format == NumFormat::Octal {
        let t = until_nul(s);
        let (v, end, overflow) = strtoll(t, 8);
        if !overflow && end == t.len() {
            return Ok(v);
        }
    }
    if format == NumFormat::Integer {
        if let Some(v) = string2ll(s) {
            return Ok(v);
        }
    }
    Err(match format {
        NumFormat::MemoryPercent => "argument must be a memory or percent value",
        NumFormat::Memory => "argument must be a memory value",
        NumFormat::Octal => "argument couldn't be parsed as an octal number",
        NumFormat::Integer => "argument couldn't be parsed into an integer",
    }
    .into())
}

/// Redis's `numericBoundaryCheck`.
pub(crate) fn check_bounds(
    ty: NumType,
    format: NumFormat,
    min: i64,
    max: i64,
    v: i64,
) -> Result<(), String> {
    if ty.unsigned_check() {
        let (u, lo, hi) = (v as u64, min as u64, max as u64);
        if u > hi || u < lo {
            return Err(if format == NumFormat::Octal {
                format!("argument must be between {lo:o} and {hi:o} inclusive")
            } else {
                format!("argument must be between {lo} and {hi} inclusive")
            });
        }
    } else if format == NumFormat::MemoryPercent && v < 0 {
        if v < min {
            return Err(format!(
                "percentage argument must be less or equal to {}",
                min.wrapping_neg()
            ));
        }
    } else if v > max || v < min {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(())
}

/// Redis's `numericConfigGet` formatting.
pub(crate) fn format_numeric(format: NumFormat, v: i64) -> String {
    match format {
        NumFormat::MemoryPercent if v < 0 => format!("{}%", v.unsigned_abs()),
        NumFormat::Memory | NumFormat::MemoryPercent => (v as u64).to_string(),
        NumFormat::Octal => format!("{:o}", v as u64),
        NumFormat::Integer => v.to_string(),
    }
}

/// Converts config bytes to an OS path string (Unix: any bytes).
pub(crate) fn os_str(b: &[u8]) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(until_nul(b)).to_os_string()
}

/// What `chdir(dir)` followed by `getcwd()` would give, relative to the
/// current directory `cwd`, without changing the process's directory.
/// Errors are `strerror` texts.
pub(crate) fn resolve_dir(dir: &Path, cwd: &Path) -> Result<PathBuf, String> {
    let target = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        cwd.join(dir)
    };
    let meta = std::fs::metadata(&target).map_err(|e| strerror(&e))?;
    if !meta.is_dir() {
        return Err(strerror(&std::io::Error::from_raw_os_error(libc::ENOTDIR)));
    }
    // chdir needs search permission on the directory.
    let c = std::ffi::CString::new(target.as_os_str().as_encoded_bytes())
        .map_err(|_| strerror(&std::io::Error::from_raw_os_error(libc::ENOENT)))?;
    // SAFETY: `c` is a valid NUL-terminated path that lives across the call;
    // access(2) only reads it.
    if unsafe { libc::access(c.as_ptr(), libc::X_OK) } != 0 {
        return Err(strerror(&std::io::Error::last_os_error()));
    }
    std::fs::canonicalize(&target).map_err(|e| strerror(&e))
}

/// Splits a CONFIG SET value of a multi-argument option on single spaces
/// (Redis's `sdssplitlen(value, " ")`): an empty value gives no argument,
/// consecutive spaces give empty arguments.
pub(crate) fn split_spaces(value: &[u8]) -> Vec<Vec<u8>> {
    if value.is_empty() {
        return Vec::new();
    }
    value.split(|&c| c == b' ').map(<[u8]>::to_vec).collect()
}
