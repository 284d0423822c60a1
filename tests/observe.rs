//! MONITOR and SLOWLOG from a client's side: what a slow-log entry holds,
//! that a monitor sees other clients' commands as they run, and that a
//! monitor which stops reading is disconnected by its output limit while
//! the server goes on serving everyone else.

mod common;

use common::TestServer;

use sedis::Frame;
use sedis::config::ProtectedAction;

fn bulk(frame: &Frame) -> Vec<u8> {
    match frame {
        Frame::Bulk(bytes) => bytes.clone(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

#[test]
fn slowlog_entries_hold_the_trimmed_command_its_client_and_name() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    c.call(&["CLIENT", "SETNAME", "worker"]);
    c.call(&["SLOWLOG", "RESET"]);
    let long = "x".repeat(200);
    let mut args = vec!["RPUSH", "list", long.as_str()];
    args.extend(std::iter::repeat_n("e", 40));
    c.call(&args);
    c.call(&["AUTH", "nopass"]);
    let Frame::Array(entries) = c.frame(&["SLOWLOG", "GET", "3"]) else {
        panic!("SLOWLOG GET replies an array");
    };
    assert_eq!(entries.len(), 3, "{entries:?}");
    let fields = |entry: &Frame| match entry {
        Frame::Array(fields) if fields.len() == 6 => fields.clone(),
        other => panic!("an entry has six fields: {other:?}"),
    };
    // Newest first: AUTH (redacted), RPUSH, SLOWLOG RESET.
    let auth = fields(&entries[0]);
    let Frame::Array(auth_args) = &auth[3] else {
        panic!("arguments")
    };
    assert_eq!(
        auth_args.iter().map(bulk).collect::<Vec<_>>(),
        [b"AUTH".to_vec(), b"(redacted)".to_vec()]
    );
    let push = fields(&entries[1]);
    let (Frame::Integer(id_auth), Frame::Integer(id_push)) = (&auth[0], &push[0]) else {
        panic!("ids are integers");
    };
    assert_eq!(id_auth - id_push, 1);
    let Frame::Array(push_args) = &push[3] else {
        panic!("arguments")
    };
    assert_eq!(push_args.len(), 32);
    assert_eq!(
        bulk(&push_args[2]),
        format!("{}... (72 more bytes)", "x".repeat(128)).into_bytes()
    );
    assert_eq!(bulk(&push_args[31]), b"... (12 more arguments)");
    assert_eq!(bulk(&push[4]), c.local_addr().to_string().into_bytes());
    assert_eq!(bulk(&push[5]), b"worker");
    server.stop();
}

#[test]
fn a_monitor_sees_commands_and_one_that_stops_reading_is_cut_off() {
    let server = TestServer::start();
    let mut watcher = server.raw();
    assert_eq!(watcher.call(&["MONITOR"]), b"+OK\r\n");
    let mut c = server.raw();
    c.call(&["SET", "k", "v"]);
    let Frame::Simple(line) = watcher.read() else {
        panic!("a monitor line is a status reply");
    };
    let line = String::from_utf8(line).unwrap();
    assert!(
        line.ends_with(&format!("[0 {}] \"SET\" \"k\" \"v\"", c.local_addr())),
        "{line}"
    );
    let list = c.call(&["CLIENT", "LIST"]);
    assert!(
        String::from_utf8_lossy(&list).contains("flags=O"),
        "{}",
        String::from_utf8_lossy(&list)
    );

    // A second monitor that never reads, under a small output limit: the
    // server closes it once its lines pass the limit, and serves on.
    c.call(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "normal 64kb 0 0",
    ]);
    let mut idle = server.raw();
    assert_eq!(idle.call(&["MONITOR"]), b"+OK\r\n");
    // 20 MB of lines: more than the kernel's socket buffers hold, so the
    // lines pile up in the server until the limit cuts the monitor off.
    let value = "v".repeat(10_000);
    for i in 0..2000 {
        c.call(&["SET", &format!("key{i}"), &value]);
    }
    // `$10000\r\n` + the value + `\r\n`.
    assert_eq!(c.call(&["GET", "key1999"]).len(), value.len() + 10);
    let rest = idle.read_to_close();
    assert!(
        rest.len() < 2000 * 10_000,
        "the idle monitor was cut off ({} bytes)",
        rest.len()
    );
    // The reading monitor is still served.
    c.call(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "normal 0 0 0",
    ]);
    assert_eq!(c.call(&["PING"]), b"+PONG\r\n");
    server.stop();
}

#[test]
fn latency_samples_commands_over_the_threshold() {
    let server = TestServer::with_config(|c| c.enable_debug_command = ProtectedAction::Yes);
    let mut c = server.raw();
    c.call(&["CONFIG", "SET", "latency-monitor-threshold", "20"]);
    c.call(&["GET", "fast"]);
    assert_eq!(
        c.call(&["LATENCY", "LATEST"]),
        b"*0\r\n",
        "a fast GET is not sampled"
    );
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0.05"]), b"+OK\r\n");
    let Frame::Array(events) = c.frame(&["LATENCY", "LATEST"]) else {
        panic!("LATEST replies an array");
    };
    let [Frame::Array(event)] = events.as_slice() else {
        panic!("one event: {events:?}");
    };
    assert_eq!(bulk(&event[0]), b"command");
    let (Frame::Integer(latest), Frame::Integer(max)) = (&event[2], &event[3]) else {
        panic!("latencies are integers: {event:?}");
    };
    assert!(*latest >= 50 && max >= latest, "{event:?}");
    let Frame::Array(history) = c.frame(&["LATENCY", "HISTORY", "command"]) else {
        panic!("HISTORY replies an array");
    };
    assert_eq!(history.len(), 1);
    assert_eq!(
        c.call(&["LATENCY", "RESET", "command", "nosuch"]),
        b":1\r\n"
    );
    assert_eq!(c.call(&["LATENCY", "LATEST"]), b"*0\r\n");
    server.stop();
}

#[test]
fn latency_doctor_and_graph_report_the_samples() {
    let server = TestServer::with_config(|c| c.enable_debug_command = ProtectedAction::Yes);
    let mut c = server.raw();
    let doctor = bulk(&c.frame(&["LATENCY", "DOCTOR"]));
    assert!(
        doctor.starts_with(b"I'm sorry, Dave, I can't do that. Latency monitoring is disabled"),
        "{}",
        String::from_utf8_lossy(&doctor)
    );
    assert_eq!(
        c.call(&["LATENCY", "GRAPH", "command"]),
        b"-ERR No samples available for event 'command'\r\n"
    );
    c.call(&["CONFIG", "SET", "latency-monitor-threshold", "10"]);
    let doctor = String::from_utf8(bulk(&c.frame(&["LATENCY", "DOCTOR"]))).unwrap();
    assert!(
        doctor.starts_with("Dave, no latency spike was observed"),
        "{doctor}"
    );
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0.02"]), b"+OK\r\n");
    let doctor = String::from_utf8(bulk(&c.frame(&["LATENCY", "DOCTOR"]))).unwrap();
    assert!(
        doctor.starts_with("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n1. command: 1 latency spikes (average 2"),
        "{doctor}"
    );
    // The slow log threshold (10 ms) is not above the monitor's: no tuning
    // advice, but the advice every `command` spike gets.
    assert!(
        !doctor.contains("Your current Slow Log configuration"),
        "{doctor}"
    );
    assert!(
        doctor.contains("\n\nI have a few advices for you:\n\n- Check your Slow Log"),
        "{doctor}"
    );
    let graph = String::from_utf8(bulk(&c.frame(&["LATENCY", "GRAPH", "command"]))).unwrap();
    let lines: Vec<&str> = graph.lines().collect();
    assert!(lines[0].starts_with("command - high 2"), "{graph}");
    assert_eq!(lines[1], "-".repeat(80));
    // One sample: the lowest step, then the margin and its age label.
    assert_eq!(&lines[2..7], [" ", " ", " ", "_", " "], "{graph}");
    assert!(lines[7].chars().all(|ch| ch.is_ascii_digit()), "{graph}");
    server.stop();
}

#[test]
fn latency_histograms_count_each_command_until_reset() {
    let server = TestServer::start();
    let mut c = server.raw();
    for _ in 0..3 {
        c.call(&["SET", "k", "v"]);
    }
    c.call(&["CONFIG", "GET", "maxmemory"]);
    let Frame::Array(reply) = c.frame(&["LATENCY", "HISTOGRAM", "set", "config", "nosuch"]) else {
        panic!("a map (an array in RESP2)");
    };
    // set, then config|get (a container names its subcommands).
    assert_eq!(bulk(&reply[0]), b"set");
    assert_eq!(bulk(&reply[2]), b"config|get");
    assert_eq!(reply.len(), 4, "{reply:?}");
    let Frame::Array(set) = &reply[1] else {
        panic!("{reply:?}")
    };
    assert_eq!(bulk(&set[0]), b"calls");
    assert_eq!(set[1], Frame::Integer(3));
    let Frame::Array(cdf) = &set[3] else {
        panic!("{set:?}")
    };
    // Bucket upper ends (µs) rising, cumulative counts rising to 3.
    let pairs: Vec<(i64, i64)> = cdf
        .chunks(2)
        .map(|p| match p {
            [Frame::Integer(us), Frame::Integer(n)] => (*us, *n),
            _ => panic!("{cdf:?}"),
        })
        .collect();
    assert!(
        pairs.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1),
        "{pairs:?}"
    );
    assert_eq!(pairs.last().map(|p| p.1), Some(3));
    let info = String::from_utf8(c.call(&["INFO", "latencystats"])).unwrap();
    let line = info
        .lines()
        .find(|l| l.starts_with("latency_percentiles_usec_set:"))
        .unwrap_or_else(|| panic!("{info}"));
    let fields: Vec<&str> = line.split(':').nth(1).unwrap().split(',').collect();
    assert_eq!(fields.len(), 3);
    assert!(
        fields[0].starts_with("p50=") && fields[2].starts_with("p99.9="),
        "{line}"
    );
    c.call(&[
        "CONFIG",
        "SET",
        "latency-tracking-info-percentiles",
        "0 100",
    ]);
    let info = String::from_utf8(c.call(&["INFO", "latencystats"])).unwrap();
    assert!(info.contains("latency_percentiles_usec_set:p0="), "{info}");
    assert!(info.contains(",p100="), "{info}");
    c.call(&["CONFIG", "RESETSTAT"]);
    let reply = c.call(&["LATENCY", "HISTOGRAM", "set"]);
    assert_eq!(reply, b"*0\r\n");
    c.call(&["CONFIG", "SET", "latency-tracking", "no"]);
    c.call(&["SET", "k", "v"]);
    assert_eq!(c.call(&["LATENCY", "HISTOGRAM", "set"]), b"*0\r\n");
    assert_eq!(
        c.call(&["INFO", "latencystats"]),
        b"$16\r\n# Latencystats\r\n\r\n"
    );
    server.stop();
}

#[test]
fn a_served_blocking_command_is_logged_and_a_timed_out_one_is_not() {
    let server = TestServer::start();
    let mut c = server.raw();
    let mut pusher = server.raw();
    c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    assert_eq!(c.call(&["BLPOP", "none", "0.01"]), b"*-1\r\n");
    c.call(&["SLOWLOG", "RESET"]);
    c.cmd(&["BLPOP", "list", "0"]);
    let blocked = &server.handle().state().keyspace().blocked;
    common::eventually("BLPOP blocked", || blocked.count() == 1);
    assert_eq!(pusher.call(&["RPUSH", "list", "x"]), b":1\r\n");
    assert_eq!(c.read_raw(), b"*2\r\n$4\r\nlist\r\n$1\r\nx\r\n");
    let Frame::Array(entries) = c.frame(&["SLOWLOG", "GET"]) else {
        panic!("an array");
    };
    // Newest first: SLOWLOG GET is not logged yet; the BLPOP, then the RPUSH
    // that served it.
    let names: Vec<Vec<u8>> = entries
        .iter()
        .map(|e| match e {
            Frame::Array(fields) => match &fields[3] {
                Frame::Array(args) => bulk(&args[0]),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        [b"BLPOP".to_vec(), b"RPUSH".to_vec(), b"SLOWLOG".to_vec()]
    );
    server.stop();
}
