//! String commands (Redis's `t_string.c`, plus DELEX from `db.c`).
//!
//! Every handler makes its checks in the order of its Redis counterpart, so
//! that a request with several faults gets the same error (GETEX, for one,
//! looks at its expire time only once the key is known to hold a string;
//! GETRANGE checks its indexes before the key).
//!
//! Encodings follow Redis's: a value written by SET-like commands is an
//! integer when it is the canonical text of an `i64` (OBJECT ENCODING
//! `int`), inline otherwise (`embstr` up to 44 bytes, `raw` above, see
//! [`Entry::new_string`]); APPEND and SETRANGE turn it into a growable heap
//! string (`raw`) as Redis's `dbUnshareStringValue` does; INCR and friends
//! store integers; INCRBYFLOAT stores its text (`embstr`/`raw`, never `int`).
//!
//! The hot paths are GET and plain SET: GET takes one lock and one lookup
//! and copies the value straight into the reply; SET builds its one
//! [`Entry`] before taking the lock and drops the replaced value after
//! releasing it.
//!
//! The table's `args` strings use the command table's argument syntax
//! (`commands::introspection::docs`); LCS's second key is `#0` because
//! both keys share Redis's one key spec.

use viator_types::entry::{Entry, NewValue, StrRef};
use viator_types::number::parse_i64;

use super::rewrite;
use crate::command::{BeginSearch, CommandSpec, Ctx, FindKeys, KeySpec, acl, flags};
use crate::errors;

/// Redis's error for an IFDEQ/IFDNE digest that is not 16 characters long.
const BAD_DIGEST: &str = "ERR must be exactly 16 hexadecimal characters";
/// LCS on a key that holds another type.
const LCS_WRONGTYPE: &str = "ERR The specified keys must contain string values";
/// LCS with both LEN and IDX.
const LCS_LEN_AND_IDX: &str = "ERR If you want both the length and indexes, please just use IDX.";
/// LCS inputs whose lengths do not fit its 32-bit table.
const LCS_TOO_LONG: &str = "ERR String too long for LCS";
/// LCS table larger than proto-max-bulk-len.
const LCS_TABLE_TOO_BIG: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
/// LCS table allocation failure.
const LCS_NO_MEMORY: &str = "ERR Insufficient memory, failed allocating transient memory for LCS";
/// DELEX with a condition other than IFEQ/IFNE/IFDEQ/IFDNE.
const DELEX_BAD_CONDITION: &str = "ERR Invalid condition. Use IFEQ, IFNE, IFDEQ, or IFDNE";
/// DECRBY with the one decrement that cannot be negated.
const DECR_OVERFLOW: &str = "ERR decrement would overflow";
/// MSETEX numkeys below 1.
const BAD_NUMKEYS: &str = "ERR invalid numkeys value";
/// MSETEX numkeys larger than the pairs given.
const BAD_PAIRS: &str = "ERR wrong number of key-value pairs";

/// Length of a DIGEST reply: 64 bits in hex.
const DIGEST_HEX_LEN: usize = 16;

/// Strings up to this length are tried as integers (Redis's
/// `tryObjectEncoding` limit, as in [`Entry::new_string`]).
const INT_CANDIDATE_MAX: usize = 20;

const KEY_ONLY: &str = "key:key";
const KEY_VALUE: &str = "key:key value:string";
const RANGE_ARGS: &str = "key:key start:integer end:integer";
const RANGE_COMPLEXITY: &str = "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.";
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::single(1, &["RW", "ACCESS", "UPDATE"])];
const RO_ACCESS: &[KeySpec] = &[KeySpec::single(1, &["RO", "ACCESS"])];
const OW_UPDATE: &[KeySpec] = &[KeySpec::single(1, &["OW", "UPDATE"])];
const WRITE_FAST: u64 = flags::WRITE | flags::DENYOOM | flags::FAST;

/// The string family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "append",
        arity: 3,
        flags: WRITE_FAST,
        acl: acl::STRING,
        keys: &[KeySpec::single(1, &["RW", "INSERT"])],
        group: "string",
        summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.",
        since: "2.0.0",
        complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
        args: KEY_VALUE,
        handler: Some(append),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "decr",
        arity: 2,
        flags: WRITE_FAST,
        acl: acl::STRING,
        keys: RW_ACCESS_UPDATE,
        group: "string",
        summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        complexity: "O(1)",
        args: KEY_ONLY,
        handler: Some(decr),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "decrby",
        arity: 3,
        flags: WRITE_FAST,
        acl: acl::STRING,
        keys: RW_ACCESS_UPDATE,
        group: "string",
        summary: "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
        complexity: "O(1)",
        args: "key:key decrement:integer",
        handler: Some(decrby),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "delex",
        arity: -2,
        flags: flags::WRITE | flags::FAST,
        acl: acl::STRING,
        keys: &[KeySpec::single(1, &["RW", "DELETE", "VARIABLE_FLAGS"])],
        group: "string",
        summary: "Conditionally removes the specified key based on value or digest comparison.",
        since: "8.4.0",
        complexity: "O(1) for IFEQ/IFNE, O(N) for IFDEQ/IFDNE where N is the length of the string value.",
        args: "key:key [condition:(IFEQ=ifeq-value:string | IFNE=ifne-value:string | IFDEQ=ifdeq-digest:integer | IFDNE=ifdne-digest:integer)]",
        handler: Some(delex),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "digest",
        arity: 2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::STRING,
        keys: RO_ACCESS,
        group: "string",
        summary: "Returns the XXH3 hash of a string value.",
        since: "8.4.0",
        complexity: "O(N) where N is the length of the string value.",
        args: KEY_ONLY,
        handler: Some(digest),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "get",
        arity: 2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::STRING,
        keys: RO_ACCESS,
        group: "string",
        summary: "Returns the string value of a key.",
        complexity: "O(1)",
        args: KEY_ONLY,
        handler: Some(get),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getdel",
        arity: 2,
        flags: flags::WRITE | flags::FAST,
        acl: acl::STRING,
        keys: &[KeySpec::single(1, &["RW", "ACCESS", "DELETE"])],
        group: "string",
        summary: "Returns the string value of a key after deleting the key.",
        since: "6.2.0",
        complexity: "O(1)",
        args: KEY_ONLY,
        handler: Some(getdel),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getex",
        arity: -2,
        flags: flags::WRITE | flags::FAST,
        acl: acl::STRING,
        keys: &[KeySpec {
            notes: "RW and UPDATE because it changes the TTL",
            ..KeySpec::single(1, &["RW", "ACCESS", "UPDATE"])
        }],
        group: "string",
        summary: "Returns the string value of a key after setting its expiration time.",
        since: "6.2.0",
        complexity: "O(1)",
        args: "key:key [expiration:(EX=seconds:integer | PX=milliseconds:integer | EXAT=unix-time-seconds:unix-time | PXAT=unix-time-milliseconds:unix-time | PERSIST)]",
        handler: Some(getex),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getrange",
        arity: 4,
        flags: flags::READONLY,
        acl: acl::STRING,
        keys: RO_ACCESS,
        group: "string",
        summary: "Returns a substring of the string stored at a key.",
        since: "2.4.0",
        complexity: RANGE_COMPLEXITY,
        args: RANGE_ARGS,
        handler: Some(getrange),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getset",
        arity: 3,
        flags: WRITE_FAST,
        acl: acl::STRING,
        keys: RW_ACCESS_UPDATE,
        group: "string",
        summary: "Returns the previous string value of a key after setting it to a new value.",
        complexity: "O(1)",
        args: KEY_VALUE,
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`SET` with the `GET` argument",
        handler: Some(getset),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incr",
        arity: 2,
        flags: WRITE_FAST,
        acl: acl::STRING,
        keys: RW_ACCESS_UPDATE,
        group: "string",
        summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        complexity: "O(1)",
        args: KEY_ONLY,
        handler: Some(incr),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incrby",
        arity: 3,
        flags: WRITE_FAST,
        acl: acl::STRING,
        keys: RW_ACCESS_UPDATE,
        group: "string",
        summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        complexity: "O(1)",
        args: "key:key increment:integer",
        handler: Some(incrby),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incrbyfloat",
        arity: 3,
        flags: WRITE_FAST,
        acl: acl::STRING,
        keys: RW_ACCESS_UPDATE,
        group: "string",
        summary: "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        since: "2.6.0",
        complexity: "O(1)",
        args: "key:key increment:double",
        handler: Some(incrbyfloat),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lcs",
        arity: -3,
        flags: flags::READONLY,
        acl: acl::STRING,
        keys: &[KeySpec::range(1, 1, 1, &["RO", "ACCESS"])],
        group: "string",
        summary: "Finds the longest common substring.",
        since: "7.0.0",
        complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        args: "key1:key key2:key#0 [LEN] [IDX] [MINMATCHLEN=min-match-len:integer] [WITHMATCHLEN]",
        handler: Some(lcs),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "mget",
        arity: -2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::STRING,
        keys: &[KeySpec::range(1, -1, 1, &["RO", "ACCESS"])],
        group: "string",
        summary: "Atomically returns the string values of one or more keys.",
        complexity: "O(N) where N is the number of keys to retrieve.",
        args: "key:key...",
        tips: &["request_policy:multi_shard"],
        handler: Some(mget),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "mset",
        arity: -3,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::STRING,
        keys: &[KeySpec::range(1, -1, 2, &["OW", "UPDATE"])],
        group: "string",
        summary: "Atomically creates or modifies the string values of one or more keys.",
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys to set.",
        args: "data:{key:key value:string}...",
        tips: &[
            "request_policy:multi_shard",
            "response_policy:all_succeeded",
        ],
        handler: Some(mset),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "msetex",
        arity: -4,
        flags: flags::WRITE | flags::DENYOOM | flags::MOVABLE_KEYS,
        acl: acl::STRING,
        keys: &[KeySpec {
            flags: &["OW", "UPDATE"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 2,
            },
            notes: "",
        }],
        group: "string",
        summary: "Atomically sets multiple string keys with a shared expiration in a single operation. Supports flexible argument parsing where condition and expiration flags can appear in any order.",
        since: "8.4.0",
        complexity: "O(N) where N is the number of keys to set.",
        args: "numkeys:integer data:{key:key value:string}... [condition:(NX | XX)] [expiration:(EX=seconds:integer | PX=milliseconds:integer | EXAT=unix-time-seconds:unix-time | PXAT=unix-time-milliseconds:unix-time | KEEPTTL)]",
        tips: &[
            "request_policy:multi_shard",
            "response_policy:all_succeeded",
        ],
        handler: Some(msetex),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "msetnx",
        arity: -3,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::STRING,
        keys: &[KeySpec::range(1, -1, 2, &["OW", "INSERT"])],
        group: "string",
        summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.",
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys to set.",
        args: "data:{key:key value:string}...",
        tips: &["request_policy:multi_shard", "response_policy:agg_min"],
        handler: Some(msetnx),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "psetex",
        arity: 4,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::STRING,
        keys: OW_UPDATE,
        group: "string",
        summary: "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
        since: "2.6.0",
        complexity: "O(1)",
        args: "key:key milliseconds:integer value:string",
        doc_flags: &["deprecated"],
        deprecated_since: "2.6.12",
        replaced_by: "`SET` with the `PX` argument",
        handler: Some(psetex),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::STRING,
        keys: &[KeySpec {
            notes: "RW and ACCESS due to the optional `GET` argument",
            ..KeySpec::single(1, &["RW", "ACCESS", "UPDATE", "VARIABLE_FLAGS"])
        }],
        group: "string",
        summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        complexity: "O(1)",
        args: "key:key value:string [condition:(NX | XX | IFEQ=ifeq-value:string@8.4.0 | IFNE=ifne-value:string@8.4.0 | IFDEQ=ifdeq-digest:integer@8.4.0 | IFDNE=ifdne-digest:integer@8.4.0)@2.6.12] [GET@6.2.0] [expiration:(EX=seconds:integer@2.6.12 | PX=milliseconds:integer@2.6.12 | EXAT=unix-time-seconds:unix-time@6.2.0 | PXAT=unix-time-milliseconds:unix-time@6.2.0 | KEEPTTL@6.0.0)]",
        history: &[
            ("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
            ("6.0.0", "Added the `KEEPTTL` option."),
            ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
            (
                "7.0.0",
                "Allowed the `NX` and `GET` options to be used together.",
            ),
            ("8.4.0", "Added 'IFEQ', 'IFNE', 'IFDEQ', 'IFDNE' options."),
        ],
        handler: Some(set),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setex",
        arity: 4,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::STRING,
        keys: OW_UPDATE,
        group: "string",
        summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
        since: "2.0.0",
        complexity: "O(1)",
        args: "key:key seconds:integer value:string",
        doc_flags: &["deprecated"],
        deprecated_since: "2.6.12",
        replaced_by: "`SET` with the `EX` argument",
        handler: Some(setex),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setnx",
        arity: 3,
        flags: WRITE_FAST,
        acl: acl::STRING,
        keys: &[KeySpec::single(1, &["OW", "INSERT"])],
        group: "string",
        summary: "Set the string value of a key only when the key doesn't exist.",
        complexity: "O(1)",
        args: KEY_VALUE,
        doc_flags: &["deprecated"],
        deprecated_since: "2.6.12",
        replaced_by: "`SET` with the `NX` argument",
        handler: Some(setnx),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setrange",
        arity: 4,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::STRING,
        keys: &[KeySpec::single(1, &["RW", "UPDATE"])],
        group: "string",
        summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
        since: "2.2.0",
        complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
        args: "key:key offset:integer value:string",
        handler: Some(setrange),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "strlen",
        arity: 2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::STRING,
        keys: &[KeySpec::single(1, &["RO"])],
        group: "string",
        summary: "Returns the length of a string value.",
        since: "2.2.0",
        complexity: "O(1)",
        args: KEY_ONLY,
        handler: Some(strlen),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "substr",
        arity: 4,
        flags: flags::READONLY,
        acl: acl::STRING,
        keys: RO_ACCESS,
        group: "string",
        summary: "Returns a substring from a string value.",
        complexity: RANGE_COMPLEXITY,
        args: RANGE_ARGS,
        doc_flags: &["deprecated"],
        deprecated_since: "2.0.0",
        replaced_by: "`GETRANGE`",
        handler: Some(getrange),
        ..CommandSpec::DEFAULT
    },
];

// ---------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------

/// Writes a string value as a bulk reply.
pub fn reply_str(ctx: &mut Ctx<'_>, s: StrRef<'_>) {
    match s {
        StrRef::Bytes(b) => ctx.out.bulk(b),
        StrRef::Int(n) => ctx.out.bulk_int(n),
    }
}

/// A new string entry encoded as SET would (see [`Entry::new_string`]),
/// with an expire time.
fn string_entry(key: &[u8], value: &[u8], expire_ms: Option<i64>) -> Entry {
    if expire_ms.is_none() {
        return Entry::new_string(key, value);
    }
    let int = if value.len() <= INT_CANDIDATE_MAX {
        parse_i64(value)
    } else {
        None
    };
    match int {
        Some(n) => Entry::new(key, NewValue::Int(n), expire_ms),
        None => Entry::new(key, NewValue::Str(value), expire_ms),
    }
}

/// Whether an option argument is `word`, ignoring ASCII case. Like Redis's
/// `strcasecmp` on the argument's C string, only the bytes before a NUL
/// count.
fn is_token(arg: &[u8], word: &str) -> bool {
    let end = memchr_nul(arg);
    arg[..end].eq_ignore_ascii_case(word.as_bytes())
}

fn memchr_nul(s: &[u8]) -> usize {
    s.iter().position(|&b| b == 0).unwrap_or(s.len())
}

/// The DIGEST of a value: XXH3-64 (seed 0) as 16 lower-case hex digits.
fn digest_hex(value: &[u8]) -> [u8; DIGEST_HEX_LEN] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let h = xxhash_rust::xxh3::xxh3_64(value);
    let mut out = [0u8; DIGEST_HEX_LEN];
    for (i, b) in out.iter_mut().enumerate() {
        *b = HEX[((h >> (60 - 4 * i)) & 0xf) as usize];
    }
    out
}

/// Whether `digest` (already checked to be 16 characters) is the digest of
/// `value`, hex compared without regard to case as Redis does.
fn digest_matches(value: &[u8], digest: &[u8]) -> bool {
    digest_hex(value).eq_ignore_ascii_case(digest)
}

/// A fixed reply for SET-like commands' outcomes.
#[derive(Clone, Copy)]
enum Ack {
    Ok,
    One,
    Zero,
    Null,
}

impl Ack {
    fn write(self, ctx: &mut Ctx<'_>) {
        match self {
            Ack::Ok => ctx.out.ok(),
            Ack::One => ctx.out.int(1),
            Ack::Zero => ctx.out.int(0),
            Ack::Null => ctx.out.null(),
        }
    }
}

// ---------------------------------------------------------------------------
// SET / GETEX / MSETEX options (Redis's parseExtendedStringArgumentsOrReply)
// ---------------------------------------------------------------------------

/// Option bits.
mod opt {
    pub const NX: u16 = 1 << 0;
    pub const XX: u16 = 1 << 1;
    pub const GET: u16 = 1 << 2;
    pub const EX: u16 = 1 << 3;
    pub const PX: u16 = 1 << 4;
    pub const EXAT: u16 = 1 << 5;
    pub const PXAT: u16 = 1 << 6;
    pub const KEEPTTL: u16 = 1 << 7;
    pub const PERSIST: u16 = 1 << 8;
    pub const IFEQ: u16 = 1 << 9;
    pub const IFNE: u16 = 1 << 10;
    pub const IFDEQ: u16 = 1 << 11;
    pub const IFDNE: u16 = 1 << 12;
    /// The value conditions of SET (8.4).
    pub const IF_ANY: u16 = IFEQ | IFNE | IFDEQ | IFDNE;
    /// Every condition of SET.
    pub const COND_ANY: u16 = NX | XX | IF_ANY;
    /// Options that give the time in milliseconds.
    pub const MILLIS: u16 = PX | PXAT;
    /// Options that give an absolute time.
    pub const ABSOLUTE: u16 = EXAT | PXAT;
}

/// Which command's options are parsed (Redis's `COMMAND_SET`, `_GET`,
/// `_MSETEX`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum OptsFor {
    Set,
    Getex,
    Msetex,
}

/// Parsed SET-style options.
#[derive(Default)]
struct StrOpts<'a> {
    flags: u16,
    /// The argument of EX/PX/EXAT/PXAT, not yet checked.
    expire: Option<&'a [u8]>,
    /// The argument of IFEQ/IFNE/IFDEQ/IFDNE.
    compare: &'a [u8],
}

impl StrOpts<'_> {
    fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }
}

/// Parses the options from argument `from` on, as Redis does: each option
/// may repeat, options that exclude each other are a syntax error, and an
/// option missing its argument is a syntax error. Writes the error and
/// returns `None` on failure.
fn parse_opts<'a>(ctx: &mut Ctx<'a>, from: usize, kind: OptsFor) -> Option<StrOpts<'a>> {
    use opt::*;
    const EXPIRY: u16 = KEEPTTL | PERSIST | EX | PX | EXAT | PXAT;
    let args: &'a [&'a [u8]] = ctx.args;
    let sets = kind != OptsFor::Getex;
    let mut o = StrOpts::default();
    let mut j = from;
    while j < args.len() {
        let a = args[j];
        let next = args.get(j + 1).map(|b| &b[..]);
        let f = o.flags;
        let ok = if sets && is_token(a, "NX") && f & (XX | IF_ANY) == 0 {
            o.flags |= NX;
            true
        } else if sets && is_token(a, "XX") && f & (NX | IF_ANY) == 0 {
            o.flags |= XX;
            true
        } else if kind == OptsFor::Set && is_token(a, "GET") {
            o.flags |= GET;
            true
        } else if sets && is_token(a, "KEEPTTL") && f & (EXPIRY & !KEEPTTL) == 0 {
            o.flags |= KEEPTTL;
            true
        } else if kind == OptsFor::Getex && is_token(a, "PERSIST") && f & (EXPIRY & !PERSIST) == 0 {
            o.flags |= PERSIST;
            true
        } else if let Some(bit) = expire_token(a)
            && f & (EXPIRY & !bit) == 0
            && let Some(arg) = next
        {
            // A repeated option is allowed: the last one wins.
            o.flags |= bit;
            o.expire = Some(arg);
            j += 1;
            true
        } else if kind == OptsFor::Set
            && f & COND_ANY == 0
            && let Some(bit) = if_token(a)
            && let Some(arg) = next
        {
            // The digest's length is checked only against an existing key
            // (see set_generic).
            o.flags |= bit;
            o.compare = arg;
            j += 1;
            true
        } else {
            false
        };
        if !ok {
            ctx.out.error(errors::SYNTAX);
            return None;
        }
        j += 1;
    }
    Some(o)
}

/// The bit of whichever of `words` the argument is.
fn token_bit(a: &[u8], words: &[(&str, u16)]) -> Option<u16> {
    words
        .iter()
        .find(|(w, _)| is_token(a, w))
        .map(|&(_, bit)| bit)
}

/// The option bit of EX, PX, EXAT or PXAT.
fn expire_token(a: &[u8]) -> Option<u16> {
    token_bit(
        a,
        &[
            ("EX", opt::EX),
            ("PX", opt::PX),
            ("EXAT", opt::EXAT),
            ("PXAT", opt::PXAT),
        ],
    )
}

/// The option bit of IFEQ, IFNE, IFDEQ or IFDNE.
fn if_token(a: &[u8]) -> Option<u16> {
    token_bit(
        a,
        &[
            ("IFEQ", opt::IFEQ),
            ("IFNE", opt::IFNE),
            ("IFDEQ", opt::IFDEQ),
            ("IFDNE", opt::IFDNE),
        ],
    )
}

/// Converts an expire argument to an absolute unix time in milliseconds,
/// as Redis's `getExpireMillisecondsOrReply`: it must be a positive
/// integer, seconds must not overflow when turned into milliseconds, and a
/// relative time must not overflow when `now` is added. Writes the error
/// (naming command `name`) and returns `None` on failure.
fn expire_at(
    ctx: &mut Ctx<'_>,
    raw: &[u8],
    millis: bool,
    absolute: bool,
    name: &str,
) -> Option<i64> {
    let Some(v) = parse_i64(raw) else {
        ctx.out.error(errors::NOT_INTEGER);
        return None;
    };
    let ms = if v <= 0 {
        None
    } else if millis {
        Some(v)
    } else {
        v.checked_mul(1000)
    };
    let at = match ms {
        Some(ms) if absolute => Some(ms),
        Some(ms) => ms.checked_add(ctx.now_ms).filter(|&t| t > 0),
        None => None,
    };
    if at.is_none() {
        ctx.out.error(&errors::invalid_expire(name));
    }
    at
}

/// The expire time the parsed options give, if any. `Err` once the error
/// is written.
fn opts_expire(ctx: &mut Ctx<'_>, o: &StrOpts<'_>, name: &str) -> Result<Option<i64>, ()> {
    match o.expire {
        None => Ok(None),
        Some(raw) => expire_at(ctx, raw, o.has(opt::MILLIS), o.has(opt::ABSOLUTE), name)
            .map(Some)
            .ok_or(()),
    }
}

// ---------------------------------------------------------------------------
// GET, SET and their variants
// ---------------------------------------------------------------------------

fn get(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    match ks.read(key) {
        None => ctx.out.null(),
        Some(e) => match e.as_str() {
            Some(StrRef::Bytes(b)) => ctx.out.bulk(b),
            Some(StrRef::Int(n)) => ctx.out.bulk_int(n),
            None => ctx.out.error(errors::WRONGTYPE),
        },
    }
}

fn set(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let value = ctx.arg(2);
    if ctx.argc() == 3 {
        // The benchmark's path: one entry, one lock, the old value freed
        // after the lock is released.
        let entry = Entry::new_string(key, value);
        let mut ks = ctx.key(key);
        let old = ks.set(entry, false);
        drop(ks);
        drop(old);
        ctx.store.add_dirty(1);
        ctx.out.ok();
        return;
    }
    let Some(o) = parse_opts(ctx, 3, OptsFor::Set) else {
        return;
    };
    let Ok(expire) = opts_expire(ctx, &o, "set") else {
        return;
    };
    set_generic(ctx, &o, key, value, expire, Ack::Ok, Ack::Null);
}

fn setnx(ctx: &mut Ctx<'_>) {
    let o = StrOpts {
        flags: opt::NX,
        ..StrOpts::default()
    };
    set_generic(ctx, &o, ctx.arg(1), ctx.arg(2), None, Ack::One, Ack::Zero);
}

fn setex(ctx: &mut Ctx<'_>) {
    setex_generic(ctx, false, "setex");
}

fn psetex(ctx: &mut Ctx<'_>) {
    setex_generic(ctx, true, "psetex");
}

fn setex_generic(ctx: &mut Ctx<'_>, millis: bool, name: &str) {
    let Some(at) = expire_at(ctx, ctx.arg(2), millis, false, name) else {
        return;
    };
    set_generic(
        ctx,
        &StrOpts::default(),
        ctx.arg(1),
        ctx.arg(3),
        Some(at),
        Ack::Ok,
        Ack::Null,
    );
}

/// SET with options (Redis's `setGenericCommand`). With GET the old value
/// is the reply whatever the outcome, and a key of another type aborts the
/// command with WRONGTYPE; otherwise the reply is `on_ok` or, when a
/// condition fails, `on_abort`.
fn set_generic(
    ctx: &mut Ctx<'_>,
    o: &StrOpts<'_>,
    key: &[u8],
    value: &[u8],
    expire: Option<i64>,
    on_ok: Ack,
    on_abort: Ack,
) {
    use opt::*;
    let entry = string_entry(key, value, expire);
    let get = o.has(GET);
    let mut ks = ctx.key(key);
    // Redis 8.4 refuses a digest of the wrong length only when there is a
    // value to compare it with: on a missing key IFDEQ just fails and IFDNE
    // just passes.
    if o.has(IFDEQ | IFDNE) && o.compare.len() != DIGEST_HEX_LEN && ks.write(key).is_some() {
        drop(ks);
        ctx.out.error(BAD_DIGEST);
        return;
    }
    let mut found = None;
    if get {
        found = reply_value(ctx, &mut ks, key);
        if found.is_none() {
            return;
        }
    }
    let pass = if o.has(NX | XX) {
        let exists = match found {
            Some(f) => f,
            None => ks.write(key).is_some(),
        };
        exists == o.has(XX)
    } else if o.has(IF_ANY) {
        let cond = o.flags & IF_ANY;
        let outcome = match ks.write(key) {
            // A missing key passes only the "not equal" conditions.
            None => Some(cond & (IFNE | IFDNE) != 0),
            Some(e) => e.as_str().map(|s| {
                s.with_bytes(|cur| match cond {
                    IFEQ => cur == o.compare,
                    IFNE => cur != o.compare,
                    IFDEQ => digest_matches(cur, o.compare),
                    _ => !digest_matches(cur, o.compare),
                })
            }),
        };
        match outcome {
            Some(pass) => pass,
            None => {
                // Another type: only reachable without GET, which already
                // replied WRONGTYPE.
                ctx.out.error(errors::WRONGTYPE);
                return;
            }
        }
    } else {
        true
    };
    if !pass {
        if !get {
            on_abort.write(ctx);
        }
        return;
    }
    let old = ks.set(entry, o.has(KEEPTTL));
    drop(ks);
    drop(old);
    ctx.store.add_dirty(1);
    if !get {
        on_ok.write(ctx);
    }
    if ctx.propagating() {
        propagate_set(ctx, o, key, value, expire);
    }
}

/// What a SET (SETEX, PSETEX) that set the key propagates, as Redis's
/// `setGenericCommand`: with a relative or second-based time, `SET key
/// value PXAT <ms>` (the conditions are met already, so they go); with
/// GET and no time, the command without its GET; otherwise as called.
fn propagate_set(
    ctx: &mut Ctx<'_>,
    o: &StrOpts<'_>,
    key: &[u8],
    value: &[u8],
    expire: Option<i64>,
) {
    if let Some(at) = expire {
        if !o.has(opt::PXAT) {
            let at = rewrite::int_text(at);
            ctx.propagate(&[b"SET", key, value, b"PXAT", &at[..]]);
        }
    } else if o.has(opt::GET) {
        let args = ctx.args;
        let kept: Vec<&[u8]> = args
            .iter()
            .enumerate()
            .filter(|&(j, a)| j < 3 || !is_token(a, "GET"))
            .map(|(_, a)| *a)
            .collect();
        ctx.propagate(&kept);
    }
}

/// Replies with the string at `key` (null if missing). Returns whether the
/// key holds a string, `None` after a WRONGTYPE reply (Redis's
/// `getGenericCommand`).
fn reply_value(ctx: &mut Ctx<'_>, ks: &mut crate::Keyspace<'_>, key: &[u8]) -> Option<bool> {
    match ks.read(key) {
        None => {
            ctx.out.null();
            Some(false)
        }
        Some(e) => match e.as_str() {
            Some(s) => {
                reply_str(ctx, s);
                Some(true)
            }
            None => {
                ctx.out.error(errors::WRONGTYPE);
                None
            }
        },
    }
}

fn getset(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let entry = Entry::new_string(key, ctx.arg(2));
    let mut ks = ctx.key(key);
    if reply_value(ctx, &mut ks, key).is_none() {
        return;
    }
    let old = ks.set(entry, false);
    drop(ks);
    drop(old);
    ctx.store.add_dirty(1);
    // Propagated as SET (Redis's getsetCommand).
    if ctx.propagating() {
        ctx.propagate(&[b"SET", key, ctx.arg(2)]);
    }
}

fn getdel(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    if reply_value(ctx, &mut ks, key) == Some(true) {
        let old = ks.remove(key);
        drop(ks);
        drop(old);
        ctx.store.add_dirty(1);
        ctx.propagate(&[&b"DEL"[..], key]);
    }
}

fn getex(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let Some(o) = parse_opts(ctx, 2, OptsFor::Getex) else {
        return;
    };
    let mut ks = ctx.key(key);
    let (expire, had_ttl) = {
        let Some(e) = ks.read(key) else {
            ctx.out.null();
            return;
        };
        let Some(s) = e.as_str() else {
            ctx.out.error(errors::WRONGTYPE);
            return;
        };
        // The expire time is checked only once the key is known to hold a
        // string, as Redis does.
        let Ok(expire) = opts_expire(ctx, &o, "getex") else {
            return;
        };
        reply_str(ctx, s);
        (expire, e.expire_ms().is_some())
    };
    // Never propagated as called (Redis's getexCommand): as DEL/UNLINK,
    // PEXPIREAT or PERSIST, or not at all.
    let changed = match expire {
        Some(at) if o.has(opt::ABSOLUTE) && ctx.already_expired(at) => {
            // A time already past deletes the key.
            let old = ks.remove(key);
            drop(ks);
            drop(old);
            ctx.propagate(&[rewrite::expired_del(ctx.store), key]);
            true
        }
        Some(at) => {
            let changed = ks.set_expire(key, Some(at));
            drop(ks);
            if ctx.propagating() {
                ctx.propagate(&[b"PEXPIREAT", key, &rewrite::int_text(at)[..]]);
            }
            changed
        }
        None if o.has(opt::PERSIST) && had_ttl => {
            let changed = ks.set_expire(key, None);
            drop(ks);
            ctx.propagate(&[&b"PERSIST"[..], key]);
            changed
        }
        None => false,
    };
    if changed {
        ctx.store.add_dirty(1);
    }
}

fn mget(ctx: &mut Ctx<'_>) {
    let args = ctx.args;
    let keys = &args[1..];
    let mut ks = ctx.keys(keys);
    ctx.out.array(keys.len());
    for key in keys {
        match ks.read(key) {
            Some(e) => match e.as_str() {
                Some(s) => reply_str(ctx, s),
                None => ctx.out.null(),
            },
            None => ctx.out.null(),
        }
    }
}

/// The keys and new entries (with expire time `expire`) of the `n`
/// MSET-like pairs from argument `from` on, built before any lock is taken.
fn pairs<'a>(
    ctx: &Ctx<'a>,
    from: usize,
    n: usize,
    expire: Option<i64>,
) -> (Vec<&'a [u8]>, Vec<Entry>) {
    let args: &'a [&'a [u8]] = ctx.args;
    let args = &args[from..from + 2 * n];
    let keys = args.iter().step_by(2).map(|k| &k[..]).collect();
    let entries = args
        .chunks_exact(2)
        .map(|kv| string_entry(kv[0], kv[1], expire))
        .collect();
    (keys, entries)
}

fn mset(ctx: &mut Ctx<'_>) {
    mset_generic(ctx, false);
}

fn msetnx(ctx: &mut Ctx<'_>) {
    mset_generic(ctx, true);
}

fn mset_generic(ctx: &mut Ctx<'_>, nx: bool) {
    if ctx.argc() % 2 == 0 {
        let name = if nx { "msetnx" } else { "mset" };
        ctx.out.error(&errors::wrong_arity(name));
        return;
    }
    let n = ctx.argc() / 2;
    let (keys, entries) = pairs(ctx, 1, n, None);
    let mut ks = ctx.keys(&keys);
    if nx && keys.iter().any(|k| ks.write(k).is_some()) {
        drop(ks);
        ctx.out.int(0);
        return;
    }
    for e in entries {
        ks.set(e, false);
    }
    drop(ks);
    ctx.store.add_dirty(n as u64);
    if nx { ctx.out.int(1) } else { ctx.out.ok() }
}

fn msetex(ctx: &mut Ctx<'_>) {
    // Like Redis's getRangeLongFromObjectOrReply(1, INT_MAX): a numkeys
    // that is not an integer or is out of that range gets the same error.
    let numkeys = match parse_i64(ctx.arg(1)) {
        Some(n) if (1..=i64::from(i32::MAX)).contains(&n) => n,
        _ => {
            ctx.out.error(BAD_NUMKEYS);
            return;
        }
    };
    let room = (ctx.argc() - 2) / 2;
    if numkeys as u64 > room as u64 {
        ctx.out.error(BAD_PAIRS);
        return;
    }
    let n = numkeys as usize;
    let Some(o) = parse_opts(ctx, 2 + 2 * n, OptsFor::Msetex) else {
        return;
    };
    let Ok(expire) = opts_expire(ctx, &o, "msetex") else {
        return;
    };
    let (keys, entries) = pairs(ctx, 2, n, expire);
    let mut ks = ctx.keys(&keys);
    if o.has(opt::NX | opt::XX) {
        let want = o.has(opt::XX);
        if keys.iter().any(|k| ks.write(k).is_some() != want) {
            drop(ks);
            ctx.out.int(0);
            return;
        }
    }
    let keep_ttl = o.has(opt::KEEPTTL);
    for e in entries {
        ks.set(e, keep_ttl);
    }
    drop(ks);
    ctx.store.add_dirty(n as u64);
    ctx.out.int(1);
    // A relative or second-based time is propagated as PXAT, as SET's.
    if let Some(at) = expire
        && !o.has(opt::PXAT)
        && ctx.propagating()
    {
        let from = 2 + 2 * n;
        let args = ctx.args;
        let at = rewrite::int_text(at);
        let mut argv: Vec<&[u8]> = args[..from].to_vec();
        let mut j = from;
        while j < args.len() {
            if expire_token(args[j]).is_some() {
                j += 2;
            } else {
                argv.push(args[j]);
                j += 1;
            }
        }
        argv.push(b"PXAT");
        argv.push(&at);
        ctx.propagate(&argv);
    }
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

fn incr(ctx: &mut Ctx<'_>) {
    incr_decr(ctx, 1);
}

fn decr(ctx: &mut Ctx<'_>) {
    incr_decr(ctx, -1);
}

fn incrby(ctx: &mut Ctx<'_>) {
    if let Some(by) = ctx.int_arg(2) {
        incr_decr(ctx, by);
    }
}

fn decrby(ctx: &mut Ctx<'_>) {
    let Some(by) = ctx.int_arg(2) else {
        return;
    };
    match by.checked_neg() {
        Some(by) => incr_decr(ctx, by),
        None => ctx.out.error(DECR_OVERFLOW),
    }
}

/// INCR and friends (Redis's `incrDecrCommand`): the value must be the
/// canonical text of an `i64`; the result is stored as an integer, in
/// place, keeping the key's TTL.
fn incr_decr(ctx: &mut Ctx<'_>, by: i64) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let done = match ks.write(key) {
        None => None,
        Some(mut e) => {
            let current = match e.as_str() {
                None => Err(errors::WRONGTYPE),
                Some(StrRef::Int(n)) => Ok(n),
                Some(StrRef::Bytes(b)) => parse_i64(b).ok_or(errors::NOT_INTEGER),
            };
            Some(current.and_then(|cur| {
                let n = cur.checked_add(by).ok_or(errors::INCR_OVERFLOW)?;
                e.set_int(n);
                Ok(n)
            }))
        }
    };
    let n = match done {
        Some(Ok(n)) => n,
        Some(Err(msg)) => {
            drop(ks);
            ctx.out.error(msg);
            return;
        }
        None => {
            ks.add(Entry::new(key, NewValue::Int(by), None));
            by
        }
    };
    drop(ks);
    ctx.store.add_dirty(1);
    ctx.out.int(n);
}

/// INCRBYFLOAT: long double arithmetic and `%.17Lf` text, byte for byte as
/// Redis (see [`viator_types::number::incr_by_float`]); the result is stored
/// as text, keeping the key's TTL.
fn incrbyfloat(ctx: &mut Ctx<'_>) {
    use viator_types::number::incr_by_float;
    let key = ctx.arg(1);
    let incr = ctx.arg(2);
    let mut ks = ctx.key(key);
    let done = ks.write(key).map(|mut e| match e.as_str() {
        None => Err(errors::WRONGTYPE),
        Some(s) => match s.with_bytes(|cur| incr_by_float(Some(cur), incr)) {
            Ok(text) => {
                e.set_value(NewValue::Str(text.as_bytes()));
                Ok(text)
            }
            Err(err) => Err(err.redis_message()),
        },
    });
    let text = match done {
        Some(r) => r,
        None => incr_by_float(None, incr)
            .inspect(|text| ks.add(Entry::new(key, NewValue::Str(text.as_bytes()), None)))
            .map_err(|err| err.redis_message()),
    };
    drop(ks);
    match text {
        Ok(text) => {
            ctx.store.add_dirty(1);
            ctx.out.bulk(text.as_bytes());
            // Propagated as SET with the result, so that float formatting
            // cannot make a replay differ (Redis's incrbyfloatCommand).
            ctx.propagate(&[b"SET", key, text.as_bytes(), b"KEEPTTL"]);
        }
        Err(msg) => ctx.out.error(msg),
    }
}

// ---------------------------------------------------------------------------
// Growing and reading parts of strings
// ---------------------------------------------------------------------------

/// Whether a string of `total` bytes (or an overflowing size) is over
/// proto-max-bulk-len; writes the error if so (Redis's `checkStringLength`).
fn too_long(ctx: &mut Ctx<'_>, total: Option<u64>) -> bool {
    let max = ctx
        .store
        .settings
        .proto_max_bulk_len
        .load(std::sync::atomic::Ordering::Relaxed);
    let over = total.is_none_or(|t| t > max);
    if over {
        ctx.out.error(errors::STRING_TOO_LONG);
    }
    over
}

fn append(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let tail = ctx.arg(2);
    let mut ks = ctx.key(key);
    let len = match ks.write(key) {
        None => None,
        Some(mut e) => {
            let Some(cur) = e.as_str() else {
                ctx.out.error(errors::WRONGTYPE);
                return;
            };
            if too_long(ctx, (cur.len() as u64).checked_add(tail.len() as u64)) {
                return;
            }
            // Always made raw, even for an empty tail, like Redis's
            // dbUnshareStringValue.
            let buf = e.heap_str_mut().expect("checked to be a string");
            buf.extend_from_slice(tail);
            Some(buf.len())
        }
    };
    let len = match len {
        Some(len) => len,
        None => {
            ks.add(Entry::new_string(key, tail));
            tail.len()
        }
    };
    drop(ks);
    ctx.store.add_dirty(1);
    ctx.out.int(len as i64);
}

fn setrange(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let value = ctx.arg(3);
    let Some(offset) = ctx.int_arg(2) else {
        return;
    };
    if offset < 0 {
        ctx.out.error(errors::OFFSET_OUT_OF_RANGE);
        return;
    }
    let offset = offset as u64;
    let end = offset.checked_add(value.len() as u64);
    let mut ks = ctx.key(key);
    let len = match ks.write(key) {
        None => None,
        Some(mut e) => {
            let Some(cur) = e.as_str() else {
                ctx.out.error(errors::WRONGTYPE);
                return;
            };
            if value.is_empty() {
                // Setting nothing: the length, and no change at all.
                ctx.out.int(cur.len() as i64);
                return;
            }
            if too_long(ctx, end) {
                return;
            }
            let (start, end) = (offset as usize, end.unwrap_or_default() as usize);
            let buf = e.heap_str_mut().expect("checked to be a string");
            if buf.len() < end {
                buf.resize(end, 0);
            }
            buf[start..end].copy_from_slice(value);
            Some(buf.len())
        }
    };
    let len = match len {
        Some(len) => len,
        None if value.is_empty() => {
            ctx.out.int(0);
            return;
        }
        None => {
            if too_long(ctx, end) {
                return;
            }
            let (start, end) = (offset as usize, end.unwrap_or_default() as usize);
            let mut buf = vec![0u8; end];
            buf[start..].copy_from_slice(value);
            ks.add(Entry::new(key, NewValue::Heap(buf), None));
            end
        }
    };
    drop(ks);
    ctx.store.add_dirty(1);
    ctx.out.int(len as i64);
}

fn strlen(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    match ks.read(key) {
        None => ctx.out.int(0),
        Some(e) => match e.as_str() {
            Some(s) => ctx.out.int(s.len() as i64),
            None => ctx.out.error(errors::WRONGTYPE),
        },
    }
}

/// GETRANGE and SUBSTR, with Redis's index rules: negative indexes count
/// from the end; a start below the string is clamped to 0 (so `-100 -100`
/// on a short string gives its first byte, as Redis does); an end past the
/// string is clamped to its last byte.
fn getrange(ctx: &mut Ctx<'_>) {
    let Some(start) = ctx.int_arg(2) else {
        return;
    };
    let Some(end) = ctx.int_arg(3) else {
        return;
    };
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let Some(e) = ks.read(key) else {
        ctx.out.bulk(b"");
        return;
    };
    let Some(s) = e.as_str() else {
        ctx.out.error(errors::WRONGTYPE);
        return;
    };
    s.with_bytes(|b| match byte_range(start, end, b.len()) {
        Some((from, to)) => ctx.out.bulk(&b[from..=to]),
        None => ctx.out.bulk(b""),
    });
}

/// The inclusive byte range GETRANGE returns, `None` for an empty reply.
fn byte_range(mut start: i64, mut end: i64, len: usize) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len = len as i64;
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

// ---------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------

/// One match of LCS IDX: ranges in both strings (inclusive) and length.
struct LcsMatch {
    a: (u32, u32),
    b: (u32, u32),
    len: u32,
}

fn lcs(ctx: &mut Ctx<'_>) {
    let (k1, k2) = (ctx.arg(1), ctx.arg(2));
    let mut ks = ctx.keys(&[k1, k2]);
    // Both keys are looked up (and counted) before either type is checked.
    let mut copy = |k: &[u8]| match ks.read(k) {
        None => Some(Vec::new()),
        Some(e) => e.as_str().map(|s| s.to_vec()),
    };
    let (a, b) = (copy(k1), copy(k2));
    drop(ks);
    let (Some(a), Some(b)) = (a, b) else {
        ctx.out.error(LCS_WRONGTYPE);
        return;
    };
    let (mut getlen, mut getidx, mut withmatchlen) = (false, false, false);
    let mut minmatchlen = 0i64;
    let mut j = 3;
    while j < ctx.argc() {
        let o = ctx.arg(j);
        if is_token(o, "IDX") {
            getidx = true;
        } else if is_token(o, "LEN") {
            getlen = true;
        } else if is_token(o, "WITHMATCHLEN") {
            withmatchlen = true;
        } else if is_token(o, "MINMATCHLEN") && j + 1 < ctx.argc() {
            let Some(n) = ctx.int_arg(j + 1) else {
                return;
            };
            minmatchlen = n.max(0);
            j += 1;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    if getidx && getlen {
        ctx.out.error(LCS_LEN_AND_IDX);
        return;
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        ctx.out.error(LCS_TOO_LONG);
        return;
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    let bytes = cells.saturating_mul(4);
    if bytes
        > ctx
            .store
            .settings
            .proto_max_bulk_len
            .load(std::sync::atomic::Ordering::Relaxed)
    {
        ctx.out.error(LCS_TABLE_TOO_BIG);
        return;
    }
    let Some(table) = lcs_table(&a, &b, cells as usize) else {
        ctx.out.error(LCS_NO_MEMORY);
        return;
    };
    let total = table[cells as usize - 1];
    if getlen {
        ctx.out.int(i64::from(total));
        return;
    }
    let (text, matches) = lcs_walk(&a, &b, &table, total, minmatchlen, getidx);
    if !getidx {
        ctx.out.bulk(&text);
        return;
    }
    ctx.out.map(2);
    ctx.out.bulk(b"matches");
    ctx.out.array(matches.len());
    for m in &matches {
        ctx.out.array(2 + usize::from(withmatchlen));
        ctx.out.array(2);
        ctx.out.int(i64::from(m.a.0));
        ctx.out.int(i64::from(m.a.1));
        ctx.out.array(2);
        ctx.out.int(i64::from(m.b.0));
        ctx.out.int(i64::from(m.b.1));
        if withmatchlen {
            ctx.out.int(i64::from(m.len));
        }
    }
    ctx.out.bulk(b"len");
    ctx.out.int(i64::from(total));
}

/// The dynamic programming table: cell `j + (blen+1)*i` holds the LCS
/// length of `a[..i]` and `b[..j]`. `None` if it cannot be allocated.
fn lcs_table(a: &[u8], b: &[u8], cells: usize) -> Option<Vec<u32>> {
    let mut t: Vec<u32> = Vec::new();
    t.try_reserve_exact(cells).ok()?;
    t.resize(cells, 0);
    let w = b.len() + 1;
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            t[j + w * i] = if a[i - 1] == b[j - 1] {
                t[(j - 1) + w * (i - 1)] + 1
            } else {
                t[j + w * (i - 1)].max(t[(j - 1) + w * i])
            };
        }
    }
    Some(t)
}

/// Walks the table back from the end as Redis does, building the LCS text
/// and, when `ranges`, the matching ranges from last to first (those
/// shorter than `minmatchlen` left out).
fn lcs_walk(
    a: &[u8],
    b: &[u8],
    t: &[u32],
    total: u32,
    minmatchlen: i64,
    ranges: bool,
) -> (Vec<u8>, Vec<LcsMatch>) {
    let w = b.len() + 1;
    let alen = a.len() as u32;
    let mut text = vec![0u8; total as usize];
    let mut matches = Vec::new();
    let mut idx = total as usize;
    let (mut i, mut j) = (a.len(), b.len());
    // arange_start == alen means "no range open".
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0u32, 0u32, 0u32);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            text[idx - 1] = a[i - 1];
            if a_start == alen {
                a_start = (i - 1) as u32;
                a_end = a_start;
                b_start = (j - 1) as u32;
                b_end = b_start;
            } else if a_start as usize == i && b_start as usize == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t[j + w * (i - 1)] > t[(j - 1) + w * i] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        if emit {
            let len = a_end - a_start + 1;
            if ranges && (minmatchlen == 0 || i64::from(len) >= minmatchlen) {
                matches.push(LcsMatch {
                    a: (a_start, a_end),
                    b: (b_start, b_end),
                    len,
                });
            }
            a_start = alen;
        }
    }
    (text, matches)
}

// ---------------------------------------------------------------------------
// DIGEST and DELEX (8.4)
// ---------------------------------------------------------------------------

fn digest(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    match ks.read(key) {
        None => ctx.out.null(),
        Some(e) => match e.as_str() {
            Some(s) => {
                let hex = s.with_bytes(digest_hex);
                ctx.out.bulk(&hex);
            }
            None => ctx.out.error(errors::WRONGTYPE),
        },
    }
}

/// DELEX: with no condition it is DEL of one key of any type; with one, the
/// key must hold a string and is deleted only if the condition holds.
fn delex(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    if ctx.argc() == 2 {
        let mut ks = ctx.key(key);
        let old = ks.remove(key);
        drop(ks);
        let deleted = old.is_some();
        drop(old);
        if deleted {
            ctx.store.add_dirty(1);
        }
        ctx.out.int(i64::from(deleted));
        return;
    }
    if ctx.argc() != 4 {
        ctx.out.error(&errors::wrong_arity("delex"));
        return;
    }
    let (cond, arg) = (ctx.arg(2), ctx.arg(3));
    let mut ks = ctx.key(key);
    let verdict = {
        let Some(e) = ks.write(key) else {
            ctx.out.int(0);
            return;
        };
        let Some(s) = e.as_str() else {
            ctx.out.error(errors::WRONGTYPE);
            return;
        };
        if is_token(cond, "IFEQ") {
            Ok(s.with_bytes(|cur| cur == arg))
        } else if is_token(cond, "IFNE") {
            Ok(s.with_bytes(|cur| cur != arg))
        } else if is_token(cond, "IFDEQ") || is_token(cond, "IFDNE") {
            if arg.len() == DIGEST_HEX_LEN {
                let same = s.with_bytes(|cur| digest_matches(cur, arg));
                Ok(same == is_token(cond, "IFDEQ"))
            } else {
                Err(BAD_DIGEST)
            }
        } else {
            Err(DELEX_BAD_CONDITION)
        }
    };
    match verdict {
        Err(msg) => ctx.out.error(msg),
        Ok(false) => ctx.out.int(0),
        Ok(true) => {
            let old = ks.remove(key);
            drop(ks);
            drop(old);
            ctx.store.add_dirty(1);
            ctx.out.int(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_zero_padded_xxh3_hex() {
        assert_eq!(&digest_hex(b"Hello world"), b"b6acb9d84a38ff74");
        // The value from redis/redis#14496 whose hash starts with zeros.
        let v = b"v8lf0c11xh8ymlqztfd3eeq16kfn4sspw7fqmnuuq3k3t75em5wdizgcdw7uc26nnf961u2jkfzkjytls2kwlj7626sd";
        assert_eq!(&digest_hex(v), b"00006c38adf31777");
        assert!(digest_matches(b"Hello world", b"B6ACB9D84A38FF74"));
        assert!(!digest_matches(b"Hello world", b"b6acb9d84a38ff75"));
    }

    #[test]
    fn byte_range_follows_redis() {
        assert_eq!(byte_range(0, -1, 5), Some((0, 4)));
        assert_eq!(byte_range(-200, -100, 16), Some((0, 0)));
        assert_eq!(byte_range(0, -100, 16), Some((0, 0)));
        assert_eq!(byte_range(-1, -3, 16), None);
        assert_eq!(byte_range(10, 100, 16), Some((10, 15)));
        assert_eq!(byte_range(100, 200, 16), None);
        assert_eq!(byte_range(0, 0, 0), None);
        assert_eq!(byte_range(i64::MIN, i64::MIN, 16), Some((0, 0)));
        assert_eq!(byte_range(i64::MAX, i64::MAX, 16), None);
        assert_eq!(byte_range(0, i64::MAX, 16), Some((0, 15)));
    }

    #[test]
    fn tokens_compare_like_strcasecmp() {
        assert!(is_token(b"nx", "NX"));
        assert!(is_token(b"Nx\0junk", "NX"));
        assert!(!is_token(b"NXX", "NX"));
        assert!(!is_token(b"", "NX"));
    }

    #[test]
    fn every_command_is_in_the_string_group_with_a_handler() {
        for c in COMMANDS {
            assert_eq!(c.group, "string", "{}", c.name);
            assert!(c.handler.is_some(), "{}", c.name);
            assert!(c.acl & acl::STRING != 0, "{}", c.name);
            assert!(
                !c.summary.is_empty() && !c.complexity.is_empty() && !c.args.is_empty(),
                "{}",
                c.name
            );
        }
        let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 25);
    }
}
