//! The library API: a server started inside a program stops cleanly, frees
//! its port, and releases clients blocked in a read.

mod common;

use std::io::Read;
use std::net::TcpListener;

use common::TestServer;

#[test]
fn shutdown_releases_connected_clients_and_the_port() {
    let server = TestServer::start();
    let addr = server.addr;
    let idle = server.raw();
    let mut mid_request = server.raw();
    mid_request.send(b"*2\r\n$3\r\nGET\r\n"); // half a request
    server.stop();
    let mut rest = Vec::new();
    assert_eq!(
        idle.stream()
            .try_clone()
            .unwrap()
            .read_to_end(&mut rest)
            .unwrap(),
        0
    );
    assert_eq!(mid_request.read_to_close(), b"");
    TcpListener::bind(addr).expect("port is free again");
}

#[test]
fn shutdown_command_stops_the_server() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.send(b"SHUTDOWN NOSAVE\r\n");
    assert_eq!(c.read_to_close(), b"");
    // The server thread ends by itself; joining it returns.
    server.stop();
}
