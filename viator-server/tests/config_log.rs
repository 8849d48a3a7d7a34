//! The logger driven by the configuration: `loglevel` filtering, `logfile`,
//! Redis's line format. One test function, because the logger is global.

use viator_server::config::{Opt, SetContext, load};
use viator_server::log::{self, Level, Role};
use viator_server::serverlog;

/// `pid:R dd Mon yyyy HH:MM:SS.mmm c message`.
fn check_line(line: &str, role: char, marker: char, msg: &str) {
    let (pid, rest) = line.split_once(':').expect("pid");
    assert_eq!(pid, std::process::id().to_string());
    let mut it = rest.splitn(7, ' ');
    assert_eq!(it.next(), Some(role.to_string().as_str()));
    let day = it.next().unwrap();
    assert_eq!(day.len(), 2);
    assert!(day.bytes().all(|b| b.is_ascii_digit()));
    let month = it.next().unwrap();
    assert!(
        [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
        ]
        .contains(&month)
    );
    assert_eq!(it.next().unwrap().len(), 4);
    let time = it.next().unwrap();
    assert_eq!(time.len(), 12, "{time}");
    assert_eq!(&time[8..9], ".");
    assert_eq!(it.next(), Some(marker.to_string().as_str()));
    assert_eq!(it.next(), Some(msg));
}

#[test]
fn logging_follows_the_configuration() {
    let dir = std::env::temp_dir().join(format!("viator-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("server.log");
    let _ = std::fs::remove_file(&file);

    let mut cfg = load(
        format!(
            "dir {}\nlogfile server.log\nloglevel verbose\n",
            dir.display()
        ),
        None,
    )
    .unwrap();
    log::apply_config(&cfg);
    assert_eq!(log::level(), Level::Verbose);
    assert_eq!(
        log::logfile(),
        Some(dir.canonicalize().unwrap().join("server.log"))
    );

    log::debug("hidden debug");
    log::verbose("a verbose line");
    log::notice("a notice line");
    serverlog!(Level::Warning, "a {} line", "warning");
    log::set_role(Role::Replica);
    log::notice("as a replica");
    log::set_role(Role::Master);
    log::log_as(Role::Child, Level::Notice, "from a child");

    // CONFIG SET loglevel, then re-apply.
    cfg.config_set(&["loglevel", "warning"], &SetContext::default())
        .unwrap();
    assert_eq!(cfg.get_string(Opt::Loglevel), b"warning");
    log::apply_config(&cfg);
    log::notice("filtered notice");
    log::warning("kept warning");
    log::set_level(Level::Nothing);
    log::warning("nothing is logged");

    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    check_line(lines[0], 'M', '-', "a verbose line");
    check_line(lines[1], 'M', '*', "a notice line");
    check_line(lines[2], 'M', '#', "a warning line");
    check_line(lines[3], 'S', '*', "as a replica");
    check_line(lines[4], 'C', '*', "from a child");
    check_line(lines[5], 'M', '#', "kept warning");

    // Over-long messages are cut like Redis's LOG_MAX_LEN buffer.
    log::set_level(Level::Notice);
    let long = "x".repeat(5000);
    log::notice(&long);
    let text = std::fs::read_to_string(&file).unwrap();
    let last = text.lines().last().unwrap();
    assert!(last.ends_with(&"x".repeat(log::LOG_MAX_LEN)));
    assert!(!last.ends_with(&"x".repeat(log::LOG_MAX_LEN + 1)));

    // The startup lines.
    log::log_starting(false, "./viator-server");
    log::log_starting(true, "./viator-server");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(" * oO0OoO0OoO0Oo Viator is starting oO0OoO0OoO0Oo\n"));
    assert!(text.contains(&format!(
        ", redis_version=8.4.0, bits=64, commit=00000000, modified=0, pid={}, just started\n",
        std::process::id()
    )));
    assert!(text.contains(
        " # Warning: no config file specified, using the default config. In order to specify a config file use ./viator-server /path/to/redis.conf\n"
    ));
    assert!(text.contains(":C "));
    assert!(text.contains(" * Configuration loaded\n"));

    // Not a terminal and a log file: no logo, the one-line summary.
    log::log_logo(&cfg, 6390);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.ends_with(" * Running mode=standalone, port=6390.\n"),
        "{text}"
    );
    let cfg = load("always-show-logo yes", None).unwrap();
    log::log_logo(&cfg, 6391);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("Port: 6391\n"));
    assert!(text.contains(&format!("PID: {}\n", std::process::id())));

    log::set_logfile(None);
    std::fs::remove_dir_all(&dir).unwrap();
}
