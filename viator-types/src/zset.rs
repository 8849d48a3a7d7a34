//! A sorted set (Redis `OBJ_ZSET`). Being built in issue 3; until then no key holds one.

/// A sorted set (Redis `OBJ_ZSET`).
#[derive(Debug, Clone, Default)]
pub struct ZSet {
    len: usize,
}

impl ZSet {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The OBJECT ENCODING name of its current representation.
    pub fn encoding_name(&self) -> &'static str {
        "listpack"
    }

    /// Bytes of memory it uses, for MEMORY USAGE.
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<Self>()
    }

    /// Calls `f` with its members with their scores, by rank.
    pub fn for_each(&self, _f: impl FnMut(&[u8], f64)) {}
}
