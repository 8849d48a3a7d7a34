//! A raw RESP client for the integration tests: sends commands, reads
//! whole frames with viator-protocol's parser and shows them compactly, so
//! that tests compare short strings.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use viator_protocol::{Frame, parse_frame};
use viator_server::Server;

/// Starts a server on a free loopback port.
pub fn start() -> Server {
    let text = "port 0\nbind 127.0.0.1\nloglevel warning\nenable-debug-command yes\n".to_string();
    let cfg = viator_server::config::load_isolated(text).expect("config");
    Server::start(cfg, None).expect("server starts")
}

/// A directory of its own for one test, emptied first.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("viator-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts a server whose snapshot and AOF live in `dir`, with `extra`
/// config lines, no `save` points and DEBUG enabled.
pub fn start_in(dir: &std::path::Path, extra: &str) -> Result<Server, viator_server::StartError> {
    let text = format!(
        "port 0\nbind 127.0.0.1\nloglevel warning\nenable-debug-command yes\nsave \"\"\ndir \"{}\"\n{extra}",
        dir.display()
    );
    let cfg = viator_server::config::load(text, None).expect("config");
    Server::start(cfg, None)
}

/// A field of INFO `section`.
pub fn info_field(c: &mut Client, section: &str, name: &str) -> String {
    let info = c.cmd(&["INFO", section]);
    let key = format!("{name}:");
    info.split("\r\n")
        .find_map(|l| l.strip_prefix(&key))
        .unwrap_or_else(|| panic!("no {name} in INFO {section}"))
        .to_string()
}

/// A server process (redis-server, or the viator-server binary) on a
/// free loopback port, killed on drop.
pub struct Process {
    pub child: std::process::Child,
    pub port: u16,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port free right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `program` with `--port <free port> --bind 127.0.0.1` and `args`,
/// and waits until it accepts connections.
pub fn spawn_server(program: &str, args: &[&str]) -> Process {
    let port = free_port();
    let child = std::process::Command::new(program)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let process = Process { child, port };
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return process;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{program} did not start on port {port}");
}

/// A raw connection that reads whole frames and shows them compactly:
/// `"a"` for a bulk, `:1` for an integer, `[...]` for arrays, `nil` for a
/// null bulk, `nil*` for a null array, `null` for RESP3's null, `+OK`,
/// `-ERR ...`.
pub struct Client {
    pub s: TcpStream,
    pub buf: BytesMut,
}

pub fn show(f: &Frame) -> String {
    match f {
        Frame::Simple(b) => format!("+{}", String::from_utf8_lossy(b)),
        Frame::Error(b) => format!("-{}", String::from_utf8_lossy(b)),
        Frame::Integer(n) => format!(":{n}"),
        Frame::Bulk(b) => format!("\"{}\"", String::from_utf8_lossy(b)),
        Frame::NullBulk => "nil".into(),
        Frame::NullArray => "nil*".into(),
        Frame::Null => "null".into(),
        Frame::Array(v) | Frame::Set(v) => {
            format!("[{}]", v.iter().map(show).collect::<Vec<_>>().join(","))
        }
        other => format!("{other:?}"),
    }
}

impl Client {
    pub fn new(server: &Server) -> Client {
        Client::connect(server.port())
    }

    /// A connection to any server on loopback (a redis-server too).
    pub fn connect(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        Client {
            s,
            buf: BytesMut::new(),
        }
    }

    pub fn send(&mut self, args: &[&str]) {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        self.s.write_all(&out).unwrap();
    }

    pub fn read(&mut self) -> String {
        show(&self.read_frame())
    }

    /// The next reply as a frame (binary bulks intact).
    pub fn read_frame(&mut self) -> Frame {
        loop {
            if let Some(f) = parse_frame(&mut self.buf).expect("valid RESP") {
                return f;
            }
            let mut chunk = [0u8; 4096];
            let n = self.s.read(&mut chunk).expect("reply in time");
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Runs a command of binary arguments; its reply as a frame.
    pub fn call(&mut self, args: &[&[u8]]) -> Frame {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.s.write_all(&out).unwrap();
        self.read_frame()
    }

    pub fn cmd(&mut self, args: &[&str]) -> String {
        self.send(args);
        self.read()
    }

    /// Whether a reply arrives within `ms`.
    pub fn quiet_for(&mut self, ms: u64) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        self.s
            .set_read_timeout(Some(Duration::from_millis(ms)))
            .unwrap();
        let mut b = [0u8; 64];
        let got = self.s.peek(&mut b);
        self.s
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        !matches!(got, Ok(n) if n > 0)
    }

    pub fn id(&mut self) -> String {
        self.cmd(&["CLIENT", "ID"])
            .trim_start_matches(':')
            .to_string()
    }
}

/// Waits until INFO reports `n` blocked clients.
pub fn wait_blocked(c: &mut Client, n: usize) {
    let want = format!("blocked_clients:{n}\r\n");
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let info = c.cmd(&["INFO", "clients"]);
        if info.contains(&want) {
            return;
        }
        assert!(Instant::now() < until, "never {want:?}: {info}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A `redis` crate connection to `server`, in RESP3 when `resp3`.
pub fn redis_connection(server: &Server, resp3: bool) -> redis::Connection {
    let url = if resp3 {
        format!("redis://127.0.0.1:{}/0?protocol=resp3", server.port())
    } else {
        format!("redis://127.0.0.1:{}/0", server.port())
    };
    redis::Client::open(url)
        .expect("url")
        .get_connection()
        .expect("connect")
}
