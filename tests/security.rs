//! Protected mode from a real non-loopback address: with no password only
//! loopback clients are served and everyone else gets Redis's DENIED reply
//! and is disconnected; with a password (or protected mode off) they are
//! served (and must authenticate). The unauthenticated limits, WRONGPASS
//! and its INFO counts are in `tests/connection.rs`.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use common::TestServer;

/// This machine's address on its default route, if it has one (no packet
/// is sent: connecting a UDP socket only picks the route).
fn non_loopback_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// Sends PING from `ip` to the server's port; returns what came back before
/// the server closed (or stopped sending).
fn ping_from(ip: IpAddr, port: u16) -> Vec<u8> {
    let mut stream = TcpStream::connect(SocketAddr::new(ip, port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(b"PING\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if got.ends_with(b"\r\n") && !got.starts_with(b"-DENIED") {
                    break;
                }
            }
        }
    }
    got
}

#[test]
fn protected_mode_denies_remote_clients_until_a_password_is_set() {
    let Some(ip) = non_loopback_address() else {
        eprintln!(
            "SKIPPED protected_mode_denies_remote_clients_until_a_password_is_set: \
             this machine has no non-loopback address to connect from"
        );
        return;
    };
    let server = TestServer::with_config(|c| c.bind = vec!["0.0.0.0".to_string()]);
    let port = server.addr.port();
    let denied = ping_from(ip, port);
    assert!(
        denied.starts_with(b"-DENIED Redis is running in protected mode"),
        "{}",
        String::from_utf8_lossy(&denied)
    );
    // Loopback clients are served all along.
    let mut local = server.raw();
    assert_eq!(local.call(&["PING"]), b"+PONG\r\n");
    // With a password, remote clients are served (and must authenticate).
    assert_eq!(
        local.call(&["CONFIG", "SET", "requirepass", "s3cret"]),
        b"+OK\r\n"
    );
    assert_eq!(
        ping_from(ip, port),
        b"-NOAUTH Authentication required.\r\n".to_vec()
    );
    // Or with protected mode off.
    local.call(&["AUTH", "s3cret"]);
    local.call(&["CONFIG", "SET", "requirepass", ""]);
    assert_eq!(
        local.call(&["CONFIG", "SET", "protected-mode", "no"]),
        b"+OK\r\n"
    );
    assert_eq!(ping_from(ip, port), b"+PONG\r\n");
}
