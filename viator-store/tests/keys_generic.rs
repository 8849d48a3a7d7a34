//! The generic (keyspace) command family, byte for byte against what Redis
//! 8.4 replies, in RESP2 and, where the shapes differ, RESP3.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use viator_protocol::ReplyBuf;
use viator_store::{Client, EvictionPolicy, Keyspace, Lookup, Store, StoreOptions, clock};
use viator_types::entry::{Entry, NewValue};

/// A store and a client, with helpers to run commands.
struct T {
    store: Store,
    client: Client,
}

impl T {
    fn new() -> T {
        T {
            store: Store::new(StoreOptions::default()),
            client: Client::default(),
        }
    }

    fn with(options: StoreOptions) -> T {
        T {
            store: Store::new(options),
            client: Client::default(),
        }
    }

    fn resp3(mut self) -> T {
        self.client.resp = 3;
        self
    }

    /// Runs one command given as byte strings and returns its reply.
    fn raw(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        let mut out = ReplyBuf::new();
        out.set_resp3(self.client.resp == 3);
        self.store.execute(&mut self.client, &args, &mut out);
        out.as_bytes().to_vec()
    }

    /// Runs one command given as words and returns its reply as text.
    fn run(&mut self, line: &str) -> String {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        String::from_utf8_lossy(&self.raw(&args)).into_owned()
    }

    /// Asserts the exact reply of one command.
    #[track_caller]
    fn is(&mut self, line: &str, expected: &str) {
        assert_eq!(self.run(line), expected, "{line}");
    }

    /// Stores `key` with a string value and an absolute expire time,
    /// bypassing the commands (to plant keys whose time is already up).
    fn plant(&self, db: usize, key: &str, value: &str, expire_ms: Option<i64>) {
        let mut ks = Keyspace::lock_keys(&self.store, db, &[key], clock::now_ms());
        ks.set(
            Entry::new(key.as_bytes(), NewValue::Str(value.as_bytes()), expire_ms),
            false,
        );
    }

    /// Stores `key` with the given value, bypassing the commands.
    fn plant_value(&self, db: usize, key: &str, value: NewValue<'_>) {
        let mut ks = Keyspace::lock_keys(&self.store, db, &[key], clock::now_ms());
        ks.set(Entry::new(key.as_bytes(), value, None), false);
    }

    /// Sets the access clock of a key directly.
    fn set_clock(&self, key: &str, c: u32) {
        let mut ks = Keyspace::lock_keys(&self.store, self.client.db, &[key], clock::now_ms());
        let quiet = Lookup {
            no_touch: true,
            no_stats: true,
        };
        ks.lookup(key.as_bytes(), quiet)
            .expect("key exists")
            .set_clock(c);
    }

    /// The access clock of a key, read without touching it.
    fn clock_of(&self, key: &str) -> u32 {
        let ks = Keyspace::lock_keys(&self.store, self.client.db, &[key], clock::now_ms());
        ks.peek(key.as_bytes()).expect("key exists").clock()
    }

    fn dirty(&self) -> u64 {
        self.store.dirty.load(Ordering::Relaxed)
    }

    /// An integer reply, parsed.
    fn int(&mut self, line: &str) -> i64 {
        let r = self.run(line);
        r.strip_prefix(':')
            .and_then(|s| s.strip_suffix("\r\n"))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{line}: not an integer reply: {r:?}"))
    }

    /// The bulk strings of an array reply, sorted.
    fn sorted(&mut self, line: &str) -> Vec<String> {
        let r = self.run(line);
        let mut v = bulks(r.as_bytes()).unwrap_or_else(|| panic!("{line}: not an array: {r:?}"));
        v.sort();
        v
    }

    /// One SCAN call: the next cursor and the keys.
    fn scan(&mut self, args: &[&[u8]]) -> (u64, Vec<Vec<u8>>) {
        let r = self.raw(args);
        parse_scan(&r)
            .unwrap_or_else(|| panic!("not a SCAN reply: {:?}", String::from_utf8_lossy(&r)))
    }
}

/// The elements of a flat array of bulk strings.
fn bulks(r: &[u8]) -> Option<Vec<String>> {
    let (items, rest) = parse_bulk_array(r)?;
    rest.is_empty().then(|| {
        items
            .into_iter()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect()
    })
}

fn parse_line(r: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = r.windows(2).position(|w| w == b"\r\n")?;
    Some((&r[..end], &r[end + 2..]))
}

fn parse_bulk(r: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let (head, rest) = parse_line(r)?;
    let n: usize = std::str::from_utf8(head.strip_prefix(b"$")?)
        .ok()?
        .parse()
        .ok()?;
    let body = rest.get(..n)?.to_vec();
    let rest = rest.get(n..)?.strip_prefix(b"\r\n")?;
    Some((body, rest))
}

fn parse_bulk_array(r: &[u8]) -> Option<(Vec<Vec<u8>>, &[u8])> {
    let (head, mut rest) = parse_line(r)?;
    let n: usize = std::str::from_utf8(head.strip_prefix(b"*")?)
        .ok()?
        .parse()
        .ok()?;
    let mut items = Vec::new();
    for _ in 0..n {
        let (b, r) = parse_bulk(rest)?;
        items.push(b);
        rest = r;
    }
    Some((items, rest))
}

fn parse_scan(r: &[u8]) -> Option<(u64, Vec<Vec<u8>>)> {
    let rest = r.strip_prefix(b"*2\r\n")?;
    let (cursor, rest) = parse_bulk(rest)?;
    let cursor = std::str::from_utf8(&cursor).ok()?.parse().ok()?;
    let (keys, rest) = parse_bulk_array(rest)?;
    rest.is_empty().then_some((cursor, keys))
}

/// Redis's reply for an error.
fn err(msg: &str) -> String {
    format!("-{msg}\r\n")
}

// ---------------------------------------------------------------------------
// DEL, UNLINK, EXISTS, TYPE, TOUCH
// ---------------------------------------------------------------------------

#[test]
fn del_and_unlink_count_deleted_keys_once() {
    let mut t = T::new();
    t.is("SET a 1", "+OK\r\n");
    t.is("SET b 2", "+OK\r\n");
    t.is("SET c 3", "+OK\r\n");
    let before = t.dirty();
    t.is("DEL a a nokey b", ":2\r\n");
    assert_eq!(t.dirty(), before + 2);
    t.is("UNLINK c c", ":1\r\n");
    t.is("del a", ":0\r\n");
    t.is(
        "DEL",
        &err("ERR wrong number of arguments for 'del' command"),
    );
    t.is(
        "UNLINK",
        &err("ERR wrong number of arguments for 'unlink' command"),
    );
    t.is("DBSIZE", ":0\r\n");
}

#[test]
fn del_treats_expired_keys_as_absent() {
    let mut t = T::new();
    let now = clock::now_ms();
    t.plant(0, "gone", "v", Some(now - 10));
    t.plant(0, "live", "v", Some(now + 100_000));
    t.is("DBSIZE", ":2\r\n");
    t.is("DEL gone live", ":1\r\n");
    t.is("DBSIZE", ":0\r\n");
}

#[test]
fn exists_counts_repeats_and_keyspace_hits() {
    let mut t = T::new();
    t.is("SET a x", "+OK\r\n");
    let hits = t.store.keyspace_hits();
    let misses = t.store.keyspace_misses();
    t.is("EXISTS a a nokey a", ":3\r\n");
    assert_eq!(t.store.keyspace_hits(), hits + 3);
    assert_eq!(t.store.keyspace_misses(), misses + 1);
    t.is("EXISTS nokey", ":0\r\n");
    t.plant(0, "old", "v", Some(clock::now_ms() - 1));
    t.is("EXISTS old", ":0\r\n");
    t.is(
        "EXISTS",
        &err("ERR wrong number of arguments for 'exists' command"),
    );
}

#[test]
fn exists_and_type_do_not_touch_but_touch_does() {
    let mut t = T::new();
    t.is("SET a x", "+OK\r\n");
    let old = clock::lru_clock(clock::now_ms() - 100_000);
    t.set_clock("a", old);
    t.is("EXISTS a", ":1\r\n");
    t.is("TYPE a", "+string\r\n");
    t.is("TTL a", ":-1\r\n");
    t.is("OBJECT ENCODING a", "$6\r\nembstr\r\n");
    assert_eq!(t.clock_of("a"), old);
    t.is("TOUCH a nokey a", ":2\r\n");
    assert_ne!(t.clock_of("a"), old);
}

#[test]
fn touch_updates_the_clock_even_for_no_touch_clients() {
    let mut t = T::new();
    t.is("SET a x", "+OK\r\n");
    let old = clock::lru_clock(clock::now_ms() - 100_000);
    t.set_clock("a", old);
    t.client.no_touch = true;
    t.is("GET a", "$1\r\nx\r\n");
    assert_eq!(
        t.clock_of("a"),
        old,
        "GET from a NO-TOUCH client keeps the clock"
    );
    t.is("TOUCH a", ":1\r\n");
    assert_ne!(t.clock_of("a"), old);
    t.is(
        "TOUCH",
        &err("ERR wrong number of arguments for 'touch' command"),
    );
}

#[test]
fn type_reports_string_or_none() {
    let mut t = T::new();
    t.is("SET s hello", "+OK\r\n");
    t.is("SET n 12", "+OK\r\n");
    t.is("TYPE s", "+string\r\n");
    t.is("TYPE n", "+string\r\n");
    t.is("TYPE nokey", "+none\r\n");
    t.plant(0, "old", "v", Some(clock::now_ms() - 1));
    t.is("TYPE old", "+none\r\n");
    t.is(
        "TYPE",
        &err("ERR wrong number of arguments for 'type' command"),
    );
    t.is(
        "TYPE a b",
        &err("ERR wrong number of arguments for 'type' command"),
    );
    let mut t = t.resp3();
    t.is("TYPE s", "+string\r\n");
}

// ---------------------------------------------------------------------------
// RENAME, RENAMENX
// ---------------------------------------------------------------------------

#[test]
fn rename_moves_value_and_ttl_and_overwrites() {
    let mut t = T::new();
    t.is("RENAME nokey b", &err("ERR no such key"));
    t.is("RENAME nokey nokey", &err("ERR no such key"));
    t.is("RENAMENX nokey nokey", &err("ERR no such key"));
    t.is("SET a hello", "+OK\r\n");
    t.is("PEXPIRE a 100000", ":1\r\n");
    t.is("SET b other", "+OK\r\n");
    let before = t.dirty();
    t.is("RENAME a b", "+OK\r\n");
    assert_eq!(t.dirty(), before + 1);
    t.is("GET b", "$5\r\nhello\r\n");
    t.is("EXISTS a", ":0\r\n");
    let pttl = t.int("PTTL b");
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    // The destination's own TTL is dropped when the source has none.
    t.is("SET c plain", "+OK\r\n");
    t.is("RENAME c b", "+OK\r\n");
    t.is("TTL b", ":-1\r\n");
    t.is("GET b", "$5\r\nplain\r\n");
    // Same name: nothing happens, but the key must exist.
    t.is("RENAME b b", "+OK\r\n");
    t.is("GET b", "$5\r\nplain\r\n");
    t.is(
        "RENAME",
        &err("ERR wrong number of arguments for 'rename' command"),
    );
    t.is(
        "RENAME a",
        &err("ERR wrong number of arguments for 'rename' command"),
    );
}

#[test]
fn renamenx_refuses_an_existing_destination() {
    let mut t = T::new();
    t.is("SET a 1", "+OK\r\n");
    t.is("SET b 2", "+OK\r\n");
    t.is("RENAMENX a b", ":0\r\n");
    t.is("GET a", "$1\r\n1\r\n");
    t.is("RENAMENX a a", ":0\r\n");
    t.is("RENAMENX a c", ":1\r\n");
    t.is("GET c", "$1\r\n1\r\n");
    t.is("EXISTS a", ":0\r\n");
    // An expired destination does not count.
    t.plant(0, "old", "v", Some(clock::now_ms() - 1));
    t.is("RENAMENX c old", ":1\r\n");
    t.is("GET old", "$1\r\n1\r\n");
}

#[test]
fn rename_keeps_encoding_and_access_clock() {
    let mut t = T::new();
    let long = "x".repeat(60);
    t.is("SET i 123", "+OK\r\n");
    t.is("SET e short", "+OK\r\n");
    t.is(&format!("SET r {long}"), "+OK\r\n");
    // A short string in its own buffer, as APPEND leaves it: `raw`.
    t.plant_value(0, "h", NewValue::Heap(b"abcd".to_vec()));
    t.is("OBJECT ENCODING h", "$3\r\nraw\r\n");
    for (from, to, enc) in [
        ("i", "i2", "int"),
        ("e", "e2", "embstr"),
        ("r", "r2", "raw"),
        ("h", "h2", "raw"),
    ] {
        t.is(&format!("RENAME {from} {to}"), "+OK\r\n");
        t.is(
            &format!("OBJECT ENCODING {to}"),
            &format!("${}\r\n{enc}\r\n", enc.len()),
        );
    }
    t.is("GET h2", "$4\r\nabcd\r\n");
    t.is("GET r2", &format!("$60\r\n{long}\r\n"));
    // The clock travels with the value (after the write lookup touched it).
    let c = t.clock_of("e2");
    t.is("RENAME e2 e3", "+OK\r\n");
    assert_eq!(t.clock_of("e3"), c);
}

// ---------------------------------------------------------------------------
// COPY
// ---------------------------------------------------------------------------

#[test]
fn copy_duplicates_value_and_ttl() {
    let mut t = T::new();
    t.is("COPY nokey b", ":0\r\n");
    t.is("SET a hello", "+OK\r\n");
    t.is("PEXPIRE a 50000", ":1\r\n");
    let before = t.dirty();
    t.is("COPY a b", ":1\r\n");
    assert_eq!(t.dirty(), before + 1);
    t.is("GET a", "$5\r\nhello\r\n");
    t.is("GET b", "$5\r\nhello\r\n");
    let pttl = t.int("PTTL b");
    assert!((49_000..=50_000).contains(&pttl), "{pttl}");
    t.is("COPY a b", ":0\r\n");
    t.is("SET c other", "+OK\r\n");
    t.is("COPY c b REPLACE", ":1\r\n");
    t.is("GET b", "$5\r\nother\r\n");
    t.is("TTL b", ":-1\r\n");
    t.is("SET n 42", "+OK\r\n");
    t.is("COPY n n2", ":1\r\n");
    t.is("OBJECT ENCODING n2", "$3\r\nint\r\n");
    t.is("GET n2", "$2\r\n42\r\n");
    t.plant_value(0, "h", NewValue::Heap(b"abc".to_vec()));
    t.is("COPY h h2", ":1\r\n");
    t.is("OBJECT ENCODING h2", "$3\r\nraw\r\n");
    t.is("GET h2", "$3\r\nabc\r\n");
    // The copy is independent of the original.
    t.is("DEL h", ":1\r\n");
    t.is("GET h2", "$3\r\nabc\r\n");
}

#[test]
fn copy_to_another_database() {
    let mut t = T::new();
    t.is("SET a v", "+OK\r\n");
    t.is("COPY a a DB 1", ":1\r\n");
    t.is("COPY a a db 1", ":0\r\n");
    t.is("COPY a a DB 1 REPLACE", ":1\r\n");
    t.is("copy a b replace db 2", ":1\r\n");
    t.client.db = 1;
    t.is("GET a", "$1\r\nv\r\n");
    t.client.db = 2;
    t.is("GET b", "$1\r\nv\r\n");
    t.client.db = 0;
    t.is("GET a", "$1\r\nv\r\n");
    t.is("EXISTS b", ":0\r\n");
}

#[test]
fn copy_errors() {
    let mut t = T::new();
    t.is("SET a v", "+OK\r\n");
    t.is(
        "COPY a a",
        &err("ERR source and destination objects are the same"),
    );
    t.is(
        "COPY a a DB 0",
        &err("ERR source and destination objects are the same"),
    );
    t.is("COPY a b DB", &err("ERR syntax error"));
    t.is("COPY a b foo", &err("ERR syntax error"));
    t.is(
        "COPY a b DB x",
        &err("ERR value is not an integer or out of range"),
    );
    t.is("COPY a b DB 99 foo", &err("ERR DB index is out of range"));
    t.is("COPY a b DB -1", &err("ERR DB index is out of range"));
    t.is("COPY a b DB 16", &err("ERR DB index is out of range"));
    t.is(
        "COPY a b DB 99999999999",
        &err("ERR value is out of range, value must between -2147483648 and 2147483647"),
    );
    t.is("COPY a b REPLACE foo", &err("ERR syntax error"));
    t.is(
        "COPY a",
        &err("ERR wrong number of arguments for 'copy' command"),
    );
    t.is("EXISTS b", ":0\r\n");
}

// ---------------------------------------------------------------------------
// MOVE
// ---------------------------------------------------------------------------

#[test]
fn move_between_databases() {
    let mut t = T::new();
    t.is("SET a v", "+OK\r\n");
    t.is("PEXPIRE a 70000", ":1\r\n");
    let before = t.dirty();
    t.is("MOVE a 3", ":1\r\n");
    assert_eq!(t.dirty(), before + 1);
    t.is("EXISTS a", ":0\r\n");
    t.is("MOVE a 3", ":0\r\n");
    t.client.db = 3;
    t.is("GET a", "$1\r\nv\r\n");
    let pttl = t.int("PTTL a");
    assert!((69_000..=70_000).contains(&pttl), "{pttl}");
    // Moving back when the destination exists does nothing.
    t.client.db = 0;
    t.is("SET a other", "+OK\r\n");
    t.client.db = 3;
    t.is("MOVE a 0", ":0\r\n");
    t.is("GET a", "$1\r\nv\r\n");
    // Moving down in database order locks in the other order.
    t.is("MOVE a 1", ":1\r\n");
    t.client.db = 1;
    t.is("GET a", "$1\r\nv\r\n");
}

#[test]
fn move_errors() {
    let mut t = T::new();
    t.is("SET a v", "+OK\r\n");
    t.is(
        "MOVE a x",
        &err("ERR value is not an integer or out of range"),
    );
    t.is("MOVE a 99", &err("ERR DB index is out of range"));
    t.is("MOVE a -1", &err("ERR DB index is out of range"));
    t.is(
        "MOVE a 0",
        &err("ERR source and destination objects are the same"),
    );
    t.is(
        "MOVE a 99999999999",
        &err("ERR value is out of range, value must between -2147483648 and 2147483647"),
    );
    t.is("MOVE nokey 1", ":0\r\n");
    t.is(
        "MOVE a",
        &err("ERR wrong number of arguments for 'move' command"),
    );
    t.is(
        "MOVE a 1 2",
        &err("ERR wrong number of arguments for 'move' command"),
    );
}

// ---------------------------------------------------------------------------
// KEYS
// ---------------------------------------------------------------------------

#[test]
fn keys_matches_glob_patterns() {
    let mut t = T::new();
    for k in ["one", "two", "three", "four", "a*b"] {
        t.is(&format!("SET {k} 1"), "+OK\r\n");
    }
    t.plant(0, "tomb", "v", Some(clock::now_ms() - 1));
    assert_eq!(t.sorted("KEYS *"), ["a*b", "four", "one", "three", "two"]);
    assert_eq!(t.sorted("KEYS t*"), ["three", "two"]);
    assert_eq!(t.sorted("KEYS *o*"), ["four", "one", "two"]);
    assert_eq!(t.sorted("KEYS ?ne"), ["one"]);
    assert_eq!(t.sorted("KEYS [ot]*"), ["one", "three", "two"]);
    assert_eq!(t.sorted("KEYS one"), ["one"]);
    assert_eq!(t.sorted(r"KEYS a\*b"), ["a*b"]);
    assert_eq!(t.sorted("KEYS a*b"), ["a*b"]);
    t.is("KEYS nothing", "*0\r\n");
    t.is("KEYS tomb", "*0\r\n");
    t.is("KEYS tom*", "*0\r\n");
    t.is(
        "KEYS",
        &err("ERR wrong number of arguments for 'keys' command"),
    );
    t.is(
        "KEYS a b",
        &err("ERR wrong number of arguments for 'keys' command"),
    );
}

#[test]
fn keys_star_lists_the_empty_key_but_double_star_does_not() {
    let mut t = T::new();
    assert_eq!(t.raw(&[b"SET", b"", b"v"]), b"+OK\r\n");
    t.is("KEYS *", "*1\r\n$0\r\n\r\n");
    t.is("KEYS **", "*0\r\n");
    assert_eq!(t.raw(&[b"KEYS", b""]), b"*1\r\n$0\r\n\r\n");
    t.is("EXISTS x", ":0\r\n");
}

#[test]
fn keys_handles_binary_keys() {
    let mut t = T::new();
    assert_eq!(t.raw(&[b"SET", b"k\x00\xff", b"v"]), b"+OK\r\n");
    assert_eq!(t.raw(&[b"KEYS", b"k*"]), b"*1\r\n$3\r\nk\x00\xff\r\n");
    assert_eq!(
        t.raw(&[b"KEYS", b"k\x00\xff"]),
        b"*1\r\n$3\r\nk\x00\xff\r\n"
    );
}

// ---------------------------------------------------------------------------
// SCAN
// ---------------------------------------------------------------------------

/// Runs a whole SCAN iteration with extra arguments and returns every key
/// seen (with repeats) and the number of calls.
fn full_scan(t: &mut T, extra: &[&[u8]]) -> (Vec<Vec<u8>>, usize) {
    let mut cursor = 0u64;
    let mut all = Vec::new();
    let mut calls = 0;
    loop {
        let c = cursor.to_string();
        let mut args: Vec<&[u8]> = vec![b"SCAN", c.as_bytes()];
        args.extend_from_slice(extra);
        let (next, keys) = t.scan(&args);
        all.extend(keys);
        calls += 1;
        cursor = next;
        if cursor == 0 {
            return (all, calls);
        }
        assert!(calls < 1_000_000, "SCAN does not terminate");
    }
}

#[test]
fn scan_returns_every_key() {
    let mut t = T::new();
    t.is("SCAN 0", "*2\r\n$1\r\n0\r\n*0\r\n");
    for i in 0..1000 {
        t.is(&format!("SET key:{i} v"), "+OK\r\n");
    }
    let (all, calls) = full_scan(&mut t, &[]);
    let set: HashSet<Vec<u8>> = all.iter().cloned().collect();
    assert_eq!(set.len(), 1000);
    assert!(calls > 10, "COUNT 10 should take many calls, took {calls}");
    let (all, calls_big) = full_scan(&mut t, &[b"COUNT", b"100000"]);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 1000);
    assert!(calls_big < calls);
}

#[test]
fn scan_match_and_type_filter() {
    let mut t = T::new();
    for i in 0..200 {
        t.is(&format!("SET user:{i} v"), "+OK\r\n");
        t.is(&format!("SET item:{i} v"), "+OK\r\n");
    }
    let (all, _) = full_scan(&mut t, &[b"MATCH", b"user:1*", b"COUNT", b"7"]);
    let set: HashSet<Vec<u8>> = all.into_iter().collect();
    let expected: HashSet<Vec<u8>> = (0..200)
        .map(|i| format!("user:{i}"))
        .filter(|k| k.starts_with("user:1"))
        .map(String::into_bytes)
        .collect();
    assert_eq!(set, expected);
    let (all, _) = full_scan(&mut t, &[b"TYPE", b"string"]);
    assert_eq!(all.into_iter().collect::<HashSet<_>>().len(), 400);
    let (all, _) = full_scan(&mut t, &[b"type", b"STRING", b"match", b"item:*"]);
    assert_eq!(all.into_iter().collect::<HashSet<_>>().len(), 200);
    // Unknown types and types no key has match nothing, without an error.
    let (all, _) = full_scan(&mut t, &[b"TYPE", b"list"]);
    assert!(all.is_empty());
    let (all, _) = full_scan(&mut t, &[b"TYPE", b"nosuchtype"]);
    assert!(all.is_empty());
}

#[test]
fn scan_with_a_literal_pattern_looks_the_key_up() {
    let mut t = T::new();
    for i in 0..100 {
        t.is(&format!("SET k{i} v"), "+OK\r\n");
    }
    t.is("SET a*b v", "+OK\r\n");
    t.is("SCAN 0 MATCH k42", "*2\r\n$1\r\n0\r\n*1\r\n$3\r\nk42\r\n");
    t.is("SCAN 0 MATCH k420", "*2\r\n$1\r\n0\r\n*0\r\n");
    t.is(r"SCAN 0 MATCH a\*b", "*2\r\n$1\r\n0\r\n*1\r\n$3\r\na*b\r\n");
    t.is("SCAN 0 MATCH k42 TYPE list", "*2\r\n$1\r\n0\r\n*0\r\n");
    t.is(
        "SCAN 0 MATCH k42 TYPE string",
        "*2\r\n$1\r\n0\r\n*1\r\n$3\r\nk42\r\n",
    );
    t.plant(0, "dead", "v", Some(clock::now_ms() - 1));
    t.is("SCAN 0 MATCH dead", "*2\r\n$1\r\n0\r\n*0\r\n");
}

#[test]
fn scan_match_star_includes_the_empty_key() {
    let mut t = T::new();
    assert_eq!(t.raw(&[b"SET", b"", b"v"]), b"+OK\r\n");
    let (all, _) = full_scan(&mut t, &[b"MATCH", b"*"]);
    assert_eq!(all, vec![Vec::<u8>::new()]);
    let (all, _) = full_scan(&mut t, &[b"MATCH", b"**"]);
    assert!(all.is_empty());
    let (all, _) = full_scan(&mut t, &[b"MATCH", b""]);
    assert_eq!(all, vec![Vec::<u8>::new()]);
}

#[test]
fn scan_skips_expired_keys() {
    let mut t = T::new();
    let now = clock::now_ms();
    for i in 0..50 {
        t.plant(0, &format!("dead{i}"), "v", Some(now - 1));
        t.plant(0, &format!("live{i}"), "v", Some(now + 1_000_000));
    }
    let (all, _) = full_scan(&mut t, &[]);
    let set: HashSet<Vec<u8>> = all.into_iter().collect();
    assert_eq!(set.len(), 50);
    assert!(set.iter().all(|k| k.starts_with(b"live")));
}

#[test]
fn scan_returns_every_key_present_throughout_while_keys_come_and_go() {
    for shard_bits in [0, 2, 4] {
        let mut t = T::with(StoreOptions {
            databases: 2,
            shard_bits,
        });
        // Keys present from start to end.
        for i in 0..2000 {
            t.is(&format!("SET stay:{i} v"), "+OK\r\n");
        }
        // Keys that will be deleted along the way.
        for i in 0..3000 {
            t.is(&format!("SET go:{i} v"), "+OK\r\n");
        }
        let mut cursor = 0u64;
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut step = 0usize;
        let mut added = 0usize;
        let mut removed = 0usize;
        loop {
            let c = cursor.to_string();
            let (next, keys) = t.scan(&[b"SCAN", c.as_bytes(), b"COUNT", b"25"]);
            seen.extend(keys);
            step += 1;
            // Between calls: delete some keys (the tables shrink), add many
            // (the tables grow), alternating.
            if step % 3 == 0 && removed < 3000 {
                for _ in 0..300 {
                    if removed < 3000 {
                        t.is(&format!("DEL go:{removed}"), ":1\r\n");
                        removed += 1;
                    }
                }
            } else if added < 6000 {
                for _ in 0..150 {
                    t.is(&format!("SET new:{added} v"), "+OK\r\n");
                    added += 1;
                }
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
            assert!(step < 100_000);
        }
        for i in 0..2000 {
            let k = format!("stay:{i}").into_bytes();
            assert!(
                seen.contains(&k),
                "shard_bits {shard_bits}: stay:{i} missed"
            );
        }
        assert!(
            added > 1000,
            "the keyspace should have grown during the scan"
        );
    }
}

#[test]
fn scan_cursor_parsing_follows_string2ull() {
    // Redis 7.2+ parses the cursor with string2ull.
    let mut t = T::new();
    t.is("SET a 1", "+OK\r\n");
    let first = t.raw(&[b"SCAN", b"0"]);
    assert_eq!(t.raw(&[b"SCAN", b"+0"]), first);
    assert_eq!(t.raw(&[b"SCAN", b"-0"]), first, "strtoull reads -0 as 0");
    assert_eq!(t.raw(&[b"SCAN", b" 0"]), first, "strtoull skips blanks");
    assert_eq!(t.raw(&[b"SCAN", b"\t0"]), first);
    assert_eq!(t.raw(&[b"SCAN", b"0\x00junk"]), first, "C stops at NUL");
    assert!(t.run("SCAN 18446744073709551615").starts_with("*2\r\n"));
    assert!(t.run("SCAN -18446744073709551615").starts_with("*2\r\n"));
    let bad = err("ERR invalid cursor");
    for c in [
        &b""[..],
        b"-1",
        b"-5",
        b"1 ",
        b"1x",
        b"0x10",
        b"+",
        b"-",
        b"18446744073709551616",
        b"-18446744073709551616",
        b"99999999999999999999999",
        b"1.0",
    ] {
        assert_eq!(
            t.raw(&[b"SCAN", c]),
            bad.as_bytes(),
            "{:?}",
            String::from_utf8_lossy(c)
        );
    }
    // The cursor is checked before the options.
    t.is("SCAN x COUNT 0", &bad);
}

#[test]
fn scan_option_errors() {
    let mut t = T::new();
    t.is("SCAN 0 COUNT 0", &err("ERR syntax error"));
    t.is("SCAN 0 COUNT -1", &err("ERR syntax error"));
    t.is(
        "SCAN 0 COUNT x",
        &err("ERR value is not an integer or out of range"),
    );
    t.is("SCAN 0 COUNT", &err("ERR syntax error"));
    t.is("SCAN 0 MATCH", &err("ERR syntax error"));
    t.is("SCAN 0 TYPE", &err("ERR syntax error"));
    t.is("SCAN 0 foo", &err("ERR syntax error"));
    t.is(
        "SCAN 0 NOVALUES",
        &err("ERR NOVALUES option can only be used in HSCAN"),
    );
    t.is(
        "SCAN 0 noscores",
        &err("ERR NOSCORES option can only be used in ZSCAN"),
    );
    t.is("SCAN 0 COUNT 10 MATCH * bar", &err("ERR syntax error"));
    t.is(
        "SCAN",
        &err("ERR wrong number of arguments for 'scan' command"),
    );
    // Options may repeat; the last one wins.
    t.is(
        "SCAN 0 COUNT 1 COUNT 100 MATCH x MATCH *",
        "*2\r\n$1\r\n0\r\n*0\r\n",
    );
}

#[test]
fn scan_reply_shape_is_the_same_in_resp3() {
    let mut t = T::new().resp3();
    t.is("SET k v", "+OK\r\n");
    t.is("SCAN 0 COUNT 1000", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n");
    t.is("SCAN 0 MATCH k", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n");
}

// ---------------------------------------------------------------------------
// RANDOMKEY, DBSIZE
// ---------------------------------------------------------------------------

#[test]
fn randomkey_returns_a_live_key_or_null() {
    let mut t = T::new();
    t.is("RANDOMKEY", "$-1\r\n");
    t.is("SET only v", "+OK\r\n");
    t.is("RANDOMKEY", "$4\r\nonly\r\n");
    t.is("DEL only", ":1\r\n");
    let now = clock::now_ms();
    for i in 0..20 {
        t.plant(0, &format!("dead{i}"), "v", Some(now - 1));
    }
    t.is("RANDOMKEY", "$-1\r\n");
    t.is("SET live v", "+OK\r\n");
    t.is("RANDOMKEY", "$4\r\nlive\r\n");
    t.is(
        "RANDOMKEY x",
        &err("ERR wrong number of arguments for 'randomkey' command"),
    );
    let mut t = T::new().resp3();
    t.is("RANDOMKEY", "_\r\n");
}

#[test]
fn randomkey_reaches_every_key() {
    let mut t = T::new();
    for i in 0..5 {
        t.is(&format!("SET k{i} v"), "+OK\r\n");
    }
    let mut seen = HashSet::new();
    for _ in 0..500 {
        seen.insert(t.run("RANDOMKEY"));
    }
    assert_eq!(seen.len(), 5);
}

#[test]
fn dbsize_counts_keys_of_the_selected_database() {
    let mut t = T::new();
    t.is("DBSIZE", ":0\r\n");
    t.is("SET a 1", "+OK\r\n");
    t.is("SET b 1", "+OK\r\n");
    t.is("DBSIZE", ":2\r\n");
    t.client.db = 5;
    t.is("DBSIZE", ":0\r\n");
    t.is(
        "DBSIZE x",
        &err("ERR wrong number of arguments for 'dbsize' command"),
    );
}

// ---------------------------------------------------------------------------
// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT
// ---------------------------------------------------------------------------

#[test]
fn expire_sets_ttl_and_past_times_delete() {
    let mut t = T::new();
    t.is("EXPIRE nokey 100", ":0\r\n");
    t.is("SET a v", "+OK\r\n");
    let before = t.dirty();
    t.is("EXPIRE a 100", ":1\r\n");
    assert_eq!(t.dirty(), before + 1);
    t.is("TTL a", ":100\r\n");
    let pttl = t.int("PTTL a");
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    // TTL rounds to the nearest second: 1.7 s left reads 2 for as long as
    // the next command comes within 200 ms, even on a busy machine.
    t.is("PEXPIRE a 1700", ":1\r\n");
    t.is("TTL a", ":2\r\n");
    // A time in the past deletes the key and still answers 1.
    t.is("EXPIRE a -1", ":1\r\n");
    t.is("EXISTS a", ":0\r\n");
    t.is("TTL a", ":-2\r\n");
    t.is("SET b v", "+OK\r\n");
    t.is("PEXPIRE b 0", ":1\r\n");
    t.is("EXISTS b", ":0\r\n");
    t.is("SET c v", "+OK\r\n");
    t.is("EXPIREAT c 1", ":1\r\n");
    t.is("EXISTS c", ":0\r\n");
    t.is("SET d v", "+OK\r\n");
    t.is("PEXPIREAT d -9223372036854775808", ":1\r\n");
    t.is("EXISTS d", ":0\r\n");
    t.is("SET e v", "+OK\r\n");
    let at = clock::now_ms() / 1000 + 1000;
    t.is(&format!("EXPIREAT e {at}"), ":1\r\n");
    t.is("EXPIRETIME e", &format!(":{at}\r\n"));
    t.is("PEXPIRETIME e", &format!(":{}\r\n", at * 1000));
    let at_ms = clock::now_ms() + 5_000_123;
    t.is(&format!("PEXPIREAT e {at_ms}"), ":1\r\n");
    t.is("PEXPIRETIME e", &format!(":{at_ms}\r\n"));
    t.is("EXPIRETIME e", &format!(":{}\r\n", (at_ms + 500) / 1000));
}

#[test]
fn expire_conditions_follow_redis() {
    let mut t = T::new();
    t.is("SET k v", "+OK\r\n");
    // No TTL: NX sets, XX and GT refuse, LT sets.
    t.is("EXPIRE k 100 XX", ":0\r\n");
    t.is("EXPIRE k 100 GT", ":0\r\n");
    t.is("TTL k", ":-1\r\n");
    t.is("EXPIRE k 100 nx", ":1\r\n");
    t.is("EXPIRE k 50 NX", ":0\r\n");
    t.is("EXPIRE k 200 xx", ":1\r\n");
    t.is("TTL k", ":200\r\n");
    t.is("EXPIRE k 100 GT", ":0\r\n");
    // 199 s from a later millisecond is still sooner than the 200 s set
    // above (the same 200 would race the clock's millisecond tick).
    t.is("EXPIRE k 199 GT", ":0\r\n");
    t.is("EXPIRE k 300 gt", ":1\r\n");
    t.is("EXPIRE k 400 LT", ":0\r\n");
    t.is("EXPIRE k 301 LT", ":0\r\n");
    t.is("EXPIRE k 50 lt", ":1\r\n");
    t.is("TTL k", ":50\r\n");
    t.is("EXPIRE k 60 XX GT", ":1\r\n");
    t.is("EXPIRE k 10 XX LT", ":1\r\n");
    t.is("EXPIRE k 20 XX LT", ":0\r\n");
    t.is("EXPIRE k 10 XX XX", ":1\r\n");
    t.is("PERSIST k", ":1\r\n");
    t.is("EXPIRE k 10 LT", ":1\r\n");
    t.is("PERSIST k", ":1\r\n");
    // A negative time passes LT on a key without TTL and deletes it.
    t.is("EXPIRE k -5 LT", ":1\r\n");
    t.is("EXISTS k", ":0\r\n");
    // Conditions are checked before the key's absence.
    t.is("EXPIRE nokey 10 NX", ":0\r\n");
}

#[test]
fn expire_option_errors() {
    let mut t = T::new();
    t.is("SET a v", "+OK\r\n");
    let nx = err("ERR NX and XX, GT or LT options at the same time are not compatible");
    let gtlt = err("ERR GT and LT options at the same time are not compatible");
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        t.is(&format!("{cmd} a 10 NX XX"), &nx);
        t.is(&format!("{cmd} a 10 nx gt"), &nx);
        t.is(&format!("{cmd} a 10 LT NX"), &nx);
        t.is(&format!("{cmd} a 10 GT LT"), &gtlt);
        t.is(&format!("{cmd} a 10 XX GT LT"), &gtlt);
        t.is(
            &format!("{cmd} a 10 foo"),
            &err("ERR Unsupported option foo"),
        );
        // Options are parsed before the number.
        t.is(
            &format!("{cmd} a x bar"),
            &err("ERR Unsupported option bar"),
        );
        t.is(
            &format!("{cmd} a x"),
            &err("ERR value is not an integer or out of range"),
        );
        t.is(
            &format!("{cmd} a 1.5"),
            &err("ERR value is not an integer or out of range"),
        );
        t.is(
            &format!("{cmd} a"),
            &err(&format!(
                "ERR wrong number of arguments for '{}' command",
                cmd.to_lowercase()
            )),
        );
    }
    assert_eq!(
        t.raw(&[b"EXPIRE", b"a", b"10", b"x\r\ny"]),
        b"-ERR Unsupported option x  y\r\n"
    );
    assert_eq!(
        t.raw(&[b"EXPIRE", b"a", b"10", b"ab\x00cd"]),
        b"-ERR Unsupported option ab\r\n"
    );
    t.is("TTL a", ":-1\r\n");
}

#[test]
fn expire_overflow_errors_name_the_command() {
    let mut t = T::new();
    t.is("SET a v", "+OK\r\n");
    // Checked before the key is looked up.
    t.is(
        "EXPIRE nokey 9223372036854775807",
        &err("ERR invalid expire time in 'expire' command"),
    );
    t.is(
        "EXPIRE a 9223372036854776",
        &err("ERR invalid expire time in 'expire' command"),
    );
    t.is(
        "EXPIRE a -9223372036854776",
        &err("ERR invalid expire time in 'expire' command"),
    );
    t.is(
        "EXPIRE a 9223372036854775",
        &err("ERR invalid expire time in 'expire' command"),
    );
    t.is(
        "PEXPIRE a 9223372036854775807",
        &err("ERR invalid expire time in 'pexpire' command"),
    );
    t.is(
        "EXPIREAT a 9223372036854776",
        &err("ERR invalid expire time in 'expireat' command"),
    );
    t.is(
        "EXPIREAT a -9223372036854776",
        &err("ERR invalid expire time in 'expireat' command"),
    );
    t.is("TTL a", ":-1\r\n");
    // The largest representable absolute times are accepted.
    t.is("EXPIREAT a 9223372036854775", ":1\r\n");
    t.is("PEXPIRETIME a", ":9223372036854775000\r\n");
    t.is("PEXPIREAT a 9223372036854775807", ":1\r\n");
    t.is("PEXPIRETIME a", ":9223372036854775807\r\n");
    t.is("EXPIRETIME a", ":9223372036854775\r\n");
    t.is("EXPIRE a -9223372036854775", ":1\r\n");
    t.is("EXISTS a", ":0\r\n");
    t.is("SET a v", "+OK\r\n");
    t.is("PEXPIRE a -9223372036854775808", ":1\r\n");
    t.is("EXISTS a", ":0\r\n");
}

// ---------------------------------------------------------------------------
// TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST
// ---------------------------------------------------------------------------

#[test]
fn ttl_family_reports_minus_two_and_minus_one() {
    let mut t = T::new();
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        t.is(&format!("{cmd} nokey"), ":-2\r\n");
    }
    t.is("SET a v", "+OK\r\n");
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        t.is(&format!("{cmd} a"), ":-1\r\n");
        t.is(
            &format!("{cmd} a b"),
            &err(&format!(
                "ERR wrong number of arguments for '{}' command",
                cmd.to_lowercase()
            )),
        );
    }
    // A key whose time is up is gone for all of them.
    t.plant(0, "old", "v", Some(clock::now_ms() - 1));
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        t.is(&format!("{cmd} old"), ":-2\r\n");
    }
    t.is("DBSIZE", ":1\r\n");
}

#[test]
fn ttl_rounds_to_the_nearest_second() {
    let mut t = T::new();
    t.is("SET a v", "+OK\r\n");
    t.is("PEXPIRE a 1499", ":1\r\n");
    t.is("TTL a", ":1\r\n");
    t.is("PEXPIRE a 2600", ":1\r\n");
    let ttl = t.int("TTL a");
    assert!(ttl == 3 || ttl == 2, "{ttl}");
    t.is("PEXPIRE a 100000", ":1\r\n");
    let pttl = t.int("PTTL a");
    assert!((99_000..=100_000).contains(&pttl));
}

#[test]
fn expired_key_is_deleted_lazily() {
    let mut t = T::new();
    t.is("SET a v", "+OK\r\n");
    t.is("PEXPIRE a 1", ":1\r\n");
    std::thread::sleep(std::time::Duration::from_millis(5));
    t.is("TTL a", ":-2\r\n");
    t.is("GET a", "$-1\r\n");
    t.is("DBSIZE", ":0\r\n");
}

#[test]
fn persist_removes_the_ttl() {
    let mut t = T::new();
    t.is("PERSIST nokey", ":0\r\n");
    t.is("SET a v", "+OK\r\n");
    t.is("PERSIST a", ":0\r\n");
    t.is("EXPIRE a 100", ":1\r\n");
    let before = t.dirty();
    t.is("PERSIST a", ":1\r\n");
    assert_eq!(t.dirty(), before + 1);
    t.is("TTL a", ":-1\r\n");
    t.is("PERSIST a", ":0\r\n");
    t.is(
        "PERSIST",
        &err("ERR wrong number of arguments for 'persist' command"),
    );
}

// ---------------------------------------------------------------------------
// OBJECT
// ---------------------------------------------------------------------------

#[test]
fn object_encoding_and_refcount() {
    let mut t = T::new();
    t.is("SET i 123", "+OK\r\n");
    t.is("SET z 1", "+OK\r\n");
    t.is("SET e hello", "+OK\r\n");
    t.is(&format!("SET r {}", "y".repeat(45)), "+OK\r\n");
    t.is(&format!("SET s {}", "y".repeat(44)), "+OK\r\n");
    t.is("OBJECT ENCODING i", "$3\r\nint\r\n");
    t.is("object encoding e", "$6\r\nembstr\r\n");
    t.is("OBJECT ENCODING r", "$3\r\nraw\r\n");
    t.is("OBJECT ENCODING s", "$6\r\nembstr\r\n");
    t.is("OBJECT ENCODING nokey", "$-1\r\n");
    t.is("OBJECT REFCOUNT i", ":1\r\n");
    t.is("OBJECT REFCOUNT z", ":1\r\n");
    t.is("OBJECT REFCOUNT e", ":1\r\n");
    t.is("OBJECT REFCOUNT nokey", "$-1\r\n");
    let mut t = t.resp3();
    t.is("OBJECT ENCODING nokey", "_\r\n");
    t.is("OBJECT REFCOUNT nokey", "_\r\n");
    t.is("OBJECT IDLETIME nokey", "_\r\n");
    t.is("OBJECT FREQ nokey", "_\r\n");
    t.is("OBJECT ENCODING e", "$6\r\nembstr\r\n");
}

#[test]
fn object_idletime_and_freq_depend_on_the_policy() {
    let mut t = T::new();
    t.is("SET a v", "+OK\r\n");
    t.is("OBJECT IDLETIME a", ":0\r\n");
    t.set_clock("a", clock::lru_clock(clock::now_ms() - 42_000));
    t.is("OBJECT IDLETIME a", ":42\r\n");
    t.is("OBJECT IDLETIME a", ":42\r\n");
    let freq_err = err(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
    );
    t.is("OBJECT FREQ a", &freq_err);
    t.is("OBJECT FREQ nokey", "$-1\r\n");
    t.store
        .settings
        .set_maxmemory_policy(EvictionPolicy::AllKeysLfu);
    t.is("SET f v", "+OK\r\n");
    t.is("OBJECT FREQ f", ":5\r\n");
    t.is(
        "OBJECT IDLETIME f",
        &err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
    );
    // The counter decays by one per lfu-decay-time minutes.
    let now = clock::now_ms();
    t.set_clock("f", clock::lfu_new(now - 3 * 60_000) + 5);
    t.is("OBJECT FREQ f", ":7\r\n");
    t.store
        .settings
        .set_maxmemory_policy(EvictionPolicy::VolatileLfu);
    t.is("OBJECT FREQ f", ":7\r\n");
    t.store
        .settings
        .set_maxmemory_policy(EvictionPolicy::AllKeysLru);
    t.is("OBJECT FREQ f", &freq_err);
}

#[test]
fn object_help_and_errors() {
    let mut t = T::new();
    let mut help =
        String::from("*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n");
    for line in [
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Print this help.",
    ] {
        help.push_str(&format!("+{line}\r\n"));
    }
    t.is("OBJECT HELP", &help);
    t.is("object help", &help);
    let mut t3 = T::new().resp3();
    t3.is("OBJECT help", &help);
    t.is(
        "OBJECT",
        &err("ERR wrong number of arguments for 'object' command"),
    );
    t.is(
        "OBJECT foo",
        &err("ERR unknown subcommand 'foo'. Try OBJECT HELP."),
    );
    t.is(
        "object foo bar",
        &err("ERR unknown subcommand 'foo'. Try OBJECT HELP."),
    );
    t.is(
        "OBJECT HELP x",
        &err("ERR wrong number of arguments for 'object|help' command"),
    );
    t.is(
        "OBJECT ENCODING",
        &err("ERR wrong number of arguments for 'object|encoding' command"),
    );
    t.is(
        "OBJECT FREQ a b",
        &err("ERR wrong number of arguments for 'object|freq' command"),
    );
    t.is(
        "OBJECT IDLETIME",
        &err("ERR wrong number of arguments for 'object|idletime' command"),
    );
    t.is(
        "OBJECT REFCOUNT",
        &err("ERR wrong number of arguments for 'object|refcount' command"),
    );
}

// ---------------------------------------------------------------------------
// FLUSHDB, FLUSHALL, SWAPDB
// ---------------------------------------------------------------------------

#[test]
fn flushdb_empties_the_selected_database_only() {
    let mut t = T::new();
    for mode in ["", " SYNC", " async", " ASYNC", " sync"] {
        for i in 0..100 {
            t.is(&format!("SET k{i} v"), "+OK\r\n");
        }
        t.is("COPY k1 k1 DB 1 REPLACE", ":1\r\n");
        let before = t.dirty();
        t.is(&format!("FLUSHDB{mode}"), "+OK\r\n");
        assert_eq!(t.dirty(), before + 100);
        t.is("DBSIZE", ":0\r\n");
        t.client.db = 1;
        t.is("DBSIZE", ":1\r\n");
        t.client.db = 0;
    }
    t.is("FLUSHDB foo", &err("ERR syntax error"));
    t.is("FLUSHDB ASYNC SYNC", &err("ERR syntax error"));
    t.is("FLUSHDB SYNC SYNC", &err("ERR syntax error"));
}

#[test]
fn flushall_empties_every_database() {
    let mut t = T::new();
    for mode in ["", " SYNC", " ASYNC"] {
        for db in 0..16 {
            t.client.db = db;
            for i in 0..10 {
                t.is(&format!("SET k{i} v"), "+OK\r\n");
            }
        }
        t.client.db = 0;
        let before = t.dirty();
        t.is(&format!("FLUSHALL{mode}"), "+OK\r\n");
        // The keys removed, and nothing for the command itself (Redis 7.0+).
        assert_eq!(t.dirty(), before + 160);
        for db in 0..16 {
            t.client.db = db;
            t.is("DBSIZE", ":0\r\n");
        }
        t.client.db = 0;
    }
    // An empty server: nothing removed, nothing dirtied.
    let before = t.dirty();
    t.is("FLUSHALL", "+OK\r\n");
    assert_eq!(t.dirty(), before);
    t.is("FLUSHALL foo", &err("ERR syntax error"));
    t.is("FLUSHALL async sync", &err("ERR syntax error"));
    // Keys written after an ASYNC flush stay.
    t.is("SET after v", "+OK\r\n");
    t.is("DBSIZE", ":1\r\n");
}

#[test]
fn swapdb_exchanges_databases() {
    let mut t = T::new();
    t.is("SET a zero", "+OK\r\n");
    t.is("EXPIRE a 1000", ":1\r\n");
    t.client.db = 1;
    t.is("SET b one", "+OK\r\n");
    t.is("SET c one", "+OK\r\n");
    let before = t.dirty();
    t.is("SWAPDB 0 1", "+OK\r\n");
    assert_eq!(t.dirty(), before + 1);
    // The client stays on database 1, which now holds the other keys.
    t.is("DBSIZE", ":1\r\n");
    t.is("GET a", "$4\r\nzero\r\n");
    t.is("TTL a", ":1000\r\n");
    t.client.db = 0;
    t.is("DBSIZE", ":2\r\n");
    t.is("GET b", "$3\r\none\r\n");
    t.is("SWAPDB 1 0", "+OK\r\n");
    t.is("GET a", "$4\r\nzero\r\n");
    t.is("SWAPDB 3 3", "+OK\r\n");
    t.is("SWAPDB 15 0", "+OK\r\n");
    t.is("DBSIZE", ":0\r\n");
    t.client.db = 15;
    t.is("DBSIZE", ":1\r\n");
}

#[test]
fn swapdb_errors() {
    let mut t = T::new();
    t.is("SWAPDB x 1", &err("ERR invalid first DB index"));
    t.is("SWAPDB 0 x", &err("ERR invalid second DB index"));
    t.is("SWAPDB x y", &err("ERR invalid first DB index"));
    t.is("SWAPDB 99999999999 0", &err("ERR invalid first DB index"));
    t.is("SWAPDB 0 -99999999999", &err("ERR invalid second DB index"));
    t.is("SWAPDB 0 99", &err("ERR DB index is out of range"));
    t.is("SWAPDB -1 0", &err("ERR DB index is out of range"));
    t.is("SWAPDB 16 16", &err("ERR DB index is out of range"));
    t.is(
        "SWAPDB 0",
        &err("ERR wrong number of arguments for 'swapdb' command"),
    );
}

#[test]
fn commands_on_other_databases_are_isolated() {
    let mut t = T::new();
    t.is("SET a v", "+OK\r\n");
    t.client.db = 7;
    t.is("EXISTS a", ":0\r\n");
    t.is("KEYS *", "*0\r\n");
    t.is("SCAN 0", "*2\r\n$1\r\n0\r\n*0\r\n");
    t.is("RANDOMKEY", "$-1\r\n");
    t.is("DEL a", ":0\r\n");
    t.client.db = 0;
    t.is("KEYS *", "*1\r\n$1\r\na\r\n");
}

// ---------------------------------------------------------------------------
// The command table
// ---------------------------------------------------------------------------

#[test]
fn table_metadata_matches_redis() {
    use viator_store::command::{acl, flags};
    let store = Store::new(StoreOptions::default());
    let t = store.commands();
    let get = |n: &str| t.get_full(n).unwrap_or_else(|| panic!("{n} missing")).spec;
    let del = get("del");
    assert_eq!((del.arity, del.group, del.since), (-2, "generic", "1.0.0"));
    assert_eq!(del.flags, flags::WRITE);
    assert_eq!(del.acl_categories(), acl::KEYSPACE | acl::WRITE | acl::SLOW);
    assert_eq!(del.legacy_range(), (1, -1, 1));
    assert_eq!(
        get("keys").acl_categories(),
        acl::KEYSPACE | acl::READ | acl::SLOW | acl::DANGEROUS
    );
    assert_eq!(
        get("expire").acl_categories(),
        acl::KEYSPACE | acl::WRITE | acl::FAST
    );
    assert_eq!(get("rename").legacy_range(), (1, 2, 1));
    assert_eq!(get("copy").legacy_range(), (1, 2, 1));
    assert_eq!(get("object|encoding").legacy_range(), (2, 2, 1));
    assert_eq!(
        get("object|help").acl_categories(),
        acl::KEYSPACE | acl::SLOW
    );
    assert_eq!(
        get("scan").flags,
        flags::READONLY | flags::TOUCHES_ARBITRARY_KEYS
    );
    assert_eq!(get("scan").legacy_range(), (0, 0, 0));
    for n in ["dbsize", "flushall", "flushdb", "swapdb"] {
        assert_eq!(get(n).group, "server", "{n}");
    }
    assert_eq!(
        get("swapdb").acl_categories(),
        acl::KEYSPACE | acl::WRITE | acl::FAST | acl::DANGEROUS
    );
    assert_eq!(get("object").subcommands.len(), 5);
    for name in [
        "del",
        "unlink",
        "exists",
        "type",
        "rename",
        "renamenx",
        "copy",
        "move",
        "keys",
        "scan",
        "randomkey",
        "expire",
        "pexpire",
        "expireat",
        "pexpireat",
        "ttl",
        "pttl",
        "expiretime",
        "pexpiretime",
        "persist",
        "touch",
        "object",
        "dbsize",
        "flushdb",
        "flushall",
        "swapdb",
    ] {
        let spec = get(name);
        assert!(
            !spec.summary.is_empty() && !spec.complexity.is_empty(),
            "{name}"
        );
        assert!(spec.acl & acl::KEYSPACE != 0 || name == "object", "{name}");
    }
}

#[test]
fn scan_deletes_the_expired_keys_it_meets() {
    let mut t = T::new();
    t.is("SET live v", "+OK\r\n");
    t.is("SET gone v PX 1", "+OK\r\n");
    std::thread::sleep(std::time::Duration::from_millis(5));
    t.is("DBSIZE", ":2\r\n");
    t.is("SCAN 0 COUNT 1000", "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nlive\r\n");
    t.is("DBSIZE", ":1\r\n");
}
