//! Geospatial commands (Redis's `geo.c`, `geohash.c`, `geohash_helper.c`):
//! GEOADD, GEOPOS, GEODIST, GEOHASH, and the searches GEORADIUS,
//! GEORADIUSBYMEMBER (and their `_RO` forms), GEOSEARCH, GEOSEARCHSTORE.
//!
//! Places live in sorted sets: a member's score is its 52-bit geohash
//! (latitude and longitude, 26 bits each, interleaved), computed with
//! Redis's arithmetic so ZSCORE gives the same number. A search turns the
//! shape into the geohash box around its centre and its eight neighbours,
//! reads each box as a score range, keeps the members inside the shape by
//! Redis's haversine distance, and orders them as Redis does (a stable sort,
//! or Redis's partial quicksort when COUNT keeps fewer than were found, so
//! members at equal distances come out in the same order).

use std::cmp::Ordering;

use crate::channels::notify;
use crate::error::{self, CommandError, CommandResult};
use crate::num::ldouble::LongDouble;
use crate::resp::ReplyWriter;
use crate::store::types::zset::ZSet;

use super::Ctx;
use super::args;
use super::table::{BeginSearch, Command, FindKeys, KeySpecInfo, flags::*};
use super::typed::{as_type, store_result};

/// Bits of each coordinate in a score.
const STEP_MAX: u8 = 26;
/// Degrees to radians, as Redis computes it (`M_PI / 180.0`).
const D_R: f64 = std::f64::consts::PI / 180.0;
/// The Earth's quadratic mean radius (WGS-84), Redis's constant.
const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;

/// A range of one coordinate.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Range {
    min: f64,
    max: f64,
}

/// The coordinates a place may have (EPSG:900913: no poles).
const LONG_RANGE: Range = Range {
    min: -180.0,
    max: 180.0,
};
const LAT_RANGE: Range = Range {
    min: -85.05112878,
    max: 85.05112878,
};

/// Whether a place lies within [`LONG_RANGE`] and [`LAT_RANGE`].
fn in_range(longitude: f64, latitude: f64) -> bool {
    (LONG_RANGE.min..=LONG_RANGE.max).contains(&longitude)
        && (LAT_RANGE.min..=LAT_RANGE.max).contains(&latitude)
}

/// A geohash of `step` bits per coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Hash {
    bits: u64,
    step: u8,
}

impl Hash {
    /// Redis's `HASHISZERO`: a neighbour ruled out of a search.
    fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash as a 52-bit score prefix.
    fn align52(self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

/// The box a hash stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Area {
    longitude: Range,
    latitude: Range,
}

/// Spreads the low 32 bits of `v` to the even bits.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bits of `v` into the low 32.
fn squash(v: u64) -> u32 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x >> 4)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x >> 8)) & 0x0000_ffff_0000_ffff;
    (x | (x >> 16)) as u32
}

/// Redis's `geohashEncode`: `None` outside the ranges (and the WGS-84
/// limits).
fn encode(long_range: Range, lat_range: Range, longitude: f64, latitude: f64, step: u8) -> Option<Hash> {
    if !in_range(longitude, latitude) {
        return None;
    }
    if latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max
    {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let long_offset = (longitude - long_range.min) / (long_range.max - long_range.min) * scale;
    Some(Hash {
        bits: spread(lat_offset as u32) | (spread(long_offset as u32) << 1),
        step,
    })
}

/// Redis's `geohashDecode` in the WGS-84 ranges.
fn decode(hash: Hash) -> Area {
    let scale = (1u64 << hash.step) as f64;
    let ilato = squash(hash.bits);
    let ilono = squash(hash.bits >> 1);
    let lat_scale = LAT_RANGE.max - LAT_RANGE.min;
    let long_scale = LONG_RANGE.max - LONG_RANGE.min;
    // C adds 1 in unsigned 32-bit arithmetic.
    Area {
        latitude: Range {
            min: LAT_RANGE.min + (f64::from(ilato) / scale) * lat_scale,
            max: LAT_RANGE.min + (f64::from(ilato.wrapping_add(1)) / scale) * lat_scale,
        },
        longitude: Range {
            min: LONG_RANGE.min + (f64::from(ilono) / scale) * long_scale,
            max: LONG_RANGE.min + (f64::from(ilono.wrapping_add(1)) / scale) * long_scale,
        },
    }
}

/// A score as C converts a double to `uint64_t` on x86-64: truncation for
/// values below 2^63 (negative ones wrap), the top half through a
/// subtraction, and 0 or 2^63 for what does not fit.
fn score_bits(score: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if score < TWO_63 {
        if score >= -TWO_63 {
            score as i64 as u64
        } else {
            1 << 63
        }
    } else if score - TWO_63 < TWO_63 {
        (score - TWO_63) as i64 as u64 ^ (1 << 63)
    } else {
        0
    }
}

/// Redis's `decodeGeohash`: a score's longitude and latitude, the centre
/// of its box clamped to the valid ranges.
fn decode_score(score: f64) -> (f64, f64) {
    let area = decode(Hash {
        bits: score_bits(score),
        step: STEP_MAX,
    });
    let longitude = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_RANGE.min, LONG_RANGE.max);
    let latitude = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_RANGE.min, LAT_RANGE.max);
    (longitude, latitude)
}

/// The score GEOADD gives a place.
pub fn score_of(longitude: f64, latitude: f64) -> Option<u64> {
    encode(LONG_RANGE, LAT_RANGE, longitude, latitude, STEP_MAX).map(Hash::align52)
}

/// Redis's `geohash_move_x` / `geohash_move_y`: steps the coordinate
/// whose bits `moving` masks (odd bits: longitude, even bits: latitude) by
/// one box in direction `d`, wrapping around, leaving the other alone.
fn move_part(hash: &mut Hash, d: i8, moving: u64) {
    if d == 0 {
        return;
    }
    let other = !moving;
    let shift = 64 - u32::from(hash.step) * 2;
    let mut part = hash.bits & moving;
    let kept = hash.bits & other;
    // Setting the other coordinate's bits makes a carry or borrow run
    // through them to the next bit of this one.
    let zz = other >> shift;
    if d > 0 {
        part = part.wrapping_add(zz + 1);
    } else {
        part |= zz;
        part = part.wrapping_sub(zz + 1);
    }
    part &= moving >> shift;
    hash.bits = part | kept;
}

const LONG_BITS: u64 = 0xaaaa_aaaa_aaaa_aaaa;
const LAT_BITS: u64 = 0x5555_5555_5555_5555;

/// A neighbour of `hash`, `dx` boxes east and `dy` north.
fn neighbour(hash: Hash, dx: i8, dy: i8) -> Hash {
    let mut n = hash;
    move_part(&mut n, dx, LONG_BITS);
    move_part(&mut n, dy, LAT_BITS);
    n
}

/// What a search covers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// BYRADIUS (GEORADIUS): a circle of this radius, in the unit.
    Circle { radius: f64 },
    /// BYBOX: a box this wide and high, in the unit.
    Box { width: f64, height: f64 },
}

/// A search: its centre, shape and unit (meters per unit).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Search {
    longitude: f64,
    latitude: f64,
    shape: Shape,
    conversion: f64,
}

fn deg_rad(angle: f64) -> f64 {
    angle * D_R
}

fn rad_deg(angle: f64) -> f64 {
    angle / D_R
}

/// Redis's `geohashGetLatDistance`.
fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// Redis's haversine distance in meters (`geohashGetDistance`).
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

/// Redis's `geohashEstimateStepsByRadius`.
fn estimate_steps(mut range_meters: f64, latitude: f64) -> u8 {
    const MERCATOR_MAX: f64 = 20037726.37;
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&latitude) {
        step -= 1;
        if !(-80.0..=80.0).contains(&latitude) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

impl Search {
    /// Redis's `geohashBoundingBox`: (min lon, min lat, max lon, max lat).
    fn bounds(&self) -> [f64; 4] {
        let (half_height, half_width) = match self.shape {
            Shape::Circle { radius } => (radius, radius),
            Shape::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let height = self.conversion * half_height;
        let width = self.conversion * half_width;
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.latitude + lat_delta).cos());
        let long_delta_bottom =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.latitude - lat_delta).cos());
        let delta = if self.latitude < 0.0 {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [
            self.longitude - delta,
            self.latitude - lat_delta,
            self.longitude + delta,
            self.latitude + lat_delta,
        ]
    }

    /// Redis's `geohashCalculateAreasByShapeWGS84`: the centre box and its
    /// neighbours in the order they are searched (centre, N, S, E, W, NE,
    /// NW, SE, SW), those that cannot hold a match zeroed.
    fn boxes(&self) -> [Hash; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounds();
        let radius_meters = match self.shape {
            Shape::Circle { radius } => radius,
            Shape::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let mut steps = estimate_steps(radius_meters, self.latitude);
        let centre = |steps| {
            encode(LONG_RANGE, LAT_RANGE, self.longitude, self.latitude, steps).unwrap_or(Hash {
                bits: 0,
                step: steps,
            })
        };
        let mut hash = centre(steps);
        let decrease = {
            let north = decode(neighbour(hash, 0, 1));
            let south = decode(neighbour(hash, 0, -1));
            let east = decode(neighbour(hash, 1, 0));
            let west = decode(neighbour(hash, -1, 0));
            north.latitude.max < max_lat
                || south.latitude.min > min_lat
                || east.longitude.max < max_lon
                || west.longitude.min > min_lon
        };
        if steps > 1 && decrease {
            steps -= 1;
            hash = centre(steps);
        }
        let area = decode(hash);
        let mut boxes = [
            hash,
            neighbour(hash, 0, 1),
            neighbour(hash, 0, -1),
            neighbour(hash, 1, 0),
            neighbour(hash, -1, 0),
            neighbour(hash, 1, 1),
            neighbour(hash, -1, 1),
            neighbour(hash, 1, -1),
            neighbour(hash, -1, -1),
        ];
        if steps >= 2 {
            let zero = |boxes: &mut [Hash; 9], which: [usize; 3]| {
                for i in which {
                    boxes[i] = Hash::default();
                }
            };
            if area.latitude.min < min_lat {
                zero(&mut boxes, [2, 8, 7]);
            }
            if area.latitude.max > max_lat {
                zero(&mut boxes, [1, 5, 6]);
            }
            if area.longitude.min < min_lon {
                zero(&mut boxes, [4, 8, 6]);
            }
            if area.longitude.max > max_lon {
                zero(&mut boxes, [3, 7, 5]);
            }
        }
        boxes
    }

    /// Redis's `geoWithinShape`: the distance from the centre (meters) of
    /// a place inside the shape.
    fn contains(&self, longitude: f64, latitude: f64) -> Option<f64> {
        match self.shape {
            Shape::Circle { radius } => {
                let d = distance(self.longitude, self.latitude, longitude, latitude);
                (d <= radius * self.conversion).then_some(d)
            }
            Shape::Box { width, height } => {
                if lat_distance(self.latitude, latitude) > height * self.conversion / 2.0 {
                    return None;
                }
                if distance(longitude, self.latitude, self.longitude, self.latitude)
                    > width * self.conversion / 2.0
                {
                    return None;
                }
                Some(distance(self.longitude, self.latitude, longitude, latitude))
            }
        }
    }
}

/// A place a search found.
#[derive(Debug, Clone)]
struct Found {
    longitude: f64,
    latitude: f64,
    dist: f64,
    score: f64,
    member: Vec<u8>,
}

/// Redis's `membersOfAllNeighbors`: the places in the search's boxes, box
/// by box in score order, stopping at `limit` (COUNT ... ANY) if not 0.
fn members_in_boxes(zset: &ZSet, search: &Search, limit: usize) -> Vec<Found> {
    let boxes = search.boxes();
    let mut found = Vec::new();
    let mut last: Option<usize> = None;
    for (i, &hash) in boxes.iter().enumerate() {
        if hash.is_zero() {
            continue;
        }
        // Huge radii make neighbours repeat: a box equal to the last one
        // searched is skipped (the centre is never compared).
        if last.is_some_and(|l| l != 0 && boxes[l] == hash) {
            continue;
        }
        if !found.is_empty() && limit != 0 && found.len() >= limit {
            break;
        }
        let min = hash.align52() as f64;
        let max = Hash {
            bits: hash.bits + 1,
            step: hash.step,
        }
        .align52() as f64;
        let start = zset.count_while(|score, _| score < min);
        for (member, score) in zset.iter_from(start, false) {
            if score >= max {
                break;
            }
            let (longitude, latitude) = decode_score(score);
            if let Some(dist) = search.contains(longitude, latitude) {
                found.push(Found {
                    longitude,
                    latitude,
                    dist,
                    score,
                    member: member.to_vec(),
                });
            }
            if limit != 0 && found.len() >= limit {
                break;
            }
        }
        last = Some(i);
    }
    found
}

/// The members of `zset` within `radius` meters of a place, nearest first,
/// with their distances: GEOSEARCH ... FROMLONLAT ... BYRADIUS ... m ASC
/// (COUNT `count` when not 0), as the command finds and orders them.
pub fn radius_search(
    zset: &ZSet,
    longitude: f64,
    latitude: f64,
    radius: f64,
    count: usize,
) -> Vec<(Vec<u8>, f64)> {
    let search = Search {
        longitude,
        latitude,
        shape: Shape::Circle { radius },
        conversion: 1.0,
    };
    let mut found = members_in_boxes(zset, &search, 0);
    let by_distance = |a: &Found, b: &Found| a.dist.total_cmp(&b.dist);
    if count == 0 || count >= found.len() {
        found.sort_by(by_distance);
    } else {
        pqsort(&mut found, &by_distance, 0, count - 1);
        found.truncate(count);
    }
    found.into_iter().map(|f| (f.member, f.dist)).collect()
}

/// Redis's `pqsort` (Bentley and McIlroy's quicksort that only recurses
/// into parts overlapping `lrange..=rrange`): with COUNT, the order of
/// members at equal distances is this algorithm's, so it is followed step
/// by step, on indexes instead of byte pointers.
fn pqsort<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering, lrange: usize, rrange: usize) {
    pqsort_at(v, 0, v.len(), cmp, lrange, rrange);
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    use Ordering::*;
    if cmp(&v[a], &v[b]) == Less {
        if cmp(&v[b], &v[c]) == Less {
            b
        } else if cmp(&v[a], &v[c]) == Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Greater {
        b
    } else if cmp(&v[a], &v[c]) == Less {
        a
    } else {
        c
    }
}

/// Swaps the `n` elements at `a` with those at `b`.
fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

fn pqsort_at<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    cmp: &impl Fn(&T, &T) -> Ordering,
    lrange: usize,
    rrange: usize,
) {
    use Ordering::*;
    loop {
        if n < 7 {
            for m in a + 1..a + n {
                let mut l = m;
                while l > a && cmp(&v[l - 1], &v[l]) == Greater {
                    v.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        // `pc` and `pd` may step below `a` (to a - 1) in C: kept as i64.
        let (mut pc, mut pd) = ((a + n - 1) as i64, (a + n - 1) as i64);
        loop {
            while pb as i64 <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r == Greater {
                    break;
                }
                if r == Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb as i64 <= pc {
                let r = cmp(&v[pc as usize], &v[a]);
                if r == Less {
                    break;
                }
                if r == Equal {
                    v.swap(pc as usize, pd as usize);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb as i64 > pc {
                break;
            }
            v.swap(pb, pc as usize);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = ((pd - pc) as usize).min(pn - pd as usize - 1);
        vecswap(v, pb, pn - r, r);
        // Only the parts that overlap the wanted ranks are sorted further.
        let wanted = |start: usize, len: usize| {
            let end = start + len;
            !((lrange < start && rrange < start) || (lrange >= end && rrange >= end))
        };
        let left = pb - pa;
        if left > 1 && wanted(a, left) {
            pqsort_at(v, a, left, cmp, lrange, rrange);
        }
        let right = (pd - pc) as usize;
        if right > 1 {
            a = pn - right;
            n = right;
            if wanted(a, n) {
                continue;
            }
        }
        return;
    }
}

// ---- Argument parsing ----------------------------------------------------------

/// The bytes C's `strcasecmp` compares: up to the first NUL.
fn is_word(arg: &[u8], word: &str) -> bool {
    args::is_option(arg, word)
}

/// Redis's `extractUnitOrReply`: meters per unit.
fn unit(arg: &[u8]) -> CommandResult<f64> {
    [("m", 1.0), ("km", 1000.0), ("ft", 0.3048), ("mi", 1609.34)]
        .into_iter()
        .find(|(name, _)| is_word(arg, name))
        .map(|(_, meters)| meters)
        .ok_or(CommandError::canned(
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        ))
}

/// A double with a custom error (`getDoubleFromObjectOrReply`'s message).
fn float_or(arg: &[u8], message: &'static str) -> CommandResult<f64> {
    crate::num::parse_f64(arg).ok_or(CommandError::canned(message))
}

/// Redis's `extractLongLatOrReply`.
fn lon_lat(lon: &[u8], lat: &[u8]) -> CommandResult<(f64, f64)> {
    let longitude = args::float(lon)?;
    let latitude = args::float(lat)?;
    if !in_range(longitude, latitude) {
        return Err(CommandError::err(format_args!(
            "invalid longitude,latitude pair {longitude:.6},{latitude:.6}"
        )));
    }
    Ok((longitude, latitude))
}

/// Redis's `extractDistanceOrReply`: (radius, meters per unit).
fn radius_and_unit(radius: &[u8], unit_arg: &[u8]) -> CommandResult<(f64, f64)> {
    let radius = float_or(radius, "ERR need numeric radius")?;
    if radius < 0.0 {
        return Err(CommandError::canned("ERR radius cannot be negative"));
    }
    Ok((radius, unit(unit_arg)?))
}

/// A member's place in `zset` (Redis's `longLatFromMember`).
fn member_place(zset: &ZSet, member: &[u8]) -> CommandResult<(f64, f64)> {
    zset.score(member)
        .map(decode_score)
        .ok_or(CommandError::canned(
            "ERR could not decode requested zset member",
        ))
}

/// Which command runs the search (Redis's flags to `georadiusGeneric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// GEORADIUS and GEORADIUS_RO (`store`: STORE options accepted).
    Radius { store: bool },
    /// GEORADIUSBYMEMBER and its `_RO` form.
    ByMember { store: bool },
    /// GEOSEARCH.
    Search,
    /// GEOSEARCHSTORE.
    SearchStore,
}

impl Variant {
    fn is_search(self) -> bool {
        matches!(self, Variant::Search | Variant::SearchStore)
    }

    fn accepts_store(self) -> bool {
        matches!(
            self,
            Variant::Radius { store: true } | Variant::ByMember { store: true }
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// Redis's `georadiusGeneric` for every search command.
fn search_generic(ctx: &mut Ctx, args: &[Vec<u8>], variant: Variant) -> CommandResult {
    let src_index = if variant == Variant::SearchStore { 2 } else { 1 };
    let mut db = ctx.db();
    let zset = as_type::<ZSet>(db.lookup_read(&args[src_index]))?;
    let zset: Option<&ZSet> = zset.map(|z| &*z);
    let mut store_key: Option<usize> = None;
    let mut storedist = false;
    let (mut longitude, mut latitude) = (0.0, 0.0);
    let mut shape = None;
    let mut conversion = 0.0;
    let base = match variant {
        Variant::Radius { .. } => {
            (longitude, latitude) = lon_lat(&args[2], &args[3])?;
            let (radius, meters) = radius_and_unit(&args[4], &args[5])?;
            shape = Some(Shape::Circle { radius });
            conversion = meters;
            6
        }
        Variant::ByMember { .. } => {
            // Without the key, the member and radius go unchecked.
            if let Some(z) = zset {
                (longitude, latitude) = member_place(z, &args[2])?;
                let (radius, meters) = radius_and_unit(&args[3], &args[4])?;
                shape = Some(Shape::Circle { radius });
                conversion = meters;
            }
            5
        }
        Variant::Search => 2,
        Variant::SearchStore => {
            store_key = Some(1);
            3
        }
    };
    let (mut withdist, mut withhash, mut withcoord) = (false, false, false);
    let (mut frommember, mut fromloc) = (false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let search = variant.is_search();
    let mut i = base;
    while i < args.len() {
        let arg = &args[i];
        let left = args.len() - i - 1;
        // BYRADIUS and BYBOX exclude each other.
        let by_radius = matches!(shape, Some(Shape::Circle { .. }));
        let by_box = matches!(shape, Some(Shape::Box { .. }));
        if is_word(arg, "withdist") {
            withdist = true;
        } else if is_word(arg, "withhash") {
            withhash = true;
        } else if is_word(arg, "withcoord") {
            withcoord = true;
        } else if is_word(arg, "any") {
            any = true;
        } else if is_word(arg, "asc") {
            sort = Sort::Asc;
        } else if is_word(arg, "desc") {
            sort = Sort::Desc;
        } else if is_word(arg, "count") && left >= 1 {
            count = args::int(&args[i + 1])?;
            if count <= 0 {
                return Err(CommandError::canned("ERR COUNT must be > 0"));
            }
            i += 1;
        } else if (is_word(arg, "store") || is_word(arg, "storedist"))
            && left >= 1
            && variant.accepts_store()
        {
            store_key = Some(i + 1);
            storedist = is_word(arg, "storedist");
            i += 1;
        } else if is_word(arg, "storedist") && variant == Variant::SearchStore {
            storedist = true;
        } else if is_word(arg, "frommember") && left >= 1 && search && !fromloc {
            if let Some(z) = zset {
                (longitude, latitude) = member_place(z, &args[i + 1])?;
            }
            frommember = true;
            i += 1;
        } else if is_word(arg, "fromlonlat") && left >= 2 && search && !frommember {
            (longitude, latitude) = lon_lat(&args[i + 1], &args[i + 2])?;
            fromloc = true;
            i += 2;
        } else if is_word(arg, "byradius") && left >= 2 && search && !by_box {
            let (radius, meters) = radius_and_unit(&args[i + 1], &args[i + 2])?;
            shape = Some(Shape::Circle { radius });
            conversion = meters;
            i += 2;
        } else if is_word(arg, "bybox") && left >= 3 && search && !by_radius {
            let width = float_or(&args[i + 1], "ERR need numeric width")?;
            let height = float_or(&args[i + 2], "ERR need numeric height")?;
            if height < 0.0 || width < 0.0 {
                return Err(CommandError::canned(
                    "ERR height or width cannot be negative",
                ));
            }
            conversion = unit(&args[i + 3])?;
            shape = Some(Shape::Box { width, height });
            i += 3;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    if store_key.is_some() && (withdist || withhash || withcoord) {
        let who = if variant == Variant::SearchStore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(CommandError::err(format_args!(
            "{who} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    if search && !(frommember || fromloc) {
        return Err(named_error(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ",
            &args[0],
        ));
    }
    if search && shape.is_none() {
        return Err(named_error(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for ",
            &args[0],
        ));
    }
    if any && count == 0 {
        return Err(CommandError::canned(
            "ERR the ANY argument requires COUNT argument",
        ));
    }
    let (Some(zset), Some(shape)) = (zset, shape) else {
        return match store_key {
            Some(dst) => store_result(ctx, &args[dst], ZSet::new_skiplist(), 0, notify::ZSET, ""),
            None => {
                ctx.out.array(0);
                Ok(())
            }
        };
    };
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let search = Search {
        longitude,
        latitude,
        shape,
        conversion,
    };
    let limit = if any { count as usize } else { 0 };
    let mut found = members_in_boxes(zset, &search, limit);
    if found.is_empty() && store_key.is_none() {
        ctx.out.array(0);
        return Ok(());
    }
    let returned = if count == 0 {
        found.len()
    } else {
        found.len().min(count as usize)
    };
    let by_distance = |a: &Found, b: &Found| a.dist.partial_cmp(&b.dist).unwrap_or(Ordering::Equal);
    match sort {
        Sort::None => {}
        // glibc's qsort is a merge sort: stable, as `sort_by` is.
        Sort::Asc if returned == found.len() => found.sort_by(by_distance),
        Sort::Desc if returned == found.len() => found.sort_by(|a, b| by_distance(b, a)),
        Sort::Asc => pqsort(&mut found, &by_distance, 0, returned - 1),
        Sort::Desc => pqsort(&mut found, &|a, b| by_distance(b, a), 0, returned - 1),
    }
    found.truncate(returned);
    for place in &mut found {
        place.dist /= conversion;
    }
    match store_key {
        None => {
            reply_found(ctx.out, &found, withdist, withhash, withcoord);
            Ok(())
        }
        Some(dst) => {
            let limits = ctx.state.config().zset_limits();
            let mut result = ZSet::new_skiplist();
            for place in &found {
                let score = if storedist { place.dist } else { place.score };
                result.add(&place.member, score, Default::default(), limits);
            }
            result.shrink_if_small(limits);
            let event = if variant.is_search() {
                "geosearchstore"
            } else {
                "georadiusstore"
            };
            // Redis counts one change per member stored.
            ctx.dirty += returned.saturating_sub(1) as u64;
            store_result(ctx, &args[dst], result, returned, notify::ZSET, event)
        }
    }
}

/// `<text><argv[0] as typed>`, as C's `%s` prints it.
fn named_error(text: &str, name: &[u8]) -> CommandError {
    let mut bytes = text.as_bytes().to_vec();
    bytes.extend_from_slice(error::c_str_prefix(name, usize::MAX));
    CommandError::from_bytes(bytes)
}

/// Redis's `addReplyDoubleDistance`: four decimals (`fixedpoint_d2string`:
/// the value times 10^4, rounded half to even).
fn format_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".into();
    }
    let scaled = (d * 10_000.0).round_ties_even() as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let value = scaled.unsigned_abs();
    format!("{sign}{}.{:04}", value / 10_000, value % 10_000)
}

/// A coordinate as Redis's `addReplyHumanLongDouble` writes it.
fn reply_coordinate(out: &mut ReplyWriter, value: f64) {
    out.double_text(&LongDouble::from_f64(value).format_human());
}

fn reply_found(out: &mut ReplyWriter, found: &[Found], withdist: bool, withhash: bool, withcoord: bool) {
    let options = usize::from(withdist) + usize::from(withhash) + usize::from(withcoord);
    out.array(found.len());
    for place in found {
        if options > 0 {
            out.array(options + 1);
        }
        out.bulk(&place.member);
        if withdist {
            out.bulk(format_distance(place.dist).as_bytes());
        }
        if withhash {
            out.int(place.score as i64);
        }
        if withcoord {
            out.array(2);
            reply_coordinate(out, place.longitude);
            reply_coordinate(out, place.latitude);
        }
    }
}

// ---- Commands ------------------------------------------------------------------

/// `GEOADD key [NX|XX] [CH] longitude latitude member [...]`: ZADD of the
/// members' scores, replied and propagated as that ZADD.
fn geoadd(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut nx, mut xx) = (false, false);
    let mut first = 2;
    while first < args.len() {
        let opt = &args[first];
        if is_word(opt, "nx") {
            nx = true;
        } else if is_word(opt, "xx") {
            xx = true;
        } else if !is_word(opt, "ch") {
            break;
        }
        first += 1;
    }
    let triples = &args[first..];
    if !triples.len().is_multiple_of(3) || (xx && nx) {
        return Err(error::SYNTAX);
    }
    let mut zadd: Vec<Vec<u8>> = Vec::with_capacity(first + triples.len() / 3 * 2);
    zadd.push(b"zadd".to_vec());
    zadd.extend_from_slice(&args[1..first]);
    for triple in triples.chunks(3) {
        let (longitude, latitude) = lon_lat(&triple[0], &triple[1])?;
        let score = score_of(longitude, latitude).unwrap_or_default();
        zadd.push(score.to_string().into_bytes());
        zadd.push(triple[2].clone());
    }
    let dirty = ctx.dirty;
    super::zsets::zadd_command(ctx, &zadd)?;
    if ctx.dirty > dirty {
        ctx.propagate_as(vec![zadd]);
    }
    Ok(())
}

/// The sorted set at `key` for a read, WRONGTYPE for another type.
fn read_zset<'a>(db: &'a mut crate::store::Db, key: &[u8]) -> CommandResult<Option<&'a mut ZSet>> {
    as_type::<ZSet>(db.lookup_read(key))
}

/// GEOPOS and GEOHASH: for each member after the key, `found` with its
/// score, or `missing`.
fn reply_per_member(
    ctx: &mut Ctx,
    args: &[Vec<u8>],
    missing: fn(&mut ReplyWriter),
    found: fn(&mut ReplyWriter, f64),
) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let zset = read_zset(&mut db, &args[1])?;
    out.array(args.len() - 2);
    for member in &args[2..] {
        match zset.as_ref().and_then(|z| z.score(member)) {
            None => missing(out),
            Some(score) => found(out, score),
        }
    }
    Ok(())
}

/// `GEOPOS key [member ...]`
fn geopos(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_per_member(ctx, args, ReplyWriter::null_array, |out, score| {
        let (longitude, latitude) = decode_score(score);
        out.array(2);
        reply_coordinate(out, longitude);
        reply_coordinate(out, latitude);
    })
}

/// `GEODIST key member1 member2 [M|KM|FT|MI]`: the unit is checked before
/// the key.
fn geodist(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let to_meters = match args.len() {
        4 => 1.0,
        5 => unit(&args[4])?,
        _ => return Err(error::SYNTAX),
    };
    let (mut db, out) = ctx.db_and_out();
    let Some(zset) = read_zset(&mut db, &args[1])? else {
        out.null();
        return Ok(());
    };
    match (zset.score(&args[2]), zset.score(&args[3])) {
        (Some(a), Some(b)) => {
            let (lon1, lat1) = decode_score(a);
            let (lon2, lat2) = decode_score(b);
            let d = distance(lon1, lat1, lon2, lat2) / to_meters;
            out.bulk(format_distance(d).as_bytes());
        }
        _ => out.null(),
    }
    Ok(())
}

/// A score as the standard 11-character geohash (latitude in -90..90).
fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (longitude, latitude) = decode_score(score);
    let standard = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode(LONG_RANGE, standard, longitude, latitude, 26)
        .map(|h| h.bits)
        .unwrap_or(0);
    let mut text = [b'0'; 11];
    for (i, c) in text.iter_mut().enumerate().take(10) {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    text
}

/// `GEOHASH key [member ...]`
fn geohash(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_per_member(ctx, args, ReplyWriter::null, |out, score| {
        out.bulk(&geohash_string(score))
    })
}

fn georadius(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    search_generic(ctx, args, Variant::Radius { store: true })
}

fn georadius_ro(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    search_generic(ctx, args, Variant::Radius { store: false })
}

fn georadiusbymember(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    search_generic(ctx, args, Variant::ByMember { store: true })
}

fn georadiusbymember_ro(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    search_generic(ctx, args, Variant::ByMember { store: false })
}

fn geosearch(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    search_generic(ctx, args, Variant::Search)
}

fn geosearchstore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    search_generic(ctx, args, Variant::SearchStore)
}

/// The keys GEORADIUS and GEORADIUSBYMEMBER lock: the source, and every
/// argument from the fifth on that follows a STORE or STOREDIST (a
/// superset of the one the search will write, whatever the options turn
/// out to be).
fn georadius_keys(args: &[Vec<u8>]) -> Vec<usize> {
    let mut keys = vec![1];
    keys.extend(
        (5..args.len().saturating_sub(1))
            .filter(|&i| is_word(&args[i], "store") || is_word(&args[i], "storedist"))
            .map(|i| i + 1),
    );
    keys
}

// ---- Command table -------------------------------------------------------------

/// GEORADIUS's key specs: the source, then a STORE and a STOREDIST
/// destination found by keyword from `from` on.
macro_rules! radius_specs {
    ($from:expr) => {
        &[
            KeySpecInfo::key(&["RO", "access"], 1),
            KeySpecInfo::new(&["OW", "update"], BeginSearch::Keyword("STORE", $from), FindKeys::Range(0, 1, 0)),
            KeySpecInfo::new(&["OW", "update"], BeginSearch::Keyword("STOREDIST", $from), FindKeys::Range(0, 1, 0)),
        ]
    };
}

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("geoadd", -5, geoadd).syntax("key [NX|XX] [CH] (longitude:double latitude:double member) ...").flags(WRITE | DENYOOM).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("geo", "3.2.0", "Add one or more geospatial items in the geospatial index represented using a sorted set", "O(log(N)) for each item added, where N is the number of elements in the sorted set."),
    Command::new("geodist", -4, geodist).syntax("key member1 member2 [(M|KM|FT|MI)]").flags(READONLY).keys(1, 1, 1).doc("geo", "3.2.0", "Returns the distance between two members of a geospatial index", "O(log(N))"),
    Command::new("geohash", -2, geohash).syntax("key member ...").flags(READONLY).keys(1, 1, 1).doc("geo", "3.2.0", "Returns members of a geospatial index as standard geohash strings", "O(log(N)) for each member requested, where N is the number of elements in the sorted set."),
    Command::new("geopos", -2, geopos).syntax("key member ...").flags(READONLY).keys(1, 1, 1).doc("geo", "3.2.0", "Returns longitude and latitude of members of a geospatial index", "O(N) where N is the number of members requested."),
    Command::new("georadius", -6, georadius).syntax("key longitude:double latitude:double radius:double (M|KM|FT|MI) [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count:integer [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]").flags(WRITE | DENYOOM).found_keys(georadius_keys).key_specs(radius_specs!(6)).doc("geo", "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."),
    Command::new("georadius_ro", -6, georadius_ro).syntax("key longitude:double latitude:double radius:double (M|KM|FT|MI) [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count:integer [ANY]] [ASC|DESC]").flags(READONLY).keys(1, 1, 1).doc("geo", "3.2.10", "A read-only variant for GEORADIUS", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."),
    Command::new("georadiusbymember", -5, georadiusbymember).syntax("key member radius:double (M|KM|FT|MI) [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count:integer [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]").flags(WRITE | DENYOOM).found_keys(georadius_keys).key_specs(radius_specs!(5)).doc("geo", "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."),
    Command::new("georadiusbymember_ro", -5, georadiusbymember_ro).syntax("key member radius:double (M|KM|FT|MI) [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count:integer [ANY]] [ASC|DESC]").flags(READONLY).keys(1, 1, 1).doc("geo", "3.2.10", "A read-only variant for GEORADIUSBYMEMBER", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."),
    Command::new("geosearch", -7, geosearch).syntax("key (FROMMEMBER member|FROMLONLAT (longitude:double latitude:double)) ((BYRADIUS radius:double (M|KM|FT|MI))|(BYBOX width:double height:double (M|KM|FT|MI))) [ASC|DESC] [COUNT count:integer [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]").flags(READONLY).keys(1, 1, 1).doc("geo", "6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape"),
    Command::new("geosearchstore", -8, geosearchstore).syntax("destination:key source:key (FROMMEMBER member|FROMLONLAT (longitude:double latitude:double)) ((BYRADIUS radius:double (M|KM|FT|MI))|(BYBOX width:double height:double (M|KM|FT|MI))) [ASC|DESC] [COUNT count:integer [ANY]] [STOREDIST]").flags(WRITE | DENYOOM).keys(1, 2, 1).key_specs(&[KeySpecInfo::key(&["OW", "update"], 1), KeySpecInfo::key(&["RO", "access"], 2)]).doc("geo", "6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_redis() {
        // ZSCORE after GEOADD in Redis 7.0.15.
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(score_of(15.087269, 37.502669), Some(3479447370796909));
        assert_eq!(score_of(-180.0, -85.05112878), Some(0));
        assert_eq!(score_of(180.1, 0.0), None);
    }

    #[test]
    fn decoding_returns_the_box_centre() {
        let (lon, lat) = decode_score(3479099956230698.0);
        assert!((lon - 13.361389).abs() < 1e-5 && (lat - 38.115556).abs() < 1e-5);
        // Scores that are no geohash still decode, clamped.
        let (lon, lat) = decode_score(-1.0);
        assert_eq!((lon, lat), (LONG_RANGE.max, LAT_RANGE.max));
    }

    #[test]
    fn geohash_strings_match_redis() {
        assert_eq!(&geohash_string(3479099956230698.0), b"sqc8b49rny0");
        assert_eq!(&geohash_string(3479447370796909.0), b"sqdtr74hyu0");
    }

    #[test]
    fn distances_match_redis() {
        let (a, b) = (decode_score(3479099956230698.0), decode_score(3479447370796909.0));
        let d = distance(a.0, a.1, b.0, b.1);
        let cases = [
            (d, "166274.1516"),
            (d / 1000.0, "166.2742"),
            (0.0, "0.0000"),
            (0.00005, "0.0000"),
            (1.23456, "1.2346"),
            (0.00015, "0.0001"),
        ];
        for (value, text) in cases {
            assert_eq!(format_distance(value), text, "{value}");
        }
    }

    #[test]
    fn pqsort_orders_the_wanted_ranks() {
        let mut rng = crate::rng::Rng::with_seed(5);
        for len in [1usize, 5, 7, 8, 30, 41, 100, 500] {
            for want in [1usize, 3, 10, len] {
                let want = want.min(len);
                let mut v: Vec<u64> = (0..len).map(|_| rng.below(20)).collect();
                let mut sorted = v.clone();
                sorted.sort();
                pqsort(&mut v, &|a: &u64, b: &u64| a.cmp(b), 0, want - 1);
                assert_eq!(v[..want], sorted[..want], "{len} {want}");
            }
        }
    }

    #[test]
    fn steps_follow_the_radius() {
        assert_eq!(estimate_steps(0.0, 0.0), 26);
        assert_eq!(estimate_steps(1000.0, 0.0), 14);
        assert_eq!(estimate_steps(1000.0, 70.0), 13);
        assert_eq!(estimate_steps(1000.0, -85.0), 12);
        assert_eq!(estimate_steps(f64::INFINITY, 0.0), 1);
    }
}
