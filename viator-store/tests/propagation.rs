//! What each command family propagates (to the AOF and replicas), command
//! for command as Redis 8.4 propagates it, and the property that matters:
//! replaying the propagated commands on an empty store rebuilds the same
//! dataset, TTLs and hash field TTLs included, and streams' consumer
//! groups with them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::BytesMut;
use viator_protocol::{Frame, ReplyBuf, parse_frame};
use viator_store::blocking::BlockSlot;
use viator_store::commands::rewrite::AOF_CLIENT_ID;
use viator_store::propagate::{Propagated, RecordingSink};
use viator_store::{Client, Keyspace, Store, StoreOptions, clock};
use viator_types::entry::Object;

/// A store whose writes are recorded, and a client to run commands.
struct Rec {
    store: Store,
    sink: Arc<RecordingSink>,
    client: Client,
    /// Everything recorded so far (what [`Rec::took`] took is kept here
    /// too, for the replay).
    log: Vec<Propagated>,
}

impl Rec {
    fn new() -> Rec {
        let store = Store::new(StoreOptions::default());
        let sink = Arc::new(RecordingSink::default());
        store.propagation.set_sink(Some(sink.clone()));
        Rec {
            store,
            sink,
            client: Client::default(),
            log: Vec::new(),
        }
    }

    /// Runs a command given as words; returns its reply.
    fn run(&mut self, args: &[&str]) -> Frame {
        if let ["SELECT", db] = args {
            // SELECT is the server's: the store only keeps the number.
            self.client.db = db.parse().unwrap();
            return Frame::Simple("OK".into());
        }
        let mut out = ReplyBuf::new();
        self.store.execute(&mut self.client, args, &mut out);
        parse(out.as_bytes())
    }

    /// Runs a command given as one line of words.
    fn cmd(&mut self, line: &str) -> Frame {
        let args: Vec<&str> = line.split(' ').collect();
        self.run(&args)
    }

    /// Takes what was propagated since the last call, as words.
    fn took(&mut self) -> Vec<String> {
        let got = self.sink.take();
        self.log.extend(got.iter().cloned());
        got.iter().map(line).collect()
    }

    /// Runs `line` and asserts that it propagated exactly `want`.
    #[track_caller]
    fn propagates(&mut self, line: &str, want: &[&str]) {
        self.cmd(line);
        assert_eq!(self.took(), want, "{line}");
    }

    /// An integer reply.
    fn int(&mut self, line: &str) -> i64 {
        match self.cmd(line) {
            Frame::Integer(n) => n,
            other => panic!("{line}: {other:?}"),
        }
    }

    /// Replays everything recorded on a fresh store (as the AOF loader
    /// does) and asserts that it holds the same dataset.
    #[track_caller]
    fn replay_matches(&mut self) {
        self.took();
        let replica = replay(&self.log);
        let want = dataset(&self.store);
        let got = dataset(&replica);
        assert!(!want.is_empty(), "the workload left nothing to compare");
        for (k, v) in &want {
            assert_eq!(got.get(k), Some(v), "key {k:?} after replay");
        }
        assert_eq!(got.len(), want.len(), "keys after replay");
    }
}

fn line(p: &Propagated) -> String {
    let words: Vec<String> = p
        .argv
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let text = words.join(" ");
    if p.db == 0 {
        text
    } else {
        format!("[{}] {text}", p.db)
    }
}

fn parse(bytes: &[u8]) -> Frame {
    let mut buf = BytesMut::from(bytes);
    parse_frame(&mut buf)
        .ok()
        .flatten()
        .unwrap_or(Frame::NullBulk)
}

/// Feeds `log` to a fresh store as the AOF loader does.
fn replay(log: &[Propagated]) -> Store {
    let store = Store::new(StoreOptions::default());
    let mut client = Client {
        id: AOF_CLIENT_ID,
        ..Client::default()
    };
    for p in log {
        client.db = p.db;
        let mut out = ReplyBuf::new();
        store.execute(&mut client, &p.argv, &mut out);
        let reply = parse(out.as_bytes());
        assert!(
            !matches!(reply, Frame::Error(_)),
            "replaying {}: {reply:?}",
            line(p)
        );
    }
    store
}

/// Everything a replay must rebuild, by (db, key): the value's digest,
/// the key's expire time, each hash field's value and expire time, and a
/// stream's metadata and consumer groups (delivery times and counts
/// included; a consumer's seen and active times are not propagated by
/// Redis either).
fn dataset(store: &Store) -> BTreeMap<(usize, String), String> {
    let mut all = BTreeMap::new();
    let now = clock::now_ms();
    for db in 0..16 {
        let mut keys: Vec<(Vec<u8>, Option<i64>, Option<String>)> = Vec::new();
        let ks = Keyspace::lock_db(store, db, now);
        ks.for_each(|e| {
            let stream = match e.as_object() {
                Some(Object::Stream(s)) => {
                    let mut d = format!(
                        "len={} first={:?} last={:?} added={} maxdel={:?}",
                        s.len(),
                        s.first_id,
                        s.last_id,
                        s.entries_added,
                        s.max_deleted_id
                    );
                    for (name, g) in &s.groups {
                        d += &format!(
                            " group {} last={:?} read={} pel={:?} consumers={:?}",
                            String::from_utf8_lossy(name),
                            g.last_id,
                            g.entries_read,
                            g.pel,
                            g.consumers
                                .iter()
                                .map(|(n, c)| (n.clone(), c.pending.clone()))
                                .collect::<Vec<_>>()
                        );
                    }
                    Some(d)
                }
                _ => None,
            };
            keys.push((e.key().to_vec(), e.expire_ms(), stream));
        });
        drop(ks);
        let mut client = Client {
            db,
            ..Client::default()
        };
        let mut run = |args: &[&[u8]]| {
            let mut out = ReplyBuf::new();
            store.execute(&mut client, args, &mut out);
            parse(out.as_bytes())
        };
        for (key, expire, stream) in keys {
            let mut d = format!(
                "expire={expire:?} digest={:?}",
                run(&[b"DEBUG", b"DIGEST-VALUE", &key])
            );
            if let Frame::Simple(t) = run(&[b"TYPE", &key])
                && &t[..] == b"hash"
            {
                if let Frame::Array(items) = run(&[b"HGETALL", &key]) {
                    let mut fields: Vec<(Frame, Frame)> = Vec::new();
                    for pair in items.chunks(2) {
                        let Frame::Bulk(f) = &pair[0] else { continue };
                        let ttl = run(&[b"HPEXPIRETIME", &key, b"FIELDS", b"1", f]);
                        fields.push((pair[1].clone(), ttl));
                    }
                    d += &format!(" fields={fields:?}");
                }
            }
            if let Some(s) = stream {
                d += &s;
            }
            all.insert((db, String::from_utf8_lossy(&key).into_owned()), d);
        }
    }
    all
}

// ---------------------------------------------------------------------------
// Strings and keys
// ---------------------------------------------------------------------------

#[test]
fn set_with_a_relative_time_propagates_pxat() {
    let mut r = Rec::new();
    r.cmd("SET a 1 EX 100");
    let at = r.int("PEXPIRETIME a");
    assert_eq!(r.took(), [format!("SET a 1 PXAT {at}")]);
    r.cmd("SET b 2 PX 100000 NX GET");
    let at = r.int("PEXPIRETIME b");
    assert_eq!(r.took(), [format!("SET b 2 PXAT {at}")]);
    // EXAT: the seconds become milliseconds.
    r.propagates("SET c 3 EXAT 32000000000", &["SET c 3 PXAT 32000000000000"]);
    // PXAT itself, and plain SET, go as called; GET goes.
    r.propagates(
        "SET d 4 PXAT 32000000000000",
        &["SET d 4 PXAT 32000000000000"],
    );
    r.propagates("SET d 5 GET KEEPTTL get", &["SET d 5 KEEPTTL"]);
    r.propagates("SET e 1", &["SET e 1"]);
    // A condition that fails propagates nothing.
    r.propagates("SET e 2 NX EX 10", &[]);
    r.cmd("SETEX f 100 v");
    let at = r.int("PEXPIRETIME f");
    assert_eq!(r.took(), [format!("SET f v PXAT {at}")]);
    r.cmd("PSETEX g 100000 v");
    let at = r.int("PEXPIRETIME g");
    assert_eq!(r.took(), [format!("SET g v PXAT {at}")]);
    r.propagates("SETNX h v", &["SETNX h v"]);
    r.replay_matches();
}

#[test]
fn getex_getdel_getset_and_incrbyfloat_are_rewritten() {
    let mut r = Rec::new();
    r.cmd("SET k v");
    r.took();
    r.cmd("GETEX k EX 100");
    let at = r.int("PEXPIRETIME k");
    assert_eq!(r.took(), [format!("PEXPIREAT k {at}")]);
    r.propagates("GETEX k PERSIST", &["PERSIST k"]);
    // PERSIST on a key without a TTL changes nothing.
    r.propagates("GETEX k PERSIST", &[]);
    r.propagates("GETEX k", &[]);
    r.propagates(
        "GETEX k PXAT 32000000000000",
        &["PEXPIREAT k 32000000000000"],
    );
    r.propagates("GETEX k EXAT 1", &["DEL k"]);
    r.store
        .settings
        .lazyfree_lazy_expire
        .store(true, Ordering::Relaxed);
    r.cmd("SET k v");
    r.propagates("GETEX k PXAT 1", &["SET k v", "UNLINK k"]);
    r.store
        .settings
        .lazyfree_lazy_expire
        .store(false, Ordering::Relaxed);
    r.cmd("SET k v");
    r.took();
    r.propagates("GETDEL k", &["DEL k"]);
    r.propagates("GETDEL k", &[]);
    r.propagates("GETSET k w", &["SET k w"]);
    r.cmd("SET n 10.5 EX 100");
    r.took();
    r.propagates("INCRBYFLOAT n 0.1", &["SET n 10.6 KEEPTTL"]);
    r.propagates("INCRBYFLOAT m 3", &["SET m 3 KEEPTTL"]);
    r.replay_matches();
}

#[test]
fn msetex_with_a_relative_time_propagates_pxat() {
    let mut r = Rec::new();
    r.cmd("MSETEX 2 a 1 b 2 XX EX 100");
    assert_eq!(r.took(), Vec::<String>::new());
    r.cmd("MSETEX 2 a 1 b 2 NX PX 100000");
    let at = r.int("PEXPIRETIME a");
    assert_eq!(r.took(), [format!("MSETEX 2 a 1 b 2 NX PXAT {at}")]);
    r.propagates(
        "MSETEX 1 c 3 PXAT 32000000000000",
        &["MSETEX 1 c 3 PXAT 32000000000000"],
    );
    r.replay_matches();
}

#[test]
fn expire_family_propagates_pexpireat_or_a_deletion() {
    let mut r = Rec::new();
    r.cmd("SET k v");
    r.took();
    r.cmd("EXPIRE k 100");
    let at = r.int("PEXPIRETIME k");
    assert_eq!(r.took(), [format!("PEXPIREAT k {at}")]);
    r.cmd("PEXPIRE k 200000 GT");
    let at = r.int("PEXPIRETIME k");
    assert_eq!(r.took(), [format!("PEXPIREAT k {at} GT")]);
    r.propagates(
        "EXPIREAT k 32000000000 gt",
        &["PEXPIREAT k 32000000000000 gt"],
    );
    r.propagates(
        "PEXPIREAT k 31000000000000",
        &["PEXPIREAT k 31000000000000"],
    );
    // Refused conditions and missing keys propagate nothing.
    r.propagates("EXPIRE k 100 NX", &[]);
    r.propagates("EXPIRE missing 100", &[]);
    r.propagates("PERSIST k", &["PERSIST k"]);
    r.cmd("SET gone v");
    r.took();
    r.propagates("EXPIRE gone -1", &["DEL gone"]);
    r.cmd("SET gone v");
    r.took();
    r.store
        .settings
        .lazyfree_lazy_expire
        .store(true, Ordering::Relaxed);
    r.propagates("PEXPIREAT gone 1", &["UNLINK gone"]);
    r.replay_matches();
}

/// RESTORE with a relative TTL propagates the absolute time it came to and
/// ABSTTL (Redis's restoreCommand), so that a replay does not extend it;
/// RESTORE REPLACE with a time already past propagates the deletion.
#[test]
fn restore_propagates_an_absolute_ttl_or_the_deletion() {
    let mut r = Rec::new();
    r.cmd("SET src value");
    let payload = match r.cmd("DUMP src") {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("DUMP: {other:?}"),
    };
    r.took();
    let restore = |r: &mut Rec, words: &[&[u8]]| {
        let mut out = ReplyBuf::new();
        r.store.execute(&mut r.client, words, &mut out);
        assert_eq!(parse(out.as_bytes()), Frame::Simple("OK".into()));
        let got = r.sink.take();
        r.log.extend(got.iter().cloned());
        got
    };
    let before = clock::now_ms();
    let got = restore(&mut r, &[b"RESTORE", b"k", b"100000", &payload, b"REPLACE"]);
    let after = clock::now_ms();
    assert_eq!(got.len(), 1);
    let argv = &got[0].argv;
    assert_eq!(argv.len(), 6);
    assert_eq!(argv[..2], [b"RESTORE".to_vec(), b"k".to_vec()]);
    let at: i64 = String::from_utf8_lossy(&argv[2]).parse().unwrap();
    assert!((before + 100_000..=after + 100_000).contains(&at), "{at}");
    assert_eq!(argv[3], payload);
    assert_eq!(argv[4..], [b"REPLACE".to_vec(), b"ABSTTL".to_vec()]);
    // An absolute time goes as called.
    let later = (after + 200_000).to_string();
    let got = restore(
        &mut r,
        &[b"RESTORE", b"j", later.as_bytes(), &payload, b"ABSTTL"],
    );
    assert_eq!(got[0].argv[2], later.as_bytes());
    assert_eq!(got[0].argv.len(), 5);
    // A time already past replaces nothing: the old key's deletion goes.
    let got = restore(
        &mut r,
        &[b"RESTORE", b"j", b"1", &payload, b"REPLACE", b"ABSTTL"],
    );
    assert_eq!(got.iter().map(line).collect::<Vec<_>>(), ["DEL j"]);
    r.replay_matches();
}

#[test]
fn flushes_propagate_even_on_an_empty_database() {
    let mut r = Rec::new();
    r.propagates("FLUSHALL", &["FLUSHALL"]);
    r.propagates("FLUSHDB ASYNC", &["FLUSHDB ASYNC"]);
    r.cmd("SET a 1");
    r.took();
    r.propagates("FLUSHDB", &["FLUSHDB"]);
}

#[test]
fn generic_key_commands_go_as_called() {
    let mut r = Rec::new();
    r.cmd("SET a 1 PXAT 32000000000000");
    r.cmd("RPUSH l x y");
    r.took();
    r.propagates("RENAME a b", &["RENAME a b"]);
    r.propagates("COPY b c", &["COPY b c"]);
    r.propagates("MOVE c 2", &["MOVE c 2"]);
    r.propagates("SWAPDB 0 1", &["SWAPDB 0 1"]);
    r.propagates("SWAPDB 0 1", &["SWAPDB 0 1"]);
    r.propagates("UNLINK l", &["UNLINK l"]);
    r.propagates("DEL l", &[]);
    r.replay_matches();
}

// ---------------------------------------------------------------------------
// Lists, sorted sets, sets
// ---------------------------------------------------------------------------

#[test]
fn pops_that_name_their_key_propagate_as_plain_pops() {
    let mut r = Rec::new();
    r.cmd("RPUSH l a b c d e");
    r.cmd("ZADD z 1 a 2 b 3 c 4 d");
    r.took();
    r.propagates("BLPOP missing l 0", &["LPOP l"]);
    r.propagates("BRPOP l 0", &["RPOP l"]);
    r.propagates("LMPOP 2 missing l RIGHT COUNT 10", &["RPOP l 3"]);
    r.cmd("RPUSH l a b c");
    r.took();
    r.propagates("BLMPOP 0 1 l LEFT", &["LPOP l 1"]);
    r.propagates("BLMOVE l m RIGHT LEFT 0", &["LMOVE l m RIGHT LEFT"]);
    r.propagates("BRPOPLPUSH l m 0", &["RPOPLPUSH l m"]);
    r.propagates("LMOVE m l LEFT LEFT", &["LMOVE m l LEFT LEFT"]);
    r.propagates("LPOP l 5", &["LPOP l 5"]);
    // Nothing to pop, nothing propagated (a client that cannot block
    // times out at once).
    r.propagates("BLPOP l 0", &[]);
    r.propagates("BZPOPMIN z 0", &["ZPOPMIN z"]);
    r.propagates("BZPOPMAX z 0", &["ZPOPMAX z"]);
    r.propagates("ZMPOP 1 z MIN COUNT 5", &["ZPOPMIN z 2"]);
    r.cmd("ZADD z 1 a 2 b");
    r.took();
    r.propagates("BZMPOP 0 1 z MAX", &["ZPOPMAX z 1"]);
    r.propagates("ZPOPMIN z 3", &["ZPOPMIN z 3"]);
    r.cmd("RPUSH keep 1 2 3");
    r.cmd("ZADD keepz 1 a");
    r.replay_matches();
}

#[test]
fn a_served_blocked_client_propagates_after_the_write_that_served_it() {
    let mut r = Rec::new();
    let slot = Arc::new(BlockSlot::new(|| {}));
    let mut waiter = Client {
        id: 7,
        block_slot: Some(slot.clone()),
        ..Client::default()
    };
    let mut out = ReplyBuf::new();
    r.store.execute(
        &mut waiter,
        &["BLMPOP", "0", "1", "q", "LEFT", "COUNT", "5"],
        &mut out,
    );
    assert!(waiter.blocked);
    let mut out = ReplyBuf::new();
    r.store.execute(&mut waiter.clone(), &["PING"], &mut out);
    assert_eq!(
        r.took(),
        Vec::<String>::new(),
        "blocking propagates nothing"
    );
    r.propagates("RPUSH q a b", &["RPUSH q a b", "LPOP q 2"]);
    assert!(slot.take().is_some());
    let mut zwaiter = Client {
        id: 8,
        block_slot: Some(Arc::new(BlockSlot::new(|| {}))),
        ..Client::default()
    };
    let mut out = ReplyBuf::new();
    r.store
        .execute(&mut zwaiter, &["BZPOPMAX", "z", "0"], &mut out);
    r.propagates("ZADD z 1 a 2 b", &["ZADD z 1 a 2 b", "ZPOPMAX z"]);
    r.replay_matches();
}

#[test]
fn spop_propagates_srem_or_the_deletion_of_the_set() {
    let mut r = Rec::new();
    r.cmd("SADD s a");
    r.took();
    r.propagates("SPOP s", &["SREM s a"]);
    r.propagates("SPOP s", &[]);
    r.cmd("SADD s a b c");
    r.took();
    r.propagates("SPOP s 3", &["DEL s"]);
    r.store
        .settings
        .lazyfree_lazy_server_del
        .store(true, Ordering::Relaxed);
    r.cmd("SADD s a b c");
    r.took();
    r.propagates("SPOP s 10", &["UNLINK s"]);
    r.propagates("SPOP s 0", &[]);
    // Part of the set: SREMs of what was popped, 1024 at most each.
    let members: Vec<String> = (0..3000).map(|i| format!("m{i}")).collect();
    let mut sadd = vec!["SADD", "big"];
    sadd.extend(members.iter().map(String::as_str));
    r.run(&sadd);
    r.took();
    let Frame::Array(popped) = r.cmd("SPOP big 2500") else {
        panic!("SPOP big 2500")
    };
    let got = r.sink.take();
    r.log.extend(got.iter().cloned());
    // Several commands for one: wrapped in MULTI/EXEC.
    assert_eq!(
        got.first().map(|p| p.argv.clone()),
        Some(vec![b"MULTI".to_vec()])
    );
    assert_eq!(
        got.last().map(|p| p.argv.clone()),
        Some(vec![b"EXEC".to_vec()])
    );
    let srems = &got[1..got.len() - 1];
    let sizes: Vec<usize> = srems.iter().map(|p| p.argv.len() - 2).collect();
    assert_eq!(sizes, [1024, 1024, 452]);
    let mut removed = Vec::new();
    for p in srems {
        assert_eq!(&p.argv[..2], &[b"SREM".to_vec(), b"big".to_vec()]);
        removed.extend(p.argv[2..].iter().cloned());
    }
    let replied: Vec<Vec<u8>> = popped
        .into_iter()
        .map(|f| match f {
            Frame::Bulk(b) => b.to_vec(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        removed, replied,
        "the SREMs name what SPOP replied, in order"
    );
    r.cmd("SADD t 1 2 3 4 5");
    r.cmd("SPOP t 2");
    r.replay_matches();
}

#[test]
fn geoadd_propagates_as_zadd_with_geohash_scores() {
    let mut r = Rec::new();
    r.propagates(
        "GEOADD g CH 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        &["ZADD g CH 3479099956230698 Palermo 3479447370796909 Catania"],
    );
    r.propagates("GEOADD g NX 13.361389 38.115556 Palermo", &[]);
    r.replay_matches();
}

// ---------------------------------------------------------------------------
// Hashes
// ---------------------------------------------------------------------------

#[test]
fn hash_field_expiry_propagates_hpexpireat_or_hdel() {
    let mut r = Rec::new();
    r.cmd("HSET h a 1 b 2 c 3");
    r.took();
    r.cmd("HEXPIRE h 100 FIELDS 2 a missing");
    let Frame::Array(t) = r.cmd("HPEXPIRETIME h FIELDS 1 a") else {
        panic!()
    };
    let at = match &t[0] {
        Frame::Integer(n) => *n,
        other => panic!("{other:?}"),
    };
    assert_eq!(r.took(), [format!("HPEXPIREAT h {at} FIELDS 1 a")]);
    r.propagates(
        "HPEXPIREAT h 32000000000000 XX FIELDS 2 a b",
        &["HPEXPIREAT h 32000000000000 XX FIELDS 1 a"],
    );
    r.propagates(
        "HEXPIREAT h 32000000000 FIELDS 2 a b",
        &["HPEXPIREAT h 32000000000000 FIELDS 2 a b"],
    );
    r.propagates("HEXPIRE h 100 NX FIELDS 1 a", &[]);
    r.propagates(
        "HPEXPIRE h 0 FIELDS 2 b c",
        &["MULTI", "HDEL h b", "HDEL h c", "EXEC"],
    );
    r.propagates("HPERSIST h FIELDS 1 a", &["HPERSIST h FIELDS 1 a"]);
    r.propagates("HPERSIST h FIELDS 1 a", &[]);
    r.cmd("HSET h x 1.5");
    r.took();
    r.propagates("HINCRBYFLOAT h x 1", &["HSET h x 2.5"]);
    r.replay_matches();
}

#[test]
fn hgetex_hsetex_and_hgetdel_are_rewritten() {
    let mut r = Rec::new();
    r.cmd("HSET h a 1 b 2 c 3");
    r.took();
    r.cmd("HGETEX h EX 100 FIELDS 2 a b");
    let Frame::Array(t) = r.cmd("HPEXPIRETIME h FIELDS 1 a") else {
        panic!()
    };
    let Frame::Integer(at) = t[0] else { panic!() };
    assert_eq!(r.took(), [format!("HPEXPIREAT h {at} FIELDS 2 a b")]);
    r.propagates(
        "HGETEX h PXAT 32000000000000 FIELDS 1 a",
        &["HPEXPIREAT h 32000000000000 FIELDS 1 a"],
    );
    r.propagates(
        "HGETEX h PERSIST FIELDS 2 a c",
        &["HPERSIST h FIELDS 2 a c"],
    );
    r.propagates("HGETEX h FIELDS 1 a", &[]);
    r.propagates("HGETEX h EXAT 1 FIELDS 2 a x", &["HDEL h a"]);
    r.propagates("HGETDEL h FIELDS 2 b x", &["HDEL h b x"]);
    r.propagates("HGETDEL h FIELDS 1 x", &[]);
    r.cmd("HSETEX s EX 100 FIELDS 1 f v");
    let Frame::Array(t) = r.cmd("HPEXPIRETIME s FIELDS 1 f") else {
        panic!()
    };
    let Frame::Integer(at) = t[0] else { panic!() };
    assert_eq!(r.took(), [format!("HSETEX s PXAT {at} FIELDS 1 f v")]);
    r.propagates(
        "HSETEX s FNX KEEPTTL FIELDS 1 g w",
        &["HSETEX s FNX KEEPTTL FIELDS 1 g w"],
    );
    r.propagates(
        "HSETEX s PXAT 32000000000000 FIELDS 1 g w",
        &["HSETEX s PXAT 32000000000000 FIELDS 1 g w"],
    );
    // Several commands for one are wrapped in MULTI/EXEC, as Redis does.
    r.propagates(
        "HSETEX s PXAT 1 FIELDS 2 g w x y",
        &["MULTI", "HDEL s g", "HDEL s x", "EXEC"],
    );
    r.replay_matches();
}

#[test]
fn an_expired_field_a_command_reclaims_propagates_hdel() {
    let mut r = Rec::new();
    r.cmd("HSET h a 1 b 2");
    let soon = clock::now_ms() + 30;
    r.cmd(&format!("HPEXPIREAT h {soon} FIELDS 1 a"));
    r.took();
    std::thread::sleep(std::time::Duration::from_millis(60));
    // A read reclaims it: the HDEL is propagated, the read is not.
    r.propagates("HGET h a", &["HDEL h a"]);
    r.cmd(&format!("HPEXPIREAT h {} FIELDS 1 b", clock::now_ms() + 30));
    r.took();
    std::thread::sleep(std::time::Duration::from_millis(60));
    // A write that reclaims: the HDEL comes first, then the write (fed
    // apart: this store may run commands on several threads).
    r.propagates("HINCRBY h b 5", &["HDEL h b", "HINCRBY h b 5"]);
    r.replay_matches();
}

/// Commands run with propagation suppressed (DEBUG LOADAOF replaying a
/// file) propagate nothing, not even the deletion of an expired key or
/// field they come across.
#[test]
fn suppressed_commands_propagate_no_expired_deletion_either() {
    let mut r = Rec::new();
    r.cmd("HSET h a 1 b 2");
    r.cmd("SET k v");
    let soon = clock::now_ms() + 30;
    r.cmd(&format!("HPEXPIREAT h {soon} FIELDS 1 a"));
    r.cmd(&format!("PEXPIREAT k {soon}"));
    r.took();
    std::thread::sleep(std::time::Duration::from_millis(60));
    viator_store::propagate::suppressed(|| {
        r.cmd("HGET h a");
        r.cmd("GET k");
    });
    assert_eq!(r.took(), Vec::<String>::new());
    assert_eq!(
        r.cmd("HLEN h"),
        Frame::Integer(1),
        "the field was reclaimed"
    );
}

/// With every command on one thread (the server's default), the deletion
/// of a key or field whose time was up joins the unit of the command that
/// found it, as Redis's `alsoPropagate` inside `call()` does: a write over
/// it goes out as a transaction with the deletion first, and a plain SET
/// over an expired key deletes it first too (Redis's setKey looks it up).
#[test]
fn an_expired_key_or_field_a_command_finds_joins_its_unit() {
    let mut r = Rec::new();
    r.store
        .settings
        .commands_on_one_thread
        .store(true, Ordering::Relaxed);
    for line in [
        "SET a 1",
        "SET s 1",
        "SET g 1",
        "RPUSH l x",
        "HSET h f 1 g 2",
    ] {
        r.cmd(line);
    }
    let soon = clock::now_ms() + 30;
    for key in ["a", "s", "g", "l"] {
        r.cmd(&format!("PEXPIREAT {key} {soon}"));
    }
    r.cmd(&format!("HPEXPIREAT h {soon} FIELDS 2 f g"));
    r.took();
    std::thread::sleep(std::time::Duration::from_millis(60));
    let before = expired_keys(&r.store);
    r.propagates("INCR a", &["MULTI", "DEL a", "INCR a", "EXEC"]);
    r.propagates("SET s 2", &["MULTI", "DEL s", "SET s 2", "EXEC"]);
    r.propagates("LPUSH l y", &["MULTI", "DEL l", "LPUSH l y", "EXEC"]);
    // A read that finds one propagates the deletion alone.
    r.propagates("GET g", &["DEL g"]);
    r.propagates(
        "HINCRBY h f 5",
        &["MULTI", "HDEL h f", "HINCRBY h f 5", "EXEC"],
    );
    r.propagates("HGET h g", &["HDEL h g"]);
    assert_eq!(expired_keys(&r.store) - before, 4, "a, s, l and g");
    r.replay_matches();
}

/// INFO's `expired_keys`.
fn expired_keys(store: &Store) -> u64 {
    store.stats.expired_keys.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------

#[test]
fn xadd_propagates_the_id_it_got_and_an_exact_trim() {
    let mut r = Rec::new();
    r.propagates("XADD s 5-1 f v", &["XADD s 5-1 f v"]);
    r.propagates("XADD s 5-* f v", &["XADD s 5-2 f v"]);
    r.propagates("XADD s 6 f v", &["XADD s 6 f v"]);
    r.cmd("XADD s * f v");
    let got = r.took();
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("XADD s ") && !got[0].contains('*'),
        "{got:?}"
    );
    // Small nodes, so that approximate trims remove some.
    r.store
        .settings
        .stream_node_max_entries
        .store(10, Ordering::Relaxed);
    for i in 0..300 {
        r.cmd(&format!("XADD big {}-1 f {i}", i + 1));
    }
    r.took();
    r.cmd("XADD big MAXLEN ~ 100 * f v");
    let len = r.int("XLEN big");
    assert!(len > 100 && len < 300, "{len}");
    let got = r.took();
    assert!(
        got[0].starts_with(&format!("XADD big MAXLEN = {len} ")) && !got[0].contains('*'),
        "{got:?}"
    );
    // An exact trim goes as called; a trim that deletes nothing goes not.
    r.propagates("XTRIM big MAXLEN 100", &["XTRIM big MAXLEN 100"]);
    r.propagates("XTRIM big MINID ~ 1", &[]);
    assert!(r.int("XTRIM big MINID ~ 250 LIMIT 1000") > 0);
    let Frame::Array(first) = r.cmd("XRANGE big - + COUNT 1") else {
        panic!()
    };
    let Frame::Array(entry) = &first[0] else {
        panic!()
    };
    let Frame::Bulk(first_id) = &entry[0] else {
        panic!()
    };
    assert_eq!(
        r.took(),
        [format!(
            "XTRIM big MINID = {} LIMIT 1000",
            String::from_utf8_lossy(first_id)
        )]
    );
    assert!(r.int("XTRIM big MAXLEN ~ 0 LIMIT 20") > 0);
    let len = r.int("XLEN big");
    assert_eq!(r.took(), [format!("XTRIM big MAXLEN = {len} LIMIT 20")]);
    r.replay_matches();
}

#[test]
fn xreadgroup_propagates_xclaims_and_the_group_position() {
    let mut r = Rec::new();
    r.cmd("XADD s 1-1 a 1");
    r.cmd("XADD s 2-1 b 2");
    r.cmd("XGROUP CREATE s g 0");
    r.took();
    let now = clock::now_ms();
    r.cmd("XREADGROUP GROUP g alice COUNT 1 STREAMS s >");
    let got = r.took();
    let time = got
        .get(1)
        .and_then(|c| c.split(' ').nth(7).map(str::to_string))
        .unwrap_or_default();
    assert!(time.parse::<i64>().is_ok_and(|t| t >= now), "{got:?}");
    assert_eq!(
        got,
        [
            "MULTI".to_string(),
            format!("XCLAIM s g alice 0 1-1 TIME {time} RETRYCOUNT 1 FORCE JUSTID LASTID 1-1"),
            "XGROUP SETID s g 1-1 ENTRIESREAD 1".to_string(),
            "EXEC".to_string(),
        ]
    );
    // History is not propagated; NOACK propagates only the position and
    // the consumer it created.
    r.propagates("XREADGROUP GROUP g alice STREAMS s 0", &[]);
    r.propagates(
        "XREADGROUP GROUP g bob NOACK STREAMS s >",
        &[
            "MULTI",
            "XGROUP CREATECONSUMER s g bob",
            "XGROUP SETID s g 2-1 ENTRIESREAD 2",
            "EXEC",
        ],
    );
    r.propagates("XREADGROUP GROUP g carol STREAMS s >", &[]);
    // XCLAIM of an entry goes as the canonical XCLAIM (delivered twice
    // already: once new, once from history).
    r.cmd("XCLAIM s g bob 0 1-1");
    let got = r.took();
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("XCLAIM s g bob 0 1-1 TIME ")
            && got[0].ends_with(" RETRYCOUNT 3 FORCE JUSTID LASTID 2-1"),
        "{got:?}"
    );
    // A pending entry deleted from the stream is dropped by an XCLAIM of
    // it as it was.
    r.cmd("XADD s 3-1 c 3");
    r.cmd("XREADGROUP GROUP g alice STREAMS s >");
    r.cmd("XDEL s 3-1");
    r.took();
    let got = {
        r.cmd("XAUTOCLAIM s g carol 0 0 COUNT 10");
        r.took()
    };
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(
        got[1].starts_with("XCLAIM s g carol 0 1-1 TIME "),
        "{got:?}"
    );
    assert!(
        got[2].starts_with("XCLAIM s g alice 0 3-1 TIME ")
            && got[2].ends_with(" RETRYCOUNT 1 FORCE JUSTID LASTID 3-1"),
        "{got:?}"
    );
    // LASTID alone moves the group: propagated as SETID.
    r.propagates(
        "XCLAIM s g carol 0 9-9 LASTID 5-0",
        &["XGROUP SETID s g 5-0 ENTRIESREAD 3"],
    );
    r.propagates(
        "XGROUP CREATECONSUMER s g dave",
        &["XGROUP CREATECONSUMER s g dave"],
    );
    r.propagates(
        "XGROUP DELCONSUMER s g dave",
        &["XGROUP DELCONSUMER s g dave"],
    );
    r.replay_matches();
}

#[test]
fn xreadgroup_claim_propagates_the_claimed_entries() {
    let mut r = Rec::new();
    r.cmd("XADD s 1-1 a 1");
    r.cmd("XGROUP CREATE s g 0");
    r.cmd("XREADGROUP GROUP g alice STREAMS s >");
    r.took();
    std::thread::sleep(std::time::Duration::from_millis(20));
    r.cmd("XREADGROUP GROUP g bob CLAIM 5 STREAMS s >");
    let got = r.took();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with("XCLAIM s g bob 0 1-1 TIME ")
            && got[0].ends_with(" RETRYCOUNT 2 FORCE JUSTID LASTID 1-1"),
        "{got:?}"
    );
    r.replay_matches();
}

// ---------------------------------------------------------------------------
// Everything at once
// ---------------------------------------------------------------------------

/// A workload over every type and every rewrite, in two databases and a
/// transaction, replayed on an empty store.
#[test]
fn a_mixed_workload_replays_to_the_same_dataset() {
    let mut r = Rec::new();
    let script = [
        "SET s1 hello EX 1000",
        "SET s2 10",
        "INCRBYFLOAT s2 0.25",
        "APPEND s1 world",
        "SETRANGE s3 5 x",
        "SETBIT bits 77 1",
        "BITFIELD bf SET u8 0 200 INCRBY u8 0 100",
        "BITOP OR bits2 bits bf",
        "PFADD hll a b c d",
        "PFCOUNT hll",
        "GETEX s2 PX 500000",
        "PSETEX s4 900000 v",
        "EXPIRE s3 3000",
        "RPUSH l1 a b c d e f",
        "LINSERT l1 BEFORE c x",
        "LMPOP 1 l1 LEFT COUNT 2",
        "BLMOVE l1 l2 RIGHT LEFT 0",
        "LTRIM l1 0 1",
        "SADD set1 a b c d e f g h",
        "SPOP set1",
        "SPOP set1 3",
        "SMOVE set1 set2 h",
        "SINTERSTORE set3 set1 set2",
        "ZADD z1 1 a 2 b 3 c 4 d 5 e",
        "ZINCRBY z1 2.5 a",
        "ZMPOP 1 z1 MAX COUNT 2",
        "BZPOPMIN z1 0",
        "ZUNIONSTORE z2 1 z1 WEIGHTS 2",
        "GEOADD geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        "GEOSEARCHSTORE geo2 geo FROMLONLAT 15 37 BYRADIUS 200 km",
        "HSET h1 a 1 b 2 c 3 d 4",
        "HINCRBYFLOAT h1 a 0.5",
        "HEXPIRE h1 1000 FIELDS 2 a b",
        "HPEXPIRE h1 0 FIELDS 1 c",
        "HSETEX h2 PX 800000 FIELDS 2 x 1 y 2",
        "HGETEX h2 PERSIST FIELDS 1 x",
        "HGETDEL h1 FIELDS 1 d",
        "XADD st * f 1",
        "XADD st MAXLEN ~ 1000 * f 2",
        "XADD st 99999999999999-* f 3",
        "XGROUP CREATE st grp 0",
        "XREADGROUP GROUP grp c1 COUNT 2 STREAMS st >",
        "XREADGROUP GROUP grp c2 NOACK STREAMS st >",
        "XACK st grp 0-1",
        "XAUTOCLAIM st grp c3 0 0",
        "SORT l1 ALPHA STORE sorted",
        "COPY s1 s1copy",
        "RENAME s4 s4new",
        "SELECT 3",
        "SET other 1 PX 700000",
        "MULTI",
        "INCRBYFLOAT other 1.5",
        "SADD o1 x y",
        "SPOP o1",
        "EXEC",
        "SELECT 0",
        "MOVE s2 3",
    ];
    for line in script {
        let reply = r.cmd(line);
        assert!(!matches!(reply, Frame::Error(_)), "{line}: {reply:?}");
    }
    r.replay_matches();
}

#[test]
fn the_active_cycle_propagates_an_hdel_per_expired_field_and_a_del_per_key() {
    let mut r = Rec::new();
    r.cmd("HSET h a 1 b 2 c 3");
    r.cmd("SET k v");
    let soon = clock::now_ms() + 20;
    r.cmd(&format!("HPEXPIREAT h {soon} FIELDS 2 a c"));
    r.cmd(&format!("PEXPIREAT k {soon}"));
    r.took();
    std::thread::sleep(std::time::Duration::from_millis(50));
    viator_store::expire::active_expire_cycle(&r.store, std::time::Duration::from_secs(1));
    let mut got = r.took();
    got.sort();
    assert_eq!(got, ["DEL k", "HDEL h a", "HDEL h c"]);
    r.replay_matches();
}
