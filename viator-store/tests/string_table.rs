//! The string family's command table entries against what COMMAND INFO
//! shows: redis-server 7.0.15 for the commands it has, Redis 8.4's command
//! JSON files for DELEX, DIGEST and MSETEX.

use viator_store::command::{BeginSearch, FindKeys, acl, flags};
use viator_store::{Store, StoreOptions};

fn names(bits: u64, table: &[(u64, &'static str)]) -> Vec<&'static str> {
    table
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// (name, arity, flags, legacy key range, ACL categories, key spec flags).
type Info = (
    &'static str,
    i32,
    &'static str,
    (i32, i32, i32),
    &'static str,
    &'static str,
);

#[test]
fn command_info_matches_redis() {
    let store = Store::new(StoreOptions::default());
    #[rustfmt::skip]
    let want: &[Info] = &[
        ("get", 2, "readonly fast", (1, 1, 1), "read string fast", "RO ACCESS"),
        ("set", -3, "write denyoom", (1, 1, 1), "write string slow", "RW ACCESS UPDATE VARIABLE_FLAGS"),
        ("getex", -2, "write fast", (1, 1, 1), "write string fast", "RW ACCESS UPDATE"),
        ("getdel", 2, "write fast", (1, 1, 1), "write string fast", "RW ACCESS DELETE"),
        ("getset", 3, "write denyoom fast", (1, 1, 1), "write string fast", "RW ACCESS UPDATE"),
        ("mget", -2, "readonly fast", (1, -1, 1), "read string fast", "RO ACCESS"),
        ("mset", -3, "write denyoom", (1, -1, 2), "write string slow", "OW UPDATE"),
        ("msetnx", -3, "write denyoom", (1, -1, 2), "write string slow", "OW INSERT"),
        ("msetex", -4, "write denyoom movablekeys", (0, 0, 0), "write string slow", "OW UPDATE"),
        ("setnx", 3, "write denyoom fast", (1, 1, 1), "write string fast", "OW INSERT"),
        ("setex", 4, "write denyoom", (1, 1, 1), "write string slow", "OW UPDATE"),
        ("psetex", 4, "write denyoom", (1, 1, 1), "write string slow", "OW UPDATE"),
        ("append", 3, "write denyoom fast", (1, 1, 1), "write string fast", "RW INSERT"),
        ("strlen", 2, "readonly fast", (1, 1, 1), "read string fast", "RO"),
        ("incr", 2, "write denyoom fast", (1, 1, 1), "write string fast", "RW ACCESS UPDATE"),
        ("decr", 2, "write denyoom fast", (1, 1, 1), "write string fast", "RW ACCESS UPDATE"),
        ("incrby", 3, "write denyoom fast", (1, 1, 1), "write string fast", "RW ACCESS UPDATE"),
        ("decrby", 3, "write denyoom fast", (1, 1, 1), "write string fast", "RW ACCESS UPDATE"),
        ("incrbyfloat", 3, "write denyoom fast", (1, 1, 1), "write string fast", "RW ACCESS UPDATE"),
        ("getrange", 4, "readonly", (1, 1, 1), "read string slow", "RO ACCESS"),
        ("setrange", 4, "write denyoom", (1, 1, 1), "write string slow", "RW UPDATE"),
        ("substr", 4, "readonly", (1, 1, 1), "read string slow", "RO ACCESS"),
        ("lcs", -3, "readonly", (1, 2, 1), "read string slow", "RO ACCESS"),
        ("delex", -2, "write fast", (1, 1, 1), "write string fast", "RW DELETE VARIABLE_FLAGS"),
        ("digest", 2, "readonly fast", (1, 1, 1), "read string fast", "RO ACCESS"),
    ];
    for &(name, arity, fl, range, cats, key_flags) in want {
        let cmd = store
            .commands()
            .get(name.as_bytes())
            .unwrap_or_else(|| panic!("{name} missing"));
        let spec = &cmd.spec;
        assert_eq!(spec.arity, arity, "{name} arity");
        assert_eq!(
            names(spec.flags, flags::NAMES).join(" "),
            fl,
            "{name} flags"
        );
        assert_eq!(spec.legacy_range(), range, "{name} range");
        assert_eq!(
            names(spec.acl_categories(), acl::NAMES).join(" "),
            cats,
            "{name} acl"
        );
        assert_eq!(spec.keys.len(), 1, "{name} key specs");
        assert_eq!(spec.keys[0].flags.join(" "), key_flags, "{name} key flags");
        assert_eq!(spec.group, "string", "{name}");
        assert!(cmd.handler.is_some(), "{name}");
    }
}

#[test]
fn docs_metadata() {
    let store = Store::new(StoreOptions::default());
    let spec = |n: &str| store.commands().get(n.as_bytes()).expect("command").spec;
    for (name, since) in [
        ("get", "1.0.0"),
        ("getex", "6.2.0"),
        ("getdel", "6.2.0"),
        ("mset", "1.0.1"),
        ("msetnx", "1.0.1"),
        ("msetex", "8.4.0"),
        ("setex", "2.0.0"),
        ("psetex", "2.6.0"),
        ("append", "2.0.0"),
        ("strlen", "2.2.0"),
        ("incrbyfloat", "2.6.0"),
        ("getrange", "2.4.0"),
        ("setrange", "2.2.0"),
        ("substr", "1.0.0"),
        ("lcs", "7.0.0"),
        ("delex", "8.4.0"),
        ("digest", "8.4.0"),
    ] {
        assert_eq!(spec(name).since, since, "{name}");
    }
    for (name, since, by) in [
        ("getset", "6.2.0", "`SET` with the `GET` argument"),
        ("setnx", "2.6.12", "`SET` with the `NX` argument"),
        ("setex", "2.6.12", "`SET` with the `EX` argument"),
        ("psetex", "2.6.12", "`SET` with the `PX` argument"),
        ("substr", "2.0.0", "`GETRANGE`"),
    ] {
        let s = spec(name);
        assert_eq!((s.deprecated_since, s.replaced_by), (since, by), "{name}");
        assert_eq!(s.doc_flags, &["deprecated"], "{name}");
    }
    let set = spec("set");
    assert_eq!(set.history.len(), 5);
    assert_eq!(
        set.history[4],
        ("8.4.0", "Added 'IFEQ', 'IFNE', 'IFDEQ', 'IFDNE' options.")
    );
    assert_eq!(
        set.keys[0].notes,
        "RW and ACCESS due to the optional `GET` argument"
    );
    assert_eq!(
        spec("getex").keys[0].notes,
        "RW and UPDATE because it changes the TTL"
    );
    assert_eq!(spec("mget").tips, &["request_policy:multi_shard"]);
    assert_eq!(
        spec("mset").tips,
        &[
            "request_policy:multi_shard",
            "response_policy:all_succeeded"
        ]
    );
    assert_eq!(
        spec("msetnx").tips,
        &["request_policy:multi_shard", "response_policy:agg_min"]
    );
    assert_eq!(
        spec("msetex").tips,
        &[
            "request_policy:multi_shard",
            "response_policy:all_succeeded"
        ]
    );
    let msetex = spec("msetex");
    assert_eq!(msetex.keys[0].begin, BeginSearch::Index(1));
    assert_eq!(
        msetex.keys[0].find,
        FindKeys::Keynum {
            keynumidx: 0,
            firstkey: 1,
            keystep: 2
        }
    );
}
