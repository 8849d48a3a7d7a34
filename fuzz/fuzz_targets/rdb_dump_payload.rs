//! Feeds arbitrary bytes to RESTORE's payload reader (`dump::verify`, then
//! `dump::read`), the checksum skipped so that the value reader sees every
//! input: it must refuse or build an entry, never panic nor allocate what
//! a forged length claims; and an entry it builds must dump to a payload
//! that verifies and reads again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use viator_persist::dump;
use viator_persist::objects::Limits;

fuzz_target!(|data: &[u8]| {
    let _ = dump::verify(data, false);
    if !dump::verify(data, true) {
        return;
    }
    let limits = Limits::default();
    if let Some(entry) = dump::read(data, b"key", &limits, 0) {
        let payload = dump::create(&entry, data.len() % 2 == 0);
        assert!(dump::verify(&payload, false));
        assert!(dump::read(&payload, b"key", &limits, 0).is_some());
    }
});
