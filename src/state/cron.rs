//! The server's periodic task (Redis's `serverCron`): a thread that wakes
//! `hz` times a second to sample the instantaneous metrics INFO reports
//! (`instantaneous_ops_per_sec`, `instantaneous_input_kbps`...) and to keep
//! the used-memory peak. It ends as soon as shutdown is requested.
//!
//! An instantaneous metric is Redis's: every 100 ms the counter's growth
//! since the previous sample, per second, goes into a ring of 16 samples;
//! the metric is their average, so it covers the last 1.6 seconds and falls
//! to 0 within 1.6 seconds of the traffic stopping.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::State;

/// Samples per metric (Redis's `STATS_METRIC_SAMPLES`).
const SAMPLES: usize = 16;
/// Interval between samples (Redis samples every 100 ms whatever `hz` is).
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// One instantaneous metric.
#[derive(Debug)]
pub struct InstantMetric {
    inner: Mutex<Samples>,
}

#[derive(Debug)]
struct Samples {
    per_sec: [u64; SAMPLES],
    next: usize,
    last_time: Instant,
    last_reading: u64,
}

impl Default for InstantMetric {
    fn default() -> Self {
        InstantMetric {
            inner: Mutex::new(Samples {
                per_sec: [0; SAMPLES],
                next: 0,
                last_time: Instant::now(),
                last_reading: 0,
            }),
        }
    }
}

impl InstantMetric {
    /// Records the counter's current value, read at `now`.
    pub fn track(&self, reading: u64, now: Instant) {
        let mut s = self.inner.lock();
        let ms = now.duration_since(s.last_time).as_millis() as u64;
        let grown = reading.saturating_sub(s.last_reading);
        let next = s.next;
        s.per_sec[next] = (grown * 1000).checked_div(ms).unwrap_or(0);
        s.next = (next + 1) % SAMPLES;
        s.last_time = now;
        s.last_reading = reading;
    }

    /// The average rate per second over the samples.
    pub fn per_sec(&self) -> u64 {
        let s = self.inner.lock();
        s.per_sec.iter().sum::<u64>() / SAMPLES as u64
    }

    /// Forgets every sample (CONFIG RESETSTAT); `reading` is the counter's
    /// value after its own reset.
    pub fn reset(&self, reading: u64) {
        let mut s = self.inner.lock();
        s.per_sec = [0; SAMPLES];
        s.next = 0;
        s.last_time = Instant::now();
        s.last_reading = reading;
    }
}

/// The metrics INFO stats shows as `instantaneous_*`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub ops: InstantMetric,
    pub net_input: InstantMetric,
    pub net_output: InstantMetric,
}

/// Runs the periodic task until shutdown is requested.
pub fn run(state: &State) {
    let mut last_sample = Instant::now();
    let mut last_second = Instant::now();
    let mut seconds: i64 = 0;
    loop {
        let period = Duration::from_millis(1000 / u64::from(state.config().hz.clamp(1, 500)));
        if state.shutdown.wait_timeout(period) {
            return;
        }
        let now = Instant::now();
        if now.duration_since(last_sample) >= SAMPLE_EVERY {
            last_sample = now;
            sample(state, now);
        }
        if now.duration_since(last_second) >= Duration::from_secs(1) {
            last_second = now;
            seconds += 1;
            super::replication::cron(state, seconds);
        }
        state.note_memory_usage();
        state.migrate_targets.close_idle(now);
        state.memory.sample_rss();
        // Client-side caching's table stays within its bound between
        // commands too.
        if state.tracking.active() {
            let max_keys = state.config().tracking_table_max_keys;
            state.tracking.limit_keys(&state.sessions, max_keys, None);
        }
    }
}

fn sample(state: &State, now: Instant) {
    let stats = &state.stats;
    let read = |counter: &crate::counter::Counter| counter.get();
    state
        .metrics
        .ops
        .track(read(&stats.total_commands_processed), now);
    state
        .metrics
        .net_input
        .track(read(&stats.total_net_input_bytes), now);
    state
        .metrics
        .net_output
        .track(read(&stats.total_net_output_bytes), now);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_averages_the_ring_and_decays() {
        let m = InstantMetric::default();
        let start = Instant::now();
        m.reset(0);
        let mut t = start;
        let mut total = 0;
        // 1000 ops every 100 ms = 10000/s, for a full ring.
        for _ in 0..SAMPLES {
            t += SAMPLE_EVERY;
            total += 1000;
            m.track(total, t);
        }
        let rate = m.per_sec();
        assert!((9000..=11000).contains(&rate), "{rate}");
        // Traffic stops: after a full ring of empty samples it is 0.
        for _ in 0..SAMPLES {
            t += SAMPLE_EVERY;
            m.track(total, t);
        }
        assert_eq!(m.per_sec(), 0);
    }
}
