//! The layout of one stream node, a listpack as Redis's `t_stream.c`
//! writes it (so that RDB can save it as it is):
//!
//! ```text
//! master entry:  count | deleted | num-fields | field_1 ... field_N | 0
//! each entry:    flags | ms-delta | seq-delta | [num-fields | field_1]
//!                value_1 ... [field_N] value_N | lp-count
//! ```
//!
//! The node's buffer starts with its master ID (16 bytes, big-endian: the
//! key Redis's radix tree files the node under), then the listpack.
//! `count` and `deleted` are the node's live and deleted entries. An
//! entry's ID is the node's master ID (its key in the index) plus the
//! deltas, wrapping as Redis's unsigned arithmetic does. The `SAMEFIELDS`
//! flag says the entry has exactly the master's field names, which it then
//! leaves out; `lp-count` is the number of elements of the entry before it
//! (so Redis can walk a node backwards).

use super::StreamId;
use super::listpack::{self, Item, Value};

/// The entry is deleted (a tombstone until its node goes).
pub(super) const FLAG_DELETED: i64 = 1;
/// The entry has the master entry's field names.
pub(super) const FLAG_SAMEFIELDS: i64 = 2;

/// Bytes before the listpack: the node's master ID, 128 bits big-endian
/// (Redis's radix tree key for the node).
pub(super) const BASE: usize = 16;

/// Where the count of live entries is: the listpack's first element.
const COUNT_POS: usize = BASE + 6;

/// The master ID of a node.
pub(super) fn id_of(lp: &[u8]) -> StreamId {
    let mut ms = [0u8; 8];
    let mut seq = [0u8; 8];
    ms.copy_from_slice(&lp[..8]);
    seq.copy_from_slice(&lp[8..16]);
    StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
}

/// A node's master entry, decoded.
#[derive(Debug, Clone, Copy)]
pub(super) struct Master {
    /// Live entries.
    pub count: i64,
    /// Entries marked deleted.
    pub deleted: i64,
    /// Number of master fields.
    pub nfields: usize,
    /// Position of the first master field (or of the terminator).
    pub fields_pos: usize,
    /// Position of the first entry's flags.
    pub first_entry: Option<usize>,
}

/// Position of the element after `p` (the end byte at the end).
fn skip(lp: &[u8], p: usize) -> usize {
    match listpack::next(lp, p) {
        Some(n) => n,
        None => lp.len() - 1,
    }
}

fn at_end(lp: &[u8], p: usize) -> bool {
    p + 1 >= lp.len()
}

/// Decodes the master entry.
pub(super) fn master(lp: &[u8]) -> Master {
    let count = listpack::get_int(lp, COUNT_POS);
    let p = skip(lp, COUNT_POS);
    let deleted = listpack::get_int(lp, p);
    let p = skip(lp, p);
    let nfields = listpack::get_int(lp, p).max(0) as usize;
    let fields_pos = skip(lp, p);
    let mut p = fields_pos;
    for _ in 0..nfields {
        p = skip(lp, p);
    }
    // The zero terminator.
    let first = skip(lp, p);
    Master {
        count,
        deleted,
        nfields,
        fields_pos,
        first_entry: (!at_end(lp, first)).then_some(first),
    }
}

/// One entry of a node, decoded up to its data.
#[derive(Debug, Clone, Copy)]
pub(super) struct EntryRef {
    /// Its ID.
    pub id: StreamId,
    /// Marked deleted.
    pub deleted: bool,
    /// Has the master's field names.
    pub same: bool,
    /// Number of fields.
    pub nfields: usize,
    /// Position of its first field (or value, with `same`).
    pub data: usize,
    /// Position of the next entry's flags.
    pub next: Option<usize>,
}

/// Decodes the entry whose flags are at `pos`.
pub(super) fn read_entry(
    lp: &[u8],
    pos: usize,
    master_id: StreamId,
    master_nfields: usize,
) -> EntryRef {
    let flags = listpack::get_int(lp, pos);
    let p = skip(lp, pos);
    let ms = listpack::get_int(lp, p);
    let p = skip(lp, p);
    let seq = listpack::get_int(lp, p);
    let mut p = skip(lp, p);
    let same = flags & FLAG_SAMEFIELDS != 0;
    let nfields = if same {
        master_nfields
    } else {
        let n = listpack::get_int(lp, p).max(0) as usize;
        p = skip(lp, p);
        n
    };
    let data = p;
    let elements = if same { nfields } else { nfields * 2 };
    for _ in 0..elements {
        p = skip(lp, p);
    }
    // `p` is at lp-count.
    let after = skip(lp, p);
    EntryRef {
        id: StreamId::new(
            master_id.ms.wrapping_add(ms as u64),
            master_id.seq.wrapping_add(seq as u64),
        ),
        deleted: flags & FLAG_DELETED != 0,
        same,
        nfields,
        data,
        next: (!at_end(lp, after)).then_some(after),
    }
}

/// The IDs of the live entries of a node, in order.
pub(super) fn live_ids(lp: &[u8], master_id: StreamId) -> impl Iterator<Item = StreamId> + '_ {
    let m = master(lp);
    let mut p = m.first_entry;
    std::iter::from_fn(move || {
        loop {
            let e = read_entry(lp, p?, master_id, m.nfields);
            p = e.next;
            if !e.deleted {
                return Some(e.id);
            }
        }
    })
}

/// The ID of the node's last entry, deleted or not (Redis's
/// `lpGetEdgeStreamID`).
pub(super) fn last_id(lp: &[u8], master_id: StreamId) -> Option<StreamId> {
    last_entry(lp, master_id, false)
}

/// The ID of the node's last live entry.
pub(super) fn last_live_id(lp: &[u8], master_id: StreamId) -> Option<StreamId> {
    last_entry(lp, master_id, true)
}

/// Position of the flags of the node's last entry (deleted or not).
///
/// Walks backwards as Redis does: each entry ends with the count of its
/// other elements, so its flags are that many elements back; the master
/// entry ends with 0.
pub(super) fn last_flags(lp: &[u8]) -> Option<usize> {
    let p = listpack::prev(lp, BASE, listpack::end(lp, BASE))?;
    flags_before(lp, p)
}

/// Position of the flags of the entry before the one whose flags are at
/// `pos`, `None` for the first entry.
pub(super) fn prev_flags(lp: &[u8], pos: usize) -> Option<usize> {
    let p = listpack::prev(lp, BASE, pos)?;
    flags_before(lp, p)
}

/// The flags of the entry whose lp-count is at `p`.
fn flags_before(lp: &[u8], p: usize) -> Option<usize> {
    let lp_count = listpack::get_int(lp, p);
    if lp_count <= 0 {
        return None;
    }
    let mut flags_pos = p;
    for _ in 0..lp_count {
        flags_pos = listpack::prev(lp, BASE, flags_pos)?;
    }
    Some(flags_pos)
}

fn last_entry(lp: &[u8], master_id: StreamId, live: bool) -> Option<StreamId> {
    let mut pos = last_flags(lp)?;
    loop {
        let flags = listpack::get_int(lp, pos);
        if !live || flags & FLAG_DELETED == 0 {
            let ms_pos = skip(lp, pos);
            let seq_pos = skip(lp, ms_pos);
            return Some(StreamId::new(
                master_id
                    .ms
                    .wrapping_add(listpack::get_int(lp, ms_pos) as u64),
                master_id
                    .seq
                    .wrapping_add(listpack::get_int(lp, seq_pos) as u64),
            ));
        }
        pos = prev_flags(lp, pos)?;
    }
}

/// Whether the element at `p` holds `s` (integers compare as their text).
fn elem_eq(lp: &[u8], p: usize, s: &[u8]) -> bool {
    match listpack::get(lp, p) {
        Value::Str(x) => x == s,
        Value::Int(v) => itoa::Buffer::new().format(v).as_bytes() == s,
    }
}

/// A new node whose master entry takes the field names of `fields` (a
/// flat field/value list), counting one live entry (the one about to be
/// appended), with room for `prealloc` bytes.
pub(super) fn new_node(master_id: StreamId, fields: &[&[u8]], prealloc: usize) -> Vec<u8> {
    let mut lp = Vec::with_capacity(BASE + prealloc.max(8));
    lp.extend_from_slice(&master_id.ms.to_be_bytes());
    lp.extend_from_slice(&master_id.seq.to_be_bytes());
    listpack::new_in(&mut lp);
    listpack::append_int(&mut lp, BASE, 1);
    listpack::append_int(&mut lp, BASE, 0);
    listpack::append_int(&mut lp, BASE, (fields.len() / 2) as i64);
    for pair in fields.chunks_exact(2) {
        listpack::append_str(&mut lp, BASE, pair[0]);
    }
    listpack::append_int(&mut lp, BASE, 0);
    lp
}

/// Appends entry `id` to the node keyed `master_id`; `fresh` when the node
/// was just made for it (its count already includes it).
pub(super) fn append_entry(
    lp: &mut Vec<u8>,
    master_id: StreamId,
    id: StreamId,
    fields: &[&[u8]],
    numfields: usize,
    fresh: bool,
) {
    let mut flags = 0;
    if fresh {
        flags |= FLAG_SAMEFIELDS;
    } else {
        let m = master(lp);
        listpack::replace_int(lp, BASE, COUNT_POS, m.count + 1);
        // The count may have changed size: find the fields again.
        let m = master(lp);
        if m.nfields == numfields {
            let mut p = m.fields_pos;
            let mut same = true;
            for pair in fields.chunks_exact(2) {
                if !elem_eq(lp, p, pair[0]) {
                    same = false;
                    break;
                }
                p = skip(lp, p);
            }
            if same {
                flags |= FLAG_SAMEFIELDS;
            }
        }
    }
    let same = flags & FLAG_SAMEFIELDS != 0;
    listpack::append(
        lp,
        BASE,
        &[
            Item::Int(flags),
            Item::Int(id.ms.wrapping_sub(master_id.ms) as i64),
            Item::Int(id.seq.wrapping_sub(master_id.seq) as i64),
        ],
    );
    if !same {
        listpack::append_int(lp, BASE, numfields as i64);
    }
    for pair in fields.chunks_exact(2) {
        if !same {
            listpack::append_str(lp, BASE, pair[0]);
        }
        listpack::append_str(lp, BASE, pair[1]);
    }
    let lp_count = if same {
        numfields + 3
    } else {
        numfields * 2 + 4
    };
    listpack::append_int(lp, BASE, lp_count as i64);
}

/// Marks the entry whose flags are at `pos` deleted (the flags keep their
/// one-byte size).
pub(super) fn mark_deleted(lp: &mut Vec<u8>, pos: usize) {
    let flags = listpack::get_int(lp, pos);
    listpack::replace_int(lp, BASE, pos, flags | FLAG_DELETED);
}

/// Adds `live` and `deleted` to the master entry's counts.
pub(super) fn add_counts(lp: &mut Vec<u8>, live: i64, deleted: i64) {
    let m = master(lp);
    listpack::replace_int(lp, BASE, COUNT_POS, m.count + live);
    let p = skip(lp, COUNT_POS);
    listpack::replace_int(lp, BASE, p, m.deleted + deleted);
}

/// Buffers reused while handing entries to a range visitor: the element
/// positions of an entry, the text of its integer elements, and the flat
/// slice list.
#[derive(Default)]
pub(super) struct Scratch {
    positions: Vec<usize>,
    num: Vec<u8>,
    num_lens: Vec<usize>,
    flat: Vec<&'static [u8]>,
}

/// An empty vector of slices of any lifetime, reusing `v`'s allocation.
fn recycle<'b>(mut v: Vec<&[u8]>) -> Vec<&'b [u8]> {
    v.clear();
    v.into_iter().map(|_| &b""[..]).collect()
}

impl Scratch {
    /// Calls `f` with entry `e`'s fields and values; returns what `f`
    /// returns.
    pub(super) fn visit(
        &mut self,
        lp: &[u8],
        m: &Master,
        e: &EntryRef,
        f: &mut impl FnMut(StreamId, &[&[u8]]) -> bool,
    ) -> bool {
        self.positions.clear();
        let mut data = e.data;
        if e.same {
            let mut field = m.fields_pos;
            for _ in 0..e.nfields {
                self.positions.push(field);
                self.positions.push(data);
                field = skip(lp, field);
                data = skip(lp, data);
            }
        } else {
            for _ in 0..e.nfields * 2 {
                self.positions.push(data);
                data = skip(lp, data);
            }
        }
        self.num.clear();
        self.num_lens.clear();
        for &p in &self.positions {
            if let Value::Int(v) = listpack::get(lp, p) {
                let mut b = itoa::Buffer::new();
                let t = b.format(v).as_bytes();
                self.num.extend_from_slice(t);
                self.num_lens.push(t.len());
            }
        }
        let mut flat: Vec<&[u8]> = recycle(std::mem::take(&mut self.flat));
        let mut off = 0;
        let mut lens = self.num_lens.iter();
        for &p in &self.positions {
            match listpack::get(lp, p) {
                Value::Str(s) => flat.push(s),
                Value::Int(_) => {
                    let l = lens.next().copied().unwrap_or(0);
                    flat.push(&self.num[off..off + l]);
                    off += l;
                }
            }
        }
        let go_on = f(e.id, &flat);
        self.flat = recycle(flat);
        go_on
    }
}
