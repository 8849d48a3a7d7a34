//! The reply encoder: RESP3 values written straight into the output buffer,
//! downgraded to RESP2 for clients that did not say `HELLO 3`.

use bytes::{BufMut, BytesMut};

/// An output buffer for one client's replies.
///
/// Commands write their reply into it directly (no intermediate value), the
/// way Redis's `addReply*` functions write into a client's buffer. The
/// protocol version decides how RESP3-only types are written: maps become
/// flat arrays, doubles bulk strings, booleans integers, nulls `$-1` or
/// `*-1`.
#[derive(Debug, Default)]
pub struct ReplyBuf {
    buf: BytesMut,
    resp3: bool,
    errors: Vec<String>,
}

/// A position in a [`ReplyBuf`] where an aggregate's length is filled in
/// once it is known (Redis's deferred length replies).
#[derive(Debug, Clone, Copy)]
#[must_use = "a deferred length must be filled in with ReplyBuf::set_deferred_*"]
pub struct DeferredLen(usize);

impl ReplyBuf {
    /// An empty buffer speaking RESP2.
    pub fn new() -> ReplyBuf {
        ReplyBuf::default()
    }

    /// An empty buffer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> ReplyBuf {
        ReplyBuf {
            buf: BytesMut::with_capacity(n),
            ..ReplyBuf::default()
        }
    }

    /// Whether replies are written in RESP3.
    pub fn is_resp3(&self) -> bool {
        self.resp3
    }

    /// Switches the protocol version for the replies that follow.
    pub fn set_resp3(&mut self, resp3: bool) {
        self.resp3 = resp3;
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Number of bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The underlying buffer, to hand to a socket write.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Drops the bytes from `len` on: used to discard a reply (CLIENT REPLY
    /// OFF/SKIP) after it was written.
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    /// Error codes (the first word of each error reply, such as `ERR` or
    /// `WRONGTYPE`) written since the last call, for error statistics.
    pub fn take_errors(&mut self) -> Vec<String> {
        std::mem::take(&mut self.errors)
    }

    /// Whether an error reply was written since the last [`take_errors`].
    ///
    /// [`take_errors`]: ReplyBuf::take_errors
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    fn line(&mut self, prefix: u8, body: &[u8]) {
        self.buf.reserve(body.len() + 3);
        self.buf.put_u8(prefix);
        self.buf.put_slice(body);
        self.buf.put_slice(b"\r\n");
    }

    fn header(&mut self, prefix: u8, n: i64) {
        let mut tmp = itoa::Buffer::new();
        self.line(prefix, tmp.format(n).as_bytes());
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.buf.put_slice(b"+OK\r\n");
    }

    /// A simple string. Must not contain CR or LF.
    pub fn simple(&mut self, s: &str) {
        self.line(b'+', s.as_bytes());
    }

    /// A simple string from raw bytes. CR and LF are replaced by spaces, as
    /// Redis does for status replies built from user input.
    pub fn simple_bytes(&mut self, s: &[u8]) {
        self.buf.reserve(s.len() + 3);
        self.buf.put_u8(b'+');
        for &b in s {
            self.buf
                .put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.put_slice(b"\r\n");
    }

    /// An error reply. `msg` is the text after the `-`, starting with its
    /// code (`ERR ...`, `WRONGTYPE ...`); newlines in it become spaces, as
    /// Redis does so that the reply stays one line.
    pub fn error(&mut self, msg: &str) {
        let code = msg.split(' ').next().unwrap_or("ERR");
        self.errors.push(code.to_string());
        self.buf.reserve(msg.len() + 3);
        self.buf.put_u8(b'-');
        for &b in msg.as_bytes() {
            self.buf
                .put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.put_slice(b"\r\n");
    }

    /// An error reply from raw bytes, for messages that echo client input
    /// which may not be UTF-8. Same rules as [`ReplyBuf::error`].
    pub fn error_bytes(&mut self, msg: &[u8]) {
        let code = msg.split(|&b| b == b' ').next().unwrap_or(b"ERR");
        self.errors.push(String::from_utf8_lossy(code).into_owned());
        self.buf.reserve(msg.len() + 3);
        self.buf.put_u8(b'-');
        for &b in msg {
            self.buf
                .put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.put_slice(b"\r\n");
    }

    /// An integer.
    pub fn int(&mut self, n: i64) {
        match n {
            0 => self.buf.put_slice(b":0\r\n"),
            1 => self.buf.put_slice(b":1\r\n"),
            _ => self.header(b':', n),
        }
    }

    /// A bulk string.
    pub fn bulk(&mut self, data: &[u8]) {
        let mut tmp = itoa::Buffer::new();
        let len = tmp.format(data.len());
        self.buf.reserve(data.len() + len.len() + 5);
        self.buf.put_u8(b'$');
        self.buf.put_slice(len.as_bytes());
        self.buf.put_slice(b"\r\n");
        self.buf.put_slice(data);
        self.buf.put_slice(b"\r\n");
    }

    /// A bulk string holding the decimal form of `n`.
    pub fn bulk_int(&mut self, n: i64) {
        let mut tmp = itoa::Buffer::new();
        self.bulk(tmp.format(n).as_bytes());
    }

    /// The null bulk string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        if self.resp3 {
            self.buf.put_slice(b"_\r\n");
        } else {
            self.buf.put_slice(b"$-1\r\n");
        }
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        if self.resp3 {
            self.buf.put_slice(b"_\r\n");
        } else {
            self.buf.put_slice(b"*-1\r\n");
        }
    }

    /// An array header of `n` elements.
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map header of `n` key-value pairs (a flat array of `2n` in RESP2).
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }

    /// A set header of `n` elements (an array in RESP2).
    pub fn set(&mut self, n: usize) {
        self.header(if self.resp3 { b'~' } else { b'*' }, n as i64);
    }

    /// A push header of `n` elements (an array in RESP2).
    pub fn push(&mut self, n: usize) {
        self.header(if self.resp3 { b'>' } else { b'*' }, n as i64);
    }

    /// An attribute header of `n` pairs. RESP2 has no attributes: callers
    /// must not send them to RESP2 clients.
    pub fn attribute(&mut self, n: usize) {
        self.header(b'|', n as i64);
    }

    /// A double: `,1.5` in RESP3, the bulk string `"1.5"` in RESP2.
    pub fn double(&mut self, d: f64) {
        let mut tmp = [0u8; 32];
        let n = format_double(d, &mut tmp);
        if self.resp3 {
            self.line(b',', &tmp[..n]);
        } else {
            self.bulk(&tmp[..n]);
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn bool(&mut self, b: bool) {
        match (self.resp3, b) {
            (true, true) => self.buf.put_slice(b"#t\r\n"),
            (true, false) => self.buf.put_slice(b"#f\r\n"),
            (false, true) => self.buf.put_slice(b":1\r\n"),
            (false, false) => self.buf.put_slice(b":0\r\n"),
        }
    }

    /// A verbatim string with a three-letter format such as `txt`; a bulk
    /// string in RESP2.
    pub fn verbatim(&mut self, format: &str, data: &[u8]) {
        if !self.resp3 {
            self.bulk(data);
            return;
        }
        debug_assert_eq!(format.len(), 3);
        self.header(b'=', (data.len() + 4) as i64);
        self.buf.reserve(data.len() + 6);
        self.buf.put_slice(format.as_bytes());
        self.buf.put_u8(b':');
        self.buf.put_slice(data);
        self.buf.put_slice(b"\r\n");
    }

    /// A big number given as decimal digits; a bulk string in RESP2.
    pub fn big_number(&mut self, digits: &str) {
        if self.resp3 {
            self.line(b'(', digits.as_bytes());
        } else {
            self.bulk(digits.as_bytes());
        }
    }

    /// Bytes that are already valid RESP for this client.
    pub fn raw(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Starts an aggregate whose length is not known yet. Write its elements,
    /// then call one of the `set_deferred_*` methods.
    pub fn deferred(&mut self) -> DeferredLen {
        DeferredLen(self.buf.len())
    }

    fn fill_deferred(&mut self, at: DeferredLen, prefix: u8, n: usize) {
        let tail = self.buf.split_off(at.0);
        self.header(prefix, n as i64);
        self.buf.unsplit(tail);
    }

    /// Fills in a deferred array length.
    pub fn set_deferred_array(&mut self, at: DeferredLen, n: usize) {
        self.fill_deferred(at, b'*', n);
    }

    /// Fills in a deferred map length (`n` pairs).
    pub fn set_deferred_map(&mut self, at: DeferredLen, n: usize) {
        if self.resp3 {
            self.fill_deferred(at, b'%', n);
        } else {
            self.fill_deferred(at, b'*', 2 * n);
        }
    }

    /// Fills in a deferred set length.
    pub fn set_deferred_set(&mut self, at: DeferredLen, n: usize) {
        let prefix = if self.resp3 { b'~' } else { b'*' };
        self.fill_deferred(at, prefix, n);
    }
}

/// Writes `d` the way Redis 7.2+ writes a double reply (`addReplyDouble`,
/// through `d2string` and `fpconv_dtoa`) and returns the number of bytes
/// written to `out`.
///
/// The shape, byte for byte as the real server prints it:
///
/// - `nan`, `inf`, `-inf`, `0` and `-0`;
/// - integral values within ±2^62 as plain integers (`3`, `1000000000000000`,
///   `123456789012345680`);
/// - anything else as Grisu2 digits (round-trip exact): plain decimals when
///   the decimal exponent is small (`0.1`, `1.5`, `0.00001`,
///   `1234.123456789`), otherwise scientific notation with a signed,
///   unpadded exponent (`1e+20`, `1e-7`, `1.5e+300`, `5e-324`,
///   `1.23456123456789e+5`).
///
/// ```
/// let mut buf = [0u8; 32];
/// let n = viator_protocol::format_double(1e20, &mut buf);
/// assert_eq!(&buf[..n], b"1e+20");
/// let n = viator_protocol::format_double(0.1, &mut buf);
/// assert_eq!(&buf[..n], b"0.1");
/// ```
pub fn format_double(d: f64, out: &mut [u8; 32]) -> usize {
    crate::dtoa::d2string(d, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(d: f64) -> String {
        let mut buf = [0u8; 32];
        let n = format_double(d, &mut buf);
        String::from_utf8(buf[..n].to_vec()).expect("ascii")
    }

    #[test]
    fn doubles_match_redis() {
        let cases: &[(f64, &str)] = &[
            (0.1, "0.1"),
            (1.5, "1.5"),
            (100.0, "100"),
            (3.0, "3"),
            (-3.0, "-3"),
            (1e15, "1000000000000000"),
            (1e16, "10000000000000000"),
            (1e17, "100000000000000000"),
            (1e20, "1e+20"),
            (1e21, "1e+21"),
            (1e22, "1e+22"),
            (1e23, "99999999999999990000000"),
            (1e-4, "0.0001"),
            (1e-5, "0.00001"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (9.5e-5, "0.000095"),
            (123456789012345678.0, "123456789012345680"),
            (4611686018427387904.0, "4611686018427387904"),
            (-4611686018427387904.0, "-4611686018427387904"),
            (9223372036854775807.0, "9223372036854776000"),
            (18446744073709551616.0, "18446744073709552000"),
            (123456.123456789, "1.23456123456789e+5"),
            (1234.123456789, "1234.123456789"),
            (-0.0, "-0"),
            (0.0, "0"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN, "-1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (1.5e300, "1.5e+300"),
            (-1.5e-300, "-1.5e-300"),
            (1e100, "1e+100"),
            (1e-100, "1e-100"),
            (2.0 / 3.0, "0.6666666666666666"),
            (2.71, "2.71"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-f64::NAN, "nan"),
        ];
        for &(d, want) in cases {
            assert_eq!(fmt(d), want, "formatting {d:e}");
        }
    }

    /// Vectors produced by Redis's own `d2string`/`fpconv_dtoa` compiled
    /// from C: `<f64 bits in hex> <text>` per line.
    #[test]
    fn doubles_match_reference_vectors() {
        let data = include_str!("../tests/data/fpconv_vectors.txt");
        let mut n = 0;
        for line in data.lines() {
            let (hex, want) = line.split_once(' ').expect("vector line");
            let bits = u64::from_str_radix(hex, 16).expect("hex bits");
            let d = f64::from_bits(bits);
            assert_eq!(fmt(d), want, "bits {hex}");
            n += 1;
        }
        assert!(n > 2000);
    }

    /// The same check against a large corpus made by the C reference;
    /// run with `VIATOR_FPCONV_CORPUS=path cargo test -- --ignored`.
    #[test]
    #[ignore = "needs a corpus file generated by the C reference"]
    fn doubles_match_reference_corpus() {
        let path = std::env::var("VIATOR_FPCONV_CORPUS").expect("VIATOR_FPCONV_CORPUS");
        let data = std::fs::read_to_string(path).expect("corpus");
        for line in data.lines() {
            let (hex, want) = line.split_once(' ').expect("corpus line");
            let d = f64::from_bits(u64::from_str_radix(hex, 16).expect("hex"));
            assert_eq!(fmt(d), want, "bits {hex}");
        }
    }

    #[test]
    fn doubles_round_trip() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let d = f64::from_bits(x);
            if !d.is_finite() {
                continue;
            }
            let s = fmt(d);
            let back: f64 = s.parse().expect("parses");
            assert_eq!(back.to_bits(), d.to_bits(), "{s}");
        }
    }

    #[test]
    fn double_replies_resp2_and_resp3() {
        let mut r = ReplyBuf::new();
        r.double(1.5);
        r.double(f64::INFINITY);
        assert_eq!(r.as_bytes(), b"$3\r\n1.5\r\n$3\r\ninf\r\n");
        let mut r = ReplyBuf::new();
        r.set_resp3(true);
        r.double(1e20);
        r.double(-0.0);
        assert_eq!(r.as_bytes(), b",1e+20\r\n,-0\r\n");
    }

    #[test]
    fn simple_values() {
        let mut r = ReplyBuf::with_capacity(64);
        assert!(r.is_empty());
        r.ok();
        r.simple("PONG");
        r.simple_bytes(b"a\r\nb");
        r.int(0);
        r.int(1);
        r.int(-42);
        r.bulk(b"hello");
        r.bulk(b"");
        r.bulk_int(1234);
        assert_eq!(
            r.as_bytes(),
            &b"+OK\r\n+PONG\r\n+a  b\r\n:0\r\n:1\r\n:-42\r\n$5\r\nhello\r\n$0\r\n\r\n$4\r\n1234\r\n"[..]
        );
        assert_eq!(r.len(), r.as_bytes().len());
    }

    #[test]
    fn errors_are_recorded_and_single_line() {
        let mut r = ReplyBuf::new();
        assert!(!r.has_errors());
        r.error("ERR bad\r\nthing");
        r.error("WRONGTYPE Operation against a key holding the wrong kind of value");
        assert!(r.has_errors());
        assert_eq!(
            r.take_errors(),
            vec!["ERR".to_string(), "WRONGTYPE".to_string()]
        );
        assert!(!r.has_errors());
        assert!(r.as_bytes().starts_with(b"-ERR bad  thing\r\n-WRONGTYPE "));
    }

    #[test]
    fn resp2_downgrades() {
        let mut r = ReplyBuf::new();
        r.null();
        r.null_array();
        r.map(2);
        r.set(3);
        r.push(1);
        r.bool(true);
        r.bool(false);
        r.verbatim("txt", b"hi");
        r.big_number("12345678901234567890");
        assert_eq!(
            r.as_bytes(),
            &b"$-1\r\n*-1\r\n*4\r\n*3\r\n*1\r\n:1\r\n:0\r\n$2\r\nhi\r\n$20\r\n12345678901234567890\r\n"[..]
        );
    }

    #[test]
    fn resp3_types() {
        let mut r = ReplyBuf::new();
        r.set_resp3(true);
        assert!(r.is_resp3());
        r.null();
        r.null_array();
        r.map(2);
        r.set(3);
        r.push(1);
        r.attribute(1);
        r.bool(true);
        r.bool(false);
        r.verbatim("txt", b"hi");
        r.big_number("-1");
        assert_eq!(
            r.as_bytes(),
            &b"_\r\n_\r\n%2\r\n~3\r\n>1\r\n|1\r\n#t\r\n#f\r\n=6\r\ntxt:hi\r\n(-1\r\n"[..]
        );
    }

    #[test]
    fn deferred_lengths() {
        let mut r = ReplyBuf::new();
        r.simple("x");
        let at = r.deferred();
        r.bulk(b"a");
        r.bulk(b"b");
        r.set_deferred_array(at, 2);
        let m = r.deferred();
        r.bulk(b"k");
        r.int(1);
        r.set_deferred_map(m, 1);
        assert_eq!(
            r.as_bytes(),
            &b"+x\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$1\r\nk\r\n:1\r\n"[..]
        );
        let mut r = ReplyBuf::new();
        r.set_resp3(true);
        let m = r.deferred();
        r.set_deferred_map(m, 0);
        let s = r.deferred();
        r.int(5);
        r.set_deferred_set(s, 1);
        assert_eq!(r.as_bytes(), b"%0\r\n~1\r\n:5\r\n");
    }

    #[test]
    fn truncate_and_raw() {
        let mut r = ReplyBuf::new();
        r.ok();
        let len = r.len();
        r.bulk(b"discard me");
        r.truncate(len);
        r.raw(b":7\r\n");
        assert_eq!(r.as_bytes(), b"+OK\r\n:7\r\n");
        assert_eq!(&r.buffer_mut()[..], b"+OK\r\n:7\r\n");
    }
}
