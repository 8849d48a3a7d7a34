//! The `viator-server` binary: reads the command line and configuration
//! like `redis-server`, logs the lines supervisors wait for, and runs until
//! SHUTDOWN or SIGTERM/SIGINT.

use std::path::PathBuf;
use std::process::ExitCode;

use viator_server::config::{self, ArgsOutcome};
use viator_server::{Server, StartError, log};

/// mimalloc, counted so that INFO reports `used_memory` (see
/// `viator_server::alloc`).
#[global_allocator]
static GLOBAL: viator_server::alloc::Counting<mimalloc::MiMalloc> =
    viator_server::alloc::Counting::new(mimalloc::MiMalloc);

/// mimalloc's option numbers (the `mi_option_t` enum of mimalloc.h, the
/// same in v2 and v3) for the two purge settings tuned below.
const MI_OPTION_PURGE_DELAY: i32 = 15;
const MI_OPTION_ARENA_PURGE_MULT: i32 = 24;

/// Returns freed memory to the OS within about a millisecond instead of
/// mimalloc's default delay (1 s in v3; 10 ms times 10 for arenas in v2):
/// when a keyspace table grows, its old slot arrays are freed, and with the
/// default delay they stay resident long enough to cost ~12 bytes per key
/// in RSS (memory.py, 1M keys). The options are changed only if they hold
/// one of mimalloc's documented default pairs, so an unknown option layout
/// is left alone.
fn tune_allocator() {
    // SAFETY: mi_option_get/mi_option_set read and store one integer in
    // mimalloc's option table; they take no pointers and are thread-safe.
    unsafe {
        use libmimalloc_sys::{mi_option_get, mi_option_set};
        let defaults = (
            mi_option_get(MI_OPTION_PURGE_DELAY),
            mi_option_get(MI_OPTION_ARENA_PURGE_MULT),
        );
        if matches!(defaults, (1000, 1) | (10, 10)) {
            mi_option_set(MI_OPTION_PURGE_DELAY, 1);
            mi_option_set(MI_OPTION_ARENA_PURGE_MULT, 1);
        }
    }
}

/// `disable-thp yes` (the default), as Redis's `THPDisable`: turns
/// transparent huge pages off for this process. mimalloc marks its arenas
/// MADV_HUGEPAGE, so with THP on (`always` or `madvise`) memory becomes
/// resident 2 MB at a time: an idle server takes 12 MB instead of 5, and
/// every new 2 MB region touched counts whole. When THP is `always` and it
/// cannot be turned off, Redis's warning is logged.
fn disable_transparent_huge_pages() {
    // SAFETY: prctl with PR_SET_THP_DISABLE takes only integer arguments
    // and changes a flag of this process.
    let r = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    let always = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .is_ok_and(|s| s.contains("[always]"));
    if r != 0 && always {
        log::warning(
            "WARNING you have Transparent Huge Pages (THP) support enabled in your kernel. This will create latency and memory usage issues with Redis. To fix this issue run the command 'echo madvise > /sys/kernel/mm/transparent_hugepage/enabled' as root, and add it to your /etc/rc.local in order to retain the setting after a reboot. Redis must be restarted after THP is disabled (set to 'madvise' or 'never').",
        );
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let argv: Vec<String> = std::env::args().collect();
    let program = argv
        .first()
        .cloned()
        .unwrap_or_else(|| "viator-server".into());
    let startup = match config::parse_args(&argv[1..]) {
        Ok(ArgsOutcome::Run(s)) => s,
        Ok(ArgsOutcome::Exit {
            stdout,
            stderr,
            code,
        }) => {
            print!("{stdout}");
            eprint!("{stderr}");
            return ExitCode::from(code as u8);
        }
        Err(e) => e.exit(),
    };
    let cfg = match startup.load() {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    // Redis changes to `dir` while reading the configuration; files with
    // relative names (snapshots, the log) live there.
    if let Err(e) = std::env::set_current_dir(cfg.dir()) {
        log::warning(&format!("Can't chdir to '{}': {e}", cfg.dir().display()));
    }
    log::apply_config(&cfg);
    if cfg.daemonize() {
        daemonize();
    }
    log::log_starting(startup.has_args, &program);
    for w in cfg.startup_warnings() {
        log::warning(&w);
    }
    if cfg.bool(config::Opt::DisableThp) {
        disable_transparent_huge_pages();
    }
    let pidfile = cfg.pidfile().or_else(|| {
        cfg.daemonize()
            .then(|| PathBuf::from("/var/run/redis_6379.pid"))
    });
    let port = cfg.port();
    // In redis.conf, port 0 turns TCP off; with no Unix socket or TLS
    // listener (not supported yet) there is nothing left, and Redis exits.
    // (Server::start, for embedding and tests, takes 0 as "any free port".)
    if port == 0 {
        log::warning("Configured to not listen anywhere, exiting.");
        return ExitCode::from(1);
    }
    let show = cfg.clone();
    let initialized = || {
        log::set_role(log::Role::Master);
        log::log_logo(&show, port);
        if let Some(p) = &pidfile
            && let Err(e) = std::fs::write(p, format!("{}\n", std::process::id()))
        {
            log::warning(&format!("Failed to write PID file: {e}"));
        }
        log::notice(log::SERVER_INITIALIZED);
    };
    let server = match Server::start_with(cfg, startup.config_file.clone(), initialized) {
        Ok(s) => s,
        Err(StartError::Listen { port, source }) => {
            log::warning(&log::could_not_create_tcp_socket(
                "*",
                port,
                &source.to_string(),
            ));
            log::warning(&log::failed_listening(port, "tcp"));
            return ExitCode::from(1);
        }
        Err(e) => {
            log::warning(&e.to_string());
            return ExitCode::from(1);
        }
    };
    for line in server.load_log() {
        log::notice(line);
    }
    log::notice(log::READY_TCP);
    watch_signals(&server);
    server.wait();
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    log::notice("Viator is now ready to exit, bye bye...");
    ExitCode::SUCCESS
}

/// Turns SIGTERM and SIGINT into a shutdown, as Redis does.
fn watch_signals(server: &Server) {
    let shared = server.shared().clone();
    let spawned = std::thread::Builder::new()
        .name("viator-signals".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut term), Ok(mut int)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                ) else {
                    return;
                };
                loop {
                    let name = tokio::select! {
                        _ = term.recv() => "SIGTERM",
                        _ = int.recv() => "SIGINT",
                    };
                    log::warning(&format!("Received {name} scheduling shutdown..."));
                    if viator_server::cmds::admin::prepare_shutdown(&shared, false, false) {
                        shared.request_shutdown(true);
                        return;
                    }
                    // As Redis: a failed final save keeps the server up.
                    log::warning(&format!(
                        "{name} received but errors trying to shut down the server, check the logs for more information"
                    ));
                }
            });
        });
    if let Err(e) = spawned {
        log::warning(&format!("Cannot watch signals: {e}"));
    }
}

/// Detaches from the terminal like Redis's `daemonize()`: fork, new
/// session, standard streams to /dev/null.
fn daemonize() {
    // SAFETY: called before any thread is started, so the child is a full
    // copy of a single-threaded process; the parent exits at once.
    unsafe {
        match libc::fork() {
            -1 => {
                log::warning("Cannot fork to daemonize");
                return;
            }
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd != -1 {
            libc::dup2(fd, libc::STDIN_FILENO);
            libc::dup2(fd, libc::STDOUT_FILENO);
            libc::dup2(fd, libc::STDERR_FILENO);
            if fd > libc::STDERR_FILENO {
                libc::close(fd);
            }
        }
    }
}
