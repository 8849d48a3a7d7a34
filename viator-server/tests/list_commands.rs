//! List commands against a server started in process: encodings at the
//! byte limits of `list-max-listpack-size`, big lists checked against a
//! model, elements larger than a node, and client input that must neither
//! hang nor panic, and `list-compress-depth`. Replies of small cases are
//! compared with Redis in `tests/diff/lists*.txt`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use viator_server::Server;

fn start() -> Server {
    let text = "port 0\nbind 127.0.0.1\nenable-debug-command yes\nloglevel warning\n".to_string();
    let cfg = viator_server::config::load_isolated(text).expect("config");
    Server::start(cfg, None).expect("server starts")
}

#[derive(Debug, Clone, PartialEq)]
enum R {
    Ok(String),
    Err(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Arr(Vec<R>),
}

struct Conn(BufReader<TcpStream>);

impl Conn {
    fn new(s: &Server) -> Conn {
        let t = TcpStream::connect(("127.0.0.1", s.port())).expect("connect");
        t.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Conn(BufReader::new(t))
    }

    fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> R {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            let a = a.as_ref();
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.0.get_mut().write_all(&out).unwrap();
        self.read()
    }

    fn read(&mut self) -> R {
        let mut l = String::new();
        self.0.read_line(&mut l).unwrap();
        let l = l.trim_end_matches("\r\n").to_string();
        let (t, rest) = l.split_at(1);
        match t {
            "+" => R::Ok(rest.into()),
            "-" => R::Err(rest.into()),
            ":" => R::Int(rest.parse().unwrap()),
            "_" => R::Nil,
            "$" => match rest.parse::<i64>().unwrap() {
                -1 => R::Nil,
                n => {
                    let mut b = vec![0; n as usize + 2];
                    self.0.read_exact(&mut b).unwrap();
                    b.truncate(n as usize);
                    R::Bulk(b)
                }
            },
            "*" => match rest.parse::<i64>().unwrap() {
                -1 => R::Nil,
                n => R::Arr((0..n).map(|_| self.read()).collect()),
            },
            _ => panic!("unexpected reply {l:?}"),
        }
    }

    fn enc(&mut self, key: &str) -> String {
        match self.cmd(&["OBJECT", "ENCODING", key]) {
            R::Bulk(b) => String::from_utf8(b).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    fn range(&mut self, key: &str) -> Vec<Vec<u8>> {
        match self.cmd(&["LRANGE", key, "0", "-1"]) {
            R::Arr(v) => v
                .into_iter()
                .map(|r| match r {
                    R::Bulk(b) => b,
                    other => panic!("{other:?}"),
                })
                .collect(),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn encodings_follow_the_byte_limits() {
    let s = start();
    let mut c = Conn::new(&s);
    // -2: 8 KiB. An element larger than the node limit converts at once.
    let big = "x".repeat(8200);
    assert_eq!(c.cmd(&["RPUSH", "l", &big]), R::Int(1));
    assert_eq!(c.enc("l"), "quicklist");
    // Small elements up to just under 8 KiB of listpack stay a listpack.
    let v = "y".repeat(100);
    for i in 0..79 {
        assert_eq!(c.cmd(&["RPUSH", "s", &v]), R::Int(i + 1));
    }
    assert_eq!(c.enc("s"), "listpack");
    for _ in 0..3 {
        c.cmd(&["RPUSH", "s", &v]);
    }
    assert_eq!(c.enc("s"), "quicklist");
    // Shrinking to half the limit (4 KiB) with a single node converts back.
    c.cmd(&["LTRIM", "s", "0", "29"]);
    assert_eq!(c.enc("s"), "listpack");
    // -1: 4 KiB.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "-1"]),
        R::Ok("OK".into())
    );
    for _ in 0..45 {
        c.cmd(&["RPUSH", "t", &v]);
    }
    assert_eq!(c.enc("t"), "quicklist");
    c.cmd(&["LTRIM", "t", "0", "9"]);
    assert_eq!(c.enc("t"), "listpack");
}

#[test]
fn big_lists_match_a_model() {
    let s = start();
    let mut c = Conn::new(&s);
    c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "7"]);
    let mut m: VecDeque<Vec<u8>> = VecDeque::new();
    let mut rng = fastrand::Rng::with_seed(7);
    for i in 0..3000u32 {
        let v = match rng.u8(0..4) {
            0 => i.to_string(),
            1 => format!("-{i}"),
            2 => format!("v{}", i % 50),
            _ => "z".repeat(rng.usize(0..300)),
        }
        .into_bytes();
        if rng.bool() {
            c.cmd(&[&b"LPUSH"[..], b"l", &v]);
            m.push_front(v);
        } else {
            c.cmd(&[&b"RPUSH"[..], b"l", &v]);
            m.push_back(v);
        }
    }
    assert_eq!(c.range("l"), Vec::from(m.clone()));
    for _ in 0..200 {
        let i = rng.i64(-(m.len() as i64)..m.len() as i64);
        let idx = if i < 0 { i + m.len() as i64 } else { i } as usize;
        assert_eq!(
            c.cmd(&["LINDEX", "l", &i.to_string()]),
            R::Bulk(m[idx].clone())
        );
    }
    for k in 0..100 {
        let i = rng.usize(0..m.len());
        let v = format!("set{k}").into_bytes();
        c.cmd(&[&b"LSET"[..], b"l", i.to_string().as_bytes(), &v]);
        m[i] = v;
    }
    for k in 0..50 {
        let pivot = m[rng.usize(0..m.len())].clone();
        let at = m.iter().position(|x| *x == pivot).unwrap();
        let v = format!("ins{k}").into_bytes();
        c.cmd(&[&b"LINSERT"[..], b"l", b"AFTER", &pivot, &v]);
        m.insert(at + 1, v);
    }
    let n = c.cmd(&["LREM", "l", "0", "v7"]);
    let before = m.len();
    m.retain(|x| x != b"v7");
    assert_eq!(n, R::Int((before - m.len()) as i64));
    assert_eq!(c.range("l"), Vec::from(m.clone()));
    let want: Vec<R> = m
        .iter()
        .enumerate()
        .filter(|(_, x)| *x == b"v3")
        .map(|(i, _)| R::Int(i as i64))
        .collect();
    assert_eq!(c.cmd(&["LPOS", "l", "v3", "COUNT", "0"]), R::Arr(want));
    // Pops with a count from both ends.
    let got = c.cmd(&["RPOP", "l", "100"]);
    let want: Vec<R> = (0..100).map(|_| R::Bulk(m.pop_back().unwrap())).collect();
    assert_eq!(got, R::Arr(want));
    c.cmd(&["LTRIM", "l", "10", "-11"]);
    for _ in 0..10 {
        m.pop_front();
        m.pop_back();
    }
    assert_eq!(c.range("l"), Vec::from(m));
}

#[test]
fn elements_larger_than_a_node() {
    let s = start();
    let mut c = Conn::new(&s);
    let big = "B".repeat(20_000);
    c.cmd(&["RPUSH", "l", "a", "b", "c"]);
    c.cmd(&["LINSERT", "l", "AFTER", "a", &big]);
    c.cmd(&["LSET", "l", "2", &big]);
    c.cmd(&["LPUSH", "l", &big]);
    let r = c.range("l");
    let want: Vec<Vec<u8>> = vec![
        big.clone().into_bytes(),
        b"a".to_vec(),
        big.clone().into_bytes(),
        big.clone().into_bytes(),
        b"c".to_vec(),
    ];
    assert_eq!(r, want);
    c.cmd(&["LSET", "l", "2", "small"]);
    assert_eq!(c.cmd(&["LINDEX", "l", "2"]), R::Bulk(b"small".to_vec()));
    assert_eq!(
        c.cmd(&["LMOVE", "l", "d", "LEFT", "RIGHT"]),
        R::Bulk(big.clone().into_bytes())
    );
    assert_eq!(c.cmd(&["LREM", "l", "0", &big]), R::Int(1));
    assert_eq!(
        c.range("l"),
        vec![b"a".to_vec(), b"small".to_vec(), b"c".to_vec()]
    );
}

#[test]
fn extreme_arguments_neither_hang_nor_fail() {
    let s = start();
    let mut c = Conn::new(&s);
    c.cmd(&["RPUSH", "l", "a", "b", "a"]);
    let max = i64::MAX.to_string();
    let min = i64::MIN.to_string();
    assert_eq!(
        c.cmd(&["LRANGE", "l", &min, &max]).clone(),
        c.cmd(&["LRANGE", "l", "0", "-1"])
    );
    assert_eq!(c.cmd(&["LINDEX", "l", &min]), R::Nil);
    assert_eq!(
        c.cmd(&[
            "LPOS", "l", "a", "MAXLEN", &max, "COUNT", &max, "RANK", &max
        ]),
        R::Arr(vec![])
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "RANK", "-9223372036854775807"]),
        R::Nil
    );
    assert_eq!(c.cmd(&["LREM", "l", &min, "zz"]), R::Int(0));
    assert_eq!(
        c.cmd(&["LMPOP", "1", "l", "LEFT", "COUNT", &max]).clone(),
        R::Arr(vec![
            R::Bulk(b"l".to_vec()),
            R::Arr(vec![
                R::Bulk(b"a".to_vec()),
                R::Bulk(b"b".to_vec()),
                R::Bulk(b"a".to_vec())
            ]),
        ])
    );
    assert_eq!(c.cmd(&["EXISTS", "l"]), R::Int(0));
    assert_eq!(
        c.cmd(&["LMPOP", &max, "l", "LEFT"]),
        R::Err("ERR syntax error".into())
    );
    // Blocking commands serve at once when a list has elements.
    c.cmd(&["RPUSH", "q", "1", "2"]);
    assert_eq!(
        c.cmd(&["BRPOP", "none", "q", "0"]),
        R::Arr(vec![R::Bulk(b"q".to_vec()), R::Bulk(b"2".to_vec())])
    );
    assert_eq!(
        c.cmd(&["BLMOVE", "q", "q2", "LEFT", "LEFT", "0"]),
        R::Bulk(b"1".to_vec())
    );
    assert_eq!(c.cmd(&["EXISTS", "q"]), R::Int(0));
    assert_eq!(
        c.cmd(&["LRANGE", "q2", "0", "-1"]),
        R::Arr(vec![R::Bulk(b"1".to_vec())])
    );
}

/// The `name:value` fields DEBUG OBJECT reports.
fn debug_fields(c: &mut Conn, key: &str) -> std::collections::HashMap<String, String> {
    match c.cmd(&["DEBUG", "OBJECT", key]) {
        R::Ok(line) => line
            .split(' ')
            .filter_map(|f| f.split_once(':'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn compress_depth_keeps_every_element() {
    let s = start();
    let mut c = Conn::new(&s);
    c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "16"]);
    // `u` becomes a quicklist while the depth is 0 and keeps it.
    for i in 0..20 {
        c.cmd(&["RPUSH", "u", &format!("seed{i}")]);
    }
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "list-compress-depth", "1"]),
        R::Ok("OK".into())
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "list-compress-depth"]),
        R::Arr(vec![
            R::Bulk(b"list-compress-depth".to_vec()),
            R::Bulk(b"1".to_vec())
        ])
    );
    for i in 0..20 {
        c.cmd(&["RPUSH", "l", &format!("seed{i}")]);
    }
    let mut m: VecDeque<Vec<u8>> = (0..20).map(|i| format!("seed{i}").into_bytes()).collect();
    let mut rng = fastrand::Rng::with_seed(11);
    for i in 0..3000u32 {
        let v = match rng.u8(0..4) {
            0 => i.to_string(),
            1 => format!("v{}", i % 50),
            2 => format!("item:{}:{}", i % 100, "abc".repeat(10)),
            _ => "z".repeat(rng.usize(0..200)),
        }
        .into_bytes();
        let cmd: &[u8] = if rng.bool() { b"LPUSH" } else { b"RPUSH" };
        for key in [&b"l"[..], b"u"] {
            c.cmd(&[cmd, key, &v]);
        }
        if cmd == b"LPUSH" {
            m.push_front(v);
        } else {
            m.push_back(v);
        }
    }
    let f = debug_fields(&mut c, "l");
    let g = debug_fields(&mut c, "u");
    assert_eq!(f["encoding"], "quicklist");
    assert_eq!(f["ql_compressed"], "1");
    assert_eq!(g["ql_compressed"], "0");
    assert_eq!(f["ql_listpack_max"], "16");
    // The same pushes make the same nodes, of the same raw sizes.
    assert_eq!(f["ql_nodes"], g["ql_nodes"]);
    assert_eq!(f["ql_uncompressed_size"], g["ql_uncompressed_size"]);
    let nodes: usize = f["ql_nodes"].parse().unwrap();
    assert!(nodes > 150, "{nodes} nodes");
    assert_eq!(
        f["ql_avg_node"],
        format!("{:.2}", m.len() as f64 / nodes as f64)
    );
    let size: usize = f["ql_uncompressed_size"].parse().unwrap();
    assert!(size > 100_000, "{size}");

    assert_eq!(c.range("l"), Vec::from(m.clone()));
    for _ in 0..200 {
        let i = rng.i64(-(m.len() as i64)..m.len() as i64);
        let idx = if i < 0 { i + m.len() as i64 } else { i } as usize;
        assert_eq!(
            c.cmd(&["LINDEX", "l", &i.to_string()]),
            R::Bulk(m[idx].clone())
        );
    }
    // Ranges that start and end inside compressed nodes.
    for _ in 0..50 {
        let a = rng.usize(0..m.len());
        let b = rng.usize(a..m.len());
        let want: Vec<R> = m.range(a..=b).map(|x| R::Bulk(x.clone())).collect();
        assert_eq!(
            c.cmd(&["LRANGE", "l", &a.to_string(), &b.to_string()]),
            R::Arr(want)
        );
    }
    for k in 0..100 {
        let i = rng.usize(0..m.len());
        let v = format!("set{k}").into_bytes();
        assert_eq!(
            c.cmd(&[&b"LSET"[..], b"l", i.to_string().as_bytes(), &v]),
            R::Ok("OK".into())
        );
        m[i] = v;
    }
    for k in 0..50 {
        let pivot = m[rng.usize(0..m.len())].clone();
        let at = m.iter().position(|x| *x == pivot).unwrap();
        let v = format!("ins{k}").into_bytes();
        c.cmd(&[&b"LINSERT"[..], b"l", b"BEFORE", &pivot, &v]);
        m.insert(at, v);
    }
    let n = c.cmd(&["LREM", "l", "-3", "v7"]);
    let mut removed = 0;
    let mut i = m.len();
    while i > 0 && removed < 3 {
        i -= 1;
        if m[i] == b"v7" {
            m.remove(i);
            removed += 1;
        }
    }
    assert_eq!(n, R::Int(removed));
    let want: Vec<R> = m
        .iter()
        .enumerate()
        .filter(|(_, x)| *x == b"v3")
        .map(|(i, _)| R::Int(i as i64))
        .collect();
    assert_eq!(c.cmd(&["LPOS", "l", "v3", "COUNT", "0"]), R::Arr(want));
    assert_eq!(c.range("l"), Vec::from(m.clone()));
    // An existing list keeps the depth it was created with.
    c.cmd(&["CONFIG", "SET", "list-compress-depth", "0"]);
    c.cmd(&["RPUSH", "l", "after"]);
    m.push_back(b"after".to_vec());
    assert_eq!(debug_fields(&mut c, "l")["ql_compressed"], "1");
    // Pops with a count from both ends, and LTRIM.
    let got = c.cmd(&["RPOP", "l", "500"]);
    let want: Vec<R> = (0..500).map(|_| R::Bulk(m.pop_back().unwrap())).collect();
    assert_eq!(got, R::Arr(want));
    let got = c.cmd(&["LPOP", "l", "300"]);
    let want: Vec<R> = (0..300).map(|_| R::Bulk(m.pop_front().unwrap())).collect();
    assert_eq!(got, R::Arr(want));
    c.cmd(&["LTRIM", "l", "100", "-1001"]);
    for _ in 0..100 {
        m.pop_front();
    }
    for _ in 0..1000 {
        m.pop_back();
    }
    assert_eq!(c.range("l"), Vec::from(m.clone()));
    let mut rev = m.clone();
    rev.make_contiguous().reverse();
    let got = c.cmd(&["LMPOP", "1", "l", "RIGHT", "COUNT", "100000"]);
    let want = R::Arr(vec![
        R::Bulk(b"l".to_vec()),
        R::Arr(rev.into_iter().map(R::Bulk).collect()),
    ]);
    assert_eq!(got, want);
    assert_eq!(c.cmd(&["EXISTS", "l"]), R::Int(0));
}

/// Redis's "SORT STORE quicklist with the right options" (sort.tcl): the
/// stored list is a quicklist with the server's fill and depth.
#[test]
fn sort_store_quicklist_with_the_right_options() {
    let s = start();
    let mut c = Conn::new(&s);
    c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "-1"]);
    c.cmd(&["CONFIG", "SET", "list-compress-depth", "12"]);
    let mut args: Vec<String> = vec!["LPUSH".into(), "lst{t}".into()];
    args.extend(std::iter::repeat_n("1".to_string(), 6000));
    assert_eq!(c.cmd(&args), R::Int(6000));
    assert_eq!(
        c.cmd(&["SORT", "lst{t}", "STORE", "lst_dst{t}"]),
        R::Int(6000)
    );
    assert_eq!(c.enc("lst_dst{t}"), "quicklist");
    let line = match c.cmd(&["DEBUG", "OBJECT", "lst_dst{t}"]) {
        R::Ok(l) => l,
        other => panic!("{other:?}"),
    };
    assert!(
        line.contains(" ql_listpack_max:-1 ql_compressed:1 "),
        "{line}"
    );
    assert_eq!(c.cmd(&["LLEN", "lst_dst{t}"]), R::Int(6000));
    assert_eq!(c.range("lst_dst{t}"), vec![b"1".to_vec(); 6000]);
    // A listpack has no quicklist fields.
    c.cmd(&["RPUSH", "small", "a"]);
    let line = match c.cmd(&["DEBUG", "OBJECT", "small"]) {
        R::Ok(l) => l,
        other => panic!("{other:?}"),
    };
    assert!(
        line.contains("encoding:listpack") && !line.contains("ql_"),
        "{line}"
    );
}
