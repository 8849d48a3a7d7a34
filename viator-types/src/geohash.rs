//! Geohashes as Redis's geo commands use them (Redis's `geohash.c` and
//! `geohash_helper.c`): a position is a 52-bit integer, 26 bits of
//! latitude and 26 of longitude interleaved, stored as the score of a
//! sorted set member.
//!
//! Everything here is computed in `f64` with the same operations, in the
//! same order, and the same libm functions as Redis, because users see the
//! results to the last digit: GEOPOS prints the decoded coordinates with
//! 17 significant digits, and which members a radius search returns
//! depends on comparisons right at the edge of the search area.
//!
//! Redis's latitude range is the Web Mercator one (±85.05112878), not
//! ±90, so its hashes are not the standard geohash; [`geohash_string`]
//! re-encodes with the standard ranges for GEOHASH.
//!
//! ```
//! use viator_types::geohash::{decode_score, encode_score, distance};
//!
//! let palermo = encode_score(13.361389, 38.115556).unwrap();
//! assert_eq!(palermo, 3479099956230698.0);
//! let (lon, lat) = decode_score(palermo);
//! assert!((lon - 13.361389).abs() < 1e-5 && (lat - 38.115556).abs() < 1e-5);
//! let catania = decode_score(encode_score(15.087269, 37.502669).unwrap());
//! let d = distance(lon, lat, catania.0, catania.1);
//! assert!((d - 166274.1516).abs() < 0.001);
//! ```

/// Bits of precision per coordinate: 26 * 2 = 52 bits, exact in an `f64`
/// score.
pub const STEP_MAX: u8 = 26;
/// The southernmost latitude that can be encoded (EPSG:900913).
pub const LAT_MIN: f64 = -85.05112878;
/// The northernmost latitude that can be encoded.
pub const LAT_MAX: f64 = 85.05112878;
/// The smallest longitude.
pub const LONG_MIN: f64 = -180.0;
/// The largest longitude.
pub const LONG_MAX: f64 = 180.0;
/// Earth's quadratic mean radius for WGS-84, the radius of Redis's
/// haversine distances.
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
/// Half the Mercator world's width in meters: where the step estimation
/// stops doubling.
const MERCATOR_MAX: f64 = 20037726.37;
/// Degrees to radians (`M_PI / 180.0`).
const D_R: f64 = std::f64::consts::PI / 180.0;

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// A geohash of `step` bits per coordinate, latitude bits in the even
/// positions and longitude bits in the odd ones (Redis's `GeoHashBits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashBits {
    /// The interleaved bits.
    pub bits: u64,
    /// Bits per coordinate.
    pub step: u8,
}

impl HashBits {
    /// Whether it is the zero hash that marks a neighbour box left out of a
    /// search (`HASHISZERO`).
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash as a 52-bit score prefix (`geohashAlign52Bits`).
    pub fn align52(&self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }

    /// The scores `min..max` (min included, max excluded) of the members
    /// inside this box (Redis's `scoresOfGeoHashBox`).
    pub fn score_range(&self) -> (u64, u64) {
        let next = HashBits {
            bits: self.bits.wrapping_add(1),
            step: self.step,
        };
        (self.align52(), next.align52())
    }
}

/// A range of one coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Range {
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
}

impl Range {
    fn is_zero(&self) -> bool {
        self.max == 0.0 && self.min == 0.0
    }
}

/// The longitude range Redis encodes.
pub const LONG_RANGE: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
/// The latitude range Redis encodes.
pub const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// The area a hash covers.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Area {
    /// The hash.
    pub hash: HashBits,
    /// Its longitudes.
    pub longitude: Range,
    /// Its latitudes.
    pub latitude: Range,
}

/// Spreads the low 32 bits of `x` to the even positions and those of `y`
/// to the odd ones.
fn interleave64(x: u32, y: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = u64::from(v);
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    }
    spread(x) | (spread(y) << 1)
}

/// The inverse of [`interleave64`]: even bits in the low half of the
/// result, odd bits in the high half.
fn deinterleave64(v: u64) -> u64 {
    fn squash(mut v: u64) -> u64 {
        v &= 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
        (v | (v >> 16)) & 0x0000_0000_FFFF_FFFF
    }
    squash(v) | (squash(v >> 1) << 32)
}

/// Encodes a position with `step` bits per coordinate over the given
/// ranges (Redis's `geohashEncode`). `None` when the position is outside
/// Redis's limits or the ranges, or `step` is not in `1..=32`.
///
/// A coordinate equal to its range's maximum gives an offset of exactly
/// `2^step`, one bit beyond the hash, as in Redis (GEOADD of longitude 180
/// stores a 53-bit score).
pub fn encode(
    long_range: Range,
    lat_range: Range,
    longitude: f64,
    latitude: f64,
    step: u8,
) -> Option<HashBits> {
    if step > 32 || step == 0 || lat_range.is_zero() || long_range.is_zero() {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max
    {
        return None;
    }
    let mut lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
    let scale = (1u64 << step) as f64;
    lat_offset *= scale;
    long_offset *= scale;
    // C converts the offsets (in 0..=2^32) to uint32_t by truncation.
    Some(HashBits {
        bits: interleave64(lat_offset as u32, long_offset as u32),
        step,
    })
}

/// [`encode`] over Redis's ranges.
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    encode(LONG_RANGE, LAT_RANGE, longitude, latitude, step)
}

/// The sorted set score GEOADD stores for a position, or `None` when the
/// position is outside Redis's limits.
pub fn encode_score(longitude: f64, latitude: f64) -> Option<f64> {
    encode_wgs84(longitude, latitude, STEP_MAX).map(|h| h.align52() as f64)
}

/// The area a hash covers (Redis's `geohashDecode`); `None` for the zero
/// hash.
pub fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() || lat_range.is_zero() || long_range.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    // `ilato + 1` is computed in 32 bits in C, and wraps for a score that
    // no GEOADD made.
    Some(Area {
        hash,
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) / div) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) / div) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) / div) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) / div) * long_scale,
        },
    })
}

/// The centre of an area, clamped to Redis's limits
/// (`geohashDecodeAreaToLongLat`).
pub fn area_center(area: &Area) -> (f64, f64) {
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// A sorted set score as the `uint64_t` Redis's `decodeGeohash` casts it
/// to, with x86-64's conversion of out-of-range values: negative scores
/// wrap as their `int64_t` truncation, and values no 64-bit integer holds
/// give `0x8000000000000000` (or 0 above 2^64).
pub fn score_to_bits(score: f64) -> u64 {
    const TWO63: f64 = (1u64 << 63) as f64;
    // cvttsd2si: truncation, or the "integer indefinite" value.
    let cvt = |v: f64| -> u64 {
        if (-TWO63..TWO63).contains(&v) {
            (v as i64) as u64
        } else {
            1u64 << 63
        }
    };
    if score >= TWO63 {
        cvt(score - TWO63) ^ (1u64 << 63)
    } else {
        cvt(score)
    }
}

/// The position a sorted set score stands for (Redis's `decodeGeohash`):
/// the centre of its 26-step box. Any score decodes to something; those
/// that GEOADD did not make decode to arbitrary positions, as in Redis.
pub fn decode_score(score: f64) -> (f64, f64) {
    let hash = HashBits {
        bits: score_to_bits(score),
        step: STEP_MAX,
    };
    match decode(LONG_RANGE, LAT_RANGE, hash) {
        Some(area) => area_center(&area),
        None => (0.0, 0.0),
    }
}

/// The 11-character standard geohash of a score, as GEOHASH prints it:
/// the position is decoded and re-encoded with the standard latitude range
/// ±90; the 11th character, for which there are no bits, is `0`.
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = decode_score(score);
    let std_long = Range {
        min: -180.0,
        max: 180.0,
    };
    let std_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode(std_long, std_lat, lon, lat, 26)
        .map(|h| h.bits)
        .unwrap_or(0);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    out
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let mut x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> shift;
    hash.bits = x | y;
}

/// The eight boxes around a hash, at its step; the world wraps around in
/// both directions (Redis's `geohashNeighbors`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Neighbors {
    /// North.
    pub north: HashBits,
    /// East.
    pub east: HashBits,
    /// West.
    pub west: HashBits,
    /// South.
    pub south: HashBits,
    /// North-east.
    pub north_east: HashBits,
    /// South-east.
    pub south_east: HashBits,
    /// North-west.
    pub north_west: HashBits,
    /// South-west.
    pub south_west: HashBits,
}

/// The neighbours of a hash (`step` must be in `1..=32`).
pub fn neighbors(hash: HashBits) -> Neighbors {
    let moved = |dx: i8, dy: i8| {
        let mut h = hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    Neighbors {
        east: moved(1, 0),
        west: moved(-1, 0),
        south: moved(0, -1),
        north: moved(0, 1),
        north_west: moved(-1, 1),
        north_east: moved(1, 1),
        south_east: moved(1, -1),
        south_west: moved(-1, -1),
    }
}

/// The step (bits per coordinate) of the boxes a search of `range_meters`
/// around latitude `lat` uses (Redis's `geohashEstimateStepsByRadius`):
/// boxes about as wide as the range, one step coarser towards the poles.
pub fn estimate_steps_by_radius(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    // Terminates: doubling reaches MERCATOR_MAX within ~1100 rounds from
    // the smallest positive double.
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    // `lat` is never NaN: a parsed or decoded coordinate.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// The shape of a search: a circle or an axis-aligned box around a centre
/// (Redis's `GeoShape`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ShapeKind {
    /// BYRADIUS: the radius, in the search's unit.
    Circle {
        /// The radius.
        radius: f64,
    },
    /// BYBOX: full width and height, in the search's unit.
    Rectangle {
        /// East-west extent.
        width: f64,
        /// North-south extent.
        height: f64,
    },
}

/// A search area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Centre longitude.
    pub lon: f64,
    /// Centre latitude.
    pub lat: f64,
    /// Meters per unit of the search (`1` for m, `1000` for km...).
    pub conversion: f64,
    /// Circle or box.
    pub kind: ShapeKind,
}

/// The boxes a search visits: the centre box and its neighbours, those
/// that cannot hold a match zeroed (Redis's `GeoHashRadius`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchAreas {
    /// The box of the centre.
    pub hash: HashBits,
    /// Its area.
    pub area: Area,
    /// The neighbours; zero hashes for those left out.
    pub neighbors: Neighbors,
}

impl SearchAreas {
    /// The boxes in Redis's visiting order: centre, N, S, E, W, NE, NW, SE,
    /// SW.
    pub fn boxes(&self) -> [HashBits; 9] {
        let n = &self.neighbors;
        [
            self.hash,
            n.north,
            n.south,
            n.east,
            n.west,
            n.north_east,
            n.north_west,
            n.south_east,
            n.south_west,
        ]
    }
}

impl Shape {
    /// The bounding box `[min_lon, min_lat, max_lon, max_lat]` of the
    /// search (Redis's `geohashBoundingBox`): the longitude span is taken
    /// at the edge nearer to the pole, where it is widest.
    pub fn bounding_box(&self) -> [f64; 4] {
        let (h, w) = match self.kind {
            ShapeKind::Circle { radius } => (radius, radius),
            ShapeKind::Rectangle { width, height } => (height / 2.0, width / 2.0),
        };
        let height = self.conversion * h;
        let width = self.conversion * w;
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.lat + lat_delta).cos());
        let long_delta_bottom =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.lat - lat_delta).cos());
        let southern = self.lat < 0.0;
        let delta = if southern {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [
            self.lon - delta,
            self.lat - lat_delta,
            self.lon + delta,
            self.lat + lat_delta,
        ]
    }

    /// The centre box and the neighbours that cover the search (Redis's
    /// `geohashCalculateAreasByShapeWGS84`).
    pub fn search_areas(&self) -> SearchAreas {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let radius_meters = match self.kind {
            ShapeKind::Circle { radius } => radius,
            ShapeKind::Rectangle { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let mut steps = estimate_steps_by_radius(radius_meters, self.lat);
        let at = |steps: u8| {
            let hash = encode_wgs84(self.lon, self.lat, steps).unwrap_or(HashBits {
                bits: 0,
                step: steps,
            });
            let area = decode(LONG_RANGE, LAT_RANGE, hash).unwrap_or_default();
            (hash, neighbors(hash), area)
        };
        let (mut hash, mut nb, mut area) = at(steps);
        // A search near the edge of the centre box may reach past the
        // neighbours at this step: one step coarser then.
        let dec = |h: HashBits| decode(LONG_RANGE, LAT_RANGE, h).unwrap_or_default();
        let (north, south, east, west) = (dec(nb.north), dec(nb.south), dec(nb.east), dec(nb.west));
        let decrease = north.latitude.max < max_lat
            || south.latitude.min > min_lat
            || east.longitude.max < max_lon
            || west.longitude.min > min_lon;
        if steps > 1 && decrease {
            steps -= 1;
            (hash, nb, area) = at(steps);
        }
        // Leave out the neighbours the search cannot reach.
        if steps >= 2 {
            let zero = HashBits::default();
            if area.latitude.min < min_lat {
                nb.south = zero;
                nb.south_west = zero;
                nb.south_east = zero;
            }
            if area.latitude.max > max_lat {
                nb.north = zero;
                nb.north_east = zero;
                nb.north_west = zero;
            }
            if area.longitude.min < min_lon {
                nb.west = zero;
                nb.south_west = zero;
                nb.north_west = zero;
            }
            if area.longitude.max > max_lon {
                nb.east = zero;
                nb.south_east = zero;
                nb.north_east = zero;
            }
        }
        SearchAreas {
            hash,
            area,
            neighbors: nb,
        }
    }

    /// The distance in meters from the centre to a point, if the point is
    /// inside the shape (Redis's `geoWithinShape` after decoding).
    ///
    /// A box contains the points whose north-south distance from the
    /// centre is at most half its height and whose east-west distance,
    /// measured along the point's own parallel, is at most half its width.
    pub fn distance_if_within(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.kind {
            ShapeKind::Circle { radius } => {
                let d = distance(self.lon, self.lat, lon, lat);
                if d > radius * self.conversion {
                    None
                } else {
                    Some(d)
                }
            }
            ShapeKind::Rectangle { width, height } => {
                let width_m = width * self.conversion;
                let height_m = height * self.conversion;
                if lat_distance(lat, self.lat) > height_m / 2.0 {
                    return None;
                }
                if distance(lon, lat, self.lon, lat) > width_m / 2.0 {
                    return None;
                }
                Some(distance(self.lon, self.lat, lon, lat))
            }
        }
    }
}

/// The distance in meters between two latitudes on a meridian.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// The haversine great-circle distance in meters between two positions
/// (Redis's `geohashGetDistance`), on a sphere of
/// [`EARTH_RADIUS_IN_METERS`].
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// A distance with four decimals, as Redis replies distances
/// (`fixedpoint_d2string`): the value times 10^4 rounded to the nearest
/// integer (ties to even, C's `llrint`), then printed with the point.
/// Writes into `buf` and returns the length.
pub fn format_distance(d: f64, buf: &mut [u8; 32]) -> usize {
    if d == 0.0 {
        buf[..6].copy_from_slice(b"0.0000");
        return 6;
    }
    let scaled = (d * 10000.0).round_ties_even();
    // llrint of a value no long long holds gives LLONG_MIN on x86-64.
    const TWO63: f64 = (1u64 << 63) as f64;
    let svalue: i64 = if (-TWO63..TWO63).contains(&scaled) {
        scaled as i64
    } else {
        i64::MIN
    };
    let mut n = 0;
    if svalue < 0 {
        buf[0] = b'-';
        n = 1;
    }
    let value = svalue.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut v = value;
    loop {
        digits[len] = b'0' + (v % 10) as u8;
        v /= 10;
        len += 1;
        if v == 0 {
            break;
        }
    }
    // Pad to at least five digits: one integer digit and four decimals.
    while len < 5 {
        digits[len] = b'0';
        len += 1;
    }
    for i in (4..len).rev() {
        buf[n] = digits[i];
        n += 1;
    }
    buf[n] = b'.';
    n += 1;
    for i in (0..4).rev() {
        buf[n] = digits[i];
        n += 1;
    }
    n
}

/// Redis's partial quicksort (`pqsort`, Bentley and McIlroy's quicksort
/// that skips the partitions outside `lrange..=rrange`): afterwards the
/// elements at positions `lrange..=rrange` are the ones a full sort would
/// put there, in order. The order of equal elements, and which of several
/// equal elements straddling `rrange` are kept, is Redis's, which a
/// different algorithm would not reproduce.
pub fn pqsort<T>(
    a: &mut [T],
    cmp: &mut impl FnMut(&T, &T) -> std::cmp::Ordering,
    lrange: usize,
    rrange: usize,
) {
    pqsort_at(a, 0, cmp, lrange, rrange);
}

fn med3<T>(
    a: &[T],
    x: usize,
    y: usize,
    z: usize,
    cmp: &mut impl FnMut(&T, &T) -> std::cmp::Ordering,
) -> usize {
    use std::cmp::Ordering::{Greater, Less};
    if cmp(&a[x], &a[y]) == Less {
        if cmp(&a[y], &a[z]) == Less {
            y
        } else if cmp(&a[x], &a[z]) == Less {
            z
        } else {
            x
        }
    } else if cmp(&a[y], &a[z]) == Greater {
        y
    } else if cmp(&a[x], &a[z]) == Less {
        x
    } else {
        z
    }
}

/// `_pqsort` on `whole[base..base + n]` (indices relative to `whole`, so
/// that the range test uses absolute positions as Redis's pointers do).
fn pqsort_at<T>(
    whole: &mut [T],
    mut base: usize,
    cmp: &mut impl FnMut(&T, &T) -> std::cmp::Ordering,
    lrange: usize,
    rrange: usize,
) {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let mut n = whole.len() - base;
    let mut end = whole.len();
    loop {
        let a = &mut whole[base..end];
        debug_assert_eq!(a.len(), n);
        if n < 7 {
            for pm in 1..n {
                let mut pl = pm;
                while pl > 0 && cmp(&a[pl - 1], &a[pl]) == Greater {
                    a.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = n / 2;
        if n > 7 {
            let mut pl = 0;
            let mut pn = n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(a, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(a, pm - d, pm, pm + d, cmp);
                pn = med3(a, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(a, pl, pm, pn, cmp);
        }
        a.swap(0, pm);
        let (mut pa, mut pb) = (1usize, 1usize);
        // pc and pd may pass below pb (to pb - 1); kept as isize.
        let (mut pc, mut pd) = (n as isize - 1, n as isize - 1);
        loop {
            while pb as isize <= pc {
                let r = cmp(&a[pb], &a[0]);
                if r == Greater {
                    break;
                }
                if r == Equal {
                    a.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb as isize <= pc {
                let r = cmp(&a[pc as usize], &a[0]);
                if r == Less {
                    break;
                }
                if r == Equal {
                    a.swap(pc as usize, pd as usize);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb as isize > pc {
                break;
            }
            a.swap(pb, pc as usize);
            pb += 1;
            pc -= 1;
        }
        let pn = n;
        let r = pa.min(pb - pa);
        vecswap(a, 0, pb - r, r);
        let r = ((pd - pc) as usize).min(pn - pd as usize - 1);
        vecswap(a, pb, pn - r, r);
        let left = pb - pa;
        if left > 1 {
            // Recurse unless [base, base + left) and [lrange, rrange] are
            // disjoint.
            let (l, r) = (base, base + left - 1);
            if !(rrange < l || lrange > r) {
                pqsort_at(&mut whole[..base + left], base, cmp, lrange, rrange);
            }
        }
        let right = (pd - pc) as usize;
        if right > 1 {
            let nb = base + pn - right;
            let (l, r) = (nb, nb + right - 1);
            if !(rrange < l || lrange > r) {
                base = nb;
                n = right;
                end = nb + right;
                continue;
            }
        }
        return;
    }
}

/// glibc's `qsort` as Redis gets it: a top-down merge sort (`msort`),
/// stable, whose result follows from `cmp` alone, even one that is not a
/// total order (a NaN distance), where `slice::sort_by` may panic.
pub fn msort<T: Clone>(a: &mut [T], cmp: &mut impl FnMut(&T, &T) -> std::cmp::Ordering) {
    let mut tmp = Vec::with_capacity(a.len());
    msort_with_tmp(a, &mut tmp, cmp);
}

fn msort_with_tmp<T: Clone>(
    b: &mut [T],
    tmp: &mut Vec<T>,
    cmp: &mut impl FnMut(&T, &T) -> std::cmp::Ordering,
) {
    let n = b.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    msort_with_tmp(&mut b[..n1], tmp, cmp);
    msort_with_tmp(&mut b[n1..], tmp, cmp);
    tmp.clear();
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&b[i], &b[j]) != std::cmp::Ordering::Greater {
            tmp.push(b[i].clone());
            i += 1;
        } else {
            tmp.push(b[j].clone());
            j += 1;
        }
    }
    tmp.extend_from_slice(&b[i..n1]);
    // What is left of the second half is already in place.
    let done = tmp.len();
    b[..done].clone_from_slice(tmp);
}

fn vecswap<T>(a: &mut [T], i: usize, j: usize, n: usize) {
    for k in 0..n {
        a.swap(i + k, j + k);
    }
}

#[cfg(test)]
mod tests;
