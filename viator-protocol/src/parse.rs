//! The server's request parser: RESP arrays of bulk strings and inline
//! commands, with Redis's limits and error messages.

use bytes::{Bytes, BytesMut};

/// Limits a server applies while parsing requests, with Redis's defaults.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`: the largest bulk string accepted (512 MB).
    pub max_bulk_len: u64,
    /// The largest number of arguments in one request (Redis: 1024*1024*1024... see `processMultibulkBuffer`).
    pub max_multibulk_len: u64,
    /// The longest inline command line (Redis's PROTO_INLINE_MAX_SIZE, 64 KB).
    pub max_inline_len: usize,
    /// Whether the client is authenticated; unauthenticated clients get the
    /// tighter limits Redis applies to them.
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_multibulk_len: i32::MAX as u64,
            max_inline_len: 64 * 1024,
            authenticated: true,
        }
    }
}

/// The outcome of one call to [`parse_command`].
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole command was parsed into the argument vector.
    Command,
    /// The buffer holds no complete command yet. `need` is a hint of how
    /// many bytes the buffer should hold in all before parsing can succeed
    /// (0 when unknown), so the caller can reserve room for a large bulk.
    Incomplete {
        /// Total buffer length hint.
        need: usize,
    },
}

/// A request that breaks the protocol. The connection replies with the
/// message as an error and closes, as Redis does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProtocolError(pub String);

/// Parses one request from the front of `buf` into `args`, consuming its
/// bytes. Arguments are zero-copy slices of the consumed input.
pub fn parse_command(
    buf: &mut BytesMut,
    limits: &Limits,
    args: &mut Vec<Bytes>,
) -> Result<Parsed, ProtocolError> {
    let _ = (buf, limits, args);
    unimplemented!("the protocol helper writes this")
}
