//! Clients that vanish at the worst moments: mid-pipeline, mid-MULTI,
//! while blocked, while subscribed, with replies unread. Whatever they were
//! doing, nothing of theirs stays registered (CLIENT LIST, blocked_clients,
//! PUBSUB NUMSUB, watched keys), nothing half-done is applied, and the
//! server goes on serving everyone else. Disconnects are noticed
//! asynchronously, so the checks poll the server's own counts until a
//! deadline.

mod common;

use std::io::Write;
use std::net::{Shutdown, TcpStream};

use common::{Raw, TestServer, eventually};

/// Connected clients, by the server's CLIENT LIST (one line each).
fn client_count(admin: &mut Raw) -> usize {
    let reply = admin.call(&["CLIENT", "LIST"]);
    String::from_utf8_lossy(&reply)
        .lines()
        .filter(|l| l.contains("id="))
        .count()
}

/// Closes the connection abruptly: an RST rather than a FIN where the
/// platform allows (linger 0), as a killed process's socket would.
fn kill(stream: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a correctly sized option value.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}

#[test]
fn a_client_killed_mid_pipeline_applies_only_whole_commands() {
    let server = TestServer::start();
    let mut admin = server.raw();
    let mut stream = TcpStream::connect(server.addr).unwrap();
    // 100 whole SETs, then half of one more.
    let mut pipeline = Vec::new();
    for i in 0..100 {
        let key = format!("p:{i}");
        pipeline.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$1\r\nv\r\n", key.len()).as_bytes(),
        );
    }
    pipeline.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$100\r\nonly-some");
    stream.write_all(&pipeline).unwrap();
    eventually("the whole commands to run", || {
        admin.call(&["EXISTS", "p:99"]) == b":1\r\n"
    });
    kill(stream);
    eventually("the client to be gone", || client_count(&mut admin) == 1);
    assert_eq!(admin.call(&["DBSIZE"]), b":100\r\n");
    assert_eq!(admin.call(&["EXISTS", "half"]), b":0\r\n");
}

#[test]
fn a_client_killed_mid_multi_leaves_no_transaction_and_no_watch() {
    let server = TestServer::start();
    let mut admin = server.raw();
    let mut c = server.raw();
    c.call(&["SET", "watched", "1"]);
    assert_eq!(c.call(&["WATCH", "watched"]), b"+OK\r\n");
    assert_eq!(c.call(&["MULTI"]), b"+OK\r\n");
    assert_eq!(c.call(&["SET", "queued", "1"]), b"+QUEUED\r\n");
    assert_eq!(c.call(&["INCR", "watched"]), b"+QUEUED\r\n");
    drop(c); // the connection closes before EXEC
    eventually("the client to be gone", || client_count(&mut admin) == 1);
    assert_eq!(admin.call(&["EXISTS", "queued"]), b":0\r\n");
    assert_eq!(admin.call(&["GET", "watched"]), b"$1\r\n1\r\n");
    // Its watch went with it: writing the key bothers nobody, and a new
    // client's transaction on it runs.
    let mut other = server.raw();
    other.call(&["WATCH", "watched"]);
    other.call(&["MULTI"]);
    other.call(&["INCR", "watched"]);
    assert_eq!(other.call(&["EXEC"]), b"*1\r\n:2\r\n");
}

#[test]
fn a_client_killed_while_blocked_is_unregistered_and_loses_nothing() {
    let server = TestServer::start();
    let mut admin = server.raw();
    let blocked = &server.handle().state().keyspace().blocked;
    let mut streams = Vec::new();
    for _ in 0..5 {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.write_all(b"*3\r\n$5\r\nBLPOP\r\n$5\r\nqueue\r\n$1\r\n0\r\n")
            .unwrap();
        streams.push(s);
    }
    eventually("five blocked clients", || blocked.count() == 5);
    for s in streams {
        kill(s);
    }
    eventually("no blocked clients", || blocked.count() == 0);
    assert_eq!(admin.info(&["clients"]).field("blocked_clients"), "0");
    eventually("the clients to be gone", || client_count(&mut admin) == 1);
    // Nobody is served any more: a push stays in the list.
    assert_eq!(admin.call(&["RPUSH", "queue", "job"]), b":1\r\n");
    assert_eq!(
        admin.call(&["LRANGE", "queue", "0", "-1"]),
        b"*1\r\n$3\r\njob\r\n"
    );
}

#[test]
fn a_client_killed_while_subscribed_leaves_no_subscription() {
    let server = TestServer::start();
    let mut admin = server.raw();
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.write_all(b"*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\np*\r\n")
            .unwrap();
        streams.push(s);
    }
    eventually("three subscribers", || {
        // NUMPAT counts distinct patterns, as in Redis 7.
        admin.call(&["PUBSUB", "NUMSUB", "a"]) == b"*2\r\n$1\r\na\r\n:3\r\n"
            && admin.call(&["PUBSUB", "NUMPAT"]) == b":1\r\n"
    });
    for s in streams {
        kill(s);
    }
    eventually("no subscribers", || {
        admin.call(&["PUBSUB", "NUMSUB", "a", "b"]) == b"*4\r\n$1\r\na\r\n:0\r\n$1\r\nb\r\n:0\r\n"
            && admin.call(&["PUBSUB", "NUMPAT"]) == b":0\r\n"
    });
    assert_eq!(admin.call(&["PUBLISH", "a", "x"]), b":0\r\n");
    eventually("the clients to be gone", || client_count(&mut admin) == 1);
}

#[test]
fn a_client_that_stops_reading_and_leaves_does_not_hold_the_server() {
    let server = TestServer::start();
    let mut admin = server.raw();
    admin.call(&["SET", "big", &"x".repeat(1 << 20)]);
    let mut s = TcpStream::connect(server.addr).unwrap();
    // Ask for far more than the socket buffers hold, read nothing, leave.
    let request = b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(64);
    s.write_all(&request).unwrap();
    let _ = s.shutdown(Shutdown::Write);
    kill(s);
    eventually("the client to be gone", || client_count(&mut admin) == 1);
    // Everyone else is served as before.
    for i in 0..100 {
        assert_eq!(admin.call(&["SET", &format!("k{i}"), "v"]), b"+OK\r\n");
    }
}

#[test]
fn workers_come_back_after_clients_churn_at_maxclients() {
    let server = TestServer::with_config(|c| c.maxclients = 8);
    let mut admin = server.raw();
    for round in 0..5 {
        let mut held = Vec::new();
        for _ in 0..7 {
            let mut c = server.raw();
            assert_eq!(c.call(&["PING"]), b"+PONG\r\n", "round {round}");
            held.push(c);
        }
        // Full: the next one is turned away with Redis's error.
        let mut extra = server.raw();
        assert_eq!(
            extra.read_raw(),
            b"-ERR max number of clients reached\r\n".to_vec()
        );
        for c in held {
            kill(c.stream().try_clone().unwrap());
            drop(c);
        }
        eventually("the workers to be free", || client_count(&mut admin) == 1);
    }
    assert_eq!(admin.call(&["PING"]), b"+PONG\r\n");
}
