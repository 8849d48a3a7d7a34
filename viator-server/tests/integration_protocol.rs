//! Protocol edge cases against a real in-process server over raw TCP
//! sockets, with every reply compared byte for byte to what Redis 8.4 sends:
//!
//! - partial frames: a request split at every byte position, and one sent a
//!   byte at a time, with small pauses between the pieces;
//! - huge declared lengths (`*999999999999`, `$2147483648`), malformed
//!   headers and garbage: Redis's exact `-ERR Protocol error: ...` reply,
//!   then the connection closes;
//! - inline commands: quoting, escapes, empty lines, bare `\n`, too long
//!   lines, non-UTF-8 bytes;
//! - a pipeline of 10,000 commands whose replies all arrive, in order;
//! - `proto-max-bulk-len` changed with CONFIG SET;
//! - the limits on unauthenticated clients when `requirepass` is set;
//! - `client-query-buffer-limit` closing a client whose query buffer grows
//!   past it.
//!
//! The expected bytes were checked against Debian's redis-server 7.0 and
//! Redis 8.4's `networking.c`; none of these replies changed between them.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use viator_server::Server;

/// Starts a server on a free loopback port with `extra` config lines.
fn start(extra: &str) -> Server {
    let text =
        format!("port 0\nbind 127.0.0.1\nenable-debug-command yes\nloglevel warning\n{extra}");
    let cfg = viator_server::config::load_isolated(text).expect("config");
    Server::start(cfg, None).expect("server starts")
}

fn connect(server: &Server) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Shows bytes the way redis-cli's `--no-raw` escapes do, for messages.
fn show(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// Reads exactly `expected.len()` bytes and compares them.
#[track_caller]
fn expect(s: &mut TcpStream, expected: &[u8]) {
    let mut got = vec![0u8; expected.len()];
    let mut n = 0;
    while n < got.len() {
        match s.read(&mut got[n..]) {
            Ok(0) => panic!(
                "connection closed after {:?}; expected {:?}",
                show(&got[..n]),
                show(expected)
            ),
            Ok(k) => n += k,
            Err(e) => panic!(
                "read error {e} after {:?}; expected {:?}",
                show(&got[..n]),
                show(expected)
            ),
        }
        // Fail at the first wrong byte instead of waiting for more, with
        // whatever else already arrived for context.
        if got[..n] != expected[..n] {
            got.truncate(n);
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut more = [0u8; 4096];
            if let Ok(k) = s.read(&mut more) {
                got.extend_from_slice(&more[..k]);
            }
            assert_eq!(show(&got), show(expected), "reply differs");
        }
    }
}

/// Asserts that the server closes the connection without sending anything
/// more.
#[track_caller]
fn expect_closed(s: &mut TcpStream) {
    let mut rest = Vec::new();
    match s.read_to_end(&mut rest) {
        Ok(_) => {}
        // Unread request bytes make the kernel reset instead of FIN.
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("expected the server to close the connection, got {e}"),
    }
    assert!(
        rest.is_empty(),
        "unexpected bytes before close: {:?}",
        show(&rest)
    );
}

/// Sends `req` and checks the exact reply, the connection staying open.
#[track_caller]
fn roundtrip(s: &mut TcpStream, req: &[u8], reply: &[u8]) {
    s.write_all(req).unwrap();
    expect(s, reply);
}

/// Sends `req`, expects the error `err` and then the connection's close.
#[track_caller]
fn protocol_error(server: &Server, req: &[u8], err: &str) {
    let mut s = connect(server);
    s.write_all(req).unwrap();
    expect(&mut s, format!("-ERR Protocol error: {err}\r\n").as_bytes());
    expect_closed(&mut s);
}

fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

fn pause() {
    std::thread::sleep(Duration::from_millis(2));
}

#[test]
fn request_split_at_every_byte_position() {
    let server = start("");
    let mut s = connect(&server);
    let multibulk = resp(&[b"SET", b"key", b"value\r\nwith crlf"]);
    let inline = b"SET inl \"a b\\x41\"\r\n".to_vec();
    for req in [&multibulk, &inline] {
        for cut in 1..req.len() {
            s.write_all(&req[..cut]).unwrap();
            pause();
            s.write_all(&req[cut..]).unwrap();
            expect(&mut s, b"+OK\r\n");
        }
    }
    roundtrip(
        &mut s,
        &resp(&[b"GET", b"key"]),
        b"$16\r\nvalue\r\nwith crlf\r\n",
    );
    roundtrip(&mut s, b"GET inl\r\n", b"$4\r\na bA\r\n");
    // Three pieces: every pair of cut points of a three-argument request.
    let req = resp(&[b"ECHO", b"abc"]);
    for a in 1..req.len() {
        for b in a + 1..req.len() {
            s.write_all(&req[..a]).unwrap();
            s.write_all(&req[a..b]).unwrap();
            pause();
            s.write_all(&req[b..]).unwrap();
            expect(&mut s, b"$3\r\nabc\r\n");
        }
    }
    drop(s);
    server.shutdown();
}

#[test]
fn request_sent_one_byte_at_a_time() {
    let server = start("");
    let mut s = connect(&server);
    let mut req = resp(&[b"SET", b"k", b"0123456789"]);
    req.extend_from_slice(b"GET k\r\n");
    req.extend_from_slice(&resp(&[b"STRLEN", b"k"]));
    for b in &req {
        s.write_all(std::slice::from_ref(b)).unwrap();
        pause();
    }
    expect(&mut s, b"+OK\r\n$10\r\n0123456789\r\n:10\r\n");
    // A bulk argument larger than the read buffer, in uneven pieces.
    let big = vec![b'z'; 100_000];
    let req = resp(&[b"SET", b"big", &big]);
    for chunk in req.chunks(7_777) {
        s.write_all(chunk).unwrap();
        pause();
    }
    expect(&mut s, b"+OK\r\n");
    roundtrip(&mut s, b"STRLEN big\r\n", b":100000\r\n");
    drop(s);
    server.shutdown();
}

#[test]
fn huge_declared_lengths_are_protocol_errors() {
    let server = start("");
    protocol_error(&server, b"*999999999999\r\n", "invalid multibulk length");
    protocol_error(&server, b"*2147483648\r\n", "invalid multibulk length");
    protocol_error(&server, b"*1\r\n$2147483648\r\n", "invalid bulk length");
    protocol_error(
        &server,
        b"*1\r\n$999999999999999999999\r\n",
        "invalid bulk length",
    );
    // Just past the default proto-max-bulk-len of 512 MB.
    protocol_error(
        &server,
        b"*2\r\n$4\r\nECHO\r\n$536870913\r\n",
        "invalid bulk length",
    );
    protocol_error(&server, b"*1\r\n$-2\r\n", "invalid bulk length");
    protocol_error(&server, b"*1\r\n$-1\r\n", "invalid bulk length");
    // A `$` line where a request starts is an inline command named
    // "$2147483648", not a bulk header.
    let mut s = connect(&server);
    roundtrip(
        &mut s,
        b"$2147483648\r\n",
        b"-ERR unknown command '$2147483648', with args beginning with: \r\n",
    );
    roundtrip(&mut s, b"PING\r\n", b"+PONG\r\n");
    // The valid requests before a bad one in the same write get their
    // replies first.
    s.write_all(b"PING\r\n*1\r\n$4\r\nPING\r\n*999999999999\r\nPING\r\n")
        .unwrap();
    expect(
        &mut s,
        b"+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n",
    );
    expect_closed(&mut s);
    server.shutdown();
}

#[test]
fn malformed_frames_and_garbage() {
    let server = start("");
    protocol_error(&server, b"*1\r\nfoo\r\n", "expected '$', got 'f'");
    protocol_error(
        &server,
        b"*2\r\n$3\r\nGET\r\n:5\r\n",
        "expected '$', got ':'",
    );
    protocol_error(&server, b"*1x\r\n", "invalid multibulk length");
    protocol_error(&server, b"*abc\r\n", "invalid multibulk length");
    protocol_error(&server, b"*1\r\n$abc\r\n", "invalid bulk length");
    protocol_error(&server, b"*1\r\n$3x\r\nabc\r\n", "invalid bulk length");
    // Header lines with no end in 64 KB.
    let mut long = b"*".to_vec();
    long.resize(70_000, b'1');
    protocol_error(&server, &long, "too big mbulk count string");
    let mut long = b"*1\r\n$".to_vec();
    long.resize(70_000, b'1');
    protocol_error(&server, &long, "too big bulk count string");
    let mut s = connect(&server);
    // Zero and negative counts are empty requests: no reply.
    roundtrip(&mut s, b"*0\r\n*-1\r\n*-10\r\nPING\r\n", b"+PONG\r\n");
    // A bulk's two bytes after the payload are skipped whatever they are;
    // what follows them starts a new (inline) request.
    roundtrip(
        &mut s,
        b"*1\r\n$4\r\nPINGxy*1\r\n$4\r\nPING\r\n",
        b"+PONG\r\n+PONG\r\n",
    );
    // Unknown commands (binary names: see unknown_command_echoes_raw_bytes).
    roundtrip(
        &mut s,
        b"*2\r\n$3\r\nfoo\r\n$3\r\nbar\r\n",
        b"-ERR unknown command 'foo', with args beginning with: 'bar' \r\n",
    );
    drop(s);
    server.shutdown();
}

#[test]
fn inline_commands() {
    let server = start("");
    let mut s = connect(&server);
    // Empty lines and blank lines get no reply; a bare \n ends a line.
    roundtrip(
        &mut s,
        b"\r\n\r\n   \r\n\nPING\nPING\r\n",
        b"+PONG\r\n+PONG\r\n",
    );
    roundtrip(&mut s, b"  ECHO    a  \r\n", b"$1\r\na\r\n");
    roundtrip(
        &mut s,
        b"ECHO a b\r\n",
        b"-ERR wrong number of arguments for 'echo' command\r\n",
    );
    // Double quotes: escapes \n \r \t \b \a \\ \" and \xHH.
    roundtrip(
        &mut s,
        b"SET q \"a\\x41\\n\\r\\t\\b\\a\\\\\\\"z\"\r\nGET q\r\n",
        b"+OK\r\n$10\r\naA\n\r\t\x08\x07\\\"z\r\n",
    );
    // An invalid \x escape keeps the letter.
    roundtrip(&mut s, b"ECHO \"\\x4g\"\r\n", b"$3\r\nx4g\r\n");
    // Single quotes: only \' is an escape.
    roundtrip(&mut s, b"ECHO 'it\\'s \\n'\r\n", b"$7\r\nit's \\n\r\n");
    roundtrip(&mut s, b"ECHO \"\"\r\nECHO ''\r\n", b"$0\r\n\r\n$0\r\n\r\n");
    roundtrip(&mut s, b"ECHO \"a b\"\r\n", b"$3\r\na b\r\n");
    // Inline and multibulk requests mixed in one write.
    let mut req = b"SET m 1\r\n".to_vec();
    req.extend_from_slice(&resp(&[b"INCR", b"m"]));
    req.extend_from_slice(b"INCR m\r\n");
    roundtrip(&mut s, &req, b"+OK\r\n:2\r\n:3\r\n");
    drop(s);
    // A closing quote must be followed by a space or the end.
    protocol_error(&server, b"ECHO \"a\"b\r\n", "unbalanced quotes in request");
    protocol_error(&server, b"ECHO \"abc\r\n", "unbalanced quotes in request");
    protocol_error(&server, b"ECHO 'abc\r\n", "unbalanced quotes in request");
    // An inline line with no end in 64 KB.
    protocol_error(&server, &vec![b'A'; 70_000], "too big inline request");
    // Redis looks for the end of an inline line with strchr(), which stops
    // at a NUL byte: a line holding one never ends, until the 64 KB limit.
    let mut req = b"PING\r\n\x00\r\nPING\r\n".to_vec();
    req.resize(70_000, b'A');
    let mut s = connect(&server);
    s.write_all(&req).unwrap();
    expect(
        &mut s,
        b"+PONG\r\n-ERR Protocol error: too big inline request\r\n",
    );
    expect_closed(&mut s);
    server.shutdown();
}

#[test]
fn pipeline_of_ten_thousand_commands_replies_in_order() {
    const N: usize = 10_000;
    let server = start("");
    let mut s = connect(&server);
    let mut req = Vec::new();
    let mut want = Vec::new();
    for i in 0..N {
        match i % 4 {
            0 => {
                req.extend_from_slice(&resp(&[b"INCR", b"counter"]));
                want.extend_from_slice(format!(":{}\r\n", i / 4 + 1).as_bytes());
            }
            1 => {
                req.extend_from_slice(&resp(&[
                    b"SET",
                    format!("k{i}").as_bytes(),
                    format!("v{i}").as_bytes(),
                ]));
                want.extend_from_slice(b"+OK\r\n");
            }
            2 => {
                req.extend_from_slice(format!("GET k{}\r\n", i - 1).as_bytes());
                let v = format!("v{}", i - 1);
                want.extend_from_slice(format!("${}\r\n{v}\r\n", v.len()).as_bytes());
            }
            _ => {
                req.extend_from_slice(&resp(&[b"ECHO", format!("e{i}").as_bytes()]));
                let v = format!("e{i}");
                want.extend_from_slice(format!("${}\r\n{v}\r\n", v.len()).as_bytes());
            }
        }
    }
    // Write from another thread so that neither side's buffers can fill
    // while the other waits.
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        for chunk in req.chunks(64 * 1024) {
            w.write_all(chunk).unwrap();
        }
    });
    expect(&mut s, &want);
    writer.join().unwrap();
    roundtrip(
        &mut s,
        b"DBSIZE\r\n",
        format!(":{}\r\n", N / 4 + 1).as_bytes(),
    );
    drop(s);
    server.shutdown();
}

#[test]
fn proto_max_bulk_len_from_config_set() {
    let server = start("");
    let mut s = connect(&server);
    roundtrip(&mut s, b"CONFIG SET proto-max-bulk-len 1mb\r\n", b"+OK\r\n");
    roundtrip(
        &mut s,
        b"CONFIG GET proto-max-bulk-len\r\n",
        b"*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n1048576\r\n",
    );
    // Exactly the limit is accepted.
    let ok = vec![b'a'; 1024 * 1024];
    s.write_all(&resp(&[b"SET", b"k", &ok])).unwrap();
    expect(&mut s, b"+OK\r\n");
    roundtrip(&mut s, b"STRLEN k\r\n", b":1048576\r\n");
    drop(s);
    // One more byte is refused when its header arrives.
    protocol_error(
        &server,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n",
        "invalid bulk length",
    );
    // Raising it again lets the same request through.
    let mut s = connect(&server);
    roundtrip(&mut s, b"CONFIG SET proto-max-bulk-len 2mb\r\n", b"+OK\r\n");
    let big = vec![b'b'; 1024 * 1024 + 1];
    s.write_all(&resp(&[b"SET", b"k", &big])).unwrap();
    expect(&mut s, b"+OK\r\n");
    roundtrip(&mut s, b"STRLEN k\r\n", b":1048577\r\n");
    drop(s);
    server.shutdown();
}

#[test]
fn proto_max_bulk_len_from_config_file() {
    let server = start("proto-max-bulk-len 1mb\n");
    protocol_error(
        &server,
        b"*2\r\n$4\r\nECHO\r\n$1048577\r\n",
        "invalid bulk length",
    );
    let mut s = connect(&server);
    let ok = vec![b'a'; 1024 * 1024];
    s.write_all(&resp(&[b"ECHO", &ok])).unwrap();
    let mut want = b"$1048576\r\n".to_vec();
    want.extend_from_slice(&ok);
    want.extend_from_slice(b"\r\n");
    expect(&mut s, &want);
    drop(s);
    server.shutdown();
}

#[test]
fn unauthenticated_clients_are_limited() {
    let server = start("requirepass secret\n");
    protocol_error(&server, b"*11\r\n", "unauthenticated multibulk length");
    protocol_error(&server, b"*1\r\n$16385\r\n", "unauthenticated bulk length");
    let mut s = connect(&server);
    roundtrip(&mut s, b"PING\r\n", b"-NOAUTH Authentication required.\r\n");
    roundtrip(
        &mut s,
        &resp(&[b"GET", b"k"]),
        b"-NOAUTH Authentication required.\r\n",
    );
    // Ten arguments of 16384 bytes are still allowed to reach the NOAUTH.
    let arg = vec![b'x'; 16384];
    let mut ten: Vec<&[u8]> = vec![&arg; 10];
    ten[0] = b"DEL";
    roundtrip(&mut s, &resp(&ten), b"-NOAUTH Authentication required.\r\n");
    roundtrip(
        &mut s,
        b"AUTH wrong\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    roundtrip(
        &mut s,
        b"HELLO 3\r\n",
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n",
    );
    roundtrip(&mut s, b"AUTH secret\r\n", b"+OK\r\n");
    // Authenticated: no more limits.
    let eleven: Vec<&[u8]> = std::iter::once(&b"MSET"[..])
        .chain(std::iter::repeat_n(&b"kk"[..], 10))
        .collect();
    roundtrip(&mut s, &resp(&eleven), b"+OK\r\n");
    let big = vec![b'y'; 16385];
    roundtrip(&mut s, &resp(&[b"SET", b"big", &big]), b"+OK\r\n");
    roundtrip(&mut s, b"STRLEN big\r\n", b":16385\r\n");
    drop(s);
    // HELLO with AUTH authenticates too.
    let mut s = connect(&server);
    s.write_all(b"HELLO 2 AUTH default secret\r\n").unwrap();
    let mut head = [0u8; 4];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"*14\r");
    drop(s);
    server.shutdown();
}

#[test]
fn query_buffer_limit_closes_the_client() {
    let server = start("client-query-buffer-limit 1mb\n");
    let mut s = connect(&server);
    s.write_all(b"*2\r\n$4\r\nECHO\r\n$1500000\r\n").unwrap();
    let chunk = vec![b'x'; 100_000];
    for _ in 0..15 {
        // The server may close while we are still writing.
        if s.write_all(&chunk).is_err() {
            break;
        }
    }
    expect_closed(&mut s);
    // Other clients are unaffected, and a request under the limit passes.
    let mut s = connect(&server);
    let ok = vec![b'x'; 500_000];
    s.write_all(&resp(&[b"SET", b"k", &ok])).unwrap();
    expect(&mut s, b"+OK\r\n");
    drop(s);
    server.shutdown();
}

#[test]
fn query_buffer_limit_from_config_set() {
    let server = start("");
    let mut s = connect(&server);
    roundtrip(
        &mut s,
        b"CONFIG SET client-query-buffer-limit 1mb\r\n",
        b"+OK\r\n",
    );
    drop(s);
    let mut s = connect(&server);
    s.write_all(b"*2\r\n$4\r\nECHO\r\n$1500000\r\n").unwrap();
    let chunk = vec![b'x'; 100_000];
    for _ in 0..15 {
        if s.write_all(&chunk).is_err() {
            break;
        }
    }
    expect_closed(&mut s);
    server.shutdown();
}

#[test]
fn unknown_command_echoes_raw_bytes() {
    let server = start("");
    let port = server.port();
    // Redis copies the name's bytes into the error as they came (%.128s);
    // the reply is not UTF-8 and must not be made so.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    roundtrip(
        &mut s,
        b"\xff\xfe garbage\r\n",
        b"-ERR unknown command '\xff\xfe', with args beginning with: 'garbage' \r\n",
    );
    roundtrip(
        &mut s,
        b"*2\r\n$3\r\n\xc3\x28x\r\n$2\r\n\xff!\r\n",
        b"-ERR unknown command '\xc3\x28x', with args beginning with: '\xff!' \r\n",
    );
    server.shutdown();
}

#[test]
fn auth_lifts_the_limits_for_the_rest_of_the_same_write() {
    let server = start("requirepass secret\n");
    // Redis checks authRequired() for each request as it parses it, so the
    // requests after a successful AUTH in the same write are not limited.
    let mut s = connect(&server);
    let eleven: Vec<&[u8]> = std::iter::once(&b"MSET"[..])
        .chain(std::iter::repeat_n(&b"kk"[..], 10))
        .collect();
    let big = vec![b'y'; 16385];
    let mut req = resp(&[b"AUTH", b"secret"]);
    req.extend_from_slice(&resp(&eleven));
    req.extend_from_slice(&resp(&[b"SET", b"big", &big]));
    roundtrip(&mut s, &req, b"+OK\r\n+OK\r\n+OK\r\n");
    drop(s);
    server.shutdown();
}

#[test]
fn http_requests_are_dropped_without_a_reply() {
    let server = start("");
    // Cross-protocol scripting: a browser's POST with a Redis command in
    // its body. Redis replies to what came before and drops the rest.
    let mut s = connect(&server);
    s.write_all(b"PING\r\nPOST / HTTP/1.1\r\nHost: x\r\n\r\nSET pwned 1\r\n")
        .unwrap();
    expect(&mut s, b"+PONG\r\n");
    expect_closed(&mut s);
    let mut s = connect(&server);
    s.write_all(b"host: evil\r\n").unwrap();
    expect_closed(&mut s);
    let mut s = connect(&server);
    roundtrip(&mut s, b"EXISTS pwned\r\n", b":0\r\n");
    server.shutdown();
}

#[test]
fn protected_commands_are_refused_before_authentication() {
    // Redis's processCommand checks DEBUG/MODULE protection before
    // authentication.
    let server = start("requirepass secret\nenable-debug-command no\n");
    let mut s = connect(&server);
    roundtrip(
        &mut s,
        b"DEBUG SLEEP 0\r\n",
        b"-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n",
    );
    roundtrip(
        &mut s,
        b"GET k\r\n",
        b"-NOAUTH Authentication required.\r\n",
    );
    server.shutdown();
}
