//! DEBUG: the introspection and test hooks Redis's test suite and tools
//! use (Redis's `debug.c`). Only allowed with `enable-debug-command`; the
//! server checks that from the table's PROTECTED flag.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use sha1::{Digest, Sha1};
use viator_types::entry::{Entry, Object, StrRef, ValueType};
use viator_types::stream::StreamId;

use crate::clock;
use crate::command::{CommandSpec, Ctx, flags};
use crate::errors;
use crate::keyspace::Keyspace;

/// The DEBUG family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "debug",
    arity: -2,
    flags: flags::ADMIN | flags::NOSCRIPT | flags::LOADING | flags::STALE | flags::PROTECTED,
    group: "server",
    summary: "A container for debugging commands.",
    since: "1.0.0",
    complexity: "Depends on subcommand.",
    doc_flags: &["syscmd"],
    handler: Some(debug),
    ..CommandSpec::DEFAULT
}];

const HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "JMAP",
    "    Does nothing; exists for compatibility with test suites.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "OBJECT <key>",
    "    Show low level info about the `key` and associated value.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-LEN",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "HELP",
    "    Print this help.",
];

/// Redis's `xorDigest`: SHA1 of `data` XORed into `digest`, so that the
/// digest of unordered items does not depend on their order.
fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    let hash = Sha1::digest(data);
    for (d, h) in digest.iter_mut().zip(hash.iter()) {
        *d ^= h;
    }
}

/// Redis's `mixDigest`: XOR in the SHA1 of `data`, then hash the result, so
/// that order matters.
fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    let hash = Sha1::digest(&digest[..]);
    digest.copy_from_slice(&hash);
}

/// Redis's numeric type codes (OBJ_STRING = 0 ...), mixed into digests.
fn type_code(t: ValueType) -> u32 {
    match t {
        ValueType::String => 0,
        ValueType::List => 1,
        ValueType::Set => 2,
        ValueType::ZSet => 3,
        ValueType::Hash => 4,
        ValueType::Stream => 6,
    }
}

/// Mixes a value into `d` as Redis's `xorObjectDigest` does: type code,
/// value, and a mark when the key has a TTL.
fn object_digest(d: &mut [u8; 20], e: &Entry) {
    mix_digest(d, &type_code(e.value_type()).to_be_bytes());
    if let Some(s) = e.as_str() {
        s.with_bytes(|b| mix_digest(d, b));
    }
    match e.as_object() {
        None => {}
        Some(Object::List(l)) => l.for_each(|item| mix_digest(d, item)),
        Some(Object::Set(s)) => s.for_each(|member| xor_digest(d, member)),
        Some(Object::ZSet(z)) => z.for_each(|member, score| {
            let mut one = [0u8; 20];
            mix_digest(&mut one, member);
            let mut buf = [0u8; 32];
            let n = viator_protocol::format_double(score, &mut buf);
            mix_digest(&mut one, &buf[..n]);
            xor_digest(d, &one);
        }),
        Some(Object::Hash(h)) => {
            for (field, value, expire) in h.iter() {
                let mut one = [0u8; 20];
                mix_digest(&mut one, field);
                mix_digest(&mut one, value);
                // A field with an expire time is marked, as Redis 8 does.
                if expire.is_some() {
                    xor_digest(&mut one, b"!!hexpire!!");
                }
                xor_digest(d, &one);
            }
        }
        // Entries in order, each as `ms.seq` then its fields and values;
        // consumer groups are not part of the digest (Redis's debug.c).
        Some(Object::Stream(s)) => s.range(StreamId::MIN, StreamId::MAX, false, |id, fields| {
            mix_digest(d, format!("{}.{}", id.ms, id.seq).as_bytes());
            for f in fields {
                mix_digest(d, f);
            }
            true
        }),
    }
    if e.expire_ms().is_some() {
        xor_digest(d, b"!!expire!!");
    }
}

fn hex(d: &[u8; 20]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest of every database (DEBUG DIGEST), Redis's
/// `computeDatasetDigest`: all zeros when the dataset is empty.
pub fn dataset_digest(ctx: &Ctx<'_>) -> [u8; 20] {
    let mut total = [0u8; 20];
    for db in 0..ctx.store.db_count() {
        let ks = Keyspace::lock_db(ctx.store, db, ctx.now_ms);
        if ks.is_empty() {
            continue;
        }
        mix_digest(&mut total, &(db as u32).to_be_bytes());
        ks.for_each(|e| {
            let mut d = [0u8; 20];
            mix_digest(&mut d, e.key());
            object_digest(&mut d, e);
            xor_digest(&mut total, &d);
        });
    }
    total
}

fn debug(ctx: &mut Ctx<'_>) {
    let sub = String::from_utf8_lossy(ctx.arg(1)).to_ascii_lowercase();
    let argc = ctx.argc();
    match sub.as_str() {
        "help" if argc == 2 => {
            ctx.out.array(HELP.len());
            for l in HELP {
                ctx.out.simple(l);
            }
        }
        "digest" if argc == 2 => {
            let d = dataset_digest(ctx);
            ctx.out.simple(&hex(&d));
        }
        "digest-value" if argc >= 2 => {
            let keys: Vec<&[u8]> = (2..argc).map(|i| ctx.arg(i)).collect();
            let ks = ctx.keys(&keys);
            let digests: Vec<[u8; 20]> = keys
                .iter()
                .map(|k| {
                    let mut d = [0u8; 20];
                    if let Some(e) = ks.peek(k) {
                        object_digest(&mut d, &e);
                    }
                    d
                })
                .collect();
            drop(ks);
            ctx.out.array(digests.len());
            for d in &digests {
                ctx.out.simple(&hex(d));
            }
        }
        "jmap" if argc == 2 => ctx.out.ok(),
        "loadaof" => {
            let host = ctx.host;
            host.debug_loadaof(ctx);
        }
        "aof-flush-sleep" if argc == 3 => {
            let us = viator_types::number::parse_i64(ctx.arg(2)).unwrap_or(0);
            let host = ctx.host;
            host.debug_aof_flush_sleep(us.max(0) as u64);
            ctx.out.ok();
        }
        "reload" => {
            let (mut save, mut flush, mut merge) = (true, true, false);
            for i in 2..argc {
                if ctx.arg_is(i, "merge") {
                    merge = true;
                } else if ctx.arg_is(i, "noflush") {
                    flush = false;
                } else if ctx.arg_is(i, "nosave") {
                    save = false;
                } else {
                    ctx.out.error(
                        "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
                    );
                    return;
                }
            }
            let host = ctx.host;
            host.debug_reload(ctx, save, flush, merge);
        }
        "object" if argc == 3 => debug_object(ctx),
        "populate" if (3..=5).contains(&argc) => populate(ctx),
        "protocol" if argc == 3 => protocol(ctx),
        "quicklist-packed-threshold" if argc == 3 => {
            let size = viator_types::number::memtoull(ctx.arg(2));
            match size.and_then(|n| usize::try_from(n).ok()) {
                Some(n) if viator_types::list::set_packed_threshold(n) => ctx.out.ok(),
                _ => ctx.out.error(
                    "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
                ),
            }
        }
        "set-active-expire" if argc == 3 => {
            let on = ctx.arg(2) != b"0";
            ctx.store
                .settings
                .active_expire_enabled
                .store(on, Ordering::Relaxed);
            ctx.out.ok();
        }
        "sleep" if argc == 3 => {
            let Some(secs) = viator_types::number::parse_f64(ctx.arg(2)) else {
                ctx.out.error(errors::NOT_FLOAT);
                return;
            };
            // Redis stops the whole server: hold every shard of every
            // database so that other clients' commands wait too.
            let held: Vec<Keyspace<'_>> = (0..ctx.store.db_count())
                .map(|db| Keyspace::lock_db(ctx.store, db, ctx.now_ms))
                .collect();
            if secs > 0.0 && secs.is_finite() {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(1e9)));
            }
            drop(held);
            ctx.out.ok();
        }
        "stringmatch-len" if argc == 2 => {
            stringmatch_fuzz();
            ctx.out
                .simple("Apparently Redis did not crash: test passed");
        }
        _ => {
            // Redis's addReplySubcommandSyntaxError: the argument raw, cut
            // at 128 bytes or a NUL.
            let arg = ctx.arg(1);
            let end = arg
                .iter()
                .position(|&c| c == 0)
                .unwrap_or(arg.len())
                .min(128);
            let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
            msg.extend_from_slice(&arg[..end]);
            msg.extend_from_slice(b"'. Try DEBUG HELP.");
            ctx.out.error_bytes(&msg);
        }
    }
}

fn debug_object(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(2);
    let ks = ctx.key(key);
    let Some(e) = ks.peek(key) else {
        drop(ks);
        ctx.out.error(errors::NO_SUCH_KEY);
        return;
    };
    let encoding = match e.as_object() {
        Some(o) => o.encoding_name(),
        None => e.str_encoding().map_or("unknown", |x| x.name()),
    };
    let serialized = e.as_str().map(serialized_len).unwrap_or(0);
    let clock = e.clock();
    let idle = clock::lru_idle_ms(clock, ctx.now_ms) / 1000;
    let mut line = format!(
        "Value at:0x{:x} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        &*e as *const Entry as usize, encoding, serialized, clock, idle
    );
    // A quicklist's shape, as Redis's debug.c appends it.
    if let Some(Object::List(l)) = e.as_object()
        && l.is_quicklist()
    {
        let nodes = l.node_count();
        let _ = write!(
            line,
            " ql_nodes:{} ql_avg_node:{:.2} ql_listpack_max:{} ql_compressed:{} ql_uncompressed_size:{}",
            nodes,
            l.len() as f64 / nodes as f64,
            l.quicklist_fill(),
            u8::from(l.compress_depth() != 0),
            l.uncompressed_size()
        );
    }
    drop(e);
    drop(ks);
    ctx.out.simple(&line);
}

/// Length of a string in an RDB file (`rdbSavedObjectLen` with the
/// default `rdbcompression yes`): integers that fit 32 bits take 2, 3 or 5
/// bytes; strings over 20 bytes that LZF shrinks by more than 4 bytes are
/// stored compressed; other strings take their length plus a length prefix.
fn serialized_len(s: StrRef<'_>) -> usize {
    let as_int = match s {
        StrRef::Int(n) => Some(n),
        StrRef::Bytes(b) if b.len() <= 11 => viator_types::number::parse_i64(b),
        StrRef::Bytes(_) => None,
    };
    match as_int {
        Some(n) if (-128..128).contains(&n) => return 2,
        Some(n) if (-32768..32768).contains(&n) => return 3,
        Some(n) if (i32::MIN as i64..=i32::MAX as i64).contains(&n) => return 5,
        _ => {}
    }
    s.with_bytes(|b| {
        if b.len() > 20
            && let Ok(packed) = lzf::compress(b)
            && packed.len() <= b.len() - 4
        {
            return 1 + rdb_len_size(packed.len()) + rdb_len_size(b.len()) + packed.len();
        }
        rdb_len_size(b.len()) + b.len()
    })
}

/// Bytes an RDB length prefix takes (`rdbSaveLen`).
fn rdb_len_size(len: usize) -> usize {
    if len < 64 {
        1
    } else if len < 16384 {
        2
    } else if len <= u32::MAX as usize {
        5
    } else {
        9
    }
}

fn populate(ctx: &mut Ctx<'_>) {
    let Some(count) = viator_types::number::parse_i64(ctx.arg(2)) else {
        ctx.out.error(errors::NOT_INTEGER);
        return;
    };
    if count < 0 {
        ctx.out.error("ERR count must be positive");
        return;
    }
    let prefix = if ctx.argc() >= 4 { ctx.arg(3) } else { b"key" };
    let size = if ctx.argc() == 5 {
        match viator_types::number::parse_i64(ctx.arg(4)) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => {
                ctx.out.error(errors::NOT_INTEGER);
                return;
            }
        }
    } else {
        None
    };
    if let Some(sz) = size
        && sz as u64
            > ctx
                .store
                .settings
                .proto_max_bulk_len
                .load(Ordering::Relaxed)
    {
        ctx.out.error(errors::STRING_TOO_LONG);
        return;
    }
    let mut ks = ctx.whole_db();
    let mut key = Vec::with_capacity(prefix.len() + 21);
    for i in 0..count {
        key.clear();
        key.extend_from_slice(prefix);
        key.push(b':');
        key.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
        if ks.exists(&key) {
            continue;
        }
        let mut val = format!("value:{i}").into_bytes();
        if let Some(sz) = size {
            val.resize(sz, 0);
        }
        ks.add(Entry::new_string(&key, &val));
    }
    drop(ks);
    ctx.out.ok();
}

fn protocol(ctx: &mut Ctx<'_>) {
    let kind = String::from_utf8_lossy(ctx.arg(2)).to_ascii_lowercase();
    let out = &mut *ctx.out;
    match kind.as_str() {
        "string" => out.bulk(b"Hello World"),
        "integer" => out.int(12345),
        // Redis's fixed test value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        "double" => out.double(3.141),
        "bignum" => out.big_number("1234567999999999999999999999999999999"),
        "null" => out.null(),
        "array" => {
            out.array(3);
            for i in 0..3 {
                out.int(i);
            }
        }
        "set" => {
            out.set(3);
            for i in 0..3 {
                out.int(i);
            }
        }
        "map" => {
            out.map(3);
            for i in 0..3 {
                out.int(i);
                out.bool(i == 1);
            }
        }
        "attrib" => {
            if out.is_resp3() {
                out.attribute(1);
                out.bulk(b"key-popularity");
                out.array(2);
                out.bulk(b"key:123");
                out.int(90);
            }
            out.bulk(b"Some real reply following the attribute");
        }
        "push" => {
            if !out.is_resp3() {
                out.error("ERR RESP2 is not supported by this command");
                return;
            }
            out.push(2);
            out.bulk(b"server-cpu-usage");
            out.int(42);
            out.bulk(b"Some real reply following the push reply");
        }
        "true" => out.bool(true),
        "false" => out.bool(false),
        "verbatim" => out.verbatim("txt", b"This is a verbatim\nstring"),
        _ => out.error(
            "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        ),
    }
}

/// Random patterns and strings through the glob matcher, to show that no
/// input makes it crash or run away (Redis's `stringmatchlen_fuzz_test`).
fn stringmatch_fuzz() {
    const ALPHABET: &[u8] = b"*?[]^-\\abc";
    for _ in 0..1000 {
        let p: Vec<u8> = (0..fastrand::usize(0..32))
            .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())])
            .collect();
        let s: Vec<u8> = (0..fastrand::usize(0..32))
            .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())])
            .collect();
        let _ = viator_types::glob::glob_match(&p, &s, fastrand::bool());
    }
}

#[cfg(test)]
mod tests {
    use crate::{Client, Store, StoreOptions};
    use viator_protocol::ReplyBuf;

    /// Digests Redis 8.0.2 gives for the same values (checked against a
    /// redis-server built from its source).
    #[test]
    fn a_hash_field_with_an_expire_time_is_marked_in_the_digest() {
        let store = Store::new(StoreOptions::default());
        let mut client = Client::default();
        let mut run = |cmd: &[&str]| {
            let mut out = ReplyBuf::new();
            store.execute(&mut client, cmd, &mut out);
            String::from_utf8_lossy(out.as_bytes()).into_owned()
        };
        run(&["HSET", "h", "f", "v", "g", "w"]);
        run(&["HSET", "plain", "f", "v", "g", "w"]);
        assert_eq!(
            run(&["HPEXPIRE", "h", "100000000", "FIELDS", "1", "f"]),
            "*1\r\n:1\r\n"
        );
        assert_eq!(
            run(&["DEBUG", "DIGEST-VALUE", "h", "plain"]),
            "*2\r\n+355879033a5e790f0e021f3025ccea7312d9d282\r\n+d127864ed50239662bf61bafc9bda63c17da5b37\r\n"
        );
    }
}
