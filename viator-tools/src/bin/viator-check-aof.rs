//! `viator-check-aof [--fix|--truncate-to-timestamp $timestamp]
//! <file.manifest|file.aof>`: checks an append-only file as
//! `redis-check-aof` does, with its output and exit status (see
//! `viator_tools::check_aof`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let status = viator_tools::check_aof::run(&args, &mut out, &mut input, now_ms);
    ExitCode::from(u8::try_from(status).unwrap_or(1))
}
