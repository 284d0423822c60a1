//! A time-travel test: a login session that must expire after 30 minutes
//! of inactivity, checked in microseconds instead of half an hour, by
//! moving the embedded server's manual clock.
//!
//! Run with `cargo run --example time_travel`.

use std::time::Duration;

use sedis::client::Commands;
use sedis::{Embedded, Frame, LocalClient};

const IDLE_LIMIT: Duration = Duration::from_secs(30 * 60);

/// The code under test: a request refreshes the session's TTL.
fn touch_session(client: &mut LocalClient, token: &str) -> std::io::Result<bool> {
    let key = format!("session:{token}");
    client.expire(&key, IDLE_LIMIT)
}

fn main() -> std::io::Result<()> {
    let server = Embedded::builder().manual_clock().start()?;
    let mut client = server.client();
    client.set_with_ttl("session:abc", "user=42", IDLE_LIMIT)?;

    // 29 minutes later the session is alive; a request keeps it so.
    server.advance(Duration::from_secs(29 * 60));
    assert_eq!(client.ttl("session:abc")?, Some(Duration::from_secs(60)));
    assert!(touch_session(&mut client, "abc")?);

    // Another 29 minutes: still alive, thanks to the refresh.
    server.advance(Duration::from_secs(29 * 60));
    assert!(client.exists("session:abc")?);

    // Idle past the limit: gone at once, as Redis would have it.
    server.advance(IDLE_LIMIT);
    assert_eq!(client.get("session:abc")?, None);
    assert!(!touch_session(&mut client, "abc")?);
    // A blocking wait's timeout follows the same clock: BLPOP with a
    // one-hour timeout returns as soon as the clock passes it.
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| server.client().call(&["BLPOP", "queue", "3600"]));
        while server
            .db(0)
            .command(&["CLIENT", "LIST"])
            .as_bytes()
            .is_some_and(|l| !String::from_utf8_lossy(l).contains("cmd=blpop"))
        {
            std::thread::yield_now();
        }
        server.advance(Duration::from_secs(3600));
        assert_eq!(waiter.join().unwrap().unwrap(), Frame::NullArray);
    });
    println!("ok: 1h58m of session life checked in an instant");
    server.shutdown()
}
