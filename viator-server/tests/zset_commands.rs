//! Sorted set commands against a real in-process server over raw TCP:
//! reply bytes in RESP2 and RESP3 (doubles, nested WITHSCORES pairs),
//! encoding switches at the configured thresholds, big (skiplist) sets
//! checked against a model, ZSCAN's guarantee, hostile counts, blocking
//! pops that find something, and the 8.4 metadata of ZRANK and ZSCAN.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use viator_server::Server;

fn start() -> Server {
    let cfg = viator_server::config::load_isolated("port 0\nbind 127.0.0.1\nloglevel warning\n")
        .expect("config");
    Server::start(cfg, None).expect("server starts")
}

/// A decoded reply.
#[derive(Debug, Clone, PartialEq)]
enum R {
    Line(char, String),
    Bulk(Option<Vec<u8>>),
    Agg(char, Option<Vec<R>>),
}

impl R {
    fn text(&self) -> String {
        match self {
            R::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            R::Line(_, s) => s.clone(),
            other => panic!("not text: {other:?}"),
        }
    }

    fn items(&self) -> &[R] {
        match self {
            R::Agg(_, Some(v)) => v,
            other => panic!("not an aggregate: {other:?}"),
        }
    }

    /// Every scalar of the reply, joined by spaces.
    fn flat(&self) -> String {
        match self {
            R::Agg(_, Some(v)) => v.iter().map(R::flat).collect::<Vec<_>>().join(" "),
            R::Agg(_, None) | R::Bulk(None) => "(nil)".into(),
            other => other.text(),
        }
    }

    fn int(&self) -> i64 {
        match self {
            R::Line(':', s) => s.parse().expect("integer"),
            other => panic!("not an integer: {other:?}"),
        }
    }
}

struct Conn {
    r: BufReader<TcpStream>,
}

impl Conn {
    fn new(server: &Server) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Conn {
            r: BufReader::new(s),
        }
    }

    fn resp3(server: &Server) -> Conn {
        let mut c = Conn::new(server);
        c.call(&["HELLO", "3"]);
        c
    }

    fn send(&mut self, args: &[&str]) {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        self.r.get_mut().write_all(&out).unwrap();
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).unwrap();
        assert!(l.ends_with("\r\n"), "bad line {l:?}");
        l.truncate(l.len() - 2);
        l
    }

    fn read(&mut self) -> R {
        let l = self.line();
        let (k, rest) = l.split_at(1);
        let k = k.chars().next().unwrap();
        match k {
            '$' => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return R::Bulk(None);
                }
                let mut b = vec![0; n as usize + 2];
                self.r.read_exact(&mut b).unwrap();
                b.truncate(n as usize);
                R::Bulk(Some(b))
            }
            '*' | '~' | '>' | '%' => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return R::Agg(k, None);
                }
                let n = if k == '%' { 2 * n } else { n };
                R::Agg(k, Some((0..n).map(|_| self.read()).collect()))
            }
            _ => R::Line(k, rest.to_string()),
        }
    }

    fn call(&mut self, args: &[&str]) -> R {
        self.send(args);
        self.read()
    }

    /// The raw bytes of one reply, for exact comparisons.
    fn raw(&mut self, args: &[&str]) -> String {
        self.send(args);
        let mut out = String::new();
        let mut pending = 1i64;
        while pending > 0 {
            pending -= 1;
            let l = self.line();
            out.push_str(&l);
            out.push_str("\r\n");
            let (k, rest) = l.split_at(1);
            match k {
                "$" => {
                    let n: i64 = rest.parse().unwrap();
                    if n >= 0 {
                        let mut b = vec![0; n as usize + 2];
                        self.r.read_exact(&mut b).unwrap();
                        out.push_str(&String::from_utf8_lossy(&b));
                    }
                }
                "*" | "~" | ">" => pending += rest.parse::<i64>().unwrap().max(0),
                "%" => pending += 2 * rest.parse::<i64>().unwrap(),
                _ => {}
            }
        }
        out
    }
}

#[test]
fn reply_shapes_in_both_protocols() {
    let server = start();
    let mut c2 = Conn::new(&server);
    let mut c3 = Conn::resp3(&server);
    c2.call(&["ZADD", "z", "1.5", "a", "2", "b", "inf", "c"]);
    assert_eq!(c2.raw(&["ZSCORE", "z", "a"]), "$3\r\n1.5\r\n");
    assert_eq!(c3.raw(&["ZSCORE", "z", "a"]), ",1.5\r\n");
    assert_eq!(c3.raw(&["ZSCORE", "z", "c"]), ",inf\r\n");
    assert_eq!(c3.raw(&["ZSCORE", "z", "nosuch"]), "_\r\n");
    assert_eq!(
        c2.raw(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        "*4\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        c3.raw(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        "*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    );
    // ZPOPMIN without a count is flat even in RESP3; with one it nests.
    assert_eq!(c3.raw(&["ZPOPMIN", "z"]), "*2\r\n$1\r\na\r\n,1.5\r\n");
    assert_eq!(
        c3.raw(&["ZPOPMIN", "z", "1"]),
        "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    );
    c2.call(&["ZADD", "z", "1", "x", "2", "y"]);
    assert_eq!(
        c2.raw(&["ZMPOP", "1", "z", "MIN", "COUNT", "2"]),
        "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n*2\r\n$1\r\ny\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        c3.raw(&["BZPOPMAX", "nokey", "z", "0"]),
        "*3\r\n$1\r\nz\r\n$1\r\nc\r\n,inf\r\n"
    );
    assert_eq!(c2.raw(&["EXISTS", "z"]), ":0\r\n");
    assert_eq!(c3.raw(&["ZMPOP", "1", "z", "MIN"]), "_\r\n");
    assert_eq!(c2.raw(&["ZMPOP", "1", "z", "MIN"]), "*-1\r\n");
    c2.call(&["ZADD", "r", "1", "a"]);
    assert_eq!(
        c3.raw(&["ZRANDMEMBER", "r", "-2", "WITHSCORES"]),
        "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\na\r\n,1\r\n"
    );
    assert_eq!(
        c2.raw(&["ZRANDMEMBER", "r", "-2", "WITHSCORES"]),
        "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        c3.raw(&["ZRANK", "r", "a", "WITHSCORE"]),
        "*2\r\n:0\r\n,1\r\n"
    );
    assert_eq!(c3.raw(&["ZADD", "r", "INCR", "0.25", "a"]), ",1.25\r\n");
    assert_eq!(c3.raw(&["ZADD", "r", "XX", "INCR", "1", "zz"]), "_\r\n");
    assert_eq!(
        c3.raw(&["ZUNION", "1", "r", "WITHSCORES"]),
        "*1\r\n*2\r\n$1\r\na\r\n,1.25\r\n"
    );
}

#[test]
fn scores_follow_redis_arithmetic() {
    let server = start();
    let mut c = Conn::new(&server);
    c.call(&["ZADD", "z", "+inf", "a"]);
    assert_eq!(
        c.call(&["ZINCRBY", "z", "-inf", "a"]),
        R::Line('-', "ERR resulting score is not a number (NaN)".into())
    );
    assert_eq!(c.call(&["ZSCORE", "z", "a"]).text(), "inf");
    c.call(&["ZADD", "z2", "-inf", "a"]);
    // inf + -inf in a SUM aggregate is 0.
    assert_eq!(
        c.raw(&["ZUNION", "2", "z", "z2", "WITHSCORES"]),
        "*2\r\n$1\r\na\r\n$1\r\n0\r\n"
    );
    assert_eq!(
        c.raw(&["ZINTER", "2", "z", "z2", "WEIGHTS", "0", "1", "WITHSCORES"]),
        "*2\r\n$1\r\na\r\n$4\r\n-inf\r\n"
    );
    c.call(&["ZADD", "f", "0.1", "a"]);
    assert_eq!(
        c.call(&["ZINCRBY", "f", "0.2", "a"]).text(),
        "0.30000000000000004"
    );
}

#[test]
fn encodings_switch_where_redis_switches() {
    let server = start();
    let mut c = Conn::new(&server);
    let enc = |c: &mut Conn, k: &str| c.call(&["OBJECT", "ENCODING", k]).text();
    c.call(&["CONFIG", "SET", "zset-max-listpack-entries", "3"]);
    c.call(&["CONFIG", "SET", "zset-max-listpack-value", "5"]);
    c.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(enc(&mut c, "z"), "listpack");
    c.call(&["ZADD", "z", "4", "d"]);
    assert_eq!(enc(&mut c, "z"), "skiplist");
    c.call(&["ZREM", "z", "a", "b"]);
    assert_eq!(enc(&mut c, "z"), "skiplist");
    // Creation is sized by the whole command (7.2+ zsetTypeCreate).
    c.call(&["ZADD", "big", "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(enc(&mut c, "big"), "skiplist");
    c.call(&["ZADD", "long", "1", "abcdef"]);
    assert_eq!(enc(&mut c, "long"), "skiplist");
    // STORE results go back to listpack when they fit.
    c.call(&["ZUNIONSTORE", "u", "1", "z"]);
    assert_eq!(enc(&mut c, "u"), "listpack");
    c.call(&["ZRANGESTORE", "r", "big", "0", "1"]);
    assert_eq!(enc(&mut c, "r"), "listpack");
    c.call(&["ZRANGESTORE", "r", "big", "0", "-1"]);
    assert_eq!(enc(&mut c, "r"), "skiplist");
    c.call(&["ZINTERSTORE", "i", "1", "long"]);
    assert_eq!(enc(&mut c, "i"), "skiplist");
    c.call(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
    c.call(&["ZADD", "zero", "1", "a"]);
    assert_eq!(enc(&mut c, "zero"), "skiplist");
}

#[test]
fn big_sets_match_a_model() {
    let server = start();
    let mut c = Conn::new(&server);
    let mut model: HashMap<String, i64> = HashMap::new();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for _ in 0..40 {
        let mut args = vec!["ZADD".to_string(), "z".to_string()];
        for _ in 0..100 {
            let m = format!("m{}", next() % 3000);
            let s = (next() % 500) as i64 - 250;
            if !args.iter().skip(2).step_by(2).any(|x| x == &m) {
                args.push(s.to_string());
                args.push(m.clone());
                model.insert(m, s);
            }
        }
        let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        c.call(&refs);
        for _ in 0..20 {
            let m = format!("m{}", next() % 3000);
            let removed = c.call(&["ZREM", "z", &m]).int();
            assert_eq!(removed == 1, model.remove(&m).is_some());
        }
    }
    assert_eq!(c.call(&["OBJECT", "ENCODING", "z"]).text(), "skiplist");
    let mut sorted: Vec<(i64, String)> = model.iter().map(|(m, s)| (*s, m.clone())).collect();
    sorted.sort();
    assert_eq!(c.call(&["ZCARD", "z"]).int(), sorted.len() as i64);
    let all = c.call(&["ZRANGE", "z", "0", "-1"]);
    let got: Vec<String> = all.items().iter().map(R::text).collect();
    let want: Vec<String> = sorted.iter().map(|(_, m)| m.clone()).collect();
    assert_eq!(got, want);
    for (rank, (score, m)) in sorted.iter().enumerate().step_by(37) {
        assert_eq!(c.call(&["ZRANK", "z", m]).int(), rank as i64);
        assert_eq!(
            c.call(&["ZREVRANK", "z", m]).int(),
            (sorted.len() - 1 - rank) as i64
        );
        assert_eq!(c.call(&["ZSCORE", "z", m]).text(), score.to_string());
    }
    let count = sorted
        .iter()
        .filter(|(s, _)| (-10..=10).contains(s))
        .count();
    assert_eq!(c.call(&["ZCOUNT", "z", "-10", "10"]).int(), count as i64);
    let page = c.call(&["ZRANGEBYSCORE", "z", "(-10", "+inf", "LIMIT", "5", "7"]);
    let want: Vec<String> = sorted
        .iter()
        .filter(|(s, _)| *s > -10)
        .skip(5)
        .take(7)
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(page.items().iter().map(R::text).collect::<Vec<_>>(), want);
    // ZSCAN returns every member at least once, whatever COUNT.
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let r = c.call(&["ZSCAN", "z", &cursor, "COUNT", "7"]);
        cursor = r.items()[0].text();
        for pair in r.items()[1].items().chunks(2) {
            seen.insert(pair[0].text());
            assert_eq!(pair[1].text(), model[&pair[0].text()].to_string());
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), sorted.len());
    let n = c.call(&["ZREMRANGEBYRANK", "z", "10", "-10"]).int();
    assert_eq!(n, sorted.len() as i64 - 19);
    assert_eq!(c.call(&["ZCARD", "z"]).int(), 19);
}

#[test]
fn hostile_counts_neither_panic_nor_allocate() {
    let server = start();
    let mut c = Conn::new(&server);
    c.call(&["ZADD", "z", "1", "a", "2", "b"]);
    let max = "9223372036854775807";
    let min = "-9223372036854775808";
    assert_eq!(c.call(&["ZRANGE", "z", min, max]).items().len(), 2);
    assert_eq!(
        c.call(&["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", max, max])
            .items()
            .len(),
        0
    );
    assert_eq!(
        c.call(&["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", max])
            .items()
            .len(),
        1
    );
    assert_eq!(c.call(&["ZREMRANGEBYRANK", "z", max, min]).int(), 0);
    assert_eq!(c.call(&["ZRANDMEMBER", "z", max]).items().len(), 2);
    assert!(matches!(
        c.call(&["ZRANDMEMBER", "z", "-9223372036854775807"]),
        R::Line('-', _)
    ));
    assert_eq!(
        c.call(&["ZMPOP", max, "z", "MIN"]),
        R::Line('-', "ERR syntax error".into())
    );
    assert_eq!(c.call(&["ZPOPMIN", "z", max]).items().len(), 4);
    assert_eq!(c.call(&["EXISTS", "z"]).int(), 0);
}

#[test]
fn blocking_pops_serve_what_is_there() {
    let server = start();
    let mut c = Conn::new(&server);
    c.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    let r = c.call(&["BZPOPMIN", "nokey", "z", "0"]);
    assert_eq!(
        r.items().iter().map(R::text).collect::<Vec<_>>(),
        ["z", "a", "1"]
    );
    let r = c.call(&["BZMPOP", "0.01", "1", "z", "MAX", "COUNT", "5"]);
    assert_eq!(r.items()[0].text(), "z");
    assert_eq!(r.items()[1].items().len(), 2);
    assert_eq!(
        c.call(&["BZPOPMIN", "z", "-1"]),
        R::Line('-', "ERR timeout is negative".into())
    );
    c.call(&["SET", "s", "v"]);
    assert!(
        matches!(c.call(&["BZPOPMAX", "s", "0"]), R::Line('-', e) if e.starts_with("WRONGTYPE"))
    );
}

#[test]
fn metadata_is_redis_84s() {
    let server = start();
    let mut c = Conn::new(&server);
    let info = c.call(&["COMMAND", "INFO", "zrank", "zscan"]);
    assert_eq!(info.items()[0].items()[1].int(), -3);
    let docs = c.call(&["COMMAND", "DOCS", "zrank"]);
    let text = docs.flat();
    assert!(
        text.contains("withscore") && text.contains("7.2.0"),
        "{text}"
    );
    let docs = c.call(&["COMMAND", "DOCS", "zscan"]);
    let text = docs.flat();
    assert!(
        text.contains("NOSCORES") && text.contains("8.0.0"),
        "{text}"
    );
    let keys = c.call(&[
        "COMMAND",
        "GETKEYS",
        "ZINTERCARD",
        "2",
        "a",
        "b",
        "LIMIT",
        "1",
    ]);
    assert_eq!(
        keys.items().iter().map(R::text).collect::<Vec<_>>(),
        ["a", "b"]
    );
}
