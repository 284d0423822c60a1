//! The latency monitor (Redis's `latency.c`): for each event class
//! (`command`, `fast-command`), the latencies of at least
//! `latency-monitor-threshold` milliseconds, one sample per second (the
//! worst of that second), the last 160 of them, and the worst ever.
//!
//! The threshold is mirrored in an atomic: with monitoring off (0, the
//! default) the check after every command is one relaxed load.

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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
    /// `latency-tracking`: whether calls go into their command's histogram
    /// (see [`crate::state::histogram`]).
    tracking: AtomicBool,
}

impl LatencyMonitor {
    pub fn configure(&self, threshold_ms: i64, tracking: bool) {
        self.threshold_ms
            .store(u64::try_from(threshold_ms).unwrap_or(0), Ordering::Relaxed);
        self.tracking.store(tracking, Ordering::Relaxed);
    }

    /// True if `latency-tracking` is on.
    #[inline]
    pub fn tracking(&self) -> bool {
        self.tracking.load(Ordering::Relaxed)
    }

    /// The configured threshold (ms; 0: monitoring off).
    pub fn threshold_ms(&self) -> u64 {
        self.threshold_ms.load(Ordering::Relaxed)
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
        events.retain(|(name, _)| event.is_some_and(|e| !e.eq_ignore_ascii_case(name.as_bytes())));
        before - events.len()
    }
}

/// What LATENCY DOCTOR needs to know beyond the samples.
pub struct DoctorContext {
    pub threshold_ms: u64,
    pub slowlog_log_slower_than: i64,
    pub hz: i64,
    /// Anonymous huge pages the process holds (bytes).
    pub anon_huge_pages: u64,
    pub now_s: i64,
}

/// One event's samples summed up (Redis's `analyzeLatencyForEvent`).
struct Analysis {
    samples: u64,
    avg: u64,
    /// Mean absolute deviation from `avg`.
    mad: u64,
    /// Seconds from the oldest sample to now (at least 1).
    period: i64,
}

fn analyze(series: &Series, now_s: i64) -> Analysis {
    let samples: Vec<Sample> = series.samples.iter().copied().filter(|s| s.time != 0).collect();
    let n = samples.len() as u64;
    if n == 0 {
        return Analysis {
            samples: 0,
            avg: 0,
            mad: 0,
            period: 0,
        };
    }
    let avg = samples.iter().map(|s| s.latency_ms).sum::<u64>() / n;
    let mad = samples.iter().map(|s| avg.abs_diff(s.latency_ms)).sum::<u64>() / n;
    let oldest = samples.iter().map(|s| s.time).min().unwrap_or(now_s);
    Analysis {
        samples: n,
        avg,
        mad,
        period: (now_s - oldest).max(1),
    }
}

/// Advice LATENCY DOCTOR can give, in the order it gives it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Advice {
    SlowlogEnable,
    SlowlogTune,
    SlowlogInspect,
    Scheduler,
    Hz,
    LargeObjects,
    MassEviction,
    DisableThp,
}

/// LATENCY DOCTOR's report, in Redis's words: each event's spikes, then
/// advice for the events seen. sedis records `command`, `fast-command`,
/// `expire-cycle`, `eviction-cycle` and `eviction-del` at most, so only
/// their advice (and the huge-pages check) can appear.
pub fn doctor(events: &[(&'static str, Series)], cx: &DoctorContext) -> String {
    if events.is_empty() && cx.threshold_ms == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".to_string();
    }
    let mut report = String::new();
    // Redis counts advice as it goes (some events add several).
    let mut advices = 0;
    let mut advise = std::collections::BTreeSet::new();
    for (number, (event, series)) in events.iter().enumerate() {
        if number == 0 {
            report.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        let a = analyze(series, cx.now_s);
        let _ = write!(
            report,
            "{}. {event}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            number + 1,
            a.samples,
            a.avg,
            a.mad,
            a.period as f64 / a.samples.max(1) as f64,
            series.max_ms
        );
        let slowlog = if *event != "command" {
            None
        } else if cx.slowlog_log_slower_than < 0 {
            Some(Advice::SlowlogEnable)
        } else if (cx.slowlog_log_slower_than / 1000) as u64 > cx.threshold_ms {
            Some(Advice::SlowlogTune)
        } else {
            None
        };
        let given: &[Advice] = match *event {
            "command" => &[Advice::SlowlogInspect, Advice::LargeObjects],
            "fast-command" => &[Advice::Scheduler],
            "expire-cycle" => &[Advice::Hz, Advice::LargeObjects],
            "eviction-del" => &[Advice::LargeObjects],
            "eviction-cycle" => &[Advice::MassEviction],
            _ => &[],
        };
        for advice in slowlog.iter().chain(given) {
            advise.insert(*advice);
            advices += 1;
        }
        report.push('\n');
    }
    if cx.anon_huge_pages > 0 {
        advise.insert(Advice::DisableThp);
        advices += 1;
    }
    if events.is_empty() && advices == 0 {
        report.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        return report;
    }
    if advices == 0 {
        report.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        return report;
    }
    report.push_str("\nI have a few advices for you:\n\n");
    let threshold_us = cx.threshold_ms * 1000;
    for advice in advise {
        match advice {
            Advice::SlowlogEnable => { let _ = writeln!(report, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {threshold_us}'. If the Slow log is disabled Redis is not able to log slow commands execution for you."); }
            Advice::SlowlogTune => { let _ = writeln!(report, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {threshold_us}'."); }
            Advice::SlowlogInspect => report.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n"),
            Advice::Scheduler => report.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n"),
            Advice::Hz if cx.hz < 100 => report.push_str("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n"),
            Advice::Hz => {}
            Advice::LargeObjects => report.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n"),
            Advice::MassEviction => report.push_str("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n"),
            Advice::DisableThp => report.push_str("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n"),
        }
    }
    report
}

/// Columns of LATENCY GRAPH's plot.
const GRAPH_COLUMNS: usize = 80;
/// Rows of the plot proper (labels follow).
const GRAPH_ROWS: usize = 4;

/// LATENCY GRAPH's ASCII plot of an event's samples, each labelled with
/// how long ago it was (`12s`, `3m`, `2h`, `1d`), as Redis draws it.
pub fn graph(event: &str, series: &Series, now_s: i64) -> String {
    let samples: Vec<(u64, String)> = series
        .history()
        .map(|s| {
            let ago = now_s - s.time;
            let label = match ago {
                ..60 => format!("{ago}s"),
                60..3600 => format!("{}m", ago / 60),
                3600..86_400 => format!("{}h", ago / 3600),
                _ => format!("{}d", ago / 86_400),
            };
            (s.latency_ms, label)
        })
        .collect();
    let low = samples.iter().map(|s| s.0).min().unwrap_or(0);
    let high = samples.iter().map(|s| s.0).max().unwrap_or(0);
    let mut out = format!(
        "{event} - high {high} ms, low {low} ms (all time high {} ms)\n",
        series.max_ms
    );
    out.push_str(&"-".repeat(GRAPH_COLUMNS));
    out.push('\n');
    for (n, chunk) in samples.chunks(GRAPH_COLUMNS).enumerate() {
        if n > 0 {
            out.push('\n');
        }
        sparkline(&mut out, chunk, low as f64, high as f64);
    }
    out
}

/// Draws samples as Redis's sparkline does with its fill style: each
/// column's height in `GRAPH_ROWS * 3` steps (`_`, `o`, `#` within a row,
/// `|` below the top), then a blank line, then the labels written
/// downwards.
fn sparkline(out: &mut String, samples: &[(u64, String)], min: f64, max: f64) {
    const FILL: [u8; 3] = [b'_', b'o', b'#'];
    let steps = (FILL.len() * GRAPH_ROWS) as f64;
    let range = if max - min == 0.0 { 1.0 } else { max - min };
    let step_of = |value: u64| {
        // C truncates `relval * steps` to an int before dividing.
        let step = (((value as f64 - min) * steps) as i64 as f64 / range) as i64;
        step.clamp(0, steps as i64 - 1)
    };
    for row in 0..GRAPH_ROWS {
        let line: Vec<u8> = samples
            .iter()
            .map(|(value, _)| {
                let index = step_of(*value) - ((GRAPH_ROWS - row - 1) * FILL.len()) as i64;
                match index {
                    i if (0..FILL.len() as i64).contains(&i) => FILL[i as usize],
                    i if i >= FILL.len() as i64 => b'|',
                    _ => b' ',
                }
            })
            .collect();
        out.push_str(&String::from_utf8_lossy(&line));
        out.push('\n');
    }
    // The margin between plot and labels.
    out.push_str(&" ".repeat(samples.len()));
    out.push('\n');
    let longest = samples.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    for depth in 0..longest {
        let line: String = samples
            .iter()
            .map(|(_, label)| label.as_bytes().get(depth).map_or(' ', |&b| b as char))
            .collect();
        out.push_str(&line);
        out.push('\n');
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
        monitor.configure(100, true);
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

    #[test]
    fn graph_draws_as_redis_does() {
        let monitor = LatencyMonitor::default();
        monitor.configure(1, true);
        monitor.add_if_needed("command", 20, 100);
        monitor.add_if_needed("command", 30, 101);
        let series = monitor.series(b"command").unwrap();
        // What redis-server 7.0.15 drew for the same samples, one and zero
        // seconds old.
        let expected = format!(
            "command - high 30 ms, low 20 ms (all time high 30 ms)\n{}\n #\n |\n |\n_|\n  \n10\nss\n",
            "-".repeat(80)
        );
        assert_eq!(graph("command", &series, 101), expected);
    }

    #[test]
    fn doctor_sums_up_each_event() {
        let monitor = LatencyMonitor::default();
        monitor.configure(5, true);
        monitor.add_if_needed("command", 20, 100);
        monitor.add_if_needed("command", 30, 101);
        monitor.add_if_needed("fast-command", 7, 101);
        let cx = DoctorContext {
            threshold_ms: 5,
            slowlog_log_slower_than: 10_000,
            hz: 10,
            anon_huge_pages: 0,
            now_s: 102,
        };
        let report = doctor(&monitor.snapshot(), &cx);
        assert!(report.contains("\n\n1. command: 2 latency spikes (average 25ms, mean deviation 5ms, period 1.00 sec). Worst all time event 30ms.\n2. fast-command: 1 latency spikes (average 7ms, mean deviation 0ms, period 1.00 sec). Worst all time event 7ms.\n"), "{report}");
        // Slow log tuning (10 ms > 5 ms), inspection, the scheduler, large
        // objects: in Redis's order.
        let order = ["CONFIG SET slowlog-log-slower-than 5000'", "Check your Slow Log", "1) Lower the system load", "large objects is a blocking"];
        let at: Vec<usize> = order.iter().map(|s| report.find(s).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{report}");
    }
}
