//! `sedis-benchmark` as a process against an in-process sedis: every test
//! of the suite runs (or, for a command sedis lacks, the error is reported
//! and the run ends, as redis-benchmark does), the report formats,
//! `__rand_int__` substitution, and that pipelined runs send and count
//! exactly the requests asked for. Nothing here depends on timing.

mod common;

use std::process::{Command, Output};

use common::TestServer;
use sedis::Frame;

const BENCH: &str = env!("CARGO_BIN_EXE_sedis-benchmark");

fn bench(port: u16, args: &[&str]) -> Output {
    Command::new(BENCH)
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("run sedis-benchmark")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// True if `s` is digits, a dot, then exactly `decimals` digits.
fn is_fixed(s: &str, decimals: usize) -> bool {
    match s.split_once('.') {
        Some((int, frac)) => {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.len() == decimals
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Checks a `-q` line: "TITLE: 1234.56 requests per second, p50=0.287 msec".
fn assert_quiet_line(line: &str, title: &str) {
    let rest = line
        .strip_prefix(&format!("{title}: "))
        .unwrap_or_else(|| panic!("{line:?} is not about {title}"));
    let (rps, rest) = rest.split_once(" requests per second, p50=").expect(line);
    let p50 = rest.strip_suffix(" msec").expect(line);
    assert!(is_fixed(rps, 2) && is_fixed(p50, 3), "{line:?}");
}

/// The tests of the suite, the commands each sends (the LRANGE tests fill
/// the list with LPUSH first), and their titles.
const SUITE: &[(&str, &[&str], &[&str])] = &[
    ("ping_inline", &["PING"], &["PING_INLINE"]),
    ("ping_mbulk", &["PING"], &["PING_MBULK"]),
    ("set", &["SET"], &["SET"]),
    ("get", &["GET"], &["GET"]),
    ("incr", &["INCR"], &["INCR"]),
    ("lpush", &["LPUSH"], &["LPUSH"]),
    ("rpush", &["RPUSH"], &["RPUSH"]),
    ("lpop", &["LPOP"], &["LPOP"]),
    ("rpop", &["RPOP"], &["RPOP"]),
    ("sadd", &["SADD"], &["SADD"]),
    ("hset", &["HSET"], &["HSET"]),
    ("spop", &["SPOP"], &["SPOP"]),
    ("zadd", &["ZADD"], &["ZADD"]),
    ("zpopmin", &["ZPOPMIN"], &["ZPOPMIN"]),
    (
        "lrange_100",
        &["LPUSH", "LRANGE"],
        &[
            "LPUSH (needed to benchmark LRANGE)",
            "LRANGE_100 (first 100 elements)",
        ],
    ),
    (
        "lrange_300",
        &["LPUSH", "LRANGE"],
        &[
            "LPUSH (needed to benchmark LRANGE)",
            "LRANGE_300 (first 300 elements)",
        ],
    ),
    (
        "lrange_500",
        &["LPUSH", "LRANGE"],
        &[
            "LPUSH (needed to benchmark LRANGE)",
            "LRANGE_500 (first 500 elements)",
        ],
    ),
    (
        "lrange_600",
        &["LPUSH", "LRANGE"],
        &[
            "LPUSH (needed to benchmark LRANGE)",
            "LRANGE_600 (first 600 elements)",
        ],
    ),
    ("mset", &["MSET"], &["MSET (10 keys)"]),
];

/// Whether the server knows `command` (asked in database 15, then emptied).
fn server_knows(server: &TestServer, command: &str) -> bool {
    let mut raw = server.raw();
    raw.call(&["SELECT", "15"]);
    let reply = raw.call(&[command, "probe:key", "0", "1"]);
    raw.call(&["FLUSHDB"]);
    !text(&reply).starts_with("-ERR unknown command")
}

#[test]
fn every_suite_test_completes_or_reports_the_missing_command() {
    let server = TestServer::start();
    let port = server.addr.port();
    for (test, commands, titles) in SUITE {
        server.raw().call(&["FLUSHALL"]);
        let missing = commands.iter().find(|c| !server_knows(&server, c));
        let out = bench(port, &["-t", test, "-n", "50", "-c", "4", "-q"]);
        let stdout = text(&out.stdout);
        match missing {
            None => {
                assert!(out.status.success(), "{test}: {}", text(&out.stderr));
                let lines: Vec<&str> = stdout.lines().collect();
                assert_eq!(lines.len(), titles.len() + 1, "{test}: {stdout:?}");
                for (line, title) in lines.iter().zip(titles.iter()) {
                    assert_quiet_line(line, title);
                }
                assert_eq!(lines.last(), Some(&""), "the suite ends with a blank line");
            }
            Some(command) => {
                // Like redis-benchmark: an error reply ends the run at once.
                assert_eq!(out.status.code(), Some(1), "{test}");
                let stderr = text(&out.stderr);
                let expected = format!("Error from server: ERR unknown command '{command}'");
                assert!(stderr.contains(&expected), "{test}: {stderr:?}");
            }
        }
    }
}

#[test]
fn quiet_and_csv_reports() {
    let server = TestServer::start();
    let port = server.addr.port();
    let out = bench(port, &["-t", "set,get,ping", "-n", "200", "-c", "5", "-q"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout:?}");
    for (line, title) in lines
        .iter()
        .zip(["PING_INLINE", "PING_MBULK", "SET", "GET"])
    {
        assert_quiet_line(line, title);
    }

    let out = bench(port, &["-t", "set,get", "-n", "200", "-c", "5", "--csv"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\""
    );
    assert_eq!(lines.len(), 3, "{stdout:?}");
    for (line, title) in lines[1..].iter().zip(["SET", "GET"]) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 8, "{line}");
        assert_eq!(fields[0], format!("\"{title}\""));
        let numbers: Vec<&str> = fields[1..].iter().map(|f| f.trim_matches('"')).collect();
        assert!(is_fixed(numbers[0], 2), "{line}");
        assert!(numbers[1..].iter().all(|n| is_fixed(n, 3)), "{line}");
        let values: Vec<f64> = numbers[2..].iter().map(|n| n.parse().unwrap()).collect();
        // min <= p50 <= p95 <= p99 <= max
        assert!(values.windows(2).all(|w| w[0] <= w[1]), "{line}");
    }
}

#[test]
fn full_report() {
    let server = TestServer::start();
    let port = server.addr.port();
    let out = bench(port, &["-t", "set", "-n", "300", "-c", "5", "-d", "10"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "====== SET ======");
    let completed = lines[1]
        .strip_prefix("  300 requests completed in ")
        .and_then(|rest| rest.strip_suffix(" seconds"))
        .expect(lines[1]);
    assert!(is_fixed(completed, 2));
    assert_eq!(
        lines[2..5],
        [
            "  5 parallel clients",
            "  10 bytes payload",
            "  keep alive: 1"
        ]
    );
    // The server configuration lines appear when the server answers CONFIG GET.
    let mut at = 5;
    while lines[at].starts_with("  host configuration ") {
        at += 1;
    }
    assert_eq!(
        lines[at..at + 3],
        [
            "  multi-thread: no",
            "",
            "Latency by percentile distribution:"
        ]
    );
    at += 3;
    let section = |at: &mut usize| -> Vec<(f64, f64, u64)> {
        let mut rows = Vec::new();
        while !lines[*at].is_empty() {
            let line = lines[*at];
            let (percent, rest) = line.split_once("% <= ").expect(line);
            let (ms, rest) = rest
                .split_once(" milliseconds (cumulative count ")
                .expect(line);
            let count = rest.strip_suffix(')').expect(line);
            assert!(is_fixed(percent, 3) && is_fixed(ms, 3), "{line}");
            rows.push((
                percent.parse().unwrap(),
                ms.parse().unwrap(),
                count.parse().unwrap(),
            ));
            *at += 1;
        }
        *at += 1;
        rows
    };
    let percentiles = section(&mut at);
    assert_eq!(percentiles[0].0, 0.0);
    assert_eq!(percentiles.last().map(|r| (r.0, r.2)), Some((100.0, 300)));
    assert!(
        percentiles
            .windows(2)
            .all(|w| w[0].1 <= w[1].1 && w[0].2 <= w[1].2)
    );
    assert_eq!(lines[at], "Cumulative distribution of latencies:");
    at += 1;
    let cumulative = section(&mut at);
    assert_eq!(cumulative.last().map(|r| (r.0, r.2)), Some((100.0, 300)));
    assert_eq!(lines[at], "Summary:");
    let throughput = lines[at + 1]
        .strip_prefix("  throughput summary: ")
        .and_then(|rest| rest.strip_suffix(" requests per second"))
        .expect(lines[at + 1]);
    assert!(is_fixed(throughput, 2));
    assert_eq!(lines[at + 2], "  latency summary (msec):");
    assert_eq!(
        lines[at + 3],
        "          avg       min       p50       p95       p99       max"
    );
    let values: Vec<&str> = lines[at + 4].split_whitespace().collect();
    assert_eq!(values.len(), 6);
    assert!(values.iter().all(|v| is_fixed(v, 3)));
    assert_eq!(&lines[at + 5..], [""]);
}

fn keys(server: &TestServer, db: &str) -> Vec<String> {
    let mut raw = server.raw();
    raw.call(&["SELECT", db]);
    raw.cmd(&["KEYS", "*"]);
    match raw.read() {
        Frame::Array(items) => items
            .iter()
            .map(|k| text(k.as_bytes().expect("key")))
            .collect(),
        other => panic!("KEYS replied {other:?}"),
    }
}

/// A 12-digit number below `limit`.
fn is_rand_number(s: &str, limit: u64) -> bool {
    s.len() == 12 && s.parse::<u64>().is_ok_and(|n| n < limit)
}

#[test]
fn rand_int_is_substituted_only_with_r() {
    let server = TestServer::start();
    let port = server.addr.port();
    let out = bench(
        port,
        &[
            "-n",
            "400",
            "-c",
            "4",
            "-P",
            "3",
            "-r",
            "50",
            "-q",
            "--",
            "SET",
            "k:__rand_int__",
            "v:__rand_int__",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_quiet_line(
        text(&out.stdout).lines().next().expect("a line"),
        "SET k:__rand_int__ v:__rand_int__",
    );
    let found = keys(&server, "0");
    assert!(found.len() > 1 && found.len() <= 50, "{found:?}");
    let mut raw = server.raw();
    for key in &found {
        let number = key.strip_prefix("k:").expect(key);
        assert!(is_rand_number(number, 50), "{key}");
        let value = text(&raw.call(&["GET", key]));
        let value = value.lines().nth(1).expect("a bulk reply");
        assert!(
            is_rand_number(value.strip_prefix("v:").expect(value), 50),
            "{value}"
        );
    }

    // The suite's SET uses key:__rand_int__ too.
    raw.call(&["FLUSHALL"]);
    let out = bench(port, &["-t", "set", "-n", "100", "-r", "10", "-q"]);
    assert!(out.status.success());
    let found = keys(&server, "0");
    assert!(!found.is_empty() && found.len() <= 10);
    for key in &found {
        assert!(
            is_rand_number(key.strip_prefix("key:").expect(key), 10),
            "{key}"
        );
    }

    // Without -r the placeholder is sent as it is.
    raw.call(&["FLUSHALL"]);
    let out = bench(port, &["-n", "50", "-q", "SET", "k:__rand_int__", "x"]);
    assert!(out.status.success());
    assert_eq!(keys(&server, "0"), ["k:__rand_int__"]);
}

#[test]
fn pipelined_runs_send_and_count_exactly_the_requests() {
    let server = TestServer::start();
    let port = server.addr.port();
    // 1003 is not a multiple of the pipeline: the last batches are short.
    // Keys drawn from 10^12 numbers: every SET makes a new key.
    let out = bench(
        port,
        &[
            "-n",
            "1003",
            "-P",
            "16",
            "-c",
            "7",
            "-r",
            "1000000000000",
            "SET",
            "k:__rand_int__",
            "v",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("\n  1003 requests completed in "),
        "{stdout}"
    );
    assert!(stdout.contains("(cumulative count 1003)\n"), "{stdout}");
    let mut raw = server.raw();
    assert_eq!(raw.call(&["DBSIZE"]), b":1003\r\n");

    // Several threads share the clients and the count.
    raw.call(&["FLUSHALL"]);
    let out = bench(
        port,
        &[
            "--threads",
            "3",
            "-c",
            "5",
            "-n",
            "500",
            "-P",
            "4",
            "-r",
            "1000000000000",
            "SET",
            "k:__rand_int__",
            "v",
        ],
    );
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("\n  500 requests completed in "),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n  multi-thread: yes\n  threads: 3\n"),
        "{stdout}"
    );
    assert_eq!(raw.call(&["DBSIZE"]), b":500\r\n");
}

#[test]
fn connection_options_auth_dbnum_resp3_reconnect() {
    let server = TestServer::with_config(|c| c.requirepass = "pw".to_string());
    let port = server.addr.port();
    let out = bench(port, &["-t", "set", "-n", "20", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("NOAUTH Authentication required."),
        "{}",
        text(&out.stderr)
    );
    let out = bench(
        port,
        &[
            "-a", "pw", "--dbnum", "3", "-3", "-n", "20", "-q", "SET", "in3", "v",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut raw = server.raw();
    raw.call(&["AUTH", "pw"]);
    raw.call(&["SELECT", "3"]);
    assert_eq!(raw.call(&["GET", "in3"]), b"$1\r\nv\r\n");
    // -k 0: a new connection (and AUTH) for every request.
    let out = bench(
        port,
        &[
            "-a", "pw", "-k", "0", "-c", "3", "-n", "30", "-q", "SET", "k", "v",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("WARNING: Keepalive disabled."));
    let wrong = bench(port, &["-a", "nope", "-n", "5", "-q", "PING"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stderr).contains("WRONGPASS"),
        "{}",
        text(&wrong.stderr)
    );
}

#[test]
fn errors_end_the_run() {
    let server = TestServer::start();
    let port = server.addr.port();
    let out = bench(port, &["-n", "10", "-q", "NOSUCH", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains(
        "Error from server: ERR unknown command 'NOSUCH', with args beginning with: 'x' \n"
    ));
    drop(server);
    let closed = common::ports::ClosedPort::new();
    let port = closed.port;
    let out = bench(port, &["-n", "10", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused\n")
    );
}

#[test]
fn usage_and_bad_options() {
    let out = Command::new(BENCH).arg("--help").output().expect("run");
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("Usage: sedis-benchmark [OPTIONS]"));
    let out = Command::new(BENCH).args(["-c"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).starts_with("Invalid option \"-c\" or option argument missing\n\n"));
    let out = Command::new(BENCH)
        .args(["-c", "many"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
}
