//! DUMP and RESTORE (Redis's `cluster.c` commands): a value serialized in
//! the RDB format with Redis's payload footer, so payloads move between
//! Redis and Viator both ways. The format work is `viator_persist::dump`.

use std::sync::atomic::Ordering;

use viator_persist::dump;

use crate::command::{CommandSpec, Ctx, KeySpec, acl, flags};
use crate::errors;
use crate::keyspace::Lookup;

/// A lookup that changes nothing: no access clock update, no stats.
const QUIET: Lookup = Lookup {
    no_touch: true,
    no_stats: true,
};

/// The commands of this family.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "dump",
        arity: 2,
        flags: flags::READONLY,
        acl: acl::KEYSPACE,
        keys: &[KeySpec::single(1, &["RO", "ACCESS"])],
        group: "generic",
        summary: "Returns a serialized representation of the value stored at a key.",
        since: "2.6.0",
        complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
        args: "key:key",
        tips: &["nondeterministic_output"],
        handler: Some(dump_command),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "restore",
        arity: -4,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::KEYSPACE | acl::DANGEROUS,
        keys: &[KeySpec::single(1, &["OW", "UPDATE"])],
        group: "generic",
        summary: "Creates a key from the serialized representation of a value.",
        since: "2.6.0",
        complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
        args: "key:key ttl:integer serialized-value:string [REPLACE@3.0.0] [ABSTTL@5.0.0] [IDLETIME=seconds:integer@5.0.0] [FREQ=frequency:integer@5.0.0]",
        history: &[
            ("3.0.0", "Added the `REPLACE` modifier."),
            ("5.0.0", "Added the `ABSTTL` modifier."),
            ("5.0.0", "Added the `IDLETIME` and `FREQ` options."),
        ],
        handler: Some(restore),
        ..CommandSpec::DEFAULT
    },
];

/// DUMP key: the payload, or nil.
fn dump_command(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let compress = ctx.store.settings.rdb_compression.load(Ordering::Relaxed);
    let version = ctx.store.settings.rdb_version.load(Ordering::Relaxed);
    let payload = ks
        .read(key)
        .map(|e| dump::create_version(&e, compress, version));
    drop(ks);
    match payload {
        Some(p) => ctx.out.bulk(&p),
        None => ctx.out.null(),
    }
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
/// [FREQ frequency], checked in Redis's order.
fn restore(ctx: &mut Ctx<'_>) {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < ctx.argc() {
        let more = ctx.argc() - j - 1;
        if ctx.arg_is(j, "replace") {
            replace = true;
        } else if ctx.arg_is(j, "absttl") {
            absttl = true;
        } else if ctx.arg_is(j, "idletime") && more >= 1 && freq.is_none() {
            let Some(v) = ctx.int_arg(j + 1) else {
                return;
            };
            if v < 0 {
                ctx.out.error("ERR Invalid IDLETIME value, must be >= 0");
                return;
            }
            idle = Some(v);
            j += 1;
        } else if ctx.arg_is(j, "freq") && more >= 1 && idle.is_none() {
            let Some(v) = ctx.int_arg(j + 1) else {
                return;
            };
            if !(0..=255).contains(&v) {
                ctx.out
                    .error("ERR Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            freq = Some(v);
            j += 1;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    // lookupKeyWrite: a key that stays as it is (BUSYKEY) is no change for
    // WATCH.
    if !replace && ks.lookup(key, Lookup::WRITE).is_some() {
        drop(ks);
        ctx.out.error("BUSYKEY Target key name already exists.");
        return;
    }
    let Some(mut ttl) = ctx.int_arg(2) else {
        return;
    };
    if ttl < 0 {
        ctx.out.error("ERR Invalid TTL value, must be >= 0");
        return;
    }
    let payload = ctx.arg(3);
    if !dump::verify(payload, false) {
        ctx.out
            .error("ERR DUMP payload version or checksum are wrong");
        return;
    }
    let limits = crate::snapshot::limits(ctx.store);
    let Some(mut entry) = dump::read(payload, key, &limits, ctx.now_ms) else {
        ctx.out.error("ERR Bad data format");
        return;
    };
    let deleted = replace && ks.remove(key).is_some();
    if ttl != 0 && !absttl {
        ttl = ttl.saturating_add(ctx.now_ms);
    }
    if ttl != 0 && ctx.already_expired(ttl) {
        // Already expired: nothing is created, the old key is gone, which
        // propagates as its deletion (Redis's lazyfree-lazy-server-del
        // choice).
        drop(ks);
        if deleted {
            if ctx.propagating() {
                let del = crate::commands::rewrite::server_del(ctx.store);
                ctx.propagate(&[del, key]);
            }
            ctx.store.add_dirty(1);
        }
        ctx.out.ok();
        return;
    }
    if ttl != 0 {
        entry.set_expire_ms(Some(ttl));
    }
    ks.set(entry, false);
    // IDLETIME under an LRU policy, FREQ under an LFU one.
    let clock = crate::snapshot::access_clock(
        ctx.store,
        idle.map(|v| v as u64),
        freq.map(|v| v as u8),
        ctx.now_ms,
    );
    if let Some(c) = clock
        && let Some(mut e) = ks.lookup(key, QUIET)
    {
        e.set_clock(c);
    }
    drop(ks);
    // A relative TTL propagates as the absolute time it came to, with
    // ABSTTL appended, so that a replay does not extend it.
    if ttl != 0 && !absttl && ctx.propagating() {
        let mut argv: Vec<Vec<u8>> = ctx.args.iter().map(|a| a.to_vec()).collect();
        argv[2] = crate::commands::rewrite::int_text(ttl);
        argv.push(b"ABSTTL".to_vec());
        ctx.propagate(&argv);
    }
    ctx.signal_ready(key);
    ctx.store.add_dirty(1);
    ctx.out.ok();
}
