//! Differential test: the same string commands against a real
//! `redis-server` (started here on a unix socket, no TCP port) and against
//! the store, replies compared byte for byte, in RESP2 and RESP3.
//!
//! Needs `redis-server` on the PATH (Debian: `apt-get install -y
//! redis-server`), so it is ignored by default; run it with
//! `cargo test -p viator-store --test string_vs_redis -- --ignored`. Only
//! commands and options that Redis 7 already has are compared; the 8.4
//! additions have their own tests.

mod string_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use string_support::T;

/// Commands as words separated by single spaces; `''` is an empty
/// argument. Each block uses its own keys.
const SCRIPT: &str = "
GET s:a
SET s:a hello
GET s:a
SET s:a v NX GET
SET s:b v XX GET
SET s:b v NX GET
SET s:b w GET
SET s:c v EX 10 PX 10
SET s:c v NX XX
SET s:c v nx nx
SET s:c v EX 10 EX 20
SET s:c v KEEPTTL EX 1
SET s:c v EX
SET s:c v GET get
SET s:c v EX 0
SET s:c v EX abc
SET s:c v PX 9223372036854775807
SET s:c v EX 9223372036854776
SET s:c v EXAT 9223372036854776
SET s:c v PXAT 9223372036854775807
SET s:c v EX abc NX XX
SET s:c v FOO
SET s:c v ''
SET s:d v EXAT 1
GET s:d
SET
SET s:x
SETNX s:e 1
SETNX s:e 2
SETEX s:e 0 v
SETEX s:e -1 v
SETEX s:e abc v
SETEX s:e 9223372036854775 v
SETEX s:e 100 v
PSETEX s:e 0 v
PSETEX s:e 9223372036854775807 v
PSETEX s:e 100000 v
GETSET s:e newv
GETSET s:f v
GETDEL s:f
GETDEL s:f
GETEX s:g ex abc
SET s:g v
GETEX s:g ex abc
GETEX s:g ex 0
GETEX s:g px 9223372036854775807
GETEX s:g exat 9223372036854775
GETEX s:g pxat 0
GETEX s:g persist ex 10
GETEX s:g ex 10 ex 20
GETEX s:g persist persist
GETEX s:g foo
GETEX s:g pxat 1
GETEX s:g
MSET m:a 1 m:b 2 m:c
MSET m:a 1 m:b 2
MGET m:a m:b m:nokey
MSETNX m:a 1 m:z 2
MSETNX m:y 1 m:z 2
MSETNX m:y 1 m:z
MSETNX m:q 1 m:q 2
GET m:q
SET n:k 10
INCR n:k
INCRBY n:k -20
DECR n:k
DECRBY n:k 5
SET n:k 1.5
INCR n:k
SET n:k 9223372036854775807
INCR n:k
SET n:k -9223372036854775808
DECR n:k
DECRBY n:k -9223372036854775808
DECRBY n:k 9223372036854775807
DECRBY n:none abc
INCRBY n:k 1x
INCRBY n:k ''
SET n:f 10.50
INCRBYFLOAT n:f 0.1
INCRBYFLOAT n:f 5189.4
INCRBYFLOAT n:f abc
INCRBYFLOAT n:f inf
INCRBYFLOAT n:f nan
INCRBYFLOAT n:f 1e400
SET n:p 12345.6
INCRBYFLOAT n:p 0.1
INCRBYFLOAT n:new -1.5
SET n:s abc
INCRBYFLOAT n:s 1
SET n:big 123456789012345678901
INCR n:big
APPEND r:ap 123
APPEND r:ap 4
APPEND r:ap ''
GET r:ap
SETRANGE r:sr 0 ''
SETRANGE r:sr 3 ab
GET r:sr
SETRANGE r:sr -1 x
SETRANGE r:sr abc x
SETRANGE r:sr 1 ''
SETRANGE r:sr 6 xyz
GET r:sr
SET r:n 123
SETRANGE r:n 1 9
GET r:n
STRLEN r:n
STRLEN r:nokey
GETRANGE r:n 0 -1
GETRANGE r:nokey 0 -1
GETRANGE r:n a 1
SET r:s This_is_a_string
GETRANGE r:s -200 -100
GETRANGE r:s 0 -100
GETRANGE r:s -1 -3
GETRANGE r:s 10 100
GETRANGE r:s 100 200
GETRANGE r:s -3 -1
GETRANGE r:s 9223372036854775807 9223372036854775807
GETRANGE r:s -9223372036854775808 -9223372036854775808
SUBSTR r:s 0 3
SET r:e ''
GETRANGE r:e 0 -1
MSET l:1 ohmytext l:2 mynewtext
LCS l:1 l:2
LCS l:1 l:2 LEN
LCS l:1 l:2 IDX
LCS l:1 l:2 IDX MINMATCHLEN 4
LCS l:1 l:2 IDX MINMATCHLEN 4 WITHMATCHLEN
LCS l:1 l:2 IDX WITHMATCHLEN
LCS l:1 l:2 LEN IDX
LCS l:1 l:2 MINMATCHLEN
LCS l:1 l:2 MINMATCHLEN abc
LCS l:1 l:2 MINMATCHLEN -5 IDX
LCS l:1 l:2 foo
LCS l:1 l:nokey
LCS l:1 l:nokey IDX
MSET l:3 123456 l:4 1x2y3456
LCS l:3 l:4 IDX WITHMATCHLEN
LCS l:3 l:4
";

struct Redis {
    child: Child,
    stream: BufReader<UnixStream>,
    dir: std::path::PathBuf,
}

impl Redis {
    fn start(resp3: bool) -> Redis {
        let dir =
            std::env::temp_dir().join(format!("viator-redis-{}-{}", std::process::id(), resp3));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let sock = dir.join("redis.sock");
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--save",
                "",
                "--appendonly",
                "no",
                "--unixsocket",
            ])
            .arg(&sock)
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on the PATH");
        let deadline = Instant::now() + Duration::from_secs(10);
        let stream = loop {
            match UnixStream::connect(&sock) {
                Ok(s) => break s,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("redis-server did not start: {e}"),
            }
        };
        let mut r = Redis {
            child,
            stream: BufReader::new(stream),
            dir,
        };
        if resp3 {
            r.run(&[b"HELLO", b"3"]);
        }
        r
    }

    fn run(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.stream.get_mut().write_all(&req).expect("write");
        let mut out = Vec::new();
        self.read_reply(&mut out);
        out
    }

    fn read_reply(&mut self, out: &mut Vec<u8>) {
        let mut line = Vec::new();
        self.stream.read_until(b'\n', &mut line).expect("read");
        out.extend_from_slice(&line);
        let n: i64 = std::str::from_utf8(&line[1..line.len() - 2])
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        match line[0] {
            b'$' | b'=' | b'!' if n >= 0 => {
                let mut body = vec![0; n as usize + 2];
                self.stream.read_exact(&mut body).expect("read");
                out.extend_from_slice(&body);
            }
            b'*' | b'~' | b'>' => (0..n).for_each(|_| self.read_reply(out)),
            b'%' | b'|' => (0..2 * n).for_each(|_| self.read_reply(out)),
            _ => {}
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn compare(resp3: bool) {
    let mut redis = Redis::start(resp3);
    let mut viator = if resp3 { T::resp3() } else { T::new() };
    let mut diffs = Vec::new();
    let mut compared = 0;
    for line in SCRIPT.lines().filter(|l| !l.is_empty()) {
        compared += 1;
        let words: Vec<&[u8]> = line
            .split(' ')
            .map(|w| if w == "''" { &b""[..] } else { w.as_bytes() })
            .collect();
        let want = redis.run(&words);
        let got = viator.run(&words);
        if want != got {
            diffs.push(format!(
                "{line}\n  redis:  {}\n  viator: {}",
                want.escape_ascii(),
                got.escape_ascii()
            ));
        }
    }
    assert!(compared > 130, "{compared} commands");
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
#[ignore = "needs redis-server"]
fn same_replies_as_redis_resp2() {
    compare(false);
}

#[test]
#[ignore = "needs redis-server"]
fn same_replies_as_redis_resp3() {
    compare(true);
}
