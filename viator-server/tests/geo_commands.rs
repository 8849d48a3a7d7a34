//! Geo commands against a real in-process server over raw TCP: reply
//! shapes in RESP2 and RESP3 (distances as bulk strings in both,
//! coordinates as doubles), searches checked against a brute-force scan
//! with an independent haversine, STORE results and their encodings,
//! GEOADD waking a blocked BZPOPMIN, and hostile arguments.

mod common;

use std::collections::BTreeSet;

use common::{Client, start, wait_blocked};

fn geoadd_sicily(c: &mut Client) {
    assert_eq!(
        c.cmd(&[
            "GEOADD",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
        ]),
        ":2"
    );
}

#[test]
fn reply_shapes_in_both_protocols() {
    let server = start();
    let mut c = Client::new(&server);
    geoadd_sicily(&mut c);
    // RESP2: coordinates are bulk strings in their shortest form.
    assert_eq!(
        c.cmd(&["GEOPOS", "Sicily", "Palermo", "nosuch"]),
        "[[\"13.361389338970184\",\"38.1155563954963\"],nil*]"
    );
    assert_eq!(
        c.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "km"]),
        "\"166.2742\""
    );
    assert_eq!(c.cmd(&["GEODIST", "Sicily", "Palermo", "nosuch"]), "nil");
    assert_eq!(
        c.cmd(&["GEOHASH", "Sicily", "Palermo", "Catania", "x"]),
        "[\"sqc8b49rny0\",\"sqdtr74hyu0\",nil]"
    );
    assert_eq!(
        c.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "WITHDIST",
            "WITHHASH",
            "WITHCOORD",
            "ASC",
        ]),
        "[[\"Catania\",\"56.4413\",:3479447370796909,[\"15.087267458438873\",\"37.50266842333162\"]],\
         [\"Palermo\",\"190.4424\",:3479099956230698,[\"13.361389338970184\",\"38.1155563954963\"]]]"
    );
    // RESP3: coordinates are doubles, distances still bulk strings, and a
    // missing member's position is a null.
    assert!(c.cmd(&["HELLO", "3"]).contains("proto"));
    assert_eq!(
        c.cmd(&["GEOPOS", "Sicily", "Catania", "nosuch"]),
        "[[Double(15.087267458438873),Double(37.50266842333162)],null]"
    );
    assert_eq!(
        c.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMMEMBER",
            "Palermo",
            "BYBOX",
            "400",
            "400",
            "km",
            "DESC",
            "WITHDIST",
        ]),
        "[[\"Catania\",\"166.2742\"],[\"Palermo\",\"0.0000\"]]"
    );
    assert_eq!(c.cmd(&["GEODIST", "nokey", "a", "b"]), "null");
    assert_eq!(c.cmd(&["GEORADIUS", "nokey", "0", "0", "1", "km"]), "[]");
}

/// An independent haversine over the same sphere as Redis.
fn haversine(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let r = 6372797.560856;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * r * a.sqrt().asin()
}

fn parse_list(reply: &str) -> BTreeSet<String> {
    reply
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_matches('"').to_string())
        .collect()
}

#[test]
fn searches_find_what_a_full_scan_finds() {
    let server = start();
    let mut c = Client::new(&server);
    // A deterministic spread of points, some near the antimeridian and the
    // poles, where the neighbour boxes wrap.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut points = Vec::new();
    for i in 0..600 {
        let (lon, lat) = match i % 3 {
            0 => (next() * 360.0 - 180.0, next() * 170.0 - 85.0),
            1 => (next() * 4.0 - 2.0, next() * 4.0 + 40.0),
            _ => (179.0 + next() * 2.0 - 1.0, next() * 10.0 + 74.0),
        };
        let lon = if lon > 180.0 { lon - 360.0 } else { lon };
        points.push((format!("m{i}"), lon, lat));
    }
    for chunk in points.chunks(100) {
        let mut args = vec!["GEOADD".to_string(), "pts".to_string()];
        for (name, lon, lat) in chunk {
            args.extend([lon.to_string(), lat.to_string(), name.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(c.cmd(&args), ":100");
    }
    // The stored (decoded) positions, as the server sees them.
    let mut stored = Vec::new();
    for (name, _, _) in &points {
        let pos = c.cmd(&["GEOPOS", "pts", name]);
        let nums: Vec<f64> = pos
            .trim_matches(|ch| ch == '[' || ch == ']')
            .split(',')
            .map(|s| s.trim_matches('"').parse().expect("coordinate"))
            .collect();
        stored.push((name.clone(), nums[0], nums[1]));
    }
    let centres = [
        (0.0, 42.0),
        (179.9, 80.0),
        (-179.9, 79.0),
        (10.0, -30.0),
        (0.5, 41.0),
    ];
    let radii_km = [1.0, 50.0, 120.0, 400.0, 2500.0, 9000.0];
    for &(clon, clat) in &centres {
        for &r in &radii_km {
            let got = parse_list(&c.cmd(&[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                &clon.to_string(),
                &clat.to_string(),
                "BYRADIUS",
                &r.to_string(),
                "km",
            ]));
            let meters = r * 1000.0;
            for (name, lon, lat) in &stored {
                let d = haversine(clon, clat, *lon, *lat);
                // Leave out points within a micrometre of the edge, where
                // the last bit of the trigonometry decides.
                if (d - meters).abs() < 1e-6 {
                    continue;
                }
                assert_eq!(
                    got.contains(name),
                    d < meters,
                    "{name} at {d} m from ({clon},{clat}), radius {meters}"
                );
            }
            // The same search by box: every point inside the box's
            // latitude band and, along its own parallel, within half the
            // width.
            let got = parse_list(&c.cmd(&[
                "GEOSEARCH",
                "pts",
                "FROMLONLAT",
                &clon.to_string(),
                &clat.to_string(),
                "BYBOX",
                &(2.0 * r).to_string(),
                &r.to_string(),
                "km",
            ]));
            for (name, lon, lat) in &stored {
                let dy = haversine(clon, clat, clon, *lat);
                let dx = haversine(clon, *lat, *lon, *lat);
                if (dy - meters / 2.0).abs() < 1e-6 || (dx - meters).abs() < 1e-6 {
                    continue;
                }
                assert_eq!(
                    got.contains(name),
                    dy < meters / 2.0 && dx < meters,
                    "{name}: dx {dx} dy {dy} around ({clon},{clat}), box {r} km"
                );
            }
        }
    }
    // ASC is sorted by distance, COUNT keeps the nearest.
    let all = c.cmd(&[
        "GEORADIUS",
        "pts",
        "0",
        "42",
        "300",
        "km",
        "WITHDIST",
        "ASC",
    ]);
    let dists: Vec<f64> = all
        .split("\",\"")
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect();
    assert!(dists.len() > 10);
    assert!(dists.windows(2).all(|w| w[0] <= w[1]));
    let first5 = c.cmd(&["GEORADIUS", "pts", "0", "42", "300", "km", "COUNT", "5"]);
    let asc = c.cmd(&["GEORADIUS", "pts", "0", "42", "300", "km", "ASC"]);
    assert!(asc.starts_with(first5.trim_end_matches(']')));
}

#[test]
fn store_results_and_encodings() {
    let server = start();
    let mut c = Client::new(&server);
    geoadd_sicily(&mut c);
    assert_eq!(
        c.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "STOREDIST",
            "d",
            "ASC"
        ]),
        ":2"
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
        "[\"Catania\",\"56.4412578701582\",\"Palermo\",\"190.44242984775784\"]"
    );
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "d"]), "\"listpack\"");
    // STORE keeps the geohash scores: the copy answers geo commands.
    assert_eq!(
        c.cmd(&[
            "GEOSEARCHSTORE",
            "copy",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km"
        ]),
        ":2"
    );
    assert_eq!(
        c.cmd(&["GEODIST", "copy", "Palermo", "Catania"]),
        "\"166274.1516\""
    );
    // Nothing found: the destination is deleted.
    assert_eq!(
        c.cmd(&["GEORADIUS", "Sicily", "0", "0", "1", "m", "STORE", "copy"]),
        ":0"
    );
    assert_eq!(c.cmd(&["EXISTS", "copy"]), ":0");
    // Past the threshold the result is a skiplist.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "1"]),
        "+OK"
    );
    assert_eq!(
        c.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "big"
        ]),
        ":2"
    );
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "big"]), "\"skiplist\"");
    assert_eq!(
        c.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "one",
            "COUNT",
            "1"
        ]),
        ":1"
    );
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "one"]), "\"listpack\"");
    // A search storing into its own source.
    assert_eq!(
        c.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "100",
            "km",
            "STORE",
            "Sicily"
        ]),
        ":1"
    );
    assert_eq!(c.cmd(&["ZRANGE", "Sicily", "0", "-1"]), "[\"Catania\"]");
}

#[test]
fn geoadd_wakes_a_blocked_pop() {
    let server = start();
    let mut waiter = Client::new(&server);
    let mut c = Client::new(&server);
    waiter.send(&["BZPOPMIN", "g", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["GEOADD", "g", "0", "0", "origin"]), ":1");
    assert_eq!(waiter.read(), "[\"g\",\"origin\",\"3377699720527872\"]");
}

#[test]
fn hostile_arguments_neither_panic_nor_hang() {
    let server = start();
    let mut c = Client::new(&server);
    geoadd_sicily(&mut c);
    let cases: &[&[&str]] = &[
        &[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "inf",
            "km",
            "COUNT",
            "9223372036854775807",
        ],
        &["GEORADIUS", "Sicily", "15", "37", "1e308", "mi", "WITHDIST"],
        &["GEORADIUS", "Sicily", "15", "37", "4.9e-324", "m"],
        &[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "180",
            "85.05112878",
            "BYBOX",
            "inf",
            "inf",
            "km",
        ],
        &[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "-180",
            "-85.05112878",
            "BYRADIUS",
            "0",
            "m",
        ],
        &[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "0",
            "0",
            "BYBOX",
            "1e308",
            "0",
            "ft",
            "COUNT",
            "1",
            "ANY",
        ],
        &[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "COUNT",
            "-9223372036854775808",
        ],
        &["GEORADIUS", "Sicily", "nan", "37", "200", "km"],
    ];
    for args in cases {
        let r = c.cmd(args);
        assert!(r.starts_with('[') || r.starts_with('-'), "{args:?}: {r}");
    }
    assert_eq!(
        c.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "inf",
            "km",
            "COUNT",
            "9223372036854775807"
        ]),
        "[\"Catania\",\"Palermo\"]"
    );
    assert_eq!(
        c.cmd(&["GEORADIUS", "Sicily", "nan", "37", "200", "km"]),
        "-ERR value is not a valid float"
    );
    assert_eq!(
        c.cmd(&["GEOADD", "Sicily", "200", "1e300", "x"]),
        format!(
            "-ERR invalid longitude,latitude pair 200.000000,{:.6}",
            1e300
        )
    );
    // Scores that no GEOADD made still decode.
    c.cmd(&["ZADD", "odd", "-1", "neg", "inf", "top"]);
    assert_eq!(
        c.cmd(&["GEOHASH", "odd", "neg", "top"]),
        "[\"bp05b5048p0\",\"00bh0hbj200\"]"
    );
    assert_eq!(c.cmd(&["PING"]), "+PONG");
}
