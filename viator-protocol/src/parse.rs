//! The server's request parser: RESP arrays of bulk strings and inline
//! commands, with Redis's limits and error messages.
//!
//! This follows `processInputBuffer`, `processMultibulkBuffer`,
//! `processInlineBuffer` and `sdssplitargs` of redis-server 8.x, quirks
//! included, so that a client sees the same behaviour byte for byte:
//!
//! - A request is a multibulk one when its first byte is `*`, inline
//!   otherwise.
//! - Header lines end at the first `\r`; the byte after it is skipped
//!   without being checked, as is the two-byte terminator after each bulk
//!   payload (Redis reads `len + 2` bytes and never looks at the last two).
//! - Redis searches lines with `strchr`, which stops at a NUL byte: a NUL
//!   before the end of a header line or an inline line makes the request
//!   wait for more input, until the buffer passes the inline size limit
//!   and the request fails as too big. Payload bytes may hold NULs freely.
//! - `*0` and negative counts are consumed and produce no command, and so
//!   are inline lines with no arguments.
//! - The size limit on lines without a terminator (64 KB) applies to the
//!   whole unparsed rest of the buffer, as in Redis.

use bytes::{Buf, Bytes, BytesMut};
use memchr::memchr2;

use crate::reply::ReplyBuf;

/// Limits a server applies while parsing requests, with Redis's defaults.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`: the largest bulk string accepted (512 MB).
    /// A larger declared length is refused before anything is allocated.
    /// Redis does not apply it to its master's replication stream: set it
    /// to `u64::MAX` for that connection.
    pub max_bulk_len: u64,
    /// The largest number of arguments in one request: `INT_MAX` in
    /// `processMultibulkBuffer` (Redis 6.0+; older versions refused more
    /// than 1024*1024). Room for the arguments is reserved for at most
    /// 1024 at a time, so a large declared count costs nothing up front.
    pub max_multibulk_len: u64,
    /// The longest unterminated line kept waiting for its end (Redis's
    /// `PROTO_INLINE_MAX_SIZE`, 64 KB). Past it, an inline request fails
    /// with "too big inline request" and a multibulk header with "too big
    /// mbulk count string" or "too big bulk count string".
    pub max_inline_len: usize,
    /// Whether the client is authenticated (Redis's `authRequired(c)` is
    /// false). Unauthenticated clients may send at most 10 arguments of at
    /// most 16384 bytes each.
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_multibulk_len: i32::MAX as u64,
            max_inline_len: 64 * 1024,
            authenticated: true,
        }
    }
}

/// The most arguments an unauthenticated client may send in one request.
const UNAUTH_MAX_ARGS: i64 = 10;
/// The longest argument an unauthenticated client may send.
const UNAUTH_MAX_BULK: i64 = 16384;
/// Argument vectors grow from at most this many slots, as Redis's argv.
const ARGV_INITIAL: usize = 1024;
/// Arguments whose slices are remembered during the scan; longer commands
/// are walked a second time after the request is cut from the buffer.
const SPANS: usize = 16;

/// The outcome of one call to [`parse_command`].
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole command was parsed into the argument vector.
    Command,
    /// The buffer holds no complete command yet. `need` is a hint of how
    /// many bytes the buffer should hold in all before parsing can succeed
    /// (0 when unknown), so the caller can reserve room for a large bulk.
    Incomplete {
        /// Total buffer length hint.
        need: usize,
    },
}

/// A request that breaks the protocol. The connection replies with the
/// message as an error and closes, as Redis does.
///
/// The message is Redis's text without the `ERR ` code, such as
/// `Protocol error: invalid bulk length`. Redis echoes the offending byte
/// in `expected '$', got 'X'` raw; a byte of 0x80 or more is held in the
/// string as the character of the same number (U+0080 to U+00FF), and
/// [`ProtocolError::message_bytes`] and [`ProtocolError::write_reply`]
/// give it back as the single byte Redis sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProtocolError(pub String);

impl ProtocolError {
    fn new(msg: &str) -> ProtocolError {
        ProtocolError(msg.to_string())
    }

    fn expected_dollar(got: u8) -> ProtocolError {
        // addReplyErrorFormat turns CR and LF into spaces.
        let got = if got == b'\r' || got == b'\n' {
            b' '
        } else {
            got
        };
        let mut msg = String::from("Protocol error: expected '$', got '");
        msg.push(char::from(got));
        msg.push('\'');
        ProtocolError(msg)
    }

    /// The message as the bytes Redis sends (characters U+0080 to U+00FF
    /// back to single bytes).
    pub fn message_bytes(&self) -> Vec<u8> {
        self.0
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect()
    }

    /// Writes the error reply Redis sends before closing the connection:
    /// `-ERR <message>\r\n`, counted as an `ERR` error.
    pub fn write_reply(&self, out: &mut ReplyBuf) {
        let mut msg = b"ERR ".to_vec();
        msg.extend_from_slice(&self.message_bytes());
        out.error_bytes(&msg);
    }
}

/// Parses one request from the front of `buf` into `args`, consuming its
/// bytes. Arguments are zero-copy slices of the consumed input.
///
/// `args` is cleared first and holds the command's arguments (name first)
/// when [`Parsed::Command`] is returned; it is left empty otherwise. Empty
/// requests (`*0`, `*-1`, blank inline lines) are consumed and skipped.
/// Nothing is consumed while the request is incomplete, so call again
/// with the same buffer once more bytes have arrived; only the headers are
/// scanned again, never the payloads. A caller that keeps state between
/// calls can use [`CommandParser`] instead, which does not even rescan the
/// headers of arguments already complete.
///
/// After an error the buffer's contents are unspecified: the connection
/// is expected to send the error ([`ProtocolError::write_reply`]) after
/// the replies of the commands before it, and close.
///
/// ```
/// use bytes::BytesMut;
/// use viator_protocol::{Limits, Parsed, parse_command};
///
/// let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\nPING\r\n"[..]);
/// let mut args = Vec::new();
/// let limits = Limits::default();
/// assert_eq!(parse_command(&mut buf, &limits, &mut args), Ok(Parsed::Command));
/// assert_eq!(args, [&b"GET"[..], &b"key"[..]]);
/// assert_eq!(parse_command(&mut buf, &limits, &mut args), Ok(Parsed::Command));
/// assert_eq!(args, [&b"PING"[..]]);
/// assert_eq!(
///     parse_command(&mut buf, &limits, &mut args),
///     Ok(Parsed::Incomplete { need: 0 })
/// );
/// ```
pub fn parse_command(
    buf: &mut BytesMut,
    limits: &Limits,
    args: &mut Vec<Bytes>,
) -> Result<Parsed, ProtocolError> {
    CommandParser::new().parse(buf, limits, args)
}

/// A request parser that remembers, between calls, how far it got into an
/// incomplete multibulk request.
///
/// [`parse_command`] is stateless: each call scans the headers of the
/// request from its start. That is cheap for ordinary commands, but a
/// request with a million small arguments that arrives in many reads
/// would be scanned once per read. This parser resumes where the previous
/// call stopped instead.
///
/// Its state describes the front of the buffer it was last given: between
/// calls, only append to that buffer. Call [`CommandParser::reset`] if the
/// buffer is replaced or consumed by other means.
#[derive(Debug, Default, Clone)]
pub struct CommandParser {
    resume: Option<Resume>,
}

/// Where a multibulk scan stopped: the argument header at `pos` is the
/// next to read, with `left` arguments to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Resume {
    pos: usize,
    left: u64,
    argc: u64,
}

/// What scanning the front of the buffer found.
enum Scan {
    /// A whole command of `argc` arguments ending at `end`; the first
    /// `spans_used` argument spans were offered to the sink.
    Done {
        end: usize,
        argc: u64,
        spans_used: usize,
    },
    /// An empty multibulk request ending at `end`.
    Empty { end: usize },
    /// More input needed.
    Incomplete { need: usize, resume: Option<Resume> },
}

/// The end of the line starting at some position.
enum Line {
    /// The line's `\r` is at this index and at least one byte follows it.
    Cr(usize),
    /// The `\r` is the last byte of the buffer.
    Partial,
    /// No `\r` before the end of the buffer or before a NUL byte.
    Missing,
}

fn find_cr(buf: &[u8], from: usize) -> Line {
    let hay = buf.get(from..).unwrap_or_default();
    // Header lines are a few bytes long: a plain loop beats memchr's setup
    // for them; longer lines go to memchr.
    let short = hay.len().min(16);
    let found = match hay[..short].iter().position(|&b| b == b'\r' || b == 0) {
        Some(i) => Some(i),
        None => memchr2(b'\r', 0, &hay[short..]).map(|i| i + short),
    };
    match found {
        Some(i) if hay[i] == b'\r' => {
            let cr = from + i;
            if cr + 1 < buf.len() {
                Line::Cr(cr)
            } else {
                Line::Partial
            }
        }
        _ => Line::Missing,
    }
}

/// Redis's `string2ll`: a strict decimal `long long`, no sign but `-`, no
/// leading zeros, no spaces, at most 20 characters.
fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

impl CommandParser {
    /// A parser with no request in progress.
    pub fn new() -> CommandParser {
        CommandParser::default()
    }

    /// Forgets any request in progress.
    pub fn reset(&mut self) {
        self.resume = None;
    }

    /// Parses one request from the front of `buf`, exactly as
    /// [`parse_command`] does, resuming the scan of an incomplete multibulk
    /// request where the previous call stopped.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        args: &mut Vec<Bytes>,
    ) -> Result<Parsed, ProtocolError> {
        args.clear();
        loop {
            let Some(&first) = buf.first() else {
                self.resume = None;
                return Ok(Parsed::Incomplete { need: 0 });
            };
            if first != b'*' {
                self.resume = None;
                match parse_inline(buf, limits, args)? {
                    Some(()) if args.is_empty() => continue,
                    Some(()) => return Ok(Parsed::Command),
                    None => return Ok(Parsed::Incomplete { need: 0 }),
                }
            }
            let mut spans = [(0usize, 0usize); SPANS];
            let resumed = self.resume.take();
            match scan_multibulk(buf, limits, resumed, &mut spans)? {
                Scan::Empty { end } => {
                    buf.advance(end);
                    continue;
                }
                Scan::Incomplete { need, resume } => {
                    self.resume = resume;
                    return Ok(Parsed::Incomplete { need });
                }
                Scan::Done {
                    end,
                    argc,
                    spans_used,
                } => {
                    let frame = buf.split_to(end).freeze();
                    let argc = argc as usize;
                    if spans_used == argc && argc <= SPANS {
                        args.reserve(argc);
                        for &(start, len) in &spans[..argc] {
                            args.push(frame.slice(start..start + len));
                        }
                    } else {
                        collect_args(&frame, argc, args);
                    }
                    return Ok(Parsed::Command);
                }
            }
        }
    }
}

/// What [`CommandParser::scan`] found at the front of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scanned {
    /// A whole multibulk request of `end` bytes; its arguments' spans
    /// (start, length) were written to the span vector.
    Command {
        /// Length of the request in the buffer.
        end: usize,
    },
    /// `end` bytes that hold no request (`*0`, `*-1`): skip them.
    Skip {
        /// Bytes to skip.
        end: usize,
    },
    /// An inline request starts here: parse it with
    /// [`CommandParser::parse`], which copies its unescaped arguments.
    Inline,
    /// No complete request yet (see [`Parsed::Incomplete`]).
    Incomplete {
        /// Total buffer length hint, 0 when unknown.
        need: usize,
    },
}

impl CommandParser {
    /// Validates the multibulk request at the front of `buf` without
    /// consuming or copying anything, and writes each argument's (start,
    /// length) within `buf` to `spans`. A server that runs a whole batch of
    /// requests before consuming the buffer borrows its arguments straight
    /// from the input this way: no reference counting per argument.
    ///
    /// The same rules and errors as [`CommandParser::parse`] apply; the
    /// resume state describes the front of `buf`, so a caller that scans
    /// at an offset must consume everything before it before scanning an
    /// incomplete request again.
    pub fn scan(
        &mut self,
        buf: &[u8],
        limits: &Limits,
        spans: &mut Vec<(usize, usize)>,
    ) -> Result<Scanned, ProtocolError> {
        spans.clear();
        let Some(&first) = buf.first() else {
            self.resume = None;
            return Ok(Scanned::Incomplete { need: 0 });
        };
        if first != b'*' {
            self.resume = None;
            return Ok(Scanned::Inline);
        }
        let resumed = self.resume.take();
        match scan_multibulk(buf, limits, resumed, spans)? {
            Scan::Empty { end } => Ok(Scanned::Skip { end }),
            Scan::Incomplete { need, resume } => {
                self.resume = resume;
                spans.clear();
                Ok(Scanned::Incomplete { need })
            }
            Scan::Done {
                end,
                argc,
                spans_used,
            } => {
                // A request scanned in several calls recorded nothing: its
                // spans are collected now that it is whole.
                if spans_used != argc as usize {
                    spans.clear();
                    collect_spans(&buf[..end], argc as usize, spans);
                }
                Ok(Scanned::Command { end })
            }
        }
    }
}

/// The (start, length) of each argument of a complete, validated
/// multibulk request.
fn collect_spans(bytes: &[u8], argc: usize, spans: &mut Vec<(usize, usize)>) {
    spans.reserve(argc.min(ARGV_INITIAL));
    let mut pos = match find_cr(bytes, 0) {
        Line::Cr(cr) => cr + 2,
        _ => return,
    };
    for _ in 0..argc {
        let Line::Cr(cr) = find_cr(bytes, pos) else {
            return;
        };
        let Some(len) = bytes
            .get(pos + 1..cr)
            .and_then(string2ll)
            .and_then(|n| usize::try_from(n).ok())
        else {
            return;
        };
        let start = cr + 2;
        let Some(end) = start.checked_add(len).filter(|&end| end <= bytes.len()) else {
            return;
        };
        spans.push((start, len));
        pos = end + 2;
    }
}

/// Where [`scan_multibulk`] records the (start, length) of each argument
/// as it validates them, so that a whole request is read once.
trait SpanSink {
    /// Records argument `index`'s span.
    fn record(&mut self, index: usize, span: (usize, usize));
}

/// A fixed array keeps the first [`SPANS`] arguments' spans (no allocation
/// for the usual short request); a longer request is cut again.
impl SpanSink for [(usize, usize); SPANS] {
    fn record(&mut self, index: usize, span: (usize, usize)) {
        if let Some(slot) = self.get_mut(index) {
            *slot = span;
        }
    }
}

/// A vector keeps every span (the caller reuses it from request to
/// request, so it stops growing).
impl SpanSink for Vec<(usize, usize)> {
    fn record(&mut self, _index: usize, span: (usize, usize)) {
        self.push(span);
    }
}

/// Scans a multibulk request at the front of `buf` (which starts with
/// `*`), validating it without copying anything. Offers every argument's
/// span to `spans` when the scan starts from the beginning (a resumed scan
/// offers none).
fn scan_multibulk(
    buf: &[u8],
    limits: &Limits,
    resume: Option<Resume>,
    spans: &mut impl SpanSink,
) -> Result<Scan, ProtocolError> {
    let (mut pos, mut left, mut argc, record) = match resume {
        Some(r) => (r.pos, r.left, r.argc, false),
        None => {
            let cr = match find_cr(buf, 0) {
                Line::Cr(cr) => cr,
                Line::Partial => {
                    return Ok(Scan::Incomplete {
                        need: 0,
                        resume: None,
                    });
                }
                Line::Missing => {
                    if buf.len() > limits.max_inline_len {
                        return Err(ProtocolError::new(
                            "Protocol error: too big mbulk count string",
                        ));
                    }
                    return Ok(Scan::Incomplete {
                        need: 0,
                        resume: None,
                    });
                }
            };
            let count = match string2ll(&buf[1..cr]) {
                Some(n) if n <= 0 || (n as u64) <= limits.max_multibulk_len => n,
                _ => {
                    return Err(ProtocolError::new(
                        "Protocol error: invalid multibulk length",
                    ));
                }
            };
            if count > UNAUTH_MAX_ARGS && !limits.authenticated {
                return Err(ProtocolError::new(
                    "Protocol error: unauthenticated multibulk length",
                ));
            }
            if count <= 0 {
                return Ok(Scan::Empty { end: cr + 2 });
            }
            (cr + 2, count as u64, 0u64, true)
        }
    };

    let mut spans_used = 0;
    while left > 0 {
        let cr = match find_cr(buf, pos) {
            Line::Cr(cr) => cr,
            Line::Partial => {
                let resume = Resume { pos, left, argc };
                return Ok(Scan::Incomplete {
                    need: 0,
                    resume: Some(resume),
                });
            }
            Line::Missing => {
                if buf.len() - pos > limits.max_inline_len {
                    return Err(ProtocolError::new(
                        "Protocol error: too big bulk count string",
                    ));
                }
                let resume = Resume { pos, left, argc };
                return Ok(Scan::Incomplete {
                    need: 0,
                    resume: Some(resume),
                });
            }
        };
        if buf[pos] != b'$' {
            return Err(ProtocolError::expected_dollar(buf[pos]));
        }
        let len = match string2ll(&buf[pos + 1..cr]) {
            Some(n) if n >= 0 && (n as u64) <= limits.max_bulk_len => n,
            _ => return Err(ProtocolError::new("Protocol error: invalid bulk length")),
        };
        if len > UNAUTH_MAX_BULK && !limits.authenticated {
            return Err(ProtocolError::new(
                "Protocol error: unauthenticated bulk length",
            ));
        }
        let start = cr + 2;
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| start.checked_add(len)?.checked_add(2));
        let Some(end) = end.filter(|&end| end <= buf.len()) else {
            let need = end.unwrap_or(usize::MAX);
            let resume = Resume { pos, left, argc };
            return Ok(Scan::Incomplete {
                need,
                resume: Some(resume),
            });
        };
        if record {
            spans.record(spans_used, (start, len as usize));
            spans_used += 1;
        }
        pos = end;
        left -= 1;
        argc += 1;
    }
    Ok(Scan::Done {
        end: pos,
        argc,
        spans_used: if record { spans_used } else { 0 },
    })
}

/// Cuts the arguments out of a multibulk request already validated by
/// [`scan_multibulk`].
fn collect_args(frame: &Bytes, argc: usize, args: &mut Vec<Bytes>) {
    let mut spans = Vec::new();
    collect_spans(frame, argc, &mut spans);
    args.reserve(spans.len());
    for (start, len) in spans {
        args.push(frame.slice(start..start + len));
    }
}

/// Parses one inline request. Returns `None` when its line is not
/// complete; `Some(())` with `args` filled (possibly empty) otherwise.
fn parse_inline(
    buf: &mut BytesMut,
    limits: &Limits,
    args: &mut Vec<Bytes>,
) -> Result<Option<()>, ProtocolError> {
    let newline = match memchr2(b'\n', 0, buf) {
        Some(i) if buf[i] == b'\n' => i,
        _ => {
            if buf.len() > limits.max_inline_len {
                return Err(ProtocolError::new("Protocol error: too big inline request"));
            }
            return Ok(None);
        }
    };
    let line_len = if newline > 0 && buf[newline - 1] == b'\r' {
        newline - 1
    } else {
        newline
    };
    let chunk = buf.split_to(newline + 1).freeze();
    split_args(&chunk.slice(..line_len), args)?;
    Ok(Some(()))
}

/// C's `isspace` in the C locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Appends `s` quoted and escaped like Redis's `sdscatrepr`: always within
/// double quotes, `\\ \" \n \r \t \a \b` escaped, other non-printable bytes
/// as `\xHH`. [`split_line`] reads the result back to the same bytes.
pub fn cat_repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\x");
                out.push(HEX[(c >> 4) as usize]);
                out.push(HEX[(c & 15) as usize]);
            }
        }
    }
    out.push(b'"');
}

/// Redis's `sdssplitargs` on a line of text, as `redis.conf` lines and
/// inline requests are split (see the rules below, on `split_args`). The
/// line ends at its first NUL byte, as the C string it models does.
/// Returns `None` on unbalanced quotes.
pub fn split_line(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let end = line.iter().position(|&b| b == 0).unwrap_or(line.len());
    let line = Bytes::copy_from_slice(&line[..end]);
    let mut args = Vec::new();
    split_args(&line, &mut args).ok()?;
    Some(args.into_iter().map(|a| a.to_vec()).collect())
}

/// Redis's `sdssplitargs`: splits an inline line into arguments.
///
/// Arguments are separated by blanks. `"..."` understands `\n`, `\r`,
/// `\t`, `\b`, `\a`, `\xHH` and `\` before any other character; `'...'`
/// only `\'`. A quoted part may follow unquoted characters of the same
/// argument (`a"b"` is `ab`), but a closing quote must be followed by a
/// blank or the end of the line. Arguments without quotes are zero-copy
/// slices of `line`. `line` holds no NUL byte (the caller stops lines at
/// one), so its end plays the part of C's terminating NUL.
fn split_args(line: &Bytes, args: &mut Vec<Bytes>) -> Result<(), ProtocolError> {
    let unbalanced = || ProtocolError::new("Protocol error: unbalanced quotes in request");
    let s = &line[..];
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut p = 0;
    loop {
        while p < s.len() && is_space(s[p]) {
            p += 1;
        }
        if p >= s.len() {
            return Ok(());
        }
        let start = p;
        // None while the argument is a plain run of `s[start..p]`.
        let mut owned: Option<Vec<u8>> = None;
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            let c = at(p);
            let mut done = false;
            if in_dq {
                let out = owned.get_or_insert_with(Vec::new);
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(h), Some(l)) = (hex_value(at(p + 2)), hex_value(at(p + 3))) {
                        out.push(h * 16 + l);
                        p += 3;
                    } else {
                        p += 1;
                        out.push(b'x');
                    }
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    out.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(unbalanced());
                    }
                    done = true;
                } else if c == 0 {
                    return Err(unbalanced());
                } else {
                    out.push(c);
                }
            } else if in_sq {
                let out = owned.get_or_insert_with(Vec::new);
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    out.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(unbalanced());
                    }
                    done = true;
                } else if c == 0 {
                    return Err(unbalanced());
                } else {
                    out.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' | b'\'' => {
                        if owned.is_none() {
                            owned = Some(s[start..p].to_vec());
                        }
                        if c == b'"' {
                            in_dq = true;
                        } else {
                            in_sq = true;
                        }
                    }
                    _ => {
                        if let Some(out) = owned.as_mut() {
                            out.push(c);
                        }
                    }
                }
            }
            if done {
                let arg = match owned.take() {
                    Some(v) => Bytes::from(v),
                    None => line.slice(start..p),
                };
                args.push(arg);
                if p < s.len() {
                    p += 1;
                }
                break;
            }
            if p < s.len() {
                p += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    fn unauth() -> Limits {
        Limits {
            authenticated: false,
            ..Limits::default()
        }
    }

    type Drained = (Vec<Vec<Vec<u8>>>, Result<Parsed, ProtocolError>, Vec<u8>);

    /// Parses every command in `input`, returning the commands, the
    /// outcome that stopped the loop and the bytes left.
    fn parse_all(input: &[u8], limits: &Limits) -> Drained {
        let mut buf = BytesMut::from(input);
        let mut args = Vec::new();
        let mut cmds = Vec::new();
        loop {
            match parse_command(&mut buf, limits, &mut args) {
                Ok(Parsed::Command) => cmds.push(args.iter().map(|a| a.to_vec()).collect()),
                other => return (cmds, other, buf.to_vec()),
            }
        }
    }

    fn one(input: &[u8]) -> Vec<Vec<u8>> {
        let (mut cmds, end, _) = parse_all(input, &limits());
        assert!(matches!(end, Ok(Parsed::Incomplete { .. })), "{end:?}");
        assert_eq!(cmds.len(), 1, "{cmds:?}");
        cmds.remove(0)
    }

    fn err(input: &[u8], limits: &Limits) -> String {
        match parse_all(input, limits).1 {
            Err(e) => e.0,
            other => panic!("expected an error for {input:?}, got {other:?}"),
        }
    }

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_basics() {
        assert_eq!(one(b"*1\r\n$4\r\nPING\r\n"), v(&["PING"]));
        assert_eq!(
            one(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"),
            v(&["SET", "k", ""])
        );
        assert_eq!(one(b"*2\r\n$4\r\nECHO\r\n$3\r\na\x00b\r\n")[1], b"a\x00b");
        assert_eq!(one(b"*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n")[1], b"a\r\nb");
    }

    #[test]
    fn arguments_are_slices_of_the_input() {
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"[..]);
        let base = buf.as_ptr() as usize;
        let mut args = Vec::new();
        assert_eq!(
            parse_command(&mut buf, &limits(), &mut args),
            Ok(Parsed::Command)
        );
        assert_eq!(args[0].as_ptr() as usize, base + 8);
        assert_eq!(args[1].as_ptr() as usize, base + 17);
    }

    #[test]
    fn redis_skips_terminators_unchecked() {
        // Redis reads len+2 bytes and never looks at the last two, and
        // skips whatever byte follows a header's CR.
        assert_eq!(one(b"*1\r\n$4\r\nPINGxx"), v(&["PING"]));
        assert_eq!(one(b"*1\rX$4\r\nPING\r\n"), v(&["PING"]));
        let (cmds, _, _) = parse_all(b"*1\r\n$4\rXPING\r\n*1\r\n$4\r\nPING\r\n", &limits());
        assert_eq!(cmds, vec![v(&["PING"]), v(&["PING"])]);
    }

    #[test]
    fn empty_requests_are_skipped() {
        let (cmds, end, rest) = parse_all(b"*0\r\n*-5\r\n*-1\r\n\n\r\n   \nPING\n", &limits());
        assert_eq!(cmds, vec![v(&["PING"])]);
        assert_eq!(end, Ok(Parsed::Incomplete { need: 0 }));
        assert!(rest.is_empty());
        let (cmds, end, rest) = parse_all(b"*0\r\n", &limits());
        assert!(cmds.is_empty() && rest.is_empty());
        assert_eq!(end, Ok(Parsed::Incomplete { need: 0 }));
    }

    #[test]
    fn multibulk_errors() {
        let l = limits();
        assert_eq!(
            err(b"*+1\r\n", &l),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*01\r\n", &l),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*-0\r\n", &l),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*\r\n", &l),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*1 \r\n", &l),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*3000000000\r\n", &l),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*2147483648\r\n", &l),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*99999999999999999999\r\n", &l),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*1\r\nfoo\r\n", &l),
            "Protocol error: expected '$', got 'f'"
        );
        assert_eq!(
            err(b"*1\r\n\r\n", &l),
            "Protocol error: expected '$', got ' '"
        );
        assert_eq!(
            err(b"*1\r\n\n\r\n", &l),
            "Protocol error: expected '$', got ' '"
        );
        assert_eq!(
            err(b"*1\r\n$-1\r\n", &l),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"*1\r\n$01\r\n", &l),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"*1\r\n$\r\n", &l),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"*1\r\n$999999999999\r\n", &l),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"*1\r\n$9223372036854775807\r\n", &l),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"*1\r\n$536870913\r\n", &l),
            "Protocol error: invalid bulk length"
        );
        // Errors show as soon as the header is there, before any payload.
        assert_eq!(
            err(b"*2\r\n$3\r\nSET\r\n$x\r\n", &l),
            "Protocol error: invalid bulk length"
        );
    }

    #[test]
    fn expected_dollar_echoes_raw_bytes() {
        let e = match parse_all(b"*1\r\n\xff\r\n", &limits()).1 {
            Err(e) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            e.message_bytes(),
            b"Protocol error: expected '$', got '\xff'"
        );
        let mut out = ReplyBuf::new();
        e.write_reply(&mut out);
        assert_eq!(
            out.as_bytes(),
            b"-ERR Protocol error: expected '$', got '\xff'\r\n"
        );
        assert_eq!(out.take_errors(), vec!["ERR".to_string()]);
    }

    #[test]
    fn the_largest_bulk_is_accepted() {
        let mut buf = BytesMut::from(&b"*1\r\n$536870912\r\n"[..]);
        let mut args = Vec::new();
        assert_eq!(
            parse_command(&mut buf, &limits(), &mut args),
            Ok(Parsed::Incomplete {
                need: 16 + 536870912 + 2
            })
        );
    }

    #[test]
    fn large_counts_are_allowed_up_to_int_max() {
        let mut buf = BytesMut::from(&b"*2147483647\r\n$1\r\na\r\n"[..]);
        let mut args = Vec::new();
        assert_eq!(
            parse_command(&mut buf, &limits(), &mut args),
            Ok(Parsed::Incomplete { need: 0 })
        );
        assert!(args.capacity() < 2048);
        let mut buf = BytesMut::from(&b"*2000000\r\n"[..]);
        assert_eq!(
            parse_command(&mut buf, &limits(), &mut args),
            Ok(Parsed::Incomplete { need: 0 })
        );
    }

    #[test]
    fn unauthenticated_limits() {
        let l = unauth();
        assert_eq!(
            err(b"*11\r\n", &l),
            "Protocol error: unauthenticated multibulk length"
        );
        assert_eq!(
            err(b"*100\r\n", &l),
            "Protocol error: unauthenticated multibulk length"
        );
        assert_eq!(
            err(b"*1\r\n$16385\r\n", &l),
            "Protocol error: unauthenticated bulk length"
        );
        assert_eq!(
            err(b"*1\r\n$100000000\r\n", &l),
            "Protocol error: unauthenticated bulk length"
        );
        // Invalid beats unauthenticated, as in Redis.
        assert_eq!(
            err(b"*1\r\n$999999999999\r\n", &l),
            "Protocol error: invalid bulk length"
        );
        let ten = b"*10\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n";
        let (cmds, _, _) = parse_all(ten, &l);
        assert_eq!(cmds.len(), 1);
        let mut big = b"*1\r\n$16384\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'x', 16384));
        big.extend_from_slice(b"\r\n");
        let (cmds, _, _) = parse_all(&big, &l);
        assert_eq!(cmds[0][0].len(), 16384);
        // Inline requests are not limited beyond the line length.
        let (cmds, _, _) = parse_all(b"a b c d e f g h i j k l m\n", &l);
        assert_eq!(cmds[0].len(), 13);
    }

    #[test]
    fn too_big_unterminated_lines() {
        let l = limits();
        let mut input = b"*".to_vec();
        input.extend(std::iter::repeat_n(b'1', 65535));
        let (_, end, _) = parse_all(&input, &l);
        assert_eq!(end, Ok(Parsed::Incomplete { need: 0 }));
        input.push(b'1');
        assert_eq!(
            err(&input, &l),
            "Protocol error: too big mbulk count string"
        );

        let mut input = b"*1\r\n$".to_vec();
        input.extend(std::iter::repeat_n(b'1', 65535));
        let (_, end, _) = parse_all(&input, &l);
        assert_eq!(end, Ok(Parsed::Incomplete { need: 0 }));
        input.push(b'1');
        assert_eq!(err(&input, &l), "Protocol error: too big bulk count string");

        let mut input = vec![b'x'; 65536];
        let (_, end, _) = parse_all(&input, &l);
        assert_eq!(end, Ok(Parsed::Incomplete { need: 0 }));
        input.push(b'x');
        assert_eq!(err(&input, &l), "Protocol error: too big inline request");

        // A complete line longer than the limit is accepted, as in Redis.
        let mut input = b"ECHO ".to_vec();
        input.extend(std::iter::repeat_n(b'y', 100_000));
        input.push(b'\n');
        let (cmds, _, _) = parse_all(&input, &l);
        assert_eq!(cmds[0][1].len(), 100_000);
    }

    #[test]
    fn nul_bytes_stop_line_searches_as_strchr_does() {
        let l = limits();
        let (cmds, end, rest) = parse_all(b"PING\x00\n", &l);
        assert!(cmds.is_empty());
        assert_eq!(end, Ok(Parsed::Incomplete { need: 0 }));
        assert_eq!(rest, b"PING\x00\n");
        let (cmds, end, _) = parse_all(b"*1\x00\r\n", &l);
        assert!(cmds.is_empty());
        assert_eq!(end, Ok(Parsed::Incomplete { need: 0 }));
        let mut input = b"PING\x00\n".to_vec();
        input.extend(std::iter::repeat_n(b'z', 65536));
        assert_eq!(err(&input, &l), "Protocol error: too big inline request");
    }

    #[test]
    fn inline_commands() {
        assert_eq!(one(b"PING\r\n"), v(&["PING"]));
        assert_eq!(one(b"PING\n"), v(&["PING"]));
        assert_eq!(one(b"PING\r\r\n"), v(&["PING"]));
        assert_eq!(one(b"   ECHO\t\thi   \r\n"), v(&["ECHO", "hi"]));
        assert_eq!(one(b"SET k \"\"\n"), v(&["SET", "k", ""]));
        assert_eq!(one(b"ECHO \"a\\x41\\n\"\n")[1], b"aA\n");
        assert_eq!(one(b"ECHO \"\\xZZ\"\n")[1], b"xZZ");
        assert_eq!(one(b"ECHO \"\\x4\"\n")[1], b"x4");
        assert_eq!(
            one(b"ECHO \"\\r\\t\\b\\a\\\\\\\"\\q\"\n")[1],
            b"\r\t\x08\x07\\\"q"
        );
        assert_eq!(one(b"ECHO a\"b c\"\n"), v(&["ECHO", "ab c"]));
        assert_eq!(one(b"ECHO x'y z'\n"), v(&["ECHO", "xy z"]));
        assert_eq!(one(b"ECHO 'a\\'b'\n")[1], b"a'b");
        assert_eq!(one(b"ECHO 'a\\nb'\n")[1], b"a\\nb");
        assert_eq!(one(b"ECHO a\x0bb\n"), v(&["ECHO", "a\x0bb"]));
        assert_eq!(one(b"ECHO \"x\"\x0bY\n"), v(&["ECHO", "x", "Y"]));
        assert_eq!(one(b"ECHO \"x\"\tY\n"), v(&["ECHO", "x", "Y"]));
        assert_eq!(one(b"\x0b\x0cPING\n"), v(&["PING"]));
        assert_eq!(one(b"$3\r\n"), v(&["$3"]));
        assert_eq!(
            one(b"caf\xc3\xa9 \xff\n"),
            vec![b"caf\xc3\xa9".to_vec(), vec![0xff]]
        );
    }

    #[test]
    fn inline_quote_errors() {
        let l = limits();
        let msg = "Protocol error: unbalanced quotes in request";
        for input in [
            &b"ECHO \"a\n"[..],
            b"ECHO 'a\r\n",
            b"ECHO \"a\"x\n",
            b"ECHO 'a'x\n",
            b"ECHO \"a\\\"\n",
            b"ECHO 'a\\'\n",
            b"ECHO \"a\\\n",
            b"\"\n",
        ] {
            assert_eq!(err(input, &l), msg, "{input:?}");
        }
    }

    #[test]
    fn inline_zero_copy_for_plain_words() {
        let mut buf = BytesMut::from(&b"GET key\r\n"[..]);
        let base = buf.as_ptr() as usize;
        let mut args = Vec::new();
        assert_eq!(
            parse_command(&mut buf, &limits(), &mut args),
            Ok(Parsed::Command)
        );
        assert_eq!(args[1].as_ptr() as usize, base + 4);
    }

    #[test]
    fn incomplete_consumes_nothing_and_hints_big_bulks() {
        let mut buf = BytesMut::from(&b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\nabc"[..]);
        let before = buf.clone();
        let mut args = vec![Bytes::from_static(b"stale")];
        let r = parse_command(&mut buf, &limits(), &mut args);
        assert_eq!(
            r,
            Ok(Parsed::Incomplete {
                need: 29 + 100_000 + 2
            })
        );
        assert_eq!(buf, before);
        assert!(args.is_empty());
    }

    #[test]
    fn every_split_point() {
        let input: &[u8] =
            b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\nGET \"k y\"\r\n*0\r\n*1\r\n$4\r\nPING\r\n";
        let want = vec![
            v(&["SET", "key", "value"]),
            v(&["GET", "k y"]),
            v(&["PING"]),
        ];
        for split in 0..=input.len() {
            let mut buf = BytesMut::new();
            let mut args = Vec::new();
            let mut got = Vec::new();
            let mut parser = CommandParser::new();
            for chunk in [&input[..split], &input[split..]] {
                buf.extend_from_slice(chunk);
                while let Ok(Parsed::Command) = parser.parse(&mut buf, &limits(), &mut args) {
                    got.push(args.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
                }
            }
            assert_eq!(got, want, "split at {split}");
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn byte_at_a_time_with_resumption() {
        let mut input = Vec::new();
        let n = 300;
        input.extend_from_slice(format!("*{n}\r\n").as_bytes());
        for i in 0..n {
            let arg = format!("arg{i}");
            input.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
        }
        let mut parser = CommandParser::new();
        let mut buf = BytesMut::new();
        let mut args = Vec::new();
        let mut done = false;
        for &b in &input {
            assert!(!done);
            buf.extend_from_slice(&[b]);
            match parser.parse(&mut buf, &limits(), &mut args) {
                Ok(Parsed::Command) => done = true,
                Ok(Parsed::Incomplete { .. }) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert!(done);
        assert_eq!(args.len(), n);
        assert_eq!(&args[299][..], b"arg299");
    }

    #[test]
    fn pipeline_of_ten_thousand() {
        let mut input = Vec::new();
        for i in 0..10_000 {
            if i % 3 == 0 {
                input.extend_from_slice(format!("SET key:{i} v{i}\r\n").as_bytes());
            } else {
                let k = format!("key:{i}");
                let val = format!("v{i}");
                input.extend_from_slice(
                    format!(
                        "*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n{val}\r\n",
                        k.len(),
                        val.len()
                    )
                    .as_bytes(),
                );
            }
        }
        let (cmds, end, rest) = parse_all(&input, &limits());
        assert_eq!(end, Ok(Parsed::Incomplete { need: 0 }));
        assert!(rest.is_empty());
        assert_eq!(cmds.len(), 10_000);
        for (i, c) in cmds.iter().enumerate() {
            assert_eq!(c[1], format!("key:{i}").as_bytes());
            assert_eq!(c[2], format!("v{i}").as_bytes());
        }
    }

    #[test]
    fn big_bulk_in_small_pieces_is_linear() {
        // 8 MB in 16 KB reads: each call rescans only the headers.
        let size = 8 << 20;
        let mut input = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${size}\r\n").into_bytes();
        input.extend(std::iter::repeat_n(b'v', size));
        input.extend_from_slice(b"\r\n");
        let mut buf = BytesMut::new();
        let mut args = Vec::new();
        let mut calls = 0;
        let mut reserved = false;
        for chunk in input.chunks(16 * 1024) {
            buf.extend_from_slice(chunk);
            calls += 1;
            match parse_command(&mut buf, &limits(), &mut args) {
                Ok(Parsed::Incomplete { need }) => {
                    if need > buf.len() && !reserved {
                        buf.reserve(need - buf.len());
                        reserved = true;
                    }
                }
                Ok(Parsed::Command) => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(reserved);
        assert_eq!(calls, input.len().div_ceil(16 * 1024));
        assert_eq!(args[2].len(), size);
    }

    #[test]
    fn string2ll_matches_redis() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"000000000000000000001",
        ] {
            assert_eq!(string2ll(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut x: u32 = 12345;
        let alphabet = b"*$\r\n0123456789-\"' \\xab\x00";
        for _ in 0..20_000 {
            let mut input = Vec::new();
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let len = (x >> 16) % 40;
            for _ in 0..len {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                input.push(alphabet[((x >> 16) as usize) % alphabet.len()]);
            }
            let _ = parse_all(&input, &limits());
            let _ = parse_all(&input, &unauth());
        }
    }
}
