//! Feeds arbitrary bytes to the whole-file RDB reader, the way a snapshot
//! (or an AOF's RDB preamble) is loaded: every record, each key built into
//! a store entry. It must return records or an error, never panic nor
//! allocate what a forged length claims; and every key it builds must
//! write back as a DUMP payload that reads again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use viator_persist::dump;
use viator_persist::objects::{Limits, entry_from_record};
use viator_persist::rdb::file::{FileReader, Record};

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = FileReader::new(data) else {
        return;
    };
    let limits = Limits::default();
    loop {
        match r.next_record() {
            Ok(Record::Key {
                key,
                value,
                expire_ms,
                ..
            }) => {
                if let Ok(Some(entry)) = entry_from_record(&key, value, expire_ms, &limits, 0) {
                    let payload = dump::create(&entry, key.len() % 2 == 0);
                    assert!(dump::verify(&payload, false));
                    assert!(dump::read(&payload, &key, &limits, 0).is_some());
                }
            }
            Ok(Record::Eof) | Err(_) => break,
            Ok(_) => {}
        }
        assert!(r.offset() <= data.len() as u64);
    }
});
