//! Blocking pops across connections: who is served first, what wakes a
//! client, CLIENT UNBLOCK, and blocking commands inside transactions. The
//! reply bytes are those redis-server 7.0.15 sends in the same situations
//! (the single-connection cases are in `tests/compat/blocking.txt`).

mod common;

use common::{Raw, TestServer, eventually};

/// Waits until the server reports `n` blocked clients (the count a client
/// joins once its wait is registered under the key's lock, so a push after
/// this point must serve it).
fn wait_for_blocked(server: &TestServer, n: usize) {
    let blocked = &server.handle().state().keyspace().blocked;
    eventually(&format!("{n} blocked clients"), || blocked.count() == n);
}

#[test]
fn clients_blocked_on_a_key_are_served_first_come_first_served() {
    let server = TestServer::start();
    let mut waiters: Vec<Raw> = (0..3).map(|_| server.raw()).collect();
    for (i, w) in waiters.iter_mut().enumerate() {
        w.cmd(&["BLPOP", "queue", "0"]);
        wait_for_blocked(&server, i + 1);
    }
    let mut pusher = server.raw();
    assert_eq!(pusher.call(&["RPUSH", "queue", "a", "b", "c"]), b":3\r\n");
    for (w, element) in waiters.iter_mut().zip(["a", "b", "c"]) {
        let expected = format!("*2\r\n$5\r\nqueue\r\n$1\r\n{element}\r\n");
        assert_eq!(w.read_raw(), expected.as_bytes());
    }
    assert_eq!(pusher.call(&["EXISTS", "queue"]), b":0\r\n");
    wait_for_blocked(&server, 0);
}

#[test]
fn a_client_receives_from_the_first_key_that_has_data() {
    let server = TestServer::start();
    let mut waiter = server.raw();
    waiter.cmd(&["BRPOP", "first", "second", "0"]);
    wait_for_blocked(&server, 1);
    let mut pusher = server.raw();
    pusher.call(&["RPUSH", "second", "x"]);
    assert_eq!(waiter.read_raw(), b"*2\r\n$6\r\nsecond\r\n$1\r\nx\r\n");
}

#[test]
fn a_transaction_wakes_blocked_clients_only_once_it_has_run() {
    let server = TestServer::start();
    let mut waiter = server.raw();
    waiter.cmd(&["BLPOP", "k", "0"]);
    wait_for_blocked(&server, 1);
    let mut tx = server.raw();
    tx.call(&["MULTI"]);
    tx.call(&["RPUSH", "k", "gone"]);
    tx.call(&["LPOP", "k"]);
    // The key existed for a moment inside EXEC, but was empty again when the
    // transaction ended: the client keeps waiting (as in Redis).
    assert_eq!(tx.call(&["EXEC"]), b"*2\r\n:1\r\n$4\r\ngone\r\n");
    assert_eq!(server.handle().state().keyspace().blocked.count(), 1);
    tx.call(&["MULTI"]);
    tx.call(&["RPUSH", "k", "one"]);
    tx.call(&["RPUSH", "k", "two"]);
    assert_eq!(tx.call(&["EXEC"]), b"*2\r\n:1\r\n:2\r\n");
    assert_eq!(waiter.read_raw(), b"*2\r\n$1\r\nk\r\n$3\r\none\r\n");
    assert_eq!(tx.call(&["LRANGE", "k", "0", "-1"]), b"*1\r\n$3\r\ntwo\r\n");
}

#[test]
fn a_blocking_command_inside_multi_does_not_block() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.call(&["MULTI"]);
    c.call(&["BLPOP", "empty", "0"]);
    c.call(&["BZPOPMIN", "empty", "0"]);
    c.call(&["BLMOVE", "empty", "dst", "LEFT", "LEFT", "0"]);
    assert_eq!(c.call(&["EXEC"]), b"*3\r\n*-1\r\n*-1\r\n$-1\r\n");
}

#[test]
fn client_unblock_ends_a_wait_as_a_timeout_or_an_error() {
    let server = TestServer::start();
    let mut admin = server.raw();
    let mut waiter = server.raw();
    let id = waiter.client_id().to_string();

    // Not blocked yet: nothing to do.
    assert_eq!(admin.call(&["CLIENT", "UNBLOCK", &id]), b":0\r\n");

    waiter.cmd(&["BLPOP", "k", "0"]);
    wait_for_blocked(&server, 1);
    assert_eq!(
        admin.call(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]),
        b":1\r\n"
    );
    assert_eq!(waiter.read_raw(), b"*-1\r\n");
    wait_for_blocked(&server, 0);
    assert_eq!(admin.call(&["CLIENT", "UNBLOCK", &id]), b":0\r\n");

    waiter.cmd(&["BZPOPMAX", "z", "0"]);
    wait_for_blocked(&server, 1);
    assert_eq!(admin.call(&["CLIENT", "UNBLOCK", &id, "error"]), b":1\r\n");
    assert_eq!(
        waiter.read_raw(),
        b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n".to_vec()
    );

    // The unblocked client goes on as usual, and a later push is not lost
    // to it.
    assert_eq!(waiter.call(&["PING"]), b"+PONG\r\n");
    admin.call(&["RPUSH", "k", "kept"]);
    assert_eq!(admin.call(&["LLEN", "k"]), b":1\r\n");

    assert_eq!(
        admin.call(&["CLIENT", "UNBLOCK", &id, "later"]),
        b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n".to_vec()
    );
    assert_eq!(
        admin.call(&["CLIENT", "UNBLOCK", "abc"]),
        b"-ERR value is not an integer or out of range\r\n".to_vec()
    );
}

#[test]
fn info_counts_blocked_clients() {
    let server = TestServer::start();
    let mut waiters: Vec<Raw> = (0..2).map(|_| server.raw()).collect();
    for (i, w) in waiters.iter_mut().enumerate() {
        w.cmd(&["BLPOP", &format!("key{i}"), "0"]);
        wait_for_blocked(&server, i + 1);
    }
    let mut admin = server.raw();
    let info = String::from_utf8(admin.call(&["INFO", "clients"])).unwrap();
    assert!(info.contains("\r\nblocked_clients:2\r\n"), "{info}");
    admin.call(&["RPUSH", "key0", "x"]);
    assert_eq!(waiters[0].read_raw(), b"*2\r\n$4\r\nkey0\r\n$1\r\nx\r\n");
    wait_for_blocked(&server, 1);
    let info = String::from_utf8(admin.call(&["INFO", "clients"])).unwrap();
    assert!(info.contains("\r\nblocked_clients:1\r\n"), "{info}");
}

#[test]
fn a_timeout_replies_null_and_unblocks() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_eq!(c.call(&["BLPOP", "empty", "0.05"]), b"*-1\r\n");
    // Redis 7.0 times BLMOVE out with a null array too, although its
    // immediate null (LMOVE on a missing key) is a null bulk string.
    assert_eq!(
        c.call(&["BLMOVE", "empty", "d", "LEFT", "LEFT", "0.05"]),
        b"*-1\r\n"
    );
    c.call(&["HELLO", "3"]);
    assert_eq!(c.call(&["BZPOPMIN", "empty", "0.05"]), b"_\r\n");
    wait_for_blocked(&server, 0);
}

/// XREADGROUP readers: served in turn as entries arrive (each taking what
/// the group has not yet delivered), and told when their group or their
/// stream goes away. Reply bytes are redis-server 7.0.15's.
#[test]
fn group_readers_share_new_entries_and_learn_when_the_stream_goes() {
    let server = TestServer::start();
    let mut admin = server.raw();
    assert_eq!(
        admin.call(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        b"+OK\r\n"
    );
    let mut alice = server.raw();
    let mut bob = server.raw();
    alice.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "COUNT",
        "1",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_for_blocked(&server, 1);
    bob.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_for_blocked(&server, 2);
    // One entry: alice takes it, bob waits for the next.
    admin.call(&["XADD", "s", "1-0", "f", "v"]);
    assert_eq!(
        alice.read_raw(),
        b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    wait_for_blocked(&server, 1);
    admin.call(&["XADD", "s", "2-0", "f", "w"]);
    assert_eq!(
        bob.read_raw(),
        b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nw\r\n"
    );
    assert_eq!(
        admin.call(&["XPENDING", "s", "g"]),
        b"*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n1\r\n*2\r\n$3\r\nbob\r\n$1\r\n1\r\n"
    );
    // Alice waits for new entries, until her wait is ended.
    let wait = [
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ];
    // The group destroyed: NOGROUP.
    alice.cmd(&wait);
    wait_for_blocked(&server, 1);
    assert_eq!(admin.call(&["XGROUP", "DESTROY", "s", "g"]), b":1\r\n");
    assert_eq!(
        alice.read_raw(),
        b"-NOGROUP the consumer group this client was blocked on no longer exists\r\n"
    );
    // The stream deleted, or replaced by another type: UNBLOCKED.
    for (i, end) in [&["DEL", "s"][..], &["SET", "s", "x"]]
        .into_iter()
        .enumerate()
    {
        if i == 1 {
            admin.call(&["DEL", "s"]);
        }
        admin.call(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
        alice.cmd(&wait);
        wait_for_blocked(&server, 1);
        admin.call(end);
        assert_eq!(
            alice.read_raw(),
            b"-UNBLOCKED the stream key no longer exists\r\n"
        );
    }
    wait_for_blocked(&server, 0);
}

#[test]
fn a_wait_that_ends_in_an_error_counts_as_a_failed_call() {
    let server = TestServer::start();
    let mut admin = server.raw();
    let mut reader = server.raw();
    admin.call(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    reader.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_for_blocked(&server, 1);
    assert_eq!(admin.call(&["XGROUP", "DESTROY", "s", "g"]), b":1\r\n");
    assert_eq!(
        reader.read_raw(),
        b"-NOGROUP the consumer group this client was blocked on no longer exists\r\n"
    );
    // As in Redis: the error is counted, and the call as failed.
    let info = String::from_utf8(admin.call(&["INFO", "errorstats"])).unwrap();
    assert!(info.contains("errorstat_NOGROUP:count=1\r\n"), "{info}");
    let info = String::from_utf8(admin.call(&["INFO", "commandstats"])).unwrap();
    let line = info
        .lines()
        .find(|l| l.starts_with("cmdstat_xreadgroup:"))
        .unwrap_or_else(|| panic!("{info}"));
    assert!(line.ends_with(",failed_calls=1"), "{line}");
}
