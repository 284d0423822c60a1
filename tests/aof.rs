//! The append-only file: what is logged, that a restart replays it to the
//! same state (absolute expiries included), a truncated tail, turning it on
//! at run time, BGREWRITEAOF, and crash tests that kill -9 the server while
//! it is writing and check that no acknowledged write was lost.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::Ordering;

use common::process::ServerProcess;
use common::{TestServer, temp_dir, with_dir};
use sedis::internals::persist::aof::AofPaths;
use sedis::{Config, Frame};

fn aof_config(dir: &Path) -> impl FnOnce(&mut Config) + '_ {
    move |c: &mut Config| {
        with_dir(dir)(c);
        c.appendonly = true;
        c.appendfsync = sedis::config::FsyncPolicy::Always;
    }
}

fn paths(dir: &Path) -> AofPaths {
    AofPaths {
        dir: dir.join("appendonlydir"),
        filename: "appendonly.aof".into(),
    }
}

#[test]
fn blocking_pops_are_logged_as_the_plain_pops_they_were() {
    let dir = temp_dir("blocking");
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    c.call(&["RPUSH", "l", "a", "b", "c"]);
    c.call(&["BLPOP", "l", "0"]);
    c.call(&["BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "5"]);
    c.call(&["ZADD", "z", "1", "m", "2", "n"]);
    c.call(&["BZPOPMIN", "z", "0"]);
    c.call(&["ZMPOP", "1", "z", "MAX", "COUNT", "9"]);
    // A client served later: its pop is logged right after the push.
    let mut waiter = server.raw();
    waiter.cmd(&["BRPOPLPUSH", "src", "dst", "0"]);
    let blocked = &server.handle().state().keyspace().blocked;
    while blocked.count() == 0 {
        std::thread::yield_now();
    }
    c.call(&["LPUSH", "src", "x"]);
    assert_eq!(waiter.read_raw(), b"$1\r\nx\r\n");
    assert_eq!(
        common::aof_commands(&dir),
        [
            "SELECT 0",
            "RPUSH l a b c",
            "LPOP l",
            "RPOP l 2",
            "ZADD z 1 m 2 n",
            "ZPOPMIN z",
            "ZPOPMAX z 1",
            "LPUSH src x",
            "LMOVE src dst RIGHT LEFT",
        ]
    );
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn spop_and_hincrbyfloat_are_logged_as_what_they_did() {
    let dir = temp_dir("hs");
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    c.call(&["SADD", "s", "only"]);
    c.call(&["SPOP", "s"]);
    c.call(&["SADD", "s", "a", "b"]);
    c.call(&["SPOP", "s", "5"]);
    c.call(&["SPOP", "s"]); // nothing left: not logged
    c.call(&["HINCRBYFLOAT", "h", "f", "0.1"]);
    c.call(&["HINCRBYFLOAT", "h", "f", "0.2"]);
    c.call(&["HSET", "h", "g", "1"]);
    c.call(&["HDEL", "h", "nope"]); // deleted nothing: not logged
    let log = common::aof_commands(&dir);
    assert_eq!(log[0], "SELECT 0");
    assert_eq!(log[1], "SADD s only");
    assert_eq!(log[2], "SREM s only");
    assert_eq!(log[3], "SADD s a b");
    // Both popped, in whatever order the pop chose.
    assert!(log[4] == "SREM s a b" || log[4] == "SREM s b a", "{log:#?}");
    assert_eq!(log[5..], ["HSET h f 0.1", "HSET h f 0.3", "HSET h g 1"]);
    drop(c);
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_exec_refused_when_called_is_not_logged() {
    // EXECABORT because memory went over maxmemory after queueing: nothing
    // ran, so neither the queued writes nor MULTI/EXEC reach the file.
    let dir = temp_dir("execabort");
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    let mut admin = server.raw();
    c.call(&["SET", "before", "1"]);
    c.call(&["MULTI"]);
    c.call(&["SET", "queued", "1"]);
    admin.call(&["CONFIG", "SET", "maxmemory", "1"]);
    assert!(
        c.call(&["EXEC"])
            .starts_with(b"-EXECABORT Transaction discarded because of: OOM")
    );
    admin.call(&["CONFIG", "SET", "maxmemory", "0"]);
    c.call(&["SET", "after", "1"]);
    assert_eq!(
        common::aof_commands(&dir),
        ["SELECT 0", "SET before 1", "SET after 1"]
    );
    drop((c, admin));
    server.stop();
    // And a restart replays the file as it is.
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    assert_eq!(c.call(&["EXISTS", "before", "queued", "after"]), b":2\r\n");
    drop(c);
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn writes_are_logged_as_redis_logs_them() {
    let dir = temp_dir("log");
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    c.call(&["SET", "a", "1"]);
    c.call(&["GET", "a"]); // reads are not logged
    c.call(&["SET", "b", "2", "EX", "100"]);
    c.call(&["SET", "c", "3", "GET"]);
    c.call(&["EXPIRE", "a", "50", "NX"]);
    c.call(&["INCRBYFLOAT", "f", "1.5"]);
    c.call(&["GETSET", "c", "4"]);
    c.call(&["GETDEL", "c"]);
    c.call(&["SELECT", "2"]);
    c.call(&["SET", "x", "y"]);
    c.call(&["SELECT", "0"]);
    c.send(b"MULTI\r\nSET t1 1\r\nSET t2 2\r\nEXEC\r\n");
    for _ in 0..4 {
        c.read();
    }
    c.call(&["SET", "never", "x", "NX"]);
    c.call(&["SET", "never", "y", "NX"]); // did nothing: not logged
    c.call(&["FLUSHDB"]);
    let log = common::aof_commands(&dir);
    let expected_shapes = [
        "SELECT 0",
        "SET a 1",
        "SET b 2 PXAT ",
        "SET c 3",
        "PEXPIREAT a ",
        "SET f 1.5 KEEPTTL",
        "SET c 4",
        "DEL c",
        "SELECT 2",
        "SET x y",
        "SELECT 0",
        "MULTI",
        "SET t1 1",
        "SET t2 2",
        "EXEC",
        "SET never x NX",
        "FLUSHDB",
    ];
    assert_eq!(log.len(), expected_shapes.len(), "{log:#?}");
    for (got, shape) in log.iter().zip(expected_shapes) {
        assert!(
            got.starts_with(shape),
            "{got:?} should start with {shape:?}\n{log:#?}"
        );
    }
    assert!(log[4].ends_with(" NX"), "options kept: {}", log[4]);
    drop(c);
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

/// Bitmap writes are logged as received, and only when they changed bits
/// (as Redis's dirty counter decides): a SETBIT to the bit's value, a
/// BITFIELD that only reads or whose writes all failed or changed nothing,
/// BITFIELD_RO and BITOP with nothing to store or delete are not. A
/// restart replays them to the same bytes.
#[test]
fn bitmap_writes_are_logged_when_they_change_bits() {
    let dir = temp_dir("bitmaps");
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    c.call(&["SETBIT", "b", "7", "1"]);
    c.call(&["SETBIT", "b", "7", "1"]);
    c.call(&["GETBIT", "b", "7"]);
    c.call(&["BITFIELD", "b", "GET", "u8", "0"]);
    c.call(&["BITFIELD", "b", "SET", "u8", "0", "1"]);
    c.call(&["BITFIELD", "b", "INCRBY", "u8", "0", "1", "GET", "u4", "0"]);
    c.call(&[
        "BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "255",
    ]);
    c.call(&["BITFIELD_RO", "b", "GET", "u8", "0"]);
    c.call(&["BITOP", "NOT", "n", "b"]);
    c.call(&["BITOP", "AND", "gone", "missing"]);
    c.call(&["BITOP", "AND", "n", "missing"]);
    c.call(&["BITOP", "OR", "o", "b", "b"]);
    c.call(&["BITCOUNT", "b"]);
    let log = common::aof_commands(&dir);
    let expected = [
        "SELECT 0",
        "SETBIT b 7 1",
        "BITFIELD b INCRBY u8 0 1 GET u4 0",
        "BITOP NOT n b",
        "BITOP AND n missing",
        "BITOP OR o b b",
    ];
    assert_eq!(log, expected);
    server.stop();
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    assert_reply!(c, ["GET", "b"], b"$1\r\n\x02\r\n");
    assert_reply!(c, ["GET", "o"], b"$1\r\n\x02\r\n");
    assert_reply!(c, ["EXISTS", "n"], b":0\r\n");
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

/// RESTORE is logged with an absolute deadline (ABSTTL appended, as Redis
/// rewrites it), a REPLACE whose deadline has passed as the DEL it amounts
/// to, and nothing for a refused or already-expired restore of a new key;
/// SORT only when it stores. A restart replays them to the same state.
#[test]
fn restore_and_sort_are_logged_as_redis_logs_them() {
    let dir = temp_dir("restore");
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    c.call(&["SET", "s", "hello"]);
    let Frame::Bulk(payload) = c.frame(&["DUMP", "s"]) else {
        panic!("DUMP replies a bulk string");
    };
    let restore = |c: &mut common::Raw, args: &[&[u8]]| {
        let mut argv: Vec<&[u8]> = vec![b"RESTORE"];
        argv.extend_from_slice(args);
        c.call_bin(&argv)
    };
    assert_eq!(restore(&mut c, &[b"r1", b"0", &payload]), b"+OK\r\n");
    assert_eq!(restore(&mut c, &[b"r2", b"100000", &payload]), b"+OK\r\n");
    assert_eq!(
        restore(&mut c, &[b"r3", b"1", &payload, b"ABSTTL"]),
        b"+OK\r\n"
    );
    assert_eq!(
        restore(&mut c, &[b"r1", b"1", &payload, b"ABSTTL", b"REPLACE"]),
        b"+OK\r\n"
    );
    assert!(restore(&mut c, &[b"s", b"0", &payload]).starts_with(b"-BUSYKEY"));
    c.call(&["RPUSH", "l", "2", "3", "1"]);
    c.call(&["SORT", "l"]);
    c.call(&["SORT", "l", "DESC", "STORE", "sorted"]);
    let log = common::aof_commands(&dir);
    let shapes: Vec<String> = log
        .iter()
        .map(|line| line.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        shapes,
        [
            "SELECT 0",
            "SET s",
            "RESTORE r1",
            "RESTORE r2",
            "DEL r1",
            "RPUSH l",
            "SORT l"
        ],
        "{log:#?}"
    );
    assert!(log[3].ends_with(" ABSTTL"), "{}", log[3]);
    assert!(
        !log[3].contains(" 100000 "),
        "a deadline, not a TTL: {}",
        log[3]
    );
    server.stop();
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    assert_reply!(c, ["EXISTS", "r1", "r3"], b":0\r\n");
    assert_reply!(c, ["GET", "r2"], b"$5\r\nhello\r\n");
    assert_reply!(
        c,
        ["LRANGE", "sorted", "0", "-1"],
        b"*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n"
    );
    let Frame::Integer(ttl) = c.frame(&["TTL", "r2"]) else {
        panic!("TTL replies an integer");
    };
    assert!((99_000..=100_000).contains(&(ttl * 1000)), "TTL {ttl}");
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

/// PFADD is logged when it changes a register, PFMERGE always, PFCOUNT
/// when it refreshed the cached cardinality (a write to the string, as in
/// Redis) and PFDEBUG when it converted the encoding: the lines Redis
/// 7.0.15 writes for the same commands. A restart replays them to the same
/// bytes.
#[test]
fn hyperloglog_writes_are_logged_as_redis_propagates_them() {
    let dir = temp_dir("hyperloglog");
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    c.call(&["PFADD", "h", "a", "b"]);
    c.call(&["PFADD", "h", "a"]);
    c.call(&["PFCOUNT", "h"]);
    c.call(&["PFCOUNT", "h"]);
    c.call(&["PFCOUNT", "h", "missing"]);
    c.call(&["PFMERGE", "m", "h"]);
    c.call(&["PFDEBUG", "ENCODING", "m"]);
    c.call(&["PFDEBUG", "TODENSE", "m"]);
    c.call(&["PFDEBUG", "TODENSE", "m"]);
    c.call(&["PFDEBUG", "GETREG", "h"]);
    let before_h = c.call(&["GET", "h"]);
    let before_m = c.call(&["GET", "m"]);
    let log = common::aof_commands(&dir);
    let expected = [
        "SELECT 0",
        "PFADD h a b",
        "PFCOUNT h",
        "PFMERGE m h",
        "PFDEBUG TODENSE m",
        "PFDEBUG GETREG h",
    ];
    assert_eq!(log, expected);
    server.stop();
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    assert_eq!(c.call(&["GET", "h"]), before_h);
    assert_eq!(c.call(&["GET", "m"]), before_m);
    assert_reply!(c, ["PFDEBUG", "ENCODING", "m"], b"+dense\r\n");
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

/// GEOADD is logged as the ZADD it runs (the places' scores computed
/// once), only when it changed the set; the stores are logged as
/// received when they wrote or deleted their destination: the lines Redis
/// 7.0.15 writes for the same commands. A restart replays them to the same
/// places.
#[test]
fn geo_writes_are_logged_as_redis_propagates_them() {
    let dir = temp_dir("geo");
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    c.call(&["GEOADD", "g", "CH", "13.361389", "38.115556", "Palermo"]);
    c.call(&["GEOADD", "g", "13.361389", "38.115556", "Palermo"]);
    c.call(&["GEOADD", "g", "NX", "15.087269", "37.502669", "Catania"]);
    c.call(&["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "near"]);
    c.call(&["GEORADIUS", "g", "15", "37", "1", "m", "STORE", "none"]);
    c.call(&["GEORADIUS_RO", "g", "15", "37", "200", "km"]);
    c.call(&[
        "GEOSEARCHSTORE",
        "d",
        "g",
        "FROMMEMBER",
        "Palermo",
        "BYRADIUS",
        "500",
        "km",
        "STOREDIST",
    ]);
    c.call(&[
        "GEOSEARCHSTORE",
        "d",
        "g",
        "FROMLONLAT",
        "0",
        "0",
        "BYRADIUS",
        "1",
        "km",
    ]);
    let before = c.call(&["GEOPOS", "g", "Palermo", "Catania"]);
    let near = c.call(&["ZRANGE", "near", "0", "-1", "WITHSCORES"]);
    let log = common::aof_commands(&dir);
    let expected = [
        "SELECT 0",
        "zadd g CH 3479099956230698 Palermo",
        "zadd g NX 3479447370796909 Catania",
        "GEORADIUS g 15 37 200 km STORE near",
        "GEOSEARCHSTORE d g FROMMEMBER Palermo BYRADIUS 500 km STOREDIST",
        "GEOSEARCHSTORE d g FROMLONLAT 0 0 BYRADIUS 1 km",
    ];
    assert_eq!(log, expected);
    server.stop();
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    assert_eq!(c.call(&["GEOPOS", "g", "Palermo", "Catania"]), before);
    assert_eq!(c.call(&["ZRANGE", "near", "0", "-1", "WITHSCORES"]), near);
    assert_reply!(c, ["EXISTS", "d", "none"], b":0\r\n");
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_restart_replays_to_the_same_state_with_absolute_expiries() {
    let dir = temp_dir("replay");
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    c.call(&["SET", "k", "v", "PX", "2000"]);
    c.call(&["RPUSH-NOT-A-COMMAND"]);
    c.call(&["SET", "n", "10"]);
    c.call(&["INCRBY", "n", "5"]);
    c.call(&["SELECT", "3"]);
    c.call(&["SET", "in3", "x"]);
    c.call(&["SET", "gone", "x", "PX", "1"]);
    server.stop();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    assert_reply!(c, ["GET", "n"], b"$2\r\n15\r\n");
    // The TTL kept running while the server was down: it did not restart.
    let pttl = c.call(&["PTTL", "k"]);
    let pttl: i64 = String::from_utf8_lossy(&pttl[1..pttl.len() - 2])
        .parse()
        .unwrap();
    assert!((1..1750).contains(&pttl), "pttl {pttl}");
    assert_reply!(c, ["SELECT", "3"], b"+OK\r\n");
    assert_reply!(c, ["GET", "in3"], b"$1\r\nx\r\n");
    assert_reply!(c, ["EXISTS", "gone"], b":0\r\n");
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_truncated_last_command_is_loaded_up_to_it_and_cut_off() {
    let dir = temp_dir("truncated");
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    c.call(&["SET", "complete", "yes"]);
    server.stop();
    let paths = paths(&dir);
    let manifest = paths.read_manifest().unwrap().unwrap();
    let incr = paths.file(&manifest.incrs[0].name);
    let whole_len = std::fs::metadata(&incr).unwrap().len();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&incr)
        .unwrap()
        .write_all(b"*3\r\n$3\r\nSET\r\n$3\r\nhal")
        .unwrap();
    // With aof-load-truncated no, the server refuses to start...
    let refused = sedis::Server::bind(Config {
        port: 0,
        save: Vec::new(),
        loglevel: sedis::config::LogLevel::Nothing,
        aof_load_truncated: false,
        dir: dir.to_str().unwrap().to_string(),
        appendonly: true,
        ..Config::default()
    });
    assert!(refused.is_err());
    // ...with the default (yes) it loads what is complete and cuts the rest.
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    assert_reply!(c, ["GET", "complete"], b"$3\r\nyes\r\n");
    assert_eq!(std::fs::metadata(&incr).unwrap().len(), whole_len);
    c.call(&["SET", "after", "1"]);
    server.stop();
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    assert_reply!(c, ["GET", "after"], b"$1\r\n1\r\n");
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn turning_the_aof_on_at_run_time_writes_a_base_first_and_rewrites_compact_it() {
    let dir = temp_dir("enable");
    let server = TestServer::with_config(with_dir(&dir));
    let mut c = server.raw();
    for i in 0..100 {
        c.call(&["SET", &format!("before{i}"), "x"]);
    }
    let state = server.handle().state().clone();
    state.update_config(|config| config.appendonly = true);
    wait_for_rewrite(&state);
    c.call(&["SET", "after", "y"]);
    assert_eq!(common::aof_commands(&dir), ["SELECT 0", "SET after y"]);
    for i in 0..50 {
        c.call(&["INCR", "counter"]);
        let _ = i;
    }
    assert_reply!(
        c,
        ["BGREWRITEAOF"],
        b"+Background append only file rewriting started\r\n"
    );
    wait_for_rewrite(&state);
    let manifest = paths(&dir).read_manifest().unwrap().unwrap();
    assert_eq!(
        manifest.base.as_ref().unwrap().seq,
        2,
        "a second base replaced the first"
    );
    assert!(
        common::aof_commands(&dir).is_empty(),
        "the rewrite moved everything into the base"
    );
    server.stop();
    let server = TestServer::with_config(aof_config(&dir));
    let mut c = server.raw();
    assert_reply!(c, ["GET", "counter"], b"$2\r\n50\r\n");
    assert_reply!(c, ["GET", "before99"], b"$1\r\nx\r\n");
    assert_reply!(c, ["DBSIZE"], b":102\r\n");
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_aof_rewrites_itself_once_it_has_grown_by_the_percentage() {
    let dir = temp_dir("auto");
    let server = TestServer::with_config(|c| {
        aof_config(&dir)(c);
        c.auto_aof_rewrite_min_size = 4096;
        c.auto_aof_rewrite_percentage = 100;
    });
    let state = server.handle().state().clone();
    let mut c = server.raw();
    let info = |c: &mut common::Raw, field: &str| c.info(&["persistence"]).number(field);
    let rewrites = state.aof.rewrites.load(Ordering::Relaxed);
    // Below the minimum size nothing happens, whatever the growth.
    c.call(&["SET", "small", "x"]);
    assert!(info(&mut c, "aof_current_size") < 4096);
    // Overwriting one key grows the log, not the dataset: past twice the
    // base (and the minimum), the saver rewrites it.
    let value = "v".repeat(200);
    while info(&mut c, "aof_current_size") <= 4096 {
        c.call(&["SET", "key", &value]);
    }
    common::eventually("an automatic rewrite", || {
        state.aof.rewrites.load(Ordering::Relaxed) != rewrites
    });
    wait_for_rewrite(&state);
    let base = info(&mut c, "aof_base_size");
    assert!(
        base < 1024,
        "the new base holds two keys, not the history: {base}"
    );
    assert_eq!(info(&mut c, "aof_current_size"), base);
    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_full_disk_refuses_writes_with_misconf_and_acknowledges_nothing_unlogged() {
    let dir = temp_dir("full");
    let server = TestServer::with_config(|c| {
        aof_config(&dir)(c);
        c.appendfsync = sedis::config::FsyncPolicy::EverySec;
    });
    let mut c = server.raw();
    assert_eq!(c.call(&["SET", "before", "1"]), b"+OK\r\n");
    let paths = paths(&dir);
    let manifest = paths.read_manifest().unwrap().expect("manifest");
    let incr = paths.file(&manifest.incrs.last().expect("an incr file").name);

    // The disk fills up: the log now writes to /dev/full (ENOSPC).
    let log = &server.handle().state().aof.log;
    let full = std::fs::OpenOptions::new()
        .append(true)
        .open("/dev/full")
        .unwrap();
    log.start(full, sedis::config::FsyncPolicy::EverySec);

    // The write that cannot be logged is not acknowledged: the connection
    // closes without a reply.
    let mut writer = server.raw();
    writer.send(b"*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$1\r\n1\r\n");
    assert_eq!(writer.read_to_close(), b"");
    // Later writes are refused with Redis's error; reads still work.
    assert_eq!(
        c.call(&["SET", "refused", "1"]),
        b"-MISCONF Errors writing to the AOF file: No space left on device\r\n".to_vec()
    );
    assert_eq!(c.call(&["GET", "before"]), b"$1\r\n1\r\n");
    let info = String::from_utf8(c.call(&["INFO", "persistence"])).unwrap();
    assert!(info.contains("aof_last_write_status:err"), "{info}");

    // Space again: the pending bytes go out at the next fsync tick, and
    // writes are accepted once that succeeded.
    let file = sedis::internals::persist::aof::open_incr(&incr).unwrap();
    log.start(file, sedis::config::FsyncPolicy::EverySec);
    common::eventually("writes to be accepted again", || {
        c.call(&["SET", "after", "1"]) == b"+OK\r\n"
    });
    drop(server);
    // The log is whole: every command in it parses, none is torn.
    let commands = common::aof_commands(&dir);
    assert!(commands.iter().any(|c| c == "SET before 1"), "{commands:?}");
    assert!(commands.iter().any(|c| c == "SET after 1"), "{commands:?}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Waits until no rewrite is requested or running (the saver thread sets
/// "in progress" before it clears "requested").
fn wait_for_rewrite(state: &sedis::internals::state::State) {
    while state.aof.rewrite_requested.load(Ordering::Acquire)
        || state.aof.rewrite_in_progress.load(Ordering::Acquire)
    {
        std::thread::yield_now();
    }
}

// ---- Crash tests: the real binary, killed with SIGKILL mid-load.

/// Starts sedis-server with its files in `dir`; its log is discarded.
fn spawn(dir: &Path, extra: &[&str]) -> ServerProcess {
    let mut args = vec!["--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let mut server = ServerProcess::start(&args);
    server.discard_log();
    server
}

/// Writes SET k<i> <i> one at a time until `count` or the connection dies;
/// returns how many were acknowledged.
fn write_until_killed(port: u16, count: usize) -> usize {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut acked = 0;
    let mut reply = [0u8; 5];
    for i in 0..count {
        let cmd = format!(
            "*3\r\n$3\r\nSET\r\n${}\r\nk{i}\r\n${}\r\n{i}\r\n",
            format!("k{i}").len(),
            i.to_string().len()
        );
        if stream.write_all(cmd.as_bytes()).is_err() || stream.read_exact(&mut reply).is_err() {
            break;
        }
        assert_eq!(&reply, b"+OK\r\n");
        acked += 1;
    }
    acked
}

fn count_present(port: u16, upto: usize) -> usize {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    (0..upto)
        .filter(|i| {
            stream
                .write_all(format!("EXISTS k{i}\r\n").as_bytes())
                .unwrap();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            line == ":1\r\n"
        })
        .count()
}

fn crash_test(policy: &str) {
    let dir = temp_dir(&format!("crash-{policy}"));
    let mut server = spawn(
        &dir,
        &["--appendonly", "yes", "--appendfsync", policy, "--save", ""],
    );
    let pid = server.child.id() as i32;
    let killer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(400));
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let acked = write_until_killed(server.port, 1_000_000);
    killer.join().unwrap();
    server.child.wait().unwrap();
    assert!(
        acked > 0 && acked < 1_000_000,
        "the kill landed mid-load ({acked})"
    );
    let server = spawn(&dir, &["--appendonly", "yes", "--save", ""]);
    let present = count_present(server.port, acked);
    // A process crash cannot lose what reached the kernel: every
    // acknowledged write was written before its reply, whatever the policy
    // (everysec/no only risk the last second on a machine crash).
    assert_eq!(
        present,
        acked,
        "{policy}: {} acknowledged writes lost",
        acked - present
    );
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn kill_9_with_appendfsync_always_loses_no_acknowledged_write() {
    crash_test("always");
}

#[test]
fn kill_9_with_appendfsync_everysec_loses_no_acknowledged_write() {
    crash_test("everysec");
}

#[test]
fn kill_9_during_bgsave_leaves_the_old_or_the_new_dump_never_a_torn_one() {
    let dir = temp_dir("torn");
    let mut server = spawn(&dir, &["--save", ""]);
    let mut c = TcpStream::connect(server.addr()).unwrap();
    let mut reader = BufReader::new(c.try_clone().unwrap());
    let mut line = String::new();
    let mut expect = |reader: &mut BufReader<TcpStream>, want: &str| {
        line.clear();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, want);
    };
    c.write_all(b"SET first dump\r\nSAVE\r\n").unwrap();
    expect(&mut reader, "+OK\r\n");
    expect(&mut reader, "+OK\r\n");
    // Enough data that a save takes a while. A second thread writes so the
    // replies never back up against the requests.
    let mut writer = c.try_clone().unwrap();
    let feeder = std::thread::spawn(move || {
        let mut batch = Vec::new();
        for i in 0..200_000 {
            batch.extend_from_slice(format!("SET key:{i} {}\r\n", "v".repeat(50)).as_bytes());
        }
        writer.write_all(&batch).unwrap();
    });
    for _ in 0..200_000 {
        expect(&mut reader, "+OK\r\n");
    }
    feeder.join().unwrap();
    c.write_all(b"BGSAVE\r\n").unwrap();
    expect(&mut reader, "+Background saving started\r\n");
    // Kill it once the temp file exists (mid-write), or once the save is
    // already over; either way the dump on disk must be whole.
    let dump = dir.join("dump.rdb");
    let first_len = std::fs::metadata(&dump).unwrap().len();
    loop {
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let writing = names.iter().any(|n| n.starts_with("temp-"));
        let done = std::fs::metadata(&dump).map(|m| m.len()).unwrap_or(0) != first_len;
        if writing || done {
            break;
        }
        std::thread::yield_now();
    }
    server.signal(libc::SIGKILL);
    server.child.wait().unwrap();
    // Whatever moment the kill hit, the dump is whole: old or new.
    let ks = sedis::internals::store::Keyspace::new(16);
    let report =
        sedis::internals::persist::snapshot::load(&ks, &dir.join("dump.rdb"), Default::default())
            .expect("a whole dump")
            .expect("a dump exists");
    assert!(
        report.keys == 1 || report.keys == 200_001,
        "{} keys",
        report.keys
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    assert!(
        leftovers.len() <= 2,
        "only the dump and perhaps a temp file"
    );
    std::fs::remove_dir_all(&dir).ok();
}
