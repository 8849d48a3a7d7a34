//! Parses pipelined requests the way the server does: every argument is a
//! zero-copy slice of the input buffer.
//!
//! `cargo run -p viator-examples --example parse_resp`

use bytes::BytesMut;
use viator_protocol::{Limits, Parsed, parse_command};

fn main() {
    let mut buf = BytesMut::from(
        &b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1"[..],
    );
    let mut args = Vec::new();
    loop {
        match parse_command(&mut buf, &Limits::default(), &mut args) {
            Ok(Parsed::Command) => {
                let words: Vec<String> = args
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                println!("command: {words:?}");
            }
            Ok(Parsed::Incomplete { .. }) => {
                println!("need more input; {} bytes wait in the buffer", buf.len());
                break;
            }
            Err(e) => {
                println!("protocol error: {e}");
                break;
            }
        }
    }
}
