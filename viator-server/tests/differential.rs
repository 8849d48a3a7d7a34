//! Differential tests: the command scripts in `tests/diff/*.txt` run against
//! Debian's `redis-server` (started here on a free loopback port, killed at
//! the end even when a test panics) and against an in-process Viator
//! server, over raw sockets, once in RESP2 and once in RESP3 (`HELLO 3`
//! first), and the raw reply bytes are compared exactly.
//!
//! Every test is `#[ignore]`: they need `redis-server` on `PATH`. `.ci/run`
//! installs it and runs them with
//! `cargo test -p viator-server --test differential -- --ignored`.
//!
//! # Script format
//!
//! One command per line, split like redis-cli does (double quotes with
//! `\n`, `\xHH`... escapes, single quotes). Blank lines and lines starting
//! with `#` are ignored. A line starting with `!` is a marker for the next
//! command line:
//!
//! - `!mask shape`: only the reply's structure is compared (types and
//!   aggregate sizes; every scalar masked). For TIME, INFO, CLIENT ID...
//! - `!mask fields NAME...`: in string replies, the value after `NAME:` or
//!   `NAME=` is masked (DEBUG OBJECT's `at:0x...`, CLIENT LIST's `id=`).
//! - `!mask sorted`: the top-level aggregate's elements are sorted first
//!   (KEYS, whose order is the hash table's).
//! - `!mask pairs`: a flat list of name/value pairs (or a map) is sorted
//!   by pair first (CONFIG GET with several patterns).
//! - `!mask scan`: a SCAN reply's key list is sorted first.
//! - `!mask subcommands`: COMMAND INFO entries' subcommand lists are sorted
//!   first (Redis orders them by a hash with a random seed, per process).
//! - `!skip REASON`: the command is not run; the reason is printed.
//! - `!known-diff REASON`: a Viator bug, reported and tracked. Both servers
//!   run the command; a difference is printed but does not fail the test.
//!   Once the replies match, the test fails until the marker is removed, so
//!   a fixed bug cannot silently regress.
//! - `!v7-differs REASON`: Redis 8.4 replies differently from Debian's
//!   Redis 7.0 here (the reason says how, and where 8.4's behaviour is
//!   documented). Both servers run it, and the replies must *differ*: an
//!   identical reply means Viator gives 7.0's answer.
//! - `!v84 SOURCE -- REASON`: the command is new in Redis 8 or its reply
//!   changed, so it is not sent to Redis 7.0; Viator's reply is compared
//!   with the expected RESP on the `=>` lines that follow the command (one
//!   RESP line each, `\r\n` added, escapes as in commands; `=2>` and `=3>`
//!   for lines that exist in only one protocol). In a file that also talks
//!   to Redis, such a command must leave the dataset as Redis 7.0 would, or
//!   the comparisons after it drift: state-changing 8.4 commands go in
//!   `v84-*.txt` files, which run against Viator only and need `!v84`
//!   expectations on every command.
//! - `!resp2` / `!resp3`: the command runs only in that protocol pass.
//!
//! A line `!reconnect` alone opens new connections at once (after QUIT).
//!
//! Each file starts on fresh connections after FLUSHALL.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use viator_server::Server;

// ---------------------------------------------------------------- RESP

/// One reply, as read off the wire.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    /// `+ - : _ , # (` and their line.
    Line(u8, Vec<u8>),
    /// `$ = !` with a payload, or `$-1`.
    Blob(u8, Option<Vec<u8>>),
    /// `* ~ % > |` with their elements (maps and attributes flattened), or
    /// `*-1`.
    Agg(u8, Option<Vec<Node>>),
    /// Push messages followed by the command's reply.
    Seq(Vec<Node>),
}

fn read_line(r: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(std::io::Error::new(
            ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    if !line.ends_with(b"\r\n") {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            format!("bad line {:?}", show(&line)),
        ));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn parse_len(b: &[u8]) -> std::io::Result<i64> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(ErrorKind::InvalidData, format!("bad length {:?}", show(b)))
        })
}

fn read_node(r: &mut impl BufRead) -> std::io::Result<Node> {
    let line = read_line(r)?;
    let (&kind, rest) = line
        .split_first()
        .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidData, "empty reply line"))?;
    Ok(match kind {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Node::Line(kind, rest.to_vec()),
        b'$' | b'=' | b'!' => {
            let n = parse_len(rest)?;
            if n < 0 {
                Node::Blob(kind, None)
            } else {
                let mut buf = vec![0u8; n as usize + 2];
                r.read_exact(&mut buf)?;
                buf.truncate(n as usize);
                Node::Blob(kind, Some(buf))
            }
        }
        b'*' | b'~' | b'%' | b'>' | b'|' => {
            let n = parse_len(rest)?;
            if n < 0 {
                Node::Agg(kind, None)
            } else {
                let count = if kind == b'%' || kind == b'|' {
                    n * 2
                } else {
                    n
                };
                let mut items = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    items.push(read_node(r)?);
                }
                if kind == b'|' {
                    // An attribute comes before the reply it describes.
                    let reply = read_node(r)?;
                    return Ok(Node::Seq(vec![Node::Agg(kind, Some(items)), reply]));
                }
                Node::Agg(kind, Some(items))
            }
        }
        _ => {
            return Err(std::io::Error::new(
                ErrorKind::InvalidData,
                format!("unknown reply type {:?}", show(&line)),
            ));
        }
    })
}

fn encode(node: &Node, out: &mut Vec<u8>) {
    match node {
        Node::Line(k, b) => {
            out.push(*k);
            out.extend_from_slice(b);
            out.extend_from_slice(b"\r\n");
        }
        Node::Blob(k, None) => {
            out.push(*k);
            out.extend_from_slice(b"-1\r\n");
        }
        Node::Blob(k, Some(b)) => {
            out.push(*k);
            out.extend_from_slice(format!("{}\r\n", b.len()).as_bytes());
            out.extend_from_slice(b);
            out.extend_from_slice(b"\r\n");
        }
        Node::Agg(k, None) => {
            out.push(*k);
            out.extend_from_slice(b"-1\r\n");
        }
        Node::Seq(items) => {
            for i in items {
                encode(i, out);
            }
        }
        Node::Agg(k, Some(items)) => {
            let n = if *k == b'%' || *k == b'|' {
                items.len() / 2
            } else {
                items.len()
            };
            out.push(*k);
            out.extend_from_slice(format!("{n}\r\n").as_bytes());
            for i in items {
                encode(i, out);
            }
        }
    }
}

fn encoded(node: &Node) -> Vec<u8> {
    let mut v = Vec::new();
    encode(node, &mut v);
    v
}

/// Bytes shown with `\r\n` and non-printables escaped.
fn show(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s
}

// ---------------------------------------------------------------- masks

#[derive(Clone, Debug, PartialEq)]
enum Mask {
    Shape,
    Fields(Vec<String>),
    Sorted,
    Pairs,
    Scan,
    Subcommands,
    Docs,
}

fn mask_shape(n: &Node) -> Node {
    match n {
        Node::Line(k, _) => Node::Line(*k, b"?".to_vec()),
        Node::Blob(k, b) => Node::Blob(*k, b.as_ref().map(|_| b"?".to_vec())),
        Node::Agg(k, items) => Node::Agg(
            *k,
            items.as_ref().map(|v| v.iter().map(mask_shape).collect()),
        ),
        Node::Seq(items) => Node::Seq(items.iter().map(mask_shape).collect()),
    }
}

fn mask_fields_in(text: &[u8], names: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    'outer: while i < text.len() {
        let at_word_start = i == 0 || !(text[i - 1].is_ascii_alphanumeric() || text[i - 1] == b'_');
        if at_word_start {
            for name in names {
                let nb = name.as_bytes();
                if text[i..].starts_with(nb)
                    && matches!(text.get(i + nb.len()), Some(b':') | Some(b'='))
                {
                    out.extend_from_slice(&text[i..=i + nb.len()]);
                    out.push(b'*');
                    i += nb.len() + 1;
                    while i < text.len() && !matches!(text[i], b' ' | b'\r' | b'\n') {
                        i += 1;
                    }
                    continue 'outer;
                }
            }
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

fn mask_fields(n: &Node, names: &[String]) -> Node {
    match n {
        Node::Line(k, b) => Node::Line(*k, mask_fields_in(b, names)),
        Node::Blob(k, b) => Node::Blob(*k, b.as_ref().map(|b| mask_fields_in(b, names))),
        Node::Agg(k, items) => Node::Agg(
            *k,
            items
                .as_ref()
                .map(|v| v.iter().map(|i| mask_fields(i, names)).collect()),
        ),
        Node::Seq(items) => Node::Seq(items.iter().map(|i| mask_fields(i, names)).collect()),
    }
}

/// COMMAND DOCS without the `summary` texts and `display_text` fields:
/// Redis 7.2 rewrote every summary and added display texts, and the rest
/// (since, group, complexity, history, arguments) must still match.
fn mask_docs(n: &Node) -> Node {
    let is = |n: &Node, s: &[u8]| matches!(n, Node::Blob(_, Some(b)) if b == s);
    match n {
        Node::Agg(k, Some(items)) => {
            let mut out = Vec::with_capacity(items.len());
            let mut i = 0;
            while i < items.len() {
                if items.len() % 2 == 0 && i % 2 == 0 && i + 1 < items.len() {
                    if is(&items[i], b"display_text") {
                        i += 2;
                        continue;
                    }
                    if is(&items[i], b"summary") {
                        out.push(items[i].clone());
                        out.push(Node::Blob(b'$', Some(b"?".to_vec())));
                        i += 2;
                        continue;
                    }
                }
                out.push(mask_docs(&items[i]));
                i += 1;
            }
            Node::Agg(*k, Some(out))
        }
        Node::Seq(items) => Node::Seq(items.iter().map(mask_docs).collect()),
        other => other.clone(),
    }
}

/// The first place where two replies differ, as a path of element indexes
/// and the two sub-replies there.
fn first_difference(a: &Node, b: &Node, path: &mut Vec<usize>) -> Option<(Vec<usize>, Node, Node)> {
    fn children(n: &Node) -> Option<(u8, &Vec<Node>)> {
        match n {
            Node::Agg(k, Some(v)) => Some((*k, v)),
            Node::Seq(v) => Some((0, v)),
            _ => None,
        }
    }
    if a == b {
        return None;
    }
    if let (Some((ka, x)), Some((kb, y))) = (children(a), children(b))
        && ka == kb
        && x.len() == y.len()
    {
        for (i, (p, q)) in x.iter().zip(y).enumerate() {
            path.push(i);
            if let Some(d) = first_difference(p, q, path) {
                return Some(d);
            }
            path.pop();
        }
    }
    Some((path.clone(), a.clone(), b.clone()))
}

fn apply_mask(n: &Node, mask: &Mask) -> Node {
    match (mask, n) {
        (Mask::Docs, _) => mask_docs(n),
        (Mask::Shape, _) => mask_shape(n),
        (Mask::Fields(names), _) => mask_fields(n, names),
        (Mask::Sorted, Node::Agg(k, Some(items))) => {
            let mut items = items.clone();
            items.sort();
            Node::Agg(*k, Some(items))
        }
        (Mask::Pairs, Node::Agg(k, Some(items))) if items.len() % 2 == 0 => {
            let mut pairs: Vec<&[Node]> = items.chunks(2).collect();
            pairs.sort();
            Node::Agg(*k, Some(pairs.concat()))
        }
        (Mask::Scan, Node::Agg(k, Some(items))) if items.len() == 2 => {
            let mut items = items.clone();
            if let Node::Agg(_, Some(keys)) = &mut items[1] {
                keys.sort();
            }
            Node::Agg(*k, Some(items))
        }
        (Mask::Subcommands, Node::Agg(k, Some(entries))) => {
            let entries = entries
                .iter()
                .map(|e| match e {
                    Node::Agg(ek, Some(fields)) if fields.len() >= 10 => {
                        let mut fields = fields.clone();
                        if let Node::Agg(_, Some(subs)) = &mut fields[9] {
                            subs.sort();
                        }
                        Node::Agg(*ek, Some(fields))
                    }
                    other => other.clone(),
                })
                .collect();
            Node::Agg(*k, Some(entries))
        }
        _ => n.clone(),
    }
}

// ---------------------------------------------------------------- scripts

/// Splits a line into arguments the way redis-cli (Redis's `sdssplitargs`)
/// does.
fn split_args(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let b = line.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Ok(args);
        }
        let mut cur = Vec::new();
        let mut inq = false;
        let mut insq = false;
        loop {
            if inq {
                if i >= b.len() {
                    return Err("unbalanced double quotes".into());
                }
                if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).ok();
                    if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        cur.push(v);
                        i += 4;
                        continue;
                    }
                }
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    cur.push(match b[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if b[i] == b'"' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return Err("closing quote must be followed by a space".into());
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else if insq {
                if i >= b.len() {
                    return Err("unbalanced single quotes".into());
                }
                if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if b[i] == b'\'' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return Err("closing quote must be followed by a space".into());
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else {
                if i >= b.len() || b[i].is_ascii_whitespace() {
                    break;
                }
                match b[i] {
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

/// Expected-reply text: escapes as in double-quoted arguments.
fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let quoted = format!("\"{}\"", s.replace('"', "\\\""));
    let mut v = split_args(&quoted)?;
    Ok(v.pop().unwrap_or_default())
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Compare,
    Skip(String),
    KnownDiff(String),
    V7Differs(String),
    V84 {
        source: String,
        expect2: Vec<u8>,
        expect3: Vec<u8>,
    },
    Reconnect,
}

#[derive(Clone, Debug)]
struct Step {
    line: usize,
    text: String,
    args: Vec<Vec<u8>>,
    kind: Kind,
    masks: Vec<Mask>,
    only: Option<u8>,
}

fn parse_script(path: &Path) -> Vec<Step> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.display().to_string();
    let mut steps: Vec<Step> = Vec::new();
    let mut masks = Vec::new();
    let mut kind = Kind::Compare;
    let mut only = None;
    let mut pending_marker = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |msg: &str| -> ! { panic!("{name}:{n}: {msg}: {line}") };
        if let Some(rest) = line
            .strip_prefix("=>")
            .or_else(|| line.strip_prefix("=2>"))
            .or_else(|| line.strip_prefix("=3>"))
        {
            let which = if line.starts_with("=>") {
                0
            } else {
                line.as_bytes()[1] - b'0'
            };
            let Some(Step {
                kind: Kind::V84 {
                    expect2, expect3, ..
                },
                ..
            }) = steps.last_mut()
            else {
                fail("expected reply lines follow a !v84 command")
            };
            let mut bytes =
                unescape(rest.strip_prefix(' ').unwrap_or(rest)).unwrap_or_else(|e| fail(&e));
            bytes.extend_from_slice(b"\r\n");
            if which != 3 {
                expect2.extend_from_slice(&bytes);
            }
            if which != 2 {
                expect3.extend_from_slice(&bytes);
            }
            continue;
        }
        if let Some(marker) = line.strip_prefix('!') {
            let (word, rest) = marker.split_once(' ').unwrap_or((marker, ""));
            let rest = rest.trim().to_string();
            pending_marker = true;
            match word {
                "mask" => {
                    let (m, names) = rest.split_once(' ').unwrap_or((&rest, ""));
                    masks.push(match m {
                        "shape" => Mask::Shape,
                        "fields" => {
                            Mask::Fields(names.split_whitespace().map(String::from).collect())
                        }
                        "sorted" => Mask::Sorted,
                        "pairs" => Mask::Pairs,
                        "scan" => Mask::Scan,
                        "subcommands" => Mask::Subcommands,
                        "docs" => Mask::Docs,
                        _ => fail("unknown mask"),
                    });
                }
                "skip" | "known-diff" | "v7-differs" | "v84" => {
                    if rest.is_empty() {
                        fail("this marker needs a reason");
                    }
                    if kind != Kind::Compare {
                        fail("two kind markers for one command");
                    }
                    kind = match word {
                        "skip" => Kind::Skip(rest),
                        "known-diff" => Kind::KnownDiff(rest),
                        "v7-differs" => Kind::V7Differs(rest),
                        _ => {
                            if !rest.contains(" -- ") {
                                fail("!v84 SOURCE -- REASON");
                            }
                            Kind::V84 {
                                source: rest,
                                expect2: Vec::new(),
                                expect3: Vec::new(),
                            }
                        }
                    };
                }
                "resp2" => only = Some(2),
                "resp3" => only = Some(3),
                "reconnect" => {
                    if pending_marker
                        && (masks.len()
                            + usize::from(kind != Kind::Compare)
                            + usize::from(only.is_some()))
                            > 0
                    {
                        fail("!reconnect after another marker");
                    }
                    pending_marker = false;
                    steps.push(Step {
                        line: n,
                        text: line.to_string(),
                        args: Vec::new(),
                        kind: Kind::Reconnect,
                        masks: Vec::new(),
                        only: None,
                    });
                }
                _ => fail("unknown marker"),
            }
            continue;
        }
        let args = split_args(line).unwrap_or_else(|e| fail(&e));
        steps.push(Step {
            line: n,
            text: line.to_string(),
            args,
            kind: std::mem::replace(&mut kind, Kind::Compare),
            masks: std::mem::take(&mut masks),
            only: only.take(),
        });
        pending_marker = false;
    }
    if pending_marker {
        panic!("{name}: markers at the end of the file apply to no command");
    }
    for s in &steps {
        if let Kind::V84 {
            expect2, expect3, ..
        } = &s.kind
            && (expect2.is_empty() || expect3.is_empty())
        {
            panic!(
                "{name}:{}: !v84 command without => expected reply: {}",
                s.line, s.text
            );
        }
    }
    steps
}

// ---------------------------------------------------------------- servers

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether the server listening on `port` is the process `pid`: a free port
/// can be taken by another test's server between the check and the spawn,
/// and then the connection would reach that one.
fn serves_pid(port: u16, pid: u32) -> bool {
    let Ok(s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    if s.set_read_timeout(Some(Duration::from_secs(5))).is_err() {
        return false;
    }
    let mut c = Conn {
        r: BufReader::new(s),
    };
    match c.call(&[b"INFO".to_vec(), b"server".to_vec()]) {
        Ok(Node::Blob(_, Some(text))) => String::from_utf8_lossy(&text)
            .lines()
            .any(|l| l.trim_end() == format!("process_id:{pid}")),
        _ => false,
    }
}

/// Debian's redis-server as a child process, killed on drop.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn start() -> RedisServer {
        for _attempt in 0..10 {
            let port = free_port();
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--enable-debug-command", "yes"])
                .args(["--daemonize", "no", "--loglevel", "warning"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server must be on PATH for the differential tests (apt-get install redis-server)");
            let mut server = RedisServer { child, port };
            for _ in 0..250 {
                if let Ok(Some(_)) = server.child.try_wait() {
                    break; // The port was taken meanwhile: try another.
                }
                if serves_pid(port, server.child.id()) {
                    return server;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("redis-server did not start");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_viator() -> Server {
    let cfg = viator_server::config::load_isolated("port 0\nbind 127.0.0.1\nenable-debug-command yes\nloglevel warning\nsave \"\"\nappendonly no\n")
    .expect("config");
    Server::start(cfg, None).expect("viator starts")
}

struct Conn {
    r: BufReader<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> std::io::Result<Conn> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.set_nodelay(true)?;
        Ok(Conn {
            r: BufReader::new(s),
        })
    }

    fn call(&mut self, args: &[Vec<u8>]) -> std::io::Result<Node> {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.r.get_mut().write_all(&req)?;
        // Push messages (DEBUG PROTOCOL push) come before the reply.
        let mut pushes = Vec::new();
        loop {
            let n = read_node(&mut self.r)?;
            if matches!(n, Node::Agg(b'>', _)) {
                pushes.push(n);
                continue;
            }
            if pushes.is_empty() {
                return Ok(n);
            }
            pushes.push(n);
            return Ok(Node::Seq(pushes));
        }
    }
}

// ---------------------------------------------------------------- runner

#[derive(Default)]
struct Report {
    failures: Vec<String>,
    notes: Vec<String>,
    compared: usize,
    masked: usize,
    skipped: usize,
    known: usize,
    v7: usize,
    v84: usize,
}

fn clip(b: &[u8]) -> String {
    let s = show(b);
    if s.len() > 1500 {
        let cut = s
            .char_indices()
            .nth(1500)
            .map(|(i, _)| i)
            .unwrap_or(s.len());
        format!("{}... ({} bytes)", &s[..cut], b.len())
    } else {
        s
    }
}

fn diff_text(label_a: &str, a: &[u8], label_b: &str, b: &[u8]) -> String {
    format!("    {label_a}: {}\n    {label_b}: {}", clip(a), clip(b))
}

/// Both replies, and for long ones where they first differ.
fn diff_nodes(a: &Node, b: &Node) -> String {
    let (ab, bb) = (encoded(a), encoded(b));
    let mut out = diff_text("redis ", &ab, "viator", &bb);
    if ab.len() > 200 || bb.len() > 200 {
        if let Some((path, x, y)) = first_difference(a, b, &mut Vec::new()) {
            let _ = write!(
                out,
                "\n    first difference at element {path:?}:\n{}",
                diff_text("redis ", &encoded(&x), "viator", &encoded(&y))
            );
        }
    }
    out
}

/// Opens a connection to each server in `proto` and empties the data.
fn open_pair(
    redis: Option<u16>,
    viator: u16,
    proto: u8,
    report: &mut Report,
    file: &str,
) -> Option<(Option<Conn>, Conn)> {
    let mut r = redis.map(|p| Conn::open(p).expect("connect to redis-server"));
    let mut v = Conn::open(viator).expect("connect to viator");
    if proto == 3 {
        let hello = vec![b"HELLO".to_vec(), b"3".to_vec()];
        let vh = v.call(&hello).expect("viator HELLO 3");
        if let Some(r) = r.as_mut() {
            let rh = r.call(&hello).expect("redis HELLO 3");
            // Versions and client ids differ: compare the shape.
            if mask_shape(&rh) != mask_shape(&vh) {
                report.failures.push(format!(
                    "{file} RESP3: HELLO 3 shape differs\n{}",
                    diff_text("redis ", &encoded(&rh), "viator", &encoded(&vh))
                ));
                return None;
            }
        }
    }
    let flush = vec![b"FLUSHALL".to_vec()];
    v.call(&flush).expect("viator FLUSHALL");
    if let Some(r) = r.as_mut() {
        r.call(&flush).expect("redis FLUSHALL");
    }
    Some((r, v))
}

fn run_pass(
    file: &str,
    steps: &[Step],
    redis: Option<u16>,
    viator: u16,
    proto: u8,
    report: &mut Report,
) {
    let Some((mut rc, mut vc)) = open_pair(redis, viator, proto, report, file) else {
        return;
    };
    for step in steps {
        if step.only.is_some_and(|p| p != proto) {
            continue;
        }
        let at = format!("{file}:{} RESP{proto}: {}", step.line, step.text);
        match &step.kind {
            Kind::Reconnect => {
                let Some(pair) = open_pair(redis, viator, proto, report, file) else {
                    return;
                };
                // open_pair flushes: reconnecting mid-file is for after QUIT,
                // where the data no longer matters.
                (rc, vc) = pair;
                continue;
            }
            Kind::Skip(reason) => {
                if proto == 2 {
                    report.skipped += 1;
                    report
                        .notes
                        .push(format!("SKIP {file}:{} {}: {reason}", step.line, step.text));
                }
                continue;
            }
            _ => {}
        }
        let v = match vc.call(&step.args) {
            Ok(v) => v,
            Err(e) => {
                report.failures.push(format!(
                    "{at}\n    viator: no reply ({e}); rest of the file not run"
                ));
                return;
            }
        };
        if let Kind::V84 {
            source,
            expect2,
            expect3,
        } = &step.kind
        {
            report.v84 += 1;
            let want = if proto == 2 { expect2 } else { expect3 };
            let got = encoded(&v);
            if &got != want {
                report.failures.push(format!(
                    "{at}\n    (8.4 reply from {source})\n{}",
                    diff_text("expected", want, "viator  ", &got)
                ));
            }
            continue;
        }
        let Some(rc) = rc.as_mut() else {
            panic!("{at}: a Viator-only file needs !v84 expectations on every command");
        };
        let r = match rc.call(&step.args) {
            Ok(r) => r,
            Err(e) => {
                report.failures.push(format!(
                    "{at}\n    redis: no reply ({e}); rest of the file not run"
                ));
                return;
            }
        };
        let (mut rm, mut vm) = (r.clone(), v.clone());
        for m in &step.masks {
            rm = apply_mask(&rm, m);
            vm = apply_mask(&vm, m);
        }
        let same = rm == vm;
        let vb = encoded(&v);
        match &step.kind {
            Kind::Compare => {
                report.compared += 1;
                if !step.masks.is_empty() {
                    report.masked += 1;
                }
                if !same {
                    report
                        .failures
                        .push(format!("{at}\n{}", diff_nodes(&rm, &vm)));
                }
            }
            Kind::KnownDiff(reason) => {
                report.known += 1;
                if same {
                    report.failures.push(format!(
                        "{at}\n    KNOWN-DIFF now matches Redis: remove the marker ({reason})"
                    ));
                } else {
                    report.notes.push(format!(
                        "KNOWN-DIFF {at}\n    ({reason})\n{}",
                        diff_nodes(&rm, &vm)
                    ));
                }
            }
            Kind::V7Differs(reason) => {
                report.v7 += 1;
                if same {
                    report.failures.push(format!(
                        "{at}\n    expected Redis 8.4's reply to differ from 7.0's ({reason}), but Viator gave 7.0's: {}",
                        show(&vb)
                    ));
                }
            }
            Kind::Skip(_) | Kind::V84 { .. } | Kind::Reconnect => unreachable!(),
        }
    }
}

fn diff_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diff")
}

/// Runs one script file in both protocols and fails with every difference.
fn run_file(name: &str) {
    let path = diff_dir().join(name);
    let steps = parse_script(&path);
    assert!(!steps.is_empty(), "{name} has no commands");
    let viator_only = name.starts_with("v84-");
    let redis = (!viator_only).then(RedisServer::start);
    let viator = start_viator();
    let mut report = Report::default();
    for proto in [2, 3] {
        run_pass(
            name,
            &steps,
            redis.as_ref().map(|r| r.port),
            viator.port(),
            proto,
            &mut report,
        );
    }
    viator.shutdown();
    drop(redis);
    for n in &report.notes {
        println!("{n}");
    }
    println!(
        "{name}: {} compared ({} masked), {} checked against 8.4 docs, {} differ from 7.0 as documented, {} known diffs, {} skipped",
        report.compared, report.masked, report.v84, report.v7, report.known, report.skipped
    );
    if !report.failures.is_empty() {
        panic!(
            "{} difference(s) in {name}:\n{}",
            report.failures.len(),
            report.failures.join("\n")
        );
    }
}

macro_rules! scripts {
    ($($test:ident => $file:literal),* $(,)?) => {
        $(
            #[test]
            #[ignore = "needs redis-server on PATH"]
            fn $test() {
                run_file($file);
            }
        )*

        const FILES: &[&str] = &[$($file),*];
    };
}

scripts! {
    strings => "strings.txt",
    strings_errors => "strings-errors.txt",
    string_numbers => "string-numbers.txt",
    keys => "keys.txt",
    keys_expire => "keys-expire.txt",
    keys_errors => "keys-errors.txt",
    connection => "connection.txt",
    server => "server.txt",
    command_info => "command-info.txt",
    v84_strings => "v84-strings.txt",
    lists => "lists.txt",
    lists_errors => "lists-errors.txt",
    hashes => "hashes.txt",
    hashes_errors => "hashes-errors.txt",
    v84_hashes => "v84-hashes.txt",
    sets => "sets.txt",
    sets_errors => "sets-errors.txt",
    zsets => "zsets.txt",
    zsets_errors => "zsets-errors.txt",
    sort => "sort.txt",
    transactions => "transactions.txt",
    streams => "streams.txt",
    streams_errors => "streams-errors.txt",
    v84_streams => "v84-streams.txt",
    stream_groups => "stream-groups.txt",
    stream_groups_errors => "stream-groups-errors.txt",
    v84_stream_groups => "v84-stream-groups.txt",
    hyperloglog => "hyperloglog.txt",
    hyperloglog_errors => "hyperloglog-errors.txt",
    bitmaps => "bitmaps.txt",
    bitmaps_errors => "bitmaps-errors.txt",
    v84_bitmaps => "v84-bitmaps.txt",
    geo => "geo.txt",
    geo_errors => "geo-errors.txt",
    dump_restore => "dump-restore.txt",
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn every_script_runs() {
    let mut on_disk: Vec<String> = std::fs::read_dir(diff_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every tests/diff/*.txt needs a line in scripts!"
    );
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn script_parser_reads_markers_and_quotes() {
    assert_eq!(
        split_args(r#"SET "a b" 'c\'d' "\x41\n" e"#).unwrap(),
        vec![
            b"SET".to_vec(),
            b"a b".to_vec(),
            b"c'd".to_vec(),
            b"A\n".to_vec(),
            b"e".to_vec()
        ]
    );
    assert!(split_args(r#"SET "a"b"#).is_err());
    assert_eq!(unescape(r#"$3\r\na"b"#).unwrap(), b"$3\r\na\"b".to_vec());
    assert_eq!(
        mask_fields_in(
            b"Value at:0x7f refcount:1 lru:123 lru_seconds_idle:4",
            &["at".into(), "lru".into()]
        ),
        b"Value at:* refcount:1 lru:* lru_seconds_idle:4".to_vec()
    );
}
