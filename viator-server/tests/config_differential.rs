//! Differential tests against a real `redis-server` (Debian's 7.x): the
//! same CONFIG SET / GET script and the same bad command lines, replies and
//! error banners compared. Only cases whose behaviour did not change
//! between Redis 7.0 and 8.4 are listed.
//!
//! Ignored by default; run with
//! `cargo test -p viator-server --test config_differential -- --ignored`
//! on a machine with `redis-server` installed.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use viator_server::config::{self, ArgsOutcome, Config, SetContext};

#[derive(Debug, PartialEq)]
enum Reply {
    Ok(String),
    Err(String),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
    Int(i64),
}

fn read_reply(r: &mut impl BufRead) -> Reply {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let line = line.trim_end_matches("\r\n");
    let (kind, rest) = line.split_at(1);
    match kind {
        "+" => Reply::Ok(rest.to_string()),
        "-" => Reply::Err(rest.to_string()),
        ":" => Reply::Int(rest.parse().unwrap()),
        "$" => {
            let n: i64 = rest.parse().unwrap();
            if n < 0 {
                return Reply::Bulk(None);
            }
            let mut buf = vec![0u8; n as usize + 2];
            std::io::Read::read_exact(r, &mut buf).unwrap();
            buf.truncate(n as usize);
            Reply::Bulk(Some(buf))
        }
        "*" => {
            let n: usize = rest.parse().unwrap();
            Reply::Array((0..n).map(|_| read_reply(r)).collect())
        }
        other => panic!("unexpected reply type {other:?}"),
    }
}

struct Redis {
    child: Child,
    conn: BufReader<TcpStream>,
}

impl Redis {
    fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed to run the differential tests");
        for _ in 0..100 {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                return Redis {
                    child,
                    conn: BufReader::new(s),
                };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not start");
    }

    fn cmd(&mut self, args: &[&[u8]]) -> Reply {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.conn.get_mut().write_all(&out).unwrap();
        read_reply(&mut self.conn)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ours_set(cfg: &mut Config, args: &[&str]) -> Reply {
    match cfg.config_set(args, &SetContext::default()) {
        Ok(_) => Reply::Ok("OK".into()),
        Err(e) => Reply::Err(e.message()),
    }
}

const SET_SCRIPT: &[&[&str]] = &[
    &["port", "abc"],
    &["maxmemory", "1x"],
    &["maxmemory", "-1"],
    &["daemonize", "yes"],
    &["foo", "bar"],
    &["port", "1", "port", "2"],
    &["maxmemory-clients", "101%"],
    &["maxmemory-clients", "5%"],
    &["timeout", "-1"],
    &["timeout", "99999999999999999999"],
    &["save", "100 10 200"],
    &["save", "100 10  200 20"],
    &["save", "0 10"],
    &["save", "+100 +5"],
    &["save", "100 4294967297"],
    &["dbfilename", "x"],
    &["maxmemory", "99999999999999999999kb"],
    &["maxmemory", ""],
    &["maxmemory", "kb"],
    &["maxmemory", "1GB"],
    &["proto-max-bulk-len", "1k"],
    &["hash-max-listpack-entries", "-1"],
    &["slowlog-max-len", "-1"],
    &["maxclients", "0"],
    &["unixsocketperm", "1"],
    &["hz", "05"],
    &["hz", "1000"],
    &["client-output-buffer-limit", "replica 1 1 -1"],
    &["client-output-buffer-limit", "master 1 1 1"],
    &["client-output-buffer-limit", "pubsub 1 2"],
    &["client-output-buffer-limit", "Replica 1mb 2k 3"],
    &["oom-score-adj", "relative"],
    &["oom-score-adj-values", "1 2"],
    &["oom-score-adj-values", "1 2 3000"],
    &["shutdown-on-sigint", "save now"],
    &["shutdown-on-sigint", "save nosave"],
    &["shutdown-on-sigterm", "bogus"],
    &["latency-tracking-info-percentiles", "50 99.99 100"],
    &["latency-tracking-info-percentiles", "101"],
    &["latency-tracking-info-percentiles", "abc"],
    &["notify-keyspace-events", "KEA"],
    &["notify-keyspace-events", "q"],
    &["notify-keyspace-events", "Egx$"],
    &["proc-title-template", "{bogus}"],
    &["proc-title-template", ""],
    &["proc-title-template", "{title"],
    &["cluster-announce-hostname", "a_b"],
    &["slaveof", "1.2.3.4 1"],
    &["protected-mode", "1"],
    &["protected-mode", "YES"],
    &["appendfsync", "Always"],
    &["appendfsync", "sometimes"],
    &["list-max-listpack-size", "-99999999999"],
    &["maxmemory-samples", "0"],
    &["replica-priority", "-1"],
    &["slave-priority", "7"],
    &["lua-time-limit", "abc"],
    &["maxmemory-policy", "nope"],
    &["maxmemory-policy", "allkeys-lru"],
    &["repl-diskless-load", "x"],
    &["tracking-table-max-keys", "-5"],
    &["active-expire-effort", "11"],
    &["set-max-intset-entries", "1k"],
    &["timeout", "5", "maxmemory", "2mb", "port", "bad"],
];

const GET_NAMES: &[&str] = &[
    "maxmemory",
    "maxmemory-clients",
    "save",
    "client-output-buffer-limit",
    "oom-score-adj",
    "oom-score-adj-values",
    "shutdown-on-sigint",
    "latency-tracking-info-percentiles",
    "notify-keyspace-events",
    "hz",
    "appendfsync",
    "slave-priority",
    "replica-priority",
    "maxmemory-policy",
    "protected-mode",
    "timeout",
    "proto-max-bulk-len",
    "unixsocketperm",
    "bind",
    "replicaof",
];

#[test]
#[ignore = "needs redis-server"]
fn config_set_and_get_match_redis() {
    let mut redis = Redis::start();
    let mut ours = config::load("port 6379\nbind 127.0.0.1\nsave \"\"\n", None).unwrap();
    for args in SET_SCRIPT {
        let mut cmd: Vec<&[u8]> = vec![b"CONFIG", b"SET"];
        cmd.extend(args.iter().map(|a| a.as_bytes()));
        let theirs = redis.cmd(&cmd);
        assert_eq!(ours_set(&mut ours, args), theirs, "CONFIG SET {args:?}");
    }
    for name in GET_NAMES {
        let theirs = redis.cmd(&[b"CONFIG", b"GET", name.as_bytes()]);
        let mine = Reply::Array(
            ours.config_get(&[name])
                .into_iter()
                .flat_map(|(k, v)| [Reply::Bulk(Some(k)), Reply::Bulk(Some(v))])
                .collect(),
        );
        assert_eq!(mine, theirs, "CONFIG GET {name}");
    }
    for pattern in ["maxmemory*", "*slave*", "P?RT", "[a]ppendfsync"] {
        let Reply::Array(items) = redis.cmd(&[b"CONFIG", b"GET", pattern.as_bytes()]) else {
            panic!("CONFIG GET {pattern}");
        };
        let mut theirs: Vec<Vec<u8>> = items
            .chunks(2)
            .map(|kv| match &kv[0] {
                Reply::Bulk(Some(k)) => k.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        theirs.sort();
        let mut mine: Vec<Vec<u8>> = ours
            .config_get(&[pattern])
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        mine.sort();
        assert_eq!(mine, theirs, "CONFIG GET {pattern}");
    }
}

const BAD_COMMAND_LINES: &[&[&str]] = &[
    &["--port", "abc"],
    &["--bogus"],
    &["--save", "1"],
    &["--maxmemory", "1.5gb"],
    &["--timeout", "-1"],
    &["--port", "1", "2"],
    &["--requirepass", "a", "b"],
    &["--notify-keyspace-events", "q"],
    &["--save", "--port", "abc"],
    &["--client-output-buffer-limit", "master", "1", "2", "3"],
    &["--port", "7000", "--appendonly", "maybe"],
    &[
        "--bind", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
        "16", "17",
    ],
    &["--logfile", "/nonexistent-viator-dir/x.log"],
    &["--cluster-enabled", "yes", "--replicaof", "127.0.0.1", "1"],
];

#[test]
#[ignore = "needs redis-server"]
fn startup_errors_match_redis() {
    for args in BAD_COMMAND_LINES {
        let out = Command::new("redis-server").args(*args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let theirs = String::from_utf8_lossy(&out.stderr).into_owned();
        let theirs = match (theirs.find("(Redis "), theirs.find(") ***")) {
            (Some(a), Some(b)) => format!(
                "{}(Viator {}{}",
                &theirs[..a],
                config::VIATOR_VERSION,
                &theirs[b..]
            ),
            _ => theirs,
        };
        let full: Vec<String> = args.iter().copied().map(String::from).collect();
        let ArgsOutcome::Run(startup) = config::parse_args(&full).unwrap() else {
            panic!("{args:?}");
        };
        let err = startup.load().expect_err("must fail");
        assert_eq!(err.report_text(), theirs, "{args:?}");
    }
}

#[test]
#[ignore = "needs redis-server"]
fn version_line_shape_matches_redis() {
    let out = Command::new("redis-server")
        .arg("--version")
        .output()
        .unwrap();
    let theirs = String::from_utf8_lossy(&out.stdout).into_owned();
    let ours = config::version_text();
    let keys = |s: &str| -> Vec<String> {
        s.split_whitespace()
            .filter_map(|w| w.split_once('=').map(|(k, _)| k.to_string()))
            .collect()
    };
    // Same fields, plus redis_version.
    let mut expected = keys(&theirs);
    expected.insert(1, "redis_version".into());
    assert_eq!(keys(&ours), expected);
    assert_eq!(out.status.code(), Some(0));
}
