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
