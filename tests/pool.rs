//! The worker pool under many clients: 500 connecting at once are all
//! served (no connect retries), and workers are reused once clients leave.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Barrier;

use common::TestServer;

fn ping(stream: &mut TcpStream) {
    stream.write_all(b"PING\r\n").expect("write");
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).expect("reply");
    assert_eq!(&reply, b"+PONG\r\n");
}

#[test]
fn five_hundred_clients_connecting_at_once_are_all_served() {
    let server = TestServer::start();
    let addr = server.addr;
    let barrier = Barrier::new(500);
    let streams: Vec<TcpStream> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..500)
            .map(|_| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    // One attempt only: a refused or reset connection fails the test.
                    let mut stream = TcpStream::connect(addr).expect("connect on the first try");
                    ping(&mut stream);
                    stream
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client"))
            .collect()
    });
    assert_eq!(streams.len(), 500);
    // All 500 are still connected and still served.
    for mut stream in streams {
        ping(&mut stream);
    }
}

#[test]
fn workers_are_released_when_clients_leave() {
    let server = TestServer::with_config(|c| c.maxclients = 3);
    for _round in 0..20 {
        let mut clients: Vec<TcpStream> = (0..3)
            .map(|_| TcpStream::connect(server.addr).expect("connect"))
            .collect();
        for c in &mut clients {
            ping(c);
        }
        // Dropping closes them; the next round needs all three slots again.
        drop(clients);
        // The slots free when the workers notice the close; wait for that
        // through the server's own count rather than by sleeping.
        let state = server.handle().state().clone();
        while state.sessions.active() > 0 {
            std::thread::yield_now();
        }
    }
}

#[test]
fn over_maxclients_gets_the_error_and_is_closed_at_once() {
    let server = TestServer::with_config(|c| c.maxclients = 2);
    let mut kept: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(server.addr).expect("connect"))
        .collect();
    for c in &mut kept {
        ping(c);
    }
    let mut extra = TcpStream::connect(server.addr).expect("connect");
    let mut reply = Vec::new();
    extra.read_to_end(&mut reply).expect("read until closed");
    assert_eq!(reply, b"-ERR max number of clients reached\r\n");
    // One leaves: a newcomer is served.
    drop(kept.pop());
    let state = server.handle().state().clone();
    while state.sessions.active() > 1 {
        std::thread::yield_now();
    }
    let mut newcomer = TcpStream::connect(server.addr).expect("connect");
    ping(&mut newcomer);
}
