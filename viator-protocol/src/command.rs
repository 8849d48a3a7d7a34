//! Writing a command the way clients send it: a RESP array of bulk
//! strings. The AOF, MIGRATE and the AOF rewrite all write commands so.

/// Appends `argv` to `out` as a RESP array of bulk strings.
///
/// ```
/// let mut out = Vec::new();
/// viator_protocol::encode_command(&mut out, &["SET", "k", "v"]);
/// assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
/// ```
pub fn encode_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, argv: &[A]) {
    let mut digits = itoa::Buffer::new();
    out.reserve(argv.iter().map(|a| a.as_ref().len() + 16).sum::<usize>() + 16);
    out.push(b'*');
    out.extend_from_slice(digits.format(argv.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(digits.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}
