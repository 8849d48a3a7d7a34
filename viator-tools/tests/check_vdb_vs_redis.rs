//! viator-check-vdb against Debian's redis-check-rdb on the same files: a
//! snapshot Redis saved, every kind of cut, a wrong checksum, a wrong
//! signature. The reports must be identical, but for the `subexpires` line
//! Redis 8 added and the names of types newer than Debian's 7.0. Flipped bytes inside values: both
//! fail (Redis's message names its own source lines, so only the status is
//! compared). `#[ignore]`d: needs redis-server and redis-check-rdb on
//! `PATH`; `.ci/run` runs it.

use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

fn redis_snapshot(dir: &std::path::Path) -> Vec<u8> {
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
        ])
        .args(["--dir", dir.to_str().unwrap()])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server on PATH");
    let conn = (0..100).find_map(|_| {
        std::thread::sleep(Duration::from_millis(50));
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    let result = conn.map(|mut s| {
        let cmds = [
            "SET a 1",
            "SET b hello PX 100000000",
            "SET c x PXAT 1000",
            "RPUSH l x y z",
            "SADD s m n",
            "ZADD z 1 a 2 b",
            "HSET h f v",
            "XADD x 1-1 f v",
            "SELECT 3",
            "SET d e",
            "SAVE",
        ];
        let mut text = String::new();
        for c in cmds {
            let parts: Vec<&str> = c.split(' ').collect();
            text.push_str(&format!("*{}\r\n", parts.len()));
            for p in parts {
                text.push_str(&format!("${}\r\n{p}\r\n", p.len()));
            }
        }
        s.write_all(text.as_bytes()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 4096];
        let mut got = Vec::new();
        while got.iter().filter(|&&b| b == b'\n').count() < cmds.len() {
            let n = std::io::Read::read(&mut s, &mut buf).unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
    });
    let _ = child.kill();
    let _ = child.wait();
    result.expect("redis-server started");
    std::fs::read(dir.join("dump.rdb")).unwrap()
}

fn run(tool: &str, path: &std::path::Path) -> (String, bool) {
    let out = Command::new(tool).arg(path).output().expect("tool runs");
    // Debian's 7.0 knows type names up to 18 and prints "unknown" for the
    // newer ones Redis 8 names: the number is compared, not the name.
    let text = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.ends_with(" subexpires") && !l.contains("# Terminating server"))
        .map(|l| match l.find(" (") {
            Some(i) if l.starts_with("[additional info] Reading type") => format!("{}\n", &l[..i]),
            _ => format!("{l}\n"),
        })
        .collect();
    (text, out.status.success())
}

#[test]
#[ignore = "needs redis-server and redis-check-rdb on PATH"]
fn reports_as_redis_check_rdb_does() {
    let dir = std::env::temp_dir().join(format!("viator-check-vdb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let good = redis_snapshot(&dir);
    let ours = env!("CARGO_BIN_EXE_viator-check-vdb");
    let file = dir.join("case.rdb");
    let mut cases: Vec<(String, Vec<u8>, bool)> = vec![("whole".into(), good.clone(), true)];
    for cut in (0..good.len()).step_by(3) {
        cases.push((format!("cut at {cut}"), good[..cut].to_vec(), true));
    }
    let mut crc = good.clone();
    let n = crc.len();
    crc[n - 2] ^= 1;
    cases.push(("checksum".into(), crc, true));
    cases.push(("signature".into(), b"REDIX0011xxxx".to_vec(), true));
    cases.push(("version".into(), b"REDIS0099xxxx".to_vec(), true));
    for at in 9..good.len() - 9 {
        let mut flipped = good.clone();
        flipped[at] ^= 0x5a;
        cases.push((format!("flip at {at}"), flipped, false));
    }
    for (name, bytes, compare_text) in cases {
        std::fs::write(&file, &bytes).unwrap();
        let (mut redis_text, redis_ok) = run("redis-check-rdb", &file);
        let (mut our_text, our_ok) = run(ours, &file);
        // Where Redis reports a read failure inside a value as an internal
        // error naming its own source line, the offset and the rest of
        // the report still compare.
        if redis_text.contains("] Internal error in RDB reading") {
            let mask = |t: &str| -> String {
                t.lines()
                    .map(|l| match (l.starts_with("[offset"), l.find("] ")) {
                        (true, Some(i))
                            if l.contains("Internal error") || l.contains("Unexpected EOF") =>
                        {
                            format!("{}] <read error>\n", &l[..i])
                        }
                        _ => format!("{l}\n"),
                    })
                    .collect()
            };
            redis_text = mask(&redis_text);
            our_text = mask(&our_text);
        }
        assert_eq!(
            our_ok, redis_ok,
            "{name}: exit status\nredis:\n{redis_text}\nours:\n{our_text}"
        );
        if compare_text {
            assert_eq!(our_text, redis_text, "{name}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
