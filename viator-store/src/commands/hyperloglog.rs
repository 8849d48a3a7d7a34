//! PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST (Redis's `hyperloglog.c`).
//!
//! A HyperLogLog is a plain string value holding Redis's exact bytes (see
//! [`viator_types::hll`]), so GET, SETRANGE, APPEND, DUMP and replication
//! see what they would see on Redis. The commands check a value the way
//! Redis's `isHLLObjectOrReply` does: another type is the usual WRONGTYPE,
//! a string that is not an HLL (integer-encoded, too short, wrong magic or
//! encoding, a dense one of the wrong length) is Redis's own WRONGTYPE
//! text, and sparse opcodes that do not describe exactly 16384 registers
//! are INVALIDOBJ when they are read.
//!
//! A changed HLL is edited in place in its heap string (OBJECT ENCODING
//! `raw`, as Redis's `dbUnshareStringValue` makes it), so it keeps its TTL.
//! Writes bump the dirty counter as Redis does: PFADD by the number of
//! elements that changed a register, PFMERGE by one, and PFCOUNT by one
//! when it refreshes the cached cardinality (a write to the string).

use std::sync::atomic::Ordering;

use viator_types::entry::{Entry, NewValue, StrRef};
use viator_types::hll::{self, Corrupt, REGISTERS};

use crate::command::{CommandSpec, Ctx, KeySpec, acl, flags};
use crate::errors;
use crate::keyspace::Lookup;

/// Sparse opcodes that do not describe 16384 registers.
const INVALIDOBJ: &str = "INVALIDOBJ Corrupted HLL object detected";
/// A string that is not an HLL.
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/// PFDEBUG on a missing key.
const NO_KEY: &str = "ERR The specified key does not exist";
/// PFDEBUG DECODE on a dense HLL.
const NOT_SPARSE: &str = "ERR HLL encoding is not sparse";
/// PFDEBUG SIMD with something else than ON or OFF.
const ON_OR_OFF: &str = "ERR Argument must be ON or OFF";

/// The commands of this family.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "pfadd",
        arity: -2,
        flags: flags::WRITE | flags::DENYOOM | flags::FAST,
        acl: acl::HYPERLOGLOG,
        keys: &[KeySpec::single(1, &["RW", "INSERT"])],
        group: "hyperloglog",
        summary: "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.",
        since: "2.8.9",
        complexity: "O(1) to add every element.",
        args: "key:key [element:string...]",
        handler: Some(pfadd),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pfcount",
        arity: -2,
        flags: flags::READONLY,
        acl: acl::HYPERLOGLOG,
        keys: &[KeySpec {
            notes: "RW because it may change the internal representation of the key, and propagate to replicas",
            ..KeySpec::range(1, -1, 1, &["RW", "ACCESS"])
        }],
        group: "hyperloglog",
        summary: "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).",
        since: "2.8.9",
        complexity: "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
        args: "key:key...",
        handler: Some(pfcount),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pfdebug",
        arity: 3,
        flags: flags::WRITE | flags::DENYOOM | flags::ADMIN,
        acl: acl::HYPERLOGLOG,
        keys: &[KeySpec::single(2, &["RW", "ACCESS"])],
        group: "hyperloglog",
        summary: "Internal commands for debugging HyperLogLog values",
        since: "2.8.9",
        complexity: "N/A",
        args: "subcommand:string key:key",
        doc_flags: &["syscmd"],
        handler: Some(pfdebug),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pfmerge",
        arity: -2,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::HYPERLOGLOG,
        keys: &[
            KeySpec::single(1, &["RW", "ACCESS", "INSERT"]),
            KeySpec::range(2, -1, 1, &["RO", "ACCESS"]),
        ],
        group: "hyperloglog",
        summary: "Merges one or more HyperLogLog values into a single key.",
        since: "2.8.9",
        complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
        args: "destkey:key [sourcekey:key...]",
        handler: Some(pfmerge),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pfselftest",
        arity: 1,
        flags: flags::ADMIN,
        acl: acl::HYPERLOGLOG,
        group: "hyperloglog",
        summary: "An internal command for testing HyperLogLog values",
        since: "2.8.9",
        complexity: "N/A",
        doc_flags: &["syscmd"],
        handler: Some(pfselftest),
        ..CommandSpec::DEFAULT
    },
];

/// Redis's `isHLLObjectOrReply` on a found value: the error to reply, if
/// the value is not an HLL.
fn check(e: &Entry) -> Result<(), &'static str> {
    match e.as_str() {
        None => Err(errors::WRONGTYPE),
        Some(StrRef::Bytes(b)) if hll::is_valid(b) => Ok(()),
        Some(_) => Err(NOT_HLL),
    }
}

/// The HLL bytes of a checked value, unshared into its own heap string for
/// an in-place edit.
fn bytes_mut(e: &mut Entry) -> Result<&mut Vec<u8>, &'static str> {
    check(e)?;
    e.heap_str_mut().ok_or(errors::WRONGTYPE)
}

/// The HLL bytes of a checked value, read only.
fn bytes(e: &Entry) -> Result<&[u8], &'static str> {
    check(e)?;
    match e.as_str() {
        Some(StrRef::Bytes(b)) => Ok(b),
        _ => Err(NOT_HLL),
    }
}

fn sparse_max(ctx: &Ctx<'_>) -> usize {
    let v = ctx
        .store
        .settings
        .hll_sparse_max_bytes
        .load(Ordering::Relaxed);
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn pfadd(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let elements = ctx.args.get(2..).unwrap_or(&[]);
    let max = sparse_max(ctx);
    let mut ks = ctx.key(key);
    let mut updated = 0u64;
    // A write lookup that leaves WATCH alone: the key counts as modified
    // only if a register changes, as Redis's signalModifiedKey.
    let existed = match ks.lookup(key, Lookup::WRITE) {
        Some(mut e) => {
            let buf = match bytes_mut(&mut e) {
                Ok(b) => b,
                Err(msg) => {
                    ctx.out.error(msg);
                    return;
                }
            };
            for el in elements {
                match hll::add(buf, el, max) {
                    Ok(true) => updated += 1,
                    Ok(false) => {}
                    Err(Corrupt) => {
                        // Registers set before the bad spot stay set, as
                        // in Redis; nothing is signalled or counted.
                        ctx.out.error(INVALIDOBJ);
                        return;
                    }
                }
            }
            true
        }
        None => false,
    };
    if existed {
        if updated > 0 {
            ks.touch_watched(key);
        }
    } else {
        let mut buf = hll::new_sparse();
        for el in elements {
            // A fresh HLL cannot be corrupt.
            if let Ok(true) = hll::add(&mut buf, el, max) {
                updated += 1;
            }
        }
        // Creating the key is a change even with no element.
        updated += 1;
        hll::invalidate_cache(&mut buf);
        ks.add(Entry::new(key, NewValue::Heap(buf), None));
    }
    drop(ks);
    if updated > 0 {
        ctx.store.add_dirty(updated);
    }
    ctx.out.int(i64::from(updated > 0));
}

fn pfcount(ctx: &mut Ctx<'_>) {
    if ctx.argc() > 2 {
        pfcount_union(ctx);
        return;
    }
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let Some(mut e) = ks.read(key) else {
        ctx.out.int(0);
        return;
    };
    let buf = match bytes_mut(&mut e) {
        Ok(b) => b,
        Err(msg) => {
            ctx.out.error(msg);
            return;
        }
    };
    if let Some(card) = hll::cached_card(buf) {
        ctx.out.int(card as i64);
        return;
    }
    let Ok(card) = hll::count(buf) else {
        ctx.out.error(INVALIDOBJ);
        return;
    };
    // Caching the estimate writes to the string: it is a modification that
    // propagates, as in Redis.
    hll::set_cached_card(buf, card);
    drop(e);
    ks.touch_watched(key);
    drop(ks);
    ctx.store.add_dirty(1);
    ctx.out.int(card as i64);
}

/// PFCOUNT of several keys: the estimate of their union, computed in a
/// scratch array; nothing is cached or written.
fn pfcount_union(ctx: &mut Ctx<'_>) {
    let keys = ctx.args.get(1..).unwrap_or(&[]);
    let mut ks = ctx.keys(keys);
    let mut raw = [0u8; REGISTERS];
    for &k in keys {
        let Some(e) = ks.read(k) else { continue };
        let b = match bytes(&e) {
            Ok(b) => b,
            Err(msg) => {
                ctx.out.error(msg);
                return;
            }
        };
        if hll::merge_into(&mut raw, b).is_err() {
            ctx.out.error(INVALIDOBJ);
            return;
        }
    }
    drop(ks);
    ctx.out.int(hll::count_raw(&raw) as i64);
}

fn pfmerge(ctx: &mut Ctx<'_>) {
    let keys = ctx.args.get(1..).unwrap_or(&[]);
    let dest = ctx.arg(1);
    let max = sparse_max(ctx);
    let mut ks = ctx.keys(keys);
    let mut raw = [0u8; REGISTERS];
    let mut use_dense = false;
    // Every key, the destination first, is read and merged (and checked)
    // before the destination is written.
    for &k in keys {
        let Some(e) = ks.read(k) else { continue };
        let b = match bytes(&e) {
            Ok(b) => b,
            Err(msg) => {
                ctx.out.error(msg);
                return;
            }
        };
        use_dense |= hll::encoding(b) == hll::DENSE;
        if hll::merge_into(&mut raw, b).is_err() {
            ctx.out.error(INVALIDOBJ);
            return;
        }
    }
    let written = ks
        .write(dest)
        .map(|mut e| bytes_mut(&mut e).and_then(|buf| write_merged(buf, &raw, use_dense, max)));
    let result = match written {
        Some(r) => r,
        None => {
            let mut buf = hll::new_sparse();
            let r = write_merged(&mut buf, &raw, use_dense, max);
            ks.add(Entry::new(dest, NewValue::Heap(buf), None));
            r
        }
    };
    drop(ks);
    if let Err(msg) = result {
        ctx.out.error(msg);
        return;
    }
    ctx.store.add_dirty(1);
    ctx.out.ok();
}

/// Writes the merged registers into the destination HLL as Redis does: a
/// dense destination (made dense if any input was) takes them all at once;
/// a sparse one is raised register by register in ascending order, so its
/// opcodes (and any promotion on the way) come out as Redis's.
fn write_merged(
    buf: &mut Vec<u8>,
    raw: &[u8; REGISTERS],
    use_dense: bool,
    max: usize,
) -> Result<(), &'static str> {
    if use_dense {
        hll::make_dense(buf).map_err(|_| INVALIDOBJ)?;
    }
    if hll::encoding(buf) == hll::DENSE {
        // The destination was one of the inputs, so no register goes down.
        hll::dense_compress(&mut buf[hll::HDR_SIZE..], raw);
    } else {
        for (j, &v) in raw.iter().enumerate() {
            if v != 0 {
                // The destination was checked while merging, so an error
                // cannot happen; Redis ignores it here too.
                let _ = hll::set_register(buf, j, v, max);
            }
        }
    }
    hll::invalidate_cache(buf);
    Ok(())
}

fn pfselftest(ctx: &mut Ctx<'_>) {
    let max = sparse_max(ctx);
    match hll::selftest(max, || fastrand::u32(..)) {
        Ok(()) => ctx.out.ok(),
        Err(msg) => ctx.out.error(&msg),
    }
}

fn pfdebug(ctx: &mut Ctx<'_>) {
    let sub = ctx.arg(1);
    if sub.eq_ignore_ascii_case(b"simd") {
        let arg = ctx.arg(2);
        if arg.eq_ignore_ascii_case(b"on") {
            hll::set_simd(true);
        } else if arg.eq_ignore_ascii_case(b"off") {
            hll::set_simd(false);
        } else {
            ctx.out.error(ON_OR_OFF);
            return;
        }
        ctx.out
            .simple(if hll::simd() { "enabled" } else { "disabled" });
        return;
    }
    let key = ctx.arg(2);
    let mut ks = ctx.key(key);
    let Some(mut e) = ks.lookup(key, Lookup::WRITE) else {
        ctx.out.error(NO_KEY);
        return;
    };
    let buf = match bytes_mut(&mut e) {
        Ok(b) => b,
        Err(msg) => {
            ctx.out.error(msg);
            return;
        }
    };
    if sub.eq_ignore_ascii_case(b"getreg") {
        // The key becomes dense, as in Redis.
        match hll::make_dense(buf) {
            Ok(true) => ctx.store.add_dirty(1),
            Ok(false) => {}
            Err(Corrupt) => {
                ctx.out.error(INVALIDOBJ);
                return;
            }
        }
        let regs = &buf[hll::HDR_SIZE..];
        ctx.out.array(REGISTERS);
        for i in 0..REGISTERS {
            ctx.out.int(i64::from(hll::dense_get(regs, i)));
        }
    } else if sub.eq_ignore_ascii_case(b"decode") {
        if hll::encoding(buf) != hll::SPARSE {
            ctx.out.error(NOT_SPARSE);
            return;
        }
        ctx.out.bulk(hll::decode_sparse(buf).as_bytes());
    } else if sub.eq_ignore_ascii_case(b"encoding") {
        ctx.out.simple(if hll::encoding(buf) == hll::DENSE {
            "dense"
        } else {
            "sparse"
        });
    } else if sub.eq_ignore_ascii_case(b"todense") {
        match hll::make_dense(buf) {
            Ok(converted) => {
                if converted {
                    ctx.store.add_dirty(1);
                }
                ctx.out.int(i64::from(converted));
            }
            Err(Corrupt) => ctx.out.error(INVALIDOBJ),
        }
    } else {
        let mut msg = b"ERR Unknown PFDEBUG subcommand '".to_vec();
        msg.extend_from_slice(sub);
        msg.push(b'\'');
        ctx.out.error_bytes(&msg);
    }
}
