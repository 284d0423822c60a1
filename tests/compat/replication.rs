//! Replication across the two implementations, with real processes on
//! loopback: sedis as the master of a redis-server replica and as the
//! replica of a redis-server master, with both transfer forms (the disk
//! form `$<length>` and the diskless `$EOF:`), writes made during and
//! after the sync, a chain redis-server → sedis → redis-server whose
//! offsets agree, a partial resync after the link is cut, and WAIT.
//! Datasets are compared with DEBUG DIGEST, which both compute alike.

use std::time::{Duration, Instant};

use sedis::config::ProtectedAction;

use crate::common::TestServer;
use crate::conn::Conn;
use crate::redis::RedisServer;

fn call(conn: &mut Conn, args: &[&str]) -> Vec<u8> {
    let argv: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    conn.call(&argv).expect("reply").0
}

fn text(conn: &mut Conn, args: &[&str]) -> String {
    String::from_utf8_lossy(&call(conn, args)).into_owned()
}

/// A field of INFO replication / stats.
fn info_field(conn: &mut Conn, section: &str, name: &str) -> String {
    let info = text(conn, &["INFO", section]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in INFO {section}: {info}"))
        .to_string()
}

/// Polls until `condition` holds (replication is asynchronous: nothing
/// tells a client when a replica has caught up), failing after 20 s.
fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Keys of every type (MIGRATE's set), and one in another database.
fn dataset() -> Vec<&'static [&'static str]> {
    let mut commands = crate::migrate::DATASET.to_vec();
    commands.extend_from_slice(&[&["SELECT", "3"][..], &["SET", "in3", "x"], &["SELECT", "0"]]);
    commands
}

/// Writes made once the replica is attached: the stream must carry them,
/// SELECTs and transactions included.
const LATER: &[&[&str]] = &[
    &["INCR", "int"],
    &["LPUSH", "list", "z"],
    &["SELECT", "5"],
    &["SET", "in5", "y", "PX", "100000"],
    &["MULTI"],
    &["HSET", "h5", "a", "1"],
    &["SADD", "s5", "m"],
    &["EXEC"],
    &["SELECT", "0"],
    &["DEL", "str"],
    &["XADD", "stream", "3-1", "c", "d"],
    &["EXPIRE", "hash", "1000"],
];

fn run_all(conn: &mut Conn, commands: &[&[&str]]) {
    for cmd in commands {
        let reply = call(conn, cmd);
        assert!(!reply.starts_with(b"-"), "{cmd:?}: {reply:?}");
    }
}

fn digest(conn: &mut Conn) -> Vec<u8> {
    call(conn, &["DEBUG", "DIGEST"])
}

/// A sedis server in a directory of its own: a replica writes the RDB it
/// receives there, as Redis does.
fn sedis(configure: impl FnOnce(&mut sedis::Config)) -> TestServer {
    let dir = crate::common::temp_dir("replication");
    TestServer::with_config(|c| {
        c.enable_debug_command = ProtectedAction::Yes;
        c.dir = dir.to_string_lossy().into_owned();
        configure(c);
    })
}

fn wait_in_sync(master: &mut Conn, replica: &mut Conn) {
    until("the replica to catch up", || {
        info_field(replica, "replication", "master_link_status") == "up"
            && info_field(master, "replication", "master_repl_offset")
                == info_field(replica, "replication", "master_repl_offset")
    });
    until("the same dataset on both", || {
        digest(master) == digest(replica)
    });
}

fn sedis_master_to_redis_replica(diskless: bool) {
    let master = sedis(|c| c.repl_diskless_sync = diskless);
    let mut m = Conn::connect(master.addr).unwrap();
    run_all(&mut m, &dataset());
    let port = master.addr.port().to_string();
    let replica = RedisServer::start_args(&["--replicaof", "127.0.0.1", &port]);
    let mut r = Conn::connect(replica.addr()).unwrap();
    // Writes while the replica connects and loads.
    run_all(&mut m, LATER);
    wait_in_sync(&mut m, &mut r);
    assert_eq!(call(&mut r, &["GET", "int"]), b"$6\r\n-12344\r\n");
    assert_eq!(info_field(&mut m, "stats", "sync_full"), "1");
    let role = text(&mut m, &["ROLE"]);
    assert!(role.contains("master"), "{role}");
    // WAIT counts the replica once it acknowledged the last write.
    call(&mut m, &["SET", "waited", "1"]);
    assert_eq!(call(&mut m, &["WAIT", "1", "5000"]), b":1\r\n");
    assert_eq!(call(&mut m, &["WAIT", "2", "100"]), b":1\r\n");
}

#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn a_redis_replica_follows_sedis_diskless() {
    sedis_master_to_redis_replica(true);
}

#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn a_redis_replica_follows_sedis_from_a_disk_snapshot() {
    sedis_master_to_redis_replica(false);
}

fn redis_master_to_sedis_replica(diskless: bool) {
    let master = RedisServer::start_args(&[
        "--repl-diskless-sync",
        if diskless { "yes" } else { "no" },
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mut m = Conn::connect(master.addr()).unwrap();
    run_all(&mut m, &dataset());
    let port = master.port;
    let replica = sedis(|c| c.replicaof = Some(("127.0.0.1".into(), port)));
    let mut r = Conn::connect(replica.addr).unwrap();
    run_all(&mut m, LATER);
    wait_in_sync(&mut m, &mut r);
    assert_eq!(
        call(&mut r, &["SET", "x", "1"]),
        b"-READONLY You can't write against a read only replica.\r\n"
    );
    let role = call(&mut r, &["ROLE"]);
    let expected = format!(
        "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:{port}\r\n$9\r\nconnected\r\n:{}\r\n",
        info_field(&mut m, "replication", "master_repl_offset")
    );
    assert_eq!(String::from_utf8_lossy(&role), expected);
    // Cutting the link: the replica comes back with a partial resync, in
    // the database the stream had selected (a CONTINUE selects nothing).
    let mut nine = Conn::connect(master.addr()).unwrap();
    run_all(&mut nine, &[&["SELECT", "9"], &["SET", "nine", "1"]]);
    wait_in_sync(&mut m, &mut r);
    let partial_before: u64 = info_field(&mut m, "stats", "sync_partial_ok")
        .parse()
        .unwrap();
    assert_eq!(
        call(&mut r, &["CLIENT", "KILL", "TYPE", "master"]),
        b":1\r\n"
    );
    call(&mut nine, &["SET", "after-cut", "1"]);
    until("a partial resync", || {
        info_field(&mut m, "stats", "sync_partial_ok")
            .parse::<u64>()
            .unwrap()
            > partial_before
    });
    assert_eq!(
        info_field(&mut m, "stats", "sync_full"),
        "1",
        "no second full sync"
    );
    wait_in_sync(&mut m, &mut r);
    // Promotion keeps the data and the old history as the second ID.
    let old_id = info_field(&mut r, "replication", "master_replid");
    assert_eq!(call(&mut r, &["REPLICAOF", "NO", "ONE"]), b"+OK\r\n");
    assert_eq!(info_field(&mut r, "replication", "role"), "master");
    assert_eq!(info_field(&mut r, "replication", "master_replid2"), old_id);
    assert_eq!(call(&mut r, &["SET", "x", "1"]), b"+OK\r\n");
}

#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn sedis_follows_a_redis_master_diskless() {
    redis_master_to_sedis_replica(true);
}

#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn sedis_follows_a_redis_master_from_a_disk_snapshot() {
    redis_master_to_sedis_replica(false);
}

#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn a_chain_through_sedis_keeps_the_masters_offsets() {
    let top = RedisServer::start_args(&["--repl-diskless-sync-delay", "0"]);
    let mut t = Conn::connect(top.addr()).unwrap();
    run_all(&mut t, &dataset());
    let port = top.port;
    let middle = sedis(|c| c.replicaof = Some(("127.0.0.1".into(), port)));
    let mut m = Conn::connect(middle.addr).unwrap();
    wait_in_sync(&mut t, &mut m);
    // The bottom replica's full sync starts while the stream is in
    // database 7: the RDB says so (`repl-stream-db`), since the bytes
    // passed on after it select nothing.
    let mut seven = Conn::connect(top.addr()).unwrap();
    run_all(&mut seven, &[&["SELECT", "7"], &["SET", "a", "1"]]);
    wait_in_sync(&mut t, &mut m);
    let middle_port = middle.addr.port().to_string();
    let bottom = RedisServer::start_args(&["--replicaof", "127.0.0.1", &middle_port]);
    let mut b = Conn::connect(bottom.addr()).unwrap();
    wait_in_sync(&mut m, &mut b);
    call(&mut seven, &["SET", "b", "2"]);
    run_all(&mut t, LATER);
    wait_in_sync(&mut t, &mut m);
    wait_in_sync(&mut m, &mut b);
    let offsets: Vec<String> = [&mut t, &mut m, &mut b]
        .into_iter()
        .map(|c| info_field(c, "replication", "master_repl_offset"))
        .collect();
    assert!(offsets.iter().all(|o| *o == offsets[0]), "{offsets:?}");
    let ids: Vec<String> = [&mut t, &mut m, &mut b]
        .into_iter()
        .map(|c| info_field(c, "replication", "master_replid"))
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
}

#[test]
fn sedis_replicates_sedis() {
    let master = sedis(|_| {});
    let mut m = Conn::connect(master.addr).unwrap();
    run_all(&mut m, &dataset());
    let port = master.addr.port();
    let replica = sedis(|c| c.replicaof = Some(("127.0.0.1".into(), port)));
    let mut r = Conn::connect(replica.addr).unwrap();
    run_all(&mut m, LATER);
    wait_in_sync(&mut m, &mut r);
    let role = text(&mut m, &["ROLE"]);
    let line = format!(
        "$9\r\n127.0.0.1\r\n${}\r\n{}\r\n",
        port.to_string().len(),
        port
    );
    assert!(role.starts_with("*3\r\n$6\r\nmaster\r\n"), "{role}");
    let _ = line;
    assert_eq!(info_field(&mut m, "replication", "connected_slaves"), "1");
}
