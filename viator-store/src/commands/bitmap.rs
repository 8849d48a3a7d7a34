//! SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO (Redis's `bitops.c`).
//!
//! A bitmap is an ordinary string value: bit 0 is the most significant bit
//! of the first byte. Reads see an integer-encoded string as its decimal
//! text; every write turns the value into a growable heap string (OBJECT
//! ENCODING `raw`), as Redis's `dbUnshareStringValue` does, and grows it
//! with zero bytes up to the highest bit it touches. Offsets are limited by
//! proto-max-bulk-len (`bit offset is not an integer or out of range`).
//!
//! The heavy commands read their sources in place under the shard locks:
//! BITCOUNT and BITPOS scan the stored bytes with the word-at-a-time
//! kernels of [`viator_types::bits`], and BITOP borrows every source at
//! once (shared borrows of the locked shards) instead of copying them, so
//! that a 512 MB BITOP allocates only its result.
//!
//! Each handler makes its checks in the order of its Redis counterpart, so
//! that a request with several faults gets Redis's error: arguments first,
//! then the key's type.

use std::sync::atomic::Ordering;

use viator_types::bits::{self, BitOp, Overflow};
use viator_types::entry::{Entry, NewValue, StrRef, ValueType};
use viator_types::number::parse_i64;

use crate::command::{CommandSpec, Ctx, KeySpec, acl, flags};
use crate::errors;

/// An offset that does not parse, is negative, or lies past
/// proto-max-bulk-len.
const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
/// SETBIT's value other than 0 or 1.
const BAD_BIT: &str = "ERR bit is not an integer or out of range";
/// BITPOS's bit other than 0 or 1.
const BAD_BITPOS_BIT: &str = "ERR The bit argument must be 1 or 0.";
/// BITOP NOT with more than one source.
const NOT_ONE_SOURCE: &str = "ERR BITOP NOT must be called with a single source key.";
/// A BITFIELD type other than `i1`..`i64`, `u1`..`u63`.
const BAD_TYPE: &str = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
/// BITFIELD OVERFLOW with another word than WRAP, SAT or FAIL.
const BAD_OVERFLOW: &str = "ERR Invalid OVERFLOW type specified";
/// BITFIELD_RO with SET or INCRBY.
const RO_ONLY_GET: &str = "ERR BITFIELD_RO only supports the GET subcommand";

const KEY_RO: &[KeySpec] = &[KeySpec::single(1, &["RO", "ACCESS"])];
const BITFIELD_KEYS: &[KeySpec] = &[KeySpec {
    notes: "This command allows both access and modification of the key",
    ..KeySpec::single(1, &["RW", "ACCESS", "UPDATE", "VARIABLE_FLAGS"])
}];
const UNIT_HISTORY: &[(&str, &str)] = &[("7.0.0", "Added the `BYTE|BIT` option.")];

/// The commands of this family.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "bitcount",
        arity: -2,
        flags: flags::READONLY,
        acl: acl::BITMAP,
        keys: KEY_RO,
        group: "bitmap",
        summary: "Counts the number of set bits (population counting) in a string.",
        since: "2.6.0",
        complexity: "O(N)",
        history: UNIT_HISTORY,
        args: "key:key [range:{start:integer end:integer [unit:(BYTE | BIT)@7.0.0]}]",
        handler: Some(bitcount),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bitfield",
        arity: -2,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::BITMAP,
        keys: BITFIELD_KEYS,
        group: "bitmap",
        summary: "Performs arbitrary bitfield integer operations on strings.",
        since: "3.2.0",
        complexity: "O(1) for each subcommand specified",
        args: "key:key [operation:(GET=get-block:{encoding:string offset:integer} \
               | write:{[OVERFLOW=overflow-block:(WRAP | SAT | FAIL)] \
               write-operation:(SET=set-block:{encoding:string offset:integer value:integer} \
               | INCRBY=incrby-block:{encoding:string offset:integer increment:integer})})...]",
        handler: Some(bitfield),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bitfield_ro",
        arity: -2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::BITMAP,
        keys: KEY_RO,
        group: "bitmap",
        summary: "Performs arbitrary read-only bitfield integer operations on strings.",
        since: "6.0.0",
        complexity: "O(1) for each subcommand specified",
        args: "key:key [GET=get-block:{encoding:string offset:integer}...+]",
        handler: Some(bitfield_ro),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bitop",
        arity: -4,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::BITMAP,
        keys: &[
            KeySpec::single(2, &["OW", "UPDATE"]),
            KeySpec::range(3, -1, 1, &["RO", "ACCESS"]),
        ],
        group: "bitmap",
        summary: "Performs bitwise operations on multiple strings, and stores the result.",
        since: "2.6.0",
        complexity: "O(N)",
        args: "operation:(AND | OR | XOR | NOT | DIFF | DIFF1 | ANDOR | ONE) destkey:key key:key...",
        handler: Some(bitop),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bitpos",
        arity: -3,
        flags: flags::READONLY,
        acl: acl::BITMAP,
        keys: KEY_RO,
        group: "bitmap",
        summary: "Finds the first set (1) or clear (0) bit in a string.",
        since: "2.8.7",
        complexity: "O(N)",
        history: UNIT_HISTORY,
        args: "key:key bit:integer [range:{start:integer [end-unit-block:{end:integer [unit:(BYTE | BIT)@7.0.0]}]}]",
        handler: Some(bitpos),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getbit",
        arity: 3,
        flags: flags::READONLY | flags::FAST,
        acl: acl::BITMAP,
        keys: KEY_RO,
        group: "bitmap",
        summary: "Returns a bit value by offset.",
        since: "2.2.0",
        complexity: "O(1)",
        args: "key:key offset:integer",
        handler: Some(getbit),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setbit",
        arity: 4,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::BITMAP,
        keys: &[KeySpec::single(1, &["RW", "ACCESS", "UPDATE"])],
        group: "bitmap",
        summary: "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.",
        since: "2.2.0",
        complexity: "O(1)",
        args: "key:key offset:integer value:integer",
        handler: Some(setbit),
        ..CommandSpec::DEFAULT
    },
];

// ---------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------

/// The argument as Redis's C code sees it: up to its first NUL byte.
fn c_str(arg: &[u8]) -> &[u8] {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    &arg[..end]
}

/// Whether an option argument is `word`, ignoring ASCII case, as Redis's
/// `strcasecmp` compares it.
fn is_token(arg: &[u8], word: &str) -> bool {
    c_str(arg).eq_ignore_ascii_case(word.as_bytes())
}

/// Redis's `getBitOffsetFromArgument`: a bit offset, or `#N` (N fields of
/// `field_bits` bits) when `field_bits` is not 0; at most
/// proto-max-bulk-len bytes into the string. Writes the error if not.
fn bit_offset(ctx: &mut Ctx<'_>, arg: &[u8], field_bits: u32) -> Option<u64> {
    let (digits, mul) = match arg.split_first() {
        Some((b'#', rest)) if field_bits > 0 => (rest, i64::from(field_bits)),
        _ => (arg, 1),
    };
    let max = ctx
        .store
        .settings
        .proto_max_bulk_len
        .load(Ordering::Relaxed);
    let offset = parse_i64(digits)
        .and_then(|n| n.checked_mul(mul))
        .filter(|&n| n >= 0 && ((n as u64) >> 3) < max);
    if offset.is_none() {
        ctx.out.error(BAD_OFFSET);
    }
    offset.map(|n| n as u64)
}

/// The byte length a string needs to hold bit `bit`.
fn bytes_for_bit(bit: u64) -> usize {
    usize::try_from((bit >> 3) + 1).unwrap_or(usize::MAX)
}

/// Redis's `sdsMakeRoomFor` limit on greedy growth: past 1 MB a string
/// grows by 1 MB at a time, not by doubling.
const MAX_PREALLOC: usize = 1024 * 1024;

/// Grows `buf` with zero bytes to `need` bytes (no-op if it is as long),
/// reserving room as Redis's `sdsgrowzero` does: double below 1 MB, 1 MB
/// more above, so that a bitmap grown bit by bit to 512 MB does not hold
/// up to twice that in capacity as `Vec`'s doubling would. Whether it grew.
fn grow_zeroed(buf: &mut Vec<u8>, need: usize) -> bool {
    if buf.len() >= need {
        return false;
    }
    if need > buf.capacity() {
        let room = need.saturating_add(need.min(MAX_PREALLOC));
        buf.reserve_exact(room - buf.len());
    }
    buf.resize(need, 0);
    true
}

/// Redis's start/end index rules for BITCOUNT and BITPOS: negative indexes
/// count from the end of the string (in bytes, or in bits for BIT), the
/// start is clamped to 0 and the end to the last index. `None` for an empty
/// range; else the inclusive range in bits.
fn bit_range(mut start: i64, mut end: i64, len: usize, in_bits: bool) -> Option<(u64, u64)> {
    let mut total = len as i64;
    if in_bits {
        total = total.saturating_mul(8);
    }
    if start < 0 {
        start = start.saturating_add(total);
    }
    if end < 0 {
        end = end.saturating_add(total);
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(if in_bits {
        (start, end)
    } else {
        (start * 8, end * 8 + 7)
    })
}

/// Parses an optional `BYTE|BIT` unit; writes a syntax error if it is
/// something else.
fn unit_arg(ctx: &mut Ctx<'_>, i: usize) -> Option<bool> {
    let a = ctx.arg(i);
    if is_token(a, "bit") {
        Some(true)
    } else if is_token(a, "byte") {
        Some(false)
    } else {
        ctx.out.error(errors::SYNTAX);
        None
    }
}

// ---------------------------------------------------------------------------
// SETBIT, GETBIT
// ---------------------------------------------------------------------------

fn setbit(ctx: &mut Ctx<'_>) {
    let Some(offset) = bit_offset(ctx, ctx.arg(2), 0) else {
        return;
    };
    let on = match parse_i64(ctx.arg(3)) {
        Some(v @ (0 | 1)) => v == 1,
        _ => {
            ctx.out.error(BAD_BIT);
            return;
        }
    };
    let key = ctx.arg(1);
    let need = bytes_for_bit(offset);
    let byte = need - 1;
    let mask = 0x80u8 >> (offset & 7);
    let mut ks = ctx.key(key);
    // (previous bit, whether the key changed, whether it existed)
    let (old, changed, existed) = match ks.write_typed_quiet(key, ValueType::String) {
        Err(e) => {
            ctx.out.error(e);
            return;
        }
        Ok(Some(mut e)) => {
            let Some(buf) = e.heap_str_mut() else {
                ctx.out.error(errors::WRONGTYPE);
                return;
            };
            let grew = grow_zeroed(buf, need);
            let old = buf[byte] & mask != 0;
            if grew || old != on {
                if on {
                    buf[byte] |= mask;
                } else {
                    buf[byte] &= !mask;
                }
            }
            (old, grew || old != on, true)
        }
        Ok(None) => (false, true, false),
    };
    if !existed {
        let mut buf = vec![0u8; need];
        if on {
            buf[byte] |= mask;
        }
        ks.add(Entry::new(key, NewValue::Heap(buf), None));
    } else if changed {
        ks.touch_watched(key);
    }
    drop(ks);
    if changed {
        ctx.store.add_dirty(1);
    }
    ctx.out.int(i64::from(old));
}

fn getbit(ctx: &mut Ctx<'_>) {
    let Some(offset) = bit_offset(ctx, ctx.arg(2), 0) else {
        return;
    };
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let bit = match ks.read(key) {
        None => false,
        Some(e) => match e.as_str() {
            Some(s) => s.with_bytes(|b| bits::get_bit(b, offset)),
            None => {
                ctx.out.error(errors::WRONGTYPE);
                return;
            }
        },
    };
    ctx.out.int(i64::from(bit));
}

// ---------------------------------------------------------------------------
// BITCOUNT, BITPOS
// ---------------------------------------------------------------------------

fn bitcount(ctx: &mut Ctx<'_>) {
    let argc = ctx.argc();
    let range = match argc {
        2 => None,
        4 | 5 => {
            let Some(start) = ctx.int_arg(2) else {
                return;
            };
            let Some(end) = ctx.int_arg(3) else {
                return;
            };
            let in_bits = if argc == 5 {
                let Some(b) = unit_arg(ctx, 4) else {
                    return;
                };
                b
            } else {
                false
            };
            Some((start, end, in_bits))
        }
        _ => {
            ctx.out.error(errors::SYNTAX);
            return;
        }
    };
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let n = match ks.read(key) {
        None => 0,
        Some(e) => match e.as_str() {
            // Counted in place, under the lock: no copy of a big value.
            Some(s) => s.with_bytes(|b| count_range(b, range)),
            None => {
                ctx.out.error(errors::WRONGTYPE);
                return;
            }
        },
    };
    drop(ks);
    ctx.out.int(n as i64);
}

/// BITCOUNT of `b` over the optional `(start, end, in_bits)` range.
fn count_range(b: &[u8], range: Option<(i64, i64, bool)>) -> u64 {
    let Some((start, end, in_bits)) = range else {
        return bits::popcount(b);
    };
    if start < 0 && end < 0 && start > end {
        return 0;
    }
    let Some((first, last)) = bit_range(start, end, b.len(), in_bits) else {
        return 0;
    };
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let mut n = bits::popcount(&b[fb..=lb]);
    // Bits of the edge bytes outside the range.
    let head = b[fb] & !(0xffu8 >> (first & 7));
    let tail = b[lb] & (0x7fu8 >> (last & 7));
    n -= u64::from(head.count_ones()) + u64::from(tail.count_ones());
    n
}

fn bitpos(ctx: &mut Ctx<'_>) {
    let bit = match ctx.int_arg(2) {
        Some(b @ (0 | 1)) => b == 1,
        Some(_) => {
            ctx.out.error(BAD_BITPOS_BIT);
            return;
        }
        None => return,
    };
    let argc = ctx.argc();
    // (start, end if given, unit is bits)
    let range = match argc {
        3 => None,
        4..=6 => {
            let Some(start) = ctx.int_arg(3) else {
                return;
            };
            let in_bits = if argc == 6 {
                let Some(b) = unit_arg(ctx, 5) else {
                    return;
                };
                b
            } else {
                false
            };
            let end = if argc >= 5 {
                let Some(e) = ctx.int_arg(4) else {
                    return;
                };
                Some(e)
            } else {
                None
            };
            Some((start, end, in_bits))
        }
        _ => {
            ctx.out.error(errors::SYNTAX);
            return;
        }
    };
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let pos = match ks.read(key) {
        // A missing key is an endless run of zeros.
        None => {
            if bit {
                -1
            } else {
                0
            }
        }
        Some(e) => match e.as_str() {
            Some(s) => s.with_bytes(|b| find_bit(b, bit, range)),
            None => {
                ctx.out.error(errors::WRONGTYPE);
                return;
            }
        },
    };
    drop(ks);
    ctx.out.int(pos);
}

/// BITPOS over the bytes of an existing string.
fn find_bit(b: &[u8], bit: bool, range: Option<(i64, Option<i64>, bool)>) -> i64 {
    let (start, end, in_bits) = range.unwrap_or((0, None, false));
    let end_given = end.is_some();
    let end = end.unwrap_or(if in_bits {
        (b.len() as i64).saturating_mul(8).saturating_add(7)
    } else {
        b.len() as i64 - 1
    });
    let Some((first, last)) = bit_range(start, end, b.len(), in_bits) else {
        return -1;
    };
    match first_bit_in(b, first, last, bit) {
        Some(p) => p as i64,
        None if bit || end_given => -1,
        // Looking for a zero with no end given: the string counts as
        // padded with zeros on the right, so the first bit past the range.
        None => ((last >> 3) + 1).saturating_mul(8) as i64,
    }
}

/// The first bit equal to `bit` among bits `first..=last` of `b` (both
/// within `b`).
fn first_bit_in(b: &[u8], first: u64, last: u64, bit: bool) -> Option<u64> {
    let (fb, lb) = (first >> 3, last >> 3);
    let head_end = if fb == lb { last } else { fb * 8 + 7 };
    if let Some(p) = (first..=head_end).find(|&i| bits::get_bit(b, i) == bit) {
        return Some(p);
    }
    if fb == lb {
        return None;
    }
    let middle = &b[(fb + 1) as usize..lb as usize];
    if let Some(p) = bits::first_bit(middle, bit) {
        return Some((fb + 1) * 8 + p);
    }
    (lb * 8..=last).find(|&i| bits::get_bit(b, i) == bit)
}

// ---------------------------------------------------------------------------
// BITOP
// ---------------------------------------------------------------------------

fn bitop(ctx: &mut Ctx<'_>) {
    let Some(op) = BitOp::parse(c_str(ctx.arg(1))) else {
        ctx.out.error(errors::SYNTAX);
        return;
    };
    let argc = ctx.argc();
    if op == BitOp::Not && argc != 4 {
        ctx.out.error(NOT_ONE_SOURCE);
        return;
    }
    if op.needs_two() && argc < 5 {
        ctx.out.error(&format!(
            "ERR BITOP {} must be called with at least two source keys.",
            op.name()
        ));
        return;
    }
    let dest = ctx.arg(2);
    let sources = &ctx.args[3..];
    let mut ks = ctx.keys(&ctx.args[2..]);
    // First pass: Redis's read lookups (stats, expiry, type check) in
    // order; an integer-encoded source is turned into its text.
    let mut texts: Vec<Option<Vec<u8>>> = Vec::with_capacity(sources.len());
    for &key in sources {
        let text = match ks.read(key) {
            None => None,
            Some(e) => match e.as_str() {
                Some(StrRef::Int(n)) => Some(itoa::Buffer::new().format(n).as_bytes().to_vec()),
                Some(StrRef::Bytes(_)) => Some(Vec::new()),
                None => {
                    ctx.out.error(errors::WRONGTYPE);
                    return;
                }
            },
        };
        texts.push(text);
    }
    // Second pass: borrow the stored bytes of every source at once.
    let result = {
        let refs: Vec<_> = sources.iter().map(|&k| ks.peek(k)).collect();
        let slices: Vec<&[u8]> = refs
            .iter()
            .zip(&texts)
            .map(
                |(r, text)| match (r.as_ref().and_then(|e| e.as_str()), text) {
                    (Some(StrRef::Bytes(b)), _) => b,
                    (_, Some(t)) => t.as_slice(),
                    _ => &[],
                },
            )
            .collect();
        bits::bitop(op, &slices)
    };
    let len = result.len();
    let old = if len > 0 {
        ks.set(Entry::new(dest, NewValue::Heap(result), None), false);
        ctx.store.add_dirty(1);
        None
    } else {
        let old = ks.remove(dest);
        if old.is_some() {
            ctx.store.add_dirty(1);
        }
        old
    };
    drop(ks);
    drop(old);
    ctx.out.int(len as i64);
}

// ---------------------------------------------------------------------------
// BITFIELD
// ---------------------------------------------------------------------------

/// What one BITFIELD operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set,
    Incrby,
}

/// One parsed BITFIELD operation.
#[derive(Debug, Clone, Copy)]
struct Field {
    op: FieldOp,
    offset: u64,
    bits: u32,
    signed: bool,
    /// SET's value or INCRBY's increment.
    value: i64,
    overflow: Overflow,
}

fn bitfield(ctx: &mut Ctx<'_>) {
    bitfield_generic(ctx, false);
}

fn bitfield_ro(ctx: &mut Ctx<'_>) {
    bitfield_generic(ctx, true);
}

/// Redis's `getBitfieldTypeFromArgument`: `i1`..`i64` or `u1`..`u63`.
fn field_type(arg: &[u8]) -> Option<(bool, u32)> {
    let (&sign, rest) = arg.split_first()?;
    let signed = match sign {
        b'i' => true,
        b'u' => false,
        _ => return None,
    };
    let bits = parse_i64(c_str(rest))?;
    let max = if signed { 64 } else { 63 };
    (1..=max).contains(&bits).then_some((signed, bits as u32))
}

/// Parses the operations; `None` once an error is written.
fn parse_fields(ctx: &mut Ctx<'_>) -> Option<Vec<Field>> {
    let argc = ctx.argc();
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < argc {
        let remaining = argc - j - 1;
        let sub = ctx.arg(j);
        let op = if is_token(sub, "get") && remaining >= 2 {
            FieldOp::Get
        } else if is_token(sub, "set") && remaining >= 3 {
            FieldOp::Set
        } else if is_token(sub, "incrby") && remaining >= 3 {
            FieldOp::Incrby
        } else if is_token(sub, "overflow") && remaining >= 1 {
            let w = ctx.arg(j + 1);
            overflow = if is_token(w, "wrap") {
                Overflow::Wrap
            } else if is_token(w, "sat") {
                Overflow::Sat
            } else if is_token(w, "fail") {
                Overflow::Fail
            } else {
                ctx.out.error(BAD_OVERFLOW);
                return None;
            };
            j += 2;
            continue;
        } else {
            ctx.out.error(errors::SYNTAX);
            return None;
        };
        let Some((signed, bits)) = field_type(ctx.arg(j + 1)) else {
            ctx.out.error(BAD_TYPE);
            return None;
        };
        let offset = bit_offset(ctx, ctx.arg(j + 2), bits)?;
        let value = if op == FieldOp::Get {
            0
        } else {
            ctx.int_arg(j + 3)?
        };
        fields.push(Field {
            op,
            offset,
            bits,
            signed,
            value,
            overflow,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    Some(fields)
}

fn bitfield_generic(ctx: &mut Ctx<'_>, read_only: bool) {
    let Some(fields) = parse_fields(ctx) else {
        return;
    };
    let key = ctx.arg(1);
    let highest = fields
        .iter()
        .filter(|f| f.op != FieldOp::Get)
        .map(|f| f.offset + u64::from(f.bits) - 1)
        .max();
    let Some(highest) = highest else {
        // Only GETs: a read lookup, the key may be missing.
        let mut ks = ctx.key(key);
        match ks.read(key) {
            None => {
                ctx.out.array(fields.len());
                for f in &fields {
                    ctx.out.int(read_field(&[], f));
                }
            }
            Some(e) => match e.as_str() {
                Some(s) => s.with_bytes(|b| {
                    ctx.out.array(fields.len());
                    for f in &fields {
                        ctx.out.int(read_field(b, f));
                    }
                }),
                None => ctx.out.error(errors::WRONGTYPE),
            },
        }
        return;
    };
    if read_only {
        ctx.out.error(RO_ONLY_GET);
        return;
    }
    let need = bytes_for_bit(highest);
    let mut ks = ctx.key(key);
    let mut fresh: Option<Vec<u8>> = None;
    let changes = {
        let mut found = match ks.write_typed_quiet(key, ValueType::String) {
            Ok(found) => found,
            Err(e) => {
                ctx.out.error(e);
                return;
            }
        };
        let buf = match found.as_mut() {
            Some(e) => match e.heap_str_mut() {
                Some(buf) => buf,
                None => {
                    ctx.out.error(errors::WRONGTYPE);
                    return;
                }
            },
            None => fresh.insert(Vec::with_capacity(need)),
        };
        let grew = grow_zeroed(buf, need);
        ctx.out.array(fields.len());
        let mut changes = 0u64;
        for f in &fields {
            if f.op == FieldOp::Get {
                ctx.out.int(read_field(buf, f));
                continue;
            }
            match write_field(buf, f) {
                Some((reply, changed)) => {
                    ctx.out.int(reply);
                    if grew || changed {
                        changes += 1;
                    }
                }
                None => ctx.out.null(),
            }
        }
        changes
    };
    if let Some(buf) = fresh {
        ks.add(Entry::new(key, NewValue::Heap(buf), None));
    } else if changes > 0 {
        ks.touch_watched(key);
    }
    drop(ks);
    if changes > 0 {
        ctx.store.add_dirty(changes);
    }
}

/// A GET: the field's value, bits past the end reading as 0.
fn read_field(b: &[u8], f: &Field) -> i64 {
    if f.signed {
        bits::get_signed(b, f.offset, f.bits)
    } else {
        bits::get_unsigned(b, f.offset, f.bits) as i64
    }
}

/// A SET or INCRBY on a buffer long enough for the field: the reply (the
/// old value for SET, the new one for INCRBY) and whether the field
/// changed, or `None` when the value overflows under OVERFLOW FAIL (the
/// field is left alone).
fn write_field(buf: &mut [u8], f: &Field) -> Option<(i64, bool)> {
    let incr = f.op == FieldOp::Incrby;
    let (old, new) = if f.signed {
        let old = bits::get_signed(buf, f.offset, f.bits);
        let new = if incr {
            bits::signed_add(old, f.value, f.bits, f.overflow)?
        } else {
            bits::signed_add(f.value, 0, f.bits, f.overflow)?
        };
        (old, new)
    } else {
        let old = bits::get_unsigned(buf, f.offset, f.bits);
        let new = if incr {
            bits::unsigned_add(old, f.value, f.bits, f.overflow)?
        } else {
            bits::unsigned_add(f.value as u64, 0, f.bits, f.overflow)?
        };
        (old as i64, new as i64)
    };
    bits::set_field(buf, f.offset, f.bits, new as u64);
    Some((if incr { new } else { old }, old != new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_reserves_like_sdsmakeroomfor() {
        let mut v = Vec::new();
        assert!(grow_zeroed(&mut v, 10));
        assert_eq!(v, [0; 10]);
        assert!(v.capacity() >= 20);
        assert!(!grow_zeroed(&mut v, 5));
        let mut big = vec![1u8; 3 * MAX_PREALLOC];
        assert!(grow_zeroed(&mut big, 3 * MAX_PREALLOC + 1));
        assert!(big.capacity() <= 4 * MAX_PREALLOC + 1);
        assert_eq!(big.last(), Some(&0));
    }

    #[test]
    fn bit_ranges_follow_redis() {
        // Bytes 1..=2 of 4.
        assert_eq!(bit_range(1, 2, 4, false), Some((8, 23)));
        assert_eq!(bit_range(-2, -1, 4, false), Some((16, 31)));
        assert_eq!(bit_range(0, 100, 4, false), Some((0, 31)));
        assert_eq!(bit_range(5, 100, 4, false), None);
        assert_eq!(bit_range(i64::MIN, i64::MAX, 4, true), Some((0, 31)));
        assert_eq!(bit_range(0, -1, 0, false), None);
    }

    #[test]
    fn count_range_masks_the_edge_bytes() {
        let b = [0xffu8, 0xff, 0xff];
        assert_eq!(count_range(&b, None), 24);
        assert_eq!(count_range(&b, Some((1, 1, false))), 8);
        assert_eq!(count_range(&b, Some((3, 5, true))), 3);
        assert_eq!(count_range(&b, Some((5, 17, true))), 13);
        assert_eq!(count_range(&b, Some((-1, -2, false))), 0);
    }

    #[test]
    fn find_bit_pads_with_zeros_only_without_an_end() {
        let b = [0xffu8, 0xff];
        assert_eq!(find_bit(&b, false, None), 16);
        assert_eq!(find_bit(&b, false, Some((0, Some(-1), false))), -1);
        assert_eq!(find_bit(&b, true, Some((1, None, false))), 8);
        assert_eq!(find_bit(&[0x00, 0x01], true, Some((0, Some(14), true))), -1);
        assert_eq!(find_bit(&[0x00, 0x01], true, Some((0, Some(15), true))), 15);
        assert_eq!(find_bit(&[], false, None), -1);
    }

    #[test]
    fn field_types_are_redis_s() {
        assert_eq!(field_type(b"i64"), Some((true, 64)));
        assert_eq!(field_type(b"u63"), Some((false, 63)));
        assert_eq!(field_type(b"u64"), None);
        assert_eq!(field_type(b"i0"), None);
        assert_eq!(field_type(b"I8"), None);
        assert_eq!(field_type(b"u"), None);
    }
}
