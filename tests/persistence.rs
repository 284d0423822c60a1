//! RDB persistence through the server: SAVE, BGSAVE, loading at start-up,
//! MISCONF when saving fails, a failed final save keeping the server up,
//! and snapshots that hold whole transactions or none of them.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{TestServer, eventually, temp_dir, with_dir};
use sedis::Config;
use sedis::internals::persist::snapshot;
use sedis::internals::store::{Keyspace, LockPlan, Mode, Value};

/// Loads a dump into a fresh keyspace and returns a string value.
fn load_string(path: &Path, key: &[u8]) -> Option<Vec<u8>> {
    let ks = Keyspace::new(16);
    snapshot::load(&ks, path, Default::default())
        .expect("valid dump")
        .expect("dump exists");
    let mut plan = LockPlan::new();
    plan.add_key(&ks, 0, key, Mode::Write);
    let mut locks = ks.lock(&plan);
    let mut db = locks.db(0, sedis::internals::clock::unix_ms());
    match &db.lookup_read(key)?.value {
        Value::Str(s) => Some(s.bytes().to_vec()),
        other => panic!("{key:?} holds a {}", other.type_name()),
    }
}

#[test]
fn save_writes_a_dump_that_the_next_start_loads() {
    let dir = temp_dir("save");
    let server = TestServer::with_config(with_dir(&dir));
    let mut c = server.raw();
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    assert_reply!(c, ["SET", "ttl", "x", "EX", "100"], b"+OK\r\n");
    assert_reply!(c, ["SELECT", "5"], b"+OK\r\n");
    assert_reply!(c, ["SET", "in5", "y"], b"+OK\r\n");
    assert!(info_has(&mut c, "rdb_changes_since_last_save:3"));
    assert_reply!(c, ["SAVE"], b"+OK\r\n");
    assert!(info_has(&mut c, "rdb_saves:1"));
    assert!(info_has(&mut c, "rdb_changes_since_last_save:0"));
    server.stop();
    assert_eq!(
        load_string(&dir.join("dump.rdb"), b"k").as_deref(),
        Some(&b"v"[..])
    );
    let server = TestServer::with_config(with_dir(&dir));
    let mut c = server.raw();
    assert_reply!(c, ["GET", "k"], b"$1\r\nv\r\n");
    let ttl = c.call(&["TTL", "ttl"]);
    assert!(ttl == b":100\r\n" || ttl == b":99\r\n", "{ttl:?}");
    assert_reply!(c, ["SELECT", "5"], b"+OK\r\n");
    assert_reply!(c, ["GET", "in5"], b"$1\r\ny\r\n");
    assert!(info_has(&mut c, "rdb_last_load_keys_loaded:3"));
    std::fs::remove_dir_all(&dir).ok();
}

/// True if INFO persistence has `line` among its lines.
/// Values load under the encoding limits configured when they load, as in
/// Redis: a compact value past a lowered limit comes back converted.
#[test]
fn dumps_load_under_the_configured_encoding_limits() {
    let dir = temp_dir("encodings");
    let server = TestServer::with_config(with_dir(&dir));
    let mut c = server.raw();
    c.call(&["HSET", "h", "f", "v"]);
    c.call(&["ZADD", "z", "1", "m"]);
    c.call(&["SADD", "s", "1", "2", "3"]);
    assert_reply!(c, ["SAVE"], b"+OK\r\n");
    server.stop();
    let encodings = |server: &TestServer| {
        let mut c = server.raw();
        ["h", "z", "s"].map(|k| c.call(&["OBJECT", "ENCODING", k]))
    };
    let server = TestServer::with_config(with_dir(&dir));
    assert_eq!(
        encodings(&server),
        [
            &b"$8\r\nlistpack\r\n"[..],
            b"$8\r\nlistpack\r\n",
            b"$6\r\nintset\r\n"
        ]
    );
    server.stop();
    let server = TestServer::with_config(|c| {
        with_dir(&dir)(c);
        c.hash_max_listpack_entries = 0;
        c.zset_max_listpack_entries = 0;
        c.set_max_intset_entries = 2;
    });
    assert_eq!(
        encodings(&server),
        [
            &b"$9\r\nhashtable\r\n"[..],
            b"$8\r\nskiplist\r\n",
            b"$9\r\nhashtable\r\n"
        ]
    );
}

fn info_has(c: &mut common::Raw, line: &str) -> bool {
    let reply = c.call(&["INFO", "persistence"]);
    String::from_utf8_lossy(&reply).lines().any(|l| l == line)
}

#[test]
fn bgsave_replies_at_once_and_the_dump_appears() {
    let dir = temp_dir("bgsave");
    let server = TestServer::with_config(with_dir(&dir));
    let mut c = server.raw();
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    assert_reply!(c, ["BGSAVE"], b"+Background saving started\r\n");
    assert_reply!(c, ["BGSAVE", "NOW"], b"-ERR syntax error\r\n");
    let state = server.handle().state().clone();
    // Wait for the saver thread through its own status.
    eventually("the background save", || {
        !state.rdb.bgsave_in_progress.load(Ordering::Acquire) && dir.join("dump.rdb").exists()
    });
    assert!(state.rdb.last_bgsave_ok.load(Ordering::Acquire));
    assert_eq!(state.dirty(), 0, "the save accounted for the change");
    assert_eq!(
        load_string(&dir.join("dump.rdb"), b"k").as_deref(),
        Some(&b"v"[..])
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_failing_save_refuses_writes_with_misconf_until_a_save_succeeds() {
    let dir = temp_dir("misconf");
    let gone = dir.join("removed");
    std::fs::create_dir_all(&gone).unwrap();
    let server = TestServer::with_config(|c| {
        c.dir = gone.to_str().unwrap().to_string();
        c.save = vec![(3600, 1)];
    });
    std::fs::remove_dir_all(&gone).unwrap();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    assert_reply!(c, ["SAVE"], b"-ERR\r\n");
    assert_reply!(c, ["BGSAVE"], b"+Background saving started\r\n");
    let state = server.handle().state().clone();
    eventually("the background save to fail", || {
        !state.rdb.last_bgsave_ok.load(Ordering::Acquire)
    });
    let misconf: &[u8] = b"-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.\r\n";
    assert_reply!(c, ["SET", "k", "w"], misconf);
    assert_reply!(c, ["PING"], misconf);
    assert_reply!(c, ["GET", "k"], b"$1\r\nv\r\n");
    // A shutdown that cannot save is refused and the server keeps serving.
    assert_reply!(
        c,
        ["SHUTDOWN"],
        b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    assert_reply!(c, ["GET", "k"], b"$1\r\nv\r\n");
    // The directory comes back: the next background save succeeds and
    // writes are accepted again.
    std::fs::create_dir_all(&gone).unwrap();
    assert_reply!(c, ["BGSAVE"], b"+Background saving started\r\n");
    eventually("a background save to succeed", || {
        state.rdb.last_bgsave_ok.load(Ordering::Acquire)
    });
    assert_reply!(c, ["SET", "k", "w"], b"+OK\r\n");
    // The embedding API always stops, even when its final save fails.
    std::fs::remove_dir_all(&gone).unwrap();
    let err = server
        .stop_result()
        .expect_err("the final save cannot succeed");
    assert!(err.to_string().contains("final save failed"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn shutdown_save_writes_the_final_dump() {
    let dir = temp_dir("shutdown");
    let server = TestServer::with_config(with_dir(&dir));
    let mut c = server.raw();
    assert_reply!(c, ["SET", "last", "write"], b"+OK\r\n");
    c.send(b"SHUTDOWN SAVE\r\n");
    assert_eq!(c.read_to_close(), b"");
    server.stop();
    assert_eq!(
        load_string(&dir.join("dump.rdb"), b"last").as_deref(),
        Some(&b"write"[..])
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_corrupt_dump_stops_the_server_from_starting() {
    let dir = temp_dir("corrupt");
    std::fs::write(dir.join("dump.rdb"), b"REDIS0010\xfe\x00\x00\x03key").unwrap();
    let config = Config {
        port: 0,
        dir: dir.to_str().unwrap().to_string(),
        loglevel: sedis::config::LogLevel::Nothing,
        ..Config::default()
    };
    let err = match sedis::Server::bind(config) {
        Ok(_) => panic!("started over a corrupt dump"),
        Err(err) => err,
    };
    assert!(err.to_string().contains("dump.rdb"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Transactions keep two keys equal; background saves taken meanwhile must
/// never hold half of one.
#[test]
fn snapshots_hold_whole_transactions() {
    let dir = temp_dir("consistent");
    let server = TestServer::with_config(with_dir(&dir));
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let mut c = server.raw();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                c.send(format!("MULTI\r\nSET a {i}\r\nSET b {i}\r\nEXEC\r\n").as_bytes());
                for _ in 0..4 {
                    c.read();
                }
                i += 1;
            }
        });
        let mut c = server.raw();
        for _ in 0..20 {
            assert_reply!(c, ["SAVE"], b"+OK\r\n");
            let path = dir.join("dump.rdb");
            assert_eq!(load_string(&path, b"a"), load_string(&path, b"b"));
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
    });
    std::fs::remove_dir_all(&dir).ok();
}
