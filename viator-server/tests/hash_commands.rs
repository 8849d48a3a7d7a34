//! Hash commands against a real in-process server: field expiry over time
//! (lazy on access, active in the background, the key going with its last
//! field), the listpackex order, encodings at the thresholds, HSCAN over a
//! hashtable, HRANDFIELD's counts, and RENAME/COPY keeping field TTLs.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use redis::{Commands, Connection, Value};
use viator_server::Server;

fn start() -> (Server, Connection) {
    let text = "port 0\nbind 127.0.0.1\nenable-debug-command yes\nloglevel warning\nsave \"\"\n";
    let cfg = viator_server::config::load_isolated(text).expect("config");
    let server = Server::start(cfg, None).expect("server starts");
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/", server.port())).unwrap();
    let con = client.get_connection().unwrap();
    (server, con)
}

fn cmd(con: &mut Connection, args: &[&str]) -> Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| Value::SimpleString(format!("ERR {e}")))
}

fn ints(v: Value) -> Vec<i64> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Value::Int(n) => n,
                other => panic!("not an int: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

#[test]
fn expired_fields_vanish_lazily_and_actively() {
    let (_server, mut con) = start();
    // Active expiry off: the fields still go on access.
    cmd(&mut con, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let _: () = con
        .hset_multiple("h", &[("a", "1"), ("b", "2"), ("c", "3")])
        .unwrap();
    assert_eq!(
        ints(cmd(
            &mut con,
            &["HPEXPIRE", "h", "20", "FIELDS", "2", "a", "b"]
        )),
        [1, 1]
    );
    std::thread::sleep(Duration::from_millis(40));
    // Naming a field reclaims it; HLEN still counts the other expired
    // field until something reclaims it (Redis 8), HGETALL skips it.
    let v: Option<String> = con.hget("h", "a").unwrap();
    assert_eq!(v, None);
    let n: i64 = con.hlen("h").unwrap();
    assert_eq!(n, 2);
    let all: Vec<(String, String)> = con.hgetall("h").unwrap();
    assert_eq!(all, [("c".to_string(), "3".to_string())]);
    assert_eq!(
        ints(cmd(&mut con, &["HTTL", "h", "FIELDS", "1", "a"])),
        [-2]
    );
    // HTTL reads b as missing without reclaiming it; HEXISTS reclaims it.
    assert_eq!(
        ints(cmd(&mut con, &["HTTL", "h", "FIELDS", "1", "b"])),
        [-2]
    );
    let n: i64 = con.hlen("h").unwrap();
    assert_eq!(n, 2);
    let exists: bool = con.hexists("h", "b").unwrap();
    assert!(!exists);
    let n: i64 = con.hlen("h").unwrap();
    assert_eq!(n, 1);
    let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
    assert!(info.contains("expired_subkeys:2\r\n"), "{info}");
    // The last field going takes the key with it, once it is reclaimed.
    cmd(&mut con, &["HPEXPIRE", "h", "20", "FIELDS", "1", "c"]);
    std::thread::sleep(Duration::from_millis(40));
    let keys: Vec<String> = con.hkeys("h").unwrap();
    assert!(keys.is_empty());
    let exists: i64 = con.exists("h").unwrap();
    assert_eq!(exists, 1);
    let exists: bool = con.hexists("h", "c").unwrap();
    assert!(!exists);
    let exists: i64 = con.exists("h").unwrap();
    assert_eq!(exists, 0);

    // Active expiry on: a hash nobody reads disappears, small and big.
    cmd(&mut con, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    for (key, n) in [("small", 5), ("big", 600)] {
        for i in 0..n {
            let f = format!("f{i}");
            let _: () = con.hset(key, &f, "v").unwrap();
        }
        let _: () = con.hset(key, "keep", "v").unwrap();
        let mut args = vec!["HPEXPIRE", key, "30", "FIELDS"];
        let count = n.to_string();
        args.push(&count);
        let fields: Vec<String> = (0..n).map(|i| format!("f{i}")).collect();
        args.extend(fields.iter().map(String::as_str));
        cmd(&mut con, &args);
    }
    let _: () = con.hset("gone", "x", "v").unwrap();
    cmd(&mut con, &["HPEXPIRE", "gone", "30", "FIELDS", "1", "x"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let dbsize: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
        // Look at the sizes without touching the hashes: DEBUG OBJECT
        // would be an access; DBSIZE and OBJECT ENCODING are not reads of
        // the fields.
        if dbsize == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "active expiry did not delete 'gone'"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let n: i64 = con.hlen("big").unwrap();
    assert_eq!(n, 1);
    let n: i64 = con.hlen("small").unwrap();
    assert_eq!(n, 1);
}

#[test]
fn encodings_and_listpackex_order() {
    let (_server, mut con) = start();
    let _: () = con
        .hset_multiple("h", &[("a", "1"), ("b", "2"), ("c", "3")])
        .unwrap();
    let enc: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("h")
        .query(&mut con)
        .unwrap();
    assert_eq!(enc, "listpack");
    cmd(
        &mut con,
        &["HPEXPIREAT", "h", "4102444800000", "FIELDS", "1", "c"],
    );
    cmd(
        &mut con,
        &["HPEXPIREAT", "h", "4102444700000", "FIELDS", "1", "b"],
    );
    let enc: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("h")
        .query(&mut con)
        .unwrap();
    assert_eq!(enc, "listpackex");
    let keys: Vec<String> = con.hkeys("h").unwrap();
    assert_eq!(keys, ["b", "c", "a"]);
    cmd(
        &mut con,
        &["CONFIG", "SET", "hash-max-listpack-entries", "3"],
    );
    let _: () = con.hset("h", "d", "4").unwrap();
    let enc: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("h")
        .query(&mut con)
        .unwrap();
    assert_eq!(enc, "hashtable");
    // The TTLs survive the conversion, RENAME and COPY.
    cmd(&mut con, &["RENAME", "h", "h2"]);
    cmd(&mut con, &["COPY", "h2", "h3"]);
    for k in ["h2", "h3"] {
        assert_eq!(
            ints(cmd(
                &mut con,
                &["HPEXPIRETIME", k, "FIELDS", "3", "a", "b", "c"]
            )),
            [-1, 4102444700000, 4102444800000]
        );
    }
}

#[test]
fn hscan_walks_a_hashtable_and_hrandfield_counts() {
    let (_server, mut con) = start();
    for i in 0..1000 {
        let _: () = con.hset("big", format!("f{i}"), i).unwrap();
    }
    let mut seen = HashSet::new();
    let mut cursor = 0u64;
    let mut calls = 0;
    loop {
        let (next, items): (u64, Vec<String>) = redis::cmd("HSCAN")
            .arg("big")
            .arg(cursor)
            .arg("COUNT")
            .arg(50)
            .query(&mut con)
            .unwrap();
        for pair in items.chunks(2) {
            assert_eq!(pair[0][1..], pair[1]);
            seen.insert(pair[0].clone());
        }
        calls += 1;
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    assert!(calls > 1, "a hashtable is scanned in steps");

    let unique: Vec<String> = redis::cmd("HRANDFIELD")
        .arg("big")
        .arg(100)
        .query(&mut con)
        .unwrap();
    assert_eq!(unique.len(), 100);
    assert_eq!(unique.iter().collect::<HashSet<_>>().len(), 100);
    let many: Vec<String> = redis::cmd("HRANDFIELD")
        .arg("big")
        .arg(900)
        .query(&mut con)
        .unwrap();
    assert_eq!(many.iter().collect::<HashSet<_>>().len(), 900);
    let repeated: Vec<String> = redis::cmd("HRANDFIELD")
        .arg("big")
        .arg(-3000)
        .query(&mut con)
        .unwrap();
    assert_eq!(repeated.len(), 3000);
    let pairs: Vec<String> = redis::cmd("HRANDFIELD")
        .arg("big")
        .arg(5)
        .arg("WITHVALUES")
        .query(&mut con)
        .unwrap();
    assert_eq!(pairs.len(), 10);
    // A huge negative count is refused instead of building the reply.
    let err: redis::RedisResult<Vec<String>> = redis::cmd("HRANDFIELD")
        .arg("big")
        .arg(i64::MIN + 1)
        .query(&mut con);
    assert!(err.is_err());
}
