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

/// Writes `d` as Redis replies doubles: the shortest text that reads back as
/// the same value, `inf`, `-inf` or `nan`, plain notation for exponents from
/// -4 to 16 and `1e+20`-style scientific notation outside. Returns the number
/// of bytes written to `out`.
pub fn format_double(d: f64, out: &mut [u8; 32]) -> usize {
    if d.is_nan() {
        out[..3].copy_from_slice(b"nan");
        return 3;
    }
    if d.is_infinite() {
        let s: &[u8] = if d > 0.0 { b"inf" } else { b"-inf" };
        out[..s.len()].copy_from_slice(s);
        return s.len();
    }
    if d == 0.0 {
        let s: &[u8] = if d.is_sign_negative() { b"-0" } else { b"0" };
        out[..s.len()].copy_from_slice(s);
        return s.len();
    }
    // ryu gives the shortest round-tripping digits; re-lay them out in the
    // %g-like shape Redis's fpconv_dtoa uses.
    let mut rb = ryu::Buffer::new();
    let s = rb.format_finite(d).as_bytes();
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    // Split into digits and a decimal exponent: value = 0.DIGITS * 10^exp10.
    let (mantissa, exp_part) = match s.iter().position(|&c| c == b'e') {
        Some(i) => (&s[..i], std::str::from_utf8(&s[i + 1..]).ok().and_then(|e| e.parse::<i32>().ok()).unwrap_or(0)),
        None => (s, 0),
    };
    let mut digits = [0u8; 24];
    let mut nd = 0;
    let mut point = None;
    for &c in mantissa {
        if c == b'.' {
            point = Some(nd);
        } else if nd < digits.len() {
            digits[nd] = c;
            nd += 1;
        }
    }
    let mut int_len = point.unwrap_or(nd) as i32 + exp_part;
    // Strip leading zeros.
    let mut start = 0;
    while start < nd - 1 && digits[start] == b'0' {
        start += 1;
        int_len -= 1;
    }
    // Strip trailing zeros.
    let mut end = nd;
    while end > start + 1 && digits[end - 1] == b'0' {
        end -= 1;
    }
    let digits = &digits[start..end];
    let sci_exp = int_len - 1;
    let mut w = 0;
    let mut put = |b: u8, w: &mut usize| {
        out[*w] = b;
        *w += 1;
    };
    if neg {
        put(b'-', &mut w);
    }
    if (-4..17).contains(&sci_exp) {
        if int_len <= 0 {
            put(b'0', &mut w);
            put(b'.', &mut w);
            for _ in 0..(-int_len) {
                put(b'0', &mut w);
            }
            for &c in digits {
                put(c, &mut w);
            }
        } else {
            for i in 0..int_len.max(digits.len() as i32) {
                if i == int_len {
                    put(b'.', &mut w);
                }
                put(digits.get(i as usize).copied().unwrap_or(b'0'), &mut w);
            }
        }
    } else {
        put(digits[0], &mut w);
        if digits.len() > 1 {
            put(b'.', &mut w);
            for &c in &digits[1..] {
                put(c, &mut w);
            }
        }
        put(b'e', &mut w);
        put(if sci_exp < 0 { b'-' } else { b'+' }, &mut w);
        let e = sci_exp.unsigned_abs();
        if e >= 100 {
            put(b'0' + (e / 100) as u8, &mut w);
        }
        put(b'0' + ((e / 10) % 10) as u8, &mut w);
        put(b'0' + (e % 10) as u8, &mut w);
    }
    w
}
