//! The latency monitor (Redis's `latency.c`): for each event class
//! (`command`, `fast-command`), the latencies of at least
//! `latency-monitor-threshold` milliseconds, one sample per second (the
//! worst of that second), the last 160 of them, and the worst ever.
//!
//! The threshold is mirrored in an atomic: with monitoring off (0, the
//! default) the check after every command is one relaxed load.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// Samples kept per event (Redis's `LATENCY_TS_LEN`).
const SAMPLES: usize = 160;

/// One second's worst latency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// Unix seconds (0: an unused slot).
    pub time: i64,
    pub latency_ms: u64,
}

/// One event class's samples: a ring, oldest overwritten.
#[derive(Debug, Clone)]
pub struct Series {
    /// The slot the next second's sample goes in.
    next: usize,
    pub max_ms: u64,
    samples: [Sample; SAMPLES],
}

impl Series {
    /// The samples, oldest first.
    pub fn history(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..SAMPLES)
            .map(move |j| self.samples[(self.next + j) % SAMPLES])
            .filter(|s| s.time != 0)
    }

    /// The newest sample.
    pub fn latest(&self) -> Sample {
        self.samples[(self.next + SAMPLES - 1) % SAMPLES]
    }
}

#[derive(Debug, Default)]
pub struct LatencyMonitor {
    /// Events in the order they were first seen.
    events: Mutex<Vec<(&'static str, Series)>>,
    threshold_ms: AtomicU64,
}

impl LatencyMonitor {
    pub fn configure(&self, threshold_ms: i64) {
        self.threshold_ms
            .store(u64::try_from(threshold_ms).unwrap_or(0), Ordering::Relaxed);
    }

    /// Records `latency_ms` for `event` if monitoring is on and it reaches
    /// the threshold (Redis's `latencyAddSampleIfNeeded`).
    #[inline]
    pub fn add_if_needed(&self, event: &'static str, latency_ms: u64, now_s: i64) {
        let threshold = self.threshold_ms.load(Ordering::Relaxed);
        if threshold > 0 && latency_ms >= threshold {
            self.add(event, latency_ms, now_s);
        }
    }

    fn add(&self, event: &'static str, latency_ms: u64, now_s: i64) {
        let mut events = self.events.lock();
        let index = match events.iter().position(|(name, _)| *name == event) {
            Some(i) => i,
            None => {
                events.push((
                    event,
                    Series {
                        next: 0,
                        max_ms: 0,
                        samples: [Sample::default(); SAMPLES],
                    },
                ));
                events.len() - 1
            }
        };
        let series = &mut events[index].1;
        series.max_ms = series.max_ms.max(latency_ms);
        let prev = (series.next + SAMPLES - 1) % SAMPLES;
        if series.samples[prev].time == now_s {
            let sample = &mut series.samples[prev];
            sample.latency_ms = sample.latency_ms.max(latency_ms);
            return;
        }
        series.samples[series.next] = Sample {
            time: now_s,
            latency_ms,
        };
        series.next = (series.next + 1) % SAMPLES;
    }

    /// Every event's series, in the order the events were first seen.
    pub fn snapshot(&self) -> Vec<(&'static str, Series)> {
        self.events.lock().clone()
    }

    /// One event's series.
    pub fn series(&self, event: &[u8]) -> Option<Series> {
        let events = self.events.lock();
        events
            .iter()
            .find(|(name, _)| name.as_bytes() == event)
            .map(|(_, s)| s.clone())
    }

    /// Forgets `event` (every event for `None`); returns how many were
    /// forgotten.
    pub fn reset(&self, event: Option<&[u8]>) -> usize {
        let mut events = self.events.lock();
        let before = events.len();
        events.retain(|(name, _)| event.is_some_and(|e| e != name.as_bytes()));
        before - events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_per_second_the_worst_kept() {
        let monitor = LatencyMonitor::default();
        monitor.add_if_needed("command", 500, 1);
        assert!(monitor.snapshot().is_empty(), "monitoring is off at 0");
        monitor.configure(100);
        monitor.add_if_needed("command", 50, 1);
        monitor.add_if_needed("command", 150, 1);
        monitor.add_if_needed("command", 300, 1);
        monitor.add_if_needed("command", 200, 1);
        monitor.add_if_needed("command", 120, 2);
        let series = monitor.series(b"command").unwrap();
        let history: Vec<(i64, u64)> = series.history().map(|s| (s.time, s.latency_ms)).collect();
        assert_eq!(history, [(1, 300), (2, 120)]);
        assert_eq!((series.latest().time, series.max_ms), (2, 300));
        for second in 3..200 {
            monitor.add_if_needed("command", 100, second);
        }
        let series = monitor.series(b"command").unwrap();
        assert_eq!(series.history().count(), SAMPLES);
        assert_eq!(series.history().next().unwrap().time, 200 - SAMPLES as i64);
        assert_eq!(monitor.reset(Some(b"nosuch")), 0);
        assert_eq!(monitor.reset(None), 1);
    }
}
