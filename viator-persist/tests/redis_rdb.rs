//! Reads snapshots written by a real redis-server (Debian's, on `PATH`):
//! every type in its small and large encodings, expire times, several
//! databases. `#[ignore]`d because it needs redis-server; `.ci/run`
//! installs it and runs `cargo test -p viator-persist -- --ignored`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use viator_persist::rdb::file::{FileReader, Record};
use viator_persist::rdb::value::Value;

struct Redis {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_redis() -> Redis {
    start_redis_with(None)
}

/// A redis-server in a directory of its own, started on `snapshot` as its
/// `dump.rdb` when given.
fn start_redis_with(snapshot: Option<&[u8]>) -> Redis {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("viator-rdb-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    if let Some(bytes) = snapshot {
        std::fs::write(dir.join("dump.rdb"), bytes).unwrap();
    }
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "no", "--dir", dir.to_str().unwrap()])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server on PATH");
    // Dropped (killed, waited for) on every path from here.
    let redis = Redis { child, port, dir };
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return redis;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("redis-server did not start");
}

/// Sends commands and reads one reply line (or bulk) for each.
fn run(port: u16, cmds: &[Vec<Vec<u8>>]) {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    for chunk in cmds.chunks(1000) {
        let mut buf = Vec::new();
        for c in chunk {
            buf.extend_from_slice(format!("*{}\r\n", c.len()).as_bytes());
            for a in c {
                buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                buf.extend_from_slice(a);
                buf.extend_from_slice(b"\r\n");
            }
        }
        w.write_all(&buf).unwrap();
        for c in chunk {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            assert!(
                !line.starts_with('-'),
                "{:?} -> {line}",
                String::from_utf8_lossy(&c[0])
            );
            if let Some(n) = line.strip_prefix('$') {
                let n: i64 = n.trim().parse().unwrap();
                if n >= 0 {
                    let mut b = vec![0; n as usize + 2];
                    r.read_exact(&mut b).unwrap();
                }
            }
        }
    }
}

fn cmd(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// A hash's field/value pairs.
type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

#[derive(Debug, Default, PartialEq)]
struct Expected {
    strings: BTreeMap<(u64, Vec<u8>), Vec<u8>>,
    lists: BTreeMap<Vec<u8>, Vec<Vec<u8>>>,
    sets: BTreeMap<Vec<u8>, Vec<Vec<u8>>>,
    zsets: BTreeMap<Vec<u8>, Vec<(Vec<u8>, f64)>>,
    hashes: BTreeMap<Vec<u8>, Pairs>,
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn loads_every_type_and_encoding_redis_saves() {
    let redis = start_redis();
    let mut cmds = Vec::new();
    let mut want = Expected::default();
    // Strings: raw, embstr, integers of every width, long compressible.
    let long = b"abc".repeat(1000);
    let strings: Vec<(&[u8], Vec<u8>)> = vec![
        (b"s:raw", b"hello world".to_vec()),
        (b"s:int8", b"-12".to_vec()),
        (b"s:int16", b"3000".to_vec()),
        (b"s:int32", b"-2000000000".to_vec()),
        (b"s:int64", b"9223372036854775807".to_vec()),
        (b"s:long", long),
        (b"s:empty", Vec::new()),
        (b"s:bin", (0..=255u8).collect()),
    ];
    for (k, v) in &strings {
        cmds.push(cmd(&[b"SET", k, v]));
        want.strings.insert((0, k.to_vec()), v.clone());
    }
    cmds.push(cmd(&[b"SELECT", b"3"]));
    cmds.push(cmd(&[b"SET", b"in:db3", b"x"]));
    want.strings.insert((3, b"in:db3".to_vec()), b"x".to_vec());
    cmds.push(cmd(&[b"SELECT", b"0"]));
    cmds.push(cmd(&[b"SET", b"s:ttl", b"v", b"PX", b"100000000"]));
    want.strings.insert((0, b"s:ttl".to_vec()), b"v".to_vec());
    // Each collection small (listpack / intset) and large (quicklist,
    // hashtable, skiplist), with integers and long elements mixed in.
    for (suffix, n) in [("small", 5usize), ("large", 700)] {
        let elems: Vec<Vec<u8>> = (0..n)
            .map(|i| match i % 3 {
                0 => i.to_string().into_bytes(),
                1 => format!("elem-{i}").into_bytes(),
                _ => format!("{i}-{}", "y".repeat(i % 90)).into_bytes(),
            })
            .collect();
        let key = |t: &str| format!("{t}:{suffix}").into_bytes();
        let mut c = cmd(&[b"RPUSH", &key("list")]);
        c.extend(elems.iter().cloned());
        cmds.push(c);
        want.lists.insert(key("list"), elems.clone());
        let mut c = cmd(&[b"SADD", &key("set")]);
        c.extend(elems.iter().cloned());
        cmds.push(c);
        want.sets.insert(key("set"), elems.clone());
        let ints: Vec<Vec<u8>> = (0..n as i64)
            .map(|i| (i * 1_000_003 - 70_000).to_string().into_bytes())
            .collect();
        let mut c = cmd(&[b"SADD", &key("intset")]);
        c.extend(ints.iter().cloned());
        cmds.push(c);
        want.sets.insert(key("intset"), ints);
        let mut c = cmd(&[b"ZADD", &key("zset")]);
        let mut pairs = Vec::new();
        for (i, e) in elems.iter().enumerate() {
            let score = i as f64 * 1.5 - 3.25;
            c.push(score.to_string().into_bytes());
            c.push(e.clone());
            pairs.push((e.clone(), score));
        }
        cmds.push(c);
        want.zsets.insert(key("zset"), pairs);
        let mut c = cmd(&[b"HSET", &key("hash")]);
        let mut fields = Vec::new();
        for (i, e) in elems.iter().enumerate() {
            c.push(e.clone());
            c.push(format!("value-{i}").into_bytes());
            fields.push((e.clone(), format!("value-{i}").into_bytes()));
        }
        cmds.push(c);
        want.hashes.insert(key("hash"), fields);
    }
    cmds.push(cmd(&[b"SAVE"]));
    run(redis.port, &cmds);

    let file = std::fs::File::open(redis.dir.join("dump.rdb")).unwrap();
    let mut reader = FileReader::new(std::io::BufReader::new(file)).unwrap();
    assert!(reader.version() >= 10);
    let mut got = Expected::default();
    let (mut db, mut aux, mut ttl_seen) = (0, Vec::new(), false);
    loop {
        match reader.next_record().unwrap() {
            Record::Eof => break,
            Record::Aux { name, .. } => aux.push(String::from_utf8(name).unwrap()),
            Record::SelectDb(n) => db = n,
            Record::Key {
                key,
                value,
                expire_ms,
                ..
            } => {
                if key == b"s:ttl" {
                    ttl_seen = expire_ms.is_some_and(|t| t > 1_600_000_000_000);
                }
                match value {
                    Value::String(v) => {
                        got.strings.insert((db, key), v);
                    }
                    Value::Stream(_) => panic!("this dataset has no stream"),
                    Value::List(v) => {
                        got.lists.insert(key, v);
                    }
                    Value::Set(mut v) => {
                        let mut w = want.sets[&key].clone();
                        v.sort();
                        w.sort();
                        assert_eq!(v, w, "set {}", String::from_utf8_lossy(&key));
                        let w = want.sets[&key].clone();
                        got.sets.insert(key, w);
                    }
                    Value::ZSet(mut v) => {
                        v.sort_by(|a, b| a.1.total_cmp(&b.1));
                        got.zsets.insert(key, v);
                    }
                    Value::Hash(v) => {
                        let mut pairs: Vec<_> = v.into_iter().map(|f| (f.field, f.value)).collect();
                        let mut w = want.hashes[&key].clone();
                        pairs.sort();
                        w.sort();
                        assert_eq!(pairs, w, "hash {}", String::from_utf8_lossy(&key));
                        let w = want.hashes[&key].clone();
                        got.hashes.insert(key, w);
                    }
                }
            }
            _ => {}
        }
    }
    assert!(ttl_seen, "the expire time of s:ttl");
    assert!(aux.iter().any(|a| a == "redis-ver"), "{aux:?}");
    assert_eq!(got, want);
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn a_flipped_byte_is_an_error_never_a_panic() {
    let redis = start_redis();
    let mut cmds = vec![
        cmd(&[b"RPUSH", b"l", b"a", b"b", b"1"]),
        cmd(&[b"HSET", b"h", b"f", b"v"]),
    ];
    cmds.push(cmd(&[b"ZADD", b"z", b"1", b"m"]));
    cmds.push(cmd(&[b"SAVE"]));
    run(redis.port, &cmds);
    let good = std::fs::read(redis.dir.join("dump.rdb")).unwrap();
    let read_all = |data: &[u8]| -> Result<(), viator_persist::rdb::Error> {
        let mut r = FileReader::new(data)?;
        while r.next_record()? != Record::Eof {}
        Ok(())
    };
    assert_eq!(read_all(&good), Ok(()));
    // Every truncation fails; every flipped byte fails (the checksum
    // catches what the structure does not).
    for cut in 0..good.len() {
        assert!(read_all(&good[..cut]).is_err(), "cut at {cut}");
    }
    for at in 0..good.len() - 8 {
        let mut bad = good.clone();
        bad[at] ^= 0x20;
        assert!(read_all(&bad).is_err(), "flip at {at}");
    }
}

/// A reply, as far as these tests need one.
#[derive(Debug, PartialEq)]
enum Reply {
    Line(String),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

fn read_reply(r: &mut impl BufRead) -> Reply {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let (kind, rest) = line.trim_end().split_at(1);
    match kind {
        "+" | ":" | "-" => Reply::Line(line.trim_end().to_string()),
        "$" => {
            let n: i64 = rest.parse().unwrap();
            if n < 0 {
                return Reply::Bulk(None);
            }
            let mut b = vec![0; n as usize + 2];
            r.read_exact(&mut b).unwrap();
            b.truncate(n as usize);
            Reply::Bulk(Some(b))
        }
        "*" => Reply::Array(
            (0..rest.parse::<i64>().unwrap())
                .map(|_| read_reply(r))
                .collect(),
        ),
        _ => panic!("unexpected reply {line:?}"),
    }
}

/// Runs one command and returns its reply.
fn call(conn: &mut (TcpStream, BufReader<TcpStream>), parts: &[&[u8]]) -> Reply {
    let mut buf = format!("*{}\r\n", parts.len()).into_bytes();
    for p in parts {
        buf.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        buf.extend_from_slice(p);
        buf.extend_from_slice(b"\r\n");
    }
    conn.0.write_all(&buf).unwrap();
    read_reply(&mut conn.1)
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn redis_7_loads_what_viator_writes_as_rdb_10() {
    use viator_persist::objects::Limits;
    use viator_persist::rdb::file::FileWriter;
    use viator_types::entry::{Entry, NewValue, Object};
    use viator_types::hash::Hash;
    use viator_types::list::{End, List};
    use viator_types::set::Set;
    use viator_types::zset::ZSet;

    let l = Limits::default();
    let obj = |k: &str, o: Object| Entry::new(k.as_bytes(), NewValue::Object(Box::new(o)), None);
    let mut entries = vec![
        Entry::new_string(b"s", b"hello"),
        Entry::new_string(b"n", b"-42"),
        Entry::new(b"ttl", NewValue::Str(b"v"), Some(4_102_444_800_000)),
    ];
    for n in [4usize, 400] {
        let items: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                if i % 2 == 0 {
                    i.to_string()
                } else {
                    format!("e{i}")
                }
                .into_bytes()
            })
            .collect();
        let mut list = List::new();
        list.grow_check(l.list_fill, 0, items.iter().map(Vec::len).sum(), n);
        for i in &items {
            list.push(i, End::Tail, l.list_fill);
        }
        list.auto_convert(l.list_fill, 0);
        entries.push(obj(&format!("list{n}"), Object::List(list)));
        let mut set = Set::create(&items[1], n, &l.set);
        let mut ints = Set::create(b"1", n, &l.set);
        let mut z = ZSet::with_hint(n, 8, l.zset);
        let mut h = Hash::new();
        for (i, m) in items.iter().enumerate() {
            set.add(m, &l.set);
            ints.add(i.to_string().as_bytes(), &l.set);
            z.insert_new(m, i as f64 / 4.0, l.zset);
            h.set(m, format!("v{i}").as_bytes(), false, l.hash);
        }
        entries.push(obj(&format!("set{n}"), Object::Set(set)));
        entries.push(obj(&format!("ints{n}"), Object::Set(ints)));
        entries.push(obj(&format!("zset{n}"), Object::ZSet(z)));
        entries.push(obj(&format!("hash{n}"), Object::Hash(h)));
    }
    let mut w = FileWriter::new(Vec::new(), 10, true, true).unwrap();
    w.aux(b"redis-ver", b"7.0.0").unwrap();
    w.select_db(0, entries.len() as u64, 1).unwrap();
    for e in &entries {
        w.key(e).unwrap();
    }
    let file = w.finish().unwrap();

    // Redis starts on that file.
    let redis = start_redis_with(Some(&file));
    let stream = TcpStream::connect(("127.0.0.1", redis.port))
        .expect("redis-server started on Viator's file");
    let mut conn = (stream.try_clone().unwrap(), BufReader::new(stream));
    assert_eq!(
        call(&mut conn, &[b"DBSIZE"]),
        Reply::Line(format!(":{}", entries.len()))
    );
    assert_eq!(
        call(&mut conn, &[b"GET", b"s"]),
        Reply::Bulk(Some(b"hello".to_vec()))
    );
    assert_eq!(
        call(&mut conn, &[b"OBJECT", b"ENCODING", b"n"]),
        Reply::Bulk(Some(b"int".to_vec()))
    );
    assert_eq!(
        call(&mut conn, &[b"PEXPIRETIME", b"ttl"]),
        Reply::Line(":4102444800000".into())
    );
    // Every collection, element by element, through DEBUG DIGEST-VALUE's
    // cousin that needs no debug command: the full reading commands.
    for e in &entries[3..] {
        let key = e.key();
        let (cmd, expected): (Vec<&[u8]>, Vec<Vec<u8>>) = match e.as_object().unwrap() {
            Object::List(l) => {
                let mut v = Vec::new();
                l.for_each(|x| v.push(x.to_vec()));
                (vec![b"LRANGE", key, b"0", b"-1"], v)
            }
            Object::Set(s) => {
                let mut v = s.to_vecs();
                v.sort();
                (vec![b"SORT", key, b"ALPHA"], v)
            }
            Object::ZSet(z) => {
                let mut v = Vec::new();
                z.for_each(|m, _| v.push(m.to_vec()));
                (vec![b"ZRANGE", key, b"0", b"-1"], v)
            }
            Object::Hash(h) => {
                let mut v = Vec::new();
                for (f, val, _) in h.iter() {
                    v.push(f.to_vec());
                    v.push(val.to_vec());
                }
                (vec![b"HGETALL", key], v)
            }
            Object::Stream(_) => unreachable!(),
        };
        let want = Reply::Array(expected.into_iter().map(|x| Reply::Bulk(Some(x))).collect());
        assert_eq!(
            call(&mut conn, &cmd),
            want,
            "{}",
            String::from_utf8_lossy(key)
        );
        // Redis 7.0 has no listpack lists or sets: its lists are always
        // quicklists, and a set that is not an intset is a hashtable.
        let encoding = match e.as_object().unwrap().encoding_name() {
            "listpack" if matches!(e.as_object(), Some(Object::List(_))) => "quicklist",
            "listpack" if matches!(e.as_object(), Some(Object::Set(_))) => "hashtable",
            other => other,
        };
        assert_eq!(
            call(&mut conn, &[b"OBJECT", b"ENCODING", key]),
            Reply::Bulk(Some(encoding.as_bytes().to_vec())),
            "{}",
            String::from_utf8_lossy(key)
        );
    }
}
