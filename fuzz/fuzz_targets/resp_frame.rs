//! Feeds arbitrary bytes to the frame parser and checks that whatever it
//! accepts encodes and parses back to the same frames.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use viator_protocol::{Frame, parse_frame};

fn has_nan(f: &Frame) -> bool {
    match f {
        Frame::Double(d) => d.is_nan(),
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => v.iter().any(has_nan),
        Frame::Map(p) => p.iter().any(|(k, v)| has_nan(k) || has_nan(v)),
        Frame::Attribute { attributes, value } => {
            has_nan(value) || attributes.iter().any(|(k, v)| has_nan(k) || has_nan(v))
        }
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = parse_frame(&mut buf) {
        let mut out = BytesMut::new();
        frame.encode(&mut out);
        let again = parse_frame(&mut out).expect("re-encoded frame parses");
        if !has_nan(&frame) {
            assert_eq!(again.as_ref(), Some(&frame));
        }
        assert!(out.is_empty());
    }
});
