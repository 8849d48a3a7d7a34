//! GEOADD, GEODIST, GEOHASH, GEOPOS, GEORADIUS*, GEOSEARCH and GEOSEARCHSTORE (Redis's `geo.c`).
//!
//! A geo index is a sorted set whose scores are 52-bit geohashes
//! ([`viator_types::geohash`]); there is no geo type of its own, so every
//! sorted set command works on it and `TYPE` says `zset`.
//!
//! A search works as Redis's does, step for step, because which members
//! come back, in which order, and their distances to the fourth decimal
//! all depend on it: the search area picks a geohash precision and the
//! centre box with its eight neighbours (some left out when the area cannot
//! reach them); each box is a score range of the sorted set, walked in
//! score order from an O(log n) search; each member is decoded and kept if
//! it is inside the circle or box. The matches are then sorted by distance
//! with glibc's merge sort (stable), or with Redis's partial quicksort when
//! COUNT keeps fewer than were found, so that ties come out in Redis's
//! order.
//!
//! Matches are kept by rank, not by copying their names: the reply looks
//! each name up once it is known to be part of the reply.
//!
//! Replies: distances are bulk strings with four decimals in RESP2 and
//! RESP3 alike (Redis's `addReplyDoubleDistance`); coordinates are doubles
//! (`,13.361389338970184` in RESP3, a bulk string in RESP2); hashes are
//! integers.

use std::cmp::Ordering;

use viator_protocol::ReplyBuf;
use viator_types::entry::ValueType;
use viator_types::geohash::{
    self, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN, Shape, ShapeKind, decode_score, encode_score,
};
use viator_types::number::{parse_f64_strict, parse_i64};
use viator_types::zset::ZSet;

use crate::command::{BeginSearch, CommandSpec, Ctx, FindKeys, KeySpec, acl, flags};
use crate::errors;

use super::rewrite;

use super::zset::{limits, new_entry, zset_of, zset_of_mut};

/// A unit other than m, km, ft or mi.
const BAD_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
/// GEORADIUSBYMEMBER / FROMMEMBER with a member that is not in the set.
const NO_MEMBER: &str = "ERR could not decode requested zset member";
/// COUNT 0 or negative.
const COUNT_POSITIVE: &str = "ERR COUNT must be > 0";
/// ANY without COUNT.
const ANY_NEEDS_COUNT: &str = "ERR the ANY argument requires COUNT argument";

const RO_ACCESS: KeySpec = KeySpec::single(1, &["RO", "ACCESS"]);

/// A key found after a STORE / STOREDIST keyword, from argument `startfrom`.
const fn store_spec(keyword: &'static str, startfrom: i32) -> KeySpec {
    KeySpec {
        flags: &["OW", "UPDATE"],
        begin: BeginSearch::Keyword { keyword, startfrom },
        find: FindKeys::Range {
            lastkey: 0,
            keystep: 1,
            limit: 0,
        },
        notes: "",
    }
}

const RADIUS_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const SEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";
const RADIUS_HISTORY: &[(&str, &str)] = &[
    ("6.2.0", "Added the `ANY` option for `COUNT`."),
    ("7.0.0", "Added support for uppercase unit names."),
];

/// The geo family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "geoadd",
        arity: -5,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::GEO,
        keys: &[KeySpec::single(1, &["RW", "UPDATE"])],
        group: "geo",
        summary: "Adds one or more members to a geospatial index. The key is created if it doesn't exist.",
        since: "3.2.0",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        args: "key:key [condition:(NX | XX)@6.2.0] [CH=change@6.2.0] data:{longitude:double latitude:double member:string}...",
        history: &[("6.2.0", "Added the `CH`, `NX` and `XX` options.")],
        handler: Some(geoadd),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "geodist",
        arity: -4,
        flags: flags::READONLY,
        acl: acl::GEO,
        keys: &[RO_ACCESS],
        group: "geo",
        summary: "Returns the distance between two members of a geospatial index.",
        since: "3.2.0",
        complexity: "O(1)",
        args: "key:key member1:string member2:string [unit:(m | km | ft | mi)]",
        handler: Some(geodist),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "geohash",
        arity: -2,
        flags: flags::READONLY,
        acl: acl::GEO,
        keys: &[RO_ACCESS],
        group: "geo",
        summary: "Returns members from a geospatial index as geohash strings.",
        since: "3.2.0",
        complexity: "O(1) for each member requested.",
        args: "key:key [member:string...]",
        handler: Some(geohash_cmd),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "geopos",
        arity: -2,
        flags: flags::READONLY,
        acl: acl::GEO,
        keys: &[RO_ACCESS],
        group: "geo",
        summary: "Returns the longitude and latitude of members from a geospatial index.",
        since: "3.2.0",
        complexity: "O(1) for each member requested.",
        args: "key:key [member:string...]",
        handler: Some(geopos),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "georadius",
        arity: -6,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::GEO,
        keys: &[
            RO_ACCESS,
            store_spec("STORE", 6),
            store_spec("STOREDIST", 6),
        ],
        group: "geo",
        summary: "Queries a geospatial index for members within a distance from a coordinate, optionally stores the result.",
        since: "3.2.0",
        complexity: RADIUS_COMPLEXITY,
        args: "key:key longitude:double latitude:double radius:double unit:(m | km | ft | mi) [WITHCOORD] [WITHDIST] [WITHHASH] [count-block:{COUNT=count:integer [ANY@6.2.0]}] [order:(ASC | DESC)] [store:(STORE=storekey/key:key | STOREDIST=storedistkey/key:key)]",
        history: RADIUS_HISTORY,
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument",
        handler: Some(georadius),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "georadius_ro",
        arity: -6,
        flags: flags::READONLY,
        acl: acl::GEO,
        keys: &[RO_ACCESS],
        group: "geo",
        summary: "Returns members from a geospatial index that are within a distance from a coordinate.",
        since: "3.2.10",
        complexity: RADIUS_COMPLEXITY,
        args: "key:key longitude:double latitude:double radius:double unit:(m | km | ft | mi) [WITHCOORD] [WITHDIST] [WITHHASH] [count-block:{COUNT=count:integer [ANY@6.2.0]}] [order:(ASC | DESC)]",
        history: RADIUS_HISTORY,
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`GEOSEARCH` with the `BYRADIUS` argument",
        handler: Some(georadius_ro),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "georadiusbymember",
        arity: -5,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::GEO,
        keys: &[
            RO_ACCESS,
            store_spec("STORE", 5),
            store_spec("STOREDIST", 5),
        ],
        group: "geo",
        summary: "Queries a geospatial index for members within a distance from a member, optionally stores the result.",
        since: "3.2.0",
        complexity: RADIUS_COMPLEXITY,
        args: "key:key member:string radius:double unit:(m | km | ft | mi) [WITHCOORD] [WITHDIST] [WITHHASH] [count-block:{COUNT=count:integer [ANY]}] [order:(ASC | DESC)] [store:(STORE=storekey/key:key | STOREDIST=storedistkey/key:key)]",
        history: RADIUS_HISTORY,
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments",
        handler: Some(georadiusbymember),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "georadiusbymember_ro",
        arity: -5,
        flags: flags::READONLY,
        acl: acl::GEO,
        keys: &[RO_ACCESS],
        group: "geo",
        summary: "Returns members from a geospatial index that are within a distance from a member.",
        since: "3.2.10",
        complexity: RADIUS_COMPLEXITY,
        args: "key:key member:string radius:double unit:(m | km | ft | mi) [WITHCOORD] [WITHDIST] [WITHHASH] [count-block:{COUNT=count:integer [ANY]}] [order:(ASC | DESC)]",
        history: RADIUS_HISTORY,
        doc_flags: &["deprecated"],
        deprecated_since: "6.2.0",
        replaced_by: "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments",
        handler: Some(georadiusbymember_ro),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "geosearch",
        arity: -7,
        flags: flags::READONLY,
        acl: acl::GEO,
        keys: &[RO_ACCESS],
        group: "geo",
        summary: "Queries a geospatial index for members inside an area of a box or a circle.",
        since: "6.2.0",
        complexity: SEARCH_COMPLEXITY,
        args: "key:key from:(FROMMEMBER=member:string | FROMLONLAT=fromlonlat:{longitude:double latitude:double}) by:(circle:{BYRADIUS=radius:double unit:(m | km | ft | mi)} | box:{BYBOX=width:double height:double unit:(m | km | ft | mi)}) [order:(ASC | DESC)] [count-block:{COUNT=count:integer [ANY]}] [WITHCOORD] [WITHDIST] [WITHHASH]",
        history: &[("7.0.0", "Added support for uppercase unit names.")],
        handler: Some(geosearch),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "geosearchstore",
        arity: -8,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::GEO,
        keys: &[
            KeySpec::single(1, &["OW", "UPDATE"]),
            KeySpec::single(2, &["RO", "ACCESS"]),
        ],
        group: "geo",
        summary: "Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result.",
        since: "6.2.0",
        complexity: SEARCH_COMPLEXITY,
        args: "destination:key source:key from:(FROMMEMBER=member:string | FROMLONLAT=fromlonlat:{longitude:double latitude:double}) by:(circle:{BYRADIUS=radius:double unit:(m | km | ft | mi)} | box:{BYBOX=width:double height:double unit:(m | km | ft | mi)}) [order:(ASC | DESC)] [count-block:{COUNT=count:integer [ANY]}] [STOREDIST]",
        history: &[("7.0.0", "Added support for uppercase unit names.")],
        handler: Some(geosearchstore),
        ..CommandSpec::DEFAULT
    },
];

// ---------------------------------------------------------------- helpers

/// Meters per unit (Redis's `extractUnitOrReply`), any case.
fn unit_factor(u: &[u8]) -> Option<f64> {
    if u.eq_ignore_ascii_case(b"m") {
        Some(1.0)
    } else if u.eq_ignore_ascii_case(b"km") {
        Some(1000.0)
    } else if u.eq_ignore_ascii_case(b"ft") {
        Some(0.3048)
    } else if u.eq_ignore_ascii_case(b"mi") {
        Some(1609.34)
    } else {
        None
    }
}

fn unit_or_reply(out: &mut ReplyBuf, u: &[u8]) -> Option<f64> {
    let f = unit_factor(u);
    if f.is_none() {
        out.error(BAD_UNIT);
    }
    f
}

/// A float argument, or `msg` replied (`ERR value is not a valid float`
/// unless the caller words it).
fn double_or_reply(out: &mut ReplyBuf, arg: &[u8], msg: &str) -> Option<f64> {
    let v = parse_f64_strict(arg);
    if v.is_none() {
        out.error(msg);
    }
    v
}

/// A longitude and latitude pair at `args[i..i + 2]`, range-checked
/// (Redis's `extractLongLatOrReply`).
fn lonlat_or_reply(out: &mut ReplyBuf, args: &[&[u8]], i: usize) -> Option<(f64, f64)> {
    let arg = |j: usize| args.get(j).copied().unwrap_or(b"");
    let lon = double_or_reply(out, arg(i), errors::NOT_FLOAT)?;
    let lat = double_or_reply(out, arg(i + 1), errors::NOT_FLOAT)?;
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        out.error(&format!(
            "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
        ));
        return None;
    }
    Some((lon, lat))
}

/// `radius unit` at `args[i..i + 2]` (Redis's `extractDistanceOrReply`):
/// the radius and the meters per unit.
fn distance_or_reply(out: &mut ReplyBuf, args: &[&[u8]], i: usize) -> Option<(f64, f64)> {
    let arg = |j: usize| args.get(j).copied().unwrap_or(b"");
    let radius = double_or_reply(out, arg(i), "ERR need numeric radius")?;
    if radius < 0.0 {
        out.error("ERR radius cannot be negative");
        return None;
    }
    let conversion = unit_or_reply(out, arg(i + 1))?;
    Some((radius, conversion))
}

/// `width height unit` at `args[i..i + 3]` (Redis's `extractBoxOrReply`).
fn box_or_reply(out: &mut ReplyBuf, args: &[&[u8]], i: usize) -> Option<(f64, f64, f64)> {
    let arg = |j: usize| args.get(j).copied().unwrap_or(b"");
    let width = double_or_reply(out, arg(i), "ERR need numeric width")?;
    let height = double_or_reply(out, arg(i + 1), "ERR need numeric height")?;
    if height < 0.0 || width < 0.0 {
        out.error("ERR height or width cannot be negative");
        return None;
    }
    let conversion = unit_or_reply(out, arg(i + 2))?;
    Some((width, height, conversion))
}

/// A distance as Redis replies it: a bulk string with four decimals, in
/// both protocols.
fn reply_distance(out: &mut ReplyBuf, d: f64) {
    let mut buf = [0u8; 32];
    let n = geohash::format_distance(d, &mut buf);
    out.bulk(&buf[..n]);
}

// ---------------------------------------------------------------- GEOADD

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]
/// (`geoaddCommand`, which rewrites itself into a ZADD).
fn geoadd(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut idx = 2;
    while idx < ctx.argc() {
        let a = ctx.arg(idx);
        if a.eq_ignore_ascii_case(b"nx") {
            nx = true;
        } else if a.eq_ignore_ascii_case(b"xx") {
            xx = true;
        } else if a.eq_ignore_ascii_case(b"ch") {
            ch = true;
        } else {
            break;
        }
        idx += 1;
    }
    let rest = ctx.argc() - idx;
    if rest % 3 != 0 || (xx && nx) {
        ctx.out.error(errors::SYNTAX);
        return;
    }
    let elements = rest / 3;
    // Every position is checked before the key is touched: all or nothing.
    let mut scores = Vec::with_capacity(elements);
    let mut maxelelen = 0;
    for i in 0..elements {
        let at = idx + i * 3;
        let Some((lon, lat)) = lonlat_or_reply(ctx.out, ctx.args, at) else {
            return;
        };
        // In range, so it encodes.
        scores.push(encode_score(lon, lat).unwrap_or(0.0));
        maxelelen = maxelelen.max(ctx.arg(at + 2).len());
    }
    if elements == 0 {
        // The ZADD it becomes has no pairs.
        ctx.out.error(errors::SYNTAX);
        return;
    }
    let limits = limits(ctx);
    let args = ctx.args;
    let member = |i: usize| args.get(idx + i * 3 + 2).copied().unwrap_or(b"");
    let apply = |z: &mut ZSet| {
        let (mut added, mut updated) = (0u64, 0u64);
        for (i, &score) in scores.iter().enumerate() {
            let m = member(i);
            match z.score(m) {
                Some(cur) => {
                    if !nx && cur != score {
                        z.update(m, score);
                        updated += 1;
                    }
                }
                None => {
                    if !xx {
                        z.insert_new(m, score, limits);
                        added += 1;
                    }
                }
            }
        }
        (added, updated)
    };
    let mut ks = ctx.key(key);
    let existing = match ks.write_typed_quiet(key, ValueType::ZSet) {
        Err(e) => {
            ctx.out.error(e);
            return;
        }
        Ok(Some(mut e)) => match zset_of_mut(&mut e) {
            Some(z) => Some(apply(z)),
            None => {
                ctx.out.error(errors::WRONGTYPE);
                return;
            }
        },
        Ok(None) => None,
    };
    let (added, updated) = match existing {
        Some(r) => r,
        None if xx => (0, 0),
        None => {
            let mut z = ZSet::with_hint(elements, maxelelen, limits);
            let r = apply(&mut z);
            ks.add(new_entry(key, z));
            r
        }
    };
    if added > 0 || updated > 0 {
        ks.touch_watched(key);
    }
    drop(ks);
    ctx.store.add_dirty(added + updated);
    if added > 0 || updated > 0 {
        ctx.signal_ready(key);
        // Redis runs GEOADD as the ZADD it becomes, so that is what
        // propagates: the options as given, each position as its 52-bit
        // geohash score.
        if ctx.propagating() {
            let texts: Vec<Vec<u8>> = scores
                .iter()
                .map(|&sc| rewrite::uint_text(sc as u64))
                .collect();
            let mut argv: Vec<&[u8]> = Vec::with_capacity(idx + elements * 2);
            argv.push(b"ZADD");
            argv.extend_from_slice(&args[1..idx]);
            for (i, t) in texts.iter().enumerate() {
                argv.push(t);
                argv.push(member(i));
            }
            ctx.propagate(&argv);
        }
    }
    ctx.out
        .int((if ch { added + updated } else { added }) as i64);
}

// ---------------------------------------------------------------- simple reads

/// GEODIST key member1 member2 [m|km|ft|mi]
fn geodist(ctx: &mut Ctx<'_>) {
    let mut to_meter = 1.0;
    if ctx.argc() == 5 {
        let Some(f) = unit_or_reply(ctx.out, ctx.arg(4)) else {
            return;
        };
        to_meter = f;
    } else if ctx.argc() > 5 {
        ctx.out.error(errors::SYNTAX);
        return;
    }
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let e = match ks.read_typed(key, ValueType::ZSet) {
        Err(e) => return ctx.out.error(e),
        Ok(None) => return ctx.out.null(),
        Ok(Some(e)) => e,
    };
    let Some(z) = zset_of(&e) else {
        return ctx.out.error(errors::WRONGTYPE);
    };
    let (Some(s1), Some(s2)) = (z.score(ctx.arg(2)), z.score(ctx.arg(3))) else {
        return ctx.out.null();
    };
    let (a, b) = (decode_score(s1), decode_score(s2));
    reply_distance(ctx.out, geohash::distance(a.0, a.1, b.0, b.1) / to_meter);
}

/// Runs `f` with the sorted set at `key` (or `None`) for GEOHASH and
/// GEOPOS; replies WRONGTYPE itself.
fn with_members(ctx: &mut Ctx<'_>, f: impl Fn(&mut ReplyBuf, Option<f64>)) {
    let key = ctx.arg(1);
    let mut ks = ctx.key(key);
    let e = match ks.read_typed(key, ValueType::ZSet) {
        Err(e) => return ctx.out.error(e),
        Ok(e) => e,
    };
    let z = match &e {
        None => None,
        Some(e) => match zset_of(e) {
            Some(z) => Some(z),
            None => return ctx.out.error(errors::WRONGTYPE),
        },
    };
    ctx.out.array(ctx.argc() - 2);
    for m in &ctx.args[2..] {
        f(ctx.out, z.and_then(|z| z.score(m)));
    }
}

/// GEOHASH key [member ...]: 11-character standard geohashes.
fn geohash_cmd(ctx: &mut Ctx<'_>) {
    with_members(ctx, |out, score| match score {
        Some(s) => out.bulk(&geohash::geohash_string(s)),
        None => out.null(),
    });
}

/// GEOPOS key [member ...]: `[longitude, latitude]` pairs.
fn geopos(ctx: &mut Ctx<'_>) {
    with_members(ctx, |out, score| match score {
        Some(s) => {
            let (lon, lat) = decode_score(s);
            out.array(2);
            out.double(lon);
            out.double(lat);
        }
        None => out.null_array(),
    });
}

// ---------------------------------------------------------------- searches

/// Which search command runs (Redis's `georadiusGeneric` flags).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// GEORADIUS: around coordinates, STORE allowed.
    Radius,
    /// GEORADIUS_RO.
    RadiusRo,
    /// GEORADIUSBYMEMBER: around a member, STORE allowed.
    ByMember,
    /// GEORADIUSBYMEMBER_RO.
    ByMemberRo,
    /// GEOSEARCH.
    Search,
    /// GEOSEARCHSTORE.
    SearchStore,
}

impl Mode {
    fn coords(self) -> bool {
        matches!(self, Mode::Radius | Mode::RadiusRo)
    }
    fn member(self) -> bool {
        matches!(self, Mode::ByMember | Mode::ByMemberRo)
    }
    fn nostore(self) -> bool {
        matches!(self, Mode::RadiusRo | Mode::ByMemberRo)
    }
    fn geosearch(self) -> bool {
        matches!(self, Mode::Search | Mode::SearchStore)
    }
    fn src_index(self) -> usize {
        if self == Mode::SearchStore { 2 } else { 1 }
    }
    /// Where the options start.
    fn base_args(self) -> usize {
        match self {
            Mode::Radius | Mode::RadiusRo => 6,
            Mode::ByMember | Mode::ByMemberRo => 5,
            Mode::Search => 2,
            Mode::SearchStore => 3,
        }
    }
}

/// GEORADIUS key longitude latitude radius unit [options]
fn georadius(ctx: &mut Ctx<'_>) {
    search_generic(ctx, Mode::Radius);
}

/// GEORADIUS_RO key longitude latitude radius unit [options]
fn georadius_ro(ctx: &mut Ctx<'_>) {
    search_generic(ctx, Mode::RadiusRo);
}

/// GEORADIUSBYMEMBER key member radius unit [options]
fn georadiusbymember(ctx: &mut Ctx<'_>) {
    search_generic(ctx, Mode::ByMember);
}

/// GEORADIUSBYMEMBER_RO key member radius unit [options]
fn georadiusbymember_ro(ctx: &mut Ctx<'_>) {
    search_generic(ctx, Mode::ByMemberRo);
}

/// GEOSEARCH key FROMMEMBER|FROMLONLAT ... BYRADIUS|BYBOX ... [options]
fn geosearch(ctx: &mut Ctx<'_>) {
    search_generic(ctx, Mode::Search);
}

/// GEOSEARCHSTORE dst src FROMMEMBER|FROMLONLAT ... BYRADIUS|BYBOX ... [options]
fn geosearchstore(ctx: &mut Ctx<'_>) {
    search_generic(ctx, Mode::SearchStore);
}

/// Sort order of the matches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A parsed search request.
struct Query<'a> {
    shape: Shape,
    store: Option<&'a [u8]>,
    storedist: bool,
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    sort: Sort,
    any: bool,
    count: u64,
}

/// A match: its rank in the sorted set (its name is looked up only if it
/// is replied or stored), position, distance from the centre in meters,
/// and score.
#[derive(Clone, Copy)]
struct Point {
    rank: usize,
    lon: f64,
    lat: f64,
    dist: f64,
    score: f64,
}

/// The keys a search may write: GEOSEARCHSTORE's destination, or every
/// argument after a STORE / STOREDIST word (a superset of the one the
/// parser will pick, so that its shard is locked with the source's).
fn store_candidates<'a>(args: &[&'a [u8]], mode: Mode) -> Vec<&'a [u8]> {
    match mode {
        Mode::SearchStore => vec![args[1]],
        Mode::Radius | Mode::ByMember => {
            let base = mode.base_args();
            (base..args.len().saturating_sub(1))
                .filter(|&i| {
                    args[i].eq_ignore_ascii_case(b"store")
                        || args[i].eq_ignore_ascii_case(b"storedist")
                })
                .map(|i| args[i + 1])
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Redis's `georadiusGeneric`.
fn search_generic(ctx: &mut Ctx<'_>, mode: Mode) {
    let src = ctx.arg(mode.src_index());
    let mut ks = match store_candidates(ctx.args, mode) {
        v if v.is_empty() => ctx.key(src),
        mut v => {
            v.push(src);
            ctx.keys(&v)
        }
    };
    let found = match ks.read_typed(src, ValueType::ZSet) {
        Err(e) => return ctx.out.error(e),
        Ok(e) => e,
    };
    let z = match &found {
        None => None,
        Some(e) => match zset_of(e) {
            Some(z) => Some(z),
            None => return ctx.out.error(errors::WRONGTYPE),
        },
    };
    let Some(q) = parse_query(ctx.out, ctx.args, mode, z) else {
        return;
    };
    let Some(z) = z else {
        // No source: an empty reply, or an empty destination.
        drop(found);
        match q.store {
            Some(dst) => {
                if ks.remove(dst).is_some() {
                    ctx.store.add_dirty(1);
                }
                ctx.out.int(0);
            }
            None => ctx.out.array(0),
        }
        return;
    };
    let limit = if q.any { q.count } else { 0 };
    let mut points = members_of_all_neighbors(z, &q.shape, limit);
    if points.is_empty() && q.store.is_none() {
        ctx.out.array(0);
        return;
    }
    let len = points.len() as u64;
    let returned = if q.count == 0 || len < q.count {
        points.len()
    } else {
        q.count as usize
    };
    if q.sort != Sort::None {
        let desc = q.sort == Sort::Desc;
        let mut cmp = |a: &Point, b: &Point| {
            let o = if a.dist > b.dist {
                Ordering::Greater
            } else if a.dist == b.dist {
                Ordering::Equal
            } else {
                Ordering::Less
            };
            if desc { o.reverse() } else { o }
        };
        if returned == points.len() {
            geohash::msort(&mut points, &mut cmp);
        } else {
            geohash::pqsort(&mut points, &mut cmp, 0, returned - 1);
        }
    }
    let points = &points[..returned];
    let conversion = q.shape.conversion;
    match q.store {
        None => {
            let opts = usize::from(q.withdist) + usize::from(q.withhash) + usize::from(q.withcoord);
            let out = &mut *ctx.out;
            out.array(returned);
            for p in points {
                if opts > 0 {
                    out.array(opts + 1);
                }
                out.bulk(z.at(p.rank).map(|(m, _)| m).unwrap_or(b""));
                if q.withdist {
                    reply_distance(out, p.dist / conversion);
                }
                if q.withhash {
                    out.int(p.score as i64);
                }
                if q.withcoord {
                    out.array(2);
                    out.double(p.lon);
                    out.double(p.lat);
                }
            }
        }
        Some(dst) => {
            let limits = limits(ctx);
            let mut result: Option<ZSet> = None;
            if returned > 0 {
                let maxelelen = points
                    .iter()
                    .filter_map(|p| z.at(p.rank).map(|(m, _)| m.len()))
                    .max()
                    .unwrap_or(0);
                let mut r = ZSet::with_hint(returned, maxelelen, limits);
                for p in points {
                    let Some((m, _)) = z.at(p.rank) else { continue };
                    let score = if q.storedist {
                        p.dist / conversion
                    } else {
                        p.score
                    };
                    if r.score(m).is_none() {
                        r.insert_new(m, score, limits);
                    }
                }
                result = Some(r);
            }
            drop(found);
            match result {
                Some(r) => {
                    drop(ks.set(new_entry(dst, r), false));
                    ctx.store.add_dirty(returned as u64);
                }
                None => {
                    if ks.remove(dst).is_some() {
                        ctx.store.add_dirty(1);
                    }
                }
            }
            // `set` wakes clients blocked on the destination.
            drop(ks);
            ctx.out.int(returned as i64);
        }
    }
}

/// Parses the centre, shape and options of a search, in Redis's order,
/// replying the first error. `z` is the source set, if it exists (a
/// member centre is looked up in it while parsing, as Redis does).
fn parse_query<'a>(
    out: &mut ReplyBuf,
    args: &[&'a [u8]],
    mode: Mode,
    z: Option<&ZSet>,
) -> Option<Query<'a>> {
    let mut q = Query {
        shape: Shape {
            lon: 0.0,
            lat: 0.0,
            conversion: 0.0,
            kind: ShapeKind::Circle { radius: 0.0 },
        },
        store: None,
        storedist: false,
        withdist: false,
        withhash: false,
        withcoord: false,
        sort: Sort::None,
        any: false,
        count: 0,
    };
    let set_center = |q: &mut Query<'_>, (lon, lat): (f64, f64)| {
        q.shape.lon = lon;
        q.shape.lat = lat;
    };
    let member_center = |out: &mut ReplyBuf, z: &ZSet, m: &[u8]| match z.score(m) {
        Some(s) => Some(decode_score(s)),
        None => {
            out.error(NO_MEMBER);
            None
        }
    };
    let base = mode.base_args();
    if mode.coords() {
        let c = lonlat_or_reply(out, args, 2)?;
        set_center(&mut q, c);
        let (radius, conversion) = distance_or_reply(out, args, base - 2)?;
        q.shape.conversion = conversion;
        q.shape.kind = ShapeKind::Circle { radius };
    } else if mode.member() {
        // Without a source the member and radius are not checked: only the
        // options, to know which empty reply to give.
        if let Some(z) = z {
            let c = member_center(out, z, args[2])?;
            set_center(&mut q, c);
            let (radius, conversion) = distance_or_reply(out, args, base - 2)?;
            q.shape.conversion = conversion;
            q.shape.kind = ShapeKind::Circle { radius };
        }
    } else if mode == Mode::SearchStore {
        q.store = Some(args[1]);
    }
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let remaining = args.len().saturating_sub(base);
    let mut i = 0;
    while i < remaining {
        let at = base + i;
        let arg = args[at];
        let is = |w: &[u8]| arg.eq_ignore_ascii_case(w);
        if is(b"withdist") {
            q.withdist = true;
        } else if is(b"withhash") {
            q.withhash = true;
        } else if is(b"withcoord") {
            q.withcoord = true;
        } else if is(b"any") {
            q.any = true;
        } else if is(b"asc") {
            q.sort = Sort::Asc;
        } else if is(b"desc") {
            q.sort = Sort::Desc;
        } else if is(b"count") && i + 1 < remaining {
            let Some(count) = parse_i64(args[at + 1]) else {
                out.error(errors::NOT_INTEGER);
                return None;
            };
            if count <= 0 {
                out.error(COUNT_POSITIVE);
                return None;
            }
            q.count = count as u64;
            i += 1;
        } else if (is(b"store") || is(b"storedist"))
            && i + 1 < remaining
            && !mode.nostore()
            && !mode.geosearch()
        {
            q.store = Some(args[at + 1]);
            q.storedist = is(b"storedist");
            i += 1;
        } else if is(b"storedist") && mode == Mode::SearchStore {
            q.storedist = true;
        } else if is(b"frommember") && i + 1 < remaining && mode.geosearch() && !fromloc {
            if let Some(z) = z {
                let c = member_center(out, z, args[at + 1])?;
                set_center(&mut q, c);
            }
            frommember = true;
            i += 1;
        } else if is(b"fromlonlat") && i + 2 < remaining && mode.geosearch() && !frommember {
            let c = lonlat_or_reply(out, args, at + 1)?;
            set_center(&mut q, c);
            fromloc = true;
            i += 2;
        } else if is(b"byradius") && i + 2 < remaining && mode.geosearch() && !bybox {
            let (radius, conversion) = distance_or_reply(out, args, at + 1)?;
            q.shape.conversion = conversion;
            q.shape.kind = ShapeKind::Circle { radius };
            byradius = true;
            i += 2;
        } else if is(b"bybox") && i + 3 < remaining && mode.geosearch() && !byradius {
            let (width, height, conversion) = box_or_reply(out, args, at + 1)?;
            q.shape.conversion = conversion;
            q.shape.kind = ShapeKind::Rectangle { width, height };
            bybox = true;
            i += 3;
        } else {
            out.error(errors::SYNTAX);
            return None;
        }
        i += 1;
    }
    if q.store.is_some() && (q.withdist || q.withhash || q.withcoord) {
        out.error(if mode == Mode::SearchStore {
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        } else {
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        });
        return None;
    }
    let name = args.first().copied().unwrap_or(b"");
    if mode.geosearch() && !(frommember || fromloc) {
        let mut msg = b"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ".to_vec();
        msg.extend_from_slice(name);
        out.error_bytes(&msg);
        return None;
    }
    if mode.geosearch() && !(byradius || bybox) {
        let mut msg = b"ERR exactly one of BYRADIUS and BYBOX can be specified for ".to_vec();
        msg.extend_from_slice(name);
        out.error_bytes(&msg);
        return None;
    }
    if q.any && q.count == 0 {
        out.error(ANY_NEEDS_COUNT);
        return None;
    }
    // COUNT needs an order to pick the nearest; ANY takes the first found.
    if q.count != 0 && q.sort == Sort::None && !q.any {
        q.sort = Sort::Asc;
    }
    Some(q)
}

/// Collects the members inside the shape from the centre box and its
/// neighbours, in Redis's order (`membersOfAllNeighbors`), stopping at
/// `limit` matches when it is not 0 (ANY).
fn members_of_all_neighbors(z: &ZSet, shape: &Shape, limit: u64) -> Vec<Point> {
    let areas = shape.search_areas();
    let boxes = areas.boxes();
    let mut points: Vec<Point> = Vec::new();
    let full = |points: &Vec<Point>| limit != 0 && points.len() as u64 >= limit;
    let mut last_processed = 0;
    for (i, b) in boxes.iter().enumerate() {
        if b.is_zero() {
            continue;
        }
        // Huge areas make neighbours repeat: a box equal to the one just
        // searched is skipped (not when that was the centre: Redis's
        // check starts from the first neighbour searched).
        if last_processed != 0 && *b == boxes[last_processed] {
            continue;
        }
        if full(&points) {
            break;
        }
        let (min, max) = b.score_range();
        let (min, max) = (min as f64, max as f64);
        let lo = z.partition_point(|s, _| s < min);
        let mut rank = lo;
        z.walk(lo, false, |_, score| {
            if score >= max {
                return false;
            }
            let (lon, lat) = decode_score(score);
            if let Some(dist) = shape.distance_if_within(lon, lat) {
                points.push(Point {
                    rank,
                    lon,
                    lat,
                    dist,
                    score,
                });
            }
            rank += 1;
            !full(&points)
        });
        last_processed = i;
    }
    points
}
