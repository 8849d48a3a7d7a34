//! RESP2 and RESP3 for Viator: a streaming, zero-copy request parser with
//! Redis's inline commands and limits, a full frame parser for clients, and
//! the reply encoder that servers write into.
//!
//! The server side reads a connection into a [`bytes::BytesMut`] and calls
//! [`parse_command`] until it reports that more input is needed; every
//! argument is a [`bytes::Bytes`] slice of the input, never a copy. Replies
//! are written straight into a [`ReplyBuf`], which knows whether the client
//! speaks RESP2 or RESP3 and downgrades RESP3 types the way Redis does.
//!
//! Clients and tools use [`parse_frame`] and [`Frame::encode`].

#![warn(missing_docs)]

mod command;
mod dtoa;
mod frame;
mod parse;
mod reply;

pub use command::encode_command;
pub use frame::{Frame, FrameError, parse_frame};
pub use parse::{
    CommandParser, Limits, Parsed, ProtocolError, Scanned, cat_repr, parse_command, split_line,
};
pub use reply::{DeferredLen, ReplyBuf, format_double};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
