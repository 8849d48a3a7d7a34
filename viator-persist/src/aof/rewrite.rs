//! An AOF base written as commands instead of an RDB preamble
//! (`aof-use-rdb-preamble no`), the way Redis's `rewriteAppendOnlyFileRio`
//! writes one: per non-empty database a `SELECT`, then per key the
//! commands that rebuild it (`SET`; `RPUSH`, `SADD`, `ZADD`, `HMSET` with
//! at most 64 elements each; `XADD`s, `XSETID`, `XGROUP CREATE`,
//! `XGROUP CREATECONSUMER` and `XCLAIM`s for a stream; `HPEXPIREAT` per
//! field with a time), then its `PEXPIREAT`.
//!
//! It reads the dataset from an RDB stream, so that the server writes its
//! frozen dataset once, in the one format its snapshot code knows, and
//! this turns it into commands.

use std::io::{self, Read, Write};

use viator_types::entry::Object;
use viator_types::stream::StreamId;

use crate::objects::{Limits, entry_from_record};
use crate::rdb::file::{FileReader, Record};
use crate::rdb::stream::StreamValue;
use crate::rdb::value::Value;

/// Elements per command, as Redis's `AOF_REWRITE_ITEMS_PER_CMD`.
const ITEMS_PER_CMD: usize = 64;

/// Writes the commands that rebuild the dataset of the RDB stream `rdb`
/// to `out`, after a `#TS:` annotation when `timestamp` (unix seconds) is
/// given. Returns the number of keys written.
pub fn write_commands<R: Read, W: Write>(
    rdb: R,
    out: &mut W,
    timestamp: Option<i64>,
) -> io::Result<u64> {
    if let Some(ts) = timestamp {
        out.write_all(format!("#TS:{ts}\r\n").as_bytes())?;
    }
    let bad = |e: crate::rdb::Error| io::Error::new(io::ErrorKind::InvalidData, e.to_string());
    let mut r = FileReader::new(rdb).map_err(bad)?;
    let limits = Limits::default();
    let mut keys = 0;
    loop {
        match r.next_record().map_err(bad)? {
            Record::Eof => return Ok(keys),
            Record::SelectDb(db) => {
                command(out, &[b"SELECT".as_slice(), db.to_string().as_bytes()])?
            }
            Record::Key {
                key,
                value,
                expire_ms,
                ..
            } => {
                write_value(out, &key, value, &limits)?;
                if let Some(at) = expire_ms {
                    command(
                        out,
                        &[b"PEXPIREAT".as_slice(), &key, at.to_string().as_bytes()],
                    )?;
                }
                keys += 1;
            }
            _ => {}
        }
    }
}

/// One command as a RESP array of bulk strings.
fn command<W: Write, A: AsRef<[u8]>>(out: &mut W, argv: &[A]) -> io::Result<()> {
    let mut buf = Vec::new();
    viator_protocol::encode_command(&mut buf, argv);
    out.write_all(&buf)
}

/// `name key` followed by `items` in commands of at most 64 items each
/// (`width` arguments per item).
fn batched<W: Write>(
    out: &mut W,
    name: &[u8],
    key: &[u8],
    items: &[Vec<Vec<u8>>],
) -> io::Result<()> {
    for chunk in items.chunks(ITEMS_PER_CMD) {
        let mut argv: Vec<&[u8]> = vec![name, key];
        for item in chunk {
            argv.extend(item.iter().map(Vec::as_slice));
        }
        command(out, &argv)?;
    }
    Ok(())
}

/// A score as ZADD reads it back exactly.
fn score(s: f64) -> Vec<u8> {
    if s == f64::INFINITY {
        b"inf".to_vec()
    } else if s == f64::NEG_INFINITY {
        b"-inf".to_vec()
    } else {
        // Rust's shortest round-trip form: parses back to the same double.
        format!("{s}").into_bytes()
    }
}

fn write_value<W: Write>(out: &mut W, key: &[u8], value: Value, limits: &Limits) -> io::Result<()> {
    match value {
        Value::String(s) => command(out, &[b"SET".as_slice(), key, &s]),
        Value::List(items) => {
            let items: Vec<Vec<Vec<u8>>> = items.into_iter().map(|i| vec![i]).collect();
            batched(out, b"RPUSH", key, &items)
        }
        Value::Set(members) => {
            let items: Vec<Vec<Vec<u8>>> = members.into_iter().map(|m| vec![m]).collect();
            batched(out, b"SADD", key, &items)
        }
        Value::ZSet(members) => {
            let items: Vec<Vec<Vec<u8>>> = members
                .into_iter()
                .map(|(m, s)| vec![score(s), m])
                .collect();
            batched(out, b"ZADD", key, &items)
        }
        Value::Hash(fields) => {
            if fields.iter().all(|f| f.expire_ms.is_none()) {
                let items: Vec<Vec<Vec<u8>>> =
                    fields.into_iter().map(|f| vec![f.field, f.value]).collect();
                return batched(out, b"HMSET", key, &items);
            }
            // With field times, one field at a time, as Redis does.
            for f in fields {
                command(out, &[b"HMSET".as_slice(), key, &f.field, &f.value])?;
                if let Some(at) = f.expire_ms {
                    command(
                        out,
                        &[
                            b"HPEXPIREAT".as_slice(),
                            key,
                            at.to_string().as_bytes(),
                            b"FIELDS",
                            b"1",
                            &f.field,
                        ],
                    )?;
                }
            }
            Ok(())
        }
        Value::Stream(s) => write_stream(out, key, *s, limits),
    }
}

fn id(i: StreamId) -> Vec<u8> {
    i.to_string().into_bytes()
}

/// Redis's `rewriteStreamObject`.
fn write_stream<W: Write>(
    out: &mut W,
    key: &[u8],
    s: StreamValue,
    limits: &Limits,
) -> io::Result<()> {
    let groups = s.groups.clone();
    let (last_id, entries_added, max_deleted) = (s.last_id, s.entries_added, s.max_deleted_id);
    let length = s.length;
    let bad = |e: crate::rdb::Error| io::Error::new(io::ErrorKind::InvalidData, e.to_string());
    let entry = entry_from_record(key, Value::Stream(Box::new(s)), None, limits, 0).map_err(bad)?;
    if length > 0
        && let Some(e) = &entry
        && let Some(Object::Stream(stream)) = e.as_object()
    {
        let mut result = Ok(());
        stream.range(StreamId::MIN, StreamId::MAX, false, |entry_id, fields| {
            let idb = id(entry_id);
            let mut argv: Vec<&[u8]> = vec![b"XADD", key, &idb];
            argv.extend_from_slice(fields);
            result = command(out, &argv);
            result.is_ok()
        });
        result?;
    } else {
        // Redis's trick for an empty stream: an entry trimmed at once.
        command(
            out,
            &[b"XADD".as_slice(), key, b"MAXLEN", b"0", b"0-1", b"x", b"y"],
        )?;
    }
    command(
        out,
        &[
            b"XSETID".as_slice(),
            key,
            &id(last_id),
            b"ENTRIESADDED",
            entries_added.to_string().as_bytes(),
            b"MAXDELETEDID",
            &id(max_deleted),
        ],
    )?;
    for g in groups {
        let entries_read = g.entries_read.unwrap_or(-1);
        command(
            out,
            &[
                b"XGROUP".as_slice(),
                b"CREATE",
                key,
                &g.name,
                &id(g.last_id),
                b"ENTRIESREAD",
                entries_read.to_string().as_bytes(),
            ],
        )?;
        let mut consumers = g.consumers;
        consumers.sort_by(|a, b| a.name.cmp(&b.name));
        for c in consumers {
            if c.pending.is_empty() {
                command(
                    out,
                    &[
                        b"XGROUP".as_slice(),
                        b"CREATECONSUMER",
                        key,
                        &g.name,
                        &c.name,
                    ],
                )?;
                continue;
            }
            let mut pel = c.pending;
            pel.sort();
            for pid in pel {
                let Some(&(_, time, count)) = g.pending.iter().find(|p| p.0 == pid) else {
                    continue;
                };
                command(
                    out,
                    &[
                        b"XCLAIM".as_slice(),
                        key,
                        &g.name,
                        &c.name,
                        b"0",
                        &id(pid),
                        b"TIME",
                        time.to_string().as_bytes(),
                        b"RETRYCOUNT",
                        count.to_string().as_bytes(),
                        b"JUSTID",
                        b"FORCE",
                    ],
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aof::commands::CommandReader;

    fn commands_of(bytes: &[u8]) -> Vec<String> {
        let mut r = CommandReader::new(bytes, 0);
        let mut out = Vec::new();
        while let Some(c) = r.next_command().unwrap() {
            out.push(
                c.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        out
    }

    #[test]
    fn every_type_becomes_the_commands_redis_writes() {
        use crate::rdb::file::FileWriter;
        use viator_types::entry::{Entry, NewValue};
        let mut rdb = Vec::new();
        {
            let mut w = FileWriter::new(&mut rdb, 12, false, true).unwrap();
            w.select_db(2, 2, 1).unwrap();
            let mut s = Entry::new(b"s", NewValue::Str(b"v"), Some(4102444800000));
            s.set_expire_ms(Some(4102444800000));
            w.key_with_access(&s, None, None).unwrap();
            let items: Vec<Vec<u8>> = (0..70).map(|i| format!("e{i}").into_bytes()).collect();
            let l = entry_from_record(b"l", Value::List(items), None, &Limits::default(), 0)
                .unwrap()
                .unwrap();
            w.key_with_access(&l, None, None).unwrap();
            w.finish().unwrap();
        }
        let mut out = Vec::new();
        assert_eq!(
            write_commands(&rdb[..], &mut out, Some(1700000000)).unwrap(),
            2
        );
        assert!(out.starts_with(b"#TS:1700000000\r\n"));
        let cmds = commands_of(&out);
        assert_eq!(cmds[0], "SELECT 2");
        assert_eq!(cmds[1], "SET s v");
        assert_eq!(cmds[2], "PEXPIREAT s 4102444800000");
        assert!(cmds[3].starts_with("RPUSH l e0 e1 "));
        assert_eq!(cmds[3].split(' ').count(), 2 + 64);
        assert_eq!(cmds[4], "RPUSH l e64 e65 e66 e67 e68 e69");
        assert_eq!(cmds.len(), 5);
    }

    #[test]
    fn scores_read_back_exactly() {
        for s in [
            1.5,
            -0.0,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.1 + 0.2,
        ] {
            let text = String::from_utf8(score(s)).unwrap();
            let back: f64 = match text.as_str() {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                t => t.parse().unwrap(),
            };
            assert_eq!(back.to_bits(), s.to_bits(), "{text}");
        }
    }
}
