//! CLIENT, INFO and CONFIG against a real in-process server over raw TCP:
//! reply bytes and shapes as Redis 8.4 sends them (checked against
//! Debian's redis-server 7.0 where 8.4 did not change them), the CLIENT
//! LIST line format, the KILL forms, REPLY OFF/SKIP/ON, PAUSE holding
//! writes but not reads, INFO fields that move, CONFIG GET/SET/RESETSTAT/
//! REWRITE and CONFIG SET port rebinding the listener.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use viator_server::Server;

fn start(extra: &str) -> Server {
    let text =
        format!("port 0\nbind 127.0.0.1\nenable-debug-command yes\nloglevel warning\n{extra}");
    let cfg = viator_server::config::load_isolated(text).expect("config");
    Server::start(cfg, None).expect("server starts")
}

/// A decoded reply.
#[derive(Debug, Clone, PartialEq)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    Verbatim(String, Vec<u8>),
    Other(String),
}

impl Reply {
    fn text(&self) -> String {
        match self {
            Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8_lossy(b).into_owned(),
            Reply::Simple(s) => s.clone(),
            other => panic!("not text: {other:?}"),
        }
    }

    fn int(&self) -> i64 {
        match self {
            Reply::Int(n) => *n,
            other => panic!("not an integer: {other:?}"),
        }
    }
}

struct Conn {
    r: BufReader<TcpStream>,
}

impl Conn {
    fn new(server: &Server) -> Conn {
        Conn::to_port(server.port())
    }

    fn to_port(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        Conn {
            r: BufReader::new(s),
        }
    }

    fn encode(args: &[&str]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        out
    }

    fn send(&mut self, args: &[&str]) {
        self.r.get_mut().write_all(&Conn::encode(args)).unwrap();
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.r.get_mut().write_all(bytes).unwrap();
    }

    fn cmd(&mut self, args: &[&str]) -> Reply {
        self.send(args);
        self.read()
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        let n = self.r.read_line(&mut l).expect("read reply line");
        assert!(n > 0, "connection closed");
        assert!(l.ends_with("\r\n"), "bad line {l:?}");
        l.truncate(l.len() - 2);
        l
    }

    fn exact(&mut self, n: usize) -> Vec<u8> {
        let mut b = vec![0; n + 2];
        self.r.read_exact(&mut b).unwrap();
        b.truncate(n);
        b
    }

    fn read(&mut self) -> Reply {
        let l = self.line();
        let (t, rest) = l.split_at(1);
        match t {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Int(rest.parse().unwrap()),
            "_" => Reply::Nil,
            "$" => match rest.parse::<i64>().unwrap() {
                -1 => Reply::Nil,
                n => Reply::Bulk(self.exact(n as usize)),
            },
            "=" => {
                let b = self.exact(rest.parse().unwrap());
                Reply::Verbatim(
                    String::from_utf8_lossy(&b[..3]).into_owned(),
                    b[4..].to_vec(),
                )
            }
            "*" | "~" => match rest.parse::<i64>().unwrap() {
                -1 => Reply::Nil,
                n => Reply::Array((0..n).map(|_| self.read()).collect()),
            },
            "%" => Reply::Map(
                (0..rest.parse::<usize>().unwrap())
                    .map(|_| (self.read(), self.read()))
                    .collect(),
            ),
            _ => Reply::Other(l),
        }
    }

    /// Whether a reply arrives within `wait`.
    fn has_reply_within(&mut self, wait: Duration) -> bool {
        if !self.r.buffer().is_empty() {
            return true;
        }
        let s = self.r.get_ref();
        s.set_read_timeout(Some(wait)).unwrap();
        let mut b = [0u8; 1];
        let got = match s.peek(&mut b) {
            Ok(n) => n > 0,
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => false,
            Err(e) => panic!("peek: {e}"),
        };
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        got
    }

    /// Whether the server closed the connection (reads EOF or a reset).
    fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 16];
        match self.r.read(&mut b) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() != ErrorKind::WouldBlock && e.kind() != ErrorKind::TimedOut,
        }
    }
}

fn err(s: &str) -> Reply {
    Reply::Error(s.to_string())
}

fn ok() -> Reply {
    Reply::Simple("OK".into())
}

/// The `key=value` fields of one CLIENT LIST line, in order.
fn fields(line: &str) -> Vec<(String, String)> {
    line.trim_end_matches('\n')
        .split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn field(line: &str, key: &str) -> String {
    fields(line)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {line}"))
}

/// One INFO field.
fn info_field(info: &str, key: &str) -> Option<String> {
    info.split("\r\n")
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .map(str::to_string)
}

const LIST_KEYS: &[&str] = &[
    "id",
    "addr",
    "laddr",
    "fd",
    "name",
    "age",
    "idle",
    "flags",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "watch",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "events",
    "cmd",
    "user",
    "redir",
    "resp",
    "lib-name",
    "lib-ver",
    "io-thread",
    "tot-net-in",
    "tot-net-out",
    "tot-cmds",
];

#[test]
fn client_id_name_info_and_list() {
    let server = start("");
    let mut a = Conn::new(&server);
    let mut b = Conn::new(&server);
    let a_id = a.cmd(&["CLIENT", "ID"]).int();
    let b_id = b.cmd(&["client", "id"]).int();
    assert!(b_id > a_id);

    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), Reply::Nil);
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "alpha"]), ok());
    assert_eq!(
        a.cmd(&["CLIENT", "GETNAME"]),
        Reply::Bulk(b"alpha".to_vec())
    );
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME", "a b"]),
        err("ERR Client names cannot contain spaces, newlines or special characters.")
    );

    let info = a.cmd(&["CLIENT", "INFO"]).text();
    assert!(
        info.ends_with('\n') && info.matches('\n').count() == 1,
        "{info:?}"
    );
    let keys: Vec<String> = fields(&info).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, LIST_KEYS);
    assert_eq!(field(&info, "id"), a_id.to_string());
    assert_eq!(field(&info, "name"), "alpha");
    assert_eq!(field(&info, "flags"), "N");
    assert_eq!(field(&info, "db"), "0");
    assert_eq!(field(&info, "multi"), "-1");
    assert_eq!(field(&info, "cmd"), "client|info");
    assert_eq!(field(&info, "user"), "default");
    assert_eq!(field(&info, "resp"), "2");
    assert_eq!(
        field(&info, "laddr"),
        format!("127.0.0.1:{}", server.port())
    );
    assert_eq!(field(&info, "argv-mem"), "10");
    assert_eq!(field(&info, "qbuf"), "26");

    // Per-client counters: one more command and 26 more bytes in (the
    // CLIENT INFO request), more bytes out (the previous reply).
    let info2 = a.cmd(&["CLIENT", "INFO"]).text();
    let n = |s: &str, k: &str| field(s, k).parse::<u64>().unwrap();
    assert_eq!(n(&info2, "tot-cmds"), n(&info, "tot-cmds") + 1);
    assert_eq!(n(&info2, "tot-net-in"), n(&info, "tot-net-in") + 26);
    assert!(n(&info2, "tot-net-out") > n(&info, "tot-net-out") + 300);

    // The caller's own line reflects a SELECT earlier in the same batch.
    let mut pipe = Conn::encode(&["SELECT", "3"]);
    pipe.extend(Conn::encode(&["CLIENT", "INFO"]));
    a.send_raw(&pipe);
    assert_eq!(a.read(), ok());
    assert_eq!(field(&a.read().text(), "db"), "3");

    // SETINFO.
    assert_eq!(a.cmd(&["CLIENT", "SETINFO", "LIB-NAME", "redis-py"]), ok());
    assert_eq!(a.cmd(&["CLIENT", "SETINFO", "lib-ver", "5.0"]), ok());
    assert_eq!(
        a.cmd(&["CLIENT", "SETINFO", "lib-name", "a b"]),
        err("ERR lib-name cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        a.cmd(&["CLIENT", "SETINFO", "foo", "bar"]),
        err("ERR Unrecognized option 'foo'")
    );
    assert_eq!(
        a.cmd(&["CLIENT", "SETINFO", "lib-name"]),
        err("ERR wrong number of arguments for 'client|setinfo' command")
    );

    // LIST: every client, one line each, in id order.
    let list = b.cmd(&["CLIENT", "LIST"]).text();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert_eq!(field(lines[0], "id"), a_id.to_string());
    assert_eq!(field(lines[0], "name"), "alpha");
    assert_eq!(field(lines[0], "db"), "3");
    assert_eq!(field(lines[0], "lib-name"), "redis-py");
    assert_eq!(field(lines[0], "lib-ver"), "5.0");
    assert_eq!(field(lines[0], "cmd"), "client|setinfo");
    assert_eq!(field(lines[1], "cmd"), "client|list");
    let keys: Vec<String> = fields(lines[1]).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, LIST_KEYS);

    // An unknown command shows as NULL, a wrong arity as the command.
    assert!(matches!(a.cmd(&["NOSUCH"]), Reply::Error(_)));
    let line = b.cmd(&["CLIENT", "LIST", "ID", &a_id.to_string()]).text();
    assert_eq!(field(&line, "cmd"), "NULL");
    assert!(matches!(a.cmd(&["GET"]), Reply::Error(_)));
    let line = b.cmd(&["CLIENT", "LIST", "ID", &a_id.to_string()]).text();
    assert_eq!(field(&line, "cmd"), "get");

    // Filters, in the order given.
    let by_id = b
        .cmd(&[
            "CLIENT",
            "LIST",
            "ID",
            &b_id.to_string(),
            "999",
            &a_id.to_string(),
        ])
        .text();
    let ids: Vec<String> = by_id.lines().map(|l| field(l, "id")).collect();
    assert_eq!(ids, [b_id.to_string(), a_id.to_string()]);
    assert_eq!(
        b.cmd(&["CLIENT", "LIST", "TYPE", "normal"])
            .text()
            .lines()
            .count(),
        2
    );
    assert_eq!(b.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]).text(), "");
    assert_eq!(b.cmd(&["CLIENT", "LIST", "TYPE", "replica"]).text(), "");
    assert_eq!(
        b.cmd(&["CLIENT", "LIST", "TYPE", "foo"]),
        err("ERR Unknown client type 'foo'")
    );
    assert_eq!(
        b.cmd(&["CLIENT", "LIST", "ID", "x"]),
        err("ERR Invalid client ID")
    );
    assert_eq!(b.cmd(&["CLIENT", "LIST", "foo"]), err("ERR syntax error"));
    assert_eq!(
        b.cmd(&["CLIENT", "LIST", "TYPE", "normal", "ID", "1"]),
        err("ERR syntax error")
    );

    // RESP3: CLIENT INFO and LIST are verbatim strings.
    let mut c = Conn::new(&server);
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    match c.cmd(&["CLIENT", "INFO"]) {
        Reply::Verbatim(f, text) => {
            assert_eq!(f, "txt");
            assert!(String::from_utf8_lossy(&text).contains(" resp=3 "));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(c.cmd(&["CLIENT", "LIST"]), Reply::Verbatim(..)));
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::Nil);
    server.shutdown();
}

#[test]
fn client_help_and_subcommand_errors() {
    let server = start("");
    let mut c = Conn::new(&server);
    let Reply::Array(lines) = c.cmd(&["client", "help"]) else {
        panic!()
    };
    assert_eq!(lines.len(), 58);
    assert_eq!(
        lines[0],
        Reply::Simple("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
    );
    assert_eq!(lines[1], Reply::Simple("CACHING (YES|NO)".into()));
    assert_eq!(lines[56], Reply::Simple("HELP".into()));
    assert_eq!(lines[57], Reply::Simple("    Print this help.".into()));
    assert_eq!(
        c.cmd(&["CLIENT"]),
        err("ERR wrong number of arguments for 'client' command")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "nosuch"]),
        err("ERR unknown subcommand 'nosuch'. Try CLIENT HELP.")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "UNBLOCK", "1", "TIMEOUT", "x"]),
        err("ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.")
    );
    assert_eq!(
        c.cmd(&["client", "pause", "10", "all", "x"]),
        err("ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP.")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "UNBLOCK", "1", "x"]),
        err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "UNBLOCK", "x"]),
        err("ERR value is not an integer or out of range")
    );
    // Nobody is blocked.
    let id = c.cmd(&["CLIENT", "ID"]).int().to_string();
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["CLIENT", "UNBLOCK", "12345", "ERROR"]),
        Reply::Int(0)
    );

    // NO-EVICT / NO-TOUCH show in the flags.
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "on"]), ok());
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "ON"]), ok());
    assert_eq!(field(&c.cmd(&["CLIENT", "INFO"]).text(), "flags"), "eT");
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "off"]), ok());
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "off"]), ok());
    assert_eq!(field(&c.cmd(&["CLIENT", "INFO"]).text(), "flags"), "N");
    assert_eq!(
        c.cmd(&["CLIENT", "NO-EVICT", "maybe"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "NO-TOUCH", "maybe"]),
        err("ERR syntax error")
    );
    server.shutdown();
}

#[test]
fn client_reply_off_skip_on() {
    let server = start("");
    let mut c = Conn::new(&server);
    // OFF: nothing until ON, whose OK is sent.
    let mut p = Vec::new();
    for args in [
        &["CLIENT", "REPLY", "OFF"][..],
        &["PING", "a"],
        &["GET", "x"],
        &["NOSUCHCOMMAND"],
        &["CLIENT", "REPLY", "ON"],
        &["PING", "c"],
    ] {
        p.extend(Conn::encode(args));
    }
    c.send_raw(&p);
    assert_eq!(c.read(), ok());
    assert_eq!(c.read(), Reply::Bulk(b"c".to_vec()));

    // SKIP: only the next command's reply is dropped.
    c.send(&["CLIENT", "REPLY", "SKIP"]);
    c.send(&["PING", "a"]);
    c.send(&["PING", "b"]);
    assert_eq!(c.read(), Reply::Bulk(b"b".to_vec()));

    // SKIP then ON: ON's own OK is sent.
    c.send(&["CLIENT", "REPLY", "SKIP"]);
    c.send(&["CLIENT", "REPLY", "ON"]);
    assert_eq!(c.read(), ok());
    assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));

    // SKIP while OFF changes nothing.
    c.send(&["CLIENT", "REPLY", "OFF"]);
    c.send(&["CLIENT", "REPLY", "SKIP"]);
    c.send(&["PING", "x"]);
    c.send(&["CLIENT", "REPLY", "ON"]);
    assert_eq!(c.read(), ok());

    assert_eq!(
        c.cmd(&["CLIENT", "REPLY", "maybe"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "REPLY"]),
        err("ERR wrong number of arguments for 'client|reply' command")
    );
    server.shutdown();
}

#[test]
fn client_kill_forms() {
    let server = start("");
    let mut me = Conn::new(&server);
    let mut victim = Conn::new(&server);
    let victim_info = victim.cmd(&["CLIENT", "INFO"]).text();
    let victim_addr = field(&victim_info, "addr");
    let victim_id = field(&victim_info, "id");

    // Errors.
    assert_eq!(
        me.cmd(&["CLIENT", "KILL"]),
        err("ERR wrong number of arguments for 'client|kill' command")
    );
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", "1.2.3.4:5"]),
        err("ERR No such client")
    );
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", "127.0.0.1:"]),
        err("ERR No such client")
    );
    for (args, e) in [
        (&["ID", "10", "wrong_arg"][..], "ERR syntax error"),
        (&["ID", "str"], "ERR client-id should be greater than 0"),
        (&["ID", "-1"], "ERR client-id should be greater than 0"),
        (&["ID", "0"], "ERR client-id should be greater than 0"),
        (
            &["TYPE", "wrong_type"],
            "ERR Unknown client type 'wrong_type'",
        ),
        (&["USER", "wrong_user"], "ERR No such user 'wrong_user'"),
        (&["SKIPME", "yes_or_no"], "ERR syntax error"),
        (
            &["MAXAGE", "str"],
            "ERR maxage is not an integer or out of range",
        ),
        (
            &["MAXAGE", "9999999999999999999"],
            "ERR maxage is not an integer or out of range",
        ),
        (&["MAXAGE", "-1"], "ERR maxage should be greater than 0"),
        (&["FOO", "bar"], "ERR syntax error"),
    ] {
        let mut full = vec!["CLIENT", "KILL"];
        full.extend_from_slice(args);
        assert_eq!(me.cmd(&full), err(e), "{args:?}");
    }

    // Filters that match nobody.
    assert_eq!(me.cmd(&["CLIENT", "KILL", "MAXAGE", "1000"]), Reply::Int(0));
    assert_eq!(me.cmd(&["CLIENT", "KILL", "TYPE", "pubsub"]), Reply::Int(0));
    assert_eq!(me.cmd(&["CLIENT", "KILL", "ID", "999999"]), Reply::Int(0));
    assert_eq!(victim.cmd(&["PING"]), Reply::Simple("PONG".into()));

    // The old form: OK, and the victim is closed.
    assert_eq!(me.cmd(&["CLIENT", "KILL", &victim_addr]), ok());
    assert!(victim.is_closed());
    // Gone from the list at once.
    assert_eq!(me.cmd(&["CLIENT", "LIST"]).text().lines().count(), 1);
    assert_eq!(me.cmd(&["CLIENT", "LIST", "ID", &victim_id]).text(), "");

    // ID filter.
    let mut v2 = Conn::new(&server);
    let v2_id = v2.cmd(&["CLIENT", "ID"]).int().to_string();
    assert_eq!(me.cmd(&["CLIENT", "KILL", "ID", &v2_id]), Reply::Int(1));
    assert!(v2.is_closed());

    // SKIPME (yes by default) with ADDR, LADDR and USER filters.
    let my_addr = field(&me.cmd(&["CLIENT", "INFO"]).text(), "addr");
    assert_eq!(me.cmd(&["CLIENT", "KILL", "ADDR", &my_addr]), Reply::Int(0));
    let mut v3 = Conn::new(&server);
    let mut v4 = Conn::new(&server);
    assert_eq!(v3.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(v4.cmd(&["PING"]), Reply::Simple("PONG".into()));
    let laddr = format!("127.0.0.1:{}", server.port());
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", "LADDR", &laddr, "USER", "default"]),
        Reply::Int(2)
    );
    assert!(v3.is_closed());
    assert!(v4.is_closed());

    // SKIPME no: the caller is counted, gets its reply, then is closed.
    let mut v5 = Conn::new(&server);
    assert_eq!(v5.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(me.cmd(&["CLIENT", "KILL", "SKIPME", "no"]), Reply::Int(2));
    assert!(me.is_closed());
    assert!(v5.is_closed());

    // The old form may kill its own connection.
    let mut self_killer = Conn::new(&server);
    let addr = field(&self_killer.cmd(&["CLIENT", "INFO"]).text(), "addr");
    assert_eq!(self_killer.cmd(&["CLIENT", "KILL", &addr]), ok());
    assert!(self_killer.is_closed());
    server.shutdown();
}

#[test]
fn client_pause_holds_writes_not_reads() {
    let server = start("");
    let mut admin = Conn::new(&server);
    let mut c = Conn::new(&server);
    assert_eq!(c.cmd(&["SET", "k", "v0"]), ok());

    // Errors.
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "abc"]),
        err("ERR timeout is not an integer or out of range")
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "-1"]),
        err("ERR timeout is negative")
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "10", "foo"]),
        err("ERR CLIENT PAUSE mode must be WRITE or ALL")
    );

    // WRITE: reads go on, writes wait until UNPAUSE, in order.
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "20000", "WRITE"]), ok());
    let t = Instant::now();
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Bulk(b"v0".to_vec()));
    assert!(t.elapsed() < Duration::from_secs(2));
    let mut p = Conn::encode(&["GET", "k"]);
    p.extend(Conn::encode(&["SET", "k", "v1"]));
    p.extend(Conn::encode(&["GET", "k"]));
    c.send_raw(&p);
    assert_eq!(c.read(), Reply::Bulk(b"v0".to_vec()));
    assert!(!c.has_reply_within(Duration::from_millis(300)));
    // The held client shows as blocked; the admin's reads still run.
    let info = admin.cmd(&["INFO", "clients"]).text();
    assert_eq!(info_field(&info, "blocked_clients").as_deref(), Some("1"));
    let list = admin.cmd(&["CLIENT", "LIST"]).text();
    // Its last command is the held one, as Redis sets it at lookup.
    assert!(
        list.lines()
            .any(|l| field(l, "flags") == "b" && field(l, "cmd") == "set"),
        "{list}"
    );
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(c.read(), ok());
    assert_eq!(c.read(), Reply::Bulk(b"v1".to_vec()));
    let info = admin.cmd(&["INFO", "clients"]).text();
    assert_eq!(info_field(&info, "blocked_clients").as_deref(), Some("0"));

    // The pause ends by itself when its time is up.
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "300", "WRITE"]), ok());
    let t = Instant::now();
    assert_eq!(c.cmd(&["SET", "k", "v2"]), ok());
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );

    // ALL: every command waits, reads included.
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "300"]), ok());
    let t = Instant::now();
    assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );

    // A later, shorter pause keeps the longer end but takes the new mode:
    // ALL for 20 s, then WRITE for 10 ms lets reads through.
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "20000", "ALL"]), ok());
    c.send(&["GET", "k"]);
    assert!(!c.has_reply_within(Duration::from_millis(200)));
    let mut admin2 = Conn::new(&server);
    admin2.send(&["CLIENT", "PAUSE", "10", "WRITE"]);
    // admin2 is held too: under ALL even CLIENT UNPAUSE waits, as in
    // Redis. Switch the mode from the server side.
    server.shared().pause.pause(viator_server::Pause::WRITE, 0);
    assert_eq!(admin2.read(), ok());
    assert_eq!(c.read(), Reply::Bulk(b"v2".to_vec()));
    c.send(&["SET", "k", "v3"]);
    assert!(!c.has_reply_within(Duration::from_millis(200)));
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(c.read(), ok());

    // A held client can be killed.
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "20000", "WRITE"]), ok());
    let id = c.cmd(&["CLIENT", "ID"]).int().to_string();
    c.send(&["SET", "k", "v4"]);
    assert!(!c.has_reply_within(Duration::from_millis(200)));
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "ID", &id]), Reply::Int(1));
    assert!(c.is_closed());
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(admin.cmd(&["GET", "k"]), Reply::Bulk(b"v3".to_vec()));
    server.shutdown();
}

#[test]
fn info_sections_and_counters() {
    let server = start("");
    let mut c = Conn::new(&server);
    let info = c.cmd(&["INFO"]).text();
    let headers: Vec<&str> = info.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(
        headers,
        [
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Threads",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Errorstats",
            "# Cluster",
            "# Keyspace",
            "# Keysizes"
        ]
    );
    // Sections are separated by one empty line; every line ends in CRLF.
    assert!(info.starts_with("# Server\r\nredis_version:8.4.0\r\n"));
    assert!(info.contains("\r\n\r\n# Clients\r\n"));
    assert!(info.ends_with("# Keysizes\r\n"));
    assert_eq!(
        info_field(&info, "tcp_port"),
        Some(server.port().to_string())
    );
    assert_eq!(
        info_field(&info, "redis_mode").as_deref(),
        Some("standalone")
    );
    let run_id = info_field(&info, "run_id").unwrap();
    assert_eq!(run_id.len(), 40);
    assert!(run_id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        info_field(&info, "process_id"),
        Some(std::process::id().to_string())
    );
    assert_eq!(info_field(&info, "connected_clients").as_deref(), Some("1"));
    assert_eq!(info_field(&info, "role").as_deref(), Some("master"));
    assert_eq!(
        info_field(&info, "master_replid").map(|s| s.len()),
        Some(40)
    );
    assert_eq!(info_field(&info, "cluster_enabled").as_deref(), Some("0"));
    assert_eq!(
        info_field(&info, "maxmemory_policy").as_deref(),
        Some("noeviction")
    );
    let human = info_field(&info, "used_memory_human").unwrap();
    assert!(human.ends_with(['B', 'K', 'M', 'G']), "{human}");
    assert!(
        info_field(&info, "used_memory")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert!(info_field(&info, "used_cpu_user").unwrap().contains('.'));

    // Counters move.
    let processed = |c: &mut Conn| {
        info_field(
            &c.cmd(&["INFO", "stats"]).text(),
            "total_commands_processed",
        )
        .unwrap()
        .parse::<u64>()
        .unwrap()
    };
    let before = processed(&mut c);
    assert_eq!(c.cmd(&["SET", "a", "1"]), ok());
    assert_eq!(c.cmd(&["GET", "nosuch"]), Reply::Nil);
    assert_eq!(processed(&mut c), before + 3);

    let ks = c.cmd(&["INFO", "keyspace"]).text();
    assert_eq!(
        ks,
        "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0,subexpiry=0\r\n"
    );
    assert_eq!(c.cmd(&["EXPIRE", "a", "100"]), Reply::Int(1));
    assert_eq!(c.cmd(&["SELECT", "2"]), ok());
    assert_eq!(c.cmd(&["SET", "b", "1"]), ok());
    assert_eq!(
        c.cmd(&["INFO", "keyspace"]).text(),
        "# Keyspace\r\ndb0:keys=1,expires=1,avg_ttl=0,subexpiry=0\r\ndb2:keys=1,expires=0,avg_ttl=0,subexpiry=0\r\n"
    );
    let stats = c.cmd(&["INFO", "STATS"]).text();
    assert_eq!(info_field(&stats, "keyspace_misses").as_deref(), Some("1"));
    assert!(
        info_field(&stats, "total_net_input_bytes")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 100
    );

    // Several sections come in Redis's order, each once; unknown ones are
    // ignored.
    let two = c.cmd(&["INFO", "cpu", "SERVER", "cpu", "nosuch"]).text();
    let headers: Vec<&str> = two.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(headers, ["# Server", "# CPU"]);
    assert_eq!(c.cmd(&["INFO", "nosuch"]).text(), "");

    // Errors and commands are counted.
    assert_eq!(
        c.cmd(&["NOSUCH"]),
        err("ERR unknown command 'NOSUCH', with args beginning with: ")
    );
    assert!(matches!(c.cmd(&["GET"]), Reply::Error(_)));
    let es = c.cmd(&["INFO", "errorstats"]).text();
    assert_eq!(es, "# Errorstats\r\nerrorstat_ERR:count=2\r\n");
    let all = c.cmd(&["INFO", "all"]).text();
    assert!(all.contains("# Commandstats\r\n"));
    assert!(all.contains("\r\ncmdstat_set:calls=2,usec="), "{all}");
    assert!(all.contains(",rejected_calls=1,failed_calls=0\r\n"));
    assert!(all.lines().any(|l| l.starts_with("cmdstat_get:calls=1,")
        && l.ends_with(",rejected_calls=1,failed_calls=0")));
    assert!(all.lines().any(|l| l.starts_with("cmdstat_info:calls=")));
    assert!(!all.contains("# Keysizes\r\n# Commandstats"));
    let everything = c.cmd(&["INFO", "everything"]).text();
    assert!(everything.contains("# Latencystats\r\n"));

    // RESP3: a verbatim string.
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    match c.cmd(&["INFO", "cluster"]) {
        Reply::Verbatim(f, t) => {
            assert_eq!(f, "txt");
            assert_eq!(t, b"# Cluster\r\ncluster_enabled:0\r\n");
        }
        other => panic!("{other:?}"),
    }

    // Connections are counted.
    let _c2 = Conn::new(&server);
    let mut c3 = Conn::new(&server);
    let clients = c3.cmd(&["INFO", "clients"]).text();
    assert_eq!(
        info_field(&clients, "connected_clients").as_deref(),
        Some("3")
    );
    assert_eq!(info_field(&clients, "maxclients").as_deref(), Some("10000"));
    server.shutdown();
}

#[test]
fn config_get_set_resetstat() {
    let server = start("");
    let mut c = Conn::new(&server);
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory"]),
        Reply::Array(vec![
            Reply::Bulk(b"maxmemory".to_vec()),
            Reply::Bulk(b"0".to_vec())
        ])
    );
    let Reply::Array(v) = c.cmd(&["CONFIG", "GET", "maxmemory", "hz", "nosuch"]) else {
        panic!()
    };
    assert_eq!(v.len(), 4);
    assert_eq!(c.cmd(&["CONFIG", "GET", "nosuch"]), Reply::Array(vec![]));
    assert_eq!(
        c.cmd(&["CONFIG", "GET"]),
        err("ERR wrong number of arguments for 'config|get' command")
    );

    // SET is atomic: one bad value and nothing changes.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "10mb", "hz", "20"]),
        ok()
    );
    assert_eq!(c.cmd(&["CONFIG", "GET", "proto-max-bulk-len"]).clone(), {
        Reply::Array(vec![
            Reply::Bulk(b"proto-max-bulk-len".to_vec()),
            Reply::Bulk(b"10485760".to_vec()),
        ])
    });
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "1mb", "hz", "abc"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"
        )
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "proto-max-bulk-len"]),
        Reply::Array(vec![
            Reply::Bulk(b"proto-max-bulk-len".to_vec()),
            Reply::Bulk(b"10485760".to_vec())
        ])
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "1", "hz"]),
        err("ERR syntax error")
    );
    // An option that would turn on a feature that has not landed is
    // refused rather than ignored; nothing else of the same SET changes.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hz", "30", "maxmemory", "10mb"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - not supported by Viator yet"
        )
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory", "0", "save", ""]),
        ok()
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "nosuch", "1"]),
        err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "databases", "1"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"
        )
    );
    // The new values are in effect: INFO reads them.
    let info = c.cmd(&["INFO"]).text();
    assert_eq!(info_field(&info, "maxmemory").as_deref(), Some("0"));
    assert_eq!(info_field(&info, "maxmemory_human").as_deref(), Some("0B"));
    assert_eq!(info_field(&info, "hz").as_deref(), Some("20"));
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxclients", "50"]), ok());
    assert_eq!(
        info_field(&c.cmd(&["INFO", "clients"]).text(), "maxclients").as_deref(),
        Some("50")
    );

    // RESP3: CONFIG GET is a map.
    let mut r3 = Conn::new(&server);
    assert!(matches!(r3.cmd(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(
        r3.cmd(&["CONFIG", "GET", "hz"]),
        Reply::Map(vec![(
            Reply::Bulk(b"hz".to_vec()),
            Reply::Bulk(b"20".to_vec())
        )])
    );

    // RESETSTAT.
    assert_eq!(c.cmd(&["GET", "nosuch"]), Reply::Nil);
    assert!(matches!(c.cmd(&["GET"]), Reply::Error(_)));
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    let all = c.cmd(&["INFO", "all"]).text();
    // Only RESETSTAT itself was counted since (the running INFO counts
    // once it is done).
    assert_eq!(
        info_field(&all, "total_commands_processed").as_deref(),
        Some("1")
    );
    assert_eq!(info_field(&all, "keyspace_misses").as_deref(), Some("0"));
    assert_eq!(
        info_field(&all, "total_error_replies").as_deref(),
        Some("0")
    );
    assert_eq!(
        info_field(&all, "total_connections_received").as_deref(),
        Some("0")
    );
    assert!(!all.contains("errorstat_"));
    assert!(!all.contains("cmdstat_get"));
    assert!(
        all.contains("# Commandstats\r\ncmdstat_config|resetstat:calls=1,"),
        "{all}"
    );

    // Rejected calls count against the command found, not against the
    // container of an unknown subcommand.
    assert!(matches!(c.cmd(&["CONFIG"]), Reply::Error(_)));
    assert_eq!(
        c.cmd(&["CONFIG", "nosuch"]),
        err("ERR unknown subcommand 'nosuch'. Try CONFIG HELP.")
    );
    let cs = c.cmd(&["INFO", "commandstats"]).text();
    assert!(
        cs.contains(
            "cmdstat_config:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0\r\n"
        ),
        "{cs}"
    );

    // REWRITE without a file; HELP.
    assert_eq!(
        c.cmd(&["CONFIG", "REWRITE"]),
        err("ERR The server is running without a config file")
    );
    let Reply::Array(help) = c.cmd(&["config", "help"]) else {
        panic!()
    };
    assert_eq!(help.len(), 11);
    assert_eq!(
        help[0],
        Reply::Simple("CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
    );
    assert_eq!(help[10], Reply::Simple("    Print this help.".into()));
    server.shutdown();
}

#[test]
fn config_set_dir_is_protected_and_checked() {
    let server = start("");
    let mut c = Conn::new(&server);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dir", "/"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
        )
    );
    server.shutdown();
    let server = start("enable-protected-configs yes\n");
    let mut c = Conn::new(&server);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dir", "/nonexistent/viator"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
        )
    );
    // Setting it to where we are changes nothing else in this process.
    let here = std::env::current_dir().unwrap().display().to_string();
    assert_eq!(c.cmd(&["CONFIG", "SET", "dir", &here]), ok());
    server.shutdown();
}

#[test]
fn config_set_port_and_bind_rebind() {
    let server = start("");
    let old = server.port();
    let mut c = Conn::new(&server);
    let free = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    assert_eq!(c.cmd(&["CONFIG", "SET", "port", &free.to_string()]), ok());
    // The connection that asked stays; new ones go to the new port.
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "port"]),
        Reply::Array(vec![
            Reply::Bulk(b"port".to_vec()),
            Reply::Bulk(free.to_string().into_bytes())
        ])
    );
    let mut n = Conn::to_port(free);
    assert_eq!(n.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(
        info_field(&n.cmd(&["INFO", "server"]).text(), "tcp_port"),
        Some(free.to_string())
    );
    assert!(TcpStream::connect(("127.0.0.1", old)).is_err());
    assert_eq!(server.port(), free);

    // A port taken by someone else: Redis's error, and the old listener
    // keeps working.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    assert_eq!(
        n.cmd(&["CONFIG", "SET", "port", &taken_port]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."
        )
    );
    assert_eq!(
        Conn::to_port(free).cmd(&["PING"]),
        Reply::Simple("PONG".into())
    );
    assert_eq!(
        n.cmd(&["CONFIG", "GET", "port"]),
        Reply::Array(vec![
            Reply::Bulk(b"port".to_vec()),
            Reply::Bulk(free.to_string().into_bytes())
        ])
    );

    // bind: an address this host does not have fails; an overlapping set
    // works (the old socket closes before the new ones bind).
    assert_eq!(
        n.cmd(&["CONFIG", "SET", "bind", "192.0.2.1"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses."
        )
    );
    assert_eq!(
        Conn::to_port(free).cmd(&["PING"]),
        Reply::Simple("PONG".into())
    );
    assert_eq!(n.cmd(&["CONFIG", "SET", "bind", "127.0.0.1 -::1"]), ok());
    assert_eq!(
        Conn::to_port(free).cmd(&["PING"]),
        Reply::Simple("PONG".into())
    );
    let listener = info_field(&n.cmd(&["INFO", "server"]).text(), "listener0").unwrap();
    assert_eq!(
        listener,
        format!("name=tcp,bind=127.0.0.1,bind=-::1,port={free}")
    );
    server.shutdown();
}

#[test]
fn config_rewrite_writes_the_file() {
    let dir = std::env::temp_dir().join(format!("viator-server-commands-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("viator.conf");
    let text = "# test config\nport 0\nbind 127.0.0.1\nloglevel warning\ntimeout 200\n";
    std::fs::write(&path, text).unwrap();
    let cfg = viator_server::config::load(text, Some(&path)).expect("config");
    let server = Server::start(cfg, Some(path.clone())).expect("start");
    let mut c = Conn::new(&server);
    assert_eq!(
        info_field(&c.cmd(&["INFO", "server"]).text(), "config_file"),
        Some(path.display().to_string())
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "timeout", "300", "hz", "25"]),
        ok()
    );
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), ok());
    let new = std::fs::read_to_string(&path).unwrap();
    assert!(new.starts_with("# test config\n"), "{new}");
    assert!(new.contains("\ntimeout 300\n"), "{new}");
    assert!(new.contains("\nhz 25\n"), "{new}");
    assert!(!new.contains("timeout 200"), "{new}");
    server.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn command_docs_of_the_new_families() {
    let server = start("");
    let mut c = Conn::new(&server);
    // The table entries parse and show: the arity and flags of a few.
    let Reply::Array(info) = c.cmd(&[
        "COMMAND",
        "INFO",
        "client|kill",
        "config|set",
        "info",
        "client|list",
    ]) else {
        panic!()
    };
    assert_eq!(info.len(), 4);
    let Reply::Array(kill) = &info[0] else {
        panic!()
    };
    assert_eq!(kill[0], Reply::Bulk(b"client|kill".to_vec()));
    assert_eq!(kill[1], Reply::Int(-3));
    let Reply::Array(docs) = c.cmd(&[
        "COMMAND",
        "DOCS",
        "client|pause",
        "client|kill",
        "config|get",
    ]) else {
        panic!()
    };
    assert_eq!(docs.len(), 6);
    fn strings(r: &Reply, out: &mut Vec<String>) {
        match r {
            Reply::Bulk(b) => out.push(String::from_utf8_lossy(b).into_owned()),
            Reply::Simple(s) => out.push(s.clone()),
            Reply::Array(v) => v.iter().for_each(|r| strings(r, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    docs.iter().for_each(|r| strings(r, &mut all));
    let text = all.join(" ");
    assert!(
        text.contains("client|pause summary Suspends commands processing. since 3.0.0"),
        "{text}"
    );
    assert!(
        text.contains("name old-format type string display_text ip:port deprecated_since 2.8.12"),
        "{text}"
    );
    assert!(
        text.contains(
            "name maxage type integer display_text maxage token MAXAGE since 7.4.0 flags optional"
        ),
        "{text}"
    );
    server.shutdown();
}

#[test]
fn info_latencystats_follows_latency_tracking() {
    let server = start("");
    let mut c = Conn::new(&server);
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    let info = c.cmd(&["INFO", "latencystats"]).text();
    let line = info_field(&info, "latency_percentiles_usec_set").expect("a line for SET");
    let labels: Vec<&str> = line
        .split(',')
        .map(|kv| kv.split('=').next().unwrap_or(""))
        .collect();
    assert_eq!(labels, ["p50", "p99", "p99.9"]);
    // Percentiles are configurable; with tracking off nothing new is
    // recorded.
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "latency-tracking-info-percentiles",
            "50 90"
        ]),
        ok()
    );
    let info = c.cmd(&["INFO", "latencystats"]).text();
    let line = info_field(&info, "latency_percentiles_usec_set").expect("a line for SET");
    assert!(line.starts_with("p50=") && line.contains(",p90="), "{line}");
    assert_eq!(c.cmd(&["CONFIG", "SET", "latency-tracking", "no"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Bulk(b"v".to_vec()));
    let info = c.cmd(&["INFO", "latencystats"]).text();
    assert_eq!(info_field(&info, "latency_percentiles_usec_get"), None);
    server.shutdown();
}
