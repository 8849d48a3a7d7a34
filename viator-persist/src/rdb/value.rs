//! Values in the RDB format, independent of how a server keeps them in
//! memory: [`read_value`] turns any value record Redis 2.6 to 8.4 writes
//! (streams and modules excepted, for now) into a [`Value`]; the `write_*`
//! functions write the records Redis 7.4+ writes, in the encoding the
//! caller chose (Redis saves each value in its in-memory encoding, and so
//! does Viator, so that OBJECT ENCODING survives a restart).
//!
//! Element order is kept as stored. Duplicates and empty values are left
//! for the caller to judge (Redis refuses duplicates as corruption and
//! skips empty keys).

use std::io::{self, Read, Write};

use viator_types::listpack::{self, Elem};

use super::legacy::{self, Item};
use super::{Error, Reader, Writer, value_type as t};

/// The latest field expire time a hash may hold (Redis's
/// `EB_EXPIRE_TIME_MAX`, 2^48 - 1 ms).
pub const FIELD_EXPIRE_MAX: u64 = (1 << 48) - 1;

/// A quicklist node's container (Redis's `QUICKLIST_NODE_CONTAINER_*`).
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;

/// A hash field as stored: its name, value and expire time (unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashField {
    /// The field name.
    pub field: Vec<u8>,
    /// Its value.
    pub value: Vec<u8>,
    /// When it expires, if it does.
    pub expire_ms: Option<u64>,
}

/// A value read from an RDB record.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    String(Vec<u8>),
    /// A list's elements, head first.
    List(Vec<Vec<u8>>),
    /// A set's members.
    Set(Vec<Vec<u8>>),
    /// A sorted set's members and scores (in file order).
    ZSet(Vec<(Vec<u8>, f64)>),
    /// A hash's fields.
    Hash(Vec<HashField>),
    /// A stream.
    Stream(Box<super::stream::StreamValue>),
}

impl Value {
    /// Whether the value has no elements (Redis skips such keys).
    pub fn is_empty(&self) -> bool {
        match self {
            Value::String(_) => false,
            Value::List(v) | Value::Set(v) => v.is_empty(),
            Value::ZSet(v) => v.is_empty(),
            Value::Hash(v) => v.is_empty(),
            // A stream key exists even with no entries.
            Value::Stream(_) => false,
        }
    }
}

fn elem_bytes(e: &Elem<'_>) -> Vec<u8> {
    e.to_vec()
}

fn item_score(i: &Item<'_>) -> Result<f64, Error> {
    let score = match i {
        Item::Int(v) => *v as f64,
        Item::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .ok_or(Error::Corrupt("sorted set score"))?,
    };
    if score.is_nan() {
        return Err(Error::Corrupt("sorted set score"));
    }
    Ok(score)
}

fn elem_score(e: &Elem<'_>) -> Result<f64, Error> {
    match e {
        Elem::Int(v) => Ok(*v as f64),
        Elem::Bytes(b) => item_score(&Item::Bytes(b)),
    }
}

fn checked_expire(at: u64) -> Result<Option<u64>, Error> {
    if at > FIELD_EXPIRE_MAX {
        return Err(Error::Corrupt("hash field expire time"));
    }
    Ok((at != 0).then_some(at))
}

fn listpack_entries(blob: &[u8], tuple: usize) -> Result<Vec<Elem<'_>>, Error> {
    listpack::entries(blob, tuple).map_err(|_| Error::Corrupt("listpack"))
}

/// Reads the value of a record of type `rdbtype` (the type byte and key
/// were read already).
pub fn read_value<R: Read>(r: &mut Reader<R>, rdbtype: u8) -> Result<Value, Error> {
    match rdbtype {
        t::STRING => Ok(Value::String(r.bytes()?)),
        t::LIST | t::SET => {
            let n = r.length()?;
            let mut v = Vec::new();
            for _ in 0..n {
                v.push(r.bytes()?);
            }
            Ok(if rdbtype == t::LIST {
                Value::List(v)
            } else {
                Value::Set(v)
            })
        }
        t::ZSET | t::ZSET_2 => {
            let n = r.length()?;
            let mut v = Vec::new();
            for _ in 0..n {
                let member = r.bytes()?;
                let score = if rdbtype == t::ZSET_2 {
                    r.binary_double()?
                } else {
                    r.text_double()?
                };
                if score.is_nan() {
                    return Err(Error::Corrupt("sorted set score"));
                }
                v.push((member, score));
            }
            Ok(Value::ZSet(v))
        }
        t::HASH => {
            let n = r.length()?;
            let mut v = Vec::new();
            for _ in 0..n {
                let field = r.bytes()?;
                let value = r.bytes()?;
                v.push(HashField {
                    field,
                    value,
                    expire_ms: None,
                });
            }
            Ok(Value::Hash(v))
        }
        t::HASH_METADATA | t::HASH_METADATA_PRE_GA => {
            let min_expire = if rdbtype == t::HASH_METADATA {
                let m = r.u64_le()?;
                if m > FIELD_EXPIRE_MAX + 1 {
                    return Err(Error::Corrupt("hash minimum expire time"));
                }
                m
            } else {
                0
            };
            let n = r.length()?;
            let mut v = Vec::new();
            for _ in 0..n {
                let ttl = r.length()?;
                // Relative to the minimum, plus one, in the final format;
                // absolute in the pre-GA one; 0 for none in both. Redis
                // computes `ttl + minExpire - 1` in unsigned 64-bit
                // arithmetic, so a minimum of 0 is no underflow (and a
                // result of 0 means no expire time there too).
                let at = match (ttl, rdbtype) {
                    (0, _) => 0,
                    (ttl, t::HASH_METADATA) => ttl.wrapping_add(min_expire).wrapping_sub(1),
                    (ttl, _) => ttl,
                };
                let expire_ms = checked_expire(at)?;
                let field = r.bytes()?;
                let value = r.bytes()?;
                v.push(HashField {
                    field,
                    value,
                    expire_ms,
                });
            }
            Ok(Value::Hash(v))
        }
        t::LIST_QUICKLIST | t::LIST_QUICKLIST_2 => {
            let nodes = r.length()?;
            let mut v = Vec::new();
            for _ in 0..nodes {
                let container = if rdbtype == t::LIST_QUICKLIST_2 {
                    r.length()?
                } else {
                    CONTAINER_PACKED
                };
                let data = r.bytes()?;
                if data.is_empty() {
                    return Err(Error::Corrupt("quicklist node"));
                }
                match (container, rdbtype) {
                    (CONTAINER_PLAIN, _) => v.push(data),
                    (CONTAINER_PACKED, t::LIST_QUICKLIST_2) => {
                        v.extend(listpack_entries(&data, 1)?.iter().map(elem_bytes))
                    }
                    (CONTAINER_PACKED, _) => {
                        v.extend(legacy::ziplist(&data)?.iter().map(Item::to_vec))
                    }
                    _ => return Err(Error::Corrupt("quicklist container")),
                }
            }
            Ok(Value::List(v))
        }
        t::HASH_ZIPMAP => {
            let blob = r.bytes()?;
            let pairs = legacy::zipmap(&blob)?;
            Ok(Value::Hash(
                pairs
                    .into_iter()
                    .map(|(f, v)| HashField {
                        field: f.to_vec(),
                        value: v.to_vec(),
                        expire_ms: None,
                    })
                    .collect(),
            ))
        }
        t::LIST_ZIPLIST => {
            let blob = r.bytes()?;
            Ok(Value::List(
                legacy::ziplist(&blob)?.iter().map(Item::to_vec).collect(),
            ))
        }
        t::SET_INTSET => {
            let blob = r.bytes()?;
            Ok(Value::Set(
                legacy::intset(&blob)?
                    .into_iter()
                    .map(|v| itoa::Buffer::new().format(v).as_bytes().to_vec())
                    .collect(),
            ))
        }
        t::SET_LISTPACK => {
            let blob = r.bytes()?;
            Ok(Value::Set(
                listpack_entries(&blob, 1)?.iter().map(elem_bytes).collect(),
            ))
        }
        t::ZSET_ZIPLIST => {
            let blob = r.bytes()?;
            let items = legacy::ziplist(&blob)?;
            if items.len() % 2 != 0 {
                return Err(Error::Corrupt("sorted set ziplist"));
            }
            let mut v = Vec::with_capacity(items.len() / 2);
            for pair in items.chunks_exact(2) {
                v.push((pair[0].to_vec(), item_score(&pair[1])?));
            }
            Ok(Value::ZSet(v))
        }
        t::ZSET_LISTPACK => {
            let blob = r.bytes()?;
            let items = listpack_entries(&blob, 2)?;
            let mut v = Vec::with_capacity(items.len() / 2);
            for pair in items.chunks_exact(2) {
                v.push((elem_bytes(&pair[0]), elem_score(&pair[1])?));
            }
            Ok(Value::ZSet(v))
        }
        t::HASH_ZIPLIST => {
            let blob = r.bytes()?;
            let items = legacy::ziplist(&blob)?;
            if items.len() % 2 != 0 {
                return Err(Error::Corrupt("hash ziplist"));
            }
            Ok(Value::Hash(
                items
                    .chunks_exact(2)
                    .map(|p| HashField {
                        field: p[0].to_vec(),
                        value: p[1].to_vec(),
                        expire_ms: None,
                    })
                    .collect(),
            ))
        }
        t::HASH_LISTPACK | t::HASH_LISTPACK_EX | t::HASH_LISTPACK_EX_PRE_GA => {
            if rdbtype == t::HASH_LISTPACK_EX {
                // The smallest field expire time, kept for a future use
                // (Redis reads and ignores it too).
                r.u64_le()?;
            }
            let blob = r.bytes()?;
            let tuple = if rdbtype == t::HASH_LISTPACK { 2 } else { 3 };
            let items = listpack_entries(&blob, tuple)?;
            let mut v = Vec::with_capacity(items.len() / tuple);
            for f in items.chunks_exact(tuple) {
                let expire_ms = match f.get(2) {
                    None => None,
                    Some(Elem::Int(at)) => checked_expire(
                        u64::try_from(*at).map_err(|_| Error::Corrupt("hash field expire time"))?,
                    )?,
                    Some(Elem::Bytes(_)) => return Err(Error::Corrupt("hash field expire time")),
                };
                v.push(HashField {
                    field: elem_bytes(&f[0]),
                    value: elem_bytes(&f[1]),
                    expire_ms,
                });
            }
            Ok(Value::Hash(v))
        }
        t::MODULE_PRE_GA | t::MODULE_2 => Err(Error::Unsupported("module value")),
        t::STREAM_LISTPACKS | t::STREAM_LISTPACKS_2 | t::STREAM_LISTPACKS_3 => Ok(Value::Stream(
            Box::new(super::stream::read_stream(r, rdbtype)?),
        )),
        other => Err(Error::UnknownType(other)),
    }
}

/// A list node as Redis saves it: a listpack of elements, or one element
/// on its own (a "plain" node, for elements past the node size limit).
#[derive(Debug, Clone, Copy)]
pub enum ListNode<'a> {
    /// A whole listpack.
    Packed(&'a [u8]),
    /// One large element.
    Plain(&'a [u8]),
}

/// An intset's bytes for `members`, which must be sorted and distinct:
/// the narrowest width that holds all of them, as Redis's intset.
pub fn intset_blob(members: &[i64]) -> Vec<u8> {
    let width: usize = if members.iter().all(|&v| i16::try_from(v).is_ok()) {
        2
    } else if members.iter().all(|&v| i32::try_from(v).is_ok()) {
        4
    } else {
        8
    };
    let mut b = Vec::with_capacity(8 + width * members.len());
    b.extend_from_slice(&(width as u32).to_le_bytes());
    b.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for v in members {
        b.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    b
}

impl<W: Write> Writer<W> {
    /// The value of a [`value_type::LIST_QUICKLIST_2`](t::LIST_QUICKLIST_2)
    /// record: its nodes (a listpack-encoded list is one packed node).
    pub fn list_value<'a>(&mut self, nodes: &[ListNode<'a>]) -> io::Result<()> {
        self.length(nodes.len() as u64)?;
        for node in nodes {
            match node {
                ListNode::Packed(lp) => {
                    self.length(CONTAINER_PACKED)?;
                    self.string(lp)?;
                }
                ListNode::Plain(e) => {
                    self.length(CONTAINER_PLAIN)?;
                    self.string(e)?;
                }
            }
        }
        Ok(())
    }

    /// A record value that is one blob (an intset, a listpack): `SET_INTSET`,
    /// `SET_LISTPACK`, `ZSET_LISTPACK`, `HASH_LISTPACK`.
    pub fn blob_value(&mut self, blob: &[u8]) -> io::Result<()> {
        self.string(blob)
    }

    /// A `HASH_LISTPACK_EX` value: the smallest field expire time (0 for
    /// none) and the listpack of field, value, expire-time triples.
    pub fn hash_listpack_ex_value(&mut self, min_expire: Option<u64>, lp: &[u8]) -> io::Result<()> {
        self.u64_le(min_expire.unwrap_or(0))?;
        self.string(lp)
    }

    /// A `SET` value: the count, then the members.
    pub fn set_value<'a>(
        &mut self,
        len: usize,
        members: impl Iterator<Item = &'a [u8]>,
    ) -> io::Result<()> {
        self.length(len as u64)?;
        for m in members {
            self.string(m)?;
        }
        Ok(())
    }

    /// A `ZSET_2` value: the count, then members with binary scores.
    /// Redis writes them from the highest rank down, so that loading
    /// inserts each at the head.
    pub fn zset_value<'a>(
        &mut self,
        len: usize,
        members: impl Iterator<Item = (&'a [u8], f64)>,
    ) -> io::Result<()> {
        self.length(len as u64)?;
        for (m, score) in members {
            self.string(m)?;
            self.binary_double(score)?;
        }
        Ok(())
    }

    /// A `HASH` value (no field expires), or with `min_expire`, a
    /// `HASH_METADATA` one: each field's expire time relative to the
    /// smallest, plus one (0: none).
    pub fn hash_value<'a>(
        &mut self,
        len: usize,
        min_expire: Option<u64>,
        fields: impl Iterator<Item = (&'a [u8], &'a [u8], Option<u64>)>,
    ) -> io::Result<()> {
        if let Some(min) = min_expire {
            self.u64_le(min)?;
        }
        self.length(len as u64)?;
        for (f, v, at) in fields {
            if let Some(min) = min_expire {
                self.length(at.map_or(0, |at| at.saturating_sub(min) + 1))?;
            }
            self.string(f)?;
            self.string(v)?;
        }
        Ok(())
    }
}
