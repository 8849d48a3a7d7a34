//! Feeds arbitrary bytes to the server's request parser, the way a
//! connection does: all at once, then again split in two reads, with both
//! the stateless and the resuming parser, authenticated or not; and the
//! borrowing scanner the connections use must find the same multibulk
//! requests in two reads as the copying parser finds in the whole input.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use viator_protocol::{CommandParser, Limits, Parsed, Scanned, parse_command};

fn drain(input: &[u8], limits: &Limits) -> Vec<Vec<bytes::Bytes>> {
    let mut buf = BytesMut::from(input);
    let mut args = Vec::new();
    let mut cmds = Vec::new();
    while let Ok(Parsed::Command) = parse_command(&mut buf, limits, &mut args) {
        assert!(!args.is_empty());
        cmds.push(args.clone());
    }
    cmds
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, input)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        authenticated: flags & 1 == 0,
        max_inline_len: if flags & 2 == 0 { 64 * 1024 } else { 16 },
        ..Limits::default()
    };
    let whole = drain(input, &limits);

    // Two reads, resumed: the same commands as from the whole input.
    let cut = usize::from(flags >> 2) * input.len() / 64;
    let mut parser = CommandParser::new();
    let mut buf = BytesMut::new();
    let mut args = Vec::new();
    let mut split = Vec::new();
    'reads: for chunk in [&input[..cut], &input[cut..]] {
        buf.extend_from_slice(chunk);
        loop {
            match parser.parse(&mut buf, &limits, &mut args) {
                Ok(Parsed::Command) => split.push(args.clone()),
                Ok(Parsed::Incomplete { .. }) => break,
                Err(_) => break 'reads,
            }
        }
    }
    // Limits on unterminated lines depend on how input arrives, as in
    // Redis; with the large limit and no error they cannot differ.
    if limits.max_inline_len > input.len() {
        assert_eq!(whole, split);
    }

    // The scanner over the same two reads, consuming what it scanned: up
    // to the first inline request or error, the same commands in order.
    let mut scanner = CommandParser::new();
    let mut buf = BytesMut::new();
    let mut spans = Vec::new();
    let mut scanned = Vec::new();
    'scan: for chunk in [&input[..cut], &input[cut..]] {
        buf.extend_from_slice(chunk);
        loop {
            match scanner.scan(&buf, &limits, &mut spans) {
                Ok(Scanned::Command { end }) => {
                    let frame = buf.split_to(end).freeze();
                    let args: Vec<bytes::Bytes> = spans
                        .iter()
                        .map(|&(start, len)| frame.slice(start..start + len))
                        .collect();
                    scanned.push(args);
                }
                Ok(Scanned::Skip { end }) => {
                    let _ = buf.split_to(end);
                }
                Ok(Scanned::Incomplete { .. }) => break,
                Ok(Scanned::Inline) | Err(_) => break 'scan,
            }
        }
    }
    if limits.max_inline_len > input.len() {
        assert!(scanned.len() <= whole.len());
        assert_eq!(scanned[..], whole[..scanned.len()]);
    }
});
