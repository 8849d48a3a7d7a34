//! Debian's `redis-cli` and `redis-benchmark` against the `viator-server`
//! binary that cargo built, spawned as a child process on a free loopback
//! port (`--port P --bind 127.0.0.1 --save ''`) and killed at the end, even
//! when a test panics. What a user of those tools sees is checked: exit
//! status, replies in redis-cli's raw and formatted output, `--scan`,
//! `-3 hello`, `info`, `-n 9`, `--pipe` mass insertion, and a
//! redis-benchmark run that reports every test and no error.
//!
//! Ignored by default: they need `redis-cli` and `redis-benchmark` on
//! `PATH` (Debian's redis-tools). `.ci/run` installs them and runs
//! `cargo test -p viator-server --test redis_tools -- --ignored`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// The viator-server binary as a child process, killed on drop.
struct Viator {
    child: Child,
    port: u16,
}

impl Viator {
    fn start() -> Viator {
        for _attempt in 0..10 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = Command::new(env!("CARGO_BIN_EXE_viator-server"))
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                ])
                .args(["--loglevel", "warning"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn viator-server");
            let mut v = Viator { child, port };
            for _ in 0..250 {
                if let Ok(Some(_)) = v.child.try_wait() {
                    break; // Port taken meanwhile: try another.
                }
                // The port may have been taken by another test's server
                // meanwhile: make sure the one answering is ours.
                if serves_pid(port, v.child.id()) {
                    return v;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("viator-server did not start");
    }

    /// Runs redis-cli against this server with `args`, optionally feeding
    /// `stdin`.
    fn cli(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = Command::new("redis-cli");
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args);
        run(cmd, stdin)
    }

    /// redis-cli's stdout, asserting that it exited successfully.
    #[track_caller]
    fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args, None);
        assert!(
            out.status.success(),
            "redis-cli {args:?} failed: {:?}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }
}

/// Whether the server on `port` says (INFO server) that it is process `pid`.
fn serves_pid(port: u16, pid: u32) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    if s.set_read_timeout(Some(Duration::from_secs(5))).is_err()
        || s.write_all(b"INFO server\r\n").is_err()
    {
        return false;
    }
    // Read until the end of the bulk reply (or a timeout).
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let want = format!("\r\nprocess_id:{pid}\r\n");
    while let Ok(n) = s.read(&mut chunk) {
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if text.contains(&want) {
            return true;
        }
        if text.ends_with("\r\n\r\n") || text.starts_with('-') {
            break;
        }
    }
    false
}

impl Drop for Viator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(mut cmd: Command, stdin: Option<&[u8]>) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!("{cmd:?}: {e} (redis-tools must be installed: apt-get install redis-tools)")
    });
    if let Some(data) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let data = data.to_vec();
        // Write from a thread: the tool may answer while we still write.
        let writer = std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        out
    } else {
        child.wait_with_output().unwrap()
    }
}

#[test]
#[ignore = "needs redis-cli (redis-tools)"]
fn cli_set_get_and_output_formats() {
    let v = Viator::start();
    assert_eq!(v.cli_ok(&["ping"]), "PONG\n");
    // With stdout not a terminal, redis-cli prints raw replies.
    assert_eq!(v.cli_ok(&["set", "greeting", "hello world"]), "OK\n");
    assert_eq!(v.cli_ok(&["get", "greeting"]), "hello world\n");
    assert_eq!(v.cli_ok(&["--raw", "get", "greeting"]), "hello world\n");
    assert_eq!(
        v.cli_ok(&["--no-raw", "get", "greeting"]),
        "\"hello world\"\n"
    );
    assert_eq!(v.cli_ok(&["--no-raw", "get", "missing"]), "(nil)\n");
    assert_eq!(v.cli_ok(&["--no-raw", "incr", "counter"]), "(integer) 1\n");
    assert_eq!(v.cli_ok(&["incrby", "counter", "41"]), "42\n");
    assert_eq!(
        v.cli_ok(&["--no-raw", "mget", "greeting", "missing", "counter"]),
        "1) \"hello world\"\n2) (nil)\n3) \"42\"\n"
    );
    assert_eq!(
        v.cli_ok(&["mget", "greeting", "missing", "counter"]),
        "hello world\n\n42\n"
    );
    // Errors: raw mode prints them with their code and an empty line; the
    // exit status stays 0 for a command error.
    assert_eq!(
        v.cli_ok(&["incr", "greeting"]),
        "ERR value is not an integer or out of range\n\n"
    );
    assert_eq!(
        v.cli_ok(&["--no-raw", "incr", "greeting"]),
        "(error) ERR value is not an integer or out of range\n"
    );
    // Binary values come back byte for byte in raw mode.
    assert_eq!(v.cli_ok(&["set", "bin", "a\tb"]), "OK\n");
    assert_eq!(v.cli_ok(&["--raw", "get", "bin"]), "a\tb\n");
    assert_eq!(v.cli_ok(&["--no-raw", "get", "bin"]), "\"a\\tb\"\n");
    assert_eq!(v.cli_ok(&["--no-raw", "ttl", "greeting"]), "(integer) -1\n");
    assert_eq!(v.cli_ok(&["expire", "greeting", "100"]), "1\n");
    assert_eq!(v.cli_ok(&["ttl", "greeting"]), "100\n");
    assert_eq!(v.cli_ok(&["type", "greeting"]), "string\n");
    assert_eq!(v.cli_ok(&["dbsize"]), "3\n");
}

#[test]
#[ignore = "needs redis-cli (redis-tools)"]
fn cli_select_with_n() {
    let v = Viator::start();
    assert_eq!(v.cli_ok(&["-n", "9", "set", "where", "nine"]), "OK\n");
    assert_eq!(v.cli_ok(&["-n", "9", "get", "where"]), "nine\n");
    assert_eq!(v.cli_ok(&["--no-raw", "get", "where"]), "(nil)\n");
    assert_eq!(v.cli_ok(&["-n", "9", "dbsize"]), "1\n");
    assert_eq!(v.cli_ok(&["dbsize"]), "0\n");
    assert_eq!(v.cli_ok(&["-n", "9", "move", "where", "0"]), "1\n");
    assert_eq!(v.cli_ok(&["get", "where"]), "nine\n");
    // redis-cli reports a bad database index and exits with an error.
    let out = v.cli(&["-n", "16", "ping"], None);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("DB index is out of range"), "{all}");
}

#[test]
#[ignore = "needs redis-cli (redis-tools)"]
fn cli_scan_lists_every_key() {
    let v = Viator::start();
    let mut script = String::new();
    for i in 0..500 {
        script.push_str(&format!("SET user:{i} v{i}\n"));
    }
    for i in 0..50 {
        script.push_str(&format!("SET other:{i} x\n"));
    }
    // redis-cli reads commands from stdin when none are given.
    let out = v.cli(&[], Some(script.as_bytes()));
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OK\n".repeat(550));
    let mut keys: Vec<String> = v.cli_ok(&["--scan"]).lines().map(String::from).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 550);
    let users = v.cli_ok(&["--scan", "--pattern", "user:*"]);
    let mut users: Vec<&str> = users.lines().collect();
    users.sort();
    users.dedup();
    assert_eq!(users.len(), 500);
    assert!(users.iter().all(|k| k.starts_with("user:")));
    let few = v.cli_ok(&["--scan", "--pattern", "other:1*"]);
    let mut few: Vec<&str> = few.lines().collect();
    few.sort();
    few.dedup();
    assert_eq!(few.len(), 11, "{few:?}");
}

#[test]
#[ignore = "needs redis-cli (redis-tools)"]
fn cli_resp3_hello_and_info() {
    let v = Viator::start();
    let hello = v.cli_ok(&["-3", "--no-raw", "hello"]);
    let lines: Vec<&str> = hello.lines().collect();
    assert_eq!(lines.len(), 7, "{hello}");
    assert_eq!(lines[0], "1# \"server\" => \"redis\"");
    assert_eq!(lines[1], "2# \"version\" => \"8.4.0\"");
    assert_eq!(lines[2], "3# \"proto\" => (integer) 3");
    assert!(lines[3].starts_with("4# \"id\" => (integer) "), "{hello}");
    assert_eq!(lines[4], "5# \"mode\" => \"standalone\"");
    assert_eq!(lines[5], "6# \"role\" => \"master\"");
    assert_eq!(lines[6], "7# \"modules\" => (empty array)");
    // RESP3 types as redis-cli shows them.
    assert_eq!(v.cli_ok(&["-3", "--no-raw", "get", "missing"]), "(nil)\n");
    assert_eq!(v.cli_ok(&["-3", "--no-raw", "set", "k", "v"]), "OK\n");
    assert_eq!(
        v.cli_ok(&["-3", "--no-raw", "incrbyfloat", "f", "1.5"]),
        "\"1.5\"\n"
    );
    let info = v.cli_ok(&["info"]);
    assert!(info.starts_with("# Server\r\n"), "{info}");
    assert!(info.contains("\r\nredis_version:8.4.0\r\n"), "{info}");
    assert!(
        info.contains(&format!("\r\ntcp_port:{}\r\n", v.port)),
        "{info}"
    );
    assert!(
        info.contains("# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0"),
        "{info}"
    );
    let server = v.cli_ok(&["info", "server"]);
    assert!(server.starts_with("# Server\r\n"));
    assert!(!server.contains("# Clients"), "{server}");
    let resp3_info = v.cli_ok(&["-3", "info", "keyspace"]);
    assert!(resp3_info.contains("db0:keys=2"), "{resp3_info}");
}

#[test]
#[ignore = "needs redis-cli (redis-tools)"]
fn cli_pipe_mass_insertion() {
    const N: usize = 5000;
    let v = Viator::start();
    let mut data = Vec::new();
    for i in 0..N {
        let (k, val) = (format!("mass:{i}"), format!("value-{i}"));
        data.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n{val}\r\n",
                k.len(),
                val.len()
            )
            .as_bytes(),
        );
    }
    let out = v.cli(&["--pipe"], Some(&data));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("All data transferred"), "{stdout}");
    assert!(
        stdout.contains(&format!("errors: 0, replies: {N}")),
        "{stdout}"
    );
    assert_eq!(v.cli_ok(&["dbsize"]), format!("{N}\n"));
    assert_eq!(v.cli_ok(&["get", "mass:4321"]), "value-4321\n");
    // A command that fails is printed and counted, and redis-cli exits 1.
    let out = v.cli(&["--pipe"], Some(b"SET a 1\r\nINCR mass:0\r\nSET b 2\r\n"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // The failing reply goes to stderr.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ERR value is not an integer or out of range"),
        "{stderr}"
    );
    assert!(stdout.contains("errors: 1, replies: 3"), "{stdout}");
}

#[test]
#[ignore = "needs redis-benchmark (redis-tools)"]
fn benchmark_runs_without_errors() {
    let v = Viator::start();
    let mut cmd = Command::new("redis-benchmark");
    cmd.args(["-h", "127.0.0.1", "-p", &v.port.to_string()])
        .args([
            "-q",
            "-n",
            "20000",
            "-c",
            "20",
            "-P",
            "8",
            "-t",
            "set,get,incr,mset",
        ]);
    let out = run(cmd, None);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "redis-benchmark failed: {stdout}\n{stderr}"
    );
    // -q prints progress with carriage returns, then one line per test.
    let finals: Vec<&str> = stdout
        .split(['\n', '\r'])
        .filter(|l| l.contains("requests per second"))
        .collect();
    for test in ["SET:", "GET:", "INCR:", "MSET (10 keys):"] {
        assert!(
            finals.iter().any(|l| l.starts_with(test)),
            "no result for {test}\n{stdout}"
        );
    }
    let all = format!("{stdout}{stderr}");
    for bad in ["ERR", "Error", "error", "WARN"] {
        assert!(
            !all.contains(bad),
            "redis-benchmark printed {bad:?}:\n{all}"
        );
    }
    // The data it wrote is there: key:__rand_int__ and the counter.
    assert_eq!(
        v.cli_ok(&["exists", "key:__rand_int__", "counter:__rand_int__"]),
        "2\n"
    );
}
