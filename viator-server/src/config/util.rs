//! Redis's little string helpers that the configuration code leans on,
//! reproduced byte for byte: `sdssplitargs`, `sdscatrepr`, `string2ll`,
//! `strtoll`, `memtoull`, `string2d` and the memory formatter of
//! CONFIG REWRITE. Their quirks (what they accept, how they overflow) are
//! part of what a config file or a CONFIG SET means, so they are not
//! "improved" here.

/// C's `isspace` in the "C" locale.
pub fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Splits a line into arguments like Redis's `sdssplitargs`: blanks
/// separate arguments, `"..."` supports `\n \r \t \b \a \xHH` and `\<any>`
/// escapes, `'...'` supports `\'`; a closing quote must be followed by a
/// blank or the end of the line. Returns `None` on unbalanced quotes.
///
/// The input ends at its first NUL byte, as the C string it models does.
/// The splitting is the request parser's, which inline commands use too.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    viator_protocol::split_line(line)
}

pub use viator_protocol::cat_repr;

/// [`cat_repr`] into a new buffer.
pub fn repr(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    cat_repr(&mut out, s);
    out
}

/// Redis's strict `string2ll`: an optional `-`, no `+`, no leading zeros,
/// no blanks, no overflow, at most 20 bytes.
pub fn string2ll(s: &[u8]) -> Option<i64> {
    viator_types::number::parse_i64(s)
}

/// C's `strtoll(s, &end, base)` for bases 8 and 10: skips leading blanks,
/// takes an optional sign, clamps on overflow (reported as the third
/// value). Returns the value and the index where parsing stopped; with no
/// digits at all the index is 0, as C sets `end` back to the start.
pub fn strtoll(s: &[u8], base: u32) -> (i64, usize, bool) {
    let end_of_str = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    let s = &s[..end_of_str];
    let mut p = 0;
    while p < s.len() && is_space(s[p]) {
        p += 1;
    }
    let mut negative = false;
    if p < s.len() && (s[p] == b'+' || s[p] == b'-') {
        negative = s[p] == b'-';
        p += 1;
    }
    let start = p;
    let mut acc: u64 = 0;
    let mut overflow = false;
    while p < s.len() {
        let d = match s[p] {
            c @ b'0'..=b'9' if u32::from(c - b'0') < base => u64::from(c - b'0'),
            _ => break,
        };
        match acc
            .checked_mul(u64::from(base))
            .and_then(|v| v.checked_add(d))
        {
            Some(v) => acc = v,
            None => overflow = true,
        }
        p += 1;
    }
    if p == start {
        return (0, 0, false);
    }
    let limit = if negative {
        (i64::MAX as u64) + 1
    } else {
        i64::MAX as u64
    };
    if overflow || acc > limit {
        let v = if negative { i64::MIN } else { i64::MAX };
        return (v, p, true);
    }
    let v = if negative {
        (acc as i64).wrapping_neg()
    } else {
        acc as i64
    };
    (v, p, false)
}

/// Whether `strtoll(s, &end, 10)` consumes the whole string (`*end == 0`),
/// returning the (clamped) value. With no digits C leaves `end` at the
/// start, so only the empty string parses (as 0).
pub fn strtoll_full(s: &[u8]) -> Option<i64> {
    let s = until_nul(s);
    let (v, end, _) = strtoll(s, 10);
    (end == s.len()).then_some(v)
}

/// The bytes of `s` before its first NUL (what C sees of a string).
pub fn until_nul(s: &[u8]) -> &[u8] {
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    &s[..end]
}

pub use viator_types::number::memtoull;

/// Redis's `string2d`: a complete `strtod` parse with no leading or
/// trailing blanks, no overflow and no NaN.
pub fn string2d(s: &[u8]) -> Option<f64> {
    if s.is_empty() || is_space(s[0]) || is_space(s[s.len() - 1]) || s.len() >= 5 * 1024 {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let lower = text.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    let v: f64 = if matches!(body, "inf" | "infinity") {
        if lower.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }
    } else {
        // Rust's parser accepts what strtod accepts for decimal input,
        // except that it also takes "nan" (rejected below) and
        // "infinity" (handled above). Hex floats are not supported.
        text.parse().ok()?
    };
    if v.is_nan() {
        return None;
    }
    if v.is_infinite() && !matches!(body, "inf" | "infinity") {
        // strtod reports ERANGE on overflow.
        return None;
    }
    Some(v)
}

/// `printf("%f")` followed by Redis's `trimDoubleString` (drops trailing
/// zeros and a trailing dot).
pub fn format_percentile(v: f64) -> String {
    let mut s = format!("{v:.6}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// CONFIG REWRITE's memory formatting: `Ngb`, `Nmb`, `Nkb` when the value
/// is a non-zero multiple, plain bytes otherwise (printed as a signed
/// `long long`, like `%lld`).
pub fn format_memory(bytes: i64) -> String {
    const KB: i64 = 1024;
    const MB: i64 = 1024 * 1024;
    const GB: i64 = 1024 * 1024 * 1024;
    if bytes != 0 && bytes % GB == 0 {
        format!("{}gb", bytes / GB)
    } else if bytes != 0 && bytes % MB == 0 {
        format!("{}mb", bytes / MB)
    } else if bytes != 0 && bytes % KB == 0 {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

/// The text of C's `strerror` for an I/O error (without Rust's
/// " (os error N)" suffix).
pub fn strerror(err: &std::io::Error) -> String {
    if let Some(code) = err.raw_os_error() {
        let text = std::io::Error::from_raw_os_error(code).to_string();
        match text.rfind(" (os error ") {
            Some(pos) => text[..pos].to_string(),
            None => text,
        }
    } else {
        err.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Option<Vec<String>> {
        split_args(s.as_bytes()).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    #[test]
    fn split_args_quotes() {
        assert_eq!(args("a b  c").unwrap(), ["a", "b", "c"]);
        assert_eq!(args("  ").unwrap(), Vec::<String>::new());
        assert_eq!(args(r#"set "a b" 'c d'"#).unwrap(), ["set", "a b", "c d"]);
        assert_eq!(args(r#""\x41\n""#).unwrap(), ["A\n"]);
        assert_eq!(args(r#"'it\'s'"#).unwrap(), ["it's"]);
        assert_eq!(args(r#"ab"cd""#).unwrap(), ["abcd"]);
        assert_eq!(args(r#""""#).unwrap(), [""]);
        assert!(args(r#""abc"#).is_none());
        assert!(args(r#""abc"d"#).is_none());
        assert!(args("'abc").is_none());
        assert_eq!(args(r#""\xZZ""#).unwrap(), ["xZZ"]);
    }

    #[test]
    fn repr_round_trips() {
        let raw = b"a\"b\\c\n\x01\xff d";
        let r = repr(raw);
        assert_eq!(r, b"\"a\\\"b\\\\c\\n\\x01\\xff d\"");
        assert_eq!(split_args(&r).unwrap(), vec![raw.to_vec()]);
    }

    #[test]
    fn string2ll_is_strict() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-5"), Some(-5));
        assert_eq!(string2ll(b"05"), None);
        assert_eq!(string2ll(b"+5"), None);
        assert_eq!(string2ll(b" 5"), None);
        assert_eq!(string2ll(b"-0"), None);
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(string2ll(b"9223372036854775808"), None);
    }

    #[test]
    fn memtoull_units() {
        assert_eq!(memtoull(b"1k"), Some(1000));
        assert_eq!(memtoull(b"1KB"), Some(1024));
        assert_eq!(memtoull(b"2mb"), Some(2 * 1024 * 1024));
        assert_eq!(memtoull(b"3G"), Some(3_000_000_000));
        assert_eq!(memtoull(b"5b"), Some(5));
        assert_eq!(memtoull(b""), Some(0));
        assert_eq!(memtoull(b"kb"), Some(0));
        assert_eq!(memtoull(b"-1"), None);
        assert_eq!(memtoull(b"1.5mb"), None);
        assert_eq!(memtoull(b"1x"), None);
        assert_eq!(memtoull(b"99999999999999999999999"), Some(u64::MAX));
        assert_eq!(
            memtoull(b"99999999999999999999kb"),
            Some(u64::MAX.wrapping_mul(1024))
        );
    }

    #[test]
    fn strtoll_like_c() {
        assert_eq!(strtoll(b" +12x", 10), (12, 4, false));
        assert_eq!(strtoll(b"", 10), (0, 0, false));
        assert_eq!(strtoll(b"777", 8), (0o777, 3, false));
        assert_eq!(strtoll(b"8", 8), (0, 0, false));
        assert_eq!(strtoll_full(b"12"), Some(12));
        assert_eq!(strtoll_full(b""), Some(0));
        assert_eq!(strtoll_full(b"1a"), None);
        assert_eq!(strtoll_full(b"a"), None);
    }

    #[test]
    fn formats() {
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_memory(1024), "1kb");
        assert_eq!(format_memory(3 << 30), "3gb");
        assert_eq!(format_memory(1000), "1000");
        assert_eq!(format_percentile(99.9), "99.9");
        assert_eq!(format_percentile(50.0), "50");
        assert_eq!(string2d(b"99.9"), Some(99.9));
        assert_eq!(string2d(b" 1"), None);
        assert_eq!(string2d(b"nan"), None);
        assert_eq!(string2d(b"1e999"), None);
    }
}
