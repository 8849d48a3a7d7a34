//! Feeds arbitrary bytes to the redis.conf parser, as a config file's
//! content: it must return a config or an error, never panic.
//!
//! The parser's two directives with outside effects are left out, so that
//! the fuzzer never reads or creates files: `include` (which would read any
//! path, `/dev/zero` included) and `logfile` (which creates the file).
//! Inputs naming them are skipped after splitting lines exactly as the
//! loader does, so quoting tricks (`"\x69nclude"`) cannot slip one past.

#![no_main]

use libfuzzer_sys::fuzz_target;
use viator_server::config::util::{split_args, until_nul};
use viator_server::config::{Opt, load, lookup};

/// Whether some line of `text` is an `include` or `logfile` directive.
fn touches_files(text: &[u8]) -> bool {
    until_nul(text).split(|&c| c == b'\n').any(|raw| {
        let line = raw.trim_ascii();
        if line.first().is_none_or(|&c| c == b'#') {
            return false;
        }
        let Some(argv) = split_args(line) else {
            return false;
        };
        argv.first().is_some_and(|name| {
            name.eq_ignore_ascii_case(b"include") || matches!(lookup(name), Some((Opt::Logfile, _)))
        })
    })
}

fuzz_target!(|data: &[u8]| {
    if touches_files(data) {
        return;
    }
    let _ = load(data, None);
});
