//! The sorted set against a `BTreeMap` model, in both encodings.

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;

use super::*;

/// (score bits made orderable, member) -> score: the model's order.
#[derive(Default)]
struct Model {
    by_member: HashMap<Vec<u8>, f64>,
}

impl Model {
    fn sorted(&self) -> Vec<(Vec<u8>, f64)> {
        let mut v: Vec<(Vec<u8>, f64)> = self
            .by_member
            .iter()
            .map(|(m, &s)| (m.clone(), s))
            .collect();
        v.sort_by(|a, b| order(a.1, &a.0, b.1, &b.0));
        v
    }
}

const SMALL: Limits = Limits {
    max_entries: 8,
    max_value: 6,
};
const ALWAYS_BIG: Limits = Limits {
    max_entries: 0,
    max_value: 0,
};

#[derive(Debug, Clone)]
enum Op {
    Add(u16, i8),
    Remove(u16),
    RemoveRange(u8, u8),
}

fn member(i: u16) -> Vec<u8> {
    // A few long members so that the value threshold matters.
    if i % 17 == 0 {
        format!("long-member-{i}").into_bytes()
    } else {
        format!("m{i}").into_bytes()
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u16..400, -5i8..5).prop_map(|(m, s)| Op::Add(m, s)),
        3 => (0u16..400).prop_map(Op::Remove),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::RemoveRange(a, b)),
    ]
}

fn run(ops: &[Op], limits: Limits) {
    let mut z = ZSet::with_hint(0, 0, limits);
    let mut model = Model::default();
    for o in ops {
        match *o {
            Op::Add(i, s) => {
                let m = member(i);
                let s = f64::from(s) / 2.0;
                match model.by_member.insert(m.clone(), s) {
                    Some(_) => z.update(&m, s),
                    None => z.insert_new(&m, s, limits),
                }
            }
            Op::Remove(i) => {
                let m = member(i);
                assert_eq!(z.remove(&m), model.by_member.remove(&m));
            }
            Op::RemoveRange(a, b) => {
                let sorted = model.sorted();
                let (a, b) = (a as usize, b as usize);
                let n = z.remove_rank_range(a, b);
                let mut want = 0;
                if a < sorted.len() && a <= b {
                    for (m, _) in &sorted[a..=b.min(sorted.len() - 1)] {
                        model.by_member.remove(m);
                        want += 1;
                    }
                }
                assert_eq!(n, want);
            }
        }
        z.check();
        assert_eq!(z.len(), model.by_member.len());
    }
    let sorted = model.sorted();
    let mut got = Vec::new();
    z.for_each(|m, s| got.push((m.to_vec(), s)));
    assert_eq!(got, sorted);
    let mut rev = Vec::new();
    z.walk(usize::MAX, true, |m, s| {
        rev.push((m.to_vec(), s));
        true
    });
    rev.reverse();
    assert_eq!(rev, sorted);
    for (r, (m, s)) in sorted.iter().enumerate() {
        assert_eq!(z.rank(m), Some((r, *s)));
        assert_eq!(z.score(m), Some(*s));
        assert_eq!(z.at(r), Some((&m[..], *s)));
        let pp = z.partition_point(|ss, mm| order(ss, mm, *s, m) == Ordering::Less);
        assert_eq!(pp, r);
    }
    assert_eq!(z.at(sorted.len()), None);
    // Partition by score only.
    for t in -6..6 {
        let t = f64::from(t) / 2.0;
        let want = sorted.iter().filter(|(_, s)| *s < t).count();
        assert_eq!(z.partition_point(|s, _| s < t), want);
    }
    // A full scan returns every member once.
    let mut seen = BTreeMap::new();
    let mut c = 0;
    loop {
        c = z.scan(c, |m, s| {
            *seen.entry(m.to_vec()).or_insert(0) += 1;
            assert_eq!(model.by_member.get(m), Some(&s));
        });
        if c == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), sorted.len());
    assert!(seen.values().all(|&n| n == 1));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn matches_the_model_converting(ops in prop::collection::vec(op(), 0..600)) {
        run(&ops, SMALL);
    }

    #[test]
    fn matches_the_model_big(ops in prop::collection::vec(op(), 0..1500)) {
        run(&ops, ALWAYS_BIG);
    }
}

#[test]
fn encodings_switch_at_the_thresholds() {
    let l = Limits {
        max_entries: 3,
        max_value: 4,
    };
    let mut z = ZSet::with_hint(3, 4, l);
    assert_eq!(z.encoding_name(), "listpack");
    for (i, m) in [b"a", b"b", b"c"].iter().enumerate() {
        z.insert_new(*m, i as f64, l);
    }
    assert_eq!(z.encoding_name(), "listpack");
    z.insert_new(b"d", 9.0, l);
    assert_eq!(z.encoding_name(), "skiplist");
    z.remove(b"d");
    assert_eq!(z.encoding_name(), "skiplist");
    z.shrink_to_fit_encoding(l);
    assert_eq!(z.encoding_name(), "listpack");
    z.insert_new(b"12345", 1.0, l);
    assert_eq!(z.encoding_name(), "skiplist");
    assert_eq!(ZSet::with_hint(4, 1, l).encoding_name(), "skiplist");
    assert_eq!(ZSet::with_hint(1, 5, l).encoding_name(), "skiplist");
}

#[test]
fn big_sequential_inserts_and_deletes() {
    let mut z = ZSet::with_hint(0, 0, ALWAYS_BIG);
    for i in 0..20_000u32 {
        z.insert_new(format!("member:{i}").as_bytes(), f64::from(i), ALWAYS_BIG);
    }
    z.check();
    assert_eq!(z.rank(b"member:12345"), Some((12345, 12345.0)));
    assert_eq!(
        z.at(19_999).map(|(m, _)| m.to_vec()),
        Some(b"member:19999".to_vec())
    );
    assert_eq!(z.remove_rank_range(100, 19_899), 19_800);
    z.check();
    assert_eq!(z.len(), 200);
    assert_eq!(z.rank(b"member:19900"), Some((100, 19900.0)));
    for i in 0..100u32 {
        assert!(z.remove(format!("member:{i}").as_bytes()).is_some());
    }
    z.check();
    assert_eq!(
        z.at(0).map(|(m, _)| m.to_vec()),
        Some(b"member:19900".to_vec())
    );
}
