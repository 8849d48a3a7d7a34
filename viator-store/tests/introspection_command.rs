//! COMMAND, COMMAND INFO/DOCS/LIST/GETKEYS/HELP against the exact bytes
//! a real Redis server sends. The table entries the replies are checked on
//! are declared here with Redis's own metadata (replacing the built-in
//! ones), so these tests check the rendering, not another family's table.

use bytes::Bytes;
use viator_protocol::ReplyBuf;
use viator_store::command::{BeginSearch, FindKeys, KeySpec, acl, flags};
use viator_store::{Client, CommandSpec, Store, StoreOptions};

fn run(store: &Store, resp3: bool, args: &[&str]) -> String {
    let mut client = Client {
        resp: if resp3 { 3 } else { 2 },
        ..Client::default()
    };
    let mut out = ReplyBuf::new();
    out.set_resp3(resp3);
    let args: Vec<Bytes> = args
        .iter()
        .map(|a| Bytes::copy_from_slice(a.as_bytes()))
        .collect();
    store.execute(&mut client, &args, &mut out);
    String::from_utf8(out.as_bytes().to_vec()).expect("utf-8 reply")
}

/// RESP written one element a line, as in a capture, joined back.
fn resp(lines: &str) -> String {
    lines
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\r\n"))
        .collect()
}

const GET: CommandSpec = CommandSpec {
    name: "get",
    arity: 2,
    flags: flags::READONLY | flags::FAST,
    acl: acl::STRING,
    keys: &[KeySpec::single(1, &["RO", "ACCESS"])],
    group: "string",
    summary: "Returns the string value of a key.",
    complexity: "O(1)",
    args: "key:key",
    ..CommandSpec::DEFAULT
};

const SET: CommandSpec = CommandSpec {
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
    history: &[
        ("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
        ("6.0.0", "Added the `KEEPTTL` option."),
        ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
        (
            "7.0.0",
            "Allowed the `NX` and `GET` options to be used together.",
        ),
    ],
    args: "key:key value:string [condition:(NX | XX)@2.6.12] [GET@6.2.0] \
           [expiration:(EX=seconds:integer@2.6.12 | PX=milliseconds:integer@2.6.12 \
           | EXAT=unix-time-seconds:unix-time@6.2.0 | PXAT=unix-time-milliseconds:unix-time@6.2.0 \
           | KEEPTTL@6.0.0)]",
    ..CommandSpec::DEFAULT
};

const CONFIG: CommandSpec = CommandSpec {
    name: "config",
    arity: -2,
    group: "server",
    summary: "A container for server configuration commands.",
    since: "2.0.0",
    complexity: "Depends on subcommand.",
    subcommands: &[
        CommandSpec {
            name: "get",
            arity: -3,
            flags: flags::ADMIN | flags::NOSCRIPT | flags::LOADING | flags::STALE,
            group: "server",
            summary: "Returns the effective values of configuration parameters.",
            since: "2.0.0",
            complexity: "O(N) when N is the number of configuration parameters provided",
            history: &[(
                "7.0.0",
                "Added the ability to pass multiple pattern parameters in one call",
            )],
            args: "data:{ parameter:string }...",
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "help",
            arity: 2,
            flags: flags::LOADING | flags::STALE,
            group: "server",
            summary: "Returns helpful text about the different subcommands.",
            since: "5.0.0",
            complexity: "O(1)",
            ..CommandSpec::DEFAULT
        },
    ],
    ..CommandSpec::DEFAULT
};

const MSET: CommandSpec = CommandSpec {
    name: "mset",
    arity: -3,
    flags: flags::WRITE | flags::DENYOOM,
    acl: acl::STRING,
    keys: &[KeySpec::range(1, -1, 2, &["OW", "UPDATE"])],
    group: "string",
    args: "data:{ key:key value:string }...",
    ..CommandSpec::DEFAULT
};

const ZUNIONSTORE: CommandSpec = CommandSpec {
    name: "zunionstore",
    arity: -4,
    flags: flags::WRITE | flags::DENYOOM,
    acl: acl::SORTEDSET,
    keys: &[
        KeySpec::single(1, &["OW", "UPDATE"]),
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
    ..CommandSpec::DEFAULT
};

const XREAD: CommandSpec = CommandSpec {
    name: "xread",
    arity: -4,
    flags: flags::READONLY | flags::BLOCKING,
    acl: acl::STREAM,
    keys: &[KeySpec {
        flags: &["RO", "ACCESS"],
        begin: BeginSearch::Keyword {
            keyword: "STREAMS",
            startfrom: 1,
        },
        find: FindKeys::Range {
            lastkey: -1,
            keystep: 1,
            limit: 2,
        },
        notes: "",
    }],
    group: "stream",
    ..CommandSpec::DEFAULT
};

const EVAL: CommandSpec = CommandSpec {
    name: "eval",
    arity: -3,
    flags: flags::NOSCRIPT
        | flags::SKIP_MONITOR
        | flags::MAY_REPLICATE
        | flags::NO_MANDATORY_KEYS
        | flags::STALE,
    acl: acl::SCRIPTING,
    keys: &[KeySpec {
        flags: &["RW", "ACCESS", "UPDATE"],
        begin: BeginSearch::Index(2),
        find: FindKeys::Keynum {
            keynumidx: 0,
            firstkey: 1,
            keystep: 1,
        },
        notes: "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE",
    }],
    group: "scripting",
    ..CommandSpec::DEFAULT
};

const LMOVE: CommandSpec = CommandSpec {
    name: "lmove",
    arity: 5,
    flags: flags::WRITE | flags::DENYOOM,
    acl: acl::LIST,
    keys: &[
        KeySpec::single(1, &["RW", "ACCESS", "DELETE"]),
        KeySpec::single(2, &["RW", "INSERT"]),
    ],
    group: "list",
    ..CommandSpec::DEFAULT
};

const SORT: CommandSpec = CommandSpec {
    name: "sort",
    arity: -2,
    flags: flags::WRITE | flags::DENYOOM,
    acl: acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS,
    keys: &[
        KeySpec::single(1, &["RO", "ACCESS"]),
        KeySpec {
            flags: &["RO", "ACCESS"],
            begin: BeginSearch::Unknown,
            find: FindKeys::Unknown,
            notes: "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
        },
        KeySpec {
            flags: &["OW", "UPDATE"],
            begin: BeginSearch::Unknown,
            find: FindKeys::Unknown,
            notes: "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
        },
    ],
    group: "generic",
    ..CommandSpec::DEFAULT
};

const PING: CommandSpec = CommandSpec {
    name: "ping",
    arity: -1,
    flags: flags::FAST | flags::SENTINEL,
    acl: acl::CONNECTION,
    group: "connection",
    ..CommandSpec::DEFAULT
};

fn store() -> Store {
    let mut s = Store::new(StoreOptions::default());
    for spec in [
        GET,
        SET,
        CONFIG,
        MSET,
        ZUNIONSTORE,
        XREAD,
        EVAL,
        LMOVE,
        SORT,
        PING,
    ] {
        s.commands_mut().add(spec);
    }
    s
}

const GET_INFO_RESP2: &str = "
    *10
    $3
    get
    :2
    *2
    +readonly
    +fast
    :1
    :1
    :1
    *3
    +@read
    +@string
    +@fast
    *0
    *1
    *6
    $5
    flags
    *2
    +RO
    +access
    $12
    begin_search
    *4
    $4
    type
    $5
    index
    $4
    spec
    *2
    $5
    index
    :1
    $9
    find_keys
    *4
    $4
    type
    $5
    range
    $4
    spec
    *6
    $7
    lastkey
    :0
    $7
    keystep
    :1
    $5
    limit
    :0
    *0";

#[test]
fn info_get_resp2_and_resp3() {
    let s = store();
    assert_eq!(
        run(&s, false, &["COMMAND", "INFO", "get"]),
        resp(&format!("*1\n{GET_INFO_RESP2}"))
    );
    let resp3 = "*1 *10 $3 get :2 ~2 +readonly +fast :1 :1 :1 ~3 +@read +@string +@fast ~0 ~1 %3 \
                 $5 flags ~2 +RO +access $12 begin_search %2 $4 type $5 index $4 spec %1 $5 index :1 \
                 $9 find_keys %2 $4 type $5 range $4 spec %3 $7 lastkey :0 $7 keystep :1 $5 limit :0 ~0";
    assert_eq!(
        run(&s, true, &["command", "info", "GET"]),
        resp(&resp3.replace(' ', "\n"))
    );
}

#[test]
fn info_set_with_notes_and_unknown() {
    let s = store();
    let expected = "*2 $-1 *10 $3 set :-3 *2 +write +denyoom :1 :1 :1 *3 +@write +@string +@slow *0 *1 *8 \
                    $5 notes $48 RW^and^ACCESS^due^to^the^optional^`GET`^argument \
                    $5 flags *4 +RW +access +update +variable_flags $12 begin_search *4 $4 type $5 index \
                    $4 spec *2 $5 index :1 $9 find_keys *4 $4 type $5 range $4 spec *6 $7 lastkey :0 \
                    $7 keystep :1 $5 limit :0 *0";
    let expected = resp(&expected.replace(' ', "\n")).replace('^', " ");
    assert_eq!(
        run(&s, false, &["COMMAND", "INFO", "nosuch", "set"]),
        expected
    );
    assert_eq!(run(&s, true, &["COMMAND", "INFO", "nosuch"]), "*1\r\n_\r\n");
}

#[test]
fn info_subcommands() {
    let s = store();
    let get = "*10 $10 config|get :-3 *4 +admin +noscript +loading +stale :0 :0 :0 \
               *3 +@admin +@slow +@dangerous *0 *0 *0";
    assert_eq!(
        run(&s, false, &["COMMAND", "INFO", "CONFIG|GET"]),
        resp(&format!("*1 {get}").replace(' ', "\n"))
    );
    let get3 = "*1 *10 $10 config|get :-3 ~4 +admin +noscript +loading +stale :0 :0 :0 \
                ~3 +@admin +@slow +@dangerous ~0 ~0 ~0";
    assert_eq!(
        run(&s, true, &["COMMAND", "INFO", "config|get"]),
        resp(&get3.replace(' ', "\n"))
    );
    let help = "*10 $11 config|help :2 *2 +loading +stale :0 :0 :0 *1 +@slow *0 *0 *0";
    let container = format!("*1 *10 $6 config :-2 *0 :0 :0 :0 *1 +@slow *0 *0 *2 {get} {help}");
    assert_eq!(
        run(&s, false, &["COMMAND", "INFO", "config"]),
        resp(&container.replace(' ', "\n"))
    );
    // Names that are not a command or a command|subcommand.
    for bad in [
        "config|get|x",
        "get|x",
        "config|",
        "|get",
        "",
        "config|nosuch",
    ] {
        assert_eq!(
            run(&s, false, &["COMMAND", "INFO", bad]),
            "*1\r\n$-1\r\n",
            "{bad:?}"
        );
    }
}

#[test]
fn info_legacy_range_and_movablekeys() {
    let s = store();
    let head = |name: &str| {
        let r = run(&s, false, &["COMMAND", "INFO", name]);
        // name, arity, flags, first, last, step: cut before the ACL set.
        let at = r.find("+@").expect("categories");
        r[..at].to_string()
    };
    assert_eq!(
        head("mset"),
        resp("*1 *10 $4 mset :-3 *2 +write +denyoom :1 :-1 :2 *3").replace(' ', "\r\n")
    );
    assert_eq!(
        head("zunionstore"),
        resp("*1 *10 $11 zunionstore :-4 *3 +write +denyoom +movablekeys :1 :1 :1 *3")
            .replace(' ', "\r\n")
    );
    assert_eq!(
        head("eval"),
        resp("*1 *10 $4 eval :-3 *5 +noscript +stale +skip_monitor +no_mandatory_keys +movablekeys :0 :0 :0 *2")
            .replace(' ', "\r\n")
    );
    assert_eq!(
        head("sort"),
        resp("*1 *10 $4 sort :-2 *3 +write +denyoom +movablekeys :1 :1 :1 *6").replace(' ', "\r\n")
    );
    assert_eq!(
        head("xread"),
        resp("*1 *10 $5 xread :-4 *3 +readonly +blocking +movablekeys :0 :0 :0 *4")
            .replace(' ', "\r\n")
    );
    assert_eq!(
        head("lmove"),
        resp("*1 *10 $5 lmove :5 *2 +write +denyoom :1 :2 :1 *3").replace(' ', "\r\n")
    );
    // Hidden flags (sentinel) stay hidden.
    assert_eq!(
        head("ping"),
        resp("*1 *10 $4 ping :-1 *1 +fast :0 :0 :0 *2").replace(' ', "\r\n")
    );
}

/// `COMMAND DOCS set` as Redis 7.2+ sends it in RESP2 (display_text after
/// type, pure tokens named after their token).
const SET_DOCS_RESP2: &str = "*2\r\n$3\r\nset\r\n*12\r\n$7\r\nsummary\r\n$90\r\nSets the string value of a key, ignoring its type. The key is created if it doesn't exist.\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$7\r\nhistory\r\n*4\r\n*2\r\n$6\r\n2.6.12\r\n$44\r\nAdded the `EX`, `PX`, `NX` and `XX` options.\r\n*2\r\n$5\r\n6.0.0\r\n$27\r\nAdded the `KEEPTTL` option.\r\n*2\r\n$5\r\n6.2.0\r\n$42\r\nAdded the `GET`, `EXAT` and `PXAT` option.\r\n*2\r\n$5\r\n7.0.0\r\n$55\r\nAllowed the `NX` and `GET` options to be used together.\r\n$9\r\narguments\r\n*5\r\n*8\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$12\r\ndisplay_text\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n*6\r\n$4\r\nname\r\n$5\r\nvalue\r\n$4\r\ntype\r\n$6\r\nstring\r\n$12\r\ndisplay_text\r\n$5\r\nvalue\r\n*10\r\n$4\r\nname\r\n$9\r\ncondition\r\n$4\r\ntype\r\n$5\r\noneof\r\n$5\r\nsince\r\n$6\r\n2.6.12\r\n$5\r\nflags\r\n*1\r\n+optional\r\n$9\r\narguments\r\n*2\r\n*8\r\n$4\r\nname\r\n$2\r\nnx\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$12\r\ndisplay_text\r\n$2\r\nnx\r\n$5\r\ntoken\r\n$2\r\nNX\r\n*8\r\n$4\r\nname\r\n$2\r\nxx\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$12\r\ndisplay_text\r\n$2\r\nxx\r\n$5\r\ntoken\r\n$2\r\nXX\r\n*12\r\n$4\r\nname\r\n$3\r\nget\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$12\r\ndisplay_text\r\n$3\r\nget\r\n$5\r\ntoken\r\n$3\r\nGET\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n$5\r\nflags\r\n*1\r\n+optional\r\n*8\r\n$4\r\nname\r\n$10\r\nexpiration\r\n$4\r\ntype\r\n$5\r\noneof\r\n$5\r\nflags\r\n*1\r\n+optional\r\n$9\r\narguments\r\n*5\r\n*10\r\n$4\r\nname\r\n$7\r\nseconds\r\n$4\r\ntype\r\n$7\r\ninteger\r\n$12\r\ndisplay_text\r\n$7\r\nseconds\r\n$5\r\ntoken\r\n$2\r\nEX\r\n$5\r\nsince\r\n$6\r\n2.6.12\r\n*10\r\n$4\r\nname\r\n$12\r\nmilliseconds\r\n$4\r\ntype\r\n$7\r\ninteger\r\n$12\r\ndisplay_text\r\n$12\r\nmilliseconds\r\n$5\r\ntoken\r\n$2\r\nPX\r\n$5\r\nsince\r\n$6\r\n2.6.12\r\n*10\r\n$4\r\nname\r\n$17\r\nunix-time-seconds\r\n$4\r\ntype\r\n$9\r\nunix-time\r\n$12\r\ndisplay_text\r\n$17\r\nunix-time-seconds\r\n$5\r\ntoken\r\n$4\r\nEXAT\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n*10\r\n$4\r\nname\r\n$22\r\nunix-time-milliseconds\r\n$4\r\ntype\r\n$9\r\nunix-time\r\n$12\r\ndisplay_text\r\n$22\r\nunix-time-milliseconds\r\n$5\r\ntoken\r\n$4\r\nPXAT\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n*10\r\n$4\r\nname\r\n$7\r\nkeepttl\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$12\r\ndisplay_text\r\n$7\r\nkeepttl\r\n$5\r\ntoken\r\n$7\r\nKEEPTTL\r\n$5\r\nsince\r\n$5\r\n6.0.0\r\n";

#[test]
fn docs_set_resp2() {
    let s = store();
    assert_eq!(run(&s, false, &["COMMAND", "DOCS", "set"]), SET_DOCS_RESP2);
    // Unknown names are skipped; the map counts what was found.
    let twice = run(&s, false, &["COMMAND", "DOCS", "nosuch", "set", "SET"]);
    let body = &SET_DOCS_RESP2["*2\r\n".len()..];
    assert_eq!(twice, format!("*4\r\n{body}{body}"));
    assert_eq!(run(&s, false, &["COMMAND", "DOCS", "nosuch"]), "*0\r\n");
    assert_eq!(run(&s, true, &["COMMAND", "DOCS", "nosuch"]), "%0\r\n");
}

#[test]
fn docs_set_resp3() {
    let s = store();
    // The same tree with maps for maps and sets for history and flags.
    let expected = SET_DOCS_RESP2
        .replacen("*2\r\n$3\r\nset\r\n*12\r\n", "%1\r\n$3\r\nset\r\n%6\r\n", 1)
        .replace("$7\r\nhistory\r\n*4\r\n", "$7\r\nhistory\r\n~4\r\n")
        .replace("*8\r\n$4\r\nname", "%4\r\n$4\r\nname")
        .replace("*6\r\n$4\r\nname", "%3\r\n$4\r\nname")
        .replace("*10\r\n$4\r\nname", "%5\r\n$4\r\nname")
        .replace("*12\r\n$4\r\nname", "%6\r\n$4\r\nname")
        .replace("*1\r\n+optional", "~1\r\n+optional");
    assert_eq!(run(&s, true, &["COMMAND", "DOCS", "set"]), expected);
}

#[test]
fn docs_container_and_blocks() {
    let s = store();
    let get = "$10 config|get *12 $7 summary $57 Returns^the^effective^values^of^configuration^parameters. \
               $5 since $5 2.0.0 $5 group $6 server $10 complexity \
               $62 O(N)^when^N^is^the^number^of^configuration^parameters^provided \
               $7 history *1 *2 $5 7.0.0 $65 Added^the^ability^to^pass^multiple^pattern^parameters^in^one^call \
               $9 arguments *1 *8 $4 name $4 data $4 type $5 block $5 flags *1 +multiple \
               $9 arguments *1 *6 $4 name $9 parameter $4 type $6 string $12 display_text $9 parameter";
    let help = "$11 config|help *8 $7 summary $53 Returns^helpful^text^about^the^different^subcommands. \
                $5 since $5 5.0.0 $5 group $6 server $10 complexity $4 O(1)";
    let expected = format!(
        "*2 $6 config *10 $7 summary $46 A^container^for^server^configuration^commands. \
         $5 since $5 2.0.0 $5 group $6 server $10 complexity $22 Depends^on^subcommand. \
         $11 subcommands *4 {get} {help}"
    );
    let expected = resp(&expected.replace(' ', "\n")).replace('^', " ");
    assert_eq!(run(&s, false, &["COMMAND", "DOCS", "config"]), expected);
    // In RESP3 the subcommands are a map.
    let r3 = run(&s, true, &["COMMAND", "DOCS", "config"]);
    assert!(r3.starts_with("%1\r\n$6\r\nconfig\r\n%5\r\n"), "{r3}");
    assert!(
        r3.contains("$11\r\nsubcommands\r\n%2\r\n$10\r\nconfig|get\r\n%6\r\n"),
        "{r3}"
    );
}

#[test]
fn docs_and_info_of_everything() {
    let s = store();
    let count = s.commands().len();
    assert_eq!(
        run(&s, false, &["COMMAND", "COUNT"]),
        format!(":{count}\r\n")
    );
    assert!(run(&s, false, &["COMMAND"]).starts_with(&format!("*{count}\r\n*10\r\n")));
    assert!(run(&s, false, &["COMMAND", "INFO"]).starts_with(&format!("*{count}\r\n*10\r\n")));
    assert!(run(&s, false, &["COMMAND", "DOCS"]).starts_with(&format!("*{}\r\n", 2 * count)));
    assert!(run(&s, true, &["COMMAND", "DOCS"]).starts_with(&format!("%{count}\r\n")));
}

#[test]
fn command_family_metadata() {
    let s = store();
    let info = run(&s, false, &["COMMAND", "INFO", "command"]);
    assert!(info.starts_with(&resp(
        "*1 *10 $7 command :-1 *2 +loading +stale :0 :0 :0 *2 +@slow +@connection *1 $29 nondeterministic_output_order *0 *7"
    ).replace(' ', "\r\n")), "{info}");
    assert!(info.contains(&resp(
        "*10 $12 command|info :-2 *2 +loading +stale :0 :0 :0 *2 +@slow +@connection *1 $29 nondeterministic_output_order *0 *0"
    ).replace(' ', "\r\n")));
    assert!(info.contains(&resp(
        "*10 $15 command|getkeys :-3 *2 +loading +stale :0 :0 :0 *2 +@slow +@connection *0 *0 *0"
    ).replace(' ', "\r\n")));
    let docs = run(&s, false, &["COMMAND", "DOCS", "command|list"]);
    let expected = "*2 $12 command|list *10 $7 summary $32 Returns^a^list^of^command^names. $5 since $5 7.0.0 \
                    $5 group $6 server $10 complexity $50 O(N)^where^N^is^the^total^number^of^Redis^commands \
                    $9 arguments *1 *10 $4 name $8 filterby $4 type $5 oneof $5 token $8 FILTERBY \
                    $5 flags *1 +optional $9 arguments *3 \
                    *8 $4 name $11 module-name $4 type $6 string $12 display_text $11 module-name $5 token $6 MODULE \
                    *8 $4 name $8 category $4 type $6 string $12 display_text $8 category $5 token $6 ACLCAT \
                    *8 $4 name $7 pattern $4 type $7 pattern $12 display_text $7 pattern $5 token $7 PATTERN";
    assert_eq!(docs, resp(&expected.replace(' ', "\n")).replace('^', " "));
}

#[test]
fn help_lines() {
    let s = store();
    let r = run(&s, false, &["command", "help"]);
    let lines: Vec<&str> = r.split("\r\n").collect();
    assert_eq!(lines[0], "*21");
    assert_eq!(
        lines[1],
        "+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(lines[2], "+(no subcommand)");
    assert_eq!(
        lines[19],
        "+    Return the keys and the access flags from a full Redis command."
    );
    assert_eq!(lines[20], "+HELP");
    assert_eq!(lines[21], "+    Print this help.");
    assert_eq!(lines[22], "");
    assert_eq!(
        run(&s, false, &["COMMAND", "HELP", "x"]),
        "-ERR wrong number of arguments for 'command|help' command\r\n"
    );
    assert_eq!(
        run(&s, false, &["COMMAND", "foo"]),
        "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n"
    );
    assert_eq!(
        run(&s, false, &["COMMAND", "COUNT", "x"]),
        "-ERR wrong number of arguments for 'command|count' command\r\n"
    );
}

fn bulks(items: &[&str]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(&format!("${}\r\n{i}\r\n", i.len()));
    }
    s
}

#[test]
fn getkeys_multi_key_commands() {
    let s = store();
    let gk = |args: &[&str]| {
        let mut v = vec!["COMMAND", "GETKEYS"];
        v.extend_from_slice(args);
        run(&s, false, &v)
    };
    assert_eq!(gk(&["mset", "a", "1", "b", "2"]), bulks(&["a", "b"]));
    assert_eq!(gk(&["mset", "a", "1", "b"]), bulks(&["a", "b"]));
    assert_eq!(
        gk(&["zunionstore", "d", "2", "a", "b"]),
        bulks(&["d", "a", "b"])
    );
    assert_eq!(
        gk(&["xread", "streams", "a", "b", "1", "2"]),
        bulks(&["a", "b"])
    );
    assert_eq!(
        gk(&["xread", "COUNT", "1", "STREAMS", "a", "b", "1"]),
        bulks(&["a"])
    );
    assert_eq!(
        gk(&["eval", "s", "2", "k1", "k2", "a"]),
        bulks(&["k1", "k2"])
    );
    assert_eq!(gk(&["eval", "s", "0"]), "*0\r\n");
    assert_eq!(
        gk(&["sort", "a", "LIMIT", "0", "1", "store", "b"]),
        bulks(&["a", "b"])
    );
    assert_eq!(gk(&["sort", "a", "by", "store"]), bulks(&["a"]));
    assert_eq!(gk(&["lmove", "a", "b", "left", "left"]), bulks(&["a", "b"]));
    for (args, err) in [
        (
            &["zunionstore", "d", "3", "a", "b"][..],
            "Invalid arguments specified for command",
        ),
        (
            &["zunionstore", "d", "x", "a", "b"],
            "Invalid arguments specified for command",
        ),
        (
            &["zunionstore", "d", "-1", "a", "b"],
            "Invalid arguments specified for command",
        ),
        (
            &["xread", "count", "1", "block"],
            "Invalid arguments specified for command",
        ),
        (&["nosuch", "a"], "Invalid command specified"),
        (&["config", "nosuch"], "Invalid command specified"),
        (&["ping", "x"], "The command has no key arguments"),
        (&["config", "get", "x"], "The command has no key arguments"),
        (
            &["get", "a", "b"],
            "Invalid number of arguments specified for command",
        ),
        (
            &["get"],
            "Invalid number of arguments specified for command",
        ),
    ] {
        assert_eq!(gk(args), format!("-ERR {err}\r\n"), "{args:?}");
    }
    assert_eq!(
        run(&s, false, &["COMMAND", "GETKEYS", "get"]),
        "-ERR Invalid number of arguments specified for command\r\n"
    );
    assert_eq!(
        run(&s, false, &["COMMAND", "GETKEYS"]),
        "-ERR wrong number of arguments for 'command|getkeys' command\r\n"
    );
}

#[test]
fn getkeysandflags() {
    let s = store();
    let gkf = |args: &[&str], resp3: bool| {
        let mut v = vec!["COMMAND", "GETKEYSANDFLAGS"];
        v.extend_from_slice(args);
        run(&s, resp3, &v)
    };
    assert_eq!(
        gkf(&["lmove", "a", "b", "left", "left"], false),
        resp("*2 *2 $1 a *3 +RW +access +delete *2 $1 b *2 +RW +insert").replace(' ', "\r\n")
    );
    assert_eq!(
        gkf(&["lmove", "a", "b", "left", "left"], true),
        resp("*2 *2 $1 a ~3 +RW +access +delete *2 $1 b ~2 +RW +insert").replace(' ', "\r\n")
    );
    // SET's flags depend on GET, as Redis's setGetKeys says.
    assert_eq!(
        gkf(&["set", "a", "b"], false),
        resp("*1 *2 $1 a *2 +OW +update").replace(' ', "\r\n")
    );
    assert_eq!(
        gkf(&["set", "a", "b", "get"], false),
        resp("*1 *2 $1 a *3 +RW +access +update").replace(' ', "\r\n")
    );
    assert_eq!(
        gkf(&["sort", "a", "store", "b"], false),
        resp("*2 *2 $1 a *2 +RO +access *2 $1 b *2 +OW +update").replace(' ', "\r\n")
    );
}

#[test]
fn list_filters() {
    let s = store();
    assert_eq!(
        run(
            &s,
            false,
            &["COMMAND", "LIST", "FILTERBY", "pattern", "config*"]
        ),
        bulks(&["config", "config|get", "config|help"])
    );
    assert_eq!(
        run(
            &s,
            false,
            &["COMMAND", "LIST", "FILTERBY", "PATTERN", "COMMAND|*S"]
        ),
        bulks(&["command|docs", "command|getkeys", "command|getkeysandflags"])
    );
    // Every command (or subcommand) in @dangerous, parents before children.
    let mut dangerous = Vec::new();
    let mut cmds: Vec<_> = s.commands().iter().collect();
    cmds.sort_by(|a, b| a.full_name.cmp(&b.full_name));
    for c in cmds {
        for x in std::iter::once(c).chain(c.sorted_subs()) {
            if x.spec.acl_categories() & acl::DANGEROUS != 0 {
                dangerous.push(x.full_name.to_string());
            }
        }
    }
    assert!(dangerous.iter().any(|n| n == "config|get") && dangerous.iter().any(|n| n == "sort"));
    let names: Vec<&str> = dangerous.iter().map(String::as_str).collect();
    assert_eq!(
        run(
            &s,
            false,
            &["COMMAND", "LIST", "FILTERBY", "aclcat", "DANGEROUS"]
        ),
        bulks(&names)
    );
    assert_eq!(
        run(
            &s,
            false,
            &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"]
        ),
        "*0\r\n"
    );
    assert_eq!(
        run(
            &s,
            false,
            &["COMMAND", "LIST", "FILTERBY", "MODULE", "json"]
        ),
        "*0\r\n"
    );
    for bad in [
        &["COMMAND", "LIST", "x"][..],
        &["COMMAND", "LIST", "FILTERBY", "nope", "x"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN"],
        &[
            "COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "FILTERBY", "PATTERN", "b",
        ],
    ] {
        assert_eq!(run(&s, false, bad), "-ERR syntax error\r\n", "{bad:?}");
    }
    // Without a filter: every command, each followed by its subcommands.
    let all = run(&s, false, &["COMMAND", "LIST"]);
    let total: usize = s.commands().iter().map(|c| 1 + c.subs.len()).sum();
    assert!(all.starts_with(&format!("*{total}\r\n")));
    assert!(all.contains("$6\r\nconfig\r\n$10\r\nconfig|get\r\n$11\r\nconfig|help\r\n"));
}

#[test]
fn legacy_range_follows_populate_command_legacy_range_spec() {
    let spec = |keys: &'static [KeySpec]| CommandSpec {
        name: "x",
        arity: -2,
        keys,
        ..CommandSpec::DEFAULT
    };
    // BITOP: two plain ranges that follow one another are glued, and a
    // last key counted from the end wins.
    static BITOP: [KeySpec; 2] = [
        KeySpec::single(2, &["OW", "UPDATE"]),
        KeySpec::range(3, -1, 1, &["RO", "ACCESS"]),
    ];
    let bitop = spec(&BITOP);
    assert_eq!(bitop.legacy_range(), (2, -1, 1));
    assert!(!bitop.movable_keys());
    // MIGRATE: the keyword spec makes the keys movable; the range stays.
    static MIGRATE: [KeySpec; 2] = [
        KeySpec::single(3, &["RW", "ACCESS", "DELETE"]),
        KeySpec {
            flags: &["RW", "ACCESS", "DELETE", "INCOMPLETE"],
            begin: BeginSearch::Keyword {
                keyword: "KEYS",
                startfrom: -2,
            },
            find: FindKeys::Range {
                lastkey: -1,
                keystep: 1,
                limit: 0,
            },
            notes: "",
        },
    ];
    let migrate = spec(&MIGRATE);
    assert_eq!(migrate.legacy_range(), (3, 3, 1));
    assert_eq!(
        migrate.effective_flags() & flags::MOVABLE_KEYS,
        flags::MOVABLE_KEYS
    );
    // Ranges that do not follow one another: the later one is skipped.
    static GAP: [KeySpec; 2] = [range_spec_const(1), range_spec_const(3)];
    let gap = spec(&GAP);
    assert_eq!(gap.legacy_range(), (1, 1, 1));
    assert!(gap.movable_keys());
    // One range spec is taken as it is, step included; incomplete makes
    // it movable.
    static ONE_INCOMPLETE: [KeySpec; 1] = [KeySpec::range(1, -1, 2, &["RW", "INCOMPLETE"])];
    let one = spec(&ONE_INCOMPLETE);
    assert_eq!(one.legacy_range(), (1, -1, 2));
    assert!(one.movable_keys());
    // A step other than 1 among several specs is not glued.
    static STEPPED: [KeySpec; 2] = [
        KeySpec::single(1, &["RW"]),
        KeySpec::range(2, -1, 2, &["RW"]),
    ];
    let stepped = spec(&STEPPED);
    assert_eq!(stepped.legacy_range(), (1, 1, 1));
    assert!(stepped.movable_keys());
    // No key specs: no range, no movable keys.
    let none = spec(&[]);
    assert_eq!(none.legacy_range(), (0, 0, 0));
    assert_eq!(none.effective_flags(), 0);
}

const fn range_spec_const(index: i32) -> KeySpec {
    KeySpec::single(index, &["RO"])
}

#[test]
fn containers_alone() {
    let s = store();
    // CONFIG alone fails its arity; COMMAND alone runs.
    assert_eq!(
        run(&s, false, &["CONFIG"]),
        "-ERR wrong number of arguments for 'config' command\r\n"
    );
    assert!(run(&s, false, &["command"]).starts_with('*'));
}

const NOT_KEY_SPECS: &[KeySpec] = &[KeySpec::single(1, &["NOT_KEY"])];

#[test]
fn not_key_specs() {
    let mut s = store();
    s.commands_mut().add(CommandSpec {
        name: "spublish",
        arity: 3,
        flags: flags::PUBSUB | flags::LOADING | flags::STALE | flags::FAST | flags::MAY_REPLICATE,
        keys: NOT_KEY_SPECS,
        group: "pubsub",
        ..CommandSpec::DEFAULT
    });
    let info = run(&s, false, &["COMMAND", "INFO", "spublish"]);
    assert!(info.starts_with(&resp(
        "*1 *10 $8 spublish :3 *4 +pubsub +loading +stale +fast :1 :1 :1 *2 +@pubsub +@fast *0 *1 *6 $5 flags *1 +not_key"
    ).replace(' ', "\r\n")), "{info}");
    assert_eq!(
        run(&s, false, &["COMMAND", "GETKEYS", "spublish", "ch", "msg"]),
        "-ERR The command has no key arguments\r\n"
    );
}
