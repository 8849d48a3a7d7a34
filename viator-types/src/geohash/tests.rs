//! Values checked against a real redis-server (GEOADD then ZSCORE, GEOPOS,
//! GEOHASH and GEODIST).

use super::*;
use proptest::prelude::*;

/// How Redis 7 printed coordinates (`%.17Lf`, trailing zeros trimmed):
/// what the reference values below were taken from.
fn human(v: f64) -> String {
    let s = format!("{v:.17}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

fn dist_text(d: f64) -> String {
    let mut buf = [0u8; 32];
    let n = format_distance(d, &mut buf);
    String::from_utf8(buf[..n].to_vec()).expect("ascii")
}

#[test]
fn scores_as_redis_stores_them() {
    let cases: &[(f64, f64, f64)] = &[
        (13.361389, 38.115556, 3479099956230698.0),
        (15.087269, 37.502669, 3479447370796909.0),
        (180.0, 0.0, 10133099161583616.0),
        (-180.0, -85.05112878, 0.0),
        (180.0, 85.05112878, 13510798882111488.0),
        (0.0, 0.0, 3377699720527872.0),
        (-0.0000001, 0.0000001, 1876499844737706.0),
    ];
    for &(lon, lat, score) in cases {
        assert_eq!(encode_score(lon, lat), Some(score), "{lon},{lat}");
    }
    assert_eq!(encode_score(180.0001, 0.0), None);
    assert_eq!(encode_score(0.0, 85.06), None);
    assert_eq!(encode_score(0.0, -85.06), None);
}

#[test]
fn positions_as_redis_decodes_them() {
    let cases: &[(f64, &str, &str)] = &[
        (
            3479099956230698.0,
            "13.36138933897018433",
            "38.11555639549629859",
        ),
        (
            3479447370796909.0,
            "15.08726745843887329",
            "37.50266842333162032",
        ),
        (10133099161583616.0, "180", "0.00000126736058093"),
        (0.0, "-179.99999731779098511", "-85.05112751263942528"),
        (13510798882111488.0, "180", "85.0511287799999991"),
        (
            3377699720527872.0,
            "0.00000268220901489",
            "0.00000126736058093",
        ),
        (
            1876499844737706.0,
            "-0.00000268220901489",
            "0.00000126736058093",
        ),
        // Scores no GEOADD made: negative, beyond 2^63, beyond 2^64.
        (-1.0, "180", "85.0511287799999991"),
        (1e19, "180", "85.0511287799999991"),
        (1e30, "-179.99999731779098511", "-85.05112751263942528"),
        (
            f64::INFINITY,
            "-179.99999731779098511",
            "-85.05112751263942528",
        ),
        (f64::NEG_INFINITY, "180", "-85.05112751263942528"),
        (12345.0, "-179.99962180852890015", "-85.05095261687941388"),
    ];
    for &(score, lon, lat) in cases {
        let (dlon, dlat) = decode_score(score);
        assert_eq!(
            (human(dlon), human(dlat)),
            (lon.to_string(), lat.to_string()),
            "{score}"
        );
    }
}

#[test]
fn geohash_strings_as_redis_prints_them() {
    let cases: &[(f64, &[u8; 11])] = &[
        (3479099956230698.0, b"sqc8b49rny0"),
        (3479447370796909.0, b"sqdtr74hyu0"),
        (10133099161583616.0, b"80000000000"),
        (0.0, b"00bh0hbj200"),
        (13510798882111488.0, b"bp05b5048p0"),
        (3377699720527872.0, b"s0000000000"),
        (1876499844737706.0, b"ebpbpbpbpb0"),
        (12345.0, b"00bh0hbq2c0"),
    ];
    for &(score, s) in cases {
        assert_eq!(&geohash_string(score), s, "{score}");
    }
}

#[test]
fn distances_as_redis_prints_them() {
    let (a, b) = (
        decode_score(3479099956230698.0),
        decode_score(3479447370796909.0),
    );
    let d = distance(a.0, a.1, b.0, b.1);
    assert_eq!(dist_text(d), "166274.1516");
    assert_eq!(dist_text(d / 1000.0), "166.2742");
    assert_eq!(dist_text(d / 1609.34), "103.3182");
    let (sw, ne) = (decode_score(0.0), decode_score(13510798882111488.0));
    assert_eq!(
        dist_text(distance(sw.0, sw.1, ne.0, ne.1) / 0.3048),
        "62072980.9353"
    );
    assert_eq!(dist_text(0.0), "0.0000");
    assert_eq!(dist_text(-0.0), "0.0000");
    assert_eq!(dist_text(0.00004), "0.0000");
    assert_eq!(dist_text(0.00005), "0.0000");
    assert_eq!(dist_text(0.0001), "0.0001");
    assert_eq!(dist_text(6.064_295_159_839_17e-5), "0.0001");
    assert_eq!(dist_text(0.775), "0.7750");
    assert_eq!(dist_text(1.5), "1.5000");
    assert_eq!(dist_text(-1.5), "-1.5000");
    assert_eq!(dist_text(f64::NAN), "-922337203685477.5808");
}

#[test]
fn neighbours_wrap_around() {
    let h = encode_wgs84(0.0, 0.0, 1).expect("encodes");
    let n = neighbors(h);
    // At step 1 the world is 2x2 boxes: east and west are the same box.
    assert_eq!(n.east, n.west);
    assert_eq!(n.north, n.south);
    let h = encode_wgs84(13.361389, 38.115556, 10).expect("encodes");
    let n = neighbors(h);
    let area = decode(LONG_RANGE, LAT_RANGE, h).expect("decodes");
    let north = decode(LONG_RANGE, LAT_RANGE, n.north).expect("decodes");
    let east = decode(LONG_RANGE, LAT_RANGE, n.east).expect("decodes");
    assert_eq!(north.latitude.min, area.latitude.max);
    assert_eq!(north.longitude, area.longitude);
    assert_eq!(east.longitude.min, area.longitude.max);
    assert_eq!(east.latitude, area.latitude);
}

#[test]
fn steps_by_radius() {
    assert_eq!(estimate_steps_by_radius(0.0, 0.0), 26);
    assert_eq!(estimate_steps_by_radius(1.0, 0.0), 24);
    assert_eq!(estimate_steps_by_radius(1000.0, 0.0), 14);
    assert_eq!(estimate_steps_by_radius(1000.0, 70.0), 13);
    assert_eq!(estimate_steps_by_radius(1000.0, -81.0), 12);
    assert_eq!(estimate_steps_by_radius(1e7, 0.0), 1);
    assert_eq!(estimate_steps_by_radius(f64::INFINITY, 0.0), 1);
    assert_eq!(estimate_steps_by_radius(f64::MIN_POSITIVE / 1e10, 0.0), 26);
}

#[test]
fn score_ranges_of_boxes() {
    let h = HashBits {
        bits: 0b101010,
        step: 3,
    };
    assert_eq!(h.score_range(), (0b101010 << 46, 0b101011 << 46));
}

fn is_sorted_prefix(v: &[i32], full: &[i32], l: usize, r: usize) -> bool {
    v[l..=r] == full[l..=r]
}

proptest! {
    #[test]
    fn pqsort_sorts_the_asked_range(mut v in prop::collection::vec(0i32..20, 0..200), a in 0usize..200, b in 0usize..200) {
        let mut full = v.clone();
        full.sort();
        if v.is_empty() {
            return Ok(());
        }
        let (l, r) = (a.min(b) % v.len(), a.max(b) % v.len());
        let (l, r) = (l.min(r), l.max(r));
        let mut keyed: Vec<(i32, usize)> = v.iter().copied().zip(0..).collect();
        pqsort(&mut keyed, &mut |x, y| x.0.cmp(&y.0), l, r);
        v = keyed.iter().map(|x| x.0).collect();
        prop_assert!(is_sorted_prefix(&v, &full, l, r));
        // A permutation of the input.
        let mut ids: Vec<usize> = keyed.iter().map(|x| x.1).collect();
        ids.sort();
        prop_assert_eq!(ids, (0..v.len()).collect::<Vec<_>>());
    }

    #[test]
    fn msort_is_a_stable_sort(v in prop::collection::vec(0i32..20, 0..200)) {
        let mut keyed: Vec<(i32, usize)> = v.iter().copied().zip(0..).collect();
        let mut expected = keyed.clone();
        expected.sort_by_key(|x| x.0);
        msort(&mut keyed, &mut |x, y| x.0.cmp(&y.0));
        prop_assert_eq!(keyed, expected);
    }

    #[test]
    fn sorts_survive_inconsistent_comparators(v in prop::collection::vec(any::<f64>(), 0..100), r in 0usize..100) {
        let cmp = |a: &f64, b: &f64| if a > b {
            std::cmp::Ordering::Greater
        } else if a == b {
            std::cmp::Ordering::Equal
        } else {
            std::cmp::Ordering::Less
        };
        let mut a = v.clone();
        msort(&mut a, &mut |x, y| cmp(x, y));
        prop_assert_eq!(a.len(), v.len());
        let mut b = v.clone();
        if !b.is_empty() {
            let r = r % b.len();
            pqsort(&mut b, &mut |x, y| cmp(x, y), 0, r);
        }
        prop_assert_eq!(b.len(), v.len());
    }

    #[test]
    fn encode_decode_round_trip(lon in -180.0f64..=180.0, lat in LAT_MIN..=LAT_MAX) {
        let score = encode_score(lon, lat).expect("in range");
        let (dlon, dlat) = decode_score(score);
        prop_assert!((dlon - lon).abs() < 1e-5);
        prop_assert!((dlat - lat).abs() < 1e-5);
        prop_assert_eq!(encode_score(dlon, dlat), Some(score));
    }

    #[test]
    fn decoding_never_panics(score in any::<f64>()) {
        let (lon, lat) = decode_score(score);
        prop_assert!((LONG_MIN..=LONG_MAX).contains(&lon));
        prop_assert!((LAT_MIN..=LAT_MAX).contains(&lat));
        let _ = geohash_string(score);
    }
}
