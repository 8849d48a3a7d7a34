//! Full RESP2/RESP3 frames, for clients and tools.

use bytes::{Bytes, BytesMut};

/// One RESP value of any type.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+text`
    Simple(Bytes),
}

/// A malformed frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FrameError(pub String);

/// Parses one frame from the front of `buf`, consuming it, or returns
/// `Ok(None)` when the frame is not complete yet.
pub fn parse_frame(buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
    let _ = buf;
    unimplemented!()
}

impl Frame {
    /// Appends the RESP encoding of this frame to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        let _ = out;
        unimplemented!()
    }
}
