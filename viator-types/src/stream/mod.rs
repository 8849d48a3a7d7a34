//! Streams: entries ordered by ID, each a list of field/value pairs, plus
//! consumer groups (Redis's `t_stream.c` and `stream.h`).
//!
//! This module is the contract between the stream commands
//! (`viator-store/src/commands/stream.rs`) and the consumer-group commands
//! (`commands/stream_group.rs`): the entry store behind [`Stream`] may
//! change (Redis packs entries into delta-encoded listpacks in a radix
//! tree, which RDB saves as is), the methods below stay.

pub mod groups;

use std::collections::BTreeMap;
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

/// A stream.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// The entries, by ID: the flattened field/value pairs of each.
    entries: BTreeMap<StreamId, Box<[Box<[u8]>]>>,
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

impl Stream {
    /// An empty stream with no groups.
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Number of entries (XLEN).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the stream has no entries (a stream key may exist empty).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// OBJECT ENCODING's name.
    pub fn encoding_name(&self) -> &'static str {
        "stream"
    }

    /// Bytes of memory the value uses, for MEMORY USAGE (an estimate).
    pub fn memory_usage(&self) -> usize {
        let entries: usize = self
            .entries
            .values()
            .map(|f| 64 + f.iter().map(|x| x.len() + 16).sum::<usize>())
            .sum();
        std::mem::size_of::<Stream>()
            + entries
            + self
                .groups
                .values()
                .map(|g| g.memory_usage())
                .sum::<usize>()
    }

    /// Appends an entry of flattened field/value pairs under `id`, which
    /// must be greater than [`Stream::last_id`] unless the stream never had
    /// an entry and `id` is greater than `0-0` (the caller checks, with
    /// Redis's errors).
    pub fn append(&mut self, id: StreamId, fields: &[&[u8]]) {
        if self.entries.is_empty() {
            self.first_id = id;
        }
        let fields = fields.iter().map(|f| Box::<[u8]>::from(*f)).collect();
        self.entries.insert(id, fields);
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
        let mut visit = |id: &StreamId, fields: &[Box<[u8]>]| {
            let flat: Vec<&[u8]> = fields.iter().map(|x| &x[..]).collect();
            f(*id, &flat)
        };
        let r = self.entries.range(start..=end);
        if rev {
            for (id, fields) in r.rev() {
                if !visit(id, fields) {
                    return;
                }
            }
        } else {
            for (id, fields) in r {
                if !visit(id, fields) {
                    return;
                }
            }
        }
    }

    /// XINFO STREAM's `radix-tree-keys`: the number of nodes entries are
    /// packed into.
    pub fn radix_tree_keys(&self) -> usize {
        self.entries.len()
    }

    /// XINFO STREAM's `radix-tree-nodes`: the nodes of the index over those
    /// nodes (Redis counts its radix tree's nodes; an estimate here).
    pub fn radix_tree_nodes(&self) -> usize {
        self.entries.len().max(1)
    }

    /// Whether an entry with this ID is present.
    pub fn contains(&self, id: StreamId) -> bool {
        self.entries.contains_key(&id)
    }

    /// The ID of the last entry present, if any (not [`Stream::last_id`],
    /// which survives deletions).
    pub fn last_entry_id(&self) -> Option<StreamId> {
        self.entries.keys().next_back().copied()
    }

    /// Deletes the entry `id`; returns whether it was there. Updates
    /// [`Stream::first_id`] and [`Stream::max_deleted_id`] as XDEL does.
    /// Consumer-group references to it are the caller's business.
    pub fn delete(&mut self, id: StreamId) -> bool {
        if self.entries.remove(&id).is_none() {
            return false;
        }
        if id > self.max_deleted_id {
            self.max_deleted_id = id;
        }
        if id == self.first_id {
            self.first_id = self.entries.keys().next().copied().unwrap_or(StreamId::MIN);
        }
        true
    }
}

impl Stream {
    /// Sets the node size limits (`stream-node-max-entries`,
    /// `stream-node-max-bytes`; 0 for no limit) that later appends obey.
    pub fn set_node_limits(&mut self, max_entries: u64, max_bytes: u64) {
        let _ = (max_entries, max_bytes);
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

    /// Trims as `spec` says; returns the number of entries removed.
    pub fn trim(&mut self, spec: &TrimSpec) -> u64 {
        let mut removed = 0u64;
        let ids: Vec<StreamId> = self.entries.keys().copied().collect();
        for id in ids {
            let stop = match spec.strategy {
                TrimStrategy::MaxLen(n) => self.len() as u64 <= n,
                TrimStrategy::MinId(min) => id >= min,
            };
            if stop || (spec.limit != 0 && removed >= spec.limit) {
                break;
            }
            if spec.policy == RefPolicy::Acked && self.referenced_by_groups(id) {
                continue;
            }
            if spec.policy == RefPolicy::DelRef {
                self.drop_group_refs(id);
            }
            self.entries.remove(&id);
            removed += 1;
        }
        self.first_id = self.entries.keys().next().copied().unwrap_or(StreamId::MIN);
        removed
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
}
