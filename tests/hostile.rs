//! Hostile and malformed input, as a table: the bytes sent, the exact
//! reply, and whether the server then closes the connection. Every expected
//! reply was recorded from Redis 7.0.15 with the same bytes. Cases that keep
//! the connection open are followed by `ECHO sentinel`, so "the connection is
//! still usable" is part of each check.

mod common;

use std::io::Write;

use common::TestServer;
use common::hostile::{run, table};

#[test]
fn every_hostile_input_gets_redis_reply_and_close_behaviour() {
    let server = TestServer::start();
    for case in table() {
        run(server.addr, &case);
    }
    // And the server is still fine.
    let mut c = server.raw();
    assert_reply!(c, ["PING"], b"+PONG\r\n");
}

/// A NUL before the line end of an inline request hides the line end, as
/// C's strchr does in Redis: the connection waits for more data and is
/// refused once the line passes 64 KiB. (Sent without the sentinel, since
/// Redis would never answer it.)
#[test]
fn a_nul_in_an_inline_request_hides_its_end() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.send(b"PING\r\n\x00\x01garbage\r\nPING\r\n");
    assert_eq!(c.read_raw(), b"+PONG\r\n");
    c.send(&vec![b'x'; 65 * 1024]);
    assert_eq!(
        c.read_to_close(),
        b"-ERR Protocol error: too big inline request\r\n"
    );
}

#[test]
fn a_client_that_disconnects_mid_request_leaves_the_server_serving() {
    let server = TestServer::start();
    for partial in [
        &b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc"[..],
        b"*2\r\n$3",
        b"SET a \"unfinished",
    ] {
        let mut c = server.raw();
        c.send(partial);
        drop(c);
    }
    let state = server.handle().state().clone();
    while state.sessions.active() > 0 {
        std::thread::yield_now();
    }
    let mut c = server.raw();
    assert_reply!(c, ["GET", "k"], b"$-1\r\n");
}

/// A client that pipelines requests and never reads the replies only ever
/// blocks its own worker: others are served, and the server does not
/// buffer its replies without bound.
#[test]
fn a_client_that_never_reads_does_not_block_others() {
    let server = TestServer::start();
    let mut c = server.raw();
    let big = "v".repeat(512 * 1024);
    assert_reply!(c, ["SET", "big", &big], b"+OK\r\n");
    let mut hog = std::net::TcpStream::connect(server.addr).unwrap();
    let request = b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(200);
    // 200 x 512 KiB of replies it will never read; write from a thread since
    // the server stops reading once its reply pipe is full.
    let writer = std::thread::spawn(move || {
        let _ = hog.write_all(&request);
        hog
    });
    for _ in 0..100 {
        assert_reply!(c, ["PING"], b"+PONG\r\n");
    }
    let hog = writer.join().unwrap();
    drop(hog);
}
