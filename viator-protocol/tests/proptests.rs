//! Property tests: encode then parse round trips, and arbitrary input
//! never panics.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use viator_protocol::{CommandParser, Frame, Limits, Parsed, parse_command, parse_frame};

fn line_text() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
        0..20,
    )
    .prop_map(Bytes::from)
}

fn blob() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..40).prop_map(Bytes::from)
}

fn leaf() -> impl Strategy<Value = Frame> {
    prop_oneof![
        line_text().prop_map(Frame::Simple),
        line_text().prop_map(Frame::Error),
        any::<i64>().prop_map(Frame::Integer),
        blob().prop_map(Frame::Bulk),
        Just(Frame::NullBulk),
        Just(Frame::NullArray),
        Just(Frame::Null),
        any::<bool>().prop_map(Frame::Boolean),
        any::<f64>()
            .prop_filter("NaN is not equal to itself", |d| !d.is_nan())
            .prop_map(Frame::Double),
        "-?[1-9][0-9]{0,60}".prop_map(|s| Frame::BigNumber(Bytes::from(s))),
        blob().prop_map(Frame::BulkError),
        (proptest::array::uniform3(b'a'..=b'z'), blob())
            .prop_map(|(format, text)| Frame::Verbatim { format, text }),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    leaf().prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Array),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Set),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Push),
            proptest::collection::vec((inner.clone(), inner.clone()), 0..4).prop_map(Frame::Map),
            (
                proptest::collection::vec((inner.clone(), inner.clone()), 0..3),
                inner
            )
                .prop_map(|(attributes, value)| Frame::Attribute {
                    attributes,
                    value: Box::new(value)
                }),
        ]
    })
}

fn encode_command(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Writes an argument as an inline word that `sdssplitargs` reads back.
fn quote_inline(arg: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in arg {
        match b {
            b'"' | b'\\' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn frames_round_trip(frames in proptest::collection::vec(frame(), 1..4)) {
        let mut buf = BytesMut::new();
        for f in &frames {
            f.encode(&mut buf);
        }
        let encoded = buf.clone();
        for f in &frames {
            prop_assert_eq!(parse_frame(&mut buf), Ok(Some(f.clone())));
        }
        prop_assert!(buf.is_empty());

        // Every proper prefix of the first frame is incomplete and
        // consumes nothing.
        let mut first = BytesMut::new();
        frames[0].encode(&mut first);
        for cut in 0..first.len().min(400) {
            let mut part = BytesMut::from(&encoded[..cut]);
            prop_assert_eq!(parse_frame(&mut part), Ok(None));
            prop_assert_eq!(part.len(), cut);
        }
    }

    #[test]
    fn commands_round_trip(args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..30), 1..12)) {
        let input = encode_command(&args);
        let limits = Limits::default();
        let mut out = Vec::new();
        for cut in 0..input.len() {
            let mut buf = BytesMut::from(&input[..cut]);
            let r = parse_command(&mut buf, &limits, &mut out);
            prop_assert!(matches!(r, Ok(Parsed::Incomplete { .. })), "cut {}: {:?}", cut, r);
            prop_assert_eq!(buf.len(), cut);
            // And resumed: the rest arrives later.
            let mut parser = CommandParser::new();
            let _ = parser.parse(&mut buf, &limits, &mut out);
            buf.extend_from_slice(&input[cut..]);
            prop_assert_eq!(parser.parse(&mut buf, &limits, &mut out), Ok(Parsed::Command));
            prop_assert_eq!(&out, &args);
        }
        let mut buf = BytesMut::from(&input[..]);
        prop_assert_eq!(parse_command(&mut buf, &limits, &mut out), Ok(Parsed::Command));
        prop_assert!(buf.is_empty());
        let got: Vec<Vec<u8>> = out.iter().map(|b: &Bytes| b.to_vec()).collect();
        prop_assert_eq!(got, args);
    }

    #[test]
    fn pipelines_round_trip(cmds in proptest::collection::vec(
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..10), 1..5), 1..20)) {
        let mut input = Vec::new();
        for c in &cmds {
            input.extend(encode_command(c));
        }
        let mut buf = BytesMut::from(&input[..]);
        let mut args = Vec::new();
        for c in &cmds {
            prop_assert_eq!(parse_command(&mut buf, &Limits::default(), &mut args), Ok(Parsed::Command));
            prop_assert_eq!(&args, c);
        }
        prop_assert_eq!(parse_command(&mut buf, &Limits::default(), &mut args), Ok(Parsed::Incomplete { need: 0 }));
    }

    #[test]
    fn inline_round_trip(args in proptest::collection::vec(proptest::collection::vec(1u8..=255, 0..20), 1..8),
                         crlf in any::<bool>()) {
        let mut line = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                line.push(b' ');
            }
            quote_inline(a, &mut line);
        }
        line.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        let mut buf = BytesMut::from(&line[..]);
        let mut out = Vec::new();
        prop_assert_eq!(parse_command(&mut buf, &Limits::default(), &mut out), Ok(Parsed::Command));
        prop_assert_eq!(&out, &args);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..200), authed in any::<bool>()) {
        let limits = Limits { authenticated: authed, ..Limits::default() };
        let mut buf = BytesMut::from(&input[..]);
        let mut args = Vec::new();
        while let Ok(Parsed::Command) = parse_command(&mut buf, &limits, &mut args) {
            prop_assert!(!args.is_empty());
        }
        let mut buf = BytesMut::from(&input[..]);
        while let Ok(Some(_)) = parse_frame(&mut buf) {}
    }

    #[test]
    fn resp_shaped_noise_never_panics(parts in proptest::collection::vec(prop_oneof![
        Just(b"*".to_vec()), Just(b"$".to_vec()), Just(b"\r\n".to_vec()), Just(b"-1".to_vec()),
        Just(b"3".to_vec()), Just(b"%".to_vec()), Just(b"|".to_vec()), Just(b"=".to_vec()),
        Just(b"\"".to_vec()), Just(b"'".to_vec()), Just(b"\\x4".to_vec()), Just(b" ".to_vec()),
        Just(b"\n".to_vec()), Just(b"\0".to_vec()), Just(b"txt:".to_vec()), Just(b",".to_vec()),
    ], 0..40)) {
        let input: Vec<u8> = parts.concat();
        let mut buf = BytesMut::from(&input[..]);
        let mut args = Vec::new();
        while let Ok(Parsed::Command) = parse_command(&mut buf, &Limits::default(), &mut args) {}
        let mut buf = BytesMut::from(&input[..]);
        while let Ok(Some(_)) = parse_frame(&mut buf) {}
    }
}
