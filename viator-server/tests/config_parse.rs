//! redis.conf parsing and the command line: quoting, units, repeated
//! directives, `include`, and Redis's error banner with line numbers.

use std::path::PathBuf;

use viator_server::config::{
    self, ArgsOutcome, Config, ConfigError, Opt, SaveParam, StartupArgs, Value, load,
};

fn get(cfg: &Config, name: &str) -> String {
    let r = cfg.config_get(&[name]);
    assert_eq!(r.len(), 1, "no option {name}");
    String::from_utf8(r[0].1.clone()).unwrap()
}

fn fatal(text: &str) -> (Option<(usize, String)>, String) {
    match load(text, None) {
        Err(ConfigError::Fatal { line, message }) => (line, message),
        other => panic!("expected a fatal error for {text:?}, got {other:?}"),
    }
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "viator-config-{tag}-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d.canonicalize().unwrap()
}

#[test]
fn defaults_match_redis() {
    let c = Config::default();
    assert_eq!(get(&c, "port"), "6379");
    assert_eq!(get(&c, "save"), "3600 1 300 100 60 10000");
    assert_eq!(get(&c, "bind"), "* -::*");
    assert_eq!(get(&c, "maxmemory"), "0");
    assert_eq!(get(&c, "appendonly"), "no");
    assert_eq!(get(&c, "loglevel"), "notice");
    assert_eq!(
        get(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(get(&c, "proto-max-bulk-len"), "536870912");
    assert_eq!(get(&c, "client-query-buffer-limit"), "1073741824");
    assert_eq!(get(&c, "latency-tracking-info-percentiles"), "50 99 99.9");
    assert_eq!(get(&c, "oom-score-adj-values"), "0 200 800");
    assert_eq!(get(&c, "notify-keyspace-events"), "");
    assert_eq!(get(&c, "unixsocketperm"), "0");
    assert_eq!(get(&c, "replicaof"), "");
    assert_eq!(get(&c, "shutdown-on-sigterm"), "default");
    assert_eq!(get(&c, "acl-pubsub-default"), "resetchannels");
    assert_eq!(get(&c, "syslog-facility"), "local0");
    assert_eq!(get(&c, "list-max-listpack-size"), "-2");
    assert_eq!(get(&c, "slowlog-log-slower-than"), "10000");
    assert_eq!(c.databases(), 16);
    assert_eq!(c.maxclients(), 10000);
    assert!(c.protected_mode());
    assert_eq!(
        std::env::current_dir().unwrap().canonicalize().unwrap(),
        c.dir().canonicalize().unwrap()
    );
}

#[test]
fn comments_blank_lines_and_quotes() {
    let c = load(
        "# a comment\n\n   \n\tport 7000\r\n  # indented comment\nrequirepass \"a b\\x41\\n\"\nmasterauth 'it\\'s'\n",
        None,
    )
    .unwrap();
    assert_eq!(c.port(), 7000);
    assert_eq!(c.requirepass(), Some(&b"a bA\n"[..]));
    assert_eq!(c.masterauth(), Some(&b"it's"[..]));
}

#[test]
fn names_are_case_insensitive_and_aliases_work() {
    let c = load(
        "PORT 7001\nSlave-Read-Only no\nslaveof 10.0.0.1 6380\n",
        None,
    )
    .unwrap();
    assert_eq!(c.port(), 7001);
    assert!(!c.replica_read_only());
    assert_eq!(c.replicaof(), Some(("10.0.0.1".to_string(), 6380)));
    assert_eq!(get(&c, "replica-read-only"), "no");
}

#[test]
fn last_directive_wins() {
    let c = load("port 1\nport 2\nloglevel warning\nloglevel verbose\n", None).unwrap();
    assert_eq!(c.port(), 2);
    assert_eq!(get(&c, "loglevel"), "verbose");
}

#[test]
fn memory_units() {
    let cases = [
        ("1k", "1000"),
        ("1kb", "1024"),
        ("1KB", "1024"),
        ("2m", "2000000"),
        ("2mb", "2097152"),
        ("1g", "1000000000"),
        ("1gB", "1073741824"),
        ("100b", "100"),
        ("123", "123"),
    ];
    for (input, expected) in cases {
        let c = load(format!("maxmemory {input}"), None).unwrap();
        assert_eq!(get(&c, "maxmemory"), expected, "{input}");
    }
    let (_, msg) = fatal("maxmemory 1.5gb");
    assert_eq!(msg, "argument must be a memory value");
    let (_, msg) = fatal("maxmemory -1");
    assert_eq!(msg, "argument must be a memory value");
    let c = load("maxmemory-clients 10%", None).unwrap();
    assert_eq!(get(&c, "maxmemory-clients"), "10%");
    let (_, msg) = fatal("maxmemory-clients 101%");
    assert_eq!(msg, "percentage argument must be less or equal to 100");
    let (_, msg) = fatal("maxmemory-clients x");
    assert_eq!(msg, "argument must be a memory or percent value");
}

#[test]
fn booleans_integers_enums() {
    let (line, msg) = fatal("port 7000\nappendonly maybe\n");
    assert_eq!(line, Some((2, "appendonly maybe".to_string())));
    assert_eq!(msg, "argument must be 'yes' or 'no'");
    let c = load("appendonly YES\nprotected-mode No", None).unwrap();
    assert!(c.appendonly());
    assert!(!c.protected_mode());

    let (_, msg) = fatal("port abc");
    assert_eq!(msg, "argument couldn't be parsed into an integer");
    let (_, msg) = fatal("port +5");
    assert_eq!(msg, "argument couldn't be parsed into an integer");
    let (_, msg) = fatal("port 05");
    assert_eq!(msg, "argument couldn't be parsed into an integer");
    let (_, msg) = fatal("port 70000");
    assert_eq!(msg, "argument must be between 0 and 65535 inclusive");
    let (_, msg) = fatal("maxclients 0");
    assert_eq!(msg, "argument must be between 1 and 4294967295 inclusive");
    let (_, msg) = fatal("hash-max-listpack-entries -1");
    assert_eq!(
        msg,
        "argument must be between 0 and 9223372036854775807 inclusive"
    );
    let (_, msg) = fatal("slowlog-max-len -1");
    assert_eq!(
        msg,
        "argument must be between 0 and 9223372036854775807 inclusive"
    );
    let (_, msg) = fatal("loglevel loud");
    assert_eq!(
        msg,
        "argument(s) must be one of the following: debug, verbose, notice, warning, nothing"
    );
    let c = load("loglevel WARNING\nmaxmemory-policy allkeys-LRU", None).unwrap();
    assert_eq!(get(&c, "loglevel"), "warning");
    assert_eq!(c.maxmemory_policy_name(), "allkeys-lru");
    let c = load("unixsocketperm 700", None).unwrap();
    assert_eq!(c.unixsocketperm(), 0o700);
    assert_eq!(get(&c, "unixsocketperm"), "700");
    let (_, msg) = fatal("unixsocketperm 1000");
    assert_eq!(msg, "argument must be between 0 and 777 inclusive");
    let (_, msg) = fatal("unixsocketperm 9");
    assert_eq!(msg, "argument couldn't be parsed as an octal number");
}

#[test]
fn hz_is_clamped() {
    let c = load("hz 0", None).unwrap();
    assert_eq!(get(&c, "hz"), "1");
    let c = load("hz 100000", None).unwrap();
    assert_eq!(get(&c, "hz"), "500");
}

#[test]
fn save_lines_accumulate() {
    let c = load("save 900 1\nsave 300 10\n", None).unwrap();
    assert_eq!(get(&c, "save"), "900 1 300 10");
    let c = load("save 900 1 300 10 60 10000", None).unwrap();
    assert_eq!(get(&c, "save"), "900 1 300 10 60 10000");
    let c = load("save \"900 1 300 10\"", None).unwrap();
    assert_eq!(get(&c, "save"), "900 1 300 10");
    let c = load("save \"\"", None).unwrap();
    assert_eq!(get(&c, "save"), "");
    assert!(c.save_params().is_empty());
    let c = load("save 100 1\nsave \"\"\n", None).unwrap();
    assert_eq!(get(&c, "save"), "");
    let c = load("save \"\"\nsave 100 1\n", None).unwrap();
    assert_eq!(
        c.save_params(),
        &[SaveParam {
            seconds: 100,
            changes: 1
        }]
    );
    for bad in [
        "save 100",
        "save 0 1",
        "save 10 -1",
        "save a 1",
        "save 1 2 3",
    ] {
        let (_, msg) = fatal(bad);
        assert_eq!(msg, "Invalid save parameters", "{bad}");
    }
}

#[test]
fn multi_value_options() {
    let c = load("bind 127.0.0.1 -::1", None).unwrap();
    assert_eq!(c.bind(), ["127.0.0.1", "-::1"]);
    let c = load("bind \"127.0.0.1 ::1\"", None).unwrap();
    assert_eq!(c.bind(), ["127.0.0.1", "::1"]);
    let c = load("bind \"\"", None).unwrap();
    assert!(c.bind().is_empty());
    let many = (0..17)
        .map(|i| format!("10.0.0.{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let (_, msg) = fatal(&format!("bind {many}"));
    assert_eq!(msg, "Too many bind addresses specified.");

    let c = load("client-output-buffer-limit pubsub 64mb 16mb 90", None).unwrap();
    assert_eq!(
        get(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 90"
    );
    let c = load("client-output-buffer-limit replica 1gb 0 0", None).unwrap();
    assert_eq!(c.client_output_buffer_limits()[1].hard_limit_bytes, 1 << 30);
    let (_, msg) = fatal("client-output-buffer-limit pubsub 1 2");
    assert_eq!(
        msg,
        "Wrong number of arguments in buffer limit configuration."
    );
    let (_, msg) = fatal("client-output-buffer-limit master 1 2 3");
    assert_eq!(
        msg,
        "Invalid client class specified in buffer limit configuration."
    );

    let c = load("oom-score-adj-values 0 100 1000", None).unwrap();
    assert_eq!(get(&c, "oom-score-adj-values"), "0 100 1000");
    let (_, msg) = fatal("oom-score-adj-values 0 100");
    assert_eq!(msg, "wrong number of arguments");

    let c = load("shutdown-on-sigterm save now", None).unwrap();
    assert_eq!(get(&c, "shutdown-on-sigterm"), "save now");
    let (_, msg) = fatal("shutdown-on-sigint save nosave");
    assert_eq!(
        msg,
        "shutdown options SAVE and NOSAVE can't be used simultaneously"
    );

    let c = load("notify-keyspace-events KEA", None).unwrap();
    assert_eq!(get(&c, "notify-keyspace-events"), "AKE");
    let c = load("notify-keyspace-events Ex", None).unwrap();
    assert_eq!(get(&c, "notify-keyspace-events"), "xE");
    let (_, msg) = fatal("notify-keyspace-events q");
    assert_eq!(msg, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");

    let c = load("latency-tracking-info-percentiles 50 99.99 100", None).unwrap();
    assert_eq!(get(&c, "latency-tracking-info-percentiles"), "50 99.99 100");

    let c = load("replicaof no one", None).unwrap();
    assert_eq!(c.replicaof(), None);
    let (_, msg) = fatal("replicaof host 99999");
    assert_eq!(msg, "Invalid master port");
    let (_, msg) = fatal("replicaof host");
    assert_eq!(msg, "wrong number of arguments");
}

#[test]
fn string_options() {
    let c = load("pidfile /tmp/x.pid\nunixsocket \"\"\nlogfile \"\"", None).unwrap();
    assert_eq!(c.pidfile(), Some(PathBuf::from("/tmp/x.pid")));
    assert_eq!(c.unixsocket(), None);
    assert_eq!(c.logfile(), None);
    let (_, msg) = fatal("dbfilename a/b.rdb");
    assert_eq!(msg, "dbfilename can't be a path, just a filename");
    let (_, msg) = fatal("appendfilename \"\"");
    assert_eq!(msg, "appendfilename can't be empty");
    let (_, msg) = fatal("proc-title-template \"{nope}\"");
    assert_eq!(
        msg,
        "template format is invalid or contains unknown variables"
    );
    let c = load("proc-title-template \"{title} {port}\"", None).unwrap();
    assert_eq!(
        c.expand_proc_title(b"{title} {port} {{x", b"viator-server"),
        Some(b"viator-server 6379 {x".to_vec())
    );
}

#[test]
fn line_errors_and_banner() {
    let (line, msg) = fatal("port 7000\n\n# c\nbogus-option 1\n");
    assert_eq!(line, Some((4, "bogus-option 1".to_string())));
    assert_eq!(msg, "Bad directive or wrong number of arguments");

    let (line, msg) = fatal("  port 1 2  ");
    assert_eq!(line, Some((1, "port 1 2".to_string())));
    assert_eq!(msg, "wrong number of arguments");

    let (_, msg) = fatal("requirepass \"abc");
    assert_eq!(msg, "Unbalanced quotes in configuration line");
    let (_, msg) = fatal("requirepass \"abc\"def");
    assert_eq!(msg, "Unbalanced quotes in configuration line");

    let err = load("timeout -1", None).unwrap_err();
    assert_eq!(
        err.report_text(),
        format!(
            "\n*** FATAL CONFIG FILE ERROR (Viator {}) ***\n\
             Reading the configuration file, at line 1\n\
             >>> 'timeout -1'\n\
             argument must be between 0 and 2147483647 inclusive\n",
            config::VIATOR_VERSION
        )
    );

    let (_, msg) = fatal("sentinel monitor a b c");
    assert_eq!(msg, "sentinel directive while not in sentinel mode");
    load("sentinel", None).unwrap();
    let (_, msg) = fatal("mymodule.option");
    assert_eq!(msg, "Module config specified without value");
}

#[test]
fn deprecated_and_kept_directives() {
    let c = load(
        "list-max-ziplist-entries 512\nio-threads-do-reads yes\nlua-replicate-commands yes\n\
         rename-command FLUSHALL \"\"\nuser alice on >pw ~* +@all\nloadmodule /x/redisbloom.so a b\n\
         mymod.opt 5 6\n",
        None,
    )
    .unwrap();
    let d = c.directives();
    assert_eq!(d.len(), 4);
    assert_eq!(d[0].name, "rename-command");
    assert_eq!(d[0].args, vec![b"FLUSHALL".to_vec(), Vec::new()]);
    assert_eq!(d[0].line, 4);
    assert_eq!(d[1].name, "user");
    assert_eq!(d[2].name, "loadmodule");
    assert_eq!(d[3].name, "mymod.opt");
    let e = d[0].error("No such command in rename-command");
    assert_eq!(
        e,
        ConfigError::Fatal {
            line: Some((4, "rename-command FLUSHALL \"\"".into())),
            message: "No such command in rename-command".into()
        }
    );
    // Deprecated names need exactly one argument.
    let (_, msg) = fatal("list-max-ziplist-entries 1 2");
    assert_eq!(msg, "Bad directive or wrong number of arguments");
}

#[test]
fn include_files() {
    let dir = tmpdir("include");
    let inc = dir.join("inc.conf");
    std::fs::write(&inc, "port 7100\nmaxmemory 10mb\n").unwrap();
    let c = load(
        format!("port 1\ninclude {}\nmaxmemory 1mb\n", inc.display()),
        None,
    )
    .unwrap();
    assert_eq!(c.port(), 7100);
    assert_eq!(c.maxmemory(), 1 << 20);

    // Nested includes, and errors report the included file's line.
    let inner = dir.join("inner.conf");
    std::fs::write(&inner, "# inner\nport nope\n").unwrap();
    let outer = dir.join("outer.conf");
    std::fs::write(&outer, format!("include {}\n", inner.display())).unwrap();
    match load(format!("include {}", outer.display()), None) {
        Err(ConfigError::Fatal { line, message }) => {
            assert_eq!(line, Some((2, "port nope".into())));
            assert_eq!(message, "argument couldn't be parsed into an integer");
        }
        other => panic!("{other:?}"),
    }

    // A missing file is fatal; a glob without matches is not.
    let missing = dir.join("missing.conf");
    match load(format!("include {}", missing.display()), None) {
        Err(ConfigError::CantOpen { path, reason }) => {
            assert_eq!(path, missing.display().to_string());
            assert_eq!(reason, "No such file or directory");
        }
        other => panic!("{other:?}"),
    }
    let c = load(format!("include {}/nothing-*.conf", dir.display()), None).unwrap();
    assert_eq!(c.port(), 6379);

    // Globs are read in order and concatenated.
    let d2 = dir.join("conf.d");
    std::fs::create_dir_all(&d2).unwrap();
    std::fs::write(d2.join("a.conf"), "port 7201\n").unwrap();
    std::fs::write(d2.join("b.conf"), "port 7202\n").unwrap();
    let c = load(format!("include {}/*.conf", d2.display()), None).unwrap();
    assert_eq!(c.port(), 7202);

    // Relative includes follow `dir`, as Redis chdir()s while reading.
    let c = load(
        format!("dir {}\ninclude conf.d/a.conf\n", dir.display()),
        None,
    )
    .unwrap();
    assert_eq!(c.port(), 7201);
    assert_eq!(c.dir(), dir);

    // An include loop is an error, not a stack overflow.
    let looped = dir.join("loop.conf");
    std::fs::write(&looped, format!("include {}\n", looped.display())).unwrap();
    assert!(matches!(
        load(format!("include {}", looped.display()), None),
        Err(ConfigError::Fatal { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dir_and_logfile_checks() {
    let (_, msg) = fatal("dir /nonexistent-viator-dir");
    assert_eq!(msg, "No such file or directory");
    let (_, msg) = fatal("dir /etc/passwd");
    assert_eq!(msg, "Not a directory");
    let dir = tmpdir("logfile");
    let c = load(format!("dir {}\nlogfile server.log\n", dir.display()), None).unwrap();
    assert!(dir.join("server.log").exists());
    assert_eq!(c.logfile(), Some(PathBuf::from("server.log")));
    match load("logfile /nonexistent-viator-dir/x.log\n", None) {
        Err(ConfigError::Fatal { line, message }) => {
            assert_eq!(line, None);
            assert_eq!(
                message,
                "Can't open the log file: No such file or directory"
            );
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cluster_sanity_checks() {
    let (line, msg) = fatal("cluster-enabled yes\nreplicaof 1.2.3.4 6379\n");
    assert_eq!(line, None);
    assert_eq!(msg, "replicaof directive not allowed in cluster mode");
    let c = load("cluster-enabled yes\ndatabases 4\n", None).unwrap();
    assert_eq!(c.databases(), 1);
    assert!(c.startup_warnings().iter().any(
        |w| w == "WARNING: Changing databases number from 4 to 1 since we are in cluster mode"
    ));
}

#[test]
fn unimplemented_options_warn() {
    let c = load("activerehashing no\nrdbcompression yes\nport 7000\n", None).unwrap();
    let w = c.startup_warnings();
    assert!(w.contains(&"option activerehashing has no effect yet".to_string()));
    // At its default value: nothing to say.
    assert!(!w.iter().any(|x| x.contains("rdbcompression")));
    assert!(!w.iter().any(|x| x.contains("port")));
}

#[test]
fn binary_and_nul_values() {
    let c = load("requirepass \"a\\x00b\"\npidfile \"/tmp/p\\x00q\"\n", None).unwrap();
    // sds options keep every byte, char* options stop at the NUL.
    assert_eq!(c.requirepass(), Some(&b"a\x00b"[..]));
    assert_eq!(c.value(Opt::Pidfile), &Value::Str(Some(b"/tmp/p".to_vec())));
}

/// The arguments after the program name.
fn args(list: &[&str]) -> Vec<String> {
    list.iter().copied().map(String::from).collect()
}

fn startup(list: &[&str]) -> StartupArgs {
    match config::parse_args(&args(list)).unwrap() {
        ArgsOutcome::Run(s) => s,
        other => panic!("{other:?}"),
    }
}

#[test]
fn command_line_options() {
    let s = startup(&[]);
    assert!(!s.has_args);
    assert_eq!(s.load().unwrap().port(), 6379);

    let s = startup(&["--port", "7000", "--save", ""]);
    assert_eq!(s.config_file, None);
    assert_eq!(
        String::from_utf8(s.options.clone()).unwrap(),
        "port \"7000\" \nsave \"\" "
    );
    let c = s.load().unwrap();
    assert_eq!(c.port(), 7000);
    assert!(c.save_params().is_empty());

    // Several values up to the next option.
    let s = startup(&[
        "--save",
        "900",
        "1",
        "300",
        "10",
        "--bind",
        "127.0.0.1",
        "::1",
    ]);
    let c = s.load().unwrap();
    assert_eq!(get(&c, "save"), "900 1 300 10");
    assert_eq!(c.bind(), ["127.0.0.1", "::1"]);

    // `--save` followed by another option, or last, is an empty save.
    let c = startup(&["--save", "--port", "7001"]).load().unwrap();
    assert!(c.save_params().is_empty());
    assert_eq!(c.port(), 7001);
    let c = startup(&["--port", "7002", "--save"]).load().unwrap();
    assert!(c.save_params().is_empty());

    // Name and value in one argument.
    let c = startup(&["--port 7003"]).load().unwrap();
    assert_eq!(c.port(), 7003);

    // Values are quoted, so spaces and quotes survive.
    let c = startup(&["--requirepass", "a \"b\" c"]).load().unwrap();
    assert_eq!(c.requirepass(), Some(&b"a \"b\" c"[..]));

    // stdin marker: first or last argument only.
    assert!(startup(&["-", "--port", "1"]).from_stdin);
    assert!(startup(&["--port", "1", "-"]).from_stdin);
    let s = startup(&["--port", "1", "-", "--hz", "5"]);
    assert!(!s.from_stdin);

    // Errors on the command line count lines after the (empty) file.
    let err = startup(&["--port", "abc"]).load().unwrap_err();
    assert_eq!(
        err,
        ConfigError::Fatal {
            line: Some((2, "port \"abc\"".into())),
            message: "argument couldn't be parsed into an integer".into()
        }
    );
    let err = startup(&["--bogus"]).load().unwrap_err();
    assert_eq!(
        err,
        ConfigError::Fatal {
            line: Some((2, "bogus".into())),
            message: "Bad directive or wrong number of arguments".into()
        }
    );
}

#[test]
fn command_line_with_config_file() {
    let dir = tmpdir("args");
    let file = dir.join("viator.conf");
    std::fs::write(&file, "port 7300\nmaxmemory 1mb\n").unwrap();
    let s = startup(&[file.to_str().unwrap(), "--port", "7301"]);
    assert_eq!(s.config_file.as_deref(), Some(file.as_path()));
    let c = s.load().unwrap();
    assert_eq!(c.port(), 7301);
    assert_eq!(c.maxmemory(), 1 << 20);
    assert_eq!(c.config_file(), Some(file.as_path()));
    // The file's own lines keep their numbers, options follow.
    assert_eq!(
        s.text_with(b"port 7300\n", b""),
        b"port 7300\n\nport \"7301\" ".to_vec()
    );

    let err = startup(&["/nonexistent-viator/x.conf"]).load().unwrap_err();
    assert_eq!(
        err.report_text(),
        "Fatal error, can't open config file '/nonexistent-viator/x.conf': No such file or directory"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn version_and_help() {
    match config::parse_args(&args(&["--version"])).unwrap() {
        ArgsOutcome::Exit { stdout, code, .. } => {
            assert_eq!(code, 0);
            assert!(stdout.starts_with(&format!(
                "Viator server v={} redis_version=8.4.0 ",
                config::VIATOR_VERSION
            )));
            assert!(stdout.ends_with('\n'));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        config::parse_args(&args(&["-v"])).unwrap(),
        ArgsOutcome::Exit { code: 0, .. }
    ));
    match config::parse_args(&args(&["-h"])).unwrap() {
        ArgsOutcome::Exit { stderr, code, .. } => {
            assert_eq!(code, 1);
            assert!(
                stderr.starts_with("Usage: ./viator-server [/path/to/redis.conf] [options] [-]\n")
            );
        }
        other => panic!("{other:?}"),
    }
    // Only as the first argument.
    let s = startup(&["--port", "1", "--help"]);
    assert!(s.load().is_err());
}
