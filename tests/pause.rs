//! CLIENT PAUSE and UNPAUSE: which commands wait (writes under WRITE,
//! everything under ALL), that they run once the pause ends (UNPAUSE or its
//! deadline), that a waiting client counts as blocked, and that keys do not
//! expire meanwhile.

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use sedis::Frame;

/// Waits until INFO reports `n` blocked clients: the paused command has
/// arrived and is waiting.
fn wait_blocked(c: &mut common::Raw, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if c.info(&["clients"]).number("blocked_clients") == n as u64 {
            return;
        }
        assert!(Instant::now() < deadline, "never {n} blocked clients");
        std::thread::yield_now();
    }
}

#[test]
fn writes_wait_out_a_write_pause_and_reads_do_not() {
    let server = TestServer::start();
    let mut admin = server.raw();
    let mut writer = server.raw();
    let mut reader = server.raw();
    assert_eq!(
        admin.call(&["CLIENT", "PAUSE", "60000", "WRITE"]),
        b"+OK\r\n"
    );
    writer.cmd(&["SET", "k", "v"]);
    wait_blocked(&mut admin, 1);
    let list = String::from_utf8(admin.call(&["CLIENT", "LIST"])).unwrap();
    assert!(list.contains("flags=b"), "{list}");
    // Reads go on; the write has not happened.
    assert_eq!(reader.call(&["GET", "k"]), b"$-1\r\n");
    assert_eq!(
        reader.call(&["EVAL", "#!lua flags=no-writes\nreturn 1", "0"]),
        b":1\r\n"
    );
    assert_eq!(admin.call(&["CLIENT", "UNPAUSE"]), b"+OK\r\n");
    assert_eq!(writer.read_raw(), b"+OK\r\n");
    assert_eq!(reader.call(&["GET", "k"]), b"$1\r\nv\r\n");
    wait_blocked(&mut admin, 0);
    server.stop();
}

#[test]
fn an_all_pause_holds_every_command_until_its_deadline() {
    let server = TestServer::start();
    let mut admin = server.raw();
    let mut other = server.raw();
    let started = Instant::now();
    assert_eq!(admin.call(&["CLIENT", "PAUSE", "300", "ALL"]), b"+OK\r\n");
    // Even the pausing client's next command waits.
    assert_eq!(other.call(&["PING"]), b"+PONG\r\n");
    assert!(
        started.elapsed() >= Duration::from_millis(290),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(admin.call(&["PING"]), b"+PONG\r\n");
    server.stop();
}

#[test]
fn keys_do_not_expire_while_paused_and_killed_clients_leave() {
    let server = TestServer::start();
    let mut admin = server.raw();
    // Long enough to pause before it is due, however loaded the machine.
    admin.call(&["SET", "k", "v", "PX", "1000"]);
    assert_eq!(
        admin.call(&["CLIENT", "PAUSE", "60000", "WRITE"]),
        b"+OK\r\n"
    );
    // Expired for readers, but still there: DBSIZE counts it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while admin.call(&["GET", "k"]) != b"$-1\r\n" {
        assert!(Instant::now() < deadline);
    }
    assert_eq!(admin.call(&["DBSIZE"]), b":1\r\n");
    // A paused client that is killed goes away without running its write.
    let mut writer = server.raw();
    let id = writer.client_id();
    writer.cmd(&["SET", "written", "x"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(
        admin.call(&["CLIENT", "KILL", "ID", &id.to_string()]),
        b":1\r\n"
    );
    assert!(writer.read_to_close().is_empty());
    wait_blocked(&mut admin, 0);
    assert_eq!(admin.call(&["CLIENT", "UNPAUSE"]), b"+OK\r\n");
    assert_eq!(admin.call(&["EXISTS", "written"]), b":0\r\n");
    // Unpaused, the expired key goes.
    let deadline = Instant::now() + Duration::from_secs(5);
    while admin.call(&["DBSIZE"]) != b":0\r\n" {
        assert!(Instant::now() < deadline, "the expired key stayed");
        std::thread::yield_now();
    }
    let Frame::Error(e) = admin.frame(&["CLIENT", "PAUSE", "-1"]) else {
        panic!()
    };
    assert_eq!(e, b"ERR timeout is negative");
    server.stop();
}
