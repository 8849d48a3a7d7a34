//! Viator's values of every type and encoding, saved with the RDB writer
//! and loaded back: the same keys, values, expire times and encodings.

use viator_persist::objects::{Limits, entry_from_record};
use viator_persist::rdb::RDB_VERSION;
use viator_persist::rdb::file::{FileReader, FileWriter, Record};
use viator_types::entry::{Entry, NewValue, Object};
use viator_types::hash::{ExpireCond, Hash};
use viator_types::list::{End, List};
use viator_types::set::Set;
use viator_types::zset::ZSet;

const NOW: i64 = 1_800_000_000_000;

fn object_entry(key: &str, o: Object, expire: Option<i64>) -> Entry {
    Entry::new(key.as_bytes(), NewValue::Object(Box::new(o)), expire)
}

fn elements(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| match i % 4 {
            0 => i.to_string().into_bytes(),
            1 => format!("-{}", i * 1_000_003).into_bytes(),
            2 => format!("member:{i}").into_bytes(),
            _ => vec![b'a' + (i % 26) as u8; i % 100],
        })
        .collect()
}

fn dataset() -> Vec<Entry> {
    let l = Limits::default();
    let mut out = vec![
        Entry::new_string(b"str", b"hello"),
        Entry::new_string(b"int", b"-123456789012"),
        Entry::new(b"raw", NewValue::Heap(b"x".repeat(5000)), Some(NOW + 5000)),
    ];
    for n in [3usize, 300] {
        let items = elements(n);
        let mut list = List::new();
        list.grow_check(l.list_fill, 0, items.iter().map(Vec::len).sum(), n);
        for i in &items {
            list.push(i, End::Tail, l.list_fill);
        }
        list.auto_convert(l.list_fill, 0);
        out.push(object_entry(&format!("list{n}"), Object::List(list), None));

        let mut set = Set::create(&items[0], n, &l.set);
        for i in &items {
            set.add(i, &l.set);
        }
        out.push(object_entry(
            &format!("set{n}"),
            Object::Set(set),
            Some(NOW + 1),
        ));
        let mut ints = Set::create(b"1", n, &l.set);
        for i in 0..n as i64 {
            ints.add((i * 77 - 1000).to_string().as_bytes(), &l.set);
        }
        out.push(object_entry(&format!("intset{n}"), Object::Set(ints), None));

        let longest = items.iter().map(Vec::len).max().unwrap_or(0);
        let mut z = ZSet::with_hint(n, longest, l.zset);
        for (i, m) in items.iter().enumerate() {
            let score = match i % 5 {
                0 => f64::INFINITY,
                1 => -(i as f64) / 3.0,
                _ => i as f64 * 1e10,
            };
            if z.score(m).is_none() {
                z.insert_new(m, score, l.zset);
            }
        }
        out.push(object_entry(&format!("zset{n}"), Object::ZSet(z), None));

        for ttl in [false, true] {
            let mut h = Hash::new();
            for (i, m) in items.iter().enumerate() {
                h.set(m, format!("v{i}").as_bytes(), false, l.hash);
                if ttl && i % 3 == 0 {
                    h.enable_field_expiry();
                    h.set_field_expire(m, NOW + 10_000 + i as i64, ExpireCond::None, NOW);
                }
            }
            out.push(object_entry(
                &format!("hash{n}{ttl}"),
                Object::Hash(h),
                None,
            ));
        }
    }
    out
}

/// What a user could observe of an entry: key, expire, encoding and
/// elements in a canonical order.
fn observed(e: &Entry) -> (Vec<u8>, Option<i64>, String, Vec<String>) {
    let mut items: Vec<String> = Vec::new();
    let encoding = match e.as_object() {
        None => {
            items.push(format!("{:?}", e.as_str().unwrap().to_vec()));
            format!("{:?}", e.str_encoding())
        }
        Some(o) => {
            match o {
                Object::List(l) => l.for_each(|x| items.push(format!("{x:?}"))),
                Object::Set(s) => {
                    s.for_each(|x| items.push(format!("{x:?}")));
                    items.sort();
                }
                Object::ZSet(z) => z.for_each(|m, s| items.push(format!("{m:?} {s}"))),
                Object::Hash(h) => {
                    for (f, v, t) in h.iter() {
                        items.push(format!("{f:?} {v:?} {t:?}"));
                    }
                    items.sort();
                }
                Object::Stream(_) => unreachable!(),
            }
            o.encoding_name().to_string()
        }
    };
    (e.key().to_vec(), e.expire_ms(), encoding, items)
}

#[test]
fn every_type_and_encoding_round_trips() {
    let data = dataset();
    for compress in [false, true] {
        let mut w = FileWriter::new(Vec::new(), RDB_VERSION, compress, true).unwrap();
        w.aux(b"redis-ver", b"8.4.0").unwrap();
        w.select_db(0, data.len() as u64, 2).unwrap();
        for e in &data {
            w.key(e).unwrap();
        }
        let file = w.finish().unwrap();
        let mut r = FileReader::new(&file[..]).unwrap();
        let mut loaded = Vec::new();
        loop {
            match r.next_record().unwrap() {
                Record::Eof => break,
                Record::Key {
                    key,
                    value,
                    expire_ms,
                    ..
                } => loaded.push(
                    entry_from_record(&key, value, expire_ms, &Limits::default(), NOW)
                        .unwrap()
                        .unwrap(),
                ),
                _ => {}
            }
        }
        assert_eq!(loaded.len(), data.len());
        for (g, w) in loaded.iter().zip(&data) {
            let (g, w) = (observed(g), observed(w));
            let key = String::from_utf8_lossy(&w.0).to_string();
            assert_eq!(
                (&g.0, g.1, &g.2),
                (&w.0, w.1, &w.2),
                "{key}: key, expire, encoding"
            );
            assert_eq!(g.3.len(), w.3.len(), "{key}: element count");
            if let Some(i) = (0..g.3.len()).find(|&i| g.3[i] != w.3[i]) {
                panic!("{key}: element {i}: {} != {}", g.3[i], w.3[i]);
            }
        }
    }
}

#[test]
fn expired_hash_fields_and_empty_values_are_dropped_on_load() {
    use viator_persist::rdb::value::{HashField, Value};
    let fields = vec![HashField {
        field: b"f".to_vec(),
        value: b"v".to_vec(),
        expire_ms: Some(NOW as u64 - 1),
    }];
    let got = entry_from_record(b"h", Value::Hash(fields), None, &Limits::default(), NOW).unwrap();
    assert!(got.is_none());
    let got =
        entry_from_record(b"l", Value::List(Vec::new()), None, &Limits::default(), NOW).unwrap();
    assert!(got.is_none());
    let dup = Value::Set(vec![b"a".to_vec(), b"a".to_vec()]);
    assert!(entry_from_record(b"s", dup, None, &Limits::default(), NOW).is_err());
}

#[test]
fn corrupt_stream_records_never_panic() {
    use viator_types::stream::{Stream, StreamId};
    let mut s = Stream::new();
    s.set_node_limits(4, 4096);
    for i in 1..=10u64 {
        let v = i.to_string();
        let fields: Vec<&[u8]> = if i % 3 == 0 {
            vec![b"f", v.as_bytes(), b"other", b"x"]
        } else {
            vec![b"f", v.as_bytes()]
        };
        s.append(StreamId::new(i, 0), &fields);
    }
    s.delete(StreamId::new(5, 0));
    let entry = object_entry("s", Object::Stream(Box::new(s)), None);
    // No checksum: the structure checks alone must catch what is wrong.
    let mut w = FileWriter::new(Vec::new(), RDB_VERSION, false, false).unwrap();
    w.key(&entry).unwrap();
    let good = w.finish().unwrap();
    let load = |data: &[u8]| -> Option<Entry> {
        let mut r = FileReader::new(data).ok()?;
        match r.next_record().ok()? {
            Record::Key { key, value, .. } => {
                entry_from_record(&key, value, None, &Limits::default(), NOW).ok()?
            }
            _ => None,
        }
    };
    let back = load(&good).expect("the good record loads");
    assert_eq!(observed_stream(&back), observed_stream(&entry));
    for at in 9..good.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = good.clone();
            bad[at] ^= flip;
            if let Some(e) = load(&bad) {
                // Whatever loaded must be readable end to end.
                let _ = observed_stream(&e);
            }
        }
    }
}

fn observed_stream(e: &Entry) -> Vec<(u64, u64, Vec<Vec<u8>>)> {
    let Some(Object::Stream(s)) = e.as_object() else {
        panic!("not a stream");
    };
    let mut out = Vec::new();
    s.range(
        viator_types::stream::StreamId::MIN,
        viator_types::stream::StreamId::MAX,
        false,
        |id, f| {
            out.push((id.ms, id.seq, f.iter().map(|x| x.to_vec()).collect()));
            true
        },
    );
    let mut rev = 0;
    s.range(
        viator_types::stream::StreamId::MIN,
        viator_types::stream::StreamId::MAX,
        true,
        |_, _| {
            rev += 1;
            true
        },
    );
    assert_eq!(rev, out.len());
    out
}
