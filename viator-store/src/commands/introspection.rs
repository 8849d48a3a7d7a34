//! The COMMAND family (Redis's `commandCommand` and friends in `server.c`):
//! what the command table says about itself. COMMAND INFO and COMMAND DOCS
//! render the table entries; COMMAND GETKEYS finds key names from the key
//! specs as `getKeysUsingKeySpecs` (`db.c`) does.
//!
//! The replies are built from `ctx.store.commands()`, so commands that
//! higher crates add to the table at startup show up like the built-in
//! ones. Where Redis answers in hash-table order, Viator answers sorted by
//! name: the order is documented as nondeterministic, and a stable one is
//! easier on tests and eyes.

#[path = "docs.rs"]
pub mod docs;

use viator_protocol::ReplyBuf;

use crate::command::{BeginSearch, Command, CommandSpec, Ctx, FindKeys, KeySpec, acl, flags};
use crate::errors;

use self::docs::Arg;

/// Key spec flags as bits, in the order COMMAND INFO lists them.
pub mod key_flags {
    /// `RO`: the key is only read.
    pub const RO: u32 = 1 << 0;
    /// `RW`: read and written.
    pub const RW: u32 = 1 << 1;
    /// `OW`: overwritten without being read.
    pub const OW: u32 = 1 << 2;
    /// `RM`: deleted.
    pub const RM: u32 = 1 << 3;
    /// `access`: the value is returned or used.
    pub const ACCESS: u32 = 1 << 4;
    /// `update`: the value is changed.
    pub const UPDATE: u32 = 1 << 5;
    /// `insert`: data is added.
    pub const INSERT: u32 = 1 << 6;
    /// `delete`: data is removed.
    pub const DELETE: u32 = 1 << 7;
    /// `not_key`: not a key name (a channel, for example).
    pub const NOT_KEY: u32 = 1 << 8;
    /// `incomplete`: the spec may miss keys.
    pub const INCOMPLETE: u32 = 1 << 9;
    /// `variable_flags`: the flags depend on the other arguments.
    pub const VARIABLE_FLAGS: u32 = 1 << 10;

    /// (bit, spelling in the table, spelling in replies), in reply order.
    pub const NAMES: &[(u32, &str, &str)] = &[
        (RO, "RO", "RO"),
        (RW, "RW", "RW"),
        (OW, "OW", "OW"),
        (RM, "RM", "RM"),
        (ACCESS, "ACCESS", "access"),
        (UPDATE, "UPDATE", "update"),
        (INSERT, "INSERT", "insert"),
        (DELETE, "DELETE", "delete"),
        (NOT_KEY, "NOT_KEY", "not_key"),
        (INCOMPLETE, "INCOMPLETE", "incomplete"),
        (VARIABLE_FLAGS, "VARIABLE_FLAGS", "variable_flags"),
    ];

    /// The bits of a key spec's flag names (any case; unknown names count
    /// for nothing).
    pub fn bits(names: &[&str]) -> u32 {
        names
            .iter()
            .filter_map(|n| {
                NAMES
                    .iter()
                    .find(|(_, spec, _)| spec.eq_ignore_ascii_case(n))
            })
            .fold(0, |acc, (bit, _, _)| acc | bit)
    }
}

/// The command flags COMMAND INFO shows, in its order. `may_replicate`,
/// `sentinel`, `only_sentinel`, `protected` and `touches_arbitrary_keys`
/// are hidden, as in Redis.
const INFO_FLAGS: &[(u64, &str)] = &[
    (flags::WRITE, "write"),
    (flags::READONLY, "readonly"),
    (flags::DENYOOM, "denyoom"),
    (flags::ADMIN, "admin"),
    (flags::PUBSUB, "pubsub"),
    (flags::NOSCRIPT, "noscript"),
    (flags::BLOCKING, "blocking"),
    (flags::LOADING, "loading"),
    (flags::STALE, "stale"),
    (flags::SKIP_MONITOR, "skip_monitor"),
    (flags::SKIP_SLOWLOG, "skip_slowlog"),
    (flags::ASKING, "asking"),
    (flags::FAST, "fast"),
    (flags::NO_AUTH, "no_auth"),
    (flags::NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (flags::NO_ASYNC_LOADING, "no_async_loading"),
    (flags::NO_MULTI, "no_multi"),
    (flags::MOVABLE_KEYS, "movablekeys"),
    (flags::ALLOW_BUSY, "allow_busy"),
];

/// Documentation flags, in COMMAND DOCS order.
const DOC_FLAGS: &[&str] = &["deprecated", "syscmd"];

const COMMAND_FLAGS: u64 = flags::LOADING | flags::STALE | flags::SENTINEL;
const NONDETERMINISTIC_ORDER: &[&str] = &["nondeterministic_output_order"];

const COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "count",
        arity: 2,
        flags: COMMAND_FLAGS,
        acl: acl::CONNECTION,
        group: "server",
        summary: "Returns a count of commands.",
        since: "2.8.13",
        complexity: "O(1)",
        handler: Some(command_count),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "docs",
        arity: -2,
        flags: COMMAND_FLAGS,
        acl: acl::CONNECTION,
        group: "server",
        summary: "Returns documentary information about one, multiple or all commands.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of commands to look up",
        args: "[command-name:string...]",
        tips: NONDETERMINISTIC_ORDER,
        handler: Some(command_docs),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getkeys",
        arity: -3,
        flags: COMMAND_FLAGS,
        acl: acl::CONNECTION,
        group: "server",
        summary: "Extracts the key names from an arbitrary command.",
        since: "2.8.13",
        complexity: "O(N) where N is the number of arguments to the command",
        args: "command:string [arg:string...]",
        handler: Some(command_getkeys),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getkeysandflags",
        arity: -3,
        flags: COMMAND_FLAGS,
        acl: acl::CONNECTION,
        group: "server",
        summary: "Extracts the key names and access flags for an arbitrary command.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of arguments to the command",
        args: "command:string [arg:string...]",
        handler: Some(command_getkeysandflags),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: COMMAND_FLAGS,
        acl: acl::CONNECTION,
        group: "server",
        summary: "Returns helpful text about the different subcommands.",
        since: "5.0.0",
        complexity: "O(1)",
        handler: Some(command_help),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "info",
        arity: -2,
        flags: COMMAND_FLAGS,
        acl: acl::CONNECTION,
        group: "server",
        summary: "Returns information about one, multiple or all commands.",
        since: "2.8.13",
        complexity: "O(N) where N is the number of commands to look up",
        args: "[command-name:string...]",
        tips: NONDETERMINISTIC_ORDER,
        history: &[(
            "7.0.0",
            "Allowed to be called with no argument to get info on all commands.",
        )],
        handler: Some(command_info),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "list",
        arity: -2,
        flags: COMMAND_FLAGS,
        acl: acl::CONNECTION,
        group: "server",
        summary: "Returns a list of command names.",
        since: "7.0.0",
        complexity: "O(N) where N is the total number of Redis commands",
        args: "[FILTERBY=filterby:(MODULE=module-name:string | ACLCAT=category:string | PATTERN=pattern:pattern)]",
        tips: NONDETERMINISTIC_ORDER,
        handler: Some(command_list),
        ..CommandSpec::DEFAULT
    },
];

/// This family's part of the command table: COMMAND and its subcommands.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "command",
    arity: -1,
    flags: COMMAND_FLAGS,
    acl: acl::CONNECTION,
    group: "server",
    summary: "Returns detailed information about all commands.",
    since: "2.8.13",
    complexity: "O(N) where N is the total number of Redis commands",
    tips: NONDETERMINISTIC_ORDER,
    handler: Some(command_all),
    subcommands: COMMAND_SUBCOMMANDS,
    ..CommandSpec::DEFAULT
}];

/// The lines of COMMAND HELP between its header and its HELP entry.
const HELP: &[&str] = &[
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
];

/// Writes a container's HELP reply the way Redis's `addReplyHelp` does:
/// a header naming the container (as the client spelled it, upper-cased),
/// the lines, and the HELP entry.
pub fn reply_help(out: &mut ReplyBuf, container: &[u8], lines: &[&str]) {
    out.array(lines.len() + 3);
    let mut header = String::from_utf8_lossy(container).to_ascii_uppercase();
    header.push_str(" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    out.simple_bytes(header.as_bytes());
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Print this help.");
}

/// Top-level commands sorted by name.
fn sorted(table: &crate::CommandTable) -> Vec<&Command> {
    let mut v: Vec<&Command> = table.iter().collect();
    v.sort_by(|a, b| a.full_name.cmp(&b.full_name));
    v
}

/// Resolves a name as COMMAND INFO and DOCS do (`lookupCommandBySds`):
/// `get`, or `container|sub`, in any case; anything else is unknown.
pub fn lookup_full_name<'t>(table: &'t crate::CommandTable, name: &[u8]) -> Option<&'t Command> {
    let name = std::str::from_utf8(name).ok()?;
    if name.is_empty() {
        return None;
    }
    table.get_full(name)
}

/// COMMAND: every command's info.
fn command_all(ctx: &mut Ctx<'_>) {
    let cmds = sorted(ctx.store.commands());
    ctx.out.array(cmds.len());
    for c in cmds {
        reply_info(ctx.out, c);
    }
}

/// COMMAND COUNT: the number of top-level commands.
fn command_count(ctx: &mut Ctx<'_>) {
    ctx.out.int(ctx.store.commands().len() as i64);
}

/// COMMAND INFO [name ...]
fn command_info(ctx: &mut Ctx<'_>) {
    if ctx.argc() == 2 {
        command_all(ctx);
        return;
    }
    let table = ctx.store.commands();
    ctx.out.array(ctx.argc() - 2);
    for name in &ctx.args[2..] {
        match lookup_full_name(table, name) {
            Some(c) => reply_info(ctx.out, c),
            None => ctx.out.null(),
        }
    }
}

/// COMMAND DOCS [name ...]
fn command_docs(ctx: &mut Ctx<'_>) {
    let table = ctx.store.commands();
    if ctx.argc() == 2 {
        let cmds = sorted(table);
        ctx.out.map(cmds.len());
        for c in cmds {
            ctx.out.bulk(c.full_name.as_bytes());
            reply_docs(ctx.out, c);
        }
        return;
    }
    let at = ctx.out.deferred();
    let mut n = 0;
    for name in &ctx.args[2..] {
        if let Some(c) = lookup_full_name(table, name) {
            ctx.out.bulk(c.full_name.as_bytes());
            reply_docs(ctx.out, c);
            n += 1;
        }
    }
    ctx.out.set_deferred_map(at, n);
}

/// COMMAND HELP
fn command_help(ctx: &mut Ctx<'_>) {
    let container = ctx.arg(0);
    reply_help(ctx.out, container, HELP);
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
fn command_list(ctx: &mut Ctx<'_>) {
    enum Filter<'a> {
        None,
        Module,
        AclCat(u64),
        Pattern(&'a [u8]),
    }
    let mut filter = Filter::None;
    let mut i = 2;
    while i < ctx.argc() {
        let more = ctx.argc() - 1 - i;
        if ctx.arg_is(i, "filterby") && more == 2 {
            filter = if ctx.arg_is(i + 1, "module") {
                // No modules: no command belongs to one.
                Filter::Module
            } else if ctx.arg_is(i + 1, "aclcat") {
                let cat = acl::NAMES
                    .iter()
                    .find(|(_, n)| ctx.arg(i + 2).eq_ignore_ascii_case(n.as_bytes()))
                    .map(|(bit, _)| *bit)
                    .unwrap_or(0);
                Filter::AclCat(cat)
            } else if ctx.arg_is(i + 1, "pattern") {
                Filter::Pattern(ctx.arg(i + 2))
            } else {
                ctx.out.error(errors::SYNTAX);
                return;
            };
            i += 3;
        } else {
            ctx.out.error(errors::SYNTAX);
            return;
        }
    }
    let keep = |c: &Command| match filter {
        Filter::None => true,
        Filter::Module => false,
        Filter::AclCat(cat) => cat != 0 && c.spec.acl_categories() & cat != 0,
        Filter::Pattern(p) => viator_types::glob::glob_match(p, c.full_name.as_bytes(), true),
    };
    let cmds = sorted(ctx.store.commands());
    let mut names: Vec<&[u8]> = Vec::new();
    for c in cmds {
        if keep(c) {
            names.push(c.full_name.as_bytes());
        }
        for s in c.sorted_subs() {
            if keep(s) {
                names.push(s.full_name.as_bytes());
            }
        }
    }
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n);
    }
}

/// COMMAND GETKEYS command [arg ...]
fn command_getkeys(ctx: &mut Ctx<'_>) {
    getkeys(ctx, false);
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]
fn command_getkeysandflags(ctx: &mut Ctx<'_>) {
    getkeys(ctx, true);
}

/// Redis's `getKeysSubcommandImpl`.
fn getkeys(ctx: &mut Ctx<'_>, with_flags: bool) {
    let args = &ctx.args[2..];
    let Some(cmd) = lookup_command(ctx.store.commands(), args) else {
        ctx.out.error("ERR Invalid command specified");
        return;
    };
    if !has_keys(cmd) {
        ctx.out.error("ERR The command has no key arguments");
        return;
    }
    if !cmd.spec.arity_ok(args.len()) {
        ctx.out
            .error("ERR Invalid number of arguments specified for command");
        return;
    }
    let keys = command_keys(cmd, args);
    if keys.is_empty() {
        if cmd.spec.flags & flags::NO_MANDATORY_KEYS != 0 {
            ctx.out.array(0);
        } else {
            ctx.out.error("ERR Invalid arguments specified for command");
        }
        return;
    }
    ctx.out.array(keys.len());
    for k in keys {
        let name = args.get(k.pos).map(|b| &b[..]).unwrap_or(b"");
        if with_flags {
            ctx.out.array(2);
            ctx.out.bulk(name);
            reply_key_flags(ctx.out, k.flags);
        } else {
            ctx.out.bulk(name);
        }
    }
}

/// Resolves the command of a full request as Redis's `lookupCommand` does:
/// the name alone, or the container's subcommand when there are more
/// arguments.
pub fn lookup_command<'t>(table: &'t crate::CommandTable, args: &[&[u8]]) -> Option<&'t Command> {
    let base = table.get(args.first()?)?;
    if args.len() == 1 || base.subs.is_empty() {
        return Some(base);
    }
    let sub = std::str::from_utf8(args[1]).ok()?.to_ascii_lowercase();
    base.subs.get(sub.as_str()).map(|b| &**b)
}

/// A key found in a command's arguments: its position (0 is the command
/// name) and its [`key_flags`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    /// Index in the arguments.
    pub pos: usize,
    /// [`key_flags`] bits.
    pub flags: u32,
}

/// Whether a command takes keys: a key spec that is not `NOT_KEY`, or a
/// native key finder (`doesCommandHaveKeys`).
pub fn has_keys(cmd: &Command) -> bool {
    native_getkeys(&cmd.full_name).is_some()
        || cmd
            .spec
            .keys
            .iter()
            .any(|ks| key_flags::bits(ks.flags) & key_flags::NOT_KEY == 0)
}

/// The keys of a request (`args[0]` is the command name, then its
/// subcommand if any), as Redis's `getKeysFromCommandWithSpecs` finds them:
/// from the key specs when they are all usable and their flags do not
/// depend on the arguments, else with the command's own key finder (SET,
/// BITFIELD, SORT), else none.
pub fn command_keys(cmd: &Command, args: &[&[u8]]) -> Vec<KeyRef> {
    let specs = cmd.spec.keys;
    let has_keyspec = specs
        .iter()
        .any(|ks| key_flags::bits(ks.flags) & key_flags::NOT_KEY == 0);
    let has_varflags = specs
        .iter()
        .any(|ks| key_flags::bits(ks.flags) & key_flags::VARIABLE_FLAGS != 0);
    if has_keyspec
        && !has_varflags
        && let Some(keys) = keys_from_specs(&cmd.spec, args, false, false)
    {
        return keys;
    }
    if let Some(finder) = native_getkeys(&cmd.full_name) {
        return finder(args);
    }
    if has_keyspec && has_varflags {
        // No finder knows the real flags: the specs' flags are the best
        // there is.
        return keys_from_specs(&cmd.spec, args, false, false).unwrap_or_default();
    }
    Vec::new()
}

/// Redis's `getKeysUsingKeySpecs`: the keys the specs of `spec` find in
/// `args` (`args[0]` is the command name). `include_not_keys` keeps specs
/// flagged `NOT_KEY`; with `partial`, a spec that cannot be applied is
/// skipped instead of failing the whole search. `None` when a spec could
/// not be applied (unknown spec, bad key count, keys past the end).
pub fn keys_from_specs(
    spec: &CommandSpec,
    args: &[&[u8]],
    include_not_keys: bool,
    partial: bool,
) -> Option<Vec<KeyRef>> {
    let argc = args.len() as i64;
    let mut out = Vec::new();
    for ks in spec.keys {
        let kf = key_flags::bits(ks.flags);
        if kf & key_flags::NOT_KEY != 0 && !include_not_keys {
            continue;
        }
        match keys_of_spec(ks, kf, args, argc, spec.arity, &mut out) {
            Some(()) => {}
            None if partial => {}
            None => return None,
        }
    }
    Some(out)
}

/// One spec of [`keys_from_specs`]; `None` when it cannot be applied.
fn keys_of_spec(
    ks: &KeySpec,
    kf: u32,
    args: &[&[u8]],
    argc: i64,
    arity: i32,
    out: &mut Vec<KeyRef>,
) -> Option<()> {
    let mut first: i64 = match ks.begin {
        BeginSearch::Index(pos) => i64::from(pos),
        BeginSearch::Keyword { keyword, startfrom } => {
            let sf = i64::from(startfrom);
            let start = if sf > 0 { sf } else { argc + sf };
            let end = if sf > 0 { argc - 1 } else { 1 };
            let mut found = 0;
            let mut i = start;
            while i != end {
                if i >= argc || i < 1 {
                    break;
                }
                if args[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                    found = i + 1;
                    break;
                }
                i = if start <= end { i + 1 } else { i - 1 };
            }
            if found == 0 {
                // The keyword is absent: this spec finds no keys.
                return Some(());
            }
            found
        }
        BeginSearch::Unknown => return None,
    };
    if first < 0 {
        return None;
    }
    let (last, step) = match ks.find {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => {
            let lastkey = i64::from(lastkey);
            let last = if lastkey >= 0 {
                first + lastkey
            } else if limit == 0 {
                argc + lastkey
            } else {
                first + ((argc - first) / i64::from(limit) + lastkey)
            };
            (last, i64::from(keystep))
        }
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => {
            let at = first + i64::from(keynumidx);
            if i64::from(keynumidx) >= argc || at >= argc || at < 0 {
                return None;
            }
            let numkeys = viator_types::number::parse_i64(args[at as usize])?;
            if numkeys < 0 {
                return None;
            }
            first += i64::from(firstkey);
            // Redis keeps the count in an int.
            (first + i64::from(numkeys as i32) - 1, i64::from(keystep))
        }
        FindKeys::Unknown => return None,
    };
    if last >= argc || last < first || first >= argc || step <= 0 {
        return None;
    }
    let mut i = first;
    while i <= last {
        if i >= argc || i < first {
            // Commands of variable arity report the error themselves.
            if arity < 0 {
                i += step;
                continue;
            }
            return None;
        }
        out.push(KeyRef {
            pos: i as usize,
            flags: kf,
        });
        i += step;
    }
    // An incomplete spec (MIGRATE's KEYS) fails the search once its keys
    // are in, so that the command's own finder decides; with `partial`,
    // its keys stay, as Redis's GET_KEYSPEC_RETURN_PARTIAL keeps them.
    if kf & key_flags::INCOMPLETE != 0 {
        return None;
    }
    Some(())
}

/// A command's own key finder, for commands whose key specs cannot say
/// everything (Redis's `getkeys_proc` of SET, BITFIELD and SORT).
type KeyFinder = fn(&[&[u8]]) -> Vec<KeyRef>;

fn native_getkeys(full_name: &str) -> Option<KeyFinder> {
    match full_name {
        "set" => Some(set_getkeys),
        "bitfield" => Some(bitfield_getkeys),
        "sort" => Some(sort_getkeys),
        "sort_ro" => Some(sort_ro_getkeys),
        "migrate" => Some(migrate_getkeys),
        _ => None,
    }
}

/// MIGRATE (Redis's `migrateGetKeys`): the key argument, or the keys after
/// KEYS when the key argument is empty (none when it is not: the command
/// reports that error). The options before KEYS are skipped with their
/// values, so that `AUTH KEYS` is a password.
fn migrate_getkeys(args: &[&[u8]]) -> Vec<KeyRef> {
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while i < args.len() {
        let a = args[i];
        if a.eq_ignore_ascii_case(b"keys") {
            if args.get(3).is_some_and(|k| !k.is_empty()) {
                num = 0;
            } else {
                first = i + 1;
                num = args.len() - first;
            }
            break;
        }
        if a.eq_ignore_ascii_case(b"auth") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"auth2") {
            i += 2;
        }
        i += 1;
    }
    (first..first + num)
        .map(|pos| KeyRef {
            pos,
            flags: key_flags::RW | key_flags::ACCESS | key_flags::DELETE,
        })
        .collect()
}

/// SET: the key is read with GET, only overwritten otherwise.
fn set_getkeys(args: &[&[u8]]) -> Vec<KeyRef> {
    let get = args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get"));
    let flags = if get {
        key_flags::RW | key_flags::ACCESS | key_flags::UPDATE
    } else {
        key_flags::OW | key_flags::UPDATE
    };
    vec![KeyRef { pos: 1, flags }]
}

/// BITFIELD: read-only when it only has GET (and OVERFLOW) operations.
fn bitfield_getkeys(args: &[&[u8]]) -> Vec<KeyRef> {
    let mut readonly = true;
    let mut i = 2;
    while i < args.len() {
        let remargs = args.len() - i - 1;
        let a = &args[i];
        if a.eq_ignore_ascii_case(b"get") && remargs >= 2 {
            i += 2;
        } else if (a.eq_ignore_ascii_case(b"set") || a.eq_ignore_ascii_case(b"incrby"))
            && remargs >= 3
        {
            readonly = false;
            break;
        } else if a.eq_ignore_ascii_case(b"overflow") && remargs >= 1 {
            i += 1;
        } else {
            // A syntax error: safer to assume a write.
            readonly = false;
            break;
        }
        i += 1;
    }
    let flags = if readonly {
        key_flags::RO | key_flags::ACCESS
    } else {
        key_flags::RW | key_flags::ACCESS | key_flags::UPDATE
    };
    vec![KeyRef { pos: 1, flags }]
}

/// SORT: the sorted key, and the last STORE destination.
fn sort_getkeys(args: &[&[u8]]) -> Vec<KeyRef> {
    let mut keys = vec![KeyRef {
        pos: 1,
        flags: key_flags::RO | key_flags::ACCESS,
    }];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if a.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    if let Some(pos) = store {
        keys.push(KeyRef {
            pos,
            flags: key_flags::OW | key_flags::UPDATE,
        });
    }
    keys
}

/// SORT_RO: the sorted key alone (Redis's `sortROGetKeys`); the keys its
/// BY and GET patterns read are not known from the arguments.
fn sort_ro_getkeys(_args: &[&[u8]]) -> Vec<KeyRef> {
    vec![KeyRef {
        pos: 1,
        flags: key_flags::RO | key_flags::ACCESS,
    }]
}

/// Writes key flags as the set of names Redis replies with.
fn reply_key_flags(out: &mut ReplyBuf, bits: u32) {
    let names: Vec<&str> = key_flags::NAMES
        .iter()
        .filter(|(b, _, _)| bits & b != 0)
        .map(|(_, _, n)| *n)
        .collect();
    out.set(names.len());
    for n in names {
        out.simple(n);
    }
}

/// Writes one command's COMMAND INFO entry (`addReplyCommandInfo`).
pub fn reply_info(out: &mut ReplyBuf, cmd: &Command) {
    let spec = &cmd.spec;
    let (first, last, step) = spec.legacy_range();
    out.array(10);
    out.bulk(cmd.full_name.as_bytes());
    out.int(i64::from(spec.arity));
    let f = spec.effective_flags();
    let names: Vec<&str> = INFO_FLAGS
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect();
    out.set(names.len());
    for n in names {
        out.simple(n);
    }
    out.int(i64::from(first));
    out.int(i64::from(last));
    out.int(i64::from(step));
    let cats = spec.acl_categories();
    let names: Vec<&str> = acl::NAMES
        .iter()
        .filter(|(b, _)| cats & b != 0)
        .map(|(_, n)| *n)
        .collect();
    out.set(names.len());
    for n in names {
        let mut s = String::with_capacity(n.len() + 1);
        s.push('@');
        s.push_str(n);
        out.simple(&s);
    }
    out.set(spec.tips.len());
    for t in spec.tips {
        out.bulk(t.as_bytes());
    }
    out.set(spec.keys.len());
    for ks in spec.keys {
        reply_key_spec(out, ks);
    }
    if cmd.subs.is_empty() {
        out.set(0);
    } else {
        let subs = cmd.sorted_subs();
        out.array(subs.len());
        for s in subs {
            reply_info(out, s);
        }
    }
}

/// Writes one key spec of COMMAND INFO.
fn reply_key_spec(out: &mut ReplyBuf, ks: &KeySpec) {
    let has_notes = !ks.notes.is_empty();
    out.map(3 + usize::from(has_notes));
    if has_notes {
        out.bulk(b"notes");
        out.bulk(ks.notes.as_bytes());
    }
    out.bulk(b"flags");
    reply_key_flags(out, key_flags::bits(ks.flags));
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    match ks.begin {
        BeginSearch::Index(pos) => {
            out.bulk(b"index");
            out.bulk(b"spec");
            out.map(1);
            out.bulk(b"index");
            out.int(i64::from(pos));
        }
        BeginSearch::Keyword { keyword, startfrom } => {
            out.bulk(b"keyword");
            out.bulk(b"spec");
            out.map(2);
            out.bulk(b"keyword");
            out.bulk(keyword.as_bytes());
            out.bulk(b"startfrom");
            out.int(i64::from(startfrom));
        }
        BeginSearch::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
    }
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    match ks.find {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => {
            out.bulk(b"range");
            out.bulk(b"spec");
            out.map(3);
            out.bulk(b"lastkey");
            out.int(i64::from(lastkey));
            out.bulk(b"keystep");
            out.int(i64::from(keystep));
            out.bulk(b"limit");
            out.int(i64::from(limit));
        }
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => {
            out.bulk(b"keynum");
            out.bulk(b"spec");
            out.map(3);
            out.bulk(b"keynumidx");
            out.int(i64::from(keynumidx));
            out.bulk(b"firstkey");
            out.int(i64::from(firstkey));
            out.bulk(b"keystep");
            out.int(i64::from(keystep));
        }
        FindKeys::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
    }
}

/// Writes one command's COMMAND DOCS map (`addReplyCommandDocs`).
pub fn reply_docs(out: &mut ReplyBuf, cmd: &Command) {
    let spec = &cmd.spec;
    // A table entry whose syntax does not parse (the table test catches
    // it) is shown without arguments rather than failing the reply.
    let args = docs::parse(spec.args).ok().filter(|a| !a.is_empty());
    let doc_flags: Vec<&str> = DOC_FLAGS
        .iter()
        .copied()
        .filter(|f| spec.doc_flags.iter().any(|d| d.eq_ignore_ascii_case(f)))
        .collect();
    let n = 1
        + usize::from(!spec.summary.is_empty())
        + usize::from(!spec.since.is_empty())
        + usize::from(!spec.complexity.is_empty())
        + usize::from(!doc_flags.is_empty())
        + usize::from(!spec.deprecated_since.is_empty())
        + usize::from(!spec.replaced_by.is_empty())
        + usize::from(!spec.history.is_empty())
        + usize::from(args.is_some())
        + usize::from(!cmd.subs.is_empty());
    out.map(n);
    if !spec.summary.is_empty() {
        out.bulk(b"summary");
        out.bulk(spec.summary.as_bytes());
    }
    if !spec.since.is_empty() {
        out.bulk(b"since");
        out.bulk(spec.since.as_bytes());
    }
    out.bulk(b"group");
    out.bulk(spec.group.as_bytes());
    if !spec.complexity.is_empty() {
        out.bulk(b"complexity");
        out.bulk(spec.complexity.as_bytes());
    }
    if !doc_flags.is_empty() {
        out.bulk(b"doc_flags");
        out.set(doc_flags.len());
        for f in doc_flags {
            out.simple(f);
        }
    }
    if !spec.deprecated_since.is_empty() {
        out.bulk(b"deprecated_since");
        out.bulk(spec.deprecated_since.as_bytes());
    }
    if !spec.replaced_by.is_empty() {
        out.bulk(b"replaced_by");
        out.bulk(spec.replaced_by.as_bytes());
    }
    if !spec.history.is_empty() {
        out.bulk(b"history");
        out.set(spec.history.len());
        for (version, change) in spec.history {
            out.array(2);
            out.bulk(version.as_bytes());
            out.bulk(change.as_bytes());
        }
    }
    if let Some(args) = &args {
        out.bulk(b"arguments");
        reply_args(out, args);
    }
    if !cmd.subs.is_empty() {
        out.bulk(b"subcommands");
        let subs = cmd.sorted_subs();
        out.map(subs.len());
        for s in subs {
            out.bulk(s.full_name.as_bytes());
            reply_docs(out, s);
        }
    }
}

/// Writes an argument list of COMMAND DOCS (`addReplyCommandArgList`).
pub fn reply_args(out: &mut ReplyBuf, args: &[Arg]) {
    out.array(args.len());
    for a in args {
        let display = a.shown_display_text();
        let flag_names = a.flag_names();
        let n = 2
            + usize::from(display.is_some())
            + usize::from(a.key_spec_index.is_some())
            + usize::from(a.token.is_some())
            + usize::from(a.summary.is_some())
            + usize::from(a.since.is_some())
            + usize::from(a.deprecated_since.is_some())
            + usize::from(!flag_names.is_empty())
            + usize::from(a.kind.is_group());
        out.map(n);
        out.bulk(b"name");
        out.bulk(a.name.as_bytes());
        out.bulk(b"type");
        out.bulk(a.kind.as_str().as_bytes());
        if let Some(d) = display {
            out.bulk(b"display_text");
            out.bulk(d.as_bytes());
        }
        if let Some(i) = a.key_spec_index {
            out.bulk(b"key_spec_index");
            out.int(i64::from(i));
        }
        if let Some(t) = &a.token {
            out.bulk(b"token");
            out.bulk(t.as_bytes());
        }
        if let Some(s) = &a.summary {
            out.bulk(b"summary");
            out.bulk(s.as_bytes());
        }
        if let Some(s) = &a.since {
            out.bulk(b"since");
            out.bulk(s.as_bytes());
        }
        if let Some(s) = &a.deprecated_since {
            out.bulk(b"deprecated_since");
            out.bulk(s.as_bytes());
        }
        if !flag_names.is_empty() {
            out.bulk(b"flags");
            out.set(flag_names.len());
            for f in flag_names {
                out.simple(f);
            }
        }
        if a.kind.is_group() {
            out.bulk(b"arguments");
            reply_args(out, &a.args);
        }
    }
}
