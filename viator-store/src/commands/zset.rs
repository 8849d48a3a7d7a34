//! The commands of sorted sets (Redis's `t_zset.c`).
//!
//! Every handler makes its checks in the order of its Redis counterpart, so
//! that a request with several faults gets the same error: ZADD checks its
//! options, then every score, then the key's type; the range commands parse
//! their range before looking the key up; ZUNION and friends check the
//! types of their inputs before their options.
//!
//! Ranges of every kind (by rank, score or lex) become a span of ranks:
//! the bounds are found with two O(log n) searches
//! ([`ZSet::partition_point`]), so the reply's length is known before it
//! is written and LIMIT is arithmetic on ranks.
//!
//! Scores are replied as doubles (`,1.5` in RESP3, a bulk string in RESP2)
//! in Redis's format; WITHSCORES pairs are nested two-element arrays in
//! RESP3 where Redis nests them (ZRANGE, ZRANDMEMBER, ZUNION, ZPOPMIN with
//! a count) and flat in RESP2.

use std::collections::HashMap;
use std::sync::atomic::Ordering as AtomicOrdering;

use viator_protocol::ReplyBuf;
use viator_types::entry::{Entry, NewValue, Object, ValueType};
use viator_types::glob::glob_match;
use viator_types::number::parse_f64_strict;
use viator_types::zset::{Limits, ZSet};

use super::rewrite;
use crate::blocking::{BlockedOn, TimeoutReply};
use crate::command::{BeginSearch, CommandSpec, Ctx, FindKeys, KeySpec, acl, flags};
use crate::errors;

/// ZADD with both NX and XX.
const XX_AND_NX: &str = "ERR XX and NX options at the same time are not compatible";
/// ZADD with GT/LT/NX mixed.
const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
/// ZADD INCR with several pairs.
const INCR_SINGLE: &str = "ERR INCR option supports a single increment-element pair";
/// An increment that makes a score NaN.
const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";
/// A score range bound that does not parse.
const BAD_SCORE_RANGE: &str = "ERR min or max is not a float";
/// A lex range bound that does not parse.
const BAD_LEX_RANGE: &str = "ERR min or max not valid string range item";
/// ZRANGE by rank with LIMIT.
const LIMIT_NEEDS_BY: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
/// ZRANGE BYLEX with WITHSCORES.
const BYLEX_WITHSCORES: &str =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
/// A WEIGHTS value that does not parse.
const BAD_WEIGHT: &str = "ERR weight value is not a float";

/// The most elements ZRANDMEMBER with a negative count replies with. Redis
/// has no bound (it builds whatever reply is asked, up to 2^63 elements);
/// Viator refuses counts whose reply could not fit in memory.
const RANDMEMBER_MAX: u64 = 1 << 27;

/// The sorted set family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "zadd",
        arity: -4,
        flags: flags::WRITE | flags::DENYOOM | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RW", "UPDATE"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Add one or more members to a sorted set, or update its score if it already exists",
        since: "1.2.0",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        args: "key:key [condition:(NX | XX)@3.0.2] [comparison:(GT | LT)@6.2.0] [CH=change@3.0.2] [INCR=increment@3.0.2] score_member:{score:double member:string}...",
        history: &[
            ("2.4.0", "Accepts multiple elements."),
            ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
            ("6.2.0", "Added the `GT` and `LT` options."),
        ],
        handler: Some(zadd),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zincrby",
        arity: 4,
        flags: flags::WRITE | flags::DENYOOM | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RW", "ACCESS", "UPDATE"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Increment the score of a member in a sorted set",
        since: "1.2.0",
        complexity: "O(log(N)) where N is the number of elements in the sorted set.",
        args: "key:key increment:integer member:string",
        handler: Some(zincrby),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrem",
        arity: -3,
        flags: flags::WRITE | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RW", "DELETE"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Remove one or more members from a sorted set",
        since: "1.2.0",
        complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
        args: "key:key member:string...",
        history: &[("2.4.0", "Accepts multiple elements.")],
        handler: Some(zrem),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zcard",
        arity: 2,
        flags: flags::READONLY | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Get the number of members in a sorted set",
        since: "1.2.0",
        complexity: "O(1)",
        args: "key:key",
        handler: Some(zcard),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zcount",
        arity: 4,
        flags: flags::READONLY | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Count the members in a sorted set with scores within the given values",
        since: "2.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        args: "key:key min:double max:double",
        handler: Some(zcount),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zlexcount",
        arity: 4,
        flags: flags::READONLY | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Count the number of members in a sorted set between a given lexicographical range",
        since: "2.8.9",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        args: "key:key min:string max:string",
        handler: Some(zlexcount),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zscore",
        arity: 3,
        flags: flags::READONLY | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Get the score associated with the given member in a sorted set",
        since: "1.2.0",
        complexity: "O(1)",
        args: "key:key member:string",
        handler: Some(zscore),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zmscore",
        arity: -3,
        flags: flags::READONLY | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Get the score associated with the given members in a sorted set",
        since: "6.2.0",
        complexity: "O(N) where N is the number of members being requested.",
        args: "key:key member:string...",
        handler: Some(zmscore),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrank",
        arity: -3,
        flags: flags::READONLY | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Determine the index of a member in a sorted set",
        since: "2.0.0",
        complexity: "O(log(N))",
        args: "key:key member:string [WITHSCORE]",
        history: &[("7.2.0", "Added the optional `WITHSCORE` argument.")],
        handler: Some(zrank),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrevrank",
        arity: -3,
        flags: flags::READONLY | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Determine the index of a member in a sorted set, with scores ordered from high to low",
        since: "2.0.0",
        complexity: "O(log(N))",
        args: "key:key member:string [WITHSCORE]",
        history: &[("7.2.0", "Added the optional `WITHSCORE` argument.")],
        handler: Some(zrevrank),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrange",
        arity: -4,
        flags: flags::READONLY,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Return a range of members in a sorted set",
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        args: "key:key start:string stop:string [sortby:(BYSCORE | BYLEX)@6.2.0] [REV@6.2.0] [LIMIT=offset_count:{offset:integer count:integer}@6.2.0] [WITHSCORES]",
        history: &[(
            "6.2.0",
            "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options.",
        )],
        handler: Some(zrange),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrangestore",
        arity: -5,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::SORTEDSET,
        keys: &[
            KeySpec {
                flags: &["OW", "UPDATE"],
                begin: BeginSearch::Index(1),
                find: FindKeys::Range {
                    lastkey: 0,
                    keystep: 1,
                    limit: 0,
                },
                notes: "",
            },
            KeySpec {
                flags: &["RO", "ACCESS"],
                begin: BeginSearch::Index(2),
                find: FindKeys::Range {
                    lastkey: 0,
                    keystep: 1,
                    limit: 0,
                },
                notes: "",
            },
        ],
        group: "sorted-set",
        summary: "Store a range of members from sorted set into another key",
        since: "6.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
        args: "dst:key src:key min:string max:string [sortby:(BYSCORE | BYLEX)] [REV] [LIMIT=offset_count:{offset:integer count:integer}]",
        handler: Some(zrangestore),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrangebyscore",
        arity: -4,
        flags: flags::READONLY,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Return a range of members in a sorted set, by score",
        since: "1.0.5",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        args: "key:key min:double max:double [WITHSCORES@2.0.0] [LIMIT=offset_count:{offset:integer count:integer}]",
        history: &[("2.0.0", "Added the `WITHSCORES` modifier.")],
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `BYSCORE` argument",
        handler: Some(zrangebyscore),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrevrangebyscore",
        arity: -4,
        flags: flags::READONLY,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Return a range of members in a sorted set, by score, with scores ordered from high to low",
        since: "2.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        args: "key:key max:double min:double [WITHSCORES] [LIMIT=offset_count:{offset:integer count:integer}]",
        history: &[("2.1.6", "`min` and `max` can be exclusive.")],
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `REV` and `BYSCORE` arguments",
        handler: Some(zrevrangebyscore),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrangebylex",
        arity: -4,
        flags: flags::READONLY,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Return a range of members in a sorted set, by lexicographical range",
        since: "2.8.9",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        args: "key:key min:string max:string [LIMIT=offset_count:{offset:integer count:integer}]",
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `BYLEX` argument",
        handler: Some(zrangebylex),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrevrangebylex",
        arity: -4,
        flags: flags::READONLY,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
        since: "2.8.9",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        args: "key:key max:string min:string [LIMIT=offset_count:{offset:integer count:integer}]",
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `REV` and `BYLEX` arguments",
        handler: Some(zrevrangebylex),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrevrange",
        arity: -4,
        flags: flags::READONLY,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Return a range of members in a sorted set, by index, with scores ordered from high to low",
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        args: "key:key start:integer stop:integer [WITHSCORES]",
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`ZRANGE` with the `REV` argument",
        handler: Some(zrevrange),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zremrangebyrank",
        arity: 4,
        flags: flags::WRITE,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RW", "DELETE"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Remove all members in a sorted set within the given indexes",
        since: "2.0.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        args: "key:key start:integer stop:integer",
        handler: Some(zremrangebyrank),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zremrangebyscore",
        arity: 4,
        flags: flags::WRITE,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RW", "DELETE"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Remove all members in a sorted set within the given scores",
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        args: "key:key min:double max:double",
        handler: Some(zremrangebyscore),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zremrangebylex",
        arity: 4,
        flags: flags::WRITE,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RW", "DELETE"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Remove all members in a sorted set between the given lexicographical range",
        since: "2.8.9",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        args: "key:key min:string max:string",
        handler: Some(zremrangebylex),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zpopmin",
        arity: -2,
        flags: flags::WRITE | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RW", "ACCESS", "DELETE"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Remove and return members with the lowest scores in a sorted set",
        since: "5.0.0",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        args: "key:key [count:integer]",
        handler: Some(zpopmin),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zpopmax",
        arity: -2,
        flags: flags::WRITE | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RW", "ACCESS", "DELETE"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Remove and return members with the highest scores in a sorted set",
        since: "5.0.0",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        args: "key:key [count:integer]",
        handler: Some(zpopmax),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zmpop",
        arity: -4,
        flags: flags::WRITE,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RW", "ACCESS", "DELETE"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Remove and return members with scores in a sorted set",
        since: "7.0.0",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        args: "numkeys:integer key:key... where:(MIN | MAX) [COUNT=count:integer]",
        handler: Some(zmpop),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bzpopmin",
        arity: -3,
        flags: flags::WRITE | flags::NOSCRIPT | flags::BLOCKING | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RW", "ACCESS", "DELETE"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: -2,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
        since: "5.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        args: "key:key... timeout:double",
        history: &[(
            "6.0.0",
            "`timeout` is interpreted as a double instead of an integer.",
        )],
        handler: Some(bzpopmin),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bzpopmax",
        arity: -3,
        flags: flags::WRITE | flags::NOSCRIPT | flags::BLOCKING | flags::FAST,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RW", "ACCESS", "DELETE"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: -2,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
        since: "5.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        args: "key:key... timeout:double",
        history: &[(
            "6.0.0",
            "`timeout` is interpreted as a double instead of an integer.",
        )],
        handler: Some(bzpopmax),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bzmpop",
        arity: -5,
        flags: flags::WRITE | flags::BLOCKING,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RW", "ACCESS", "DELETE"],
            begin: BeginSearch::Index(2),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Remove and return members with scores in a sorted set or block until one is available",
        since: "7.0.0",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        args: "timeout:double numkeys:integer key:key... where:(MIN | MAX) [COUNT=count:integer]",
        handler: Some(bzmpop),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrandmember",
        arity: -2,
        flags: flags::READONLY,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Get one or multiple random elements from a sorted set",
        since: "6.2.0",
        complexity: "O(N) where N is the number of elements returned",
        args: "key:key [options:{count:integer [WITHSCORES]}]",
        tips: &["nondeterministic_output"],
        handler: Some(zrandmember),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zunion",
        arity: -3,
        flags: flags::READONLY,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Add multiple sorted sets",
        since: "6.2.0",
        complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        args: "numkeys:integer key:key... [WEIGHTS=weight:integer...] [AGGREGATE=aggregate:(SUM | MIN | MAX)] [WITHSCORES]",
        handler: Some(zunion),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zinter",
        arity: -3,
        flags: flags::READONLY,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Intersect multiple sorted sets",
        since: "6.2.0",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        args: "numkeys:integer key:key... [WEIGHTS=weight:integer...] [AGGREGATE=aggregate:(SUM | MIN | MAX)] [WITHSCORES]",
        handler: Some(zinter),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zdiff",
        arity: -3,
        flags: flags::READONLY,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Subtract multiple sorted sets",
        since: "6.2.0",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        args: "numkeys:integer key:key... [WITHSCORES]",
        handler: Some(zdiff),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zunionstore",
        arity: -4,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::SORTEDSET,
        keys: &[
            KeySpec {
                flags: &["OW", "UPDATE"],
                begin: BeginSearch::Index(1),
                find: FindKeys::Range {
                    lastkey: 0,
                    keystep: 1,
                    limit: 0,
                },
                notes: "",
            },
            KeySpec {
                flags: &["RO", "ACCESS"],
                begin: BeginSearch::Index(2),
                find: FindKeys::Keynum {
                    keynumidx: 0,
                    firstkey: 1,
                    keystep: 1,
                },
                notes: "",
            },
        ],
        group: "sorted-set",
        summary: "Add multiple sorted sets and store the resulting sorted set in a new key",
        since: "2.0.0",
        complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        args: "destination:key numkeys:integer key:key... [WEIGHTS=weight:integer...] [AGGREGATE=aggregate:(SUM | MIN | MAX)]",
        handler: Some(zunionstore),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zinterstore",
        arity: -4,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::SORTEDSET,
        keys: &[
            KeySpec {
                flags: &["OW", "UPDATE"],
                begin: BeginSearch::Index(1),
                find: FindKeys::Range {
                    lastkey: 0,
                    keystep: 1,
                    limit: 0,
                },
                notes: "",
            },
            KeySpec {
                flags: &["RO", "ACCESS"],
                begin: BeginSearch::Index(2),
                find: FindKeys::Keynum {
                    keynumidx: 0,
                    firstkey: 1,
                    keystep: 1,
                },
                notes: "",
            },
        ],
        group: "sorted-set",
        summary: "Intersect multiple sorted sets and store the resulting sorted set in a new key",
        since: "2.0.0",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        args: "destination:key numkeys:integer key:key... [WEIGHTS=weight:integer...] [AGGREGATE=aggregate:(SUM | MIN | MAX)]",
        handler: Some(zinterstore),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zdiffstore",
        arity: -4,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::SORTEDSET,
        keys: &[
            KeySpec {
                flags: &["OW", "UPDATE"],
                begin: BeginSearch::Index(1),
                find: FindKeys::Range {
                    lastkey: 0,
                    keystep: 1,
                    limit: 0,
                },
                notes: "",
            },
            KeySpec {
                flags: &["RO", "ACCESS"],
                begin: BeginSearch::Index(2),
                find: FindKeys::Keynum {
                    keynumidx: 0,
                    firstkey: 1,
                    keystep: 1,
                },
                notes: "",
            },
        ],
        group: "sorted-set",
        summary: "Subtract multiple sorted sets and store the resulting sorted set in a new key",
        since: "6.2.0",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        args: "destination:key numkeys:integer key:key...",
        handler: Some(zdiffstore),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zintercard",
        arity: -3,
        flags: flags::READONLY,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Intersect multiple sorted sets and return the cardinality of the result",
        since: "7.0.0",
        complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
        args: "numkeys:integer key:key... [LIMIT=limit:integer]",
        handler: Some(zintercard),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zscan",
        arity: -3,
        flags: flags::READONLY,
        acl: acl::SORTEDSET,
        keys: &[KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        }],
        group: "sorted-set",
        summary: "Incrementally iterate sorted sets elements and associated scores",
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        args: "key:key cursor:integer [MATCH=pattern:pattern] [COUNT=count:integer] [NOSCORES@8.0.0]",
        tips: &["nondeterministic_output"],
        handler: Some(zscan),
        ..CommandSpec::DEFAULT
    },
];

// ---------------------------------------------------------------- helpers

/// The encoding thresholds from the config.
pub(crate) fn limits(ctx: &Ctx<'_>) -> Limits {
    let s = &ctx.store.settings;
    Limits {
        max_entries: s.zset_max_listpack_entries.load(AtomicOrdering::Relaxed) as usize,
        max_value: s.zset_max_listpack_value.load(AtomicOrdering::Relaxed) as usize,
    }
}

/// The sorted set an entry holds (the caller checked the type).
pub(crate) fn zset_of(e: &Entry) -> Option<&ZSet> {
    match e.as_object() {
        Some(Object::ZSet(z)) => Some(z),
        _ => None,
    }
}

/// [`zset_of`] for writing.
pub(crate) fn zset_of_mut(e: &mut Entry) -> Option<&mut ZSet> {
    match e.as_object_mut() {
        Some(Object::ZSet(z)) => Some(z),
        _ => None,
    }
}

/// A new key holding `z`.
pub(crate) fn new_entry(key: &[u8], z: ZSet) -> Entry {
    Entry::new(key, NewValue::Object(Box::new(Object::ZSet(z))), None)
}

/// C's `strtod` over the whole argument, as Redis's `zslParseRange` uses
/// it: leading white space is skipped, the text must be consumed up to its
/// end (or a NUL byte), overflow gives an infinity, and only NaN is refused.
/// An empty text is 0.
fn strtod_full(s: &[u8]) -> Option<f64> {
    let s = s.split(|&b| b == 0).next().unwrap_or(b"");
    if s.is_empty() {
        return Some(0.0);
    }
    let t = &s[s
        .iter()
        .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count()..];
    if let Some(v) = parse_f64_strict(t) {
        return Some(v);
    }
    let text = std::str::from_utf8(t).ok()?;
    let first = text.bytes().next()?;
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return None;
    }
    text.parse::<f64>().ok().filter(|v| !v.is_nan())
}

/// One bound of a score range.
#[derive(Clone, Copy, Debug)]
struct ScoreBound {
    value: f64,
    exclusive: bool,
}

fn parse_score_bound(s: &[u8]) -> Option<ScoreBound> {
    match s.first() {
        Some(b'(') => strtod_full(&s[1..]).map(|value| ScoreBound {
            value,
            exclusive: true,
        }),
        _ => strtod_full(s).map(|value| ScoreBound {
            value,
            exclusive: false,
        }),
    }
}

/// One bound of a lex range.
#[derive(Clone, Copy, Debug)]
enum LexBound<'a> {
    /// `-`
    Min,
    /// `+`
    Max,
    /// `[x` (false) or `(x` (true).
    Value(&'a [u8], bool),
}

fn parse_lex_bound(s: &[u8]) -> Option<LexBound<'_>> {
    match s.first()? {
        b'+' if s.len() == 1 => Some(LexBound::Max),
        b'-' if s.len() == 1 => Some(LexBound::Min),
        b'(' => Some(LexBound::Value(&s[1..], true)),
        b'[' => Some(LexBound::Value(&s[1..], false)),
        _ => None,
    }
}

/// A parsed range of any kind.
#[derive(Clone, Copy, Debug)]
enum Range<'a> {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound<'a>, LexBound<'a>),
}

/// Whether `m` is below the lex range's minimum.
fn below_lex_min(m: &[u8], min: LexBound<'_>) -> bool {
    match min {
        LexBound::Min => false,
        LexBound::Max => true,
        LexBound::Value(v, ex) => {
            if ex {
                m <= v
            } else {
                m < v
            }
        }
    }
}

/// Whether `m` is within the lex range's maximum.
fn within_lex_max(m: &[u8], max: LexBound<'_>) -> bool {
    match max {
        LexBound::Min => false,
        LexBound::Max => true,
        LexBound::Value(v, ex) => {
            if ex {
                m < v
            } else {
                m <= v
            }
        }
    }
}

/// Redis's empty-range test for lex ranges (`zslIsInLexRange`).
fn lex_range_empty<'a>(min: LexBound<'a>, max: LexBound<'a>) -> bool {
    let key = |b: LexBound<'a>| -> (i32, &'a [u8], bool) {
        match b {
            LexBound::Min => (0, &b""[..], false),
            LexBound::Max => (2, &b""[..], false),
            LexBound::Value(v, ex) => (1, v, ex),
        }
    };
    let (a, b) = (key(min), key(max));
    let cmp = (a.0, a.1).cmp(&(b.0, b.1));
    let ex = matches!(min, LexBound::Min | LexBound::Max)
        || matches!(max, LexBound::Min | LexBound::Max)
        || a.2
        || b.2;
    cmp == std::cmp::Ordering::Greater || (cmp == std::cmp::Ordering::Equal && ex)
}

/// The ranks `lo..hi` of the members in a score range.
fn score_span(z: &ZSet, min: ScoreBound, max: ScoreBound) -> (usize, usize) {
    if min.value > max.value || (min.value == max.value && (min.exclusive || max.exclusive)) {
        return (0, 0);
    }
    let lo = z.partition_point(|s, _| {
        if min.exclusive {
            s <= min.value
        } else {
            s < min.value
        }
    });
    let hi = z.partition_point(|s, _| {
        if max.exclusive {
            s < max.value
        } else {
            s <= max.value
        }
    });
    (lo, hi.max(lo))
}

/// The ranks `lo..hi` of the members in a lex range (meaningful when all
/// scores are equal, as in Redis).
fn lex_span(z: &ZSet, min: LexBound<'_>, max: LexBound<'_>) -> (usize, usize) {
    if lex_range_empty(min, max) {
        return (0, 0);
    }
    let lo = z.partition_point(|_, m| below_lex_min(m, min));
    let hi = z.partition_point(|_, m| within_lex_max(m, max));
    (lo, hi.max(lo))
}

/// Writes the header of a reply of `n` members.
fn members_header(out: &mut ReplyBuf, n: usize, withscores: bool) {
    if withscores && !out.is_resp3() {
        out.array(n * 2);
    } else {
        out.array(n);
    }
}

/// Writes one member (and its score).
fn emit_member(out: &mut ReplyBuf, m: &[u8], s: f64, withscores: bool) {
    if withscores && out.is_resp3() {
        out.array(2);
    }
    out.bulk(m);
    if withscores {
        out.double(s);
    }
}

/// The ranks a range selects, in reply order: `count` members from rank
/// `first`, going up or (when `rev`) down.
#[derive(Clone, Copy, Debug)]
struct Selection {
    first: usize,
    count: usize,
    rev: bool,
}

impl Selection {
    const EMPTY: Selection = Selection {
        first: 0,
        count: 0,
        rev: false,
    };

    fn walk(&self, z: &ZSet, mut f: impl FnMut(&[u8], f64)) {
        if self.count == 0 {
            return;
        }
        let mut left = self.count;
        z.walk(self.first, self.rev, |m, s| {
            f(m, s);
            left -= 1;
            left > 0
        });
    }
}

/// The members a range selects, with Redis's LIMIT rules: a negative
/// offset selects nothing, a negative count means no limit.
fn select(z: &ZSet, range: Range<'_>, rev: bool, offset: i64, limit: i64) -> Selection {
    let len = z.len();
    let (lo, hi) = match range {
        Range::Rank(start, end) => {
            let Some((s, e)) = super::index_range(start, end, len) else {
                return Selection::EMPTY;
            };
            return if rev {
                Selection {
                    first: len - 1 - s,
                    count: e - s + 1,
                    rev: true,
                }
            } else {
                Selection {
                    first: s,
                    count: e - s + 1,
                    rev: false,
                }
            };
        }
        Range::Score(min, max) => score_span(z, min, max),
        Range::Lex(min, max) => lex_span(z, min, max),
    };
    if offset < 0 || (offset > 0 && offset as u64 >= len as u64) {
        return Selection::EMPTY;
    }
    let n = hi - lo;
    let offset = offset as usize;
    if offset >= n {
        return Selection::EMPTY;
    }
    let avail = n - offset;
    let count = if limit < 0 {
        avail
    } else {
        avail.min(limit as usize)
    };
    if count == 0 {
        return Selection::EMPTY;
    }
    if rev {
        Selection {
            first: hi - 1 - offset,
            count,
            rev: true,
        }
    } else {
        Selection {
            first: lo + offset,
            count,
            rev: false,
        }
    }
}

/// Reads argument `i` as a count that must not be negative, as Redis's
/// `getPositiveLongFromObjectOrReply`: `msg` is the error both for a value
/// that is not an integer and for a negative one.
fn positive_arg(ctx: &mut Ctx<'_>, i: usize, msg: &str) -> Option<i64> {
    match viator_types::number::parse_i64(ctx.arg(i)) {
        Some(n) if n >= 0 => Some(n),
        _ => {
            ctx.out.error(msg);
            None
        }
    }
}

/// `getRangeLongFromObjectOrReply` with a message: the message for a value
/// that is not an integer or is outside `min..=max`.
fn range_arg(ctx: &mut Ctx<'_>, i: usize, min: i64, msg: &str) -> Option<i64> {
    match viator_types::number::parse_i64(ctx.arg(i)) {
        Some(n) if n >= min => Some(n),
        _ => {
            ctx.out.error(msg);
            None
        }
    }
}

// ---------------------------------------------------------------- ZADD

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
/// (`zaddGenericCommand`).
fn zadd(ctx: &mut Ctx<'_>) {
    zadd_generic(ctx, false);
}

/// ZINCRBY key increment member: ZADD INCR.
fn zincrby(ctx: &mut Ctx<'_>) {
    zadd_generic(ctx, true);
}

fn zadd_generic(ctx: &mut Ctx<'_>, zincrby: bool) {
    let key = ctx.arg(1);
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, zincrby);
    let mut idx = 2;
    if !zincrby {
        while idx < ctx.argc() {
            let a = ctx.arg(idx);
            if a.eq_ignore_ascii_case(b"nx") {
                nx = true;
            } else if a.eq_ignore_ascii_case(b"xx") {
                xx = true;
            } else if a.eq_ignore_ascii_case(b"ch") {
                ch = true;
            } else if a.eq_ignore_ascii_case(b"incr") {
                incr = true;
            } else if a.eq_ignore_ascii_case(b"gt") {
                gt = true;
            } else if a.eq_ignore_ascii_case(b"lt") {
                lt = true;
            } else {
                break;
            }
            idx += 1;
        }
    }
    let elements = ctx.argc() - idx;
    if elements % 2 != 0 || elements == 0 {
        ctx.out.error(errors::SYNTAX);
        return;
    }
    let elements = elements / 2;
    if nx && xx {
        ctx.out.error(XX_AND_NX);
        return;
    }
    if ((gt || lt) && nx) || (gt && lt) {
        ctx.out.error(GT_LT_NX);
        return;
    }
    if incr && elements > 1 {
        ctx.out.error(INCR_SINGLE);
        return;
    }
    // Parse every score before touching the key: all or nothing.
    let mut maxelelen = 0;
    let mut single = [0f64; 1];
    let mut many = Vec::new();
    let scores: &mut [f64] = if elements == 1 {
        &mut single
    } else {
        many.resize(elements, 0.0);
        &mut many
    };
    for (j, score) in scores.iter_mut().enumerate() {
        match parse_f64_strict(ctx.arg(idx + j * 2)) {
            Some(v) => *score = v,
            None => {
                ctx.out.error(errors::NOT_FLOAT);
                return;
            }
        }
        maxelelen = maxelelen.max(ctx.arg(idx + j * 2 + 1).len());
    }
    let limits = limits(ctx);
    let opts = AddOpts {
        nx,
        xx,
        gt,
        lt,
        incr,
    };
    let pairs = Pairs {
        args: ctx.args,
        at: idx,
        scores,
    };
    let mut ks = ctx.key(key);
    // One lookup on the common path: an existing set is changed in place;
    // a new one is filled before it enters the keyspace.
    let existing = match ks.write_typed_quiet(key, ValueType::ZSet) {
        Err(e) => {
            ctx.out.error(e);
            return;
        }
        Ok(Some(mut e)) => match zset_of_mut(&mut e) {
            Some(z) => Some(apply_pairs(z, &pairs, opts, limits)),
            None => {
                ctx.out.error(errors::WRONGTYPE);
                return;
            }
        },
        Ok(None) => None,
    };
    let outcome = match existing {
        Some(o) => o,
        None if xx => AddOutcome::default(),
        None => {
            let mut z = ZSet::with_hint(elements, maxelelen, limits);
            let o = apply_pairs(&mut z, &pairs, opts, limits);
            ks.add(new_entry(key, z));
            o
        }
    };
    let AddOutcome {
        added,
        updated,
        processed,
        last_score,
        nan,
    } = outcome;
    // WATCH sees the key changed only if a member was added or updated.
    if added > 0 || updated > 0 {
        ks.touch_watched(key);
    }
    drop(ks);
    ctx.store.add_dirty(added + updated);
    if added > 0 || updated > 0 {
        ctx.signal_ready(key);
    }
    if nan {
        ctx.out.error(NAN_SCORE);
    } else if incr {
        if processed > 0 {
            ctx.out.double(last_score);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out
            .int((if ch { added + updated } else { added }) as i64);
    }
}

/// ZADD's flags.
#[derive(Clone, Copy)]
struct AddOpts {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    incr: bool,
}

/// ZADD's parsed score-member pairs: scores parsed, members in `args`
/// from index `at + 1`, every other argument.
struct Pairs<'a, 'b> {
    args: &'a [&'a [u8]],
    at: usize,
    scores: &'b [f64],
}

/// What ZADD did (Redis's `ZADD_OUT_*` counts).
#[derive(Default)]
struct AddOutcome {
    added: u64,
    updated: u64,
    processed: u64,
    last_score: f64,
    nan: bool,
}

/// Redis's `zsetAdd` for every pair, stopping at a NaN result.
fn apply_pairs(z: &mut ZSet, pairs: &Pairs<'_, '_>, o: AddOpts, limits: Limits) -> AddOutcome {
    let mut r = AddOutcome::default();
    for (j, &score) in pairs.scores.iter().enumerate() {
        let member = pairs.args.get(pairs.at + j * 2 + 1).copied().unwrap_or(b"");
        match z.score(member) {
            Some(cur) => {
                if o.nx {
                    continue;
                }
                let mut new = score;
                if o.incr {
                    new += cur;
                    if new.is_nan() {
                        r.nan = true;
                        break;
                    }
                }
                if (o.lt && new >= cur) || (o.gt && new <= cur) {
                    continue;
                }
                r.processed += 1;
                r.last_score = new;
                if new != cur {
                    z.update(member, new);
                    r.updated += 1;
                }
            }
            None => {
                if o.xx {
                    continue;
                }
                z.insert_new(member, score, limits);
                r.added += 1;
                r.processed += 1;
                r.last_score = score;
            }
        }
    }
    r
}

// ---------------------------------------------------------------- simple reads

/// ZREM key member [member ...]
fn zrem(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let mut deleted = 0i64;
    let empty = match ks.write_typed_quiet(key, ValueType::ZSet) {
        Err(e) => {
            ctx.out.error(e);
            return;
        }
        Ok(None) => {
            ctx.out.int(0);
            return;
        }
        Ok(Some(mut e)) => {
            let Some(z) = zset_of_mut(&mut e) else { return };
            for m in &ctx.args[2..] {
                if z.remove(m).is_some() {
                    deleted += 1;
                    if z.is_empty() {
                        break;
                    }
                }
            }
            z.is_empty()
        }
    };
    if empty {
        ks.remove(key);
    }
    if deleted > 0 {
        ks.touch_watched(key);
    }
    drop(ks);
    ctx.store.add_dirty(deleted as u64);
    ctx.out.int(deleted);
}

/// Runs `f` on the sorted set at `key` for a read command; replies
/// WRONGTYPE itself, and `missing` is called when there is no key.
fn with_read(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    missing: impl FnOnce(&mut ReplyBuf),
    f: impl FnOnce(&ZSet, &mut ReplyBuf),
) {
    let mut ks = ctx.key(key);
    match ks.read_typed(key, ValueType::ZSet) {
        Err(e) => ctx.out.error(e),
        Ok(None) => missing(ctx.out),
        Ok(Some(e)) => match zset_of(&e) {
            Some(z) => f(z, ctx.out),
            None => ctx.out.error(errors::WRONGTYPE),
        },
    }
}

/// ZCARD key
fn zcard(ctx: &mut Ctx<'_>) {
    with_read(ctx, ctx.arg(1), |o| o.int(0), |z, o| o.int(z.len() as i64));
}

/// ZCOUNT key min max
fn zcount(ctx: &mut Ctx<'_>) {
    let (Some(min), Some(max)) = (parse_score_bound(ctx.arg(2)), parse_score_bound(ctx.arg(3)))
    else {
        ctx.out.error(BAD_SCORE_RANGE);
        return;
    };
    with_read(
        ctx,
        ctx.arg(1),
        |o| o.int(0),
        |z, o| {
            let (lo, hi) = score_span(z, min, max);
            o.int((hi - lo) as i64)
        },
    );
}

/// ZLEXCOUNT key min max
fn zlexcount(ctx: &mut Ctx<'_>) {
    let (Some(min), Some(max)) = (parse_lex_bound(ctx.arg(2)), parse_lex_bound(ctx.arg(3))) else {
        ctx.out.error(BAD_LEX_RANGE);
        return;
    };
    with_read(
        ctx,
        ctx.arg(1),
        |o| o.int(0),
        |z, o| {
            let (lo, hi) = lex_span(z, min, max);
            o.int((hi - lo) as i64)
        },
    );
}

/// ZSCORE key member
fn zscore(ctx: &mut Ctx<'_>) {
    let member = ctx.arg(2);
    with_read(
        ctx,
        ctx.arg(1),
        |o| o.null(),
        |z, o| match z.score(member) {
            Some(s) => o.double(s),
            None => o.null(),
        },
    );
}

/// ZMSCORE key member [member ...]
fn zmscore(ctx: &mut Ctx<'_>) {
    let members = &ctx.args[2..];
    with_read(
        ctx,
        ctx.arg(1),
        |o| {
            o.array(members.len());
            for _ in members {
                o.null();
            }
        },
        |z, o| {
            o.array(members.len());
            for m in members {
                match z.score(m) {
                    Some(s) => o.double(s),
                    None => o.null(),
                }
            }
        },
    );
}

/// ZRANK key member [WITHSCORE]
fn zrank(ctx: &mut Ctx<'_>) {
    rank_generic(ctx, false);
}

/// ZREVRANK key member [WITHSCORE]
fn zrevrank(ctx: &mut Ctx<'_>) {
    rank_generic(ctx, true);
}

fn rank_generic(ctx: &mut Ctx<'_>, rev: bool) {
    if ctx.argc() > 4 {
        ctx.out.error(errors::SYNTAX);
        return;
    }
    let withscore = ctx.argc() == 4;
    if withscore && !ctx.arg_is(3, "withscore") {
        ctx.out.error(errors::SYNTAX);
        return;
    }
    let member = ctx.arg(2);
    let none = move |o: &mut ReplyBuf| {
        if withscore { o.null_array() } else { o.null() }
    };
    with_read(ctx, ctx.arg(1), none, |z, o| match z.rank(member) {
        None => none(o),
        Some((r, s)) => {
            let r = if rev { z.len() - 1 - r } else { r };
            if withscore {
                o.array(2);
                o.int(r as i64);
                o.double(s);
            } else {
                o.int(r as i64);
            }
        }
    });
}

// ---------------------------------------------------------------- ranges

/// How a range command was called (Redis's `zrange_type` and
/// `zrange_direction`, `AUTO` for ZRANGE/ZRANGESTORE, which take BYSCORE,
/// BYLEX and REV).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Auto,
    Rank,
    Score,
    Lex,
}

/// The shared body of ZRANGE, ZRANGESTORE, ZRANGEBYSCORE, ZREVRANGE...
/// (`zrangeGenericCommand`): `start` is the index of the source key;
/// `store` is the destination for ZRANGESTORE.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    start: usize,
    store: Option<&[u8]>,
    kind: Kind,
    rev: Option<bool>,
) {
    let key = ctx.arg(start);
    let (mut kind, mut rev_opt) = (kind, rev);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = start + 3;
    while j < ctx.argc() {
        let left = ctx.argc() - j - 1;
        if store.is_none() && ctx.arg_is(j, "withscores") {
            withscores = true;
        } else if ctx.arg_is(j, "limit") && left >= 2 {
            let Some(o) = ctx.int_arg(j + 1) else { return };
            let Some(l) = ctx.int_arg(j + 2) else { return };
            offset = o;
            limit = l;
            j += 2;
        } else if rev_opt.is_none() && ctx.arg_is(j, "rev") {
            rev_opt = Some(true);
        } else if kind == Kind::Auto && ctx.arg_is(j, "bylex") {
            kind = Kind::Lex;
        } else if kind == Kind::Auto && ctx.arg_is(j, "byscore") {
            kind = Kind::Score;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    let rev = rev_opt.unwrap_or(false);
    if kind == Kind::Auto {
        kind = Kind::Rank;
    }
    if limit != -1 && kind == Kind::Rank {
        ctx.out.error(LIMIT_NEEDS_BY);
        return;
    }
    if withscores && kind == Kind::Lex {
        ctx.out.error(BYLEX_WITHSCORES);
        return;
    }
    let (mut mini, mut maxi) = (start + 1, start + 2);
    if rev && kind != Kind::Rank {
        std::mem::swap(&mut mini, &mut maxi);
    }
    let range = match kind {
        Kind::Score => {
            let (Some(a), Some(b)) = (
                parse_score_bound(ctx.arg(mini)),
                parse_score_bound(ctx.arg(maxi)),
            ) else {
                ctx.out.error(BAD_SCORE_RANGE);
                return;
            };
            Range::Score(a, b)
        }
        Kind::Lex => {
            let (Some(a), Some(b)) = (
                parse_lex_bound(ctx.arg(mini)),
                parse_lex_bound(ctx.arg(maxi)),
            ) else {
                ctx.out.error(BAD_LEX_RANGE);
                return;
            };
            Range::Lex(a, b)
        }
        _ => {
            let Some(a) = ctx.int_arg(mini) else { return };
            let Some(b) = ctx.int_arg(maxi) else { return };
            Range::Rank(a, b)
        }
    };
    match store {
        None => with_read(
            ctx,
            key,
            |o| o.array(0),
            |z, o| {
                let sel = select(z, range, rev, offset, limit);
                members_header(o, sel.count, withscores);
                sel.walk(z, |m, s| emit_member(o, m, s, withscores));
            },
        ),
        Some(dst) => {
            let limits = limits(ctx);
            let mut ks = ctx.keys(&[dst, key]);
            let result = match ks.read_typed(key, ValueType::ZSet) {
                Err(e) => {
                    ctx.out.error(e);
                    return;
                }
                Ok(None) => None,
                Ok(Some(e)) => zset_of(&e).and_then(|z| {
                    let sel = select(z, range, rev, offset, limit);
                    if sel.count == 0 {
                        return None;
                    }
                    let hint = if matches!(range, Range::Rank(..)) {
                        sel.count
                    } else {
                        0
                    };
                    let mut out = ZSet::with_hint(hint, 0, limits);
                    sel.walk(z, |m, s| {
                        if out.score(m).is_none() {
                            out.insert_new(m, s, limits);
                        }
                    });
                    Some(out)
                }),
            };
            store_result(ctx, &mut ks, dst, result);
        }
    }
}

/// Stores a STORE command's result (or deletes the destination when it is
/// empty) and replies with its size.
fn store_result(ctx: &mut Ctx<'_>, ks: &mut crate::Keyspace<'_>, dst: &[u8], result: Option<ZSet>) {
    match result {
        Some(z) if !z.is_empty() => {
            let n = z.len();
            let old = ks.set(new_entry(dst, z), false);
            drop(old);
            ctx.store.add_dirty(1);
            ctx.signal_ready(dst);
            ctx.out.int(n as i64);
        }
        _ => {
            if ks.remove(dst).is_some() {
                ctx.store.add_dirty(1);
            }
            ctx.out.int(0);
        }
    }
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(ctx: &mut Ctx<'_>) {
    zrange_generic(ctx, 1, None, Kind::Auto, None);
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
fn zrangestore(ctx: &mut Ctx<'_>) {
    let dst = ctx.arg(1);
    zrange_generic(ctx, 2, Some(dst), Kind::Auto, None);
}

/// ZREVRANGE key start stop [WITHSCORES]
fn zrevrange(ctx: &mut Ctx<'_>) {
    zrange_generic(ctx, 1, None, Kind::Rank, Some(true));
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn zrangebyscore(ctx: &mut Ctx<'_>) {
    zrange_generic(ctx, 1, None, Kind::Score, Some(false));
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn zrevrangebyscore(ctx: &mut Ctx<'_>) {
    zrange_generic(ctx, 1, None, Kind::Score, Some(true));
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
fn zrangebylex(ctx: &mut Ctx<'_>) {
    zrange_generic(ctx, 1, None, Kind::Lex, Some(false));
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn zrevrangebylex(ctx: &mut Ctx<'_>) {
    zrange_generic(ctx, 1, None, Kind::Lex, Some(true));
}

/// ZREMRANGEBYRANK/BYSCORE/BYLEX key min max (`zremrangeGenericCommand`).
fn zremrange_generic(ctx: &mut Ctx<'_>, kind: Kind) {
    let key = ctx.arg(1);
    let range = match kind {
        Kind::Score => {
            let (Some(a), Some(b)) = (parse_score_bound(ctx.arg(2)), parse_score_bound(ctx.arg(3)))
            else {
                ctx.out.error(BAD_SCORE_RANGE);
                return;
            };
            Range::Score(a, b)
        }
        Kind::Lex => {
            let (Some(a), Some(b)) = (parse_lex_bound(ctx.arg(2)), parse_lex_bound(ctx.arg(3)))
            else {
                ctx.out.error(BAD_LEX_RANGE);
                return;
            };
            Range::Lex(a, b)
        }
        _ => {
            let Some(a) = ctx.int_arg(2) else { return };
            let Some(b) = ctx.int_arg(3) else { return };
            Range::Rank(a, b)
        }
    };
    let mut ks = ctx.key(key);
    let (removed, empty) = match ks.write_typed(key, ValueType::ZSet) {
        Err(e) => {
            ctx.out.error(e);
            return;
        }
        Ok(None) => {
            ctx.out.int(0);
            return;
        }
        Ok(Some(mut e)) => {
            let Some(z) = zset_of_mut(&mut e) else { return };
            let (lo, hi) = match range {
                Range::Rank(a, b) => match super::index_range(a, b, z.len()) {
                    Some((s, e)) => (s, e + 1),
                    None => (0, 0),
                },
                Range::Score(a, b) => score_span(z, a, b),
                Range::Lex(a, b) => lex_span(z, a, b),
            };
            let n = if hi > lo {
                z.remove_rank_range(lo, hi - 1)
            } else {
                0
            };
            (n, z.is_empty())
        }
    };
    if empty {
        ks.remove(key);
    }
    drop(ks);
    ctx.store.add_dirty(removed as u64);
    ctx.out.int(removed as i64);
}

/// ZREMRANGEBYRANK key start stop
fn zremrangebyrank(ctx: &mut Ctx<'_>) {
    zremrange_generic(ctx, Kind::Rank);
}

/// ZREMRANGEBYSCORE key min max
fn zremrangebyscore(ctx: &mut Ctx<'_>) {
    zremrange_generic(ctx, Kind::Score);
}

/// ZREMRANGEBYLEX key min max
fn zremrangebylex(ctx: &mut Ctx<'_>) {
    zremrange_generic(ctx, Kind::Lex);
}

// ---------------------------------------------------------------- pops

/// How a pop replies (Redis's `genericZpopCommand` flags).
#[derive(Clone, Copy)]
struct PopReply {
    /// Name the key (BZPOP*, ZMPOP).
    emit_key: bool,
    /// Pairs as nested arrays.
    nested: bool,
    /// A null array, not an empty one, when nothing was popped.
    nil_when_empty: bool,
}

/// Pops up to `count` members from the first non-empty sorted set among
/// `keys`. Returns false (and writes nothing) when every key is missing
/// and `block` is set, so that the caller can block; WRONGTYPE is replied.
fn pop_generic(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    max: bool,
    count: usize,
    how: PopReply,
    block: bool,
) -> bool {
    let mut ks = ctx.keys(keys);
    for &key in keys {
        let mut popped: Vec<(Vec<u8>, f64)> = Vec::new();
        let empty = match ks.write_typed(key, ValueType::ZSet) {
            Err(e) => {
                ctx.out.error(e);
                return true;
            }
            Ok(None) => continue,
            Ok(Some(mut e)) => {
                let Some(z) = zset_of_mut(&mut e) else {
                    continue;
                };
                let n = count.min(z.len());
                popped.reserve(n);
                let len = z.len();
                if max {
                    z.walk(len - 1, true, |m, s| {
                        popped.push((m.to_vec(), s));
                        popped.len() < n
                    });
                    z.remove_rank_range(len - n, len - 1);
                } else {
                    z.walk(0, false, |m, s| {
                        popped.push((m.to_vec(), s));
                        popped.len() < n
                    });
                    z.remove_rank_range(0, n - 1);
                }
                z.is_empty()
            }
        };
        if empty {
            ks.remove(key);
        }
        drop(ks);
        ctx.store.add_dirty(popped.len() as u64);
        // The commands that name their key in the reply (BZPOPMIN/MAX,
        // ZMPOP, BZMPOP) are propagated as the ZPOPMIN/MAX that did the
        // same, with the number popped for the M forms (Redis's
        // blockingGenericZpopCommand and zmpopGenericCommand).
        if how.emit_key && ctx.propagating() {
            let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
            if how.nested {
                let n = rewrite::uint_text(popped.len() as u64);
                ctx.propagate(&[name, key, &n[..]]);
            } else {
                ctx.propagate(&[name, key]);
            }
        }
        let out = &mut *ctx.out;
        match (how.emit_key, how.nested) {
            (false, false) => out.array(popped.len() * 2),
            (false, true) => out.array(popped.len()),
            (true, false) => {
                out.array(popped.len() * 2 + 1);
                out.bulk(key);
            }
            (true, true) => {
                out.array(2);
                out.bulk(key);
                out.array(popped.len());
            }
        }
        for (m, s) in &popped {
            if how.nested {
                out.array(2);
            }
            out.bulk(m);
            out.double(*s);
        }
        return true;
    }
    drop(ks);
    if block {
        return false;
    }
    if how.nil_when_empty {
        ctx.out.null_array();
    } else {
        ctx.out.array(0);
    }
    true
}

/// ZPOPMIN/ZPOPMAX key [count]
fn zpop_generic(ctx: &mut Ctx<'_>, max: bool) {
    if ctx.argc() > 3 {
        ctx.out.error(errors::SYNTAX);
        return;
    }
    let mut count = 1;
    if ctx.argc() == 3 {
        let Some(n) = positive_arg(ctx, 2, errors::MUST_BE_POSITIVE) else {
            return;
        };
        if n == 0 {
            // The type is checked first, as Redis's genericZpopCommand does.
            let key = ctx.arg(1);
            let ks = ctx.key(key);
            let wrong = ks
                .peek(key)
                .is_some_and(|e| e.value_type() != ValueType::ZSet);
            drop(ks);
            if wrong {
                ctx.out.error(errors::WRONGTYPE);
            } else {
                ctx.out.array(0);
            }
            return;
        }
        count = n as usize;
    }
    let nested = ctx.argc() == 3 && ctx.out.is_resp3();
    let key = ctx.arg(1);
    pop_generic(
        ctx,
        &[key],
        max,
        count,
        PopReply {
            emit_key: false,
            nested,
            nil_when_empty: false,
        },
        false,
    );
}

/// ZPOPMIN key [count]
fn zpopmin(ctx: &mut Ctx<'_>) {
    zpop_generic(ctx, false);
}

/// ZPOPMAX key [count]
fn zpopmax(ctx: &mut Ctx<'_>) {
    zpop_generic(ctx, true);
}

/// BZPOPMIN/BZPOPMAX key [key ...] timeout
fn bzpop_generic(ctx: &mut Ctx<'_>, max: bool) {
    let Some(deadline) = ctx.timeout_arg(ctx.argc() - 1) else {
        return;
    };
    let keys: Vec<&[u8]> = ctx.args[1..ctx.argc() - 1].to_vec();
    let how = PopReply {
        emit_key: true,
        nested: false,
        nil_when_empty: false,
    };
    if !pop_generic(ctx, &keys, max, 1, how, true) {
        ctx.block_on_keys(&keys, BlockedOn::ZSet, deadline, TimeoutReply::NullArray);
    }
}

/// BZPOPMIN key [key ...] timeout
fn bzpopmin(ctx: &mut Ctx<'_>) {
    bzpop_generic(ctx, false);
}

/// BZPOPMAX key [key ...] timeout
fn bzpopmax(ctx: &mut Ctx<'_>) {
    bzpop_generic(ctx, true);
}

/// ZMPOP/BZMPOP (`zmpopGenericCommand`): `numkeys_at` is the index of
/// numkeys; BZMPOP's timeout is just before it.
fn zmpop_generic(ctx: &mut Ctx<'_>, numkeys_at: usize, block: bool) {
    let Some(numkeys) = range_arg(ctx, numkeys_at, 1, errors::NUMKEYS_POSITIVE) else {
        return;
    };
    let where_at = (numkeys_at as u64)
        .saturating_add(numkeys as u64)
        .saturating_add(1);
    if where_at >= ctx.argc() as u64 {
        ctx.out.error(errors::SYNTAX);
        return;
    }
    let where_at = where_at as usize;
    let max = if ctx.arg_is(where_at, "min") {
        false
    } else if ctx.arg_is(where_at, "max") {
        true
    } else {
        ctx.out.error(errors::SYNTAX);
        return;
    };
    let mut count: i64 = -1;
    let mut j = where_at + 1;
    while j < ctx.argc() {
        let more = ctx.argc() - 1 - j;
        if count == -1 && ctx.arg_is(j, "count") && more > 0 {
            j += 1;
            let Some(n) = range_arg(ctx, j, 1, errors::COUNT_POSITIVE) else {
                return;
            };
            count = n;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    let count = if count == -1 { 1 } else { count as usize };
    let keys: Vec<&[u8]> = ctx.args[numkeys_at + 1..where_at].to_vec();
    let how = PopReply {
        emit_key: true,
        nested: true,
        nil_when_empty: true,
    };
    if block {
        let Some(deadline) = ctx.timeout_arg(1) else {
            return;
        };
        if !pop_generic(ctx, &keys, max, count, how, true) {
            ctx.block_on_keys(&keys, BlockedOn::ZSet, deadline, TimeoutReply::NullArray);
        }
    } else {
        pop_generic(ctx, &keys, max, count, how, false);
    }
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
fn zmpop(ctx: &mut Ctx<'_>) {
    zmpop_generic(ctx, 1, false);
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
fn bzmpop(ctx: &mut Ctx<'_>) {
    zmpop_generic(ctx, 2, true);
}

// ---------------------------------------------------------------- ZRANDMEMBER

/// ZRANDMEMBER key [count [WITHSCORES]] (`zrandmemberCommand`).
fn zrandmember(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    if ctx.argc() < 3 {
        with_read(
            ctx,
            key,
            |o| o.null(),
            |z, o| match z.at(fastrand::usize(..z.len().max(1))) {
                Some((m, _)) => o.bulk(m),
                None => o.null(),
            },
        );
        return;
    }
    let Some(l) = viator_types::number::parse_i64(ctx.arg(2)) else {
        ctx.out.error(errors::NOT_INTEGER);
        return;
    };
    if l == i64::MIN {
        ctx.out.error(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
        return;
    }
    if ctx.argc() > 4 || (ctx.argc() == 4 && !ctx.arg_is(3, "withscores")) {
        ctx.out.error(errors::SYNTAX);
        return;
    }
    let withscores = ctx.argc() == 4;
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        ctx.out.error(errors::OUT_OF_RANGE);
        return;
    }
    let uniq = l >= 0;
    let count = l.unsigned_abs();
    if !uniq && count > RANDMEMBER_MAX {
        ctx.out.error(errors::OUT_OF_RANGE);
        return;
    }
    with_read(
        ctx,
        key,
        |o| o.array(0),
        |z, o| {
            let size = z.len();
            if count == 0 || size == 0 {
                o.array(0);
                return;
            }
            if !uniq || count == 1 {
                let n = count as usize;
                members_header(o, n, withscores);
                for _ in 0..n {
                    if let Some((m, s)) = z.at(fastrand::usize(..size)) {
                        emit_member(o, m, s, withscores);
                    }
                }
                return;
            }
            if count >= size as u64 {
                // The whole set, from the highest rank down, as Redis's
                // `zuiNext` iterates.
                members_header(o, size, withscores);
                z.walk(size - 1, true, |m, s| {
                    emit_member(o, m, s, withscores);
                    true
                });
                return;
            }
            // A random subset of distinct ranks, in random order.
            let n = count as usize;
            let mut ranks: Vec<usize> = if n * 3 > size {
                let mut all: Vec<usize> = (0..size).collect();
                fastrand::shuffle(&mut all);
                all.truncate(n);
                all
            } else {
                let mut seen = std::collections::HashSet::with_capacity(n);
                let mut v = Vec::with_capacity(n);
                while v.len() < n {
                    let r = fastrand::usize(..size);
                    if seen.insert(r) {
                        v.push(r);
                    }
                }
                v
            };
            fastrand::shuffle(&mut ranks);
            members_header(o, n, withscores);
            for r in ranks {
                if let Some((m, s)) = z.at(r) {
                    emit_member(o, m, s, withscores);
                }
            }
        },
    );
}

// ---------------------------------------------------------------- set operations

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// Redis's `zunionInterAggregate`: a sum of opposite infinities is 0.
fn aggregate(target: &mut f64, val: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// One input of a set operation: its members with their scores (sets give
/// score 1), copied out of the keyspace.
struct Source {
    items: Vec<(Vec<u8>, f64)>,
    weight: f64,
}

/// ZUNION/ZINTER/ZDIFF[STORE] and ZINTERCARD
/// (`zunionInterDiffGenericCommand`): `numkeys_at` is the index of
/// numkeys; `dst` the destination of the STORE forms.
fn setop_generic(
    ctx: &mut Ctx<'_>,
    dst: Option<&[u8]>,
    numkeys_at: usize,
    op: SetOp,
    card_only: bool,
) {
    let Some(setnum) = ctx.int_arg(numkeys_at) else {
        return;
    };
    if setnum < 1 {
        let name = ctx.arg(0).to_ascii_lowercase();
        ctx.out.error(&format!(
            "ERR at least 1 input key is needed for '{}' command",
            String::from_utf8_lossy(&name)
        ));
        return;
    }
    if setnum as u64 > (ctx.argc() - (numkeys_at + 1)) as u64 {
        ctx.out.error(errors::SYNTAX);
        return;
    }
    let setnum = setnum as usize;
    let keys: Vec<&[u8]> = ctx.args[numkeys_at + 1..numkeys_at + 1 + setnum].to_vec();
    let mut all_keys = keys.clone();
    if let Some(d) = dst {
        all_keys.push(d);
    }
    let limits = limits(ctx);
    let mut ks = ctx.keys(&all_keys);
    let mut srcs: Vec<Source> = Vec::with_capacity(setnum);
    for &k in &keys {
        let mut items = Vec::new();
        if let Some(e) = ks.read(k) {
            match e.as_object() {
                Some(Object::ZSet(z)) => {
                    items.reserve(z.len());
                    z.for_each(|m, s| items.push((m.to_vec(), s)));
                }
                Some(Object::Set(s)) => {
                    items.reserve(s.len());
                    s.for_each(|m| items.push((m.to_vec(), 1.0)));
                }
                _ => {
                    ctx.out.error(errors::WRONGTYPE);
                    return;
                }
            }
        }
        srcs.push(Source { items, weight: 1.0 });
    }
    let mut how = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: i64 = 0;
    let mut j = numkeys_at + 1 + setnum;
    while j < ctx.argc() {
        let remaining = ctx.argc() - j;
        if op != SetOp::Diff && !card_only && remaining > setnum && ctx.arg_is(j, "weights") {
            j += 1;
            for src in srcs.iter_mut() {
                match parse_f64_strict(ctx.arg(j)) {
                    Some(w) => src.weight = w,
                    None => {
                        ctx.out.error(BAD_WEIGHT);
                        return;
                    }
                }
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && ctx.arg_is(j, "aggregate") {
            how = if ctx.arg_is(j + 1, "sum") {
                Aggregate::Sum
            } else if ctx.arg_is(j + 1, "min") {
                Aggregate::Min
            } else if ctx.arg_is(j + 1, "max") {
                Aggregate::Max
            } else {
                ctx.out.error(errors::SYNTAX);
                return;
            };
            j += 2;
        } else if dst.is_none() && !card_only && ctx.arg_is(j, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && ctx.arg_is(j, "limit") {
            let Some(l) = positive_arg(ctx, j + 1, errors::LIMIT_NEGATIVE) else {
                return;
            };
            limit = l;
            j += 2;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
    }

    // The result, unordered.
    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    match op {
        SetOp::Inter => {
            // From the smallest input, as Redis.
            srcs.sort_by_key(|s| s.items.len());
            let lookups: Vec<HashMap<&[u8], f64>> = srcs[1..]
                .iter()
                .map(|s| s.items.iter().map(|(m, sc)| (&m[..], *sc)).collect())
                .collect();
            let mut count: i64 = 0;
            'outer: for (m, s) in &srcs[0].items {
                let mut score = srcs[0].weight * s;
                if score.is_nan() {
                    score = 0.0;
                }
                for (k, map) in lookups.iter().enumerate() {
                    let Some(&v) = map.get(&m[..]) else {
                        continue 'outer;
                    };
                    let mut v = srcs[k + 1].weight * v;
                    if v.is_nan() {
                        v = 0.0;
                    }
                    aggregate(&mut score, v, how);
                }
                if card_only {
                    count += 1;
                    if limit > 0 && count >= limit {
                        break;
                    }
                } else {
                    result.push((m.clone(), score));
                }
            }
            if card_only {
                drop(ks);
                ctx.out.int(count);
                return;
            }
        }
        SetOp::Union => {
            srcs.sort_by_key(|s| s.items.len());
            let mut acc: HashMap<Vec<u8>, usize> = HashMap::new();
            for src in &srcs {
                for (m, s) in &src.items {
                    let mut score = src.weight * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get(m) {
                        Some(&i) => aggregate(&mut result[i].1, score, how),
                        None => {
                            acc.insert(m.clone(), result.len());
                            result.push((m.clone(), score));
                        }
                    }
                }
            }
        }
        SetOp::Diff => {
            let others: std::collections::HashSet<&[u8]> = srcs[1..]
                .iter()
                .flat_map(|s| s.items.iter().map(|(m, _)| &m[..]))
                .collect();
            for (m, s) in &srcs[0].items {
                if !others.contains(&m[..]) {
                    result.push((m.clone(), *s));
                }
            }
        }
    }
    result.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    match dst {
        None => {
            drop(ks);
            let out = &mut *ctx.out;
            members_header(out, result.len(), withscores);
            for (m, s) in &result {
                emit_member(out, m, *s, withscores);
            }
        }
        Some(d) => {
            let stored = if result.is_empty() {
                None
            } else {
                let maxlen = result.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
                let mut z = ZSet::with_hint(result.len(), maxlen, limits);
                for (m, s) in &result {
                    z.insert_new(m, *s, limits);
                }
                Some(z)
            };
            store_result(ctx, &mut ks, d, stored);
        }
    }
}

/// ZUNION numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...] [WITHSCORES]
fn zunion(ctx: &mut Ctx<'_>) {
    setop_generic(ctx, None, 1, SetOp::Union, false);
}

/// ZINTER numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...] [WITHSCORES]
fn zinter(ctx: &mut Ctx<'_>) {
    setop_generic(ctx, None, 1, SetOp::Inter, false);
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
fn zdiff(ctx: &mut Ctx<'_>) {
    setop_generic(ctx, None, 1, SetOp::Diff, false);
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]
fn zunionstore(ctx: &mut Ctx<'_>) {
    let dst = ctx.arg(1);
    setop_generic(ctx, Some(dst), 2, SetOp::Union, false);
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]
fn zinterstore(ctx: &mut Ctx<'_>) {
    let dst = ctx.arg(1);
    setop_generic(ctx, Some(dst), 2, SetOp::Inter, false);
}

/// ZDIFFSTORE destination numkeys key [key ...]
fn zdiffstore(ctx: &mut Ctx<'_>) {
    let dst = ctx.arg(1);
    setop_generic(ctx, Some(dst), 2, SetOp::Diff, false);
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(ctx: &mut Ctx<'_>) {
    setop_generic(ctx, None, 1, SetOp::Inter, true);
}

// ---------------------------------------------------------------- ZSCAN

/// ZSCAN key cursor [MATCH pattern] [COUNT count] [NOSCORES]
fn zscan(ctx: &mut Ctx<'_>) {
    let Some(cursor) = super::scan_args::cursor_arg(ctx, 2) else {
        return;
    };
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let entry = match ks.read_typed(key, ValueType::ZSet) {
        Err(e) => {
            ctx.out.error(e);
            return;
        }
        Ok(None) => {
            ctx.out.array(2);
            ctx.out.bulk(b"0");
            ctx.out.array(0);
            return;
        }
        Ok(Some(e)) => e,
    };
    let Some(super::scan_args::ScanArgs {
        count,
        pattern,
        noscores,
        ..
    }) = super::scan_args::parse(ctx, 3, super::scan_args::ScanOf::ZSet)
    else {
        return;
    };
    let Some(z) = zset_of(&entry) else {
        ctx.out.error(errors::WRONGTYPE);
        return;
    };
    let mut found = ReplyBuf::new();
    found.set_resp3(ctx.out.is_resp3());
    let mut n = 0usize;
    let mut sampled: i64 = 0;
    let mut cur = cursor;
    let mut iterations = count.saturating_mul(10);
    loop {
        cur = z.scan(cur, |m, s| {
            sampled += 1;
            if pattern.is_none_or(|p| glob_match(p, m, false)) {
                found.bulk(m);
                n += 1;
                if !noscores {
                    let mut buf = [0u8; 32];
                    let len = viator_protocol::format_double(s, &mut buf);
                    found.bulk(&buf[..len]);
                    n += 1;
                }
            }
        });
        iterations -= 1;
        if cur == 0 || iterations <= 0 || sampled >= count {
            break;
        }
    }
    drop(entry);
    drop(ks);
    let out = &mut *ctx.out;
    out.array(2);
    let mut tmp = itoa::Buffer::new();
    out.bulk(tmp.format(cur).as_bytes());
    out.array(n);
    out.raw(found.as_bytes());
}
