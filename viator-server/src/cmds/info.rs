//! INFO: the server's state and counters in Redis 8.4's sections, field
//! names and order (Redis's `genRedisInfoString`).
//!
//! Every number is read from the server: counters kept by the
//! connections, the store and the command table, the process's memory and
//! CPU use. Fields of subsystems Viator does not have yet (replicas,
//! persistence in progress, Lua, modules, client tracking) report the
//! values Redis reports when those are idle.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use viator_store::command::{CommandSpec, Ctx, acl, flags};

use crate::server::Shared;

/// The INFO family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "info",
    arity: -1,
    flags: flags::LOADING | flags::STALE,
    acl: acl::SLOW | acl::DANGEROUS,
    group: "server",
    summary: "Returns information and statistics about the server.",
    since: "1.0.0",
    complexity: "O(1)",
    args: "[section:string...]",
    tips: &[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ],
    history: &[(
        "7.0.0",
        "Added support for taking multiple section arguments.",
    )],
    handler: Some(info),
    ..CommandSpec::DEFAULT
}];

/// The sections, in output order.
const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "threads",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
    "keysizes",
];

/// The sections a plain INFO leaves out: Redis 8's `default_sections`
/// are all the others.
const NOT_DEFAULT: &[&str] = &["commandstats", "latencystats"];

fn is_default(section: &str) -> bool {
    !NOT_DEFAULT.contains(&section)
}

/// Which sections a request asks for (Redis's `genInfoSectionDict`):
/// `default`, `all`, `everything` or section names, any case; unknown
/// names are ignored.
fn wanted(args: &[&[u8]]) -> Vec<&'static str> {
    let mut all = false;
    let mut default = args.is_empty();
    let mut set: Vec<&'static str> = Vec::new();
    for a in args {
        let a = a.to_ascii_lowercase();
        match &a[..] {
            b"default" => default = true,
            b"all" | b"everything" => all = true,
            // Redis's name for the module list.
            b"module_list" => set.push("modules"),
            name => {
                if let Some(s) = SECTIONS.iter().find(|s| s.as_bytes() == name) {
                    set.push(s);
                }
            }
        }
    }
    SECTIONS
        .iter()
        .copied()
        .filter(|s| all || (default && is_default(s)) || set.contains(s))
        .collect()
}

fn info(ctx: &mut Ctx<'_>) {
    let shared = Shared::from_host(ctx.host);
    let text = info_text(shared, &ctx.args[1..], ctx.now_ms);
    ctx.out.verbatim("txt", text.as_bytes());
}

/// The INFO text for the sections `args` asks for.
pub fn info_text(shared: &Shared, args: &[&[u8]], now_ms: i64) -> String {
    let mut out = String::with_capacity(4096);
    for (i, section) in wanted(args).into_iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        match section {
            "server" => server(&mut out, shared, now_ms),
            "clients" => clients(&mut out, shared),
            "memory" => memory(&mut out, shared),
            "persistence" => persistence(&mut out, shared),
            "threads" => threads(&mut out, shared),
            "stats" => stats(&mut out, shared),
            "replication" => replication(&mut out, shared),
            "cpu" => cpu(&mut out),
            "modules" => out.push_str("# Modules\r\n"),
            "commandstats" => commandstats(&mut out, shared),
            "errorstats" => errorstats(&mut out, shared),
            "latencystats" => latencystats(&mut out, shared),
            "cluster" => out.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            "keyspace" => keyspace(&mut out, shared),
            "keysizes" => out.push_str("# Keysizes\r\n"),
            _ => {}
        }
    }
    out
}

/// Appends `name:value\r\n`.
macro_rules! field {
    ($out:expr, $name:expr, $($fmt:tt)*) => {{
        let _ = write!($out, "{}:", $name);
        let _ = write!($out, $($fmt)*);
        $out.push_str("\r\n");
    }};
}

/// Appends the line of a counter whose INFO name is its field's name in
/// `$stats`.
macro_rules! counter {
    ($out:expr, $stats:expr, $name:ident) => {
        field!(
            $out,
            stringify!($name),
            "{}",
            $stats.$name.load(Ordering::Relaxed)
        )
    };
}

/// Appends `name:value` lines of fixed values: those Redis reports for a
/// subsystem Viator does not have yet, when that subsystem is idle.
fn fixed(out: &mut String, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        field!(out, name, "{value}");
    }
}

/// Redis's `bytesToHuman`: `1023B`, `1.00K`, `1.18M`, `23.54G`...
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(u64, char); 5] = [
        (1 << 10, 'K'),
        (1 << 20, 'M'),
        (1 << 30, 'G'),
        (1 << 40, 'T'),
        (1 << 50, 'P'),
    ];
    if n < 1024 {
        return format!("{n}B");
    }
    for (i, &(div, unit)) in UNITS.iter().enumerate() {
        let next = UNITS.get(i + 1).map(|u| u.0).unwrap_or(1 << 60);
        if n < next {
            return format!("{:.2}{unit}", n as f64 / div as f64);
        }
    }
    format!("{n}B")
}

/// `uname -s -r -m`, as Redis's `os` field.
fn os_name() -> String {
    // SAFETY: utsname is plain bytes; uname fills the live local.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable utsname.
    if unsafe { libc::uname(&mut u) } != 0 {
        return String::new();
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!(
        "{} {} {}",
        field(&u.sysname),
        field(&u.release),
        field(&u.machine)
    )
}

/// A stable build id: a hash of the version, as Redis hashes its build.
fn build_id() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!(
        "viator-{}-redis-{}",
        crate::VIATOR_VERSION,
        crate::REDIS_VERSION
    )
    .bytes()
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:x}")
}

fn server(out: &mut String, shared: &Shared, now_ms: i64) {
    let cfg = shared.config.read();
    let uptime = shared.started.elapsed().as_secs();
    let hz = cfg.hz();
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let config_file = shared
        .config_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let port = shared.port();
    out.push_str("# Server\r\n");
    field!(out, "redis_version", "{}", crate::REDIS_VERSION);
    field!(out, "viator_version", "{}", crate::VIATOR_VERSION);
    field!(out, "redis_git_sha1", "00000000");
    field!(out, "redis_git_dirty", "0");
    field!(out, "redis_build_id", "{}", build_id());
    field!(out, "redis_mode", "standalone");
    field!(out, "os", "{}", os_name());
    field!(out, "arch_bits", "{}", usize::BITS);
    fixed(
        out,
        &[
            ("monotonic_clock", "POSIX clock_gettime"),
            ("multiplexing_api", "epoll"),
            ("atomicvar_api", "c11-builtin"),
        ],
    );
    // Redis prints 0.0.0 when not built by GCC.
    field!(out, "gcc_version", "0.0.0");
    field!(out, "process_id", "{}", std::process::id());
    field!(out, "process_supervised", "no");
    field!(out, "run_id", "{}", shared.run_id);
    field!(out, "tcp_port", "{}", port);
    field!(out, "server_time_usec", "{}", viator_store::clock::now_us());
    field!(out, "uptime_in_seconds", "{}", uptime);
    field!(out, "uptime_in_days", "{}", uptime / 86400);
    field!(out, "hz", "{}", hz);
    field!(out, "configured_hz", "{}", hz);
    field!(
        out,
        "lru_clock",
        "{}",
        viator_store::clock::lru_clock(now_ms)
    );
    field!(out, "executable", "{}", exe);
    field!(out, "config_file", "{}", config_file);
    field!(
        out,
        "io_threads_active",
        "{}",
        u8::from(shared.threads.len() > 1)
    );
    if port != 0 {
        out.push_str("listener0:name=tcp");
        for b in cfg.bind() {
            let _ = write!(out, ",bind={b}");
        }
        let _ = write!(out, ",port={port}\r\n");
    }
}

fn clients(out: &mut String, shared: &Shared) {
    let all = shared.clients.all();
    let mut blocked = 0;
    let mut max_in = 0;
    let mut max_out = 0;
    for e in &all {
        if e.blocked.load(Ordering::Relaxed) || e.postponed.load(Ordering::Relaxed) {
            blocked += 1;
        }
        max_in = max_in.max(e.qbuf.load(Ordering::Relaxed));
        max_out = max_out.max(e.info.lock().omem);
    }
    out.push_str("# Clients\r\n");
    field!(out, "connected_clients", "{}", all.len());
    field!(out, "cluster_connections", "0");
    field!(
        out,
        "maxclients",
        "{}",
        shared.hot.maxclients.load(Ordering::Relaxed)
    );
    field!(out, "client_recent_max_input_buffer", "{}", max_in);
    field!(out, "client_recent_max_output_buffer", "{}", max_out);
    field!(out, "blocked_clients", "{}", blocked);
    fixed(out, &[("tracking_clients", "0"), ("pubsub_clients", "0")]);
    let watching = all.iter().filter(|e| e.info.lock().watch > 0).count();
    field!(out, "watching_clients", "{}", watching);
    let blocking = &shared.store.blocking;
    field!(
        out,
        "clients_in_timeout_table",
        "{}",
        blocking.clients_with_timeout()
    );
    field!(
        out,
        "total_watched_keys",
        "{}",
        shared.store.watches.watched_keys()
    );
    field!(out, "total_blocking_keys", "{}", blocking.blocking_keys());
    field!(
        out,
        "total_blocking_keys_on_nokey",
        "{}",
        blocking.blocking_keys_on_nokey()
    );
}

/// Memory held by client connections: their buffers and state.
fn clients_memory(shared: &Shared) -> usize {
    shared
        .clients
        .all()
        .iter()
        .map(|e| {
            e.qbuf_cap.load(Ordering::Relaxed)
                + e.info.lock().obuf
                + std::mem::size_of::<crate::ClientEntry>()
                + std::mem::size_of::<viator_store::Client>()
        })
        .sum()
}

fn total_system_memory() -> u64 {
    // SAFETY: sysconf takes constants and touches no memory.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages > 0 && size > 0 {
        pages as u64 * size as u64
    } else {
        0
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn memory(out: &mut String, shared: &Shared) {
    let used = shared.used_memory();
    let rss = crate::server::rss_bytes();
    let (peak, peak_ms) = shared.note_memory_peak(used);
    let startup = shared.memory_startup;
    let clients = clients_memory(shared);
    let overhead = startup + clients;
    let dataset = used.saturating_sub(overhead);
    let net = used.saturating_sub(startup);
    let (maxmemory, policy) = {
        let cfg = shared.config.read();
        (cfg.maxmemory(), cfg.maxmemory_policy_name())
    };
    let sysmem = total_system_memory();
    let allocator = if crate::alloc::allocated().is_some() {
        // SAFETY: mi_version takes no arguments and returns an integer.
        let v = unsafe { libmimalloc_sys::mi_version() };
        // major, two digits minor, two digits patch.
        format!("mimalloc-{}.{}.{}", v / 10000, (v / 100) % 100, v % 100)
    } else {
        "libc".to_string()
    };
    out.push_str("# Memory\r\n");
    field!(out, "used_memory", "{}", used);
    field!(out, "used_memory_human", "{}", bytes_to_human(used as u64));
    field!(out, "used_memory_rss", "{}", rss);
    field!(
        out,
        "used_memory_rss_human",
        "{}",
        bytes_to_human(rss as u64)
    );
    field!(out, "used_memory_peak", "{}", peak);
    field!(
        out,
        "used_memory_peak_human",
        "{}",
        bytes_to_human(peak as u64)
    );
    field!(out, "used_memory_peak_time", "{}", peak_ms / 1000);
    field!(
        out,
        "used_memory_peak_perc",
        "{:.2}%",
        ratio(used as f64 * 100.0, peak as f64)
    );
    field!(out, "used_memory_overhead", "{}", overhead);
    field!(out, "used_memory_startup", "{}", startup);
    field!(out, "used_memory_dataset", "{}", dataset);
    field!(
        out,
        "used_memory_dataset_perc",
        "{:.2}%",
        ratio(dataset as f64 * 100.0, net as f64)
    );
    field!(out, "allocator_allocated", "{}", used);
    field!(out, "allocator_active", "{}", rss);
    field!(out, "allocator_resident", "{}", rss);
    field!(out, "allocator_muzzy", "0");
    field!(out, "total_system_memory", "{}", sysmem);
    field!(
        out,
        "total_system_memory_human",
        "{}",
        bytes_to_human(sysmem)
    );
    // No scripting engine yet: nothing is used by one.
    fixed(
        out,
        &[
            ("used_memory_lua", "0"),
            ("used_memory_vm_eval", "0"),
            ("used_memory_lua_human", "0B"),
            ("used_memory_scripts_eval", "0"),
            ("number_of_cached_scripts", "0"),
            ("number_of_functions", "0"),
            ("number_of_libraries", "0"),
            ("used_memory_vm_functions", "0"),
            ("used_memory_vm_total", "0"),
            ("used_memory_vm_total_human", "0B"),
            ("used_memory_functions", "0"),
            ("used_memory_scripts", "0"),
            ("used_memory_scripts_human", "0B"),
        ],
    );
    field!(out, "maxmemory", "{}", maxmemory);
    field!(out, "maxmemory_human", "{}", bytes_to_human(maxmemory));
    field!(out, "maxmemory_policy", "{}", policy);
    fixed(
        out,
        &[
            ("allocator_frag_ratio", "1.00"),
            ("allocator_frag_bytes", "0"),
            ("allocator_rss_ratio", "1.00"),
            ("allocator_rss_bytes", "0"),
            ("rss_overhead_ratio", "1.00"),
            ("rss_overhead_bytes", "0"),
        ],
    );
    field!(
        out,
        "mem_fragmentation_ratio",
        "{:.2}",
        ratio(rss as f64, used as f64)
    );
    field!(
        out,
        "mem_fragmentation_bytes",
        "{}",
        rss as i64 - used as i64
    );
    fixed(
        out,
        &[
            ("mem_not_counted_for_evict", "0"),
            ("mem_replication_backlog", "0"),
            ("mem_total_replication_buffers", "0"),
            ("mem_replica_full_sync_buffer", "0"),
            ("mem_clients_slaves", "0"),
        ],
    );
    field!(out, "mem_clients_normal", "{}", clients);
    field!(out, "mem_cluster_links", "0");
    field!(out, "mem_aof_buffer", "0");
    field!(out, "mem_allocator", "{}", allocator);
    fixed(
        out,
        &[
            ("mem_overhead_db_hashtable_rehashing", "0"),
            ("active_defrag_running", "0"),
            ("lazyfree_pending_objects", "0"),
            ("lazyfreed_objects", "0"),
        ],
    );
}

fn persistence(out: &mut String, shared: &Shared) {
    let store = &shared.store;
    out.push_str("# Persistence\r\n");
    fixed(
        out,
        &[
            ("loading", "0"),
            ("async_loading", "0"),
            ("current_cow_peak", "0"),
            ("current_cow_size", "0"),
            ("current_cow_size_age", "0"),
            ("current_fork_perc", "0.00"),
            ("current_save_keys_processed", "0"),
            ("current_save_keys_total", "0"),
        ],
    );
    field!(
        out,
        "rdb_changes_since_last_save",
        "{}",
        store.dirty.load(Ordering::Relaxed)
    );
    let rdb = &shared.rdb;
    let bgsave_started = rdb.bgsave_started_ms.load(Ordering::Relaxed);
    field!(
        out,
        "rdb_bgsave_in_progress",
        "{}",
        u8::from(bgsave_started != 0)
    );
    field!(
        out,
        "rdb_last_save_time",
        "{}",
        store.lastsave_ms.load(Ordering::Relaxed) / 1000
    );
    let failed = rdb.last_bgsave_failed.load(Ordering::Relaxed);
    field!(
        out,
        "rdb_last_bgsave_status",
        "{}",
        if failed { "err" } else { "ok" }
    );
    field!(
        out,
        "rdb_last_bgsave_time_sec",
        "{}",
        rdb.last_bgsave_secs.load(Ordering::Relaxed)
    );
    let current = if bgsave_started == 0 {
        -1
    } else {
        (viator_store::clock::now_ms() - bgsave_started) / 1000
    };
    field!(out, "rdb_current_bgsave_time_sec", "{current}");
    field!(out, "rdb_saves", "{}", rdb.saves.load(Ordering::Relaxed));
    field!(out, "rdb_last_cow_size", "0");
    field!(
        out,
        "rdb_last_load_keys_expired",
        "{}",
        rdb.last_load_keys_expired.load(Ordering::Relaxed)
    );
    field!(
        out,
        "rdb_last_load_keys_loaded",
        "{}",
        rdb.last_load_keys_loaded.load(Ordering::Relaxed)
    );
    let aof = &shared.aof;
    let enabled = shared.config.read().appendonly();
    field!(out, "aof_enabled", "{}", u8::from(enabled));
    let rewrite_started = aof.rewrite_started_ms.load(Ordering::Relaxed);
    field!(
        out,
        "aof_rewrite_in_progress",
        "{}",
        u8::from(rewrite_started != 0)
    );
    let scheduled = u8::from(aof.rewrite_scheduled.load(Ordering::Relaxed));
    field!(out, "aof_rewrite_scheduled", "{scheduled}");
    field!(
        out,
        "aof_last_rewrite_time_sec",
        "{}",
        aof.last_rewrite_secs.load(Ordering::Relaxed)
    );
    let current = if rewrite_started == 0 {
        -1
    } else {
        (viator_store::clock::now_ms() - rewrite_started) / 1000
    };
    field!(out, "aof_current_rewrite_time_sec", "{current}");
    let status = |failed: bool| if failed { "err" } else { "ok" };
    field!(
        out,
        "aof_last_bgrewrite_status",
        "{}",
        status(aof.last_rewrite_failed.load(Ordering::Relaxed))
    );
    field!(
        out,
        "aof_rewrites",
        "{}",
        aof.rewrites.load(Ordering::Relaxed)
    );
    field!(
        out,
        "aof_rewrites_consecutive_failures",
        "{}",
        aof.consecutive_failures.load(Ordering::Relaxed)
    );
    field!(
        out,
        "aof_last_write_status",
        "{}",
        status(aof.write_failed())
    );
    fixed(
        out,
        &[
            ("aof_last_cow_size", "0"),
            ("module_fork_in_progress", "0"),
            ("module_fork_last_cow_size", "0"),
        ],
    );
    if enabled {
        field!(out, "aof_current_size", "{}", aof.current_size());
        field!(
            out,
            "aof_base_size",
            "{}",
            aof.base_size.load(Ordering::Relaxed)
        );
        field!(out, "aof_pending_rewrite", "{scheduled}");
        field!(out, "aof_buffer_length", "{}", aof.buffer_len());
        // The writer thread fsyncs in line: nothing waits for another
        // thread, and no fsync is ever postponed.
        fixed(
            out,
            &[("aof_pending_bio_fsync", "0"), ("aof_delayed_fsync", "0")],
        );
    }
}

fn threads(out: &mut String, shared: &Shared) {
    let mut clients = vec![0usize; shared.threads.len()];
    for e in shared.clients.all() {
        if let Some(n) = clients.get_mut(e.io_thread) {
            *n += 1;
        }
    }
    out.push_str("# Threads\r\n");
    for (i, t) in shared.threads.iter().enumerate() {
        let _ = write!(
            out,
            "io_thread_{i}:clients={},reads={},writes={}\r\n",
            clients[i],
            t.reads.load(Ordering::Relaxed),
            t.writes.load(Ordering::Relaxed)
        );
    }
}

fn stats(out: &mut String, shared: &Shared) {
    let st = &shared.stats;
    let ss = &shared.store.stats;
    let (reads, writes, net_in, net_out) = shared.thread_totals();
    // Reads and writes done by the threads other than the first, as
    // Redis counts those of its I/O threads apart from the main one.
    let (thr_reads, thr_writes) = shared.threads.iter().skip(1).fold((0, 0), |a, t| {
        (
            a.0 + t.reads.load(Ordering::Relaxed),
            a.1 + t.writes.load(Ordering::Relaxed),
        )
    });
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let wrongpass = st.errors.lock().get("WRONGPASS").copied().unwrap_or(0);
    let mut cmd_usec = 0u64;
    each_command(shared, |c| cmd_usec += load(&c.stats.usec));
    out.push_str("# Stats\r\n");
    counter!(out, st, total_connections_received);
    counter!(out, st, total_commands_processed);
    counter!(out, st, instantaneous_ops_per_sec);
    field!(out, "total_net_input_bytes", "{}", net_in);
    field!(out, "total_net_output_bytes", "{}", net_out);
    field!(out, "total_net_repl_input_bytes", "0");
    field!(out, "total_net_repl_output_bytes", "0");
    field!(
        out,
        "instantaneous_input_kbps",
        "{:.2}",
        load(&st.instantaneous_input_kbps_x100) as f64 / 100.0
    );
    field!(
        out,
        "instantaneous_output_kbps",
        "{:.2}",
        load(&st.instantaneous_output_kbps_x100) as f64 / 100.0
    );
    field!(out, "instantaneous_input_repl_kbps", "0.00");
    field!(out, "instantaneous_output_repl_kbps", "0.00");
    counter!(out, st, rejected_connections);
    fixed(
        out,
        &[
            ("sync_full", "0"),
            ("sync_partial_ok", "0"),
            ("sync_partial_err", "0"),
        ],
    );
    counter!(out, ss, expired_subkeys);
    counter!(out, ss, expired_keys);
    field!(
        out,
        "expired_stale_perc",
        "{:.2}",
        load(&ss.expired_stale_perc) as f64
    );
    counter!(out, ss, expired_time_cap_reached_count);
    field!(
        out,
        "expire_cycle_cpu_milliseconds",
        "{}",
        load(&ss.expire_cycle_cpu_us) / 1000
    );
    counter!(out, ss, evicted_keys);
    fixed(
        out,
        &[
            ("evicted_clients", "0"),
            ("evicted_scripts", "0"),
            ("total_eviction_exceeded_time", "0"),
            ("current_eviction_exceeded_time", "0"),
        ],
    );
    field!(out, "keyspace_hits", "{}", shared.store.keyspace_hits());
    field!(out, "keyspace_misses", "{}", shared.store.keyspace_misses());
    fixed(
        out,
        &[
            ("pubsub_channels", "0"),
            ("pubsub_patterns", "0"),
            ("pubsubshard_channels", "0"),
            ("latest_fork_usec", "0"),
            ("total_forks", "0"),
        ],
    );
    field!(
        out,
        "migrate_cached_sockets",
        "{}",
        shared.store.migrate_sockets.len()
    );
    fixed(
        out,
        &[
            ("slave_expires_tracked_keys", "0"),
            ("active_defrag_hits", "0"),
            ("active_defrag_misses", "0"),
            ("active_defrag_key_hits", "0"),
            ("active_defrag_key_misses", "0"),
            ("total_active_defrag_time", "0"),
            ("current_active_defrag_time", "0"),
            ("tracking_total_keys", "0"),
            ("tracking_total_items", "0"),
            ("tracking_total_prefixes", "0"),
        ],
    );
    counter!(out, st, unexpected_error_replies);
    counter!(out, st, total_error_replies);
    field!(out, "dump_payload_sanitizations", "0");
    field!(out, "total_reads_processed", "{}", reads);
    field!(out, "total_writes_processed", "{}", writes);
    field!(out, "io_threaded_reads_processed", "{}", thr_reads);
    field!(out, "io_threaded_writes_processed", "{}", thr_writes);
    field!(out, "io_threaded_total_prefetch_batches", "0");
    field!(out, "io_threaded_total_prefetch_entries", "0");
    counter!(out, st, client_query_buffer_limit_disconnections);
    fixed(
        out,
        &[
            ("client_output_buffer_limit_disconnections", "0"),
            ("reply_buffer_shrinks", "0"),
            ("reply_buffer_expands", "0"),
        ],
    );
    // Each read wakes a connection for one pass over its requests: the
    // closest thing to an event loop cycle.
    field!(out, "eventloop_cycles", "{}", reads);
    field!(out, "eventloop_duration_sum", "0");
    field!(out, "eventloop_duration_cmd_sum", "{}", cmd_usec);
    field!(out, "instantaneous_eventloop_cycles_per_sec", "0");
    field!(out, "instantaneous_eventloop_duration_usec", "0");
    field!(out, "acl_access_denied_auth", "{}", wrongpass);
    fixed(
        out,
        &[
            ("acl_access_denied_cmd", "0"),
            ("acl_access_denied_key", "0"),
            ("acl_access_denied_channel", "0"),
        ],
    );
}

fn replication(out: &mut String, shared: &Shared) {
    let backlog = shared
        .config
        .read()
        .get_string(crate::config::Opt::ReplBacklogSize);
    out.push_str("# Replication\r\n");
    fixed(
        out,
        &[
            ("role", "master"),
            ("connected_slaves", "0"),
            ("master_failover_state", "no-failover"),
        ],
    );
    field!(out, "master_replid", "{}", shared.replid);
    field!(
        out,
        "master_replid2",
        "0000000000000000000000000000000000000000"
    );
    fixed(
        out,
        &[
            ("master_repl_offset", "0"),
            ("second_repl_offset", "-1"),
            ("repl_backlog_active", "0"),
        ],
    );
    field!(
        out,
        "repl_backlog_size",
        "{}",
        String::from_utf8_lossy(&backlog)
    );
    field!(out, "repl_backlog_first_byte_offset", "0");
    field!(out, "repl_backlog_histlen", "0");
}

fn rusage(who: libc::c_int) -> Option<libc::rusage> {
    // SAFETY: rusage is plain integers; getrusage fills the live local.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage.
    (unsafe { libc::getrusage(who, &mut ru) } == 0).then_some(ru)
}

/// Picks a time out of a `rusage`.
type TimeOf = fn(&libc::rusage) -> libc::timeval;

fn cpu(out: &mut String) {
    out.push_str("# CPU\r\n");
    // Viator has no single main thread: the thread answering INFO stands
    // for it, as on Linux Redis reports the thread running INFO.
    for (who, suffix) in [
        (libc::RUSAGE_SELF, ""),
        (libc::RUSAGE_CHILDREN, "_children"),
        (libc::RUSAGE_THREAD, "_main_thread"),
    ] {
        let usage = rusage(who);
        let times: [(&str, TimeOf); 2] = [("sys", |r| r.ru_stime), ("user", |r| r.ru_utime)];
        for (kind, pick) in times {
            let t = usage.as_ref().map(pick);
            let (sec, usec) = t.map_or((0, 0), |t| (t.tv_sec, t.tv_usec));
            field!(out, format!("used_cpu_{kind}{suffix}"), "{sec}.{usec:06}");
        }
    }
}

/// Calls `f` on every command of the table and on every subcommand.
fn each_command(shared: &Shared, mut f: impl FnMut(&viator_store::Command)) {
    for c in shared.store.commands().iter() {
        f(c);
        for s in c.subs.values() {
            f(s);
        }
    }
}

/// Appends `header` and then the line `line` makes for each command and
/// subcommand (those it gives one for), in the order of their names.
fn per_command_section(
    out: &mut String,
    shared: &Shared,
    header: &str,
    mut line: impl FnMut(&viator_store::Command) -> Option<String>,
) {
    let mut lines: BTreeMap<String, String> = BTreeMap::new();
    each_command(shared, |c| {
        if let Some(l) = line(c) {
            lines.insert(c.full_name.to_string(), l);
        }
    });
    out.push_str(header);
    for l in lines.values() {
        out.push_str(l);
    }
}

fn commandstats(out: &mut String, shared: &Shared) {
    per_command_section(out, shared, "# Commandstats\r\n", |c| {
        let s = &c.stats;
        let calls = s.calls.load(Ordering::Relaxed);
        let usec = s.usec.load(Ordering::Relaxed);
        let rejected = s.rejected_calls.load(Ordering::Relaxed);
        let failed = s.failed_calls.load(Ordering::Relaxed);
        if calls == 0 && rejected == 0 && failed == 0 {
            return None;
        }
        let per_call = if calls == 0 {
            0.0
        } else {
            usec as f32 / calls as f32
        };
        Some(format!(
            "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}\r\n",
            c.full_name
        ))
    });
}

/// `latency_percentiles_usec_<cmd>:p50=…,p99=…,p99.9=…` for each command
/// with recorded calls, at the configured percentiles, as Redis's
/// `fillPercentileDistributionLatencies` writes them.
fn latencystats(out: &mut String, shared: &Shared) {
    let percentiles = shared.config.read().latency_tracking_info_percentiles();
    per_command_section(out, shared, "# Latencystats\r\n", |c| {
        let h = &c.stats.latency;
        if h.count() == 0 {
            return None;
        }
        let values: Vec<String> = percentiles
            .iter()
            .map(|&p| {
                let label = percentile_label(p);
                let us = h.value_at_percentile(p) as f64 / 1000.0;
                format!("p{label}={us:.3}")
            })
            .collect();
        Some(format!(
            "latency_percentiles_usec_{}:{}\r\n",
            c.full_name,
            values.join(",")
        ))
    });
}

/// A percentile as Redis labels it: `%f`, then trailing zeros and a
/// trailing dot removed (`50`, `99.9`).
fn percentile_label(p: f64) -> String {
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

fn errorstats(out: &mut String, shared: &Shared) {
    let errors: BTreeMap<String, u64> = shared
        .stats
        .errors
        .lock()
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    out.push_str("# Errorstats\r\n");
    for (code, n) in errors {
        let _ = write!(out, "errorstat_{code}:count={n}\r\n");
    }
}

fn keyspace(out: &mut String, shared: &Shared) {
    let store = &shared.store;
    out.push_str("# Keyspace\r\n");
    for db in 0..store.db_count() {
        let keys = store.db_size(db);
        if keys == 0 {
            continue;
        }
        let expires = store.db_expires(db);
        // avg_ttl: Redis estimates it while sampling for active expiry;
        // the store keeps no such estimate, so it reads 0 as Redis's does
        // before its first estimate.
        // subexpiry: hashes with fields that have a TTL.
        let subexpiry = viator_store::commands::hash::subexpiry_count(store, db);
        let _ = write!(
            out,
            "db{db}:keys={keys},expires={expires},avg_ttl=0,subexpiry={subexpiry}\r\n"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_match_redis() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(1_237_592), "1.18M");
        assert_eq!(bytes_to_human(25_276_502_016), "23.54G");
        assert_eq!(bytes_to_human(1 << 40), "1.00T");
    }

    #[test]
    fn section_selection() {
        let b = |v: &[&'static str]| v.iter().map(|s| s.as_bytes()).collect::<Vec<&[u8]>>();
        let default: Vec<&str> = SECTIONS.iter().copied().filter(|s| is_default(s)).collect();
        assert_eq!(wanted(&[]), default);
        assert_eq!(default.len(), 13);
        assert!(!default.contains(&"latencystats"));
        assert_eq!(
            wanted(&b(&["commandstats", "default"])).len(),
            SECTIONS.len() - 1
        );
        assert_eq!(wanted(&b(&["CPU", "server", "cpu"])), ["server", "cpu"]);
        assert_eq!(wanted(&b(&["all"])), SECTIONS);
        assert_eq!(wanted(&b(&["nosuch"])), Vec::<&str>::new());
        assert!(wanted(&b(&["everything"])).contains(&"commandstats"));
        assert!(!wanted(&b(&["default"])).contains(&"commandstats"));
    }
}
