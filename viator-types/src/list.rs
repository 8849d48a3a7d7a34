//! A list (Redis `OBJ_LIST`). Being built in issue 3; until then no key holds one.

/// A list (Redis `OBJ_LIST`).
#[derive(Debug, Clone, Default)]
pub struct List {
    len: usize,
}

impl List {
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

    /// Calls `f` with its elements from head to tail.
    pub fn for_each(&self, _f: impl FnMut(&[u8])) {}
}
