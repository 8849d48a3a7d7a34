//! Feeds arbitrary bytes to the AOF command reader, as the loader reads an
//! AOF file: commands until the end or an error, never a panic nor an
//! allocation of what a forged length claims. A truncation it reports
//! must be where whole commands end: the file cut there reads cleanly to
//! the same commands.

#![no_main]

use libfuzzer_sys::fuzz_target;
use viator_persist::aof::commands::{AofError, CommandReader};

fuzz_target!(|data: &[u8]| {
    let mut r = CommandReader::new(data, 0);
    let mut commands = Vec::new();
    let mut last = 0;
    let end = loop {
        match r.next_command() {
            Ok(Some(args)) => {
                assert!(!args.is_empty());
                assert!(r.offset() > last && r.offset() <= data.len() as u64);
                last = r.offset();
                commands.push(args);
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    if let Some(AofError::Truncated { valid_up_to }) = end {
        assert!(valid_up_to <= data.len() as u64);
        let mut again = CommandReader::new(&data[..valid_up_to as usize], 0);
        let mut whole = Vec::new();
        while let Ok(Some(args)) = again.next_command() {
            whole.push(args);
        }
        assert_eq!(again.next_command(), Ok(None));
        assert_eq!(whole, commands);
    }
});
