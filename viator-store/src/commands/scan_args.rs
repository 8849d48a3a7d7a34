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
