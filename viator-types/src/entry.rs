//! One key of the keyspace and its value, in a single compact allocation.
//!
//! Redis 8 embeds the key in the value object to save memory; Viator goes one
//! step further and keeps the key, the expiry, the access clock and small
//! string values in one heap block, so that a key with a 16-byte value costs
//! one 32-byte allocation. The block is reached through a thin pointer, so a
//! slot of the keyspace table is 8 bytes.
//!
//! Block layout (byte offsets, all multi-byte fields little-endian and read
//! unaligned):
//!
//! ```text
//! 0      flags: bits 0-1 value kind (inline string, integer, heap string,
//!        object), bit 2 has-expire, bit 3 long key length, bit 4 long
//!        inline value length
//! 1..4   access clock (24 bits): LRU seconds or LFU counter+time
//! 4..12  expire time in unix milliseconds, present only with has-expire
//! ..     key length: u8, or a 255 marker and a u64 with the long-key flag
//! ..     key bytes
//! ..     value: inline string = length (u8, or 255 and a u64) + bytes; integer = i64;
//!        heap string = pointer to a `Vec<u8>`; object = pointer to an
//!        [`Object`]
//! ```
//!
//! This is the one place in the crate that uses `unsafe`: the block is raw
//! memory that only this module reads and writes. The memory benchmark
//! (`shared/bench/memory.py`, bytes per key) is what pays for it: a boxed
//! struct with a `Vec` key and an enum value costs about twice as much.

use std::alloc::{Layout, alloc, dealloc};
use std::ptr::NonNull;

/// Values longer than this are never stored inline by [`Entry::new_string`]
/// when they come from SET-like commands: Redis reports them as `raw`, and
/// this is where `embstr` ends (OBJECT ENCODING).
pub const EMBSTR_MAX: usize = 44;

/// Strings longer than this live in their own buffer rather than in the
/// entry's block, so that changing the key's TTL or renaming it moves a
/// pointer instead of copying the value (Redis does these in O(1) too).
pub const INLINE_MAX: usize = 4096;

/// Strings up to this length that parse as an integer are stored as one
/// (OBJECT ENCODING `int`), as Redis's `tryObjectEncoding` does.
const INT_CANDIDATE_MAX: usize = 20;

const KIND_MASK: u8 = 0b11;
const KIND_INLINE: u8 = 0;
const KIND_INT: u8 = 1;
const KIND_HEAP: u8 = 2;
const KIND_OBJECT: u8 = 3;
const HAS_EXPIRE: u8 = 1 << 2;
const LONG_KEY: u8 = 1 << 3;
const LONG_VALUE: u8 = 1 << 4;

/// The largest value of the 24-bit access clock.
pub const CLOCK_MAX: u32 = (1 << 24) - 1;

/// The values that are not strings, one variant per data type. Each type
/// lives in its own module; later issues add streams, HyperLogLog and the
/// rest.
#[derive(Debug, Clone)]
pub enum Object {
    /// A list.
    List(crate::list::List),
    /// A hash.
    Hash(crate::hash::Hash),
    /// A set.
    Set(crate::set::Set),
    /// A sorted set.
    ZSet(crate::zset::ZSet),
    /// A stream (boxed: its bookkeeping is larger than the other types').
    Stream(Box<crate::stream::Stream>),
}

impl Object {
    /// The type TYPE reports.
    pub fn value_type(&self) -> ValueType {
        match self {
            Object::List(_) => ValueType::List,
            Object::Hash(_) => ValueType::Hash,
            Object::Set(_) => ValueType::Set,
            Object::ZSet(_) => ValueType::ZSet,
            Object::Stream(_) => ValueType::Stream,
        }
    }

    /// The OBJECT ENCODING name of the value's current representation.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Object::List(v) => v.encoding_name(),
            Object::Hash(v) => v.encoding_name(),
            Object::Set(v) => v.encoding_name(),
            Object::ZSet(v) => v.encoding_name(),
            Object::Stream(v) => v.encoding_name(),
        }
    }

    /// Bytes of memory the value uses, for MEMORY USAGE.
    pub fn memory_usage(&self) -> usize {
        match self {
            Object::List(v) => v.memory_usage(),
            Object::Hash(v) => v.memory_usage(),
            Object::Set(v) => v.memory_usage(),
            Object::ZSet(v) => v.memory_usage(),
            Object::Stream(v) => v.memory_usage(),
        }
    }

    /// Number of elements (list elements, hash fields, members).
    pub fn len(&self) -> usize {
        match self {
            Object::List(v) => v.len(),
            Object::Hash(v) => v.len(),
            Object::Set(v) => v.len(),
            Object::ZSet(v) => v.len(),
            Object::Stream(v) => v.len(),
        }
    }

    /// Whether the value has no elements (a key never holds an empty one).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The type of a key's value, as TYPE reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A string (including integer-encoded ones).
    String,
    /// A list.
    List,
    /// A hash.
    Hash,
    /// A set.
    Set,
    /// A sorted set.
    ZSet,
    /// A stream.
    Stream,
}

impl ValueType {
    /// The name TYPE replies with.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::List => "list",
            ValueType::Hash => "hash",
            ValueType::Set => "set",
            ValueType::ZSet => "zset",
            ValueType::Stream => "stream",
        }
    }
}

/// A borrowed string value: bytes, or an integer-encoded string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrRef<'a> {
    /// The bytes of the string.
    Bytes(&'a [u8]),
    /// A string held as an integer; its text is the decimal form.
    Int(i64),
}

impl StrRef<'_> {
    /// The length of the string's text.
    pub fn len(&self) -> usize {
        match self {
            StrRef::Bytes(b) => b.len(),
            StrRef::Int(n) => itoa::Buffer::new().format(*n).len(),
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        matches!(self, StrRef::Bytes(b) if b.is_empty())
    }

    /// Calls `f` with the string's bytes (formatting an integer first).
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            StrRef::Bytes(b) => f(b),
            StrRef::Int(n) => f(itoa::Buffer::new().format(*n).as_bytes()),
        }
    }

    /// The string's bytes as an owned vector.
    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }
}

/// How a string value is stored, as OBJECT ENCODING reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrEncoding {
    /// A 64-bit integer.
    Int,
    /// Stored with the key, at most [`EMBSTR_MAX`] bytes.
    Embstr,
    /// Anything else.
    Raw,
}

impl StrEncoding {
    /// The name OBJECT ENCODING replies with.
    pub fn name(self) -> &'static str {
        match self {
            StrEncoding::Int => "int",
            StrEncoding::Embstr => "embstr",
            StrEncoding::Raw => "raw",
        }
    }
}

/// A value to store in a new entry.
#[derive(Debug)]
pub enum NewValue<'a> {
    /// A string, stored inline (or as an integer, see [`Entry::new_string`]).
    Str(&'a [u8]),
    /// An integer-encoded string.
    Int(i64),
    /// A string in its own growable buffer (OBJECT ENCODING `raw`); used by
    /// APPEND and SETRANGE, which grow strings in place.
    Heap(Vec<u8>),
    /// A non-string value.
    Object(Box<Object>),
}

/// One key with its value, expiry and access clock, owning its block.
pub struct Entry {
    ptr: NonNull<u8>,
}

// SAFETY: an Entry exclusively owns its block and the boxes the block points
// to, like a Box would; nothing is shared between entries.
unsafe impl Send for Entry {}
// SAFETY: shared access only reads the block.
unsafe impl Sync for Entry {}

/// The decoded header of a block: where each part starts and how long it is.
#[derive(Clone, Copy)]
struct Parts {
    flags: u8,
    key_at: usize,
    key_len: usize,
    /// Offset of the value part (for inline strings, of its length field).
    value_at: usize,
    /// Offset of the first inline value byte, and its length (inline only).
    inline_at: usize,
    inline_len: usize,
    /// Size of the whole block.
    size: usize,
}

/// Bytes of a length field: one for lengths under 255, else a 255 marker
/// and a u64, so that no length a client can send (proto-max-bulk-len may
/// be set past 4 GiB) is ever truncated.
fn len_field(n: usize) -> usize {
    if n < 255 { 1 } else { 9 }
}

/// Reads a length field written by [`write_len`].
///
/// # Safety
/// `p` must point to a length field inside a live block.
unsafe fn read_len(p: *const u8, long: bool) -> usize {
    if long {
        // SAFETY: the caller guarantees a long field is 9 bytes: a 255 marker
        // then a u64.
        unsafe { (p.add(1) as *const u64).read_unaligned() as usize }
    } else {
        // SAFETY: the caller guarantees p is readable.
        unsafe { *p as usize }
    }
}

/// Writes a length field of `len_field(n)` bytes.
///
/// # Safety
/// `p` must have room for `len_field(n)` bytes.
unsafe fn write_len(p: *mut u8, n: usize) {
    // SAFETY: room was checked by the caller.
    unsafe {
        if n < 255 {
            *p = n as u8;
        } else {
            *p = 255;
            (p.add(1) as *mut u64).write_unaligned(n as u64);
        }
    }
}

impl Entry {
    /// A new entry holding a string, encoded as Redis's SET would: an
    /// integer when the text is a canonical 64-bit integer of at most 20
    /// characters, otherwise inline bytes.
    pub fn new_string(key: &[u8], value: &[u8]) -> Entry {
        if value.len() <= INT_CANDIDATE_MAX
            && let Some(n) = crate::number::parse_i64(value)
        {
            return Entry::new(key, NewValue::Int(n), None);
        }
        Entry::new(key, NewValue::Str(value), None)
    }

    /// A new entry.
    pub fn new(key: &[u8], value: NewValue<'_>, expire_ms: Option<i64>) -> Entry {
        let value = match value {
            NewValue::Str(s) if s.len() > INLINE_MAX => NewValue::Heap(s.to_vec()),
            v => v,
        };
        let mut flags = 0u8;
        let mut size = 4;
        if expire_ms.is_some() {
            flags |= HAS_EXPIRE;
            size += 8;
        }
        if key.len() >= 255 {
            flags |= LONG_KEY;
        }
        size += len_field(key.len()) + key.len();
        match &value {
            NewValue::Str(s) => {
                flags |= KIND_INLINE;
                if s.len() >= 255 {
                    flags |= LONG_VALUE;
                }
                size += len_field(s.len()) + s.len();
            }
            NewValue::Int(_) => {
                flags |= KIND_INT;
                size += 8;
            }
            NewValue::Heap(_) => {
                flags |= KIND_HEAP;
                size += 8;
            }
            NewValue::Object(_) => {
                flags |= KIND_OBJECT;
                size += 8;
            }
        }
        let layout = Layout::from_size_align(size, 1).expect("entry block size overflows");
        // SAFETY: size is at least 5, so the layout is not zero-sized.
        let raw = unsafe { alloc(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            std::alloc::handle_alloc_error(layout);
        };
        // SAFETY: the block has `size` bytes, and each write below stays in
        // the part of it that `size` was computed for, in the same order.
        unsafe {
            let p = ptr.as_ptr();
            *p = flags;
            *p.add(1) = 0;
            *p.add(2) = 0;
            *p.add(3) = 0;
            let mut at = 4;
            if let Some(ms) = expire_ms {
                (p.add(at) as *mut i64).write_unaligned(ms);
                at += 8;
            }
            write_len(p.add(at), key.len());
            at += len_field(key.len());
            std::ptr::copy_nonoverlapping(key.as_ptr(), p.add(at), key.len());
            at += key.len();
            match value {
                NewValue::Str(s) => {
                    write_len(p.add(at), s.len());
                    at += len_field(s.len());
                    std::ptr::copy_nonoverlapping(s.as_ptr(), p.add(at), s.len());
                }
                NewValue::Int(n) => (p.add(at) as *mut i64).write_unaligned(n),
                NewValue::Heap(v) => {
                    (p.add(at) as *mut *mut Vec<u8>).write_unaligned(Box::into_raw(Box::new(v)))
                }
                NewValue::Object(o) => {
                    (p.add(at) as *mut *mut Object).write_unaligned(Box::into_raw(o))
                }
            }
        }
        Entry { ptr }
    }

    fn parts(&self) -> Parts {
        let p = self.ptr.as_ptr();
        // SAFETY: the block was laid out by `new`; this walks it in the same
        // order, reading only the fields the flags say are there.
        unsafe {
            let flags = *p;
            let mut at = 4;
            if flags & HAS_EXPIRE != 0 {
                at += 8;
            }
            let key_len = read_len(p.add(at), flags & LONG_KEY != 0);
            at += len_field(key_len);
            let key_at = at;
            at += key_len;
            let value_at = at;
            let (inline_at, inline_len, size) = if flags & KIND_MASK == KIND_INLINE {
                let n = read_len(p.add(at), flags & LONG_VALUE != 0);
                let start = at + len_field(n);
                (start, n, start + n)
            } else {
                (at, 0, at + 8)
            };
            Parts {
                flags,
                key_at,
                key_len,
                value_at,
                inline_at,
                inline_len,
                size,
            }
        }
    }

    /// The key.
    pub fn key(&self) -> &[u8] {
        let parts = self.parts();
        // SAFETY: key_at..key_at+key_len lies inside the block, which lives
        // as long as &self.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(parts.key_at), parts.key_len) }
    }

    /// The expire time in unix milliseconds, if the key has one.
    pub fn expire_ms(&self) -> Option<i64> {
        // SAFETY: the flags byte is always present; the expire field is
        // present when the flag says so.
        unsafe {
            let p = self.ptr.as_ptr();
            (*p & HAS_EXPIRE != 0).then(|| (p.add(4) as *const i64).read_unaligned())
        }
    }

    /// Sets or clears the expire time. Adding or removing it moves the
    /// entry to a new block.
    pub fn set_expire_ms(&mut self, expire: Option<i64>) {
        match (self.expire_ms().is_some(), expire) {
            (true, Some(ms)) => {
                // SAFETY: the expire field exists (flag set).
                unsafe { (self.ptr.as_ptr().add(4) as *mut i64).write_unaligned(ms) }
            }
            (false, None) => {}
            _ => {
                let clock = self.clock();
                // An inline string is copied inline from the old block, so it
                // stays `embstr` (Redis's EXPIRE and PERSIST keep the
                // encoding); only boxes are moved out.
                let mut fresh = match self.as_str() {
                    Some(StrRef::Bytes(b)) if self.kind() == KIND_INLINE => {
                        Entry::new(self.key(), NewValue::Str(b), expire)
                    }
                    _ => {
                        let value = self.take_value();
                        Entry::new(self.key(), value, expire)
                    }
                };
                fresh.set_clock(clock);
                *self = fresh;
            }
        }
    }

    /// The 24-bit access clock (LRU time or LFU counter).
    pub fn clock(&self) -> u32 {
        // SAFETY: bytes 1..4 are always present.
        unsafe {
            let p = self.ptr.as_ptr();
            u32::from(*p.add(1)) | (u32::from(*p.add(2)) << 8) | (u32::from(*p.add(3)) << 16)
        }
    }

    /// Sets the 24-bit access clock; higher bits are dropped.
    pub fn set_clock(&mut self, clock: u32) {
        // SAFETY: bytes 1..4 are always present and we have &mut self.
        unsafe {
            let p = self.ptr.as_ptr();
            *p.add(1) = clock as u8;
            *p.add(2) = (clock >> 8) as u8;
            *p.add(3) = (clock >> 16) as u8;
        }
    }

    /// The type of the value.
    pub fn value_type(&self) -> ValueType {
        match self.kind() {
            KIND_OBJECT => self.object_ref().value_type(),
            _ => ValueType::String,
        }
    }

    fn kind(&self) -> u8 {
        // SAFETY: the flags byte is always present.
        unsafe { *self.ptr.as_ptr() & KIND_MASK }
    }

    fn object_ref(&self) -> &Object {
        let parts = self.parts();
        debug_assert_eq!(parts.flags & KIND_MASK, KIND_OBJECT);
        // SAFETY: for KIND_OBJECT the value part is a pointer made by
        // Box::into_raw, owned by this entry.
        unsafe { &*(self.ptr.as_ptr().add(parts.value_at) as *const *mut Object).read_unaligned() }
    }

    /// The value if it is not a string.
    pub fn as_object(&self) -> Option<&Object> {
        (self.kind() == KIND_OBJECT).then(|| self.object_ref())
    }

    /// The value, mutably, if it is not a string.
    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
        if self.kind() != KIND_OBJECT {
            return None;
        }
        let parts = self.parts();
        // SAFETY: for KIND_OBJECT the value part is a pointer made by
        // Box::into_raw, owned by this entry; &mut self makes it exclusive.
        Some(unsafe {
            &mut *(self.ptr.as_ptr().add(parts.value_at) as *const *mut Object).read_unaligned()
        })
    }

    /// The value if it is a string.
    pub fn as_str(&self) -> Option<StrRef<'_>> {
        let parts = self.parts();
        let p = self.ptr.as_ptr();
        // SAFETY: each arm reads the value part in the shape its kind wrote.
        unsafe {
            match parts.flags & KIND_MASK {
                KIND_INLINE => Some(StrRef::Bytes(std::slice::from_raw_parts(
                    p.add(parts.inline_at),
                    parts.inline_len,
                ))),
                KIND_INT => Some(StrRef::Int(
                    (p.add(parts.value_at) as *const i64).read_unaligned(),
                )),
                KIND_HEAP => {
                    let v = (p.add(parts.value_at) as *const *mut Vec<u8>).read_unaligned();
                    Some(StrRef::Bytes((*v).as_slice()))
                }
                _ => None,
            }
        }
    }

    /// How the string value is stored, or `None` if it is not a string.
    pub fn str_encoding(&self) -> Option<StrEncoding> {
        let parts = self.parts();
        match parts.flags & KIND_MASK {
            KIND_INT => Some(StrEncoding::Int),
            KIND_INLINE if parts.inline_len <= EMBSTR_MAX => Some(StrEncoding::Embstr),
            KIND_INLINE | KIND_HEAP => Some(StrEncoding::Raw),
            _ => None,
        }
    }

    /// Replaces the value with an integer-encoded string, in place when the
    /// value already is one.
    pub fn set_int(&mut self, n: i64) {
        let parts = self.parts();
        if parts.flags & KIND_MASK == KIND_INT {
            // SAFETY: the value part of an integer entry is 8 bytes.
            unsafe { (self.ptr.as_ptr().add(parts.value_at) as *mut i64).write_unaligned(n) }
        } else {
            self.set_value(NewValue::Int(n));
        }
    }

    /// Turns the value into a heap string (OBJECT ENCODING `raw`) and returns
    /// its buffer for in-place edits (APPEND, SETRANGE). `None` if the value
    /// is not a string.
    pub fn heap_str_mut(&mut self) -> Option<&mut Vec<u8>> {
        match self.kind() {
            KIND_HEAP => {}
            KIND_OBJECT => return None,
            _ => {
                let bytes = self.as_str()?.to_vec();
                self.set_value(NewValue::Heap(bytes));
            }
        }
        let parts = self.parts();
        // SAFETY: the value part of a heap entry is a pointer from
        // Box::into_raw owned by this entry; &mut self makes it exclusive.
        unsafe {
            Some(
                &mut *(self.ptr.as_ptr().add(parts.value_at) as *const *mut Vec<u8>)
                    .read_unaligned(),
            )
        }
    }

    /// A new entry holding a copy of this one's value and expire time under
    /// `key` (COPY's `dupStringObject` and friends, and background
    /// snapshots). The value keeps its kind and, for strings, its encoding
    /// (`int` stays `int`, `embstr` stays `embstr`, `raw` stays `raw`);
    /// other values are deep copies.
    pub fn duplicate_as(&self, key: &[u8]) -> Entry {
        let expire = self.expire_ms();
        if let Some(o) = self.as_object() {
            return Entry::new(key, NewValue::Object(Box::new(o.clone())), expire);
        }
        let value = match (self.as_str(), self.str_encoding()) {
            (Some(StrRef::Int(n)), _) => NewValue::Int(n),
            (Some(StrRef::Bytes(b)), Some(StrEncoding::Raw)) if b.len() <= EMBSTR_MAX => {
                NewValue::Heap(b.to_vec())
            }
            (Some(StrRef::Bytes(b)), _) => NewValue::Str(b),
            // A string entry always holds a string.
            (None, _) => NewValue::Str(b""),
        };
        Entry::new(key, value, expire)
    }

    /// The same value, expire time and access clock under another key (RENAME,
    /// MOVE): a value in its own buffer is moved, not copied.
    pub fn renamed(mut self, key: &[u8]) -> Entry {
        let clock = self.clock();
        let expire = self.expire_ms();
        let mut fresh = if self.kind() == KIND_INLINE {
            let bytes = match self.as_str() {
                Some(StrRef::Bytes(b)) => b,
                _ => &[],
            };
            Entry::new(key, NewValue::Str(bytes), expire)
        } else {
            let value = self.take_value();
            Entry::new(key, value, expire)
        };
        fresh.set_clock(clock);
        fresh
    }

    /// Replaces the value, keeping the key, expire time and access clock.
    pub fn set_value(&mut self, value: NewValue<'_>) {
        let clock = self.clock();
        let mut fresh = Entry::new(self.key(), value, self.expire_ms());
        fresh.set_clock(clock);
        *self = fresh;
    }

    /// Takes the value out, leaving an empty inline string behind.
    fn take_value(&mut self) -> NewValue<'static> {
        let parts = self.parts();
        let p = self.ptr.as_ptr();
        // SAFETY: each arm reads the value part in the shape its kind wrote.
        // A heap or object pointer is moved out, and the kind is rewritten
        // to INT so that the block no longer owns the box: an integer needs
        // no drop, and its value part has the pointer's size (8 bytes), so
        // the block's computed size does not change.
        unsafe {
            match parts.flags & KIND_MASK {
                KIND_INLINE => NewValue::Heap(
                    std::slice::from_raw_parts(p.add(parts.inline_at), parts.inline_len).to_vec(),
                ),
                KIND_INT => NewValue::Int((p.add(parts.value_at) as *const i64).read_unaligned()),
                KIND_HEAP => {
                    let v = (p.add(parts.value_at) as *const *mut Vec<u8>).read_unaligned();
                    *p = (parts.flags & !KIND_MASK) | KIND_INT;
                    NewValue::Heap(*Box::from_raw(v))
                }
                _ => {
                    let o = (p.add(parts.value_at) as *const *mut Object).read_unaligned();
                    *p = (parts.flags & !KIND_MASK) | KIND_INT;
                    NewValue::Object(Box::from_raw(o))
                }
            }
        }
    }

    /// Bytes of memory this entry uses (its block and what it points to),
    /// for MEMORY USAGE and eviction accounting.
    pub fn memory_usage(&self) -> usize {
        let parts = self.parts();
        let mut n = parts.size;
        if let KIND_HEAP = parts.flags & KIND_MASK
            && let Some(StrRef::Bytes(b)) = self.as_str()
        {
            n += 24 + b.len();
        }
        if let Some(o) = self.as_object() {
            n += std::mem::size_of::<Object>() + o.memory_usage();
        }
        n
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let parts = self.parts();
        let p = self.ptr.as_ptr();
        // SAFETY: the boxes were made by Box::into_raw in `new` and are owned
        // by this block; the layout is the one `new` allocated with (same
        // size, computed from the same header).
        unsafe {
            match parts.flags & KIND_MASK {
                KIND_HEAP => drop(Box::from_raw(
                    (p.add(parts.value_at) as *const *mut Vec<u8>).read_unaligned(),
                )),
                KIND_OBJECT => drop(Box::from_raw(
                    (p.add(parts.value_at) as *const *mut Object).read_unaligned(),
                )),
                _ => {}
            }
            dealloc(p, Layout::from_size_align_unchecked(parts.size, 1));
        }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("value", &self.as_str())
            .field("expire_ms", &self.expire_ms())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_with_every_encoding() {
        let e = Entry::new_string(b"key:1", b"hello");
        assert_eq!(e.key(), b"key:1");
        assert_eq!(e.as_str(), Some(StrRef::Bytes(b"hello")));
        assert_eq!(e.str_encoding(), Some(StrEncoding::Embstr));
        let e = Entry::new_string(b"k", b"12345");
        assert_eq!(e.as_str(), Some(StrRef::Int(12345)));
        assert_eq!(e.str_encoding(), Some(StrEncoding::Int));
        let e = Entry::new_string(b"k", b"012");
        assert_eq!(e.as_str(), Some(StrRef::Bytes(b"012")));
        let long = vec![b'x'; 300];
        let e = Entry::new_string(&long, &long);
        assert_eq!(e.key(), &long[..]);
        assert_eq!(e.as_str(), Some(StrRef::Bytes(&long[..])));
        assert_eq!(e.str_encoding(), Some(StrEncoding::Raw));
    }

    #[test]
    fn expire_and_clock_survive_value_changes() {
        let mut e = Entry::new_string(b"key", b"v");
        e.set_clock(0xabcdef);
        e.set_expire_ms(Some(1234));
        assert_eq!(e.expire_ms(), Some(1234));
        assert_eq!(e.clock(), 0xabcdef);
        e.set_value(NewValue::Str(b"other value"));
        assert_eq!(e.expire_ms(), Some(1234));
        assert_eq!(e.key(), b"key");
        e.set_int(7);
        e.set_int(8);
        assert_eq!(e.as_str(), Some(StrRef::Int(8)));
        e.set_expire_ms(None);
        assert_eq!(e.expire_ms(), None);
        assert_eq!(e.as_str(), Some(StrRef::Int(8)));
        assert_eq!(e.clock(), 0xabcdef);
    }

    #[test]
    fn renaming_keeps_value_ttl_clock_and_encoding() {
        let big = vec![b'x'; INLINE_MAX + 1];
        for value in [&b"hello"[..], b"12", &big[..]] {
            let mut e = Entry::new_string(b"old", value);
            e.set_expire_ms(Some(99));
            e.set_clock(1234);
            let enc = e.str_encoding();
            let r = e.renamed(b"new");
            assert_eq!(r.key(), b"new");
            assert_eq!(r.as_str().map(|s| s.to_vec()), Some(value.to_vec()));
            assert_eq!(
                (r.expire_ms(), r.clock(), r.str_encoding()),
                (Some(99), 1234, enc)
            );
        }
        // Large strings are not stored in the block.
        let e = Entry::new_string(b"k", &big);
        assert_eq!(e.str_encoding(), Some(StrEncoding::Raw));
        assert!(e.memory_usage() > big.len());
    }

    #[test]
    fn heap_strings_grow_in_place() {
        let mut e = Entry::new_string(b"key", b"abc");
        e.set_expire_ms(Some(5));
        e.heap_str_mut().unwrap().extend_from_slice(b"def");
        assert_eq!(e.as_str(), Some(StrRef::Bytes(b"abcdef")));
        assert_eq!(e.str_encoding(), Some(StrEncoding::Raw));
        e.set_expire_ms(Some(6));
        e.set_expire_ms(None);
        assert_eq!(e.as_str(), Some(StrRef::Bytes(b"abcdef")));
        let mut i = Entry::new_string(b"n", b"10");
        i.heap_str_mut().unwrap().push(b'0');
        assert_eq!(i.as_str(), Some(StrRef::Bytes(b"100")));
    }
}
