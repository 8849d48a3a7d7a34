//! Streams: entries ordered by ID, each a list of field/value pairs, plus
//! consumer groups (Redis's `t_stream.c` and `stream.h`).
//!
//! This module is the contract between the stream commands
//! (`viator-store/src/commands/stream.rs`) and the consumer-group commands
//! (`commands/stream_group.rs`): the entry store behind [`Stream`] may
//! change (Redis packs entries into delta-encoded listpacks in a radix
//! tree, which RDB saves as is), the methods below stay.

pub mod groups;
pub mod listpack;
mod node;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

pub use groups::{Consumer, ConsumerGroup, PendingEntry};

/// A stream entry ID: milliseconds and a sequence number, ordered as a
/// pair (Redis's `streamID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// `0-0`, the smallest ID.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// A new ID.
    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, or `None` after [`StreamId::MAX`] (Redis's
    /// `streamIncrID`).
    pub fn next(self) -> Option<StreamId> {
        match (self.seq.checked_add(1), self.ms.checked_add(1)) {
            (Some(seq), _) => Some(StreamId { ms: self.ms, seq }),
            (None, Some(ms)) => Some(StreamId { ms, seq: 0 }),
            (None, None) => None,
        }
    }

    /// The previous ID, or `None` before [`StreamId::MIN`] (Redis's
    /// `streamDecrID`).
    pub fn prev(self) -> Option<StreamId> {
        match (self.seq.checked_sub(1), self.ms.checked_sub(1)) {
            (Some(seq), _) => Some(StreamId { ms: self.ms, seq }),
            (None, Some(ms)) => Some(StreamId { ms, seq: u64::MAX }),
            (None, None) => None,
        }
    }
}

impl StreamId {
    /// Parses `ms` or `ms-seq` (decimal, as Redis's `string2ull`),
    /// a missing sequence becoming `missing_seq`; `-` and `+` are the
    /// smallest and largest IDs. `None` for anything else: the command
    /// replies "Invalid stream ID specified as stream command argument".
    /// Forms only some commands take (`*`, `ms-*`, `$`, `>`, a `(`
    /// exclusive bound) are the caller's to recognize first.
    pub fn parse(b: &[u8], missing_seq: u64) -> Option<StreamId> {
        match b {
            b"-" => return Some(StreamId::MIN),
            b"+" => return Some(StreamId::MAX),
            _ => {}
        }
        // Redis copies the argument into a 128-byte buffer first.
        if b.len() > 127 {
            return None;
        }
        // strtoull's syntax: leading white space and a `+` are allowed
        // (a `-` already split the ID), then base-10 digits to the end.
        let number = |part: &[u8]| -> Option<u64> {
            let start = part.iter().position(|c| !b" \t\n\x0b\x0c\r".contains(c))?;
            let mut digits = &part[start..];
            if let [b'+', rest @ ..] = digits {
                digits = rest;
            }
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            digits.iter().try_fold(0u64, |n, &d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            })
        };
        match b.iter().position(|&c| c == b'-') {
            None => Some(StreamId::new(number(b)?, missing_seq)),
            Some(dash) => Some(StreamId::new(number(&b[..dash])?, number(&b[dash + 1..])?)),
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// How trimming and XDELEX treat entries that consumer groups still
/// reference (Redis 8.2's `KEEPREF`, `DELREF`, `ACKED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefPolicy {
    /// Delete the entry, leave the groups' pending lists as they are.
    #[default]
    KeepRef,
    /// Delete the entry and drop it from every group's pending list.
    DelRef,
    /// Delete only entries no group needs any more.
    Acked,
}

/// What XADD's and XTRIM's trimming keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimStrategy {
    /// At most this many entries.
    MaxLen(u64),
    /// No entry below this ID.
    MinId(StreamId),
}

/// A trimming request (Redis's `streamAddTrimArgs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrimSpec {
    /// What to keep.
    pub strategy: TrimStrategy,
    /// `~`: remove whole nodes only.
    pub approx: bool,
    /// With `approx`, at most this many entries are removed (0: no limit).
    pub limit: u64,
    /// What to do with entries consumer groups reference.
    pub policy: RefPolicy,
}

/// Stream-node-max-entries' default: entries per node.
const DEFAULT_NODE_ENTRIES: u64 = 100;
/// Stream-node-max-bytes' default: bytes per node.
const DEFAULT_NODE_BYTES: u64 = 4096;
/// Bytes reserved for a new node at most (Redis's
/// `STREAM_LISTPACK_MAX_PRE_ALLOCATE`).
const NODE_PREALLOC: u64 = 4096;
/// A node never grows past this (Redis's `STREAM_LISTPACK_MAX_SIZE`).
const NODE_MAX_SIZE: u64 = 1 << 30;

/// A stream.
///
/// Entries live in nodes, each a listpack laid out as Redis lays out its
/// stream listpacks (the `node` module): a master entry holding the node's
/// live and deleted counts and the field names of its first entry, then the
/// entries, each with flags (deleted, same fields as the master), its ID
/// as deltas from the node's first ID, and its values (and field names
/// when they differ from the master's). Nodes are indexed by their first
/// ID in an ordered map, as Redis's radix tree keyed by 128-bit
/// big-endian IDs indexes them, and hold at most
/// `stream-node-max-entries` entries (deleted ones included) and about
/// `stream-node-max-bytes` bytes. Deleting marks an entry deleted in its
/// node; a node is freed when its last live entry goes.
#[derive(Debug, Clone)]
pub struct Stream {
    /// The nodes in ID order, each its master ID (16 bytes, big-endian)
    /// then its listpack (the `node` module). A deque rather than a tree: the
    /// index costs 24 bytes a node (a quarter of a byte an entry), nodes
    /// come and go mostly at the ends (XADD, trimming), and lookups are a
    /// binary search.
    nodes: VecDeque<Vec<u8>>,
    /// Live entries.
    length: usize,
    /// The node limits appends obey (0: none).
    node_max_entries: u64,
    node_max_bytes: u64,
    /// The ID of the last entry ever added (XADD's lower bound), kept
    /// when that entry is deleted.
    pub last_id: StreamId,
    /// The ID of the first entry present, `0-0` when empty.
    pub first_id: StreamId,
    /// The largest ID ever deleted (XINFO's `max-deleted-entry-id`).
    pub max_deleted_id: StreamId,
    /// How many entries were ever added (XINFO's `entries-added`).
    pub entries_added: u64,
    /// The consumer groups, by name (XINFO GROUPS lists them in this
    /// order, as Redis's radix tree does).
    pub groups: BTreeMap<Box<[u8]>, ConsumerGroup>,
}

impl Default for Stream {
    fn default() -> Stream {
        Stream {
            nodes: VecDeque::new(),
            length: 0,
            node_max_entries: DEFAULT_NODE_ENTRIES,
            node_max_bytes: DEFAULT_NODE_BYTES,
            last_id: StreamId::MIN,
            first_id: StreamId::MIN,
            max_deleted_id: StreamId::MIN,
            entries_added: 0,
            groups: BTreeMap::new(),
        }
    }
}

impl Stream {
    /// An empty stream with no groups.
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Number of entries (XLEN).
    pub fn len(&self) -> usize {
        self.length
    }

    /// Whether the stream has no entries (a stream key may exist empty).
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// OBJECT ENCODING's name.
    pub fn encoding_name(&self) -> &'static str {
        "stream"
    }

    /// Bytes of memory the value uses, for MEMORY USAGE (an estimate:
    /// the node buffers plus the index's share per node).
    pub fn memory_usage(&self) -> usize {
        let nodes: usize = self.nodes.iter().map(|lp| lp.capacity() + 24).sum();
        std::mem::size_of::<Stream>()
            + nodes
            + self
                .groups
                .values()
                .map(|g| g.memory_usage())
                .sum::<usize>()
    }

    /// Sets the node size limits (`stream-node-max-entries`,
    /// `stream-node-max-bytes`; 0 for no limit) that later appends obey.
    pub fn set_node_limits(&mut self, max_entries: u64, max_bytes: u64) {
        self.node_max_entries = max_entries;
        self.node_max_bytes = max_bytes;
    }

    /// Appends an entry of flattened field/value pairs under `id`, which
    /// must be greater than [`Stream::last_id`] unless the stream never had
    /// an entry and `id` is greater than `0-0` (the caller checks, with
    /// Redis's errors).
    ///
    /// As Redis's `streamAppendItem`: the entry goes to the last node
    /// unless that node's bytes plus the entry's would reach
    /// `stream-node-max-bytes` or it already holds
    /// `stream-node-max-entries` entries (deleted ones included); then a
    /// new node starts, with this entry's fields as its master fields.
    pub fn append(&mut self, id: StreamId, fields: &[&[u8]]) {
        let numfields = fields.len() / 2;
        let total: u64 = fields.iter().map(|f| f.len() as u64).sum();
        let max_bytes = match self.node_max_bytes {
            0 => NODE_MAX_SIZE,
            n => n.min(NODE_MAX_SIZE),
        };
        let max_entries = self.node_max_entries;
        let tail = self.nodes.back().map(|lp| {
            let m = node::master(lp);
            let bytes = (lp.len() - node::BASE) as u64;
            let full = bytes + total >= max_bytes
                || (max_entries != 0 && (m.count + m.deleted) as u64 >= max_entries);
            (node::id_of(lp), full)
        });
        let master_id = match tail {
            Some((k, false)) => k,
            other => {
                if let Some((_, true)) = other
                    && let Some(lp) = self.nodes.back_mut()
                {
                    // A fresh exact-size buffer (Redis's `lpShrinkToFit`):
                    // a shrinking realloc may keep the larger block.
                    *lp = lp.as_slice().to_vec();
                }
                // Room for the whole node up front, as Redis preallocates
                // its listpacks, so that appends do not reallocate.
                let prealloc = match self.node_max_bytes {
                    0 => NODE_PREALLOC,
                    n => n.min(NODE_PREALLOC),
                };
                self.nodes
                    .push_back(node::new_node(id, fields, prealloc as usize));
                id
            }
        };
        if let Some(lp) = self.nodes.back_mut() {
            node::append_entry(lp, master_id, id, fields, numfields, master_id == id);
        }
        if self.length == 0 {
            self.first_id = id;
        }
        self.length += 1;
        self.last_id = id;
        self.entries_added += 1;
    }

    /// Calls `f` with each entry from `start` to `end` (both inclusive),
    /// backwards when `rev`, until it returns false. The slice holds the
    /// entry's fields and values alternately.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut f: impl FnMut(StreamId, &[&[u8]]) -> bool,
    ) {
        if start > end {
            return;
        }
        let mut scratch = node::Scratch::default();
        if rev {
            let upto = self.nodes.partition_point(|lp| node::id_of(lp) <= end);
            for lp in self.nodes.range(..upto).rev() {
                let master_id = node::id_of(lp);
                let m = node::master(lp);
                let mut p = node::last_flags(lp);
                while let Some(pos) = p {
                    let e = node::read_entry(lp, pos, master_id, m.nfields);
                    p = node::prev_flags(lp, pos);
                    if e.deleted || e.id > end {
                        continue;
                    }
                    if e.id < start {
                        return;
                    }
                    if !scratch.visit(lp, &m, &e, &mut f) {
                        return;
                    }
                }
            }
        } else {
            let from = self
                .nodes
                .partition_point(|lp| node::id_of(lp) <= start)
                .saturating_sub(1);
            for lp in self.nodes.range(from..) {
                let master_id = node::id_of(lp);
                if master_id > end {
                    return;
                }
                let m = node::master(lp);
                let mut p = m.first_entry;
                while let Some(pos) = p {
                    let e = node::read_entry(lp, pos, master_id, m.nfields);
                    p = e.next;
                    if e.deleted || e.id < start {
                        continue;
                    }
                    if e.id > end {
                        return;
                    }
                    if !scratch.visit(lp, &m, &e, &mut f) {
                        return;
                    }
                }
            }
        }
    }

    /// XINFO STREAM's `radix-tree-keys`: the number of nodes entries are
    /// packed into.
    pub fn radix_tree_keys(&self) -> usize {
        self.nodes.len()
    }

    /// XINFO STREAM's `radix-tree-nodes`: the nodes of the index over those
    /// nodes (Redis counts its radix tree's nodes; an estimate here).
    pub fn radix_tree_nodes(&self) -> usize {
        self.nodes.len().max(1)
    }

    /// The live entry `id`: its node's index and its flags position.
    fn find(&self, id: StreamId) -> Option<(usize, usize)> {
        let idx = self
            .nodes
            .partition_point(|lp| node::id_of(lp) <= id)
            .checked_sub(1)?;
        let lp = &self.nodes[idx];
        let master_id = node::id_of(lp);
        let m = node::master(lp);
        let mut p = m.first_entry;
        while let Some(pos) = p {
            let e = node::read_entry(lp, pos, master_id, m.nfields);
            if e.id == id {
                return (!e.deleted).then_some((idx, pos));
            }
            if e.id > id {
                return None;
            }
            p = e.next;
        }
        None
    }

    /// Whether an entry with this ID is present.
    pub fn contains(&self, id: StreamId) -> bool {
        self.find(id).is_some()
    }

    /// The ID of the last entry present, if any (not [`Stream::last_id`],
    /// which survives deletions).
    pub fn last_entry_id(&self) -> Option<StreamId> {
        // Only the first node may have no live entry (exact trimming
        // leaves it, as Redis does), so this looks at one or two nodes.
        self.nodes
            .iter()
            .rev()
            .find_map(|lp| node::last_live_id(lp, node::id_of(lp)))
    }

    /// The ID of the first live entry, if any.
    fn first_entry_id(&self) -> Option<StreamId> {
        self.nodes
            .iter()
            .find_map(|lp| node::live_ids(lp, node::id_of(lp)).next())
    }

    /// Deletes the entry `id`; returns whether it was there. Updates
    /// [`Stream::first_id`] and [`Stream::max_deleted_id`] as XDEL does.
    /// Consumer-group references to it are the caller's business.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((idx, pos)) = self.find(id) else {
            return false;
        };
        // As Redis's `streamIteratorRemoveEntry`: the node goes with its
        // last live entry, else the entry becomes a tombstone.
        if let Some(lp) = self.nodes.get_mut(idx) {
            if node::master(lp).count <= 1 {
                self.nodes.remove(idx);
            } else {
                node::mark_deleted(lp, pos);
                node::add_counts(lp, -1, 1);
            }
        }
        self.length -= 1;
        if id > self.max_deleted_id {
            self.max_deleted_id = id;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if id == self.first_id {
            self.first_id = self.first_entry_id().unwrap_or(StreamId::MIN);
        }
        true
    }

    /// Deletes `id` under `policy`, as XDELEX: -1 when there is no such
    /// entry, 1 when deleted, 2 when kept because a group needs it
    /// (`ACKED`).
    pub fn delete_with_policy(&mut self, id: StreamId, policy: RefPolicy) -> i64 {
        if !self.contains(id) {
            return -1;
        }
        match policy {
            RefPolicy::Acked if self.referenced_by_groups(id) => return 2,
            RefPolicy::DelRef => self.drop_group_refs(id),
            _ => {}
        }
        self.delete(id);
        1
    }

    /// Trims as `spec` says (Redis's `streamTrim`); returns the number of
    /// entries removed.
    ///
    /// Nodes are taken oldest first. A node whose removal still leaves
    /// enough entries (MAXLEN) or whose last entry is below the threshold
    /// (MINID) goes whole. Otherwise approximate trimming stops there and
    /// exact trimming marks the node's entries deleted one by one up to the
    /// threshold. With `DELREF` and `ACKED`, every entry is looked at (the
    /// groups' references matter), `ACKED` keeping the ones a group still
    /// needs. `limit` (approximate trimming) caps the entries removed,
    /// checked a node at a time.
    pub fn trim(&mut self, spec: &TrimSpec) -> u64 {
        let keep_ref = spec.policy == RefPolicy::KeepRef;
        let mut deleted = 0u64;
        let mut cursor = 0usize;
        let mut ids = Vec::new();
        loop {
            if let TrimStrategy::MaxLen(n) = spec.strategy
                && self.length as u64 <= n
            {
                break;
            }
            let Some(lp) = self.nodes.get(cursor) else {
                break;
            };
            let key = node::id_of(lp);
            let m = node::master(lp);
            let entries = m.count as u64;
            if spec.limit != 0 && deleted + entries > spec.limit {
                break;
            }
            let eligible = match spec.strategy {
                TrimStrategy::MaxLen(n) => self.length as u64 - entries >= n,
                TrimStrategy::MinId(min) => node::last_id(lp, key).is_some_and(|last| last < min),
            };
            if eligible && keep_ref {
                self.nodes.remove(cursor);
                self.length -= entries as usize;
                deleted += entries;
                continue;
            }
            if spec.approx && keep_ref {
                break;
            }
            // Entry by entry, up to the threshold.
            ids.clear();
            let mut p = m.first_entry;
            while let Some(pos) = p {
                let e = node::read_entry(lp, pos, key, m.nfields);
                ids.push((pos, e.id, e.deleted));
                p = e.next;
            }
            let mut removed_here = 0u64;
            for &(pos, id, was_deleted) in &ids {
                let stop = match spec.strategy {
                    TrimStrategy::MaxLen(n) => self.length as u64 <= n,
                    TrimStrategy::MinId(min) => id >= min,
                };
                if stop {
                    break;
                }
                if was_deleted {
                    continue;
                }
                let can_delete = match spec.policy {
                    RefPolicy::Acked => !self.referenced_by_groups(id),
                    RefPolicy::DelRef => {
                        self.drop_group_refs(id);
                        true
                    }
                    RefPolicy::KeepRef => true,
                };
                if can_delete && let Some(lp) = self.nodes.get_mut(cursor) {
                    node::mark_deleted(lp, pos);
                    removed_here += 1;
                    self.length -= 1;
                }
            }
            deleted += removed_here;
            if eligible && removed_here == entries {
                self.nodes.remove(cursor);
                continue;
            }
            if let Some(lp) = self.nodes.get_mut(cursor) {
                node::add_counts(lp, -(removed_here as i64), removed_here as i64);
            }
            if eligible {
                cursor += 1;
                continue;
            }
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.first_entry_id().unwrap_or(StreamId::MIN);
        }
        deleted
    }

    /// The nodes as Redis's RDB saves them: each node's master ID and its
    /// listpack bytes, in ID order.
    pub fn nodes(&self) -> impl Iterator<Item = (StreamId, &[u8])> {
        self.nodes.iter().map(|lp| {
            let end = node::BASE + listpack::total_bytes(lp, node::BASE);
            (node::id_of(lp), &lp[node::BASE..end.min(lp.len())])
        })
    }

    /// Adds a node read from an RDB file: `master_id` and a listpack in
    /// Redis's stream node layout. The stream's length grows by the
    /// node's live count; IDs and counters ([`Stream::last_id`]...) are the
    /// loader's to set.
    pub fn insert_node(&mut self, master_id: StreamId, listpack: Vec<u8>) {
        let mut lp = Vec::with_capacity(node::BASE + listpack.len());
        lp.extend_from_slice(&master_id.ms.to_be_bytes());
        lp.extend_from_slice(&master_id.seq.to_be_bytes());
        lp.extend_from_slice(&listpack);
        self.length += node::master(&lp).count.max(0) as usize;
        let idx = self.nodes.partition_point(|n| node::id_of(n) < master_id);
        match self.nodes.get_mut(idx) {
            Some(old) if node::id_of(old) == master_id => {
                self.length -= node::master(old).count.max(0) as usize;
                *old = lp;
            }
            _ => self.nodes.insert(idx, lp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_order_and_step() {
        assert!(StreamId::new(1, 5) < StreamId::new(2, 0));
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::new(2, 0).prev(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
        assert_eq!(StreamId::new(5, 7).to_string(), "5-7");
    }

    #[test]
    fn parse_ids() {
        assert_eq!(StreamId::parse(b"5", 0), Some(StreamId::new(5, 0)));
        assert_eq!(
            StreamId::parse(b"5", u64::MAX),
            Some(StreamId::new(5, u64::MAX))
        );
        assert_eq!(StreamId::parse(b"5-3", 0), Some(StreamId::new(5, 3)));
        assert_eq!(StreamId::parse(b"-", 9), Some(StreamId::MIN));
        assert_eq!(StreamId::parse(b"+", 0), Some(StreamId::MAX));
        assert_eq!(
            StreamId::parse(b"18446744073709551615-18446744073709551615", 0),
            Some(StreamId::MAX)
        );
        assert_eq!(StreamId::parse(b" +7-+2", 0), Some(StreamId::new(7, 2)));
        assert_eq!(StreamId::parse(b"007", 1), Some(StreamId::new(7, 1)));
        for bad in [
            &b""[..],
            b"-1",
            b"1-",
            b"a",
            b"1-2-3",
            b"1 ",
            b"++1",
            b"0x1",
            b"18446744073709551616",
            b"1-*",
        ] {
            assert_eq!(StreamId::parse(bad, 0), None, "{bad:?}");
        }
    }

    #[test]
    fn append_range_delete() {
        let mut s = Stream::new();
        s.append(StreamId::new(1, 0), &[b"f", b"v1"]);
        s.append(StreamId::new(2, 0), &[b"f", b"v2"]);
        s.append(StreamId::new(3, 0), &[b"f", b"v3"]);
        let mut seen = Vec::new();
        s.range(StreamId::MIN, StreamId::MAX, true, |id, f| {
            seen.push((id.ms, f[1].to_vec()));
            true
        });
        assert_eq!(
            seen,
            vec![
                (3, b"v3".to_vec()),
                (2, b"v2".to_vec()),
                (1, b"v1".to_vec())
            ]
        );
        assert!(s.delete(StreamId::new(1, 0)));
        assert!(!s.delete(StreamId::new(1, 0)));
        assert_eq!(s.first_id, StreamId::new(2, 0));
        assert_eq!(s.max_deleted_id, StreamId::new(1, 0));
        assert_eq!(
            (s.len(), s.entries_added, s.last_id),
            (2, 3, StreamId::new(3, 0))
        );
    }

    #[test]
    fn nodes_round_trip_through_insert_node() {
        let mut s = Stream::new();
        s.set_node_limits(2, 0);
        for i in 1..=5u64 {
            let v = i.to_string();
            s.append(StreamId::new(i, 0), &[b"f", v.as_bytes()]);
        }
        s.delete(StreamId::new(2, 0));
        let nodes: Vec<(StreamId, Vec<u8>)> = s.nodes().map(|(k, lp)| (k, lp.to_vec())).collect();
        assert_eq!(nodes.len(), 3);
        // Each is a whole listpack: its header gives its size.
        for (_, lp) in &nodes {
            assert_eq!(listpack::total_bytes(lp, 0), lp.len());
        }
        let mut t = Stream::new();
        for (k, lp) in nodes.into_iter().rev() {
            t.insert_node(k, lp);
        }
        assert_eq!(t.len(), 4);
        let mut seen = Vec::new();
        t.range(StreamId::MIN, StreamId::MAX, false, |id, f| {
            seen.push((id.ms, f[1].to_vec()));
            true
        });
        assert_eq!(
            seen,
            vec![
                (1, b"1".to_vec()),
                (3, b"3".to_vec()),
                (4, b"4".to_vec()),
                (5, b"5".to_vec())
            ]
        );
    }

    #[test]
    fn unbounded_nodes_grow_their_counts_past_every_encoding() {
        let mut s = Stream::new();
        s.set_node_limits(0, 0);
        for i in 1..=5_000u64 {
            s.append(StreamId::new(i, i % 7), &[b"f", b"v"]);
        }
        assert_eq!(s.radix_tree_keys(), 1);
        for i in (1..=5_000u64).step_by(3) {
            assert!(s.delete(StreamId::new(i, i % 7)));
        }
        assert_eq!(s.len(), 3_333);
        let m = node::master(&s.nodes[0]);
        assert_eq!((m.count, m.deleted), (3_333, 1_667));
        assert_eq!(s.first_id, StreamId::new(2, 2));
        assert_eq!(s.last_entry_id(), Some(StreamId::new(5_000, 5_000 % 7)));
        let spec = TrimSpec {
            strategy: TrimStrategy::MaxLen(10),
            approx: false,
            limit: 0,
            policy: RefPolicy::KeepRef,
        };
        assert_eq!(s.trim(&spec), 3_323);
        let mut n = 0;
        s.range(StreamId::MIN, StreamId::MAX, true, |_, _| {
            n += 1;
            true
        });
        assert_eq!(n, 10);
    }

    mod model {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeMap;

        #[derive(Debug, Clone)]
        enum Op {
            Add(u8, u8, Vec<(u8, u16)>),
            Del(u16),
            TrimLen(u16, bool),
            TrimMin(u16, bool),
            Range(u16, u16, bool, u8),
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                6 => (0u8..3, 0u8..3, proptest::collection::vec((0u8..4, any::<u16>()), 1..4))
                    .prop_map(|(a, b, f)| Op::Add(a, b, f)),
                2 => any::<u16>().prop_map(Op::Del),
                1 => (0u16..40, any::<bool>()).prop_map(|(n, a)| Op::TrimLen(n, a)),
                1 => (any::<u16>(), any::<bool>()).prop_map(|(n, a)| Op::TrimMin(n, a)),
                2 => (any::<u16>(), any::<u16>(), any::<bool>(), 0u8..5)
                    .prop_map(|(a, b, r, c)| Op::Range(a, b, r, c)),
            ]
        }

        fn text(v: u16) -> Vec<u8> {
            // Some values are integers (stored as such), some long.
            match v % 4 {
                0 => v.to_string().into_bytes(),
                1 => format!("v{v}").into_bytes(),
                2 => vec![b'x'; (v % 200) as usize],
                _ => format!("-{v}").into_bytes(),
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]
            #[test]
            fn behaves_like_a_map(ops in proptest::collection::vec(op(), 1..120),
                                  max_entries in 0u64..6, max_bytes in prop_oneof![Just(0u64), 40u64..400]) {
                let mut s = Stream::new();
                s.set_node_limits(max_entries, max_bytes);
                let mut m: BTreeMap<StreamId, Vec<Vec<u8>>> = BTreeMap::new();
                let mut next = StreamId::new(1, 0);
                for op in ops {
                    match op {
                        Op::Add(dms, dseq, fields) => {
                            let id = StreamId::new(next.ms + u64::from(dms), next.seq + u64::from(dseq));
                            let id = if id <= s.last_id { s.last_id.next().unwrap_or(id) } else { id };
                            let flat: Vec<Vec<u8>> = fields.iter().flat_map(|&(f, v)| {
                                [format!("f{f}").into_bytes(), text(v)]
                            }).collect();
                            let refs: Vec<&[u8]> = flat.iter().map(|x| &x[..]).collect();
                            s.append(id, &refs);
                            m.insert(id, flat);
                            next = id;
                        }
                        Op::Del(k) => {
                            let keys: Vec<StreamId> = m.keys().copied().collect();
                            if !keys.is_empty() {
                                let id = keys[k as usize % keys.len()];
                                prop_assert!(s.delete(id));
                                m.remove(&id);
                                prop_assert!(!s.delete(id));
                            }
                        }
                        Op::TrimLen(n, approx) => {
                            let before = m.len();
                            let spec = TrimSpec { strategy: TrimStrategy::MaxLen(u64::from(n)), approx, limit: 0, policy: RefPolicy::KeepRef };
                            let removed = s.trim(&spec) as usize;
                            let keep: Vec<StreamId> = m.keys().copied().skip(removed).collect();
                            m.retain(|k, _| keep.contains(k));
                            prop_assert_eq!(m.len(), before - removed);
                            if approx { prop_assert!(m.len() >= usize::from(n) || before < usize::from(n)); }
                            else { prop_assert_eq!(m.len(), before.min(usize::from(n))); }
                        }
                        Op::TrimMin(n, approx) => {
                            let min = StreamId::new(u64::from(n % 64), 0);
                            let spec = TrimSpec { strategy: TrimStrategy::MinId(min), approx, limit: 0, policy: RefPolicy::KeepRef };
                            let removed = s.trim(&spec) as usize;
                            let gone: Vec<StreamId> = m.keys().copied().take(removed).collect();
                            for g in gone { prop_assert!(g < min); m.remove(&g); }
                            if !approx { prop_assert!(m.keys().all(|&k| k >= min)); }
                        }
                        Op::Range(a, b, rev, count) => {
                            let lo = StreamId::new(u64::from(a % 64), u64::from(a / 64 % 4));
                            let hi = StreamId::new(u64::from(b % 64), u64::from(b / 64 % 4));
                            let mut got = Vec::new();
                            s.range(lo, hi, rev, |id, f| {
                                got.push((id, f.iter().map(|x| x.to_vec()).collect::<Vec<_>>()));
                                count == 0 || got.len() < usize::from(count)
                            });
                            let mut want: Vec<(StreamId, Vec<Vec<u8>>)> = if lo <= hi {
                                m.range(lo..=hi).map(|(k, v)| (*k, v.clone())).collect()
                            } else { Vec::new() };
                            if rev { want.reverse(); }
                            if count != 0 { want.truncate(usize::from(count)); }
                            prop_assert_eq!(got, want);
                        }
                    }
                    prop_assert_eq!(s.len(), m.len());
                    prop_assert_eq!(s.last_entry_id(), m.keys().next_back().copied());
                    prop_assert_eq!(s.first_id, m.keys().next().copied().unwrap_or(StreamId::MIN));
                    for (i, lp) in s.nodes.iter().enumerate() {
                        let k = node::id_of(lp);
                        let mm = node::master(lp);
                        prop_assert!(mm.count > 0 || i == 0);
                        if max_entries > 0 { prop_assert!((mm.count + mm.deleted) as u64 <= max_entries); }
                        prop_assert!(node::live_ids(lp, k).count() as i64 == mm.count);
                    }
                }
            }
        }
    }
}
