//! Stream records (Redis's `RDB_TYPE_STREAM_LISTPACKS`, `_2` and `_3`):
//! the nodes as they are (master ID and listpack), the stream's counters,
//! and the consumer groups with their pending entries and consumers.
//!
//! Nodes from a file are checked entry by entry (Redis's
//! `streamValidateListpackIntegrity` in deep mode, plus ID order), so that
//! the stream code, which trusts its nodes, never reads a corrupt one.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use viator_types::listpack::{self, Elem};
use viator_types::stream::StreamId;

use super::{Error, Reader, Writer, value_type as t};

/// A consumer group as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupValue {
    /// The group's name.
    pub name: Vec<u8>,
    /// Its last delivered ID.
    pub last_id: StreamId,
    /// Its entries-read counter (-1: unknown); `None` in the first stream
    /// format, which did not save it: the loader estimates it then, as
    /// Redis does.
    pub entries_read: Option<i64>,
    /// Its pending entries: ID, last delivery time (unix ms), delivery
    /// count. Each belongs to exactly one consumer.
    pub pending: Vec<(StreamId, i64, u64)>,
    /// Its consumers.
    pub consumers: Vec<ConsumerValue>,
}

/// A consumer as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerValue {
    /// Its name.
    pub name: Vec<u8>,
    /// When it was last seen (unix ms).
    pub seen_ms: i64,
    /// When it last read or claimed (unix ms; -1 never).
    pub active_ms: i64,
    /// The IDs of its pending entries.
    pub pending: Vec<StreamId>,
}

/// A stream as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamValue {
    /// The nodes in ID order: master ID and listpack, checked.
    pub nodes: Vec<(StreamId, Vec<u8>)>,
    /// Number of entries.
    pub length: u64,
    /// The last ID ever added.
    pub last_id: StreamId,
    /// The first entry's ID.
    pub first_id: StreamId,
    /// The largest deleted ID.
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Consumer groups, by name order.
    pub groups: Vec<GroupValue>,
}

fn corrupt(what: &'static str) -> Error {
    Error::Corrupt(what)
}

fn id_bytes(id: StreamId) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&id.ms.to_be_bytes());
    b[8..].copy_from_slice(&id.seq.to_be_bytes());
    b
}

fn id_from_bytes(b: &[u8]) -> Option<StreamId> {
    let b: &[u8; 16] = b.try_into().ok()?;
    Some(StreamId::new(
        u64::from_be_bytes(b[..8].try_into().ok()?),
        u64::from_be_bytes(b[8..].try_into().ok()?),
    ))
}

fn int_of(e: Option<&Elem<'_>>) -> Result<i64, Error> {
    match e {
        Some(Elem::Int(v)) => Ok(*v),
        Some(Elem::Bytes(b)) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(corrupt("stream node")),
        None => Err(corrupt("stream node")),
    }
}

/// Checks one node's listpack in Redis's stream layout; returns its number
/// of live entries and the ID of its last entry.
fn check_node(master: StreamId, lp: &[u8]) -> Result<(u64, StreamId), Error> {
    let elems = listpack::entries(lp, 1).map_err(|_| corrupt("stream node listpack"))?;
    let mut it = elems.iter();
    let live = int_of(it.next())?;
    let deleted = int_of(it.next())?;
    let master_fields = int_of(it.next())?;
    if live < 0 || deleted < 0 || master_fields < 0 || live + deleted == 0 {
        return Err(corrupt("stream node counts"));
    }
    for _ in 0..master_fields {
        it.next().ok_or(corrupt("stream node"))?;
    }
    if int_of(it.next())? != 0 {
        return Err(corrupt("stream master entry"));
    }
    let (mut seen_live, mut prev) = (0u64, None::<StreamId>);
    for _ in 0..live + deleted {
        let flags = int_of(it.next())?;
        if !(0..=3).contains(&flags) {
            return Err(corrupt("stream entry flags"));
        }
        let ms = master.ms.checked_add_signed(int_of(it.next())?);
        let seq = master.seq.checked_add_signed(int_of(it.next())?);
        let (Some(ms), Some(seq)) = (ms, seq) else {
            return Err(corrupt("stream entry ID"));
        };
        let id = StreamId::new(ms, seq);
        if id < master || prev.is_some_and(|p| id <= p) {
            return Err(corrupt("stream entry order"));
        }
        prev = Some(id);
        let (mut fields, mut extra) = (master_fields, 3);
        if flags & 2 == 0 {
            fields = int_of(it.next())?;
            if fields < 0 {
                return Err(corrupt("stream entry fields"));
            }
            for _ in 0..fields {
                it.next().ok_or(corrupt("stream node"))?;
            }
            extra += fields + 1;
        }
        for _ in 0..fields {
            it.next().ok_or(corrupt("stream node"))?;
        }
        if int_of(it.next())? != fields + extra {
            return Err(corrupt("stream entry lp-count"));
        }
        if flags & 1 == 0 {
            seen_live += 1;
        }
    }
    if it.next().is_some() || seen_live != live as u64 {
        return Err(corrupt("stream node entries"));
    }
    Ok((seen_live, prev.unwrap_or(master)))
}

fn read_id<R: Read>(r: &mut Reader<R>) -> Result<StreamId, Error> {
    Ok(StreamId::new(r.length()?, r.length()?))
}

fn read_raw_id<R: Read>(r: &mut Reader<R>) -> Result<StreamId, Error> {
    let mut b = [0u8; 16];
    r.exact(&mut b)?;
    Ok(id_from_bytes(&b).unwrap_or_default())
}

/// Reads the value of a stream record of type `rdbtype`.
pub fn read_stream<R: Read>(r: &mut Reader<R>, rdbtype: u8) -> Result<StreamValue, Error> {
    let mut s = StreamValue::default();
    let nodes = r.length()?;
    let mut live_total = 0u64;
    let mut prev_last: Option<StreamId> = None;
    for _ in 0..nodes {
        let key = r.bytes()?;
        let master = id_from_bytes(&key).ok_or(corrupt("stream node key"))?;
        let lp = r.bytes()?;
        if prev_last.is_some_and(|p| master <= p) {
            return Err(corrupt("stream node order"));
        }
        let (live, last) = check_node(master, &lp)?;
        live_total += live;
        prev_last = Some(last);
        s.nodes.push((master, lp));
    }
    s.length = r.length()?;
    if s.length != live_total {
        return Err(corrupt("stream length"));
    }
    s.last_id = read_id(r)?;
    if rdbtype >= t::STREAM_LISTPACKS_2 {
        s.first_id = read_id(r)?;
        s.max_deleted_id = read_id(r)?;
        s.entries_added = r.length()?;
    } else {
        s.entries_added = s.length;
    }
    if prev_last.is_some_and(|p| p > s.last_id) {
        return Err(corrupt("stream last ID"));
    }
    let ngroups = r.length()?;
    for _ in 0..ngroups {
        let name = r.bytes()?;
        let last_id = read_id(r)?;
        let entries_read = if rdbtype >= t::STREAM_LISTPACKS_2 {
            Some(r.length()? as i64)
        } else {
            None
        };
        let mut pel: BTreeMap<StreamId, (i64, u64, bool)> = BTreeMap::new();
        for _ in 0..r.length()? {
            let id = read_raw_id(r)?;
            let time = r.u64_le()? as i64;
            let count = r.length()?;
            if pel.insert(id, (time, count, false)).is_some() {
                return Err(corrupt("duplicate pending entry"));
            }
        }
        let mut consumers = Vec::new();
        for _ in 0..r.length()? {
            let name = r.bytes()?;
            let seen_ms = r.u64_le()? as i64;
            let active_ms = if rdbtype >= t::STREAM_LISTPACKS_3 {
                r.u64_le()? as i64
            } else {
                seen_ms
            };
            let mut mine = Vec::new();
            for _ in 0..r.length()? {
                let id = read_raw_id(r)?;
                match pel.get_mut(&id) {
                    Some((_, _, owned @ false)) => *owned = true,
                    _ => return Err(corrupt("consumer pending entry not in the group's")),
                }
                mine.push(id);
            }
            consumers.push(ConsumerValue {
                name,
                seen_ms,
                active_ms,
                pending: mine,
            });
        }
        if pel.values().any(|p| !p.2) {
            return Err(corrupt("pending entry without a consumer"));
        }
        let pending = pel
            .into_iter()
            .map(|(id, (time, count, _))| (id, time, count))
            .collect();
        s.groups.push(GroupValue {
            name,
            last_id,
            entries_read,
            pending,
            consumers,
        });
    }
    if rdbtype == t::STREAM_LISTPACKS {
        s.first_id = s
            .nodes
            .first()
            .map(|(m, lp)| first_live_id(*m, lp))
            .unwrap_or_default();
    }
    Ok(s)
}

/// The first live entry's ID of a checked node (`master` when none).
fn first_live_id(master: StreamId, lp: &[u8]) -> StreamId {
    let Ok(elems) = listpack::entries(lp, 1) else {
        return master;
    };
    let n = int_of(elems.get(2)).unwrap_or(0).max(0) as usize;
    let mut i = 4 + n;
    while i + 2 < elems.len() {
        let flags = int_of(elems.get(i)).unwrap_or(0);
        let id = StreamId::new(
            master
                .ms
                .wrapping_add_signed(int_of(elems.get(i + 1)).unwrap_or(0)),
            master
                .seq
                .wrapping_add_signed(int_of(elems.get(i + 2)).unwrap_or(0)),
        );
        if flags & 1 == 0 {
            return id;
        }
        let fields = if flags & 2 == 0 {
            let f = int_of(elems.get(i + 3)).unwrap_or(0).max(0) as usize;
            1 + 2 * f
        } else {
            n
        };
        i += 3 + fields + 1;
    }
    master
}

/// A stream to write: the parts of `viator_types::stream::Stream` a
/// record holds.
pub struct StreamParts<'a, N: Iterator<Item = (StreamId, &'a [u8])>> {
    /// Number of nodes.
    pub node_count: usize,
    /// The nodes, in ID order.
    pub nodes: N,
    /// Number of entries.
    pub length: u64,
    /// Last ID ever added.
    pub last_id: StreamId,
    /// First entry's ID.
    pub first_id: StreamId,
    /// Largest deleted ID.
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
}

impl<W: Write> Writer<W> {
    /// The value of a `STREAM_LISTPACKS_3` record (groups included).
    pub fn stream_value<'a, N: Iterator<Item = (StreamId, &'a [u8])>>(
        &mut self,
        s: StreamParts<'a, N>,
        groups: &[GroupValue],
        version: u16,
    ) -> io::Result<()> {
        self.length(s.node_count as u64)?;
        for (master, lp) in s.nodes {
            self.string(&id_bytes(master))?;
            self.string(lp)?;
        }
        self.length(s.length)?;
        self.length(s.last_id.ms)?;
        self.length(s.last_id.seq)?;
        self.length(s.first_id.ms)?;
        self.length(s.first_id.seq)?;
        self.length(s.max_deleted_id.ms)?;
        self.length(s.max_deleted_id.seq)?;
        self.length(s.entries_added)?;
        self.length(groups.len() as u64)?;
        for g in groups {
            self.string(&g.name)?;
            self.length(g.last_id.ms)?;
            self.length(g.last_id.seq)?;
            self.length(g.entries_read.unwrap_or(-1) as u64)?;
            self.length(g.pending.len() as u64)?;
            for (id, time, count) in &g.pending {
                self.bytes(&id_bytes(*id))?;
                self.u64_le(*time as u64)?;
                self.length(*count)?;
            }
            self.length(g.consumers.len() as u64)?;
            for c in &g.consumers {
                self.string(&c.name)?;
                self.u64_le(c.seen_ms as u64)?;
                if version >= 11 {
                    self.u64_le(c.active_ms as u64)?;
                }
                self.length(c.pending.len() as u64)?;
                for id in &c.pending {
                    self.bytes(&id_bytes(*id))?;
                }
            }
        }
        Ok(())
    }
}
