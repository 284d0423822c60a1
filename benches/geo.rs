//! GEOSEARCH over a sorted set of 1,000,000 places spread over a country
//! sized area: finding the boxes around the centre, reading their score
//! ranges, filtering by haversine distance and ordering, for a small
//! radius (a few dozen members) and a large one (tens of thousands), and
//! the nearest ten (COUNT: Redis's partial sort).
//!
//! Against Redis, through the server (both started as in `compare.sh`, the
//! same places written to each, e.g. with the `geo` fill of
//! `tests/compat/persistence.rs`):
//!
//! ```text
//! redis-benchmark -p PORT -n 20000 -c 50 GEOSEARCH places FROMLONLAT 13.4 52.5 BYRADIUS 1 km ASC
//! ```

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sedis::internals::commands::geo::{radius_search, score_of};
use sedis::internals::store::types::zset::{AddFlags, ZSet, ZSetLimits};

const PLACES: usize = 1_000_000;

/// A million places in a 10° × 6° rectangle around Berlin, from a fixed
/// pseudo-random sequence.
fn places() -> ZSet {
    let mut rng = sedis::internals::rng::Rng::with_seed(1);
    let mut zset = ZSet::new_skiplist();
    let limits = ZSetLimits::default();
    for i in 0..PLACES {
        let longitude = 8.4 + rng.below(10_000_000) as f64 / 1_000_000.0;
        let latitude = 49.5 + rng.below(6_000_000) as f64 / 1_000_000.0;
        let score = score_of(longitude, latitude).expect("a valid place");
        zset.add(
            format!("place:{i}").as_bytes(),
            score as f64,
            AddFlags::default(),
            limits,
        );
    }
    zset
}

fn geosearch(c: &mut Criterion) {
    let zset = places();
    let mut group = c.benchmark_group("geosearch-1m");
    group.bench_function("radius_1km", |b| {
        b.iter(|| radius_search(black_box(&zset), 13.4, 52.5, 1_000.0, 0).len())
    });
    group.bench_function("radius_20km", |b| {
        b.iter(|| radius_search(black_box(&zset), 13.4, 52.5, 20_000.0, 0).len())
    });
    group.bench_function("nearest_10_within_20km", |b| {
        b.iter(|| radius_search(black_box(&zset), 13.4, 52.5, 20_000.0, 10).len())
    });
    group.finish();
}

criterion_group!(benches, geosearch);
criterion_main!(benches);
