//! Per-command latency histograms (Redis 7's `latency-tracking`): what
//! LATENCY HISTOGRAM and INFO latencystats report.
//!
//! Redis records each call's duration in nanoseconds (its microsecond
//! figure times 1000, clamped to 1 ns ..= 1 s) in an HDR histogram that
//! keeps two significant digits, and reports bucket boundaries as that
//! histogram's arithmetic defines them. sedis keeps the same buckets, so
//! the figures a client reads are the values Redis would print for the same
//! durations: 256 sub-buckets per power of two (the top half of each after
//! the first), 23 powers of two to cover a second, 3072 counters.
//!
//! Counters are atomics, bumped by whichever thread ran the command; a
//! histogram's 24 KiB are allocated by its command's first call, as Redis
//! allocates them, so commands never called cost nothing. CONFIG RESETSTAT
//! zeroes them (Redis frees them; either way the command is not listed
//! again until its next call).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Durations below this are counted as this (ns).
const MIN_VALUE: i64 = 1;
/// Durations above this are counted as this (ns): one second.
const MAX_VALUE: i64 = 1_000_000_000;
/// log2 of the sub-buckets per bucket (2 significant digits need 200).
const SUB_BUCKET_BITS: u32 = 8;
const SUB_BUCKET_COUNT: i64 = 1 << SUB_BUCKET_BITS;
const SUB_BUCKET_HALF_BITS: u32 = SUB_BUCKET_BITS - 1;
const SUB_BUCKET_HALF: i64 = 1 << SUB_BUCKET_HALF_BITS;
/// Powers of two needed for `SUB_BUCKET_COUNT << (BUCKETS - 1)` to pass
/// `MAX_VALUE`.
const BUCKETS: usize = 23;
const LEN: usize = (BUCKETS + 1) * SUB_BUCKET_HALF as usize;

/// The bucket (power of two) a value falls in.
fn bucket_of(value: i64) -> u32 {
    let pow2_ceiling = 64 - (value | (SUB_BUCKET_COUNT - 1)).leading_zeros();
    pow2_ceiling - (SUB_BUCKET_HALF_BITS + 1)
}

/// The counter a value is counted in.
fn index_of(value: i64) -> usize {
    let bucket = bucket_of(value);
    let sub = value >> bucket;
    (((bucket as i64 + 1) << SUB_BUCKET_HALF_BITS) + (sub - SUB_BUCKET_HALF)) as usize
}

/// The lowest value counted in counter `index`.
fn value_at(index: usize) -> i64 {
    let index = index as i64;
    let mut bucket = (index >> SUB_BUCKET_HALF_BITS) - 1;
    let mut sub = (index & (SUB_BUCKET_HALF - 1)) + SUB_BUCKET_HALF;
    if bucket < 0 {
        sub -= SUB_BUCKET_HALF;
        bucket = 0;
    }
    sub << bucket
}

/// The lowest value counted with `value`, and how many values share its
/// counter.
fn equivalent_range(value: i64) -> (i64, i64) {
    let bucket = bucket_of(value);
    let sub = value >> bucket;
    let size_bucket = if sub >= SUB_BUCKET_COUNT { bucket + 1 } else { bucket };
    (sub << bucket, 1 << size_bucket)
}

fn lowest_equivalent(value: i64) -> i64 {
    equivalent_range(value).0
}

fn highest_equivalent(value: i64) -> i64 {
    let (low, size) = equivalent_range(value);
    low + size - 1
}

/// One command's histogram.
pub struct Histogram {
    counts: Box<[AtomicU64]>,
}

impl Histogram {
    fn new() -> Self {
        Histogram {
            counts: (0..LEN).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Counts one call that took `nanos`.
    pub fn record(&self, nanos: i64) {
        let value = nanos.clamp(MIN_VALUE, MAX_VALUE);
        self.counts[index_of(value)].fetch_add(1, Ordering::Relaxed);
    }

    /// The counters as of now (other threads may be adding).
    fn snapshot(&self) -> Vec<u64> {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).collect()
    }
}

/// A histogram read at one moment: the figures Redis reports.
pub struct Snapshot {
    counts: Vec<u64>,
    total: u64,
}

impl Snapshot {
    pub fn of(histogram: &Histogram) -> Self {
        let counts = histogram.snapshot();
        let total = counts.iter().sum();
        Snapshot { counts, total }
    }

    /// How many calls were counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The value (ns) at `percentile`: the highest value equivalent to the
    /// first counter that reaches that share of the calls (its lowest for
    /// percentile 0), as `hdr_value_at_percentile`.
    pub fn value_at_percentile(&self, percentile: f64) -> i64 {
        let requested = percentile.min(100.0);
        let wanted = ((requested / 100.0) * self.total as f64 + 0.5) as u64;
        let wanted = wanted.max(1);
        let mut seen = 0;
        let mut value = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= wanted {
                value = value_at(index);
                break;
            }
        }
        if percentile == 0.0 {
            lowest_equivalent(value)
        } else {
            highest_equivalent(value)
        }
    }

    /// The cumulative distribution LATENCY HISTOGRAM prints: at 1 µs, then
    /// at each doubling, the upper end of the counter reached (µs) and how
    /// many calls took at most that long, where that number grew. This
    /// walks the counters as HDR's logarithmic iterator does, including
    /// its reporting of the counter that crosses each level.
    pub fn cdf(&self) -> Vec<(i64, u64)> {
        let mut out = Vec::new();
        let mut level: i64 = 1024;
        let mut level_lowest = lowest_equivalent(level);
        let mut index: isize = -1;
        let mut cumulative = 0;
        let mut value = 0;
        let mut highest = 0;
        let mut previous = 0;
        'steps: loop {
            let more = cumulative < self.total
                || ((index + 1) < LEN as isize && value_at((index + 1) as usize) > level_lowest);
            if !more {
                break;
            }
            loop {
                if value >= level_lowest {
                    level *= 2;
                    level_lowest = lowest_equivalent(level);
                    break;
                }
                index += 1;
                if index as usize >= LEN {
                    if cumulative > previous {
                        out.push((highest / 1000, cumulative));
                    }
                    break 'steps;
                }
                cumulative += self.counts[index as usize];
                value = value_at(index as usize);
                highest = highest_equivalent(value);
            }
            if cumulative > previous {
                out.push((highest / 1000, cumulative));
            }
            previous = cumulative;
        }
        out
    }
}

/// A histogram allocated on first use.
#[derive(Default)]
pub struct LazyHistogram(OnceLock<Histogram>);

impl LazyHistogram {
    pub fn record(&self, nanos: i64) {
        self.0.get_or_init(Histogram::new).record(nanos);
    }

    /// What was counted, if anything was since the start or the last reset
    /// (Redis frees a histogram on reset and lists only those it has).
    pub fn snapshot(&self) -> Option<Snapshot> {
        let snapshot = Snapshot::of(self.0.get()?);
        (snapshot.total() > 0).then_some(snapshot)
    }

    /// Forgets everything counted (CONFIG RESETSTAT).
    pub fn reset(&self) {
        if let Some(histogram) = self.0.get() {
            for count in histogram.counts.iter() {
                count.store(0, Ordering::Relaxed);
            }
        }
    }
}

impl std::fmt::Debug for LazyHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyHistogram").field("allocated", &self.0.get().is_some()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_hdr_arithmetic() {
        // Exact below 256 ns, then 8 ns wide at 1024.
        assert_eq!(index_of(1), 1);
        assert_eq!(index_of(255), 255);
        assert_eq!(value_at(index_of(1000)), 1000);
        assert_eq!(highest_equivalent(1024), 1031);
        assert_eq!(highest_equivalent(2048), 2063);
        assert!(index_of(MAX_VALUE) < LEN);
        for value in [1, 17, 255, 256, 1000, 4097, 123_456, 999_999_999] {
            let index = index_of(value);
            assert!(value_at(index) <= value && value <= highest_equivalent(value_at(index)));
        }
    }

    #[test]
    fn percentiles_and_distribution_as_redis_reports_them() {
        let h = Histogram::new();
        // 3 calls of 1 µs, 1 of 5 µs, 1 of 100 µs (Redis records µs * 1000).
        for us in [1, 1, 1, 5, 100] {
            h.record(us * 1000);
        }
        let s = Snapshot::of(&h);
        assert_eq!(s.total(), 5);
        assert_eq!(s.value_at_percentile(50.0), 1003);
        assert_eq!(s.value_at_percentile(99.0), highest_equivalent(100_000));
        assert_eq!(s.value_at_percentile(0.0), 1000);
        // Redis prints: 1 -> 3, 8 -> 4, 132 -> 5 (each level's crossing
        // counter's upper end, in µs).
        assert_eq!(s.cdf(), [(1, 3), (8, 4), (132, 5)]);
        // Zero and out-of-range durations are clamped.
        h.record(0);
        h.record(5_000_000_000);
        let s = Snapshot::of(&h);
        assert_eq!(s.total(), 7);
        // Past the last level the walk ends on the last counter, as Redis's
        // does (its reply for a 1.5 s DEBUG SLEEP ends with 1073741).
        assert_eq!(s.cdf().last(), Some(&(1_073_741, 7)));
        assert_eq!(s.value_at_percentile(100.0), 1_002_438_655);
    }
}
