//! `viator-check-vdb FILE`: checks a snapshot as `redis-check-rdb` does,
//! with its output and exit status (see `viator_tools::check_vdb`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let program = args
        .first()
        .map(String::as_str)
        .unwrap_or("viator-check-vdb");
    if args.len() != 2 {
        eprintln!("Usage: {program} <rdb-file-name>");
        return ExitCode::from(1);
    }
    let name = &args[1];
    if name == "-v" || name == "--version" {
        println!(
            "viator-check-vdb {} (redis_version {})",
            env!("CARGO_PKG_VERSION"),
            viator_tools::REDIS_VERSION
        );
        return ExitCode::SUCCESS;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let status = match std::fs::File::open(name) {
        Ok(f) => viator_tools::check_vdb::check(name, std::io::BufReader::new(f), &mut out, now_ms),
        Err(_) => {
            // redis-check-rdb prints the first line and fails quietly.
            use std::io::Write;
            writeln!(out, "[offset 0] Checking RDB file {name}").map(|_| 1)
        }
    };
    match status {
        Ok(0) => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}
