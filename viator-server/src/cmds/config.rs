//! CONFIG GET, SET, RESETSTAT, REWRITE and HELP, on top of the
//! [`config`](crate::config) module, with the side effects Redis's apply
//! functions have: listening on a new port or address, changing directory,
//! raising the open files limit, reconfiguring logging.

use viator_store::command::{CommandSpec, Ctx, acl, flags};
use viator_store::commands::introspection::reply_help;

use crate::config::{ConfigSetError, Opt, RewriteContext, SetContext, util::strerror};
use crate::server::Shared;

const ADMIN: u64 = flags::ADMIN | flags::NOSCRIPT | flags::LOADING | flags::STALE;
const ALL_NODES: &[&str] = &["request_policy:all_nodes", "response_policy:all_succeeded"];

/// The CONFIG family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
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
            flags: ADMIN,
            acl: acl::SLOW,
            group: "server",
            summary: "Returns the effective values of configuration parameters.",
            since: "2.0.0",
            complexity: "O(N) when N is the number of configuration parameters provided",
            args: "parameter:string...",
            history: &[(
                "7.0.0",
                "Added the ability to pass multiple pattern parameters in one call",
            )],
            handler: Some(get),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "set",
            arity: -4,
            flags: ADMIN,
            acl: acl::SLOW,
            group: "server",
            summary: "Sets configuration parameters in-flight.",
            since: "2.0.0",
            complexity: "O(N) when N is the number of configuration parameters provided",
            args: "data:{ parameter:string value:string }...",
            tips: ALL_NODES,
            history: &[(
                "7.0.0",
                "Added the ability to set multiple parameters in one call.",
            )],
            handler: Some(set),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "resetstat",
            arity: 2,
            flags: ADMIN,
            acl: acl::SLOW,
            group: "server",
            summary: "Resets the server's statistics.",
            since: "2.0.0",
            complexity: "O(1)",
            tips: ALL_NODES,
            handler: Some(resetstat),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "rewrite",
            arity: 2,
            flags: ADMIN,
            acl: acl::SLOW,
            group: "server",
            summary: "Persists the effective configuration to file.",
            since: "2.8.0",
            complexity: "O(1)",
            tips: ALL_NODES,
            handler: Some(rewrite),
            ..CommandSpec::DEFAULT
        },
        CommandSpec {
            name: "help",
            arity: 2,
            flags: flags::LOADING | flags::STALE,
            acl: acl::SLOW,
            group: "server",
            summary: "Returns helpful text about the different subcommands.",
            since: "5.0.0",
            complexity: "O(1)",
            handler: Some(help),
            ..CommandSpec::DEFAULT
        },
    ],
    ..CommandSpec::DEFAULT
}];

fn get(ctx: &mut Ctx<'_>) {
    let shared = Shared::from_host(ctx.host);
    let pairs = shared.config.read().config_get(&ctx.args[2..]);
    ctx.out.map(pairs.len());
    for (name, value) in &pairs {
        ctx.out.bulk(name);
        ctx.out.bulk(value);
    }
}

/// Whether the calling client is local (loopback), for
/// `enable-protected-configs local`.
fn client_is_local(shared: &Shared, id: u64) -> bool {
    shared
        .clients
        .get(id)
        .is_some_and(|e| e.addr.ip().is_loopback() || e.addr.ip().to_canonical().is_loopback())
}

fn set(ctx: &mut Ctx<'_>) {
    let shared = Shared::from_host(ctx.host);
    let set_ctx = SetContext {
        client_is_local: client_is_local(shared, ctx.client.id),
        loading: false,
    };
    let mut cfg = shared.config.write();
    let old_dir = cfg.dir();
    let changes = match cfg.config_set(&ctx.args[2..], &set_ctx) {
        Ok(c) => c,
        Err(e) => {
            drop(cfg);
            ctx.out.error(&e.message());
            return;
        }
    };
    // An option that would turn on a feature that has not landed yet is
    // refused: accepting it would silently ignore a change of behaviour.
    // Tuning options of missing features are stored (they change nothing
    // until the feature exists) with a warning in the log.
    if let Some(opt) = changes
        .options()
        .iter()
        .find(|o| !o.def().implemented && turns_on_missing_feature(&cfg, **o))
    {
        let err = ConfigSetError::apply_failed(*opt, "not supported by Viator yet");
        cfg.revert(&changes);
        drop(cfg);
        ctx.out.error(&err.message());
        return;
    }
    for opt in changes.options() {
        if !opt.def().implemented {
            crate::log::warning(&format!("option {} has no effect yet", opt.name()));
        }
    }
    // The side effects that may fail, in an order that lets every earlier
    // one be undone: a failure restores the old values, as Redis's
    // `restoreBackupConfig` does.
    let mut failure: Option<ConfigSetError> = None;
    let mut chdir_done = false;
    if changes.contains(Opt::Dir) {
        match std::env::set_current_dir(cfg.dir()) {
            Ok(()) => chdir_done = true,
            Err(e) => failure = Some(ConfigSetError::apply_failed(Opt::Dir, &strerror(&e))),
        }
    }
    if failure.is_none() && changes.contains(Opt::Maxclients) {
        if let Err(max) = adjust_open_files_limit(cfg.maxclients()) {
            failure = Some(ConfigSetError::apply_failed(
                Opt::Maxclients,
                &format!(
                    "The operating system is not able to handle the specified number of clients, try with {max}"
                ),
            ));
        }
    }
    if failure.is_none() && (changes.contains(Opt::Port) || changes.contains(Opt::Bind)) {
        // A bind change keeps the port actually listened on (a server
        // started on port 0 listens on an ephemeral one).
        let port = if changes.contains(Opt::Port) {
            cfg.port()
        } else {
            shared.port()
        };
        if shared
            .relisten(&cfg.bind(), port, cfg.tcp_backlog())
            .is_err()
        {
            failure = Some(if changes.contains(Opt::Port) {
                ConfigSetError::apply_failed(
                    Opt::Port,
                    "Unable to listen on this port. Check server logs.",
                )
            } else {
                ConfigSetError::apply_failed(Opt::Bind, "Failed to bind to specified addresses.")
            });
        }
    }
    if let Some(err) = failure {
        cfg.revert(&changes);
        if chdir_done {
            let _ = std::env::set_current_dir(&old_dir);
        }
        drop(cfg);
        ctx.out.error(&err.message());
        return;
    }
    if changes.contains(Opt::Maxmemory) {
        let max = cfg.maxmemory();
        let used = shared.used_memory();
        if max != 0 && (max as usize) < used {
            crate::log::warning(&format!(
                "WARNING: the new maxmemory value set via CONFIG SET ({max}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy."
            ));
        }
    }
    if changes.contains(Opt::Loglevel) || changes.contains(Opt::Logfile) {
        crate::log::apply_config(&cfg);
    }
    let appendonly = changes.contains(Opt::Appendonly).then(|| cfg.appendonly());
    // Redis's updateAofAutoGCEnabled: turning the collection back on
    // deletes the history files at once.
    let collect_history =
        changes.contains(Opt::AofDisableAutoGc) && !cfg.bool(Opt::AofDisableAutoGc);
    drop(cfg);
    shared.apply_config();
    match appendonly {
        Some(true)
            if !shared.aof.enabled()
                && !shared
                    .aof
                    .rewrite_scheduled
                    .load(std::sync::atomic::Ordering::Relaxed) =>
        {
            // Redis's startAppendOnly: the AOF starts with a rewrite.
            if ctx.client.no_block {
                shared
                    .aof
                    .rewrite_scheduled
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                crate::log::notice(
                    "AOF was enabled during a transaction. An AOF background was scheduled to start when possible.",
                );
            } else {
                match crate::aof::rewrite_background(shared, true) {
                    Ok(()) => {}
                    Err(crate::aof::RewriteError::Busy | crate::aof::RewriteError::InProgress) => {
                        shared
                            .aof
                            .rewrite_scheduled
                            .store(true, std::sync::atomic::Ordering::Relaxed);
                        crate::log::notice(
                            "AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.",
                        );
                    }
                    Err(crate::aof::RewriteError::Failed) => {
                        crate::log::warning(
                            "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.",
                        );
                        shared.config.write().revert(&changes);
                        ctx.out.error("ERR CONFIG SET failed (possibly related to argument 'appendonly') - Unable to turn on AOF. Check server logs.");
                        return;
                    }
                }
            }
        }
        Some(false) => {
            shared
                .aof
                .rewrite_scheduled
                .store(false, std::sync::atomic::Ordering::Relaxed);
            crate::aof::stop(shared);
        }
        _ => {}
    }
    if collect_history {
        crate::aof::delete_history(shared);
    }
    ctx.out.ok();
}

/// Whether `opt`'s new value asks for a feature Viator does not have yet:
/// eviction (`maxmemory`), keyspace notifications, replication.
fn turns_on_missing_feature(cfg: &crate::config::Config, opt: Opt) -> bool {
    match opt {
        Opt::Maxmemory => cfg.maxmemory() != 0,
        Opt::NotifyKeyspaceEvents => cfg.notify_keyspace_events() != 0,
        Opt::Replicaof => cfg.replicaof().is_some(),
        _ => false,
    }
}

/// Redis's `adjustOpenFilesLimit` for CONFIG SET maxclients: raises the
/// soft limit on open descriptors to `maxclients` plus the 32 Redis keeps
/// for itself. Returns the largest number of clients possible when the
/// limit cannot be raised that far.
// `rlim_t` is u64 here but not on every platform: the casts stay.
#[allow(clippy::unnecessary_cast)]
fn adjust_open_files_limit(maxclients: u32) -> Result<(), u64> {
    const RESERVED: u64 = 32;
    let needed = u64::from(maxclients) + RESERVED;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the live local `lim`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        // Unknown limit: Redis assumes 1024.
        return if needed <= 1024 {
            Ok(())
        } else {
            Err(1024 - RESERVED)
        };
    }
    let cur = lim.rlim_cur as u64;
    if cur >= needed {
        return Ok(());
    }
    let new = libc::rlimit {
        rlim_cur: needed as libc::rlim_t,
        rlim_max: lim.rlim_max.max(needed as libc::rlim_t),
    };
    // SAFETY: setrlimit reads one rlimit from the live local `new`.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } == 0 {
        return Ok(());
    }
    let within = libc::rlimit {
        rlim_cur: lim.rlim_max,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: as above.
    let best = if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &within) } == 0 {
        lim.rlim_max as u64
    } else {
        cur
    };
    if best >= needed {
        Ok(())
    } else {
        Err(best.saturating_sub(RESERVED).max(1))
    }
}

fn resetstat(ctx: &mut Ctx<'_>) {
    Shared::from_host(ctx.host).reset_stats();
    ctx.out.ok();
}

fn rewrite(ctx: &mut Ctx<'_>) {
    let shared = Shared::from_host(ctx.host);
    let res = shared.config.read().rewrite(&RewriteContext::default());
    match res {
        Ok(()) => ctx.out.ok(),
        Err(e) => ctx.out.error(&e.message()),
    }
}

const HELP: &[&str] = &[
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
];

fn help(ctx: &mut Ctx<'_>) {
    let container = ctx.args[0];
    reply_help(ctx.out, container, HELP);
}
