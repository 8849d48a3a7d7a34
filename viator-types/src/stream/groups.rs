//! Consumer groups of a stream: each group's last delivered ID, its
//! pending entries list (PEL) and its consumers (Redis's `streamCG`,
//! `streamNACK`, `streamConsumer`).

use std::collections::{BTreeMap, BTreeSet};

use super::{Stream, StreamId};

/// A pending entry: delivered to a consumer of the group, not acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// The consumer that owns it now.
    pub consumer: Box<[u8]>,
    /// When it was last delivered, in unix milliseconds.
    pub delivery_time_ms: i64,
    /// How many times it was delivered.
    pub delivery_count: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consumer {
    /// When it last tried anything (XINFO's `seen-time`), unix ms.
    pub seen_time_ms: i64,
    /// When it last read or claimed something (XINFO's `active-time`),
    /// unix ms, -1 for never.
    pub active_time_ms: i64,
    /// The IDs of its pending entries (each also in the group's PEL).
    pub pending: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerGroup {
    /// The last ID delivered to the group's consumers.
    pub last_id: StreamId,
    /// The logical count of entries read by the group, or -1 when unknown
    /// (XINFO's `entries-read`; Redis's `SCG_INVALID_ENTRIES_READ`).
    pub entries_read: i64,
    /// The pending entries, by ID.
    pub pel: BTreeMap<StreamId, PendingEntry>,
    /// The consumers, by name.
    pub consumers: BTreeMap<Box<[u8]>, Consumer>,
}

impl ConsumerGroup {
    /// A group that starts after `last_id`, with `entries_read` (-1:
    /// unknown).
    pub fn new(last_id: StreamId, entries_read: i64) -> ConsumerGroup {
        ConsumerGroup {
            last_id,
            entries_read,
            ..ConsumerGroup::default()
        }
    }

    /// Bytes of memory the group uses (an estimate, for MEMORY USAGE).
    pub fn memory_usage(&self) -> usize {
        let consumers: usize = self
            .consumers
            .iter()
            .map(|(name, c)| 64 + name.len() + c.pending.len() * 24)
            .sum();
        let pel: usize = self.pel.values().map(|p| 56 + p.consumer.len()).sum();
        std::mem::size_of::<ConsumerGroup>() + consumers + pel
    }

    /// Removes `id` from the PEL and from its consumer's list; returns
    /// whether it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(p) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(c) = self.consumers.get_mut(&p.consumer) {
            c.pending.remove(&id);
        }
        true
    }
}

impl Stream {
    /// Whether some consumer group still needs entry `id`: it is pending in
    /// a group, or a group has not had it delivered yet. The ACKED policy
    /// of XADD/XTRIM/XDELEX deletes only entries no group needs.
    pub fn referenced_by_groups(&self, id: StreamId) -> bool {
        self.groups
            .values()
            .any(|g| id > g.last_id || g.pel.contains_key(&id))
    }

    /// Removes entry `id` from every group's PEL (the DELREF policy).
    pub fn drop_group_refs(&mut self, id: StreamId) {
        for g in self.groups.values_mut() {
            g.ack(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_acks() {
        let mut s = Stream::new();
        s.append(StreamId::new(1, 0), &[b"f", b"v"]);
        s.append(StreamId::new(2, 0), &[b"f", b"v"]);
        assert!(!s.referenced_by_groups(StreamId::new(1, 0)));
        let mut g = ConsumerGroup::new(StreamId::new(1, 0), 1);
        g.pel.insert(
            StreamId::new(1, 0),
            PendingEntry {
                consumer: b"alice"[..].into(),
                delivery_time_ms: 5,
                delivery_count: 1,
            },
        );
        g.consumers
            .entry(b"alice"[..].into())
            .or_default()
            .pending
            .insert(StreamId::new(1, 0));
        s.groups.insert(b"g"[..].into(), g);
        assert!(s.referenced_by_groups(StreamId::new(1, 0)), "pending");
        assert!(s.referenced_by_groups(StreamId::new(2, 0)), "not delivered");
        s.drop_group_refs(StreamId::new(1, 0));
        assert!(!s.referenced_by_groups(StreamId::new(1, 0)));
        assert!(
            s.groups[&b"g"[..]].consumers[&b"alice"[..]]
                .pending
                .is_empty()
        );
    }
}
