//! CONFIG GET and CONFIG SET: patterns, formatting, atomicity and Redis's
//! error messages.

use std::collections::HashMap;

use viator_server::config::{Config, ConfigSetError, Opt, SetContext, load};

fn get_map(cfg: &Config, patterns: &[&str]) -> HashMap<String, String> {
    let pairs = cfg.config_get(patterns);
    let n = pairs.len();
    let map: HashMap<String, String> = pairs
        .into_iter()
        .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
        .collect();
    assert_eq!(map.len(), n, "duplicate names in {patterns:?}");
    map
}

fn get1(cfg: &Config, name: &str) -> String {
    let m = get_map(cfg, &[name]);
    m.get(name).cloned().unwrap_or_else(|| panic!("no {name}"))
}

fn set(cfg: &mut Config, args: &[&str]) -> Result<Vec<&'static str>, String> {
    cfg.config_set(args, &SetContext::default())
        .map(|c| c.names())
        .map_err(|e| e.message())
}

#[test]
fn get_exact_names_and_aliases() {
    let c = Config::default();
    let m = get_map(&c, &["port"]);
    assert_eq!(m.len(), 1);
    assert_eq!(m["port"], "6379");
    // Exact names are found case-insensitively and echoed as typed.
    let m = get_map(&c, &["PORT"]);
    assert_eq!(m["PORT"], "6379");
    // One option however it is spelled, reported as first asked (Redis's
    // result dict folds case).
    let m = get_map(&c, &["Port", "port", "PORT"]);
    assert_eq!(m.len(), 1);
    assert_eq!(m["Port"], "6379");
    let m = get_map(&c, &["slaveof", "replicaof"]);
    assert_eq!(m.len(), 2);
    assert_eq!(m["slaveof"], "");
    assert!(get_map(&c, &["no-such-option"]).is_empty());
}

#[test]
fn get_patterns() {
    let c = Config::default();
    let m = get_map(&c, &["*max*entries*"]);
    let mut names: Vec<&str> = m.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "hash-max-listpack-entries",
            "hash-max-ziplist-entries",
            "set-max-intset-entries",
            "set-max-listpack-entries",
            "stream-node-max-entries",
            "zset-max-listpack-entries",
            "zset-max-ziplist-entries"
        ]
    );
    // Case-insensitive patterns; several patterns give unique names.
    let m = get_map(&c, &["MAXMEMORY*", "maxmemory", "maxmemory-p*"]);
    assert!(m.contains_key("maxmemory"));
    assert!(m.contains_key("maxmemory-policy"));
    assert!(m.contains_key("maxmemory-clients"));
    assert_eq!(m["maxmemory-policy"], "noeviction");
    // Character classes and '?'.
    let m = get_map(&c, &["p?r[st]"]);
    assert_eq!(m.len(), 1);
    assert!(m.contains_key("port"));
    // Hidden options only answer to their exact name.
    assert!(!get_map(&c, &["*"]).contains_key("key-load-delay"));
    assert_eq!(get1(&c, "key-load-delay"), "0");
}

#[test]
fn get_star_lists_every_visible_option() {
    let c = Config::default();
    let all = get_map(&c, &["*"]);
    // Redis 8.4 core options (207 names with aliases) plus the options of
    // the built-in modules Viator implements natively.
    for name in [
        "appendonly",
        "slave-read-only",
        "lua-time-limit",
        "bio_cpulist",
        "bio-cpulist",
        "cluster-slot-stats-enabled",
        "replica-full-sync-buffer-limit",
        "cluster-slot-migration-handoff-max-lag-bytes",
        "bf-error-rate",
        "ts-duplicate-policy",
    ] {
        assert!(all.contains_key(name), "{name}");
    }
    assert!(!all.contains_key("io-threads-do-reads"));
    assert!(all.len() >= 207);
}

#[test]
fn set_and_format_values() {
    let mut c = Config::default();
    assert_eq!(set(&mut c, &["maxmemory", "1GB"]).unwrap(), ["maxmemory"]);
    assert_eq!(get1(&c, "maxmemory"), "1073741824");
    set(&mut c, &["maxmemory", "99999999999999999999999"]).unwrap();
    assert_eq!(get1(&c, "maxmemory"), "18446744073709551615");
    set(&mut c, &["maxmemory-clients", "5%"]).unwrap();
    assert_eq!(get1(&c, "maxmemory-clients"), "5%");
    set(&mut c, &["maxmemory-clients", "0%"]).unwrap();
    assert_eq!(get1(&c, "maxmemory-clients"), "0");
    set(&mut c, &["save", "100 1 200 2"]).unwrap();
    assert_eq!(get1(&c, "save"), "100 1 200 2");
    set(&mut c, &["save", ""]).unwrap();
    assert_eq!(get1(&c, "save"), "");
    set(&mut c, &["appendfsync", "Always"]).unwrap();
    assert_eq!(get1(&c, "appendfsync"), "always");
    set(&mut c, &["oom-score-adj", "relative"]).unwrap();
    assert_eq!(get1(&c, "oom-score-adj"), "yes");
    set(&mut c, &["client-output-buffer-limit", "Replica 1 1 1"]).unwrap();
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 1 1 1 pubsub 33554432 8388608 60"
    );
    set(&mut c, &["bind", "127.0.0.1 ::1"]).unwrap();
    assert_eq!(get1(&c, "bind"), "127.0.0.1 ::1");
    set(&mut c, &["hz", "0"]).unwrap();
    assert_eq!(get1(&c, "hz"), "1");
    set(&mut c, &["hz", "1000"]).unwrap();
    assert_eq!(get1(&c, "hz"), "500");
    set(&mut c, &["notify-keyspace-events", "KEA"]).unwrap();
    assert_eq!(get1(&c, "notify-keyspace-events"), "AKE");
    set(&mut c, &["shutdown-on-sigint", "save now"]).unwrap();
    assert_eq!(get1(&c, "shutdown-on-sigint"), "save now");
    set(
        &mut c,
        &["latency-tracking-info-percentiles", "50 99.99 100"],
    )
    .unwrap();
    assert_eq!(
        get1(&c, "latency-tracking-info-percentiles"),
        "50 99.99 100"
    );
    set(&mut c, &["requirepass", ""]).unwrap();
    assert_eq!(c.requirepass(), None);
    set(&mut c, &["requirepass", "secret"]).unwrap();
    assert_eq!(c.requirepass(), Some(&b"secret"[..]));
    set(&mut c, &["loglevel", "debug"]).unwrap();
    assert_eq!(c.loglevel(), viator_server::log::Level::Debug);
}

#[test]
fn set_error_messages() {
    let mut c = Config::default();
    let e = |c: &mut Config, args: &[&str]| set(c, args).unwrap_err();
    assert_eq!(
        e(&mut c, &["port", "abc"]),
        "ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer"
    );
    assert_eq!(
        e(&mut c, &["maxmemory", "1x"]),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    );
    assert_eq!(
        e(&mut c, &["loglevel", "foo"]),
        "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning, nothing"
    );
    assert_eq!(
        e(&mut c, &["daemonize", "yes"]),
        "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"
    );
    assert_eq!(
        e(&mut c, &["foo", "bar"]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    );
    assert_eq!(
        e(&mut c, &["port", "1", "port", "2"]),
        "ERR CONFIG SET failed (possibly related to argument 'port') - duplicate parameter"
    );
    assert_eq!(
        e(&mut c, &["PORT", "1", "Port", "2"]),
        "ERR CONFIG SET failed (possibly related to argument 'Port') - duplicate parameter"
    );
    assert_eq!(e(&mut c, &["port"]), "ERR syntax error");
    assert_eq!(
        e(&mut c, &["maxmemory-clients", "101%"]),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"
    );
    assert_eq!(
        e(&mut c, &["timeout", "-1"]),
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive"
    );
    assert_eq!(
        e(&mut c, &["save", "100 10 200"]),
        "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"
    );
    assert_eq!(
        e(&mut c, &["save", "100 10  200 20"]),
        "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"
    );
    assert_eq!(
        e(&mut c, &["dbfilename", "x"]),
        "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"
    );
    assert_eq!(
        e(&mut c, &["slaveof", "1.2.3.4 1"]),
        "ERR CONFIG SET failed (possibly related to argument 'slaveof') - can't set immutable config"
    );
    assert_eq!(
        e(&mut c, &["slave-read-only", "maybe"]),
        "ERR CONFIG SET failed (possibly related to argument 'slave-read-only') - argument must be 'yes' or 'no'"
    );
    assert_eq!(
        e(&mut c, &["activedefrag", "yes"]),
        "ERR CONFIG SET failed (possibly related to argument 'activedefrag') - Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"
    );
    assert_eq!(
        e(&mut c, &["client-output-buffer-limit", "replica 1 1 -1"]),
        "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Error in hard, soft or soft_seconds setting in buffer limit configuration."
    );
    assert_eq!(
        e(&mut c, &["oom-score-adj-values", "1 2 3000"]),
        "ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - Invalid oom-score-adj-values, elements must be between -2000 and 2000."
    );
    assert_eq!(
        e(&mut c, &["latency-tracking-info-percentiles", "101"]),
        "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
    );
    assert_eq!(
        e(&mut c, &["cluster-announce-hostname", "a_b"]),
        "ERR CONFIG SET failed (possibly related to argument 'cluster-announce-hostname') - Hostnames may only contain alphanumeric characters, hyphens or dots"
    );
}

#[test]
fn the_first_error_wins() {
    let mut c = Config::default();
    // An unknown name before an immutable one...
    assert_eq!(
        set(&mut c, &["nope", "1", "daemonize", "yes"]).unwrap_err(),
        "ERR Unknown option or number of arguments for CONFIG SET - 'nope'"
    );
    // ...and after it.
    assert_eq!(
        set(&mut c, &["daemonize", "yes", "nope", "1"]).unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"
    );
}

#[test]
fn set_is_atomic() {
    let mut c = Config::default();
    let err = set(
        &mut c,
        &["maxmemory", "10mb", "timeout", "5", "port", "nope"],
    )
    .unwrap_err();
    assert_eq!(
        err,
        "ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer"
    );
    assert_eq!(c.maxmemory(), 0);
    assert_eq!(c.timeout(), 0);
    assert_eq!(c.port(), 6379);

    let changes = c
        .config_set(
            &["maxmemory", "10mb", "timeout", "5", "port", "6379"],
            &SetContext::default(),
        )
        .unwrap();
    // Setting a value to itself is not a change.
    assert_eq!(changes.names(), ["maxmemory", "timeout"]);
    assert!(changes.contains(Opt::Timeout));
    assert!(!changes.contains(Opt::Port));
    assert_eq!(c.maxmemory(), 10 << 20);

    // The server could not apply a side effect: revert.
    c.revert(&changes);
    assert_eq!(c.maxmemory(), 0);
    assert_eq!(c.timeout(), 0);
    assert_eq!(
        ConfigSetError::apply_failed(
            Opt::Port,
            "Unable to listen on this port. Check server logs."
        )
        .message(),
        "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."
    );
}

#[test]
fn alias_and_name_are_not_duplicates() {
    let mut c = Config::default();
    // Redis registers aliases as separate entries: the last one wins.
    set(
        &mut c,
        &["replica-read-only", "no", "slave-read-only", "yes"],
    )
    .unwrap();
    assert!(c.replica_read_only());
}

#[test]
fn protected_and_loading() {
    let mut c = load("enable-protected-configs local", None).unwrap();
    let local = SetContext {
        client_is_local: true,
        loading: false,
    };
    let remote = SetContext::default();
    assert!(c.config_set(&["dbfilename", "a.rdb"], &local).is_ok());
    assert_eq!(
        c.config_set(&["dbfilename", "b.rdb"], &remote)
            .unwrap_err()
            .message(),
        "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"
    );
    let loading = SetContext {
        client_is_local: true,
        loading: true,
    };
    assert_eq!(
        c.config_set(&["appendonly", "yes"], &loading).unwrap_err(),
        ConfigSetError::Loading
    );
    assert!(c.config_set(&["maxmemory", "1mb"], &loading).is_ok());
}

#[test]
fn set_dir() {
    let dir = std::env::temp_dir().canonicalize().unwrap();
    let mut c = load("enable-protected-configs yes", None).unwrap();
    let ctx = SetContext::default();
    let changes = c.config_set(&["dir", dir.to_str().unwrap()], &ctx).unwrap();
    assert_eq!(c.dir(), dir);
    let _ = changes;
    assert_eq!(
        c.config_set(&["dir", "/nonexistent-viator"], &ctx)
            .unwrap_err()
            .message(),
        "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
    );
    assert_eq!(c.dir(), dir);
}

#[test]
fn binary_values_round_trip() {
    let mut c = Config::default();
    let pw: &[u8] = b"p\x00w\xff";
    c.config_set(&[&b"requirepass"[..], pw], &SetContext::default())
        .unwrap();
    assert_eq!(c.requirepass(), Some(pw));
    let got = c.config_get(&["requirepass"]);
    assert_eq!(got[0].1, pw);
}
