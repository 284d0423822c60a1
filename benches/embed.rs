//! The embedded server's costs: a GET/SET round trip through an in-process
//! client against the same server over loopback TCP, the time from start
//! to the first reply, and (printed once, before the timings) the threads
//! and resident memory an idle embedded server adds to its process.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use sedis::Embedded;

/// The calling process's thread count and resident set (kB), from /proc.
fn threads_and_rss() -> (usize, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("Threads:") as usize, field("VmRSS:"))
}

/// How many of this process's threads are called `name`.
fn named_threads(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(Result::ok)
                .filter(|task| {
                    std::fs::read_to_string(task.path().join("comm"))
                        .is_ok_and(|comm| comm.trim_end() == name)
                })
                .count()
        })
        .unwrap_or(0)
}

/// What idle servers cost: one, one listening, then ten at once, each
/// measured against the process before it (the first pays for what a
/// process sets up once, such as the command table).
fn footprint() {
    for (count, listen) in [(1, false), (1, true), (10, false)] {
        let (threads, rss) = threads_and_rss();
        let servers: Vec<Embedded> = (0..count)
            .map(|_| {
                let builder = Embedded::builder();
                let builder = if listen { builder.listen() } else { builder };
                builder.start().expect("start")
            })
            .collect();
        // Commands answer at once (they run in the caller's thread); the
        // servers' own threads start alongside. Wait for the last one each
        // starts (the acceptor, or without one the periodic task), by name.
        let last = if listen {
            "sedis-acceptor"
        } else {
            "sedis-cron"
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while named_threads(last) < count && Instant::now() < deadline {
            std::thread::yield_now();
        }
        let (threads_after, rss_after) = threads_and_rss();
        eprintln!(
            "footprint: {count} idle server(s){}: +{} threads, +{} kB resident",
            if listen { " listening on TCP" } else { "" },
            threads_after - threads,
            rss_after.saturating_sub(rss)
        );
        drop(servers);
    }
}

fn round_trips(c: &mut Criterion) {
    footprint();
    let server = Embedded::builder().listen().start().expect("start");
    let mut local = server.client();
    let mut tcp = server.connect().expect("connect");
    local.call(&["SET", "key", "value"]).expect("set");
    let mut group = c.benchmark_group("embed");
    group.bench_function("in_process_get", |b| {
        b.iter(|| black_box(local.call(&["GET", "key"]).expect("get")))
    });
    group.bench_function("in_process_set", |b| {
        b.iter(|| black_box(local.call(&["SET", "key", "value"]).expect("set")))
    });
    group.bench_function("loopback_tcp_get", |b| {
        b.iter(|| black_box(tcp.call(&["GET", "key"]).expect("get")))
    });
    group.bench_function("loopback_tcp_set", |b| {
        b.iter(|| black_box(tcp.call(&["SET", "key", "value"]).expect("set")))
    });
    group.finish();
}

/// From nothing to the first reply (in process, and over TCP), and
/// separately the stop that joins every thread.
fn start_to_ready(c: &mut Criterion) {
    let mut group = c.benchmark_group("embed_start");
    group.bench_function("start_to_first_reply", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                let server = Embedded::start().expect("start");
                black_box(server.client().call(&["PING"]).expect("ping"));
                total += started.elapsed();
                server.shutdown().expect("shutdown");
            }
            total
        })
    });
    group.bench_function("start_listening_to_first_tcp_reply", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                let server = Embedded::builder().listen().start().expect("start");
                let mut conn = server.connect().expect("connect");
                black_box(conn.call(&["PING"]).expect("ping"));
                total += started.elapsed();
                drop(conn);
                server.shutdown().expect("shutdown");
            }
            total
        })
    });
    group.bench_function("shutdown_joining_every_thread", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let server = Embedded::start().expect("start");
                server.client().call(&["PING"]).expect("ping");
                let stopping = Instant::now();
                server.shutdown().expect("shutdown");
                total += stopping.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, round_trips, start_to_ready);
criterion_main!(benches);
