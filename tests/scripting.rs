//! Scripts as a running server treats them: a script runs alone (no other
//! client's command between its own), a runaway one is answered BUSY for
//! and stopped by SCRIPT KILL, its effects reach the append-only file as a
//! MULTI/EXEC block and survive a restart, and FUNCTION libraries are saved
//! in the dump. (Replies, errors and the Lua environment are compared with
//! Redis's in tests/compat/scripting.txt.)

mod common;

use common::{TestServer, temp_dir, with_dir};
use sedis::Config;

const KEYS: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

#[cfg_attr(not(feature = "scripting"), ignore = "needs the scripting feature")]
#[test]
fn no_command_of_another_client_runs_between_a_scripts_commands() {
    let server = TestServer::start();
    let addr = server.addr;
    let rounds = 3000;
    let writer = std::thread::spawn(move || {
        let mut c = common::Raw::connect(addr);
        let mut argv = vec![
            "EVAL",
            "for i = 1, #KEYS do redis.call('incr', KEYS[i]) end",
            "8",
        ];
        argv.extend(KEYS);
        for _ in 0..rounds {
            c.call(&argv);
        }
    });
    // The keys lie in different shards; a reader of all of them never
    // sees some incremented and others not yet.
    let mut reader = server.raw();
    let mut mget = vec!["MGET"];
    mget.extend(KEYS);
    loop {
        let sedis::Frame::Array(values) = reader.frame(&mget) else {
            panic!("MGET replies an array")
        };
        let values: Vec<String> = values
            .into_iter()
            .map(|v| match v {
                sedis::Frame::NullBulk => "0".to_string(),
                v => common::text(v),
            })
            .collect();
        assert!(
            values.iter().all(|v| *v == values[0]),
            "saw {values:?} mid-script"
        );
        if values[0] == rounds.to_string() {
            break;
        }
    }
    writer.join().unwrap();
    server.stop();
}

/// A server that answers BUSY once a script has run for 50 ms.
fn impatient_server() -> TestServer {
    TestServer::with_config(|c: &mut Config| c.busy_reply_threshold = 50)
}

/// Waits (with commands, not sleeps) until `other` is answered BUSY, and
/// returns that reply.
fn busy_reply(other: &mut common::Raw) -> Vec<u8> {
    loop {
        let reply = other.call(&["PING"]);
        if reply.starts_with(b"-BUSY") {
            return reply;
        }
    }
}

/// The error a killed script's client gets (Redis words it alike for
/// SCRIPT KILL and FUNCTION KILL).
fn assert_killed(runner: &mut common::Raw) {
    let killed = String::from_utf8_lossy(&runner.read_raw()).into_owned();
    assert!(
        killed.starts_with("-ERR Script killed by user with SCRIPT KILL..."),
        "{killed}"
    );
}

#[cfg_attr(not(feature = "scripting"), ignore = "needs the scripting feature")]
#[test]
fn a_runaway_script_gets_others_busy_and_script_kill_stops_it() {
    let server = impatient_server();
    let mut runner = server.raw();
    runner.cmd(&["EVAL", "while true do end", "0"]);
    let mut other = server.raw();
    // Others wait, then are told BUSY once the threshold has passed.
    let busy = busy_reply(&mut other);
    assert_eq!(
        busy,
        b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
    );
    // FUNCTION KILL stops functions only.
    assert_eq!(other.call(&["FUNCTION", "KILL"]), busy);
    assert_eq!(other.call(&["SCRIPT", "KILL"]), b"+OK\r\n");
    assert_killed(&mut runner);
    // The server goes on.
    assert_eq!(other.call(&["SET", "x", "1"]), b"+OK\r\n");
    assert_eq!(
        other.call(&["SCRIPT", "KILL"]),
        b"-NOTBUSY No scripts in execution right now.\r\n"
    );
    server.stop();
}

#[cfg_attr(not(feature = "scripting"), ignore = "needs the scripting feature")]
#[test]
fn a_runaway_function_is_reported_by_function_stats_and_stopped_by_function_kill() {
    let server = impatient_server();
    let mut runner = server.raw();
    runner.call(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=spin\nredis.register_function('spin', function() while true do end end)",
    ]);
    runner.cmd(&["FCALL", "spin", "0"]);
    let mut other = server.raw();
    let busy = busy_reply(&mut other);
    assert_eq!(
        busy,
        b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
    );
    let stats = String::from_utf8_lossy(&other.call(&["FUNCTION", "STATS"])).into_owned();
    assert!(
        stats.starts_with("*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n$7\r\ncommand\r\n*3\r\n$5\r\nFCALL\r\n"),
        "{stats}"
    );
    // SCRIPT KILL stops scripts only.
    assert_eq!(other.call(&["SCRIPT", "KILL"]), busy);
    assert_eq!(other.call(&["FUNCTION", "KILL"]), b"+OK\r\n");
    assert_killed(&mut runner);
    assert_eq!(other.call(&["PING"]), b"+PONG\r\n");
    server.stop();
}

#[cfg_attr(not(feature = "scripting"), ignore = "needs the scripting feature")]
#[test]
fn a_script_that_wrote_cannot_be_killed() {
    let server = impatient_server();
    let mut runner = server.raw();
    // Ends by itself, after long enough for the others to look.
    runner.cmd(&[
        "EVAL",
        "redis.call('set', 'x', 1) local t = redis.call('time')[1] \
         while redis.call('time')[1] - t < 1 do end return 'done'",
        "0",
    ]);
    let mut other = server.raw();
    loop {
        let reply = other.call(&["SCRIPT", "KILL"]);
        if reply != b"-NOTBUSY No scripts in execution right now.\r\n" {
            assert_eq!(
                reply,
                b"-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n"
            );
            break;
        }
    }
    assert_eq!(runner.read_raw(), b"$4\r\ndone\r\n");
    server.stop();
}

#[cfg_attr(not(feature = "scripting"), ignore = "needs the scripting feature")]
#[test]
fn a_scripts_effects_are_logged_as_one_transaction_and_replayed() {
    let dir = temp_dir("script-aof");
    let config = |c: &mut Config| {
        with_dir(&dir)(c);
        c.appendonly = true;
        c.appendfsync = sedis::config::FsyncPolicy::Always;
    };
    let server = TestServer::with_config(config);
    let mut c = server.raw();
    c.call(&[
        "EVAL",
        "redis.call('set', KEYS[1], 'a') redis.call('select', 2) redis.call('rpush', KEYS[1], 'b') return 1",
        "1",
        "k",
    ]);
    c.call(&["EVAL", "return redis.call('incr', 'n')", "0"]);
    c.call(&["EVAL", "return redis.call('get', 'n')", "0"]);
    c.call(&[
        "EVAL",
        "redis.set_repl(redis.REPL_NONE) redis.call('set', 'unlogged', 1) return 1",
        "0",
    ]);
    assert_eq!(
        common::aof_commands(&dir),
        [
            "SELECT 0",
            "MULTI",
            "set k a",
            "SELECT 2",
            "rpush k b",
            "EXEC",
            "SELECT 0",
            "incr n",
        ]
    );
    server.stop();
    let server = TestServer::with_config(config);
    let mut c = server.raw();
    assert_eq!(c.call(&["GET", "k"]), b"$1\r\na\r\n");
    assert_eq!(c.call(&["GET", "n"]), b"$1\r\n1\r\n");
    assert_eq!(c.call(&["EXISTS", "unlogged"]), b":0\r\n");
    c.call(&["SELECT", "2"]);
    assert_eq!(c.call(&["LRANGE", "k", "0", "-1"]), b"*1\r\n$1\r\nb\r\n");
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

const LIBRARY: &str = "#!lua name=lib\nredis.register_function('hello', function(keys, args) return 'hello ' .. args[1] end)";

#[cfg_attr(not(feature = "scripting"), ignore = "needs the scripting feature")]
#[test]
fn libraries_are_saved_in_the_dump_and_loaded_at_start() {
    let dir = temp_dir("script-rdb");
    let server = TestServer::with_config(with_dir(&dir));
    let mut c = server.raw();
    assert_eq!(c.call(&["FUNCTION", "LOAD", LIBRARY]), b"$3\r\nlib\r\n");
    assert_eq!(c.call(&["SAVE"]), b"+OK\r\n");
    server.stop();
    let server = TestServer::with_config(with_dir(&dir));
    let mut c = server.raw();
    assert_eq!(
        c.call(&["FCALL", "hello", "0", "you"]),
        b"$9\r\nhello you\r\n"
    );
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

#[cfg_attr(not(feature = "scripting"), ignore = "needs the scripting feature")]
#[test]
fn a_dump_payload_restores_what_it_held() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.call(&["FUNCTION", "LOAD", LIBRARY]);
    let sedis::Frame::Bulk(payload) = c.frame(&["FUNCTION", "DUMP"]) else {
        panic!("FUNCTION DUMP is a bulk string")
    };
    c.call(&["FUNCTION", "FLUSH"]);
    assert_eq!(c.call_bin(&[b"FUNCTION", b"RESTORE", &payload]), b"+OK\r\n");
    assert_eq!(
        c.call(&["FCALL", "hello", "0", "again"]),
        b"$11\r\nhello again\r\n"
    );
    // APPEND refuses a library already there; nothing changes.
    assert_eq!(
        c.call_bin(&[b"FUNCTION", b"RESTORE", &payload]),
        b"-ERR Library lib already exists\r\n"
    );
    assert_eq!(
        c.call_bin(&[b"FUNCTION", b"RESTORE", &payload, b"REPLACE"]),
        b"+OK\r\n"
    );
    // A flipped byte fails the checksum.
    let mut broken = payload.clone();
    broken[3] ^= 1;
    assert_eq!(
        c.call_bin(&[b"FUNCTION", b"RESTORE", &broken]),
        b"-ERR DUMP payload version or checksum are wrong\r\n"
    );
    server.stop();
}

/// Resident memory of this process (the server runs in it), in KiB.
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4
}

/// Scripts that fail in every way Redis reports (a raised error, an error
/// table, a failed `redis.call`, a runtime error, a compile error, a
/// deep recursion) leave neither Lua memory nor server memory behind.
/// `SEDIS_SOAK_EVALS=1000000 cargo test --release --test scripting failing`
/// is the long run.
#[cfg_attr(not(feature = "scripting"), ignore = "needs the scripting feature")]
#[test]
fn failing_scripts_leave_nothing_behind() {
    let total: usize = std::env::var("SEDIS_SOAK_EVALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30_000);
    let failing = [
        "error('raised')",
        "return redis.error_reply('MINE failed')",
        "return redis.call('incr', KEYS[1])",
        "local t = nil return t.x",
        "return 1 +",
        "local function f(n) return f(n + 1) + 1 end return f(1)",
        "return redis.call('nosuchcommand')",
        "local t = {} for i = 1, 1000 do t[i] = i end error(t)",
    ];
    let server = TestServer::start();
    let mut c = server.raw();
    c.call(&["SET", "text", "not a number"]);
    let lua_memory = |c: &mut common::Raw| c.info(&["memory"]).number("used_memory_lua");
    let batch = 500;
    let mut sent = 0;
    let mut warm = None;
    while sent < total {
        let mut pipeline = Vec::new();
        for i in 0..batch {
            let script = failing[(sent + i) % failing.len()];
            sedis::Frame::encode_request(&["EVAL", script, "1", "text"], &mut pipeline);
        }
        c.send(&pipeline);
        for _ in 0..batch {
            assert!(c.read().is_error());
        }
        sent += batch;
        if warm.is_none() && sent >= total / 10 {
            warm = Some((lua_memory(&mut c), rss_kib()));
        }
    }
    let (lua_warm, rss_warm) = warm.expect("warmed up");
    let (lua_end, rss_end) = (lua_memory(&mut c), rss_kib());
    eprintln!(
        "{total} failing scripts: Lua memory {lua_warm} -> {lua_end} bytes, \
         resident {rss_warm} -> {rss_end} KiB (after the first tenth -> at the end)"
    );
    // Lua's collector runs in steps: allow it its slack, not a trend.
    assert!(
        lua_end < lua_warm * 2 + 256 * 1024,
        "Lua memory grew from {lua_warm} to {lua_end} bytes"
    );
    assert!(
        rss_end < rss_warm + 16 * 1024,
        "resident memory grew from {rss_warm} to {rss_end} KiB"
    );
    server.stop();
}
