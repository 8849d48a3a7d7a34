//! The append-only file end to end: writes survive a restart, with Redis's
//! directory layout and manifest; BGREWRITEAOF and CONFIG SET appendonly;
//! a file cut short by a crash (aof-load-truncated); a kill -9 while 20
//! clients write loses nothing acknowledged under `appendfsync always`;
//! Redis loads Viator's AOF directory and the reverse.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Client, Process, info_field, scratch, spawn_server, start_in};

fn manifest(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap()
}

/// BGREWRITEAOF, started at once, and its end.
fn rewrite(c: &mut Client) {
    assert_eq!(
        c.cmd(&["BGREWRITEAOF"]),
        "+Background append only file rewriting started"
    );
    wait_rewrite(c);
}

fn wait_rewrite(c: &mut Client) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_field(c, "persistence", "aof_rewrite_in_progress") == "1"
        || info_field(c, "persistence", "aof_rewrite_scheduled") == "1"
    {
        assert!(Instant::now() < deadline, "rewrite never ended");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes of several kinds, in two databases, one transaction.
fn write_some(c: &mut Client) {
    assert_eq!(c.cmd(&["SET", "s", "v"]), "+OK");
    assert_eq!(c.cmd(&["SET", "ttl", "v", "PXAT", "4102444800000"]), "+OK");
    assert_eq!(c.cmd(&["RPUSH", "list", "a", "b", "c"]), ":3");
    assert_eq!(c.cmd(&["LPOP", "list"]), "\"a\"");
    assert_eq!(c.cmd(&["HSET", "h", "f", "1", "g", "2"]), ":2");
    assert_eq!(c.cmd(&["ZADD", "z", "1", "a", "2", "b"]), ":2");
    assert_eq!(c.cmd(&["SADD", "set", "x"]), ":1");
    assert_eq!(c.cmd(&["SELECT", "3"]), "+OK");
    assert_eq!(c.cmd(&["SET", "in3", "three"]), "+OK");
    assert_eq!(c.cmd(&["MULTI"]), "+OK");
    assert_eq!(c.cmd(&["INCR", "n"]), "+QUEUED");
    assert_eq!(c.cmd(&["INCR", "n"]), "+QUEUED");
    assert_eq!(c.cmd(&["EXEC"]), "[:1,:2]");
    assert_eq!(c.cmd(&["SELECT", "0"]), "+OK");
    assert_eq!(c.cmd(&["DEL", "set"]), ":1");
}

fn check_some(c: &mut Client) {
    assert_eq!(c.cmd(&["GET", "s"]), "\"v\"");
    assert_eq!(c.cmd(&["PEXPIRETIME", "ttl"]), ":4102444800000");
    assert_eq!(c.cmd(&["LRANGE", "list", "0", "-1"]), "[\"b\",\"c\"]");
    assert_eq!(c.cmd(&["HGETALL", "h"]), "[\"f\",\"1\",\"g\",\"2\"]");
    assert_eq!(c.cmd(&["ZSCORE", "z", "b"]), "\"2\"");
    assert_eq!(c.cmd(&["EXISTS", "set"]), ":0");
    assert_eq!(c.cmd(&["SELECT", "3"]), "+OK");
    assert_eq!(c.cmd(&["MGET", "in3", "n"]), "[\"three\",\"2\"]");
    assert_eq!(c.cmd(&["SELECT", "0"]), "+OK");
    assert_eq!(c.cmd(&["DBSIZE"]), ":5");
}

#[test]
fn writes_survive_a_restart_in_redis_layout() {
    let dir = scratch("restart");
    let server = start_in(&dir, "appendonly yes\nappendfsync always\n").unwrap();
    let mut c = Client::new(&server);
    assert_eq!(info_field(&mut c, "persistence", "aof_enabled"), "1");
    write_some(&mut c);
    // An empty server's first base, and the incremental file after it.
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i startoffset 0\n"
    );
    let incr = std::fs::read(dir.join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap();
    let text = String::from_utf8_lossy(&incr);
    // Each write as a command, a SELECT where the database changes, the
    // transaction wrapped, reads and the no-op left out.
    assert!(
        text.starts_with(
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\ns\r\n$1\r\nv\r\n"
        ),
        "{text}"
    );
    assert!(text.contains("*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*3\r\n$3\r\nSET\r\n$3\r\nin3\r\n$5\r\nthree\r\n*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n"), "{text}");
    assert!(!text.contains("LRANGE") && !text.contains("GET\r\n"));
    server.shutdown();

    let server = start_in(&dir, "appendonly yes\n").unwrap();
    let mut c = Client::new(&server);
    check_some(&mut c);
    // The same incremental file goes on.
    assert_eq!(c.cmd(&["SET", "after", "1"]), "+OK");
    server.shutdown();
    let server = start_in(&dir, "appendonly yes\n").unwrap();
    let mut c = Client::new(&server);
    assert_eq!(c.cmd(&["GET", "after"]), "\"1\"");
    assert_eq!(c.cmd(&["DBSIZE"]), ":6");
    server.shutdown();
}

#[test]
fn bgrewriteaof_makes_a_new_base_and_drops_the_old_files() {
    let dir = scratch("rewrite");
    let server = start_in(&dir, "appendonly yes\nappendfsync always\n").unwrap();
    let mut c = Client::new(&server);
    write_some(&mut c);
    for i in 0..200 {
        assert_eq!(c.cmd(&["INCR", "counter"]), format!(":{}", i + 1));
    }
    rewrite(&mut c);
    assert_eq!(info_field(&mut c, "persistence", "aof_rewrites"), "1");
    assert_eq!(
        info_field(&mut c, "persistence", "aof_last_bgrewrite_status"),
        "ok"
    );
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i startoffset 0\n"
    );
    let mut names: Vec<String> = std::fs::read_dir(dir.join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "appendonly.aof.2.base.rdb",
            "appendonly.aof.2.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    // The base is an RDB marked as an AOF base; the 200 INCRs are in it,
    // not in the new incremental file.
    let base = std::fs::read(dir.join("appendonlydir/appendonly.aof.2.base.rdb")).unwrap();
    assert!(base.starts_with(b"REDIS0012"));
    assert!(base.windows(8).any(|w| w == b"aof-base"));
    assert_eq!(
        std::fs::metadata(dir.join("appendonlydir/appendonly.aof.2.incr.aof"))
            .unwrap()
            .len(),
        0
    );
    assert_eq!(c.cmd(&["SET", "later", "x"]), "+OK");
    server.shutdown();
    let server = start_in(&dir, "appendonly yes\n").unwrap();
    let mut c = Client::new(&server);
    check_some_with_counter(&mut c);
    server.shutdown();
}

fn check_some_with_counter(c: &mut Client) {
    assert_eq!(c.cmd(&["GET", "counter"]), "\"200\"");
    assert_eq!(c.cmd(&["GET", "later"]), "\"x\"");
    assert_eq!(c.cmd(&["DEL", "counter", "later"]), ":2");
    check_some(c);
}

#[test]
fn config_set_appendonly_turns_the_aof_on_and_off() {
    let dir = scratch("config");
    let server = start_in(&dir, "").unwrap();
    let mut c = Client::new(&server);
    assert_eq!(info_field(&mut c, "persistence", "aof_enabled"), "0");
    write_some(&mut c);
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]), "+OK");
    wait_rewrite(&mut c);
    assert_eq!(info_field(&mut c, "persistence", "aof_enabled"), "1");
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i startoffset 0\n"
    );
    // Writes after the switch go to the incremental file.
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendfsync", "always"]), "+OK");
    for i in 0..200 {
        assert_eq!(c.cmd(&["INCR", "counter"]), format!(":{}", i + 1));
    }
    assert_eq!(c.cmd(&["SET", "later", "x"]), "+OK");
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "no"]), "+OK");
    assert_eq!(info_field(&mut c, "persistence", "aof_enabled"), "0");
    assert_eq!(c.cmd(&["SET", "ignored", "x"]), "+OK");
    server.shutdown();
    let server = start_in(&dir, "appendonly yes\n").unwrap();
    let mut c = Client::new(&server);
    assert_eq!(c.cmd(&["EXISTS", "ignored"]), ":0");
    check_some_with_counter(&mut c);
    server.shutdown();
}

#[test]
fn bgrewriteaof_while_a_bgsave_runs_is_scheduled() {
    let dir = scratch("schedule");
    let server = start_in(&dir, "appendonly yes\nrdb-key-save-delay 1000\n").unwrap();
    let mut c = Client::new(&server);
    for i in 0..50 {
        assert_eq!(c.cmd(&["SET", &format!("k{i}"), "v"]), "+OK");
    }
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started");
    assert_eq!(
        c.cmd(&["BGREWRITEAOF"]),
        "+Background append only file rewriting scheduled"
    );
    assert_eq!(
        info_field(&mut c, "persistence", "aof_rewrite_scheduled"),
        "1"
    );
    wait_rewrite(&mut c);
    assert_eq!(info_field(&mut c, "persistence", "aof_rewrites"), "1");
    assert!(manifest(&dir).starts_with("file appendonly.aof.2.base.rdb"));
    server.shutdown();
}

#[test]
fn a_truncated_aof_loads_when_aof_load_truncated_allows_it() {
    let dir = scratch("truncated");
    let server = start_in(&dir, "appendonly yes\nappendfsync always\n").unwrap();
    let mut c = Client::new(&server);
    assert_eq!(c.cmd(&["SET", "a", "1"]), "+OK");
    assert_eq!(c.cmd(&["SET", "b", "2"]), "+OK");
    server.shutdown();
    let incr = dir.join("appendonlydir/appendonly.aof.1.incr.aof");
    let whole = std::fs::read(&incr).unwrap();
    // The last command cut in the middle, as by a crash.
    std::fs::write(&incr, &whole[..whole.len() - 5]).unwrap();
    match start_in(&dir, "appendonly yes\naof-load-truncated no\n") {
        Err(e) => assert!(e.to_string().contains("Unexpected end of file"), "{e}"),
        Ok(_) => panic!("a truncated AOF loaded with aof-load-truncated no"),
    }
    let server = start_in(&dir, "appendonly yes\n").unwrap();
    let mut c = Client::new(&server);
    assert_eq!(c.cmd(&["MGET", "a", "b"]), "[\"1\",nil]");
    // The file was cut back to its last whole command, and goes on.
    assert_eq!(c.cmd(&["SET", "c", "3"]), "+OK");
    server.shutdown();
    let server = start_in(&dir, "appendonly yes\naof-load-truncated no\n").unwrap();
    let mut c = Client::new(&server);
    assert_eq!(c.cmd(&["MGET", "a", "b", "c"]), "[\"1\",nil,\"3\"]");
    server.shutdown();
}

#[test]
fn a_bad_command_or_manifest_stops_the_start() {
    let dir = scratch("bad");
    let server = start_in(&dir, "appendonly yes\n").unwrap();
    server.shutdown();
    let incr = dir.join("appendonlydir/appendonly.aof.1.incr.aof");
    std::fs::write(&incr, b"*1\r\n$3\r\nXYZ\r\n").unwrap();
    let err = start_in(&dir, "appendonly yes\n")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("Unknown command 'XYZ'"), "{err}");
    std::fs::write(&incr, b"garbage\r\n").unwrap();
    let err = start_in(&dir, "appendonly yes\n")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("Bad file format"), "{err}");
    std::fs::write(
        dir.join("appendonlydir/appendonly.aof.manifest"),
        b"nonsense\n",
    )
    .unwrap();
    let err = start_in(&dir, "appendonly yes\n")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("Invalid AOF manifest file format"), "{err}");
}

#[test]
fn an_old_style_aof_moves_into_the_directory() {
    let dir = scratch("upgrade");
    std::fs::write(
        dir.join("appendonly.aof"),
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$5\r\nstyle\r\n",
    )
    .unwrap();
    let server = start_in(&dir, "appendonly yes\n").unwrap();
    let mut c = Client::new(&server);
    assert_eq!(c.cmd(&["GET", "old"]), "\"style\"");
    server.shutdown();
    assert!(!dir.join("appendonly.aof").exists());
    assert!(dir.join("appendonlydir/appendonly.aof").exists());
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i startoffset 0\n"
    );
}

// ---------------------------------------------------------------------------
// kill -9 while clients write
// ---------------------------------------------------------------------------

fn spawn_viator(dir: &Path, fsync: &str) -> Process {
    let dir = dir.to_str().unwrap();
    spawn_server(
        env!("CARGO_BIN_EXE_viator-server"),
        &[
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            fsync,
            "--dir",
            dir,
            "--loglevel",
            "warning",
        ],
    )
}

/// 20 clients each RPUSH their own counter to their own list and INCR a
/// shared key, recording what was acknowledged, until the server is
/// killed with SIGKILL. Returns, per client, the acknowledged pushes with
/// the instant of each acknowledgement.
fn write_until_killed(server: &mut Process) -> (Vec<Vec<Instant>>, Instant) {
    let stop = Arc::new(AtomicBool::new(false));
    let port = server.port;
    let writers: Vec<_> = (0..20)
        .map(|w| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect(port);
                let mut acked = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let key = format!("list:{w}");
                    // Killed mid-request: no acknowledgement.
                    let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        c.send(&["RPUSH", &key, &i.to_string()]);
                        c.read()
                    }));
                    match reply {
                        Ok(r) if r == format!(":{}", i + 1) => acked.push(Instant::now()),
                        _ => break,
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let killed = Instant::now();
    server.child.kill().unwrap();
    let _ = server.child.wait();
    stop.store(true, Ordering::Relaxed);
    let acked = writers.into_iter().map(|w| w.join().unwrap()).collect();
    (acked, killed)
}

#[test]
fn kill_9_loses_no_acknowledged_write_with_appendfsync_always() {
    let dir = scratch("crash-always");
    let mut server = spawn_viator(&dir, "always");
    let (acked, _) = write_until_killed(&mut server);
    drop(server);
    let server = spawn_viator(&dir, "always");
    let mut c = Client::connect(server.port);
    let mut total = 0;
    for (w, acks) in acked.iter().enumerate() {
        let len: usize = c.cmd(&["LLEN", &format!("list:{w}")])[1..].parse().unwrap();
        // Every acknowledged push is there; at most the one in flight
        // beyond it (written, not yet acknowledged).
        assert!(
            len == acks.len() || len == acks.len() + 1,
            "client {w}: {} acknowledged, {len} in the list",
            acks.len()
        );
        if len > 0 {
            let last = c.cmd(&["LINDEX", &format!("list:{w}"), "-1"]);
            assert_eq!(last, format!("\"{}\"", len - 1));
        }
        total += acks.len();
    }
    assert!(total > 100, "only {total} writes acknowledged");
}

#[test]
fn kill_9_loses_at_most_about_a_second_with_everysec() {
    let dir = scratch("crash-everysec");
    let mut server = spawn_viator(&dir, "everysec");
    let (acked, killed) = write_until_killed(&mut server);
    drop(server);
    let server = spawn_viator(&dir, "everysec");
    let mut c = Client::connect(server.port);
    for (w, acks) in acked.iter().enumerate() {
        let len: usize = c.cmd(&["LLEN", &format!("list:{w}")])[1..].parse().unwrap();
        // What is missing was acknowledged within the last second or so.
        for at in &acks[len.min(acks.len())..] {
            assert!(
                killed.duration_since(*at) < Duration::from_millis(1100),
                "client {w}: a write acknowledged {:?} before the kill was lost",
                killed.duration_since(*at)
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Interoperability with redis-server
// ---------------------------------------------------------------------------

fn spawn_redis(dir: &Path) -> Process {
    let dir = dir.to_str().unwrap();
    spawn_server(
        "redis-server",
        &[
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--dir",
            dir,
        ],
    )
}

/// Reads that show every value of `write_every_type`'s dataset.
const READS: &[&[&str]] = &[
    &["DBSIZE"],
    &["GET", "s"],
    &["PEXPIRETIME", "ttl"],
    &["LRANGE", "list", "0", "-1"],
    &["LRANGE", "biglist", "0", "-1"],
    &["SORT", "set", "ALPHA"],
    &["SMEMBERS", "ints"],
    &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    &["ZRANGE", "bigz", "0", "-1", "WITHSCORES"],
    &["HGETALL", "h"],
    &["XRANGE", "stream", "-", "+"],
    &["XINFO", "GROUPS", "stream"],
    &["PFCOUNT", "hll"],
    &["GET", "counter"],
    &["GET", "float"],
];

fn write_every_type(c: &mut Client) {
    let writes: &[&[&str]] = &[
        &["SET", "s", "hello"],
        &["SET", "ttl", "v", "PXAT", "4102444800000"],
        &["RPUSH", "list", "a", "b", "c"],
        &["LPOP", "list"],
        &["SADD", "set", "x", "y", "z"],
        &["SREM", "set", "y"],
        &["SADD", "ints", "1", "2", "3"],
        &["ZADD", "z", "1.5", "m", "-inf", "n"],
        &["ZINCRBY", "z", "2", "m"],
        &["HSET", "h", "f", "v", "g", "w"],
        &["XADD", "stream", "1-1", "f", "v"],
        &["XADD", "stream", "2-1", "f", "w"],
        &["XGROUP", "CREATE", "stream", "grp", "0"],
        &["PFADD", "hll", "a", "b", "c"],
        &["INCRBY", "counter", "41"],
        &["INCR", "counter"],
        &["SET", "float", "1.5"],
        &["APPEND", "s", " world"],
    ];
    for w in writes {
        assert!(!c.cmd(w).starts_with('-'), "{w:?}");
    }
    let many: Vec<String> = (0..300).map(|i| format!("e{i}")).collect();
    let mut push = vec!["RPUSH", "biglist"];
    push.extend(many.iter().map(String::as_str));
    assert_eq!(c.cmd(&push), ":300");
    for (i, m) in many.iter().enumerate().take(200) {
        assert_eq!(c.cmd(&["ZADD", "bigz", &i.to_string(), m]), ":1");
    }
}

fn reads(c: &mut Client) -> Vec<String> {
    READS.iter().map(|r| c.cmd(r)).collect()
}

/// Redis 7.0 writes an AOF directory (base, incremental file, manifest),
/// Viator starts on it; then Viator, writing RDB version 10, rewrites and
/// appends, and Redis starts on Viator's directory. Every read matches.
#[test]
#[ignore = "needs redis-server on PATH"]
fn redis_and_viator_load_each_others_aof() {
    let dir = scratch("interop");
    let redis = spawn_redis(&dir);
    let mut r = Client::connect(redis.port);
    write_every_type(&mut r);
    assert_eq!(
        r.cmd(&["BGREWRITEAOF"]),
        "+Background append only file rewriting started"
    );
    std::thread::sleep(Duration::from_millis(500));
    // After the rewrite: these are in Redis's incremental file.
    assert_eq!(r.cmd(&["RPUSH", "list", "after"]), ":3");
    assert_eq!(r.cmd(&["HDEL", "h", "g"]), ":1");
    let expected = reads(&mut r);
    drop(r);
    drop(redis);

    let server = start_in(&dir, "appendonly yes\nappendfsync always\nrdb-version 10\n").unwrap();
    let mut c = Client::new(&server);
    assert_eq!(reads(&mut c), expected);
    assert_eq!(c.cmd(&["SET", "viator", "1"]), "+OK");
    rewrite(&mut c);
    assert_eq!(c.cmd(&["SET", "viator2", "2"]), "+OK");
    assert_eq!(c.cmd(&["DEL", "viator"]), ":1");
    let expected = reads(&mut c);
    server.shutdown();

    let redis = spawn_redis(&dir);
    let mut r = Client::connect(redis.port);
    assert_eq!(reads(&mut r), expected);
    assert_eq!(r.cmd(&["GET", "viator2"]), "\"2\"");
}

#[test]
fn migrate_propagates_the_deletion_of_the_keys_it_moved() {
    let dir = scratch("migrate");
    let src = start_in(&dir, "appendonly yes\nappendfsync always\n").unwrap();
    let dst_dir = scratch("migrate-dst");
    let dst = start_in(&dst_dir, "").unwrap();
    let mut c = Client::new(&src);
    assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2"]), "+OK");
    let port = dst.port().to_string();
    assert_eq!(
        c.cmd(&[
            "MIGRATE",
            "127.0.0.1",
            &port,
            "",
            "0",
            "5000",
            "KEYS",
            "a",
            "b",
            "nokey"
        ]),
        "+OK"
    );
    assert_eq!(
        c.cmd(&[
            "MIGRATE",
            "127.0.0.1",
            &port,
            "",
            "0",
            "5000",
            "COPY",
            "KEYS",
            "nokey"
        ]),
        "+NOKEY"
    );
    let incr = std::fs::read(dir.join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap();
    let text = String::from_utf8_lossy(&incr);
    assert!(
        text.ends_with("*3\r\n$3\r\nDEL\r\n$1\r\na\r\n$1\r\nb\r\n"),
        "{text}"
    );
    assert!(!text.contains("MIGRATE"));
    src.shutdown();
    let src = start_in(&dir, "appendonly yes\n").unwrap();
    let mut c = Client::new(&src);
    assert_eq!(c.cmd(&["DBSIZE"]), ":0");
    src.shutdown();
    dst.shutdown();
}

/// As Redis's replay: nothing expires while the AOF loads, so a command
/// after an expire time that has passed since still finds the key or
/// field, and the time takes effect once loading ends.
#[test]
fn times_passed_since_the_aof_was_written_apply_after_loading() {
    let dir = scratch("loading-clock");
    let aof = dir.join("appendonlydir");
    std::fs::create_dir_all(&aof).unwrap();
    let cmds: &[&[&str]] = &[
        &["SELECT", "0"],
        &["RPUSH", "list", "foo"],
        &["PEXPIREAT", "list", "1000"],
        &["RPUSH", "list", "bar"],
        &["HSET", "h", "f", "5", "g", "1"],
        &["HPEXPIREAT", "h", "1000", "FIELDS", "1", "f"],
        &["HINCRBY", "h", "f", "1"],
        &["SET", "kept", "1"],
    ];
    let mut text = Vec::new();
    for c in cmds {
        text.extend_from_slice(format!("*{}\r\n", c.len()).as_bytes());
        for a in *c {
            text.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    std::fs::write(aof.join("appendonly.aof.1.incr.aof"), &text).unwrap();
    std::fs::write(
        aof.join("appendonly.aof.manifest"),
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    let server = start_in(&dir, "appendonly yes\n").unwrap();
    let mut c = Client::new(&server);
    // Redis would give the same: the list (foo, bar) and the field f
    // (now 6) kept their past expire times through the load.
    assert_eq!(c.cmd(&["EXISTS", "list"]), ":0");
    assert_eq!(c.cmd(&["HGETALL", "h"]), "[\"g\",\"1\"]");
    assert_eq!(c.cmd(&["GET", "kept"]), "\"1\"");
    server.shutdown();
}

/// With several worker threads, writes to the same keys from many clients
/// reach the AOF in the order they ran: after a restart the list holds the
/// same elements in the same order, and the counter the same value.
#[test]
fn concurrent_writers_on_several_threads_replay_in_order() {
    let dir = scratch("threads");
    let server = start_in(&dir, "appendonly yes\nio-threads 4\n").unwrap();
    let port = server.port();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            std::thread::spawn(move || {
                let mut c = Client::connect(port);
                for i in 0..300 {
                    c.cmd(&["RPUSH", "shared", &format!("{w}:{i}")]);
                    c.cmd(&["INCR", "counter"]);
                    if i % 50 == 0 {
                        c.cmd(&["MULTI"]);
                        c.cmd(&["LPOP", "shared"]);
                        c.cmd(&["SET", &format!("last:{w}"), &i.to_string()]);
                        c.cmd(&["EXEC"]);
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let mut c = Client::new(&server);
    let list = c.cmd(&["LRANGE", "shared", "0", "-1"]);
    let digest = c.cmd(&["DEBUG", "DIGEST"]);
    assert_eq!(c.cmd(&["GET", "counter"]), "\"2400\"");
    server.shutdown();
    let server = start_in(&dir, "appendonly yes\n").unwrap();
    let mut c = Client::new(&server);
    assert_eq!(c.cmd(&["LRANGE", "shared", "0", "-1"]), list);
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]), digest);
    server.shutdown();
}

/// With `aof-disable-auto-gc yes` the files a rewrite replaces stay, listed
/// as history in Redis's order; turning it off deletes them at once.
#[test]
fn history_files_wait_while_auto_gc_is_off() {
    let dir = scratch("gc");
    let server = start_in(&dir, "appendonly yes\nappendfsync always\n").unwrap();
    let mut c = Client::new(&server);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "aof-disable-auto-gc", "yes"]),
        "+OK"
    );
    for round in 0..2 {
        assert_eq!(c.cmd(&["INCR", "n"]), format!(":{}", round + 1));
        rewrite(&mut c);
    }
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof.3.base.rdb seq 3 type b\n\
         file appendonly.aof.2.incr.aof seq 2 type h startoffset 0\n\
         file appendonly.aof.2.base.rdb seq 2 type h\n\
         file appendonly.aof.1.incr.aof seq 1 type h startoffset 0\n\
         file appendonly.aof.1.base.rdb seq 1 type h\n\
         file appendonly.aof.3.incr.aof seq 3 type i startoffset 0\n"
    );
    let aof = dir.join("appendonlydir");
    assert!(aof.join("appendonly.aof.1.incr.aof").exists());
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "aof-disable-auto-gc", "no"]),
        "+OK"
    );
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof.3.base.rdb seq 3 type b\n\
         file appendonly.aof.3.incr.aof seq 3 type i startoffset 0\n"
    );
    for gone in ["1.base.rdb", "1.incr.aof", "2.base.rdb", "2.incr.aof"] {
        assert!(
            !aof.join(format!("appendonly.aof.{gone}")).exists(),
            "{gone}"
        );
    }
    server.shutdown();
    let server = start_in(&dir, "appendonly yes\n").unwrap();
    let mut c = Client::new(&server);
    assert_eq!(c.cmd(&["GET", "n"]), "\"2\"");
    server.shutdown();
}

#[test]
fn an_aof_that_cannot_start_leaves_appendonly_off() {
    let dir = scratch("cannot-start");
    // Where the AOF directory should go, a plain file.
    std::fs::write(dir.join("appendonlydir"), b"").unwrap();
    let server = start_in(&dir, "").unwrap();
    let mut c = Client::new(&server);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "appendonly", "yes"]),
        "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - Unable to turn on AOF. Check server logs."
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "appendonly"]),
        "[\"appendonly\",\"no\"]"
    );
    assert_eq!(info_field(&mut c, "persistence", "aof_enabled"), "0");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK");
    server.shutdown();
}
