//! Between Viator's in-memory values (`viator_types`) and RDB records:
//! [`write_key`] saves a key as Redis 7.4+ would save it in the same
//! encoding, [`entry_from_record`] builds a key from a loaded record with
//! the encodings the current thresholds call for, as Redis's
//! `rdbLoadObject` does.

use std::io::{self, Write};

use viator_types::entry::{Entry, NewValue, Object, StrRef};
use viator_types::hash::{self, ExpireCond, Hash};
use viator_types::list::{End, List};
use viator_types::listpack::Builder;
use viator_types::set::{Set, SetLimits};
use viator_types::stream::{ConsumerGroup, Stream, StreamId};
use viator_types::zset::{self, ZSet};

use crate::rdb::stream::{ConsumerValue, GroupValue, StreamParts, StreamValue};
use crate::rdb::value::{HashField, ListNode, Value, intset_blob};
use crate::rdb::{Error, Writer, opcode, value_type as t};

/// The encoding thresholds in force when loading (the `*-max-*` options).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `list-max-listpack-size`.
    pub list_fill: i64,
    /// `list-compress-depth`.
    pub list_compress: i64,
    /// `hash-max-listpack-entries` and `-value`.
    pub hash: hash::Limits,
    /// `set-max-*`.
    pub set: SetLimits,
    /// `zset-max-listpack-entries` and `-value`.
    pub zset: zset::Limits,
    /// `stream-node-max-entries` and `stream-node-max-bytes`.
    pub stream_node: (u64, u64),
}

impl Default for Limits {
    /// Redis's defaults.
    fn default() -> Limits {
        Limits {
            list_fill: -2,
            list_compress: 0,
            hash: hash::Limits {
                max_entries: 512,
                max_value: 64,
            },
            set: SetLimits::default(),
            zset: zset::Limits {
                max_entries: 128,
                max_value: 64,
            },
            stream_node: (100, 4096),
        }
    }
}

/// Bytes of elements per packed list node when saving: the node size of
/// the default `list-max-listpack-size` (-2, 8 KB).
const LIST_NODE_BYTES: usize = 8 * 1024;

/// Writes `entry` as Redis writes a key: its expire time, the value's
/// type, the key and the value. For RDB `version` 10 (Redis 7.0), which
/// has no set listpacks, a listpack set is written as a plain set; a hash
/// with field expire times cannot be written in a version before 12.
pub fn write_key<W: Write>(w: &mut Writer<W>, entry: &Entry, version: u16) -> io::Result<()> {
    if let Some(at) = entry.expire_ms() {
        w.u8(opcode::EXPIRETIME_MS)?;
        w.u64_le(at as u64)?;
    }
    write_key_value(w, entry, version)
}

/// Writes `entry`'s type, key and value (the record after its opcodes).
pub fn write_key_value<W: Write>(w: &mut Writer<W>, entry: &Entry, version: u16) -> io::Result<()> {
    write_typed(w, entry, version, Some(entry.key()))
}

/// Writes `entry`'s value as DUMP serializes it: its type, then the value
/// (no key, no expire time; the caller adds the footer).
pub fn write_value<W: Write>(w: &mut Writer<W>, entry: &Entry, version: u16) -> io::Result<()> {
    write_typed(w, entry, version, None)
}

/// Writes a record's type byte, then the key when there is one.
fn header<W: Write>(w: &mut Writer<W>, value_type: u8, key: Option<&[u8]>) -> io::Result<()> {
    w.u8(value_type)?;
    match key {
        Some(k) => w.string(k),
        None => Ok(()),
    }
}

fn write_typed<W: Write>(
    w: &mut Writer<W>,
    entry: &Entry,
    version: u16,
    key: Option<&[u8]>,
) -> io::Result<()> {
    if let Some(s) = entry.as_str() {
        header(w, t::STRING, key)?;
        return match s {
            StrRef::Int(v) => w.int_string(v),
            StrRef::Bytes(b) => w.string(b),
        };
    }
    match entry.as_object() {
        Some(Object::List(l)) => {
            header(w, t::LIST_QUICKLIST_2, key)?;
            write_list(w, l)
        }
        Some(Object::Set(s)) => write_set(w, key, s, version),
        Some(Object::ZSet(z)) => write_zset(w, key, z),
        Some(Object::Hash(h)) if version < 12 && h.min_expire().is_some() => Err(io::Error::other(
            "hash field expire times need RDB version 12",
        )),
        Some(Object::Hash(h)) => write_hash(w, key, h),
        Some(Object::Stream(s)) => {
            header(
                w,
                if version >= 11 {
                    t::STREAM_LISTPACKS_3
                } else {
                    t::STREAM_LISTPACKS_2
                },
                key,
            )?;
            write_stream(w, s, version)
        }
        None => Err(io::Error::other(
            "an entry that is neither a string nor an object",
        )),
    }
}

fn write_stream<W: Write>(w: &mut Writer<W>, s: &Stream, version: u16) -> io::Result<()> {
    let groups: Vec<GroupValue> = s
        .groups
        .iter()
        .map(|(name, g)| GroupValue {
            name: name.to_vec(),
            last_id: g.last_id,
            entries_read: Some(g.entries_read),
            pending: g
                .pel
                .iter()
                .map(|(id, p)| (*id, p.delivery_time_ms, p.delivery_count))
                .collect(),
            consumers: g
                .consumers
                .iter()
                .map(|(name, c)| ConsumerValue {
                    name: name.to_vec(),
                    seen_ms: c.seen_time_ms,
                    active_ms: c.active_time_ms,
                    pending: c.pending.iter().copied().collect(),
                })
                .collect(),
        })
        .collect();
    let parts = StreamParts {
        node_count: s.nodes().count(),
        nodes: s.nodes(),
        length: s.len() as u64,
        last_id: s.last_id,
        first_id: s.first_id,
        max_deleted_id: s.max_deleted_id,
        entries_added: s.entries_added,
    };
    w.stream_value(parts, &groups, version)
}

fn stream_from_value(v: StreamValue, limits: &Limits) -> Stream {
    let mut s = Stream::new();
    s.set_node_limits(limits.stream_node.0, limits.stream_node.1);
    for (master, lp) in v.nodes {
        s.insert_node(master, lp);
    }
    s.last_id = v.last_id;
    s.first_id = v.first_id;
    s.max_deleted_id = v.max_deleted_id;
    s.entries_added = v.entries_added;
    for g in v.groups {
        let entries_read = g
            .entries_read
            .unwrap_or_else(|| s.estimate_distance(g.last_id));
        let mut group = ConsumerGroup::new(g.last_id, entries_read);
        let pel: std::collections::HashMap<StreamId, (i64, u64)> =
            g.pending.iter().map(|(id, t, c)| (*id, (*t, *c))).collect();
        for c in g.consumers {
            group.create_consumer(&c.name, c.seen_ms);
            if let Some(consumer) = group.consumers.get_mut(c.name.as_slice()) {
                consumer.seen_time_ms = c.seen_ms;
                consumer.active_time_ms = c.active_ms;
            }
            for id in c.pending {
                if let Some(&(time, count)) = pel.get(&id) {
                    group.claim(id, &c.name, time, |_| count);
                }
            }
        }
        s.groups.insert(g.name.into(), group);
    }
    s
}

fn write_list<W: Write>(w: &mut Writer<W>, l: &List) -> io::Result<()> {
    // Nodes of about the default size; Redis re-applies its own limits
    // when it loads them.
    let mut nodes: Vec<Vec<u8>> = Vec::new();
    let mut current = Builder::new();
    let mut bytes = 0;
    l.for_each(|e| {
        if !current.is_empty() && bytes + e.len() > LIST_NODE_BYTES {
            nodes.push(std::mem::take(&mut current).finish());
            bytes = 0;
        }
        bytes += e.len();
        current.push(e);
    });
    if !current.is_empty() {
        nodes.push(current.finish());
    }
    let refs: Vec<ListNode<'_>> = nodes.iter().map(|n| ListNode::Packed(n)).collect();
    w.list_value(&refs)
}

fn write_set<W: Write>(
    w: &mut Writer<W>,
    key: Option<&[u8]>,
    s: &Set,
    version: u16,
) -> io::Result<()> {
    if s.is_intset() {
        let mut members = Vec::with_capacity(s.len());
        s.for_each_elem(|e| {
            if let Some(v) = e.as_int() {
                members.push(v)
            }
        });
        members.sort_unstable();
        header(w, t::SET_INTSET, key)?;
        return w.blob_value(&intset_blob(&members));
    }
    if s.is_listpack() && version >= 11 {
        let mut b = Builder::new();
        s.for_each(|m| b.push(m));
        header(w, t::SET_LISTPACK, key)?;
        return w.blob_value(&b.finish());
    }
    header(w, t::SET, key)?;
    let members = s.to_vecs();
    w.set_value(members.len(), members.iter().map(Vec::as_slice))
}

fn write_zset<W: Write>(w: &mut Writer<W>, key: Option<&[u8]>, z: &ZSet) -> io::Result<()> {
    if z.encoding_name() == "listpack" {
        let mut b = Builder::new();
        let mut score_text = [0u8; 32];
        z.for_each(|m, score| {
            b.push(m);
            let n = viator_protocol::format_double(score, &mut score_text);
            b.push(&score_text[..n]);
        });
        header(w, t::ZSET_LISTPACK, key)?;
        return w.blob_value(&b.finish());
    }
    header(w, t::ZSET_2, key)?;
    // Highest rank first, as Redis, so that loading inserts at the head.
    let mut members: Vec<(Vec<u8>, f64)> = Vec::with_capacity(z.len());
    z.walk(z.len().saturating_sub(1), true, |m, s| {
        members.push((m.to_vec(), s));
        true
    });
    w.zset_value(
        members.len(),
        members.iter().map(|(m, s)| (m.as_slice(), *s)),
    )
}

fn write_hash<W: Write>(w: &mut Writer<W>, key: Option<&[u8]>, h: &Hash) -> io::Result<()> {
    let min_expire = h.min_expire().map(|t| t as u64);
    match h.encoding_name() {
        "listpack" | "listpackex" => {
            let ex = h.encoding_name() == "listpackex";
            let mut b = Builder::new();
            for (name, value, expire) in h.iter() {
                b.push(name);
                b.push(value);
                if ex {
                    b.push_int(expire.unwrap_or(0));
                }
            }
            header(
                w,
                if ex {
                    t::HASH_LISTPACK_EX
                } else {
                    t::HASH_LISTPACK
                },
                key,
            )?;
            if ex {
                w.hash_listpack_ex_value(min_expire, &b.finish())
            } else {
                w.blob_value(&b.finish())
            }
        }
        _ => {
            header(
                w,
                if min_expire.is_some() {
                    t::HASH_METADATA
                } else {
                    t::HASH
                },
                key,
            )?;
            let fields: Vec<(Vec<u8>, Vec<u8>, Option<u64>)> = h
                .iter()
                .map(|(f, v, e)| (f.to_vec(), v.to_vec(), e.map(|t| t as u64)))
                .collect();
            w.hash_value(
                fields.len(),
                min_expire,
                fields
                    .iter()
                    .map(|(f, v, e)| (f.as_slice(), v.as_slice(), *e)),
            )
        }
    }
}

/// Builds the key of a loaded record. `None` when there is nothing to
/// keep: an empty collection, or a hash whose every field had expired by
/// `now_ms` (Redis skips both). Duplicate members or fields are corruption.
pub fn entry_from_record(
    key: &[u8],
    value: Value,
    expire_ms: Option<i64>,
    limits: &Limits,
    now_ms: i64,
) -> Result<Option<Entry>, Error> {
    let object = match value {
        Value::String(s) => {
            let mut e = Entry::new_string(key, &s);
            e.set_expire_ms(expire_ms);
            return Ok(Some(e));
        }
        Value::List(items) if items.is_empty() => return Ok(None),
        Value::List(items) => {
            let mut list = List::new();
            let bytes = items.iter().map(Vec::len).sum();
            list.grow_check(limits.list_fill, limits.list_compress, bytes, items.len());
            for item in &items {
                list.push(item, End::Tail, limits.list_fill);
            }
            list.auto_convert(limits.list_fill, limits.list_compress);
            Object::List(list)
        }
        Value::Set(members) => {
            let Some(first) = members.first() else {
                return Ok(None);
            };
            let mut set = Set::create(first, members.len(), &limits.set);
            for m in &members {
                if !set.add(m, &limits.set) {
                    return Err(Error::Corrupt("duplicate set member"));
                }
            }
            Object::Set(set)
        }
        Value::ZSet(pairs) => {
            if pairs.is_empty() {
                return Ok(None);
            }
            let max_len = pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
            let mut z = ZSet::with_hint(pairs.len(), max_len, limits.zset);
            for (m, score) in &pairs {
                if z.score(m).is_some() {
                    return Err(Error::Corrupt("duplicate sorted set member"));
                }
                z.insert_new(m, *score, limits.zset);
            }
            Object::ZSet(z)
        }
        Value::Stream(v) => Object::Stream(Box::new(stream_from_value(*v, limits))),
        Value::Hash(fields) => {
            let mut h = Hash::new();
            for HashField {
                field,
                value,
                expire_ms,
            } in &fields
            {
                if !h.set(field, value, false, limits.hash) {
                    return Err(Error::Corrupt("duplicate hash field"));
                }
                if let Some(at) = expire_ms {
                    h.enable_field_expiry();
                    h.set_field_expire(field, *at as i64, ExpireCond::None, now_ms);
                }
            }
            if h.is_empty() {
                return Ok(None);
            }
            Object::Hash(h)
        }
    };
    Ok(Some(Entry::new(
        key,
        NewValue::Object(Box::new(object)),
        expire_ms,
    )))
}
