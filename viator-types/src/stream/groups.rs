//! Consumer groups of a stream: each group's last delivered ID, its
//! pending entries list (PEL) and its consumers (Redis's `streamCG`,
//! `streamNACK`, `streamConsumer`), and the group arithmetic of
//! `t_stream.c`: the logical read counter (`entries-read`) and the lag.
//!
//! A pending entry is indexed three ways, as in Redis: by ID in the group
//! (`pel`), by ID in its consumer (`Consumer::pending`), and by delivery
//! time (a private index, Redis 8.4's time-ordered PEL list), so that
//! XREADGROUP ... CLAIM finds the entries idle long enough without
//! scanning the whole PEL. Change the PEL through the methods here, which
//! keep the three in step.

use std::collections::{BTreeMap, BTreeSet};

use super::{Stream, StreamId};

/// The largest delivery count: Redis's counter is a `long long` that
/// stops at `LLONG_MAX`.
pub const MAX_DELIVERY_COUNT: u64 = i64::MAX as u64;

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

impl Consumer {
    /// A consumer created at `now_ms` that never read anything (Redis's
    /// `streamCreateConsumer`).
    pub fn new(now_ms: i64) -> Consumer {
        Consumer {
            seen_time_ms: now_ms,
            active_time_ms: -1,
            pending: BTreeSet::new(),
        }
    }
}

/// A consumer group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerGroup {
    /// The last ID delivered to the group's consumers.
    pub last_id: StreamId,
    /// The logical count of entries read by the group, or -1 when unknown
    /// (XINFO's `entries-read`; Redis's `SCG_INVALID_ENTRIES_READ`).
    pub entries_read: i64,
    /// The pending entries, by ID. Change it through the methods of
    /// [`ConsumerGroup`], which keep the consumers' lists and the time
    /// index in step.
    pub pel: BTreeMap<StreamId, PendingEntry>,
    /// The consumers, by name.
    pub consumers: BTreeMap<Box<[u8]>, Consumer>,
    /// Every pending entry as (delivery time, ID): oldest delivery first.
    by_time: BTreeSet<(i64, StreamId)>,
}

/// What [`ConsumerGroup::deliver`] did with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// A new pending entry.
    New,
    /// The entry was pending already (the group's last ID was set back):
    /// it now belongs to the reader, delivered once.
    Reassigned,
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
        let pel: usize = self.pel.values().map(|p| 80 + p.consumer.len()).sum();
        std::mem::size_of::<ConsumerGroup>() + consumers + pel
    }

    /// Creates consumer `name` at `now_ms` unless it exists; returns
    /// whether it was created.
    pub fn create_consumer(&mut self, name: &[u8], now_ms: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(name.into(), Consumer::new(now_ms));
        true
    }

    /// Deletes consumer `name` and its pending entries (from the group's
    /// PEL too, as Redis's `streamDelConsumer`); returns how many entries
    /// it had pending, or `None` if there is no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pending {
            if let Some(p) = self.pel.remove(id) {
                self.by_time.remove(&(p.delivery_time_ms, *id));
            }
        }
        Some(c.pending.len())
    }

    /// Removes `id` from the PEL and from its consumer's list; returns
    /// whether it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(p) = self.pel.remove(&id) else {
            return false;
        };
        self.by_time.remove(&(p.delivery_time_ms, id));
        if let Some(c) = self.consumers.get_mut(&p.consumer) {
            c.pending.remove(&id);
        }
        true
    }

    /// Records that entry `id` was delivered to `consumer` (which must
    /// exist) at `now_ms` by XREADGROUP: a new pending entry delivered
    /// once, or, if it was pending already, the entry moves to `consumer`
    /// with its delivery count back to 1 (Redis's `streamReplyWithRange`).
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now_ms: i64) -> Delivered {
        let how = if let Some(p) = self.pel.get(&id) {
            let (old_owner, old_time) = (p.consumer.clone(), p.delivery_time_ms);
            self.by_time.remove(&(old_time, id));
            if *old_owner != *consumer
                && let Some(c) = self.consumers.get_mut(&old_owner)
            {
                c.pending.remove(&id);
            }
            Delivered::Reassigned
        } else {
            Delivered::New
        };
        self.pel.insert(
            id,
            PendingEntry {
                consumer: consumer.into(),
                delivery_time_ms: now_ms,
                delivery_count: 1,
            },
        );
        self.by_time.insert((now_ms, id));
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pending.insert(id);
        }
        how
    }

    /// Gives pending entry `id` to `consumer` (which must exist), last
    /// delivered at `delivery_time_ms`, with `delivery_count` (XCLAIM,
    /// XAUTOCLAIM, XREADGROUP ... CLAIM). Creates the entry if it is not
    /// pending (XCLAIM ... FORCE). Returns the previous delivery count, 0
    /// for a new entry.
    pub fn claim(
        &mut self,
        id: StreamId,
        consumer: &[u8],
        delivery_time_ms: i64,
        delivery_count: impl FnOnce(u64) -> u64,
    ) -> u64 {
        let (old_owner, old_count) = match self.pel.get(&id) {
            Some(p) => {
                self.by_time.remove(&(p.delivery_time_ms, id));
                (Some(p.consumer.clone()), p.delivery_count)
            }
            None => (None, 0),
        };
        if let Some(old) = &old_owner
            && **old != *consumer
            && let Some(c) = self.consumers.get_mut(old)
        {
            c.pending.remove(&id);
        }
        let owner: Box<[u8]> = match old_owner {
            Some(o) if *o == *consumer => o,
            _ => consumer.into(),
        };
        self.pel.insert(
            id,
            PendingEntry {
                consumer: owner,
                delivery_time_ms,
                delivery_count: delivery_count(old_count).min(MAX_DELIVERY_COUNT),
            },
        );
        self.by_time.insert((delivery_time_ms, id));
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pending.insert(id);
        }
        old_count
    }

    /// Marks pending entry `id` delivered again at `now_ms` (an XREADGROUP
    /// of the consumer's history): its time is now and its count one more.
    pub fn redeliver(&mut self, id: StreamId, now_ms: i64) {
        if let Some(p) = self.pel.get_mut(&id) {
            self.by_time.remove(&(p.delivery_time_ms, id));
            p.delivery_time_ms = now_ms;
            p.delivery_count = (p.delivery_count + 1).min(MAX_DELIVERY_COUNT);
            self.by_time.insert((now_ms, id));
        }
    }

    /// The pending entry after `after` in delivery-time order.
    pub fn next_by_time(&self, after: (i64, StreamId)) -> Option<(i64, StreamId)> {
        use std::ops::Bound::{Excluded, Unbounded};
        self.by_time
            .range((Excluded(after), Unbounded))
            .next()
            .copied()
    }

    /// The pending entries in delivery-time order, oldest first, as
    /// (delivery time, ID).
    pub fn by_delivery_time(&self) -> impl Iterator<Item = (i64, StreamId)> + '_ {
        self.by_time.iter().copied()
    }
}

/// Idle time as Redis computes it for CLAIM (`uint64_t idle = now -
/// delivery_time`): a delivery time in the future wraps to a huge idle.
pub fn claim_idle(now_ms: i64, delivery_time_ms: i64) -> u64 {
    now_ms.wrapping_sub(delivery_time_ms) as u64
}

impl Stream {
    /// Whether some consumer group still needs entry `id`: it is pending in
    /// a group, or a group has not had it delivered yet. The ACKED policy
    /// of XADD/XTRIM/XDELEX/XACKDEL deletes only entries no group needs.
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

    /// Whether the range from `start` to `end` (the last possible ID when
    /// `None`) may hold a deleted entry (Redis's
    /// `streamRangeHasTombstones`): only the largest deleted ID is known.
    pub fn range_has_tombstones(&self, start: StreamId, end: Option<StreamId>) -> bool {
        if self.is_empty() || self.max_deleted_id == StreamId::MIN {
            return false;
        }
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// The logical read counter of `id`: how many entries were added up
    /// to it since the first one ever, or -1 when that cannot be known
    /// (Redis's `streamEstimateDistanceFromFirstEverEntry`).
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return 0;
        }
        if self.is_empty() && id <= self.last_id {
            return added;
        }
        if id != StreamId::MIN && id < self.max_deleted_id {
            return -1;
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return added,
            std::cmp::Ordering::Greater => return -1,
            std::cmp::Ordering::Less => {}
        }
        if self.max_deleted_id == StreamId::MIN || self.max_deleted_id < self.first_id {
            let len = self.len() as i64;
            match id.cmp(&self.first_id) {
                std::cmp::Ordering::Less => return added - len,
                std::cmp::Ordering::Equal => return added - len + 1,
                std::cmp::Ordering::Greater => {}
            }
        }
        -1
    }

    /// A group's lag: the entries not delivered to it yet, or `None` when
    /// deletions make it unknowable (Redis's `streamReplyWithCGLag`).
    pub fn group_lag(&self, g: &ConsumerGroup) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 || self.is_empty() {
            return Some(0);
        }
        if g.last_id < self.first_id && self.max_deleted_id < self.first_id {
            return Some(self.len() as i64);
        }
        if g.entries_read != -1 && !self.range_has_tombstones(g.last_id, None) {
            return Some(added.wrapping_sub(g.entries_read));
        }
        match self.estimate_distance(g.last_id) {
            -1 => None,
            read => Some(added.wrapping_sub(read)),
        }
    }

    /// Moves `g`'s last delivered ID up to `id` (an entry of this stream
    /// just delivered to it) and updates its read counter as XREADGROUP
    /// does: one more when the counter is valid and nothing was deleted
    /// ahead of the group, otherwise estimated again.
    pub fn advance_group(&self, g: &mut ConsumerGroup, id: StreamId) {
        if id <= g.last_id {
            return;
        }
        if g.entries_read != -1
            && g.last_id >= self.first_id
            && !self.range_has_tombstones(g.last_id, None)
        {
            g.entries_read += 1;
        } else if self.entries_added != 0 {
            g.entries_read = self.estimate_distance(id);
        }
        g.last_id = id;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64) -> StreamId {
        StreamId::new(ms, 0)
    }

    /// Every pending entry is in the group's PEL, its consumer's list and
    /// the time index, and nowhere else.
    fn check(g: &ConsumerGroup) {
        let mut from_consumers = 0;
        for (name, c) in &g.consumers {
            for i in &c.pending {
                assert_eq!(&*g.pel[i].consumer, &**name);
                from_consumers += 1;
            }
        }
        assert_eq!(from_consumers, g.pel.len());
        assert_eq!(g.by_time.len(), g.pel.len());
        for (t, i) in &g.by_time {
            assert_eq!(g.pel[i].delivery_time_ms, *t);
        }
    }

    #[test]
    fn references_and_acks() {
        let mut s = Stream::new();
        s.append(id(1), &[b"f", b"v"]);
        s.append(id(2), &[b"f", b"v"]);
        assert!(!s.referenced_by_groups(id(1)));
        let mut g = ConsumerGroup::new(id(1), 1);
        g.create_consumer(b"alice", 0);
        g.deliver(id(1), b"alice", 5);
        s.groups.insert(b"g"[..].into(), g);
        assert!(s.referenced_by_groups(id(1)), "pending");
        assert!(s.referenced_by_groups(id(2)), "not delivered");
        s.drop_group_refs(id(1));
        assert!(!s.referenced_by_groups(id(1)));
        let g = &s.groups[&b"g"[..]];
        assert!(g.consumers[&b"alice"[..]].pending.is_empty());
        check(g);
    }

    #[test]
    fn deliver_claim_and_delete_consumers() {
        let mut g = ConsumerGroup::new(StreamId::MIN, 0);
        assert!(g.create_consumer(b"a", 1));
        assert!(!g.create_consumer(b"a", 2));
        g.create_consumer(b"b", 1);
        assert_eq!(g.deliver(id(1), b"a", 10), Delivered::New);
        assert_eq!(g.deliver(id(2), b"a", 11), Delivered::New);
        assert_eq!(g.deliver(id(3), b"b", 12), Delivered::New);
        check(&g);
        // Claimed by b: counter and time as the caller says.
        assert_eq!(g.claim(id(1), b"b", 20, |c| c + 1), 1);
        assert_eq!(g.pel[&id(1)].delivery_count, 2);
        assert_eq!(&*g.pel[&id(1)].consumer, b"b");
        check(&g);
        let order: Vec<StreamId> = g.by_delivery_time().map(|(_, i)| i).collect();
        assert_eq!(order, vec![id(2), id(3), id(1)]);
        // Delivered again to a: back to one delivery.
        assert_eq!(g.deliver(id(1), b"a", 30), Delivered::Reassigned);
        assert_eq!(g.pel[&id(1)].delivery_count, 1);
        check(&g);
        g.redeliver(id(2), 40);
        assert_eq!(g.pel[&id(2)].delivery_count, 2);
        check(&g);
        // Saturating counter.
        g.claim(id(3), b"b", 50, |_| u64::MAX);
        assert_eq!(g.pel[&id(3)].delivery_count, MAX_DELIVERY_COUNT);
        assert_eq!(g.delete_consumer(b"a"), Some(2));
        assert_eq!(g.delete_consumer(b"a"), None);
        assert_eq!(g.pel.len(), 1);
        check(&g);
        assert!(g.ack(id(3)));
        assert!(!g.ack(id(3)));
        check(&g);
    }

    #[test]
    fn lag_and_read_counter() {
        let mut s = Stream::new();
        let g0 = ConsumerGroup::new(StreamId::MIN, 0);
        assert_eq!(s.group_lag(&g0), Some(0));
        for ms in 1..=5 {
            s.append(id(ms), &[b"f", b"v"]);
        }
        // A group from the start: exact counters.
        let mut g = ConsumerGroup::new(StreamId::MIN, -1);
        assert_eq!(s.group_lag(&g), Some(5));
        s.advance_group(&mut g, id(1));
        assert_eq!((g.entries_read, s.group_lag(&g)), (1, Some(4)));
        s.advance_group(&mut g, id(2));
        assert_eq!((g.entries_read, s.group_lag(&g)), (2, Some(3)));
        // Deleting ahead of the group makes the lag unknown...
        s.delete(id(4));
        assert_eq!(s.group_lag(&g), None);
        assert_eq!(s.estimate_distance(id(2)), -1);
        // ...until the group passes the deletion.
        s.advance_group(&mut g, id(5));
        assert_eq!((g.entries_read, s.group_lag(&g)), (5, Some(0)));
        assert_eq!(s.estimate_distance(id(5)), 5);
        assert_eq!(s.estimate_distance(id(6)), -1);
        // First entry and before it, without tombstones ahead.
        let mut t = Stream::new();
        for ms in 1..=4 {
            t.append(id(ms), &[b"f", b"v"]);
        }
        t.delete(id(1));
        assert_eq!(t.estimate_distance(id(2)), 2);
        assert_eq!(
            t.estimate_distance(id(1)),
            1,
            "before the first entry, deletions all behind it"
        );
        assert!(t.range_has_tombstones(StreamId::MIN, None));
        assert!(!t.range_has_tombstones(id(2), None));
        // Every entry deleted: the lag is 0.
        for ms in 2..=4 {
            t.delete(id(ms));
        }
        assert_eq!(t.group_lag(&ConsumerGroup::new(StreamId::MIN, -1)), Some(0));
        assert_eq!(t.estimate_distance(id(3)), 4);
    }

    #[test]
    fn claim_idle_wraps_like_redis() {
        assert_eq!(claim_idle(100, 40), 60);
        assert!(claim_idle(100, 200) > u64::MAX / 2);
    }
}
