//! `CommandParser::scan` (spans borrowed from the buffer) finds the same
//! requests, arguments and errors as `CommandParser::parse` (arguments as
//! `Bytes`), on pipelines cut at every byte.

use bytes::BytesMut;
use proptest::prelude::*;
use viator_protocol::{CommandParser, Limits, Parsed, Scanned};

fn encode(cmds: &[Vec<Vec<u8>>]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in cmds {
        out.extend_from_slice(format!("*{}\r\n", c.len()).as_bytes());
        for a in c {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// Every request `parse` takes off the front of `input`.
fn by_parse(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, String> {
    let mut buf = BytesMut::from(input);
    let mut p = CommandParser::new();
    let mut args = Vec::new();
    let mut out = Vec::new();
    loop {
        match p.parse(&mut buf, &Limits::default(), &mut args) {
            Ok(Parsed::Command) => out.push(args.iter().map(|a| a.to_vec()).collect()),
            Ok(Parsed::Incomplete { .. }) => return Ok(out),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The same with `scan`, consuming nothing until the end.
fn by_scan(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, String> {
    let mut p = CommandParser::new();
    let mut spans = Vec::new();
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let rest = &input[at..];
        match p.scan(rest, &Limits::default(), &mut spans) {
            Ok(Scanned::Command { end }) => {
                out.push(
                    spans
                        .iter()
                        .map(|&(s, l)| rest[s..s + l].to_vec())
                        .collect(),
                );
                at += end;
            }
            Ok(Scanned::Skip { end }) => at += end,
            Ok(Scanned::Incomplete { .. }) | Ok(Scanned::Inline) => return Ok(out),
            Err(e) => return Err(e.to_string()),
        }
    }
}

#[test]
fn errors_and_empty_requests_match() {
    for input in [
        &b"*0\r\n*1\r\n$4\r\nPING\r\n"[..],
        b"*-1\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        b"*2\r\n$3\r\nGET\r\n$99999999999999\r\n",
        b"*x\r\n",
        b"*2\r\n$3\r\nGET\r\n:1\r\n",
    ] {
        assert_eq!(by_scan(input), by_parse(input), "{input:?}");
    }
}

proptest! {
    #[test]
    fn scan_matches_parse_at_every_cut(
        cmds in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..24),
            1..6,
        )
    ) {
        let input = encode(&cmds);
        prop_assert_eq!(by_scan(&input).unwrap(), cmds.clone());
        for cut in 0..input.len() {
            prop_assert_eq!(by_scan(&input[..cut]), by_parse(&input[..cut]));
        }
    }
}
