//! Full RESP2/RESP3 frames, for clients and tools.
//!
//! [`parse_frame`] reads any reply a Redis server sends, in either
//! protocol version; [`Frame::encode`] writes one. Payloads are zero-copy
//! slices of the input buffer. RESP3's streamed strings and aggregates
//! (`$?`, `*?`), which Redis never sends, are refused as malformed.

use bytes::{BufMut, Bytes, BytesMut};
use memchr::memchr;

use crate::reply::format_double;

/// One RESP value of any type.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+text`: a simple string (no CR or LF inside).
    Simple(Bytes),
    /// `-CODE message`: a simple error (no CR or LF inside).
    Error(Bytes),
    /// `:n`: a signed 64-bit integer.
    Integer(i64),
    /// `$len` then the bytes: a bulk string.
    Bulk(Bytes),
    /// `$-1`: RESP2's null bulk string.
    NullBulk,
    /// `*-1`: RESP2's null array.
    NullArray,
    /// `_`: RESP3's null.
    Null,
    /// `*n` then n frames.
    Array(Vec<Frame>),
    /// `#t` or `#f`.
    Boolean(bool),
    /// `,1.5`, `,inf`, `,-inf`, `,nan`: a double.
    Double(f64),
    /// `(digits`: an integer of any size, as its decimal digits.
    BigNumber(Bytes),
    /// `!len` then the bytes: an error that may hold any bytes.
    BulkError(Bytes),
    /// `=len` then `fmt:text`: a string with a three-byte format such as
    /// `txt` or `mkd`.
    Verbatim {
        /// The format, such as `txt`.
        format: [u8; 3],
        /// The text after `fmt:`.
        text: Bytes,
    },
    /// `%n` then n key-value pairs, in the order received.
    Map(Vec<(Frame, Frame)>),
    /// `~n` then n frames.
    Set(Vec<Frame>),
    /// `|n` then n key-value pairs of metadata, then the value they
    /// describe. The attributes do not count as an element of an
    /// enclosing aggregate.
    Attribute {
        /// The metadata pairs.
        attributes: Vec<(Frame, Frame)>,
        /// The frame the attributes belong to.
        value: Box<Frame>,
    },
    /// `>n` then n frames: out-of-band data such as pub/sub messages.
    Push(Vec<Frame>),
}

/// A malformed frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FrameError(pub String);

impl FrameError {
    fn new(msg: &str) -> FrameError {
        FrameError(msg.to_string())
    }
}

/// How deep aggregates may nest before a frame is refused, so that hostile
/// input cannot exhaust the stack.
const MAX_DEPTH: usize = 512;

/// Parses one frame from the front of `buf`, consuming it, or returns
/// `Ok(None)` when the frame is not complete yet (nothing is consumed
/// then; call again once more bytes have arrived).
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use viator_protocol::{Frame, parse_frame};
///
/// let mut buf = BytesMut::from(&b"*2\r\n$3\r\nfoo\r\n:42\r\n%1"[..]);
/// let frame = parse_frame(&mut buf).unwrap();
/// assert_eq!(
///     frame,
///     Some(Frame::Array(vec![Frame::Bulk(Bytes::from_static(b"foo")), Frame::Integer(42)]))
/// );
/// assert_eq!(parse_frame(&mut buf).unwrap(), None);
/// assert_eq!(&buf[..], b"%1");
/// ```
pub fn parse_frame(buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
    let Some(end) = check(buf, 0, 0)? else {
        return Ok(None);
    };
    let data = buf.split_to(end).freeze();
    let mut pos = 0;
    build(&data, &mut pos).map(Some)
}

/// The line starting at `pos`: the index of its `\r` and of the byte after
/// its `\n`, or `None` when it is not complete.
fn line(buf: &[u8], pos: usize) -> Result<Option<(usize, usize)>, FrameError> {
    let hay = buf.get(pos..).unwrap_or_default();
    let Some(nl) = memchr(b'\n', hay) else {
        return Ok(None);
    };
    if nl == 0 || hay[nl - 1] != b'\r' {
        return Err(FrameError::new("Protocol error: expected CRLF"));
    }
    Ok(Some((pos + nl - 1, pos + nl + 1)))
}

/// A decimal integer with an optional sign.
fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v: i128 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i128::from(c - b'0');
    }
    i64::try_from(if neg { -v } else { v }).ok()
}

/// A length header: -1 for null, otherwise a count that fits `usize`.
fn parse_len(s: &[u8]) -> Result<Option<usize>, FrameError> {
    match parse_int(s) {
        Some(-1) => Ok(None),
        Some(n) if n >= 0 => usize::try_from(n)
            .map(Some)
            .map_err(|_| FrameError::new("Protocol error: invalid length")),
        _ => Err(FrameError::new("Protocol error: invalid length")),
    }
}

fn parse_double(s: &[u8]) -> Option<f64> {
    match s {
        b"inf" | b"+inf" => return Some(f64::INFINITY),
        b"-inf" => return Some(f64::NEG_INFINITY),
        b"nan" | b"-nan" => return Some(f64::NAN),
        _ => {}
    }
    if s.is_empty()
        || !s
            .iter()
            .all(|&c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn is_big_number(s: &[u8]) -> bool {
    let digits = match s.split_first() {
        Some((b'-' | b'+', rest)) => rest,
        _ => s,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// Validates the frame starting at `pos` without allocating; returns the
/// index just past it, or `None` when it is not complete.
fn check(buf: &[u8], pos: usize, depth: usize) -> Result<Option<usize>, FrameError> {
    if depth > MAX_DEPTH {
        return Err(FrameError::new("Protocol error: frame nested too deep"));
    }
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let Some((cr, next)) = line(buf, pos + 1)? else {
        return Ok(None);
    };
    let body = &buf[pos + 1..cr];
    let invalid = |what: &str| Err(FrameError(format!("Protocol error: invalid {what}")));
    match kind {
        b'+' | b'-' => {
            if memchr(b'\r', body).is_some() {
                return invalid("simple string");
            }
            Ok(Some(next))
        }
        b':' => match parse_int(body) {
            Some(_) => Ok(Some(next)),
            None => invalid("integer"),
        },
        b'_' if body.is_empty() => Ok(Some(next)),
        b'_' => invalid("null"),
        b'#' if body == b"t" || body == b"f" => Ok(Some(next)),
        b'#' => invalid("boolean"),
        b',' => match parse_double(body) {
            Some(_) => Ok(Some(next)),
            None => invalid("double"),
        },
        b'(' if is_big_number(body) => Ok(Some(next)),
        b'(' => invalid("big number"),
        b'$' | b'!' | b'=' => {
            let Some(len) = parse_len(body)? else {
                return if kind == b'$' {
                    Ok(Some(next))
                } else {
                    invalid("length")
                };
            };
            if kind == b'=' && len < 4 {
                return invalid("verbatim string");
            }
            let Some(end) = next.checked_add(len).and_then(|e| e.checked_add(2)) else {
                return invalid("length");
            };
            if buf.len() < end {
                return Ok(None);
            }
            if &buf[end - 2..end] != b"\r\n" {
                return Err(FrameError::new("Protocol error: expected CRLF"));
            }
            if kind == b'=' && buf[next + 3] != b':' {
                return invalid("verbatim string");
            }
            Ok(Some(end))
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let Some(n) = parse_len(body)? else {
                return if kind == b'*' {
                    Ok(Some(next))
                } else {
                    invalid("length")
                };
            };
            let items = if matches!(kind, b'%' | b'|') {
                n.checked_mul(2)
                    .ok_or_else(|| FrameError::new("Protocol error: invalid length"))?
            } else {
                n
            };
            let mut at = next;
            for _ in 0..items {
                match check(buf, at, depth + 1)? {
                    Some(end) => at = end,
                    None => return Ok(None),
                }
            }
            if kind == b'|' {
                // The value the attributes describe.
                return check(buf, at, depth + 1);
            }
            Ok(Some(at))
        }
        _ => Err(FrameError(format!(
            "Protocol error: unknown frame type {:?}",
            char::from(kind)
        ))),
    }
}

/// Builds the frame at `pos` of input that [`check`] accepted.
fn build(data: &Bytes, pos: &mut usize) -> Result<Frame, FrameError> {
    let buf = &data[..];
    let corrupt = || FrameError::new("Protocol error: frame changed while parsing");
    let kind = *buf.get(*pos).ok_or_else(corrupt)?;
    let (cr, next) = line(buf, *pos + 1)?.ok_or_else(corrupt)?;
    let body_start = *pos + 1;
    let body = &buf[body_start..cr];
    *pos = next;
    let frame = match kind {
        b'+' => Frame::Simple(data.slice(body_start..cr)),
        b'-' => Frame::Error(data.slice(body_start..cr)),
        b':' => Frame::Integer(parse_int(body).ok_or_else(corrupt)?),
        b'_' => Frame::Null,
        b'#' => Frame::Boolean(body == b"t"),
        b',' => Frame::Double(parse_double(body).ok_or_else(corrupt)?),
        b'(' => Frame::BigNumber(data.slice(body_start..cr)),
        b'$' | b'!' | b'=' => {
            let Some(len) = parse_len(body)? else {
                return Ok(Frame::NullBulk);
            };
            let end = next + len;
            let payload = data.get(next..end).ok_or_else(corrupt)?;
            *pos = end + 2;
            match kind {
                b'$' => Frame::Bulk(data.slice(next..end)),
                b'!' => Frame::BulkError(data.slice(next..end)),
                _ => {
                    let format = [payload[0], payload[1], payload[2]];
                    Frame::Verbatim {
                        format,
                        text: data.slice(next + 4..end),
                    }
                }
            }
        }
        b'*' | b'~' | b'>' => {
            let Some(n) = parse_len(body)? else {
                return Ok(Frame::NullArray);
            };
            // Every element takes at least three bytes.
            let mut items = Vec::with_capacity(n.min(buf.len() / 3));
            for _ in 0..n {
                items.push(build(data, pos)?);
            }
            match kind {
                b'*' => Frame::Array(items),
                b'~' => Frame::Set(items),
                _ => Frame::Push(items),
            }
        }
        b'%' | b'|' => {
            let n = parse_len(body)?.ok_or_else(corrupt)?;
            let mut pairs = Vec::with_capacity(n.min(buf.len() / 6));
            for _ in 0..n {
                let k = build(data, pos)?;
                let v = build(data, pos)?;
                pairs.push((k, v));
            }
            if kind == b'%' {
                Frame::Map(pairs)
            } else {
                Frame::Attribute {
                    attributes: pairs,
                    value: Box::new(build(data, pos)?),
                }
            }
        }
        _ => return Err(corrupt()),
    };
    Ok(frame)
}

impl Frame {
    /// Appends the RESP encoding of this frame to `out`.
    ///
    /// Simple strings and errors are written as they are: they must not
    /// hold CR or LF. Doubles are written as Redis writes them (see
    /// [`format_double`]).
    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            Frame::Simple(s) => line_out(out, b'+', s),
            Frame::Error(s) => line_out(out, b'-', s),
            Frame::Integer(n) => {
                let mut tmp = itoa::Buffer::new();
                line_out(out, b':', tmp.format(*n).as_bytes());
            }
            Frame::Bulk(data) => blob_out(out, b'$', data),
            Frame::BulkError(data) => blob_out(out, b'!', data),
            Frame::NullBulk => out.put_slice(b"$-1\r\n"),
            Frame::NullArray => out.put_slice(b"*-1\r\n"),
            Frame::Null => out.put_slice(b"_\r\n"),
            Frame::Boolean(b) => out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Frame::Double(d) => {
                let mut tmp = [0u8; 32];
                let n = format_double(*d, &mut tmp);
                line_out(out, b',', &tmp[..n]);
            }
            Frame::BigNumber(digits) => line_out(out, b'(', digits),
            Frame::Verbatim { format, text } => {
                header_out(out, b'=', text.len() + 4);
                out.reserve(text.len() + 6);
                out.put_slice(format);
                out.put_u8(b':');
                out.put_slice(text);
                out.put_slice(b"\r\n");
            }
            Frame::Array(items) => aggregate_out(out, b'*', items),
            Frame::Set(items) => aggregate_out(out, b'~', items),
            Frame::Push(items) => aggregate_out(out, b'>', items),
            Frame::Map(pairs) => pairs_out(out, b'%', pairs),
            Frame::Attribute { attributes, value } => {
                pairs_out(out, b'|', attributes);
                value.encode(out);
            }
        }
    }

    /// A command as clients send it: an array of bulk strings.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use viator_protocol::Frame;
    ///
    /// let mut out = BytesMut::new();
    /// Frame::command(["SET", "k", "v"]).encode(&mut out);
    /// assert_eq!(&out[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
    /// ```
    pub fn command<I, A>(args: I) -> Frame
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        Frame::Array(
            args.into_iter()
                .map(|a| Frame::Bulk(Bytes::copy_from_slice(a.as_ref())))
                .collect(),
        )
    }
}

fn line_out(out: &mut BytesMut, prefix: u8, body: &[u8]) {
    out.reserve(body.len() + 3);
    out.put_u8(prefix);
    out.put_slice(body);
    out.put_slice(b"\r\n");
}

fn header_out(out: &mut BytesMut, prefix: u8, n: usize) {
    let mut tmp = itoa::Buffer::new();
    line_out(out, prefix, tmp.format(n).as_bytes());
}

fn blob_out(out: &mut BytesMut, prefix: u8, data: &[u8]) {
    header_out(out, prefix, data.len());
    out.reserve(data.len() + 2);
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

fn aggregate_out(out: &mut BytesMut, prefix: u8, items: &[Frame]) {
    header_out(out, prefix, items.len());
    for item in items {
        item.encode(out);
    }
}

fn pairs_out(out: &mut BytesMut, prefix: u8, pairs: &[(Frame, Frame)]) {
    header_out(out, prefix, pairs.len());
    for (k, v) in pairs {
        k.encode(out);
        v.encode(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &'static [u8]) -> Bytes {
        Bytes::from_static(s)
    }

    fn parse_one(input: &[u8]) -> Result<Option<Frame>, FrameError> {
        let mut buf = BytesMut::from(input);
        let r = parse_frame(&mut buf);
        if let Ok(Some(_)) = r {
            assert!(buf.is_empty(), "left {buf:?}");
        }
        r
    }

    fn ok(input: &[u8]) -> Frame {
        match parse_one(input) {
            Ok(Some(f)) => f,
            other => panic!("{input:?}: {other:?}"),
        }
    }

    #[test]
    fn every_type() {
        let cases: Vec<(&[u8], Frame)> = vec![
            (b"+OK\r\n", Frame::Simple(b(b"OK"))),
            (b"+\r\n", Frame::Simple(b(b""))),
            (b"-ERR bad\r\n", Frame::Error(b(b"ERR bad"))),
            (b":-42\r\n", Frame::Integer(-42)),
            (b":+7\r\n", Frame::Integer(7)),
            (b":9223372036854775807\r\n", Frame::Integer(i64::MAX)),
            (b":-9223372036854775808\r\n", Frame::Integer(i64::MIN)),
            (b"$5\r\nhe\r\no\r\n", Frame::Bulk(b(b"he\r\no"))),
            (b"$0\r\n\r\n", Frame::Bulk(b(b""))),
            (b"$-1\r\n", Frame::NullBulk),
            (b"*-1\r\n", Frame::NullArray),
            (b"_\r\n", Frame::Null),
            (b"#t\r\n", Frame::Boolean(true)),
            (b"#f\r\n", Frame::Boolean(false)),
            (b",1.5\r\n", Frame::Double(1.5)),
            (b",1e+20\r\n", Frame::Double(1e20)),
            (b",-inf\r\n", Frame::Double(f64::NEG_INFINITY)),
            (b",inf\r\n", Frame::Double(f64::INFINITY)),
            (b",10\r\n", Frame::Double(10.0)),
            (b"(3492890328409238509324850943850943825024385\r\n", Frame::BigNumber(b(b"3492890328409238509324850943850943825024385"))),
            (b"!21\r\nSYNTAX invalid syntax\r\n", Frame::BulkError(b(b"SYNTAX invalid syntax"))),
            (b"=15\r\ntxt:Some string\r\n", Frame::Verbatim { format: *b"txt", text: b(b"Some string") }),
            (b"=4\r\nmkd:\r\n", Frame::Verbatim { format: *b"mkd", text: b(b"") }),
            (b"*0\r\n", Frame::Array(vec![])),
            (
                b"*2\r\n:1\r\n*1\r\n$1\r\nx\r\n",
                Frame::Array(vec![Frame::Integer(1), Frame::Array(vec![Frame::Bulk(b(b"x"))])]),
            ),
            (
                b"%2\r\n+b\r\n:2\r\n+a\r\n:1\r\n",
                Frame::Map(vec![
                    (Frame::Simple(b(b"b")), Frame::Integer(2)),
                    (Frame::Simple(b(b"a")), Frame::Integer(1)),
                ]),
            ),
            (b"~1\r\n_\r\n", Frame::Set(vec![Frame::Null])),
            (
                b">2\r\n+message\r\n$2\r\nhi\r\n",
                Frame::Push(vec![Frame::Simple(b(b"message")), Frame::Bulk(b(b"hi"))]),
            ),
            (
                b"|1\r\n+key-popularity\r\n*2\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2039123\r\n:9543892\r\n",
                Frame::Attribute {
                    attributes: vec![(
                        Frame::Simple(b(b"key-popularity")),
                        Frame::Array(vec![Frame::Bulk(b(b"a")), Frame::Double(0.19)]),
                    )],
                    value: Box::new(Frame::Array(vec![Frame::Integer(2039123), Frame::Integer(9543892)])),
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(ok(input), want, "{:?}", String::from_utf8_lossy(input));
            // Every proper prefix is incomplete.
            for cut in 0..input.len() {
                assert_eq!(parse_one(&input[..cut]), Ok(None), "{input:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn nan_double() {
        match ok(b",nan\r\n") {
            Frame::Double(d) => assert!(d.is_nan()),
            other => panic!("{other:?}"),
        }
        let mut out = BytesMut::new();
        Frame::Double(f64::NAN).encode(&mut out);
        assert_eq!(&out[..], b",nan\r\n");
    }

    #[test]
    fn attributes_do_not_count_as_elements() {
        let f = ok(b"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n");
        let Frame::Array(items) = f else { panic!() };
        assert_eq!(items.len(), 2);
        assert!(matches!(items[0], Frame::Attribute { .. }));
        assert_eq!(items[1], Frame::Integer(2));
    }

    #[test]
    fn malformed() {
        for input in [
            &b"?\r\n"[..],
            b"+a\rb\r\n",
            b"+OK\n",
            b":\r\n",
            b":12a\r\n",
            b":99999999999999999999\r\n",
            b"$-2\r\n",
            b"$x\r\n",
            b"$?\r\n",
            b"*?\r\n",
            b"$3\r\nabcde",
            b"$3\r\nabc\rx",
            b"!-1\r\n",
            b"%-1\r\n",
            b"~-1\r\n",
            b"=3\r\ntxt\r\n",
            b"=5\r\ntxtxy\r\n",
            b"_x\r\n",
            b"#x\r\n",
            b",\r\n",
            b",abc\r\n",
            b"(12a\r\n",
            b"(\r\n",
            b"*1\r\n?\r\n",
        ] {
            assert!(
                parse_one(input).is_err(),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let mut input = Vec::new();
        for _ in 0..100_000 {
            input.extend_from_slice(b"*1\r\n");
        }
        input.extend_from_slice(b":1\r\n");
        assert!(parse_one(&input).is_err());
        let mut ok_input = Vec::new();
        for _ in 0..100 {
            ok_input.extend_from_slice(b"*1\r\n");
        }
        ok_input.extend_from_slice(b":1\r\n");
        assert!(matches!(parse_one(&ok_input), Ok(Some(_))));
    }

    #[test]
    fn huge_declared_lengths_wait_without_allocating() {
        assert_eq!(parse_one(b"$999999999999999\r\nabc"), Ok(None));
        assert_eq!(parse_one(b"*999999999999999\r\n:1\r\n"), Ok(None));
        assert_eq!(parse_one(b"%4611686018427387904\r\n"), Ok(None));
        assert!(parse_one(b"$9223372036854775807\r\n").is_ok());
    }

    #[test]
    fn pipelined_frames_and_zero_copy() {
        let mut buf = BytesMut::from(&b"$3\r\nfoo\r\n+OK\r\n:1"[..]);
        let base = buf.as_ptr() as usize;
        let Ok(Some(Frame::Bulk(foo))) = parse_frame(&mut buf) else {
            panic!()
        };
        assert_eq!(foo.as_ptr() as usize, base + 4);
        assert_eq!(parse_frame(&mut buf), Ok(Some(Frame::Simple(b(b"OK")))));
        assert_eq!(parse_frame(&mut buf), Ok(None));
        buf.extend_from_slice(b"\r\n");
        assert_eq!(parse_frame(&mut buf), Ok(Some(Frame::Integer(1))));
    }

    #[test]
    fn encodes() {
        let mut out = BytesMut::new();
        Frame::Array(vec![
            Frame::Simple(b(b"OK")),
            Frame::Error(b(b"ERR x")),
            Frame::Integer(-1),
            Frame::Bulk(b(b"ab")),
            Frame::NullBulk,
            Frame::NullArray,
            Frame::Null,
            Frame::Boolean(true),
            Frame::Double(0.1),
            Frame::BigNumber(b(b"-123")),
            Frame::BulkError(b(b"E")),
            Frame::Verbatim {
                format: *b"txt",
                text: b(b"hi"),
            },
            Frame::Map(vec![(Frame::Integer(1), Frame::Integer(2))]),
            Frame::Set(vec![]),
            Frame::Push(vec![Frame::Integer(3)]),
            Frame::Attribute {
                attributes: vec![(Frame::Simple(b(b"a")), Frame::Null)],
                value: Box::new(Frame::Integer(4)),
            },
        ])
        .encode(&mut out);
        assert_eq!(
            &out[..],
            &b"*16\r\n+OK\r\n-ERR x\r\n:-1\r\n$2\r\nab\r\n$-1\r\n*-1\r\n_\r\n#t\r\n,0.1\r\n(-123\r\n!1\r\nE\r\n=6\r\ntxt:hi\r\n%1\r\n:1\r\n:2\r\n~0\r\n>1\r\n:3\r\n|1\r\n+a\r\n_\r\n:4\r\n"[..]
        );
    }
}
