//! Bitmap commands against a real in-process server, through the `redis`
//! crate, checked against a plain bit-by-bit model kept in the test:
//! random SETBIT runs then GET/BITCOUNT/BITPOS over random ranges, BITOP's
//! eight operations on long binary strings of different lengths, BITFIELD
//! writes and reads at random widths and offsets, WATCH seeing only real
//! changes (Redis 8 signals SETBIT/BITFIELD only when a bit changes or the
//! string grows), proto-max-bulk-len on offsets, and the RESP3 null of
//! OVERFLOW FAIL.

mod common;

use common::{redis_connection as connect, start};
use redis::{Connection, RedisResult, Value};

fn run(con: &mut Connection, args: &[&[u8]]) -> RedisResult<Value> {
    let mut c = redis::cmd(std::str::from_utf8(args[0]).expect("name"));
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
}

#[track_caller]
fn int(con: &mut Connection, args: &[&[u8]]) -> i64 {
    match run(con, args) {
        Ok(Value::Int(n)) => n,
        other => panic!("{args:?}: expected an integer, got {other:?}"),
    }
}

#[track_caller]
fn bytes(con: &mut Connection, args: &[&[u8]]) -> Vec<u8> {
    match run(con, args) {
        Ok(Value::BulkString(b)) => b,
        Ok(Value::Nil) => Vec::new(),
        other => panic!("{args:?}: expected a bulk string, got {other:?}"),
    }
}

/// A small xorshift generator: the tests need repeatable numbers, not
/// good ones.
struct Rng(u64);

impl Rng {
    fn with_seed(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }
    fn u8(&mut self) -> u8 {
        self.next() as u8
    }
    /// Uniform enough in `lo..hi`.
    fn below(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }
    fn i64(&mut self) -> i64 {
        self.next() as i64
    }
}

fn s(n: impl ToString) -> Vec<u8> {
    n.to_string().into_bytes()
}

fn model_bit(b: &[u8], i: u64) -> bool {
    b.get((i / 8) as usize)
        .is_some_and(|&x| x & (0x80 >> (i % 8)) != 0)
}

/// Redis's BITCOUNT/BITPOS index rules, bit by bit: the inclusive bit
/// range, or `None` when empty.
fn model_range(start: i64, end: i64, len: usize, in_bits: bool) -> Option<(u64, u64)> {
    let total = if in_bits { len as i64 * 8 } else { len as i64 };
    let fix = |i: i64| if i < 0 { (i + total).max(0) } else { i };
    let (start, end) = (fix(start), fix(end).min(total - 1));
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(if in_bits {
        (start, end)
    } else {
        (start * 8, end * 8 + 7)
    })
}

#[test]
fn setbit_bitcount_bitpos_follow_a_bit_model() {
    let server = start();
    let mut con = connect(&server, false);
    let mut rng = Rng::with_seed(7);
    let mut model: Vec<u8> = Vec::new();
    for round in 0..600 {
        let offset = if round % 3 == 0 {
            rng.below(0, 4000) as u64
        } else {
            rng.below(0, 200) as u64
        };
        let on = rng.bool();
        let old = int(&mut con, &[b"SETBIT", b"bm", &s(offset), &s(u8::from(on))]);
        assert_eq!(old == 1, model_bit(&model, offset), "SETBIT {offset}");
        let need = (offset / 8 + 1) as usize;
        if model.len() < need {
            model.resize(need, 0);
        }
        let mask = 0x80u8 >> (offset % 8);
        if on {
            model[(offset / 8) as usize] |= mask;
        } else {
            model[(offset / 8) as usize] &= !mask;
        }
    }
    assert_eq!(bytes(&mut con, &[b"GET", b"bm"]), model);
    let ones: u64 = model.iter().map(|b| u64::from(b.count_ones())).sum();
    assert_eq!(int(&mut con, &[b"BITCOUNT", b"bm"]), ones as i64);
    let len = model.len() as i64;
    for _ in 0..300 {
        let in_bits = rng.bool();
        let span = if in_bits { len * 8 } else { len };
        let start = rng.below(-span - 5, span + 5);
        let end = rng.below(-span - 5, span + 5);
        let unit: &[u8] = if in_bits { b"BIT" } else { b"BYTE" };
        let want = if start < 0 && end < 0 && start > end {
            0
        } else {
            model_range(start, end, model.len(), in_bits)
                .map(|(a, b)| (a..=b).filter(|&i| model_bit(&model, i)).count())
                .unwrap_or(0)
        };
        let got = int(&mut con, &[b"BITCOUNT", b"bm", &s(start), &s(end), unit]);
        assert_eq!(got, want as i64, "BITCOUNT {start} {end} {in_bits}");
        for bit in [0u8, 1] {
            let want = match model_range(start, end, model.len(), in_bits) {
                None => -1,
                Some((a, b)) => (a..=b)
                    .find(|&i| model_bit(&model, i) == (bit == 1))
                    .map(|p| p as i64)
                    .unwrap_or(-1),
            };
            let got = int(
                &mut con,
                &[b"BITPOS", b"bm", &[b'0' + bit], &s(start), &s(end), unit],
            );
            assert_eq!(got, want, "BITPOS {bit} {start} {end} {in_bits}");
        }
    }
}

/// One byte of a BITOP result from the same byte of each source.
type ByteOp = fn(&[u8]) -> u8;

#[test]
fn bitop_matches_a_byte_model_on_long_strings() {
    let server = start();
    let mut con = connect(&server, false);
    let mut rng = Rng::with_seed(11);
    let lens = [70_001usize, 65_536, 3, 0, 100_000];
    let mut srcs: Vec<Vec<u8>> = Vec::new();
    for (i, &len) in lens.iter().enumerate() {
        let v: Vec<u8> = (0..len).map(|_| rng.u8()).collect();
        let key = format!("src{i}");
        if len > 0 {
            run(&mut con, &[b"SET", key.as_bytes(), &v]).expect("SET");
        }
        srcs.push(v);
    }
    let at = |v: &Vec<u8>, j: usize| v.get(j).copied().unwrap_or(0);
    let ops: [(&str, ByteOp); 8] = [
        ("AND", |b| b.iter().fold(0xff, |a, x| a & x)),
        ("OR", |b| b.iter().fold(0, |a, x| a | x)),
        ("XOR", |b| b.iter().fold(0, |a, x| a ^ x)),
        ("NOT", |b| !b[0]),
        ("DIFF", |b| b[0] & !b[1..].iter().fold(0, |a, x| a | x)),
        ("DIFF1", |b| !b[0] & b[1..].iter().fold(0, |a, x| a | x)),
        ("ANDOR", |b| b[0] & b[1..].iter().fold(0, |a, x| a | x)),
        ("ONE", |b| {
            (0..8).fold(0u8, |acc, bit| {
                let n = b.iter().filter(|x| *x & (1 << bit) != 0).count();
                if n == 1 { acc | (1 << bit) } else { acc }
            })
        }),
    ];
    for (name, f) in ops {
        let picks: &[&[usize]] = if name == "NOT" {
            &[&[0], &[2], &[3]]
        } else {
            &[&[0, 1], &[1, 2, 4], &[2, 0, 3], &[3, 4, 0, 1, 2]]
        };
        for pick in picks {
            let mut args: Vec<Vec<u8>> = vec![b"BITOP".to_vec(), name.into(), b"dest".to_vec()];
            args.extend(pick.iter().map(|i| format!("src{i}").into_bytes()));
            let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
            let maxlen = pick.iter().map(|&i| srcs[i].len()).max().unwrap_or(0);
            let want: Vec<u8> = (0..maxlen)
                .map(|j| {
                    let col: Vec<u8> = pick.iter().map(|&i| at(&srcs[i], j)).collect();
                    f(&col)
                })
                .collect();
            assert_eq!(int(&mut con, &refs), maxlen as i64, "{name} {pick:?}");
            let got = bytes(&mut con, &[b"GET", b"dest"]);
            assert!(got == want, "BITOP {name} {pick:?} differs");
        }
    }
    // The destination may be a source; an empty result deletes it.
    run(&mut con, &[b"SET", b"d2", b"\x0f"]).expect("SET");
    assert_eq!(int(&mut con, &[b"BITOP", b"NOT", b"d2", b"d2"]), 1);
    assert_eq!(bytes(&mut con, &[b"GET", b"d2"]), b"\xf0");
    assert_eq!(int(&mut con, &[b"BITOP", b"OR", b"d2", b"src3"]), 0);
    assert_eq!(int(&mut con, &[b"EXISTS", b"d2"]), 0);
}

#[test]
fn bitfield_writes_and_reads_follow_a_bit_model() {
    let server = start();
    let mut con = connect(&server, false);
    let mut rng = Rng::with_seed(5);
    let mut model: Vec<u8> = Vec::new();
    let get = |m: &[u8], off: u64, bits: u32| -> u64 {
        (0..u64::from(bits)).fold(0u64, |a, i| (a << 1) | u64::from(model_bit(m, off + i)))
    };
    for _ in 0..400 {
        let signed = rng.bool();
        let bits = if signed {
            rng.below(1, 65) as u32
        } else {
            rng.below(1, 64) as u32
        };
        let ty = format!("{}{bits}", if signed { 'i' } else { 'u' });
        let (offset, off_arg) = if rng.bool() {
            let n = rng.below(0, 40) as u64;
            (n * u64::from(bits), format!("#{n}"))
        } else {
            let o = rng.below(0, 500) as u64;
            (o, o.to_string())
        };
        let value = rng.i64();
        let reply = run(
            &mut con,
            &[
                b"BITFIELD",
                b"bf",
                b"SET",
                ty.as_bytes(),
                off_arg.as_bytes(),
                &s(value),
                b"GET",
                ty.as_bytes(),
                off_arg.as_bytes(),
            ],
        )
        .expect("BITFIELD");
        let old = get(&model, offset, bits);
        let need = ((offset + u64::from(bits) - 1) / 8 + 1) as usize;
        if model.len() < need {
            model.resize(need, 0);
        }
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let new = value as u64 & mask;
        for i in 0..u64::from(bits) {
            let bit = new >> (u64::from(bits) - 1 - i) & 1 == 1;
            let p = offset + i;
            let m = 0x80u8 >> (p % 8);
            if bit {
                model[(p / 8) as usize] |= m;
            } else {
                model[(p / 8) as usize] &= !m;
            }
        }
        let as_reply = |u: u64| -> i64 {
            if signed && bits < 64 && u >> (bits - 1) & 1 == 1 {
                (u | !mask) as i64
            } else {
                u as i64
            }
        };
        assert_eq!(
            reply,
            Value::Array(vec![Value::Int(as_reply(old)), Value::Int(as_reply(new))]),
            "BITFIELD SET {ty} {off_arg} {value}"
        );
    }
    assert_eq!(bytes(&mut con, &[b"GET", b"bf"]), model);
}

#[test]
fn watch_sees_only_real_bit_changes() {
    let server = start();
    let mut a = connect(&server, false);
    let mut b = connect(&server, false);
    run(&mut a, &[b"SETBIT", b"w", b"3", b"1"]).expect("SETBIT");
    let exec_after = |a: &mut Connection, b: &mut Connection, cmd: &[&[u8]]| -> Value {
        run(a, &[b"WATCH", b"w"]).expect("WATCH");
        run(b, cmd).expect("write");
        run(a, &[b"MULTI"]).expect("MULTI");
        run(a, &[b"GET", b"w"]).expect("queued");
        run(a, &[b"EXEC"]).expect("EXEC")
    };
    // Setting a bit to the value it has, within the string: no change.
    let v = exec_after(&mut a, &mut b, &[b"SETBIT", b"w", b"3", b"1"]);
    assert!(
        matches!(v, Value::Array(_)),
        "unchanged SETBIT aborted EXEC: {v:?}"
    );
    let v = exec_after(
        &mut a,
        &mut b,
        &[b"BITFIELD", b"w", b"SET", b"u4", b"0", b"1"],
    );
    assert!(
        matches!(v, Value::Array(_)),
        "unchanged BITFIELD aborted EXEC: {v:?}"
    );
    let v = exec_after(
        &mut a,
        &mut b,
        &[
            b"BITFIELD",
            b"w",
            b"OVERFLOW",
            b"FAIL",
            b"INCRBY",
            b"u4",
            b"0",
            b"100",
        ],
    );
    assert!(
        matches!(v, Value::Array(_)),
        "failed BITFIELD aborted EXEC: {v:?}"
    );
    // A changed bit, or growth, does.
    let v = exec_after(&mut a, &mut b, &[b"SETBIT", b"w", b"3", b"0"]);
    assert_eq!(v, Value::Nil);
    let v = exec_after(&mut a, &mut b, &[b"SETBIT", b"w", b"100", b"0"]);
    assert_eq!(v, Value::Nil);
    let v = exec_after(&mut a, &mut b, &[b"BITOP", b"OR", b"w", b"w"]);
    assert_eq!(v, Value::Nil);
}

#[test]
fn offsets_stop_at_proto_max_bulk_len_and_values_become_raw() {
    let server = start();
    let mut con = connect(&server, false);
    run(
        &mut con,
        &[b"CONFIG", b"SET", b"proto-max-bulk-len", b"1048576"],
    )
    .expect("CONFIG");
    let err = run(&mut con, &[b"SETBIT", b"k", b"8388608", b"1"]).expect_err("too far");
    assert!(
        err.to_string()
            .contains("bit offset is not an integer or out of range")
    );
    assert_eq!(int(&mut con, &[b"SETBIT", b"k", b"8388607", b"1"]), 0);
    assert_eq!(int(&mut con, &[b"STRLEN", b"k"]), 1_048_576);
    assert_eq!(int(&mut con, &[b"BITCOUNT", b"k"]), 1);
    assert_eq!(int(&mut con, &[b"BITPOS", b"k", b"1"]), 8_388_607);
    assert_eq!(int(&mut con, &[b"BITPOS", b"k", b"1", b"-1"]), 8_388_607);
    assert_eq!(int(&mut con, &[b"BITPOS", b"k", b"0", b"-1"]), 8_388_600);
    run(&mut con, &[b"SET", b"n", b"99"]).expect("SET");
    assert_eq!(bytes(&mut con, &[b"OBJECT", b"ENCODING", b"n"]), b"int");
    assert_eq!(int(&mut con, &[b"SETBIT", b"n", b"0", b"0"]), 0);
    assert_eq!(bytes(&mut con, &[b"OBJECT", b"ENCODING", b"n"]), b"raw");
    assert_eq!(bytes(&mut con, &[b"GET", b"n"]), b"99");
}

#[test]
fn bitfield_fail_is_a_null_in_both_protocols() {
    let server = start();
    for resp3 in [false, true] {
        let mut con = connect(&server, resp3);
        let v = run(
            &mut con,
            &[
                b"BITFIELD",
                b"f",
                b"OVERFLOW",
                b"FAIL",
                b"INCRBY",
                b"u2",
                b"0",
                b"9",
                b"GET",
                b"u2",
                b"0",
            ],
        )
        .expect("BITFIELD");
        assert_eq!(v, Value::Array(vec![Value::Nil, Value::Int(0)]));
    }
}
