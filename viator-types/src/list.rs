//! A list (Redis `OBJ_LIST`): a deque of packed nodes, Redis's quicklist.
//!
//! # Layout
//!
//! Elements live in nodes; each node is one byte buffer holding its
//! elements back to back in Redis's listpack entry format (an encoding
//! byte or two, the bytes or a compact integer, then a "backlen" that lets a
//! reader walk backwards). Integer-looking strings (the canonical text of an
//! `i64`) are stored as integers, 1 to 9 bytes, as listpack does. A node's
//! entries plus listpack's 7 bytes of header and terminator are exactly the
//! `lpBytes` Redis would have, so every size decision below is made on the
//! same numbers as Redis's.
//!
//! A node keeps free space at both ends of its buffer: a node filled by
//! pushes at the head grows towards the front, one filled at the tail
//! towards the back, so pushes and pops at either end never move the
//! node's other entries. Buffers are sized to fit, doubling up to the node
//! size limit, so that a list of three short elements costs a few dozen
//! bytes while full nodes of 1M-element lists cost about one byte per byte
//! of entries.
//!
//! # Encodings (OBJECT ENCODING)
//!
//! A list is `listpack` while it is one node within `list-max-listpack-size`
//! and `quicklist` once it grows past it, following Redis 7.2+'s rules
//! exactly (`listTypeTryConversionAppend` before adding,
//! `listTypeTryConversion(..., LIST_CONV_SHRINKING)` after removing): a
//! quicklist turns back into a listpack only when it is down to a single
//! packed node of at most half the limit. In quicklist mode the node
//! structure follows quicklist's own rules (where pushes open new nodes,
//! where LINSERT splits and merges, where elements larger than the node
//! limit get a node of their own, a "plain" node), because whether a list
//! is one node decides when it converts back.
//!
//! # Compression (`list-compress-depth`)
//!
//! A quicklist created while `list-compress-depth` is N > 0 keeps that
//! depth for life, as Redis's `quicklistCreate(fill, compress)` does: the N
//! nodes at each end stay raw (pushes and pops only ever touch those), and
//! every inner node is LZF-compressed when that pays (a node of at least
//! 48 bytes that LZF shrinks by at least 8, Redis's `MIN_COMPRESS_BYTES`
//! and `MIN_COMPRESS_IMPROVE`). A node that did not pay is remembered as
//! tried and left alone until it changes. Operations in the middle (LSET,
//! LINSERT, LREM, LTRIM) decompress the nodes they change and compress
//! them again afterwards; reads (LRANGE, LINDEX, LPOS) decompress a node
//! into a scratch buffer and leave the list as it is, so they need only
//! `&self`. Only structural changes (a node added or removed) cost anything
//! at depth 0 or at the ends: a walk over the N end nodes, as quicklist's
//! `__quicklistCompress`, that makes the nodes which crossed the depth
//! boundary change state.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::listpack::{
    Enc, classify, elem_text_len, entry_len, entry_start_before, read_entry, str_len_of_entry,
    write_entry,
};

/// One element as stored: bytes, or an integer whose text is the element.
pub use crate::listpack::Elem;

/// An end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (LPUSH, LPOP, LEFT).
    Head,
    /// The tail (RPUSH, RPOP, RIGHT).
    Tail,
}

/// Bytes of a listpack besides its entries: a 6-byte header and the end
/// marker.
const LP_OVERHEAD: usize = 7;
/// Largest node, in bytes, for a count-limited fill (quicklist's
/// `SIZE_SAFETY_LIMIT`).
const SIZE_SAFETY_LIMIT: usize = 8192;
/// quicklist's over-estimate of an entry's overhead when deciding whether a
/// push fits in a node.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Node size limits of fills -1 to -5.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// quicklist's fill field is 16 bits, signed.
const FILL_MAX: i64 = (1 << 15) - 1;
/// Nodes smaller than this (quicklist's `sz`) are never compressed
/// (`MIN_COMPRESS_BYTES`).
const MIN_COMPRESS_BYTES: usize = 48;
/// Compression must save at least this many bytes to be kept
/// (`MIN_COMPRESS_IMPROVE`).
const MIN_COMPRESS_IMPROVE: usize = 8;
/// Largest compress depth: quicklist's field is 16 bits (`COMPRESS_MAX`).
const COMPRESS_MAX: i64 = (1 << 16) - 1;

/// Elements at least this long get a node of their own, for tests (DEBUG
/// QUICKLIST-PACKED-THRESHOLD); 0 means "use the fill-based rule".
static PACKED_THRESHOLD: AtomicUsize = AtomicUsize::new(0);

/// Sets the size from which elements get a plain node of their own (Redis's
/// `quicklistSetPackedThreshold`, behind DEBUG QUICKLIST-PACKED-THRESHOLD);
/// 0 restores the default rule (larger than the node limit). Returns false,
/// changing nothing, for sizes at or past 4 GiB minus 1 MiB, as Redis.
pub fn set_packed_threshold(sz: usize) -> bool {
    if sz as u64 > (1u64 << 32) - (1 << 20) {
        return false;
    }
    PACKED_THRESHOLD.store(sz, Ordering::Relaxed);
    true
}

/// The byte and count limits of a node for a fill (`quicklistNodeLimit`).
fn node_limit(fill: i64) -> (usize, usize) {
    if fill >= 0 {
        (usize::MAX, if fill == 0 { 1 } else { fill as usize })
    } else {
        (neg_fill_limit(fill), usize::MAX)
    }
}

fn neg_fill_limit(fill: i64) -> usize {
    let offset = ((-(fill as i128)) - 1).clamp(0, 4) as usize;
    OPTIMIZATION_LEVEL[offset]
}

/// `quicklistNodeExceedsLimit`.
fn exceeds_limit(fill: i64, new_sz: usize, new_count: usize) -> bool {
    let (sz_limit, count_limit) = node_limit(fill);
    if sz_limit != usize::MAX {
        new_sz > sz_limit
    } else {
        new_sz > SIZE_SAFETY_LIMIT || new_count > count_limit
    }
}

/// Whether an element of `sz` bytes gets a plain node (`isLargeElement`).
fn is_large(sz: usize, fill: i64) -> bool {
    let t = PACKED_THRESHOLD.load(Ordering::Relaxed);
    if t != 0 {
        sz >= t
    } else if fill >= 0 {
        sz > SIZE_SAFETY_LIMIT
    } else {
        sz > neg_fill_limit(fill)
    }
}

/// The capacity a node's buffer grows to by doubling before it is sized
/// exactly: the node limit in bytes.
fn cap_hint(fill: i64) -> usize {
    match node_limit(fill) {
        (usize::MAX, _) => SIZE_SAFETY_LIMIT,
        (sz, _) => sz,
    }
}

// ---------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------

/// A node's compression state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lzf {
    /// Entries uncompressed in `buf[start..end]`.
    Raw,
    /// Uncompressed, and compressing these very entries did not pay: not
    /// tried again until the node is made raw to be changed.
    Tried,
    /// `buf` (all of it) is the LZF form of `raw` bytes of entries (32
    /// bits keep the node small; larger nodes are not compressed).
    Packed { raw: u32 },
}

/// A node: entries in `buf[start..end]`, free space around them, or, when
/// compressed, their LZF form in `buf`.
#[derive(Clone)]
struct Node {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    count: u32,
    /// A quicklist "plain" node: one element too large for a packed node.
    plain: bool,
    lzf: Lzf,
}

/// A node's entries laid out for reading: the node's own buffer, or its
/// decompressed copy.
struct View<'b> {
    buf: &'b [u8],
    start: usize,
    end: usize,
    count: usize,
}

impl View<'_> {
    /// Byte position of the entry at `offset` (0-based from the node's
    /// head), walking from whichever end is closer.
    fn pos_of(&self, offset: usize) -> usize {
        if offset <= self.count / 2 {
            let mut p = self.start;
            for _ in 0..offset {
                p += read_entry(self.buf, p).1;
            }
            p
        } else {
            let mut q = self.end;
            for _ in 0..self.count - offset {
                q = entry_start_before(self.buf, q);
            }
            q
        }
    }
}

/// Decompresses `raw` bytes of entries. Only data this module compressed
/// is ever given, so a failure is a bug, not a client's doing.
fn inflate(z: &[u8], raw: usize) -> Vec<u8> {
    match lzf::decompress(z, raw) {
        Ok(v) if v.len() == raw => v,
        _ => unreachable!("a list node's LZF data does not decompress"),
    }
}

impl Node {
    fn new(e: Enc<'_>, plain: bool) -> Node {
        let n = entry_len(e);
        let mut buf = vec![0u8; n].into_boxed_slice();
        write_entry(&mut buf, e);
        Node {
            buf,
            start: 0,
            end: n,
            count: 1,
            plain,
            lzf: Lzf::Raw,
        }
    }

    fn bytes(&self) -> usize {
        self.end - self.start
    }

    fn count(&self) -> usize {
        self.count as usize
    }

    /// quicklist's `node->sz`: `lpBytes` for a packed node, the element's
    /// length for a plain one (compressed or not).
    fn sz(&self) -> usize {
        if let Lzf::Packed { raw } = self.lzf {
            let raw = raw as usize;
            // A compressed plain node holds a string: integers are too
            // short to be compressed.
            return if self.plain {
                str_len_of_entry(raw)
            } else {
                raw + LP_OVERHEAD
            };
        }
        if self.plain {
            let (e, _) = read_entry(&self.buf, self.start);
            elem_text_len(e)
        } else {
            self.bytes() + LP_OVERHEAD
        }
    }

    fn is_compressed(&self) -> bool {
        matches!(self.lzf, Lzf::Packed { .. })
    }

    /// Its entries for reading, decompressed into `scratch` if need be.
    fn view<'b>(&'b self, scratch: &'b mut Vec<u8>) -> View<'b> {
        match self.lzf {
            Lzf::Packed { raw } => {
                let raw = raw as usize;
                *scratch = inflate(&self.buf, raw);
                View {
                    buf: scratch,
                    start: 0,
                    end: raw,
                    count: self.count(),
                }
            }
            _ => self.raw_view(),
        }
    }

    /// Its entries, which must be uncompressed.
    fn raw_view(&self) -> View<'_> {
        debug_assert!(!self.is_compressed());
        View {
            buf: &self.buf,
            start: self.start,
            end: self.end,
            count: self.count(),
        }
    }

    /// Tries to compress it (`__quicklistCompressNode`): kept only for a
    /// node of at least `MIN_COMPRESS_BYTES` that LZF shrinks by at least
    /// `MIN_COMPRESS_IMPROVE`. Either way the attempt is remembered.
    fn compress(&mut self) {
        if self.lzf != Lzf::Raw {
            return;
        }
        self.lzf = Lzf::Tried;
        let sz = self.sz();
        if sz < MIN_COMPRESS_BYTES {
            return;
        }
        let raw = &self.buf[self.start..self.end];
        let Ok(raw_len) = u32::try_from(raw.len()) else {
            return;
        };
        // lzf refuses input it cannot shrink: the node stays raw.
        if let Ok(z) = lzf::compress(raw)
            && z.len() + MIN_COMPRESS_IMPROVE < raw.len()
        {
            self.buf = z.into_boxed_slice();
            self.start = 0;
            self.end = self.buf.len();
            self.lzf = Lzf::Packed { raw: raw_len };
        }
    }

    /// Makes it uncompressed and changeable (forgetting a failed attempt,
    /// since it is about to change). Returns whether it was compressed.
    fn make_raw(&mut self) -> bool {
        match self.lzf {
            Lzf::Raw => false,
            Lzf::Tried => {
                self.lzf = Lzf::Raw;
                false
            }
            Lzf::Packed { raw } => {
                let raw = raw as usize;
                self.buf = inflate(&self.buf, raw).into_boxed_slice();
                self.start = 0;
                self.end = raw;
                self.lzf = Lzf::Raw;
                true
            }
        }
    }

    /// Makes room for `n` more bytes at the front (`back` false) or back.
    fn make_room(&mut self, n: usize, back: bool, hint: usize) {
        debug_assert_eq!(self.lzf, Lzf::Raw);
        let cap = self.buf.len();
        let len = self.bytes();
        if (back && cap - self.end >= n) || (!back && self.start >= n) {
            return;
        }
        let free = cap - len;
        if free >= n {
            // Enough room overall: move the entries, splitting what is
            // left over between the two ends.
            let other = (free - n) / 2;
            let new_start = if back { other } else { free - other };
            self.buf.copy_within(self.start..self.end, new_start);
            self.start = new_start;
            self.end = new_start + len;
            return;
        }
        let need = len + n;
        let new_cap = cap.saturating_mul(2).min(hint).max(need);
        let old_other = if back { self.start } else { cap - self.end };
        let other = old_other.min(new_cap - need);
        let new_start = if back { other } else { new_cap - len - other };
        let mut buf = vec![0u8; new_cap].into_boxed_slice();
        buf[new_start..new_start + len].copy_from_slice(&self.buf[self.start..self.end]);
        self.buf = buf;
        self.start = new_start;
        self.end = new_start + len;
    }

    /// Gives back memory when the entries use under a quarter of it.
    fn maybe_shrink(&mut self) {
        debug_assert_eq!(self.lzf, Lzf::Raw);
        let cap = self.buf.len();
        let len = self.bytes();
        if cap > 64 && len * 4 < cap {
            let new_cap = (len * 2).max(16);
            let new_start = (new_cap - len) / 2;
            let mut buf = vec![0u8; new_cap].into_boxed_slice();
            buf[new_start..new_start + len].copy_from_slice(&self.buf[self.start..self.end]);
            self.buf = buf;
            self.start = new_start;
            self.end = new_start + len;
        }
    }

    fn push(&mut self, e: Enc<'_>, end: End, hint: usize) {
        let n = entry_len(e);
        match end {
            End::Head => {
                self.make_room(n, false, hint);
                self.start -= n;
                write_entry(&mut self.buf[self.start..self.start + n], e);
            }
            End::Tail => {
                self.make_room(n, true, hint);
                write_entry(&mut self.buf[self.end..self.end + n], e);
                self.end += n;
            }
        }
        self.count += 1;
    }

    /// Replaces bytes `a..b` (inside the entries) with `m` bytes written by
    /// `fill`, moving whichever side of the gap is shorter.
    fn splice(&mut self, a: usize, b: usize, m: usize, hint: usize, fill: impl FnOnce(&mut [u8])) {
        debug_assert_eq!(self.lzf, Lzf::Raw);
        let old = b - a;
        if m > old {
            let d = m - old;
            let front_len = a - self.start;
            let back_len = self.end - b;
            let front_ok = self.start >= d;
            let back_ok = self.buf.len() - self.end >= d;
            let (a, b) = if front_ok && (front_len <= back_len || !back_ok) {
                self.buf.copy_within(self.start..a, self.start - d);
                self.start -= d;
                (a - d, b)
            } else if back_ok {
                self.buf.copy_within(b..self.end, b + d);
                self.end += d;
                (a, b + d)
            } else {
                // Grow at the back, keeping positions relative to start.
                let (ra, rb) = (a - self.start, b - self.start);
                self.make_room(d, true, hint);
                let (a, b) = (self.start + ra, self.start + rb);
                self.buf.copy_within(b..self.end, b + d);
                self.end += d;
                (a, b + d)
            };
            fill(&mut self.buf[a..a + m]);
            let _ = b;
        } else {
            let d = old - m;
            if a - self.start <= self.end - b {
                // Shift the front part right.
                self.buf.copy_within(self.start..a, self.start + d);
                self.start += d;
                let a = a + d;
                fill(&mut self.buf[a..a + m]);
            } else {
                self.buf.copy_within(b..self.end, b - d);
                self.end -= d;
                fill(&mut self.buf[a..a + m]);
            }
        }
    }

    /// Byte position of the entry at `offset` in an uncompressed node.
    fn pos_of(&self, offset: usize) -> usize {
        self.raw_view().pos_of(offset)
    }

    fn entry_at(&self, p: usize) -> (Elem<'_>, usize) {
        read_entry(&self.buf, p)
    }

    /// Removes `n` entries starting at entry position `p`.
    fn delete_entries(&mut self, p: usize, n: usize) {
        let mut q = p;
        for _ in 0..n {
            q += read_entry(&self.buf, q).1;
        }
        self.splice(p, q, 0, 0, |_| {});
        self.count -= n as u32;
    }

    /// Splits off entries: with `after`, the returned node takes those
    /// after `offset` and this node keeps `0..=offset`; without, the
    /// returned node takes those before `offset` and this node keeps
    /// `offset..` (`_quicklistSplitNode`).
    fn split(&mut self, offset: usize, after: bool) -> Node {
        debug_assert_eq!(self.lzf, Lzf::Raw);
        let cut_at = if after { offset + 1 } else { offset };
        let p = self.pos_of(cut_at);
        let (left, right) = (&self.buf[self.start..p], &self.buf[p..self.end]);
        let taken = if after { right } else { left };
        let new = Node {
            buf: taken.to_vec().into_boxed_slice(),
            start: 0,
            end: taken.len(),
            count: if after {
                self.count - cut_at as u32
            } else {
                cut_at as u32
            },
            plain: false,
            lzf: Lzf::Raw,
        };
        if after {
            self.end = p;
        } else {
            self.start = p;
        }
        self.count -= new.count;
        self.maybe_shrink();
        new
    }

    /// Appends the entries of `other` (which follows this node).
    fn append_node(&mut self, other: &Node, hint: usize) {
        debug_assert_eq!(other.lzf, Lzf::Raw);
        let n = other.bytes();
        self.make_room(n, true, hint);
        self.buf[self.end..self.end + n].copy_from_slice(&other.buf[other.start..other.end]);
        self.end += n;
        self.count += other.count;
    }

    fn capacity(&self) -> usize {
        self.buf.len()
    }
}

// ---------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------

/// A list (Redis `OBJ_LIST`). See the module docs.
#[derive(Clone, Default)]
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
    /// Whether the encoding is `quicklist` (else `listpack`: at most one
    /// node).
    quicklist: bool,
    /// The quicklist's fill, fixed when it became a quicklist (Redis sets
    /// it at creation: a later CONFIG SET does not change it).
    fill: i32,
    /// The quicklist's compress depth, fixed likewise; 0: no compression.
    compress: u16,
}

impl std::fmt::Debug for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("List")
            .field("len", &self.len)
            .field("encoding", &self.encoding_name())
            .field("nodes", &self.nodes.len())
            .field("compress", &self.compress)
            .finish()
    }
}

/// An element to look for (LREM, LPOS, LINSERT's pivot), compared as
/// listpack's `lpCompare` does: an integer entry matches the canonical
/// text of its value.
#[derive(Debug, Clone, Copy)]
pub struct Needle<'a> {
    bytes: &'a [u8],
    int: Option<i64>,
}

impl<'a> Needle<'a> {
    /// A needle for `bytes`.
    pub fn new(bytes: &'a [u8]) -> Needle<'a> {
        let int = match classify(bytes) {
            Enc::Int(n) => Some(n),
            Enc::Str(_) => None,
        };
        Needle { bytes, int }
    }

    /// Whether an element equals the needle.
    pub fn matches(&self, e: Elem<'_>) -> bool {
        match e {
            Elem::Bytes(b) => self.int.is_none() && b == self.bytes,
            Elem::Int(n) => self.int == Some(n),
        }
    }
}

impl List {
    /// An empty list (`listpack` encoded). A key never holds one empty:
    /// callers push at once.
    pub fn new() -> List {
        List::default()
    }

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
        if self.quicklist {
            "quicklist"
        } else {
            "listpack"
        }
    }

    /// Whether it is encoded as a quicklist.
    pub fn is_quicklist(&self) -> bool {
        self.quicklist
    }

    /// Number of nodes (1 for a non-empty listpack), for DEBUG and tests.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The quicklist's fill, set when it became one (DEBUG OBJECT's
    /// `ql_listpack_max`).
    pub fn quicklist_fill(&self) -> i32 {
        self.fill
    }

    /// The quicklist's compress depth, set when it became one (0: none).
    pub fn compress_depth(&self) -> u16 {
        self.compress
    }

    /// The sum of its nodes' uncompressed sizes as quicklist counts them
    /// (listpack bytes, a plain node's element length): DEBUG OBJECT's
    /// `ql_uncompressed_size`.
    pub fn uncompressed_size(&self) -> usize {
        self.nodes.iter().map(Node::sz).sum()
    }

    /// How many of its nodes are compressed, for DEBUG and tests.
    pub fn compressed_nodes(&self) -> usize {
        self.nodes.iter().filter(|n| n.is_compressed()).count()
    }

    /// Bytes of memory it uses, for MEMORY USAGE.
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(Node::capacity).sum::<usize>()
    }

    /// Calls `f` with its elements from head to tail.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        self.visit(0, false, |e| {
            e.with_bytes(&mut f);
            true
        });
    }

    /// Calls `f` with its elements from position `from` (0-based; nothing
    /// happens past the end) towards the tail or, with `reverse`, towards
    /// the head, until `f` returns false or the list ends. Compressed nodes
    /// are decompressed into a scratch buffer, the list is left as it is.
    pub fn visit(&self, from: usize, reverse: bool, mut f: impl FnMut(Elem<'_>) -> bool) {
        if from >= self.len {
            return;
        }
        let (mut ni, off) = self.locate(from);
        let mut first = Some(off);
        let mut scratch = Vec::new();
        while let Some(node) = self.nodes.get(ni) {
            let v = node.view(&mut scratch);
            if reverse {
                let mut q = match first.take() {
                    Some(o) => {
                        let p = v.pos_of(o);
                        p + read_entry(v.buf, p).1
                    }
                    None => v.end,
                };
                while q > v.start {
                    let p = entry_start_before(v.buf, q);
                    if !f(read_entry(v.buf, p).0) {
                        return;
                    }
                    q = p;
                }
                let Some(prev) = ni.checked_sub(1) else {
                    return;
                };
                ni = prev;
            } else {
                let mut p = first.take().map_or(v.start, |o| v.pos_of(o));
                while p < v.end {
                    let (e, n) = read_entry(v.buf, p);
                    if !f(e) {
                        return;
                    }
                    p += n;
                }
                ni += 1;
            }
        }
    }

    /// The node and the offset in it of element `index` (< len), counting
    /// from whichever end of the list is closer.
    fn locate(&self, index: usize) -> (usize, usize) {
        if index < self.len / 2 {
            let mut i = index;
            for (ni, n) in self.nodes.iter().enumerate() {
                if i < n.count() {
                    return (ni, i);
                }
                i -= n.count();
            }
        } else {
            let mut from_tail = self.len - 1 - index;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                if from_tail < n.count() {
                    return (ni, n.count() - 1 - from_tail);
                }
                from_tail -= n.count();
            }
        }
        unreachable!("index {index} inside a list of {}", self.len)
    }

    /// A Redis index (negative counts from the tail) as a position, if it
    /// is inside the list.
    pub fn resolve_index(&self, index: i64) -> Option<usize> {
        let len = self.len as i64;
        let i = if index < 0 {
            index.checked_add(len)?
        } else {
            index
        };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// Calls `f` with the element at a Redis index (negative counts from
    /// the tail), LINDEX; `None` if the index is out of range.
    pub fn get_with<R>(&self, index: i64, f: impl FnOnce(Elem<'_>) -> R) -> Option<R> {
        let i = self.resolve_index(index)?;
        let (ni, off) = self.locate(i);
        let mut scratch = Vec::new();
        let v = self.nodes[ni].view(&mut scratch);
        Some(f(read_entry(v.buf, v.pos_of(off)).0))
    }

    /// The element at a Redis index, copied.
    pub fn get(&self, index: i64) -> Option<Vec<u8>> {
        self.get_with(index, |e| e.to_vec())
    }

    fn hint(&self, fill_setting: i64) -> usize {
        if self.quicklist {
            cap_hint(i64::from(self.fill))
        } else {
            cap_hint(fill_setting)
        }
    }

    /// Before adding elements of `add_bytes` bytes in all (`add_count` of
    /// them), converts a listpack that would pass the limit `fill` (the
    /// current `list-max-listpack-size`) to a quicklist, as Redis's
    /// `listTypeTryConversionAppend`; the quicklist keeps `fill` and
    /// `compress` (the current `list-compress-depth`) for life.
    pub fn grow_check(&mut self, fill: i64, compress: i64, add_bytes: usize, add_count: usize) {
        if self.quicklist {
            return;
        }
        let lp_bytes = self.nodes.front().map_or(0, Node::bytes) + LP_OVERHEAD;
        if exceeds_limit(
            fill,
            lp_bytes.saturating_add(add_bytes),
            self.len.saturating_add(add_count),
        ) {
            self.make_quicklist(fill, compress);
        }
    }

    fn make_quicklist(&mut self, fill: i64, compress: i64) {
        self.quicklist = true;
        self.fill = fill.clamp(-5, FILL_MAX) as i32;
        self.compress = compress.clamp(0, COMPRESS_MAX) as u16;
        if self.len == 0 {
            self.nodes.clear();
        }
    }

    /// After removing elements, converts a quicklist that is down to one
    /// packed node of at most half the limit back to a listpack (Redis's
    /// `listTypeTryConversion(o, LIST_CONV_SHRINKING)`).
    pub fn shrink_check(&mut self, fill: i64) {
        self.try_to_listpack(fill, true);
    }

    /// Picks the encoding of a list just built (Redis's
    /// `listTypeTryConversion(o, LIST_CONV_AUTO)`, for SORT STORE and
    /// loading): a listpack past the limit becomes a quicklist, a one-node
    /// quicklist within the limit a listpack.
    pub fn auto_convert(&mut self, fill: i64, compress: i64) {
        if self.quicklist {
            self.try_to_listpack(fill, false);
        } else {
            self.grow_check(fill, compress, 0, 0);
        }
    }

    fn try_to_listpack(&mut self, fill: i64, shrinking: bool) {
        if !self.quicklist || self.nodes.len() != 1 || self.nodes[0].plain {
            return;
        }
        let (mut sz_limit, mut count_limit) = node_limit(fill);
        if shrinking {
            sz_limit /= 2;
            count_limit /= 2;
        }
        let n = &self.nodes[0];
        if n.sz() > sz_limit || n.count() > count_limit {
            return;
        }
        self.quicklist = false;
    }

    /// Adds an element at an end, without any encoding conversion (call
    /// [`List::grow_check`] first with the sizes of all the elements about
    /// to be pushed). `fill` is the current `list-max-listpack-size`.
    pub fn push(&mut self, value: &[u8], end: End, fill: i64) {
        let e = classify(value);
        let hint = self.hint(fill);
        self.len += 1;
        if !self.quicklist {
            match self.nodes.front_mut() {
                Some(n) => n.push(e, end, hint),
                None => self.nodes.push_back(Node::new(e, false)),
            }
            return;
        }
        let qfill = i64::from(self.fill);
        let sz = value.len();
        let large = is_large(sz, qfill);
        let target = match end {
            End::Head => self.nodes.front_mut(),
            End::Tail => self.nodes.back_mut(),
        };
        match target {
            // The end nodes are never compressed.
            Some(n) if !large && allow_insert(n, qfill, sz) => n.push(e, end, hint),
            _ => {
                let node = Node::new(e, large);
                match end {
                    End::Head => self.nodes.push_front(node),
                    End::Tail => self.nodes.push_back(node),
                }
                self.settle(0..0, 1);
            }
        }
    }

    /// Restores the compression layout after a change (Redis's
    /// `__quicklistCompress` walk, from our side): the nodes within the
    /// depth of either end are made raw, and inner nodes that may be raw
    /// are compressed: those in `touched` and, when the change added
    /// `added` nodes, those that were pushed out across the depth boundary.
    /// Every other inner node is already compressed or known not to pay.
    fn settle(&mut self, touched: std::ops::Range<usize>, added: usize) {
        let d = usize::from(self.compress);
        if d == 0 || !self.quicklist {
            return;
        }
        let n = self.nodes.len();
        let head_end = d.min(n);
        let tail_start = n.saturating_sub(d).max(head_end);
        for i in (0..head_end).chain(tail_start..n) {
            self.nodes[i].make_raw();
        }
        let inner = |r: std::ops::Range<usize>| r.start.max(head_end)..r.end.min(tail_start);
        for r in [
            touched,
            head_end..head_end.saturating_add(added),
            tail_start.saturating_sub(added)..tail_start,
        ] {
            for i in inner(r) {
                self.nodes[i].compress();
            }
        }
    }

    /// Removes the element at an end, calling `f` with it first. Returns
    /// false if the list is empty. No encoding conversion.
    pub fn pop_with(&mut self, end: End, f: impl FnOnce(Elem<'_>)) -> bool {
        let ni = match end {
            End::Head => 0,
            End::Tail => match self.nodes.len() {
                0 => return false,
                n => n - 1,
            },
        };
        let Some(node) = self.nodes.get_mut(ni) else {
            return false;
        };
        debug_assert_eq!(node.lzf, Lzf::Raw, "end nodes are never compressed");
        let p = match end {
            End::Head => node.start,
            End::Tail => entry_start_before(&node.buf, node.end),
        };
        let (e, n) = node.entry_at(p);
        f(e);
        match end {
            End::Head => node.start += n,
            End::Tail => node.end -= n,
        }
        node.count -= 1;
        self.len -= 1;
        if node.count == 0 {
            self.nodes.remove(ni);
            self.settle(0..0, 0);
        } else if node.bytes() * 4 < node.capacity() {
            node.maybe_shrink();
        }
        true
    }

    /// Removes and returns the element at an end.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        let mut out = None;
        self.pop_with(end, |e| out = Some(e.to_vec()));
        out
    }

    /// Removes `count` elements from position `start` on (clamped to the
    /// list), as quicklist's `quicklistDelRange`: nodes left empty go,
    /// nothing is merged. No encoding conversion.
    pub fn delete_range(&mut self, start: usize, count: usize) {
        let count = count.min(self.len.saturating_sub(start));
        if count == 0 {
            return;
        }
        let (mut ni, mut off) = self.locate(start);
        let first = ni;
        let mut left = count;
        while left > 0 {
            let node = &mut self.nodes[ni];
            let n = left.min(node.count() - off);
            if off == 0 && n == node.count() {
                self.nodes.remove(ni);
            } else {
                node.make_raw();
                let p = node.pos_of(off);
                node.delete_entries(p, n);
                node.maybe_shrink();
                ni += 1;
            }
            left -= n;
            self.len -= n;
            off = 0;
        }
        // The nodes cut short are now at `first` and maybe `first + 1`.
        self.settle(first..first + 2, 0);
    }

    /// Replaces the element at a Redis index (LSET), following quicklist's
    /// `quicklistReplaceEntry`. Returns false if the index is out of range.
    /// No encoding conversion (call [`List::grow_check`] before and
    /// [`List::shrink_check`] after, as Redis does).
    pub fn set(&mut self, index: i64, value: &[u8], fill: i64) -> bool {
        let Some(i) = self.resolve_index(index) else {
            return false;
        };
        let (ni, off) = self.locate(i);
        let before = self.nodes.len();
        self.nodes[ni].make_raw();
        self.replace_at(ni, off, value, fill);
        let added = self.nodes.len().saturating_sub(before);
        self.settle(ni.saturating_sub(2)..ni + 4 + added, added);
        true
    }

    /// [`List::set`] on entry `off` of node `ni`, which is uncompressed.
    fn replace_at(&mut self, ni: usize, off: usize, value: &[u8], fill: i64) {
        let e = classify(value);
        let hint = self.hint(fill);
        let qfill = i64::from(self.fill);
        let sz = value.len();
        let large = self.quicklist && is_large(sz, qfill);
        let node = &mut self.nodes[ni];
        if !self.quicklist || (!node.plain && !large) {
            let p = node.pos_of(off);
            let old = node.entry_at(p).1;
            node.splice(p, p + old, entry_len(e), hint, |out| write_entry(out, e));
            return;
        }
        if node.plain {
            if large {
                *node = Node::new(e, true);
            } else {
                self.insert_at(ni, 0, value, true, hint);
                // The plain node is still at `ni`: insertion after it never
                // puts a node before it.
                self.remove_node(ni);
            }
            return;
        }
        // A packed node and a large element: the element gets a plain node
        // of its own right after the old one's position.
        let count = node.count();
        let split = (off != count - 1).then(|| node.split(off, true));
        self.nodes.insert(ni + 1, Node::new(e, true));
        self.len += 1;
        if let Some(s) = split {
            self.nodes.insert(ni + 2, s);
        }
        // Delete the replaced element, now the last of node `ni`.
        if self.nodes[ni].count() == 1 {
            self.remove_node(ni);
        } else {
            let node = &mut self.nodes[ni];
            let p = entry_start_before(&node.buf, node.end);
            node.delete_entries(p, 1);
            self.len -= 1;
            self.merge_around(ni + 1, hint);
        }
    }

    fn remove_node(&mut self, ni: usize) {
        if let Some(n) = self.nodes.remove(ni) {
            self.len -= n.count();
        }
    }

    /// Inserts `value` before or after the first element equal to `pivot`
    /// (LINSERT), following quicklist's `_quicklistInsert`. Returns false
    /// if there is no such element. No encoding conversion (call
    /// [`List::grow_check`] first).
    pub fn insert(&mut self, pivot: &Needle<'_>, value: &[u8], after: bool, fill: i64) -> bool {
        let mut found = None;
        let mut scratch = Vec::new();
        'outer: for (ni, node) in self.nodes.iter().enumerate() {
            let v = node.view(&mut scratch);
            let mut p = v.start;
            let mut off = 0;
            while p < v.end {
                let (e, n) = read_entry(v.buf, p);
                if pivot.matches(e) {
                    found = Some((ni, off));
                    break 'outer;
                }
                p += n;
                off += 1;
            }
        }
        let Some((ni, off)) = found else {
            return false;
        };
        let hint = self.hint(fill);
        self.insert_at(ni, off, value, after, hint);
        true
    }

    /// Inserts next to entry `off` of node `ni`.
    fn insert_at(&mut self, ni: usize, off: usize, value: &[u8], after: bool, hint: usize) {
        let before = self.nodes.len();
        self.nodes[ni].make_raw();
        self.insert_nodes(ni, off, value, after, hint);
        let added = self.nodes.len().saturating_sub(before);
        self.settle(ni.saturating_sub(2)..ni + 4 + added, added);
    }

    /// [`List::insert_at`] with node `ni` uncompressed.
    fn insert_nodes(&mut self, ni: usize, off: usize, value: &[u8], after: bool, hint: usize) {
        let e = classify(value);
        self.len += 1;
        if !self.quicklist {
            let node = &mut self.nodes[ni];
            let mut p = node.pos_of(off);
            if after {
                p += node.entry_at(p).1;
            }
            let n = entry_len(e);
            node.splice(p, p, n, hint, |out| write_entry(out, e));
            node.count += 1;
            return;
        }
        let fill = i64::from(self.fill);
        let sz = value.len();
        let node = &self.nodes[ni];
        let count = node.count();
        let full = !allow_insert(node, fill, sz);
        let at_tail = after && off == count - 1;
        let at_head = !after && off == 0;
        let avail_next = at_tail
            && self
                .nodes
                .get(ni + 1)
                .is_some_and(|n| allow_insert(n, fill, sz));
        let avail_prev = at_head && ni > 0 && allow_insert(&self.nodes[ni - 1], fill, sz);
        if is_large(sz, fill) {
            let plain = Node::new(e, true);
            if node.plain || at_tail || at_head {
                self.nodes.insert(if after { ni + 1 } else { ni }, plain);
            } else {
                let new = self.nodes[ni].split(off, after);
                if after {
                    self.nodes.insert(ni + 1, plain);
                    self.nodes.insert(ni + 2, new);
                } else {
                    self.nodes.insert(ni, plain);
                    self.nodes.insert(ni, new);
                }
            }
            return;
        }
        if !full {
            let node = &mut self.nodes[ni];
            let mut p = node.pos_of(off);
            if after {
                p += node.entry_at(p).1;
            }
            node.splice(p, p, entry_len(e), hint, |out| write_entry(out, e));
            node.count += 1;
        } else if at_tail && avail_next {
            let next = &mut self.nodes[ni + 1];
            next.make_raw();
            next.push(e, End::Head, hint);
        } else if at_head && avail_prev {
            let prev = &mut self.nodes[ni - 1];
            prev.make_raw();
            prev.push(e, End::Tail, hint);
        } else if at_tail || at_head {
            let at = if after { ni + 1 } else { ni };
            self.nodes.insert(at, Node::new(e, false));
        } else {
            let mut new = self.nodes[ni].split(off, after);
            let center = if after {
                new.push(e, End::Head, hint);
                self.nodes.insert(ni + 1, new);
                ni
            } else {
                new.push(e, End::Tail, hint);
                self.nodes.insert(ni, new);
                ni + 1
            };
            self.merge_around(center, hint);
        }
    }

    /// `_quicklistMergeNodes`: tries to merge the two nodes before
    /// `center`, the two after it, then `center` with its neighbours.
    /// Returns the index of the node that holds `center`'s entries.
    fn merge_around(&mut self, center: usize, hint: usize) -> usize {
        let fill = i64::from(self.fill);
        let mut c = center;
        if c >= 2 && allow_merge(&self.nodes[c - 2], &self.nodes[c - 1], fill) {
            self.merge(c - 2, hint);
            c -= 1;
        }
        if c + 2 < self.nodes.len() && allow_merge(&self.nodes[c + 1], &self.nodes[c + 2], fill) {
            self.merge(c + 1, hint);
        }
        let mut target = c;
        if c >= 1 && allow_merge(&self.nodes[c - 1], &self.nodes[c], fill) {
            self.merge(c - 1, hint);
            target = c - 1;
        }
        if target + 1 < self.nodes.len()
            && allow_merge(&self.nodes[target], &self.nodes[target + 1], fill)
        {
            self.merge(target, hint);
        }
        target
    }

    /// Merges node `i + 1` into node `i`.
    fn merge(&mut self, i: usize, hint: usize) {
        if let Some(mut b) = self.nodes.remove(i + 1) {
            b.make_raw();
            let a = &mut self.nodes[i];
            a.make_raw();
            a.append_node(&b, hint);
        }
    }

    /// Removes up to `limit` elements equal to `needle` (0: all), from the
    /// head or, with `from_tail`, from the tail (LREM). Returns how many
    /// went. No encoding conversion.
    pub fn remove_matching(&mut self, needle: &Needle<'_>, limit: usize, from_tail: bool) -> usize {
        let mut removed = 0;
        let n = self.nodes.len();
        let order: Box<dyn Iterator<Item = usize>> = if from_tail {
            Box::new((0..n).rev())
        } else {
            Box::new(0..n)
        };
        let mut emptied = Vec::new();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        let mut scratch = Vec::new();
        // Inner nodes (outside the compress depth) are compressed again
        // once changed; removals only ever move nodes towards the ends.
        let d = if self.quicklist {
            usize::from(self.compress)
        } else {
            0
        };
        let inner = d.min(n)..n.saturating_sub(d);
        for ni in order {
            if limit != 0 && removed == limit {
                break;
            }
            spans.clear();
            // Positions found in a decompressed copy are the same in the
            // node once decompressed: both start at 0.
            let v = self.nodes[ni].view(&mut scratch);
            if from_tail {
                let mut q = v.end;
                while q > v.start && (limit == 0 || removed + spans.len() < limit) {
                    let p = entry_start_before(v.buf, q);
                    if needle.matches(read_entry(v.buf, p).0) {
                        spans.push((p, q));
                    }
                    q = p;
                }
                spans.reverse();
            } else {
                let mut p = v.start;
                while p < v.end && (limit == 0 || removed + spans.len() < limit) {
                    let (e, sz) = read_entry(v.buf, p);
                    if needle.matches(e) {
                        spans.push((p, p + sz));
                    }
                    p += sz;
                }
            }
            if spans.is_empty() {
                continue;
            }
            let node = &mut self.nodes[ni];
            node.make_raw();
            // Compact: move the kept runs left over the removed spans.
            let mut w = spans[0].0;
            for (k, &(_, b)) in spans.iter().enumerate() {
                let next = spans.get(k + 1).map_or(node.end, |s| s.0);
                node.buf.copy_within(b..next, w);
                w += next - b;
            }
            node.end = w;
            node.count -= spans.len() as u32;
            removed += spans.len();
            self.len -= spans.len();
            if node.count == 0 {
                emptied.push(ni);
            } else {
                node.maybe_shrink();
                if d != 0 && inner.contains(&ni) {
                    node.compress();
                }
            }
        }
        emptied.sort_unstable();
        let gone = !emptied.is_empty();
        for ni in emptied.into_iter().rev() {
            self.nodes.remove(ni);
        }
        if gone {
            self.settle(0..0, 0);
        }
        removed
    }
}

/// `_quicklistNodeAllowInsert`.
fn allow_insert(node: &Node, fill: i64, sz: usize) -> bool {
    if node.plain || is_large(sz, fill) {
        return false;
    }
    let new_sz = node.sz() + sz + SIZE_ESTIMATE_OVERHEAD;
    !exceeds_limit(fill, new_sz, node.count() + 1)
}

/// `_quicklistNodeAllowMerge`.
fn allow_merge(a: &Node, b: &Node, fill: i64) -> bool {
    if a.plain || b.plain {
        return false;
    }
    let merge_sz = a.sz() + b.sz() - LP_OVERHEAD;
    !exceeds_limit(fill, merge_sz, a.count() + b.count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque as Model;

    fn contents(l: &List) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        l.for_each(|b| out.push(b.to_vec()));
        out
    }

    /// Elements from `from` on, towards the tail or the head.
    fn walk(l: &List, from: usize, reverse: bool) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        l.visit(from, reverse, |e| {
            out.push(e.to_vec());
            true
        });
        out
    }

    fn check(l: &List, m: &Model<Vec<u8>>) {
        let want: Vec<Vec<u8>> = m.iter().cloned().collect();
        assert_eq!(contents(l), want);
        if !want.is_empty() {
            let mut rev = walk(l, want.len() - 1, true);
            rev.reverse();
            assert_eq!(rev, want);
        }
        assert_eq!(l.len(), m.len());
        assert_eq!(l.nodes.iter().map(Node::count).sum::<usize>(), l.len());
        assert!(l.nodes.iter().all(|n| n.count > 0), "no empty nodes");
        if !l.is_quicklist() {
            assert!(l.nodes.len() <= 1);
        }
        for (i, v) in want.iter().enumerate() {
            assert_eq!(l.get(i as i64).as_ref(), Some(v));
            if i % 11 != 5 {
                continue;
            }
            assert_eq!(walk(l, i, false), want[i..]);
            let mut back = walk(l, i, true);
            back.reverse();
            assert_eq!(back, want[..=i]);
        }
        // Stopping early stops.
        let mut seen = 0;
        l.visit(0, false, |_| {
            seen += 1;
            seen < 3
        });
        assert_eq!(seen, want.len().min(3));
        check_layout(l);
    }

    /// The compression layout: the `depth` nodes at each end raw, every
    /// inner node compressed or tried in vain on its current entries.
    fn check_layout(l: &List) {
        let d = usize::from(l.compress);
        let n = l.nodes.len();
        if !l.is_quicklist() || d == 0 {
            assert!(l.nodes.iter().all(|x| x.lzf == Lzf::Raw));
            return;
        }
        for (i, node) in l.nodes.iter().enumerate() {
            if i < d || i + d >= n {
                assert_eq!(node.lzf, Lzf::Raw, "node {i} of {n} at depth {d}");
                continue;
            }
            match node.lzf {
                Lzf::Raw => panic!("inner node {i} of {n} at depth {d} left raw"),
                Lzf::Tried => {
                    let raw = &node.buf[node.start..node.end];
                    let pays = node.sz() >= MIN_COMPRESS_BYTES
                        && lzf::compress(raw)
                            .is_ok_and(|z| z.len() + MIN_COMPRESS_IMPROVE < raw.len());
                    assert!(!pays, "inner node {i} would compress");
                }
                Lzf::Packed { raw } => {
                    let raw = raw as usize;
                    let entries = inflate(&node.buf, raw);
                    assert!(node.sz() >= MIN_COMPRESS_BYTES);
                    assert!(node.buf.len() + MIN_COMPRESS_IMPROVE < raw);
                    if node.plain {
                        let (e, n) = read_entry(&entries, 0);
                        assert_eq!(n, raw);
                        assert_eq!(node.sz(), e.len());
                    }
                }
            }
        }
    }

    #[test]
    fn encodings_follow_the_limits() {
        // Count limit 4: the fifth element makes a quicklist.
        let mut l = List::new();
        for v in [b"a", b"b", b"c", b"d"] {
            l.grow_check(4, 0, 1, 1);
            l.push(v, End::Tail, 4);
        }
        assert_eq!(l.encoding_name(), "listpack");
        l.grow_check(4, 0, 1, 1);
        l.push(b"e", End::Tail, 4);
        assert_eq!(l.encoding_name(), "quicklist");
        assert_eq!(l.node_count(), 2);
        // Shrinking converts back only at half the limit with one node.
        l.pop(End::Tail);
        l.shrink_check(4);
        assert_eq!(l.encoding_name(), "quicklist");
        l.pop(End::Tail);
        l.pop(End::Tail);
        l.shrink_check(4);
        assert_eq!(l.encoding_name(), "listpack");
        assert_eq!(contents(&l), vec![b"a".to_vec(), b"b".to_vec()]);
    }

    #[test]
    fn big_elements_get_plain_nodes() {
        let mut l = List::new();
        let big = vec![b'x'; 9000];
        l.grow_check(-2, 0, big.len(), 1);
        assert!(l.is_quicklist());
        l.push(&big, End::Tail, -2);
        l.push(b"a", End::Tail, -2);
        l.push(b"b", End::Head, -2);
        assert_eq!(l.node_count(), 3);
        assert!(l.nodes[1].plain);
        l.set(1, b"small", -2);
        assert_eq!(l.get(1), Some(b"small".to_vec()));
        assert!(l.nodes.iter().all(|n| !n.plain));
    }

    /// A list of `n` compressible elements pushed at alternate ends, and
    /// its model.
    fn build(fill: i64, depth: i64, n: usize) -> (List, Model<Vec<u8>>) {
        let mut l = List::new();
        let mut m = Model::new();
        for i in 0..n {
            let v = format!("element-{:04}-{}", i % 50, "z".repeat(20)).into_bytes();
            l.grow_check(fill, depth, v.len(), 1);
            if i % 2 == 0 {
                l.push(&v, End::Tail, fill);
                m.push_back(v);
            } else {
                l.push(&v, End::Head, fill);
                m.push_front(v);
            }
        }
        (l, m)
    }

    #[test]
    fn inner_nodes_compress_and_the_ends_stay_raw() {
        for depth in [1i64, 2, 3] {
            let fill = 8;
            let (mut l, mut m) = build(fill, depth, 400);
            let (twin, _) = build(fill, 0, 400);
            let d = depth as usize;
            assert_eq!(l.compress_depth(), depth as u16);
            assert_eq!(twin.compress_depth(), 0);
            assert_eq!(l.node_count(), twin.node_count());
            assert_eq!(l.compressed_nodes(), l.node_count() - 2 * d);
            assert_eq!(twin.compressed_nodes(), 0);
            assert_eq!(l.uncompressed_size(), twin.uncompressed_size());
            assert!(l.memory_usage() * 2 < twin.memory_usage());
            check(&l, &m);

            // Changes in the middle: LSET, LINSERT, LREM, LTRIM.
            let mid = (m.len() / 2) as i64;
            let v = b"replaced-in-the-middle".to_vec();
            assert!(l.set(mid, &v, fill));
            m[mid as usize] = v;
            check(&l, &m);
            let pivot = m[100].clone();
            assert!(l.insert(&Needle::new(&pivot), b"inserted", true, fill));
            let at = m.iter().position(|x| *x == pivot).unwrap_or(0);
            m.insert(at + 1, b"inserted".to_vec());
            check(&l, &m);
            let gone = m[150].clone();
            let n = l.remove_matching(&Needle::new(&gone), 0, false);
            let before = m.len();
            m.retain(|x| *x != gone);
            assert_eq!(n, before - m.len());
            check(&l, &m);
            l.delete_range(37, 120);
            m.drain(37..157);
            check(&l, &m);
            l.set(5, &vec![b'P'; 9000], fill);
            m[5] = vec![b'P'; 9000];
            check(&l, &m);

            // Drain from both ends: nodes cross the boundary inwards.
            let mut head = true;
            while !m.is_empty() {
                let end = if head { End::Head } else { End::Tail };
                let want = if head { m.pop_front() } else { m.pop_back() };
                assert_eq!(l.pop(end), want);
                check_layout(&l);
                head = !head;
            }
            assert!(l.is_empty());
        }
    }

    #[test]
    fn a_list_keeps_the_depth_it_was_created_with() {
        let (mut l, _) = build(4, 0, 100);
        // A later depth does not apply to an existing quicklist.
        l.grow_check(4, 2, 10, 1);
        l.push(b"more", End::Tail, 4);
        assert_eq!(l.compress_depth(), 0);
        assert_eq!(l.compressed_nodes(), 0);
        // A listpack (one node) is never compressed, whatever the depth.
        let mut lp = List::new();
        for _ in 0..4 {
            lp.grow_check(4, 1, 40, 1);
            lp.push(&[b'a'; 40], End::Tail, 4);
        }
        assert_eq!(lp.encoding_name(), "listpack");
        assert_eq!(lp.compressed_nodes(), 0);
    }

    #[test]
    fn incompressible_nodes_stay_raw() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut l = List::new();
        let mut m = Model::new();
        for _ in 0..200 {
            let v: Vec<u8> = (0..40).map(|_| rng.u8(..)).collect();
            l.grow_check(4, 1, v.len(), 1);
            l.push(&v, End::Tail, 4);
            m.push_back(v);
        }
        assert!(l.node_count() > 10);
        assert_eq!(l.compressed_nodes(), 0);
        check(&l, &m);
        // Small nodes (under 48 bytes) are not compressed either.
        let (small, _) = {
            let mut l = List::new();
            for i in 0..100 {
                l.grow_check(2, 1, 2, 1);
                l.push(format!("{}", i % 10).as_bytes(), End::Tail, 2);
            }
            (l, ())
        };
        assert!(small.node_count() > 10);
        assert_eq!(small.compressed_nodes(), 0);
        check_layout(&small);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(bool, Vec<u8>),
        Pop(bool),
        Set(i64, Vec<u8>),
        Insert(Vec<u8>, Vec<u8>, bool),
        Rem(Vec<u8>, i64),
        Trim(i64, i64),
        DelRange(usize, usize),
    }

    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => "[a-c]{1,3}".prop_map(|s| s.into_bytes()),
            2 => (-5000i64..5000).prop_map(|n| n.to_string().into_bytes()),
            1 => (0usize..300).prop_map(|n| vec![b'q'; n]),
            2 => (1usize..6, 0u8..3).prop_map(|(k, c)| vec![b'x' + c; k * 10]),
            1 => (4000usize..9000).prop_map(|n| vec![b'L'; n]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<bool>(), value()).prop_map(|(h, v)| Op::Push(h, v)),
            2 => any::<bool>().prop_map(Op::Pop),
            1 => (-20i64..20, value()).prop_map(|(i, v)| Op::Set(i, v)),
            1 => (value(), value(), any::<bool>()).prop_map(|(p, v, a)| Op::Insert(p, v, a)),
            1 => (value(), -3i64..3).prop_map(|(v, c)| Op::Rem(v, c)),
            1 => (-30i64..30, -30i64..30).prop_map(|(a, b)| Op::Trim(a, b)),
            1 => (0usize..40, 0usize..10).prop_map(|(a, n)| Op::DelRange(a, n)),
        ]
    }

    fn run(fill: i64, depth: i64, ops: &[Op]) {
        let mut l = List::new();
        let mut m: Model<Vec<u8>> = Model::new();
        for op in ops {
            match op.clone() {
                Op::Push(head, v) => {
                    l.grow_check(fill, depth, v.len(), 1);
                    let end = if head { End::Head } else { End::Tail };
                    l.push(&v, end, fill);
                    if head {
                        m.push_front(v)
                    } else {
                        m.push_back(v)
                    }
                }
                Op::Pop(head) => {
                    let end = if head { End::Head } else { End::Tail };
                    let got = l.pop(end);
                    let want = if head { m.pop_front() } else { m.pop_back() };
                    assert_eq!(got, want);
                    l.shrink_check(fill);
                }
                Op::Set(i, v) => {
                    if l.is_empty() {
                        continue;
                    }
                    l.grow_check(fill, depth, v.len(), 1);
                    let ok = l.set(i, &v, fill);
                    let idx = if i < 0 { i + m.len() as i64 } else { i };
                    assert_eq!(ok, (0..m.len() as i64).contains(&idx));
                    if ok {
                        m[idx as usize] = v;
                        l.shrink_check(fill);
                    }
                }
                Op::Insert(p, v, after) => {
                    if l.is_empty() {
                        continue;
                    }
                    l.grow_check(fill, depth, v.len(), 1);
                    let ok = l.insert(&Needle::new(&p), &v, after, fill);
                    let pos = m.iter().position(|x| *x == p);
                    assert_eq!(ok, pos.is_some());
                    if let Some(i) = pos {
                        m.insert(if after { i + 1 } else { i }, v);
                    }
                }
                Op::Rem(v, c) => {
                    let n = l.remove_matching(&Needle::new(&v), c.unsigned_abs() as usize, c < 0);
                    let limit = if c == 0 {
                        usize::MAX
                    } else {
                        c.unsigned_abs() as usize
                    };
                    let mut removed = 0;
                    if c >= 0 {
                        let mut i = 0;
                        while i < m.len() {
                            if removed < limit && m[i] == v {
                                m.remove(i);
                                removed += 1;
                            } else {
                                i += 1;
                            }
                        }
                    } else {
                        let mut i = m.len();
                        while i > 0 {
                            i -= 1;
                            if removed < limit && m[i] == v {
                                m.remove(i);
                                removed += 1;
                            }
                        }
                    }
                    assert_eq!(n, removed);
                    l.shrink_check(fill);
                }
                Op::Trim(a, b) => {
                    let len = m.len() as i64;
                    let (mut s, mut e) = (a, b);
                    if s < 0 {
                        s += len;
                    }
                    if e < 0 {
                        e += len;
                    }
                    s = s.max(0);
                    let (lt, rt) = if s > e || s >= len {
                        (len, 0)
                    } else {
                        e = e.min(len - 1);
                        (s, len - e - 1)
                    };
                    l.delete_range(0, lt as usize);
                    l.delete_range(l.len() - rt as usize, rt as usize);
                    for _ in 0..lt {
                        m.pop_front();
                    }
                    for _ in 0..rt {
                        m.pop_back();
                    }
                    l.shrink_check(fill);
                }
                Op::DelRange(a, n) => {
                    l.delete_range(a, n);
                    let a = a.min(m.len());
                    let n = n.min(m.len() - a);
                    m.drain(a..a + n);
                    if l.is_empty() {
                        l = List::new();
                    } else {
                        l.shrink_check(fill);
                    }
                }
            }
            check(&l, &m);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn behaves_like_a_deque(fill in prop_oneof![Just(-2i64), Just(-1), Just(1), Just(3), Just(5)],
                                ops in proptest::collection::vec(op(), 1..120)) {
            run(fill, 0, &ops);
        }

        #[test]
        fn behaves_like_a_deque_compressed(fill in prop_oneof![Just(-1i64), Just(2), Just(4), Just(8)],
                                           depth in 1i64..4,
                                           ops in proptest::collection::vec(op(), 1..250)) {
            run(fill, depth, &ops);
        }
    }
}
