//! MONITOR side by side: one scripted session runs on each server while a
//! monitor watches, and the lines each monitor receives must agree, once
//! the parts that name the moment and the connection's port are set aside.

use sedis::Frame;

use crate::conn::Conn;
use crate::servers::Servers;

/// The session: plain commands, errors, a transaction (and one that
/// aborts), a script and a function with their commands, credentials,
/// administrative commands (never shown), binary arguments, another
/// database, a blocking pop that times out. It ends with `ECHO end`.
fn session() -> Vec<Vec<Vec<u8>>> {
    let lines: &[&[&str]] = &[
        &["SET", "k", "v"],
        &["GET", "k"],
        &["SET", "n", "123"],
        &["INCR", "k"],
        &["NOSUCHCOMMAND", "x"],
        &["GET"],
        &["MULTI"],
        &["SET", "a", "1"],
        &["GET", "a"],
        &["EXEC"],
        &["MULTI"],
        &["SET", "a"],
        &["EXEC"],
        &["AUTH", "secret"],
        &["AUTH", "user", "secret"],
        &["HELLO", "2", "AUTH", "default", "secret"],
        &[
            "EVAL",
            "redis.call('set', KEYS[1], 'x'); return redis.call('get', KEYS[1])",
            "1",
            "s",
        ],
        &["EVAL", "return redis.pcall('nosuch')", "0"],
        &[
            "FUNCTION",
            "LOAD",
            "REPLACE",
            "#!lua name=lib\nredis.register_function('f', function(keys) return redis.call('incr', keys[1]) end)",
        ],
        &["FCALL", "f", "1", "counter"],
        &["EVALSHA", "0000000000000000000000000000000000000000", "0"],
        &["CONFIG", "GET", "port"],
        &["SLOWLOG", "LEN"],
        &["CLIENT", "SETNAME", "watched"],
        &["CLIENT", "GETNAME"],
        &["SET", "quote\"d", "x\ty\x01z\\"],
        &["SELECT", "2"],
        &["SET", "in2", "v"],
        &["SELECT", "0"],
        &["BLPOP", "empty", "0.01"],
        &["DEL", "k", "n", "a", "s", "counter", "quote\"d"],
        &["ECHO", "end"],
    ];
    lines
        .iter()
        .map(|words| words.iter().map(|w| w.as_bytes().to_vec()).collect())
        .collect()
}

/// The monitor lines, each without its timestamp and with the client's
/// address (which differs) named `client`; up to and including `ECHO end`.
fn watch(addr: std::net::SocketAddr, server: &str) -> Vec<String> {
    let mut monitor = Conn::connect(addr).expect("connect a monitor");
    let (ok, _) = monitor.call(&[b"MONITOR".to_vec()]).expect("MONITOR");
    assert_eq!(ok, b"+OK\r\n", "{server}: MONITOR");
    let mut client = Conn::connect(addr).expect("connect");
    for argv in session() {
        client.call(&argv).expect("a reply");
    }
    let mut lines = Vec::new();
    loop {
        let (raw, frame) = monitor.read().expect("a monitor line");
        let Frame::Simple(line) = frame else {
            panic!("{server}: a monitor line is a status reply, got {raw:?}");
        };
        let line = String::from_utf8_lossy(&line).into_owned();
        let (stamp, rest) = line.split_once(' ').expect("a timestamp");
        let (seconds, micros) = stamp.split_once('.').expect("seconds.micros");
        assert!(
            seconds.parse::<u64>().is_ok() && micros.len() == 6,
            "{server}: timestamp {stamp:?}"
        );
        let (place, args) = rest.split_once("] ").expect("[db client]");
        let (db, who) = place
            .trim_start_matches('[')
            .split_once(' ')
            .expect("db and client");
        let who = if who == "lua" { "lua" } else { "client" };
        let done = args == "\"ECHO\" \"end\"";
        lines.push(format!("[{db} {who}] {args}"));
        if done {
            return lines;
        }
    }
}

/// The same session shows the same lines to a monitor of either server.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn monitors_see_what_redis_monitors_see() {
    let servers = Servers::start();
    let redis = watch(servers.redis.addr(), "redis");
    let sedis = watch(servers.sedis.addr, "sedis");
    assert_eq!(
        sedis,
        redis,
        "\nredis:\n{}\nsedis:\n{}",
        redis.join("\n"),
        sedis.join("\n")
    );
}
