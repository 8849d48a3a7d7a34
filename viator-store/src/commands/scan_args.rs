//! The options of SCAN, HSCAN, SSCAN and ZSCAN (Redis's `scanGenericCommand`),
//! parsed once for all four.

use crate::command::Ctx;
use crate::errors;

/// Which SCAN command the options are for: each accepts its own extras.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanOf {
    /// SCAN: `TYPE`.
    Keys,
    /// HSCAN: `NOVALUES`.
    Hash,
    /// SSCAN: nothing more.
    Set,
    /// ZSCAN: `NOSCORES`.
    ZSet,
}

/// Parsed SCAN options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScanArgs<'a> {
    /// COUNT (10 by default).
    pub count: i64,
    /// MATCH, `None` for none or `*` (which matches everything, the empty
    /// string included).
    pub pattern: Option<&'a [u8]>,
    /// SCAN's TYPE.
    pub type_name: Option<&'a [u8]>,
    /// HSCAN's NOVALUES.
    pub novalues: bool,
    /// ZSCAN's NOSCORES.
    pub noscores: bool,
}

/// Parses the options from argument `from` on, with Redis's errors (written
/// to the reply, `None` returned): a COUNT below 1 or an unknown option is a
/// syntax error; NOVALUES and NOSCORES outside HSCAN and ZSCAN say where
/// they belong.
pub(crate) fn parse<'a>(ctx: &mut Ctx<'a>, from: usize, of: ScanOf) -> Option<ScanArgs<'a>> {
    let mut a = ScanArgs {
        count: 10,
        pattern: None,
        type_name: None,
        novalues: false,
        noscores: false,
    };
    let mut i = from;
    while i < ctx.argc() {
        let remaining = ctx.argc() - i;
        if ctx.arg_is(i, "count") && remaining >= 2 {
            let n = ctx.int_arg(i + 1)?;
            if n < 1 {
                ctx.out.error(errors::SYNTAX);
                return None;
            }
            a.count = n;
            i += 2;
        } else if ctx.arg_is(i, "match") && remaining >= 2 {
            let p = ctx.arg(i + 1);
            a.pattern = (p != b"*").then_some(p);
            i += 2;
        } else if of == ScanOf::Keys && ctx.arg_is(i, "type") && remaining >= 2 {
            a.type_name = Some(ctx.arg(i + 1));
            i += 2;
        } else if ctx.arg_is(i, "novalues") {
            if of != ScanOf::Hash {
                ctx.out
                    .error("ERR NOVALUES option can only be used in HSCAN");
                return None;
            }
            a.novalues = true;
            i += 1;
        } else if ctx.arg_is(i, "noscores") {
            if of != ScanOf::ZSet {
                ctx.out
                    .error("ERR NOSCORES option can only be used in ZSCAN");
                return None;
            }
            a.noscores = true;
            i += 1;
        } else {
            ctx.out.error(errors::SYNTAX);
            return None;
        }
    }
    Some(a)
}

/// Argument `i` as a SCAN cursor, or `ERR invalid cursor` written to the
/// reply.
pub(crate) fn cursor_arg(ctx: &mut Ctx<'_>, i: usize) -> Option<u64> {
    let cursor = parse_cursor(ctx.arg(i));
    if cursor.is_none() {
        ctx.out.error(errors::INVALID_CURSOR);
    }
    cursor
}

/// Parses a SCAN cursor as Redis 7.2+'s `parseScanCursorOrReply`, which
/// calls `string2ull`: a canonical integer must not be negative; anything
/// else goes through C's `strtoull(s, &end, 10)`, which skips leading
/// blanks, takes a sign (`-05` wraps around as C does), and must consume
/// the whole string without overflow. The string ends at a NUL byte, as the
/// C string does. (Redis 7.0 used `strtoul` with other rules: an empty
/// cursor and `-1` were accepted, a leading blank refused.)
fn parse_cursor(s: &[u8]) -> Option<u64> {
    let s = s.split(|&b| b == 0).next().unwrap_or(b"");
    if let Some(n) = viator_types::number::parse_i64(s) {
        return u64::try_from(n).ok();
    }
    let blanks = s
        .iter()
        .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count();
    let s = &s[blanks..];
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}
