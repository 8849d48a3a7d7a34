//! Feeds arbitrary bytes to the multi-part AOF manifest parser: it must
//! return a manifest or one of Redis's errors, never panic; and a manifest
//! it accepts must format to text that parses back to the same files (but
//! for a line made too long by quoting a name, which Redis refuses too, and
//! a manifest of comments alone, which holds no file to write back).

#![no_main]

use libfuzzer_sys::fuzz_target;
use viator_persist::aof::manifest::Manifest;

fuzz_target!(|data: &[u8]| {
    let detailed = Manifest::parse_detailed(data);
    let Ok(m) = Manifest::parse(data) else {
        assert!(detailed.is_err());
        return;
    };
    assert_eq!(detailed.as_ref(), Ok(&m));
    if m == Manifest::default() {
        return;
    }
    match Manifest::parse(&m.format()) {
        Ok(back) => {
            let files = |m: &Manifest| {
                m.base
                    .iter()
                    .chain(&m.history)
                    .chain(&m.incr)
                    .map(|f| (f.name.clone(), f.seq, f.kind, f.start_offset))
                    .collect::<Vec<_>>()
            };
            assert_eq!(files(&back), files(&m));
        }
        Err(e) => assert_eq!(e, "The AOF manifest file contains too long line"),
    }
});
