//! A latency histogram with HdrHistogram's layout, so that the numbers (and
//! the way they are rounded) are those redis-benchmark reports.
//!
//! Values are counted in buckets whose width grows with the value: bucket
//! `b` holds `sub_bucket_count / 2` slots, each `2^(b + unit_magnitude)`
//! wide (bucket 0 has a full `sub_bucket_count` slots). With 3 significant
//! figures there are 2048 sub-buckets, so any value is known to within
//! 1/1024 of itself, in constant memory, with O(1) recording. Percentiles
//! come from walking the counts; no sample list is ever kept or sorted.

/// A histogram of non-negative integer values (microseconds here).
#[derive(Debug, Clone)]
pub struct Histogram {
    /// log2 of the smallest value told apart from 0 (its slot width).
    unit_magnitude: u32,
    /// log2 of half the number of slots per bucket.
    half_magnitude: u32,
    /// Slots per bucket.
    sub_bucket_count: u64,
    /// Bits of a value that index within the first bucket.
    sub_bucket_mask: u64,
    /// The largest value that can be recorded.
    highest: u64,
    counts: Vec<u64>,
    total: u64,
    /// The smallest non-zero value recorded (`u64::MAX`: none yet).
    min_nonzero: u64,
    max: u64,
}

impl Histogram {
    /// A histogram for values from `lowest` (the resolution at the bottom)
    /// to `highest`, keeping `significant_figures` (1 to 5) digits.
    pub fn new(lowest: u64, highest: u64, significant_figures: u32) -> Histogram {
        let significant_figures = significant_figures.clamp(1, 5);
        let single_unit_top = 2 * 10u64.pow(significant_figures);
        // ceil(log2(single_unit_top))
        let count_magnitude = 64 - (single_unit_top - 1).leading_zeros();
        let half_magnitude = count_magnitude.max(1) - 1;
        let unit_magnitude = 63 - lowest.max(1).leading_zeros();
        let sub_bucket_count = 1u64 << (half_magnitude + 1);
        let mut buckets = 1;
        let mut untrackable = sub_bucket_count << unit_magnitude;
        while untrackable <= highest {
            untrackable <<= 1;
            buckets += 1;
        }
        let len = (buckets + 1) * (sub_bucket_count / 2) as usize;
        Histogram {
            unit_magnitude,
            half_magnitude,
            sub_bucket_count,
            sub_bucket_mask: (sub_bucket_count - 1) << unit_magnitude,
            highest,
            counts: vec![0; len],
            total: 0,
            min_nonzero: u64::MAX,
            max: 0,
        }
    }

    fn bucket_index(&self, value: u64) -> u32 {
        let pow2_ceiling = 64 - (value | self.sub_bucket_mask).leading_zeros();
        pow2_ceiling - self.unit_magnitude - (self.half_magnitude + 1)
    }

    fn sub_bucket_index(&self, value: u64, bucket: u32) -> u64 {
        value >> (bucket + self.unit_magnitude)
    }

    fn index_of(&self, value: u64) -> usize {
        let bucket = self.bucket_index(value);
        let sub = self.sub_bucket_index(value, bucket);
        (((bucket as u64 + 1) << self.half_magnitude) + sub - self.sub_bucket_count / 2) as usize
    }

    /// The lowest value counted in slot `index`.
    fn value_at_index(&self, index: usize) -> u64 {
        let half = self.sub_bucket_count / 2;
        let mut bucket = (index as i64 >> self.half_magnitude) - 1;
        let mut sub = (index as u64 & (half - 1)) + half;
        if bucket < 0 {
            sub -= half;
            bucket = 0;
        }
        sub << (bucket as u32 + self.unit_magnitude)
    }

    /// The width of the slot `value` falls in.
    fn slot_width(&self, value: u64) -> u64 {
        let bucket = self.bucket_index(value);
        let sub = self.sub_bucket_index(value, bucket);
        let bucket = if sub >= self.sub_bucket_count {
            bucket + 1
        } else {
            bucket
        };
        1 << (self.unit_magnitude + bucket)
    }

    /// The lowest value counted in the same slot as `value`.
    pub fn lowest_equivalent(&self, value: u64) -> u64 {
        let bucket = self.bucket_index(value);
        self.sub_bucket_index(value, bucket) << (bucket + self.unit_magnitude)
    }

    /// The highest value counted in the same slot as `value`.
    pub fn highest_equivalent(&self, value: u64) -> u64 {
        self.lowest_equivalent(value) + self.slot_width(value) - 1
    }

    fn median_equivalent(&self, value: u64) -> u64 {
        self.lowest_equivalent(value) + self.slot_width(value) / 2
    }

    /// Counts `value`, clamped to the histogram's range.
    #[cfg(test)]
    pub fn record(&mut self, value: u64) {
        self.record_n(value, 1);
    }

    /// Counts `value` `n` times.
    pub fn record_n(&mut self, value: u64, n: u64) {
        let value = value.min(self.highest);
        let index = self.index_of(value);
        self.counts[index] += n;
        self.total += n;
        if value != 0 {
            self.min_nonzero = self.min_nonzero.min(value);
        }
        self.max = self.max.max(value);
    }

    /// Adds another histogram of the same shape (one per benchmark thread).
    pub fn add(&mut self, other: &Histogram) {
        debug_assert_eq!(self.counts.len(), other.counts.len());
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.min_nonzero = self.min_nonzero.min(other.min_nonzero);
        self.max = self.max.max(other.max);
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// The smallest value recorded, rounded down to its slot.
    pub fn min(&self) -> u64 {
        if self.counts[0] > 0 || self.min_nonzero == u64::MAX {
            0
        } else {
            self.lowest_equivalent(self.min_nonzero)
        }
    }

    /// The largest value recorded, rounded up to its slot.
    pub fn max(&self) -> u64 {
        if self.max == 0 {
            0
        } else {
            self.highest_equivalent(self.max)
        }
    }

    /// The mean, each value taken as the middle of its slot.
    pub fn mean(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let sum: f64 = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, &c)| c as f64 * self.median_equivalent(self.value_at_index(i)) as f64)
            .sum();
        sum / self.total as f64
    }

    /// The value below which `percentile` % of the values fall, rounded up
    /// to its slot (down for the 0th percentile).
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let wanted = ((percentile.min(100.0) / 100.0) * self.total as f64 + 0.5) as u64;
        let wanted = wanted.max(1);
        let mut seen = 0;
        let mut value = 0;
        for (i, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= wanted {
                value = self.value_at_index(i);
                break;
            }
        }
        if percentile == 0.0 {
            self.lowest_equivalent(value)
        } else {
            self.highest_equivalent(value)
        }
    }

    /// The "Latency by percentile distribution" walk: percentiles halving
    /// the distance to 100 (0, 50, 75, 87.5...), each with the top of the
    /// slot where it is reached and the count up to it; then 100%.
    pub fn percentile_steps(&self) -> Vec<Step> {
        let mut walk = Walk::new(self);
        let mut steps = Vec::new();
        let mut target = 0.0f64;
        if walk.next_counted() {
            loop {
                // Several percentiles may be reached in the same slot.
                loop {
                    let reached = 100.0 * walk.cumulative as f64 / self.total as f64;
                    if walk.count != 0 && target <= reached {
                        steps.push(walk.step(target));
                        // The step halves the distance left to 100%.
                        let halvings = ((100.0 / (100.0 - target)).ln() / 2f64.ln()).trunc() + 1.0;
                        target += 100.0 / 2f64.powf(halvings);
                        break;
                    }
                    if !walk.next_counted() {
                        break;
                    }
                }
                if !walk.has_next() {
                    break;
                }
            }
        }
        steps.push(walk.step(100.0));
        steps
    }

    /// The "Cumulative distribution of latencies" walk: one step every
    /// `first_units` of value, every `then_units` once a step's value is
    /// past `switch_above`; each with the top of the slot reached and the
    /// count up to it. Steps may repeat counts; the report skips those.
    pub fn linear_steps(&self, first_units: u64, switch_above: u64, then_units: u64) -> Vec<Step> {
        let mut walk = Walk::new(self);
        let mut steps = Vec::new();
        let mut units = first_units;
        let mut level = units;
        let mut level_lowest = self.lowest_equivalent(level);
        while walk.has_next() || walk.next_value_above(level_lowest) {
            // Move to the first slot at or past the level (counted or not).
            while walk.value < level_lowest && walk.next_slot() {}
            level += units;
            level_lowest = self.lowest_equivalent(level);
            let step = walk.step(100.0 * walk.cumulative as f64 / self.total as f64);
            if step.value > switch_above {
                units = then_units;
            }
            steps.push(step);
        }
        steps
    }
}

/// One line of a distribution report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub percentile: f64,
    /// The highest value of the slot reached.
    pub value: u64,
    /// How many values were counted up to and including that slot.
    pub cumulative: u64,
}

/// A cursor over the slots, in order, adding up the counts.
struct Walk<'a> {
    h: &'a Histogram,
    index: isize,
    count: u64,
    cumulative: u64,
    value: u64,
}

impl<'a> Walk<'a> {
    fn new(h: &'a Histogram) -> Walk<'a> {
        Walk {
            h,
            index: -1,
            count: 0,
            cumulative: 0,
            value: 0,
        }
    }

    /// Values remain beyond the current slot.
    fn has_next(&self) -> bool {
        self.cumulative < self.h.total
    }

    /// Moves to the next slot; false past the last one.
    fn next_slot(&mut self) -> bool {
        if self.index + 1 >= self.h.counts.len() as isize {
            return false;
        }
        self.index += 1;
        self.count = self.h.counts[self.index as usize];
        self.cumulative += self.count;
        self.value = self.h.value_at_index(self.index as usize);
        true
    }

    /// Moves to the next slot unless every value has been counted.
    fn next_counted(&mut self) -> bool {
        self.has_next() && self.next_slot()
    }

    fn next_value_above(&self, bound: u64) -> bool {
        let next = self.index + 1;
        next < self.h.counts.len() as isize && self.h.value_at_index(next as usize) > bound
    }

    fn step(&self, percentile: f64) -> Step {
        Step {
            percentile,
            // Before the first slot (an empty histogram) there is no value.
            value: if self.index < 0 {
                0
            } else {
                self.h.highest_equivalent(self.value)
            },
            cumulative: self.cumulative,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// redis-benchmark's histogram: microseconds, 10 us to 3 s.
    fn latency_histogram() -> Histogram {
        Histogram::new(10, 3_000_000, 3)
    }

    #[test]
    fn slots_are_8us_wide_at_the_bottom_and_keep_three_digits_above() {
        let h = latency_histogram();
        assert_eq!(
            (h.lowest_equivalent(287), h.highest_equivalent(287)),
            (280, 287)
        );
        assert_eq!(h.highest_equivalent(0), 7);
        // Above 16384 us the slots double: 16 us wide, and so on.
        assert_eq!(h.highest_equivalent(20_000), 20_015);
        let top = h.highest_equivalent(2_999_999);
        assert!(top - h.lowest_equivalent(2_999_999) < 3_000_000 / 1000);
    }

    #[test]
    fn summary_statistics() {
        let mut h = latency_histogram();
        for v in 1..=1000 {
            h.record(v * 10);
        }
        assert_eq!(h.total(), 1000);
        assert_eq!(h.min(), 8);
        assert_eq!(h.max(), 10_007);
        assert_eq!(h.value_at_percentile(50.0), 5_007);
        assert_eq!(h.value_at_percentile(99.0), 9_903);
        assert!((h.mean() - 5005.0).abs() < 10.0, "{}", h.mean());
        // Values past the top are clamped, not lost.
        h.record(u64::MAX);
        assert_eq!(h.total(), 1001);
    }

    #[test]
    fn merged_histograms_count_everything() {
        let mut a = latency_histogram();
        let mut b = latency_histogram();
        a.record_n(100, 3);
        b.record(50);
        b.record(900);
        a.add(&b);
        assert_eq!(a.total(), 5);
        assert_eq!((a.min(), a.max()), (48, 903));
    }

    /// What a report prints: steps whose count changed, and the last ones.
    fn printed(h: &Histogram, steps: Vec<Step>) -> Vec<(f64, u64, u64)> {
        let mut previous = None;
        let mut lines = Vec::new();
        for step in steps {
            if previous != Some(step.cumulative) || step.cumulative == h.total() {
                lines.push((step.percentile, step.value, step.cumulative));
            }
            previous = Some(step.cumulative);
        }
        lines
    }

    // The expected lines below are what redis-benchmark's loops print over
    // HdrHistogram (checked against the C library for these inputs).

    #[test]
    fn percentile_steps_halve_the_distance_to_100() {
        let mut h = latency_histogram();
        h.record_n(50, 10);
        h.record_n(250, 10);
        h.record_n(4_500, 10);
        assert_eq!(
            printed(&h, h.percentile_steps()),
            [
                (0.0, 55, 10),
                (50.0, 255, 20),
                (75.0, 4_503, 30),
                (100.0, 4_503, 30)
            ]
        );
        let mut single = latency_histogram();
        single.record(7);
        assert_eq!(
            printed(&single, single.percentile_steps()),
            [(0.0, 7, 1), (100.0, 7, 1)]
        );
    }

    #[test]
    fn linear_steps_widen_past_the_switch() {
        let mut h = latency_histogram();
        h.record_n(50, 10);
        h.record_n(250, 10);
        h.record_n(4_500, 10);
        let lines = printed(&h, h.linear_steps(100, 2000, 1000));
        let lines: Vec<(u64, u64)> = lines.iter().map(|l| (l.1, l.2)).collect();
        // Steps of 100 us up to 2 ms, then of 1 ms: 2.103, 3.103, 4.103, 5.103.
        assert_eq!(lines, [(103, 10), (303, 20), (5_103, 30)]);
        let steps = h.linear_steps(100, 2000, 1000);
        let values: Vec<u64> = steps.iter().map(|s| s.value).collect();
        assert!(
            values.ends_with(&[2_007, 2_103, 3_103, 4_103, 5_103]),
            "{values:?}"
        );
    }
}
